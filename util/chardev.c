/*
 * Character device core: the registry, -chardev and -serial spec parsing, front end
 * attachment, input watches and output helpers, and the null and file back ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <glib.h>
#include <glib-unix.h>
#include "util/chardev-internal.h"

/* Every back end, in creation order. */
static GPtrArray *chardevs;

static const ChardevDriver *const chardev_drivers[] = {
    &chardev_null_driver,
    &chardev_file_driver,
    &chardev_stdio_driver,
    &chardev_pty_driver,
    &chardev_socket_driver,
    NULL,
};

/* Largest queued output of a non-blocking back end; beyond it data is dropped. */
#define CHR_OUTQ_MAX (1024 * 1024)

void chardev_set_filename(Chardev *chr, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_free(chr->filename);
    chr->filename = s;
}

void chardev_send_event(Chardev *chr, ChrEvent event)
{
    if (chr->has_fe && chr->fe.event) {
        chr->fe.event(chr->fe.opaque, event);
    }
}

Chardev *chardev_find(const char *id)
{
    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        Chardev *chr = g_ptr_array_index(chardevs, i);

        if (!strcmp(chr->id, id)) {
            return chr;
        }
    }
    return NULL;
}

const char *chardev_id(const Chardev *chr)
{
    return chr->id;
}

const char *chardev_filename(const Chardev *chr)
{
    return chr->filename ? chr->filename : chr->drv->name;
}

void chardev_foreach(void (*fn)(Chardev *chr, void *opaque), void *opaque)
{
    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        fn(g_ptr_array_index(chardevs, i), opaque);
    }
}

/* QEMU's id rule: a letter, then letters, digits, '-', '.' and '_'. */
static bool chardev_id_valid(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_') {
            return false;
        }
    }
    return true;
}

Chardev *chardev_create(const ChardevDriver *drv, const char *id, Opts *opts, Error **errp)
{
    Opts *empty = NULL;
    Chardev *chr;

    if (!chardev_id_valid(id)) {
        error_setg(errp, "invalid chardev id '%s' (it must start with a letter and hold "
                   "only letters, digits, '-', '.' and '_')", id);
        return NULL;
    }
    if (chardev_find(id)) {
        error_setg(errp, "duplicate chardev id '%s'", id);
        return NULL;
    }
    if (!opts) {
        opts = empty = opts_parse("", NULL, errp);
    }
    for (int i = 0; drv->keys && drv->keys[i]; i++) {
        opts_get(opts, drv->keys[i]);
    }
    if (!opts_check_all_used(opts, drv->name, errp)) {
        opts_free(empty);
        return NULL;
    }
    chr = g_malloc0(drv->instance_size);
    chr->drv = drv;
    chr->id = g_strdup(id);
    chr->in_fd = -1;
    chr->connected = true;
    if (!drv->open(chr, opts, errp)) {
        g_free(chr->filename);
        g_free(chr->id);
        g_free(chr);
        opts_free(empty);
        return NULL;
    }
    opts_free(empty);
    if (!chardevs) {
        chardevs = g_ptr_array_new();
    }
    g_ptr_array_add(chardevs, chr);
    return chr;
}

static const ChardevDriver *chardev_driver_find(const char *name)
{
    for (int i = 0; chardev_drivers[i]; i++) {
        if (!strcmp(chardev_drivers[i]->name, name)) {
            return chardev_drivers[i];
        }
    }
    return NULL;
}

Chardev *chardev_new_from_string(const char *str, Error **errp)
{
    Opts *opts = opts_parse(str, "backend", errp);
    const ChardevDriver *drv;
    const char *backend, *id;
    Chardev *chr = NULL;
    bool mux = false;
    char *base_id;

    if (!opts) {
        return NULL;
    }
    backend = opts_get(opts, "backend");
    id = opts_get(opts, "id");
    if (!backend) {
        error_setg(errp, "no back end given (e.g. -chardev socket,id=ID,...)");
        goto out;
    }
    drv = chardev_driver_find(backend);
    if (!drv) {
        error_setg(errp, "'%s' is not a valid char driver name", backend);
        goto out;
    }
    if (!id) {
        error_setg(errp, "no id specified (id=...)");
        goto out;
    }
    if (!opts_get_bool(opts, "mux", false, &mux, errp)) {
        goto out;
    }
    if (mux && chardev_find(id)) {
        error_setg(errp, "duplicate chardev id '%s'", id);
        goto out;
    }
    base_id = mux ? g_strdup_printf("%s-base", id) : g_strdup(id);
    chr = chardev_create(drv, base_id, opts, errp);
    g_free(base_id);
    if (chr && mux) {
        chr = chardev_mux_new(id, chr, errp);
    }
out:
    opts_free(opts);
    return chr;
}

/* "path=" plus value with ',' doubled, so that opts_parse reads value back literally. */
static char *chardev_quote_path(const char *value)
{
    GString *s = g_string_new("path=");

    for (const char *p = value; *p; p++) {
        g_string_append_c(s, *p);
        if (*p == ',') {
            g_string_append_c(s, ',');
        }
    }
    return g_string_free(s, FALSE);
}

Opts *chardev_parse_tcp_spec(const char *rest, Error **errp)
{
    const char *comma = strchr(rest, ',');
    char *addr = comma ? g_strndup(rest, comma - rest) : g_strdup(rest);
    char *colon = strrchr(addr, ':');
    char *str, *host;
    Opts *opts;

    if (!colon || !colon[1]) {
        error_setg(errp, "tcp: expected 'tcp:[HOST]:PORT', got 'tcp:%s'", addr);
        g_free(addr);
        return NULL;
    }
    *colon = '\0';
    host = addr;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        host[strlen(host) - 1] = '\0';
        host++;
    }
    str = g_strdup_printf("host=%s,port=%s%s", host, colon + 1, comma ? comma : "");
    opts = opts_parse(str, NULL, errp);
    g_free(str);
    g_free(addr);
    return opts;
}

Chardev *chardev_new_from_spec(const char *spec, const char *id, Error **errp)
{
    const ChardevDriver *drv = NULL;
    Opts *opts = NULL;
    Chardev *chr;

    if (!strcmp(spec, "none")) {
        return NULL;
    }
    if (g_str_has_prefix(spec, "mon:")) {
        char *base_id = g_strdup_printf("%s-base", id);
        Chardev *base = chardev_new_from_spec(spec + 4, base_id, errp);

        g_free(base_id);
        return base ? chardev_mux_new(id, base, errp) : NULL;
    }
    if (g_str_has_prefix(spec, "chardev:")) {
        chr = chardev_find(spec + 8);
        if (!chr) {
            error_setg(errp, "chardev '%s' not found", spec + 8);
        }
        return chr;
    }
    if (!strcmp(spec, "null") || !strcmp(spec, "stdio") || !strcmp(spec, "pty")) {
        drv = chardev_driver_find(spec);
    } else if (g_str_has_prefix(spec, "file:") && spec[5]) {
        char *str = chardev_quote_path(spec + 5);

        drv = &chardev_file_driver;
        opts = opts_parse(str, NULL, errp);
        g_free(str);
        if (!opts) {
            return NULL;
        }
    } else if (g_str_has_prefix(spec, "unix:") && spec[5]) {
        drv = &chardev_socket_driver;
        opts = opts_parse(spec + 5, "path", errp);
        if (!opts) {
            return NULL;
        }
    } else if (g_str_has_prefix(spec, "tcp:")) {
        drv = &chardev_socket_driver;
        opts = chardev_parse_tcp_spec(spec + 4, errp);
        if (!opts) {
            return NULL;
        }
    } else if (!strcmp(spec, "vc") || g_str_has_prefix(spec, "vc:")) {
        error_setg(errp, "'vc' is not supported yet (Vessel has no graphical console); "
                   "use -nographic or another back end");
        return NULL;
    }
    if (!drv) {
        error_setg(errp, "'%s' is not a valid char driver", spec);
        return NULL;
    }
    chr = chardev_create(drv, id, opts, errp);
    opts_free(opts);
    return chr;
}

bool chr_add_frontend(Chardev *chr, ChrCanReadHandler *can_read, ChrReadHandler *read,
                      ChrEventHandler *event, void *opaque, Error **errp)
{
    ChrFrontend fe = { can_read, read, event, opaque };

    if (chr->drv->add_frontend) {
        return chr->drv->add_frontend(chr, &fe, errp);
    }
    if (chr->has_fe) {
        error_setg(errp, "chardev '%s' is already in use", chr->id);
        return false;
    }
    chr->fe = fe;
    chr->has_fe = true;
    if (chr->connected) {
        chardev_send_event(chr, CHR_EVENT_OPENED);
    }
    chr_accept_input(chr);
    return true;
}

void chr_remove_frontend(Chardev *chr, void *opaque)
{
    if (chr->drv->remove_frontend) {
        chr->drv->remove_frontend(chr, opaque);
    } else if (chr->has_fe && chr->fe.opaque == opaque) {
        chr->has_fe = false;
        memset(&chr->fe, 0, sizeof(chr->fe));
    }
}

int chr_write(Chardev *chr, const uint8_t *buf, int len)
{
    if (len <= 0) {
        return 0;
    }
    return chr->drv->write(chr, buf, len);
}

void chr_accept_input(Chardev *chr)
{
    if (chr->drv->accept_input) {
        chr->drv->accept_input(chr);
    } else if (chr->in_paused && chr->in_fd >= 0) {
        chardev_input_start(chr, chr->in_fd);
    }
}

bool chr_is_connected(const Chardev *chr)
{
    return chr->connected;
}

void chardev_cleanup_all(void)
{
    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        Chardev *chr = g_ptr_array_index(chardevs, i);

        if (chr->drv->cleanup) {
            chr->drv->cleanup(chr);
        }
    }
}

/* Input from the watched fd: as much as the front end takes; stops when it takes none. */
static gboolean chardev_input_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    Chardev *chr = opaque;
    uint8_t buf[4096];
    int room = chr->has_fe && chr->fe.can_read ? chr->fe.can_read(chr->fe.opaque) : 0;
    ssize_t n;

    if (room <= 0) {
        chr->in_paused = true;
        chr->in_tag = 0;
        return G_SOURCE_REMOVE;
    }
    n = read(fd, buf, MIN((size_t)room, sizeof(buf)));
    if (n > 0) {
        chr->fe.read(chr->fe.opaque, buf, n);
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    chr->in_tag = 0;
    chr->in_fd = -1;
    if (chr->drv->input_closed) {
        chr->drv->input_closed(chr);
    }
    return G_SOURCE_REMOVE;
}

void chardev_input_start(Chardev *chr, int fd)
{
    chr->in_fd = fd;
    chr->in_paused = false;
    if (!chr->in_tag) {
        chr->in_tag = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, chardev_input_ready, chr);
    }
}

void chardev_input_stop(Chardev *chr)
{
    if (chr->in_tag) {
        g_source_remove(chr->in_tag);
        chr->in_tag = 0;
    }
    chr->in_fd = -1;
    chr->in_paused = false;
}

bool chardev_write_full(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                struct pollfd pfd = { .fd = fd, .events = POLLOUT };

                poll(&pfd, 1, -1);
                continue;
            }
            return false;
        }
        buf += n;
        len -= n;
    }
    return true;
}

static ssize_t chr_outq_send(ChrOutQueue *q, const uint8_t *buf, size_t len)
{
    ssize_t n;

    do {
        n = q->is_socket ? send(q->fd, buf, len, MSG_NOSIGNAL) : write(q->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        return 0;
    }
    return n;
}

static gboolean chr_outq_flush(gint fd, GIOCondition cond, gpointer opaque)
{
    ChrOutQueue *q = opaque;
    ssize_t n = chr_outq_send(q, q->data->data, q->data->len);

    if (n < 0) {
        q->tag = 0;
        g_byte_array_set_size(q->data, 0);
        q->on_error(q->opaque);
        return G_SOURCE_REMOVE;
    }
    g_byte_array_remove_range(q->data, 0, n);
    if (q->data->len == 0) {
        q->tag = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

void chr_outq_init(ChrOutQueue *q, int fd, bool is_socket, void (*on_error)(void *opaque),
                   void *opaque)
{
    if (!q->data) {
        q->data = g_byte_array_new();
    }
    chr_outq_reset(q);
    q->fd = fd;
    q->is_socket = is_socket;
    q->on_error = on_error;
    q->opaque = opaque;
}

bool chr_outq_write(ChrOutQueue *q, const uint8_t *buf, size_t len)
{
    if (q->data->len == 0) {
        ssize_t n = chr_outq_send(q, buf, len);

        if (n < 0) {
            return false;
        }
        buf += n;
        len -= n;
    }
    if (len == 0) {
        return true;
    }
    if (q->data->len < CHR_OUTQ_MAX) {
        g_byte_array_append(q->data, buf, MIN(len, CHR_OUTQ_MAX - q->data->len));
    }
    if (!q->tag) {
        q->tag = g_unix_fd_add(q->fd, G_IO_OUT, chr_outq_flush, q);
    }
    return true;
}

void chr_outq_reset(ChrOutQueue *q)
{
    if (q->tag) {
        g_source_remove(q->tag);
        q->tag = 0;
    }
    if (q->data) {
        g_byte_array_set_size(q->data, 0);
    }
}

/* null: discards output, never has input. */
static bool null_open(Chardev *chr, Opts *opts, Error **errp)
{
    chardev_set_filename(chr, "null");
    return true;
}

static int null_write(Chardev *chr, const uint8_t *buf, int len)
{
    return len;
}

const ChardevDriver chardev_null_driver = {
    .name = "null",
    .instance_size = sizeof(Chardev),
    .open = null_open,
    .write = null_write,
};

/* file: output appended or truncated at open, as QEMU's path= and append=. */
typedef struct FileChardev {
    Chardev chr;
    int fd;
} FileChardev;

static const char *const file_keys[] = { "path", "append", NULL };

static bool file_open(Chardev *chr, Opts *opts, Error **errp)
{
    FileChardev *f = (FileChardev *)chr;
    const char *path = opts_get(opts, "path");
    bool append;

    if (!path || !path[0]) {
        error_setg(errp, "file: no filename given (path=)");
        return false;
    }
    if (!opts_get_bool(opts, "append", false, &append, errp)) {
        return false;
    }
    f->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
    if (f->fd < 0) {
        error_setg_errno(errp, errno, "could not open '%s'", path);
        return false;
    }
    chardev_set_filename(chr, "file");
    return true;
}

static int file_write(Chardev *chr, const uint8_t *buf, int len)
{
    FileChardev *f = (FileChardev *)chr;

    chardev_write_full(f->fd, buf, len);
    return len;
}

const ChardevDriver chardev_file_driver = {
    .name = "file",
    .instance_size = sizeof(FileChardev),
    .keys = file_keys,
    .open = file_open,
    .write = file_write,
};
