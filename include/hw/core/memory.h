#ifndef HW_CORE_MEMORY_H
#define HW_CORE_MEMORY_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "util/error.h"

/*
 * Guest physical memory: a tree of regions (RAM, ROM, I/O, containers, aliases; higher
 * priority wins where siblings overlap) flattened into a FlatView of non-overlapping ranges
 * sorted by address and searched by binary search. Every non-RAM access goes through
 * memory_dispatch_read/write, which takes the big lock around the device callback.
 */

typedef enum MemTxResult {
    MEMTX_OK = 0,
    MEMTX_DECODE_ERROR,   /* nothing mapped at the address */
    MEMTX_ERROR,          /* the device refused the access */
} MemTxResult;

typedef struct MemoryRegionOps {
    /* size is 1, 2, 4 or 8; addr is relative to the region. Little-endian values. */
    uint64_t (*read)(void *opaque, uint64_t addr, unsigned size);
    void (*write)(void *opaque, uint64_t addr, uint64_t val, unsigned size);
    /* Access sizes the device accepts (0 means 1..8). Others: narrower ones are widened by a
     * read-modify-write or split; accesses outside [min,max] and not splittable fail. */
    unsigned min_access_size;
    unsigned max_access_size;
} MemoryRegionOps;

typedef enum MemoryRegionType {
    MR_CONTAINER,
    MR_RAM,
    MR_ROM,       /* RAM-backed, guest writes ignored */
    MR_IO,
    MR_ALIAS,
} MemoryRegionType;

typedef struct MemoryRegion MemoryRegion;
struct MemoryRegion {
    const char *name;
    MemoryRegionType type;
    uint64_t size;
    uint8_t *ram;                 /* host memory for RAM/ROM */
    const MemoryRegionOps *ops;   /* for IO */
    void *opaque;
    MemoryRegion *alias;          /* for ALIAS: target region and offset into it */
    uint64_t alias_offset;
    /* Placement inside the parent container. */
    MemoryRegion *container;
    uint64_t addr;
    int priority;
    bool enabled;
    bool owns_ram;
    GPtrArray *subregions;        /* of MemoryRegion *, for containers */
};

/* Anonymous guest RAM (mmap, zero-filled); fails when the host refuses the allocation. */
bool memory_region_init_ram(MemoryRegion *mr, const char *name, uint64_t size, Error **errp);
bool memory_region_init_rom(MemoryRegion *mr, const char *name, uint64_t size, Error **errp);
void memory_region_init_io(MemoryRegion *mr, const char *name, const MemoryRegionOps *ops,
                           void *opaque, uint64_t size);
void memory_region_init_container(MemoryRegion *mr, const char *name, uint64_t size);
void memory_region_init_alias(MemoryRegion *mr, const char *name, MemoryRegion *target,
                              uint64_t offset, uint64_t size);
/* Releases what init allocated (RAM, subregion list); mr must not be mapped. */
void memory_region_destroy(MemoryRegion *mr);

void memory_region_add_subregion(MemoryRegion *parent, uint64_t addr, MemoryRegion *sub);
void memory_region_add_subregion_overlap(MemoryRegion *parent, uint64_t addr,
                                         MemoryRegion *sub, int priority);
void memory_region_del_subregion(MemoryRegion *parent, MemoryRegion *sub);
void memory_region_set_enabled(MemoryRegion *mr, bool enabled);
void memory_region_set_address(MemoryRegion *mr, uint64_t addr);

/* One piece of the flattened view. */
typedef struct FlatRange {
    uint64_t start;               /* guest physical */
    uint64_t size;
    MemoryRegion *mr;             /* a RAM, ROM or IO leaf */
    uint64_t offset;              /* offset of start inside mr */
} FlatRange;

typedef struct FlatView {
    FlatRange *ranges;            /* sorted, non-overlapping */
    unsigned nr;
    unsigned refcount;
} FlatView;

typedef struct AddressSpace AddressSpace;

/* Follows view changes (KVM memory slots, interpreter TLB flushes). Called with the
 * big lock held, after the new view is in place. */
typedef struct MemoryListener {
    void (*commit)(struct MemoryListener *l, AddressSpace *as, const FlatView *old_view,
                   const FlatView *new_view);
    void *opaque;
} MemoryListener;

struct AddressSpace {
    const char *name;
    MemoryRegion *root;
    FlatView *view;               /* current view; readers take it with address_space_get_view */
    GPtrArray *listeners;
    unsigned transaction_depth;
    bool pending_update;
};

void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name);
/* Unregisters as and drops its view. */
void address_space_destroy(AddressSpace *as);
void address_space_add_listener(AddressSpace *as, MemoryListener *l);
void address_space_remove_listener(AddressSpace *as, MemoryListener *l);
/* Batches view rebuilds: changes inside begin/commit produce one new view. */
void memory_transaction_begin(void);
void memory_transaction_commit(void);

/* The current view with a reference; drop it with flatview_unref. */
FlatView *address_space_get_view(AddressSpace *as);
void flatview_unref(FlatView *view);
/* Binary search: the range holding addr, or NULL. */
const FlatRange *flatview_lookup(const FlatView *view, uint64_t addr);

/* The one dispatch path for non-RAM accesses (and RAM ones from slow paths).
 * size is 1, 2, 4 or 8; values are little-endian guest values. */
MemTxResult memory_dispatch_read(AddressSpace *as, uint64_t addr, uint64_t *val, unsigned size);
MemTxResult memory_dispatch_write(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size);

/* Bulk copies for loaders, DMA and the monitor; they may cross regions. */
MemTxResult address_space_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len);
MemTxResult address_space_write(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len);
/* Like address_space_write but also writes into ROM (for firmware loading). */
MemTxResult address_space_write_rom(AddressSpace *as, uint64_t addr, const void *buf,
                                    uint64_t len);
/* Host pointer for [addr, addr+len) when it lies inside one RAM range (writable=true also
 * refuses ROM); NULL otherwise. Valid while the view does not change. */
void *address_space_ram_ptr(AddressSpace *as, uint64_t addr, uint64_t len, bool writable);

/* The machine's system memory and its address space. */
extern MemoryRegion *system_memory;
extern AddressSpace address_space_memory;
void memory_system_init(void);
/* Prints the region tree like QEMU's "info mtree". */
void memory_print_mtree(GString *out);

#endif
