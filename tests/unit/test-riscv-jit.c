/* RISC-V JIT back end against the interpreter: random looping programs and targeted cases
 * run once with host code off and once with it on, from identical state, and must end with
 * the same registers, pc, trap CSRs, instret, RAM and device state. Programs run from RAM at
 * 0x80000000 in M-mode; traps land on a WFI at TRAP_VEC, which halts. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "accel/accel.h"
#include "accel/tcg/tcg.h"
#include "hw/core/memory.h"
#include "target/riscv/internal.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1u << 20)
#define RAM_END (RAM_BASE + RAM_SIZE)
#define TRAP_VEC (RAM_BASE + 0x800)
#define MAX_CODE 0x700u                     /* programs end before this offset */
#define CODE_SCRATCH (RAM_BASE + 0x780)     /* stores into the code page land here */
#define DATA_PTR (RAM_BASE + 0x11000)       /* x30: a page boundary inside the data area */
#define DATA_LO (DATA_PTR - 0x1000)
#define DATA_HI (DATA_PTR + 0x4000)         /* includes the page DELTA_PAGE reaches */
#define MMIO_BASE 0x10000000ull
#define MMIO_SIZE 0x1000u
#define ITERS 100                           /* loop trips: blocks turn hot well before */
#define WFI 0x10500073u
#define SFENCE_VMA 0x12000073u
#define MAX_INSNS 80
#define NPROGS 300

_Static_assert(RISCV_JIT_HOT + 10 < ITERS, "loops must run hot for a good while");

enum {
    ZERO = 0, RA, SP, GP, TP, T0, T1, T2, S0, S1, A0, A1, A2, A3, A4, A5, A6, A7,
    S2, S3, S4, S5, S6, S7, S8, S9, S10, S11, T3, T4, T5, T6,
};
/* Random bodies write x0..X_POOL_MAX and leave the loop's registers alone. */
#define X_POOL_MAX 28
#define X_DELTA T4        /* what a gadget adds to X_BASE once it fires */
#define X_BASE T5         /* DATA_PTR */
#define X_COUNT T6        /* loop counter, ITERS down to 1 */

static CPUState *cs;
static CPURISCVState *env;
static TBCache *cache;
static uint8_t *ram;

/* ---- a device whose answers depend on the order of accesses ---- */

typedef struct TestDev {
    uint64_t reads, writes;
    uint64_t wsum;               /* hash of every write (address, size, value) */
    uint64_t last;               /* last value written */
} TestDev;

static TestDev dev;

/* The value of the device's read number n at addr (every byte has its sign bit set now and
 * then, so loads must extend like the interpreter does). */
static uint64_t dev_value(uint64_t addr, uint64_t n, unsigned size)
{
    uint64_t v = ((addr << 16) + n) * 0x9e3779b97f4a7c15ull;
    return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static uint64_t dev_read(void *opaque, uint64_t addr, unsigned size)
{
    return dev_value(addr, dev.reads++, size);
}

static void dev_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    dev.writes++;
    dev.last = val;
    dev.wsum = dev.wsum * 1000003u + (val ^ addr << 40 ^ (uint64_t)size << 56);
}

static const MemoryRegionOps dev_ops = { .read = dev_read, .write = dev_write };

/* ---- encoders ---- */

static uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd,
                      unsigned opc)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned opc)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return (u >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | 0x23;
}

/* The offset bits of a B-type instruction (to be or-ed into one without them). */
static uint32_t enc_b_off(int32_t off)
{
    uint32_t u = (uint32_t)off;
    return (u >> 12 & 1) << 31 | (u >> 5 & 0x3f) << 25 | (u >> 1 & 0xf) << 8 | (u >> 11 & 1) << 7;
}

static uint32_t enc_b(int32_t off, unsigned rs2, unsigned rs1, unsigned f3)
{
    return enc_b_off(off) | rs2 << 20 | rs1 << 15 | f3 << 12 | 0x63;
}

static uint32_t addi(unsigned rd, unsigned rs1, int32_t imm)
{
    return enc_i(imm, rs1, 0, rd, 0x13);
}
static uint32_t sltiu(unsigned rd, unsigned rs1, int32_t imm)
{
    return enc_i(imm, rs1, 3, rd, 0x13);
}
static uint32_t slli(unsigned rd, unsigned rs1, unsigned sh)
{
    return enc_i((int32_t)sh, rs1, 1, rd, 0x13);
}
static uint32_t add(unsigned rd, unsigned rs1, unsigned rs2)
{
    return enc_r(0, rs2, rs1, 0, rd, 0x33);
}
static uint32_t sub(unsigned rd, unsigned rs1, unsigned rs2)
{
    return enc_r(0x20, rs2, rs1, 0, rd, 0x33);
}
static uint32_t and_(unsigned rd, unsigned rs1, unsigned rs2)
{
    return enc_r(0, rs2, rs1, 7, rd, 0x33);
}
static uint32_t lw(unsigned rd, unsigned rs1, int32_t imm)
{
    return enc_i(imm, rs1, 2, rd, 0x03);
}
static uint32_t ld(unsigned rd, unsigned rs1, int32_t imm)
{
    return enc_i(imm, rs1, 3, rd, 0x03);
}
static uint32_t lbu(unsigned rd, unsigned rs1, int32_t imm)
{
    return enc_i(imm, rs1, 4, rd, 0x03);
}
static uint32_t sw(unsigned rs2, unsigned rs1, int32_t imm)
{
    return enc_s(imm, rs2, rs1, 2);
}
static uint32_t sd(unsigned rs2, unsigned rs1, int32_t imm)
{
    return enc_s(imm, rs2, rs1, 3);
}
static uint32_t bne(unsigned rs1, unsigned rs2, int32_t off)
{
    return enc_b(off, rs2, rs1, 1);
}

/* ---- running a RAM image ---- */

typedef struct State {
    uint64_t x[32], pc, mcause, mepc, mtval, instret;
    TestDev dev;
    size_t code_used;            /* host code bytes at the end (0 when none was made) */
    uint8_t *ram;                /* RAM_SIZE bytes */
} State;

static void state_init(State *st)
{
    memset(st, 0, sizeof(*st));
    st->ram = g_malloc(RAM_SIZE);
}

static void state_destroy(State *st)
{
    g_free(st->ram);
}

/* Runs image (RAM contents) from RAM_BASE with registers regs until the hart halts in WFI,
 * with host code for hot blocks when jit. */
static void run_image(const uint8_t *image, const uint64_t *regs, bool jit, State *st)
{
    memcpy(ram, image, RAM_SIZE);
    cs->ops->reset(cs);
    cache->jit = jit;
    env->mtvec = TRAP_VEC;
    memcpy(env->x, regs, 32 * sizeof(uint64_t));
    env->x[0] = 0;
    memset(&dev, 0, sizeof(dev));
    for (int i = 0;; i++) {
        int r = cs->ops->tcg_exec(cs);
        if (r == ACCEL_EXIT_HALTED) {
            break;
        }
        g_assert_cmpint(r, ==, ACCEL_EXIT_KICKED);
        g_assert_cmpint(i, <, 1000);
    }
    memcpy(st->x, env->x, sizeof(st->x));
    st->pc = env->pc;
    st->mcause = env->mcause;
    st->mepc = env->mepc;
    st->mtval = env->mtval;
    st->instret = env->instret;
    st->dev = dev;
    st->code_used = cache->code_used;
    memcpy(st->ram, ram, RAM_SIZE);
}

/* What differs between the interpreter's end state a and the JIT's b; NULL when nothing. */
static char *state_diff(const State *a, const State *b)
{
    GString *s = g_string_new(NULL);
    unsigned nx = 0;
    for (int i = 0; i < 32; i++) {
        if (a->x[i] != b->x[i]) {
            if (!nx) {
                g_string_append_printf(s, "  first differing register x%d: interpreter "
                                       "0x%016" PRIx64 " jit 0x%016" PRIx64 "\n",
                                       i, a->x[i], b->x[i]);
            }
            nx++;
        }
    }
    if (nx > 1) {
        g_string_append_printf(s, "  (%u registers differ)\n", nx);
    }
#define CMP_FIELD(f) \
    if (a->f != b->f) { \
        g_string_append_printf(s, "  %s: interpreter 0x%" PRIx64 " jit 0x%" PRIx64 "\n", \
                               #f, (uint64_t)a->f, (uint64_t)b->f); \
    }
    CMP_FIELD(pc)
    CMP_FIELD(mcause)
    CMP_FIELD(mepc)
    CMP_FIELD(mtval)
    CMP_FIELD(instret)
    CMP_FIELD(dev.reads)
    CMP_FIELD(dev.writes)
    CMP_FIELD(dev.wsum)
#undef CMP_FIELD
    for (size_t i = 0; i < RAM_SIZE; i++) {
        if (a->ram[i] != b->ram[i]) {
            g_string_append_printf(s, "  RAM differs first at 0x%" PRIx64 ": interpreter "
                                   "0x%02x jit 0x%02x\n", (uint64_t)(RAM_BASE + i),
                                   a->ram[i], b->ram[i]);
            break;
        }
    }
    if (!s->len) {
        g_string_free(s, TRUE);
        return NULL;
    }
    return g_string_free(s, FALSE);
}

static bool jit_usable(void)
{
    if (!cache->code) {
        g_test_skip("no executable memory for host code (or VESSEL_JIT=off)");
        return false;
    }
    return true;
}

/* ---- random programs ---- */

typedef struct Insn {
    uint32_t bits;
    uint8_t len;                 /* 2 or 4 */
    bool branch;
    bool loop_back;              /* the loop's closing branch, to instruction 0 */
    unsigned skip;               /* forward branch: instructions jumped over */
    char text[40];
} Insn;

/* Delta kinds: where a gadget's access goes once it fires. */
enum {
    DELTA_NONE, DELTA_FAULT_HIGH, DELTA_FAULT_LOW, DELTA_MISALIGN, DELTA_PAGE, DELTA_CODE,
    DELTA_RAM_END, DELTA_MMIO, DELTA_COUNT,
};
static const char *const delta_names[DELTA_COUNT] = {
    "none", "fault-high", "fault-low", "misalign", "other-page", "code-page", "ram-end", "mmio",
};

typedef struct Prog {
    GRand *r;
    Insn insn[MAX_INSNS];
    unsigned n, nbody;
    unsigned delta_kind;
    uint64_t x[32];              /* initial registers */
} Prog;

static int rnd(Prog *p, int n)
{
    return g_rand_int_range(p->r, 0, n);
}

static int rnd_range(Prog *p, int lo, int hi)
{
    return g_rand_int_range(p->r, lo, hi);
}

static Insn *emit(Prog *p, uint32_t bits, unsigned len, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static Insn *emit(Prog *p, uint32_t bits, unsigned len, const char *fmt, ...)
{
    g_assert_cmpuint(p->n, <, MAX_INSNS);
    Insn *in = &p->insn[p->n++];
    memset(in, 0, sizeof(*in));
    in->bits = bits;
    in->len = (uint8_t)len;
    va_list ap;
    va_start(ap, fmt);
    g_vsnprintf(in->text, sizeof(in->text), fmt, ap);
    va_end(ap);
    return in;
}

static unsigned pick_rd(Prog *p)
{
    return rnd(p, 20) == 0 ? ZERO : (unsigned)rnd_range(p, 1, X_POOL_MAX + 1);
}

static unsigned pick_rd_nz(Prog *p)
{
    return (unsigned)rnd_range(p, 1, X_POOL_MAX + 1);
}

/* Sources may be any register, the loop's included. */
static unsigned pick_rs(Prog *p)
{
    return (unsigned)rnd(p, 32);
}

static int32_t pick_imm12(Prog *p)
{
    static const int32_t edge[] = { -2048, 2047, -1, 0, 1, 0x7ff, -0x800 + 1 };
    switch (rnd(p, 4)) {
    case 0:
        return rnd_range(p, -16, 17);
    case 1:
        return edge[rnd(p, G_N_ELEMENTS(edge))];
    default:
        return rnd_range(p, -2048, 2048);
    }
}

static uint64_t pick_value(GRand *r)
{
    static const uint64_t edge[] = {
        0, 1, 2, UINT64_MAX, 0x8000000000000000ull, 0x7fffffffffffffffull, 0x80000000ull,
        0x7fffffffull, 0xffffffffull, 0xffffffff80000000ull, 31, 32, 33, 63, 64, 65,
        0x100000000ull, 0xfffffffffffff800ull,
    };
    switch (g_rand_int_range(r, 0, 5)) {
    case 0:
        return edge[g_rand_int_range(r, 0, G_N_ELEMENTS(edge))];
    case 1:
        return (uint64_t)(int64_t)g_rand_int_range(r, -70, 70);
    case 2:
        return (uint64_t)(int64_t)(int32_t)g_rand_int(r);
    default:
        return (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
    }
}

typedef struct RInsn {
    const char *name;
    uint8_t f7, f3, opc;
} RInsn;

static const RInsn alu_rr[] = {
    { "add", 0, 0, 0x33 }, { "sub", 0x20, 0, 0x33 }, { "sll", 0, 1, 0x33 },
    { "slt", 0, 2, 0x33 }, { "sltu", 0, 3, 0x33 }, { "xor", 0, 4, 0x33 },
    { "srl", 0, 5, 0x33 }, { "sra", 0x20, 5, 0x33 }, { "or", 0, 6, 0x33 },
    { "and", 0, 7, 0x33 }, { "mul", 1, 0, 0x33 },
    { "addw", 0, 0, 0x3b }, { "subw", 0x20, 0, 0x3b }, { "sllw", 0, 1, 0x3b },
    { "srlw", 0, 5, 0x3b }, { "sraw", 0x20, 5, 0x3b }, { "mulw", 1, 0, 0x3b },
};

/* Ops the back end leaves to the interpreter: they split runs. */
static const RInsn alu_other[] = {
    { "mulh", 1, 1, 0x33 }, { "mulhsu", 1, 2, 0x33 }, { "mulhu", 1, 3, 0x33 },
    { "div", 1, 4, 0x33 }, { "divu", 1, 5, 0x33 }, { "rem", 1, 6, 0x33 },
    { "remu", 1, 7, 0x33 }, { "divw", 1, 4, 0x3b }, { "remuw", 1, 7, 0x3b },
};

static void gen_rr(Prog *p, const RInsn *t)
{
    unsigned rd = pick_rd(p), rs1 = pick_rs(p), rs2 = pick_rs(p);
    emit(p, enc_r(t->f7, rs2, rs1, t->f3, rd, t->opc), 4, "%s x%u,x%u,x%u",
         t->name, rd, rs1, rs2);
}

static void gen_ri(Prog *p)
{
    static const struct { const char *name; uint8_t f3, opc, shift; uint16_t hi; } t[] = {
        { "addi", 0, 0x13, 0, 0 }, { "slti", 2, 0x13, 0, 0 }, { "sltiu", 3, 0x13, 0, 0 },
        { "xori", 4, 0x13, 0, 0 }, { "ori", 6, 0x13, 0, 0 }, { "andi", 7, 0x13, 0, 0 },
        { "slli", 1, 0x13, 64, 0 }, { "srli", 5, 0x13, 64, 0 }, { "srai", 5, 0x13, 64, 0x400 },
        { "addiw", 0, 0x1b, 0, 0 }, { "slliw", 1, 0x1b, 32, 0 }, { "srliw", 5, 0x1b, 32, 0 },
        { "sraiw", 5, 0x1b, 32, 0x400 },
    };
    unsigned k = (unsigned)rnd(p, G_N_ELEMENTS(t));
    unsigned rd = pick_rd(p), rs1 = pick_rs(p);
    int32_t imm = t[k].shift ? rnd(p, t[k].shift) : pick_imm12(p);
    emit(p, enc_i(imm | t[k].hi, rs1, t[k].f3, rd, t[k].opc), 4, "%s x%u,x%u,%d",
         t[k].name, rd, rs1, imm);
}

static void gen_upper(Prog *p)
{
    unsigned rd = pick_rd(p);
    uint32_t imm20 = (rnd(p, 2) ? g_rand_int(p->r) : (uint32_t)rnd_range(p, -8, 8)) & 0xfffff;
    bool auipc = rnd(p, 3) == 0;
    emit(p, imm20 << 12 | rd << 7 | (auipc ? 0x17 : 0x37), 4, "%s x%u,0x%x",
         auipc ? "auipc" : "lui", rd, imm20);
}

static void gen_li(Prog *p, unsigned rd)
{
    int32_t imm = pick_imm12(p);
    emit(p, addi(rd, ZERO, imm), 4, "li x%u,%d", rd, imm);
}

static void gen_mv(Prog *p, unsigned rd)
{
    unsigned rs = pick_rs(p);
    if (rnd(p, 2)) {
        emit(p, addi(rd, rs, 0), 4, "mv x%u,x%u", rd, rs);
    } else {
        emit(p, add(rd, ZERO, rs), 4, "add x%u,x0,x%u", rd, rs);
    }
}

/* An offset from X_BASE into the data area, mostly aligned to size. */
static int32_t pick_mem_off(Prog *p, unsigned size)
{
    int32_t off = rnd(p, 6) == 0 ? rnd_range(p, -8, 8) : rnd_range(p, -2048, 2048 - 8);
    if (rnd(p, 4) != 0) {
        off &= ~(int32_t)(size - 1);
    }
    return off;
}

static const struct { const char *name; uint8_t f3; } loads[] = {
    { "lb", 0 }, { "lh", 1 }, { "lw", 2 }, { "ld", 3 }, { "lbu", 4 }, { "lhu", 5 }, { "lwu", 6 },
};
static const char *const stores[] = { "sb", "sh", "sw", "sd" };

static void gen_load_at(Prog *p, unsigned k, unsigned rd, unsigned base, int32_t off)
{
    emit(p, enc_i(off, base, loads[k].f3, rd, 0x03), 4, "%s x%u,%d(x%u)",
         loads[k].name, rd, off, base);
}

static void gen_store_at(Prog *p, unsigned f3, unsigned rs2, unsigned base, int32_t off)
{
    emit(p, enc_s(off, rs2, base, f3), 4, "%s x%u,%d(x%u)", stores[f3], rs2, off, base);
}

static void gen_load(Prog *p)
{
    unsigned k = (unsigned)rnd(p, G_N_ELEMENTS(loads));
    gen_load_at(p, k, pick_rd(p), X_BASE, pick_mem_off(p, 1u << (loads[k].f3 & 3)));
}

static void gen_store(Prog *p)
{
    unsigned f3 = (unsigned)rnd(p, 4);
    gen_store_at(p, f3, pick_rs(p), X_BASE, pick_mem_off(p, 1u << f3));
}

static void gen_branch_rr(Prog *p, unsigned rs1, unsigned rs2)
{
    static const struct { const char *name; uint8_t f3; } t[] = {
        { "beq", 0 }, { "bne", 1 }, { "blt", 4 }, { "bge", 5 }, { "bltu", 6 }, { "bgeu", 7 },
    };
    unsigned k = (unsigned)rnd(p, G_N_ELEMENTS(t));
    unsigned skip = (unsigned)rnd(p, 7);
    Insn *in = emit(p, enc_b(0, rs2, rs1, t[k].f3), 4, "%s x%u,x%u,+%u insns",
                    t[k].name, rs1, rs2, skip);
    in->branch = true;
    in->skip = skip;
}

static void gen_branch(Prog *p)
{
    unsigned rs1 = pick_rs(p), rs2;
    switch (rnd(p, 4)) {
    case 0:
        rs2 = rs1;              /* always or never taken */
        break;
    case 1:
        rs2 = ZERO;
        break;
    default:
        rs2 = pick_rs(p);
        break;
    }
    gen_branch_rr(p, rs1, rs2);
}

/* Compressed encodings with their 32-bit equivalents (checked against the expander). */
static void emit_c(Prog *p, uint16_t c, uint32_t w, const char *text)
{
    g_assert_cmphex(riscv_rvc_expand(c), ==, w);
    emit(p, c, 2, "%s", text);
}

/* The 6-bit immediate field of a CI-format instruction. */
static uint32_t c_imm6(int32_t imm6)
{
    return ((uint32_t)imm6 >> 5 & 1) << 12 | ((uint32_t)imm6 & 0x1f) << 2;
}

static void gen_compressed(Prog *p)
{
    char text[40];
    unsigned rd = pick_rd_nz(p), rs2 = (unsigned)rnd_range(p, 1, 32);
    unsigned rdc = (unsigned)rnd_range(p, 8, 16), rs2c = (unsigned)rnd_range(p, 8, 16);
    int32_t imm6 = rnd_range(p, -32, 32);
    uint32_t ci = c_imm6(imm6);
    unsigned sh = (unsigned)rnd_range(p, 1, 64);
    uint32_t cs_sh = (sh >> 5 & 1) << 12 | (sh & 0x1f) << 2;
    switch (rnd(p, 12)) {
    case 0:
        imm6 = imm6 ? imm6 : 1;            /* nzimm */
        ci = c_imm6(imm6);
        g_snprintf(text, sizeof(text), "c.addi x%u,%d", rd, imm6);
        emit_c(p, (uint16_t)(0x0001 | ci | rd << 7), addi(rd, rd, imm6), text);
        break;
    case 1:
        g_snprintf(text, sizeof(text), "c.li x%u,%d", rd, imm6);
        emit_c(p, (uint16_t)(0x4001 | ci | rd << 7), addi(rd, ZERO, imm6), text);
        break;
    case 2:
        g_snprintf(text, sizeof(text), "c.addiw x%u,%d", rd, imm6);
        emit_c(p, (uint16_t)(0x2001 | ci | rd << 7), enc_i(imm6, rd, 0, rd, 0x1b), text);
        break;
    case 3:
        imm6 = imm6 ? imm6 : -1;           /* nzimm, and rd = sp is c.addi16sp */
        rd = rd == SP ? A0 : rd;
        ci = c_imm6(imm6);
        g_snprintf(text, sizeof(text), "c.lui x%u,%d", rd, imm6);
        emit_c(p, (uint16_t)(0x6001 | ci | rd << 7),
               ((uint32_t)imm6 & 0xfffff) << 12 | rd << 7 | 0x37, text);
        break;
    case 4:
        g_snprintf(text, sizeof(text), "c.slli x%u,%u", rd, sh);
        emit_c(p, (uint16_t)(0x0002 | cs_sh | rd << 7), slli(rd, rd, sh), text);
        break;
    case 5:
        g_snprintf(text, sizeof(text), "c.srli x%u,%u", rdc, sh);
        emit_c(p, (uint16_t)(0x8001 | cs_sh | (rdc - 8) << 7),
               enc_i((int32_t)sh, rdc, 5, rdc, 0x13), text);
        break;
    case 6:
        g_snprintf(text, sizeof(text), "c.srai x%u,%u", rdc, sh);
        emit_c(p, (uint16_t)(0x8401 | cs_sh | (rdc - 8) << 7),
               enc_i((int32_t)(0x400 | sh), rdc, 5, rdc, 0x13), text);
        break;
    case 7:
        g_snprintf(text, sizeof(text), "c.andi x%u,%d", rdc, imm6);
        emit_c(p, (uint16_t)(0x8801 | ci | (rdc - 8) << 7), enc_i(imm6, rdc, 7, rdc, 0x13),
               text);
        break;
    case 8:
        g_snprintf(text, sizeof(text), "c.mv x%u,x%u", rd, rs2);
        emit_c(p, (uint16_t)(0x8002 | rd << 7 | rs2 << 2), add(rd, ZERO, rs2), text);
        break;
    case 9:
        g_snprintf(text, sizeof(text), "c.add x%u,x%u", rd, rs2);
        emit_c(p, (uint16_t)(0x9002 | rd << 7 | rs2 << 2), add(rd, rd, rs2), text);
        break;
    case 10: {
        static const struct { const char *name; uint8_t f7, f3; } t[] = {
            { "sub", 0x20, 0 }, { "xor", 0, 4 }, { "or", 0, 6 }, { "and", 0, 7 },
        };
        unsigned f2 = (unsigned)rnd(p, 4);
        g_snprintf(text, sizeof(text), "c.%s x%u,x%u", t[f2].name, rdc, rs2c);
        emit_c(p, (uint16_t)(0x8c01 | (rdc - 8) << 7 | f2 << 5 | (rs2c - 8) << 2),
               enc_r(t[f2].f7, rs2c, rdc, t[f2].f3, rdc, 0x33), text);
        break;
    }
    default: {
        unsigned f2 = (unsigned)rnd(p, 2);
        g_snprintf(text, sizeof(text), "c.%s x%u,x%u", f2 ? "addw" : "subw", rdc, rs2c);
        emit_c(p, (uint16_t)(0x9c01 | (rdc - 8) << 7 | f2 << 5 | (rs2c - 8) << 2),
               enc_r(f2 ? 0 : 0x20, rs2c, rdc, 0, rdc, 0x3b), text);
        break;
    }
    }
}

/* Two or more LDs or SDs on X_BASE in a row (the decoder fuses them into one op). */
static void gen_mem_run(Prog *p)
{
    bool store = rnd(p, 2);
    unsigned n = (unsigned)rnd_range(p, 2, 5);
    int32_t off = pick_mem_off(p, 8) & ~7;
    if (off > 2047 - 8 * 4) {
        off -= 8 * 4;
    }
    for (unsigned i = 0; i < n; i++) {
        if (store) {
            gen_store_at(p, 3, pick_rs(p), X_BASE, off + 8 * (int32_t)i);
        } else {
            gen_load_at(p, 3, pick_rd(p), X_BASE, off + 8 * (int32_t)i);
        }
    }
}

/* Adjacent pairs the decoder fuses into one op; generated on purpose so that runs start,
 * end and raise inside them. */
static void gen_pair(Prog *p)
{
    unsigned rd = pick_rd_nz(p), rs = pick_rs(p);
    int32_t imm = pick_imm12(p);
    switch (rnd(p, 14)) {
    case 0:
        emit(p, enc_i(imm, rs, 7, rd, 0x13), 4, "andi x%u,x%u,%d", rd, rs, imm);
        gen_branch_rr(p, rd, ZERO);
        break;
    case 1: {
        unsigned sh = (unsigned)rnd(p, 64);
        emit(p, slli(rd, rs, sh), 4, "slli x%u,x%u,%u", rd, rs, sh);
        if (rnd(p, 2)) {
            unsigned rd2 = pick_rd(p), rs2 = pick_rs(p);
            emit(p, add(rd2, rd, rs2), 4, "add x%u,x%u,x%u", rd2, rd, rs2);
        } else {
            sh = (unsigned)rnd(p, 64);
            emit(p, enc_i((int32_t)sh, rd, 5, rd, 0x13), 4, "srli x%u,x%u,%u", rd, rd, sh);
        }
        break;
    }
    case 2: case 3: {
        int32_t off = pick_mem_off(p, 8);
        gen_load_at(p, 3, rd, X_BASE, off);
        switch (rnd(p, 5)) {
        case 0:
            emit(p, addi(rd, rd, imm), 4, "addi x%u,x%u,%d", rd, rd, imm);
            break;
        case 1:
            gen_mv(p, pick_rd(p));
            break;
        case 2:
            gen_li(p, pick_rd(p));
            break;
        case 3:
            emit(p, enc_i(imm, rd, 7, rd, 0x13), 4, "andi x%u,x%u,%d", rd, rd, imm);
            break;
        default:
            gen_branch_rr(p, rd, pick_rs(p));
            break;
        }
        break;
    }
    case 4: {
        unsigned rd2 = pick_rd(p);
        gen_store_at(p, 3, pick_rs(p), X_BASE, pick_mem_off(p, 8));
        emit(p, addi(rd2, rs, imm), 4, "addi x%u,x%u,%d", rd2, rs, imm);
        break;
    }
    case 5: case 6: {
        if (rnd(p, 2)) {
            emit(p, addi(rd, rs, imm | 1), 4, "addi x%u,x%u,%d", rd, rs, imm | 1);
        } else {
            gen_mv(p, rd);
        }
        if (rnd(p, 2)) {
            gen_mv(p, pick_rd(p));
        } else {
            gen_li(p, pick_rd(p));
        }
        break;
    }
    case 7:
        gen_li(p, rd);
        gen_li(p, pick_rd(p));
        break;
    case 8:
        gen_mv(p, rd);
        gen_load_at(p, 3, pick_rd(p), X_BASE, pick_mem_off(p, 8));
        break;
    case 9: case 10: {
        /* constant pairs: LUI or LI, then ADDI / ADDIW of the same register */
        bool w = rnd(p, 2);
        if (rnd(p, 2)) {
            uint32_t hi = g_rand_int(p->r) & 0xfffff;
            emit(p, hi << 12 | rd << 7 | 0x37, 4, "lui x%u,0x%x", rd, hi);
        } else {
            gen_li(p, rd);
        }
        emit(p, enc_i(imm, rd, 0, rd, w ? 0x1b : 0x13), 4, "%s x%u,x%u,%d",
             w ? "addiw" : "addi", rd, rd, imm);
        break;
    }
    case 11: {
        int32_t off = pick_mem_off(p, 8) & ~7;
        gen_store_at(p, 3, pick_rs(p), X_BASE, off);
        gen_store_at(p, 3, pick_rs(p), X_BASE, off + (off < 0 ? 8 : -8));
        emit(p, addi(rd, rs, imm), 4, "addi x%u,x%u,%d", rd, rs, imm);
        break;
    }
    default:
        gen_mv(p, rd);
        gen_mv(p, pick_rd(p));
        break;
    }
}

/* An access at X_BASE + off that moves by X_DELTA from some hot iteration on (the counter
 * below K, or equal to it): t = -(cond) & X_DELTA; t += X_BASE; access off(t). */
static void gen_gadget(Prog *p)
{
    unsigned t = pick_rd_nz(p);
    int k = rnd_range(p, 1, ITERS - RISCV_JIT_HOT - 4);
    if (rnd(p, 2)) {
        emit(p, sltiu(t, X_COUNT, k), 4, "sltiu x%u,x%u,%d", t, X_COUNT, k);
    } else {
        emit(p, addi(t, X_COUNT, -k), 4, "addi x%u,x%u,%d", t, X_COUNT, -k);
        emit(p, sltiu(t, t, 1), 4, "sltiu x%u,x%u,1", t, t);
    }
    emit(p, sub(t, ZERO, t), 4, "sub x%u,x0,x%u", t, t);
    emit(p, and_(t, t, X_DELTA), 4, "and x%u,x%u,x%u", t, t, X_DELTA);
    emit(p, add(t, t, X_BASE), 4, "add x%u,x%u,x%u", t, t, X_BASE);
    int32_t off = rnd_range(p, -64, 64);
    if (rnd(p, 2)) {
        unsigned k2 = (unsigned)rnd(p, G_N_ELEMENTS(loads));
        gen_load_at(p, k2, pick_rd(p), t, off);
    } else {
        gen_store_at(p, (unsigned)rnd(p, 4), pick_rs(p), t, off);
    }
}

static uint64_t delta_value(Prog *p)
{
    switch (p->delta_kind) {
    case DELTA_FAULT_HIGH:
        return 1ull << 40;
    case DELTA_FAULT_LOW:
        return 0x100 - DATA_PTR;
    case DELTA_MISALIGN:
        return (uint64_t)rnd_range(p, 1, 8);
    case DELTA_PAGE:
        return 0x3000;
    case DELTA_CODE:
        return CODE_SCRATCH - DATA_PTR;
    case DELTA_RAM_END:
        return RAM_END - 4 - DATA_PTR;
    case DELTA_MMIO:
        return MMIO_BASE + 0x800 - DATA_PTR;
    default:
        return 0;
    }
}

static void gen_prog(Prog *p)
{
    unsigned want = (unsigned)rnd_range(p, 20, 61);
    unsigned gadgets = 0;
    p->n = 0;
    p->delta_kind = (unsigned)rnd(p, DELTA_COUNT);
    while (p->n < want) {
        int k = rnd(p, 100);
        if (k < 26) {
            gen_rr(p, &alu_rr[rnd(p, G_N_ELEMENTS(alu_rr))]);
        } else if (k < 46) {
            gen_ri(p);
        } else if (k < 50) {
            gen_upper(p);
        } else if (k < 54) {
            if (rnd(p, 2)) {
                gen_li(p, pick_rd(p));
            } else {
                gen_mv(p, pick_rd(p));
            }
        } else if (k < 65) {
            gen_load(p);
        } else if (k < 73) {
            gen_store(p);
        } else if (k < 78) {
            gen_branch(p);
        } else if (k < 84) {
            gen_pair(p);
        } else if (k < 90) {
            gen_compressed(p);
        } else if (k < 92) {
            gen_rr(p, &alu_other[rnd(p, G_N_ELEMENTS(alu_other))]);
        } else if (k < 94) {
            gen_mem_run(p);
        } else if (k < 96) {
            /* empties the TLB: the loads and stores after it miss in host code */
            emit(p, SFENCE_VMA, 4, "sfence.vma");
        } else if (gadgets < 2) {
            gen_gadget(p);
            gadgets++;
        }
    }
    p->nbody = p->n;
    emit(p, addi(X_COUNT, X_COUNT, -1), 4, "addi x31,x31,-1");
    Insn *back = emit(p, bne(X_COUNT, ZERO, 0), 4, "bne x31,x0,loop");
    back->branch = true;
    back->loop_back = true;
    emit(p, WFI, 4, "wfi");

    for (int i = 1; i < 32; i++) {
        p->x[i] = pick_value(p->r);
    }
    p->x[X_DELTA] = delta_value(p);
    p->x[X_BASE] = DATA_PTR;
    p->x[X_COUNT] = ITERS;
}

/* Writes the program (branch offsets resolved), the trap vector and random data. */
static void assemble(Prog *p, uint8_t *image)
{
    unsigned off[MAX_INSNS + 1];
    off[0] = 0;
    for (unsigned i = 0; i < p->n; i++) {
        off[i + 1] = off[i] + p->insn[i].len;
    }
    g_assert_cmpuint(off[p->n], <=, MAX_CODE);
    memset(image, 0, RAM_SIZE);
    for (unsigned i = 0; i < p->n; i++) {
        Insn *in = &p->insn[i];
        if (in->branch) {
            unsigned target = in->loop_back ? 0 : MIN(i + 1 + in->skip, p->nbody);
            in->bits |= enc_b_off((int32_t)off[target] - (int32_t)off[i]);
        }
        memcpy(image + off[i], &in->bits, in->len);
    }
    uint32_t wfi = WFI;
    memcpy(image + (TRAP_VEC - RAM_BASE), &wfi, 4);
    for (uint64_t a = CODE_SCRATCH - 0x80; a < CODE_SCRATCH + 0x80; a++) {
        image[a - RAM_BASE] = (uint8_t)g_rand_int(p->r);
    }
    for (uint64_t a = DATA_LO; a < DATA_HI; a++) {
        image[a - RAM_BASE] = (uint8_t)g_rand_int(p->r);
    }
    for (uint64_t a = RAM_END - 0x100; a < RAM_END; a++) {
        image[a - RAM_BASE] = (uint8_t)g_rand_int(p->r);
    }
}

static void print_prog(const Prog *p, guint32 seed)
{
    uint64_t pc = RAM_BASE;
    g_printerr("program (seed %" G_GUINT32_FORMAT ", gadget delta %s = 0x%" PRIx64 "):\n",
               seed, delta_names[p->delta_kind], p->x[X_DELTA]);
    for (unsigned i = 0; i < p->n; i++) {
        const Insn *in = &p->insn[i];
        g_printerr("  %" PRIx64 ":  %0*x  %s%s\n", pc, in->len * 2, in->bits, in->text,
                   i == 0 ? "    <- loop" : "");
        pc += in->len;
    }
    g_printerr("initial registers:\n");
    for (int i = 0; i < 32; i++) {
        g_printerr("  x%-2d 0x%016" PRIx64 "%s", i, p->x[i], i % 4 == 3 ? "\n" : "");
    }
}

static guint32 base_seed(void)
{
    const char *s = getenv("VESSEL_JIT_SEED");
    return s && *s ? (guint32)strtoul(s, NULL, 0) : 20261122u;
}

/* NPROGS random programs, each run interpreted and with host code; program i uses seed
 * base + i (VESSEL_JIT_SEED=base+i makes it the first). */
static void test_random(void)
{
    if (!jit_usable()) {
        return;
    }
    guint32 seed0 = base_seed();
    g_test_message("seed %" G_GUINT32_FORMAT " (override with VESSEL_JIT_SEED)", seed0);
    uint8_t *image = g_malloc(RAM_SIZE);
    State a, b;
    state_init(&a);
    state_init(&b);
    unsigned compiled = 0, traps = 0, mmio = 0, failures = 0;
    for (unsigned i = 0; i < NPROGS; i++) {
        guint32 seed = seed0 + i;
        Prog p = { .r = g_rand_new_with_seed(seed) };
        gen_prog(&p);
        assemble(&p, image);
        run_image(image, p.x, false, &a);
        run_image(image, p.x, true, &b);
        g_assert_cmpuint(a.code_used, ==, 0);
        compiled += b.code_used > 0;
        traps += a.mcause != 0;
        mmio += a.dev.reads + a.dev.writes > 0;
        char *diff = state_diff(&a, &b);
        if (diff) {
            if (failures++ < 3) {
                g_printerr("\nJIT differs from the interpreter, program %u:\n%s", i, diff);
                print_prog(&p, seed);
            }
            g_free(diff);
        }
        g_rand_free(p.r);
    }
    g_test_message("%u programs: %u compiled to host code, %u trapped, %u touched the device",
                   NPROGS, compiled, traps, mmio);
    g_assert_cmpuint(failures, ==, 0);
    /* not vacuous: nearly every program got host code, and the gadgets fired */
    g_assert_cmpuint(compiled, >=, NPROGS * 9 / 10);
    g_assert_cmpuint(traps, >, 0);
    g_assert_cmpuint(mmio, >, 0);
    state_destroy(&a);
    state_destroy(&b);
    g_free(image);
    cache->jit = true;
}

/* ---- targeted cases ---- */

typedef struct Case {
    uint8_t *image;
    uint64_t x[32];
    State interp, jit;
} Case;

static void case_init(Case *c, const uint32_t *words, size_t n)
{
    memset(c, 0, sizeof(*c));
    c->image = g_malloc0(RAM_SIZE);
    memcpy(c->image, words, n * sizeof(uint32_t));
    uint32_t wfi = WFI;
    memcpy(c->image + (TRAP_VEC - RAM_BASE), &wfi, 4);
    c->x[X_BASE] = DATA_PTR;
    c->x[X_COUNT] = ITERS;
    state_init(&c->interp);
    state_init(&c->jit);
}

/* Runs the case both ways; the two must agree and the JIT must have made host code. */
static void case_run(Case *c)
{
    run_image(c->image, c->x, false, &c->interp);
    run_image(c->image, c->x, true, &c->jit);
    cache->jit = true;
    char *diff = state_diff(&c->interp, &c->jit);
    if (diff) {
        g_printerr("JIT differs from the interpreter:\n%s", diff);
    }
    g_assert_null(diff);
    g_assert_cmpuint(c->jit.code_used, >, 0);
}

static void case_destroy(Case *c)
{
    state_destroy(&c->interp);
    state_destroy(&c->jit);
    g_free(c->image);
}

static void put64(uint8_t *image, uint64_t addr, uint64_t v)
{
    memcpy(image + (addr - RAM_BASE), &v, 8);
}

static void put32(uint8_t *image, uint64_t addr, uint32_t v)
{
    memcpy(image + (addr - RAM_BASE), &v, 4);
}

/* (a) loads that miss the TLB in host code and then hit: with SFENCE.VMA every trip the first
 * load of the run misses and the second hits; without it the third load's page changes
 * once the loop is hot (counter below 50). */
static void test_tlb_miss(void)
{
    if (!jit_usable()) {
        return;
    }
    for (int fence = 0; fence < 2; fence++) {
        const uint32_t prog[] = {
            fence ? SFENCE_VMA : addi(ZERO, ZERO, 0),
            lw(A1, X_BASE, 0),                /* miss (after the fence) */
            add(A2, A2, A1),
            lw(A3, X_BASE, 4),                /* same page: hit */
            add(A2, A2, A3),
            sltiu(T0, X_COUNT, 50),
            sub(T0, ZERO, T0),
            and_(T0, T0, X_DELTA),
            add(T0, T0, X_BASE),
            ld(A4, T0, 8),                    /* other page from trip 51 on */
            add(A5, A5, A4),
            ld(A6, T0, 16),                   /* hits after that miss */
            add(A7, A7, A6),
            addi(X_COUNT, X_COUNT, -1),
            bne(X_COUNT, ZERO, -14 * 4),
            WFI,
        };
        Case c;
        case_init(&c, prog, G_N_ELEMENTS(prog));
        c.x[X_DELTA] = 0x1000;
        put32(c.image, DATA_PTR, 0x80000001u);
        put32(c.image, DATA_PTR + 4, 5);
        put64(c.image, DATA_PTR + 8, 0x0123456789abcdefull);
        put64(c.image, DATA_PTR + 16, 3);
        put64(c.image, DATA_PTR + 0x1008, 0xfedcba9876543210ull);
        put64(c.image, DATA_PTR + 0x1010, 7);
        case_run(&c);
        uint64_t a2 = 0, a5 = 0, a7 = 0;
        for (uint64_t cnt = ITERS; cnt > 0; cnt--) {
            a2 += 0xffffffff80000001ull + 5;
            a5 += cnt < 50 ? 0xfedcba9876543210ull : 0x0123456789abcdefull;
            a7 += cnt < 50 ? 7 : 3;
        }
        g_assert_cmphex(c.jit.x[A2], ==, a2);
        g_assert_cmphex(c.jit.x[A5], ==, a5);
        g_assert_cmphex(c.jit.x[A7], ==, a7);
        g_assert_cmphex(c.jit.mcause, ==, 0);
        g_assert_cmphex(c.jit.pc, ==, RAM_BASE + sizeof(prog));
        case_destroy(&c);
    }
}

/* (b) a load or store that faults in the middle of a hot run (from trip 61 on its address
 * leaves RAM): mepc is its pc, the run's earlier results are visible, its later ones not.
 * In the last two the access stays on a page already in the TLB but now crosses the end of
 * RAM, which the inline TLB check must not let through. */
static void test_fault_mid_run(void)
{
    if (!jit_usable()) {
        return;
    }
    static const struct { uint64_t base, delta; bool store; uint64_t cause; } v[] = {
        { DATA_PTR, 1ull << 40, false, EXC_LOAD_ACCESS },
        { DATA_PTR, 1ull << 40, true, EXC_STORE_ACCESS },
        { DATA_PTR, 0x100 - DATA_PTR, false, EXC_LOAD_ACCESS },
        { DATA_PTR, RAM_END - 4 - DATA_PTR, false, EXC_LOAD_ACCESS },
        { DATA_PTR, RAM_END - 4 - DATA_PTR, true, EXC_STORE_ACCESS },
        { RAM_END - 24, 20, false, EXC_LOAD_ACCESS },
        { RAM_END - 24, 20, true, EXC_STORE_ACCESS },
    };
    for (size_t k = 0; k < G_N_ELEMENTS(v); k++) {
        const uint32_t prog[] = {
            addi(A0, A0, 1),
            addi(A1, A1, 3),
            sltiu(T0, X_COUNT, 40),
            sub(T0, ZERO, T0),
            and_(T0, T0, X_DELTA),
            add(T0, T0, X_BASE),
            v[k].store ? sd(A0, T0, 0) : ld(A2, T0, 0),    /* index 6 */
            addi(A3, A3, 1),
            sd(A3, X_BASE, 8),
            addi(A4, A4, 1),
            addi(X_COUNT, X_COUNT, -1),
            bne(X_COUNT, ZERO, -11 * 4),
            WFI,
        };
        Case c;
        case_init(&c, prog, G_N_ELEMENTS(prog));
        c.x[X_BASE] = v[k].base;
        c.x[X_DELTA] = v[k].delta;
        c.x[A2] = 0x5555;
        put64(c.image, v[k].base, 0x1122334455667788ull);
        case_run(&c);
        /* trips 0..60 complete; trip 61 (counter 39) faults */
        const State *s = &c.jit;
        g_assert_cmphex(s->mcause, ==, v[k].cause);
        g_assert_cmphex(s->mepc, ==, RAM_BASE + 6 * 4);
        g_assert_cmphex(s->pc, ==, TRAP_VEC + 4);
        g_assert_cmphex(s->x[A0], ==, 62);
        g_assert_cmphex(s->x[A1], ==, 62 * 3);
        g_assert_cmphex(s->x[A3], ==, 61);
        g_assert_cmphex(s->x[A4], ==, 61);
        g_assert_cmphex(s->x[X_COUNT], ==, 39);
        g_assert_cmphex(s->x[A2], ==, v[k].store ? 0x5555 : 0x1122334455667788ull);
        uint64_t m;
        memcpy(&m, s->ram + (v[k].base + 8 - RAM_BASE), 8);
        g_assert_cmphex(m, ==, 61);
        memcpy(&m, s->ram + (v[k].base - RAM_BASE), 8);
        g_assert_cmphex(m, ==, v[k].store ? 61 : 0x1122334455667788ull);
        if (v[k].delta == 1ull << 40) {
            g_assert_cmphex(s->mtval, ==, DATA_PTR + v[k].delta);
        }
        case_destroy(&c);
    }
}

/* (c) a hot loop that rewrites the immediate of one of its own instructions once (counter 50),
 * after the store in the same trip or before it (taking effect on the next trip). */
static void test_self_modifying(void)
{
    if (!jit_usable()) {
        return;
    }
    for (int after = 0; after < 2; after++) {
        const uint32_t patched = addi(A1, A1, 7);
        const uint32_t gadget[] = {
            addi(T0, X_COUNT, -50),
            sltiu(T0, T0, 1),
            sub(T0, ZERO, T0),
            and_(T0, T0, X_DELTA),
            add(T0, T0, X_BASE),
            sw(T2, T0, 0),                   /* the code when the counter is 50 */
            addi(A2, A2, 1),
        };
        uint32_t prog[16];
        unsigned n = 0, target = 0;
        prog[n++] = addi(A0, A0, 1);
        if (!after) {
            target = n;
            prog[n++] = addi(A1, A1, 1);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(gadget); i++) {
            prog[n++] = gadget[i];
        }
        if (after) {
            target = n;
            prog[n++] = addi(A1, A1, 1);
        }
        prog[n++] = addi(A3, A3, 1);
        prog[n++] = addi(X_COUNT, X_COUNT, -1);
        prog[n] = bne(X_COUNT, ZERO, -(int32_t)n * 4);
        n++;
        prog[n++] = WFI;
        Case c;
        case_init(&c, prog, n);
        c.x[X_DELTA] = RAM_BASE + 4 * target - DATA_PTR;
        c.x[T2] = patched;
        case_run(&c);
        /* trips run with the counter at 100..1; the one at 50 is trip 50 */
        g_assert_cmphex(c.jit.x[A1], ==, after ? 50 * 1 + 50 * 7 : 51 * 1 + 49 * 7);
        g_assert_cmphex(c.jit.x[A0], ==, ITERS);
        g_assert_cmphex(c.jit.x[A3], ==, ITERS);
        g_assert_cmphex(c.jit.mcause, ==, 0);
        uint32_t w;
        memcpy(&w, c.jit.ram + 4 * target, 4);
        g_assert_cmphex(w, ==, patched);
        case_destroy(&c);
    }
}

/* (d) MMIO loads and stores inside a hot run go to the device, in order. */
static void test_mmio(void)
{
    if (!jit_usable()) {
        return;
    }
    const uint32_t prog[] = {
        addi(A0, A0, 1),
        lw(A1, S2, 0x10),
        add(A2, A2, A1),
        sw(A0, S2, 0x20),
        lbu(A3, S2, 0x31),
        add(A4, A4, A3),
        ld(A5, X_BASE, 0),
        add(A6, A6, A5),
        addi(X_COUNT, X_COUNT, -1),
        bne(X_COUNT, ZERO, -9 * 4),
        WFI,
    };
    Case c;
    case_init(&c, prog, G_N_ELEMENTS(prog));
    c.x[S2] = MMIO_BASE;
    put64(c.image, DATA_PTR, 11);
    case_run(&c);
    uint64_t a2 = 0, a4 = 0;
    for (uint64_t i = 0; i < ITERS; i++) {
        a2 += (uint64_t)(int64_t)(int32_t)dev_value(0x10, 2 * i, 4);
        a4 += dev_value(0x31, 2 * i + 1, 1);
    }
    const State *s = &c.jit;
    g_assert_cmphex(s->mcause, ==, 0);
    g_assert_cmpuint(s->dev.reads, ==, 2 * ITERS);
    g_assert_cmpuint(s->dev.writes, ==, ITERS);
    g_assert_cmphex(s->dev.last, ==, ITERS);
    g_assert_cmphex(s->x[A2], ==, a2);
    g_assert_cmphex(s->x[A4], ==, a4);
    g_assert_cmphex(s->x[A6], ==, 11 * ITERS);
    case_destroy(&c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_system_init();
    MemoryRegion *mr = g_new0(MemoryRegion, 1);
    g_assert_true(memory_region_init_ram(mr, "ram", RAM_SIZE, NULL));
    memory_region_add_subregion(system_memory, RAM_BASE, mr);
    ram = mr->ram;
    MemoryRegion *io = g_new0(MemoryRegion, 1);
    memory_region_init_io(io, "testdev", &dev_ops, NULL, MMIO_SIZE);
    memory_region_add_subregion(system_memory, MMIO_BASE, io);
    cs = riscv_cpu_create(NULL, 0, RAM_BASE, NULL);
    g_assert_nonnull(cs);
    env = riscv_env(cs);
    const AccelOps *tcg = accel_find("tcg");
    g_assert_nonnull(tcg);
    g_assert_true(tcg->vcpu_init(cs, NULL));
    cache = &tcg_vcpu(cs)->cache;

    g_test_add_func("/riscv-jit/random", test_random);
    g_test_add_func("/riscv-jit/tlb-miss", test_tlb_miss);
    g_test_add_func("/riscv-jit/fault-mid-run", test_fault_mid_run);
    g_test_add_func("/riscv-jit/self-modifying", test_self_modifying);
    g_test_add_func("/riscv-jit/mmio", test_mmio);
    return g_test_run();
}
