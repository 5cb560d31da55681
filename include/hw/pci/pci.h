#ifndef HW_PCI_PCI_H
#define HW_PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"
#include "hw/core/qdev.h"

/*
 * PCI bus 0 with a host bridge reached through the 0xCF8/0xCFC configuration mechanism #1 and
 * through ECAM (MMCONFIG); type 0 functions with up to six BARs mapped through the memory API
 * when the command register enables them; INTx onto the board's GSIs and MSI and MSI-X
 * delivered through the interrupt controller's MSI hook. Everything runs with the big lock held.
 */

#define PCI_CONFIG_SIZE 4096
#define PCI_NUM_BARS 6
#define PCI_SLOTS 32

enum {
    PCI_VENDOR_ID = 0x00, PCI_DEVICE_ID = 0x02, PCI_COMMAND = 0x04, PCI_STATUS = 0x06,
    PCI_REVISION_ID = 0x08, PCI_CLASS_PROG = 0x09, PCI_CLASS_DEVICE = 0x0a,
    PCI_HEADER_TYPE = 0x0e, PCI_BAR0 = 0x10, PCI_SUBSYSTEM_VENDOR_ID = 0x2c,
    PCI_SUBSYSTEM_ID = 0x2e, PCI_CAPABILITY_LIST = 0x34, PCI_INTERRUPT_LINE = 0x3c,
    PCI_INTERRUPT_PIN = 0x3d,
};
enum {
    PCI_COMMAND_IO = 0x1, PCI_COMMAND_MEMORY = 0x2, PCI_COMMAND_MASTER = 0x4,
    PCI_COMMAND_INTX_DISABLE = 0x400, PCI_STATUS_CAP_LIST = 0x10,
    PCI_STATUS_INTERRUPT = 0x08,
};
enum { PCI_BAR_IO = 0x1, PCI_BAR_MEM64 = 0x4, PCI_BAR_PREFETCH = 0x8 };
enum { PCI_CAP_ID_MSI = 0x05, PCI_CAP_ID_VNDR = 0x09, PCI_CAP_ID_MSIX = 0x11 };
/* MSI Message Control bits (PCI Local Bus 3.0, 6.8.1.3). */
enum {
    PCI_MSI_FLAGS_ENABLE = 0x0001, PCI_MSI_FLAGS_QMASK = 0x000e, PCI_MSI_FLAGS_QSIZE = 0x0070,
    PCI_MSI_FLAGS_64BIT = 0x0080, PCI_MSI_FLAGS_MASKBIT = 0x0100,
};
#define PCI_MSIX_ENABLE 0x8000
#define PCI_MSIX_MASKALL 0x4000

typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;

typedef struct PCIBar {
    MemoryRegion *mr;            /* NULL: BAR unused */
    uint64_t size;               /* power of two */
    uint8_t type;                /* PCI_BAR_* bits of the BAR's low dword */
    uint64_t mapped;             /* address it is mapped at, or PCI_BAR_UNMAPPED */
} PCIBar;
#define PCI_BAR_UNMAPPED UINT64_MAX

/* PCI functions derive from pci_device_class; the class gives the identity. */
typedef struct PCIDeviceClass {
    ObjectClass oc;
    uint16_t vendor_id, device_id, subsystem_vendor_id, subsystem_id;
    uint8_t revision;
    uint32_t class_code;         /* base class << 16 | subclass << 8 | prog-if */
    /* Optional: a config write the device wants to see (after the generic handling). */
    void (*config_write)(PCIDevice *d, uint32_t addr, uint32_t val, unsigned size);
} PCIDeviceClass;

struct PCIDevice {
    Object obj;
    PCIBus *bus;
    int devfn;                   /* -1 until plugged */
    uint32_t addr_prop;          /* property "addr": slot number, or UINT32_MAX for any */
    uint8_t config[PCI_CONFIG_SIZE];
    uint8_t wmask[PCI_CONFIG_SIZE];   /* guest-writable bits */
    PCIBar bars[PCI_NUM_BARS];
    uint8_t next_cap;            /* where the next capability goes */
    int intx_level;              /* INTA# as the device drives it */
    bool intx_out;               /* as the bus sees it (after INTX_DISABLE) */
    /* MSI-X */
    unsigned msix_vectors;
    uint8_t msix_cap;
    uint8_t *msix_table;         /* 16 bytes per vector */
    uint8_t *msix_pba;
    MemoryRegion msix_table_mr, msix_pba_mr;
    /* MSI */
    unsigned msi_vectors;        /* 0: no MSI capability */
    uint8_t msi_cap;
    uint32_t msi_pending;        /* vectors raised while masked (per-vector masking only) */
};

extern const PCIDeviceClass pci_device_class;
#define PCI_DEVICE(obj) ((PCIDevice *)(obj))
#define PCI_DEVICE_GET_CLASS(d) ((const PCIDeviceClass *)OBJECT(d)->cls)

/* Delivers an MSI write (address/data); set by the interrupt controller's provider
 * (kvm_irqchip_send_msi under KVM). NULL: MSIs are dropped. */
extern bool (*pci_msi_deliver)(uint64_t addr, uint32_t data);

struct PCIBus {
    BusState qbus;               /* "pci.0", type "PCI" */
    PCIDevice *devices[PCI_SLOTS];
    MemoryRegion *mem_space, *io_space;
    IrqLine *intx;               /* 4 lines: INTx of slot s pin p drives intx[(s + p) % 4] */
    int intx_count[4];
    uint32_t config_addr;        /* 0xCF8 */
    MemoryRegion cf8_io, cfc_io, ecam;
    Object *host;                /* the host bridge at 00.0 */
};

/* Creates bus 0 with a host bridge (vendor/device as Q35's), registers it as "pci.0" and
 * maps 0xCF8/0xCFC into io; ECAM of ecam_size bytes (0: none) goes at ecam_base in mem. */
PCIBus *pci_host_init(Object *parent, MemoryRegion *mem, MemoryRegion *io, IrqLine *intx,
                      uint64_t ecam_base, uint64_t ecam_size, Error **errp);
/* Plugs and realizes d (properties set) at its "addr" slot or the first free one. */
bool pci_bus_plug_device(PCIBus *bus, PCIDevice *d, Error **errp);

/* For realize: declare BAR n backed by mr (size must be a power of two, >= 16 for memory). */
void pci_register_bar(PCIDevice *d, unsigned n, uint8_t type, MemoryRegion *mr);
/* Adds a capability of len bytes with id; returns its offset in config space. */
uint8_t pci_add_capability(PCIDevice *d, uint8_t id, uint8_t len);
/* MSI-X with vectors entries: table at table_off and PBA at pba_off inside BAR bar's region
 * container (the caller maps the two regions returned in d->msix_*_mr into it). */
void msix_init(PCIDevice *d, unsigned vectors, unsigned bar, uint32_t table_off,
               uint32_t pba_off);
bool msix_enabled(const PCIDevice *d);
/* Sends vector (or sets its pending bit while masked); ignored when out of range. */
void msix_notify(PCIDevice *d, unsigned vector);
/* MSI capability with vectors (1, 2, 4, ..., 32) messages, 64-bit addresses and per-vector
 * masking when asked for. */
void msi_init(PCIDevice *d, unsigned vectors, bool is64, bool per_vector_mask);
bool msi_enabled(const PCIDevice *d);
/* Sends vector (data | vector within the enabled count; pending while masked); ignored when
 * MSI is off or vector is out of range. */
void msi_notify(PCIDevice *d, unsigned vector);
/* Drives INTA# (when INTx is not disabled in the command register). */
void pci_set_irq(PCIDevice *d, int level);
/* Config space accesses as the host bridge performs them (size 1, 2 or 4). */
uint32_t pci_config_read(PCIDevice *d, uint32_t addr, unsigned size);
void pci_config_write(PCIDevice *d, uint32_t addr, uint32_t val, unsigned size);

#endif
