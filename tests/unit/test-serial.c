/* ns16550a: registers, divisor latch, FIFO and trigger levels, interrupt identification,
 * THRE re-arm, loopback, modem status and the character timeout. */
#include <glib.h>
#include "hw/char/serial.h"

typedef struct Fixture {
    Serial16550 *uart;
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
    f->uart = OBJECT_CHECK(Serial16550, object_new(&serial_class));
    f->line = irq_lines_new(irq_handler, f, 1);
    f->uart->irq = f->line;
    g_assert_true(object_realize(OBJECT(f->uart), NULL));
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    object_unref(OBJECT(f->uart));
    g_free(f->line);
}

static uint8_t rd(Fixture *f, unsigned reg)
{
    return f->uart->mmio.ops->read(f->uart, reg, 1);
}

static void wr(Fixture *f, unsigned reg, uint8_t val)
{
    f->uart->mmio.ops->write(f->uart, reg, val, 1);
}

static void test_reset_values(Fixture *f, gconstpointer data)
{
    g_assert_cmphex(rd(f, UART_IIR), ==, 0x01);
    g_assert_cmphex(rd(f, UART_LSR), ==, 0x60);
    g_assert_cmphex(rd(f, UART_MSR), ==, 0xb0);
    g_assert_cmphex(rd(f, UART_MCR), ==, UART_MCR_OUT2);
    g_assert_cmphex(rd(f, UART_IER), ==, 0);
    g_assert_cmpint(f->level, ==, 0);
    /* Registers repeat every 8 bytes across the region. */
    g_assert_cmphex(rd(f, 8 + UART_LSR), ==, 0x60);
}

static void test_divisor_scratch(Fixture *f, gconstpointer data)
{
    wr(f, UART_LCR, UART_LCR_DLAB | 0x03);
    wr(f, UART_DLL, 0x34);
    wr(f, UART_DLM, 0x12);
    g_assert_cmphex(rd(f, UART_DLL), ==, 0x34);
    g_assert_cmphex(rd(f, UART_DLM), ==, 0x12);
    g_assert_cmphex(f->uart->divider, ==, 0x1234);
    wr(f, UART_LCR, 0x03);
    g_assert_cmphex(rd(f, UART_IER), ==, 0);        /* DLM no longer visible */
    g_assert_cmphex(rd(f, UART_LCR), ==, 0x03);
    wr(f, UART_SCR, 0xa5);
    g_assert_cmphex(rd(f, UART_SCR), ==, 0xa5);
}

static void test_thre_interrupt(Fixture *f, gconstpointer data)
{
    /* Enabling THRI with THR empty raises the interrupt. */
    wr(f, UART_IER, UART_IER_THRI);
    g_assert_cmpint(f->level, ==, 1);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_THRI);
    /* Reading IIR acknowledged it. */
    g_assert_cmpint(f->level, ==, 0);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_NO_INT);
    /* Re-writing IER with THRI toggled re-arms it (Linux's UART_BUG_THRE probe). */
    wr(f, UART_IER, 0);
    wr(f, UART_IER, UART_IER_THRI);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_THRI);
    /* Each transmitted byte empties THR again and raises it. */
    wr(f, UART_THR, 'x');
    g_assert_cmpint(f->level, ==, 1);
    g_assert_cmphex(rd(f, UART_LSR) & 0x60, ==, 0x60);
    /* Disabling THRI withdraws the request. */
    wr(f, UART_IER, 0);
    g_assert_cmpint(f->level, ==, 0);
}

static void test_loopback_fifo(Fixture *f, gconstpointer data)
{
    wr(f, UART_MCR, UART_MCR_LOOP);
    wr(f, UART_FCR, UART_FCR_FE | 0x40);            /* FIFO on, trigger level 4 */
    g_assert_cmphex(rd(f, UART_IIR) & 0xc0, ==, 0xc0);
    wr(f, UART_IER, UART_IER_RDI);
    for (int i = 0; i < 3; i++) {
        wr(f, UART_THR, 'a' + i);
    }
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_DR, ==, UART_LSR_DR);
    g_assert_cmpint(f->level, ==, 0);               /* below the trigger level */
    wr(f, UART_THR, 'd');
    g_assert_cmpint(f->level, ==, 1);
    g_assert_cmphex(rd(f, UART_IIR), ==, 0xc0 | UART_IIR_RDI);
    for (int i = 0; i < 4; i++) {
        g_assert_cmphex(rd(f, UART_RBR), ==, 'a' + i);
    }
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_DR, ==, 0);
    g_assert_cmpint(f->level, ==, 0);

    /* Seventeen bytes overflow the sixteen-byte FIFO: overrun, reported as line status. */
    wr(f, UART_IER, UART_IER_RDI | UART_IER_RLSI);
    for (int i = 0; i < 17; i++) {
        wr(f, UART_THR, i);
    }
    g_assert_cmphex(rd(f, UART_IIR), ==, 0xc0 | UART_IIR_RLSI);
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_OE, ==, UART_LSR_OE);
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_OE, ==, 0);      /* cleared by the read */
    g_assert_cmphex(rd(f, UART_IIR), ==, 0xc0 | UART_IIR_RDI);
    for (int i = 0; i < 16; i++) {
        g_assert_cmphex(rd(f, UART_RBR), ==, i);
    }
    /* FCR bit 1 empties the receive FIFO. */
    wr(f, UART_THR, 'z');
    wr(f, UART_FCR, UART_FCR_FE | UART_FCR_CLEAR_RX);
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_DR, ==, 0);
}

static void test_non_fifo_mode(Fixture *f, gconstpointer data)
{
    wr(f, UART_MCR, UART_MCR_LOOP);
    wr(f, UART_IER, UART_IER_RDI);
    wr(f, UART_THR, 'q');
    g_assert_cmpint(f->level, ==, 1);               /* one byte is enough without FIFO */
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_RDI);
    wr(f, UART_THR, 'r');                           /* RBR not read: overrun, replaced */
    g_assert_cmphex(rd(f, UART_LSR) & (UART_LSR_OE | UART_LSR_DR), ==,
                    UART_LSR_OE | UART_LSR_DR);
    g_assert_cmphex(rd(f, UART_RBR), ==, 'r');
    g_assert_cmpint(f->level, ==, 0);
}

static void test_modem_loopback(Fixture *f, gconstpointer data)
{
    wr(f, UART_MCR, UART_MCR_LOOP);
    /* All modem inputs drop: deltas for CTS, DSR and DCD. */
    g_assert_cmphex(rd(f, UART_MSR), ==, UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
    g_assert_cmphex(rd(f, UART_MSR), ==, 0);
    wr(f, UART_IER, UART_IER_MSI);
    wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT1 | UART_MCR_OUT2);
    g_assert_cmpint(f->level, ==, 1);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_MSI);
    g_assert_cmphex(rd(f, UART_MSR), ==, UART_MSR_CTS | UART_MSR_RI | UART_MSR_DCD |
                    UART_MSR_DCTS | UART_MSR_DDCD);
    g_assert_cmpint(f->level, ==, 0);
    /* Ring indicator's trailing edge sets TERI. */
    wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT2);
    g_assert_cmphex(rd(f, UART_MSR) & 0x0f, ==, UART_MSR_TERI);
}

static void test_char_timeout(Fixture *f, gconstpointer data)
{
    wr(f, UART_LCR, UART_LCR_DLAB);
    wr(f, UART_DLL, 1);                             /* fastest rate: short timeout */
    wr(f, UART_DLM, 0);
    wr(f, UART_LCR, 0x03);
    wr(f, UART_MCR, UART_MCR_LOOP);
    wr(f, UART_FCR, UART_FCR_FE | 0xc0);            /* trigger level 14 */
    wr(f, UART_IER, UART_IER_RDI);
    wr(f, UART_THR, 'k');
    g_assert_cmpint(f->level, ==, 0);
    int64_t deadline = clock_ns() + 1000000000;
    while (!f->level && clock_ns() < deadline) {
        g_usleep(100);
        timers_run_expired();
    }
    g_assert_cmpint(f->level, ==, 1);
    g_assert_cmphex(rd(f, UART_IIR), ==, 0xc0 | UART_IIR_CTI);
    g_assert_cmphex(rd(f, UART_RBR), ==, 'k');
    g_assert_cmpint(f->level, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/serial/reset-values", test_reset_values);
    ADD("/serial/divisor-scratch", test_divisor_scratch);
    ADD("/serial/thre-interrupt", test_thre_interrupt);
    ADD("/serial/loopback-fifo", test_loopback_fifo);
    ADD("/serial/non-fifo-mode", test_non_fifo_mode);
    ADD("/serial/modem-loopback", test_modem_loopback);
    ADD("/serial/char-timeout", test_char_timeout);
    return g_test_run();
}
