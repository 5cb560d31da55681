/* The 8254 programmable interval timer and port 0x61 (channel 2 gate and output). */
#include <glib.h>
#include "hw/timer/i8254.h"
#include "util/log.h"

#define NS_PER_SEC 1000000000ll
/* Channel 0 edges more than this many periods late are dropped rather than replayed. */
#define PIT_MAX_CATCHUP 64

static uint64_t pit_ticks(const PitChannel *c, int64_t now)
{
    return now <= c->load_ns ? 0
                             : (uint64_t)((__int128)(now - c->load_ns) * PIT_FREQ / NS_PER_SEC);
}

static int64_t pit_ticks_to_ns(uint64_t ticks)
{
    return (int64_t)(((__int128)ticks * NS_PER_SEC + PIT_FREQ - 1) / PIT_FREQ);
}

/* Modes 0 and 4 count only while the gate is high; mode 1 and 5 start on its rising edge. */
static bool pit_counting(const PitChannel *c)
{
    return !c->null_count && (c->gate || c->mode == 1 || c->mode == 5);
}

static uint16_t pit_counter(const PitChannel *c, int64_t now)
{
    if (!pit_counting(c)) {
        return (uint16_t)c->count;
    }
    uint64_t d = pit_ticks(c, now);
    switch (c->mode) {
    case 2:
        return (uint16_t)(c->count - d % c->count);
    case 3:
        return (uint16_t)((c->count - (2 * d) % c->count) & ~1u);
    default:
        return (uint16_t)(c->count - d);
    }
}

static bool pit_out(const PitChannel *c, int64_t now)
{
    if (c->null_count) {
        return c->mode != 0;
    }
    if (!pit_counting(c)) {
        return c->mode != 0;
    }
    uint64_t d = pit_ticks(c, now);
    switch (c->mode) {
    case 0:
    case 1:
        return d >= c->count;
    case 2:
        return d % c->count != c->count - 1;
    case 3:
        return d % c->count < (c->count + 1) / 2;
    default:
        return d != c->count;
    }
}

/* Channel 0: schedules the next rising edge of OUT (the IRQ 0 edge), if any. */
static void pit_arm(I8254 *s)
{
    PitChannel *c = &s->ch[0];
    timer_del(s->timer);
    if (!pit_counting(c)) {
        return;
    }
    int64_t now = clock_ns();
    uint64_t d = pit_ticks(c, now);
    uint64_t edge;
    switch (c->mode) {
    case 2:
    case 3:
        edge = (d / c->count + 1) * c->count;
        break;
    case 0:
    case 4:
        if (d >= c->count) {
            return;
        }
        edge = c->count;
        break;
    default:
        return;
    }
    s->next_irq_ns = c->load_ns + pit_ticks_to_ns(edge);
    timer_mod(s->timer, s->next_irq_ns);
}

static void pit_fire(void *opaque)
{
    I8254 *s = opaque;
    PitChannel *c = &s->ch[0];
    if (c->mode == 0) {
        irq_raise(s->irq);                  /* OUT stays high until the next count */
        return;
    }
    irq_pulse(s->irq);
    if (c->mode == 2 || c->mode == 3) {
        int64_t period = pit_ticks_to_ns(c->count);
        int64_t next = s->next_irq_ns + period;
        int64_t now = clock_ns();
        if (now - next > PIT_MAX_CATCHUP * period) {
            pit_arm(s);
            return;
        }
        s->next_irq_ns = next;
        timer_mod(s->timer, next);
    }
}

static void pit_load(I8254 *s, int n, uint32_t val)
{
    PitChannel *c = &s->ch[n];
    c->count = val ? val : 0x10000;
    c->load_ns = clock_ns();
    c->null_count = false;
    if (n == 0) {
        if (c->mode == 0) {
            irq_lower(s->irq);
        }
        pit_arm(s);
    }
}

static void pit_latch_count(PitChannel *c)
{
    if (!c->latched) {
        c->latch = pit_counter(c, clock_ns());
        c->latched = true;
        c->read_msb = false;
    }
}

static void pit_control(I8254 *s, uint8_t val)
{
    unsigned sc = val >> 6;
    if (sc == 3) {                                   /* read-back */
        for (int n = 0; n < 3; n++) {
            if (!(val & (2u << n))) {
                continue;
            }
            PitChannel *c = &s->ch[n];
            if (!(val & 0x20)) {
                pit_latch_count(c);
            }
            if (!(val & 0x10) && !c->status_latched) {
                c->status = (pit_out(c, clock_ns()) << 7) | (c->null_count << 6) |
                            (c->rw_mode << 4) | (c->mode << 1);
                c->status_latched = true;
            }
        }
        return;
    }
    PitChannel *c = &s->ch[sc];
    unsigned rw = (val >> 4) & 3;
    if (rw == 0) {
        pit_latch_count(c);
        return;
    }
    if (val & 1) {
        log_mask_printf(LOG_UNIMP, "i8254: BCD counting not supported\n");
    }
    c->rw_mode = rw;
    c->mode = (val >> 1) & 7;
    if (c->mode >= 6) {
        c->mode -= 4;
    }
    c->read_msb = c->write_msb = false;
    c->null_count = true;
    if (sc == 0) {
        timer_del(s->timer);
        if (c->mode == 0) {
            irq_lower(s->irq);              /* mode 0: OUT goes low until terminal count */
        }
    }
}

static void pit_write_count(I8254 *s, int n, uint8_t val)
{
    PitChannel *c = &s->ch[n];
    switch (c->rw_mode) {
    case 1:
        pit_load(s, n, val);
        break;
    case 2:
        pit_load(s, n, (uint32_t)val << 8);
        break;
    case 3:
        if (!c->write_msb) {
            c->write_lsb = val;
            c->write_msb = true;
        } else {
            c->write_msb = false;
            pit_load(s, n, c->write_lsb | (uint32_t)val << 8);
        }
        break;
    default:
        break;
    }
}

static uint8_t pit_read_count(PitChannel *c)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v = c->latched ? c->latch : pit_counter(c, clock_ns());
    uint8_t r;
    switch (c->rw_mode) {
    case 1:
        r = v & 0xff;
        c->latched = false;
        break;
    case 2:
        r = v >> 8;
        c->latched = false;
        break;
    default:
        r = c->read_msb ? v >> 8 : v & 0xff;
        if (c->read_msb) {
            c->latched = false;
        }
        c->read_msb = !c->read_msb;
        break;
    }
    return r;
}

static uint64_t pit_io_read(void *opaque, uint64_t addr, unsigned size)
{
    I8254 *s = opaque;
    return addr < 3 ? pit_read_count(&s->ch[addr]) : 0xff;
}

static void pit_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8254 *s = opaque;
    if (addr == 3) {
        pit_control(s, (uint8_t)val);
    } else {
        pit_write_count(s, (int)addr, (uint8_t)val);
    }
}

static const MemoryRegionOps pit_io_ops = {
    .read = pit_io_read,
    .write = pit_io_write,
    .min_access_size = 1,
    .max_access_size = 1,
};

/* Port 0x61: bit 0 gate 2, bit 1 speaker data, bit 4 refresh toggle (15 us), bit 5 OUT2. */
static uint64_t port61_read(void *opaque, uint64_t addr, unsigned size)
{
    I8254 *s = opaque;
    int64_t now = clock_ns();
    return s->speaker | (((now / 15085) & 1) << 4) | (pit_out(&s->ch[2], now) << 5);
}

static void port61_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8254 *s = opaque;
    PitChannel *c = &s->ch[2];
    bool gate = val & 1;
    if (gate && !c->gate) {
        c->load_ns = clock_ns();            /* a rising gate (re)starts the count */
    }
    c->gate = gate;
    s->speaker = val & 3;
}

static const MemoryRegionOps port61_ops = {
    .read = port61_read,
    .write = port61_write,
    .min_access_size = 1,
    .max_access_size = 1,
};

static void i8254_reset(Object *obj)
{
    I8254 *s = (I8254 *)obj;
    for (int n = 0; n < 3; n++) {
        PitChannel *c = &s->ch[n];
        *c = (PitChannel){ .count = 0x10000, .rw_mode = 3, .mode = 3, .gate = n != 2,
                           .null_count = true, .load_ns = clock_ns() };
    }
    s->speaker = 0;
    timer_del(s->timer);
}

static void i8254_init(Object *obj)
{
    I8254 *s = (I8254 *)obj;
    memory_region_init_io(&s->io, "pit", &pit_io_ops, s, 4);
    memory_region_init_io(&s->port61_io, "port61", &port61_ops, s, 1);
    s->timer = timer_new(pit_fire, s);
    i8254_reset(obj);
}

static void i8254_finalize(Object *obj)
{
    I8254 *s = (I8254 *)obj;
    timer_free(s->timer);
}

const ObjectClass i8254_class = {
    .name = "isa-pit",
    .instance_size = sizeof(I8254),
    .desc = "ISA programmable interval timer (8254)",
    .init = i8254_init,
    .reset = i8254_reset,
    .finalize = i8254_finalize,
};
OBJECT_CLASS_REGISTER(i8254_class)
