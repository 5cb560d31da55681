/* Virtio core: driver notification suppression (virtio_queue_set_notification) with and
 * without event index, the drain pattern that must not lose a buffer, and used-buffer
 * interrupt suppression, checked from the driver's side of the ring. */
#include <string.h>
#include <glib.h>
#include "hw/virtio/virtio.h"

#define RAM_BASE 0x10000ULL
#define RAM_SIZE 0x10000ULL
#define QSIZE 8
#define DESC (RAM_BASE + 0x0000)
#define AVAIL (RAM_BASE + 0x0100)
#define USED (RAM_BASE + 0x0200)
#define BUF (RAM_BASE + 0x1000)
#define USED_EVENT (AVAIL + 4 + 2 * QSIZE)
#define AVAIL_EVENT (USED + 4 + 8 * QSIZE)

typedef struct NotifyDev {
    VirtIODevice vdev;
    unsigned irqs;
} NotifyDev;

static MemoryRegion root, ram;
static AddressSpace as;

static bool notify_dev_realize(Object *obj, Error **errp)
{
    virtio_init(VIRTIO_DEVICE(obj), 43, 4);
    virtio_add_queue(VIRTIO_DEVICE(obj), QSIZE, NULL);
    return true;
}

static void notify_dev_unrealize(Object *obj)
{
    virtio_cleanup(VIRTIO_DEVICE(obj));
}

static const VirtioDeviceClass notify_dev_class = {
    .oc = {
        .name = "test-virtio-notify-device",
        .parent = &virtio_device_class.oc,
        .instance_size = sizeof(NotifyDev),
        .realize = notify_dev_realize,
        .unrealize = notify_dev_unrealize,
    },
    .device_id = 43,
};

static void notify_update_irq(void *transport)
{
    NotifyDev *d = transport;
    if (d->vdev.isr & VIRTIO_ISR_QUEUE) {
        d->irqs++;
        d->vdev.isr = 0;
    }
}

static void put16(uint64_t addr, uint16_t v)
{
    g_assert_cmpint(address_space_write(&as, addr, &v, 2), ==, MEMTX_OK);
}

static uint16_t get16(uint64_t addr)
{
    uint16_t v = 0;
    g_assert_cmpint(address_space_read(&as, addr, &v, 2), ==, MEMTX_OK);
    return v;
}

/* The spec's event index test (2.7.10.2), as the driver evaluates it. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* The driver adds one single-buffer chain (head = avail idx % QSIZE) and returns whether
 * the device asked to be notified of it (2.7.13). */
static bool driver_add(bool event_idx)
{
    uint16_t old = get16(AVAIL + 2);
    unsigned head = old % QSIZE;
    uint64_t addr = BUF + 16 * head;
    uint32_t len = 16;
    uint16_t flags = 0, next = 0;
    uint8_t d[16];

    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
    g_assert_cmpint(address_space_write(&as, DESC + 16 * head, d, 16), ==, MEMTX_OK);
    put16(AVAIL + 4 + 2 * (old % QSIZE), head);
    put16(AVAIL + 2, old + 1);
    if (event_idx) {
        return need_event(get16(AVAIL_EVENT), old + 1, old);
    }
    return !(get16(USED) & VRING_USED_F_NO_NOTIFY);
}

static NotifyDev *dev_new(bool event_idx)
{
    static uint8_t zero[RAM_SIZE];
    uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
                        ((uint64_t)event_idx << VIRTIO_F_RING_EVENT_IDX);
    NotifyDev *d = (NotifyDev *)object_new(&notify_dev_class.oc);
    VirtIODevice *vdev = &d->vdev;
    VirtQueue *vq;

    g_assert_cmpint(address_space_write(&as, RAM_BASE, zero, RAM_SIZE), ==, MEMTX_OK);
    vdev->as = &as;
    vdev->transport = d;
    vdev->update_irq = notify_update_irq;
    g_assert_true(object_realize(OBJECT(d), NULL));
    virtio_reset(vdev);
    virtio_set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_set_guest_features_word(vdev, 0, (uint32_t)features);
    virtio_set_guest_features_word(vdev, 1, (uint32_t)(features >> 32));
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_true(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK);
    vq = &vdev->vq[0];
    vq->desc = DESC;
    vq->avail = AVAIL;
    vq->used = USED;
    vq->ready = true;
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_DRIVER_OK);
    d->irqs = 0;
    return d;
}

/* Pops one element and returns it to the used ring. */
static void device_consume(VirtQueue *vq)
{
    VirtQueueElement *e = virtqueue_pop(vq, sizeof(*e));
    g_assert_nonnull(e);
    virtqueue_push(vq, e, 0);
    g_free(e);
}

static void test_no_notify_flag(void)
{
    NotifyDev *d = dev_new(false);
    VirtQueue *vq = &d->vdev.vq[0];

    g_assert_true(driver_add(false));
    virtio_queue_set_notification(vq, false);
    g_assert_cmphex(get16(USED), ==, VRING_USED_F_NO_NOTIFY);
    g_assert_false(driver_add(false));
    device_consume(vq);
    device_consume(vq);
    g_assert_false(driver_add(false));
    virtio_queue_set_notification(vq, true);
    g_assert_cmphex(get16(USED), ==, 0);
    g_assert_false(virtio_queue_empty(vq));
    device_consume(vq);
    g_assert_true(virtio_queue_empty(vq));
    g_assert_true(driver_add(false));
    g_assert_false(d->vdev.broken);
    object_unref(OBJECT(d));
}

static void test_event_idx_suppression(void)
{
    NotifyDev *d = dev_new(true);
    VirtQueue *vq = &d->vdev.vq[0];

    g_assert_true(virtio_queue_empty(vq));
    g_assert_true(driver_add(true));
    virtio_queue_set_notification(vq, false);
    uint16_t parked = get16(AVAIL_EVENT);
    /* Nothing the driver adds while disabled asks for a notification, however many
     * buffers the device takes meanwhile (pops and empty checks do not publish). */
    for (unsigned round = 0; round < 3 * QSIZE; round++) {
        g_assert_false(driver_add(true));
        device_consume(vq);
        g_assert_false(virtio_queue_empty(vq));
        g_assert_cmpuint(get16(AVAIL_EVENT), ==, parked);
    }
    device_consume(vq);
    g_assert_true(virtio_queue_empty(vq));
    g_assert_false(driver_add(true));
    device_consume(vq);
    /* Enabled again: the next buffer is announced. */
    virtio_queue_set_notification(vq, true);
    g_assert_true(virtio_queue_empty(vq));
    g_assert_cmpuint(get16(AVAIL_EVENT), ==, get16(AVAIL + 2));
    g_assert_true(driver_add(true));
    g_assert_false(d->vdev.broken);
    object_unref(OBJECT(d));
}

/* The drain pattern: a buffer made available after the last pop and before notifications
 * come back on is found by the re-check, not lost. */
static void drain_race(bool event_idx)
{
    NotifyDev *d = dev_new(event_idx);
    VirtQueue *vq = &d->vdev.vq[0];
    unsigned taken = 0;

    for (unsigned i = 0; i < 3; i++) {
        driver_add(event_idx);
    }
    virtio_queue_set_notification(vq, false);
    for (;;) {
        VirtQueueElement *e;
        while ((e = virtqueue_pop(vq, sizeof(*e)))) {
            virtqueue_push(vq, e, 0);
            g_free(e);
            taken++;
        }
        if (taken == 3) {
            /* The driver adds while suppressed: no notification is requested. */
            g_assert_false(driver_add(event_idx));
        }
        virtio_queue_set_notification(vq, true);
        if (virtio_queue_empty(vq)) {
            break;
        }
        virtio_queue_set_notification(vq, false);
    }
    g_assert_cmpuint(taken, ==, 4);
    g_assert_true(driver_add(event_idx));
    object_unref(OBJECT(d));
}

static void test_drain_race(void)
{
    drain_race(false);
}

static void test_drain_race_event_idx(void)
{
    drain_race(true);
}

/* Enabling while the device holds back buffers it has seen (a frame waiting for more
 * receive buffers) asks for a notification of the next new buffer, not of those. */
static void test_enable_with_held_buffers(void)
{
    NotifyDev *d = dev_new(true);
    VirtQueue *vq = &d->vdev.vq[0];

    for (unsigned i = 0; i < 3; i++) {
        driver_add(true);
    }
    virtio_queue_set_notification(vq, false);
    device_consume(vq);
    virtio_queue_set_notification(vq, true);
    g_assert_cmpuint(get16(AVAIL_EVENT), ==, 3);
    g_assert_true(driver_add(true));
    object_unref(OBJECT(d));
}

static void test_reset_enables(void)
{
    NotifyDev *d = dev_new(false);
    VirtQueue *vq = &d->vdev.vq[0];

    virtio_queue_set_notification(vq, false);
    g_assert_false(vq->notification);
    virtio_reset(&d->vdev);
    g_assert_true(vq->notification);
    object_unref(OBJECT(d));
}

/* Used-buffer interrupts: one per batch the driver asks for, none while it suppresses. */
static void test_used_interrupts(void)
{
    NotifyDev *d = dev_new(true);
    VirtIODevice *vdev = &d->vdev;
    VirtQueue *vq = &vdev->vq[0];

    for (unsigned i = 0; i < 6; i++) {
        driver_add(true);
    }
    put16(USED_EVENT, 0);
    device_consume(vq);
    virtio_notify(vdev, vq);
    g_assert_cmpuint(d->irqs, ==, 1);
    /* The driver is polling (used_event left behind): later buffers do not interrupt. */
    device_consume(vq);
    virtio_notify(vdev, vq);
    device_consume(vq);
    virtio_notify(vdev, vq);
    g_assert_cmpuint(d->irqs, ==, 1);
    /* It asks again for the buffer after the next one (used idx 4 -> 5 passes 4). */
    put16(USED_EVENT, 4);
    device_consume(vq);
    virtio_notify(vdev, vq);
    g_assert_cmpuint(d->irqs, ==, 1);
    device_consume(vq);
    virtio_notify(vdev, vq);
    g_assert_cmpuint(d->irqs, ==, 2);
    object_unref(OBJECT(d));

    /* Without event index, VRING_AVAIL_F_NO_INTERRUPT. */
    d = dev_new(false);
    vdev = &d->vdev;
    vq = &vdev->vq[0];
    driver_add(false);
    driver_add(false);
    put16(AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
    device_consume(vq);
    virtio_notify(vdev, vq);
    g_assert_cmpuint(d->irqs, ==, 0);
    put16(AVAIL, 0);
    device_consume(vq);
    virtio_notify(vdev, vq);
    g_assert_cmpuint(d->irqs, ==, 1);
    object_unref(OBJECT(d));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_region_init_container(&root, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&ram, "ram", RAM_SIZE, NULL));
    memory_region_add_subregion(&root, RAM_BASE, &ram);
    address_space_init(&as, &root, "test");

    g_test_add_func("/virtio-notify/no-notify-flag", test_no_notify_flag);
    g_test_add_func("/virtio-notify/event-idx", test_event_idx_suppression);
    g_test_add_func("/virtio-notify/drain-race", test_drain_race);
    g_test_add_func("/virtio-notify/drain-race-event-idx", test_drain_race_event_idx);
    g_test_add_func("/virtio-notify/enable-with-held-buffers", test_enable_with_held_buffers);
    g_test_add_func("/virtio-notify/reset", test_reset_enables);
    g_test_add_func("/virtio-notify/used-interrupts", test_used_interrupts);
    return g_test_run();
}
