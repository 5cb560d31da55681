/* Linux bzImage direct boot, 64-bit boot protocol (see include/hw/i386/linux-boot.h). */
#include <string.h>
#include <glib.h>
#include "hw/i386/linux-boot.h"

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (int i = (int)n - 1; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static void set_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * i);
    }
}

bool linux_is_bzimage(const uint8_t *image, uint64_t len)
{
    return len >= 0x300 && get_le(image + BP_BOOT_FLAG, 2) == 0xaa55 &&
           memcmp(image + BP_HEADER, "HdrS", 4) == 0;
}

bool linux_boot_setup(const uint8_t *image, uint64_t len, LinuxBoot *lb, Error **errp)
{
    if (!linux_is_bzimage(image, len)) {
        error_setg(errp, "not a Linux bzImage (no boot flag 0xAA55 and \"HdrS\" header)");
        return false;
    }
    unsigned version = get_le(image + BP_VERSION, 2);
    unsigned hdr_end = BP_JUMP + 2 + image[BP_JUMP + 1];
    if (version < 0x20c || hdr_end > len || hdr_end <= BP_XLOADFLAGS + 2 ||
        !(get_le(image + BP_XLOADFLAGS, 2) & LINUX_XLF_KERNEL_64)) {
        error_setg(errp, "the kernel does not support the 64-bit boot protocol "
                   "(boot protocol %u.%02u, 2.12 with XLF_KERNEL_64 needed)",
                   version >> 8, version & 0xff);
        return false;
    }
    unsigned setup_sects = image[BP_SETUP_SECTS] ? image[BP_SETUP_SECTS] : 4;
    lb->kernel_offset = (uint64_t)(setup_sects + 1) * 512;
    if (lb->kernel_offset >= len) {
        error_setg(errp, "bzImage is truncated: no protected-mode kernel after %u setup "
                   "sectors", setup_sects);
        return false;
    }
    lb->kernel_size = len - lb->kernel_offset;

    uint64_t pref = get_le(image + BP_PREF_ADDRESS, 8);
    uint64_t init_size = get_le(image + BP_INIT_SIZE, 4);
    uint64_t align = get_le(image + BP_KERNEL_ALIGNMENT, 4);
    bool relocatable = image[BP_RELOCATABLE];
    /* A relocatable kernel runs from 1 MiB (it moves itself); others only from pref_address. */
    lb->load_addr = relocatable ? LINUX_DEFAULT_LOAD : pref;
    if (relocatable && align > 1 && (align & (align - 1)) == 0) {
        lb->load_addr = (lb->load_addr + align - 1) & ~(align - 1);
    }
    uint64_t need = MAX(init_size, lb->kernel_size);
    if (lb->load_addr < LINUX_DEFAULT_LOAD || lb->load_addr + need > lb->below_4g) {
        error_setg(errp, "the kernel needs 0x%" G_GINT64_MODIFIER "x bytes at 0x%"
                   G_GINT64_MODIFIER "x: more RAM below 4 GiB is needed", need, lb->load_addr);
        return false;
    }
    lb->entry = lb->load_addr + 0x200;

    uint64_t cmdline_max = get_le(image + BP_CMDLINE_SIZE, 4);
    if (lb->cmdline_len > cmdline_max + 1) {
        error_setg(errp, "kernel command line is %" G_GINT64_MODIFIER "u bytes, the kernel "
                   "accepts at most %" G_GINT64_MODIFIER "u", lb->cmdline_len - 1, cmdline_max);
        return false;
    }

    uint8_t *zp = lb->zero_page;
    memset(zp, 0, LINUX_ZERO_PAGE_SIZE);
    memcpy(zp + BP_SETUP_SECTS, image + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
    zp[BP_TYPE_OF_LOADER] = 0xff;                 /* undefined loader */
    zp[BP_LOADFLAGS] |= LINUX_LOADED_HIGH | LINUX_CAN_USE_HEAP;
    set_le(zp + BP_HEAP_END_PTR, 0xfe00, 2);
    set_le(zp + BP_CODE32_START, lb->load_addr, 4);
    set_le(zp + BP_CMD_LINE_PTR, lb->cmdline_addr, 4);
    set_le(zp + BP_EXT_CMD_LINE_PTR, lb->cmdline_addr >> 32, 4);
    set_le(zp + BP_ACPI_RSDP_ADDR, lb->rsdp_addr, 8);

    lb->initrd_addr = 0;
    if (lb->initrd_size) {
        uint64_t max = get_le(image + BP_INITRD_ADDR_MAX, 4);
        uint64_t top = MIN(max + 1, lb->below_4g);
        uint64_t kernel_end = lb->load_addr + need;
        if (lb->initrd_size > top || ((top - lb->initrd_size) & ~0xfffull) < kernel_end) {
            error_setg(errp, "initrd (%" G_GINT64_MODIFIER "u bytes) does not fit between "
                       "the kernel's end 0x%" G_GINT64_MODIFIER "x and 0x%" G_GINT64_MODIFIER
                       "x (initrd_addr_max or RAM)", lb->initrd_size, kernel_end, top);
            return false;
        }
        lb->initrd_addr = (top - lb->initrd_size) & ~0xfffull;
        set_le(zp + BP_RAMDISK_IMAGE, lb->initrd_addr, 4);
        set_le(zp + BP_EXT_RAMDISK_IMAGE, lb->initrd_addr >> 32, 4);
        set_le(zp + BP_RAMDISK_SIZE, lb->initrd_size, 4);
        set_le(zp + BP_EXT_RAMDISK_SIZE, lb->initrd_size >> 32, 4);
    }

    unsigned n = MIN(lb->n820, BP_E820_MAX);
    zp[BP_E820_ENTRIES] = n;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = zp + BP_E820_TABLE + 20 * i;
        set_le(e, lb->e820[i].addr, 8);
        set_le(e + 8, lb->e820[i].size, 8);
        set_le(e + 16, lb->e820[i].type, 4);
    }
    return true;
}

void linux_boot_gdt(uint8_t gdt[LINUX_GDT_LIMIT + 1])
{
    memset(gdt, 0, LINUX_GDT_LIMIT + 1);
    set_le(gdt + 0x10, 0x00af9b000000ffffull, 8);  /* 64-bit code, execute/read */
    set_le(gdt + 0x18, 0x00cf93000000ffffull, 8);  /* flat data, read/write */
    set_le(gdt + 0x20, 0x00008b0000000067ull, 8);  /* busy 64-bit TSS at 0, as TR holds it */
}

void linux_boot_page_tables(uint8_t pt[LINUX_PAGE_TABLES_SIZE])
{
    enum { P = 1, RW = 2, PS = 0x80 };
    memset(pt, 0, LINUX_PAGE_TABLES_SIZE);
    set_le(pt, (LINUX_PML4_ADDR + 0x1000) | P | RW, 8);
    for (unsigned i = 0; i < 4; i++) {
        set_le(pt + 0x1000 + 8 * i, (LINUX_PML4_ADDR + 0x2000 + 0x1000 * i) | P | RW, 8);
        for (unsigned j = 0; j < 512; j++) {
            uint64_t addr = ((uint64_t)i << 30) | ((uint64_t)j << 21);
            set_le(pt + 0x2000 + 0x1000 * i + 8 * j, addr | P | RW | PS, 8);
        }
    }
}
