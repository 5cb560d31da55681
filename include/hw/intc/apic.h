#ifndef HW_INTC_APIC_H
#define HW_INTC_APIC_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "util/timer.h"
#include "accel/cpu.h"

/*
 * Local APICs in user space (xAPIC mode, x2APIC not offered): one per vCPU, all reached
 * through one 4 KiB MMIO window at 0xfee00000 in which each vCPU sees its own LAPIC. The
 * timer counts at a 1 GHz bus clock divided by the divide configuration register (one-shot,
 * periodic and TSC-deadline modes). State is protected by the big lock; the vCPU polls
 * ApicState.pending without it.
 */

#define APIC_MMIO_SIZE 0x1000
#define APIC_BUS_HZ 1000000000ull

/* Delivery modes (ICR, LVT, IOAPIC redirection entries, MSI data bits 10:8). */
enum {
    APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
    APIC_DM_INIT = 5, APIC_DM_SIPI = 6, APIC_DM_EXTINT = 7,
};

/* LVT entries in register order (0x320 ... 0x370). */
enum { APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF, APIC_LVT_LINT0, APIC_LVT_LINT1,
       APIC_LVT_ERROR, APIC_LVT_NB };

typedef struct ApicBus ApicBus;

typedef struct ApicState {
    Object obj;
    ApicBus *bus;
    CPUState *cpu;
    uint8_t id;
    uint32_t tpr, ldr, dfr, svr, esr, icr_lo, icr_hi;
    uint32_t lvt[APIC_LVT_NB];
    uint32_t irr[8], isr[8], tmr[8];
    uint32_t divide_conf, initial_count;
    int64_t count_start_ns;       /* when the current count was (re)loaded */
    uint64_t tsc_deadline;        /* IA32_TSC_DEADLINE as last written (0: disarmed) */
    Timer *timer;
    bool lint0_level;             /* the i8259's INTR (wired to LINT0) */
    bool nmi;                     /* NMI not yet taken by the vCPU */
    bool init;                    /* INIT received, not yet applied */
    bool sipi;                    /* SIPI received, not yet applied */
    uint8_t sipi_vector;
    uint32_t pending;             /* atomic: something for the vCPU (interrupt, NMI, INIT, SIPI) */
} ApicState;

/* The LAPICs of a machine and what they share: the MMIO window, the IOAPIC's EOI input and
 * the PIC's interrupt acknowledge (ExtINT). */
struct ApicBus {
    ApicState **apics;
    unsigned n;
    MemoryRegion mmio;
    void (*eoi)(void *opaque, uint8_t vector);   /* level-triggered EOI broadcast */
    void *eoi_opaque;
    int (*extint_ack)(void *opaque);             /* the PIC's vector for ExtINT */
    void *extint_opaque;
};

extern const ObjectClass apic_class;

/* A LAPIC for each of the ncpus vCPUs (children of parent named "lapic[i]", APIC ID = the
 * vCPU's index) and the shared MMIO window (the caller maps bus->mmio). */
ApicBus *apic_bus_new(Object *parent, CPUState **cpus, unsigned ncpus, Error **errp);
/* Delivers an interrupt message (IOAPIC, MSI, IPI) to the LAPICs dest selects. */
void apic_bus_deliver(ApicBus *bus, uint8_t dest, bool logical, unsigned mode, uint8_t vector,
                      bool level);
/* Delivers a PCI MSI (address 0xfeeXXXXX, data as the MSI capability holds them). */
void apic_bus_msi(ApicBus *bus, uint64_t addr, uint32_t data);
/* The i8259's INTR output: LINT0 of every LAPIC (taken when LINT0 is unmasked ExtINT or the
 * APIC is disabled). */
void apic_bus_set_extint(ApicBus *bus, int level);

/* The calling thread runs cpu (the interpreter's vCPU threads): MMIO at 0xfee00000 from this
 * thread reaches cpu's LAPIC. */
void apic_set_current_cpu(CPUState *cpu);

/* Interrupt acknowledge, on the vCPU's thread without the big lock: true in *nmi when an NMI
 * is taken; otherwise, when can_intr, the highest deliverable vector (now in service);
 * -1 when nothing is taken. Costs one atomic load when nothing is pending. */
int apic_ack_interrupt(ApicState *s, bool can_intr, bool *nmi);
/* With the big lock: true when an NMI, INIT/SIPI or (when can_intr) an interrupt waits. */
bool apic_has_work(ApicState *s, bool can_intr);
/* With the big lock: takes a pending INIT (true in *init) and SIPI (true, *vector). */
void apic_take_startup(ApicState *s, bool *init, bool *sipi, uint8_t *vector);
/* MOV to CR8 (big lock held): TPR = cr8 << 4. */
void apic_set_cr8(ApicState *s, uint64_t cr8);
/* IA32_TSC_DEADLINE (big lock held): the written value, firing at host time expire_ns
 * (ignored unless the LVT timer is in TSC-deadline mode; 0 disarms). */
void apic_set_tsc_deadline(ApicState *s, uint64_t value, int64_t expire_ns);
uint64_t apic_get_tsc_deadline(ApicState *s);

#endif
