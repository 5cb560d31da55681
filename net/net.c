/* The netdev layer: clients, peers, queues with back-pressure, counters, -netdev and -nic. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "net/net.h"
#include "net/backends.h"
#include "hw/core/object.h"
#include "hw/core/qdev.h"

/* A frame waiting in its receiver's queue. */
typedef struct NetPacket {
    NetClientState *sender;
    NetSentCb *sent_cb;
    size_t size;
    uint8_t data[];
} NetPacket;

/* Every client, in creation order. */
static GPtrArray *all_clients;
/* How many -nic options have created a netdev ("__org.qemu.nicN"). */
static unsigned nic_option_count;
/* How many NICs took a default MAC. */
static unsigned default_mac_count;

GPtrArray *net_clients(void)
{
    if (!all_clients) {
        all_clients = g_ptr_array_new();
    }
    return all_clients;
}

NetClientState *net_client_new(const NetClientInfo *info, NetClientState *peer,
                               const char *model, const char *name)
{
    NetClientState *nc = g_malloc0(info->size);

    nc->info = info;
    nc->model = g_strdup(model);
    nc->name = g_strdup(name);
    nc->queue_limit = NET_QUEUE_LIMIT;
    g_queue_init(&nc->queue);
    if (peer) {
        net_client_set_peer(nc, peer);
    }
    g_ptr_array_add(net_clients(), nc);
    return nc;
}

void net_client_set_peer(NetClientState *a, NetClientState *b)
{
    a->peer = b;
    b->peer = a;
}

void net_client_set_info_str(NetClientState *nc, const char *fmt, ...)
{
    va_list ap;

    g_free(nc->info_str);
    va_start(ap, fmt);
    nc->info_str = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

/* Drops queued frames of q (all when sender is NULL, else only sender's), counting them
 * and releasing senders that wait for them. */
static void net_queue_purge(NetClientState *nc, NetClientState *sender)
{
    GList *l = nc->queue.head;

    while (l) {
        GList *next = l->next;
        NetPacket *p = l->data;

        if (!sender || p->sender == sender) {
            g_queue_delete_link(&nc->queue, l);
            nc->stats.rx_dropped++;
            if (p->sender != sender) {
                p->sender->stats.tx_dropped++;
                if (p->sent_cb) {
                    p->sent_cb(p->sender, 0);
                }
            }
            g_free(p);
        }
        l = next;
    }
}

void net_client_free(NetClientState *nc)
{
    NetClientState *peer = nc->peer;

    if (peer) {
        net_queue_purge(peer, nc);
        peer->peer = NULL;
        nc->peer = NULL;
    }
    net_queue_purge(nc, NULL);
    if (nc->info->cleanup) {
        nc->info->cleanup(nc);
    }
    net_filters_free(nc);
    g_ptr_array_remove(net_clients(), nc);
    g_free(nc->name);
    g_free(nc->model);
    g_free(nc->info_str);
    g_free(nc);
}

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
    size_t n = 0;

    for (int i = 0; i < iovcnt; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

static bool net_client_can_receive(NetClientState *nc)
{
    return !nc->info->can_receive || nc->info->can_receive(nc);
}

bool net_peer_can_receive(NetClientState *nc)
{
    NetClientState *peer = nc->peer;

    return peer && g_queue_is_empty(&peer->queue) && net_client_can_receive(peer);
}

unsigned net_client_queued(const NetClientState *nc)
{
    return nc->queue.length;
}

/* Counts one frame of size bytes that went from sender to receiver. */
static void net_count_delivered(NetClientState *sender, NetClientState *receiver, size_t size)
{
    sender->stats.tx_packets++;
    sender->stats.tx_bytes += size;
    receiver->stats.rx_packets++;
    receiver->stats.rx_bytes += size;
}

static void net_count_dropped(NetClientState *sender, NetClientState *receiver)
{
    sender->stats.tx_dropped++;
    if (receiver) {
        receiver->stats.rx_dropped++;
    }
}

ssize_t net_send_iov(NetClientState *nc, const struct iovec *iov, int iovcnt,
                     NetSentCb *sent_cb)
{
    NetClientState *peer = nc->peer;
    size_t size = iov_total(iov, iovcnt);

    if (!peer || nc->link_down || peer->link_down) {
        net_count_dropped(nc, peer);
        return size;
    }
    if (nc->filters) {
        net_filter_dump_frame(nc, iov, iovcnt);
    }
    if (peer->filters) {
        net_filter_dump_frame(peer, iov, iovcnt);
    }
    if (g_queue_is_empty(&peer->queue) && net_client_can_receive(peer)) {
        ssize_t ret = peer->info->receive_iov(peer, iov, iovcnt);

        if (ret > 0) {
            net_count_delivered(nc, peer, size);
            return ret;
        }
        if (ret < 0) {
            net_count_dropped(nc, peer);
            return size;
        }
    }
    if (peer->queue.length >= peer->queue_limit) {
        net_count_dropped(nc, peer);
        return size;
    }
    NetPacket *p = g_malloc(sizeof(*p) + size);
    size_t off = 0;

    p->sender = nc;
    p->sent_cb = sent_cb;
    p->size = size;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(p->data + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    g_queue_push_tail(&peer->queue, p);
    return 0;
}

ssize_t net_send(NetClientState *nc, const void *buf, size_t len, NetSentCb *sent_cb)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

    return net_send_iov(nc, &iov, 1, sent_cb);
}

void net_client_flush(NetClientState *nc)
{
    if (nc->flushing) {
        return;
    }
    nc->flushing = true;
    while (!g_queue_is_empty(&nc->queue) && net_client_can_receive(nc)) {
        NetPacket *p = g_queue_peek_head(&nc->queue);
        struct iovec iov = { .iov_base = p->data, .iov_len = p->size };
        ssize_t ret = nc->info->receive_iov(nc, &iov, 1);

        if (ret == 0) {
            break;
        }
        g_queue_pop_head(&nc->queue);
        if (ret > 0) {
            net_count_delivered(p->sender, nc, p->size);
        } else {
            net_count_dropped(p->sender, nc);
        }
        if (p->sent_cb) {
            p->sent_cb(p->sender, ret);
        }
        g_free(p);
    }
    nc->flushing = false;
}

static void net_client_link_changed(NetClientState *nc, bool up)
{
    nc->link_down = !up;
    if (!up) {
        net_queue_purge(nc, NULL);
    }
    if (nc->info->link_status_changed) {
        nc->info->link_status_changed(nc);
    }
}

void net_client_set_link(NetClientState *nc, bool up)
{
    net_client_link_changed(nc, up);
    /* A netdev's link is also what the guest sees: the NIC follows (as QEMU does). */
    if (nc->is_netdev && nc->peer && !nc->peer->is_netdev) {
        net_client_link_changed(nc->peer, up);
    }
}

NetClientState *net_client_find(const char *name)
{
    GPtrArray *a = net_clients();

    for (guint i = 0; i < a->len; i++) {
        NetClientState *nc = g_ptr_array_index(a, i);

        if (nc->name && !strcmp(nc->name, name)) {
            return nc;
        }
    }
    return NULL;
}

NetClientState *net_netdev_find(const char *id)
{
    GPtrArray *a = net_clients();

    for (guint i = 0; i < a->len; i++) {
        NetClientState *nc = g_ptr_array_index(a, i);

        if (nc->is_netdev && !strcmp(nc->name, id)) {
            return nc;
        }
    }
    return NULL;
}

bool net_frame_pure_ack(const uint8_t *f, size_t len, uint8_t flow[12], uint32_t *ack)
{
    size_t ihl, thl;

    if (len < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4 ||
        f[23] != 6) {
        return false;
    }
    ihl = (f[14] & 15) * 4u;
    if (ihl < 20 || len < 14 + ihl + 20) {
        return false;
    }
    thl = (f[14 + ihl + 12] >> 4) * 4u;
    if ((size_t)((f[16] << 8) | f[17]) != ihl + thl || f[14 + ihl + 13] != 0x10) {
        return false;
    }
    memcpy(flow, f + 26, 8);                /* addresses */
    memcpy(flow + 8, f + 14 + ihl, 4);      /* ports */
    *ack = (uint32_t)f[14 + ihl + 8] << 24 | f[14 + ihl + 9] << 16 | f[14 + ihl + 10] << 8 |
           f[14 + ihl + 11];
    return true;
}

bool net_frame_ack_superseded(const uint8_t *f, size_t len, const uint8_t *later,
                              size_t later_len)
{
    uint8_t flow[12], flow2[12];
    uint32_t ack, ack2;

    return net_frame_pure_ack(f, len, flow, &ack) &&
           net_frame_pure_ack(later, later_len, flow2, &ack2) &&
           !memcmp(flow, flow2, sizeof(flow)) && (int32_t)(ack2 - ack) > 0;
}

/* ---- -netdev ---- */

typedef struct NetdevType {
    const char *name;
    NetdevInitFn *init;
} NetdevType;

static const NetdevType netdev_types[] = {
    { "socket", net_init_socket },
    { "stream", net_init_stream },
    { "dgram", net_init_dgram },
    { "tap", net_init_tap },
    { "user", net_init_user },
};

static bool netdev_id_valid(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_') {
            return false;
        }
    }
    return true;
}

/* Creates a netdev; id may be reserved ("__org.qemu.nic0") when internal is set. */
static bool netdev_create(Opts *opts, bool internal, Error **errp)
{
    const char *type = opts_get(opts, "type");
    const char *id = opts_get(opts, "id");
    const NetdevType *t = NULL;

    if (!type) {
        error_setg(errp, "Parameter 'type' is missing");
        return false;
    }
    if (!strcmp(type, "help")) {
        printf("Available netdev backend types:\n");
        for (size_t i = 0; i < G_N_ELEMENTS(netdev_types); i++) {
            printf("%s\n", netdev_types[i].name);
        }
        return true;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(netdev_types); i++) {
        if (!strcmp(netdev_types[i].name, type)) {
            t = &netdev_types[i];
        }
    }
    if (!t) {
        error_setg(errp, "Parameter 'type' does not accept value '%s'", type);
        return false;
    }
    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        return false;
    }
    if (!internal && !netdev_id_valid(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        return false;
    }
    if (net_netdev_find(id)) {
        error_setg(errp, "Duplicate ID '%s' for netdev", id);
        return false;
    }
    if (!t->init(opts, id, errp)) {
        return false;
    }
    if (!opts_check_all_used(opts, NULL, errp)) {
        net_netdev_del(id, NULL);
        return false;
    }
    return true;
}

bool net_netdev_add_opts(Opts *opts, Error **errp)
{
    return netdev_create(opts, false, errp);
}

bool net_netdev_add_str(const char *str, Error **errp)
{
    Opts *opts = opts_parse(str, "type", errp);
    bool ok;

    if (!opts) {
        return false;
    }
    ok = netdev_create(opts, false, errp);
    opts_free(opts);
    return ok;
}

bool net_netdev_del(const char *id, Error **errp)
{
    NetClientState *nc = net_netdev_find(id);

    if (!nc) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", id);
        return false;
    }
    net_client_free(nc);
    return true;
}

/* ---- -nic ---- */

/* The NIC model a board gets when -nic names none: virtio-net-pci on a PCI board, else
 * virtio-net-device on a virtio-mmio board. */
static const char *net_default_nic_model(void)
{
    if (object_class_by_name("virtio-net-pci") && bus_find_free("PCI")) {
        return "virtio-net-pci";
    }
    return "virtio-net-device";
}

typedef struct NicSplit {
    GString *netdev;
    const char *model;
    const char *mac;
} NicSplit;

static void nic_split_one(const char *key, const char *value, void *opaque)
{
    NicSplit *s = opaque;

    if (!strcmp(key, "model")) {
        s->model = value;
    } else if (!strcmp(key, "mac")) {
        s->mac = value;
    } else if (strcmp(key, "type")) {
        char **parts = g_strsplit(value, ",", -1);
        char *v = g_strjoinv(",,", parts);

        g_strfreev(parts);
        g_string_append_printf(s->netdev, ",%s=%s", key, v);
        g_free(v);
    }
}

bool net_nic_option(const char *str, char **device, Error **errp)
{
    Opts *opts = opts_parse(str, "type", errp);
    NicSplit s = { 0 };
    const char *type;
    char *id;
    bool ok = false;

    *device = NULL;
    if (!opts) {
        return false;
    }
    type = opts_get(opts, "type");
    if (type && !strcmp(type, "none")) {
        opts_free(opts);
        return true;
    }
    if (opts_has(opts, "id")) {
        error_setg(errp, "Invalid parameter 'id'");
        goto out;
    }
    id = g_strdup_printf("__org.qemu.nic%u", nic_option_count);
    s.netdev = g_string_new(NULL);
    g_string_append_printf(s.netdev, "type=%s,id=%s", type ? type : "user", id);
    opts_foreach(opts, nic_split_one, &s);
    if (s.model && (!strcmp(s.model, "help") || !strcmp(s.model, "?"))) {
        printf("Available NIC models:\n%s\n", net_default_nic_model());
        g_string_free(s.netdev, TRUE);
        g_free(id);
        ok = true;
        goto out;
    }
    {
        Opts *nd = opts_parse(s.netdev->str, NULL, errp);

        ok = nd && netdev_create(nd, true, errp);
        opts_free(nd);
    }
    g_string_free(s.netdev, TRUE);
    if (ok) {
        nic_option_count++;
        *device = g_strdup_printf("%s,netdev=%s%s%s", s.model ? s.model : net_default_nic_model(),
                                  id, s.mac ? ",mac=" : "", s.mac ? s.mac : "");
    }
    g_free(id);
out:
    opts_free(opts);
    return ok;
}

/* ---- MAC addresses ---- */

void net_macaddr_default(MACAddr *mac)
{
    static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

    memcpy(mac->a, base, 6);
    mac->a[5] = (uint8_t)(base[5] + default_mac_count++);
}

bool net_parse_macaddr(const char *str, MACAddr *mac)
{
    for (int i = 0; i < 6; i++) {
        if (!g_ascii_isxdigit(str[0]) || !g_ascii_isxdigit(str[1]) ||
            (i < 5 ? (str[2] != ':' && str[2] != '-') : str[2] != '\0')) {
            return false;
        }
        mac->a[i] = (uint8_t)(g_ascii_xdigit_value(str[0]) << 4 | g_ascii_xdigit_value(str[1]));
        str += 3;
    }
    return true;
}

char *net_format_macaddr(const MACAddr *mac)
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac->a[0], mac->a[1], mac->a[2],
                           mac->a[3], mac->a[4], mac->a[5]);
}
