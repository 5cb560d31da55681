/*
 * Monitor instances and their transports: chardev front ends (-mon chardev=, -monitor stdio,
 * the mux of -serial mon:stdio) and monitor-owned socket listeners (-qmp/-monitor unix: and
 * tcp: servers) that accept any number of clients, each with its own session. Also events.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <glib-unix.h>
#include "accel/cpu.h"
#include "hw/core/machine.h"
#include "monitor/monitor-internal.h"
#include "util/option.h"

/* Output a client has not read yet: input stops above the first, the client is dropped
 * above the second (it stopped reading while events kept coming). */
#define CONN_OUT_PAUSE   (4 * 1024 * 1024)
#define CONN_OUT_DROP    (64 * 1024 * 1024)
#define CONN_READ_CHUNK  65536

typedef struct MonitorConn {
    int fd;
    guint in_tag, out_tag;
    GByteArray *out;
    Monitor *mon;
} MonitorConn;

typedef struct MonitorListener {
    char *label;            /* compat_monitor<N> */
    char *filename;         /* as info chardev prints it */
    char *path;             /* unix socket to remove at exit, or NULL */
    int fd;
    bool qmp, pretty;
    guint tag;
} MonitorListener;

/* A queued -qmp/-monitor/-mon option. */
typedef struct MonitorOption {
    char *spec;             /* -serial style spec, or NULL for -mon */
    char *chardev;          /* -mon chardev= */
    bool qmp, pretty;
} MonitorOption;

static GPtrArray *monitor_options;   /* of MonitorOption * */
static GPtrArray *monitors;          /* of Monitor *, live ones */
static GPtrArray *listeners;         /* of MonitorListener * */
static unsigned compat_index;

/* ---- output ---- */

static void conn_close(MonitorConn *c);

static gboolean conn_out_ready(gint fd, GIOCondition cond, gpointer opaque);
static gboolean conn_in_ready(gint fd, GIOCondition cond, gpointer opaque);

static void conn_update_watches(MonitorConn *c)
{
    bool want_out = c->out->len > 0;
    bool want_in = c->out->len < CONN_OUT_PAUSE;

    if (want_out && !c->out_tag) {
        c->out_tag = g_unix_fd_add(c->fd, G_IO_OUT, conn_out_ready, c);
    } else if (!want_out && c->out_tag) {
        g_source_remove(c->out_tag);
        c->out_tag = 0;
    }
    if (want_in && !c->in_tag) {
        c->in_tag = g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, conn_in_ready, c);
    } else if (!want_in && c->in_tag) {
        g_source_remove(c->in_tag);
        c->in_tag = 0;
    }
}

/* Writes what the socket takes now; false when the client is gone. */
static bool conn_flush(MonitorConn *c)
{
    while (c->out->len > 0) {
        ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        g_byte_array_remove_range(c->out, 0, n);
    }
    return true;
}

static gboolean conn_out_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    MonitorConn *c = opaque;

    if (!conn_flush(c)) {
        c->out_tag = 0;
        conn_close(c);
        return G_SOURCE_REMOVE;
    }
    if (c->out->len == 0) {
        c->out_tag = 0;
        conn_update_watches(c);
        return G_SOURCE_REMOVE;
    }
    conn_update_watches(c);
    return G_SOURCE_CONTINUE;
}

void monitor_write(Monitor *mon, const char *buf, size_t len)
{
    if (mon->closed || len == 0) {
        return;
    }
    if (mon->capture) {
        g_string_append_len(mon->capture, buf, len);
    } else if (mon->chr) {
        chr_write(mon->chr, (const uint8_t *)buf, (int)len);
    } else if (mon->conn) {
        MonitorConn *c = mon->conn;

        g_byte_array_append(c->out, (const guint8 *)buf, len);
        if (!conn_flush(c) || c->out->len > CONN_OUT_DROP) {
            conn_close(c);
            return;
        }
        conn_update_watches(c);
    }
}

void monitor_puts(Monitor *mon, const char *s)
{
    const char *p = s;

    while (*p) {
        const char *nl = strchr(p, '\n');

        if (!nl) {
            monitor_write(mon, p, strlen(p));
            return;
        }
        monitor_write(mon, p, nl - p);
        monitor_write(mon, "\r\n", 2);
        p = nl + 1;
    }
}

void monitor_printf(Monitor *mon, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    monitor_puts(mon, s);
    g_free(s);
}

/* ---- monitor life cycle ---- */

static void monitor_machine_event(const char *event, ShutdownCause cause, void *opaque);

static Monitor *monitor_new(bool qmp, bool pretty)
{
    Monitor *mon = g_new0(Monitor, 1);

    mon->qmp = qmp;
    mon->pretty = pretty;
    mon->last_format = 'x';
    mon->last_size = 4;
    json_streamer_init(&mon->js);
    if (!monitors) {
        monitors = g_ptr_array_new();
        machine_add_event_listener(monitor_machine_event, NULL);
    }
    g_ptr_array_add(monitors, mon);
    return mon;
}

static void monitor_free(Monitor *mon)
{
    json_streamer_destroy(&mon->js);
    readline_destroy(&mon->rl);
    g_free(mon);
}

static gboolean monitor_free_idle(gpointer opaque)
{
    monitor_free(opaque);
    return G_SOURCE_REMOVE;
}

/* Starts a session: greeting, fresh negotiation and input state. */
static void monitor_session_start(Monitor *mon)
{
    mon->negotiated = false;
    json_streamer_destroy(&mon->js);
    json_streamer_init(&mon->js);
    if (mon->qmp) {
        qmp_greet(mon);
    } else if (!mon->muxed) {
        hmp_greet(mon);
    }
}

static void monitor_feed(Monitor *mon, const uint8_t *buf, size_t len)
{
    if (mon->qmp) {
        qmp_feed(mon, buf, len);
    } else {
        hmp_feed(mon, buf, len);
    }
}

/* ---- chardev transport ---- */

static int mon_chr_can_read(void *opaque)
{
    Monitor *mon = opaque;

    return mon->closed ? 0 : CONN_READ_CHUNK;
}

static void mon_chr_read(void *opaque, const uint8_t *buf, int len)
{
    monitor_feed(opaque, buf, len);
}

static void mon_chr_event(void *opaque, ChrEvent event)
{
    Monitor *mon = opaque;

    switch (event) {
    case CHR_EVENT_OPENED:
        monitor_session_start(mon);
        break;
    case CHR_EVENT_CLOSED:
        mon->negotiated = false;
        break;
    case CHR_EVENT_MUX_IN:
        if (!mon->qmp && mon->muxed) {
            if (!mon->greeted) {
                hmp_greet(mon);
            } else {
                hmp_show_prompt(mon);
            }
        }
        break;
    case CHR_EVENT_MUX_OUT:
    case CHR_EVENT_BREAK:
        break;
    }
}

bool monitor_attach_chardev(Chardev *chr, bool qmp, bool pretty, bool muxed, Error **errp)
{
    Monitor *mon = monitor_new(qmp, pretty);

    mon->chr = chr;
    mon->muxed = muxed;
    if (!chr_add_frontend(chr, mon_chr_can_read, mon_chr_read, mon_chr_event, mon, errp)) {
        g_ptr_array_remove(monitors, mon);
        monitor_free(mon);
        return false;
    }
    return true;
}

/* ---- socket transport ---- */

static void conn_close(MonitorConn *c)
{
    Monitor *mon = c->mon;

    if (mon->closed) {
        return;
    }
    mon->closed = true;
    if (c->in_tag) {
        g_source_remove(c->in_tag);
    }
    if (c->out_tag) {
        g_source_remove(c->out_tag);
    }
    close(c->fd);
    g_byte_array_free(c->out, TRUE);
    g_free(c);
    mon->conn = NULL;
    g_ptr_array_remove(monitors, mon);
    /* The monitor may be in the middle of a command: free it from the main loop. */
    g_idle_add(monitor_free_idle, mon);
}

static gboolean conn_in_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    MonitorConn *c = opaque;
    uint8_t buf[CONN_READ_CHUNK];
    ssize_t n;

    do {
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        c->in_tag = 0;
        conn_close(c);
        return G_SOURCE_REMOVE;
    }
    /* c may be freed by the commands it runs; its monitor stays until the next idle. */
    {
        Monitor *mon = c->mon;

        monitor_feed(mon, buf, n);
        if (mon->closed) {
            return G_SOURCE_REMOVE;
        }
        return c->in_tag ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    }
}

static void conn_new(MonitorListener *l, int fd)
{
    MonitorConn *c = g_new0(MonitorConn, 1);
    Monitor *mon = monitor_new(l->qmp, l->pretty);
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    c->out = g_byte_array_new();
    c->mon = mon;
    mon->conn = c;
    conn_update_watches(c);
    monitor_session_start(mon);
}

static gboolean listener_resume(gpointer opaque);

static gboolean listener_accept(gint lfd, GIOCondition cond, gpointer opaque)
{
    MonitorListener *l = opaque;

    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd >= 0) {
            conn_new(l, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Out of descriptors: try again later instead of spinning on the ready fd. */
            l->tag = 0;
            g_timeout_add(100, listener_resume, l);
            return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
    }
}

static gboolean listener_resume(gpointer opaque)
{
    MonitorListener *l = opaque;

    l->tag = g_unix_fd_add(l->fd, G_IO_IN, listener_accept, l);
    return G_SOURCE_REMOVE;
}

static void listeners_cleanup(void)
{
    for (guint i = 0; listeners && i < listeners->len; i++) {
        MonitorListener *l = g_ptr_array_index(listeners, i);

        if (l->path) {
            unlink(l->path);
        }
    }
}

static bool listen_unix(MonitorListener *l, const char *path, Error **errp)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof(un.sun_path)) {
        error_setg(errp, "unix socket path '%s' is too long", path);
        return false;
    }
    strcpy(un.sun_path, path);
    unlink(path);
    l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
        listen(l->fd, SOMAXCONN) < 0) {
        error_setg_errno(errp, errno, "failed to listen on unix socket '%s'", path);
        return false;
    }
    l->path = g_strdup(path);
    l->filename = g_strdup_printf("unix:%s,server=on", path);
    return true;
}

static bool listen_tcp(MonitorListener *l, const char *host, const char *port, Error **errp)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *res, *ai;
    int r, saved = 0;

    r = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (r) {
        error_setg(errp, "address resolution failed for %s:%s: %s", host, port,
                   gai_strerror(r));
        return false;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        int one = 1;

        if (fd < 0) {
            saved = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) {
            l->fd = fd;
            break;
        }
        saved = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (l->fd < 0) {
        error_setg_errno(errp, saved, "failed to listen on %s:%s", host, port);
        return false;
    }
    l->filename = g_strdup_printf("tcp:%s:%s,server=on", host, port);
    return true;
}

/* Parses "tcp:HOST:PORT[,opts]" / "unix:PATH[,opts]" (after the prefix) into opts with
 * path or host+port keys. */
static Opts *socket_spec_parse(const char *spec, bool *is_unix, Error **errp)
{
    if (g_str_has_prefix(spec, "unix:")) {
        *is_unix = true;
        return opts_parse(spec + 5, "path", errp);
    }
    *is_unix = false;
    return chardev_parse_tcp_spec(spec + 4, errp);
}

/* True when spec is a unix:/tcp: server the monitor serves itself. */
static bool spec_is_server(const char *spec)
{
    bool is_unix, server = false;
    Opts *opts;

    if (!g_str_has_prefix(spec, "unix:") && !g_str_has_prefix(spec, "tcp:")) {
        return false;
    }
    opts = socket_spec_parse(spec, &is_unix, NULL);
    if (opts && !opts_get_bool(opts, "server", false, &server, NULL)) {
        server = false;
    }
    opts_free(opts);
    return server;
}

static bool listener_open(const char *spec, const char *label, bool qmp, bool pretty,
                          Error **errp)
{
    MonitorListener *l = g_new0(MonitorListener, 1);
    bool is_unix, server, wait, ok = false;
    Opts *opts = socket_spec_parse(spec, &is_unix, errp);

    l->fd = -1;
    l->label = g_strdup(label);
    l->qmp = qmp;
    l->pretty = pretty;
    if (!opts) {
        goto out;
    }
    if (!opts_get_bool(opts, "server", false, &server, errp) ||
        !opts_get_bool(opts, "wait", true, &wait, errp)) {
        goto out;
    }
    if (is_unix) {
        const char *path = opts_get(opts, "path");

        if (!opts_check_all_used(opts, NULL, errp)) {
            goto out;
        }
        if (!path || !path[0]) {
            error_setg(errp, "unix socket needs a path");
            goto out;
        }
        ok = listen_unix(l, path, errp);
    } else {
        const char *host = opts_get(opts, "host");
        const char *port = opts_get(opts, "port");

        opts_get(opts, "nodelay");
        if (!opts_check_all_used(opts, NULL, errp)) {
            goto out;
        }
        ok = listen_tcp(l, host ? host : "", port, errp);
    }
    if (!ok) {
        goto out;
    }
    if (!listeners) {
        listeners = g_ptr_array_new();
        atexit(listeners_cleanup);
    }
    g_ptr_array_add(listeners, l);
    if (wait) {
        int fd;

        /* A signal interrupts the wait and start-up fails, as the user asked. */
        fprintf(stderr, "vessel: waiting for connection on: %s\n", l->filename);
        fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            error_setg_errno(errp, errno, "accepting a connection on %s failed", l->filename);
            opts_free(opts);
            return false;
        }
        conn_new(l, fd);
    }
    if (!g_unix_set_fd_nonblocking(l->fd, TRUE, NULL)) {
        error_setg_errno(errp, errno, "%s: cannot make the socket non-blocking", l->filename);
        opts_free(opts);
        return false;
    }
    l->tag = g_unix_fd_add(l->fd, G_IO_IN, listener_accept, l);
    opts_free(opts);
    return true;
out:
    opts_free(opts);
    if (l->fd >= 0) {
        close(l->fd);
    }
    g_free(l->label);
    g_free(l->filename);
    g_free(l->path);
    g_free(l);
    return false;
}

void monitor_foreach_listener(void (*fn)(const char *label, const char *filename,
                                         void *opaque), void *opaque)
{
    for (guint i = 0; listeners && i < listeners->len; i++) {
        MonitorListener *l = g_ptr_array_index(listeners, i);

        fn(l->label, l->filename, opaque);
    }
}

/* ---- events ---- */

void monitor_emit_event(const char *name, JsonObject *data)
{
    JsonObject *msg = json_object_new();
    JsonObject *ts = json_object_new();
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);
    gint64 now = g_get_real_time();

    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set_object_member(msg, "timestamp", ts);
    json_object_set_string_member(msg, "event", name);
    if (data) {
        json_object_set_object_member(msg, "data", data);
    }
    json_node_take_object(node, msg);
    if (monitors) {
        /* A copy: a client whose socket fails while we write leaves the list. */
        GPtrArray *targets = g_ptr_array_copy(monitors, NULL, NULL);

        for (guint i = 0; i < targets->len; i++) {
            Monitor *mon = g_ptr_array_index(targets, i);

            if (mon->qmp && mon->negotiated && !mon->closed) {
                qmp_send(mon, node);
            }
        }
        g_ptr_array_free(targets, TRUE);
    }
    json_node_unref(node);
}

static void monitor_machine_event(const char *event, ShutdownCause cause, void *opaque)
{
    JsonObject *data = NULL;

    if (!strcmp(event, "SHUTDOWN") || !strcmp(event, "RESET")) {
        data = json_object_new();
        json_object_set_boolean_member(data, "guest", shutdown_cause_is_guest(cause));
        json_object_set_string_member(data, "reason", shutdown_cause_name(cause));
    }
    monitor_emit_event(event, data);
}

/* ---- helpers for handlers ---- */

void monitor_with_cpus_paused(void (*fn)(void *opaque), void *opaque)
{
    bool running = runstate_is_running();

    if (running) {
        cpus_pause_all();
    }
    fn(opaque);
    if (running) {
        cpus_resume_all();
    }
}

/* ---- command-line options ---- */

bool monitor_add_option(const char *option, const char *arg, Error **errp)
{
    MonitorOption *mo = g_new0(MonitorOption, 1);

    if (!strcmp(option, "mon")) {
        Opts *opts = opts_parse(arg, "chardev", errp);
        const char *mode, *chardev;
        bool ok;

        if (!opts) {
            g_free(mo);
            return false;
        }
        chardev = opts_get(opts, "chardev");
        mode = opts_get(opts, "mode");
        ok = opts_get_bool(opts, "pretty", false, &mo->pretty, errp) &&
             opts_check_all_used(opts, NULL, errp);
        if (ok && (!chardev || !chardev[0])) {
            error_setg(errp, "-mon: chardev= is required");
            ok = false;
        }
        if (ok && mode && strcmp(mode, "readline") && strcmp(mode, "control")) {
            error_setg(errp, "-mon: mode must be 'readline' or 'control', not '%s'", mode);
            ok = false;
        }
        if (ok) {
            mo->chardev = g_strdup(chardev);
            mo->qmp = mode && !strcmp(mode, "control");
        }
        opts_free(opts);
        if (!ok) {
            g_free(mo->chardev);
            g_free(mo);
            return false;
        }
    } else if (!strcmp(option, "qmp") || !strcmp(option, "qmp-pretty") ||
               !strcmp(option, "monitor")) {
        if (!arg[0]) {
            error_setg(errp, "missing monitor back end");
            g_free(mo);
            return false;
        }
        mo->spec = g_strdup(arg);
        mo->qmp = strcmp(option, "monitor") != 0;
        mo->pretty = !strcmp(option, "qmp-pretty");
    } else {
        error_setg(errp, "unknown monitor option '%s'", option);
        g_free(mo);
        return false;
    }
    if (!monitor_options) {
        monitor_options = g_ptr_array_new();
    }
    g_ptr_array_add(monitor_options, mo);
    return true;
}

bool monitor_options_given(void)
{
    return monitor_options && monitor_options->len > 0;
}

static bool monitor_start_one(MonitorOption *mo, Error **errp)
{
    char *label;
    Chardev *chr;
    bool ok;

    if (mo->chardev) {
        chr = chardev_find(mo->chardev);
        if (!chr) {
            error_setg(errp, "-mon: chardev '%s' not found", mo->chardev);
            return false;
        }
        return monitor_attach_chardev(chr, mo->qmp, mo->pretty, false, errp);
    }
    if (!strcmp(mo->spec, "none")) {
        return true;
    }
    label = g_strdup_printf("compat_monitor%u", compat_index++);
    if (spec_is_server(mo->spec)) {
        ok = listener_open(mo->spec, label, mo->qmp, mo->pretty, errp);
    } else {
        chr = chardev_new_from_spec(mo->spec, label, errp);
        ok = chr && monitor_attach_chardev(chr, mo->qmp, mo->pretty, false, errp);
    }
    if (!ok) {
        error_prepend(errp, "%s %s: ", mo->qmp ? "-qmp" : "-monitor", mo->spec);
    }
    g_free(label);
    return ok;
}

bool monitor_start_all(Error **errp)
{
    for (guint i = 0; monitor_options && i < monitor_options->len; i++) {
        if (!monitor_start_one(g_ptr_array_index(monitor_options, i), errp)) {
            return false;
        }
    }
    return true;
}
