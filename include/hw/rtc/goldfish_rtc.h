#ifndef HW_RTC_GOLDFISH_RTC_H
#define HW_RTC_GOLDFISH_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"
#include "util/timer.h"

/* Goldfish RTC ("google,goldfish-rtc"): nanoseconds of host wall-clock time plus a
 * guest-set offset, and one alarm that raises irq while enabled and not cleared. */
typedef struct GoldfishRtc {
    Object obj;
    MemoryRegion mmio;          /* 0x1000 bytes */
    IrqLine *irq;               /* set by the board */
    Timer *timer;
    int64_t tick_offset;        /* guest time minus host wall-clock time, ns */
    uint64_t alarm_next;        /* absolute guest time of the alarm, ns */
    bool alarm_running;
    bool irq_pending;
    bool irq_enabled;
    uint32_t time_high;         /* latched by reading TIME_LOW */
} GoldfishRtc;

#define GOLDFISH_RTC_SIZE 0x1000

enum {
    GOLDFISH_RTC_TIME_LOW = 0x00,
    GOLDFISH_RTC_TIME_HIGH = 0x04,
    GOLDFISH_RTC_ALARM_LOW = 0x08,
    GOLDFISH_RTC_ALARM_HIGH = 0x0c,
    GOLDFISH_RTC_IRQ_ENABLED = 0x10,
    GOLDFISH_RTC_CLEAR_ALARM = 0x14,
    GOLDFISH_RTC_ALARM_STATUS = 0x18,
    GOLDFISH_RTC_CLEAR_INTERRUPT = 0x1c,
};

extern const ObjectClass goldfish_rtc_class;

#endif
