/* Goldfish RTC: wall-clock time, guest-set offset, alarm interrupt and its clearing. */
#include <glib.h>
#include "hw/rtc/goldfish_rtc.h"

typedef struct Fixture {
    GoldfishRtc *rtc;
    IrqLine *line;
    int level;
} Fixture;

static void irq_handler(void *opaque, int n, int level)
{
    Fixture *f = opaque;
    f->level = level;
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->rtc = OBJECT_CHECK(GoldfishRtc, object_new(&goldfish_rtc_class));
    f->line = irq_lines_new(irq_handler, f, 1);
    f->rtc->irq = f->line;
    g_assert_true(object_realize(OBJECT(f->rtc), NULL));
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    object_unref(OBJECT(f->rtc));
    g_free(f->line);
}

static uint32_t rd(Fixture *f, uint64_t addr)
{
    return f->rtc->mmio.ops->read(f->rtc, addr, 4);
}

static void wr(Fixture *f, uint64_t addr, uint32_t val)
{
    f->rtc->mmio.ops->write(f->rtc, addr, val, 4);
}

/* Guest time as Linux reads it: TIME_LOW latches TIME_HIGH. */
static uint64_t read_time(Fixture *f)
{
    uint64_t low = rd(f, GOLDFISH_RTC_TIME_LOW);
    return (uint64_t)rd(f, GOLDFISH_RTC_TIME_HIGH) << 32 | low;
}

static void test_time(Fixture *f, gconstpointer data)
{
    uint64_t host = (uint64_t)g_get_real_time() * 1000;
    uint64_t t = read_time(f);
    g_assert_cmpuint(t, >=, host);
    g_assert_cmpuint(t - host, <, 1000000000ULL);

    /* Setting 2030-01-01 00:00:00 UTC the way rtc-goldfish does: high, then low. */
    uint64_t set = 1893456000ULL * 1000000000ULL;
    wr(f, GOLDFISH_RTC_TIME_HIGH, set >> 32);
    wr(f, GOLDFISH_RTC_TIME_LOW, (uint32_t)set);
    t = read_time(f);
    g_assert_cmpuint(t, >=, set);
    g_assert_cmpuint(t - set, <, 1000000000ULL);
    /* The offset survives a reset, like a battery-backed clock. */
    object_reset_tree(OBJECT(f->rtc));
    g_assert_cmpuint(read_time(f) - set, <, 1000000000ULL);
}

static void test_alarm(Fixture *f, gconstpointer data)
{
    uint64_t when = read_time(f) + 2000000;             /* 2 ms ahead */
    wr(f, GOLDFISH_RTC_ALARM_HIGH, when >> 32);
    wr(f, GOLDFISH_RTC_ALARM_LOW, (uint32_t)when);
    wr(f, GOLDFISH_RTC_IRQ_ENABLED, 1);
    g_assert_cmpuint(rd(f, GOLDFISH_RTC_ALARM_STATUS), ==, 1);
    g_assert_cmpint(f->level, ==, 0);
    int64_t deadline = clock_ns() + 2000000000;
    while (!f->level && clock_ns() < deadline) {
        g_usleep(200);
        timers_run_expired();
    }
    g_assert_cmpint(f->level, ==, 1);
    g_assert_cmpuint(read_time(f), >=, when);
    g_assert_cmpuint(rd(f, GOLDFISH_RTC_ALARM_STATUS), ==, 0);
    wr(f, GOLDFISH_RTC_CLEAR_INTERRUPT, 1);
    g_assert_cmpint(f->level, ==, 0);

    /* An alarm in the past fires at once; masked by IRQ_ENABLED = 0. */
    wr(f, GOLDFISH_RTC_IRQ_ENABLED, 0);
    wr(f, GOLDFISH_RTC_ALARM_HIGH, 0);
    wr(f, GOLDFISH_RTC_ALARM_LOW, 1);
    g_assert_cmpint(f->level, ==, 0);
    wr(f, GOLDFISH_RTC_IRQ_ENABLED, 1);
    g_assert_cmpint(f->level, ==, 1);
    wr(f, GOLDFISH_RTC_CLEAR_INTERRUPT, 1);

    /* A cleared alarm never fires. */
    when = read_time(f) + 1000000;
    wr(f, GOLDFISH_RTC_ALARM_HIGH, when >> 32);
    wr(f, GOLDFISH_RTC_ALARM_LOW, (uint32_t)when);
    wr(f, GOLDFISH_RTC_CLEAR_ALARM, 1);
    g_assert_cmpuint(rd(f, GOLDFISH_RTC_ALARM_STATUS), ==, 0);
    g_usleep(3000);
    timers_run_expired();
    g_assert_cmpint(f->level, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/goldfish-rtc/time", test_time);
    ADD("/goldfish-rtc/alarm", test_alarm);
    return g_test_run();
}
