/* RV64D: double-precision arithmetic, flags, rounding, conversions, NaN boxing, mstatus.FS. */
#include "common.h"

#define FFLAG_NX 0x01
#define FFLAG_UF 0x02
#define FFLAG_OF 0x04
#define FFLAG_DZ 0x08
#define FFLAG_NV 0x10

#define ONE      0x3ff0000000000000
#define TWO      0x4000000000000000
#define THREE    0x4008000000000000
#define MONE     0xbff0000000000000
#define QNAN     0x7ff8000000000000
#define SNAN     0x7ff0000000000001
#define PINF     0x7ff0000000000000
#define NINF     0xfff0000000000000
#define MAXD     0x7fefffffffffffff
#define D1_5     0x3ff8000000000000
#define D2_25    0x4002000000000000

/* Loads the double bit pattern bits into freg. Clobbers t0. */
#define LI_D(freg, bits)                  \
    li t0, bits;                          \
    fmv.d.x freg, t0

#define LI_S(freg, bits)                  \
    li t0, bits;                          \
    fmv.w.x freg, t0

#define CHECK_FLAGS(n, flags)             \
    csrrw t4, fflags, zero;               \
    CHECK(n, t4, flags)

#define TEST_FRR(n, op, a, b, res, flags) \
    LI_D(fa1, a);                         \
    LI_D(fa2, b);                         \
    csrw fflags, zero;                    \
    op fa0, fa1, fa2;                     \
    CHECK_D(n, fa0, res);                 \
    CHECK_FLAGS(n, flags)

#define TEST_FCVT_X(n, op, a, res, flags) \
    LI_D(fa1, a);                         \
    csrw fflags, zero;                    \
    op a0, fa1;                           \
    CHECK(n, a0, res);                    \
    CHECK_FLAGS(n, flags)

TEST_BEGIN("d")
    csrw fcsr, zero
    PRINT("arithmetic")
    TEST_FRR(1, fadd.d, D1_5, D2_25, 0x400e000000000000, 0)
    TEST_FRR(2, fsub.d, D1_5, D2_25, 0xbfe8000000000000, 0)
    TEST_FRR(3, fmul.d, D1_5, D2_25, 0x400b000000000000, 0)
    TEST_FRR(4, fdiv.d, 0x400e000000000000, D1_5, 0x4004000000000000, 0)
    TEST_FRR(5, fdiv.d, ONE, THREE, 0x3fd5555555555555, FFLAG_NX)
    TEST_FRR(6, fadd.d, 0x3fb999999999999a, 0x3fc999999999999a, 0x3fd3333333333334, FFLAG_NX)
    TEST_FRR(7, fdiv.d, ONE, 0, PINF, FFLAG_DZ)
    TEST_FRR(8, fdiv.d, 0, 0, QNAN, FFLAG_NV)
    TEST_FRR(9, fmul.d, PINF, 0, QNAN, FFLAG_NV)
    TEST_FRR(10, fmul.d, MAXD, TWO, PINF, FFLAG_OF | FFLAG_NX)
    TEST_FRR(11, fmul.d, 0x16687e92154ef7ac, 0x16687e92154ef7ac, 0, FFLAG_UF | FFLAG_NX)
    TEST_FRR(12, fadd.d, SNAN, ONE, QNAN, FFLAG_NV)
    TEST_FRR(13, fadd.d, 0x7ff8000000012345, ONE, QNAN, 0)
    TEST_FRR(14, fmin.d, 0x8000000000000000, 0, 0x8000000000000000, 0)
    TEST_FRR(15, fmax.d, QNAN, MONE, MONE, 0)
    TEST_FRR(16, fmin.d, SNAN, MONE, MONE, FFLAG_NV)
    TEST_FRR(17, fmax.d, QNAN, QNAN, QNAN, 0)
    LI_D(fa1, D2_25)
    fsqrt.d fa0, fa1
    CHECK_D(18, fa0, D1_5)
    LI_D(fa1, 0x8000000000000000)
    fsqrt.d fa0, fa1                    /* sqrt(-0) = -0 */
    CHECK_D(19, fa0, 0x8000000000000000)
    CHECK_FLAGS(20, 0)
    LI_D(fa1, MONE)
    fsqrt.d fa0, fa1
    CHECK_D(21, fa0, QNAN)
    CHECK_FLAGS(22, FFLAG_NV)
    LI_D(fa1, D1_5)
    LI_D(fa2, D2_25)
    LI_D(fa3, ONE)
    fmadd.d fa0, fa1, fa2, fa3
    CHECK_D(23, fa0, 0x4011800000000000)
    fmsub.d fa0, fa1, fa2, fa3
    CHECK_D(24, fa0, 0x4003000000000000)
    fnmadd.d fa0, fa1, fa2, fa3
    CHECK_D(25, fa0, 0xc011800000000000)
    fnmsub.d fa0, fa1, fa2, fa3
    CHECK_D(26, fa0, 0xc003000000000000)
    /* (1 + 2^-52)(1 - 2^-52) - 1 = -2^-104, only exact when fused */
    LI_D(fa1, 0x3ff0000000000001)
    LI_D(fa2, 0x3feffffffffffffe)
    LI_D(fa3, MONE)
    fmadd.d fa0, fa1, fa2, fa3
    CHECK_D(27, fa0, 0xb970000000000000)
    CHECK_FLAGS(28, 0)
    /* 0 * inf + qNaN: invalid */
    LI_D(fa1, 0)
    LI_D(fa2, PINF)
    LI_D(fa3, QNAN)
    fmadd.d fa0, fa1, fa2, fa3
    CHECK_D(29, fa0, QNAN)
    CHECK_FLAGS(30, FFLAG_NV)

    PRINT("compare")
    LI_D(fa1, ONE)
    LI_D(fa2, TWO)
    LI_D(fa3, QNAN)
    flt.d a0, fa1, fa2
    CHECK(40, a0, 1)
    fle.d a0, fa1, fa1
    CHECK(41, a0, 1)
    feq.d a0, fa1, fa2
    CHECK(42, a0, 0)
    feq.d a0, fa3, fa3
    CHECK(43, a0, 0)
    CHECK_FLAGS(44, 0)
    fle.d a0, fa3, fa3
    CHECK(45, a0, 0)
    CHECK_FLAGS(46, FFLAG_NV)

    PRINT("rounding")
    LI_D(fa1, ONE)
    LI_D(fa2, THREE)
    fdiv.d fa0, fa1, fa2, rup
    CHECK_D(50, fa0, 0x3fd5555555555556)
    fdiv.d fa0, fa1, fa2, rdn
    CHECK_D(51, fa0, 0x3fd5555555555555)
    csrwi frm, 3                        /* RUP */
    fdiv.d fa0, fa1, fa2
    CHECK_D(52, fa0, 0x3fd5555555555556)
    fdiv.d fa0, fa1, fa2, dyn
    CHECK_D(53, fa0, 0x3fd5555555555556)
    csrwi frm, 0
    LI_D(fa1, 0xc004000000000000)       /* -2.5 */
    fcvt.l.d a0, fa1, rne
    CHECK(54, a0, -2)
    fcvt.l.d a0, fa1, rmm
    CHECK(55, a0, -3)
    fcvt.l.d a0, fa1, rdn
    CHECK(56, a0, -3)
    fcvt.l.d a0, fa1, rup
    CHECK(57, a0, -2)
    fcvt.w.d a0, fa1, rtz
    CHECK(58, a0, -2)
    CHECK_FLAGS(59, FFLAG_NX)
    csrwi frm, 6
    CHECK_ILLEGAL(60, fadd.d fa0, fa1, fa2)
    csrwi frm, 0
    CHECK_ILLEGAL(61, .word 0x02c5e553)  /* fadd.d fa0, fa1, fa2 with rm = 6 */

    PRINT("moves and sign injection")
    li a0, 0x8000000000000001
    fmv.d.x fa0, a0
    fmv.x.d a1, fa0
    CHECK(70, a1, 0x8000000000000001)
    LI_D(fa1, ONE)
    LI_D(fa2, 0xc000000000000000)
    fsgnj.d fa0, fa1, fa2
    CHECK_D(71, fa0, MONE)
    fsgnjn.d fa0, fa2, fa2
    CHECK_D(72, fa0, TWO)
    fsgnjx.d fa0, fa2, fa2
    CHECK_D(73, fa0, TWO)
    fsgnjx.d fa0, fa1, fa2
    CHECK_D(74, fa0, MONE)
    la s0, data
    fld fa0, 0(s0)
    CHECK_D(75, fa0, 0x3fb999999999999a)
    fsd fa0, 8(s0)
    ld a0, 8(s0)
    CHECK(76, a0, 0x3fb999999999999a)

    PRINT("nan boxing")
    /* single results are boxed inside the 64-bit registers */
    LI_D(fa0, 0x123456789abcdef0)
    LI_S(fa1, 0x3f800000)
    fadd.s fa0, fa1, fa1
    CHECK_D(80, fa0, 0xffffffff40000000)
    flw fa2, 16(s0)
    CHECK_D(81, fa2, 0xffffffff3dcccccd)
    fmv.x.d a0, fa2
    CHECK(82, a0, 0xffffffff3dcccccd)
    /* a double in a register is not a valid single */
    LI_D(fa3, ONE)
    fadd.s fa0, fa3, fa1
    CHECK_D(83, fa0, 0xffffffff7fc00000)
    fcvt.d.s fa0, fa3
    CHECK_D(84, fa0, QNAN)
    CHECK_FLAGS(85, 0)
    fclass.s a0, fa3
    CHECK(86, a0, 1 << 9)
    fclass.d a0, fa2                    /* a boxed single viewed as a double: NaN */
    CHECK(87, a0, 1 << 9)

    PRINT("conversions")
    /* between the formats */
    LI_D(fa1, 0x3fb999999999999a)
    fcvt.s.d fa0, fa1
    CHECK_D(90, fa0, 0xffffffff3dcccccd)
    CHECK_FLAGS(91, FFLAG_NX)
    fcvt.d.s fa2, fa0
    CHECK_D(92, fa2, 0x3fb99999a0000000)
    CHECK_FLAGS(93, 0)
    LI_D(fa1, 0x7e37e43c8800759c)       /* 1e300 */
    fcvt.s.d fa0, fa1
    CHECK_D(94, fa0, 0xffffffff7f800000)
    CHECK_FLAGS(95, FFLAG_OF | FFLAG_NX)
    LI_S(fa1, 0x7f800001)
    fcvt.d.s fa0, fa1
    CHECK_D(96, fa0, QNAN)
    CHECK_FLAGS(97, FFLAG_NV)
    LI_D(fa1, SNAN)
    fcvt.s.d fa0, fa1
    CHECK_D(98, fa0, 0xffffffff7fc00000)
    CHECK_FLAGS(99, FFLAG_NV)
    /* to integers, saturating */
    TEST_FCVT_X(100, fcvt.w.d, QNAN, 0x7fffffff, FFLAG_NV)
    TEST_FCVT_X(101, fcvt.w.d, 0x41e65a0bc0000000, 0x7fffffff, FFLAG_NV)      /* 3e9 */
    TEST_FCVT_X(102, fcvt.w.d, 0xc1e65a0bc0000000, 0xffffffff80000000, FFLAG_NV)
    TEST_FCVT_X(103, fcvt.w.d, 0xc1e0000000000000, 0xffffffff80000000, 0)     /* -2^31 */
    TEST_FCVT_X(104, fcvt.wu.d, 0x41efffffffe00000, 0xffffffffffffffff, 0)    /* 2^32 - 1 */
    TEST_FCVT_X(105, fcvt.wu.d, 0x4202a05f20000000, 0xffffffffffffffff, FFLAG_NV) /* 1e10 */
    TEST_FCVT_X(106, fcvt.wu.d, MONE, 0, FFLAG_NV)
    TEST_FCVT_X(107, fcvt.l.d, 0x43e0000000000000, 0x7fffffffffffffff, FFLAG_NV) /* 2^63 */
    TEST_FCVT_X(108, fcvt.l.d, NINF, 0x8000000000000000, FFLAG_NV)
    TEST_FCVT_X(109, fcvt.lu.d, 0x43f0000000000000, 0xffffffffffffffff, FFLAG_NV) /* 2^64 */
    TEST_FCVT_X(110, fcvt.lu.d, 0x43e0000000000000, 0x8000000000000000, 0)
    TEST_FCVT_X(111, fcvt.lu.d, QNAN, 0xffffffffffffffff, FFLAG_NV)
    TEST_FCVT_X(112, fcvt.l.d, 0x4202a05f20000000, 10000000000, 0)
    li a0, -1
    fcvt.d.lu fa0, a0
    CHECK_D(113, fa0, 0x43f0000000000000)
    CHECK_FLAGS(114, FFLAG_NX)
    li a0, 0x8000000000000000
    fcvt.d.l fa0, a0
    CHECK_D(115, fa0, 0xc3e0000000000000)
    li a0, 0xffffffff80000000
    fcvt.d.w fa0, a0
    CHECK_D(116, fa0, 0xc1e0000000000000)
    li a0, 0x1ffffffff
    fcvt.d.wu fa0, a0                   /* low word only, exact */
    CHECK_D(117, fa0, 0x41efffffffe00000)
    CHECK_FLAGS(118, 0)

    PRINT("fclass")
    la s0, classes
    li s1, 0
1:  slli t1, s1, 3
    add t1, t1, s0
    fld fa0, 0(t1)
    fclass.d a0, fa0
    li t2, 1
    sll t2, t2, s1
    addi gp, s1, 120
    mv t5, a0
    mv t6, t2
    beq t5, t6, 2f
    j fail_check
2:  addi s1, s1, 1
    li t2, 10
    blt s1, t2, 1b

    PRINT("mstatus.FS")
    li t0, MSTATUS_FS
    csrc mstatus, t0
    CHECK_ILLEGAL(130, fadd.d fa0, fa1, fa2)
    CHECK_ILLEGAL(131, fld fa0, 0(s0))
    CHECK_ILLEGAL(132, fmv.d.x fa0, a0)
    CHECK_ILLEGAL(133, fcvt.d.w fa0, a0)
    CHECK_ILLEGAL(134, fsd fa0, 0(s0))
    li t0, MSTATUS_FS_CLEAN
    csrs mstatus, t0
    fmv.d.x fa0, zero
    csrr a0, mstatus
    li t0, MSTATUS_FS
    and a1, a0, t0
    CHECK(135, a1, MSTATUS_FS_DIRTY)
    srli a1, a0, 63
    CHECK(136, a1, 1)

    TEST_END

    .section .data
    .balign 8
data:
    .dword 0x3fb999999999999a
    .dword 0
    .word 0x3dcccccd, 0
classes:
    .dword 0xfff0000000000000   /* -inf */
    .dword 0xbff0000000000000   /* -normal */
    .dword 0x800fffffffffffff   /* -subnormal */
    .dword 0x8000000000000000   /* -0 */
    .dword 0x0000000000000000   /* +0 */
    .dword 0x0000000000000001   /* +subnormal */
    .dword 0x7fefffffffffffff   /* +normal */
    .dword 0x7ff0000000000000   /* +inf */
    .dword 0x7ff0000000000001   /* sNaN */
    .dword 0x7ff8000000000000   /* qNaN */
