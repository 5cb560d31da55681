/* The accelerator registry and -accel selection. */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "accel/accel.h"

static GPtrArray *accels;

void accel_register(const AccelOps *ops)
{
    if (!accels) {
        accels = g_ptr_array_new();
    }
    g_ptr_array_add(accels, (gpointer)ops);
}

const AccelOps *accel_find(const char *name)
{
    for (guint i = 0; accels && i < accels->len; i++) {
        const AccelOps *ops = g_ptr_array_index(accels, i);
        if (strcmp(ops->name, name) == 0) {
            return ops;
        }
    }
    return NULL;
}

const AccelOps *accel_select(Machine *m, const char *list, Error **errp)
{
    char **names = g_strsplit(list, ":", -1);
    const AccelOps *chosen = NULL;
    Error *last = NULL;
    for (char **n = names; *n && !chosen; n++) {
        const AccelOps *ops = accel_find(*n);
        if (!ops) {
            error_free(last);
            last = NULL;
            error_setg(&last, "invalid accelerator %s", *n);
            continue;
        }
        error_free(last);
        last = NULL;
        if (ops->init(m, &last)) {
            chosen = ops;
        } else if (n[1]) {
            fprintf(stderr, "vessel: %s not available: %s; trying the next accelerator\n",
                    ops->name, error_get_pretty(last));
        }
    }
    g_strfreev(names);
    if (!chosen) {
        if (last) {
            error_propagate(errp, last);
        } else {
            error_setg(errp, "no accelerator given");
        }
        return NULL;
    }
    error_free(last);
    return chosen;
}

void accel_print_list(void)
{
    printf("Accelerators supported in Vessel binary:\n");
    for (guint i = 0; accels && i < accels->len; i++) {
        printf("%s\n", ((const AccelOps *)g_ptr_array_index(accels, i))->name);
    }
}
