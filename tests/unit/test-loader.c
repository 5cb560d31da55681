/* Loaders: ELF64 segments and bss, raw images, size limits, truncated files, overlapping
 * blobs, and ROM sets written again after the guest changed memory. */
#include <string.h>
#include <elf.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "hw/core/loader.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE 0x100000ULL

typedef struct Fixture {
    MemoryRegion root, ram;
    AddressSpace as;
    char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    memory_region_init_container(&f->root, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&f->ram, "ram", RAM_SIZE, NULL));
    memset(f->ram.ram, 0xff, RAM_SIZE);
    memory_region_add_subregion(&f->root, RAM_BASE, &f->ram);
    address_space_init(&f->as, &f->root, "test");
    f->dir = g_dir_make_tmp("vessel-loader-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    GDir *d = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        char *p = g_build_filename(f->dir, name, NULL);
        g_unlink(p);
        g_free(p);
    }
    g_dir_close(d);
    g_rmdir(f->dir);
    g_free(f->dir);
}

static char *write_file(Fixture *f, const char *name, const void *data, size_t len)
{
    char *path = g_build_filename(f->dir, name, NULL);
    g_assert_true(g_file_set_contents(path, data, len, NULL));
    return path;
}

/* An ELF with one PT_LOAD of 16 bytes of text (plus bss_len) at paddr, linked at a
 * different virtual address. */
static GByteArray *make_elf(uint16_t machine, uint64_t paddr, uint64_t bss_len)
{
    Elf64_Ehdr eh = { 0 };
    Elf64_Phdr ph = { 0 };
    static const uint8_t text[16] = "0123456789abcdef";
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = machine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = 0xffffffff00000000ULL + paddr + 4;    /* virtual, as in vmlinux */
    eh.e_phoff = sizeof(eh);
    eh.e_ehsize = sizeof(eh);
    eh.e_phentsize = sizeof(ph);
    eh.e_phnum = 1;
    ph.p_type = PT_LOAD;
    ph.p_offset = sizeof(eh) + sizeof(ph);
    ph.p_vaddr = 0xffffffff00000000ULL + paddr;
    ph.p_paddr = paddr;
    ph.p_filesz = sizeof(text);
    ph.p_memsz = sizeof(text) + bss_len;
    GByteArray *b = g_byte_array_new();
    g_byte_array_append(b, (const uint8_t *)&eh, sizeof(eh));
    g_byte_array_append(b, (const uint8_t *)&ph, sizeof(ph));
    g_byte_array_append(b, text, sizeof(text));
    return b;
}

static void test_elf_load(Fixture *f, gconstpointer data)
{
    GByteArray *elf = make_elf(243, RAM_BASE + 0x1000, 32);
    char *path = write_file(f, "ok.elf", elf->data, elf->len);
    uint64_t entry = 0, low = 0, high = 0;
    Error *err = NULL;
    g_assert_true(loader_is_elf(path));
    g_assert_true(load_elf64(path, &f->as, 243, &entry, &low, &high, &err));
    g_assert_null(err);
    g_assert_cmphex(entry, ==, RAM_BASE + 0x1004);     /* translated to physical */
    g_assert_cmphex(low, ==, RAM_BASE + 0x1000);
    g_assert_cmphex(high, ==, RAM_BASE + 0x1000 + 16 + 32);
    g_assert_cmpmem(f->ram.ram + 0x1000, 16, "0123456789abcdef", 16);
    for (unsigned i = 16; i < 48; i++) {
        g_assert_cmpuint(f->ram.ram[0x1000 + i], ==, 0);     /* bss zeroed */
    }
    g_assert_cmpuint(f->ram.ram[0x1000 + 48], ==, 0xff);     /* nothing beyond */
    g_byte_array_unref(elf);
    g_free(path);
}

/* Checks that ok is false and err mentions fragment (then frees err). */
static void check_error(gboolean ok, Error *err, const char *fragment)
{
    g_assert_false(ok);
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), fragment)) {
        g_error("error '%s' does not mention '%s'", error_get_pretty(err), fragment);
    }
    error_free(err);
}

/* The call is evaluated before err is inspected. */
#define expect_error(call, err, fragment) \
    do { gboolean ok_ = (call); check_error(ok_, err, fragment); } while (0)

static void test_elf_errors(Fixture *f, gconstpointer data)
{
    GByteArray *elf = make_elf(243, RAM_BASE, 0);
    Error *err = NULL;
    uint64_t entry;

    /* Cut in the middle of the segment data. */
    char *path = write_file(f, "cut.elf", elf->data, elf->len - 5);
    expect_error(load_elf64(path, &f->as, 243, &entry, NULL, NULL, &err), err, "truncated");
    g_free(path);
    /* Cut inside the ELF header. */
    err = NULL;
    path = write_file(f, "hdr.elf", elf->data, 20);
    expect_error(load_elf64(path, &f->as, 243, &entry, NULL, NULL, &err), err, "truncated");
    g_free(path);
    /* Program headers beyond the end. */
    err = NULL;
    path = write_file(f, "ph.elf", elf->data, sizeof(Elf64_Ehdr) + 8);
    expect_error(load_elf64(path, &f->as, 243, &entry, NULL, NULL, &err), err, "truncated");
    g_free(path);
    /* Wrong machine. */
    err = NULL;
    path = write_file(f, "ok.elf", elf->data, elf->len);
    expect_error(load_elf64(path, &f->as, 62, &entry, NULL, NULL, &err), err, "machine");
    g_free(path);
    /* Not an ELF at all. */
    err = NULL;
    path = write_file(f, "text", "hello world", 11);
    g_assert_false(loader_is_elf(path));
    expect_error(load_elf64(path, &f->as, 243, &entry, NULL, NULL, &err), err, "not an ELF");
    g_free(path);
    /* A missing file. */
    err = NULL;
    path = g_build_filename(f->dir, "missing.elf", NULL);
    expect_error(load_elf64(path, &f->as, 243, &entry, NULL, NULL, &err), err, "missing.elf");
    g_free(path);
    g_byte_array_unref(elf);

    /* A segment outside RAM, and one running past its end. */
    err = NULL;
    elf = make_elf(243, 0x1000, 0);
    path = write_file(f, "low.elf", elf->data, elf->len);
    expect_error(load_elf64(path, &f->as, 243, &entry, NULL, NULL, &err), err,
                 "does not fit");
    g_free(path);
    g_byte_array_unref(elf);
    err = NULL;
    elf = make_elf(243, RAM_BASE + RAM_SIZE - 8, 0);
    path = write_file(f, "end.elf", elf->data, elf->len);
    expect_error(load_elf64(path, &f->as, 243, &entry, NULL, NULL, &err), err,
                 "does not fit");
    g_free(path);
    g_byte_array_unref(elf);
}

static void test_raw_image(Fixture *f, gconstpointer data)
{
    uint8_t *buf = g_malloc(RAM_SIZE + 4096);
    for (unsigned i = 0; i < RAM_SIZE + 4096; i++) {
        buf[i] = i * 7;
    }
    char *small = write_file(f, "small.bin", buf, 4096);
    char *big = write_file(f, "big.bin", buf, RAM_SIZE + 4096);
    uint64_t size = 0;
    Error *err = NULL;

    g_assert_true(load_image_raw(small, &f->as, RAM_BASE + 0x2000, RAM_SIZE, &size, &err));
    g_assert_cmpuint(size, ==, 4096);
    g_assert_cmpmem(f->ram.ram + 0x2000, 4096, buf, 4096);

    /* Larger than the caller's limit. */
    expect_error(load_image_raw(small, &f->as, RAM_BASE, 1024, &size, &err), err,
                 "too large");
    /* Larger than RAM: it cannot land in mapped memory. */
    err = NULL;
    expect_error(load_image_raw(big, &f->as, RAM_BASE, UINT64_MAX, &size, &err), err,
                 "does not fit");

    uint8_t *data_out = NULL;
    err = NULL;
    g_assert_true(load_file(small, 4096, &data_out, &size, &err));
    g_assert_cmpmem(data_out, size, buf, 4096);
    g_free(data_out);
    g_free(small);
    g_free(big);
    g_free(buf);
}

static void test_rom_set(Fixture *f, gconstpointer data)
{
    RomSet *rs = rom_set_new();
    Error *err = NULL;
    g_assert_true(rom_set_add(rs, "kernel", RAM_BASE, "KERNEL", 6, &err));
    g_assert_true(rom_set_add(rs, "zeros", RAM_BASE + 6, NULL, 10, &err));
    g_assert_true(rom_set_add(rs, "fdt", RAM_BASE + 0x8000, "FDT", 3, &err));
    /* Overlaps are refused, naming both blobs. */
    expect_error(rom_set_add(rs, "initrd", RAM_BASE + 0x7000, "x", 0x1001, &err), err, "fdt");
    err = NULL;
    expect_error(rom_set_add(rs, "initrd", RAM_BASE + 4, "x", 1, &err), err, "initrd");
    /* Adjacent is fine. */
    err = NULL;
    g_assert_true(rom_set_add(rs, "initrd", RAM_BASE + 0x7000, "INITRD", 0x1000, &err));

    g_assert_true(rom_set_write(rs, &f->as, &err));
    g_assert_cmpmem(f->ram.ram, 6, "KERNEL", 6);
    g_assert_cmpuint(f->ram.ram[15], ==, 0);
    /* The guest scribbles over everything; writing the set again restores it. */
    memset(f->ram.ram, 0xaa, 0x9000);
    g_assert_true(rom_set_write(rs, &f->as, &err));
    g_assert_cmpmem(f->ram.ram, 6, "KERNEL", 6);
    g_assert_cmpuint(f->ram.ram[9], ==, 0);
    g_assert_cmpmem(f->ram.ram + 0x8000, 3, "FDT", 3);
    g_assert_cmpuint(f->ram.ram[0x8003], ==, 0xaa);

    /* A blob outside memory fails at write time. */
    RomSet *bad = rom_set_new();
    g_assert_true(rom_set_add(bad, "far", 0x1000, "x", 1, &err));
    expect_error(rom_set_write(bad, &f->as, &err), err, "far");
    rom_set_free(bad);
    rom_set_free(rs);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/loader/elf-load", test_elf_load);
    ADD("/loader/elf-errors", test_elf_errors);
    ADD("/loader/raw-image", test_raw_image);
    ADD("/loader/rom-set", test_rom_set);
    return g_test_run();
}
