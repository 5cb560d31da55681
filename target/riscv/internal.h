#ifndef TARGET_RISCV_INTERNAL_H
#define TARGET_RISCV_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "accel/tcg/tcg.h"
#include "target/riscv/cpu.h"

/* RV64 hart state and the pieces of the interpreter shared between target/riscv files. */

enum { PRV_U = 0, PRV_S = 1, PRV_M = 3 };

/* mstatus bits */
#define MSTATUS_SIE   (1ull << 1)
#define MSTATUS_MIE   (1ull << 3)
#define MSTATUS_SPIE  (1ull << 5)
#define MSTATUS_UBE   (1ull << 6)
#define MSTATUS_MPIE  (1ull << 7)
#define MSTATUS_SPP   (1ull << 8)
#define MSTATUS_MPP   (3ull << 11)
#define MSTATUS_FS    (3ull << 13)
#define MSTATUS_XS    (3ull << 15)
#define MSTATUS_MPRV  (1ull << 17)
#define MSTATUS_SUM   (1ull << 18)
#define MSTATUS_MXR   (1ull << 19)
#define MSTATUS_TVM   (1ull << 20)
#define MSTATUS_TW    (1ull << 21)
#define MSTATUS_TSR   (1ull << 22)
#define MSTATUS_UXL   (3ull << 32)
#define MSTATUS_SXL   (3ull << 34)
#define MSTATUS_SD    (1ull << 63)
#define MSTATUS_FS_DIRTY (3ull << 13)

#define MIP_SSIP (1ull << RISCV_IRQ_S_SOFT)
#define MIP_MSIP (1ull << RISCV_IRQ_M_SOFT)
#define MIP_STIP (1ull << RISCV_IRQ_S_TIMER)
#define MIP_MTIP (1ull << RISCV_IRQ_M_TIMER)
#define MIP_SEIP (1ull << RISCV_IRQ_S_EXT)
#define MIP_MEIP (1ull << RISCV_IRQ_M_EXT)
#define MIP_S_MASK (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define MIP_ALL (MIP_S_MASK | MIP_MSIP | MIP_MTIP | MIP_MEIP)

/* exception causes */
enum {
    EXC_INST_MISALIGNED = 0,
    EXC_INST_ACCESS = 1,
    EXC_ILLEGAL_INST = 2,
    EXC_BREAKPOINT = 3,
    EXC_LOAD_MISALIGNED = 4,
    EXC_LOAD_ACCESS = 5,
    EXC_STORE_MISALIGNED = 6,
    EXC_STORE_ACCESS = 7,
    EXC_ECALL_U = 8,
    EXC_ECALL_S = 9,
    EXC_ECALL_M = 11,
    EXC_INST_PAGE_FAULT = 12,
    EXC_LOAD_PAGE_FAULT = 13,
    EXC_STORE_PAGE_FAULT = 15,
};

/* Memory access kinds for translation and PMP. */
typedef enum { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 } AccessType;

/* Softmmu TLB: one direct-mapped table per MMU index. A tag is the page-aligned virtual
 * address when the access kind is allowed without a slow path, TLB_INVALID otherwise;
 * TLB_SLOW in a tag sends matching accesses to the slow path (MMIO, code pages). */
#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID UINT64_MAX
#define TLB_SLOW 0x800ull

/* TLB entries filled since the last full flush that riscv_tlb_flush invalidates one by one;
 * past that many it invalidates every entry. */
#define TLB_LOG_SIZE 256

enum { MMU_IDX_U = 0, MMU_IDX_S = 1, MMU_IDX_S_SUM = 2, MMU_IDX_M = 3, MMU_IDX_COUNT = 4 };

typedef struct TLBEntry {
    uint64_t tag_r, tag_w, tag_x;
    uintptr_t addend;            /* host = guest virtual + addend (RAM pages) */
} TLBEntry;

typedef struct TLBExtra {
    uint64_t paddr;              /* physical page */
    bool ram, ram_w;             /* host memory backs reads / writes */
} TLBExtra;

#define PMP_ENTRIES 16

typedef struct CPURISCVState {
    uint64_t x[33];              /* x[32] swallows writes to x0 */
    uint64_t f[32];
    uint64_t pc;
    uint64_t priv;

    /* translation state derived from priv/mstatus (riscv_update_mode) */
    uint32_t tb_flags;
    TLBEntry *dtlb;              /* data accesses */
    unsigned dmmu_idx;

    uint64_t mstatus;
    uint64_t misa;
    uint64_t medeleg, mideleg;
    uint64_t mie;
    uint64_t mip;                /* atomic; SEIP here is the software-written bit */
    uint32_t seip_ext;           /* atomic; the external S-level interrupt line */
    uint64_t mtvec, stvec;
    uint64_t mepc, sepc;
    uint64_t mcause, scause;
    uint64_t mtval, stval;
    uint64_t mscratch, sscratch;
    uint32_t mcounteren, scounteren, mcountinhibit;
    uint64_t menvcfg, senvcfg;
    uint64_t satp;
    uint32_t fflags, frm;
    uint64_t instret;            /* retired instructions (approximate within a block) */
    int64_t minstret_off, mcycle_off;

    uint8_t pmpcfg[PMP_ENTRIES];
    uint64_t pmpaddr[PMP_ENTRIES];

    uint64_t lr_addr;            /* reservation: physical address, UINT64_MAX for none */
    uint64_t lr_val;

    /* pending exception (set by helpers that fail) */
    uint64_t exc_cause, exc_tval;
    bool tb_invalidated;         /* a store invalidated translated code */
    void *jit_tb;                /* TranslationBlock JIT host code returned from */

    uint64_t (*get_time)(void *opaque);
    void *time_opaque;

    uint64_t tlb_large_lo, tlb_large_hi;   /* virtual pages cached from superpages */
    uint64_t ram_lo, ram_hi;     /* last RAM range seen by ram_ptr */
    uint8_t *ram_host;
    bool ram_writable;

    uint16_t tlb_log[TLB_LOG_SIZE];   /* (mmu index << TLB_BITS) | slot */
    unsigned tlb_log_count;      /* entries filled (above TLB_LOG_SIZE: too many to log) */
    TLBEntry tlb[MMU_IDX_COUNT][TLB_SIZE];
    TLBExtra tlb_extra[MMU_IDX_COUNT][TLB_SIZE];
} CPURISCVState;

typedef struct RISCVCPU {
    CPUState parent;
    CPURISCVState env;
    uint64_t reset_pc;
    TBCache *cache;
    bool exec_ready;
} RISCVCPU;

static inline RISCVCPU *riscv_cpu(CPUState *cs)
{
    return (RISCVCPU *)cs;
}

static inline CPURISCVState *riscv_env(CPUState *cs)
{
    return &riscv_cpu(cs)->env;
}

static inline RISCVCPU *env_cpu(CPURISCVState *env)
{
    return (RISCVCPU *)((char *)env - offsetof(RISCVCPU, env));
}

/* TB flags: privilege in bits 0-1, FP enabled in bit 2. */
#define TB_FLAG_FS 4u

/* cpu.c */
void riscv_update_mode(CPURISCVState *env);
void riscv_set_priv(CPURISCVState *env, uint64_t priv);
uint64_t riscv_mip(CPURISCVState *env);
/* Takes the pending exception env->exc_cause/exc_tval at pc. */
void riscv_do_exception(CPURISCVState *env, uint64_t pc);
/* Takes the highest-priority enabled pending interrupt; false when there is none. */
bool riscv_check_interrupts(CPURISCVState *env);
uint64_t riscv_read_time(CPURISCVState *env);

/* csr.c: CSR instruction; false with env->exc_* set when illegal. */
bool riscv_csr_rw(CPURISCVState *env, unsigned csrno, uint64_t *old, uint64_t src,
                  uint64_t op, bool do_write);
enum { CSR_OP_W = 0, CSR_OP_S = 1, CSR_OP_C = 2 };

/* mmu.c */
void riscv_tlb_flush(CPURISCVState *env);
/* SFENCE.VMA with an address: drops that page (everything when it lies in a superpage). */
void riscv_tlb_flush_page(CPURISCVState *env, uint64_t vaddr);
/* Sends writes to physical page ppage through the slow path (it now holds code). */
void riscv_tlb_protect_code(CPURISCVState *env, uint64_t ppage);
/* Forgets the cached RAM range (the memory view changed). */
void riscv_ram_cache_reset(CPURISCVState *env);
/* Virtual to physical for an access; false with env->exc_* set on a fault. cacheable
 * reports whether the whole page may enter the TLB (PMP regions smaller than a page). */
bool riscv_translate(CPURISCVState *env, uint64_t vaddr, AccessType acc, unsigned mmu_idx,
                     unsigned size, uint64_t *paddr, bool *cacheable, bool debug);
bool riscv_load_slow(CPURISCVState *env, uint64_t addr, unsigned size, uint64_t *val);
bool riscv_store_slow(CPURISCVState *env, uint64_t addr, unsigned size, uint64_t val);
/* Host pointer to the code at virtual pc for translation; also returns the physical PC. */
const uint8_t *riscv_fetch_page(CPURISCVState *env, uint64_t pc, uint64_t *phys,
                                unsigned size);
/* LR/SC/AMO; funct5 and width (4 or 8) as in the instruction. */
bool riscv_amo(CPURISCVState *env, unsigned funct5, unsigned width, uint64_t addr,
               uint64_t src, uint64_t *result);
void riscv_pmp_write_cfg(CPURISCVState *env, unsigned reg, uint64_t val);
void riscv_pmp_write_addr(CPURISCVState *env, unsigned i, uint64_t val);

/* translate.c */
/* The 32-bit equivalent of compressed instruction c, or 0 when c is reserved. */
uint32_t riscv_rvc_expand(uint32_t c);
/* Host code of a run of ops (target/riscv/jit.c), called with env->x, env->dtlb and env.
 * It returns r: for RISCV_JIT_NEXT, _RAISE and _INVALIDATED (r & 7), r & ~7 is the op of
 * block env->jit_tb to dispatch next, that raised (env->exc_* set) or that stored into
 * translated code; for _ENTER, r & ~7 is the block to enter next (its exit counted); for
 * _EXIT, block env->jit_tb left by its direct exit r >> 3 (TB_MAX_EXITS: not chainable) to
 * env->pc, its instructions counted. Chained blocks with host code run without returning. */
typedef uint64_t (*RiscvJitFn)(uint64_t *x, TLBEntry *dtlb, CPURISCVState *env);
#define RISCV_JIT_NEXT 0
#define RISCV_JIT_RAISE 1
#define RISCV_JIT_INVALIDATED 2
#define RISCV_JIT_ENTER 3
#define RISCV_JIT_EXIT 4
/* Shortest run worth a call into host code. */
#define RISCV_JIT_MIN_RUN 3
/* Entries into a block before its runs are compiled (code run a few times stays
 * interpreted: compiling costs more than it saves). */
#define RISCV_JIT_HOT 32
/* Host code one block can need at most; the code arena of a vCPU. */
#define RISCV_JIT_BLOCK_MAX (64u << 10)
#define RISCV_JIT_ARENA_SIZE (128u << 20)
/* True when this host has the back end. */
bool riscv_jit_available(void);
/* Compiles the runs of integer ops, loads, stores and branches of a block about to be
 * entered to host code (in place: a run's first op becomes OP_NATIVE); nothing when the
 * code arena is short of room (the next translation flushes the cache). */
void riscv_jit_block(CPURISCVState *env, TBCache *c, TranslationBlock *tb,
                     const void *const *labels);
TranslationBlock *riscv_translate_block(CPURISCVState *env, TBCache *cache, uint64_t pc,
                                        const void *const *labels);

/* exec.c */
int riscv_cpu_exec(CPUState *cs);

#endif
