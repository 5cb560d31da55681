#ifndef BLOCK_QCOW2_H
#define BLOCK_QCOW2_H

/* Internal state of the qcow2 driver, shared by block/qcow2*.c (docs/interop/qcow2.txt). */

#include <pthread.h>
#include "block/block_int.h"

#define QCOW_MAGIC 0x514649fbu           /* "QFI\xfb" */
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104
#define QCOW2_HEADER_LEN 112             /* what we write for v3: with compression_type */

#define QCOW_OFLAG_COPIED     (1ULL << 63)
#define QCOW_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW_OFLAG_ZERO       (1ULL << 0)
#define L1E_OFFSET_MASK       0x00fffffffffffe00ULL
#define L2E_OFFSET_MASK       0x00fffffffffffe00ULL
#define REFT_OFFSET_MASK      0xfffffffffffffe00ULL

#define QCOW2_INCOMPAT_DIRTY        (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT      (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE    (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION  (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2        (1ULL << 4)
#define QCOW2_INCOMPAT_SUPPORTED    (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | \
                                     QCOW2_INCOMPAT_COMPRESSION)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ULL << 0)
#define QCOW2_AUTOCLEAR_BITMAPS     (1ULL << 0)

#define QCOW2_EXT_END          0
#define QCOW2_EXT_BACKING_FMT  0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u

#define QCOW_MAX_L1_SIZE       (32u * 1024 * 1024)   /* bytes */
#define QCOW_MAX_REFTABLE_SIZE (8u * 1024 * 1024)    /* bytes */
#define QCOW_MAX_SNAPSHOTS     65536
#define QCOW_MAX_BACKING_NAME  1023

typedef enum Qcow2ClusterType {
    QCOW2_CLUSTER_UNALLOCATED,
    QCOW2_CLUSTER_ZERO_PLAIN,
    QCOW2_CLUSTER_ZERO_ALLOC,
    QCOW2_CLUSTER_NORMAL,
    QCOW2_CLUSTER_COMPRESSED,
} Qcow2ClusterType;

typedef struct Qcow2CacheEntry {
    uint64_t offset;              /* 0: unused slot */
    bool dirty;
    int ref;
    uint64_t lru;
} Qcow2CacheEntry;

/* A write-back cache of cluster-sized metadata tables; used under the node lock only. */
typedef struct Qcow2Cache {
    Qcow2CacheEntry *entries;
    uint8_t *mem;                 /* size tables of cluster_size bytes */
    int size;
    uint32_t table_size;          /* bytes per table (the cluster size) */
    uint64_t lru_counter;
    GHashTable *index;            /* offset -> slot + 1 */
    struct Qcow2Cache *depends;   /* must be written (and flushed) before this one */
} Qcow2Cache;

typedef struct Qcow2Snapshot {
    uint64_t l1_table_offset;
    uint32_t l1_size;
    char *id_str, *name;
    uint64_t disk_size;           /* virtual size when taken */
    uint64_t vm_state_size;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t icount;
    uint32_t extra_data_size;
    uint8_t *unknown_extra;       /* extra data bytes beyond the ones we know, kept as is */
} Qcow2Snapshot;

/* A guest range [start, end) whose clusters are being allocated by a writer. */
typedef struct Qcow2InFlight {
    uint64_t start, end;
    struct Qcow2InFlight *next;
} Qcow2InFlight;

typedef struct Qcow2UnknownExt {
    uint32_t magic, len;
    uint8_t *data;
} Qcow2UnknownExt;

typedef struct BDRVQcow2State {
    pthread_mutex_t lock;         /* metadata: tables, caches, refcounts, allocation */
    pthread_cond_t alloc_done;    /* signalled when an in-flight allocation completes */
    pthread_rwlock_t io_lock;     /* data I/O shares; discard and snapshot ops exclude */
    int version;
    int cluster_bits;
    uint32_t cluster_size;
    int l2_bits;                  /* log2 of entries per L2 table */
    uint32_t l2_size;
    int csize_shift;
    uint64_t csize_mask, cluster_offset_mask;
    uint64_t size;                /* virtual disk size */
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t *l1_table;           /* host byte order */
    uint64_t refcount_table_offset;
    uint32_t refcount_table_size; /* entries */
    uint64_t *refcount_table;     /* host byte order */
    int refcount_order, refcount_bits;
    int refcount_block_bits;      /* log2 of entries per refcount block */
    uint64_t refcount_max;
    uint64_t incompatible_features, compatible_features, autoclear_features;
    uint32_t header_length;
    int compression_type;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    Qcow2Snapshot *snapshots;
    Qcow2UnknownExt *unknown_exts;
    int nb_unknown_exts;
    uint64_t file_end;            /* host bytes in use: file size at open or allocations */
    uint64_t free_cluster_index;
    uint64_t free_byte_offset;    /* next byte for compressed data, 0 when none */
    Qcow2Cache *l2_cache, *refcount_cache;
    Qcow2InFlight *in_flight;
    bool lazy_refcounts;          /* compatible bit set and in use */
    bool dirty_marked;            /* we set the dirty bit in this session */
    bool writable;
} BDRVQcow2State;

static inline uint64_t qcow2_offset_into_cluster(BDRVQcow2State *s, uint64_t off)
{
    return off & (s->cluster_size - 1);
}

static inline uint64_t qcow2_start_of_cluster(BDRVQcow2State *s, uint64_t off)
{
    return off & ~(uint64_t)(s->cluster_size - 1);
}

static inline uint64_t qcow2_size_to_clusters(BDRVQcow2State *s, uint64_t size)
{
    return (size + s->cluster_size - 1) >> s->cluster_bits;
}

static inline uint64_t qcow2_l1_entries_for(BDRVQcow2State *s, uint64_t size)
{
    uint64_t shift = s->cluster_bits + s->l2_bits;
    return (size + (1ULL << shift) - 1) >> shift;
}

Qcow2ClusterType qcow2_get_cluster_type(BDRVQcow2State *s, uint64_t l2_entry);

/* qcow2.c */
int qcow2_update_header(BlockDriverState *bs);
int qcow2_mark_dirty(BlockDriverState *bs);
int qcow2_mark_clean(BlockDriverState *bs);
/* Reads old content of guest range [offset, offset+bytes) for copy-on-write (lock not held). */
int qcow2_read_for_cow(BlockDriverState *bs, uint64_t l2_entry, uint64_t offset,
                       uint64_t bytes, uint8_t *buf);
/* Resizes the active L1 table to hold at least min_size entries (lock held). */
int qcow2_grow_l1_table(BlockDriverState *bs, uint64_t min_size, bool exact);

/* qcow2-cache.c */
Qcow2Cache *qcow2_cache_create(BlockDriverState *bs, int num_tables);
void qcow2_cache_destroy(Qcow2Cache *c);
/* Reads (or, when fresh, zero-fills) the table at offset; pinned until qcow2_cache_put. */
int qcow2_cache_get(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset, void **table);
int qcow2_cache_get_empty(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset, void **table);
void qcow2_cache_put(Qcow2Cache *c, void **table);
void qcow2_cache_mark_dirty(Qcow2Cache *c, void *table);
/* Writes back every dirty table (dependencies first) without flushing the file. */
int qcow2_cache_write(BlockDriverState *bs, Qcow2Cache *c);
/* Writes back and flushes the file. */
int qcow2_cache_flush(BlockDriverState *bs, Qcow2Cache *c);
/* c may only be written after dep is written and flushed. */
int qcow2_cache_set_dependency(BlockDriverState *bs, Qcow2Cache *c, Qcow2Cache *dep);
/* Forgets the table at offset (its cluster was freed). */
void qcow2_cache_discard(Qcow2Cache *c, uint64_t offset);
/* Forgets every table (must be clean). */
void qcow2_cache_empty(Qcow2Cache *c);

/* qcow2-refcount.c (lock held) */
int qcow2_refcount_init(BlockDriverState *bs);
int qcow2_get_refcount(BlockDriverState *bs, uint64_t cluster_index, uint64_t *refcount);
/* Adds addend to the refcount of every cluster touched by [offset, offset+length). */
int qcow2_update_refcount(BlockDriverState *bs, uint64_t offset, uint64_t length,
                          int64_t addend);
/* Allocates size bytes of contiguous clusters (refcount 1); returns the offset or -errno. */
int64_t qcow2_alloc_clusters(BlockDriverState *bs, uint64_t size);
/* Allocates size bytes (<= cluster) for compressed data, sharing clusters. */
int64_t qcow2_alloc_bytes(BlockDriverState *bs, uint64_t size);
void qcow2_free_clusters(BlockDriverState *bs, uint64_t offset, uint64_t size);
/* Drops the references of one L2 entry (data or compressed cluster). */
void qcow2_free_any_cluster(BlockDriverState *bs, uint64_t l2_entry);
/* Adds addend to everything an L1 table references and fixes OFLAG_COPIED in it. */
int qcow2_update_snapshot_refcount(BlockDriverState *bs, uint64_t l1_offset, uint32_t l1_size,
                                   int addend);
/* The same for an L1 table in memory; its COPIED flags are updated in place. */
int qcow2_update_l1_refcount(BlockDriverState *bs, uint64_t *l1, uint32_t l1_size, int addend,
                             bool *l1_changed);
int qcow2_read_l1(BlockDriverState *bs, uint64_t l1_offset, uint32_t l1_size, uint64_t **out);
int qcow2_write_l1(BlockDriverState *bs, uint64_t l1_offset, const uint64_t *l1,
                   uint32_t l1_size);
/* Rewrites all refcounts with 2^order bits per entry (the header is the caller's). */
int qcow2_change_refcount_order(BlockDriverState *bs, int order);
int qcow2_check_refcounts(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix);

/* qcow2-cluster.c (lock held unless said otherwise) */
/* Maps guest offset: *bytes is limited to a run of one type and contiguous host offsets. */
int qcow2_get_host_offset(BlockDriverState *bs, uint64_t offset, uint64_t *bytes,
                          uint64_t *host_offset, uint64_t *l2_entry, Qcow2ClusterType *type);
/* Number of clusters from offset (at most nb) that a write must (re)allocate, >= 1, and
 * the first cluster's L2 entry; 0 when the first cluster is already writable in place. */
int qcow2_count_alloc_needed(BlockDriverState *bs, uint64_t offset, int nb,
                             uint64_t *first_entry, uint64_t *last_entry);
/* Points nb guest clusters from offset at host (contiguous), releasing the old clusters. */
int qcow2_link_clusters(BlockDriverState *bs, uint64_t offset, int nb, uint64_t host);
int qcow2_set_compressed_entry(BlockDriverState *bs, uint64_t offset, uint64_t host,
                               uint64_t csize);
/* Whole clusters: zero flag or deallocation. -ENOTSUP when v2 and zeroes must be stored. */
int qcow2_cluster_zeroize(BlockDriverState *bs, uint64_t offset, uint64_t bytes, bool unmap);
/* full: entries become unallocated even when a backing file would then show through. */
int qcow2_cluster_discard(BlockDriverState *bs, uint64_t offset, uint64_t bytes, bool full);

/* qcow2-compress.c (no lock needed) */
/* Compresses src (cluster_size bytes); returns the compressed length or -ENOSPC when it
 * would not be smaller than dst_size. */
long qcow2_compress(int type, void *dst, size_t dst_size, const void *src, size_t src_size);
int qcow2_decompress(int type, void *dst, size_t dst_size, const void *src, size_t src_size);

/* qcow2-snapshot.c */
int qcow2_read_snapshots(BlockDriverState *bs, Error **errp);
void qcow2_free_snapshots(BDRVQcow2State *s);
bool qcow2_snapshot_create(BlockDriverState *bs, BlockSnapshotInfo *sn, Error **errp);
int qcow2_snapshot_list(BlockDriverState *bs, BlockSnapshotInfo **psn);
bool qcow2_snapshot_goto(BlockDriverState *bs, const char *id_or_name, Error **errp);
bool qcow2_snapshot_delete(BlockDriverState *bs, const char *id, const char *name,
                           Error **errp);

#endif
