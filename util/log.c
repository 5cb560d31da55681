/*
 * Debug logging selected with -d and redirected with -D, as in QEMU.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "util/error.h"
#include "util/log.h"

int log_mask;

/* The -D file; NULL means stderr. */
static FILE *log_file;

typedef struct LogItem {
    int mask;
    const char *name;
    const char *help;
} LogItem;

static const LogItem log_items[] = {
    { LOG_IN_ASM, "in_asm", "show target assembly code for each translated block" },
    { LOG_INT, "int", "show interrupts/exceptions in short format" },
    { LOG_EXEC, "exec", "show trace before each executed block (lots of logs)" },
    { LOG_CPU, "cpu", "show CPU registers before entering a block (lots of logs)" },
    { LOG_MMU, "mmu", "log MMU-related activities" },
    { LOG_UNIMP, "unimp", "log unimplemented functionality" },
    { LOG_GUEST_ERROR, "guest_errors",
      "log when the guest OS does something invalid (eg accessing a non-existent register)" },
    { 0, NULL, NULL },
};

bool log_parse_items(const char *str, int *mask, Error **errp)
{
    char **items = g_strsplit(str ? str : "", ",", -1);
    int m = 0;
    bool ok = true;

    for (int i = 0; items[i] && ok; i++) {
        const LogItem *it;

        if (!items[i][0]) {
            continue;
        }
        if (!strcmp(items[i], "all")) {
            for (it = log_items; it->name; it++) {
                m |= it->mask;
            }
            continue;
        }
        for (it = log_items; it->name && strcmp(it->name, items[i]); it++) {
        }
        if (!it->name) {
            error_setg(errp, "unknown log item '%s' (use -d help for a list)", items[i]);
            ok = false;
        }
        m |= it->mask;
    }
    g_strfreev(items);
    if (ok) {
        *mask = m;
    }
    return ok;
}

void log_print_help(void)
{
    printf("Log items (comma separated):\n");
    for (const LogItem *it = log_items; it->name; it++) {
        printf("%-15s %s\n", it->name, it->help);
    }
    printf("%-15s %s\n", "all", "every item above");
}

bool log_set_file(const char *path, Error **errp)
{
    FILE *f = fopen(path, "w");

    if (!f) {
        error_setg_errno(errp, errno, "cannot open log file '%s'", path);
        return false;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    if (log_file) {
        fclose(log_file);
    }
    log_file = f;
    return true;
}

void log_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(log_file ? log_file : stderr, fmt, ap);
    va_end(ap);
}
