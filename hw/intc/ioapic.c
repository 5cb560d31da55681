/* I/O APIC: 24 redirection entries turning pin levels and edges into APIC bus messages. */
#include <glib.h>
#include "hw/intc/ioapic.h"
#include "util/log.h"

#define IOAPIC_VERSION 0x20
#define RE_VECTOR(e) ((uint8_t)((e) & 0xff))
#define RE_MODE(e) ((unsigned)((e) >> 8) & 7)
#define RE_LOGICAL (1ull << 11)
#define RE_DELIVS (1ull << 12)
#define RE_REMOTE_IRR (1ull << 14)
#define RE_LEVEL (1ull << 15)
#define RE_MASKED (1ull << 16)
#define RE_DEST(e) ((uint8_t)((e) >> 56))
/* Bits the guest can write (delivery status and remote IRR are read-only). */
#define RE_WRITABLE (0xff000000000000ffull | 0x1ebffull)

/* Delivers every pending, unmasked pin not blocked by remote IRR. */
static void ioapic_service(IOApic *s)
{
    for (int n = 0; n < IOAPIC_NUM_PINS; n++) {
        uint64_t e = s->redir[n];
        if (!(s->irr & (1u << n)) || (e & RE_MASKED)) {
            continue;
        }
        if (e & RE_LEVEL) {
            if (e & RE_REMOTE_IRR) {
                continue;
            }
            s->redir[n] |= RE_REMOTE_IRR;
        } else {
            s->irr &= ~(1u << n);
        }
        if (s->bus) {
            apic_bus_deliver(s->bus, RE_DEST(e), e & RE_LOGICAL, RE_MODE(e), RE_VECTOR(e),
                             e & RE_LEVEL);
        }
    }
}

void ioapic_set_irq(IOApic *s, int n, int level)
{
    if (n < 0 || n >= IOAPIC_NUM_PINS) {
        return;
    }
    uint32_t bit = 1u << n;
    bool was = s->level & bit;
    s->level = level ? s->level | bit : s->level & ~bit;
    if (s->redir[n] & RE_LEVEL) {
        s->irr = level ? s->irr | bit : s->irr & ~bit;
    } else if (level && !was) {
        s->irr |= bit;
    }
    ioapic_service(s);
}

void ioapic_eoi_broadcast(void *opaque, uint8_t vector)
{
    IOApic *s = opaque;
    for (int n = 0; n < IOAPIC_NUM_PINS; n++) {
        uint64_t e = s->redir[n];
        if ((e & RE_LEVEL) && (e & RE_REMOTE_IRR) && RE_VECTOR(e) == vector) {
            s->redir[n] &= ~RE_REMOTE_IRR;
        }
    }
    ioapic_service(s);
}

static uint32_t ioapic_reg_read(IOApic *s)
{
    unsigned r = s->ioregsel;
    switch (r) {
    case 0x00:
        return (uint32_t)s->id << 24;
    case 0x01:
        return IOAPIC_VERSION | ((IOAPIC_NUM_PINS - 1) << 16);
    case 0x02:
        return (uint32_t)s->id << 24;
    default:
        if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_NUM_PINS) {
            uint64_t e = s->redir[(r - 0x10) / 2];
            return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
        }
        return 0xffffffff;
    }
}

static void ioapic_reg_write(IOApic *s, uint32_t val)
{
    unsigned r = s->ioregsel;
    if (r == 0x00) {
        s->id = (val >> 24) & 0xf;
        return;
    }
    if (r < 0x10 || r >= 0x10 + 2 * IOAPIC_NUM_PINS) {
        log_mask_printf(LOG_GUEST_ERROR, "ioapic: write to register 0x%x ignored\n", r);
        return;
    }
    unsigned n = (r - 0x10) / 2;
    uint64_t e = s->redir[n];
    uint64_t v = (r & 1) ? (e & 0xffffffffull) | ((uint64_t)val << 32)
                         : (e & 0xffffffff00000000ull) | val;
    s->redir[n] = (v & RE_WRITABLE) | (e & RE_REMOTE_IRR);
    if (!(s->redir[n] & RE_LEVEL)) {
        s->redir[n] &= ~RE_REMOTE_IRR;
    } else if (s->level & (1u << n)) {
        s->irr |= 1u << n;                   /* a level input already high is pending */
    }
    ioapic_service(s);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    IOApic *s = opaque;
    switch (addr) {
    case 0x00:
        return s->ioregsel;
    case 0x10:
        return ioapic_reg_read(s);
    default:
        return 0;
    }
}

static void ioapic_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    IOApic *s = opaque;
    switch (addr) {
    case 0x00:
        s->ioregsel = (uint8_t)val;
        break;
    case 0x10:
        ioapic_reg_write(s, (uint32_t)val);
        break;
    case 0x40:
        ioapic_eoi_broadcast(s, (uint8_t)val);
        break;
    default:
        break;
    }
}

static const MemoryRegionOps ioapic_mmio_ops = {
    .read = ioapic_mmio_read,
    .write = ioapic_mmio_write,
    .min_access_size = 4,
    .max_access_size = 4,
};

static void ioapic_reset(Object *obj)
{
    IOApic *s = (IOApic *)obj;
    s->id = 0;
    s->ioregsel = 0;
    s->irr = 0;
    for (int n = 0; n < IOAPIC_NUM_PINS; n++) {
        s->redir[n] = RE_MASKED;
    }
}

static void ioapic_init(Object *obj)
{
    IOApic *s = (IOApic *)obj;
    memory_region_init_io(&s->mmio, "ioapic", &ioapic_mmio_ops, s, IOAPIC_MMIO_SIZE);
    ioapic_reset(obj);
}

const ObjectClass ioapic_class = {
    .name = "ioapic",
    .instance_size = sizeof(IOApic),
    .desc = "I/O APIC (userspace, for the interpreter)",
    .init = ioapic_init,
    .reset = ioapic_reset,
};
OBJECT_CLASS_REGISTER(ioapic_class)
