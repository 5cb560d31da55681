/*
 * The x87 FPU for the x86 interpreter: 80-bit extended arithmetic in software.
 *
 * Values are unpacked to sign / exponent / 64-bit significand, computed exactly (or with a
 * sticky bit) in 128 bits and rounded once to the precision (FCW.PC) and rounding mode
 * (FCW.RC) in force, with the status word's exception flags, C1 round-up indication and
 * stack-fault rules. env->fx.st holds the registers in ST order (the FXSAVE layout): each
 * instruction works on a physical-order copy and writes it back. Unmasked exceptions set
 * ES/B and fault (#MF with CR0.NE) at the next waiting x87 instruction; the masked
 * response is always what is written. Transcendentals (F2XM1, FYL2X, FYL2XP1, FPTAN,
 * FPATAN, FSIN, FCOS, FSINCOS) go through the host's long double libm: correctly handled
 * special cases, results within the host library's accuracy.
 */
#include <math.h>
#include <string.h>
#include <glib.h>
#include "target/i386/internal.h"
#include "target/i386/ops.h"

typedef unsigned __int128 U128;

typedef struct F80 {
    uint64_t sig;
    uint16_t se;                 /* sign << 15 | biased exponent */
} F80;

/* Status word bits. */
enum {
    FE_IE = 1, FE_DE = 2, FE_ZE = 4, FE_OE = 8, FE_UE = 16, FE_PE = 32, FS_SF = 64,
    FS_ES = 0x80, FS_C0 = 0x100, FS_C1 = 0x200, FS_C2 = 0x400, FS_C3 = 0x4000,
    FS_B = 0x8000,
};

enum { K_ZERO, K_FIN, K_INF, K_QNAN, K_SNAN, K_BAD };

/* Unpacked: value = (-1)^s * m * 2^(e - 63), m normalised (bit 63 set) when finite. */
typedef struct U {
    int k;
    bool s;
    int32_t e;
    uint64_t m;
} U;

typedef struct Fpu {
    X86Tcg *t;
    CPUX86State *env;
    F80 r[8];                    /* physical registers */
    unsigned top;
    uint8_t tag;                 /* bit i: physical register i holds a value */
    uint16_t exc;                /* exception flags raised by this instruction */
    bool c1;                     /* rounded up (or stack overflow) */
} Fpu;

static const F80 f80_indefinite = { 0xc000000000000000ull, 0xffff };

/* ---- register stack ---- */

static void fpu_load(Fpu *F, X86Tcg *t)
{
    CPUX86State *env = t->env;
    F->t = t;
    F->env = env;
    F->top = (env->fx.fsw >> 11) & 7;
    F->tag = env->fx.ftw;
    F->exc = 0;
    F->c1 = false;
    for (unsigned i = 0; i < 8; i++) {
        F80 *r = &F->r[(F->top + i) & 7];
        memcpy(&r->sig, env->fx.st[i], 8);
        memcpy(&r->se, env->fx.st[i] + 8, 2);
    }
}

/* Writes the registers back; C1 from the instruction unless keep_cc. */
static void fpu_store(Fpu *F, bool set_c1)
{
    CPUX86State *env = F->env;
    for (unsigned i = 0; i < 8; i++) {
        const F80 *r = &F->r[(F->top + i) & 7];
        memset(env->fx.st[i], 0, 16);
        memcpy(env->fx.st[i], &r->sig, 8);
        memcpy(env->fx.st[i] + 8, &r->se, 2);
    }
    uint16_t sw = (env->fx.fsw & ~0x3800) | (uint16_t)(F->top << 11) | F->exc;
    if (set_c1) {
        sw = (sw & ~FS_C1) | (F->c1 ? FS_C1 : 0);
    }
    if (F->exc & ~env->fx.fcw & 0x3f) {
        sw |= FS_ES | FS_B;
    }
    env->fx.fsw = sw;
    env->fx.ftw = F->tag;
}

static unsigned phys(const Fpu *F, unsigned i)
{
    return (F->top + i) & 7;
}

static bool st_valid(const Fpu *F, unsigned i)
{
    return (F->tag >> phys(F, i)) & 1;
}

/* ST(i); an empty register is a stack underflow (#IS) and reads as the indefinite. */
static F80 st_get(Fpu *F, unsigned i)
{
    if (!st_valid(F, i)) {
        F->exc |= FE_IE | FS_SF;
        F->c1 = false;
        return f80_indefinite;
    }
    return F->r[phys(F, i)];
}

static void st_set(Fpu *F, unsigned i, F80 v)
{
    F->r[phys(F, i)] = v;
    F->tag |= 1u << phys(F, i);
}

static void fpu_push(Fpu *F, F80 v)
{
    F->top = (F->top - 1) & 7;
    if (st_valid(F, 0)) {
        F->exc |= FE_IE | FS_SF;   /* stack overflow */
        F->c1 = true;
        v = f80_indefinite;
    }
    st_set(F, 0, v);
}

static void fpu_pop(Fpu *F)
{
    F->tag &= ~(1u << phys(F, 0));
    F->top = (F->top + 1) & 7;
}

/* ---- unpack / round / pack ---- */

static U unpack(Fpu *F, F80 x)
{
    U u = { .s = x.se >> 15, .m = x.sig };
    unsigned E = x.se & 0x7fff;
    if (E == 0x7fff) {
        if (!(x.sig >> 63)) {
            u.k = K_BAD;
        } else if (!(x.sig << 1)) {
            u.k = K_INF;
        } else {
            u.k = (x.sig >> 62) & 1 ? K_QNAN : K_SNAN;
        }
    } else if (E == 0) {
        if (!x.sig) {
            u.k = K_ZERO;
        } else {
            /* denormal (or pseudo-denormal): the denormal-operand exception */
            F->exc |= FE_DE;
            int z = __builtin_clzll(x.sig);
            u.k = K_FIN;
            u.m = x.sig << z;
            u.e = -16382 - z;
        }
    } else if (!(x.sig >> 63)) {
        u.k = K_BAD;   /* unnormal */
    } else {
        u.k = K_FIN;
        u.e = (int32_t)E - 16383;
    }
    return u;
}

static U128 shr_jam(U128 x, unsigned n)
{
    if (n == 0) {
        return x;
    }
    if (n >= 128) {
        return x != 0;
    }
    return (x >> n) | ((x & (((U128)1 << n) - 1)) != 0);
}

/* Rounds (-1)^s * m * 2^(e - 127) (m has bit 127 set) to p significant bits of a format
 * with exponent bias and all-ones exponent emaxf; returns the biased exponent and the
 * significand (integer bit at bit p - 1), raising PE/UE/OE and setting c1. */
static uint32_t fpu_round(Fpu *F, bool s, int32_t e, U128 m, unsigned p, int32_t bias,
                          int32_t emaxf, uint64_t *sig)
{
    unsigned rc = (F->env->fx.fcw >> 10) & 3;
    unsigned drop = 128 - p;
    int32_t E = e + bias;
    U128 half = (U128)1 << (drop - 1), lowmask = ((U128)1 << drop) - 1;
    uint64_t pmask = p == 64 ? ~0ull : (1ull << p) - 1;
    bool denorm = E <= 0, tiny = denorm;
    if (E == 0) {
        /* tininess after rounding: rounding with an unbounded exponent may reach 2^emin */
        U128 r0 = m & lowmask;
        uint64_t q0 = (uint64_t)(m >> drop);
        bool up0 = rc == 0 ? (r0 > half || (r0 == half && (q0 & 1)))
                 : rc == 1 ? (s && r0) : rc == 2 ? (!s && r0) : false;
        if (up0 && q0 == pmask) {
            tiny = false;
        }
    }
    U128 x = denorm ? shr_jam(m, (unsigned)(1 - E)) : m;
    U128 rem = x & lowmask;
    uint64_t q = (uint64_t)(x >> drop);
    bool up;
    switch (rc) {
    case 0: up = rem > half || (rem == half && (q & 1)); break;
    case 1: up = s && rem; break;
    case 2: up = !s && rem; break;
    default: up = false; break;
    }
    if (rem) {
        F->exc |= FE_PE;
        F->c1 = up;
        if (tiny) {
            F->exc |= FE_UE;
        }
    } else if (tiny && !(F->env->fx.fcw & FE_UE)) {
        F->exc |= FE_UE;   /* an unmasked underflow reports exact tiny results too */
    }
    if (up) {
        if (q == pmask) {
            q = 1ull << (p - 1);
            E = denorm ? 1 : E + 1;
        } else {
            q++;
        }
    }
    if (denorm && (q >> (p - 1)) & 1) {
        E = 1;
    } else if (denorm) {
        E = 0;
    }
    if (E >= emaxf) {
        F->exc |= FE_OE | FE_PE;
        bool inf = rc == 0 || (rc == 2 && !s) || (rc == 1 && s);
        F->c1 = inf;
        if (inf) {
            *sig = emaxf == 0x7fff ? 1ull << 63 : 0;
            return (uint32_t)emaxf;
        }
        *sig = pmask;
        return (uint32_t)(emaxf - 1);
    }
    *sig = q;
    return (uint32_t)E;
}

static unsigned fpu_prec(const Fpu *F)
{
    static const uint8_t pc[4] = { 24, 64, 53, 64 };
    return pc[(F->env->fx.fcw >> 8) & 3];
}

static F80 make_inf(bool s)
{
    return (F80){ 1ull << 63, (uint16_t)(s << 15 | 0x7fff) };
}

static F80 make_zero(bool s)
{
    return (F80){ 0, (uint16_t)(s << 15) };
}

/* A finite result rounded to the stack's precision. */
static F80 pack_round(Fpu *F, bool s, int32_t e, U128 m)
{
    if (!m) {
        return (F80){ 0, (uint16_t)(s << 15) };
    }
    int z = (m >> 64) ? __builtin_clzll((uint64_t)(m >> 64)) : 64 + __builtin_clzll((uint64_t)m);
    m <<= z;
    e -= z;
    unsigned p = fpu_prec(F);
    uint64_t q;
    uint16_t exc0 = F->exc;
    bool c10 = F->c1;
    uint32_t E = fpu_round(F, s, e, m, p, 16383, 0x7fff, &q);
    uint16_t wrap = F->exc & ~exc0 & ~F->env->fx.fcw & (FE_OE | FE_UE);
    if (wrap) {
        /* unmasked overflow / underflow to a register: the exponent wrapped by 24576 (SDM
         * vol. 1 8.5.4, 8.5.5); still out of range (a huge FSCALE): infinity / zero */
        bool over = wrap & FE_OE;
        F->exc = exc0;
        F->c1 = c10;
        E = fpu_round(F, s, e + (over ? -24576 : 24576), m, p, 16383, 0x7fff, &q);
        if (over && (F->exc & FE_OE)) {
            F->exc |= FE_PE;
            F->c1 = true;
            return make_inf(s);
        }
        if (!over && E == 0) {
            F->exc |= FE_UE | FE_PE;
            F->c1 = false;
            return make_zero(s);
        }
        F->exc = (F->exc & ~FE_UE) | wrap;
    }
    if (E == 0x7fff) {
        return (F80){ 1ull << 63, (uint16_t)(s << 15 | 0x7fff) };
    }
    return (F80){ p == 64 ? q : q << (64 - p), (uint16_t)(s << 15 | E) };
}

/* A pseudo-denormal (exponent 0, integer bit set) as the equal normal value. */
static F80 canonical(F80 x)
{
    if (!(x.se & 0x7fff) && (x.sig >> 63)) {
        x.se |= 1;
    }
    return x;
}

/* NaN operands: #IA for SNaN/unsupported; the NaN with the larger significand, quietened. */
static bool nan_result(Fpu *F, const U *a, const U *b, F80 ra, F80 rb, F80 *out)
{
    bool an = a->k == K_QNAN || a->k == K_SNAN, bn = b && (b->k == K_QNAN || b->k == K_SNAN);
    if (a->k == K_BAD || (b && b->k == K_BAD)) {
        F->exc |= FE_IE;
        *out = f80_indefinite;
        return true;
    }
    if (!an && !bn) {
        return false;
    }
    F->exc &= ~FE_DE;   /* a NaN operand outranks a denormal one */
    if (F->exc & FS_SF) {
        *out = f80_indefinite;   /* an empty operand register: the indefinite, whatever else */
        return true;
    }
    if (a->k == K_SNAN || (b && b->k == K_SNAN)) {
        F->exc |= FE_IE;
    }
    F80 r;
    if (an && bn) {
        /* the larger significand; of equal ones, the positive NaN */
        r = (ra.sig << 1) > (rb.sig << 1) ? ra : (rb.sig << 1) > (ra.sig << 1) ? rb
          : (ra.se >> 15) ? rb : ra;
    } else {
        r = an ? ra : rb;
    }
    r.sig |= 1ull << 62;
    *out = r;
    return true;
}

/* ---- arithmetic ---- */

enum { OP_ADD, OP_MUL, OP_COM, OP_COMP, OP_SUB, OP_SUBR, OP_DIV, OP_DIVR };

static F80 f_add(Fpu *F, F80 ra, F80 rb, bool negb)
{
    U a = unpack(F, ra), b = unpack(F, rb);
    F80 r;
    if (nan_result(F, &a, &b, ra, rb, &r)) {
        return r;
    }
    b.s ^= negb;
    unsigned rc = (F->env->fx.fcw >> 10) & 3;
    if (a.k == K_INF || b.k == K_INF) {
        if (a.k == K_INF && b.k == K_INF && a.s != b.s) {
            F->exc |= FE_IE;
            return f80_indefinite;
        }
        return make_inf(a.k == K_INF ? a.s : b.s);
    }
    if (a.k == K_ZERO && b.k == K_ZERO) {
        return make_zero(a.s == b.s ? a.s : rc == 1);
    }
    if (a.k == K_ZERO) {
        return pack_round(F, b.s, b.e, (U128)b.m << 64);
    }
    if (b.k == K_ZERO) {
        return pack_round(F, a.s, a.e, (U128)a.m << 64);
    }
    /* value = M * 2^(e - 125) with two bits of headroom */
    if (a.e < b.e || (a.e == b.e && a.m < b.m)) {
        U t = a;
        a = b;
        b = t;
    }
    U128 ma = (U128)a.m << 62, mb = shr_jam((U128)b.m << 62, (unsigned)(a.e - b.e));
    U128 m = a.s == b.s ? ma + mb : ma - mb;
    if (!m) {
        return make_zero(rc == 1);
    }
    return pack_round(F, a.s, a.e + 2, m);
}

static F80 f_mul(Fpu *F, F80 ra, F80 rb)
{
    U a = unpack(F, ra), b = unpack(F, rb);
    F80 r;
    if (nan_result(F, &a, &b, ra, rb, &r)) {
        return r;
    }
    bool s = a.s ^ b.s;
    if ((a.k == K_INF && b.k == K_ZERO) || (a.k == K_ZERO && b.k == K_INF)) {
        F->exc |= FE_IE;
        return f80_indefinite;
    }
    if (a.k == K_INF || b.k == K_INF) {
        return make_inf(s);
    }
    if (a.k == K_ZERO || b.k == K_ZERO) {
        return make_zero(s);
    }
    /* a.m * b.m * 2^(a.e + b.e - 126) */
    return pack_round(F, s, a.e + b.e + 1, (U128)a.m * b.m);
}

static F80 f_div(Fpu *F, F80 ra, F80 rb)
{
    U a = unpack(F, ra), b = unpack(F, rb);
    F80 r;
    if (nan_result(F, &a, &b, ra, rb, &r)) {
        return r;
    }
    bool s = a.s ^ b.s;
    if ((a.k == K_INF && b.k == K_INF) || (a.k == K_ZERO && b.k == K_ZERO)) {
        F->exc |= FE_IE;
        return f80_indefinite;
    }
    if (a.k == K_INF) {
        return make_inf(s);
    }
    if (b.k == K_ZERO) {
        F->exc = (F->exc & ~FE_DE) | FE_ZE;   /* outranks a denormal dividend */
        return make_inf(s);
    }
    if (a.k == K_ZERO || b.k == K_INF) {
        return make_zero(s);
    }
    /* (a.m << 63) / b.m in 128 bits: quotient * 2^(a.e - b.e - 127) */
    U128 n = (U128)a.m << 63;
    uint64_t q1 = (uint64_t)(n / b.m);
    U128 r1 = n % b.m;
    uint64_t q2 = (uint64_t)((r1 << 64) / b.m);
    bool sticky = ((r1 << 64) % b.m) != 0;
    U128 q = ((U128)q1 << 64) | q2 | sticky;
    return pack_round(F, s, a.e - b.e, q);
}

static uint64_t isqrt128(U128 x)
{
    uint64_t r = 0;
    for (int bit = 63; bit >= 0; bit--) {
        uint64_t c = r | (1ull << bit);
        if ((U128)c * c <= x) {
            r = c;
        }
    }
    return r;
}

static F80 f_sqrt(Fpu *F, F80 ra)
{
    U a = unpack(F, ra);
    F80 r;
    if (nan_result(F, &a, NULL, ra, ra, &r)) {
        return r;
    }
    if (a.k == K_ZERO) {
        return ra;
    }
    if (a.s) {
        F->exc |= FE_IE;
        return f80_indefinite;
    }
    if (a.k == K_INF) {
        return ra;
    }
    /* sqrt(m * 2^k) * 2^((e - 63 - k) / 2) with e - 63 - k even */
    unsigned k = ((a.e - 63) & 1) ? 63 : 64;
    U128 M = (U128)a.m << k;
    uint64_t root = isqrt128(M);
    U128 rem = M - (U128)root * root;
    U128 m = ((U128)root << 64) | (rem > root ? 1ull << 63 : 0) | (rem != 0);
    return pack_round(F, false, (a.e - 63 - (int32_t)k) / 2 + 63, m);
}

/* Compare: 0 less, 1 equal, 2 greater, 3 unordered (raises #IA for SNaN, or for any NaN
 * when signaling). */
static int f_cmp(Fpu *F, F80 ra, F80 rb, bool signaling)
{
    U a = unpack(F, ra), b = unpack(F, rb);
    bool un = a.k >= K_QNAN || b.k >= K_QNAN;
    if (un) {
        F->exc &= ~FE_DE;   /* a NaN or unsupported operand outranks a denormal one */
        if (signaling || a.k == K_SNAN || b.k == K_SNAN || a.k == K_BAD || b.k == K_BAD) {
            F->exc |= FE_IE;
        }
        return 3;
    }
    if (a.k == K_ZERO && b.k == K_ZERO) {
        return 1;
    }
    int sa = a.k == K_ZERO ? 0 : a.s ? -1 : 1, sb = b.k == K_ZERO ? 0 : b.s ? -1 : 1;
    if (sa != sb) {
        return sa < sb ? 0 : 2;
    }
    int mag;   /* |a| vs |b| */
    if (a.k == K_INF || b.k == K_INF) {
        mag = (a.k == K_INF) - (b.k == K_INF);
    } else if (a.e != b.e) {
        mag = a.e < b.e ? -1 : 1;
    } else {
        mag = a.m < b.m ? -1 : a.m > b.m;
    }
    if (a.s) {
        mag = -mag;
    }
    return mag < 0 ? 0 : mag == 0 ? 1 : 2;
}

static void set_cc(Fpu *F, int c)
{
    static const uint16_t cc[4] = { FS_C0, FS_C3, 0, FS_C0 | FS_C2 | FS_C3 };
    F->env->fx.fsw = (F->env->fx.fsw & ~(FS_C0 | FS_C2 | FS_C3)) | cc[c];
}

static void set_eflags(Fpu *F, int c)
{
    static const uint64_t fl[4] = { X86_FLAG_CF, X86_FLAG_ZF, 0,
                                    X86_FLAG_ZF | X86_FLAG_PF | X86_FLAG_CF };
    uint64_t m = X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF | X86_FLAG_SF |
                 X86_FLAG_OF;
    F->env->rflags = (F->env->rflags & ~m) | fl[c];
}

static F80 f_arith(Fpu *F, unsigned op, F80 a, F80 b)
{
    switch (op) {
    case OP_ADD: return f_add(F, a, b, false);
    case OP_MUL: return f_mul(F, a, b);
    case OP_SUB: return f_add(F, a, b, true);
    case OP_SUBR: return f_add(F, b, a, true);
    case OP_DIV: return f_div(F, a, b);
    default: return f_div(F, b, a);
    }
}

/* ---- conversions ---- */

static F80 from_int(Fpu *F, int64_t v)
{
    if (!v) {
        return make_zero(false);
    }
    bool s = v < 0;
    uint64_t mag = s ? -(uint64_t)v : (uint64_t)v;
    int z = __builtin_clzll(mag);
    return (F80){ mag << z, (uint16_t)(s << 15 | (16383 + 63 - z)) };
}

/* binary32/64 (w bits) to extended: exact; SNaN is quietened with #IA. */
static F80 from_float(Fpu *F, uint64_t x, int w)
{
    int mb = w == 32 ? 23 : 52, bias = w == 32 ? 127 : 1023, emax = w == 32 ? 255 : 2047;
    bool s = (x >> (w - 1)) & 1;
    int E = (int)((x >> mb) & (uint64_t)emax);
    uint64_t frac = x & ((1ull << mb) - 1);
    if (E == emax) {
        if (!frac) {
            return make_inf(s);
        }
        if (!(frac >> (mb - 1))) {
            F->exc |= FE_IE;
        }
        return (F80){ (1ull << 63) | (1ull << 62) | (frac << (63 - mb)),
                      (uint16_t)(s << 15 | 0x7fff) };
    }
    if (E == 0) {
        if (!frac) {
            return make_zero(s);
        }
        F->exc |= FE_DE;
        int z = __builtin_clzll(frac);
        return (F80){ frac << z, (uint16_t)(s << 15 | (16383 - bias + 1 + 63 - mb - z)) };
    }
    return (F80){ (1ull << 63) | (frac << (63 - mb)),
                  (uint16_t)(s << 15 | (E - bias + 16383)) };
}

/* Extended to binary32/64, rounded by FCW.RC. */
static uint64_t to_float(Fpu *F, F80 x, int w)
{
    int mb = w == 32 ? 23 : 52, bias = w == 32 ? 127 : 1023, emax = w == 32 ? 255 : 2047;
    uint16_t de = F->exc & FE_DE;
    U u = unpack(F, x);
    F->exc = (F->exc & ~FE_DE) | de;   /* FST m32/m64 never reports a denormal operand */
    uint64_t sbit = (uint64_t)u.s << (w - 1), inf = (uint64_t)emax << mb;
    switch (u.k) {
    case K_ZERO: return sbit;
    case K_INF: return sbit | inf;
    case K_BAD:
        F->exc |= FE_IE;
        return sbit | inf | (1ull << (mb - 1)) | (1ull << (w - 1));
    case K_SNAN:
    case K_QNAN:
        if (u.k == K_SNAN) {
            F->exc |= FE_IE;
        }
        return sbit | inf | (1ull << (mb - 1)) | ((x.sig << 1) >> (64 - mb));
    default: {
        uint64_t q;
        uint32_t E = fpu_round(F, u.s, u.e, (U128)u.m << 64, (unsigned)mb + 1, bias, emax, &q);
        return sbit | ((uint64_t)E << mb) | (q & ((1ull << mb) - 1));
    }
    }
}

/* Extended to a signed integer of size bytes, rounded by rc; #IA and the integer indefinite
 * when out of range. */
static uint64_t to_int(Fpu *F, F80 x, unsigned size, unsigned rc)
{
    uint16_t de = F->exc & FE_DE;
    U u = unpack(F, x);
    F->exc = (F->exc & ~FE_DE) | de;   /* FIST(T)P never reports a denormal operand */
    uint64_t indef = 1ull << (size * 8 - 1);
    if (u.k == K_ZERO) {
        return 0;
    }
    if (u.k != K_FIN || u.e >= 64) {
        F->exc |= FE_IE;
        return indef;
    }
    uint64_t ip;
    U128 fr;                      /* the fraction, scaled to 2^64 (bit 63: one half) */
    bool sticky = false;
    if (u.e >= 0) {
        unsigned sh = 63 - (unsigned)u.e;
        ip = sh ? u.m >> sh : u.m;
        fr = sh ? (U128)(u.m << (64 - sh)) : 0;
    } else {
        ip = 0;
        unsigned sh = (unsigned)(-u.e - 1);   /* value = m * 2^-(64 + sh) */
        fr = sh >= 64 ? 0 : (U128)(u.m >> sh);
        sticky = sh >= 64 ? true : (u.m & ((1ull << sh) - 1)) != 0;
    }
    uint64_t f = (uint64_t)fr;
    bool inexact = f || sticky;
    bool up;
    switch (rc) {
    case 0: up = f > (1ull << 63) || (f == (1ull << 63) && (sticky || (ip & 1))); break;
    case 1: up = u.s && inexact; break;
    case 2: up = !u.s && inexact; break;
    default: up = false; break;
    }
    if (up) {
        ip++;
        if (!ip) {
            F->exc |= FE_IE;
            return indef;
        }
    }
    uint64_t lim = indef;         /* magnitude limit: 2^(bits-1) for negatives */
    if ((u.s && ip > lim) || (!u.s && ip >= lim)) {
        F->exc |= FE_IE;
        return indef;
    }
    if (inexact) {
        F->exc |= FE_PE;
        F->c1 = up;
    }
    uint64_t v = u.s ? -ip : ip;
    return size == 8 ? v : v & ((1ull << (size * 8)) - 1);
}

/* Extended to the host's long double and back, for the transcendental functions. */
static long double to_ld(F80 x)
{
    int E = x.se & 0x7fff;
    bool s = x.se >> 15;
    if (E == 0x7fff) {
        return (x.sig << 1) ? (long double)NAN : s ? -(long double)INFINITY
                                                     : (long double)INFINITY;
    }
    long double v = ldexpl((long double)x.sig, (E ? E : 1) - 16383 - 63);
    return s ? -v : v;
}

static F80 from_ld(Fpu *F, long double v)
{
    if (isnan(v)) {
        F->exc |= FE_IE;
        return f80_indefinite;
    }
    if (isinf(v)) {
        return make_inf(signbit(v));
    }
    if (v == 0) {
        return make_zero(signbit(v));
    }
    bool s = v < 0;
    int ex;
    long double fr = frexpl(s ? -v : v, &ex);        /* fr in [0.5, 1) */
    long double hi = ldexpl(fr, 64);
    uint64_t m = (uint64_t)hi;
    bool sticky = hi - (long double)m != 0;
    F->exc |= FE_PE;
    return pack_round(F, s, ex - 1, ((U128)m << 64) | sticky);
}

/* ---- environment images ---- */

static unsigned full_tag(Fpu *F, unsigned p)
{
    if (!((F->tag >> p) & 1)) {
        return 3;
    }
    F80 x = F->r[p];
    unsigned E = x.se & 0x7fff;
    if (E == 0 && !x.sig) {
        return 1;
    }
    if (E == 0x7fff || E == 0 || !(x.sig >> 63)) {
        return 2;
    }
    return 0;
}

/* FNSTENV/FLDENV image (protected-mode layout; 14 bytes with a 16-bit operand size). */
static bool env_store(Fpu *F, uint64_t la, bool o16)
{
    CPUX86State *env = F->env;
    uint32_t tw = 0;
    for (unsigned p = 0; p < 8; p++) {
        tw |= full_tag(F, p) << (2 * p);
    }
    uint32_t w[7] = {
        env->fx.fcw, (env->fx.fsw & ~0x3800u) | (F->top << 11), tw, (uint32_t)env->fx.fip,
        (uint32_t)(env->fx.fop & 0x7ff) << 16 | env->segs[R_CS].selector,
        (uint32_t)env->fx.fdp, env->segs[R_DS].selector,
    };
    unsigned sz = o16 ? 2 : 4;
    for (unsigned i = 0; i < 7; i++) {
        if (!x86_store_slow(F->t, la + i * sz, sz, w[i], F->t->mmu_idx)) {
            return false;
        }
    }
    return true;
}

static bool env_load(Fpu *F, uint64_t la, bool o16)
{
    CPUX86State *env = F->env;
    uint64_t w[7];
    unsigned sz = o16 ? 2 : 4;
    for (unsigned i = 0; i < 7; i++) {
        if (!x86_load_slow(F->t, la + i * sz, sz, &w[i], F->t->mmu_idx)) {
            return false;
        }
    }
    env->fx.fcw = (uint16_t)w[0];
    env->fx.fsw = (uint16_t)w[1];
    F->top = (w[1] >> 11) & 7;
    F->tag = 0;
    for (unsigned p = 0; p < 8; p++) {
        if (((w[2] >> (2 * p)) & 3) != 3) {
            F->tag |= 1u << p;
        }
    }
    env->fx.fip = (uint32_t)w[3];
    env->fx.fop = (uint16_t)((w[4] >> 16) & 0x7ff);
    env->fx.fdp = (uint32_t)w[5];
    return true;
}

static bool ld80(Fpu *F, uint64_t la, F80 *v)
{
    uint64_t se;
    return x86_load_slow(F->t, la, 8, &v->sig, F->t->mmu_idx) &&
           x86_load_slow(F->t, la + 8, 2, &se, F->t->mmu_idx) && ((v->se = (uint16_t)se), true);
}

static bool st80(Fpu *F, uint64_t la, F80 v)
{
    return x86_store_slow(F->t, la, 8, v.sig, F->t->mmu_idx) &&
           x86_store_slow(F->t, la + 8, 2, v.se, F->t->mmu_idx);
}

static void fninit(CPUX86State *env)
{
    env->fx.fcw = 0x37f;
    env->fx.fsw = 0;
    env->fx.ftw = 0;
    env->fx.fop = 0;
    env->fx.fip = 0;
    env->fx.fdp = 0;
}

static F80 constant(Fpu *F, unsigned which)
{
    /* 1, log2(10), log2(e), pi, log10(2), ln(2): 128-bit significands and exponents */
    static const struct { uint64_t hi, lo; int32_t e; } k[6] = {
        { 0x8000000000000000ull, 0, 0 },
        { 0xd49a784bcd1b8afeull, 0x492bf6ff4dafdb4dull, 1 },
        { 0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e89ull, 0 },
        { 0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, 1 },
        { 0x9a209a84fbcff798ull, 0x8f8959ac0b7c9178ull, -2 },
        { 0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, -1 },
    };
    uint16_t fcw = F->env->fx.fcw, exc = F->exc;
    F->env->fx.fcw |= 0x300;   /* constants round to 64 bits whatever PC says */
    F80 r = pack_round(F, false, k[which].e, ((U128)k[which].hi << 64) | k[which].lo);
    F->env->fx.fcw = fcw;
    F->exc = exc;              /* and raise no precision exception */
    return r;
}

/* ---- the instruction ---- */

/* Memory operand of the arithmetic group: m32fp, m32int, m64fp, m16int by opcode. */
static bool load_arith_operand(Fpu *F, unsigned opc, uint64_t la, F80 *v)
{
    uint64_t x;
    switch (opc) {
    case 0: if (!x86_load_slow(F->t, la, 4, &x, F->t->mmu_idx)) return false;
        *v = from_float(F, x, 32); return true;
    case 2: if (!x86_load_slow(F->t, la, 4, &x, F->t->mmu_idx)) return false;
        *v = from_int(F, (int32_t)x); return true;
    case 4: if (!x86_load_slow(F->t, la, 8, &x, F->t->mmu_idx)) return false;
        *v = from_float(F, x, 64); return true;
    default: if (!x86_load_slow(F->t, la, 2, &x, F->t->mmu_idx)) return false;
        *v = from_int(F, (int16_t)x); return true;
    }
}

static bool fpu_mem(Fpu *F, unsigned opc, unsigned reg, uint64_t la, unsigned osize)
{
    X86Tcg *t = F->t;
    CPUX86State *env = F->env;
    unsigned mi = t->mmu_idx;
    uint64_t x;
    F80 v;
    if (!(opc & 1)) {               /* D8 DA DC DE: arithmetic with a memory operand */
        if (!load_arith_operand(F, opc, la, &v)) {
            return false;
        }
        F80 a = st_get(F, 0);
        if (reg == OP_COM || reg == OP_COMP) {
            set_cc(F, f_cmp(F, a, v, true));
            if (reg == OP_COMP) {
                fpu_pop(F);
            }
            return true;
        }
        st_set(F, 0, f_arith(F, reg, a, v));
        return true;
    }
    switch (opc << 3 | reg) {
    case 1 << 3 | 0: /* FLD m32fp */
        if (!x86_load_slow(t, la, 4, &x, mi)) return false;
        fpu_push(F, from_float(F, x, 32));
        return true;
    case 5 << 3 | 0: /* FLD m64fp */
        if (!x86_load_slow(t, la, 8, &x, mi)) return false;
        fpu_push(F, from_float(F, x, 64));
        return true;
    case 3 << 3 | 5: /* FLD m80fp */
        if (!ld80(F, la, &v)) return false;
        fpu_push(F, v);
        return true;
    case 3 << 3 | 0: /* FILD m32int */
        if (!x86_load_slow(t, la, 4, &x, mi)) return false;
        fpu_push(F, from_int(F, (int32_t)x));
        return true;
    case 7 << 3 | 0: /* FILD m16int */
        if (!x86_load_slow(t, la, 2, &x, mi)) return false;
        fpu_push(F, from_int(F, (int16_t)x));
        return true;
    case 7 << 3 | 5: /* FILD m64int */
        if (!x86_load_slow(t, la, 8, &x, mi)) return false;
        fpu_push(F, from_int(F, (int64_t)x));
        return true;
    case 1 << 3 | 2: case 1 << 3 | 3:   /* FST(P) m32fp */
    case 5 << 3 | 2: case 5 << 3 | 3: { /* FST(P) m64fp */
        unsigned w = opc == 1 ? 32 : 64;
        x = to_float(F, st_get(F, 0), (int)w);
        if (F->exc & ~env->fx.fcw & (FE_IE | FE_OE | FE_UE)) {
            /* unmasked: nothing stored or popped, no #P reported, C1 clear */
            F->exc &= ~FE_PE;
            F->c1 = false;
            return true;
        }
        if (!x86_store_slow(t, la, w / 8, x, mi)) return false;
        if (reg == 3) fpu_pop(F);
        return true;
    }
    case 3 << 3 | 7: /* FSTP m80fp */
        if (!st80(F, la, st_get(F, 0))) return false;
        fpu_pop(F);
        return true;
    case 3 << 3 | 1: case 3 << 3 | 2: case 3 << 3 | 3:   /* FISTTP/FIST/FISTP m32 */
    case 7 << 3 | 1: case 7 << 3 | 2: case 7 << 3 | 3:   /* ... m16 */
    case 5 << 3 | 1: case 7 << 3 | 7: {                  /* FISTTP m64, FISTP m64 */
        unsigned size = opc == 3 ? 4 : (opc == 5 || reg == 7) ? 8 : 2;
        unsigned rc = reg == 1 ? 3 : (env->fx.fcw >> 10) & 3;
        x = to_int(F, st_get(F, 0), size, rc);
        if (F->exc & ~env->fx.fcw & FE_IE) {
            return true;   /* unmasked: nothing is stored and nothing popped */
        }
        if (!x86_store_slow(t, la, size, x, mi)) return false;
        if (reg != 2) fpu_pop(F);
        return true;
    }
    case 1 << 3 | 4: /* FLDENV */
        return env_load(F, la, osize == 2);
    case 1 << 3 | 6: /* FNSTENV: also masks every exception */
        if (!env_store(F, la, osize == 2)) return false;
        env->fx.fcw |= 0x3f;
        return true;
    case 5 << 3 | 4: { /* FRSTOR */
        unsigned esz = osize == 2 ? 14 : 28;
        F80 regs[8];
        for (unsigned i = 0; i < 8; i++) {
            if (!ld80(F, la + esz + 10 * i, &regs[i])) return false;
        }
        if (!env_load(F, la, osize == 2)) return false;
        for (unsigned i = 0; i < 8; i++) {
            F->r[phys(F, i)] = regs[i];
        }
        return true;
    }
    case 5 << 3 | 6: { /* FNSAVE, then FNINIT */
        unsigned esz = osize == 2 ? 14 : 28;
        if (!env_store(F, la, osize == 2)) return false;
        for (unsigned i = 0; i < 8; i++) {
            if (!st80(F, la + esz + 10 * i, F->r[phys(F, i)])) return false;
        }
        fninit(env);
        F->top = 0;
        F->tag = 0;
        return true;
    }
    case 1 << 3 | 5: /* FLDCW */
        if (!x86_load_slow(t, la, 2, &x, mi)) return false;
        env->fx.fcw = (uint16_t)x;
        return true;
    case 1 << 3 | 7: /* FNSTCW */
        return x86_store_slow(t, la, 2, env->fx.fcw, mi);
    case 5 << 3 | 7: /* FNSTSW m16 */
        return x86_store_slow(t, la, 2, (env->fx.fsw & ~0x3800u) | (F->top << 11), mi);
    default:         /* FBLD, FBSTP and the reserved slots */
        x86_raise(t, EXCP_UD, false, 0);
        return false;
    }
}

/* FCMOVcc conditions (DA: B E BE U, DB: the negations). */
static bool fcmov_cond(const CPUX86State *env, unsigned reg)
{
    uint64_t f = env->rflags;
    switch (reg & 3) {
    case 0: return f & X86_FLAG_CF;
    case 1: return f & X86_FLAG_ZF;
    case 2: return f & (X86_FLAG_CF | X86_FLAG_ZF);
    default: return f & X86_FLAG_PF;
    }
}

static bool fpu_reg(Fpu *F, unsigned opc, unsigned reg, unsigned i)
{
    CPUX86State *env = F->env;
    F80 a, b;
    switch (opc) {
    case 0: case 4: case 6:        /* D8: ST0 op STi; DC: STi op ST0; DE: ... and pop */
        a = st_get(F, 0);
        b = st_get(F, i);
        if (reg == OP_COM || reg == OP_COMP) {
            if (opc == 6 && !(reg == OP_COMP && i == 1)) {
                break;
            }
            set_cc(F, f_cmp(F, a, b, true));
            if (reg == OP_COMP) {
                fpu_pop(F);
            }
            if (opc == 6) {
                fpu_pop(F);           /* FCOMPP */
            }
            return true;
        }
        if (opc == 0) {
            st_set(F, 0, f_arith(F, reg, a, b));
        } else {
            /* DC/DE: the destination is ST(i) and SUB/SUBR, DIV/DIVR swap roles */
            unsigned r2 = reg >= 4 ? reg ^ 1 : reg;
            st_set(F, i, f_arith(F, r2, b, a));
            if (opc == 6) {
                fpu_pop(F);
            }
        }
        return true;
    case 1:
        switch (reg) {
        case 0:                       /* FLD ST(i) */
            a = st_get(F, i);
            fpu_push(F, a);
            return true;
        case 1:                       /* FXCH */
            a = st_get(F, 0);
            b = st_get(F, i);
            st_set(F, 0, b);
            st_set(F, i, a);
            return true;
        case 2:
            if (i == 0) {
                return true;          /* FNOP */
            }
            break;
        case 4:
            /* FCHS and FABS of an empty register: the indefinite as it is */
            a = st_get(F, 0);
            bool empty = !st_valid(F, 0);
            switch (i) {
            case 0: a.se ^= empty ? 0 : 0x8000; st_set(F, 0, a); return true;   /* FCHS */
            case 1: a.se &= empty ? 0xffff : 0x7fff; st_set(F, 0, a); return true; /* FABS */
            case 4:                                                 /* FTST */
                set_cc(F, f_cmp(F, a, make_zero(false), true));
                return true;
            case 5: {                                               /* FXAM */
                uint16_t c;
                if (!st_valid(F, 0)) {
                    c = FS_C3 | FS_C0;
                } else {
                    U u = unpack(F, a);
                    F->exc &= ~FE_DE;
                    static const uint16_t cls[6] = { FS_C3, FS_C2, FS_C2 | FS_C0, FS_C0,
                                                     FS_C0, 0 };
                    c = cls[u.k];
                    if (u.k == K_FIN && !(a.se & 0x7fff)) {
                        c = FS_C3 | FS_C2;   /* denormal */
                    }
                }
                F->exc &= ~(FE_IE | FS_SF);
                env->fx.fsw = (env->fx.fsw & ~(FS_C0 | FS_C2 | FS_C3)) | c;
                F->c1 = F->r[phys(F, 0)].se >> 15;   /* the sign, of an empty register too */
                return true;
            }
            default:
                break;
            }
            break;
        case 5:                       /* FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ */
            if (i < 6) {
                fpu_push(F, constant(F, i));
                return true;
            }
            if (i == 6) {
                fpu_push(F, make_zero(false));
                return true;
            }
            break;
        case 6: case 7:
            return false;             /* handled by fpu_special */
        default:
            break;
        }
        break;
    case 2: case 3:
        if (reg < 4) {                /* FCMOVcc */
            bool c = fcmov_cond(env, reg);
            if (opc == 3) {
                c = !c;
            }
            bool underflow = !st_valid(F, i);
            a = st_get(F, i);
            if (c || underflow) {
                st_set(F, 0, a);   /* an empty source gives the indefinite either way */
            }
            return true;
        }
        if (opc == 2 && reg == 5 && i == 1) {   /* FUCOMPP */
            set_cc(F, f_cmp(F, st_get(F, 0), st_get(F, 1), false));
            fpu_pop(F);
            fpu_pop(F);
            return true;
        }
        if (opc == 3 && reg == 4) {
            switch (i) {
            case 2: env->fx.fsw &= 0x7f00; F->exc = 0; return true;   /* FNCLEX */
            case 3: fninit(env); F->top = 0; F->tag = 0; return true; /* FNINIT */
            case 0: case 1: case 4: return true;   /* FENI FDISI FSETPM: no-ops */
            default: break;
            }
        }
        if (opc == 3 && (reg == 5 || reg == 6)) {   /* FUCOMI FCOMI */
            set_eflags(F, f_cmp(F, st_get(F, 0), st_get(F, i), reg == 6));
            return true;
        }
        break;
    case 5:
        switch (reg) {
        case 0: F->tag &= ~(1u << phys(F, i)); return true;          /* FFREE */
        case 2: case 3:                                              /* FST(P) ST(i) */
            a = st_get(F, 0);
            st_set(F, i, a);
            if (reg == 3) {
                fpu_pop(F);
            }
            return true;
        case 4: case 5:                                              /* FUCOM(P) */
            set_cc(F, f_cmp(F, st_get(F, 0), st_get(F, i), false));
            if (reg == 5) {
                fpu_pop(F);
            }
            return true;
        default:
            break;
        }
        break;
    case 7:
        if (reg == 4 && i == 0) {                                    /* FNSTSW AX */
            uint64_t sw = (env->fx.fsw & ~0x3800u) | (F->top << 11);
            env->regs[R_EAX] = (env->regs[R_EAX] & ~0xffffull) | sw;
            return true;
        }
        if (reg == 5 || reg == 6) {                                  /* FUCOMIP FCOMIP */
            set_eflags(F, f_cmp(F, st_get(F, 0), st_get(F, i), reg == 6));
            fpu_pop(F);
            return true;
        }
        break;
    default:
        break;
    }
    x86_raise(F->t, EXCP_UD, false, 0);
    return false;
}

/* D9 F0..FF: the arithmetic and transcendental specials. */
/* FPREM (i 8) and FPREM1 (i 5) of ST0 = a (unpacked u) by ST1. */
static bool fprem(Fpu *F, unsigned i, F80 a, U u)
{
    CPUX86State *env = F->env;
    F80 b = st_get(F, 1);
    U v = unpack(F, b);
    if (u.k == K_ZERO && v.k == K_FIN) {
        /* a zero by a finite divisor is its own remainder, with quotient 0 */
        F->c1 = false;
        env->fx.fsw &= ~(FS_C0 | FS_C2 | FS_C3);
        return true;
    }
    if (u.k != K_FIN || v.k != K_FIN) {
        F80 r;
        if (nan_result(F, &u, &v, a, b, &r)) {
            st_set(F, 0, r);
        } else if (u.k == K_INF || v.k == K_ZERO) {
            F->exc |= FE_IE;
            st_set(F, 0, f80_indefinite);
        } else {
            /* a zero or finite a by infinity: a (a pseudo-denormal made normal), quotient 0 */
            if (u.k == K_FIN) {
                st_set(F, 0, canonical(a));
            }
            F->c1 = false;
            env->fx.fsw &= ~(FS_C0 | FS_C2 | FS_C3);
            return true;
        }
        env->fx.fsw &= ~FS_C2;   /* C0 and C3 stay as they were */
        return true;
    }
    int32_t d = u.e - v.e;
    if (d < -1 || (d == -1 && i == 8)) {
        /* |a| < |b| (FPREM) or |a| < |b|/2 (FPREM1): a is the remainder */
        st_set(F, 0, canonical(a));
        F->c1 = false;
        env->fx.fsw &= ~(FS_C0 | FS_C2 | FS_C3);
        return true;
    }
    if (d >= 64) {
        /* partial remainder, C2 set: the exponent difference drops to N = 32 + d % 32,
         * a - b * 2^(d - N) * trunc(a / (b * 2^(d - N))) */
        int32_t nn = (d & 31) | 32, ve = v.e + (d - nn);
        U128 r = ((U128)u.m << (nn + 1)) % ((U128)v.m << 1);
        st_set(F, 0, r ? pack_round(F, u.s, ve + 63, r) : make_zero(u.s));
        env->fx.fsw = (env->fx.fsw & ~(FS_C0 | FS_C3)) | FS_C2;
        return true;
    }
    /* a = u.m * 2^(v.e - 64 + d + 1 - 63 ...): both scaled to 2^(v.e - 64) */
    U128 n = (U128)u.m << (d + 1), dv = (U128)v.m << 1;
    uint64_t q = (uint64_t)(n / dv);
    U128 r = n % dv;
    bool s = u.s;
    if (i == 5 && ((r << 1) > dv || ((r << 1) == dv && (q & 1)))) {
        r = dv - r;
        q++;
        s = !s;
    }
    F->c1 = q & 1;
    env->fx.fsw = (env->fx.fsw & ~(FS_C0 | FS_C2 | FS_C3)) |
                  ((q & 4) ? FS_C0 : 0) | ((q & 2) ? FS_C3 : 0);
    /* the remainder is r * 2^(v.e - 64) */
    st_set(F, 0, r ? pack_round(F, s, v.e + 63, r) : make_zero(u.s));
    return true;
}

static bool fpu_special(Fpu *F, unsigned i)
{
    CPUX86State *env = F->env;
    F80 a = st_get(F, 0), b;
    U u = unpack(F, a);
    long double x = to_ld(a), y;
    switch (i) {
    case 0:   /* F2XM1 */
        st_set(F, 0, u.k == K_FIN ? from_ld(F, expm1l(x * 0.693147180559945309417232121458L))
                                  : a);
        return true;
    case 1: case 9:   /* FYL2X, FYL2XP1 */
        b = st_get(F, 1);
        y = to_ld(b) * (i == 1 ? log2l(x) : log1pl(x) / 0.693147180559945309417232121458L);
        if (i == 1 && u.k == K_ZERO) {
            F->exc |= FE_ZE;
        }
        fpu_pop(F);
        st_set(F, 0, from_ld(F, y));
        return true;
    case 2:   /* FPTAN */
        if (u.k == K_FIN && u.e >= 63) {
            env->fx.fsw |= FS_C2;
            return true;
        }
        env->fx.fsw &= ~FS_C2;
        st_set(F, 0, u.k == K_ZERO ? a : from_ld(F, tanl(x)));
        fpu_push(F, constant(F, 0));
        return true;
    case 3:   /* FPATAN */
        b = st_get(F, 1);
        fpu_pop(F);
        st_set(F, 0, from_ld(F, atan2l(to_ld(b), x)));
        return true;
    case 4: { /* FXTRACT */
        if (u.k != K_FIN) {
            F80 r;
            if (u.k == K_ZERO) {
                F->exc |= FE_ZE;
                st_set(F, 0, make_inf(true));
                fpu_push(F, a);
            } else if (u.k == K_INF) {
                st_set(F, 0, make_inf(false));
                fpu_push(F, a);
            } else {
                /* a NaN (or unsupported operand) becomes both the exponent and significand */
                nan_result(F, &u, NULL, a, a, &r);
                st_set(F, 0, r);
                fpu_push(F, r);
            }
            return true;
        }
        st_set(F, 0, from_int(F, u.e));
        fpu_push(F, (F80){ u.m, (uint16_t)(u.s << 15 | 16383) });
        return true;
    }
    case 5: case 8: { /* FPREM1, FPREM: exact, so rounded to 64 bits whatever PC says */
        uint16_t fcw = env->fx.fcw;
        env->fx.fcw |= 0x300;
        bool ok = fprem(F, i, a, u);
        env->fx.fcw = fcw;
        return ok;
    }
    case 6: F->top = (F->top - 1) & 7; return true;   /* FDECSTP */
    case 7: F->top = (F->top + 1) & 7; return true;   /* FINCSTP */
    case 10: st_set(F, 0, f_sqrt(F, a)); return true; /* FSQRT */
    case 11: case 14: case 15: /* FSINCOS FSIN FCOS */
        if (u.k == K_FIN && u.e >= 63) {
            env->fx.fsw |= FS_C2;
            return true;
        }
        env->fx.fsw &= ~FS_C2;
        if (u.k == K_INF) {
            F->exc |= FE_IE;
            st_set(F, 0, f80_indefinite);
            return true;
        }
        if (i == 11) {
            st_set(F, 0, u.k == K_ZERO ? a : from_ld(F, sinl(x)));
            fpu_push(F, u.k == K_ZERO ? constant(F, 0) : from_ld(F, cosl(x)));
        } else if (i == 14) {
            st_set(F, 0, u.k == K_ZERO ? a : from_ld(F, sinl(x)));
        } else {
            st_set(F, 0, u.k == K_ZERO ? constant(F, 0) : from_ld(F, cosl(x)));
        }
        return true;
    case 12: { /* FRNDINT */
        if (u.k != K_FIN || u.e >= 63) {
            F80 r;
            st_set(F, 0, nan_result(F, &u, NULL, a, a, &r) ? r : a);
            return true;
        }
        uint64_t iv = to_int(F, a, 8, (env->fx.fcw >> 10) & 3);
        st_set(F, 0, iv ? from_int(F, (int64_t)iv) : make_zero(u.s));
        return true;
    }
    default: { /* 13: FSCALE */
        b = st_get(F, 1);
        U v = unpack(F, b);
        F80 r;
        if (nan_result(F, &u, &v, a, b, &r)) {
            st_set(F, 0, r);
            return true;
        }
        if (u.k != K_FIN || v.k == K_ZERO) {
            st_set(F, 0, canonical(a));
            if (v.k == K_INF && ((u.k == K_ZERO && !v.s) || (u.k == K_INF && v.s))) {
                F->exc |= FE_IE;
                st_set(F, 0, f80_indefinite);
            } else if (v.k == K_INF && u.k == K_FIN) {
                st_set(F, 0, v.s ? make_zero(u.s) : make_inf(u.s));
            }
            return true;
        }
        if (v.k == K_INF) {
            st_set(F, 0, v.s ? make_zero(u.s) : make_inf(u.s));
            return true;
        }
        int64_t n = v.e >= 20 ? (v.s ? -(1 << 20) : (1 << 20))
                  : (int64_t)(v.e < 0 ? 0 : (v.m >> (63 - v.e)));
        if (v.s && v.e < 20) {
            n = -n;
        }
        /* FSCALE rounds to 64 bits whatever the precision control says */
        uint16_t fcw = env->fx.fcw;
        env->fx.fcw |= 0x300;
        st_set(F, 0, pack_round(F, u.s, u.e + (int32_t)n, (U128)u.m << 64));
        env->fx.fcw = fcw;
        return true;
    }
    }
}

bool x86_fpu_exec(X86Tcg *t, const TBOp *op, uint64_t la)
{
    CPUX86State *env = t->env;
    unsigned opc = (unsigned)(op->imm >> 8) & 7, modrm = (unsigned)op->imm & 0xff;
    unsigned reg = (modrm >> 3) & 7, rm = modrm & 7;
    bool mem = op->rs1 == X86_RM_MEM;
    if (env->cr[0] & (X86_CR0_EM | X86_CR0_TS)) {
        x86_raise(t, EXCP_NM, false, 0);
        return false;
    }
    /* control instructions do not wait for (or report) pending exceptions */
    bool control = (mem && opc == 1 && reg >= 4) || (mem && opc == 5 && reg >= 4) ||
                   (!mem && opc == 3 && reg == 4) || (!mem && opc == 7 && reg == 4);
    if (!control && (env->fx.fsw & FS_ES) && (env->cr[0] & X86_CR0_NE)) {
        x86_raise(t, EXCP_MF, false, 0);
        return false;
    }
    Fpu F;
    fpu_load(&F, t);
    bool ok;
    if (mem) {
        ok = fpu_mem(&F, opc, reg, la, op->rs2);
    } else if (opc == 1 && reg >= 6) {
        ok = fpu_special(&F, (reg - 6) * 8 + rm);
    } else {
        ok = fpu_reg(&F, opc, reg, rm);
    }
    if (!ok) {
        return false;
    }
    if (F.exc & FE_IE) {
        F.exc &= ~FE_DE;   /* invalid (and a stack fault) outranks a denormal operand */
    }
    if (!control && (F.exc & ~env->fx.fcw & (FE_IE | FE_DE | FE_ZE))) {
        /* an unmasked invalid, denormal or divide-by-zero exception leaves the registers
         * and the stack top as they were: only the status word records it */
        uint16_t exc = F.exc;
        fpu_load(&F, t);
        F.exc = exc;
    }
    /* control instructions leave C1 alone (FLDENV and FRSTOR: as loaded) */
    fpu_store(&F, !control);
    if (!control) {
        env->fx.fop = (uint16_t)(opc << 8 | modrm);
        env->fx.fip = env->rip;
        if (mem) {
            env->fx.fdp = la;
        }
    }
    return true;
}
