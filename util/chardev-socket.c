/*
 * socket back end: unix (path=) or tcp (host=, port=), as a server (server=on, one client
 * at a time, the next one accepted after it leaves) or a client (optional reconnect=SECS).
 * Writes never block: output waits in a bounded queue and is dropped while disconnected.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "util/chardev-internal.h"

typedef struct SocketChardev {
    Chardev chr;
    bool is_unix;
    bool server;
    bool nodelay;
    char *path;               /* unix */
    char *host, *port;        /* tcp */
    uint64_t reconnect;       /* client: seconds between connection attempts, 0 = never */
    char *addr_name;          /* "unix:/x,server=on" or "tcp:h:p,server=on" */
    int listen_fd;
    guint listen_tag;
    int fd;                   /* the connection, -1 when disconnected */
    guint reconnect_tag;
    ChrOutQueue out;
} SocketChardev;

static const char *const socket_keys[] = {
    "path", "host", "port", "server", "wait", "nodelay", "reconnect", NULL
};

static void socket_disconnect(SocketChardev *s);

static void socket_set_disconnected(SocketChardev *s)
{
    s->chr.connected = false;
    chardev_set_filename(&s->chr, "disconnected:%s", s->addr_name);
}

/* "host:port" of a socket address, numerically. */
static char *socket_inet_name(const struct sockaddr *sa, socklen_t len)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV)) {
        return g_strdup("?:?");
    }
    return g_strdup_printf(strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, serv);
}

/* The filename of a live connection, as QEMU computes it from the socket addresses. */
static void socket_set_connected_name(SocketChardev *s)
{
    struct sockaddr_storage local, peer;
    socklen_t llen = sizeof(local), plen = sizeof(peer);
    const char *srv = s->server ? ",server=on" : "";

    if (getsockname(s->fd, (struct sockaddr *)&local, &llen) < 0) {
        llen = 0;
    }
    if (s->is_unix) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)&local;
        bool has_path = llen > offsetof(struct sockaddr_un, sun_path) && un->sun_path[0];

        chardev_set_filename(&s->chr, "unix:%s%s", has_path ? un->sun_path : "", srv);
        return;
    }
    if (getpeername(s->fd, (struct sockaddr *)&peer, &plen) < 0) {
        plen = 0;
    }
    char *l = socket_inet_name((struct sockaddr *)&local, llen);
    char *p = socket_inet_name((struct sockaddr *)&peer, plen);
    chardev_set_filename(&s->chr, "tcp:%s%s <-> %s", l, srv, p);
    g_free(l);
    g_free(p);
}

static void socket_out_error(void *opaque)
{
    socket_disconnect(opaque);
}

static void socket_connected(SocketChardev *s, int fd)
{
    int one = 1;

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (!s->is_unix && s->nodelay) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    s->fd = fd;
    s->chr.connected = true;
    socket_set_connected_name(s);
    chr_outq_init(&s->out, fd, true, socket_out_error, s);
    chardev_input_start(&s->chr, fd);
    chardev_send_event(&s->chr, CHR_EVENT_OPENED);
}

static gboolean socket_accept_ready(gint lfd, GIOCondition cond, gpointer opaque)
{
    SocketChardev *s = opaque;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

    if (fd < 0) {
        return G_SOURCE_CONTINUE;
    }
    s->listen_tag = 0;
    socket_connected(s, fd);
    return G_SOURCE_REMOVE;
}

static void socket_listen_start(SocketChardev *s)
{
    if (!s->listen_tag) {
        s->listen_tag = g_unix_fd_add(s->listen_fd, G_IO_IN, socket_accept_ready, s);
    }
}

/* Opens a connected (blocking) socket to the configured address. */
static int socket_connect(SocketChardev *s, Error **errp)
{
    if (s->is_unix) {
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_strlcpy(un.sun_path, s->path, sizeof(un.sun_path));
        if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
            error_setg_errno(errp, errno, "failed to connect to '%s'", s->path);
            if (fd >= 0) {
                close(fd);
            }
            return -1;
        }
        return fd;
    }

    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res, *ai;
    int fd = -1, err, saved = ECONNREFUSED;

    err = getaddrinfo(s->host[0] ? s->host : "localhost", s->port, &hints, &res);
    if (err) {
        error_setg(errp, "address resolution failed for %s:%s: %s", s->host, s->port,
                   gai_strerror(err));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        saved = errno;
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        error_setg_errno(errp, saved, "failed to connect to '%s:%s'", s->host, s->port);
    }
    return fd;
}

static gboolean socket_reconnect_timer(gpointer opaque)
{
    SocketChardev *s = opaque;
    int fd = socket_connect(s, NULL);

    if (fd < 0) {
        return G_SOURCE_CONTINUE;
    }
    s->reconnect_tag = 0;
    socket_connected(s, fd);
    return G_SOURCE_REMOVE;
}

static void socket_disconnect(SocketChardev *s)
{
    if (s->fd < 0) {
        return;
    }
    chardev_input_stop(&s->chr);
    chr_outq_reset(&s->out);
    close(s->fd);
    s->fd = -1;
    socket_set_disconnected(s);
    chardev_send_event(&s->chr, CHR_EVENT_CLOSED);
    if (s->server) {
        socket_listen_start(s);
    } else if (s->reconnect && !s->reconnect_tag) {
        s->reconnect_tag = g_timeout_add_seconds(s->reconnect, socket_reconnect_timer, s);
    }
}

static void socket_input_closed(Chardev *chr)
{
    socket_disconnect((SocketChardev *)chr);
}

static bool socket_listen_unix(SocketChardev *s, Error **errp)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };

    if (strlen(s->path) >= sizeof(un.sun_path)) {
        error_setg(errp, "unix socket path '%s' is too long", s->path);
        return false;
    }
    strcpy(un.sun_path, s->path);
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /* A stale socket file from an earlier run would make bind fail. */
    unlink(s->path);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
        listen(s->listen_fd, 1) < 0) {
        error_setg_errno(errp, errno, "failed to listen on unix socket '%s'", s->path);
        return false;
    }
    s->addr_name = g_strdup_printf("unix:%s,server=on", s->path);
    return true;
}

static bool socket_listen_tcp(SocketChardev *s, Error **errp)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *res, *ai;
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int err, saved = EADDRNOTAVAIL, one = 1;
    char *name;

    hints.ai_family = s->host[0] ? AF_UNSPEC : AF_INET;
    err = getaddrinfo(s->host[0] ? s->host : NULL, s->port, &hints, &res);
    if (err) {
        error_setg(errp, "address resolution failed for %s:%s: %s", s->host, s->port,
                   gai_strerror(err));
        return false;
    }
    s->listen_fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

        if (fd < 0) {
            saved = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0) {
            s->listen_fd = fd;
            break;
        }
        saved = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (s->listen_fd < 0) {
        error_setg_errno(errp, saved, "failed to listen on %s:%s", s->host, s->port);
        return false;
    }
    getsockname(s->listen_fd, (struct sockaddr *)&sa, &len);
    name = socket_inet_name((struct sockaddr *)&sa, len);
    s->addr_name = g_strdup_printf("tcp:%s,server=on", name);
    g_free(name);
    return true;
}

static bool socket_open(Chardev *chr, Opts *opts, Error **errp)
{
    SocketChardev *s = (SocketChardev *)chr;
    const char *path = opts_get(opts, "path");
    const char *host = opts_get(opts, "host");
    const char *port = opts_get(opts, "port");
    bool wait;
    int fd;

    s->fd = -1;
    s->listen_fd = -1;
    if (!opts_get_bool(opts, "server", false, &s->server, errp) ||
        !opts_get_bool(opts, "wait", s->server, &wait, errp) ||
        !opts_get_bool(opts, "nodelay", false, &s->nodelay, errp) ||
        !opts_get_number(opts, "reconnect", 0, &s->reconnect, errp)) {
        return false;
    }
    if (path && (host || port)) {
        error_setg(errp, "socket: path= cannot be combined with host= or port=");
        return false;
    }
    if (!path && !port) {
        error_setg(errp, "socket: needs path= (unix) or port= (tcp)");
        return false;
    }
    if (s->server && s->reconnect) {
        error_setg(errp, "socket: reconnect= is only for clients (server=off)");
        return false;
    }
    if (!s->server && opts_has(opts, "wait")) {
        error_setg(errp, "socket: wait= is only for servers (server=on)");
        return false;
    }
    s->is_unix = path != NULL;
    s->path = g_strdup(path);
    s->host = g_strdup(host ? host : "");
    s->port = g_strdup(port);

    if (s->server) {
        if (!(s->is_unix ? socket_listen_unix(s, errp) : socket_listen_tcp(s, errp))) {
            if (s->listen_fd >= 0) {
                close(s->listen_fd);
            }
            return false;
        }
        socket_set_disconnected(s);
        if (wait) {
            fprintf(stderr, "vessel: waiting for connection on: %s\n", chr->filename);
            do {
                fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            } while (fd < 0 && errno == EINTR);
            if (fd < 0) {
                error_setg_errno(errp, errno, "accepting a connection on %s failed",
                                 s->addr_name);
                return false;
            }
            socket_connected(s, fd);
        } else {
            socket_listen_start(s);
        }
        return true;
    }

    s->addr_name = s->is_unix ? g_strdup_printf("unix:%s", s->path)
                              : g_strdup_printf("tcp:%s:%s", s->host, s->port);
    socket_set_disconnected(s);
    fd = socket_connect(s, s->reconnect ? NULL : errp);
    if (fd >= 0) {
        socket_connected(s, fd);
    } else if (s->reconnect) {
        s->reconnect_tag = g_timeout_add_seconds(s->reconnect, socket_reconnect_timer, s);
    } else {
        return false;
    }
    return true;
}

static int socket_write(Chardev *chr, const uint8_t *buf, int len)
{
    SocketChardev *s = (SocketChardev *)chr;

    if (s->fd < 0) {
        return -1;
    }
    if (!chr_outq_write(&s->out, buf, len)) {
        socket_disconnect(s);
        return -1;
    }
    return len;
}

static void socket_cleanup(Chardev *chr)
{
    SocketChardev *s = (SocketChardev *)chr;

    if (s->server && s->is_unix && s->listen_fd >= 0) {
        unlink(s->path);
        close(s->listen_fd);
        s->listen_fd = -1;
    }
}

const ChardevDriver chardev_socket_driver = {
    .name = "socket",
    .instance_size = sizeof(SocketChardev),
    .keys = socket_keys,
    .open = socket_open,
    .write = socket_write,
    .input_closed = socket_input_closed,
    .cleanup = socket_cleanup,
};
