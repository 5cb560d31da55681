/* MC146818A CMOS real-time clock of the PC (see hw/rtc/mc146818rtc.h). */
#include <string.h>
#include <time.h>
#include <glib.h>
#include "hw/rtc/mc146818rtc.h"

#define NS_PER_SEC 1000000000LL
/* The update cycle: UIP reads 1 for this long before each second boundary. */
#define RTC_UIP_NS 244000LL
/* Register A's divider bits for the normal 32.768 kHz time base. */
#define RTC_DV_NORMAL 0x20

/* ---- time ---- */

static int64_t rtc_host_ns(void)
{
    return g_get_real_time() * 1000;
}

static int64_t rtc_guest_ns(const RtcState *s)
{
    return rtc_host_ns() + s->offset_ns;
}

static bool rtc_binary(const RtcState *s)
{
    return s->cmos[RTC_REG_B] & RTC_REG_B_DM;
}

static uint8_t rtc_to_reg(const RtcState *s, int v)
{
    return rtc_binary(s) ? v : (v / 10) << 4 | v % 10;
}

static int rtc_from_reg(const RtcState *s, uint8_t v)
{
    return rtc_binary(s) ? v : (v >> 4) * 10 + (v & 0xf);
}

static uint8_t rtc_hour_to_reg(const RtcState *s, int h)
{
    if (s->cmos[RTC_REG_B] & RTC_REG_B_24H) {
        return rtc_to_reg(s, h);
    }
    return rtc_to_reg(s, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0);
}

static int rtc_hour_from_reg(const RtcState *s, uint8_t v)
{
    if (s->cmos[RTC_REG_B] & RTC_REG_B_24H) {
        return rtc_from_reg(s, v);
    }
    return rtc_from_reg(s, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

/* Copies the running clock into the time and date registers. */
static void rtc_latch_time(RtcState *s)
{
    time_t t = rtc_guest_ns(s) / NS_PER_SEC;
    struct tm tm;
    gmtime_r(&t, &tm);
    s->cmos[RTC_SECONDS] = rtc_to_reg(s, tm.tm_sec);
    s->cmos[RTC_MINUTES] = rtc_to_reg(s, tm.tm_min);
    s->cmos[RTC_HOURS] = rtc_hour_to_reg(s, tm.tm_hour);
    s->cmos[RTC_DAY_OF_WEEK] = rtc_to_reg(s, tm.tm_wday + 1);
    s->cmos[RTC_DAY_OF_MONTH] = rtc_to_reg(s, tm.tm_mday);
    s->cmos[RTC_MONTH] = rtc_to_reg(s, tm.tm_mon + 1);
    s->cmos[RTC_YEAR] = rtc_to_reg(s, tm.tm_year % 100);
    s->cmos[RTC_CENTURY] = rtc_to_reg(s, (tm.tm_year + 1900) / 100);
}

/* The clock restarts from the time and date registers, at the start of a second. */
static void rtc_set_from_regs(RtcState *s)
{
    struct tm tm = {
        .tm_sec = rtc_from_reg(s, s->cmos[RTC_SECONDS]),
        .tm_min = rtc_from_reg(s, s->cmos[RTC_MINUTES]),
        .tm_hour = rtc_hour_from_reg(s, s->cmos[RTC_HOURS]),
        .tm_mday = rtc_from_reg(s, s->cmos[RTC_DAY_OF_MONTH]),
        .tm_mon = rtc_from_reg(s, s->cmos[RTC_MONTH]) - 1,
        .tm_year = rtc_from_reg(s, s->cmos[RTC_CENTURY]) * 100 +
                   rtc_from_reg(s, s->cmos[RTC_YEAR]) - 1900,
    };
    s->offset_ns = (int64_t)timegm(&tm) * NS_PER_SEC - rtc_host_ns();
}

static bool rtc_running(const RtcState *s)
{
    return !(s->cmos[RTC_REG_B] & RTC_REG_B_SET) &&
           (s->cmos[RTC_REG_A] & 0x70) == RTC_DV_NORMAL;
}

/* ---- interrupts ---- */

static void rtc_raise(RtcState *s, uint8_t flags)
{
    s->cmos[RTC_REG_C] |= flags;
    uint8_t enabled = s->cmos[RTC_REG_B] & (RTC_REG_B_PIE | RTC_REG_B_AIE | RTC_REG_B_UIE);
    /* PF, AF and UF line up with PIE, AIE and UIE */
    if ((s->cmos[RTC_REG_C] & enabled) && !(s->cmos[RTC_REG_C] & RTC_REG_C_IRQF)) {
        s->cmos[RTC_REG_C] |= RTC_REG_C_IRQF;
        irq_raise(s->irq);
    }
}

/* Periodic rate from register A (0: off; 1 and 2 behave as 8 and 9), in ns. */
static int64_t rtc_period_ns(const RtcState *s)
{
    unsigned rate = s->cmos[RTC_REG_A] & 0x0f;
    if (rate == 0) {
        return 0;
    }
    if (rate <= 2) {
        rate += 7;
    }
    return ((int64_t)1 << (rate - 1)) * NS_PER_SEC / 32768;
}

/* Arms the timers the enabled interrupts need; none while they are all off. */
static void rtc_update_timers(RtcState *s)
{
    int64_t now = clock_ns();
    int64_t period = rtc_period_ns(s);
    if ((s->cmos[RTC_REG_B] & RTC_REG_B_PIE) && period && rtc_running(s)) {
        if (!timer_pending(s->periodic_timer)) {
            s->next_periodic = now + period;
            timer_mod(s->periodic_timer, s->next_periodic);
        }
    } else {
        timer_del(s->periodic_timer);
    }
    if ((s->cmos[RTC_REG_B] & (RTC_REG_B_AIE | RTC_REG_B_UIE)) && rtc_running(s)) {
        timer_mod(s->second_timer, now + NS_PER_SEC - rtc_guest_ns(s) % NS_PER_SEC);
    } else {
        timer_del(s->second_timer);
    }
}

static void rtc_periodic_tick(void *opaque)
{
    RtcState *s = opaque;
    int64_t period = rtc_period_ns(s);
    rtc_raise(s, RTC_REG_C_PF);
    int64_t now = clock_ns();
    s->next_periodic += period;
    if (s->next_periodic <= now) {        /* fell behind: skip the missed ticks */
        s->next_periodic = now + period;
    }
    timer_mod(s->periodic_timer, s->next_periodic);
}

/* An alarm byte matches when equal or "don't care" (0xc0-0xff). */
static bool rtc_alarm_field(uint8_t alarm, uint8_t now)
{
    return (alarm & 0xc0) == 0xc0 || alarm == now;
}

static void rtc_second_tick(void *opaque)
{
    RtcState *s = opaque;
    uint8_t flags = RTC_REG_C_UF;
    rtc_latch_time(s);
    if (rtc_alarm_field(s->cmos[RTC_SECONDS_ALARM], s->cmos[RTC_SECONDS]) &&
        rtc_alarm_field(s->cmos[RTC_MINUTES_ALARM], s->cmos[RTC_MINUTES]) &&
        rtc_alarm_field(s->cmos[RTC_HOURS_ALARM], s->cmos[RTC_HOURS])) {
        flags |= RTC_REG_C_AF;
    }
    rtc_raise(s, flags);
    rtc_update_timers(s);
}

/* ---- ports ---- */

/* The registers the running clock keeps up to date (not the alarms). */
static bool rtc_is_clock_reg(uint8_t index)
{
    return index == RTC_SECONDS || index == RTC_MINUTES || index == RTC_CENTURY ||
           (index >= RTC_HOURS && index <= RTC_YEAR && index != RTC_HOURS_ALARM);
}

static uint8_t rtc_read_data(RtcState *s)
{
    uint8_t v;
    switch (s->index) {
    case RTC_REG_A:
        v = s->cmos[RTC_REG_A];
        if (rtc_running(s) && rtc_guest_ns(s) % NS_PER_SEC >= NS_PER_SEC - RTC_UIP_NS) {
            v |= RTC_REG_A_UIP;
        }
        return v;
    case RTC_REG_C:
        v = s->cmos[RTC_REG_C];
        s->cmos[RTC_REG_C] = 0;
        if (v & RTC_REG_C_IRQF) {
            irq_lower(s->irq);
        }
        return v;
    default:
        if (rtc_is_clock_reg(s->index) && rtc_running(s)) {
            rtc_latch_time(s);
        }
        return s->cmos[s->index];
    }
}

static void rtc_write_data(RtcState *s, uint8_t v)
{
    switch (s->index) {
    case RTC_REG_A:
        s->cmos[RTC_REG_A] = v & ~RTC_REG_A_UIP;
        break;
    case RTC_REG_B: {
        uint8_t old = s->cmos[RTC_REG_B];
        if (!(old & RTC_REG_B_SET)) {
            rtc_latch_time(s);                 /* freeze the time as it is now */
        }
        if (v & RTC_REG_B_SET) {
            v &= ~RTC_REG_B_UIE;               /* SET clears UIE */
        }
        s->cmos[RTC_REG_B] = v;
        if (!(v & RTC_REG_B_SET)) {
            if (old & RTC_REG_B_SET) {
                rtc_set_from_regs(s);          /* the guest's new time, in the new format */
            }
            rtc_latch_time(s);                 /* re-encoded after a DM / 24H change */
        }
        break;
    }
    case RTC_REG_C:
    case RTC_REG_D:
        break;                             /* read-only */
    default:
        if (rtc_is_clock_reg(s->index)) {
            bool running = !(s->cmos[RTC_REG_B] & RTC_REG_B_SET);
            if (running) {
                rtc_latch_time(s);
            }
            s->cmos[s->index] = s->index == RTC_SECONDS ? v & 0x7f : v;
            if (running) {
                rtc_set_from_regs(s);
            }
        } else {
            s->cmos[s->index] = v;
        }
        break;
    }
    rtc_update_timers(s);
}

static uint64_t rtc_io_read(void *opaque, uint64_t addr, unsigned size)
{
    RtcState *s = opaque;
    return addr == 0 ? 0xff : rtc_read_data(s);
}

static void rtc_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    RtcState *s = opaque;
    if (addr == 0) {
        s->index = val & 0x7f;             /* bit 7 masks NMIs: there are none to mask */
    } else {
        rtc_write_data(s, val);
    }
}

static const MemoryRegionOps rtc_io_ops = {
    .read = rtc_io_read,
    .write = rtc_io_write,
    .min_access_size = 1,
    .max_access_size = 1,
};

/* ---- board interface ---- */

static void rtc_set_word(RtcState *s, unsigned index, uint64_t v)
{
    s->cmos[index] = v;
    s->cmos[index + 1] = v >> 8;
}

void mc146818rtc_set_memory(RtcState *s, uint64_t below_4g, uint64_t above_4g, unsigned ncpus)
{
    const uint64_t KiB = 1024, MiB = 1024 * KiB;
    rtc_set_word(s, 0x15, 640);
    uint64_t ext = below_4g > MiB ? MIN((below_4g - MiB) / KiB, 0xffff) : 0;
    rtc_set_word(s, 0x17, ext);
    rtc_set_word(s, 0x30, ext);
    uint64_t above_16m = below_4g > 16 * MiB ? MIN((below_4g - 16 * MiB) / (64 * KiB), 0xffff)
                                             : 0;
    rtc_set_word(s, 0x34, above_16m);
    uint64_t high = MIN(above_4g / (64 * KiB), 0xffffff);
    s->cmos[0x5b] = high;
    s->cmos[0x5c] = high >> 8;
    s->cmos[0x5d] = high >> 16;
    s->cmos[0x5f] = ncpus - 1;
}

/* ---- object ---- */

static void rtc_init(Object *obj)
{
    RtcState *s = (RtcState *)obj;
    memory_region_init_io(&s->io, "rtc", &rtc_io_ops, s, 2);
    s->cmos[RTC_REG_A] = RTC_DV_NORMAL | 0x06;    /* 1024 Hz periodic rate */
    s->cmos[RTC_REG_B] = RTC_REG_B_24H;
    s->cmos[RTC_REG_D] = 0x80;                     /* valid RAM and time */
    rtc_latch_time(s);
}

static bool rtc_realize(Object *obj, Error **errp)
{
    RtcState *s = (RtcState *)obj;
    s->periodic_timer = timer_new(rtc_periodic_tick, s);
    s->second_timer = timer_new(rtc_second_tick, s);
    return true;
}

/* RESET pin: interrupts disabled and acknowledged; the clock and CMOS keep running. */
static void rtc_reset(Object *obj)
{
    RtcState *s = (RtcState *)obj;
    s->cmos[RTC_REG_B] &= ~(RTC_REG_B_PIE | RTC_REG_B_AIE | RTC_REG_B_UIE | RTC_REG_B_SQWE);
    s->cmos[RTC_REG_C] = 0;
    irq_lower(s->irq);
    rtc_update_timers(s);
}

static void rtc_unrealize(Object *obj)
{
    RtcState *s = (RtcState *)obj;
    g_clear_pointer(&s->periodic_timer, timer_free);
    g_clear_pointer(&s->second_timer, timer_free);
}

const ObjectClass mc146818rtc_class = {
    .name = "mc146818rtc",
    .instance_size = sizeof(RtcState),
    .desc = "MC146818 CMOS real-time clock",
    .init = rtc_init,
    .realize = rtc_realize,
    .reset = rtc_reset,
    .unrealize = rtc_unrealize,
};
OBJECT_CLASS_REGISTER(mc146818rtc_class)
