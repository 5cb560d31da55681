#ifndef BLOCK_BLOCK_BACKEND_H
#define BLOCK_BLOCK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>
#include "util/error.h"

/*
 * What devices (virtio-blk) and the monitor see of the block layer. A BlockBackend is named
 * by its -drive id (or -blockdev node-name) and sits on the root node of a graph
 * (format over protocol, backing chains). Asynchronous requests run on worker threads and
 * complete on the main loop thread with the big lock held; they may be submitted from any
 * thread holding the big lock.
 */

typedef struct BlockBackend BlockBackend;

/* ret is 0 or a negative errno. */
typedef void BlockCompletionFunc(void *opaque, int ret);

typedef struct BlockAcctStats {
    uint64_t rd_bytes, wr_bytes, rd_operations, wr_operations;
    uint64_t flush_operations, discard_operations, discard_bytes;
    uint64_t zone_append_operations;
    uint64_t failed_rd_operations, failed_wr_operations, failed_flush_operations;
    uint64_t rd_total_time_ns, wr_total_time_ns, flush_total_time_ns;
    int64_t idle_time_ns;             /* since the last completed request */
} BlockAcctStats;

/* The backend with this -drive id / -blockdev node-name, or NULL. */
BlockBackend *blk_by_name(const char *name);
const char *blk_name(const BlockBackend *blk);
/* Calls fn for every named backend in creation order (query-block). */
void blk_foreach(void (*fn)(BlockBackend *blk, void *opaque), void *opaque);

/* Claims blk for dev (one device per backend); false with *errp when already in use. */
bool blk_attach_dev(BlockBackend *blk, void *dev, Error **errp);
void blk_detach_dev(BlockBackend *blk, void *dev);
void *blk_get_attached_dev(BlockBackend *blk);

int64_t blk_getlength(BlockBackend *blk);
bool blk_is_read_only(const BlockBackend *blk);
/* True when discard requests reach the image (discard=unmap). */
bool blk_discard_enabled(const BlockBackend *blk);
/* Whether writes need an explicit flush (false for cache=writethrough/directsync). */
bool blk_enable_write_cache(const BlockBackend *blk);

void blk_aio_preadv(BlockBackend *blk, uint64_t offset, const struct iovec *iov, int niov,
                    BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwritev(BlockBackend *blk, uint64_t offset, const struct iovec *iov, int niov,
                     BlockCompletionFunc *cb, void *opaque);
void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);
void blk_aio_pdiscard(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                      BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwrite_zeroes(BlockBackend *blk, uint64_t offset, uint64_t bytes, bool may_unmap,
                           BlockCompletionFunc *cb, void *opaque);
/* Waits until every request of blk has completed (main loop thread, big lock held). */
void blk_drain(BlockBackend *blk);
/* Waits for all backends; flushes them (at exit). */
void blk_drain_all(void);
void blk_flush_all(void);

const BlockAcctStats *blk_get_stats(const BlockBackend *blk);

/* For query-block: the root node's filename, format, virtual size, backing file, ro. */
typedef struct BlockInfo {
    const char *device;        /* the -drive id, "" for -blockdev backends */
    const char *node_name;
    const char *filename;
    const char *format;
    const char *backing_file;  /* NULL when none */
    int64_t virtual_size;
    bool read_only;
    bool encrypted;
    const char *cache_mode;    /* "writeback", "none", "directsync", "writethrough" */
} BlockInfo;
void blk_get_info(BlockBackend *blk, BlockInfo *info);

/* -drive and -blockdev (dotted and JSON syntax); the drive is created with its backend. */
BlockBackend *drive_new(const char *optstr, Error **errp);
BlockBackend *blockdev_new(const char *optstr, Error **errp);
/* Drives given with if=virtio that still need their device (created by the board/main). */
GPtrArray *drive_list_if_virtio(void);

#endif
