#ifndef HW_CORE_LOADER_H
#define HW_CORE_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/core/memory.h"
#include "util/error.h"

/* Reads a whole file, refusing anything larger than max_size. g_free the result. */
bool load_file(const char *path, uint64_t max_size, uint8_t **data, uint64_t *size,
               Error **errp);
/* True when path starts with the ELF magic. */
bool loader_is_elf(const char *path);
/* Loads the PT_LOAD segments of a 64-bit little-endian ELF for machine em (EM_RISCV=243,
 * EM_X86_64=62) at their physical addresses into as (ROM-writable). Every segment must land
 * in mapped memory. *entry is e_entry translated to a physical address through the segment
 * whose virtual range holds it (unchanged when none does); [low, high) spans the segments. */
bool load_elf64(const char *path, AddressSpace *as, uint16_t em, uint64_t *entry,
                uint64_t *low, uint64_t *high, Error **errp);
/* Loads a raw image at addr; fails when it is larger than max_size or lands unmapped. */
bool load_image_raw(const char *path, AddressSpace *as, uint64_t addr, uint64_t max_size,
                    uint64_t *size, Error **errp);

/*
 * A set of images ("ROM blobs") kept in host memory so that every machine reset can write
 * them again: a guest reboot starts from pristine firmware, kernel, initrd and device tree.
 */
typedef struct RomSet RomSet;

RomSet *rom_set_new(void);
void rom_set_free(RomSet *rs);
/* Adds a copy of len bytes of data (NULL: zeros) placed at addr; fails naming both blobs
 * when [addr, addr+len) overlaps a blob already in the set. */
bool rom_set_add(RomSet *rs, const char *name, uint64_t addr, const void *data, uint64_t len,
                 Error **errp);
/* Adds the PT_LOAD segments of an ELF as load_elf64 describes (bss as zeros). */
bool rom_set_add_elf64(RomSet *rs, const char *path, uint16_t em, uint64_t *entry,
                       uint64_t *low, uint64_t *high, Error **errp);
/* Adds a whole file at addr, refusing files larger than max_size. */
bool rom_set_add_file(RomSet *rs, const char *name, const char *path, uint64_t addr,
                      uint64_t max_size, uint64_t *size, Error **errp);
/* Writes every blob into as (ROM too); fails when a blob lands outside mapped memory. */
bool rom_set_write(const RomSet *rs, AddressSpace *as, Error **errp);

#endif
