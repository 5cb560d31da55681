/* qcow2 metadata cache: L2 tables and refcount blocks kept in on-disk (big-endian) form,
 * written back lazily, least recently used first, after the caches they depend on. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "block/qcow2.h"

Qcow2Cache *qcow2_cache_create(BlockDriverState *bs, int num_tables)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2Cache *c = g_new0(Qcow2Cache, 1);
    c->size = num_tables;
    c->table_size = s->cluster_size;
    c->entries = g_new0(Qcow2CacheEntry, num_tables);
    void *mem;
    if (posix_memalign(&mem, 4096, (size_t)num_tables * s->cluster_size)) {
        g_free(c->entries);
        g_free(c);
        return NULL;
    }
    c->mem = mem;
    c->index = g_hash_table_new(g_int64_hash, g_int64_equal);
    return c;
}

void qcow2_cache_destroy(Qcow2Cache *c)
{
    if (!c) {
        return;
    }
    g_hash_table_unref(c->index);
    free(c->mem);
    g_free(c->entries);
    g_free(c);
}

static void *cache_table(BDRVQcow2State *s, Qcow2Cache *c, int i)
{
    return c->mem + (size_t)i * s->cluster_size;
}

static int cache_find(Qcow2Cache *c, uint64_t offset)
{
    gpointer v = g_hash_table_lookup(c->index, &offset);
    return v ? GPOINTER_TO_INT(v) - 1 : -1;
}

static int cache_entry_flush(BlockDriverState *bs, Qcow2Cache *c, int i)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2CacheEntry *e = &c->entries[i];
    if (!e->dirty || !e->offset) {
        return 0;
    }
    if (c->depends) {
        Qcow2Cache *dep = c->depends;
        c->depends = NULL;
        int ret = qcow2_cache_flush(bs, dep);
        if (ret < 0) {
            c->depends = dep;
            return ret;
        }
    }
    int ret = bdrv_pwrite(bs->file, e->offset, s->cluster_size, cache_table(s, c, i));
    if (ret < 0) {
        return ret;
    }
    e->dirty = false;
    return 0;
}

int qcow2_cache_write(BlockDriverState *bs, Qcow2Cache *c)
{
    int result = 0;
    for (int i = 0; i < c->size; i++) {
        int ret = cache_entry_flush(bs, c, i);
        if (ret < 0 && result == 0) {
            result = ret;
        }
    }
    return result;
}

int qcow2_cache_flush(BlockDriverState *bs, Qcow2Cache *c)
{
    int ret = qcow2_cache_write(bs, c);
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    return ret;
}

int qcow2_cache_set_dependency(BlockDriverState *bs, Qcow2Cache *c, Qcow2Cache *dep)
{
    int ret;
    if (dep->depends) {
        Qcow2Cache *d = dep->depends;
        dep->depends = NULL;
        if ((ret = qcow2_cache_flush(bs, d)) < 0) {
            return ret;
        }
    }
    if (c->depends && c->depends != dep) {
        Qcow2Cache *d = c->depends;
        c->depends = NULL;
        if ((ret = qcow2_cache_flush(bs, d)) < 0) {
            return ret;
        }
    }
    c->depends = dep;
    return 0;
}

static void cache_unmap(Qcow2Cache *c, int i)
{
    g_hash_table_remove(c->index, &c->entries[i].offset);
    c->entries[i].offset = 0;
    c->entries[i].dirty = false;
}

void qcow2_cache_discard(Qcow2Cache *c, uint64_t offset)
{
    int i = cache_find(c, offset);
    if (i >= 0 && c->entries[i].ref == 0) {
        cache_unmap(c, i);
    }
}

void qcow2_cache_empty(Qcow2Cache *c)
{
    for (int i = 0; i < c->size; i++) {
        if (c->entries[i].offset) {
            cache_unmap(c, i);
        }
    }
}

static int cache_do_get(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset, void **table,
                        bool read)
{
    BDRVQcow2State *s = bs->opaque;
    int i = cache_find(c, offset);
    if (i < 0) {
        /* Victim: an unused slot, else the least recently used unpinned table. */
        int victim = -1;
        uint64_t best = UINT64_MAX;
        for (int j = 0; j < c->size; j++) {
            if (c->entries[j].ref) {
                continue;
            }
            if (!c->entries[j].offset) {
                victim = j;
                break;
            }
            if (c->entries[j].lru < best) {
                best = c->entries[j].lru;
                victim = j;
            }
        }
        if (victim < 0) {
            return -ENOSPC;
        }
        int ret = cache_entry_flush(bs, c, victim);
        if (ret < 0) {
            return ret;
        }
        if (c->entries[victim].offset) {
            cache_unmap(c, victim);
        }
        void *t = cache_table(s, c, victim);
        if (read) {
            ret = bdrv_pread(bs->file, offset, s->cluster_size, t);
            if (ret < 0) {
                return ret;
            }
        } else {
            memset(t, 0, s->cluster_size);
        }
        c->entries[victim].offset = offset;
        g_hash_table_insert(c->index, &c->entries[victim].offset, GINT_TO_POINTER(victim + 1));
        i = victim;
    }
    c->entries[i].ref++;
    c->entries[i].lru = ++c->lru_counter;
    *table = cache_table(s, c, i);
    return 0;
}

int qcow2_cache_get(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset, void **table)
{
    return cache_do_get(bs, c, offset, table, true);
}

int qcow2_cache_get_empty(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset, void **table)
{
    int ret = cache_do_get(bs, c, offset, table, false);
    if (ret == 0) {
        BDRVQcow2State *s = bs->opaque;
        memset(*table, 0, s->cluster_size);
    }
    return ret;
}

static int cache_index_of(Qcow2Cache *c, void *table)
{
    return (int)(((uint8_t *)table - c->mem) / c->table_size);
}

void qcow2_cache_put(Qcow2Cache *c, void **table)
{
    c->entries[cache_index_of(c, *table)].ref--;
    *table = NULL;
}

void qcow2_cache_mark_dirty(Qcow2Cache *c, void *table)
{
    c->entries[cache_index_of(c, table)].dirty = true;
}
