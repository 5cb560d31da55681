/* virtio-mmio transport and -device plumbing: devices land on the slot buses through
 * device_create, and the driver's register sequence (version 2 and legacy) runs a queue. */
#include <string.h>
#include <glib.h>
#include "hw/core/qdev.h"
#include "hw/virtio/virtio_mmio.h"
#include "util/bql.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE 0x100000ULL
#define QSIZE 4

typedef struct EchoDev {
    VirtIODevice vdev;
    unsigned handled;
} EchoDev;

/* Completes every chain with its readable length, like a loopback device. */
static void echo_handle(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtQueueElement *e;
    while ((e = virtqueue_pop(vq, sizeof(*e)))) {
        ((EchoDev *)vdev)->handled++;
        virtqueue_push(vq, e, iov_size(e->out_sg, e->out_num));
        g_free(e);
    }
    virtio_notify(vdev, vq);
}

static void echo_get_config(VirtIODevice *vdev, uint8_t *config)
{
    for (unsigned i = 0; i < 8; i++) {
        config[i] = 0xa0 + i;
    }
}

static bool echo_realize(Object *obj, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(obj);
    virtio_init(vdev, 42, 8);
    virtio_add_queue(vdev, QSIZE, echo_handle);
    return true;
}

static void echo_unrealize(Object *obj)
{
    virtio_cleanup(VIRTIO_DEVICE(obj));
}

static const VirtioDeviceClass echo_class = {
    .oc = {
        .name = "test-virtio-echo",
        .parent = &virtio_device_class.oc,
        .instance_size = sizeof(EchoDev),
        .user_creatable = true,
        .bus_type = "virtio-bus",
        .realize = echo_realize,
        .unrealize = echo_unrealize,
    },
    .device_id = 42,
    .get_config = echo_get_config,
};

static void __attribute__((constructor)) echo_register(void)
{
    object_class_register(&echo_class.oc);
}

static int irq_level[3];
static VirtioMmio *slot[3];
static MemoryRegion ram;

static void test_irq(void *opaque, int n, int level)
{
    irq_level[n] = level;
}

static uint32_t rd(VirtioMmio *s, uint64_t addr)
{
    return s->mmio.ops->read(s->mmio.opaque, addr, 4);
}

static void wr(VirtioMmio *s, uint64_t addr, uint32_t val)
{
    s->mmio.ops->write(s->mmio.opaque, addr, val, 4);
}

static void put(uint64_t addr, const void *data, size_t len)
{
    g_assert_cmpint(address_space_write(&address_space_memory, addr, data, len), ==, MEMTX_OK);
}

static void put16(uint64_t addr, uint16_t v)
{
    put(addr, &v, 2);
}

static uint16_t get16(uint64_t addr)
{
    uint16_t v;
    g_assert_cmpint(address_space_read(&address_space_memory, addr, &v, 2), ==, MEMTX_OK);
    return v;
}

static uint32_t get32(uint64_t addr)
{
    uint32_t v;
    g_assert_cmpint(address_space_read(&address_space_memory, addr, &v, 4), ==, MEMTX_OK);
    return v;
}

/* One readable descriptor of len bytes published at avail index idx. */
static void post_chain(uint64_t desc, uint64_t avail, uint16_t idx, uint32_t len)
{
    uint8_t d[16] = { 0 };
    uint64_t addr = RAM_BASE + 0x8000;
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    put(desc + 16 * (idx % QSIZE), d, 16);
    put16(avail + 4 + 2 * (idx % QSIZE), idx % QSIZE);
    put16(avail + 2, idx + 1);
}

static void assert_no_error(Error *err)
{
    if (err) {
        g_printerr("unexpected error: %s\n", error_get_pretty(err));
    }
    g_assert_null(err);
}

static void test_bus_placement(void)
{
    /* Buses were registered highest slot first, as the virt board does. */
    GPtrArray *buses = bus_list();
    g_assert_cmpuint(buses->len, ==, 3);
    g_assert_cmpstr(((BusState *)g_ptr_array_index(buses, 0))->name, ==, "virtio-mmio-bus.2");

    Error *err = NULL;
    Object *dev = device_create("test-virtio-echo,id=echo0", &err);
    assert_no_error(err);
    g_assert_nonnull(dev);
    g_assert_true(object_resolve_path("/machine/peripheral/echo0") == dev);
    g_assert_cmpstr(device_get_bus(dev)->name, ==, "virtio-mmio-bus.2");
    g_assert_true(slot[2]->vdev == VIRTIO_DEVICE(dev));

    /* Explicit bus; anonymous devices go to peripheral-anon. */
    dev = device_create("test-virtio-echo,bus=virtio-mmio-bus.0", &err);
    assert_no_error(err);
    char *path = object_get_path(dev);
    g_assert_cmpstr(path, ==, "/machine/peripheral-anon/device[0]");
    g_free(path);
    g_assert_cmpstr(device_get_bus(dev)->name, ==, "virtio-mmio-bus.0");

    g_assert_null(device_create("test-virtio-echo,bus=virtio-mmio-bus.0", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "is full"));
    g_clear_pointer(&err, error_free);
    g_assert_null(device_create("test-virtio-echo,id=echo0", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Duplicate ID 'echo0' for device");
    g_clear_pointer(&err, error_free);
    g_assert_null(device_create("test-virtio-echo,id=echo1,nosuch=1", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Property 'test-virtio-echo.nosuch' not found");
    g_clear_pointer(&err, error_free);
    g_assert_null(object_resolve_path("/machine/peripheral/echo1"));
    g_assert_true(slot[1]->vdev == NULL);
    g_assert_null(device_create("test-virtio-echo,id=9", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Parameter 'id' expects an identifier");
    g_clear_pointer(&err, error_free);
    g_assert_null(device_create("virtio-device", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "'virtio-device' is not a valid device model name");
    g_clear_pointer(&err, error_free);
    g_assert_false(device_help_printed());
    g_assert_null(device_create("test-virtio-echo,help", &err));
    assert_no_error(err);
    g_assert_true(device_help_printed());

    /* The slot buses are not hot-pluggable. */
    g_assert_false(device_delete("echo0", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "does not support hotplugging"));
    g_clear_pointer(&err, error_free);
    g_assert_false(device_delete("nosuch", &err));
    g_assert_cmpint(error_get_class(err), ==, ERROR_CLASS_DEVICE_NOT_FOUND);
    g_clear_pointer(&err, error_free);
}

static void test_empty_slot(void)
{
    VirtioMmio *s = slot[1];
    g_assert_null(s->vdev);
    g_assert_cmphex(rd(s, VIRTIO_MMIO_MAGIC_VALUE), ==, VIRTIO_MMIO_MAGIC);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_VERSION), ==, 2);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_DEVICE_ID), ==, 0);
    wr(s, VIRTIO_MMIO_STATUS, 1);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_STATUS), ==, 0);
}

static void test_modern_queue(void)
{
    VirtioMmio *s = slot[2];
    EchoDev *echo = (EchoDev *)s->vdev;
    uint64_t desc = RAM_BASE, avail = RAM_BASE + 0x1000, used = RAM_BASE + 0x2000;

    g_assert_nonnull(echo);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_VERSION), ==, 2);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_DEVICE_ID), ==, 42);
    g_assert_cmphex(rd(s, VIRTIO_MMIO_VENDOR_ID), ==, VIRTIO_MMIO_VENDOR);
    wr(s, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    g_assert_cmphex(rd(s, VIRTIO_MMIO_DEVICE_FEATURES), ==, 1);    /* VERSION_1 */
    wr(s, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    g_assert_true(rd(s, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_F_RING_EVENT_IDX));

    wr(s, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    wr(s, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(s, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(s, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(s, VIRTIO_MMIO_DRIVER_FEATURES, 0);
    wr(s, VIRTIO_MMIO_STATUS, 0xb);
    g_assert_cmphex(rd(s, VIRTIO_MMIO_STATUS), ==, 0xb);

    wr(s, VIRTIO_MMIO_QUEUE_SEL, 1);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_QUEUE_NUM_MAX), ==, 0);
    wr(s, VIRTIO_MMIO_QUEUE_SEL, 0);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_QUEUE_NUM_MAX), ==, QSIZE);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_QUEUE_READY), ==, 0);
    wr(s, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
    wr(s, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    wr(s, VIRTIO_MMIO_QUEUE_DESC_HIGH, desc >> 32);
    wr(s, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    wr(s, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, avail >> 32);
    wr(s, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    wr(s, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, used >> 32);
    wr(s, VIRTIO_MMIO_QUEUE_READY, 1);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_QUEUE_READY), ==, 1);
    wr(s, VIRTIO_MMIO_STATUS, 0xf);

    post_chain(desc, avail, 0, 100);
    wr(s, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    g_assert_cmpuint(echo->handled, ==, 1);
    g_assert_cmpuint(get16(used + 2), ==, 1);
    g_assert_cmpuint(get32(used + 8), ==, 100);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_INTERRUPT_STATUS), ==, VIRTIO_ISR_QUEUE);
    g_assert_cmpint(irq_level[2], ==, 1);
    wr(s, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
    g_assert_cmpint(irq_level[2], ==, 0);

    /* Config space at 0x100, any width; the generation is stable while nothing changes. */
    g_assert_cmphex(s->mmio.ops->read(s, VIRTIO_MMIO_CONFIG + 1, 1), ==, 0xa1);
    g_assert_cmphex(s->mmio.ops->read(s, VIRTIO_MMIO_CONFIG + 4, 4), ==, 0xa7a6a5a4);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_CONFIG_GENERATION), ==,
                     rd(s, VIRTIO_MMIO_CONFIG_GENERATION));

    /* A malformed chain: NEEDS_RESET and a config interrupt, then reset by Status 0. */
    uint8_t bad[16] = { 0 };
    uint64_t far = RAM_BASE + RAM_SIZE;
    uint32_t len = 16;
    memcpy(bad, &far, 8);
    memcpy(bad + 8, &len, 4);
    put(desc + 16, bad, 16);
    put16(avail + 4 + 2, 1);
    put16(avail + 2, 2);
    wr(s, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    g_assert_true(rd(s, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
    g_assert_true(rd(s, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG);
    g_assert_cmpint(irq_level[2], ==, 1);
    g_assert_cmpuint(echo->handled, ==, 1);
    wr(s, VIRTIO_MMIO_STATUS, 0);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_STATUS), ==, 0);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_QUEUE_READY), ==, 0);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_INTERRUPT_STATUS), ==, 0);
    g_assert_cmpint(irq_level[2], ==, 0);

    /* FEATURES_OK without VERSION_1 does not stick. */
    wr(s, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    wr(s, VIRTIO_MMIO_STATUS, 0xb);
    g_assert_cmphex(rd(s, VIRTIO_MMIO_STATUS), ==, 0x3);
}

static void test_legacy_queue(void)
{
    VirtioMmio *s = g_new0(VirtioMmio, 1);
    object_initialize(OBJECT(s), &virtio_mmio_class);
    g_assert_true(object_property_set_str(OBJECT(s), "force-legacy", "on", NULL));
    g_assert_true(object_realize(OBJECT(s), NULL));
    virtio_mmio_register_bus(s, 9);
    Error *err = NULL;
    Object *dev = device_create("test-virtio-echo,bus=virtio-mmio-bus.9", &err);
    assert_no_error(err);
    EchoDev *echo = (EchoDev *)dev;

    g_assert_cmpuint(rd(s, VIRTIO_MMIO_VERSION), ==, 1);
    wr(s, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    g_assert_cmphex(rd(s, VIRTIO_MMIO_DEVICE_FEATURES), ==, 0);     /* no VERSION_1 */
    wr(s, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    wr(s, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(s, VIRTIO_MMIO_DRIVER_FEATURES, 0);
    wr(s, VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
    wr(s, VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(s, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
    wr(s, VIRTIO_MMIO_QUEUE_ALIGN, 4096);
    uint64_t base = RAM_BASE + 0x10000;
    wr(s, VIRTIO_MMIO_QUEUE_PFN, base / 4096);
    g_assert_cmphex(rd(s, VIRTIO_MMIO_QUEUE_PFN), ==, base / 4096);
    wr(s, VIRTIO_MMIO_STATUS, 0x7);

    /* Legacy layout: avail right after the table, used at the next 4096 boundary. */
    uint64_t avail = base + 16 * QSIZE, used = base + 4096;
    post_chain(base, avail, 0, 33);
    wr(s, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    g_assert_cmpuint(echo->handled, ==, 1);
    g_assert_cmpuint(get16(used + 2), ==, 1);
    g_assert_cmpuint(get32(used + 8), ==, 33);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_INTERRUPT_STATUS), ==, VIRTIO_ISR_QUEUE);
    wr(s, VIRTIO_MMIO_STATUS, 0);
    g_assert_cmpuint(rd(s, VIRTIO_MMIO_QUEUE_PFN), ==, 0);
}

static void test_cold_plug_done(void)
{
    Error *err = NULL;
    qdev_machine_creation_done();
    g_assert_null(device_create("test-virtio-echo,bus=virtio-mmio-bus.1", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Bus 'virtio-mmio-bus.1' does not support hotplugging");
    error_free(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_system_init();
    g_assert_true(memory_region_init_ram(&ram, "ram", RAM_SIZE, NULL));
    memory_region_add_subregion(system_memory, RAM_BASE, &ram);
    IrqLine *irqs = irq_lines_new(test_irq, NULL, 3);
    for (unsigned i = 0; i < 3; i++) {
        slot[i] = (VirtioMmio *)object_new(&virtio_mmio_class);
        slot[i]->irq = &irqs[i];
        g_assert_true(object_realize(OBJECT(slot[i]), NULL));
    }
    for (int i = 2; i >= 0; i--) {
        virtio_mmio_register_bus(slot[i], i);
    }
    bql_lock();

    g_test_add_func("/virtio-mmio/bus-placement", test_bus_placement);
    g_test_add_func("/virtio-mmio/empty-slot", test_empty_slot);
    g_test_add_func("/virtio-mmio/modern-queue", test_modern_queue);
    g_test_add_func("/virtio-mmio/legacy-queue", test_legacy_queue);
    g_test_add_func("/virtio-mmio/cold-plug-done", test_cold_plug_done);
    int ret = g_test_run();
    bql_unlock();
    return ret;
}
