/* qcow2 and raw drivers on temporary files: create, random writes against an in-memory model,
 * backing chains, compressed clusters, zeroes, discard, snapshots, resize, dirty repair,
 * concurrent writers and malformed headers. qemu-img/qemu-io (when installed) are the
 * interop oracle: images they write are read back, images we write pass `qemu-img check`
 * and compare equal with `qemu-img compare`. */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "config.h"
#include "block/block_int.h"

static char *tmpdir;
static bool have_qemu_img;

static char *tmp_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

/* Runs a shell command; returns its exit status (output shown on failure). */
static int run(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int run(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *out = NULL, *err = NULL;
    int status = -1;
    char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    g_assert_true(g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code != 0) {
        g_test_message("command failed (%d): %s\n%s%s", code, cmd, out, err);
    }
    g_free(cmd);
    g_free(out);
    g_free(err);
    return code;
}

static BlockDriverState *open_image(const char *path, const char *fmt, int flags)
{
    GHashTable *o = g_hash_table_new(g_str_hash, g_str_equal);
    if (fmt) {
        g_hash_table_insert(o, "driver", (gpointer)fmt);
    }
    Error *err = NULL;
    BlockDriverState *bs = bdrv_open(path, o, flags, &err);
    g_hash_table_unref(o);
    if (!bs) {
        g_test_message("open %s: %s", path, error_get_pretty(err));
        error_free(err);
    }
    return bs;
}

static void create_image(const char *path, const char *fmt, const char *optstr)
{
    BlockCreateOpts o = { 0 };
    Error *err = NULL;
    g_assert_true(bdrv_create_opts_parse(fmt, &o, optstr, &err));
    bool ok = bdrv_create(fmt, path, &o, &err);
    if (!ok) {
        g_test_message("create: %s", error_get_pretty(err));
    }
    g_assert_true(ok);
    bdrv_create_opts_clear(&o);
}

static void check_clean(const char *path)
{
    if (have_qemu_img) {
        g_assert_cmpint(run("qemu-img check -q -f qcow2 '%s'", path), ==, 0);
    }
    BlockDriverState *bs = open_image(path, "qcow2", BDRV_O_CHECK);
    g_assert_nonnull(bs);
    BdrvCheckResult res;
    g_assert_cmpint(bdrv_check(bs, &res, 0), ==, 0);
    g_assert_cmpint(res.corruptions, ==, 0);
    g_assert_cmpint(res.leaks, ==, 0);
    g_assert_cmpint(res.check_errors, ==, 0);
    bdrv_unref(bs);
}

static void assert_reads(BlockDriverState *bs, const uint8_t *model, uint64_t size)
{
    uint8_t *buf = g_malloc(size);
    g_assert_cmpint(bdrv_pread(bs, 0, size, buf), ==, 0);
    for (uint64_t i = 0; i < size; i++) {
        if (buf[i] != model[i]) {
            g_test_message("mismatch at %" PRIu64 ": %02x != %02x", i, buf[i], model[i]);
            g_assert_cmphex(buf[i], ==, model[i]);
        }
    }
    g_free(buf);
}

/* Writes random ranges through bs and into model. */
static void random_writes(BlockDriverState *bs, uint8_t *model, uint64_t size, int n,
                          GRand *r)
{
    uint8_t *buf = g_malloc(256 * 1024);
    for (int i = 0; i < n; i++) {
        uint64_t len = g_rand_int_range(r, 1, 200 * 1024);
        uint64_t off = g_rand_int_range(r, 0, size - len);
        if (g_rand_boolean(r)) {
            off &= ~511ULL;
        }
        memset(buf, g_rand_int_range(r, 1, 255), len);
        for (uint64_t j = 0; j < len; j += 97) {
            buf[j] = g_rand_int(r);
        }
        g_assert_cmpint(bdrv_pwrite(bs, off, len, buf), ==, 0);
        memcpy(model + off, buf, len);
    }
    g_free(buf);
}

static void write_raw_model(const char *path, const uint8_t *model, uint64_t size)
{
    g_assert_true(g_file_set_contents(path, (const char *)model, size, NULL));
}

static void test_raw_basic(void)
{
    char *path = tmp_path("raw.img");
    create_image(path, "raw", "size=1M");
    BlockDriverState *bs = open_image(path, "raw", BDRV_O_RDWR);
    g_assert_nonnull(bs);
    g_assert_cmpint(bdrv_getlength(bs), ==, 1 << 20);
    uint8_t *model = g_malloc0(1 << 20);
    GRand *r = g_rand_new_with_seed(1);
    random_writes(bs, model, 1 << 20, 50, r);
    assert_reads(bs, model, 1 << 20);
    g_assert_cmpint(bdrv_pwrite_zeroes(bs, 4096, 65536, BDRV_REQ_MAY_UNMAP), ==, 0);
    memset(model + 4096, 0, 65536);
    assert_reads(bs, model, 1 << 20);
    uint8_t b;
    g_assert_cmpint(bdrv_pread(bs, 1 << 20, 1, &b), ==, -EIO);
    bdrv_unref(bs);
    g_rand_free(r);
    g_free(model);
    g_free(path);
}

static void test_rw_params(const char *opts, uint64_t size, int seed)
{
    char *path = tmp_path("rw.qcow2");
    char *raw = tmp_path("rw.raw");
    create_image(path, "qcow2", opts);
    BlockDriverState *bs = open_image(path, NULL, BDRV_O_RDWR);
    g_assert_nonnull(bs);
    g_assert_cmpstr(bdrv_get_format_name(bs), ==, "qcow2");
    g_assert_cmpint(bdrv_getlength(bs), ==, size);
    uint8_t *model = g_malloc0(size);
    GRand *r = g_rand_new_with_seed(seed);
    random_writes(bs, model, size, 60, r);
    assert_reads(bs, model, size);
    bdrv_unref(bs);

    bs = open_image(path, "qcow2", 0);
    g_assert_nonnull(bs);
    assert_reads(bs, model, size);
    bdrv_unref(bs);
    check_clean(path);
    if (have_qemu_img) {
        write_raw_model(raw, model, size);
        g_assert_cmpint(run("qemu-img compare -q -f qcow2 -F raw '%s' '%s'", path, raw), ==, 0);
    }
    g_unlink(path);
    g_unlink(raw);
    g_rand_free(r);
    g_free(model);
    g_free(path);
    g_free(raw);
}

static void test_qcow2_rw(void)
{
    test_rw_params("size=8M", 8 << 20, 2);
    test_rw_params("size=8M,compat=0.10", 8 << 20, 3);
    test_rw_params("size=4M,cluster_size=512", 4 << 20, 4);
    test_rw_params("size=4M,cluster_size=4k,refcount_bits=1", 4 << 20, 5);
    test_rw_params("size=4M,cluster_size=1k,refcount_bits=64", 4 << 20, 6);
    test_rw_params("size=8M,cluster_size=2M,refcount_bits=8", 8 << 20, 7);
    test_rw_params("size=6M,cluster_size=512,refcount_bits=2", 6 << 20, 8);
    test_rw_params("size=8M,lazy_refcounts=on", 8 << 20, 9);
}

/* Images written by qemu-io at several cluster sizes, compat levels and refcount widths. */
static void test_qemu_written(void)
{
    if (!have_qemu_img) {
        g_test_skip("qemu-img not installed");
        return;
    }
    static const char *const variants[] = {
        "compat=0.10,cluster_size=65536", "compat=1.1,cluster_size=512",
        "compat=1.1,cluster_size=2M", "cluster_size=4k,refcount_bits=1",
        "cluster_size=16k,refcount_bits=64", "cluster_size=64k,refcount_bits=4",
    };
    char *path = tmp_path("qemu.qcow2");
    for (size_t v = 0; v < G_N_ELEMENTS(variants); v++) {
        g_assert_cmpint(run("qemu-img create -q -f qcow2 -o %s '%s' 8M", variants[v], path),
                        ==, 0);
        g_assert_cmpint(run("qemu-io -f qcow2 -c 'write -P 0xa5 4096 100000' "
                            "-c 'write -P 0x3c 3M 1M' -c 'write -z 3200k 64k' '%s' >/dev/null",
                            path), ==, 0);
        uint8_t *model = g_malloc0(8 << 20);
        memset(model + 4096, 0xa5, 100000);
        memset(model + (3 << 20), 0x3c, 1 << 20);
        memset(model + 3200 * 1024, 0, 64 * 1024);
        BlockDriverState *bs = open_image(path, NULL, 0);
        g_assert_nonnull(bs);
        assert_reads(bs, model, 8 << 20);
        bdrv_unref(bs);
        /* And we can keep writing it. */
        bs = open_image(path, "qcow2", BDRV_O_RDWR);
        g_assert_nonnull(bs);
        GRand *r = g_rand_new_with_seed(v);
        random_writes(bs, model, 8 << 20, 20, r);
        g_rand_free(r);
        bdrv_unref(bs);
        check_clean(path);
        g_free(model);
    }
    g_free(path);
}

/* data: the compression_type ("zlib" or "zstd"). */
static void test_compressed(gconstpointer data)
{
    const char *ctype = data;
    char *path = tmp_path("c.qcow2");
    char *raw = tmp_path("c.raw");
    char *copts = g_strdup_printf("size=4M,compression_type=%s", ctype);
    uint64_t size = 4 << 20;
    uint8_t *model = g_malloc0(size);
    for (uint64_t i = 0; i < size; i++) {
        model[i] = (i / 4096) * 7 + (i % 13 == 0 ? i / 13 : 0);
    }
    /* Ours: compressed writes, read back, checked by qemu-img. */
    create_image(path, "qcow2", copts);
    BlockDriverState *bs = open_image(path, "qcow2", BDRV_O_RDWR);
    g_assert_nonnull(bs);
    BlockSpecificInfo info = { 0 };
    bdrv_get_specific_info(bs, &info);
    g_assert_cmpstr(info.compression_type, ==, ctype);
    for (uint64_t off = 0; off < size; off += 65536) {
        g_assert_cmpint(bdrv_pwrite_compressed(bs, off, 65536, model + off), ==, 0);
    }
    int64_t pnum;
    int st = bdrv_block_status(bs, 0, size, &pnum, NULL, NULL);
    g_assert_true(st & BDRV_BLOCK_COMPRESSED);
    assert_reads(bs, model, size);
    /* Overwrite part of a compressed cluster: copy-on-write from compressed data. */
    memset(model + 70000, 0xee, 1000);
    g_assert_cmpint(bdrv_pwrite(bs, 70000, 1000, model + 70000), ==, 0);
    assert_reads(bs, model, size);
    bdrv_unref(bs);
    check_clean(path);
    write_raw_model(raw, model, size);
    if (have_qemu_img) {
        g_assert_cmpint(run("qemu-img compare -q -f qcow2 -F raw '%s' '%s'", path, raw), ==, 0);
        /* Theirs: qemu-img convert -c. */
        g_assert_cmpint(run("qemu-img convert -c -f raw -O qcow2 -o compression_type=%s "
                            "'%s' '%s'", ctype, raw, path), ==, 0);
        bs = open_image(path, NULL, 0);
        g_assert_nonnull(bs);
        assert_reads(bs, model, size);
        bdrv_unref(bs);
    }
    g_unlink(raw);
    g_free(model);
    g_free(path);
    g_free(raw);
    g_free(copts);
}

static void test_backing(void)
{
    char *base = tmp_path("base.qcow2");
    char *top = tmp_path("top.qcow2");
    char *raw = tmp_path("top.raw");
    uint64_t size = 4 << 20;
    uint8_t *model = g_malloc0(size);
    GRand *r = g_rand_new_with_seed(11);
    create_image(base, "qcow2", "size=4M,cluster_size=4k");
    BlockDriverState *bs = open_image(base, "qcow2", BDRV_O_RDWR);
    random_writes(bs, model, size, 30, r);
    bdrv_unref(bs);
    create_image(top, "qcow2", "backing_file=base.qcow2,backing_fmt=qcow2");
    bs = open_image(top, NULL, BDRV_O_RDWR);
    g_assert_nonnull(bs);
    g_assert_nonnull(bs->backing);
    g_assert_cmpstr(bs->backing_format, ==, "qcow2");
    g_assert_cmpint(bdrv_getlength(bs), ==, size);
    assert_reads(bs, model, size);
    random_writes(bs, model, size, 30, r);
    g_assert_cmpint(bdrv_pwrite_zeroes(bs, 65536, 131072, 0), ==, 0);
    memset(model + 65536, 0, 131072);
    assert_reads(bs, model, size);
    int64_t pnum;
    int depth;
    int st = bdrv_block_status_above(bs, NULL, 65536, 131072, &pnum, NULL, NULL, &depth);
    g_assert_true(st & BDRV_BLOCK_ZERO);
    g_assert_cmpint(depth, ==, 0);
    bdrv_unref(bs);
    check_clean(top);
    if (have_qemu_img) {
        write_raw_model(raw, model, size);
        g_assert_cmpint(run("qemu-img compare -q -F raw '%s' '%s'", top, raw), ==, 0);
    }
    /* A v2 overlay has no zero flag: zeroes are stored. */
    create_image(top, "qcow2", "backing_file=base.qcow2,backing_fmt=qcow2,compat=0.10");
    bs = open_image(top, NULL, BDRV_O_RDWR);
    g_assert_cmpint(bdrv_pwrite_zeroes(bs, 0, 8192, BDRV_REQ_MAY_UNMAP), ==, 0);
    uint8_t buf[8192], zero[8192] = { 0 };
    g_assert_cmpint(bdrv_pread(bs, 0, 8192, buf), ==, 0);
    g_assert_cmpmem(buf, 8192, zero, 8192);
    bdrv_unref(bs);
    check_clean(top);
    g_unlink(raw);
    g_unlink(base);
    g_unlink(top);
    g_rand_free(r);
    g_free(model);
    g_free(base);
    g_free(top);
    g_free(raw);
}

static void test_snapshots(void)
{
    char *path = tmp_path("snap.qcow2");
    uint64_t size = 2 << 20;
    uint8_t *m1 = g_malloc0(size), *m2;
    GRand *r = g_rand_new_with_seed(21);
    create_image(path, "qcow2", "size=2M,cluster_size=4k");
    BlockDriverState *bs = open_image(path, "qcow2", BDRV_O_RDWR);
    random_writes(bs, m1, size, 20, r);
    BlockSnapshotInfo sn = { .name = "first", .icount = UINT64_MAX };
    Error *err = NULL;
    g_assert_true(bdrv_snapshot_create(bs, &sn, &err));
    m2 = g_memdup2(m1, size);
    random_writes(bs, m2, size, 20, r);
    assert_reads(bs, m2, size);
    BlockSnapshotInfo *list;
    g_assert_cmpint(bdrv_snapshot_list(bs, &list), ==, 1);
    g_assert_cmpstr(list[0].name, ==, "first");
    g_free(list);
    bdrv_unref(bs);
    check_clean(path);
    if (have_qemu_img) {
        g_assert_cmpint(run("qemu-img snapshot -l '%s' | grep -q first", path), ==, 0);
        g_assert_cmpint(run("qemu-img snapshot -c second '%s'", path), ==, 0);
    }
    bs = open_image(path, "qcow2", BDRV_O_RDWR);
    g_assert_true(bdrv_snapshot_goto(bs, "first", &err));
    assert_reads(bs, m1, size);
    random_writes(bs, m1, size, 10, r);
    assert_reads(bs, m1, size);
    g_assert_false(bdrv_snapshot_goto(bs, "nonexistent", &err));
    error_free(err);
    err = NULL;
    g_assert_true(bdrv_snapshot_delete(bs, NULL, "first", &err));
    assert_reads(bs, m1, size);
    bdrv_unref(bs);
    check_clean(path);
    if (have_qemu_img) {
        g_assert_cmpint(run("qemu-img snapshot -a second '%s'", path), ==, 0);
        bs = open_image(path, "qcow2", 0);
        assert_reads(bs, m2, size);
        bdrv_unref(bs);
    }
    g_unlink(path);
    g_rand_free(r);
    g_free(m1);
    g_free(m2);
    g_free(path);
}

static void test_resize_discard(void)
{
    char *path = tmp_path("resize.qcow2");
    create_image(path, "qcow2", "size=1M,cluster_size=512");
    BlockDriverState *bs = open_image(path, "qcow2", BDRV_O_RDWR | BDRV_O_UNMAP);
    uint8_t buf[4096];
    memset(buf, 0x77, sizeof(buf));
    Error *err = NULL;
    /* Grow far enough to need a larger L1 table. */
    g_assert_cmpint(bdrv_truncate(bs, 64 << 20, true, PREALLOC_MODE_OFF, &err), ==, 0);
    g_assert_cmpint(bdrv_getlength(bs), ==, 64 << 20);
    g_assert_cmpint(bdrv_pwrite(bs, 60 << 20, 4096, buf), ==, 0);
    g_assert_cmpint(bdrv_truncate(bs, 32 << 20, true, PREALLOC_MODE_OFF, &err), <, 0);
    error_free(err);
    err = NULL;
    g_assert_cmpint(bdrv_pdiscard(bs, 60 << 20, 4096), ==, 0);
    g_assert_cmpint(bdrv_truncate(bs, 32 << 20, true, PREALLOC_MODE_OFF, &err), ==, 0);
    bdrv_unref(bs);
    check_clean(path);
    g_unlink(path);
    g_free(path);
}

/* An image left dirty (lazy refcounts, process gone) is repaired on the next open. */
static void test_dirty_repair(void)
{
    char *path = tmp_path("dirty.qcow2");
    char *copy = tmp_path("dirty-copy.qcow2");
    create_image(path, "qcow2", "size=4M,lazy_refcounts=on");
    BlockDriverState *bs = open_image(path, "qcow2", BDRV_O_RDWR);
    uint8_t *model = g_malloc0(4 << 20);
    GRand *r = g_rand_new_with_seed(31);
    random_writes(bs, model, 4 << 20, 30, r);
    g_assert_cmpint(bdrv_flush(bs), ==, 0);
    BlockDriverInfo bdi;
    bdrv_get_info(bs, &bdi);
    g_assert_true(bdi.is_dirty);
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_true(g_file_set_contents(copy, data, len, NULL));
    g_free(data);
    bdrv_unref(bs);
    BlockDriverState *c = open_image(copy, "qcow2", BDRV_O_RDWR);
    g_assert_nonnull(c);
    bdrv_get_info(c, &bdi);
    g_assert_false(bdi.is_dirty);
    assert_reads(c, model, 4 << 20);
    bdrv_unref(c);
    check_clean(copy);
    g_unlink(path);
    g_unlink(copy);
    g_rand_free(r);
    g_free(model);
    g_free(path);
    g_free(copy);
}

typedef struct WriterArg {
    BlockDriverState *bs;
    int id;
} WriterArg;

static void *writer_thread(void *opaque)
{
    WriterArg *a = opaque;
    uint8_t buf[3000];
    for (int i = 0; i < 200; i++) {
        /* Each thread owns every 4th 64k stripe; writes straddle clusters. */
        uint64_t stripe = (uint64_t)(i % 16) * 4 + a->id;
        memset(buf, a->id * 16 + (i % 16), sizeof(buf));
        if (bdrv_pwrite(a->bs, stripe * 65536 + 30000, sizeof(buf), buf) < 0) {
            return (void *)1;
        }
    }
    return NULL;
}

static void test_concurrent(void)
{
    char *path = tmp_path("mt.qcow2");
    create_image(path, "qcow2", "size=8M,cluster_size=4k");
    BlockDriverState *bs = open_image(path, "qcow2", BDRV_O_RDWR);
    pthread_t t[4];
    WriterArg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (WriterArg){ bs, i };
        pthread_create(&t[i], NULL, writer_thread, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        g_assert_null(ret);
    }
    uint8_t buf[3000];
    for (int id = 0; id < 4; id++) {
        for (int s = 0; s < 16; s++) {
            uint64_t stripe = (uint64_t)s * 4 + id;
            g_assert_cmpint(bdrv_pread(bs, stripe * 65536 + 30000, sizeof(buf), buf), ==, 0);
            for (size_t j = 0; j < sizeof(buf); j++) {
                g_assert_cmphex(buf[j], ==, id * 16 + s);
            }
        }
    }
    bdrv_unref(bs);
    check_clean(path);
    g_unlink(path);
    g_free(path);
}

static void patch_be(const char *path, long off, uint64_t value, int width)
{
    FILE *f = fopen(path, "r+b");
    g_assert_nonnull(f);
    uint8_t b[8];
    for (int i = 0; i < width; i++) {
        b[i] = value >> (8 * (width - 1 - i));
    }
    fseek(f, off, SEEK_SET);
    fwrite(b, 1, width, f);
    fclose(f);
}

static void expect_open_error(const char *path, const char *substr)
{
    GHashTable *o = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(o, "driver", "qcow2");
    Error *err = NULL;
    BlockDriverState *bs = bdrv_open(path, o, 0, &err);
    g_hash_table_unref(o);
    g_assert_null(bs);
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), substr)) {
        g_test_message("error '%s' lacks '%s'", error_get_pretty(err), substr);
        g_assert_nonnull(strstr(error_get_pretty(err), substr));
    }
    error_free(err);
}

static void test_bad_headers(void)
{
    char *path = tmp_path("bad.qcow2");
    struct {
        long off;
        uint64_t value;
        int width;
        const char *msg;
    } cases[] = {
        { 4, 4, 4, "Unsupported qcow2 version" },
        { 20, 8, 4, "Unsupported cluster size" },
        { 20, 22, 4, "Unsupported cluster size" },
        { 72, 1ULL << 40, 8, "Unknown incompatible feature" },
        { 72, 1ULL << 2, 8, "external data file" },
        { 36, 0x10000000, 4, "L1 table too large" },
        { 40, 12345, 8, "not cluster aligned" },
        { 40, 1ULL << 40, 8, "beyond the end of the file" },
        { 48, 1ULL << 40, 8, "beyond the end of the file" },
        { 56, 0, 4, "reference count table" },
        { 96, 7, 4, "may not exceed 64 bits" },
        { 24, 1ULL << 40, 8, "L1 table is too small" },
        { 32, 1, 4, "encryption" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        create_image(path, "qcow2", "size=1M");
        patch_be(path, cases[i].off, cases[i].value, cases[i].width);
        expect_open_error(path, cases[i].msg);
    }
    /* An L1 entry pointing outside the file. */
    create_image(path, "qcow2", "size=1M");
    BlockDriverState *bs = open_image(path, "qcow2", BDRV_O_RDWR);
    uint8_t b = 1;
    g_assert_cmpint(bdrv_pwrite(bs, 0, 1, &b), ==, 0);
    bdrv_unref(bs);
    FILE *f = fopen(path, "rb");
    uint8_t hdr[48];
    g_assert_cmpint(fread(hdr, 1, 48, f), ==, 48);
    fclose(f);
    uint64_t l1_off = be64toh(*(uint64_t *)(hdr + 40));
    patch_be(path, l1_off, (1ULL << 50) | (1ULL << 63), 8);
    expect_open_error(path, "L2 table offset");
    g_unlink(path);
    g_free(path);
}

static void test_create_errors(void)
{
    char *path = tmp_path("err.qcow2");
    BlockCreateOpts o = { 0 };
    Error *err = NULL;
    g_assert_false(bdrv_create_opts_parse("qcow2", &o, "cluster_size=3000,size=1M", &err) &&
                   bdrv_create("qcow2", path, &o, &err));
    error_free(err);
    err = NULL;
    bdrv_create_opts_clear(&o);
    g_assert_false(bdrv_create_opts_parse("qcow2", &o, "nonsense=1", &err));
    error_free(err);
    err = NULL;
    bdrv_create_opts_clear(&o);
    g_assert_true(bdrv_create_opts_parse("qcow2", &o, "size=1M,compat=0.10,lazy_refcounts=on",
                                         &err));
    g_assert_false(bdrv_create("qcow2", path, &o, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "Lazy refcounts"));
    error_free(err);
    bdrv_create_opts_clear(&o);
    g_unlink(path);
    g_free(path);
}

static void test_amend(void)
{
    char *path = tmp_path("amend.qcow2");
    create_image(path, "qcow2", "size=1M,compat=0.10");
    BlockDriverState *bs = open_image(path, "qcow2", BDRV_O_RDWR);
    BlockCreateOpts o = { 0 };
    Error *err = NULL;
    g_assert_true(bdrv_create_opts_parse("qcow2", &o, "compat=1.1,lazy_refcounts=on", &err));
    g_assert_true(bdrv_amend(bs, &o, false, &err));
    BlockSpecificInfo info;
    bdrv_get_specific_info(bs, &info);
    g_assert_cmpstr(info.compat, ==, "1.1");
    g_assert_true(info.lazy_refcounts);
    bdrv_create_opts_clear(&o);
    /* Refcount width changes rewrite every refcount block; data stays. */
    uint8_t data[4096], back[4096];
    memset(data, 0x3e, sizeof(data));
    g_assert_cmpint(bdrv_pwrite(bs, 8192, sizeof(data), data), ==, 0);
    g_assert_true(bdrv_create_opts_parse("qcow2", &o, "refcount_bits=1", &err));
    g_assert_true(bdrv_amend(bs, &o, false, &err));
    bdrv_create_opts_clear(&o);
    bdrv_get_specific_info(bs, &info);
    g_assert_cmpint(info.refcount_bits, ==, 1);
    g_assert_cmpint(bdrv_pread(bs, 8192, sizeof(back), back), ==, 0);
    g_assert_cmpmem(back, sizeof(back), data, sizeof(data));
    bdrv_unref(bs);
    check_clean(path);
    if (have_qemu_img) {
        g_assert_cmpint(run("qemu-img info '%s' | grep -q 'lazy refcounts: true'", path), ==, 0);
        g_assert_cmpint(run("qemu-img info '%s' | grep -q 'refcount bits: 1$'", path), ==, 0);
    }
    g_unlink(path);
    g_free(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("vessel-qcow2-XXXXXX", NULL);
    char *qemu_img = g_find_program_in_path("qemu-img");
    char *qemu_io = g_find_program_in_path("qemu-io");
    have_qemu_img = qemu_img && qemu_io;
    g_free(qemu_img);
    g_free(qemu_io);
    g_test_add_func("/block/raw/basic", test_raw_basic);
    g_test_add_func("/block/qcow2/rw", test_qcow2_rw);
    g_test_add_func("/block/qcow2/qemu-written", test_qemu_written);
    g_test_add_data_func("/block/qcow2/compressed", "zlib", test_compressed);
#if CONFIG_ZSTD
    g_test_add_data_func("/block/qcow2/compressed-zstd", "zstd", test_compressed);
#endif
    g_test_add_func("/block/qcow2/backing", test_backing);
    g_test_add_func("/block/qcow2/snapshots", test_snapshots);
    g_test_add_func("/block/qcow2/resize-discard", test_resize_discard);
    g_test_add_func("/block/qcow2/dirty-repair", test_dirty_repair);
    g_test_add_func("/block/qcow2/concurrent", test_concurrent);
    g_test_add_func("/block/qcow2/bad-headers", test_bad_headers);
    g_test_add_func("/block/qcow2/create-errors", test_create_errors);
    g_test_add_func("/block/qcow2/amend", test_amend);
    int ret = g_test_run();
    run("rm -rf '%s'", tmpdir);
    g_free(tmpdir);
    return ret;
}
