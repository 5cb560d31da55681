/*
 * mux back end: several front ends (serial, then monitor) share one back end. Output of
 * every front end goes through; input goes to the focused one. Ctrl-a escapes as QEMU:
 * x exits, h help, c switches focus, Ctrl-a (or a) sends Ctrl-a, b break, t timestamps.
 */
#include <stdio.h>
#include <string.h>
#include "hw/core/machine.h"
#include "util/chardev-internal.h"
#include "util/timer.h"

#define MUX_MAX_FE      4
#define MUX_ESCAPE      0x01            /* Ctrl-a */
/* Input waiting for a busy front end; beyond this an unfocused burst is dropped. */
#define MUX_BUF_SIZE    4096

typedef struct MuxChardev {
    Chardev chr;
    Chardev *base;
    ChrFrontend fe[MUX_MAX_FE];
    GByteArray *inbuf[MUX_MAX_FE];
    int nfe;
    int focus;
    bool escape;                        /* the previous byte was Ctrl-a */
    bool timestamps;
    bool line_start;                    /* the next output byte starts a line */
    int64_t ts_start_ns;
} MuxChardev;

static const char mux_help[] =
    "\r\n"
    "C-a h    print this help\r\n"
    "C-a x    exit emulator\r\n"
    "C-a t    toggle console timestamps\r\n"
    "C-a b    send break (magic sysrq)\r\n"
    "C-a c    switch between console and monitor\r\n"
    "C-a C-a  sends C-a\r\n";

static void mux_fe_event(MuxChardev *m, int i, ChrEvent event)
{
    if (i < m->nfe && m->fe[i].event) {
        m->fe[i].event(m->fe[i].opaque, event);
    }
}

/* Hands buffered input to the focused front end as far as it takes it. */
static void mux_flush_input(MuxChardev *m)
{
    ChrFrontend *fe;
    GByteArray *buf;

    if (m->focus >= m->nfe) {
        return;
    }
    fe = &m->fe[m->focus];
    buf = m->inbuf[m->focus];
    while (buf->len > 0) {
        int room = fe->can_read ? fe->can_read(fe->opaque) : 0;
        int n = MIN((guint)MAX(room, 0), buf->len);

        if (n <= 0) {
            break;
        }
        /* Removed before read: the front end may call chr_accept_input re-entrantly. */
        uint8_t *chunk = g_memdup2(buf->data, n);

        g_byte_array_remove_range(buf, 0, n);
        fe->read(fe->opaque, chunk, n);
        g_free(chunk);
    }
}

static void mux_deliver(MuxChardev *m, const uint8_t *data, int len)
{
    GByteArray *buf;

    if (m->focus >= m->nfe || len <= 0) {
        return;
    }
    buf = m->inbuf[m->focus];
    if (buf->len < MUX_BUF_SIZE) {
        g_byte_array_append(buf, data, MIN((guint)len, MUX_BUF_SIZE - buf->len));
    }
    mux_flush_input(m);
}

static int mux_write(Chardev *chr, const uint8_t *buf, int len)
{
    MuxChardev *m = (MuxChardev *)chr;
    int start = 0;

    if (!m->timestamps) {
        return chr_write(m->base, buf, len);
    }
    for (int i = 0; i < len; i++) {
        if (m->line_start) {
            int64_t ms = (clock_ns() - m->ts_start_ns) / 1000000;
            char ts[40];
            int n = snprintf(ts, sizeof(ts), "[%02d:%02d:%02d.%03d] ",
                             (int)(ms / 3600000), (int)(ms / 60000 % 60),
                             (int)(ms / 1000 % 60), (int)(ms % 1000));

            if (i > start) {
                chr_write(m->base, buf + start, i - start);
            }
            start = i;
            chr_write(m->base, (const uint8_t *)ts, n);
            m->line_start = false;
        }
        if (buf[i] == '\n') {
            m->line_start = true;
        }
    }
    return chr_write(m->base, buf + start, len - start) < 0 ? -1 : len;
}

static void mux_print(MuxChardev *m, const char *s)
{
    chr_write(m->base, (const uint8_t *)s, strlen(s));
}

static void mux_switch_focus(MuxChardev *m)
{
    if (m->nfe < 2) {
        return;
    }
    mux_fe_event(m, m->focus, CHR_EVENT_MUX_OUT);
    m->focus = (m->focus + 1) % m->nfe;
    mux_fe_event(m, m->focus, CHR_EVENT_MUX_IN);
    mux_flush_input(m);
    chr_accept_input(m->base);
}

/* Acts on the byte after Ctrl-a. */
static void mux_escape(MuxChardev *m, uint8_t c)
{
    static const uint8_t esc = MUX_ESCAPE;

    switch (c) {
    case 'h':
    case '?':
        mux_print(m, mux_help);
        break;
    case 'x':
        mux_print(m, "\r\nvessel: terminated\r\n");
        machine_request_shutdown(SHUTDOWN_CAUSE_HOST_UI, 0);
        break;
    case 'c':
        mux_switch_focus(m);
        break;
    case 'a':
    case MUX_ESCAPE:
        mux_deliver(m, &esc, 1);
        break;
    case 'b':
        mux_fe_event(m, m->focus, CHR_EVENT_BREAK);
        break;
    case 't':
        m->timestamps = !m->timestamps;
        m->ts_start_ns = clock_ns();
        m->line_start = true;
        break;
    default:
        break;
    }
}

/* The base's front end side: room in the focused buffer, at least one byte for escapes. */
static int mux_can_read(void *opaque)
{
    MuxChardev *m = opaque;

    if (m->focus >= m->nfe) {
        return 1;
    }
    return MAX(MUX_BUF_SIZE - (int)m->inbuf[m->focus]->len, 1);
}

static void mux_read(void *opaque, const uint8_t *buf, int len)
{
    MuxChardev *m = opaque;
    int start = 0;

    for (int i = 0; i < len; i++) {
        if (m->escape) {
            m->escape = false;
            mux_escape(m, buf[i]);
            start = i + 1;
        } else if (buf[i] == MUX_ESCAPE) {
            mux_deliver(m, buf + start, i - start);
            m->escape = true;
            start = i + 1;
        }
    }
    mux_deliver(m, buf + start, len - start);
}

static void mux_event(void *opaque, ChrEvent event)
{
    MuxChardev *m = opaque;

    m->chr.connected = chr_is_connected(m->base);
    for (int i = 0; i < m->nfe; i++) {
        mux_fe_event(m, i, event);
    }
}

static bool mux_add_frontend(Chardev *chr, const ChrFrontend *fe, Error **errp)
{
    MuxChardev *m = (MuxChardev *)chr;
    int i = m->nfe;

    if (m->nfe == MUX_MAX_FE) {
        error_setg(errp, "chardev '%s': too many front ends on one mux (at most %d)",
                   chr->id, MUX_MAX_FE);
        return false;
    }
    m->fe[i] = *fe;
    m->inbuf[i] = g_byte_array_new();
    m->nfe++;
    if (chr_is_connected(m->base)) {
        mux_fe_event(m, i, CHR_EVENT_OPENED);
    }
    if (i == m->focus) {
        mux_fe_event(m, i, CHR_EVENT_MUX_IN);
    }
    return true;
}

static void mux_remove_frontend(Chardev *chr, void *opaque)
{
    MuxChardev *m = (MuxChardev *)chr;

    for (int i = 0; i < m->nfe; i++) {
        if (m->fe[i].opaque == opaque) {
            g_byte_array_free(m->inbuf[i], TRUE);
            memmove(&m->fe[i], &m->fe[i + 1], (m->nfe - i - 1) * sizeof(m->fe[0]));
            memmove(&m->inbuf[i], &m->inbuf[i + 1], (m->nfe - i - 1) * sizeof(m->inbuf[0]));
            m->nfe--;
            if (m->focus > i || m->focus >= m->nfe) {
                m->focus = m->focus > 0 ? m->focus - 1 : 0;
            }
            return;
        }
    }
}

static void mux_accept_input(Chardev *chr)
{
    MuxChardev *m = (MuxChardev *)chr;

    mux_flush_input(m);
    chr_accept_input(m->base);
}

static bool mux_open(Chardev *chr, Opts *opts, Error **errp)
{
    chardev_set_filename(chr, "mux");
    return true;
}

const ChardevDriver chardev_mux_driver = {
    .name = "mux",
    .instance_size = sizeof(MuxChardev),
    .open = mux_open,
    .write = mux_write,
    .accept_input = mux_accept_input,
    .add_frontend = mux_add_frontend,
    .remove_frontend = mux_remove_frontend,
};

Chardev *chardev_mux_new(const char *id, Chardev *base, Error **errp)
{
    Chardev *chr = chardev_create(&chardev_mux_driver, id, NULL, errp);
    MuxChardev *m = (MuxChardev *)chr;

    if (!chr) {
        return NULL;
    }
    m->base = base;
    m->line_start = true;
    chr->connected = chr_is_connected(base);
    if (!chr_add_frontend(base, mux_can_read, mux_read, mux_event, m, errp)) {
        return NULL;
    }
    return chr;
}
