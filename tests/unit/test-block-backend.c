/* BlockBackend: -drive/-blockdev parsing, asynchronous requests completing on the main loop,
 * drain, write-through, statistics, and clear errors for bad options. */
#include <errno.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include "config.h"
#include "block/block-backend.h"
#include "block/block_int.h"

static char *tmpdir;

typedef struct Done {
    int count;
    int last_ret;
} Done;

static void on_done(void *opaque, int ret)
{
    Done *d = opaque;
    d->count++;
    d->last_ret = ret;
}

static void wait_for(Done *d, int count)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (d->count < count && g_get_monotonic_time() < deadline) {
        g_main_context_iteration(NULL, TRUE);
    }
    g_assert_cmpint(d->count, ==, count);
}

static char *make_image(const char *name, const char *fmt, uint64_t size)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    BlockCreateOpts o = { .set = BLOCK_OPT_SIZE, .size = size };
    Error *err = NULL;
    g_assert_true(bdrv_create(fmt, path, &o, &err));
    return path;
}

/* data: "<format>/<cache mode>[/<aio mode>]" */
static void test_drive_rw(gconstpointer data)
{
    char **parts = g_strsplit(data, "/", 3);
    const char *fmt = parts[0], *cache = parts[1], *aio = parts[2] ? parts[2] : "threads";
    char *name = g_strdup_printf("d.%s.%s.%s", fmt, cache, aio);
    char *path = make_image(name, fmt, 4 << 20);
    char *opt = g_strdup_printf("file=%s,format=%s,if=none,id=%s,cache=%s,aio=%s", path, fmt,
                                name, cache, aio);
    Error *err = NULL;
    BlockBackend *blk = drive_new(opt, &err);
    g_assert_nonnull(blk);
    g_assert_true(blk_by_name(blk_name(blk)) == blk);
    g_assert_cmpint(blk_getlength(blk), ==, 4 << 20);
    g_assert_cmpint(blk_enable_write_cache(blk), ==,
                    strcmp(cache, "writethrough") && strcmp(cache, "directsync"));
    BlockInfo info;
    blk_get_info(blk, &info);
    g_assert_cmpstr(info.format, ==, fmt);
    g_assert_cmpstr(info.cache_mode, ==, cache);

    enum { N = 32, LEN = 12288 };
    uint8_t *bufs = g_malloc(N * LEN);
    Done d = { 0 };
    for (int i = 0; i < N; i++) {
        memset(bufs + i * LEN, i + 1, LEN);
        struct iovec iov[2] = {
            { bufs + i * LEN, 512 }, { bufs + i * LEN + 512, LEN - 512 },
        };
        blk_aio_pwritev(blk, (uint64_t)i * 100000 + 700, iov, 2, on_done, &d);
    }
    blk_drain(blk);
    g_assert_cmpint(d.count, ==, N);
    g_assert_cmpint(d.last_ret, ==, 0);
    blk_aio_flush(blk, on_done, &d);
    wait_for(&d, N + 1);
    uint8_t *rd = g_malloc(LEN);
    for (int i = 0; i < N; i++) {
        struct iovec iov = { rd, LEN };
        blk_aio_preadv(blk, (uint64_t)i * 100000 + 700, &iov, 1, on_done, &d);
        wait_for(&d, N + 2 + i);
        g_assert_cmpint(d.last_ret, ==, 0);
        g_assert_cmpmem(rd, LEN, bufs + i * LEN, LEN);
    }
    /* Past the end: an error reaches the callback. */
    struct iovec iov = { rd, 512 };
    blk_aio_preadv(blk, 4 << 20, &iov, 1, on_done, &d);
    blk_drain(blk);
    g_assert_cmpint(d.last_ret, <, 0);
    const BlockAcctStats *st = blk_get_stats(blk);
    g_assert_cmpuint(st->wr_operations, ==, N);
    g_assert_cmpuint(st->wr_bytes, ==, (uint64_t)N * LEN);
    g_assert_cmpuint(st->rd_operations, ==, N);
    g_assert_cmpuint(st->failed_rd_operations, ==, 1);
    g_assert_cmpuint(st->flush_operations, ==, 1);
    blk_aio_pwrite_zeroes(blk, 0, 65536, true, on_done, &d);
    blk_drain(blk);
    g_assert_cmpint(d.last_ret, ==, 0);
    blk_flush_all();
    g_free(rd);
    g_free(bufs);
    g_free(opt);
    g_free(name);
    g_free(path);
    g_strfreev(parts);
}

#if CONFIG_LINUX_IO_URING
/* aio=io_uring with O_DIRECT: many aligned requests in flight at once complete through the
 * main loop; an unaligned write among them (bounce path) keeps the data consistent. */
static void test_io_uring_direct(void)
{
    char *path = make_image("uring.raw", "raw", 8 << 20);
    char *opt = g_strdup_printf("file=%s,format=raw,if=none,id=uring,cache=none,aio=native",
                                path);
    Error *err = NULL;
    BlockBackend *blk = drive_new(opt, &err);
    if (!blk) {
        g_error("%s", error_get_pretty(err));
    }
    enum { N = 128, LEN = 65536 };
    uint8_t *bufs = NULL;
    g_assert_cmpint(posix_memalign((void **)&bufs, 4096, (size_t)N * LEN), ==, 0);
    Done d = { 0 };
    for (int i = 0; i < N; i++) {
        memset(bufs + (size_t)i * LEN, i + 1, LEN);
        struct iovec iov = { bufs + (size_t)i * LEN, LEN };
        blk_aio_pwritev(blk, (uint64_t)i * LEN, &iov, 1, on_done, &d);
    }
    wait_for(&d, N);
    g_assert_cmpint(d.last_ret, ==, 0);
    /* An unaligned write (bounce buffer) while aligned writes to other clusters run. */
    uint8_t odd[700];
    memset(odd, 0xee, sizeof(odd));
    struct iovec oiov = { odd, sizeof(odd) };
    blk_aio_pwritev(blk, 3 * LEN + 100, &oiov, 1, on_done, &d);
    for (int i = N / 2; i < N; i++) {
        struct iovec iov = { bufs + (size_t)i * LEN, LEN };
        blk_aio_pwritev(blk, (uint64_t)i * LEN, &iov, 1, on_done, &d);
    }
    blk_drain(blk);
    g_assert_cmpint(d.count, ==, N + 1 + N / 2);
    g_assert_cmpint(d.last_ret, ==, 0);
    memset(bufs, 0, (size_t)N * LEN);
    for (int i = 0; i < N; i++) {
        struct iovec iov = { bufs + (size_t)i * LEN, LEN };
        blk_aio_preadv(blk, (uint64_t)i * LEN, &iov, 1, on_done, &d);
    }
    blk_drain(blk);
    g_assert_cmpint(d.count, ==, 2 * N + 1 + N / 2);
    g_assert_cmpint(d.last_ret, ==, 0);
    for (int i = 0; i < N; i++) {
        uint8_t *b = bufs + (size_t)i * LEN;
        for (int j = 0; j < LEN; j++) {
            uint8_t want = (i == 3 && j >= 100 && j < 800) ? 0xee : i + 1;
            if (b[j] != want) {
                g_error("cluster %d byte %d: %#x, want %#x", i, j, b[j], want);
            }
        }
    }
    const BlockAcctStats *st = blk_get_stats(blk);
    g_assert_cmpuint(st->rd_operations, ==, N);
    g_assert_cmpuint(st->wr_operations, ==, N + 1 + N / 2);
    free(bufs);
    g_free(opt);
    g_free(path);
}
#endif

static void test_blockdev(void)
{
    char *path = make_image("bd.qcow2", "qcow2", 1 << 20);
    char *opt = g_strdup_printf("driver=qcow2,node-name=disk0,file.driver=file,"
                                "file.filename=%s,read-only=on", path);
    Error *err = NULL;
    BlockBackend *blk = blockdev_new(opt, &err);
    g_assert_nonnull(blk);
    g_assert_true(blk_is_read_only(blk));
    g_assert_true(blk_by_name("disk0") == blk);
    BlockInfo info;
    blk_get_info(blk, &info);
    g_assert_cmpstr(info.device, ==, "");
    g_assert_cmpstr(info.node_name, ==, "disk0");
    g_free(opt);
    opt = g_strdup_printf("json:{\"driver\": \"qcow2\", \"node-name\": \"disk1\", "
                          "\"file\": {\"driver\": \"file\", \"filename\": \"%s\"}}", path);
    blk = blockdev_new(opt, &err);
    g_assert_nonnull(blk);
    g_assert_false(blk_is_read_only(blk));
    g_free(opt);
    g_free(path);
}

static void expect_error(BlockBackend *(*fn)(const char *, Error **), const char *opt,
                         const char *substr)
{
    Error *err = NULL;
    g_assert_null(fn(opt, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), substr)) {
        g_test_message("'%s' lacks '%s'", error_get_pretty(err), substr);
        g_assert_not_reached();
    }
    error_free(err);
}

static void test_errors(void)
{
    char *path = make_image("e.raw", "raw", 1 << 20);
    char *opt = g_strdup_printf("file=%s,format=raw,bogus=1", path);
    expect_error(drive_new, opt, "Invalid parameter 'bogus'");
    g_free(opt);
    opt = g_strdup_printf("file=%s,format=qcow2", path);
    expect_error(drive_new, opt, "not in qcow2 format");
    g_free(opt);
    opt = g_strdup_printf("file=%s,format=raw,cache=sometimes", path);
    expect_error(drive_new, opt, "Invalid cache mode");
    g_free(opt);
    opt = g_strdup_printf("file=%s,format=nope", path);
    expect_error(drive_new, opt, "Unknown driver 'nope'");
    g_free(opt);
    expect_error(drive_new, "file=/nonexistent/x.img,format=raw", "Could not open");
    expect_error(drive_new, "format=raw", "file=");
    opt = g_strdup_printf("file=%s,format=raw,if=ide", path);
    expect_error(drive_new, opt, "if=ide");
    g_free(opt);
    opt = g_strdup_printf("file=%s,format=raw,id=same", path);
    Error *err = NULL;
    g_assert_nonnull(drive_new(opt, &err));
    expect_error(drive_new, opt, "Duplicate ID");
    g_free(opt);
    expect_error(blockdev_new, "driver=raw", "node-name");
    opt = g_strdup_printf("file=%s,format=raw,aio=posix", path);
    expect_error(drive_new, opt, "Invalid parameter value for 'aio'");
    g_free(opt);
    opt = g_strdup_printf("file=%s,format=raw,aio=native", path);
    expect_error(drive_new, opt, "requires cache.direct=on");
    g_free(opt);
    g_free(path);
}

static void test_writethrough_ro(void)
{
    char *path = make_image("wt.raw", "raw", 1 << 20);
    char *opt = g_strdup_printf("file=%s,format=raw,if=virtio,cache=writethrough,readonly=on",
                                path);
    Error *err = NULL;
    BlockBackend *blk = drive_new(opt, &err);
    g_assert_nonnull(blk);
    g_assert_false(blk_enable_write_cache(blk));
    g_assert_true(blk_is_read_only(blk));
    uint8_t buf[512] = { 1 };
    struct iovec iov = { buf, 512 };
    Done d = { 0 };
    blk_aio_pwritev(blk, 0, &iov, 1, on_done, &d);
    blk_drain(blk);
    g_assert_cmpint(d.last_ret, ==, -EPERM);
    GPtrArray *list = drive_list_if_virtio();
    bool found = false;
    for (guint i = 0; i < list->len; i++) {
        found |= g_ptr_array_index(list, i) == blk;
    }
    g_assert_true(found);
    g_assert_true(blk_attach_dev(blk, &d, &err));
    g_assert_false(blk_attach_dev(blk, buf, &err));
    error_free(err);
    g_ptr_array_unref(list);
    g_free(opt);
    g_free(path);
}

static BlockDriverState *open_fmt(const char *path, const char *fmt, int flags)
{
    GHashTable *o = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(o, g_strdup("driver"), g_strdup(fmt));
    BlockDriverState *bs = bdrv_open(path, o, flags, NULL);
    g_hash_table_unref(o);
    return bs;
}

static bool tmpdir_has_overlay(void)
{
    GDir *dir = g_dir_open(tmpdir, 0, NULL);
    const char *n;
    bool found = false;
    while (dir && (n = g_dir_read_name(dir))) {
        found |= g_str_has_prefix(n, "vl.");
    }
    g_dir_close(dir);
    return found;
}

/* snapshot=on: writes are visible through the drive, never reach the image, and the
 * overlay file is not left in $TMPDIR (the test's tmpdir). */
static void test_snapshot(gconstpointer data)
{
    const char *fmt = data;
    char *name = g_strdup_printf("snap.%s", fmt);
    char *path = make_image(name, fmt, 2 << 20);
    uint8_t pat[8192], buf[8192];
    memset(pat, 0xa5, sizeof(pat));
    BlockDriverState *bs = open_fmt(path, fmt, BDRV_O_RDWR);
    g_assert_nonnull(bs);
    g_assert_cmpint(bdrv_pwrite(bs, 65536, sizeof(pat), pat), ==, 0);
    bdrv_unref(bs);

    char *opt = g_strdup_printf("file=%s,format=%s,if=none,id=snap-%s,snapshot=on,cache=none",
                                path, fmt, fmt);
    Error *err = NULL;
    BlockBackend *blk = drive_new(opt, &err);
    if (!blk) {
        g_error("%s", error_get_pretty(err));
    }
    g_assert_false(blk_is_read_only(blk));
    g_assert_cmpint(blk_getlength(blk), ==, 2 << 20);
    g_assert_false(tmpdir_has_overlay());
    BlockInfo info;
    blk_get_info(blk, &info);
    g_assert_cmpstr(info.cache_mode, ==, "none");

    Done d = { 0 };
    struct iovec iov = { buf, sizeof(buf) };
    blk_aio_preadv(blk, 65536, &iov, 1, on_done, &d);
    wait_for(&d, 1);
    g_assert_cmpint(d.last_ret, ==, 0);
    g_assert_cmpmem(buf, sizeof(buf), pat, sizeof(pat));
    memset(buf, 0x3c, sizeof(buf));
    blk_aio_pwritev(blk, 65536 + 4096, &iov, 1, on_done, &d);
    wait_for(&d, 2);
    g_assert_cmpint(d.last_ret, ==, 0);
    uint8_t back[12288];
    struct iovec iov2 = { back, sizeof(back) };
    blk_aio_preadv(blk, 65536, &iov2, 1, on_done, &d);
    wait_for(&d, 3);
    g_assert_cmpint(d.last_ret, ==, 0);
    g_assert_cmpmem(back, 4096, pat, 4096);
    g_assert_cmpmem(back + 4096, 8192, buf, 8192);
    blk_aio_flush(blk, on_done, &d);
    wait_for(&d, 4);

    /* The image itself still holds the original pattern. */
    bs = open_fmt(path, fmt, 0);
    g_assert_nonnull(bs);
    g_assert_cmpint(bdrv_pread(bs, 65536, sizeof(buf), buf), ==, 0);
    g_assert_cmpmem(buf, sizeof(buf), pat, sizeof(pat));
    bdrv_unref(bs);
    g_free(opt);
    g_free(name);
    g_free(path);
}

int main(int argc, char **argv)
{
    /* snapshot=on overlays go to $TMPDIR: point it at tmpdir before glib caches it. */
    const char *parent = g_getenv("TMPDIR");
    tmpdir = g_strdup_printf("%s/vessel-blk-XXXXXX", parent && *parent ? parent : "/tmp");
    g_assert_nonnull(g_mkdtemp(tmpdir));
    g_setenv("TMPDIR", tmpdir, TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/block-backend/drive-rw/raw", "raw/none", test_drive_rw);
    g_test_add_data_func("/block-backend/drive-rw/qcow2", "qcow2/none", test_drive_rw);
#if CONFIG_LINUX_IO_URING
    g_test_add_data_func("/block-backend/drive-rw/raw-io_uring", "raw/writeback/io_uring",
                         test_drive_rw);
    g_test_add_data_func("/block-backend/drive-rw/raw-io_uring-direct", "raw/none/io_uring",
                         test_drive_rw);
    g_test_add_data_func("/block-backend/drive-rw/qcow2-io_uring",
                         "qcow2/writethrough/io_uring", test_drive_rw);
    g_test_add_func("/block-backend/io_uring-direct", test_io_uring_direct);
#endif
    g_test_add_func("/block-backend/blockdev", test_blockdev);
    g_test_add_func("/block-backend/errors", test_errors);
    g_test_add_func("/block-backend/writethrough-readonly", test_writethrough_ro);
    g_test_add_data_func("/block-backend/snapshot/raw", "raw", test_snapshot);
    g_test_add_data_func("/block-backend/snapshot/qcow2", "qcow2", test_snapshot);
    int ret = g_test_run();
    char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    g_assert_true(system(cmd) == 0);
    g_free(cmd);
    return ret;
}
