/* ACPI PM1a event/control blocks, PM timer and reset register (see hw/acpi/acpi-pm.h). */
#include <glib.h>
#include "hw/acpi/acpi-pm.h"
#include "hw/core/machine.h"
#include "util/log.h"
#include "util/timer.h"

uint32_t acpi_pm_timer_value(int64_t now_ns)
{
    return (uint32_t)(((__int128)now_ns * ACPI_PM_TIMER_HZ / 1000000000) & 0xffffff);
}

static void acpi_pm_update_sci(AcpiPm *pm)
{
    irq_set(pm->sci, (pm->pm1_sts & pm->pm1_en) && (pm->pm1_cnt & ACPI_PM1_CNT_SCI_EN));
}

void acpi_pm_power_button(AcpiPm *pm)
{
    pm->pm1_sts |= ACPI_PM1_STS_PWRBTN;
    acpi_pm_update_sci(pm);
}

/* Registers are byte addressable: assemble a read from its bytes. */
static uint8_t acpi_pm_read_byte(AcpiPm *pm, uint64_t off)
{
    uint32_t tmr = acpi_pm_timer_value(clock_ns());
    switch (off) {
    case 0: case 1: return pm->pm1_sts >> (8 * off);
    case 2: case 3: return pm->pm1_en >> (8 * (off - 2));
    case 4: case 5: return pm->pm1_cnt >> (8 * (off - 4));
    case 8: case 9: case 10: case 11: return tmr >> (8 * (off - 8));
    default: return 0;
    }
}

static uint64_t acpi_pm_read(void *opaque, uint64_t addr, unsigned size)
{
    AcpiPm *pm = opaque;
    if (addr == 8 && size == 4) {
        return acpi_pm_timer_value(clock_ns());     /* one consistent sample */
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)acpi_pm_read_byte(pm, addr + i) << (8 * i);
    }
    return v;
}

static void acpi_pm_write_cnt(AcpiPm *pm, uint16_t val)
{
    pm->pm1_cnt = val & ~ACPI_PM1_CNT_SLP_EN;
    if (val & ACPI_PM1_CNT_SLP_EN) {
        unsigned typ = (val >> ACPI_PM1_CNT_SLP_TYP_SHIFT) & 7;
        if (typ == ACPI_SLP_TYP_S5) {
            machine_request_shutdown(SHUTDOWN_CAUSE_GUEST_SHUTDOWN, 0);
        } else {
            log_mask_printf(LOG_UNIMP, "acpi-pm: sleep type %u not supported\n", typ);
        }
    }
    acpi_pm_update_sci(pm);
}

static void acpi_pm_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    AcpiPm *pm = opaque;
    for (unsigned i = 0; i < size; i++) {
        uint64_t off = addr + i;
        uint8_t b = val >> (8 * i);
        if (off <= 1) {
            pm->pm1_sts &= ~((uint16_t)b << (8 * off));     /* write 1 to clear */
        } else if (off <= 3) {
            unsigned sh = 8 * (off - 2);
            pm->pm1_en = (pm->pm1_en & ~(0xff << sh)) | ((uint16_t)b << sh);
        } else if (off == 4 && i + 1 < size) {
            acpi_pm_write_cnt(pm, (uint16_t)(val >> (8 * i)));
            i++;
            continue;
        } else if (off == 4) {
            acpi_pm_write_cnt(pm, (pm->pm1_cnt & 0xff00) | b);
        } else if (off == 5) {
            acpi_pm_write_cnt(pm, (pm->pm1_cnt & 0x00ff) | (uint16_t)b << 8);
        }
    }
    acpi_pm_update_sci(pm);
}

static const MemoryRegionOps acpi_pm_ops = {
    .read = acpi_pm_read,
    .write = acpi_pm_write,
    .min_access_size = 1,
    .max_access_size = 4,
};

static uint64_t acpi_reset_read(void *opaque, uint64_t addr, unsigned size)
{
    return ((AcpiPm *)opaque)->reset_reg;
}

/* Bit 2 (reset CPU) with bit 1 (hard reset) set, as the FADT's RESET_VALUE 6 does. */
static void acpi_reset_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    AcpiPm *pm = opaque;
    pm->reset_reg = val & 0x0a;
    if (val & 0x04) {
        machine_request_reset(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

static const MemoryRegionOps acpi_reset_ops = {
    .read = acpi_reset_read,
    .write = acpi_reset_write,
    .min_access_size = 1,
    .max_access_size = 1,
};

static void acpi_pm_init(Object *obj)
{
    AcpiPm *pm = OBJECT_CHECK(AcpiPm, obj);
    memory_region_init_io(&pm->io, "acpi-pm", &acpi_pm_ops, pm, ACPI_PM_SIZE);
    memory_region_init_io(&pm->reset_io, "reset-control", &acpi_reset_ops, pm, 1);
}

/* SCI_EN reads as set: the FADT has no SMI command port, ACPI mode is always on. */
static void acpi_pm_reset(Object *obj)
{
    AcpiPm *pm = OBJECT_CHECK(AcpiPm, obj);
    pm->pm1_sts = 0;
    pm->pm1_en = 0;
    pm->pm1_cnt = ACPI_PM1_CNT_SCI_EN;
    pm->reset_reg = 0;
    acpi_pm_update_sci(pm);
}

static void acpi_pm_finalize(Object *obj)
{
    AcpiPm *pm = OBJECT_CHECK(AcpiPm, obj);
    memory_region_destroy(&pm->io);
    memory_region_destroy(&pm->reset_io);
}

const ObjectClass acpi_pm_class = {
    .name = "acpi-pm",
    .instance_size = sizeof(AcpiPm),
    .desc = "ACPI PM1a event/control blocks, PM timer and reset register",
    .init = acpi_pm_init,
    .reset = acpi_pm_reset,
    .finalize = acpi_pm_finalize,
};
OBJECT_CLASS_REGISTER(acpi_pm_class)
