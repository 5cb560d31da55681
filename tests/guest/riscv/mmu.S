/* Sv39 and Sv48 translation: page sizes, permissions, SUM/MXR, A/D updates, faults,
 * sfence.vma. Data accesses go through translation from M mode with mstatus.MPRV. */
#include "common.h"

#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define RWAD  (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

#define SATP_SV39 (8 << 60)
#define SATP_SV48 (9 << 60)

/* Virtual addresses of the test mappings */
#define VA_S_RW      0x40000000         /* 4K, S RW -> page0 */
#define VA_U_RW      0x40001000         /* 4K, U RW -> page1 */
#define VA_S_RO      0x40002000         /* 4K, S R -> page0 */
#define VA_S_XO      0x40003000         /* 4K, S X only -> page1 */
#define VA_INVALID   0x40004000         /* V = 0 */
#define VA_AD        0x40005000         /* 4K, S RW, A = D = 0 -> page2 */
#define VA_S_CODE    0x40006000         /* 4K, S RX -> code page */
#define VA_WONLY     0x40007000         /* W without R: reserved */
#define VA_U_CODE    0x40008000         /* 4K, U RX -> code page */
#define VA_MEGA      0x40200000         /* 2M, S RW -> PA 0x80400000 */
#define VA_MEGA_BAD  0x40400000         /* 2M with a misaligned PPN */
#define VA_GIGA      0xc0000000         /* 1G, S RW -> PA 0x80000000 */
#define VA_GIGA_BAD  0x100000000        /* 1G with a misaligned PPN */
#define VA_SV48      0x8000000000       /* only reachable with Sv48: 1G -> PA 0x80000000 */
#define PA_MEGA      0x80400000

/* PTE for physical address pa (a register) with flags: into rd. Clobbers t4. */
#define MAKE_PTE(rd, pa, flags)           \
    srli rd, pa, 12;                      \
    slli rd, rd, 10;                      \
    li t4, flags;                         \
    or rd, rd, t4

/* table[index] = PTE(pa_reg, flags). Clobbers t3, t4. */
#define SET_PTE(table, index, pa_reg, flags) \
    MAKE_PTE(t3, pa_reg, flags);          \
    la t4, table;                         \
    sd t3, (index) * 8(t4)

#define MPRV_ON(prv)                      \
    li t5, MSTATUS_MPP;                   \
    csrc mstatus, t5;                     \
    li t5, ((prv) << 11) | MSTATUS_MPRV;  \
    csrs mstatus, t5

#define MPRV_OFF                          \
    li t5, MSTATUS_MPRV | MSTATUS_MPP;    \
    csrc mstatus, t5

/* Check n: a doubleword load from va with privilege prv reads val. */
#define CHECK_LOAD(n, prv, va, val)       \
    li s2, va;                            \
    MPRV_ON(prv);                         \
    ld a0, 0(s2);                         \
    MPRV_OFF;                             \
    CHECK(n, a0, val)

/* Check n: a load from va with privilege prv raises cause with tval = va. */
#define CHECK_LOAD_FAULT(n, prv, va, cause) \
    li s2, va;                            \
    EXPECT_TRAP(1008f);                   \
    MPRV_ON(prv);                         \
    ld a0, 0(s2);                         \
    MPRV_OFF;                             \
1008:                                     \
    CHECK_TRAP(n, cause);                 \
    CHECK_MEM_REG(n, trap_tval, s2)

/* Check n: a store of val to va with privilege prv succeeds (read back). */
#define CHECK_STORE(n, prv, va, val)      \
    li s2, va;                            \
    li a1, val;                           \
    MPRV_ON(prv);                         \
    sd a1, 0(s2);                         \
    ld a0, 0(s2);                         \
    MPRV_OFF;                             \
    CHECK(n, a0, val)

#define CHECK_STORE_FAULT(n, prv, va, cause) \
    li s2, va;                            \
    EXPECT_TRAP(1008f);                   \
    MPRV_ON(prv);                         \
    sd zero, 0(s2);                       \
    MPRV_OFF;                             \
1008:                                     \
    CHECK_TRAP(n, cause);                 \
    CHECK_MEM_REG(n, trap_tval, s2)

/* Check n: jumping to va in mode prv raises an instruction page fault at va. */
#define CHECK_FETCH_FAULT(n, prv, va)     \
    EXPECT_TRAP(1008f);                   \
    li t5, MSTATUS_MPP;                   \
    csrc mstatus, t5;                     \
    li t5, ((prv) << 11);                 \
    csrs mstatus, t5;                     \
    li t6, va;                            \
    csrw mepc, t6;                        \
    mret;                                 \
1008:                                     \
    li s2, va;                            \
    CHECK_TRAP(n, CAUSE_FETCH_PAGE);      \
    CHECK_MEM_REG(n, trap_tval, s2);      \
    CHECK_MEM_REG(n, trap_epc, s2)

/* Check n: code at va runs in mode prv (its ecall reports cause from epc va). */
#define CHECK_FETCH(n, prv, va, cause)    \
    EXPECT_TRAP(1008f);                   \
    li t5, MSTATUS_MPP;                   \
    csrc mstatus, t5;                     \
    li t5, ((prv) << 11);                 \
    csrs mstatus, t5;                     \
    li t6, va;                            \
    csrw mepc, t6;                        \
    mret;                                 \
1008:                                     \
    li s2, va;                            \
    CHECK_TRAP(n, cause);                 \
    CHECK_MEM_REG(n, trap_epc, s2)

TEST_BEGIN("mmu")
    PRINT("page tables")
    li s0, 0
    SET_PTE(root, 0, s0, RWAD)                  /* devices, identity */
    la s0, l1
    SET_PTE(root, 1, s0, PTE_V)
    li s0, 0x80000000
    SET_PTE(root, 2, s0, RWAD | PTE_X)          /* this program, identity */
    SET_PTE(root, 3, s0, RWAD)                  /* gigapage alias */
    li s0, 0x80200000
    SET_PTE(root, 4, s0, RWAD)                  /* misaligned gigapage */
    la s0, l0
    SET_PTE(l1, 0, s0, PTE_V)
    li s0, PA_MEGA
    SET_PTE(l1, 1, s0, RWAD)
    li s0, PA_MEGA + 0x1000
    SET_PTE(l1, 2, s0, RWAD)                    /* misaligned megapage */
    la s0, page0
    SET_PTE(l0, 0, s0, RWAD)
    SET_PTE(l0, 2, s0, PTE_V | PTE_R | PTE_A)
    la s0, page1
    SET_PTE(l0, 1, s0, RWAD | PTE_U)
    SET_PTE(l0, 3, s0, PTE_V | PTE_X | PTE_A)
    la s0, page2
    SET_PTE(l0, 5, s0, PTE_V | PTE_R | PTE_W)
    la s0, code_page
    SET_PTE(l0, 6, s0, PTE_V | PTE_R | PTE_X | PTE_A)
    SET_PTE(l0, 8, s0, PTE_V | PTE_R | PTE_X | PTE_A | PTE_U)
    la s0, page0
    SET_PTE(l0, 7, s0, PTE_V | PTE_W | PTE_A | PTE_D)
    /* Sv48: root48[0] reuses the Sv39 root as its level-2 table */
    la s0, root
    SET_PTE(root48, 0, s0, PTE_V)
    la s0, l2b
    SET_PTE(root48, 1, s0, PTE_V)
    li s0, 0x80000000
    SET_PTE(l2b, 0, s0, RWAD)
    li t0, PA_MEGA + 0x1238
    li t1, 0x4d4d4d4d4d4d4d4d
    sd t1, 0(t0)

    la t0, root
    srli t0, t0, 12
    li t1, SATP_SV39
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    csrr a0, satp
    srli a0, a0, 60
    CHECK(1, a0, 8)

    PRINT("sv39 4K pages")
    CHECK_LOAD(10, PRV_S, VA_S_RW, 0x1111111111111111)
    CHECK_LOAD(11, PRV_S, VA_S_RW + 8, 0x1111111111111112)
    CHECK_STORE(12, PRV_S, VA_S_RW + 16, 0xabcdef)
    la t0, page0
    ld a0, 16(t0)                               /* landed in page0 */
    CHECK(13, a0, 0xabcdef)
    CHECK_LOAD(14, PRV_S, VA_S_RO, 0x1111111111111111)  /* page0 again */
    CHECK_STORE_FAULT(15, PRV_S, VA_S_RO + 8, CAUSE_STORE_PAGE)
    CHECK_LOAD_FAULT(16, PRV_S, VA_INVALID + 0x10, CAUSE_LOAD_PAGE)
    CHECK_STORE_FAULT(17, PRV_S, VA_INVALID, CAUSE_STORE_PAGE)
    CHECK_LOAD_FAULT(18, PRV_S, VA_WONLY, CAUSE_LOAD_PAGE)
    CHECK_STORE_FAULT(19, PRV_S, VA_WONLY, CAUSE_STORE_PAGE)
    CHECK_LOAD_FAULT(20, PRV_S, 0x4000000000, CAUSE_LOAD_PAGE)   /* not sign-extended */
    CHECK_LOAD_FAULT(21, PRV_S, 0x40009000, CAUSE_LOAD_PAGE)     /* unset PTE */
    /* an AMO needs write permission: store/AMO page fault */
    li s2, VA_S_RO
    EXPECT_TRAP(1f)
    MPRV_ON(PRV_S)
    amoadd.d a0, zero, (s2)
    MPRV_OFF
1:  CHECK_TRAP(22, CAUSE_STORE_PAGE)

    PRINT("sv39 superpages")
    CHECK_LOAD(30, PRV_S, VA_MEGA + 0x1238, 0x4d4d4d4d4d4d4d4d)
    CHECK_STORE(31, PRV_S, VA_MEGA + 0x1fff00, 0x6d6d)
    li t0, PA_MEGA + 0x1fff00
    ld a0, 0(t0)
    CHECK(32, a0, 0x6d6d)
    CHECK_LOAD_FAULT(33, PRV_S, VA_MEGA_BAD, CAUSE_LOAD_PAGE)
    CHECK_STORE_FAULT(34, PRV_S, VA_MEGA_BAD + 0x1008, CAUSE_STORE_PAGE)
    /* the gigapage alias of this program sees page0's data */
    la t0, page0
    li t1, 0x80000000
    sub t0, t0, t1
    li t1, VA_GIGA
    add s3, t0, t1
    MPRV_ON(PRV_S)
    ld a0, 0(s3)
    MPRV_OFF
    CHECK(35, a0, 0x1111111111111111)
    CHECK_LOAD_FAULT(36, PRV_S, VA_GIGA_BAD + 0x10, CAUSE_LOAD_PAGE)

    PRINT("sv39 U/S, SUM, MXR")
    CHECK_LOAD(40, PRV_U, VA_U_RW, 0x2222222222222222)
    CHECK_LOAD_FAULT(41, PRV_U, VA_S_RW, CAUSE_LOAD_PAGE)
    CHECK_STORE_FAULT(42, PRV_U, VA_S_RW, CAUSE_STORE_PAGE)
    CHECK_LOAD_FAULT(43, PRV_S, VA_U_RW, CAUSE_LOAD_PAGE)        /* SUM = 0 */
    CHECK_STORE_FAULT(44, PRV_S, VA_U_RW + 8, CAUSE_STORE_PAGE)
    li t0, MSTATUS_SUM
    csrs mstatus, t0
    CHECK_LOAD(45, PRV_S, VA_U_RW, 0x2222222222222222)
    CHECK_STORE(46, PRV_S, VA_U_RW + 24, 0x46)
    li t0, MSTATUS_SUM
    csrc mstatus, t0
    CHECK_LOAD_FAULT(47, PRV_S, VA_S_XO, CAUSE_LOAD_PAGE)        /* execute-only */
    li t0, MSTATUS_MXR
    csrs mstatus, t0
    CHECK_LOAD(48, PRV_S, VA_S_XO, 0x2222222222222222)
    CHECK_STORE_FAULT(49, PRV_S, VA_S_XO, CAUSE_STORE_PAGE)      /* MXR only helps loads */
    li t0, MSTATUS_MXR
    csrc mstatus, t0

    PRINT("sv39 A and D")
    la s4, l0
    ld a0, 5 * 8(s4)
    andi a0, a0, PTE_A | PTE_D
    CHECK(50, a0, 0)
    CHECK_LOAD(51, PRV_S, VA_AD, 0x3333333333333333)
    ld a0, 5 * 8(s4)
    andi a0, a0, PTE_A | PTE_D
    CHECK(52, a0, PTE_A)                        /* a read sets A only */
    CHECK_STORE(53, PRV_S, VA_AD + 8, 0x53)
    ld a0, 5 * 8(s4)
    andi a0, a0, PTE_A | PTE_D
    CHECK(54, a0, PTE_A | PTE_D)
    /* a faulting store does not set D */
    ld a0, 2 * 8(s4)
    andi a0, a0, PTE_D
    CHECK(55, a0, 0)

    PRINT("sv39 instruction fetch")
    CHECK_FETCH(60, PRV_S, VA_S_CODE, CAUSE_ECALL_S)
    CHECK_FETCH(61, PRV_U, VA_U_CODE, CAUSE_ECALL_U)
    CHECK_FETCH_FAULT(62, PRV_U, VA_S_CODE)      /* U cannot run S pages */
    CHECK_FETCH_FAULT(63, PRV_S, VA_U_CODE)      /* S cannot run U pages */
    li t0, MSTATUS_SUM
    csrs mstatus, t0
    CHECK_FETCH_FAULT(64, PRV_S, VA_U_CODE)      /* not even with SUM */
    li t0, MSTATUS_SUM
    csrc mstatus, t0
    CHECK_FETCH_FAULT(65, PRV_S, VA_S_RW)        /* no X */
    CHECK_FETCH_FAULT(66, PRV_S, VA_INVALID)
    CHECK_FETCH_FAULT(67, PRV_S, VA_S_XO - 0x1000 + 0x800)  /* VA_S_RO: R only */

    PRINT("sv39 delegated page faults")
    la t0, s_trap_entry
    csrw stvec, t0
    li t0, (1 << CAUSE_LOAD_PAGE) | (1 << CAUSE_STORE_PAGE) | (1 << CAUSE_FETCH_PAGE)
    csrw medeleg, t0
    S_EXPECT_TRAP(3f)
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  li s2, VA_INVALID + 0x18
    ld a0, 0(s2)                        /* in S with translation on */
3:  ecall
1:  CHECK_TRAP(70, CAUSE_ECALL_S)
    CHECK_S_TRAP(71, CAUSE_LOAD_PAGE)
    li s2, VA_INVALID + 0x18
    CHECK_MEM_REG(72, s_trap_tval, s2)
    S_EXPECT_TRAP(3f)
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  li s2, VA_S_RO + 0x20
    sw a0, 0(s2)
3:  ecall
1:  CHECK_S_TRAP(73, CAUSE_STORE_PAGE)
    li s2, VA_S_RO + 0x20
    CHECK_MEM_REG(74, s_trap_tval, s2)
    /* S-mode code runs translated: ld through its own mappings */
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  li s2, VA_S_RW
    ld s3, 0(s2)
    li s2, VA_MEGA + 0x1238
    ld s4, 0(s2)
    ecall
1:  CHECK(75, s3, 0x1111111111111111)
    CHECK(76, s4, 0x4d4d4d4d4d4d4d4d)
    csrw medeleg, zero

    PRINT("sfence.vma")
    CHECK_LOAD(80, PRV_S, VA_S_RW, 0x1111111111111111)
    la s0, page1
    SET_PTE(l0, 0, s0, RWAD)                    /* VA_S_RW -> page1 */
    li t0, VA_S_RW
    sfence.vma t0, zero
    CHECK_LOAD(81, PRV_S, VA_S_RW, 0x2222222222222222)
    la s0, page0
    SET_PTE(l0, 0, s0, RWAD)
    sfence.vma
    CHECK_LOAD(82, PRV_S, VA_S_RW, 0x1111111111111111)
    /* invalidating a PTE takes effect after sfence.vma */
    la t0, l0
    sd zero, 0(t0)
    sfence.vma
    CHECK_LOAD_FAULT(83, PRV_S, VA_S_RW, CAUSE_LOAD_PAGE)
    la s0, page0
    SET_PTE(l0, 0, s0, RWAD)
    sfence.vma
    /* the Sv48-only address is not canonical in Sv39 */
    CHECK_LOAD_FAULT(84, PRV_S, VA_SV48, CAUSE_LOAD_PAGE)

    PRINT("sv48")
    la t0, root48
    srli t0, t0, 12
    li t1, SATP_SV48
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    csrr a0, satp
    srli a0, a0, 60
    CHECK(90, a0, 9)
    CHECK_LOAD(91, PRV_S, VA_S_RW, 0x1111111111111111)
    CHECK_LOAD(92, PRV_U, VA_U_RW, 0x2222222222222222)
    CHECK_LOAD(93, PRV_S, VA_MEGA + 0x1238, 0x4d4d4d4d4d4d4d4d)
    CHECK_LOAD_FAULT(94, PRV_S, VA_MEGA_BAD, CAUSE_LOAD_PAGE)
    CHECK_LOAD_FAULT(95, PRV_U, VA_S_RW, CAUSE_LOAD_PAGE)
    CHECK_STORE_FAULT(96, PRV_S, VA_S_RO, CAUSE_STORE_PAGE)
    /* VA_SV48 is a gigapage alias of the program */
    la t0, page1
    li t1, 0x80000000
    sub t0, t0, t1
    li t1, VA_SV48
    add s3, t0, t1
    MPRV_ON(PRV_S)
    ld a0, 0(s3)
    MPRV_OFF
    CHECK(97, a0, 0x2222222222222222)
    CHECK_LOAD_FAULT(98, PRV_S, 0x0000800000000000, CAUSE_LOAD_PAGE)  /* bit 47 not extended */
    CHECK_LOAD_FAULT(99, PRV_S, 0xffff800000000000, CAUSE_LOAD_PAGE)  /* canonical, unmapped */
    CHECK_FETCH(100, PRV_S, VA_S_CODE, CAUSE_ECALL_S)
    CHECK_FETCH_FAULT(101, PRV_U, VA_S_CODE)

    /* back to bare: untranslated again */
    csrw satp, zero
    sfence.vma
    MPRV_ON(PRV_S)
    la t0, page2
    ld a0, 0(t0)
    MPRV_OFF
    CHECK(110, a0, 0x3333333333333333)

    TEST_END

    .section .data
    .balign 4096
page0:
    .dword 0x1111111111111111, 0x1111111111111112, 0, 0, 0
    .balign 4096
page1:
    .dword 0x2222222222222222, 0, 0, 0, 0
    .balign 4096
page2:
    .dword 0x3333333333333333, 0, 0, 0
    .balign 4096
code_page:
    .option push
    .option norvc
    ecall
1:  j 1b
    .option pop
    .balign 4096

    .section .bss
    .balign 4096
root:   .space 4096
l1:     .space 4096
l0:     .space 4096
root48: .space 4096
l2b:    .space 4096
