#ifndef HW_RTC_MC146818RTC_H
#define HW_RTC_MC146818RTC_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"
#include "util/timer.h"

/*
 * The PC's CMOS RTC ("mc146818rtc", MC146818A data sheet): index port 0x70 (bit 7 masks NMI)
 * and data port 0x71 over 128 bytes of CMOS; time and date in BCD or binary, 12- or 24-hour,
 * UTC from the host clock plus a guest-set offset; update-in-progress for the last 244 us of
 * each second; periodic, alarm and update-ended interrupts on irq (ISA IRQ 8), acknowledged
 * by reading register C. The board stores the memory size (and CPU count) bytes.
 */

enum {
    RTC_SECONDS = 0x00, RTC_SECONDS_ALARM = 0x01, RTC_MINUTES = 0x02,
    RTC_MINUTES_ALARM = 0x03, RTC_HOURS = 0x04, RTC_HOURS_ALARM = 0x05,
    RTC_DAY_OF_WEEK = 0x06, RTC_DAY_OF_MONTH = 0x07, RTC_MONTH = 0x08, RTC_YEAR = 0x09,
    RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
    RTC_CENTURY = 0x32,
};
enum { RTC_REG_A_UIP = 0x80 };
enum {
    RTC_REG_B_SET = 0x80, RTC_REG_B_PIE = 0x40, RTC_REG_B_AIE = 0x20, RTC_REG_B_UIE = 0x10,
    RTC_REG_B_SQWE = 0x08, RTC_REG_B_DM = 0x04, RTC_REG_B_24H = 0x02, RTC_REG_B_DSE = 0x01,
};
enum { RTC_REG_C_IRQF = 0x80, RTC_REG_C_PF = 0x40, RTC_REG_C_AF = 0x20, RTC_REG_C_UF = 0x10 };

#define RTC_CMOS_SIZE 128

typedef struct RtcState {
    Object obj;
    MemoryRegion io;             /* 2 ports: index at 0, data at 1 */
    IrqLine *irq;                /* set by the board */
    uint8_t cmos[RTC_CMOS_SIZE];
    uint8_t index;
    int64_t offset_ns;           /* guest UTC minus host UTC */
    Timer *periodic_timer;
    Timer *second_timer;         /* alarm and update-ended interrupts */
    int64_t next_periodic;       /* clock_ns() of the next periodic tick */
} RtcState;

extern const ObjectClass mc146818rtc_class;

/* CMOS memory-size bytes as SeaBIOS and Linux read them: 0x15/0x16 base KiB, 0x17/0x18 and
 * 0x30/0x31 KiB above 1 MiB (at most 0xffff), 0x34/0x35 64 KiB units between 16 MiB and
 * below_4g, 0x5b-0x5d 64 KiB units above 4 GiB; 0x5f the CPU count minus one. */
void mc146818rtc_set_memory(RtcState *s, uint64_t below_4g, uint64_t above_4g,
                            unsigned ncpus);

#endif
