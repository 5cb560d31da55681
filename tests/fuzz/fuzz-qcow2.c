/* libFuzzer target: an arbitrary file opened as qcow2 (header, extensions, L1/L2, refcount and
 * snapshot tables), read, mapped, checked and written. It must fail cleanly, never crash.
 * Built with clang -fsanitize=fuzzer (make fuzz-qcow2) or replayed over the corpus by
 * tests/unit/test-qcow2-fuzz.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "block/block_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static BlockDriverState *fuzz_open(const char *path, int flags)
{
    GHashTable *o = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(o, "driver", "qcow2");
    g_hash_table_insert(o, "backing", "");
    Error *err = NULL;
    BlockDriverState *bs = bdrv_open(path, o, flags, &err);
    g_hash_table_unref(o);
    if (!bs) {
        error_free(err);
    }
    return bs;
}

static void fuzz_exercise(BlockDriverState *bs, bool writable)
{
    static uint8_t buf[1 << 16];
    int64_t len = bdrv_getlength(bs);
    if (len <= 0) {
        return;
    }
    /* Bounded work: a few reads and status queries spread over the disk. */
    for (int i = 0; i < 8; i++) {
        uint64_t off = (uint64_t)len / 8 * i;
        uint64_t n = MIN((uint64_t)sizeof(buf), (uint64_t)len - off);
        bdrv_pread(bs, off, n, buf);
        int64_t pnum, map;
        BlockDriverState *file;
        bdrv_block_status(bs, off, n, &pnum, &map, &file);
    }
    BlockSnapshotInfo *sn;
    int n = bdrv_snapshot_list(bs, &sn);
    g_free(sn);
    if (writable) {
        memset(buf, 0x5a, 4096);
        bdrv_pwrite(bs, 0, MIN(4096, len), buf);
        bdrv_pwrite_zeroes(bs, 0, MIN(65536, len), BDRV_REQ_MAY_UNMAP);
        bdrv_flush(bs);
        BdrvCheckResult res;
        bdrv_check(bs, &res, 0);
    } else if (n > 0) {
        BdrvCheckResult res;
        bdrv_check(bs, &res, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-qcow2", 0);
    if (fd < 0) {
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (write(fd, data, size) == (ssize_t)size) {
        BlockDriverState *bs = fuzz_open(path, BDRV_O_CHECK);
        if (bs) {
            fuzz_exercise(bs, false);
            bdrv_unref(bs);
        }
        bs = fuzz_open(path, BDRV_O_RDWR);
        if (bs) {
            fuzz_exercise(bs, true);
            bdrv_unref(bs);
        }
    }
    close(fd);
    return 0;
}
