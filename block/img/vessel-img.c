/*
 * vessel-img: the disk image tool. Sub-commands, options, output text and exit codes follow
 * qemu-img (create, info, check, convert, resize, snapshot, compare, map, rebase, amend),
 * built on the node level of the block layer (block/block_int.h).
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>

#include "block/block_int.h"
#include "util/error.h"
#include "util/option.h"

#define PROGNAME "vessel-img"

/* Exit status of `check` when the format has no consistency check (as qemu-img). */
#define CHECK_EXIT_NOTSUP 63

enum {
    OPT_OUTPUT = 256,
    OPT_BACKING_CHAIN,
    OPT_SHRINK,
    OPT_PREALLOCATION,
    OPT_TARGET_IS_ZERO,
    OPT_FORCE,
    OPT_START_OFFSET,
    OPT_MAX_LENGTH,
    OPT_IMAGE_OPTS,
};

/* ---- command-line helpers ---- */

static void G_GNUC_PRINTF(1, 2) img_usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROGNAME ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '" PROGNAME " --help' for more information\n");
}

/* Ends an option switch: -h prints "usage: vessel-img <usage>" and returns exit status 0; a
 * getopt failure ('?' or ':') for the option just parsed is reported and returns 1. */
static int img_option_end(char **argv, int c, const char *usage)
{
    if (c == 'h') {
        printf("usage: " PROGNAME " %s\n", usage);
        return 0;
    }
    if (c == ':') {
        img_usage_error("option '%s' requires an argument", argv[optind - 1]);
    } else if (optopt && optopt < 256) {
        img_usage_error("unrecognized option '-%c'", optopt);
    } else {
        img_usage_error("unrecognized option '%s'", argv[optind - 1]);
    }
    return 1;
}

/* The one file name left after the options, or NULL after reporting a usage error. */
static const char *img_one_filename(int argc, char **argv)
{
    if (optind != argc - 1) {
        img_usage_error("Expecting one image file name");
        return NULL;
    }
    return argv[optind];
}

static bool img_parse_output(const char *arg, bool *json)
{
    if (!strcmp(arg, "json")) {
        *json = true;
    } else if (!strcmp(arg, "human")) {
        *json = false;
    } else {
        error_report("--output must be used with human or json as argument.");
        return false;
    }
    return true;
}

/* Image sizes as qemu-img takes them: bytes, or k/M/G/T/P/E suffixes (powers of 1024). */
static bool img_parse_size(const char *str, uint64_t *out)
{
    char *end;
    double val;
    uint64_t mult = 1;

    errno = 0;
    if (!g_ascii_isdigit(*str) && *str != '.') {
        return false;
    }
    val = g_ascii_strtod(str, &end);
    if (errno || end == str || val < 0) {
        return false;
    }
    switch (*end) {
    case 'b': case 'B':  mult = 1; end++; break;
    case 'k': case 'K':  mult = 1ull << 10; end++; break;
    case 'm': case 'M':  mult = 1ull << 20; end++; break;
    case 'g': case 'G':  mult = 1ull << 30; end++; break;
    case 't': case 'T':  mult = 1ull << 40; end++; break;
    case 'p': case 'P':  mult = 1ull << 50; end++; break;
    case 'e': case 'E':  mult = 1ull << 60; end++; break;
    case '\0':           break;
    default:             return false;
    }
    if (*end || val * mult >= 18446744073709551616.0) {
        return false;
    }
    /* A fraction is only meaningful with a suffix; bare byte counts must be whole. */
    if (mult == 1 && val != floor(val)) {
        return false;
    }
    *out = (uint64_t)(val * mult);
    return true;
}

/* "64 MiB", "1.46 MiB", "0 B": three significant digits in the largest unit below 1000. */
static char *img_size_to_str(uint64_t val)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int unit = 0;

    while (unit < 6 && (double)val >= 1000.0 * ldexp(1.0, 10 * unit)) {
        unit++;
    }
    return g_strdup_printf("%0.3g %s", (double)val / ldexp(1.0, 10 * unit), units[unit]);
}

/* ---- progress (-p): "    (42.00/100%)" rewritten in place ---- */

typedef struct ImgProgress {
    bool enabled;
    double last;
} ImgProgress;

static void img_progress_print(ImgProgress *p, double percent, bool force)
{
    if (!p->enabled || (!force && percent - p->last < 1.0 && percent < 100.0)) {
        return;
    }
    if (!force && percent >= 100.0 && p->last >= 100.0) {
        return;
    }
    p->last = percent;
    printf("    (%3.2f/100%%)\r", percent);
    fflush(stdout);
}

static void img_progress_start(ImgProgress *p, bool enabled)
{
    p->enabled = enabled;
    p->last = 0.0;
    img_progress_print(p, 0.0, true);
}

static void img_progress_end(ImgProgress *p)
{
    if (p->enabled) {
        img_progress_print(p, 100.0, true);
        printf("\n");
        fflush(stdout);
    }
}

/* ---- JSON output in qemu-img's layout (four-space indent, "key": value) ---- */

typedef struct JsonOut {
    GString *s;
    int depth;
    bool need_comma;
} JsonOut;

static void json_escape(GString *s, const char *str)
{
    g_string_append_c(s, '"');
    for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
        switch (*p) {
        case '"':  g_string_append(s, "\\\""); break;
        case '\\': g_string_append(s, "\\\\"); break;
        case '\n': g_string_append(s, "\\n"); break;
        case '\r': g_string_append(s, "\\r"); break;
        case '\t': g_string_append(s, "\\t"); break;
        default:
            if (*p < 0x20) {
                g_string_append_printf(s, "\\u%04x", *p);
            } else {
                g_string_append_c(s, *p);
            }
        }
    }
    g_string_append_c(s, '"');
}

/* Starts a member (key may be NULL inside arrays and at top level). */
static void json_key(JsonOut *j, const char *key)
{
    if (j->need_comma) {
        g_string_append_c(j->s, ',');
    }
    if (j->depth > 0) {
        g_string_append_c(j->s, '\n');
        for (int i = 0; i < j->depth; i++) {
            g_string_append(j->s, "    ");
        }
    }
    if (key) {
        json_escape(j->s, key);
        g_string_append(j->s, ": ");
    }
    j->need_comma = true;
}

static void json_open(JsonOut *j, const char *key, char bracket)
{
    json_key(j, key);
    g_string_append_c(j->s, bracket);
    j->depth++;
    j->need_comma = false;
}

static void json_close(JsonOut *j, char bracket)
{
    j->depth--;
    g_string_append_c(j->s, '\n');
    for (int i = 0; i < j->depth; i++) {
        g_string_append(j->s, "    ");
    }
    g_string_append_c(j->s, bracket);
    j->need_comma = true;
}

static void json_int(JsonOut *j, const char *key, int64_t v)
{
    json_key(j, key);
    g_string_append_printf(j->s, "%" PRId64, v);
}

static void json_uint(JsonOut *j, const char *key, uint64_t v)
{
    json_key(j, key);
    g_string_append_printf(j->s, "%" PRIu64, v);
}

static void json_str(JsonOut *j, const char *key, const char *v)
{
    json_key(j, key);
    json_escape(j->s, v);
}

static void json_bool(JsonOut *j, const char *key, bool v)
{
    json_key(j, key);
    g_string_append(j->s, v ? "true" : "false");
}

/* ---- opening images ---- */

static bool img_check_format(const char *fmt, Error **errp)
{
    if (fmt && !bdrv_find_format(fmt)) {
        error_setg(errp, "Unknown file format '%s'", fmt);
        return false;
    }
    return true;
}

/* Opens filename (format fmt, probed when NULL) with BDRV_O_* flags. */
static BlockDriverState *img_open(const char *filename, const char *fmt, int flags, bool quiet,
                                  Error **errp)
{
    GHashTable *options;
    BlockDriverState *bs;

    if (!img_check_format(fmt, errp)) {
        return NULL;
    }
    options = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (fmt) {
        g_hash_table_insert(options, g_strdup("driver"), g_strdup(fmt));
    }
    bs = bdrv_open(filename, options, flags, errp);
    g_hash_table_unref(options);
    if (!bs) {
        error_prepend(errp, "Could not open '%s': ", filename);
        return NULL;
    }
    if (!fmt && (flags & BDRV_O_RDWR) && !quiet &&
        !strcmp(bdrv_get_format_name(bs), "raw")) {
        fprintf(stderr, "WARNING: Image format was not specified for '%s' and probing "
                "guessed raw.\n         Automatically detecting the format is dangerous for "
                "raw images; specify the 'raw' format explicitly.\n", filename);
    }
    return bs;
}

/* Reports err (if any) and returns exit status 1. */
static int img_fail(Error *err)
{
    if (err) {
        error_report_err(err);
    }
    return 1;
}

static int img_parse_cache(const char *mode, int *flags)
{
    Error *err = NULL;
    bool writethrough;

    if (mode && !bdrv_parse_cache_mode(mode, flags, &writethrough, &err)) {
        error_prepend(&err, "Invalid cache option: %s: ", mode);
        error_report_err(err);
        return -1;
    }
    return 0;
}

/* ---- create ---- */

static void img_print_create_opts(const char *filename, const char *fmt,
                                  const BlockCreateOpts *o)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "Formatting '%s', fmt=%s", filename, fmt);
    if (!strcmp(fmt, "qcow2")) {
        g_string_append_printf(s, " cluster_size=%u extended_l2=off",
                               (o->set & BLOCK_OPT_CLUSTER_SIZE) ? o->cluster_size : 65536);
        if (o->set & BLOCK_OPT_PREALLOC) {
            g_string_append_printf(s, " preallocation=%s", bdrv_prealloc_name(o->prealloc));
        }
        g_string_append_printf(s, " compression_type=%s",
                               o->compression_type == BLOCK_COMPRESSION_ZSTD ? "zstd" : "zlib");
        g_string_append_printf(s, " size=%" PRIu64, o->size);
        if (o->backing_file) {
            g_string_append_printf(s, " backing_file=%s", o->backing_file);
        }
        if (o->backing_fmt) {
            g_string_append_printf(s, " backing_fmt=%s", o->backing_fmt);
        }
        if (o->set & BLOCK_OPT_COMPAT) {
            g_string_append_printf(s, " compat=%s", o->compat == 2 ? "0.10" : "1.1");
        }
        g_string_append_printf(s, " lazy_refcounts=%s refcount_bits=%d",
                               o->lazy_refcounts ? "on" : "off",
                               (o->set & BLOCK_OPT_REFCOUNT_BITS) ? o->refcount_bits : 16);
    } else {
        g_string_append_printf(s, " size=%" PRIu64, o->size);
        if (o->backing_file) {
            g_string_append_printf(s, " backing_file=%s", o->backing_file);
        }
        if (o->backing_fmt) {
            g_string_append_printf(s, " backing_fmt=%s", o->backing_fmt);
        }
        if (o->set & BLOCK_OPT_PREALLOC) {
            g_string_append_printf(s, " preallocation=%s", bdrv_prealloc_name(o->prealloc));
        }
    }
    printf("%s\n", s->str);
    g_string_free(s, true);
}

/* The backing file name as the image stores it, resolved against the image's directory. */
static char *img_backing_path(const char *image, const char *backing)
{
    char *dir;
    char *path;

    if (g_path_is_absolute(backing) || strstr(backing, ":")) {
        return g_strdup(backing);
    }
    dir = g_path_get_dirname(image);
    path = !strcmp(dir, ".") ? g_strdup(backing) : g_build_filename(dir, backing, NULL);
    g_free(dir);
    return path;
}

static void img_print_size_error(void)
{
    error_report("Invalid image size specified. You may use k, M, G, T, P or E suffixes for");
    error_report("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
}

static int img_create(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = "raw", *base = NULL, *base_fmt = NULL, *filename;
    GString *optstr = g_string_new(NULL);
    BlockCreateOpts opts = { 0 };
    bool quiet = false, unsafe = false;
    Error *err = NULL;
    int c, ret = 1;

    while ((c = getopt_long(argc, argv, ":F:b:f:ho:qu", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': base = optarg; break;
        case 'F': base_fmt = optarg; break;
        case 'o':
            if (optstr->len) {
                g_string_append_c(optstr, ',');
            }
            g_string_append(optstr, optarg);
            break;
        case 'q': quiet = true; break;
        case 'u': unsafe = true; break;
        default:
            g_string_free(optstr, true);
            return img_option_end(argv, c, "create [-q] [-f fmt] [-b backing_file [-F"
                                  " backing_fmt]] [-u] [-o options] filename [size]");
        }
    }
    if (optind >= argc) {
        img_usage_error("Expecting image file name");
        goto out;
    }
    filename = argv[optind++];
    if (!img_check_format(fmt, &err)) {
        error_prepend(&err, "%s: ", filename);
        ret = img_fail(err);
        goto out;
    }
    if (!strcmp(optstr->str, "help")) {
        printf("Supported %s options:\n", fmt);
        bdrv_create_opts_print_help(fmt, stdout);
        ret = 0;
        goto out;
    }
    if (optstr->len && !bdrv_create_opts_parse(fmt, &opts, optstr->str, &err)) {
        error_prepend(&err, "%s: ", filename);
        ret = img_fail(err);
        goto out;
    }
    if (base && !bdrv_create_opts_set(fmt, &opts, "backing_file", base, &err)) {
        error_prepend(&err, "%s: ", filename);
        ret = img_fail(err);
        goto out;
    }
    if (base_fmt && !bdrv_create_opts_set(fmt, &opts, "backing_fmt", base_fmt, &err)) {
        error_prepend(&err, "%s: ", filename);
        ret = img_fail(err);
        goto out;
    }
    if (optind < argc) {
        uint64_t size;

        if (!img_parse_size(argv[optind], &size)) {
            img_print_size_error();
            goto out;
        }
        optind++;
        opts.size = size;
        opts.set |= BLOCK_OPT_SIZE;
    }
    if (optind != argc) {
        img_usage_error("Unexpected argument: %s", argv[optind]);
        goto out;
    }
    if (opts.backing_file && !opts.backing_fmt) {
        error_report("%s: Backing file specified without backing format", filename);
        goto out;
    }
    if (opts.backing_file && !unsafe) {
        /* The backing image must open; it also gives the default size. */
        char *path = img_backing_path(filename, opts.backing_file);
        BlockDriverState *bbs = img_open(path, opts.backing_fmt, 0, true, &err);

        g_free(path);
        if (!bbs) {
            error_prepend(&err, "%s: ", filename);
            ret = img_fail(err);
            goto out;
        }
        if (!(opts.set & BLOCK_OPT_SIZE)) {
            int64_t len = bdrv_getlength(bbs);

            if (len < 0) {
                error_report("%s: Could not get the size of the backing image: %s", filename,
                             strerror((int)-len));
                bdrv_unref(bbs);
                goto out;
            }
            opts.size = len;
            opts.set |= BLOCK_OPT_SIZE;
        }
        bdrv_unref(bbs);
    }
    if (!(opts.set & BLOCK_OPT_SIZE)) {
        error_report("%s: Image creation needs a size parameter", filename);
        goto out;
    }
    if (!quiet) {
        img_print_create_opts(filename, fmt, &opts);
        fflush(stdout);
    }
    /* Images are whole sectors long (the line above shows the size as given). */
    opts.size = (opts.size + BDRV_SECTOR_SIZE - 1) & ~(uint64_t)(BDRV_SECTOR_SIZE - 1);
    if (!bdrv_create(fmt, filename, &opts, &err)) {
        error_prepend(&err, "%s: ", filename);
        ret = img_fail(err);
        goto out;
    }
    ret = 0;
out:
    bdrv_create_opts_clear(&opts);
    g_string_free(optstr, true);
    return ret;
}

/* ---- info ---- */

static void img_snapshot_list_human(const BlockSnapshotInfo *sn, int n)
{
    printf("%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK",
           "ICOUNT");
    for (int i = 0; i < n; i++) {
        time_t t = sn[i].date_sec;
        struct tm tm;
        char date[32], clock[32], icount[24] = "";
        char *vmsize = img_size_to_str(sn[i].vm_state_size);
        uint64_t ms = sn[i].vm_clock_nsec / 1000000;

        localtime_r(&t, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(clock, sizeof(clock), "%02" PRIu64 ":%02u:%02u.%03u", ms / 3600000,
                 (unsigned)(ms / 60000 % 60), (unsigned)(ms / 1000 % 60),
                 (unsigned)(ms % 1000));
        if (sn[i].icount != UINT64_MAX) {
            snprintf(icount, sizeof(icount), "%" PRIu64, sn[i].icount);
        }
        printf("%-9s %-16s %8s%20s%13s%11s\n", sn[i].id_str, sn[i].name, vmsize, date, clock,
               icount);
        g_free(vmsize);
    }
}

static void img_snapshot_list_json(JsonOut *j, const BlockSnapshotInfo *sn, int n)
{
    json_open(j, "snapshots", '[');
    for (int i = 0; i < n; i++) {
        json_open(j, NULL, '{');
        if (sn[i].icount != UINT64_MAX) {
            json_uint(j, "icount", sn[i].icount);
        }
        json_uint(j, "vm-clock-nsec", sn[i].vm_clock_nsec % 1000000000);
        json_str(j, "name", sn[i].name);
        json_uint(j, "date-sec", sn[i].date_sec);
        json_uint(j, "date-nsec", sn[i].date_nsec);
        json_uint(j, "vm-clock-sec", sn[i].vm_clock_nsec / 1000000000);
        json_str(j, "id", sn[i].id_str);
        json_uint(j, "vm-state-size", sn[i].vm_state_size);
        json_close(j, '}');
    }
    json_close(j, ']');
}

/* Everything `info` shows about one node. */
typedef struct ImgInfo {
    const char *filename;
    const char *format;
    int64_t virtual_size;
    int64_t actual_size;          /* < 0: unavailable */
    BlockDriverInfo bdi;
    BlockSpecificInfo spec;
    const char *backing_file;
    const char *backing_fmt;
    char *full_backing;
    BlockSnapshotInfo *sn;
    int nb_sn;
} ImgInfo;

static bool img_collect_info(BlockDriverState *bs, ImgInfo *info, Error **errp)
{
    memset(info, 0, sizeof(*info));
    info->filename = bs->filename;
    info->format = bdrv_get_format_name(bs);
    info->virtual_size = bdrv_getlength(bs);
    if (info->virtual_size < 0) {
        error_setg_errno(errp, (int)-info->virtual_size, "Could not get the size of '%s'",
                         bs->filename);
        return false;
    }
    info->actual_size = bdrv_get_allocated_file_size(bs);
    bdrv_get_info(bs, &info->bdi);
    bdrv_get_specific_info(bs, &info->spec);
    info->backing_file = bs->backing_file;
    info->backing_fmt = bs->backing_format;
    if (bs->backing_file) {
        info->full_backing = bdrv_get_full_backing_filename(bs);
    }
    info->nb_sn = bdrv_snapshot_list(bs, &info->sn);
    if (info->nb_sn < 0) {
        info->nb_sn = 0;
        info->sn = NULL;
    }
    return true;
}

static void img_info_clear(ImgInfo *info)
{
    g_free(info->full_backing);
    g_free(info->sn);
}

static void img_info_human(const ImgInfo *info)
{
    char *vsize = img_size_to_str(info->virtual_size);
    char *dsize = info->actual_size >= 0 ? img_size_to_str(info->actual_size)
                                         : g_strdup("unavailable");
    const BlockSpecificInfo *spec = &info->spec;

    printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRId64 " bytes)\n"
           "disk size: %s\n", info->filename, info->format, vsize, info->virtual_size, dsize);
    if (info->bdi.cluster_size > 0) {
        printf("cluster_size: %d\n", info->bdi.cluster_size);
    }
    if (info->bdi.is_dirty) {
        printf("cleanly shut down: no\n");
    }
    if (info->backing_file) {
        printf("backing file: %s", info->backing_file);
        if (info->full_backing && strcmp(info->full_backing, info->backing_file)) {
            printf(" (actual path: %s)", info->full_backing);
        }
        printf("\n");
        if (info->backing_fmt) {
            printf("backing file format: %s\n", info->backing_fmt);
        }
    }
    if (info->nb_sn > 0) {
        printf("Snapshot list:\n");
        img_snapshot_list_human(info->sn, info->nb_sn);
    }
    if (spec->compat) {
        printf("Format specific information:\n    compat: %s\n    compression type: %s\n",
               spec->compat, spec->compression_type ? spec->compression_type : "zlib");
        if (strcmp(spec->compat, "0.10")) {
            printf("    lazy refcounts: %s\n", spec->lazy_refcounts ? "true" : "false");
        }
        printf("    refcount bits: %d\n", spec->refcount_bits);
        if (strcmp(spec->compat, "0.10")) {
            printf("    corrupt: %s\n    extended l2: %s\n", spec->corrupt ? "true" : "false",
                   spec->extended_l2 ? "true" : "false");
        }
    }
    g_free(vsize);
    g_free(dsize);
}

static void img_info_json(JsonOut *j, const ImgInfo *info)
{
    const BlockSpecificInfo *spec = &info->spec;

    json_open(j, NULL, '{');
    if (info->nb_sn > 0) {
        img_snapshot_list_json(j, info->sn, info->nb_sn);
    }
    if (info->backing_fmt) {
        json_str(j, "backing-filename-format", info->backing_fmt);
    }
    json_int(j, "virtual-size", info->virtual_size);
    json_str(j, "filename", info->filename);
    if (info->bdi.cluster_size > 0) {
        json_int(j, "cluster-size", info->bdi.cluster_size);
    }
    json_str(j, "format", info->format);
    if (info->actual_size >= 0) {
        json_int(j, "actual-size", info->actual_size);
    }
    if (spec->compat) {
        bool v3 = strcmp(spec->compat, "0.10") != 0;

        json_open(j, "format-specific", '{');
        json_str(j, "type", info->format);
        json_open(j, "data", '{');
        json_str(j, "compat", spec->compat);
        json_str(j, "compression-type",
                 spec->compression_type ? spec->compression_type : "zlib");
        if (v3) {
            json_bool(j, "lazy-refcounts", spec->lazy_refcounts);
        }
        json_int(j, "refcount-bits", spec->refcount_bits);
        if (v3) {
            json_bool(j, "corrupt", spec->corrupt);
            json_bool(j, "extended-l2", spec->extended_l2);
        }
        json_close(j, '}');
        json_close(j, '}');
    }
    if (info->backing_file) {
        if (info->full_backing) {
            json_str(j, "full-backing-filename", info->full_backing);
        }
        json_str(j, "backing-filename", info->backing_file);
    }
    json_bool(j, "dirty-flag", info->bdi.is_dirty);
    json_close(j, '}');
}

static int img_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "backing-chain", no_argument, NULL, OPT_BACKING_CHAIN },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *filename;
    bool json = false, chain = false;
    BlockDriverState *bs, *cur;
    JsonOut j = { 0 };
    Error *err = NULL;
    int c, ret = 1;

    while ((c = getopt_long(argc, argv, ":f:hU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': break;  /* images are not locked, so there is nothing to override */
        case OPT_OUTPUT:
            if (!img_parse_output(optarg, &json)) {
                return 1;
            }
            break;
        case OPT_BACKING_CHAIN: chain = true; break;
        default:
            return img_option_end(argv, c, "info [-f fmt] [--output=ofmt] [--backing-chain] [-U]"
                                  " filename");
        }
    }
    filename = img_one_filename(argc, argv);
    if (!filename) {
        return 1;
    }
    bs = img_open(filename, fmt, chain ? 0 : BDRV_O_NO_BACKING, false, &err);
    if (!bs) {
        return img_fail(err);
    }
    j.s = g_string_new(NULL);
    if (json && chain) {
        json_open(&j, NULL, '[');
    }
    for (cur = bs; cur; cur = chain ? cur->backing : NULL) {
        ImgInfo info;

        if (!img_collect_info(cur, &info, &err)) {
            img_fail(err);
            goto out;
        }
        if (json) {
            img_info_json(&j, &info);
        } else {
            if (cur != bs) {
                printf("\n");
            }
            img_info_human(&info);
        }
        if (chain && !cur->backing && info.backing_file) {
            img_info_clear(&info);
            error_report("Could not open backing file of '%s'", cur->filename);
            goto out;
        }
        img_info_clear(&info);
    }
    if (json && chain) {
        json_close(&j, ']');
    }
    if (json) {
        printf("%s\n", j.s->str);
    }
    ret = 0;
out:
    g_string_free(j.s, true);
    bdrv_unref(bs);
    return ret;
}

/* ---- check ---- */

static void img_check_human(const BdrvCheckResult *r)
{
    if (r->corruptions_fixed || r->leaks_fixed) {
        printf("The following inconsistencies were found and repaired:\n\n"
               "    %d leaked clusters\n    %d corruptions\n\n"
               "Double checking the fixed image now...\n", r->leaks_fixed,
               r->corruptions_fixed);
    }
    if (!r->corruptions && !r->leaks && !r->check_errors) {
        printf("No errors were found on the image.\n");
    } else {
        if (r->corruptions) {
            printf("\n%d errors were found on the image.\nData may be corrupted, or further "
                   "writes to the image may corrupt it.\n", r->corruptions);
        }
        if (r->leaks) {
            printf("\n%d leaked clusters were found on the image.\nThis means waste of disk "
                   "space, but no harm to data.\n", r->leaks);
        }
        if (r->check_errors) {
            printf("\n%d internal errors have occurred during the check.\n", r->check_errors);
        }
    }
    if (r->bfi.total_clusters && r->bfi.allocated_clusters) {
        double total = (double)r->bfi.total_clusters;
        double alloc = (double)r->bfi.allocated_clusters;

        printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% "
               "compressed clusters\n", r->bfi.allocated_clusters, r->bfi.total_clusters,
               alloc * 100.0 / total, r->bfi.fragmented_clusters * 100.0 / alloc,
               r->bfi.compressed_clusters * 100.0 / alloc);
    }
    if (r->image_end_offset > 0) {
        printf("Image end offset: %" PRId64 "\n", r->image_end_offset);
    }
}

static void img_check_json(const BdrvCheckResult *r, const char *filename, const char *fmt)
{
    JsonOut j = { .s = g_string_new(NULL) };

    json_open(&j, NULL, '{');
    if (r->image_end_offset > 0) {
        json_int(&j, "image-end-offset", r->image_end_offset);
    }
    if (r->bfi.compressed_clusters) {
        json_uint(&j, "compressed-clusters", r->bfi.compressed_clusters);
    }
    if (r->bfi.total_clusters) {
        json_uint(&j, "total-clusters", r->bfi.total_clusters);
    }
    if (r->corruptions) {
        json_int(&j, "corruptions", r->corruptions);
    }
    json_int(&j, "check-errors", r->check_errors);
    if (r->leaks) {
        json_int(&j, "leaks", r->leaks);
    }
    if (r->corruptions_fixed) {
        json_int(&j, "corruptions-fixed", r->corruptions_fixed);
    }
    if (r->leaks_fixed) {
        json_int(&j, "leaks-fixed", r->leaks_fixed);
    }
    if (r->bfi.allocated_clusters) {
        json_uint(&j, "allocated-clusters", r->bfi.allocated_clusters);
    }
    json_str(&j, "filename", filename);
    json_str(&j, "format", fmt);
    if (r->bfi.fragmented_clusters) {
        json_uint(&j, "fragmented-clusters", r->bfi.fragmented_clusters);
    }
    json_close(&j, '}');
    printf("%s\n", j.s->str);
    g_string_free(j.s, true);
}

static int img_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "repair", required_argument, NULL, 'r' },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *filename, *cache = NULL;
    bool json = false, quiet = false;
    BdrvCheckMode fix = 0;
    BdrvCheckResult r = { 0 };
    BlockDriverState *bs;
    Error *err = NULL;
    int c, ret, flags = BDRV_O_CHECK;

    while ((c = getopt_long(argc, argv, ":f:hqr:T:U", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'T': cache = optarg; break;
        case 'U': break;  /* images are not locked, so there is nothing to override */
        case 'r':
            flags |= BDRV_O_RDWR;
            if (!strcmp(optarg, "leaks")) {
                fix = BDRV_FIX_LEAKS;
            } else if (!strcmp(optarg, "all")) {
                fix = BDRV_FIX_LEAKS | BDRV_FIX_ERRORS;
            } else {
                img_usage_error("Unknown option value for -r (expecting 'leaks' or 'all'): %s",
                                optarg);
                return 1;
            }
            break;
        case OPT_OUTPUT:
            if (!img_parse_output(optarg, &json)) {
                return 1;
            }
            break;
        default:
            return img_option_end(argv, c, "check [-q] [-f fmt] [--output=ofmt] [-r [leaks |"
                                  " all]] [-T src_cache] [-U] filename");
        }
    }
    filename = img_one_filename(argc, argv);
    if (!filename) {
        return 1;
    }
    if (img_parse_cache(cache, &flags) < 0) {
        return 1;
    }
    bs = img_open(filename, fmt, flags, quiet, &err);
    if (!bs) {
        return img_fail(err);
    }
    ret = bdrv_check(bs, &r, fix);
    if (ret == -ENOTSUP) {
        error_report("This image format does not support checks");
        bdrv_unref(bs);
        return CHECK_EXIT_NOTSUP;
    }
    if (ret == 0 && (r.corruptions_fixed || r.leaks_fixed)) {
        int leaks_fixed = r.leaks_fixed, corruptions_fixed = r.corruptions_fixed;

        memset(&r, 0, sizeof(r));
        ret = bdrv_check(bs, &r, 0);
        r.leaks_fixed = leaks_fixed;
        r.corruptions_fixed = corruptions_fixed;
    }
    if (ret < 0) {
        error_report("Check failed: %s", strerror(-ret));
        bdrv_unref(bs);
        return 1;
    }
    if (json) {
        img_check_json(&r, filename, bdrv_get_format_name(bs));
    } else if (!quiet) {
        img_check_human(&r);
    }
    bdrv_unref(bs);
    if (r.check_errors) {
        return 1;
    } else if (r.corruptions) {
        return 2;
    } else if (r.leaks) {
        return 3;
    }
    return 0;
}

/* ---- shared data-path helpers ---- */

/* True when buf[0..len) is all zero bytes. */
static bool img_is_zero(const uint8_t *buf, size_t len)
{
    size_t i = 0;

    for (; i < len && ((uintptr_t)(buf + i) & 7); i++) {
        if (buf[i]) {
            return false;
        }
    }
    for (; i + 32 <= len; i += 32) {
        const uint64_t *p = (const uint64_t *)(buf + i);

        if (p[0] | p[1] | p[2] | p[3]) {
            return false;
        }
    }
    for (; i < len; i++) {
        if (buf[i]) {
            return false;
        }
    }
    return true;
}

/* Reads [offset, offset+bytes) of bs into buf; zeroes past the node's end (len). */
static int img_read_padded(BlockDriverState *bs, int64_t len, int64_t offset, int64_t bytes,
                           uint8_t *buf)
{
    int64_t avail = offset < len ? MIN(bytes, len - offset) : 0;

    if (avail < bytes) {
        memset(buf + avail, 0, bytes - avail);
    }
    return avail > 0 ? bdrv_pread(bs, offset, avail, buf) : 0;
}

/* ---- convert ---- */

#define CONVERT_CHUNK (2 * 1024 * 1024)
#define CONVERT_MAX_WORKERS 8

typedef struct ConvertSource {
    BlockDriverState *bs;
    BlockDriverState *base;   /* with a target backing file: copy only what lies above base */
    int64_t start, len;       /* position in the concatenated input */
} ConvertSource;

typedef struct ConvertState {
    ConvertSource *src;
    int nb_src;
    int64_t total;
    BlockDriverState *target;
    bool compress, zero_init, target_has_backing, in_order;
    int64_t sparse;           /* -S: bytes of zeroes that make a hole; 0 = never */
    int64_t chunk;            /* work unit; a multiple of the target's cluster size */
    int cluster_size;

    pthread_mutex_t lock;
    pthread_cond_t turn;
    int64_t next_chunk;       /* next chunk a worker takes */
    int64_t next_write;       /* the chunk whose writes may go now (in-order mode) */
    struct ConvertWork **ready; /* in-order mode: planned chunks by index % window */
    int window;               /* chunks planned ahead of next_write, at most */
    bool writing;             /* in-order mode: a worker is writing ready chunks */
    GPtrArray *spare;         /* ConvertWork buffers not in use */
    int64_t done_bytes;
    int error;                /* first negative errno */
    const char *error_what;
    ImgProgress progress;
} ConvertState;

/* Status of the concatenated input at offset; *pnum bytes share it (within one source).
 * With BDRV_BLOCK_OFFSET_VALID, the data lies at *map of the protocol node *file. */
static int convert_status(ConvertState *s, int64_t offset, int64_t bytes, int64_t *pnum,
                          int64_t *map, BlockDriverState **file)
{
    *file = NULL;
    for (int i = 0; i < s->nb_src; i++) {
        ConvertSource *src = &s->src[i];
        int64_t local, n;
        int ret;

        if (offset >= src->start + src->len) {
            continue;
        }
        local = offset - src->start;
        n = MIN(bytes, src->len - local);
        ret = bdrv_block_status_above(src->bs, src->base, local, n, pnum, map, file, NULL);
        if (ret < 0) {
            return ret;
        }
        if (*pnum <= 0 || *pnum > n) {
            *pnum = n;
        }
        return ret;
    }
    *pnum = bytes;
    return BDRV_BLOCK_ZERO;
}

/* The source holding input offset, or NULL past the end. */
static ConvertSource *convert_source_at(ConvertState *s, int64_t offset)
{
    for (int i = 0; i < s->nb_src; i++) {
        if (offset < s->src[i].start + s->src[i].len) {
            return &s->src[i];
        }
    }
    return NULL;
}

/* Copies input [offset, offset+bytes) to the same place of the target (bdrv_copy_range). */
static int convert_copy(ConvertState *s, int64_t offset, int64_t bytes)
{
    while (bytes > 0) {
        ConvertSource *src = convert_source_at(s, offset);
        int64_t n;
        int ret;

        if (!src) {
            return -EIO;
        }
        n = MIN(bytes, src->start + src->len - offset);
        ret = bdrv_copy_range(src->bs, offset - src->start, s->target, offset, n);
        if (ret < 0) {
            return ret;
        }
        offset += n;
        bytes -= n;
    }
    return 0;
}

static int convert_read(ConvertState *s, int64_t offset, int64_t bytes, uint8_t *buf)
{
    while (bytes > 0) {
        ConvertSource *src = convert_source_at(s, offset);
        int64_t n;
        int ret;

        if (!src) {
            return -EIO;
        }
        n = MIN(bytes, src->start + src->len - offset);
        ret = bdrv_pread(src->bs, offset - src->start, n, buf);
        if (ret < 0) {
            return ret;
        }
        offset += n;
        bytes -= n;
        buf += n;
    }
    return 0;
}

/* What one chunk turns into: runs of data to write (from the chunk buffer, or copied from
 * the source by RUN_COPY) and runs of zeroes. */
typedef enum { RUN_DATA, RUN_COPY, RUN_ZERO, RUN_SKIP } RunKind;

typedef struct ConvertRun {
    RunKind kind;
    int64_t offset, bytes;
} ConvertRun;

/* What a compressed chunk's target cluster turns into. */
typedef enum { CLUSTER_SKIP, CLUSTER_ZERO, CLUSTER_PLAIN, CLUSTER_COMPRESSED } ClusterKind;

typedef struct ConvertCluster {
    ClusterKind kind;
    long len;                 /* CLUSTER_COMPRESSED: bytes at cbuf + index * cluster size */
} ConvertCluster;

typedef struct ConvertWork {
    int64_t start, len;       /* the chunk */
    int ret;                  /* result of planning it */
    uint8_t *buf;
    GArray *runs;             /* ConvertRun, in offset order */
    uint8_t *cbuf;            /* -c: compressed clusters, one cluster-size slot each */
    ConvertCluster *clusters; /* -c: one per target cluster of the chunk */
} ConvertWork;

static void convert_add_run(GArray *runs, RunKind kind, int64_t offset, int64_t bytes)
{
    if (runs->len) {
        ConvertRun *last = &g_array_index(runs, ConvertRun, runs->len - 1);

        if (last->kind == kind && last->offset + last->bytes == offset) {
            last->bytes += bytes;
            return;
        }
    }
    g_array_append_val(runs, ((ConvertRun){ kind, offset, bytes }));
}

/* Input [offset, offset+bytes), whose bytes are at data, becomes runs of kind (RUN_DATA or
 * RUN_COPY) except for zero ranges, which become holes where -S allows (aligned runs of
 * s->sparse). */
static void convert_split_data(ConvertState *s, GArray *runs, const uint8_t *data,
                               int64_t offset, int64_t bytes, RunKind kind)
{
    int64_t pos = 0;

    if (s->sparse == 0) {
        convert_add_run(runs, kind, offset, bytes);
        return;
    }
    while (pos < bytes) {
        int64_t abs_off = offset + pos;
        int64_t step = MIN(s->sparse - abs_off % s->sparse, bytes - pos);
        bool zero = step == s->sparse && img_is_zero(data + pos, step);

        convert_add_run(runs, zero ? RUN_ZERO : kind, abs_off, step);
        pos += step;
    }
}

/* Where a thread reading a source mapping resumes when the file shrank under it. */
static __thread sigjmp_buf *convert_sigbus_jmp;

/* SIGBUS from a mapping read by convert_plan_copy unwinds it; any other SIGBUS takes the
 * default action when the faulting access is retried. */
static void convert_sigbus(int sig, siginfo_t *info, void *uc)
{
    (void)info;
    (void)uc;
    if (convert_sigbus_jmp) {
        siglongjmp(*convert_sigbus_jmp, 1);
    }
    signal(sig, SIG_DFL);
}

/* Plans input [offset, offset+bytes), stored at map of the protocol node file, as copied
 * runs (zero ranges checked through the file's mapping): false when it cannot be mapped or
 * the file shrank while it was read (the caller then reads it the usual way). */
static bool convert_plan_copy(ConvertState *s, GArray *runs, BlockDriverState *file,
                              int64_t map, int64_t offset, int64_t bytes)
{
    uint64_t map_len;
    const uint8_t *view = bdrv_map_host(file, &map_len);
    guint planned = runs->len;
    sigjmp_buf jmp;

    if (!view || map < 0 || (uint64_t)map > map_len || (uint64_t)bytes > map_len - map) {
        return false;
    }
    if (sigsetjmp(jmp, 0)) {
        convert_sigbus_jmp = NULL;
        g_array_set_size(runs, planned);
        return false;
    }
    convert_sigbus_jmp = &jmp;
    convert_split_data(s, runs, view + map, offset, bytes, RUN_COPY);
    convert_sigbus_jmp = NULL;
    return true;
}

/* Compresses the target clusters of a chunk planned for -c (runs any time, in any thread):
 * all-zero clusters stay unallocated, clusters that do not shrink are stored plainly. */
static int convert_compress_chunk(ConvertState *s, ConvertWork *w, int64_t start, int64_t len)
{
    int64_t cs = s->cluster_size;
    guint r = 0;

    /* Any data run means the chunk was read in full (zero runs were zero-filled). */
    for (guint i = 0; i < w->runs->len; i++) {
        ConvertRun *run = &g_array_index(w->runs, ConvertRun, i);

        if (run->kind == RUN_ZERO) {
            memset(w->buf + (run->offset - start), 0, run->bytes);
        }
    }
    for (int64_t off = start; off < start + len; off += cs) {
        ConvertCluster *c = &w->clusters[(off - start) / cs];
        int64_t n = MIN(cs, start + len - off);
        const uint8_t *p = w->buf + (off - start);
        bool skip = true;

        /* Runs are sorted and contiguous: skip those ending before this cluster. */
        while (r < w->runs->len && g_array_index(w->runs, ConvertRun, r).offset +
               g_array_index(w->runs, ConvertRun, r).bytes <= off) {
            r++;
        }
        for (guint i = r; i < w->runs->len; i++) {
            ConvertRun *run = &g_array_index(w->runs, ConvertRun, i);

            if (run->offset >= off + n) {
                break;
            }
            if (run->kind != RUN_SKIP) {
                skip = false;
            }
        }
        if (skip) {
            c->kind = CLUSTER_SKIP;
        } else if (img_is_zero(p, n)) {
            c->kind = CLUSTER_ZERO;
        } else {
            c->len = bdrv_compress_cluster(s->target, w->cbuf + (off - start), cs, p, n);
            if (c->len == -ENOSPC) {
                c->kind = CLUSTER_PLAIN;
            } else if (c->len < 0) {
                s->error_what = "write";
                return (int)c->len;
            } else {
                c->kind = CLUSTER_COMPRESSED;
            }
        }
    }
    return 0;
}

/* Plans and reads one chunk [start, start+len): fills w->runs and w->buf (and with -c
 * compresses it, so that only the writes wait for their turn). */
static int convert_plan_chunk(ConvertState *s, ConvertWork *w, int64_t start, int64_t len)
{
    int64_t off = start;

    g_array_set_size(w->runs, 0);
    while (off < start + len) {
        int64_t pnum, map;
        BlockDriverState *file;
        int st = convert_status(s, off, start + len - off, &pnum, &map, &file);
        int ret;

        if (st < 0) {
            return st;
        }
        if (s->target_has_backing && !(st & BDRV_BLOCK_ALLOCATED)) {
            /* Compressed clusters are written whole, so their skipped parts are read too. */
            ret = s->compress ? convert_read(s, off, pnum, w->buf + (off - start)) : 0;
            if (ret < 0) {
                s->error_what = "read";
                return ret;
            }
            convert_add_run(w->runs, RUN_SKIP, off, pnum);
        } else if ((st & BDRV_BLOCK_ZERO) && s->sparse) {
            convert_add_run(w->runs, RUN_ZERO, off, pnum);
        } else if (!s->compress && (st & BDRV_BLOCK_OFFSET_VALID) && file &&
                   convert_plan_copy(s, w->runs, file, map, off, pnum)) {
            /* planned as copies: the data does not pass through w->buf */
        } else {
            ret = convert_read(s, off, pnum, w->buf + (off - start));
            if (ret < 0) {
                s->error_what = "read";
                return ret;
            }
            if (s->compress) {
                convert_add_run(w->runs, RUN_DATA, off, pnum);
            } else {
                convert_split_data(s, w->runs, w->buf + (off - start), off, pnum, RUN_DATA);
            }
        }
        off += pnum;
    }
    return s->compress ? convert_compress_chunk(s, w, start, len) : 0;
}

static int convert_write_zeroes(ConvertState *s, int64_t offset, int64_t bytes)
{
    if (s->zero_init) {
        return 0;
    }
    return bdrv_pwrite_zeroes(s->target, offset, bytes, BDRV_REQ_MAY_UNMAP);
}

/* Writes a chunk prepared by convert_compress_chunk. */
static int convert_write_compressed(ConvertState *s, ConvertWork *w, int64_t start,
                                    int64_t len)
{
    int64_t cs = s->cluster_size;

    for (int64_t off = start; off < start + len; off += cs) {
        ConvertCluster *c = &w->clusters[(off - start) / cs];
        int64_t n = MIN(cs, start + len - off);
        int ret = 0;

        if (c->kind == CLUSTER_ZERO) {
            ret = convert_write_zeroes(s, off, n);
        } else if (c->kind == CLUSTER_PLAIN) {
            ret = bdrv_pwrite(s->target, off, n, w->buf + (off - start));
        } else if (c->kind == CLUSTER_COMPRESSED) {
            ret = bdrv_pwrite_precompressed(s->target, off, n, w->cbuf + (off - start),
                                            c->len);
        }
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

static int convert_write_chunk(ConvertState *s, ConvertWork *w, int64_t start, int64_t len)
{
    if (s->compress) {
        return convert_write_compressed(s, w, start, len);
    }
    for (guint i = 0; i < w->runs->len; i++) {
        ConvertRun *r = &g_array_index(w->runs, ConvertRun, i);
        int ret = 0;

        if (r->kind == RUN_DATA) {
            ret = bdrv_pwrite(s->target, r->offset, r->bytes, w->buf + (r->offset - start));
        } else if (r->kind == RUN_COPY) {
            ret = convert_copy(s, r->offset, r->bytes);
        } else if (r->kind == RUN_ZERO) {
            ret = convert_write_zeroes(s, r->offset, r->bytes);
        }
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

/* A chunk buffer on transparent huge pages where the host allows: one page fault, not 512. */
static void *convert_buf_new(size_t size)
{
    void *p;

    if (posix_memalign(&p, CONVERT_CHUNK, size)) {
        g_error("out of memory allocating %zu bytes", size);
    }
    madvise(p, size, MADV_HUGEPAGE);
    return p;
}

static ConvertWork *convert_work_new(ConvertState *s)
{
    ConvertWork *w = g_new0(ConvertWork, 1);

    w->buf = convert_buf_new(s->chunk);
    w->runs = g_array_new(false, false, sizeof(ConvertRun));
    if (s->compress) {
        w->cbuf = convert_buf_new(s->chunk);
        w->clusters = g_new(ConvertCluster, s->chunk / s->cluster_size);
    }
    return w;
}

static void convert_work_free(gpointer data)
{
    ConvertWork *w = data;

    free(w->buf);
    free(w->cbuf);
    g_free(w->clusters);
    g_array_free(w->runs, true);
    g_free(w);
}

/* Writes a planned chunk and accounts for it; lock held on entry and exit. */
static void convert_finish_chunk(ConvertState *s, ConvertWork *w)
{
    int ret = w->ret;

    pthread_mutex_unlock(&s->lock);
    if (ret == 0) {
        ret = convert_write_chunk(s, w, w->start, w->len);
        if (ret < 0) {
            s->error_what = "write";
        }
    }
    pthread_mutex_lock(&s->lock);
    if (ret < 0 && !s->error) {
        s->error = ret;
    }
    s->done_bytes += w->len;
    img_progress_print(&s->progress, (double)s->done_bytes * 100.0 / (double)s->total, false);
    g_ptr_array_add(s->spare, w);
}

/* Takes chunks while there are any: plans (reads, compresses) each one, then writes it, in
 * order unless -W. In order, a planned chunk that is not next waits in s->ready and its worker
 * goes on to the next chunk; whoever finds the next chunk ready writes it. */
static void *convert_worker(void *opaque)
{
    ConvertState *s = opaque;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        ConvertWork *w;
        int64_t idx;

        if (s->error || s->next_chunk * s->chunk >= s->total) {
            break;
        }
        if (s->in_order && s->next_chunk - s->next_write >= s->window) {
            pthread_cond_wait(&s->turn, &s->lock);
            continue;
        }
        idx = s->next_chunk++;
        w = s->spare->len ? g_ptr_array_steal_index_fast(s->spare, s->spare->len - 1)
                          : convert_work_new(s);
        pthread_mutex_unlock(&s->lock);

        w->start = idx * s->chunk;
        w->len = MIN(s->chunk, s->total - w->start);
        w->ret = convert_plan_chunk(s, w, w->start, w->len);

        pthread_mutex_lock(&s->lock);
        if (s->error) {
            g_ptr_array_add(s->spare, w);
            continue;
        }
        if (!s->in_order) {
            convert_finish_chunk(s, w);
            continue;
        }
        s->ready[idx % s->window] = w;
        while (!s->writing && !s->error && s->ready[s->next_write % s->window]) {
            ConvertWork *next = s->ready[s->next_write % s->window];

            s->ready[s->next_write % s->window] = NULL;
            s->writing = true;
            convert_finish_chunk(s, next);
            s->writing = false;
            s->next_write++;
            /* One slot of the window opened: one waiter takes it (a worker that leaves
             * wakes all the others on its way out). */
            pthread_cond_signal(&s->turn);
        }
    }
    pthread_cond_broadcast(&s->turn);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int convert_run(ConvertState *s, int nb_workers)
{
    pthread_t threads[CONVERT_MAX_WORKERS];
    int started = 0;
    struct sigaction sa = { .sa_sigaction = convert_sigbus, .sa_flags = SA_SIGINFO };

    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->turn, NULL);
    s->window = 2 * MAX(nb_workers, 1);
    s->ready = g_new0(ConvertWork *, s->window);
    s->spare = g_ptr_array_new_with_free_func(convert_work_free);
    for (int i = 0; i < nb_workers; i++) {
        if (pthread_create(&threads[i], NULL, convert_worker, s) != 0) {
            break;
        }
        started++;
    }
    if (started == 0) {
        convert_worker(s);
    }
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    for (int i = 0; i < s->window; i++) {
        if (s->ready[i]) {
            convert_work_free(s->ready[i]);  /* left behind by an error */
        }
    }
    g_free(s->ready);
    g_ptr_array_free(s->spare, true);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->turn);
    return s->error;
}

static int img_convert(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "target-is-zero", no_argument, NULL, OPT_TARGET_IS_ZERO },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *out_fmt = "raw", *out_base = NULL, *out_base_fmt = NULL;
    const char *cache = "unsafe", *src_cache = NULL, *out_filename;
    GString *optstr = g_string_new(NULL);
    BlockCreateOpts opts = { 0 };
    ConvertState s = { .sparse = 4096, .in_order = true };
    bool progress = false, no_create = false, target_is_zero = false, quiet = false;
    int c, ret = 1, nb_workers = 8, src_flags = 0, dst_flags = BDRV_O_RDWR | BDRV_O_UNMAP;
    const BlockDriver *drv;
    BlockDriverInfo bdi;
    Error *err = NULL;

    while ((c = getopt_long(argc, argv, ":hf:O:B:F:co:l:S:pt:T:qnm:WUr:C", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': out_fmt = optarg; break;
        case 'B': out_base = optarg; break;
        case 'F': out_base_fmt = optarg; break;
        case 'c': s.compress = true; break;
        case 'o':
            if (optstr->len) {
                g_string_append_c(optstr, ',');
            }
            g_string_append(optstr, optarg);
            break;
        case 'S': {
            uint64_t sval;

            if (!img_parse_size(optarg, &sval) || sval > INT64_MAX / 2 ||
                (sval && sval % BDRV_SECTOR_SIZE)) {
                error_report("Invalid buffer size for sparse output specified. Valid sizes "
                             "are multiples of 512 up to 2 GiB, or 0 to disable.");
                goto out;
            }
            s.sparse = sval;
            break;
        }
        case 'p': progress = true; break;
        case 't': cache = optarg; break;
        case 'T': src_cache = optarg; break;
        case 'q': quiet = true; break;
        case 'n': no_create = true; break;
        case 'm': {
            char *end;
            long v = strtol(optarg, &end, 10);

            if (*end || v < 1 || v > CONVERT_MAX_WORKERS) {
                error_report("Invalid number of coroutines. Allowed number of coroutines is "
                             "between 1 and %d", CONVERT_MAX_WORKERS);
                goto out;
            }
            nb_workers = (int)v;
            break;
        }
        case 'W': s.in_order = false; break;
        case 'U': break;  /* images are not locked, so there is nothing to override */
        case OPT_TARGET_IS_ZERO: target_is_zero = true; break;
        case 'l': case 'r': case 'C':
            error_report("option -%c is not supported by " PROGNAME, c);
            goto out;
        default:
            g_string_free(optstr, true);
            return img_option_end(argv, c, "convert [-U] [-c] [-p] [-q] [-n] [-W]"
                                  " [--target-is-zero] [-f fmt] [-t cache] [-T src_cache] [-O"
                                  " output_fmt] [-B backing_file [-F backing_fmt]] [-o options]"
                                  " [-S sparse_size] [-m num_workers] filename [filename2 [...]]"
                                  " output_filename");
        }
    }
    if (quiet) {
        progress = false;
    }
    if (!strcmp(optstr->str, "help")) {
        if (!img_check_format(out_fmt, &err)) {
            ret = img_fail(err);
            goto out;
        }
        printf("Supported %s options:\n", out_fmt);
        bdrv_create_opts_print_help(out_fmt, stdout);
        ret = 0;
        goto out;
    }
    if (argc - optind < 2) {
        img_usage_error("Must specify image file name");
        goto out;
    }
    if (target_is_zero && !no_create) {
        error_report("--target-is-zero requires use of -n flag");
        goto out;
    }
    if (no_create && optstr->len) {
        error_report("-o has no effect when skipping image creation");
        goto out;
    }
    if (!img_check_format(fmt, &err) || !img_check_format(out_fmt, &err)) {
        ret = img_fail(err);
        goto out;
    }
    drv = bdrv_find_format(out_fmt);
    if (s.compress && !drv->compress) {
        error_report("Compression not supported for this file format");
        goto out;
    }
    out_filename = argv[argc - 1];
    if (img_parse_cache(src_cache, &src_flags) < 0 || img_parse_cache(cache, &dst_flags) < 0) {
        goto out;
    }

    /* Sources, concatenated. */
    s.nb_src = argc - 1 - optind;
    s.src = g_new0(ConvertSource, s.nb_src);
    for (int i = 0; i < s.nb_src; i++) {
        ConvertSource *src = &s.src[i];

        src->bs = img_open(argv[optind + i], fmt, src_flags, quiet, &err);
        if (!src->bs) {
            ret = img_fail(err);
            goto out;
        }
        src->len = bdrv_getlength(src->bs);
        if (src->len < 0) {
            error_report("Could not get size of %s: %s", argv[optind + i],
                         strerror((int)-src->len));
            goto out;
        }
        src->start = s.total;
        s.total += src->len;
    }

    /* The target. */
    if (!no_create) {
        if (optstr->len && !bdrv_create_opts_parse(out_fmt, &opts, optstr->str, &err)) {
            ret = img_fail(err);
            goto out;
        }
        if (out_base && !bdrv_create_opts_set(out_fmt, &opts, "backing_file", out_base, &err)) {
            ret = img_fail(err);
            goto out;
        }
        if (out_base_fmt &&
            !bdrv_create_opts_set(out_fmt, &opts, "backing_fmt", out_base_fmt, &err)) {
            ret = img_fail(err);
            goto out;
        }
        if (opts.backing_file && !opts.backing_fmt) {
            error_report("Use of backing file requires explicit backing format");
            goto out;
        }
        if (s.compress && opts.prealloc != PREALLOC_MODE_OFF) {
            error_report("Compression and preallocation not supported at the same time");
            goto out;
        }
        opts.size = s.total;
        opts.set |= BLOCK_OPT_SIZE;
        if (!bdrv_create(out_fmt, out_filename, &opts, &err)) {
            error_prepend(&err, "%s: error while converting %s: ", out_filename, out_fmt);
            ret = img_fail(err);
            goto out;
        }
        s.target_has_backing = opts.backing_file != NULL;
    } else if (out_base) {
        s.target_has_backing = true;
    }
    s.target = img_open(out_filename, out_fmt, dst_flags, true, &err);
    if (!s.target) {
        ret = img_fail(err);
        goto out;
    }
    if (no_create) {
        int64_t tlen = bdrv_getlength(s.target);

        if (tlen < 0 || tlen < s.total) {
            error_report("output file is smaller than input file");
            goto out;
        }
    }
    if (s.target_has_backing) {
        for (int i = 0; i < s.nb_src; i++) {
            s.src[i].base = s.src[i].bs->backing;
        }
    }
    s.zero_init = target_is_zero || (!no_create && !s.target_has_backing);
    bdrv_get_info(s.target, &bdi);
    s.cluster_size = bdi.cluster_size > 0 ? bdi.cluster_size : 65536;
    s.chunk = MAX((int64_t)CONVERT_CHUNK, s.cluster_size);
    if (s.chunk % s.cluster_size) {
        s.chunk = (s.chunk / s.cluster_size + 1) * s.cluster_size;
    }
    if (s.total == 0) {
        img_progress_start(&s.progress, progress);
        img_progress_end(&s.progress);
        ret = 0;
        goto out;
    }

    img_progress_start(&s.progress, progress);
    if (convert_run(&s, nb_workers) < 0) {
        img_progress_end(&s.progress);
        error_report("error while %s: %s", s.error_what && !strcmp(s.error_what, "read")
                     ? "reading" : "writing", strerror(-s.error));
        goto out;
    }
    ret = bdrv_flush(s.target);
    if (ret < 0) {
        img_progress_end(&s.progress);
        error_report("error while flushing %s: %s", out_filename, strerror(-ret));
        ret = 1;
        goto out;
    }
    img_progress_end(&s.progress);
    ret = 0;
out:
    if (s.target) {
        bdrv_unref(s.target);
    }
    for (int i = 0; s.src && i < s.nb_src; i++) {
        if (s.src[i].bs) {
            bdrv_unref(s.src[i].bs);
        }
    }
    g_free(s.src);
    bdrv_create_opts_clear(&opts);
    g_string_free(optstr, true);
    return ret;
}

/* ---- resize ---- */

static void img_print_resize_size_error(void)
{
    error_report("Parameter 'size' expects a non-negative number below 2^64");
    fprintf(stderr, "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, "
            "peta-\nand exabytes, respectively.\n");
}

static int img_resize(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "shrink", no_argument, NULL, OPT_SHRINK },
        { "preallocation", required_argument, NULL, OPT_PREALLOCATION },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *filename, *sizearg;
    BlockPrealloc prealloc = PREALLOC_MODE_OFF;
    bool quiet = false, shrink = false;
    BlockDriverState *bs;
    uint64_t size;
    int64_t current, total;
    Error *err = NULL;
    int c, sign = 0, ret;

    /* "-5M" would look like an option: take a trailing size argument out first. */
    if (argc >= 3 && argv[argc - 1][0] == '-' && g_ascii_isdigit(argv[argc - 1][1])) {
        sizearg = argv[--argc];
    } else {
        sizearg = NULL;
    }
    while ((c = getopt_long(argc, argv, ":f:hqU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'U': break;  /* images are not locked, so there is nothing to override */
        case OPT_SHRINK: shrink = true; break;
        case OPT_PREALLOCATION:
            if (!bdrv_prealloc_parse(optarg, &prealloc, &err)) {
                return img_fail(err);
            }
            break;
        default:
            return img_option_end(argv, c, "resize [-f fmt] [--preallocation=prealloc] [-q]"
                                  " [--shrink] filename [+ | -]size");
        }
    }
    if (!sizearg) {
        if (optind != argc - 2) {
            img_usage_error("Expecting image file name and size");
            return 1;
        }
        sizearg = argv[argc - 1];
        argc--;
    } else if (optind != argc - 1) {
        img_usage_error("Expecting image file name and size");
        return 1;
    }
    filename = argv[optind];
    if (sizearg[0] == '+' || sizearg[0] == '-') {
        sign = sizearg[0] == '+' ? 1 : -1;
        sizearg++;
    }
    if (!img_parse_size(sizearg, &size) || size > INT64_MAX) {
        img_print_resize_size_error();
        return 1;
    }
    bs = img_open(filename, fmt, BDRV_O_RDWR, quiet, &err);
    if (!bs) {
        return img_fail(err);
    }
    current = bdrv_getlength(bs);
    if (current < 0) {
        error_report("Failed to inquire current image length: %s", strerror((int)-current));
        bdrv_unref(bs);
        return 1;
    }
    if (sign == 0) {
        total = (int64_t)size;
    } else if (sign > 0) {
        total = size > (uint64_t)(INT64_MAX - current) ? -1 : current + (int64_t)size;
    } else {
        total = current - (int64_t)size;
    }
    if (total <= 0) {
        error_report("New image size must be positive");
        bdrv_unref(bs);
        return 1;
    }
    if (total < current && !shrink) {
        warn_report("Shrinking an image will delete all data beyond the shrunken image's end. "
                    "Before performing such an operation, make sure there is no important "
                    "data there.");
        error_report("Use the --shrink option to perform a shrink operation.");
        bdrv_unref(bs);
        return 1;
    }
    if (total < current && prealloc != PREALLOC_MODE_OFF) {
        error_report("Preallocation can only be used for growing images");
        bdrv_unref(bs);
        return 1;
    }
    ret = bdrv_truncate(bs, total, true, prealloc, &err);
    if (ret == 0) {
        ret = bdrv_flush(bs);
        if (ret < 0) {
            error_setg_errno(&err, -ret, "Could not flush '%s'", filename);
        }
    } else if (!err) {
        error_setg_errno(&err, -ret, "Could not resize '%s'", filename);
    }
    bdrv_unref(bs);
    if (ret < 0) {
        return img_fail(err);
    }
    if (!quiet) {
        printf("Image resized.\n");
    }
    return 0;
}

/* ---- snapshot ---- */

static int img_snapshot(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    enum { SN_NONE, SN_LIST, SN_CREATE, SN_APPLY, SN_DELETE } action = SN_NONE;
    const char *name = NULL, *filename;
    bool quiet = false;
    BlockDriverState *bs;
    Error *err = NULL;
    int c, ret = 0;

    while ((c = getopt_long(argc, argv, ":la:c:d:hqU", longopts, NULL)) != -1) {
        int want = SN_NONE;

        switch (c) {
        case 'l': want = SN_LIST; break;
        case 'a': want = SN_APPLY; name = optarg; break;
        case 'c': want = SN_CREATE; name = optarg; break;
        case 'd': want = SN_DELETE; name = optarg; break;
        case 'q': quiet = true; continue;
        case 'U': continue;  /* images are not locked, so there is nothing to override */
        default:
            return img_option_end(argv, c, "snapshot [-U] [-q] [-l | -a snapshot | -c snapshot |"
                                  " -d snapshot] filename");
        }
        if (action != SN_NONE) {
            img_usage_error("Cannot mix '-l', '-a', '-c', '-d'");
            return 1;
        }
        action = want;
    }
    filename = img_one_filename(argc, argv);
    if (!filename) {
        return 1;
    }
    if (action == SN_NONE) {
        action = SN_LIST;
    }
    bs = img_open(filename, NULL, action == SN_LIST ? BDRV_O_NO_BACKING : BDRV_O_RDWR, quiet,
                  &err);
    if (!bs) {
        return img_fail(err);
    }
    switch (action) {
    case SN_LIST: {
        BlockSnapshotInfo *sn = NULL;
        int n = bdrv_snapshot_list(bs, &sn);

        if (n > 0) {
            printf("Snapshot list:\n");
            img_snapshot_list_human(sn, n);
        }
        g_free(sn);
        break;
    }
    case SN_CREATE: {
        BlockSnapshotInfo sn = { .icount = 0 };
        struct timeval tv;

        gettimeofday(&tv, NULL);
        g_strlcpy(sn.name, name, sizeof(sn.name));
        sn.date_sec = tv.tv_sec;
        sn.date_nsec = tv.tv_usec * 1000;
        if (!bdrv_snapshot_create(bs, &sn, &err)) {
            error_prepend(&err, "Could not create snapshot '%s': ", name);
            ret = img_fail(err);
        }
        break;
    }
    case SN_APPLY:
        if (!bdrv_snapshot_goto(bs, name, &err)) {
            error_prepend(&err, "Could not apply snapshot '%s': ", name);
            ret = img_fail(err);
        }
        break;
    case SN_DELETE:
        if (!bdrv_snapshot_delete(bs, NULL, name, &err)) {
            Error *err2 = NULL;

            /* A name that is no snapshot's tag may be an ID. */
            if (!bdrv_snapshot_delete(bs, name, NULL, &err2)) {
                error_free(err2);
                error_prepend(&err, "Could not delete snapshot '%s': ", name);
                ret = img_fail(err);
            } else {
                error_free(err);
            }
        }
        break;
    case SN_NONE:
        break;
    }
    bdrv_unref(bs);
    return ret;
}

/* ---- compare ---- */

#define COMPARE_CHUNK (1024 * 1024)

/* Offset of the first 512-byte sector where a and b differ, or -1. */
static int64_t compare_buffers(const uint8_t *a, const uint8_t *b, int64_t len)
{
    for (int64_t i = 0; i < len; i += BDRV_SECTOR_SIZE) {
        int64_t n = MIN((int64_t)BDRV_SECTOR_SIZE, len - i);

        if (memcmp(a + i, b + i, n)) {
            return i;
        }
    }
    return -1;
}

/* Status of bs at offset through its chain: ALLOCATED and ZERO bits, *pnum bytes. */
static int compare_status(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum)
{
    int64_t map;
    BlockDriverState *file;
    int ret = bdrv_block_status_above(bs, NULL, offset, bytes, pnum, &map, &file, NULL);

    if (ret >= 0 && (*pnum <= 0 || *pnum > bytes)) {
        *pnum = bytes;
    }
    return ret;
}

/* Checks that [offset, end) of bs reads as zeroes: 0 yes, 1 no (*where set), <0 errno. */
static int compare_zero_tail(BlockDriverState *bs, int64_t offset, int64_t end, uint8_t *buf,
                             int64_t *where)
{
    while (offset < end) {
        int64_t pnum;
        int st = compare_status(bs, offset, MIN(end - offset, COMPARE_CHUNK), &pnum);
        int ret;

        if (st < 0) {
            return st;
        }
        if (!(st & BDRV_BLOCK_ZERO)) {
            int64_t at;

            ret = bdrv_pread(bs, offset, pnum, buf);
            if (ret < 0) {
                return ret;
            }
            for (at = 0; at < pnum; at += BDRV_SECTOR_SIZE) {
                if (!img_is_zero(buf + at, MIN((int64_t)BDRV_SECTOR_SIZE, pnum - at))) {
                    *where = offset + at;
                    return 1;
                }
            }
        }
        offset += pnum;
    }
    return 0;
}

static int img_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt1 = NULL, *fmt2 = NULL, *cache = NULL;
    bool strict = false, quiet = false, progress = false;
    BlockDriverState *bs1 = NULL, *bs2 = NULL, *longer;
    uint8_t *buf1 = NULL, *buf2 = NULL;
    int64_t len1, len2, common, offset, where;
    ImgProgress prog;
    Error *err = NULL;
    int c, ret = 2, flags = 0;

    while ((c = getopt_long(argc, argv, ":hf:F:T:pqsU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt1 = optarg; break;
        case 'F': fmt2 = optarg; break;
        case 'T': cache = optarg; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 's': strict = true; break;
        case 'U': break;  /* images are not locked, so there is nothing to override */
        default:
            return img_option_end(argv, c, "compare [-f fmt] [-F fmt] [-T src_cache]"
                                  " [-p] [-q] [-s] [-U] filename1 filename2") ? 2 : 0;
        }
    }
    if (quiet) {
        progress = false;
    }
    if (optind != argc - 2) {
        img_usage_error("Expecting two image file names");
        return 2;
    }
    if (img_parse_cache(cache, &flags) < 0) {
        return 2;
    }
    bs1 = img_open(argv[optind], fmt1, flags, quiet, &err);
    if (!bs1) {
        img_fail(err);
        return 2;
    }
    bs2 = img_open(argv[optind + 1], fmt2, flags, quiet, &err);
    if (!bs2) {
        img_fail(err);
        goto out;
    }
    len1 = bdrv_getlength(bs1);
    len2 = bdrv_getlength(bs2);
    if (len1 < 0 || len2 < 0) {
        error_report("Can't get size of %s: %s", len1 < 0 ? argv[optind] : argv[optind + 1],
                     strerror((int)-(len1 < 0 ? len1 : len2)));
        goto out;
    }
    buf1 = g_malloc(COMPARE_CHUNK);
    buf2 = g_malloc(COMPARE_CHUNK);
    common = MIN(len1, len2);
    img_progress_start(&prog, progress);

    for (offset = 0; offset < common;) {
        int64_t pnum1, pnum2, n;
        int st1, st2;

        st1 = compare_status(bs1, offset, MIN(common - offset, COMPARE_CHUNK), &pnum1);
        st2 = compare_status(bs2, offset, MIN(common - offset, COMPARE_CHUNK), &pnum2);
        if (st1 < 0 || st2 < 0) {
            error_report("Sector allocation test failed for %s",
                         st1 < 0 ? argv[optind] : argv[optind + 1]);
            goto out;
        }
        n = MIN(pnum1, pnum2);
        if (strict && (st1 & BDRV_BLOCK_ALLOCATED) != (st2 & BDRV_BLOCK_ALLOCATED)) {
            img_progress_end(&prog);
            if (!quiet) {
                printf("Strict mode: Offset %" PRId64 " block status mismatch!\n", offset);
            }
            ret = 1;
            goto out;
        }
        if (!((st1 & BDRV_BLOCK_ZERO) && (st2 & BDRV_BLOCK_ZERO))) {
            int r1 = (st1 & BDRV_BLOCK_ZERO) ? (memset(buf1, 0, n), 0)
                                             : bdrv_pread(bs1, offset, n, buf1);
            int r2 = (st2 & BDRV_BLOCK_ZERO) ? (memset(buf2, 0, n), 0)
                                             : bdrv_pread(bs2, offset, n, buf2);

            if (r1 < 0 || r2 < 0) {
                error_report("Error while reading offset %" PRId64 " of %s: %s", offset,
                             r1 < 0 ? argv[optind] : argv[optind + 1],
                             strerror(-(r1 < 0 ? r1 : r2)));
                goto out;
            }
            where = compare_buffers(buf1, buf2, n);
            if (where >= 0) {
                img_progress_end(&prog);
                if (!quiet) {
                    printf("Content mismatch at offset %" PRId64 "!\n", offset + where);
                }
                ret = 1;
                goto out;
            }
        }
        offset += n;
        img_progress_print(&prog, (double)offset * 100.0 / (double)MAX(len1, len2), false);
    }

    if (len1 != len2) {
        int r;

        if (strict) {
            img_progress_end(&prog);
            if (!quiet) {
                printf("Strict mode: Image size mismatch!\n");
            }
            ret = 1;
            goto out;
        }
        if (!quiet) {
            printf("Warning: Image size mismatch!\n");
        }
        longer = len1 > len2 ? bs1 : bs2;
        r = compare_zero_tail(longer, common, MAX(len1, len2), buf1, &where);
        if (r < 0) {
            error_report("Error while reading %s: %s", longer == bs1 ? argv[optind]
                         : argv[optind + 1], strerror(-r));
            goto out;
        }
        if (r > 0) {
            img_progress_end(&prog);
            if (!quiet) {
                printf("Content mismatch at offset %" PRId64 "!\n", where);
            }
            ret = 1;
            goto out;
        }
    }
    img_progress_end(&prog);
    if (!quiet) {
        printf("Images are identical.\n");
    }
    ret = 0;
out:
    g_free(buf1);
    g_free(buf2);
    if (bs2) {
        bdrv_unref(bs2);
    }
    bdrv_unref(bs1);
    return ret;
}

/* ---- map ---- */

typedef struct MapEntry {
    int64_t start, length;
    int flags;                /* BDRV_BLOCK_* */
    int depth;
    bool has_offset;
    int64_t offset;
    const char *filename;     /* protocol file holding the data */
} MapEntry;

static bool map_entry_mergeable(const MapEntry *a, const MapEntry *b)
{
    return a->start + a->length == b->start && a->flags == b->flags && a->depth == b->depth &&
           a->has_offset == b->has_offset &&
           (!a->has_offset || a->offset + a->length == b->offset) &&
           (a->filename == b->filename ||
            (a->filename && b->filename && !strcmp(a->filename, b->filename)));
}

/* Prints one merged entry; false with *errp when human output cannot show it. */
static bool map_print(const MapEntry *e, bool json, bool first, Error **errp)
{
    if (json) {
        printf("%s{ \"start\": %" PRId64 ", \"length\": %" PRId64 ", \"depth\": %d, "
               "\"present\": %s, \"zero\": %s, \"data\": %s", first ? "" : ",\n",
               e->start, e->length, e->depth,
               (e->flags & BDRV_BLOCK_ALLOCATED) ? "true" : "false",
               (e->flags & BDRV_BLOCK_ZERO) ? "true" : "false",
               (e->flags & BDRV_BLOCK_DATA) ? "true" : "false");
        if (e->has_offset) {
            printf(", \"offset\": %" PRId64, e->offset);
        }
        printf("}");
        return true;
    }
    if ((e->flags & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO)) != BDRV_BLOCK_DATA) {
        return true;
    }
    if (!e->has_offset) {
        error_setg(errp, "File contains external, encrypted or compressed clusters.");
        return false;
    }
    printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", (uint64_t)e->start,
           (uint64_t)e->length, (uint64_t)e->offset, e->filename ? e->filename : "");
    return true;
}

/* Parses --start-offset / --max-length (what: "start offset", "length"); reports errors. */
static bool map_parse_size(const char *arg, uint64_t *out, const char *what)
{
    if (!img_parse_size(arg, out) || *out > INT64_MAX) {
        error_report("Invalid %s specified! You may use k, M, G, T, P or E suffixes for ", what);
        error_report("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
        return false;
    }
    return true;
}

static int img_map(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "start-offset", required_argument, NULL, OPT_START_OFFSET },
        { "max-length", required_argument, NULL, OPT_MAX_LENGTH },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *filename;
    bool json = false, first = true, have = false;
    uint64_t start = 0, max_len = UINT64_MAX;
    int64_t len, end, offset;
    BlockDriverState *bs, *b;
    MapEntry cur = { 0 };
    Error *err = NULL;
    int c, chain_depth = 0, ret = 1;

    while ((c = getopt_long(argc, argv, ":f:hU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': break;  /* images are not locked, so there is nothing to override */
        case OPT_OUTPUT:
            if (!img_parse_output(optarg, &json)) {
                return 1;
            }
            break;
        case OPT_START_OFFSET:
            if (!map_parse_size(optarg, &start, "start offset")) {
                return 1;
            }
            break;
        case OPT_MAX_LENGTH:
            if (!map_parse_size(optarg, &max_len, "length")) {
                return 1;
            }
            break;
        default:
            return img_option_end(argv, c, "map [-f fmt] [--start-offset=offset]"
                                  " [--max-length=len] [--output=ofmt] [-U] filename");
        }
    }
    filename = img_one_filename(argc, argv);
    if (!filename) {
        return 1;
    }
    bs = img_open(filename, fmt, 0, false, &err);
    if (!bs) {
        return img_fail(err);
    }
    for (b = bs->backing; b; b = b->backing) {
        chain_depth++;
    }
    len = bdrv_getlength(bs);
    if (len < 0) {
        error_report("Failed to get size for '%s'", filename);
        goto out;
    }
    end = len;
    if (max_len < (uint64_t)len && (int64_t)start < len && max_len < (uint64_t)(len - start)) {
        end = start + max_len;
    }
    if (json) {
        printf("[");
    } else {
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    }
    for (offset = start; offset < end;) {
        int64_t pnum, map = 0;
        BlockDriverState *file = NULL;
        int depth = 0;
        int st = bdrv_block_status_above(bs, NULL, offset, MIN(end - offset, 1ll << 30), &pnum,
                                         &map, &file, &depth);
        MapEntry e;

        if (st < 0) {
            error_report("Could not read file metadata: %s", strerror(-st));
            goto out;
        }
        if (pnum <= 0 || pnum > end - offset) {
            pnum = end - offset;
        }
        e = (MapEntry) {
            .start = offset, .length = pnum,
            .flags = st & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED),
            .depth = (st & BDRV_BLOCK_ALLOCATED) ? depth : chain_depth,
            .has_offset = (st & BDRV_BLOCK_OFFSET_VALID) != 0,
            .offset = map,
            .filename = file ? file->filename : NULL,
        };
        if (have && map_entry_mergeable(&cur, &e)) {
            cur.length += e.length;
        } else {
            if (have && !map_print(&cur, json, first, &err)) {
                goto out_err;
            }
            if (have) {
                first = false;
            }
            cur = e;
            have = true;
        }
        offset += pnum;
    }
    if (have && !map_print(&cur, json, first, &err)) {
        goto out_err;
    }
    if (json) {
        printf("]\n");
    }
    ret = 0;
    goto out;
out_err:
    fflush(stdout);
    img_fail(err);
out:
    bdrv_unref(bs);
    return ret;
}

/* ---- rebase ---- */

#define REBASE_CHUNK (64 * 1024)

static int img_rebase(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *out_base = NULL, *out_basefmt = NULL, *filename;
    const char *cache = NULL, *src_cache = NULL;
    bool unsafe = false, progress = false, quiet = false;
    BlockDriverState *bs = NULL, *new_base = NULL;
    uint8_t *buf_old = NULL, *buf_new = NULL;
    ImgProgress prog;
    Error *err = NULL;
    int c, ret = 1, flags = BDRV_O_RDWR, src_flags = 0;

    while ((c = getopt_long(argc, argv, ":hf:F:b:upt:T:qU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'F': out_basefmt = optarg; break;
        case 'b': out_base = optarg; break;
        case 'u': unsafe = true; break;
        case 'p': progress = true; break;
        case 't': cache = optarg; break;
        case 'T': src_cache = optarg; break;
        case 'q': quiet = true; break;
        case 'U': break;  /* images are not locked, so there is nothing to override */
        default:
            return img_option_end(argv, c, "rebase [-U] [-q] [-f fmt] [-t cache] [-T src_cache]"
                                  " [-p] [-u] -b backing_file [-F backing_fmt] filename");
        }
    }
    if (quiet) {
        progress = false;
    }
    filename = img_one_filename(argc, argv);
    if (!filename) {
        return 1;
    }
    if (!unsafe && !out_base) {
        img_usage_error("Must specify backing file (-b) or use unsafe mode (-u)");
        return 1;
    }
    if (!out_base) {
        out_base = "";
    }
    if (!img_check_format(out_basefmt, &err)) {
        return img_fail(err);
    }
    if (img_parse_cache(cache, &flags) < 0 || img_parse_cache(src_cache, &src_flags) < 0) {
        return 1;
    }
    if (*out_base && !out_basefmt) {
        error_report("Could not change the backing file to '%s': backing format must be "
                     "specified", out_base);
        return 1;
    }
    bs = img_open(filename, fmt, flags | (unsafe ? BDRV_O_NO_BACKING : 0), quiet, &err);
    if (!bs) {
        return img_fail(err);
    }
    if (!unsafe && bs->backing_file && !bs->backing) {
        error_report("Could not open old backing file '%s'", bs->backing_file);
        goto out;
    }

    if (!unsafe) {
        int64_t size, old_len = 0, new_len = 0, offset;

        if (*out_base) {
            char *path = img_backing_path(filename, out_base);

            new_base = img_open(path, out_basefmt, src_flags, true, &err);
            g_free(path);
            if (!new_base) {
                error_prepend(&err, "Could not open new backing file '%s': ", out_base);
                /* img_open already says "Could not open '<path>': ...". */
                ret = img_fail(err);
                goto out;
            }
            new_len = bdrv_getlength(new_base);
        }
        size = bdrv_getlength(bs);
        if (bs->backing) {
            old_len = bdrv_getlength(bs->backing);
        }
        if (size < 0 || old_len < 0 || new_len < 0) {
            error_report("Could not get the size of the images");
            goto out;
        }
        buf_old = g_malloc(REBASE_CHUNK);
        buf_new = g_malloc(REBASE_CHUNK);
        img_progress_start(&prog, progress);
        for (offset = 0; offset < size;) {
            int64_t n = MIN(size - offset, REBASE_CHUNK), pnum, map;
            BlockDriverState *file;
            int st = bdrv_block_status(bs, offset, n, &pnum, &map, &file);
            int r;

            if (st < 0) {
                error_report("error while reading image metadata: %s", strerror(-st));
                goto out;
            }
            if (pnum <= 0 || pnum > n) {
                pnum = n;
            }
            if (!(st & BDRV_BLOCK_ALLOCATED)) {
                /* This range shows the old backing's content; keep it under the new one. */
                r = bs->backing ? img_read_padded(bs->backing, old_len, offset, pnum, buf_old)
                                : (memset(buf_old, 0, pnum), 0);
                if (r >= 0) {
                    r = new_base ? img_read_padded(new_base, new_len, offset, pnum, buf_new)
                                 : (memset(buf_new, 0, pnum), 0);
                }
                if (r < 0) {
                    error_report("error while reading backing files: %s", strerror(-r));
                    goto out;
                }
                for (int64_t i = 0; i < pnum;) {
                    int64_t j = i, sec = BDRV_SECTOR_SIZE;

                    while (j < pnum && memcmp(buf_old + j, buf_new + j, MIN(sec, pnum - j))) {
                        j += MIN(sec, pnum - j);
                    }
                    if (j > i) {
                        r = bdrv_pwrite(bs, offset + i, j - i, buf_old + i);
                        if (r < 0) {
                            error_report("error while writing to COW image: %s",
                                         strerror(-r));
                            goto out;
                        }
                        i = j;
                    } else {
                        i += MIN(sec, pnum - i);
                    }
                }
            }
            offset += pnum;
            img_progress_print(&prog, (double)offset * 100.0 / (double)size, false);
        }
        img_progress_end(&prog);
    }

    ret = bdrv_change_backing_file(bs, *out_base ? out_base : NULL,
                                   *out_base ? out_basefmt : NULL);
    if (ret < 0) {
        error_report("Could not change the backing file to '%s': %s", out_base,
                     strerror(-ret));
        ret = 1;
        goto out;
    }
    ret = bdrv_flush(bs) < 0 ? 1 : 0;
    if (ret) {
        error_report("Could not flush '%s'", filename);
    }
out:
    g_free(buf_old);
    g_free(buf_new);
    if (new_base) {
        bdrv_unref(new_base);
    }
    if (bs) {
        bdrv_unref(bs);
    }
    return ret;
}

/* ---- amend ---- */

static int img_amend(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "force", no_argument, NULL, OPT_FORCE },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *filename, *cache = "writeback";
    GString *optstr = g_string_new(NULL);
    BlockCreateOpts opts = { 0 };
    bool quiet = false, progress = false, force = false;
    BlockDriverState *bs = NULL;
    ImgProgress prog;
    Error *err = NULL;
    int c, ret = 1, flags = BDRV_O_RDWR;

    while ((c = getopt_long(argc, argv, ":ho:f:t:pq", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (optstr->len) {
                g_string_append_c(optstr, ',');
            }
            g_string_append(optstr, optarg);
            break;
        case 'f': fmt = optarg; break;
        case 't': cache = optarg; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case OPT_FORCE: force = true; break;
        default:
            g_string_free(optstr, true);
            return img_option_end(argv, c, "amend [-p] [-q] [-f fmt] [-t cache] [--force] -o"
                                  " options filename");
        }
    }
    if (quiet) {
        progress = false;
    }
    if (!optstr->len) {
        img_usage_error("Must specify options (-o)");
        goto out;
    }
    if (optind != argc - 1 && strcmp(optstr->str, "help")) {
        img_usage_error("Expecting one image file name");
        goto out;
    }
    filename = optind < argc ? argv[optind] : NULL;
    if (!strcmp(optstr->str, "help") && (fmt || !filename)) {
        const char *f = fmt ? fmt : "qcow2";

        if (!img_check_format(f, &err)) {
            ret = img_fail(err);
            goto out;
        }
        printf("Amend options for '%s':\n", f);
        bdrv_create_opts_print_help(f, stdout);
        ret = 0;
        goto out;
    }
    if (img_parse_cache(cache, &flags) < 0) {
        goto out;
    }
    bs = img_open(filename, fmt, flags, quiet, &err);
    if (!bs) {
        ret = img_fail(err);
        goto out;
    }
    fmt = bdrv_get_format_name(bs);
    if (!bs->drv->amend) {
        error_report("Format driver '%s' does not support option amendment", fmt);
        goto out;
    }
    if (!strcmp(optstr->str, "help")) {
        printf("Amend options for '%s':\n", fmt);
        bdrv_create_opts_print_help(fmt, stdout);
        ret = 0;
        goto out;
    }
    if (!bdrv_create_opts_parse(fmt, &opts, optstr->str, &err)) {
        ret = img_fail(err);
        goto out;
    }
    img_progress_start(&prog, progress);
    if (!bdrv_amend(bs, &opts, force, &err)) {
        img_progress_end(&prog);
        error_prepend(&err, "Error while amending options: ");
        ret = img_fail(err);
        goto out;
    }
    img_progress_end(&prog);
    ret = 0;
out:
    if (bs) {
        bdrv_unref(bs);
    }
    bdrv_create_opts_clear(&opts);
    g_string_free(optstr, true);
    return ret;
}

/* ---- main ---- */

typedef struct ImgCommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *syntax;
} ImgCommand;

static const ImgCommand img_commands[] = {
    { "amend", img_amend,
      "amend [-p] [-q] [-f fmt] [-t cache] [--force] -o options filename" },
    { "check", img_check,
      "check [-q] [-f fmt] [--output=ofmt] [-r [leaks | all]] [-T src_cache] [-U] filename" },
    { "compare", img_compare,
      "compare [-f fmt] [-F fmt] [-T src_cache] [-p] [-q] [-s] [-U] filename1 filename2" },
    { "convert", img_convert,
      "convert [--target-is-zero] [-U] [-c] [-p] [-q] [-n] [-f fmt] [-t cache] [-T src_cache]"
      " [-O output_fmt] [-B backing_file [-F backing_fmt]] [-o options] [-S sparse_size]"
      " [-m num_workers] [-W] filename [filename2 [...]] output_filename" },
    { "create", img_create,
      "create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] filename"
      " [size]" },
    { "info", img_info,
      "info [-f fmt] [--output=ofmt] [--backing-chain] [-U] filename" },
    { "map", img_map,
      "map [-f fmt] [--start-offset=offset] [--max-length=len] [--output=ofmt] [-U] filename" },
    { "snapshot", img_snapshot,
      "snapshot [-U] [-q] [-l | -a snapshot | -c snapshot | -d snapshot] filename" },
    { "rebase", img_rebase,
      "rebase [-U] [-q] [-f fmt] [-t cache] [-T src_cache] [-p] [-u] -b backing_file"
      " [-F backing_fmt] filename" },
    { "resize", img_resize,
      "resize [-f fmt] [--preallocation=prealloc] [-q] [--shrink] filename [+ | -]size" },
};

static void img_print_format(const char *name, void *opaque)
{
    printf(" %s", name);
}

static void img_help(void)
{
    printf("usage: " PROGNAME " [standard options] command [command options]\n"
           "Vessel disk image utility\n\n"
           "    '-h', '--help'       display this help and exit\n"
           "    '-V', '--version'    output version information and exit\n\n"
           "Command syntax:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(img_commands); i++) {
        printf("  %s\n", img_commands[i].syntax);
    }
    printf("\nCommand parameters:\n"
           "  'filename' is a disk image filename\n"
           "  'fmt' is the disk image format. It is guessed automatically in most cases\n"
           "  'cache' is the cache mode used to write the output disk image: 'none',\n"
           "    'writeback' (default, except for convert), 'writethrough', 'directsync'\n"
           "    and 'unsafe' (default for convert)\n"
           "  'src_cache' is the cache mode used to read input disk images\n"
           "  'size' is the disk image size in bytes. Optional suffixes 'k' or 'K'\n"
           "    (kilobyte, 1024), 'M' (megabyte, 1024k), 'G' (gigabyte, 1024M),\n"
           "    'T' (terabyte, 1024G), 'P' (petabyte, 1024T) and 'E' (exabyte, 1024P)\n"
           "    are supported. 'b' is ignored.\n"
           "  'output_filename' is the destination disk image filename\n"
           "  'output_fmt' is the destination format\n"
           "  'options' is a comma separated list of format specific options in a\n"
           "    name=value format. Use -o help for an overview of the options supported\n"
           "  '-c' indicates that target image must be compressed (qcow2 only)\n"
           "  '-u' allows unsafe backing chains: rebase only rewrites the backing file name;\n"
           "    create does not open the backing file\n"
           "  '-p' show progress of command (only certain commands)\n"
           "  '-q' use Quiet mode - do not print any output (except errors)\n"
           "  '-S' the consecutive number of bytes (defaults to 4k) that must contain only\n"
           "    zeros for convert to leave a hole; 0 allocates the whole target\n"
           "  '--output' takes the format in which the output must be done (human or json)\n"
           "  '-n' skips the target volume creation\n"
           "  '-W' lets convert write the target out of order\n"
           "  '-U' is accepted for compatibility; " PROGNAME " does not lock images\n\n"
           "Parameters to check subcommand:\n"
           "  '-r' tries to repair inconsistencies: 'leaks' repairs only cluster leaks,\n"
           "    'all' fixes all kinds of errors\n\n"
           "Parameters to snapshot subcommand:\n"
           "  '-a' applies, '-c' creates, '-d' deletes a snapshot; '-l' lists them\n\n"
           "Parameters to compare subcommand:\n"
           "  '-f' first image format, '-F' second image format\n"
           "  '-s' run in Strict mode - fail on different image size or sector allocation\n\n"
           "Supported formats:");
    bdrv_iterate_format(img_print_format, NULL);
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *cmd;

    error_set_progname(PROGNAME);
    if (argc < 2) {
        img_usage_error("Not enough arguments");
        return 1;
    }
    cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        img_help();
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf(PROGNAME " version " VESSEL_VERSION "\n");
        return 0;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(img_commands); i++) {
        if (!strcmp(cmd, img_commands[i].name)) {
            int ret;

            /* getopt starts at argv[1], which becomes the sub-command's own name. */
            optind = 0;
            opterr = 0;
            ret = img_commands[i].fn(argc - 1, argv + 1);
            fflush(stdout);
            return ret;
        }
    }
    img_usage_error("Command not found: %s", cmd);
    return 1;
}
