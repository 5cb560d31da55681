#ifndef ACCEL_ACCEL_H
#define ACCEL_ACCEL_H

#include <stdbool.h>
#include "util/error.h"
#include "accel/cpu.h"

/* One ops table per accelerator (tcg, kvm); the generic vCPU loop calls these. */
typedef struct AccelOps {
    const char *name;
    /* Prepares the accelerator for machine m; fails when it cannot run it (no /dev/kvm,
     * foreign architecture). Called before the board creates its CPUs. */
    bool (*init)(Machine *m, Error **errp);
    bool (*vcpu_init)(CPUState *cpu, Error **errp);
    /* Runs guest code on the vCPU thread without the big lock; returns ACCEL_EXIT_*. */
    int (*vcpu_exec)(CPUState *cpu);
    /* Makes vcpu_exec return soon; any thread. */
    void (*vcpu_kick)(CPUState *cpu);
    /* Brings the CPUState registers up to date before the monitor reads them. */
    void (*sync_regs)(CPUState *cpu);
} AccelOps;

void accel_register(const AccelOps *ops);
const AccelOps *accel_find(const char *name);
/* Tries each name of a "kvm:tcg" list in order; the first whose init succeeds wins. */
const AccelOps *accel_select(Machine *m, const char *list, Error **errp);
/* Lists the registered accelerators (for -accel help). */
void accel_print_list(void);

#endif
