#ifndef HW_VIRTIO_VIRTIO_MMIO_H
#define HW_VIRTIO_VIRTIO_MMIO_H

#include <stdbool.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"
#include "hw/core/qdev.h"
#include "hw/virtio/virtio.h"

/* A virtio-mmio transport slot (virtio 1.2, section 4.2.2; version 1 is the legacy layout
 * of 4.2.4). It carries one bus of type "virtio-bus" taking one virtio device; without a
 * device it reads as an empty slot (DeviceID 0) and ignores writes. */
typedef struct VirtioMmio {
    Object obj;
    MemoryRegion mmio;          /* 0x200 bytes of registers */
    bool force_legacy;          /* property "force-legacy": report Version 1 instead of 2 */
    IrqLine *irq;               /* set by the board before realize */
    BusState bus;               /* registered by virtio_mmio_register_bus */
    char bus_name[32];
    VirtIODevice *vdev;         /* the plugged device, or NULL */
    uint32_t host_features_sel;
    uint32_t guest_features_sel;
    uint32_t queue_sel;
    uint32_t guest_page_size;   /* legacy GuestPageSize */
    uint32_t queue_align;       /* legacy QueueAlign (last written, default 4096) */
} VirtioMmio;

#define VIRTIO_MMIO_SIZE 0x200

enum {
    VIRTIO_MMIO_MAGIC_VALUE = 0x000,
    VIRTIO_MMIO_VERSION = 0x004,
    VIRTIO_MMIO_DEVICE_ID = 0x008,
    VIRTIO_MMIO_VENDOR_ID = 0x00c,
    VIRTIO_MMIO_DEVICE_FEATURES = 0x010,
    VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014,
    VIRTIO_MMIO_DRIVER_FEATURES = 0x020,
    VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024,
    VIRTIO_MMIO_GUEST_PAGE_SIZE = 0x028,     /* legacy */
    VIRTIO_MMIO_QUEUE_SEL = 0x030,
    VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034,
    VIRTIO_MMIO_QUEUE_NUM = 0x038,
    VIRTIO_MMIO_QUEUE_ALIGN = 0x03c,         /* legacy */
    VIRTIO_MMIO_QUEUE_PFN = 0x040,           /* legacy */
    VIRTIO_MMIO_QUEUE_READY = 0x044,
    VIRTIO_MMIO_QUEUE_NOTIFY = 0x050,
    VIRTIO_MMIO_INTERRUPT_STATUS = 0x060,
    VIRTIO_MMIO_INTERRUPT_ACK = 0x064,
    VIRTIO_MMIO_STATUS = 0x070,
    VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080,
    VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084,
    VIRTIO_MMIO_QUEUE_DRIVER_LOW = 0x090,
    VIRTIO_MMIO_QUEUE_DRIVER_HIGH = 0x094,
    VIRTIO_MMIO_QUEUE_DEVICE_LOW = 0x0a0,
    VIRTIO_MMIO_QUEUE_DEVICE_HIGH = 0x0a4,
    VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc,
    VIRTIO_MMIO_CONFIG = 0x100,
};

#define VIRTIO_MMIO_MAGIC 0x74726976        /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x554d4551       /* "QEMU", as QEMU reports it */

extern const ObjectClass virtio_mmio_class;

/* Registers the slot's bus as "virtio-mmio-bus.<index>" (after realize). Boards register
 * the slot the first -device should take first. */
void virtio_mmio_register_bus(VirtioMmio *s, unsigned index);

#endif
