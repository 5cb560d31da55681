/* virtio-blk-device (virtio 1.2, section 5.2): a block device on a virtio bus, backed by a
 * -drive; every request goes to the block layer asynchronously and completes on the main
 * loop. */
#include <endian.h>
#include <string.h>
#include <glib.h>
#include "hw/virtio/virtio.h"
#include "block/block-backend.h"
#include "util/bql.h"
#include "util/mainloop.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX        2
#define VIRTIO_BLK_F_RO             5
#define VIRTIO_BLK_F_BLK_SIZE       6
#define VIRTIO_BLK_F_FLUSH          9
#define VIRTIO_BLK_F_TOPOLOGY       10
#define VIRTIO_BLK_F_MQ             12
#define VIRTIO_BLK_F_DISCARD        13
#define VIRTIO_BLK_F_WRITE_ZEROES   14

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN             0
#define VIRTIO_BLK_T_OUT            1
#define VIRTIO_BLK_T_FLUSH          4
#define VIRTIO_BLK_T_GET_ID         8
#define VIRTIO_BLK_T_DISCARD        11
#define VIRTIO_BLK_T_WRITE_ZEROES   13
#define VIRTIO_BLK_S_OK             0
#define VIRTIO_BLK_S_IOERR          1
#define VIRTIO_BLK_S_UNSUPP         2
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1

#define VIRTIO_BLK_ID_BYTES         20
#define VIRTIO_BLK_SECTOR           512ULL
#define VIRTIO_BLK_HDR_SIZE         16
#define VIRTIO_BLK_SEG_SIZE         16      /* struct virtio_blk_discard_write_zeroes */
#define VIRTIO_BLK_MAX_QUEUES       64
#define VIRTIO_BLK_MAX_BLOCK_SIZE   (2 * 1024 * 1024)

/* struct virtio_blk_config offsets (5.2.4). */
enum {
    CFG_CAPACITY = 0,
    CFG_SIZE_MAX = 8,
    CFG_SEG_MAX = 12,
    CFG_BLK_SIZE = 20,
    CFG_PHYSICAL_BLOCK_EXP = 24,
    CFG_ALIGNMENT_OFFSET = 25,
    CFG_MIN_IO_SIZE = 26,
    CFG_OPT_IO_SIZE = 28,
    CFG_NUM_QUEUES = 34,
    CFG_MAX_DISCARD_SECTORS = 36,
    CFG_MAX_DISCARD_SEG = 40,
    CFG_DISCARD_SECTOR_ALIGNMENT = 44,
    CFG_MAX_WRITE_ZEROES_SECTORS = 48,
    CFG_MAX_WRITE_ZEROES_SEG = 52,
    CFG_WRITE_ZEROES_MAY_UNMAP = 56,
    CFG_SIZE = 60,
};

typedef struct VirtIOBlock {
    VirtIODevice vdev;
    BlockBackend *blk;              /* property "drive" */
    char *serial;
    uint64_t logical_block_size;
    uint64_t physical_block_size;
    bool discard;
    bool write_zeroes;
    uint32_t max_discard_sectors;
    uint32_t max_write_zeroes_sectors;
    uint16_t num_queues;
    uint16_t queue_size;
    bool seg_max_adjust;
    uint64_t capacity;              /* in 512-byte sectors */
    bool read_only;
    unsigned inflight;              /* requests submitted and not completed */
    pthread_cond_t drained;         /* signalled when inflight drops to 0 */
} VirtIOBlock;

typedef struct VirtIOBlockReq {
    VirtQueueElement elem;          /* first: virtqueue_pop allocates the request */
    VirtIOBlock *s;
    VirtQueue *vq;
    uint8_t *status;                /* the last device-writable byte */
    uint32_t in_len;                /* bytes written for the used ring */
    struct iovec *iov;              /* the data part of the element */
    unsigned niov;
} VirtIOBlockReq;

static void virtio_blk_complete(VirtIOBlockReq *req, uint8_t status)
{
    VirtIOBlock *s = req->s;
    *req->status = status;
    virtqueue_push(req->vq, &req->elem, req->in_len);
    virtio_notify(&s->vdev, req->vq);
    if (--s->inflight == 0) {
        pthread_cond_broadcast(&s->drained);
    }
    g_free(req->iov);
    g_free(req);
}

/* Block layer completion: a host-side failure reaches the guest as VIRTIO_BLK_S_IOERR. */
static void virtio_blk_io_done(void *opaque, int ret)
{
    virtio_blk_complete(opaque, ret == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
}

/* True when [sector, sector + bytes) is block aligned and inside the disk. */
static bool virtio_blk_range_ok(VirtIOBlock *s, uint64_t sector, uint64_t bytes)
{
    uint64_t lbs_sectors = s->logical_block_size / VIRTIO_BLK_SECTOR;
    if ((sector & (lbs_sectors - 1)) || (bytes % s->logical_block_size)) {
        return false;
    }
    return sector <= s->capacity && bytes / VIRTIO_BLK_SECTOR <= s->capacity - sector;
}

/* DISCARD and WRITE_ZEROES: one segment {sector, num_sectors, flags} after the header. */
static void virtio_blk_discard_wz(VirtIOBlockReq *req, uint32_t type)
{
    VirtIOBlock *s = req->s;
    bool discard = type == VIRTIO_BLK_T_DISCARD;
    uint8_t seg[VIRTIO_BLK_SEG_SIZE];
    size_t len = iov_size(req->iov, req->niov);

    if ((discard && !s->discard) || (!discard && !s->write_zeroes)) {
        virtio_blk_complete(req, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    if (len != VIRTIO_BLK_SEG_SIZE) {
        /* max_discard_seg and max_write_zeroes_seg are 1. */
        virtio_blk_complete(req, len > VIRTIO_BLK_SEG_SIZE ? VIRTIO_BLK_S_UNSUPP
                                                            : VIRTIO_BLK_S_IOERR);
        return;
    }
    iov_to_buf(req->iov, req->niov, 0, seg, sizeof(seg));
    uint64_t sector;
    uint32_t num, flags;
    memcpy(&sector, seg, 8);
    memcpy(&num, seg + 8, 4);
    memcpy(&flags, seg + 12, 4);
    sector = le64toh(sector);
    num = le32toh(num);
    flags = le32toh(flags);
    uint32_t allowed = discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
    if (flags & ~allowed) {
        virtio_blk_complete(req, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    uint32_t max = discard ? s->max_discard_sectors : s->max_write_zeroes_sectors;
    uint64_t bytes = num * VIRTIO_BLK_SECTOR;
    if (s->read_only || num > max || !virtio_blk_range_ok(s, sector, bytes)) {
        virtio_blk_complete(req, VIRTIO_BLK_S_IOERR);
        return;
    }
    if (discard) {
        if (!blk_discard_enabled(s->blk)) {
            /* discard=ignore on the drive: the hint is dropped, as QEMU does. */
            virtio_blk_complete(req, VIRTIO_BLK_S_OK);
            return;
        }
        blk_aio_pdiscard(s->blk, sector * VIRTIO_BLK_SECTOR, bytes, virtio_blk_io_done, req);
    } else {
        bool unmap = (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) && blk_discard_enabled(s->blk);
        blk_aio_pwrite_zeroes(s->blk, sector * VIRTIO_BLK_SECTOR, bytes, unmap,
                              virtio_blk_io_done, req);
    }
}

static void virtio_blk_get_id(VirtIOBlockReq *req)
{
    char id[VIRTIO_BLK_ID_BYTES] = { 0 };
    if (req->s->serial) {
        memcpy(id, req->s->serial, MIN(strlen(req->s->serial), sizeof(id)));
    }
    size_t len = MIN(iov_size(req->iov, req->niov), sizeof(id));
    iov_from_buf(req->iov, req->niov, 0, id, len);
    req->in_len = len + 1;
    virtio_blk_complete(req, VIRTIO_BLK_S_OK);
}

/* Parses and submits one request; malformed framing breaks the device. */
static void virtio_blk_handle_request(VirtIOBlock *s, VirtQueue *vq, VirtIOBlockReq *req)
{
    VirtQueueElement *elem = &req->elem;
    size_t out_size = iov_size(elem->out_sg, elem->out_num);
    size_t in_size = iov_size(elem->in_sg, elem->in_num);
    uint8_t hdr[VIRTIO_BLK_HDR_SIZE];

    if (out_size < VIRTIO_BLK_HDR_SIZE || in_size < 1) {
        virtio_error(&s->vdev, "virtio-blk request %u without %s", elem->index,
                     in_size < 1 ? "a status byte" : "a complete header");
        virtqueue_detach_element(vq, elem);
        g_free(req);
        return;
    }
    struct iovec *last = &elem->in_sg[elem->in_num - 1];
    req->s = s;
    req->vq = vq;
    req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
    req->in_len = 1;
    iov_to_buf(elem->out_sg, elem->out_num, 0, hdr, sizeof(hdr));
    uint32_t type;
    uint64_t sector;
    memcpy(&type, hdr, 4);
    memcpy(&sector, hdr + 8, 8);
    type = le32toh(type);
    sector = le64toh(sector);

    /* The data: after the header in the readable part, or before the status byte. */
    bool reads_data = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
    const struct iovec *src = reads_data ? elem->in_sg : elem->out_sg;
    unsigned nsrc = reads_data ? elem->in_num : elem->out_num;
    size_t skip = reads_data ? 0 : VIRTIO_BLK_HDR_SIZE;
    size_t data_len = reads_data ? in_size - 1 : out_size - VIRTIO_BLK_HDR_SIZE;
    req->iov = g_new(struct iovec, nsrc ? nsrc : 1);
    req->niov = iov_slice(src, nsrc, skip, data_len, req->iov, nsrc);
    s->inflight++;

    switch (type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        if (!virtio_blk_range_ok(s, sector, data_len) ||
            (type == VIRTIO_BLK_T_OUT && s->read_only)) {
            virtio_blk_complete(req, VIRTIO_BLK_S_IOERR);
        } else if (data_len == 0) {
            virtio_blk_complete(req, VIRTIO_BLK_S_OK);
        } else if (type == VIRTIO_BLK_T_IN) {
            req->in_len = data_len + 1;
            blk_aio_preadv(s->blk, sector * VIRTIO_BLK_SECTOR, req->iov, req->niov,
                           virtio_blk_io_done, req);
        } else {
            blk_aio_pwritev(s->blk, sector * VIRTIO_BLK_SECTOR, req->iov, req->niov,
                            virtio_blk_io_done, req);
        }
        return;
    case VIRTIO_BLK_T_FLUSH:
        blk_aio_flush(s->blk, virtio_blk_io_done, req);
        return;
    case VIRTIO_BLK_T_GET_ID:
        virtio_blk_get_id(req);
        return;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        virtio_blk_discard_wz(req, type);
        return;
    default:
        virtio_blk_complete(req, VIRTIO_BLK_S_UNSUPP);
        return;
    }
}

static void virtio_blk_handle_output(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;
    do {
        VirtIOBlockReq *req;
        while ((req = virtqueue_pop(vq, sizeof(VirtIOBlockReq)))) {
            virtio_blk_handle_request(s, vq, req);
        }
    } while (!vdev->broken && !virtio_queue_empty(vq));
}

static uint64_t virtio_blk_get_features(VirtIODevice *vdev)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;
    uint64_t f = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
                 (1ULL << VIRTIO_BLK_F_TOPOLOGY) | (1ULL << VIRTIO_BLK_F_FLUSH);
    if (s->read_only) {
        f |= 1ULL << VIRTIO_BLK_F_RO;
    }
    if (s->discard) {
        f |= 1ULL << VIRTIO_BLK_F_DISCARD;
    }
    if (s->write_zeroes) {
        f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
    }
    if (s->num_queues > 1) {
        f |= 1ULL << VIRTIO_BLK_F_MQ;
    }
    return f;
}

static void cfg_put16(uint8_t *cfg, unsigned off, uint16_t v)
{
    v = htole16(v);
    memcpy(cfg + off, &v, 2);
}

static void cfg_put32(uint8_t *cfg, unsigned off, uint32_t v)
{
    v = htole32(v);
    memcpy(cfg + off, &v, 4);
}

static void virtio_blk_get_config(VirtIODevice *vdev, uint8_t *cfg)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;
    uint64_t cap = htole64(s->capacity);
    unsigned exp = 0;
    while ((s->logical_block_size << exp) < s->physical_block_size) {
        exp++;
    }
    memset(cfg, 0, CFG_SIZE);
    memcpy(cfg + CFG_CAPACITY, &cap, 8);
    cfg_put32(cfg, CFG_SIZE_MAX, 0);
    cfg_put32(cfg, CFG_SEG_MAX, s->seg_max_adjust ? s->queue_size - 2 : 128 - 2);
    cfg_put32(cfg, CFG_BLK_SIZE, s->logical_block_size);
    cfg[CFG_PHYSICAL_BLOCK_EXP] = exp;
    cfg[CFG_ALIGNMENT_OFFSET] = 0;
    cfg_put16(cfg, CFG_MIN_IO_SIZE, 0);
    cfg_put32(cfg, CFG_OPT_IO_SIZE, 0);
    cfg_put16(cfg, CFG_NUM_QUEUES, s->num_queues);
    cfg_put32(cfg, CFG_MAX_DISCARD_SECTORS, s->max_discard_sectors);
    cfg_put32(cfg, CFG_MAX_DISCARD_SEG, 1);
    cfg_put32(cfg, CFG_DISCARD_SECTOR_ALIGNMENT, s->logical_block_size / VIRTIO_BLK_SECTOR);
    cfg_put32(cfg, CFG_MAX_WRITE_ZEROES_SECTORS, s->max_write_zeroes_sectors);
    cfg_put32(cfg, CFG_MAX_WRITE_ZEROES_SEG, 1);
    cfg[CFG_WRITE_ZEROES_MAY_UNMAP] = 1;
}

/* Finishes every request in flight (their used entries land before the rings go). A
 * vCPU thread (the driver writing Status 0) waits for the main loop to complete them. */
static void virtio_blk_reset(VirtIODevice *vdev)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;
    if (!s->blk || !s->inflight) {
        return;
    }
    if (mainloop_is_main_thread()) {
        blk_drain(s->blk);
    } else {
        while (s->inflight) {
            bql_cond_wait(&s->drained);
        }
    }
}

static bool virtio_blk_check_block_size(const char *name, uint64_t v, Error **errp)
{
    if (v < VIRTIO_BLK_SECTOR || v > VIRTIO_BLK_MAX_BLOCK_SIZE) {
        error_setg(errp, "Property .%s doesn't take value %llu (minimum: 512, maximum: "
                   "%u)", name, (unsigned long long)v, VIRTIO_BLK_MAX_BLOCK_SIZE);
        return false;
    }
    if (v & (v - 1)) {
        error_setg(errp, "Property .%s doesn't take value %llu, it's not a power of 2",
                   name, (unsigned long long)v);
        return false;
    }
    return true;
}

static bool virtio_blk_realize(Object *obj, Error **errp)
{
    VirtIOBlock *s = (VirtIOBlock *)obj;
    if (!s->blk) {
        error_setg(errp, "drive property not set");
        return false;
    }
    if (s->num_queues == 0) {
        error_setg(errp, "num-queues property must be larger than 0");
        return false;
    }
    if (s->num_queues > VIRTIO_BLK_MAX_QUEUES) {
        error_setg(errp, "num-queues property must be at most %u", VIRTIO_BLK_MAX_QUEUES);
        return false;
    }
    if (s->queue_size > VIRTQUEUE_MAX_SIZE || (s->queue_size & (s->queue_size - 1)) ||
        s->queue_size == 0) {
        error_setg(errp, "invalid queue-size property (%u), must be a power of 2 (max %u)",
                   s->queue_size, VIRTQUEUE_MAX_SIZE);
        return false;
    }
    if (s->queue_size <= 2) {
        error_setg(errp, "invalid queue-size property (%u), must be > 2", s->queue_size);
        return false;
    }
    if (!virtio_blk_check_block_size("logical_block_size", s->logical_block_size, errp) ||
        !virtio_blk_check_block_size("physical_block_size", s->physical_block_size, errp)) {
        return false;
    }
    if (s->physical_block_size < s->logical_block_size) {
        error_setg(errp, "physical_block_size (%llu) must not be smaller than "
                   "logical_block_size (%llu)", (unsigned long long)s->physical_block_size,
                   (unsigned long long)s->logical_block_size);
        return false;
    }
    if (s->serial && strlen(s->serial) > VIRTIO_BLK_ID_BYTES) {
        warn_report("serial property '%s' is longer than %d bytes and is truncated",
                    s->serial, VIRTIO_BLK_ID_BYTES);
    }
    int64_t len = blk_getlength(s->blk);
    if (len < 0) {
        error_setg_errno(errp, (int)-len, "cannot get the size of drive '%s'",
                         blk_name(s->blk));
        return false;
    }
    s->capacity = (uint64_t)len / VIRTIO_BLK_SECTOR;
    s->read_only = blk_is_read_only(s->blk);
    virtio_init(&s->vdev, VIRTIO_ID_BLOCK, CFG_SIZE);
    for (unsigned i = 0; i < s->num_queues; i++) {
        virtio_add_queue(&s->vdev, s->queue_size, virtio_blk_handle_output);
    }
    return true;
}

static void virtio_blk_init(Object *obj)
{
    VirtIOBlock *s = (VirtIOBlock *)obj;
    bql_cond_init(&s->drained);
}

static void virtio_blk_finalize(Object *obj)
{
    VirtIOBlock *s = (VirtIOBlock *)obj;
    pthread_cond_destroy(&s->drained);
}

static void virtio_blk_unrealize(Object *obj)
{
    VirtIOBlock *s = (VirtIOBlock *)obj;
    virtio_blk_reset(&s->vdev);
    virtio_cleanup(&s->vdev);
}

static const Property virtio_blk_props[] = {
    DEFINE_PROP("drive", VirtIOBlock, blk, prop_info_drive,
                .desc = "Node name or ID of a block device to use as a backend"),
    DEFINE_PROP_STRING("serial", VirtIOBlock, serial),
    DEFINE_PROP("logical_block_size", VirtIOBlock, logical_block_size, prop_info_size,
                .defval = 512, .desc = "A power of two between 512 B and 2 MiB"),
    DEFINE_PROP("physical_block_size", VirtIOBlock, physical_block_size, prop_info_size,
                .defval = 512, .desc = "A power of two between 512 B and 2 MiB"),
    DEFINE_PROP_BOOL("discard", VirtIOBlock, discard, true),
    DEFINE_PROP_BOOL("write-zeroes", VirtIOBlock, write_zeroes, true),
    DEFINE_PROP_UINT32("max-discard-sectors", VirtIOBlock, max_discard_sectors, 0x3fffff),
    DEFINE_PROP_UINT32("max-write-zeroes-sectors", VirtIOBlock, max_write_zeroes_sectors,
                       0x3fffff),
    DEFINE_PROP_UINT16("num-queues", VirtIOBlock, num_queues, 1),
    DEFINE_PROP_UINT16("queue-size", VirtIOBlock, queue_size, 256),
    DEFINE_PROP_BOOL("seg-max-adjust", VirtIOBlock, seg_max_adjust, true),
    DEFINE_PROP_END,
};

static const VirtioDeviceClass virtio_blk_class = {
    .oc = {
        .name = "virtio-blk-device",
        .parent = &virtio_device_class.oc,
        .instance_size = sizeof(VirtIOBlock),
        .props = virtio_blk_props,
        .desc = "Virtio block device",
        .user_creatable = true,
        .bus_type = "virtio-bus",
        .init = virtio_blk_init,
        .finalize = virtio_blk_finalize,
        .realize = virtio_blk_realize,
        .unrealize = virtio_blk_unrealize,
    },
    .device_id = VIRTIO_ID_BLOCK,
    .get_features = virtio_blk_get_features,
    .get_config = virtio_blk_get_config,
    .reset = virtio_blk_reset,
};

static void __attribute__((constructor)) virtio_blk_register(void)
{
    object_class_register(&virtio_blk_class.oc);
}
