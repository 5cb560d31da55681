/*
 * RISC-V "virt" board with QEMU 7.2's memory map: mrom with the reset vector, SiFive test
 * finisher, goldfish RTC, CLINT, PLIC, ns16550a UART, eight virtio-mmio slots and DRAM,
 * described to the guest by a device tree. Firmware, kernel, initrd and the device tree
 * are kept as ROM blobs and written again at every reset.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <libfdt.h>
#include "hw/riscv/virt.h"
#include "hw/core/machine.h"
#include "hw/core/loader.h"
#include "hw/core/irq.h"
#include "hw/char/serial.h"
#include "hw/intc/riscv_aclint.h"
#include "hw/intc/sifive_plic.h"
#include "hw/misc/sifive_test.h"
#include "hw/rtc/goldfish_rtc.h"
#include "hw/virtio/virtio_mmio.h"
#include "target/riscv/cpu.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define EM_RISCV 243

#define VIRT_DEFAULT_BIOS "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
#define VIRT_MAX_CPUS 8
#define VIRT_MAX_RAM (1ULL << 40)
/* Room the device tree may take (QEMU allocates 1 MiB for it too). */
#define VIRT_FDT_MAX_SIZE (1 * MiB)

/* fw_dynamic_info of OpenSBI: the mrom hands it over in a2. */
#define FW_DYNAMIC_INFO_MAGIC 0x4942534fULL     /* "OSBI" */
#define FW_DYNAMIC_INFO_VERSION 2
#define FW_DYNAMIC_INFO_NEXT_MODE_S 1

typedef struct VirtBoard {
    MemoryRegion ram;
    MemoryRegion mrom;
    RiscvAclint *clint;
    SifivePlic *plic;
    Serial16550 *uart;
    GoldfishRtc *rtc;
    SifiveTest *test;
    VirtioMmio *virtio[VIRT_VIRTIO_COUNT];
    IrqLine **cpu_irqs;     /* per hart, lines numbered by mip bit */
    RomSet *roms;
} VirtBoard;

/* ---- device tree ---- */

enum {
    PHANDLE_PLIC = 1,
    PHANDLE_TEST = 2,
    PHANDLE_CPU0 = 3,       /* cpu N: PHANDLE_CPU0 + 2N, its intc: PHANDLE_CPU0 + 2N + 1 */
};

static uint32_t virt_cpu_phandle(unsigned hart)
{
    return PHANDLE_CPU0 + 2 * hart;
}

static uint32_t virt_intc_phandle(unsigned hart)
{
    return PHANDLE_CPU0 + 2 * hart + 1;
}

/* Sequential-write helpers: each records the first libfdt error in *err. */
typedef struct FdtWriter {
    void *fdt;
    int err;
} FdtWriter;

static void fw_check(FdtWriter *w, int rc)
{
    if (rc < 0 && !w->err) {
        w->err = rc;
    }
}

static void fw_begin(FdtWriter *w, const char *name)
{
    fw_check(w, fdt_begin_node(w->fdt, name));
}

static void fw_end(FdtWriter *w)
{
    fw_check(w, fdt_end_node(w->fdt));
}

static void fw_prop(FdtWriter *w, const char *name, const void *val, int len)
{
    fw_check(w, fdt_property(w->fdt, name, val, len));
}

static void fw_str(FdtWriter *w, const char *name, const char *val)
{
    fw_check(w, fdt_property_string(w->fdt, name, val));
}

static void fw_u32(FdtWriter *w, const char *name, uint32_t val)
{
    fw_check(w, fdt_property_u32(w->fdt, name, val));
}

/* A property of 32-bit cells. */
static void fw_cells(FdtWriter *w, const char *name, const uint32_t *cells, unsigned n)
{
    fdt32_t *be = g_new(fdt32_t, n);
    for (unsigned i = 0; i < n; i++) {
        be[i] = cpu_to_fdt32(cells[i]);
    }
    fw_prop(w, name, be, n * sizeof(fdt32_t));
    g_free(be);
}

/* reg = <addr size> with two cells each. */
static void fw_reg(FdtWriter *w, uint64_t addr, uint64_t size)
{
    uint32_t cells[4] = { addr >> 32, (uint32_t)addr, size >> 32, (uint32_t)size };
    fw_cells(w, "reg", cells, 4);
}

static void fw_node_name(char *buf, size_t len, const char *name, uint64_t addr)
{
    snprintf(buf, len, "%s@%llx", name, (unsigned long long)addr);
}

static void virt_fdt_cpus(FdtWriter *w, const VirtFdtInfo *info)
{
    char name[64];
    fw_begin(w, "cpus");
    fw_u32(w, "#address-cells", 1);
    fw_u32(w, "#size-cells", 0);
    fw_u32(w, "timebase-frequency", VIRT_TIMEBASE_FREQ);
    for (unsigned h = 0; h < info->num_harts; h++) {
        snprintf(name, sizeof(name), "cpu@%u", h);
        fw_begin(w, name);
        fw_u32(w, "phandle", virt_cpu_phandle(h));
        fw_str(w, "device_type", "cpu");
        fw_u32(w, "reg", h);
        fw_str(w, "status", "okay");
        fw_str(w, "compatible", "riscv");
        fw_str(w, "riscv,isa", info->isa[h]);
        fw_str(w, "mmu-type", info->mmu_type[h]);
        fw_begin(w, "interrupt-controller");
        fw_u32(w, "#interrupt-cells", 1);
        fw_prop(w, "interrupt-controller", NULL, 0);
        fw_str(w, "compatible", "riscv,cpu-intc");
        fw_u32(w, "phandle", virt_intc_phandle(h));
        fw_end(w);
        fw_end(w);
    }
    fw_begin(w, "cpu-map");
    fw_begin(w, "cluster0");
    for (unsigned h = 0; h < info->num_harts; h++) {
        snprintf(name, sizeof(name), "core%u", h);
        fw_begin(w, name);
        fw_u32(w, "cpu", virt_cpu_phandle(h));
        fw_end(w);
    }
    fw_end(w);
    fw_end(w);
    fw_end(w);
}

/* interrupts-extended listing, per hart, the given mip bits of its intc. */
static void fw_irqs_extended(FdtWriter *w, unsigned harts, uint32_t first, uint32_t second)
{
    uint32_t *cells = g_new(uint32_t, harts * 4);
    for (unsigned h = 0; h < harts; h++) {
        cells[h * 4 + 0] = virt_intc_phandle(h);
        cells[h * 4 + 1] = first;
        cells[h * 4 + 2] = virt_intc_phandle(h);
        cells[h * 4 + 3] = second;
    }
    fw_cells(w, "interrupts-extended", cells, harts * 4);
    g_free(cells);
}

static void virt_fdt_soc(FdtWriter *w, const VirtFdtInfo *info)
{
    static const char test_compat[] = "sifive,test1\0sifive,test0\0syscon";
    static const char plic_compat[] = "sifive,plic-1.0.0\0riscv,plic0";
    static const char clint_compat[] = "sifive,clint0\0riscv,clint0";
    char name[64];

    fw_begin(w, "soc");
    fw_u32(w, "#address-cells", 2);
    fw_u32(w, "#size-cells", 2);
    fw_str(w, "compatible", "simple-bus");
    fw_prop(w, "ranges", NULL, 0);

    fw_node_name(name, sizeof(name), "rtc", VIRT_RTC_BASE);
    fw_begin(w, name);
    fw_u32(w, "interrupts", VIRT_RTC_IRQ);
    fw_u32(w, "interrupt-parent", PHANDLE_PLIC);
    fw_reg(w, VIRT_RTC_BASE, GOLDFISH_RTC_SIZE);
    fw_str(w, "compatible", "google,goldfish-rtc");
    fw_end(w);

    fw_node_name(name, sizeof(name), "serial", VIRT_UART0_BASE);
    fw_begin(w, name);
    fw_u32(w, "interrupts", VIRT_UART0_IRQ);
    fw_u32(w, "interrupt-parent", PHANDLE_PLIC);
    fw_u32(w, "clock-frequency", SERIAL_CLOCK_HZ);
    fw_reg(w, VIRT_UART0_BASE, SERIAL_MMIO_SIZE);
    fw_str(w, "compatible", "ns16550a");
    fw_end(w);

    fw_node_name(name, sizeof(name), "test", VIRT_TEST_BASE);
    fw_begin(w, name);
    fw_u32(w, "phandle", PHANDLE_TEST);
    fw_reg(w, VIRT_TEST_BASE, SIFIVE_TEST_SIZE);
    fw_prop(w, "compatible", test_compat, sizeof(test_compat));
    fw_end(w);

    /* Highest slot first, as QEMU lists them. */
    for (int i = VIRT_VIRTIO_COUNT - 1; i >= 0; i--) {
        uint64_t base = VIRT_VIRTIO_BASE + i * VIRT_VIRTIO_STRIDE;
        fw_node_name(name, sizeof(name), "virtio_mmio", base);
        fw_begin(w, name);
        fw_u32(w, "interrupts", VIRT_VIRTIO_IRQ + i);
        fw_u32(w, "interrupt-parent", PHANDLE_PLIC);
        fw_reg(w, base, VIRT_VIRTIO_STRIDE);
        fw_str(w, "compatible", "virtio,mmio");
        fw_end(w);
    }

    fw_node_name(name, sizeof(name), "plic", VIRT_PLIC_BASE);
    fw_begin(w, name);
    fw_u32(w, "phandle", PHANDLE_PLIC);
    fw_u32(w, "riscv,ndev", VIRT_PLIC_NUM_SOURCES);
    fw_reg(w, VIRT_PLIC_BASE, VIRT_PLIC_SIZE);
    fw_irqs_extended(w, info->num_harts, RISCV_IRQ_M_EXT, RISCV_IRQ_S_EXT);
    fw_prop(w, "interrupt-controller", NULL, 0);
    fw_prop(w, "compatible", plic_compat, sizeof(plic_compat));
    fw_u32(w, "#address-cells", 0);
    fw_u32(w, "#interrupt-cells", 1);
    fw_end(w);

    fw_node_name(name, sizeof(name), "clint", VIRT_CLINT_BASE);
    fw_begin(w, name);
    fw_irqs_extended(w, info->num_harts, RISCV_IRQ_M_SOFT, RISCV_IRQ_M_TIMER);
    fw_reg(w, VIRT_CLINT_BASE, RISCV_ACLINT_SIZE);
    fw_prop(w, "compatible", clint_compat, sizeof(clint_compat));
    fw_end(w);

    fw_end(w);
}

/* A syscon-poweroff / syscon-reboot node writing value to the test finisher. */
static void virt_fdt_syscon(FdtWriter *w, const char *node, uint32_t value)
{
    char compat[32];
    snprintf(compat, sizeof(compat), "syscon-%s", node);
    fw_begin(w, node);
    fw_u32(w, "value", value);
    fw_u32(w, "offset", 0);
    fw_u32(w, "regmap", PHANDLE_TEST);
    fw_str(w, "compatible", compat);
    fw_end(w);
}

void *virt_fdt_build(const VirtFdtInfo *info, Error **errp)
{
    FdtWriter w = { .fdt = g_malloc0(VIRT_FDT_MAX_SIZE) };
    char name[64];

    fw_check(&w, fdt_create(w.fdt, VIRT_FDT_MAX_SIZE));
    fw_check(&w, fdt_finish_reservemap(w.fdt));
    fw_begin(&w, "");
    fw_u32(&w, "#address-cells", 2);
    fw_u32(&w, "#size-cells", 2);
    fw_str(&w, "compatible", "riscv-virtio");
    fw_str(&w, "model", "riscv-virtio,qemu");

    fw_begin(&w, "chosen");
    uint32_t seed[8];
    for (unsigned i = 0; i < G_N_ELEMENTS(seed); i++) {
        seed[i] = g_random_int();
    }
    fw_cells(&w, "rng-seed", seed, G_N_ELEMENTS(seed));
    fw_node_name(name, sizeof(name), "/soc/serial", VIRT_UART0_BASE);
    fw_str(&w, "stdout-path", name);
    fw_end(&w);

    virt_fdt_syscon(&w, "poweroff", 0x5555);
    virt_fdt_syscon(&w, "reboot", 0x7777);

    fw_node_name(name, sizeof(name), "memory", VIRT_DRAM_BASE);
    fw_begin(&w, name);
    fw_str(&w, "device_type", "memory");
    fw_reg(&w, VIRT_DRAM_BASE, info->ram_size);
    fw_end(&w);

    virt_fdt_cpus(&w, info);
    virt_fdt_soc(&w, info);
    fw_end(&w);
    fw_check(&w, fdt_finish(w.fdt));
    if (w.err) {
        error_setg(errp, "building the device tree failed: %s", fdt_strerror(w.err));
        g_free(w.fdt);
        return NULL;
    }
    return w.fdt;
}

/* Sets a 32-bit cell when val fits, two cells otherwise (as QEMU does for the initrd). */
static int virt_fdt_setprop_addr(void *fdt, int node, const char *name, uint64_t val)
{
    if (val >> 32) {
        return fdt_setprop_u64(fdt, node, name, val);
    }
    return fdt_setprop_u32(fdt, node, name, val);
}

bool virt_fdt_set_chosen(void **fdt, const char *bootargs, uint64_t initrd_start,
                         uint64_t initrd_end, Error **errp)
{
    int size = fdt_totalsize(*fdt) + 4096 + (bootargs ? strlen(bootargs) + 1 : 0);
    void *buf = g_malloc0(size);
    int rc = fdt_open_into(*fdt, buf, size);
    int node = rc < 0 ? rc : fdt_path_offset(buf, "/chosen");
    if (node == -FDT_ERR_NOTFOUND) {
        node = fdt_add_subnode(buf, 0, "chosen");
    }
    rc = node;
    if (rc >= 0 && bootargs) {
        rc = fdt_setprop_string(buf, node, "bootargs", bootargs);
    }
    if (rc >= 0 && initrd_end > initrd_start) {
        rc = virt_fdt_setprop_addr(buf, node, "linux,initrd-start", initrd_start);
        if (rc >= 0) {
            rc = virt_fdt_setprop_addr(buf, node, "linux,initrd-end", initrd_end);
        }
    }
    if (rc >= 0) {
        rc = fdt_pack(buf);
    }
    if (rc < 0) {
        error_setg(errp, "updating /chosen in the device tree failed: %s", fdt_strerror(rc));
        g_free(buf);
        return false;
    }
    g_free(*fdt);
    *fdt = buf;
    return true;
}

uint64_t virt_fdt_addr(uint64_t ram_size, uint32_t fdt_size)
{
    uint64_t end = MIN(VIRT_DRAM_BASE + ram_size, 3 * GiB);
    if (end < VIRT_DRAM_BASE + fdt_size) {
        return 0;
    }
    uint64_t addr = (end - fdt_size) & ~(2 * MiB - 1);
    return addr >= VIRT_DRAM_BASE ? addr : 0;
}

/* ---- boot ---- */

static uint32_t rv_i_type(uint32_t opcode, unsigned funct3, unsigned rd, unsigned rs1,
                          int32_t imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode;
}

enum { RV_T0 = 5, RV_A0 = 10, RV_A1 = 11, RV_A2 = 12 };
#define CSR_MHARTID 0xf14

/* The mrom contents: a0 = hart id, a1 = device tree, a2 = fw_dynamic_info, jump to start. */
static void virt_build_mrom(uint8_t *rom, size_t len, uint64_t start, uint64_t fdt_addr,
                            uint64_t next_addr)
{
    enum { DATA_START = 24, DATA_FDT = 32, DATA_FW_DYN = 40 };
    const uint32_t code[6] = {
        0x17 | RV_T0 << 7,                                  /* auipc t0, 0 */
        rv_i_type(0x13, 0, RV_A2, RV_T0, DATA_FW_DYN),      /* addi a2, t0, fw_dyn */
        rv_i_type(0x73, 2, RV_A0, 0, CSR_MHARTID),          /* csrr a0, mhartid */
        rv_i_type(0x03, 3, RV_A1, RV_T0, DATA_FDT),         /* ld a1, fdt(t0) */
        rv_i_type(0x03, 3, RV_T0, RV_T0, DATA_START),       /* ld t0, start(t0) */
        rv_i_type(0x67, 0, 0, RV_T0, 0),                    /* jr t0 */
    };
    const uint64_t data[8] = {
        start, fdt_addr,
        /* struct fw_dynamic_info: magic, version, next_addr, next_mode, options, boot_hart */
        FW_DYNAMIC_INFO_MAGIC, FW_DYNAMIC_INFO_VERSION, next_addr,
        FW_DYNAMIC_INFO_NEXT_MODE_S, 0, 0,
    };
    memset(rom, 0, len);
    for (unsigned i = 0; i < G_N_ELEMENTS(code); i++) {
        for (unsigned b = 0; b < 4; b++) {
            rom[i * 4 + b] = code[i] >> (8 * b);
        }
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(data); i++) {
        for (unsigned b = 0; b < 8; b++) {
            rom[DATA_START + i * 8 + b] = data[i] >> (8 * b);
        }
    }
}

static uint64_t le64_at(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* Loads -bios into roms; *entry and *end describe it (no firmware: false with no error). */
static bool virt_load_firmware(Machine *m, RomSet *roms, uint64_t *entry, uint64_t *end,
                               Error **errp)
{
    const char *path = m->bios ? m->bios : VIRT_DEFAULT_BIOS;
    if (loader_is_elf(path)) {
        if (!rom_set_add_elf64(roms, path, EM_RISCV, entry, NULL, end, errp)) {
            error_prepend(errp, "could not load firmware: ");
            return false;
        }
        return true;
    }
    uint64_t size;
    if (!rom_set_add_file(roms, "firmware", path, VIRT_DRAM_BASE, m->ram_size, &size, errp)) {
        error_prepend(errp, "could not load firmware: ");
        return false;
    }
    *entry = VIRT_DRAM_BASE;
    *end = VIRT_DRAM_BASE + size;
    return true;
}

/* Loads -kernel (ELF, Linux Image or flat binary at start) into roms. */
static bool virt_load_kernel(Machine *m, RomSet *roms, uint64_t start, uint64_t *entry,
                             Error **errp)
{
    uint64_t dram_end = VIRT_DRAM_BASE + m->ram_size;
    if (loader_is_elf(m->kernel)) {
        if (!rom_set_add_elf64(roms, m->kernel, EM_RISCV, entry, NULL, NULL, errp)) {
            error_prepend(errp, "could not load kernel: ");
            return false;
        }
        return true;
    }
    if (start >= dram_end) {
        error_setg(errp, "no room for the kernel above 0x%llx in %llu MiB of RAM",
                   (unsigned long long)start, (unsigned long long)(m->ram_size / MiB));
        return false;
    }
    uint8_t *data;
    uint64_t size;
    if (!load_file(m->kernel, dram_end - start, &data, &size, errp)) {
        error_prepend(errp, "could not load kernel at 0x%llx: ", (unsigned long long)start);
        return false;
    }
    /* A Linux Image declares its in-memory size (with bss) in its header. */
    uint64_t footprint = size;
    if (size >= 64 && (memcmp(data + 0x30, "RISCV\0\0\0", 8) == 0 ||
                       memcmp(data + 0x38, "RSC\x05", 4) == 0)) {
        uint64_t image_size = le64_at(data + 0x10);
        if (image_size < size) {
            error_setg(errp, "'%s': Linux image header declares %llu bytes, smaller than "
                       "the file (%llu bytes)", m->kernel, (unsigned long long)image_size,
                       (unsigned long long)size);
            g_free(data);
            return false;
        }
        footprint = image_size;
    }
    bool ok = true;
    if (footprint > dram_end - start) {
        error_setg(errp, "kernel '%s' needs %llu bytes at 0x%llx, more than the %llu MiB "
                   "of RAM hold", m->kernel, (unsigned long long)footprint,
                   (unsigned long long)start, (unsigned long long)(m->ram_size / MiB));
        ok = false;
    }
    char *name = g_strdup_printf("kernel '%s'", m->kernel);
    char *bss = g_strdup_printf("kernel '%s' (bss)", m->kernel);
    ok = ok && rom_set_add(roms, name, start, data, size, errp) &&
         rom_set_add(roms, bss, start + size, NULL, footprint - size, errp);
    g_free(name);
    g_free(bss);
    g_free(data);
    *entry = start;
    return ok;
}

/* Fills roms with firmware, kernel, initrd, device tree and the mrom. */
static bool virt_load_boot(Machine *m, VirtBoard *vb, Error **errp)
{
    RomSet *roms = vb->roms;
    uint64_t dram_end = VIRT_DRAM_BASE + m->ram_size;
    bool have_fw = !(m->bios && strcmp(m->bios, "none") == 0);
    uint64_t fw_entry = 0, fw_end = VIRT_DRAM_BASE;

    if (!m->kernel && (m->initrd || m->append)) {
        error_setg(errp, "%s is only allowed with -kernel", m->initrd ? "-initrd" : "-append");
        return false;
    }
    if (have_fw && !virt_load_firmware(m, roms, &fw_entry, &fw_end, errp)) {
        return false;
    }

    uint64_t kernel_entry = 0;
    uint64_t initrd_start = 0, initrd_end = 0;
    if (m->kernel) {
        uint64_t start = have_fw ? (fw_end + 2 * MiB - 1) & ~(2 * MiB - 1) : VIRT_DRAM_BASE;
        if (!virt_load_kernel(m, roms, start, &kernel_entry, errp)) {
            return false;
        }
        if (m->initrd) {
            initrd_start = kernel_entry + MIN(m->ram_size / 2, 128 * MiB);
            if (initrd_start >= dram_end) {
                error_setg(errp, "no room for the initrd at 0x%llx in %llu MiB of RAM",
                           (unsigned long long)initrd_start,
                           (unsigned long long)(m->ram_size / MiB));
                return false;
            }
            uint64_t size;
            if (!rom_set_add_file(roms, "initrd", m->initrd, initrd_start,
                                  dram_end - initrd_start, &size, errp)) {
                error_prepend(errp, "could not load initrd at 0x%llx: ",
                              (unsigned long long)initrd_start);
                return false;
            }
            initrd_end = initrd_start + size;
        }
    }

    void *fdt;
    if (m->dtb) {
        uint8_t *data;
        uint64_t size;
        if (!load_file(m->dtb, VIRT_FDT_MAX_SIZE, &data, &size, errp)) {
            error_prepend(errp, "could not load -dtb: ");
            return false;
        }
        if (size < sizeof(struct fdt_header) || fdt_check_header(data) != 0 ||
            fdt_totalsize(data) > size) {
            error_setg(errp, "'%s' is not a valid device tree blob", m->dtb);
            g_free(data);
            return false;
        }
        fdt = data;
    } else {
        VirtFdtInfo info = { .num_harts = m->smp, .ram_size = m->ram_size };
        const char **isa = g_new(const char *, m->smp);
        const char **mmu = g_new(const char *, m->smp);
        for (unsigned h = 0; h < m->smp; h++) {
            isa[h] = riscv_cpu_isa_string(m->cpus[h]);
            mmu[h] = riscv_cpu_mmu_type(m->cpus[h]);
        }
        info.isa = isa;
        info.mmu_type = mmu;
        fdt = virt_fdt_build(&info, errp);
        g_free(isa);
        g_free(mmu);
        if (!fdt) {
            return false;
        }
    }
    if (!virt_fdt_set_chosen(&fdt, m->append, initrd_start, initrd_end, errp)) {
        g_free(fdt);
        return false;
    }
    uint32_t fdt_size = fdt_totalsize(fdt);
    uint64_t fdt_addr = virt_fdt_addr(m->ram_size, fdt_size);
    bool ok = fdt_addr != 0;
    if (!ok) {
        error_setg(errp, "%llu MiB of RAM cannot hold the device tree",
                   (unsigned long long)(m->ram_size / MiB));
    }
    ok = ok && rom_set_add(roms, "device tree", fdt_addr, fdt, fdt_size, errp);
    g_free(fdt);
    if (!ok) {
        return false;
    }

    uint64_t start = have_fw ? fw_entry : (m->kernel ? kernel_entry : VIRT_DRAM_BASE);
    uint8_t *rom = g_malloc(VIRT_MROM_SIZE);
    virt_build_mrom(rom, VIRT_MROM_SIZE, start, fdt_addr, kernel_entry);
    ok = rom_set_add(roms, "mrom reset vector", VIRT_MROM_BASE, rom, VIRT_MROM_SIZE, errp);
    g_free(rom);
    return ok && rom_set_write(roms, &address_space_memory, errp);
}

/* ---- board ---- */

static void virt_cpu_irq(void *opaque, int n, int level)
{
    riscv_cpu_set_irq(opaque, n, level);
}

/* Names, realizes and maps a board device; its region is mr. */
static bool virt_add_device(Machine *m, Object *dev, const char *name, MemoryRegion *mr,
                            uint64_t base, Error **errp)
{
    bool ok = object_add_child(OBJECT(m), name, dev, errp);
    object_unref(dev);
    if (!ok || !object_realize(dev, errp)) {
        return false;
    }
    memory_region_add_subregion(system_memory, base, mr);
    return true;
}

static bool virt_init(Machine *m, Error **errp)
{
    if (m->smp < 1 || m->smp > VIRT_MAX_CPUS) {
        error_setg(errp, "Invalid SMP CPUs %u. The max CPUs supported by machine 'virt' "
                   "is %u", m->smp, VIRT_MAX_CPUS);
        return false;
    }
    if (m->ram_size == 0 || m->ram_size > VIRT_MAX_RAM) {
        error_setg(errp, "virt: RAM size must be between 1 byte and %llu GiB",
                   (unsigned long long)(VIRT_MAX_RAM / GiB));
        return false;
    }

    VirtBoard *vb = g_new0(VirtBoard, 1);
    m->board = vb;
    vb->roms = rom_set_new();

    if (!memory_region_init_ram(&vb->ram, "riscv_virt_board.ram", m->ram_size, errp)) {
        return false;
    }
    memory_region_add_subregion(system_memory, VIRT_DRAM_BASE, &vb->ram);
    if (!memory_region_init_rom(&vb->mrom, "riscv_virt_board.mrom", VIRT_MROM_SIZE, errp)) {
        return false;
    }
    memory_region_add_subregion(system_memory, VIRT_MROM_BASE, &vb->mrom);

    m->cpus = g_new0(CPUState *, m->smp);
    vb->cpu_irqs = g_new0(IrqLine *, m->smp);
    for (unsigned h = 0; h < m->smp; h++) {
        m->cpus[h] = riscv_cpu_create(m, h, VIRT_MROM_BASE, errp);
        if (!m->cpus[h]) {
            return false;
        }
        vb->cpu_irqs[h] = irq_lines_new(virt_cpu_irq, m->cpus[h], RISCV_IRQ_M_EXT + 1);
    }

    char val[32];
    vb->clint = OBJECT_CHECK(RiscvAclint, object_new(&riscv_aclint_class));
    snprintf(val, sizeof(val), "%u", m->smp);
    if (!object_property_set_str(OBJECT(vb->clint), "num-harts", val, errp) ||
        !virt_add_device(m, OBJECT(vb->clint), "clint", &vb->clint->mmio, VIRT_CLINT_BASE,
                         errp)) {
        return false;
    }
    for (unsigned h = 0; h < m->smp; h++) {
        riscv_aclint_connect(vb->clint, h, &vb->cpu_irqs[h][RISCV_IRQ_M_SOFT],
                             &vb->cpu_irqs[h][RISCV_IRQ_M_TIMER]);
        riscv_cpu_set_time_source(m->cpus[h], riscv_aclint_get_time, vb->clint);
    }

    vb->plic = OBJECT_CHECK(SifivePlic, object_new(&sifive_plic_class));
    snprintf(val, sizeof(val), "%u", 2 * m->smp);
    if (!object_property_set_str(OBJECT(vb->plic), "num-contexts", val, errp) ||
        !virt_add_device(m, OBJECT(vb->plic), "plic", &vb->plic->mmio, VIRT_PLIC_BASE,
                         errp)) {
        return false;
    }
    /* Two contexts per hart: machine mode, then supervisor mode. */
    for (unsigned h = 0; h < m->smp; h++) {
        sifive_plic_connect(vb->plic, 2 * h, &vb->cpu_irqs[h][RISCV_IRQ_M_EXT]);
        sifive_plic_connect(vb->plic, 2 * h + 1, &vb->cpu_irqs[h][RISCV_IRQ_S_EXT]);
    }

    vb->test = OBJECT_CHECK(SifiveTest, object_new(&sifive_test_class));
    if (!virt_add_device(m, OBJECT(vb->test), "test", &vb->test->mmio, VIRT_TEST_BASE,
                         errp)) {
        return false;
    }

    vb->rtc = OBJECT_CHECK(GoldfishRtc, object_new(&goldfish_rtc_class));
    vb->rtc->irq = &vb->plic->in[VIRT_RTC_IRQ];
    if (!virt_add_device(m, OBJECT(vb->rtc), "rtc", &vb->rtc->mmio, VIRT_RTC_BASE, errp)) {
        return false;
    }

    vb->uart = OBJECT_CHECK(Serial16550, object_new(&serial_class));
    vb->uart->irq = &vb->plic->in[VIRT_UART0_IRQ];
    vb->uart->chr = m->serial[0];
    if (!virt_add_device(m, OBJECT(vb->uart), "serial0", &vb->uart->mmio, VIRT_UART0_BASE,
                         errp)) {
        return false;
    }

    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        char name[32];
        snprintf(name, sizeof(name), "virtio-mmio[%u]", i);
        vb->virtio[i] = OBJECT_CHECK(VirtioMmio, object_new(&virtio_mmio_class));
        vb->virtio[i]->irq = &vb->plic->in[VIRT_VIRTIO_IRQ + i];
        if (!virt_add_device(m, OBJECT(vb->virtio[i]), name, &vb->virtio[i]->mmio,
                             VIRT_VIRTIO_BASE + i * VIRT_VIRTIO_STRIDE, errp)) {
            return false;
        }
    }
    /* As in QEMU, the first -device virtio-*-device takes the highest slot. */
    for (int i = VIRT_VIRTIO_COUNT - 1; i >= 0; i--) {
        virtio_mmio_register_bus(vb->virtio[i], i);
    }

    return virt_load_boot(m, vb, errp);
}

/* Writes the pristine boot images again (a rebooting guest may have overwritten them). */
static void virt_reset(Machine *m)
{
    VirtBoard *vb = m->board;
    Error *err = NULL;
    if (!rom_set_write(vb->roms, &address_space_memory, &err)) {
        error_report_err(err);
    }
}

static const MachineClass virt_machine = {
    .name = "virt",
    .desc = "RISC-V VirtIO board",
    .is_default = true,
    .max_cpus = VIRT_MAX_CPUS,
    .default_ram_size = 128 * MiB,
    .max_ram_size = VIRT_MAX_RAM,
    .init = virt_init,
    .reset = virt_reset,
};
MACHINE_REGISTER(virt_machine);
