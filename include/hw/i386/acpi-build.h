#ifndef HW_I386_ACPI_BUILD_H
#define HW_I386_ACPI_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/*
 * ACPI tables of the pc board (ACPI 6.x): RSDP (revision 2) first, then RSDT, XSDT, FADT
 * (PM1a event/control blocks, PM timer, SCI, reset register), FACS, DSDT (PCI root bridge with
 * _CRS and _PRT, COM1, RTC, keyboard controller, _S5), MADT (LAPICs, IOAPIC, interrupt source
 * overrides) and MCFG when ECAM is on. The AML is written here byte by byte.
 */

#define ACPI_IOAPIC_ADDR 0xfec00000u
#define ACPI_LAPIC_ADDR 0xfee00000u
#define ACPI_PCI_INTX_GSI 16      /* INTA..INTD of slot s: GSI 16 + (s + pin) % 4 */

typedef struct AcpiBuildInfo {
    unsigned ncpus;               /* APIC IDs 0..ncpus-1 */
    uint64_t ecam_base, ecam_size;            /* ecam_size 0: no MCFG, no ECAM in _CRS */
    uint64_t pci_hole_base, pci_hole_size;    /* 32-bit PCI MMIO window */
    uint64_t pci_hole64_base, pci_hole64_size; /* 64-bit window (size 0: none) */
} AcpiBuildInfo;

/* Table bytes for a blob loaded at guest physical base (16-byte aligned), RSDP at offset 0.
 * g_byte_array_unref the result. */
GByteArray *acpi_build_tables(const AcpiBuildInfo *info, uint64_t base);
/* Byte sum of len bytes (0 for a table with a correct checksum). */
uint8_t acpi_checksum(const uint8_t *data, size_t len);

#endif
