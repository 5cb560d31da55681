/* x86 interpreter: SSE..SSE4.2 and CMPXCHG16B against known results (string-function
 * idioms, IEEE results and MXCSR flags, NaN propagation, FTZ, shuffles, CRC32C, PCMPISTRI,
 * alignment and CR4.OSFXSR faults). Programs were assembled from the Intel-syntax listing
 * in each comment; they run in 64-bit mode from RAM and end with HLT. */
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

/* strlen idiom: movdqu xmm1,[0x3000]; pxor xmm0,xmm0; pcmpeqb xmm0,xmm1; pmovmskb eax,xmm0;
 * pminub xmm1,[0x3010]; movq rbx,xmm1; hlt */
/* float: movss/addss; movd eax; movsd/divsd; movq rbx; sqrtsd xmm2,[0x3018]; movq rcx;
 * stmxcsr [0x3020]; cvttsd2si rdx,[0x3028]; mov esi,-7; cvtsi2sd xmm3,esi; movq rdi,xmm3;
 * ucomisd xmm3,xmm1; pushfq; pop r8; hlt */
/* nan: movaps xmm0,[0x3000]; addps xmm0,[0x3010]; movaps [0x3020],xmm0; stmxcsr [0x3030] */
/* ftz: ldmxcsr [0x3010]; movss xmm0,[0x3000]; mulss xmm0,xmm0; movd eax,xmm0;
 * stmxcsr [0x3014] */
/* shuf: pshufb; palignr xmm2,[0x3010],5; pshufd xmm3,[0x3000],0x1b; punpcklbw xmm2,xmm3;
 * psrldq xmm2,3 (results stored at 0x3020, 0x3030, 0x3040, 0x3050) */
/* cx16: rax=1 rdx=2 rbx=3 rcx=4; lock cmpxchg16b [0x3000]; setz r8b; again; setz r9b */
/* crc: crc32 eax over "123456789" as byte, byte, word, dword, byte from eax=-1; not eax;
 * pcmpistri xmm1("lo"), xmm2("hello"), 0; mov ebx,ecx; pushfq; pop r8 */
/* align: movaps xmm0,[0x3008] */
static const uint8_t strlen_prog[] = {
    0xf3, 0x0f, 0x6f, 0x0c, 0x25, 0x00, 0x30, 0x00, 0x00, 0x66, 0x0f, 0xef,
    0xc0, 0x66, 0x0f, 0x74, 0xc1, 0x66, 0x0f, 0xd7, 0xc0, 0x66, 0x0f, 0xda,
    0x0c, 0x25, 0x10, 0x30, 0x00, 0x00, 0x66, 0x48, 0x0f, 0x7e, 0xcb, 0xf4,
};
static const uint8_t float_prog[] = {
    0xf3, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, 0xf3, 0x0f, 0x58,
    0x04, 0x25, 0x04, 0x30, 0x00, 0x00, 0x66, 0x0f, 0x7e, 0xc0, 0xf2, 0x0f,
    0x10, 0x0c, 0x25, 0x08, 0x30, 0x00, 0x00, 0xf2, 0x0f, 0x5e, 0x0c, 0x25,
    0x10, 0x30, 0x00, 0x00, 0x66, 0x48, 0x0f, 0x7e, 0xcb, 0xf2, 0x0f, 0x51,
    0x14, 0x25, 0x18, 0x30, 0x00, 0x00, 0x66, 0x48, 0x0f, 0x7e, 0xd1, 0x0f,
    0xae, 0x1c, 0x25, 0x20, 0x30, 0x00, 0x00, 0xf2, 0x48, 0x0f, 0x2c, 0x14,
    0x25, 0x28, 0x30, 0x00, 0x00, 0xbe, 0xf9, 0xff, 0xff, 0xff, 0xf2, 0x0f,
    0x2a, 0xde, 0x66, 0x48, 0x0f, 0x7e, 0xdf, 0x66, 0x0f, 0x2e, 0xd9, 0x9c,
    0x41, 0x58, 0xf4,
};
static const uint8_t nan_prog[] = {
    0x0f, 0x28, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, 0x0f, 0x58, 0x04, 0x25,
    0x10, 0x30, 0x00, 0x00, 0x0f, 0x29, 0x04, 0x25, 0x20, 0x30, 0x00, 0x00,
    0x0f, 0xae, 0x1c, 0x25, 0x30, 0x30, 0x00, 0x00, 0xf4,
};
static const uint8_t ftz_prog[] = {
    0x0f, 0xae, 0x14, 0x25, 0x10, 0x30, 0x00, 0x00, 0xf3, 0x0f, 0x10, 0x04,
    0x25, 0x00, 0x30, 0x00, 0x00, 0xf3, 0x0f, 0x59, 0xc0, 0x66, 0x0f, 0x7e,
    0xc0, 0x0f, 0xae, 0x1c, 0x25, 0x14, 0x30, 0x00, 0x00, 0xf4,
};
static const uint8_t shuf_prog[] = {
    0xf3, 0x0f, 0x6f, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, 0xf3, 0x0f, 0x6f,
    0x0c, 0x25, 0x10, 0x30, 0x00, 0x00, 0x66, 0x0f, 0x38, 0x00, 0xc1, 0xf3,
    0x0f, 0x7f, 0x04, 0x25, 0x20, 0x30, 0x00, 0x00, 0xf3, 0x0f, 0x6f, 0x14,
    0x25, 0x00, 0x30, 0x00, 0x00, 0x66, 0x0f, 0x3a, 0x0f, 0x14, 0x25, 0x10,
    0x30, 0x00, 0x00, 0x05, 0xf3, 0x0f, 0x7f, 0x14, 0x25, 0x30, 0x30, 0x00,
    0x00, 0x66, 0x0f, 0x70, 0x1c, 0x25, 0x00, 0x30, 0x00, 0x00, 0x1b, 0xf3,
    0x0f, 0x7f, 0x1c, 0x25, 0x40, 0x30, 0x00, 0x00, 0x66, 0x0f, 0x60, 0xd3,
    0x66, 0x0f, 0x73, 0xda, 0x03, 0xf3, 0x0f, 0x7f, 0x14, 0x25, 0x50, 0x30,
    0x00, 0x00, 0xf4,
};
static const uint8_t cx16_prog[] = {
    0x48, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00, 0x48, 0xc7, 0xc2, 0x02, 0x00,
    0x00, 0x00, 0x48, 0xc7, 0xc3, 0x03, 0x00, 0x00, 0x00, 0x48, 0xc7, 0xc1,
    0x04, 0x00, 0x00, 0x00, 0xf0, 0x48, 0x0f, 0xc7, 0x0c, 0x25, 0x00, 0x30,
    0x00, 0x00, 0x41, 0x0f, 0x94, 0xc0, 0xf0, 0x48, 0x0f, 0xc7, 0x0c, 0x25,
    0x00, 0x30, 0x00, 0x00, 0x41, 0x0f, 0x94, 0xc1, 0xf4,
};
static const uint8_t crc_prog[] = {
    0xb8, 0xff, 0xff, 0xff, 0xff, 0x48, 0xc7, 0xc6, 0x00, 0x30, 0x00, 0x00,
    0xf2, 0x0f, 0x38, 0xf0, 0x06, 0xf2, 0x0f, 0x38, 0xf0, 0x46, 0x01, 0x66,
    0xf2, 0x0f, 0x38, 0xf1, 0x46, 0x02, 0xf2, 0x0f, 0x38, 0xf1, 0x46, 0x04,
    0xf2, 0x0f, 0x38, 0xf0, 0x46, 0x08, 0xf7, 0xd0, 0xf3, 0x0f, 0x6f, 0x0c,
    0x25, 0x10, 0x30, 0x00, 0x00, 0xf3, 0x0f, 0x6f, 0x14, 0x25, 0x20, 0x30,
    0x00, 0x00, 0x66, 0x0f, 0x3a, 0x63, 0xca, 0x00, 0x89, 0xcb, 0x9c, 0x41,
    0x58, 0xf4,
};
static const uint8_t align_prog[] = {
    0x0f, 0x28, 0x04, 0x25, 0x08, 0x30, 0x00, 0x00, 0xf4,
};

/* lanes: ldmxcsr [0x3000]; movups xmm0,[0x3010]; movups xmm1,[0x3020]; haddps xmm0,xmm1;
 * movups [0x3100],xmm0; sqrtss xmm2,[0x3030]; stmxcsr [0x3110]; ldmxcsr [0x3000];
 * roundss xmm3,[0x3030],0; stmxcsr [0x3114]; ldmxcsr [0x3004]; xor eax,eax;
 * comiss xmm0,[0x3030] (at +0x5a); hlt */
static const uint8_t lanes_prog[] = {
    0x0f, 0xae, 0x14, 0x25, 0x00, 0x30, 0x00, 0x00, 0x0f, 0x10, 0x04, 0x25,
    0x10, 0x30, 0x00, 0x00, 0x0f, 0x10, 0x0c, 0x25, 0x20, 0x30, 0x00, 0x00,
    0xf2, 0x0f, 0x7c, 0xc1, 0x0f, 0x11, 0x04, 0x25, 0x00, 0x31, 0x00, 0x00,
    0xf3, 0x0f, 0x51, 0x14, 0x25, 0x30, 0x30, 0x00, 0x00, 0x0f, 0xae, 0x1c,
    0x25, 0x10, 0x31, 0x00, 0x00, 0x0f, 0xae, 0x14, 0x25, 0x00, 0x30, 0x00,
    0x00, 0x66, 0x0f, 0x3a, 0x0a, 0x1c, 0x25, 0x30, 0x30, 0x00, 0x00, 0x00,
    0x0f, 0xae, 0x1c, 0x25, 0x14, 0x31, 0x00, 0x00, 0x0f, 0xae, 0x14, 0x25,
    0x04, 0x30, 0x00, 0x00, 0x31, 0xc0, 0x0f, 0x2f, 0x04, 0x25, 0x30, 0x30,
    0x00, 0x00, 0xf4,
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

#define FLAGS6 0x8d5u

static void test_strlen_idiom(void)
{
    start(strlen_prog, sizeof(strlen_prog));
    memcpy(ram + DATA, "hello", 5);
    memset(ram + DATA + 0x10, 0x60, 16);
    run();
    g_assert_cmphex(env->regs[R_EAX], ==, 0xffe0);
    g_assert_cmphex(env->regs[R_EBX], ==, 0x0000006060606060ull);
}

static void test_float_scalar(void)
{
    start(float_prog, sizeof(float_prog));
    put32(DATA, 0x3fc00000);                  /* 1.5f */
    put32(DATA + 4, 0x40100000);              /* 2.25f */
    put64(DATA + 8, 0x3ff0000000000000ull);   /* 1.0 */
    put64(DATA + 0x10, 0x4008000000000000ull);/* 3.0 */
    put64(DATA + 0x18, 0x4000000000000000ull);/* 2.0 */
    put64(DATA + 0x28, 0x4415af1d78b58c40ull);/* 1e20 */
    run();
    g_assert_cmphex(env->regs[R_EAX], ==, 0x40700000);            /* 3.75f */
    g_assert_cmphex(env->regs[R_EBX], ==, 0x3fd5555555555555ull); /* 1/3 */
    g_assert_cmphex(env->regs[R_ECX], ==, 0x3ff6a09e667f3bcdull); /* sqrt(2) */
    g_assert_cmphex(get32(DATA + 0x20), ==, 0x1fa0);              /* PE */
    g_assert_cmphex(env->regs[R_EDX], ==, 0x8000000000000000ull); /* indefinite */
    g_assert_cmphex(env->fx.mxcsr & 0x3f, ==, 0x21);              /* IE PE */
    g_assert_cmphex(env->regs[R_EDI], ==, 0xc01c000000000000ull); /* -7.0 */
    g_assert_cmphex(env->regs[R_R8] & FLAGS6, ==, 0x1);           /* less: CF */
}

static void test_nan_propagation(void)
{
    start(nan_prog, sizeof(nan_prog));
    uint32_t a[4] = { 0x7f800001, 0x3f800000, 0x7fc00000, 0x3f800000 };
    uint32_t b[4] = { 0xffc00005, 0x7fa00000, 0x40000000, 0x40000000 };
    memcpy(ram + DATA, a, 16);
    memcpy(ram + DATA + 0x10, b, 16);
    run();
    g_assert_cmphex(get32(DATA + 0x20), ==, 0x7fc00001);   /* first operand, quietened */
    g_assert_cmphex(get32(DATA + 0x24), ==, 0x7fe00000);   /* the only NaN, quietened */
    g_assert_cmphex(get32(DATA + 0x28), ==, 0x7fc00000);
    g_assert_cmphex(get32(DATA + 0x2c), ==, 0x40400000);   /* 3.0f */
    g_assert_cmphex(get32(DATA + 0x30), ==, 0x1f81);       /* IE */
}

static void test_ftz(void)
{
    start(ftz_prog, sizeof(ftz_prog));
    put32(DATA, 0x1e3ce508);        /* 1e-20f: its square is a binary32 denormal */
    put32(DATA + 0x10, 0x9f80);     /* FTZ, all masked */
    run();
    g_assert_cmphex(env->regs[R_EAX], ==, 0);
    g_assert_cmphex(get32(DATA + 0x14), ==, 0x9fb0);       /* UE PE */
    /* without FTZ the denormal result survives */
    start(ftz_prog, sizeof(ftz_prog));
    put32(DATA, 0x1e3ce508);
    put32(DATA + 0x10, 0x1f80);
    run();
    g_assert_cmphex(env->regs[R_EAX] & 0x7f800000, ==, 0);
    g_assert_cmphex(env->regs[R_EAX], !=, 0);
    g_assert_cmphex(get32(DATA + 0x14), ==, 0x1fb0);
}

static void test_shuffles(void)
{
    static const uint8_t pshufb[16] = { 0, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };
    static const uint8_t palignr[16] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 1, 2, 3, 4 };
    static const uint8_t pshufd[16] = { 12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3 };
    static const uint8_t psrldq[16] = { 13, 8, 14, 7, 15, 6, 8, 5, 9, 4, 10, 3, 11, 0, 0, 0 };
    start(shuf_prog, sizeof(shuf_prog));
    for (unsigned i = 0; i < 16; i++) {
        ram[DATA + i] = (uint8_t)i;
        ram[DATA + 0x10 + i] = i ? (uint8_t)(15 - i) : 0x80;
    }
    run();
    g_assert_cmpmem(ram + DATA + 0x20, 16, pshufb, 16);
    g_assert_cmpmem(ram + DATA + 0x30, 16, palignr, 16);
    g_assert_cmpmem(ram + DATA + 0x40, 16, pshufd, 16);
    g_assert_cmpmem(ram + DATA + 0x50, 16, psrldq, 16);
}

static void test_cmpxchg16b(void)
{
    start(cx16_prog, sizeof(cx16_prog));
    put64(DATA, 1);
    put64(DATA + 8, 2);
    run();
    g_assert_cmphex(get64(DATA), ==, 3);
    g_assert_cmphex(get64(DATA + 8), ==, 4);
    g_assert_cmphex(env->regs[R_R8] & 0xff, ==, 1);
    g_assert_cmphex(env->regs[R_R9] & 0xff, ==, 0);
    g_assert_cmphex(env->regs[R_EAX], ==, 3);
    g_assert_cmphex(env->regs[R_EDX], ==, 4);
}

static void test_crc32_pcmpistri(void)
{
    start(crc_prog, sizeof(crc_prog));
    memcpy(ram + DATA, "123456789", 9);
    memcpy(ram + DATA + 0x10, "lo", 3);
    memcpy(ram + DATA + 0x20, "hello", 6);
    run();
    g_assert_cmphex(env->regs[R_EAX], ==, 0xe3069283);   /* the CRC-32C check value */
    g_assert_cmpuint(env->regs[R_EBX], ==, 2);
    g_assert_cmphex(env->regs[R_R8] & FLAGS6, ==, 0xc1);   /* CF ZF SF */
}

static void test_faults(void)
{
    /* a misaligned MOVAPS is #GP(0) */
    start(align_prog, sizeof(align_prog));
    run();
    g_assert_cmphex(env->regs[R_EBX], ==, CODE);
    g_assert_cmphex(env->rip, ==, 0x2100 + 6);
    /* without CR4.OSFXSR an SSE instruction is #UD */
    start(align_prog, sizeof(align_prog));
    env->cr[4] &= ~(uint64_t)X86_CR4_OSFXSR;
    run();
    g_assert_cmphex(env->regs[R_EBX], ==, CODE);
    g_assert_cmphex(env->rip, ==, 0x2000 + 5);
}

/* HADDPS (F2) works on single-precision lanes; invalid outranks denormal (SQRTSS of a
 * negative denormal: IE only); ROUNDSS never reports DE; an unmasked exception of COMISS
 * (#XM) leaves RFLAGS as they were. */
static void test_lanes_and_flags(void)
{
    start(lanes_prog, sizeof(lanes_prog));
    uint64_t xm[2] = { 0x2000 | (0x10ull << 16) | (0x8eull << 40), 0 };
    memcpy(ram + 0x5000 + 19 * 16, xm, 16);
    put32(DATA, 0x1f80);
    put32(DATA + 4, 0x1e80);                     /* DE unmasked */
    static const uint32_t a[4] = { 0x3f800000, 0x40000000, 0x40400000, 0x40800000 };
    static const uint32_t b[4] = { 0x41200000, 0x41a00000, 0x41f00000, 0x42200000 };
    memcpy(ram + DATA + 0x10, a, sizeof(a));
    memcpy(ram + DATA + 0x20, b, sizeof(b));
    put32(DATA + 0x30, 0x80000001);              /* the smallest negative denormal */
    run();
    g_assert_cmphex(get32(DATA + 0x100), ==, 0x40400000);   /* 1 + 2 */
    g_assert_cmphex(get32(DATA + 0x104), ==, 0x40e00000);   /* 3 + 4 */
    g_assert_cmphex(get32(DATA + 0x108), ==, 0x41f00000);   /* 10 + 20 */
    g_assert_cmphex(get32(DATA + 0x10c), ==, 0x428c0000);   /* 30 + 40 */
    g_assert_cmphex(get32(DATA + 0x110), ==, 0x1f81);
    g_assert_cmphex(get32(DATA + 0x114), ==, 0x1fa0);
    g_assert_cmphex(env->regs[R_EBX], ==, CODE + 0x5a);
    g_assert_cmphex(env->rip, ==, 0x2000 + 5);
    g_assert_cmphex(env->fx.mxcsr, ==, 0x1e82);
    g_assert_cmphex(env->rflags & FLAGS6, ==, 0x44);         /* ZF PF from the XOR */
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

    g_test_add_func("/x86/sse/strlen-idiom", test_strlen_idiom);
    g_test_add_func("/x86/sse/float-scalar", test_float_scalar);
    g_test_add_func("/x86/sse/nan-propagation", test_nan_propagation);
    g_test_add_func("/x86/sse/ftz", test_ftz);
    g_test_add_func("/x86/sse/shuffles", test_shuffles);
    g_test_add_func("/x86/cmpxchg16b", test_cmpxchg16b);
    g_test_add_func("/x86/sse/crc32-pcmpistri", test_crc32_pcmpistri);
    g_test_add_func("/x86/sse/faults", test_faults);
    g_test_add_func("/x86/sse/lanes-and-flags", test_lanes_and_flags);
    return g_test_run();
}
