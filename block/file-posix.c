/* Protocol "file": a host file or block device. cache.direct=on uses O_DIRECT (unaligned
 * requests go through an aligned bounce buffer), discard punches holes, write-zeroes uses
 * fallocate, block status uses SEEK_DATA/SEEK_HOLE. aio=threads runs requests synchronously
 * on the caller's (worker) thread; aio=io_uring (aio=native too) also offers an asynchronous
 * path: aligned reads/writes go to an io_uring whose completions wake the main loop. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "block/block_int.h"
#if CONFIG_LINUX_IO_URING
#include <glib-unix.h>
#include <liburing.h>
#include <sys/eventfd.h>
#endif

#define BOUNCE_ALIGN 4096

#define URING_ENTRIES 128

typedef struct FileAioReq FileAioReq;

typedef struct BDRVFileState {
    int fd;
    bool direct;
    bool no_flush;
    /* Aligned requests share it; read-modify-write of unaligned O_DIRECT writes excludes them. */
    pthread_rwlock_t rmw_lock;
    bool copy_refused;            /* copy_file_range failed with ENOSYS/EXDEV/EOPNOTSUPP once */
    pthread_mutex_t map_lock;     /* the first map_host call */
    bool map_tried;
    const uint8_t *map;           /* map_host's view, map_len bytes; NULL when none */
    uint64_t map_len;
#if CONFIG_LINUX_IO_URING
    bool use_uring;
    struct io_uring ring;
    int efd;                      /* eventfd the ring signals on each completion */
    guint efd_source;             /* main loop watch on efd */
    pthread_mutex_t uring_lock;   /* ring submission and reaping; the counters below */
    pthread_cond_t uring_idle;    /* signalled when async_writes drops to 0 */
    int in_flight;                /* submitted, callback not run yet */
    int async_writes;             /* io_uring writes in flight (a bounce RMW waits for 0) */
    int bounce_writers;           /* unaligned O_DIRECT writes running (no async submits) */
#endif
} BDRVFileState;

#if CONFIG_LINUX_IO_URING
struct FileAioReq {
    BlockDriverState *bs;
    bool write;
    int flags;
    uint64_t offset, bytes;
    BdrvAioCompletion *cb;
    void *opaque;
    int niov;
    struct iovec iov[];           /* the caller's vector, kept until completion */
};

static int file_rw_vector(int fd, bool write, uint64_t offset, uint64_t bytes,
                          const struct iovec *iov, int niov);

/* Turns one CQE result into the request's status; a short transfer is finished
 * synchronously (reads past the end of the file give zeroes, as the threaded path). */
static int file_aio_result(BDRVFileState *s, FileAioReq *req, int res)
{
    if (res < 0) {
        return res;
    }
    if ((uint64_t)res < req->bytes) {
        struct iovec rest[64];
        int n = iov_slice(req->iov, req->niov, res, req->bytes - res, rest, 64);
        if (n < 0) {
            return -EIO;
        }
        int ret = file_rw_vector(s->fd, req->write, req->offset + res, req->bytes - res,
                                 rest, n);
        if (ret < 0) {
            return ret;
        }
    }
    if (req->write && (req->flags & BDRV_REQ_FUA) && !s->no_flush &&
        fdatasync(s->fd) < 0) {
        return -errno;
    }
    return 0;
}

/* Reaps finished requests and runs their callbacks (outside the ring lock). */
static int file_aio_reap(BlockDriverState *bs, bool wait)
{
    BDRVFileState *s = bs->opaque;
    FileAioReq *done[URING_ENTRIES];
    int res[URING_ENTRIES];
    int n = 0;
    pthread_mutex_lock(&s->uring_lock);
    while (n < URING_ENTRIES) {
        struct io_uring_cqe *cqe;
        int r;
        if (wait && n == 0 && s->in_flight > 0) {
            r = io_uring_wait_cqe(&s->ring, &cqe);
            if (r == -EINTR) {
                continue;
            }
        } else {
            r = io_uring_peek_cqe(&s->ring, &cqe);
        }
        if (r < 0) {
            break;
        }
        done[n] = io_uring_cqe_get_data(cqe);
        res[n] = cqe->res;
        io_uring_cqe_seen(&s->ring, cqe);
        if (!done[n]) {
            continue;             /* a no-op left by a failed submission */
        }
        s->in_flight--;
        if (done[n]->write && --s->async_writes == 0) {
            pthread_cond_broadcast(&s->uring_idle);
        }
        n++;
    }
    pthread_mutex_unlock(&s->uring_lock);
    for (int i = 0; i < n; i++) {
        FileAioReq *req = done[i];
        int ret = file_aio_result(s, req, res[i]);
        req->cb(req->opaque, ret);
        g_free(req);
    }
    return n;
}

static gboolean file_aio_efd_ready(gint fd, GIOCondition cond, gpointer data)
{
    uint64_t v;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
        return G_SOURCE_CONTINUE;
    }
    while (file_aio_reap(data, false) == URING_ENTRIES) {
    }
    return G_SOURCE_CONTINUE;
}

static bool file_uring_init(BlockDriverState *bs, Error **errp)
{
    BDRVFileState *s = bs->opaque;
    int ret = io_uring_queue_init(URING_ENTRIES, &s->ring, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Unable to use io_uring (aio=io_uring)");
        return false;
    }
    s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->efd < 0 || io_uring_register_eventfd(&s->ring, s->efd) < 0) {
        error_setg_errno(errp, errno, "Unable to set up io_uring completions");
        if (s->efd >= 0) {
            close(s->efd);
        }
        io_uring_queue_exit(&s->ring);
        return false;
    }
    pthread_mutex_init(&s->uring_lock, NULL);
    pthread_cond_init(&s->uring_idle, NULL);
    s->efd_source = g_unix_fd_add(s->efd, G_IO_IN, file_aio_efd_ready, bs);
    s->use_uring = true;
    return true;
}

static void file_uring_cleanup(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;
    if (!s->use_uring) {
        return;
    }
    while (s->in_flight > 0) {
        file_aio_reap(bs, true);
    }
    g_source_remove(s->efd_source);
    io_uring_queue_exit(&s->ring);
    close(s->efd);
    pthread_mutex_destroy(&s->uring_lock);
    pthread_cond_destroy(&s->uring_idle);
}

static bool file_is_aligned(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                            const struct iovec *iov, int niov);

static bool file_aio_rw(BlockDriverState *bs, bool write, uint64_t offset, uint64_t bytes,
                        const struct iovec *iov, int niov, int flags, BdrvAioCompletion *cb,
                        void *opaque)
{
    BDRVFileState *s = bs->opaque;
    if (!s->use_uring || niov > IOV_MAX ||
        (s->direct && !file_is_aligned(bs, offset, bytes, iov, niov))) {
        return false;
    }
    pthread_mutex_lock(&s->uring_lock);
    struct io_uring_sqe *sqe = NULL;
    if (!(write && s->bounce_writers) && s->in_flight < URING_ENTRIES) {
        sqe = io_uring_get_sqe(&s->ring);
    }
    if (!sqe) {
        pthread_mutex_unlock(&s->uring_lock);
        return false;
    }
    FileAioReq *req = g_malloc(sizeof(*req) + niov * sizeof(struct iovec));
    *req = (FileAioReq) {
        .bs = bs, .write = write, .flags = flags, .offset = offset, .bytes = bytes,
        .cb = cb, .opaque = opaque, .niov = niov,
    };
    memcpy(req->iov, iov, niov * sizeof(struct iovec));
    if (write) {
        io_uring_prep_writev(sqe, s->fd, req->iov, niov, offset);
        s->async_writes++;
    } else {
        io_uring_prep_readv(sqe, s->fd, req->iov, niov, offset);
    }
    io_uring_sqe_set_data(sqe, req);
    s->in_flight++;
    if (io_uring_submit(&s->ring) < 0) {
        /* Not queued: the slot becomes a no-op and the caller takes the threaded path. */
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data(sqe, NULL);
        s->in_flight--;
        if (write && --s->async_writes == 0) {
            pthread_cond_broadcast(&s->uring_idle);
        }
        pthread_mutex_unlock(&s->uring_lock);
        g_free(req);
        return false;
    }
    pthread_mutex_unlock(&s->uring_lock);
    return true;
}

static int file_aio_poll(BlockDriverState *bs, bool wait)
{
    BDRVFileState *s = bs->opaque;
    return s->use_uring ? file_aio_reap(bs, wait) : 0;
}
#endif

static bool file_open(BlockDriverState *bs, GHashTable *options, int flags, Error **errp)
{
    BDRVFileState *s = bs->opaque;
    g_hash_table_remove(options, "filename");
    const char *aio = g_hash_table_lookup(options, "aio");
    bool uring = false;
    if (aio && !strcmp(aio, "native") && !(flags & BDRV_O_NOCACHE)) {
        error_setg(errp, "aio=native was specified, but it requires cache.direct=on, which "
                   "was not specified.");
        return false;
    }
    if (aio && (!strcmp(aio, "io_uring") || !strcmp(aio, "native"))) {
        if (!CONFIG_LINUX_IO_URING) {
            error_setg(errp, "aio=%s is not supported by this build (built without liburing; "
                       "use aio=threads)", aio);
            return false;
        }
        uring = true;
    } else if (aio && strcmp(aio, "threads")) {
        error_setg(errp, "Invalid parameter value for 'aio': '%s' (use threads, native or "
                   "io_uring)", aio);
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
#if CONFIG_LINUX_IO_URING
    if (uring && !file_uring_init(bs, errp)) {
        close(s->fd);
        return false;
    }
#endif
    pthread_rwlock_init(&s->rmw_lock, NULL);
    pthread_mutex_init(&s->map_lock, NULL);
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
#if CONFIG_LINUX_IO_URING
    file_uring_cleanup(bs);
#endif
    if (s->map) {
        munmap((void *)s->map, s->map_len);
    }
    close(s->fd);
    pthread_rwlock_destroy(&s->rmw_lock);
    pthread_mutex_destroy(&s->map_lock);
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
            nv = iov_slice(iov, niov, done, bytes - done, local, 64);
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
            iov_memset(iov, niov, done, 0, bytes - done);
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
            iov_from_buf(iov, niov, 0, (uint8_t *)buf + (offset - start), bytes);
        }
    } else {
        pthread_rwlock_wrlock(&s->rmw_lock);
#if CONFIG_LINUX_IO_URING
        if (s->use_uring) {
            pthread_mutex_lock(&s->uring_lock);
            s->bounce_writers++;
            while (s->async_writes > 0) {
                pthread_cond_wait(&s->uring_idle, &s->uring_lock);
            }
            pthread_mutex_unlock(&s->uring_lock);
        }
#endif
        ret = 0;
        if (start != offset || end != offset + bytes) {
            ret = file_rw_vector(s->fd, false, start, end - start, &biov, 1);
        }
        if (ret == 0) {
            iov_to_buf(iov, niov, 0, (uint8_t *)buf + (offset - start), bytes);
            int64_t len = lseek(s->fd, 0, SEEK_END);
            ret = file_rw_vector(s->fd, true, start, end - start, &biov, 1);
            /* Do not leave the file longer than the caller wrote. */
            if (ret == 0 && len >= 0 && (uint64_t)len < end && offset + bytes > (uint64_t)len) {
                if (ftruncate(s->fd, offset + bytes) < 0) {
                    ret = -errno;
                }
            }
        }
#if CONFIG_LINUX_IO_URING
        if (s->use_uring) {
            pthread_mutex_lock(&s->uring_lock);
            s->bounce_writers--;
            pthread_mutex_unlock(&s->uring_lock);
        }
#endif
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

/* copy_file_range(2) from another file node; the kernel's refusals (other file system,
 * no support, unsuitable range) fall back to read + write for what is left. */
static int file_copy_range_to(BlockDriverState *src, uint64_t src_offset, BlockDriverState *bs,
                              uint64_t offset, uint64_t bytes)
{
    BDRVFileState *s = bs->opaque;
    BDRVFileState *ss = src->opaque;
    loff_t in = src_offset, out = offset;
    int ret = 0;

    if (src->drv != bs->drv) {
        return -ENOTSUP;
    }
    if (s->direct) {
        pthread_rwlock_rdlock(&s->rmw_lock);
    }
    while (bytes > 0 && !__atomic_load_n(&s->copy_refused, __ATOMIC_RELAXED)) {
        ssize_t n = copy_file_range(ss->fd, &in, s->fd, &out, MIN(bytes, (uint64_t)1 << 30), 0);

        if (n > 0) {
            bytes -= n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == ENOSYS || errno == EXDEV || errno == EOPNOTSUPP)) {
            __atomic_store_n(&s->copy_refused, true, __ATOMIC_RELAXED);
        } else if (n < 0 && errno != EINVAL) {
            ret = -errno;
        }
        break;  /* refused, or the source ended early: read + write what is left */
    }
    if (s->direct) {
        pthread_rwlock_unlock(&s->rmw_lock);
    }
    if (ret == 0 && bytes > 0) {
        ret = bdrv_copy_range_bounce(src, in, bs, out, bytes);
    }
    return ret;
}

static int file_copy_range_from(BlockDriverState *bs, uint64_t offset, BlockDriverState *dst,
                                uint64_t dst_offset, uint64_t bytes)
{
    return bdrv_copy_range_to(bs, offset, dst, dst_offset, bytes);
}

static const uint8_t *file_map_host(BlockDriverState *bs, uint64_t *len)
{
    BDRVFileState *s = bs->opaque;
    struct stat st;

    pthread_mutex_lock(&s->map_lock);
    if (!s->map_tried && !s->direct && fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size > 0) {
        void *p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, s->fd, 0);

        if (p != MAP_FAILED) {
            s->map = p;
            s->map_len = st.st_size;
        }
    }
    s->map_tried = true;
    pthread_mutex_unlock(&s->map_lock);
    *len = s->map_len;
    return s->map;
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
    .copy_range_from = file_copy_range_from,
    .copy_range_to = file_copy_range_to,
    .map_host = file_map_host,
#if CONFIG_LINUX_IO_URING
    .aio_rw = file_aio_rw,
    .aio_poll = file_aio_poll,
#endif
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
