/*
 * pty back end: a pseudo terminal whose slave (/dev/pts/N) a user opens with a terminal
 * program. Output is dropped while no one has the slave open; a one second timer notices
 * when someone opens it, as QEMU does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>
#include "util/chardev-internal.h"

typedef struct PtyChardev {
    Chardev chr;
    int master;
    bool slave_open;          /* someone holds the slave side */
    guint poll_tag;           /* the timer looking for a slave while none is open */
    ChrOutQueue out;
} PtyChardev;

static void pty_slave_closed(PtyChardev *p);

/* True when the slave side is open (the master no longer reports a hang-up). */
static bool pty_slave_present(PtyChardev *p)
{
    struct pollfd pfd = { .fd = p->master, .events = POLLIN };

    return poll(&pfd, 1, 0) >= 0 && !(pfd.revents & POLLHUP);
}

static gboolean pty_poll_slave(gpointer opaque)
{
    PtyChardev *p = opaque;

    if (!pty_slave_present(p)) {
        return G_SOURCE_CONTINUE;
    }
    p->poll_tag = 0;
    p->slave_open = true;
    chardev_input_start(&p->chr, p->master);
    chardev_send_event(&p->chr, CHR_EVENT_OPENED);
    return G_SOURCE_REMOVE;
}

static void pty_out_error(void *opaque)
{
    pty_slave_closed(opaque);
}

static void pty_slave_closed(PtyChardev *p)
{
    if (!p->slave_open) {
        return;
    }
    p->slave_open = false;
    chardev_input_stop(&p->chr);
    chr_outq_reset(&p->out);
    chardev_send_event(&p->chr, CHR_EVENT_CLOSED);
    p->poll_tag = g_timeout_add_seconds(1, pty_poll_slave, p);
}

static void pty_input_closed(Chardev *chr)
{
    pty_slave_closed((PtyChardev *)chr);
}

static bool pty_open(Chardev *chr, Opts *opts, Error **errp)
{
    PtyChardev *p = (PtyChardev *)chr;
    struct termios t;
    const char *name;
    int slave;

    p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (p->master < 0 || grantpt(p->master) < 0 || unlockpt(p->master) < 0 ||
        !(name = ptsname(p->master))) {
        error_setg_errno(errp, errno, "cannot create a pseudo terminal");
        if (p->master >= 0) {
            close(p->master);
        }
        return false;
    }
    /* Raw mode on the terminal itself so that the guest sees every byte unchanged. */
    slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave >= 0) {
        if (tcgetattr(slave, &t) == 0) {
            cfmakeraw(&t);
            tcsetattr(slave, TCSANOW, &t);
        }
        close(slave);
    }
    fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK);
    chardev_set_filename(chr, "pty:%s", name);
    fprintf(stderr, "char device redirected to %s (label %s)\n", name, chr->id);
    chr_outq_init(&p->out, p->master, false, pty_out_error, p);
    p->poll_tag = g_timeout_add_seconds(1, pty_poll_slave, p);
    return true;
}

static int pty_write(Chardev *chr, const uint8_t *buf, int len)
{
    PtyChardev *p = (PtyChardev *)chr;

    if (p->slave_open && !chr_outq_write(&p->out, buf, len)) {
        pty_slave_closed(p);
    }
    return len;
}

const ChardevDriver chardev_pty_driver = {
    .name = "pty",
    .instance_size = sizeof(PtyChardev),
    .open = pty_open,
    .write = pty_write,
    .input_closed = pty_input_closed,
};
