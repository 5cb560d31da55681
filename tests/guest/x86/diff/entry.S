/* Ring-3 entry and the trap path of the differential harness.
 * diff_run_user(const uint64_t in[17], uint64_t out[21]) loads the 16 GPRs and RFLAGS of in,
 * enters ring 3 at DIFF_USER_CODE and returns once any vector is taken; out receives the GPRs
 * at the trap, then rip, rflags, vector (| 0x100 when taken from ring 0), error code and CR2. */
#define DIFF_USER_CODE 0x10000000

    .text
    .globl diff_run_user
diff_run_user:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsi, diff_out(%rip)
    mov %rsp, diff_ksp(%rip)
    mov $0x23, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    pushq $0x23                 /* SS: user data, RPL 3 */
    pushq 32(%rdi)              /* RSP */
    pushq 128(%rdi)             /* RFLAGS */
    pushq $0x1b                 /* CS: 64-bit user code, RPL 3 */
    pushq $DIFF_USER_CODE
    mov 0(%rdi), %rax
    mov 8(%rdi), %rcx
    mov 16(%rdi), %rdx
    mov 24(%rdi), %rbx
    mov 40(%rdi), %rbp
    mov 48(%rdi), %rsi
    mov 64(%rdi), %r8
    mov 72(%rdi), %r9
    mov 80(%rdi), %r10
    mov 88(%rdi), %r11
    mov 96(%rdi), %r12
    mov 104(%rdi), %r13
    mov 112(%rdi), %r14
    mov 120(%rdi), %r15
    mov 56(%rdi), %rdi
    iretq

/* Stack on entry: vector, error code (0 when the CPU pushes none), rip, cs, rflags, rsp, ss. */
diff_trap_common:
    push %rax
    mov diff_out(%rip), %rax
    mov %rcx, 8(%rax)
    mov %rdx, 16(%rax)
    mov %rbx, 24(%rax)
    mov %rbp, 40(%rax)
    mov %rsi, 48(%rax)
    mov %rdi, 56(%rax)
    mov %r8, 64(%rax)
    mov %r9, 72(%rax)
    mov %r10, 80(%rax)
    mov %r11, 88(%rax)
    mov %r12, 96(%rax)
    mov %r13, 104(%rax)
    mov %r14, 112(%rax)
    mov %r15, 120(%rax)
    pop %rbx
    mov %rbx, 0(%rax)
    mov 16(%rsp), %rbx
    mov %rbx, 128(%rax)         /* rip */
    mov 32(%rsp), %rbx
    mov %rbx, 136(%rax)         /* rflags */
    mov 40(%rsp), %rbx
    mov %rbx, 32(%rax)          /* rsp */
    mov 0(%rsp), %rbx
    testb $3, 24(%rsp)
    jnz 1f
    or $0x100, %rbx             /* taken in ring 0: a harness fault */
1:  mov %rbx, 144(%rax)         /* vector */
    mov 8(%rsp), %rbx
    mov %rbx, 152(%rax)         /* error code */
    mov %cr2, %rbx
    mov %rbx, 160(%rax)
    mov $0x10, %ebx
    mov %ebx, %ds
    mov %ebx, %es
    mov diff_ksp(%rip), %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret

/* 256 stubs of 16 bytes each: diff_trap_stubs + 16 * vector. */
    .p2align 4
    .globl diff_trap_stubs
diff_trap_stubs:
    .set vec, 0
    .rept 256
    .p2align 4
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp diff_trap_common
    .set vec, vec + 1
    .endr

    .bss
    .p2align 3
diff_out: .skip 8
diff_ksp: .skip 8
    .section .note.GNU-stack, "", @progbits
