#ifndef UTIL_IOV_H
#define UTIL_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Scatter/gather lists: one set of helpers for the block layer and every device. */

/* Total bytes described by the niov entries. */
size_t iov_size(const struct iovec *iov, int niov);
/* Copies up to bytes bytes starting at offset skip of the list into buf; returns the count. */
size_t iov_to_buf(const struct iovec *iov, int niov, size_t skip, void *buf, size_t bytes);
/* Copies up to bytes bytes from buf into the list at offset skip; returns the count. */
size_t iov_from_buf(const struct iovec *iov, int niov, size_t skip, const void *buf,
                    size_t bytes);
/* Fills up to bytes bytes of the list at offset skip with c. */
void iov_memset(const struct iovec *iov, int niov, size_t skip, int c, size_t bytes);
/* Describes [skip, skip+bytes) of src in dst (at most dst_max entries); returns the count,
 * or -1 when dst_max is too small. */
int iov_slice(const struct iovec *src, int niov, size_t skip, size_t bytes,
              struct iovec *dst, int dst_max);

#endif
