/*
 * virtio-net-device (virtio 1.2, 5.1): one receive and one transmit queue, MAC and link
 * status in config space, mergeable receive buffers. Checksum and TSO offloads are passed
 * through to a back end that takes virtio_net_hdr (tap vnet_hdr=on); for other back ends
 * the device completes checksums and segments TSO frames itself.
 */
#include <arpa/inet.h>
#include <string.h>
#include <glib.h>
#include "net/virtio-net.h"
#include "hw/core/qdev.h"
#include "util/bql.h"
#include "util/log.h"
#include "util/mainloop.h"
#include "util/timer.h"

#define VIRTIO_NET_QUEUE_SIZE 256
/* Transmit frames sent in one go before the rest of the main loop gets a turn. */
#define VIRTIO_NET_TX_BURST 256
/* Most guest memory pieces a transmitted frame is written from without a copy. */
#define VIRTIO_NET_TX_IOV 64
/* Largest frame a driver may hand over (64 KiB TSO payload plus headers). */
#define VIRTIO_NET_MAX_FRAME (65536 + 256)
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define IPPROTO_TCP_NUM 6
#define IPPROTO_UDP_NUM 17
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_CWR 0x80

/* The NIC client: a NetClientState followed by a pointer back to the device. */
typedef struct VirtioNetClient {
    NetClientState nc;
    VirtIONet *n;
} VirtioNetClient;

static const NetClientInfo virtio_net_nic_info;

static VirtIONet *nic_to_virtio_net(NetClientState *nc)
{
    return ((VirtioNetClient *)nc)->n;
}

/* Size of the header the driver puts in front of each frame. */
static size_t virtio_net_hdr_len(VirtIONet *n)
{
    VirtIODevice *vdev = &n->parent;

    return virtio_has_feature(vdev, VIRTIO_F_VERSION_1) ||
           virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF) ? 12 : 10;
}

/* Passes the accepted offloads to a vnet_hdr back end when they changed. */
static void virtio_net_apply_offloads(VirtIONet *n)
{
    VirtIODevice *vdev = &n->parent;
    NetClientState *peer = n->nic->peer;

    if (!n->peer_vnet_hdr || !peer || !peer->info->set_offload ||
        n->offloads_applied == vdev->guest_features) {
        return;
    }
    n->offloads_applied = vdev->guest_features;
    peer->info->set_offload(peer, virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM),
                            virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO4),
                            virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO6),
                            virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_ECN));
}

/* ---- receive: back end -> guest ---- */

static bool virtio_net_can_receive(NetClientState *nc)
{
    VirtIONet *n = nic_to_virtio_net(nc);
    VirtIODevice *vdev = &n->parent;

    return (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !vdev->broken && n->rx_vq->ready;
}

/* Gives popped but unused elements back to the available ring, newest first. */
static void virtio_net_unpop(VirtQueue *vq, VirtQueueElement **elems, unsigned count)
{
    for (unsigned i = count; i-- > 0;) {
        vq->last_avail_idx--;
        vq->inuse--;
        g_free(elems[i]);
    }
}

static ssize_t virtio_net_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    VirtIONet *n = nic_to_virtio_net(nc);
    VirtIODevice *vdev = &n->parent;
    VirtQueue *vq = n->rx_vq;
    size_t hdr_len = virtio_net_hdr_len(n);
    bool mrg = virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF);
    VirtioNetHdr hdr = { 0 };
    size_t frame_size = 0, in_off = 0, total;
    VirtQueueElement *elems[VIRTQUEUE_MAX_SIZE];
    uint32_t lens[VIRTQUEUE_MAX_SIZE];
    unsigned nelem = 0;
    struct iovec frame[64];
    int nframe;

    virtio_net_apply_offloads(n);
    for (int i = 0; i < iovcnt; i++) {
        frame_size += iov[i].iov_len;
    }
    if (n->peer_vnet_hdr) {
        /* The back end's header describes the frame: take it over. */
        if (frame_size < sizeof(hdr)) {
            return -1;
        }
        iov_to_buf(iov, iovcnt, 0, &hdr, sizeof(hdr));
        in_off = sizeof(hdr);
        frame_size -= sizeof(hdr);
    } else if (virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM) &&
               !strcmp(nc->peer->info->type, "user")) {
        /* The user stack computed every checksum itself. */
        hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    hdr.num_buffers = 0;
    nframe = iov_slice(iov, iovcnt, in_off, frame_size, frame, G_N_ELEMENTS(frame));
    if (nframe < 0 || (nframe == 0 && frame_size)) {
        return -1;
    }
    total = hdr_len + frame_size;

    size_t done = 0;
    while (done < total) {
        VirtQueueElement *elem;
        size_t room, chunk, w = 0;

        if (nelem == G_N_ELEMENTS(elems) || !(elem = virtqueue_pop(vq, sizeof(*elem)))) {
            /* Not enough buffers for the whole frame: wait for the driver to add some. */
            virtio_net_unpop(vq, elems, nelem);
            return vdev->broken ? -1 : 0;
        }
        elems[nelem] = elem;
        room = iov_size(elem->in_sg, elem->in_num);
        if (nelem == 0 && room < hdr_len) {
            virtio_error(vdev, "rx buffer of %zu bytes cannot hold the %zu-byte header",
                         room, hdr_len);
            virtqueue_detach_element(vq, elem);
            g_free(elem);
            return -1;
        }
        if (nelem == 0) {
            w = hdr_len;        /* the header is written last, once num_buffers is known */
        }
        chunk = MIN(room - w, total - done - w);
        for (size_t copied = 0; copied < chunk;) {
            uint8_t tmp[2048];
            size_t step = MIN(sizeof(tmp), chunk - copied);
            size_t src = done + w + copied - hdr_len;

            iov_to_buf(frame, nframe, src, tmp, step);
            iov_from_buf(elem->in_sg, elem->in_num, w + copied, tmp, step);
            copied += step;
        }
        lens[nelem] = (uint32_t)(w + chunk);
        done += w + chunk;
        nelem++;
        if (!mrg && done < total) {
            /* Without mergeable buffers the frame must fit one buffer: drop it. */
            log_mask_printf(LOG_GUEST_ERROR, "virtio-net: rx buffer of %zu bytes too small "
                            "for a %zu-byte frame; dropped\n", room, total);
            virtqueue_push(vq, elem, 0);
            g_free(elem);
            virtio_notify(vdev, vq);
            return -1;
        }
    }
    hdr.num_buffers = htole16((uint16_t)nelem);
    iov_from_buf(elems[0]->in_sg, elems[0]->in_num, 0, &hdr, hdr_len);
    for (unsigned i = 0; i < nelem; i++) {
        virtqueue_push(vq, elems[i], lens[i]);
        g_free(elems[i]);
    }
    virtio_notify(vdev, vq);
    return frame_size + in_off;
}

/* The driver added receive buffers. */
static void virtio_net_handle_rx(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = (VirtIONet *)vdev;

    net_client_flush(n->nic);
}

/* ---- transmit: guest -> back end ---- */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
        if (sum & 0x80000000u) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
    }
    if (i < len) {
        sum += (uint32_t)p[i] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* NEEDS_CSUM: sums from csum_start to the end (the driver seeded the pseudo header). */
static bool virtio_net_complete_csum(uint8_t *buf, size_t len, const VirtioNetHdr *hdr)
{
    size_t start = le16toh(hdr->csum_start), off = le16toh(hdr->csum_offset);

    if (start >= len || off + 2 > len - start) {
        return false;
    }
    put_be16(buf + start + off, csum_fold(csum_add(0, buf + start, len - start)));
    return true;
}

/* Offsets of the IP and TCP headers of a TSO frame; false when it is not one we can cut. */
static bool virtio_net_tso_parse(const uint8_t *buf, size_t len, bool v6, size_t *ip_off,
                                 size_t *tcp_off, size_t *hdrs)
{
    size_t l3 = ETH_HLEN;
    uint16_t proto;

    if (len < ETH_HLEN) {
        return false;
    }
    proto = get_be16(buf + 12);
    if (proto == ETH_P_8021Q) {
        if (len < ETH_HLEN + 4) {
            return false;
        }
        proto = get_be16(buf + 16);
        l3 += 4;
    }
    if (!v6) {
        if (proto != ETH_P_IP || len < l3 + 20 || (buf[l3] >> 4) != 4 ||
            buf[l3 + 9] != IPPROTO_TCP_NUM) {
            return false;
        }
        *tcp_off = l3 + (buf[l3] & 15) * 4u;
    } else {
        if (proto != ETH_P_IPV6 || len < l3 + 40 || (buf[l3] >> 4) != 6 ||
            buf[l3 + 6] != IPPROTO_TCP_NUM) {
            return false;
        }
        *tcp_off = l3 + 40;
    }
    if (len < *tcp_off + 20) {
        return false;
    }
    *ip_off = l3;
    *hdrs = *tcp_off + (buf[*tcp_off + 12] >> 4) * 4u;
    return *hdrs >= *tcp_off + 20 && *hdrs <= len;
}

static void virtio_net_tx_done(NetClientState *nc, ssize_t len);

/* Sends one frame to the peer; false when the peer queued it (wait for tx_done). */
static bool virtio_net_send(VirtIONet *n, const struct iovec *iov, int cnt)
{
    return net_send_iov(n->nic, iov, cnt, virtio_net_tx_done) != 0;
}

/* Cuts a TSO frame into MSS-sized TCP segments with their own headers and checksums. */
static bool virtio_net_tso_send(VirtIONet *n, uint8_t *buf, size_t len, const VirtioNetHdr *hdr,
                                bool *sent_all)
{
    bool v6 = (hdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV6;
    size_t ip_off, tcp_off, hdrs, mss = le16toh(hdr->gso_size);
    uint8_t *seg = n->seg_buf;
    uint32_t seq;
    uint16_t ip_id;
    uint8_t flags;

    if (!virtio_net_tso_parse(buf, len, v6, &ip_off, &tcp_off, &hdrs) || mss == 0 ||
        hdrs >= len) {
        return false;
    }
    seq = (uint32_t)get_be16(buf + tcp_off + 4) << 16 | get_be16(buf + tcp_off + 6);
    ip_id = get_be16(buf + ip_off + 4);
    flags = buf[tcp_off + 13];
    *sent_all = true;
    for (size_t pos = hdrs, i = 0; pos < len; pos += mss, i++) {
        size_t chunk = MIN(mss, len - pos), seg_len = hdrs + chunk;
        uint8_t *ip = seg + ip_off, *tcp = seg + tcp_off;
        uint32_t sum, s = seq + (uint32_t)(pos - hdrs);
        struct iovec iov = { .iov_base = seg, .iov_len = seg_len };

        memcpy(seg, buf, hdrs);
        memcpy(seg + hdrs, buf + pos, chunk);
        if (!v6) {
            put_be16(ip + 2, (uint16_t)(seg_len - ip_off));
            put_be16(ip + 4, (uint16_t)(ip_id + i));
            put_be16(ip + 10, 0);
            put_be16(ip + 10, csum_fold(csum_add(0, ip, tcp_off - ip_off)));
            sum = csum_add(0, ip + 12, 8);
        } else {
            put_be16(ip + 4, (uint16_t)(seg_len - tcp_off));
            sum = csum_add(0, ip + 8, 32);
        }
        sum += IPPROTO_TCP_NUM + (uint32_t)(seg_len - tcp_off);
        put_be16(tcp + 4, (uint16_t)(s >> 16));
        put_be16(tcp + 6, (uint16_t)s);
        tcp[13] = flags;
        if (pos + chunk < len) {
            tcp[13] &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
        }
        if (i > 0) {
            tcp[13] &= (uint8_t)~TCP_FLAG_CWR;
        }
        put_be16(tcp + 16, 0);
        put_be16(tcp + 16, csum_fold(csum_add(sum, tcp, seg_len - tcp_off)));
        if (!virtio_net_send(n, &iov, 1)) {
            *sent_all = false;
        }
    }
    return true;
}

/* Gives a transmitted element back to the driver once its frame was copied out or written. */
static void virtio_net_tx_release(VirtIONet *n, VirtQueueElement *elem)
{
    virtqueue_push(n->tx_vq, elem, 0);
    g_free(elem);
    virtio_notify(&n->parent, n->tx_vq);
}

/* Hands one guest frame (header already split off) to the peer, doing offloads the peer
 * cannot, and releases elem: a vnet_hdr peer gets the frame straight from guest memory (the
 * net layer copies it if it queues), the others a copy, made before their receive runs.
 * Returns false when the frame is malformed. *sent is false when the peer queued. */
static bool virtio_net_tx_frame(VirtIONet *n, VirtQueueElement *elem, size_t hdr_len,
                                bool *sent)
{
    VirtioNetHdr hdr = { 0 };
    size_t out = iov_size(elem->out_sg, elem->out_num), len;
    struct iovec iov[2];

    *sent = true;
    if (out < hdr_len || out - hdr_len > VIRTIO_NET_MAX_FRAME || out - hdr_len < ETH_HLEN) {
        log_mask_printf(LOG_GUEST_ERROR, "virtio-net: malformed tx frame of %zu bytes "
                        "dropped\n", out);
        virtio_net_tx_release(n, elem);
        return false;
    }
    iov_to_buf(elem->out_sg, elem->out_num, 0, &hdr, hdr_len);
    len = out - hdr_len;
    if (n->peer_vnet_hdr) {
        /* The peer takes the frame as it is: written straight from guest memory. */
        struct iovec frame[VIRTIO_NET_TX_IOV + 1];
        int cnt = iov_slice(elem->out_sg, elem->out_num, hdr_len, len, frame + 1,
                            VIRTIO_NET_TX_IOV);

        if (cnt < 0) {
            iov_to_buf(elem->out_sg, elem->out_num, hdr_len, n->tx_buf, len);
            frame[1] = (struct iovec){ .iov_base = n->tx_buf, .iov_len = len };
            cnt = 1;
        }
        hdr.num_buffers = 0;
        frame[0] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
        *sent = virtio_net_send(n, frame, cnt + 1);
        virtio_net_tx_release(n, elem);
        return true;
    }
    iov_to_buf(elem->out_sg, elem->out_num, hdr_len, n->tx_buf, len);
    virtio_net_tx_release(n, elem);
    if ((hdr.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE) {
        uint8_t gso = hdr.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

        if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 &&
             !virtio_has_feature(&n->parent, VIRTIO_NET_F_HOST_TSO4)) ||
            (gso == VIRTIO_NET_HDR_GSO_TCPV6 &&
             !virtio_has_feature(&n->parent, VIRTIO_NET_F_HOST_TSO6)) ||
            (gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6)) {
            return false;
        }
        return virtio_net_tso_send(n, n->tx_buf, len, &hdr, sent);
    }
    if ((hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
        !virtio_net_complete_csum(n->tx_buf, len, &hdr)) {
        return false;
    }
    iov[0] = (struct iovec){ .iov_base = n->tx_buf, .iov_len = len };
    *sent = virtio_net_send(n, iov, 1);
    return true;
}

/* True when elem holds a TSO frame: segmenting it in software is work worth moving off
 * the vCPU. */
static bool virtio_net_tx_is_gso(VirtQueueElement *elem, size_t hdr_len)
{
    VirtioNetHdr hdr = { 0 };

    iov_to_buf(elem->out_sg, elem->out_num, 0, &hdr, hdr_len);
    return (hdr.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE;
}

/* Hands the transmit queue to the main loop; the driver stops notifying meanwhile. */
static void virtio_net_tx_defer(VirtIONet *n)
{
    virtio_queue_set_notification(n->tx_vq, false);
    timer_mod(n->tx_timer, clock_ns());
}

/* Sends up to VIRTIO_NET_TX_BURST frames the driver queued and returns how many were taken;
 * after a full burst the rest is left to the main loop. On a vCPU (defer_heavy) small frames
 * go at once, for latency, but a TSO frame and the rest of the queue go to the main loop, so
 * the guest runs on meanwhile: software segmentation for a peer without vnet_hdr, and for a
 * tap the host's receive path and the wake-up of the receiving process, which on the vCPU
 * thread got it rescheduled on return from the write. Stops early when the peer queued a frame
 * (tx_waiting: notifications stay off until tx_done). */
static unsigned virtio_net_flush_tx(VirtIONet *n, bool defer_heavy)
{
    VirtIODevice *vdev = &n->parent;
    VirtQueue *vq = n->tx_vq;
    size_t hdr_len = virtio_net_hdr_len(n);
    unsigned count = 0;

    if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        return 0;
    }
    if (n->tx_busy) {
        return 0;
    }
    n->tx_busy = true;
    virtio_net_apply_offloads(n);
    while (!n->tx_waiting && count < VIRTIO_NET_TX_BURST) {
        VirtQueueElement *elem = virtqueue_pop(vq, sizeof(*elem));
        bool sent;

        if (!elem) {
            if (vdev->broken || virtio_queue_empty(vq)) {
                break;
            }
            continue;
        }
        if (defer_heavy && virtio_net_tx_is_gso(elem, hdr_len)) {
            virtio_net_unpop(vq, &elem, 1);
            virtio_net_tx_defer(n);
            break;
        }
        if (!n->nic->peer || n->nic->link_down) {
            n->nic->stats.tx_dropped++;
            virtio_net_tx_release(n, elem);
        } else if (!virtio_net_tx_frame(n, elem, hdr_len, &sent)) {
            n->tx_malformed++;
            n->nic->stats.tx_dropped++;
        } else if (!sent) {
            n->tx_waiting = true;
            virtio_queue_set_notification(vq, false);
        }
        count++;
    }
    if (count == VIRTIO_NET_TX_BURST && !n->tx_waiting) {
        virtio_net_tx_defer(n);
    }
    n->tx_busy = false;
    pthread_cond_broadcast(&n->tx_idle);
    return count;
}

/* Main loop: drains the transmit queue with driver notifications off, in bursts that let
 * the rest of the main loop run between them, then turns notifications back on and looks
 * once more for frames queued meanwhile. */
static void virtio_net_tx_timer(void *opaque)
{
    VirtIONet *n = opaque;
    VirtIODevice *vdev = &n->parent;
    VirtQueue *vq = n->tx_vq;

    for (;;) {
        unsigned count = virtio_net_flush_tx(n, false);

        if (n->tx_waiting || vdev->broken || !(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
            return;
        }
        if (count == VIRTIO_NET_TX_BURST) {
            return;
        }
        virtio_queue_set_notification(vq, true);
        if (virtio_queue_empty(vq)) {
            return;
        }
        virtio_queue_set_notification(vq, false);
    }
}

static void virtio_net_tx_done(NetClientState *nc, ssize_t len)
{
    VirtIONet *n = nic_to_virtio_net(nc);

    if (n->tx_waiting && net_client_queued(nc->peer) == 0) {
        n->tx_waiting = false;
        virtio_net_tx_defer(n);
    }
}

/* The driver queued frames: sent from here unless the main loop owns the queue (a burst
 * pending or running, or the peer's queue full), when the notification raced its disabling;
 * a running burst looks at the queue again before it turns notifications back on. */
static void virtio_net_handle_tx(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = (VirtIONet *)vdev;

    if (!timer_pending(n->tx_timer) && !n->tx_waiting && !n->tx_busy) {
        virtio_net_flush_tx(n, !mainloop_is_main_thread());
    }
}

/* ---- config, features, link ---- */

static uint64_t virtio_net_get_features(VirtIODevice *vdev)
{
    VirtIONet *n = (VirtIONet *)vdev;
    uint64_t f = 1ULL << VIRTIO_NET_F_MAC;

    if (n->status) {
        f |= 1ULL << VIRTIO_NET_F_STATUS;
    }
    if (n->mrg_rxbuf) {
        f |= 1ULL << VIRTIO_NET_F_MRG_RXBUF;
    }
    /* Transmit offloads: the back end's, or done here in software. */
    if (n->csum) {
        f |= 1ULL << VIRTIO_NET_F_CSUM;
        f |= (uint64_t)n->host_tso4 << VIRTIO_NET_F_HOST_TSO4;
        f |= (uint64_t)n->host_tso6 << VIRTIO_NET_F_HOST_TSO6;
    }
    /* Receive offloads need a back end that marks its frames. */
    if (n->guest_csum) {
        f |= 1ULL << VIRTIO_NET_F_GUEST_CSUM;
        if (n->peer_vnet_hdr) {
            f |= (uint64_t)n->guest_tso4 << VIRTIO_NET_F_GUEST_TSO4;
            f |= (uint64_t)n->guest_tso6 << VIRTIO_NET_F_GUEST_TSO6;
        }
    }
    return f;
}

static void virtio_net_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIONet *n = (VirtIONet *)vdev;
    uint16_t status = n->nic->link_down ? 0 : VIRTIO_NET_S_LINK_UP;
    uint16_t pairs = 1;

    memcpy(config, n->mac.a, 6);
    status = htole16(status);
    pairs = htole16(pairs);
    memcpy(config + 6, &status, 2);
    memcpy(config + 8, &pairs, 2);
}

static void virtio_net_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIONet *n = (VirtIONet *)vdev;

    /* Legacy drivers without VIRTIO_NET_F_CTRL_MAC_ADDR set the MAC through config. */
    if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1) &&
        virtio_has_feature(vdev, VIRTIO_NET_F_MAC)) {
        memcpy(n->mac.a, config, 6);
    }
}

static void virtio_net_link_status_changed(NetClientState *nc)
{
    VirtIONet *n = nic_to_virtio_net(nc);

    if (n->status) {
        virtio_notify_config(&n->parent);
    }
}

static void virtio_net_device_reset(VirtIODevice *vdev)
{
    VirtIONet *n = (VirtIONet *)vdev;

    /* A vCPU resetting while the main loop writes a frame waits for the burst to end. */
    while (n->tx_busy) {
        bql_cond_wait(&n->tx_idle);
    }
    n->tx_waiting = false;
    n->offloads_applied = 0;
    timer_del(n->tx_timer);
}

/* ---- life cycle ---- */

static const NetClientInfo virtio_net_nic_info = {
    .type = "nic",
    .size = sizeof(VirtioNetClient),
    .receive_iov = virtio_net_receive,
    .can_receive = virtio_net_can_receive,
    .link_status_changed = virtio_net_link_status_changed,
};

/* The object the user created: the device itself, or the transport wrapper (virtio-net-pci)
 * that embeds it as its "virtio-backend" child. */
static Object *virtio_net_front_object(VirtIONet *n)
{
    Object *obj = OBJECT(n);

    return obj->parent && obj->name && !strcmp(obj->name, "virtio-backend") ? obj->parent : obj;
}

/* QEMU's NIC names: the device id, else "<model>.<N>" counting NICs of that model. */
static char *virtio_net_client_name(VirtIONet *n, const char *model)
{
    Object *obj = virtio_net_front_object(n);
    GPtrArray *all = net_clients();
    unsigned count = 0;

    if (obj->parent && obj->parent == qdev_peripheral_container(false)) {
        return g_strdup(obj->name);
    }
    for (guint i = 0; i < all->len; i++) {
        NetClientState *nc = g_ptr_array_index(all, i);

        if (nc->info == &virtio_net_nic_info && !strcmp(nc->model, model)) {
            count++;
        }
    }
    return g_strdup_printf("%s.%u", model, count);
}

static bool virtio_net_realize(Object *obj, Error **errp)
{
    VirtIONet *n = (VirtIONet *)obj;
    VirtIODevice *vdev = &n->parent;
    const char *model = n->model ? n->model : virtio_net_front_object(n)->cls->name;
    static const MACAddr zero;
    char *name, *mac;

    if (n->peer && n->peer->peer) {
        error_setg(errp, "Property '%s.netdev' can't take value '%s', it's in use",
                   obj->cls->name, n->peer->name);
        return false;
    }
    if (n->rx_queue_size < 256 || n->rx_queue_size > VIRTQUEUE_MAX_SIZE ||
        (n->rx_queue_size & (n->rx_queue_size - 1))) {
        error_setg(errp, "Invalid rx_queue_size (= %u), must be a power of 2 between 256 "
                   "and %d", n->rx_queue_size, VIRTQUEUE_MAX_SIZE);
        return false;
    }
    if (n->tx_queue_size < 256 || n->tx_queue_size > VIRTQUEUE_MAX_SIZE ||
        (n->tx_queue_size & (n->tx_queue_size - 1))) {
        error_setg(errp, "Invalid tx_queue_size (= %u), must be a power of 2 between 256 "
                   "and %d", n->tx_queue_size, VIRTQUEUE_MAX_SIZE);
        return false;
    }
    if (!memcmp(&n->mac, &zero, sizeof(zero))) {
        net_macaddr_default(&n->mac);
    }
    n->peer_vnet_hdr = n->peer && n->peer->info->has_vnet_hdr &&
                       n->peer->info->has_vnet_hdr(n->peer);
    name = virtio_net_client_name(n, model);
    n->nic = net_client_new(&virtio_net_nic_info, n->peer, model, name);
    ((VirtioNetClient *)n->nic)->n = n;
    g_free(name);
    mac = net_format_macaddr(&n->mac);
    net_client_set_info_str(n->nic, "model=%s,macaddr=%s", model, mac);
    g_free(mac);
    n->tx_buf = g_malloc(VIRTIO_NET_MAX_FRAME);
    n->seg_buf = g_malloc(VIRTIO_NET_MAX_FRAME);
    n->tx_timer = timer_new(virtio_net_tx_timer, n);
    bql_cond_init(&n->tx_idle);

    virtio_init(vdev, VIRTIO_ID_NET, VIRTIO_NET_CONFIG_SIZE);
    virtio_add_queue(vdev, n->rx_queue_size, virtio_net_handle_rx);
    virtio_add_queue(vdev, n->tx_queue_size, virtio_net_handle_tx);
    /* Adding a queue may move the array: take the pointers once all exist. */
    n->rx_vq = &vdev->vq[0];
    n->tx_vq = &vdev->vq[1];
    return true;
}

static void virtio_net_unrealize(Object *obj)
{
    VirtIONet *n = (VirtIONet *)obj;

    virtio_cleanup(&n->parent);
    if (n->nic) {
        net_client_free(n->nic);
        n->nic = NULL;
    }
    n->peer = NULL;
    timer_del(n->tx_timer);
    timer_free(n->tx_timer);
    n->tx_timer = NULL;
    pthread_cond_destroy(&n->tx_idle);
    g_free(n->tx_buf);
    g_free(n->seg_buf);
    n->tx_buf = n->seg_buf = NULL;
}

static const Property virtio_net_props[] = {
    DEFINE_PROP_MACADDR("mac", VirtIONet, mac),
    DEFINE_PROP_NETDEV("netdev", VirtIONet, peer),
    DEFINE_PROP_BOOL("mrg_rxbuf", VirtIONet, mrg_rxbuf, true),
    DEFINE_PROP_BOOL("status", VirtIONet, status, true),
    DEFINE_PROP_BOOL("csum", VirtIONet, csum, true),
    DEFINE_PROP_BOOL("guest_csum", VirtIONet, guest_csum, true),
    DEFINE_PROP_BOOL("host_tso4", VirtIONet, host_tso4, true),
    DEFINE_PROP_BOOL("host_tso6", VirtIONet, host_tso6, true),
    DEFINE_PROP_BOOL("guest_tso4", VirtIONet, guest_tso4, true),
    DEFINE_PROP_BOOL("guest_tso6", VirtIONet, guest_tso6, true),
    DEFINE_PROP_UINT16("rx_queue_size", VirtIONet, rx_queue_size, VIRTIO_NET_QUEUE_SIZE),
    DEFINE_PROP_UINT16("tx_queue_size", VirtIONet, tx_queue_size, VIRTIO_NET_QUEUE_SIZE),
    DEFINE_PROP_END,
};

const VirtioDeviceClass virtio_net_class = {
    .oc = {
        .name = "virtio-net-device",
        .parent = &virtio_device_class.oc,
        .instance_size = sizeof(VirtIONet),
        .props = virtio_net_props,
        .desc = "Virtio network device",
        .user_creatable = true,
        .bus_type = "virtio-bus",
        .realize = virtio_net_realize,
        .unrealize = virtio_net_unrealize,
    },
    .device_id = VIRTIO_ID_NET,
    .get_features = virtio_net_get_features,
    .get_config = virtio_net_get_config,
    .set_config = virtio_net_set_config,
    .reset = virtio_net_device_reset,
};

static void __attribute__((constructor)) virtio_net_register(void)
{
    object_class_register(&virtio_net_class.oc);
}
