#ifndef BLOCK_BLOCK_INT_H
#define BLOCK_BLOCK_INT_H

#include <stdbool.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>
#include <glib.h>
#include "util/error.h"
#include "util/iov.h"

/*
 * The node level of the block layer, used by the BlockBackend, by vessel-img and by the
 * format/protocol drivers. A node (BlockDriverState) is one driver instance: a protocol node
 * ("file") reads a host file, a format node ("raw", "qcow2") sits on its protocol child
 * bs->file and optionally on a backing node bs->backing.
 *
 * All bdrv_* I/O functions are synchronous, return 0 (or a non-negative count) or a negative
 * errno, and may be called from several threads at once on the same node: each driver does
 * its own locking. Opening, closing, creating, snapshots, amend, check and resize must not
 * race with I/O on the same node (the caller drains first).
 */

#define BDRV_SECTOR_BITS 9
#define BDRV_SECTOR_SIZE (1u << BDRV_SECTOR_BITS)

/* bdrv_open flags. */
#define BDRV_O_RDWR        0x0002  /* open for writing (read-only otherwise) */
#define BDRV_O_NOCACHE     0x0020  /* cache.direct=on: host page cache bypassed (O_DIRECT) */
#define BDRV_O_NO_FLUSH    0x0200  /* cache.no-flush=on: flushes are ignored (cache=unsafe) */
#define BDRV_O_NO_BACKING  0x0100  /* do not open the backing file */
#define BDRV_O_CHECK       0x1000  /* for `check`: do not repair a dirty image on open */
#define BDRV_O_UNMAP       0x4000  /* discard=unmap: discard requests reach the host file */

/* Request flags for pwritev / pwrite_zeroes. */
#define BDRV_REQ_MAY_UNMAP 0x0004  /* zeroes may be stored by deallocating (v3 zero flag, hole) */
#define BDRV_REQ_FUA       0x0010  /* data must be on stable storage on completion */
#define BDRV_REQ_NO_FALLBACK 0x0100 /* pwrite_zeroes: -ENOTSUP instead of writing zero buffers */

/* block_status result bits (as QEMU's BDRV_BLOCK_*). */
#define BDRV_BLOCK_DATA         0x01  /* reads come from this node's storage */
#define BDRV_BLOCK_ZERO         0x02  /* reads return zeroes */
#define BDRV_BLOCK_OFFSET_VALID 0x04  /* *map is the offset in *file */
#define BDRV_BLOCK_RAW          0x08  /* (raw format) ask *file at *map for the real status */
#define BDRV_BLOCK_ALLOCATED    0x10  /* the content is defined by this node, not its backing */
#define BDRV_BLOCK_EOF          0x20  /* the range reaches the end of the node */
#define BDRV_BLOCK_RECURSE      0x40  /* protocol node may know more (zero ranges of a hole) */
#define BDRV_BLOCK_COMPRESSED   0x80  /* qcow2 compressed cluster (no host offset given) */

typedef enum BlockPrealloc {
    PREALLOC_MODE_OFF,
    PREALLOC_MODE_METADATA,
    PREALLOC_MODE_FALLOC,
    PREALLOC_MODE_FULL,
} BlockPrealloc;

/* "off", "metadata", "falloc", "full" (as QEMU). */
const char *bdrv_prealloc_name(BlockPrealloc mode);
bool bdrv_prealloc_parse(const char *str, BlockPrealloc *out, Error **errp);

/* Image creation and amend options (qemu-img create/amend -o). `set` says which were given. */
enum {
    BLOCK_OPT_SIZE            = 1 << 0,
    BLOCK_OPT_CLUSTER_SIZE    = 1 << 1,
    BLOCK_OPT_BACKING_FILE    = 1 << 2,
    BLOCK_OPT_BACKING_FMT     = 1 << 3,
    BLOCK_OPT_COMPAT          = 1 << 4,
    BLOCK_OPT_PREALLOC        = 1 << 5,
    BLOCK_OPT_LAZY_REFCOUNTS  = 1 << 6,
    BLOCK_OPT_COMPRESSION     = 1 << 7,
    BLOCK_OPT_REFCOUNT_BITS   = 1 << 8,
};

typedef enum BlockCompressionType {
    BLOCK_COMPRESSION_ZLIB = 0,
    BLOCK_COMPRESSION_ZSTD = 1,   /* refused unless built with libzstd */
} BlockCompressionType;

typedef struct BlockCreateOpts {
    uint32_t set;                 /* BLOCK_OPT_* bits of the fields below that were given */
    uint64_t size;                /* virtual size in bytes ("size") */
    uint32_t cluster_size;        /* "cluster_size" (qcow2: 512..2M, default 64k) */
    char *backing_file;           /* "backing_file" */
    char *backing_fmt;            /* "backing_fmt" */
    int compat;                   /* "compat": 2 for "0.10", 3 for "1.1" (default) */
    BlockPrealloc prealloc;       /* "preallocation" */
    bool lazy_refcounts;          /* "lazy_refcounts" */
    BlockCompressionType compression_type; /* "compression_type": zlib|zstd */
    int refcount_bits;            /* "refcount_bits": 1,2,4,...,64 (default 16) */
} BlockCreateOpts;

/* Sets one -o key=value for driver fmt; errors name unknown keys and bad values. */
bool bdrv_create_opts_set(const char *fmt, BlockCreateOpts *opts, const char *key,
                          const char *value, Error **errp);
/* Parses a whole "-o" string ("k=v,k2=v2", ",," escapes a comma) into opts. */
bool bdrv_create_opts_parse(const char *fmt, BlockCreateOpts *opts, const char *optstr,
                            Error **errp);
/* Prints "-o help" for fmt (the options the driver accepts, with their meaning). */
void bdrv_create_opts_print_help(const char *fmt, FILE *out);
/* Frees the strings inside opts (not opts itself) and zeroes it. */
void bdrv_create_opts_clear(BlockCreateOpts *opts);

/* For qemu-img info / check. */
typedef struct BlockDriverInfo {
    int cluster_size;             /* 0 when the format has no clusters */
    bool is_dirty;                /* qcow2 dirty bit set (lazy refcounts not yet settled) */
} BlockDriverInfo;

/* The "Format specific information" block of qemu-img info (qcow2 only). */
typedef struct BlockSpecificInfo {
    const char *compat;           /* "0.10" or "1.1"; NULL when the format has no such info */
    const char *compression_type; /* "zlib" / "zstd" */
    bool lazy_refcounts;
    int refcount_bits;
    bool corrupt;                 /* the corrupt bit is set */
    bool extended_l2;
} BlockSpecificInfo;

typedef struct BlockFragInfo {
    uint64_t allocated_clusters, total_clusters, fragmented_clusters, compressed_clusters;
} BlockFragInfo;

/* check: what to repair. */
typedef enum BdrvCheckMode {
    BDRV_FIX_LEAKS  = 1,
    BDRV_FIX_ERRORS = 2,
} BdrvCheckMode;

/* Counts as qemu-img check reports them; the driver prints details of each finding to stderr. */
typedef struct BdrvCheckResult {
    int corruptions, leaks, check_errors;
    int corruptions_fixed, leaks_fixed;
    int64_t image_end_offset;     /* first byte after the last used cluster of the file */
    BlockFragInfo bfi;
} BdrvCheckResult;

/* One internal snapshot (qemu-img snapshot -l, info). */
typedef struct BlockSnapshotInfo {
    char id_str[128];
    char name[256];
    uint64_t vm_state_size;
    uint32_t date_sec, date_nsec; /* creation time (wall clock) */
    uint64_t vm_clock_nsec;       /* guest clock at creation */
    uint64_t icount;              /* UINT64_MAX when not recorded */
} BlockSnapshotInfo;

typedef struct BlockDriverState BlockDriverState;
typedef struct BlockDriver BlockDriver;

/* Completion of an asynchronous node request; ret is 0 or a negative errno. */
typedef void BdrvAioCompletion(void *opaque, int ret);

struct BlockDriver {
    const char *format_name;      /* "file", "raw", "qcow2" */
    size_t instance_size;         /* size of bs->opaque */
    bool is_protocol;             /* opens a host resource by filename (no child node) */
    bool supports_backing;
    const char *const *create_opts; /* NULL-terminated list of the -o keys create accepts */

    /* Format probing: a score 0..100 for the first bytes of a file (larger wins). */
    int (*probe)(const uint8_t *buf, int buf_size, const char *filename);
    /* Opens bs; consumes (removes) the keys of options it understands. For a format node
     * bs->file is already open; a driver with supports_backing sets bs->backing_file/format
     * and bdrv_open opens the backing chain after open returns (unless BDRV_O_NO_BACKING). */
    bool (*open)(BlockDriverState *bs, GHashTable *options, int flags, Error **errp);
    /* Flushes caches and frees bs->opaque's resources (children are unref'd by the caller). */
    void (*close)(BlockDriverState *bs);
    /* Creates the image opts->... on filename (the protocol file is created by the driver). */
    bool (*create)(const char *filename, const BlockCreateOpts *opts, Error **errp);

    int (*preadv)(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                  const struct iovec *iov, int niov, int flags);
    int (*pwritev)(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                   const struct iovec *iov, int niov, int flags);
    /* Compressed clusters in two steps, so that compression can run on many threads while
     * the writes keep their order. compress: one cluster of data (bytes: the cluster size,
     * less only for the last cluster of the image) into dst (at least cluster-size bytes);
     * the compressed length, or -ENOSPC when it does not shrink. Reads no image state. */
    long (*compress)(BlockDriverState *bs, void *dst, size_t dst_size, const void *src,
                     uint64_t bytes);
    /* Stores data[0..len) from compress as the cluster at offset (bytes: as for compress). */
    int (*pwrite_compressed)(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                             const void *data, size_t len);
    int (*pwrite_zeroes)(BlockDriverState *bs, uint64_t offset, uint64_t bytes, int flags);
    int (*pdiscard)(BlockDriverState *bs, uint64_t offset, uint64_t bytes);
    /* Writes cached metadata and flushes the children down to stable storage. */
    int (*flush)(BlockDriverState *bs);
    int64_t (*getlength)(BlockDriverState *bs);
    /* Bytes the image really uses on the host ("disk size"), or a negative errno. */
    int64_t (*get_allocated_file_size)(BlockDriverState *bs);
    /* Resizes to offset bytes; shrinking only when exact and nothing allocated is lost. */
    int (*truncate)(BlockDriverState *bs, int64_t offset, bool exact, BlockPrealloc prealloc,
                    Error **errp);
    /* Status of [offset, offset+bytes): BDRV_BLOCK_* bits, *pnum bytes share it (>0). */
    int (*block_status)(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum,
                        int64_t *map, BlockDriverState **file);

    /* Optional copy offload. copy_range_from (on the source node bs): copies [offset,
     * offset+bytes) of bs to dst at dst_offset, handing the request down towards the source's
     * host file and then to bdrv_copy_range_to; -ENOTSUP when nothing was written and the
     * caller must read and write instead. */
    int (*copy_range_from)(BlockDriverState *bs, uint64_t offset, BlockDriverState *dst,
                           uint64_t dst_offset, uint64_t bytes);
    /* copy_range_to (on the target node bs): src is a protocol node; stores [src_offset,
     * src_offset+bytes) of src at offset of bs; -ENOTSUP as above. */
    int (*copy_range_to)(BlockDriverState *src, uint64_t src_offset, BlockDriverState *bs,
                         uint64_t offset, uint64_t bytes);
    /* A read-only shared mapping of the whole host file (protocol nodes), or NULL. */
    const uint8_t *(*map_host)(BlockDriverState *bs, uint64_t *len);

    /* Optional asynchronous read/write (file with aio=io_uring, raw over it): true when
     * submitted, and cb runs later on the main loop thread (or in aio_poll); false when the
     * caller must use preadv/pwritev instead. BDRV_REQ_FUA is honoured. */
    bool (*aio_rw)(BlockDriverState *bs, bool write, uint64_t offset, uint64_t bytes,
                   const struct iovec *iov, int niov, int flags, BdrvAioCompletion *cb,
                   void *opaque);
    /* Runs the callbacks of finished aio_rw requests; with wait, first blocks until one
     * finishes (when any is in flight). Returns how many callbacks ran. */
    int (*aio_poll)(BlockDriverState *bs, bool wait);

    void (*get_info)(BlockDriverState *bs, BlockDriverInfo *bdi);
    void (*get_specific_info)(BlockDriverState *bs, BlockSpecificInfo *info);
    int (*check)(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix);
    bool (*amend)(BlockDriverState *bs, const BlockCreateOpts *opts, bool force, Error **errp);
    /* Drops every allocation of this layer so that it reads through to its backing. */
    int (*make_empty)(BlockDriverState *bs);
    /* Rewrites the backing file name/format stored in the image (rebase, commit). */
    int (*change_backing_file)(BlockDriverState *bs, const char *backing_file,
                               const char *backing_fmt);

    bool (*snapshot_create)(BlockDriverState *bs, BlockSnapshotInfo *sn, Error **errp);
    /* Returns the count and a g_new array in *psn (g_free it), or a negative errno. */
    int (*snapshot_list)(BlockDriverState *bs, BlockSnapshotInfo **psn);
    bool (*snapshot_goto)(BlockDriverState *bs, const char *id_or_name, Error **errp);
    bool (*snapshot_delete)(BlockDriverState *bs, const char *id, const char *name,
                            Error **errp);
};

struct BlockDriverState {
    const BlockDriver *drv;
    void *opaque;                 /* drv->instance_size bytes, zeroed */
    char *filename;               /* as opened (protocol path, or the format's file) */
    char *node_name;
    int open_flags;               /* BDRV_O_* */
    bool read_only;
    BlockDriverState *file;       /* protocol child of a format node */
    BlockDriverState *backing;    /* NULL when none or BDRV_O_NO_BACKING */
    char *backing_file;           /* backing file name as stored in the image, or NULL */
    char *backing_format;         /* backing format as stored in the image, or NULL */
    uint32_t request_alignment;   /* offsets/lengths the protocol needs (512 with O_DIRECT) */
    int refcnt;
};

/* Drivers: registered from constructors; found by format name. */
void bdrv_register(const BlockDriver *drv);
const BlockDriver *bdrv_find_format(const char *format_name);
/* Calls fn for each registered driver name, sorted. */
void bdrv_iterate_format(void (*fn)(const char *name, void *opaque), void *opaque);

/*
 * Opens a node. filename may be NULL when options give it ("file.filename" or "filename").
 * options (borrowed, may be NULL) are QEMU's flattened keys: "driver" (the format; probed
 * when absent), "file.driver", "file.filename", "file.aio", "cache.direct", "cache.no-flush",
 * "read-only", "discard", "backing" ("" or "null" for none), "backing.<key>" for the backing
 * node, "offset"/"size" for raw, "node-name". Keys nobody understands are an error.
 */
BlockDriverState *bdrv_open(const char *filename, GHashTable *options, int flags,
                            Error **errp);
/* Parses "key=value,..." (as --image-opts / -blockdev) into a new string table. A "json:{...}"
 * filename is turned into the same flat table. */
GHashTable *bdrv_parse_options(const char *str, Error **errp);
/* Parses -t/cache= modes: "none", "writeback", "writethrough", "directsync", "unsafe".
 * Adds BDRV_O_NOCACHE / BDRV_O_NO_FLUSH to *flags; *writethrough for writethrough/directsync. */
bool bdrv_parse_cache_mode(const char *mode, int *flags, bool *writethrough, Error **errp);

void bdrv_ref(BlockDriverState *bs);
/* Drops a reference; the last one flushes, closes the node and unrefs its children. */
void bdrv_unref(BlockDriverState *bs);

/* Creates an image of format fmt ("raw", "qcow2") at filename. With a backing file and no
 * size, the size is the backing image's. */
bool bdrv_create(const char *fmt, const char *filename, const BlockCreateOpts *opts,
                 Error **errp);

const char *bdrv_get_format_name(const BlockDriverState *bs);
int64_t bdrv_getlength(BlockDriverState *bs);
int64_t bdrv_get_allocated_file_size(BlockDriverState *bs);
/* Zero-filled defaults when the driver has none. */
void bdrv_get_info(BlockDriverState *bs, BlockDriverInfo *bdi);
void bdrv_get_specific_info(BlockDriverState *bs, BlockSpecificInfo *info);
/* The backing file name resolved against the image's directory (g_free), or NULL. */
char *bdrv_get_full_backing_filename(BlockDriverState *bs);

/* Synchronous I/O. Reads past the end of the node fail with -EIO. */
int bdrv_preadv(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                const struct iovec *iov, int niov, int flags);
int bdrv_pwritev(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                 const struct iovec *iov, int niov, int flags);
int bdrv_pread(BlockDriverState *bs, uint64_t offset, uint64_t bytes, void *buf);
int bdrv_pwrite(BlockDriverState *bs, uint64_t offset, uint64_t bytes, const void *buf);
/* Asynchronous read/write where the node has an aio_rw path (see BlockDriver.aio_rw);
 * false (nothing submitted) otherwise, or when the request is out of range / read-only. */
bool bdrv_aio_rw(BlockDriverState *bs, bool write, uint64_t offset, uint64_t bytes,
                 const struct iovec *iov, int niov, int flags, BdrvAioCompletion *cb,
                 void *opaque);
/* See BlockDriver.aio_poll; 0 for nodes without an asynchronous path. */
int bdrv_aio_poll(BlockDriverState *bs, bool wait);
/* Copies [src_offset, src_offset+bytes) of src to dst at dst_offset, as read + write would,
 * but without a user buffer where the drivers allow it (copy_file_range(2) between the host
 * files under raw and qcow2 nodes); a bounce buffer otherwise. src and dst are distinct nodes. */
int bdrv_copy_range(BlockDriverState *src, uint64_t src_offset, BlockDriverState *dst,
                    uint64_t dst_offset, uint64_t bytes);
/* For drivers: the second half of an offloaded copy (see BlockDriver.copy_range_to). */
int bdrv_copy_range_to(BlockDriverState *src, uint64_t src_offset, BlockDriverState *dst,
                       uint64_t dst_offset, uint64_t bytes);
/* For drivers: bdrv_copy_range through a bounce buffer (no offload). */
int bdrv_copy_range_bounce(BlockDriverState *src, uint64_t src_offset, BlockDriverState *dst,
                           uint64_t dst_offset, uint64_t bytes);
/* A read-only view of a protocol node's whole host file, mapped on first use and kept until
 * the node closes; *len is the mapped length. NULL when the node cannot be mapped (not a
 * protocol node, cache.direct=on, empty or special file): read it instead. */
const uint8_t *bdrv_map_host(BlockDriverState *bs, uint64_t *len);
/* Write, then flush when the write succeeded. */
int bdrv_pwrite_sync(BlockDriverState *bs, uint64_t offset, uint64_t bytes, const void *buf);
/* One whole cluster (offset cluster aligned; bytes the cluster size, or up to the image end),
 * stored compressed, or as plain data when it does not shrink. -ENOTSUP when the format has
 * no compressed clusters. */
int bdrv_pwrite_compressed(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                           const void *buf);
/* The two halves of bdrv_pwrite_compressed: bdrv_compress_cluster may run on any thread at
 * any time (dst: BlockDriverInfo.cluster_size bytes) and returns the compressed length, or
 * -ENOSPC when the data does not shrink (write it with bdrv_pwrite instead);
 * bdrv_pwrite_precompressed stores that result. */
long bdrv_compress_cluster(BlockDriverState *bs, void *dst, size_t dst_size, const void *src,
                           uint64_t bytes);
int bdrv_pwrite_precompressed(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                              const void *data, size_t len);
/* Falls back to writing zero buffers unless BDRV_REQ_NO_FALLBACK. */
int bdrv_pwrite_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes, int flags);
/* Ignored (returns 0) unless the node was opened with BDRV_O_UNMAP or the driver always can. */
int bdrv_pdiscard(BlockDriverState *bs, uint64_t offset, uint64_t bytes);
int bdrv_flush(BlockDriverState *bs);
int bdrv_truncate(BlockDriverState *bs, int64_t offset, bool exact, BlockPrealloc prealloc,
                  Error **errp);

/* Status of this node only (see BDRV_BLOCK_*); raw nodes resolve through their file. */
int bdrv_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum,
                      int64_t *map, BlockDriverState **file);
/* Status through the backing chain from bs down to (not including) base (NULL: whole chain).
 * *depth (may be NULL) is 0 for bs, 1 for its backing, ...; the returned bits describe the
 * node that defines the content (BDRV_BLOCK_ZERO without ALLOCATED past the chain's end). */
int bdrv_block_status_above(BlockDriverState *bs, BlockDriverState *base, int64_t offset,
                            int64_t bytes, int64_t *pnum, int64_t *map,
                            BlockDriverState **file, int *depth);

int bdrv_check(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix);
bool bdrv_amend(BlockDriverState *bs, const BlockCreateOpts *opts, bool force, Error **errp);
int bdrv_make_empty(BlockDriverState *bs);
/* Rewrites the backing reference in the image header; bs->backing is not reopened. */
int bdrv_change_backing_file(BlockDriverState *bs, const char *backing_file,
                             const char *backing_fmt);

bool bdrv_snapshot_create(BlockDriverState *bs, BlockSnapshotInfo *sn, Error **errp);
int bdrv_snapshot_list(BlockDriverState *bs, BlockSnapshotInfo **psn);
bool bdrv_snapshot_goto(BlockDriverState *bs, const char *id_or_name, Error **errp);
/* Deletes the snapshot matching id and/or name (either may be NULL, not both). */
bool bdrv_snapshot_delete(BlockDriverState *bs, const char *id, const char *name,
                          Error **errp);


#endif
