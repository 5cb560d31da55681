#ifndef HW_VIRTIO_VIRTIO_H
#define HW_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "util/iov.h"
#include "hw/core/object.h"
#include "hw/core/memory.h"

/*
 * The transport-independent virtio 1.x device core (virtio spec 1.2, sections 2 and 6):
 * device status, feature negotiation, config space with its generation counter, split
 * virtqueues with indirect descriptors and event index, and interrupts raised through the
 * transport. Everything here runs with the big lock held; the rings live in guest RAM that
 * vCPU threads change concurrently, so ring indices are read and written with atomics.
 */

/* Device status bits (2.1). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE   0x01
#define VIRTIO_CONFIG_S_DRIVER        0x02
#define VIRTIO_CONFIG_S_DRIVER_OK     0x04
#define VIRTIO_CONFIG_S_FEATURES_OK   0x08
#define VIRTIO_CONFIG_S_NEEDS_RESET   0x40
#define VIRTIO_CONFIG_S_FAILED        0x80

/* Reserved feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC        28
#define VIRTIO_F_RING_EVENT_IDX       29
#define VIRTIO_F_VERSION_1            32

/* Interrupt status bits as virtio-mmio's InterruptStatus reports them. */
#define VIRTIO_ISR_QUEUE              0x1
#define VIRTIO_ISR_CONFIG             0x2

/* Split ring layout (2.7). */
#define VRING_DESC_F_NEXT             1
#define VRING_DESC_F_WRITE            2
#define VRING_DESC_F_INDIRECT         4
#define VRING_AVAIL_F_NO_INTERRUPT    1
#define VRING_USED_F_NO_NOTIFY        1

/* Largest queue and largest number of buffers in one element. */
#define VIRTQUEUE_MAX_SIZE            1024

#define VIRTIO_ID_BLOCK               2

typedef struct VirtIODevice VirtIODevice;
typedef struct VirtQueue VirtQueue;

/* The driver notified queue vq (QueueNotify). */
typedef void VirtIOHandleOutput(VirtIODevice *vdev, VirtQueue *vq);

/* One available buffer chain, mapped into host pointers inside guest RAM. Devices embed it
 * as the first member of their request structure. */
typedef struct VirtQueueElement {
    unsigned index;              /* head descriptor, echoed in the used ring */
    unsigned out_num;            /* device-readable buffers (come first in the chain) */
    unsigned in_num;             /* device-writable buffers */
    struct iovec *out_sg;
    struct iovec *in_sg;
} VirtQueueElement;

struct VirtQueue {
    VirtIODevice *vdev;
    unsigned index;
    uint16_t num_max;            /* QueueNumMax */
    uint16_t num;                /* QueueNum chosen by the driver */
    bool ready;
    uint64_t desc, avail, used;  /* guest physical addresses of the three areas */
    uint16_t last_avail_idx;     /* next available entry the device will take */
    uint16_t used_idx;           /* device's copy of used->idx */
    uint16_t signalled_used;     /* used_idx when the driver was last interrupted */
    bool signalled_used_valid;
    unsigned inuse;              /* elements popped and not yet pushed */
    bool notification;           /* the driver is asked to notify new buffers */
    VirtIOHandleOutput *handle_output;
};

/* Virtio device classes extend ObjectClass; concrete ones derive from virtio_device_class. */
typedef struct VirtioDeviceClass {
    ObjectClass oc;
    uint16_t device_id;
    /* Device-specific feature bits offered (without the reserved ones). */
    uint64_t (*get_features)(VirtIODevice *vdev);
    /* Fills config (vdev->config_len bytes, little-endian fields). */
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    /* The driver wrote config; may be NULL (writes ignored). */
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    /* Device part of a reset: finishes or cancels in-flight requests (runs first). */
    void (*reset)(VirtIODevice *vdev);
} VirtioDeviceClass;

struct VirtIODevice {
    Object obj;
    uint16_t device_id;
    uint8_t status;
    uint8_t isr;                 /* VIRTIO_ISR_* bits pending */
    bool broken;                 /* set by virtio_error until the next reset */
    uint64_t host_features;      /* offered, fixed at realize */
    uint64_t guest_features;     /* accepted by the driver */
    uint32_t config_generation;
    size_t config_len;
    uint8_t *config;
    VirtQueue *vq;
    unsigned num_queues;
    AddressSpace *as;            /* guest memory the rings and buffers live in */
    bool indirect_desc;          /* property "indirect_desc" */
    bool event_idx;              /* property "event_idx" */
    bool legacy;                 /* pre-1.0 interface (set by the transport before realize) */
    /* Set by the transport: re-evaluates the interrupt line from isr. */
    void (*update_irq)(void *transport);
    void *transport;
};

extern const VirtioDeviceClass virtio_device_class;

#define VIRTIO_DEVICE(obj) ((VirtIODevice *)(obj))
#define VIRTIO_DEVICE_GET_CLASS(vdev) ((const VirtioDeviceClass *)OBJECT(vdev)->cls)

/* From a device's realize: sets the id and config size, offers the common features. */
void virtio_init(VirtIODevice *vdev, uint16_t device_id, size_t config_len);
/* Adds queue number vdev->num_queues with QueueNumMax size. */
VirtQueue *virtio_add_queue(VirtIODevice *vdev, unsigned size, VirtIOHandleOutput *handler);
/* From a device's unrealize: frees what virtio_init and virtio_add_queue allocated. */
void virtio_cleanup(VirtIODevice *vdev);

/* Device reset (status 0 or machine reset): drains the device, then clears status,
 * features, queues and pending interrupts. */
void virtio_reset(VirtIODevice *vdev);
/* Driver writes Status: 0 resets; FEATURES_OK stays clear when the accepted features are
 * not acceptable. */
void virtio_set_status(VirtIODevice *vdev, uint8_t status);
/* Driver writes 32 bits of its feature set (sel 0: bits 0-31, sel 1: bits 32-63); ignored
 * once FEATURES_OK is set. */
void virtio_set_guest_features_word(VirtIODevice *vdev, unsigned sel, uint32_t val);
bool virtio_has_feature(const VirtIODevice *vdev, unsigned bit);

/* Config space accesses of size 1, 2, 4 or 8 at offset (little-endian); out-of-range
 * reads return 0 and writes are ignored. */
uint64_t virtio_config_read(VirtIODevice *vdev, uint64_t offset, unsigned size);
void virtio_config_write(VirtIODevice *vdev, uint64_t offset, uint64_t val, unsigned size);
/* The device changed its config: bumps the generation and raises a config interrupt. */
void virtio_notify_config(VirtIODevice *vdev);

/* The driver notified queue n (ignored for queues that do not exist or are not ready). */
void virtio_queue_notify(VirtIODevice *vdev, unsigned n);

/* Takes the next available chain; NULL when none is available or when the chain is
 * malformed (then the device is marked NEEDS_RESET). elem_size >= sizeof(VirtQueueElement)
 * is the size of the device's request structure; free the result with g_free. While
 * notifications are enabled it publishes avail_event (event index). */
void *virtqueue_pop(VirtQueue *vq, size_t elem_size);
/* Returns elem to the driver through the used ring with len bytes written. */
void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len);
/* Forgets a popped element without returning it (the device gave up on it). */
void virtqueue_detach_element(VirtQueue *vq, const VirtQueueElement *elem);
/* Interrupts the driver for used buffers unless it suppressed that (event index or
 * VRING_AVAIL_F_NO_INTERRUPT). */
void virtio_notify(VirtIODevice *vdev, VirtQueue *vq);
/* True when no chain is available (publishes avail_event first under event index while
 * notifications are enabled). */
bool virtio_queue_empty(VirtQueue *vq);
/*
 * Asks the driver to notify (enable) or not to notify (disable) when it makes buffers
 * available on vq: VRING_USED_F_NO_NOTIFY, or avail_event under event index (disabled: an
 * index just behind the device's, which the driver's additions do not reach). Suppression
 * is only a hint the driver may ignore. Enabled again after reset. The pattern for draining
 * a queue from another thread than the driver's: disable, pop until empty, enable, and
 * loop while virtio_queue_empty (which orders the enable before its check) is false.
 */
void virtio_queue_set_notification(VirtQueue *vq, bool enable);

/* The guest broke the protocol: logs msg once (-d guest_errors), sets NEEDS_RESET, raises
 * a config interrupt and stops all queue processing until reset. */
void virtio_error(VirtIODevice *vdev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));


#endif
