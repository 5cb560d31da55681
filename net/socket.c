/*
 * -netdev socket|stream|dgram: frames over a host socket, as QEMU sends them. Stream sockets
 * (TCP or Unix) carry each frame behind a 4-byte big-endian length; datagram sockets (UDP,
 * multicast, Unix datagram) carry one frame per datagram. Two Vessel guests connect without
 * root: one listens, the other connects.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <glib.h>
#include <glib-unix.h>
#include "net/net.h"
#include "net/backends.h"

#define SOCKET_MAX_FRAME (65536 + 12)
#define SOCKET_RX_BUF (256 * 1024)

typedef struct SocketState {
    NetClientState nc;
    bool dgram;
    int listen_fd;            /* stream server waiting for its peer, or -1 */
    int fd;                   /* connected stream, or datagram socket; -1 while none */
    guint listen_watch, read_watch, write_watch;
    struct sockaddr_storage dest;   /* datagram destination */
    socklen_t dest_len;
    char *unlink_path;        /* Unix socket path to remove at cleanup */
    char *what;               /* prefix of the info string: "socket" or "stream" */
    /* stream receive: bytes read, frames cut out of them */
    uint8_t *rx_buf;
    size_t rx_len;
    /* stream send: the rest of a frame the socket did not take at once */
    uint8_t *tx_buf;
    size_t tx_len, tx_off;
} SocketState;

static gboolean socket_readable(gint fd, GIOCondition cond, gpointer opaque);

static void socket_read_resume(SocketState *s)
{
    if (!s->read_watch && s->fd >= 0) {
        s->read_watch = g_unix_fd_add(s->fd, G_IO_IN, socket_readable, s);
    }
}

static void socket_sent(NetClientState *nc, ssize_t len)
{
    if (net_client_queued(nc->peer) == 0) {
        socket_read_resume((SocketState *)nc);
    }
}

static void socket_disconnect(SocketState *s);

/* Sends the stream frames complete in rx_buf; false when the NIC asked us to wait. */
static bool socket_stream_deliver(SocketState *s)
{
    size_t off = 0;
    bool more = true;

    while (more && s->rx_len - off >= 4) {
        uint32_t len = (uint32_t)s->rx_buf[off] << 24 | s->rx_buf[off + 1] << 16 |
                       s->rx_buf[off + 2] << 8 | s->rx_buf[off + 3];

        if (len > SOCKET_MAX_FRAME) {
            /* The peer does not speak our framing: give up on it. */
            s->nc.stats.rx_dropped++;
            socket_disconnect(s);
            return false;
        }
        if (s->rx_len - off - 4 < len) {
            break;
        }
        more = net_send(&s->nc, s->rx_buf + off + 4, len, socket_sent) != 0;
        off += 4 + len;
    }
    memmove(s->rx_buf, s->rx_buf + off, s->rx_len - off);
    s->rx_len -= off;
    return more;
}

static gboolean socket_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    SocketState *s = opaque;

    if (s->dgram) {
        for (int i = 0; i < 64; i++) {
            ssize_t n = recv(s->fd, s->rx_buf, SOCKET_RX_BUF, MSG_DONTWAIT);

            if (n < 0) {
                break;
            }
            if (net_send(&s->nc, s->rx_buf, n, socket_sent) == 0) {
                s->read_watch = 0;
                return G_SOURCE_REMOVE;
            }
        }
        return G_SOURCE_CONTINUE;
    }
    /* Frames left over from before a pause go first; then there is room to read. */
    if (!socket_stream_deliver(s)) {
        s->read_watch = 0;
        return G_SOURCE_REMOVE;
    }
    ssize_t n = recv(s->fd, s->rx_buf + s->rx_len, SOCKET_RX_BUF - s->rx_len, MSG_DONTWAIT);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        socket_disconnect(s);
        return G_SOURCE_REMOVE;
    }
    if (n > 0) {
        s->rx_len += n;
        if (!socket_stream_deliver(s)) {
            s->read_watch = 0;
            return G_SOURCE_REMOVE;
        }
    }
    return G_SOURCE_CONTINUE;
}

/* Writes what is left of the pending stream frame; true when it is all out. */
static bool socket_tx_drain(SocketState *s)
{
    while (s->tx_off < s->tx_len) {
        ssize_t n = send(s->fd, s->tx_buf + s->tx_off, s->tx_len - s->tx_off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                s->tx_len = s->tx_off = 0;
            }
            return s->tx_len == 0;
        }
        s->tx_off += n;
    }
    s->tx_len = s->tx_off = 0;
    return true;
}

static gboolean socket_writable(gint fd, GIOCondition cond, gpointer opaque)
{
    SocketState *s = opaque;

    if (!socket_tx_drain(s)) {
        return G_SOURCE_CONTINUE;
    }
    s->write_watch = 0;
    net_client_flush(&s->nc);
    return G_SOURCE_REMOVE;
}

static bool socket_can_receive(NetClientState *nc)
{
    SocketState *s = (SocketState *)nc;

    /* Not connected: frames are taken and dropped (counted), like an unplugged cable. */
    return s->tx_len == 0;
}

static ssize_t socket_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    SocketState *s = (SocketState *)nc;
    size_t size = 0, off = 4;

    for (int i = 0; i < iovcnt; i++) {
        size += iov[i].iov_len;
    }
    if (s->fd < 0 || size > SOCKET_MAX_FRAME) {
        return -1;
    }
    if (s->dgram) {
        struct msghdr msg = {
            .msg_name = s->dest_len ? &s->dest : NULL, .msg_namelen = s->dest_len,
            .msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt,
        };
        ssize_t n = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

        /* A full datagram socket is a lossy link, as on a real wire. */
        return n < 0 ? -1 : (ssize_t)size;
    }
    s->tx_buf[0] = (uint8_t)(size >> 24);
    s->tx_buf[1] = (uint8_t)(size >> 16);
    s->tx_buf[2] = (uint8_t)(size >> 8);
    s->tx_buf[3] = (uint8_t)size;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(s->tx_buf + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    s->tx_len = off;
    s->tx_off = 0;
    if (!socket_tx_drain(s) && !s->write_watch) {
        s->write_watch = g_unix_fd_add(s->fd, G_IO_OUT, socket_writable, s);
    }
    return size;
}

static void socket_watches_remove(SocketState *s)
{
    if (s->read_watch) {
        g_source_remove(s->read_watch);
        s->read_watch = 0;
    }
    if (s->write_watch) {
        g_source_remove(s->write_watch);
        s->write_watch = 0;
    }
}

static gboolean socket_accept(gint fd, GIOCondition cond, gpointer opaque);

static void socket_disconnect(SocketState *s)
{
    socket_watches_remove(s);
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    s->rx_len = 0;
    s->tx_len = s->tx_off = 0;
    if (s->listen_fd >= 0) {
        /* A server takes the next client. */
        net_client_set_info_str(&s->nc, "%s: wait connection", s->what);
        if (!s->listen_watch) {
            s->listen_watch = g_unix_fd_add(s->listen_fd, G_IO_IN, socket_accept, s);
        }
    } else {
        net_client_set_info_str(&s->nc, "%s: disconnected", s->what);
    }
}

static void socket_connected(SocketState *s, int fd, const char *peer)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    s->fd = fd;
    net_client_set_info_str(&s->nc, "%s: connected to %s", s->what, peer);
    socket_read_resume(s);
    net_client_flush(&s->nc);
}

static char *sockaddr_text(const struct sockaddr *sa)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if (sa->sa_family == AF_UNIX) {
        return g_strdup(((const struct sockaddr_un *)sa)->sun_path);
    }
    if (getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                  : sizeof(struct sockaddr_in),
                    host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) {
        return g_strdup("?");
    }
    return g_strdup_printf("%s:%s", host, serv);
}

static gboolean socket_accept(gint fd, GIOCondition cond, gpointer opaque)
{
    SocketState *s = opaque;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int c = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
    char *peer;

    if (c < 0) {
        return G_SOURCE_CONTINUE;
    }
    peer = sockaddr_text((struct sockaddr *)&ss);
    s->listen_watch = 0;
    socket_connected(s, c, peer);
    g_free(peer);
    /* One peer at a time: stop accepting until it goes away. */
    return G_SOURCE_REMOVE;
}

static void socket_cleanup(NetClientState *nc)
{
    SocketState *s = (SocketState *)nc;

    socket_watches_remove(s);
    if (s->listen_watch) {
        g_source_remove(s->listen_watch);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    if (s->unlink_path) {
        unlink(s->unlink_path);
        g_free(s->unlink_path);
    }
    g_free(s->what);
    g_free(s->rx_buf);
    g_free(s->tx_buf);
}

static const NetClientInfo net_socket_info = {
    .type = "socket",
    .size = sizeof(SocketState),
    .receive_iov = socket_receive,
    .can_receive = socket_can_receive,
    .cleanup = socket_cleanup,
};

/* ---- addresses ---- */

/* Resolves "host:port" (host may be empty: any / loopback for connect) for type. */
static bool parse_inet(const char *str, bool passive, int socktype, struct sockaddr_storage *ss,
                       socklen_t *len, Error **errp)
{
    const char *colon = strrchr(str, ':');
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = socktype };
    struct addrinfo *res;
    char *host;
    int rc;

    if (!colon) {
        error_setg(errp, "host address '%s' doesn't contain ':' separating host from port",
                   str);
        return false;
    }
    host = g_strndup(str, colon - str);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    if (passive) {
        hints.ai_flags = AI_PASSIVE;
    }
    rc = getaddrinfo(host[0] ? host : (passive ? NULL : "127.0.0.1"), colon + 1, &hints, &res);
    if (rc) {
        error_setg(errp, "address resolution failed for %s: %s", str, gai_strerror(rc));
        g_free(host);
        return false;
    }
    g_free(host);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

static bool parse_unix(const char *path, struct sockaddr_storage *ss, socklen_t *len,
                       Error **errp)
{
    struct sockaddr_un *un = (struct sockaddr_un *)ss;

    if (strlen(path) >= sizeof(un->sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is too long", path);
        return false;
    }
    memset(un, 0, sizeof(*un));
    un->sun_family = AF_UNIX;
    strcpy(un->sun_path, path);
    *len = sizeof(*un);
    return true;
}

static SocketState *socket_new(const char *id, const char *what, bool dgram)
{
    SocketState *s = (SocketState *)net_client_new(&net_socket_info, NULL, what, id);

    s->nc.is_netdev = true;
    s->dgram = dgram;
    s->fd = s->listen_fd = -1;
    s->what = g_strdup(what);
    s->rx_buf = g_malloc(SOCKET_RX_BUF);
    s->tx_buf = g_malloc(SOCKET_MAX_FRAME + 4);
    return s;
}

/* A stream server (listen) or client (connect) on addr. */
static bool socket_stream_init(const char *id, const char *what, bool server,
                               const struct sockaddr_storage *ss, socklen_t len, Error **errp)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char *text = sockaddr_text((const struct sockaddr *)ss);
    SocketState *s;
    int one = 1;

    if (fd < 0) {
        error_setg_errno(errp, errno, "can't create stream socket");
        g_free(text);
        return false;
    }
    if (server) {
        if (ss->ss_family == AF_UNIX) {
            unlink(((const struct sockaddr_un *)ss)->sun_path);
        } else {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        }
        if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 1) < 0) {
            error_setg_errno(errp, errno, "can't bind to %s", text);
            close(fd);
            g_free(text);
            return false;
        }
        s = socket_new(id, what, false);
        s->listen_fd = fd;
        if (ss->ss_family == AF_UNIX) {
            s->unlink_path = g_strdup(((const struct sockaddr_un *)ss)->sun_path);
        }
        net_client_set_info_str(&s->nc, "%s: wait connection", what);
        s->listen_watch = g_unix_fd_add(fd, G_IO_IN, socket_accept, s);
    } else {
        if (connect(fd, (const struct sockaddr *)ss, len) < 0) {
            error_setg_errno(errp, errno, "can't connect socket to %s", text);
            close(fd);
            g_free(text);
            return false;
        }
        s = socket_new(id, what, false);
        socket_connected(s, fd, text);
    }
    g_free(text);
    return true;
}

/* A datagram socket bound to local (may be NULL), sending to remote (may be NULL). */
static bool socket_dgram_init(const char *id, const char *what,
                              const struct sockaddr_storage *local, socklen_t local_len,
                              const struct sockaddr_storage *remote, socklen_t remote_len,
                              const struct ip_mreq *mreq, Error **errp)
{
    int family = local ? local->ss_family : remote->ss_family;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    SocketState *s;
    int one = 1;
    char *text;

    if (fd < 0) {
        error_setg_errno(errp, errno, "can't create datagram socket");
        return false;
    }
    if (mreq) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    } else if (local && family == AF_UNIX) {
        unlink(((const struct sockaddr_un *)local)->sun_path);
    }
    if (local && bind(fd, (const struct sockaddr *)local, local_len) < 0) {
        text = sockaddr_text((const struct sockaddr *)local);
        error_setg_errno(errp, errno, "can't bind to %s", text);
        g_free(text);
        close(fd);
        return false;
    }
    if (mreq) {
        unsigned char loop = 1;

        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq, sizeof(*mreq)) < 0) {
            error_setg_errno(errp, errno, "can't add socket to multicast group");
            close(fd);
            return false;
        }
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop));
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    s = socket_new(id, what, true);
    s->fd = fd;
    if (local && family == AF_UNIX) {
        s->unlink_path = g_strdup(((const struct sockaddr_un *)local)->sun_path);
    }
    if (remote) {
        memcpy(&s->dest, remote, remote_len);
        s->dest_len = remote_len;
        text = sockaddr_text((const struct sockaddr *)remote);
        net_client_set_info_str(&s->nc, "%s: %s=%s", what, mreq ? "mcast" : "udp", text);
        g_free(text);
    } else {
        net_client_set_info_str(&s->nc, "%s: listening", what);
    }
    socket_read_resume(s);
    return true;
}

/* -netdev socket,listen=|connect=|mcast=|udp=[,localaddr=] */
bool net_init_socket(Opts *opts, const char *id, Error **errp)
{
    const char *listen_a = opts_get(opts, "listen");
    const char *connect_a = opts_get(opts, "connect");
    const char *mcast = opts_get(opts, "mcast");
    const char *udp = opts_get(opts, "udp");
    const char *localaddr = opts_get(opts, "localaddr");
    struct sockaddr_storage a, l;
    socklen_t alen, llen;

    if (opts_has(opts, "fd")) {
        opts_get(opts, "fd");
        error_setg(errp, "socket: fd= is not supported");
        return false;
    }
    if (!!listen_a + !!connect_a + !!mcast + !!udp != 1) {
        error_setg(errp, "exactly one of listen=, connect=, mcast= or udp= is required");
        return false;
    }
    if (localaddr && !mcast && !udp) {
        error_setg(errp, "localaddr= is only valid with mcast= or udp=");
        return false;
    }
    if (listen_a || connect_a) {
        return parse_inet(listen_a ? listen_a : connect_a, listen_a != NULL, SOCK_STREAM, &a,
                          &alen, errp) &&
               socket_stream_init(id, "socket", listen_a != NULL, &a, alen, errp);
    }
    if (udp) {
        if (!localaddr) {
            error_setg(errp, "localaddr= is mandatory with udp=");
            return false;
        }
        return parse_inet(udp, false, SOCK_DGRAM, &a, &alen, errp) &&
               parse_inet(localaddr, true, SOCK_DGRAM, &l, &llen, errp) &&
               socket_dgram_init(id, "socket", &l, llen, &a, alen, NULL, errp);
    }
    {
        struct ip_mreq mreq = { 0 };
        struct sockaddr_in any = { .sin_family = AF_INET };

        if (!parse_inet(mcast, false, SOCK_DGRAM, &a, &alen, errp)) {
            return false;
        }
        if (a.ss_family != AF_INET ||
            !IN_MULTICAST(ntohl(((struct sockaddr_in *)&a)->sin_addr.s_addr))) {
            error_setg(errp, "multicast address '%s' is not a valid IPv4 multicast address",
                       mcast);
            return false;
        }
        mreq.imr_multiaddr = ((struct sockaddr_in *)&a)->sin_addr;
        mreq.imr_interface.s_addr = htonl(INADDR_ANY);
        if (localaddr) {
            if (!inet_aton(localaddr, &mreq.imr_interface)) {
                error_setg(errp, "localaddr '%s' is not an IPv4 address", localaddr);
                return false;
            }
        }
        any.sin_port = ((struct sockaddr_in *)&a)->sin_port;
        any.sin_addr = mreq.imr_multiaddr;
        return socket_dgram_init(id, "socket", (struct sockaddr_storage *)&any, sizeof(any),
                                 &a, alen, &mreq, errp);
    }
}

/* Reads a QAPI SocketAddress from prefix.type/host/port/path keys. */
static bool parse_socket_address(Opts *opts, const char *prefix, int socktype, bool passive,
                                 struct sockaddr_storage *ss, socklen_t *len, bool *given,
                                 Error **errp)
{
    char *k_type = g_strdup_printf("%s.type", prefix);
    char *k_host = g_strdup_printf("%s.host", prefix);
    char *k_port = g_strdup_printf("%s.port", prefix);
    char *k_path = g_strdup_printf("%s.path", prefix);
    const char *type = opts_get(opts, k_type);
    const char *host = opts_get(opts, k_host);
    const char *port = opts_get(opts, k_port);
    const char *path = opts_get(opts, k_path);
    bool ok = false;

    *given = type != NULL;
    if (!type) {
        ok = true;
    } else if (!strcmp(type, "inet")) {
        if (!host || !port) {
            error_setg(errp, "Parameter '%s' is missing", host ? k_port : k_host);
        } else {
            char *hp = g_strdup_printf("%s:%s", host, port);

            ok = parse_inet(hp, passive, socktype, ss, len, errp);
            g_free(hp);
        }
    } else if (!strcmp(type, "unix")) {
        if (!path) {
            error_setg(errp, "Parameter '%s' is missing", k_path);
        } else {
            ok = parse_unix(path, ss, len, errp);
        }
    } else {
        error_setg(errp, "Parameter '%s' does not accept value '%s'", k_type, type);
    }
    g_free(k_type);
    g_free(k_host);
    g_free(k_port);
    g_free(k_path);
    return ok;
}

/* -netdev stream,server=on|off,addr.type=inet,addr.host=H,addr.port=P | addr.type=unix,... */
bool net_init_stream(Opts *opts, const char *id, Error **errp)
{
    struct sockaddr_storage ss;
    socklen_t len;
    bool server, given;

    if (!opts_get_bool(opts, "server", false, &server, errp) ||
        !parse_socket_address(opts, "addr", SOCK_STREAM, server, &ss, &len, &given, errp)) {
        return false;
    }
    if (!given) {
        error_setg(errp, "Parameter 'addr.type' is missing");
        return false;
    }
    return socket_stream_init(id, "stream", server, &ss, len, errp);
}

/* -netdev dgram,local.type=inet|unix,...[,remote.type=...] */
bool net_init_dgram(Opts *opts, const char *id, Error **errp)
{
    struct sockaddr_storage l, r;
    socklen_t llen = 0, rlen = 0;
    bool has_l, has_r;

    if (!parse_socket_address(opts, "local", SOCK_DGRAM, true, &l, &llen, &has_l, errp) ||
        !parse_socket_address(opts, "remote", SOCK_DGRAM, false, &r, &rlen, &has_r, errp)) {
        return false;
    }
    if (!has_l && !has_r) {
        error_setg(errp, "dgram requires local= or remote= parameter");
        return false;
    }
    if (has_l && has_r && l.ss_family != r.ss_family) {
        error_setg(errp, "local and remote addresses must be of the same family");
        return false;
    }
    return socket_dgram_init(id, "dgram", has_l ? &l : NULL, llen, has_r ? &r : NULL, rlen,
                             NULL, errp);
}
