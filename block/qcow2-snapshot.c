/* qcow2 internal snapshots: the snapshot table, create, list, apply (goto) and delete with
 * the reference count updates of everything a snapshot's L1 table reaches. */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include "block/qcow2.h"

#define SN_EXTRA_MAX 1024

typedef struct __attribute__((packed)) SnapshotHeader {
    uint64_t l1_table_offset;
    uint32_t l1_size;
    uint16_t id_str_size;
    uint16_t name_size;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint32_t vm_state_size;
    uint32_t extra_data_size;
} SnapshotHeader;

typedef struct __attribute__((packed)) SnapshotExtra {
    uint64_t vm_state_size_large;
    uint64_t disk_size;
    uint64_t icount;
} SnapshotExtra;

void qcow2_free_snapshots(BDRVQcow2State *s)
{
    for (uint32_t i = 0; s->snapshots && i < s->nb_snapshots; i++) {
        g_free(s->snapshots[i].id_str);
        g_free(s->snapshots[i].name);
        g_free(s->snapshots[i].unknown_extra);
    }
    g_free(s->snapshots);
    s->snapshots = NULL;
}

int qcow2_read_snapshots(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t file_len = bdrv_getlength(bs->file);
    uint64_t off = s->snapshots_offset;
    if (!s->nb_snapshots) {
        return 0;
    }
    s->snapshots = g_new0(Qcow2Snapshot, s->nb_snapshots);
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        SnapshotHeader h;
        Qcow2Snapshot *sn = &s->snapshots[i];
        off = (off + 7) & ~7ULL;
        if (off + sizeof(h) > (uint64_t)file_len) {
            goto truncated;
        }
        int ret = bdrv_pread(bs->file, off, sizeof(h), &h);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Failed to read snapshot table");
            return ret;
        }
        off += sizeof(h);
        sn->l1_table_offset = be64toh(h.l1_table_offset);
        sn->l1_size = be32toh(h.l1_size);
        sn->date_sec = be32toh(h.date_sec);
        sn->date_nsec = be32toh(h.date_nsec);
        sn->vm_clock_nsec = be64toh(h.vm_clock_nsec);
        sn->vm_state_size = be32toh(h.vm_state_size);
        sn->extra_data_size = be32toh(h.extra_data_size);
        sn->disk_size = s->size;
        sn->icount = UINT64_MAX;
        uint16_t id_len = be16toh(h.id_str_size), name_len = be16toh(h.name_size);
        if (sn->extra_data_size > SN_EXTRA_MAX) {
            error_setg(errp, "Too much extra metadata in snapshot table entry %u", i);
            return -EFBIG;
        }
        if (off + sn->extra_data_size + id_len + name_len > (uint64_t)file_len) {
            goto truncated;
        }
        uint8_t *extra = g_malloc0(MAX(sn->extra_data_size, sizeof(SnapshotExtra)));
        char *id = g_malloc0(id_len + 1), *name = g_malloc0(name_len + 1);
        ret = bdrv_pread(bs->file, off, sn->extra_data_size, extra);
        if (ret == 0) {
            ret = bdrv_pread(bs->file, off + sn->extra_data_size, id_len, id);
        }
        if (ret == 0) {
            ret = bdrv_pread(bs->file, off + sn->extra_data_size + id_len, name_len, name);
        }
        sn->id_str = id;
        sn->name = name;
        if (ret < 0) {
            g_free(extra);
            error_setg_errno(errp, -ret, "Failed to read snapshot table");
            return ret;
        }
        SnapshotExtra *x = (SnapshotExtra *)extra;
        if (sn->extra_data_size >= 8) {
            sn->vm_state_size = be64toh(x->vm_state_size_large);
        }
        if (sn->extra_data_size >= 16) {
            sn->disk_size = be64toh(x->disk_size);
        }
        if (sn->extra_data_size >= 24) {
            sn->icount = be64toh(x->icount);
        }
        if (sn->extra_data_size > sizeof(SnapshotExtra)) {
            sn->unknown_extra = g_memdup2(extra + sizeof(SnapshotExtra),
                                          sn->extra_data_size - sizeof(SnapshotExtra));
        }
        g_free(extra);
        off += sn->extra_data_size + id_len + name_len;
        if ((uint64_t)sn->l1_size * 8 > QCOW_MAX_L1_SIZE ||
            qcow2_offset_into_cluster(s, sn->l1_table_offset) ||
            sn->l1_table_offset + (uint64_t)sn->l1_size * 8 > (uint64_t)file_len) {
            error_setg(errp, "Snapshot L1 table of snapshot %u is invalid", i);
            return -EINVAL;
        }
    }
    return 0;
truncated:
    error_setg(errp, "Snapshot table extends beyond the end of the file");
    return -EINVAL;
}

/* Writes the snapshot array as a new table and switches the header to it (lock held). */
static int write_snapshots(BlockDriverState *bs, uint64_t *old_off)
{
    BDRVQcow2State *s = bs->opaque;
    GByteArray *t = g_byte_array_new();
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        uint32_t unknown = sn->extra_data_size > sizeof(SnapshotExtra)
                           ? sn->extra_data_size - sizeof(SnapshotExtra) : 0;
        uint32_t extra_size = sizeof(SnapshotExtra) + unknown;
        SnapshotHeader h = {
            .l1_table_offset = htobe64(sn->l1_table_offset),
            .l1_size = htobe32(sn->l1_size),
            .id_str_size = htobe16(strlen(sn->id_str)),
            .name_size = htobe16(strlen(sn->name)),
            .date_sec = htobe32(sn->date_sec),
            .date_nsec = htobe32(sn->date_nsec),
            .vm_clock_nsec = htobe64(sn->vm_clock_nsec),
            .vm_state_size = htobe32(sn->vm_state_size > UINT32_MAX ? 0 : sn->vm_state_size),
            .extra_data_size = htobe32(extra_size),
        };
        SnapshotExtra x = {
            .vm_state_size_large = htobe64(sn->vm_state_size),
            .disk_size = htobe64(sn->disk_size),
            .icount = htobe64(sn->icount),
        };
        sn->extra_data_size = extra_size;
        g_byte_array_append(t, (uint8_t *)&h, sizeof(h));
        g_byte_array_append(t, (uint8_t *)&x, sizeof(x));
        if (unknown) {
            g_byte_array_append(t, sn->unknown_extra, unknown);
        }
        g_byte_array_append(t, (uint8_t *)sn->id_str, strlen(sn->id_str));
        g_byte_array_append(t, (uint8_t *)sn->name, strlen(sn->name));
        static const uint8_t pad[8];
        g_byte_array_append(t, pad, (8 - (t->len & 7)) & 7);
    }
    int64_t off = 0;
    int ret = 0;
    if (t->len) {
        off = qcow2_alloc_clusters(bs, t->len);
        if (off < 0) {
            g_byte_array_free(t, true);
            return (int)off;
        }
        ret = bdrv_pwrite(bs->file, off, t->len, t->data);
    }
    if (ret == 0) {
        ret = qcow2_cache_flush(bs, s->refcount_cache);
    }
    if (ret == 0) {
        ret = qcow2_cache_flush(bs, s->l2_cache);
    }
    if (ret == 0) {
        struct __attribute__((packed)) {
            uint32_t nb;
            uint64_t offset;
        } hdr = { htobe32(s->nb_snapshots), htobe64(off) };
        ret = bdrv_pwrite_sync(bs->file, 60, sizeof(hdr), &hdr);
    }
    uint32_t len = t->len;
    g_byte_array_free(t, true);
    if (ret < 0) {
        if (off) {
            qcow2_free_clusters(bs, off, len);
        }
        return ret;
    }
    *old_off = s->snapshots_offset;
    s->snapshots_offset = off;
    return 0;
}

static uint64_t snapshot_table_size(BDRVQcow2State *s)
{
    uint64_t size = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        size += sizeof(SnapshotHeader) + sn->extra_data_size +
                strlen(sn->id_str) + strlen(sn->name);
        size = (size + 7) & ~7ULL;
    }
    return size;
}

static int find_snapshot(BDRVQcow2State *s, const char *id, const char *name)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if ((!id || !strcmp(s->snapshots[i].id_str, id)) &&
            (!name || !strcmp(s->snapshots[i].name, name))) {
            return i;
        }
    }
    return -1;
}

/* Replaces the snapshot table; old_size is the size of the table being replaced. */
static int replace_snapshot_table(BlockDriverState *bs, uint64_t old_size)
{
    uint64_t old_off;
    int ret = write_snapshots(bs, &old_off);
    if (ret == 0 && old_off && old_size) {
        qcow2_free_clusters(bs, old_off, old_size);
    }
    return ret;
}

bool qcow2_snapshot_create(BlockDriverState *bs, BlockSnapshotInfo *info, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    if (s->nb_snapshots >= QCOW_MAX_SNAPSHOTS) {
        error_setg(errp, "Too many snapshots");
        return false;
    }
    pthread_rwlock_wrlock(&s->io_lock);
    pthread_mutex_lock(&s->lock);
    bool ok = false;
    int ret;
    if (!info->id_str[0]) {
        unsigned long max = 0;
        for (uint32_t i = 0; i < s->nb_snapshots; i++) {
            max = MAX(max, strtoul(s->snapshots[i].id_str, NULL, 10));
        }
        snprintf(info->id_str, sizeof(info->id_str), "%lu", max + 1);
    }
    if (find_snapshot(s, info->id_str, NULL) >= 0) {
        error_setg(errp, "Snapshot with ID '%s' already exists", info->id_str);
        goto out;
    }
    if (info->name[0] && find_snapshot(s, NULL, info->name) >= 0) {
        error_setg(errp, "Snapshot with name '%s' already exists", info->name);
        goto out;
    }
    uint64_t old_size = snapshot_table_size(s);
    int64_t l1_off = qcow2_alloc_clusters(bs, MAX((uint64_t)s->l1_size * 8, 1));
    if (l1_off < 0) {
        error_setg_errno(errp, (int)-l1_off, "Could not allocate the snapshot L1 table");
        goto out;
    }
    ret = qcow2_update_snapshot_refcount(bs, s->l1_table_offset, s->l1_size, 1);
    if (ret == 0) {
        ret = qcow2_write_l1(bs, l1_off, s->l1_table, s->l1_size);
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not copy the L1 table");
        goto out;
    }
    if (!info->date_sec) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        info->date_sec = ts.tv_sec;
        info->date_nsec = ts.tv_nsec;
    }
    s->snapshots = g_renew(Qcow2Snapshot, s->snapshots, s->nb_snapshots + 1);
    Qcow2Snapshot *sn = &s->snapshots[s->nb_snapshots++];
    *sn = (Qcow2Snapshot){
        .l1_table_offset = l1_off, .l1_size = s->l1_size,
        .id_str = g_strdup(info->id_str), .name = g_strdup(info->name),
        .disk_size = s->size, .vm_state_size = info->vm_state_size,
        .date_sec = info->date_sec, .date_nsec = info->date_nsec,
        .vm_clock_nsec = info->vm_clock_nsec, .icount = info->icount,
        .extra_data_size = sizeof(SnapshotExtra),
    };
    ret = replace_snapshot_table(bs, old_size);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not write the snapshot table");
        goto out;
    }
    ok = true;
out:
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&s->io_lock);
    return ok;
}

int qcow2_snapshot_list(BlockDriverState *bs, BlockSnapshotInfo **psn)
{
    BDRVQcow2State *s = bs->opaque;
    BlockSnapshotInfo *list = g_new0(BlockSnapshotInfo, MAX(s->nb_snapshots, 1));
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        g_strlcpy(list[i].id_str, sn->id_str, sizeof(list[i].id_str));
        g_strlcpy(list[i].name, sn->name, sizeof(list[i].name));
        list[i].vm_state_size = sn->vm_state_size;
        list[i].date_sec = sn->date_sec;
        list[i].date_nsec = sn->date_nsec;
        list[i].vm_clock_nsec = sn->vm_clock_nsec;
        list[i].icount = sn->icount;
    }
    *psn = list;
    return s->nb_snapshots;
}

bool qcow2_snapshot_goto(BlockDriverState *bs, const char *id_or_name, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    pthread_rwlock_wrlock(&s->io_lock);
    pthread_mutex_lock(&s->lock);
    bool ok = false;
    int idx = find_snapshot(s, id_or_name, NULL);
    if (idx < 0) {
        idx = find_snapshot(s, NULL, id_or_name);
    }
    if (idx < 0) {
        error_setg(errp, "Can't find snapshot '%s'", id_or_name);
        goto out;
    }
    Qcow2Snapshot *sn = &s->snapshots[idx];
    uint64_t *sn_l1;
    int ret = qcow2_read_l1(bs, sn->l1_table_offset, sn->l1_size, &sn_l1);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read the snapshot L1 table");
        goto out;
    }
    bool changed;
    /* Take the snapshot's references first, so nothing shared is freed in between. */
    ret = qcow2_update_l1_refcount(bs, sn_l1, sn->l1_size, 1, &changed);
    if (ret == 0 && sn->l1_size > s->l1_size) {
        ret = qcow2_grow_l1_table(bs, sn->l1_size, true);
    }
    uint64_t *old = NULL;
    if (ret == 0) {
        old = g_memdup2(s->l1_table, (size_t)s->l1_size * 8);
        memset(s->l1_table, 0, (size_t)s->l1_size * 8);
        memcpy(s->l1_table, sn_l1, (size_t)sn->l1_size * 8);
        ret = qcow2_cache_flush(bs, s->refcount_cache);
    }
    if (ret == 0) {
        ret = qcow2_cache_flush(bs, s->l2_cache);
    }
    if (ret == 0) {
        ret = qcow2_write_l1(bs, s->l1_table_offset, s->l1_table, s->l1_size);
    }
    if (ret == 0) {
        ret = qcow2_update_l1_refcount(bs, old, s->l1_size, -1, &changed);
    }
    if (ret == 0) {
        ret = qcow2_update_snapshot_refcount(bs, s->l1_table_offset, s->l1_size, 0);
    }
    if (ret == 0 && sn->disk_size != s->size) {
        uint64_t be = htobe64(sn->disk_size);
        ret = bdrv_pwrite_sync(bs->file, 24, 8, &be);
        if (ret == 0) {
            s->size = sn->disk_size;
        }
    }
    g_free(old);
    g_free(sn_l1);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not apply snapshot '%s'", id_or_name);
        goto out;
    }
    ok = true;
out:
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&s->io_lock);
    return ok;
}

bool qcow2_snapshot_delete(BlockDriverState *bs, const char *id, const char *name,
                           Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    pthread_rwlock_wrlock(&s->io_lock);
    pthread_mutex_lock(&s->lock);
    bool ok = false;
    int idx = find_snapshot(s, id, name);
    if (idx < 0 && id && !name) {
        idx = find_snapshot(s, NULL, id);
    }
    if (idx < 0) {
        error_setg(errp, "Can't find the snapshot");
        goto out;
    }
    uint64_t old_size = snapshot_table_size(s);
    Qcow2Snapshot sn = s->snapshots[idx];
    memmove(&s->snapshots[idx], &s->snapshots[idx + 1],
            (s->nb_snapshots - idx - 1) * sizeof(Qcow2Snapshot));
    s->nb_snapshots--;
    int ret = replace_snapshot_table(bs, old_size);
    if (ret == 0) {
        ret = qcow2_update_snapshot_refcount(bs, sn.l1_table_offset, sn.l1_size, -1);
    }
    if (ret == 0) {
        qcow2_free_clusters(bs, sn.l1_table_offset, MAX((uint64_t)sn.l1_size * 8, 1));
        ret = qcow2_update_snapshot_refcount(bs, s->l1_table_offset, s->l1_size, 0);
    }
    if (ret == 0) {
        ret = qcow2_cache_flush(bs, s->l2_cache);
    }
    if (ret == 0) {
        ret = qcow2_cache_flush(bs, s->refcount_cache);
    }
    g_free(sn.id_str);
    g_free(sn.name);
    g_free(sn.unknown_extra);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not delete the snapshot");
        goto out;
    }
    ok = true;
out:
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&s->io_lock);
    return ok;
}
