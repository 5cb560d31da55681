/* The x86 port I/O address space. */
#include <glib.h>
#include "hw/i386/ioport.h"

MemoryRegion *system_io;
AddressSpace address_space_io;

void ioport_space_init(void)
{
    if (system_io) {
        return;
    }
    system_io = g_new0(MemoryRegion, 1);
    memory_region_init_container(system_io, "io", IOPORT_SPACE_SIZE);
    address_space_init(&address_space_io, system_io, "I/O");
}
