/*
 * fpdiff: runs every RISC-V F/D instruction over a table of interesting operands, in every
 * static rounding mode and through frm (dyn), and prints one line per (instruction, mode):
 *     <mnemonic> <mode> <64-bit hash of all results and fflags> <count>
 * Two builds print the same text when the arithmetic agrees:
 *   - bare metal (riscv64, default): runs the real instructions on the virt board, output on
 *     the ns16550a UART, exit through sifive_test;
 *   - host (-DFPDIFF_HOST): calls target/riscv/fpu.c, output on stdout.
 * -DFPDIFF_VERBOSE prints every operation instead; -DFPDIFF_ONLY='"fadd.s"' limits the run to
 * one mnemonic; -DFPDIFF_RANDOM=n sets how many random operands join each table.
 */
#include <stdint.h>

#ifdef FPDIFF_HOST
#include <stdio.h>
#include <string.h>
#include "target/riscv/fpu.h"
#endif

/* ---- output ---- */

#ifdef FPDIFF_HOST
static void out_char(char c)
{
    putchar(c);
}
#else
#define UART_BASE ((volatile uint8_t *)0x10000000)
#define UART_LSR_THRE 0x20

static void out_char(char c)
{
    while (!(UART_BASE[5] & UART_LSR_THRE)) {
    }
    UART_BASE[0] = (uint8_t)c;
}
#endif

static void out_str(const char *s)
{
    while (*s) {
        out_char(*s++);
    }
}

static void out_hex(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        out_char("0123456789abcdef"[(v >> (i * 4)) & 15]);
    }
}

static void out_dec(uint64_t v)
{
    char buf[24];
    int n = 0;

    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        out_char(buf[--n]);
    }
}

static int str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* ---- instruction kinds ---- */

enum {
    K_FF_RM,    /* fd = op(fs1, fs2, rm) */
    K_FFF_RM,   /* fd = op(fs1, fs2, fs3, rm) */
    K_F_RM,     /* fd = op(fs1, rm) */
    K_F_RMX,    /* same, encoded with .insn (the assembler refuses an rm there) */
    K_FF,       /* fd = op(fs1, fs2), raises flags */
    K_SGNJ,     /* fd = op(fs1, fs2), no flags */
    K_XFF,      /* rd = op(fs1, fs2) */
    K_XF,       /* rd = op(fs1), no flags */
    K_XF_RM,    /* rd = op(fs1, rm) */
    K_FX_RM,    /* fd = op(rs1, rm) */
    K_FX_RMX,   /* same, encoded with .insn */
    K_FX,       /* fd = op(rs1) */
    K_LD,       /* fd = load(mem) */
    K_ST,       /* store(fs2) into mem, read back 64 bits */
};

enum { FMT_S, FMT_D, FMT_X };

typedef uint64_t (*OpFn)(uint64_t a, uint64_t b, uint64_t c, uint64_t frm, uint32_t *fl);

/* One instruction: fn[0..4] use static rm RNE..RMM, fn[5] uses dyn; others only fn[0]. */
typedef struct Op {
    const char *name;
    int kind;
    int fmt;
    OpFn fn[6];
} Op;

/*
 * X(id, mnemonic, assembler text, kind, operand format, host function)
 * For K_*_RMX the assembler text is the ".insn r OP_FP, rm," tail: funct7, rd, rs1, rs2.
 */
#define FPDIFF_OPS(X) \
    X(fadd_s, "fadd.s", "fadd.s", K_FF_RM, FMT_S, fpu_add_s) \
    X(fsub_s, "fsub.s", "fsub.s", K_FF_RM, FMT_S, fpu_sub_s) \
    X(fmul_s, "fmul.s", "fmul.s", K_FF_RM, FMT_S, fpu_mul_s) \
    X(fdiv_s, "fdiv.s", "fdiv.s", K_FF_RM, FMT_S, fpu_div_s) \
    X(fsqrt_s, "fsqrt.s", "fsqrt.s", K_F_RM, FMT_S, fpu_sqrt_s) \
    X(fmadd_s, "fmadd.s", "fmadd.s", K_FFF_RM, FMT_S, fpu_madd_s) \
    X(fmsub_s, "fmsub.s", "fmsub.s", K_FFF_RM, FMT_S, fpu_msub_s) \
    X(fnmsub_s, "fnmsub.s", "fnmsub.s", K_FFF_RM, FMT_S, fpu_nmsub_s) \
    X(fnmadd_s, "fnmadd.s", "fnmadd.s", K_FFF_RM, FMT_S, fpu_nmadd_s) \
    X(fmin_s, "fmin.s", "fmin.s", K_FF, FMT_S, fpu_min_s) \
    X(fmax_s, "fmax.s", "fmax.s", K_FF, FMT_S, fpu_max_s) \
    X(fsgnj_s, "fsgnj.s", "fsgnj.s", K_SGNJ, FMT_S, fpu_sgnj_s) \
    X(fsgnjn_s, "fsgnjn.s", "fsgnjn.s", K_SGNJ, FMT_S, fpu_sgnjn_s) \
    X(fsgnjx_s, "fsgnjx.s", "fsgnjx.s", K_SGNJ, FMT_S, fpu_sgnjx_s) \
    X(feq_s, "feq.s", "feq.s", K_XFF, FMT_S, fpu_eq_s) \
    X(flt_s, "flt.s", "flt.s", K_XFF, FMT_S, fpu_lt_s) \
    X(fle_s, "fle.s", "fle.s", K_XFF, FMT_S, fpu_le_s) \
    X(fclass_s, "fclass.s", "fclass.s", K_XF, FMT_S, fpu_class_s) \
    X(fmv_x_w, "fmv.x.w", "fmv.x.w", K_XF, FMT_S, host_fmv_x_w) \
    X(fcvt_w_s, "fcvt.w.s", "fcvt.w.s", K_XF_RM, FMT_S, fpu_cvt_w_s) \
    X(fcvt_wu_s, "fcvt.wu.s", "fcvt.wu.s", K_XF_RM, FMT_S, fpu_cvt_wu_s) \
    X(fcvt_l_s, "fcvt.l.s", "fcvt.l.s", K_XF_RM, FMT_S, fpu_cvt_l_s) \
    X(fcvt_lu_s, "fcvt.lu.s", "fcvt.lu.s", K_XF_RM, FMT_S, fpu_cvt_lu_s) \
    X(fcvt_s_w, "fcvt.s.w", "fcvt.s.w", K_FX_RM, FMT_X, fpu_cvt_s_w) \
    X(fcvt_s_wu, "fcvt.s.wu", "fcvt.s.wu", K_FX_RM, FMT_X, fpu_cvt_s_wu) \
    X(fcvt_s_l, "fcvt.s.l", "fcvt.s.l", K_FX_RM, FMT_X, fpu_cvt_s_l) \
    X(fcvt_s_lu, "fcvt.s.lu", "fcvt.s.lu", K_FX_RM, FMT_X, fpu_cvt_s_lu) \
    X(fmv_w_x, "fmv.w.x", "fmv.w.x", K_FX, FMT_X, host_fmv_w_x) \
    X(flw, "flw", "flw", K_LD, FMT_X, host_flw) \
    X(fsw, "fsw", "fsw", K_ST, FMT_S, host_fsw) \
    X(fcvt_s_d, "fcvt.s.d", "fcvt.s.d", K_F_RM, FMT_D, fpu_cvt_s_d) \
    X(fadd_d, "fadd.d", "fadd.d", K_FF_RM, FMT_D, fpu_add_d) \
    X(fsub_d, "fsub.d", "fsub.d", K_FF_RM, FMT_D, fpu_sub_d) \
    X(fmul_d, "fmul.d", "fmul.d", K_FF_RM, FMT_D, fpu_mul_d) \
    X(fdiv_d, "fdiv.d", "fdiv.d", K_FF_RM, FMT_D, fpu_div_d) \
    X(fsqrt_d, "fsqrt.d", "fsqrt.d", K_F_RM, FMT_D, fpu_sqrt_d) \
    X(fmadd_d, "fmadd.d", "fmadd.d", K_FFF_RM, FMT_D, fpu_madd_d) \
    X(fmsub_d, "fmsub.d", "fmsub.d", K_FFF_RM, FMT_D, fpu_msub_d) \
    X(fnmsub_d, "fnmsub.d", "fnmsub.d", K_FFF_RM, FMT_D, fpu_nmsub_d) \
    X(fnmadd_d, "fnmadd.d", "fnmadd.d", K_FFF_RM, FMT_D, fpu_nmadd_d) \
    X(fmin_d, "fmin.d", "fmin.d", K_FF, FMT_D, fpu_min_d) \
    X(fmax_d, "fmax.d", "fmax.d", K_FF, FMT_D, fpu_max_d) \
    X(fsgnj_d, "fsgnj.d", "fsgnj.d", K_SGNJ, FMT_D, fpu_sgnj_d) \
    X(fsgnjn_d, "fsgnjn.d", "fsgnjn.d", K_SGNJ, FMT_D, fpu_sgnjn_d) \
    X(fsgnjx_d, "fsgnjx.d", "fsgnjx.d", K_SGNJ, FMT_D, fpu_sgnjx_d) \
    X(feq_d, "feq.d", "feq.d", K_XFF, FMT_D, fpu_eq_d) \
    X(flt_d, "flt.d", "flt.d", K_XFF, FMT_D, fpu_lt_d) \
    X(fle_d, "fle.d", "fle.d", K_XFF, FMT_D, fpu_le_d) \
    X(fclass_d, "fclass.d", "fclass.d", K_XF, FMT_D, fpu_class_d) \
    X(fmv_x_d, "fmv.x.d", "fmv.x.d", K_XF, FMT_D, host_fmv_x_d) \
    X(fcvt_w_d, "fcvt.w.d", "fcvt.w.d", K_XF_RM, FMT_D, fpu_cvt_w_d) \
    X(fcvt_wu_d, "fcvt.wu.d", "fcvt.wu.d", K_XF_RM, FMT_D, fpu_cvt_wu_d) \
    X(fcvt_l_d, "fcvt.l.d", "fcvt.l.d", K_XF_RM, FMT_D, fpu_cvt_l_d) \
    X(fcvt_lu_d, "fcvt.lu.d", "fcvt.lu.d", K_XF_RM, FMT_D, fpu_cvt_lu_d) \
    X(fcvt_d_w, "fcvt.d.w", "0x69, ft3, %[a], x0", K_FX_RMX, FMT_X, fpu_cvt_d_w) \
    X(fcvt_d_wu, "fcvt.d.wu", "0x69, ft3, %[a], x1", K_FX_RMX, FMT_X, fpu_cvt_d_wu) \
    X(fcvt_d_l, "fcvt.d.l", "fcvt.d.l", K_FX_RM, FMT_X, fpu_cvt_d_l) \
    X(fcvt_d_lu, "fcvt.d.lu", "fcvt.d.lu", K_FX_RM, FMT_X, fpu_cvt_d_lu) \
    X(fmv_d_x, "fmv.d.x", "fmv.d.x", K_FX, FMT_X, host_fmv_d_x) \
    X(fld, "fld", "fld", K_LD, FMT_X, host_fld) \
    X(fsd, "fsd", "fsd", K_ST, FMT_D, host_fsd) \
    X(fcvt_d_s, "fcvt.d.s", "0x21, ft3, ft0, f0", K_F_RMX, FMT_S, fpu_cvt_d_s)

#ifdef FPDIFF_HOST

/* ---- host back end: target/riscv/fpu.c plus the moves, loads and stores ---- */

static uint64_t host_fmv_x_w(uint64_t a)
{
    return (uint64_t)(int64_t)(int32_t)(uint32_t)a;
}

static uint64_t host_fmv_x_d(uint64_t a)
{
    return a;
}

static uint64_t host_fmv_w_x(uint64_t x)
{
    return x | 0xffffffff00000000ull;
}

static uint64_t host_fmv_d_x(uint64_t x)
{
    return x;
}

static uint64_t host_flw(uint64_t a, uint64_t mem)
{
    return mem | 0xffffffff00000000ull;
}

static uint64_t host_fld(uint64_t a, uint64_t mem)
{
    return mem;
}

static uint64_t host_fsw(uint64_t a, uint64_t mem)
{
    return (mem & 0xffffffff00000000ull) | (uint32_t)a;
}

static uint64_t host_fsd(uint64_t a, uint64_t mem)
{
    return a;
}

#define FN_HEAD(name) \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c, uint64_t frm, uint32_t *fl)

#define C_FF_RM(hf, rm) hf(a, b, rm, fl)
#define C_FFF_RM(hf, rm) hf(a, b, c, rm, fl)
#define C_F_RM(hf, rm) hf(a, rm, fl)

#define DEF_RM6(id, hf, CALL) \
    FN_HEAD(id##_rne) { return CALL(hf, FPU_RNE); } \
    FN_HEAD(id##_rtz) { return CALL(hf, FPU_RTZ); } \
    FN_HEAD(id##_rdn) { return CALL(hf, FPU_RDN); } \
    FN_HEAD(id##_rup) { return CALL(hf, FPU_RUP); } \
    FN_HEAD(id##_rmm) { return CALL(hf, FPU_RMM); } \
    FN_HEAD(id##_dyn) { return CALL(hf, (int)frm); }

#define DEF_K_FF_RM(id, as, hf) DEF_RM6(id, hf, C_FF_RM)
#define DEF_K_FFF_RM(id, as, hf) DEF_RM6(id, hf, C_FFF_RM)
#define DEF_K_F_RM(id, as, hf) DEF_RM6(id, hf, C_F_RM)
#define DEF_K_F_RMX(id, as, hf) DEF_RM6(id, hf, C_F_RM)
#define DEF_K_XF_RM(id, as, hf) DEF_RM6(id, hf, C_F_RM)
#define DEF_K_FX_RM(id, as, hf) DEF_RM6(id, hf, C_F_RM)
#define DEF_K_FX_RMX(id, as, hf) DEF_RM6(id, hf, C_F_RM)
#define DEF_K_FF(id, as, hf) FN_HEAD(id##_x) { return hf(a, b, fl); }
#define DEF_K_SGNJ(id, as, hf) FN_HEAD(id##_x) { return hf(a, b); }
#define DEF_K_XFF(id, as, hf) FN_HEAD(id##_x) { return hf(a, b, fl); }
#define DEF_K_XF(id, as, hf) FN_HEAD(id##_x) { return hf(a); }
#define DEF_K_FX(id, as, hf) FN_HEAD(id##_x) { return hf(a); }
#define DEF_K_LD(id, as, hf) FN_HEAD(id##_x) { return hf(a, c); }
#define DEF_K_ST(id, as, hf) FN_HEAD(id##_x) { return hf(a, c); }

#else

/* ---- bare-metal back end: the real instructions ---- */

/*
 * Loads ft0..ft2 from a, b, c, sets frm, clears fflags, runs body, reads fflags.
 * body leaves its result in %[r]; loads and stores use the 64-bit word at %[p], preset to c.
 */
#define FN_ASM(name, body) \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c, uint64_t frm, uint32_t *fl) \
    { \
        uint64_t r, f, mem = c; \
        asm volatile("fmv.d.x ft0, %[a]\n\tfmv.d.x ft1, %[b]\n\tfmv.d.x ft2, %[c]\n\t" \
                     "csrw frm, %[frm]\n\tcsrw fflags, zero\n\t" \
                     body "\n\tcsrr %[f], fflags" \
                     : [r] "=&r"(r), [f] "=&r"(f) \
                     : [a] "r"(a), [b] "r"(b), [c] "r"(c), [frm] "r"(frm), [p] "r"(&mem) \
                     : "ft0", "ft1", "ft2", "ft3", "memory"); \
        *fl = (uint32_t)f; \
        return r; \
    }

#define FRES "\n\tfmv.x.d %[r], ft3"
#define B_FF_RM(as, rm, num) as " ft3, ft0, ft1, " rm FRES
#define B_FFF_RM(as, rm, num) as " ft3, ft0, ft1, ft2, " rm FRES
#define B_F_RM(as, rm, num) as " ft3, ft0, " rm FRES
#define B_F_RMX(as, rm, num) ".insn r OP_FP, " num ", " as FRES
#define B_XF_RM(as, rm, num) as " %[r], ft0, " rm
#define B_FX_RM(as, rm, num) as " ft3, %[a], " rm FRES
#define B_FX_RMX(as, rm, num) ".insn r OP_FP, " num ", " as FRES

#define DEF_RM6(id, as, BODY) \
    FN_ASM(id##_rne, BODY(as, "rne", "0")) \
    FN_ASM(id##_rtz, BODY(as, "rtz", "1")) \
    FN_ASM(id##_rdn, BODY(as, "rdn", "2")) \
    FN_ASM(id##_rup, BODY(as, "rup", "3")) \
    FN_ASM(id##_rmm, BODY(as, "rmm", "4")) \
    FN_ASM(id##_dyn, BODY(as, "dyn", "7"))

#define DEF_K_FF_RM(id, as, hf) DEF_RM6(id, as, B_FF_RM)
#define DEF_K_FFF_RM(id, as, hf) DEF_RM6(id, as, B_FFF_RM)
#define DEF_K_F_RM(id, as, hf) DEF_RM6(id, as, B_F_RM)
#define DEF_K_F_RMX(id, as, hf) DEF_RM6(id, as, B_F_RMX)
#define DEF_K_XF_RM(id, as, hf) DEF_RM6(id, as, B_XF_RM)
#define DEF_K_FX_RM(id, as, hf) DEF_RM6(id, as, B_FX_RM)
#define DEF_K_FX_RMX(id, as, hf) DEF_RM6(id, as, B_FX_RMX)
#define DEF_K_FF(id, as, hf) FN_ASM(id##_x, as " ft3, ft0, ft1" FRES)
#define DEF_K_SGNJ(id, as, hf) FN_ASM(id##_x, as " ft3, ft0, ft1" FRES)
#define DEF_K_XFF(id, as, hf) FN_ASM(id##_x, as " %[r], ft0, ft1")
#define DEF_K_XF(id, as, hf) FN_ASM(id##_x, as " %[r], ft0")
#define DEF_K_FX(id, as, hf) FN_ASM(id##_x, as " ft3, %[a]" FRES)
#define DEF_K_LD(id, as, hf) FN_ASM(id##_x, as " ft3, 0(%[p])" FRES)
#define DEF_K_ST(id, as, hf) FN_ASM(id##_x, as " ft0, 0(%[p])\n\tld %[r], 0(%[p])")

#endif

#define DEFINE_OP(id, name, as, kind, fmt, hf) DEF_##kind(id, as, hf)
FPDIFF_OPS(DEFINE_OP)

#define FNS_K_FF_RM(id) { id##_rne, id##_rtz, id##_rdn, id##_rup, id##_rmm, id##_dyn }
#define FNS_K_FFF_RM(id) FNS_K_FF_RM(id)
#define FNS_K_F_RM(id) FNS_K_FF_RM(id)
#define FNS_K_F_RMX(id) FNS_K_FF_RM(id)
#define FNS_K_XF_RM(id) FNS_K_FF_RM(id)
#define FNS_K_FX_RM(id) FNS_K_FF_RM(id)
#define FNS_K_FX_RMX(id) FNS_K_FF_RM(id)
#define FNS_K_FF(id) { id##_x }
#define FNS_K_SGNJ(id) { id##_x }
#define FNS_K_XFF(id) { id##_x }
#define FNS_K_XF(id) { id##_x }
#define FNS_K_FX(id) { id##_x }
#define FNS_K_LD(id) { id##_x }
#define FNS_K_ST(id) { id##_x }

#define OP_ENTRY(id, name, as, kind, fmt, hf) { name, kind, fmt, FNS_##kind(id) },
static const Op ops[] = {
    FPDIFF_OPS(OP_ENTRY)
};

/* ---- operands ---- */

#define B(x) (0xffffffff00000000ull | (x))

static const uint64_t fixed_s[] = {
    B(0x00000000), B(0x80000000), B(0x3f800000), B(0xbf800000), B(0x3fc00000), B(0xbfc00000),
    B(0x3f000000), B(0xbf000000), B(0x40200000), B(0xc0200000), B(0x40600000), B(0x3dcccccd),
    B(0xbdcccccd), B(0x00800000), B(0x80800000), B(0x007fffff), B(0x00000001), B(0x80000001),
    B(0x00400000), B(0x00800001), B(0x00fffffe), B(0x7f7fffff), B(0xff7fffff), B(0x7f000000),
    B(0x7f800000), B(0xff800000), B(0x7fc00000), B(0xffc00123), B(0x7f800001), B(0xffa00000),
    B(0x3f800001), B(0x3f7fffff), B(0x4b800000), B(0x4b800001), B(0x4f000000), B(0x4effffff),
    B(0xcf000000), B(0xcf000001), B(0x4f800000), B(0x4f7fffff), B(0x5f000000), B(0xdf000000),
    B(0x5f800000), B(0x5f7fffff), B(0x3f000001), B(0x3effffff), B(0x40490fdb), B(0x3eaaaaab),
    B(0x3f800003), B(0xbf800003), B(0x0000ffff), B(0x1f800000), B(0x33800000), B(0x34000000),
    B(0x40400000), B(0xc0400000), B(0x40800000), B(0x3fb504f3), B(0xc0c00000),
    /* improperly NaN-boxed */
    0x000000003f800000ull, 0xfffffffe3f800000ull, 0x7ff8000000000000ull, 0x3ff0000000000000ull,
};

static const uint64_t fixed_d[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x3ff8000000000000ull, 0xbff8000000000000ull, 0x3fe0000000000000ull, 0xbfe0000000000000ull,
    0x4004000000000000ull, 0xc004000000000000ull, 0x400c000000000000ull, 0x3fb999999999999aull,
    0xbfb999999999999aull, 0x0010000000000000ull, 0x8010000000000000ull, 0x000fffffffffffffull,
    0x0000000000000001ull, 0x8000000000000001ull, 0x0008000000000000ull, 0x0010000000000001ull,
    0x001ffffffffffffeull, 0x7fefffffffffffffull, 0xffefffffffffffffull, 0x7fe0000000000000ull,
    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000123ull,
    0x7ff0000000000001ull, 0xfff4000000000000ull, 0x3ff0000000000001ull, 0x3fefffffffffffffull,
    0x4340000000000000ull, 0x4340000000000001ull, 0x41e0000000000000ull, 0x41dfffffffc00000ull,
    0x41dfffffffe00000ull, 0xc1e0000000000000ull, 0xc1e0000000100000ull, 0xc1e0000000200000ull,
    0x41f0000000000000ull, 0x41efffffffe00000ull, 0x41efffffffe00001ull, 0x41effffffff00000ull,
    0x43e0000000000000ull, 0xc3e0000000000000ull, 0xc3e0000000000001ull, 0x43f0000000000000ull,
    0x43efffffffffffffull, 0x3fe0000000000001ull, 0x3fdfffffffffffffull, 0x400921fb54442d18ull,
    0x3fd5555555555555ull, 0x3ff0000000000003ull, 0xbff0000000000003ull, 0x0170000000000000ull,
    0x7e70000000000000ull, 0x3cb0000000000000ull, 0x3ff6a09e667f3bcdull, 0x47efffffe0000000ull,
    0x47effffff0000000ull, 0x47effffff0000001ull, 0xc7effffff0000000ull, 0x3810000000000000ull,
    0x380fffffe0000000ull, 0x380ffffff0000000ull, 0x380fffffffffffffull, 0x36a0000000000000ull,
    0x3690000000000000ull, 0x3690000000000001ull, 0x36a8000000000000ull, 0xb6a8000000000000ull,
    0x4008000000000000ull, 0x4010000000000000ull, 0xc018000000000000ull, 0x4330000000000001ull,
};

/* For the fused multiply-adds (cubed, so kept short). */
static const uint64_t fma_s[] = {
    B(0x00000000), B(0x80000000), B(0x3f800000), B(0xbf800000), B(0x3f800001), B(0x3f7fffff),
    B(0xbf7fffff), B(0x00000001), B(0x00800000), B(0x80800000), B(0x7f7fffff), B(0x7f800000),
    B(0xff800000), B(0x7fc00000), B(0x7f800001), B(0x3f000000), B(0x40400000), B(0x3eaaaaab),
    B(0xbeaaaaab), B(0x1f800000), B(0x5f800000), B(0x40490fdb), B(0x34000000),
    0x000000003f800000ull,
};

static const uint64_t fma_d[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x3ff0000000000001ull, 0x3fefffffffffffffull, 0xbfefffffffffffffull, 0x0000000000000001ull,
    0x0010000000000000ull, 0x8010000000000000ull, 0x7fefffffffffffffull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff0000000000001ull, 0x3fe0000000000000ull,
    0x4008000000000000ull, 0x3fd5555555555555ull, 0xbfd5555555555555ull, 0x1ff0000000000000ull,
    0x5ff0000000000000ull, 0x400921fb54442d18ull, 0x3cb0000000000000ull, 0x3ca0000000000000ull,
};

static const uint64_t fixed_x[] = {
    0, 1, 2, 3, 7, 0xffffffffffffffffull, 0xfffffffffffffffeull, 0xfffffffffffffff9ull,
    0x7fffffff, 0x80000000, 0xffffffff80000000ull, 0xffffffff7fffffffull, 0xffffffff,
    0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0x8000000000000001ull,
    0x00ffffff, 0x01000001, 0x01000003, 0x01000002, 0xfffffffffeffffffull, 0x0020000000000001ull,
    0x0020000000000003ull, 0x0020000000000002ull, 0x7fffffc0, 0x7fffffbf, 0x7fffff80,
    123456789, 0xfffffffff8a432ebull, 0xfffffffe, 0x7fffff81, 0xffffff7f, 0xffffffc1,
    0xffffffff3f800000ull, 0x000000003f800000ull, 0x7ff0000000000001ull, 0x7fffff8000000000ull,
    0xfffffc0000000001ull, 0x8000008000000000ull, 0xffffffffffffff80ull,
};

#ifndef FPDIFF_RANDOM
#define FPDIFF_RANDOM 24        /* random operands added to each table */
#endif
#define N_RANDOM FPDIFF_RANDOM
#define N_FIXED_S (sizeof(fixed_s) / sizeof(fixed_s[0]))
#define N_FIXED_D (sizeof(fixed_d) / sizeof(fixed_d[0]))
#define N_FIXED_X (sizeof(fixed_x) / sizeof(fixed_x[0]))

static uint64_t vals_s[N_FIXED_S + N_RANDOM];
static uint64_t vals_d[N_FIXED_D + N_RANDOM];
static uint64_t vals_x[N_FIXED_X + N_RANDOM];

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random operands: half near 1.0 (exponents bias-4..bias+3), half with any finite exponent. */
static void operands_init(void)
{
    unsigned i;

    for (i = 0; i < N_FIXED_S; i++) {
        vals_s[i] = fixed_s[i];
    }
    for (i = 0; i < N_FIXED_D; i++) {
        vals_d[i] = fixed_d[i];
    }
    for (i = 0; i < N_FIXED_X; i++) {
        vals_x[i] = fixed_x[i];
    }
    for (i = 0; i < N_RANDOM; i++) {
        uint64_t r = rng_next();
        uint64_t es = (i & 1) ? (r >> 40) % 254 + 1 : 123 + (r >> 40) % 8;
        uint64_t ed = (i & 1) ? (r >> 40) % 2046 + 1 : 1019 + (r >> 40) % 8;
        vals_s[N_FIXED_S + i] = B(((r >> 63) << 31) | (es << 23) | (r & 0x7fffff));
        vals_d[N_FIXED_D + i] = ((r >> 63) << 63) | (ed << 52) | (rng_next() >> 12);
        vals_x[N_FIXED_X + i] = rng_next() >> (rng_next() % 64);
    }
}

/* ---- driver ---- */

#define N_VALS_S (sizeof(vals_s) / sizeof(vals_s[0]))
#define N_VALS_D (sizeof(vals_d) / sizeof(vals_d[0]))
#define N_VALS_X (sizeof(vals_x) / sizeof(vals_x[0]))
#define ST_PATTERN 0xa5a5a5a5a5a5a5a5ull

static const char *const mode_names[10] = {
    "rne", "rtz", "rdn", "rup", "rmm", "dyn-rne", "dyn-rtz", "dyn-rdn", "dyn-rup", "dyn-rmm",
};

typedef struct Run {
    const Op *op;
    const char *mode;
    OpFn fn;
    uint64_t frm;
    uint64_t hash;
    uint64_t count;
} Run;

static void run_one(Run *run, uint64_t a, uint64_t b, uint64_t c)
{
    uint32_t fl = 0;
    uint64_t r = run->fn(a, b, c, run->frm, &fl);

    run->hash = (run->hash ^ r) * 0x100000001b3ull;
    run->hash ^= run->hash >> 29;
    run->hash = (run->hash ^ fl) * 0x100000001b3ull;
    run->hash ^= run->hash >> 31;
    run->count++;
#ifdef FPDIFF_VERBOSE
    out_str(run->op->name);
    out_char(' ');
    out_str(run->mode);
    out_char(' ');
    out_hex(a, 16);
    out_char(' ');
    out_hex(b, 16);
    out_char(' ');
    out_hex(c, 16);
    out_str(" -> ");
    out_hex(r, 16);
    out_char(' ');
    out_hex(fl, 2);
    out_char('\n');
#endif
}

#define FPU_RNE_IDX 0

static const Op *find_op(const char *name)
{
    unsigned i;

    for (i = 0; !str_eq(ops[i].name, name); i++) {
    }
    return &ops[i];
}

static void run_op(Run *run)
{
    const Op *op = run->op;
    const uint64_t *v = op->fmt == FMT_S ? vals_s : op->fmt == FMT_D ? vals_d : vals_x;
    unsigned n = op->fmt == FMT_S ? N_VALS_S : op->fmt == FMT_D ? N_VALS_D : N_VALS_X;
    unsigned i, j, k;

    switch (op->kind) {
    case K_FF_RM:
    case K_FF:
    case K_SGNJ:
    case K_XFF:
        for (i = 0; i < n; i++) {
            for (j = 0; j < n; j++) {
                run_one(run, v[i], v[j], 0);
            }
        }
        break;
    case K_FFF_RM: {
        const uint64_t *t = op->fmt == FMT_S ? fma_s : fma_d;
        unsigned m = op->fmt == FMT_S ? sizeof(fma_s) / sizeof(fma_s[0])
                                      : sizeof(fma_d) / sizeof(fma_d[0]);
        for (i = 0; i < m; i++) {
            for (j = 0; j < m; j++) {
                for (k = 0; k < m; k++) {
                    run_one(run, t[i], t[j], t[k]);
                }
            }
        }
        /* Triples drawn from the whole table. */
        for (i = 0; i < n; i++) {
            for (j = 0; j < n; j += 5) {
                run_one(run, v[i], v[j], v[(i * 7 + j * 13 + 3) % n]);
            }
        }
        /* Near-cancellations: a * b - round(a * b) for random a, b. */
        for (i = 0; i < n; i++) {
            for (j = 0; j < n; j += 7) {
                uint32_t fl = 0;
                uint64_t p = find_op(op->fmt == FMT_S ? "fmul.s" : "fmul.d")->fn[FPU_RNE_IDX](
                    v[i], v[j], 0, 0, &fl);
                run_one(run, v[i], v[j], p ^ (op->fmt == FMT_S ? 0x80000000ull : 1ull << 63));
            }
        }
        break;
    }
    case K_LD:
        for (i = 0; i < n; i++) {
            run_one(run, 0, 0, v[i]);
        }
        break;
    case K_ST:
        for (i = 0; i < n; i++) {
            run_one(run, v[i], 0, ST_PATTERN);
        }
        break;
    default:
        for (i = 0; i < n; i++) {
            run_one(run, v[i], 0, 0);
        }
        break;
    }
}

static int op_has_rm(const Op *op)
{
    return op->fn[1] != 0;
}

static void fpdiff_main(void)
{
    unsigned i, m;

    operands_init();
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        const Op *op = &ops[i];
        unsigned nmodes = op_has_rm(op) ? 10 : 1;
#ifdef FPDIFF_ONLY
        if (!str_eq(op->name, FPDIFF_ONLY)) {
            continue;
        }
#endif
        for (m = 0; m < nmodes; m++) {
            /* Static modes run with a different frm to show that frm is ignored. */
            Run run = {
                .op = op,
                .mode = op_has_rm(op) ? mode_names[m] : "-",
                .fn = m < 5 ? op->fn[m] : op->fn[5],
                .frm = m < 5 ? (m + 1) % 5 : m - 5,
                .hash = 0xcbf29ce484222325ull,
            };
            run_op(&run);
#ifndef FPDIFF_VERBOSE
            out_str(op->name);
            out_char(' ');
            out_str(run.mode);
            out_char(' ');
            out_hex(run.hash, 16);
            out_char(' ');
            out_dec(run.count);
            out_char('\n');
#endif
        }
    }
    out_str("fpdiff done\n");
}

#ifdef FPDIFF_HOST

int main(void)
{
    fpdiff_main();
    return 0;
}

#else

void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
void fpdiff_start(void);

void *memset(void *d, int c, unsigned long n)
{
    unsigned char *p = d;

    while (n--) {
        *p++ = (unsigned char)c;
    }
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    unsigned char *p = d;
    const unsigned char *q = s;

    while (n--) {
        *p++ = *q++;
    }
    return d;
}

void fpdiff_start(void)
{
    fpdiff_main();
    *(volatile uint32_t *)0x100000 = 0x5555;       /* sifive_test: pass, power off */
    for (;;) {
        asm volatile("wfi");
    }
}

/* Hart 0 only; enables the FPU (mstatus.FS = dirty), clears .bss, sets up the stack. */
asm(".section .text.start, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "    csrr t0, mhartid\n"
    "1:  bnez t0, 1b\n"
    "    li t0, 0x6000\n"
    "    csrs mstatus, t0\n"
    "    csrw fcsr, zero\n"
    "    la sp, __stack_top\n"
    "    la t0, __bss_start\n"
    "    la t1, __bss_end\n"
    "2:  bgeu t0, t1, 3f\n"
    "    sd zero, 0(t0)\n"
    "    addi t0, t0, 8\n"
    "    j 2b\n"
    "3:  call fpdiff_start\n"
    "    .previous\n");

#endif
