/* Memory view: flattening, priorities, aliases, dispatch, size adaptation, listeners. */
#include <string.h>
#include <glib.h>
#include "hw/core/memory.h"
#include "util/bql.h"

typedef struct Dev {
    uint64_t regs[4];
    unsigned last_size;
    unsigned reads, writes;
} Dev;

static uint64_t dev_read(void *opaque, uint64_t addr, unsigned size)
{
    Dev *d = opaque;
    d->reads++;
    d->last_size = size;
    g_assert(bql_locked());
    return d->regs[addr / 4] & 0xffffffff;
}

static void dev_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    Dev *d = opaque;
    d->writes++;
    d->last_size = size;
    d->regs[addr / 4] = val & 0xffffffff;
}

static const MemoryRegionOps dev_ops = {
    .read = dev_read, .write = dev_write, .min_access_size = 4, .max_access_size = 4,
};

static void test_flatten_priority(void)
{
    MemoryRegion root, ram, low, high;
    AddressSpace as;
    memory_region_init_container(&root, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&ram, "ram", 0x10000, NULL));
    g_assert_true(memory_region_init_ram(&low, "low", 0x1000, NULL));
    g_assert_true(memory_region_init_ram(&high, "high", 0x1000, NULL));
    memory_region_add_subregion(&root, 0x10000, &ram);
    memory_region_add_subregion_overlap(&root, 0x12000, &high, 1);
    memory_region_add_subregion_overlap(&root, 0x12800, &low, -1);
    address_space_init(&as, &root, "test");

    FlatView *v = address_space_get_view(&as);
    /* ram [0x10000,0x12000) high [0x12000,0x13000) ram [0x13000,0x20000); low is hidden. */
    g_assert_cmpuint(v->nr, ==, 3);
    g_assert_true(v->ranges[0].mr == &ram && v->ranges[0].start == 0x10000 &&
                  v->ranges[0].size == 0x2000);
    g_assert_true(v->ranges[1].mr == &high && v->ranges[1].size == 0x1000);
    g_assert_true(v->ranges[2].mr == &ram && v->ranges[2].offset == 0x3000);
    g_assert_null(flatview_lookup(v, 0xffff));
    g_assert_true(flatview_lookup(v, 0x12fff)->mr == &high);
    g_assert_true(flatview_lookup(v, 0x1ffff)->mr == &ram);
    g_assert_null(flatview_lookup(v, 0x20000));
    flatview_unref(v);

    /* Disabling the high-priority window uncovers RAM again (merged into one range). */
    memory_region_set_enabled(&high, false);
    v = address_space_get_view(&as);
    g_assert_cmpuint(v->nr, ==, 1);
    flatview_unref(v);

    /* Moving 'low' outside RAM makes it visible. */
    memory_region_set_address(&low, 0x30000);
    v = address_space_get_view(&as);
    g_assert_cmpuint(v->nr, ==, 2);
    g_assert_true(flatview_lookup(v, 0x30000)->mr == &low);
    flatview_unref(v);
    address_space_destroy(&as);
}

static void test_alias_and_rw(void)
{
    MemoryRegion root, ram, alias;
    AddressSpace as;
    memory_region_init_container(&root, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&ram, "ram", 0x4000, NULL));
    memory_region_init_alias(&alias, "alias", &ram, 0x1000, 0x1000);
    memory_region_add_subregion(&root, 0x80000000, &ram);
    memory_region_add_subregion(&root, 0x1000, &alias);
    address_space_init(&as, &root, "alias");

    uint32_t w = 0xdeadbeef;
    g_assert_cmpint(address_space_write(&as, 0x80001010, &w, 4), ==, MEMTX_OK);
    uint64_t v = 0;
    g_assert_cmpint(memory_dispatch_read(&as, 0x1010, &v, 4), ==, MEMTX_OK);
    g_assert_cmphex(v, ==, 0xdeadbeef);
    g_assert_true(address_space_ram_ptr(&as, 0x1000, 0x1000, true) == ram.ram + 0x1000);
    g_assert_null(address_space_ram_ptr(&as, 0x1800, 0x1000, true));
    g_assert_cmpint(memory_dispatch_read(&as, 0x5000, &v, 4), ==, MEMTX_DECODE_ERROR);
    g_assert_cmpint(address_space_read(&as, 0x80003ffe, &w, 4), ==, MEMTX_DECODE_ERROR);
    address_space_destroy(&as);
}

static void test_io_size_adaptation(void)
{
    MemoryRegion root, io;
    AddressSpace as;
    Dev d = { 0 };
    memory_region_init_container(&root, "root", UINT64_MAX);
    memory_region_init_io(&io, "dev", &dev_ops, &d, 0x10);
    memory_region_add_subregion(&root, 0x100, &io);
    address_space_init(&as, &root, "io");

    bql_lock();
    g_assert_cmpint(memory_dispatch_write(&as, 0x104, 0x11223344, 4), ==, MEMTX_OK);
    bql_unlock();
    g_assert_cmphex(d.regs[1], ==, 0x11223344);
    g_assert_cmpuint(d.last_size, ==, 4);

    /* A byte write is widened to a read-modify-write of the 4-byte register. */
    g_assert_cmpint(memory_dispatch_write(&as, 0x105, 0xaa, 1), ==, MEMTX_OK);
    g_assert_cmphex(d.regs[1], ==, 0x1122aa44);
    uint64_t v;
    g_assert_cmpint(memory_dispatch_read(&as, 0x106, &v, 2), ==, MEMTX_OK);
    g_assert_cmphex(v, ==, 0x1122);

    /* An 8-byte access is split into two 4-byte ones, little-endian. */
    d.regs[2] = 0x55667788;
    d.regs[3] = 0x99aabbcc;
    g_assert_cmpint(memory_dispatch_read(&as, 0x108, &v, 8), ==, MEMTX_OK);
    g_assert_cmphex(v, ==, 0x99aabbcc55667788ULL);
    g_assert_cmpuint(d.last_size, ==, 4);
    g_assert_false(bql_locked());
    address_space_destroy(&as);
}

typedef struct CountingListener {
    MemoryListener l;
    unsigned commits;
    unsigned last_nr;
} CountingListener;

static void counting_commit(MemoryListener *l, AddressSpace *as, const FlatView *old_view,
                            const FlatView *new_view)
{
    CountingListener *c = (CountingListener *)l;
    c->commits++;
    c->last_nr = new_view->nr;
}

static void test_listener_transaction(void)
{
    MemoryRegion root, a, b;
    AddressSpace as;
    CountingListener c = { .l = { .commit = counting_commit } };
    memory_region_init_container(&root, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&a, "a", 0x1000, NULL));
    g_assert_true(memory_region_init_ram(&b, "b", 0x1000, NULL));
    address_space_init(&as, &root, "listen");
    address_space_add_listener(&as, &c.l);
    g_assert_cmpuint(c.commits, ==, 1);

    memory_transaction_begin();
    memory_region_add_subregion(&root, 0x0, &a);
    memory_region_add_subregion(&root, 0x4000, &b);
    g_assert_cmpuint(c.commits, ==, 1);
    memory_transaction_commit();
    g_assert_cmpuint(c.commits, ==, 2);
    g_assert_cmpuint(c.last_nr, ==, 2);
    address_space_destroy(&as);
}

static void test_mtree(void)
{
    MemoryRegion root, ram;
    AddressSpace as;
    memory_region_init_container(&root, "mtree-root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&ram, "mtree-ram", 0x1000, NULL));
    memory_region_add_subregion(&root, 0x80000000, &ram);
    address_space_init(&as, &root, "mtree");
    GString *s = g_string_new("");
    memory_print_mtree(s);
    g_assert_nonnull(strstr(s->str, "0000000080000000-0000000080000fff (prio 0, ram): mtree-ram"));
    g_string_free(s, true);
    address_space_destroy(&as);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory/flatten-priority", test_flatten_priority);
    g_test_add_func("/memory/alias-and-rw", test_alias_and_rw);
    g_test_add_func("/memory/io-size-adaptation", test_io_size_adaptation);
    g_test_add_func("/memory/listener-transaction", test_listener_transaction);
    g_test_add_func("/memory/mtree", test_mtree);
    return g_test_run();
}
