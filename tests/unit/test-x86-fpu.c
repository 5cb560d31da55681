/* x87 unit of the x86 interpreter against results of the real FPU (recorded from a host
 * x87): extended and double rounding, FSQRT, integer load/divide/store with
 * round-to-even, FCOMIP flags, C1 and the sticky status flags, FNSTCW after FNINIT, and
 * the masked stack-underflow response. Programs run in 64-bit mode and end with HLT. */
#include <string.h>
#include <glib.h>
#include "accel/accel.h"
#include "accel/tcg/tcg.h"
#include "hw/core/memory.h"
#include "target/i386/cpu.h"

#define RAM_SIZE (4u << 20)
#define CODE 0x1000
#define DATA 0x3000

static CPUState *cs;
static CPUX86State *env;
static uint8_t *ram;

/* fpu: fninit; fld1; fldpi; faddp st(1),st; fstp tbyte [0x3000]; fld qword [0x3010];
 * fsqrt; fstp qword [0x3020]; fild dword [0x3030]; fidiv word [0x3034];
 * fistp dword [0x3038]; fld dword [0x303c]; fld1; fcomip st,st(1); pushfq; pop r8;
 * fstp st(0); fld1; fdiv qword [0x3048]; fstp tbyte [0x3050]; fnstsw ax; mov ebx,eax;
 * fnstcw [0x3060]; hlt */
/* under: fninit; fadd st,st(1); fnstsw ax; fstp tbyte [0x3000]; hlt */
static const uint8_t fpu_prog[] = {
    0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb, 0xde, 0xc1, 0xdb, 0x3c, 0x25, 0x00,
    0x30, 0x00, 0x00, 0xdd, 0x04, 0x25, 0x10, 0x30, 0x00, 0x00, 0xd9, 0xfa,
    0xdd, 0x1c, 0x25, 0x20, 0x30, 0x00, 0x00, 0xdb, 0x04, 0x25, 0x30, 0x30,
    0x00, 0x00, 0xde, 0x34, 0x25, 0x34, 0x30, 0x00, 0x00, 0xdb, 0x1c, 0x25,
    0x38, 0x30, 0x00, 0x00, 0xd9, 0x04, 0x25, 0x3c, 0x30, 0x00, 0x00, 0xd9,
    0xe8, 0xdf, 0xf1, 0x9c, 0x41, 0x58, 0xdd, 0xd8, 0xd9, 0xe8, 0xdc, 0x34,
    0x25, 0x48, 0x30, 0x00, 0x00, 0xdb, 0x3c, 0x25, 0x50, 0x30, 0x00, 0x00,
    0xdf, 0xe0, 0x89, 0xc3, 0xd9, 0x3c, 0x25, 0x60, 0x30, 0x00, 0x00, 0xf4,
};
static const uint8_t under_prog[] = {
    0xdb, 0xe3, 0xd8, 0xc1, 0xdf, 0xe0, 0xdb, 0x3c, 0x25, 0x00, 0x30, 0x00,
    0x00, 0xf4,
};

/* fixes: fninit; fldz; fld1; fadd st,st(1); fstp tbyte [0x3000]; fld dword [0x3010]; fld1;
 * fscale; fstp tbyte [0x3020]; fstp st(0); fldpi; fstp dword [0x3030]; fnstsw ax;
 * fnstsw [0x3034]; mov ebx,eax; fld tbyte [0x3040]; fistp dword [0x3050]; fnstsw ax;
 * mov ecx,eax; fld dword [0x3060]; fxtract; fnstsw ax; mov edx,eax; hlt */
static const uint8_t fixes_prog[] = {
    0xdb, 0xe3, 0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xc1, 0xdb, 0x3c, 0x25, 0x00,
    0x30, 0x00, 0x00, 0xd9, 0x04, 0x25, 0x10, 0x30, 0x00, 0x00, 0xd9, 0xe8,
    0xd9, 0xfd, 0xdb, 0x3c, 0x25, 0x20, 0x30, 0x00, 0x00, 0xdd, 0xd8, 0xd9,
    0xeb, 0xd9, 0x1c, 0x25, 0x30, 0x30, 0x00, 0x00, 0xdf, 0xe0, 0xdd, 0x3c,
    0x25, 0x34, 0x30, 0x00, 0x00, 0x89, 0xc3, 0xdb, 0x2c, 0x25, 0x40, 0x30,
    0x00, 0x00, 0xdb, 0x1c, 0x25, 0x50, 0x30, 0x00, 0x00, 0xdf, 0xe0, 0x89,
    0xc1, 0xd9, 0x04, 0x25, 0x60, 0x30, 0x00, 0x00, 0xd9, 0xf4, 0xdf, 0xe0,
    0x89, 0xc2, 0xf4,
};

/* stack: fninit; fld tbyte [0x3000]; fcmovb st,st(1); fstp tbyte [0x3010]; fld dword [0x3020];
 * fld tbyte [0x3030]; fprem; fstp tbyte [0x3040]; fnstsw ax; mov ebx,eax; fstp st(0);
 * fldcw [0x3050]; fld1; fldz; fdivp st(1),st; fnstsw ax; mov ecx,eax; hlt */
static const uint8_t stack_prog[] = {
    0xdb, 0xe3, 0xdb, 0x2c, 0x25, 0x00, 0x30, 0x00, 0x00, 0xda, 0xc1, 0xdb,
    0x3c, 0x25, 0x10, 0x30, 0x00, 0x00, 0xd9, 0x04, 0x25, 0x20, 0x30, 0x00,
    0x00, 0xdb, 0x2c, 0x25, 0x30, 0x30, 0x00, 0x00, 0xd9, 0xf8, 0xdb, 0x3c,
    0x25, 0x40, 0x30, 0x00, 0x00, 0xdf, 0xe0, 0x89, 0xc3, 0xdd, 0xd8, 0xd9,
    0x2c, 0x25, 0x50, 0x30, 0x00, 0x00, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9,
    0xdf, 0xe0, 0x89, 0xc1, 0xf4,
};

/* nan: fninit; fld qword [0x3000]; fld qword [0x3008]; fsubp st(1),st;
 * fstp qword [0x3010]; fld qword [0x3000]; fld1; fcom st(1); fprem; fnstsw ax; hlt */
static const uint8_t nan_prog[] = {
    0xdb, 0xe3, 0xdd, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, 0xdd, 0x04, 0x25,
    0x08, 0x30, 0x00, 0x00, 0xde, 0xe9, 0xdd, 0x1c, 0x25, 0x10, 0x30, 0x00,
    0x00, 0xdd, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, 0xd9, 0xe8, 0xd8, 0xd1,
    0xd9, 0xf8, 0xdf, 0xe0, 0xf4,
};

/* zero by infinity: fninit; fld qword [0x3008]; fld qword [0x3000]; fcom st(1);
 * fstp st(0); fldz; fprem; fnstsw ax; fstp qword [0x3010]; hlt */
static const uint8_t zero_by_inf_prog[] = {
    0xdb, 0xe3, 0xdd, 0x04, 0x25, 0x08, 0x30, 0x00, 0x00, 0xdd, 0x04, 0x25,
    0x00, 0x30, 0x00, 0x00, 0xd8, 0xd1, 0xdd, 0xd8, 0xd9, 0xee, 0xd9, 0xf8,
    0xdf, 0xe0, 0xdd, 0x1c, 0x25, 0x10, 0x30, 0x00, 0x00, 0xf4,
};

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

/* 64-bit mode, identity map of 1 GiB, SSE enabled, an IDT whose #UD and #GP handlers
 * store the faulting rip in rbx and halt. */
static void start(const uint8_t *prog, size_t len)
{
    static const uint8_t handler_err[] = { 0x48, 0x8b, 0x5c, 0x24, 0x08, 0xf4 };
    static const uint8_t handler[] = { 0x48, 0x8b, 0x1c, 0x24, 0xf4 };
    x86_cpu_reset(cs);
    memset(ram + DATA, 0, 0x1000);
    memcpy(ram + CODE, prog, len);
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
    env->cr[4] |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    uint64_t gdt[3] = { 0, 0, 0x00af9b000000ffffull };
    memcpy(ram + 0x4000, gdt, sizeof(gdt));
    env->gdt.base = 0x4000;
    env->gdt.limit = sizeof(gdt) - 1;
    memset(ram + 0x5000, 0, 4096);
    memcpy(ram + 0x2000, handler, sizeof(handler));
    memcpy(ram + 0x2100, handler_err, sizeof(handler_err));
    uint64_t ud[2] = { 0x2000 | (0x10ull << 16) | (0x8eull << 40), 0 };
    uint64_t gp[2] = { 0x2100 | (0x10ull << 16) | (0x8eull << 40), 0 };
    memcpy(ram + 0x5000 + 6 * 16, ud, 16);
    memcpy(ram + 0x5000 + 13 * 16, gp, 16);
    env->idt.base = 0x5000;
    env->idt.limit = 0xfff;
}

static void put32(uint64_t a, uint32_t v)
{
    memcpy(ram + a, &v, 4);
}

static void put64(uint64_t a, uint64_t v)
{
    memcpy(ram + a, &v, 8);
}

static uint32_t get32(uint64_t a)
{
    uint32_t v;
    memcpy(&v, ram + a, 4);
    return v;
}

static uint64_t get64(uint64_t a)
{
    uint64_t v;
    memcpy(&v, ram + a, 8);
    return v;
}

static void test_arith(void)
{
    start(fpu_prog, sizeof(fpu_prog));
    put64(DATA + 0x10, 0x4000000000000000ull);   /* 2.0 */
    put32(DATA + 0x30, (uint32_t)-7);
    put32(DATA + 0x34, 2);
    put32(DATA + 0x3c, 0x3fc00000);              /* 1.5f */
    put64(DATA + 0x48, 0x4008000000000000ull);   /* 3.0 */
    run();
    g_assert_cmphex(get64(DATA), ==, 0x8487ed5110b4611aull);         /* pi + 1, ties-to-even */
    g_assert_cmphex(get32(DATA + 8) & 0xffff, ==, 0x4001);
    g_assert_cmphex(get64(DATA + 0x20), ==, 0x3ff6a09e667f3bcdull);  /* sqrt(2) */
    g_assert_cmphex(get32(DATA + 0x38), ==, (uint32_t)-4);           /* -3.5 to even */
    g_assert_cmphex(env->regs[R_R8] & 0x8d5, ==, 0x1);               /* 1 < 1.5: CF */
    g_assert_cmphex(get64(DATA + 0x50), ==, 0xaaaaaaaaaaaaaaabull);  /* 1/3 */
    g_assert_cmphex(get32(DATA + 0x58) & 0xffff, ==, 0x3ffd);
    g_assert_cmphex(env->regs[R_EBX] & 0xffff, ==, 0x0020);          /* PE, TOP 0 */
    g_assert_cmphex(get32(DATA + 0x60) & 0xffff, ==, 0x037f);
}

static void test_stack_underflow(void)
{
    start(under_prog, sizeof(under_prog));
    run();
    g_assert_cmphex(env->regs[R_EAX] & 0xffff, ==, 0x0041);          /* IE SF, C1 = 0 */
    g_assert_cmphex(get64(DATA), ==, 0xc000000000000000ull);         /* the indefinite */
    g_assert_cmphex(get32(DATA + 8) & 0xffff, ==, 0xffff);
}

/* x + 0 and FSCALE by a fraction keep the exponent; FNSTSW leaves C1 (set by a rounded-up
 * FST m32) alone; FIST of a denormal reports PE but not DE; FXTRACT of a NaN pushes. */
static void test_fixes(void)
{
    start(fixes_prog, sizeof(fixes_prog));
    put32(DATA + 0x10, 0x3f000000);              /* 0.5f */
    put64(DATA + 0x40, 1);                       /* the smallest 80-bit denormal */
    put32(DATA + 0x60, 0x7fc00000);              /* a quiet NaN */
    run();
    g_assert_cmphex(get64(DATA), ==, 0x8000000000000000ull);            /* 1 + 0 = 1 */
    g_assert_cmphex(get32(DATA + 8) & 0xffff, ==, 0x3fff);
    g_assert_cmphex(get64(DATA + 0x20), ==, 0x8000000000000000ull);     /* 1 * 2^0 */
    g_assert_cmphex(get32(DATA + 0x28) & 0xffff, ==, 0x3fff);
    g_assert_cmphex(get32(DATA + 0x30), ==, 0x40490fdb);                /* pi rounded up */
    g_assert_cmphex(env->regs[R_EBX] & 0x47ff, ==, 0x0220);             /* C1 PE */
    g_assert_cmphex(get32(DATA + 0x34) & 0xffff, ==, env->regs[R_EBX] & 0xffff);
    g_assert_cmphex(get32(DATA + 0x50), ==, 0);
    g_assert_cmphex(env->regs[R_ECX] & 0x3f, ==, 0x20);                 /* PE, no DE */
    g_assert_cmphex((env->regs[R_EDX] >> 11) & 7, ==, 5);               /* two pushed */
    g_assert_cmphex(env->fx.st[0][7] & 0xc0, ==, 0xc0);                 /* ST0: the NaN */
    g_assert_cmphex(env->fx.st[1][7] & 0xc0, ==, 0xc0);
}

/* FCMOVcc from an empty register loads the indefinite even when the condition is false;
 * FPREM with an exponent difference of 99 reduces it to N = 32 + 99 % 32 = 35 (2^100 rem
 * 3 * 2^64 = 2^64, C2 set); an unmasked #Z leaves the stack as it was (no pop). */
static void test_stack_cases(void)
{
    start(stack_prog, sizeof(stack_prog));
    env->rflags &= ~(uint64_t)1;                 /* CF clear: FCMOVB not taken */
    put64(DATA, 0x8000000000000000ull);          /* 1.0 */
    put32(DATA + 8, 0x3fff);
    put32(DATA + 0x20, 0x40400000);              /* 3.0f */
    put64(DATA + 0x30, 0x8000000000000000ull);   /* 2^100 */
    put32(DATA + 0x38, 16383 + 100);
    put32(DATA + 0x50, 0x37b);                   /* ZM clear */
    run();
    g_assert_cmphex(get64(DATA + 0x10), ==, 0xc000000000000000ull);
    g_assert_cmphex(get32(DATA + 0x18) & 0xffff, ==, 0xffff);
    g_assert_cmphex(get64(DATA + 0x40), ==, 0x8000000000000000ull);
    g_assert_cmphex(get32(DATA + 0x48) & 0xffff, ==, 16383 + 64);
    g_assert_cmphex(env->regs[R_EBX] & 0x0400, ==, 0x0400);          /* C2: incomplete */
    g_assert_cmphex(env->regs[R_ECX] & 0x84, ==, 0x84);              /* ES, ZE */
    g_assert_cmphex((env->regs[R_ECX] >> 11) & 7, ==, 6);            /* FDIVP did not pop */
}

/* Two QNaNs with equal significands give the positive one; FPREM with a NaN operand clears
 * C2 but leaves C0 and C3 (here from an unordered FCOM). */
static void test_nan_cases(void)
{
    start(nan_prog, sizeof(nan_prog));
    put64(DATA, 0xfff8000000000000ull);
    put64(DATA + 8, 0x7ff8000000000000ull);
    run();
    g_assert_cmphex(get64(DATA + 0x10), ==, 0x7ff8000000000000ull);
    g_assert_cmphex(env->regs[R_EAX] & 0x4500, ==, 0x4100);
}

/* FPREM of zero by infinity is zero with quotient 0: C0, C1, C2 and C3 clear, whatever an
 * unordered FCOM left there (as the host CPU does; found by the differential harness). */
static void test_zero_by_inf(void)
{
    start(zero_by_inf_prog, sizeof(zero_by_inf_prog));
    put64(DATA, 0x7ff8000000000000ull);
    put64(DATA + 8, 0x7ff0000000000000ull);
    run();
    g_assert_cmphex(env->regs[R_EAX] & 0x4700, ==, 0);
    g_assert_cmphex(get64(DATA + 0x10), ==, 0);
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
    static CPUOps ops;
    ops = *cs->ops;
    ops.tcg_exec = x86_tcg_exec;
    ops.tcg_init = x86_tcg_init;
    ops.has_work = x86_tcg_has_work;
    cs->ops = &ops;
    const AccelOps *tcg = accel_find("tcg");
    g_assert_nonnull(tcg);
    g_assert_true(tcg->vcpu_init(cs, NULL));

    g_test_add_func("/x86/fpu/arith", test_arith);
    g_test_add_func("/x86/fpu/stack-underflow", test_stack_underflow);
    g_test_add_func("/x86/fpu/fixes", test_fixes);
    g_test_add_func("/x86/fpu/stack-cases", test_stack_cases);
    g_test_add_func("/x86/fpu/nan-cases", test_nan_cases);
    g_test_add_func("/x86/fpu/fprem-zero-by-inf", test_zero_by_inf);
    return g_test_run();
}
