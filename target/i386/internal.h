#ifndef TARGET_I386_INTERNAL_H
#define TARGET_I386_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "accel/tcg/tcg.h"
#include "target/i386/cpu.h"

/* The x86-64 interpreter's private state and the pieces shared between its files. */

/* Exception vectors. */
enum {
    EXCP_DE = 0, EXCP_DB = 1, EXCP_NMI = 2, EXCP_BP = 3, EXCP_OF = 4, EXCP_BR = 5,
    EXCP_UD = 6, EXCP_NM = 7, EXCP_DF = 8, EXCP_TS = 10, EXCP_NP = 11, EXCP_SS = 12,
    EXCP_GP = 13, EXCP_PF = 14, EXCP_MF = 16, EXCP_AC = 17, EXCP_MC = 18, EXCP_XM = 19,
};

/* Page-fault error code bits. */
enum { PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_I = 16 };

typedef enum { X86_ACC_READ = 0, X86_ACC_WRITE = 1, X86_ACC_EXEC = 2 } X86Access;

/* Softmmu TLB: direct mapped, one table per privilege (supervisor, user). A tag is the
 * page-aligned linear address when the access kind is allowed without the slow path. */
#define X86_TLB_BITS 9
#define X86_TLB_SIZE (1u << X86_TLB_BITS)
#define X86_TLB_INVALID UINT64_MAX
#define X86_TLB_SLOW 0x800ull
enum { X86_MMU_SUP = 0, X86_MMU_USER = 1, X86_MMU_COUNT = 2 };

typedef struct X86TLBEntry {
    uint64_t tag_r, tag_w, tag_x;
    uintptr_t addend;             /* host = linear + addend (RAM pages) */
    uint64_t paddr;               /* physical page */
    bool global;
} X86TLBEntry;

/* TB flags: code size and CPL (what the decoder depends on). */
enum {
    X86_TBF_CPL_MASK = 3,
    X86_TBF_CS32 = 1u << 2,       /* default operand/address size 32 */
    X86_TBF_CS64 = 1u << 3,       /* 64-bit code segment in long mode */
    X86_TBF_SS32 = 1u << 4,
    X86_TBF_PE = 1u << 5,
    X86_TBF_OSFXSR = 1u << 6,
    X86_TBF_TS_EM = 1u << 7,      /* CR0.TS or CR0.EM: FPU/SSE ops fault */
};

typedef struct X86Tcg {
    CPUState *cs;
    CPUX86State *env;
    TBCache *cache;
    uint32_t tb_flags;
    unsigned mmu_idx;

    /* pending exception set by helpers that fail */
    int exc_vec;
    uint32_t exc_err;
    bool exc_has_err;
    bool tb_invalidated;          /* a store invalidated translated code */
    bool stack_access;            /* the memory operand is SS-relative (RSP/RBP base): a
                                   * non-canonical address is #SS(0) instead of #GP(0) */

    /* last RAM range seen by x86_ram_ptr */
    uint64_t ram_lo, ram_hi;
    uint8_t *ram_host;
    bool ram_writable;

    int64_t tsc_offset;           /* guest TSC = host ns * tsc_khz / 1e6 + offset */
    uint32_t tsc_khz;

    X86TLBEntry tlb[X86_MMU_COUNT][X86_TLB_SIZE];
} X86Tcg;

static inline X86Tcg *x86_tcg(CPUState *cs)
{
    return (X86Tcg *)x86_cpu(cs)->tcg;
}

static inline unsigned x86_cpl(const CPUX86State *env)
{
    return (env->segs[R_CS].attr & SEG_ATTR_DPL_MASK) >> SEG_ATTR_DPL_SHIFT;
}

static inline bool x86_long_mode(const CPUX86State *env)
{
    return env->efer & X86_EFER_LMA;
}

static inline bool x86_code64(const CPUX86State *env)
{
    return x86_long_mode(env) && (env->segs[R_CS].attr & SEG_ATTR_L);
}

/* mmu.c */
void x86_tlb_flush(X86Tcg *t, bool global);
void x86_tlb_flush_page(X86Tcg *t, uint64_t la);
void x86_tlb_protect_code(X86Tcg *t, uint64_t ppage);
void x86_ram_cache_reset(X86Tcg *t);
/* Linear -> physical for an access; false with the exception set on a fault. */
bool x86_translate(X86Tcg *t, uint64_t la, X86Access acc, unsigned mmu_idx, uint64_t *pa,
                   bool debug);
bool x86_load_slow(X86Tcg *t, uint64_t la, unsigned size, uint64_t *val, unsigned mmu_idx);
bool x86_store_slow(X86Tcg *t, uint64_t la, unsigned size, uint64_t val, unsigned mmu_idx);
/* Checks that size bytes at la are writable (faulting as a write would) without storing:
 * a read-modify-write probes first so that its #PF carries W. */
bool x86_probe_write(X86Tcg *t, uint64_t la, unsigned size, unsigned mmu_idx);
/* Host pointer to size bytes at la for a read-modify-write; NULL when not plain RAM (the
 * exception is set when the access faults: check t->exc_vec >= 0). */
void *x86_rmw_ptr(X86Tcg *t, uint64_t la, unsigned size, unsigned mmu_idx);
/* Host pointer to the code at linear pc for translation; also returns the physical PC. */
const uint8_t *x86_fetch_page(X86Tcg *t, uint64_t pc, uint64_t *phys);

/* seg.c */
void x86_raise(X86Tcg *t, int vec, bool has_err, uint32_t err);
/* Delivers the pending exception t->exc_* with env->rip at the faulting instruction. */
void x86_do_exception(X86Tcg *t);
/* Delivers vector (software INT n when soft, with next_rip the return address). */
void x86_do_interrupt(X86Tcg *t, int vec, bool soft, bool has_err, uint32_t err,
                      uint64_t next_rip);
bool x86_iret(X86Tcg *t, unsigned size);
bool x86_load_seg(X86Tcg *t, int seg, uint16_t sel);
bool x86_far_jump(X86Tcg *t, uint16_t sel, uint64_t off, bool call, unsigned size,
                  uint64_t next_rip);
bool x86_far_ret(X86Tcg *t, unsigned size, unsigned pop);
bool x86_syscall(X86Tcg *t, uint64_t next_rip);
bool x86_sysret(X86Tcg *t, bool rex_w);
bool x86_lldt(X86Tcg *t, uint16_t sel);
bool x86_ltr(X86Tcg *t, uint16_t sel);
void x86_update_mode(X86Tcg *t);
bool x86_write_cr(X86Tcg *t, unsigned cr, uint64_t val);
bool x86_rdmsr(X86Tcg *t, uint32_t msr, uint64_t *val);
bool x86_wrmsr(X86Tcg *t, uint32_t msr, uint64_t val);
uint64_t x86_read_tsc(X86Tcg *t);
/* Takes a pending external interrupt when enabled; true when one was delivered. */
bool x86_check_interrupts(X86Tcg *t);

/* sse.c: executes one X86_OP_SSE op (la: linear address of its memory operand); false with
 * the exception set in t. */
bool x86_sse_exec(X86Tcg *t, const TBOp *op, uint64_t la);
/* fpu.c: executes one X86_OP_FPU op (an x87 escape D8..DF) the same way; env->rip must
 * hold the instruction's offset (FIP). */
bool x86_fpu_exec(X86Tcg *t, const TBOp *op, uint64_t la);

/* translate.c */
TranslationBlock *x86_translate_block(X86Tcg *t, uint64_t pc, const void *const *labels);

/* exec.c */
int x86_cpu_exec(CPUState *cs);

#endif
