/*
 * Loaders: whole files, ELF64 executables and raw images, and the ROM blob set that keeps
 * loaded images so that every machine reset writes them again.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elf.h>
#include <glib.h>
#include "hw/core/loader.h"

/* Largest file an ELF or raw loader reads into host memory. */
#define LOADER_MAX_FILE (16ULL << 30)

typedef struct RomBlob {
    char *name;
    uint64_t addr;
    uint64_t len;
    uint8_t *data;      /* NULL: len zero bytes */
} RomBlob;

struct RomSet {
    GPtrArray *blobs;   /* of RomBlob *, in insertion order */
};

bool load_file(const char *path, uint64_t max_size, uint8_t **data, uint64_t *size,
               Error **errp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "could not open '%s'", path);
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        error_setg_errno(errp, errno, "could not stat '%s'", path);
        close(fd);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        error_setg(errp, "'%s' is not a regular file", path);
        close(fd);
        return false;
    }
    if ((uint64_t)st.st_size > max_size) {
        error_setg(errp, "'%s' is too large (%llu bytes, at most %llu)", path,
                   (unsigned long long)st.st_size, (unsigned long long)max_size);
        close(fd);
        return false;
    }
    uint64_t len = st.st_size;
    uint8_t *buf = g_try_malloc(len ? len : 1);
    if (!buf) {
        error_setg(errp, "out of memory reading '%s' (%llu bytes)", path,
                   (unsigned long long)len);
        close(fd);
        return false;
    }
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error_setg_errno(errp, errno, "could not read '%s'", path);
            g_free(buf);
            close(fd);
            return false;
        }
        if (n == 0) {
            error_setg(errp, "'%s' shrank while being read", path);
            g_free(buf);
            close(fd);
            return false;
        }
        done += n;
    }
    close(fd);
    *data = buf;
    *size = len;
    return true;
}

bool loader_is_elf(const char *path)
{
    uint8_t magic[SELFMAG];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool ok = read(fd, magic, SELFMAG) == SELFMAG && memcmp(magic, ELFMAG, SELFMAG) == 0;
    close(fd);
    return ok;
}

static uint16_t ld16(const uint8_t *p)
{
    return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t ld32(const uint8_t *p)
{
    return ld16(p) | (uint32_t)ld16(p + 2) << 16;
}

static uint64_t ld64(const uint8_t *p)
{
    return ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

RomSet *rom_set_new(void)
{
    RomSet *rs = g_new0(RomSet, 1);
    rs->blobs = g_ptr_array_new();
    return rs;
}

static void rom_blob_free(RomBlob *b)
{
    g_free(b->name);
    g_free(b->data);
    g_free(b);
}

void rom_set_free(RomSet *rs)
{
    if (!rs) {
        return;
    }
    for (guint i = 0; i < rs->blobs->len; i++) {
        rom_blob_free(g_ptr_array_index(rs->blobs, i));
    }
    g_ptr_array_free(rs->blobs, TRUE);
    g_free(rs);
}

bool rom_set_add(RomSet *rs, const char *name, uint64_t addr, const void *data, uint64_t len,
                 Error **errp)
{
    if (len == 0) {
        return true;
    }
    if (addr + len < addr) {
        error_setg(errp, "%s at 0x%llx (%llu bytes) wraps around the address space", name,
                   (unsigned long long)addr, (unsigned long long)len);
        return false;
    }
    for (guint i = 0; i < rs->blobs->len; i++) {
        const RomBlob *o = g_ptr_array_index(rs->blobs, i);
        if (addr < o->addr + o->len && o->addr < addr + len) {
            error_setg(errp, "%s (0x%llx-0x%llx) overlaps %s (0x%llx-0x%llx)", name,
                       (unsigned long long)addr, (unsigned long long)(addr + len - 1),
                       o->name, (unsigned long long)o->addr,
                       (unsigned long long)(o->addr + o->len - 1));
            return false;
        }
    }
    RomBlob *b = g_new0(RomBlob, 1);
    b->name = g_strdup(name);
    b->addr = addr;
    b->len = len;
    b->data = data ? g_memdup2(data, len) : NULL;
    g_ptr_array_add(rs->blobs, b);
    return true;
}

/* Adds the segments of the ELF image held in buf (size bytes) read from path. */
static bool rom_set_add_elf_buf(RomSet *rs, const char *path, const uint8_t *buf,
                                uint64_t size, uint16_t em, uint64_t *entry, uint64_t *low,
                                uint64_t *high, Error **errp)
{
    if (size < SELFMAG || memcmp(buf, ELFMAG, SELFMAG) != 0) {
        error_setg(errp, "'%s' is not an ELF file", path);
        return false;
    }
    if (size < sizeof(Elf64_Ehdr)) {
        error_setg(errp, "'%s' is truncated (incomplete ELF header)", path);
        return false;
    }
    if (buf[EI_CLASS] != ELFCLASS64 || buf[EI_DATA] != ELFDATA2LSB) {
        error_setg(errp, "'%s' is not a 64-bit little-endian ELF file", path);
        return false;
    }
    uint16_t type = ld16(buf + offsetof(Elf64_Ehdr, e_type));
    uint16_t machine = ld16(buf + offsetof(Elf64_Ehdr, e_machine));
    if (machine != em) {
        error_setg(errp, "'%s' is an ELF for machine %u, expected %u", path, machine, em);
        return false;
    }
    if (type != ET_EXEC && type != ET_DYN) {
        error_setg(errp, "'%s' is not an executable ELF file (type %u)", path, type);
        return false;
    }
    uint64_t phoff = ld64(buf + offsetof(Elf64_Ehdr, e_phoff));
    uint16_t phentsize = ld16(buf + offsetof(Elf64_Ehdr, e_phentsize));
    uint16_t phnum = ld16(buf + offsetof(Elf64_Ehdr, e_phnum));
    if (phnum && phentsize < sizeof(Elf64_Phdr)) {
        error_setg(errp, "'%s': bad program header size %u", path, phentsize);
        return false;
    }
    if (phoff > size || (uint64_t)phnum * phentsize > size - phoff) {
        error_setg(errp, "'%s' is truncated (program headers beyond the end of the file)",
                   path);
        return false;
    }

    uint64_t e_entry = ld64(buf + offsetof(Elf64_Ehdr, e_entry));
    uint64_t phys_entry = e_entry;
    uint64_t lo = UINT64_MAX, hi = 0;
    unsigned loaded = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = buf + phoff + (uint64_t)i * phentsize;
        if (ld32(ph + offsetof(Elf64_Phdr, p_type)) != PT_LOAD) {
            continue;
        }
        uint64_t off = ld64(ph + offsetof(Elf64_Phdr, p_offset));
        uint64_t vaddr = ld64(ph + offsetof(Elf64_Phdr, p_vaddr));
        uint64_t paddr = ld64(ph + offsetof(Elf64_Phdr, p_paddr));
        uint64_t filesz = ld64(ph + offsetof(Elf64_Phdr, p_filesz));
        uint64_t memsz = ld64(ph + offsetof(Elf64_Phdr, p_memsz));
        if (memsz == 0) {
            continue;
        }
        if (filesz > memsz) {
            error_setg(errp, "'%s': segment %u has a file size larger than its memory size",
                       path, i);
            return false;
        }
        if (off > size || filesz > size - off) {
            error_setg(errp, "'%s' is truncated (segment %u ends beyond the end of the file)",
                       path, i);
            return false;
        }
        char *name = g_strdup_printf("%s segment %u", path, i);
        bool ok = rom_set_add(rs, name, paddr, buf + off, filesz, errp);
        if (ok && memsz > filesz) {
            char *bss = g_strdup_printf("%s segment %u (zero fill)", path, i);
            ok = rom_set_add(rs, bss, paddr + filesz, NULL, memsz - filesz, errp);
            g_free(bss);
        }
        g_free(name);
        if (!ok) {
            return false;
        }
        if (e_entry >= vaddr && e_entry - vaddr < memsz) {
            phys_entry = paddr + (e_entry - vaddr);    /* e.g. vmlinux: virtual e_entry */
        }
        lo = MIN(lo, paddr);
        hi = MAX(hi, paddr + memsz);
        loaded++;
    }
    if (!loaded) {
        error_setg(errp, "'%s' has no loadable segments", path);
        return false;
    }
    if (entry) {
        *entry = phys_entry;
    }
    if (low) {
        *low = lo;
    }
    if (high) {
        *high = hi;
    }
    return true;
}

bool rom_set_add_elf64(RomSet *rs, const char *path, uint16_t em, uint64_t *entry,
                       uint64_t *low, uint64_t *high, Error **errp)
{
    uint8_t *buf;
    uint64_t size;
    if (!load_file(path, LOADER_MAX_FILE, &buf, &size, errp)) {
        return false;
    }
    /* Segments are added to a scratch set first so that a failure leaves rs untouched. */
    RomSet *tmp = rom_set_new();
    bool ok = rom_set_add_elf_buf(tmp, path, buf, size, em, entry, low, high, errp);
    g_free(buf);
    for (guint i = 0; ok && i < tmp->blobs->len; i++) {
        const RomBlob *b = g_ptr_array_index(tmp->blobs, i);
        ok = rom_set_add(rs, b->name, b->addr, b->data, b->len, errp);
    }
    rom_set_free(tmp);
    return ok;
}

bool rom_set_add_file(RomSet *rs, const char *name, const char *path, uint64_t addr,
                      uint64_t max_size, uint64_t *size, Error **errp)
{
    uint8_t *buf;
    uint64_t len;
    if (!load_file(path, max_size, &buf, &len, errp)) {
        return false;
    }
    char *label = g_strdup_printf("%s '%s'", name, path);
    bool ok = rom_set_add(rs, label, addr, buf, len, errp);
    g_free(label);
    g_free(buf);
    if (ok && size) {
        *size = len;
    }
    return ok;
}

/* True when every byte of [addr, addr+len) is backed by RAM or ROM. */
static bool rom_range_mapped(AddressSpace *as, uint64_t addr, uint64_t len)
{
    FlatView *view = address_space_get_view(as);
    bool ok = true;
    uint64_t end = addr + len;
    while (addr < end) {
        const FlatRange *r = flatview_lookup(view, addr);
        if (!r || (r->mr->type != MR_RAM && r->mr->type != MR_ROM)) {
            ok = false;
            break;
        }
        addr = r->start + r->size;
    }
    flatview_unref(view);
    return ok;
}

bool rom_set_write(const RomSet *rs, AddressSpace *as, Error **errp)
{
    static const uint8_t zeros[65536];
    for (guint i = 0; i < rs->blobs->len; i++) {
        const RomBlob *b = g_ptr_array_index(rs->blobs, i);
        if (!rom_range_mapped(as, b->addr, b->len)) {
            error_setg(errp, "%s (0x%llx-0x%llx) does not fit in guest memory", b->name,
                       (unsigned long long)b->addr,
                       (unsigned long long)(b->addr + b->len - 1));
            return false;
        }
        MemTxResult r = MEMTX_OK;
        if (b->data) {
            r = address_space_write_rom(as, b->addr, b->data, b->len);
        } else {
            for (uint64_t off = 0; off < b->len && r == MEMTX_OK; off += sizeof(zeros)) {
                r = address_space_write_rom(as, b->addr + off, zeros,
                                            MIN(sizeof(zeros), b->len - off));
            }
        }
        if (r != MEMTX_OK) {
            error_setg(errp, "writing %s at 0x%llx failed", b->name,
                       (unsigned long long)b->addr);
            return false;
        }
    }
    return true;
}

bool load_elf64(const char *path, AddressSpace *as, uint16_t em, uint64_t *entry,
                uint64_t *low, uint64_t *high, Error **errp)
{
    RomSet *rs = rom_set_new();
    bool ok = rom_set_add_elf64(rs, path, em, entry, low, high, errp) &&
              rom_set_write(rs, as, errp);
    rom_set_free(rs);
    return ok;
}

bool load_image_raw(const char *path, AddressSpace *as, uint64_t addr, uint64_t max_size,
                    uint64_t *size, Error **errp)
{
    RomSet *rs = rom_set_new();
    bool ok = rom_set_add_file(rs, "image", path, addr, max_size, size, errp) &&
              rom_set_write(rs, as, errp);
    rom_set_free(rs);
    return ok;
}
