#ifndef HW_VIRTIO_VIRTIO_MMIO_H
#define HW_VIRTIO_VIRTIO_MMIO_H

#include <stdbool.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"

/* A virtio-mmio transport slot (register layout of the virtio 1.x spec, section 4.2.2).
 * Without a backend it reads as an empty slot (DeviceID 0) and ignores writes. */
typedef struct VirtioMmio {
    Object obj;
    MemoryRegion mmio;          /* 0x200 bytes of registers */
    bool force_legacy;          /* property "force-legacy": report Version 1 instead of 2 */
} VirtioMmio;

#define VIRTIO_MMIO_SIZE 0x200

enum {
    VIRTIO_MMIO_MAGIC_VALUE = 0x000,
    VIRTIO_MMIO_VERSION = 0x004,
    VIRTIO_MMIO_DEVICE_ID = 0x008,
    VIRTIO_MMIO_VENDOR_ID = 0x00c,
};

#define VIRTIO_MMIO_MAGIC 0x74726976        /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x554d4551       /* "QEMU", as QEMU reports it */

extern const ObjectClass virtio_mmio_class;

#endif
