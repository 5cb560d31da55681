#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <glib.h>
#include "util/error.h"
#include "util/option.h"

/*
 * The netdev layer. A network client is one end of a point-to-point link: a back end
 * (-netdev user|tap|socket|stream|dgram) or a NIC front end (virtio-net). Each client has a
 * peer; frames sent by one are delivered to the other. A receiver that cannot take a frame
 * now gets it queued, and the sender is told (net_send returns 0) so it stops reading from
 * its source until its sent callback runs: frames are only dropped when a queue limit is
 * reached, and every drop is counted. Everything runs with the big lock held.
 */

typedef struct MACAddr {
    uint8_t a[6];
} MACAddr;

typedef struct NetClientState NetClientState;
typedef struct NetFilter NetFilter;

/* A frame queued by the sender was delivered (or purged): the sender may send again. */
typedef void NetSentCb(NetClientState *sender, ssize_t len);

typedef struct NetClientInfo {
    const char *type;         /* "nic", "user", "tap", "socket", "stream", "dgram" */
    size_t size;              /* of the structure that embeds NetClientState first */
    /* Takes one frame from the peer: its size when taken, 0 when it cannot take it now
     * (it stays queued until net_client_flush), -1 when it is refused (dropped, counted).
     * On the main thread it may release the big lock while writing, so vCPUs keep running:
     * a sender keeps its own transmit path closed to them until net_send_iov returns. */
    ssize_t (*receive_iov)(NetClientState *nc, const struct iovec *iov, int iovcnt);
    /* False while no frame can be taken; NULL means always. */
    bool (*can_receive)(NetClientState *nc);
    /* nc->link_down changed. */
    void (*link_status_changed)(NetClientState *nc);
    /* Frees what the client owns (not the structure itself). */
    void (*cleanup)(NetClientState *nc);
    /* Frames carry a 12-byte virtio_net_hdr in front (tap vnet_hdr=on); NULL means no. */
    bool (*has_vnet_hdr)(NetClientState *nc);
    /* Tells the back end which offloads the guest accepted (TUNSETOFFLOAD). */
    void (*set_offload)(NetClientState *nc, bool csum, bool tso4, bool tso6, bool ecn);
} NetClientInfo;

/* Per-client counters as seen from this client: rx from its peer, tx to its peer. */
typedef struct NetStats {
    uint64_t rx_packets, rx_bytes, rx_dropped;
    uint64_t tx_packets, tx_bytes, tx_dropped;
} NetStats;

struct NetClientState {
    const NetClientInfo *info;
    char *name;               /* netdev id, or the NIC's name ("virtio-net-device.0") */
    char *model;              /* back end type or NIC model, for info network */
    NetClientState *peer;
    bool is_netdev;           /* created by -netdev/-nic/netdev_add (owned by net.c) */
    bool link_down;
    char *info_str;           /* "type=user,net=10.0.2.0,restrict=off" (g_free'd) */
    NetStats stats;
    GQueue queue;             /* frames from the peer waiting until this client can take them */
    unsigned queue_limit;     /* frames queued beyond this are dropped (counted) */
    bool flushing;            /* net_client_flush is running */
    GPtrArray *filters;       /* NetFilter * attached to this netdev */
};

/* Default number of frames a receiver queues before drops start. */
#define NET_QUEUE_LIMIT 1024

/* Creates a client; info->size bytes are allocated and zeroed. peer may be NULL. */
NetClientState *net_client_new(const NetClientInfo *info, NetClientState *peer,
                               const char *model, const char *name);
/* Unlinks nc from its peer, drops its queue (telling senders), runs cleanup and frees it. */
void net_client_free(NetClientState *nc);
/* Links two clients (both must be unpeered). */
void net_client_set_peer(NetClientState *a, NetClientState *b);
void net_client_set_info_str(NetClientState *nc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Sends a frame from nc to its peer. Returns the size when delivered or dropped (link down,
 * no peer, queue full: counted), 0 when it was queued: then, when sent_cb is given, the
 * sender should stop reading until sent_cb runs.
 */
ssize_t net_send_iov(NetClientState *nc, const struct iovec *iov, int iovcnt,
                     NetSentCb *sent_cb);
ssize_t net_send(NetClientState *nc, const void *buf, size_t len, NetSentCb *sent_cb);
/* nc can take frames again: delivers what its queue holds, in order, until it refuses. */
void net_client_flush(NetClientState *nc);
/* True when nc's peer would take a frame now (nothing queued ahead, can_receive). */
bool net_peer_can_receive(NetClientState *nc);
/* Number of frames queued for delivery to nc. */
unsigned net_client_queued(const NetClientState *nc);

/* A pure TCP ACK over IPv4 (no payload, only the ACK flag): its flow (addresses and
 * ports) and ack number. */
bool net_frame_pure_ack(const uint8_t *f, size_t len, uint8_t flow[12], uint32_t *ack);
/* True when f is a pure ACK that the later pure ACK of the same flow makes redundant (it
 * acknowledges more); back ends drop such frames of one burst before delivering it. */
bool net_frame_ack_superseded(const uint8_t *f, size_t len, const uint8_t *later,
                              size_t later_len);

/* Sets the link of nc (and of its peer when nc is a netdev and the peer a NIC). */
void net_client_set_link(NetClientState *nc, bool up);
/* The client named name: a netdev id or a NIC name; NULL when absent. */
NetClientState *net_client_find(const char *name);
NetClientState *net_netdev_find(const char *id);
/* All clients in creation order (do not free). */
GPtrArray *net_clients(void);

/* Creates a back end from -netdev syntax ("user,id=n0,..."); "help" lists the types. */
bool net_netdev_add_str(const char *str, Error **errp);
/* As above from parsed options (type under "type", id under "id"). */
bool net_netdev_add_opts(Opts *opts, Error **errp);
/* Deletes the netdev id (netdev_del); its NIC peer stays, with nothing connected. */
bool net_netdev_del(const char *id, Error **errp);
/* Queues a -nic option: creates its netdev now, returns the device string the board
 * should create after init in *device (g_free it), or NULL with model=none. */
bool net_nic_option(const char *str, char **device, Error **errp);

/* A NIC's MAC: "52:54:00:12:34:56" with the last byte counting NICs without mac=. */
void net_macaddr_default(MACAddr *mac);
bool net_parse_macaddr(const char *str, MACAddr *mac);
char *net_format_macaddr(const MACAddr *mac);

/* A filter-dump object (-object filter-dump,id=,netdev=,file=[,maxlen=]). */
bool net_filter_dump_add(Opts *opts, Error **errp);
/* Records a frame passing through nc in its filters (pcap), in nc's direction. */
void net_filter_dump_frame(NetClientState *nc, const struct iovec *iov, int iovcnt);
/* The id of a filter (for info network). */
const char *net_filter_id(const NetFilter *f);
/* Closes nc's filters (the netdev goes away). */
void net_filters_free(NetClientState *nc);

#endif
