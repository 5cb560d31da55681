#ifndef HW_ACPI_ACPI_PM_H
#define HW_ACPI_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"

/*
 * ACPI fixed hardware of the pc board (as QEMU's PIIX4 PM lays it out at port 0x600):
 * PM1a event block (status/enable), PM1a control block (SLP_TYP/SLP_EN: S5 powers off) and
 * the 24-bit PM timer at 3.579545 MHz; plus the FADT reset register (port 0xcf9, value 6).
 */
#define ACPI_PM_BASE 0x600
#define ACPI_PM_SIZE 0x40
#define ACPI_PM1A_EVT (ACPI_PM_BASE + 0)    /* 4 bytes: status, enable */
#define ACPI_PM1A_CNT (ACPI_PM_BASE + 4)    /* 2 bytes */
#define ACPI_PM_TMR (ACPI_PM_BASE + 8)      /* 4 bytes */
#define ACPI_RESET_PORT 0xcf9
#define ACPI_RESET_VALUE 0x06
#define ACPI_PM_TIMER_HZ 3579545
#define ACPI_SLP_TYP_S5 0                   /* the DSDT's _S5 package value */

enum {
    ACPI_PM1_STS_TMR = 1u << 0,
    ACPI_PM1_STS_PWRBTN = 1u << 8,
    ACPI_PM1_STS_WAK = 1u << 15,
    ACPI_PM1_CNT_SCI_EN = 1u << 0,
    ACPI_PM1_CNT_SLP_TYP_SHIFT = 10,
    ACPI_PM1_CNT_SLP_EN = 1u << 13,
};

typedef struct AcpiPm {
    Object obj;
    MemoryRegion io;          /* ACPI_PM_SIZE bytes at ACPI_PM_BASE */
    MemoryRegion reset_io;    /* 1 byte at ACPI_RESET_PORT */
    IrqLine *sci;             /* set by the board (GSI 9) */
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint8_t reset_reg;
} AcpiPm;

extern const ObjectClass acpi_pm_class;

/* The power button: sets PWRBTN_STS and raises the SCI when enabled. Big lock held. */
void acpi_pm_power_button(AcpiPm *pm);
/* PM timer value at host time now_ns (24 bits). */
uint32_t acpi_pm_timer_value(int64_t now_ns);

#endif
