/* BlockBackend: what devices see of a node graph. Requests run synchronously on a pool of
 * worker threads and complete on the main loop thread (big lock held) through one
 * completion queue; -drive and -blockdev build the graphs. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "block/block-backend.h"
#include "block/block_int.h"
#include "util/bql.h"
#include "util/option.h"

#define BLK_WORKERS 8

struct BlockBackend {
    char *name;
    bool is_drive;                /* created by -drive (device name is the id) */
    bool if_virtio;
    BlockDriverState *root;
    void *dev;
    bool writethrough;
    char *cache_mode;
    int in_flight;
    int pool_in_flight;           /* of in_flight: on the worker threads (not aio_rw) */
    BlockAcctStats stats;
    int64_t last_done_ns;
};

typedef enum BlkReqType {
    BLK_REQ_READ, BLK_REQ_WRITE, BLK_REQ_FLUSH, BLK_REQ_DISCARD, BLK_REQ_ZEROES,
} BlkReqType;

typedef struct BlkRequest {
    BlockBackend *blk;
    BlkReqType type;
    uint64_t offset, bytes;
    struct iovec *iov;
    int niov;
    bool may_unmap;
    BlockCompletionFunc *cb;
    void *opaque;
    int ret;
    bool on_pool;                 /* runs on a worker thread (else on the node's aio_rw) */
    int64_t start_ns;
} BlkRequest;

static GPtrArray *backends;
static GThreadPool *workers;
static GAsyncQueue *done_queue;
static gint completion_scheduled;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

BlockBackend *blk_by_name(const char *name)
{
    for (guint i = 0; backends && i < backends->len; i++) {
        BlockBackend *blk = g_ptr_array_index(backends, i);
        if (!strcmp(blk->name, name)) {
            return blk;
        }
    }
    return NULL;
}

const char *blk_name(const BlockBackend *blk)
{
    return blk->name;
}

void blk_foreach(void (*fn)(BlockBackend *blk, void *opaque), void *opaque)
{
    for (guint i = 0; backends && i < backends->len; i++) {
        fn(g_ptr_array_index(backends, i), opaque);
    }
}

bool blk_attach_dev(BlockBackend *blk, void *dev, Error **errp)
{
    if (blk->dev) {
        error_setg(errp, "Drive '%s' is already in use by another device", blk->name);
        return false;
    }
    blk->dev = dev;
    return true;
}

void blk_detach_dev(BlockBackend *blk, void *dev)
{
    if (blk->dev == dev) {
        blk->dev = NULL;
    }
}

void *blk_get_attached_dev(BlockBackend *blk)
{
    return blk->dev;
}

int64_t blk_getlength(BlockBackend *blk)
{
    return bdrv_getlength(blk->root);
}

bool blk_is_read_only(const BlockBackend *blk)
{
    return blk->root->read_only;
}

bool blk_discard_enabled(const BlockBackend *blk)
{
    return blk->root->open_flags & BDRV_O_UNMAP;
}

bool blk_enable_write_cache(const BlockBackend *blk)
{
    return !blk->writethrough;
}

/* ---- asynchronous requests ----------------------------------------------------------- */

static void blk_complete(BlkRequest *req)
{
    BlockBackend *blk = req->blk;
    BlockAcctStats *st = &blk->stats;
    int64_t now = now_ns(), t = now - req->start_ns;
    bool ok = req->ret >= 0;
    switch (req->type) {
    case BLK_REQ_READ:
        if (ok) {
            st->rd_bytes += req->bytes;
            st->rd_operations++;
            st->rd_total_time_ns += t;
        } else {
            st->failed_rd_operations++;
        }
        break;
    case BLK_REQ_WRITE:
    case BLK_REQ_ZEROES:
        if (ok) {
            st->wr_bytes += req->bytes;
            st->wr_operations++;
            st->wr_total_time_ns += t;
        } else {
            st->failed_wr_operations++;
        }
        break;
    case BLK_REQ_FLUSH:
        if (ok) {
            st->flush_operations++;
            st->flush_total_time_ns += t;
        } else {
            st->failed_flush_operations++;
        }
        break;
    case BLK_REQ_DISCARD:
        if (ok) {
            st->discard_operations++;
            st->discard_bytes += req->bytes;
        }
        break;
    }
    blk->last_done_ns = now;
    blk->in_flight--;
    blk->pool_in_flight -= req->on_pool;
    req->cb(req->opaque, req->ret < 0 ? req->ret : 0);
    g_free(req->iov);
    g_free(req);
}

/* Main loop: completes every finished request (big lock held by the dispatcher). */
static gboolean blk_completion_cb(gpointer data)
{
    g_atomic_int_set(&completion_scheduled, 0);
    BlkRequest *req;
    while ((req = g_async_queue_try_pop(done_queue))) {
        blk_complete(req);
    }
    return G_SOURCE_REMOVE;
}

static void blk_worker(gpointer data, gpointer user_data)
{
    BlkRequest *req = data;
    BlockDriverState *bs = req->blk->root;
    switch (req->type) {
    case BLK_REQ_READ:
        req->ret = bdrv_preadv(bs, req->offset, req->bytes, req->iov, req->niov, 0);
        break;
    case BLK_REQ_WRITE:
        req->ret = bdrv_pwritev(bs, req->offset, req->bytes, req->iov, req->niov,
                                req->blk->writethrough ? BDRV_REQ_FUA : 0);
        break;
    case BLK_REQ_ZEROES:
        req->ret = bdrv_pwrite_zeroes(bs, req->offset, req->bytes,
                                      req->may_unmap ? BDRV_REQ_MAY_UNMAP : 0);
        if (req->ret >= 0 && req->blk->writethrough) {
            req->ret = bdrv_flush(bs);
        }
        break;
    case BLK_REQ_FLUSH:
        req->ret = bdrv_flush(bs);
        break;
    case BLK_REQ_DISCARD:
        req->ret = bdrv_pdiscard(bs, req->offset, req->bytes);
        break;
    }
    g_async_queue_push(done_queue, req);
    if (g_atomic_int_compare_and_exchange(&completion_scheduled, 0, 1)) {
        g_idle_add_full(G_PRIORITY_DEFAULT, blk_completion_cb, NULL, NULL);
    }
}

/* Completion of a request the root node took asynchronously (main loop thread). */
static void blk_aio_done(void *opaque, int ret)
{
    BlkRequest *req = opaque;
    req->ret = ret;
    blk_complete(req);
}

static void blk_submit(BlockBackend *blk, BlkReqType type, uint64_t offset, uint64_t bytes,
                       const struct iovec *iov, int niov, bool may_unmap,
                       BlockCompletionFunc *cb, void *opaque)
{
    BlkRequest *req = g_new0(BlkRequest, 1);
    req->blk = blk;
    req->type = type;
    req->offset = offset;
    req->bytes = bytes;
    if (niov) {
        req->iov = g_memdup2(iov, sizeof(*iov) * niov);
        req->niov = niov;
    }
    req->may_unmap = may_unmap;
    req->cb = cb;
    req->opaque = opaque;
    req->start_ns = now_ns();
    blk->in_flight++;
    if ((type == BLK_REQ_READ || type == BLK_REQ_WRITE) &&
        bdrv_aio_rw(blk->root, type == BLK_REQ_WRITE, offset, bytes, req->iov, niov,
                    type == BLK_REQ_WRITE && blk->writethrough ? BDRV_REQ_FUA : 0,
                    blk_aio_done, req)) {
        return;
    }
    req->on_pool = true;
    blk->pool_in_flight++;
    g_thread_pool_push(workers, req, NULL);
}

void blk_aio_preadv(BlockBackend *blk, uint64_t offset, const struct iovec *iov, int niov,
                    BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_REQ_READ, offset, iov_size(iov, niov), iov, niov, false, cb,
               opaque);
}

void blk_aio_pwritev(BlockBackend *blk, uint64_t offset, const struct iovec *iov, int niov,
                     BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_REQ_WRITE, offset, iov_size(iov, niov), iov, niov, false, cb,
               opaque);
}

void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_REQ_FLUSH, 0, 0, NULL, 0, false, cb, opaque);
}

void blk_aio_pdiscard(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                      BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_REQ_DISCARD, offset, bytes, NULL, 0, false, cb, opaque);
}

void blk_aio_pwrite_zeroes(BlockBackend *blk, uint64_t offset, uint64_t bytes, bool may_unmap,
                           BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_REQ_ZEROES, offset, bytes, NULL, 0, may_unmap, cb, opaque);
}

void blk_drain(BlockBackend *blk)
{
    while (blk->in_flight > 0) {
        if (!blk->pool_in_flight) {
            bdrv_aio_poll(blk->root, true);
            continue;
        }
        /* Completions of other backends found on the way are delivered too. */
        BlkRequest *req = g_async_queue_timeout_pop(done_queue, 1000);
        if (req) {
            blk_complete(req);
        }
        bdrv_aio_poll(blk->root, false);
    }
}

void blk_drain_all(void)
{
    for (guint i = 0; backends && i < backends->len; i++) {
        blk_drain(g_ptr_array_index(backends, i));
    }
}

void blk_flush_all(void)
{
    blk_drain_all();
    for (guint i = 0; backends && i < backends->len; i++) {
        BlockBackend *blk = g_ptr_array_index(backends, i);
        int ret = bdrv_flush(blk->root);
        if (ret < 0) {
            error_report("Failed to flush the drive '%s': %s", blk->name, strerror(-ret));
        }
    }
}

const BlockAcctStats *blk_get_stats(const BlockBackend *blk)
{
    BlockBackend *b = (BlockBackend *)blk;
    b->stats.idle_time_ns = b->last_done_ns ? now_ns() - b->last_done_ns : 0;
    return &b->stats;
}

void blk_get_info(BlockBackend *blk, BlockInfo *info)
{
    BlockDriverState *bs = blk->root;
    memset(info, 0, sizeof(*info));
    info->device = blk->is_drive ? blk->name : "";
    info->node_name = bs->node_name;
    info->filename = bs->filename;
    info->format = bdrv_get_format_name(bs);
    info->backing_file = bs->backing_file;
    info->virtual_size = bdrv_getlength(bs);
    info->read_only = bs->read_only;
    info->encrypted = false;
    info->cache_mode = blk->cache_mode;
}

/* ---- -drive / -blockdev -------------------------------------------------------------- */

static void blk_init_globals(void)
{
    if (!backends) {
        backends = g_ptr_array_new();
        done_queue = g_async_queue_new();
        workers = g_thread_pool_new(blk_worker, NULL, BLK_WORKERS, FALSE, NULL);
    }
}

static const char *cache_mode_name(int flags, bool writethrough)
{
    if (flags & BDRV_O_NO_FLUSH) {
        return "unsafe";
    }
    if (flags & BDRV_O_NOCACHE) {
        return writethrough ? "directsync" : "none";
    }
    return writethrough ? "writethrough" : "writeback";
}

/* flags: the BDRV_O_* the user asked for (the cache mode reported by query-block). */
static BlockBackend *blk_new(const char *name, BlockDriverState *bs, int flags,
                             bool writethrough)
{
    blk_init_globals();
    BlockBackend *blk = g_new0(BlockBackend, 1);
    blk->name = g_strdup(name);
    blk->root = bs;
    blk->writethrough = writethrough;
    blk->cache_mode = g_strdup(cache_mode_name(flags, writethrough));
    g_ptr_array_add(backends, blk);
    return blk;
}

static bool take_bool(GHashTable *t, const char *key, bool def, bool *out, Error **errp)
{
    const char *v = g_hash_table_lookup(t, key);
    *out = def;
    if (v && !parse_bool(v, out, errp)) {
        error_prepend(errp, "%s: ", key);
        return false;
    }
    g_hash_table_remove(t, key);
    return true;
}

/* Moves key from t to dst under a new name (when present). */
static void move_key(GHashTable *t, const char *key, GHashTable *dst, const char *newkey)
{
    gpointer k, v;
    if (g_hash_table_steal_extended(t, key, &k, &v)) {
        g_free(k);
        g_hash_table_insert(dst, g_strdup(newkey), v);
    }
}

static void collect_opt(const char *key, const char *value, void *opaque)
{
    g_hash_table_insert(opaque, g_strdup(key), g_strdup(value));
}

/*
 * snapshot=on: puts a temporary qcow2 overlay (created in $TMPDIR and unlinked at once) over
 * base, which stays read-only; writes land in the overlay and vanish with the process.
 * Takes base's reference; returns the overlay, or NULL (base released) with *errp.
 */
static BlockDriverState *blk_temp_snapshot(BlockDriverState *base, int flags, Error **errp)
{
    int64_t len = bdrv_getlength(base);
    if (len < 0) {
        error_setg_errno(errp, (int)-len, "Could not get the size of '%s'", base->filename);
        bdrv_unref(base);
        return NULL;
    }
    GError *gerr = NULL;
    char *tmp = NULL;
    int fd = g_file_open_tmp("vl.XXXXXX", &tmp, &gerr);
    if (fd < 0) {
        error_setg(errp, "Could not create the temporary overlay for snapshot=on: %s",
                   gerr->message);
        g_error_free(gerr);
        bdrv_unref(base);
        return NULL;
    }
    close(fd);
    BlockCreateOpts copts = {
        .set = BLOCK_OPT_SIZE | BLOCK_OPT_BACKING_FILE | BLOCK_OPT_BACKING_FMT,
        .size = ((uint64_t)len + BDRV_SECTOR_SIZE - 1) & ~(uint64_t)(BDRV_SECTOR_SIZE - 1),
        .backing_file = base->filename,
        .backing_fmt = (char *)bdrv_get_format_name(base),
    };
    BlockDriverState *bs = NULL;
    if (bdrv_create("qcow2", tmp, &copts, errp)) {
        GHashTable *o = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_insert(o, g_strdup("driver"), g_strdup("qcow2"));
        /* As QEMU: the overlay never needs to survive a crash, so it is never flushed. */
        int oflags = (flags & BDRV_O_RDWR) | BDRV_O_NO_FLUSH | BDRV_O_NO_BACKING;
        bs = bdrv_open(tmp, o, oflags, errp);
        g_hash_table_unref(o);
    }
    unlink(tmp);
    g_free(tmp);
    if (!bs) {
        error_prepend(errp, "Could not create the temporary overlay for snapshot=on: ");
        bdrv_unref(base);
        return NULL;
    }
    bs->backing = base;
    return bs;
}

static unsigned drive_counter_virtio, drive_counter_none;

BlockBackend *drive_new(const char *optstr, Error **errp)
{
    blk_init_globals();
    Opts *o = opts_parse(optstr, "file", errp);
    if (!o) {
        return NULL;
    }
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTable *bo = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    opts_foreach(o, collect_opt, t);
    opts_mark_all_used(o);
    opts_free(o);

    BlockBackend *blk = NULL;
    char *id = NULL, *filename = NULL;
    bool ro, ro2, snapshot, wt = false;
    int flags = 0;
    const char *iface = g_hash_table_lookup(t, "if");
    bool virtio = !iface || !strcmp(iface, "virtio");
    if (iface && !virtio && strcmp(iface, "none")) {
        error_setg(errp, "Unsupported interface if=%s (use if=virtio or if=none)", iface);
        goto out;
    }
    g_hash_table_remove(t, "if");
    const char *media = g_hash_table_lookup(t, "media");
    if (media && strcmp(media, "disk")) {
        error_setg(errp, "media=%s is not supported (only media=disk)", media);
        goto out;
    }
    g_hash_table_remove(t, "media");
    const char *cache = g_hash_table_lookup(t, "cache");
    if (cache && !bdrv_parse_cache_mode(cache, &flags, &wt, errp)) {
        goto out;
    }
    g_hash_table_remove(t, "cache");
    if (!take_bool(t, "readonly", false, &ro, errp) ||
        !take_bool(t, "read-only", ro, &ro2, errp) ||
        !take_bool(t, "snapshot", false, &snapshot, errp)) {
        goto out;
    }
    flags |= ro2 ? 0 : BDRV_O_RDWR;
    id = g_strdup(g_hash_table_lookup(t, "id"));
    g_hash_table_remove(t, "id");
    filename = g_strdup(g_hash_table_lookup(t, "file"));
    g_hash_table_remove(t, "file");
    move_key(t, "format", bo, "driver");
    move_key(t, "aio", bo, "file.aio");
    move_key(t, "discard", bo, "discard");
    move_key(t, "node-name", bo, "node-name");
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (!strchr(k, '.')) {
            error_setg(errp, "Invalid parameter '%s'", (const char *)k);
            goto out;
        }
        g_hash_table_insert(bo, g_strdup(k), g_strdup(v));
    }
    if (!filename && !g_hash_table_contains(bo, "file.filename")) {
        error_setg(errp, "-drive needs file=<image>");
        goto out;
    }
    if (!id) {
        id = virtio ? g_strdup_printf("virtio%u", drive_counter_virtio++)
                    : g_strdup_printf("none%u", drive_counter_none++);
    }
    if (blk_by_name(id)) {
        error_setg(errp, "Duplicate ID '%s' for drive", id);
        goto out;
    }
    Error *local = NULL;
    BlockDriverState *bs = bdrv_open(filename, bo, snapshot ? flags & ~BDRV_O_RDWR : flags,
                                     &local);
    if (!bs) {
        error_propagate(errp, local);
        error_prepend(errp, "Could not open '%s': ", filename ? filename : "");
        goto out;
    }
    if (snapshot && !(bs = blk_temp_snapshot(bs, flags, errp))) {
        goto out;
    }
    blk = blk_new(id, bs, flags, wt);
    blk->is_drive = true;
    blk->if_virtio = virtio;
out:
    g_hash_table_unref(t);
    g_hash_table_unref(bo);
    g_free(id);
    g_free(filename);
    return blk;
}

BlockBackend *blockdev_new(const char *optstr, Error **errp)
{
    blk_init_globals();
    GHashTable *t = bdrv_parse_options(optstr, errp);
    if (!t) {
        return NULL;
    }
    BlockBackend *blk = NULL;
    const char *node = g_hash_table_lookup(t, "node-name");
    bool ro;
    if (!node) {
        error_setg(errp, "-blockdev needs node-name=<name>");
        goto out;
    }
    if (!g_hash_table_lookup(t, "driver")) {
        error_setg(errp, "Parameter 'driver' is missing");
        goto out;
    }
    if (blk_by_name(node)) {
        error_setg(errp, "Duplicate nodes with node-name='%s'", node);
        goto out;
    }
    char *name = g_strdup(node);
    /* QEMU's -blockdev defaults: writable unless read-only=on, auto-read-only ignored. */
    if (!take_bool(t, "auto-read-only", false, &ro, errp) ||
        !take_bool(t, "read-only", false, &ro, errp)) {
        g_free(name);
        goto out;
    }
    BlockDriverState *bs = bdrv_open(NULL, t, ro ? 0 : BDRV_O_RDWR, errp);
    if (bs) {
        blk = blk_new(name, bs, bs->open_flags, false);
    }
    g_free(name);
out:
    g_hash_table_unref(t);
    return blk;
}

GPtrArray *drive_list_if_virtio(void)
{
    GPtrArray *list = g_ptr_array_new();
    for (guint i = 0; backends && i < backends->len; i++) {
        BlockBackend *blk = g_ptr_array_index(backends, i);
        if (blk->if_virtio && !blk->dev) {
            g_ptr_array_add(list, blk);
        }
    }
    return list;
}
