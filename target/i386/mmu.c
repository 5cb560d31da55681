/* x86 paging (32-bit, PAE, 4-level with NX/WP/global pages) and the softmmu TLB. */
#include <string.h>
#include <glib.h>
#include "target/i386/internal.h"
#include "hw/core/memory.h"

#define PAGE_MASK (~0xfffull)
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

void x86_tlb_flush(X86Tcg *t, bool global)
{
    for (unsigned i = 0; i < X86_MMU_COUNT; i++) {
        for (unsigned j = 0; j < X86_TLB_SIZE; j++) {
            X86TLBEntry *e = &t->tlb[i][j];
            if (global || !e->global) {
                e->tag_r = e->tag_w = e->tag_x = X86_TLB_INVALID;
                e->global = false;
            }
        }
    }
    tb_jc_flush(t->cache);
}

void x86_tlb_flush_page(X86Tcg *t, uint64_t la)
{
    uint64_t page = la & PAGE_MASK;
    unsigned j = (page >> 12) & (X86_TLB_SIZE - 1);
    for (unsigned i = 0; i < X86_MMU_COUNT; i++) {
        X86TLBEntry *e = &t->tlb[i][j];
        if ((e->tag_r & PAGE_MASK) == page || (e->tag_w & PAGE_MASK) == page ||
            (e->tag_x & PAGE_MASK) == page) {
            e->tag_r = e->tag_w = e->tag_x = X86_TLB_INVALID;
            e->global = false;
        }
    }
    /* Large pages are cached as 4 KiB entries: INVLPG inside one drops only that piece,
     * so drop every jump-cache association instead of reasoning about extents. */
    tb_jc_flush(t->cache);
}

void x86_tlb_protect_code(X86Tcg *t, uint64_t ppage)
{
    for (unsigned i = 0; i < X86_MMU_COUNT; i++) {
        for (unsigned j = 0; j < X86_TLB_SIZE; j++) {
            X86TLBEntry *e = &t->tlb[i][j];
            if (e->tag_w != X86_TLB_INVALID && e->paddr == ppage) {
                e->tag_w |= X86_TLB_SLOW;
            }
        }
    }
}

void x86_ram_cache_reset(X86Tcg *t)
{
    t->ram_lo = 1;
    t->ram_hi = 0;
}

/* Host pointer for guest RAM [pa, pa+len) (writable: not ROM); NULL otherwise. */
static void *x86_ram_ptr(X86Tcg *t, uint64_t pa, uint64_t len, bool writable)
{
    if (pa >= t->ram_lo && pa + len - 1 <= t->ram_hi && pa + len > pa &&
        (!writable || t->ram_writable)) {
        return t->ram_host + (pa - t->ram_lo);
    }
    FlatView *v = address_space_get_view(&address_space_memory);
    const FlatRange *fr = flatview_lookup(v, pa);
    void *p = NULL;
    if (fr && (fr->mr->type == MR_RAM || fr->mr->type == MR_ROM)) {
        bool w = fr->mr->type == MR_RAM;
        if ((!writable || w) && len <= fr->size - (pa - fr->start)) {
            p = fr->mr->ram + fr->offset + (pa - fr->start);
        }
        t->ram_lo = fr->start;
        t->ram_hi = fr->start + fr->size - 1;
        t->ram_host = fr->mr->ram + fr->offset;
        t->ram_writable = w;
    }
    flatview_unref(v);
    return p;
}

static bool pte_read(X86Tcg *t, uint64_t pa, bool wide, uint64_t *val)
{
    void *h = x86_ram_ptr(t, pa, wide ? 8 : 4, false);
    if (!h) {
        /* Page tables outside RAM read as all ones, as an unbacked bus does. */
        uint64_t v = 0;
        if (memory_dispatch_read(&address_space_memory, pa, &v, wide ? 8 : 4) != MEMTX_OK) {
            v = ~0ull;
        }
        *val = wide ? v : (uint32_t)v;
        return true;
    }
    *val = wide ? __atomic_load_n((uint64_t *)h, __ATOMIC_RELAXED)
                : __atomic_load_n((uint32_t *)h, __ATOMIC_RELAXED);
    return true;
}

/* Sets accessed/dirty bits atomically (other vCPUs walk the same tables). */
static void pte_set_bits(X86Tcg *t, uint64_t pa, bool wide, uint64_t bits)
{
    void *h = x86_ram_ptr(t, pa, wide ? 8 : 4, true);
    if (!h) {
        return;
    }
    if (wide) {
        __atomic_or_fetch((uint64_t *)h, bits, __ATOMIC_RELAXED);
    } else {
        __atomic_or_fetch((uint32_t *)h, (uint32_t)bits, __ATOMIC_RELAXED);
    }
}

static void page_fault(X86Tcg *t, uint64_t la, uint32_t err, bool debug)
{
    if (!debug) {
        t->env->cr[2] = la;
        x86_raise(t, EXCP_PF, true, err);
    }
}

/* The page walk; prot gets bit 0 writable, bit 1 user, bit 2 executable. */
static bool x86_walk(X86Tcg *t, uint64_t la, X86Access acc, unsigned mmu_idx, uint64_t *pa,
                     unsigned *prot, bool *global, bool debug)
{
    CPUX86State *env = t->env;
    bool user = mmu_idx == X86_MMU_USER;
    uint32_t err = (acc == X86_ACC_WRITE ? PF_W : 0) | (user ? PF_U : 0);
    bool nxe = env->efer & X86_EFER_NXE;
    if (acc == X86_ACC_EXEC && nxe) {
        err |= PF_I;
    }
    uint64_t rsvd_nx = nxe ? 0 : PTE_NX;
    bool w = true, u = true, x = true;
    uint64_t entries[5], addrs[5];
    bool wide = true;
    int n = 0, levels;
    uint64_t table;
    unsigned leaf_shift = 12;

    if (env->cr[4] & X86_CR4_PAE) {
        if (x86_long_mode(env)) {
            int64_t s = (int64_t)la << 16 >> 16;
            if ((uint64_t)s != la) {
                /* Non-canonical addresses fault before paging: #SS(0) for a stack operand. */
                if (!debug) {
                    x86_raise(t, acc != X86_ACC_EXEC && t->stack_access ? EXCP_SS : EXCP_GP,
                              true, 0);
                }
                return false;
            }
            levels = 4;
            table = env->cr[3] & PTE_ADDR;
        } else {
            la &= 0xffffffffull;
            levels = 3;
            uint64_t pdpte;
            pte_read(t, (env->cr[3] & 0xffffffe0ull) + ((la >> 30) & 3) * 8, true, &pdpte);
            if (!(pdpte & PTE_P)) {
                page_fault(t, la, err, debug);
                return false;
            }
            table = pdpte & PTE_ADDR;
            levels = 2;
        }
        for (int lvl = levels; lvl >= 1; lvl--) {
            unsigned shift = 12 + 9 * (lvl - 1);
            uint64_t ea = table + ((la >> shift) & 0x1ff) * 8, e;
            pte_read(t, ea, true, &e);
            if (!(e & PTE_P)) {
                page_fault(t, la, err, debug);
                return false;
            }
            if (e & rsvd_nx) {
                page_fault(t, la, err | PF_P | PF_RSVD, debug);
                return false;
            }
            entries[n] = e;
            addrs[n++] = ea;
            w &= !!(e & PTE_W);
            u &= !!(e & PTE_U);
            x &= !(e & PTE_NX);
            if (lvl > 1 && (e & PTE_PS)) {
                if (lvl > 3) {
                    page_fault(t, la, err | PF_P | PF_RSVD, debug);
                    return false;
                }
                leaf_shift = shift;
                break;
            }
            table = e & PTE_ADDR;
        }
    } else {
        wide = false;
        la &= 0xffffffffull;
        uint64_t ea = (env->cr[3] & 0xfffff000ull) + (la >> 22) * 4, e;
        pte_read(t, ea, false, &e);
        if (!(e & PTE_P)) {
            page_fault(t, la, err, debug);
            return false;
        }
        entries[n] = e;
        addrs[n++] = ea;
        w &= !!(e & PTE_W);
        u &= !!(e & PTE_U);
        if ((e & PTE_PS) && (env->cr[4] & X86_CR4_PSE)) {
            leaf_shift = 22;
            /* PSE-36: bits 13..20 hold physical address bits 32..39 */
            entries[n - 1] = (e & 0xffc00000ull) | ((e >> 13) & 0xffull) << 32 | (e & 0x1fff);
        } else {
            ea = (e & 0xfffff000ull) + ((la >> 12) & 0x3ff) * 4;
            pte_read(t, ea, false, &e);
            if (!(e & PTE_P)) {
                page_fault(t, la, err, debug);
                return false;
            }
            entries[n] = e;
            addrs[n++] = ea;
            w &= !!(e & PTE_W);
            u &= !!(e & PTE_U);
        }
    }

    uint64_t leaf = entries[n - 1];
    bool wp = env->cr[0] & X86_CR0_WP;
    err |= PF_P;
    if (user && !u) {
        page_fault(t, la, err, debug);
        return false;
    }
    if (acc == X86_ACC_WRITE && !w && (user || wp)) {
        page_fault(t, la, err, debug);
        return false;
    }
    if (acc == X86_ACC_EXEC && nxe && !x) {
        page_fault(t, la, err, debug);
        return false;
    }
    if (!debug) {
        for (int i = 0; i < n; i++) {
            uint64_t bits = PTE_A | (i == n - 1 && acc == X86_ACC_WRITE ? PTE_D : 0);
            if ((entries[i] & bits) != bits) {
                pte_set_bits(t, addrs[i], wide, bits);
            }
        }
    }
    uint64_t mask = (1ull << leaf_shift) - 1;
    uint64_t base = wide ? (leaf & PTE_ADDR & ~mask) : (leaf & 0xfffffffff000ull & ~mask);
    *pa = base | (la & mask);
    /* A clean page enters the TLB read-only so the first write sets its dirty bit. */
    bool dirty = (leaf & PTE_D) || acc == X86_ACC_WRITE;
    *prot = ((w || (!user && !wp)) && dirty ? 1 : 0) | (u ? 2 : 0) | (x || !nxe ? 4 : 0);
    *global = (leaf & PTE_G) && (env->cr[4] & X86_CR4_PGE);
    return true;
}

bool x86_translate(X86Tcg *t, uint64_t la, X86Access acc, unsigned mmu_idx, uint64_t *pa,
                   bool debug)
{
    unsigned prot;
    bool global;
    if (!(t->env->cr[0] & X86_CR0_PG)) {
        *pa = x86_long_mode(t->env) ? la : (la & 0xffffffffull);
        return true;
    }
    return x86_walk(t, la, acc, mmu_idx, pa, &prot, &global, debug);
}

/* Fills the TLB entry for la; false with the exception set on a fault. */
static bool x86_tlb_fill(X86Tcg *t, uint64_t la, X86Access acc, unsigned mmu_idx,
                         X86TLBEntry **entry)
{
    CPUX86State *env = t->env;
    uint64_t pa;
    unsigned prot = 7;
    bool global = false;
    if (env->cr[0] & X86_CR0_PG) {
        if (!x86_walk(t, la, acc, mmu_idx, &pa, &prot, &global, false)) {
            return false;
        }
    } else {
        pa = x86_long_mode(env) ? la : (la & 0xffffffffull);
    }
    uint64_t page = la & PAGE_MASK, ppage = pa & PAGE_MASK;
    X86TLBEntry *e = &t->tlb[mmu_idx][(page >> 12) & (X86_TLB_SIZE - 1)];
    uint8_t *hr = x86_ram_ptr(t, ppage, 4096, false);
    uint8_t *hw = x86_ram_ptr(t, ppage, 4096, true);
    bool code = tb_page_has_code(t->cache, ppage);
    e->tag_r = hr ? page : page | X86_TLB_SLOW;
    e->tag_w = (prot & 1) ? ((hw && !code) ? page : page | X86_TLB_SLOW) : X86_TLB_INVALID;
    e->tag_x = (prot & 4) ? page : X86_TLB_INVALID;
    e->addend = hr ? (uintptr_t)hr - (uintptr_t)page : 0;
    e->paddr = ppage;
    e->global = global;
    *entry = e;
    return true;
}

/* The TLB entry for la allowing acc (filled on a miss); NULL with the exception set. */
static X86TLBEntry *x86_tlb_get(X86Tcg *t, uint64_t la, X86Access acc, unsigned mmu_idx)
{
    uint64_t page = la & PAGE_MASK;
    X86TLBEntry *e = &t->tlb[mmu_idx][(page >> 12) & (X86_TLB_SIZE - 1)];
    uint64_t tag = acc == X86_ACC_READ ? e->tag_r : acc == X86_ACC_WRITE ? e->tag_w : e->tag_x;
    if ((tag & PAGE_MASK) == page && tag != X86_TLB_INVALID) {
        return e;
    }
    if (!x86_tlb_fill(t, la, acc, mmu_idx, &e)) {
        return NULL;
    }
    tag = acc == X86_ACC_READ ? e->tag_r : acc == X86_ACC_WRITE ? e->tag_w : e->tag_x;
    return tag == X86_TLB_INVALID ? NULL : e;
}

static bool x86_load_page(X86Tcg *t, uint64_t la, unsigned size, uint64_t *val,
                          unsigned mmu_idx)
{
    X86TLBEntry *e = x86_tlb_get(t, la, X86_ACC_READ, mmu_idx);
    if (!e) {
        return false;
    }
    if (!(e->tag_r & X86_TLB_SLOW)) {
        uint64_t v = 0;
        memcpy(&v, (void *)(uintptr_t)(la + e->addend), size);
        *val = v;
        return true;
    }
    uint64_t pa = e->paddr | (la & 0xfff), v = 0;
    if (memory_dispatch_read(&address_space_memory, pa, &v, size) != MEMTX_OK) {
        v = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
    }
    *val = v;
    return true;
}

bool x86_load_slow(X86Tcg *t, uint64_t la, unsigned size, uint64_t *val, unsigned mmu_idx)
{
    if (((la & 0xfff) + size) <= 4096) {
        return x86_load_page(t, la, size, val, mmu_idx);
    }
    /* Crossing a page: both pages must be readable before anything is returned. */
    unsigned n1 = 4096 - (la & 0xfff);
    uint64_t lo, hi;
    if (!x86_load_slow(t, la, n1, &lo, mmu_idx) ||
        !x86_load_slow(t, la + n1, size - n1, &hi, mmu_idx)) {
        return false;
    }
    *val = lo | hi << (n1 * 8);
    return true;
}

static void x86_store_page(X86Tcg *t, X86TLBEntry *e, uint64_t la, unsigned size, uint64_t val)
{
    uint64_t pa = e->paddr | (la & 0xfff);
    if (!(e->tag_w & X86_TLB_SLOW)) {
        memcpy((void *)(uintptr_t)(la + e->addend), &val, size);
        return;
    }
    void *h = x86_ram_ptr(t, pa, size, true);
    if (h) {
        if (tb_invalidate_phys_page(t->cache, pa & PAGE_MASK)) {
            t->tb_invalidated = true;
        }
        memcpy(h, &val, size);
        return;
    }
    memory_dispatch_write(&address_space_memory, pa, val, size);
}

bool x86_store_slow(X86Tcg *t, uint64_t la, unsigned size, uint64_t val, unsigned mmu_idx)
{
    if (((la & 0xfff) + size) <= 4096) {
        X86TLBEntry *e = x86_tlb_get(t, la, X86_ACC_WRITE, mmu_idx);
        if (!e) {
            return false;
        }
        x86_store_page(t, e, la, size, val);
        return true;
    }
    unsigned n1 = 4096 - (la & 0xfff);
    X86TLBEntry *e1 = x86_tlb_get(t, la, X86_ACC_WRITE, mmu_idx);
    if (!e1) {
        return false;
    }
    uint64_t pa1 = e1->paddr;
    X86TLBEntry *e2 = x86_tlb_get(t, la + n1, X86_ACC_WRITE, mmu_idx);
    if (!e2) {
        return false;
    }
    /* The second fill may have evicted the first page's entry: refill it. */
    e1 = x86_tlb_get(t, la, X86_ACC_WRITE, mmu_idx);
    if (!e1 || e1->paddr != pa1) {
        return false;
    }
    x86_store_page(t, e1, la, n1, val);
    e2 = x86_tlb_get(t, la + n1, X86_ACC_WRITE, mmu_idx);
    if (!e2) {
        return false;
    }
    x86_store_page(t, e2, la + n1, size - n1, val >> (n1 * 8));
    return true;
}

bool x86_probe_write(X86Tcg *t, uint64_t la, unsigned size, unsigned mmu_idx)
{
    if (!x86_tlb_get(t, la, X86_ACC_WRITE, mmu_idx)) {
        return false;
    }
    uint64_t last = la + size - 1;
    if ((last & PAGE_MASK) != (la & PAGE_MASK)) {
        return x86_tlb_get(t, last, X86_ACC_WRITE, mmu_idx) != NULL;
    }
    return true;
}

void *x86_rmw_ptr(X86Tcg *t, uint64_t la, unsigned size, unsigned mmu_idx)
{
    if (((la & 0xfff) + size) > 4096) {
        return NULL;
    }
    X86TLBEntry *e = x86_tlb_get(t, la, X86_ACC_WRITE, mmu_idx);
    if (!e) {
        return NULL;
    }
    uint64_t pa = e->paddr | (la & 0xfff);
    if (!(e->tag_w & X86_TLB_SLOW)) {
        return (void *)(uintptr_t)(la + e->addend);
    }
    void *h = x86_ram_ptr(t, pa, size, true);
    if (h && tb_invalidate_phys_page(t->cache, pa & PAGE_MASK)) {
        t->tb_invalidated = true;
    }
    return h;
}

const uint8_t *x86_fetch_page(X86Tcg *t, uint64_t pc, uint64_t *phys)
{
    X86TLBEntry *e = x86_tlb_get(t, pc, X86_ACC_EXEC, t->mmu_idx);
    if (!e) {
        return NULL;
    }
    uint64_t pa = e->paddr | (pc & 0xfff);
    const uint8_t *h = x86_ram_ptr(t, pa & PAGE_MASK, 4096, false);
    if (!h) {
        /* Code must live in RAM or ROM: fetching from a device is a machine check. */
        x86_raise(t, EXCP_MC, false, 0);
        return NULL;
    }
    *phys = pa;
    return h + (pc & 0xfff);
}
