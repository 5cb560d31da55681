/* The virtio 1.x device core: status, features, config space, split virtqueues. */
#include <endian.h>
#include <stdarg.h>
#include <string.h>
#include <glib.h>
#include "hw/virtio/virtio.h"
#include "util/log.h"

/* Split ring geometry (virtio 1.2, 2.7). */
#define VRING_DESC_SIZE        16
#define VRING_AVAIL_RING       4       /* offset of avail->ring[] */
#define VRING_USED_RING        4       /* offset of used->ring[] */
#define VRING_USED_ELEM_SIZE   8

/* Host pointers to the three areas of a queue, valid while the big lock is held. */
typedef struct VringMap {
    uint8_t *desc;
    uint8_t *avail;
    uint8_t *used;
} VringMap;

/* One descriptor, converted to host order. */
typedef struct VringDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} VringDesc;


/* ---- features, status, config ---- */

bool virtio_has_feature(const VirtIODevice *vdev, unsigned bit)
{
    return (vdev->guest_features >> bit) & 1;
}

void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
{
    if (vdev->broken) {
        return;
    }
    if (log_enabled(LOG_GUEST_ERROR)) {
        va_list ap;
        va_start(ap, fmt);
        char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        log_printf("%s: %s; device needs reset\n", OBJECT(vdev)->cls->name, msg);
        g_free(msg);
    }
    vdev->broken = true;
    vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) {
        virtio_notify_config(vdev);
    }
}

static void virtio_update_irq(VirtIODevice *vdev)
{
    if (vdev->update_irq) {
        vdev->update_irq(vdev->transport);
    }
}

void virtio_notify_config(VirtIODevice *vdev)
{
    vdev->config_generation++;
    vdev->isr |= VIRTIO_ISR_CONFIG;
    virtio_update_irq(vdev);
}

void virtio_set_guest_features_word(VirtIODevice *vdev, unsigned sel, uint32_t val)
{
    uint8_t frozen = vdev->legacy ? VIRTIO_CONFIG_S_DRIVER_OK : VIRTIO_CONFIG_S_FEATURES_OK;
    if (sel > 1 || (vdev->status & frozen)) {
        return;
    }
    if (vdev->legacy) {
        /* Legacy drivers have no FEATURES_OK step: keep what was offered. */
        val &= (uint32_t)(vdev->host_features >> (32 * sel));
    }
    unsigned shift = 32 * sel;
    vdev->guest_features &= ~(0xffffffffULL << shift);
    vdev->guest_features |= (uint64_t)val << shift;
}

void virtio_reset(VirtIODevice *vdev)
{
    const VirtioDeviceClass *vc = VIRTIO_DEVICE_GET_CLASS(vdev);
    if (vc->reset) {
        vc->reset(vdev);
    }
    vdev->status = 0;
    vdev->isr = 0;
    vdev->broken = false;
    vdev->guest_features = 0;
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        VirtQueue *vq = &vdev->vq[i];
        vq->num = vq->num_max;
        vq->ready = false;
        vq->desc = vq->avail = vq->used = 0;
        vq->last_avail_idx = vq->used_idx = 0;
        vq->signalled_used = 0;
        vq->signalled_used_valid = false;
        vq->inuse = 0;
        vq->notification = true;
    }
    virtio_update_irq(vdev);
}

void virtio_set_status(VirtIODevice *vdev, uint8_t status)
{
    if (status == 0) {
        virtio_reset(vdev);
        return;
    }
    if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
        /* Accepted features must be a subset of the offer, and a modern driver must
         * accept VERSION_1; otherwise FEATURES_OK does not stick (the driver re-reads). */
        bool ok = (vdev->guest_features & ~vdev->host_features) == 0 &&
                  (vdev->legacy || virtio_has_feature(vdev, VIRTIO_F_VERSION_1));
        if (!ok) {
            log_mask_printf(LOG_GUEST_ERROR, "%s: driver accepted features 0x%llx of offer "
                            "0x%llx; FEATURES_OK refused\n", OBJECT(vdev)->cls->name,
                            (unsigned long long)vdev->guest_features,
                            (unsigned long long)vdev->host_features);
            status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
        }
    }
    /* NEEDS_RESET is the device's to set and clear. */
    vdev->status = (status & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
                   (vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

uint64_t virtio_config_read(VirtIODevice *vdev, uint64_t offset, unsigned size)
{
    if (offset > vdev->config_len || size > vdev->config_len - offset) {
        log_mask_printf(LOG_GUEST_ERROR, "%s: config read of %u bytes at 0x%llx beyond its "
                        "%zu bytes\n", OBJECT(vdev)->cls->name, size,
                        (unsigned long long)offset, vdev->config_len);
        return 0;
    }
    const VirtioDeviceClass *vc = VIRTIO_DEVICE_GET_CLASS(vdev);
    if (vc->get_config) {
        vc->get_config(vdev, vdev->config);
    }
    uint64_t val = 0;
    memcpy(&val, vdev->config + offset, size);
    return le64toh(val);
}

void virtio_config_write(VirtIODevice *vdev, uint64_t offset, uint64_t val, unsigned size)
{
    if (offset > vdev->config_len || size > vdev->config_len - offset) {
        log_mask_printf(LOG_GUEST_ERROR, "%s: config write of %u bytes at 0x%llx beyond its "
                        "%zu bytes\n", OBJECT(vdev)->cls->name, size,
                        (unsigned long long)offset, vdev->config_len);
        return;
    }
    const VirtioDeviceClass *vc = VIRTIO_DEVICE_GET_CLASS(vdev);
    if (!vc->set_config) {
        return;
    }
    if (vc->get_config) {
        vc->get_config(vdev, vdev->config);
    }
    uint64_t le = htole64(val);
    memcpy(vdev->config + offset, &le, size);
    vc->set_config(vdev, vdev->config);
}

/* ---- life cycle ---- */

void virtio_init(VirtIODevice *vdev, uint16_t device_id, size_t config_len)
{
    const VirtioDeviceClass *vc = VIRTIO_DEVICE_GET_CLASS(vdev);
    vdev->device_id = device_id;
    vdev->config_len = config_len;
    vdev->config = g_malloc0(config_len);
    vdev->host_features = vdev->legacy ? 0 : 1ULL << VIRTIO_F_VERSION_1;
    if (vdev->indirect_desc) {
        vdev->host_features |= 1ULL << VIRTIO_F_INDIRECT_DESC;
    }
    if (vdev->event_idx) {
        vdev->host_features |= 1ULL << VIRTIO_F_RING_EVENT_IDX;
    }
    if (vc->get_features) {
        vdev->host_features |= vc->get_features(vdev);
    }
    if (!vdev->as) {
        vdev->as = &address_space_memory;
    }
}

VirtQueue *virtio_add_queue(VirtIODevice *vdev, unsigned size, VirtIOHandleOutput *handler)
{
    vdev->vq = g_renew(VirtQueue, vdev->vq, vdev->num_queues + 1);
    VirtQueue *vq = &vdev->vq[vdev->num_queues];
    memset(vq, 0, sizeof(*vq));
    vq->vdev = vdev;
    vq->index = vdev->num_queues++;
    vq->num_max = size;
    vq->num = size;
    vq->notification = true;
    vq->handle_output = handler;
    return vq;
}

void virtio_cleanup(VirtIODevice *vdev)
{
    g_free(vdev->vq);
    vdev->vq = NULL;
    vdev->num_queues = 0;
    g_free(vdev->config);
    vdev->config = NULL;
    vdev->config_len = 0;
}

void virtio_queue_notify(VirtIODevice *vdev, unsigned n)
{
    if (n >= vdev->num_queues || vdev->broken) {
        return;
    }
    VirtQueue *vq = &vdev->vq[n];
    if (vq->ready && vq->handle_output) {
        vq->handle_output(vdev, vq);
    }
}

/* ---- split virtqueues ---- */

static bool virtqueue_map(VirtQueue *vq, VringMap *m)
{
    VirtIODevice *vdev = vq->vdev;
    uint64_t num = vq->num;
    if (vdev->broken || !vq->ready || num == 0) {
        return false;
    }
    if ((vq->desc & 15) || (vq->avail & 1) || (vq->used & 3)) {
        virtio_error(vdev, "queue %u: misaligned ring (desc 0x%llx avail 0x%llx used 0x%llx)",
                     vq->index, (unsigned long long)vq->desc, (unsigned long long)vq->avail,
                     (unsigned long long)vq->used);
        return false;
    }
    m->desc = address_space_ram_ptr(vdev->as, vq->desc, num * VRING_DESC_SIZE, false);
    m->avail = address_space_ram_ptr(vdev->as, vq->avail, VRING_AVAIL_RING + 2 * num + 2,
                                     false);
    m->used = address_space_ram_ptr(vdev->as, vq->used,
                                    VRING_USED_RING + VRING_USED_ELEM_SIZE * num + 2, true);
    if (!m->desc || !m->avail || !m->used) {
        virtio_error(vdev, "queue %u: ring outside guest RAM (desc 0x%llx avail 0x%llx "
                     "used 0x%llx, size %u)", vq->index, (unsigned long long)vq->desc,
                     (unsigned long long)vq->avail, (unsigned long long)vq->used, vq->num);
        return false;
    }
    return true;
}

static uint16_t vring_load16(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static void vring_store16(uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}

static uint16_t vring_avail_idx(const VringMap *m)
{
    return vring_load16(m->avail + 2);
}

static uint16_t vring_avail_ring(const VringMap *m, unsigned i)
{
    uint16_t v;
    memcpy(&v, m->avail + VRING_AVAIL_RING + 2 * i, 2);
    return le16toh(v);
}

/* Tells the driver which avail index to notify at (event index, notifications enabled). */
static void vring_set_avail_event(VirtQueue *vq, const VringMap *m)
{
    if (vq->notification && virtio_has_feature(vq->vdev, VIRTIO_F_RING_EVENT_IDX)) {
        vring_store16(m->used + VRING_USED_RING + VRING_USED_ELEM_SIZE * vq->num,
                      vq->last_avail_idx);
    }
}

void virtio_queue_set_notification(VirtQueue *vq, bool enable)
{
    VringMap m;
    if (vq->notification == enable) {
        return;
    }
    vq->notification = enable;
    if (!virtqueue_map(vq, &m)) {
        return;
    }
    if (virtio_has_feature(vq->vdev, VIRTIO_F_RING_EVENT_IDX)) {
        /* The driver notifies when its avail idx moves past avail_event. Enabled: past
         * what it has published so far (even when we hold some back). Disabled: one behind
         * our position, which a driver never behind us only passes 2^16 buffers later (a
         * spurious notification, which is harmless). */
        vring_store16(m.used + VRING_USED_RING + VRING_USED_ELEM_SIZE * vq->num,
                      enable ? vring_avail_idx(&m) : (uint16_t)(vq->last_avail_idx - 1));
    } else {
        uint16_t flags = vring_load16(m.used);
        flags = enable ? flags & ~VRING_USED_F_NO_NOTIFY : flags | VRING_USED_F_NO_NOTIFY;
        vring_store16(m.used, flags);
    }
}

static void vring_read_desc(const uint8_t *table, unsigned i, VringDesc *d)
{
    const uint8_t *p = table + (size_t)i * VRING_DESC_SIZE;
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
    memcpy(&addr, p, 8);
    memcpy(&len, p + 8, 4);
    memcpy(&flags, p + 12, 2);
    memcpy(&next, p + 14, 2);
    d->addr = le64toh(addr);
    d->len = le32toh(len);
    d->flags = le16toh(flags);
    d->next = le16toh(next);
}

/* Number of chains available, or -1 (device marked broken) when avail->idx is bogus. */
static int virtqueue_num_avail(VirtQueue *vq, const VringMap *m)
{
    uint16_t avail = vring_avail_idx(m);
    uint16_t n = avail - vq->last_avail_idx;
    if (n > vq->num) {
        virtio_error(vq->vdev, "queue %u: avail idx %u is %u entries ahead of %u (size %u)",
                     vq->index, avail, n, vq->last_avail_idx, vq->num);
        return -1;
    }
    return n;
}

bool virtio_queue_empty(VirtQueue *vq)
{
    VringMap m;
    if (!virtqueue_map(vq, &m)) {
        return true;
    }
    vring_set_avail_event(vq, &m);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return virtqueue_num_avail(vq, &m) <= 0;
}

/* Buffers of one chain while it is being walked. */
typedef struct ChainBuilder {
    struct iovec iov[VIRTQUEUE_MAX_SIZE];
    unsigned out_num, in_num;
} ChainBuilder;

/* Maps one buffer descriptor into b; false (device broken) when it is invalid. */
static bool virtqueue_map_desc(VirtQueue *vq, const VringDesc *d, ChainBuilder *b)
{
    VirtIODevice *vdev = vq->vdev;
    bool writable = d->flags & VRING_DESC_F_WRITE;
    if (!writable && b->in_num) {
        virtio_error(vdev, "queue %u: device-readable buffer after a writable one",
                     vq->index);
        return false;
    }
    if (d->len == 0) {
        return true;
    }
    if (b->out_num + b->in_num >= VIRTQUEUE_MAX_SIZE) {
        virtio_error(vdev, "queue %u: chain has more than %u buffers", vq->index,
                     VIRTQUEUE_MAX_SIZE);
        return false;
    }
    void *p = address_space_ram_ptr(vdev->as, d->addr, d->len, writable);
    if (!p) {
        virtio_error(vdev, "queue %u: %s buffer 0x%llx+0x%x outside guest RAM", vq->index,
                     writable ? "writable" : "readable", (unsigned long long)d->addr, d->len);
        return false;
    }
    struct iovec *iov = &b->iov[b->out_num + b->in_num];
    iov->iov_base = p;
    iov->iov_len = d->len;
    if (writable) {
        b->in_num++;
    } else {
        b->out_num++;
    }
    return true;
}

/* Walks the chain starting at head; false (device broken) when it is malformed. */
static bool virtqueue_walk(VirtQueue *vq, const VringMap *m, unsigned head, ChainBuilder *b)
{
    VirtIODevice *vdev = vq->vdev;
    const uint8_t *table = m->desc;
    unsigned max = vq->num;
    unsigned i = head;
    unsigned count = 0;
    bool indirect = false;
    VringDesc d;

    if (head >= max) {
        virtio_error(vdev, "queue %u: head descriptor %u out of range (size %u)", vq->index,
                     head, max);
        return false;
    }
    for (;;) {
        if (++count > max) {
            virtio_error(vdev, "queue %u: descriptor chain loops or is longer than %s (%u)",
                         vq->index, indirect ? "its indirect table" : "the queue", max);
            return false;
        }
        vring_read_desc(table, i, &d);
        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (indirect) {
                virtio_error(vdev, "queue %u: indirect table inside an indirect table",
                             vq->index);
                return false;
            }
            if (!virtio_has_feature(vdev, VIRTIO_F_INDIRECT_DESC)) {
                virtio_error(vdev, "queue %u: indirect descriptor without "
                             "VIRTIO_F_INDIRECT_DESC", vq->index);
                return false;
            }
            if (d.flags & VRING_DESC_F_NEXT) {
                virtio_error(vdev, "queue %u: indirect descriptor with NEXT set", vq->index);
                return false;
            }
            if (d.len == 0 || d.len % VRING_DESC_SIZE) {
                virtio_error(vdev, "queue %u: indirect table length %u is not a non-zero "
                             "multiple of %u", vq->index, d.len, VRING_DESC_SIZE);
                return false;
            }
            if (d.addr & 15) {
                virtio_error(vdev, "queue %u: misaligned indirect table 0x%llx", vq->index,
                             (unsigned long long)d.addr);
                return false;
            }
            table = address_space_ram_ptr(vdev->as, d.addr, d.len, false);
            if (!table) {
                virtio_error(vdev, "queue %u: indirect table 0x%llx+0x%x outside guest RAM",
                             vq->index, (unsigned long long)d.addr, d.len);
                return false;
            }
            indirect = true;
            max = d.len / VRING_DESC_SIZE;
            i = 0;
            count = 0;
            continue;
        }
        if (!virtqueue_map_desc(vq, &d, b)) {
            return false;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            return true;
        }
        i = d.next;
        if (i >= max) {
            virtio_error(vdev, "queue %u: next descriptor %u out of range (%u)", vq->index, i,
                         max);
            return false;
        }
    }
}

void *virtqueue_pop(VirtQueue *vq, size_t elem_size)
{
    VringMap m;
    if (!virtqueue_map(vq, &m)) {
        return NULL;
    }
    int avail = virtqueue_num_avail(vq, &m);
    if (avail <= 0) {
        return NULL;
    }
    unsigned head = vring_avail_ring(&m, vq->last_avail_idx % vq->num);
    ChainBuilder chain;
    ChainBuilder *b = &chain;
    b->out_num = b->in_num = 0;
    if (!virtqueue_walk(vq, &m, head, b)) {
        return NULL;
    }
    vq->last_avail_idx++;
    vring_set_avail_event(vq, &m);

    unsigned total = b->out_num + b->in_num;
    size_t sg_off = (elem_size + _Alignof(struct iovec) - 1) & ~(_Alignof(struct iovec) - 1);
    VirtQueueElement *elem = g_malloc0(sg_off + total * sizeof(struct iovec));
    struct iovec *sg = (struct iovec *)((uint8_t *)elem + sg_off);
    memcpy(sg, b->iov, total * sizeof(struct iovec));
    elem->index = head;
    elem->out_num = b->out_num;
    elem->in_num = b->in_num;
    elem->out_sg = sg;
    elem->in_sg = sg + b->out_num;
    vq->inuse++;
    return elem;
}

void virtqueue_detach_element(VirtQueue *vq, const VirtQueueElement *elem)
{
    if (vq->inuse) {
        vq->inuse--;
    }
}

void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len)
{
    VringMap m;
    virtqueue_detach_element(vq, elem);
    if (!virtqueue_map(vq, &m)) {
        return;
    }
    uint8_t *e = m.used + VRING_USED_RING + VRING_USED_ELEM_SIZE * (vq->used_idx % vq->num);
    uint32_t id = htole32(elem->index);
    uint32_t le_len = htole32(len);
    memcpy(e, &id, 4);
    memcpy(e + 4, &le_len, 4);
    vq->used_idx++;
    /* The release store orders the element before the index the driver polls. */
    vring_store16(m.used + 2, vq->used_idx);
}

/* The event index test of the spec (2.7.10.2): did the index pass event since old? */
static bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

void virtio_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    VringMap m;
    if (!virtqueue_map(vq, &m)) {
        return;
    }
    /* Our used->idx store must be visible before we read the driver's suppression. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (virtio_has_feature(vdev, VIRTIO_F_RING_EVENT_IDX)) {
        uint16_t old = vq->signalled_used;
        bool valid = vq->signalled_used_valid;
        uint16_t event = vring_load16(m.avail + VRING_AVAIL_RING + 2 * vq->num);
        vq->signalled_used = vq->used_idx;
        vq->signalled_used_valid = true;
        if (valid && !vring_need_event(event, vq->used_idx, old)) {
            return;
        }
    } else if (vring_load16(m.avail) & VRING_AVAIL_F_NO_INTERRUPT) {
        return;
    }
    vdev->isr |= VIRTIO_ISR_QUEUE;
    virtio_update_irq(vdev);
}

/* ---- the abstract base class ---- */

static void virtio_device_reset(Object *obj)
{
    virtio_reset(VIRTIO_DEVICE(obj));
}

static const Property virtio_device_props[] = {
    DEFINE_PROP_BOOL("indirect_desc", VirtIODevice, indirect_desc, true),
    DEFINE_PROP_BOOL("event_idx", VirtIODevice, event_idx, true),
    DEFINE_PROP_END,
};

const VirtioDeviceClass virtio_device_class = {
    .oc = {
        .name = "virtio-device",
        .instance_size = sizeof(VirtIODevice),
        .props = virtio_device_props,
        .abstract = true,
        .bus_type = "virtio-bus",
        .reset = virtio_device_reset,
    },
};

static void __attribute__((constructor)) virtio_device_class_register(void)
{
    object_class_register(&virtio_device_class.oc);
}
