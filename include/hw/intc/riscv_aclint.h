#ifndef HW_INTC_RISCV_ACLINT_H
#define HW_INTC_RISCV_ACLINT_H

#include <stdint.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"
#include "util/timer.h"

/* SiFive CLINT layout of the ACLINT MSWI and MTIMER: msip[hart] at 0x0 + 4*hart,
 * mtimecmp[hart] at 0x4000 + 8*hart, mtime at 0xbff8. mtime counts at timebase-freq
 * from the host monotonic clock and reads 0 after reset. */
typedef struct RiscvAclint RiscvAclint;

typedef struct RiscvAclintHart {
    RiscvAclint *clint;
    IrqLine *msip_irq;          /* connected with riscv_aclint_connect */
    IrqLine *mtip_irq;
    uint32_t msip;
    uint64_t mtimecmp;
    Timer *timer;               /* fires when mtime reaches mtimecmp */
} RiscvAclintHart;

struct RiscvAclint {
    Object obj;
    MemoryRegion mmio;          /* RISCV_ACLINT_SIZE bytes */
    uint32_t num_harts;         /* property "num-harts" */
    uint64_t timebase_freq;     /* property "timebase-freq", Hz */
    RiscvAclintHart *harts;     /* num_harts entries after realize */
    int64_t mtime_delta;        /* mtime minus ticks of clock_ns(); read atomically */
};

#define RISCV_ACLINT_SIZE 0x10000
#define RISCV_ACLINT_MTIMECMP_BASE 0x4000
#define RISCV_ACLINT_MTIME 0xbff8

extern const ObjectClass riscv_aclint_class;

/* Routes hart's machine software and timer interrupts (after realize). */
void riscv_aclint_connect(RiscvAclint *s, unsigned hart, IrqLine *msip, IrqLine *mtip);
/* The current mtime; a time source for riscv_cpu_set_time_source (any thread). */
uint64_t riscv_aclint_get_time(void *opaque);

#endif
