/* Zicsr: CSR read/modify/write forms, counters, read-only and unknown CSRs. */
#include "common.h"

TEST_BEGIN("zicsr")
    PRINT("csrrw/s/c")
    /* mscratch holds the trap frame pointer: the results are collected in registers and
     * checked once it is restored, so a failing check can still be reported. */
    csrr s11, mscratch
    li a0, 0x1234
    csrrw s1, mscratch, a0
    csrr s2, mscratch
    li a0, 0xf0f0
    csrrs s3, mscratch, a0
    csrr s4, mscratch
    li a0, 0x00ff
    csrrc s5, mscratch, a0
    csrr s6, mscratch
    csrrs s7, mscratch, x0              /* read only */
    csrrc s8, mscratch, x0
    li a0, -1
    csrrw x0, mscratch, a0              /* write only */
    csrr s9, mscratch
    li s10, 5
    csrrw s10, mscratch, s10            /* rd == rs1: swap */
    csrr a3, mscratch
    csrrwi a4, mscratch, 31
    csrrsi a5, mscratch, 0x40 >> 2      /* uimm 16 */
    csrr a6, mscratch
    csrrci a7, mscratch, 3
    csrr t0, mscratch
    csrrsi t1, mscratch, 0              /* uimm 0: read only */
    csrrwi t2, mscratch, 0
    csrr t3, mscratch
    csrw mscratch, s11
    CHECK_REG(1, s1, s11)
    CHECK(2, s2, 0x1234)
    CHECK(3, s3, 0x1234)
    CHECK(4, s4, 0xf2f4)
    CHECK(5, s5, 0xf2f4)
    CHECK(6, s6, 0xf200)
    CHECK(7, s7, 0xf200)
    CHECK(8, s8, 0xf200)
    CHECK(9, s9, -1)
    CHECK(10, s10, -1)
    CHECK(11, a3, 5)
    CHECK(12, a4, 5)
    CHECK(13, a5, 31)
    CHECK(14, a6, 31)
    CHECK(15, a7, 31)
    CHECK(16, t0, 28)
    CHECK(17, t1, 28)
    CHECK(18, t3, 0)
    csrr a2, mscratch
    CHECK_REG(19, a2, s11)
    /* the same forms on sscratch, checked directly */
    csrr s11, sscratch
    li a0, 0x5a5a
    csrrw a1, sscratch, a0
    CHECK_REG(90, a1, s11)
    csrrsi a1, sscratch, 5
    CHECK(91, a1, 0x5a5a)
    csrrc a1, sscratch, a0
    CHECK(92, a1, 0x5a5f)
    csrr a1, sscratch
    CHECK(93, a1, 0x5)
    csrw sscratch, s11

    PRINT("machine info")
    csrr a0, misa
    srli a1, a0, 62
    CHECK(20, a1, 2)                    /* MXL = 64 */
    li t0, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20)
    and a1, a0, t0                      /* A C D F I M S U */
    CHECK_REG(21, a1, t0)
    csrr a0, mhartid
    CHECK(22, a0, 0)
    /* sstatus is a view of mstatus */
    csrs sstatus, MSTATUS_SIE
    csrr a0, mstatus
    andi a0, a0, MSTATUS_SIE
    CHECK(23, a0, MSTATUS_SIE)
    csrc mstatus, MSTATUS_SIE
    csrr a0, sstatus
    andi a0, a0, MSTATUS_SIE
    CHECK(24, a0, 0)
    /* sstatus hides the M-only fields */
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    csrr a0, sstatus
    and a0, a0, t0
    CHECK(25, a0, 0)
    /* mstatus.UXL/SXL read 2 (64-bit) */
    csrr a0, mstatus
    srli a0, a0, 32
    andi a0, a0, 0xf
    CHECK(26, a0, 0xa)

    PRINT("counters")
    rdcycle a0
    rdcycle a1
    bgeu a1, a0, 1f
    FAIL_NOW(30)
1:  rdinstret a0
    nop
    nop
    rdinstret a1
    bltu a0, a1, 1f                     /* instructions retired in between */
    FAIL_NOW(31)
1:  rdtime a0
    li t0, CLINT_MTIME
    ld a1, 0(t0)
    rdtime a2
    bgeu a1, a0, 1f                     /* time follows the CLINT's mtime */
    FAIL_NOW(32)
1:  bgeu a2, a1, 1f
    FAIL_NOW(33)
1:  /* time advances */
    rdtime s0
    li s1, 2000000
2:  rdtime a0
    bne a0, s0, 3f
    addi s1, s1, -1
    bnez s1, 2b
    FAIL_NOW(34)
3:  csrr a0, mcycle
    csrr a1, cycle
    bgeu a1, a0, 1f
    FAIL_NOW(35)
1:  /* writable machine counters */
    li a0, 0x100000000000
    csrw minstret, a0
    csrr a1, minstret
    bgeu a1, a0, 1f
    FAIL_NOW(36)
1:  csrr a2, instret
    bgeu a2, a1, 1f
    FAIL_NOW(37)
1:  csrw mcycle, a0
    csrr a1, mcycle
    bgeu a1, a0, 1f
    FAIL_NOW(38)
1:

    PRINT("read-only csrs")
    CHECK_ILLEGAL(40, csrw cycle, a0)
    CHECK_ILLEGAL(41, csrw time, x0)
    CHECK_ILLEGAL(42, csrrs a0, instret, a1)
    CHECK_ILLEGAL(43, csrrwi a0, mhartid, 1)
    CHECK_ILLEGAL(44, csrw mvendorid, a0)
    CHECK_ILLEGAL(45, csrrsi x0, marchid, 1)
    CHECK_ILLEGAL(46, csrrc a0, mimpid, a0)
    li a0, 4
    CHECK_ILLEGAL(47, csrrs a1, mhartid, a0)
    /* reads of read-only CSRs are fine, including csrrs/csrrc with x0 */
    csrrs a0, mhartid, x0
    csrrc a0, mvendorid, x0
    csrrsi a0, cycle, 0
    CHECK(48, x0, 0)

    PRINT("unknown csrs")
    CHECK_ILLEGAL(50, csrr a0, 0x7ff)
    CHECK_ILLEGAL(51, csrw 0x8ff, a0)
    CHECK_ILLEGAL(52, csrr a0, 0x5ff)
    CHECK_ILLEGAL(53, csrrwi a0, 0x0ff, 3)
    /* the destination is not written when the instruction traps */
    li a0, 0x77
    CHECK_ILLEGAL(54, csrr a0, 0x7ff)
    CHECK(55, a0, 0x77)
    /* a plain illegal opcode reports its bits too */
    CHECK_ILLEGAL(56, .word 0xffffffff)

    PRINT("counter enables")
    /* U-mode counter reads need mcounteren and scounteren */
    csrw mcounteren, zero
    csrw scounteren, zero
    li s0, 0
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_U, 2f)
2:  rdcycle a0
    li s0, 1
1:  CHECK_TRAP(60, CAUSE_ILLEGAL)
    CHECK(61, s0, 0)
    li t0, 7
    csrw mcounteren, t0
    csrw scounteren, t0
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_U, 2f)
2:  rdcycle a0
    rdtime a1
    rdinstret a2
    li s0, 2
    ecall
1:  CHECK_TRAP(62, CAUSE_ECALL_U)
    CHECK(63, s0, 2)
    /* S mode only needs mcounteren */
    csrw scounteren, zero
    li t0, 2                            /* TM only */
    csrw mcounteren, t0
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  rdtime a1
    li s0, 3
    rdcycle a0
    li s0, 4
1:  CHECK_TRAP(64, CAUSE_ILLEGAL)
    CHECK(65, s0, 3)
    csrw mcounteren, zero

    TEST_END
