#ifndef HW_MISC_SIFIVE_TEST_H
#define HW_MISC_SIFIVE_TEST_H

#include "hw/core/object.h"
#include "hw/core/memory.h"

/* SiFive test finisher: a 32-bit write of 0x5555 powers off, 0x3333 | code << 16 exits
 * with code, 0x7777 resets the machine. */
typedef struct SifiveTest {
    Object obj;
    MemoryRegion mmio;          /* 0x1000 bytes */
} SifiveTest;

#define SIFIVE_TEST_SIZE 0x1000

extern const ObjectClass sifive_test_class;

#endif
