/* CLINT (ACLINT MSWI + MTIMER): per-hart software interrupts and machine timers. */
#include <glib.h>
#include "hw/intc/riscv_aclint.h"
#include "util/log.h"

static uint64_t aclint_ns_to_ticks(const RiscvAclint *s, int64_t ns)
{
    return (uint64_t)((unsigned __int128)(uint64_t)ns * s->timebase_freq / 1000000000u);
}

uint64_t riscv_aclint_get_time(void *opaque)
{
    RiscvAclint *s = opaque;
    int64_t delta = __atomic_load_n(&s->mtime_delta, __ATOMIC_RELAXED);
    return aclint_ns_to_ticks(s, clock_ns()) + (uint64_t)delta;
}

/* Raises MTIP when mtime has reached mtimecmp; otherwise lowers it and arms the timer. */
static void aclint_update_timer(RiscvAclintHart *h)
{
    RiscvAclint *s = h->clint;
    uint64_t now = riscv_aclint_get_time(s);
    uint64_t cmp = h->mtimecmp;
    if (now >= cmp) {
        timer_del(h->timer);
        irq_set(h->mtip_irq, 1);
        return;
    }
    irq_set(h->mtip_irq, 0);
    uint64_t ticks = cmp - now;
    /* Far deadlines are capped; the callback re-checks and re-arms. */
    uint64_t max_ticks = aclint_ns_to_ticks(s, INT64_C(1) << 40);
    if (ticks > max_ticks) {
        ticks = max_ticks;
    }
    int64_t ns = (int64_t)(((unsigned __int128)ticks * 1000000000u + s->timebase_freq - 1) /
                           s->timebase_freq);
    timer_mod(h->timer, clock_ns() + ns);
}

static void aclint_timer_cb(void *opaque)
{
    aclint_update_timer(opaque);
}

static uint64_t aclint_read(void *opaque, uint64_t addr, unsigned size)
{
    RiscvAclint *s = opaque;
    uint64_t val;
    if (addr < 4ULL * s->num_harts) {
        return s->harts[addr >> 2].msip;
    }
    if (addr >= RISCV_ACLINT_MTIMECMP_BASE &&
        addr < RISCV_ACLINT_MTIMECMP_BASE + 8ULL * s->num_harts) {
        val = s->harts[(addr - RISCV_ACLINT_MTIMECMP_BASE) >> 3].mtimecmp;
    } else if (addr >= RISCV_ACLINT_MTIME && addr < RISCV_ACLINT_MTIME + 8) {
        val = riscv_aclint_get_time(s);
    } else {
        log_mask_printf(LOG_GUEST_ERROR, "clint: read of offset 0x%llx\n",
                        (unsigned long long)addr);
        return 0;
    }
    if (size == 4) {
        return (addr & 4) ? val >> 32 : (uint32_t)val;
    }
    return val;
}

/* Merges a 4- or 8-byte write at addr into the 64-bit register old. */
static uint64_t aclint_merge(uint64_t old, uint64_t addr, uint64_t val, unsigned size)
{
    if (size == 8) {
        return val;
    }
    if (addr & 4) {
        return (old & 0xffffffffULL) | (uint64_t)(uint32_t)val << 32;
    }
    return (old & ~0xffffffffULL) | (uint32_t)val;
}

static void aclint_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    RiscvAclint *s = opaque;
    if (addr < 4ULL * s->num_harts) {
        RiscvAclintHart *h = &s->harts[addr >> 2];
        h->msip = val & 1;
        irq_set(h->msip_irq, h->msip);
    } else if (addr >= RISCV_ACLINT_MTIMECMP_BASE &&
               addr < RISCV_ACLINT_MTIMECMP_BASE + 8ULL * s->num_harts) {
        RiscvAclintHart *h = &s->harts[(addr - RISCV_ACLINT_MTIMECMP_BASE) >> 3];
        h->mtimecmp = aclint_merge(h->mtimecmp, addr, val, size);
        aclint_update_timer(h);
    } else if (addr >= RISCV_ACLINT_MTIME && addr < RISCV_ACLINT_MTIME + 8) {
        uint64_t ticks = aclint_ns_to_ticks(s, clock_ns());
        uint64_t mtime = aclint_merge(ticks + (uint64_t)s->mtime_delta, addr, val, size);
        __atomic_store_n(&s->mtime_delta, (int64_t)(mtime - ticks), __ATOMIC_RELAXED);
        for (unsigned i = 0; i < s->num_harts; i++) {
            aclint_update_timer(&s->harts[i]);
        }
    } else {
        log_mask_printf(LOG_GUEST_ERROR, "clint: write to offset 0x%llx ignored\n",
                        (unsigned long long)addr);
    }
}

static const MemoryRegionOps aclint_ops = {
    .read = aclint_read,
    .write = aclint_write,
    .min_access_size = 4,
    .max_access_size = 8,
};

void riscv_aclint_connect(RiscvAclint *s, unsigned hart, IrqLine *msip, IrqLine *mtip)
{
    s->harts[hart].msip_irq = msip;
    s->harts[hart].mtip_irq = mtip;
}

static void aclint_init(Object *obj)
{
    RiscvAclint *s = OBJECT_CHECK(RiscvAclint, obj);
    memory_region_init_io(&s->mmio, "riscv.aclint", &aclint_ops, s, RISCV_ACLINT_SIZE);
}

/* Power-on state: mtime 0, no software interrupts, mtimecmp all ones (no timer pending). */
static void aclint_reset(Object *obj)
{
    RiscvAclint *s = OBJECT_CHECK(RiscvAclint, obj);
    __atomic_store_n(&s->mtime_delta, -(int64_t)aclint_ns_to_ticks(s, clock_ns()),
                     __ATOMIC_RELAXED);
    for (unsigned i = 0; i < s->num_harts; i++) {
        RiscvAclintHart *h = &s->harts[i];
        h->msip = 0;
        irq_set(h->msip_irq, 0);
        h->mtimecmp = UINT64_MAX;
        aclint_update_timer(h);
    }
}

static bool aclint_realize(Object *obj, Error **errp)
{
    RiscvAclint *s = OBJECT_CHECK(RiscvAclint, obj);
    if (s->num_harts == 0 || s->num_harts > 4095) {
        error_setg(errp, "clint: num-harts must be 1..4095, not %u", s->num_harts);
        return false;
    }
    if (s->timebase_freq == 0 || s->timebase_freq > 1000000000u) {
        error_setg(errp, "clint: timebase-freq must be 1..1000000000 Hz");
        return false;
    }
    s->harts = g_new0(RiscvAclintHart, s->num_harts);
    for (unsigned i = 0; i < s->num_harts; i++) {
        s->harts[i].clint = s;
        s->harts[i].timer = timer_new(aclint_timer_cb, &s->harts[i]);
    }
    aclint_reset(obj);
    return true;
}

static void aclint_finalize(Object *obj)
{
    RiscvAclint *s = OBJECT_CHECK(RiscvAclint, obj);
    for (unsigned i = 0; s->harts && i < s->num_harts; i++) {
        timer_free(s->harts[i].timer);
    }
    g_free(s->harts);
}

static const Property aclint_props[] = {
    DEFINE_PROP_UINT32("num-harts", RiscvAclint, num_harts, 1),
    DEFINE_PROP_UINT64("timebase-freq", RiscvAclint, timebase_freq, 10000000),
    DEFINE_PROP_END,
};

const ObjectClass riscv_aclint_class = {
    .name = "riscv.aclint",
    .instance_size = sizeof(RiscvAclint),
    .props = aclint_props,
    .desc = "RISC-V CLINT (ACLINT MSWI and MTIMER)",
    .init = aclint_init,
    .realize = aclint_realize,
    .reset = aclint_reset,
    .finalize = aclint_finalize,
};
OBJECT_CLASS_REGISTER(riscv_aclint_class);
