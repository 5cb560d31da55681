#ifndef HW_INTC_I8259_H
#define HW_INTC_I8259_H

#include <stdint.h>
#include <stdbool.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"

/* The cascaded 8259A pair of the PC: master at ports 0x20/0x21 (IRQ 0-7, slave on IRQ 2),
 * slave at 0xa0/0xa1 (IRQ 8-15), edge/level control (ELCR) at 0x4d0/0x4d1. Supports the
 * ICW1-4 initialisation, OCW2 EOI (specific, non-specific, rotate), OCW3 IRR/ISR reads and
 * poll, auto-EOI and special mask mode. */
typedef struct PicChip {
    uint8_t irr, imr, isr, elcr, elcr_mask;
    uint8_t last_irr;            /* line levels seen, for edge detection */
    uint8_t priority_add;        /* rotation: the lowest priority IRQ is priority_add - 1 */
    uint8_t irq_base;            /* ICW2 */
    uint8_t init_state;          /* 0: operational, 1..3: expecting ICW2..ICW4 */
    bool read_isr, poll, special_mask, auto_eoi, rotate_on_aeoi, single, icw4;
    bool special_fully_nested;
} PicChip;

typedef struct I8259 {
    Object obj;
    MemoryRegion io[2];          /* 2 ports each at 0x20 and 0xa0 */
    MemoryRegion elcr_io;        /* 2 ports at 0x4d0 */
    PicChip chip[2];
    IrqLine *intr;               /* the master's INTR output (set before realize) */
} I8259;

extern const ObjectClass i8259_class;

/* ISA IRQ n (0-15) driven to level (big lock held). */
void i8259_set_irq(I8259 *s, int n, int level);
/* The INTA cycle: the vector of the highest-priority request, now in service (big lock). */
int i8259_ack(void *opaque);

#endif
