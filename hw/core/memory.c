/* Memory regions, their flattened views, and the one dispatch path for guest accesses. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <glib.h>
#include "hw/core/memory.h"
#include "util/bql.h"

MemoryRegion *system_memory;
AddressSpace address_space_memory;

static GPtrArray *address_spaces;
static unsigned transaction_depth;
static pthread_mutex_t view_lock = PTHREAD_MUTEX_INITIALIZER;

static void memory_region_init_common(MemoryRegion *mr, const char *name,
                                      MemoryRegionType type, uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->name = name;
    mr->type = type;
    mr->size = size;
    mr->enabled = true;
}

static bool memory_region_alloc_ram(MemoryRegion *mr, Error **errp)
{
    void *p = mmap(NULL, mr->size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        error_setg_errno(errp, errno, "cannot allocate %" PRIu64 " bytes of guest memory for '%s'",
                         mr->size, mr->name);
        return false;
    }
    mr->ram = p;
    mr->owns_ram = true;
    return true;
}

bool memory_region_init_ram(MemoryRegion *mr, const char *name, uint64_t size, Error **errp)
{
    memory_region_init_common(mr, name, MR_RAM, size);
    return memory_region_alloc_ram(mr, errp);
}

bool memory_region_init_rom(MemoryRegion *mr, const char *name, uint64_t size, Error **errp)
{
    memory_region_init_common(mr, name, MR_ROM, size);
    return memory_region_alloc_ram(mr, errp);
}

void memory_region_init_io(MemoryRegion *mr, const char *name, const MemoryRegionOps *ops,
                           void *opaque, uint64_t size)
{
    memory_region_init_common(mr, name, MR_IO, size);
    mr->ops = ops;
    mr->opaque = opaque;
}

void memory_region_init_container(MemoryRegion *mr, const char *name, uint64_t size)
{
    memory_region_init_common(mr, name, MR_CONTAINER, size);
    mr->subregions = g_ptr_array_new();
}

void memory_region_init_alias(MemoryRegion *mr, const char *name, MemoryRegion *target,
                              uint64_t offset, uint64_t size)
{
    memory_region_init_common(mr, name, MR_ALIAS, size);
    mr->alias = target;
    mr->alias_offset = offset;
}

void memory_region_destroy(MemoryRegion *mr)
{
    if (mr->owns_ram && mr->ram) {
        munmap(mr->ram, mr->size);
    }
    mr->ram = NULL;
    if (mr->subregions) {
        g_ptr_array_free(mr->subregions, true);
        mr->subregions = NULL;
    }
}

static void memory_update_all(void);

static void memory_changed(void)
{
    if (transaction_depth == 0) {
        memory_update_all();
    } else {
        for (guint i = 0; address_spaces && i < address_spaces->len; i++) {
            ((AddressSpace *)g_ptr_array_index(address_spaces, i))->pending_update = true;
        }
    }
}

void memory_region_add_subregion_overlap(MemoryRegion *parent, uint64_t addr,
                                         MemoryRegion *sub, int priority)
{
    g_assert(parent->type == MR_CONTAINER && !sub->container);
    sub->container = parent;
    sub->addr = addr;
    sub->priority = priority;
    /* Highest priority first; a newer region goes before older ones of equal priority. */
    guint i = 0;
    while (i < parent->subregions->len &&
           ((MemoryRegion *)g_ptr_array_index(parent->subregions, i))->priority > priority) {
        i++;
    }
    g_ptr_array_insert(parent->subregions, i, sub);
    memory_changed();
}

void memory_region_add_subregion(MemoryRegion *parent, uint64_t addr, MemoryRegion *sub)
{
    memory_region_add_subregion_overlap(parent, addr, sub, 0);
}

void memory_region_del_subregion(MemoryRegion *parent, MemoryRegion *sub)
{
    g_assert(sub->container == parent);
    g_ptr_array_remove(parent->subregions, sub);
    sub->container = NULL;
    memory_changed();
}

void memory_region_set_enabled(MemoryRegion *mr, bool enabled)
{
    if (mr->enabled != enabled) {
        mr->enabled = enabled;
        memory_changed();
    }
}

void memory_region_set_address(MemoryRegion *mr, uint64_t addr)
{
    MemoryRegion *parent = mr->container;
    if (!parent) {
        mr->addr = addr;
        return;
    }
    int prio = mr->priority;
    memory_transaction_begin();
    memory_region_del_subregion(parent, mr);
    memory_region_add_subregion_overlap(parent, addr, mr, prio);
    memory_transaction_commit();
}

/* Builder for a view: a sorted list of ranges into which leaves fill only the gaps. */
typedef struct ViewBuilder {
    GArray *ranges;   /* of FlatRange, sorted by start */
} ViewBuilder;

static void view_insert_gaps(ViewBuilder *vb, uint64_t start, uint64_t end, MemoryRegion *mr,
                             __int128 base)
{
    GArray *a = vb->ranges;
    guint i = 0;
    uint64_t cur = start;
    while (cur < end) {
        /* Skip ranges that end at or before cur. */
        while (i < a->len) {
            FlatRange *r = &g_array_index(a, FlatRange, i);
            if (r->start + r->size > cur) {
                break;
            }
            i++;
        }
        uint64_t gap_end = end;
        if (i < a->len) {
            FlatRange *r = &g_array_index(a, FlatRange, i);
            if (r->start <= cur) {
                cur = r->start + r->size;
                i++;
                continue;
            }
            gap_end = MIN(end, r->start);
        }
        FlatRange nr = { .start = cur, .size = gap_end - cur, .mr = mr, .offset = (uint64_t)(cur - base) };
        g_array_insert_val(a, i, nr);
        i++;
        cur = gap_end;
    }
}

/* Renders mr, whose offset 0 sits at guest address base (which an alias may put below 0),
 * clipped to [clip_s, clip_e). */
static void view_render(ViewBuilder *vb, MemoryRegion *mr, __int128 base, uint64_t clip_s,
                        uint64_t clip_e)
{
    if (!mr->enabled) {
        return;
    }
    __int128 s128 = MAX(base, (__int128)clip_s);
    __int128 e128 = MIN(base + (__int128)mr->size, (__int128)clip_e);
    if (s128 >= e128) {
        return;
    }
    uint64_t s = (uint64_t)s128, e = (uint64_t)e128;
    switch (mr->type) {
    case MR_ALIAS:
        view_render(vb, mr->alias, base - (__int128)mr->alias_offset, s, e);
        break;
    case MR_CONTAINER:
        for (guint i = 0; i < mr->subregions->len; i++) {
            MemoryRegion *sub = g_ptr_array_index(mr->subregions, i);
            view_render(vb, sub, base + sub->addr, s, e);
        }
        break;
    default:
        view_insert_gaps(vb, s, e, mr, base);
        break;
    }
}

static FlatView *view_build(MemoryRegion *root)
{
    ViewBuilder vb = { .ranges = g_array_new(false, false, sizeof(FlatRange)) };
    view_render(&vb, root, 0, 0, UINT64_MAX);
    /* Merge neighbours that continue the same region. */
    GArray *out = g_array_new(false, false, sizeof(FlatRange));
    for (guint i = 0; i < vb.ranges->len; i++) {
        FlatRange *r = &g_array_index(vb.ranges, FlatRange, i);
        if (out->len) {
            FlatRange *last = &g_array_index(out, FlatRange, out->len - 1);
            if (last->mr == r->mr && last->start + last->size == r->start &&
                last->offset + last->size == r->offset) {
                last->size += r->size;
                continue;
            }
        }
        g_array_append_val(out, *r);
    }
    g_array_free(vb.ranges, true);
    FlatView *v = g_new0(FlatView, 1);
    v->nr = out->len;
    v->ranges = (FlatRange *)g_array_free(out, false);
    v->refcount = 1;
    return v;
}

void flatview_unref(FlatView *view)
{
    if (view && __atomic_sub_fetch(&view->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        g_free(view->ranges);
        g_free(view);
    }
}

FlatView *address_space_get_view(AddressSpace *as)
{
    pthread_mutex_lock(&view_lock);
    FlatView *v = as->view;
    __atomic_add_fetch(&v->refcount, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&view_lock);
    return v;
}

static void address_space_update(AddressSpace *as)
{
    FlatView *nv = view_build(as->root);
    pthread_mutex_lock(&view_lock);
    FlatView *old = as->view;
    as->view = nv;
    pthread_mutex_unlock(&view_lock);
    as->pending_update = false;
    for (guint i = 0; i < as->listeners->len; i++) {
        MemoryListener *l = g_ptr_array_index(as->listeners, i);
        l->commit(l, as, old, nv);
    }
    flatview_unref(old);
}

static void memory_update_all(void)
{
    for (guint i = 0; address_spaces && i < address_spaces->len; i++) {
        address_space_update(g_ptr_array_index(address_spaces, i));
    }
}

void memory_transaction_begin(void)
{
    transaction_depth++;
}

void memory_transaction_commit(void)
{
    g_assert(transaction_depth > 0);
    if (--transaction_depth == 0) {
        for (guint i = 0; address_spaces && i < address_spaces->len; i++) {
            AddressSpace *as = g_ptr_array_index(address_spaces, i);
            if (as->pending_update) {
                address_space_update(as);
            }
        }
    }
}

void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name)
{
    memset(as, 0, sizeof(*as));
    as->name = name;
    as->root = root;
    as->listeners = g_ptr_array_new();
    as->view = view_build(root);
    if (!address_spaces) {
        address_spaces = g_ptr_array_new();
    }
    g_ptr_array_add(address_spaces, as);
}

void address_space_destroy(AddressSpace *as)
{
    g_ptr_array_remove(address_spaces, as);
    g_ptr_array_free(as->listeners, true);
    flatview_unref(as->view);
    as->view = NULL;
}

void address_space_add_listener(AddressSpace *as, MemoryListener *l)
{
    g_ptr_array_add(as->listeners, l);
    FlatView empty = { 0 };
    l->commit(l, as, &empty, as->view);
}

void address_space_remove_listener(AddressSpace *as, MemoryListener *l)
{
    g_ptr_array_remove(as->listeners, l);
}

const FlatRange *flatview_lookup(const FlatView *view, uint64_t addr)
{
    unsigned lo = 0, hi = view->nr;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const FlatRange *r = &view->ranges[mid];
        if (addr < r->start) {
            hi = mid;
        } else if (addr - r->start >= r->size) {
            lo = mid + 1;
        } else {
            return r;
        }
    }
    return NULL;
}

/* Calls the device with an access size it accepts: widens or splits as needed. */
static uint64_t io_read(MemoryRegion *mr, uint64_t off, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned min = ops->min_access_size ? ops->min_access_size : 1;
    unsigned max = ops->max_access_size ? ops->max_access_size : 8;
    if (size < min) {
        uint64_t aligned = off & ~(uint64_t)(min - 1);
        uint64_t v = ops->read(mr->opaque, aligned, min);
        unsigned shift = (off - aligned) * 8;
        return (v >> shift) & (size == 8 ? ~0ULL : ((1ULL << (size * 8)) - 1));
    }
    if (size > max) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i += max) {
            v |= io_read(mr, off + i, max) << (i * 8);
        }
        return v;
    }
    return ops->read(mr->opaque, off, size);
}

static void io_write(MemoryRegion *mr, uint64_t off, uint64_t val, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned min = ops->min_access_size ? ops->min_access_size : 1;
    unsigned max = ops->max_access_size ? ops->max_access_size : 8;
    if (size < min) {
        uint64_t aligned = off & ~(uint64_t)(min - 1);
        unsigned shift = (off - aligned) * 8;
        uint64_t mask = (size == 8 ? ~0ULL : ((1ULL << (size * 8)) - 1)) << shift;
        uint64_t v = ops->read(mr->opaque, aligned, min);
        v = (v & ~mask) | ((val << shift) & mask);
        ops->write(mr->opaque, aligned, v, min);
        return;
    }
    if (size > max) {
        for (unsigned i = 0; i < size; i += max) {
            io_write(mr, off + i, val >> (i * 8), max);
        }
        return;
    }
    ops->write(mr->opaque, off, val, size);
}

static MemTxResult dispatch_range(const FlatRange *fr, uint64_t addr, uint64_t *val,
                                  unsigned size, bool is_write)
{
    MemoryRegion *mr = fr->mr;
    uint64_t off = addr - fr->start + fr->offset;
    if (mr->type == MR_RAM || mr->type == MR_ROM) {
        if (is_write) {
            if (mr->type == MR_RAM) {
                memcpy(mr->ram + off, val, size);
            }
        } else {
            *val = 0;
            memcpy(val, mr->ram + off, size);
        }
        return MEMTX_OK;
    }
    if (!mr->ops || (is_write ? !mr->ops->write : !mr->ops->read)) {
        return MEMTX_ERROR;
    }
    bool take = !bql_locked();
    if (take) {
        bql_lock();
    }
    if (is_write) {
        io_write(mr, off, *val, size);
    } else {
        *val = io_read(mr, off, size);
    }
    if (take) {
        bql_unlock();
    }
    return MEMTX_OK;
}

static MemTxResult memory_dispatch(AddressSpace *as, uint64_t addr, uint64_t *val,
                                   unsigned size, bool is_write)
{
    FlatView *v = address_space_get_view(as);
    const FlatRange *fr = flatview_lookup(v, addr);
    MemTxResult r;
    if (!fr) {
        r = MEMTX_DECODE_ERROR;
    } else if (addr - fr->start + size <= fr->size) {
        r = dispatch_range(fr, addr, val, size, is_write);
    } else {
        /* Crosses into another range: byte by byte, little-endian. */
        uint64_t acc = is_write ? *val : 0;
        r = MEMTX_OK;
        for (unsigned i = 0; i < size && r == MEMTX_OK; i++) {
            const FlatRange *b = flatview_lookup(v, addr + i);
            uint64_t byte = (acc >> (i * 8)) & 0xff;
            r = b ? dispatch_range(b, addr + i, &byte, 1, is_write) : MEMTX_DECODE_ERROR;
            if (!is_write) {
                acc |= (byte & 0xff) << (i * 8);
            }
        }
        if (!is_write) {
            *val = acc;
        }
    }
    flatview_unref(v);
    return r;
}

MemTxResult memory_dispatch_read(AddressSpace *as, uint64_t addr, uint64_t *val, unsigned size)
{
    return memory_dispatch(as, addr, val, size, false);
}

MemTxResult memory_dispatch_write(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size)
{
    return memory_dispatch(as, addr, &val, size, true);
}

static MemTxResult address_space_rw(AddressSpace *as, uint64_t addr, uint8_t *buf,
                                    uint64_t len, bool is_write, bool rom_ok)
{
    FlatView *v = address_space_get_view(as);
    MemTxResult r = MEMTX_OK;
    while (len > 0) {
        const FlatRange *fr = flatview_lookup(v, addr);
        if (!fr) {
            r = MEMTX_DECODE_ERROR;
            break;
        }
        uint64_t chunk = MIN(len, fr->size - (addr - fr->start));
        MemoryRegion *mr = fr->mr;
        uint64_t off = addr - fr->start + fr->offset;
        if (mr->type == MR_RAM || mr->type == MR_ROM) {
            if (!is_write) {
                memcpy(buf, mr->ram + off, chunk);
            } else if (mr->type == MR_RAM || rom_ok) {
                memcpy(mr->ram + off, buf, chunk);
            }
        } else {
            for (uint64_t i = 0; i < chunk; i++) {
                uint64_t byte = buf[i];
                MemTxResult br = dispatch_range(fr, addr + i, &byte, 1, is_write);
                if (br != MEMTX_OK) {
                    r = br;
                }
                if (!is_write) {
                    buf[i] = byte;
                }
            }
        }
        addr += chunk;
        buf += chunk;
        len -= chunk;
    }
    flatview_unref(v);
    return r;
}

MemTxResult address_space_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len)
{
    return address_space_rw(as, addr, buf, len, false, false);
}

MemTxResult address_space_write(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len)
{
    return address_space_rw(as, addr, (uint8_t *)buf, len, true, false);
}

MemTxResult address_space_write_rom(AddressSpace *as, uint64_t addr, const void *buf,
                                    uint64_t len)
{
    return address_space_rw(as, addr, (uint8_t *)buf, len, true, true);
}

void *address_space_ram_ptr(AddressSpace *as, uint64_t addr, uint64_t len, bool writable)
{
    FlatView *v = address_space_get_view(as);
    const FlatRange *fr = flatview_lookup(v, addr);
    void *p = NULL;
    if (fr && (fr->mr->type == MR_RAM || (!writable && fr->mr->type == MR_ROM)) &&
        len <= fr->size - (addr - fr->start)) {
        p = fr->mr->ram + (addr - fr->start + fr->offset);
    }
    flatview_unref(v);
    return p;
}

void memory_system_init(void)
{
    if (system_memory) {
        return;
    }
    system_memory = g_new0(MemoryRegion, 1);
    memory_region_init_container(system_memory, "system", UINT64_MAX);
    address_space_init(&address_space_memory, system_memory, "memory");
}

static const char *mr_type_name(const MemoryRegion *mr)
{
    switch (mr->type) {
    case MR_RAM:
        return "ram";
    case MR_ROM:
        return "rom";
    case MR_IO:
        return "i/o";
    case MR_ALIAS:
        return "alias";
    default:
        return "container";
    }
}

static void mtree_print_mr(GString *out, const MemoryRegion *mr, uint64_t base, int level)
{
    uint64_t end = mr->size ? base + mr->size - 1 : base;
    g_string_append_printf(out, "%*s%016" PRIx64 "-%016" PRIx64 " (prio %d, %s)%s: %s",
                           level * 2, "", base, end, mr->priority, mr_type_name(mr),
                           mr->enabled ? "" : " [disabled]", mr->name);
    if (mr->type == MR_ALIAS) {
        g_string_append_printf(out, " @%s %016" PRIx64 "-%016" PRIx64, mr->alias->name,
                               mr->alias_offset, mr->alias_offset + mr->size - 1);
    }
    g_string_append_c(out, '\n');
    if (mr->type == MR_CONTAINER) {
        for (guint i = 0; i < mr->subregions->len; i++) {
            const MemoryRegion *sub = g_ptr_array_index(mr->subregions, i);
            mtree_print_mr(out, sub, base + sub->addr, level + 1);
        }
    }
}

void memory_print_mtree(GString *out)
{
    for (guint i = 0; address_spaces && i < address_spaces->len; i++) {
        AddressSpace *as = g_ptr_array_index(address_spaces, i);
        g_string_append_printf(out, "address-space: %s\n", as->name);
        mtree_print_mr(out, as->root, as->root->addr, 1);
        g_string_append_c(out, '\n');
    }
}
