#ifndef UTIL_OPTION_H
#define UTIL_OPTION_H

#include <stdbool.h>
#include <stdint.h>
#include "util/error.h"

/*
 * QEMU-style option strings: "value,key=value,key2=value2". A leading bare value is stored
 * under the implied key; ",," stands for a literal comma; "key" alone means key=on and
 * "nokey" means key=off when the key is declared boolean by the caller.
 */
typedef struct Opts Opts;

/* Parses str; implied_key may be NULL (then a leading bare word is an error). */
Opts *opts_parse(const char *str, const char *implied_key, Error **errp);
void opts_free(Opts *opts);
/* Value of key or NULL; marks it as used. */
const char *opts_get(Opts *opts, const char *key);
bool opts_has(Opts *opts, const char *key);
/* Parses "on|off|yes|no|true|false"; def when absent; false with *errp when malformed. */
bool opts_get_bool(Opts *opts, const char *key, bool def, bool *out, Error **errp);
bool opts_get_number(Opts *opts, const char *key, uint64_t def, uint64_t *out, Error **errp);
/* Sizes with k/M/G/T suffix (bare numbers are bytes). */
bool opts_get_size(Opts *opts, const char *key, uint64_t def, uint64_t *out, Error **errp);
/* Fails naming the first key no opts_get* call asked for. */
bool opts_check_all_used(Opts *opts, const char *what, Error **errp);
/* Calls fn for each key=value in order. */
void opts_foreach(Opts *opts, void (*fn)(const char *key, const char *value, void *opaque),
                  void *opaque);
/* Marks every key as used (when another layer consumes them). */
void opts_mark_all_used(Opts *opts);

/* Parses a size such as "256", "256M", "1G", "4k"; default_suffix applies to bare numbers
 * (e.g. 'M' for -m). */
bool parse_size(const char *str, char default_suffix, uint64_t *out, Error **errp);
bool parse_uint64(const char *str, uint64_t *out, Error **errp);
bool parse_bool(const char *str, bool *out, Error **errp);

#endif
