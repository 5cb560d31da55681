#ifndef ACCEL_CPU_H
#define ACCEL_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <glib.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"

typedef struct CPUState CPUState;
typedef struct Machine Machine;

/* What a target supplies to the generic vCPU loop and the accelerators. */
typedef struct CPUOps {
    const char *arch;                      /* "riscv64", "x86_64" */
    /* Power-on state of the registers (the boot code then sets pc/args). */
    void (*reset)(CPUState *cpu);
    /* True when a pending, enabled interrupt should wake the vCPU from WFI/HLT. */
    bool (*has_work)(CPUState *cpu);
    /* Appends the register dump of "info registers". */
    void (*dump_state)(CPUState *cpu, GString *out);
    /* Runs the interpreter until exit_request, halt or stop; returns an ACCEL_EXIT_* code. */
    int (*tcg_exec)(CPUState *cpu);
    /* Per-vCPU interpreter state; called once before the thread starts. */
    bool (*tcg_init)(CPUState *cpu, Error **errp);
    /* Guest virtual -> physical for the debugger and monitor; -1 when unmapped. */
    int64_t (*debug_translate)(CPUState *cpu, uint64_t vaddr);
    /* The program counter (info cpus / query-cpus-fast). */
    uint64_t (*get_pc)(CPUState *cpu);
} CPUOps;

/* Exit codes of AccelOps.vcpu_exec and CPUOps.tcg_exec. */
enum {
    ACCEL_EXIT_KICKED = 0,   /* exit_request was seen: the loop re-checks stop/halt state */
    ACCEL_EXIT_HALTED,       /* the guest executed WFI/HLT: sleep until has_work */
    ACCEL_EXIT_ERROR,        /* unrecoverable: the VM stops with internal-error */
};

struct CPUState {
    Object obj;
    const CPUOps *ops;
    int index;                       /* 0..smp-1; also the hart id on riscv */
    Machine *machine;
    AddressSpace *as;
    pthread_t thread;
    pthread_cond_t cond;             /* halt and pause wake-ups (waited on with the big lock) */
    uint32_t exit_request;           /* atomic; the accelerator polls it at block boundaries */
    bool halted;                     /* in WFI/HLT; protected by the big lock */
    bool stop;                       /* pause requested; protected by the big lock */
    bool stopped;                    /* parked in the vCPU loop; protected by the big lock */
    bool thread_started;
    void *accel_data;                /* the accelerator's per-vCPU state */
};

/* Asks the vCPU to leave guest code soon and re-check its state; any thread. */
void cpu_exit(CPUState *cpu);
/* cpu_exit plus waking a halted vCPU (call with the big lock held, after raising the
 * interrupt that should wake it). */
void cpu_kick(CPUState *cpu);
/* Starts the vCPU thread running the generic loop (with the machine's accelerator). */
bool cpu_start_thread(CPUState *cpu, Error **errp);
/* Parks every vCPU and waits until all are parked (main thread, big lock held). */
void cpus_pause_all(void);
void cpus_resume_all(void);
/* Resets every vCPU with its CPUOps.reset (vCPUs must be paused). */
void cpus_reset_all(void);

#endif
