#ifndef NET_VIRTIO_NET_H
#define NET_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/virtio/virtio.h"
#include "net/net.h"

/*
 * virtio-net (virtio 1.2, section 5.1), transport independent: "virtio-net-device" plugs
 * into a virtio-mmio slot; a PCI proxy embeds the same VirtIONet and class.
 */

#define VIRTIO_ID_NET 1

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM           0
#define VIRTIO_NET_F_GUEST_CSUM     1
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_GUEST_TSO4     7
#define VIRTIO_NET_F_GUEST_TSO6     8
#define VIRTIO_NET_F_GUEST_ECN      9
#define VIRTIO_NET_F_HOST_TSO4      11
#define VIRTIO_NET_F_HOST_TSO6      12
#define VIRTIO_NET_F_HOST_ECN       13
#define VIRTIO_NET_F_MRG_RXBUF      15
#define VIRTIO_NET_F_STATUS         16

#define VIRTIO_NET_S_LINK_UP        1

/* struct virtio_net_hdr (5.1.6): 10 bytes, 12 with num_buffers (VERSION_1 or MRG_RXBUF). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_UDP      3
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_ECN      0x80

typedef struct VirtioNetHdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
} __attribute__((packed)) VirtioNetHdr;

/* config space: mac[6], status, max_virtqueue_pairs */
#define VIRTIO_NET_CONFIG_SIZE 10

typedef struct VirtIONet {
    VirtIODevice parent;
    MACAddr mac;               /* property "mac" */
    NetClientState *peer;      /* property "netdev": the back end */
    NetClientState *nic;       /* our client, peered with the back end */
    bool mrg_rxbuf, status, csum, guest_csum, host_tso4, host_tso6, guest_tso4, guest_tso6;
    uint16_t rx_queue_size, tx_queue_size;
    VirtQueue *rx_vq, *tx_vq;
    size_t hdr_len;            /* virtio_net_hdr size the driver uses (10 or 12) */
    bool peer_vnet_hdr;        /* frames to/from the peer carry a 12-byte header */
    bool tx_waiting;           /* the peer queued our last frame: wait for its sent callback */
    bool tx_busy;              /* a transmit burst runs (perhaps with the big lock released) */
    pthread_cond_t tx_idle;    /* signalled when tx_busy drops */
    uint64_t tx_malformed;     /* guest frames dropped as malformed */
    uint64_t offloads_applied; /* guest features last passed to the peer's set_offload */
    uint8_t *tx_buf;           /* one guest frame, gathered for the offload code */
    uint8_t *seg_buf;          /* one TSO segment being built */
    struct Timer *tx_timer;    /* runs queued transmit work on the main loop */
    const char *model;         /* NIC model for info network; NULL: the class name */
} VirtIONet;

extern const VirtioDeviceClass virtio_net_class;

#endif
