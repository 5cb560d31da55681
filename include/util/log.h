#ifndef UTIL_LOG_H
#define UTIL_LOG_H

#include <stdbool.h>
#include <stdint.h>

/* -d items, as QEMU names them. */
enum {
    LOG_GUEST_ERROR = 1 << 0, /* guest_errors: guest did something invalid */
    LOG_UNIMP       = 1 << 1, /* unimp: guest used an unimplemented feature */
    LOG_INT         = 1 << 2, /* int: interrupts and exceptions */
    LOG_IN_ASM      = 1 << 3, /* in_asm: guest code as it is translated */
    LOG_EXEC        = 1 << 4, /* exec: every translated block executed */
    LOG_CPU         = 1 << 5, /* cpu: register state before each block */
    LOG_MMU         = 1 << 6, /* mmu: page table walks and faults */
};

extern int log_mask;

/* Parses a -d list ("int,guest_errors" or "help"); false with *errp on unknown items. */
struct Error;
bool log_parse_items(const char *str, int *mask, struct Error **errp);
void log_print_help(void);
/* Sends the log to path (-D); stderr by default. */
bool log_set_file(const char *path, struct Error **errp);

static inline bool log_enabled(int mask)
{
    return (log_mask & mask) != 0;
}
void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs when any bit of mask is enabled. */
#define log_mask_printf(mask, ...) do { if (log_enabled(mask)) log_printf(__VA_ARGS__); } while (0)

#endif
