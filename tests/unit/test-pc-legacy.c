/* The pc board's legacy devices through port I/O: the CMOS RTC (time in BCD and binary,
 * SET, UIP, memory-size bytes, periodic interrupt, register C) and the i8042 controller. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include "hw/i386/ioport.h"
#include "hw/input/i8042.h"
#include "hw/rtc/mc146818rtc.h"

static int irq_level[16];
static unsigned irq_raises[16];
static void irq_handler(void *opaque, int n, int level)
{
    if (level && !irq_level[n]) {
        irq_raises[n]++;
    }
    irq_level[n] = level;
}

static IrqLine *isa_irq;
static RtcState *rtc;
static I8042State *kbd;

static uint8_t inb(uint16_t port)
{
    uint64_t v;
    g_assert_cmpint(memory_dispatch_read(&address_space_io, port, &v, 1), ==, MEMTX_OK);
    return v;
}

static void outb(uint16_t port, uint8_t v)
{
    g_assert_cmpint(memory_dispatch_write(&address_space_io, port, v, 1), ==, MEMTX_OK);
}

static uint8_t cmos_read(uint8_t index)
{
    outb(0x70, index);
    return inb(0x71);
}

static void cmos_write(uint8_t index, uint8_t v)
{
    outb(0x70, index);
    outb(0x71, v);
}

static void setup(void)
{
    if (rtc) {
        return;
    }
    memory_system_init();
    ioport_space_init();
    isa_irq = irq_lines_new(irq_handler, NULL, 16);
    rtc = (RtcState *)object_new(&mc146818rtc_class);
    rtc->irq = &isa_irq[8];
    g_assert_true(object_realize(OBJECT(rtc), NULL));
    memory_region_add_subregion(system_io, 0x70, &rtc->io);
    kbd = (I8042State *)object_new(&i8042_class);
    kbd->irq[I8042_PORT_KBD] = &isa_irq[1];
    kbd->irq[I8042_PORT_AUX] = &isa_irq[12];
    g_assert_true(object_realize(OBJECT(kbd), NULL));
    memory_region_add_subregion(system_io, 0x60, &kbd->data_io);
    memory_region_add_subregion(system_io, 0x64, &kbd->cmd_io);
}

static int bcd(uint8_t v)
{
    return (v >> 4) * 10 + (v & 0xf);
}

/* Reads the clock registers outside an update cycle, as drivers do. */
static void read_clock(int *sec, int *min, int *hour, int *mday, int *mon, int *year,
                       bool binary)
{
    while (cmos_read(RTC_REG_A) & RTC_REG_A_UIP) {
    }
    uint8_t r[6] = { cmos_read(0), cmos_read(2), cmos_read(4), cmos_read(7), cmos_read(8),
                     cmos_read(9) };
    int century = cmos_read(RTC_CENTURY);
    int v[6];
    for (unsigned i = 0; i < 6; i++) {
        v[i] = binary ? r[i] : bcd(r[i]);
    }
    *sec = v[0], *min = v[1], *hour = v[2], *mday = v[3], *mon = v[4];
    *year = (binary ? century : bcd(century)) * 100 + v[5];
}

/* Seconds since the epoch from the clock registers. */
static int64_t clock_epoch(bool binary)
{
    struct tm tm = { 0 };
    int year;
    read_clock(&tm.tm_sec, &tm.tm_min, &tm.tm_hour, &tm.tm_mday, &tm.tm_mon, &year, binary);
    tm.tm_mon -= 1;
    tm.tm_year = year - 1900;
    return timegm(&tm);
}

static void test_rtc_time(void)
{
    setup();
    /* power-on format: BCD, 24-hour; registers D says the time is valid */
    g_assert_cmphex(cmos_read(RTC_REG_B), ==, RTC_REG_B_24H);
    g_assert_cmphex(cmos_read(RTC_REG_D), ==, 0x80);
    int64_t host = time(NULL);
    int64_t guest = clock_epoch(false);
    g_assert_cmpint(llabs(guest - host), <=, 2);
    /* binary mode re-encodes the same time */
    cmos_write(RTC_REG_B, RTC_REG_B_24H | RTC_REG_B_DM);
    g_assert_cmpint(llabs(clock_epoch(true) - host), <=, 2);
    /* SET freezes the clock; the guest's new time runs from where SET is cleared */
    cmos_write(RTC_REG_B, RTC_REG_B_24H | RTC_REG_B_DM | RTC_REG_B_SET);
    cmos_write(RTC_SECONDS, 30);
    cmos_write(RTC_MINUTES, 15);
    cmos_write(RTC_HOURS, 13);
    cmos_write(RTC_DAY_OF_MONTH, 29);
    cmos_write(RTC_MONTH, 2);
    cmos_write(RTC_YEAR, 24);
    cmos_write(RTC_CENTURY, 20);
    g_assert_cmpuint(cmos_read(RTC_SECONDS), ==, 30);
    g_assert_cmphex(cmos_read(RTC_REG_A) & RTC_REG_A_UIP, ==, 0);     /* stopped */
    cmos_write(RTC_REG_B, RTC_REG_B_24H | RTC_REG_B_DM);
    struct tm want = { .tm_sec = 30, .tm_min = 15, .tm_hour = 13, .tm_mday = 29,
                       .tm_mon = 1, .tm_year = 124 };
    int64_t d = clock_epoch(true) - timegm(&want);
    g_assert_cmpint(d, >=, 0);
    g_assert_cmpint(d, <=, 2);
    /* 12-hour BCD: 13:15 reads as 01 with the PM bit */
    cmos_write(RTC_REG_B, 0);
    g_assert_cmphex(cmos_read(RTC_HOURS), ==, 0x81);
    g_assert_cmphex(cmos_read(RTC_DAY_OF_WEEK), ==, 0x05);        /* 2024-02-29: Thursday */
    /* back to the host's time in the power-on format */
    cmos_write(RTC_REG_B, RTC_REG_B_24H);
    cmos_write(RTC_REG_B, RTC_REG_B_24H | RTC_REG_B_SET);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    cmos_write(RTC_SECONDS, (tm.tm_sec / 10) << 4 | tm.tm_sec % 10);
    cmos_write(RTC_MINUTES, (tm.tm_min / 10) << 4 | tm.tm_min % 10);
    cmos_write(RTC_HOURS, (tm.tm_hour / 10) << 4 | tm.tm_hour % 10);
    cmos_write(RTC_DAY_OF_MONTH, (tm.tm_mday / 10) << 4 | tm.tm_mday % 10);
    cmos_write(RTC_MONTH, ((tm.tm_mon + 1) / 10) << 4 | (tm.tm_mon + 1) % 10);
    cmos_write(RTC_YEAR, (tm.tm_year % 100 / 10) << 4 | tm.tm_year % 10);
    cmos_write(RTC_CENTURY, 0x20);
    cmos_write(RTC_REG_B, RTC_REG_B_24H);
    g_assert_cmpint(llabs(clock_epoch(false) - time(NULL)), <=, 2);
}

static void test_rtc_uip(void)
{
    setup();
    /* UIP shows for 244 us of every second: seen within a few seconds of polling, even when
     * the polling thread loses the CPU for a while on a loaded host */
    bool seen = false;
    int64_t end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!seen && g_get_monotonic_time() < end) {
        seen = cmos_read(RTC_REG_A) & RTC_REG_A_UIP;
    }
    g_assert_true(seen);
    g_assert_cmphex(cmos_read(RTC_REG_A) & 0x7f, ==, 0x26);
}

static void test_rtc_memory_bytes(void)
{
    setup();
    mc146818rtc_set_memory(rtc, 0x80000000ull, 0x40000000ull, 2);
    g_assert_cmpuint(cmos_read(0x15) | cmos_read(0x16) << 8, ==, 640);
    g_assert_cmpuint(cmos_read(0x17) | cmos_read(0x18) << 8, ==, 0xffff);   /* capped */
    g_assert_cmpuint(cmos_read(0x30) | cmos_read(0x31) << 8, ==, 0xffff);
    /* (2 GiB - 16 MiB) / 64 KiB */
    g_assert_cmpuint(cmos_read(0x34) | cmos_read(0x35) << 8, ==, 0x7f00);
    /* 1 GiB / 64 KiB above 4 GiB */
    g_assert_cmpuint(cmos_read(0x5b) | cmos_read(0x5c) << 8 | cmos_read(0x5d) << 16, ==,
                     0x4000);
    g_assert_cmpuint(cmos_read(0x5f), ==, 1);
    mc146818rtc_set_memory(rtc, 8 << 20, 0, 1);
    g_assert_cmpuint(cmos_read(0x17) | cmos_read(0x18) << 8, ==, 7 * 1024);
    g_assert_cmpuint(cmos_read(0x34) | cmos_read(0x35) << 8, ==, 0);
    g_assert_cmpuint(cmos_read(0x5b), ==, 0);
    /* plain CMOS bytes are RAM */
    cmos_write(0x40, 0xa5);
    g_assert_cmphex(cmos_read(0x40), ==, 0xa5);
}

static void test_rtc_periodic_irq(void)
{
    setup();
    cmos_read(RTC_REG_C);
    unsigned before = irq_raises[8];
    cmos_write(RTC_REG_A, 0x20 | 0x0f);                 /* 2 Hz */
    cmos_write(RTC_REG_B, RTC_REG_B_24H | RTC_REG_B_PIE);
    int64_t end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    unsigned acked = 0;
    while (acked < 2 && g_get_monotonic_time() < end) {
        timers_run_expired();
        if (irq_level[8]) {
            uint8_t c = cmos_read(RTC_REG_C);
            g_assert_cmphex(c, ==, RTC_REG_C_IRQF | RTC_REG_C_PF);
            g_assert_cmpint(irq_level[8], ==, 0);       /* reading C acknowledges */
            acked++;
        }
        g_usleep(1000);
    }
    g_assert_cmpuint(acked, ==, 2);
    g_assert_cmpuint(irq_raises[8], ==, before + 2);
    /* reset disables the interrupt; the rate stays */
    object_reset_tree(OBJECT(rtc));
    g_assert_cmphex(cmos_read(RTC_REG_B), ==, RTC_REG_B_24H);
    g_usleep(600000);
    timers_run_expired();
    g_assert_cmpint(irq_level[8], ==, 0);
    cmos_write(RTC_REG_A, 0x26);
}

static void test_i8042(void)
{
    setup();
    g_assert_cmphex(inb(0x64) & (I8042_STAT_OBF | I8042_STAT_UNLOCKED), ==,
                    I8042_STAT_UNLOCKED);
    outb(0x64, 0xaa);                                    /* self test */
    g_assert_cmphex(inb(0x64) & (I8042_STAT_OBF | I8042_STAT_SYS), ==,
                    I8042_STAT_OBF | I8042_STAT_SYS);
    g_assert_cmphex(inb(0x60), ==, 0x55);
    g_assert_cmphex(inb(0x64) & I8042_STAT_OBF, ==, 0);
    /* command byte round trip; the keyboard interrupt follows the output buffer */
    outb(0x64, 0x20);
    g_assert_cmphex(inb(0x60), ==, I8042_CTR_KBDINT | I8042_CTR_XLATE);
    g_assert_cmpint(irq_level[1], ==, 0);
    outb(0x64, 0x60);
    outb(0x60, I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_SYS);
    outb(0x64, 0xd2);                                    /* as if the keyboard sent 0x1c */
    outb(0x60, 0x1c);
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmphex(inb(0x60), ==, 0x1c);
    g_assert_cmpint(irq_level[1], ==, 0);
    outb(0x64, 0xd3);                                    /* mouse byte: IRQ 12, AUX_OBF */
    outb(0x60, 0x08);
    g_assert_cmpint(irq_level[12], ==, 1);
    g_assert_cmphex(inb(0x64) & I8042_STAT_AUX_OBF, ==, I8042_STAT_AUX_OBF);
    g_assert_cmphex(inb(0x60), ==, 0x08);
    g_assert_cmpint(irq_level[12], ==, 0);
    /* A20 through the output port */
    outb(0x64, 0xdd);
    outb(0x64, 0xd0);
    g_assert_cmphex(inb(0x60) & I8042_OUT_A20, ==, 0);
    outb(0x64, 0xdf);
    outb(0x64, 0xd0);
    g_assert_cmphex(inb(0x60) & (I8042_OUT_A20 | I8042_OUT_RESET), ==,
                    I8042_OUT_A20 | I8042_OUT_RESET);
    /* nothing plugged in: a byte for the keyboard times out */
    outb(0x60, 0xff);
    g_assert_cmphex(inb(0x64) & I8042_STAT_TIMEOUT, ==, I8042_STAT_TIMEOUT);
}

/* A device attached to the keyboard port answers what the guest sends it. */
static void echo_write(void *opaque, uint8_t byte)
{
    i8042_push(opaque, I8042_PORT_KBD, byte == 0xee ? 0xee : 0xfa);
}

static void test_i8042_device(void)
{
    setup();
    I8042Device echo = { .write = echo_write, .opaque = kbd };
    i8042_attach(kbd, I8042_PORT_KBD, &echo);
    outb(0x60, 0xee);                                    /* echo command */
    g_assert_cmphex(inb(0x64) & (I8042_STAT_OBF | I8042_STAT_TIMEOUT), ==, I8042_STAT_OBF);
    g_assert_cmphex(inb(0x60), ==, 0xee);
    outb(0x60, 0xf4);
    g_assert_cmphex(inb(0x60), ==, 0xfa);
    outb(0x64, 0xad);                                    /* keyboard disabled: times out */
    outb(0x64, 0xd4);                                    /* mouse: not attached */
    outb(0x60, 0xf4);
    g_assert_cmphex(inb(0x64) & I8042_STAT_TIMEOUT, ==, I8042_STAT_TIMEOUT);
    i8042_attach(kbd, I8042_PORT_KBD, NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pc/rtc/time", test_rtc_time);
    g_test_add_func("/pc/rtc/uip", test_rtc_uip);
    g_test_add_func("/pc/rtc/memory-bytes", test_rtc_memory_bytes);
    g_test_add_func("/pc/rtc/periodic-irq", test_rtc_periodic_irq);
    g_test_add_func("/pc/i8042/controller", test_i8042);
    g_test_add_func("/pc/i8042/device", test_i8042_device);
    return g_test_run();
}
