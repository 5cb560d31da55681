/* CLINT: msip lines, mtime at 10 MHz, mtimecmp raising and lowering MTIP, 32-bit halves. */
#include <glib.h>
#include "hw/intc/riscv_aclint.h"

enum { HARTS = 2 };

typedef struct Fixture {
    RiscvAclint *clint;
    IrqLine *lines;             /* 2 per hart: msip, mtip */
    int level[2 * HARTS];
} Fixture;

static void irq_handler(void *opaque, int n, int level)
{
    Fixture *f = opaque;
    f->level[n] = level;
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->clint = OBJECT_CHECK(RiscvAclint, object_new(&riscv_aclint_class));
    g_assert_true(object_property_set_str(OBJECT(f->clint), "num-harts", "2", NULL));
    g_assert_true(object_realize(OBJECT(f->clint), NULL));
    f->lines = irq_lines_new(irq_handler, f, 2 * HARTS);
    for (unsigned h = 0; h < HARTS; h++) {
        riscv_aclint_connect(f->clint, h, &f->lines[2 * h], &f->lines[2 * h + 1]);
    }
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    object_unref(OBJECT(f->clint));
    g_free(f->lines);
}

static uint64_t rd(Fixture *f, uint64_t addr, unsigned size)
{
    return f->clint->mmio.ops->read(f->clint, addr, size);
}

static void wr(Fixture *f, uint64_t addr, uint64_t val, unsigned size)
{
    f->clint->mmio.ops->write(f->clint, addr, val, size);
}

static void test_msip(Fixture *f, gconstpointer data)
{
    wr(f, 4, 1, 4);
    g_assert_cmpint(f->level[2], ==, 1);
    g_assert_cmpint(f->level[0], ==, 0);
    g_assert_cmpuint(rd(f, 4, 4), ==, 1);
    wr(f, 4, 0xfffffffe, 4);                        /* only bit 0 exists */
    g_assert_cmpint(f->level[2], ==, 0);
    g_assert_cmpuint(rd(f, 4, 4), ==, 0);
}

static void test_mtime_rate(Fixture *f, gconstpointer data)
{
    int64_t t0 = clock_ns();
    uint64_t m0 = rd(f, RISCV_ACLINT_MTIME, 8);
    g_usleep(20000);
    uint64_t m1 = rd(f, RISCV_ACLINT_MTIME, 8);
    int64_t t1 = clock_ns();
    /* 10 MHz: one tick per 100 ns of host time (mtime starts near 0 after reset). */
    g_assert_cmpuint(m0, <, 10000000);
    g_assert_cmpuint(m1 - m0, <=, (uint64_t)(t1 - t0) / 100 + 1);
    g_assert_cmpuint(m1 - m0, >=, 20000000 / 100);
    g_assert_cmpuint(riscv_aclint_get_time(f->clint), >=, m1);

    /* mtime is writable, also by 32-bit halves. */
    wr(f, RISCV_ACLINT_MTIME + 4, 0x12, 4);
    g_assert_cmpuint(rd(f, RISCV_ACLINT_MTIME + 4, 4), ==, 0x12);
    wr(f, RISCV_ACLINT_MTIME, 1ULL << 40, 8);
    g_assert_cmpuint(rd(f, RISCV_ACLINT_MTIME, 8) >> 40, ==, 1);
}

static void test_mtimecmp(Fixture *f, gconstpointer data)
{
    uint64_t cmp1 = RISCV_ACLINT_MTIMECMP_BASE + 8;
    g_assert_cmpuint(rd(f, cmp1, 8), ==, UINT64_MAX);
    g_assert_cmpint(f->level[3], ==, 0);

    /* A deadline in the past raises MTIP at once; a far one lowers it. */
    wr(f, cmp1, 0, 8);
    g_assert_cmpint(f->level[3], ==, 1);
    g_assert_cmpint(f->level[1], ==, 0);
    wr(f, cmp1, UINT64_MAX, 8);
    g_assert_cmpint(f->level[3], ==, 0);

    /* 32-bit halves of mtimecmp. */
    wr(f, cmp1 + 4, 0, 4);
    g_assert_cmphex(rd(f, cmp1, 8), ==, 0xffffffffULL);
    wr(f, cmp1, 0xffffffff, 4);

    /* 2 ms ahead: not yet pending, pending once the timer ran. */
    uint64_t now = rd(f, RISCV_ACLINT_MTIME, 8);
    wr(f, cmp1, now + 20000, 8);
    g_assert_cmpint(f->level[3], ==, 0);
    int64_t deadline = clock_ns() + 2000000000;
    while (!f->level[3] && clock_ns() < deadline) {
        g_usleep(200);
        timers_run_expired();
    }
    g_assert_cmpint(f->level[3], ==, 1);
    g_assert_cmpuint(rd(f, RISCV_ACLINT_MTIME, 8), >=, now + 20000);

    /* Moving mtime back below mtimecmp lowers MTIP. */
    wr(f, RISCV_ACLINT_MTIME, 0, 8);
    g_assert_cmpint(f->level[3], ==, 0);
}

static void test_reset(Fixture *f, gconstpointer data)
{
    wr(f, 0, 1, 4);
    wr(f, RISCV_ACLINT_MTIMECMP_BASE, 0, 8);
    g_assert_cmpint(f->level[0], ==, 1);
    g_assert_cmpint(f->level[1], ==, 1);
    wr(f, RISCV_ACLINT_MTIME, 1ULL << 50, 8);
    object_reset_tree(OBJECT(f->clint));
    g_assert_cmpint(f->level[0], ==, 0);
    g_assert_cmpint(f->level[1], ==, 0);
    g_assert_cmpuint(rd(f, RISCV_ACLINT_MTIME, 8), <, 10000000);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/clint/msip", test_msip);
    ADD("/clint/mtime-rate", test_mtime_rate);
    ADD("/clint/mtimecmp", test_mtimecmp);
    ADD("/clint/reset", test_reset);
    return g_test_run();
}
