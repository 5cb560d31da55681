/* The pc board's ACPI tables: checksums, pointers, FADT/MADT/MCFG fields, and a round trip
 * through the ACPICA disassembler (iasl -d) when it is installed. */
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "hw/i386/acpi-build.h"
#include "hw/acpi/acpi-pm.h"

#define BASE 0xe0000ull

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (int i = (int)n - 1; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static const AcpiBuildInfo info_ecam = {
    .ncpus = 2,
    .ecam_base = 0xb0000000, .ecam_size = 0x10000000,
    .pci_hole_base = 0xc0000000, .pci_hole_size = 0xfec00000 - 0xc0000000,
    .pci_hole64_base = 0x800000000ull, .pci_hole64_size = 0x800000000ull,
};

/* The table at guest address addr inside blob b, checked for bounds and checksum. */
static const uint8_t *table_at(GByteArray *b, uint64_t addr, const char *sig)
{
    g_assert_cmpuint(addr, >=, BASE);
    g_assert_cmpuint(addr - BASE + 36, <=, b->len);
    const uint8_t *t = b->data + (addr - BASE);
    uint32_t len = rd(t + 4, 4);
    g_assert_cmpuint(addr - BASE + len, <=, b->len);
    if (sig) {
        g_assert_cmpmem(t, 4, sig, 4);
    }
    g_assert_cmpuint(acpi_checksum(t, len), ==, 0);
    return t;
}

/* Finds a table by signature through the XSDT (NULL when absent). */
static const uint8_t *find_table(GByteArray *b, const char *sig)
{
    const uint8_t *rsdp = b->data;
    const uint8_t *xsdt = table_at(b, rd(rsdp + 24, 8), "XSDT");
    uint32_t len = rd(xsdt + 4, 4);
    for (uint32_t off = 36; off + 8 <= len; off += 8) {
        const uint8_t *t = table_at(b, rd(xsdt + off, 8), NULL);
        if (memcmp(t, sig, 4) == 0) {
            return t;
        }
    }
    return NULL;
}

static void test_rsdp(void)
{
    GByteArray *b = acpi_build_tables(&info_ecam, BASE);
    const uint8_t *r = b->data;
    g_assert_cmpmem(r, 8, "RSD PTR ", 8);
    g_assert_cmpuint(acpi_checksum(r, 20), ==, 0);
    g_assert_cmpuint(acpi_checksum(r, 36), ==, 0);
    g_assert_cmpuint(r[15], ==, 2);
    g_assert_cmpuint(rd(r + 20, 4), ==, 36);
    /* RSDT and XSDT list the same tables */
    const uint8_t *rsdt = table_at(b, rd(r + 16, 4), "RSDT");
    const uint8_t *xsdt = table_at(b, rd(r + 24, 8), "XSDT");
    unsigned n = (rd(rsdt + 4, 4) - 36) / 4;
    g_assert_cmpuint((rd(xsdt + 4, 4) - 36) / 8, ==, n);
    g_assert_cmpuint(n, ==, 3);
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpuint(rd(rsdt + 36 + 4 * i, 4), ==, rd(xsdt + 36 + 8 * i, 8));
    }
    g_assert_cmpuint(b->len, <=, 0x10000);
    g_byte_array_unref(b);
}

static void test_fadt(void)
{
    GByteArray *b = acpi_build_tables(&info_ecam, BASE);
    const uint8_t *f = find_table(b, "FACP");
    g_assert_nonnull(f);
    g_assert_cmpuint(rd(f + 4, 4), ==, 276);
    g_assert_cmpuint(rd(f + 46, 2), ==, 9);                 /* SCI_INT */
    g_assert_cmpuint(rd(f + 56, 4), ==, ACPI_PM1A_EVT);
    g_assert_cmpuint(rd(f + 64, 4), ==, ACPI_PM1A_CNT);
    g_assert_cmpuint(rd(f + 76, 4), ==, ACPI_PM_TMR);
    g_assert_cmpuint(f[88], ==, 4);
    g_assert_cmpuint(f[89], ==, 2);
    g_assert_cmpuint(f[91], ==, 4);
    g_assert_true(rd(f + 112, 4) & (1u << 10));             /* RESET_REG_SUP */
    g_assert_cmpuint(f[116], ==, 1);                        /* RESET_REG in system I/O */
    g_assert_cmpuint(rd(f + 120, 8), ==, ACPI_RESET_PORT);
    g_assert_cmpuint(f[128], ==, ACPI_RESET_VALUE);
    const uint8_t *dsdt = table_at(b, rd(f + 140, 8), "DSDT");
    g_assert_cmpuint(rd(f + 40, 4), ==, rd(f + 140, 8));
    /* _S5 is in the DSDT */
    uint32_t len = rd(dsdt + 4, 4);
    g_assert_nonnull(memmem(dsdt, len, "_S5_", 4));
    uint64_t facs = rd(f + 36, 4);
    g_assert_cmpuint(facs % 64, ==, 0);
    g_assert_cmpmem(b->data + (facs - BASE), 4, "FACS", 4);
    g_byte_array_unref(b);
}

static void test_madt(void)
{
    AcpiBuildInfo info = info_ecam;
    info.ncpus = 5;
    GByteArray *b = acpi_build_tables(&info, BASE);
    const uint8_t *m = find_table(b, "APIC");
    g_assert_nonnull(m);
    g_assert_cmpuint(rd(m + 36, 4), ==, ACPI_LAPIC_ADDR);
    uint32_t len = rd(m + 4, 4);
    unsigned lapics = 0, ioapics = 0;
    bool irq0_to_gsi2 = false;
    for (uint32_t off = 44; off < len; off += m[off + 1]) {
        g_assert_cmpuint(m[off + 1], >=, 2);
        switch (m[off]) {
        case 0:
            g_assert_cmpuint(m[off + 3], ==, lapics);
            lapics++;
            break;
        case 1:
            g_assert_cmpuint(rd(m + off + 4, 4), ==, ACPI_IOAPIC_ADDR);
            ioapics++;
            break;
        case 2:
            irq0_to_gsi2 |= m[off + 3] == 0 && rd(m + off + 4, 4) == 2;
            break;
        }
    }
    g_assert_cmpuint(lapics, ==, 5);
    g_assert_cmpuint(ioapics, ==, 1);
    g_assert_true(irq0_to_gsi2);
    g_byte_array_unref(b);
}

static void test_mcfg(void)
{
    GByteArray *b = acpi_build_tables(&info_ecam, BASE);
    const uint8_t *m = find_table(b, "MCFG");
    g_assert_nonnull(m);
    g_assert_cmpuint(rd(m + 44, 8), ==, 0xb0000000);
    g_assert_cmpuint(m[54], ==, 0);
    g_assert_cmpuint(m[55], ==, 255);
    g_byte_array_unref(b);

    AcpiBuildInfo info = info_ecam;
    info.ecam_size = 0;
    b = acpi_build_tables(&info, BASE);
    g_assert_null(find_table(b, "MCFG"));
    g_assert_nonnull(find_table(b, "FACP"));
    g_byte_array_unref(b);
}

/* Disassembles one table with iasl -d; returns the .dsl text (g_free). */
static char *iasl_disassemble(const char *dir, const char *name, const uint8_t *t, size_t len)
{
    char *path = g_strdup_printf("%s/%s.dat", dir, name);
    g_assert_true(g_file_set_contents(path, (const char *)t, len, NULL));
    char *argv[] = { "iasl", "-d", path, NULL };
    char *out = NULL, *err = NULL;
    int status = -1;
    g_assert_true(g_spawn_sync(dir, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                               &status, NULL));
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_printerr("iasl -d %s failed:\n%s%s", name, out, err);
        g_assert_not_reached();
    }
    char *dsl_path = g_strdup_printf("%s/%s.dsl", dir, name);
    char *dsl = NULL;
    g_assert_true(g_file_get_contents(dsl_path, &dsl, NULL, NULL));
    /* the disassembler reports structural problems in the output as well */
    g_assert_null(strstr(dsl, "**** ACPI table terminates in the middle"));
    g_assert_null(strstr(dsl, "Invalid"));
    g_free(out);
    g_free(err);
    g_free(path);
    g_free(dsl_path);
    return dsl;
}

static void test_iasl(void)
{
    char *iasl = g_find_program_in_path("iasl");
    if (!iasl) {
        g_test_skip("iasl (acpica-tools) is not installed");
        return;
    }
    g_free(iasl);
    char *dir = g_dir_make_tmp("vessel-acpi-XXXXXX", NULL);
    g_assert_nonnull(dir);
    GByteArray *b = acpi_build_tables(&info_ecam, BASE);
    static const char *const sigs[] = { "FACP", "APIC", "MCFG" };
    for (unsigned i = 0; i < G_N_ELEMENTS(sigs); i++) {
        const uint8_t *t = find_table(b, sigs[i]);
        g_free(iasl_disassemble(dir, sigs[i], t, rd(t + 4, 4)));
    }
    const uint8_t *f = find_table(b, "FACP");
    const uint8_t *d = b->data + (rd(f + 140, 8) - BASE);
    char *dsl = iasl_disassemble(dir, "DSDT", d, rd(d + 4, 4));
    static const char *const want[] = {
        "Device (PCI0)", "EisaId (\"PNP0A08\")", "Device (COM1)", "EisaId (\"PNP0501\")",
        "IO (Decode16,", "0x03F8,", "IRQNoFlags ()", "Name (\\_S5, Package (0x04)",
        "WordBusNumber (ResourceProducer", "DWordMemory (ResourceProducer",
        "QWordMemory (ResourceProducer", "Name (_PRT, Package (0x80)",
        "Memory32Fixed (ReadWrite,", "0xB0000000,",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
        if (!strstr(dsl, want[i])) {
            g_printerr("%s\nmissing: %s\n", dsl, want[i]);
            g_assert_not_reached();
        }
    }
    g_free(dsl);
    g_byte_array_unref(b);
    char *rm[] = { "rm", "-rf", dir, NULL };
    g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pc/acpi/rsdp", test_rsdp);
    g_test_add_func("/pc/acpi/fadt", test_fadt);
    g_test_add_func("/pc/acpi/madt", test_madt);
    g_test_add_func("/pc/acpi/mcfg", test_mcfg);
    g_test_add_func("/pc/acpi/iasl", test_iasl);
    return g_test_run();
}
