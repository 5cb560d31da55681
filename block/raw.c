/* Format "raw": the guest sees the protocol child as is, optionally a window of it
 * (offset/size options). */
#include <errno.h>
#include <string.h>
#include "block/block_int.h"
#include "util/option.h"

typedef struct BDRVRawState {
    uint64_t offset;
    uint64_t size;
    bool has_size;
} BDRVRawState;

static int raw_probe(const uint8_t *buf, int buf_size, const char *filename)
{
    return 1;
}

static bool raw_take_size(GHashTable *options, const char *key, uint64_t *out, bool *given,
                          Error **errp)
{
    const char *v = g_hash_table_lookup(options, key);
    *given = v != NULL;
    if (!v) {
        return true;
    }
    if (!parse_size(v, 0, out, NULL)) {
        error_setg(errp, "Parameter '%s' expects a size", key);
        return false;
    }
    g_hash_table_remove(options, key);
    return true;
}

static bool raw_open(BlockDriverState *bs, GHashTable *options, int flags, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    bool has_offset;
    if (!raw_take_size(options, "offset", &s->offset, &has_offset, errp) ||
        !raw_take_size(options, "size", &s->size, &s->has_size, errp)) {
        return false;
    }
    int64_t len = bdrv_getlength(bs->file);
    if (len < 0) {
        error_setg_errno(errp, (int)-len, "Could not get the size of '%s'", bs->filename);
        return false;
    }
    if (s->offset > (uint64_t)len) {
        error_setg(errp, "The offset %" PRIu64 " is beyond the end of the file", s->offset);
        return false;
    }
    if (s->has_size && s->size > (uint64_t)len - s->offset) {
        error_setg(errp, "The sum of offset (%" PRIu64 ") and size (%" PRIu64 ") has to be "
                   "smaller or equal to the actual size of the containing file (%" PRId64 ")",
                   s->offset, s->size, len);
        return false;
    }
    return true;
}

static void raw_close(BlockDriverState *bs)
{
}

static int raw_preadv(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                      const struct iovec *iov, int niov, int flags)
{
    BDRVRawState *s = bs->opaque;
    return bs->file->drv->preadv(bs->file, offset + s->offset, bytes, iov, niov, flags);
}

static int raw_pwritev(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                       const struct iovec *iov, int niov, int flags)
{
    BDRVRawState *s = bs->opaque;
    return bs->file->drv->pwritev(bs->file, offset + s->offset, bytes, iov, niov, flags);
}

static int raw_copy_range_from(BlockDriverState *bs, uint64_t offset, BlockDriverState *dst,
                               uint64_t dst_offset, uint64_t bytes)
{
    BDRVRawState *s = bs->opaque;
    const BlockDriver *drv = bs->file->drv;

    if (!drv->copy_range_from) {
        return -ENOTSUP;
    }
    return drv->copy_range_from(bs->file, offset + s->offset, dst, dst_offset, bytes);
}

static int raw_copy_range_to(BlockDriverState *src, uint64_t src_offset, BlockDriverState *bs,
                             uint64_t offset, uint64_t bytes)
{
    BDRVRawState *s = bs->opaque;

    return bdrv_copy_range_to(src, src_offset, bs->file, offset + s->offset, bytes);
}

static bool raw_aio_rw(BlockDriverState *bs, bool write, uint64_t offset, uint64_t bytes,
                       const struct iovec *iov, int niov, int flags, BdrvAioCompletion *cb,
                       void *opaque)
{
    BDRVRawState *s = bs->opaque;
    return bdrv_aio_rw(bs->file, write, offset + s->offset, bytes, iov, niov, flags, cb,
                       opaque);
}

static int raw_aio_poll(BlockDriverState *bs, bool wait)
{
    return bdrv_aio_poll(bs->file, wait);
}

static int raw_pwrite_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes, int flags)
{
    BDRVRawState *s = bs->opaque;
    return bdrv_pwrite_zeroes(bs->file, offset + s->offset, bytes,
                              flags | BDRV_REQ_NO_FALLBACK);
}

static int raw_pdiscard(BlockDriverState *bs, uint64_t offset, uint64_t bytes)
{
    BDRVRawState *s = bs->opaque;
    return bdrv_pdiscard(bs->file, offset + s->offset, bytes);
}

static int raw_flush(BlockDriverState *bs)
{
    return bdrv_flush(bs->file);
}

static int64_t raw_getlength(BlockDriverState *bs)
{
    BDRVRawState *s = bs->opaque;
    if (s->has_size) {
        return s->size;
    }
    int64_t len = bdrv_getlength(bs->file);
    return len < 0 ? len : len - (int64_t)s->offset;
}

static int raw_truncate(BlockDriverState *bs, int64_t offset, bool exact,
                        BlockPrealloc prealloc, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    if (s->has_size || s->offset) {
        error_setg(errp, "Cannot resize a raw node with offset or size options");
        return -ENOTSUP;
    }
    return bdrv_truncate(bs->file, offset, exact, prealloc, errp);
}

static int raw_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                            int64_t *pnum, int64_t *map, BlockDriverState **file)
{
    BDRVRawState *s = bs->opaque;
    *pnum = bytes;
    *map = offset + s->offset;
    *file = bs->file;
    return BDRV_BLOCK_RAW | BDRV_BLOCK_OFFSET_VALID;
}

static bool raw_create(const char *filename, const BlockCreateOpts *opts, Error **errp)
{
    return bdrv_find_format("file")->create(filename, opts, errp);
}

static const char *const raw_create_opts[] = { "size", "preallocation", NULL };

static const BlockDriver bdrv_raw = {
    .format_name = "raw",
    .instance_size = sizeof(BDRVRawState),
    .create_opts = raw_create_opts,
    .probe = raw_probe,
    .open = raw_open,
    .close = raw_close,
    .create = raw_create,
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .copy_range_from = raw_copy_range_from,
    .copy_range_to = raw_copy_range_to,
    .aio_rw = raw_aio_rw,
    .aio_poll = raw_aio_poll,
    .pwrite_zeroes = raw_pwrite_zeroes,
    .pdiscard = raw_pdiscard,
    .flush = raw_flush,
    .getlength = raw_getlength,
    .truncate = raw_truncate,
    .block_status = raw_block_status,
};

static void __attribute__((constructor)) raw_register(void)
{
    bdrv_register(&bdrv_raw);
}
