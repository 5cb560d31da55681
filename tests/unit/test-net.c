/* The netdev layer (queues, back-pressure, counters, link state) and virtio-net against a
 * fake back end: receive into guest buffers, transmit with checksum and TSO offloads done
 * in software, and malformed guest frames dropped and counted. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "net/net.h"
#include "net/virtio-net.h"
#include "util/log.h"
#include "util/mainloop.h"

/* ---- a fake client that records what it receives ---- */

typedef struct FakeClient {
    NetClientState nc;
    bool can_rx;
    bool refuse;              /* receive_iov returns 0 (cannot take it now) */
    GPtrArray *frames;        /* GByteArray * received */
    unsigned sent_cbs;
} FakeClient;

static ssize_t fake_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    FakeClient *f = (FakeClient *)nc;
    GByteArray *b = g_byte_array_new();

    if (f->refuse) {
        g_byte_array_unref(b);
        return 0;
    }
    for (int i = 0; i < iovcnt; i++) {
        g_byte_array_append(b, iov[i].iov_base, iov[i].iov_len);
    }
    g_ptr_array_add(f->frames, b);
    return b->len;
}

static bool fake_can_receive(NetClientState *nc)
{
    return ((FakeClient *)nc)->can_rx;
}

static void fake_cleanup(NetClientState *nc)
{
    g_ptr_array_free(((FakeClient *)nc)->frames, TRUE);
}

static const NetClientInfo fake_info = {
    .type = "user",            /* as a user back end: frames to the guest are DATA_VALID */
    .size = sizeof(FakeClient),
    .receive_iov = fake_receive,
    .can_receive = fake_can_receive,
    .cleanup = fake_cleanup,
};

static FakeClient *fake_new(const char *name, NetClientState *peer)
{
    FakeClient *f = (FakeClient *)net_client_new(&fake_info, peer, "fake", name);

    f->can_rx = true;
    f->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    return f;
}

static void fake_sent(NetClientState *nc, ssize_t len)
{
    ((FakeClient *)nc)->sent_cbs++;
}

static GByteArray *frame_at(FakeClient *f, unsigned i)
{
    g_assert_cmpuint(f->frames->len, >, i);
    return g_ptr_array_index(f->frames, i);
}

/* ---- queue and back-pressure ---- */

static void test_queue_backpressure(void)
{
    FakeClient *a = fake_new("a", NULL);
    FakeClient *b = fake_new("b", &a->nc);
    uint8_t f1[60] = { 1 }, f2[70] = { 2 }, f3[80] = { 3 };

    /* Delivered at once while b can receive. */
    g_assert_cmpint(net_send(&a->nc, f1, sizeof(f1), fake_sent), ==, sizeof(f1));
    g_assert_cmpuint(b->frames->len, ==, 1);
    g_assert_true(net_peer_can_receive(&a->nc));

    /* b is busy: frames queue in order and the sender is told to wait. */
    b->can_rx = false;
    g_assert_false(net_peer_can_receive(&a->nc));
    g_assert_cmpint(net_send(&a->nc, f2, sizeof(f2), fake_sent), ==, 0);
    g_assert_cmpint(net_send(&a->nc, f3, sizeof(f3), fake_sent), ==, 0);
    g_assert_cmpuint(net_client_queued(&b->nc), ==, 2);
    g_assert_cmpuint(b->frames->len, ==, 1);
    b->can_rx = true;
    /* Nothing overtakes the queue even when b could take it. */
    g_assert_false(net_peer_can_receive(&a->nc));

    net_client_flush(&b->nc);
    g_assert_cmpuint(net_client_queued(&b->nc), ==, 0);
    g_assert_cmpuint(b->frames->len, ==, 3);
    g_assert_cmpuint(frame_at(b, 1)->len, ==, sizeof(f2));
    g_assert_cmpuint(frame_at(b, 1)->data[0], ==, 2);
    g_assert_cmpuint(frame_at(b, 2)->data[0], ==, 3);
    g_assert_cmpuint(a->sent_cbs, ==, 2);
    g_assert_cmpuint(a->nc.stats.tx_packets, ==, 3);
    g_assert_cmpuint(b->nc.stats.rx_packets, ==, 3);
    g_assert_cmpuint(b->nc.stats.rx_bytes, ==, 60 + 70 + 80);
    g_assert_cmpuint(a->nc.stats.tx_dropped, ==, 0);

    /* A receiver that refuses for now keeps the frame queued. */
    b->refuse = true;
    g_assert_cmpint(net_send(&a->nc, f1, sizeof(f1), fake_sent), ==, 0);
    net_client_flush(&b->nc);
    g_assert_cmpuint(net_client_queued(&b->nc), ==, 1);
    b->refuse = false;
    net_client_flush(&b->nc);
    g_assert_cmpuint(net_client_queued(&b->nc), ==, 0);
    g_assert_cmpuint(b->frames->len, ==, 4);

    net_client_free(&b->nc);
    g_assert_null(a->nc.peer);
    net_client_free(&a->nc);
}

static void test_queue_limit_and_link(void)
{
    FakeClient *a = fake_new("a", NULL);
    FakeClient *b = fake_new("b", &a->nc);
    uint8_t f[64] = { 0 };

    b->nc.queue_limit = 4;
    b->can_rx = false;
    for (int i = 0; i < 10; i++) {
        net_send(&a->nc, f, sizeof(f), NULL);
    }
    /* Beyond the limit frames are dropped, and each drop is counted on both ends. */
    g_assert_cmpuint(net_client_queued(&b->nc), ==, 4);
    g_assert_cmpuint(a->nc.stats.tx_dropped, ==, 6);
    g_assert_cmpuint(b->nc.stats.rx_dropped, ==, 6);

    /* Link down: the queue is purged (counted) and new frames are dropped. */
    net_client_set_link(&b->nc, false);
    g_assert_cmpuint(net_client_queued(&b->nc), ==, 0);
    g_assert_cmpuint(b->nc.stats.rx_dropped, ==, 10);
    b->can_rx = true;
    g_assert_cmpint(net_send(&a->nc, f, sizeof(f), NULL), ==, sizeof(f));
    g_assert_cmpuint(b->frames->len, ==, 0);
    g_assert_cmpuint(a->nc.stats.tx_dropped, ==, 11);
    net_client_set_link(&b->nc, true);
    net_send(&a->nc, f, sizeof(f), NULL);
    g_assert_cmpuint(b->frames->len, ==, 1);

    /* Freeing a sender with frames queued releases them. */
    b->can_rx = false;
    net_send(&a->nc, f, sizeof(f), fake_sent);
    g_assert_cmpuint(net_client_queued(&b->nc), ==, 1);
    net_client_free(&a->nc);
    g_assert_cmpuint(net_client_queued(&b->nc), ==, 0);
    g_assert_null(b->nc.peer);
    /* With no peer, sends are dropped and counted. */
    g_assert_cmpint(net_send(&b->nc, f, sizeof(f), NULL), ==, sizeof(f));
    g_assert_cmpuint(b->nc.stats.tx_dropped, ==, 1);
    net_client_free(&b->nc);
}

static void test_macaddr(void)
{
    MACAddr m;
    char *s;

    g_assert_true(net_parse_macaddr("52:54:00:ab:CD:0f", &m));
    s = net_format_macaddr(&m);
    g_assert_cmpstr(s, ==, "52:54:00:ab:cd:0f");
    g_free(s);
    g_assert_false(net_parse_macaddr("52:54:00:ab:cd", &m));
    g_assert_false(net_parse_macaddr("52:54:00:ab:cd:0f:11", &m));
    g_assert_false(net_parse_macaddr("52:54:00:ab:cd:0g", &m));
    g_assert_false(net_parse_macaddr("", &m));
}

/* ---- virtio-net against guest memory ---- */

#define RAM_BASE 0x100000ULL
#define RAM_SIZE 0x100000ULL
#define QSIZE 256
#define RX_DESC (RAM_BASE + 0x00000)
#define RX_AVAIL (RAM_BASE + 0x01000)
#define RX_USED (RAM_BASE + 0x02000)
#define TX_DESC (RAM_BASE + 0x04000)
#define TX_AVAIL (RAM_BASE + 0x05000)
#define TX_USED (RAM_BASE + 0x06000)
#define BUFS (RAM_BASE + 0x10000)

static MemoryRegion root, ram;
static AddressSpace as;

static void put(uint64_t addr, const void *p, size_t len)
{
    g_assert_cmpint(address_space_write(&as, addr, p, len), ==, MEMTX_OK);
}

static void get(uint64_t addr, void *p, size_t len)
{
    g_assert_cmpint(address_space_read(&as, addr, p, len), ==, MEMTX_OK);
}

static uint16_t get16(uint64_t addr)
{
    uint16_t v;

    get(addr, &v, 2);
    return v;
}

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags)
{
    uint8_t d[16] = { 0 };

    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    put(table + 16 * i, d, 16);
}

static void make_avail(uint64_t avail, unsigned head)
{
    uint16_t idx = get16(avail + 2);
    uint16_t h = head;

    put(avail + 4 + 2 * (idx % QSIZE), &h, 2);
    idx++;
    put(avail + 2, &idx, 2);
}

static void no_irq(void *transport)
{
}

typedef struct NetRig {
    VirtIONet *n;
    FakeClient *backend;
} NetRig;

static NetRig rig_new(uint64_t features)
{
    static uint8_t zero[RAM_SIZE];
    NetRig r;
    VirtIODevice *vdev;

    put(RAM_BASE, zero, RAM_SIZE);
    r.backend = fake_new("n0", NULL);
    r.backend->nc.is_netdev = true;
    r.n = (VirtIONet *)object_new(&virtio_net_class.oc);
    vdev = &r.n->parent;
    vdev->as = &as;
    vdev->update_irq = no_irq;
    g_assert_true(object_property_set_str(OBJECT(r.n), "netdev", "n0", NULL));
    g_assert_true(object_realize(OBJECT(r.n), NULL));
    virtio_reset(vdev);
    g_assert_true(vdev->host_features & (1ULL << VIRTIO_NET_F_HOST_TSO4));
    virtio_set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    features |= 1ULL << VIRTIO_F_VERSION_1;
    virtio_set_guest_features_word(vdev, 0, (uint32_t)features);
    virtio_set_guest_features_word(vdev, 1, (uint32_t)(features >> 32));
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_true(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK);
    vdev->vq[0].desc = RX_DESC;
    vdev->vq[0].avail = RX_AVAIL;
    vdev->vq[0].used = RX_USED;
    vdev->vq[0].ready = true;
    vdev->vq[1].desc = TX_DESC;
    vdev->vq[1].avail = TX_AVAIL;
    vdev->vq[1].used = TX_USED;
    vdev->vq[1].ready = true;
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_DRIVER_OK);
    return r;
}

static void rig_free(NetRig r)
{
    object_unrealize(OBJECT(r.n));
    object_unref(OBJECT(r.n));
    net_client_free(&r.backend->nc);
}

/* Queues one device-readable buffer holding hdr + frame on tx and notifies. */
static void guest_tx(NetRig r, unsigned slot, const VirtioNetHdr *hdr, size_t hdr_len,
                     const uint8_t *frame, size_t len)
{
    uint64_t buf = BUFS + slot * 0x11000ULL;

    put(buf, hdr, hdr_len);
    put(buf + hdr_len, frame, len);
    put_desc(TX_DESC, slot, buf, (uint32_t)(hdr_len + len), 0);
    make_avail(TX_AVAIL, slot);
    virtio_queue_notify(&r.n->parent, 1);
}

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* An Ethernet + IPv4 + TCP frame with payload_len bytes of payload (checksums left 0). */
static size_t build_tcp4(uint8_t *f, size_t payload_len)
{
    size_t len = 14 + 20 + 20 + payload_len;

    memset(f, 0, len);
    memcpy(f, "\x52\x55\x0a\x00\x02\x02\x52\x54\x00\x12\x34\x56\x08\x00", 14);
    f[14] = 0x45;
    f[16] = (uint8_t)((len - 14) >> 8);
    f[17] = (uint8_t)(len - 14);
    f[22] = 64;
    f[23] = 6;
    memcpy(f + 26, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
    f[34] = 0x30; f[35] = 0x39; f[36] = 0x00; f[37] = 0x50;   /* ports 12345 -> 80 */
    f[38] = 0x00; f[39] = 0x00; f[40] = 0x10; f[41] = 0x00;   /* seq 4096 */
    f[46] = 0x50;                                             /* data offset 5 */
    f[47] = 0x18;                                             /* ACK PSH */
    f[48] = 0xff; f[49] = 0xff;
    for (size_t i = 0; i < payload_len; i++) {
        f[54 + i] = (uint8_t)(i * 7);
    }
    return len;
}

static uint16_t tcp4_checksum(const uint8_t *f, size_t len)
{
    uint8_t pseudo[12];
    uint32_t sum = 0;

    memcpy(pseudo, f + 26, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    pseudo[10] = (uint8_t)((len - 34) >> 8);
    pseudo[11] = (uint8_t)(len - 34);
    for (int i = 0; i < 12; i += 2) {
        sum += (uint32_t)pseudo[i] << 8 | pseudo[i + 1];
    }
    return csum(f + 34, len - 34, sum);
}

static void test_virtio_net_tx(void)
{
    NetRig r = rig_new((1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_CSUM) |
                       (1ULL << VIRTIO_NET_F_HOST_TSO4));
    static uint8_t frame[70000];
    VirtioNetHdr hdr = { 0 };
    size_t len = build_tcp4(frame, 100);

    /* A plain frame: the back end gets it without the header. */
    guest_tx(r, 0, &hdr, 12, frame, len);
    g_assert_cmpuint(r.backend->frames->len, ==, 1);
    g_assert_cmpuint(frame_at(r.backend, 0)->len, ==, len);
    g_assert_cmpmem(frame_at(r.backend, 0)->data, len, frame, len);
    g_assert_cmpuint(get16(TX_USED + 2), ==, 1);

    /* NEEDS_CSUM: the device completes the TCP checksum the driver seeded. */
    {
        uint8_t pseudo[12];
        uint32_t sum = 0;

        memcpy(pseudo, frame + 26, 8);
        pseudo[8] = 0; pseudo[9] = 6;
        pseudo[10] = (uint8_t)((len - 34) >> 8); pseudo[11] = (uint8_t)(len - 34);
        for (int i = 0; i < 12; i += 2) {
            sum += (uint32_t)pseudo[i] << 8 | pseudo[i + 1];
        }
        while (sum >> 16) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        frame[50] = (uint8_t)(sum >> 8);
        frame[51] = (uint8_t)sum;
    }
    hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    hdr.csum_start = 34;
    hdr.csum_offset = 16;
    guest_tx(r, 1, &hdr, 12, frame, len);
    g_assert_cmpuint(r.backend->frames->len, ==, 2);
    {
        GByteArray *b = frame_at(r.backend, 1);
        uint16_t got = (uint16_t)(b->data[50] << 8 | b->data[51]);

        b->data[50] = b->data[51] = 0;
        g_assert_cmpuint(got, ==, tcp4_checksum(b->data, b->len));
    }

    /* TSO: 3000 bytes with an MSS of 1000 become three checksummed segments. */
    len = build_tcp4(frame, 3000);
    hdr = (VirtioNetHdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                          .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 54,
                          .gso_size = 1000, .csum_start = 34, .csum_offset = 16 };
    guest_tx(r, 2, &hdr, 12, frame, len);
    g_assert_cmpuint(r.backend->frames->len, ==, 5);
    for (unsigned i = 0; i < 3; i++) {
        GByteArray *b = frame_at(r.backend, 2 + i);
        uint32_t seq = (uint32_t)b->data[38] << 24 | b->data[39] << 16 | b->data[40] << 8 |
                       b->data[41];
        uint16_t tcp_sum = (uint16_t)(b->data[50] << 8 | b->data[51]);
        uint16_t ip_sum = (uint16_t)(b->data[24] << 8 | b->data[25]);

        g_assert_cmpuint(b->len, ==, 54 + 1000);
        g_assert_cmpuint((b->data[16] << 8 | b->data[17]), ==, 1040);
        g_assert_cmpuint(seq, ==, 4096 + 1000 * i);
        g_assert_cmpmem(b->data + 54, 1000, frame + 54 + 1000 * i, 1000);
        /* PSH only on the last segment. */
        g_assert_cmpuint(b->data[47] & 0x08, ==, i == 2 ? 0x08 : 0);
        b->data[24] = b->data[25] = 0;
        g_assert_cmpuint(ip_sum, ==, csum(b->data + 14, 20, 0));
        b->data[50] = b->data[51] = 0;
        g_assert_cmpuint(tcp_sum, ==, tcp4_checksum(b->data, b->len));
    }
    g_assert_cmpuint(r.n->tx_malformed, ==, 0);
    rig_free(r);
}

static void test_virtio_net_tx_malformed(void)
{
    NetRig r = rig_new((1ULL << VIRTIO_NET_F_CSUM));
    static uint8_t frame[2048];
    VirtioNetHdr hdr = { 0 };
    size_t len = build_tcp4(frame, 10);
    unsigned used = 0;

    /* Shorter than the header. */
    guest_tx(r, 0, &hdr, 4, frame, 0);
    /* Header only, no Ethernet header behind it. */
    guest_tx(r, 1, &hdr, 12, frame, 6);
    /* csum_start beyond the frame. */
    hdr = (VirtioNetHdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 2000,
                          .csum_offset = 16 };
    guest_tx(r, 2, &hdr, 12, frame, len);
    /* csum_offset pointing past the end. */
    hdr.csum_start = 34;
    hdr.csum_offset = 0xfff0;
    guest_tx(r, 3, &hdr, 12, frame, len);
    /* TSO the driver did not negotiate. */
    hdr = (VirtioNetHdr){ .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 100 };
    guest_tx(r, 4, &hdr, 12, frame, len);
    /* An unknown GSO type. */
    hdr = (VirtioNetHdr){ .gso_type = 0x33, .gso_size = 100 };
    guest_tx(r, 5, &hdr, 12, frame, len);
    used = get16(TX_USED + 2);

    /* Every bad frame was returned to the driver, counted, and not sent on. */
    g_assert_cmpuint(used, ==, 6);
    g_assert_cmpuint(r.n->tx_malformed, ==, 6);
    g_assert_cmpuint(r.n->nic->stats.tx_dropped, ==, 6);
    g_assert_cmpuint(r.backend->frames->len, ==, 0);
    g_assert_false(r.n->parent.broken);

    /* The device still works. */
    hdr = (VirtioNetHdr){ 0 };
    guest_tx(r, 6, &hdr, 12, frame, len);
    g_assert_cmpuint(r.backend->frames->len, ==, 1);
    rig_free(r);
}

static void test_virtio_net_rx(void)
{
    NetRig r = rig_new((1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_GUEST_CSUM));
    uint8_t frame[3000], got[3000];
    VirtioNetHdr hdr;
    uint32_t used_len;

    for (size_t i = 0; i < sizeof(frame); i++) {
        frame[i] = (uint8_t)(i * 13);
    }
    /* No receive buffers yet: the frame waits in the queue, the back end is told. */
    g_assert_cmpint(net_send(&r.backend->nc, frame, 1500, fake_sent), ==, 0);
    g_assert_cmpuint(net_client_queued(r.n->nic), ==, 1);

    /* The driver posts buffers of 2048 bytes and kicks: the frame lands in one. */
    for (unsigned i = 0; i < 4; i++) {
        put_desc(RX_DESC, i, BUFS + 0x1000 * i, 2048, VRING_DESC_F_WRITE);
        make_avail(RX_AVAIL, i);
    }
    virtio_queue_notify(&r.n->parent, 0);
    g_assert_cmpuint(net_client_queued(r.n->nic), ==, 0);
    g_assert_cmpuint(r.backend->sent_cbs, ==, 1);
    g_assert_cmpuint(get16(RX_USED + 2), ==, 1);
    get(RX_USED + 8, &used_len, 4);
    g_assert_cmpuint(used_len, ==, 12 + 1500);
    get(BUFS, &hdr, 12);
    g_assert_cmpuint(hdr.num_buffers, ==, 1);
    g_assert_cmpuint(hdr.flags, ==, VIRTIO_NET_HDR_F_DATA_VALID);
    get(BUFS + 12, got, 1500);
    g_assert_cmpmem(got, 1500, frame, 1500);

    /* A frame larger than one buffer is merged across two. */
    g_assert_cmpint(net_send(&r.backend->nc, frame, 3000, fake_sent), ==, 3000);
    g_assert_cmpuint(get16(RX_USED + 2), ==, 3);
    get(BUFS + 0x1000, &hdr, 12);
    g_assert_cmpuint(hdr.num_buffers, ==, 2);
    get(BUFS + 0x1000 + 12, got, 2036);
    get(BUFS + 0x2000, got + 2036, 3000 - 2036);
    g_assert_cmpmem(got, 3000, frame, 3000);

    /* One buffer left: a frame needing two waits instead of being cut. */
    g_assert_cmpint(net_send(&r.backend->nc, frame, 3000, fake_sent), ==, 0);
    g_assert_cmpuint(get16(RX_USED + 2), ==, 3);
    put_desc(RX_DESC, 4, BUFS + 0x4000, 2048, VRING_DESC_F_WRITE);
    make_avail(RX_AVAIL, 4);
    virtio_queue_notify(&r.n->parent, 0);
    g_assert_cmpuint(get16(RX_USED + 2), ==, 5);
    g_assert_cmpuint(net_client_queued(r.n->nic), ==, 0);

    /* A read-only receive buffer is a driver bug: the device needs a reset, no crash. */
    put_desc(RX_DESC, 5, BUFS + 0x5000, 2048, 0);
    make_avail(RX_AVAIL, 5);
    net_send(&r.backend->nc, frame, 100, NULL);
    g_assert_true(r.n->parent.broken);
    g_assert_cmpuint(r.n->nic->stats.rx_dropped, >=, 1);
    rig_free(r);
}

int main(int argc, char **argv)
{
    char *log_path;
    int ret;

    g_test_init(&argc, &argv, NULL);
    /* The device runs transmit work inline on the main loop thread: be that thread. */
    mainloop_init();
    memory_region_init_container(&root, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&ram, "ram", RAM_SIZE, NULL));
    memory_region_add_subregion(&root, RAM_BASE, &ram);
    address_space_init(&as, &root, "test");
    log_mask = LOG_GUEST_ERROR;
    log_path = g_strdup_printf("%s/vessel-test-net-%d.log", g_get_tmp_dir(), (int)getpid());
    g_assert_true(log_set_file(log_path, NULL));

    g_test_add_func("/net/queue/backpressure", test_queue_backpressure);
    g_test_add_func("/net/queue/limit-and-link", test_queue_limit_and_link);
    g_test_add_func("/net/macaddr", test_macaddr);
    g_test_add_func("/net/virtio-net/tx-offloads", test_virtio_net_tx);
    g_test_add_func("/net/virtio-net/tx-malformed", test_virtio_net_tx_malformed);
    g_test_add_func("/net/virtio-net/rx", test_virtio_net_rx);
    ret = g_test_run();
    unlink(log_path);
    g_free(log_path);
    return ret;
}
