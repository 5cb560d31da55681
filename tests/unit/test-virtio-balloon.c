/* virtio-balloon against a fake RAM region: inflate discards host pages, PFNs outside RAM
 * are ignored and counted, deflate, config space, stats parsing and polling, free page
 * reporting, guest-stats and guest-stats-polling-interval properties. */
#include <endian.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include "hw/core/machine.h"
#include "hw/virtio/virtio-balloon.h"
#include "util/log.h"

#define RAM_BASE   0x100000ULL
#define RAM_SIZE   0x100000ULL            /* 1 MiB, 256 balloon pages */
#define QSIZE      8
#define RING(q)    (RAM_BASE + 0x1000 * (q))      /* one page of rings per queue */
#define DESC(q)    (RING(q) + 0x000)
#define AVAIL(q)   (RING(q) + 0x100)
#define USED(q)    (RING(q) + 0x200)
#define BUF        (RAM_BASE + 0x8000)           /* request buffers */
#define DATA       (RAM_BASE + 0x10000)          /* pages the tests give away */
#define PFN(addr)  ((uint32_t)((addr) >> 12))

static MemoryRegion root, ram;
static AddressSpace as;
static char *log_path;
static Machine fake_machine;
static unsigned irq_updates;

static void test_update_irq(void *transport)
{
    irq_updates++;
}

static void put16(uint64_t addr, uint16_t v)
{
    v = htole16(v);
    g_assert_cmpint(address_space_write(&as, addr, &v, 2), ==, MEMTX_OK);
}

static uint16_t get16(uint64_t addr)
{
    uint16_t v = 0;
    g_assert_cmpint(address_space_read(&as, addr, &v, 2), ==, MEMTX_OK);
    return le16toh(v);
}

static void put_desc(unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint8_t d[16];
    uint64_t a = htole64(addr);
    uint32_t l = htole32(len);

    flags = htole16(flags);
    next = htole16(next);
    memcpy(d, &a, 8);
    memcpy(d + 8, &l, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
    g_assert_cmpint(address_space_write(&as, DESC(q) + 16 * i, d, 16), ==, MEMTX_OK);
}

/* Publishes descriptor head as the next available entry of queue q. */
static void make_avail(unsigned q, unsigned head)
{
    uint16_t idx = get16(AVAIL(q) + 2);
    put16(AVAIL(q) + 4 + 2 * (idx % QSIZE), head);
    put16(AVAIL(q) + 2, idx + 1);
}

static uint16_t used_idx(unsigned q)
{
    return get16(USED(q) + 2);
}

static void fill(uint64_t addr, uint8_t byte, size_t len)
{
    uint8_t *buf = g_malloc(len);
    memset(buf, byte, len);
    g_assert_cmpint(address_space_write(&as, addr, buf, len), ==, MEMTX_OK);
    g_free(buf);
}

/* True when every byte of [addr, addr+len) equals byte. */
static bool all_bytes(uint64_t addr, uint8_t byte, size_t len)
{
    uint8_t *buf = g_malloc(len);
    bool ok = true;
    g_assert_cmpint(address_space_read(&as, addr, buf, len), ==, MEMTX_OK);
    for (size_t i = 0; i < len; i++) {
        ok &= buf[i] == byte;
    }
    g_free(buf);
    return ok;
}

/* True when the host page behind guest address addr is resident. */
static bool resident(uint64_t addr)
{
    uint8_t *p = address_space_ram_ptr(&as, addr, 4096, false);
    uintptr_t host_page = (uintptr_t)sysconf(_SC_PAGESIZE);
    unsigned char vec = 0;

    g_assert_nonnull(p);
    g_assert_cmpint(mincore((void *)((uintptr_t)p & ~(host_page - 1)), 1, &vec), ==, 0);
    return vec & 1;
}

/* A realized balloon with the driver running and every queue set up. */
static VirtIOBalloon *balloon_new(const char *props[])
{
    VirtIOBalloon *b = (VirtIOBalloon *)object_new(&virtio_balloon_device_class.oc);
    VirtIODevice *vdev = &b->vdev;
    uint64_t features = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BALLOON_F_STATS_VQ);

    fill(RAM_BASE, 0, 0x8000);
    for (unsigned i = 0; props && props[i]; i += 2) {
        g_assert_true(object_property_set_str(OBJECT(b), props[i], props[i + 1], NULL));
    }
    vdev->as = &as;
    vdev->transport = b;
    vdev->update_irq = test_update_irq;
    g_assert_true(object_realize(OBJECT(b), NULL));
    virtio_reset(vdev);
    if (b->free_page_reporting) {
        features |= 1ULL << VIRTIO_BALLOON_F_REPORTING;
    }
    g_assert_cmphex(vdev->host_features & features, ==, features);
    virtio_set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_set_guest_features_word(vdev, 0, (uint32_t)features);
    virtio_set_guest_features_word(vdev, 1, (uint32_t)(features >> 32));
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_FEATURES_OK);
    for (unsigned q = 0; q < vdev->num_queues; q++) {
        VirtQueue *vq = &vdev->vq[q];
        vq->num = QSIZE;
        vq->desc = DESC(q);
        vq->avail = AVAIL(q);
        vq->used = USED(q);
        vq->ready = true;
    }
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_DRIVER_OK);
    irq_updates = 0;
    return b;
}

static void balloon_free(VirtIOBalloon *b)
{
    object_unrealize(OBJECT(b));
    object_unref(OBJECT(b));
}

/* Sends one buffer of PFNs on queue q. */
static void send_pfns(VirtIOBalloon *b, unsigned q, const uint32_t *pfns, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t le = htole32(pfns[i]);
        g_assert_cmpint(address_space_write(&as, BUF + 4 * i, &le, 4), ==, MEMTX_OK);
    }
    put_desc(q, 0, BUF, 4 * n, 0, 0);
    make_avail(q, 0);
    virtio_queue_notify(&b->vdev, q);
}

static void test_queues_and_features(void)
{
    const char *props[] = { "deflate-on-oom", "on", "free-page-reporting", "on", NULL };
    VirtIOBalloon *b = balloon_new(NULL);

    g_assert_cmpuint(b->vdev.device_id, ==, VIRTIO_ID_BALLOON);
    g_assert_cmpuint(b->vdev.num_queues, ==, 3);
    g_assert_false(b->vdev.host_features & (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
    g_assert_false(b->vdev.host_features & (1ULL << VIRTIO_BALLOON_F_REPORTING));
    balloon_free(b);

    b = balloon_new(props);
    g_assert_cmpuint(b->vdev.num_queues, ==, 4);
    g_assert_true(b->vdev.host_features & (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
    g_assert_true(b->vdev.host_features & (1ULL << VIRTIO_BALLOON_F_REPORTING));
    balloon_free(b);
}

static void test_inflate_discards(void)
{
    VirtIOBalloon *b = balloon_new(NULL);
    uint32_t pfns[] = { PFN(DATA), PFN(DATA + 0x1000), PFN(DATA + 0x3000) };

    fill(DATA, 0xaa, 0x4000);
    g_assert_true(resident(DATA));
    send_pfns(b, 0, pfns, 3);
    g_assert_cmpuint(used_idx(0), ==, 1);
    g_assert_cmpuint(b->pages_inflated, ==, 3);
    g_assert_cmpuint(b->pages_bad, ==, 0);
    g_assert_true(irq_updates > 0);
    /* The host no longer holds the inflated pages; the one left out keeps its data. */
    g_assert_false(resident(DATA));
    g_assert_false(resident(DATA + 0x3000));
    g_assert_true(all_bytes(DATA, 0, 0x2000));
    g_assert_true(all_bytes(DATA + 0x2000, 0xaa, 0x1000));
    g_assert_true(all_bytes(DATA + 0x3000, 0, 0x1000));
    balloon_free(b);
}

static void test_bad_pfns(void)
{
    VirtIOBalloon *b = balloon_new(NULL);
    uint32_t pfns[] = { 0, PFN(RAM_BASE + RAM_SIZE), 0xffffffff, PFN(DATA) };

    fill(DATA, 0x55, 0x1000);
    send_pfns(b, 0, pfns, 4);
    g_assert_cmpuint(used_idx(0), ==, 1);
    g_assert_cmpuint(b->pages_bad, ==, 3);
    g_assert_cmpuint(b->pages_inflated, ==, 1);
    g_assert_false(b->vdev.broken);
    g_assert_true(all_bytes(DATA, 0, 0x1000));
    {
        char *log = NULL;
        g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
        g_assert_nonnull(strstr(log, "inflate of PFN 0xffffffff outside guest RAM ignored"));
        g_free(log);
    }

    /* A trailing partial PFN is ignored; the buffer still goes back. */
    fill(DATA + 0x1000, 0x55, 0x1000);
    put_desc(0, 1, BUF, 6, 0, 0);
    {
        uint32_t le = htole32(PFN(DATA + 0x1000));
        g_assert_cmpint(address_space_write(&as, BUF, &le, 4), ==, MEMTX_OK);
    }
    make_avail(0, 1);
    virtio_queue_notify(&b->vdev, 0);
    g_assert_cmpuint(used_idx(0), ==, 2);
    g_assert_cmpuint(b->pages_inflated, ==, 2);
    g_assert_true(all_bytes(DATA + 0x1000, 0, 0x1000));
    balloon_free(b);
}

static void test_deflate(void)
{
    VirtIOBalloon *b = balloon_new(NULL);
    uint32_t pfns[] = { PFN(DATA), PFN(DATA + 0x1000), 0x12345678 };

    fill(DATA, 0x77, 0x2000);
    send_pfns(b, 1, pfns, 3);
    g_assert_cmpuint(used_idx(1), ==, 1);
    g_assert_cmpuint(b->pages_deflated, ==, 2);
    g_assert_cmpuint(b->pages_bad, ==, 1);
    g_assert_cmpuint(b->pages_inflated, ==, 0);
    /* Deflating gives nothing away: the pages are the guest's again, untouched. */
    g_assert_true(all_bytes(DATA, 0x77, 0x2000));
    balloon_free(b);
}

static void test_config(void)
{
    VirtIOBalloon *b = balloon_new(NULL);
    VirtIODevice *vdev = &b->vdev;
    uint32_t gen = vdev->config_generation;

    g_assert_cmpuint(virtio_config_read(vdev, 0, 4), ==, 0);
    g_assert_cmpuint(virtio_balloon_get_actual(b), ==, RAM_SIZE);
    virtio_balloon_set_target(b, RAM_SIZE / 4);
    g_assert_cmpuint(virtio_config_read(vdev, 0, 4), ==, (RAM_SIZE - RAM_SIZE / 4) >> 12);
    g_assert_cmpuint(vdev->config_generation, !=, gen);
    g_assert_true(vdev->isr & VIRTIO_ISR_CONFIG);
    /* A target above the RAM size means an empty balloon. */
    virtio_balloon_set_target(b, RAM_SIZE * 2);
    g_assert_cmpuint(virtio_config_read(vdev, 0, 4), ==, 0);

    /* The driver reports its balloon in actual; it cannot change num_pages. */
    virtio_balloon_set_target(b, RAM_SIZE / 2);
    virtio_config_write(vdev, 4, 64, 4);
    virtio_config_write(vdev, 0, 7, 4);
    g_assert_cmpuint(virtio_config_read(vdev, 4, 4), ==, 64);
    g_assert_cmpuint(virtio_config_read(vdev, 0, 4), ==, (RAM_SIZE / 2) >> 12);
    g_assert_cmpuint(virtio_balloon_get_actual(b), ==, RAM_SIZE - 64 * 4096);
    /* A reset empties the balloon but keeps the target. */
    virtio_reset(vdev);
    g_assert_cmpuint(virtio_balloon_get_actual(b), ==, RAM_SIZE);
    g_assert_cmpuint(virtio_config_read(vdev, 0, 4), ==, (RAM_SIZE / 2) >> 12);
    balloon_free(b);
}

/* Writes one stats buffer (tag, value pairs plus extra trailing bytes) and sends it. */
static void send_stats(VirtIOBalloon *b, unsigned head, const uint64_t *tv, unsigned n,
                       unsigned trailing)
{
    uint64_t addr = BUF + 0x400 * head;

    for (unsigned i = 0; i < n; i++) {
        uint16_t tag = htole16((uint16_t)tv[2 * i]);
        uint64_t val = htole64(tv[2 * i + 1]);
        g_assert_cmpint(address_space_write(&as, addr + 10 * i, &tag, 2), ==, MEMTX_OK);
        g_assert_cmpint(address_space_write(&as, addr + 10 * i + 2, &val, 8), ==, MEMTX_OK);
    }
    put_desc(2, head, addr, 10 * n + trailing, 0, 0);
    make_avail(2, head);
    virtio_queue_notify(&b->vdev, 2);
}

/* Parses the guest-stats property; NULL (and *err set) when the read fails. */
static JsonObject *guest_stats(VirtIOBalloon *b, JsonNode **node, Error **errp)
{
    char *text = object_property_get_str(OBJECT(b), "guest-stats", errp);

    if (!text) {
        return NULL;
    }
    *node = json_from_string(text, NULL);
    g_free(text);
    g_assert_nonnull(*node);
    return json_node_get_object(*node);
}

static void test_stats(void)
{
    VirtIOBalloon *b = balloon_new(NULL);
    const uint64_t first[] = {
        VIRTIO_BALLOON_S_SWAP_IN, 1, VIRTIO_BALLOON_S_SWAP_OUT, 2,
        VIRTIO_BALLOON_S_MAJFLT, 3, VIRTIO_BALLOON_S_MINFLT, 4,
        VIRTIO_BALLOON_S_MEMFREE, 5ULL << 30, VIRTIO_BALLOON_S_MEMTOT, 6ULL << 30,
        VIRTIO_BALLOON_S_AVAIL, 7, VIRTIO_BALLOON_S_CACHES, 8,
        VIRTIO_BALLOON_S_HTLB_PGALLOC, 9, VIRTIO_BALLOON_S_HTLB_PGFAIL, 10,
        4242, 99,   /* unknown tag: ignored */
    };
    const uint64_t second[] = { VIRTIO_BALLOON_S_MEMFREE, 1234 };
    JsonNode *node;
    JsonObject *o, *s;

    /* Before anything arrived, with polling off: every stat is -1. */
    o = guest_stats(b, &node, NULL);
    g_assert_nonnull(o);
    g_assert_cmpint(json_object_get_int_member(o, "last-update"), ==, 0);
    s = json_object_get_object_member(o, "stats");
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++) {
        g_assert_cmpint(json_object_get_int_member(s, virtio_balloon_stat_names[i]), ==, -1);
    }
    json_node_unref(node);
    /* The text form (-device help, info qtree) stays empty until a report came. */
    {
        const Property *p = object_find_property(OBJECT(b), "guest-stats");
        char *t = p->info->get(OBJECT(b), p);
        g_assert_cmpstr(t, ==, "");
        g_free(t);
    }

    send_stats(b, 0, first, 11, 3);
    g_assert_cmpuint(used_idx(2), ==, 0);          /* the device keeps the buffer */
    o = guest_stats(b, &node, NULL);
    s = json_object_get_object_member(o, "stats");
    g_assert_cmpint(json_object_get_int_member(o, "last-update"), >, 0);
    g_assert_cmpint(json_object_get_int_member(s, "stat-swap-in"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(s, "stat-swap-out"), ==, 2);
    g_assert_cmpint(json_object_get_int_member(s, "stat-major-faults"), ==, 3);
    g_assert_cmpint(json_object_get_int_member(s, "stat-minor-faults"), ==, 4);
    g_assert_cmpint(json_object_get_int_member(s, "stat-free-memory"), ==, 5LL << 30);
    g_assert_cmpint(json_object_get_int_member(s, "stat-total-memory"), ==, 6LL << 30);
    g_assert_cmpint(json_object_get_int_member(s, "stat-available-memory"), ==, 7);
    g_assert_cmpint(json_object_get_int_member(s, "stat-disk-caches"), ==, 8);
    g_assert_cmpint(json_object_get_int_member(s, "stat-htlb-pgalloc"), ==, 9);
    g_assert_cmpint(json_object_get_int_member(s, "stat-htlb-pgfail"), ==, 10);
    g_assert_cmpuint(json_object_get_size(s), ==, VIRTIO_BALLOON_S_NR);
    json_node_unref(node);
    {
        const Property *p = object_find_property(OBJECT(b), "guest-stats");
        char *t = p->info->get(OBJECT(b), p);
        g_assert_nonnull(strstr(t, "\"stat-swap-out\": 2,"));
        g_free(t);
    }

    /* A second buffer: the first goes back, and stale values are forgotten. */
    send_stats(b, 1, second, 1, 0);
    g_assert_cmpuint(used_idx(2), ==, 1);
    o = guest_stats(b, &node, NULL);
    s = json_object_get_object_member(o, "stats");
    g_assert_cmpint(json_object_get_int_member(s, "stat-free-memory"), ==, 1234);
    g_assert_cmpint(json_object_get_int_member(s, "stat-swap-in"), ==, -1);
    json_node_unref(node);

    /* Read-only. */
    g_assert_false(object_property_set_str(OBJECT(b), "guest-stats", "{}", NULL));
    balloon_free(b);
}

static void test_stats_polling(void)
{
    VirtIOBalloon *b = balloon_new(NULL);
    const uint64_t stats[] = { VIRTIO_BALLOON_S_MEMTOT, 4096 };
    Error *err = NULL;
    JsonNode *node;
    char *text;

    g_assert_false(timer_pending(b->stats_timer));
    g_assert_false(object_property_set_str(OBJECT(b), "guest-stats-polling-interval", "-1",
                                           &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "timer value must be greater than zero");
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(OBJECT(b), "guest-stats-polling-interval",
                                           "5000000000", NULL));
    g_assert_false(object_property_set_str(OBJECT(b), "guest-stats-polling-interval", "x",
                                           NULL));

    /* Polling on a realized device starts the timer; no stats yet is an error. */
    g_assert_true(object_property_set_str(OBJECT(b), "guest-stats-polling-interval", "1",
                                          NULL));
    text = object_property_get_str(OBJECT(b), "guest-stats-polling-interval", NULL);
    g_assert_cmpstr(text, ==, "1");
    g_free(text);
    g_assert_true(timer_pending(b->stats_timer));
    g_assert_null(guest_stats(b, &node, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "guest hasn't updated any stats yet");
    error_free(err);

    send_stats(b, 0, stats, 1, 0);
    g_assert_nonnull(guest_stats(b, &node, NULL));
    json_node_unref(node);
    g_assert_cmpuint(used_idx(2), ==, 0);
    /* When the interval passes, the buffer goes back to ask for fresh values. */
    g_assert_cmpint(timer_expire_time(b->stats_timer) - clock_ns(), <=, 1000000000LL);
    g_usleep(1100 * 1000);
    timers_run_expired();
    g_assert_cmpuint(used_idx(2), ==, 1);
    g_assert_null(b->stats_elem);
    /* The refill re-arms the timer; turning polling off stops it. */
    send_stats(b, 1, stats, 1, 0);
    g_assert_true(timer_pending(b->stats_timer));
    g_assert_true(object_property_set_str(OBJECT(b), "guest-stats-polling-interval", "0",
                                          NULL));
    g_assert_false(timer_pending(b->stats_timer));
    balloon_free(b);
}

static void test_free_page_reporting(void)
{
    const char *props[] = { "free-page-reporting", "on", NULL };
    VirtIOBalloon *b = balloon_new(props);

    fill(DATA, 0x99, 0x4000);
    /* Two device-writable ranges in one chain: the free pages themselves. */
    put_desc(3, 0, DATA, 0x2000, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    put_desc(3, 1, DATA + 0x3000, 0x1000, VRING_DESC_F_WRITE, 0);
    make_avail(3, 0);
    virtio_queue_notify(&b->vdev, 3);
    g_assert_cmpuint(used_idx(3), ==, 1);
    g_assert_cmpuint(b->bytes_reported, ==, 0x3000);
    g_assert_false(resident(DATA));
    g_assert_true(all_bytes(DATA, 0, 0x2000));
    g_assert_true(all_bytes(DATA + 0x2000, 0x99, 0x1000));
    g_assert_true(all_bytes(DATA + 0x3000, 0, 0x1000));

    /* A device-readable buffer on the reporting queue breaks the protocol. */
    put_desc(3, 2, DATA, 0x1000, 0, 0);
    make_avail(3, 2);
    virtio_queue_notify(&b->vdev, 3);
    g_assert_true(b->vdev.broken);
    g_assert_cmpuint(used_idx(3), ==, 1);
    balloon_free(b);
}

static void test_find_and_one_only(void)
{
    VirtIOBalloon *a = (VirtIOBalloon *)object_new(&virtio_balloon_device_class.oc);
    VirtIOBalloon *b = (VirtIOBalloon *)object_new(&virtio_balloon_device_class.oc);
    Error *err = NULL;

    a->vdev.as = b->vdev.as = &as;
    g_assert_null(virtio_balloon_find());
    g_assert_true(object_add_child(object_root(), "balloon-a", OBJECT(a), NULL));
    g_assert_null(virtio_balloon_find());      /* not realized yet */
    g_assert_true(object_realize(OBJECT(a), NULL));
    g_assert_true(virtio_balloon_find() == a);
    g_assert_true(object_add_child(object_root(), "balloon-b", OBJECT(b), NULL));
    g_assert_false(object_realize(OBJECT(b), &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Only one balloon device is supported");
    error_free(err);
    object_unparent(OBJECT(b));
    object_unrealize(OBJECT(a));
    object_unparent(OBJECT(a));
    object_unref(OBJECT(a));
    object_unref(OBJECT(b));
    g_assert_null(virtio_balloon_find());
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    memory_region_init_container(&root, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&ram, "ram", RAM_SIZE, NULL));
    memory_region_add_subregion(&root, RAM_BASE, &ram);
    address_space_init(&as, &root, "test");
    fake_machine.ram_size = RAM_SIZE;
    current_machine = &fake_machine;
    log_mask = LOG_GUEST_ERROR;
    log_path = g_strdup_printf("%s/vessel-test-balloon-%d.log", g_get_tmp_dir(), (int)getpid());
    g_assert_true(log_set_file(log_path, NULL));

    g_test_add_func("/virtio-balloon/queues-features", test_queues_and_features);
    g_test_add_func("/virtio-balloon/inflate", test_inflate_discards);
    g_test_add_func("/virtio-balloon/bad-pfns", test_bad_pfns);
    g_test_add_func("/virtio-balloon/deflate", test_deflate);
    g_test_add_func("/virtio-balloon/config", test_config);
    g_test_add_func("/virtio-balloon/stats", test_stats);
    g_test_add_func("/virtio-balloon/stats-polling", test_stats_polling);
    g_test_add_func("/virtio-balloon/free-page-reporting", test_free_page_reporting);
    g_test_add_func("/virtio-balloon/find", test_find_and_one_only);
    ret = g_test_run();
    unlink(log_path);
    g_free(log_path);
    return ret;
}
