/* x86 interpreter: flags of ALU results, loops, stack, 64-bit mode with paging (A/D bits),
 * #DE delivery through a 64-bit IDT, 32-bit zero extension corners, fault error codes. Programs run from RAM; HLT ends a run. */
#include <string.h>
#include <glib.h>
#include "accel/accel.h"
#include "accel/tcg/tcg.h"
#include "hw/core/memory.h"
#include "target/i386/cpu.h"

#define RAM_SIZE (4u << 20)
#define CODE 0x1000

static CPUState *cs;
static CPUX86State *env;
static uint8_t *ram;

static void run(void)
{
    tb_flush(&tcg_vcpu(cs)->cache);
    for (int i = 0; i < 100; i++) {
        int r = cs->ops->tcg_exec(cs);
        if (r == ACCEL_EXIT_HALTED) {
            return;
        }
        g_assert_cmpint(r, ==, ACCEL_EXIT_KICKED);
    }
    g_assert_not_reached();
}

static void test_flat32_flags(void)
{
    static const uint8_t prog[] = {
        0xb8, 0xff, 0xff, 0xff, 0x7f,   /* mov eax, 0x7fffffff */
        0x83, 0xc0, 0x01,               /* add eax, 1 */
        0x9c,                           /* pushf */
        0x5b,                           /* pop ebx */
        0xb9, 0x0a, 0x00, 0x00, 0x00,   /* mov ecx, 10 */
        0x31, 0xd2,                     /* xor edx, edx */
        0x01, 0xca,                     /* 1: add edx, ecx */
        0x49,                           /* dec ecx */
        0x75, 0xfb,                     /* jnz 1b */
        0xf4,                           /* hlt */
    };
    x86_cpu_reset(cs);
    memcpy(ram + CODE, prog, sizeof(prog));
    x86_cpu_set_flat32(cs, CODE, 0, 0, 0);
    env->regs[R_ESP] = 0x8000;
    run();
    g_assert_cmphex(env->regs[R_EAX], ==, 0x80000000);
    g_assert_cmphex(env->regs[R_EBX], ==, 0x896);   /* OF SF AF PF + fixed bit 1 */
    g_assert_cmpuint(env->regs[R_EDX], ==, 55);
    g_assert_cmphex(env->rip, ==, CODE + sizeof(prog));
}

/* Flag computations the translator drops (each is followed by an instruction that overwrites
 * all status flags): the results stay exact and the last flags are those of the CMP. */
static void test_flat32_dead_flags(void)
{
    static const uint8_t prog[] = {
        0xf9,                               /* stc */
        0xb8, 0xff, 0xff, 0xff, 0xff,       /* mov eax, -1 */
        0x83, 0xd0, 0x01,                   /* adc eax, 1: 1 */
        0x80, 0xc4, 0xff,                   /* add ah, 0xff: eax 0xff01 */
        0x83, 0xca, 0x80,                   /* or edx, -128 */
        0x81, 0xfa, 0x80, 0x00, 0x00, 0x00, /* cmp edx, 0x80 */
        0x9c,                               /* pushf */
        0x5b,                               /* pop ebx */
        0xf4,                               /* hlt */
    };
    x86_cpu_reset(cs);
    memcpy(ram + CODE, prog, sizeof(prog));
    x86_cpu_set_flat32(cs, CODE, 0, 0, 0);
    env->regs[R_ESP] = 0x8000;
    env->regs[R_EDX] = 0;
    run();
    g_assert_cmphex(env->regs[R_EAX], ==, 0xff01);
    g_assert_cmphex(env->regs[R_EDX], ==, 0xffffff80);
    g_assert_cmphex(env->regs[R_EBX], ==, 0x86);    /* SF PF + fixed bit 1 */
}

/* Identity map of the first 1 GiB with 2 MiB pages at 0x10000. */
static void setup_long64(void)
{
    uint64_t pml4 = 0x11000 | 3, pdpt = 0x12000 | 3;
    memset(ram + 0x10000, 0, 0x3000);
    memcpy(ram + 0x10000, &pml4, 8);
    memcpy(ram + 0x11000, &pdpt, 8);
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t pde = (i << 21) | 0x83;
        memcpy(ram + 0x12000 + i * 8, &pde, 8);
    }
    x86_cpu_set_long64(cs, CODE, 0x10000, 0, 0, 0);
    env->regs[R_ESP] = 0x8000;
}

static void test_long64_paging(void)
{
    static const uint8_t prog[] = {
        0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,   /* mov rax, imm64 */
        0x48, 0xc1, 0xe0, 0x04,                                       /* shl rax, 4 */
        0x48, 0x89, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00,               /* mov [0x3000], rax */
        0x4c, 0x8b, 0x05, 0xf1, 0xff, 0xff, 0xff,                     /* mov r8, [rip-15] */
        0xf4,
    };
    x86_cpu_reset(cs);
    memcpy(ram + CODE, prog, sizeof(prog));
    setup_long64();
    run();
    uint64_t v, pde;
    memcpy(&v, ram + 0x3000, 8);
    g_assert_cmphex(v, ==, 0x1223344556677880ull);
    memcpy(&pde, ram + 0x12000, 8);
    g_assert_cmphex(pde & 0x60, ==, 0x60);          /* accessed and dirty */
    /* rip-relative: next rip (CODE + 29) - 15 = the qword at the store (CODE + 14) */
    memcpy(&v, ram + CODE + 14, 8);
    g_assert_cmphex(env->regs[R_R8], ==, v);
}

static void test_long64_divide_error(void)
{
    static const uint8_t prog[] = {
        0x31, 0xc9,                     /* xor ecx, ecx */
        0xf7, 0xf1,                     /* div ecx */
        0xf4,
    };
    static const uint8_t handler[] = {
        0x48, 0x8b, 0x1c, 0x24,         /* mov rbx, [rsp]: the faulting rip */
        0xf4,
    };
    x86_cpu_reset(cs);
    memcpy(ram + CODE, prog, sizeof(prog));
    memcpy(ram + 0x2000, handler, sizeof(handler));
    setup_long64();
    /* GDT at 0x4000: null, null, 64-bit code at 0x10 */
    uint64_t gdt[3] = { 0, 0, 0x00af9b000000ffffull };
    memcpy(ram + 0x4000, gdt, sizeof(gdt));
    env->gdt.base = 0x4000;
    env->gdt.limit = sizeof(gdt) - 1;
    /* IDT at 0x5000: vector 0 -> 0x10:0x2000, interrupt gate */
    uint64_t gate[2] = { 0x2000 | (0x10ull << 16) | (0x8eull << 40), 0 };
    memset(ram + 0x5000, 0, 4096);
    memcpy(ram + 0x5000, gate, sizeof(gate));
    env->idt.base = 0x5000;
    env->idt.limit = 0xfff;
    run();
    g_assert_cmphex(env->regs[R_EBX], ==, CODE + 2);
    g_assert_cmphex(env->rip, ==, 0x2000 + sizeof(handler));
}

/* 32-bit destinations written by a zero (masked) count, XADD of a register with itself,
 * 32-bit addressed string registers (even for a zero REP count). */
static void test_long64_zero_extension(void)
{
    static const uint8_t prog[] = {
        0x49, 0xb9, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde,   /* mov r9, imm64 */
        0x41, 0xc1, 0xe9, 0x20,                                       /* shr r9d, 32 */
        0x49, 0xba, 0x21, 0x43, 0x65, 0x87, 0xef, 0xbe, 0xad, 0xde,   /* mov r10, imm64 */
        0x45, 0x0f, 0xa4, 0xc2, 0x20,                                 /* shld r10d, r8d, 32 */
        0x49, 0xc7, 0xc3, 0x05, 0x00, 0x00, 0x00,                     /* mov r11, 5 */
        0x4d, 0x0f, 0xc1, 0xdb,                                       /* xadd r11, r11 */
        0x48, 0xbf, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,   /* mov rdi, imm64 */
        0x31, 0xc9,                                                   /* xor ecx, ecx */
        0x67, 0xf3, 0xaa,                                             /* addr32 rep stosb */
        0x48, 0xbe, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0xaa, 0xaa,   /* mov rsi, imm64 */
        0x67, 0xac,                                                   /* addr32 lodsb */
        0xf4,
    };
    x86_cpu_reset(cs);
    memcpy(ram + CODE, prog, sizeof(prog));
    setup_long64();
    run();
    g_assert_cmphex(env->regs[R_R9], ==, 0x12345678);
    g_assert_cmphex(env->regs[R_R10], ==, 0x87654321);
    g_assert_cmphex(env->regs[R_R11], ==, 10);
    g_assert_cmphex(env->regs[R_EDI], ==, 0x3000);
    g_assert_cmphex(env->regs[R_ESI], ==, 0x3001);
}

/* Runs from env->rip until a handler of vector 12..14 (at 0x2000 + v * 0x40, on IST 1) pops
 * the error code into RBX, reads the faulting RIP into RCX and HLTs; returns the vector. */
static unsigned run_to_handler(void)
{
    static const uint8_t handler[] = { 0x5b, 0x48, 0x8b, 0x0c, 0x24, 0xf4 };
    uint64_t gdt[3] = { 0, 0, 0x00af9b000000ffffull };
    memcpy(ram + 0x4000, gdt, sizeof(gdt));
    env->gdt.base = 0x4000;
    env->gdt.limit = sizeof(gdt) - 1;
    memset(ram + 0x5000, 0, 4096);
    for (uint64_t v = 12; v <= 14; v++) {
        uint64_t h = 0x2000 + v * 0x40;
        uint64_t gate[2] = { h | (0x10ull << 16) | (1ull << 32) | (0x8eull << 40), 0 };
        memcpy(ram + 0x5000 + v * 16, gate, sizeof(gate));
        memcpy(ram + h, handler, sizeof(handler));
    }
    env->idt.base = 0x5000;
    env->idt.limit = 0xfff;
    uint64_t ist1 = 0x9000;
    memset(ram + 0x6000, 0, 0x68);
    memcpy(ram + 0x6000 + 0x24, &ist1, 8);
    env->tr.base = 0x6000;
    env->tr.limit = 0x67;
    env->tr.attr = 0xb | SEG_ATTR_P;
    run();
    g_assert_cmphex((env->rip - 0x2000) % 0x40, ==, sizeof(handler));
    return (unsigned)((env->rip - 0x2000) / 0x40);
}

/* Faults of a read-modify-write, a push, a jump and an RBP-based operand (RAX and RBP both
 * hold rax), caught by run_to_handler. */
static unsigned run_fault(unsigned off, uint64_t rax, uint64_t rsp)
{
    static const uint8_t prog[] = {
        0xff, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40, 0xf4,   /* inc dword [0x40000000] */
        0x50, 0xf4,                                       /* push rax */
        0xff, 0xe0, 0xf4,                                 /* jmp rax */
        0xff, 0x45, 0x00, 0xf4,                           /* inc dword [rbp] */
    };
    x86_cpu_reset(cs);
    memcpy(ram + CODE, prog, sizeof(prog));
    setup_long64();
    env->rip = CODE + off;
    env->regs[R_EAX] = rax;
    env->regs[R_EBP] = rax;
    if (rsp) {
        env->regs[R_ESP] = rsp;
    }
    return run_to_handler();
}

static void test_long64_fault_codes(void)
{
    /* a not-present page under a read-modify-write reports a write (W=1, P=0) */
    g_assert_cmpuint(run_fault(0, 0, 0), ==, 14);
    g_assert_cmphex(env->regs[R_EBX], ==, 2);
    g_assert_cmphex(env->regs[R_ECX], ==, CODE);
    g_assert_cmphex(env->cr[2], ==, 0x40000000);
    /* a push through a non-canonical RSP is #SS(0) */
    g_assert_cmpuint(run_fault(8, 0, 0x8000000000000000ull), ==, 12);
    g_assert_cmphex(env->regs[R_EBX], ==, 0);
    g_assert_cmphex(env->regs[R_ECX], ==, CODE + 8);
    /* a jump to a non-canonical target is #GP(0) at the jump itself */
    g_assert_cmpuint(run_fault(10, 0x8000000000000000ull, 0), ==, 13);
    g_assert_cmphex(env->regs[R_EBX], ==, 0);
    g_assert_cmphex(env->regs[R_ECX], ==, CODE + 10);
    /* a non-canonical RBP-based (SS) operand is #SS(0) */
    g_assert_cmpuint(run_fault(13, 0x8000000000000000ull, 0), ==, 12);
    g_assert_cmphex(env->regs[R_EBX], ==, 0);
    g_assert_cmphex(env->regs[R_ECX], ==, CODE + 13);
}

/* An instruction that runs into a not-present page after another one of its block: the
 * first completes, the second raises #PF (not-present fetch) at its own RIP. */
static void test_long64_fetch_fault_mid_block(void)
{
    static const uint8_t prog[] = {
        0xb8, 0x01, 0x00, 0x00, 0x00,                               /* mov eax, 1 */
        0x48, 0xbb, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* mov rbx, imm64 */
    };
    const uint64_t start = 0x200000 - 7;    /* the mov rbx crosses into 0x200000 */
    x86_cpu_reset(cs);
    setup_long64();
    memset(ram + 0x12000 + 8, 0, 8);        /* 0x200000..0x3fffff: not present */
    memcpy(ram + start, prog, sizeof(prog));
    env->rip = start;
    g_assert_cmpuint(run_to_handler(), ==, 14);
    g_assert_cmphex(env->regs[R_EAX], ==, 1);
    g_assert_cmphex(env->regs[R_ECX], ==, start + 5);
    g_assert_cmphex(env->cr[2], ==, 0x200000);
    g_assert_cmphex(env->regs[R_EBX] & 7, ==, 0);   /* not present, read, supervisor */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_system_init();
    MemoryRegion *mr = g_new0(MemoryRegion, 1);
    g_assert_true(memory_region_init_ram(mr, "ram", RAM_SIZE, NULL));
    memory_region_add_subregion(system_memory, 0, mr);
    ram = mr->ram;
    cs = x86_cpu_create(NULL, 0, NULL, NULL);
    g_assert_nonnull(cs);
    env = x86_env(cs);
    /* The interpreter entries, whether or not the model's CPUOps carries them yet. */
    static CPUOps ops;
    ops = *cs->ops;
    ops.tcg_exec = x86_tcg_exec;
    ops.tcg_init = x86_tcg_init;
    ops.has_work = x86_tcg_has_work;
    cs->ops = &ops;
    const AccelOps *tcg = accel_find("tcg");
    g_assert_nonnull(tcg);
    g_assert_true(tcg->vcpu_init(cs, NULL));

    g_test_add_func("/x86/flat32/flags-loop", test_flat32_flags);
    g_test_add_func("/x86/flat32/dead-flags", test_flat32_dead_flags);
    g_test_add_func("/x86/long64/paging-ad-riprel", test_long64_paging);
    g_test_add_func("/x86/long64/divide-error", test_long64_divide_error);
    g_test_add_func("/x86/long64/zero-extension", test_long64_zero_extension);
    g_test_add_func("/x86/long64/fault-codes", test_long64_fault_codes);
    g_test_add_func("/x86/long64/fetch-fault-mid-block", test_long64_fetch_fault_mid_block);
    return g_test_run();
}
