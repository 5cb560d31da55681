/* RV64F: single-precision arithmetic, flags, rounding, NaN boxing, conversions, mstatus.FS. */
#include "common.h"

#define FFLAG_NX 0x01
#define FFLAG_UF 0x02
#define FFLAG_OF 0x04
#define FFLAG_DZ 0x08
#define FFLAG_NV 0x10

#define ONE      0x3f800000
#define TWO      0x40000000
#define THREE    0x40400000
#define MONE     0xbf800000
#define QNAN     0x7fc00000
#define SNAN     0x7f800001
#define PINF     0x7f800000
#define NINF     0xff800000
#define MAXF     0x7f7fffff

/* Loads the single bit pattern bits into freg. Clobbers t0. */
#define LI_S(freg, bits)                  \
    li t0, bits;                          \
    fmv.w.x freg, t0

/* Check n: the accrued flags equal flags; clears them. */
#define CHECK_FLAGS(n, flags)             \
    csrrw t4, fflags, zero;               \
    CHECK(n, t4, flags)

/* Check n: op fd, a, b gives res and raises exactly flags. */
#define TEST_FRR(n, op, a, b, res, flags) \
    LI_S(fa1, a);                         \
    LI_S(fa2, b);                         \
    csrw fflags, zero;                    \
    op fa0, fa1, fa2;                     \
    CHECK_S(n, fa0, res);                 \
    CHECK_FLAGS(n, flags)

/* Check n: integer result of op rd, a (single input) is res with flags. */
#define TEST_FCVT_X(n, op, a, res, flags) \
    LI_S(fa1, a);                         \
    csrw fflags, zero;                    \
    op a0, fa1;                           \
    CHECK(n, a0, res);                    \
    CHECK_FLAGS(n, flags)

TEST_BEGIN("f")
    csrw fcsr, zero
    PRINT("arithmetic")
    TEST_FRR(1, fadd.s, 0x3fc00000, 0x40100000, 0x40700000, 0)      /* 1.5 + 2.25 */
    TEST_FRR(2, fsub.s, 0x3fc00000, 0x40100000, 0xbf400000, 0)      /* 1.5 - 2.25 */
    TEST_FRR(3, fmul.s, 0x3fc00000, 0x40100000, 0x40580000, 0)      /* 1.5 * 2.25 */
    TEST_FRR(4, fdiv.s, 0x40700000, 0x3fc00000, 0x40200000, 0)      /* 3.75 / 1.5 */
    TEST_FRR(5, fdiv.s, ONE, THREE, 0x3eaaaaab, FFLAG_NX)
    TEST_FRR(6, fdiv.s, ONE, 0, PINF, FFLAG_DZ)
    TEST_FRR(7, fdiv.s, MONE, 0, NINF, FFLAG_DZ)
    TEST_FRR(8, fdiv.s, 0, 0, QNAN, FFLAG_NV)
    TEST_FRR(9, fsub.s, PINF, PINF, QNAN, FFLAG_NV)
    TEST_FRR(10, fmul.s, MAXF, TWO, PINF, FFLAG_OF | FFLAG_NX)
    TEST_FRR(11, fmul.s, 0x0da24260, 0x0da24260, 0, FFLAG_UF | FFLAG_NX)  /* 1e-30^2 */
    TEST_FRR(12, fadd.s, QNAN, ONE, QNAN, 0)
    TEST_FRR(13, fadd.s, SNAN, ONE, QNAN, FFLAG_NV)
    TEST_FRR(14, fadd.s, 0x7fc12345, ONE, QNAN, 0)                  /* NaN payload not kept */
    TEST_FRR(15, fadd.s, 0x80000000, 0x80000000, 0x80000000, 0)     /* -0 + -0 */
    TEST_FRR(16, fadd.s, 0x80000000, 0, 0, 0)                       /* -0 + +0 = +0 */
    LI_S(fa1, 0x40100000)
    fsqrt.s fa0, fa1
    CHECK_S(17, fa0, 0x3fc00000)
    CHECK_FLAGS(18, 0)
    LI_S(fa1, MONE)
    fsqrt.s fa0, fa1
    CHECK_S(19, fa0, QNAN)
    CHECK_FLAGS(20, FFLAG_NV)
    /* fused multiply-add: 1.5 * 2.25 + 1 */
    LI_S(fa1, 0x3fc00000)
    LI_S(fa2, 0x40100000)
    LI_S(fa3, ONE)
    fmadd.s fa0, fa1, fa2, fa3
    CHECK_S(21, fa0, 0x408c0000)        /* 4.375 */
    fmsub.s fa0, fa1, fa2, fa3
    CHECK_S(22, fa0, 0x40180000)        /* 2.375 */
    fnmadd.s fa0, fa1, fa2, fa3
    CHECK_S(23, fa0, 0xc08c0000)
    fnmsub.s fa0, fa1, fa2, fa3
    CHECK_S(24, fa0, 0xc0180000)
    /* fused: (1 + 2^-23) * (1 - 2^-23) - 1 = -2^-46 exactly, unrounded product */
    LI_S(fa1, 0x3f800001)
    LI_S(fa2, 0x3f7ffffe)
    LI_S(fa3, MONE)
    fmadd.s fa0, fa1, fa2, fa3
    CHECK_S(25, fa0, 0xa8800000)
    CHECK_FLAGS(26, 0)

    PRINT("min max")
    TEST_FRR(30, fmin.s, ONE, MONE, MONE, 0)
    TEST_FRR(31, fmax.s, ONE, MONE, ONE, 0)
    TEST_FRR(32, fmin.s, 0x80000000, 0, 0x80000000, 0)             /* -0 < +0 */
    TEST_FRR(33, fmax.s, 0x80000000, 0, 0, 0)
    TEST_FRR(34, fmin.s, QNAN, ONE, ONE, 0)
    TEST_FRR(35, fmax.s, ONE, QNAN, ONE, 0)
    TEST_FRR(36, fmin.s, SNAN, ONE, ONE, FFLAG_NV)
    TEST_FRR(37, fmax.s, QNAN, QNAN, QNAN, 0)

    PRINT("compare")
    LI_S(fa1, ONE)
    LI_S(fa2, TWO)
    LI_S(fa3, QNAN)
    LI_S(fa4, SNAN)
    csrw fflags, zero
    flt.s a0, fa1, fa2
    CHECK(40, a0, 1)
    fle.s a0, fa2, fa1
    CHECK(41, a0, 0)
    feq.s a0, fa1, fa1
    CHECK(42, a0, 1)
    CHECK_FLAGS(43, 0)
    feq.s a0, fa1, fa3                  /* quiet compare: no flag for a qNaN */
    CHECK(44, a0, 0)
    CHECK_FLAGS(45, 0)
    feq.s a0, fa1, fa4
    CHECK(46, a0, 0)
    CHECK_FLAGS(47, FFLAG_NV)
    flt.s a0, fa3, fa1                  /* signalling compare: NV even for a qNaN */
    CHECK(48, a0, 0)
    CHECK_FLAGS(49, FFLAG_NV)
    fle.s a0, fa1, fa3
    CHECK(50, a0, 0)
    CHECK_FLAGS(51, FFLAG_NV)
    LI_S(fa1, 0x80000000)
    fmv.w.x fa2, zero
    feq.s a0, fa1, fa2                  /* -0 == +0 */
    CHECK(52, a0, 1)

    PRINT("rounding")
    /* dynamic rounding through frm */
    LI_S(fa1, ONE)
    LI_S(fa2, THREE)
    LI_S(fa3, MONE)
    csrwi frm, 1                        /* RTZ */
    fdiv.s fa0, fa1, fa2
    CHECK_S(60, fa0, 0x3eaaaaaa)
    csrwi frm, 2                        /* RDN */
    fdiv.s fa0, fa3, fa2
    CHECK_S(61, fa0, 0xbeaaaaab)
    fdiv.s fa0, fa1, fa2
    CHECK_S(62, fa0, 0x3eaaaaaa)
    csrwi frm, 3                        /* RUP */
    fdiv.s fa0, fa1, fa2
    CHECK_S(63, fa0, 0x3eaaaaab)
    fdiv.s fa0, fa3, fa2
    CHECK_S(64, fa0, 0xbeaaaaaa)
    csrwi frm, 0
    /* static rounding overrides frm */
    csrwi frm, 3
    fdiv.s fa0, fa1, fa2, rtz
    CHECK_S(65, fa0, 0x3eaaaaaa)
    fdiv.s fa0, fa1, fa2, rne
    CHECK_S(66, fa0, 0x3eaaaaab)
    csrwi frm, 0
    TEST_FCVT_X(67, fcvt.w.s, 0x40200000, 2, FFLAG_NX)     /* 2.5 with frm = RNE */
    LI_S(fa1, 0x40200000)               /* 2.5 */
    fcvt.w.s a0, fa1, rne
    CHECK(68, a0, 2)
    fcvt.w.s a0, fa1, rmm
    CHECK(69, a0, 3)
    fcvt.w.s a0, fa1, rup
    CHECK(70, a0, 3)
    fcvt.w.s a0, fa1, rdn
    CHECK(71, a0, 2)
    fcvt.w.s a0, fa1, rtz
    CHECK(72, a0, 2)
    LI_S(fa1, 0xc0200000)               /* -2.5 */
    fcvt.w.s a0, fa1, rne
    CHECK(73, a0, -2)
    fcvt.w.s a0, fa1, rmm
    CHECK(74, a0, -3)
    fcvt.w.s a0, fa1, rdn
    CHECK(75, a0, -3)
    fcvt.w.s a0, fa1, rup
    CHECK(76, a0, -2)
    csrwi frm, 4                        /* RMM through frm */
    fcvt.l.s a0, fa1
    CHECK(77, a0, -3)
    csrwi frm, 0
    CHECK_FLAGS(78, FFLAG_NX)
    /* fcsr = frm << 5 | fflags */
    li a0, (2 << 5) | FFLAG_DZ | FFLAG_NX
    csrw fcsr, a0
    csrr a1, frm
    CHECK(79, a1, 2)
    csrr a1, fflags
    CHECK(80, a1, FFLAG_DZ | FFLAG_NX)
    csrwi frm, 4
    csrr a1, fcsr
    CHECK(81, a1, (4 << 5) | FFLAG_DZ | FFLAG_NX)
    csrw fcsr, zero
    /* reserved rounding modes: in frm (dynamic) or static 5/6 are illegal */
    csrwi frm, 5
    CHECK_ILLEGAL(82, fadd.s fa0, fa1, fa2)
    csrwi frm, 7
    CHECK_ILLEGAL(83, fadd.s fa0, fa1, fa2)
    csrwi frm, 0
    CHECK_ILLEGAL(84, .word 0x00c5d553)  /* fadd.s fa0, fa1, fa2 with rm = 5 */

    PRINT("moves and sign injection")
    li a0, 0x80000000
    fmv.w.x fa0, a0
    CHECK_S(90, fa0, 0x80000000)
    fmv.x.w a1, fa0                     /* sign-extends bit 31 */
    CHECK(91, a1, 0xffffffff80000000)
    li a0, 0x1234567843218765
    fmv.w.x fa0, a0                     /* only the low word is moved */
    CHECK_S(92, fa0, 0x43218765)
    LI_S(fa1, ONE)
    LI_S(fa2, 0xc0000000)               /* -2 */
    fsgnj.s fa0, fa1, fa2
    CHECK_S(93, fa0, MONE)
    fsgnjn.s fa0, fa1, fa2
    CHECK_S(94, fa0, ONE)
    fsgnjx.s fa0, fa2, fa2
    CHECK_S(95, fa0, TWO)
    fneg.s fa0, fa1
    CHECK_S(96, fa0, MONE)
    fabs.s fa0, fa2
    CHECK_S(97, fa0, TWO)
    LI_S(fa1, SNAN)
    csrw fflags, zero
    fneg.s fa0, fa1                     /* sign injection never signals */
    CHECK_S(98, fa0, 0xff800001)
    CHECK_FLAGS(99, 0)

    PRINT("nan boxing")
    /* a single-precision value written to an f register is boxed */
    la s0, data
    flw fa0, 0(s0)
    CHECK_S(100, fa0, 0x3fc00000)
    /* an improperly boxed input is treated as the canonical NaN */
    li a0, 0x000000003f800000
    fmv.d.x fa1, a0
    LI_S(fa2, ONE)
    fadd.s fa0, fa1, fa2
    CHECK_S(101, fa0, QNAN)
    li a0, 0xfffffffe3f800000
    fmv.d.x fa1, a0
    fsgnj.s fa0, fa1, fa1
    CHECK_S(102, fa0, QNAN)
    fmv.x.w a1, fa1                     /* moves the low bits whatever the box */
    CHECK(103, a1, 0x3f800000)
    fsw fa1, 8(s0)                      /* stores the low bits too */
    lwu a1, 8(s0)
    CHECK(104, a1, 0x3f800000)
    fclass.s a1, fa1
    CHECK(105, a1, 1 << 9)
    fmv.w.x fa3, zero
    CHECK_S(106, fa3, 0)

    PRINT("fclass")
    la s0, classes
    li s1, 0
1:  slli t1, s1, 2
    add t1, t1, s0
    flw fa0, 0(t1)
    fclass.s a0, fa0
    li t2, 1
    sll t2, t2, s1
    addi gp, s1, 110
    mv t5, a0
    mv t6, t2
    beq t5, t6, 2f
    j fail_check
2:  addi s1, s1, 1
    li t2, 10
    blt s1, t2, 1b

    PRINT("conversions")
    TEST_FCVT_X(120, fcvt.w.s, QNAN, 0x7fffffff, FFLAG_NV)
    TEST_FCVT_X(121, fcvt.w.s, PINF, 0x7fffffff, FFLAG_NV)
    TEST_FCVT_X(122, fcvt.w.s, NINF, 0xffffffff80000000, FFLAG_NV)
    TEST_FCVT_X(123, fcvt.w.s, 0x4f32d05e, 0x7fffffff, FFLAG_NV)          /* 3e9 */
    TEST_FCVT_X(124, fcvt.wu.s, 0x4f6e6b28, 0xffffffffee6b2800, 0)      /* 4e9, sign-extended */
    TEST_FCVT_X(125, fcvt.wu.s, MONE, 0, FFLAG_NV)
    TEST_FCVT_X(126, fcvt.wu.s, QNAN, 0xffffffffffffffff, FFLAG_NV)
    TEST_FCVT_X(127, fcvt.l.s, QNAN, 0x7fffffffffffffff, FFLAG_NV)
    TEST_FCVT_X(128, fcvt.l.s, NINF, 0x8000000000000000, FFLAG_NV)
    TEST_FCVT_X(129, fcvt.l.s, 0x4f32d05e, 3000000000, 0)
    TEST_FCVT_X(130, fcvt.lu.s, 0xc0a00000, 0, FFLAG_NV)                 /* -5 */
    TEST_FCVT_X(131, fcvt.lu.s, PINF, 0xffffffffffffffff, FFLAG_NV)
    TEST_FCVT_X(132, fcvt.w.s, 0xc0200000, -2, FFLAG_NX)                 /* -2.5 rne */
    li a0, -5
    fcvt.s.w fa0, a0
    CHECK_S(133, fa0, 0xc0a00000)
    li a0, 0xffffffff
    fcvt.s.wu fa0, a0
    CHECK_S(134, fa0, 0x4f800000)       /* 2^32 after rounding */
    li a0, 0x100000000fffffff           /* only the low word counts for .w */
    fcvt.s.w fa0, a0
    CHECK_S(135, fa0, 0x4d800000)       /* 2^28 after rounding */
    li a0, 0x8000000000000000
    fcvt.s.l fa0, a0
    CHECK_S(136, fa0, 0xdf000000)
    li a0, -1
    fcvt.s.lu fa0, a0
    CHECK_S(137, fa0, 0x5f800000)
    csrw fflags, zero

    PRINT("mstatus.FS")
    /* FS = Off: every FP instruction and FP CSR access is illegal */
    li t0, MSTATUS_FS
    csrc mstatus, t0
    CHECK_ILLEGAL(140, fadd.s fa0, fa1, fa2)
    CHECK_ILLEGAL(141, flw fa0, 0(s0))
    CHECK_ILLEGAL(142, fmv.x.w a0, fa0)
    CHECK_ILLEGAL(143, csrr a0, fcsr)
    CHECK_ILLEGAL(144, csrwi frm, 1)
    CHECK_ILLEGAL(145, fsw fa0, 0(s0))
    /* FS = Clean: an FP write makes it Dirty and sets SD */
    li t0, MSTATUS_FS_CLEAN
    csrs mstatus, t0
    csrr a0, mstatus
    bgez a0, 1f                         /* SD clear while clean */
    FAIL_NOW(146)
1:  fadd.s fa0, fa1, fa2
    csrr a0, mstatus
    li t0, MSTATUS_FS
    and a1, a0, t0
    CHECK(147, a1, MSTATUS_FS_DIRTY)
    srli a1, a0, 63
    CHECK(148, a1, 1)
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, MSTATUS_FS_CLEAN
    csrs mstatus, t0
    csrwi fflags, 1                     /* an FP CSR write dirties too */
    csrr a0, mstatus
    li t0, MSTATUS_FS
    and a1, a0, t0
    CHECK(149, a1, MSTATUS_FS_DIRTY)
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    flw fa0, 0(s0)
    csrr a0, mstatus
    li t0, MSTATUS_FS
    and a1, a0, t0
    CHECK(150, a1, MSTATUS_FS_DIRTY)

    TEST_END

    .section .data
    .balign 8
data:
    .word 0x3fc00000, 0, 0, 0
classes:
    .word 0xff800000        /* -inf */
    .word 0xbf800000        /* -normal */
    .word 0x807fffff        /* -subnormal */
    .word 0x80000000        /* -0 */
    .word 0x00000000        /* +0 */
    .word 0x00000001        /* +subnormal */
    .word 0x7f7fffff        /* +normal */
    .word 0x7f800000        /* +inf */
    .word 0x7f800001        /* sNaN */
    .word 0x7fc00000        /* qNaN */
