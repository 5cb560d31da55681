/*
 * QEMU-style option strings ("value,key=value,flag,noflag") and the number, size and
 * boolean parsers shared by the command line, -chardev and device properties.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "util/option.h"

typedef struct OptEntry {
    char *key;
    char *value;      /* NULL for a bare word ("server", "nowait") */
    bool used;
} OptEntry;

struct Opts {
    GPtrArray *entries;   /* of OptEntry *, in command line order */
};

static void opt_entry_free(gpointer p)
{
    OptEntry *e = p;

    g_free(e->key);
    g_free(e->value);
    g_free(e);
}

/* Copies one element of str up to an unescaped ',' (",," is a literal comma); *pos moves on. */
static char *opts_next_element(const char *str, size_t *pos)
{
    GString *out = g_string_new(NULL);
    size_t i = *pos;

    while (str[i]) {
        if (str[i] == ',') {
            if (str[i + 1] == ',') {
                g_string_append_c(out, ',');
                i += 2;
                continue;
            }
            break;
        }
        g_string_append_c(out, str[i]);
        i++;
    }
    *pos = i;
    return g_string_free(out, FALSE);
}

Opts *opts_parse(const char *str, const char *implied_key, Error **errp)
{
    Opts *opts = g_new0(Opts, 1);
    size_t pos = 0;
    bool first = true;

    opts->entries = g_ptr_array_new_with_free_func(opt_entry_free);
    if (!str) {
        str = "";
    }
    while (str[pos]) {
        char *elem = opts_next_element(str, &pos);
        char *eq = strchr(elem, '=');
        OptEntry *e = g_new0(OptEntry, 1);

        if (eq) {
            e->key = g_strndup(elem, eq - elem);
            e->value = g_strdup(eq + 1);
        } else if (first && implied_key) {
            e->key = g_strdup(implied_key);
            e->value = g_strdup(elem);
        } else {
            e->key = g_strdup(elem);
        }
        g_free(elem);
        if (!e->key[0]) {
            error_setg(errp, "empty parameter name in '%s'", str);
        } else if (first && !implied_key && !e->value) {
            error_setg(errp, "parameter '%s' needs a value ('%s=...')", e->key, e->key);
        }
        if (!e->key[0] || (first && !implied_key && !e->value)) {
            opt_entry_free(e);
            opts_free(opts);
            return NULL;
        }
        g_ptr_array_add(opts->entries, e);
        first = false;
        if (str[pos] == ',') {
            pos++;          /* a trailing ',' ends the list, as in QEMU */
        }
    }
    return opts;
}

void opts_free(Opts *opts)
{
    if (opts) {
        g_ptr_array_free(opts->entries, TRUE);
        g_free(opts);
    }
}

/* Finds the last entry for key (also a bare "key" or "nokey"); *value gets its text. */
static OptEntry *opts_lookup(Opts *opts, const char *key, const char **value)
{
    for (guint i = opts->entries->len; i-- > 0;) {
        OptEntry *e = g_ptr_array_index(opts->entries, i);

        if (!strcmp(e->key, key)) {
            *value = e->value ? e->value : "on";
            return e;
        }
        if (!e->value && !strncmp(e->key, "no", 2) && !strcmp(e->key + 2, key)) {
            *value = "off";
            return e;
        }
    }
    return NULL;
}

const char *opts_get(Opts *opts, const char *key)
{
    const char *value = NULL;

    for (guint i = 0; i < opts->entries->len; i++) {
        OptEntry *e = g_ptr_array_index(opts->entries, i);

        if (!strcmp(e->key, key) ||
            (!e->value && !strncmp(e->key, "no", 2) && !strcmp(e->key + 2, key))) {
            e->used = true;
        }
    }
    opts_lookup(opts, key, &value);
    return value;
}

bool opts_has(Opts *opts, const char *key)
{
    const char *value;

    return opts_lookup(opts, key, &value) != NULL;
}

bool opts_get_bool(Opts *opts, const char *key, bool def, bool *out, Error **errp)
{
    const char *value = opts_get(opts, key);

    if (!value) {
        *out = def;
        return true;
    }
    if (!parse_bool(value, out, NULL)) {
        error_setg(errp, "parameter '%s' expects 'on' or 'off', got '%s'", key, value);
        return false;
    }
    return true;
}

bool opts_get_number(Opts *opts, const char *key, uint64_t def, uint64_t *out, Error **errp)
{
    const char *value = opts_get(opts, key);

    if (!value) {
        *out = def;
        return true;
    }
    if (!parse_uint64(value, out, NULL)) {
        error_setg(errp, "parameter '%s' expects a number, got '%s'", key, value);
        return false;
    }
    return true;
}

bool opts_get_size(Opts *opts, const char *key, uint64_t def, uint64_t *out, Error **errp)
{
    const char *value = opts_get(opts, key);

    if (!value) {
        *out = def;
        return true;
    }
    if (!parse_size(value, 'B', out, NULL)) {
        error_setg(errp, "parameter '%s' expects a size (optional suffix k, M, G or T), "
                   "got '%s'", key, value);
        return false;
    }
    return true;
}

bool opts_check_all_used(Opts *opts, const char *what, Error **errp)
{
    for (guint i = 0; i < opts->entries->len; i++) {
        OptEntry *e = g_ptr_array_index(opts->entries, i);

        if (!e->used) {
            if (what) {
                error_setg(errp, "invalid parameter '%s' for %s", e->key, what);
            } else {
                error_setg(errp, "invalid parameter '%s'", e->key);
            }
            return false;
        }
    }
    return true;
}

void opts_foreach(Opts *opts, void (*fn)(const char *key, const char *value, void *opaque),
                  void *opaque)
{
    for (guint i = 0; i < opts->entries->len; i++) {
        OptEntry *e = g_ptr_array_index(opts->entries, i);

        fn(e->key, e->value ? e->value : "on", opaque);
    }
}

void opts_mark_all_used(Opts *opts)
{
    for (guint i = 0; i < opts->entries->len; i++) {
        OptEntry *e = g_ptr_array_index(opts->entries, i);

        e->used = true;
    }
}

bool parse_uint64(const char *str, uint64_t *out, Error **errp)
{
    char *end;
    unsigned long long v;

    /* strtoull accepts leading blanks and a minus sign; a number here has neither. */
    if (!str || !g_ascii_isdigit(str[0])) {
        error_setg(errp, "invalid number '%s'", str ? str : "");
        return false;
    }
    errno = 0;
    v = strtoull(str, &end, 0);
    if (errno || *end) {
        error_setg(errp, "invalid number '%s'", str);
        return false;
    }
    *out = v;
    return true;
}

/* Bytes per unit for a size suffix; 0 when c is not a suffix. */
static uint64_t size_suffix_mult(char c)
{
    switch (g_ascii_toupper(c)) {
    case 'B': return 1;
    case 'K': return 1ULL << 10;
    case 'M': return 1ULL << 20;
    case 'G': return 1ULL << 30;
    case 'T': return 1ULL << 40;
    case 'P': return 1ULL << 50;
    case 'E': return 1ULL << 60;
    default:  return 0;
    }
}

bool parse_size(const char *str, char default_suffix, uint64_t *out, Error **errp)
{
    const char *p = str;
    uint64_t whole = 0, mult;
    double frac = 0.0, scale = 0.1;
    bool digits = false, has_frac = false;

    if (!str) {
        str = p = "";
    }
    while (g_ascii_isdigit(*p)) {
        unsigned d = *p - '0';

        if (whole > (UINT64_MAX - d) / 10) {
            goto bad;
        }
        whole = whole * 10 + d;
        digits = true;
        p++;
    }
    if (*p == '.') {
        p++;
        while (g_ascii_isdigit(*p)) {
            frac += (*p - '0') * scale;
            scale /= 10;
            has_frac = true;
            p++;
        }
    }
    if (!digits && !has_frac) {
        goto bad;
    }
    if (*p) {
        mult = size_suffix_mult(*p);
        if (!mult || p[1]) {
            goto bad;
        }
    } else {
        mult = size_suffix_mult(default_suffix ? default_suffix : 'B');
        if (!mult) {
            mult = 1;
        }
    }
    if (has_frac && mult == 1) {
        goto bad;
    }
    if (whole > UINT64_MAX / mult) {
        goto bad;
    }
    {
        uint64_t v = whole * mult;
        double extra = frac * (double)mult;

        if (extra >= (double)(UINT64_MAX - v)) {
            goto bad;
        }
        *out = v + (uint64_t)extra;
    }
    return true;

bad:
    error_setg(errp, "invalid size '%s'", str);
    return false;
}

bool parse_bool(const char *str, bool *out, Error **errp)
{
    static const char *const yes[] = { "on", "yes", "true", "y", NULL };
    static const char *const no[] = { "off", "no", "false", "n", NULL };

    for (int i = 0; str && yes[i]; i++) {
        if (!strcmp(str, yes[i])) {
            *out = true;
            return true;
        }
        if (!strcmp(str, no[i])) {
            *out = false;
            return true;
        }
    }
    error_setg(errp, "invalid boolean '%s' (use on or off)", str ? str : "");
    return false;
}
