/* Modern virtio-pci transport and its device wrappers (see hw/virtio/virtio-pci.h). */
#include <string.h>
#include "hw/virtio/virtio-pci.h"

/* A wrapper class: the transport plus the class of the device it embeds. */
typedef struct VirtioPciClass {
    PCIDeviceClass pc;
    const char *backend;         /* the transport-independent device's class name */
} VirtioPciClass;

#define VIRTIO_PCI_GET_CLASS(obj) ((const VirtioPciClass *)OBJECT(obj)->cls)

/* ---- interrupts ---- */

/* The core raised an interrupt: with MSI-X, the vectors of the queues that used buffers since
 * their last interrupt and the config vector after a config change; otherwise INTA# follows
 * the ISR. */
static void virtio_pci_update_irq(void *transport)
{
    VirtioPci *p = transport;
    VirtIODevice *vdev = p->vdev;
    if (!msix_enabled(&p->pci)) {
        pci_set_irq(&p->pci, vdev->isr != 0);
        return;
    }
    if (vdev->config_generation != p->signalled_generation) {
        p->signalled_generation = vdev->config_generation;
        if (vdev->isr & VIRTIO_ISR_CONFIG) {
            msix_notify(&p->pci, p->config_vector);
        }
    }
    for (unsigned q = 0; q < vdev->num_queues; q++) {
        if (vdev->vq[q].used_idx != p->signalled_used[q]) {
            p->signalled_used[q] = vdev->vq[q].used_idx;
            msix_notify(&p->pci, p->queue_vector[q]);
        }
    }
    vdev->isr = 0;
}

static void virtio_pci_reset_vectors(VirtioPci *p)
{
    p->config_vector = VIRTIO_PCI_NO_VECTOR;
    for (unsigned q = 0; q < p->vdev->num_queues; q++) {
        p->queue_vector[q] = VIRTIO_PCI_NO_VECTOR;
        p->signalled_used[q] = 0;
    }
    p->signalled_generation = p->vdev->config_generation;
    p->dfselect = p->gfselect = 0;
    p->queue_sel = 0;
}

/* ---- common configuration (4.1.4.3) ---- */

static uint64_t common_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtioPci *p = opaque;
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = p->queue_sel < vdev->num_queues ? &vdev->vq[p->queue_sel] : NULL;
    switch (addr) {
    case 0x00: return p->dfselect;
    case 0x04: return p->dfselect < 2 ? (uint32_t)(vdev->host_features >> (32 * p->dfselect))
                                      : 0;
    case 0x08: return p->gfselect;
    case 0x0c: return p->gfselect < 2 ? (uint32_t)(vdev->guest_features >> (32 * p->gfselect))
                                      : 0;
    case 0x10: return p->config_vector;
    case 0x12: return vdev->num_queues;
    case 0x14: return vdev->status;
    case 0x15: return (uint8_t)vdev->config_generation;
    case 0x16: return p->queue_sel;
    case 0x18: return vq ? vq->num : 0;
    case 0x1a: return vq ? p->queue_vector[p->queue_sel] : VIRTIO_PCI_NO_VECTOR;
    case 0x1c: return vq ? vq->ready : 0;
    case 0x1e: return vq ? p->queue_sel : 0;
    case 0x20: case 0x24: return vq ? (uint32_t)(vq->desc >> (addr & 4 ? 32 : 0)) : 0;
    case 0x28: case 0x2c: return vq ? (uint32_t)(vq->avail >> (addr & 4 ? 32 : 0)) : 0;
    case 0x30: case 0x34: return vq ? (uint32_t)(vq->used >> (addr & 4 ? 32 : 0)) : 0;
    default: return 0;
    }
}

static void set_half(uint64_t *field, uint64_t addr, uint64_t val)
{
    unsigned shift = addr & 4 ? 32 : 0;
    *field = (*field & ~(0xffffffffull << shift)) | ((val & 0xffffffffull) << shift);
}

static uint16_t virtio_pci_check_vector(VirtioPci *p, uint64_t val)
{
    return val < p->pci.msix_vectors ? val : VIRTIO_PCI_NO_VECTOR;
}

static void common_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VirtioPci *p = opaque;
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = p->queue_sel < vdev->num_queues ? &vdev->vq[p->queue_sel] : NULL;
    /* the queue's fields are frozen once it is enabled */
    bool vq_open = vq && !vq->ready;
    switch (addr) {
    case 0x00: p->dfselect = val; break;
    case 0x08: p->gfselect = val; break;
    case 0x0c:
        if (p->gfselect < 2) {
            virtio_set_guest_features_word(vdev, p->gfselect, val);
        }
        break;
    case 0x10: p->config_vector = virtio_pci_check_vector(p, val); break;
    case 0x14:
        virtio_set_status(vdev, val);
        if (val == 0) {
            virtio_pci_reset_vectors(p);
            pci_set_irq(&p->pci, 0);
        }
        break;
    case 0x16: p->queue_sel = val; break;
    case 0x18:
        if (vq_open && val && val <= vq->num_max && !(val & (val - 1))) {
            vq->num = val;
        }
        break;
    case 0x1a:
        if (vq) {
            p->queue_vector[p->queue_sel] = virtio_pci_check_vector(p, val);
        }
        break;
    case 0x1c:
        if (vq_open && val == 1) {
            vq->ready = true;
        }
        break;
    case 0x20: case 0x24: if (vq_open) { set_half(&vq->desc, addr, val); } break;
    case 0x28: case 0x2c: if (vq_open) { set_half(&vq->avail, addr, val); } break;
    case 0x30: case 0x34: if (vq_open) { set_half(&vq->used, addr, val); } break;
    default: break;
    }
}

/* 64-bit fields are reached as two 32-bit halves; narrower accesses only at field starts. */
static const MemoryRegionOps common_ops = {
    .read = common_read,
    .write = common_write,
    .min_access_size = 1,
    .max_access_size = 4,
};

/* ---- ISR, notify, device config ---- */

static uint64_t isr_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtioPci *p = opaque;
    uint8_t v = addr == 0 ? p->vdev->isr : 0;
    if (addr == 0) {
        p->vdev->isr = 0;
        pci_set_irq(&p->pci, 0);
    }
    return v;
}

static void isr_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps isr_ops = { .read = isr_read, .write = isr_write,
                                         .min_access_size = 1, .max_access_size = 4 };

static uint64_t notify_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static void notify_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VirtioPci *p = opaque;
    virtio_queue_notify(p->vdev, addr / VIRTIO_PCI_NOTIFY_MULT);
}

static const MemoryRegionOps notify_ops = { .read = notify_read, .write = notify_write,
                                            .min_access_size = 1, .max_access_size = 4 };

static uint64_t device_read(void *opaque, uint64_t addr, unsigned size)
{
    return virtio_config_read(((VirtioPci *)opaque)->vdev, addr, size);
}

static void device_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    virtio_config_write(((VirtioPci *)opaque)->vdev, addr, val, size);
}

static const MemoryRegionOps device_ops = { .read = device_read, .write = device_write,
                                            .min_access_size = 1, .max_access_size = 8 };

/* ---- device life cycle ---- */

static void virtio_pci_add_cap(VirtioPci *p, uint8_t type, uint32_t off, uint32_t len,
                               bool notify)
{
    uint8_t c = pci_add_capability(&p->pci, PCI_CAP_ID_VNDR, notify ? 20 : 16);
    uint8_t *cfg = p->pci.config + c;
    cfg[2] = notify ? 20 : 16;          /* cap_len */
    cfg[3] = type;
    cfg[4] = 4;                         /* BAR */
    for (unsigned i = 0; i < 4; i++) {
        cfg[8 + i] = off >> (8 * i);
        cfg[12 + i] = len >> (8 * i);
        if (notify) {
            cfg[16 + i] = (uint32_t)VIRTIO_PCI_NOTIFY_MULT >> (8 * i);
        }
    }
}

/* Creates the embedded device as the child "virtio-backend", as QEMU names it. */
static void virtio_pci_instance_init(Object *obj)
{
    VirtioPci *p = (VirtioPci *)obj;
    const ObjectClass *cls = object_class_by_name(VIRTIO_PCI_GET_CLASS(obj)->backend);
    if (!cls) {
        return;
    }
    Object *backend = object_new(cls);
    object_add_child(obj, "virtio-backend", backend, NULL);
    object_unref(backend);
    p->vdev = VIRTIO_DEVICE(backend);
}

/* The embedded device serves every property the transport does not have. */
static Object *virtio_pci_property_delegate(Object *obj)
{
    return OBJECT(((VirtioPci *)obj)->vdev);
}

static bool virtio_pci_realize(Object *obj, Error **errp)
{
    VirtioPci *p = (VirtioPci *)obj;
    VirtIODevice *vdev = p->vdev;
    if (!vdev) {
        error_setg(errp, "'%s' needs the device '%s', which is not built in", obj->cls->name,
                   VIRTIO_PCI_GET_CLASS(obj)->backend);
        return false;
    }
    vdev->as = &address_space_memory;
    vdev->transport = p;
    vdev->update_irq = virtio_pci_update_irq;
    if (!object_realize(OBJECT(vdev), errp)) {
        vdev->transport = NULL;
        vdev->update_irq = NULL;
        return false;
    }
    unsigned nq = vdev->num_queues;
    p->queue_vector = g_new(uint16_t, MAX(nq, 1));
    p->signalled_used = g_new0(uint16_t, MAX(nq, 1));

    memory_region_init_container(&p->bar, "virtio-pci", VIRTIO_PCI_BAR_SIZE);
    memory_region_init_io(&p->common, "virtio-pci-common", &common_ops, p, 0x38);
    memory_region_init_io(&p->isr, "virtio-pci-isr", &isr_ops, p, 4);
    memory_region_init_io(&p->device, "virtio-pci-device", &device_ops, p,
                          MAX(vdev->config_len, 4));
    memory_region_init_io(&p->notify, "virtio-pci-notify", &notify_ops, p,
                          MAX(nq, 1) * VIRTIO_PCI_NOTIFY_MULT);
    memory_region_add_subregion(&p->bar, VIRTIO_PCI_COMMON_OFF, &p->common);
    memory_region_add_subregion(&p->bar, VIRTIO_PCI_ISR_OFF, &p->isr);
    memory_region_add_subregion(&p->bar, VIRTIO_PCI_DEVICE_OFF, &p->device);
    memory_region_add_subregion(&p->bar, VIRTIO_PCI_NOTIFY_OFF, &p->notify);
    pci_register_bar(&p->pci, 4, PCI_BAR_MEM64 | PCI_BAR_PREFETCH, &p->bar);

    memory_region_init_container(&p->msix_bar, "virtio-pci-msix", 0x1000);
    msix_init(&p->pci, nq + 1, 1, 0, 0x800);
    memory_region_add_subregion(&p->msix_bar, 0, &p->pci.msix_table_mr);
    memory_region_add_subregion(&p->msix_bar, 0x800, &p->pci.msix_pba_mr);
    pci_register_bar(&p->pci, 1, 0, &p->msix_bar);

    virtio_pci_add_cap(p, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF, 0x38, false);
    virtio_pci_add_cap(p, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 4, false);
    virtio_pci_add_cap(p, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
                       MAX(vdev->config_len, 4), false);
    virtio_pci_add_cap(p, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
                       MAX(nq, 1) * VIRTIO_PCI_NOTIFY_MULT, true);
    p->pci.config[PCI_INTERRUPT_PIN] = 1;
    virtio_pci_reset_vectors(p);
    return true;
}

/* The transport's part of a reset; the tree reset then resets the "virtio-backend" child. */
static void virtio_pci_reset(Object *obj)
{
    VirtioPci *p = (VirtioPci *)obj;
    if (obj->realized) {
        virtio_pci_reset_vectors(p);
    }
}

static void virtio_pci_unrealize(Object *obj)
{
    VirtioPci *p = (VirtioPci *)obj;
    object_unrealize(OBJECT(p->vdev));
    g_clear_pointer(&p->queue_vector, g_free);
    g_clear_pointer(&p->signalled_used, g_free);
}

const PCIDeviceClass virtio_pci_class = {
    .oc = {
        .name = "virtio-pci",
        .parent = &pci_device_class.oc,
        .instance_size = sizeof(VirtioPci),
        .abstract = true,
        .reset = virtio_pci_reset,
    },
};

#define VIRTIO_PCI_WRAPPER_CLASS(_var, _name, _backend, _dev_id, _class, _desc) \
    static const VirtioPciClass _var = { \
        .pc = { \
            .oc = { .name = (_name), .parent = &virtio_pci_class.oc, .desc = (_desc), \
                    .instance_size = sizeof(VirtioPci), .user_creatable = true, \
                    .bus_type = "PCI", .init = virtio_pci_instance_init, \
                    .realize = virtio_pci_realize, .unrealize = virtio_pci_unrealize, \
                    .property_delegate = virtio_pci_property_delegate }, \
            .vendor_id = VIRTIO_PCI_VENDOR, .device_id = VIRTIO_PCI_DEVICE_BASE + (_dev_id), \
            .subsystem_vendor_id = VIRTIO_PCI_VENDOR, .subsystem_id = 0x1100, .revision = 1, \
            .class_code = (_class), \
        }, \
        .backend = (_backend), \
    }

VIRTIO_PCI_WRAPPER_CLASS(virtio_blk_pci_class, "virtio-blk-pci", "virtio-blk-device", 2,
                         0x010000, "virtio block device (PCI)");
VIRTIO_PCI_WRAPPER_CLASS(virtio_net_pci_class, "virtio-net-pci", "virtio-net-device", 1,
                         0x020000, "virtio network device (PCI)");
VIRTIO_PCI_WRAPPER_CLASS(virtio_balloon_pci_class, "virtio-balloon-pci",
                         "virtio-balloon-device", 5, 0x00ff00, "virtio memory balloon (PCI)");
VIRTIO_PCI_WRAPPER_CLASS(virtio_gpu_pci_class, "virtio-gpu-pci", "virtio-gpu-device", 16,
                         0x038000, "Virtio GPU (PCI)");
VIRTIO_PCI_WRAPPER_CLASS(virtio_keyboard_pci_class, "virtio-keyboard-pci",
                         "virtio-keyboard-device", 18, 0x098000, "Virtio keyboard (PCI)");
VIRTIO_PCI_WRAPPER_CLASS(virtio_mouse_pci_class, "virtio-mouse-pci", "virtio-mouse-device",
                         18, 0x098000, "Virtio mouse (PCI)");
VIRTIO_PCI_WRAPPER_CLASS(virtio_tablet_pci_class, "virtio-tablet-pci", "virtio-tablet-device",
                         18, 0x098000, "Virtio tablet (PCI)");

static void __attribute__((constructor)) virtio_pci_register(void)
{
    object_class_register(&virtio_pci_class.oc);
    object_class_register(&virtio_blk_pci_class.pc.oc);
    object_class_register(&virtio_net_pci_class.pc.oc);
    object_class_register(&virtio_balloon_pci_class.pc.oc);
    object_class_register(&virtio_gpu_pci_class.pc.oc);
    object_class_register(&virtio_keyboard_pci_class.pc.oc);
    object_class_register(&virtio_mouse_pci_class.pc.oc);
    object_class_register(&virtio_tablet_pci_class.pc.oc);
}
