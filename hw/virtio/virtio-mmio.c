/* virtio-mmio transport register block; with no backend attached the slot is empty. */
#include "hw/virtio/virtio_mmio.h"
#include "util/log.h"

static uint64_t virtio_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtioMmio *s = opaque;
    switch (addr) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return s->force_legacy ? 1 : 2;
    case VIRTIO_MMIO_DEVICE_ID:
        return 0;       /* no device behind this slot */
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    default:
        return 0;
    }
}

static void virtio_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    log_mask_printf(LOG_GUEST_ERROR, "virtio-mmio: write 0x%llx to offset 0x%llx of an "
                    "empty slot ignored\n", (unsigned long long)val, (unsigned long long)addr);
}

static const MemoryRegionOps virtio_mmio_ops = {
    .read = virtio_mmio_read,
    .write = virtio_mmio_write,
    .min_access_size = 4,
    .max_access_size = 4,
};

static void virtio_mmio_init(Object *obj)
{
    VirtioMmio *s = OBJECT_CHECK(VirtioMmio, obj);
    memory_region_init_io(&s->mmio, "virtio-mmio", &virtio_mmio_ops, s, VIRTIO_MMIO_SIZE);
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
};
OBJECT_CLASS_REGISTER(virtio_mmio_class);
