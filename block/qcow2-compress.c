/* qcow2 cluster compression: raw deflate streams (zlib, windowBits -12) as QEMU writes them. */
#include <errno.h>
#include <zlib.h>
#include "block/qcow2.h"

long qcow2_compress(int type, void *dst, size_t dst_size, const void *src, size_t src_size)
{
    if (type != BLOCK_COMPRESSION_ZLIB) {
        return -ENOTSUP;
    }
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

int qcow2_decompress(int type, void *dst, size_t dst_size, const void *src, size_t src_size)
{
    if (type != BLOCK_COMPRESSION_ZLIB) {
        return -ENOTSUP;
    }
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
