/* virtio-mmio transport: version 2 registers (virtio 1.2, 4.2.2), or the legacy version 1
 * layout (4.2.4) with force-legacy=on; one virtio-bus slot; empty slots read DeviceID 0. */
#include <stdio.h>
#include <string.h>
#include "hw/virtio/virtio_mmio.h"
#include "util/log.h"

static void virtio_mmio_update_irq(void *transport)
{
    VirtioMmio *s = transport;
    irq_set(s->irq, s->vdev && s->vdev->isr != 0);
}

static VirtQueue *virtio_mmio_queue(VirtioMmio *s)
{
    return s->queue_sel < s->vdev->num_queues ? &s->vdev->vq[s->queue_sel] : NULL;
}

static uint64_t virtio_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtioMmio *s = opaque;
    VirtIODevice *vdev = s->vdev;

    if (addr >= VIRTIO_MMIO_CONFIG) {
        return vdev ? virtio_config_read(vdev, addr - VIRTIO_MMIO_CONFIG, size) : 0;
    }
    if (size != 4) {
        log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: %u-byte read of register 0x%llx\n",
                        size, (unsigned long long)addr);
        return 0;
    }
    switch (addr) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return s->force_legacy ? 1 : 2;
    case VIRTIO_MMIO_DEVICE_ID:
        return vdev ? vdev->device_id : 0;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    }
    if (!vdev) {
        return 0;
    }
    VirtQueue *vq = virtio_mmio_queue(s);
    switch (addr) {
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return s->host_features_sel > 1 ? 0 :
               (uint32_t)(vdev->host_features >> (32 * s->host_features_sel));
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return vq ? vq->num_max : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return !s->force_legacy && vq && vq->ready;
    case VIRTIO_MMIO_QUEUE_PFN:
        if (s->force_legacy && vq && vq->ready && s->guest_page_size) {
            return vq->desc / s->guest_page_size;
        }
        return 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return vdev->isr;
    case VIRTIO_MMIO_STATUS:
        return vdev->status;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return s->force_legacy ? 0 : vdev->config_generation;
    case 0x0b0: case 0x0b4: case 0x0b8: case 0x0bc:
        /* SHMLen/SHMBase of a shared memory region that does not exist: all ones (4.2.2). */
        return 0xffffffff;
    default:
        log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: read of write-only or unknown "
                        "register 0x%llx\n", (unsigned long long)addr);
        return 0;
    }
}

/* Legacy QueuePFN: the three areas follow each other in one block (4.2.4 / 2.7 legacy). */
static void virtio_mmio_legacy_set_pfn(VirtioMmio *s, VirtQueue *vq, uint32_t pfn)
{
    uint64_t align = s->queue_align;
    if (pfn == 0) {
        vq->ready = false;
        return;
    }
    uint64_t base = (uint64_t)pfn * s->guest_page_size;
    vq->desc = base;
    vq->avail = base + 16ULL * vq->num;
    uint64_t used = vq->avail + 4 + 2ULL * vq->num + 2;
    vq->used = (used + align - 1) & ~(align - 1);
    vq->ready = true;
}

/* Sets the low or high half of a 64-bit queue address; refused while the queue runs. */
static void virtio_mmio_set_addr(VirtQueue *vq, uint64_t *field, bool high, uint32_t val)
{
    if (vq->ready) {
        log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: queue %u address changed while "
                        "ready\n", vq->index);
        return;
    }
    if (high) {
        *field = (*field & 0xffffffffULL) | ((uint64_t)val << 32);
    } else {
        *field = (*field & ~0xffffffffULL) | val;
    }
}

static void virtio_mmio_write(void *opaque, uint64_t addr, uint64_t val64, unsigned size)
{
    VirtioMmio *s = opaque;
    VirtIODevice *vdev = s->vdev;
    uint32_t val = val64;

    if (!vdev) {
        log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: write 0x%llx to offset 0x%llx of an "
                        "empty slot ignored\n", (unsigned long long)val64,
                        (unsigned long long)addr);
        return;
    }
    if (addr >= VIRTIO_MMIO_CONFIG) {
        virtio_config_write(vdev, addr - VIRTIO_MMIO_CONFIG, val64, size);
        return;
    }
    if (size != 4) {
        log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: %u-byte write of register 0x%llx\n",
                        size, (unsigned long long)addr);
        return;
    }
    VirtQueue *vq = virtio_mmio_queue(s);
    bool legacy = s->force_legacy;
    switch (addr) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        s->host_features_sel = val;
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        virtio_set_guest_features_word(vdev, s->guest_features_sel, val);
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        s->guest_features_sel = val;
        return;
    case VIRTIO_MMIO_QUEUE_SEL:
        s->queue_sel = val;
        return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        virtio_queue_notify(vdev, val);
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        vdev->isr &= ~val;
        virtio_mmio_update_irq(s);
        return;
    case VIRTIO_MMIO_STATUS:
        virtio_set_status(vdev, val);
        if (val == 0) {
            s->host_features_sel = s->guest_features_sel = s->queue_sel = 0;
        }
        return;
    }
    if (legacy && addr == VIRTIO_MMIO_GUEST_PAGE_SIZE) {
        s->guest_page_size = val;
        return;
    }
    if (!vq) {
        log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: write to register 0x%llx for missing "
                        "queue %u\n", (unsigned long long)addr, s->queue_sel);
        return;
    }
    switch (legacy ? addr | 0x1000 : addr) {
    case VIRTIO_MMIO_QUEUE_NUM:
    case VIRTIO_MMIO_QUEUE_NUM | 0x1000:
        if (vq->ready || val == 0 || val > vq->num_max) {
            log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: queue %u size %u refused (max %u%s)"
                            "\n", vq->index, val, vq->num_max, vq->ready ? ", queue ready" : "");
            return;
        }
        vq->num = val;
        return;
    case VIRTIO_MMIO_QUEUE_ALIGN | 0x1000:
        if (val == 0 || (val & (val - 1))) {
            log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: QueueAlign %u is not a power of "
                            "2\n", val);
            return;
        }
        s->queue_align = val;
        return;
    case VIRTIO_MMIO_QUEUE_PFN | 0x1000:
        if (!s->guest_page_size || (s->guest_page_size & (s->guest_page_size - 1))) {
            log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: QueuePFN before a valid "
                            "GuestPageSize\n");
            return;
        }
        virtio_mmio_legacy_set_pfn(s, vq, val);
        return;
    case VIRTIO_MMIO_QUEUE_READY:
        vq->ready = val & 1;
        return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        virtio_mmio_set_addr(vq, &vq->desc, addr == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
        return;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        virtio_mmio_set_addr(vq, &vq->avail, addr == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, val);
        return;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        virtio_mmio_set_addr(vq, &vq->used, addr == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, val);
        return;
    default:
        log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: write 0x%x to read-only or unknown "
                        "register 0x%llx\n", val, (unsigned long long)addr);
        return;
    }
}

static const MemoryRegionOps virtio_mmio_ops = {
    .read = virtio_mmio_read,
    .write = virtio_mmio_write,
    .min_access_size = 1,
    .max_access_size = 8,
};

/* ---- the bus ---- */

static bool virtio_mmio_bus_has_room(BusState *bus)
{
    VirtioMmio *s = bus->opaque;
    return s->vdev == NULL;
}

static bool virtio_mmio_bus_plug(BusState *bus, Object *dev, Error **errp)
{
    VirtioMmio *s = bus->opaque;
    if (!object_is_a(dev, &virtio_device_class.oc)) {
        error_setg(errp, "Device '%s' is not a virtio device", dev->cls->name);
        return false;
    }
    if (s->vdev) {
        error_setg(errp, "Bus '%s' is full", bus->name);
        return false;
    }
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    vdev->legacy = s->force_legacy;
    vdev->as = &address_space_memory;
    vdev->transport = s;
    vdev->update_irq = virtio_mmio_update_irq;
    if (!object_realize(dev, errp)) {
        vdev->transport = NULL;
        vdev->update_irq = NULL;
        return false;
    }
    s->vdev = vdev;
    virtio_reset(vdev);
    return true;
}

static void virtio_mmio_bus_unplug(BusState *bus, Object *dev)
{
    VirtioMmio *s = bus->opaque;
    if (s->vdev && OBJECT(s->vdev) == dev) {
        virtio_reset(s->vdev);
        object_unrealize(dev);
        s->vdev->transport = NULL;
        s->vdev->update_irq = NULL;
        s->vdev = NULL;
        irq_lower(s->irq);
    }
}

void virtio_mmio_register_bus(VirtioMmio *s, unsigned index)
{
    snprintf(s->bus_name, sizeof(s->bus_name), "virtio-mmio-bus.%u", index);
    s->bus = (BusState) {
        .name = s->bus_name,
        .type = "virtio-bus",
        .owner = OBJECT(s),
        .hotpluggable = false,
        .plug = virtio_mmio_bus_plug,
        .unplug = virtio_mmio_bus_unplug,
        .has_room = virtio_mmio_bus_has_room,
        .opaque = s,
    };
    bus_register(&s->bus);
}

/* ---- the object ---- */

static void virtio_mmio_reset(Object *obj)
{
    VirtioMmio *s = OBJECT_CHECK(VirtioMmio, obj);
    s->host_features_sel = s->guest_features_sel = s->queue_sel = 0;
    s->guest_page_size = 0;
    s->queue_align = 4096;
    if (s->vdev) {
        virtio_reset(s->vdev);
    }
}

static void virtio_mmio_unrealize(Object *obj)
{
    VirtioMmio *s = OBJECT_CHECK(VirtioMmio, obj);
    if (s->bus.name) {
        bus_unregister(&s->bus);
        s->bus.name = NULL;
    }
}

static void virtio_mmio_init(Object *obj)
{
    VirtioMmio *s = OBJECT_CHECK(VirtioMmio, obj);
    memory_region_init_io(&s->mmio, "virtio-mmio", &virtio_mmio_ops, s, VIRTIO_MMIO_SIZE);
    s->queue_align = 4096;
}

static const Property virtio_mmio_props[] = {
    DEFINE_PROP_BOOL("force-legacy", VirtioMmio, force_legacy, false),
    DEFINE_PROP_END,
};

const ObjectClass virtio_mmio_class = {
    .name = "virtio-mmio",
    .instance_size = sizeof(VirtioMmio),
    .props = virtio_mmio_props,
    .desc = "virtio-mmio transport",
    .init = virtio_mmio_init,
    .reset = virtio_mmio_reset,
    .unrealize = virtio_mmio_unrealize,
};
OBJECT_CLASS_REGISTER(virtio_mmio_class);
