#ifndef HW_INTC_IOAPIC_H
#define HW_INTC_IOAPIC_H

#include <stdint.h>
#include <stdbool.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/intc/apic.h"

/* I/O APIC version 0x20 with 24 pins: IOREGSEL at 0x00, IOWIN at 0x10, EOI at 0x40;
 * redirection entries (edge or level with remote IRR) become messages on the APIC bus.
 * Input polarity is the line level as devices drive it (asserted = 1). */
#define IOAPIC_NUM_PINS 24
#define IOAPIC_MMIO_SIZE 0x1000

typedef struct IOApic {
    Object obj;
    MemoryRegion mmio;
    ApicBus *bus;                 /* set before realize */
    uint8_t id;
    uint8_t ioregsel;
    uint32_t irr;                 /* pending: level high (level) or an unserviced edge */
    uint32_t level;               /* input line levels */
    uint64_t redir[IOAPIC_NUM_PINS];
} IOApic;

extern const ObjectClass ioapic_class;

/* Input pin n driven to level (big lock held). */
void ioapic_set_irq(IOApic *s, int n, int level);
/* A LAPIC's EOI of a level-triggered vector: clears remote IRR of the pins using it. */
void ioapic_eoi_broadcast(void *opaque, uint8_t vector);

#endif
