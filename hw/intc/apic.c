/* Local APIC (xAPIC): IRR/ISR/TMR with priorities, EOI broadcast, ICR IPIs incl. INIT/SIPI,
 * LVT, LINT0 ExtINT from the i8259, timer one-shot/periodic/TSC-deadline. */
#include <string.h>
#include <glib.h>
#include "hw/intc/apic.h"
#include "target/i386/cpu.h"
#include "util/bql.h"
#include "util/log.h"

#define APIC_VERSION (0x14 | ((APIC_LVT_NB - 1) << 16))
#define LVT_MASKED (1u << 16)
#define LVT_LEVEL (1u << 15)
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)
enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };
#define SVR_ENABLE (1u << 8)
/* The shortest periodic timer period honoured, so a guest cannot flood the main loop. */
#define APIC_MIN_PERIOD_NS 10000

static __thread CPUState *apic_current;

void apic_set_current_cpu(CPUState *cpu)
{
    apic_current = cpu;
}

static bool bit_test(const uint32_t *map, unsigned v)
{
    return map[v >> 5] & (1u << (v & 31));
}

static void bit_set(uint32_t *map, unsigned v)
{
    map[v >> 5] |= 1u << (v & 31);
}

static void bit_clear(uint32_t *map, unsigned v)
{
    map[v >> 5] &= ~(1u << (v & 31));
}

/* Highest set bit of a 256-bit map, or -1. */
static int bit_highest(const uint32_t *map)
{
    for (int i = 7; i >= 0; i--) {
        if (map[i]) {
            return i * 32 + 31 - __builtin_clz(map[i]);
        }
    }
    return -1;
}

static bool apic_hw_enabled(const ApicState *s)
{
    return x86_env(s->cpu)->apic_base & MSR_APICBASE_ENABLE;
}

static uint32_t apic_ppr(const ApicState *s)
{
    int isrv = bit_highest(s->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (s->tpr & 0xf0) >= isr_class ? s->tpr & 0xff : isr_class;
}

/* The vector the APIC would deliver now, or -1. */
static int apic_deliverable(const ApicState *s)
{
    int v = bit_highest(s->irr);
    if (v < 0 || ((uint32_t)v & 0xf0) <= (apic_ppr(s) & 0xf0)) {
        return -1;
    }
    return v;
}

/* The PIC's INTR reaches this CPU: LINT0 unmasked in ExtINT mode, or the APIC disabled. */
static bool apic_extint_pending(const ApicState *s)
{
    if (!s->lint0_level) {
        return false;
    }
    uint32_t lvt = s->lvt[APIC_LVT_LINT0];
    return !apic_hw_enabled(s) ||
           (!(lvt & LVT_MASKED) && ((lvt >> 8) & 7) == APIC_DM_EXTINT);
}

/* Recomputes the pending flag and kicks the vCPU when something waits for it. */
static void apic_update(ApicState *s)
{
    bool p = s->nmi || s->init || s->sipi || apic_extint_pending(s) ||
             apic_deliverable(s) >= 0;
    __atomic_store_n(&s->pending, p, __ATOMIC_RELEASE);
    if (p) {
        cpu_kick(s->cpu);
    }
}

static void apic_set_irq(ApicState *s, uint8_t vector, bool level)
{
    if (vector < 16) {
        s->esr |= 1u << 6;                  /* received illegal vector */
        return;
    }
    bit_set(s->irr, vector);
    if (level) {
        bit_set(s->tmr, vector);
    } else {
        bit_clear(s->tmr, vector);
    }
    apic_update(s);
}

static void apic_reset_regs(ApicState *s)
{
    s->tpr = s->ldr = s->esr = s->icr_lo = s->icr_hi = 0;
    s->dfr = 0xffffffff;
    s->svr = 0xff;
    for (int i = 0; i < APIC_LVT_NB; i++) {
        s->lvt[i] = LVT_MASKED;
    }
    memset(s->irr, 0, sizeof(s->irr));
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    s->divide_conf = s->initial_count = 0;
    s->tsc_deadline = 0;
    s->nmi = s->init = s->sipi = false;
    if (s->timer) {
        timer_del(s->timer);
    }
}

/* Accepts one interrupt message addressed to this LAPIC. */
static void apic_accept(ApicState *s, unsigned mode, uint8_t vector, bool level)
{
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        apic_set_irq(s, vector, level);
        break;
    case APIC_DM_NMI:
        s->nmi = true;
        apic_update(s);
        break;
    case APIC_DM_INIT:
        apic_reset_regs(s);
        s->init = true;
        apic_update(s);
        break;
    case APIC_DM_SIPI:
        s->sipi = true;
        s->sipi_vector = vector;
        apic_update(s);
        break;
    default:
        log_mask_printf(LOG_UNIMP, "apic: delivery mode %u ignored\n", mode);
        break;
    }
}

static bool apic_match(const ApicState *s, uint8_t dest, bool logical)
{
    if (!logical) {
        return dest == 0xff || dest == s->id;
    }
    if (dest == 0xff) {
        return true;
    }
    uint8_t ldr = s->ldr >> 24;
    if ((s->dfr >> 28) == 0xf) {
        return (ldr & dest) != 0;                                  /* flat model */
    }
    return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf) != 0;   /* cluster model */
}

void apic_bus_deliver(ApicBus *bus, uint8_t dest, bool logical, unsigned mode, uint8_t vector,
                      bool level)
{
    for (unsigned i = 0; i < bus->n; i++) {
        ApicState *s = bus->apics[i];
        if (apic_match(s, dest, logical)) {
            apic_accept(s, mode, vector, level);
            if (mode == APIC_DM_LOWEST) {
                break;                      /* one recipient: the first that matches */
            }
        }
    }
}

void apic_bus_msi(ApicBus *bus, uint64_t addr, uint32_t data)
{
    if ((addr & 0xfff00000) != 0xfee00000) {
        log_mask_printf(LOG_GUEST_ERROR, "apic: MSI to 0x%" G_GINT64_MODIFIER "x dropped\n",
                        addr);
        return;
    }
    apic_bus_deliver(bus, (addr >> 12) & 0xff, addr & 4, (data >> 8) & 7, data & 0xff,
                     data & (1u << 15));
}

void apic_bus_set_extint(ApicBus *bus, int level)
{
    for (unsigned i = 0; i < bus->n; i++) {
        bus->apics[i]->lint0_level = level;
        apic_update(bus->apics[i]);
    }
}

/* ---- timer ---- */

static unsigned apic_divisor(const ApicState *s)
{
    unsigned v = (s->divide_conf & 3) | ((s->divide_conf >> 1) & 4);
    return v == 7 ? 1 : 2u << v;
}

static int64_t apic_period_ns(const ApicState *s)
{
    return (int64_t)s->initial_count * apic_divisor(s) * (int64_t)(1000000000ull / APIC_BUS_HZ);
}

static uint32_t apic_current_count(const ApicState *s)
{
    if (!s->initial_count || LVT_TIMER_MODE(s->lvt[APIC_LVT_TIMER]) == TIMER_TSC_DEADLINE) {
        return 0;
    }
    uint64_t ticks = (uint64_t)(clock_ns() - s->count_start_ns) /
                     ((1000000000ull / APIC_BUS_HZ) * apic_divisor(s));
    if (LVT_TIMER_MODE(s->lvt[APIC_LVT_TIMER]) == TIMER_PERIODIC) {
        return s->initial_count - (uint32_t)(ticks % s->initial_count);
    }
    return ticks >= s->initial_count ? 0 : s->initial_count - (uint32_t)ticks;
}

/* Arms the host timer for the next expiry of the count (one-shot or periodic). */
static void apic_timer_arm(ApicState *s)
{
    unsigned mode = LVT_TIMER_MODE(s->lvt[APIC_LVT_TIMER]);
    if (mode == TIMER_TSC_DEADLINE) {
        return;
    }
    if (!s->initial_count) {
        timer_del(s->timer);
        return;
    }
    int64_t period = apic_period_ns(s);
    int64_t expire = s->count_start_ns + period;
    if (mode == TIMER_PERIODIC) {
        period = MAX(period, APIC_MIN_PERIOD_NS);
        int64_t now = clock_ns();
        if (expire <= now) {
            expire += ((now - expire) / period + 1) * period;
        }
    }
    timer_mod(s->timer, expire);
}

static void apic_timer_fire(void *opaque)
{
    ApicState *s = opaque;
    uint32_t lvt = s->lvt[APIC_LVT_TIMER];
    if (!(lvt & LVT_MASKED)) {
        apic_set_irq(s, lvt & 0xff, false);
    }
    switch (LVT_TIMER_MODE(lvt)) {
    case TIMER_PERIODIC:
        apic_timer_arm(s);
        break;
    case TIMER_TSC_DEADLINE:
        s->tsc_deadline = 0;
        break;
    default:
        break;
    }
}

void apic_set_tsc_deadline(ApicState *s, uint64_t value, int64_t expire_ns)
{
    if (LVT_TIMER_MODE(s->lvt[APIC_LVT_TIMER]) != TIMER_TSC_DEADLINE) {
        return;
    }
    s->tsc_deadline = value;
    if (!value) {
        timer_del(s->timer);
    } else {
        timer_mod(s->timer, expire_ns);
    }
}

uint64_t apic_get_tsc_deadline(ApicState *s)
{
    return LVT_TIMER_MODE(s->lvt[APIC_LVT_TIMER]) == TIMER_TSC_DEADLINE ? s->tsc_deadline : 0;
}

/* ---- vCPU side ---- */

int apic_ack_interrupt(ApicState *s, bool can_intr, bool *nmi)
{
    *nmi = false;
    if (!__atomic_load_n(&s->pending, __ATOMIC_ACQUIRE)) {
        return -1;
    }
    int vec = -1;
    bql_lock();
    if (s->nmi) {
        s->nmi = false;
        *nmi = true;
    } else if (can_intr && apic_extint_pending(s) && s->bus->extint_ack) {
        vec = s->bus->extint_ack(s->bus->extint_opaque);
    } else if (can_intr && (vec = apic_deliverable(s)) >= 0) {
        bit_clear(s->irr, vec);
        bit_set(s->isr, vec);
    }
    bool p = s->nmi || s->init || s->sipi || apic_extint_pending(s) ||
             apic_deliverable(s) >= 0;
    __atomic_store_n(&s->pending, p, __ATOMIC_RELEASE);
    bql_unlock();
    return vec;
}

bool apic_has_work(ApicState *s, bool can_intr)
{
    return s->nmi || s->init || s->sipi ||
           (can_intr && (apic_extint_pending(s) || apic_deliverable(s) >= 0));
}

void apic_take_startup(ApicState *s, bool *init, bool *sipi, uint8_t *vector)
{
    *init = s->init;
    *sipi = s->sipi;
    *vector = s->sipi_vector;
    s->init = s->sipi = false;
}

void apic_set_cr8(ApicState *s, uint64_t cr8)
{
    s->tpr = (uint32_t)(cr8 & 0xf) << 4;
    apic_update(s);
}

/* ---- registers ---- */

static void apic_eoi(ApicState *s)
{
    int v = bit_highest(s->isr);
    if (v < 0) {
        return;
    }
    bit_clear(s->isr, v);
    if (bit_test(s->tmr, v) && s->bus->eoi) {
        s->bus->eoi(s->bus->eoi_opaque, (uint8_t)v);
    }
    apic_update(s);
}

/* Sends the IPI the ICR describes. */
static void apic_send_ipi(ApicState *s)
{
    uint32_t lo = s->icr_lo;
    unsigned mode = (lo >> 8) & 7;
    uint8_t vector = lo & 0xff;
    bool level_trig = lo & (1u << 15);
    if (mode == APIC_DM_INIT && level_trig && !(lo & (1u << 14))) {
        return;                              /* INIT level de-assert: no effect on xAPIC */
    }
    switch ((lo >> 18) & 3) {
    case 0:
        apic_bus_deliver(s->bus, s->icr_hi >> 24, lo & (1u << 11), mode, vector, false);
        break;
    case 1:
        apic_accept(s, mode, vector, false);
        break;
    default:
        for (unsigned i = 0; i < s->bus->n; i++) {
            ApicState *d = s->bus->apics[i];
            if (d != s || ((lo >> 18) & 3) == 2) {
                apic_accept(d, mode, vector, false);
            }
        }
        break;
    }
}

static uint32_t apic_reg_read(ApicState *s, unsigned reg)
{
    switch (reg) {
    case 0x02: return (uint32_t)s->id << 24;
    case 0x03: return APIC_VERSION;
    case 0x08: return s->tpr;
    case 0x09: return 0;                                     /* APR */
    case 0x0a: return apic_ppr(s);
    case 0x0d: return s->ldr;
    case 0x0e: return s->dfr;
    case 0x0f: return s->svr;
    case 0x10 ... 0x17: return s->isr[reg - 0x10];
    case 0x18 ... 0x1f: return s->tmr[reg - 0x18];
    case 0x20 ... 0x27: return s->irr[reg - 0x20];
    case 0x28: return s->esr;
    case 0x30: return s->icr_lo & ~(1u << 12);               /* delivery status: idle */
    case 0x31: return s->icr_hi;
    case 0x32 ... 0x37: return s->lvt[reg - 0x32];
    case 0x38: return s->initial_count;
    case 0x39: return apic_current_count(s);
    case 0x3e: return s->divide_conf;
    default: return 0;
    }
}

static void apic_reg_write(ApicState *s, unsigned reg, uint32_t val)
{
    static const uint32_t lvt_mask[APIC_LVT_NB] = {
        0x700ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff,
    };
    switch (reg) {
    case 0x02:
        s->id = val >> 24;
        break;
    case 0x08:
        s->tpr = val & 0xff;
        x86_env(s->cpu)->cr8 = s->tpr >> 4;
        apic_update(s);
        break;
    case 0x0b:
        apic_eoi(s);
        break;
    case 0x0d:
        s->ldr = val & 0xff000000;
        break;
    case 0x0e:
        s->dfr = val | 0x0fffffff;
        break;
    case 0x0f:
        s->svr = val & 0x1ff;
        if (!(s->svr & SVR_ENABLE)) {
            for (int i = 0; i < APIC_LVT_NB; i++) {
                s->lvt[i] |= LVT_MASKED;
            }
        }
        apic_update(s);
        break;
    case 0x28:
        s->esr = 0;
        break;
    case 0x30:
        s->icr_lo = val & 0xfffff;
        apic_send_ipi(s);
        break;
    case 0x31:
        s->icr_hi = val & 0xff000000;
        break;
    case 0x32 ... 0x37: {
        unsigned i = reg - 0x32;
        uint32_t old = s->lvt[i];
        s->lvt[i] = val & lvt_mask[i];
        if (!(s->svr & SVR_ENABLE)) {
            s->lvt[i] |= LVT_MASKED;
        }
        if (i == APIC_LVT_TIMER && LVT_TIMER_MODE(old) != LVT_TIMER_MODE(s->lvt[i])) {
            timer_del(s->timer);
            s->tsc_deadline = 0;
            s->initial_count = 0;
        }
        apic_update(s);
        break;
    }
    case 0x38:
        if (LVT_TIMER_MODE(s->lvt[APIC_LVT_TIMER]) == TIMER_TSC_DEADLINE) {
            break;
        }
        s->initial_count = val;
        s->count_start_ns = clock_ns();
        apic_timer_arm(s);
        break;
    case 0x3e:
        s->divide_conf = val & 0xb;
        break;
    default:
        log_mask_printf(LOG_GUEST_ERROR, "apic: write to read-only register 0x%x\n", reg << 4);
        break;
    }
}

static ApicState *apic_current_state(ApicBus *bus)
{
    if (!apic_current) {
        return NULL;
    }
    return x86_cpu(apic_current)->apic;
}

static uint64_t apic_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    ApicState *s = apic_current_state(opaque);
    if (!s || (addr & 0xf)) {
        return 0;
    }
    return apic_reg_read(s, addr >> 4);
}

static void apic_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    ApicState *s = apic_current_state(opaque);
    if (!s || (addr & 0xf)) {
        return;
    }
    apic_reg_write(s, addr >> 4, (uint32_t)val);
}

static const MemoryRegionOps apic_mmio_ops = {
    .read = apic_mmio_read,
    .write = apic_mmio_write,
    .min_access_size = 4,
    .max_access_size = 4,
};

/* ---- object ---- */

static void apic_obj_reset(Object *obj)
{
    ApicState *s = (ApicState *)obj;
    apic_reset_regs(s);
    s->id = s->cpu ? (uint8_t)s->cpu->index : 0;
    s->lint0_level = false;
    __atomic_store_n(&s->pending, 0, __ATOMIC_RELEASE);
}

static void apic_obj_finalize(Object *obj)
{
    ApicState *s = (ApicState *)obj;
    if (s->timer) {
        timer_free(s->timer);
    }
}

const ObjectClass apic_class = {
    .name = "apic",
    .instance_size = sizeof(ApicState),
    .desc = "local APIC (userspace, for the interpreter)",
    .reset = apic_obj_reset,
    .finalize = apic_obj_finalize,
};
OBJECT_CLASS_REGISTER(apic_class)

ApicBus *apic_bus_new(Object *parent, CPUState **cpus, unsigned ncpus, Error **errp)
{
    ApicBus *bus = g_new0(ApicBus, 1);
    bus->apics = g_new0(ApicState *, ncpus);
    memory_region_init_io(&bus->mmio, "apic", &apic_mmio_ops, bus, APIC_MMIO_SIZE);
    for (unsigned i = 0; i < ncpus; i++) {
        ApicState *s = (ApicState *)object_new(&apic_class);
        s->bus = bus;
        s->cpu = cpus[i];
        s->timer = timer_new(apic_timer_fire, s);
        apic_obj_reset(OBJECT(s));
        char name[24];
        g_snprintf(name, sizeof(name), "lapic[%u]", i);
        bool ok = object_add_child(parent, name, OBJECT(s), errp);
        object_unref(OBJECT(s));
        if (!ok || !object_realize(OBJECT(s), errp)) {
            return NULL;
        }
        x86_cpu(cpus[i])->apic = s;
        bus->apics[bus->n++] = s;
    }
    return bus;
}
