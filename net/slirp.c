/*
 * -netdev user: a user-mode IP stack (libslirp) with DHCP, DNS, host forwarding and guest
 * forwarding, polled from the glib main loop through its own GSource.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <glib.h>
#include <slirp/libslirp.h>
#include "net/net.h"
#include "net/backends.h"
#include "util/chardev.h"
#include "util/log.h"
#include "util/mainloop.h"
#include "util/timer.h"

typedef struct SlirpState SlirpState;

/* One guestfwd rule bound to a character device. */
typedef struct SlirpGuestFwd {
    SlirpState *s;
    Chardev *chr;
    struct in_addr addr;
    int port;
} SlirpGuestFwd;

/* One hostfwd rule as given, for hostfwd_remove and info. */
typedef struct SlirpHostFwd {
    bool udp;
    struct in_addr host_addr;
    int host_port;
} SlirpHostFwd;

/* One descriptor slirp polls, kept registered across iterations while slirp wants it. */
typedef struct SlirpPollFd {
    int fd;
    gpointer tag;             /* from g_source_add_unix_fd */
    GIOCondition events;
    bool seen;                /* slirp asked for it this iteration */
} SlirpPollFd;

typedef struct SlirpSource {
    GSource source;
    SlirpState *s;
} SlirpSource;

struct SlirpState {
    NetClientState nc;
    Slirp *slirp;
    SlirpSource *src;
    GHashTable *pollfds;      /* fd -> SlirpPollFd registered with src */
    GPtrArray *pollidx;       /* this iteration's SlirpPollFd in slirp's index order */
    bool blocked;             /* the NIC queue holds our frames: stop reading sockets */
    bool kick_pending;        /* a vCPU woke the main loop since its last prepare */
    bool in_input;            /* slirp_input is running: its replies go to pending */
    GPtrArray *pending;       /* GByteArray * replies to guest frames, sent by ack_timer */
    Timer *ack_timer;         /* sends pending once the current burst of guest frames ends */
    uint64_t acks_coalesced;  /* pure ACKs replaced by a later one before delivery */
    struct in_addr vdhcp_start;
    GPtrArray *guestfwds;     /* SlirpGuestFwd * */
    GArray *hostfwds;         /* SlirpHostFwd */
};

/* Every user back end, for the monitor. */
static GPtrArray *slirp_stacks;

typedef struct SlirpTimerWrap {
    Timer *timer;
    SlirpState *s;
    SlirpTimerCb cb;          /* legacy callback, or NULL for an id timer */
    void *cb_opaque;
    SlirpTimerId id;
} SlirpTimerWrap;

/* ---- callbacks from libslirp ---- */

static void slirp_resume(NetClientState *nc, ssize_t len)
{
    SlirpState *s = (SlirpState *)nc;

    if (s->blocked && net_client_queued(nc->peer) == 0) {
        s->blocked = false;
        mainloop_wakeup();
    }
}

static void slirp_deliver(SlirpState *s, const void *buf, size_t len)
{
    if (net_send(&s->nc, buf, len, slirp_resume) == 0) {
        s->blocked = true;
    }
}

/* Sends the replies slirp produced for a burst of guest frames. A pure ACK followed by a
 * later pure ACK of the same flow acknowledging more is left out: the later one says all it
 * said, and the guest processes one ACK instead of one per segment. */
static void slirp_ack_flush(void *opaque)
{
    SlirpState *s = opaque;
    GPtrArray *p = s->pending;

    s->pending = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    for (guint i = 0; i < p->len; i++) {
        GByteArray *b = g_ptr_array_index(p, i);
        bool superseded = false;

        for (guint j = i + 1; j < p->len && !superseded; j++) {
            GByteArray *c = g_ptr_array_index(p, j);

            superseded = net_frame_ack_superseded(b->data, b->len, c->data, c->len);
        }
        if (superseded) {
            s->acks_coalesced++;
        } else {
            slirp_deliver(s, b->data, b->len);
        }
    }
    g_ptr_array_free(p, TRUE);
}

static ssize_t slirp_cb_send_packet(const void *buf, size_t len, void *opaque)
{
    SlirpState *s = opaque;

    if (s->in_input) {
        if (!s->pending->len) {
            timer_mod(s->ack_timer, clock_ns());
        }
        g_ptr_array_add(s->pending, g_byte_array_append(g_byte_array_sized_new(len), buf, len));
        return len;
    }
    slirp_deliver(s, buf, len);
    return len;
}

static void slirp_cb_guest_error(const char *msg, void *opaque)
{
    log_mask_printf(LOG_GUEST_ERROR, "slirp: %s\n", msg);
}

static int64_t slirp_cb_clock_get_ns(void *opaque)
{
    return clock_ns();
}

static void slirp_timer_fire(void *opaque)
{
    SlirpTimerWrap *w = opaque;

    if (w->cb) {
        w->cb(w->cb_opaque);
    } else {
        slirp_handle_timer(w->s->slirp, w->id, w->cb_opaque);
    }
}

static void *slirp_cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    SlirpTimerWrap *w = g_new0(SlirpTimerWrap, 1);

    w->s = opaque;
    w->cb = cb;
    w->cb_opaque = cb_opaque;
    w->timer = timer_new(slirp_timer_fire, w);
    return w;
}

static void *slirp_cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    SlirpTimerWrap *w = g_new0(SlirpTimerWrap, 1);

    w->s = opaque;
    w->id = id;
    w->cb_opaque = cb_opaque;
    w->timer = timer_new(slirp_timer_fire, w);
    return w;
}

static void slirp_cb_timer_free(void *timer, void *opaque)
{
    SlirpTimerWrap *w = timer;

    timer_del(w->timer);
    timer_free(w->timer);
    g_free(w);
}

static void slirp_cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    SlirpTimerWrap *w = timer;

    timer_mod(w->timer, expire_ms * 1000000);
}

static void slirp_cb_register_poll_fd(int fd, void *opaque)
{
}

static void slirp_cb_unregister_poll_fd(int fd, void *opaque)
{
}

/* slirp has new work (buffer space freed by a guest ACK): the main loop must poll again. */
static void slirp_cb_notify(void *opaque)
{
    SlirpState *s = opaque;

    if (!s->kick_pending && !mainloop_is_main_thread()) {
        s->kick_pending = true;
        mainloop_wakeup();
    }
}

static const SlirpCb slirp_callbacks = {
    .send_packet = slirp_cb_send_packet,
    .guest_error = slirp_cb_guest_error,
    .clock_get_ns = slirp_cb_clock_get_ns,
    .timer_new = slirp_cb_timer_new,
    .timer_free = slirp_cb_timer_free,
    .timer_mod = slirp_cb_timer_mod,
    .register_poll_fd = slirp_cb_register_poll_fd,
    .unregister_poll_fd = slirp_cb_unregister_poll_fd,
    .notify = slirp_cb_notify,
    .timer_new_opaque = slirp_cb_timer_new_opaque,
};

/* ---- polling: a GSource that asks slirp for its descriptors every iteration ---- */

/* Descriptors stay registered from one iteration to the next: adding and removing them with
 * glib every time would wake the main loop every time. */
static int slirp_add_poll(int fd, int events, void *opaque)
{
    SlirpState *s = opaque;
    SlirpPollFd *p = g_hash_table_lookup(s->pollfds, GINT_TO_POINTER(fd));
    GIOCondition cond;

    if (s->blocked) {
        events &= ~SLIRP_POLL_IN;
    }
    cond = (events & SLIRP_POLL_IN ? G_IO_IN : 0) |
           (events & SLIRP_POLL_OUT ? G_IO_OUT : 0) |
           (events & SLIRP_POLL_PRI ? G_IO_PRI : 0) |
           (events & SLIRP_POLL_ERR ? G_IO_ERR : 0) |
           (events & SLIRP_POLL_HUP ? G_IO_HUP : 0);
    if (!p) {
        p = g_new0(SlirpPollFd, 1);
        p->fd = fd;
        p->events = cond;
        p->tag = g_source_add_unix_fd(&s->src->source, fd, cond);
        g_hash_table_insert(s->pollfds, GINT_TO_POINTER(fd), p);
    } else if (p->events != cond) {
        p->events = cond;
        g_source_modify_unix_fd(&s->src->source, p->tag, cond);
    }
    p->seen = true;
    g_ptr_array_add(s->pollidx, p);
    return s->pollidx->len - 1;
}

static int slirp_get_revents(int idx, void *opaque)
{
    SlirpState *s = opaque;
    SlirpPollFd *p;
    GIOCondition rev;
    int ev = 0;

    if (idx < 0 || (guint)idx >= s->pollidx->len) {
        return 0;
    }
    p = g_ptr_array_index(s->pollidx, idx);
    rev = g_source_query_unix_fd(&s->src->source, p->tag);
    ev |= rev & G_IO_IN ? SLIRP_POLL_IN : 0;
    ev |= rev & G_IO_OUT ? SLIRP_POLL_OUT : 0;
    ev |= rev & G_IO_PRI ? SLIRP_POLL_PRI : 0;
    ev |= rev & G_IO_ERR ? SLIRP_POLL_ERR : 0;
    ev |= rev & G_IO_HUP ? SLIRP_POLL_HUP : 0;
    return ev;
}

/* Unregisters the descriptors slirp no longer asked for (all when all is set). */
static void slirp_source_unpoll(SlirpState *s, bool all)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, s->pollfds);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        SlirpPollFd *p = value;

        if (all || !p->seen) {
            g_source_remove_unix_fd(&s->src->source, p->tag);
            g_hash_table_iter_remove(&it);
        } else {
            p->seen = false;
        }
    }
}

static gboolean slirp_source_prepare(GSource *source, gint *timeout)
{
    SlirpState *s = ((SlirpSource *)source)->s;
    uint32_t t = UINT32_MAX;

    s->kick_pending = false;
    g_ptr_array_set_size(s->pollidx, 0);
    slirp_pollfds_fill(s->slirp, &t, slirp_add_poll, s);
    slirp_source_unpoll(s, false);
    *timeout = t == UINT32_MAX ? -1 : (gint)MIN(t, (uint32_t)G_MAXINT);
    return FALSE;
}

static gboolean slirp_source_check(GSource *source)
{
    /* slirp runs its TCP timers from pollfds_poll: call it after every poll. */
    return TRUE;
}

static gboolean slirp_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    SlirpState *s = ((SlirpSource *)source)->s;

    slirp_pollfds_poll(s->slirp, 0, slirp_get_revents, s);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs slirp_source_funcs = {
    .prepare = slirp_source_prepare,
    .check = slirp_source_check,
    .dispatch = slirp_source_dispatch,
};

/* ---- the client ---- */

static ssize_t slirp_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    SlirpState *s = (SlirpState *)nc;
    size_t size = 0;
    uint8_t *buf;

    s->in_input = true;
    if (iovcnt == 1) {
        slirp_input(s->slirp, iov[0].iov_base, (int)iov[0].iov_len);
        size = iov[0].iov_len;
    } else {
        for (int i = 0; i < iovcnt; i++) {
            size += iov[i].iov_len;
        }
        buf = g_malloc(size);
        size = 0;
        for (int i = 0; i < iovcnt; i++) {
            memcpy(buf + size, iov[i].iov_base, iov[i].iov_len);
            size += iov[i].iov_len;
        }
        slirp_input(s->slirp, buf, (int)size);
        g_free(buf);
    }
    s->in_input = false;
    /* A new connection may need polling: let the main loop refill its descriptors, once
     * per burst of frames (prepare clears the flag). */
    if (!s->kick_pending && !mainloop_is_main_thread()) {
        s->kick_pending = true;
        mainloop_wakeup();
    }
    return size;
}

static void slirp_cleanup_client(NetClientState *nc)
{
    SlirpState *s = (SlirpState *)nc;

    for (guint i = 0; i < s->guestfwds->len; i++) {
        SlirpGuestFwd *f = g_ptr_array_index(s->guestfwds, i);

        chr_remove_frontend(f->chr, f);
        g_free(f);
    }
    g_ptr_array_free(s->guestfwds, TRUE);
    timer_del(s->ack_timer);
    timer_free(s->ack_timer);
    g_ptr_array_free(s->pending, TRUE);
    g_array_free(s->hostfwds, TRUE);
    if (s->src) {
        slirp_source_unpoll(s, true);
        g_source_destroy(&s->src->source);
        g_source_unref(&s->src->source);
    }
    g_hash_table_destroy(s->pollfds);
    g_ptr_array_free(s->pollidx, TRUE);
    if (s->slirp) {
        slirp_cleanup(s->slirp);
    }
    g_ptr_array_remove(slirp_stacks, s);
}

static const NetClientInfo net_slirp_info = {
    .type = "user",
    .size = sizeof(SlirpState),
    .receive_iov = slirp_receive,
    .cleanup = slirp_cleanup_client,
};

/* ---- forwarding rules ---- */

/* Parses "addr" (empty: def) into *out. */
static bool parse_in_addr(const char *str, struct in_addr def, struct in_addr *out)
{
    if (!*str) {
        *out = def;
        return true;
    }
    return inet_aton(str, out) != 0;
}

static bool parse_port(const char *str, int *out)
{
    uint64_t v;

    if (!parse_uint64(str, &v, NULL) || v > 65535) {
        return false;
    }
    *out = (int)v;
    return true;
}

/* Splits "[tcp|udp]:" off rule; false for another protocol. */
static bool parse_fwd_proto(const char **rule, bool *udp)
{
    const char *colon = strchr(*rule, ':');

    *udp = false;
    if (!colon) {
        return false;
    }
    if (colon - *rule == 3 && !strncmp(*rule, "udp", 3)) {
        *udp = true;
    } else if (colon != *rule && !(colon - *rule == 3 && !strncmp(*rule, "tcp", 3))) {
        return false;
    }
    *rule = colon + 1;
    return true;
}

/* Parses "[hostaddr]:hostport" (the host half of a rule, up to end or '-'). */
static bool parse_host_half(const char *str, SlirpHostFwd *fwd, const char **why)
{
    const char *colon = strchr(str, ':');
    char *addr;
    bool ok;
    struct in_addr any = { .s_addr = INADDR_ANY };

    if (!colon) {
        *why = "missing host port";
        return false;
    }
    addr = g_strndup(str, colon - str);
    ok = parse_in_addr(addr, any, &fwd->host_addr);
    g_free(addr);
    if (!ok) {
        *why = "Bad host address";
        return false;
    }
    if (!parse_port(colon + 1, &fwd->host_port)) {
        *why = "Bad host port";
        return false;
    }
    return true;
}

static bool slirp_hostfwd(SlirpState *s, const char *rule, Error **errp)
{
    const char *p = rule, *why = "Bad protocol name";
    char *host = NULL, *gaddr = NULL;
    const char *dash, *colon;
    SlirpHostFwd fwd;
    struct in_addr guest_addr;
    int guest_port;

    if (!parse_fwd_proto(&p, &fwd.udp)) {
        goto fail;
    }
    dash = strchr(p, '-');
    if (!dash) {
        why = "Missing guest address";
        goto fail;
    }
    host = g_strndup(p, dash - p);
    if (!parse_host_half(host, &fwd, &why)) {
        goto fail;
    }
    colon = strchr(dash + 1, ':');
    if (!colon) {
        why = "Missing guest port separator";
        goto fail;
    }
    gaddr = g_strndup(dash + 1, colon - dash - 1);
    if (!parse_in_addr(gaddr, s->vdhcp_start, &guest_addr)) {
        why = "Bad guest address";
        goto fail;
    }
    if (!parse_port(colon + 1, &guest_port) || guest_port == 0) {
        why = "Bad guest port";
        goto fail;
    }
    g_free(host);
    g_free(gaddr);
    if (slirp_add_hostfwd(s->slirp, fwd.udp, fwd.host_addr, fwd.host_port, guest_addr,
                          guest_port) < 0) {
        error_setg_errno(errp, errno, "Could not set up host forwarding rule '%s'", rule);
        return false;
    }
    g_array_append_val(s->hostfwds, fwd);
    return true;
fail:
    g_free(host);
    g_free(gaddr);
    error_setg(errp, "Invalid host forwarding rule '%s' (%s)", rule, why);
    return false;
}

static int guestfwd_can_read(void *opaque)
{
    SlirpGuestFwd *f = opaque;

    return (int)MIN(slirp_socket_can_recv(f->s->slirp, f->addr, f->port), 65536);
}

static void guestfwd_read(void *opaque, const uint8_t *buf, int len)
{
    SlirpGuestFwd *f = opaque;

    slirp_socket_recv(f->s->slirp, f->addr, f->port, buf, len);
}

static ssize_t guestfwd_write(const void *buf, size_t len, void *opaque)
{
    SlirpGuestFwd *f = opaque;

    return chr_write(f->chr, buf, (int)len);
}

/* guestfwd=[tcp]:server:port-dev or [tcp]:server:port-cmd:command */
static bool slirp_guestfwd(SlirpState *s, const char *rule, Error **errp)
{
    const char *p = rule, *dash, *colon;
    char *addr = NULL, *portstr;
    struct in_addr server;
    int port;
    bool udp, ok;

    if (!parse_fwd_proto(&p, &udp) || udp) {
        goto fail;
    }
    colon = strchr(p, ':');
    dash = colon ? strchr(colon, '-') : NULL;
    if (!dash) {
        goto fail;
    }
    addr = g_strndup(p, colon - p);
    portstr = g_strndup(colon + 1, dash - colon - 1);
    ok = inet_aton(addr, &server) && parse_port(portstr, &port);
    g_free(portstr);
    if (!ok) {
        goto fail;
    }
    g_free(addr);
    if (g_str_has_prefix(dash + 1, "cmd:")) {
        if (slirp_add_exec(s->slirp, dash + 5, &server, port) < 0) {
            error_setg(errp, "Conflicting/invalid host:port in guest forwarding rule '%s'",
                       rule);
            return false;
        }
        return true;
    }
    SlirpGuestFwd *f = g_new0(SlirpGuestFwd, 1);
    char *id = g_strdup_printf("%s-guestfwd%u", s->nc.name, s->guestfwds->len);

    f->s = s;
    f->addr = server;
    f->port = port;
    f->chr = chardev_new_from_spec(dash + 1, id, errp);
    g_free(id);
    if (!f->chr) {
        error_prepend(errp, "could not open guest forwarding device '%s': ", dash + 1);
        g_free(f);
        return false;
    }
    if (slirp_add_guestfwd(s->slirp, guestfwd_write, f, &server, port) < 0) {
        error_setg(errp, "Conflicting/invalid host:port in guest forwarding rule '%s'", rule);
        g_free(f);
        return false;
    }
    if (!chr_add_frontend(f->chr, guestfwd_can_read, guestfwd_read, NULL, f, errp)) {
        slirp_remove_guestfwd(s->slirp, server, port);
        g_free(f);
        return false;
    }
    g_ptr_array_add(s->guestfwds, f);
    return true;
fail:
    g_free(addr);
    error_setg(errp, "invalid guest forwarding rule '%s'", rule);
    return false;
}

/* ---- -netdev user ---- */

/* The classful mask QEMU derives when net= gives no prefix length. */
static uint32_t slirp_classful_mask(uint32_t addr)
{
    if (!(addr & 0x80000000)) {
        return 0xff000000;                  /* class A */
    } else if ((addr & 0xfff00000) == 0xac100000) {
        return 0xfff00000;                  /* 172.16.0.0/12 */
    } else if ((addr & 0xc0000000) == 0x80000000) {
        return 0xffff0000;                  /* class B */
    } else if ((addr & 0xffff0000) == 0xc0a80000) {
        return 0xffff0000;                  /* 192.168.0.0/16 */
    } else if ((addr & 0xe0000000) == 0xc0000000) {
        return 0xffffff00;                  /* class C */
    }
    return 0xfffffff0;
}

/* net=ADDR[/LEN|/MASK] */
static bool slirp_parse_net(const char *str, struct in_addr *net, struct in_addr *mask,
                            Error **errp)
{
    const char *slash = strchr(str, '/');
    char *addr = slash ? g_strndup(str, slash - str) : g_strdup(str);
    bool ok = inet_aton(addr, net) != 0;

    g_free(addr);
    if (!ok) {
        error_setg(errp, "Invalid net address '%s'", str);
        return false;
    }
    if (!slash) {
        mask->s_addr = htonl(slirp_classful_mask(ntohl(net->s_addr)));
    } else if (strchr(slash + 1, '.')) {
        if (!inet_aton(slash + 1, mask)) {
            error_setg(errp, "Invalid netmask provided '%s'", slash + 1);
            return false;
        }
    } else {
        uint64_t len;

        if (!parse_uint64(slash + 1, &len, NULL) || len > 32) {
            error_setg(errp, "Invalid netmask provided (must be in range 0-32)");
            return false;
        }
        mask->s_addr = htonl(len ? 0xffffffffu << (32 - len) : 0);
    }
    net->s_addr &= mask->s_addr;
    return true;
}

/* Reads an address option that must lie inside the network and differ from its network and
 * broadcast addresses; def is the host part used when the option is absent. */
static bool slirp_net_addr(Opts *opts, const char *key, const char *what, struct in_addr net,
                           struct in_addr mask, uint32_t def, struct in_addr *out,
                           Error **errp)
{
    const char *v = opts_get(opts, key);

    if (!v) {
        out->s_addr = net.s_addr | htonl(def);
        return true;
    }
    if (!inet_aton(v, out)) {
        error_setg(errp, "Failed to parse %s address '%s'", what, v);
        return false;
    }
    if ((out->s_addr & mask.s_addr) != net.s_addr) {
        error_setg(errp, "%s address '%s' doesn't belong to network", what, v);
        return false;
    }
    if (out->s_addr == net.s_addr || (out->s_addr | mask.s_addr) == 0xffffffff) {
        error_setg(errp, "%s address '%s' must not be the network or broadcast address",
                   what, v);
        return false;
    }
    return true;
}

static bool slirp_parse_in6(Opts *opts, const char *key, const char *def,
                            struct in6_addr *out, Error **errp)
{
    const char *v = opts_get(opts, key);

    if (!inet_pton(AF_INET6, v ? v : def, out)) {
        error_setg(errp, "Failed to parse IPv6 %s address '%s'", key, v);
        return false;
    }
    return true;
}

typedef struct SlirpLists {
    GPtrArray *hostfwd, *guestfwd, *dnssearch;
} SlirpLists;

static void slirp_collect(const char *key, const char *value, void *opaque)
{
    SlirpLists *l = opaque;

    if (!strcmp(key, "hostfwd")) {
        g_ptr_array_add(l->hostfwd, (gpointer)value);
    } else if (!strcmp(key, "guestfwd")) {
        g_ptr_array_add(l->guestfwd, (gpointer)value);
    } else if (!strcmp(key, "dnssearch")) {
        g_ptr_array_add(l->dnssearch, (gpointer)value);
    }
}

bool net_init_user(Opts *opts, const char *id, Error **errp)
{
    SlirpConfig cfg = { .version = 4 };
    SlirpLists lists = { g_ptr_array_new(), g_ptr_array_new(), g_ptr_array_new() };
    struct in_addr net, mask;
    bool restricted = false, ipv4, ipv6, ok = false;
    const char *v, *v6net;
    SlirpState *s = NULL;
    char ip6buf[INET6_ADDRSTRLEN];

    if (opts_has(opts, "smb")) {
        error_setg(errp, "Parameter 'smb' is not supported (no SMB server here)");
        goto out;
    }
    if (!opts_get_bool(opts, "ipv4", true, &ipv4, errp) ||
        !opts_get_bool(opts, "ipv6", true, &ipv6, errp)) {
        goto out;
    }
    if (!ipv4 && !ipv6) {
        error_setg(errp, "IPv4 and IPv6 cannot both be disabled");
        goto out;
    }
    v = opts_get(opts, "restrict");
    if (v && !(!strcmp(v, "y") || !strcmp(v, "n")) && !parse_bool(v, &restricted, NULL)) {
        error_setg(errp, "Parameter 'restrict' expects 'on' or 'off'");
        goto out;
    }
    if (v && (!strcmp(v, "y") || !strcmp(v, "n"))) {
        restricted = v[0] == 'y';
    }
    v = opts_get(opts, "net");
    if (!slirp_parse_net(v ? v : "10.0.2.0/24", &net, &mask, errp)) {
        goto out;
    }
    cfg.in_enabled = ipv4;
    cfg.restricted = restricted;
    cfg.vnetwork = net;
    cfg.vnetmask = mask;
    if (!slirp_net_addr(opts, "host", "host", net, mask, 2, &cfg.vhost, errp) ||
        !slirp_net_addr(opts, "dhcpstart", "DHCP", net, mask, 15, &cfg.vdhcp_start, errp) ||
        !slirp_net_addr(opts, "dns", "DNS", net, mask, 3, &cfg.vnameserver, errp)) {
        goto out;
    }
    if (cfg.vdhcp_start.s_addr == cfg.vhost.s_addr ||
        cfg.vdhcp_start.s_addr == cfg.vnameserver.s_addr) {
        error_setg(errp, "DHCP must be different from host and DNS");
        goto out;
    }
    if (cfg.vnameserver.s_addr == cfg.vhost.s_addr) {
        error_setg(errp, "DNS must be different from host");
        goto out;
    }

    cfg.in6_enabled = ipv6;
    v6net = opts_get(opts, "ipv6-net");
    v = opts_get(opts, "ipv6-prefix");
    if (v6net && v) {
        error_setg(errp, "ipv6-net and ipv6-prefix are mutually exclusive");
        goto out;
    }
    {
        uint64_t plen = 64;
        const char *prefix = v6net ? v6net : v ? v : "fec0::";
        const char *slash = strchr(prefix, '/');
        char *addr = slash ? g_strndup(prefix, slash - prefix) : g_strdup(prefix);

        ok = inet_pton(AF_INET6, addr, &cfg.vprefix_addr6) == 1;
        g_free(addr);
        if (!ok) {
            error_setg(errp, "Failed to parse IPv6 prefix '%s'", prefix);
            goto out;
        }
        ok = false;
        if (slash && !parse_uint64(slash + 1, &plen, NULL)) {
            plen = 999;
        }
        if (!slash && !opts_get_number(opts, "ipv6-prefixlen", 64, &plen, errp)) {
            goto out;
        }
        if (plen > 126) {
            error_setg(errp, "Invalid IPv6 prefix provided (IPv6 prefix length must be "
                       "between 0 and 126)");
            goto out;
        }
        cfg.vprefix_len = (uint8_t)plen;
    }
    {
        /* Host and DNS default to prefix::2 and prefix::3. */
        struct in6_addr def = cfg.vprefix_addr6;

        def.s6_addr[15] |= 2;
        inet_ntop(AF_INET6, &def, ip6buf, sizeof(ip6buf));
        if (!slirp_parse_in6(opts, "ipv6-host", ip6buf, &cfg.vhost6, errp)) {
            goto out;
        }
        def.s6_addr[15] = (uint8_t)((def.s6_addr[15] & ~2) | 3);
        inet_ntop(AF_INET6, &def, ip6buf, sizeof(ip6buf));
        if (!slirp_parse_in6(opts, "ipv6-dns", ip6buf, &cfg.vnameserver6, errp)) {
            goto out;
        }
    }
    cfg.vhostname = opts_get(opts, "hostname");
    cfg.vdomainname = opts_get(opts, "domainname");
    cfg.tftp_server_name = opts_get(opts, "tftp-server-name");
    cfg.tftp_path = opts_get(opts, "tftp");
    cfg.bootfile = opts_get(opts, "bootfile");
    opts_get(opts, "hostfwd");
    opts_get(opts, "guestfwd");
    opts_get(opts, "dnssearch");
    opts_foreach(opts, slirp_collect, &lists);
    if (cfg.vdomainname && !*cfg.vdomainname) {
        error_setg(errp, "'domainname' parameter cannot be empty");
        goto out;
    }
    if (lists.dnssearch->len) {
        g_ptr_array_add(lists.dnssearch, NULL);
        cfg.vdnssearch = (const char **)lists.dnssearch->pdata;
    }

    s = (SlirpState *)net_client_new(&net_slirp_info, NULL, "user", id);
    s->nc.is_netdev = true;
    s->vdhcp_start = cfg.vdhcp_start;
    s->pollfds = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    s->pollidx = g_ptr_array_new();
    s->pending = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    s->ack_timer = timer_new(slirp_ack_flush, s);
    s->guestfwds = g_ptr_array_new();
    s->hostfwds = g_array_new(FALSE, FALSE, sizeof(SlirpHostFwd));
    net_client_set_info_str(&s->nc, "net=%s,restrict=%s", inet_ntoa(net),
                            restricted ? "on" : "off");
    s->slirp = slirp_new(&cfg, &slirp_callbacks, s);
    if (!s->slirp) {
        error_setg(errp, "could not initialise the user network stack");
        goto out;
    }
    s->src = (SlirpSource *)g_source_new(&slirp_source_funcs, sizeof(SlirpSource));
    s->src->s = s;
    /* glib blocks a non-recursive source while dispatching it by unregistering its
     * descriptors, which wakes the loop each time; our dispatch never recurses. */
    g_source_set_can_recurse(&s->src->source, TRUE);
    g_source_attach(&s->src->source, NULL);
    if (!slirp_stacks) {
        slirp_stacks = g_ptr_array_new();
    }
    g_ptr_array_add(slirp_stacks, s);
    for (guint i = 0; i < lists.hostfwd->len; i++) {
        if (!slirp_hostfwd(s, g_ptr_array_index(lists.hostfwd, i), errp)) {
            goto out;
        }
    }
    for (guint i = 0; i < lists.guestfwd->len; i++) {
        if (!slirp_guestfwd(s, g_ptr_array_index(lists.guestfwd, i), errp)) {
            goto out;
        }
    }
    ok = true;
out:
    if (!ok && s) {
        net_client_free(&s->nc);
    }
    g_ptr_array_free(lists.hostfwd, TRUE);
    g_ptr_array_free(lists.guestfwd, TRUE);
    g_ptr_array_free(lists.dnssearch, TRUE);
    return ok;
}

/* ---- monitor helpers ---- */

static SlirpState *slirp_lookup(const char *netdev, Error **errp)
{
    if (!netdev) {
        if (!slirp_stacks || !slirp_stacks->len) {
            error_setg(errp, "No usernet stack");
            return NULL;
        }
        return g_ptr_array_index(slirp_stacks, 0);
    }
    for (guint i = 0; slirp_stacks && i < slirp_stacks->len; i++) {
        SlirpState *s = g_ptr_array_index(slirp_stacks, i);

        if (!strcmp(s->nc.name, netdev)) {
            return s;
        }
    }
    error_setg(errp, "unrecognized (vlan-id, stackname) pair");
    return NULL;
}

bool net_slirp_hostfwd_add(const char *netdev, const char *rule, Error **errp)
{
    SlirpState *s = slirp_lookup(netdev, errp);

    return s && slirp_hostfwd(s, rule, errp);
}

bool net_slirp_hostfwd_remove(const char *netdev, const char *rule, bool *found, Error **errp)
{
    SlirpState *s = slirp_lookup(netdev, errp);
    SlirpHostFwd fwd;
    const char *p = rule, *why = "Bad protocol name";

    if (!s) {
        return false;
    }
    if (!parse_fwd_proto(&p, &fwd.udp) || !parse_host_half(p, &fwd, &why)) {
        error_setg(errp, "invalid format (%s)", why);
        return false;
    }
    *found = slirp_remove_hostfwd(s->slirp, fwd.udp, fwd.host_addr, fwd.host_port) == 0;
    for (guint i = 0; *found && i < s->hostfwds->len; i++) {
        SlirpHostFwd *f = &g_array_index(s->hostfwds, SlirpHostFwd, i);

        if (f->udp == fwd.udp && f->host_port == fwd.host_port &&
            f->host_addr.s_addr == fwd.host_addr.s_addr) {
            g_array_remove_index(s->hostfwds, i);
            break;
        }
    }
    return true;
}

char *net_slirp_usernet_info(void)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; slirp_stacks && i < slirp_stacks->len; i++) {
        SlirpState *s = g_ptr_array_index(slirp_stacks, i);
        char *info = slirp_connection_info(s->slirp);

        g_string_append_printf(out, "Hub -1 (%s):\n%s", s->nc.name, info);
        g_free(info);
    }
    return g_string_free(out, FALSE);
}
