/* SiFive PLIC: priorities, thresholds, enables, claim/complete, level gateways. */
#include <glib.h>
#include "hw/intc/sifive_plic.h"

typedef struct Outputs {
    int level[4];
} Outputs;

static void out_handler(void *opaque, int n, int level)
{
    Outputs *o = opaque;
    o->level[n] = level;
}

typedef struct Fixture {
    SifivePlic *plic;
    IrqLine *lines;
    Outputs out;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->plic = OBJECT_CHECK(SifivePlic, object_new(&sifive_plic_class));
    g_assert_true(object_property_set_str(OBJECT(f->plic), "num-contexts", "4", NULL));
    g_assert_true(object_realize(OBJECT(f->plic), NULL));
    f->lines = irq_lines_new(out_handler, &f->out, 4);
    for (unsigned c = 0; c < 4; c++) {
        sifive_plic_connect(f->plic, c, &f->lines[c]);
    }
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    object_unref(OBJECT(f->plic));
    g_free(f->lines);
}

static uint32_t rd(Fixture *f, uint64_t addr)
{
    return f->plic->mmio.ops->read(f->plic, addr, 4);
}

static void wr(Fixture *f, uint64_t addr, uint32_t val)
{
    f->plic->mmio.ops->write(f->plic, addr, val, 4);
}

static uint64_t enable_addr(unsigned ctx, unsigned id)
{
    return SIFIVE_PLIC_ENABLE_BASE + ctx * SIFIVE_PLIC_ENABLE_STRIDE + (id / 32) * 4;
}

static uint64_t threshold_addr(unsigned ctx)
{
    return SIFIVE_PLIC_CONTEXT_BASE + ctx * SIFIVE_PLIC_CONTEXT_STRIDE;
}

static uint64_t claim_addr(unsigned ctx)
{
    return threshold_addr(ctx) + 4;
}

static void enable(Fixture *f, unsigned ctx, unsigned id)
{
    wr(f, enable_addr(ctx, id), rd(f, enable_addr(ctx, id)) | 1u << (id % 32));
}

static void test_priority_threshold(Fixture *f, gconstpointer data)
{
    wr(f, 10 * 4, 3);
    enable(f, 1, 10);
    irq_raise(&f->plic->in[10]);
    g_assert_cmpuint(rd(f, SIFIVE_PLIC_PENDING_BASE) & (1u << 10), !=, 0);
    g_assert_cmpint(f->out.level[1], ==, 1);
    g_assert_cmpint(f->out.level[0], ==, 0);        /* not enabled for context 0 */

    wr(f, threshold_addr(1), 3);                    /* priority must exceed threshold */
    g_assert_cmpint(f->out.level[1], ==, 0);
    g_assert_cmpuint(rd(f, claim_addr(1)), ==, 0);
    wr(f, threshold_addr(1), 2);
    g_assert_cmpint(f->out.level[1], ==, 1);

    wr(f, 10 * 4, 0);                               /* priority 0 never interrupts */
    g_assert_cmpint(f->out.level[1], ==, 0);
    wr(f, 10 * 4, 0xff);                            /* WARL: 3 bits with 7 levels */
    g_assert_cmpuint(rd(f, 10 * 4), ==, 7);
    wr(f, threshold_addr(1), 9);
    g_assert_cmpuint(rd(f, threshold_addr(1)), ==, 1);
}

static void test_claim_order(Fixture *f, gconstpointer data)
{
    static const unsigned ids[] = { 5, 40, 33, 90 };
    static const unsigned prio[] = { 2, 6, 6, 1 };
    for (unsigned i = 0; i < 4; i++) {
        wr(f, ids[i] * 4, prio[i]);
        enable(f, 0, ids[i]);
        irq_raise(&f->plic->in[ids[i]]);
    }
    g_assert_cmpint(f->out.level[0], ==, 1);
    /* Highest priority first; the lower id wins a tie. */
    g_assert_cmpuint(rd(f, claim_addr(0)), ==, 33);
    g_assert_cmpuint(rd(f, claim_addr(0)), ==, 40);
    g_assert_cmpuint(rd(f, claim_addr(0)), ==, 5);
    g_assert_cmpuint(rd(f, claim_addr(0)), ==, 90);
    g_assert_cmpint(f->out.level[0], ==, 0);        /* everything claimed */
    g_assert_cmpuint(rd(f, claim_addr(0)), ==, 0);
    g_assert_cmpuint(rd(f, SIFIVE_PLIC_PENDING_BASE + 4) & (1u << (40 - 32)), ==, 0);
}

static void test_complete_level(Fixture *f, gconstpointer data)
{
    wr(f, 7 * 4, 1);
    enable(f, 2, 7);
    irq_raise(&f->plic->in[7]);
    g_assert_cmpuint(rd(f, claim_addr(2)), ==, 7);
    g_assert_cmpint(f->out.level[2], ==, 0);

    /* While claimed the source cannot be pending again. */
    irq_lower(&f->plic->in[7]);
    irq_raise(&f->plic->in[7]);
    g_assert_cmpint(f->out.level[2], ==, 0);

    /* Completion with the line still high makes it pending again. */
    wr(f, claim_addr(2), 7);
    g_assert_cmpint(f->out.level[2], ==, 1);
    g_assert_cmpuint(rd(f, claim_addr(2)), ==, 7);

    /* The device drops the line: completion leaves nothing pending. */
    irq_lower(&f->plic->in[7]);
    wr(f, claim_addr(2), 7);
    g_assert_cmpint(f->out.level[2], ==, 0);
    g_assert_cmpuint(rd(f, claim_addr(2)), ==, 0);

    /* A line lowered before the claim withdraws the request. */
    irq_raise(&f->plic->in[7]);
    g_assert_cmpint(f->out.level[2], ==, 1);
    irq_lower(&f->plic->in[7]);
    g_assert_cmpint(f->out.level[2], ==, 0);
}

static void test_complete_not_enabled(Fixture *f, gconstpointer data)
{
    wr(f, 3 * 4, 1);
    enable(f, 0, 3);
    irq_raise(&f->plic->in[3]);
    g_assert_cmpuint(rd(f, claim_addr(0)), ==, 3);
    /* Completing through a context the source is not enabled for is ignored. */
    wr(f, claim_addr(1), 3);
    g_assert_cmpint(f->out.level[0], ==, 0);
    wr(f, claim_addr(0), 3);
    g_assert_cmpint(f->out.level[0], ==, 1);
}

static void test_enable_bits(Fixture *f, gconstpointer data)
{
    wr(f, enable_addr(3, 0), 0xffffffff);
    g_assert_cmpuint(rd(f, enable_addr(3, 0)), ==, 0xfffffffe);   /* source 0 is absent */
    wr(f, enable_addr(3, 96), 0xffffffff);
    g_assert_cmpuint(rd(f, enable_addr(3, 96)), ==, 1);            /* only source 96 */
    g_assert_cmpuint(rd(f, enable_addr(2, 0)), ==, 0);
    /* The pending array is read-only. */
    wr(f, SIFIVE_PLIC_PENDING_BASE, 0xffffffff);
    g_assert_cmpuint(rd(f, SIFIVE_PLIC_PENDING_BASE), ==, 0);
}

static void test_reset(Fixture *f, gconstpointer data)
{
    wr(f, 4 * 4, 5);
    enable(f, 0, 4);
    irq_raise(&f->plic->in[4]);
    g_assert_cmpuint(rd(f, claim_addr(0)), ==, 4);
    object_reset_tree(OBJECT(f->plic));
    g_assert_cmpuint(rd(f, 4 * 4), ==, 0);
    g_assert_cmpuint(rd(f, enable_addr(0, 4)), ==, 0);
    /* The line is still high: after reset the source is pending, no longer claimed. */
    g_assert_cmpuint(rd(f, SIFIVE_PLIC_PENDING_BASE) & (1u << 4), !=, 0);
    g_assert_cmpint(f->out.level[0], ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/plic/priority-threshold", test_priority_threshold);
    ADD("/plic/claim-order", test_claim_order);
    ADD("/plic/complete-level", test_complete_level);
    ADD("/plic/complete-not-enabled", test_complete_not_enabled);
    ADD("/plic/enable-bits", test_enable_bits);
    ADD("/plic/reset", test_reset);
    return g_test_run();
}
