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
 * EM_X86_64=62) into as (ROM-writable). Every segment must land in mapped memory. */
bool load_elf64(const char *path, AddressSpace *as, uint16_t em, uint64_t *entry,
                uint64_t *low, uint64_t *high, Error **errp);
/* Loads a raw image at addr; fails when it is larger than max_size or lands unmapped. */
bool load_image_raw(const char *path, AddressSpace *as, uint64_t addr, uint64_t max_size,
                    uint64_t *size, Error **errp);

#endif
