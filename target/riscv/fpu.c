/*
 * A compact IEEE-754 soft-float for the RISC-V F and D extensions.
 *
 * Every operation unpacks its operands into sign, unbiased exponent and a significand held
 * in a uint64_t with its leading one at bit 62 (value = sig * 2^(exp - 62)), computes the
 * exact result or a result whose dropped low bits are "jammed" into bit 0 (sticky), and
 * then rounds once in fpu_round_pack. Bit 63 is headroom for a carry out of an addition.
 * Products and the fused multiply-add use unsigned __int128 so that no bit is lost before
 * the single rounding. Nothing here touches the host FPU.
 */
#include <stdbool.h>
#include <stdint.h>

#include "target/riscv/fpu.h"

typedef unsigned __int128 U128;

/* Hot helpers are inlined per format so the format constants fold away. */
#define FPU_INLINE static inline __attribute__((always_inline))

/* Layout of one binary interchange format. */
typedef struct FpuFormat {
    int mbits;      /* explicit fraction bits */
    int ebits;      /* exponent field bits */
    int bias;
    int width;      /* total bits */
} FpuFormat;

static const FpuFormat fpu_fmt_s = { 23, 8, 127, 32 };
static const FpuFormat fpu_fmt_d = { 52, 11, 1023, 64 };

enum { FPU_ZERO, FPU_FINITE, FPU_INF, FPU_QNAN, FPU_SNAN };

/* An unpacked operand; for FPU_FINITE, value = (-1)^sign * sig * 2^(exp - 62). */
typedef struct FpuValue {
    int cls;
    bool sign;
    int exp;
    uint64_t sig;
} FpuValue;

#define FPU_BOX_S 0xffffffff00000000ull
#define FPU_SIGN_S 0x80000000ull
#define FPU_SIGN_D 0x8000000000000000ull

static inline int fpu_emax_field(const FpuFormat *f)
{
    return (1 << f->ebits) - 1;
}

static inline uint64_t fpu_sign_bit(const FpuFormat *f)
{
    return 1ull << (f->width - 1);
}

static inline uint64_t fpu_default_nan(const FpuFormat *f)
{
    return ((uint64_t)fpu_emax_field(f) << f->mbits) | (1ull << (f->mbits - 1));
}

static inline uint64_t fpu_inf(const FpuFormat *f, bool sign)
{
    return (sign ? fpu_sign_bit(f) : 0) | ((uint64_t)fpu_emax_field(f) << f->mbits);
}

static inline uint64_t fpu_zero(const FpuFormat *f, bool sign)
{
    return sign ? fpu_sign_bit(f) : 0;
}

/* An improperly NaN-boxed binary32 operand reads as the canonical NaN. */
static inline uint64_t fpu_unbox_s(uint64_t x)
{
    return (x >> 32) == 0xffffffffu ? (uint32_t)x : 0x7fc00000u;
}

static inline uint64_t fpu_box_s(uint64_t x)
{
    return x | FPU_BOX_S;
}

/* Shifts right by n (any n) and folds the dropped bits into bit 0. */
static inline uint64_t fpu_shr_jam64(uint64_t x, int n)
{
    if (n <= 0) {
        return x;
    }
    if (n >= 64) {
        return x != 0;
    }
    return (x >> n) | ((x & ((1ull << n) - 1)) != 0);
}

/* Shifts right by n >= 0 and folds the dropped bits into bit 0. */
static inline U128 fpu_shr_jam128(U128 x, int n)
{
    if (n >= 128) {
        return x != 0;
    }
    return (x >> n) | ((x & (((U128)1 << n) - 1)) != 0);
}

static inline int fpu_clz128(U128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)x);
}

FPU_INLINE FpuValue fpu_unpack(const FpuFormat *f, uint64_t bits)
{
    FpuValue v = { FPU_FINITE, (bits >> (f->width - 1)) & 1, 0, 0 };
    uint64_t frac = bits & ((1ull << f->mbits) - 1);
    int be = (bits >> f->mbits) & fpu_emax_field(f);

    if (be == fpu_emax_field(f)) {
        if (frac == 0) {
            v.cls = FPU_INF;
        } else {
            v.cls = (frac >> (f->mbits - 1)) ? FPU_QNAN : FPU_SNAN;
        }
    } else if (be == 0) {
        if (frac == 0) {
            v.cls = FPU_ZERO;
        } else {
            int sh = __builtin_clzll(frac) - 1;
            v.sig = frac << sh;
            v.exp = 1 - f->bias - f->mbits - sh + 62;
        }
    } else {
        v.sig = (frac | (1ull << f->mbits)) << (62 - f->mbits);
        v.exp = be - f->bias;
    }
    return v;
}

static inline bool fpu_is_nan(const FpuValue *v)
{
    return v->cls >= FPU_QNAN;
}

/* Whether discarding the low drop bits (1..63) of sig rounds its magnitude up. */
static inline bool fpu_round_up(uint64_t sig, int drop, bool sign, int rm)
{
    uint64_t rem = sig & ((1ull << drop) - 1);
    uint64_t half = 1ull << (drop - 1);

    switch (rm) {
    case FPU_RNE:
        return rem > half || (rem == half && ((sig >> drop) & 1));
    case FPU_RDN:
        return sign && rem != 0;
    case FPU_RUP:
        return !sign && rem != 0;
    case FPU_RMM:
        return rem >= half;
    default:
        return false;
    }
}

/*
 * Rounds (-1)^sign * sig * 2^(exp - 62), sig in [2^62, 2^63) with sticky low bits, to format
 * f and packs it; raises NX/UF/OF (tininess detected after rounding).
 */
FPU_INLINE uint64_t fpu_round_pack(const FpuFormat *f, bool sign, int exp, uint64_t sig, int rm,
                               uint32_t *fflags)
{
    int drop = 62 - f->mbits;
    uint64_t lost = sig & ((1ull << drop) - 1);
    uint64_t sbit = sign ? fpu_sign_bit(f) : 0;
    int be = exp + f->bias;
    uint64_t m;

    if (be <= 0) {
        /* Tiny unless the value rounded with an unbounded exponent reaches 2^emin. */
        bool tiny = be < 0 ||
                    !(((sig >> drop) + fpu_round_up(sig, drop, sign, rm)) >> (f->mbits + 1));
        sig = fpu_shr_jam64(sig, 1 - be);
        lost = sig & ((1ull << drop) - 1);
        if (lost) {
            *fflags |= FFLAG_NX | (tiny ? FFLAG_UF : 0);
        }
        /* A carry into bit mbits yields the smallest normal, exactly as its encoding. */
        return sbit | ((sig >> drop) + fpu_round_up(sig, drop, sign, rm));
    }
    m = (sig >> drop) + fpu_round_up(sig, drop, sign, rm);
    if (m >> (f->mbits + 1)) {
        m >>= 1;
        be++;
    }
    if (be >= fpu_emax_field(f)) {
        bool to_inf = rm == FPU_RNE || rm == FPU_RMM || (rm == FPU_RDN && sign) ||
                      (rm == FPU_RUP && !sign);
        *fflags |= FFLAG_OF | FFLAG_NX;
        return to_inf ? fpu_inf(f, sign) : (fpu_inf(f, sign) - 1);
    }
    if (lost) {
        *fflags |= FFLAG_NX;
    }
    /* m carries the implicit one, which adds one to the (be - 1) exponent field. */
    return sbit | (((uint64_t)(be - 1) << f->mbits) + m);
}

/* The canonical NaN, raising NV if either operand is signaling. */
static uint64_t fpu_nan2(const FpuFormat *f, const FpuValue *x, const FpuValue *y,
                         uint32_t *fflags)
{
    if (x->cls == FPU_SNAN || y->cls == FPU_SNAN) {
        *fflags |= FFLAG_NV;
    }
    return fpu_default_nan(f);
}

FPU_INLINE uint64_t fpu_add_finite(const FpuFormat *f, FpuValue x, FpuValue y, int rm,
                               uint32_t *fflags)
{
    uint64_t sig, ys;
    int exp;

    if (x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig)) {
        FpuValue t = x;
        x = y;
        y = t;
    }
    ys = fpu_shr_jam64(y.sig, x.exp - y.exp);
    exp = x.exp;
    if (x.sign == y.sign) {
        sig = x.sig + ys;
        if (sig >> 63) {
            sig = fpu_shr_jam64(sig, 1);
            exp++;
        }
    } else {
        int sh;
        sig = x.sig - ys;
        if (sig == 0) {
            return fpu_zero(f, rm == FPU_RDN);
        }
        sh = __builtin_clzll(sig) - 1;
        sig <<= sh;
        exp -= sh;
    }
    return fpu_round_pack(f, x.sign, exp, sig, rm, fflags);
}

FPU_INLINE uint64_t fpu_add(const FpuFormat *f, uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    FpuValue x = fpu_unpack(f, a), y = fpu_unpack(f, b);

    if (x.cls == FPU_FINITE && y.cls == FPU_FINITE) {
        return fpu_add_finite(f, x, y, rm, fflags);
    }
    if (fpu_is_nan(&x) || fpu_is_nan(&y)) {
        return fpu_nan2(f, &x, &y, fflags);
    }
    if (x.cls == FPU_INF) {
        if (y.cls == FPU_INF && x.sign != y.sign) {
            *fflags |= FFLAG_NV;
            return fpu_default_nan(f);
        }
        return a;
    }
    if (y.cls == FPU_INF) {
        return b;
    }
    if (x.cls == FPU_ZERO) {
        if (y.cls == FPU_ZERO) {
            return fpu_zero(f, x.sign == y.sign ? x.sign : rm == FPU_RDN);
        }
        return b;
    }
    return a;
}

/* Rounds the product of two finite nonzero values. */
FPU_INLINE uint64_t fpu_mul_finite(const FpuFormat *f, const FpuValue *x, const FpuValue *y,
                               bool sign, int rm, uint32_t *fflags)
{
    U128 p = (U128)x->sig * y->sig;     /* in [2^124, 2^126) */
    int exp = x->exp + y->exp;
    uint64_t sig;

    if (p >> 125) {
        exp++;
        sig = (uint64_t)fpu_shr_jam128(p, 63);
    } else {
        sig = (uint64_t)fpu_shr_jam128(p, 62);
    }
    return fpu_round_pack(f, sign, exp, sig, rm, fflags);
}

FPU_INLINE uint64_t fpu_mul(const FpuFormat *f, uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    FpuValue x = fpu_unpack(f, a), y = fpu_unpack(f, b);
    bool sign = x.sign ^ y.sign;

    if (x.cls == FPU_FINITE && y.cls == FPU_FINITE) {
        return fpu_mul_finite(f, &x, &y, sign, rm, fflags);
    }
    if (fpu_is_nan(&x) || fpu_is_nan(&y)) {
        return fpu_nan2(f, &x, &y, fflags);
    }
    if (x.cls == FPU_INF || y.cls == FPU_INF) {
        if (x.cls == FPU_ZERO || y.cls == FPU_ZERO) {
            *fflags |= FFLAG_NV;
            return fpu_default_nan(f);
        }
        return fpu_inf(f, sign);
    }
    return fpu_zero(f, sign);
}

static uint64_t fpu_div(const FpuFormat *f, uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    FpuValue x = fpu_unpack(f, a), y = fpu_unpack(f, b);
    bool sign = x.sign ^ y.sign;
    uint64_t n, sig;
    U128 num;
    int exp;

    if (fpu_is_nan(&x) || fpu_is_nan(&y)) {
        return fpu_nan2(f, &x, &y, fflags);
    }
    if (x.cls == FPU_INF) {
        if (y.cls == FPU_INF) {
            *fflags |= FFLAG_NV;
            return fpu_default_nan(f);
        }
        return fpu_inf(f, sign);
    }
    if (y.cls == FPU_ZERO) {
        if (x.cls == FPU_ZERO) {
            *fflags |= FFLAG_NV;
            return fpu_default_nan(f);
        }
        *fflags |= FFLAG_DZ;
        return fpu_inf(f, sign);
    }
    if (x.cls == FPU_ZERO || y.cls == FPU_INF) {
        return fpu_zero(f, sign);
    }
    n = x.sig;
    exp = x.exp - y.exp;
    if (n < y.sig) {
        n <<= 1;
        exp--;
    }
    num = (U128)n << 62;                /* quotient lands in [2^62, 2^63) */
    sig = (uint64_t)(num / y.sig);
    sig |= (num % y.sig) != 0;
    return fpu_round_pack(f, sign, exp, sig, rm, fflags);
}

static uint64_t fpu_sqrt(const FpuFormat *f, uint64_t a, int rm, uint32_t *fflags)
{
    FpuValue x = fpu_unpack(f, a);
    U128 m, rem, root = 0, bit;

    if (fpu_is_nan(&x)) {
        return fpu_nan2(f, &x, &x, fflags);
    }
    if (x.cls == FPU_ZERO) {
        return a;
    }
    if (x.sign) {
        *fflags |= FFLAG_NV;
        return fpu_default_nan(f);
    }
    if (x.cls == FPU_INF) {
        return a;
    }
    /* Make the exponent even; m is then in [2^124, 2^126) and its root in [2^62, 2^63). */
    m = (U128)x.sig << (62 + (x.exp & 1));
    rem = m;
    for (bit = (U128)1 << 126; bit > rem; bit >>= 2) {
    }
    /* Digit-by-digit integer square root: root = floor(sqrt(m)), rem = m - root^2. */
    while (bit) {
        if (rem >= root + bit) {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return fpu_round_pack(f, false, x.exp >> 1, (uint64_t)root | (rem != 0), rm, fflags);
}

/* a * b + c with one rounding; the caller negates operands for the other three forms. */
static uint64_t fpu_fma(const FpuFormat *f, uint64_t a, uint64_t b, uint64_t c, int rm,
                        uint32_t *fflags)
{
    FpuValue x = fpu_unpack(f, a), y = fpu_unpack(f, b), z = fpu_unpack(f, c);
    bool psign = x.sign ^ y.sign;
    bool inf_zero = (x.cls == FPU_INF && y.cls == FPU_ZERO) ||
                    (x.cls == FPU_ZERO && y.cls == FPU_INF);
    U128 big, small, r;
    int bexp, sexp, lead;
    bool bsign, ssign;
    uint64_t sig;

    if (fpu_is_nan(&x) || fpu_is_nan(&y) || fpu_is_nan(&z)) {
        /* RISC-V: inf * 0 is invalid even when the addend is a quiet NaN. */
        if (x.cls == FPU_SNAN || y.cls == FPU_SNAN || z.cls == FPU_SNAN || inf_zero) {
            *fflags |= FFLAG_NV;
        }
        return fpu_default_nan(f);
    }
    if (inf_zero) {
        *fflags |= FFLAG_NV;
        return fpu_default_nan(f);
    }
    if (x.cls == FPU_INF || y.cls == FPU_INF) {
        if (z.cls == FPU_INF && z.sign != psign) {
            *fflags |= FFLAG_NV;
            return fpu_default_nan(f);
        }
        return fpu_inf(f, psign);
    }
    if (z.cls == FPU_INF) {
        return c;
    }
    if (x.cls == FPU_ZERO || y.cls == FPU_ZERO) {
        if (z.cls == FPU_ZERO) {
            return fpu_zero(f, psign == z.sign ? psign : rm == FPU_RDN);
        }
        return c;
    }
    if (z.cls == FPU_ZERO) {
        return fpu_mul_finite(f, &x, &y, psign, rm, fflags);
    }

    /* Both addends as 128-bit significands with the leading one at bit 125. */
    big = (U128)x.sig * y.sig;
    bexp = x.exp + y.exp;
    if (big >> 125) {
        bexp++;
    } else {
        big <<= 1;
    }
    bsign = psign;
    small = (U128)z.sig << 63;
    sexp = z.exp;
    ssign = z.sign;
    if (bexp < sexp || (bexp == sexp && big < small)) {
        U128 t = big;
        int te = bexp;
        bool ts = bsign;
        big = small;
        bexp = sexp;
        bsign = ssign;
        small = t;
        sexp = te;
        ssign = ts;
    }
    small = fpu_shr_jam128(small, bexp - sexp);
    if (bsign == ssign) {
        r = big + small;
    } else {
        r = big - small;
        if (r == 0) {
            return fpu_zero(f, rm == FPU_RDN);
        }
    }
    lead = 127 - fpu_clz128(r);
    if (lead > 62) {
        sig = (uint64_t)fpu_shr_jam128(r, lead - 62);
    } else {
        sig = (uint64_t)r << (62 - lead);
    }
    return fpu_round_pack(f, bsign, bexp + lead - 125, sig, rm, fflags);
}

/* a < b for non-NaN raw encodings, ordering -0 below +0. */
static bool fpu_total_lt(const FpuFormat *f, uint64_t a, uint64_t b)
{
    bool sa = (a >> (f->width - 1)) & 1, sb = (b >> (f->width - 1)) & 1;
    uint64_t mask = fpu_sign_bit(f) - 1;

    if (sa != sb) {
        return sa;
    }
    return sa ? (a & mask) > (b & mask) : (a & mask) < (b & mask);
}

/* minimumNumber / maximumNumber as the RISC-V 2.2+ F extension defines fmin/fmax. */
static uint64_t fpu_minmax(const FpuFormat *f, uint64_t a, uint64_t b, bool is_max,
                           uint32_t *fflags)
{
    FpuValue x = fpu_unpack(f, a), y = fpu_unpack(f, b);

    if (fpu_is_nan(&x) || fpu_is_nan(&y)) {
        if (x.cls == FPU_SNAN || y.cls == FPU_SNAN) {
            *fflags |= FFLAG_NV;
        }
        if (fpu_is_nan(&x) && fpu_is_nan(&y)) {
            return fpu_default_nan(f);
        }
        return fpu_is_nan(&x) ? b : a;
    }
    return fpu_total_lt(f, a, b) != is_max ? a : b;
}

enum { FPU_CMP_EQ, FPU_CMP_LT, FPU_CMP_LE };

/* feq is quiet (NV only for sNaN); flt and fle signal NV for any NaN. */
static uint64_t fpu_compare(const FpuFormat *f, uint64_t a, uint64_t b, int op,
                            uint32_t *fflags)
{
    FpuValue x = fpu_unpack(f, a), y = fpu_unpack(f, b);
    bool equal;

    if (fpu_is_nan(&x) || fpu_is_nan(&y)) {
        if (op != FPU_CMP_EQ || x.cls == FPU_SNAN || y.cls == FPU_SNAN) {
            *fflags |= FFLAG_NV;
        }
        return 0;
    }
    equal = a == b || (x.cls == FPU_ZERO && y.cls == FPU_ZERO);
    switch (op) {
    case FPU_CMP_EQ:
        return equal;
    case FPU_CMP_LT:
        return !equal && fpu_total_lt(f, a, b);
    default:
        return equal || fpu_total_lt(f, a, b);
    }
}

static uint64_t fpu_class(const FpuFormat *f, uint64_t a)
{
    FpuValue x = fpu_unpack(f, a);
    int be = (a >> f->mbits) & fpu_emax_field(f);

    switch (x.cls) {
    case FPU_SNAN:
        return 1 << 8;
    case FPU_QNAN:
        return 1 << 9;
    case FPU_INF:
        return x.sign ? 1 << 0 : 1 << 7;
    case FPU_ZERO:
        return x.sign ? 1 << 3 : 1 << 4;
    default:
        if (be == 0) {
            return x.sign ? 1 << 2 : 1 << 5;
        }
        return x.sign ? 1 << 1 : 1 << 6;
    }
}

/*
 * Rounds a finite value to an integer magnitude; *big is set when the magnitude is 2^64 or
 * more, *inexact when rounding changed the value.
 */
static uint64_t fpu_round_to_int(const FpuValue *v, int rm, bool *inexact, bool *big)
{
    uint64_t sig = v->sig;
    int drop = 62 - v->exp;

    *inexact = false;
    *big = false;
    if (v->cls == FPU_ZERO) {
        return 0;
    }
    if (v->exp >= 64) {
        *big = true;
        return 0;
    }
    if (drop <= 0) {
        return sig << -drop;
    }
    if (drop > 63) {
        /* Below one half: only the sticky bit matters. */
        sig = 1;
        drop = 63;
    }
    *inexact = (sig & ((1ull << drop) - 1)) != 0;
    return (sig >> drop) + fpu_round_up(sig, drop, v->sign, rm);
}

/* Converts to a 32- or 64-bit (un)signed integer with RISC-V saturation; 32-bit results are
 * sign-extended. */
static uint64_t fpu_to_int(const FpuFormat *f, uint64_t a, int rm, bool is_signed, int bits,
                           uint32_t *fflags)
{
    FpuValue x = fpu_unpack(f, a);
    uint64_t umax = bits == 64 ? UINT64_MAX : UINT32_MAX;
    uint64_t smax = umax >> 1;
    uint64_t mag, r;
    bool inexact, big;

    if (fpu_is_nan(&x)) {
        *fflags |= FFLAG_NV;
        r = is_signed ? smax : umax;
    } else {
        if (x.cls == FPU_INF) {
            big = true;
            inexact = false;
            mag = 0;
        } else {
            mag = fpu_round_to_int(&x, rm, &inexact, &big);
        }
        if (is_signed) {
            if (big || mag > smax + x.sign) {
                *fflags |= FFLAG_NV;
                r = x.sign ? ~smax : smax;
            } else {
                r = x.sign ? -mag : mag;
                *fflags |= inexact ? FFLAG_NX : 0;
            }
        } else if (x.sign ? (big || mag != 0) : (big || mag > umax)) {
            *fflags |= FFLAG_NV;
            r = x.sign ? 0 : umax;
        } else {
            r = mag;
            *fflags |= inexact ? FFLAG_NX : 0;
        }
    }
    return bits == 64 ? r : (uint64_t)(int64_t)(int32_t)(uint32_t)r;
}

static uint64_t fpu_from_int(const FpuFormat *f, bool sign, uint64_t mag, int rm,
                             uint32_t *fflags)
{
    int lz;

    if (mag == 0) {
        return 0;
    }
    lz = __builtin_clzll(mag);
    return fpu_round_pack(f, sign, 63 - lz,
                          lz ? mag << (lz - 1) : fpu_shr_jam64(mag, 1), rm, fflags);
}

static uint64_t fpu_from_signed(const FpuFormat *f, int64_t v, int rm, uint32_t *fflags)
{
    return fpu_from_int(f, v < 0, v < 0 ? -(uint64_t)v : (uint64_t)v, rm, fflags);
}

/* Converts between formats: NaN -> canonical NaN (NV if signaling), otherwise one rounding. */
static uint64_t fpu_convert(const FpuFormat *to, const FpuFormat *from, uint64_t a, int rm,
                            uint32_t *fflags)
{
    FpuValue x = fpu_unpack(from, a);

    switch (x.cls) {
    case FPU_SNAN:
        *fflags |= FFLAG_NV;
        return fpu_default_nan(to);
    case FPU_QNAN:
        return fpu_default_nan(to);
    case FPU_INF:
        return fpu_inf(to, x.sign);
    case FPU_ZERO:
        return fpu_zero(to, x.sign);
    default:
        return fpu_round_pack(to, x.sign, x.exp, x.sig, rm, fflags);
    }
}

/* binary32 */

#define S(x) fpu_unbox_s(x)
#define FS (&fpu_fmt_s)

uint64_t fpu_add_s(uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_add(FS, S(a), S(b), rm, fflags));
}

uint64_t fpu_sub_s(uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_add(FS, S(a), S(b) ^ FPU_SIGN_S, rm, fflags));
}

uint64_t fpu_mul_s(uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_mul(FS, S(a), S(b), rm, fflags));
}

uint64_t fpu_div_s(uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_div(FS, S(a), S(b), rm, fflags));
}

uint64_t fpu_sqrt_s(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_sqrt(FS, S(a), rm, fflags));
}

uint64_t fpu_madd_s(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_fma(FS, S(a), S(b), S(c), rm, fflags));
}

uint64_t fpu_msub_s(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_fma(FS, S(a), S(b), S(c) ^ FPU_SIGN_S, rm, fflags));
}

uint64_t fpu_nmsub_s(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_fma(FS, S(a) ^ FPU_SIGN_S, S(b), S(c), rm, fflags));
}

uint64_t fpu_nmadd_s(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_fma(FS, S(a) ^ FPU_SIGN_S, S(b), S(c) ^ FPU_SIGN_S, rm, fflags));
}

uint64_t fpu_min_s(uint64_t a, uint64_t b, uint32_t *fflags)
{
    return fpu_box_s(fpu_minmax(FS, S(a), S(b), false, fflags));
}

uint64_t fpu_max_s(uint64_t a, uint64_t b, uint32_t *fflags)
{
    return fpu_box_s(fpu_minmax(FS, S(a), S(b), true, fflags));
}

uint64_t fpu_sgnj_s(uint64_t a, uint64_t b)
{
    return fpu_box_s((S(a) & ~FPU_SIGN_S) | (S(b) & FPU_SIGN_S));
}

uint64_t fpu_sgnjn_s(uint64_t a, uint64_t b)
{
    return fpu_box_s((S(a) & ~FPU_SIGN_S) | (~S(b) & FPU_SIGN_S));
}

uint64_t fpu_sgnjx_s(uint64_t a, uint64_t b)
{
    return fpu_box_s(S(a) ^ (S(b) & FPU_SIGN_S));
}

uint64_t fpu_eq_s(uint64_t a, uint64_t b, uint32_t *fflags)
{
    return fpu_compare(FS, S(a), S(b), FPU_CMP_EQ, fflags);
}

uint64_t fpu_lt_s(uint64_t a, uint64_t b, uint32_t *fflags)
{
    return fpu_compare(FS, S(a), S(b), FPU_CMP_LT, fflags);
}

uint64_t fpu_le_s(uint64_t a, uint64_t b, uint32_t *fflags)
{
    return fpu_compare(FS, S(a), S(b), FPU_CMP_LE, fflags);
}

uint64_t fpu_class_s(uint64_t a)
{
    return fpu_class(FS, S(a));
}

uint64_t fpu_cvt_w_s(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_to_int(FS, S(a), rm, true, 32, fflags);
}

uint64_t fpu_cvt_wu_s(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_to_int(FS, S(a), rm, false, 32, fflags);
}

uint64_t fpu_cvt_l_s(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_to_int(FS, S(a), rm, true, 64, fflags);
}

uint64_t fpu_cvt_lu_s(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_to_int(FS, S(a), rm, false, 64, fflags);
}

uint64_t fpu_cvt_s_w(uint64_t x, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_from_signed(FS, (int32_t)x, rm, fflags));
}

uint64_t fpu_cvt_s_wu(uint64_t x, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_from_int(FS, false, (uint32_t)x, rm, fflags));
}

uint64_t fpu_cvt_s_l(uint64_t x, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_from_signed(FS, (int64_t)x, rm, fflags));
}

uint64_t fpu_cvt_s_lu(uint64_t x, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_from_int(FS, false, x, rm, fflags));
}

/* binary64 */

#define FD (&fpu_fmt_d)

uint64_t fpu_add_d(uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    return fpu_add(FD, a, b, rm, fflags);
}

uint64_t fpu_sub_d(uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    return fpu_add(FD, a, b ^ FPU_SIGN_D, rm, fflags);
}

uint64_t fpu_mul_d(uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    return fpu_mul(FD, a, b, rm, fflags);
}

uint64_t fpu_div_d(uint64_t a, uint64_t b, int rm, uint32_t *fflags)
{
    return fpu_div(FD, a, b, rm, fflags);
}

uint64_t fpu_sqrt_d(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_sqrt(FD, a, rm, fflags);
}

uint64_t fpu_madd_d(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags)
{
    return fpu_fma(FD, a, b, c, rm, fflags);
}

uint64_t fpu_msub_d(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags)
{
    return fpu_fma(FD, a, b, c ^ FPU_SIGN_D, rm, fflags);
}

uint64_t fpu_nmsub_d(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags)
{
    return fpu_fma(FD, a ^ FPU_SIGN_D, b, c, rm, fflags);
}

uint64_t fpu_nmadd_d(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags)
{
    return fpu_fma(FD, a ^ FPU_SIGN_D, b, c ^ FPU_SIGN_D, rm, fflags);
}

uint64_t fpu_min_d(uint64_t a, uint64_t b, uint32_t *fflags)
{
    return fpu_minmax(FD, a, b, false, fflags);
}

uint64_t fpu_max_d(uint64_t a, uint64_t b, uint32_t *fflags)
{
    return fpu_minmax(FD, a, b, true, fflags);
}

uint64_t fpu_sgnj_d(uint64_t a, uint64_t b)
{
    return (a & ~FPU_SIGN_D) | (b & FPU_SIGN_D);
}

uint64_t fpu_sgnjn_d(uint64_t a, uint64_t b)
{
    return (a & ~FPU_SIGN_D) | (~b & FPU_SIGN_D);
}

uint64_t fpu_sgnjx_d(uint64_t a, uint64_t b)
{
    return a ^ (b & FPU_SIGN_D);
}

uint64_t fpu_eq_d(uint64_t a, uint64_t b, uint32_t *fflags)
{
    return fpu_compare(FD, a, b, FPU_CMP_EQ, fflags);
}

uint64_t fpu_lt_d(uint64_t a, uint64_t b, uint32_t *fflags)
{
    return fpu_compare(FD, a, b, FPU_CMP_LT, fflags);
}

uint64_t fpu_le_d(uint64_t a, uint64_t b, uint32_t *fflags)
{
    return fpu_compare(FD, a, b, FPU_CMP_LE, fflags);
}

uint64_t fpu_class_d(uint64_t a)
{
    return fpu_class(FD, a);
}

uint64_t fpu_cvt_w_d(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_to_int(FD, a, rm, true, 32, fflags);
}

uint64_t fpu_cvt_wu_d(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_to_int(FD, a, rm, false, 32, fflags);
}

uint64_t fpu_cvt_l_d(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_to_int(FD, a, rm, true, 64, fflags);
}

uint64_t fpu_cvt_lu_d(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_to_int(FD, a, rm, false, 64, fflags);
}

uint64_t fpu_cvt_d_w(uint64_t x, int rm, uint32_t *fflags)
{
    return fpu_from_signed(FD, (int32_t)x, rm, fflags);
}

uint64_t fpu_cvt_d_wu(uint64_t x, int rm, uint32_t *fflags)
{
    return fpu_from_int(FD, false, (uint32_t)x, rm, fflags);
}

uint64_t fpu_cvt_d_l(uint64_t x, int rm, uint32_t *fflags)
{
    return fpu_from_signed(FD, (int64_t)x, rm, fflags);
}

uint64_t fpu_cvt_d_lu(uint64_t x, int rm, uint32_t *fflags)
{
    return fpu_from_int(FD, false, x, rm, fflags);
}

/* between formats */

uint64_t fpu_cvt_s_d(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_box_s(fpu_convert(FS, FD, a, rm, fflags));
}

uint64_t fpu_cvt_d_s(uint64_t a, int rm, uint32_t *fflags)
{
    return fpu_convert(FD, FS, S(a), rm, fflags);
}
