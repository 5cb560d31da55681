/* Decoder: x86 code (legacy prefixes, REX, ModRM, SIB, RIP-relative) -> blocks of op pairs. */
#include <string.h>
#include <glib.h>
#include "target/i386/internal.h"
#include "target/i386/ops.h"
#include "util/log.h"

typedef struct Dc {
    X86Tcg *t;
    TranslationBlock *tb;
    const void *const *labels;
    uint64_t pc0;            /* linear address of the instruction */
    uint64_t pc;             /* next byte to fetch */
    uint64_t cs_base;
    const uint8_t *page;     /* host pointer to the page of pc (or NULL) */
    uint64_t page_la;
    bool fault;
    bool cs64, cs32;
    unsigned cpl;
    /* prefixes */
    unsigned rex;
    bool rex_present;
    int seg;                 /* override, or -1 */
    unsigned pflags;
    unsigned osize, asize;
    /* modrm */
    unsigned mod, reg, rm;
    TBOp *a, *b;
    bool end;                /* the block ends after this instruction */
    unsigned nexit;
} Dc;

static uint8_t fetch8(Dc *d)
{
    uint64_t la = d->pc;
    if (!d->page || (la & TB_PAGE_MASK) != d->page_la) {
        uint64_t phys;
        d->page = x86_fetch_page(d->t, la & TB_PAGE_MASK, &phys);
        d->page_la = la & TB_PAGE_MASK;
        if (!d->page) {
            d->fault = true;
            return 0;
        }
        if ((phys & TB_PAGE_MASK) != (d->tb->phys_pc & TB_PAGE_MASK)) {
            d->tb->phys_page2 = phys & TB_PAGE_MASK;
        }
    }
    d->pc++;
    return d->page[la & ~TB_PAGE_MASK];
}

static uint64_t fetchn(Dc *d, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)fetch8(d) << (8 * i);
    }
    return v;
}

static int64_t fetch_simm(Dc *d, unsigned n)
{
    uint64_t v = fetchn(d, n);
    unsigned sh = 64 - 8 * n;
    return (int64_t)(v << sh) >> sh;
}

/* Register number of a byte register operand (AH..BH are 16..19 without REX). */
static unsigned breg(Dc *d, unsigned r)
{
    return (!d->rex_present && r >= 4 && r < 8) ? 16 + (r - 4) : r;
}

/* Sets the handler and operand size of the instruction; true (decoded) for the caller. */
static bool emit(Dc *d, int opc, unsigned size)
{
    d->a->handler = d->labels[opc];
    d->a->rs2 = (uint8_t)size;
    return true;
}

/* emit() for an instruction that ends its block. */
static bool emit_end(Dc *d, int opc, unsigned size)
{
    d->end = true;
    return emit(d, opc, size);
}

/* Decodes ModRM (+ SIB, displacement) into d->mod/reg/rm and the memory op. */
static void decode_modrm(Dc *d)
{
    uint8_t m = fetch8(d);
    d->mod = m >> 6;
    d->reg = ((m >> 3) & 7) | ((d->rex & 4) << 1);
    unsigned rm = m & 7;
    TBOp *b = d->b;
    if (d->mod == 3) {
        d->rm = rm | ((d->rex & 1) << 3);
        d->a->rs1 = (uint8_t)d->rm;
        return;
    }
    d->a->rs1 = X86_RM_MEM;
    d->rm = X86_RM_MEM;
    b->rd = X86_NONE;
    b->rs1 = X86_NONE;
    b->rs2 = 0;
    int def_seg = R_DS;
    int64_t disp = 0;
    if (d->asize == 2) {
        static const uint8_t base16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
        static const uint8_t idx16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, X86_NONE, X86_NONE,
                                          X86_NONE, X86_NONE };
        if (d->mod == 0 && rm == 6) {
            disp = (int64_t)fetchn(d, 2);
        } else {
            b->rd = base16[rm];
            b->rs1 = idx16[rm];
            if (rm == 2 || rm == 3 || rm == 6) {
                def_seg = R_SS;
            }
            disp = d->mod == 1 ? fetch_simm(d, 1) : d->mod == 2 ? fetch_simm(d, 2) : 0;
        }
    } else {
        bool rip_rel = false;
        if (rm == 4) {
            uint8_t sib = fetch8(d);
            unsigned base = (sib & 7) | ((d->rex & 1) << 3);
            unsigned idx = ((sib >> 3) & 7) | ((d->rex & 2) << 2);
            b->rs2 = sib >> 6;
            if (idx != 4) {
                b->rs1 = (uint8_t)idx;
            }
            if ((sib & 7) == 5 && d->mod == 0) {
                disp = fetch_simm(d, 4);
            } else {
                b->rd = (uint8_t)base;
                if ((base & 7) == R_ESP || (base & 7) == R_EBP) {
                    def_seg = (base == R_ESP || base == R_EBP) ? R_SS : R_DS;
                }
            }
        } else if (rm == 5 && d->mod == 0) {
            disp = fetch_simm(d, 4);
            rip_rel = d->cs64;
        } else {
            unsigned base = rm | ((d->rex & 1) << 3);
            b->rd = (uint8_t)base;
            if (base == R_EBP) {
                def_seg = R_SS;
            }
        }
        if (d->mod == 1) {
            disp = fetch_simm(d, 1);
        } else if (d->mod == 2) {
            disp = fetch_simm(d, 4);
        }
        if (rip_rel) {
            /* resolved once the instruction length is known (see finish_insn) */
            b->rd = 0xfe;
        }
    }
    b->imm = disp;
    int seg = d->seg >= 0 ? d->seg : def_seg;
    if (d->cs64 && seg != R_FS && seg != R_GS) {
        seg = X86_NONE;
    }
    b->rs3 = (uint8_t)seg;
    b->pc_off = (uint16_t)d->asize;
    if (seg == X86_NONE && d->asize == 8) {
        d->pflags |= X86_PF_FLAT;
    }
}

/* decode_modrm() for an r/m operand of size bytes: a byte register r/m (AH..BH without REX)
 * is mapped in rs1. */
static void decode_modrm_sized(Dc *d, unsigned size)
{
    decode_modrm(d);
    if (d->rm != X86_RM_MEM && size == 1) {
        d->a->rs1 = (uint8_t)breg(d, d->rm);
    }
}

/* decode_modrm_sized() for an instruction with a ModRM.reg operand too: it goes to rd. */
static void decode_modrm_reg(Dc *d, unsigned size)
{
    decode_modrm_sized(d, size);
    d->a->rd = (uint8_t)(size == 1 ? breg(d, d->reg) : d->reg);
}

/* A memory operand with no ModRM (string ops, MOV moffs, XLAT): segment and size only. */
static void mem_noreg(Dc *d, int def_seg)
{
    int seg = d->seg >= 0 ? d->seg : def_seg;
    if (d->cs64 && seg != R_FS && seg != R_GS) {
        seg = X86_NONE;
    }
    d->b->rd = X86_NONE;
    d->b->rs1 = X86_NONE;
    d->b->rs2 = 0;
    d->b->rs3 = (uint8_t)seg;
    d->b->pc_off = (uint16_t)d->asize;
}

static uint64_t rip_of(Dc *d, uint64_t la)
{
    return la - d->cs_base;
}

/* Linear target of a relative branch (EIP wraps at the operand size outside 64-bit). */
static uint64_t branch_target(Dc *d, int64_t rel)
{
    uint64_t rip = rip_of(d, d->pc) + (uint64_t)rel;
    if (!d->cs64) {
        rip &= d->osize == 2 ? 0xffff : 0xffffffffull;
    }
    return d->cs_base + rip;
}

static int64_t imm_for(Dc *d, unsigned size)
{
    return fetch_simm(d, size == 8 ? 4 : size);
}

/* Registers a direct exit to target; its number, or X86_NONE when out of exits. */
static uint8_t set_exit(Dc *d, uint64_t target)
{
    TranslationBlock *tb = d->tb;
    if (d->nexit >= TB_MAX_EXITS) {
        return X86_NONE;
    }
    tb->jmp_pc[d->nexit] = target;
    return (uint8_t)d->nexit++;
}

/* Jcc with condition cc to rel past the instruction (its displacement fetched last). */
static bool emit_jcc(Dc *d, unsigned cc, int64_t rel, unsigned os)
{
    TBOp *a = d->a;
    a->imm = (int64_t)branch_target(d, rel);
    a->rs3 = (uint8_t)cc;
    a->rd = set_exit(d, (uint64_t)a->imm);
    a->rs1 = set_exit(d, d->pc);
    return emit_end(d, X86_OP_JCC, os);
}

/* ---- MMX/SSE opcode maps (executed by sse.c) ---- */

static bool sse_has_imm8(unsigned map, uint8_t op)
{
    return map == 2 || (map == 0 && ((op >= 0x70 && op <= 0x73) || op == 0xc2 ||
                                     (op >= 0xc4 && op <= 0xc6)));
}

/* One instruction of the 0F (map 0), 0F 38 (1) or 0F 3A (2) maps on MMX/XMM registers. */
static bool decode_sse(Dc *d, unsigned map, uint8_t op)
{
    TBOp *a = d->a;
    unsigned pfx = (d->pflags & X86_PF_REP) ? 2 : (d->pflags & X86_PF_REPNE) ? 3
                 : (d->pflags & X86_PF_OPSZ) ? 1 : 0;
    unsigned imm8 = 0;
    if (d->pflags & X86_PF_LOCK) {
        return false;
    }
    if (map != 0 || op != 0x77) {
        decode_modrm(d);
        a->rd = (uint8_t)d->reg;
    }
    if (sse_has_imm8(map, op)) {
        imm8 = fetch8(d);
    }
    if (map == 1 && op == 0xf0 && d->rm != X86_RM_MEM) {
        a->rs1 = (uint8_t)breg(d, d->rm);   /* CRC32 r/m8 */
    }
    if (map == 0 && op == 0xf7) {
        /* MASKMOVQ/MASKMOVDQU: the mask register travels in imm8, [rDI] is the operand */
        if (d->rm == X86_RM_MEM) {
            return false;
        }
        imm8 = d->rm;
        a->rs1 = X86_RM_MEM;
        mem_noreg(d, R_DS);
        d->b->rd = R_EDI;
    }
    a->imm = X86_SSE_IMM(op, map, pfx, imm8, (d->rex & 8) ? 1 : 0);
    return emit(d, X86_OP_SSE, d->osize);
}

static bool decode_0f(Dc *d, uint8_t op, unsigned os)
{
    TBOp *a = d->a;
    switch (op) {
    case 0x00:   /* group 6: SLDT STR LLDT LTR VERR VERW */
        decode_modrm(d);
        if (!(d->t->tb_flags & X86_TBF_PE) || (d->reg & 7) > 3) {
            return false;
        }
        a->rs3 = (uint8_t)(d->reg & 7);
        return emit_end(d, X86_OP_DESC, os);
    case 0x01: {
        uint8_t peek = d->page && (d->pc & TB_PAGE_MASK) == d->page_la
                           ? d->page[d->pc & ~TB_PAGE_MASK] : 0;
        if (peek == 0xf8 && d->cs64) {
            fetch8(d);
            return emit(d, X86_OP_SWAPGS, os);
        }
        if (peek == 0xf9) {
            fetch8(d);
            return emit(d, X86_OP_RDTSCP, os);
        }
        if (peek == 0xd0 || peek == 0xd1 || peek == 0xc8 || peek == 0xc9 || peek == 0xca ||
            peek == 0xcb) {
            return false;   /* XGETBV/XSETBV, MONITOR/MWAIT, CLAC/STAC: not advertised */
        }
        decode_modrm(d);
        unsigned r = d->reg & 7;
        if (r == 5 || (r < 4 && d->mod == 3) || (r == 7 && d->mod == 3)) {
            return false;
        }
        /* SGDT SIDT LGDT LIDT SMSW - LMSW INVLPG as DESC 8..15 */
        a->rs3 = (uint8_t)(8 + r);
        return emit_end(d, X86_OP_DESC, os);
    }
    case 0x05:
        if (!d->cs64 && !(d->t->env->efer & X86_EFER_LMA)) {
            return false;
        }
        return emit_end(d, X86_OP_SYSCALL, os);
    case 0x06:
        return emit_end(d, X86_OP_CLTS, os);
    case 0x07:
        return emit_end(d, X86_OP_SYSRET, os);
    case 0x08: case 0x09:
        emit(d, X86_OP_NOP, os);   /* INVD, WBINVD: caches are coherent */
        a->rs3 = 1;                /* privileged */
        return true;
    case 0x0b:
        return false;              /* UD2 */
    case 0x0d: case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e:
    case 0x1f:
        decode_modrm(d);           /* prefetch and hint NOPs */
        return emit(d, X86_OP_NOP, os);
    case 0x20: case 0x21: case 0x22: case 0x23: {
        uint8_t m = fetch8(d);
        a->rs1 = (uint8_t)((m & 7) | ((d->rex & 1) << 3));
        a->rd = (uint8_t)(((m >> 3) & 7) | ((d->rex & 4) << 1));
        a->rs3 = op & 2 ? 1 : 0;
        return emit_end(d, op & 1 ? X86_OP_MOVDR : X86_OP_MOVCR, d->cs64 ? 8 : 4);
    }
    case 0x30:
        return emit_end(d, X86_OP_WRMSR, os);
    case 0x31:
        return emit(d, X86_OP_RDTSC, os);
    case 0x32:
        return emit(d, X86_OP_RDMSR, os);
    case 0x40 ... 0x4f:
        decode_modrm(d);
        a->rd = (uint8_t)d->reg;
        a->rs3 = op & 0xf;
        return emit(d, X86_OP_CMOVCC, os);
    case 0x80 ... 0x8f:
        return emit_jcc(d, op & 0xf, imm_for(d, os == 2 ? 2 : 4), os);
    case 0x90 ... 0x9f:
        decode_modrm(d);
        if (d->rm != X86_RM_MEM) {
            a->rs1 = (uint8_t)breg(d, d->rm);
        }
        a->rs3 = op & 0xf;
        return emit(d, X86_OP_SETCC, 1);
    case 0xa0: case 0xa8:
        a->rs3 = op == 0xa0 ? R_FS : R_GS;
        return emit(d, X86_OP_PUSH_SEG, os);
    case 0xa1: case 0xa9:
        a->rs3 = op == 0xa1 ? R_FS : R_GS;
        return emit_end(d, X86_OP_POP_SEG, os);
    case 0xa2:
        return emit(d, X86_OP_CPUID, os);
    case 0xa3: case 0xab: case 0xb3: case 0xbb:
        decode_modrm(d);
        a->rd = (uint8_t)d->reg;
        a->rs3 = (op >> 3) & 3;
        return emit(d, X86_OP_BT, os);
    case 0xba:
        decode_modrm(d);
        if ((d->reg & 7) < 4) {
            return false;
        }
        a->rd = X86_NONE;
        a->imm = fetch8(d);
        a->rs3 = d->reg & 3;
        return emit(d, X86_OP_BT, os);
    case 0xa4: case 0xa5: case 0xac: case 0xad:
        decode_modrm(d);
        a->rd = (uint8_t)d->reg;
        a->rs3 = op >= 0xac;
        a->imm = (op & 1) ? -1 : fetch8(d);
        return emit(d, X86_OP_SHD, os);
    case 0xae:
        decode_modrm(d);
        if (d->mod == 3) {
            /* LFENCE, MFENCE, SFENCE (RDFSBASE family is not advertised) */
            if ((d->reg & 7) < 5) {
                return false;
            }
            return emit(d, X86_OP_NOP, os);
        }
        switch (d->reg & 7) {
        case 0: case 1:
            a->rs3 = d->reg & 1;
            return emit(d, X86_OP_FXSAVE, (d->rex & 8) ? 8 : 4);
        case 2: case 3:
            a->rs3 = d->reg & 1;
            return emit(d, X86_OP_MXCSR, 4);
        case 7:
            emit(d, X86_OP_NOP, os);   /* CLFLUSH */
            return true;
        default:
            return false;
        }
    case 0xaf:
        decode_modrm(d);
        a->rd = (uint8_t)d->reg;
        return emit(d, X86_OP_IMUL2, os);
    case 0xb0: case 0xb1: {
        unsigned s = op & 1 ? os : 1;
        decode_modrm_reg(d, s);
        return emit(d, X86_OP_CMPXCHG, s);
    }
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: {
        unsigned src = (op & 1) ? 2 : 1;
        decode_modrm(d);
        a->rd = (uint8_t)d->reg;
        if (d->rm != X86_RM_MEM && src == 1) {
            a->rs1 = (uint8_t)breg(d, d->rm);
        }
        a->rs3 = op >= 0xbe;
        d->b->insn_idx = (uint8_t)src;
        return emit(d, X86_OP_MOVX, os);
    }
    case 0xb8:
        if (!(d->pflags & X86_PF_REP)) {
            return false;
        }
        d->pflags &= ~X86_PF_REP;
        decode_modrm(d);
        a->rd = (uint8_t)d->reg;
        return emit(d, X86_OP_POPCNT, os);
    case 0xbc: case 0xbd:
        /* F3 (TZCNT/LZCNT) runs as BSF/BSR: BMI1/ABM are not advertised, as on older CPUs */
        d->pflags &= ~X86_PF_REP;
        decode_modrm(d);
        a->rd = (uint8_t)d->reg;
        return emit(d, op == 0xbc ? X86_OP_BSF : X86_OP_BSR, os);
    case 0xc0: case 0xc1: {
        unsigned s = op & 1 ? os : 1;
        decode_modrm_reg(d, s);
        return emit(d, X86_OP_XADD, s);
    }
    case 0xc7:
        decode_modrm(d);
        if ((d->reg & 7) == 1 && d->mod != 3) {
            /* CMPXCHG8B, or CMPXCHG16B with REX.W */
            return emit(d, X86_OP_CMPXCHG8B, (d->rex & 8) ? 16 : 8);
        }
        return false;   /* RDRAND, RDSEED, RDPID are not advertised */
    case 0xc8 ... 0xcf:
        a->rd = (uint8_t)((op & 7) | ((d->rex & 1) << 3));
        return emit(d, X86_OP_BSWAP, os);
    case 0xc3:   /* MOVNTI m32/64, r32/64 */
        decode_modrm(d);
        if (d->rm != X86_RM_MEM || os == 2) {
            return false;
        }
        a->rd = (uint8_t)d->reg;
        return emit(d, X86_OP_MOV_RM_R, os);
    case 0x38: case 0x3a: {
        uint8_t op2 = fetch8(d);
        return decode_sse(d, op == 0x38 ? 1 : 2, op2);
    }
    case 0x10 ... 0x17: case 0x28 ... 0x2f: case 0x50 ... 0x7f: case 0xc2: case 0xc4 ... 0xc6:
    case 0xd0 ... 0xff:
        return decode_sse(d, 0, op);
    default:
        return false;
    }
}

/* Decodes one instruction into d->a/d->b; false for an invalid or unsupported opcode. */
static bool decode_insn(Dc *d)
{
    TBOp *a = d->a;
    d->rex = 0;
    d->rex_present = false;
    d->seg = -1;
    d->pflags = 0;
    bool opsz = false, adsz = false;
    uint8_t op;
    for (;;) {
        op = fetch8(d);
        if (d->fault) {
            return true;
        }
        switch (op) {
        case 0x26: d->seg = R_ES; continue;
        case 0x2e: d->seg = R_CS; continue;
        case 0x36: d->seg = R_SS; continue;
        case 0x3e: d->seg = R_DS; continue;
        case 0x64: d->seg = R_FS; continue;
        case 0x65: d->seg = R_GS; continue;
        case 0x66: opsz = true; d->rex = 0; continue;
        case 0x67: adsz = true; continue;
        case 0xf0: d->pflags |= X86_PF_LOCK; continue;
        case 0xf2: d->pflags = (d->pflags & ~X86_PF_REP) | X86_PF_REPNE; continue;
        case 0xf3: d->pflags = (d->pflags & ~X86_PF_REPNE) | X86_PF_REP; continue;
        default:
            break;
        }
        if (d->cs64 && (op & 0xf0) == 0x40) {
            d->rex = op & 0xf;
            d->rex_present = true;
            op = fetch8(d);
            if ((op & 0xf0) == 0x40) {
                d->pc--;       /* a REX followed by REX: only the last one counts */
                continue;
            }
        }
        break;
    }
    if (d->pc - d->pc0 > 15) {
        x86_raise(d->t, EXCP_GP, true, 0);
        d->fault = true;
        return true;
    }
    if (d->cs64) {
        d->osize = (d->rex & 8) ? 8 : opsz ? 2 : 4;
        d->asize = adsz ? 4 : 8;
    } else {
        bool big = d->cs32;
        d->osize = (big ^ opsz) ? 4 : 2;
        d->asize = (big ^ adsz) ? 4 : 2;
    }
    if (d->rex & 8) {
        d->pflags |= X86_PF_REXW;
    }
    if (opsz) {
        d->pflags |= X86_PF_OPSZ;
    }
    unsigned os = d->osize;
    unsigned stack = d->cs64 ? (opsz ? 2 : 8) : os;   /* push/pop size */
    d->b->rs3 = X86_NONE;
    d->b->pc_off = (uint16_t)d->asize;

    if (op == 0x0f) {
        op = fetch8(d);
        if (d->fault) {
            return true;
        }
        return decode_0f(d, op, os);
    }
    switch (op) {
    case 0x00 ... 0x3f:
        if ((op & 7) < 6) {
            unsigned s = (op & 1) ? os : 1;
            a->rs3 = op >> 3;
            switch (op & 7) {
            case 0: case 1: case 2: case 3:
                decode_modrm_reg(d, s);
                return emit(d, (op & 2) ? X86_OP_ALU_R_RM : X86_OP_ALU_RM_R, s);
            default:
                a->rs1 = R_EAX;
                a->imm = imm_for(d, s);
                return emit(d, X86_OP_ALU_RM_I, s);
            }
        }
        if (d->cs64) {
            return false;
        }
        switch (op) {
        case 0x06: case 0x0e: case 0x16: case 0x1e:
            a->rs3 = op >> 3;
            return emit(d, X86_OP_PUSH_SEG, os);
        case 0x07: case 0x17: case 0x1f:
            a->rs3 = op >> 3;
            return emit_end(d, X86_OP_POP_SEG, os);
        default:
            return false;   /* DAA, DAS, AAA, AAS */
        }
    case 0x40 ... 0x4f:   /* INC/DEC r (32-bit modes only: REX otherwise) */
        a->rs1 = op & 7;
        a->rs3 = op & 8 ? 1 : 0;
        return emit(d, X86_OP_UNARY, os);
    case 0x50 ... 0x57:
        a->rs1 = (uint8_t)((op & 7) | ((d->rex & 1) << 3));
        return emit(d, X86_OP_PUSH_RM, stack);
    case 0x58 ... 0x5f:
        a->rs1 = (uint8_t)((op & 7) | ((d->rex & 1) << 3));
        return emit(d, X86_OP_POP_RM, stack);
    case 0x63:
        if (!d->cs64) {
            return false;   /* ARPL */
        }
        decode_modrm(d);
        a->rd = (uint8_t)d->reg;
        a->rs3 = 1;
        d->b->insn_idx = 4;
        return emit(d, X86_OP_MOVX, os);
    case 0x68: case 0x6a:
        a->imm = op == 0x6a ? fetch_simm(d, 1) : imm_for(d, os);
        return emit(d, X86_OP_PUSH_I, stack);
    case 0x69: case 0x6b:
        decode_modrm(d);
        a->rd = (uint8_t)d->reg;
        a->imm = op == 0x6b ? fetch_simm(d, 1) : imm_for(d, os);
        return emit(d, X86_OP_IMUL3, os);
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:
    case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab: case 0xac: case 0xad:
    case 0xae: case 0xaf: {
        static const uint8_t kind[16] = {
            [0x4] = 0, [0x5] = 0, [0x6] = 3, [0x7] = 3, [0xa] = 1, [0xb] = 1, [0xc] = 2,
            [0xd] = 2, [0xe] = 4, [0xf] = 4,
        };
        unsigned s = (op & 1) ? os : 1;
        if (op < 0x70) {
            a->rs3 = op < 0x6e ? 5 : 6;
            s = (op & 1) ? (os == 2 ? 2 : 4) : 1;
        } else {
            a->rs3 = kind[op & 0xf];
        }
        mem_noreg(d, R_DS);
        emit(d, X86_OP_STRING, s);
        d->end = (d->pflags & (X86_PF_REP | X86_PF_REPNE)) != 0 || op < 0x70;
        return true;
    }
    case 0x70 ... 0x7f:
        return emit_jcc(d, op & 0xf, fetch_simm(d, 1), os);
    case 0x80: case 0x81: case 0x83: {
        unsigned s = op == 0x80 ? 1 : os;
        decode_modrm_sized(d, s);
        a->rs3 = d->reg & 7;
        a->imm = op == 0x83 ? fetch_simm(d, 1) : imm_for(d, s);
        return emit(d, X86_OP_ALU_RM_I, s);
    }
    case 0x84: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8a: case 0x8b: {
        unsigned s = (op & 1) ? os : 1;
        decode_modrm_reg(d, s);
        return emit(d, op < 0x86 ? X86_OP_TEST_RM_R : op < 0x88 ? X86_OP_XCHG :
                op < 0x8a ? X86_OP_MOV_RM_R : X86_OP_MOV_R_RM, s);
    }
    case 0x8c:
        decode_modrm(d);
        if ((d->reg & 7) > 5) {
            return false;
        }
        a->rd = d->reg & 7;
        a->rs3 = 0;
        return emit(d, X86_OP_MOV_SEG, d->rm == X86_RM_MEM ? 2 : os);
    case 0x8d:
        decode_modrm(d);
        if (d->rm != X86_RM_MEM) {
            return false;
        }
        a->rd = (uint8_t)d->reg;
        return emit(d, X86_OP_LEA, os);
    case 0x8e:
        decode_modrm(d);
        if ((d->reg & 7) > 5 || (d->reg & 7) == R_CS) {
            return false;
        }
        a->rd = d->reg & 7;
        a->rs3 = 1;
        return emit_end(d, X86_OP_MOV_SEG, 2);
    case 0x8f:
        decode_modrm(d);
        if ((d->reg & 7) != 0) {
            return false;
        }
        return emit(d, X86_OP_POP_RM, stack);
    case 0x90:
        if (d->rex & 1) {
            a->rd = R_EAX;
            a->rs1 = R_R8;
            return emit(d, X86_OP_XCHG, os);
        }
        emit(d, X86_OP_NOP, os);   /* NOP, PAUSE */
        return true;
    case 0x91 ... 0x97:
        a->rd = R_EAX;
        a->rs1 = (uint8_t)((op & 7) | ((d->rex & 1) << 3));
        return emit(d, X86_OP_XCHG, os);
    case 0x98:
        return emit(d, X86_OP_CBW, os);
    case 0x99:
        return emit(d, X86_OP_CWD, os);
    case 0x9a: case 0xea:   /* far CALL, far JMP ptr16:16/32 */
        if (d->cs64) {
            return false;
        }
        a->imm = (int64_t)fetchn(d, os);
        d->b->imm = (int64_t)fetchn(d, 2);
        a->rs3 = op == 0x9a;
        return emit_end(d, X86_OP_LJMP, os);
    case 0x9b:
        emit(d, X86_OP_NOP, os);   /* FWAIT: no unmasked x87 exceptions are pending */
        return true;
    case 0x9c:
        return emit(d, X86_OP_PUSHF, stack);
    case 0x9d:
        return emit_end(d, X86_OP_POPF, stack);
    case 0x9e: case 0x9f:
        a->rs3 = op == 0x9e ? 7 : 8;
        return emit(d, X86_OP_FLAGOP, os);
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
        unsigned s = (op & 1) ? os : 1;
        mem_noreg(d, R_DS);
        d->b->imm = (int64_t)fetchn(d, d->asize);
        a->rs1 = X86_RM_MEM;
        a->rd = R_EAX;
        return emit(d, op < 0xa2 ? X86_OP_MOV_R_RM : X86_OP_MOV_RM_R, s);
    }
    case 0xa8: case 0xa9: {
        unsigned s = (op & 1) ? os : 1;
        a->rs1 = R_EAX;
        a->imm = imm_for(d, s);
        return emit(d, X86_OP_TEST_RM_I, s);
    }
    case 0xb0 ... 0xb7:
        a->rs1 = (uint8_t)breg(d, (op & 7) | ((d->rex & 1) << 3));
        a->imm = fetch_simm(d, 1);
        return emit(d, X86_OP_MOV_RM_I, 1);
    case 0xb8 ... 0xbf:
        a->rs1 = (uint8_t)((op & 7) | ((d->rex & 1) << 3));
        a->imm = os == 8 ? (int64_t)fetchn(d, 8) : (int64_t)fetchn(d, os);
        return emit(d, X86_OP_MOV_RM_I, os);
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        unsigned s = (op & 1) ? os : 1;
        decode_modrm_sized(d, s);
        a->rs3 = d->reg & 7;
        a->imm = op < 0xd0 ? fetch8(d) : op < 0xd2 ? 1 : -1;
        return emit(d, X86_OP_SHIFT, s);
    }
    case 0xc2: case 0xc3:
        a->imm = op == 0xc2 ? (int64_t)fetchn(d, 2) : 0;
        return emit_end(d, X86_OP_RET, stack);
    case 0xc6: case 0xc7: {
        unsigned s = (op & 1) ? os : 1;
        decode_modrm(d);
        if ((d->reg & 7) != 0) {
            return false;
        }
        if (d->rm != X86_RM_MEM && s == 1) {
            a->rs1 = (uint8_t)breg(d, d->rm);
        }
        a->imm = imm_for(d, s);
        return emit(d, X86_OP_MOV_RM_I, s);
    }
    case 0xc8:
        a->imm = (int64_t)fetchn(d, 2);
        a->rs3 = fetch8(d);
        return emit(d, X86_OP_ENTER, stack);
    case 0xc9:
        return emit(d, X86_OP_LEAVE, stack);
    case 0xca: case 0xcb:
        a->imm = op == 0xca ? (int64_t)fetchn(d, 2) : 0;
        return emit_end(d, X86_OP_LRET, os);
    case 0xcc: case 0xcd: case 0xce:
        a->rs3 = (uint8_t)(op - 0xcc);
        a->imm = op == 0xcc ? 3 : op == 0xce ? 4 : fetch8(d);
        if (op == 0xce && d->cs64) {
            return false;
        }
        return emit_end(d, X86_OP_INT, os);
    case 0xcf:
        return emit_end(d, X86_OP_IRET, os);
    case 0xd7:
        mem_noreg(d, R_DS);
        return emit(d, X86_OP_XLAT, 1);
    case 0xd8 ... 0xdf:
        /* x87 escape: executed by fpu.c; imm = escape << 8 | ModRM (rm 0 for memory) */
        decode_modrm(d);
        a->imm = (int64_t)((op & 7u) << 8 | d->mod << 6 | (d->reg & 7) << 3 |
                           (d->rm == X86_RM_MEM ? 0 : (d->rm & 7)));
        return emit(d, X86_OP_FPU, os);
    case 0xe0: case 0xe1: case 0xe2: case 0xe3:
        a->imm = (int64_t)branch_target(d, fetch_simm(d, 1));
        a->rs3 = op - 0xe0;
        emit(d, X86_OP_LOOP, os);
        a->rd = set_exit(d, (uint64_t)a->imm);
        a->rs1 = set_exit(d, d->pc);
        d->end = true;
        return true;
    case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xec: case 0xed: case 0xee: case 0xef: {
        unsigned s = (op & 1) ? (os == 2 ? 2 : 4) : 1;
        a->imm = op < 0xe8 ? fetch8(d) : -1;
        a->rs3 = (op & 2) ? 1 : 0;
        return emit_end(d, X86_OP_IO, s);
    }
    case 0xe8:
        a->imm = (int64_t)branch_target(d, imm_for(d, os == 2 ? 2 : 4));
        emit(d, X86_OP_CALL, stack);
        a->rd = set_exit(d, (uint64_t)a->imm);
        d->end = true;
        return true;
    case 0xe9: case 0xeb:
        a->imm = (int64_t)branch_target(d, op == 0xeb ? fetch_simm(d, 1)
                                                      : imm_for(d, os == 2 ? 2 : 4));
        emit(d, X86_OP_JMP, os);
        a->rd = set_exit(d, (uint64_t)a->imm);
        d->end = true;
        return true;
    case 0xf4:
        return emit_end(d, X86_OP_HLT, os);
    case 0xf5: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
        /* 0 clc 1 stc 2 cmc 3 cli 4 sti 5 cld 6 std */
        a->rs3 = op == 0xf5 ? 2 : op < 0xfa ? (uint8_t)(op - 0xf8) : (uint8_t)(op - 0xf7);
        emit(d, X86_OP_FLAGOP, os);
        d->end = op == 0xfb;
        return true;
    case 0xf6: case 0xf7: {
        unsigned s = (op & 1) ? os : 1;
        decode_modrm_sized(d, s);
        unsigned r = d->reg & 7;
        if (r < 2) {
            a->imm = imm_for(d, s);
            emit(d, X86_OP_TEST_RM_I, s);
        } else if (r < 4) {
            a->rs3 = (uint8_t)r;
            emit(d, X86_OP_UNARY, s);
        } else {
            a->rs3 = (uint8_t)r;
            emit(d, X86_OP_MULDIV, s);
        }
        return true;
    }
    case 0xfe: case 0xff: {
        unsigned s = (op & 1) ? os : 1;
        decode_modrm_sized(d, s);
        unsigned r = d->reg & 7;
        if (r < 2) {
            a->rs3 = (uint8_t)r;
            return emit(d, X86_OP_UNARY, s);
        }
        if (op == 0xfe) {
            return false;
        }
        switch (r) {
        case 2:
            return emit_end(d, X86_OP_CALL_RM, d->cs64 ? 8 : os);
        case 3: case 5:
            if (d->rm != X86_RM_MEM) {
                return false;
            }
            a->rs3 = r == 3;
            return emit_end(d, X86_OP_LJMP_M, os);
        case 4:
            return emit_end(d, X86_OP_JMP_RM, d->cs64 ? 8 : os);
        case 6:
            return emit(d, X86_OP_PUSH_RM, stack);
        default:
            return false;
        }
    }
    default:
        return false;
    }
}

/* Whether the decoded instruction a sets all six status flags without reading them and cannot
 * fault: a register-only ADD/OR/AND/SUB/XOR/CMP or TEST. */
static bool writes_all_flags(const Dc *d, const TBOp *a)
{
    const void *h = a->handler;
    if (a->rs1 == X86_RM_MEM) {
        return false;
    }
    if (h == d->labels[X86_OP_TEST_RM_R] || h == d->labels[X86_OP_TEST_RM_I]) {
        return true;
    }
    return (h == d->labels[X86_OP_ALU_RM_R] || h == d->labels[X86_OP_ALU_R_RM] ||
            h == d->labels[X86_OP_ALU_RM_I]) && a->rs3 != ALU_ADC && a->rs3 != ALU_SBB;
}

/* Whether the decoded instruction a neither touches the status flags nor accesses memory
 * (so cannot fault): register MOVs, MOV of an immediate to a register, LEA, register MOVZX. */
static bool flags_transparent(const Dc *d, const TBOp *a)
{
    const void *h = a->handler;
    if (h == d->labels[X86_OP_LEA]) {
        return true;
    }
    return a->rs1 != X86_RM_MEM &&
           (h == d->labels[X86_OP_MOV_RM_R] || h == d->labels[X86_OP_MOV_R_RM] ||
            h == d->labels[X86_OP_MOV_RM_I] || h == d->labels[X86_OP_MOVX]);
}

/* Marks the flags of the instruction (pa, pb) dead (X86_PF_NOFLAGS) when it is an ALU
 * operation, TEST, or a shift or rotate other than RCL/RCR that writes no memory: a store
 * could rewrite the instruction after it. */
static void mark_flags_dead(const Dc *d, const TBOp *pa, TBOp *pb)
{
    const void *h = pa->handler;
    if (pb->ilen & X86_PF_LOCK) {
        return;
    }
    if (((h == d->labels[X86_OP_ALU_RM_R] || h == d->labels[X86_OP_ALU_RM_I]) &&
         pa->rs1 != X86_RM_MEM) ||
        (h == d->labels[X86_OP_SHIFT] && pa->rs1 != X86_RM_MEM && pa->rs3 != 2 &&
         pa->rs3 != 3) ||
        h == d->labels[X86_OP_ALU_R_RM] || h == d->labels[X86_OP_TEST_RM_R] ||
        h == d->labels[X86_OP_TEST_RM_I]) {
        pb->ilen |= X86_PF_NOFLAGS;
    }
}

/* The specialized form (ops.h X86_FAST_OPS, X86_NARROW_OPS) of a decoded instruction that
 * has one; the operands are moved to where it expects them (destination rd). Other
 * instructions are left alone. */
static void specialize(const Dc *d, TBOp *a, const TBOp *b)
{
#define FAST_ALU_ROW(S) \
    { X86_OP_ADD_RR##S, X86_OP_OR_RR##S, -1, -1, X86_OP_AND_RR##S, X86_OP_SUB_RR##S, \
      X86_OP_XOR_RR##S, X86_OP_CMP_RR##S }, \
    { X86_OP_ADD_RI##S, X86_OP_OR_RI##S, -1, -1, X86_OP_AND_RI##S, X86_OP_SUB_RI##S, \
      X86_OP_XOR_RI##S, X86_OP_CMP_RI##S }
    static const int alu_ops[2][2][8] = { { FAST_ALU_ROW(4) }, { FAST_ALU_ROW(8) } };
#undef FAST_ALU_ROW
    static const int other_ops[2][6] = {
        { X86_OP_TEST_RR4, X86_OP_TEST_RI4, X86_OP_MOV_RR4, X86_OP_MOV_RI4, X86_OP_LOAD4,
          X86_OP_STORE4 },
        { X86_OP_TEST_RR8, X86_OP_TEST_RI8, X86_OP_MOV_RR8, X86_OP_MOV_RI8, X86_OP_LOAD8,
          X86_OP_STORE8 },
    };
    const void *const *l = d->labels;
    const void *h = a->handler;
    bool mem = a->rs1 == X86_RM_MEM;
    int fast = -1;
    uint8_t dest = a->rd, src = a->rs1;
    if (b->ilen & X86_PF_LOCK) {
        return;
    }
    if (h == l[X86_OP_MOV_RM_R] && mem && (a->rs2 == 2 || (a->rs2 == 1 && a->rd < 16))) {
        a->handler = l[a->rs2 == 1 ? X86_OP_STORE1 : X86_OP_STORE2];
        return;
    }
    if (h == l[X86_OP_MOVX] && a->rs3 == 0 && (a->rs2 == 4 || a->rs2 == 8) &&
        (b->insn_idx == 1 || b->insn_idx == 2) && (mem || a->rs1 < 16)) {
        a->handler = l[mem ? (b->insn_idx == 1 ? X86_OP_LDZX1 : X86_OP_LDZX2)
                           : (b->insn_idx == 1 ? X86_OP_MOVZX_RR1 : X86_OP_MOVZX_RR2)];
        return;
    }
    if (d->cs64 && a->rs2 == 8) {
        if (h == l[X86_OP_PUSH_RM] && !mem) {
            a->handler = l[X86_OP_PUSH_R8];
        } else if (h == l[X86_OP_POP_RM] && !mem) {
            a->handler = l[X86_OP_POP_R8];
        } else if (h == l[X86_OP_CALL]) {
            a->handler = l[X86_OP_CALL8];
        } else if (h == l[X86_OP_RET] && a->imm == 0) {
            a->handler = l[X86_OP_RET8];
        }
    }
    if (a->rs2 != 4 && a->rs2 != 8) {
        return;
    }
    unsigned w = a->rs2 == 8;
    if (h == l[X86_OP_SHIFT] && !mem && a->imm >= 0 && (a->imm & (w ? 63 : 31)) &&
        a->rs3 != 2 && a->rs3 != 3) {
        a->imm &= w ? 63 : 31;
        fast = w ? X86_OP_SHIFT_RI8 : X86_OP_SHIFT_RI4;
        dest = a->rs1;
    } else if (h == l[X86_OP_IMUL2] && !mem) {
        fast = w ? X86_OP_IMUL_RR8 : X86_OP_IMUL_RR4;
    } else if (h == l[X86_OP_CMOVCC] && !mem) {
        fast = w ? X86_OP_CMOV_RR8 : X86_OP_CMOV_RR4;
    } else if (h == l[X86_OP_UNARY] && !mem) {
        fast = w ? X86_OP_UNARY_R8 : X86_OP_UNARY_R4;
        dest = a->rs1;
    } else if (h == l[X86_OP_ALU_R_RM] && mem && a->rs3 != ALU_ADC && a->rs3 != ALU_SBB) {
        fast = w ? X86_OP_ALU_LD8 : X86_OP_ALU_LD4;
    } else if (h == l[X86_OP_ALU_RM_R] && !mem) {
        fast = alu_ops[w][0][a->rs3 & 7];
        dest = a->rs1;
        src = a->rd;
    } else if (h == l[X86_OP_ALU_R_RM] && !mem) {
        fast = alu_ops[w][0][a->rs3 & 7];
    } else if (h == l[X86_OP_ALU_RM_I] && !mem) {
        fast = alu_ops[w][1][a->rs3 & 7];
        dest = a->rs1;
    } else if (h == l[X86_OP_TEST_RM_R] && !mem) {
        fast = other_ops[w][0];
    } else if (h == l[X86_OP_TEST_RM_I] && !mem) {
        fast = other_ops[w][1];
        dest = a->rs1;
    } else if (h == l[X86_OP_MOV_RM_R]) {
        fast = other_ops[w][mem ? 5 : 2];
        if (!mem) {
            dest = a->rs1;
            src = a->rd;
        }
    } else if (h == l[X86_OP_MOV_R_RM]) {
        fast = other_ops[w][mem ? 4 : 2];
    } else if (h == l[X86_OP_MOV_RM_I] && !mem) {
        fast = other_ops[w][3];
        dest = a->rs1;
    } else if (h == l[X86_OP_LEA]) {
        fast = w ? X86_OP_LEA8 : X86_OP_LEA4;
    }
    if (fast < 0) {
        return;
    }
    a->handler = l[fast];
    a->rd = dest;
    a->rs1 = src;
}

/* Whether the (specialized) instruction a leaves the status flags alone. */
static bool keeps_flags(const Dc *d, const TBOp *a)
{
    static const int ops[] = {
        X86_OP_MOV_RR4, X86_OP_MOV_RI4, X86_OP_LOAD4, X86_OP_STORE4, X86_OP_LEA4,
        X86_OP_MOV_RR8, X86_OP_MOV_RI8, X86_OP_LOAD8, X86_OP_STORE8, X86_OP_LEA8,
        X86_OP_LDZX1, X86_OP_MOVZX_RR1, X86_OP_STORE1, X86_OP_LDZX2, X86_OP_MOVZX_RR2,
        X86_OP_STORE2, X86_OP_CMOV_RR4, X86_OP_CMOV_RR8,
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(ops); i++) {
        if (a->handler == d->labels[ops[i]]) {
            return true;
        }
    }
    return false;
}

/* Jcc (j) whose flags come from a specialized instruction of its block (prev, the last one
 * before it that writes flags) that leaves a SUB/CMP or logic result: the Jcc form that tests
 * the condition straight from it; a CMP or TEST right before the Jcc is fused with it. */
static void specialize_jcc(const Dc *d, TBOp *prev, TBOp *j)
{
    static const int sub_ops[] = {
        X86_OP_SUB_RR4, X86_OP_SUB_RI4, X86_OP_CMP_RR4, X86_OP_CMP_RI4, X86_OP_JCC_SUB4,
        X86_OP_SUB_RR8, X86_OP_SUB_RI8, X86_OP_CMP_RR8, X86_OP_CMP_RI8, X86_OP_JCC_SUB8,
        X86_OP_AND_RR4, X86_OP_AND_RI4, X86_OP_TEST_RR4, X86_OP_TEST_RI4, X86_OP_JCC_LOGIC4,
        X86_OP_AND_RR8, X86_OP_AND_RI8, X86_OP_TEST_RR8, X86_OP_TEST_RI8, X86_OP_JCC_LOGIC8,
        X86_OP_OR_RR4, X86_OP_OR_RI4, X86_OP_XOR_RR4, X86_OP_XOR_RI4, X86_OP_JCC_LOGIC4,
        X86_OP_OR_RR8, X86_OP_OR_RI8, X86_OP_XOR_RR8, X86_OP_XOR_RI8, X86_OP_JCC_LOGIC8,
    };
    const void *const *l = d->labels;
    if (j->handler != l[X86_OP_JCC]) {
        return;
    }
    if (prev + 2 == j) {
        static const int fused[][2] = {
            { X86_OP_CMP_RR4, X86_OP_CMP_JCC_RR4 }, { X86_OP_CMP_RI4, X86_OP_CMP_JCC_RI4 },
            { X86_OP_TEST_RR4, X86_OP_TEST_JCC_RR4 }, { X86_OP_TEST_RI4, X86_OP_TEST_JCC_RI4 },
            { X86_OP_CMP_RR8, X86_OP_CMP_JCC_RR8 }, { X86_OP_CMP_RI8, X86_OP_CMP_JCC_RI8 },
            { X86_OP_TEST_RR8, X86_OP_TEST_JCC_RR8 }, { X86_OP_TEST_RI8, X86_OP_TEST_JCC_RI8 },
            { X86_OP_SUB_RI4, X86_OP_SUB_JCC_RI4 }, { X86_OP_SUB_RI8, X86_OP_SUB_JCC_RI8 },
        };
        for (unsigned i = 0; i < G_N_ELEMENTS(fused); i++) {
            if (prev->handler == l[fused[i][0]]) {
                prev->handler = l[fused[i][1]];
                break;
            }
        }
    }
    if (prev->handler == l[X86_OP_ALU_LD4] || prev->handler == l[X86_OP_ALU_LD8]) {
        bool w = prev->handler == l[X86_OP_ALU_LD8];
        if (prev->rs3 == ALU_SUB || prev->rs3 == ALU_CMP) {
            j->handler = l[w ? X86_OP_JCC_SUB8 : X86_OP_JCC_SUB4];
        } else if (prev->rs3 != ALU_ADD) {
            j->handler = l[w ? X86_OP_JCC_LOGIC8 : X86_OP_JCC_LOGIC4];
        }
        return;
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(sub_ops); i += 5) {
        for (unsigned k = 0; k < 4; k++) {
            if (prev->handler == l[sub_ops[i + k]]) {
                j->handler = l[sub_ops[i + 4]];
                return;
            }
        }
    }
}

/* Ends the block at ops[n] with a direct jump to d->pc (the next instruction). */
static void emit_fallthrough(Dc *d, TranslationBlock *tb, unsigned n, unsigned icount)
{
    TBOp *j = &tb->ops[n];
    memset(j, 0, 2 * sizeof(TBOp));
    j->handler = d->labels[X86_OP_JMP];
    j->imm = (int64_t)d->pc;
    j->pc_off = (uint16_t)(d->pc - tb->pc);
    j->insn_idx = (uint8_t)(icount - 1);
    j->rd = set_exit(d, d->pc);
}

TranslationBlock *x86_translate_block(X86Tcg *t, uint64_t pc, const void *const *labels)
{
    CPUX86State *env = t->env;
    TranslationBlock *tb = tb_alloc(t->cache, 2 * TB_MAX_INSNS + 2);
    if (!tb) {
        tb_flush(t->cache);
        tb = tb_alloc(t->cache, 2 * TB_MAX_INSNS + 2);
    }
    Dc d = {
        .t = t, .tb = tb, .labels = labels, .pc = pc, .cs_base = env->segs[R_CS].base,
        .cs64 = t->tb_flags & X86_TBF_CS64, .cs32 = t->tb_flags & X86_TBF_CS32,
        .cpl = t->tb_flags & X86_TBF_CPL_MASK,
    };
    uint64_t phys;
    if (!x86_fetch_page(t, pc, &phys)) {
        return NULL;
    }
    tb->pc = pc;
    tb->phys_pc = phys;
    tb->phys_page2 = UINT64_MAX;
    tb->flags = t->tb_flags;
    for (unsigned i = 0; i < TB_MAX_EXITS; i++) {
        tb->jmp_pc[i] = UINT64_MAX;
    }
    unsigned n = 0, icount = 0;
    int flags_from = -1;   /* the last instruction that is not flags_transparent() */
    for (;;) {
        TBOp *a = &tb->ops[n], *b = &tb->ops[n + 1];
        memset(a, 0, 2 * sizeof(TBOp));
        d.a = a;
        d.b = b;
        d.pc0 = d.pc;
        d.end = false;
        bool ok = decode_insn(&d);
        if (d.fault) {
            if (icount == 0) {
                /* the first instruction cannot be fetched: fault now */
                return NULL;
            }
            /* end the block before it: it faults as the first instruction of its own block */
            t->exc_vec = -1;
            d.pc = d.pc0;
            emit_fallthrough(&d, tb, n, icount);
            n += 2;
            break;
        }
        a->pc_off = (uint16_t)(d.pc0 - pc);
        a->ilen = (uint8_t)(d.pc - d.pc0);
        a->insn_idx = (uint8_t)icount;
        b->ilen = (uint8_t)d.pflags;
        if (!ok) {
            a->handler = labels[X86_OP_EXCP];
            a->imm = EXCP_UD;
            d.end = true;
        } else if (b->rd == 0xfe) {
            b->rd = X86_NONE;
            b->imm += (int64_t)rip_of(&d, d.pc);
        }
        if ((d.pflags & X86_PF_LOCK) && ok && a->rs1 != X86_RM_MEM &&
            a->handler != labels[X86_OP_CMPXCHG8B]) {
            a->handler = labels[X86_OP_EXCP];
            a->imm = EXCP_UD;
            d.end = true;
        }
        if (flags_from >= 0 && writes_all_flags(&d, a)) {
            mark_flags_dead(&d, &tb->ops[flags_from], &tb->ops[flags_from + 1]);
        }
        if (!ok || !flags_transparent(&d, a)) {
            flags_from = (int)n;
        }
        n += 2;
        icount++;
        if (d.end || icount >= TB_MAX_INSNS ||
            ((d.pc ^ pc) & TB_PAGE_MASK && tb->phys_page2 != UINT64_MAX) ||
            (d.pc - pc) > 0xf000) {
            if (!d.end) {
                emit_fallthrough(&d, tb, n, icount);
                n += 2;
            }
            break;
        }
    }
    for (unsigned i = 0, flags_by = 0; i < n; i += 2) {
        specialize(&d, &tb->ops[i], &tb->ops[i + 1]);
        if (i > 0) {
            specialize_jcc(&d, &tb->ops[flags_by], &tb->ops[i]);
        }
        if (!keeps_flags(&d, &tb->ops[i])) {
            flags_by = i;
        }
    }
    tb->nops = n;
    tb->size = (uint16_t)(d.pc - pc);
    tb->icount = (uint16_t)icount;
    tb->nexits = d.nexit;
    tb_commit(t->cache, tb);
    x86_tlb_protect_code(t, phys & TB_PAGE_MASK);
    if (tb->phys_page2 != UINT64_MAX) {
        x86_tlb_protect_code(t, tb->phys_page2);
    }
    return tb;
}
