/* The pc board's e820 map: sorted, non-overlapping, usable RAM exactly where RAM is. */
#include <glib.h>
#include "hw/i386/pc.h"

static void check_map(uint64_t below, uint64_t above)
{
    E820Entry e[PC_E820_MAX];
    unsigned n = pc_e820_build(below, above, e);
    g_assert_cmpuint(n, >=, 3);
    g_assert_cmpuint(n, <=, PC_E820_MAX);
    uint64_t ram = 0;
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpuint(e[i].size, >, 0);
        if (i) {
            g_assert_cmpuint(e[i - 1].addr + e[i - 1].size, <=, e[i].addr);
        }
        if (e[i].type == E820_RAM) {
            ram += e[i].size;
            /* usable RAM lies inside the RAM the board maps */
            g_assert_true(e[i].addr + e[i].size <= below ||
                          (e[i].addr >= PC_HIGHMEM_BASE &&
                           e[i].addr + e[i].size <= PC_HIGHMEM_BASE + above));
        }
    }
    /* everything but the EBDA and the 0xa0000-0xfffff hole is usable */
    g_assert_cmpuint(ram, ==, below + above - (0x100000 - PC_EBDA_BASE));
    g_assert_cmpuint(e[0].addr, ==, 0);
    g_assert_cmpuint(e[0].size, ==, PC_EBDA_BASE);
}

static void test_small(void)
{
    check_map(128 << 20, 0);
}

static void test_split(void)
{
    check_map(PC_LOWMEM_MAX, 2ULL << 30);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pc/e820/small", test_small);
    g_test_add_func("/pc/e820/split", test_split);
    return g_test_run();
}
