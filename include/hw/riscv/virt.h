#ifndef HW_RISCV_VIRT_H
#define HW_RISCV_VIRT_H

#include <stdint.h>
#include "util/error.h"

/* The memory map and interrupt numbers of QEMU 7.2's riscv64 virt board. */
#define VIRT_MROM_BASE       0x1000ULL
#define VIRT_MROM_SIZE       0xf000ULL
#define VIRT_TEST_BASE       0x100000ULL
#define VIRT_RTC_BASE        0x101000ULL
#define VIRT_CLINT_BASE      0x2000000ULL
#define VIRT_PLIC_BASE       0xc000000ULL
#define VIRT_PLIC_SIZE       0x600000ULL
#define VIRT_UART0_BASE      0x10000000ULL
#define VIRT_VIRTIO_BASE     0x10001000ULL
#define VIRT_VIRTIO_STRIDE   0x1000ULL
#define VIRT_VIRTIO_COUNT    8
#define VIRT_DRAM_BASE       0x80000000ULL

#define VIRT_VIRTIO_IRQ      1              /* slot i uses VIRT_VIRTIO_IRQ + i */
#define VIRT_UART0_IRQ       10
#define VIRT_RTC_IRQ         11
#define VIRT_PLIC_NUM_SOURCES 96
#define VIRT_TIMEBASE_FREQ   10000000

/* What the generated device tree describes. */
typedef struct VirtFdtInfo {
    unsigned num_harts;
    const char *const *isa;         /* riscv,isa per hart */
    const char *const *mmu_type;    /* mmu-type per hart */
    uint64_t ram_size;
} VirtFdtInfo;

/* Builds the board's device tree (g_free it; fdt_totalsize gives its size). */
void *virt_fdt_build(const VirtFdtInfo *info, Error **errp);
/* Sets /chosen bootargs (when not NULL) and the initrd range (when end > start) in *fdt,
 * reallocating it as needed; works on user-supplied blobs (-dtb) as well. */
bool virt_fdt_set_chosen(void **fdt, const char *bootargs, uint64_t initrd_start,
                         uint64_t initrd_end, Error **errp);
/* Where the device tree goes, as QEMU 7.2 places it: 2 MiB aligned, below the end of RAM
 * or 3 GiB, whichever is lower; 0 when RAM is too small to hold it. */
uint64_t virt_fdt_addr(uint64_t ram_size, uint32_t fdt_size);

#endif
