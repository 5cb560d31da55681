/* qcow2 reference counts: lookup, update with refcount block and table allocation, cluster
 * and byte allocation, snapshot reference walks, and the consistency check with repair. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "block/qcow2.h"

static uint64_t rc_get(BDRVQcow2State *s, const void *block, uint64_t i)
{
    const uint8_t *b = block;
    switch (s->refcount_order) {
    case 3: return b[i];
    case 4: return be16toh(((const uint16_t *)block)[i]);
    case 5: return be32toh(((const uint32_t *)block)[i]);
    case 6: return be64toh(((const uint64_t *)block)[i]);
    default: {
        uint64_t bit = i << s->refcount_order;
        return (b[bit / 8] >> (bit % 8)) & s->refcount_max;
    }
    }
}

static void rc_set(BDRVQcow2State *s, void *block, uint64_t i, uint64_t v)
{
    uint8_t *b = block;
    switch (s->refcount_order) {
    case 3: b[i] = v; break;
    case 4: ((uint16_t *)block)[i] = htobe16(v); break;
    case 5: ((uint32_t *)block)[i] = htobe32(v); break;
    case 6: ((uint64_t *)block)[i] = htobe64(v); break;
    default: {
        uint64_t bit = i << s->refcount_order;
        b[bit / 8] = (b[bit / 8] & ~(s->refcount_max << (bit % 8))) | (v << (bit % 8));
    }
    }
}

int qcow2_refcount_init(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    size_t bytes = (size_t)s->refcount_table_size * 8;
    s->refcount_table = g_try_malloc0(MAX(bytes, 8));
    if (!s->refcount_table) {
        return -ENOMEM;
    }
    int ret = bdrv_pread(bs->file, s->refcount_table_offset, bytes, s->refcount_table);
    if (ret < 0) {
        return ret;
    }
    for (uint32_t i = 0; i < s->refcount_table_size; i++) {
        s->refcount_table[i] = be64toh(s->refcount_table[i]);
    }
    return 0;
}

/* The refcount block offset for table index t, 0 when none, -EIO when misaligned. */
static int64_t refblock_offset(BDRVQcow2State *s, uint64_t t)
{
    if (t >= s->refcount_table_size) {
        return 0;
    }
    uint64_t off = s->refcount_table[t] & REFT_OFFSET_MASK;
    if (qcow2_offset_into_cluster(s, off)) {
        return -EIO;
    }
    return off;
}

int qcow2_get_refcount(BlockDriverState *bs, uint64_t cluster_index, uint64_t *refcount)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t off = refblock_offset(s, cluster_index >> s->refcount_block_bits);
    *refcount = 0;
    if (off <= 0) {
        return (int)off;
    }
    void *block;
    int ret = qcow2_cache_get(bs, s->refcount_cache, off, &block);
    if (ret < 0) {
        return ret;
    }
    *refcount = rc_get(s, block, cluster_index & ((1ULL << s->refcount_block_bits) - 1));
    qcow2_cache_put(s->refcount_cache, &block);
    return 0;
}

/* First run of nb clusters with refcount 0 at or after free_cluster_index. Clusters past
 * the end of the file are free (a stray refcount there describes nothing), which bounds
 * the scan on damaged images. */
static int64_t alloc_clusters_noref(BlockDriverState *bs, uint64_t nb)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t start = s->free_cluster_index, run = 0;
    for (uint64_t i = start;; i++) {
        uint64_t rc = 0;
        if ((i << s->cluster_bits) < s->file_end) {
            int ret = qcow2_get_refcount(bs, i, &rc);
            if (ret < 0) {
                return ret;
            }
        }
        if (rc) {
            run = 0;
            start = i + 1;
            continue;
        }
        if (++run == nb) {
            break;
        }
        if ((start + nb) > (1ULL << (63 - s->cluster_bits))) {
            return -EFBIG;
        }
    }
    s->file_end = MAX(s->file_end, (start + nb) << s->cluster_bits);
    return (int64_t)(start << s->cluster_bits);
}

static int write_reftable_entry(BlockDriverState *bs, uint64_t t)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t be = htobe64(s->refcount_table[t]);
    return bdrv_pwrite(bs->file, s->refcount_table_offset + t * 8, 8, &be);
}

static int grow_refcount_table(BlockDriverState *bs, uint64_t min_entries)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t per_cluster = s->cluster_size / 8;
    uint64_t entries = MAX(min_entries, (uint64_t)s->refcount_table_size * 2);
    entries = (entries + per_cluster - 1) / per_cluster * per_cluster;
    if (entries * 8 > QCOW_MAX_REFTABLE_SIZE) {
        return -EFBIG;
    }
    uint64_t clusters = entries / per_cluster;
    int64_t new_off = alloc_clusters_noref(bs, clusters);
    if (new_off < 0) {
        return (int)new_off;
    }
    s->free_cluster_index = (new_off >> s->cluster_bits) + clusters;

    uint64_t *old_table = s->refcount_table;
    uint64_t old_off = s->refcount_table_offset;
    uint32_t old_size = s->refcount_table_size;
    uint64_t *table = g_new0(uint64_t, entries);
    memcpy(table, old_table, (size_t)old_size * 8);
    s->refcount_table = table;
    s->refcount_table_offset = new_off;
    s->refcount_table_size = entries;

    int ret = qcow2_update_refcount(bs, new_off, clusters * s->cluster_size, 1);
    if (ret < 0) {
        goto fail;
    }
    uint64_t *be = g_new(uint64_t, entries);
    for (uint64_t i = 0; i < entries; i++) {
        be[i] = htobe64(s->refcount_table[i]);
    }
    ret = bdrv_pwrite(bs->file, new_off, entries * 8, be);
    g_free(be);
    if (ret < 0 || (ret = qcow2_cache_flush(bs, s->refcount_cache)) < 0) {
        goto fail;
    }
    struct {
        uint64_t offset;
        uint32_t clusters;
    } __attribute__((packed)) hdr = { htobe64(new_off), htobe32(clusters) };
    ret = bdrv_pwrite_sync(bs->file, 48, sizeof(hdr), &hdr);
    if (ret < 0) {
        goto fail;
    }
    g_free(old_table);
    qcow2_free_clusters(bs, old_off, (uint64_t)old_size * 8);
    return 0;

fail:
    /* The new table stays unused on disk (leaked clusters at worst). */
    g_free(s->refcount_table);
    s->refcount_table = old_table;
    s->refcount_table_offset = old_off;
    s->refcount_table_size = old_size;
    return ret;
}

static int alloc_refcount_block(BlockDriverState *bs, uint64_t t)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;
    if (t >= s->refcount_table_size && (ret = grow_refcount_table(bs, t + 1)) < 0) {
        return ret;
    }
    if (s->refcount_table[t] & REFT_OFFSET_MASK) {
        return 0;
    }
    int64_t off = alloc_clusters_noref(bs, 1);
    if (off < 0) {
        return (int)off;
    }
    uint64_t ci = off >> s->cluster_bits;
    s->free_cluster_index = ci + 1;
    void *block;
    if ((ci >> s->refcount_block_bits) == t) {
        /* The new block describes itself. */
        ret = qcow2_cache_get_empty(bs, s->refcount_cache, off, &block);
        if (ret < 0) {
            return ret;
        }
        rc_set(s, block, ci & ((1ULL << s->refcount_block_bits) - 1), 1);
    } else {
        ret = qcow2_update_refcount(bs, off, s->cluster_size, 1);
        if (ret < 0) {
            return ret;
        }
        if (s->refcount_table[t] & REFT_OFFSET_MASK) {
            /* Allocating the block's own refcount already covered index t. */
            qcow2_free_clusters(bs, off, s->cluster_size);
            return 0;
        }
        ret = qcow2_cache_get_empty(bs, s->refcount_cache, off, &block);
        if (ret < 0) {
            return ret;
        }
    }
    qcow2_cache_mark_dirty(s->refcount_cache, block);
    qcow2_cache_put(s->refcount_cache, &block);
    /* The block is on disk before the table points to it. */
    ret = qcow2_cache_flush(bs, s->refcount_cache);
    if (ret < 0) {
        return ret;
    }
    s->refcount_table[t] = off;
    return write_reftable_entry(bs, t);
}

int qcow2_update_refcount(BlockDriverState *bs, uint64_t offset, uint64_t length,
                          int64_t addend)
{
    BDRVQcow2State *s = bs->opaque;
    if (length == 0 || addend == 0) {
        return 0;
    }
    int ret;
    if (s->lazy_refcounts && !s->dirty_marked && (ret = qcow2_mark_dirty(bs)) < 0) {
        return ret;
    }
    if (addend < 0 && !s->lazy_refcounts) {
        ret = qcow2_cache_set_dependency(bs, s->refcount_cache, s->l2_cache);
        if (ret < 0) {
            return ret;
        }
    }
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + length - 1) >> s->cluster_bits;
    uint64_t mask = (1ULL << s->refcount_block_bits) - 1;
    for (uint64_t ci = first; ci <= last;) {
        uint64_t t = ci >> s->refcount_block_bits;
        int64_t boff = refblock_offset(s, t);
        if (boff < 0) {
            return (int)boff;
        }
        if (boff == 0) {
            if (addend < 0) {
                return -EINVAL;
            }
            if ((ret = alloc_refcount_block(bs, t)) < 0) {
                return ret;
            }
            if (refblock_offset(s, t) <= 0) {
                return -EIO;
            }
            continue;
        }
        void *block;
        ret = qcow2_cache_get(bs, s->refcount_cache, boff, &block);
        if (ret < 0) {
            return ret;
        }
        for (; ci <= last && (ci >> s->refcount_block_bits) == t; ci++) {
            uint64_t rc = rc_get(s, block, ci & mask);
            if ((addend < 0 && rc < (uint64_t)-addend) ||
                (addend > 0 && s->refcount_max - rc < (uint64_t)addend)) {
                qcow2_cache_put(s->refcount_cache, &block);
                return addend < 0 ? -EINVAL : -ERANGE;
            }
            rc += addend;
            rc_set(s, block, ci & mask, rc);
            if (rc == 0) {
                s->free_cluster_index = MIN(s->free_cluster_index, ci);
                qcow2_cache_discard(s->l2_cache, ci << s->cluster_bits);
                if ((ci << s->cluster_bits) != (uint64_t)boff) {
                    qcow2_cache_discard(s->refcount_cache, ci << s->cluster_bits);
                }
            }
        }
        qcow2_cache_mark_dirty(s->refcount_cache, block);
        qcow2_cache_put(s->refcount_cache, &block);
    }
    return 0;
}

int64_t qcow2_alloc_clusters(BlockDriverState *bs, uint64_t size)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t nb = qcow2_size_to_clusters(s, size);
    int64_t off = alloc_clusters_noref(bs, nb);
    if (off < 0) {
        return off;
    }
    s->free_cluster_index = (off >> s->cluster_bits) + nb;
    s->file_end = MAX(s->file_end, (uint64_t)off + (nb << s->cluster_bits));
    int ret = qcow2_update_refcount(bs, off, nb << s->cluster_bits, 1);
    return ret < 0 ? ret : off;
}

int64_t qcow2_alloc_bytes(BlockDriverState *bs, uint64_t size)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off = s->free_byte_offset;
    int ret;
    if (off && qcow2_offset_into_cluster(s, off) + size <= s->cluster_size) {
        /* Shares the current cluster: one more reference to it. */
        ret = qcow2_update_refcount(bs, off, 1, 1);
        if (ret < 0) {
            return ret;
        }
    } else {
        int64_t c = qcow2_alloc_clusters(bs, size);
        if (c < 0) {
            return c;
        }
        off = c;
    }
    s->free_byte_offset = off + size;
    if (qcow2_offset_into_cluster(s, s->free_byte_offset) == 0) {
        s->free_byte_offset = 0;
    }
    return off;
}

void qcow2_free_clusters(BlockDriverState *bs, uint64_t offset, uint64_t size)
{
    int ret = qcow2_update_refcount(bs, offset, size, -1);
    if (ret < 0) {
        warn_report("qcow2: could not free clusters at %" PRIu64 ": %s (leaked)", offset,
                    strerror(-ret));
    }
}

/* Host byte range [*start, *end) a compressed L2 entry references. */
static void compressed_range(BDRVQcow2State *s, uint64_t entry, uint64_t *start,
                             uint64_t *end)
{
    uint64_t nb = ((entry >> s->csize_shift) & s->csize_mask) + 1;
    *start = entry & s->cluster_offset_mask;
    *end = (*start & ~511ULL) + nb * 512;
}

void qcow2_free_any_cluster(BlockDriverState *bs, uint64_t l2_entry)
{
    BDRVQcow2State *s = bs->opaque;
    switch (qcow2_get_cluster_type(s, l2_entry)) {
    case QCOW2_CLUSTER_NORMAL:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        qcow2_free_clusters(bs, l2_entry & L2E_OFFSET_MASK, s->cluster_size);
        break;
    case QCOW2_CLUSTER_COMPRESSED: {
        uint64_t start, end;
        compressed_range(s, l2_entry, &start, &end);
        qcow2_free_clusters(bs, start, end - start);
        break;
    }
    default:
        break;
    }
}

int qcow2_read_l1(BlockDriverState *bs, uint64_t l1_offset, uint32_t l1_size, uint64_t **out)
{
    uint64_t *l1 = g_try_new0(uint64_t, MAX(l1_size, 1));
    if (!l1) {
        return -ENOMEM;
    }
    int ret = bdrv_pread(bs->file, l1_offset, (uint64_t)l1_size * 8, l1);
    if (ret < 0) {
        g_free(l1);
        return ret;
    }
    for (uint32_t i = 0; i < l1_size; i++) {
        l1[i] = be64toh(l1[i]);
    }
    *out = l1;
    return 0;
}

int qcow2_write_l1(BlockDriverState *bs, uint64_t l1_offset, const uint64_t *l1,
                   uint32_t l1_size)
{
    uint64_t *be = g_new(uint64_t, MAX(l1_size, 1));
    for (uint32_t i = 0; i < l1_size; i++) {
        be[i] = htobe64(l1[i]);
    }
    int ret = bdrv_pwrite(bs->file, l1_offset, (uint64_t)l1_size * 8, be);
    g_free(be);
    return ret;
}

int qcow2_update_l1_refcount(BlockDriverState *bs, uint64_t *l1, uint32_t l1_size, int addend,
                             bool *l1_changed)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;
    *l1_changed = false;
    for (uint32_t i = 0; i < l1_size && ret >= 0; i++) {
        uint64_t l2_off = l1[i] & L1E_OFFSET_MASK;
        if (!l2_off) {
            continue;
        }
        if (qcow2_offset_into_cluster(s, l2_off)) {
            ret = -EIO;
            break;
        }
        uint64_t *l2;
        if ((ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2)) < 0) {
            break;
        }
        bool dirty = false;
        for (uint32_t j = 0; j < s->l2_size; j++) {
            uint64_t e = be64toh(l2[j]);
            Qcow2ClusterType type = qcow2_get_cluster_type(s, e);
            if (type == QCOW2_CLUSTER_COMPRESSED) {
                uint64_t start, end;
                compressed_range(s, e, &start, &end);
                if ((ret = qcow2_update_refcount(bs, start, end - start, addend)) < 0) {
                    break;
                }
                continue;
            }
            if (type != QCOW2_CLUSTER_NORMAL && type != QCOW2_CLUSTER_ZERO_ALLOC) {
                continue;
            }
            uint64_t off = e & L2E_OFFSET_MASK, rc;
            if ((ret = qcow2_update_refcount(bs, off, s->cluster_size, addend)) < 0 ||
                (ret = qcow2_get_refcount(bs, off >> s->cluster_bits, &rc)) < 0) {
                break;
            }
            uint64_t ne = rc == 1 ? (e | QCOW_OFLAG_COPIED) : (e & ~QCOW_OFLAG_COPIED);
            if (ne != e) {
                l2[j] = htobe64(ne);
                dirty = true;
            }
        }
        if (dirty) {
            qcow2_cache_mark_dirty(s->l2_cache, l2);
        }
        qcow2_cache_put(s->l2_cache, (void **)&l2);
        uint64_t rc;
        if (ret < 0 || (ret = qcow2_update_refcount(bs, l2_off, s->cluster_size, addend)) < 0 ||
            (ret = qcow2_get_refcount(bs, l2_off >> s->cluster_bits, &rc)) < 0) {
            break;
        }
        uint64_t ne = rc == 1 ? (l1[i] | QCOW_OFLAG_COPIED) : (l1[i] & ~QCOW_OFLAG_COPIED);
        if (ne != l1[i]) {
            l1[i] = ne;
            *l1_changed = true;
        }
    }
    return ret < 0 ? ret : 0;
}

int qcow2_update_snapshot_refcount(BlockDriverState *bs, uint64_t l1_offset, uint32_t l1_size,
                                   int addend)
{
    BDRVQcow2State *s = bs->opaque;
    bool active = l1_offset == s->l1_table_offset;
    uint64_t *l1;
    bool l1_changed;
    int ret;
    if (active) {
        l1 = s->l1_table;
    } else if ((ret = qcow2_read_l1(bs, l1_offset, l1_size, &l1)) < 0) {
        return ret;
    }
    ret = qcow2_update_l1_refcount(bs, l1, l1_size, addend, &l1_changed);
    if (ret >= 0 && l1_changed) {
        /* Flags only: the tables they describe are unchanged, so order does not matter. */
        ret = qcow2_write_l1(bs, l1_offset, l1, l1_size);
    }
    if (!active) {
        g_free(l1);
    }
    return ret < 0 ? ret : 0;
}

/* ---- check and repair ---------------------------------------------------------------- */

typedef struct RefCheck {
    uint64_t *refs;               /* computed references per host cluster */
    uint64_t nb;                  /* entries in refs */
    uint64_t file_clusters;
    BdrvCheckResult *res;
} RefCheck;

static void refs_inc(BDRVQcow2State *s, RefCheck *rc, uint64_t offset, uint64_t size)
{
    if (size == 0) {
        return;
    }
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + size - 1) >> s->cluster_bits;
    for (uint64_t ci = first; ci <= last; ci++) {
        if (ci >= rc->file_clusters) {
            fprintf(stderr, "ERROR: cluster %" PRIu64 " is beyond the end of the image file\n",
                    ci);
            rc->res->corruptions++;
            continue;
        }
        if (ci >= rc->nb) {
            uint64_t n = MAX(ci + 1, rc->nb * 2);
            rc->refs = g_renew(uint64_t, rc->refs, n);
            memset(rc->refs + rc->nb, 0, (n - rc->nb) * 8);
            rc->nb = n;
        }
        rc->refs[ci]++;
    }
}

static int check_l1(BlockDriverState *bs, RefCheck *rc, uint64_t l1_offset, uint32_t l1_size,
                    bool active)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t *l1;
    refs_inc(s, rc, l1_offset, (uint64_t)l1_size * 8);
    int ret = qcow2_read_l1(bs, l1_offset, l1_size, &l1);
    if (ret < 0) {
        fprintf(stderr, "ERROR: I/O error reading an L1 table\n");
        rc->res->check_errors++;
        return ret;
    }
    uint64_t *l2 = g_malloc(s->cluster_size);
    uint64_t last_data = 0;
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2_off = l1[i] & L1E_OFFSET_MASK;
        if (!l2_off) {
            continue;
        }
        if (qcow2_offset_into_cluster(s, l2_off)) {
            fprintf(stderr, "ERROR l2_offset=%" PRIx64 ": Table is not cluster aligned; L1 "
                    "entry corrupted\n", l2_off);
            rc->res->corruptions++;
            continue;
        }
        refs_inc(s, rc, l2_off, s->cluster_size);
        if (bdrv_pread(bs->file, l2_off, s->cluster_size, l2) < 0) {
            fprintf(stderr, "ERROR: I/O error reading an L2 table\n");
            rc->res->check_errors++;
            continue;
        }
        for (uint32_t j = 0; j < s->l2_size; j++) {
            uint64_t e = be64toh(l2[j]);
            switch (qcow2_get_cluster_type(s, e)) {
            case QCOW2_CLUSTER_COMPRESSED: {
                uint64_t start, end;
                compressed_range(s, e, &start, &end);
                refs_inc(s, rc, start, end - start);
                if (active) {
                    rc->res->bfi.allocated_clusters++;
                    rc->res->bfi.compressed_clusters++;
                }
                break;
            }
            case QCOW2_CLUSTER_NORMAL:
            case QCOW2_CLUSTER_ZERO_ALLOC: {
                uint64_t off = e & L2E_OFFSET_MASK;
                if (qcow2_offset_into_cluster(s, off)) {
                    fprintf(stderr, "ERROR offset=%" PRIx64 ": Data cluster is not properly "
                            "aligned; L2 entry corrupted.\n", off);
                    rc->res->corruptions++;
                    break;
                }
                refs_inc(s, rc, off, s->cluster_size);
                if (active) {
                    rc->res->bfi.allocated_clusters++;
                    if (last_data && off != last_data + s->cluster_size) {
                        rc->res->bfi.fragmented_clusters++;
                    }
                    last_data = off;
                }
                break;
            }
            default:
                break;
            }
        }
    }
    g_free(l2);
    g_free(l1);
    return 0;
}

/* Writes a complete new refcount structure for rc->refs after the end of the file. */
static int rebuild_refcounts(BlockDriverState *bs, RefCheck *rc)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t epb = 1ULL << s->refcount_block_bits;
    uint64_t end = MAX(rc->file_clusters, rc->nb);
    /* The old refcount table and blocks are replaced: they stop being referenced. */
    uint64_t first = s->refcount_table_offset >> s->cluster_bits;
    uint64_t last = (s->refcount_table_offset + (uint64_t)s->refcount_table_size * 8 - 1) >>
                    s->cluster_bits;
    for (uint64_t ci = first; ci <= last && ci < rc->nb; ci++) {
        rc->refs[ci] -= rc->refs[ci] > 0;
    }
    for (uint32_t t = 0; t < s->refcount_table_size; t++) {
        uint64_t off = s->refcount_table[t] & REFT_OFFSET_MASK;
        uint64_t ci = off >> s->cluster_bits;
        if (off && !qcow2_offset_into_cluster(s, off) && ci < rc->nb && rc->refs[ci]) {
            rc->refs[ci]--;
        }
    }
    for (uint64_t i = 0; i < rc->nb; i++) {
        if (rc->refs[i] > s->refcount_max) {
            fprintf(stderr, "ERROR: cluster %" PRIu64 " has more references than the "
                    "refcount width allows\n", i);
            return -ERANGE;
        }
    }
    uint64_t nblocks = 0, tclusters = 0;
    for (;;) {
        uint64_t total = end + nblocks + tclusters;
        uint64_t nb2 = (total + epb - 1) / epb;
        uint64_t tc2 = (nb2 * 8 + s->cluster_size - 1) >> s->cluster_bits;
        if (nb2 == nblocks && tc2 == tclusters) {
            break;
        }
        nblocks = nb2;
        tclusters = tc2;
    }
    if (tclusters * s->cluster_size > QCOW_MAX_REFTABLE_SIZE) {
        return -EFBIG;
    }
    uint64_t total = end + nblocks + tclusters;
    uint64_t *refs = g_new0(uint64_t, total);
    memcpy(refs, rc->refs, rc->nb * 8);
    for (uint64_t i = end; i < total; i++) {
        refs[i] = 1;
    }
    uint64_t table_entries = tclusters * s->cluster_size / 8;
    uint64_t *table = g_new0(uint64_t, table_entries);
    uint64_t *table_be = g_new0(uint64_t, table_entries);
    void *block = g_malloc(s->cluster_size);
    int ret = 0;
    for (uint64_t b = 0; b < nblocks && ret >= 0; b++) {
        memset(block, 0, s->cluster_size);
        for (uint64_t i = 0; i < epb && b * epb + i < total; i++) {
            rc_set(s, block, i, refs[b * epb + i]);
        }
        uint64_t off = (end + b) << s->cluster_bits;
        table[b] = off;
        table_be[b] = htobe64(off);
        ret = bdrv_pwrite(bs->file, off, s->cluster_size, block);
    }
    uint64_t toff = (end + nblocks) << s->cluster_bits;
    if (ret >= 0) {
        ret = bdrv_pwrite(bs->file, toff, tclusters * s->cluster_size, table_be);
    }
    if (ret >= 0) {
        ret = bdrv_flush(bs->file);
    }
    if (ret >= 0) {
        struct {
            uint64_t offset;
            uint32_t clusters;
        } __attribute__((packed)) hdr = { htobe64(toff), htobe32(tclusters) };
        ret = bdrv_pwrite_sync(bs->file, 48, sizeof(hdr), &hdr);
    }
    g_free(block);
    g_free(table_be);
    g_free(refs);
    if (ret < 0) {
        g_free(table);
        return ret;
    }
    qcow2_cache_empty(s->refcount_cache);
    s->refcount_cache->depends = NULL;
    g_free(s->refcount_table);
    s->refcount_table = table;
    s->refcount_table_offset = toff;
    s->refcount_table_size = table_entries;
    s->free_cluster_index = 0;
    s->free_byte_offset = 0;
    return 0;
}

static int check_oflag_copied(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;
    bool l1_dirty = false;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l2_off = s->l1_table[i] & L1E_OFFSET_MASK, rc;
        if (!l2_off || qcow2_offset_into_cluster(s, l2_off)) {
            continue;
        }
        if ((ret = qcow2_get_refcount(bs, l2_off >> s->cluster_bits, &rc)) < 0) {
            return ret;
        }
        if ((rc == 1) != !!(s->l1_table[i] & QCOW_OFLAG_COPIED)) {
            fprintf(stderr, "%s OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%" PRIx64
                    " refcount=%" PRIu64 "\n", (fix & BDRV_FIX_ERRORS) ? "Repairing" : "ERROR",
                    i, s->l1_table[i], rc);
            res->corruptions++;
            if (fix & BDRV_FIX_ERRORS) {
                s->l1_table[i] = rc == 1 ? s->l1_table[i] | QCOW_OFLAG_COPIED
                                         : s->l1_table[i] & ~QCOW_OFLAG_COPIED;
                l1_dirty = true;
                res->corruptions--;
                res->corruptions_fixed++;
            }
        }
        uint64_t *l2;
        if ((ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2)) < 0) {
            return ret;
        }
        for (uint32_t j = 0; j < s->l2_size; j++) {
            uint64_t e = be64toh(l2[j]);
            Qcow2ClusterType t = qcow2_get_cluster_type(s, e);
            if ((t != QCOW2_CLUSTER_NORMAL && t != QCOW2_CLUSTER_ZERO_ALLOC) ||
                qcow2_offset_into_cluster(s, e & L2E_OFFSET_MASK)) {
                continue;
            }
            if ((ret = qcow2_get_refcount(bs, (e & L2E_OFFSET_MASK) >> s->cluster_bits,
                                          &rc)) < 0) {
                break;
            }
            if ((rc == 1) != !!(e & QCOW_OFLAG_COPIED)) {
                fprintf(stderr, "%s OFLAG_COPIED data cluster: l2_entry=%" PRIx64
                        " refcount=%" PRIu64 "\n",
                        (fix & BDRV_FIX_ERRORS) ? "Repairing" : "ERROR", e, rc);
                res->corruptions++;
                if (fix & BDRV_FIX_ERRORS) {
                    e = rc == 1 ? e | QCOW_OFLAG_COPIED : e & ~QCOW_OFLAG_COPIED;
                    l2[j] = htobe64(e);
                    qcow2_cache_mark_dirty(s->l2_cache, l2);
                    res->corruptions--;
                    res->corruptions_fixed++;
                }
            }
        }
        qcow2_cache_put(s->l2_cache, (void **)&l2);
        if (ret < 0) {
            return ret;
        }
    }
    if (l1_dirty) {
        uint64_t *be = g_new(uint64_t, s->l1_size);
        for (uint32_t i = 0; i < s->l1_size; i++) {
            be[i] = htobe64(s->l1_table[i]);
        }
        ret = bdrv_pwrite(bs->file, s->l1_table_offset, (uint64_t)s->l1_size * 8, be);
        g_free(be);
    }
    return ret < 0 ? ret : qcow2_cache_flush(bs, s->l2_cache);
}

/* Counts every reference the image's metadata makes to each host cluster into rc. */
static void collect_refs(BlockDriverState *bs, RefCheck *rc, int64_t flen)
{
    BDRVQcow2State *s = bs->opaque;
    rc->file_clusters = qcow2_size_to_clusters(s, flen);
    rc->nb = MAX(rc->file_clusters, 1);
    rc->refs = g_new0(uint64_t, rc->nb);
    rc->res->bfi.total_clusters = qcow2_size_to_clusters(s, s->size);

    refs_inc(s, rc, 0, s->cluster_size);
    check_l1(bs, rc, s->l1_table_offset, s->l1_size, true);
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        check_l1(bs, rc, s->snapshots[i].l1_table_offset, s->snapshots[i].l1_size, false);
    }
    if (s->nb_snapshots) {
        /* Table size: walk the entries as stored. */
        uint64_t size = 0;
        for (uint32_t i = 0; i < s->nb_snapshots; i++) {
            Qcow2Snapshot *sn = &s->snapshots[i];
            size += 40 + sn->extra_data_size + strlen(sn->id_str) + strlen(sn->name);
            size = (size + 7) & ~7ULL;
        }
        refs_inc(s, rc, s->snapshots_offset, size);
    }
    refs_inc(s, rc, s->refcount_table_offset, (uint64_t)s->refcount_table_size * 8);
    for (uint32_t t = 0; t < s->refcount_table_size; t++) {
        uint64_t off = s->refcount_table[t] & REFT_OFFSET_MASK;
        if (!off) {
            continue;
        }
        if (qcow2_offset_into_cluster(s, off)) {
            fprintf(stderr, "ERROR refcount block %u is not cluster aligned; refcount table "
                    "entry corrupted\n", t);
            rc->res->corruptions++;
            continue;
        }
        if ((off >> s->cluster_bits) >= rc->file_clusters) {
            fprintf(stderr, "ERROR refcount block %u is outside image\n", t);
            rc->res->corruptions++;
            continue;
        }
        refs_inc(s, rc, off, s->cluster_size);
    }

}

int qcow2_check_refcounts(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t flen = bdrv_getlength(bs->file);
    if (flen < 0) {
        return (int)flen;
    }
    int ret = qcow2_cache_flush(bs, s->l2_cache);
    if (ret < 0 || (ret = qcow2_cache_flush(bs, s->refcount_cache)) < 0) {
        return ret;
    }
    RefCheck rc = { .res = res };
    collect_refs(bs, &rc, flen);

    uint64_t n = rc.nb;
    uint64_t last_used = 0;
    int leaks = 0, corruptions = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t disk, want = rc.refs[i];
        if (qcow2_get_refcount(bs, i, &disk) < 0) {
            fprintf(stderr, "Can't get refcount for cluster %" PRIu64 "\n", i);
            res->check_errors++;
            continue;
        }
        if (want || disk) {
            last_used = i + 1;
        }
        if (disk == want) {
            continue;
        }
        if (disk > want) {
            fprintf(stderr, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64
                    "\n", (fix & BDRV_FIX_LEAKS) ? "Repairing" : "Leaked", i, disk, want);
            leaks++;
        } else {
            fprintf(stderr, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64
                    "\n", (fix & BDRV_FIX_ERRORS) ? "Repairing" : "ERROR", i, disk, want);
            corruptions++;
        }
    }
    res->image_end_offset = (int64_t)last_used << s->cluster_bits;

    if ((corruptions && (fix & BDRV_FIX_ERRORS)) || (leaks && (fix & BDRV_FIX_LEAKS))) {
        if (corruptions && !(fix & BDRV_FIX_ERRORS)) {
            /* Only leaks may be touched: decrement them one by one. */
            for (uint64_t i = 0; i < n; i++) {
                uint64_t disk, want = rc.refs[i];
                if (qcow2_get_refcount(bs, i, &disk) == 0 && disk > want &&
                    qcow2_update_refcount(bs, i << s->cluster_bits, 1,
                                          -(int64_t)(disk - want)) == 0) {
                    res->leaks_fixed++;
                    leaks--;
                }
            }
            ret = qcow2_cache_flush(bs, s->refcount_cache);
        } else {
            ret = rebuild_refcounts(bs, &rc);
            if (ret == 0) {
                res->corruptions_fixed += corruptions;
                corruptions = 0;
                if (fix & BDRV_FIX_LEAKS) {
                    res->leaks_fixed += leaks;
                    leaks = 0;
                }
            }
        }
        if (ret < 0) {
            fprintf(stderr, "ERROR: could not repair the refcounts: %s\n", strerror(-ret));
            res->check_errors++;
        }
    }
    res->leaks += leaks;
    res->corruptions += corruptions;
    g_free(rc.refs);
    ret = check_oflag_copied(bs, res, fix);
    if (ret < 0) {
        res->check_errors++;
    }
    return 0;
}

int qcow2_change_refcount_order(BlockDriverState *bs, int order)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t flen = bdrv_getlength(bs->file);
    if (flen < 0) {
        return (int)flen;
    }
    int ret = qcow2_cache_flush(bs, s->l2_cache);
    if (ret < 0 || (ret = qcow2_cache_flush(bs, s->refcount_cache)) < 0) {
        return ret;
    }
    BdrvCheckResult res;
    memset(&res, 0, sizeof(res));
    RefCheck rc = { .res = &res };
    collect_refs(bs, &rc, flen);
    if (res.corruptions || res.check_errors) {
        g_free(rc.refs);
        return -EIO;
    }
    int old_order = s->refcount_order;
    /* The new structure replaces the old one, which is dropped from the counts first. */
    s->refcount_order = order;
    s->refcount_bits = 1 << order;
    s->refcount_max = s->refcount_bits == 64 ? UINT64_MAX : (1ULL << s->refcount_bits) - 1;
    s->refcount_block_bits = s->cluster_bits + 3 - order;
    ret = rebuild_refcounts(bs, &rc);
    if (ret < 0) {
        s->refcount_order = old_order;
        s->refcount_bits = 1 << old_order;
        s->refcount_max = s->refcount_bits == 64 ? UINT64_MAX : (1ULL << s->refcount_bits) - 1;
        s->refcount_block_bits = s->cluster_bits + 3 - old_order;
    }
    g_free(rc.refs);
    return ret;
}
