/* The PC's cascaded 8259A interrupt controllers with the ELCR edge/level register. */
#include <glib.h>
#include "hw/intc/i8259.h"
#include "util/log.h"

enum { PIC_MASTER = 0, PIC_SLAVE = 1, PIC_CASCADE_IRQ = 2 };

/* Priority (0 highest) of the best request in mask under the current rotation; 8: none. */
static int pic_priority(const PicChip *c, uint8_t mask)
{
    if (!mask) {
        return 8;
    }
    int p = 0;
    while (!(mask & (1u << ((p + c->priority_add) & 7)))) {
        p++;
    }
    return p;
}

/* The IRQ line (0-7) the chip would signal now, or -1. */
static int pic_get_irq(const PicChip *c, bool master)
{
    int p = pic_priority(c, c->irr & ~c->imr);
    if (p == 8) {
        return -1;
    }
    uint8_t in_service = c->isr;
    if (c->special_mask) {
        in_service &= ~c->imr;
    }
    if (master && c->special_fully_nested) {
        in_service &= ~(1u << PIC_CASCADE_IRQ);
    }
    return p < pic_priority(c, in_service) ? (p + c->priority_add) & 7 : -1;
}

static void pic_chip_set(PicChip *c, int irq, int level)
{
    uint8_t m = 1u << irq;
    if (c->elcr & m) {
        c->irr = level ? c->irr | m : c->irr & ~m;
        c->last_irr = level ? c->last_irr | m : c->last_irr & ~m;
    } else if (level) {
        if (!(c->last_irr & m)) {
            c->irr |= m;
        }
        c->last_irr |= m;
    } else {
        c->last_irr &= ~m;
    }
}

/* Propagates the slave's output to master IRQ 2 and the master's to INTR. */
static void pic_update(I8259 *s)
{
    pic_chip_set(&s->chip[PIC_MASTER], PIC_CASCADE_IRQ,
                 pic_get_irq(&s->chip[PIC_SLAVE], false) >= 0);
    irq_set(s->intr, pic_get_irq(&s->chip[PIC_MASTER], true) >= 0);
}

void i8259_set_irq(I8259 *s, int n, int level)
{
    if (n < 0 || n >= 16) {
        return;
    }
    pic_chip_set(&s->chip[n >> 3], n & 7, level);
    pic_update(s);
}

/* The chip acknowledges irq: in service (unless auto-EOI), edge request consumed. */
static void pic_chip_ack(PicChip *c, int irq)
{
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi) {
            c->priority_add = (irq + 1) & 7;
        }
    } else {
        c->isr |= 1u << irq;
    }
    if (!(c->elcr & (1u << irq))) {
        c->irr &= ~(1u << irq);
    }
}

int i8259_ack(void *opaque)
{
    I8259 *s = opaque;
    PicChip *m = &s->chip[PIC_MASTER], *sl = &s->chip[PIC_SLAVE];
    int vector;
    int irq = pic_get_irq(m, true);
    if (irq < 0) {
        vector = m->irq_base + 7;                    /* spurious IRQ 7 */
    } else if (irq == PIC_CASCADE_IRQ) {
        pic_chip_ack(m, irq);
        int irq2 = pic_get_irq(sl, false);
        if (irq2 >= 0) {
            pic_chip_ack(sl, irq2);
        } else {
            irq2 = 7;                                /* spurious IRQ 15 */
        }
        vector = sl->irq_base + irq2;
    } else {
        pic_chip_ack(m, irq);
        vector = m->irq_base + irq;
    }
    pic_update(s);
    return vector;
}

static void pic_chip_reset(PicChip *c)
{
    c->last_irr = 0;
    c->irr &= c->elcr;
    c->imr = c->isr = 0;
    c->priority_add = 0;
    c->irq_base = 0;
    c->init_state = 0;
    c->read_isr = c->poll = c->special_mask = c->auto_eoi = c->rotate_on_aeoi = false;
    c->single = c->icw4 = c->special_fully_nested = false;
}

static void pic_ocw2(PicChip *c, uint8_t val)
{
    unsigned cmd = val >> 5;
    int irq = val & 7;
    switch (cmd) {
    case 0:
    case 4:
        c->rotate_on_aeoi = cmd == 4;
        break;
    case 1:
    case 5: {
        int p = pic_priority(c, c->isr);
        if (p != 8) {
            irq = (p + c->priority_add) & 7;
            c->isr &= ~(1u << irq);
            if (cmd == 5) {
                c->priority_add = (irq + 1) & 7;
            }
        }
        break;
    }
    case 3:
        c->isr &= ~(1u << irq);
        break;
    case 6:
        c->priority_add = (irq + 1) & 7;
        break;
    case 7:
        c->isr &= ~(1u << irq);
        c->priority_add = (irq + 1) & 7;
        break;
    default:
        break;
    }
}

static void pic_write(I8259 *s, PicChip *c, unsigned port, uint8_t val)
{
    if (port == 0) {
        if (val & 0x10) {                            /* ICW1 */
            pic_chip_reset(c);
            c->init_state = 1;
            c->icw4 = val & 1;
            c->single = val & 2;
            if (val & 0x08) {
                log_mask_printf(LOG_UNIMP, "i8259: level-triggered mode (LTIM) ignored\n");
            }
        } else if (val & 0x08) {                     /* OCW3 */
            if (val & 0x04) {
                c->poll = true;
            }
            if (val & 0x02) {
                c->read_isr = val & 1;
            }
            if (val & 0x40) {
                c->special_mask = (val >> 5) & 1;
            }
        } else {
            pic_ocw2(c, val);
        }
    } else {
        switch (c->init_state) {
        case 0:                                      /* OCW1 */
            c->imr = val;
            break;
        case 1:                                      /* ICW2 */
            c->irq_base = val & 0xf8;
            c->init_state = c->single ? (c->icw4 ? 3 : 0) : 2;
            break;
        case 2:                                      /* ICW3 */
            c->init_state = c->icw4 ? 3 : 0;
            break;
        default:                                     /* ICW4 */
            c->special_fully_nested = (val >> 4) & 1;
            c->auto_eoi = (val >> 1) & 1;
            c->init_state = 0;
            break;
        }
    }
    pic_update(s);
}

static uint8_t pic_read(I8259 *s, PicChip *c, unsigned port)
{
    if (c->poll) {
        c->poll = false;
        int irq = pic_get_irq(c, c == &s->chip[PIC_MASTER]);
        if (irq < 0) {
            return 0;
        }
        pic_chip_ack(c, irq);
        pic_update(s);
        return 0x80 | irq;
    }
    if (port == 0) {
        return c->read_isr ? c->isr : c->irr;
    }
    return c->imr;
}

static uint64_t pic_master_read(void *opaque, uint64_t addr, unsigned size)
{
    I8259 *s = opaque;
    return pic_read(s, &s->chip[PIC_MASTER], addr & 1);
}

static void pic_master_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8259 *s = opaque;
    pic_write(s, &s->chip[PIC_MASTER], addr & 1, (uint8_t)val);
}

static uint64_t pic_slave_read(void *opaque, uint64_t addr, unsigned size)
{
    I8259 *s = opaque;
    return pic_read(s, &s->chip[PIC_SLAVE], addr & 1);
}

static void pic_slave_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8259 *s = opaque;
    pic_write(s, &s->chip[PIC_SLAVE], addr & 1, (uint8_t)val);
}

static uint64_t pic_elcr_read(void *opaque, uint64_t addr, unsigned size)
{
    I8259 *s = opaque;
    return s->chip[addr & 1].elcr;
}

static void pic_elcr_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8259 *s = opaque;
    PicChip *c = &s->chip[addr & 1];
    c->elcr = (uint8_t)val & c->elcr_mask;
    pic_update(s);
}

static const MemoryRegionOps pic_ops[2] = {
    { .read = pic_master_read, .write = pic_master_write,
      .min_access_size = 1, .max_access_size = 1 },
    { .read = pic_slave_read, .write = pic_slave_write,
      .min_access_size = 1, .max_access_size = 1 },
};

static const MemoryRegionOps pic_elcr_ops = {
    .read = pic_elcr_read,
    .write = pic_elcr_write,
    .min_access_size = 1,
    .max_access_size = 1,
};

static void i8259_reset(Object *obj)
{
    I8259 *s = (I8259 *)obj;
    for (int i = 0; i < 2; i++) {
        s->chip[i].elcr = 0;
        pic_chip_reset(&s->chip[i]);
    }
    irq_set(s->intr, 0);
}

static void i8259_init(Object *obj)
{
    I8259 *s = (I8259 *)obj;
    memory_region_init_io(&s->io[0], "pic", &pic_ops[0], s, 2);
    memory_region_init_io(&s->io[1], "pic", &pic_ops[1], s, 2);
    memory_region_init_io(&s->elcr_io, "elcr", &pic_elcr_ops, s, 2);
    s->chip[PIC_MASTER].elcr_mask = 0xf8;            /* IRQ 0-2 are always edge */
    s->chip[PIC_SLAVE].elcr_mask = 0xde;             /* IRQ 8 and 13 are always edge */
    i8259_reset(obj);
}

const ObjectClass i8259_class = {
    .name = "isa-i8259",
    .instance_size = sizeof(I8259),
    .desc = "ISA PIC pair (8259A) with ELCR",
    .init = i8259_init,
    .reset = i8259_reset,
};
OBJECT_CLASS_REGISTER(i8259_class)
