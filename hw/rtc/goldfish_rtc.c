/* Goldfish RTC: the register interface Linux's rtc-goldfish driver programs. */
#include <glib.h>
#include "hw/rtc/goldfish_rtc.h"
#include "util/log.h"

/* Guest time in ns: host wall clock plus the guest's offset. */
static uint64_t goldfish_rtc_now(GoldfishRtc *s)
{
    return (uint64_t)g_get_real_time() * 1000 + s->tick_offset;
}

static void goldfish_rtc_update_irq(GoldfishRtc *s)
{
    irq_set(s->irq, s->irq_pending && s->irq_enabled);
}

static void goldfish_rtc_fire(void *opaque)
{
    GoldfishRtc *s = opaque;
    s->alarm_running = false;
    s->irq_pending = true;
    goldfish_rtc_update_irq(s);
}

/* Arms the alarm for alarm_next, firing at once when that time has passed. */
static void goldfish_rtc_set_alarm(GoldfishRtc *s)
{
    uint64_t now = goldfish_rtc_now(s);
    if (s->alarm_next <= now) {
        timer_del(s->timer);
        goldfish_rtc_fire(s);
        return;
    }
    uint64_t delta = s->alarm_next - now;
    int64_t expire = clock_ns() + (int64_t)MIN(delta, (uint64_t)INT64_MAX / 2);
    s->alarm_running = true;
    timer_mod(s->timer, expire);
}

static void goldfish_rtc_clear_alarm(GoldfishRtc *s)
{
    timer_del(s->timer);
    s->alarm_running = false;
}

static uint64_t goldfish_rtc_read(void *opaque, uint64_t addr, unsigned size)
{
    GoldfishRtc *s = opaque;
    uint64_t now;
    switch (addr) {
    case GOLDFISH_RTC_TIME_LOW:
        now = goldfish_rtc_now(s);
        s->time_high = now >> 32;
        return (uint32_t)now;
    case GOLDFISH_RTC_TIME_HIGH:
        return s->time_high;
    case GOLDFISH_RTC_ALARM_LOW:
        return (uint32_t)s->alarm_next;
    case GOLDFISH_RTC_ALARM_HIGH:
        return s->alarm_next >> 32;
    case GOLDFISH_RTC_IRQ_ENABLED:
        return s->irq_enabled;
    case GOLDFISH_RTC_ALARM_STATUS:
        return s->alarm_running;
    default:
        log_mask_printf(LOG_GUEST_ERROR, "goldfish_rtc: read of offset 0x%llx\n",
                        (unsigned long long)addr);
        return 0;
    }
}

/* Replaces bits [shift, shift+32) of the guest time by val, adjusting the offset. */
static void goldfish_rtc_set_time_bits(GoldfishRtc *s, unsigned shift, uint32_t val)
{
    uint64_t cur = goldfish_rtc_now(s);
    uint64_t mask = 0xffffffffULL << shift;
    uint64_t next = (cur & ~mask) | ((uint64_t)val << shift);
    s->tick_offset += (int64_t)(next - cur);
}

static void goldfish_rtc_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    GoldfishRtc *s = opaque;
    switch (addr) {
    case GOLDFISH_RTC_TIME_LOW:
        goldfish_rtc_set_time_bits(s, 0, val);
        break;
    case GOLDFISH_RTC_TIME_HIGH:
        goldfish_rtc_set_time_bits(s, 32, val);
        break;
    case GOLDFISH_RTC_ALARM_LOW:
        s->alarm_next = (s->alarm_next & ~0xffffffffULL) | (uint32_t)val;
        goldfish_rtc_set_alarm(s);
        break;
    case GOLDFISH_RTC_ALARM_HIGH:
        s->alarm_next = (s->alarm_next & 0xffffffffULL) | (uint64_t)(uint32_t)val << 32;
        break;
    case GOLDFISH_RTC_IRQ_ENABLED:
        s->irq_enabled = val & 1;
        goldfish_rtc_update_irq(s);
        break;
    case GOLDFISH_RTC_CLEAR_ALARM:
        goldfish_rtc_clear_alarm(s);
        break;
    case GOLDFISH_RTC_CLEAR_INTERRUPT:
        s->irq_pending = false;
        goldfish_rtc_update_irq(s);
        break;
    default:
        log_mask_printf(LOG_GUEST_ERROR, "goldfish_rtc: write to offset 0x%llx ignored\n",
                        (unsigned long long)addr);
        break;
    }
}

static const MemoryRegionOps goldfish_rtc_ops = {
    .read = goldfish_rtc_read,
    .write = goldfish_rtc_write,
    .min_access_size = 4,
    .max_access_size = 4,
};

static void goldfish_rtc_init(Object *obj)
{
    GoldfishRtc *s = OBJECT_CHECK(GoldfishRtc, obj);
    memory_region_init_io(&s->mmio, "goldfish_rtc", &goldfish_rtc_ops, s, GOLDFISH_RTC_SIZE);
    s->timer = timer_new(goldfish_rtc_fire, s);
}

/* The guest time offset survives a reset, like a battery-backed clock; the alarm does not. */
static void goldfish_rtc_reset(Object *obj)
{
    GoldfishRtc *s = OBJECT_CHECK(GoldfishRtc, obj);
    goldfish_rtc_clear_alarm(s);
    s->alarm_next = 0;
    s->irq_pending = false;
    s->irq_enabled = false;
    s->time_high = 0;
    goldfish_rtc_update_irq(s);
}

static bool goldfish_rtc_realize(Object *obj, Error **errp)
{
    goldfish_rtc_reset(obj);
    return true;
}

static void goldfish_rtc_finalize(Object *obj)
{
    GoldfishRtc *s = OBJECT_CHECK(GoldfishRtc, obj);
    timer_free(s->timer);
}

const ObjectClass goldfish_rtc_class = {
    .name = "goldfish_rtc",
    .instance_size = sizeof(GoldfishRtc),
    .desc = "Goldfish real-time clock",
    .init = goldfish_rtc_init,
    .realize = goldfish_rtc_realize,
    .reset = goldfish_rtc_reset,
    .finalize = goldfish_rtc_finalize,
};
OBJECT_CLASS_REGISTER(goldfish_rtc_class);
