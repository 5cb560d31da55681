#ifndef HW_I386_LINUX_BOOT_H
#define HW_I386_LINUX_BOOT_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/i386/pc.h"
#include "util/error.h"

/*
 * Linux bzImage direct boot through the 64-bit boot protocol (Documentation/x86/boot.rst):
 * the zero page (struct boot_params) from the image's setup header, command line, e820 map,
 * initrd placement below initrd_addr_max, protected-mode kernel placement, and the boot page
 * tables and GDT the 64-bit entry needs.
 */

#define LINUX_ZERO_PAGE_SIZE 4096
#define LINUX_DEFAULT_LOAD 0x100000

/* boot_params / setup_header offsets (zero-page.rst, boot.rst). */
enum {
    BP_ACPI_RSDP_ADDR = 0x070, BP_EXT_RAMDISK_IMAGE = 0x0c0, BP_EXT_RAMDISK_SIZE = 0x0c4,
    BP_EXT_CMD_LINE_PTR = 0x0c8, BP_E820_ENTRIES = 0x1e8, BP_SETUP_SECTS = 0x1f1,
    BP_BOOT_FLAG = 0x1fe, BP_JUMP = 0x200, BP_HEADER = 0x202, BP_VERSION = 0x206,
    BP_TYPE_OF_LOADER = 0x210, BP_LOADFLAGS = 0x211, BP_CODE32_START = 0x214,
    BP_RAMDISK_IMAGE = 0x218, BP_RAMDISK_SIZE = 0x21c, BP_HEAP_END_PTR = 0x224,
    BP_CMD_LINE_PTR = 0x228, BP_INITRD_ADDR_MAX = 0x22c, BP_KERNEL_ALIGNMENT = 0x230,
    BP_RELOCATABLE = 0x234, BP_XLOADFLAGS = 0x236, BP_CMDLINE_SIZE = 0x238,
    BP_PREF_ADDRESS = 0x258, BP_INIT_SIZE = 0x260, BP_E820_TABLE = 0x2d0,
    BP_E820_MAX = 128,
};
#define LINUX_XLF_KERNEL_64 (1u << 0)
#define LINUX_LOADED_HIGH (1u << 0)
#define LINUX_CAN_USE_HEAP (1u << 7)

/* Boot data in low memory (inside the e820 RAM below the EBDA). */
#define LINUX_ZERO_PAGE_ADDR 0x7000
#define LINUX_GDT_ADDR 0x8000
#define LINUX_GDT_LIMIT 0x2f
#define LINUX_PML4_ADDR 0x9000         /* PML4, PDPT at +0x1000, 4 PDs: 0-4 GiB in 2 MiB pages */
#define LINUX_PAGE_TABLES_SIZE 0x6000

typedef struct LinuxBoot {
    /* inputs */
    uint64_t below_4g;            /* RAM from address 0 */
    const E820Entry *e820;
    unsigned n820;
    uint64_t cmdline_addr;
    uint64_t cmdline_len;         /* with the terminating NUL */
    uint64_t initrd_size;         /* 0: no initrd */
    uint64_t rsdp_addr;           /* 0: none */
    /* outputs */
    uint8_t zero_page[LINUX_ZERO_PAGE_SIZE];
    uint64_t kernel_offset;       /* protected-mode kernel inside the image */
    uint64_t kernel_size;
    uint64_t load_addr;           /* where it is loaded */
    uint64_t entry;               /* 64-bit entry: load_addr + 0x200 */
    uint64_t initrd_addr;
} LinuxBoot;

/* True when image starts like a bzImage (boot flag and "HdrS"). */
bool linux_is_bzimage(const uint8_t *image, uint64_t len);
/* Checks the header of image and fills the outputs of lb; fails on images too old for the
 * 64-bit boot protocol, an over-long command line, or a kernel or initrd that does not fit. */
bool linux_boot_setup(const uint8_t *image, uint64_t len, LinuxBoot *lb, Error **errp);
/* The GDT (__BOOT_CS 0x10, __BOOT_DS 0x18, TSS 0x20) for LINUX_GDT_ADDR. */
void linux_boot_gdt(uint8_t gdt[LINUX_GDT_LIMIT + 1]);
/* Identity-mapped page tables for 0-4 GiB placed at LINUX_PML4_ADDR. */
void linux_boot_page_tables(uint8_t pt[LINUX_PAGE_TABLES_SIZE]);

#endif
