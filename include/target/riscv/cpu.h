#ifndef TARGET_RISCV_CPU_H
#define TARGET_RISCV_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include "accel/cpu.h"
#include "hw/core/machine.h"

/* The board's view of a RISC-V hart; the internals live in target/riscv/. */

/* mip bit numbers */
enum {
    RISCV_IRQ_S_SOFT = 1,
    RISCV_IRQ_M_SOFT = 3,
    RISCV_IRQ_S_TIMER = 5,
    RISCV_IRQ_M_TIMER = 7,
    RISCV_IRQ_S_EXT = 9,
    RISCV_IRQ_M_EXT = 11,
};

/* Creates hart hartid (RV64GC, M/S/U, Sv39/Sv48, PMP) with machine memory; reset_pc is
 * where it starts after every reset. */
CPUState *riscv_cpu_create(Machine *m, unsigned hartid, uint64_t reset_pc, Error **errp);
/* Sets or clears mip bit irq; thread-safe (atomic) and wakes the hart. Big lock held. */
void riscv_cpu_set_irq(CPUState *cpu, int irq, int level);
/* The source of the time CSR (rdtime), in timebase ticks; set by the ACLINT. */
void riscv_cpu_set_time_source(CPUState *cpu, uint64_t (*get_time)(void *opaque),
                               void *opaque);
/* The "riscv,isa" string for the device tree, e.g. "rv64imafdc_zicsr_zifencei". */
const char *riscv_cpu_isa_string(CPUState *cpu);
/* The "mmu-type" string for the device tree ("riscv,sv48"). */
const char *riscv_cpu_mmu_type(CPUState *cpu);

#endif
