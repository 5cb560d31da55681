/* The RISC-V interpreter loop: block lookup and chaining, threaded dispatch of ops. */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include "target/riscv/internal.h"
#include "target/riscv/ops.h"
#include "target/riscv/fpu.h"
#include "util/log.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

typedef uint64_t (*FpBinRm)(uint64_t, uint64_t, int, uint32_t *);
typedef uint64_t (*FpUnRm)(uint64_t, int, uint32_t *);
typedef uint64_t (*FpBinFl)(uint64_t, uint64_t, uint32_t *);
typedef uint64_t (*FpBin)(uint64_t, uint64_t);
typedef uint64_t (*FpUn)(uint64_t);

/* Instruction bits at pc for mtval (0 when the code is no longer reachable). */
static uint32_t insn_bits(CPURISCVState *env, uint64_t pc)
{
    uint64_t cause = env->exc_cause, tval = env->exc_tval, phys;
    uint32_t w = 0;
    const uint8_t *h = riscv_fetch_page(env, pc, &phys, 2);
    if (h) {
        w = (uint32_t)h[0] | (uint32_t)h[1] << 8;
        if ((w & 3) == 3) {
            const uint8_t *h2 = ((pc + 2) & 0xfff) ? h + 2 : riscv_fetch_page(env, pc + 2, &phys, 2);
            w = h2 ? w | ((uint32_t)h2[0] | (uint32_t)h2[1] << 8) << 16 : 0;
        }
    }
    env->exc_cause = cause;
    env->exc_tval = tval;
    return w;
}

/* MRET/SRET; false (illegal instruction) when not permitted. */
static bool riscv_xret(CPURISCVState *env, bool m)
{
    uint64_t s = env->mstatus;
    if (m) {
        if (env->priv != PRV_M) {
            return false;
        }
        uint64_t prev = (s & MSTATUS_MPP) >> 11;
        s = (s & ~MSTATUS_MIE) | ((s & MSTATUS_MPIE) ? MSTATUS_MIE : 0);
        s |= MSTATUS_MPIE;
        s &= ~MSTATUS_MPP;
        if (prev != PRV_M) {
            s &= ~MSTATUS_MPRV;
        }
        env->mstatus = s;
        env->pc = env->mepc;
        riscv_set_priv(env, prev);
    } else {
        if (env->priv < PRV_S || (env->priv == PRV_S && (s & MSTATUS_TSR))) {
            return false;
        }
        uint64_t prev = (s & MSTATUS_SPP) ? PRV_S : PRV_U;
        s = (s & ~MSTATUS_SIE) | ((s & MSTATUS_SPIE) ? MSTATUS_SIE : 0);
        s |= MSTATUS_SPIE;
        s &= ~(MSTATUS_SPP | MSTATUS_MPRV);
        env->mstatus = s;
        env->pc = env->sepc;
        riscv_set_priv(env, prev);
    }
    log_mask_printf(LOG_INT, "riscv: %s to priv %" PRIu64 " pc 0x%016" PRIx64 "\n",
                    m ? "mret" : "sret", env->priv, env->pc);
    return true;
}

/* The block at env->pc: from the code cache or freshly translated; NULL on a fetch fault. */
static TranslationBlock *find_tb(CPURISCVState *env, TBCache *cache, const void *const *labels)
{
    uint64_t phys;
    if (!riscv_fetch_page(env, env->pc, &phys, 2)) {
        return NULL;
    }
    TranslationBlock *tb = tb_lookup(cache, phys, env->pc, env->tb_flags);
    if (tb && tb->phys_page2 != UINT64_MAX) {
        uint64_t phys2;
        uint64_t next = (env->pc & TB_PAGE_MASK) + TB_PAGE_SIZE;
        if (!riscv_fetch_page(env, next, &phys2, 2)) {
            return NULL;
        }
        if ((phys2 & TB_PAGE_MASK) != tb->phys_page2) {
            tb = NULL;
        }
    }
    return tb ? tb : riscv_translate_block(env, cache, env->pc, labels);
}

static void log_exec(CPUState *cs, TranslationBlock *tb)
{
    if (log_enabled(LOG_CPU)) {
        GString *out = g_string_new(NULL);
        cs->ops->dump_state(cs, out);
        log_printf("%s\n", out->str);
        g_string_free(out, TRUE);
    }
    log_mask_printf(LOG_EXEC, "Trace %d: %p [%016" PRIx64 "/%016" PRIx64 "/%08x]\n",
                    cs->index, (void *)tb, tb->pc, tb->phys_pc, tb->flags);
}

#define LABEL_ADDR(name) [OP_##name] = &&L_##name,

/* With labels_out set, only reports the op label table; otherwise runs guest code. */
/* Tail merging and GCSE would funnel every op through shared code: keep them separate. */
__attribute__((optimize("no-crossjumping", "no-gcse")))
static int riscv_exec_loop(CPUState *cs, const void *const **labels_out)
{
    static const void *const labels[OP_COUNT] = { RISCV_OPS(LABEL_ADDR) };
    if (labels_out) {
        *labels_out = labels;
        return 0;
    }
    RISCVCPU *cpu = riscv_cpu(cs);
    CPURISCVState *env = &cpu->env;
    TBCache *cache = cpu->cache;
    TCGVCpu *vcpu = tcg_vcpu(cs);
    uint64_t *x = env->x;
    uint64_t *f = env->f;
    TranslationBlock *tb = NULL, *last_tb = NULL;
    int last_slot = 0;
    const TBOp *op = NULL;
    TLBEntry *dtlb = env->dtlb;
    bool check_irq = true;
    const bool nochain = log_enabled(LOG_EXEC | LOG_CPU);
    uint64_t flushes = cache->nr_flushes;

#define DISPATCH() goto *op->handler
/* Runs tb from its first op, compiling it first once it turned hot. */
#define ENTER_TB() do { \
        if (unlikely(tb->jit_countdown) && --tb->jit_countdown == 0) { \
            riscv_jit_block(env, cache, tb, labels); \
        } \
        op = tb->ops; \
        DISPATCH(); \
    } while (0)
#define NEXT() do { op++; DISPATCH(); } while (0)
#define PC() (tb->pc + op->pc_off)
#define NEXT_PC() (tb->pc + op->pc_off + op->ilen)
#define RD x[op->rd]
#define RS1 x[op->rs1]
#define RS2 x[op->rs2]
/* Leaves the block by direct exit n (chained when possible); instructions up to and
 * including the current one retire. */
#define EXIT_TB(n, target) do { \
        uint64_t t_ = (target); \
        TranslationBlock *d_ = tb->jmp_dest[n]; \
        env->instret += op->insn_idx + 1u; \
        if (d_ && !__atomic_load_n(&cs->exit_request, __ATOMIC_RELAXED)) { \
            tb = d_; \
            ENTER_TB(); \
        } \
        env->pc = t_; \
        last_tb = tb; \
        last_slot = (n); \
        goto next_tb; \
    } while (0)
/* Leaves the block after the current instruction and re-checks interrupts. */
#define END_BLOCK() do { \
        env->instret += op->insn_idx + 1u; \
        env->pc = NEXT_PC(); \
        check_irq = true; \
        last_tb = NULL; \
        goto next_tb; \
    } while (0)
#define ILLEGAL(bits) do { \
        env->exc_cause = EXC_ILLEGAL_INST; \
        env->exc_tval = (bits); \
        goto raise; \
    } while (0)
#define LOAD_OP(name, type, size, dest, conv) \
    L_##name: { \
        uint64_t a_ = RS1 + (uint64_t)op->imm; \
        TLBEntry *e_ = &dtlb[(a_ >> 12) & (TLB_SIZE - 1)]; \
        if (likely(e_->tag_r == (a_ & (TB_PAGE_MASK | (size - 1))))) { \
            dest = conv(*(type *)(a_ + e_->addend)); \
        } else { \
            uint64_t v_; \
            if (!riscv_load_slow(env, a_, size, &v_)) { \
                goto raise; \
            } \
            dest = conv((type)v_); \
        } \
        NEXT(); \
    }
#define STORE_OP(name, type, size, val) \
    L_##name: { \
        uint64_t a_ = RS1 + (uint64_t)op->imm; \
        TLBEntry *e_ = &dtlb[(a_ >> 12) & (TLB_SIZE - 1)]; \
        if (likely(e_->tag_w == (a_ & (TB_PAGE_MASK | (size - 1))))) { \
            *(type *)(a_ + e_->addend) = (type)(val); \
        } else { \
            if (!riscv_store_slow(env, a_, size, (uint64_t)(type)(val))) { \
                goto raise; \
            } \
            if (unlikely(env->tb_invalidated)) { \
                goto store_invalidated; \
            } \
        } \
        NEXT(); \
    }
#define SEXT(v) ((uint64_t)(int64_t)(v))
#define ZEXT(v) ((uint64_t)(v))
#define NANBOX(v) ((uint64_t)(v) | 0xffffffff00000000ull)
#define FS_DIRTY() (env->mstatus |= MSTATUS_FS_DIRTY)
#define GET_RM(r, src) \
    unsigned r = (src); \
    if (r == 7) { \
        r = env->frm; \
        if (unlikely(r > 4)) { \
            goto fp_illegal; \
        } \
    }

next_tb:
    if (unlikely(check_irq || __atomic_load_n(&cs->exit_request, __ATOMIC_ACQUIRE))) {
        check_irq = false;
        if (__atomic_load_n(&cs->exit_request, __ATOMIC_ACQUIRE)) {
            if (__atomic_exchange_n(&vcpu->tlb_flush_request, 0, __ATOMIC_ACQ_REL)) {
                riscv_tlb_flush(env);
            }
            /* Pending interrupts are taken on the next entry, so a paused hart shows the
             * pc it was interrupted at, not its trap vector. */
            return ACCEL_EXIT_KICKED;
        }
        if (riscv_check_interrupts(env)) {
            last_tb = NULL;
        }
    }
    tb = tb_jc_lookup(cache, env->pc, env->tb_flags);
    if (unlikely(!tb)) {
        tb = find_tb(env, cache, labels);
        if (cache->nr_flushes != flushes) {
            flushes = cache->nr_flushes;
            last_tb = NULL;
        }
        if (!tb) {
            riscv_do_exception(env, env->pc);
            last_tb = NULL;
            goto next_tb;
        }
        tb_jc_insert(cache, tb);
    }
    if (last_tb) {
        if (!nochain && last_tb->jmp_pc[last_slot] == tb->pc) {
            tb_add_jump(last_tb, last_slot, tb);
        }
        last_tb = NULL;
    }
    if (unlikely(nochain)) {
        log_exec(cs, tb);
    }
    dtlb = env->dtlb;
    ENTER_TB();

raise:
    env->instret += op->insn_idx;
    riscv_do_exception(env, PC());
    last_tb = NULL;
    goto next_tb;

store_invalidated:
    env->tb_invalidated = false;
    if (tb->invalid) {
        /* the running block was overwritten: continue from fresh code */
        env->instret += op->insn_idx + 1u;
        env->pc = NEXT_PC();
        last_tb = NULL;
        goto next_tb;
    }
    NEXT();

fp_illegal:
    ILLEGAL(insn_bits(env, PC()));

L_NATIVE: {
        uint64_t r_ = ((RiscvJitFn)(uintptr_t)op->imm)(x, dtlb, env);
        switch (r_ & 7) {
        case RISCV_JIT_ENTER:
            tb = (TranslationBlock *)(uintptr_t)(r_ & ~7ull);
            ENTER_TB();
        case RISCV_JIT_EXIT:
            last_slot = (int)(r_ >> 3);
            last_tb = last_slot < TB_MAX_EXITS ? env->jit_tb : NULL;
            goto next_tb;
        }
        tb = env->jit_tb;
        op = (const TBOp *)(uintptr_t)(r_ & ~7ull);
        if (likely((r_ & 7) == RISCV_JIT_NEXT)) {
            DISPATCH();
        }
        if ((r_ & 7) == RISCV_JIT_RAISE) {
            goto raise;
        }
        goto store_invalidated;
    }
L_LI: RD = (uint64_t)op->imm; NEXT();
L_LI_PAIR: RD = (uint64_t)op->imm; op += 2; DISPATCH();
#define THEN(name) do { op++; goto L_##name; } while (0)
L_ANDI_BEQ: RD = RS1 & (uint64_t)op->imm; THEN(BEQ);
L_ANDI_BNE: RD = RS1 & (uint64_t)op->imm; THEN(BNE);
L_ADDI_JALR: RD = RS1 + (uint64_t)op->imm; THEN(JALR);
L_LI_JALR: RD = (uint64_t)op->imm; THEN(JALR);
L_MV_JAL: RD = RS1; THEN(JAL);
L_MV_MV: RD = RS1; THEN(MV);
L_ADDI_SD: RD = RS1 + (uint64_t)op->imm; THEN(SD);
L_ADDI_MV: RD = RS1 + (uint64_t)op->imm; THEN(MV);
L_ADDI_LI: RD = RS1 + (uint64_t)op->imm; THEN(LI);
L_MV_LI: RD = RS1; THEN(LI);
L_LI_LI: RD = (uint64_t)op->imm; THEN(LI);
L_MV_LD: RD = RS1; THEN(LD);
L_SLLI_ADD: RD = RS1 << op->imm; THEN(ADD);
L_SLLI_SRLI: RD = RS1 << op->imm; THEN(SRLI);
#define LD_THEN(name) \
    L_LD_##name: { \
        uint64_t a_ = RS1 + (uint64_t)op->imm; \
        TLBEntry *e_ = &dtlb[(a_ >> 12) & (TLB_SIZE - 1)]; \
        if (likely(e_->tag_r == (a_ & (TB_PAGE_MASK | 7)))) { \
            RD = *(uint64_t *)(a_ + e_->addend); \
            THEN(name); \
        } \
        goto L_LD; \
    }
LD_THEN(ADDI)
LD_THEN(MV)
LD_THEN(LI)
LD_THEN(BEQ)
LD_THEN(BNE)
LD_THEN(ANDI)
L_SD_ADDI: {
        uint64_t a_ = RS1 + (uint64_t)op->imm;
        TLBEntry *e_ = &dtlb[(a_ >> 12) & (TLB_SIZE - 1)];
        if (likely(e_->tag_w == (a_ & (TB_PAGE_MASK | 7)))) {
            *(uint64_t *)(a_ + e_->addend) = RS2;
            THEN(ADDI);
        }
        goto L_SD;
    }
L_MV: RD = RS1; NEXT();
L_ADD: RD = RS1 + RS2; NEXT();
L_SUB: RD = RS1 - RS2; NEXT();
L_SLL: RD = RS1 << (RS2 & 63); NEXT();
L_SLT: RD = (int64_t)RS1 < (int64_t)RS2; NEXT();
L_SLTU: RD = RS1 < RS2; NEXT();
L_XOR: RD = RS1 ^ RS2; NEXT();
L_SRL: RD = RS1 >> (RS2 & 63); NEXT();
L_SRA: RD = (uint64_t)((int64_t)RS1 >> (RS2 & 63)); NEXT();
L_OR: RD = RS1 | RS2; NEXT();
L_AND: RD = RS1 & RS2; NEXT();
L_ADDI: RD = RS1 + (uint64_t)op->imm; NEXT();
L_SLTI: RD = (int64_t)RS1 < op->imm; NEXT();
L_SLTIU: RD = RS1 < (uint64_t)op->imm; NEXT();
L_XORI: RD = RS1 ^ (uint64_t)op->imm; NEXT();
L_ORI: RD = RS1 | (uint64_t)op->imm; NEXT();
L_ANDI: RD = RS1 & (uint64_t)op->imm; NEXT();
L_SLLI: RD = RS1 << op->imm; NEXT();
L_SRLI: RD = RS1 >> op->imm; NEXT();
L_SRAI: RD = (uint64_t)((int64_t)RS1 >> op->imm); NEXT();
L_ADDW: RD = SEXT((int32_t)(uint32_t)(RS1 + RS2)); NEXT();
L_SUBW: RD = SEXT((int32_t)(uint32_t)(RS1 - RS2)); NEXT();
L_SLLW: RD = SEXT((int32_t)((uint32_t)RS1 << (RS2 & 31))); NEXT();
L_SRLW: RD = SEXT((int32_t)((uint32_t)RS1 >> (RS2 & 31))); NEXT();
L_SRAW: RD = SEXT((int32_t)RS1 >> (RS2 & 31)); NEXT();
L_ADDIW: RD = SEXT((int32_t)(uint32_t)(RS1 + (uint64_t)op->imm)); NEXT();
L_SLLIW: RD = SEXT((int32_t)((uint32_t)RS1 << op->imm)); NEXT();
L_SRLIW: RD = SEXT((int32_t)((uint32_t)RS1 >> op->imm)); NEXT();
L_SRAIW: RD = SEXT((int32_t)RS1 >> op->imm); NEXT();
L_MUL: RD = RS1 * RS2; NEXT();
L_MULH: RD = (uint64_t)(((__int128)(int64_t)RS1 * (__int128)(int64_t)RS2) >> 64); NEXT();
L_MULHSU: RD = (uint64_t)(((__int128)(int64_t)RS1 * (__int128)RS2) >> 64); NEXT();
L_MULHU: RD = (uint64_t)(((unsigned __int128)RS1 * RS2) >> 64); NEXT();
L_DIV: {
        int64_t a = (int64_t)RS1, b = (int64_t)RS2;
        RD = b == 0 ? UINT64_MAX : (a == INT64_MIN && b == -1) ? (uint64_t)a : (uint64_t)(a / b);
        NEXT();
    }
L_DIVU: { uint64_t a = RS1, b = RS2; RD = b == 0 ? UINT64_MAX : a / b; NEXT(); }
L_REM: {
        int64_t a = (int64_t)RS1, b = (int64_t)RS2;
        RD = b == 0 ? (uint64_t)a : (a == INT64_MIN && b == -1) ? 0 : (uint64_t)(a % b);
        NEXT();
    }
L_REMU: { uint64_t a = RS1, b = RS2; RD = b == 0 ? a : a % b; NEXT(); }
L_MULW: RD = SEXT((int32_t)(uint32_t)(RS1 * RS2)); NEXT();
L_DIVW: {
        int32_t a = (int32_t)RS1, b = (int32_t)RS2;
        RD = b == 0 ? UINT64_MAX : (a == INT32_MIN && b == -1) ? SEXT(a) : SEXT(a / b);
        NEXT();
    }
L_DIVUW: {
        uint32_t a = (uint32_t)RS1, b = (uint32_t)RS2;
        RD = b == 0 ? UINT64_MAX : SEXT((int32_t)(a / b));
        NEXT();
    }
L_REMW: {
        int32_t a = (int32_t)RS1, b = (int32_t)RS2;
        RD = b == 0 ? SEXT(a) : (a == INT32_MIN && b == -1) ? 0 : SEXT(a % b);
        NEXT();
    }
L_REMUW: {
        uint32_t a = (uint32_t)RS1, b = (uint32_t)RS2;
        RD = b == 0 ? SEXT((int32_t)a) : SEXT((int32_t)(a % b));
        NEXT();
    }

LOAD_OP(LB, int8_t, 1, RD, SEXT)
LOAD_OP(LH, int16_t, 2, RD, SEXT)
LOAD_OP(LW, int32_t, 4, RD, SEXT)
LOAD_OP(LD, uint64_t, 8, RD, ZEXT)
LOAD_OP(LBU, uint8_t, 1, RD, ZEXT)
LOAD_OP(LHU, uint16_t, 2, RD, ZEXT)
LOAD_OP(LWU, uint32_t, 4, RD, ZEXT)
L_FLW: FS_DIRTY(); goto L_FLW_load;
LOAD_OP(FLW_load, uint32_t, 4, f[op->rd], NANBOX)
L_FLD: FS_DIRTY(); goto L_FLD_load;
LOAD_OP(FLD_load, uint64_t, 8, f[op->rd], ZEXT)
STORE_OP(SB, uint8_t, 1, RS2)
STORE_OP(SH, uint16_t, 2, RS2)
STORE_OP(SW, uint32_t, 4, RS2)
STORE_OP(SD, uint64_t, 8, RS2)
L_LD_RUN: {
        const uint64_t base_ = RS1, a0_ = base_ + (uint64_t)op->imm;
        TLBEntry *e_ = &dtlb[(a0_ >> 12) & (TLB_SIZE - 1)];
        if (unlikely(e_->tag_r != (a0_ & (TB_PAGE_MASK | 7)))) {
            goto L_LD;
        }
        const uintptr_t addend_ = e_->addend;
        const TBOp *end_ = op + op->rs3;
        do {
            uint64_t a_ = base_ + (uint64_t)op->imm;
            if (unlikely((((a_ ^ a0_) & TB_PAGE_MASK) | (a_ & 7)) != 0)) {
                goto L_LD;
            }
            RD = *(uint64_t *)(a_ + addend_);
            op++;
        } while (op != end_);
        DISPATCH();
    }
L_SD_RUN: {
        const uint64_t base_ = RS1, a0_ = base_ + (uint64_t)op->imm;
        TLBEntry *e_ = &dtlb[(a0_ >> 12) & (TLB_SIZE - 1)];
        if (unlikely(e_->tag_w != (a0_ & (TB_PAGE_MASK | 7)))) {
            goto L_SD;
        }
        const uintptr_t addend_ = e_->addend;
        const TBOp *end_ = op + op->rs3;
        do {
            uint64_t a_ = base_ + (uint64_t)op->imm;
            if (unlikely((((a_ ^ a0_) & TB_PAGE_MASK) | (a_ & 7)) != 0)) {
                goto L_SD;
            }
            *(uint64_t *)(a_ + addend_) = RS2;
            op++;
        } while (op != end_);
        DISPATCH();
    }
STORE_OP(FSW, uint32_t, 4, f[op->rs2])
STORE_OP(FSD, uint64_t, 8, f[op->rs2])

L_BEQ: if (RS1 == RS2) EXIT_TB(op->rd, (uint64_t)op->imm); NEXT();
L_BNE: if (RS1 != RS2) EXIT_TB(op->rd, (uint64_t)op->imm); NEXT();
L_BLT: if ((int64_t)RS1 < (int64_t)RS2) EXIT_TB(op->rd, (uint64_t)op->imm); NEXT();
L_BGE: if ((int64_t)RS1 >= (int64_t)RS2) EXIT_TB(op->rd, (uint64_t)op->imm); NEXT();
L_BLTU: if (RS1 < RS2) EXIT_TB(op->rd, (uint64_t)op->imm); NEXT();
L_BGEU: if (RS1 >= RS2) EXIT_TB(op->rd, (uint64_t)op->imm); NEXT();
L_JAL: RD = NEXT_PC(); EXIT_TB(op->rs3, (uint64_t)op->imm);
L_GOTO: EXIT_TB(op->rs3, (uint64_t)op->imm);
L_JALR: {
        uint64_t t = (RS1 + (uint64_t)op->imm) & ~1ull;
        RD = NEXT_PC();
        env->instret += op->insn_idx + 1u;
        TBOp *slot = (TBOp *)(uintptr_t)(op + 1);
        TranslationBlock *d;
        if (slot->imm == (int64_t)t && slot->aux == cache->jc_gen) {
            d = (TranslationBlock *)(uintptr_t)slot->handler;
        } else {
            d = tb_jc_lookup(cache, t, tb->flags);
            if (d) {
                slot->handler = d;
                slot->imm = (int64_t)t;
                slot->aux = cache->jc_gen;
            }
        }
        if (d && !nochain && !__atomic_load_n(&cs->exit_request, __ATOMIC_RELAXED)) {
            tb = d;
            ENTER_TB();
        }
        env->pc = t;
        last_tb = NULL;
        goto next_tb;
    }

L_EXCP:
    env->exc_cause = op->rd;
    env->exc_tval = (uint64_t)op->imm;
    goto raise;
L_CSR: {
        uint64_t src = (op->rs3 & CSR_F_IMM) ? op->rs1 : RS1;
        uint64_t old;
        env->instret += op->insn_idx;     /* what has retired before this instruction */
        bool ok = riscv_csr_rw(env, (unsigned)(op->imm & 0xfff), &old, src, op->rs2,
                               (op->rs3 & CSR_F_WRITE) != 0);
        env->instret -= op->insn_idx;
        if (!ok) {
            ILLEGAL((uint64_t)op->imm >> 16);
        }
        RD = old;
        if (op->rs3 & CSR_F_WRITE) {
            END_BLOCK();
        }
        NEXT();
    }
L_MRET:
    if (!riscv_xret(env, true)) {
        ILLEGAL(0x30200073);
    }
    env->instret += op->insn_idx + 1u;
    check_irq = true;
    last_tb = NULL;
    goto next_tb;
L_SRET:
    if (!riscv_xret(env, false)) {
        ILLEGAL(0x10200073);
    }
    env->instret += op->insn_idx + 1u;
    check_irq = true;
    last_tb = NULL;
    goto next_tb;
L_WFI:
    if (env->priv == PRV_U || (env->priv == PRV_S && (env->mstatus & MSTATUS_TW))) {
        ILLEGAL(0x10500073);
    }
    env->pc = NEXT_PC();
    env->instret += op->insn_idx + 1u;
    if (riscv_mip(env) & env->mie) {
        check_irq = true;
        last_tb = NULL;
        goto next_tb;
    }
    return ACCEL_EXIT_HALTED;
L_SFENCE_VMA:
    if (env->priv == PRV_U || (env->priv == PRV_S && (env->mstatus & MSTATUS_TVM))) {
        ILLEGAL(0x12000073u | (uint32_t)op->rs1 << 15 | (uint32_t)op->rs2 << 20);
    }
    if (op->rs1 == 0) {
        riscv_tlb_flush(env);
    } else {
        riscv_tlb_flush_page(env, RS1);
    }
    END_BLOCK();
L_FENCE:
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    NEXT();
L_FENCE_I:
    tb_flush(cache);
    flushes = cache->nr_flushes;
    END_BLOCK();
L_AMO: {
        uint64_t r;
        if (!riscv_amo(env, op->rs3, (unsigned)op->imm, RS1, RS2, &r)) {
            goto raise;
        }
        RD = r;
        if (unlikely(env->tb_invalidated)) {
            goto store_invalidated;
        }
        NEXT();
    }

L_FP_BIN_RM: {
        GET_RM(rm, op->rs3);
        f[op->rd] = ((FpBinRm)op->imm)(f[op->rs1], f[op->rs2], (int)rm, &env->fflags);
        FS_DIRTY();
        NEXT();
    }
L_FP_UN_RM: {
        GET_RM(rm, op->rs3);
        f[op->rd] = ((FpUnRm)op->imm)(f[op->rs1], (int)rm, &env->fflags);
        FS_DIRTY();
        NEXT();
    }
L_FP_BIN_FL:
    f[op->rd] = ((FpBinFl)op->imm)(f[op->rs1], f[op->rs2], &env->fflags);
    FS_DIRTY();
    NEXT();
L_FP_CMP:
    RD = ((FpBinFl)op->imm)(f[op->rs1], f[op->rs2], &env->fflags);
    FS_DIRTY();
    NEXT();
L_FP_SGNJ:
    f[op->rd] = ((FpBin)op->imm)(f[op->rs1], f[op->rs2]);
    FS_DIRTY();
    NEXT();
L_FP_CLASS:
    RD = ((FpUn)op->imm)(f[op->rs1]);
    NEXT();
L_FP_TO_INT: {
        GET_RM(rm, op->rs3);
        RD = ((FpUnRm)op->imm)(f[op->rs1], (int)rm, &env->fflags);
        FS_DIRTY();
        NEXT();
    }
L_FP_FROM_INT: {
        GET_RM(rm, op->rs3);
        f[op->rd] = ((FpUnRm)op->imm)(RS1, (int)rm, &env->fflags);
        FS_DIRTY();
        NEXT();
    }
L_FMV_X_W: RD = SEXT((int32_t)(uint32_t)f[op->rs1]); NEXT();
L_FMV_X_D: RD = f[op->rs1]; NEXT();
L_FMV_W_X: f[op->rd] = NANBOX((uint32_t)RS1); FS_DIRTY(); NEXT();
L_FMV_D_X: f[op->rd] = RS1; FS_DIRTY(); NEXT();

#define FMA_OP(name, fn) \
    L_##name: { \
        GET_RM(rm, (unsigned)op->imm); \
        f[op->rd] = fn(f[op->rs1], f[op->rs2], f[op->rs3], (int)rm, &env->fflags); \
        FS_DIRTY(); \
        NEXT(); \
    }
FMA_OP(FMADD_S, fpu_madd_s)
FMA_OP(FMSUB_S, fpu_msub_s)
FMA_OP(FNMSUB_S, fpu_nmsub_s)
FMA_OP(FNMADD_S, fpu_nmadd_s)
FMA_OP(FMADD_D, fpu_madd_d)
FMA_OP(FMSUB_D, fpu_msub_d)
FMA_OP(FNMSUB_D, fpu_nmsub_d)
FMA_OP(FNMADD_D, fpu_nmadd_d)
}

int riscv_cpu_exec(CPUState *cs)
{
    return riscv_exec_loop(cs, NULL);
}
