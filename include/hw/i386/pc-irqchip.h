#ifndef HW_I386_PC_IRQCHIP_H
#define HW_I386_PC_IRQCHIP_H

#include "hw/core/irq.h"
#include "hw/core/machine.h"

/* The pc board's interrupt controllers and timers in user space (under the interpreter):
 * a LAPIC per vCPU at 0xfee00000, the IOAPIC at 0xfec00000, the i8259 pair (0x20, 0xa0,
 * ELCR 0x4d0), the i8254 PIT (0x40, port 0x61) on ISA IRQ 0; PCI MSIs go to the LAPICs
 * (pci_msi_deliver). Returns the PC_NUM_GSI lines: GSI n < 16 drives PIC IRQ n, and IOAPIC
 * pin n except that ISA IRQ 0 is pin 2 (the MADT's override). NULL with errp on failure. */
IrqLine *pc_irqchip_init(Machine *m, Error **errp);

#endif
