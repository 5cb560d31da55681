/* Virtio core: feature negotiation, split virtqueue parsing (good and malicious chains),
 * used ring, event index and NEEDS_RESET, against a RAM region and a fake device. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "hw/virtio/virtio.h"
#include "util/log.h"

#define RAM_BASE 0x10000ULL
#define RAM_SIZE 0x10000ULL
#define QSIZE 8
#define DESC (RAM_BASE + 0x0000)
#define AVAIL (RAM_BASE + 0x0100)
#define USED (RAM_BASE + 0x0200)
#define BUF (RAM_BASE + 0x1000)
#define TABLE (RAM_BASE + 0x3000)

typedef struct TestDev {
    VirtIODevice vdev;
    unsigned irq_updates;
    unsigned handled;
} TestDev;

static MemoryRegion root, ram;
static AddressSpace as;

static void test_handle(VirtIODevice *vdev, VirtQueue *vq)
{
    ((TestDev *)vdev)->handled++;
}

static bool test_dev_realize(Object *obj, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(obj);
    virtio_init(vdev, 42, 8);
    virtio_add_queue(vdev, QSIZE, test_handle);
    return true;
}

static void test_dev_unrealize(Object *obj)
{
    virtio_cleanup(VIRTIO_DEVICE(obj));
}

static uint64_t test_dev_features(VirtIODevice *vdev)
{
    return 1ULL << 5;
}

static const VirtioDeviceClass test_dev_class = {
    .oc = {
        .name = "test-virtio-device",
        .parent = &virtio_device_class.oc,
        .instance_size = sizeof(TestDev),
        .realize = test_dev_realize,
        .unrealize = test_dev_unrealize,
    },
    .device_id = 42,
    .get_features = test_dev_features,
};

static void test_update_irq(void *transport)
{
    ((TestDev *)transport)->irq_updates++;
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

static uint32_t get32(uint64_t addr)
{
    uint32_t v = 0;
    g_assert_cmpint(address_space_read(&as, addr, &v, 4), ==, MEMTX_OK);
    return v;
}

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint8_t d[16];
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
    g_assert_cmpint(address_space_write(&as, table + 16 * i, d, 16), ==, MEMTX_OK);
}

/* Makes head the next available entry and publishes it. */
static void make_avail(unsigned head)
{
    uint16_t idx = get16(AVAIL + 2);
    put16(AVAIL + 4 + 2 * (idx % QSIZE), head);
    put16(AVAIL + 2, idx + 1);
}

/* A fresh device with the queue set up and the driver running with `features`. */
static TestDev *dev_new(uint64_t features)
{
    static uint8_t zero[RAM_SIZE];
    g_assert_cmpint(address_space_write(&as, RAM_BASE, zero, RAM_SIZE), ==, MEMTX_OK);
    TestDev *d = (TestDev *)object_new(&test_dev_class.oc);
    VirtIODevice *vdev = &d->vdev;
    vdev->as = &as;
    vdev->transport = d;
    vdev->update_irq = test_update_irq;
    g_assert_true(object_realize(OBJECT(d), NULL));
    virtio_reset(vdev);
    virtio_set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_set_guest_features_word(vdev, 0, (uint32_t)features);
    virtio_set_guest_features_word(vdev, 1, (uint32_t)(features >> 32));
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_true(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK);
    VirtQueue *vq = &vdev->vq[0];
    vq->desc = DESC;
    vq->avail = AVAIL;
    vq->used = USED;
    vq->ready = true;
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_DRIVER_OK);
    d->irq_updates = 0;
    return d;
}

static const uint64_t base_features = (1ULL << VIRTIO_F_VERSION_1) |
                                      (1ULL << VIRTIO_F_INDIRECT_DESC);

static void assert_broken(TestDev *d)
{
    VirtIODevice *vdev = &d->vdev;
    g_assert_true(vdev->broken);
    g_assert_true(vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    g_assert_true(vdev->isr & VIRTIO_ISR_CONFIG);
    g_assert_cmpuint(d->irq_updates, >=, 1);
    /* Further pops do nothing until reset. */
    g_assert_null(virtqueue_pop(&vdev->vq[0], sizeof(VirtQueueElement)));
    virtio_reset(vdev);
    g_assert_false(vdev->broken);
    g_assert_cmpuint(vdev->status, ==, 0);
    g_assert_cmpuint(vdev->isr, ==, 0);
    g_assert_false(vdev->vq[0].ready);
}

static void test_feature_negotiation(void)
{
    TestDev *d = dev_new(base_features);
    VirtIODevice *vdev = &d->vdev;
    g_assert_true(vdev->host_features & (1ULL << VIRTIO_F_VERSION_1));
    g_assert_true(vdev->host_features & (1ULL << VIRTIO_F_RING_EVENT_IDX));
    g_assert_true(vdev->host_features & (1ULL << 5));
    /* Feature writes after FEATURES_OK are ignored. */
    virtio_set_guest_features_word(vdev, 0, 0);
    g_assert_true(virtio_has_feature(vdev, VIRTIO_F_INDIRECT_DESC));

    /* Without VERSION_1, or with a feature not offered, FEATURES_OK does not stick. */
    virtio_set_status(vdev, 0);
    virtio_set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_set_guest_features_word(vdev, 0, 1u << 5);
    virtio_set_guest_features_word(vdev, 1, 0);
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_false(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK);
    virtio_set_guest_features_word(vdev, 0, 1u << 6);
    virtio_set_guest_features_word(vdev, 1, 1);
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_false(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK);
    virtio_set_guest_features_word(vdev, 0, 1u << 5);
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_true(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK);
    object_unref(OBJECT(d));
}

static void test_direct_chain(void)
{
    TestDev *d = dev_new(base_features);
    VirtQueue *vq = &d->vdev.vq[0];
    g_assert_true(virtio_queue_empty(vq));
    put_desc(DESC, 3, BUF, 16, VRING_DESC_F_NEXT, 5);
    put_desc(DESC, 5, BUF + 0x100, 0, VRING_DESC_F_NEXT, 6);  /* empty: skipped */
    put_desc(DESC, 6, BUF + 0x200, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    put_desc(DESC, 1, BUF + 0x400, 1, VRING_DESC_F_WRITE, 0);
    make_avail(3);
    g_assert_false(virtio_queue_empty(vq));

    VirtQueueElement *e = virtqueue_pop(vq, sizeof(*e));
    g_assert_nonnull(e);
    g_assert_cmpuint(e->index, ==, 3);
    g_assert_cmpuint(e->out_num, ==, 1);
    g_assert_cmpuint(e->in_num, ==, 2);
    g_assert_true(e->out_sg[0].iov_base == ram.ram + 0x1000 && e->out_sg[0].iov_len == 16);
    g_assert_true(e->in_sg[0].iov_base == ram.ram + 0x1200 && e->in_sg[0].iov_len == 512);
    g_assert_true(e->in_sg[1].iov_base == ram.ram + 0x1400 && e->in_sg[1].iov_len == 1);
    g_assert_null(virtqueue_pop(vq, sizeof(*e)));

    virtqueue_push(vq, e, 513);
    g_assert_cmpuint(get16(USED + 2), ==, 1);
    g_assert_cmpuint(get32(USED + 4), ==, 3);
    g_assert_cmpuint(get32(USED + 8), ==, 513);
    g_assert_cmpuint(vq->inuse, ==, 0);
    virtio_notify(&d->vdev, vq);
    g_assert_true(d->vdev.isr & VIRTIO_ISR_QUEUE);
    g_assert_cmpuint(d->irq_updates, ==, 1);
    g_assert_false(d->vdev.broken);
    g_free(e);

    /* VRING_AVAIL_F_NO_INTERRUPT suppresses the interrupt without event index. */
    d->vdev.isr = 0;
    put16(AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
    put_desc(DESC, 0, BUF, 4, 0, 0);
    make_avail(0);
    e = virtqueue_pop(vq, sizeof(*e));
    g_assert_nonnull(e);
    virtqueue_push(vq, e, 0);
    virtio_notify(&d->vdev, vq);
    g_assert_cmpuint(d->vdev.isr, ==, 0);
    g_free(e);

    /* QueueNotify reaches the handler. */
    virtio_queue_notify(&d->vdev, 0);
    virtio_queue_notify(&d->vdev, 7);
    g_assert_cmpuint(d->handled, ==, 1);
    object_unref(OBJECT(d));
}

static void test_indirect_chain(void)
{
    TestDev *d = dev_new(base_features);
    VirtQueue *vq = &d->vdev.vq[0];
    put_desc(DESC, 2, BUF, 4, VRING_DESC_F_NEXT, 4);
    put_desc(DESC, 4, TABLE, 3 * 16, VRING_DESC_F_INDIRECT, 0);
    put_desc(TABLE, 0, BUF + 0x10, 8, VRING_DESC_F_NEXT, 2);
    put_desc(TABLE, 2, BUF + 0x20, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
    put_desc(TABLE, 1, BUF + 0x30, 8, VRING_DESC_F_WRITE, 0);
    make_avail(2);
    VirtQueueElement *e = virtqueue_pop(vq, 64);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->index, ==, 2);
    g_assert_cmpuint(e->out_num, ==, 2);
    g_assert_cmpuint(e->in_num, ==, 2);
    g_assert_true(e->out_sg[1].iov_base == ram.ram + 0x1010);
    g_assert_true(e->in_sg[0].iov_base == ram.ram + 0x1020);
    g_assert_true(e->in_sg[1].iov_base == ram.ram + 0x1030);
    /* The device's own part of the element (beyond the header) is writable. */
    memset((uint8_t *)e + sizeof(*e), 0xab, 64 - sizeof(*e));
    g_assert_true(e->in_sg[1].iov_base == ram.ram + 0x1030);
    g_free(e);
    g_assert_false(d->vdev.broken);
    object_unref(OBJECT(d));
}

static char *log_path;

/* Bytes logged so far (the log file is line buffered). */
static size_t log_length(void)
{
    char *text = NULL;
    size_t len = 0;
    g_assert_true(g_file_get_contents(log_path, &text, &len, NULL));
    g_free(text);
    return len;
}

/* Runs one malformed chain (set up by the caller) and checks that pop refuses it, the
 * device needs a reset, and exactly one line was logged. */
static void expect_malformed(TestDev *d, unsigned head)
{
    size_t before = log_length();
    make_avail(head);
    g_assert_null(virtqueue_pop(&d->vdev.vq[0], sizeof(VirtQueueElement)));
    g_assert_null(virtqueue_pop(&d->vdev.vq[0], sizeof(VirtQueueElement)));
    virtio_queue_notify(&d->vdev, 0);
    g_assert_cmpuint(d->handled, ==, 0);
    char *text = NULL;
    g_assert_true(g_file_get_contents(log_path, &text, NULL, NULL));
    const char *added = text + before;
    unsigned lines = 0;
    for (const char *p = added; *p; p++) {
        lines += *p == '\n';
    }
    if (lines != 1) {
        g_printerr("log:\n%s", added);
    }
    g_assert_cmpuint(lines, ==, 1);
    g_assert_nonnull(strstr(added, "needs reset"));
    g_free(text);
    assert_broken(d);
    object_unref(OBJECT(d));
}

static void test_loop(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 0, BUF, 4, VRING_DESC_F_NEXT, 1);
    put_desc(DESC, 1, BUF, 4, VRING_DESC_F_NEXT, 2);
    put_desc(DESC, 2, BUF, 4, VRING_DESC_F_NEXT, 0);
    expect_malformed(d, 1);
}

static void test_self_loop_zero_length(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 4, BUF, 0, VRING_DESC_F_NEXT, 4);
    expect_malformed(d, 4);
}

static void test_next_out_of_range(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 0, BUF, 4, VRING_DESC_F_NEXT, QSIZE);
    expect_malformed(d, 0);
}

static void test_head_out_of_range(void)
{
    TestDev *d = dev_new(base_features);
    expect_malformed(d, 0xffff);
}

static void test_addr_out_of_range(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 0, RAM_BASE + RAM_SIZE - 8, 16, 0, 0);
    expect_malformed(d, 0);
}

static void test_addr_wraps(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 0, UINT64_MAX - 3, 0x1000, VRING_DESC_F_WRITE, 0);
    expect_malformed(d, 0);
}

static void test_readable_after_writable(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 0, BUF, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    put_desc(DESC, 1, BUF, 4, 0, 0);
    expect_malformed(d, 0);
}

static void test_indirect_nested(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 0, TABLE, 2 * 16, VRING_DESC_F_INDIRECT, 0);
    put_desc(TABLE, 0, BUF, 4, VRING_DESC_F_NEXT, 1);
    put_desc(TABLE, 1, TABLE + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
    put_desc(TABLE + 0x100, 0, BUF, 4, 0, 0);
    expect_malformed(d, 0);
}

static void test_indirect_zero_length(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 0, TABLE, 0, VRING_DESC_F_INDIRECT, 0);
    expect_malformed(d, 0);
}

static void test_indirect_loop(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 0, TABLE, 2 * 16, VRING_DESC_F_INDIRECT, 0);
    put_desc(TABLE, 0, BUF, 4, VRING_DESC_F_NEXT, 1);
    put_desc(TABLE, 1, BUF, 4, VRING_DESC_F_NEXT, 0);
    expect_malformed(d, 0);
}

static void test_indirect_next_beyond_table(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 0, TABLE, 2 * 16, VRING_DESC_F_INDIRECT, 0);
    put_desc(TABLE, 0, BUF, 4, VRING_DESC_F_NEXT, 1);
    put_desc(TABLE, 1, BUF, 4, VRING_DESC_F_NEXT, 2);   /* entry 2 lies past the table */
    expect_malformed(d, 0);
}

static void test_indirect_table_out_of_range(void)
{
    TestDev *d = dev_new(base_features);
    put_desc(DESC, 0, RAM_BASE + RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
    expect_malformed(d, 0);
}

static void test_indirect_not_negotiated(void)
{
    TestDev *d = dev_new(1ULL << VIRTIO_F_VERSION_1);
    put_desc(DESC, 0, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
    put_desc(TABLE, 0, BUF, 4, 0, 0);
    expect_malformed(d, 0);
}

/* An indirect table of 2048 entries chained in order exceeds the element limit. */
static void test_indirect_too_many_buffers(void)
{
    TestDev *d = dev_new(base_features);
    unsigned n = VIRTQUEUE_MAX_SIZE + 1;
    put_desc(DESC, 0, RAM_BASE + 0x4000, n * 16, VRING_DESC_F_INDIRECT, 0);
    for (unsigned i = 0; i < n; i++) {
        put_desc(RAM_BASE + 0x4000, i, BUF, 1, i + 1 < n ? VRING_DESC_F_NEXT : 0, i + 1);
    }
    expect_malformed(d, 0);
}

static void test_avail_idx_too_far(void)
{
    TestDev *d = dev_new(base_features);
    put16(AVAIL + 2, QSIZE + 1);
    g_assert_null(virtqueue_pop(&d->vdev.vq[0], sizeof(VirtQueueElement)));
    assert_broken(d);
    object_unref(OBJECT(d));
}

static void test_ring_outside_ram(void)
{
    TestDev *d = dev_new(base_features);
    d->vdev.vq[0].used = RAM_BASE + RAM_SIZE - 8;
    g_assert_null(virtqueue_pop(&d->vdev.vq[0], sizeof(VirtQueueElement)));
    assert_broken(d);
    object_unref(OBJECT(d));
}

static void test_event_idx(void)
{
    TestDev *d = dev_new(base_features | (1ULL << VIRTIO_F_RING_EVENT_IDX));
    VirtIODevice *vdev = &d->vdev;
    VirtQueue *vq = &vdev->vq[0];
    uint64_t avail_event = USED + 4 + 8 * QSIZE;
    uint64_t used_event = AVAIL + 4 + 2 * QSIZE;

    /* An empty check publishes avail_event = next index wanted. */
    g_assert_true(virtio_queue_empty(vq));
    g_assert_cmpuint(get16(avail_event), ==, 0);
    for (unsigned i = 0; i < 3; i++) {
        put_desc(DESC, i, BUF, 4, 0, 0);
        make_avail(i);
    }
    VirtQueueElement *e[3];
    for (unsigned i = 0; i < 3; i++) {
        e[i] = virtqueue_pop(vq, sizeof(VirtQueueElement));
        g_assert_nonnull(e[i]);
        g_assert_cmpuint(get16(avail_event), ==, i + 1);
    }
    /* The driver wants an interrupt once used idx passes 2 (i.e. after the third). */
    put16(used_event, 2);
    virtqueue_push(vq, e[0], 0);
    virtio_notify(vdev, vq);            /* the first notify always interrupts */
    g_assert_true(vdev->isr & VIRTIO_ISR_QUEUE);
    vdev->isr = 0;
    virtqueue_push(vq, e[1], 0);
    virtio_notify(vdev, vq);
    g_assert_cmpuint(vdev->isr, ==, 0);
    virtqueue_push(vq, e[2], 0);
    virtio_notify(vdev, vq);
    g_assert_true(vdev->isr & VIRTIO_ISR_QUEUE);
    for (unsigned i = 0; i < 3; i++) {
        g_free(e[i]);
    }
    g_assert_false(vdev->broken);
    object_unref(OBJECT(d));
}

static void test_config_bounds(void)
{
    TestDev *d = dev_new(base_features);
    VirtIODevice *vdev = &d->vdev;
    vdev->config[0] = 0x11;
    vdev->config[7] = 0x88;
    g_assert_cmphex(virtio_config_read(vdev, 0, 1), ==, 0x11);
    g_assert_cmphex(virtio_config_read(vdev, 4, 4), ==, 0x88000000);
    g_assert_cmphex(virtio_config_read(vdev, 6, 4), ==, 0);
    g_assert_cmphex(virtio_config_read(vdev, UINT64_MAX, 4), ==, 0);
    virtio_config_write(vdev, 1000, 1, 4);
    object_unref(OBJECT(d));
}

static void test_iov_helpers(void)
{
    uint8_t a[3] = { 1, 2, 3 }, b[5] = { 4, 5, 6, 7, 8 };
    struct iovec iov[2] = { { a, 3 }, { b, 5 } }, out[2];
    uint8_t buf[8];
    g_assert_cmpuint(iov_size(iov, 2), ==, 8);
    g_assert_cmpuint(iov_to_buf(iov, 2, 2, buf, 4), ==, 4);
    g_assert_cmpmem(buf, 4, ((uint8_t[]){ 3, 4, 5, 6 }), 4);
    g_assert_cmpuint(iov_to_buf(iov, 2, 6, buf, 8), ==, 2);
    g_assert_cmpint(iov_slice(iov, 2, 1, 6, out, 2), ==, 2);
    g_assert_cmpint(iov_slice(iov, 2, 1, 6, out, 1), ==, -1);
    g_assert_true(out[0].iov_base == a + 1 && out[0].iov_len == 2);
    g_assert_true(out[1].iov_base == b && out[1].iov_len == 4);
    g_assert_cmpuint(iov_from_buf(iov, 2, 7, "xy", 2), ==, 1);
    g_assert_cmpuint(b[4], ==, 'x');
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_region_init_container(&root, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&ram, "ram", RAM_SIZE, NULL));
    memory_region_add_subregion(&root, RAM_BASE, &ram);
    address_space_init(&as, &root, "test");
    log_mask = LOG_GUEST_ERROR;
    log_path = g_strdup_printf("%s/vessel-test-virtio-%d.log", g_get_tmp_dir(), (int)getpid());
    g_assert_true(log_set_file(log_path, NULL));

    g_test_add_func("/virtio/features", test_feature_negotiation);
    g_test_add_func("/virtio/chain/direct", test_direct_chain);
    g_test_add_func("/virtio/chain/indirect", test_indirect_chain);
    g_test_add_func("/virtio/bad/loop", test_loop);
    g_test_add_func("/virtio/bad/self-loop-empty", test_self_loop_zero_length);
    g_test_add_func("/virtio/bad/next-out-of-range", test_next_out_of_range);
    g_test_add_func("/virtio/bad/head-out-of-range", test_head_out_of_range);
    g_test_add_func("/virtio/bad/addr-out-of-range", test_addr_out_of_range);
    g_test_add_func("/virtio/bad/addr-wraps", test_addr_wraps);
    g_test_add_func("/virtio/bad/readable-after-writable", test_readable_after_writable);
    g_test_add_func("/virtio/bad/indirect-nested", test_indirect_nested);
    g_test_add_func("/virtio/bad/indirect-zero-length", test_indirect_zero_length);
    g_test_add_func("/virtio/bad/indirect-loop", test_indirect_loop);
    g_test_add_func("/virtio/bad/indirect-next-beyond", test_indirect_next_beyond_table);
    g_test_add_func("/virtio/bad/indirect-out-of-range", test_indirect_table_out_of_range);
    g_test_add_func("/virtio/bad/indirect-not-negotiated", test_indirect_not_negotiated);
    g_test_add_func("/virtio/bad/indirect-too-many", test_indirect_too_many_buffers);
    g_test_add_func("/virtio/bad/avail-idx", test_avail_idx_too_far);
    g_test_add_func("/virtio/bad/ring-outside-ram", test_ring_outside_ram);
    g_test_add_func("/virtio/event-idx", test_event_idx);
    g_test_add_func("/virtio/config-bounds", test_config_bounds);
    g_test_add_func("/virtio/iov", test_iov_helpers);
    int ret = g_test_run();
    unlink(log_path);
    g_free(log_path);
    return ret;
}
