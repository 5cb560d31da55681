#ifndef HW_I386_IOPORT_H
#define HW_I386_IOPORT_H

#include "hw/core/memory.h"

/* The x86 port I/O space: a 64 KiB container of I/O regions (COM1 at 0x3f8, ...), reached
 * by IN/OUT through memory_dispatch_read/write on address_space_io. */
#define IOPORT_SPACE_SIZE 0x10000

extern MemoryRegion *system_io;
extern AddressSpace address_space_io;
/* Creates the space once; later calls do nothing. */
void ioport_space_init(void);

#endif
