/* Protocol "file": a host file or block device. cache.direct=on uses O_DIRECT (unaligned
 * requests go through an aligned bounce buffer), discard punches holes, write-zeroes uses
 * fallocate, block status uses SEEK_DATA/SEEK_HOLE. aio=threads only (no io_uring build). */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "block/block_int.h"

#define BOUNCE_ALIGN 4096

typedef struct BDRVFileState {
    int fd;
    bool direct;
    bool no_flush;
    /* Aligned requests share it; read-modify-write of unaligned O_DIRECT writes excludes them. */
    pthread_rwlock_t rmw_lock;
} BDRVFileState;

static bool file_open(BlockDriverState *bs, GHashTable *options, int flags, Error **errp)
{
    BDRVFileState *s = bs->opaque;
    g_hash_table_remove(options, "filename");
    const char *aio = g_hash_table_lookup(options, "aio");
    if (aio && strcmp(aio, "threads")) {
        error_setg(errp, "aio=%s is not supported by this build (use aio=threads)", aio);
        return false;
    }
    g_hash_table_remove(options, "aio");
    const char *locking = g_hash_table_lookup(options, "locking");
    if (locking && strcmp(locking, "off") && strcmp(locking, "auto")) {
        error_setg(errp, "locking=%s is not supported (image locking is not implemented)",
                   locking);
        return false;
    }
    g_hash_table_remove(options, "locking");

    int oflags = O_CLOEXEC | ((flags & BDRV_O_RDWR) ? O_RDWR : O_RDONLY);
    s->direct = flags & BDRV_O_NOCACHE;
    s->no_flush = flags & BDRV_O_NO_FLUSH;
    if (s->direct) {
        oflags |= O_DIRECT;
    }
    s->fd = open(bs->filename, oflags);
    if (s->fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", bs->filename);
        return false;
    }
    pthread_rwlock_init(&s->rmw_lock, NULL);
    bs->request_alignment = 1;
    if (s->direct) {
        /* The smallest O_DIRECT read size the host accepts (512 or 4096). */
        void *buf;
        if (posix_memalign(&buf, BOUNCE_ALIGN, BOUNCE_ALIGN)) {
            close(s->fd);
            error_setg(errp, "Out of memory");
            return false;
        }
        bs->request_alignment = 4096;
        for (uint32_t a = 512; a < 4096; a <<= 1) {
            if (pread(s->fd, buf, a, 0) >= 0) {
                bs->request_alignment = a;
                break;
            }
        }
        free(buf);
    }
    return true;
}

static void file_close(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;
    close(s->fd);
    pthread_rwlock_destroy(&s->rmw_lock);
}

static bool file_is_aligned(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                            const struct iovec *iov, int niov)
{
    uint64_t a = bs->request_alignment;
    if ((offset | bytes) & (a - 1)) {
        return false;
    }
    for (int i = 0; i < niov; i++) {
        if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (a - 1)) {
            return false;
        }
    }
    return true;
}

/* preadv/pwritev until done; reads past the end of file give zeroes. */
static int file_rw_vector(int fd, bool write, uint64_t offset, uint64_t bytes,
                          const struct iovec *iov, int niov)
{
    struct iovec local[64];
    const struct iovec *v = iov;
    int nv = niov;
    uint64_t done = 0;
    while (done < bytes) {
        if (done) {
            nv = bdrv_iov_slice(iov, niov, done, bytes - done, local, 64);
            if (nv < 0) {
                nv = 64;
            }
            v = local;
        }
        ssize_t n = write ? pwritev(fd, v, MIN(nv, IOV_MAX), offset + done)
                          : preadv(fd, v, MIN(nv, IOV_MAX), offset + done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            if (write) {
                return -EIO;
            }
            bdrv_iov_memset(iov, niov, done, 0, bytes - done);
            return 0;
        }
        done += n;
    }
    return 0;
}

/* One aligned bounce buffer covering [offset, offset+bytes) rounded to the alignment. */
static int file_rw_bounce(BlockDriverState *bs, bool write, uint64_t offset, uint64_t bytes,
                          const struct iovec *iov, int niov)
{
    BDRVFileState *s = bs->opaque;
    uint64_t a = bs->request_alignment;
    uint64_t start = offset & ~(a - 1);
    uint64_t end = (offset + bytes + a - 1) & ~(a - 1);
    void *buf;
    if (posix_memalign(&buf, BOUNCE_ALIGN, end - start)) {
        return -ENOMEM;
    }
    struct iovec biov = { .iov_base = buf, .iov_len = end - start };
    int ret;
    if (!write) {
        ret = file_rw_vector(s->fd, false, start, end - start, &biov, 1);
        if (ret == 0) {
            bdrv_iov_from_buf(iov, niov, 0, (uint8_t *)buf + (offset - start), bytes);
        }
    } else {
        pthread_rwlock_wrlock(&s->rmw_lock);
        ret = 0;
        if (start != offset || end != offset + bytes) {
            ret = file_rw_vector(s->fd, false, start, end - start, &biov, 1);
        }
        if (ret == 0) {
            bdrv_iov_to_buf(iov, niov, 0, (uint8_t *)buf + (offset - start), bytes);
            int64_t len = lseek(s->fd, 0, SEEK_END);
            ret = file_rw_vector(s->fd, true, start, end - start, &biov, 1);
            /* Do not leave the file longer than the caller wrote. */
            if (ret == 0 && len >= 0 && (uint64_t)len < end && offset + bytes > (uint64_t)len) {
                if (ftruncate(s->fd, offset + bytes) < 0) {
                    ret = -errno;
                }
            }
        }
        pthread_rwlock_unlock(&s->rmw_lock);
    }
    free(buf);
    return ret;
}

static int file_preadv(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                       const struct iovec *iov, int niov, int flags)
{
    BDRVFileState *s = bs->opaque;
    if (s->direct && !file_is_aligned(bs, offset, bytes, iov, niov)) {
        return file_rw_bounce(bs, false, offset, bytes, iov, niov);
    }
    return file_rw_vector(s->fd, false, offset, bytes, iov, niov);
}

static int file_pwritev(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                        const struct iovec *iov, int niov, int flags)
{
    BDRVFileState *s = bs->opaque;
    if (s->direct) {
        if (!file_is_aligned(bs, offset, bytes, iov, niov)) {
            return file_rw_bounce(bs, true, offset, bytes, iov, niov);
        }
        pthread_rwlock_rdlock(&s->rmw_lock);
        int ret = file_rw_vector(s->fd, true, offset, bytes, iov, niov);
        pthread_rwlock_unlock(&s->rmw_lock);
        return ret;
    }
    return file_rw_vector(s->fd, true, offset, bytes, iov, niov);
}

static int file_pwrite_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                              int flags)
{
    BDRVFileState *s = bs->opaque;
    if (s->direct && !file_is_aligned(bs, offset, bytes, NULL, 0)) {
        return -ENOTSUP;
    }
    if (flags & BDRV_REQ_MAY_UNMAP) {
        struct stat st;
        if (fstat(s->fd, &st) == 0 && (uint64_t)st.st_size >= offset + bytes &&
            fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, bytes) == 0) {
            return 0;
        }
    }
    if (fallocate(s->fd, FALLOC_FL_ZERO_RANGE, offset, bytes) == 0) {
        return 0;
    }
    return -ENOTSUP;
}

static int file_pdiscard(BlockDriverState *bs, uint64_t offset, uint64_t bytes)
{
    BDRVFileState *s = bs->opaque;
    if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, bytes) < 0) {
        return errno == EOPNOTSUPP ? 0 : -errno;
    }
    return 0;
}

static int file_flush(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;
    if (s->no_flush) {
        return 0;
    }
    return fdatasync(s->fd) < 0 ? -errno : 0;
}

static int64_t file_getlength(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;
    off_t len = lseek(s->fd, 0, SEEK_END);
    return len < 0 ? -errno : len;
}

static int64_t file_get_allocated_file_size(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;
    struct stat st;
    if (fstat(s->fd, &st) < 0) {
        return -errno;
    }
    return (int64_t)st.st_blocks * 512;
}

/* Allocates [from, to) of fd according to prealloc (falloc: reserve; full: write zeroes). */
static int file_preallocate(int fd, int64_t from, int64_t to, BlockPrealloc prealloc,
                            Error **errp)
{
    if (prealloc == PREALLOC_MODE_FALLOC) {
        int ret = posix_fallocate(fd, from, to - from);
        if (ret) {
            error_setg_errno(errp, ret, "Could not preallocate data for the new area");
            return -ret;
        }
        return 0;
    }
    static const uint8_t zeroes[65536];
    for (int64_t off = from; off < to;) {
        size_t n = MIN((int64_t)sizeof(zeroes), to - off);
        ssize_t w = pwrite(fd, zeroes, n, off);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            error_setg_errno(errp, errno, "Could not write zeros for preallocation");
            return -errno;
        }
        off += w;
    }
    return 0;
}

static int file_truncate(BlockDriverState *bs, int64_t offset, bool exact,
                         BlockPrealloc prealloc, Error **errp)
{
    BDRVFileState *s = bs->opaque;
    struct stat st;
    if (fstat(s->fd, &st) < 0) {
        error_setg_errno(errp, errno, "Failed to fstat() the file");
        return -errno;
    }
    if (!S_ISREG(st.st_mode)) {
        if (offset > st.st_size || (exact && offset != st.st_size)) {
            error_setg(errp, "Cannot grow device files");
            return -EINVAL;
        }
        return 0;
    }
    if (prealloc == PREALLOC_MODE_METADATA) {
        error_setg(errp, "Unsupported preallocation mode 'metadata' for the 'file' driver");
        return -ENOTSUP;
    }
    if (!exact && offset <= st.st_size) {
        return 0;
    }
    if (ftruncate(s->fd, offset) < 0) {
        error_setg_errno(errp, errno, "Failed to resize the file");
        return -errno;
    }
    if (prealloc != PREALLOC_MODE_OFF && offset > st.st_size) {
        return file_preallocate(s->fd, st.st_size, offset, prealloc, errp);
    }
    return 0;
}

static int file_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                             int64_t *pnum, int64_t *map, BlockDriverState **file)
{
    BDRVFileState *s = bs->opaque;
    *map = offset;
    *file = bs;
    off_t data = lseek(s->fd, offset, SEEK_DATA);
    int ret;
    if (data < 0) {
        /* ENXIO: no data at or after offset; other errors: assume data. */
        if (errno == ENXIO) {
            *pnum = bytes;
            return BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;
        }
        *pnum = bytes;
        return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;
    }
    if (data > offset) {
        *pnum = MIN(bytes, data - offset);
        ret = BDRV_BLOCK_ZERO;
    } else {
        off_t hole = lseek(s->fd, offset, SEEK_HOLE);
        *pnum = hole > offset ? MIN(bytes, hole - offset) : bytes;
        ret = BDRV_BLOCK_DATA;
    }
    return ret | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;
}

static bool file_create(const char *filename, const BlockCreateOpts *opts, Error **errp)
{
    int fd = open(filename, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not create '%s'", filename);
        return false;
    }
    bool ok = true;
    BlockPrealloc prealloc = (opts->set & BLOCK_OPT_PREALLOC) ? opts->prealloc
                                                               : PREALLOC_MODE_OFF;
    if (prealloc == PREALLOC_MODE_METADATA) {
        error_setg(errp, "Unsupported preallocation mode 'metadata' for the 'file' driver");
        ok = false;
    } else if (ftruncate(fd, 0) < 0 || ftruncate(fd, opts->size) < 0) {
        error_setg_errno(errp, errno, "Could not resize file");
        ok = false;
    } else if (prealloc != PREALLOC_MODE_OFF) {
        ok = file_preallocate(fd, 0, opts->size, prealloc, errp) == 0;
    }
    if (close(fd) < 0 && ok) {
        error_setg_errno(errp, errno, "Could not close the new file");
        ok = false;
    }
    return ok;
}

static const char *const file_create_opts[] = { "size", "preallocation", NULL };

static const BlockDriver bdrv_file = {
    .format_name = "file",
    .instance_size = sizeof(BDRVFileState),
    .is_protocol = true,
    .create_opts = file_create_opts,
    .open = file_open,
    .close = file_close,
    .create = file_create,
    .preadv = file_preadv,
    .pwritev = file_pwritev,
    .pwrite_zeroes = file_pwrite_zeroes,
    .pdiscard = file_pdiscard,
    .flush = file_flush,
    .getlength = file_getlength,
    .get_allocated_file_size = file_get_allocated_file_size,
    .truncate = file_truncate,
    .block_status = file_block_status,
};

static void __attribute__((constructor)) file_register(void)
{
    bdrv_register(&bdrv_file);
}
