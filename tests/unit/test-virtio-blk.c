/* virtio-blk-device on a raw image through the block layer: each request type, its status
 * byte and used length, and the error paths (range, read-only, unsupported, malformed). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "block/block-backend.h"
#include "hw/core/qdev.h"
#include "hw/virtio/virtio_mmio.h"
#include "util/bql.h"
#include "util/mainloop.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE 0x100000ULL
#define DISK_SIZE (1024 * 1024)
#define QSIZE 16
#define DESC (RAM_BASE)
#define AVAIL (RAM_BASE + 0x1000)
#define USED (RAM_BASE + 0x2000)
#define HDR (RAM_BASE + 0x10000)
#define DATA (RAM_BASE + 0x20000)
#define STATUS (RAM_BASE + 0x30000)

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WRITE_ZEROES = 13 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2, S_UNTOUCHED = 0xee };

static MemoryRegion ram;
static char *image_path;
static BlockBackend *blk_rw, *blk_ro;
static VirtioMmio *slots[2];
static IrqLine *irqs;
static int irq_level[2];

typedef struct Disk {
    VirtIODevice *vdev;
    BlockBackend *blk;
    uint16_t avail_idx;
    uint16_t used_seen;
} Disk;

static void test_irq(void *opaque, int n, int level)
{
    irq_level[n] = level;
}

static void put(uint64_t addr, const void *data, size_t len)
{
    g_assert_cmpint(address_space_write(&address_space_memory, addr, data, len), ==, MEMTX_OK);
}

static void get(uint64_t addr, void *data, size_t len)
{
    g_assert_cmpint(address_space_read(&address_space_memory, addr, data, len), ==, MEMTX_OK);
}

static uint8_t get8(uint64_t addr)
{
    uint8_t v;
    get(addr, &v, 1);
    return v;
}

static void put_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t d[16];
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
    put(DESC + 16 * i, d, 16);
}

static Disk disks[2];

/* Plugs a virtio-blk-device for drive into slot n. */
static void disk_plug(unsigned n, const char *drive, BlockBackend *blk)
{
    char *spec = g_strdup_printf("virtio-blk-device,drive=%s,serial=SN-%s,"
                                 "bus=virtio-mmio-bus.%u", drive, drive, n);
    Error *err = NULL;
    Object *dev = device_create(spec, &err);
    if (err) {
        g_printerr("%s\n", error_get_pretty(err));
    }
    g_assert_nonnull(dev);
    g_free(spec);
    disks[n] = (Disk) { .vdev = VIRTIO_DEVICE(dev), .blk = blk };
}

/* Resets the disk in slot n and brings its queue up as a driver does. */
static Disk disk_open(unsigned n)
{
    Disk d = disks[n];
    VirtIODevice *vdev = d.vdev;
    virtio_set_status(vdev, 0);
    uint8_t zero[0x3000] = { 0 };
    put(RAM_BASE, zero, sizeof(zero));
    virtio_set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_set_guest_features_word(vdev, 0, (uint32_t)vdev->host_features);
    virtio_set_guest_features_word(vdev, 1, (uint32_t)(vdev->host_features >> 32));
    virtio_set_status(vdev, 0xb);
    g_assert_cmphex(vdev->status, ==, 0xb);
    VirtQueue *vq = &vdev->vq[0];
    vq->num = QSIZE;
    vq->desc = DESC;
    vq->avail = AVAIL;
    vq->used = USED;
    vq->ready = true;
    virtio_set_status(vdev, 0xf);
    return d;
}

/* Submits header(type, sector) + data (readable or writable) + status, waits for the
 * completion and returns the status byte; *used_len gets the used length. */
static uint8_t disk_request(Disk *d, uint32_t type, uint64_t sector, uint32_t data_len,
                            bool data_writable, uint32_t *used_len)
{
    uint8_t hdr[16] = { 0 };
    memcpy(hdr, &type, 4);
    memcpy(hdr + 8, &sector, 8);
    put(HDR, hdr, 16);
    uint8_t st = S_UNTOUCHED;
    put(STATUS, &st, 1);
    unsigned n = 0;
    put_desc(n, HDR, 16, VRING_DESC_F_NEXT, n + 1);
    n++;
    if (data_len) {
        put_desc(n, DATA, data_len, VRING_DESC_F_NEXT | (data_writable ? VRING_DESC_F_WRITE : 0),
                 n + 1);
        n++;
    }
    put_desc(n, STATUS, 1, VRING_DESC_F_WRITE, 0);
    uint16_t slot = d->avail_idx % QSIZE;
    put(AVAIL + 4 + 2 * slot, &(uint16_t){ 0 }, 2);
    d->avail_idx++;
    put(AVAIL + 2, &d->avail_idx, 2);
    virtio_queue_notify(d->vdev, 0);
    blk_drain(d->blk);

    uint16_t used_idx;
    get(USED + 2, &used_idx, 2);
    g_assert_cmpuint(used_idx, ==, (uint16_t)(d->used_seen + 1));
    uint32_t elem[2];
    get(USED + 4 + 8 * (d->used_seen % QSIZE), elem, 8);
    d->used_seen++;
    g_assert_cmpuint(elem[0], ==, 0);
    if (used_len) {
        *used_len = elem[1];
    }
    return get8(STATUS);
}

static uint64_t cfg64(Disk *d, unsigned off)
{
    return virtio_config_read(d->vdev, off, 4) | virtio_config_read(d->vdev, off + 4, 4) << 32;
}

static void test_config_and_features(void)
{
    Disk d = disk_open(1);
    g_assert_cmpuint(d.vdev->device_id, ==, VIRTIO_ID_BLOCK);
    g_assert_cmpuint(cfg64(&d, 0), ==, DISK_SIZE / 512);      /* capacity */
    g_assert_cmpuint(virtio_config_read(d.vdev, 12, 4), ==, 256 - 2);   /* seg_max */
    g_assert_cmpuint(virtio_config_read(d.vdev, 20, 4), ==, 512);       /* blk_size */
    g_assert_cmpuint(virtio_config_read(d.vdev, 34, 2), ==, 1);         /* num_queues */
    g_assert_cmpuint(virtio_config_read(d.vdev, 36, 4), ==, 0x3fffff);  /* max_discard */
    g_assert_cmpuint(virtio_config_read(d.vdev, 40, 4), ==, 1);         /* max_discard_seg */
    uint64_t f = d.vdev->host_features;
    g_assert_true(f & (1ULL << 9));         /* FLUSH */
    g_assert_true(f & (1ULL << 13));        /* DISCARD */
    g_assert_true(f & (1ULL << 14));        /* WRITE_ZEROES */
    g_assert_false(f & (1ULL << 5));        /* RO */
    g_assert_cmpuint(irq_level[1], ==, 0);
}

static void test_read_write(void)
{
    Disk d = disk_open(1);
    uint8_t pattern[4096], back[4096];
    for (unsigned i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i * 7 + 3;
    }
    uint32_t len;
    put(DATA, pattern, sizeof(pattern));
    g_assert_cmpuint(disk_request(&d, T_OUT, 8, 4096, false, &len), ==, S_OK);
    g_assert_cmpuint(len, ==, 1);
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmpuint(disk_request(&d, T_FLUSH, 0, 0, false, NULL), ==, S_OK);

    /* The host sees the data at byte 8 * 512 of the image. */
    FILE *f = fopen(image_path, "rb");
    g_assert_nonnull(f);
    g_assert_cmpint(fseek(f, 8 * 512, SEEK_SET), ==, 0);
    g_assert_cmpuint(fread(back, 1, sizeof(back), f), ==, sizeof(back));
    fclose(f);
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));

    put(DATA, (uint8_t[4096]){ 0 }, 4096);
    g_assert_cmpuint(disk_request(&d, T_IN, 8, 4096, true, &len), ==, S_OK);
    g_assert_cmpuint(len, ==, 4096 + 1);
    get(DATA, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));

    /* Write zeroes over the first half, then read it back. */
    uint8_t seg[16] = { 0 };
    uint64_t sector = 8;
    uint32_t num = 4, flags = 1;    /* unmap allowed */
    memcpy(seg, &sector, 8);
    memcpy(seg + 8, &num, 4);
    memcpy(seg + 12, &flags, 4);
    put(DATA, seg, 16);
    g_assert_cmpuint(disk_request(&d, T_WRITE_ZEROES, 0, 16, false, NULL), ==, S_OK);
    g_assert_cmpuint(disk_request(&d, T_IN, 8, 4096, true, NULL), ==, S_OK);
    get(DATA, back, sizeof(back));
    for (unsigned i = 0; i < 2048; i++) {
        g_assert_cmpuint(back[i], ==, 0);
    }
    g_assert_cmpmem(back + 2048, 2048, pattern + 2048, 2048);

    /* Discard: accepted (the drive ignores it); a flag is not supported. */
    put(DATA, seg, 16);
    g_assert_cmpuint(disk_request(&d, T_DISCARD, 0, 16, false, NULL), ==, S_UNSUPP);
    flags = 0;
    memcpy(seg + 12, &flags, 4);
    put(DATA, seg, 16);
    g_assert_cmpuint(disk_request(&d, T_DISCARD, 0, 16, false, NULL), ==, S_OK);
    /* Two segments: more than max_discard_seg. */
    put(DATA, seg, 16);
    put(DATA + 16, seg, 16);
    g_assert_cmpuint(disk_request(&d, T_DISCARD, 0, 32, false, NULL), ==, S_UNSUPP);
}

static void test_get_id_and_errors(void)
{
    Disk d = disk_open(1);
    uint32_t len;
    char id[20];
    put(DATA, (uint8_t[20]){ 0xff }, 20);
    g_assert_cmpuint(disk_request(&d, T_GET_ID, 0, 20, true, &len), ==, S_OK);
    get(DATA, id, sizeof(id));
    g_assert_cmpstr(id, ==, "SN-d0");
    g_assert_cmpuint(len, ==, 21);

    uint64_t sectors = DISK_SIZE / 512;
    g_assert_cmpuint(disk_request(&d, T_IN, sectors, 512, true, NULL), ==, S_IOERR);
    g_assert_cmpuint(disk_request(&d, T_IN, sectors - 1, 1024, true, NULL), ==, S_IOERR);
    g_assert_cmpuint(disk_request(&d, T_IN, UINT64_MAX, 512, true, NULL), ==, S_IOERR);
    g_assert_cmpuint(disk_request(&d, T_OUT, 0, 100, false, NULL), ==, S_IOERR);
    g_assert_cmpuint(disk_request(&d, T_IN, sectors - 1, 512, true, NULL), ==, S_OK);
    g_assert_cmpuint(disk_request(&d, 99, 0, 0, false, NULL), ==, S_UNSUPP);
    g_assert_false(d.vdev->broken);
}

static void test_readonly(void)
{
    Disk d = disk_open(0);
    g_assert_true(d.vdev->host_features & (1ULL << 5));     /* RO */
    put(DATA, (uint8_t[512]){ 1 }, 512);
    g_assert_cmpuint(disk_request(&d, T_OUT, 0, 512, false, NULL), ==, S_IOERR);
    g_assert_cmpuint(disk_request(&d, T_IN, 0, 512, true, NULL), ==, S_OK);
    uint8_t seg[16] = { 0 };
    uint32_t num = 1;
    memcpy(seg + 8, &num, 4);
    put(DATA, seg, 16);
    g_assert_cmpuint(disk_request(&d, T_WRITE_ZEROES, 0, 16, false, NULL), ==, S_IOERR);
}

/* No status byte: the device needs a reset and the process lives on. */
static void test_malformed(void)
{
    Disk d = disk_open(1);
    put_desc(0, HDR, 16, 0, 0);
    put(AVAIL + 4, &(uint16_t){ 0 }, 2);
    put(AVAIL + 2, &(uint16_t){ 1 }, 2);
    virtio_queue_notify(d.vdev, 0);
    g_assert_true(d.vdev->broken);
    g_assert_true(d.vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    virtio_set_status(d.vdev, 0);
    g_assert_false(d.vdev->broken);

    /* A header shorter than 16 bytes. */
    d = disk_open(1);
    put_desc(0, HDR, 8, VRING_DESC_F_NEXT, 1);
    put_desc(1, STATUS, 1, VRING_DESC_F_WRITE, 0);
    put(AVAIL + 4, &(uint16_t){ 0 }, 2);
    put(AVAIL + 2, &(uint16_t){ 1 }, 2);
    virtio_queue_notify(d.vdev, 0);
    g_assert_true(d.vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* Many requests in flight at once; a reset waits for all of them. */
static void test_many_in_flight(void)
{
    Disk d = disk_open(1);
    const unsigned n = 5;
    for (unsigned i = 0; i < n; i++) {
        uint8_t hdr[16] = { 0 };
        uint32_t type = T_IN;
        uint64_t sector = i;
        memcpy(hdr, &type, 4);
        memcpy(hdr + 8, &sector, 8);
        put(HDR + 16 * i, hdr, 16);
        put_desc(3 * i, HDR + 16 * i, 16, VRING_DESC_F_NEXT, 3 * i + 1);
        put_desc(3 * i + 1, DATA + 512 * i, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
                 3 * i + 2);
        put_desc(3 * i + 2, STATUS + i, 1, VRING_DESC_F_WRITE, 0);
        put(STATUS + i, &(uint8_t){ S_UNTOUCHED }, 1);
        put(AVAIL + 4 + 2 * i, &(uint16_t){ 3 * i }, 2);
    }
    put(AVAIL + 2, &(uint16_t){ n }, 2);
    virtio_queue_notify(d.vdev, 0);
    g_assert_cmpuint(d.vdev->vq[0].inuse, ==, n);
    virtio_set_status(d.vdev, 0);           /* drains, then clears the queue */
    uint16_t used_idx;
    get(USED + 2, &used_idx, 2);
    g_assert_cmpuint(used_idx, ==, n);
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpuint(get8(STATUS + i), ==, S_OK);
    }
    g_assert_cmpuint(d.vdev->vq[0].inuse, ==, 0);
    g_assert_false(d.vdev->vq[0].ready);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_system_init();
    mainloop_init();        /* this thread completes requests and holds the big lock */
    g_assert_true(memory_region_init_ram(&ram, "ram", RAM_SIZE, NULL));
    memory_region_add_subregion(system_memory, RAM_BASE, &ram);
    irqs = irq_lines_new(test_irq, NULL, 2);
    for (unsigned i = 0; i < 2; i++) {
        slots[i] = (VirtioMmio *)object_new(&virtio_mmio_class);
        slots[i]->irq = &irqs[i];
        g_assert_true(object_realize(OBJECT(slots[i]), NULL));
        virtio_mmio_register_bus(slots[i], i);
    }

    image_path = g_strdup_printf("%s/vessel-test-virtio-blk-%d.raw", g_get_tmp_dir(),
                                 (int)getpid());
    FILE *f = fopen(image_path, "wb");
    g_assert_nonnull(f);
    g_assert_cmpint(ftruncate(fileno(f), DISK_SIZE), ==, 0);
    fclose(f);
    char *spec = g_strdup_printf("file=%s,format=raw,if=none,id=d0", image_path);
    blk_rw = drive_new(spec, NULL);
    g_free(spec);
    spec = g_strdup_printf("file=%s,format=raw,if=none,id=d1,readonly=on", image_path);
    blk_ro = drive_new(spec, NULL);
    g_free(spec);
    g_assert_nonnull(blk_rw);
    g_assert_nonnull(blk_ro);
    disk_plug(1, "d0", blk_rw);
    disk_plug(0, "d1", blk_ro);

    g_test_add_func("/virtio-blk/config", test_config_and_features);
    g_test_add_func("/virtio-blk/read-write", test_read_write);
    g_test_add_func("/virtio-blk/get-id-errors", test_get_id_and_errors);
    g_test_add_func("/virtio-blk/readonly", test_readonly);
    g_test_add_func("/virtio-blk/malformed", test_malformed);
    g_test_add_func("/virtio-blk/many-in-flight", test_many_in_flight);
    int ret = g_test_run();
    unlink(image_path);
    g_free(image_path);
    return ret;
}
