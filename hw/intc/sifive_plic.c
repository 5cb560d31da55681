/* SiFive platform-level interrupt controller: gateways, priorities, per-context enables,
 * thresholds and claim/complete. */
#include <glib.h>
#include "hw/intc/sifive_plic.h"
#include "util/log.h"

static bool plic_bit(const uint32_t *map, unsigned id)
{
    return (map[id / 32] >> (id % 32)) & 1;
}

static void plic_set_bit(uint32_t *map, unsigned id, bool on)
{
    if (on) {
        map[id / 32] |= 1u << (id % 32);
    } else {
        map[id / 32] &= ~(1u << (id % 32));
    }
}

static uint32_t *plic_enable(SifivePlic *s, unsigned ctx)
{
    return s->enable + (size_t)ctx * s->words;
}

/* The pending, enabled source of highest priority above ctx's threshold (lowest id wins
 * ties), or 0. */
static unsigned plic_best(SifivePlic *s, unsigned ctx)
{
    const uint32_t *en = plic_enable(s, ctx);
    uint32_t best_prio = s->threshold[ctx];
    unsigned best = 0;
    for (unsigned w = 0; w < s->words; w++) {
        uint32_t bits = s->pending[w] & en[w];
        while (bits) {
            unsigned id = w * 32 + __builtin_ctz(bits);
            bits &= bits - 1;
            if (s->priority[id] > best_prio) {
                best_prio = s->priority[id];
                best = id;
            }
        }
    }
    return best;
}

static void plic_update(SifivePlic *s)
{
    for (unsigned c = 0; c < s->num_contexts; c++) {
        irq_set(s->out[c], plic_best(s, c) != 0);
    }
}

/* Gateway of a level-triggered source: pending follows the line while not claimed. */
static void plic_set_irq(void *opaque, int id, int level)
{
    SifivePlic *s = opaque;
    if (id <= 0 || (unsigned)id > s->num_sources) {
        return;
    }
    plic_set_bit(s->level, id, level);
    if (!plic_bit(s->claimed, id)) {
        plic_set_bit(s->pending, id, level);
    }
    plic_update(s);
}

/* Priorities and thresholds are WARL: values beyond num-priorities are masked when the
 * levels fill a power of two, otherwise the write is ignored. */
static uint32_t plic_legal_priority(const SifivePlic *s, uint32_t old, uint32_t val)
{
    uint32_t max = s->num_priorities;
    if (((max + 1) & max) == 0) {
        return val & max;
    }
    return val <= max ? val : old;
}

static uint32_t plic_claim(SifivePlic *s, unsigned ctx)
{
    unsigned id = plic_best(s, ctx);
    if (id) {
        plic_set_bit(s->pending, id, false);
        plic_set_bit(s->claimed, id, true);
        plic_update(s);
    }
    return id;
}

static void plic_complete(SifivePlic *s, unsigned ctx, uint32_t id)
{
    if (id == 0 || id > s->num_sources || !plic_bit(plic_enable(s, ctx), id)) {
        log_mask_printf(LOG_GUEST_ERROR, "plic: completion of source %u (not enabled for "
                        "context %u) ignored\n", id, ctx);
        return;
    }
    plic_set_bit(s->claimed, id, false);
    if (plic_bit(s->level, id)) {
        plic_set_bit(s->pending, id, true);
    }
    plic_update(s);
}

static uint64_t plic_read(void *opaque, uint64_t addr, unsigned size)
{
    SifivePlic *s = opaque;
    if (addr < SIFIVE_PLIC_PENDING_BASE) {
        unsigned id = addr >> 2;
        return id <= s->num_sources ? s->priority[id] : 0;
    }
    if (addr < SIFIVE_PLIC_ENABLE_BASE) {
        unsigned w = (addr - SIFIVE_PLIC_PENDING_BASE) >> 2;
        return w < s->words ? s->pending[w] : 0;
    }
    if (addr < SIFIVE_PLIC_CONTEXT_BASE) {
        uint64_t off = addr - SIFIVE_PLIC_ENABLE_BASE;
        unsigned ctx = off / SIFIVE_PLIC_ENABLE_STRIDE;
        unsigned w = (off % SIFIVE_PLIC_ENABLE_STRIDE) >> 2;
        if (ctx < s->num_contexts && w < s->words) {
            return plic_enable(s, ctx)[w];
        }
        return 0;
    }
    uint64_t off = addr - SIFIVE_PLIC_CONTEXT_BASE;
    unsigned ctx = off / SIFIVE_PLIC_CONTEXT_STRIDE;
    if (ctx < s->num_contexts) {
        switch (off % SIFIVE_PLIC_CONTEXT_STRIDE) {
        case 0:
            return s->threshold[ctx];
        case 4:
            return plic_claim(s, ctx);
        }
    }
    log_mask_printf(LOG_GUEST_ERROR, "plic: read of offset 0x%llx\n", (unsigned long long)addr);
    return 0;
}

static void plic_write(void *opaque, uint64_t addr, uint64_t val64, unsigned size)
{
    SifivePlic *s = opaque;
    uint32_t val = val64;
    if (addr < SIFIVE_PLIC_PENDING_BASE) {
        unsigned id = addr >> 2;
        if (id >= 1 && id <= s->num_sources) {
            s->priority[id] = plic_legal_priority(s, s->priority[id], val);
            plic_update(s);
            return;
        }
    } else if (addr >= SIFIVE_PLIC_ENABLE_BASE && addr < SIFIVE_PLIC_CONTEXT_BASE) {
        uint64_t off = addr - SIFIVE_PLIC_ENABLE_BASE;
        unsigned ctx = off / SIFIVE_PLIC_ENABLE_STRIDE;
        unsigned w = (off % SIFIVE_PLIC_ENABLE_STRIDE) >> 2;
        if (ctx < s->num_contexts && w < s->words) {
            uint32_t valid = UINT32_MAX;
            if (w == 0) {
                valid &= ~1u;               /* source 0 does not exist */
            }
            if ((w + 1) * 32 > s->num_sources + 1) {
                valid &= (1u << ((s->num_sources + 1) % 32)) - 1;
            }
            plic_enable(s, ctx)[w] = val & valid;
            plic_update(s);
            return;
        }
    } else if (addr >= SIFIVE_PLIC_CONTEXT_BASE) {
        uint64_t off = addr - SIFIVE_PLIC_CONTEXT_BASE;
        unsigned ctx = off / SIFIVE_PLIC_CONTEXT_STRIDE;
        if (ctx < s->num_contexts) {
            switch (off % SIFIVE_PLIC_CONTEXT_STRIDE) {
            case 0:
                s->threshold[ctx] = plic_legal_priority(s, s->threshold[ctx], val);
                plic_update(s);
                return;
            case 4:
                plic_complete(s, ctx, val);
                return;
            }
        }
    }
    log_mask_printf(LOG_GUEST_ERROR, "plic: write 0x%x to offset 0x%llx ignored\n", val,
                    (unsigned long long)addr);
}

static const MemoryRegionOps plic_ops = {
    .read = plic_read,
    .write = plic_write,
    .min_access_size = 4,
    .max_access_size = 4,
};

void sifive_plic_connect(SifivePlic *s, unsigned ctx, IrqLine *line)
{
    s->out[ctx] = line;
}

static void plic_reset(Object *obj)
{
    SifivePlic *s = OBJECT_CHECK(SifivePlic, obj);
    memset(s->priority, 0, (s->num_sources + 1) * sizeof(uint32_t));
    memset(s->claimed, 0, s->words * sizeof(uint32_t));
    memset(s->enable, 0, (size_t)s->num_contexts * s->words * sizeof(uint32_t));
    memset(s->threshold, 0, s->num_contexts * sizeof(uint32_t));
    /* Line levels belong to the devices; pending bits follow them. */
    memcpy(s->pending, s->level, s->words * sizeof(uint32_t));
    plic_update(s);
}

static bool plic_realize(Object *obj, Error **errp)
{
    SifivePlic *s = OBJECT_CHECK(SifivePlic, obj);
    if (s->num_sources == 0 || s->num_sources > 1023) {
        error_setg(errp, "plic: num-sources must be 1..1023, not %u", s->num_sources);
        return false;
    }
    if (s->num_contexts == 0 || s->num_contexts > 15872) {
        error_setg(errp, "plic: num-contexts must be 1..15872, not %u", s->num_contexts);
        return false;
    }
    if (s->num_priorities == 0) {
        error_setg(errp, "plic: num-priorities must be at least 1");
        return false;
    }
    uint64_t need = SIFIVE_PLIC_CONTEXT_BASE + (uint64_t)s->num_contexts *
                    SIFIVE_PLIC_CONTEXT_STRIDE;
    if (s->aperture_size < need) {
        error_setg(errp, "plic: aperture-size 0x%llx cannot hold %u contexts (0x%llx needed)",
                   (unsigned long long)s->aperture_size, s->num_contexts,
                   (unsigned long long)need);
        return false;
    }
    s->words = (s->num_sources + 1 + 31) / 32;
    s->in = irq_lines_new(plic_set_irq, s, s->num_sources + 1);
    s->out = g_new0(IrqLine *, s->num_contexts);
    s->priority = g_new0(uint32_t, s->num_sources + 1);
    s->level = g_new0(uint32_t, s->words);
    s->pending = g_new0(uint32_t, s->words);
    s->claimed = g_new0(uint32_t, s->words);
    s->enable = g_new0(uint32_t, (size_t)s->num_contexts * s->words);
    s->threshold = g_new0(uint32_t, s->num_contexts);
    memory_region_init_io(&s->mmio, "riscv.sifive.plic", &plic_ops, s, s->aperture_size);
    plic_reset(obj);
    return true;
}

static void plic_finalize(Object *obj)
{
    SifivePlic *s = OBJECT_CHECK(SifivePlic, obj);
    g_free(s->in);
    g_free(s->out);
    g_free(s->priority);
    g_free(s->level);
    g_free(s->pending);
    g_free(s->claimed);
    g_free(s->enable);
    g_free(s->threshold);
}

static const Property plic_props[] = {
    DEFINE_PROP_UINT32("num-sources", SifivePlic, num_sources, 96),
    DEFINE_PROP_UINT32("num-contexts", SifivePlic, num_contexts, 2),
    DEFINE_PROP_UINT32("num-priorities", SifivePlic, num_priorities, 7),
    DEFINE_PROP_UINT64("aperture-size", SifivePlic, aperture_size, 0x600000),
    DEFINE_PROP_END,
};

const ObjectClass sifive_plic_class = {
    .name = "riscv.sifive.plic",
    .instance_size = sizeof(SifivePlic),
    .props = plic_props,
    .desc = "SiFive platform-level interrupt controller",
    .realize = plic_realize,
    .reset = plic_reset,
    .finalize = plic_finalize,
};
OBJECT_CLASS_REGISTER(sifive_plic_class);
