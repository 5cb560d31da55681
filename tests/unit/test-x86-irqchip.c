/* The pc's legacy interrupt controller and timer: the 8259A pair as Linux initialises it
 * (vectors, masks, cascade, ELCR, EOI) and the 8254 (channel 2 via port 0x61, latches). */
#include <glib.h>
#include <time.h>
#include "hw/intc/i8259.h"
#include "hw/timer/i8254.h"

typedef struct PicFixture {
    I8259 *pic;
    IrqLine *intr;
    int level;
} PicFixture;

static void intr_handler(void *opaque, int n, int level)
{
    PicFixture *f = opaque;
    f->level = level;
}

static void pic_out(PicFixture *f, unsigned port, uint8_t val)
{
    if (port >= 0x4d0) {
        f->pic->elcr_io.ops->write(f->pic, port & 1, val, 1);
    } else {
        MemoryRegion *mr = &f->pic->io[port >= 0xa0];
        mr->ops->write(f->pic, port & 1, val, 1);
    }
}

static uint8_t pic_in(PicFixture *f, unsigned port)
{
    if (port >= 0x4d0) {
        return f->pic->elcr_io.ops->read(f->pic, port & 1, 1);
    }
    MemoryRegion *mr = &f->pic->io[port >= 0xa0];
    return mr->ops->read(f->pic, port & 1, 1);
}

/* Linux's init_8259A: vectors 0x30 and 0x38, slave on IRQ 2, 8086 mode, all unmasked. */
static void pic_setup(PicFixture *f, gconstpointer data)
{
    f->pic = OBJECT_CHECK(I8259, object_new(&i8259_class));
    f->intr = irq_lines_new(intr_handler, f, 1);
    f->pic->intr = f->intr;
    g_assert_true(object_realize(OBJECT(f->pic), NULL));
    pic_out(f, 0x20, 0x11);
    pic_out(f, 0x21, 0x30);
    pic_out(f, 0x21, 0x04);
    pic_out(f, 0x21, 0x01);
    pic_out(f, 0xa0, 0x11);
    pic_out(f, 0xa1, 0x38);
    pic_out(f, 0xa1, 0x02);
    pic_out(f, 0xa1, 0x01);
    pic_out(f, 0x21, 0x00);
    pic_out(f, 0xa1, 0x00);
}

static void pic_teardown(PicFixture *f, gconstpointer data)
{
    object_unref(OBJECT(f->pic));
    g_free(f->intr);
}

static void test_pic_edge_and_eoi(PicFixture *f, gconstpointer data)
{
    g_assert_cmpint(f->level, ==, 0);
    i8259_set_irq(f->pic, 3, 1);
    g_assert_cmpint(f->level, ==, 1);
    g_assert_cmpint(i8259_ack(f->pic), ==, 0x33);
    g_assert_cmpint(f->level, ==, 0);                /* in service, request consumed */
    pic_out(f, 0x20, 0x0b);                          /* OCW3: read ISR */
    g_assert_cmpint(pic_in(f, 0x20), ==, 1 << 3);
    i8259_set_irq(f->pic, 3, 0);
    i8259_set_irq(f->pic, 3, 1);                     /* a new edge waits behind the ISR */
    g_assert_cmpint(f->level, ==, 0);
    pic_out(f, 0x20, 0x20);                          /* non-specific EOI */
    g_assert_cmpint(f->level, ==, 1);
    g_assert_cmpint(i8259_ack(f->pic), ==, 0x33);
}

static void test_pic_priority_and_mask(PicFixture *f, gconstpointer data)
{
    pic_out(f, 0x21, 0x02);                          /* mask IRQ 1 */
    g_assert_cmpint(pic_in(f, 0x21), ==, 0x02);
    i8259_set_irq(f->pic, 1, 1);
    g_assert_cmpint(f->level, ==, 0);
    i8259_set_irq(f->pic, 4, 1);
    i8259_set_irq(f->pic, 0, 1);
    g_assert_cmpint(i8259_ack(f->pic), ==, 0x30);    /* IRQ 0 beats IRQ 4 */
    g_assert_cmpint(f->level, ==, 0);                /* IRQ 4 waits behind IRQ 0 */
    pic_out(f, 0x20, 0x60);                          /* specific EOI for IRQ 0 */
    g_assert_cmpint(f->level, ==, 1);
    g_assert_cmpint(i8259_ack(f->pic), ==, 0x34);
}

static void test_pic_cascade_level(PicFixture *f, gconstpointer data)
{
    pic_out(f, 0x4d1, 0xff);
    g_assert_cmpint(pic_in(f, 0x4d1), ==, 0xde);     /* IRQ 8 and 13 stay edge */
    i8259_set_irq(f->pic, 10, 1);
    g_assert_cmpint(f->level, ==, 1);
    g_assert_cmpint(i8259_ack(f->pic), ==, 0x3a);
    pic_out(f, 0xa0, 0x20);
    pic_out(f, 0x20, 0x20);
    g_assert_cmpint(f->level, ==, 1);                /* level still high: requested again */
    i8259_set_irq(f->pic, 10, 0);                    /* gone before INTA: spurious IRQ 15 */
    g_assert_cmpint(i8259_ack(f->pic), ==, 0x3f);
    g_assert_cmpint(f->level, ==, 0);
    g_assert_cmpint(i8259_ack(f->pic), ==, 0x37);    /* nothing pending: spurious IRQ 7 */
}

typedef struct PitFixture {
    I8254 *pit;
} PitFixture;

static void pit_setup(PitFixture *f, gconstpointer data)
{
    f->pit = OBJECT_CHECK(I8254, object_new(&i8254_class));
    g_assert_true(object_realize(OBJECT(f->pit), NULL));
}

static void pit_teardown(PitFixture *f, gconstpointer data)
{
    object_unref(OBJECT(f->pit));
}

static void pit_out(PitFixture *f, unsigned port, uint8_t val)
{
    if (port == 0x61) {
        f->pit->port61_io.ops->write(f->pit, 0, val, 1);
    } else {
        f->pit->io.ops->write(f->pit, port - 0x40, val, 1);
    }
}

static uint8_t pit_in(PitFixture *f, unsigned port)
{
    if (port == 0x61) {
        return f->pit->port61_io.ops->read(f->pit, 0, 1);
    }
    return f->pit->io.ops->read(f->pit, port - 0x40, 1);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* Linux's pit_calibrate_tsc: gate on, channel 2 mode 0, wait for OUT2 in port 0x61. */
static void test_pit_channel2_gate_and_out(PitFixture *f, gconstpointer data)
{
    pit_out(f, 0x61, 0x01);
    pit_out(f, 0x43, 0xb0);
    pit_out(f, 0x42, 0x9c);                          /* 11932 ticks: 10 ms */
    pit_out(f, 0x42, 0x2e);
    g_assert_cmpint(pit_in(f, 0x61) & 0x20, ==, 0);
    pit_out(f, 0x43, 0x80);                          /* latch channel 2 */
    unsigned c1 = pit_in(f, 0x42) | pit_in(f, 0x42) << 8;
    g_assert_cmpuint(c1, <=, 11932);
    sleep_ms(20);
    g_assert_cmpint(pit_in(f, 0x61) & 0x20, ==, 0x20);
    g_assert_cmpint(pit_in(f, 0x61) & 0x03, ==, 0x01);
}

static void test_pit_latch_and_readback(PitFixture *f, gconstpointer data)
{
    pit_out(f, 0x43, 0x34);                          /* channel 0, lo/hi, mode 2 */
    pit_out(f, 0x40, 0x00);
    pit_out(f, 0x40, 0x80);                          /* 0x8000 */
    pit_out(f, 0x43, 0x00);                          /* latch */
    unsigned a = pit_in(f, 0x40) | pit_in(f, 0x40) << 8;
    g_assert_cmpuint(a, >, 0);
    g_assert_cmpuint(a, <=, 0x8000);
    pit_out(f, 0x43, 0xe2);                          /* read-back: status of channel 0 */
    g_assert_cmpint(pit_in(f, 0x40) & 0x3f, ==, 0x34);
    sleep_ms(5);                                     /* 5966 ticks later */
    pit_out(f, 0x43, 0x00);
    unsigned b = pit_in(f, 0x40) | pit_in(f, 0x40) << 8;
    g_assert_cmpuint(b, !=, a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/x86-irqchip/pic/edge-eoi", PicFixture, NULL, pic_setup,
               test_pic_edge_and_eoi, pic_teardown);
    g_test_add("/x86-irqchip/pic/priority-mask", PicFixture, NULL, pic_setup,
               test_pic_priority_and_mask, pic_teardown);
    g_test_add("/x86-irqchip/pic/cascade-level", PicFixture, NULL, pic_setup,
               test_pic_cascade_level, pic_teardown);
    g_test_add("/x86-irqchip/pit/channel2", PitFixture, NULL, pit_setup,
               test_pit_channel2_gate_and_out, pit_teardown);
    g_test_add("/x86-irqchip/pit/latch-readback", PitFixture, NULL, pit_setup,
               test_pit_latch_and_readback, pit_teardown);
    return g_test_run();
}
