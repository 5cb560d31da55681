#ifndef HW_I386_PC_H
#define HW_I386_PC_H

#include <stdbool.h>
#include <stdint.h>

/* The x86-64 "pc" board: memory map, interrupt routing and boot data layout. */

#define PC_MAX_CPUS 64
#define PC_NUM_GSI 24              /* IOAPIC inputs; 0-15 are also the PIC's ISA IRQs */
/* RAM above this stays below 4 GiB only up to it; the rest moves above 4 GiB. */
#define PC_LOWMEM_MAX 0xb0000000ULL
#define PC_HIGHMEM_BASE 0x100000000ULL

/* ISA IRQs / GSIs of the legacy devices. */
enum {
    PC_IRQ_KBD = 1, PC_IRQ_COM2 = 3, PC_IRQ_COM1 = 4, PC_IRQ_RTC = 8, PC_IRQ_SCI = 9,
    PC_IRQ_MOUSE = 12,
};

/* Low memory used by the boot data (all inside the e820 usable range below 0x9fc00). */
#define PC_BOOT_INFO 0x7000        /* hvm_start_info, its module list and memory map */
#define PC_BOOT_CMDLINE 0x20000    /* kernel command line, up to PC_CMDLINE_MAX bytes */
#define PC_CMDLINE_MAX 0x10000
#define PC_ACPI_BASE 0xe0000       /* ACPI tables, RSDP first (legacy scan area) */
#define PC_ACPI_SIZE 0x10000
#define PC_EBDA_BASE 0x9fc00

/* PCI: ECAM (MMCONFIG) for 256 buses right above low RAM, then the 32-bit MMIO window up to
 * the IOAPIC; the 64-bit window starts at the first GiB boundary above RAM. */
#define PC_ECAM_BASE 0xb0000000ULL
#define PC_ECAM_SIZE 0x10000000ULL
#define PC_PCI_HOLE_BASE 0xc0000000ULL
#define PC_PCI_HOLE_END 0xfec00000ULL
#define PC_PCI_HOLE64_SIZE 0x800000000ULL

/* e820 memory types. */
enum { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3 };

typedef struct E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed)) E820Entry;

#define PC_E820_MAX 8
/* The e820 map of a board with below_4g bytes of RAM from 0 and above_4g bytes from 4 GiB;
 * returns the number of entries (sorted, non-overlapping). */
unsigned pc_e820_build(uint64_t below_4g, uint64_t above_4g, E820Entry *out);

#endif
