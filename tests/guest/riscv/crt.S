/*
 * Runtime shared by every RISC-V test payload.
 *
 * Protocol: linked at 0x80000000, entered in M mode with a0 = hart id (harts other than 0
 * park). Progress goes to the ns16550a UART; the last line is "PASS" or
 * "FAIL: <test> <detail>"; then the sifive_test finisher gets 0x5555 (pass) or
 * (code << 16) | 0x3333 with code 1 (a check failed), 2 (unexpected M-mode trap) or
 * 3 (unexpected trap delegated to S mode).
 */
#include "common.h"

    .section .text.init, "ax"
    .globl _start
_start:
    la t0, trap_entry
    csrw mtvec, t0
    bnez a0, park
    la t0, m_frame
    csrw mscratch, t0
    la t0, s_frame
    csrw sscratch, t0
    la sp, stack_top
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:
    /* S and U may touch all memory until a test says otherwise. */
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    csrw mie, zero
    csrw mideleg, zero
    csrw medeleg, zero
    csrw satp, zero
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    csrw fcsr, zero
    la a0, test_name
    call print_str
    la a0, msg_start
    call print_line
    li gp, 0
    j test_main

park:
    wfi
    j park

/* Reached by a test through TEST_END. */
    .text
    .globl test_pass
test_pass:
    la a0, msg_pass
    call print_line
    li t0, FINISHER_BASE
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b

/* Reached through CHECK*: gp = check number, t5 = value seen, t6 = value expected.
 * Reports from M mode through an ecall, whichever mode the check ran in. */
    .globl fail_check
fail_check:
    la t0, fail_flag
    li t1, 1
    sd t1, 0(t0)
    ecall
1:  j 1b

/* ---- M-mode trap handler ---- */
    .balign 64
    .globl trap_entry
trap_entry:
    csrrw t6, mscratch, t6
    sd x1, 8(t6)
    sd x2, 16(t6)
    sd x3, 24(t6)
    sd x4, 32(t6)
    sd x5, 40(t6)
    sd x6, 48(t6)
    sd x7, 56(t6)
    sd x8, 64(t6)
    sd x9, 72(t6)
    sd x10, 80(t6)
    sd x11, 88(t6)
    sd x12, 96(t6)
    sd x13, 104(t6)
    sd x14, 112(t6)
    sd x15, 120(t6)
    sd x16, 128(t6)
    sd x17, 136(t6)
    sd x18, 144(t6)
    sd x19, 152(t6)
    sd x20, 160(t6)
    sd x21, 168(t6)
    sd x22, 176(t6)
    sd x23, 184(t6)
    sd x24, 192(t6)
    sd x25, 200(t6)
    sd x26, 208(t6)
    sd x27, 216(t6)
    sd x28, 224(t6)
    sd x29, 232(t6)
    sd x30, 240(t6)
    csrr t5, mscratch
    sd t5, 248(t6)
    csrw mscratch, t6
    la sp, trap_stack_top

    csrr s0, mcause
    csrr s1, mepc
    csrr s2, mtval
    csrr s3, mstatus
    la t0, trap_cause
    sd s0, 0(t0)
    la t0, trap_epc
    sd s1, 0(t0)
    la t0, trap_tval
    sd s2, 0(t0)
    la t0, trap_mstatus
    sd s3, 0(t0)
    la t0, trap_count
    ld t1, 0(t0)
    addi t1, t1, 1
    sd t1, 0(t0)

    la t0, fail_flag
    ld t0, 0(t0)
    bnez t0, report_check
    la t0, s_unexpected
    ld t0, 0(t0)
    bnez t0, report_s_trap
    la t0, trap_resume
    ld t1, 0(t0)
    beqz t1, report_m_trap
    sd zero, 0(t0)
    li t2, 1
    beq t1, t2, m_skip

    /* Resume at the expected label in M mode, interrupts off, MPRV off. */
    csrw mepc, t1
    li t2, MSTATUS_MPP
    csrs mstatus, t2
    li t2, MSTATUS_MPIE | MSTATUS_MPRV
    csrc mstatus, t2
    j m_restore

m_skip:
    bltz s0, m_restore
    mv a0, s0
    mv a1, s1
    mv a2, s2
    call insn_length
    add a0, s1, a0
    csrw mepc, a0

m_restore:
    csrr t6, mscratch
    ld x1, 8(t6)
    ld x2, 16(t6)
    ld x3, 24(t6)
    ld x4, 32(t6)
    ld x5, 40(t6)
    ld x6, 48(t6)
    ld x7, 56(t6)
    ld x8, 64(t6)
    ld x9, 72(t6)
    ld x10, 80(t6)
    ld x11, 88(t6)
    ld x12, 96(t6)
    ld x13, 104(t6)
    ld x14, 112(t6)
    ld x15, 120(t6)
    ld x16, 128(t6)
    ld x17, 136(t6)
    ld x18, 144(t6)
    ld x19, 152(t6)
    ld x20, 160(t6)
    ld x21, 168(t6)
    ld x22, 176(t6)
    ld x23, 184(t6)
    ld x24, 192(t6)
    ld x25, 200(t6)
    ld x26, 208(t6)
    ld x27, 216(t6)
    ld x28, 224(t6)
    ld x29, 232(t6)
    ld x30, 240(t6)
    ld x31, 248(t6)
    mret

/* "FAIL: <test> check N got X expected Y" from the registers saved at the ecall. */
report_check:
    call fail_prefix
    la a0, msg_check
    call print_str
    csrr s4, mscratch
    ld a0, 24(s4)
    call print_dec
    la a0, msg_got
    call print_str
    ld a0, 240(s4)
    call print_hex
    la a0, msg_expected
    call print_str
    ld a0, 248(s4)
    call print_hex
    li a0, 1
    j finish_fail

/* "FAIL: <test> unexpected trap mcause=.. mepc=.. mtval=.. after check N" */
report_m_trap:
    call fail_prefix
    la a0, msg_trap
    call print_str
    mv a0, s0
    call print_hex
    la a0, msg_epc
    call print_str
    mv a0, s1
    call print_hex
    la a0, msg_tval
    call print_str
    mv a0, s2
    call print_hex
    la a0, msg_after
    call print_str
    csrr s4, mscratch
    ld a0, 24(s4)
    call print_dec
    li a0, 2
    j finish_fail

/* "FAIL: <test> unexpected S-mode trap scause=.. sepc=.. stval=.. after check N" */
report_s_trap:
    call fail_prefix
    la a0, msg_strap
    call print_str
    la t0, s_trap_cause
    ld a0, 0(t0)
    call print_hex
    la a0, msg_sepc
    call print_str
    la t0, s_trap_epc
    ld a0, 0(t0)
    call print_hex
    la a0, msg_stval
    call print_str
    la t0, s_trap_tval
    ld a0, 0(t0)
    call print_hex
    la a0, msg_after
    call print_str
    la s4, s_frame
    ld a0, 24(s4)
    call print_dec
    li a0, 3
    j finish_fail

fail_prefix:
    addi sp, sp, -16
    sd ra, 0(sp)
    la a0, msg_fail
    call print_str
    la a0, test_name
    call print_str
    li a0, ' '
    call print_char
    ld ra, 0(sp)
    addi sp, sp, 16
    ret

/* a0 = failure code: ends the line, tells the finisher, never returns. */
finish_fail:
    mv s5, a0
    li a0, '\n'
    call print_char
    slli t1, s5, 16
    li t2, 0x3333
    or t1, t1, t2
    li t0, FINISHER_BASE
    sw t1, 0(t0)
1:  j 1b

/* Length in bytes of the instruction that trapped: a0 = cause, a1 = epc, a2 = tval.
 * Uses the instruction bits in tval for illegal instructions, else reads them at epc. */
insn_length:
    li t0, CAUSE_ILLEGAL
    bne a0, t0, 1f
    bnez a2, 2f
1:  lhu a2, 0(a1)
2:  andi a2, a2, 3
    li a0, 4
    li t0, 3
    beq a2, t0, 3f
    li a0, 2
3:  ret

/* ---- S-mode trap handler (for delegated traps) ---- */
    .balign 64
    .globl s_trap_entry
s_trap_entry:
    csrrw t6, sscratch, t6
    sd x1, 8(t6)
    sd x2, 16(t6)
    sd x3, 24(t6)
    sd x4, 32(t6)
    sd x5, 40(t6)
    sd x6, 48(t6)
    sd x7, 56(t6)
    sd x8, 64(t6)
    sd x9, 72(t6)
    sd x10, 80(t6)
    sd x11, 88(t6)
    sd x12, 96(t6)
    sd x13, 104(t6)
    sd x14, 112(t6)
    sd x15, 120(t6)
    sd x16, 128(t6)
    sd x17, 136(t6)
    sd x18, 144(t6)
    sd x19, 152(t6)
    sd x20, 160(t6)
    sd x21, 168(t6)
    sd x22, 176(t6)
    sd x23, 184(t6)
    sd x24, 192(t6)
    sd x25, 200(t6)
    sd x26, 208(t6)
    sd x27, 216(t6)
    sd x28, 224(t6)
    sd x29, 232(t6)
    sd x30, 240(t6)
    csrr t5, sscratch
    sd t5, 248(t6)
    csrw sscratch, t6
    la sp, s_trap_stack_top

    csrr s0, scause
    csrr s1, sepc
    csrr s2, stval
    csrr s3, sstatus
    la t0, s_trap_cause
    sd s0, 0(t0)
    la t0, s_trap_epc
    sd s1, 0(t0)
    la t0, s_trap_tval
    sd s2, 0(t0)
    la t0, s_trap_sstatus
    sd s3, 0(t0)
    la t0, s_trap_count
    ld t1, 0(t0)
    addi t1, t1, 1
    sd t1, 0(t0)

    /* A failing check or an unexpected trap: let M mode report it. */
    la t0, fail_flag
    ld t0, 0(t0)
    bnez t0, s_escalate
    la t0, s_trap_resume
    ld t1, 0(t0)
    bnez t1, 1f
    la t0, s_unexpected
    li t1, 1
    sd t1, 0(t0)
s_escalate:
    csrr t6, sscratch
    ld x3, 24(t6)
    ld x30, 240(t6)
    ld x31, 248(t6)
    ecall
2:  j 2b

1:  sd zero, 0(t0)
    li t2, 1
    beq t1, t2, s_skip
    /* Resume at the expected label in S mode, interrupts off. */
    csrw sepc, t1
    li t2, MSTATUS_SPP
    csrs sstatus, t2
    li t2, MSTATUS_SPIE
    csrc sstatus, t2
    j s_restore

s_skip:
    bltz s0, s_restore
    mv a0, s0
    mv a1, s1
    mv a2, s2
    call insn_length
    add a0, s1, a0
    csrw sepc, a0

s_restore:
    csrr t6, sscratch
    ld x1, 8(t6)
    ld x2, 16(t6)
    ld x3, 24(t6)
    ld x4, 32(t6)
    ld x5, 40(t6)
    ld x6, 48(t6)
    ld x7, 56(t6)
    ld x8, 64(t6)
    ld x9, 72(t6)
    ld x10, 80(t6)
    ld x11, 88(t6)
    ld x12, 96(t6)
    ld x13, 104(t6)
    ld x14, 112(t6)
    ld x15, 120(t6)
    ld x16, 128(t6)
    ld x17, 136(t6)
    ld x18, 144(t6)
    ld x19, 152(t6)
    ld x20, 160(t6)
    ld x21, 168(t6)
    ld x22, 176(t6)
    ld x23, 184(t6)
    ld x24, 192(t6)
    ld x25, 200(t6)
    ld x26, 208(t6)
    ld x27, 216(t6)
    ld x28, 224(t6)
    ld x29, 232(t6)
    ld x30, 240(t6)
    ld x31, 248(t6)
    sret

/* ---- UART output (ns16550a THR at +0, LSR bit 5 = THR empty at +5) ---- */

/* a0 = character. Clobbers t0, t1. */
    .globl print_char
print_char:
    li t0, UART_BASE
1:  lbu t1, 5(t0)
    andi t1, t1, 0x20
    beqz t1, 1b
    sb a0, 0(t0)
    ret

/* a0 = NUL-terminated string. Clobbers a0, a1, t0, t1. */
    .globl print_str
print_str:
    mv a1, a0
    li t0, UART_BASE
1:  lbu a0, 0(a1)
    beqz a0, 3f
2:  lbu t1, 5(t0)
    andi t1, t1, 0x20
    beqz t1, 2b
    sb a0, 0(t0)
    addi a1, a1, 1
    j 1b
3:  ret

/* a0 = string, printed with a newline. */
    .globl print_line
print_line:
    addi sp, sp, -16
    sd ra, 0(sp)
    call print_str
    li a0, '\n'
    call print_char
    ld ra, 0(sp)
    addi sp, sp, 16
    ret

/* a0 = value, printed as 0x followed by 16 hex digits. Clobbers a0-a3, t0, t1. */
    .globl print_hex
print_hex:
    addi sp, sp, -16
    sd ra, 0(sp)
    mv a2, a0
    li a0, '0'
    call print_char
    li a0, 'x'
    call print_char
    li a3, 60
1:  srl a0, a2, a3
    andi a0, a0, 15
    addi a0, a0, '0'
    li t0, '9'
    ble a0, t0, 2f
    addi a0, a0, 'a' - '9' - 1
2:  call print_char
    addi a3, a3, -4
    bgez a3, 1b
    ld ra, 0(sp)
    addi sp, sp, 16
    ret

/* a0 = unsigned value, printed in decimal. Clobbers a0-a4, t0, t1. */
    .globl print_dec
print_dec:
    addi sp, sp, -48
    sd ra, 40(sp)
    mv a2, a0
    mv a3, sp
    li a4, 10
1:  remu a0, a2, a4
    addi a0, a0, '0'
    sb a0, 0(a3)
    addi a3, a3, 1
    divu a2, a2, a4
    bnez a2, 1b
2:  addi a3, a3, -1
    lbu a0, 0(a3)
    call print_char
    bne a3, sp, 2b
    ld ra, 40(sp)
    addi sp, sp, 48
    ret

    .section .rodata
msg_start:    .asciz ": start"
msg_pass:     .asciz "PASS"
msg_fail:     .asciz "FAIL: "
msg_check:    .asciz "check "
msg_got:      .asciz " got "
msg_expected: .asciz " expected "
msg_trap:     .asciz "unexpected trap mcause="
msg_strap:    .asciz "unexpected S-mode trap scause="
msg_epc:      .asciz " mepc="
msg_tval:     .asciz " mtval="
msg_sepc:     .asciz " sepc="
msg_stval:    .asciz " stval="
msg_after:    .asciz " after check "

    .section .bss
    .balign 8
    .globl trap_resume, trap_cause, trap_epc, trap_tval, trap_mstatus, trap_count
    .globl s_trap_resume, s_trap_cause, s_trap_epc, s_trap_tval, s_trap_sstatus, s_trap_count
    .globl fail_flag, s_unexpected, m_frame, s_frame
trap_resume:    .dword 0
trap_cause:     .dword 0
trap_epc:       .dword 0
trap_tval:      .dword 0
trap_mstatus:   .dword 0
trap_count:     .dword 0
s_trap_resume:  .dword 0
s_trap_cause:   .dword 0
s_trap_epc:     .dword 0
s_trap_tval:    .dword 0
s_trap_sstatus: .dword 0
s_trap_count:   .dword 0
fail_flag:      .dword 0
s_unexpected:   .dword 0
m_frame:        .space FRAME_SIZE
s_frame:        .space FRAME_SIZE
    .balign 16
    .space 4096
trap_stack_top:
    .space 4096
s_trap_stack_top:
    .space 16384
    .globl stack_top
stack_top:
