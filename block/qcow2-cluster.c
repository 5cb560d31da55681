/* qcow2 guest-to-host mapping: L1/L2 lookup, L2 table allocation and copy-on-write of shared
 * tables, linking newly written clusters, zero flags, discard, compressed entries. */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include "block/qcow2.h"

Qcow2ClusterType qcow2_get_cluster_type(BDRVQcow2State *s, uint64_t l2_entry)
{
    if (l2_entry & QCOW_OFLAG_COMPRESSED) {
        return QCOW2_CLUSTER_COMPRESSED;
    }
    if ((l2_entry & QCOW_OFLAG_ZERO) && s->version >= 3) {
        return (l2_entry & L2E_OFFSET_MASK) ? QCOW2_CLUSTER_ZERO_ALLOC
                                             : QCOW2_CLUSTER_ZERO_PLAIN;
    }
    return (l2_entry & L2E_OFFSET_MASK) ? QCOW2_CLUSTER_NORMAL : QCOW2_CLUSTER_UNALLOCATED;
}

static uint64_t l1_index(BDRVQcow2State *s, uint64_t offset)
{
    return offset >> (s->l2_bits + s->cluster_bits);
}

static uint32_t l2_index(BDRVQcow2State *s, uint64_t offset)
{
    return (offset >> s->cluster_bits) & (s->l2_size - 1);
}

/* The L2 table of l1 index i for reading; *l2 is NULL when unallocated. */
static int get_l2_read(BlockDriverState *bs, uint64_t i, uint64_t **l2)
{
    BDRVQcow2State *s = bs->opaque;
    *l2 = NULL;
    if (i >= s->l1_size) {
        return 0;
    }
    uint64_t off = s->l1_table[i] & L1E_OFFSET_MASK;
    if (!off) {
        return 0;
    }
    if (qcow2_offset_into_cluster(s, off)) {
        error_report("qcow2: L2 table offset %#" PRIx64 " unaligned (L1 index %" PRIu64 "); "
                     "image is corrupt", off, i);
        return -EIO;
    }
    return qcow2_cache_get(bs, s->l2_cache, off, (void **)l2);
}

static int write_l1_entry(BlockDriverState *bs, uint64_t i)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t be = htobe64(s->l1_table[i]);
    return bdrv_pwrite(bs->file, s->l1_table_offset + i * 8, 8, &be);
}

/* The L2 table of l1 index i ready for modification (allocated, not shared). */
static int get_l2_write(BlockDriverState *bs, uint64_t i, uint64_t **l2)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;
    if (i >= s->l1_size && (ret = qcow2_grow_l1_table(bs, i + 1, false)) < 0) {
        return ret;
    }
    uint64_t old = s->l1_table[i] & L1E_OFFSET_MASK;
    if (old && (s->l1_table[i] & QCOW_OFLAG_COPIED)) {
        return get_l2_read(bs, i, l2);
    }
    if (old && qcow2_offset_into_cluster(s, old)) {
        return -EIO;
    }
    int64_t new_off = qcow2_alloc_clusters(bs, s->cluster_size);
    if (new_off < 0) {
        return (int)new_off;
    }
    if (!s->lazy_refcounts &&
        (ret = qcow2_cache_set_dependency(bs, s->l2_cache, s->refcount_cache)) < 0) {
        return ret;
    }
    ret = qcow2_cache_get_empty(bs, s->l2_cache, new_off, (void **)l2);
    if (ret < 0) {
        return ret;
    }
    if (old) {
        uint64_t *src;
        ret = qcow2_cache_get(bs, s->l2_cache, old, (void **)&src);
        if (ret < 0) {
            qcow2_cache_put(s->l2_cache, (void **)l2);
            return ret;
        }
        memcpy(*l2, src, s->cluster_size);
        qcow2_cache_put(s->l2_cache, (void **)&src);
    }
    qcow2_cache_mark_dirty(s->l2_cache, *l2);
    /* The new table (and its refcount) are on disk before L1 points to it. */
    ret = qcow2_cache_flush(bs, s->l2_cache);
    if (ret < 0) {
        qcow2_cache_put(s->l2_cache, (void **)l2);
        return ret;
    }
    s->l1_table[i] = (uint64_t)new_off | QCOW_OFLAG_COPIED;
    ret = write_l1_entry(bs, i);
    if (ret < 0) {
        qcow2_cache_put(s->l2_cache, (void **)l2);
        return ret;
    }
    if (old) {
        qcow2_free_clusters(bs, old, s->cluster_size);
    }
    return 0;
}

int qcow2_get_host_offset(BlockDriverState *bs, uint64_t offset, uint64_t *bytes,
                          uint64_t *host_offset, uint64_t *l2_entry, Qcow2ClusterType *type)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t in_cluster = qcow2_offset_into_cluster(s, offset);
    uint32_t idx = l2_index(s, offset);
    uint64_t max = ((uint64_t)(s->l2_size - idx) << s->cluster_bits) - in_cluster;
    uint64_t want = MIN(*bytes, max);
    uint64_t nb = qcow2_size_to_clusters(s, in_cluster + want);
    uint64_t *l2;
    int ret = get_l2_read(bs, l1_index(s, offset), &l2);
    if (ret < 0) {
        return ret;
    }
    *host_offset = 0;
    if (!l2) {
        *type = QCOW2_CLUSTER_UNALLOCATED;
        *l2_entry = 0;
        *bytes = want;
        return 0;
    }
    uint64_t e = be64toh(l2[idx]);
    Qcow2ClusterType t = qcow2_get_cluster_type(s, e);
    uint64_t n = 1;
    if (t == QCOW2_CLUSTER_NORMAL) {
        uint64_t host = e & L2E_OFFSET_MASK;
        if (qcow2_offset_into_cluster(s, host) || host >= s->file_end) {
            qcow2_cache_put(s->l2_cache, (void **)&l2);
            error_report("qcow2: data cluster offset %#" PRIx64 " is invalid (unaligned or "
                         "beyond the end of the file); image is corrupt", host);
            return -EIO;
        }
        *host_offset = host + in_cluster;
        while (n < nb) {
            uint64_t e2 = be64toh(l2[idx + n]);
            if (qcow2_get_cluster_type(s, e2) != QCOW2_CLUSTER_NORMAL ||
                (e2 & L2E_OFFSET_MASK) != host + (n << s->cluster_bits) ||
                (e2 & QCOW_OFLAG_COPIED) != (e & QCOW_OFLAG_COPIED)) {
                break;
            }
            n++;
        }
    } else if (t != QCOW2_CLUSTER_COMPRESSED) {
        bool zero = t != QCOW2_CLUSTER_UNALLOCATED;
        while (n < nb) {
            Qcow2ClusterType t2 = qcow2_get_cluster_type(s, be64toh(l2[idx + n]));
            bool zero2 = t2 == QCOW2_CLUSTER_ZERO_PLAIN || t2 == QCOW2_CLUSTER_ZERO_ALLOC;
            if ((zero && !zero2) || (!zero && t2 != QCOW2_CLUSTER_UNALLOCATED)) {
                break;
            }
            n++;
        }
    }
    qcow2_cache_put(s->l2_cache, (void **)&l2);
    if (t == QCOW2_CLUSTER_COMPRESSED && (e & s->cluster_offset_mask) >= s->file_end) {
        error_report("qcow2: compressed cluster offset beyond the end of the file; image is "
                     "corrupt");
        return -EIO;
    }
    *type = t;
    *l2_entry = e;
    *bytes = MIN(want, (n << s->cluster_bits) - in_cluster);
    return 0;
}

int qcow2_count_alloc_needed(BlockDriverState *bs, uint64_t offset, int nb,
                             uint64_t *first_entry, uint64_t *last_entry)
{
    BDRVQcow2State *s = bs->opaque;
    uint32_t idx = l2_index(s, offset);
    nb = MIN((uint64_t)nb, s->l2_size - idx);
    uint64_t *l2;
    int ret = get_l2_read(bs, l1_index(s, offset), &l2);
    if (ret < 0) {
        return ret;
    }
    if (!l2) {
        *first_entry = *last_entry = 0;
        return nb;
    }
    int n = 0;
    for (; n < nb; n++) {
        uint64_t e = be64toh(l2[idx + n]);
        if (qcow2_get_cluster_type(s, e) == QCOW2_CLUSTER_NORMAL && (e & QCOW_OFLAG_COPIED)) {
            break;
        }
        if (n == 0) {
            *first_entry = e;
        }
        *last_entry = e;
    }
    qcow2_cache_put(s->l2_cache, (void **)&l2);
    return n;
}

int qcow2_link_clusters(BlockDriverState *bs, uint64_t offset, int nb, uint64_t host)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t *l2;
    int ret = get_l2_write(bs, l1_index(s, offset), &l2);
    if (ret < 0) {
        return ret;
    }
    if (!s->lazy_refcounts &&
        (ret = qcow2_cache_set_dependency(bs, s->l2_cache, s->refcount_cache)) < 0) {
        qcow2_cache_put(s->l2_cache, (void **)&l2);
        return ret;
    }
    uint32_t idx = l2_index(s, offset);
    uint64_t *old = g_new(uint64_t, nb);
    for (int i = 0; i < nb; i++) {
        old[i] = be64toh(l2[idx + i]);
        l2[idx + i] = htobe64((host + ((uint64_t)i << s->cluster_bits)) | QCOW_OFLAG_COPIED);
    }
    qcow2_cache_mark_dirty(s->l2_cache, l2);
    qcow2_cache_put(s->l2_cache, (void **)&l2);
    for (int i = 0; i < nb; i++) {
        qcow2_free_any_cluster(bs, old[i]);
    }
    g_free(old);
    return 0;
}

int qcow2_set_compressed_entry(BlockDriverState *bs, uint64_t offset, uint64_t host,
                               uint64_t csize)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t *l2;
    int ret = get_l2_write(bs, l1_index(s, offset), &l2);
    if (ret < 0) {
        return ret;
    }
    if (!s->lazy_refcounts &&
        (ret = qcow2_cache_set_dependency(bs, s->l2_cache, s->refcount_cache)) < 0) {
        qcow2_cache_put(s->l2_cache, (void **)&l2);
        return ret;
    }
    uint32_t idx = l2_index(s, offset);
    uint64_t nb_sectors = ((host + csize - 1) >> 9) - (host >> 9);
    uint64_t old = be64toh(l2[idx]);
    l2[idx] = htobe64(QCOW_OFLAG_COMPRESSED | (nb_sectors << s->csize_shift) | host);
    qcow2_cache_mark_dirty(s->l2_cache, l2);
    qcow2_cache_put(s->l2_cache, (void **)&l2);
    qcow2_free_any_cluster(bs, old);
    return 0;
}

/* Applies new entries to whole clusters [offset, offset+bytes) via fn. */
typedef uint64_t L2Rewrite(BlockDriverState *bs, uint64_t old, void *opaque);

static int rewrite_range(BlockDriverState *bs, uint64_t offset, uint64_t bytes, L2Rewrite *fn,
                         void *opaque, bool skip_unallocated_tables)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t end = offset + bytes;
    while (offset < end) {
        uint32_t idx = l2_index(s, offset);
        uint64_t nb = MIN((uint64_t)(s->l2_size - idx), (end - offset) >> s->cluster_bits);
        uint64_t i1 = l1_index(s, offset);
        if (skip_unallocated_tables &&
            (i1 >= s->l1_size || !(s->l1_table[i1] & L1E_OFFSET_MASK))) {
            offset += nb << s->cluster_bits;
            continue;
        }
        uint64_t *l2;
        int ret = get_l2_write(bs, i1, &l2);
        if (ret < 0) {
            return ret;
        }
        uint64_t *freed = g_new(uint64_t, nb);
        uint64_t nfreed = 0;
        bool dirty = false;
        for (uint64_t i = 0; i < nb; i++) {
            uint64_t old = be64toh(l2[idx + i]);
            uint64_t ne = fn(bs, old, opaque);
            if (ne == old) {
                continue;
            }
            l2[idx + i] = htobe64(ne);
            dirty = true;
            if ((ne & L2E_OFFSET_MASK) != (old & L2E_OFFSET_MASK) ||
                (old & QCOW_OFLAG_COMPRESSED)) {
                freed[nfreed++] = old;
            }
        }
        if (dirty) {
            qcow2_cache_mark_dirty(s->l2_cache, l2);
        }
        qcow2_cache_put(s->l2_cache, (void **)&l2);
        for (uint64_t i = 0; i < nfreed; i++) {
            Qcow2ClusterType t = qcow2_get_cluster_type(s, freed[i]);
            qcow2_free_any_cluster(bs, freed[i]);
            if (t == QCOW2_CLUSTER_NORMAL || t == QCOW2_CLUSTER_ZERO_ALLOC) {
                uint64_t host = freed[i] & L2E_OFFSET_MASK, rc;
                if (qcow2_get_refcount(bs, host >> s->cluster_bits, &rc) == 0 && rc == 0) {
                    bdrv_pdiscard(bs->file, host, s->cluster_size);
                }
            }
        }
        g_free(freed);
        offset += nb << s->cluster_bits;
    }
    return 0;
}

static uint64_t zero_entry(BlockDriverState *bs, uint64_t old, void *opaque)
{
    BDRVQcow2State *s = bs->opaque;
    bool unmap = *(bool *)opaque;
    Qcow2ClusterType t = qcow2_get_cluster_type(s, old);
    if (t == QCOW2_CLUSTER_ZERO_PLAIN) {
        return old;
    }
    if (!unmap && (t == QCOW2_CLUSTER_NORMAL || t == QCOW2_CLUSTER_ZERO_ALLOC) &&
        (old & QCOW_OFLAG_COPIED)) {
        return old | QCOW_OFLAG_ZERO;
    }
    return QCOW_OFLAG_ZERO;
}

int qcow2_cluster_zeroize(BlockDriverState *bs, uint64_t offset, uint64_t bytes, bool unmap)
{
    BDRVQcow2State *s = bs->opaque;
    if (s->version < 3) {
        if (bs->backing) {
            return -ENOTSUP;
        }
        /* Without a backing file, unallocated clusters read as zeroes. */
        return qcow2_cluster_discard(bs, offset, bytes, true);
    }
    return rewrite_range(bs, offset, bytes, zero_entry, &unmap,
                         !bs->backing);
}

static uint64_t discard_entry(BlockDriverState *bs, uint64_t old, void *opaque)
{
    BDRVQcow2State *s = bs->opaque;
    bool full = *(bool *)opaque;
    if (!full && s->version >= 3 && bs->backing) {
        return QCOW_OFLAG_ZERO;
    }
    return 0;
}

int qcow2_cluster_discard(BlockDriverState *bs, uint64_t offset, uint64_t bytes, bool full)
{
    return rewrite_range(bs, offset, bytes, discard_entry, &full, true);
}
