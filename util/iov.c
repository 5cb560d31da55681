/* Scatter/gather list helpers. */
#include <stdint.h>
#include <string.h>
#include "util/iov.h"

size_t iov_size(const struct iovec *iov, int niov)
{
    size_t n = 0;
    for (int i = 0; i < niov; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

/* Walks [skip, skip+bytes) of the list, calling fn on each contiguous piece with its offset
 * into the walked range; returns the bytes walked. */
static size_t iov_walk(const struct iovec *iov, int niov, size_t skip, size_t bytes,
                       void (*fn)(uint8_t *p, size_t done, size_t n, void *opaque),
                       void *opaque)
{
    size_t done = 0;
    for (int i = 0; i < niov && done < bytes; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        size_t n = iov[i].iov_len - skip < bytes - done ? iov[i].iov_len - skip : bytes - done;
        fn((uint8_t *)iov[i].iov_base + skip, done, n, opaque);
        done += n;
        skip = 0;
    }
    return done;
}

static void copy_out(uint8_t *p, size_t done, size_t n, void *buf)
{
    memcpy((uint8_t *)buf + done, p, n);
}

static void copy_in(uint8_t *p, size_t done, size_t n, void *buf)
{
    memcpy(p, (const uint8_t *)buf + done, n);
}

static void fill(uint8_t *p, size_t done, size_t n, void *c)
{
    memset(p, *(int *)c, n);
}

size_t iov_to_buf(const struct iovec *iov, int niov, size_t skip, void *buf, size_t bytes)
{
    return iov_walk(iov, niov, skip, bytes, copy_out, buf);
}

size_t iov_from_buf(const struct iovec *iov, int niov, size_t skip, const void *buf,
                    size_t bytes)
{
    return iov_walk(iov, niov, skip, bytes, copy_in, (void *)buf);
}

void iov_memset(const struct iovec *iov, int niov, size_t skip, int c, size_t bytes)
{
    iov_walk(iov, niov, skip, bytes, fill, &c);
}

int iov_slice(const struct iovec *src, int niov, size_t skip, size_t bytes,
              struct iovec *dst, int dst_max)
{
    int n = 0;
    for (int i = 0; i < niov && bytes; i++) {
        if (skip >= src[i].iov_len) {
            skip -= src[i].iov_len;
            continue;
        }
        if (n == dst_max) {
            return -1;
        }
        size_t len = src[i].iov_len - skip < bytes ? src[i].iov_len - skip : bytes;
        dst[n].iov_base = (uint8_t *)src[i].iov_base + skip;
        dst[n].iov_len = len;
        n++;
        bytes -= len;
        skip = 0;
    }
    return n;
}
