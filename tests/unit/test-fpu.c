/* RISC-V F/D soft-float (target/riscv/fpu.c): directed IEEE-754 vectors, and a randomized
 * differential test against the host's SSE arithmetic for the rounding modes x86 has. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>
#include "target/riscv/fpu.h"

typedef uint64_t (*FnRm1)(uint64_t, int, uint32_t *);
typedef uint64_t (*FnRm2)(uint64_t, uint64_t, int, uint32_t *);
typedef uint64_t (*FnRm3)(uint64_t, uint64_t, uint64_t, int, uint32_t *);
typedef uint64_t (*FnFl2)(uint64_t, uint64_t, uint32_t *);
typedef uint64_t (*FnPure2)(uint64_t, uint64_t);
typedef uint64_t (*FnPure1)(uint64_t);

/* One directed vector; exactly one function pointer is set. rm ALL checks every mode. */
typedef struct Vec {
    const char *name;
    FnRm1 f1;
    FnRm2 f2;
    FnRm3 f3;
    FnFl2 g2;
    FnPure2 p2;
    FnPure1 p1;
    uint64_t a, b, c;
    int rm;
    uint64_t r;
    uint32_t fl;
} Vec;

#define ALL (-1)
#define RNE FPU_RNE
#define RTZ FPU_RTZ
#define RDN FPU_RDN
#define RUP FPU_RUP
#define RMM FPU_RMM
#define NX FFLAG_NX
#define UF FFLAG_UF
#define OF FFLAG_OF
#define DZ FFLAG_DZ
#define NV FFLAG_NV

#define V1(fn, x, m, res, flags) { #fn, .f1 = fn, .a = (x), .rm = (m), .r = (res), .fl = (flags) }
#define V2(fn, x, y, m, res, flags) \
    { #fn, .f2 = fn, .a = (x), .b = (y), .rm = (m), .r = (res), .fl = (flags) }
#define V3(fn, x, y, z, m, res, flags) \
    { #fn, .f3 = fn, .a = (x), .b = (y), .c = (z), .rm = (m), .r = (res), .fl = (flags) }
#define G2(fn, x, y, res, flags) { #fn, .g2 = fn, .a = (x), .b = (y), .r = (res), .fl = (flags) }
#define P2(fn, x, y, res) { #fn, .p2 = fn, .a = (x), .b = (y), .r = (res) }
#define P1(fn, x, res) { #fn, .p1 = fn, .a = (x), .r = (res) }

/* binary32, NaN-boxed */
#define B(x) (0xffffffff00000000ull | (uint32_t)(x))
#define S_0 B(0x00000000)
#define S_N0 B(0x80000000)
#define S_1 B(0x3f800000)
#define S_N1 B(0xbf800000)
#define S_2 B(0x40000000)
#define S_3 B(0x40400000)
#define S_HALF B(0x3f000000)
#define S_INF B(0x7f800000)
#define S_NINF B(0xff800000)
#define S_QNAN B(0x7fc00000)
#define S_SNAN B(0x7f800001)
#define S_MAX B(0x7f7fffff)
#define S_NMAX B(0xff7fffff)
#define S_MINSUB B(0x00000001)
#define S_MAXSUB B(0x007fffff)
#define S_MINNORM B(0x00800000)
#define S_UNBOXED 0x000000003f800000ull     /* 1.0f without its box: reads as a NaN */

/* binary64 */
#define D_0 0x0000000000000000ull
#define D_N0 0x8000000000000000ull
#define D_1 0x3ff0000000000000ull
#define D_N1 0xbff0000000000000ull
#define D_2 0x4000000000000000ull
#define D_3 0x4008000000000000ull
#define D_HALF 0x3fe0000000000000ull
#define D_INF 0x7ff0000000000000ull
#define D_NINF 0xfff0000000000000ull
#define D_QNAN 0x7ff8000000000000ull
#define D_SNAN 0x7ff0000000000001ull
#define D_MAX 0x7fefffffffffffffull
#define D_NMAX 0xffefffffffffffffull
#define D_MINSUB 0x0000000000000001ull
#define D_MAXSUB 0x000fffffffffffffull
#define D_MINNORM 0x0010000000000000ull

static const Vec vectors[] = {
    /* add/sub: exact, signed zeros, NaNs, invalid */
    V2(fpu_add_s, S_1, S_2, ALL, S_3, 0),
    V2(fpu_add_s, S_0, S_N0, RNE, S_0, 0),
    V2(fpu_add_s, S_0, S_N0, RDN, S_N0, 0),
    V2(fpu_add_s, S_N0, S_N0, ALL, S_N0, 0),
    V2(fpu_add_s, S_1, S_N1, RNE, S_0, 0),
    V2(fpu_add_s, S_1, S_N1, RUP, S_0, 0),
    V2(fpu_add_s, S_1, S_N1, RDN, S_N0, 0),
    V2(fpu_sub_s, S_1, S_1, RDN, S_N0, 0),
    V2(fpu_sub_s, S_N0, S_0, ALL, S_N0, 0),
    V2(fpu_add_s, S_INF, S_NINF, ALL, S_QNAN, NV),
    V2(fpu_sub_s, S_INF, S_INF, ALL, S_QNAN, NV),
    V2(fpu_add_s, S_INF, S_MAX, ALL, S_INF, 0),
    V2(fpu_add_s, S_SNAN, S_1, ALL, S_QNAN, NV),
    V2(fpu_add_s, S_1, B(0xffc00123), ALL, S_QNAN, 0),
    V2(fpu_add_s, S_QNAN, S_SNAN, ALL, S_QNAN, NV),
    V2(fpu_add_s, S_UNBOXED, S_1, ALL, S_QNAN, 0),
    V2(fpu_add_s, S_1, 0xfffffffe3f800000ull, ALL, S_QNAN, 0),
    V2(fpu_add_s, S_1, D_1, ALL, S_QNAN, 0),
    /* add: overflow in each mode */
    V2(fpu_add_s, S_MAX, S_MAX, RNE, S_INF, OF | NX),
    V2(fpu_add_s, S_MAX, S_MAX, RMM, S_INF, OF | NX),
    V2(fpu_add_s, S_MAX, S_MAX, RTZ, S_MAX, OF | NX),
    V2(fpu_add_s, S_MAX, S_MAX, RDN, S_MAX, OF | NX),
    V2(fpu_add_s, S_MAX, S_MAX, RUP, S_INF, OF | NX),
    V2(fpu_add_s, S_NMAX, S_NMAX, RDN, S_NINF, OF | NX),
    V2(fpu_add_s, S_NMAX, S_NMAX, RUP, S_NMAX, OF | NX),
    V2(fpu_add_s, S_NMAX, S_NMAX, RTZ, S_NMAX, OF | NX),
    /* add: 1 + 2^-24 is a tie; -1 - 2^-24 too */
    V2(fpu_add_s, S_1, B(0x33800000), RNE, S_1, NX),
    V2(fpu_add_s, S_1, B(0x33800000), RMM, B(0x3f800001), NX),
    V2(fpu_add_s, S_1, B(0x33800000), RUP, B(0x3f800001), NX),
    V2(fpu_add_s, S_1, B(0x33800000), RTZ, S_1, NX),
    V2(fpu_add_s, S_1, B(0x33800000), RDN, S_1, NX),
    V2(fpu_add_s, B(0x3f800001), B(0x33800000), RNE, B(0x3f800002), NX),
    V2(fpu_sub_s, S_N1, B(0x33800000), RMM, B(0xbf800001), NX),
    V2(fpu_sub_s, S_N1, B(0x33800000), RDN, B(0xbf800001), NX),
    V2(fpu_sub_s, S_N1, B(0x33800000), RUP, S_N1, NX),
    /* add: subnormals are exact, no underflow without inexactness */
    V2(fpu_add_s, S_MINSUB, S_MINSUB, ALL, B(0x00000002), 0),
    V2(fpu_add_s, S_MINNORM, B(0x80000001), ALL, S_MAXSUB, 0),
    V2(fpu_add_s, S_MAXSUB, S_MINSUB, ALL, S_MINNORM, 0),
    V2(fpu_add_d, D_1, 0x3ca0000000000000ull, RNE, D_1, NX),
    V2(fpu_add_d, D_1, 0x3ca0000000000000ull, RMM, 0x3ff0000000000001ull, NX),
    V2(fpu_add_d, D_1, D_N1, RDN, D_N0, 0),
    V2(fpu_add_d, D_MAX, D_MAX, RTZ, D_MAX, OF | NX),
    V2(fpu_add_d, D_MAX, D_MAX, RNE, D_INF, OF | NX),
    V2(fpu_add_d, D_INF, D_NINF, ALL, D_QNAN, NV),
    V2(fpu_add_d, D_SNAN, D_QNAN, ALL, D_QNAN, NV),
    V2(fpu_add_d, D_MINSUB, D_MINSUB, ALL, 0x0000000000000002ull, 0),
    V2(fpu_sub_d, D_3, D_2, ALL, D_1, 0),
    V2(fpu_sub_d, 0x4340000000000000ull, D_1, ALL, 0x433fffffffffffffull, 0),
    V2(fpu_sub_d, 0x4350000000000000ull, D_1, RNE, 0x4350000000000000ull, NX),
    V2(fpu_sub_d, 0x4350000000000000ull, D_1, RTZ, 0x434fffffffffffffull, NX),

    /* mul: signs, invalid, underflow with tininess after rounding, overflow */
    V2(fpu_mul_s, S_N0, S_3, ALL, S_N0, 0),
    V2(fpu_mul_s, S_INF, S_0, ALL, S_QNAN, NV),
    V2(fpu_mul_s, S_N0, S_NINF, ALL, S_QNAN, NV),
    V2(fpu_mul_s, S_NINF, S_N1, ALL, S_INF, 0),
    V2(fpu_mul_s, S_QNAN, S_0, ALL, S_QNAN, 0),
    V2(fpu_mul_s, S_MINNORM, S_HALF, ALL, B(0x00400000), 0),
    V2(fpu_mul_s, S_MINSUB, S_HALF, RNE, S_0, UF | NX),
    V2(fpu_mul_s, S_MINSUB, S_HALF, RMM, S_MINSUB, UF | NX),
    V2(fpu_mul_s, S_MINSUB, S_HALF, RUP, S_MINSUB, UF | NX),
    V2(fpu_mul_s, S_MINSUB, S_HALF, RDN, S_0, UF | NX),
    V2(fpu_mul_s, B(0x80000001), S_HALF, RDN, B(0x80000001), UF | NX),
    V2(fpu_mul_s, B(0x80000001), S_HALF, RNE, S_N0, UF | NX),
    /* maxsub * (1 + 2^-23) = 2^-126 (1 - 2^-46): rounds to 2^-126 unbounded, so not tiny */
    V2(fpu_mul_s, S_MAXSUB, B(0x3f800001), RNE, S_MINNORM, NX),
    V2(fpu_mul_s, S_MAXSUB, B(0x3f800001), RMM, S_MINNORM, NX),
    V2(fpu_mul_s, S_MAXSUB, B(0x3f800001), RUP, S_MINNORM, NX),
    V2(fpu_mul_s, S_MAXSUB, B(0x3f800001), RTZ, S_MAXSUB, UF | NX),
    V2(fpu_mul_s, S_MAXSUB, B(0x3f800001), RDN, S_MAXSUB, UF | NX),
    /* 2^-126 (1 - 2^-24) is exact unbounded (tiny) but a tie in the subnormal range */
    V2(fpu_mul_s, S_MINNORM, B(0x3f7fffff), RNE, S_MINNORM, UF | NX),
    V2(fpu_mul_s, S_MINNORM, B(0x3f7fffff), RTZ, S_MAXSUB, UF | NX),
    V2(fpu_mul_s, S_MAX, S_2, RNE, S_INF, OF | NX),
    V2(fpu_mul_s, S_MAX, S_2, RTZ, S_MAX, OF | NX),
    V2(fpu_mul_s, S_MAX, B(0xc0000000), RUP, S_NMAX, OF | NX),
    V2(fpu_mul_s, S_MAX, B(0xc0000000), RDN, S_NINF, OF | NX),
    V2(fpu_mul_s, S_MINSUB, S_MINSUB, RUP, S_MINSUB, UF | NX),
    V2(fpu_mul_s, S_MINSUB, S_MINSUB, RNE, S_0, UF | NX),
    V2(fpu_mul_d, D_MAXSUB, 0x3ff0000000000001ull, RNE, D_MINNORM, NX),
    V2(fpu_mul_d, D_MAXSUB, 0x3ff0000000000001ull, RTZ, D_MAXSUB, UF | NX),
    V2(fpu_mul_d, D_MINSUB, D_HALF, RNE, D_0, UF | NX),
    V2(fpu_mul_d, D_MINSUB, D_HALF, RMM, D_MINSUB, UF | NX),
    V2(fpu_mul_d, D_MAX, D_NMAX, RNE, D_NINF, OF | NX),
    V2(fpu_mul_d, D_MAX, D_NMAX, RUP, D_NMAX, OF | NX),
    V2(fpu_mul_d, D_INF, D_N0, ALL, D_QNAN, NV),
    V2(fpu_mul_d, 0x3ff0000000000001ull, 0x3ff0000000000001ull, RNE, 0x3ff0000000000002ull, NX),
    V2(fpu_mul_d, 0x3ff0000000000001ull, 0x3ff0000000000001ull, RUP, 0x3ff0000000000003ull, NX),

    /* div */
    V2(fpu_div_s, S_1, S_0, ALL, S_INF, DZ),
    V2(fpu_div_s, S_N1, S_0, ALL, S_NINF, DZ),
    V2(fpu_div_s, S_1, S_N0, ALL, S_NINF, DZ),
    V2(fpu_div_s, S_INF, S_0, ALL, S_INF, 0),
    V2(fpu_div_s, S_0, S_0, ALL, S_QNAN, NV),
    V2(fpu_div_s, S_INF, S_NINF, ALL, S_QNAN, NV),
    V2(fpu_div_s, S_N1, S_INF, ALL, S_N0, 0),
    V2(fpu_div_s, S_0, S_N1, ALL, S_N0, 0),
    V2(fpu_div_s, S_SNAN, S_0, ALL, S_QNAN, NV),
    V2(fpu_div_s, S_1, S_3, RNE, B(0x3eaaaaab), NX),
    V2(fpu_div_s, S_1, S_3, RMM, B(0x3eaaaaab), NX),
    V2(fpu_div_s, S_1, S_3, RUP, B(0x3eaaaaab), NX),
    V2(fpu_div_s, S_1, S_3, RTZ, B(0x3eaaaaaa), NX),
    V2(fpu_div_s, S_1, S_3, RDN, B(0x3eaaaaaa), NX),
    V2(fpu_div_s, S_N1, S_3, RDN, B(0xbeaaaaab), NX),
    V2(fpu_div_s, S_MINNORM, B(0x40800000), RNE, B(0x00200000), 0),
    V2(fpu_div_s, S_MAX, S_HALF, RNE, S_INF, OF | NX),
    V2(fpu_div_s, S_MINSUB, S_3, RNE, S_0, UF | NX),
    V2(fpu_div_s, S_MINSUB, S_3, RUP, S_MINSUB, UF | NX),
    V2(fpu_div_d, D_1, D_3, RNE, 0x3fd5555555555555ull, NX),
    V2(fpu_div_d, D_1, D_3, RUP, 0x3fd5555555555556ull, NX),
    V2(fpu_div_d, D_2, D_3, RNE, 0x3fe5555555555555ull, NX),
    V2(fpu_div_d, D_2, D_3, RMM, 0x3fe5555555555555ull, NX),
    V2(fpu_div_d, D_2, D_3, RUP, 0x3fe5555555555556ull, NX),
    V2(fpu_div_d, D_N1, D_0, ALL, D_NINF, DZ),
    V2(fpu_div_d, D_0, D_0, ALL, D_QNAN, NV),
    V2(fpu_div_d, D_MINNORM, D_2, ALL, 0x0008000000000000ull, 0),

    /* sqrt */
    V1(fpu_sqrt_s, B(0x40800000), ALL, S_2, 0),
    V1(fpu_sqrt_s, S_2, RNE, B(0x3fb504f3), NX),
    V1(fpu_sqrt_s, S_2, RTZ, B(0x3fb504f3), NX),
    V1(fpu_sqrt_s, S_2, RUP, B(0x3fb504f4), NX),
    V1(fpu_sqrt_s, S_N0, ALL, S_N0, 0),
    V1(fpu_sqrt_s, S_0, ALL, S_0, 0),
    V1(fpu_sqrt_s, S_N1, ALL, S_QNAN, NV),
    V1(fpu_sqrt_s, B(0x80000001), ALL, S_QNAN, NV),
    V1(fpu_sqrt_s, S_NINF, ALL, S_QNAN, NV),
    V1(fpu_sqrt_s, S_INF, ALL, S_INF, 0),
    V1(fpu_sqrt_s, S_SNAN, ALL, S_QNAN, NV),
    V1(fpu_sqrt_s, B(0xffc00000), ALL, S_QNAN, 0),
    V1(fpu_sqrt_s, S_UNBOXED, ALL, S_QNAN, 0),
    V1(fpu_sqrt_s, B(0x00000002), ALL, B(0x1a800000), 0),
    V1(fpu_sqrt_d, D_2, RNE, 0x3ff6a09e667f3bcdull, NX),
    V1(fpu_sqrt_d, D_2, RDN, 0x3ff6a09e667f3bccull, NX),
    V1(fpu_sqrt_d, D_2, RUP, 0x3ff6a09e667f3bcdull, NX),
    V1(fpu_sqrt_d, 0x4022000000000000ull, ALL, D_3, 0),
    V1(fpu_sqrt_d, D_N0, ALL, D_N0, 0),
    V1(fpu_sqrt_d, D_NINF, ALL, D_QNAN, NV),
    V1(fpu_sqrt_d, D_MINSUB, ALL, 0x1e60000000000000ull, 0),

    /* fused multiply-add: single rounding, signs, RISC-V inf*0 rule */
    V3(fpu_madd_s, S_INF, S_0, S_QNAN, ALL, S_QNAN, NV),
    V3(fpu_madd_s, S_0, S_NINF, S_QNAN, ALL, S_QNAN, NV),
    V3(fpu_madd_s, S_0, S_INF, S_1, ALL, S_QNAN, NV),
    V3(fpu_madd_s, S_QNAN, S_0, S_1, ALL, S_QNAN, 0),
    V3(fpu_madd_s, S_1, S_1, S_SNAN, ALL, S_QNAN, NV),
    V3(fpu_madd_s, S_INF, S_1, S_NINF, ALL, S_QNAN, NV),
    V3(fpu_madd_s, S_INF, S_1, S_INF, ALL, S_INF, 0),
    V3(fpu_madd_s, S_1, S_1, S_NINF, ALL, S_NINF, 0),
    V3(fpu_madd_s, S_1, S_1, S_N1, RNE, S_0, 0),
    V3(fpu_madd_s, S_1, S_1, S_N1, RDN, S_N0, 0),
    V3(fpu_madd_s, S_0, S_1, S_N0, RNE, S_0, 0),
    V3(fpu_madd_s, S_0, S_1, S_N0, RDN, S_N0, 0),
    V3(fpu_madd_s, S_N0, S_1, S_N0, ALL, S_N0, 0),
    V3(fpu_madd_s, S_0, S_1, S_3, ALL, S_3, 0),
    V3(fpu_madd_s, B(0x3f800001), B(0x3f7ffffe), S_N1, ALL, B(0xa8800000), 0),
    V3(fpu_madd_s, S_MINSUB, S_HALF, S_0, RNE, S_0, UF | NX),
    V3(fpu_madd_s, S_MINSUB, S_HALF, S_N0, RUP, S_MINSUB, UF | NX),
    V3(fpu_madd_s, S_MAX, S_2, S_NMAX, ALL, S_MAX, 0),
    V3(fpu_madd_s, S_MAX, S_MAX, S_NINF, ALL, S_NINF, 0),
    V3(fpu_madd_s, S_MAX, S_MAX, S_NMAX, RTZ, S_MAX, OF | NX),
    V3(fpu_madd_s, S_1, B(0x33800000), S_1, RNE, S_1, NX),
    V3(fpu_madd_s, S_1, B(0x33800000), S_1, RMM, B(0x3f800001), NX),
    V3(fpu_msub_s, S_1, S_2, S_3, ALL, S_N1, 0),
    V3(fpu_nmsub_s, S_1, S_2, S_3, ALL, S_1, 0),
    V3(fpu_nmadd_s, S_1, S_2, S_3, ALL, B(0xc0a00000), 0),
    V3(fpu_nmadd_s, S_0, S_1, S_0, RNE, S_N0, 0),
    V3(fpu_nmsub_s, S_0, S_1, S_0, RNE, S_0, 0),
    V3(fpu_nmsub_s, S_0, S_1, S_0, RDN, S_N0, 0),
    V3(fpu_msub_s, S_1, S_1, S_1, RDN, S_N0, 0),
    V3(fpu_nmadd_s, S_INF, S_0, S_QNAN, ALL, S_QNAN, NV),
    V3(fpu_madd_s, S_UNBOXED, S_1, S_1, ALL, S_QNAN, 0),
    /* (1 + 2^-52)(1 - 2^-53) - 1 = 2^-53 - 2^-105, exact */
    V3(fpu_madd_d, 0x3ff0000000000001ull, 0x3fefffffffffffffull, D_N1, ALL,
       0x3c9ffffffffffffeull, 0),
    /* (1 + 2^-52)^2 - 1 = 2^-51 (1 + 2^-53): a tie */
    V3(fpu_madd_d, 0x3ff0000000000001ull, 0x3ff0000000000001ull, D_N1, RNE,
       0x3cc0000000000000ull, NX),
    V3(fpu_madd_d, 0x3ff0000000000001ull, 0x3ff0000000000001ull, D_N1, RMM,
       0x3cc0000000000001ull, NX),
    V3(fpu_madd_d, D_INF, D_0, D_QNAN, ALL, D_QNAN, NV),
    V3(fpu_madd_d, D_1, D_1, D_N1, RDN, D_N0, 0),
    V3(fpu_madd_d, D_MINSUB, D_HALF, D_0, RMM, D_MINSUB, UF | NX),
    V3(fpu_madd_d, D_MINNORM, D_N1, D_MINSUB, ALL, 0x800fffffffffffffull, 0),
    V3(fpu_madd_d, D_1, 0x3ca0000000000000ull, D_1, RNE, D_1, NX),
    V3(fpu_madd_d, D_1, 0x3ca0000000000000ull, D_1, RMM, 0x3ff0000000000001ull, NX),
    V3(fpu_msub_d, D_1, D_2, D_3, ALL, D_N1, 0),
    V3(fpu_nmadd_d, D_1, D_2, D_3, ALL, 0xc014000000000000ull, 0),
    V3(fpu_nmsub_d, D_1, D_2, D_3, ALL, D_1, 0),

    /* min/max (minimumNumber/maximumNumber) */
    G2(fpu_min_s, S_N0, S_0, S_N0, 0),
    G2(fpu_min_s, S_0, S_N0, S_N0, 0),
    G2(fpu_max_s, S_N0, S_0, S_0, 0),
    G2(fpu_max_s, S_0, S_N0, S_0, 0),
    G2(fpu_min_s, S_QNAN, S_1, S_1, 0),
    G2(fpu_max_s, S_1, B(0xffc00005), S_1, 0),
    G2(fpu_min_s, S_SNAN, S_1, S_1, NV),
    G2(fpu_max_s, S_3, S_SNAN, S_3, NV),
    G2(fpu_min_s, S_QNAN, S_QNAN, S_QNAN, 0),
    G2(fpu_max_s, S_SNAN, S_QNAN, S_QNAN, NV),
    G2(fpu_min_s, S_1, S_2, S_1, 0),
    G2(fpu_max_s, S_NINF, S_N1, S_N1, 0),
    G2(fpu_min_s, S_NINF, S_N1, S_NINF, 0),
    G2(fpu_min_s, S_UNBOXED, S_2, S_2, 0),
    G2(fpu_max_s, S_UNBOXED, S_UNBOXED, S_QNAN, 0),
    G2(fpu_min_d, D_N0, D_0, D_N0, 0),
    G2(fpu_max_d, D_N0, D_0, D_0, 0),
    G2(fpu_min_d, D_QNAN, D_N1, D_N1, 0),
    G2(fpu_max_d, D_SNAN, D_N1, D_N1, NV),
    G2(fpu_max_d, D_QNAN, 0xfff8000000000001ull, D_QNAN, 0),
    G2(fpu_min_d, D_MINSUB, D_0, D_0, 0),
    G2(fpu_max_d, D_INF, D_MAX, D_INF, 0),

    /* comparisons: feq quiet, flt/fle signaling */
    G2(fpu_eq_s, S_QNAN, S_1, 0, 0),
    G2(fpu_eq_s, S_QNAN, S_QNAN, 0, 0),
    G2(fpu_eq_s, S_SNAN, S_1, 0, NV),
    G2(fpu_eq_s, S_N0, S_0, 1, 0),
    G2(fpu_eq_s, S_1, S_1, 1, 0),
    G2(fpu_eq_s, S_UNBOXED, S_UNBOXED, 0, 0),
    G2(fpu_lt_s, S_QNAN, S_1, 0, NV),
    G2(fpu_lt_s, S_N0, S_0, 0, 0),
    G2(fpu_lt_s, S_1, S_2, 1, 0),
    G2(fpu_lt_s, S_2, S_1, 0, 0),
    G2(fpu_lt_s, S_N1, S_1, 1, 0),
    G2(fpu_lt_s, B(0xc0000000), S_N1, 1, 0),
    G2(fpu_lt_s, S_NINF, S_INF, 1, 0),
    G2(fpu_le_s, S_1, S_QNAN, 0, NV),
    G2(fpu_le_s, S_N0, S_0, 1, 0),
    G2(fpu_le_s, S_0, S_N0, 1, 0),
    G2(fpu_le_s, S_2, S_2, 1, 0),
    G2(fpu_le_s, S_3, S_2, 0, 0),
    G2(fpu_le_s, S_UNBOXED, S_1, 0, NV),
    G2(fpu_eq_d, D_SNAN, D_SNAN, 0, NV),
    G2(fpu_eq_d, D_0, D_N0, 1, 0),
    G2(fpu_lt_d, D_QNAN, D_QNAN, 0, NV),
    G2(fpu_lt_d, D_MINSUB, D_MINNORM, 1, 0),
    G2(fpu_lt_d, 0x8000000000000002ull, 0x8000000000000001ull, 1, 0),
    G2(fpu_le_d, D_N0, D_0, 1, 0),
    G2(fpu_le_d, D_INF, D_MAX, 0, 0),

    /* fclass */
    P1(fpu_class_s, S_NINF, 1 << 0),
    P1(fpu_class_s, S_N1, 1 << 1),
    P1(fpu_class_s, B(0x80000001), 1 << 2),
    P1(fpu_class_s, S_N0, 1 << 3),
    P1(fpu_class_s, S_0, 1 << 4),
    P1(fpu_class_s, S_MAXSUB, 1 << 5),
    P1(fpu_class_s, S_MINNORM, 1 << 6),
    P1(fpu_class_s, S_INF, 1 << 7),
    P1(fpu_class_s, S_SNAN, 1 << 8),
    P1(fpu_class_s, B(0xffbfffff), 1 << 8),
    P1(fpu_class_s, S_QNAN, 1 << 9),
    P1(fpu_class_s, S_UNBOXED, 1 << 9),
    P1(fpu_class_d, D_NINF, 1 << 0),
    P1(fpu_class_d, D_NMAX, 1 << 1),
    P1(fpu_class_d, 0x800fffffffffffffull, 1 << 2),
    P1(fpu_class_d, D_N0, 1 << 3),
    P1(fpu_class_d, D_0, 1 << 4),
    P1(fpu_class_d, D_MINSUB, 1 << 5),
    P1(fpu_class_d, D_1, 1 << 6),
    P1(fpu_class_d, D_INF, 1 << 7),
    P1(fpu_class_d, D_SNAN, 1 << 8),
    P1(fpu_class_d, 0xfff8000000000000ull, 1 << 9),

    /* sign injection (an improperly boxed operand is the canonical NaN) */
    P2(fpu_sgnj_s, S_1, B(0xc0000000), S_N1),
    P2(fpu_sgnjn_s, S_1, B(0xc0000000), S_1),
    P2(fpu_sgnjn_s, S_1, S_1, S_N1),
    P2(fpu_sgnjx_s, S_N1, B(0xc0000000), S_1),
    P2(fpu_sgnjx_s, S_N1, S_2, S_N1),
    P2(fpu_sgnj_s, S_SNAN, S_N0, B(0xff800001)),
    P2(fpu_sgnjn_s, S_UNBOXED, S_1, B(0xffc00000)),
    P2(fpu_sgnj_s, S_1, S_UNBOXED, S_1),
    P2(fpu_sgnj_d, D_1, D_N0, D_N1),
    P2(fpu_sgnjn_d, D_N1, D_N1, D_1),
    P2(fpu_sgnjx_d, D_NINF, D_N1, D_INF),
    P2(fpu_sgnjx_d, D_SNAN, D_1, D_SNAN),

    /* float -> integer: rounding, saturation, NV without NX, sign extension */
    V1(fpu_cvt_w_s, S_QNAN, ALL, 0x7fffffffull, NV),
    V1(fpu_cvt_w_s, B(0xffc00000), ALL, 0x7fffffffull, NV),
    V1(fpu_cvt_w_s, S_UNBOXED, ALL, 0x7fffffffull, NV),
    V1(fpu_cvt_w_s, S_INF, ALL, 0x7fffffffull, NV),
    V1(fpu_cvt_w_s, S_NINF, ALL, 0xffffffff80000000ull, NV),
    V1(fpu_cvt_w_s, B(0x4f32d05e), ALL, 0x7fffffffull, NV),
    V1(fpu_cvt_w_s, B(0xcf000000), ALL, 0xffffffff80000000ull, 0),
    V1(fpu_cvt_w_s, B(0x4effffff), ALL, 0x7fffff80ull, 0),
    V1(fpu_cvt_w_s, B(0x4f000000), ALL, 0x7fffffffull, NV),
    V1(fpu_cvt_w_s, B(0x40200000), RNE, 2, NX),
    V1(fpu_cvt_w_s, B(0x40200000), RMM, 3, NX),
    V1(fpu_cvt_w_s, B(0x40200000), RUP, 3, NX),
    V1(fpu_cvt_w_s, B(0x40200000), RDN, 2, NX),
    V1(fpu_cvt_w_s, B(0x40200000), RTZ, 2, NX),
    V1(fpu_cvt_w_s, B(0xc0200000), RNE, (uint64_t)-2, NX),
    V1(fpu_cvt_w_s, B(0xc0200000), RMM, (uint64_t)-3, NX),
    V1(fpu_cvt_w_s, B(0xc0200000), RDN, (uint64_t)-3, NX),
    V1(fpu_cvt_w_s, B(0xc0200000), RUP, (uint64_t)-2, NX),
    V1(fpu_cvt_w_s, B(0xc0200000), RTZ, (uint64_t)-2, NX),
    V1(fpu_cvt_w_s, B(0x40600000), RNE, 4, NX),
    V1(fpu_cvt_w_s, S_HALF, RNE, 0, NX),
    V1(fpu_cvt_w_s, S_HALF, RMM, 1, NX),
    V1(fpu_cvt_w_s, S_MINSUB, RUP, 1, NX),
    V1(fpu_cvt_w_s, B(0x80000001), RDN, (uint64_t)-1, NX),
    V1(fpu_cvt_w_s, B(0x80000001), RNE, 0, NX),
    V1(fpu_cvt_w_s, S_N0, ALL, 0, 0),
    V1(fpu_cvt_wu_s, S_N1, ALL, 0, NV),
    V1(fpu_cvt_wu_s, B(0xbecccccd), RNE, 0, NX),
    V1(fpu_cvt_wu_s, B(0xbecccccd), RTZ, 0, NX),
    V1(fpu_cvt_wu_s, B(0xbecccccd), RDN, 0, NV),
    V1(fpu_cvt_wu_s, B(0xbf000000), RMM, 0, NV),
    V1(fpu_cvt_wu_s, B(0xbf000000), RNE, 0, NX),
    V1(fpu_cvt_wu_s, B(0x4f32d05e), ALL, 0xffffffffb2d05e00ull, 0),
    V1(fpu_cvt_wu_s, S_QNAN, ALL, 0xffffffffffffffffull, NV),
    V1(fpu_cvt_wu_s, B(0x4f800000), ALL, 0xffffffffffffffffull, NV),
    V1(fpu_cvt_wu_s, S_NINF, ALL, 0, NV),
    V1(fpu_cvt_wu_s, S_INF, ALL, 0xffffffffffffffffull, NV),
    V1(fpu_cvt_wu_s, S_N0, ALL, 0, 0),
    V1(fpu_cvt_wu_s, S_1, ALL, 1, 0),
    V1(fpu_cvt_l_s, B(0xdf000000), ALL, 0x8000000000000000ull, 0),
    V1(fpu_cvt_l_s, B(0x5f000000), ALL, 0x7fffffffffffffffull, NV),
    V1(fpu_cvt_l_s, S_QNAN, ALL, 0x7fffffffffffffffull, NV),
    V1(fpu_cvt_l_s, S_NINF, ALL, 0x8000000000000000ull, NV),
    V1(fpu_cvt_l_s, B(0xc0200000), RMM, (uint64_t)-3, NX),
    V1(fpu_cvt_lu_s, B(0x5f7fffff), ALL, 0xffffff0000000000ull, 0),
    V1(fpu_cvt_lu_s, B(0x5f800000), ALL, 0xffffffffffffffffull, NV),
    V1(fpu_cvt_lu_s, S_NINF, ALL, 0, NV),
    V1(fpu_cvt_lu_s, S_SNAN, ALL, 0xffffffffffffffffull, NV),
    V1(fpu_cvt_w_d, 0xc1e0000000100000ull, RNE, 0xffffffff80000000ull, NX),
    V1(fpu_cvt_w_d, 0xc1e0000000100000ull, RTZ, 0xffffffff80000000ull, NX),
    V1(fpu_cvt_w_d, 0xc1e0000000100000ull, RDN, 0xffffffff80000000ull, NV),
    V1(fpu_cvt_w_d, 0xc1e0000000100000ull, RMM, 0xffffffff80000000ull, NV),
    V1(fpu_cvt_w_d, 0x41dfffffffe00000ull, RNE, 0x7fffffffull, NV),
    V1(fpu_cvt_w_d, 0x41dfffffffe00000ull, RTZ, 0x7fffffffull, NX),
    V1(fpu_cvt_w_d, 0x41dfffffffe00000ull, RDN, 0x7fffffffull, NX),
    V1(fpu_cvt_w_d, 0x41dfffffffe00000ull, RUP, 0x7fffffffull, NV),
    V1(fpu_cvt_w_d, D_QNAN, ALL, 0x7fffffffull, NV),
    V1(fpu_cvt_w_d, D_MINSUB, RUP, 1, NX),
    V1(fpu_cvt_w_d, D_MINSUB, RNE, 0, NX),
    V1(fpu_cvt_wu_d, 0x41efffffffe00000ull, ALL, 0xffffffffffffffffull, 0),
    V1(fpu_cvt_wu_d, 0x41efffffffe00001ull, RTZ, 0xffffffffffffffffull, NX),
    V1(fpu_cvt_wu_d, 0x41efffffffe00001ull, RUP, 0xffffffffffffffffull, NV),
    V1(fpu_cvt_wu_d, 0x41e0000000000000ull, ALL, 0xffffffff80000000ull, 0),
    V1(fpu_cvt_wu_d, D_N1, ALL, 0, NV),
    V1(fpu_cvt_l_d, 0x43e0000000000000ull, ALL, 0x7fffffffffffffffull, NV),
    V1(fpu_cvt_l_d, 0xc3e0000000000000ull, ALL, 0x8000000000000000ull, 0),
    V1(fpu_cvt_l_d, 0xc3e0000000000001ull, ALL, 0x8000000000000000ull, NV),
    V1(fpu_cvt_l_d, 0x43dfffffffffffffull, ALL, 0x7ffffffffffffc00ull, 0),
    V1(fpu_cvt_l_d, D_SNAN, ALL, 0x7fffffffffffffffull, NV),
    V1(fpu_cvt_l_d, D_NINF, ALL, 0x8000000000000000ull, NV),
    V1(fpu_cvt_l_d, 0x4330000000000001ull, ALL, 0x0010000000000001ull, 0),
    V1(fpu_cvt_l_d, 0xc004000000000000ull, RMM, (uint64_t)-3, NX),
    V1(fpu_cvt_lu_d, 0x43efffffffffffffull, ALL, 0xfffffffffffff800ull, 0),
    V1(fpu_cvt_lu_d, 0x43f0000000000000ull, ALL, 0xffffffffffffffffull, NV),
    V1(fpu_cvt_lu_d, D_N0, ALL, 0, 0),
    V1(fpu_cvt_lu_d, D_QNAN, ALL, 0xffffffffffffffffull, NV),
    V1(fpu_cvt_lu_d, 0xbfe0000000000000ull, RNE, 0, NX),
    V1(fpu_cvt_lu_d, 0xbfe0000000000000ull, RMM, 0, NV),
    V1(fpu_cvt_lu_d, D_HALF, RUP, 1, NX),

    /* integer -> float */
    V1(fpu_cvt_s_w, 0, ALL, S_0, 0),
    V1(fpu_cvt_s_w, 0xffffffffull, ALL, S_N1, 0),
    V1(fpu_cvt_s_w, 0x0000000100000001ull, ALL, S_1, 0),
    V1(fpu_cvt_s_w, 0x80000000ull, ALL, B(0xcf000000), 0),
    V1(fpu_cvt_s_w, 0x01000001ull, RNE, B(0x4b800000), NX),
    V1(fpu_cvt_s_w, 0x01000001ull, RMM, B(0x4b800001), NX),
    V1(fpu_cvt_s_w, 0x01000001ull, RUP, B(0x4b800001), NX),
    V1(fpu_cvt_s_w, 0x01000003ull, RNE, B(0x4b800002), NX),
    V1(fpu_cvt_s_w, 0xfeffffffull, RDN, B(0xcb800001), NX),
    V1(fpu_cvt_s_w, 0x7fffffffull, RNE, B(0x4f000000), NX),
    V1(fpu_cvt_s_w, 0x7fffffffull, RTZ, B(0x4effffff), NX),
    V1(fpu_cvt_s_wu, 0xffffffffull, RNE, B(0x4f800000), NX),
    V1(fpu_cvt_s_wu, 0xffffffffull, RTZ, B(0x4f7fffff), NX),
    V1(fpu_cvt_s_wu, 0xffffffff00000003ull, ALL, S_3, 0),
    V1(fpu_cvt_s_l, 0x8000000000000000ull, ALL, B(0xdf000000), 0),
    V1(fpu_cvt_s_l, 0xffffffffffffffffull, ALL, S_N1, 0),
    V1(fpu_cvt_s_l, 0x7fffffffffffffffull, RNE, B(0x5f000000), NX),
    V1(fpu_cvt_s_l, 0x7fffffffffffffffull, RTZ, B(0x5effffff), NX),
    V1(fpu_cvt_s_lu, 0xffffffffffffffffull, RNE, B(0x5f800000), NX),
    V1(fpu_cvt_s_lu, 0xffffffffffffffffull, RDN, B(0x5f7fffff), NX),
    V1(fpu_cvt_s_lu, 0x8000008000000000ull, RNE, B(0x5f000000), NX),
    V1(fpu_cvt_s_lu, 0x8000008000000000ull, RMM, B(0x5f000001), NX),
    V1(fpu_cvt_d_w, 0xffffffffull, ALL, D_N1, 0),
    V1(fpu_cvt_d_w, 0x80000000ull, ALL, 0xc1e0000000000000ull, 0),
    V1(fpu_cvt_d_wu, 0xffffffffull, ALL, 0x41efffffffe00000ull, 0),
    V1(fpu_cvt_d_l, 0x0020000000000001ull, RNE, 0x4340000000000000ull, NX),
    V1(fpu_cvt_d_l, 0x0020000000000001ull, RMM, 0x4340000000000001ull, NX),
    V1(fpu_cvt_d_l, 0x0020000000000003ull, RNE, 0x4340000000000002ull, NX),
    V1(fpu_cvt_d_l, 0x8000000000000000ull, ALL, 0xc3e0000000000000ull, 0),
    V1(fpu_cvt_d_l, 0xffffffffffffffffull, ALL, D_N1, 0),
    V1(fpu_cvt_d_lu, 0, ALL, D_0, 0),
    V1(fpu_cvt_d_lu, 0xffffffffffffffffull, RNE, 0x43f0000000000000ull, NX),
    V1(fpu_cvt_d_lu, 0xffffffffffffffffull, RTZ, 0x43efffffffffffffull, NX),

    /* between formats */
    V1(fpu_cvt_s_d, D_1, ALL, S_1, 0),
    V1(fpu_cvt_s_d, D_N0, ALL, S_N0, 0),
    V1(fpu_cvt_s_d, D_NINF, ALL, S_NINF, 0),
    V1(fpu_cvt_s_d, 0xfff8000000000123ull, ALL, S_QNAN, 0),
    V1(fpu_cvt_s_d, D_SNAN, ALL, S_QNAN, NV),
    V1(fpu_cvt_s_d, 0x7e37e43c8800759cull, RNE, S_INF, OF | NX),
    V1(fpu_cvt_s_d, 0x7e37e43c8800759cull, RTZ, S_MAX, OF | NX),
    V1(fpu_cvt_s_d, 0x47effffff0000000ull, RNE, S_INF, OF | NX),
    V1(fpu_cvt_s_d, 0x47effffff0000000ull, RTZ, S_MAX, NX),
    V1(fpu_cvt_s_d, 0x47effffff0000000ull, RDN, S_MAX, NX),
    V1(fpu_cvt_s_d, 0x3690000000000000ull, RNE, S_0, UF | NX),
    V1(fpu_cvt_s_d, 0x3690000000000000ull, RMM, S_MINSUB, UF | NX),
    V1(fpu_cvt_s_d, 0x3690000000000001ull, RNE, S_MINSUB, UF | NX),
    V1(fpu_cvt_s_d, 0x36a0000000000000ull, ALL, S_MINSUB, 0),
    V1(fpu_cvt_s_d, 0x380fffffffffffffull, RNE, S_MINNORM, NX),
    V1(fpu_cvt_s_d, 0x380fffffffffffffull, RTZ, S_MAXSUB, UF | NX),
    V1(fpu_cvt_s_d, 0x380ffffff0000000ull, RNE, S_MINNORM, NX),
    V1(fpu_cvt_s_d, 0x380ffffff0000000ull, RMM, S_MINNORM, NX),
    V1(fpu_cvt_s_d, 0x380fffffe0000000ull, RNE, S_MINNORM, UF | NX),
    V1(fpu_cvt_s_d, 0x380fffffe0000000ull, RDN, S_MAXSUB, UF | NX),
    V1(fpu_cvt_s_d, 0x3ff0000010000000ull, RNE, S_1, NX),
    V1(fpu_cvt_s_d, 0x3ff0000010000000ull, RMM, B(0x3f800001), NX),
    V1(fpu_cvt_d_s, S_MINSUB, ALL, 0x36a0000000000000ull, 0),
    V1(fpu_cvt_d_s, S_MAX, ALL, 0x47efffffe0000000ull, 0),
    V1(fpu_cvt_d_s, S_NINF, ALL, D_NINF, 0),
    V1(fpu_cvt_d_s, S_N0, ALL, D_N0, 0),
    V1(fpu_cvt_d_s, S_SNAN, ALL, D_QNAN, NV),
    V1(fpu_cvt_d_s, B(0xffc00001), ALL, D_QNAN, 0),
    V1(fpu_cvt_d_s, S_UNBOXED, ALL, D_QNAN, 0),
    V1(fpu_cvt_d_s, B(0x3eaaaaab), ALL, 0x3fd5555560000000ull, 0),
};

static uint64_t vec_call(const Vec *v, int rm, uint32_t *fl)
{
    if (v->f1) {
        return v->f1(v->a, rm, fl);
    }
    if (v->f2) {
        return v->f2(v->a, v->b, rm, fl);
    }
    if (v->f3) {
        return v->f3(v->a, v->b, v->c, rm, fl);
    }
    if (v->g2) {
        return v->g2(v->a, v->b, fl);
    }
    if (v->p2) {
        return v->p2(v->a, v->b);
    }
    return v->p1(v->a);
}

static void test_directed(void)
{
    static const char *const rm_names[] = { "rne", "rtz", "rdn", "rup", "rmm" };
    unsigned failures = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++) {
        const Vec *v = &vectors[i];
        int lo = v->rm == ALL ? 0 : v->rm, hi = v->rm == ALL ? 4 : v->rm;

        for (int rm = lo; rm <= hi; rm++) {
            uint32_t fl = 0;
            uint64_t r = vec_call(v, rm, &fl);

            if (r != v->r || fl != v->fl) {
                g_test_message("vector %zu: %s(%016" G_GINT64_MODIFIER "x, %016"
                               G_GINT64_MODIFIER "x, %016" G_GINT64_MODIFIER "x) %s -> %016"
                               G_GINT64_MODIFIER "x flags %02x, expected %016"
                               G_GINT64_MODIFIER "x flags %02x",
                               i, v->name, v->a, v->b, v->c, rm_names[rm], r, fl, v->r, v->fl);
                failures++;
            }
        }
    }
    g_assert_cmpuint(failures, ==, 0);
}

/* fflags accumulate: a function ORs its flags in and never clears others. */
static void test_flags_accumulate(void)
{
    uint32_t fl = FFLAG_DZ;

    fpu_add_s(S_1, B(0x33800000), FPU_RNE, &fl);
    g_assert_cmpuint(fl, ==, FFLAG_DZ | FFLAG_NX);
    fpu_add_d(D_1, D_1, FPU_RNE, &fl);
    g_assert_cmpuint(fl, ==, FFLAG_DZ | FFLAG_NX);
    fpu_lt_d(D_QNAN, D_1, &fl);
    g_assert_cmpuint(fl, ==, FFLAG_DZ | FFLAG_NX | FFLAG_NV);
}

/* ---- randomized differential test against x86 SSE ---- */

#if defined(__x86_64__)

#define N_RANDOM 200000
#define SEED 0x5eed5eedu

typedef struct Rng {
    uint64_t s;
} Rng;

static uint64_t rng_next(Rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

/* Random encodings weighted toward the edges: zeros, subnormals, extremes, ties, NaNs. */
static uint64_t rand_float(Rng *r, int mbits, int ebits)
{
    uint64_t x = rng_next(r);
    uint64_t emax = (1u << ebits) - 1, bias = emax >> 1;
    uint64_t frac = rng_next(r) & ((1ull << mbits) - 1);
    uint64_t exp;

    switch (x % 16) {
    case 0:
        exp = 0;
        break;
    case 1:
        exp = 1 + (x >> 8) % 3;
        break;
    case 2:
        exp = emax - 1 - (x >> 8) % 3;
        break;
    case 3:
        exp = emax;
        frac = (x >> 8) % 4 == 0 ? 0 : frac;
        break;
    case 4:
        exp = (x >> 8) % 2 ? 0 : bias;
        frac = 0;
        break;
    case 5:
        /* few significant bits: exact results and ties */
        exp = bias - 4 + (x >> 8) % 9;
        frac &= ~((1ull << (mbits - 3)) - 1);
        break;
    case 6:
        exp = bias - mbits - 2 + (x >> 8) % 5;
        break;
    case 7:
        exp = (x >> 8) % emax;
        break;
    case 8:
        /* significand of all ones but for a few low bits: rounds up across a binade */
        exp = (x >> 8) % 4 == 0 ? (x >> 10) % 3 : bias - 2 + (x >> 10) % 4;
        frac = ((1ull << mbits) - 1) ^ ((x >> 16) & 7);
        break;
    default:
        exp = bias - 8 + (x >> 8) % 16;
        break;
    }
    return ((x >> 63) << (mbits + ebits)) | (exp << mbits) | frac;
}

/* x86 MXCSR rounding control for RNE/RTZ/RDN/RUP; RMM has no x86 equivalent. */
static const uint32_t mxcsr_rc[4] = { 0 << 13, 3 << 13, 1 << 13, 2 << 13 };

static uint32_t mxcsr_to_fflags(uint32_t m)
{
    return (m & 0x01 ? FFLAG_NV : 0) | (m & 0x04 ? FFLAG_DZ : 0) | (m & 0x08 ? FFLAG_OF : 0) |
           (m & 0x10 ? FFLAG_UF : 0) | (m & 0x20 ? FFLAG_NX : 0);
}

enum {
    H_ADD, H_SUB, H_MUL, H_DIV, H_SQRT, H_MADD, H_MSUB, H_NMSUB, H_NMADD, H_EQ, H_LT, H_LE,
    H_CVT_W, H_CVT_L, H_CVT_FROM_W, H_CVT_FROM_WU, H_CVT_FROM_L, H_CVT_NARROW, H_CVT_WIDEN,
    H_NOPS
};

static const char *const h_names[H_NOPS] = {
    "add", "sub", "mul", "div", "sqrt", "madd", "msub", "nmsub", "nmadd", "eq", "lt", "le",
    "cvt.w", "cvt.l", "cvt.from.w", "cvt.from.wu", "cvt.from.l", "cvt.s.d", "cvt.d.s",
};

/* Runs one SSE instruction with MXCSR = mx (all exceptions masked); returns the raw result. */
#define SSE_RUN(insn, out, in_a, in_b, in_c, mx, mxout) \
    asm volatile("ldmxcsr %[m]\n\t" insn "\n\tstmxcsr %[mo]" \
                 : [x] "+x"(out), [mo] "=m"(mxout) \
                 : [a] "x"(in_a), [b] "x"(in_b), [c] "x"(in_c), [m] "m"(mx) : "memory")

typedef double __attribute__((vector_size(16))) V2D;

static V2D v_of(uint64_t bits)
{
    V2D v = { 0, 0 };
    memcpy(&v, &bits, sizeof(bits));
    return v;
}

static uint64_t bits_of(V2D v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

/* x86 result for op on raw operands (binary32 in the low 32 bits when dbl is false). */
static uint64_t host_op(int op, bool dbl, uint64_t a, uint64_t b, uint64_t c, int rm,
                        uint32_t *fl)
{
    uint32_t mx = 0x1f80 | mxcsr_rc[rm], mo = 0;
    V2D va = v_of(a), vb = v_of(b), vc = v_of(c), x = va;
    int64_t i64 = 0;

    switch (op * 2 + dbl) {
    case H_ADD * 2: SSE_RUN("addss %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_ADD * 2 + 1: SSE_RUN("addsd %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_SUB * 2: SSE_RUN("subss %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_SUB * 2 + 1: SSE_RUN("subsd %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_MUL * 2: SSE_RUN("mulss %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_MUL * 2 + 1: SSE_RUN("mulsd %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_DIV * 2: SSE_RUN("divss %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_DIV * 2 + 1: SSE_RUN("divsd %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_SQRT * 2: SSE_RUN("sqrtss %[a], %[x]", x, va, vb, vc, mx, mo); break;
    case H_SQRT * 2 + 1: SSE_RUN("sqrtsd %[a], %[x]", x, va, vb, vc, mx, mo); break;
    /* x = a; vfmadd213: x = x * b + c.  x86 fnmadd = -(a*b)+c is RISC-V fnmsub. */
    case H_MADD * 2: SSE_RUN("vfmadd213ss %[c], %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_MADD * 2 + 1: SSE_RUN("vfmadd213sd %[c], %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_MSUB * 2: SSE_RUN("vfmsub213ss %[c], %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_MSUB * 2 + 1: SSE_RUN("vfmsub213sd %[c], %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_NMSUB * 2: SSE_RUN("vfnmadd213ss %[c], %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_NMSUB * 2 + 1:
        SSE_RUN("vfnmadd213sd %[c], %[b], %[x]", x, va, vb, vc, mx, mo);
        break;
    case H_NMADD * 2: SSE_RUN("vfnmsub213ss %[c], %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_NMADD * 2 + 1:
        SSE_RUN("vfnmsub213sd %[c], %[b], %[x]", x, va, vb, vc, mx, mo);
        break;
    /* cmpss predicates: 0 EQ_OQ (quiet), 1 LT_OS, 2 LE_OS (signaling) */
    case H_EQ * 2: SSE_RUN("cmpeqss %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_EQ * 2 + 1: SSE_RUN("cmpeqsd %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_LT * 2: SSE_RUN("cmpltss %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_LT * 2 + 1: SSE_RUN("cmpltsd %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_LE * 2: SSE_RUN("cmpless %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_LE * 2 + 1: SSE_RUN("cmplesd %[b], %[x]", x, va, vb, vc, mx, mo); break;
    case H_CVT_W * 2:
        asm volatile("ldmxcsr %[m]\n\tcvtss2si %[a], %k[r]\n\tstmxcsr %[mo]"
                     : [r] "=r"(i64), [mo] "=m"(mo) : [a] "x"(va), [m] "m"(mx) : "memory");
        i64 = (int32_t)i64;
        break;
    case H_CVT_W * 2 + 1:
        asm volatile("ldmxcsr %[m]\n\tcvtsd2si %[a], %k[r]\n\tstmxcsr %[mo]"
                     : [r] "=r"(i64), [mo] "=m"(mo) : [a] "x"(va), [m] "m"(mx) : "memory");
        i64 = (int32_t)i64;
        break;
    case H_CVT_L * 2:
        asm volatile("ldmxcsr %[m]\n\tcvtss2si %[a], %q[r]\n\tstmxcsr %[mo]"
                     : [r] "=r"(i64), [mo] "=m"(mo) : [a] "x"(va), [m] "m"(mx) : "memory");
        break;
    case H_CVT_L * 2 + 1:
        asm volatile("ldmxcsr %[m]\n\tcvtsd2si %[a], %q[r]\n\tstmxcsr %[mo]"
                     : [r] "=r"(i64), [mo] "=m"(mo) : [a] "x"(va), [m] "m"(mx) : "memory");
        break;
    case H_CVT_FROM_W * 2:
    case H_CVT_FROM_WU * 2:
    case H_CVT_FROM_L * 2:
        i64 = op == H_CVT_FROM_W ? (int32_t)a : op == H_CVT_FROM_WU ? (int64_t)(uint32_t)a
                                                                      : (int64_t)a;
        asm volatile("ldmxcsr %[m]\n\tcvtsi2ssq %[i], %[x]\n\tstmxcsr %[mo]"
                     : [x] "+x"(x), [mo] "=m"(mo) : [i] "r"(i64), [m] "m"(mx) : "memory");
        break;
    case H_CVT_FROM_W * 2 + 1:
    case H_CVT_FROM_WU * 2 + 1:
    case H_CVT_FROM_L * 2 + 1:
        i64 = op == H_CVT_FROM_W ? (int32_t)a : op == H_CVT_FROM_WU ? (int64_t)(uint32_t)a
                                                                      : (int64_t)a;
        asm volatile("ldmxcsr %[m]\n\tcvtsi2sdq %[i], %[x]\n\tstmxcsr %[mo]"
                     : [x] "+x"(x), [mo] "=m"(mo) : [i] "r"(i64), [m] "m"(mx) : "memory");
        break;
    case H_CVT_NARROW * 2 + 1: SSE_RUN("cvtsd2ss %[a], %[x]", x, va, vb, vc, mx, mo); break;
    case H_CVT_WIDEN * 2: SSE_RUN("cvtss2sd %[a], %[x]", x, va, vb, vc, mx, mo); break;
    default:
        g_assert_not_reached();
    }
    *fl = mxcsr_to_fflags(mo);
    if (op == H_CVT_W || op == H_CVT_L) {
        return (uint64_t)i64;
    }
    if (op == H_EQ || op == H_LT || op == H_LE) {
        return bits_of(x) & 1;
    }
    if (op == H_CVT_NARROW || (!dbl && op != H_CVT_WIDEN)) {
        return (uint32_t)bits_of(x);
    }
    return bits_of(x);
}

/* The same operation through target/riscv/fpu.c; binary32 results unboxed. */
static uint64_t soft_op(int op, bool dbl, uint64_t a, uint64_t b, uint64_t c, int rm,
                        uint32_t *fl)
{
    uint64_t r;

    if (!dbl && op != H_CVT_FROM_W && op != H_CVT_FROM_WU && op != H_CVT_FROM_L) {
        a = B(a);
        b = B(b);
        c = B(c);
    }
    switch (op) {
    case H_ADD: r = (dbl ? fpu_add_d : fpu_add_s)(a, b, rm, fl); break;
    case H_SUB: r = (dbl ? fpu_sub_d : fpu_sub_s)(a, b, rm, fl); break;
    case H_MUL: r = (dbl ? fpu_mul_d : fpu_mul_s)(a, b, rm, fl); break;
    case H_DIV: r = (dbl ? fpu_div_d : fpu_div_s)(a, b, rm, fl); break;
    case H_SQRT: r = (dbl ? fpu_sqrt_d : fpu_sqrt_s)(a, rm, fl); break;
    case H_MADD: r = (dbl ? fpu_madd_d : fpu_madd_s)(a, b, c, rm, fl); break;
    case H_MSUB: r = (dbl ? fpu_msub_d : fpu_msub_s)(a, b, c, rm, fl); break;
    case H_NMSUB: r = (dbl ? fpu_nmsub_d : fpu_nmsub_s)(a, b, c, rm, fl); break;
    case H_NMADD: r = (dbl ? fpu_nmadd_d : fpu_nmadd_s)(a, b, c, rm, fl); break;
    case H_EQ: return (dbl ? fpu_eq_d : fpu_eq_s)(a, b, fl);
    case H_LT: return (dbl ? fpu_lt_d : fpu_lt_s)(a, b, fl);
    case H_LE: return (dbl ? fpu_le_d : fpu_le_s)(a, b, fl);
    case H_CVT_W: return (dbl ? fpu_cvt_w_d : fpu_cvt_w_s)(a, rm, fl);
    case H_CVT_L: return (dbl ? fpu_cvt_l_d : fpu_cvt_l_s)(a, rm, fl);
    case H_CVT_FROM_W: r = (dbl ? fpu_cvt_d_w : fpu_cvt_s_w)(a, rm, fl); break;
    case H_CVT_FROM_WU: r = (dbl ? fpu_cvt_d_wu : fpu_cvt_s_wu)(a, rm, fl); break;
    case H_CVT_FROM_L: r = (dbl ? fpu_cvt_d_l : fpu_cvt_s_l)(a, rm, fl); break;
    case H_CVT_NARROW: return (uint32_t)fpu_cvt_s_d(a, rm, fl);
    case H_CVT_WIDEN: return fpu_cvt_d_s(a, rm, fl);
    default:
        g_assert_not_reached();
    }
    return dbl ? r : (uint32_t)r;
}

static bool is_nan(uint64_t x, bool dbl)
{
    return dbl ? (x & ~(1ull << 63)) > 0x7ff0000000000000ull
               : (x & 0x7fffffffu) > 0x7f800000u && (x >> 32) == 0;
}

static bool inf_times_zero(uint64_t a, uint64_t b, bool dbl)
{
    uint64_t mag = dbl ? ~(1ull << 63) : 0x7fffffffu;
    uint64_t inf = dbl ? 0x7ff0000000000000ull : 0x7f800000u;

    return ((a & mag) == inf && (b & mag) == 0) || ((a & mag) == 0 && (b & mag) == inf);
}

/* Gives b the exponent that puts a * b just below the smallest normal (same significand). */
static uint64_t scale_to_tiny(uint64_t a, uint64_t b, bool dbl)
{
    int mbits = dbl ? 52 : 23;
    int64_t bias = dbl ? 1023 : 127;
    int64_t ea = (a >> mbits) & (2 * bias + 1);
    int64_t eb = bias - 1 - ea;

    if (ea < 1 || eb < 1) {
        return b;
    }
    return (b & ~((uint64_t)(2 * bias + 1) << mbits)) | ((uint64_t)eb << mbits);
}

static bool op_has_format(int op, bool dbl)
{
    return !(op == H_CVT_NARROW && !dbl) && !(op == H_CVT_WIDEN && dbl);
}

/* Operand formats: integer sources for cvt.from.*, the other format for the cross casts. */
static uint64_t rand_operand(Rng *r, int op, bool dbl)
{
    switch (op) {
    case H_CVT_FROM_W:
    case H_CVT_FROM_WU:
    case H_CVT_FROM_L:
        return rng_next(r) >> (rng_next(r) % 64);
    case H_CVT_NARROW: {
        /* a quarter near the binary32 subnormal and overflow boundaries */
        uint64_t x = rand_float(r, 52, 11), k = rng_next(r);
        uint64_t e = k % 2 ? 1023 - 152 + (k >> 8) % 28 : 1023 + 126 + (k >> 8) % 3;
        return k % 4 == 3 ? (x & ~(0x7ffull << 52)) | (e << 52) : x;
    }
    case H_CVT_WIDEN:
        return rand_float(r, 23, 8);
    default:
        return dbl ? rand_float(r, 52, 11) : rand_float(r, 23, 8);
    }
}

static void test_vs_host(void)
{
    Rng rng = { SEED };
    unsigned failures = 0;
    bool have_fma = __builtin_cpu_supports("fma");

    for (int op = 0; op < H_NOPS; op++) {
        bool fma = op >= H_MADD && op <= H_NMADD;

        if (fma && !have_fma) {
            g_test_message("host has no FMA3: fused multiply-add not compared");
            continue;
        }
        for (int dbl = 0; dbl < 2; dbl++) {
            if (!op_has_format(op, dbl)) {
                continue;
            }
            for (int i = 0; i < N_RANDOM; i++) {
                int rm = i % 4;
                uint64_t a = rand_operand(&rng, op, dbl);
                uint64_t b = rand_operand(&rng, op, dbl);
                uint64_t c = rand_operand(&rng, op, dbl);
                uint32_t hf = 0, sf = 0;
                uint64_t hr, sr;
                bool rnan, rdbl = op == H_CVT_WIDEN || (dbl && op != H_CVT_NARROW);

                if ((op == H_MUL || fma) && i % 5 == 1) {
                    b = scale_to_tiny(a, b, dbl);
                }
                if (fma && i % 3 == 0) {
                    /* c = -(a*b) rounded: exercises massive cancellation */
                    uint32_t dummy = 0;
                    c = soft_op(H_MUL, dbl, a, b, 0, FPU_RNE, &dummy) ^
                        (dbl ? 1ull << 63 : 1ull << 31);
                }
                hr = host_op(op, dbl, a, b, c, rm, &hf);
                sr = soft_op(op, dbl, a, b, c, rm, &sf);
                /* RISC-V saturates out-of-range conversions where x86 returns 0x80..0. */
                if ((op == H_CVT_W || op == H_CVT_L) && (hf & FFLAG_NV)) {
                    hr = sr;
                }
                /* RISC-V raises NV for inf * 0 even when the addend is a quiet NaN. */
                if (fma && inf_times_zero(a, b, dbl) && is_nan(c, dbl)) {
                    hf |= FFLAG_NV;
                }
                /* NaN payloads differ by design (RISC-V returns the canonical NaN). */
                rnan = op != H_EQ && op != H_LT && op != H_LE && op != H_CVT_W &&
                       op != H_CVT_L && is_nan(hr, rdbl) && is_nan(sr, rdbl);
                if ((rnan ? false : hr != sr) || hf != sf) {
                    if (failures++ < 20) {
                        g_test_message("seed %#x case %d: %s.%c rm %d a=%016" G_GINT64_MODIFIER
                                       "x b=%016" G_GINT64_MODIFIER "x c=%016"
                                       G_GINT64_MODIFIER "x: soft %016" G_GINT64_MODIFIER
                                       "x/%02x host %016" G_GINT64_MODIFIER "x/%02x",
                                       SEED, i, h_names[op], dbl ? 'd' : 's', rm, a, b, c,
                                       sr, sf, hr, hf);
                    }
                }
            }
        }
    }
    if (failures) {
        g_test_message("randomized differential test: %u mismatches (seed %#x)", failures,
                       SEED);
    }
    g_assert_cmpuint(failures, ==, 0);
}

#endif

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fpu/directed", test_directed);
    g_test_add_func("/fpu/flags-accumulate", test_flags_accumulate);
#if defined(__x86_64__)
    g_test_add_func("/fpu/vs-host-sse", test_vs_host);
#endif
    return g_test_run();
}
