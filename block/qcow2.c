/* Format "qcow2" (versions 2 and 3): header parsing and validation, open/close, create,
 * guest reads and writes with cluster allocation and copy-on-write, zeroes, discard,
 * compressed writes, resize, info, check, amend. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "block/qcow2.h"

typedef struct __attribute__((packed)) QCowHeader {
    uint32_t magic;
    uint32_t version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size;
    uint32_t cluster_bits;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    /* version 3 */
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
    uint8_t padding[7];
} QCowHeader;

typedef struct __attribute__((packed)) FeatureName {
    uint8_t type;
    uint8_t bit;
    char name[46];
} FeatureName;

static const FeatureName known_features[] = {
    { 0, 0, "dirty bit" },
    { 0, 1, "corrupt bit" },
    { 0, 2, "external data file" },
    { 0, 3, "compression type" },
    { 0, 4, "extended L2 entries" },
    { 1, 0, "lazy refcounts" },
    { 2, 0, "bitmaps" },
    { 2, 1, "raw external data" },
};

static int qcow2_probe(const uint8_t *buf, int buf_size, const char *filename)
{
    if (buf_size >= 8 && be32toh(*(const uint32_t *)buf) == QCOW_MAGIC &&
        be32toh(*(const uint32_t *)(buf + 4)) >= 2) {
        return 100;
    }
    return 0;
}

/* ---- header -------------------------------------------------------------------------- */

int qcow2_update_header(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    uint8_t *buf = g_malloc0(s->cluster_size);
    QCowHeader *h = (QCowHeader *)buf;
    size_t hlen = s->version >= 3 ? QCOW2_HEADER_LEN : QCOW2_V2_HEADER_LEN;
    h->magic = htobe32(QCOW_MAGIC);
    h->version = htobe32(s->version);
    h->cluster_bits = htobe32(s->cluster_bits);
    h->size = htobe64(s->size);
    h->l1_size = htobe32(s->l1_size);
    h->l1_table_offset = htobe64(s->l1_table_offset);
    h->refcount_table_offset = htobe64(s->refcount_table_offset);
    h->refcount_table_clusters = htobe32((uint64_t)s->refcount_table_size * 8 >> s->cluster_bits);
    h->nb_snapshots = htobe32(s->nb_snapshots);
    h->snapshots_offset = htobe64(s->snapshots_offset);
    if (s->version >= 3) {
        h->incompatible_features = htobe64(s->incompatible_features);
        h->compatible_features = htobe64(s->compatible_features);
        h->autoclear_features = htobe64(s->autoclear_features);
        h->refcount_order = htobe32(s->refcount_order);
        h->header_length = htobe32(hlen);
        h->compression_type = s->compression_type;
    }
    size_t pos = hlen;
    int ret = -ENOSPC;
#define EXT_SPACE(n) do { if (pos + 8 + (((n) + 7) & ~7) > s->cluster_size) goto fail; } while (0)
    if (bs->backing_format) {
        size_t n = strlen(bs->backing_format);
        EXT_SPACE(n);
        *(uint32_t *)(buf + pos) = htobe32(QCOW2_EXT_BACKING_FMT);
        *(uint32_t *)(buf + pos + 4) = htobe32(n);
        memcpy(buf + pos + 8, bs->backing_format, n);
        pos += 8 + ((n + 7) & ~7);
    }
    if (s->version >= 3) {
        size_t n = sizeof(known_features);
        EXT_SPACE(n);
        *(uint32_t *)(buf + pos) = htobe32(QCOW2_EXT_FEATURE_TABLE);
        *(uint32_t *)(buf + pos + 4) = htobe32(n);
        memcpy(buf + pos + 8, known_features, n);
        pos += 8 + ((n + 7) & ~7);
    }
    for (int i = 0; i < s->nb_unknown_exts; i++) {
        Qcow2UnknownExt *e = &s->unknown_exts[i];
        EXT_SPACE(e->len);
        *(uint32_t *)(buf + pos) = htobe32(e->magic);
        *(uint32_t *)(buf + pos + 4) = htobe32(e->len);
        memcpy(buf + pos + 8, e->data, e->len);
        pos += 8 + ((e->len + 7) & ~7);
    }
    EXT_SPACE(0);
    pos += 8;   /* end of extensions */
#undef EXT_SPACE
    if (bs->backing_file) {
        size_t n = strlen(bs->backing_file);
        if (pos + n > s->cluster_size) {
            goto fail;
        }
        h->backing_file_offset = htobe64(pos);
        h->backing_file_size = htobe32(n);
        memcpy(buf + pos, bs->backing_file, n);
        pos += n;
    }
    ret = bdrv_pwrite(bs->file, 0, s->cluster_size, buf);
fail:
    g_free(buf);
    return ret;
}

static int write_incompatible(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t be = htobe64(s->incompatible_features);
    int ret = bdrv_pwrite(bs->file, offsetof(QCowHeader, incompatible_features), 8, &be);
    return ret < 0 ? ret : bdrv_flush(bs->file);
}

int qcow2_mark_dirty(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    s->dirty_marked = true;
    if (s->incompatible_features & QCOW2_INCOMPAT_DIRTY) {
        return 0;
    }
    int ret = bdrv_flush(bs->file);
    if (ret < 0) {
        return ret;
    }
    s->incompatible_features |= QCOW2_INCOMPAT_DIRTY;
    return write_incompatible(bs);
}

int qcow2_mark_clean(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    if (!(s->incompatible_features & QCOW2_INCOMPAT_DIRTY)) {
        return 0;
    }
    int ret = qcow2_cache_flush(bs, s->l2_cache);
    if (ret < 0 || (ret = qcow2_cache_flush(bs, s->refcount_cache)) < 0) {
        return ret;
    }
    s->incompatible_features &= ~QCOW2_INCOMPAT_DIRTY;
    s->dirty_marked = false;
    return write_incompatible(bs);
}

static void report_unsupported(const uint8_t *table, uint32_t table_len, uint64_t mask,
                               Error **errp)
{
    GString *msg = g_string_new(NULL);
    for (int bit = 0; bit < 64; bit++) {
        if (!(mask & (1ULL << bit))) {
            continue;
        }
        const char *name = NULL;
        char buf[47];
        for (uint32_t i = 0; table && i + sizeof(FeatureName) <= table_len;
             i += sizeof(FeatureName)) {
            const FeatureName *f = (const FeatureName *)(table + i);
            if (f->type == 0 && f->bit == bit) {
                memcpy(buf, f->name, 46);
                buf[46] = 0;
                name = buf;
                break;
            }
        }
        for (size_t i = 0; !name && i < G_N_ELEMENTS(known_features); i++) {
            if (known_features[i].type == 0 && known_features[i].bit == bit) {
                name = known_features[i].name;
            }
        }
        if (msg->len) {
            g_string_append(msg, ", ");
        }
        if (name) {
            g_string_append(msg, name);
        } else {
            g_string_append_printf(msg, "Unknown incompatible feature: %" "llx", 1ULL << bit);
        }
    }
    error_setg(errp, "Unsupported qcow2 feature(s): %s", msg->str);
    g_string_free(msg, true);
}

static void qcow2_free_state(BDRVQcow2State *s)
{
    qcow2_cache_destroy(s->l2_cache);
    qcow2_cache_destroy(s->refcount_cache);
    s->l2_cache = s->refcount_cache = NULL;
    g_free(s->l1_table);
    g_free(s->refcount_table);
    s->l1_table = s->refcount_table = NULL;
    qcow2_free_snapshots(s);
    for (int i = 0; i < s->nb_unknown_exts; i++) {
        g_free(s->unknown_exts[i].data);
    }
    g_free(s->unknown_exts);
    s->unknown_exts = NULL;
    s->nb_unknown_exts = 0;
}

/* Offset and length inside the file and cluster aligned (length may be 0). */
static bool check_table(BDRVQcow2State *s, int64_t file_len, uint64_t offset, uint64_t len,
                        const char *what, Error **errp)
{
    if (qcow2_offset_into_cluster(s, offset)) {
        error_setg(errp, "Image is not in qcow2 format: %s offset %#" PRIx64
                   " is not cluster aligned", what, offset);
        return false;
    }
    if (len && (offset > (uint64_t)file_len || len > (uint64_t)file_len - offset)) {
        error_setg(errp, "Image is corrupt: %s (offset %#" PRIx64 ", %" PRIu64 " bytes) "
                   "is beyond the end of the file", what, offset, len);
        return false;
    }
    return true;
}

static bool qcow2_do_open(BlockDriverState *bs, int flags, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t file_len = bdrv_getlength(bs->file);
    if (file_len < 0) {
        error_setg_errno(errp, (int)-file_len, "Could not get the size of '%s'", bs->filename);
        return false;
    }
    QCowHeader h;
    memset(&h, 0, sizeof(h));
    if (file_len < QCOW2_V2_HEADER_LEN) {
        error_setg(errp, "Image is not in qcow2 format (file too short)");
        return false;
    }
    int ret = bdrv_pread(bs->file, 0, MIN((int64_t)sizeof(h), file_len), &h);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read qcow2 header");
        return false;
    }
    if (be32toh(h.magic) != QCOW_MAGIC) {
        error_setg(errp, "Image is not in qcow2 format");
        return false;
    }
    s->version = be32toh(h.version);
    if (s->version < 2 || s->version > 3) {
        error_setg(errp, "Unsupported qcow2 version %d", s->version);
        return false;
    }
    s->cluster_bits = be32toh(h.cluster_bits);
    if (s->cluster_bits < 9 || s->cluster_bits > 21) {
        error_setg(errp, "Unsupported cluster size: 2^%d", s->cluster_bits);
        return false;
    }
    s->cluster_size = 1u << s->cluster_bits;
    if (s->version == 2) {
        s->header_length = QCOW2_V2_HEADER_LEN;
        s->refcount_order = 4;
    } else {
        s->header_length = be32toh(h.header_length);
        if (s->header_length < QCOW2_V3_HEADER_LEN) {
            error_setg(errp, "qcow2 header too short");
            return false;
        }
        if (s->header_length > s->cluster_size) {
            error_setg(errp, "qcow2 header exceeds cluster size");
            return false;
        }
        s->incompatible_features = be64toh(h.incompatible_features);
        s->compatible_features = be64toh(h.compatible_features);
        s->autoclear_features = be64toh(h.autoclear_features);
        uint32_t order = be32toh(h.refcount_order);
        if (order > 6) {
            error_setg(errp, "Reference count entry width too large; may not exceed 64 bits");
            return false;
        }
        s->refcount_order = order;
        if (s->header_length > offsetof(QCowHeader, compression_type)) {
            s->compression_type = h.compression_type;
        }
    }
    if (s->refcount_order > 6) {
        error_setg(errp, "Reference count entry width too large; may not exceed 64 bits");
        return false;
    }
    s->refcount_bits = 1 << s->refcount_order;
    s->refcount_max = s->refcount_bits == 64 ? UINT64_MAX : (1ULL << s->refcount_bits) - 1;
    s->refcount_block_bits = s->cluster_bits + 3 - s->refcount_order;
    s->l2_bits = s->cluster_bits - 3;
    s->l2_size = 1u << s->l2_bits;
    s->csize_shift = 62 - (s->cluster_bits - 8);
    s->csize_mask = (1ULL << (s->cluster_bits - 8)) - 1;
    s->cluster_offset_mask = (1ULL << s->csize_shift) - 1;
    s->size = be64toh(h.size);

    /* Header extensions, up to the backing file name or the end of the first cluster. */
    uint64_t backing_off = be64toh(h.backing_file_offset);
    uint32_t backing_len = be32toh(h.backing_file_size);
    uint64_t ext_end = backing_off ? backing_off : s->cluster_size;
    if (backing_off && (backing_off > s->cluster_size ||
                        backing_len > QCOW_MAX_BACKING_NAME ||
                        backing_off + backing_len > s->cluster_size)) {
        error_setg(errp, "Invalid backing file offset or name length");
        return false;
    }
    uint8_t *hdr = g_malloc0(s->cluster_size);
    uint8_t *feature_table = NULL;
    uint32_t feature_table_len = 0;
    ret = bdrv_pread(bs->file, 0, MIN((int64_t)s->cluster_size, file_len), hdr);
    if (ret < 0) {
        g_free(hdr);
        error_setg_errno(errp, -ret, "Could not read qcow2 header");
        return false;
    }
    for (uint64_t pos = s->header_length; pos + 8 <= ext_end;) {
        uint32_t magic, len;
        memcpy(&magic, hdr + pos, 4);
        memcpy(&len, hdr + pos + 4, 4);
        magic = be32toh(magic);
        len = be32toh(len);
        pos += 8;
        if (magic == QCOW2_EXT_END) {
            break;
        }
        if (len > ext_end - pos) {
            g_free(hdr);
            error_setg(errp, "Invalid qcow2 header extension length");
            return false;
        }
        if (magic == QCOW2_EXT_BACKING_FMT) {
            if (len > 15) {
                g_free(hdr);
                error_setg(errp, "Backing format name too long in the qcow2 header");
                return false;
            }
            bs->backing_format = g_strndup((char *)hdr + pos, len);
        } else if (magic == QCOW2_EXT_FEATURE_TABLE) {
            feature_table = hdr + pos;
            feature_table_len = len;
        } else {
            s->unknown_exts = g_renew(Qcow2UnknownExt, s->unknown_exts, s->nb_unknown_exts + 1);
            Qcow2UnknownExt *e = &s->unknown_exts[s->nb_unknown_exts++];
            e->magic = magic;
            e->len = len;
            e->data = g_memdup2(hdr + pos, len);
        }
        pos += ((uint64_t)len + 7) & ~7ULL;
    }
    uint64_t unsupported = s->incompatible_features & ~QCOW2_INCOMPAT_SUPPORTED;
    if (unsupported) {
        report_unsupported(feature_table, feature_table_len, unsupported, errp);
        g_free(hdr);
        return false;
    }
    if (backing_off) {
        bs->backing_file = g_strndup((char *)hdr + backing_off, backing_len);
    }
    g_free(hdr);
    if ((s->incompatible_features & QCOW2_INCOMPAT_COMPRESSION) ?
        s->compression_type == BLOCK_COMPRESSION_ZLIB : s->compression_type != 0) {
        error_setg(errp, "Image is corrupt: invalid compression type settings");
        return false;
    }
    if (s->compression_type > BLOCK_COMPRESSION_ZSTD ||
        (s->compression_type == BLOCK_COMPRESSION_ZSTD && !CONFIG_ZSTD)) {
        error_setg(errp, "Unsupported compression type %d%s", s->compression_type,
                   s->compression_type == BLOCK_COMPRESSION_ZSTD ? " (zstd: built without "
                   "libzstd)" : "");
        return false;
    }
    if (be32toh(h.crypt_method)) {
        error_setg(errp, "qcow2 encryption is not supported");
        return false;
    }
    if ((s->incompatible_features & QCOW2_INCOMPAT_CORRUPT) && (flags & BDRV_O_RDWR)) {
        error_setg(errp, "qcow2: Image is corrupt; cannot be opened read/write");
        return false;
    }

    /* Tables. */
    s->l1_size = be32toh(h.l1_size);
    s->l1_table_offset = be64toh(h.l1_table_offset);
    if ((uint64_t)s->l1_size * 8 > QCOW_MAX_L1_SIZE) {
        error_setg(errp, "Active L1 table too large");
        return false;
    }
    if (s->size > (1ULL << 62) || qcow2_l1_entries_for(s, s->size) > s->l1_size) {
        error_setg(errp, "L1 table is too small for the image size");
        return false;
    }
    if (!check_table(s, file_len, s->l1_table_offset, (uint64_t)s->l1_size * 8,
                     "active L1 table", errp)) {
        return false;
    }
    uint32_t rt_clusters = be32toh(h.refcount_table_clusters);
    s->refcount_table_offset = be64toh(h.refcount_table_offset);
    if (rt_clusters == 0) {
        error_setg(errp, "Image does not contain a reference count table");
        return false;
    }
    if ((uint64_t)rt_clusters << s->cluster_bits > QCOW_MAX_REFTABLE_SIZE) {
        error_setg(errp, "Reference count table too large");
        return false;
    }
    if (!check_table(s, file_len, s->refcount_table_offset,
                     (uint64_t)rt_clusters << s->cluster_bits, "reference count table", errp)) {
        return false;
    }
    s->refcount_table_size = ((uint64_t)rt_clusters << s->cluster_bits) / 8;
    s->nb_snapshots = be32toh(h.nb_snapshots);
    s->snapshots_offset = be64toh(h.snapshots_offset);
    if (s->nb_snapshots > QCOW_MAX_SNAPSHOTS) {
        error_setg(errp, "Too many snapshots");
        return false;
    }
    if (s->nb_snapshots && !check_table(s, file_len, s->snapshots_offset, 1,
                                        "snapshot table", errp)) {
        return false;
    }

    ret = qcow2_read_l1(bs, s->l1_table_offset, s->l1_size, &s->l1_table);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read L1 table");
        return false;
    }
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t off = s->l1_table[i] & L1E_OFFSET_MASK;
        if (qcow2_offset_into_cluster(s, off) || off >= (uint64_t)file_len) {
            error_setg(errp, "Image is corrupt: L2 table offset %#" PRIx64 " (L1 index %u) "
                       "is invalid", off, i);
            return false;
        }
    }
    s->file_end = file_len;
    ret = qcow2_refcount_init(bs);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read refcount table");
        return false;
    }
    for (uint32_t i = 0; i < s->refcount_table_size; i++) {
        uint64_t off = s->refcount_table[i] & REFT_OFFSET_MASK;
        if (qcow2_offset_into_cluster(s, off) || off >= (uint64_t)file_len ||
            (s->refcount_table[i] & ~REFT_OFFSET_MASK)) {
            error_setg(errp, "Image is corrupt: refcount block offset %#" PRIx64 " (index %u) "
                       "is invalid", off, i);
            return false;
        }
    }

    /* Caches: the L2 cache covers the whole disk up to 32 MiB. */
    uint64_t l2_tables = MAX(qcow2_l1_entries_for(s, s->size), 8);
    l2_tables = MIN(l2_tables, MAX((32u << 20) >> s->cluster_bits, 8));
    uint64_t rc_tables = MAX(l2_tables / 4, 8);
    s->l2_cache = qcow2_cache_create(bs, l2_tables);
    s->refcount_cache = qcow2_cache_create(bs, rc_tables);
    if (!s->l2_cache || !s->refcount_cache) {
        error_setg(errp, "Could not allocate metadata caches");
        return false;
    }
    if (qcow2_read_snapshots(bs, errp) < 0) {
        return false;
    }
    s->writable = flags & BDRV_O_RDWR;
    s->lazy_refcounts = s->version >= 3 && (s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS);

    if (s->writable && (s->incompatible_features & QCOW2_INCOMPAT_DIRTY) &&
        !(flags & BDRV_O_CHECK)) {
        BdrvCheckResult res;
        memset(&res, 0, sizeof(res));
        ret = qcow2_check_refcounts(bs, &res, BDRV_FIX_LEAKS | BDRV_FIX_ERRORS);
        if (ret < 0 || res.corruptions || res.check_errors) {
            error_setg(errp, "Could not repair dirty image");
            return false;
        }
        if ((ret = qcow2_mark_clean(bs)) < 0) {
            error_setg_errno(errp, -ret, "Could not mark the image clean");
            return false;
        }
    }
    if (s->writable && s->autoclear_features) {
        /* Bitmaps and other autoclear extensions we do not maintain become invalid. */
        s->autoclear_features = 0;
        if ((ret = qcow2_update_header(bs)) < 0) {
            error_setg_errno(errp, -ret, "Could not update qcow2 header");
            return false;
        }
    }
    return true;
}

static bool qcow2_open(BlockDriverState *bs, GHashTable *options, int flags, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->alloc_done, NULL);
    pthread_rwlock_init(&s->io_lock, NULL);
    if (!qcow2_do_open(bs, flags, errp)) {
        qcow2_free_state(s);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->alloc_done);
        pthread_rwlock_destroy(&s->io_lock);
        return false;
    }
    return true;
}

static int qcow2_flush_locked(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = qcow2_cache_write(bs, s->l2_cache);
    if (ret == 0) {
        ret = qcow2_cache_write(bs, s->refcount_cache);
    }
    return ret;
}

static int qcow2_flush(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    pthread_mutex_lock(&s->lock);
    int ret = qcow2_flush_locked(bs);
    pthread_mutex_unlock(&s->lock);
    return ret < 0 ? ret : bdrv_flush(bs->file);
}

static void qcow2_close(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    if (s->writable) {
        int ret = qcow2_flush_locked(bs);
        if (ret == 0 && s->dirty_marked) {
            ret = qcow2_mark_clean(bs);
        }
        if (ret == 0) {
            ret = bdrv_flush(bs->file);
        }
        if (ret < 0) {
            error_report("qcow2: could not write metadata of '%s' on close: %s", bs->filename,
                         strerror(-ret));
        }
    }
    qcow2_free_state(s);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->alloc_done);
    pthread_rwlock_destroy(&s->io_lock);
}

/* ---- data path ----------------------------------------------------------------------- */

static int read_compressed(BlockDriverState *bs, uint64_t entry, uint8_t *cluster)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t coffset = entry & s->cluster_offset_mask;
    uint64_t nb = ((entry >> s->csize_shift) & s->csize_mask) + 1;
    uint64_t csize = nb * 512 - (coffset & 511);
    uint8_t *buf = g_malloc(csize);
    int ret = bdrv_pread(bs->file, coffset, csize, buf);
    if (ret == 0) {
        ret = qcow2_decompress(s->compression_type, cluster, s->cluster_size, buf, csize);
    }
    g_free(buf);
    return ret;
}

/* Reads guest data not stored in this layer: backing file or zeroes. */
static int read_backing(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                        const struct iovec *iov, int niov, size_t skip)
{
    uint64_t avail = 0;
    if (bs->backing) {
        int64_t blen = bdrv_getlength(bs->backing);
        if (blen < 0) {
            return (int)blen;
        }
        avail = (uint64_t)blen > offset ? MIN(bytes, (uint64_t)blen - offset) : 0;
    }
    if (avail) {
        struct iovec local[64];
        struct iovec *v = local;
        int n = iov_slice(iov, niov, skip, avail, local, 64);
        if (n < 0) {
            v = g_new(struct iovec, niov);
            n = iov_slice(iov, niov, skip, avail, v, niov);
        }
        int ret = bdrv_preadv(bs->backing, offset, avail, v, n, 0);
        if (v != local) {
            g_free(v);
        }
        if (ret < 0) {
            return ret;
        }
    }
    if (avail < bytes) {
        iov_memset(iov, niov, skip + avail, 0, bytes - avail);
    }
    return 0;
}

int qcow2_read_for_cow(BlockDriverState *bs, uint64_t l2_entry, uint64_t offset,
                       uint64_t bytes, uint8_t *buf)
{
    BDRVQcow2State *s = bs->opaque;
    if (!bytes) {
        return 0;
    }
    uint64_t in_cluster = qcow2_offset_into_cluster(s, offset);
    struct iovec iov = { .iov_base = buf, .iov_len = bytes };
    switch (qcow2_get_cluster_type(s, l2_entry)) {
    case QCOW2_CLUSTER_UNALLOCATED:
        return read_backing(bs, offset, bytes, &iov, 1, 0);
    case QCOW2_CLUSTER_ZERO_PLAIN:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        memset(buf, 0, bytes);
        return 0;
    case QCOW2_CLUSTER_NORMAL:
        return bdrv_pread(bs->file, (l2_entry & L2E_OFFSET_MASK) + in_cluster, bytes, buf);
    case QCOW2_CLUSTER_COMPRESSED: {
        uint8_t *cluster = g_malloc(s->cluster_size);
        int ret = read_compressed(bs, l2_entry, cluster);
        if (ret == 0) {
            memcpy(buf, cluster + in_cluster, bytes);
        }
        g_free(cluster);
        return ret;
    }
    }
    return -EIO;
}

static int qcow2_preadv(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                        const struct iovec *iov, int niov, int flags)
{
    BDRVQcow2State *s = bs->opaque;
    struct iovec local[64];
    struct iovec *slice = niov + 1 <= 64 ? local : g_new(struct iovec, niov + 1);
    int ret = 0;
    size_t done = 0;
    pthread_rwlock_rdlock(&s->io_lock);
    while (done < bytes) {
        uint64_t n = bytes - done, host, entry;
        Qcow2ClusterType type;
        pthread_mutex_lock(&s->lock);
        ret = qcow2_get_host_offset(bs, offset + done, &n, &host, &entry, &type);
        pthread_mutex_unlock(&s->lock);
        if (ret < 0) {
            break;
        }
        switch (type) {
        case QCOW2_CLUSTER_UNALLOCATED:
            ret = read_backing(bs, offset + done, n, iov, niov, done);
            break;
        case QCOW2_CLUSTER_ZERO_PLAIN:
        case QCOW2_CLUSTER_ZERO_ALLOC:
            iov_memset(iov, niov, done, 0, n);
            break;
        case QCOW2_CLUSTER_NORMAL: {
            int k = iov_slice(iov, niov, done, n, slice, niov + 1);
            ret = bdrv_preadv(bs->file, host, n, slice, k, 0);
            break;
        }
        case QCOW2_CLUSTER_COMPRESSED: {
            uint8_t *cluster = g_malloc(s->cluster_size);
            ret = read_compressed(bs, entry, cluster);
            if (ret == 0) {
                iov_from_buf(iov, niov, done,
                                  cluster + qcow2_offset_into_cluster(s, offset + done), n);
            }
            g_free(cluster);
            break;
        }
        }
        if (ret < 0) {
            break;
        }
        done += n;
    }
    pthread_rwlock_unlock(&s->io_lock);
    if (slice != local) {
        g_free(slice);
    }
    return ret < 0 ? ret : 0;
}

static bool in_flight_overlaps(BDRVQcow2State *s, uint64_t start, uint64_t end)
{
    for (Qcow2InFlight *f = s->in_flight; f; f = f->next) {
        if (f->start < end && start < f->end) {
            return true;
        }
    }
    return false;
}

static void in_flight_remove(BDRVQcow2State *s, Qcow2InFlight *req)
{
    for (Qcow2InFlight **p = &s->in_flight; *p; p = &(*p)->next) {
        if (*p == req) {
            *p = req->next;
            break;
        }
    }
    pthread_cond_broadcast(&s->alloc_done);
}

/* What a write stores: the caller's buffers (iov), or a range of the protocol node src. */
typedef struct Qcow2WriteData {
    const struct iovec *iov;
    int niov;
    BlockDriverState *src;
    uint64_t src_offset;
} Qcow2WriteData;

/* Stores bytes of d from its position skip at host offset host of bs->file. */
static int write_data(BlockDriverState *bs, uint64_t host, uint64_t bytes,
                      const Qcow2WriteData *d, size_t skip, struct iovec *slice)
{
    if (d->src) {
        return bdrv_copy_range(d->src, d->src_offset + skip, bs->file, host, bytes);
    }
    int k = iov_slice(d->iov, d->niov, skip, bytes, slice, d->niov + 1);
    return bdrv_pwritev(bs->file, host, bytes, slice, k, 0);
}

/* Allocates nb clusters for guest cluster-aligned cstart and writes [offset, offset+len)
 * of the request into them with copy-on-write of the head and tail. Lock held on entry
 * and exit; released during data I/O. */
static int write_allocating(BlockDriverState *bs, uint64_t cstart, int nb, uint64_t offset,
                            uint64_t len, const Qcow2WriteData *d, size_t skip,
                            uint64_t first_entry, uint64_t last_entry)
{
    const struct iovec *iov = d->iov;
    int niov = d->niov;
    BDRVQcow2State *s = bs->opaque;
    uint64_t alloc_len = (uint64_t)nb << s->cluster_bits;
    int64_t host = qcow2_alloc_clusters(bs, alloc_len);
    if (host < 0) {
        return (int)host;
    }
    Qcow2InFlight req = { .start = cstart, .end = cstart + alloc_len, .next = s->in_flight };
    s->in_flight = &req;
    pthread_mutex_unlock(&s->lock);

    uint64_t head = offset - cstart;
    uint64_t tail = cstart + alloc_len - (offset + len);
    uint8_t *cow = NULL;
    int ret = 0;
    if (head || tail) {
        cow = g_malloc(head + tail);
        ret = qcow2_read_for_cow(bs, first_entry, cstart, head, cow);
        if (ret == 0) {
            ret = qcow2_read_for_cow(bs, last_entry, offset + len, tail, cow + head);
        }
    }
    if (ret == 0 && d->src) {
        if (head) {
            ret = bdrv_pwrite(bs->file, host, head, cow);
        }
        if (ret == 0) {
            ret = write_data(bs, host + head, len, d, skip, NULL);
        }
        if (ret == 0 && tail) {
            ret = bdrv_pwrite(bs->file, host + head + len, tail, cow + head);
        }
    } else if (ret == 0) {
        int max = niov + 2;
        struct iovec local[66];
        struct iovec *v = max <= 66 ? local : g_new(struct iovec, max);
        int k = 0;
        if (head) {
            v[k++] = (struct iovec){ .iov_base = cow, .iov_len = head };
        }
        k += iov_slice(iov, niov, skip, len, v + k, niov);
        if (tail) {
            v[k++] = (struct iovec){ .iov_base = cow + head, .iov_len = tail };
        }
        ret = bdrv_pwritev(bs->file, host, alloc_len, v, k, 0);
        if (v != local) {
            g_free(v);
        }
    }
    g_free(cow);

    pthread_mutex_lock(&s->lock);
    if (ret == 0) {
        ret = qcow2_link_clusters(bs, cstart, nb, host);
    }
    if (ret < 0) {
        qcow2_free_clusters(bs, host, alloc_len);
    }
    in_flight_remove(s, &req);
    return ret;
}

static int qcow2_write(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                       const Qcow2WriteData *d)
{
    BDRVQcow2State *s = bs->opaque;
    int niov = d->niov;
    struct iovec local[64];
    struct iovec *slice = niov + 1 <= 64 ? local : g_new(struct iovec, niov + 1);
    int ret = 0;
    size_t done = 0;
    pthread_rwlock_rdlock(&s->io_lock);
    pthread_mutex_lock(&s->lock);
    while (done < bytes) {
        uint64_t pos = offset + done;
        uint64_t n = bytes - done, host, entry;
        Qcow2ClusterType type;
        uint64_t cstart = qcow2_start_of_cluster(s, pos);
        uint64_t cend = qcow2_start_of_cluster(s, pos + n + s->cluster_size - 1);
        while (in_flight_overlaps(s, cstart, cend)) {
            pthread_cond_wait(&s->alloc_done, &s->lock);
        }
        ret = qcow2_get_host_offset(bs, pos, &n, &host, &entry, &type);
        if (ret < 0) {
            break;
        }
        if (type == QCOW2_CLUSTER_NORMAL && (entry & QCOW_OFLAG_COPIED)) {
            pthread_mutex_unlock(&s->lock);
            ret = write_data(bs, host, n, d, done, slice);
            pthread_mutex_lock(&s->lock);
            if (ret < 0) {
                break;
            }
            done += n;
            continue;
        }
        uint64_t want = qcow2_size_to_clusters(s, pos - cstart + (bytes - done));
        uint64_t first, last;
        int nb = qcow2_count_alloc_needed(bs, cstart, (int)MIN(want, (uint64_t)INT32_MAX / 2),
                                          &first, &last);
        if (nb < 0) {
            ret = nb;
            break;
        }
        uint64_t len = MIN(bytes - done, cstart + ((uint64_t)nb << s->cluster_bits) - pos);
        ret = write_allocating(bs, cstart, nb, pos, len, d, done, first, last);
        if (ret < 0) {
            break;
        }
        done += len;
    }
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&s->io_lock);
    if (slice != local) {
        g_free(slice);
    }
    return ret < 0 ? ret : 0;
}

static int qcow2_pwritev(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                         const struct iovec *iov, int niov, int flags)
{
    return qcow2_write(bs, offset, bytes, &(Qcow2WriteData){ .iov = iov, .niov = niov });
}

/* The data clusters it allocates (or overwrites in place) are filled from src directly. */
static int qcow2_copy_range_to(BlockDriverState *src, uint64_t src_offset, BlockDriverState *bs,
                               uint64_t offset, uint64_t bytes)
{
    return qcow2_write(bs, offset, bytes,
                       &(Qcow2WriteData){ .src = src, .src_offset = src_offset });
}

/* Plain data clusters of this layer are copied from bs->file; the rest (unallocated, zero,
 * compressed) goes through a buffer. */
static int qcow2_copy_range_from(BlockDriverState *bs, uint64_t offset, BlockDriverState *dst,
                                 uint64_t dst_offset, uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;

    for (uint64_t done = 0; done < bytes && ret >= 0; ) {
        uint64_t n = bytes - done, host, entry;
        Qcow2ClusterType type;

        pthread_rwlock_rdlock(&s->io_lock);
        pthread_mutex_lock(&s->lock);
        ret = qcow2_get_host_offset(bs, offset + done, &n, &host, &entry, &type);
        pthread_mutex_unlock(&s->lock);
        pthread_rwlock_unlock(&s->io_lock);
        if (ret < 0) {
            break;
        }
        if (type == QCOW2_CLUSTER_NORMAL) {
            ret = bdrv_copy_range(bs->file, host, dst, dst_offset + done, n);
        } else {
            ret = bdrv_copy_range_bounce(bs, offset + done, dst, dst_offset + done, n);
        }
        done += n;
    }
    return ret < 0 ? ret : 0;
}

static long qcow2_compress_cluster(BlockDriverState *bs, void *dst, size_t dst_size,
                                   const void *src, uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    if (bytes > s->cluster_size || dst_size < s->cluster_size) {
        return -EINVAL;
    }
    if (bytes == s->cluster_size) {
        return qcow2_compress(s->compression_type, dst, s->cluster_size - 1, src,
                              s->cluster_size);
    }
    /* The image's last cluster: compressed as a whole cluster, zero-padded. */
    uint8_t *padded = g_malloc0(s->cluster_size);
    memcpy(padded, src, bytes);
    long clen = qcow2_compress(s->compression_type, dst, s->cluster_size - 1, padded,
                               s->cluster_size);
    g_free(padded);
    return clen;
}

static int qcow2_pwrite_compressed(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                                   const void *data, size_t len)
{
    BDRVQcow2State *s = bs->opaque;
    if (qcow2_offset_into_cluster(s, offset) ||
        (bytes != s->cluster_size && offset + bytes != s->size) ||
        len == 0 || len >= s->cluster_size) {
        return -EINVAL;
    }
    int ret;
    pthread_rwlock_rdlock(&s->io_lock);
    pthread_mutex_lock(&s->lock);
    while (in_flight_overlaps(s, offset, offset + s->cluster_size)) {
        pthread_cond_wait(&s->alloc_done, &s->lock);
    }
    int64_t host = qcow2_alloc_bytes(bs, len);
    if (host < 0) {
        ret = (int)host;
    } else {
        Qcow2InFlight req = { .start = offset, .end = offset + s->cluster_size,
                              .next = s->in_flight };
        s->in_flight = &req;
        pthread_mutex_unlock(&s->lock);
        ret = bdrv_pwrite(bs->file, host, len, data);
        pthread_mutex_lock(&s->lock);
        if (ret == 0) {
            ret = qcow2_set_compressed_entry(bs, offset, host, len);
        }
        if (ret < 0) {
            qcow2_free_clusters(bs, host, len);
        }
        in_flight_remove(s, &req);
    }
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&s->io_lock);
    return ret;
}

static int qcow2_pwrite_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                               int flags)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t end = offset + bytes;
    uint64_t astart = qcow2_start_of_cluster(s, offset + s->cluster_size - 1);
    uint64_t aend = end == s->size ? end : qcow2_start_of_cluster(s, end);
    if (astart >= aend) {
        return -ENOTSUP;
    }
    /* Unaligned ends are written as zero buffers; the aligned middle becomes zero clusters. */
    int ret = 0;
    if (astart > offset || end > aend) {
        uint8_t *zero = g_malloc0(s->cluster_size);
        struct iovec v = { .iov_base = zero, .iov_len = astart - offset };
        if (astart > offset) {
            ret = qcow2_pwritev(bs, offset, astart - offset, &v, 1, 0);
        }
        v.iov_len = end - aend;
        if (ret == 0 && end > aend) {
            ret = qcow2_pwritev(bs, aend, end - aend, &v, 1, 0);
        }
        g_free(zero);
        if (ret < 0) {
            return ret;
        }
    }
    uint64_t len = qcow2_size_to_clusters(s, aend - astart) << s->cluster_bits;
    pthread_rwlock_wrlock(&s->io_lock);
    pthread_mutex_lock(&s->lock);
    ret = qcow2_cluster_zeroize(bs, astart, len, flags & BDRV_REQ_MAY_UNMAP);
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&s->io_lock);
    if (ret == -ENOTSUP) {
        /* v2 with a backing file: store real zeroes. */
        uint8_t *zero = g_malloc0(s->cluster_size);
        struct iovec v = { .iov_base = zero, .iov_len = s->cluster_size };
        ret = 0;
        for (uint64_t o = astart; o < aend && ret == 0; o += s->cluster_size) {
            v.iov_len = MIN(s->cluster_size, aend - o);
            ret = qcow2_pwritev(bs, o, v.iov_len, &v, 1, 0);
        }
        g_free(zero);
    }
    return ret;
}

static int qcow2_pdiscard(BlockDriverState *bs, uint64_t offset, uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t start = qcow2_start_of_cluster(s, offset + s->cluster_size - 1);
    uint64_t end = offset + bytes == s->size ? qcow2_start_of_cluster(s, s->size +
                                                                       s->cluster_size - 1)
                                             : qcow2_start_of_cluster(s, offset + bytes);
    if (end <= start) {
        return 0;
    }
    pthread_rwlock_wrlock(&s->io_lock);
    pthread_mutex_lock(&s->lock);
    int ret = qcow2_cluster_discard(bs, start, end - start, false);
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&s->io_lock);
    return ret;
}

static int64_t qcow2_getlength(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    return s->size;
}

static int qcow2_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                              int64_t *pnum, int64_t *map, BlockDriverState **file)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t n = bytes, host, entry;
    Qcow2ClusterType type;
    pthread_mutex_lock(&s->lock);
    int ret = qcow2_get_host_offset(bs, offset, &n, &host, &entry, &type);
    pthread_mutex_unlock(&s->lock);
    if (ret < 0) {
        return ret;
    }
    *pnum = n;
    *map = 0;
    *file = NULL;
    switch (type) {
    case QCOW2_CLUSTER_UNALLOCATED:
        return 0;
    case QCOW2_CLUSTER_ZERO_PLAIN:
        return BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED;
    case QCOW2_CLUSTER_ZERO_ALLOC:
        *map = (entry & L2E_OFFSET_MASK) + qcow2_offset_into_cluster(s, offset);
        *file = bs->file;
        return BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID;
    case QCOW2_CLUSTER_NORMAL:
        *map = host;
        *file = bs->file;
        return BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID;
    case QCOW2_CLUSTER_COMPRESSED:
        *file = bs->file;
        return BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_COMPRESSED;
    }
    return -EIO;
}

/* ---- resize -------------------------------------------------------------------------- */

int qcow2_grow_l1_table(BlockDriverState *bs, uint64_t min_size, bool exact)
{
    BDRVQcow2State *s = bs->opaque;
    if (min_size <= s->l1_size) {
        return 0;
    }
    uint64_t new_size = exact ? min_size : MAX(min_size, (uint64_t)s->l1_size * 3 / 2);
    if (new_size * 8 > QCOW_MAX_L1_SIZE) {
        if (min_size * 8 > QCOW_MAX_L1_SIZE) {
            return -EFBIG;
        }
        new_size = min_size;
    }
    uint64_t bytes = new_size * 8;
    int64_t off = qcow2_alloc_clusters(bs, bytes);
    if (off < 0) {
        return (int)off;
    }
    uint64_t *table = g_new0(uint64_t, new_size);
    memcpy(table, s->l1_table, (size_t)s->l1_size * 8);
    int ret = qcow2_cache_flush(bs, s->refcount_cache);
    if (ret == 0) {
        ret = qcow2_write_l1(bs, off, table, new_size);
    }
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    if (ret == 0) {
        struct __attribute__((packed)) {
            uint32_t size;
            uint64_t offset;
        } hdr = { htobe32(new_size), htobe64(off) };
        ret = bdrv_pwrite_sync(bs->file, offsetof(QCowHeader, l1_size), sizeof(hdr), &hdr);
    }
    if (ret < 0) {
        g_free(table);
        qcow2_free_clusters(bs, off, bytes);
        return ret;
    }
    uint64_t old_off = s->l1_table_offset, old_bytes = (uint64_t)s->l1_size * 8;
    g_free(s->l1_table);
    s->l1_table = table;
    s->l1_table_offset = off;
    s->l1_size = new_size;
    if (old_bytes) {
        qcow2_free_clusters(bs, old_off, old_bytes);
    }
    return 0;
}

static int write_size(BlockDriverState *bs, uint64_t size)
{
    uint64_t be = htobe64(size);
    return bdrv_pwrite_sync(bs->file, offsetof(QCowHeader, size), 8, &be);
}

/* True when some cluster at or after guest offset from is allocated in the active table. */
static int has_allocation_after(BlockDriverState *bs, uint64_t from)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t end = (uint64_t)s->l1_size << (s->l2_bits + s->cluster_bits);
    for (uint64_t off = qcow2_start_of_cluster(s, from + s->cluster_size - 1); off < end;) {
        uint64_t n = end - off, host, entry;
        Qcow2ClusterType type;
        int ret = qcow2_get_host_offset(bs, off, &n, &host, &entry, &type);
        if (ret < 0) {
            return ret;
        }
        if (type != QCOW2_CLUSTER_UNALLOCATED && type != QCOW2_CLUSTER_ZERO_PLAIN) {
            return 1;
        }
        off += n;
    }
    return 0;
}

static int qcow2_truncate(BlockDriverState *bs, int64_t offset, bool exact,
                          BlockPrealloc prealloc, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    if (prealloc != PREALLOC_MODE_OFF) {
        error_setg(errp, "Unsupported preallocation mode '%s' for resizing qcow2 images",
                   bdrv_prealloc_name(prealloc));
        return -ENOTSUP;
    }
    if (qcow2_offset_into_cluster(s, offset) & 511) {
        error_setg(errp, "The new size must be a multiple of 512");
        return -EINVAL;
    }
    pthread_rwlock_wrlock(&s->io_lock);
    pthread_mutex_lock(&s->lock);
    int ret = 0;
    if ((uint64_t)offset < s->size) {
        ret = has_allocation_after(bs, offset);
        if (ret > 0) {
            error_setg(errp, "Cannot shrink: clusters beyond the new size are allocated "
                       "(discard them first)");
            ret = -ENOTSUP;
            goto out;
        }
    } else {
        ret = qcow2_grow_l1_table(bs, qcow2_l1_entries_for(s, offset), true);
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to resize the image");
        goto out;
    }
    ret = write_size(bs, offset);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to update the image size");
        goto out;
    }
    s->size = offset;
out:
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&s->io_lock);
    return ret < 0 ? ret : 0;
}

/* ---- create -------------------------------------------------------------------------- */

static bool qcow2_preallocate(BlockDriverState *bs, BlockPrealloc mode, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t total = qcow2_size_to_clusters(s, s->size);
    int ret = 0;
    pthread_mutex_lock(&s->lock);
    for (uint64_t c = 0; c < total && ret == 0;) {
        uint64_t l2_left = s->l2_size - (c & (s->l2_size - 1));
        int nb = (int)MIN(total - c, l2_left);
        int64_t host = qcow2_alloc_clusters(bs, (uint64_t)nb << s->cluster_bits);
        if (host < 0) {
            ret = (int)host;
            break;
        }
        ret = qcow2_link_clusters(bs, c << s->cluster_bits, nb, host);
        if (ret == 0) {
            /* The file covers the data clusters (sparse for metadata). */
            ret = bdrv_truncate(bs->file, host + ((int64_t)nb << s->cluster_bits), false,
                                mode == PREALLOC_MODE_METADATA ? PREALLOC_MODE_OFF : mode,
                                errp);
        }
        c += nb;
    }
    if (ret == 0) {
        ret = qcow2_flush_locked(bs);
    }
    pthread_mutex_unlock(&s->lock);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not preallocate metadata");
        return false;
    }
    return true;
}

static bool qcow2_create(const char *filename, const BlockCreateOpts *opts, Error **errp)
{
    uint32_t cs = (opts->set & BLOCK_OPT_CLUSTER_SIZE) ? opts->cluster_size : 65536;
    int version = (opts->set & BLOCK_OPT_COMPAT) ? opts->compat : 3;
    int rbits = (opts->set & BLOCK_OPT_REFCOUNT_BITS) ? opts->refcount_bits : 16;
    bool lazy = (opts->set & BLOCK_OPT_LAZY_REFCOUNTS) && opts->lazy_refcounts;
    BlockPrealloc prealloc = (opts->set & BLOCK_OPT_PREALLOC) ? opts->prealloc
                                                               : PREALLOC_MODE_OFF;
    if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1))) {
        error_setg(errp, "Cluster size must be a power of two between 512 and 2048k");
        return false;
    }
    if (version < 3 && lazy) {
        error_setg(errp, "Lazy refcounts only supported with compatibility level 1.1 and "
                   "above (use compat=1.1 or greater)");
        return false;
    }
    if (version < 3 && rbits != 16) {
        error_setg(errp, "Different refcount widths than 16 bits require compatibility "
                   "level 1.1 or above (use compat=1.1 or greater)");
        return false;
    }
    BlockCompressionType ctype = (opts->set & BLOCK_OPT_COMPRESSION) ? opts->compression_type
                                                                      : BLOCK_COMPRESSION_ZLIB;
    if (version < 3 && ctype != BLOCK_COMPRESSION_ZLIB) {
        error_setg(errp, "Non-zlib compression type is only supported with compatibility "
                   "level 1.1 and above (use compat=1.1 or greater)");
        return false;
    }
    if ((opts->set & BLOCK_OPT_BACKING_FMT) && !opts->backing_file) {
        error_setg(errp, "Backing format cannot be used without backing file");
        return false;
    }
    if (opts->backing_file && prealloc != PREALLOC_MODE_OFF) {
        error_setg(errp, "Backing file and preallocation can only be used at the same time "
                   "if extended_l2 is on");
        return false;
    }
    if (opts->size % 512) {
        error_setg(errp, "Image size must be a multiple of 512 bytes");
        return false;
    }
    BlockCreateOpts fopts = { .set = BLOCK_OPT_SIZE, .size = 0 };
    if (!bdrv_find_format("file")->create(filename, &fopts, errp)) {
        return false;
    }

    /* Minimal image: header, one refcount table cluster, one refcount block. */
    int cluster_bits = __builtin_ctz(cs);
    int order = __builtin_ctz(rbits);
    uint8_t *buf = g_malloc0(3 * (size_t)cs);
    QCowHeader *h = (QCowHeader *)buf;
    h->magic = htobe32(QCOW_MAGIC);
    h->version = htobe32(version);
    h->cluster_bits = htobe32(cluster_bits);
    h->refcount_table_offset = htobe64(cs);
    h->refcount_table_clusters = htobe32(1);
    if (version >= 3) {
        h->refcount_order = htobe32(order);
        h->header_length = htobe32(QCOW2_HEADER_LEN);
        h->compression_type = ctype;
        if (ctype != BLOCK_COMPRESSION_ZLIB) {
            h->incompatible_features = htobe64(QCOW2_INCOMPAT_COMPRESSION);
        }
    }
    *(uint64_t *)(buf + cs) = htobe64(2 * (uint64_t)cs);
    uint8_t *rb = buf + 2 * cs;
    for (int i = 0; i < 3; i++) {
        uint64_t bit = (uint64_t)i << order;
        switch (order) {
        case 3: rb[i] = 1; break;
        case 4: ((uint16_t *)rb)[i] = htobe16(1); break;
        case 5: ((uint32_t *)rb)[i] = htobe32(1); break;
        case 6: ((uint64_t *)rb)[i] = htobe64(1); break;
        default: rb[bit / 8] |= 1 << (bit % 8); break;
        }
    }
    GHashTable *o = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(o, g_strdup("driver"), g_strdup("file"));
    BlockDriverState *file = bdrv_open(filename, o, BDRV_O_RDWR, errp);
    g_hash_table_unref(o);
    if (!file) {
        g_free(buf);
        return false;
    }
    int ret = bdrv_pwrite(file, 0, 3 * (uint64_t)cs, buf);
    g_free(buf);
    bdrv_unref(file);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not write qcow2 header");
        return false;
    }

    o = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(o, g_strdup("driver"), g_strdup("qcow2"));
    BlockDriverState *bs = bdrv_open(filename, o, BDRV_O_RDWR | BDRV_O_NO_BACKING, errp);
    g_hash_table_unref(o);
    if (!bs) {
        return false;
    }
    BDRVQcow2State *s = bs->opaque;
    bool ok = true;
    pthread_mutex_lock(&s->lock);
    ret = qcow2_grow_l1_table(bs, qcow2_l1_entries_for(s, opts->size), true);
    if (ret == 0) {
        s->size = opts->size;
        if (lazy) {
            s->compatible_features |= QCOW2_COMPAT_LAZY_REFCOUNTS;
        }
        if (opts->backing_file) {
            bs->backing_file = g_strdup(opts->backing_file);
            bs->backing_format = opts->backing_fmt ? g_strdup(opts->backing_fmt) : NULL;
        }
        ret = qcow2_update_header(bs);
    }
    pthread_mutex_unlock(&s->lock);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not create the qcow2 image");
        ok = false;
    } else if (prealloc != PREALLOC_MODE_OFF) {
        ok = qcow2_preallocate(bs, prealloc, errp);
    }
    bdrv_unref(bs);
    return ok;
}

/* ---- info, check, amend, backing ------------------------------------------------------ */

static void qcow2_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    BDRVQcow2State *s = bs->opaque;
    bdi->cluster_size = s->cluster_size;
    bdi->is_dirty = s->incompatible_features & QCOW2_INCOMPAT_DIRTY;
}

static void qcow2_get_specific_info(BlockDriverState *bs, BlockSpecificInfo *info)
{
    BDRVQcow2State *s = bs->opaque;
    info->compat = s->version >= 3 ? "1.1" : "0.10";
    info->compression_type = s->compression_type == BLOCK_COMPRESSION_ZSTD ? "zstd" : "zlib";
    info->lazy_refcounts = s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS;
    info->refcount_bits = s->refcount_bits;
    info->corrupt = s->incompatible_features & QCOW2_INCOMPAT_CORRUPT;
}

static int qcow2_check(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix)
{
    BDRVQcow2State *s = bs->opaque;
    pthread_mutex_lock(&s->lock);
    int ret = qcow2_check_refcounts(bs, res, fix);
    if (ret == 0 && fix && !res->corruptions && !res->check_errors &&
        (s->incompatible_features & QCOW2_INCOMPAT_DIRTY)) {
        ret = qcow2_mark_clean(bs);
    }
    pthread_mutex_unlock(&s->lock);
    return ret;
}

static int qcow2_change_backing_file(BlockDriverState *bs, const char *backing_file,
                                     const char *backing_fmt)
{
    BDRVQcow2State *s = bs->opaque;
    if (backing_file && strlen(backing_file) > QCOW_MAX_BACKING_NAME) {
        return -EINVAL;
    }
    pthread_mutex_lock(&s->lock);
    char *old_file = bs->backing_file, *old_fmt = bs->backing_format;
    bs->backing_file = backing_file && *backing_file ? g_strdup(backing_file) : NULL;
    bs->backing_format = bs->backing_file && backing_fmt && *backing_fmt ? g_strdup(backing_fmt)
                                                                         : NULL;
    int ret = qcow2_update_header(bs);
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    if (ret < 0) {
        g_free(bs->backing_file);
        g_free(bs->backing_format);
        bs->backing_file = old_file;
        bs->backing_format = old_fmt;
    } else {
        g_free(old_file);
        g_free(old_fmt);
    }
    pthread_mutex_unlock(&s->lock);
    return ret;
}

/* True when any L2 entry of the active table or a snapshot carries the zero flag. */
static int has_zero_clusters(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t end = s->size;
    for (uint64_t off = 0; off < end;) {
        uint64_t n = end - off, host, entry;
        Qcow2ClusterType type;
        int ret = qcow2_get_host_offset(bs, off, &n, &host, &entry, &type);
        if (ret < 0) {
            return ret;
        }
        if (type == QCOW2_CLUSTER_ZERO_PLAIN || type == QCOW2_CLUSTER_ZERO_ALLOC) {
            return 1;
        }
        off += n;
    }
    return s->nb_snapshots ? 1 : 0;
}

static bool qcow2_amend(BlockDriverState *bs, const BlockCreateOpts *opts, bool force,
                        Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    if ((opts->set & BLOCK_OPT_CLUSTER_SIZE) && opts->cluster_size != s->cluster_size) {
        error_setg(errp, "Changing the cluster size is not supported");
        return false;
    }
    if (opts->set & BLOCK_OPT_PREALLOC) {
        error_setg(errp, "Changing the preallocation mode is not supported");
        return false;
    }
    if ((opts->set & BLOCK_OPT_COMPRESSION) && (int)opts->compression_type != s->compression_type) {
        error_setg(errp, "Changing the compression type is not supported");
        return false;
    }
    int version = (opts->set & BLOCK_OPT_COMPAT) ? opts->compat : s->version;
    bool lazy = (opts->set & BLOCK_OPT_LAZY_REFCOUNTS)
                ? opts->lazy_refcounts
                : !!(s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS);
    if (version < 3 && lazy) {
        error_setg(errp, "Lazy refcounts only supported with compatibility level 1.1 and "
                   "above (use compat=1.1 or greater)");
        return false;
    }
    int rbits = (opts->set & BLOCK_OPT_REFCOUNT_BITS) ? opts->refcount_bits : s->refcount_bits;
    if (version < 3 && rbits != 16) {
        error_setg(errp, "Different refcount widths than 16 bits require compatibility "
                   "level 1.1 or above (use compat=1.1 or greater)");
        return false;
    }
    if ((opts->set & BLOCK_OPT_SIZE) && opts->size != s->size &&
        qcow2_truncate(bs, opts->size, true, PREALLOC_MODE_OFF, errp) < 0) {
        return false;
    }
    pthread_rwlock_wrlock(&s->io_lock);
    pthread_mutex_lock(&s->lock);
    bool ok = false;
    int ret;
    if (version < s->version) {
        ret = has_zero_clusters(bs);
        if (ret != 0) {
            error_setg(errp, ret < 0 ? "Could not scan the image" :
                       "Cannot downgrade an image with zero clusters or internal snapshots");
            goto out;
        }
        if (s->incompatible_features & ~QCOW2_INCOMPAT_DIRTY) {
            error_setg(errp, "Cannot downgrade an image with incompatible features");
            goto out;
        }
        if ((ret = qcow2_mark_clean(bs)) < 0) {
            error_setg_errno(errp, -ret, "Could not settle refcounts");
            goto out;
        }
        s->compatible_features = s->autoclear_features = 0;
    }
    if (rbits != s->refcount_bits) {
        ret = qcow2_change_refcount_order(bs, __builtin_ctz(rbits));
        if (ret < 0) {
            error_setg_errno(errp, -ret, ret == -ERANGE ? "Refcounts do not fit %d bits" :
                             "Could not rewrite the refcounts", rbits);
            goto out;
        }
    }
    s->version = version;
    if (lazy) {
        s->compatible_features |= QCOW2_COMPAT_LAZY_REFCOUNTS;
    } else if (s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS) {
        if ((ret = qcow2_mark_clean(bs)) < 0) {
            error_setg_errno(errp, -ret, "Could not settle refcounts");
            goto out;
        }
        s->compatible_features &= ~QCOW2_COMPAT_LAZY_REFCOUNTS;
    }
    s->lazy_refcounts = lazy;
    if (opts->set & BLOCK_OPT_BACKING_FILE) {
        g_free(bs->backing_file);
        bs->backing_file = opts->backing_file && *opts->backing_file
                           ? g_strdup(opts->backing_file) : NULL;
    }
    if (opts->set & BLOCK_OPT_BACKING_FMT) {
        g_free(bs->backing_format);
        bs->backing_format = opts->backing_fmt && *opts->backing_fmt
                             ? g_strdup(opts->backing_fmt) : NULL;
    }
    ret = qcow2_flush_locked(bs);
    if (ret == 0) {
        ret = qcow2_update_header(bs);
    }
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not update the qcow2 header");
        goto out;
    }
    ok = true;
out:
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&s->io_lock);
    return ok;
}

static int qcow2_make_empty(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t end = (uint64_t)s->l1_size << (s->l2_bits + s->cluster_bits);
    pthread_rwlock_wrlock(&s->io_lock);
    pthread_mutex_lock(&s->lock);
    int ret = qcow2_cluster_discard(bs, 0, end, true);
    if (ret == 0) {
        ret = qcow2_flush_locked(bs);
    }
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&s->io_lock);
    return ret < 0 ? ret : bdrv_flush(bs->file);
}

static const char *const qcow2_create_opts[] = {
    "size", "cluster_size", "backing_file", "backing_fmt", "compat", "preallocation",
    "lazy_refcounts", "compression_type", "refcount_bits", NULL
};

static const BlockDriver bdrv_qcow2 = {
    .format_name = "qcow2",
    .instance_size = sizeof(BDRVQcow2State),
    .supports_backing = true,
    .create_opts = qcow2_create_opts,
    .probe = qcow2_probe,
    .open = qcow2_open,
    .close = qcow2_close,
    .create = qcow2_create,
    .preadv = qcow2_preadv,
    .pwritev = qcow2_pwritev,
    .copy_range_from = qcow2_copy_range_from,
    .copy_range_to = qcow2_copy_range_to,
    .compress = qcow2_compress_cluster,
    .pwrite_compressed = qcow2_pwrite_compressed,
    .pwrite_zeroes = qcow2_pwrite_zeroes,
    .pdiscard = qcow2_pdiscard,
    .flush = qcow2_flush,
    .getlength = qcow2_getlength,
    .truncate = qcow2_truncate,
    .block_status = qcow2_block_status,
    .get_info = qcow2_get_info,
    .get_specific_info = qcow2_get_specific_info,
    .check = qcow2_check,
    .amend = qcow2_amend,
    .make_empty = qcow2_make_empty,
    .change_backing_file = qcow2_change_backing_file,
    .snapshot_create = qcow2_snapshot_create,
    .snapshot_list = qcow2_snapshot_list,
    .snapshot_goto = qcow2_snapshot_goto,
    .snapshot_delete = qcow2_snapshot_delete,
};

static void __attribute__((constructor)) qcow2_register(void)
{
    bdrv_register(&bdrv_qcow2);
}
