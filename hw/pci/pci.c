/* PCI bus 0, host bridge (CF8/CFC and ECAM), BARs, INTx, MSI and MSI-X (see hw/pci/pci.h). */
#include <string.h>
#include "hw/pci/pci.h"

bool (*pci_msi_deliver)(uint64_t addr, uint32_t data);

static uint32_t get_le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (int i = (int)n - 1; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static void set_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * i);
    }
}

/* ---- BARs ---- */

void pci_register_bar(PCIDevice *d, unsigned n, uint8_t type, MemoryRegion *mr)
{
    PCIBar *bar = &d->bars[n];
    uint64_t size = mr->size;
    bar->mr = mr;
    bar->size = size;
    bar->type = type;
    bar->mapped = PCI_BAR_UNMAPPED;
    uint64_t mask = ~(size - 1) & ~(uint64_t)((type & PCI_BAR_IO) ? 0x3 : 0xf);
    set_le(d->config + PCI_BAR0 + 4 * n, type, 4);
    set_le(d->wmask + PCI_BAR0 + 4 * n, mask, 4);
    if (type & PCI_BAR_MEM64) {
        set_le(d->wmask + PCI_BAR0 + 4 * (n + 1), mask >> 32, 4);
    }
}

/* The address BAR n decodes at now, or PCI_BAR_UNMAPPED. */
static uint64_t pci_bar_address(PCIDevice *d, unsigned n)
{
    PCIBar *bar = &d->bars[n];
    uint16_t cmd = get_le(d->config + PCI_COMMAND, 2);
    uint64_t addr = get_le(d->config + PCI_BAR0 + 4 * n, 4);
    if (bar->type & PCI_BAR_IO) {
        addr &= ~3ull;
        if (!(cmd & PCI_COMMAND_IO) || addr + bar->size > 0x10000) {
            return PCI_BAR_UNMAPPED;
        }
    } else {
        addr &= ~0xfull;
        if (bar->type & PCI_BAR_MEM64) {
            addr |= (uint64_t)get_le(d->config + PCI_BAR0 + 4 * (n + 1), 4) << 32;
        }
        if (!(cmd & PCI_COMMAND_MEMORY) || addr + bar->size < addr ||
            addr + bar->size > (1ull << 52)) {
            return PCI_BAR_UNMAPPED;
        }
    }
    return addr ? addr : PCI_BAR_UNMAPPED;
}

static void pci_update_mappings(PCIDevice *d)
{
    memory_transaction_begin();
    for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
        PCIBar *bar = &d->bars[n];
        if (!bar->mr) {
            continue;
        }
        uint64_t addr = pci_bar_address(d, n);
        if (addr == bar->mapped) {
            continue;
        }
        MemoryRegion *space = (bar->type & PCI_BAR_IO) ? d->bus->io_space : d->bus->mem_space;
        if (bar->mapped != PCI_BAR_UNMAPPED) {
            memory_region_del_subregion(space, bar->mr);
        }
        if (addr != PCI_BAR_UNMAPPED) {
            memory_region_add_subregion_overlap(space, addr, bar->mr, 1);
        }
        bar->mapped = addr;
    }
    memory_transaction_commit();
}

/* ---- INTx ---- */

static void pci_update_intx(PCIDevice *d)
{
    uint16_t cmd = get_le(d->config + PCI_COMMAND, 2);
    unsigned pin = d->config[PCI_INTERRUPT_PIN];
    bool out = d->intx_level && !(cmd & PCI_COMMAND_INTX_DISABLE) && pin && d->bus;
    if (out == d->intx_out) {
        return;
    }
    d->intx_out = out;
    unsigned line = ((d->devfn >> 3) + pin - 1) % 4;
    PCIBus *bus = d->bus;
    bus->intx_count[line] += out ? 1 : -1;
    irq_set(&bus->intx[line], bus->intx_count[line] > 0);
}

void pci_set_irq(PCIDevice *d, int level)
{
    d->intx_level = level;
    if (level) {
        d->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    } else {
        d->config[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
    }
    pci_update_intx(d);
}

/* ---- capabilities, MSI-X ---- */

uint8_t pci_add_capability(PCIDevice *d, uint8_t id, uint8_t len)
{
    uint8_t off = d->next_cap ? d->next_cap : 0x40;
    d->config[off] = id;
    d->config[off + 1] = d->config[PCI_CAPABILITY_LIST];
    d->config[PCI_CAPABILITY_LIST] = off;
    d->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    d->next_cap = (off + len + 3) & ~3;
    return off;
}

bool msix_enabled(const PCIDevice *d)
{
    return d->msix_vectors && (d->config[d->msix_cap + 3] & (PCI_MSIX_ENABLE >> 8));
}

static bool msix_masked(const PCIDevice *d, unsigned v)
{
    return (d->config[d->msix_cap + 3] & (PCI_MSIX_MASKALL >> 8)) ||
           (d->msix_table[16 * v + 12] & 1);
}

static void msix_send(PCIDevice *d, unsigned v)
{
    const uint8_t *e = d->msix_table + 16 * v;
    uint64_t addr = get_le(e, 4) | (uint64_t)get_le(e + 4, 4) << 32;
    if (pci_msi_deliver) {
        pci_msi_deliver(addr, get_le(e + 8, 4));
    }
}

void msix_notify(PCIDevice *d, unsigned v)
{
    if (v >= d->msix_vectors || !msix_enabled(d)) {
        return;
    }
    if (msix_masked(d, v)) {
        d->msix_pba[v / 8] |= 1u << (v % 8);
        return;
    }
    msix_send(d, v);
}

/* Sends the pending vectors that are no longer masked. */
static void msix_flush_pending(PCIDevice *d)
{
    for (unsigned v = 0; msix_enabled(d) && v < d->msix_vectors; v++) {
        if ((d->msix_pba[v / 8] & (1u << (v % 8))) && !msix_masked(d, v)) {
            d->msix_pba[v / 8] &= ~(1u << (v % 8));
            msix_send(d, v);
        }
    }
}

static uint64_t msix_table_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIDevice *d = opaque;
    return get_le(d->msix_table + addr, size);
}

static void msix_table_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PCIDevice *d = opaque;
    set_le(d->msix_table + addr, val, size);
    msix_flush_pending(d);
}

static const MemoryRegionOps msix_table_ops = {
    .read = msix_table_read,
    .write = msix_table_write,
    .min_access_size = 4,
    .max_access_size = 4,
};

static uint64_t msix_pba_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIDevice *d = opaque;
    return get_le(d->msix_pba + addr, size);
}

static void msix_pba_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps msix_pba_ops = {
    .read = msix_pba_read,
    .write = msix_pba_write,
    .min_access_size = 4,
    .max_access_size = 4,
};

void msix_init(PCIDevice *d, unsigned vectors, unsigned bar, uint32_t table_off,
               uint32_t pba_off)
{
    d->msix_vectors = vectors;
    d->msix_table = g_malloc0(16 * vectors);
    for (unsigned v = 0; v < vectors; v++) {
        d->msix_table[16 * v + 12] = 1;                 /* masked at reset */
    }
    unsigned pba_len = (vectors + 63) / 64 * 8;
    d->msix_pba = g_malloc0(pba_len);
    memory_region_init_io(&d->msix_table_mr, "msix-table", &msix_table_ops, d, 16 * vectors);
    memory_region_init_io(&d->msix_pba_mr, "msix-pba", &msix_pba_ops, d, pba_len);
    uint8_t c = pci_add_capability(d, PCI_CAP_ID_MSIX, 12);
    d->msix_cap = c;
    set_le(d->config + c + 2, vectors - 1, 2);
    d->wmask[c + 3] = (PCI_MSIX_ENABLE | PCI_MSIX_MASKALL) >> 8;
    set_le(d->config + c + 4, table_off | bar, 4);
    set_le(d->config + c + 8, pba_off | bar, 4);
}

/* ---- MSI (PCI Local Bus 3.0, 6.8.1) ---- */

static uint16_t msi_flags(const PCIDevice *d)
{
    return get_le(d->config + d->msi_cap + 2, 2);
}

/* Offsets of the fields after Message Address, which depend on the 64-bit flag. */
static unsigned msi_data_off(const PCIDevice *d)
{
    return d->msi_cap + (msi_flags(d) & PCI_MSI_FLAGS_64BIT ? 0x0c : 0x08);
}

static unsigned msi_mask_off(const PCIDevice *d)
{
    return d->msi_cap + (msi_flags(d) & PCI_MSI_FLAGS_64BIT ? 0x10 : 0x0c);
}

bool msi_enabled(const PCIDevice *d)
{
    return d->msi_vectors && (msi_flags(d) & PCI_MSI_FLAGS_ENABLE);
}

/* Vectors the driver enabled (Multiple Message Enable, never above what is capable). */
static unsigned msi_enabled_vectors(const PCIDevice *d)
{
    unsigned n = 1u << ((msi_flags(d) & PCI_MSI_FLAGS_QSIZE) >> 4);
    return MIN(n, d->msi_vectors);
}

static bool msi_masked(const PCIDevice *d, unsigned v)
{
    return (msi_flags(d) & PCI_MSI_FLAGS_MASKBIT) &&
           (get_le(d->config + msi_mask_off(d), 4) & (1u << v));
}

static void msi_send(PCIDevice *d, unsigned v)
{
    uint64_t addr = get_le(d->config + d->msi_cap + 4, 4);
    if (msi_flags(d) & PCI_MSI_FLAGS_64BIT) {
        addr |= (uint64_t)get_le(d->config + d->msi_cap + 8, 4) << 32;
    }
    uint32_t data = get_le(d->config + msi_data_off(d), 2);
    /* with n vectors enabled, the low log2(n) data bits carry the vector number */
    data = (data & ~(msi_enabled_vectors(d) - 1)) | v;
    if (pci_msi_deliver) {
        pci_msi_deliver(addr, data);
    }
}

/* The pending bits as the capability shows them (per-vector masking only). */
static void msi_update_pending(PCIDevice *d)
{
    if (msi_flags(d) & PCI_MSI_FLAGS_MASKBIT) {
        set_le(d->config + msi_mask_off(d) + 4, d->msi_pending, 4);
    }
}

void msi_notify(PCIDevice *d, unsigned v)
{
    if (!msi_enabled(d) || v >= msi_enabled_vectors(d)) {
        return;
    }
    if (msi_masked(d, v)) {
        d->msi_pending |= 1u << v;
        msi_update_pending(d);
        return;
    }
    msi_send(d, v);
}

static void msi_flush_pending(PCIDevice *d)
{
    for (unsigned v = 0; msi_enabled(d) && v < msi_enabled_vectors(d); v++) {
        if ((d->msi_pending & (1u << v)) && !msi_masked(d, v)) {
            d->msi_pending &= ~(1u << v);
            msi_send(d, v);
        }
    }
    msi_update_pending(d);
}

void msi_init(PCIDevice *d, unsigned vectors, bool is64, bool per_vector_mask)
{
    unsigned log2 = 0;
    while ((1u << log2) < vectors && log2 < 5) {
        log2++;
    }
    uint16_t flags = log2 << 1 | (is64 ? PCI_MSI_FLAGS_64BIT : 0) |
                     (per_vector_mask ? PCI_MSI_FLAGS_MASKBIT : 0);
    uint8_t len = (is64 ? 0x0e : 0x0a) + (per_vector_mask ? 0x0a : 0);
    uint8_t c = pci_add_capability(d, PCI_CAP_ID_MSI, (len + 3) & ~3);
    d->msi_cap = c;
    d->msi_vectors = 1u << log2;
    set_le(d->config + c + 2, flags, 2);
    set_le(d->wmask + c + 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, 2);
    set_le(d->wmask + c + 4, 0xfffffffc, 4);         /* dword-aligned address */
    if (is64) {
        set_le(d->wmask + c + 8, 0xffffffff, 4);
    }
    set_le(d->wmask + msi_data_off(d), 0xffff, 2);
    if (per_vector_mask) {
        set_le(d->wmask + msi_mask_off(d), (uint32_t)((1ull << d->msi_vectors) - 1), 4);
    }
}

/* Back to power-on: disabled, one vector, address, data and masks zero. */
static void msi_reset(PCIDevice *d)
{
    uint16_t flags = msi_flags(d) & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    set_le(d->config + d->msi_cap + 2, flags, 2);
    memset(d->config + d->msi_cap + 4, 0, msi_mask_off(d) + 8 - (d->msi_cap + 4));
    d->msi_pending = 0;
}

/* ---- config space ---- */

uint32_t pci_config_read(PCIDevice *d, uint32_t addr, unsigned size)
{
    if (addr + size > PCI_CONFIG_SIZE) {
        return UINT32_MAX;
    }
    return get_le(d->config + addr, size);
}

static bool ranges_overlap(uint32_t a, unsigned alen, uint32_t b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

void pci_config_write(PCIDevice *d, uint32_t addr, uint32_t val, unsigned size)
{
    if (addr + size > PCI_CONFIG_SIZE) {
        return;
    }
    bool msix_was = msix_enabled(d);
    bool msi_was = msi_enabled(d);
    for (unsigned i = 0; i < size; i++) {
        uint8_t m = d->wmask[addr + i];
        d->config[addr + i] = (d->config[addr + i] & ~m) | ((val >> (8 * i)) & m);
    }
    if (ranges_overlap(addr, size, PCI_COMMAND, 2) ||
        ranges_overlap(addr, size, PCI_BAR0, 4 * PCI_NUM_BARS)) {
        pci_update_mappings(d);
        pci_update_intx(d);
    }
    if (d->msix_vectors && ranges_overlap(addr, size, d->msix_cap + 2, 2)) {
        if (msix_enabled(d) && !msix_was) {
            pci_set_irq(d, 0);
        }
        msix_flush_pending(d);
    }
    if (d->msi_vectors && ranges_overlap(addr, size, d->msi_cap + 2,
                                         msi_mask_off(d) + 4 - (d->msi_cap + 2))) {
        if (msi_enabled(d) && !msi_was) {
            pci_set_irq(d, 0);
        }
        msi_flush_pending(d);
    }
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(d);
    if (pc->config_write) {
        pc->config_write(d, addr, val, size);
    }
}

static void pci_device_init(Object *obj)
{
    PCIDevice *d = PCI_DEVICE(obj);
    d->devfn = -1;
}

static void pci_device_reset(Object *obj)
{
    PCIDevice *d = PCI_DEVICE(obj);
    set_le(d->config + PCI_COMMAND, 0, 2);
    for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
        if (d->bars[n].mr) {
            set_le(d->config + PCI_BAR0 + 4 * n, d->bars[n].type, 4);
            if (d->bars[n].type & PCI_BAR_MEM64) {
                set_le(d->config + PCI_BAR0 + 4 * (n + 1), 0, 4);
            }
        }
    }
    if (d->msix_vectors) {
        d->config[d->msix_cap + 3] = 0;
        memset(d->msix_pba, 0, (d->msix_vectors + 63) / 64 * 8);
        for (unsigned v = 0; v < d->msix_vectors; v++) {
            memset(d->msix_table + 16 * v, 0, 16);
            d->msix_table[16 * v + 12] = 1;
        }
    }
    if (d->msi_vectors) {
        msi_reset(d);
    }
    d->config[PCI_INTERRUPT_LINE] = 0;
    if (d->bus) {
        pci_update_mappings(d);
        pci_set_irq(d, 0);
    }
}

static void pci_device_finalize(Object *obj)
{
    PCIDevice *d = PCI_DEVICE(obj);
    g_free(d->msix_table);
    g_free(d->msix_pba);
}

static const Property pci_device_props[] = {
    DEFINE_PROP_UINT32("addr", PCIDevice, addr_prop, UINT32_MAX),
    DEFINE_PROP_END,
};

const PCIDeviceClass pci_device_class = {
    .oc = {
        .name = "pci-device",
        .instance_size = sizeof(PCIDevice),
        .props = pci_device_props,
        .abstract = true,
        .bus_type = "PCI",
        .init = pci_device_init,
        .reset = pci_device_reset,
        .finalize = pci_device_finalize,
    },
};

/* ---- bus and host bridge ---- */

bool pci_bus_plug_device(PCIBus *bus, PCIDevice *d, Error **errp)
{
    int slot = -1;
    if (d->addr_prop != UINT32_MAX) {
        if (d->addr_prop >= PCI_SLOTS) {
            error_setg(errp, "PCI: slot %u is out of range (0-%u)", d->addr_prop,
                       PCI_SLOTS - 1);
            return false;
        }
        if (bus->devices[d->addr_prop]) {
            error_setg(errp, "PCI: slot %u function 0 not available for %s, in use by %s",
                       d->addr_prop, OBJECT(d)->cls->name,
                       OBJECT(bus->devices[d->addr_prop])->cls->name);
            return false;
        }
        slot = d->addr_prop;
    } else {
        for (unsigned s = 0; s < PCI_SLOTS && slot < 0; s++) {
            slot = bus->devices[s] ? -1 : (int)s;
        }
        if (slot < 0) {
            error_setg(errp, "PCI: no slot/function available for %s, all in use",
                       OBJECT(d)->cls->name);
            return false;
        }
    }
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(d);
    set_le(d->config + PCI_VENDOR_ID, pc->vendor_id, 2);
    set_le(d->config + PCI_DEVICE_ID, pc->device_id, 2);
    d->config[PCI_REVISION_ID] = pc->revision;
    set_le(d->config + PCI_CLASS_PROG, pc->class_code, 3);
    set_le(d->config + PCI_SUBSYSTEM_VENDOR_ID, pc->subsystem_vendor_id, 2);
    set_le(d->config + PCI_SUBSYSTEM_ID, pc->subsystem_id, 2);
    set_le(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
           PCI_COMMAND_INTX_DISABLE, 2);
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    d->bus = bus;
    d->devfn = slot << 3;
    if (!object_realize(OBJECT(d), errp)) {
        d->bus = NULL;
        d->devfn = -1;
        return false;
    }
    bus->devices[slot] = d;
    return true;
}

static bool pci_qbus_plug(BusState *qbus, Object *dev, Error **errp)
{
    PCIBus *bus = qbus->opaque;
    if (!object_is_a(dev, &pci_device_class.oc)) {
        error_setg(errp, "'%s' is not a PCI device", dev->cls->name);
        return false;
    }
    return pci_bus_plug_device(bus, PCI_DEVICE(dev), errp);
}

static void pci_qbus_unplug(BusState *qbus, Object *dev)
{
    PCIBus *bus = qbus->opaque;
    PCIDevice *d = PCI_DEVICE(dev);
    pci_set_irq(d, 0);
    set_le(d->config + PCI_COMMAND, 0, 2);
    pci_update_mappings(d);
    bus->devices[d->devfn >> 3] = NULL;
    object_unrealize(dev);
    d->bus = NULL;
}

static bool pci_qbus_has_room(BusState *qbus)
{
    PCIBus *bus = qbus->opaque;
    for (unsigned s = 0; s < PCI_SLOTS; s++) {
        if (!bus->devices[s]) {
            return true;
        }
    }
    return false;
}

/* The function at bus/devfn of a configuration address, or NULL (only bus 0, function 0). */
static PCIDevice *pci_find(PCIBus *bus, unsigned busnr, unsigned devfn)
{
    return busnr == 0 && (devfn & 7) == 0 ? bus->devices[devfn >> 3] : NULL;
}

static uint64_t pci_cf8_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIBus *bus = opaque;
    return size == 4 ? bus->config_addr : UINT32_MAX;
}

/* Only dword accesses reach CONFIG_ADDRESS (others belong to legacy mechanisms). */
static void pci_cf8_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PCIBus *bus = opaque;
    if (size == 4) {
        bus->config_addr = val & 0x80fffffc;
    }
}

static const MemoryRegionOps pci_cf8_ops = {
    .read = pci_cf8_read,
    .write = pci_cf8_write,
    .min_access_size = 1,
    .max_access_size = 4,
};

static PCIDevice *pci_cfc_target(PCIBus *bus, uint64_t addr, uint32_t *reg)
{
    uint32_t a = bus->config_addr;
    if (!(a & 0x80000000u)) {
        return NULL;
    }
    *reg = (a & 0xfc) + (addr & 3);
    return pci_find(bus, (a >> 16) & 0xff, (a >> 8) & 0xff);
}

static uint64_t pci_cfc_read(void *opaque, uint64_t addr, unsigned size)
{
    uint32_t reg;
    PCIDevice *d = pci_cfc_target(opaque, addr, &reg);
    return d ? pci_config_read(d, reg, size) : (uint32_t)(UINT64_MAX >> (64 - 8 * size));
}

static void pci_cfc_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    uint32_t reg;
    PCIDevice *d = pci_cfc_target(opaque, addr, &reg);
    if (d) {
        pci_config_write(d, reg, val, size);
    }
}

static const MemoryRegionOps pci_cfc_ops = {
    .read = pci_cfc_read,
    .write = pci_cfc_write,
    .min_access_size = 1,
    .max_access_size = 4,
};

static uint64_t pci_ecam_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIDevice *d = pci_find(opaque, addr >> 20, (addr >> 12) & 0xff);
    return d ? pci_config_read(d, addr & 0xfff, size)
             : (uint32_t)(UINT64_MAX >> (64 - 8 * size));
}

static void pci_ecam_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PCIDevice *d = pci_find(opaque, addr >> 20, (addr >> 12) & 0xff);
    if (d) {
        pci_config_write(d, addr & 0xfff, val, size);
    }
}

static const MemoryRegionOps pci_ecam_ops = {
    .read = pci_ecam_read,
    .write = pci_ecam_write,
    .min_access_size = 1,
    .max_access_size = 4,
};

static const PCIDeviceClass pci_host_bridge_class = {
    .oc = {
        .name = "pci-host-bridge",
        .parent = &pci_device_class.oc,
        .instance_size = sizeof(PCIDevice),
        .desc = "PCI host bridge (Q35 MCH identity)",
    },
    .vendor_id = 0x8086,
    .device_id = 0x29c0,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .class_code = 0x060000,
};

static void __attribute__((constructor)) pci_register_classes(void)
{
    object_class_register(&pci_device_class.oc);
    object_class_register(&pci_host_bridge_class.oc);
}

PCIBus *pci_host_init(Object *parent, MemoryRegion *mem, MemoryRegion *io, IrqLine *intx,
                      uint64_t ecam_base, uint64_t ecam_size, Error **errp)
{
    PCIBus *bus = g_new0(PCIBus, 1);
    bus->mem_space = mem;
    bus->io_space = io;
    bus->intx = intx;
    memory_region_init_io(&bus->cf8_io, "pci-conf-idx", &pci_cf8_ops, bus, 4);
    memory_region_init_io(&bus->cfc_io, "pci-conf-data", &pci_cfc_ops, bus, 4);
    memory_region_add_subregion(io, 0xcf8, &bus->cf8_io);
    memory_region_add_subregion(io, 0xcfc, &bus->cfc_io);
    if (ecam_size) {
        memory_region_init_io(&bus->ecam, "pcie-mmcfg-mmio", &pci_ecam_ops, bus, ecam_size);
        memory_region_add_subregion(mem, ecam_base, &bus->ecam);
    }
    Object *host = object_new(&pci_host_bridge_class.oc);
    bool ok = object_add_child(parent, "pci-host", host, errp);
    object_unref(host);
    if (!ok || !pci_bus_plug_device(bus, PCI_DEVICE(host), errp)) {
        return NULL;
    }
    bus->host = host;
    bus->qbus = (BusState){
        .name = "pci.0",
        .type = "PCI",
        .owner = parent,
        .hotpluggable = false,
        .plug = pci_qbus_plug,
        .unplug = pci_qbus_unplug,
        .has_room = pci_qbus_has_room,
        .opaque = bus,
    };
    bus_register(&bus->qbus);
    return bus;
}
