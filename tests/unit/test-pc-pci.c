/* PCI host bridge: config mechanism #1 and ECAM, BAR sizing and mapping through the memory
 * API, INTx onto the board's lines, MSI and MSI-X delivery, masking and pending bits. */
#include <string.h>
#include <glib.h>
#include "hw/pci/pci.h"
#include "hw/i386/ioport.h"
#include "hw/i386/pc.h"

typedef struct TestDev {
    PCIDevice pci;
    MemoryRegion regs, msix;
    uint32_t last_write;
} TestDev;

static uint64_t regs_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0x1234 + addr;
}

static void regs_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    ((TestDev *)opaque)->last_write = val;
}

static const MemoryRegionOps regs_ops = { .read = regs_read, .write = regs_write };

static bool testdev_realize(Object *obj, Error **errp)
{
    TestDev *t = (TestDev *)obj;
    memory_region_init_io(&t->regs, "testdev-regs", &regs_ops, t, 0x100);
    pci_register_bar(&t->pci, 0, PCI_BAR_IO, &t->regs);
    memory_region_init_container(&t->msix, "testdev-msix", 0x4000);
    msix_init(&t->pci, 4, 2, 0, 0x2000);
    memory_region_add_subregion(&t->msix, 0, &t->pci.msix_table_mr);
    memory_region_add_subregion(&t->msix, 0x2000, &t->pci.msix_pba_mr);
    pci_register_bar(&t->pci, 2, PCI_BAR_MEM64, &t->msix);
    t->pci.config[PCI_INTERRUPT_PIN] = 1;
    return true;
}

static const PCIDeviceClass testdev_class = {
    .oc = {
        .name = "pci-testdev",
        .parent = &pci_device_class.oc,
        .instance_size = sizeof(TestDev),
        .realize = testdev_realize,
    },
    .vendor_id = 0x1b36,
    .device_id = 0x0005,
    .class_code = 0x00ff00,
};

/* A function with only an MSI capability: 4 vectors, 64-bit, per-vector masking. */
static bool msidev_realize(Object *obj, Error **errp)
{
    msi_init(PCI_DEVICE(obj), 4, true, true);
    return true;
}

static const PCIDeviceClass msidev_class = {
    .oc = {
        .name = "pci-msidev",
        .parent = &pci_device_class.oc,
        .instance_size = sizeof(PCIDevice),
        .realize = msidev_realize,
    },
    .vendor_id = 0x1b36,
    .device_id = 0x0006,
    .class_code = 0x00ff00,
};

static int gsi_level[4];
static void intx_handler(void *opaque, int n, int level)
{
    gsi_level[n] = level;
}

static unsigned msi_count;
static uint64_t msi_addr;
static uint32_t msi_data;
static bool msi_hook(uint64_t addr, uint32_t data)
{
    msi_count++;
    msi_addr = addr;
    msi_data = data;
    return true;
}

static PCIBus *bus;
static TestDev *dev;

static uint32_t cfg_read(unsigned slot, unsigned reg, unsigned size)
{
    uint64_t v;
    g_assert_cmpint(memory_dispatch_write(&address_space_io, 0xcf8,
                                          0x80000000u | slot << 11 | (reg & 0xfc), 4), ==,
                    MEMTX_OK);
    g_assert_cmpint(memory_dispatch_read(&address_space_io, 0xcfc + (reg & 3), &v, size), ==,
                    MEMTX_OK);
    return v;
}

static void cfg_write(unsigned slot, unsigned reg, uint32_t val, unsigned size)
{
    memory_dispatch_write(&address_space_io, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc),
                          4);
    memory_dispatch_write(&address_space_io, 0xcfc + (reg & 3), val, size);
}

static void setup(void)
{
    if (bus) {
        return;
    }
    memory_system_init();
    ioport_space_init();
    IrqLine *intx = irq_lines_new(intx_handler, NULL, 4);
    Object *parent = object_new(&testdev_class.oc);     /* any object works as the parent */
    bus = pci_host_init(parent, system_memory, system_io, intx, PC_ECAM_BASE, PC_ECAM_SIZE,
                        NULL);
    g_assert_nonnull(bus);
    pci_msi_deliver = msi_hook;
    dev = (TestDev *)object_new(&testdev_class.oc);
    object_property_set_str(OBJECT(dev), "addr", "3", NULL);
    g_assert_true(pci_bus_plug_device(bus, PCI_DEVICE(dev), NULL));
}

static void test_enumerate(void)
{
    setup();
    g_assert_cmphex(cfg_read(0, PCI_VENDOR_ID, 4), ==, 0x29c08086);
    g_assert_cmphex(cfg_read(0, PCI_CLASS_DEVICE, 2), ==, 0x0600);
    g_assert_cmphex(cfg_read(1, PCI_VENDOR_ID, 4), ==, 0xffffffff);
    g_assert_cmphex(cfg_read(3, PCI_VENDOR_ID, 2), ==, 0x1b36);
    g_assert_cmphex(cfg_read(3, PCI_DEVICE_ID, 2), ==, 0x0005);
    g_assert_cmphex(cfg_read(3, PCI_VENDOR_ID + 1, 1), ==, 0x1b);
    /* ECAM sees the same space */
    uint64_t v;
    memory_dispatch_read(&address_space_memory, PC_ECAM_BASE + (3 << 15), &v, 4);
    g_assert_cmphex(v, ==, 0x00051b36);
    memory_dispatch_read(&address_space_memory, PC_ECAM_BASE + (1 << 20), &v, 4);
    g_assert_cmphex(v, ==, 0xffffffff);
    /* capability list: MSI-X */
    g_assert_true(cfg_read(3, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    unsigned cap = cfg_read(3, PCI_CAPABILITY_LIST, 1);
    g_assert_cmpuint(cfg_read(3, cap, 1), ==, PCI_CAP_ID_MSIX);
    g_assert_cmpuint(cfg_read(3, cap + 2, 2) & 0x7ff, ==, 3);
    /* a second device cannot take slot 3 */
    TestDev *other = (TestDev *)object_new(&testdev_class.oc);
    object_property_set_str(OBJECT(other), "addr", "3", NULL);
    Error *err = NULL;
    g_assert_false(pci_bus_plug_device(bus, PCI_DEVICE(other), &err));
    error_free(err);
    object_unref(OBJECT(other));
}

static void test_bars(void)
{
    setup();
    /* sizing */
    cfg_write(3, PCI_BAR0, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(3, PCI_BAR0, 4), ==, 0xffffff01);
    cfg_write(3, PCI_BAR0 + 8, 0xffffffff, 4);
    cfg_write(3, PCI_BAR0 + 12, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(3, PCI_BAR0 + 8, 4), ==, 0xffffc004);
    g_assert_cmphex(cfg_read(3, PCI_BAR0 + 12, 4), ==, 0xffffffff);
    /* program and enable decoding */
    cfg_write(3, PCI_BAR0, 0xc000, 4);
    cfg_write(3, PCI_BAR0 + 8, 0x00000000, 4);
    cfg_write(3, PCI_BAR0 + 12, 0x8, 4);            /* 0x8_0000_0000 */
    uint64_t v = 0;
    g_assert_cmpint(memory_dispatch_read(&address_space_io, 0xc010, &v, 4), ==,
                    MEMTX_DECODE_ERROR);
    cfg_write(3, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    g_assert_cmpint(memory_dispatch_read(&address_space_io, 0xc010, &v, 4), ==, MEMTX_OK);
    g_assert_cmphex(v, ==, 0x1244);
    memory_dispatch_write(&address_space_io, 0xc000, 77, 4);
    g_assert_cmpuint(dev->last_write, ==, 77);
    g_assert_cmpint(memory_dispatch_read(&address_space_memory, 0x800000000ull + 12, &v, 4),
                    ==, MEMTX_OK);
    g_assert_cmphex(v, ==, 1);                      /* vector 0 masked at reset */
    /* moving the BAR moves the region */
    cfg_write(3, PCI_BAR0, 0xd000, 4);
    g_assert_cmpint(memory_dispatch_read(&address_space_io, 0xc010, &v, 4), ==,
                    MEMTX_DECODE_ERROR);
    g_assert_cmpint(memory_dispatch_read(&address_space_io, 0xd010, &v, 4), ==, MEMTX_OK);
    /* disabling I/O decode unmaps it */
    cfg_write(3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_cmpint(memory_dispatch_read(&address_space_io, 0xd010, &v, 4), ==,
                    MEMTX_DECODE_ERROR);
}

static void test_intx(void)
{
    setup();
    /* slot 3, INTA: line (3 + 0) % 4 */
    pci_set_irq(PCI_DEVICE(dev), 1);
    g_assert_cmpint(gsi_level[3], ==, 1);
    cfg_write(3, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE, 2);
    g_assert_cmpint(gsi_level[3], ==, 0);
    cfg_write(3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_cmpint(gsi_level[3], ==, 1);
    pci_set_irq(PCI_DEVICE(dev), 0);
    g_assert_cmpint(gsi_level[3], ==, 0);
}

static void test_msix(void)
{
    setup();
    const uint64_t table = 0x900000000ull;
    cfg_write(3, PCI_BAR0 + 8, 0, 4);
    cfg_write(3, PCI_BAR0 + 12, 0x9, 4);
    cfg_write(3, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    unsigned cap = cfg_read(3, PCI_CAPABILITY_LIST, 1);
    /* vector 1: address/data, still masked */
    memory_dispatch_write(&address_space_memory, table + 16, 0xfee01000, 4);
    memory_dispatch_write(&address_space_memory, table + 20, 0, 4);
    memory_dispatch_write(&address_space_memory, table + 24, 0x41, 4);
    unsigned before = msi_count;
    msix_notify(PCI_DEVICE(dev), 1);                /* MSI-X disabled: nothing */
    g_assert_cmpuint(msi_count, ==, before);
    cfg_write(3, cap + 2, PCI_MSIX_ENABLE, 2);
    g_assert_true(msix_enabled(PCI_DEVICE(dev)));
    msix_notify(PCI_DEVICE(dev), 1);                /* masked: pending bit */
    g_assert_cmpuint(msi_count, ==, before);
    uint64_t pba;
    memory_dispatch_read(&address_space_memory, table + 0x2000, &pba, 4);
    g_assert_cmphex(pba, ==, 0x2);
    memory_dispatch_write(&address_space_memory, table + 28, 0, 4);   /* unmask: delivered */
    g_assert_cmpuint(msi_count, ==, before + 1);
    g_assert_cmphex(msi_addr, ==, 0xfee01000);
    g_assert_cmphex(msi_data, ==, 0x41);
    memory_dispatch_read(&address_space_memory, table + 0x2000, &pba, 4);
    g_assert_cmphex(pba, ==, 0);
    msix_notify(PCI_DEVICE(dev), 1);
    g_assert_cmpuint(msi_count, ==, before + 2);
    /* function mask holds it back */
    cfg_write(3, cap + 2, PCI_MSIX_ENABLE | PCI_MSIX_MASKALL, 2);
    msix_notify(PCI_DEVICE(dev), 1);
    g_assert_cmpuint(msi_count, ==, before + 2);
    cfg_write(3, cap + 2, PCI_MSIX_ENABLE, 2);
    g_assert_cmpuint(msi_count, ==, before + 3);
    msix_notify(PCI_DEVICE(dev), 9);                /* out of range: ignored */
    g_assert_cmpuint(msi_count, ==, before + 3);
}

/* The offset of capability id in slot's list, or 0. */
static unsigned find_cap(unsigned slot, uint8_t id)
{
    for (unsigned c = cfg_read(slot, PCI_CAPABILITY_LIST, 1), n = 0; c && n < 48; n++) {
        if (cfg_read(slot, c, 1) == id) {
            return c;
        }
        c = cfg_read(slot, c + 1, 1);
    }
    return 0;
}

static void test_msi(void)
{
    setup();
    PCIDevice *m = PCI_DEVICE(object_new(&msidev_class.oc));
    object_property_set_str(OBJECT(m), "addr", "5", NULL);
    g_assert_true(pci_bus_plug_device(bus, m, NULL));
    unsigned cap = find_cap(5, PCI_CAP_ID_MSI);
    g_assert_cmpuint(cap, !=, 0);
    /* 4 vectors capable (QMASK 2), 64-bit, maskable; disabled at power-on */
    g_assert_cmphex(cfg_read(5, cap + 2, 2), ==, 0x0184);
    g_assert_false(msi_enabled(m));
    cfg_write(5, cap + 4, 0xfee00000, 4);
    cfg_write(5, cap + 8, 0, 4);
    cfg_write(5, cap + 12, 0x4060, 2);
    g_assert_cmphex(cfg_read(5, cap + 4, 4), ==, 0xfee00000);
    g_assert_cmphex(cfg_read(5, cap + 12, 2), ==, 0x4060);
    cfg_write(5, cap + 2, 0xffff, 2);           /* read-only bits stay */
    g_assert_cmphex(cfg_read(5, cap + 2, 2) & ~PCI_MSI_FLAGS_QSIZE, ==, 0x0185);
    unsigned before = msi_count;
    /* enable 2 of the 4 vectors: vector 1 sets data bit 0, vector 2 is out of range */
    cfg_write(5, cap + 2, PCI_MSI_FLAGS_ENABLE | 1 << 4, 2);
    g_assert_true(msi_enabled(m));
    msi_notify(m, 1);
    g_assert_cmpuint(msi_count, ==, before + 1);
    g_assert_cmphex(msi_addr, ==, 0xfee00000);
    g_assert_cmphex(msi_data, ==, 0x4061);
    msi_notify(m, 2);
    g_assert_cmpuint(msi_count, ==, before + 1);
    /* mask vector 0: pending bit shows, unmasking delivers it */
    cfg_write(5, cap + 16, 1, 4);
    msi_notify(m, 0);
    g_assert_cmpuint(msi_count, ==, before + 1);
    g_assert_cmphex(cfg_read(5, cap + 20, 4), ==, 1);
    cfg_write(5, cap + 16, 0, 4);
    g_assert_cmpuint(msi_count, ==, before + 2);
    g_assert_cmphex(msi_data, ==, 0x4060);
    g_assert_cmphex(cfg_read(5, cap + 20, 4), ==, 0);
    cfg_write(5, cap + 20, 0xf, 4);             /* pending bits are read-only */
    g_assert_cmphex(cfg_read(5, cap + 20, 4), ==, 0);
    /* reset: disabled, address and data cleared, capability bits kept */
    object_reset_tree(OBJECT(m));
    g_assert_false(msi_enabled(m));
    g_assert_cmphex(cfg_read(5, cap + 2, 2), ==, 0x0184);
    g_assert_cmphex(cfg_read(5, cap + 4, 4), ==, 0);
    msi_notify(m, 0);
    g_assert_cmpuint(msi_count, ==, before + 2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    object_class_register(&testdev_class.oc);
    object_class_register(&msidev_class.oc);
    g_test_add_func("/pc/pci/enumerate", test_enumerate);
    g_test_add_func("/pc/pci/bars", test_bars);
    g_test_add_func("/pc/pci/intx", test_intx);
    g_test_add_func("/pc/pci/msix", test_msix);
    g_test_add_func("/pc/pci/msi", test_msi);
    return g_test_run();
}
