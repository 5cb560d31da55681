/* Linux 64-bit boot protocol (Documentation/x86/boot.rst, zero-page.rst): the zero page built
 * from a synthetic bzImage header, kernel and initrd placement, refusals, page tables. */
#include <string.h>
#include <glib.h>
#include "hw/i386/linux-boot.h"

#define MiB (1ull << 20)

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (int i = (int)n - 1; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static void wr(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * i);
    }
}

/* A bzImage of protocol 2.15 with setup_sects sectors of setup and kernel_len bytes of
 * protected-mode kernel. */
static uint8_t *make_image(unsigned setup_sects, uint64_t kernel_len, uint64_t *len)
{
    unsigned setup = ((setup_sects ? setup_sects : 4) + 1) * 512;
    *len = setup + kernel_len;
    uint8_t *img = g_malloc0(*len);
    img[0x1f1] = setup_sects;
    wr(img + 0x1fe, 0xaa55, 2);
    img[0x200] = 0xeb;                          /* jmp over the header */
    img[0x201] = 0x6a;                          /* header ends at 0x26c */
    memcpy(img + 0x202, "HdrS", 4);
    wr(img + 0x206, 0x020f, 2);
    img[0x211] = 0x01;                          /* LOADED_HIGH */
    wr(img + 0x22c, 0x7fffffff, 4);             /* initrd_addr_max */
    wr(img + 0x230, 0x200000, 4);               /* kernel_alignment */
    img[0x234] = 1;                             /* relocatable */
    wr(img + 0x236, 0x3, 2);                    /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
    wr(img + 0x238, 2047, 4);                   /* cmdline_size */
    wr(img + 0x258, 0x1000000, 8);              /* pref_address */
    wr(img + 0x260, 0x800000, 4);               /* init_size */
    memset(img + setup, 0x90, kernel_len);
    return img;
}

static void init_lb(LinuxBoot *lb, const E820Entry *e820, unsigned n)
{
    memset(lb, 0, sizeof(*lb));
    lb->below_4g = 128 * MiB;
    lb->e820 = e820;
    lb->n820 = n;
    lb->cmdline_addr = PC_BOOT_CMDLINE;
    lb->cmdline_len = 20;
    lb->rsdp_addr = PC_ACPI_BASE;
}

static void test_zero_page(void)
{
    E820Entry e820[PC_E820_MAX];
    unsigned n = pc_e820_build(128 * MiB, 0, e820);
    uint64_t len;
    uint8_t *img = make_image(30, 0x10000, &len);
    LinuxBoot lb;
    init_lb(&lb, e820, n);
    lb.initrd_size = 3 * MiB + 5;
    Error *err = NULL;
    g_assert_true(linux_boot_setup(img, len, &lb, &err));
    g_assert_null(err);
    const uint8_t *zp = lb.zero_page;
    /* the setup header is copied from 0x1f1 to its end */
    g_assert_cmpmem(zp + 0x1f1, 0x210 - 0x1f1, img + 0x1f1, 0x210 - 0x1f1);
    g_assert_cmpmem(zp + 0x22c, 0x26c - 0x22c, img + 0x22c, 0x26c - 0x22c);
    g_assert_cmpuint(zp[0x26c], ==, 0);
    g_assert_cmpmem(zp + 0x202, 4, "HdrS", 4);
    g_assert_cmpuint(rd(zp + 0x258, 8), ==, 0x1000000);
    /* loader fields */
    g_assert_cmpuint(zp[0x210], ==, 0xff);
    g_assert_true(zp[0x211] & LINUX_LOADED_HIGH);
    g_assert_cmpuint(rd(zp + 0x228, 4), ==, PC_BOOT_CMDLINE);
    g_assert_cmpuint(rd(zp + 0x0c8, 4), ==, 0);
    g_assert_cmpuint(rd(zp + 0x070, 8), ==, PC_ACPI_BASE);
    g_assert_cmpuint(rd(zp + 0x214, 4), ==, lb.load_addr);
    /* e820 */
    g_assert_cmpuint(zp[0x1e8], ==, n);
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *e = zp + 0x2d0 + 20 * i;
        g_assert_cmpuint(rd(e, 8), ==, e820[i].addr);
        g_assert_cmpuint(rd(e + 8, 8), ==, e820[i].size);
        g_assert_cmpuint(rd(e + 16, 4), ==, e820[i].type);
    }
    /* kernel: after (setup_sects + 1) sectors, loaded at 1 MiB rounded to the alignment */
    g_assert_cmpuint(lb.kernel_offset, ==, 31 * 512);
    g_assert_cmpuint(lb.kernel_size, ==, 0x10000);
    g_assert_cmpuint(lb.load_addr, ==, 0x200000);
    g_assert_cmpuint(lb.entry, ==, lb.load_addr + 0x200);
    /* initrd: page aligned, at the top of RAM, above the kernel's init_size */
    g_assert_cmpuint(lb.initrd_addr % 4096, ==, 0);
    g_assert_cmpuint(lb.initrd_addr + lb.initrd_size, <=, 128 * MiB);
    g_assert_cmpuint(lb.initrd_addr + lb.initrd_size, >, 128 * MiB - 4096);
    g_assert_cmpuint(lb.initrd_addr, >=, lb.load_addr + 0x800000);
    g_assert_cmpuint(rd(zp + 0x218, 4), ==, lb.initrd_addr);
    g_assert_cmpuint(rd(zp + 0x21c, 4), ==, lb.initrd_size);
    g_free(img);
}

static void test_initrd_addr_max(void)
{
    E820Entry e820[PC_E820_MAX];
    unsigned n = pc_e820_build(512 * MiB, 0, e820);
    uint64_t len;
    uint8_t *img = make_image(0, 0x1000, &len);
    wr(img + 0x22c, 0x0fffffff, 4);             /* initrd below 256 MiB */
    LinuxBoot lb;
    init_lb(&lb, e820, n);
    lb.below_4g = 512 * MiB;
    lb.initrd_size = MiB;
    g_assert_true(linux_boot_setup(img, len, &lb, NULL));
    g_assert_cmpuint(lb.kernel_offset, ==, 5 * 512);   /* setup_sects 0 means 4 */
    g_assert_cmpuint(lb.initrd_addr, ==, 256 * MiB - MiB);
    /* too big to fit between the kernel and initrd_addr_max */
    lb.initrd_size = 250 * MiB;
    Error *err = NULL;
    g_assert_false(linux_boot_setup(img, len, &lb, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "initrd"));
    error_free(err);
    g_free(img);
}

static void test_not_relocatable(void)
{
    uint64_t len;
    uint8_t *img = make_image(4, 0x1000, &len);
    img[0x234] = 0;
    LinuxBoot lb;
    init_lb(&lb, NULL, 0);
    g_assert_true(linux_boot_setup(img, len, &lb, NULL));
    g_assert_cmpuint(lb.load_addr, ==, 0x1000000);
    /* the preferred address must lie in RAM */
    lb.below_4g = 16 * MiB;
    Error *err = NULL;
    g_assert_false(linux_boot_setup(img, len, &lb, &err));
    error_free(err);
    g_free(img);
}

static void test_refusals(void)
{
    uint64_t len;
    uint8_t *img = make_image(4, 0x1000, &len);
    LinuxBoot lb;
    init_lb(&lb, NULL, 0);
    Error *err = NULL;
    /* command line longer than cmdline_size */
    lb.cmdline_len = 2049;
    g_assert_false(linux_boot_setup(img, len, &lb, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "command line"));
    g_clear_pointer(&err, error_free);
    lb.cmdline_len = 2048;
    g_assert_true(linux_boot_setup(img, len, &lb, NULL));
    /* no 64-bit entry */
    wr(img + 0x236, 0, 2);
    g_assert_false(linux_boot_setup(img, len, &lb, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "64-bit boot protocol"));
    g_clear_pointer(&err, error_free);
    wr(img + 0x236, 1, 2);
    /* protocol older than 2.12 */
    wr(img + 0x206, 0x020b, 2);
    g_assert_false(linux_boot_setup(img, len, &lb, &err));
    g_clear_pointer(&err, error_free);
    wr(img + 0x206, 0x020f, 2);
    /* truncated after the setup */
    g_assert_false(linux_boot_setup(img, 5 * 512, &lb, &err));
    g_clear_pointer(&err, error_free);
    /* not a bzImage at all */
    memcpy(img + 0x202, "HdrX", 4);
    g_assert_false(linux_is_bzimage(img, len));
    g_assert_false(linux_boot_setup(img, len, &lb, &err));
    g_clear_pointer(&err, error_free);
    g_free(img);
}

static void test_page_tables_and_gdt(void)
{
    uint8_t *pt = g_malloc(LINUX_PAGE_TABLES_SIZE);
    linux_boot_page_tables(pt);
    /* walk a few addresses through PML4 -> PDPT -> PD (2 MiB pages): identity */
    static const uint64_t addrs[] = { 0, 0x100000, 0x7000, 0xb0000000, 0xfffff000 };
    for (unsigned i = 0; i < G_N_ELEMENTS(addrs); i++) {
        uint64_t va = addrs[i];
        uint64_t pml4e = rd(pt + 8 * ((va >> 39) & 511), 8);
        g_assert_true(pml4e & 1);
        uint64_t pdpt = (pml4e & ~0xfffull) - LINUX_PML4_ADDR;
        uint64_t pdpte = rd(pt + pdpt + 8 * ((va >> 30) & 511), 8);
        g_assert_true(pdpte & 1);
        g_assert_false(pdpte & 0x80);
        uint64_t pd = (pdpte & ~0xfffull) - LINUX_PML4_ADDR;
        g_assert_cmpuint(pd + 4096, <=, LINUX_PAGE_TABLES_SIZE);
        uint64_t pde = rd(pt + pd + 8 * ((va >> 21) & 511), 8);
        g_assert_cmpuint(pde & 0x83, ==, 0x83);
        g_assert_cmpuint((pde & ~0x1fffffull) | (va & 0x1fffff), ==, va);
    }
    g_free(pt);
    uint8_t gdt[LINUX_GDT_LIMIT + 1];
    linux_boot_gdt(gdt);
    uint64_t cs = rd(gdt + 0x10, 8), ds = rd(gdt + 0x18, 8);
    g_assert_true(cs & (1ull << 47));           /* present */
    g_assert_true(cs & (1ull << 53));           /* L: 64-bit code */
    g_assert_cmpuint((cs >> 40) & 0xf, ==, 0xb);  /* execute/read, accessed */
    g_assert_cmpuint((ds >> 40) & 0xf, ==, 0x3);  /* read/write, accessed */
    g_assert_true(ds & (1ull << 55));           /* 4 GiB granularity */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pc/linux/zero-page", test_zero_page);
    g_test_add_func("/pc/linux/initrd-addr-max", test_initrd_addr_max);
    g_test_add_func("/pc/linux/not-relocatable", test_not_relocatable);
    g_test_add_func("/pc/linux/refusals", test_refusals);
    g_test_add_func("/pc/linux/page-tables", test_page_tables_and_gdt);
    return g_test_run();
}
