#ifndef UTIL_CHARDEV_INTERNAL_H
#define UTIL_CHARDEV_INTERNAL_H

/* Shared between the chardev core (util/chardev.c) and its back ends (util/chardev-*.c). */

#include <glib.h>
#include <glib-unix.h>
#include "util/chardev.h"

typedef struct ChrFrontend {
    ChrCanReadHandler *can_read;
    ChrReadHandler *read;
    ChrEventHandler *event;
    void *opaque;
} ChrFrontend;

typedef struct ChardevDriver {
    const char *name;                 /* back end name as -chardev spells it */
    size_t instance_size;             /* of the structure embedding Chardev first */
    const char *const *keys;          /* option keys it accepts besides id/mux, NULL-ended */
    /* Opens the back end; opts still holds its own keys (id/mux/backend are consumed). */
    bool (*open)(Chardev *chr, Opts *opts, Error **errp);
    /* Writes all of buf or drops it; returns len, or -1 when nothing is connected. */
    int (*write)(Chardev *chr, const uint8_t *buf, int len);
    /* The front end can take input again; NULL when the core's input watch suffices. */
    void (*accept_input)(Chardev *chr);
    /* The input fd reached end of file or failed. */
    void (*input_closed)(Chardev *chr);
    /* Attaches a front end when the back end multiplexes several (mux); NULL otherwise. */
    bool (*add_frontend)(Chardev *chr, const ChrFrontend *fe, Error **errp);
    void (*remove_frontend)(Chardev *chr, void *opaque);
    /* Undoes host state changes (terminal mode, socket files) at exit; may be NULL. */
    void (*cleanup)(Chardev *chr);
} ChardevDriver;

struct Chardev {
    const ChardevDriver *drv;
    char *id;
    char *filename;                   /* as "info chardev" prints it */
    bool connected;
    bool has_fe;
    ChrFrontend fe;
    int in_fd;                        /* watched for input, -1 when none */
    guint in_tag;                     /* input watch, 0 while stopped */
    bool in_paused;                   /* stopped because the front end was full */
};

extern const ChardevDriver chardev_null_driver;
extern const ChardevDriver chardev_file_driver;
extern const ChardevDriver chardev_stdio_driver;
extern const ChardevDriver chardev_pty_driver;
extern const ChardevDriver chardev_socket_driver;
extern const ChardevDriver chardev_mux_driver;

/* Replaces the "info chardev" filename (printf style). */
void chardev_set_filename(Chardev *chr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Delivers an event to the attached front end, if any. */
void chardev_send_event(Chardev *chr, ChrEvent event);
/* Watches fd for input and feeds the front end as far as its can_read allows. */
void chardev_input_start(Chardev *chr, int fd);
void chardev_input_stop(Chardev *chr);
/* Writes all of buf to a possibly non-blocking fd, waiting while it is full. */
bool chardev_write_full(int fd, const uint8_t *buf, size_t len);
/* Creates a mux over base named id. */
Chardev *chardev_mux_new(const char *id, Chardev *base, Error **errp);
/* Allocates and registers a chardev of drv, runs its open; NULL with *errp on failure. */
Chardev *chardev_create(const ChardevDriver *drv, const char *id, Opts *opts, Error **errp);

/* Output queue for non-blocking fds: never blocks, drops data beyond its limit. */
typedef struct ChrOutQueue {
    GByteArray *data;
    int fd;
    guint tag;
    bool is_socket;                   /* send with MSG_NOSIGNAL */
    void (*on_error)(void *opaque);   /* the fd failed while flushing */
    void *opaque;
} ChrOutQueue;

void chr_outq_init(ChrOutQueue *q, int fd, bool is_socket, void (*on_error)(void *opaque),
                   void *opaque);
/* Queues buf (writing what the fd takes right away); false when the fd failed. */
bool chr_outq_write(ChrOutQueue *q, const uint8_t *buf, size_t len);
/* Drops queued data and stops watching the fd (the fd is not closed). */
void chr_outq_reset(ChrOutQueue *q);

#endif
