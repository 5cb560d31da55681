/*
 * x86-64 "pc" board: RAM below 4 GiB (up to PC_LOWMEM_MAX) and above it, the port I/O space
 * with COM1/COM2, ACPI PM and reset registers, POST port 0x80, the CMOS RTC and the i8042
 * keyboard controller; 24 GSI lines whose handler comes from the interrupt controller's
 * provider (under KVM: the in-kernel PIC/IOAPIC, reset with the machine);
 * direct boot of a PVH ELF kernel (-kernel) with hvm_start_info. Boot images are ROM blobs
 * written again at every reset.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "hw/i386/pc.h"
#include "hw/i386/ioport.h"
#include "hw/i386/acpi-build.h"
#include "hw/i386/linux-boot.h"
#include "hw/i386/pc-irqchip.h"
#include "hw/acpi/acpi-pm.h"
#include "hw/char/serial.h"
#include "hw/input/i8042.h"
#include "hw/input/ps2.h"
#include "hw/rtc/mc146818rtc.h"
#include "hw/pci/pci.h"
#include "hw/core/irq.h"
#include "hw/core/loader.h"
#include "hw/core/machine.h"
#include "accel/kvm.h"
#include "target/i386/cpu.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define EM_X86_64 62

/* PVH boot ABI (Xen's arch-x86/hvm/start_info.h). */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578
typedef struct HvmStartInfo {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
} HvmStartInfo;
typedef struct HvmModlistEntry {
    uint64_t paddr, size, cmdline_paddr, reserved;
} HvmModlistEntry;
typedef struct HvmMemmapEntry {
    uint64_t addr, size;
    uint32_t type, reserved;
} HvmMemmapEntry;

typedef struct PcBoard {
    MemoryRegion ram;
    MemoryRegion ram_below_4g, ram_above_4g;   /* aliases of ram */
    uint64_t below_4g, above_4g;
    IrqLine *gsi;                              /* PC_NUM_GSI lines */
    Serial16550 *com[2];
    MemoryRegion com_io[2];
    AcpiPm *pm;
    MemoryRegion post_io;                      /* port 0x80 */
    RtcState *rtc;                             /* ports 0x70/0x71 */
    I8042State *kbd;                           /* ports 0x60/0x64 */
    PCIBus *pci;
    RomSet *roms;
    uint64_t entry;
    bool linux64;                              /* bzImage: 64-bit entry, else PVH */
} PcBoard;

/* ---- e820 ---- */

unsigned pc_e820_build(uint64_t below_4g, uint64_t above_4g, E820Entry *out)
{
    unsigned n = 0;
    out[n++] = (E820Entry){ 0, PC_EBDA_BASE, E820_RAM };
    out[n++] = (E820Entry){ PC_EBDA_BASE, 0xa0000 - PC_EBDA_BASE, E820_RESERVED };
    out[n++] = (E820Entry){ PC_ACPI_BASE, 0x100000 - PC_ACPI_BASE, E820_RESERVED };
    if (below_4g > 0x100000) {
        out[n++] = (E820Entry){ 0x100000, below_4g - 0x100000, E820_RAM };
    }
    out[n++] = (E820Entry){ PC_ECAM_BASE, PC_ECAM_SIZE, E820_RESERVED };
    /* KVM's identity map and TSS pages, as QEMU reserves them. */
    out[n++] = (E820Entry){ 0xfeffc000, 0x4000, E820_RESERVED };
    if (above_4g) {
        out[n++] = (E820Entry){ PC_HIGHMEM_BASE, above_4g, E820_RAM };
    }
    return n;
}

/* ---- PVH boot ---- */

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (int i = (int)n - 1; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* The XEN_ELFNOTE_PHYS32_ENTRY note of an ELF64 image; false when it has none. */
static bool pc_find_pvh_entry(const uint8_t *elf, uint64_t len, uint64_t *entry)
{
    if (len < 64 || elf[4] != 2) {
        return false;
    }
    uint64_t phoff = rd_le(elf + 32, 8);
    unsigned phentsize = rd_le(elf + 54, 2), phnum = rd_le(elf + 56, 2);
    for (unsigned i = 0; i < phnum; i++) {
        uint64_t ph = phoff + (uint64_t)i * phentsize;
        if (ph + 56 > len || rd_le(elf + ph, 4) != 4 /* PT_NOTE */) {
            continue;
        }
        uint64_t off = rd_le(elf + ph + 8, 8), size = rd_le(elf + ph + 32, 8);
        if (off > len || size > len - off) {
            continue;
        }
        uint64_t p = off, end = off + size;
        while (p + 12 <= end) {
            uint32_t namesz = rd_le(elf + p, 4), descsz = rd_le(elf + p + 4, 4);
            uint32_t type = rd_le(elf + p + 8, 4);
            uint64_t name = p + 12, desc = name + ((namesz + 3) & ~3u);
            if (desc + descsz > end) {
                break;
            }
            if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
                memcmp(elf + name, "Xen", 4) == 0 && (descsz == 4 || descsz == 8)) {
                *entry = rd_le(elf + desc, descsz);
                return true;
            }
            p = desc + ((descsz + 3) & ~3u);
        }
    }
    return false;
}

/* Loads a PVH ELF kernel (data, len), initrd, command line and hvm_start_info into the
 * board's RomSet. */
static bool pc_load_pvh(Machine *m, PcBoard *pb, const uint8_t *data, uint64_t len,
                        Error **errp)
{
    bool is_elf64 = len >= 64 && memcmp(data, "\x7f" "ELF", 4) == 0 && data[4] == 2;
    if (!is_elf64 || !pc_find_pvh_entry(data, len, &pb->entry)) {
        error_setg(errp, "kernel '%s' is neither a bzImage nor a 64-bit ELF with a PVH entry "
                   "note (XEN_ELFNOTE_PHYS32_ENTRY)", m->kernel);
        return false;
    }
    uint64_t high = 0;
    if (!rom_set_add_elf64(pb->roms, m->kernel, EM_X86_64, NULL, NULL, &high, errp)) {
        error_prepend(errp, "could not load kernel: ");
        return false;
    }

    E820Entry e820[PC_E820_MAX];
    unsigned n820 = pc_e820_build(pb->below_4g, pb->above_4g, e820);
    const char *cmdline = m->append ? m->append : "";
    size_t cmdlen = strlen(cmdline) + 1;
    if (cmdlen > PC_CMDLINE_MAX) {
        error_setg(errp, "kernel command line is longer than %u bytes", PC_CMDLINE_MAX - 1);
        return false;
    }
    if (!rom_set_add(pb->roms, "cmdline", PC_BOOT_CMDLINE, cmdline, cmdlen, errp)) {
        return false;
    }

    struct {
        HvmStartInfo si;
        HvmModlistEntry mod;
        HvmMemmapEntry map[PC_E820_MAX];
    } __attribute__((packed)) info = { 0 };
    info.si.magic = HVM_START_MAGIC;
    info.si.version = 1;
    info.si.cmdline_paddr = PC_BOOT_CMDLINE;
    info.si.rsdp_paddr = PC_ACPI_BASE;
    info.si.memmap_paddr = PC_BOOT_INFO + offsetof(__typeof__(info), map);
    info.si.memmap_entries = n820;
    for (unsigned i = 0; i < n820; i++) {
        info.map[i] = (HvmMemmapEntry){ e820[i].addr, e820[i].size, e820[i].type, 0 };
    }
    if (m->initrd) {
        uint8_t *rd;
        uint64_t rdlen;
        uint64_t top = MIN(pb->below_4g, 0x80000000ULL);
        if (!load_file(m->initrd, top, &rd, &rdlen, errp)) {
            error_prepend(errp, "could not load initrd: ");
            return false;
        }
        uint64_t addr = (top - rdlen) & ~0xfffULL;
        bool ok = addr >= MAX(high, 0x100000ULL);
        if (!ok) {
            error_setg(errp, "initrd '%s' (%llu bytes) does not fit between the kernel and "
                       "0x%llx", m->initrd, (unsigned long long)rdlen,
                       (unsigned long long)top);
        }
        ok = ok && rom_set_add(pb->roms, "initrd", addr, rd, rdlen, errp);
        g_free(rd);
        if (!ok) {
            return false;
        }
        info.si.nr_modules = 1;
        info.si.modlist_paddr = PC_BOOT_INFO + offsetof(__typeof__(info), mod);
        info.mod = (HvmModlistEntry){ addr, rdlen, 0, 0 };
    }
    return rom_set_add(pb->roms, "hvm_start_info", PC_BOOT_INFO, &info, sizeof(info), errp);
}

/* Loads a bzImage (data, len) with the 64-bit boot protocol: zero page, command line,
 * initrd, GDT and identity-mapped page tables. */
static bool pc_load_linux(Machine *m, PcBoard *pb, const uint8_t *data, uint64_t len,
                          Error **errp)
{
    E820Entry e820[PC_E820_MAX];
    const char *cmdline = m->append ? m->append : "";
    LinuxBoot *lb = g_new0(LinuxBoot, 1);
    lb->below_4g = pb->below_4g;
    lb->e820 = e820;
    lb->n820 = pc_e820_build(pb->below_4g, pb->above_4g, e820);
    lb->cmdline_addr = PC_BOOT_CMDLINE;
    lb->cmdline_len = strlen(cmdline) + 1;
    lb->rsdp_addr = PC_ACPI_BASE;
    uint8_t *rd = NULL;
    bool ok = true;
    if (m->initrd) {
        ok = load_file(m->initrd, pb->below_4g, &rd, &lb->initrd_size, errp);
        if (!ok) {
            error_prepend(errp, "could not load initrd: ");
        }
    }
    ok = ok && linux_boot_setup(data, len, lb, errp);
    if (ok && lb->cmdline_len > PC_CMDLINE_MAX) {
        error_setg(errp, "kernel command line is longer than %u bytes", PC_CMDLINE_MAX - 1);
        ok = false;
    }
    uint8_t gdt[LINUX_GDT_LIMIT + 1];
    uint8_t *pt = g_malloc(LINUX_PAGE_TABLES_SIZE);
    linux_boot_gdt(gdt);
    linux_boot_page_tables(pt);
    ok = ok && rom_set_add(pb->roms, "linux-kernel", lb->load_addr, data + lb->kernel_offset,
                           lb->kernel_size, errp);
    ok = ok && rom_set_add(pb->roms, "cmdline", PC_BOOT_CMDLINE, cmdline, lb->cmdline_len,
                           errp);
    ok = ok && rom_set_add(pb->roms, "zero-page", LINUX_ZERO_PAGE_ADDR, lb->zero_page,
                           LINUX_ZERO_PAGE_SIZE, errp);
    ok = ok && rom_set_add(pb->roms, "boot-gdt", LINUX_GDT_ADDR, gdt, sizeof(gdt), errp);
    ok = ok && rom_set_add(pb->roms, "boot-page-tables", LINUX_PML4_ADDR, pt,
                           LINUX_PAGE_TABLES_SIZE, errp);
    ok = ok && (!rd || rom_set_add(pb->roms, "initrd", lb->initrd_addr, rd, lb->initrd_size,
                                   errp));
    pb->entry = lb->entry;
    pb->linux64 = true;
    g_free(pt);
    g_free(rd);
    g_free(lb);
    return ok;
}

/* ACPI tables at PC_ACPI_BASE (inside the BIOS area the RSDP scan covers). */
static bool pc_load_acpi(Machine *m, PcBoard *pb, Error **errp)
{
    AcpiBuildInfo info = {
        .ncpus = m->smp,
        .ecam_base = PC_ECAM_BASE, .ecam_size = PC_ECAM_SIZE,
        .pci_hole_base = PC_PCI_HOLE_BASE, .pci_hole_size = PC_PCI_HOLE_END - PC_PCI_HOLE_BASE,
        .pci_hole64_base = (PC_HIGHMEM_BASE + pb->above_4g + GiB - 1) & ~(GiB - 1),
        .pci_hole64_size = PC_PCI_HOLE64_SIZE,
    };
    GByteArray *tables = acpi_build_tables(&info, PC_ACPI_BASE);
    bool ok = tables->len <= PC_ACPI_SIZE;
    if (!ok) {
        error_setg(errp, "ACPI tables (%u bytes) do not fit in 0x%x bytes", tables->len,
                   PC_ACPI_SIZE);
    }
    ok = ok && rom_set_add(pb->roms, "acpi-tables", PC_ACPI_BASE, tables->data, tables->len,
                           errp);
    g_byte_array_unref(tables);
    return ok;
}

/* Reads -kernel and loads it as a bzImage or as a PVH ELF. */
static bool pc_load_kernel(Machine *m, PcBoard *pb, Error **errp)
{
    uint8_t *data;
    uint64_t len;
    if (!load_file(m->kernel, 1 * GiB, &data, &len, errp)) {
        error_prepend(errp, "could not load kernel: ");
        return false;
    }
    bool ok = linux_is_bzimage(data, len) ? pc_load_linux(m, pb, data, len, errp)
                                          : pc_load_pvh(m, pb, data, len, errp);
    g_free(data);
    return ok && pc_load_acpi(m, pb, errp);
}

/* Writes the boot images and puts the BSP at the kernel's entry. */
static bool pc_boot(Machine *m, PcBoard *pb, Error **errp)
{
    if (!rom_set_write(pb->roms, &address_space_memory, errp)) {
        return false;
    }
    if (pb->linux64) {
        x86_cpu_set_long64(m->cpus[0], pb->entry, LINUX_PML4_ADDR, LINUX_GDT_ADDR,
                           LINUX_GDT_LIMIT, LINUX_ZERO_PAGE_ADDR);
    } else {
        x86_cpu_set_flat32(m->cpus[0], pb->entry, 0, PC_BOOT_INFO, 0);
    }
    return true;
}

/* ---- board ---- */

/* Port 0x80 (POST codes): writes are ignored, reads float. */
static uint64_t pc_post_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0xff;
}

static void pc_post_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps pc_post_ops = {
    .read = pc_post_read,
    .write = pc_post_write,
    .min_access_size = 1,
    .max_access_size = 1,
};

static bool pc_add_device(Machine *m, Object *dev, const char *name, Error **errp)
{
    bool ok = object_add_child(OBJECT(m), name, dev, errp);
    object_unref(dev);
    return ok && object_realize(dev, errp);
}

static void pc_powerdown(Machine *m)
{
    PcBoard *pb = m->board;
    acpi_pm_power_button(pb->pm);
}

static bool pc_init(Machine *m, Error **errp)
{
    if (m->smp < 1 || m->smp > PC_MAX_CPUS) {
        error_setg(errp, "Invalid SMP CPUs %u. The max CPUs supported by machine 'pc' is %u",
                   m->smp, PC_MAX_CPUS);
        return false;
    }
    if (m->ram_size < 2 * MiB) {
        error_setg(errp, "pc: RAM size must be at least 2 MiB");
        return false;
    }
    if (!m->kernel) {
        error_setg(errp, "pc: no firmware is available: boot a kernel with -kernel");
        return false;
    }
    if (m->bios || m->dtb) {
        error_setg(errp, "pc: %s is not supported", m->bios ? "-bios" : "-dtb");
        return false;
    }
    PcBoard *pb = g_new0(PcBoard, 1);
    m->board = pb;
    pb->roms = rom_set_new();
    ioport_space_init();

    pb->below_4g = MIN(m->ram_size, PC_LOWMEM_MAX);
    pb->above_4g = m->ram_size - pb->below_4g;
    if (!memory_region_init_ram(&pb->ram, "pc.ram", m->ram_size, errp)) {
        return false;
    }
    memory_region_init_alias(&pb->ram_below_4g, "ram-below-4g", &pb->ram, 0, pb->below_4g);
    memory_region_add_subregion(system_memory, 0, &pb->ram_below_4g);
    if (pb->above_4g) {
        memory_region_init_alias(&pb->ram_above_4g, "ram-above-4g", &pb->ram, pb->below_4g,
                                 pb->above_4g);
        memory_region_add_subregion(system_memory, PC_HIGHMEM_BASE, &pb->ram_above_4g);
    }

    m->cpus = g_new0(CPUState *, m->smp);
    for (unsigned i = 0; i < m->smp; i++) {
        m->cpus[i] = x86_cpu_create(m, i, m->cpu_type, errp);
        if (!m->cpus[i]) {
            return false;
        }
    }

    /* The interrupt controllers: KVM's in-kernel ones, else userspace (hw/i386/pc-irqchip.c). */
    if (kvm_enabled()) {
        pb->gsi = irq_lines_new(kvm_irqchip_set_gsi, NULL, PC_NUM_GSI);
        pci_msi_deliver = kvm_irqchip_send_msi;
    } else if (!(pb->gsi = pc_irqchip_init(m, errp))) {
        return false;
    }

    static const uint16_t com_base[2] = { 0x3f8, 0x2f8 };
    static const int com_irq[2] = { PC_IRQ_COM1, PC_IRQ_COM2 };
    for (unsigned i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof(name), "serial%u", i);
        pb->com[i] = OBJECT_CHECK(Serial16550, object_new(&serial_class));
        pb->com[i]->irq = &pb->gsi[com_irq[i]];
        pb->com[i]->chr = m->serial[i];
        if (!pc_add_device(m, OBJECT(pb->com[i]), name, errp)) {
            return false;
        }
        memory_region_init_alias(&pb->com_io[i], name, &pb->com[i]->mmio, 0, 8);
        memory_region_add_subregion(system_io, com_base[i], &pb->com_io[i]);
    }

    pb->pm = OBJECT_CHECK(AcpiPm, object_new(&acpi_pm_class));
    pb->pm->sci = &pb->gsi[PC_IRQ_SCI];
    if (!pc_add_device(m, OBJECT(pb->pm), "acpi-pm", errp)) {
        return false;
    }
    memory_region_add_subregion(system_io, ACPI_PM_BASE, &pb->pm->io);
    memory_region_add_subregion(system_io, ACPI_RESET_PORT, &pb->pm->reset_io);
    machine_powerdown_hook = pc_powerdown;

    pb->pci = pci_host_init(OBJECT(m), system_memory, system_io, &pb->gsi[ACPI_PCI_INTX_GSI],
                            PC_ECAM_BASE, PC_ECAM_SIZE, errp);
    if (!pb->pci) {
        return false;
    }

    memory_region_init_io(&pb->post_io, "ioport80", &pc_post_ops, pb, 1);
    memory_region_add_subregion(system_io, 0x80, &pb->post_io);

    pb->rtc = OBJECT_CHECK(RtcState, object_new(&mc146818rtc_class));
    pb->rtc->irq = &pb->gsi[PC_IRQ_RTC];
    if (!pc_add_device(m, OBJECT(pb->rtc), "rtc", errp)) {
        return false;
    }
    mc146818rtc_set_memory(pb->rtc, pb->below_4g, pb->above_4g, m->smp);
    memory_region_add_subregion(system_io, 0x70, &pb->rtc->io);

    pb->kbd = OBJECT_CHECK(I8042State, object_new(&i8042_class));
    pb->kbd->irq[I8042_PORT_KBD] = &pb->gsi[PC_IRQ_KBD];
    pb->kbd->irq[I8042_PORT_AUX] = &pb->gsi[PC_IRQ_MOUSE];
    if (!pc_add_device(m, OBJECT(pb->kbd), "i8042", errp)) {
        return false;
    }
    memory_region_add_subregion(system_io, 0x60, &pb->kbd->data_io);
    memory_region_add_subregion(system_io, 0x64, &pb->kbd->cmd_io);
    /* the PS/2 keyboard and mouse are always plugged in */
    PS2Kbd *ps2kbd = OBJECT_CHECK(PS2Kbd, object_new(&ps2_kbd_class));
    ps2kbd->ctrl = pb->kbd;
    PS2Mouse *ps2mouse = OBJECT_CHECK(PS2Mouse, object_new(&ps2_mouse_class));
    ps2mouse->ctrl = pb->kbd;
    if (!pc_add_device(m, OBJECT(ps2kbd), "ps2-kbd", errp) ||
        !pc_add_device(m, OBJECT(ps2mouse), "ps2-mouse", errp)) {
        return false;
    }

    return pc_load_kernel(m, pb, errp) && pc_boot(m, pb, errp);
}

static void pc_reset(Machine *m)
{
    Error *err = NULL;
    if ((kvm_enabled() && !kvm_irqchip_reset(&err)) || !pc_boot(m, m->board, &err)) {
        error_report_err(err);
    }
}

static const MachineClass pc_machine = {
    .oc = { .name = "pc-machine" },
    .name = "pc",
    .desc = "Standard PC (x86-64, KVM)",
    .max_cpus = PC_MAX_CPUS,
    .default_ram_size = 128 * MiB,
    .max_ram_size = 1ULL << 40,
    .init = pc_init,
    .reset = pc_reset,
};
MACHINE_REGISTER(pc_machine)
