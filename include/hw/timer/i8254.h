#ifndef HW_TIMER_I8254_H
#define HW_TIMER_I8254_H

#include <stdint.h>
#include <stdbool.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"
#include "util/timer.h"

/* The 8254 PIT at ports 0x40-0x43, counting at 1.193182 MHz from the host clock: channel 0
 * drives IRQ 0, channel 2's gate and output are bits 0 and 5 of port 0x61 (which also
 * toggles the refresh bit 4). Modes 0 to 5, binary counts, latch and read-back commands. */
#define PIT_FREQ 1193182

typedef struct PitChannel {
    uint32_t count;              /* reload value, 1..0x10000 */
    int64_t load_ns;             /* when the count was loaded (or the gate rose) */
    uint16_t latch;
    uint8_t status;
    bool latched, status_latched, gate;
    uint8_t rw_mode;             /* 1 LSB, 2 MSB, 3 LSB then MSB */
    uint8_t mode;
    bool read_msb, write_msb;    /* next byte of a 16-bit access is the MSB */
    uint8_t write_lsb;
    bool null_count;
} PitChannel;

typedef struct I8254 {
    Object obj;
    MemoryRegion io;             /* 4 ports at 0x40 */
    MemoryRegion port61_io;      /* 1 port at 0x61 */
    PitChannel ch[3];
    uint8_t speaker;             /* port 0x61 bits 0-1 (gate 2, speaker data) */
    IrqLine *irq;                /* channel 0 output (set before realize) */
    Timer *timer;                /* next edge of channel 0 */
    int64_t next_irq_ns;
} I8254;

extern const ObjectClass i8254_class;

#endif
