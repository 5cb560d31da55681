#ifndef HW_VIRTIO_VIRTIO_PCI_H
#define HW_VIRTIO_VIRTIO_PCI_H

#include "hw/pci/pci.h"
#include "hw/virtio/virtio.h"

/*
 * The modern virtio-pci transport (virtio 1.2, 4.1): common, notify, ISR and device
 * configuration structures in BAR 4 (64-bit memory), MSI-X (one vector per queue plus the
 * config vector) in BAR 1, INTA# when MSI-X is off. The QEMU-named wrappers virtio-blk-pci,
 * virtio-net-pci, virtio-balloon-pci, virtio-gpu-pci and virtio-keyboard/mouse/tablet-pci own the transport-independent device as their child
 * "virtio-backend" and hand it every property they do not have (property_delegate).
 */

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040        /* + virtio device id */
#define VIRTIO_PCI_NO_VECTOR 0xffff
enum {
    VIRTIO_PCI_CAP_COMMON_CFG = 1, VIRTIO_PCI_CAP_NOTIFY_CFG = 2, VIRTIO_PCI_CAP_ISR_CFG = 3,
    VIRTIO_PCI_CAP_DEVICE_CFG = 4,
};
/* Offsets inside BAR 4. */
enum {
    VIRTIO_PCI_COMMON_OFF = 0x0000, VIRTIO_PCI_ISR_OFF = 0x1000,
    VIRTIO_PCI_DEVICE_OFF = 0x2000, VIRTIO_PCI_NOTIFY_OFF = 0x3000,
    VIRTIO_PCI_BAR_SIZE = 0x4000, VIRTIO_PCI_NOTIFY_MULT = 4,
};

typedef struct VirtioPci {
    PCIDevice pci;
    MemoryRegion bar, common, isr, device, notify;   /* BAR 4 and its parts */
    MemoryRegion msix_bar;                           /* BAR 1 */
    VirtIODevice *vdev;                              /* the child "virtio-backend" */
    uint32_t dfselect, gfselect;
    uint16_t queue_sel;
    uint16_t config_vector;
    uint16_t *queue_vector;
    uint16_t *signalled_used;    /* used_idx of each queue at its last interrupt */
    uint32_t signalled_generation;
} VirtioPci;

extern const PCIDeviceClass virtio_pci_class;

#endif
