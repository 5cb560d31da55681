/* Privileged architecture: modes, trap delegation, vectored traps, mstatus controls,
 * CLINT timer and software interrupts, wfi. */
#include "common.h"

#define MIP_SSIP (1 << 1)
#define MIP_MSIP (1 << 3)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)

/* Check n: insn raises illegal instruction when run in mode prv (resumes in M). */
#define CHECK_ILLEGAL_IN(n, prv, ...)     \
    li t5, MSTATUS_MPP;                   \
    csrc mstatus, t5;                     \
    li t5, ((prv) << 11);                 \
    csrs mstatus, t5;                     \
    la t6, 1006f;                         \
    csrw mepc, t6;                        \
    mret;                                 \
1006:                                     \
    CHECK_ILLEGAL(n, __VA_ARGS__)

/* Programs mtimecmp to fire delta ticks from now. Clobbers t0-t2. */
#define TIMER_IN(delta)                   \
    li t0, CLINT_MTIME;                   \
    ld t1, 0(t0);                         \
    li t2, delta;                         \
    add t1, t1, t2;                       \
    li t0, CLINT_MTIMECMP;                \
    sd t1, 0(t0)

#define TIMER_OFF                         \
    li t0, CLINT_MTIMECMP;                \
    li t1, -1;                            \
    sd t1, 0(t0)

/* Spins for up to about 50 ms of mtime (and at most 10M polls, should mtime stand still)
 * waiting for an interrupt, else fails check n. Clobbers t0-t3. */
#define WAIT_FOR_IRQ(n)                   \
    li t0, CLINT_MTIME;                   \
    ld t1, 0(t0);                         \
    li t2, 500000;                        \
    add t1, t1, t2;                       \
    li t3, 10000000;                      \
1007:                                     \
    addi t3, t3, -1;                      \
    beqz t3, 1008f;                       \
    ld t2, 0(t0);                         \
    bltu t2, t1, 1007b;                   \
1008:                                     \
    FAIL_NOW(n)

TEST_BEGIN("priv")
    PRINT("ecall")
    EXPECT_TRAP(1f)
lbl_ecall_m:
    ecall
1:  CHECK_TRAP(1, CAUSE_ECALL_M)
    la t0, lbl_ecall_m
    CHECK_MEM_REG(2, trap_epc, t0)
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  ecall
1:  CHECK_TRAP(3, CAUSE_ECALL_S)
    la t0, 2b
    CHECK_MEM_REG(4, trap_epc, t0)
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_U, 2f)
2:  ecall
1:  CHECK_TRAP(5, CAUSE_ECALL_U)
    la t0, 2b
    CHECK_MEM_REG(6, trap_epc, t0)
    /* the trap recorded the previous mode in MPP and the old MIE in MPIE */
    la t0, trap_mstatus
    ld a0, 0(t0)
    li t1, MSTATUS_MPP
    and a0, a0, t1
    CHECK(7, a0, 0)

    PRINT("mret")
    /* mret: MIE = MPIE, MPIE = 1, MPP = U */
    li t0, MSTATUS_MIE
    csrc mstatus, t0
    li t0, MSTATUS_MPIE
    csrs mstatus, t0
    GOTO_MODE(PRV_M, 1f)
1:  csrr a0, mstatus
    csrci mstatus, MSTATUS_MIE
    andi a1, a0, MSTATUS_MIE
    CHECK(10, a1, MSTATUS_MIE)
    andi a1, a0, MSTATUS_MPIE
    CHECK(11, a1, MSTATUS_MPIE)
    li t0, MSTATUS_MPP
    and a1, a0, t0
    CHECK(12, a1, 0)

    PRINT("sret")
    /* sret from S to S and to U */
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  li t0, MSTATUS_SPP
    csrs sstatus, t0
    la t0, 3f
    csrw sepc, t0
    sret
3:  ecall
1:  CHECK_TRAP(20, CAUSE_ECALL_S)
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  li t0, MSTATUS_SPP
    csrc sstatus, t0
    li t0, MSTATUS_SPIE
    csrs sstatus, t0
    la t0, 3f
    csrw sepc, t0
    sret
3:  ecall
1:  CHECK_TRAP(21, CAUSE_ECALL_U)
    /* sret set SIE = SPIE, SPIE = 1, SPP = U */
    la t0, trap_mstatus
    ld a0, 0(t0)
    andi a1, a0, MSTATUS_SIE
    CHECK(22, a1, MSTATUS_SIE)
    andi a1, a0, MSTATUS_SPIE
    CHECK(23, a1, MSTATUS_SPIE)
    andi a1, a0, MSTATUS_SPP
    CHECK(24, a1, 0)
    csrci mstatus, MSTATUS_SIE
    /* sret executed in M returns to SPP */
    li t0, MSTATUS_SPP
    csrs mstatus, t0
    la t0, 2f
    csrw sepc, t0
    EXPECT_TRAP(1f)
    sret
2:  ecall
1:  CHECK_TRAP(25, CAUSE_ECALL_S)

    PRINT("illegal from lower modes")
    CHECK_ILLEGAL_IN(30, PRV_U, csrr a0, sstatus)
    CHECK_ILLEGAL_IN(31, PRV_U, csrr a0, mstatus)
    CHECK_ILLEGAL_IN(32, PRV_U, csrw stvec, a0)
    CHECK_ILLEGAL_IN(33, PRV_U, csrr a0, satp)
    CHECK_ILLEGAL_IN(34, PRV_U, csrr a0, mscratch)
    CHECK_ILLEGAL_IN(35, PRV_U, sret)
    CHECK_ILLEGAL_IN(36, PRV_U, mret)
    CHECK_ILLEGAL_IN(37, PRV_U, sfence.vma)
    CHECK_ILLEGAL_IN(38, PRV_S, csrr a0, mstatus)
    CHECK_ILLEGAL_IN(39, PRV_S, csrw mscratch, a0)
    CHECK_ILLEGAL_IN(40, PRV_S, csrr a0, medeleg)
    CHECK_ILLEGAL_IN(41, PRV_S, csrr a0, pmpcfg0)
    CHECK_ILLEGAL_IN(42, PRV_S, mret)
    CHECK_ILLEGAL_IN(43, PRV_S, csrr a0, mhartid)
    /* S CSRs are fine in S */
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  csrr a0, sstatus
    csrr a0, sscratch
    csrr a0, satp
    csrr a0, stvec
    ecall
1:  CHECK_TRAP(44, CAUSE_ECALL_S)

    PRINT("tw tsr tvm")
    li t0, MSTATUS_TW
    csrs mstatus, t0
    CHECK_ILLEGAL_IN(50, PRV_S, wfi)
    CHECK_ILLEGAL_IN(51, PRV_U, wfi)
    li t0, MSTATUS_TW
    csrc mstatus, t0
    li t0, MSTATUS_TSR
    csrs mstatus, t0
    CHECK_ILLEGAL_IN(52, PRV_S, sret)
    li t0, MSTATUS_TSR
    csrc mstatus, t0
    li t0, MSTATUS_TVM
    csrs mstatus, t0
    CHECK_ILLEGAL_IN(53, PRV_S, csrr a0, satp)
    CHECK_ILLEGAL_IN(54, PRV_S, csrw satp, zero)
    CHECK_ILLEGAL_IN(55, PRV_S, sfence.vma)
    CHECK_ILLEGAL_IN(56, PRV_S, sfence.vma a0, a1)
    /* TVM does not apply to M */
    csrr a0, satp
    sfence.vma
    li t0, MSTATUS_TVM
    csrc mstatus, t0
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  csrr a0, satp
    sfence.vma
    ecall
1:  CHECK_TRAP(57, CAUSE_ECALL_S)

    PRINT("medeleg")
    la t0, s_trap_entry
    csrw stvec, t0
    li t0, (1 << CAUSE_ECALL_U) | (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT)
    csrw medeleg, t0
    csrr a0, medeleg
    CHECK(60, a0, (1 << CAUSE_ECALL_U) | (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT))
    /* U ecall goes to S; S resumes and calls M */
    S_EXPECT_TRAP(3f)
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_U, 2f)
2:  ecall
3:  ecall                               /* in S now */
1:  CHECK_TRAP(61, CAUSE_ECALL_S)
    CHECK_S_TRAP(62, CAUSE_ECALL_U)
    la t0, 2b
    CHECK_MEM_REG(63, s_trap_epc, t0)
    la t0, s_trap_sstatus
    ld a0, 0(t0)
    andi a0, a0, MSTATUS_SPP
    CHECK(64, a0, 0)                    /* came from U */
    csrr a0, scause
    CHECK(65, a0, CAUSE_ECALL_U)
    /* illegal instruction in S goes to S itself, with stval = instruction bits */
    S_EXPECT_TRAP(3f)
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  .option push
    .option norvc
    csrr a0, mstatus
    .option pop
3:  ecall
1:  CHECK_TRAP(66, CAUSE_ECALL_S)
    CHECK_S_TRAP(67, CAUSE_ILLEGAL)
    la t0, 2b
    lwu t0, 0(t0)
    CHECK_MEM_REG(68, s_trap_tval, t0)
    la t0, s_trap_sstatus
    ld a0, 0(t0)
    andi a0, a0, MSTATUS_SPP
    CHECK(69, a0, MSTATUS_SPP)          /* came from S */
    /* a delegated exception raised in M still traps to M */
    la t0, s_trap_count
    ld s1, 0(t0)
    EXPECT_TRAP(1f)
    ebreak
1:  CHECK_TRAP(70, CAUSE_BREAKPOINT)
    la t0, s_trap_count
    ld a0, 0(t0)
    CHECK_REG(71, a0, s1)
    /* not delegated: S ecall still reaches M directly */
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  ecall
1:  CHECK_TRAP(72, CAUSE_ECALL_S)
    la t0, s_trap_count
    ld a0, 0(t0)
    CHECK_REG(73, a0, s1)
    csrw medeleg, zero

    PRINT("software interrupt")
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    csrr a0, mip
    andi a0, a0, MIP_MSIP
    CHECK(80, a0, MIP_MSIP)
    csrsi mie, MIP_MSIP
    EXPECT_TRAP(1f)
    csrsi mstatus, MSTATUS_MIE
    WAIT_FOR_IRQ(81)
1:  CHECK_TRAP(82, CAUSE_INTR | 3)
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    csrr a0, mip
    andi a0, a0, MIP_MSIP
    CHECK(83, a0, 0)
    csrci mie, MIP_MSIP
    /* M interrupts are taken in lower modes even with MIE = 0 */
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    csrsi mie, MIP_MSIP
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_U, 2f)
2:  WAIT_FOR_IRQ(84)
1:  CHECK_TRAP(85, CAUSE_INTR | 3)
    la t0, trap_mstatus
    ld a0, 0(t0)
    li t1, MSTATUS_MPP
    and a0, a0, t1
    CHECK(86, a0, 0)
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    csrci mie, MIP_MSIP

    PRINT("timer interrupt")
    TIMER_OFF
    li t0, MIP_MTIP
    csrs mie, t0
    TIMER_IN(1000)
    EXPECT_TRAP(1f)
    csrsi mstatus, MSTATUS_MIE
    WAIT_FOR_IRQ(90)
1:  CHECK_TRAP(91, CAUSE_INTR | 7)
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    CHECK(92, a0, MIP_MTIP)
    TIMER_OFF
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    CHECK(93, a0, 0)
    /* mtimecmp in the future: no interrupt yet */
    TIMER_IN(2000000)
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    CHECK(94, a0, 0)
    TIMER_OFF

    PRINT("wfi")
    /* wfi wakes on a pending enabled interrupt even with MIE = 0 */
    TIMER_IN(10000)
    li t0, CLINT_MTIME
    ld s1, 0(t0)
    li t1, 5000000
    add s1, s1, t1
2:  wfi
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    bnez a0, 3f
    ld t1, 0(t0)
    bltu t1, s1, 2b
3:  CHECK(95, a0, MIP_MTIP)
    TIMER_OFF
    li t0, MIP_MTIP
    csrc mie, t0

    PRINT("vectored mtvec")
    la t0, m_vectors
    ori t0, t0, 1
    csrw mtvec, t0
    csrr a0, mtvec
    CHECK_REG(100, a0, t0)
    la s0, m_frame
    sd zero, FRAME_VEC_MARK(s0)
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    csrsi mie, MIP_MSIP
    EXPECT_TRAP(1f)
    csrsi mstatus, MSTATUS_MIE
    WAIT_FOR_IRQ(101)
1:  CHECK_TRAP(102, CAUSE_INTR | 3)
    ld a0, FRAME_VEC_MARK(s0)
    CHECK(103, a0, 3)
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    csrci mie, MIP_MSIP
    sd zero, FRAME_VEC_MARK(s0)
    li t0, MIP_MTIP
    csrs mie, t0
    TIMER_IN(1000)
    EXPECT_TRAP(1f)
    csrsi mstatus, MSTATUS_MIE
    WAIT_FOR_IRQ(104)
1:  CHECK_TRAP(105, CAUSE_INTR | 7)
    ld a0, FRAME_VEC_MARK(s0)
    CHECK(106, a0, 7)
    TIMER_OFF
    li t0, MIP_MTIP
    csrc mie, t0
    /* exceptions use the base address */
    sd zero, FRAME_VEC_MARK(s0)
    EXPECT_TRAP(1f)
    ecall
1:  CHECK_TRAP(107, CAUSE_ECALL_M)
    ld a0, FRAME_VEC_MARK(s0)
    CHECK(108, a0, 0)
    la t0, trap_entry
    csrw mtvec, t0

    PRINT("mideleg")
    /* not delegated: a pending SSIP interrupts S into M */
    csrw mideleg, zero
    csrsi mip, MIP_SSIP
    csrsi mie, MIP_SSIP
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  WAIT_FOR_IRQ(110)
1:  CHECK_TRAP(111, CAUSE_INTR | 1)
    csrci mip, MIP_SSIP
    /* delegated: S takes it once sstatus.SIE is set */
    li t0, MIP_SSIP | MIP_STIP | MIP_MSIP | MIP_MTIP
    csrw mideleg, t0
    csrr a0, mideleg
    andi a0, a0, MIP_SSIP | MIP_STIP | MIP_MSIP | MIP_MTIP
    CHECK(112, a0, MIP_SSIP | MIP_STIP)   /* M interrupts are never delegated */
    la t0, s_trap_entry
    csrw stvec, t0
    csrsi mip, MIP_SSIP
    S_EXPECT_TRAP(3f)
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  csrr a0, sip
    andi a0, a0, MIP_SSIP
    CHECK(113, a0, MIP_SSIP)
    csrsi sie, MIP_SSIP
    csrsi sstatus, MSTATUS_SIE
    WAIT_FOR_IRQ(114)
3:  csrci sip, MIP_SSIP                 /* in S after the S handler */
    csrr a0, sip
    andi a0, a0, MIP_SSIP
    CHECK(115, a0, 0)
    ecall
1:  CHECK_TRAP(116, CAUSE_ECALL_S)
    CHECK_S_TRAP(117, CAUSE_INTR | 1)
    /* delegated interrupts do not trap to M even while M has MIE set */
    csrsi mip, MIP_SSIP
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    csrci mstatus, MSTATUS_MIE
    csrci mip, MIP_SSIP
    /* vectored stvec: STIP (raised by M) lands on entry 5 */
    la t0, s_vectors
    ori t0, t0, 1
    csrw stvec, t0
    la s0, s_frame
    sd zero, FRAME_VEC_MARK(s0)
    li t0, MIP_STIP
    csrs mie, t0
    csrs mip, t0
    S_EXPECT_TRAP(3f)
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_S, 2f)
2:  csrsi sstatus, MSTATUS_SIE
    WAIT_FOR_IRQ(118)
3:  ecall
1:  CHECK_TRAP(119, CAUSE_ECALL_S)
    CHECK_S_TRAP(120, CAUSE_INTR | 5)
    ld a0, FRAME_VEC_MARK(s0)
    CHECK(121, a0, 5)
    li t0, MIP_STIP
    csrc mip, t0
    csrc mie, t0
    /* a U-mode interrupt delegated to S is taken even with SIE = 0 */
    sd zero, FRAME_VEC_MARK(s0)
    csrci sstatus, MSTATUS_SIE
    csrsi mip, MIP_SSIP
    S_EXPECT_TRAP(3f)
    EXPECT_TRAP(1f)
    GOTO_MODE(PRV_U, 2f)
2:  WAIT_FOR_IRQ(122)
3:  csrci sip, MIP_SSIP
    ecall
1:  CHECK_TRAP(123, CAUSE_ECALL_S)
    CHECK_S_TRAP(124, CAUSE_INTR | 1)
    ld a0, FRAME_VEC_MARK(s0)
    CHECK(125, a0, 1)
    csrci mie, MIP_SSIP
    csrw mideleg, zero
    la t0, s_trap_entry
    csrw stvec, t0

    PRINT("mprv")
    /* pmp0 denies S/U everything in one page, pmp1 allows the rest */
    la t0, guarded
    srli t0, t0, 2
    ori t0, t0, 4096 / 8 - 1
    csrw pmpaddr0, t0
    li t0, -1
    csrw pmpaddr1, t0
    li t0, (0x1f << 8) | 0x18           /* pmp1: NAPOT RWX, pmp0: NAPOT --- */
    csrw pmpcfg0, t0
    la s0, guarded
    ld a0, 0(s0)                        /* M ignores an unlocked entry */
    li t0, MSTATUS_MPRV | MSTATUS_MPP
    csrc mstatus, t0
    li t0, MSTATUS_MPRV                 /* MPRV with MPP = U */
    csrs mstatus, t0
    EXPECT_TRAP(1f)
    ld a0, 0(s0)
1:  CHECK_TRAP(130, CAUSE_LOAD_ACCESS)
    CHECK_MEM_REG(130, trap_tval, s0)
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    EXPECT_TRAP(1f)
    sd a0, 8(s0)
1:  CHECK_TRAP(131, CAUSE_STORE_ACCESS)
    addi t0, s0, 8
    CHECK_MEM_REG(131, trap_tval, t0)
    /* MPRV does not apply to instruction fetch */
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    la t0, guarded_code
    jalr t0
    li t0, MSTATUS_MPRV | MSTATUS_MPP
    csrc mstatus, t0
    /* MPRV with MPP = M: full access */
    li t0, MSTATUS_MPRV | MSTATUS_MPP
    csrs mstatus, t0
    ld a0, 0(s0)
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    /* restore the crt's single all-memory entry */
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0

    TEST_END

/* Vector tables: 4-byte jumps, one per cause. Each stub records its cause in the frame's
 * vector marker and continues in the common handler. */
#define M_VEC_STUB(cause)                 \
    csrrw t6, mscratch, t6;               \
    sd t5, 240(t6);                       \
    li t5, cause;                         \
    sd t5, FRAME_VEC_MARK(t6);            \
    ld t5, 240(t6);                       \
    csrrw t6, mscratch, t6;               \
    j trap_entry

#define S_VEC_STUB(cause)                 \
    csrrw t6, sscratch, t6;               \
    sd t5, 240(t6);                       \
    li t5, cause;                         \
    sd t5, FRAME_VEC_MARK(t6);            \
    ld t5, 240(t6);                       \
    csrrw t6, sscratch, t6;               \
    j s_trap_entry

    .option push
    .option norvc
    .balign 256
m_vectors:
    j trap_entry
    j m_vec1
    j m_vec2
    j m_vec3
    j m_vec4
    j m_vec5
    j m_vec6
    j m_vec7
    j m_vec8
    j m_vec9
    j m_vec10
    j m_vec11
m_vec1: M_VEC_STUB(1)
m_vec2: M_VEC_STUB(2)
m_vec3: M_VEC_STUB(3)
m_vec4: M_VEC_STUB(4)
m_vec5: M_VEC_STUB(5)
m_vec6: M_VEC_STUB(6)
m_vec7: M_VEC_STUB(7)
m_vec8: M_VEC_STUB(8)
m_vec9: M_VEC_STUB(9)
m_vec10: M_VEC_STUB(10)
m_vec11: M_VEC_STUB(11)

    .balign 256
s_vectors:
    j s_trap_entry
    j s_vec1
    j s_vec2
    j s_vec3
    j s_vec4
    j s_vec5
    j s_vec6
    j s_vec7
    j s_vec8
    j s_vec9
s_vec1: S_VEC_STUB(1)
s_vec2: S_VEC_STUB(2)
s_vec3: S_VEC_STUB(3)
s_vec4: S_VEC_STUB(4)
s_vec5: S_VEC_STUB(5)
s_vec6: S_VEC_STUB(6)
s_vec7: S_VEC_STUB(7)
s_vec8: S_VEC_STUB(8)
s_vec9: S_VEC_STUB(9)
    .option pop

/* One page that S and U may not touch: data first, then a return stub M may execute. */
    .section .data
    .balign 4096
guarded:
    .dword 0x1234, 0
guarded_code:
    ret
    .balign 4096
