/* qcow2 cluster compression: raw deflate streams (zlib, windowBits -12) as QEMU writes them,
 * and single zstd frames for compression_type=zstd (when built with libzstd). */
#include <errno.h>
#include <zlib.h>
#include "config.h"
#include "block/qcow2.h"
#if CONFIG_ZSTD
#include <zstd.h>
#include <zstd_errors.h>
#endif

static long zlib_compress(void *dst, size_t dst_size, const void *src, size_t src_size)
{
    z_stream strm = { 0 };
    if (deflateInit2(&strm, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        return -EIO;
    }
    strm.next_in = (Bytef *)src;
    strm.avail_in = src_size;
    strm.next_out = dst;
    strm.avail_out = dst_size;
    int ret = deflate(&strm, Z_FINISH);
    long out = (long)(dst_size - strm.avail_out);
    deflateEnd(&strm);
    if (ret != Z_STREAM_END || out >= (long)dst_size) {
        return -ENOSPC;
    }
    return out;
}

static int zlib_decompress(void *dst, size_t dst_size, const void *src, size_t src_size)
{
    z_stream strm = { 0 };
    if (inflateInit2(&strm, -12) != Z_OK) {
        return -EIO;
    }
    strm.next_in = (Bytef *)src;
    strm.avail_in = src_size;
    strm.next_out = dst;
    strm.avail_out = dst_size;
    int ret = inflate(&strm, Z_FINISH);
    /* The stored size is rounded up to sectors, so input may remain after a full cluster. */
    bool ok = (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && strm.avail_out == 0;
    inflateEnd(&strm);
    return ok ? 0 : -EIO;
}

#if CONFIG_ZSTD
static long zstd_compress(void *dst, size_t dst_size, const void *src, size_t src_size)
{
    size_t n = ZSTD_compress(dst, dst_size, src, src_size, ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(n)) {
        return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? -ENOSPC : -EIO;
    }
    return n >= dst_size ? -ENOSPC : (long)n;
}

/* Streams frames until dst is full: the stored size is sector-rounded, so trailing bytes
 * after the last frame are padding and left unread. */
static int zstd_decompress(void *dst, size_t dst_size, const void *src, size_t src_size)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx) {
        return -ENOMEM;
    }
    ZSTD_inBuffer in = { src, src_size, 0 };
    ZSTD_outBuffer out = { dst, dst_size, 0 };
    int ret = 0;
    while (out.pos < out.size) {
        size_t in_pos = in.pos, out_pos = out.pos;
        size_t r = ZSTD_decompressStream(dctx, &out, &in);
        if (ZSTD_isError(r) || (in.pos == in_pos && out.pos == out_pos)) {
            ret = -EIO;
            break;
        }
    }
    ZSTD_freeDCtx(dctx);
    return ret;
}
#endif

long qcow2_compress(int type, void *dst, size_t dst_size, const void *src, size_t src_size)
{
    switch (type) {
    case BLOCK_COMPRESSION_ZLIB:
        return zlib_compress(dst, dst_size, src, src_size);
#if CONFIG_ZSTD
    case BLOCK_COMPRESSION_ZSTD:
        return zstd_compress(dst, dst_size, src, src_size);
#endif
    default:
        return -ENOTSUP;
    }
}

int qcow2_decompress(int type, void *dst, size_t dst_size, const void *src, size_t src_size)
{
    switch (type) {
    case BLOCK_COMPRESSION_ZLIB:
        return zlib_decompress(dst, dst_size, src, src_size);
#if CONFIG_ZSTD
    case BLOCK_COMPRESSION_ZSTD:
        return zstd_decompress(dst, dst_size, src, src_size);
#endif
    default:
        return -ENOTSUP;
    }
}
