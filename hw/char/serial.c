/* NS16550A UART: registers, receive FIFO with trigger levels and character timeout,
 * interrupt identification in 16550 priority order, loopback, chardev back end. */
#include <glib.h>
#include "hw/char/serial.h"
#include "util/log.h"

#define UART_LSR_INT_ANY (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

static unsigned serial_rx_depth(const Serial16550 *s)
{
    return (s->fcr & UART_FCR_FE) ? sizeof(s->rx_fifo) : 1;
}

static unsigned serial_rx_trigger(const Serial16550 *s)
{
    static const unsigned levels[4] = { 1, 4, 8, 14 };
    return levels[s->fcr >> 6];
}

/* The interrupt identification in 16550 priority order (UART_IIR_NO_INT when none). */
static uint8_t serial_iid(const Serial16550 *s)
{
    if ((s->ier & UART_IER_RLSI) && (s->lsr & UART_LSR_INT_ANY)) {
        return UART_IIR_RLSI;
    }
    if ((s->ier & UART_IER_RDI) && s->timeout_ipending) {
        return UART_IIR_CTI;
    }
    if ((s->ier & UART_IER_RDI) && s->rx_count &&
        (!(s->fcr & UART_FCR_FE) || s->rx_count >= serial_rx_trigger(s))) {
        return UART_IIR_RDI;
    }
    if ((s->ier & UART_IER_THRI) && s->thr_ipending) {
        return UART_IIR_THRI;
    }
    if ((s->ier & UART_IER_MSI) && (s->msr & 0x0f)) {
        return UART_IIR_MSI;
    }
    return UART_IIR_NO_INT;
}

static void serial_update_irq(Serial16550 *s)
{
    irq_set(s->irq, serial_iid(s) != UART_IIR_NO_INT);
}

/* Four character times at the programmed baud rate and frame format. */
static int64_t serial_char_timeout_ns(const Serial16550 *s)
{
    unsigned bits = 1 + 5 + (s->lcr & 3) + ((s->lcr & 0x08) ? 1 : 0) + ((s->lcr & 0x04) ? 2 : 1);
    uint64_t divider = s->divider ? s->divider : 1;
    return (int64_t)(4ULL * bits * divider * 16 * 1000000000ULL / SERIAL_CLOCK_HZ);
}

/* Restarts the character timeout while the FIFO holds data; stops it otherwise. */
static void serial_restart_timeout(Serial16550 *s)
{
    if ((s->fcr & UART_FCR_FE) && s->rx_count) {
        timer_mod(s->timeout_timer, clock_ns() + serial_char_timeout_ns(s));
    } else {
        timer_del(s->timeout_timer);
    }
}

static void serial_timeout(void *opaque)
{
    Serial16550 *s = opaque;
    if (s->rx_count) {
        s->timeout_ipending = true;
        serial_update_irq(s);
    }
}

static void serial_rx_clear(Serial16550 *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    s->lsr &= ~UART_LSR_DR;
    s->timeout_ipending = false;
    timer_del(s->timeout_timer);
    if (s->input_stalled && s->chr) {
        s->input_stalled = false;
        chr_accept_input(s->chr);
    }
}

/* A character arrives at the receiver (from the back end or looped back). */
static void serial_receive_byte(Serial16550 *s, uint8_t b)
{
    unsigned depth = serial_rx_depth(s);
    if (s->rx_count >= depth) {
        s->lsr |= UART_LSR_OE;
        if (depth == 1) {
            s->rx_fifo[s->rx_head] = b;     /* 16450 mode: the new byte replaces RBR */
        }
    } else {
        s->rx_fifo[(s->rx_head + s->rx_count) % sizeof(s->rx_fifo)] = b;
        s->rx_count++;
    }
    s->lsr |= UART_LSR_DR;
    s->timeout_ipending = false;
    serial_restart_timeout(s);
}

static int serial_can_read(void *opaque)
{
    Serial16550 *s = opaque;
    int room = serial_rx_depth(s) - s->rx_count;
    if (room <= 0) {
        s->input_stalled = true;
        return 0;
    }
    return room;
}

static void serial_read(void *opaque, const uint8_t *buf, int len)
{
    Serial16550 *s = opaque;
    if (s->mcr & UART_MCR_LOOP) {
        return;     /* loopback disconnects the serial input, as on the chip */
    }
    for (int i = 0; i < len; i++) {
        serial_receive_byte(s, buf[i]);
    }
    serial_update_irq(s);
}

static uint8_t serial_pop_rx(Serial16550 *s)
{
    if (!s->rx_count) {
        return 0;
    }
    uint8_t b = s->rx_fifo[s->rx_head];
    s->rx_head = (s->rx_head + 1) % sizeof(s->rx_fifo);
    s->rx_count--;
    if (!s->rx_count) {
        s->lsr &= ~UART_LSR_DR;
    }
    s->timeout_ipending = false;
    serial_restart_timeout(s);
    if (s->input_stalled && s->chr) {
        s->input_stalled = false;
        chr_accept_input(s->chr);
    }
    return b;
}

static void serial_transmit(Serial16550 *s, uint8_t b)
{
    if (s->mcr & UART_MCR_LOOP) {
        serial_receive_byte(s, b);
    } else if (s->chr) {
        chr_write(s->chr, &b, 1);
    }
    /* The byte left at once: THR and the shifter are empty again. */
    s->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
    s->thr_ipending = true;
}

/* Modem status inputs: looped back from MCR in loopback mode, otherwise DCD, DSR and CTS
 * asserted (there is no modem behind the port). Sets the delta bits of what changed. */
static void serial_update_msr(Serial16550 *s)
{
    uint8_t status;
    if (s->mcr & UART_MCR_LOOP) {
        status = ((s->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
                 ((s->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
                 ((s->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
                 ((s->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0);
    } else {
        status = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    }
    uint8_t changed = (s->msr ^ status) & 0xf0;
    uint8_t delta = 0;
    if (changed & UART_MSR_CTS) {
        delta |= UART_MSR_DCTS;
    }
    if (changed & UART_MSR_DSR) {
        delta |= UART_MSR_DDSR;
    }
    if ((changed & UART_MSR_RI) && !(status & UART_MSR_RI)) {
        delta |= UART_MSR_TERI;     /* trailing edge of ring indicator */
    }
    if (changed & UART_MSR_DCD) {
        delta |= UART_MSR_DDCD;
    }
    s->msr = status | (s->msr & 0x0f) | delta;
}

static void serial_write_fcr(Serial16550 *s, uint8_t val)
{
    if ((val ^ s->fcr) & UART_FCR_FE) {
        serial_rx_clear(s);         /* changing the FIFO mode empties both FIFOs */
    }
    if (!(val & UART_FCR_FE)) {
        s->fcr = 0;
        return;
    }
    if (val & UART_FCR_CLEAR_RX) {
        serial_rx_clear(s);
    }
    s->fcr = val & 0xc9;
    serial_restart_timeout(s);
}

static uint64_t serial_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    Serial16550 *s = opaque;
    uint8_t ret = 0, iid;
    switch (addr & 7) {
    case UART_RBR:
        if (s->lcr & UART_LCR_DLAB) {
            ret = s->divider & 0xff;
        } else {
            ret = serial_pop_rx(s);
        }
        break;
    case UART_IER:
        ret = (s->lcr & UART_LCR_DLAB) ? s->divider >> 8 : s->ier;
        break;
    case UART_IIR:
        iid = serial_iid(s);
        ret = iid | ((s->fcr & UART_FCR_FE) ? UART_IIR_FIFO : 0);
        if (iid == UART_IIR_THRI) {
            s->thr_ipending = false;    /* reading IIR acknowledges THR empty */
        }
        break;
    case UART_LCR:
        ret = s->lcr;
        break;
    case UART_MCR:
        ret = s->mcr;
        break;
    case UART_LSR:
        ret = s->lsr;
        s->lsr &= ~UART_LSR_INT_ANY;
        break;
    case UART_MSR:
        ret = s->msr;
        s->msr &= 0xf0;
        break;
    case UART_SCR:
        ret = s->scr;
        break;
    }
    serial_update_irq(s);
    return ret;
}

static void serial_mmio_write(void *opaque, uint64_t addr, uint64_t val64, unsigned size)
{
    Serial16550 *s = opaque;
    uint8_t val = val64 & 0xff;
    uint8_t changed;
    switch (addr & 7) {
    case UART_THR:
        if (s->lcr & UART_LCR_DLAB) {
            s->divider = (s->divider & 0xff00) | val;
        } else {
            s->thr_ipending = false;
            serial_transmit(s, val);
        }
        break;
    case UART_IER:
        if (s->lcr & UART_LCR_DLAB) {
            s->divider = (s->divider & 0x00ff) | (uint16_t)val << 8;
            break;
        }
        changed = (s->ier ^ val) & 0x0f;
        s->ier = val & 0x0f;
        if (changed & UART_IER_THRI) {
            /* Enabling the THR interrupt while THR is empty raises it (the re-arm
             * Linux's 8250 driver probes for); disabling it drops the request. */
            s->thr_ipending = (s->ier & UART_IER_THRI) && (s->lsr & UART_LSR_THRE);
        }
        break;
    case UART_FCR:
        serial_write_fcr(s, val);
        break;
    case UART_LCR:
        s->lcr = val;
        break;
    case UART_MCR:
        s->mcr = val & 0x1f;
        serial_update_msr(s);
        break;
    case UART_LSR:
    case UART_MSR:
        log_mask_printf(LOG_GUEST_ERROR, "ns16550a: write to read-only register %u\n",
                        (unsigned)(addr & 7));
        break;
    case UART_SCR:
        s->scr = val;
        break;
    }
    serial_update_irq(s);
}

static const MemoryRegionOps serial_mmio_ops = {
    .read = serial_mmio_read,
    .write = serial_mmio_write,
    .min_access_size = 1,
    .max_access_size = 8,
};

static void serial_init(Object *obj)
{
    Serial16550 *s = OBJECT_CHECK(Serial16550, obj);
    memory_region_init_io(&s->mmio, "serial", &serial_mmio_ops, s, SERIAL_MMIO_SIZE);
    s->timeout_timer = timer_new(serial_timeout, s);
}

static void serial_reset(Object *obj)
{
    Serial16550 *s = OBJECT_CHECK(Serial16550, obj);
    s->divider = 0x0c;          /* 9600 baud at the 1.8432 MHz reference, as on a PC */
    s->ier = 0;
    s->lcr = 0;
    s->mcr = UART_MCR_OUT2;
    s->lsr = UART_LSR_THRE | UART_LSR_TEMT;
    s->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    s->scr = 0;
    s->fcr = 0;
    s->thr_ipending = false;
    serial_rx_clear(s);
    serial_update_irq(s);
}

static bool serial_realize(Object *obj, Error **errp)
{
    Serial16550 *s = OBJECT_CHECK(Serial16550, obj);
    if (s->chr && !chr_add_frontend(s->chr, serial_can_read, serial_read, NULL, s, errp)) {
        return false;
    }
    serial_reset(obj);
    return true;
}

static void serial_unrealize(Object *obj)
{
    Serial16550 *s = OBJECT_CHECK(Serial16550, obj);
    if (s->chr) {
        chr_remove_frontend(s->chr, s);
    }
    timer_del(s->timeout_timer);
}

static void serial_finalize(Object *obj)
{
    Serial16550 *s = OBJECT_CHECK(Serial16550, obj);
    timer_free(s->timeout_timer);
}

static const Property serial_props[] = {
    DEFINE_PROP_CHR("chardev", Serial16550, chr),
    DEFINE_PROP_END,
};

const ObjectClass serial_class = {
    .name = "ns16550a",
    .instance_size = sizeof(Serial16550),
    .props = serial_props,
    .desc = "NS16550A UART",
    .init = serial_init,
    .realize = serial_realize,
    .reset = serial_reset,
    .unrealize = serial_unrealize,
    .finalize = serial_finalize,
};
OBJECT_CLASS_REGISTER(serial_class);
