/* Decoder: guest RV64GC code -> translated blocks of pre-decoded ops (RVC expanded). */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include "target/riscv/internal.h"
#include "target/riscv/ops.h"
#include "target/riscv/fpu.h"
#include "util/log.h"

typedef struct DisasContext {
    CPURISCVState *env;
    TranslationBlock *tb;
    const void *const *labels;
    uint64_t pc;            /* of the instruction being decoded */
    unsigned ilen;
    uint32_t raw;           /* instruction bits as fetched (16 or 32) */
    unsigned insn_idx;
    bool fp;                /* mstatus.FS != Off */
    uint64_t priv;
    bool branch_end;        /* the block ends at a conditional branch (out of exits) */
} DisasContext;

/* ---- RVC expansion into the equivalent 32-bit encoding ---- */

static uint32_t enc_r(uint32_t op, unsigned rd, unsigned f3, unsigned rs1, unsigned rs2,
                      unsigned f7)
{
    return op | rd << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | f7 << 25;
}

static uint32_t enc_i(uint32_t op, unsigned rd, unsigned f3, unsigned rs1, int32_t imm)
{
    return op | rd << 7 | f3 << 12 | rs1 << 15 | (uint32_t)imm << 20;
}

static uint32_t enc_s(uint32_t op, unsigned f3, unsigned rs1, unsigned rs2, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return op | (u & 0x1f) << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | ((u >> 5) & 0x7f) << 25;
}

static uint32_t enc_b(unsigned f3, unsigned rs1, unsigned rs2, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return 0x63 | ((u >> 11) & 1) << 7 | ((u >> 1) & 0xf) << 8 | f3 << 12 | rs1 << 15 |
           rs2 << 20 | ((u >> 5) & 0x3f) << 25 | ((u >> 12) & 1) << 31;
}

static uint32_t enc_j(unsigned rd, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return 0x6f | rd << 7 | ((u >> 12) & 0xff) << 12 | ((u >> 11) & 1) << 20 |
           ((u >> 1) & 0x3ff) << 21 | ((u >> 20) & 1) << 31;
}

static unsigned bits(uint32_t x, unsigned hi, unsigned lo)
{
    return (x >> lo) & ((1u << (hi - lo + 1)) - 1);
}

static int32_t sext(uint32_t x, unsigned width)
{
    return (int32_t)(x << (32 - width)) >> (32 - width);
}

uint32_t riscv_rvc_expand(uint32_t c)
{
    unsigned f3 = bits(c, 15, 13);
    unsigned rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
    unsigned rdp = 8 + bits(c, 4, 2), rs1p = 8 + bits(c, 9, 7);
    int32_t imm6 = sext(bits(c, 12, 12) << 5 | bits(c, 6, 2), 6);
    switch (c & 3) {
    case 0:
        switch (f3) {
        case 0: {   /* C.ADDI4SPN */
            unsigned imm = bits(c, 12, 11) << 4 | bits(c, 10, 7) << 6 | bits(c, 6, 6) << 2 |
                           bits(c, 5, 5) << 3;
            return imm ? enc_i(0x13, rdp, 0, 2, (int32_t)imm) : 0;
        }
        case 1:     /* C.FLD */
            return enc_i(0x07, rdp, 3, rs1p, (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6));
        case 2:     /* C.LW */
            return enc_i(0x03, rdp, 2, rs1p, (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 6) << 2 |
                                                        bits(c, 5, 5) << 6));
        case 3:     /* C.LD */
            return enc_i(0x03, rdp, 3, rs1p, (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6));
        case 5:     /* C.FSD */
            return enc_s(0x27, 3, rs1p, rdp, (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6));
        case 6:     /* C.SW */
            return enc_s(0x23, 2, rs1p, rdp, (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 6) << 2 |
                                                        bits(c, 5, 5) << 6));
        case 7:     /* C.SD */
            return enc_s(0x23, 3, rs1p, rdp, (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6));
        default:
            return 0;
        }
    case 1:
        switch (f3) {
        case 0:     /* C.ADDI (C.NOP) */
            return enc_i(0x13, rd, 0, rd, imm6);
        case 1:     /* C.ADDIW */
            return rd ? enc_i(0x1b, rd, 0, rd, imm6) : 0;
        case 2:     /* C.LI */
            return enc_i(0x13, rd, 0, 0, imm6);
        case 3:
            if (rd == 2) {  /* C.ADDI16SP */
                int32_t imm = sext(bits(c, 12, 12) << 9 | bits(c, 6, 6) << 4 | bits(c, 5, 5) << 6 |
                                   bits(c, 4, 3) << 7 | bits(c, 2, 2) << 5, 10);
                return imm ? enc_i(0x13, 2, 0, 2, imm) : 0;
            } else {        /* C.LUI */
                int32_t imm = sext(bits(c, 12, 12) << 17 | bits(c, 6, 2) << 12, 18);
                return imm ? (0x37 | rd << 7 | ((uint32_t)imm & 0xfffff000)) : 0;
            }
        case 4: {
            unsigned sh = bits(c, 12, 12) << 5 | bits(c, 6, 2);
            switch (bits(c, 11, 10)) {
            case 0:  /* C.SRLI */
                return enc_i(0x13, rs1p, 5, rs1p, (int32_t)sh);
            case 1:  /* C.SRAI */
                return enc_i(0x13, rs1p, 5, rs1p, (int32_t)(sh | 0x400));
            case 2:  /* C.ANDI */
                return enc_i(0x13, rs1p, 7, rs1p, imm6);
            default: {
                unsigned f2 = bits(c, 6, 5);
                if (!bits(c, 12, 12)) {
                    static const unsigned f3s[4] = { 0, 4, 6, 7 };
                    return enc_r(0x33, rs1p, f3s[f2], rs1p, rdp, f2 == 0 ? 0x20 : 0);
                }
                if (f2 == 0) {  /* C.SUBW */
                    return enc_r(0x3b, rs1p, 0, rs1p, rdp, 0x20);
                }
                if (f2 == 1) {  /* C.ADDW */
                    return enc_r(0x3b, rs1p, 0, rs1p, rdp, 0);
                }
                return 0;
            }
            }
        }
        case 5: {   /* C.J */
            int32_t imm = sext(bits(c, 12, 12) << 11 | bits(c, 11, 11) << 4 | bits(c, 10, 9) << 8 |
                               bits(c, 8, 8) << 10 | bits(c, 7, 7) << 6 | bits(c, 6, 6) << 7 |
                               bits(c, 5, 3) << 1 | bits(c, 2, 2) << 5, 12);
            return enc_j(0, imm);
        }
        default: {  /* C.BEQZ / C.BNEZ */
            int32_t imm = sext(bits(c, 12, 12) << 8 | bits(c, 11, 10) << 3 | bits(c, 6, 5) << 6 |
                               bits(c, 4, 3) << 1 | bits(c, 2, 2) << 5, 9);
            return enc_b(f3 == 6 ? 0 : 1, rs1p, 0, imm);
        }
        }
    case 2:
        switch (f3) {
        case 0:     /* C.SLLI */
            return enc_i(0x13, rd, 1, rd, (int32_t)(bits(c, 12, 12) << 5 | bits(c, 6, 2)));
        case 1:     /* C.FLDSP */
            return enc_i(0x07, rd, 3, 2, (int32_t)(bits(c, 12, 12) << 5 | bits(c, 6, 5) << 3 |
                                                    bits(c, 4, 2) << 6));
        case 2:     /* C.LWSP */
            return rd ? enc_i(0x03, rd, 2, 2, (int32_t)(bits(c, 12, 12) << 5 | bits(c, 6, 4) << 2 |
                                                         bits(c, 3, 2) << 6)) : 0;
        case 3:     /* C.LDSP */
            return rd ? enc_i(0x03, rd, 3, 2, (int32_t)(bits(c, 12, 12) << 5 | bits(c, 6, 5) << 3 |
                                                         bits(c, 4, 2) << 6)) : 0;
        case 4:
            if (!bits(c, 12, 12)) {
                if (rs2 == 0) {     /* C.JR */
                    return rd ? enc_i(0x67, 0, 0, rd, 0) : 0;
                }
                return enc_r(0x33, rd, 0, 0, rs2, 0);       /* C.MV */
            }
            if (rs2 == 0) {
                if (rd == 0) {
                    return 0x00100073;                     /* C.EBREAK */
                }
                return enc_i(0x67, 1, 0, rd, 0);            /* C.JALR */
            }
            return enc_r(0x33, rd, 0, rd, rs2, 0);          /* C.ADD */
        case 5:     /* C.FSDSP */
            return enc_s(0x27, 3, 2, rs2, (int32_t)(bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6));
        case 6:     /* C.SWSP */
            return enc_s(0x23, 2, 2, rs2, (int32_t)(bits(c, 12, 9) << 2 | bits(c, 8, 7) << 6));
        default:    /* C.SDSP */
            return enc_s(0x23, 3, 2, rs2, (int32_t)(bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6));
        }
    default:
        return 0;
    }
}

/* ---- op emission ---- */

static TBOp *emit(DisasContext *s, unsigned opc)
{
    TranslationBlock *tb = s->tb;
    TBOp *op = &tb->ops[tb->nops++];
    memset(op, 0, sizeof(*op));
    op->handler = s->labels[opc];
    op->pc_off = (uint16_t)(s->pc - tb->pc);
    op->insn_idx = (uint8_t)s->insn_idx;
    op->ilen = (uint8_t)s->ilen;
    return op;
}

/* Destination register: writes to x0 land in the scratch slot x[32]. */
static uint8_t dst(unsigned rd)
{
    return rd ? (uint8_t)rd : 32;
}

static TBOp *emit_r(DisasContext *s, unsigned opc, unsigned rd, unsigned rs1, unsigned rs2)
{
    TBOp *op = emit(s, opc);
    op->rd = dst(rd);
    op->rs1 = (uint8_t)rs1;
    op->rs2 = (uint8_t)rs2;
    return op;
}

static TBOp *emit_i(DisasContext *s, unsigned opc, unsigned rd, unsigned rs1, int64_t imm)
{
    TBOp *op = emit(s, opc);
    op->rd = dst(rd);
    op->rs1 = (uint8_t)rs1;
    op->imm = imm;
    return op;
}

static void emit_excp(DisasContext *s, unsigned cause, uint64_t tval)
{
    TBOp *op = emit(s, OP_EXCP);
    op->rd = (uint8_t)cause;
    op->imm = (int64_t)tval;
}

static bool gen_illegal(DisasContext *s)
{
    emit_excp(s, EXC_ILLEGAL_INST, s->raw);
    return true;
}

static bool same_page(uint64_t a, uint64_t b)
{
    return (a & TB_PAGE_MASK) == (b & TB_PAGE_MASK);
}

/* Allocates the block's next direct exit to target (chainable within the page). */
static uint8_t new_exit(DisasContext *s, uint64_t target)
{
    TranslationBlock *tb = s->tb;
    unsigned n = tb->nexits++;
    if (same_page(target, tb->pc)) {
        tb->jmp_pc[n] = target;
    }
    return (uint8_t)n;
}

/* The op after a JALR: its last target (imm, odd while there is none), that target's block
 * (handler) and the jump-cache generation it was looked up in (aux). Never dispatched. */
static void jalr_cache_slot(DisasContext *s)
{
    TBOp *op = &s->tb->ops[s->tb->nops++];
    memset(op, 0, sizeof(*op));
    op->imm = 1;
}

/* Resolves a static rounding mode; false for the reserved values 5 and 6. */
static bool rm_ok(unsigned rm)
{
    return rm != 5 && rm != 6;
}

static bool gen_fp(DisasContext *s, uint32_t insn, unsigned rd, unsigned rs1, unsigned rs2,
                   unsigned rm)
{
    unsigned f7 = bits(insn, 31, 25);
    bool dbl = f7 & 1;
    TBOp *op;
    typedef uint64_t (*Bin)(uint64_t, uint64_t, int, uint32_t *);
    if (f7 & 2) {
        return gen_illegal(s);    /* fmt H and Q are not implemented */
    }
    switch (f7 >> 2) {
    case 0x00: case 0x01: case 0x02: case 0x03: {   /* fadd fsub fmul fdiv */
        static const Bin fs[4] = { fpu_add_s, fpu_sub_s, fpu_mul_s, fpu_div_s };
        static const Bin fd[4] = { fpu_add_d, fpu_sub_d, fpu_mul_d, fpu_div_d };
        if (!rm_ok(rm)) {
            return gen_illegal(s);
        }
        op = emit(s, OP_FP_BIN_RM);
        op->imm = (int64_t)(uintptr_t)(dbl ? fd[f7 >> 2] : fs[f7 >> 2]);
        break;
    }
    case 0x0b:  /* fsqrt */
        if (rs2 != 0 || !rm_ok(rm)) {
            return gen_illegal(s);
        }
        op = emit(s, OP_FP_UN_RM);
        op->imm = (int64_t)(uintptr_t)(dbl ? fpu_sqrt_d : fpu_sqrt_s);
        break;
    case 0x04: {  /* fsgnj */
        typedef uint64_t (*Sg)(uint64_t, uint64_t);
        static const Sg fs[3] = { fpu_sgnj_s, fpu_sgnjn_s, fpu_sgnjx_s };
        static const Sg fd[3] = { fpu_sgnj_d, fpu_sgnjn_d, fpu_sgnjx_d };
        if (rm > 2) {
            return gen_illegal(s);
        }
        op = emit(s, OP_FP_SGNJ);
        op->imm = (int64_t)(uintptr_t)(dbl ? fd[rm] : fs[rm]);
        break;
    }
    case 0x05: {  /* fmin fmax */
        if (rm > 1) {
            return gen_illegal(s);
        }
        op = emit(s, OP_FP_BIN_FL);
        op->imm = (int64_t)(uintptr_t)(dbl ? (rm ? fpu_max_d : fpu_min_d)
                                           : (rm ? fpu_max_s : fpu_min_s));
        break;
    }
    case 0x08:  /* fcvt.s.d / fcvt.d.s */
        if (rs2 != (dbl ? 0u : 1u) || !rm_ok(rm)) {
            return gen_illegal(s);
        }
        op = emit(s, OP_FP_UN_RM);
        op->imm = (int64_t)(uintptr_t)(dbl ? fpu_cvt_d_s : fpu_cvt_s_d);
        break;
    case 0x14: {  /* feq flt fle */
        typedef uint64_t (*Cmp)(uint64_t, uint64_t, uint32_t *);
        static const Cmp fs[3] = { fpu_le_s, fpu_lt_s, fpu_eq_s };
        static const Cmp fd[3] = { fpu_le_d, fpu_lt_d, fpu_eq_d };
        if (rm > 2) {
            return gen_illegal(s);
        }
        op = emit(s, OP_FP_CMP);
        op->imm = (int64_t)(uintptr_t)(dbl ? fd[rm] : fs[rm]);
        break;
    }
    case 0x18: {  /* fcvt.{w,wu,l,lu}.{s,d} */
        typedef uint64_t (*Cv)(uint64_t, int, uint32_t *);
        static const Cv fs[4] = { fpu_cvt_w_s, fpu_cvt_wu_s, fpu_cvt_l_s, fpu_cvt_lu_s };
        static const Cv fd[4] = { fpu_cvt_w_d, fpu_cvt_wu_d, fpu_cvt_l_d, fpu_cvt_lu_d };
        if (rs2 > 3 || !rm_ok(rm)) {
            return gen_illegal(s);
        }
        op = emit(s, OP_FP_TO_INT);
        op->imm = (int64_t)(uintptr_t)(dbl ? fd[rs2] : fs[rs2]);
        break;
    }
    case 0x1a: {  /* fcvt.{s,d}.{w,wu,l,lu} */
        typedef uint64_t (*Cv)(uint64_t, int, uint32_t *);
        static const Cv fs[4] = { fpu_cvt_s_w, fpu_cvt_s_wu, fpu_cvt_s_l, fpu_cvt_s_lu };
        static const Cv fd[4] = { fpu_cvt_d_w, fpu_cvt_d_wu, fpu_cvt_d_l, fpu_cvt_d_lu };
        if (rs2 > 3 || !rm_ok(rm)) {
            return gen_illegal(s);
        }
        op = emit(s, OP_FP_FROM_INT);
        op->imm = (int64_t)(uintptr_t)(dbl ? fd[rs2] : fs[rs2]);
        break;
    }
    case 0x1c:  /* fmv.x.{w,d} / fclass */
        if (rs2 != 0 || rm > 1) {
            return gen_illegal(s);
        }
        if (rm == 0) {
            op = emit(s, dbl ? OP_FMV_X_D : OP_FMV_X_W);
        } else {
            op = emit(s, OP_FP_CLASS);
            op->imm = (int64_t)(uintptr_t)(dbl ? fpu_class_d : fpu_class_s);
        }
        break;
    case 0x1e:  /* fmv.{w,d}.x */
        if (rs2 != 0 || rm != 0) {
            return gen_illegal(s);
        }
        op = emit(s, dbl ? OP_FMV_D_X : OP_FMV_W_X);
        break;
    default:
        return gen_illegal(s);
    }
    /* Integer destinations go through dst() for x0; FP ones are f[rd] directly. */
    bool int_dst = op->handler == s->labels[OP_FP_CMP] || op->handler == s->labels[OP_FP_CLASS] ||
                   op->handler == s->labels[OP_FP_TO_INT] ||
                   op->handler == s->labels[OP_FMV_X_W] || op->handler == s->labels[OP_FMV_X_D];
    op->rd = int_dst ? dst(rd) : (uint8_t)rd;
    op->rs1 = (uint8_t)rs1;
    op->rs2 = (uint8_t)rs2;
    op->rs3 = (uint8_t)rm;
    return false;
}

/* Decodes one instruction into ops; returns true when it ends the block. */
static bool decode(DisasContext *s, uint32_t insn)
{
    unsigned opcode = insn & 0x7f;
    unsigned rd = bits(insn, 11, 7), rs1 = bits(insn, 19, 15), rs2 = bits(insn, 24, 20);
    unsigned f3 = bits(insn, 14, 12), f7 = bits(insn, 31, 25);
    int64_t imm_i = (int32_t)insn >> 20;
    int64_t imm_s = ((int32_t)insn >> 25 << 5) | (int64_t)rd;
    TBOp *op;

    switch (opcode) {
    case 0x37:  /* LUI */
        emit_i(s, OP_LI, rd, 0, (int32_t)(insn & 0xfffff000));
        return false;
    case 0x17:  /* AUIPC */
        emit_i(s, OP_LI, rd, 0, (int64_t)(s->pc + (uint64_t)(int64_t)(int32_t)(insn & 0xfffff000)));
        return false;
    case 0x6f: {  /* JAL */
        int64_t off = sext(bits(insn, 31, 31) << 20 | bits(insn, 19, 12) << 12 |
                           bits(insn, 20, 20) << 11 | bits(insn, 30, 21) << 1, 21);
        uint64_t target = s->pc + (uint64_t)off;
        op = emit_i(s, OP_JAL, rd, 0, (int64_t)target);
        op->rs3 = new_exit(s, target);
        return true;
    }
    case 0x67:  /* JALR */
        if (f3 != 0) {
            return gen_illegal(s);
        }
        emit_i(s, OP_JALR, rd, rs1, imm_i);
        jalr_cache_slot(s);
        return true;
    case 0x63: {  /* branches */
        static const int ops[8] = { OP_BEQ, OP_BNE, -1, -1, OP_BLT, OP_BGE, OP_BLTU, OP_BGEU };
        if (ops[f3] < 0) {
            return gen_illegal(s);
        }
        int64_t off = sext(bits(insn, 31, 31) << 12 | bits(insn, 7, 7) << 11 |
                           bits(insn, 30, 25) << 5 | bits(insn, 11, 8) << 1, 13);
        uint64_t target = s->pc + (uint64_t)off;
        op = emit(s, (unsigned)ops[f3]);
        op->rs1 = (uint8_t)rs1;
        op->rs2 = (uint8_t)rs2;
        op->imm = (int64_t)target;
        op->rd = new_exit(s, target);
        /* not taken continues in the block while an exit remains for its final GOTO */
        s->branch_end = s->tb->nexits >= TB_MAX_EXITS - 1;
        return s->branch_end;
    }
    case 0x03: {  /* loads */
        static const int ops[8] = { OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU, -1 };
        if (ops[f3] < 0) {
            return gen_illegal(s);
        }
        emit_i(s, (unsigned)ops[f3], rd, rs1, imm_i);
        return false;
    }
    case 0x23: {  /* stores */
        static const int ops[8] = { OP_SB, OP_SH, OP_SW, OP_SD, -1, -1, -1, -1 };
        if (ops[f3] < 0) {
            return gen_illegal(s);
        }
        op = emit(s, (unsigned)ops[f3]);
        op->rs1 = (uint8_t)rs1;
        op->rs2 = (uint8_t)rs2;
        op->imm = imm_s;
        return false;
    }
    case 0x13: {  /* OP-IMM */
        switch (f3) {
        case 0:
            if (rs1 == 0) {
                emit_i(s, OP_LI, rd, 0, imm_i);
            } else if (imm_i == 0) {
                emit_i(s, OP_MV, rd, rs1, 0);
            } else {
                emit_i(s, OP_ADDI, rd, rs1, imm_i);
            }
            return false;
        case 1:
            if (bits(insn, 31, 26) != 0) {
                return gen_illegal(s);
            }
            emit_i(s, OP_SLLI, rd, rs1, bits(insn, 25, 20));
            return false;
        case 2: emit_i(s, OP_SLTI, rd, rs1, imm_i); return false;
        case 3: emit_i(s, OP_SLTIU, rd, rs1, imm_i); return false;
        case 4: emit_i(s, OP_XORI, rd, rs1, imm_i); return false;
        case 5:
            if (bits(insn, 31, 26) == 0) {
                emit_i(s, OP_SRLI, rd, rs1, bits(insn, 25, 20));
            } else if (bits(insn, 31, 26) == 0x10) {
                emit_i(s, OP_SRAI, rd, rs1, bits(insn, 25, 20));
            } else {
                return gen_illegal(s);
            }
            return false;
        case 6: emit_i(s, OP_ORI, rd, rs1, imm_i); return false;
        default: emit_i(s, OP_ANDI, rd, rs1, imm_i); return false;
        }
    }
    case 0x1b:  /* OP-IMM-32 */
        if (f3 == 0) {
            emit_i(s, OP_ADDIW, rd, rs1, imm_i);
        } else if (f3 == 1 && f7 == 0) {
            emit_i(s, OP_SLLIW, rd, rs1, rs2);
        } else if (f3 == 5 && f7 == 0) {
            emit_i(s, OP_SRLIW, rd, rs1, rs2);
        } else if (f3 == 5 && f7 == 0x20) {
            emit_i(s, OP_SRAIW, rd, rs1, rs2);
        } else {
            return gen_illegal(s);
        }
        return false;
    case 0x33: {  /* OP */
        static const int base[8] = { OP_ADD, OP_SLL, OP_SLT, OP_SLTU, OP_XOR, OP_SRL, OP_OR, OP_AND };
        static const int mul[8] = { OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU,
                                    OP_DIV, OP_DIVU, OP_REM, OP_REMU };
        int o;
        if (f7 == 0) {
            o = base[f3];
        } else if (f7 == 1) {
            o = mul[f3];
        } else if (f7 == 0x20 && f3 == 0) {
            o = OP_SUB;
        } else if (f7 == 0x20 && f3 == 5) {
            o = OP_SRA;
        } else {
            return gen_illegal(s);
        }
        if (o == OP_ADD && rs1 == 0) {
            emit_i(s, OP_MV, rd, rs2, 0);
        } else {
            emit_r(s, (unsigned)o, rd, rs1, rs2);
        }
        return false;
    }
    case 0x3b: {  /* OP-32 */
        int o = -1;
        if (f7 == 0) {
            o = f3 == 0 ? OP_ADDW : f3 == 1 ? OP_SLLW : f3 == 5 ? OP_SRLW : -1;
        } else if (f7 == 0x20) {
            o = f3 == 0 ? OP_SUBW : f3 == 5 ? OP_SRAW : -1;
        } else if (f7 == 1) {
            static const int mw[8] = { OP_MULW, -1, -1, -1, OP_DIVW, OP_DIVUW, OP_REMW, OP_REMUW };
            o = mw[f3];
        }
        if (o < 0) {
            return gen_illegal(s);
        }
        emit_r(s, (unsigned)o, rd, rs1, rs2);
        return false;
    }
    case 0x0f:  /* MISC-MEM */
        if (f3 == 0) {
            emit(s, OP_FENCE);
            return false;
        }
        if (f3 == 1) {
            emit(s, OP_FENCE_I);
            return true;
        }
        return gen_illegal(s);
    case 0x73:  /* SYSTEM */
        if (f3 == 0) {
            if (insn == 0x00000073) {
                emit_excp(s, EXC_ECALL_U + (unsigned)s->priv, 0);
            } else if (insn == 0x00100073) {
                emit_excp(s, EXC_BREAKPOINT, s->pc);
            } else if (insn == 0x30200073) {
                emit(s, OP_MRET);
            } else if (insn == 0x10200073) {
                emit(s, OP_SRET);
            } else if (insn == 0x10500073) {
                emit(s, OP_WFI);
            } else if (f7 == 0x09 && rd == 0) {
                emit_r(s, OP_SFENCE_VMA, 0, rs1, rs2);
            } else {
                return gen_illegal(s);
            }
            return true;
        }
        if (f3 == 4) {
            return gen_illegal(s);
        }
        {
            bool write = (f3 & 3) == 1 || rs1 != 0;
            op = emit_i(s, OP_CSR, rd, rs1, (int64_t)(bits(insn, 31, 20) | (uint64_t)s->raw << 16));
            op->rs2 = (uint8_t)((f3 & 3) - 1);       /* CSR_OP_W/S/C */
            op->rs3 = (uint8_t)(((f3 & 4) ? CSR_F_IMM : 0) | (write ? CSR_F_WRITE : 0));
            return write;
        }
    case 0x2f: {  /* AMO */
        unsigned f5 = bits(insn, 31, 27);
        if ((f3 != 2 && f3 != 3) || (f5 == 2 && rs2 != 0)) {
            return gen_illegal(s);
        }
        switch (f5) {
        case 0x00: case 0x01: case 0x02: case 0x03: case 0x04: case 0x08: case 0x0c:
        case 0x10: case 0x14: case 0x18: case 0x1c:
            break;
        default:
            return gen_illegal(s);
        }
        op = emit_r(s, OP_AMO, rd, rs1, rs2);
        op->rs3 = (uint8_t)f5;
        op->imm = f3 == 2 ? 4 : 8;
        return false;
    }
    case 0x07:  /* LOAD-FP */
    case 0x27:  /* STORE-FP */
        if (!s->fp || (f3 != 2 && f3 != 3)) {
            return gen_illegal(s);
        }
        if (opcode == 0x07) {
            op = emit(s, f3 == 2 ? OP_FLW : OP_FLD);
            op->rd = (uint8_t)rd;
            op->rs1 = (uint8_t)rs1;
            op->imm = imm_i;
        } else {
            op = emit(s, f3 == 2 ? OP_FSW : OP_FSD);
            op->rs1 = (uint8_t)rs1;
            op->rs2 = (uint8_t)rs2;
            op->imm = imm_s;
        }
        return false;
    case 0x43: case 0x47: case 0x4b: case 0x4f: {  /* fused multiply-add */
        unsigned fmt = bits(insn, 26, 25);
        if (!s->fp || fmt > 1 || !rm_ok(f3)) {
            return gen_illegal(s);
        }
        unsigned k = (opcode - 0x43) >> 2;
        op = emit(s, (fmt ? OP_FMADD_D : OP_FMADD_S) + k);
        op->rd = (uint8_t)rd;
        op->rs1 = (uint8_t)rs1;
        op->rs2 = (uint8_t)rs2;
        op->rs3 = (uint8_t)bits(insn, 31, 27);
        op->imm = f3;
        return false;
    }
    case 0x53:  /* OP-FP */
        if (!s->fp) {
            return gen_illegal(s);
        }
        return gen_fp(s, insn, rd, rs1, rs2, f3);
    default:
        return gen_illegal(s);
    }
}

/* Fuses adjacent ops of the block: LD_RUN, SD_RUN and LI_PAIR first, then A_B pairs. */
static void fuse_pairs(TranslationBlock *tb, const void *const *labels)
{
    static const uint8_t then[][3] = {
        { OP_ANDI, OP_BEQ, OP_ANDI_BEQ }, { OP_ANDI, OP_BNE, OP_ANDI_BNE },
        { OP_ADDI, OP_JALR, OP_ADDI_JALR }, { OP_LI, OP_JALR, OP_LI_JALR },
        { OP_MV, OP_JAL, OP_MV_JAL }, { OP_MV, OP_MV, OP_MV_MV }, { OP_ADDI, OP_SD, OP_ADDI_SD },
        { OP_ADDI, OP_MV, OP_ADDI_MV }, { OP_ADDI, OP_LI, OP_ADDI_LI }, { OP_MV, OP_LI, OP_MV_LI },
        { OP_LI, OP_LI, OP_LI_LI }, { OP_MV, OP_LD, OP_MV_LD }, { OP_SLLI, OP_ADD, OP_SLLI_ADD },
        { OP_SLLI, OP_SRLI, OP_SLLI_SRLI }, { OP_LD, OP_ADDI, OP_LD_ADDI },
        { OP_LD, OP_MV, OP_LD_MV }, { OP_LD, OP_LI, OP_LD_LI }, { OP_LD, OP_BEQ, OP_LD_BEQ },
        { OP_LD, OP_BNE, OP_LD_BNE }, { OP_LD, OP_ANDI, OP_LD_ANDI },
        { OP_SD, OP_ADDI, OP_SD_ADDI },
    };
    _Static_assert(OP_COUNT <= 256, "fusion table holds op numbers in bytes");
    for (unsigned i = 0; i + 1 < tb->nops; i++) {
        TBOp *a = &tb->ops[i], *b = &tb->ops[i + 1];
        if ((a->handler == labels[OP_LD] || a->handler == labels[OP_SD]) &&
            b->handler == a->handler && a->rs1 == b->rs1) {
            bool ld = a->handler == labels[OP_LD];
            unsigned n = 1;
            while (i + n < tb->nops && n < UINT8_MAX && tb->ops[i + n].handler == a->handler &&
                   tb->ops[i + n].rs1 == a->rs1 && !(ld && tb->ops[i + n - 1].rd == a->rs1)) {
                n++;
            }
            if (n >= 2) {
                a->handler = labels[ld ? OP_LD_RUN : OP_SD_RUN];
                a->rs3 = (uint8_t)n;
            }
        } else if (a->handler == labels[OP_LI] && a->rd != 32 && b->rd == a->rd &&
                   b->rs1 == a->rd &&
                   (b->handler == labels[OP_ADDI] || b->handler == labels[OP_ADDIW])) {
            uint64_t v = (uint64_t)a->imm + (uint64_t)b->imm;
            a->imm = b->handler == labels[OP_ADDIW] ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v;
            a->handler = labels[OP_LI_PAIR];
        }
    }
    /* Then the others, where the second op still is what it was decoded as (LI_PAIR changes
     * its first op's constant). */
    for (unsigned i = 0; i + 1 < tb->nops; i++) {
        TBOp *a = &tb->ops[i];
        const void *hb = tb->ops[i + 1].handler;
        for (size_t k = 0; k < G_N_ELEMENTS(then); k++) {
            if (a->handler == labels[then[k][0]] && hb == labels[then[k][1]]) {
                a->handler = labels[then[k][2]];
                break;
            }
        }
    }
}

static void log_block(DisasContext *s, const uint8_t *host0, const uint8_t *host1,
                      uint64_t page_end)
{
    TranslationBlock *tb = s->tb;
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "IN: \nPriv: %" PRIu64 "\n", s->priv);
    uint64_t pc = tb->pc;
    while (pc < tb->pc + tb->size) {
        uint8_t b[4];
        for (unsigned i = 0; i < 4; i++) {
            uint64_t a = pc + i;
            b[i] = a < page_end ? host0[a - tb->pc] : (host1 ? host1[a - page_end] : 0);
        }
        uint32_t w = (uint32_t)b[0] | (uint32_t)b[1] << 8;
        if ((w & 3) == 3) {
            w |= (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            g_string_append_printf(out, "0x%016" PRIx64 ":  %08x\n", pc, w);
            pc += 4;
        } else {
            g_string_append_printf(out, "0x%016" PRIx64 ":  %04x\n", pc, w);
            pc += 2;
        }
    }
    g_string_append(out, "\n");
    log_printf("%s", out->str);
    g_string_free(out, TRUE);
}

TranslationBlock *riscv_translate_block(CPURISCVState *env, TBCache *cache, uint64_t pc,
                                        const void *const *labels)
{
    uint64_t phys;
    const uint8_t *host = riscv_fetch_page(env, pc, &phys, 2);
    if (!host) {
        return NULL;
    }
    /* at most one op per instruction plus the final GOTO or the cache slot of a final JALR */
    TranslationBlock *tb = NULL;
    size_t code_room = 0;
    if (cache->code) {
        tb_code_ptr(cache, &code_room);
    }
    if (!cache->code || code_room >= RISCV_JIT_BLOCK_MAX) {
        tb = tb_alloc(cache, TB_MAX_INSNS + 1);
    }
    if (!tb) {
        tb_flush(cache);
        tb = tb_alloc(cache, TB_MAX_INSNS + 1);
    }
    DisasContext s = {
        .env = env, .tb = tb, .labels = labels, .pc = pc,
        .fp = (env->mstatus & MSTATUS_FS) != 0, .priv = env->priv,
    };
    tb->pc = pc;
    tb->phys_pc = phys;
    tb->flags = env->tb_flags;
    uint64_t page_end = (pc & TB_PAGE_MASK) + TB_PAGE_SIZE;
    const uint8_t *host1 = NULL;
    bool end = false;
    while (!end) {
        uint32_t lo = (uint32_t)host[s.pc - pc] | (uint32_t)host[s.pc - pc + 1] << 8;
        uint32_t insn;
        if ((lo & 3) != 3) {
            s.ilen = 2;
            s.raw = lo;
            insn = riscv_rvc_expand(lo);
        } else {
            s.ilen = 4;
            if (s.pc + 2 >= page_end) {
                if (s.insn_idx > 0) {
                    break;        /* a page-crossing instruction starts its own block */
                }
                uint64_t phys2;
                host1 = riscv_fetch_page(env, page_end, &phys2, 2);
                if (!host1) {
                    return NULL;
                }
                tb->phys_page2 = phys2 & TB_PAGE_MASK;
                insn = lo | ((uint32_t)host1[0] | (uint32_t)host1[1] << 8) << 16;
            } else {
                insn = lo | ((uint32_t)host[s.pc - pc + 2] | (uint32_t)host[s.pc - pc + 3] << 8) << 16;
            }
            s.raw = insn;
        }
        if (insn == 0) {
            end = gen_illegal(&s);
        } else {
            end = decode(&s, insn);
        }
        s.pc += s.ilen;
        s.insn_idx++;
        if (!end && (s.pc >= page_end || s.insn_idx >= TB_MAX_INSNS)) {
            break;
        }
    }
    fuse_pairs(tb, labels);
    /* logging every block entry needs the interpreter */
    tb->jit_countdown = cache->jit && !log_enabled(LOG_EXEC | LOG_CPU) ? RISCV_JIT_HOT : 0;
    tb->size = (uint16_t)(s.pc - pc);
    tb->icount = (uint16_t)s.insn_idx;
    if (!end || s.branch_end) {
        /* falls through: after the last instruction, or after a final branch */
        TBOp *op = emit(&s, OP_GOTO);
        op->imm = (int64_t)s.pc;
        op->pc_off = (uint16_t)(s.pc - pc);
        op->insn_idx = (uint8_t)(s.insn_idx - 1);
        op->ilen = 0;
        op->rs3 = new_exit(&s, s.pc);
    }
    if (log_enabled(LOG_IN_ASM)) {
        log_block(&s, host, host1, page_end);
    }
    bool had_code = tb_page_has_code(cache, phys & TB_PAGE_MASK);
    bool had_code2 = tb->phys_page2 == UINT64_MAX || tb_page_has_code(cache, tb->phys_page2);
    tb_commit(cache, tb);
    if (!had_code) {
        riscv_tlb_protect_code(env, phys & TB_PAGE_MASK);
    }
    if (!had_code2) {
        riscv_tlb_protect_code(env, tb->phys_page2);
    }
    return tb;
}
