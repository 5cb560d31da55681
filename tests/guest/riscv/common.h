/* Shared macros for the bare-metal RISC-V test payloads (see crt.S for the protocol). */
#ifndef RISCV_GUEST_COMMON_H
#define RISCV_GUEST_COMMON_H

/*
 * Register conventions inside a test:
 *   gp      number of the check in progress (reported on failure)
 *   t5, t6  scratch of the CHECK/EXPECT macros: never hold a value across a macro in them
 *   sp      a valid stack in M mode (crt.S sets it)
 * PRINT clobbers ra, a0-a7 and t0-t4.
 * mscratch and sscratch point at the trap frames: a test that writes them restores them.
 */

#define UART_BASE     0x10000000
#define FINISHER_BASE 0x100000
#define CLINT_MSIP    0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME   0x200bff8

#define MSTATUS_SIE   (1 << 1)
#define MSTATUS_MIE   (1 << 3)
#define MSTATUS_SPIE  (1 << 5)
#define MSTATUS_MPIE  (1 << 7)
#define MSTATUS_SPP   (1 << 8)
#define MSTATUS_MPP   (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_FS    (3 << 13)
#define MSTATUS_FS_INITIAL (1 << 13)
#define MSTATUS_FS_CLEAN (2 << 13)
#define MSTATUS_FS_DIRTY (3 << 13)
#define MSTATUS_MPRV  (1 << 17)
#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)
#define MSTATUS_SD    (1 << 63)

#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS     1
#define CAUSE_ILLEGAL          2
#define CAUSE_BREAKPOINT       3
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS     7
#define CAUSE_ECALL_U          8
#define CAUSE_ECALL_S          9
#define CAUSE_ECALL_M          11
#define CAUSE_FETCH_PAGE       12
#define CAUSE_LOAD_PAGE        13
#define CAUSE_STORE_PAGE       15
#define CAUSE_INTR             (1 << 63)

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* Offsets in a trap frame: x1..x31 at 8*n, then the vector marker. */
#define FRAME_VEC_MARK (32 * 8)
#define FRAME_SIZE     (33 * 8)

/* Opens the test: name is the string printed in the PASS/FAIL lines. */
#define TEST_BEGIN(name)                  \
    .section .rodata;                     \
    .globl test_name;                     \
test_name:                                \
    .asciz name;                          \
    .text;                                \
    .globl test_main;                     \
    .balign 4;                            \
test_main:

/* Ends the test successfully (must be reached in M mode). */
#define TEST_END  j test_pass

/* Check n: register reg equals the constant val. */
#define CHECK(n, reg, val)                \
    li gp, n;                             \
    mv t5, reg;                           \
    li t6, val;                           \
    beq t5, t6, 1001f;                    \
    j fail_check;                         \
1001:

/* Check n: registers a and b are equal (b is reported as the expected value). */
#define CHECK_REG(n, a, b)                \
    li gp, n;                             \
    mv t5, a;                             \
    mv t6, b;                             \
    beq t5, t6, 1001f;                    \
    j fail_check;                         \
1001:

/* Check n: the doubleword at symbol sym equals val. */
#define CHECK_MEM(n, sym, val)            \
    li gp, n;                             \
    la t5, sym;                           \
    ld t5, 0(t5);                         \
    li t6, val;                           \
    beq t5, t6, 1001f;                    \
    j fail_check;                         \
1001:

/* Check n: the doubleword at symbol sym equals register reg. */
#define CHECK_MEM_REG(n, sym, reg)        \
    li gp, n;                             \
    mv t6, reg;                           \
    la t5, sym;                           \
    ld t5, 0(t5);                         \
    beq t5, t6, 1001f;                    \
    j fail_check;                         \
1001:

/* Check n: CSR csr equals val. */
#define CHECK_CSR(n, csr, val)            \
    li gp, n;                             \
    csrr t5, csr;                         \
    li t6, val;                           \
    beq t5, t6, 1001f;                    \
    j fail_check;                         \
1001:

/* Check n: double register f holds the bit pattern val. */
#define CHECK_D(n, f, val)                \
    li gp, n;                             \
    fmv.x.d t5, f;                        \
    li t6, val;                           \
    beq t5, t6, 1001f;                    \
    j fail_check;                         \
1001:

/* Check n: f holds the single val, correctly NaN-boxed (upper 32 bits all ones). */
#define CHECK_S(n, f, val)                \
    CHECK_D(n, f, (0xffffffff00000000 | (val)))

/* Check n: op rd, rs1, rs2 with rs1 = a, rs2 = b gives res (also with rd == rs1). */
#define TEST_RR(n, op, a, b, res)         \
    li a0, a;                             \
    li a1, b;                             \
    op a2, a0, a1;                        \
    CHECK(n, a2, res);                    \
    op a0, a0, a1;                        \
    CHECK(n, a0, res)

/* Check n: op rd, rs1, imm with rs1 = a gives res. */
#define TEST_RI(n, op, a, imm, res)       \
    li a0, a;                             \
    op a2, a0, imm;                       \
    CHECK(n, a2, res)

/* Fails check n unconditionally (reports got=0 expected=1). */
#define FAIL_NOW(n)                       \
    li gp, n;                             \
    li t5, 0;                             \
    li t6, 1;                             \
    j fail_check

/*
 * Trap expectations (one-shot, consumed by the next trap):
 *   EXPECT_TRAP(label)  the next M-mode trap resumes at label in M mode with MIE=0,
 *                       all registers as they were at the trap.
 *   EXPECT_SKIP         the next M-mode trap returns past the trapping instruction, same mode.
 *   S_EXPECT_TRAP/S_EXPECT_SKIP  the same for traps delegated to S mode (resume in S).
 * Both reset trap_cause/s_trap_cause to -1 so a missing trap fails CHECK_TRAP.
 */
#define EXPECT_TRAP(label)                \
    la t5, label;                         \
    la t6, trap_resume;                   \
    sd t5, 0(t6);                         \
    li t5, -1;                            \
    la t6, trap_cause;                    \
    sd t5, 0(t6)

#define EXPECT_SKIP                       \
    li t5, 1;                             \
    la t6, trap_resume;                   \
    sd t5, 0(t6);                         \
    li t5, -1;                            \
    la t6, trap_cause;                    \
    sd t5, 0(t6)

#define S_EXPECT_TRAP(label)              \
    la t5, label;                         \
    la t6, s_trap_resume;                 \
    sd t5, 0(t6);                         \
    li t5, -1;                            \
    la t6, s_trap_cause;                  \
    sd t5, 0(t6)

#define S_EXPECT_SKIP                     \
    li t5, 1;                             \
    la t6, s_trap_resume;                 \
    sd t5, 0(t6);                         \
    li t5, -1;                            \
    la t6, s_trap_cause;                  \
    sd t5, 0(t6)

/* Check n: the last M-mode trap had cause c (and tval t for CHECK_TRAP_TVAL). */
#define CHECK_TRAP(n, c)       CHECK_MEM(n, trap_cause, c)
#define CHECK_TRAP_TVAL(n, c, t)          \
    CHECK_MEM(n, trap_cause, c);          \
    CHECK_MEM(n, trap_tval, t)
#define CHECK_S_TRAP(n, c)     CHECK_MEM(n, s_trap_cause, c)

/* Check n: the instruction given (one instruction, assembled uncompressed) raises illegal instruction in
 * the current mode, with mepc at it and mtval = its bits; execution continues after it
 * in M mode. */
#define CHECK_ILLEGAL(n, ...)             \
    EXPECT_TRAP(1003f);                   \
    .option push;                         \
    .option norvc;                        \
1004:                                     \
    __VA_ARGS__;                          \
    .option pop;                          \
1003:                                     \
    CHECK_TRAP(n, CAUSE_ILLEGAL);         \
    la t4, 1004b;                         \
    CHECK_MEM_REG(n, trap_epc, t4);       \
    lwu t4, 0(t4);                        \
    CHECK_MEM_REG(n, trap_tval, t4)

/* Drops from M to mode prv (PRV_U/PRV_S/PRV_M) at label. Clobbers t5, t6. */
#define GOTO_MODE(prv, label)             \
    li t5, MSTATUS_MPP;                   \
    csrc mstatus, t5;                     \
    li t5, ((prv) << 11);                 \
    csrs mstatus, t5;                     \
    la t6, label;                         \
    csrw mepc, t6;                        \
    mret

/* Returns to M mode at label from any mode: ecall caught by an EXPECT_TRAP. */
#define RETURN_TO_M(label)                \
    EXPECT_TRAP(label);                   \
    ecall

/* Prints str and a newline on the UART (M mode or unmapped S/U). */
#define PRINT(str)                        \
    .section .rodata;                     \
1002:                                     \
    .asciz str;                           \
    .text;                                \
    la a0, 1002b;                         \
    call print_line

#endif
