/* Block layer core: driver registry, node open with format probing, option tables,
 * synchronous I/O helpers, block status through backing chains, create options. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "block/block_int.h"
#include "util/option.h"

static GPtrArray *block_drivers;
static unsigned node_counter;

void bdrv_register(const BlockDriver *drv)
{
    if (!block_drivers) {
        block_drivers = g_ptr_array_new();
    }
    g_ptr_array_add(block_drivers, (gpointer)drv);
}

const BlockDriver *bdrv_find_format(const char *format_name)
{
    for (guint i = 0; block_drivers && i < block_drivers->len; i++) {
        const BlockDriver *drv = g_ptr_array_index(block_drivers, i);
        if (!strcmp(drv->format_name, format_name)) {
            return drv;
        }
    }
    return NULL;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void bdrv_iterate_format(void (*fn)(const char *name, void *opaque), void *opaque)
{
    GPtrArray *names = g_ptr_array_new();
    for (guint i = 0; block_drivers && i < block_drivers->len; i++) {
        const BlockDriver *drv = g_ptr_array_index(block_drivers, i);
        g_ptr_array_add(names, (gpointer)drv->format_name);
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        fn(g_ptr_array_index(names, i), opaque);
    }
    g_ptr_array_free(names, true);
}

const char *bdrv_prealloc_name(BlockPrealloc mode)
{
    static const char *const names[] = { "off", "metadata", "falloc", "full" };
    return names[mode];
}

bool bdrv_prealloc_parse(const char *str, BlockPrealloc *out, Error **errp)
{
    for (int i = PREALLOC_MODE_OFF; i <= PREALLOC_MODE_FULL; i++) {
        if (!strcmp(str, bdrv_prealloc_name(i))) {
            *out = i;
            return true;
        }
    }
    error_setg(errp, "Parameter 'preallocation' does not accept value '%s'", str);
    return false;
}

/* ---- option tables ------------------------------------------------------------------- */

static GHashTable *opts_table_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void opts_table_put(GHashTable *t, const char *key, const char *value)
{
    g_hash_table_insert(t, g_strdup(key), g_strdup(value));
}

/* Moves the keys "prefix.<rest>" of src into a new table as "<rest>". */
static GHashTable *opts_extract_prefix(GHashTable *src, const char *prefix)
{
    GHashTable *dst = opts_table_new();
    size_t len = strlen(prefix);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, src);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *key = k;
        if (!strncmp(key, prefix, len) && key[len] == '.') {
            opts_table_put(dst, key + len + 1, v);
            g_hash_table_iter_remove(&it);
        }
    }
    return dst;
}

/* Takes key out of t; returns the value (g_free) or NULL. */
static char *opts_take(GHashTable *t, const char *key)
{
    gpointer orig, value;
    if (!g_hash_table_steal_extended(t, key, &orig, &value)) {
        return NULL;
    }
    g_free(orig);
    return value;
}

/* A tiny JSON reader for "json:{...}" filenames: objects are flattened to dotted keys. */
typedef struct JsonReader {
    const char *p;
    GHashTable *out;
    Error **errp;
} JsonReader;

static void json_skip_ws(JsonReader *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r') {
        r->p++;
    }
}

static char *json_string(JsonReader *r)
{
    GString *s = g_string_new(NULL);
    if (*r->p != '"') {
        goto fail;
    }
    r->p++;
    while (*r->p && *r->p != '"') {
        if (*r->p == '\\') {
            r->p++;
            switch (*r->p) {
            case 'n': g_string_append_c(s, '\n'); break;
            case 't': g_string_append_c(s, '\t'); break;
            case '"': case '\\': case '/': g_string_append_c(s, *r->p); break;
            default: goto fail;
            }
            r->p++;
        } else {
            g_string_append_c(s, *r->p++);
        }
    }
    if (*r->p != '"') {
        goto fail;
    }
    r->p++;
    return g_string_free(s, false);
fail:
    g_string_free(s, true);
    return NULL;
}

static bool json_object(JsonReader *r, const char *prefix)
{
    json_skip_ws(r);
    if (*r->p++ != '{') {
        return false;
    }
    json_skip_ws(r);
    if (*r->p == '}') {
        r->p++;
        return true;
    }
    for (;;) {
        json_skip_ws(r);
        char *name = json_string(r);
        if (!name) {
            return false;
        }
        char *key = prefix ? g_strdup_printf("%s.%s", prefix, name) : g_strdup(name);
        g_free(name);
        json_skip_ws(r);
        bool ok = *r->p++ == ':';
        json_skip_ws(r);
        if (ok && *r->p == '{') {
            ok = json_object(r, key);
        } else if (ok && *r->p == '"') {
            char *val = json_string(r);
            ok = val != NULL;
            if (ok) {
                g_hash_table_insert(r->out, g_strdup(key), val);
            }
        } else if (ok) {
            const char *start = r->p;
            while (*r->p && !strchr(",} \t\r\n", *r->p)) {
                r->p++;
            }
            char *val = g_strndup(start, r->p - start);
            ok = r->p > start;
            if (!strcmp(val, "null")) {
                g_free(val);
                val = g_strdup("");
            }
            g_hash_table_insert(r->out, g_strdup(key), val);
        }
        g_free(key);
        if (!ok) {
            return false;
        }
        json_skip_ws(r);
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p == '}') {
            r->p++;
            return true;
        }
        return false;
    }
}

static void opts_collect(const char *key, const char *value, void *opaque)
{
    opts_table_put(opaque, key, value);
}

GHashTable *bdrv_parse_options(const char *str, Error **errp)
{
    GHashTable *t = opts_table_new();
    if (g_str_has_prefix(str, "json:")) {
        JsonReader r = { .p = str + 5, .out = t, .errp = errp };
        if (!json_object(&r, NULL) || (json_skip_ws(&r), *r.p)) {
            error_setg(errp, "Could not parse the JSON options in '%s'", str);
            g_hash_table_unref(t);
            return NULL;
        }
        return t;
    }
    Opts *opts = opts_parse(str, NULL, errp);
    if (!opts) {
        g_hash_table_unref(t);
        return NULL;
    }
    opts_foreach(opts, opts_collect, t);
    opts_mark_all_used(opts);
    opts_free(opts);
    return t;
}

bool bdrv_parse_cache_mode(const char *mode, int *flags, bool *writethrough, Error **errp)
{
    *flags &= ~(BDRV_O_NOCACHE | BDRV_O_NO_FLUSH);
    *writethrough = false;
    if (!strcmp(mode, "none") || !strcmp(mode, "off")) {
        *flags |= BDRV_O_NOCACHE;
    } else if (!strcmp(mode, "directsync")) {
        *flags |= BDRV_O_NOCACHE;
        *writethrough = true;
    } else if (!strcmp(mode, "writethrough")) {
        *writethrough = true;
    } else if (!strcmp(mode, "unsafe")) {
        *flags |= BDRV_O_NO_FLUSH;
    } else if (strcmp(mode, "writeback")) {
        error_setg(errp, "Invalid cache mode '%s'", mode);
        return false;
    }
    return true;
}

static bool opts_take_bool(GHashTable *t, const char *key, bool *out, Error **errp)
{
    char *v = opts_take(t, key);
    if (!v) {
        return true;
    }
    bool ok = parse_bool(v, out, errp);
    if (!ok) {
        error_prepend(errp, "%s: ", key);
    }
    g_free(v);
    return ok;
}

/* ---- open / close -------------------------------------------------------------------- */

static const BlockDriver *bdrv_probe_format(BlockDriverState *file, Error **errp)
{
    uint8_t buf[2048];
    int64_t len = bdrv_getlength(file);
    int n = len < 0 ? 0 : (int)MIN((int64_t)sizeof(buf), len);
    memset(buf, 0, sizeof(buf));
    if (n > 0) {
        int ret = bdrv_pread(file, 0, n, buf);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not read image for determining its format");
            return NULL;
        }
    }
    const BlockDriver *best = NULL;
    int best_score = 0;
    for (guint i = 0; block_drivers && i < block_drivers->len; i++) {
        const BlockDriver *drv = g_ptr_array_index(block_drivers, i);
        if (drv->probe) {
            int score = drv->probe(buf, n, file->filename);
            if (score > best_score) {
                best_score = score;
                best = drv;
            }
        }
    }
    if (!best) {
        error_setg(errp, "Could not determine image format");
    }
    return best;
}

static BlockDriverState *bdrv_new_node(const BlockDriver *drv, const char *node_name)
{
    BlockDriverState *bs = g_new0(BlockDriverState, 1);
    bs->drv = drv;
    bs->opaque = g_malloc0(drv->instance_size ? drv->instance_size : 1);
    bs->node_name = node_name ? g_strdup(node_name) : g_strdup_printf("#block%03u", node_counter++);
    bs->request_alignment = 1;
    bs->refcnt = 1;
    return bs;
}

static void bdrv_free_node(BlockDriverState *bs)
{
    g_free(bs->opaque);
    g_free(bs->filename);
    g_free(bs->node_name);
    g_free(bs->backing_file);
    g_free(bs->backing_format);
    g_free(bs);
}

char *bdrv_get_full_backing_filename(BlockDriverState *bs)
{
    if (!bs->backing_file) {
        return NULL;
    }
    if (g_path_is_absolute(bs->backing_file) || !bs->filename ||
        strchr(bs->backing_file, ':')) {
        return g_strdup(bs->backing_file);
    }
    /* Relative to the image's directory, spelled as QEMU does ("b.qcow2", "dir/b.qcow2"). */
    const char *slash = strrchr(bs->filename, '/');
    if (!slash) {
        return g_strdup(bs->backing_file);
    }
    return g_strdup_printf("%.*s%s", (int)(slash - bs->filename + 1), bs->filename,
                           bs->backing_file);
}

static bool bdrv_open_backing(BlockDriverState *bs, GHashTable *opts, int flags, Error **errp)
{
    char *backing = opts_take(opts, "backing");
    GHashTable *bopts = opts_extract_prefix(opts, "backing");
    bool ok = true;
    if (backing && (!*backing || !strcmp(backing, "null"))) {
        goto out;
    }
    if (backing) {
        error_setg(errp, "backing: referring to another node by name is not supported; "
                   "use backing.file.filename");
        ok = false;
        goto out;
    }
    if (!bs->backing_file && !g_hash_table_size(bopts)) {
        goto out;
    }
    char *full = NULL;
    if (!g_hash_table_contains(bopts, "file.filename") &&
        !g_hash_table_contains(bopts, "filename")) {
        full = bdrv_get_full_backing_filename(bs);
    }
    if (bs->backing_format && !g_hash_table_contains(bopts, "driver")) {
        opts_table_put(bopts, "driver", bs->backing_format);
    }
    int bflags = (flags & ~BDRV_O_RDWR) & ~BDRV_O_CHECK;
    Error *local = NULL;
    bs->backing = bdrv_open(full, bopts, bflags, &local);
    if (!bs->backing) {
        error_propagate(errp, local);
        error_prepend(errp, "Could not open backing file: ");
        ok = false;
    }
    g_free(full);
out:
    g_free(backing);
    g_hash_table_unref(bopts);
    return ok;
}

BlockDriverState *bdrv_open(const char *filename, GHashTable *options, int flags,
                            Error **errp)
{
    GHashTable *opts;
    if (filename && g_str_has_prefix(filename, "json:")) {
        opts = bdrv_parse_options(filename, errp);
        if (!opts) {
            return NULL;
        }
        filename = NULL;
    } else {
        opts = opts_table_new();
    }
    if (options) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, options);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            opts_table_put(opts, k, v);
        }
    }

    BlockDriverState *bs = NULL, *file = NULL;
    char *driver = opts_take(opts, "driver");
    char *node_name = opts_take(opts, "node-name");
    char *fname = opts_take(opts, "filename");
    GHashTable *fopts = NULL;
    bool ro = !(flags & BDRV_O_RDWR), direct = flags & BDRV_O_NOCACHE;
    bool no_flush = flags & BDRV_O_NO_FLUSH;
    char *discard = opts_take(opts, "discard");
    if (!opts_take_bool(opts, "read-only", &ro, errp) ||
        !opts_take_bool(opts, "cache.direct", &direct, errp) ||
        !opts_take_bool(opts, "cache.no-flush", &no_flush, errp)) {
        goto fail;
    }
    flags = (flags & ~(BDRV_O_RDWR | BDRV_O_NOCACHE | BDRV_O_NO_FLUSH)) |
            (ro ? 0 : BDRV_O_RDWR) | (direct ? BDRV_O_NOCACHE : 0) |
            (no_flush ? BDRV_O_NO_FLUSH : 0);
    if (discard) {
        if (!strcmp(discard, "unmap") || !strcmp(discard, "on")) {
            flags |= BDRV_O_UNMAP;
        } else if (!strcmp(discard, "ignore") || !strcmp(discard, "off")) {
            flags &= ~BDRV_O_UNMAP;
        } else {
            error_setg(errp, "Invalid discard option '%s'", discard);
            goto fail;
        }
    }
    if (!filename) {
        filename = fname;
    }

    const BlockDriver *drv = NULL;
    if (driver) {
        drv = bdrv_find_format(driver);
        if (!drv) {
            error_setg(errp, "Unknown driver '%s'", driver);
            goto fail;
        }
    }
    if (drv && drv->is_protocol) {
        if (!filename) {
            error_setg(errp, "The '%s' block driver requires a file name", drv->format_name);
            goto fail;
        }
        bs = bdrv_new_node(drv, node_name);
        bs->filename = g_strdup(filename);
    } else {
        fopts = opts_extract_prefix(opts, "file");
        if (filename && !g_hash_table_contains(fopts, "filename")) {
            opts_table_put(fopts, "filename", filename);
        }
        if (!g_hash_table_contains(fopts, "driver")) {
            opts_table_put(fopts, "driver", "file");
        }
        if (!g_hash_table_contains(fopts, "filename")) {
            error_setg(errp, "A block device must be specified for \"file\"");
            goto fail;
        }
        int fflags = flags & (BDRV_O_RDWR | BDRV_O_NOCACHE | BDRV_O_NO_FLUSH | BDRV_O_UNMAP);
        file = bdrv_open(NULL, fopts, fflags, errp);
        if (!file) {
            goto fail;
        }
        if (!drv) {
            drv = bdrv_probe_format(file, errp);
            if (!drv) {
                goto fail;
            }
            if (!strcmp(drv->format_name, "raw") && !ro) {
                warn_report("Image format was not specified for '%s' and probing guessed raw; "
                            "specify the 'raw' format explicitly", file->filename);
            }
        }
        bs = bdrv_new_node(drv, node_name);
        bs->filename = g_strdup(file->filename);
        bs->file = file;
        bs->request_alignment = file->request_alignment;
        file = NULL;
    }
    bs->open_flags = flags;
    bs->read_only = ro;
    if (drv->is_protocol) {
        opts_table_put(opts, "filename", bs->filename);
    }
    if (!drv->open(bs, opts, flags, errp)) {
        goto fail_opened;
    }
    if (drv->supports_backing && !(flags & BDRV_O_NO_BACKING)) {
        if (!bdrv_open_backing(bs, opts, flags, errp)) {
            drv->close(bs);
            goto fail_opened;
        }
    } else {
        g_free(opts_take(opts, "backing"));
        g_hash_table_unref(opts_extract_prefix(opts, "backing"));
    }
    if (g_hash_table_size(opts)) {
        GList *keys = g_hash_table_get_keys(opts);
        error_setg(errp, "Block format '%s' does not support the option '%s'",
                   drv->format_name, (const char *)keys->data);
        g_list_free(keys);
        bdrv_unref(bs);
        bs = NULL;
    }
    goto out;

fail_opened:
    if (bs->file) {
        bdrv_unref(bs->file);
    }
    bdrv_free_node(bs);
fail:
    bs = NULL;
    if (file) {
        bdrv_unref(file);
    }
out:
    if (fopts) {
        g_hash_table_unref(fopts);
    }
    g_hash_table_unref(opts);
    g_free(driver);
    g_free(node_name);
    g_free(fname);
    g_free(discard);
    return bs;
}

void bdrv_ref(BlockDriverState *bs)
{
    bs->refcnt++;
}

void bdrv_unref(BlockDriverState *bs)
{
    if (!bs || --bs->refcnt > 0) {
        return;
    }
    bs->drv->close(bs);
    if (bs->backing) {
        bdrv_unref(bs->backing);
    }
    if (bs->file) {
        bdrv_unref(bs->file);
    }
    bdrv_free_node(bs);
}

bool bdrv_create(const char *fmt, const char *filename, const BlockCreateOpts *opts,
                 Error **errp)
{
    const BlockDriver *drv = bdrv_find_format(fmt);
    if (!drv) {
        error_setg(errp, "Unknown file format '%s'", fmt);
        return false;
    }
    if (!drv->create) {
        error_setg(errp, "Format driver '%s' does not support image creation", fmt);
        return false;
    }
    BlockCreateOpts o = *opts;
    if (!(o.set & BLOCK_OPT_SIZE) && (o.set & BLOCK_OPT_BACKING_FILE) && o.backing_file) {
        GHashTable *bopts = opts_table_new();
        if (o.backing_fmt) {
            opts_table_put(bopts, "driver", o.backing_fmt);
        }
        char *full = g_path_is_absolute(o.backing_file) ? g_strdup(o.backing_file) : NULL;
        if (!full) {
            char *dir = g_path_get_dirname(filename);
            full = g_build_filename(dir, o.backing_file, NULL);
            g_free(dir);
        }
        BlockDriverState *bbs = bdrv_open(full, bopts, 0, errp);
        g_hash_table_unref(bopts);
        g_free(full);
        if (!bbs) {
            error_prepend(errp, "Could not open backing image: ");
            return false;
        }
        int64_t len = bdrv_getlength(bbs);
        bdrv_unref(bbs);
        if (len < 0) {
            error_setg_errno(errp, (int)-len, "Could not get the backing image's size");
            return false;
        }
        o.size = len;
        o.set |= BLOCK_OPT_SIZE;
    }
    if (!(o.set & BLOCK_OPT_SIZE)) {
        error_setg(errp, "Image creation needs a size parameter");
        return false;
    }
    return drv->create(filename, &o, errp);
}

/* ---- create options ------------------------------------------------------------------ */

static const struct {
    const char *key;
    uint32_t bit;
    const char *help;
} create_opt_help[] = {
    { "size", BLOCK_OPT_SIZE, "size (Virtual disk size)" },
    { "cluster_size", BLOCK_OPT_CLUSTER_SIZE, "size (qcow2 cluster size)" },
    { "backing_file", BLOCK_OPT_BACKING_FILE, "str (File name of a base image)" },
    { "backing_fmt", BLOCK_OPT_BACKING_FMT, "str (Image format of the base image)" },
    { "compat", BLOCK_OPT_COMPAT, "str (Compatibility level (v2 [0.10] or v3 [1.1]))" },
    { "preallocation", BLOCK_OPT_PREALLOC,
      "str (Preallocation mode (allowed values: off, metadata, falloc, full))" },
    { "lazy_refcounts", BLOCK_OPT_LAZY_REFCOUNTS, "bool (on/off) (Postpone refcount updates)" },
    { "compression_type", BLOCK_OPT_COMPRESSION,
      "str (Compression method used for image cluster compression)" },
    { "refcount_bits", BLOCK_OPT_REFCOUNT_BITS, "num (Width of a reference count entry in bits)" },
};

static bool driver_accepts(const BlockDriver *drv, const char *key)
{
    for (int i = 0; drv->create_opts && drv->create_opts[i]; i++) {
        if (!strcmp(drv->create_opts[i], key)) {
            return true;
        }
    }
    return false;
}

bool bdrv_create_opts_set(const char *fmt, BlockCreateOpts *opts, const char *key,
                          const char *value, Error **errp)
{
    const BlockDriver *drv = bdrv_find_format(fmt);
    if (!drv) {
        error_setg(errp, "Unknown file format '%s'", fmt);
        return false;
    }
    if (!driver_accepts(drv, key)) {
        error_setg(errp, "Invalid parameter '%s'", key);
        return false;
    }
    uint64_t n;
    bool b;
    if (!strcmp(key, "size") || !strcmp(key, "cluster_size")) {
        if (!parse_size(value, 0, &n, NULL)) {
            error_setg(errp, "Parameter '%s' expects a size (e.g. 64k, 1M)", key);
            return false;
        }
        if (key[0] == 's') {
            opts->size = n;
            opts->set |= BLOCK_OPT_SIZE;
        } else {
            if (n > UINT32_MAX) {
                error_setg(errp, "Cluster size must be a power of two between 512 and 2048k");
                return false;
            }
            opts->cluster_size = n;
            opts->set |= BLOCK_OPT_CLUSTER_SIZE;
        }
    } else if (!strcmp(key, "backing_file")) {
        g_free(opts->backing_file);
        opts->backing_file = g_strdup(value);
        opts->set |= BLOCK_OPT_BACKING_FILE;
    } else if (!strcmp(key, "backing_fmt")) {
        g_free(opts->backing_fmt);
        opts->backing_fmt = g_strdup(value);
        opts->set |= BLOCK_OPT_BACKING_FMT;
    } else if (!strcmp(key, "compat")) {
        if (!strcmp(value, "0.10") || !strcmp(value, "v2")) {
            opts->compat = 2;
        } else if (!strcmp(value, "1.1") || !strcmp(value, "v3")) {
            opts->compat = 3;
        } else {
            error_setg(errp, "Invalid compatibility level: '%s'", value);
            return false;
        }
        opts->set |= BLOCK_OPT_COMPAT;
    } else if (!strcmp(key, "preallocation")) {
        if (!bdrv_prealloc_parse(value, &opts->prealloc, errp)) {
            return false;
        }
        opts->set |= BLOCK_OPT_PREALLOC;
    } else if (!strcmp(key, "lazy_refcounts")) {
        if (!parse_bool(value, &b, errp)) {
            return false;
        }
        opts->lazy_refcounts = b;
        opts->set |= BLOCK_OPT_LAZY_REFCOUNTS;
    } else if (!strcmp(key, "compression_type")) {
        if (!strcmp(value, "zlib")) {
            opts->compression_type = BLOCK_COMPRESSION_ZLIB;
        } else if (!strcmp(value, "zstd")) {
            if (!CONFIG_ZSTD) {
                error_setg(errp, "Compression type 'zstd' is not supported (built without "
                           "libzstd)");
                return false;
            }
            opts->compression_type = BLOCK_COMPRESSION_ZSTD;
        } else {
            error_setg(errp, "Parameter 'compression_type' does not accept value '%s'", value);
            return false;
        }
        opts->set |= BLOCK_OPT_COMPRESSION;
    } else if (!strcmp(key, "refcount_bits")) {
        if (!parse_uint64(value, &n, NULL) || n == 0 || n > 64 || (n & (n - 1))) {
            error_setg(errp, "Refcount width must be a power of two and may not exceed 64 bits");
            return false;
        }
        opts->refcount_bits = n;
        opts->set |= BLOCK_OPT_REFCOUNT_BITS;
    } else {
        error_setg(errp, "Invalid parameter '%s'", key);
        return false;
    }
    return true;
}

typedef struct CreateOptsParse {
    const char *fmt;
    BlockCreateOpts *opts;
    Error *err;
} CreateOptsParse;

static void create_opts_one(const char *key, const char *value, void *opaque)
{
    CreateOptsParse *p = opaque;
    if (!p->err) {
        bdrv_create_opts_set(p->fmt, p->opts, key, value, &p->err);
    }
}

bool bdrv_create_opts_parse(const char *fmt, BlockCreateOpts *opts, const char *optstr,
                            Error **errp)
{
    Opts *o = opts_parse(optstr, NULL, errp);
    if (!o) {
        return false;
    }
    CreateOptsParse p = { .fmt = fmt, .opts = opts };
    opts_foreach(o, create_opts_one, &p);
    opts_mark_all_used(o);
    opts_free(o);
    if (p.err) {
        error_propagate(errp, p.err);
        return false;
    }
    return true;
}

void bdrv_create_opts_print_help(const char *fmt, FILE *out)
{
    const BlockDriver *drv = bdrv_find_format(fmt);
    if (!drv) {
        fprintf(out, "Unknown file format '%s'\n", fmt);
        return;
    }
    fprintf(out, "Supported options:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(create_opt_help); i++) {
        if (driver_accepts(drv, create_opt_help[i].key)) {
            fprintf(out, "  %-17s- %s\n", create_opt_help[i].key, create_opt_help[i].help);
        }
    }
}

void bdrv_create_opts_clear(BlockCreateOpts *opts)
{
    g_free(opts->backing_file);
    g_free(opts->backing_fmt);
    memset(opts, 0, sizeof(*opts));
}

/* ---- queries ------------------------------------------------------------------------- */

const char *bdrv_get_format_name(const BlockDriverState *bs)
{
    return bs->drv->format_name;
}

int64_t bdrv_getlength(BlockDriverState *bs)
{
    return bs->drv->getlength(bs);
}

int64_t bdrv_get_allocated_file_size(BlockDriverState *bs)
{
    if (bs->drv->get_allocated_file_size) {
        return bs->drv->get_allocated_file_size(bs);
    }
    return bs->file ? bdrv_get_allocated_file_size(bs->file) : -ENOTSUP;
}

void bdrv_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    memset(bdi, 0, sizeof(*bdi));
    if (bs->drv->get_info) {
        bs->drv->get_info(bs, bdi);
    }
}

void bdrv_get_specific_info(BlockDriverState *bs, BlockSpecificInfo *info)
{
    memset(info, 0, sizeof(*info));
    if (bs->drv->get_specific_info) {
        bs->drv->get_specific_info(bs, info);
    }
}

/* ---- I/O ----------------------------------------------------------------------------- */

static int bdrv_check_range(BlockDriverState *bs, uint64_t offset, uint64_t bytes)
{
    if (bs->drv->is_protocol) {
        return 0;
    }
    int64_t len = bdrv_getlength(bs);
    if (len < 0) {
        return (int)len;
    }
    if (offset > (uint64_t)len || bytes > (uint64_t)len - offset) {
        return -EIO;
    }
    return 0;
}

int bdrv_preadv(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                const struct iovec *iov, int niov, int flags)
{
    int ret = bdrv_check_range(bs, offset, bytes);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    return bs->drv->preadv(bs, offset, bytes, iov, niov, flags);
}

int bdrv_pwritev(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                 const struct iovec *iov, int niov, int flags)
{
    if (bs->read_only) {
        return -EPERM;
    }
    int ret = bdrv_check_range(bs, offset, bytes);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    ret = bs->drv->pwritev(bs, offset, bytes, iov, niov, flags & ~BDRV_REQ_FUA);
    if (ret >= 0 && (flags & BDRV_REQ_FUA)) {
        ret = bdrv_flush(bs);
    }
    return ret;
}

bool bdrv_aio_rw(BlockDriverState *bs, bool write, uint64_t offset, uint64_t bytes,
                 const struct iovec *iov, int niov, int flags, BdrvAioCompletion *cb,
                 void *opaque)
{
    if (!bs->drv->aio_rw || (write && bs->read_only) || bytes == 0 ||
        bdrv_check_range(bs, offset, bytes) < 0) {
        return false;
    }
    return bs->drv->aio_rw(bs, write, offset, bytes, iov, niov, flags, cb, opaque);
}

int bdrv_aio_poll(BlockDriverState *bs, bool wait)
{
    return bs->drv->aio_poll ? bs->drv->aio_poll(bs, wait) : 0;
}

int bdrv_pread(BlockDriverState *bs, uint64_t offset, uint64_t bytes, void *buf)
{
    struct iovec iov = { .iov_base = buf, .iov_len = bytes };
    return bdrv_preadv(bs, offset, bytes, &iov, 1, 0);
}

int bdrv_pwrite(BlockDriverState *bs, uint64_t offset, uint64_t bytes, const void *buf)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = bytes };
    return bdrv_pwritev(bs, offset, bytes, &iov, 1, 0);
}

#define COPY_BOUNCE_MAX (1024 * 1024)

int bdrv_copy_range_bounce(BlockDriverState *src, uint64_t src_offset, BlockDriverState *dst,
                           uint64_t dst_offset, uint64_t bytes)
{
    uint64_t size = MIN(bytes, COPY_BOUNCE_MAX);
    uint8_t *buf = g_malloc(size);
    int ret = 0;

    for (uint64_t done = 0; done < bytes && ret >= 0; done += size) {
        size = MIN(size, bytes - done);
        ret = bdrv_pread(src, src_offset + done, size, buf);
        if (ret >= 0) {
            ret = bdrv_pwrite(dst, dst_offset + done, size, buf);
        }
    }
    g_free(buf);
    return ret < 0 ? ret : 0;
}

int bdrv_copy_range(BlockDriverState *src, uint64_t src_offset, BlockDriverState *dst,
                    uint64_t dst_offset, uint64_t bytes)
{
    int ret;

    if (dst->read_only) {
        return -EPERM;
    }
    ret = bdrv_check_range(src, src_offset, bytes);
    if (ret == 0) {
        ret = bdrv_check_range(dst, dst_offset, bytes);
    }
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    ret = src->drv->copy_range_from
          ? src->drv->copy_range_from(src, src_offset, dst, dst_offset, bytes) : -ENOTSUP;
    if (ret == -ENOTSUP) {
        ret = bdrv_copy_range_bounce(src, src_offset, dst, dst_offset, bytes);
    }
    return ret;
}

int bdrv_copy_range_to(BlockDriverState *src, uint64_t src_offset, BlockDriverState *dst,
                       uint64_t dst_offset, uint64_t bytes)
{
    if (!dst->drv->copy_range_to) {
        return -ENOTSUP;
    }
    return dst->drv->copy_range_to(src, src_offset, dst, dst_offset, bytes);
}

const uint8_t *bdrv_map_host(BlockDriverState *bs, uint64_t *len)
{
    return bs->drv->map_host ? bs->drv->map_host(bs, len) : NULL;
}

int bdrv_pwrite_sync(BlockDriverState *bs, uint64_t offset, uint64_t bytes, const void *buf)
{
    int ret = bdrv_pwrite(bs, offset, bytes, buf);
    return ret < 0 ? ret : bdrv_flush(bs);
}

long bdrv_compress_cluster(BlockDriverState *bs, void *dst, size_t dst_size, const void *src,
                           uint64_t bytes)
{
    if (!bs->drv->compress) {
        return -ENOTSUP;
    }
    return bs->drv->compress(bs, dst, dst_size, src, bytes);
}

int bdrv_pwrite_precompressed(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                              const void *data, size_t len)
{
    if (!bs->drv->pwrite_compressed) {
        return -ENOTSUP;
    }
    if (bs->read_only) {
        return -EPERM;
    }
    int ret = bdrv_check_range(bs, offset, bytes);
    if (ret < 0) {
        return ret;
    }
    return bs->drv->pwrite_compressed(bs, offset, bytes, data, len);
}

int bdrv_pwrite_compressed(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                           const void *buf)
{
    BlockDriverInfo bdi;

    if (!bs->drv->compress) {
        return -ENOTSUP;
    }
    bdrv_get_info(bs, &bdi);
    uint64_t cs = bdi.cluster_size;
    if (cs == 0 || offset % cs || bytes > cs ||
        (bytes != cs && (int64_t)(offset + bytes) != bdrv_getlength(bs))) {
        return -EINVAL;
    }
    uint8_t *dst = g_malloc(cs);
    long clen = bdrv_compress_cluster(bs, dst, cs, buf, bytes);
    int ret;
    if (clen == -ENOSPC) {
        ret = bdrv_pwrite(bs, offset, bytes, buf);
    } else if (clen < 0) {
        ret = (int)clen;
    } else {
        ret = bdrv_pwrite_precompressed(bs, offset, bytes, dst, clen);
    }
    g_free(dst);
    return ret;
}

static const uint8_t zero_chunk[64 * 1024];

int bdrv_pwrite_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes, int flags)
{
    if (bs->read_only) {
        return -EPERM;
    }
    int ret = bdrv_check_range(bs, offset, bytes);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    ret = -ENOTSUP;
    if (bs->drv->pwrite_zeroes) {
        ret = bs->drv->pwrite_zeroes(bs, offset, bytes, flags);
    }
    if (ret != -ENOTSUP || (flags & BDRV_REQ_NO_FALLBACK)) {
        return ret;
    }
    struct iovec iov[16];
    while (bytes) {
        int n = 0;
        uint64_t chunk = 0;
        while (n < 16 && chunk < bytes) {
            iov[n].iov_base = (void *)zero_chunk;
            iov[n].iov_len = MIN(sizeof(zero_chunk), bytes - chunk);
            chunk += iov[n++].iov_len;
        }
        ret = bs->drv->pwritev(bs, offset, chunk, iov, n, 0);
        if (ret < 0) {
            return ret;
        }
        offset += chunk;
        bytes -= chunk;
    }
    return 0;
}

int bdrv_pdiscard(BlockDriverState *bs, uint64_t offset, uint64_t bytes)
{
    if (bs->read_only) {
        return -EPERM;
    }
    if (!bs->drv->pdiscard || !(bs->open_flags & BDRV_O_UNMAP)) {
        return 0;
    }
    int ret = bdrv_check_range(bs, offset, bytes);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    return bs->drv->pdiscard(bs, offset, bytes);
}

int bdrv_flush(BlockDriverState *bs)
{
    if (bs->read_only) {
        return 0;
    }
    return bs->drv->flush ? bs->drv->flush(bs) : 0;
}

int bdrv_truncate(BlockDriverState *bs, int64_t offset, bool exact, BlockPrealloc prealloc,
                  Error **errp)
{
    if (bs->read_only) {
        error_setg(errp, "Image is read-only");
        return -EACCES;
    }
    if (offset < 0) {
        error_setg(errp, "Invalid size %" G_GINT64_FORMAT, offset);
        return -EINVAL;
    }
    if (!bs->drv->truncate) {
        error_setg(errp, "Image format '%s' does not support resizing", bs->drv->format_name);
        return -ENOTSUP;
    }
    return bs->drv->truncate(bs, offset, exact, prealloc, errp);
}

int bdrv_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum,
                      int64_t *map, BlockDriverState **file)
{
    int64_t len = bdrv_getlength(bs);
    int64_t local_map = 0;
    BlockDriverState *local_file = NULL;
    if (len < 0) {
        return (int)len;
    }
    if (offset >= len) {
        *pnum = 0;
        return BDRV_BLOCK_EOF;
    }
    bytes = MIN(bytes, len - offset);
    int ret;
    if (!bs->drv->block_status) {
        *pnum = bytes;
        ret = BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED;
    } else {
        ret = bs->drv->block_status(bs, offset, bytes, pnum, &local_map, &local_file);
        if (ret < 0) {
            return ret;
        }
    }
    if (ret & BDRV_BLOCK_RAW) {
        int64_t n;
        ret = bdrv_block_status(local_file, local_map, *pnum, &n, &local_map, &local_file);
        if (ret < 0) {
            return ret;
        }
        *pnum = n ? n : *pnum;
        ret = (ret & ~BDRV_BLOCK_EOF) | BDRV_BLOCK_ALLOCATED;
    } else if ((ret & BDRV_BLOCK_RECURSE) && (ret & BDRV_BLOCK_OFFSET_VALID) && local_file &&
               local_file->drv->block_status) {
        int64_t n, fmap;
        BlockDriverState *ffile;
        int fret = bdrv_block_status(local_file, local_map, *pnum, &n, &fmap, &ffile);
        if (fret >= 0 && (fret & BDRV_BLOCK_ZERO) && n > 0) {
            *pnum = n;
            ret |= BDRV_BLOCK_ZERO;
        }
        ret &= ~BDRV_BLOCK_RECURSE;
    }
    if (offset + *pnum >= len) {
        ret |= BDRV_BLOCK_EOF;
    }
    if (map) {
        *map = local_map;
    }
    if (file) {
        *file = local_file;
    }
    return ret;
}

int bdrv_block_status_above(BlockDriverState *bs, BlockDriverState *base, int64_t offset,
                            int64_t bytes, int64_t *pnum, int64_t *map,
                            BlockDriverState **file, int *depth)
{
    int d = 0;
    int64_t top_len = bdrv_getlength(bs);
    if (top_len < 0) {
        return (int)top_len;
    }
    if (offset >= top_len) {
        *pnum = 0;
        return BDRV_BLOCK_EOF;
    }
    bytes = MIN(bytes, top_len - offset);
    for (BlockDriverState *n = bs;; n = n->backing, d++) {
        int64_t len = bdrv_getlength(n);
        if (len < 0) {
            return (int)len;
        }
        int ret;
        if (offset >= len) {
            /* Past the end of a shorter backing node: zeroes. */
            *pnum = bytes;
            ret = BDRV_BLOCK_ZERO;
        } else {
            ret = bdrv_block_status(n, offset, bytes, pnum, map, file);
            if (ret < 0) {
                return ret;
            }
        }
        if ((ret & BDRV_BLOCK_ALLOCATED) || !n->backing || n->backing == base ||
            offset >= len) {
            if (!(ret & BDRV_BLOCK_ALLOCATED) && (!n->backing || offset >= len)) {
                ret |= BDRV_BLOCK_ZERO;
            }
            if (depth) {
                *depth = d;
            }
            ret &= ~BDRV_BLOCK_EOF;
            if (offset + *pnum >= top_len) {
                ret |= BDRV_BLOCK_EOF;
            }
            return ret;
        }
        bytes = *pnum;
    }
}

int bdrv_check(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix)
{
    memset(res, 0, sizeof(*res));
    if (!bs->drv->check) {
        return -ENOTSUP;
    }
    return bs->drv->check(bs, res, fix);
}

bool bdrv_amend(BlockDriverState *bs, const BlockCreateOpts *opts, bool force, Error **errp)
{
    if (!bs->drv->amend) {
        error_setg(errp, "Block driver '%s' does not support option amendment",
                   bs->drv->format_name);
        return false;
    }
    return bs->drv->amend(bs, opts, force, errp);
}

int bdrv_make_empty(BlockDriverState *bs)
{
    if (bs->read_only) {
        return -EACCES;
    }
    return bs->drv->make_empty ? bs->drv->make_empty(bs) : -ENOTSUP;
}

int bdrv_change_backing_file(BlockDriverState *bs, const char *backing_file,
                             const char *backing_fmt)
{
    if (!bs->drv->change_backing_file) {
        return -ENOTSUP;
    }
    if (bs->read_only) {
        return -EACCES;
    }
    int ret = bs->drv->change_backing_file(bs, backing_file, backing_fmt);
    if (ret >= 0) {
        g_free(bs->backing_file);
        g_free(bs->backing_format);
        bs->backing_file = backing_file && *backing_file ? g_strdup(backing_file) : NULL;
        bs->backing_format = backing_fmt && *backing_fmt ? g_strdup(backing_fmt) : NULL;
    }
    return ret;
}

bool bdrv_snapshot_create(BlockDriverState *bs, BlockSnapshotInfo *sn, Error **errp)
{
    if (!bs->drv->snapshot_create) {
        error_setg(errp, "Block format '%s' does not support internal snapshots",
                   bs->drv->format_name);
        return false;
    }
    if (bs->read_only) {
        error_setg(errp, "Image is read-only");
        return false;
    }
    return bs->drv->snapshot_create(bs, sn, errp);
}

int bdrv_snapshot_list(BlockDriverState *bs, BlockSnapshotInfo **psn)
{
    *psn = NULL;
    return bs->drv->snapshot_list ? bs->drv->snapshot_list(bs, psn) : 0;
}

bool bdrv_snapshot_goto(BlockDriverState *bs, const char *id_or_name, Error **errp)
{
    if (!bs->drv->snapshot_goto) {
        error_setg(errp, "Block format '%s' does not support internal snapshots",
                   bs->drv->format_name);
        return false;
    }
    if (bs->read_only) {
        error_setg(errp, "Image is read-only");
        return false;
    }
    return bs->drv->snapshot_goto(bs, id_or_name, errp);
}

bool bdrv_snapshot_delete(BlockDriverState *bs, const char *id, const char *name,
                          Error **errp)
{
    if (!bs->drv->snapshot_delete) {
        error_setg(errp, "Block format '%s' does not support internal snapshots",
                   bs->drv->format_name);
        return false;
    }
    if (bs->read_only) {
        error_setg(errp, "Image is read-only");
        return false;
    }
    return bs->drv->snapshot_delete(bs, id, name, errp);
}

