/* The virt board's device tree, parsed back with libfdt, and where it is placed. */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <libfdt.h>
#include "hw/riscv/virt.h"

static const char *const isa[2] = { "rv64imafdc_zicsr_zifencei", "rv64imafdc_zicsr_zifencei" };
static const char *const mmu[2] = { "riscv,sv48", "riscv,sv48" };

static void *build(unsigned harts, uint64_t ram)
{
    VirtFdtInfo info = { .num_harts = harts, .isa = isa, .mmu_type = mmu, .ram_size = ram };
    Error *err = NULL;
    void *fdt = virt_fdt_build(&info, &err);
    g_assert_null(err);
    g_assert_nonnull(fdt);
    g_assert_cmpint(fdt_check_header(fdt), ==, 0);
    return fdt;
}

static int node(const void *fdt, const char *path)
{
    int off = fdt_path_offset(fdt, path);
    if (off < 0) {
        g_error("node %s missing: %s", path, fdt_strerror(off));
    }
    return off;
}

static const void *prop(const void *fdt, const char *path, const char *name, int *len)
{
    const void *p = fdt_getprop(fdt, node(fdt, path), name, len);
    if (!p) {
        g_error("%s:%s missing", path, name);
    }
    return p;
}

static uint32_t cell(const void *fdt, const char *path, const char *name, int i)
{
    int len;
    const fdt32_t *p = prop(fdt, path, name, &len);
    g_assert_cmpint(len, >=, (i + 1) * 4);
    return fdt32_to_cpu(p[i]);
}

static const char *str(const void *fdt, const char *path, const char *name)
{
    return prop(fdt, path, name, NULL);
}

static void test_tree(void)
{
    void *fdt = build(2, 256 << 20);
    g_assert_cmpstr(str(fdt, "/", "compatible"), ==, "riscv-virtio");
    g_assert_cmpuint(cell(fdt, "/cpus", "timebase-frequency", 0), ==, 10000000);
    g_assert_cmpstr(str(fdt, "/cpus/cpu@1", "riscv,isa"), ==, isa[1]);
    g_assert_cmpstr(str(fdt, "/cpus/cpu@1", "mmu-type"), ==, "riscv,sv48");
    g_assert_cmpstr(str(fdt, "/cpus/cpu@0", "device_type"), ==, "cpu");
    g_assert_cmpuint(cell(fdt, "/cpus/cpu@1", "reg", 0), ==, 1);
    g_assert_cmpstr(str(fdt, "/cpus/cpu@0/interrupt-controller", "compatible"), ==,
                    "riscv,cpu-intc");
    uint32_t cpu1 = fdt_get_phandle(fdt, node(fdt, "/cpus/cpu@1"));
    g_assert_cmpuint(cell(fdt, "/cpus/cpu-map/cluster0/core1", "cpu", 0), ==, cpu1);

    /* memory@80000000: reg <0 0x80000000 0 256 MiB> */
    g_assert_cmpuint(cell(fdt, "/memory@80000000", "reg", 1), ==, 0x80000000);
    g_assert_cmpuint(cell(fdt, "/memory@80000000", "reg", 3), ==, 256 << 20);

    /* The PLIC serves M then S external interrupts of each hart's intc. */
    uint32_t intc0 = fdt_get_phandle(fdt, node(fdt, "/cpus/cpu@0/interrupt-controller"));
    uint32_t intc1 = fdt_get_phandle(fdt, node(fdt, "/cpus/cpu@1/interrupt-controller"));
    const char *plic = "/soc/plic@c000000";
    int len;
    prop(fdt, plic, "interrupts-extended", &len);
    g_assert_cmpint(len, ==, 2 * 4 * 4);
    g_assert_cmpuint(cell(fdt, plic, "interrupts-extended", 0), ==, intc0);
    g_assert_cmpuint(cell(fdt, plic, "interrupts-extended", 1), ==, 11);
    g_assert_cmpuint(cell(fdt, plic, "interrupts-extended", 3), ==, 9);
    g_assert_cmpuint(cell(fdt, plic, "interrupts-extended", 4), ==, intc1);
    g_assert_cmpuint(cell(fdt, plic, "riscv,ndev", 0), ==, 96);
    g_assert_cmpuint(cell(fdt, plic, "reg", 3), ==, 0x600000);
    g_assert_cmpint(fdt_node_check_compatible(fdt, node(fdt, plic), "riscv,plic0"), ==, 0);
    uint32_t plic_ph = fdt_get_phandle(fdt, node(fdt, plic));

    const char *clint = "/soc/clint@2000000";
    g_assert_cmpuint(cell(fdt, clint, "interrupts-extended", 1), ==, 3);
    g_assert_cmpuint(cell(fdt, clint, "interrupts-extended", 3), ==, 7);
    g_assert_cmpuint(cell(fdt, clint, "interrupts-extended", 6), ==, intc1);
    g_assert_cmpuint(cell(fdt, clint, "reg", 3), ==, 0x10000);

    const char *uart = "/soc/serial@10000000";
    g_assert_cmpstr(str(fdt, uart, "compatible"), ==, "ns16550a");
    g_assert_cmpuint(cell(fdt, uart, "interrupts", 0), ==, 10);
    g_assert_cmpuint(cell(fdt, uart, "interrupt-parent", 0), ==, plic_ph);
    g_assert_cmpuint(cell(fdt, uart, "clock-frequency", 0), ==, 3686400);
    g_assert_cmpstr(str(fdt, "/chosen", "stdout-path"), ==, uart);

    g_assert_cmpuint(cell(fdt, "/soc/rtc@101000", "interrupts", 0), ==, 11);
    g_assert_cmpstr(str(fdt, "/soc/rtc@101000", "compatible"), ==, "google,goldfish-rtc");
    for (unsigned i = 0; i < 8; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/soc/virtio_mmio@%x", 0x10001000 + i * 0x1000);
        g_assert_cmpuint(cell(fdt, path, "interrupts", 0), ==, 1 + i);
        g_assert_cmpstr(str(fdt, path, "compatible"), ==, "virtio,mmio");
    }

    /* The test device is a syscon for poweroff (0x5555) and reboot (0x7777). */
    int test = node(fdt, "/soc/test@100000");
    g_assert_cmpint(fdt_node_check_compatible(fdt, test, "sifive,test0"), ==, 0);
    g_assert_cmpint(fdt_node_check_compatible(fdt, test, "syscon"), ==, 0);
    uint32_t test_ph = fdt_get_phandle(fdt, test);
    g_assert_cmpstr(str(fdt, "/poweroff", "compatible"), ==, "syscon-poweroff");
    g_assert_cmphex(cell(fdt, "/poweroff", "value", 0), ==, 0x5555);
    g_assert_cmpuint(cell(fdt, "/poweroff", "regmap", 0), ==, test_ph);
    g_assert_cmpstr(str(fdt, "/reboot", "compatible"), ==, "syscon-reboot");
    g_assert_cmphex(cell(fdt, "/reboot", "value", 0), ==, 0x7777);
    g_free(fdt);
}

static void test_smp_scaling(void)
{
    void *fdt = build(1, 128 << 20);
    int len;
    prop(fdt, "/soc/clint@2000000", "interrupts-extended", &len);
    g_assert_cmpint(len, ==, 4 * 4);
    g_assert_cmpint(fdt_path_offset(fdt, "/cpus/cpu@1"), <, 0);
    g_free(fdt);
}

static void test_chosen(void)
{
    void *fdt = build(1, 128 << 20);
    Error *err = NULL;
    g_assert_true(virt_fdt_set_chosen(&fdt, "console=ttyS0 root=/dev/vda", 0x88200000,
                                      0x88300000, &err));
    g_assert_cmpstr(str(fdt, "/chosen", "bootargs"), ==, "console=ttyS0 root=/dev/vda");
    g_assert_cmphex(cell(fdt, "/chosen", "linux,initrd-start", 0), ==, 0x88200000);
    g_assert_cmphex(cell(fdt, "/chosen", "linux,initrd-end", 0), ==, 0x88300000);
    g_assert_cmpstr(str(fdt, "/chosen", "stdout-path"), ==, "/soc/serial@10000000");
    g_free(fdt);

    /* A user blob without /chosen gets one; addresses above 4 GiB take two cells. */
    void *user = g_malloc(4096);
    g_assert_cmpint(fdt_create_empty_tree(user, 4096), ==, 0);
    g_assert_true(virt_fdt_set_chosen(&user, NULL, 0x100000000ULL, 0x100001000ULL, &err));
    int len;
    const fdt64_t *start = prop(user, "/chosen", "linux,initrd-start", &len);
    g_assert_cmpint(len, ==, 8);
    g_assert_cmphex(fdt64_to_cpu(*start), ==, 0x100000000ULL);
    g_assert_null(fdt_getprop(user, node(user, "/chosen"), "bootargs", NULL));
    g_free(user);
}

static void test_placement(void)
{
    /* As QEMU 7.2: 2 MiB aligned below the end of RAM, never above 3 GiB. */
    g_assert_cmphex(virt_fdt_addr(256 << 20, 0x2000), ==, 0x8fe00000);
    g_assert_cmphex(virt_fdt_addr(128 << 20, 0x100000), ==, 0x87e00000);
    g_assert_cmphex(virt_fdt_addr(8ULL << 30, 0x2000), ==, 0xbfe00000);
    g_assert_cmphex(virt_fdt_addr(1 << 20, 0x2000), ==, 0x80000000);
    g_assert_cmphex(virt_fdt_addr(4096, 0x2000), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virt-fdt/tree", test_tree);
    g_test_add_func("/virt-fdt/smp-scaling", test_smp_scaling);
    g_test_add_func("/virt-fdt/chosen", test_chosen);
    g_test_add_func("/virt-fdt/placement", test_placement);
    return g_test_run();
}
