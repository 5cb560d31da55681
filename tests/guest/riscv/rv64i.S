/* RV64I base integer instructions. */
#include "common.h"

#define BR_TAKEN(n, op, a, b)             \
    li t0, a;                             \
    li t1, b;                             \
    li t2, 0;                             \
    op t0, t1, 1f;                        \
    li t2, 1;                             \
1:  CHECK(n, t2, 0)

#define BR_NOT_TAKEN(n, op, a, b)         \
    li t0, a;                             \
    li t1, b;                             \
    li t2, 0;                             \
    op t0, t1, 1f;                        \
    li t2, 1;                             \
1:  CHECK(n, t2, 1)

TEST_BEGIN("rv64i")
    PRINT("alu")
    TEST_RR(1, add, 5, 7, 12)
    TEST_RR(2, add, 0x7fffffffffffffff, 1, 0x8000000000000000)
    TEST_RR(3, add, -1, 1, 0)
    TEST_RR(4, sub, 5, 7, -2)
    TEST_RR(5, sub, 0x8000000000000000, 1, 0x7fffffffffffffff)
    TEST_RR(6, and, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0x0f000f000f000f00)
    TEST_RR(7, or,  0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xfff0fff0fff0fff0)
    TEST_RR(8, xor, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0)
    TEST_RR(9, slt, -1, 1, 1)
    TEST_RR(10, slt, 1, -1, 0)
    TEST_RR(11, slt, 3, 3, 0)
    TEST_RR(12, sltu, -1, 1, 0)
    TEST_RR(13, sltu, 1, -1, 1)
    TEST_RR(14, sltu, 0, 0, 0)
    TEST_RI(15, addi, 5, -6, -1)
    TEST_RI(16, addi, 0, 2047, 2047)
    TEST_RI(17, addi, 0, -2048, -2048)
    TEST_RI(18, slti, -5, -4, 1)
    TEST_RI(19, slti, -4, -5, 0)
    TEST_RI(20, sltiu, 5, -1, 1)          /* -1 compares as 2^64-1 */
    TEST_RI(21, sltiu, -1, -1, 0)
    TEST_RI(22, sltiu, 0, 1, 1)           /* seqz */
    TEST_RI(23, andi, 0x1234567887654321, -16, 0x1234567887654320)
    TEST_RI(24, ori, 0x1234567800000000, -2048, 0xfffffffffffff800)
    TEST_RI(25, xori, 0x00ff, -1, 0xffffffffffffff00)
    TEST_RI(26, andi, 0xffff, 0x7ff, 0x7ff)

    PRINT("shifts")
    TEST_RR(30, sll, 1, 63, 0x8000000000000000)
    TEST_RR(31, sll, 1, 64, 1)            /* only the low 6 bits of rs2 count */
    TEST_RR(32, sll, 3, 65, 6)
    TEST_RR(33, srl, 0x8000000000000000, 63, 1)
    TEST_RR(34, srl, 0x8000000000000000, 0, 0x8000000000000000)
    TEST_RR(35, sra, 0x8000000000000000, 63, -1)
    TEST_RR(36, sra, 0x8000000000000000, 127, -1)
    TEST_RR(37, sra, 0x4000000000000000, 62, 1)
    TEST_RI(38, slli, 1, 63, 0x8000000000000000)
    TEST_RI(39, slli, 0x1234, 0, 0x1234)
    TEST_RI(40, srli, -1, 63, 1)
    TEST_RI(41, srli, -1, 32, 0xffffffff)
    TEST_RI(42, srai, 0x8000000000000000, 63, -1)
    TEST_RI(43, srai, 0x8000000000000000, 32, 0xffffffff80000000)
    TEST_RI(44, srai, 0x7000000000000000, 60, 7)

    PRINT("word ops")
    TEST_RR(50, addw, 0x7fffffff, 1, 0xffffffff80000000)
    TEST_RR(51, addw, 0xffffffff00000001, 0x100000002, 3)
    TEST_RR(52, subw, 0, 1, -1)
    TEST_RR(53, subw, 0x80000000, 1, 0x7fffffff)
    TEST_RR(54, sllw, 1, 31, 0xffffffff80000000)
    TEST_RR(55, sllw, 1, 32, 1)           /* only the low 5 bits of rs2 count */
    TEST_RR(56, srlw, 0xffffffff80000000, 31, 1)
    TEST_RR(57, srlw, 0xffffffff80000000, 0, 0xffffffff80000000)
    TEST_RR(58, srlw, 0x12345678ffffffff, 4, 0x0fffffff)
    TEST_RR(59, sraw, 0x80000000, 31, -1)
    TEST_RR(60, sraw, 0xffffffff7fffffff, 30, 1)
    TEST_RR(61, sraw, 0x80000000, 33, 0xffffffffc0000000)
    TEST_RI(62, addiw, 0x7fffffff, 1, 0xffffffff80000000)
    TEST_RI(63, addiw, 0x123456789, 0, 0x23456789)
    TEST_RI(64, addiw, 0xffffffff, -1, 0xfffffffffffffffe)
    TEST_RI(65, slliw, 1, 31, 0xffffffff80000000)
    TEST_RI(66, slliw, 0xffffffff00000003, 1, 6)
    TEST_RI(67, srliw, 0x80000000, 31, 1)
    TEST_RI(68, srliw, -1, 0, -1)         /* shift by 0 still sign-extends bit 31 */
    TEST_RI(69, srliw, 0xf0000000, 4, 0x0f000000)
    TEST_RI(70, sraiw, 0x80000000, 31, -1)
    TEST_RI(71, sraiw, 0x80000000, 0, 0xffffffff80000000)
    TEST_RI(72, sraiw, 0x1234567870000000, 28, 7)

    PRINT("lui auipc")
    lui a0, 0x80000
    CHECK(80, a0, 0xffffffff80000000)
    lui a0, 0x7ffff
    CHECK(81, a0, 0x7ffff000)
    lui a0, 0xfffff
    CHECK(82, a0, 0xfffffffffffff000)
lbl_auipc:
    auipc a0, 0
    la a1, lbl_auipc
    CHECK_REG(83, a0, a1)
lbl_auipc2:
    auipc a0, 1
    la a1, lbl_auipc2 + 0x1000
    CHECK_REG(84, a0, a1)
lbl_auipc3:
    auipc a0, 0xfffff
    la a1, lbl_auipc3
    li a2, 0x1000
    sub a1, a1, a2
    CHECK_REG(85, a0, a1)

    PRINT("branches")
    BR_TAKEN(90, beq, 3, 3)
    BR_NOT_TAKEN(91, beq, 3, 4)
    BR_TAKEN(92, bne, 3, 4)
    BR_NOT_TAKEN(93, bne, -1, -1)
    BR_TAKEN(94, blt, -1, 0)
    BR_NOT_TAKEN(95, blt, 0, -1)
    BR_NOT_TAKEN(96, blt, 5, 5)
    BR_TAKEN(97, bge, 0, -1)
    BR_TAKEN(98, bge, 5, 5)
    BR_NOT_TAKEN(99, bge, -1, 0)
    BR_TAKEN(100, bltu, 0, -1)
    BR_NOT_TAKEN(101, bltu, -1, 0)
    BR_NOT_TAKEN(102, bltu, 7, 7)
    BR_TAKEN(103, bgeu, -1, 0)
    BR_TAKEN(104, bgeu, 7, 7)
    BR_NOT_TAKEN(105, bgeu, 0, -1)
    /* backward branch: a counted loop */
    li a0, 0
    li a1, 10
1:  addi a0, a0, 3
    addi a1, a1, -1
    bnez a1, 1b
    CHECK(106, a0, 30)

    PRINT("jumps")
    jal a0, 1f
lbl_jal_ret:
    j 2f
1:  la a1, lbl_jal_ret
    CHECK_REG(110, a0, a1)
    jr a0                               /* back to lbl_jal_ret */
2:
    /* jalr clears bit 0 of the target */
    la t0, 3f
    addi t0, t0, 1
    li a0, 0
    jalr ra, 0(t0)
lbl_jalr_ret:
    j 4f
    .balign 4
3:  li a0, 1
    la a1, lbl_jalr_ret
    CHECK_REG(111, ra, a1)
    ret
4:  CHECK(112, a0, 1)
    /* jalr with an offset and rd == rs1: the old rs1 forms the target */
    la t0, 5f - 8
    li a0, 0
    jalr t0, 8(t0)
lbl_jalr2_ret:
    j 6f
5:  li a0, 2
    la a1, lbl_jalr2_ret
    CHECK_REG(113, t0, a1)
    jr t0
6:  CHECK(114, a0, 2)
    /* odd offset: target = (rs1 + 3) & ~1 */
    la t0, 7f - 3
    li a0, 0
    jalr ra, 3(t0)
    j 8f
    .balign 4
7:  li a0, 3
    ret
8:  CHECK(115, a0, 3)

    PRINT("loads")
    la s0, data
    lb a0, 7(s0)
    CHECK(120, a0, 0xffffffffffffff88)
    lbu a0, 7(s0)
    CHECK(121, a0, 0x88)
    lb a0, 0(s0)
    CHECK(122, a0, 0x11)
    lh a0, 6(s0)
    CHECK(123, a0, 0xffffffffffff8877)
    lhu a0, 6(s0)
    CHECK(124, a0, 0x8877)
    lh a0, 0(s0)
    CHECK(125, a0, 0x2211)
    lw a0, 4(s0)
    CHECK(126, a0, 0xffffffff88776655)
    lwu a0, 4(s0)
    CHECK(127, a0, 0x88776655)
    lw a0, 0(s0)
    CHECK(128, a0, 0x44332211)
    ld a0, 0(s0)
    CHECK(129, a0, 0x8877665544332211)
    ld a0, 8(s0)
    CHECK(130, a0, 0x0123456789abcdef)
    addi s1, s0, 16
    ld a0, -8(s1)                       /* negative offset */
    CHECK(131, a0, 0x0123456789abcdef)
    lbu a0, -1(s1)
    CHECK(132, a0, 0x01)

    PRINT("stores")
    la s0, scratch
    li a0, -1
    sd a0, 0(s0)
    sd a0, 8(s0)
    li a0, 0x1122334455667788
    sb a0, 0(s0)
    ld a1, 0(s0)
    CHECK(140, a1, 0xffffffffffffff88)
    sh a0, 2(s0)
    ld a1, 0(s0)
    CHECK(141, a1, 0xffffffff7788ff88)
    sw a0, 4(s0)
    ld a1, 0(s0)
    CHECK(142, a1, 0x556677887788ff88)
    sd a0, 8(s0)
    ld a1, 8(s0)
    CHECK(143, a1, 0x1122334455667788)
    sd zero, 16(s0)
    addi s1, s0, 24
    sb a0, -1(s1)
    ld a1, 16(s0)
    CHECK(144, a1, 0x8800000000000000)

    PRINT("misaligned")
    la s0, data
    ld a0, 1(s0)
    CHECK(150, a0, 0xef88776655443322)
    ld a0, 7(s0)
    CHECK(151, a0, 0x23456789abcdef88)
    lw a0, 3(s0)
    CHECK(152, a0, 0x77665544)
    lw a0, 5(s0)
    CHECK(153, a0, 0xffffffffef887766)
    lwu a0, 6(s0)
    CHECK(154, a0, 0xcdef8877)
    lh a0, 7(s0)
    CHECK(155, a0, 0xffffffffffffef88)
    lhu a0, 1(s0)
    CHECK(156, a0, 0x3322)
    la s0, scratch
    sd zero, 0(s0)
    sd zero, 8(s0)
    li a0, 0x1122334455667788
    sd a0, 3(s0)
    ld a1, 0(s0)
    CHECK(157, a1, 0x4455667788000000)
    ld a1, 8(s0)
    CHECK(158, a1, 0x0000000000112233)
    sw a0, 6(s0)
    ld a1, 0(s0)
    CHECK(159, a1, 0x7788667788000000)
    ld a1, 8(s0)
    CHECK(160, a1, 0x0000000000115566)
    sh a0, 9(s0)
    ld a1, 8(s0)
    CHECK(161, a1, 0x0000000000778866)

    PRINT("x0")
    addi x0, x0, 5
    CHECK(170, x0, 0)
    lui x0, 0x12345
    CHECK(171, x0, 0)
    la s0, data
    ld x0, 0(s0)
    CHECK(172, x0, 0)
    jal x0, 1f
1:  CHECK(173, x0, 0)
    add a0, x0, x0
    CHECK(174, a0, 0)
    auipc x0, 1
    mv a0, x0
    CHECK(175, a0, 0)

    TEST_END

    .section .rodata
    .balign 8
data:
    .dword 0x8877665544332211
    .dword 0x0123456789abcdef
    .dword 0

    .section .bss
    .balign 8
scratch:
    .space 32
