/* PVH entry: 32-bit flat protected mode, ebx = hvm_start_info. Switches to long mode with
 * identity-mapped 2 MiB pages for the low 4 GiB and calls payload_main(start_info). */
    .section .note.Xen, "a"
    .p2align 2
    .long 4                     /* namesz */
    .long 4                     /* descsz */
    .long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start

    .section .text.entry, "ax"
    .code32
    .globl pvh_start
pvh_start:
    mov %ebx, %esi
    /* PML4[0] -> PDPT; PDPT[0..3] -> 4 page directories of 512 x 2 MiB pages. */
    lea pml4, %edi
    lea pdpt, %eax
    or $3, %eax
    mov %eax, (%edi)
    lea pdpt, %edi
    lea pd, %eax
    or $3, %eax
    mov $4, %ecx
1:  mov %eax, (%edi)
    add $0x1000, %eax
    add $8, %edi
    loop 1b
    lea pd, %edi
    mov $0x83, %eax             /* present, writable, 2 MiB page */
    mov $2048, %ecx
    xor %edx, %edx
2:  mov %eax, (%edi)
    mov %edx, 4(%edi)
    add $0x200000, %eax
    adc $0, %edx
    add $8, %edi
    loop 2b
    mov %cr4, %eax
    or $0x220, %eax             /* PAE | OSFXSR */
    mov %eax, %cr4
    lea pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax             /* EFER.LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax        /* PG | PE */
    and $~0x6, %eax             /* no EM, MP */
    mov %eax, %cr0
    lgdt gdt_desc
    ljmp $0x08, $long_entry

    .code64
long_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    lea stack_top(%rip), %rsp
    mov %rsi, %rdi
    call payload_main
3:  hlt
    jmp 3b

    .section .rodata
    .p2align 3
gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
    .quad 0x00affa000000ffff    /* 0x18: 64-bit user code (dpl 3) */
    .quad 0x00cff2000000ffff    /* 0x20: user data (dpl 3) */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .bss
    .p2align 12
pml4: .skip 4096
pdpt: .skip 4096
pd:   .skip 4096 * 4
    .p2align 4
    .skip 16384
stack_top:
    .section .note.GNU-stack, "", @progbits
