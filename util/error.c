/* Errors as values: created where they happen, reported once at the edge. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "util/error.h"

struct Error {
    char *msg;
    ErrorClass cls;
};

static const char *error_progname = "vessel";

void error_set_progname(const char *name)
{
    error_progname = name;
}

static void error_setv(Error **errp, ErrorClass cls, const char *fmt, va_list ap)
{
    if (!errp || *errp) {
        return;
    }
    Error *err = g_new0(Error, 1);
    err->msg = g_strdup_vprintf(fmt, ap);
    err->cls = cls;
    *errp = err;
}

void error_setg(Error **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_setv(errp, ERROR_CLASS_GENERIC_ERROR, fmt, ap);
    va_end(ap);
}

void error_set(Error **errp, ErrorClass cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_setv(errp, cls, fmt, ap);
    va_end(ap);
}

void error_setg_errno(Error **errp, int errnum, const char *fmt, ...)
{
    if (!errp || *errp) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_setg(errp, "%s: %s", msg, strerror(errnum));
    g_free(msg);
}

void error_prepend(Error **errp, const char *fmt, ...)
{
    if (!errp || !*errp) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *msg = g_strconcat(prefix, (*errp)->msg, NULL);
    g_free(prefix);
    g_free((*errp)->msg);
    (*errp)->msg = msg;
}

void error_propagate(Error **dst, Error *local)
{
    if (!local) {
        return;
    }
    if (dst && !*dst) {
        *dst = local;
    } else {
        error_free(local);
    }
}

const char *error_get_pretty(const Error *err)
{
    return err->msg;
}

ErrorClass error_get_class(const Error *err)
{
    return err->cls;
}

const char *error_class_name(ErrorClass cls)
{
    switch (cls) {
    case ERROR_CLASS_COMMAND_NOT_FOUND:
        return "CommandNotFound";
    case ERROR_CLASS_DEVICE_NOT_ACTIVE:
        return "DeviceNotActive";
    case ERROR_CLASS_DEVICE_NOT_FOUND:
        return "DeviceNotFound";
    case ERROR_CLASS_GENERIC_ERROR:
    default:
        return "GenericError";
    }
}

void error_free(Error *err)
{
    if (err) {
        g_free(err->msg);
        g_free(err);
    }
}

void error_report_err(Error *err)
{
    fprintf(stderr, "%s: %s\n", error_progname, err->msg);
    error_free(err);
}

void error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", error_progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: warning: ", error_progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
