#ifndef UTIL_CHARDEV_H
#define UTIL_CHARDEV_H

#include <stdbool.h>
#include <stdint.h>
#include "util/error.h"
#include "util/option.h"

/*
 * Character devices: the back ends behind serial ports and monitors (stdio, file, pty,
 * null, socket server/client, mux). Back ends run on the main loop thread; front ends
 * (devices) write with chr_write under the big lock and receive bytes through handlers,
 * also called with the big lock held.
 */

typedef struct Chardev Chardev;

typedef enum ChrEvent {
    CHR_EVENT_OPENED,     /* a client connected (socket) or the back end became ready */
    CHR_EVENT_CLOSED,     /* the client went away */
    CHR_EVENT_MUX_IN,     /* mux: this front end now receives input */
    CHR_EVENT_MUX_OUT,    /* mux: this front end lost the input focus */
    CHR_EVENT_BREAK,      /* a serial break (mux: Ctrl-a b) */
} ChrEvent;

/* How many bytes the front end can take now (0 stops input until it can take more). */
typedef int ChrCanReadHandler(void *opaque);
typedef void ChrReadHandler(void *opaque, const uint8_t *buf, int len);
typedef void ChrEventHandler(void *opaque, ChrEvent event);

/* Creates a back end from a -chardev option string ("socket,id=mon0,path=x,server=on,wait=off"). */
Chardev *chardev_new_from_string(const char *str, Error **errp);
/* Creates a back end from a -serial/-monitor style spec ("stdio", "pty", "null", "file:x",
 * "unix:path,server,nowait", "tcp:host:port,server=on", "chardev:id", "none"); id names it. */
Chardev *chardev_new_from_spec(const char *spec, const char *id, Error **errp);
Chardev *chardev_find(const char *id);
/* Socket options (host=, port=, then the rest) of a "tcp:HOST:PORT[,opts]" spec; rest is what
 * follows "tcp:". HOST may be empty or a bracketed IPv6 address. */
Opts *chardev_parse_tcp_spec(const char *rest, Error **errp);
const char *chardev_id(const Chardev *chr);
/* The filename as "info chardev" prints it ("stdio", "pty:/dev/pts/3", "unix:/x,server=on").
 * Valid until the back end connects or disconnects: copy it to keep it. */
const char *chardev_filename(const Chardev *chr);
/* Calls fn for every back end, in creation order. */
void chardev_foreach(void (*fn)(Chardev *chr, void *opaque), void *opaque);

/* Attaches a front end. For a mux back end each call adds one front end (serial first, then
 * the monitor); Ctrl-a c switches between them. Returns false when the back end is taken. */
bool chr_add_frontend(Chardev *chr, ChrCanReadHandler *can_read, ChrReadHandler *read,
                      ChrEventHandler *event, void *opaque, Error **errp);
void chr_remove_frontend(Chardev *chr, void *opaque);
/* Writes all of buf, blocking if needed; returns len, or -1 when nothing is connected. */
int chr_write(Chardev *chr, const uint8_t *buf, int len);
/* The front end can take input again (after can_read returned 0). */
void chr_accept_input(Chardev *chr);
/* True when a client is connected (always true for stdio/file/pty/null). */
bool chr_is_connected(const Chardev *chr);

/* Puts the host terminal back in its original mode (at exit). */
void chardev_cleanup_all(void);

#endif
