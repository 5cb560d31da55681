/* RISC-V interpreter: RVC expansion, reserved encodings, ALU corner cases, memory, traps.
 * Programs run from RAM at 0x80000000; traps land on a WFI at TRAP_VEC, which halts. */
#include <string.h>
#include <glib.h>
#include "accel/accel.h"
#include "accel/tcg/tcg.h"
#include "hw/core/memory.h"
#include "target/riscv/internal.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1u << 20)
#define TRAP_VEC (RAM_BASE + 0x800)
#define WFI 0x10500073u

static CPUState *cs;
static CPURISCVState *env;
static uint8_t *ram;

/* Pairs of (compressed, 32-bit equivalent) as assembled by GNU as with and without RVC. */
static const struct { uint16_t c; uint32_t w; } rvc_table[] = {
    { 0x556d, 0xffb00513 },  /* c.li a0,-5 */
    { 0x051d, 0x00750513 },  /* c.addi a0,7 */
    { 0x7585, 0xfffe15b7 },  /* c.lui a1,0xfffe1 */
    { 0x7139, 0xfc010113 },  /* c.addi16sp sp,-64 */
    { 0x0020, 0x00810413 },  /* c.addi4spn s0,sp,8 */
    { 0x157e, 0x03f51513 },  /* c.slli a0,0x3f */
    { 0x8205, 0x00165613 },  /* c.srli a2,0x1 */
    { 0x8689, 0x4026d693 },  /* c.srai a3,0x2 */
    { 0x9b79, 0xffe77713 },  /* c.andi a4,-2 */
    { 0x8d0d, 0x40b50533 },  /* c.sub a0,a1 */
    { 0x8e35, 0x00d64633 },  /* c.xor a2,a3 */
    { 0x8f5d, 0x00f76733 },  /* c.or a4,a5 */
    { 0x8c65, 0x00947433 },  /* c.and s0,s1 */
    { 0x9d0d, 0x40b5053b },  /* c.subw a0,a1 */
    { 0x9e35, 0x00d6063b },  /* c.addw a2,a3 */
    { 0x852e, 0x00b00533 },  /* c.mv a0,a1 */
    { 0x952e, 0x00b50533 },  /* c.add a0,a1 */
    { 0x4512, 0x00412503 },  /* c.lwsp a0,4(sp) */
    { 0xc22a, 0x00a12223 },  /* c.swsp a0,4(sp) */
    { 0x6522, 0x00813503 },  /* c.ldsp a0,8(sp) */
    { 0xe42a, 0x00a13423 },  /* c.sdsp a0,8(sp) */
    { 0x41c8, 0x0045a503 },  /* c.lw a0,4(a1) */
    { 0xc1c8, 0x00a5a223 },  /* c.sw a0,4(a1) */
    { 0x6588, 0x0085b503 },  /* c.ld a0,8(a1) */
    { 0xe588, 0x00a5b423 },  /* c.sd a0,8(a1) */
    { 0xa029, 0x00a0006f },  /* c.j 3c */
    { 0xdd75, 0xfe050ee3 },  /* c.beqz a0,30 */
    { 0xe119, 0x00051363 },  /* c.bnez a0,3c */
    { 0x8502, 0x00050067 },  /* c.jr a0 */
    { 0x9502, 0x000500e7 },  /* c.jalr a0 */
    { 0x357d, 0xfff5051b },  /* c.addiw a0,-1 */
    { 0x2588, 0x0085b507 },  /* c.fld fa0,8(a1) */
    { 0xa588, 0x00a5b427 },  /* c.fsd fa0,8(a1) */
    { 0x2542, 0x01013507 },  /* c.fldsp fa0,16(sp) */
    { 0xa82a, 0x00a13827 },  /* c.fsdsp fa0,16(sp) */
    { 0x9002, 0x00100073 },  /* c.ebreak */
};

/* Compressed encodings that are reserved (must raise illegal instruction). */
static const uint16_t rvc_reserved[] = {
    0x0000,     /* all zeros */
    0x0004,     /* c.addi4spn with nzuimm = 0 */
    0x6101,     /* c.addi16sp with nzimm = 0 */
    0x6581,     /* c.lui a1 with nzimm = 0 */
    0x2001,     /* c.addiw with rd = 0 */
    0x4002,     /* c.lwsp with rd = 0 */
    0x6002,     /* c.ldsp with rd = 0 */
    0x8002,     /* c.jr with rs1 = 0 */
    0x9c41,     /* c.subw-group encoding 10 (reserved) */
    0x8000,     /* quadrant 0, funct3 100 */
};

static const uint32_t prog_alu[] = {
    0x00500013,  /* addi zero,zero,5 */
    0x00000533,  /* add a0,zero,zero */
    0x00100293,  /* addi t0,zero,1 */
    0x03f29593,  /* slli a1,t0,0x3f */
    0x43f5d613,  /* srai a2,a1,0x3f */
    0x03f5d693,  /* srli a3,a1,0x3f */
    0x80000337,  /* lui t1,0x80000 */
    0xfff3031b,  /* addiw t1,t1,-1 */
    0x0013071b,  /* addiw a4,t1,1 */
    0x02100393,  /* addi t2,zero,33 */
    0x007297bb,  /* sllw a5,t0,t2 */
    0x4047581b,  /* sraiw a6,a4,0x4 */
    0x0047589b,  /* srliw a7,a4,0x4 */
    0x0202c933,  /* div s2,t0,zero */
    0x0202d9b3,  /* divu s3,t0,zero */
    0x00700e13,  /* addi t3,zero,7 */
    0x020e6a33,  /* rem s4,t3,zero */
    0x020e7ab3,  /* remu s5,t3,zero */
    0x02c5cb33,  /* div s6,a1,a2 */
    0x02c5ebb3,  /* rem s7,a1,a2 */
    0x02c74c3b,  /* divw s8,a4,a2 */
    0x02c76cbb,  /* remw s9,a4,a2 */
    0x02c63d33,  /* mulhu s10,a2,a2 */
    0x02d62db3,  /* mulhsu s11,a2,a3 */
    0x00012003,  /* lw zero,0(sp) */
    0x10500073,  /* wfi */
};

static const uint32_t prog_jalr[] = {
    0x00000297,  /* auipc t0,0x0 */
    0x01428293,  /* addi t0,t0,20 */
    0x00128293,  /* addi t0,t0,1 */
    0x000280e7,  /* jalr ra,0(t0) */
    0x00100513,  /* addi a0,zero,1 */
    0x00200593,  /* addi a1,zero,2 */
    0x10500073,  /* wfi */
};

/* A misaligned SD whose last four bytes lie past the end of RAM. */
static const uint32_t prog_store_past_ram[] = {
    0x000802b7,  /* lui t0,0x80 */
    0x1002829b,  /* addiw t0,t0,256 */
    0x00c29293,  /* slli t0,t0,0xc */
    0xffc28293,  /* addi t0,t0,-4 */
    0xfff00513,  /* li a0,-1 */
    0x00a2b023,  /* sd a0,0(t0) */
    0x10500073,  /* wfi */
};

static const uint32_t prog_misaligned[] = {
    0x000802b7,  /* lui t0,0x80 */
    0x0012829b,  /* addiw t0,t0,1 */
    0x00c29293,  /* slli t0,t0,0xc */
    0x00128293,  /* addi t0,t0,1 */
    0x0002b503,  /* ld a0,0(t0) */
    0x00040337,  /* lui t1,0x40 */
    0x0013031b,  /* addiw t1,t1,1 */
    0x00d31313,  /* slli t1,t1,0xd */
    0xffd30313,  /* addi t1,t1,-3 */
    0x00033583,  /* ld a1,0(t1) */
    0x00031603,  /* lh a2,0(t1) */
    0x004493b7,  /* lui t2,0x449 */
    0x8cd3839b,  /* addiw t2,t2,-1843 */
    0x00e39393,  /* slli t2,t2,0xe */
    0x45538393,  /* addi t2,t2,1109 */
    0x00c39393,  /* slli t2,t2,0xc */
    0x66738393,  /* addi t2,t2,1639 */
    0x00c39393,  /* slli t2,t2,0xc */
    0x78838393,  /* addi t2,t2,1928 */
    0x1072b1a3,  /* sd t2,259(t0) */
    0x1032b683,  /* ld a3,259(t0) */
    0x1042e703,  /* lwu a4,260(t0) */
    0x10500073,  /* wfi */
};

static const uint32_t prog_amo[] = {
    0x000402b7,  /* lui t0,0x40 */
    0x0012829b,  /* addiw t0,t0,1 */
    0x00d29293,  /* slli t0,t0,0xd */
    0x05500593,  /* addi a1,zero,85 */
    0x18b2b52f,  /* sc.d a0,a1,(t0) */
    0x1002b62f,  /* lr.d a2,(t0) */
    0x18b2b6af,  /* sc.d a3,a1,(t0) */
    0x0002b703,  /* ld a4,0(t0) */
    0x00500313,  /* addi t1,zero,5 */
    0x0062a7af,  /* amoadd.w a5,t1,(t0) */
    0x0002a803,  /* lw a6,0(t0) */
    0xfff00393,  /* addi t2,zero,-1 */
    0xe072b8af,  /* amomaxu.d a7,t2,(t0) */
    0x0002b903,  /* ld s2,0(t0) */
    0x00428293,  /* addi t0,t0,4 */
    0x0862b9af,  /* amoswap.d s3,t1,(t0) */
    0x10500073,  /* wfi */
};

static const uint32_t prog_smc[] = {
    0x00000297,  /* auipc t0,0x0 */
    0x01428293,  /* addi t0,t0,20 */
    0x02a00337,  /* lui t1,0x2a00 */
    0x5133031b,  /* addiw t1,t1,1299 */
    0x0062a023,  /* sw t1,0(t0) */
    0x00100513,  /* addi a0,zero,1 */
    0x10500073,  /* wfi */
};

static const uint32_t prog_ecall[] = {
    0xfff00293,  /* addi t0,zero,-1 */
    0x3b029073,  /* csrrw zero,pmpaddr0,t0 */
    0x01f00293,  /* addi t0,zero,31 */
    0x3a029073,  /* csrrw zero,pmpcfg0,t0 */
    0x00000297,  /* auipc t0,0x0 */
    0x01c28293,  /* addi t0,t0,28 */
    0x34129073,  /* csrrw zero,mepc,t0 */
    0x00001337,  /* lui t1,0x1 */
    0x8003031b,  /* addiw t1,t1,-2048 */
    0x30031073,  /* csrrw zero,mstatus,t1 */
    0x30200073,  /* mret */
    0x00000073,  /* ecall */
    0x10500073,  /* wfi */
};

static const uint32_t prog_noppmp[] = {
    0x00000297,  /* auipc t0,0x0 */
    0x01c28293,  /* addi t0,t0,28 */
    0x34129073,  /* csrrw zero,mepc,t0 */
    0x00001337,  /* lui t1,0x1 */
    0x8003031b,  /* addiw t1,t1,-2048 */
    0x30031073,  /* csrrw zero,mstatus,t1 */
    0x30200073,  /* mret */
    0x00000013,  /* addi zero,zero,0 */
    0x10500073,  /* wfi */
};

static const uint32_t prog_deleg[] = {
    0xfff00293,  /* addi t0,zero,-1 */
    0x3b029073,  /* csrrw zero,pmpaddr0,t0 */
    0x01f00293,  /* addi t0,zero,31 */
    0x3a029073,  /* csrrw zero,pmpcfg0,t0 */
    0x00400293,  /* addi t0,zero,4 */
    0x30229073,  /* csrrw zero,medeleg,t0 */
    0x00000297,  /* auipc t0,0x0 */
    0x03028293,  /* addi t0,t0,48 */
    0x10529073,  /* csrrw zero,stvec,t0 */
    0x00000297,  /* auipc t0,0x0 */
    0x01c28293,  /* addi t0,t0,28 */
    0x34129073,  /* csrrw zero,mepc,t0 */
    0x00001337,  /* lui t1,0x1 */
    0x8003031b,  /* addiw t1,t1,-2048 */
    0x30031073,  /* csrrw zero,mstatus,t1 */
    0x30200073,  /* mret */
    0x30002573,  /* csrrs a0,mstatus,zero */
    0x10500073,  /* wfi */
    0x10500073,  /* wfi */
};

static const uint32_t prog_csr[] = {
    0x30102573,  /* csrrs a0,misa,zero */
    0xf14025f3,  /* csrrs a1,mhartid,zero */
    0x000012b7,  /* lui t0,0x1 */
    0x2342829b,  /* addiw t0,t0,564 */
    0x34029073,  /* csrrw zero,mscratch,t0 */
    0x3401e673,  /* csrrsi a2,mscratch,3 */
    0x340026f3,  /* csrrs a3,mscratch,zero */
    0x000bb2b7,  /* lui t0,0xbb */
    0xd002829b,  /* addiw t0,t0,-768 */
    0x18029073,  /* csrrw zero,satp,t0 */
    0x18002773,  /* csrrs a4,satp,zero */
    0xffd0031b,  /* addiw t1,zero,-3 */
    0x03d31313,  /* slli t1,t1,0x3d */
    0x18031073,  /* csrrw zero,satp,t1 */
    0x180027f3,  /* csrrs a5,satp,zero */
    0xc0202873,  /* csrrs a6,instret,zero */
    0x00000013,  /* addi zero,zero,0 */
    0x00000013,  /* addi zero,zero,0 */
    0xc02028f3,  /* csrrs a7,instret,zero */
    0x30002973,  /* csrrs s2,mstatus,zero */
    0x10500073,  /* wfi */
};

static void load_words(const uint32_t *words, size_t n)
{
    memset(ram, 0, 0x4000);
    memcpy(ram, words, n * sizeof(uint32_t));
    uint32_t wfi = WFI;
    memcpy(ram + (TRAP_VEC - RAM_BASE), &wfi, 4);
}

/* Runs from RAM_BASE in M-mode until the hart halts in WFI. */
static void run(void)
{
    cs->ops->reset(cs);
    tb_flush(&tcg_vcpu(cs)->cache);
    env->mtvec = TRAP_VEC;
    env->x[2] = RAM_BASE + 0x3000;
    for (int i = 0; i < 100; i++) {
        int r = cs->ops->tcg_exec(cs);
        if (r == ACCEL_EXIT_HALTED) {
            return;
        }
        g_assert_cmpint(r, ==, ACCEL_EXIT_KICKED);
    }
    g_assert_not_reached();
}

#define RUN(prog) do { load_words(prog, G_N_ELEMENTS(prog)); run(); } while (0)

static uint64_t reg(const char *name)
{
    static const char *const abi[32] = {
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2",
        "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
        "s10", "s11", "t3", "t4", "t5", "t6",
    };
    for (int i = 0; i < 32; i++) {
        if (!strcmp(abi[i], name)) {
            return env->x[i];
        }
    }
    g_assert_not_reached();
}

static void test_rvc_expand(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(rvc_table); i++) {
        g_assert_cmphex(riscv_rvc_expand(rvc_table[i].c), ==, rvc_table[i].w);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(rvc_reserved); i++) {
        g_assert_cmphex(riscv_rvc_expand(rvc_reserved[i]), ==, 0);
    }
}

/* Every reserved compressed encoding traps with the 16 instruction bits in mtval. */
static void test_rvc_illegal(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(rvc_reserved); i++) {
        uint32_t w = rvc_reserved[i] | (uint32_t)0x0001 << 16;   /* followed by c.nop */
        load_words(&w, 1);
        run();
        g_assert_cmphex(env->mcause, ==, EXC_ILLEGAL_INST);
        g_assert_cmphex(env->mtval, ==, rvc_reserved[i]);
        g_assert_cmphex(env->mepc, ==, RAM_BASE);
        g_assert_cmphex(env->pc, ==, TRAP_VEC + 4);   /* halted after the WFI */
    }
}

static void test_illegal32(void)
{
    static const uint32_t bad[] = {
        0x04009093,     /* slli with imm[11:6] != 0 */
        0x0200d09b,     /* srliw with funct7 = 1 */
        0xffffffff,
        0x00004073,     /* SYSTEM funct3 = 4 */
        0x0400f033,     /* and with funct7 = 2 */
        0x0000402f,     /* AMO with funct3 = 4 */
        0x1000302f | (1u << 20),   /* lr.d with rs2 != 0 */
        0x04000053,     /* fadd.h (fmt = 2) */
        0x00005053,     /* fadd.s with reserved rm = 5 */
    };
    uint32_t prog[3] = { 0x00000013, 0, WFI };   /* nop; bad; wfi */
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        prog[1] = bad[i];
        RUN(prog);
        g_assert_cmphex(env->mcause, ==, EXC_ILLEGAL_INST);
        g_assert_cmphex(env->mtval, ==, bad[i]);
        g_assert_cmphex(env->mepc, ==, RAM_BASE + 4);
    }
}

static void test_alu(void)
{
    RUN(prog_alu);
    g_assert_cmphex(env->pc, ==, RAM_BASE + sizeof(prog_alu) - 4 + 4);
    g_assert_cmphex(env->x[0], ==, 0);
    g_assert_cmphex(reg("a0"), ==, 0);
    g_assert_cmphex(reg("a1"), ==, 0x8000000000000000ull);
    g_assert_cmphex(reg("a2"), ==, UINT64_MAX);
    g_assert_cmphex(reg("a3"), ==, 1);
    g_assert_cmphex(reg("a4"), ==, 0xffffffff80000000ull);
    g_assert_cmphex(reg("a5"), ==, 2);
    g_assert_cmphex(reg("a6"), ==, 0xfffffffff8000000ull);
    g_assert_cmphex(reg("a7"), ==, 0x08000000);
    g_assert_cmphex(reg("s2"), ==, UINT64_MAX);        /* div by zero */
    g_assert_cmphex(reg("s3"), ==, UINT64_MAX);        /* divu by zero */
    g_assert_cmphex(reg("s4"), ==, 7);                 /* rem by zero */
    g_assert_cmphex(reg("s5"), ==, 7);
    g_assert_cmphex(reg("s6"), ==, 0x8000000000000000ull);   /* overflow */
    g_assert_cmphex(reg("s7"), ==, 0);
    g_assert_cmphex(reg("s8"), ==, 0xffffffff80000000ull);
    g_assert_cmphex(reg("s9"), ==, 0);
    g_assert_cmphex(reg("s10"), ==, 0xfffffffffffffffeull);
    g_assert_cmphex(reg("s11"), ==, UINT64_MAX);
}

static void test_jalr(void)
{
    RUN(prog_jalr);
    g_assert_cmphex(reg("a0"), ==, 0);
    g_assert_cmphex(reg("a1"), ==, 2);
    g_assert_cmphex(reg("ra"), ==, RAM_BASE + 16);
}

static void test_misaligned(void)
{
    load_words(prog_misaligned, G_N_ELEMENTS(prog_misaligned));
    for (unsigned i = 0; i < 0x1000; i++) {
        ram[0x1000 + i] = (uint8_t)i;
    }
    ram[0x2000] = 0xaa;
    ram[0x2001] = 0xbb;
    ram[0x2002] = 0xcc;
    run();
    g_assert_cmphex(env->mcause, ==, 0);
    g_assert_cmphex(reg("a0"), ==, 0x0807060504030201ull);
    g_assert_cmphex(reg("a1"), ==, 0xccbbaafffefdull);
    g_assert_cmphex(reg("a2"), ==, 0xfffffffffffffefdull);
    g_assert_cmphex(reg("a3"), ==, 0x1122334455667788ull);
    g_assert_cmphex(reg("a4"), ==, 0x44556677);
}

/* A store that faults on its second page leaves the first page untouched. */
static void test_store_past_ram(void)
{
    load_words(prog_store_past_ram, G_N_ELEMENTS(prog_store_past_ram));
    memset(ram + RAM_SIZE - 4, 0x5a, 4);
    run();
    g_assert_cmphex(env->mcause, ==, 7);
    g_assert_cmphex(env->mepc, ==, RAM_BASE + 5 * 4);
    g_assert_cmphex(env->mtval, ==, RAM_BASE + RAM_SIZE);
    for (unsigned i = 0; i < 4; i++) {
        g_assert_cmphex(ram[RAM_SIZE - 4 + i], ==, 0x5a);
    }
}

static void test_amo(void)
{
    load_words(prog_amo, G_N_ELEMENTS(prog_amo));
    uint64_t init = 0x100000010ull;
    memcpy(ram + 0x2000, &init, 8);
    run();
    g_assert_cmphex(reg("a0"), ==, 1);            /* sc without reservation fails */
    g_assert_cmphex(reg("a2"), ==, init);
    g_assert_cmphex(reg("a3"), ==, 0);            /* sc after lr succeeds */
    g_assert_cmphex(reg("a4"), ==, 0x55);
    g_assert_cmphex(reg("a5"), ==, 0x55);         /* amoadd.w returns the old value */
    g_assert_cmphex(reg("a6"), ==, 0x5a);
    g_assert_cmphex(reg("a7"), ==, 0x5a);
    g_assert_cmphex(reg("s2"), ==, UINT64_MAX);   /* amomaxu */
    g_assert_cmphex(env->mcause, ==, EXC_STORE_MISALIGNED);   /* amoswap.d at +4 */
    g_assert_cmphex(env->mtval, ==, RAM_BASE + 0x2004);
}

static void test_smc(void)
{
    RUN(prog_smc);
    g_assert_cmphex(reg("a0"), ==, 42);
}

static void test_ecall_from_s(void)
{
    RUN(prog_ecall);
    g_assert_cmphex(env->mcause, ==, EXC_ECALL_S);
    g_assert_cmphex(env->priv, ==, PRV_M);
    g_assert_cmphex((env->mstatus >> 11) & 3, ==, PRV_S);
}

static void test_s_mode_without_pmp(void)
{
    RUN(prog_noppmp);
    g_assert_cmphex(env->mcause, ==, EXC_INST_ACCESS);
    g_assert_cmphex(env->mtval, ==, env->mepc);
}

static void test_delegation(void)
{
    RUN(prog_deleg);
    g_assert_cmphex(env->priv, ==, PRV_S);
    g_assert_cmphex(env->scause, ==, EXC_ILLEGAL_INST);
    g_assert_cmphex(env->stval, ==, 0x30002573);
    g_assert_cmphex(env->mcause, ==, 0);
    g_assert_cmphex(env->pc, ==, RAM_BASE + sizeof(prog_deleg));
}

static void test_csr(void)
{
    RUN(prog_csr);
    g_assert_cmphex(env->mcause, ==, 0);
    g_assert_cmphex(reg("a0"), ==, 0x800000000014112dull);
    g_assert_cmphex(reg("a1"), ==, 0);
    g_assert_cmphex(reg("a2"), ==, 0x1234);
    g_assert_cmphex(reg("a3"), ==, 0x1237);
    g_assert_cmphex(reg("a4"), ==, 0xbad00);       /* bare mode keeps the PPN */
    g_assert_cmphex(reg("a5"), ==, 0xbad00);       /* mode 10 is unsupported: unchanged */
    g_assert_cmphex(reg("a7") - reg("a6"), ==, 3);
    g_assert_cmphex(reg("s2") & (3ull << 32), ==, 2ull << 32);   /* UXL = 64 */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_system_init();
    MemoryRegion *mr = g_new0(MemoryRegion, 1);
    g_assert_true(memory_region_init_ram(mr, "ram", RAM_SIZE, NULL));
    memory_region_add_subregion(system_memory, RAM_BASE, mr);
    ram = mr->ram;
    cs = riscv_cpu_create(NULL, 0, RAM_BASE, NULL);
    g_assert_nonnull(cs);
    env = riscv_env(cs);
    const AccelOps *tcg = accel_find("tcg");
    g_assert_nonnull(tcg);
    g_assert_true(tcg->vcpu_init(cs, NULL));

    g_test_add_func("/riscv/rvc/expand", test_rvc_expand);
    g_test_add_func("/riscv/rvc/illegal", test_rvc_illegal);
    g_test_add_func("/riscv/decode/illegal32", test_illegal32);
    g_test_add_func("/riscv/alu/corner-cases", test_alu);
    g_test_add_func("/riscv/jalr/low-bit", test_jalr);
    g_test_add_func("/riscv/mem/misaligned", test_misaligned);
    g_test_add_func("/riscv/mem/store-past-ram", test_store_past_ram);
    g_test_add_func("/riscv/mem/amo-lr-sc", test_amo);
    g_test_add_func("/riscv/mem/self-modifying", test_smc);
    g_test_add_func("/riscv/trap/ecall-from-s", test_ecall_from_s);
    g_test_add_func("/riscv/trap/s-mode-needs-pmp", test_s_mode_without_pmp);
    g_test_add_func("/riscv/trap/delegation", test_delegation);
    g_test_add_func("/riscv/csr/basics", test_csr);
    return g_test_run();
}
