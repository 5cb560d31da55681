#ifndef UTIL_ERROR_H
#define UTIL_ERROR_H

#include <stdbool.h>
#include <stdarg.h>

/* An error travels back to the caller as a value and is reported once at the edge. */
typedef struct Error Error;

/* Error class names as QMP spells them. */
typedef enum ErrorClass {
    ERROR_CLASS_GENERIC_ERROR,
    ERROR_CLASS_COMMAND_NOT_FOUND,
    ERROR_CLASS_DEVICE_NOT_ACTIVE,
    ERROR_CLASS_DEVICE_NOT_FOUND,
} ErrorClass;

/* Stores a formatted error in *errp unless errp is NULL or *errp is already set. */
void error_setg(Error **errp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void error_set(Error **errp, ErrorClass cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like error_setg, with ": strerror(errnum)" appended. */
void error_setg_errno(Error **errp, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the message of an already set error ("prefix: old message"). */
void error_prepend(Error **errp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Moves local into *dst (or frees it when dst is NULL or already set). */
void error_propagate(Error **dst, Error *local);
const char *error_get_pretty(const Error *err);
ErrorClass error_get_class(const Error *err);
const char *error_class_name(ErrorClass cls);
void error_free(Error *err);
/* Prints "vessel: <message>" to stderr and frees err. */
void error_report_err(Error *err);
/* Prints "vessel: <formatted>" to stderr. */
void error_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Program name used as the message prefix ("vessel" by default). */
void error_set_progname(const char *name);

#endif
