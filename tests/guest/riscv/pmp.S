/* PMP: TOR and NAPOT regions, S/U access faults with the right cause and tval, M mode
 * only bound by locked entries. */
#include "common.h"

#define PMP_R     0x01
#define PMP_W     0x02
#define PMP_X     0x04
#define PMP_TOR   0x08
#define PMP_NA4   0x10
#define PMP_NAPOT 0x18
#define PMP_L     0x80

/* Check n: the instruction run in mode prv (GOTO_MODE) traps with cause and tval = reg. */
#define CHECK_FAULT_IN(n, prv, cause, addr_reg, ...) \
    EXPECT_TRAP(1009f);                   \
    GOTO_MODE(prv, 1010f);                \
1010:                                     \
    __VA_ARGS__;                          \
    ecall;                                \
1009:                                     \
    CHECK_TRAP(n, cause);                 \
    CHECK_MEM_REG(n, trap_tval, addr_reg)

/* Check n: the instruction runs in mode prv without a fault (then ecall to M). */
#define CHECK_OK_IN(n, prv, ...)          \
    EXPECT_TRAP(1009f);                   \
    GOTO_MODE(prv, 1010f);                \
1010:                                     \
    __VA_ARGS__;                          \
    ecall;                                \
1009:                                     \
    CHECK_TRAP(n, CAUSE_ECALL_U + (prv))

TEST_BEGIN("pmp")
    PRINT("setup")
    la s0, tor_lo
    la s1, tor_hi
    la s2, napot_page
    srli t0, s0, 2
    csrw pmpaddr0, t0
    srli t0, s1, 2
    csrw pmpaddr1, t0
    srli t0, s2, 2
    ori t0, t0, 4096 / 8 - 1            /* NAPOT 4 KiB */
    csrw pmpaddr2, t0
    li t0, -1
    csrw pmpaddr7, t0                   /* entry 7: all memory, lowest priority */
    li t0, ((PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 56) | ((PMP_NAPOT | PMP_X) << 16) | ((PMP_TOR | PMP_R) << 8)
    csrw pmpcfg0, t0
    csrr a0, pmpcfg0
    CHECK_REG(1, a0, t0)
    csrr a0, pmpaddr1
    srli t0, s1, 2
    CHECK_REG(2, a0, t0)
    /* RV64 has only the even pmpcfg registers */
    CHECK_ILLEGAL(3, csrr a0, pmpcfg1)
    CHECK_ILLEGAL(4, csrw pmpcfg3, zero)

    PRINT("tor")
    CHECK_OK_IN(10, PRV_U, ld a0, 0(s0))
    CHECK(11, a0, 0x7070707070707070)
    CHECK_OK_IN(12, PRV_U, ld a0, -8(s1))         /* last doubleword inside */
    CHECK_FAULT_IN(13, PRV_U, CAUSE_STORE_ACCESS, s0, sd zero, 0(s0))
    addi s3, s1, -4
    CHECK_FAULT_IN(14, PRV_U, CAUSE_STORE_ACCESS, s3, sw zero, 0(s3))
    CHECK_FAULT_IN(15, PRV_S, CAUSE_STORE_ACCESS, s0, sb zero, 0(s0))
    CHECK_FAULT_IN(16, PRV_U, CAUSE_STORE_ACCESS, s0, amoadd.d a0, zero, (s0))
    /* executing there: instruction access fault, tval = the address */
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_U, tor_lo)
1:  CHECK_TRAP(17, CAUSE_FETCH_ACCESS)
    CHECK_MEM_REG(18, trap_tval, s0)
    CHECK_MEM_REG(19, trap_epc, s0)
    /* just outside the region, the all-memory entry applies */
    CHECK_OK_IN(20, PRV_U, sd zero, 0(s1))
    CHECK_OK_IN(21, PRV_U, sd zero, -8(s0))
    /* M ignores unlocked entries */
    li t0, 0x7171
    sd t0, 8(s0)
    ld a0, 8(s0)
    CHECK(22, a0, 0x7171)

    PRINT("napot")
    CHECK_FAULT_IN(30, PRV_U, CAUSE_LOAD_ACCESS, s2, ld a0, 0(s2))
    li t0, 4095
    add s3, s2, t0
    CHECK_FAULT_IN(31, PRV_U, CAUSE_LOAD_ACCESS, s3, lbu a0, 0(s3))
    CHECK_FAULT_IN(32, PRV_S, CAUSE_STORE_ACCESS, s2, sd a0, 0(s2))
    li t0, 4096
    add s3, s2, t0
    CHECK_OK_IN(33, PRV_U, lbu a0, 0(s3))           /* next page */
    /* X only: U runs the code there (an ecall) */
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_U, napot_code)
1:  CHECK_TRAP(34, CAUSE_ECALL_U)
    la t0, napot_code
    CHECK_MEM_REG(35, trap_epc, t0)

    PRINT("no match")
    /* with entries present, S/U accesses that match none fail; M still succeeds */
    li t0, 0xff << 56
    csrc pmpcfg0, t0
    la s3, scratch
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_U, 2f)
2:  nop
1:  CHECK_TRAP(40, CAUSE_FETCH_ACCESS)
    la t0, 2b
    CHECK_MEM_REG(41, trap_epc, t0)
    sd zero, 0(s3)
    ld a0, 0(s3)
    CHECK(42, a0, 0)
    li t0, (PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 56
    csrs pmpcfg0, t0
    CHECK_OK_IN(43, PRV_U, ld a0, 0(s3))

    PRINT("priority")
    /* the lowest-numbered matching entry wins: entry 0 NAPOT RW over the X-only page */
    csrr s4, pmpcfg0
    srli t0, s2, 2
    ori t0, t0, 4096 / 8 - 1
    csrw pmpaddr0, t0
    li t0, 0xff
    csrc pmpcfg0, t0
    csrsi pmpcfg0, PMP_NAPOT | PMP_R    /* entry 1's TOR range is now empty */
    CHECK_OK_IN(50, PRV_U, ld a0, 0(s2))
    CHECK_FAULT_IN(51, PRV_U, CAUSE_STORE_ACCESS, s2, sd a0, 0(s2))
    csrw pmpcfg0, s4
    srli t0, s0, 2
    csrw pmpaddr0, t0

    PRINT("locked")
    la s5, lock_page
    srli t0, s5, 2
    ori t0, t0, 4096 / 8 - 1
    csrw pmpaddr4, t0
    li t0, (PMP_L | PMP_NAPOT | PMP_R) << 32
    csrs pmpcfg0, t0
    ld a0, 0(s5)                        /* M reads */
    CHECK(60, a0, 0x6c6c6c6c6c6c6c6c)
    EXPECT_TRAP(1f)
    sd zero, 8(s5)                      /* M cannot write */
1:  CHECK_TRAP(61, CAUSE_STORE_ACCESS)
    addi t0, s5, 8
    CHECK_MEM_REG(62, trap_tval, t0)
    EXPECT_TRAP(1f)
    la t0, lock_code
    jalr t0                             /* M cannot execute */
1:  CHECK_TRAP(63, CAUSE_FETCH_ACCESS)
    la t0, lock_code
    CHECK_MEM_REG(64, trap_tval, t0)
    /* a locked entry ignores writes to its cfg and address */
    li t0, 0xff << 32
    csrc pmpcfg0, t0
    csrr a0, pmpcfg0
    srli a0, a0, 32
    andi a0, a0, 0xff
    CHECK(65, a0, PMP_L | PMP_NAPOT | PMP_R)
    csrr s6, pmpaddr4
    csrw pmpaddr4, zero
    csrr a0, pmpaddr4
    CHECK_REG(66, a0, s6)
    CHECK_FAULT_IN(67, PRV_U, CAUSE_STORE_ACCESS, s5, sd zero, 0(s5))
    CHECK_OK_IN(68, PRV_U, ld a0, 0(s5))

    TEST_END

    .section .data
    .balign 4096
tor_lo:
    .dword 0x7070707070707070, 0
    .fill 4096 - 16, 1, 0x70
tor_hi:
    .dword 0
    .balign 4096
napot_page:
    .dword 0
napot_code:
    .option push
    .option norvc
    ecall
1:  j 1b
    .option pop
    .balign 4096
    .dword 0
    .balign 4096
lock_page:
    .dword 0x6c6c6c6c6c6c6c6c, 0
lock_code:
    ret
    .balign 4096
scratch:
    .dword 0
