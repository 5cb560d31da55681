/* The pc board's userspace interrupt controllers and timers, used under the interpreter. */
#include <glib.h>
#include "hw/i386/pc-irqchip.h"
#include "hw/i386/pc.h"
#include "hw/i386/ioport.h"
#include "hw/i386/acpi-build.h"
#include "hw/intc/apic.h"
#include "hw/intc/ioapic.h"
#include "hw/intc/i8259.h"
#include "hw/timer/i8254.h"
#include "hw/pci/pci.h"
#include "target/i386/cpu.h"

typedef struct PcIrqchip {
    ApicBus *apic_bus;
    IOApic *ioapic;
    I8259 *pic;
    I8254 *pit;
    IrqLine *extint;              /* the PIC's INTR into LINT0 */
} PcIrqchip;

static void pc_irqchip_set_gsi(void *opaque, int n, int level)
{
    PcIrqchip *c = opaque;
    if (n < 16) {
        i8259_set_irq(c->pic, n, level);
    }
    ioapic_set_irq(c->ioapic, n == 0 ? 2 : n, level);
}

static void pc_irqchip_set_extint(void *opaque, int n, int level)
{
    PcIrqchip *c = opaque;
    apic_bus_set_extint(c->apic_bus, level);
}

/* PCI MSIs of the current machine (pci_msi_deliver has no context argument). */
static bool pc_irqchip_msi(uint64_t addr, uint32_t data)
{
    Machine *m = current_machine;
    ApicState *a = m && m->cpus ? x86_cpu(m->cpus[0])->apic : NULL;
    if (!a) {
        return false;
    }
    apic_bus_msi(a->bus, addr, data);
    return true;
}

static bool pc_irqchip_add(Machine *m, Object *dev, const char *name, Error **errp)
{
    bool ok = object_add_child(OBJECT(m), name, dev, errp);
    object_unref(dev);
    return ok && object_realize(dev, errp);
}

IrqLine *pc_irqchip_init(Machine *m, Error **errp)
{
    PcIrqchip *c = g_new0(PcIrqchip, 1);
    c->apic_bus = apic_bus_new(OBJECT(m), m->cpus, m->smp, errp);
    if (!c->apic_bus) {
        return NULL;
    }
    memory_region_add_subregion(system_memory, ACPI_LAPIC_ADDR, &c->apic_bus->mmio);

    c->ioapic = OBJECT_CHECK(IOApic, object_new(&ioapic_class));
    c->ioapic->bus = c->apic_bus;
    if (!pc_irqchip_add(m, OBJECT(c->ioapic), "ioapic", errp)) {
        return NULL;
    }
    memory_region_add_subregion(system_memory, ACPI_IOAPIC_ADDR, &c->ioapic->mmio);
    c->apic_bus->eoi = ioapic_eoi_broadcast;
    c->apic_bus->eoi_opaque = c->ioapic;

    c->extint = irq_lines_new(pc_irqchip_set_extint, c, 1);
    c->pic = OBJECT_CHECK(I8259, object_new(&i8259_class));
    c->pic->intr = c->extint;
    if (!pc_irqchip_add(m, OBJECT(c->pic), "pic", errp)) {
        return NULL;
    }
    memory_region_add_subregion(system_io, 0x20, &c->pic->io[0]);
    memory_region_add_subregion(system_io, 0xa0, &c->pic->io[1]);
    memory_region_add_subregion(system_io, 0x4d0, &c->pic->elcr_io);
    c->apic_bus->extint_ack = i8259_ack;
    c->apic_bus->extint_opaque = c->pic;

    IrqLine *gsi = irq_lines_new(pc_irqchip_set_gsi, c, PC_NUM_GSI);
    c->pit = OBJECT_CHECK(I8254, object_new(&i8254_class));
    c->pit->irq = &gsi[0];
    if (!pc_irqchip_add(m, OBJECT(c->pit), "pit", errp)) {
        return NULL;
    }
    memory_region_add_subregion(system_io, 0x40, &c->pit->io);
    memory_region_add_subregion(system_io, 0x61, &c->pit->port61_io);

    pci_msi_deliver = pc_irqchip_msi;
    return gsi;
}
