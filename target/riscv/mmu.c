/* Sv39/Sv48 page walks, PMP, the softmmu TLB and the slow paths of loads, stores and AMOs. */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include "target/riscv/internal.h"
#include "util/log.h"

#define PAGE_SIZE 4096ull
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK ((1ull << 44) - 1)

#define PROT_R 1
#define PROT_W 2
#define PROT_X 4

#define PMP_R 1
#define PMP_W 2
#define PMP_X 4
#define PMP_A_SHIFT 3
#define PMP_L 0x80
enum { PMP_OFF = 0, PMP_TOR = 1, PMP_NA4 = 2, PMP_NAPOT = 3 };
#define PMP_ADDR_MASK ((1ull << 54) - 1)

static TBCache *env_cache(CPURISCVState *env)
{
    return env_cpu(env)->cache;
}

void riscv_tlb_flush(CPURISCVState *env)
{
    if (env->tlb_log_count <= TLB_LOG_SIZE) {
        for (unsigned k = 0; k < env->tlb_log_count; k++) {
            unsigned v = env->tlb_log[k];
            TLBEntry *e = &env->tlb[v >> TLB_BITS][v & (TLB_SIZE - 1)];
            e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
        }
    } else {
        for (unsigned i = 0; i < MMU_IDX_COUNT; i++) {
            for (unsigned j = 0; j < TLB_SIZE; j++) {
                TLBEntry *e = &env->tlb[i][j];
                e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
            }
        }
    }
    env->tlb_log_count = 0;
    env->tlb_large_lo = UINT64_MAX;
    env->tlb_large_hi = 0;
    riscv_ram_cache_reset(env);
    TBCache *c = env_cache(env);
    if (c) {
        tb_jc_flush(c);
    }
}

void riscv_tlb_flush_page(CPURISCVState *env, uint64_t vaddr)
{
    uint64_t page = vaddr & PAGE_MASK;
    if (page >= env->tlb_large_lo && page <= env->tlb_large_hi) {
        riscv_tlb_flush(env);
        return;
    }
    unsigned j = (page >> 12) & (TLB_SIZE - 1);
    for (unsigned i = 0; i < MMU_IDX_COUNT; i++) {
        TLBEntry *e = &env->tlb[i][j];
        if ((e->tag_r & ~TLB_SLOW) == page || (e->tag_w & ~TLB_SLOW) == page ||
            e->tag_x == page) {
            e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
        }
    }
    TBCache *c = env_cache(env);
    if (c) {
        tb_jc_flush_page(c, page);
    }
}

/* Host pointer for guest RAM [paddr, paddr+len) (writable: not ROM); NULL otherwise.
 * Remembers the last RAM range so page walks avoid the view lookup. */
static void *ram_ptr(CPURISCVState *env, uint64_t paddr, uint64_t len, bool writable)
{
    if (paddr >= env->ram_lo && paddr + len - 1 <= env->ram_hi && paddr + len > paddr &&
        (!writable || env->ram_writable)) {
        return env->ram_host + (paddr - env->ram_lo);
    }
    FlatView *v = address_space_get_view(&address_space_memory);
    const FlatRange *fr = flatview_lookup(v, paddr);
    void *p = NULL;
    if (fr && (fr->mr->type == MR_RAM || fr->mr->type == MR_ROM)) {
        bool w = fr->mr->type == MR_RAM;
        if ((!writable || w) && len <= fr->size - (paddr - fr->start)) {
            p = fr->mr->ram + fr->offset + (paddr - fr->start);
        }
        env->ram_lo = fr->start;
        env->ram_hi = fr->start + fr->size - 1;
        env->ram_host = fr->mr->ram + fr->offset;
        env->ram_writable = w;
    }
    flatview_unref(v);
    return p;
}

void riscv_ram_cache_reset(CPURISCVState *env)
{
    env->ram_lo = 1;
    env->ram_hi = 0;
}

/* ---- PMP ---- */

/* The byte range [lo, hi] of entry i; false when the entry is off or empty. */
static bool pmp_range(CPURISCVState *env, unsigned i, uint64_t *lo, uint64_t *hi)
{
    uint8_t cfg = env->pmpcfg[i];
    uint64_t a = env->pmpaddr[i];
    switch ((cfg >> PMP_A_SHIFT) & 3) {
    case PMP_TOR: {
        uint64_t base = i ? env->pmpaddr[i - 1] << 2 : 0;
        uint64_t top = a << 2;
        if (top <= base) {
            return false;
        }
        *lo = base;
        *hi = top - 1;
        return true;
    }
    case PMP_NA4:
        *lo = a << 2;
        *hi = *lo + 3;
        return true;
    case PMP_NAPOT: {
        unsigned t = (unsigned)__builtin_ctzll(~a);   /* trailing ones */
        if (t >= 54) {
            *lo = 0;
            *hi = UINT64_MAX;
            return true;
        }
        uint64_t size = 8ull << t;
        *lo = (a << 2) & ~(size - 1);
        *hi = *lo + size - 1;
        return true;
    }
    default:
        return false;
    }
}

/* Permissions (PMP_R/W/X) valid for every byte of [addr, addr+size) at priv, or -1 when the
 * highest-priority matching entry covers only part of the range. */
static int pmp_prot(CPURISCVState *env, uint64_t addr, uint64_t size, uint64_t priv)
{
    uint64_t last = addr + size - 1;
    for (unsigned i = 0; i < PMP_ENTRIES; i++) {
        uint64_t lo, hi;
        if (!pmp_range(env, i, &lo, &hi) || last < lo || addr > hi) {
            continue;
        }
        if (addr < lo || last > hi) {
            return -1;
        }
        uint8_t cfg = env->pmpcfg[i];
        if (priv == PRV_M && !(cfg & PMP_L)) {
            return PMP_R | PMP_W | PMP_X;
        }
        return cfg & (PMP_R | PMP_W | PMP_X);
    }
    return priv == PRV_M ? (PMP_R | PMP_W | PMP_X) : 0;
}

static bool pmp_locked(CPURISCVState *env, unsigned i)
{
    return (env->pmpcfg[i] & PMP_L) != 0;
}

void riscv_pmp_write_cfg(CPURISCVState *env, unsigned reg, uint64_t val)
{
    if ((reg & 1) || reg * 4 >= PMP_ENTRIES) {
        return;
    }
    for (unsigned k = 0; k < 8; k++) {
        unsigned i = reg * 4 + k;
        uint8_t cfg = (uint8_t)(val >> (8 * k));
        if (pmp_locked(env, i)) {
            continue;
        }
        cfg &= 0x9f;
        if ((cfg & (PMP_R | PMP_W)) == PMP_W) {
            cfg &= ~PMP_W;            /* R=0, W=1 is reserved */
        }
        env->pmpcfg[i] = cfg;
    }
    riscv_tlb_flush(env);
}

void riscv_pmp_write_addr(CPURISCVState *env, unsigned i, uint64_t val)
{
    if (pmp_locked(env, i)) {
        return;
    }
    if (i + 1 < PMP_ENTRIES && pmp_locked(env, i + 1) &&
        ((env->pmpcfg[i + 1] >> PMP_A_SHIFT) & 3) == PMP_TOR) {
        return;
    }
    env->pmpaddr[i] = val & PMP_ADDR_MASK;
    riscv_tlb_flush(env);
}

/* ---- page walk ---- */

static uint64_t fault_cause(AccessType acc, bool page_fault)
{
    if (page_fault) {
        return acc == ACC_EXEC ? EXC_INST_PAGE_FAULT :
               acc == ACC_WRITE ? EXC_STORE_PAGE_FAULT : EXC_LOAD_PAGE_FAULT;
    }
    return acc == ACC_EXEC ? EXC_INST_ACCESS :
           acc == ACC_WRITE ? EXC_STORE_ACCESS : EXC_LOAD_ACCESS;
}

static bool raise_fault(CPURISCVState *env, AccessType acc, bool page_fault, uint64_t vaddr)
{
    env->exc_cause = fault_cause(acc, page_fault);
    env->exc_tval = vaddr;
    log_mask_printf(LOG_MMU, "riscv: %s fault at 0x%016" PRIx64 " (access %d)\n",
                    page_fault ? "page" : "access", vaddr, acc);
    return false;
}

static uint64_t idx_priv(unsigned mmu_idx)
{
    return mmu_idx == MMU_IDX_M ? PRV_M : mmu_idx == MMU_IDX_U ? PRV_U : PRV_S;
}

/* Walks the page table for vaddr. On success *paddr is the physical address, *prot the
 * access kinds the TLB may allow for the page and *large the leaf's size if above 4 KiB. */
static bool page_walk(CPURISCVState *env, uint64_t vaddr, AccessType acc, unsigned mmu_idx,
                      uint64_t *paddr, int *prot, bool *large, bool debug)
{
    uint64_t mode = env->satp >> 60;
    unsigned levels = mode == 8 ? 3 : 4;
    unsigned va_bits = 12 + 9 * levels;
    uint64_t priv = idx_priv(mmu_idx);
    bool sum = mmu_idx == MMU_IDX_S_SUM;
    bool mxr = (env->mstatus & MSTATUS_MXR) != 0;

    if ((uint64_t)((int64_t)(vaddr << (64 - va_bits)) >> (64 - va_bits)) != vaddr) {
        return debug ? false : raise_fault(env, acc, true, vaddr);
    }
restart:;
    uint64_t base = (env->satp & PTE_PPN_MASK) << 12;
    for (int level = (int)levels - 1; level >= 0; level--) {
        unsigned shift = 12 + 9 * (unsigned)level;
        uint64_t pte_addr = base + ((vaddr >> shift) & 511) * 8;
        if (pmp_prot(env, pte_addr, 8, PRV_S) < 0 ||
            !(pmp_prot(env, pte_addr, 8, PRV_S) & PMP_R)) {
            return debug ? false : raise_fault(env, acc, false, vaddr);
        }
        uint64_t *host = ram_ptr(env, pte_addr, 8, false);
        if (!host) {
            return debug ? false : raise_fault(env, acc, false, vaddr);
        }
        uint64_t pte = __atomic_load_n(host, __ATOMIC_ACQUIRE);
        if (!(pte & PTE_V) || ((pte & (PTE_R | PTE_W)) == PTE_W) || (pte >> 54)) {
            return debug ? false : raise_fault(env, acc, true, vaddr);
        }
        uint64_t ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK;
        if (!(pte & (PTE_R | PTE_X))) {
            if (level == 0) {
                return debug ? false : raise_fault(env, acc, true, vaddr);
            }
            base = ppn << 12;
            continue;
        }
        /* leaf */
        int p = 0;
        if (pte & PTE_R) {
            p |= PROT_R;
        }
        if ((pte & PTE_X) && mxr) {
            p |= PROT_R;
        }
        if (pte & PTE_W) {
            p |= PROT_W;
        }
        if (pte & PTE_X) {
            p |= PROT_X;
        }
        if (priv == PRV_U) {
            if (!(pte & PTE_U)) {
                p = 0;
            }
        } else if (pte & PTE_U) {
            p = sum ? (p & ~PROT_X) : 0;
        }
        int need = acc == ACC_EXEC ? PROT_X : acc == ACC_WRITE ? PROT_W : PROT_R;
        if (!(p & need)) {
            return debug ? false : raise_fault(env, acc, true, vaddr);
        }
        uint64_t lmask = (1ull << (9 * (unsigned)level)) - 1;
        if (ppn & lmask) {
            return debug ? false : raise_fault(env, acc, true, vaddr);   /* misaligned */
        }
        if (!debug) {
            uint64_t want = PTE_A | (acc == ACC_WRITE ? PTE_D : 0);
            if ((pte & want) != want) {
                uint64_t *wh = ram_ptr(env, pte_addr, 8, true);
                if (!wh || !(pmp_prot(env, pte_addr, 8, PRV_S) & PMP_W)) {
                    return raise_fault(env, acc, false, vaddr);
                }
                if (!__atomic_compare_exchange_n(wh, &pte, pte | want, false,
                                                 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                    goto restart;
                }
                pte |= want;
            }
            if (!(pte & PTE_D)) {
                p &= ~PROT_W;         /* the first write must set D */
            }
        }
        *paddr = ((ppn | ((vaddr >> 12) & lmask)) << 12) | (vaddr & 0xfff);
        *prot = p;
        *large = level > 0;
        return true;
    }
    return debug ? false : raise_fault(env, acc, true, vaddr);
}

/* Full translation with PMP; prot and cacheable describe the whole page for the TLB. */
static bool translate_prot(CPURISCVState *env, uint64_t vaddr, AccessType acc,
                           unsigned mmu_idx, unsigned size, uint64_t *paddr, int *prot,
                           bool *cacheable, bool *large, bool debug)
{
    uint64_t priv = idx_priv(mmu_idx);
    int p = PROT_R | PROT_W | PROT_X;
    *large = false;
    if (priv == PRV_M || (env->satp >> 60) == 0) {
        *paddr = vaddr;
    } else if (!page_walk(env, vaddr, acc, mmu_idx, paddr, &p, large, debug)) {
        return false;
    }
    int page = pmp_prot(env, *paddr & PAGE_MASK, PAGE_SIZE, priv);
    int need = acc == ACC_EXEC ? PMP_X : acc == ACC_WRITE ? PMP_W : PMP_R;
    int exact = page >= 0 ? page : pmp_prot(env, *paddr, size, priv);
    if (exact < 0 || !(exact & need)) {
        return debug ? false : raise_fault(env, acc, false, vaddr);
    }
    *cacheable = page >= 0;
    *prot = page >= 0 ? (p & page) : need;
    return true;
}

bool riscv_translate(CPURISCVState *env, uint64_t vaddr, AccessType acc, unsigned mmu_idx,
                     unsigned size, uint64_t *paddr, bool *cacheable, bool debug)
{
    int prot;
    bool large;
    return translate_prot(env, vaddr, acc, mmu_idx, size, paddr, &prot, cacheable, &large,
                          debug);
}

/* ---- TLB ---- */

/* Translates vaddr for acc and installs the page in the TLB when allowed. Returns the
 * entry, or NULL with *paddr set when the page may not be cached; false on a fault. */
static bool tlb_fill(CPURISCVState *env, uint64_t vaddr, AccessType acc, unsigned mmu_idx,
                     unsigned size, TLBEntry **entry, uint64_t *paddr)
{
    int prot;
    bool cacheable, large;
    if (!translate_prot(env, vaddr, acc, mmu_idx, size, paddr, &prot, &cacheable, &large,
                        false)) {
        return false;
    }
    *entry = NULL;
    if (!cacheable) {
        return true;
    }
    uint64_t page = vaddr & PAGE_MASK;
    uint64_t ppage = *paddr & PAGE_MASK;
    unsigned j = (page >> 12) & (TLB_SIZE - 1);
    TLBEntry *e = &env->tlb[mmu_idx][j];
    TLBExtra *x = &env->tlb_extra[mmu_idx][j];
    uint8_t *hr = ram_ptr(env, ppage, PAGE_SIZE, false);
    uint8_t *hw = ram_ptr(env, ppage, PAGE_SIZE, true);
    TBCache *c = env_cache(env);
    bool code = c && tb_page_has_code(c, ppage);
    e->tag_r = (prot & PROT_R) ? (hr ? page : page | TLB_SLOW) : TLB_INVALID;
    e->tag_w = (prot & PROT_W) ? ((hw && !code) ? page : page | TLB_SLOW) : TLB_INVALID;
    e->tag_x = (prot & PROT_X) ? page : TLB_INVALID;
    e->addend = hr ? (uintptr_t)hr - (uintptr_t)page : 0;
    if (env->tlb_log_count < TLB_LOG_SIZE) {
        env->tlb_log[env->tlb_log_count] = (uint16_t)(mmu_idx << TLB_BITS | j);
    }
    if (env->tlb_log_count <= TLB_LOG_SIZE) {
        env->tlb_log_count++;
    }
    x->paddr = ppage;
    x->ram = hr != NULL;
    x->ram_w = hw != NULL;
    if (large) {
        if (page < env->tlb_large_lo) {
            env->tlb_large_lo = page;
        }
        if (page > env->tlb_large_hi) {
            env->tlb_large_hi = page;
        }
    }
    *entry = e;
    return true;
}

void riscv_tlb_protect_code(CPURISCVState *env, uint64_t ppage)
{
    for (unsigned i = 0; i < MMU_IDX_COUNT; i++) {
        for (unsigned j = 0; j < TLB_SIZE; j++) {
            TLBEntry *e = &env->tlb[i][j];
            if (e->tag_w != TLB_INVALID && env->tlb_extra[i][j].paddr == ppage) {
                e->tag_w |= TLB_SLOW;
            }
        }
    }
}

static bool mmio_error(CPURISCVState *env, AccessType acc, uint64_t vaddr)
{
    return raise_fault(env, acc, false, vaddr);
}

/* True when something (RAM, ROM or a device) answers at physical address pa. */
static bool phys_mapped(uint64_t pa)
{
    FlatView *v = address_space_get_view(&address_space_memory);
    bool mapped = flatview_lookup(v, pa) != NULL;
    flatview_unref(v);
    return mapped;
}

/* One access that stays within a page. */
static bool load_page(CPURISCVState *env, uint64_t addr, unsigned size, uint64_t *val)
{
    unsigned idx = env->dmmu_idx;
    uint64_t page = addr & PAGE_MASK;
    TLBEntry *e = &env->tlb[idx][(page >> 12) & (TLB_SIZE - 1)];
    uint64_t paddr;
    if ((e->tag_r & ~TLB_SLOW) != page) {
        if (!tlb_fill(env, addr, ACC_READ, idx, size, &e, &paddr)) {
            return false;
        }
    }
    if (e) {
        TLBExtra *x = &env->tlb_extra[idx][(page >> 12) & (TLB_SIZE - 1)];
        if (x->ram) {
            uint64_t v = 0;
            memcpy(&v, (void *)(e->addend + addr), size);
            *val = v;
            return true;
        }
        paddr = x->paddr | (addr & ~PAGE_MASK);
    }
    uint64_t v = 0;
    if (memory_dispatch_read(&address_space_memory, paddr, &v, size) != MEMTX_OK) {
        return mmio_error(env, ACC_READ, addr);
    }
    *val = v;
    return true;
}

bool riscv_load_slow(CPURISCVState *env, uint64_t addr, unsigned size, uint64_t *val)
{
    if ((addr & ~PAGE_MASK) + size > PAGE_SIZE) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            uint64_t b;
            if (!load_page(env, addr + i, 1, &b)) {
                return false;
            }
            v |= (b & 0xff) << (8 * i);
        }
        *val = v;
        return true;
    }
    return load_page(env, addr, size, val);
}

/* Invalidates translated code on ppage after a write; re-arms the fast path. */
static void store_notdirty(CPURISCVState *env, uint64_t ppage, TLBEntry *e)
{
    TBCache *c = env_cache(env);
    if (c && tb_invalidate_phys_page(c, ppage)) {
        env->tb_invalidated = true;
    }
    if (e) {
        e->tag_w &= ~TLB_SLOW;
    }
}

static bool store_page(CPURISCVState *env, uint64_t addr, unsigned size, uint64_t val)
{
    unsigned idx = env->dmmu_idx;
    uint64_t page = addr & PAGE_MASK;
    unsigned j = (page >> 12) & (TLB_SIZE - 1);
    TLBEntry *e = &env->tlb[idx][j];
    uint64_t paddr;
    if ((e->tag_w & ~TLB_SLOW) != page) {
        if (!tlb_fill(env, addr, ACC_WRITE, idx, size, &e, &paddr)) {
            return false;
        }
    }
    if (e) {
        TLBExtra *x = &env->tlb_extra[idx][j];
        if (x->ram_w) {
            if (e->tag_w & TLB_SLOW) {
                store_notdirty(env, x->paddr, e);
            }
            memcpy((void *)(e->addend + addr), &val, size);
            return true;
        }
        paddr = x->paddr | (addr & ~PAGE_MASK);
    } else {
        uint8_t *h = ram_ptr(env, paddr, size, true);
        if (h) {
            store_notdirty(env, paddr & PAGE_MASK, NULL);
            memcpy(h, &val, size);
            return true;
        }
    }
    if (memory_dispatch_write(&address_space_memory, paddr, val, size) != MEMTX_OK) {
        return mmio_error(env, ACC_WRITE, addr);
    }
    return true;
}

bool riscv_store_slow(CPURISCVState *env, uint64_t addr, unsigned size, uint64_t val)
{
    if ((addr & ~PAGE_MASK) + size > PAGE_SIZE) {
        /* probe both pages first so that a fault leaves memory untouched */
        uint64_t second = (addr + size - 1) & PAGE_MASK;
        uint64_t pa;
        bool cacheable;
        if (!riscv_translate(env, addr, ACC_WRITE, env->dmmu_idx, 1, &pa, &cacheable, false)) {
            return false;
        }
        if (!phys_mapped(pa)) {
            return mmio_error(env, ACC_WRITE, addr);
        }
        if (!riscv_translate(env, second, ACC_WRITE, env->dmmu_idx, 1, &pa, &cacheable,
                             false)) {
            return false;
        }
        if (!phys_mapped(pa)) {
            return mmio_error(env, ACC_WRITE, second);
        }
        for (unsigned i = 0; i < size; i++) {
            if (!store_page(env, addr + i, 1, (val >> (8 * i)) & 0xff)) {
                return false;
            }
        }
        return true;
    }
    return store_page(env, addr, size, val);
}

const uint8_t *riscv_fetch_page(CPURISCVState *env, uint64_t pc, uint64_t *phys,
                                unsigned size)
{
    unsigned idx = env->priv == PRV_M ? MMU_IDX_M : env->priv == PRV_S ? MMU_IDX_S : MMU_IDX_U;
    uint64_t page = pc & PAGE_MASK;
    unsigned j = (page >> 12) & (TLB_SIZE - 1);
    TLBEntry *e = &env->tlb[idx][j];
    uint64_t paddr;
    if (e->tag_x != page) {
        if (!tlb_fill(env, pc, ACC_EXEC, idx, size, &e, &paddr)) {
            return NULL;
        }
    }
    if (e) {
        TLBExtra *x = &env->tlb_extra[idx][j];
        if (!x->ram) {
            raise_fault(env, ACC_EXEC, false, pc);
            return NULL;
        }
        *phys = x->paddr | (pc & ~PAGE_MASK);
        return (const uint8_t *)(e->addend + pc);
    }
    const uint8_t *h = ram_ptr(env, paddr, size, false);
    if (!h) {
        raise_fault(env, ACC_EXEC, false, pc);
        return NULL;
    }
    *phys = paddr;
    return h;
}

/* ---- atomics ---- */

enum {
    AMO_ADD = 0x00, AMO_SWAP = 0x01, AMO_LR = 0x02, AMO_SC = 0x03, AMO_XOR = 0x04,
    AMO_OR = 0x08, AMO_AND = 0x0c, AMO_MIN = 0x10, AMO_MAX = 0x14, AMO_MINU = 0x18,
    AMO_MAXU = 0x1c,
};

/* Host pointer for an atomic access to RAM at addr (faults as a store unless LR). */
static void *amo_host(CPURISCVState *env, uint64_t addr, unsigned width, AccessType acc,
                      uint64_t *paddr_out)
{
    unsigned idx = env->dmmu_idx;
    uint64_t page = addr & PAGE_MASK;
    unsigned j = (page >> 12) & (TLB_SIZE - 1);
    TLBEntry *e = &env->tlb[idx][j];
    uint64_t tag = acc == ACC_WRITE ? e->tag_w : e->tag_r;
    uint64_t paddr;
    if ((tag & ~TLB_SLOW) != page) {
        if (!tlb_fill(env, addr, acc, idx, width, &e, &paddr)) {
            return NULL;
        }
    }
    void *h;
    if (e) {
        TLBExtra *x = &env->tlb_extra[idx][j];
        paddr = x->paddr | (addr & ~PAGE_MASK);
        if (!(acc == ACC_WRITE ? x->ram_w : x->ram)) {
            raise_fault(env, acc, false, addr);
            return NULL;
        }
        if (acc == ACC_WRITE && (e->tag_w & TLB_SLOW)) {
            store_notdirty(env, x->paddr, e);
        }
        h = (void *)(e->addend + addr);
    } else {
        h = ram_ptr(env, paddr, width, acc == ACC_WRITE);
        if (!h) {
            raise_fault(env, acc, false, addr);
            return NULL;
        }
        if (acc == ACC_WRITE) {
            store_notdirty(env, paddr & PAGE_MASK, NULL);
        }
    }
    *paddr_out = paddr;
    return h;
}

static uint64_t amo_apply(unsigned funct5, unsigned width, uint64_t old, uint64_t src)
{
    int64_t so = width == 4 ? (int32_t)old : (int64_t)old;
    int64_t ss = width == 4 ? (int32_t)src : (int64_t)src;
    uint64_t uo = width == 4 ? (uint32_t)old : old;
    uint64_t us = width == 4 ? (uint32_t)src : src;
    switch (funct5) {
    case AMO_ADD: return old + src;
    case AMO_SWAP: return src;
    case AMO_XOR: return old ^ src;
    case AMO_OR: return old | src;
    case AMO_AND: return old & src;
    case AMO_MIN: return so < ss ? old : src;
    case AMO_MAX: return so > ss ? old : src;
    case AMO_MINU: return uo < us ? old : src;
    default: return uo > us ? old : src;   /* AMO_MAXU */
    }
}

bool riscv_amo(CPURISCVState *env, unsigned funct5, unsigned width, uint64_t addr,
               uint64_t src, uint64_t *result)
{
    bool is_lr = funct5 == AMO_LR;
    if (addr & (width - 1)) {
        env->exc_cause = is_lr ? EXC_LOAD_MISALIGNED : EXC_STORE_MISALIGNED;
        env->exc_tval = addr;
        return false;
    }
    uint64_t paddr;
    void *h = amo_host(env, addr, width, is_lr ? ACC_READ : ACC_WRITE, &paddr);
    if (!h) {
        return false;
    }
    if (is_lr) {
        uint64_t v = width == 4 ? (uint64_t)(int64_t)(int32_t)__atomic_load_n((uint32_t *)h,
                                                                              __ATOMIC_ACQUIRE)
                                : __atomic_load_n((uint64_t *)h, __ATOMIC_ACQUIRE);
        env->lr_addr = paddr;
        env->lr_val = v;
        *result = v;
        return true;
    }
    if (funct5 == AMO_SC) {
        bool ok = false;
        if (env->lr_addr == paddr) {
            if (width == 4) {
                uint32_t exp = (uint32_t)env->lr_val;
                ok = __atomic_compare_exchange_n((uint32_t *)h, &exp, (uint32_t)src, false,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            } else {
                uint64_t exp = env->lr_val;
                ok = __atomic_compare_exchange_n((uint64_t *)h, &exp, src, false,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            }
        }
        env->lr_addr = UINT64_MAX;
        *result = ok ? 0 : 1;
        return true;
    }
    if (width == 4) {
        uint32_t *p = h;
        uint32_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(p, &old,
                                            (uint32_t)amo_apply(funct5, 4, old, src), false,
                                            __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
        }
        *result = (uint64_t)(int64_t)(int32_t)old;
    } else {
        uint64_t *p = h;
        uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(p, &old, amo_apply(funct5, 8, old, src), false,
                                            __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
        }
        *result = old;
    }
    return true;
}
