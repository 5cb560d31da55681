/* bdrv_copy_range between raw and qcow2 images on temporary files: unaligned ranges across
 * cluster boundaries, every kind of qcow2 source cluster, the read + write fallback when the
 * kernel refuses copy_file_range (forced through the wrapper below), targets without room,
 * and bdrv_map_host. Each copy is checked against an in-memory model, and qcow2 targets
 * with `qemu-img check` when it is installed. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "block/block_int.h"

#define MIB (1024 * 1024)
#define SIZE (4 * MIB)

static char *tmpdir;
static bool have_qemu_img;

/* The block layer's copy_file_range calls land here: they are counted, and fail with
 * cfr_errno when it is set (as a kernel without support, or another file system, would). */
static int cfr_errno;
static int cfr_calls;

ssize_t copy_file_range(int in_fd, loff_t *in_off, int out_fd, loff_t *out_off, size_t len,
                        unsigned int flags)
{
    __atomic_add_fetch(&cfr_calls, 1, __ATOMIC_RELAXED);
    if (cfr_errno) {
        errno = cfr_errno;
        return -1;
    }
    return syscall(SYS_copy_file_range, in_fd, in_off, out_fd, out_off, len, flags);
}

static char *tmp_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static BlockDriverState *open_image(const char *name, const char *fmt, int flags)
{
    GHashTable *o = g_hash_table_new(g_str_hash, g_str_equal);
    char *path = tmp_path(name);
    Error *err = NULL;
    BlockDriverState *bs;

    g_hash_table_insert(o, "driver", (gpointer)fmt);
    bs = bdrv_open(path, o, flags, &err);
    if (!bs) {
        g_test_message("open %s: %s", path, error_get_pretty(err));
        error_free(err);
    }
    g_hash_table_unref(o);
    g_free(path);
    g_assert_nonnull(bs);
    return bs;
}

static BlockDriverState *create_image(const char *name, const char *fmt, uint64_t size)
{
    BlockCreateOpts opts = { .set = BLOCK_OPT_SIZE, .size = size };
    char *path = tmp_path(name);
    Error *err = NULL;

    g_unlink(path);
    if (!bdrv_create(fmt, path, &opts, &err)) {
        g_test_message("create %s: %s", path, error_get_pretty(err));
        error_free(err);
        g_assert_not_reached();
    }
    g_free(path);
    return open_image(name, fmt, BDRV_O_RDWR);
}

/* Deterministic non-zero bytes that differ with seed and position. */
static void fill(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)((i * 131 + seed * 7919 + (i >> 12)) % 251 + 1);
    }
}

static void assert_reads(BlockDriverState *bs, const uint8_t *model, uint64_t size)
{
    uint8_t *got = g_malloc(size);

    g_assert_cmpint(bdrv_pread(bs, 0, size, got), ==, 0);
    for (uint64_t i = 0; i < size; i++) {
        if (got[i] != model[i]) {
            g_test_message("first difference at byte %" PRIu64 ": 0x%02x, expected 0x%02x",
                           i, got[i], model[i]);
            g_assert_not_reached();
        }
    }
    g_free(got);
}

static void assert_qemu_check_clean(const char *name)
{
    char *path = tmp_path(name);
    char *cmd = g_strdup_printf("qemu-img check -q -f qcow2 '%s'", path);
    int status = -1;

    if (have_qemu_img) {
        g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL));
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    g_free(cmd);
    g_free(path);
}

/* A qcow2 source with plain data, a zero cluster, an unallocated hole and a compressed
 * cluster (64k clusters); model gets its content. */
static BlockDriverState *make_qcow2_source(uint8_t *model)
{
    BlockDriverState *bs = create_image("src.qcow2", "qcow2", SIZE);
    uint8_t *buf = g_malloc(MIB);

    memset(model, 0, SIZE);
    fill(buf, MIB, 1);
    g_assert_cmpint(bdrv_pwrite(bs, 0, MIB, buf), ==, 0);
    memcpy(model, buf, MIB);
    g_assert_cmpint(bdrv_pwrite_zeroes(bs, 128 * 1024, 65536, 0), ==, 0);
    memset(model + 128 * 1024, 0, 65536);
    memset(buf, 0x5a, 65536);
    g_assert_cmpint(bdrv_pwrite_compressed(bs, 2 * MIB, 65536, buf), ==, 0);
    memcpy(model + 2 * MIB, buf, 65536);
    fill(buf, MIB, 2);
    g_assert_cmpint(bdrv_pwrite(bs, 3 * MIB - 4096, MIB, buf), ==, 0);
    memcpy(model + 3 * MIB - 4096, buf, MIB);
    g_free(buf);
    return bs;
}

/* Copies src into dst in uneven pieces at unaligned offsets (crossing clusters). */
static void copy_in_pieces(BlockDriverState *src, BlockDriverState *dst, uint64_t size)
{
    uint64_t off = 0, step = 1000;

    while (off < size) {
        uint64_t n = MIN(step, size - off);

        g_assert_cmpint(bdrv_copy_range(src, off, dst, off, n), ==, 0);
        off += n;
        step = step * 3 + 517;
    }
}

static void test_raw_to_qcow2(void)
{
    BlockDriverState *src = create_image("src.raw", "raw", SIZE);
    BlockDriverState *dst = create_image("dst.qcow2", "qcow2", SIZE);
    uint8_t *model = g_malloc0(SIZE);

    fill(model + 4096, SIZE - 8192, 3);
    g_assert_cmpint(bdrv_pwrite(src, 0, SIZE, model), ==, 0);
    cfr_calls = 0;
    copy_in_pieces(src, dst, SIZE);
    g_assert_cmpint(cfr_calls, >, 0);
    /* Overwrite allocated clusters in place, unaligned. */
    g_assert_cmpint(bdrv_copy_range(src, 12345, dst, 777777, 100000), ==, 0);
    memmove(model + 777777, model + 12345, 100000);
    assert_reads(dst, model, SIZE);
    bdrv_unref(dst);
    bdrv_unref(src);
    assert_qemu_check_clean("dst.qcow2");
    g_free(model);
}

static void test_qcow2_to_raw(void)
{
    uint8_t *model = g_malloc(SIZE);
    BlockDriverState *src = make_qcow2_source(model);
    BlockDriverState *dst = create_image("dst.raw", "raw", SIZE);
    BlockDriverState *dst2 = create_image("dst2.qcow2", "qcow2", SIZE);

    cfr_calls = 0;
    copy_in_pieces(src, dst, SIZE);
    g_assert_cmpint(cfr_calls, >, 0);
    assert_reads(dst, model, SIZE);
    g_assert_cmpint(bdrv_copy_range(src, 0, dst2, 0, SIZE), ==, 0);
    assert_reads(dst2, model, SIZE);
    bdrv_unref(dst2);
    bdrv_unref(dst);
    bdrv_unref(src);
    assert_qemu_check_clean("dst2.qcow2");
    g_free(model);
}

static void check_fallback(int err)
{
    uint8_t *model = g_malloc(SIZE);
    BlockDriverState *src = make_qcow2_source(model);
    BlockDriverState *dst = create_image("fb.qcow2", "qcow2", SIZE);
    BlockDriverState *raw = create_image("fb.raw", "raw", SIZE);

    cfr_errno = err;
    cfr_calls = 0;
    copy_in_pieces(src, dst, SIZE);
    g_assert_cmpint(cfr_calls, >, 0);
    g_assert_cmpint(bdrv_copy_range(dst, 0, raw, 0, SIZE), ==, 0);
    cfr_errno = 0;
    assert_reads(dst, model, SIZE);
    assert_reads(raw, model, SIZE);
    bdrv_unref(raw);
    bdrv_unref(dst);
    bdrv_unref(src);
    assert_qemu_check_clean("fb.qcow2");
    g_free(model);
}

static void test_fallback_refused(void)
{
    int calls;

    check_fallback(ENOSYS);
    calls = cfr_calls;
    check_fallback(EXDEV);
    check_fallback(EOPNOTSUPP);
    check_fallback(EINVAL);
    /* Once refused, a target node stops asking the kernel. */
    g_assert_cmpint(calls, <, 20);
}

static void test_no_room(void)
{
    BlockDriverState *src = create_image("small.raw", "raw", MIB);
    BlockDriverState *dst = create_image("room.qcow2", "qcow2", MIB);
    uint8_t *model = g_malloc(MIB);
    BlockDriverState *ro;

    fill(model, MIB, 4);
    g_assert_cmpint(bdrv_pwrite(src, 0, MIB, model), ==, 0);
    /* Ranges past either node's end. */
    g_assert_cmpint(bdrv_copy_range(src, 4096, dst, 0, MIB), ==, -EIO);
    g_assert_cmpint(bdrv_copy_range(src, 0, dst, 4096, MIB), ==, -EIO);
    /* The host file has no room: the error comes back and no cluster stays allocated. */
    cfr_errno = ENOSPC;
    g_assert_cmpint(bdrv_copy_range(src, 0, dst, 0, 65536), ==, -ENOSPC);
    cfr_errno = 0;
    g_assert_cmpint(bdrv_block_status(dst, 0, 65536, &(int64_t){ 0 }, &(int64_t){ 0 },
                                      &(BlockDriverState *){ NULL }) & BDRV_BLOCK_DATA, ==, 0);
    bdrv_unref(dst);
    assert_qemu_check_clean("room.qcow2");
    /* A read-only target. */
    ro = open_image("room.qcow2", "qcow2", 0);
    g_assert_cmpint(bdrv_copy_range(src, 0, ro, 0, 4096), ==, -EPERM);
    bdrv_unref(ro);
    bdrv_unref(src);
    g_free(model);
}

static void test_map_host(void)
{
    BlockDriverState *bs = create_image("map.raw", "raw", MIB);
    uint8_t *buf = g_malloc(MIB);
    const uint8_t *view;
    uint64_t len = 0;

    fill(buf, MIB, 5);
    g_assert_cmpint(bdrv_pwrite(bs, 0, MIB, buf), ==, 0);
    g_assert_null(bdrv_map_host(bs, &len));
    view = bdrv_map_host(bs->file, &len);
    g_assert_nonnull(view);
    g_assert_cmpuint(len, ==, MIB);
    g_assert_cmpint(memcmp(view, buf, MIB), ==, 0);
    g_assert_true(bdrv_map_host(bs->file, &len) == view);
    bdrv_unref(bs);
    g_free(buf);
}

int main(int argc, char **argv)
{
    char *qemu_img = g_find_program_in_path("qemu-img");
    int ret;

    g_test_init(&argc, &argv, NULL);
    have_qemu_img = qemu_img != NULL;
    g_free(qemu_img);
    tmpdir = g_dir_make_tmp("vessel-block-copy-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/block-copy/raw-to-qcow2", test_raw_to_qcow2);
    g_test_add_func("/block-copy/qcow2-to-raw", test_qcow2_to_raw);
    g_test_add_func("/block-copy/fallback-refused", test_fallback_refused);
    g_test_add_func("/block-copy/no-room", test_no_room);
    g_test_add_func("/block-copy/map-host", test_map_host);
    ret = g_test_run();
    {
        GDir *d = g_dir_open(tmpdir, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
            char *p = tmp_path(name);
            g_unlink(p);
            g_free(p);
        }
        if (d) {
            g_dir_close(d);
        }
    }
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return ret;
}
