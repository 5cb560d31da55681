/*
 * MMX, SSE, SSE2, SSE3, SSSE3, SSE4.1 and SSE4.2 for the x86 interpreter.
 *
 * The decoder (translate.c) turns every instruction of the 0F, 0F 38 and 0F 3A maps that
 * touches MMX/XMM registers into one X86_OP_SSE op (see the packing in ops.h); this file
 * executes it on env->fx. Floating point reuses the IEEE core of target/riscv/fpu.c for the
 * rounding arithmetic and supplies everything x86 does differently around it: NaN
 * propagation (first NaN operand, quietened), the negative default NaN, DAZ/FTZ, the
 * denormal flag, integer-indefinite conversions and unmasked exceptions (#XM or #UD).
 */
#include <string.h>
#include <glib.h>
#include "target/i386/internal.h"
#include "target/i386/ops.h"
#include "target/riscv/fpu.h"

typedef union Xmm {
    uint8_t b[16];
    int8_t sb[16];
    uint16_t w[8];
    int16_t sw[8];
    uint32_t d[4];
    int32_t sd[4];
    uint64_t q[2];
    int64_t sq[2];
} Xmm;

/* MXCSR bits. */
enum {
    MX_IE = 1, MX_DE = 2, MX_ZE = 4, MX_OE = 8, MX_UE = 16, MX_PE = 32,
    MX_DAZ = 1 << 6, MX_MASK_SHIFT = 7, MX_RC_SHIFT = 13, MX_FTZ = 1 << 15,
};

typedef struct Sse {
    X86Tcg *t;
    CPUX86State *env;
    unsigned opc, map, pfx, imm8;
    bool rexw;
    unsigned reg, rm;          /* rm is X86_RM_MEM for a memory operand */
    unsigned osize;
    uint64_t la;
    uint32_t flags;            /* MXCSR exception flags raised by this instruction */
} Sse;

enum { PFX_NONE, PFX_66, PFX_F3, PFX_F2 };

/* ---- faults, memory and registers ---- */

static bool ud(Sse *S)
{
    x86_raise(S->t, EXCP_UD, false, 0);
    return false;
}

static bool gp0(Sse *S)
{
    x86_raise(S->t, EXCP_GP, true, 0);
    return false;
}

static bool is_mem(const Sse *S)
{
    return S->rm == X86_RM_MEM;
}

static bool mem_read(Sse *S, uint64_t la, unsigned n, void *buf)
{
    X86Tcg *t = S->t;
    X86TLBEntry *e = &t->tlb[t->mmu_idx][(la >> 12) & (X86_TLB_SIZE - 1)];
    if (e->tag_r == (la & TB_PAGE_MASK) && (la & 0xfff) + n <= 4096) {
        memcpy(buf, (void *)(uintptr_t)(la + e->addend), n);
        return true;
    }
    uint8_t *p = buf;
    for (unsigned i = 0; i < n;) {
        unsigned c = n - i >= 8 ? 8 : n - i;
        uint64_t v;
        if (!x86_load_slow(t, la + i, c, &v, t->mmu_idx)) {
            return false;
        }
        memcpy(p + i, &v, c);
        i += c;
    }
    return true;
}

static bool mem_write(Sse *S, uint64_t la, unsigned n, const void *buf)
{
    X86Tcg *t = S->t;
    X86TLBEntry *e = &t->tlb[t->mmu_idx][(la >> 12) & (X86_TLB_SIZE - 1)];
    if (e->tag_w == (la & TB_PAGE_MASK) && (la & 0xfff) + n <= 4096) {
        memcpy((void *)(uintptr_t)(la + e->addend), buf, n);
        return true;
    }
    if ((la & 0xfff) + n > 4096) {
        /* both pages must be writable before the first byte lands */
        uint64_t pa;
        if (!x86_translate(t, la, X86_ACC_WRITE, t->mmu_idx, &pa, false) ||
            !x86_translate(t, la + n - 1, X86_ACC_WRITE, t->mmu_idx, &pa, false)) {
            return false;
        }
    }
    const uint8_t *p = buf;
    for (unsigned i = 0; i < n;) {
        unsigned c = n - i >= 8 ? 8 : n - i;
        uint64_t v = 0;
        memcpy(&v, p + i, c);
        if (!x86_store_slow(t, la + i, c, v, t->mmu_idx)) {
            return false;
        }
        i += c;
    }
    return true;
}

static Xmm xmm_get(CPUX86State *env, unsigned i)
{
    Xmm v;
    memcpy(&v, env->fx.xmm[i], 16);
    return v;
}

static void xmm_set(CPUX86State *env, unsigned i, const Xmm *v)
{
    memcpy(env->fx.xmm[i], v, 16);
}

/* Any MMX instruction but EMMS makes the x87 stack all valid with TOP = 0; env->fx.st is
 * kept in ST order, so the physical registers rotate into place when TOP was not 0. */
static void mmx_touch(CPUX86State *env)
{
    unsigned top = (env->fx.fsw >> 11) & 7;
    if (top) {
        uint8_t st[8][16];
        for (unsigned i = 0; i < 8; i++) {
            memcpy(st[(top + i) & 7], env->fx.st[i], 16);
        }
        memcpy(env->fx.st, st, sizeof(st));
    }
    env->fx.ftw = 0xff;
    env->fx.fsw &= ~0x3800;
}

static Xmm mm_get(CPUX86State *env, unsigned i)
{
    Xmm v = { .q = { 0, 0 } };
    memcpy(&v, env->fx.st[i & 7], 8);
    return v;
}

static void mm_set(CPUX86State *env, unsigned i, const Xmm *v)
{
    memcpy(env->fx.st[i & 7], v, 8);
    env->fx.st[i & 7][8] = 0xff;
    env->fx.st[i & 7][9] = 0xff;
}

static uint64_t gpr_get(CPUX86State *env, unsigned r, unsigned size)
{
    if (size == 1 && r >= 16) {
        return (env->regs[r - 16] >> 8) & 0xff;
    }
    return size == 8 ? env->regs[r] : env->regs[r] & ((1ull << (size * 8)) - 1);
}

/* Writes a 32- or 64-bit general register (32-bit writes zero-extend). */
static void gpr_set(CPUX86State *env, unsigned r, bool w64, uint64_t v)
{
    env->regs[r] = w64 ? v : (uint32_t)v;
}

/* The r/m source operand: n bytes from memory (16-byte aligned when align) or the register
 * (MMX register when mmx, else XMM). */
static bool src_get(Sse *S, Xmm *v, unsigned n, bool mmx, bool align)
{
    if (is_mem(S)) {
        if (align && (S->la & 15)) {
            return gp0(S);
        }
        memset(v, 0, sizeof(*v));
        return mem_read(S, S->la, n, v);
    }
    *v = mmx ? mm_get(S->env, S->rm) : xmm_get(S->env, S->rm);
    return true;
}

/* An integer r/m operand of size bytes (a general register or memory). */
static bool gsrc_get(Sse *S, unsigned size, uint64_t *v)
{
    if (is_mem(S)) {
        *v = 0;
        return mem_read(S, S->la, size, v);
    }
    *v = gpr_get(S->env, S->rm, size);
    return true;
}

/* Stores to an integer r/m destination: size bytes to memory, or the register zero-extended
 * to 32 or 64 bits. */
static bool gdst_set(Sse *S, unsigned size, uint64_t v)
{
    if (is_mem(S)) {
        return mem_write(S, S->la, size, &v);
    }
    gpr_set(S->env, S->rm, S->rexw, v);
    return true;
}

/* ---- IEEE helpers (w = 32 or 64 bits) ---- */

static inline uint64_t f_sign(int w)
{
    return 1ull << (w - 1);
}

static inline uint64_t f_expm(int w)
{
    return w == 32 ? 0x7f800000ull : 0x7ff0000000000000ull;
}

static inline uint64_t f_mant(int w)
{
    return w == 32 ? 0x7fffffull : 0xfffffffffffffull;
}

static inline uint64_t f_qbit(int w)
{
    return w == 32 ? 0x400000ull : 1ull << 51;
}

static inline uint64_t f_mask(int w)
{
    return w == 32 ? 0xffffffffull : ~0ull;
}

static inline bool f_nan(uint64_t a, int w)
{
    return (a & f_expm(w)) == f_expm(w) && (a & f_mant(w));
}

static inline bool f_snan(uint64_t a, int w)
{
    return f_nan(a, w) && !(a & f_qbit(w));
}

static inline bool f_denorm(uint64_t a, int w)
{
    return !(a & f_expm(w)) && (a & f_mant(w));
}

static inline uint64_t f_default_nan(int w)
{
    return w == 32 ? 0xffc00000ull : 0xfff8000000000000ull;
}

static int rv_rm(uint32_t rc)
{
    static const int map[4] = { FPU_RNE, FPU_RDN, FPU_RUP, FPU_RTZ };
    return map[rc & 3];
}

static int mx_rm(const Sse *S)
{
    return rv_rm(S->env->fx.mxcsr >> MX_RC_SHIFT);
}

static uint32_t from_fflags(uint32_t ff)
{
    return ((ff & FFLAG_NV) ? MX_IE : 0) | ((ff & FFLAG_DZ) ? MX_ZE : 0) |
           ((ff & FFLAG_OF) ? MX_OE : 0) | ((ff & FFLAG_UF) ? MX_UE : 0) |
           ((ff & FFLAG_NX) ? MX_PE : 0);
}

/* A non-NaN input: DAZ flushes a denormal to zero, otherwise the denormal flag is raised. */
static uint64_t f_in(Sse *S, uint64_t a, int w)
{
    if (f_denorm(a, w)) {
        if (S->env->fx.mxcsr & MX_DAZ) {
            return a & f_sign(w);
        }
        S->flags |= MX_DE;
    }
    return a;
}

/* NaN operands of a two-operand arithmetic op: the first NaN, quietened. */
static bool f_nan2(Sse *S, uint64_t a, uint64_t b, int w, uint64_t *r)
{
    if (!f_nan(a, w) && !f_nan(b, w)) {
        return false;
    }
    if (f_snan(a, w) || f_snan(b, w)) {
        S->flags |= MX_IE;
    }
    *r = (f_nan(a, w) ? a : b) | f_qbit(w);
    return true;
}

/* The rounded result of the core: invalid gives the default NaN, FTZ flushes tiny results. */
static uint64_t f_out(Sse *S, uint64_t r, int w, uint32_t ff)
{
    r &= f_mask(w);
    uint32_t fl = from_fflags(ff);
    if ((fl & MX_IE) && f_nan(r, w)) {
        r = f_default_nan(w);
    }
    uint32_t mx = S->env->fx.mxcsr;
    if (!(mx & (MX_UE << MX_MASK_SHIFT)) && f_denorm(r, w)) {
        fl |= MX_UE;   /* unmasked, underflow is reported for any tiny result, exact or not */
    }
    if ((mx & MX_FTZ) && (mx & (MX_UE << MX_MASK_SHIFT)) &&
        ((fl & MX_UE) || f_denorm(r, w))) {
        r &= f_sign(w);
        fl |= MX_UE | MX_PE;
    }
    S->flags |= fl;
    return r;
}

enum { FOP_ADD, FOP_MUL, FOP_SUB, FOP_DIV, FOP_SQRT, FOP_MIN, FOP_MAX };

typedef unsigned __int128 U128;

/* The integer significand m of a finite x at width w, x = m * 2^e (*e); 0 for a zero. */
static uint64_t f_sig(uint64_t x, int w, int *e)
{
    int mb = w == 32 ? 23 : 52, bias = w == 32 ? 127 : 1023;
    uint64_t frac = x & f_mant(w);
    int E = (int)((x & ~f_sign(w) & f_mask(w)) >> mb);
    *e = (E ? E : 1) - bias - mb;
    return E ? frac | (1ull << mb) : frac;
}

/* m (nonzero) has at most p bits between its highest and lowest set bit. */
static bool f_fits(U128 m, unsigned p)
{
    uint64_t lo = (uint64_t)m;
    m >>= lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll((uint64_t)(m >> 64));
    return !(m >> p);
}

/* ADD, SUB, MUL or DIV of the finite a and b has a result of w's precision with an unbounded
 * exponent range. */
static bool f_exact(int fop, uint64_t a, uint64_t b, int w)
{
    unsigned p = w == 32 ? 24 : 53;
    int ea, eb;
    U128 ma = f_sig(a, w, &ea), mb = f_sig(b, w, &eb);
    if (!ma || !mb) {
        return true;
    }
    switch (fop) {
    case FOP_MUL:
        return f_fits(ma * mb, p);
    case FOP_DIV:
        ma >>= __builtin_ctzll((uint64_t)ma);
        mb >>= __builtin_ctzll((uint64_t)mb);
        return ma % mb == 0 && f_fits(ma / mb, p);
    default: {
        bool neg = (((a ^ b) & f_sign(w)) != 0) != (fop == FOP_SUB);
        if (ea < eb) {
            U128 tm = ma;
            int te = ea;
            ma = mb, ea = eb, mb = tm, eb = te;
        }
        if (ea - eb > 64) {
            return false;
        }
        U128 x = ma << (ea - eb), sum = !neg ? x + mb : x > mb ? x - mb : mb - x;
        return !sum || f_fits(sum, p);
    }
    }
}

/* This element's flags in S include an unmasked OE or UE: the CPU then reports PE as for an
 * unbounded exponent range, only when rounding to the precision alone was inexact. */
static bool f_unmasked_ou(const Sse *S)
{
    return S->flags & ~(S->env->fx.mxcsr >> MX_MASK_SHIFT) & (MX_OE | MX_UE);
}

static void f_set_pe(Sse *S, bool exact)
{
    S->flags = (S->flags & ~(uint32_t)MX_PE) | (exact ? 0 : MX_PE);
}

/* Three-way compare of two non-NaN values: -1, 0, 1. */
static int f_cmp_num(uint64_t a, uint64_t b, int w)
{
    uint64_t s = f_sign(w);
    if (!((a | b) & ~s)) {
        return 0;   /* +0 == -0 */
    }
    bool na = a & s, nb = b & s;
    if (na != nb) {
        return na ? -1 : 1;
    }
    uint64_t ma = a & ~s, mb = b & ~s;
    if (ma == mb) {
        return 0;
    }
    return ((ma < mb) ^ na) ? -1 : 1;
}

static uint64_t f_arith(Sse *S, int fop, uint64_t a, uint64_t b, int w)
{
    uint64_t r;
    a &= f_mask(w);
    b &= f_mask(w);
    if (fop == FOP_MIN || fop == FOP_MAX) {
        /* any NaN or equal values return the second operand */
        if (f_nan(a, w) || f_nan(b, w)) {
            S->flags |= MX_IE;
            /* the second operand is returned as read: a denormal is flushed under DAZ */
            return f_denorm(b, w) && (S->env->fx.mxcsr & MX_DAZ) ? b & f_sign(w) : b;
        }
        uint64_t x = f_in(S, a, w), y = f_in(S, b, w);
        int c = f_cmp_num(x, y, w);
        return (fop == FOP_MIN ? c < 0 : c > 0) ? x : y;
    }
    if (fop == FOP_SQRT) {
        if (f_nan(b, w)) {
            if (f_snan(b, w)) {
                S->flags |= MX_IE;
            }
            return b | f_qbit(w);
        }
    } else if (f_nan2(S, a, b, w, &r)) {
        return r;
    }
    uint32_t outer = S->flags;
    S->flags = 0;   /* this element's flags, merged below */
    a = f_in(S, a, w);
    b = f_in(S, b, w);
    int rm = mx_rm(S);
    uint32_t ff = 0;
    if (w == 32) {
        uint64_t A = a | 0xffffffff00000000ull, B = b | 0xffffffff00000000ull;
        switch (fop) {
        case FOP_ADD: r = fpu_add_s(A, B, rm, &ff); break;
        case FOP_SUB: r = fpu_sub_s(A, B, rm, &ff); break;
        case FOP_MUL: r = fpu_mul_s(A, B, rm, &ff); break;
        case FOP_DIV: r = fpu_div_s(A, B, rm, &ff); break;
        default: r = fpu_sqrt_s(B, rm, &ff); break;
        }
    } else {
        switch (fop) {
        case FOP_ADD: r = fpu_add_d(a, b, rm, &ff); break;
        case FOP_SUB: r = fpu_sub_d(a, b, rm, &ff); break;
        case FOP_MUL: r = fpu_mul_d(a, b, rm, &ff); break;
        case FOP_DIV: r = fpu_div_d(a, b, rm, &ff); break;
        default: r = fpu_sqrt_d(b, rm, &ff); break;
        }
    }
    r = f_out(S, r, w, ff);
    if (fop != FOP_SQRT && f_unmasked_ou(S)) {
        f_set_pe(S, f_exact(fop, a, b, w));
    }
    if (S->flags & (MX_IE | MX_ZE)) {
        S->flags &= ~(uint32_t)MX_DE;   /* invalid and divide-by-zero outrank denormal */
    }
    S->flags |= outer;
    return r;
}

/* CMPPS predicate 0..7 on one lane: all ones or zero. */
static uint64_t f_cmp_pred(Sse *S, uint64_t a, uint64_t b, int w, unsigned pred)
{
    a &= f_mask(w);
    b &= f_mask(w);
    bool un = f_nan(a, w) || f_nan(b, w);
    bool signaling = pred == 1 || pred == 2 || pred == 5 || pred == 6;
    if (f_snan(a, w) || f_snan(b, w) || (un && signaling)) {
        S->flags |= MX_IE;
    }
    bool res;
    if (un) {
        res = pred == 3 || pred == 4 || pred == 5 || pred == 6;
    } else {
        int c = f_cmp_num(f_in(S, a, w), f_in(S, b, w), w);
        switch (pred) {
        case 0: res = c == 0; break;
        case 1: res = c < 0; break;
        case 2: res = c <= 0; break;
        case 3: res = false; break;
        case 4: res = c != 0; break;
        case 5: res = !(c < 0); break;
        case 6: res = !(c <= 0); break;
        default: res = true; break;
        }
    }
    return res ? f_mask(w) : 0;
}

/* (U)COMISS/SD: ZF PF CF as the comparison's outcome, OF SF AF cleared. */
/* Returns the new status flags (applied by the caller once the exception check passed). */
static uint64_t f_comi(Sse *S, uint64_t a, uint64_t b, int w, bool signaling)
{
    a &= f_mask(w);
    b &= f_mask(w);
    uint64_t fl;
    if (f_nan(a, w) || f_nan(b, w)) {
        if (signaling || f_snan(a, w) || f_snan(b, w)) {
            S->flags |= MX_IE;
        }
        fl = X86_FLAG_ZF | X86_FLAG_PF | X86_FLAG_CF;
    } else {
        int c = f_cmp_num(f_in(S, a, w), f_in(S, b, w), w);
        fl = c == 0 ? X86_FLAG_ZF : c < 0 ? X86_FLAG_CF : 0;
    }
    return fl;
}

/* Float to a signed integer of bits 32/64 with rounding mode rm; NaN and out-of-range give
 * the integer indefinite (sign bit only) and #I. */
static uint64_t f_to_int(Sse *S, uint64_t a, int w, int bits, int rm)
{
    a &= f_mask(w);
    uint64_t indef = 1ull << (bits - 1);
    if (f_nan(a, w)) {
        S->flags |= MX_IE;
        return indef;
    }
    if (f_denorm(a, w) && (S->env->fx.mxcsr & MX_DAZ)) {
        a &= f_sign(w);
    }
    uint32_t ff = 0;
    uint64_t r;
    if (w == 32) {
        uint64_t A = a | 0xffffffff00000000ull;
        r = bits == 32 ? fpu_cvt_w_s(A, rm, &ff) : fpu_cvt_l_s(A, rm, &ff);
    } else {
        r = bits == 32 ? fpu_cvt_w_d(a, rm, &ff) : fpu_cvt_l_d(a, rm, &ff);
    }
    if (ff & FFLAG_NV) {
        S->flags |= MX_IE;
        return indef;
    }
    S->flags |= from_fflags(ff);
    return bits == 32 ? (uint32_t)r : r;
}

static uint64_t f_from_int(Sse *S, int64_t v, int w)
{
    uint32_t ff = 0;
    uint64_t r = w == 32 ? (uint32_t)fpu_cvt_s_l((uint64_t)v, mx_rm(S), &ff)
                         : fpu_cvt_d_l((uint64_t)v, mx_rm(S), &ff);
    S->flags |= from_fflags(ff);
    return r;
}

/* Between binary32 and binary64; NaNs keep sign and payload (quietened). */
static uint64_t f_convert(Sse *S, uint64_t a, int from, int to)
{
    a &= f_mask(from);
    if (f_nan(a, from)) {
        if (f_snan(a, from)) {
            S->flags |= MX_IE;
        }
        bool s = a & f_sign(from);
        uint64_t pay = from == 32 ? (a & f_mant(32)) << 29 : (a & f_mant(64)) >> 29;
        return (s ? f_sign(to) : 0) | f_expm(to) | f_qbit(to) | pay;
    }
    uint32_t outer = S->flags;
    S->flags = 0;   /* this element's flags, merged below */
    a = f_in(S, a, from);
    uint32_t ff = 0;
    uint64_t r = from == 32 ? fpu_cvt_d_s(a | 0xffffffff00000000ull, mx_rm(S), &ff)
                            : fpu_cvt_s_d(a, mx_rm(S), &ff);
    r = f_out(S, r, to, ff);
    if (from == 64 && f_unmasked_ou(S)) {
        int e;
        f_set_pe(S, f_fits(f_sig(a, 64, &e), 24));   /* a is nonzero: it over/underflowed */
    }
    S->flags |= outer;
    return r;
}

/* ROUNDSS/SD/PS/PD: round to an integral value (imm bit 2: MXCSR.RC, bit 3: no #P). */
static uint64_t f_round(Sse *S, uint64_t a, int w, unsigned imm)
{
    a &= f_mask(w);
    if (f_nan(a, w)) {
        if (f_snan(a, w)) {
            S->flags |= MX_IE;
        }
        return a | f_qbit(w);
    }
    if (f_denorm(a, w) && (S->env->fx.mxcsr & MX_DAZ)) {
        a &= f_sign(w);   /* DAZ applies, but ROUND* never reports DE */
    }
    unsigned bias = w == 32 ? 127 : 1023, mbits = w == 32 ? 23 : 52;
    unsigned e = (unsigned)((a & f_expm(w)) >> mbits);
    if (e >= bias + mbits) {
        return a;   /* already integral, or infinity */
    }
    int rm = (imm & 4) ? mx_rm(S) : rv_rm(imm & 3);
    uint32_t ff = 0;
    int64_t i = (int64_t)(w == 32 ? fpu_cvt_l_s(a | 0xffffffff00000000ull, rm, &ff)
                                  : fpu_cvt_l_d(a, rm, &ff));
    uint32_t ff2 = 0;
    uint64_t r = w == 32 ? (uint32_t)fpu_cvt_s_l((uint64_t)i, FPU_RNE, &ff2)
                         : fpu_cvt_d_l((uint64_t)i, FPU_RNE, &ff2);
    if (i == 0) {
        r = a & f_sign(w);
    }
    if (!(imm & 8) && (ff & FFLAG_NX)) {
        S->flags |= MX_PE;
    }
    return r;
}

/* Ends a floating-point instruction: records the flags; false (#XM, or #UD without
 * CR4.OSXMMEXCPT) when one of them is unmasked, leaving the destination untouched. */
static bool f_commit(Sse *S)
{
    CPUX86State *env = S->env;
    uint32_t unmasked = ~(env->fx.mxcsr >> MX_MASK_SHIFT) & 0x3f;
    uint32_t pre = S->flags & (MX_IE | MX_DE | MX_ZE);
    /* an unmasked pre-computation exception (IE, DE, ZE) faults before the result exists:
     * the post-computation flags (OE, UE, PE) are not recorded */
    env->fx.mxcsr |= (pre & unmasked) ? pre : S->flags;
    if (S->flags & unmasked) {
        x86_raise(S->t, (env->cr[4] & X86_CR4_OSXMMEXCPT) ? EXCP_XM : EXCP_UD, false, 0);
        return false;
    }
    return true;
}

static uint64_t lane_get(const Xmm *v, int w, unsigned i)
{
    return w == 32 ? v->d[i] : v->q[i];
}

static void lane_set(Xmm *v, int w, unsigned i, uint64_t x)
{
    if (w == 32) {
        v->d[i] = (uint32_t)x;
    } else {
        v->q[i] = x;
    }
}

/* ---- integer lane helpers ---- */

static int8_t sat8s(int v)
{
    return (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
}

static uint8_t sat8u(int v)
{
    return (uint8_t)(v > 255 ? 255 : v < 0 ? 0 : v);
}

static int16_t sat16s(int v)
{
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

static uint16_t sat16u(int v)
{
    return (uint16_t)(v > 65535 ? 65535 : v < 0 ? 0 : v);
}

/* Packed integer ops of the 0F map on n bytes (8: MMX, 16: XMM): r = a op b. */
static bool pint_0f(unsigned opc, Xmm *r, const Xmm *a, const Xmm *b, unsigned n)
{
    unsigned nb = n, nw = n / 2, nd = n / 4, nq = n / 8;
    Xmm o = { .q = { 0, 0 } };
    switch (opc) {
    case 0x60: case 0x61: case 0x62: case 0x68: case 0x69: case 0x6a: case 0x6c: case 0x6d: {
        /* PUNPCKL/H{BW,WD,DQ,QDQ}: interleave the low or high halves */
        unsigned es = opc == 0x6c || opc == 0x6d ? 8 : 1u << (opc & 3);
        unsigned half = (opc >= 0x68 && opc != 0x6c) ? n / 2 : 0;
        for (unsigned i = 0; i < n / (2 * es); i++) {
            memcpy(&o.b[2 * i * es], &a->b[half + i * es], es);
            memcpy(&o.b[(2 * i + 1) * es], &b->b[half + i * es], es);
        }
        break;
    }
    case 0x63:   /* PACKSSWB */
        for (unsigned i = 0; i < nw; i++) {
            o.sb[i] = sat8s(a->sw[i]);
            o.sb[nw + i] = sat8s(b->sw[i]);
        }
        break;
    case 0x67:   /* PACKUSWB */
        for (unsigned i = 0; i < nw; i++) {
            o.b[i] = sat8u(a->sw[i]);
            o.b[nw + i] = sat8u(b->sw[i]);
        }
        break;
    case 0x6b:   /* PACKSSDW */
        for (unsigned i = 0; i < nd; i++) {
            o.sw[i] = sat16s(a->sd[i] > 32767 ? 32767 : a->sd[i] < -32768 ? -32768 : a->sd[i]);
            o.sw[nd + i] = sat16s(b->sd[i] > 32767 ? 32767 : b->sd[i] < -32768 ? -32768
                                                                             : b->sd[i]);
        }
        break;
    case 0x64: for (unsigned i = 0; i < nb; i++) o.b[i] = a->sb[i] > b->sb[i] ? 0xff : 0; break;
    case 0x65: for (unsigned i = 0; i < nw; i++) o.w[i] = a->sw[i] > b->sw[i] ? 0xffff : 0; break;
    case 0x66: for (unsigned i = 0; i < nd; i++) o.d[i] = a->sd[i] > b->sd[i] ? ~0u : 0; break;
    case 0x74: for (unsigned i = 0; i < nb; i++) o.b[i] = a->b[i] == b->b[i] ? 0xff : 0; break;
    case 0x75: for (unsigned i = 0; i < nw; i++) o.w[i] = a->w[i] == b->w[i] ? 0xffff : 0; break;
    case 0x76: for (unsigned i = 0; i < nd; i++) o.d[i] = a->d[i] == b->d[i] ? ~0u : 0; break;
    case 0xd1: case 0xd2: case 0xd3: case 0xe1: case 0xe2: case 0xf1: case 0xf2: case 0xf3: {
        /* shifts by the low quadword of b */
        uint64_t c = b->q[0];
        unsigned es = opc & 3;   /* 1 w, 2 d, 3 q */
        unsigned bits = 8u << es;
        bool left = opc >= 0xf0, arith = (opc & 0xf0) == 0xe0;
        for (unsigned i = 0; i < n / (bits / 8); i++) {
            uint64_t v = es == 1 ? a->w[i] : es == 2 ? a->d[i] : a->q[i];
            uint64_t x;
            if (arith) {
                int64_t sv = es == 1 ? a->sw[i] : a->sd[i];
                x = (uint64_t)(sv >> (c >= bits ? bits - 1 : c));
            } else if (c >= bits) {
                x = 0;
            } else {
                x = left ? v << c : v >> c;
            }
            if (es == 1) {
                o.w[i] = (uint16_t)x;
            } else if (es == 2) {
                o.d[i] = (uint32_t)x;
            } else {
                o.q[i] = x;
            }
        }
        break;
    }
    case 0xd4: for (unsigned i = 0; i < nq; i++) o.q[i] = a->q[i] + b->q[i]; break;
    case 0xfb: for (unsigned i = 0; i < nq; i++) o.q[i] = a->q[i] - b->q[i]; break;
    case 0xd5: for (unsigned i = 0; i < nw; i++) o.w[i] = (uint16_t)(a->sw[i] * b->sw[i]); break;
    case 0xe5: for (unsigned i = 0; i < nw; i++) o.w[i] = (uint16_t)((a->sw[i] * b->sw[i]) >> 16); break;
    case 0xe4: for (unsigned i = 0; i < nw; i++) o.w[i] = (uint16_t)(((uint32_t)a->w[i] * b->w[i]) >> 16); break;
    case 0xd8: for (unsigned i = 0; i < nb; i++) o.b[i] = sat8u(a->b[i] - b->b[i]); break;
    case 0xd9: for (unsigned i = 0; i < nw; i++) o.w[i] = sat16u(a->w[i] - b->w[i]); break;
    case 0xdc: for (unsigned i = 0; i < nb; i++) o.b[i] = sat8u(a->b[i] + b->b[i]); break;
    case 0xdd: for (unsigned i = 0; i < nw; i++) o.w[i] = sat16u(a->w[i] + b->w[i]); break;
    case 0xe8: for (unsigned i = 0; i < nb; i++) o.sb[i] = sat8s(a->sb[i] - b->sb[i]); break;
    case 0xe9: for (unsigned i = 0; i < nw; i++) o.sw[i] = sat16s(a->sw[i] - b->sw[i]); break;
    case 0xec: for (unsigned i = 0; i < nb; i++) o.sb[i] = sat8s(a->sb[i] + b->sb[i]); break;
    case 0xed: for (unsigned i = 0; i < nw; i++) o.sw[i] = sat16s(a->sw[i] + b->sw[i]); break;
    case 0xda: for (unsigned i = 0; i < nb; i++) o.b[i] = a->b[i] < b->b[i] ? a->b[i] : b->b[i]; break;
    case 0xde: for (unsigned i = 0; i < nb; i++) o.b[i] = a->b[i] > b->b[i] ? a->b[i] : b->b[i]; break;
    case 0xea: for (unsigned i = 0; i < nw; i++) o.sw[i] = a->sw[i] < b->sw[i] ? a->sw[i] : b->sw[i]; break;
    case 0xee: for (unsigned i = 0; i < nw; i++) o.sw[i] = a->sw[i] > b->sw[i] ? a->sw[i] : b->sw[i]; break;
    case 0xdb: for (unsigned i = 0; i < nq; i++) o.q[i] = a->q[i] & b->q[i]; break;
    case 0xdf: for (unsigned i = 0; i < nq; i++) o.q[i] = ~a->q[i] & b->q[i]; break;
    case 0xeb: for (unsigned i = 0; i < nq; i++) o.q[i] = a->q[i] | b->q[i]; break;
    case 0xef: for (unsigned i = 0; i < nq; i++) o.q[i] = a->q[i] ^ b->q[i]; break;
    case 0xe0: for (unsigned i = 0; i < nb; i++) o.b[i] = (uint8_t)((a->b[i] + b->b[i] + 1) >> 1); break;
    case 0xe3: for (unsigned i = 0; i < nw; i++) o.w[i] = (uint16_t)((a->w[i] + b->w[i] + 1) >> 1); break;
    case 0xf4: for (unsigned i = 0; i < nq; i++) o.q[i] = (uint64_t)a->d[2 * i] * b->d[2 * i]; break;
    case 0xf5:
        for (unsigned i = 0; i < nd; i++) {
            o.d[i] = (uint32_t)(a->sw[2 * i] * b->sw[2 * i] + a->sw[2 * i + 1] * b->sw[2 * i + 1]);
        }
        break;
    case 0xf6:   /* PSADBW */
        for (unsigned i = 0; i < nq; i++) {
            unsigned s = 0;
            for (unsigned j = 0; j < 8; j++) {
                int d = a->b[8 * i + j] - b->b[8 * i + j];
                s += (unsigned)(d < 0 ? -d : d);
            }
            o.q[i] = s;
        }
        break;
    case 0xf8: for (unsigned i = 0; i < nb; i++) o.b[i] = (uint8_t)(a->b[i] - b->b[i]); break;
    case 0xf9: for (unsigned i = 0; i < nw; i++) o.w[i] = (uint16_t)(a->w[i] - b->w[i]); break;
    case 0xfa: for (unsigned i = 0; i < nd; i++) o.d[i] = a->d[i] - b->d[i]; break;
    case 0xfc: for (unsigned i = 0; i < nb; i++) o.b[i] = (uint8_t)(a->b[i] + b->b[i]); break;
    case 0xfd: for (unsigned i = 0; i < nw; i++) o.w[i] = (uint16_t)(a->w[i] + b->w[i]); break;
    case 0xfe: for (unsigned i = 0; i < nd; i++) o.d[i] = a->d[i] + b->d[i]; break;
    default:
        return false;
    }
    *r = o;
    return true;
}

/* Shift-by-immediate groups 0F 71/72/73 (reg field sub-op) on n bytes. */
static bool pshift_imm(unsigned opc, unsigned sub, Xmm *v, unsigned c, unsigned n)
{
    static const uint8_t ops[3][8] = {
        [0] = { [2] = 0xd1, [4] = 0xe1, [6] = 0xf1 },
        [1] = { [2] = 0xd2, [4] = 0xe2, [6] = 0xf2 },
        [2] = { [2] = 0xd3, [6] = 0xf3 },
    };
    if (opc == 0x73 && n == 16 && (sub == 3 || sub == 7)) {
        /* PSRLDQ, PSLLDQ: whole-register byte shifts */
        Xmm o = { .q = { 0, 0 } };
        unsigned s = c > 16 ? 16 : c;
        for (unsigned i = 0; i < 16; i++) {
            if (sub == 3) {
                o.b[i] = i + s < 16 ? v->b[i + s] : 0;
            } else {
                o.b[i] = i >= s ? v->b[i - s] : 0;
            }
        }
        *v = o;
        return true;
    }
    unsigned code = ops[opc - 0x71][sub & 7];
    if (!code) {
        return false;
    }
    Xmm cnt = { .q = { c, 0 } };
    return pint_0f(code, v, v, &cnt, n);
}

/* SSSE3 and SSE4.1 integer ops of the 0F 38 map (r = a op b; x0 is XMM0 for the variable
 * blends); false when opc is not one of them. */
static bool pint_38(unsigned opc, Xmm *r, const Xmm *a, const Xmm *b, unsigned n,
                    const Xmm *x0)
{
    unsigned nw = n / 2, nd = n / 4;
    Xmm o = { .q = { 0, 0 } };
    switch (opc) {
    case 0x00:   /* PSHUFB */
        for (unsigned i = 0; i < n; i++) {
            o.b[i] = (b->b[i] & 0x80) ? 0 : a->b[b->b[i] & (n - 1)];
        }
        break;
    case 0x01: case 0x02: case 0x03: case 0x05: case 0x06: case 0x07: {
        /* PHADDW PHADDD PHADDSW PHSUBW PHSUBD PHSUBSW */
        bool dw = (opc & 3) == 2, sub = opc >= 5, sat = (opc & 3) == 3;
        unsigned cnt = dw ? nd : nw, half = cnt / 2;
        for (unsigned i = 0; i < cnt; i++) {
            const Xmm *src = i < half ? a : b;
            unsigned j = (i % half) * 2;
            if (dw) {
                o.d[i] = sub ? src->d[j] - src->d[j + 1] : src->d[j] + src->d[j + 1];
            } else {
                int v = sub ? src->sw[j] - src->sw[j + 1] : src->sw[j] + src->sw[j + 1];
                o.sw[i] = sat ? sat16s(v) : (int16_t)v;
            }
        }
        break;
    }
    case 0x04:   /* PMADDUBSW */
        for (unsigned i = 0; i < nw; i++) {
            o.sw[i] = sat16s(a->b[2 * i] * b->sb[2 * i] + a->b[2 * i + 1] * b->sb[2 * i + 1]);
        }
        break;
    case 0x08: case 0x09: case 0x0a:   /* PSIGNB/W/D */
        for (unsigned i = 0; i < n >> (opc - 8); i++) {
            int64_t s = opc == 8 ? b->sb[i] : opc == 9 ? b->sw[i] : b->sd[i];
            int64_t v = opc == 8 ? a->sb[i] : opc == 9 ? a->sw[i] : a->sd[i];
            v = s < 0 ? -v : s == 0 ? 0 : v;
            if (opc == 8) {
                o.b[i] = (uint8_t)v;
            } else if (opc == 9) {
                o.w[i] = (uint16_t)v;
            } else {
                o.d[i] = (uint32_t)v;
            }
        }
        break;
    case 0x0b:   /* PMULHRSW */
        for (unsigned i = 0; i < nw; i++) {
            o.w[i] = (uint16_t)((((a->sw[i] * b->sw[i]) >> 14) + 1) >> 1);
        }
        break;
    case 0x1c: for (unsigned i = 0; i < n; i++) o.b[i] = (uint8_t)(b->sb[i] < 0 ? -b->sb[i] : b->sb[i]); break;
    case 0x1d: for (unsigned i = 0; i < nw; i++) o.w[i] = (uint16_t)(b->sw[i] < 0 ? -b->sw[i] : b->sw[i]); break;
    case 0x1e: for (unsigned i = 0; i < nd; i++) o.d[i] = b->sd[i] < 0 ? -(uint32_t)b->sd[i] : (uint32_t)b->sd[i]; break;
    default:
        if (n != 16) {
            return false;
        }
        switch (opc) {
        case 0x10: for (unsigned i = 0; i < 16; i++) o.b[i] = (x0->b[i] & 0x80) ? b->b[i] : a->b[i]; break;
        case 0x14: for (unsigned i = 0; i < 4; i++) o.d[i] = (x0->d[i] >> 31) ? b->d[i] : a->d[i]; break;
        case 0x15: for (unsigned i = 0; i < 2; i++) o.q[i] = (x0->q[i] >> 63) ? b->q[i] : a->q[i]; break;
        case 0x28: for (unsigned i = 0; i < 2; i++) o.sq[i] = (int64_t)b->sd[2 * i] * a->sd[2 * i]; break;
        case 0x29: for (unsigned i = 0; i < 2; i++) o.q[i] = a->q[i] == b->q[i] ? ~0ull : 0; break;
        case 0x37: for (unsigned i = 0; i < 2; i++) o.q[i] = a->sq[i] > b->sq[i] ? ~0ull : 0; break;
        case 0x2b:
            for (unsigned i = 0; i < 4; i++) {
                o.w[i] = a->sd[i] < 0 ? 0 : a->sd[i] > 65535 ? 65535 : (uint16_t)a->sd[i];
                o.w[4 + i] = b->sd[i] < 0 ? 0 : b->sd[i] > 65535 ? 65535 : (uint16_t)b->sd[i];
            }
            break;
        case 0x38: for (unsigned i = 0; i < 16; i++) o.sb[i] = a->sb[i] < b->sb[i] ? a->sb[i] : b->sb[i]; break;
        case 0x39: for (unsigned i = 0; i < 4; i++) o.sd[i] = a->sd[i] < b->sd[i] ? a->sd[i] : b->sd[i]; break;
        case 0x3a: for (unsigned i = 0; i < 8; i++) o.w[i] = a->w[i] < b->w[i] ? a->w[i] : b->w[i]; break;
        case 0x3b: for (unsigned i = 0; i < 4; i++) o.d[i] = a->d[i] < b->d[i] ? a->d[i] : b->d[i]; break;
        case 0x3c: for (unsigned i = 0; i < 16; i++) o.sb[i] = a->sb[i] > b->sb[i] ? a->sb[i] : b->sb[i]; break;
        case 0x3d: for (unsigned i = 0; i < 4; i++) o.sd[i] = a->sd[i] > b->sd[i] ? a->sd[i] : b->sd[i]; break;
        case 0x3e: for (unsigned i = 0; i < 8; i++) o.w[i] = a->w[i] > b->w[i] ? a->w[i] : b->w[i]; break;
        case 0x3f: for (unsigned i = 0; i < 4; i++) o.d[i] = a->d[i] > b->d[i] ? a->d[i] : b->d[i]; break;
        case 0x40: for (unsigned i = 0; i < 4; i++) o.d[i] = (uint32_t)((int64_t)a->sd[i] * b->sd[i]); break;
        case 0x41: {   /* PHMINPOSUW */
            unsigned m = 0;
            for (unsigned i = 1; i < 8; i++) {
                if (b->w[i] < b->w[m]) {
                    m = i;
                }
            }
            o.w[0] = b->w[m];
            o.w[1] = (uint16_t)m;
            break;
        }
        default:
            return false;
        }
        break;
    }
    *r = o;
    return true;
}

/* ---- SSE4.2 string compares ---- */

/* PCMPxSTRx: imm[1:0] element format, [3:2] aggregation, [5:4] polarity; la/lb are the
 * valid lengths. Returns IntRes2 and sets the flags. */
static unsigned pcmpstr(CPUX86State *env, const Xmm *a, const Xmm *b, int la, int lb,
                        unsigned imm)
{
    bool words = imm & 1, sgn = imm & 2;
    int n = words ? 8 : 16;
    unsigned agg = (imm >> 2) & 3, pol = (imm >> 4) & 3;
    la = la < 0 ? 0 : la > n ? n : la;
    lb = lb < 0 ? 0 : lb > n ? n : lb;
    int64_t ea[16], eb[16];
    for (int i = 0; i < n; i++) {
        ea[i] = words ? (sgn ? a->sw[i] : a->w[i]) : (sgn ? a->sb[i] : a->b[i]);
        eb[i] = words ? (sgn ? b->sw[i] : b->w[i]) : (sgn ? b->sb[i] : b->b[i]);
    }
    unsigned res = 0;
    for (int j = 0; j < n; j++) {
        bool bit = false;
        bool bv = j < lb;
        switch (agg) {
        case 0:   /* equal any */
            for (int i = 0; i < la && bv; i++) {
                bit |= ea[i] == eb[j];
            }
            break;
        case 1:   /* ranges: a holds (low, high) pairs */
            for (int i = 0; i + 1 < la && bv; i += 2) {
                bit |= eb[j] >= ea[i] && eb[j] <= ea[i + 1];
            }
            break;
        case 2:   /* equal each */
            bit = (j < la && bv) ? ea[j] == eb[j] : (j >= la && !bv);
            break;
        default:  /* equal ordered: a as a substring at b[j] */
            bit = true;
            for (int i = 0; i < n - j && i < la; i++) {
                if (j + i >= lb || ea[i] != eb[j + i]) {
                    bit = false;
                    break;
                }
            }
            break;
        }
        res |= (unsigned)bit << j;
    }
    unsigned vmask = (1u << n) - 1;
    switch (pol) {
    case 1: res ^= vmask; break;
    case 3: res ^= (1u << lb) - 1; break;
    default: break;
    }
    res &= vmask;
    uint64_t m = X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF | X86_FLAG_SF |
                 X86_FLAG_OF;
    uint64_t f = (res ? X86_FLAG_CF : 0) | (lb < n ? X86_FLAG_ZF : 0) |
                 (la < n ? X86_FLAG_SF : 0) | ((res & 1) ? X86_FLAG_OF : 0);
    env->rflags = (env->rflags & ~m) | f;
    return res;
}

/* Explicit length of PCMPESTRx from EAX/EDX (64-bit with REX.W): the magnitude, at most 16. */
static int str_len_explicit(uint64_t v, bool w64)
{
    int64_t s = w64 ? (int64_t)v : (int64_t)(int32_t)v;
    if (s < 0) {
        s = s == INT64_MIN ? INT64_MAX : -s;
    }
    return s > 16 ? 16 : (int)s;
}

static int str_len_implicit(const Xmm *v, bool words)
{
    int n = words ? 8 : 16;
    for (int i = 0; i < n; i++) {
        if (words ? v->w[i] == 0 : v->b[i] == 0) {
            return i;
        }
    }
    return n;
}

static uint32_t crc32c(uint32_t crc, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) {
        crc ^= (uint8_t)(v >> (8 * i));
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
        }
    }
    return crc;
}

/* ---- the 0F map ---- */

/* Packed/scalar float arithmetic 0F 51 and 58..5F, and CMPccPS/PD/SS/SD (0F C2). */
static bool sse_farith(Sse *S, Xmm *d, const Xmm *s, int w, unsigned lanes)
{
    Xmm r = *d;
    for (unsigned i = 0; i < lanes; i++) {
        uint64_t a = lane_get(d, w, i), b = lane_get(s, w, i), x;
        switch (S->opc) {
        case 0x51: x = f_arith(S, FOP_SQRT, 0, b, w); break;
        case 0x58: x = f_arith(S, FOP_ADD, a, b, w); break;
        case 0x59: x = f_arith(S, FOP_MUL, a, b, w); break;
        case 0x5c: x = f_arith(S, FOP_SUB, a, b, w); break;
        case 0x5d: x = f_arith(S, FOP_MIN, a, b, w); break;
        case 0x5e: x = f_arith(S, FOP_DIV, a, b, w); break;
        case 0x5f: x = f_arith(S, FOP_MAX, a, b, w); break;
        default: x = f_cmp_pred(S, a, b, w, S->imm8 & 7); break;
        }
        lane_set(&r, w, i, x);
    }
    if (!f_commit(S)) {
        return false;
    }
    *d = r;
    return true;
}

/* RCPPS/RSQRTPS and scalar forms: the correctly rounded value (well inside the 1.5*2^-12
 * relative error the architecture allows); denormal inputs and results count as zero and
 * no flags are raised. */
static uint32_t f_approx(uint32_t x, bool rsqrt)
{
    uint32_t ff = 0;
    uint64_t X = f_denorm(x, 32) ? (x & 0x80000000u) : x;
    uint64_t one = 0x3f800000u | 0xffffffff00000000ull;
    X |= 0xffffffff00000000ull;
    if (rsqrt) {
        if ((uint32_t)X == 0x80000000u) {
            return 0xff800000u;
        }
        if ((X & 0x80000000u) && !f_nan((uint32_t)X, 32)) {
            return 0xffc00000u;
        }
        X = fpu_sqrt_s(X, FPU_RNE, &ff);
    }
    if (f_nan((uint32_t)X, 32)) {
        return (uint32_t)X | 0x400000u;
    }
    uint32_t r = (uint32_t)fpu_div_s(one, X, FPU_RNE, &ff);
    return f_denorm(r, 32) ? (r & 0x80000000u) : r;
}

static bool sse_0f(Sse *S)
{
    CPUX86State *env = S->env;
    unsigned opc = S->opc, p = S->pfx;
    bool mem = is_mem(S);
    Xmm d = xmm_get(env, S->reg & 15), s, r;
    int w = (p == PFX_66 || p == PFX_F2) ? 64 : 32;
    bool scalar = p >= PFX_F3;
    bool mmx = p == PFX_NONE;
    unsigned n = mmx ? 8 : 16;

    switch (opc) {
    case 0x10: case 0x11:   /* MOVUPS MOVUPD MOVSS MOVSD */
        if (opc == 0x10) {
            if (!src_get(S, &s, scalar ? w / 8 : 16, false, false)) {
                return false;
            }
            if (scalar && !mem) {
                lane_set(&d, w, 0, lane_get(&s, w, 0));
                s = d;
            }
            xmm_set(env, S->reg, &s);
            return true;
        }
        if (mem) {
            return mem_write(S, S->la, scalar ? w / 8 : 16, &d);
        }
        r = xmm_get(env, S->rm);
        if (scalar) {
            lane_set(&r, w, 0, lane_get(&d, w, 0));
        } else {
            r = d;
        }
        xmm_set(env, S->rm, &r);
        return true;
    case 0x12: case 0x16:
        if (p == PFX_F3) {   /* MOVSLDUP MOVSHDUP */
            if (!src_get(S, &s, 16, false, true)) {
                return false;
            }
            unsigned o = opc == 0x16;
            r.d[0] = r.d[1] = s.d[o];
            r.d[2] = r.d[3] = s.d[2 + o];
        } else if (p == PFX_F2) {   /* MOVDDUP */
            if (opc != 0x12) {
                return ud(S);
            }
            if (!src_get(S, &s, 8, false, false)) {
                return false;
            }
            r.q[0] = r.q[1] = s.q[0];
        } else {
            /* MOVLPS/MOVLPD/MOVHLPS, MOVHPS/MOVHPD/MOVLHPS */
            if (p == PFX_66 && !mem) {
                return ud(S);
            }
            if (!src_get(S, &s, 8, false, false)) {
                return false;
            }
            r = d;
            if (opc == 0x12) {
                r.q[0] = mem ? s.q[0] : s.q[1];
            } else {
                r.q[1] = s.q[0];
            }
        }
        xmm_set(env, S->reg, &r);
        return true;
    case 0x13: case 0x17:   /* MOVLPS/PD, MOVHPS/PD stores */
        if (!mem || scalar) {
            return ud(S);
        }
        return mem_write(S, S->la, 8, &d.q[opc == 0x17]);
    case 0x14: case 0x15:   /* UNPCKLPS/PD UNPCKHPS/PD */
        if (scalar) {
            return ud(S);
        }
        if (!src_get(S, &s, 16, false, true)) {
            return false;
        }
        if (w == 32) {
            unsigned o = opc == 0x15 ? 2 : 0;
            r.d[0] = d.d[o];
            r.d[1] = s.d[o];
            r.d[2] = d.d[o + 1];
            r.d[3] = s.d[o + 1];
        } else {
            unsigned o = opc == 0x15;
            r.q[0] = d.q[o];
            r.q[1] = s.q[o];
        }
        xmm_set(env, S->reg, &r);
        return true;
    case 0x28: case 0x29: case 0x2b:   /* MOVAPS MOVAPD, MOVNTPS MOVNTPD */
        if (scalar || (opc == 0x2b && !mem)) {
            return ud(S);
        }
        if (opc == 0x28) {
            if (!src_get(S, &s, 16, false, true)) {
                return false;
            }
            xmm_set(env, S->reg, &s);
            return true;
        }
        if (mem) {
            if (S->la & 15) {
                return gp0(S);
            }
            return mem_write(S, S->la, 16, &d);
        }
        xmm_set(env, S->rm, &d);
        return true;
    case 0x2a:
        if (scalar) {   /* CVTSI2SS CVTSI2SD */
            uint64_t v;
            if (!gsrc_get(S, S->rexw ? 8 : 4, &v)) {
                return false;
            }
            int64_t iv = S->rexw ? (int64_t)v : (int64_t)(int32_t)v;
            uint64_t x = f_from_int(S, iv, w);
            if (!f_commit(S)) {
                return false;
            }
            lane_set(&d, w, 0, x);
        } else {        /* CVTPI2PS CVTPI2PD: from an MMX register or m64 */
            if (!src_get(S, &s, 8, true, false)) {
                return false;
            }
            if (!mem) {
                mmx_touch(env);
                s = mm_get(env, S->rm);
            }
            Xmm o = d;
            for (unsigned i = 0; i < 2; i++) {
                lane_set(&o, w, i, f_from_int(S, s.sd[i], w));
            }
            if (!f_commit(S)) {
                return false;
            }
            d = o;
        }
        xmm_set(env, S->reg, &d);
        return true;
    case 0x2c: case 0x2d: {
        int rm = opc == 0x2c ? FPU_RTZ : mx_rm(S);
        if (scalar) {   /* CVT(T)SS2SI CVT(T)SD2SI */
            if (!src_get(S, &s, w / 8, false, false)) {
                return false;
            }
            uint64_t v = f_to_int(S, lane_get(&s, w, 0), w, S->rexw ? 64 : 32, rm);
            if (!f_commit(S)) {
                return false;
            }
            gpr_set(env, S->reg, S->rexw, v);
            return true;
        }
        /* CVT(T)PS2PI CVT(T)PD2PI into an MMX register */
        if (!src_get(S, &s, w == 32 ? 8 : 16, false, w == 64)) {
            return false;
        }
        Xmm o = { .q = { 0, 0 } };
        for (unsigned i = 0; i < 2; i++) {
            o.d[i] = (uint32_t)f_to_int(S, lane_get(&s, w, i), w, 32, rm);
        }
        if (!f_commit(S)) {
            return false;
        }
        mmx_touch(env);
        mm_set(env, S->reg, &o);
        return true;
    }
    case 0x2e: case 0x2f:   /* UCOMISS UCOMISD COMISS COMISD */
        if (scalar) {
            return ud(S);
        }
        if (!src_get(S, &s, w / 8, false, false)) {
            return false;
        }
    {
        uint64_t fl = f_comi(S, lane_get(&d, w, 0), lane_get(&s, w, 0), w, opc == 0x2f);
        if (!f_commit(S)) {
            return false;   /* an unmasked exception leaves RFLAGS untouched */
        }
        uint64_t m = X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF | X86_FLAG_SF |
                     X86_FLAG_OF;
        env->rflags = (env->rflags & ~m) | fl;
        return true;
    }
    case 0x50: {            /* MOVMSKPS MOVMSKPD */
        if (scalar || mem) {
            return ud(S);
        }
        s = xmm_get(env, S->rm);
        uint64_t m = 0;
        for (unsigned i = 0; i < 128u / w; i++) {
            m |= (lane_get(&s, w, i) >> (w - 1)) << i;
        }
        gpr_set(env, S->reg, true, m);
        return true;
    }
    case 0x51: case 0x58: case 0x59: case 0x5c: case 0x5d: case 0x5e: case 0x5f: case 0xc2:
        if (!src_get(S, &s, scalar ? w / 8 : 16, false, !scalar)) {
            return false;
        }
        if (!sse_farith(S, &d, &s, w, scalar ? 1 : 128 / w)) {
            return false;
        }
        xmm_set(env, S->reg, &d);
        return true;
    case 0x52: case 0x53:   /* RSQRTPS RSQRTSS RCPPS RCPSS */
        if (w != 32) {
            return ud(S);
        }
        if (!src_get(S, &s, scalar ? 4 : 16, false, !scalar)) {
            return false;
        }
        for (unsigned i = 0; i < (scalar ? 1u : 4u); i++) {
            d.d[i] = f_approx(s.d[i], opc == 0x52);
        }
        xmm_set(env, S->reg, &d);
        return true;
    case 0x54: case 0x55: case 0x56: case 0x57:   /* ANDPS ANDNPS ORPS XORPS (+PD) */
        if (scalar) {
            return ud(S);
        }
        if (!src_get(S, &s, 16, false, true)) {
            return false;
        }
        for (unsigned i = 0; i < 2; i++) {
            r.q[i] = opc == 0x54 ? d.q[i] & s.q[i] : opc == 0x55 ? ~d.q[i] & s.q[i]
                   : opc == 0x56 ? d.q[i] | s.q[i] : d.q[i] ^ s.q[i];
        }
        xmm_set(env, S->reg, &r);
        return true;
    case 0x5a:              /* CVTPS2PD CVTPD2PS CVTSS2SD CVTSD2SS */
        if (scalar) {
            if (!src_get(S, &s, w / 8, false, false)) {
                return false;
            }
            uint64_t x = f_convert(S, lane_get(&s, w, 0), w, 96 - w);
            if (!f_commit(S)) {
                return false;
            }
            lane_set(&d, 96 - w, 0, x);
        } else if (w == 32) {
            if (!src_get(S, &s, 8, false, false)) {
                return false;
            }
            for (unsigned i = 0; i < 2; i++) {
                r.q[i] = f_convert(S, s.d[i], 32, 64);
            }
            if (!f_commit(S)) {
                return false;
            }
            d = r;
        } else {
            if (!src_get(S, &s, 16, false, true)) {
                return false;
            }
            r.q[1] = 0;
            for (unsigned i = 0; i < 2; i++) {
                r.d[i] = (uint32_t)f_convert(S, s.q[i], 64, 32);
            }
            if (!f_commit(S)) {
                return false;
            }
            d = r;
        }
        xmm_set(env, S->reg, &d);
        return true;
    case 0x5b:              /* CVTDQ2PS CVTPS2DQ CVTTPS2DQ */
        if (p == PFX_F2) {
            return ud(S);
        }
        if (!src_get(S, &s, 16, false, true)) {
            return false;
        }
        for (unsigned i = 0; i < 4; i++) {
            r.d[i] = p == PFX_NONE ? (uint32_t)f_from_int(S, s.sd[i], 32)
                   : (uint32_t)f_to_int(S, s.d[i], 32, 32, p == PFX_F3 ? FPU_RTZ : mx_rm(S));
        }
        if (!f_commit(S)) {
            return false;
        }
        xmm_set(env, S->reg, &r);
        return true;
    case 0xe6:              /* CVTTPD2DQ CVTDQ2PD CVTPD2DQ */
        if (p == PFX_NONE) {
            return ud(S);
        }
        if (p == PFX_F3) {
            if (!src_get(S, &s, 8, false, false)) {
                return false;
            }
            for (unsigned i = 0; i < 2; i++) {
                r.q[i] = f_from_int(S, s.sd[i], 64);
            }
        } else {
            if (!src_get(S, &s, 16, false, true)) {
                return false;
            }
            r.q[1] = 0;
            for (unsigned i = 0; i < 2; i++) {
                r.d[i] = (uint32_t)f_to_int(S, s.q[i], 64, 32,
                                            p == PFX_66 ? FPU_RTZ : mx_rm(S));
            }
        }
        if (!f_commit(S)) {
            return false;
        }
        xmm_set(env, S->reg, &r);
        return true;
    case 0x7c: case 0x7d: case 0xd0: {   /* HADDPx HSUBPx ADDSUBPx */
        if (p != PFX_66 && p != PFX_F2) {
            return ud(S);
        }
        w = p == PFX_66 ? 64 : 32;   /* F2 selects the single-precision forms */
        if (!src_get(S, &s, 16, false, true)) {
            return false;
        }
        unsigned lanes = 128 / w, half = lanes / 2;
        for (unsigned i = 0; i < lanes; i++) {
            uint64_t x;
            if (opc == 0xd0) {
                x = f_arith(S, (i & 1) ? FOP_ADD : FOP_SUB, lane_get(&d, w, i),
                            lane_get(&s, w, i), w);
            } else {
                const Xmm *src = i < half ? &d : &s;
                unsigned j = (i % half) * 2;
                x = f_arith(S, opc == 0x7c ? FOP_ADD : FOP_SUB, lane_get(src, w, j),
                            lane_get(src, w, j + 1), w);
            }
            lane_set(&r, w, i, x);
        }
        if (!f_commit(S)) {
            return false;
        }
        xmm_set(env, S->reg, &r);
        return true;
    }
    case 0xc6: {            /* SHUFPS SHUFPD */
        if (scalar) {
            return ud(S);
        }
        if (!src_get(S, &s, 16, false, true)) {
            return false;
        }
        unsigned im = S->imm8;
        if (w == 32) {
            r.d[0] = d.d[im & 3];
            r.d[1] = d.d[(im >> 2) & 3];
            r.d[2] = s.d[(im >> 4) & 3];
            r.d[3] = s.d[(im >> 6) & 3];
        } else {
            r.q[0] = d.q[im & 1];
            r.q[1] = s.q[(im >> 1) & 1];
        }
        xmm_set(env, S->reg, &r);
        return true;
    }
    default:
        break;
    }

    /* integer SIMD: MMX without a prefix, SSE2 with 66 */
    if (mmx) {
        mmx_touch(env);
        d = mm_get(env, S->reg);
    }
    switch (opc) {
    case 0x6e: {            /* MOVD/MOVQ mm/xmm, r/m32/64 */
        uint64_t v;
        if (scalar) {
            return ud(S);
        }
        if (!gsrc_get(S, S->rexw ? 8 : 4, &v)) {
            return false;
        }
        r.q[0] = v;
        r.q[1] = 0;
        break;
    }
    case 0x7e:
        if (p == PFX_F3) {  /* MOVQ xmm, xmm/m64 */
            if (!src_get(S, &s, 8, false, false)) {
                return false;
            }
            r.q[0] = s.q[0];
            r.q[1] = 0;
            xmm_set(env, S->reg, &r);
            return true;
        }
        if (p == PFX_F2) {
            return ud(S);
        }
        return gdst_set(S, S->rexw ? 8 : 4, S->rexw ? d.q[0] : d.d[0]);
    case 0x6f:              /* MOVQ mm, MOVDQA, MOVDQU */
        if (p == PFX_F2) {
            return ud(S);
        }
        if (!src_get(S, &r, n, mmx, p == PFX_66)) {
            return false;
        }
        break;
    case 0x7f: case 0xe7:   /* MOVQ/MOVDQA/MOVDQU stores, MOVNTQ/MOVNTDQ */
        if (p == PFX_F2 || (opc == 0xe7 && (!mem || p == PFX_F3))) {
            return ud(S);
        }
        if (mem) {
            if ((p == PFX_66 || opc == 0xe7) && n == 16 && (S->la & 15)) {
                return gp0(S);
            }
            return mem_write(S, S->la, n, &d);
        }
        if (mmx) {
            mm_set(env, S->rm, &d);
        } else {
            xmm_set(env, S->rm, &d);
        }
        return true;
    case 0x70: {            /* PSHUFW PSHUFD PSHUFHW PSHUFLW */
        if (!src_get(S, &s, n, mmx, !mmx)) {
            return false;
        }
        unsigned im = S->imm8;
        r = s;
        if (p == PFX_NONE || p == PFX_F2) {
            for (unsigned i = 0; i < 4; i++) {
                r.w[i] = s.w[(im >> (2 * i)) & 3];
            }
        } else if (p == PFX_F3) {
            for (unsigned i = 0; i < 4; i++) {
                r.w[4 + i] = s.w[4 + ((im >> (2 * i)) & 3)];
            }
        } else {
            for (unsigned i = 0; i < 4; i++) {
                r.d[i] = s.d[(im >> (2 * i)) & 3];
            }
        }
        break;
    }
    case 0x71: case 0x72: case 0x73:   /* shift groups on the r/m register */
        if (!mem && !scalar) {
            r = mmx ? mm_get(env, S->rm) : xmm_get(env, S->rm);
            if (pshift_imm(opc, S->reg & 7, &r, S->imm8, n)) {
                if (mmx) {
                    mm_set(env, S->rm, &r);
                } else {
                    xmm_set(env, S->rm, &r);
                }
                return true;
            }
        }
        return ud(S);
    case 0x77:              /* EMMS */
        if (p != PFX_NONE) {
            return ud(S);
        }
        env->fx.ftw = 0;
        return true;
    case 0xc4: {            /* PINSRW */
        uint64_t v;
        if (scalar) {
            return ud(S);
        }
        if (!gsrc_get(S, 2, &v)) {
            return false;
        }
        r = d;
        r.w[S->imm8 & (n / 2 - 1)] = (uint16_t)v;
        break;
    }
    case 0xc5:              /* PEXTRW */
        if (scalar || mem) {
            return ud(S);
        }
        s = mmx ? mm_get(env, S->rm) : xmm_get(env, S->rm);
        gpr_set(env, S->reg, true, s.w[S->imm8 & (n / 2 - 1)]);
        return true;
    case 0xd6:
        if (p == PFX_66) {  /* MOVQ xmm/m64, xmm */
            if (mem) {
                return mem_write(S, S->la, 8, &d.q[0]);
            }
            r.q[0] = d.q[0];
            r.q[1] = 0;
            xmm_set(env, S->rm, &r);
            return true;
        }
        if (mem || p == PFX_NONE) {
            return ud(S);
        }
        mmx_touch(env);
        if (p == PFX_F3) {  /* MOVQ2DQ */
            s = mm_get(env, S->rm);
            r.q[0] = s.q[0];
            r.q[1] = 0;
            xmm_set(env, S->reg, &r);
        } else {            /* MOVDQ2Q */
            s = xmm_get(env, S->rm);
            mm_set(env, S->reg, &s);
        }
        return true;
    case 0xd7: {            /* PMOVMSKB */
        if (scalar || mem) {
            return ud(S);
        }
        s = mmx ? mm_get(env, S->rm) : xmm_get(env, S->rm);
        uint64_t m = 0;
        for (unsigned i = 0; i < n; i++) {
            m |= (uint64_t)(s.b[i] >> 7) << i;
        }
        gpr_set(env, S->reg, true, m);
        return true;
    }
    case 0xf0:              /* LDDQU */
        if (p != PFX_F2 || !mem) {
            return ud(S);
        }
        if (!mem_read(S, S->la, 16, &r)) {
            return false;
        }
        xmm_set(env, S->reg, &r);
        return true;
    case 0xf7: {            /* MASKMOVQ MASKMOVDQU: DS:rDI, byte mask in the r/m register */
        if (scalar) {
            return ud(S);
        }
        Xmm mk = mmx ? mm_get(env, S->imm8) : xmm_get(env, S->imm8);
        for (unsigned i = 0; i < n; i++) {
            if ((mk.b[i] & 0x80) && !mem_write(S, S->la + i, 1, &d.b[i])) {
                return false;
            }
        }
        return true;
    }
    default:
        if (scalar || ((opc == 0x6c || opc == 0x6d) && mmx)) {
            return ud(S);
        }
        if (!src_get(S, &s, n, mmx, !mmx)) {
            return false;
        }
        if (!pint_0f(opc, &r, &d, &s, n)) {
            return ud(S);
        }
        break;
    }
    if (mmx) {
        mm_set(env, S->reg, &r);
    } else {
        xmm_set(env, S->reg, &r);
    }
    return true;
}

/* ---- the 0F 38 map: SSSE3, SSE4.1, SSE4.2 (and CRC32) ---- */

static bool sse_0f38(Sse *S)
{
    CPUX86State *env = S->env;
    unsigned opc = S->opc, p = S->pfx;
    bool mem = is_mem(S);
    Xmm d, s, r;

    if (opc == 0xf0 || opc == 0xf1) {   /* CRC32 r32/64, r/m8/16/32/64 */
        if (p != PFX_F2) {
            return ud(S);
        }
        unsigned size = opc == 0xf0 ? 1 : S->rexw ? 8 : S->osize;
        uint64_t v;
        if (!gsrc_get(S, size, &v)) {
            return false;
        }
        gpr_set(env, S->reg, S->rexw, crc32c((uint32_t)env->regs[S->reg], v, size));
        return true;
    }
    bool ssse3 = opc <= 0x0b || (opc >= 0x1c && opc <= 0x1e);
    if (p == PFX_NONE && ssse3) {
        mmx_touch(env);
        d = mm_get(env, S->reg);
        if (!src_get(S, &s, 8, true, false)) {
            return false;
        }
        if (!pint_38(opc, &r, &d, &s, 8, NULL)) {
            return ud(S);
        }
        mm_set(env, S->reg, &r);
        return true;
    }
    if (p != PFX_66) {
        return ud(S);
    }
    d = xmm_get(env, S->reg);
    if ((opc >= 0x20 && opc <= 0x25) || (opc >= 0x30 && opc <= 0x35)) {
        /* PMOVSX / PMOVZX: source elements of es bytes widened to ds bytes */
        static const uint8_t es_[6] = { 1, 1, 1, 2, 2, 4 }, ds_[6] = { 2, 4, 8, 4, 8, 8 };
        unsigned k = opc & 7, es = es_[k], ds = ds_[k], cnt = 16 / ds;
        bool sx = opc < 0x30;
        if (!src_get(S, &s, cnt * es, false, false)) {
            return false;
        }
        for (unsigned i = 0; i < cnt; i++) {
            uint64_t v = 0;
            memcpy(&v, &s.b[i * es], es);
            if (sx) {
                unsigned sh = 64 - 8 * es;
                v = (uint64_t)((int64_t)(v << sh) >> sh);
            }
            memcpy(&r.b[i * ds], &v, ds);
        }
        xmm_set(env, S->reg, &r);
        return true;
    }
    if (opc == 0x2a) {      /* MOVNTDQA */
        if (!mem) {
            return ud(S);
        }
        if (!src_get(S, &r, 16, false, true)) {
            return false;
        }
        xmm_set(env, S->reg, &r);
        return true;
    }
    if (!src_get(S, &s, 16, false, true)) {
        return false;
    }
    if (opc == 0x17) {      /* PTEST */
        uint64_t m = X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF | X86_FLAG_SF |
                     X86_FLAG_OF;
        bool zf = !((d.q[0] & s.q[0]) | (d.q[1] & s.q[1]));
        bool cf = !((~d.q[0] & s.q[0]) | (~d.q[1] & s.q[1]));
        env->rflags = (env->rflags & ~m) | (zf ? X86_FLAG_ZF : 0) | (cf ? X86_FLAG_CF : 0);
        return true;
    }
    Xmm x0 = xmm_get(env, 0);
    if (!pint_38(opc, &r, &d, &s, 16, &x0)) {
        return ud(S);
    }
    xmm_set(env, S->reg, &r);
    return true;
}

/* ---- the 0F 3A map ---- */

/* DPPS / DPPD: products of the lanes selected by imm[7:4], summed pairwise, written to the
 * lanes selected by imm[3:0]. */
static bool sse_dp(Sse *S, Xmm *d, const Xmm *s, int w)
{
    unsigned im = S->imm8, lanes = 128 / w;
    uint64_t prod[4];
    for (unsigned i = 0; i < lanes; i++) {
        prod[i] = (im >> (4 + i)) & 1 ? f_arith(S, FOP_MUL, lane_get(d, w, i),
                                                lane_get(s, w, i), w) : 0;
    }
    /* as the CPU orders the sums (it decides which NaN wins): DPPD lane i adds product i
     * first; DPPS even lanes add products 1 + 0 and 3 + 2, odd lanes 0 + 1 and 2 + 3, and
     * lanes 0-1 add the low pair's sum first, lanes 2-3 the high pair's */
    uint64_t sum[4];
    for (unsigned i = 0; i < lanes; i++) {
        if (w == 64) {
            sum[i] = f_arith(S, FOP_ADD, prod[i], prod[i ^ 1], w);
        } else {
            unsigned lo = (i & 1) ? 0 : 1;
            uint64_t t1 = f_arith(S, FOP_ADD, prod[lo], prod[lo ^ 1], w);
            uint64_t t2 = f_arith(S, FOP_ADD, prod[lo + 2], prod[(lo + 2) ^ 1], w);
            sum[i] = i < 2 ? f_arith(S, FOP_ADD, t1, t2, w) : f_arith(S, FOP_ADD, t2, t1, w);
        }
    }
    if (!f_commit(S)) {
        return false;
    }
    for (unsigned i = 0; i < lanes; i++) {
        lane_set(d, w, i, (im >> i) & 1 ? sum[i] : 0);
    }
    return true;
}

static bool sse_0f3a(Sse *S)
{
    CPUX86State *env = S->env;
    unsigned opc = S->opc, p = S->pfx, im = S->imm8;
    bool mem = is_mem(S);
    Xmm d, s, r;

    if (opc == 0x0f) {      /* PALIGNR */
        unsigned n = p == PFX_66 ? 16 : 8;
        if (p != PFX_66 && p != PFX_NONE) {
            return ud(S);
        }
        if (n == 8) {
            mmx_touch(env);
        }
        d = n == 8 ? mm_get(env, S->reg) : xmm_get(env, S->reg);
        if (!src_get(S, &s, n, n == 8, n == 16)) {
            return false;
        }
        uint8_t cat[32];
        memcpy(cat, s.b, n);
        memcpy(cat + n, d.b, n);
        memset(&r, 0, sizeof(r));
        for (unsigned i = 0; i < n; i++) {
            r.b[i] = i + im < 2 * n ? cat[i + im] : 0;
        }
        if (n == 8) {
            mm_set(env, S->reg, &r);
        } else {
            xmm_set(env, S->reg, &r);
        }
        return true;
    }
    if (p != PFX_66) {
        return ud(S);
    }
    d = xmm_get(env, S->reg);
    switch (opc) {
    case 0x14: case 0x15: case 0x16: case 0x17: {   /* PEXTRB PEXTRW PEXTRD/Q EXTRACTPS */
        uint64_t v;
        unsigned size;
        switch (opc) {
        case 0x14: size = 1; v = d.b[im & 15]; break;
        case 0x15: size = 2; v = d.w[im & 7]; break;
        case 0x16:
            size = S->rexw ? 8 : 4;
            v = S->rexw ? d.q[im & 1] : d.d[im & 3];
            break;
        default: size = 4; v = d.d[im & 3]; break;
        }
        if (mem) {
            return mem_write(S, S->la, size, &v);
        }
        gpr_set(env, S->rm, size == 8, v);
        return true;
    }
    case 0x20: case 0x22: {   /* PINSRB PINSRD/Q */
        unsigned size = opc == 0x20 ? 1 : S->rexw ? 8 : 4;
        uint64_t v;
        if (!gsrc_get(S, size, &v)) {
            return false;
        }
        if (size == 1) {
            d.b[im & 15] = (uint8_t)v;
        } else if (size == 4) {
            d.d[im & 3] = (uint32_t)v;
        } else {
            d.q[im & 1] = v;
        }
        xmm_set(env, S->reg, &d);
        return true;
    }
    case 0x21: {            /* INSERTPS */
        uint32_t v;
        if (mem) {
            if (!mem_read(S, S->la, 4, &v)) {
                return false;
            }
        } else {
            v = xmm_get(env, S->rm).d[(im >> 6) & 3];
        }
        d.d[(im >> 4) & 3] = v;
        for (unsigned i = 0; i < 4; i++) {
            if (im & (1u << i)) {
                d.d[i] = 0;
            }
        }
        xmm_set(env, S->reg, &d);
        return true;
    }
    case 0x08: case 0x09: case 0x0a: case 0x0b: {   /* ROUNDPS ROUNDPD ROUNDSS ROUNDSD */
        int w = (opc & 1) ? 64 : 32;
        bool sc = opc >= 0x0a;
        if (!src_get(S, &s, sc ? w / 8 : 16, false, !sc)) {
            return false;
        }
        r = sc ? d : s;
        for (unsigned i = 0; i < (sc ? 1u : 128u / w); i++) {
            lane_set(&r, w, i, f_round(S, lane_get(&s, w, i), w, im));
        }
        if (!f_commit(S)) {
            return false;
        }
        xmm_set(env, S->reg, &r);
        return true;
    }
    default:
        break;
    }
    if (!src_get(S, &s, 16, false, opc < 0x60)) {
        return false;
    }
    switch (opc) {
    case 0x0c: for (unsigned i = 0; i < 4; i++) r.d[i] = (im >> i) & 1 ? s.d[i] : d.d[i]; break;
    case 0x0d: for (unsigned i = 0; i < 2; i++) r.q[i] = (im >> i) & 1 ? s.q[i] : d.q[i]; break;
    case 0x0e: for (unsigned i = 0; i < 8; i++) r.w[i] = (im >> i) & 1 ? s.w[i] : d.w[i]; break;
    case 0x40: case 0x41:
        if (!sse_dp(S, &d, &s, opc == 0x40 ? 32 : 64)) {
            return false;
        }
        r = d;
        break;
    case 0x42: {            /* MPSADBW */
        unsigned ao = ((im >> 2) & 1) * 4, bo = (im & 3) * 4;
        for (unsigned i = 0; i < 8; i++) {
            unsigned sum = 0;
            for (unsigned j = 0; j < 4; j++) {
                int x = d.b[ao + i + j] - s.b[bo + j];
                sum += (unsigned)(x < 0 ? -x : x);
            }
            r.w[i] = (uint16_t)sum;
        }
        break;
    }
    case 0x60: case 0x61: case 0x62: case 0x63: {   /* PCMPESTRM PCMPESTRI PCMPISTRM PCMPISTRI */
        bool words = im & 1;
        int la, lb;
        if (opc < 0x62) {
            la = str_len_explicit(env->regs[R_EAX], S->rexw);
            lb = str_len_explicit(env->regs[R_EDX], S->rexw);
        } else {
            la = str_len_implicit(&d, words);
            lb = str_len_implicit(&s, words);
        }
        unsigned res = pcmpstr(env, &d, &s, la, lb, im);
        unsigned n = words ? 8 : 16;
        if (opc & 1) {      /* index into ECX */
            unsigned idx = n;
            if (res) {
                idx = (im & 0x40) ? 31u - (unsigned)__builtin_clz(res)
                                  : (unsigned)__builtin_ctz(res);
            }
            env->regs[R_ECX] = idx;
            return true;
        }
        memset(&r, 0, sizeof(r));
        if (im & 0x40) {    /* the mask expanded to elements */
            for (unsigned i = 0; i < n; i++) {
                if (res & (1u << i)) {
                    memset(&r.b[i * (words ? 2 : 1)], 0xff, words ? 2 : 1);
                }
            }
        } else {
            r.q[0] = res;
        }
        xmm_set(env, 0, &r);
        return true;
    }
    default:
        return ud(S);
    }
    xmm_set(env, S->reg, &r);
    return true;
}

/* True for the forms that only need CR0.EM clear (MMX registers); the others also need
 * CR4.OSFXSR. */
static bool sse_is_mmx_form(const Sse *S)
{
    if (S->pfx != PFX_NONE) {
        return false;
    }
    if (S->map == 1) {
        return S->opc <= 0x0b || (S->opc >= 0x1c && S->opc <= 0x1e);
    }
    if (S->map == 2) {
        return S->opc == 0x0f;
    }
    return (S->opc >= 0x60 && S->opc <= 0x7f) || S->opc >= 0xd1 || S->opc == 0xc4 ||
           S->opc == 0xc5;
}

bool x86_sse_exec(X86Tcg *t, const TBOp *op, uint64_t la)
{
    CPUX86State *env = t->env;
    uint64_t im = (uint64_t)op->imm;
    Sse S = {
        .t = t, .env = env, .opc = im & 0xff, .map = (im >> 8) & 3, .pfx = (im >> 10) & 3,
        .imm8 = (im >> 16) & 0xff, .rexw = (im >> 24) & 1, .reg = op->rd, .rm = op->rs1,
        .osize = op->rs2, .la = la,
    };
    bool crc = S.map == 1 && (S.opc == 0xf0 || S.opc == 0xf1);
    if (!crc) {
        if ((env->cr[0] & X86_CR0_EM) ||
            (!sse_is_mmx_form(&S) && !(env->cr[4] & X86_CR4_OSFXSR))) {
            return ud(&S);
        }
        if (env->cr[0] & X86_CR0_TS) {
            x86_raise(t, EXCP_NM, false, 0);
            return false;
        }
    }
    switch (S.map) {
    case 0: return sse_0f(&S);
    case 1: return sse_0f38(&S);
    default: return sse_0f3a(&S);
    }
}
