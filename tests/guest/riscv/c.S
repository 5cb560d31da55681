/* RV64C: every compressed instruction (explicit c.* mnemonics, so each is 16 bits). */
#include "common.h"

TEST_BEGIN("c")
    .option rvc
    PRINT("immediates")
    c.li a0, 31
    CHECK(1, a0, 31)
    c.li a0, -32
    CHECK(2, a0, -32)
    c.lui a0, 1
    CHECK(3, a0, 0x1000)
    c.lui a0, 31
    CHECK(4, a0, 0x1f000)
    c.lui a0, 0xfffe0                   /* nzimm = -32: sign-extended from bit 17 */
    CHECK(5, a0, 0xfffffffffffe0000)
    c.lui a0, 0xfffff
    CHECK(6, a0, 0xfffffffffffff000)
    li a0, 100
    c.addi a0, 31
    CHECK(7, a0, 131)
    c.addi a0, -32
    CHECK(8, a0, 99)
    c.nop
    CHECK(9, a0, 99)
    li a0, 0x7fffffff
    c.addiw a0, 1
    CHECK(10, a0, 0xffffffff80000000)
    li a0, 0x123456789
    c.addiw a0, 0                       /* sext.w */
    CHECK(11, a0, 0x23456789)
    li a0, 5
    c.addiw a0, -6
    CHECK(12, a0, -1)

    PRINT("sp immediates")
    mv s2, sp
    li sp, 0x1000
    c.addi16sp sp, 496
    CHECK(13, sp, 0x1000 + 496)
    c.addi16sp sp, -512
    CHECK(14, sp, 0x1000 + 496 - 512)
    c.addi16sp sp, 16
    CHECK(15, sp, 0x1000)
    c.addi4spn a0, sp, 4
    CHECK(16, a0, 0x1004)
    c.addi4spn s1, sp, 1020
    CHECK(17, s1, 0x1000 + 1020)
    c.addi4spn a5, sp, 512
    CHECK(18, a5, 0x1200)
    mv sp, s2

    PRINT("alu")
    li a0, 0x8000000000000001
    c.srli a0, 63
    CHECK(20, a0, 1)
    li a0, 0x8000000000000000
    c.srai a0, 63
    CHECK(21, a0, -1)
    li a0, 0x8000000000000000
    c.srai a0, 1
    CHECK(22, a0, 0xc000000000000000)
    li a0, 0xf0f0
    c.srli a0, 4
    CHECK(23, a0, 0x0f0f)
    li a0, 1
    c.slli a0, 63
    CHECK(24, a0, 0x8000000000000000)
    li t0, 3                            /* c.slli takes any register */
    c.slli t0, 32
    CHECK(25, t0, 0x300000000)
    li a0, 0x1234
    c.andi a0, -16
    CHECK(26, a0, 0x1230)
    li a0, 0x1234
    c.andi a0, 15
    CHECK(27, a0, 4)
    li a0, 10
    li a1, 3
    c.sub a0, a1
    CHECK(28, a0, 7)
    li a0, 0xff00
    li a1, 0x0ff0
    c.xor a0, a1
    CHECK(29, a0, 0xf0f0)
    li a0, 0xff00
    c.or a0, a1
    CHECK(30, a0, 0xfff0)
    li a0, 0xff00
    c.and a0, a1
    CHECK(31, a0, 0x0f00)
    li a0, 0x80000000
    li a1, 1
    c.subw a0, a1
    CHECK(32, a0, 0x7fffffff)
    li a0, 0x7fffffff
    c.addw a0, a1
    CHECK(33, a0, 0xffffffff80000000)
    li t0, 40
    li t1, 2
    c.add t0, t1
    CHECK(34, t0, 42)
    li t1, 0x5555
    c.mv t2, t1
    CHECK(35, t2, 0x5555)

    PRINT("loads stores")
    la s0, buf
    li a0, 0x1122334455667788
    c.sd a0, 248(s0)
    ld a1, 248(s0)
    CHECK(40, a1, 0x1122334455667788)
    c.ld a2, 248(s0)
    CHECK(41, a2, 0x1122334455667788)
    li a0, 0x80000001
    c.sw a0, 124(s0)
    lwu a1, 124(s0)
    CHECK(42, a1, 0x80000001)
    c.lw a3, 124(s0)
    CHECK(43, a3, 0xffffffff80000001)   /* c.lw sign-extends */
    c.sd a0, 0(s0)
    c.lw a4, 0(s0)
    CHECK(44, a4, 0xffffffff80000001)
    mv s2, sp
    la sp, buf
    li t0, 0xabcdef0123456789
    c.sdsp t0, 504(sp)
    c.ldsp t1, 504(sp)
    CHECK(45, t1, 0xabcdef0123456789)
    ld t2, 504(s0)
    CHECK(46, t2, 0xabcdef0123456789)
    li t0, 0xfedcba98
    c.swsp t0, 252(sp)
    c.lwsp t1, 252(sp)
    CHECK(47, t1, 0xfffffffffedcba98)
    c.swsp t0, 0(sp)
    c.lwsp t3, 0(sp)
    CHECK(48, t3, 0xfffffffffedcba98)
    mv sp, s2

    PRINT("fp loads stores")
    la s0, buf
    li a0, 0x400921fb54442d18
    sd a0, 8(s0)
    c.fld fa0, 8(s0)
    CHECK_D(50, fa0, 0x400921fb54442d18)
    c.fsd fa0, 248(s0)
    ld a1, 248(s0)
    CHECK(51, a1, 0x400921fb54442d18)
    c.fld fs1, 248(s0)
    CHECK_D(52, fs1, 0x400921fb54442d18)
    mv s2, sp
    la sp, buf
    li a0, 0xbff0000000000000
    sd a0, 16(sp)
    c.fldsp ft3, 16(sp)
    CHECK_D(53, ft3, 0xbff0000000000000)
    c.fsdsp ft3, 504(sp)
    ld a1, 504(sp)
    CHECK(54, a1, 0xbff0000000000000)
    mv sp, s2

    PRINT("branches jumps")
    li a0, 0
    li s1, 0
    c.beqz a0, 1f
    li s1, 1
1:  CHECK(60, s1, 0)
    li a0, 5
    c.beqz a0, 1f
    li s1, 2
1:  CHECK(61, s1, 2)
    li s1, 0
    c.bnez a0, 1f
    li s1, 3
1:  CHECK(62, s1, 0)
    li a0, 0
    c.bnez a0, 1f
    li s1, 4
1:  CHECK(63, s1, 4)
    /* backward c.bnez loop */
    li a0, 4
    li a1, 0
1:  addi a1, a1, 2
    addi a0, a0, -1
    c.bnez a0, 1b
    CHECK(64, a1, 8)
    li s1, 0
    c.j 1f
    li s1, 5
1:  CHECK(65, s1, 0)
    /* c.jr */
    la t0, 1f
    li s1, 0
    c.jr t0
    li s1, 6
1:  CHECK(66, s1, 0)
    /* c.jalr links pc + 2 */
    la t0, 2f
    c.jalr t0
lbl_jalr_ret:
    j 3f
2:  la t1, lbl_jalr_ret
    CHECK_REG(67, ra, t1)
    ret
3:
    /* c.jr through ra (ret) lands on an odd-aligned halfword */
    la t0, 4f
    c.jalr t0
    c.nop
lbl_after_nop:
    j 5f
4:  mv s3, ra
    c.jr ra
5:  la t1, lbl_after_nop - 2
    CHECK_REG(68, s3, t1)

    PRINT("ebreak")
    EXPECT_TRAP(1f)
lbl_ebreak:
    c.ebreak
1:  CHECK_TRAP(70, CAUSE_BREAKPOINT)
    la t0, lbl_ebreak
    CHECK_MEM_REG(71, trap_epc, t0)
    /* the trap handler's skip steps over exactly 2 bytes */
    li s1, 0
    EXPECT_SKIP
    c.ebreak
    li s1, 7
    CHECK(72, s1, 7)
    CHECK_TRAP(73, CAUSE_BREAKPOINT)

    PRINT("illegal")
    /* the all-zero halfword is defined illegal; reserved encodings trap too */
    EXPECT_TRAP(1f)
lbl_zero:
    .half 0x0000
1:  CHECK_TRAP(80, CAUSE_ILLEGAL)
    la t0, lbl_zero
    CHECK_MEM_REG(81, trap_epc, t0)
    EXPECT_TRAP(1f)
    .half 0x0004                        /* c.addi4spn a1, sp, 0: nzuimm 0 reserved */
1:  CHECK_TRAP(82, CAUSE_ILLEGAL)
    EXPECT_TRAP(1f)
    .half 0x4002                        /* c.lwsp x0, 0(sp): reserved */
1:  CHECK_TRAP(83, CAUSE_ILLEGAL)
    EXPECT_TRAP(1f)
    .half 0x6101 | (0 << 12)            /* c.addi16sp with nzimm 0: reserved */
1:  CHECK_TRAP(84, CAUSE_ILLEGAL)
    EXPECT_TRAP(1f)
    .half 0x8002                        /* c.jr x0: reserved */
1:  CHECK_TRAP(85, CAUSE_ILLEGAL)
    EXPECT_TRAP(1f)
    .half 0x6501                        /* c.lui a0, 0: reserved */
1:  CHECK_TRAP_TVAL(86, CAUSE_ILLEGAL, 0x6501)

    TEST_END

    .section .bss
    .balign 16
buf:
    .space 1024
