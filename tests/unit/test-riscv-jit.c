/* RISC-V JIT back end against the interpreter: random looping programs (straight-line bodies,
 * and bodies calling functions, through which host code chains) and targeted cases run once
 * with host code off and once with it on, from identical state, and must end with the same
 * registers, pc, trap CSRs, instret, RAM and device state; some also run while another thread
 * sets exit_request. Programs run from RAM at 0x80000000 in M-mode; traps land on a WFI at
 * TRAP_VEC, which halts. */
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
#define NKICKED 50                          /* programs also run with exit_request kicks */

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
    bool expired;                /* stopped after RUN_TIMEOUT seconds without halting */
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

/* SIGALRM: a run that did not halt in time is stopped (expired), unless alarm_fatal. */
#define RUN_TIMEOUT 5
static volatile sig_atomic_t run_expired;
static volatile sig_atomic_t alarm_fatal;

static void on_alarm(int sig)
{
    static const char msg[] = "test-riscv-jit: timed out: a hot loop did not stop on "
                              "exit_request\n";
    if (alarm_fatal) {
        ssize_t r = write(2, msg, sizeof(msg) - 1);
        (void)r;
        _exit(1);
    }
    run_expired = 1;
    __atomic_store_n(&cs->exit_request, 1, __ATOMIC_RELEASE);
}

/* While kicking, run_image clears exit_request each time it stops the hart and goes on
 * (another thread sets it); kicks counts those stops. */
static bool kicking;
static unsigned kicks;

/* Resets the hart to run image (RAM contents) from RAM_BASE with registers regs, with host
 * code for hot blocks when jit. */
static void load_image(const uint8_t *image, const uint64_t *regs, bool jit)
{
    memcpy(ram, image, RAM_SIZE);
    cs->ops->reset(cs);
    cache->jit = jit;
    env->mtvec = TRAP_VEC;
    memcpy(env->x, regs, 32 * sizeof(uint64_t));
    env->x[0] = 0;
    memset(&dev, 0, sizeof(dev));
    __atomic_store_n(&cs->exit_request, 0, __ATOMIC_RELEASE);
}

/* Runs image from RAM_BASE with registers regs until the hart halts in WFI, or for at most
 * RUN_TIMEOUT seconds (see load_image). */
static void run_image(const uint8_t *image, const uint64_t *regs, bool jit, State *st)
{
    load_image(image, regs, jit);
    run_expired = 0;
    alarm(RUN_TIMEOUT);
    for (int i = 0;; i++) {
        int r = cs->ops->tcg_exec(cs);
        if (r == ACCEL_EXIT_HALTED) {
            break;
        }
        g_assert_cmpint(r, ==, ACCEL_EXIT_KICKED);
        if (run_expired) {
            break;
        }
        if (kicking) {
            kicks++;
            __atomic_store_n(&cs->exit_request, 0, __ATOMIC_RELEASE);
            continue;
        }
        g_assert_cmpint(i, <, 1000);
    }
    alarm(0);
    st->expired = run_expired;
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
    if (a->expired || b->expired) {
        g_string_append_printf(s, "  did not halt within %d s:%s%s\n", RUN_TIMEOUT,
                               a->expired ? " interpreter" : "", b->expired ? " jit" : "");
    }
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

/* Sets exit_request every few microseconds until *stop. */
static gpointer kicker_thread(gpointer opaque)
{
    const int *stop = opaque;
    while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
        g_usleep(20);
        __atomic_store_n(&cs->exit_request, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* Runs image with host code while another thread keeps setting exit_request (the hart stops
 * at block exits and goes on): what differs from the end state want, NULL when nothing. */
static char *run_kicked(const uint8_t *image, const uint64_t *regs, const State *want,
                        State *st)
{
    int stop = 0;
    GThread *t = g_thread_new("kicker", kicker_thread, &stop);
    kicking = true;
    run_image(image, regs, true, st);
    kicking = false;
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    g_thread_join(t);
    char *diff = state_diff(want, st);
    if (!diff) {
        return NULL;
    }
    char *s = g_strdup_printf("  (with exit_request set now and then)\n%s", diff);
    g_free(diff);
    return s;
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
 * base + i (VESSEL_JIT_SEED=base+i makes it the first). The first NKICKED run with host code
 * a third time with exit_request set now and then (run_kicked). */
static void test_random(void)
{
    if (!jit_usable()) {
        return;
    }
    guint32 seed0 = base_seed();
    g_test_message("seed %" G_GUINT32_FORMAT " (override with VESSEL_JIT_SEED)", seed0);
    uint8_t *image = g_malloc(RAM_SIZE);
    State a, b, k;
    state_init(&a);
    state_init(&b);
    state_init(&k);
    unsigned compiled = 0, traps = 0, mmio = 0, failures = 0;
    kicks = 0;
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
        if (!diff && i < NKICKED) {
            diff = run_kicked(image, p.x, &a, &k);
        }
        bool bad = diff != NULL;
        if (diff) {
            g_printerr("\nJIT differs from the interpreter, program %u:\n%s", i, diff);
            print_prog(&p, seed);
            g_free(diff);
        }
        g_rand_free(p.r);
        if (bad && ++failures == 3) {
            break;                 /* enough to go on with (and runs that hang take long) */
        }
    }
    g_test_message("%u programs: %u compiled to host code, %u trapped, %u touched the device; "
                   "%u stops on exit_request", NPROGS, compiled, traps, mmio, kicks);
    g_assert_cmpuint(failures, ==, 0);
    /* not vacuous: nearly every program got host code, and the gadgets fired */
    g_assert_cmpuint(compiled, >=, NPROGS * 9 / 10);
    g_assert_cmpuint(traps, >, 0);
    g_assert_cmpuint(mmio, >, 0);
    state_destroy(&a);
    state_destroy(&b);
    state_destroy(&k);
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

/* ---- programs with calls, returns and indirect jumps (assembled with labels) ---- */

#define ASM_LINES 3072
#define ASM_LABELS 256
#define FUNC_BASE 0x900u             /* functions start after the trap vector */
#define MAIN_MAX 0x600u              /* main loops end before this offset */
#define NCALLPROGS 150

/* What a line's label resolves to in its bits. */
enum { FIX_NONE, FIX_B, FIX_J, FIX_HI, FIX_LO };

typedef struct Line {
    uint32_t off;                    /* from RAM_BASE */
    uint32_t bits;
    uint8_t len;                     /* 2 or 4 */
    uint8_t fix;                     /* FIX_LO: relative to the line before (its AUIPC) */
    uint16_t label;
    int32_t addend;                  /* added to the label's address */
    char text[44];
} Line;

typedef struct Asm {
    GRand *r;
    uint32_t pc;                     /* offset of the next line */
    Line line[ASM_LINES];
    unsigned nlines;
    uint32_t label[ASM_LABELS];      /* offsets (UINT32_MAX until bound) */
    unsigned nlabels;
    uint64_t x[32];                  /* initial registers */
} Asm;

static Asm *asm_new(guint32 seed)
{
    Asm *a = g_new0(Asm, 1);
    a->r = g_rand_new_with_seed(seed);
    return a;
}

static void asm_free(Asm *a)
{
    g_rand_free(a->r);
    g_free(a);
}

static int arnd(Asm *a, int n)
{
    return g_rand_int_range(a->r, 0, n);
}

static int arnd_range(Asm *a, int lo, int hi)
{
    return g_rand_int_range(a->r, lo, hi);
}

static unsigned asm_label(Asm *a)
{
    g_assert_cmpuint(a->nlabels, <, ASM_LABELS);
    a->label[a->nlabels] = UINT32_MAX;
    return a->nlabels++;
}

static void asm_bind(Asm *a, unsigned l)
{
    a->label[l] = a->pc;
}

static uint64_t asm_addr(const Asm *a, unsigned l)
{
    g_assert_cmpuint(a->label[l], !=, UINT32_MAX);
    return RAM_BASE + a->label[l];
}

static Line *asm_put(Asm *a, uint32_t bits, unsigned len, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static Line *asm_put(Asm *a, uint32_t bits, unsigned len, const char *fmt, ...)
{
    g_assert_cmpuint(a->nlines, <, ASM_LINES);
    Line *ln = &a->line[a->nlines++];
    memset(ln, 0, sizeof(*ln));
    ln->off = a->pc;
    ln->bits = bits;
    ln->len = (uint8_t)len;
    va_list ap;
    va_start(ap, fmt);
    g_vsnprintf(ln->text, sizeof(ln->text), fmt, ap);
    va_end(ap);
    a->pc += len;
    return ln;
}

static void asm_c(Asm *a, uint16_t c, uint32_t w, const char *text)
{
    g_assert_cmphex(riscv_rvc_expand(c), ==, w);
    asm_put(a, c, 2, "%s", text);
}

static uint32_t enc_j_off(int32_t off)
{
    uint32_t u = (uint32_t)off;
    return (u >> 20 & 1) << 31 | (u >> 1 & 0x3ff) << 21 | (u >> 11 & 1) << 20 |
           (u >> 12 & 0xff) << 12;
}

static uint32_t jal(unsigned rd, int32_t off)
{
    return enc_j_off(off) | rd << 7 | 0x6f;
}

static uint32_t jalr(unsigned rd, unsigned rs1, int32_t imm)
{
    return enc_i(imm, rs1, 0, rd, 0x67);
}

static uint32_t auipc(unsigned rd, uint32_t imm20)
{
    return imm20 << 12 | rd << 7 | 0x17;
}

static const char *const b_names[8] = { "beq", "bne", "?", "?", "blt", "bge", "bltu", "bgeu" };

static void asm_b(Asm *a, unsigned f3, unsigned rs1, unsigned rs2, unsigned l)
{
    Line *ln = asm_put(a, enc_b(0, rs2, rs1, f3), 4, "%s x%u,x%u,L%u", b_names[f3], rs1, rs2, l);
    ln->fix = FIX_B;
    ln->label = (uint16_t)l;
}

static void asm_jal(Asm *a, unsigned rd, unsigned l)
{
    Line *ln = asm_put(a, jal(rd, 0), 4, "jal x%u,L%u", rd, l);
    ln->fix = FIX_J;
    ln->label = (uint16_t)l;
}

/* auipc rd; then the I-type op lo (ADDI or JALR, rs1 = rd) completing rd + label + addend. */
static void asm_pcrel(Asm *a, unsigned rd, unsigned l, int32_t addend, uint32_t lo,
                      const char *lo_name)
{
    Line *hi = asm_put(a, auipc(rd, 0), 4, "auipc x%u,%%hi(L%u%+d)", rd, l, addend);
    hi->fix = FIX_HI;
    hi->label = (uint16_t)l;
    hi->addend = addend;
    Line *ln = asm_put(a, lo, 4, "%s x%u,%%lo(L%u%+d)(x%u)", lo_name, (lo >> 7) & 31, l,
                       addend, rd);
    ln->fix = FIX_LO;
    ln->label = (uint16_t)l;
    ln->addend = addend;
}

/* rd = address of label l plus addend */
static void asm_la(Asm *a, unsigned rd, unsigned l, int32_t addend)
{
    asm_pcrel(a, rd, l, addend, addi(rd, rd, 0), "addi");
}

/* Resolves the labels and writes the lines into image (zeroed, with the trap vector). */
static void asm_finish(Asm *a, uint8_t *image)
{
    memset(image, 0, RAM_SIZE);
    uint32_t wfi = WFI;
    memcpy(image + (TRAP_VEC - RAM_BASE), &wfi, 4);
    for (unsigned i = 0; i < a->nlines; i++) {
        Line *ln = &a->line[i];
        g_assert_true(ln->off + ln->len <= MAX_CODE || ln->off >= TRAP_VEC + 4 - RAM_BASE);
        g_assert_cmpuint(ln->off + ln->len, <=, DATA_LO - RAM_BASE);
        if (ln->fix != FIX_NONE) {
            uint32_t t = a->label[ln->label];
            g_assert_cmpuint(t, !=, UINT32_MAX);
            int64_t d = (int64_t)t + ln->addend - (ln->fix == FIX_LO ? ln[-1].off : ln->off);
            int32_t hi = (int32_t)((d + 0x800) >> 12);
            switch (ln->fix) {
            case FIX_B:
                g_assert_true(d >= -4096 && d < 4096);
                ln->bits |= enc_b_off((int32_t)d);
                break;
            case FIX_J:
                g_assert_true(d >= -(1 << 20) && d < (1 << 20));
                ln->bits |= enc_j_off((int32_t)d);
                break;
            case FIX_HI:
                ln->bits |= (uint32_t)hi << 12;
                break;
            default:
                ln->bits |= ((uint32_t)(d - ((int64_t)hi << 12)) & 0xfff) << 20;
                break;
            }
        }
        memcpy(image + ln->off, &ln->bits, ln->len);
    }
}

static void asm_print(const Asm *a, const char *title)
{
    g_printerr("%s:\n", title);
    for (unsigned i = 0; i < a->nlines; i++) {
        const Line *ln = &a->line[i];
        for (unsigned l = 0; l < a->nlabels; l++) {
            if (a->label[l] == ln->off) {
                g_printerr("L%u:\n", l);
            }
        }
        if (i && ln->off != ln[-1].off + ln[-1].len) {
            g_printerr("  ...\n");
        }
        g_printerr("  %" PRIx64 ":  %0*x  %s\n", (uint64_t)(RAM_BASE + ln->off), ln->len * 2,
                   ln->bits, ln->text);
    }
    g_printerr("initial registers:\n");
    for (int i = 0; i < 32; i++) {
        g_printerr("  x%-2d 0x%016" PRIx64 "%s", i, a->x[i], i % 4 == 3 ? "\n" : "");
    }
}

/* Register roles in programs with calls: random ops write x0 and x2..x25 only. */
#define CALL_RD_MAX S9
#define X_FA S10              /* alternating indirect calls: the first target's base, */
#define X_FX S11              /* and the first base xor the second one */
#define X_INNER T3            /* inner loop counter */
#define X_TGT T4              /* computed jump targets */

static unsigned call_rd(Asm *a)
{
    return arnd(a, 20) == 0 ? ZERO : (unsigned)arnd_range(a, SP, CALL_RD_MAX + 1);
}

/* One random ALU op, load or store on X_BASE. */
static void asm_random_op(Asm *a)
{
    static const struct { const char *name; uint8_t f3, opc, shift; } ri[] = {
        { "addi", 0, 0x13, 0 }, { "xori", 4, 0x13, 0 }, { "ori", 6, 0x13, 0 },
        { "andi", 7, 0x13, 0 }, { "slti", 2, 0x13, 0 }, { "sltiu", 3, 0x13, 0 },
        { "slli", 1, 0x13, 64 }, { "srli", 5, 0x13, 64 }, { "addiw", 0, 0x1b, 0 },
    };
    unsigned rd = call_rd(a), rs1 = (unsigned)arnd(a, 32), rs2 = (unsigned)arnd(a, 32);
    int k = arnd(a, 20);
    if (k < 7) {
        const RInsn *t = &alu_rr[arnd(a, G_N_ELEMENTS(alu_rr))];
        asm_put(a, enc_r(t->f7, rs2, rs1, t->f3, rd, t->opc), 4, "%s x%u,x%u,x%u", t->name,
                rd, rs1, rs2);
    } else if (k < 13) {
        unsigned i = (unsigned)arnd(a, G_N_ELEMENTS(ri));
        int32_t imm = ri[i].shift ? arnd(a, ri[i].shift) : arnd_range(a, -2048, 2048);
        asm_put(a, enc_i(imm, rs1, ri[i].f3, rd, ri[i].opc), 4, "%s x%u,x%u,%d", ri[i].name,
                rd, rs1, imm);
    } else if (k < 14) {
        uint32_t imm20 = g_rand_int(a->r) & 0xfffff;
        asm_put(a, imm20 << 12 | rd << 7 | 0x37, 4, "lui x%u,0x%x", rd, imm20);
    } else if (k < 15) {
        const RInsn *t = &alu_other[arnd(a, G_N_ELEMENTS(alu_other))];
        asm_put(a, enc_r(t->f7, rs2, rs1, t->f3, rd, t->opc), 4, "%s x%u,x%u,x%u", t->name,
                rd, rs1, rs2);
    } else if (k < 18) {
        unsigned i = (unsigned)arnd(a, G_N_ELEMENTS(loads));
        int32_t off = arnd_range(a, -2048, 2040) & ~((1 << (loads[i].f3 & 3)) - 1);
        asm_put(a, enc_i(off, X_BASE, loads[i].f3, rd, 0x03), 4, "%s x%u,%d(x%u)",
                loads[i].name, rd, off, X_BASE);
    } else {
        unsigned f3 = (unsigned)arnd(a, 4);
        int32_t off = arnd_range(a, -2048, 2040) & ~((1 << f3) - 1);
        asm_put(a, enc_s(off, rs2, X_BASE, f3), 4, "%s x%u,%d(x%u)", stores[f3], rs2, off,
                X_BASE);
    }
}

/* A loop of 2..5 trips over a few random ops (a backward branch inside the body). */
static void asm_inner_loop(Asm *a)
{
    int trips = arnd_range(a, 2, 6);
    asm_put(a, addi(X_INNER, ZERO, trips), 4, "li x%u,%d", X_INNER, trips);
    unsigned l = asm_label(a);
    asm_bind(a, l);
    for (int n = arnd_range(a, 1, 5); n > 0; n--) {
        asm_random_op(a);
    }
    asm_put(a, addi(X_INNER, X_INNER, -1), 4, "addi x%u,x%u,-1", X_INNER, X_INNER);
    asm_b(a, 1, X_INNER, ZERO, l);
}

/* A conditional branch on random registers to label l. */
static void asm_random_branch(Asm *a, unsigned l)
{
    static const uint8_t f3s[] = { 0, 1, 4, 5, 6, 7 };
    unsigned rs1 = (unsigned)arnd(a, 32);
    unsigned rs2 = arnd(a, 3) == 0 ? ZERO : arnd(a, 4) == 0 ? rs1 : (unsigned)arnd(a, 32);
    asm_b(a, f3s[arnd(a, G_N_ELEMENTS(f3s))], rs1, rs2, l);
}

typedef struct CallProg {
    unsigned funcs[8];
    unsigned nfuncs;
    unsigned fa, fb;                 /* the alternating indirect call's targets */
    int32_t jimm;                    /* its JALR's offset */
    unsigned odd;                    /* 1: its targets are odd before JALR clears bit 0 */
    bool crosses;                    /* a function runs over a page boundary */
    bool faults;                     /* a late gadget ends the program with a fault */
    unsigned loop;                   /* the hot loop's label */
} CallProg;

/* The first instruction of the loop and of every function: an ADDI whose immediate late
 * gadgets rewrite. */
static void asm_patchable(Asm *a)
{
    unsigned rd = (unsigned)arnd_range(a, SP, CALL_RD_MAX + 1);
    int32_t imm = arnd_range(a, -2048, 2048);
    asm_put(a, addi(rd, rd, imm), 4, "addi x%u,x%u,%d", rd, rd, imm);
}

/* A gadget that acts in one trip only (a random one, hot by then): a load or store to
 * unmapped memory (the access fault ends the program), or a store that flips bits of the
 * immediate of the loop's or a function's first instruction (asm_patchable), invalidating
 * the blocks of its page, running and chained ones among them. */
static void asm_late_gadget(Asm *a, CallProg *cp)
{
    int trip = arnd_range(a, 1, ITERS - RISCV_JIT_HOT - 8);
    if (arnd(a, 3) == 0) {
        asm_put(a, addi(X_TGT, X_COUNT, -trip), 4, "addi x%u,x31,-%d", X_TGT, trip);
        asm_put(a, sltiu(X_TGT, X_TGT, 1), 4, "seqz x%u,x%u", X_TGT, X_TGT);
        asm_put(a, slli(X_TGT, X_TGT, 40), 4, "slli x%u,x%u,40", X_TGT, X_TGT);
        asm_put(a, add(X_TGT, X_TGT, X_BASE), 4, "add x%u,x%u,x30", X_TGT, X_TGT);
        int32_t off = arnd_range(a, -64, 64) & ~7;
        if (arnd(a, 2)) {
            unsigned k = (unsigned)arnd(a, G_N_ELEMENTS(loads)), rd = call_rd(a);
            asm_put(a, enc_i(off, X_TGT, loads[k].f3, rd, 0x03), 4, "%s x%u,%d(x%u)",
                    loads[k].name, rd, off, X_TGT);
        } else {
            unsigned f3 = (unsigned)arnd(a, 4), rs2 = (unsigned)arnd(a, 32);
            asm_put(a, enc_s(off, rs2, X_TGT, f3), 4, "%s x%u,%d(x%u)", stores[f3], rs2, off,
                    X_TGT);
        }
        cp->faults = true;
        return;
    }
    unsigned skip = asm_label(a);
    unsigned target = arnd(a, 3) == 0 ? cp->loop : cp->funcs[arnd(a, (int)cp->nfuncs)];
    unsigned rv = (unsigned)arnd_range(a, SP, CALL_RD_MAX + 1);
    asm_put(a, addi(X_TGT, X_COUNT, -trip), 4, "addi x%u,x31,-%d", X_TGT, trip);
    asm_b(a, 1, X_TGT, ZERO, skip);
    asm_la(a, X_TGT, target, 0);
    asm_put(a, enc_i(2, X_TGT, 5, rv, 0x03), 4, "lhu x%u,2(x%u)", rv, X_TGT);
    asm_put(a, enc_i(0x7f0, rv, 4, rv, 0x13), 4, "xori x%u,x%u,0x7f0", rv, rv);
    asm_put(a, enc_s(2, rv, X_TGT, 1), 4, "sh x%u,2(x%u)", rv, X_TGT);
    asm_bind(a, skip);
}

/* A return to ra in one of its encodings (the odd offset is cleared by JALR). */
static void asm_ret(Asm *a)
{
    switch (arnd(a, 4)) {
    case 0:
        asm_c(a, 0x8082, jalr(ZERO, RA, 0), "c.jr x1");
        break;
    case 1:
        asm_put(a, jalr(ZERO, RA, 1), 4, "jalr x0,1(x1)");
        break;
    default:
        asm_put(a, jalr(ZERO, RA, 0), 4, "ret");
        break;
    }
}

/* Leaf function f of funcs[0..n): random ops, inner loops and forward branches, then a return
 * or a tail jump (direct or through a register) to a later function; long ones run over page
 * boundaries, with a 4-byte instruction across one now and then. True when f crosses a page
 * boundary. */
static bool asm_function(Asm *a, CallProg *cp, unsigned f, bool long_one)
{
    const unsigned *funcs = cp->funcs, n = cp->nfuncs;
    if (long_one || arnd(a, 3) == 0) {
        uint32_t before = long_one ? 4 * (uint32_t)arnd_range(a, 1, 200) + 2 * (uint32_t)arnd(a, 2)
                                   : 2 * (uint32_t)arnd_range(a, 1, 12);
        uint32_t page = (a->pc & ~0xfffu) + 0x1000;
        a->pc = page - before >= a->pc ? page - before : page + 0x1000 - before;
    }
    uint32_t start = a->pc;
    asm_bind(a, funcs[f]);
    asm_patchable(a);
    int items = long_one ? arnd_range(a, 300, 1100) : arnd_range(a, 1, 12);
    for (int i = 0; i < items; i++) {
        int k = arnd(a, 40);
        if (k < 2) {
            asm_c(a, 0x0001, addi(ZERO, ZERO, 0), "c.nop");
        } else if (k < 4 && !long_one) {
            asm_inner_loop(a);
        } else if (k < 5 && !long_one) {
            asm_late_gadget(a, cp);
        } else if (k < 6) {
            unsigned l = asm_label(a);
            asm_random_branch(a, l);
            for (int m = arnd_range(a, 1, 4); m > 0; m--) {
                asm_random_op(a);
            }
            asm_bind(a, l);
        } else {
            asm_random_op(a);
        }
    }
    int end = f + 1 < n ? arnd(a, 8) : 7;
    unsigned g = f + 1 < n ? (unsigned)arnd_range(a, (int)f + 1, (int)n) : 0;
    if (end == 0) {
        asm_jal(a, ZERO, funcs[g]);
    } else if (end == 1) {
        asm_la(a, X_TGT, funcs[g], 0);
        asm_put(a, jalr(ZERO, X_TGT, 0), 4, "jr x%u", X_TGT);
    } else {
        asm_ret(a);
    }
    return (start ^ (a->pc - 1)) >> 12 != 0;
}

/* One item of the hot loop's body (depth: nesting inside a forward branch's range). */
static void asm_loop_item(Asm *a, CallProg *cp, int depth)
{
    unsigned f = cp->funcs[arnd(a, (int)cp->nfuncs)];
    int k = arnd(a, 40);
    if (k < 12) {
        asm_random_op(a);
    } else if (k < 17) {
        if (arnd(a, 3) == 0) {         /* the decoder fuses mv + jal */
            unsigned rd = call_rd(a), rs = (unsigned)arnd(a, 32);
            asm_put(a, addi(rd, rs, 0), 4, "mv x%u,x%u", rd, rs);
        }
        asm_jal(a, RA, f);
    } else if (k < 19) {
        asm_pcrel(a, RA, f, 0, jalr(RA, RA, 0), "jalr");        /* call: rd == rs1 */
    } else if (k < 21) {
        asm_la(a, X_TGT, f, 0);
        if (arnd(a, 2)) {
            asm_c(a, (uint16_t)(0x9002 | X_TGT << 7), jalr(RA, X_TGT, 0), "c.jalr x29");
        } else {
            asm_put(a, jalr(RA, X_TGT, 0), 4, "jalr x1,0(x%u)", X_TGT);
        }
    } else if (k < 26) {
        /* X_TGT = the first target while counter & mask is 0, else the second */
        int mask = 1 << arnd(a, 3);
        asm_put(a, enc_i(mask, X_COUNT, 7, X_TGT, 0x13), 4, "andi x%u,x%u,%d", X_TGT, X_COUNT,
                mask);
        asm_put(a, enc_r(0, X_TGT, ZERO, 3, X_TGT, 0x33), 4, "snez x%u,x%u", X_TGT, X_TGT);
        asm_put(a, sub(X_TGT, ZERO, X_TGT), 4, "neg x%u,x%u", X_TGT, X_TGT);
        asm_put(a, and_(X_TGT, X_TGT, X_FX), 4, "and x%u,x%u,x%u", X_TGT, X_TGT, X_FX);
        asm_put(a, enc_r(0, X_FA, X_TGT, 4, X_TGT, 0x33), 4, "xor x%u,x%u,x%u", X_TGT, X_TGT,
                X_FA);
        if (cp->jimm == 0 && arnd(a, 2)) {
            asm_c(a, (uint16_t)(0x9002 | X_TGT << 7), jalr(RA, X_TGT, 0), "c.jalr x29");
        } else {
            asm_put(a, jalr(RA, X_TGT, cp->jimm), 4, "jalr x1,%d(x%u)", cp->jimm, X_TGT);
        }
    } else if (k < 30) {
        asm_inner_loop(a);
    } else if (k < 31) {
        asm_late_gadget(a, cp);
    } else if (k < 35 && depth == 0) {
        unsigned l = asm_label(a);
        asm_random_branch(a, l);
        for (int m = arnd_range(a, 1, 4); m > 0; m--) {
            asm_loop_item(a, cp, depth + 1);
        }
        asm_bind(a, l);
    } else {
        /* a forward jump over code never run, linking into x0 or a random register */
        unsigned l = asm_label(a);
        asm_jal(a, arnd(a, 2) ? ZERO : call_rd(a), l);
        for (int m = arnd_range(a, 1, 3); m > 0; m--) {
            asm_random_op(a);
        }
        asm_bind(a, l);
    }
}

/* A hot loop at RAM_BASE calling 2..8 leaf functions placed after the trap vector. */
static void gen_call_prog(Asm *a, CallProg *cp)
{
    static const int32_t jimms[] = { 0, 0, 0, -4, 8, 1, 3, -1, 2047, -2048 };
    memset(cp, 0, sizeof(*cp));
    cp->nfuncs = (unsigned)arnd_range(a, 2, 9);
    for (unsigned i = 0; i < cp->nfuncs; i++) {
        cp->funcs[i] = asm_label(a);
    }
    cp->fa = (unsigned)arnd(a, (int)cp->nfuncs);
    cp->fb = (unsigned)arnd(a, (int)cp->nfuncs);
    cp->jimm = jimms[arnd(a, G_N_ELEMENTS(jimms))];
    cp->odd = (unsigned)arnd(a, 2);
    unsigned loop = asm_label(a);
    cp->loop = loop;
    asm_bind(a, loop);
    asm_patchable(a);
    for (int n = arnd_range(a, 4, 24); n > 0 && a->pc < MAIN_MAX - 0x100; n--) {
        asm_loop_item(a, cp, 0);
    }
    asm_put(a, addi(X_COUNT, X_COUNT, -1), 4, "addi x31,x31,-1");
    asm_b(a, 1, X_COUNT, ZERO, loop);
    asm_put(a, WFI, 4, "wfi");
    g_assert_cmpuint(a->pc, <=, MAIN_MAX);
    a->pc = FUNC_BASE;
    unsigned long_one = (unsigned)arnd(a, (int)cp->nfuncs * 2);
    for (unsigned i = 0; i < cp->nfuncs; i++) {
        cp->crosses |= asm_function(a, cp, i, i == long_one);
    }
    for (int i = 1; i < 32; i++) {
        a->x[i] = pick_value(a->r);
    }
    a->x[X_BASE] = DATA_PTR;
    a->x[X_COUNT] = ITERS;
}

/* Sets the alternating call's target registers once the labels are bound. */
static void call_prog_regs(Asm *a, const CallProg *cp)
{
    uint64_t ta = asm_addr(a, cp->funcs[cp->fa]) - (uint64_t)(int64_t)cp->jimm + cp->odd;
    uint64_t tb = asm_addr(a, cp->funcs[cp->fb]) - (uint64_t)(int64_t)cp->jimm + cp->odd;
    a->x[X_FA] = ta;
    a->x[X_FX] = ta ^ tb;
}

/* NCALLPROGS random hot loops with calls, returns, indirect and tail jumps, inner loops and
 * code across page boundaries, interpreted and with host code; program i uses seed base + i.
 * The first NKICKED run with host code a third time while another thread keeps setting
 * exit_request (run_kicked): stopping at any exit and going on must not change the end state. */
static void test_calls(void)
{
    if (!jit_usable()) {
        return;
    }
    guint32 seed0 = base_seed();
    uint8_t *image = g_malloc(RAM_SIZE);
    State a, b, k;
    state_init(&a);
    state_init(&b);
    state_init(&k);
    unsigned compiled = 0, failures = 0, crossing = 0, faults = 0;
    kicks = 0;
    uint64_t insns = 0;
    for (unsigned i = 0; i < NCALLPROGS; i++) {
        guint32 seed = seed0 + i;
        Asm *as = asm_new(seed);
        CallProg cp;
        gen_call_prog(as, &cp);
        asm_finish(as, image);
        call_prog_regs(as, &cp);
        for (uint64_t x = DATA_LO; x < DATA_HI; x++) {
            image[x - RAM_BASE] = (uint8_t)g_rand_int(as->r);
        }
        crossing += cp.crosses;
        run_image(image, as->x, false, &a);
        run_image(image, as->x, true, &b);
        compiled += b.code_used > 0;
        insns += a.instret;
        char *diff = state_diff(&a, &b);
        if (!diff && i < NKICKED) {
            diff = run_kicked(image, as->x, &a, &k);
        }
        /* the generator makes programs that end in the loop's WFI unless a gadget faults */
        faults += a.mcause != 0;
        if (!diff && !cp.faults && (a.mcause != 0 || a.x[X_COUNT] != 0)) {
            diff = g_strdup_printf("  the program trapped (mcause %" PRIu64 ", mepc 0x%"
                                   PRIx64 ")\n", a.mcause, a.mepc);
        }
        bool bad = diff != NULL;
        if (diff) {
            g_printerr("\nJIT differs from the interpreter, call program %u:\n%s", i, diff);
            char *title = g_strdup_printf("program (seed %" G_GUINT32_FORMAT ")", seed);
            asm_print(as, title);
            g_free(title);
            g_free(diff);
        }
        asm_free(as);
        if (bad && ++failures == 3) {
            break;                 /* enough to go on with (and runs that hang take long) */
        }
    }
    g_test_message("%u call programs: %u compiled to host code, %u with code across pages, "
                   "%u ended by a fault, %" PRIu64 " instructions each way; %u stops on "
                   "exit_request", NCALLPROGS, compiled, crossing, faults, insns, kicks);
    g_assert_cmpuint(failures, ==, 0);
    g_assert_cmpuint(compiled, ==, NCALLPROGS);
    g_assert_cmpuint(crossing, >=, NCALLPROGS / 4);
    g_assert_cmpuint(kicks, >, 0);
    state_destroy(&a);
    state_destroy(&b);
    state_destroy(&k);
    g_free(image);
    cache->jit = true;
}

/* Call programs again with the code arena cut to a little more than RISCV_JIT_BLOCK_MAX: once
 * a few blocks are compiled, the next translation flushes the cache (all blocks, their chains
 * and JALR targets gone) in the middle of the hot loop. */
static void test_small_arena(void)
{
    if (!jit_usable()) {
        return;
    }
    const unsigned nprogs = 40;
    guint32 seed0 = base_seed() + NCALLPROGS;
    uint8_t *image = g_malloc(RAM_SIZE);
    State a, b;
    state_init(&a);
    state_init(&b);
    size_t code_size = cache->code_size;
    uint64_t flushes = 0;
    for (unsigned i = 0; i < nprogs; i++) {
        Asm *as = asm_new(seed0 + i);
        CallProg cp;
        gen_call_prog(as, &cp);
        asm_finish(as, image);
        call_prog_regs(as, &cp);
        run_image(image, as->x, false, &a);
        cache->code_size = RISCV_JIT_BLOCK_MAX + (1024u << (i % 5));
        uint64_t before = cache->nr_flushes;
        run_image(image, as->x, true, &b);
        flushes += cache->nr_flushes - before - 1;      /* the reset's flush aside */
        cache->code_size = code_size;
        char *diff = state_diff(&a, &b);
        if (diff) {
            g_printerr("\nJIT differs from the interpreter (small code arena), call program "
                       "%u:\n%s", i, diff);
            char *title = g_strdup_printf("program (seed %" G_GUINT32_FORMAT ")", seed0 + i);
            asm_print(as, title);
            g_free(title);
        }
        asm_free(as);
        g_assert_null(diff);
    }
    g_test_message("%u call programs with a small code arena: %" PRIu64 " flushes", nprogs,
                   flushes);
    g_assert_cmpuint(flushes, >, 0);
    state_destroy(&a);
    state_destroy(&b);
    g_free(image);
    cache->jit = true;
}

/* Assembles a targeted program and runs it both ways: the two must agree (the program is
 * printed when they do not) and the JIT must have made host code. */
static void asm_case_run(Asm *a, Case *c)
{
    memset(c, 0, sizeof(*c));
    c->image = g_malloc(RAM_SIZE);
    asm_finish(a, c->image);
    memcpy(c->x, a->x, sizeof(c->x));
    state_init(&c->interp);
    state_init(&c->jit);
    run_image(c->image, c->x, false, &c->interp);
    run_image(c->image, c->x, true, &c->jit);
    cache->jit = true;
    char *diff = state_diff(&c->interp, &c->jit);
    if (diff) {
        g_printerr("JIT differs from the interpreter:\n%s", diff);
        asm_print(a, "program");
    }
    g_assert_null(diff);
    g_assert_cmpuint(c->jit.code_used, >, 0);
}

/* Stores x7 (a word, or a halfword when half) to X_BASE + (counter == PATCH_TRIP ? x29 : 0),
 * like (c)'s gadget. */
#define PATCH_TRIP 40
static void asm_patch_gadget(Asm *a, bool half)
{
    asm_put(a, addi(T0, X_COUNT, -PATCH_TRIP), 4, "addi x5,x31,-%d", PATCH_TRIP);
    asm_put(a, sltiu(T0, T0, 1), 4, "seqz x5,x5");
    asm_put(a, sub(T0, ZERO, T0), 4, "neg x5,x5");
    asm_put(a, and_(T0, T0, X_DELTA), 4, "and x5,x5,x29");
    asm_put(a, add(T0, T0, X_BASE), 4, "add x5,x5,x30");
    if (half) {
        asm_put(a, enc_s(0, T2, T0, 1), 4, "sh x7,0(x5)");
    } else {
        asm_put(a, sw(T2, T0, 0), 4, "sw x7,0(x5)");
    }
}

/* (e) a hot loop calls f (chained to it, f's return through the JALR target cache); once (the
 * trip with the counter at PATCH_TRIP) a store rewrites one instruction: the loop's head, f's
 * entry, f's return (into a jump to g) or the call's return site, with f on the loop's page,
 * on another one, or across the page boundary (its first instruction, a block of its own
 * chained from the loop's page, is rewritten by a halfword store to the next page, which
 * leaves the loop's blocks alone); f called by JAL, by AUIPC+JALR or through a register, the
 * store in the loop or in f. The old code must not run again. */
static void test_chain_invalidate(void)
{
    if (!jit_usable()) {
        return;
    }
    enum { P_HEAD, P_ENTRY, P_RET, P_SITE, P_COUNT };
    for (unsigned what = 0; what < P_COUNT; what++) {
        for (unsigned far = 0; far < 3; far++) {
            for (unsigned how = 0; how < 3; how++) {
                for (unsigned in_f = 0; in_f < 2; in_f++) {
                    Asm *a = asm_new(0);
                    unsigned lf = asm_label(a), lg = asm_label(a), lret = asm_label(a);
                    unsigned lsite = asm_label(a), lhead = asm_label(a);
                    asm_bind(a, lhead);
                    asm_put(a, addi(A0, A0, 1), 4, "addi x10,x10,1");
                    if (how == 0) {
                        asm_jal(a, RA, lf);
                    } else if (how == 1) {
                        asm_pcrel(a, RA, lf, 0, jalr(RA, RA, 0), "jalr");
                    } else {
                        asm_put(a, jalr(RA, S10, 0), 4, "jalr x1,0(x26)");
                    }
                    asm_bind(a, lsite);
                    asm_put(a, addi(A3, A3, 1), 4, "addi x13,x13,1");
                    /* all but a JAL for the return differ from the old code in the upper
                     * half only */
                    bool half = what != P_RET;
                    if (!in_f) {
                        asm_patch_gadget(a, half);
                    }
                    asm_put(a, addi(X_COUNT, X_COUNT, -1), 4, "addi x31,x31,-1");
                    asm_b(a, 1, X_COUNT, ZERO, lhead);
                    asm_put(a, WFI, 4, "wfi");
                    a->pc = far == 0 ? FUNC_BASE : far == 1 ? 0x2000 : 0xffe;
                    asm_bind(a, lf);
                    asm_put(a, addi(A1, A1, 1), 4, "addi x11,x11,1");
                    if (far == 2) {
                        asm_c(a, 0x0001, addi(ZERO, ZERO, 0), "c.nop");
                    }
                    asm_put(a, addi(A2, A2, 2), 4, "addi x12,x12,2");
                    if (in_f) {
                        asm_patch_gadget(a, half);
                    }
                    asm_bind(a, lret);
                    asm_put(a, jalr(ZERO, RA, 0), 4, "ret");
                    asm_bind(a, lg);
                    asm_put(a, addi(A4, A4, 1), 4, "addi x14,x14,1");
                    asm_put(a, jalr(ZERO, RA, 0), 4, "ret");

                    static const unsigned order[P_COUNT] = { 0, 1, 3, 4 };  /* in a trip */
                    unsigned gadget_at = in_f ? 2 : 5;
                    const unsigned at[P_COUNT] = { lhead, lf, lret, lsite };
                    uint64_t addr = asm_addr(a, at[what]);
                    uint32_t patched[P_COUNT] = {
                        addi(A0, A0, 3), addi(A1, A1, 7),
                        jal(ZERO, (int32_t)(asm_addr(a, lg) - addr)), addi(A3, A3, 5),
                    };
                    a->x[X_BASE] = DATA_PTR;
                    a->x[X_COUNT] = ITERS;
                    a->x[X_DELTA] = addr + 2 * half - DATA_PTR;
                    a->x[T2] = half ? patched[what] >> 16 : patched[what];
                    a->x[S10] = asm_addr(a, lf);
                    Case c;
                    asm_case_run(a, &c);
                    /* the new code runs from the patching trip on when it comes after the
                     * store in a trip, else from the next one */
                    uint64_t fresh = order[what] > gadget_at ? PATCH_TRIP : PATCH_TRIP - 1;
                    uint64_t old = ITERS - fresh;
                    const State *s = &c.jit;
                    g_assert_cmphex(s->mcause, ==, 0);
                    g_assert_cmphex(s->x[X_COUNT], ==, 0);
                    g_assert_cmphex(s->x[A0], ==, what == P_HEAD ? old + 3 * fresh : ITERS);
                    g_assert_cmphex(s->x[A1], ==, what == P_ENTRY ? old + 7 * fresh : ITERS);
                    g_assert_cmphex(s->x[A2], ==, 2 * ITERS);
                    g_assert_cmphex(s->x[A3], ==, what == P_SITE ? old + 5 * fresh : ITERS);
                    g_assert_cmphex(s->x[A4], ==, what == P_RET ? fresh : 0);
                    uint32_t w;
                    memcpy(&w, s->ram + (addr - RAM_BASE), 4);
                    g_assert_cmphex(w, ==, patched[what]);
                    case_destroy(&c);
                    asm_free(a);
                }
            }
        }
    }
}

/* (f) jumps with unusual operands in a hot loop: JALR with rd == rs1 (returning through that
 * register), odd targets and offsets (bit 0 cleared), AUIPC+JALR on ra, JAL and JALR writing
 * x0, c.jalr and c.jr. From the trip with the counter at PATCH_TRIP on, the odd indirect call
 * goes to unmapped memory (an instruction access fault at the target) or, switching, to f5:
 * host code misses in the JALR's target cache once, and its lookup must leave f5 there. */
static void test_jalr_operands(void)
{
    if (!jit_usable()) {
        return;
    }
    enum { PLAIN, FAULT, SWITCH };
    const uint64_t hole = 0x1000;             /* nothing is mapped there */
    for (unsigned mode = PLAIN; mode <= SWITCH; mode++) {
        Asm *a = asm_new(0);
        unsigned loop = asm_label(a), f1 = asm_label(a), f2 = asm_label(a);
        unsigned f3 = asm_label(a), f4 = asm_label(a), f5 = asm_label(a);
        unsigned skip = asm_label(a), ind = asm_label(a), site1 = asm_label(a);
        unsigned site2 = asm_label(a);
        asm_bind(a, loop);
        asm_la(a, T0, f1, 0);
        asm_put(a, jalr(T0, T0, 0), 4, "jalr x5,0(x5)");             /* rd == rs1 */
        asm_bind(a, site1);
        asm_la(a, T1, f2, 1);                                         /* odd target */
        if (mode == FAULT) {                                          /* x6 += x29 once */
            asm_put(a, addi(S2, X_COUNT, -PATCH_TRIP), 4, "addi x18,x31,-%d", PATCH_TRIP);
            asm_put(a, sltiu(S2, S2, 1), 4, "seqz x18,x18");
        } else if (mode == SWITCH) {                                  /* x6 += x29 from then */
            asm_put(a, sltiu(S2, X_COUNT, PATCH_TRIP + 1), 4, "sltiu x18,x31,%d",
                    PATCH_TRIP + 1);
        }
        if (mode != PLAIN) {
            asm_put(a, sub(S2, ZERO, S2), 4, "neg x18,x18");
            asm_put(a, and_(S2, S2, X_DELTA), 4, "and x18,x18,x29");
            asm_put(a, add(T1, T1, S2), 4, "add x6,x6,x18");
        }
        asm_put(a, jalr(RA, T1, 0), 4, "jalr x1,0(x6)");
        asm_bind(a, site2);
        asm_la(a, T1, f2, -2);
        asm_put(a, jalr(RA, T1, 3), 4, "jalr x1,3(x6)");              /* odd offset */
        asm_jal(a, ZERO, skip);                                       /* j */
        asm_put(a, addi(A5, A5, 1), 4, "addi x15,x15,1");
        asm_bind(a, skip);
        asm_la(a, T2, ind, 0);
        asm_put(a, jalr(ZERO, T2, 0), 4, "jr x7");                    /* JALR writing x0 */
        asm_put(a, addi(A5, A5, 1), 4, "addi x15,x15,1");
        asm_bind(a, ind);
        asm_pcrel(a, RA, f3, 0, jalr(RA, RA, 0), "jalr");             /* call via ra */
        asm_la(a, T2, f4, 0);
        asm_c(a, (uint16_t)(0x9002 | T2 << 7), jalr(RA, T2, 0), "c.jalr x7");
        asm_put(a, jal(ZERO, 4), 4, "j .+4");                         /* JAL writing x0 */
        asm_put(a, addi(X_COUNT, X_COUNT, -1), 4, "addi x31,x31,-1");
        asm_b(a, 1, X_COUNT, ZERO, loop);
        asm_put(a, WFI, 4, "wfi");
        a->pc = FUNC_BASE;
        asm_bind(a, f1);
        asm_put(a, addi(A1, A1, 1), 4, "addi x11,x11,1");
        asm_put(a, jalr(ZERO, T0, 0), 4, "jr x5");
        asm_bind(a, f2);
        asm_put(a, addi(A2, A2, 1), 4, "addi x12,x12,1");
        asm_put(a, jalr(ZERO, RA, 1), 4, "jalr x0,1(x1)");
        asm_bind(a, f5);
        asm_put(a, addi(A6, A6, 1), 4, "addi x16,x16,1");
        asm_put(a, jalr(ZERO, RA, 0), 4, "ret");
        a->pc = 0x1ffe;                       /* f3's first instruction crosses a page */
        asm_bind(a, f3);
        asm_put(a, addi(A3, A3, 1), 4, "addi x13,x13,1");
        asm_c(a, 0x8082, jalr(ZERO, RA, 0), "c.jr x1");
        asm_bind(a, f4);
        asm_put(a, addi(A4, A4, 1), 4, "addi x14,x14,1");
        asm_put(a, jalr(RA, RA, 0), 4, "jalr x1,0(x1)");              /* returns, rd == rs1 */
        a->x[X_BASE] = DATA_PTR;
        a->x[X_COUNT] = ITERS;
        a->x[X_DELTA] = (mode == FAULT ? hole : asm_addr(a, f5)) - asm_addr(a, f2);
        Case c;
        asm_case_run(a, &c);
        const State *s = &c.jit;
        uint64_t trips = mode == FAULT ? ITERS - PATCH_TRIP : ITERS;   /* complete ones */
        uint64_t to_f5 = mode == SWITCH ? PATCH_TRIP : 0;
        g_assert_cmphex(s->x[ZERO], ==, 0);
        g_assert_cmphex(s->x[A5], ==, 0);
        if (mode == FAULT) {
            g_assert_cmphex(s->mcause, ==, EXC_INST_ACCESS);
            g_assert_cmphex(s->mepc, ==, hole);
            g_assert_cmphex(s->x[X_COUNT], ==, PATCH_TRIP);
            g_assert_cmphex(s->x[RA], ==, asm_addr(a, site2));
        } else {
            g_assert_cmphex(s->mcause, ==, 0);
            g_assert_cmphex(s->x[RA], ==, asm_addr(a, f4) + 8);
        }
        g_assert_cmphex(s->x[T0], ==, asm_addr(a, site1));
        g_assert_cmphex(s->x[A1], ==, trips + (mode == FAULT));
        g_assert_cmphex(s->x[A2], ==, 2 * trips - to_f5);
        g_assert_cmphex(s->x[A3], ==, trips);
        g_assert_cmphex(s->x[A4], ==, trips);
        g_assert_cmphex(s->x[A6], ==, to_f5);
        if (mode == SWITCH) {
            /* the cache slot is the last op of the block the call ends */
            TranslationBlock *tb = tb_jc_lookup(cache, asm_addr(a, site1), env->tb_flags);
            g_assert_nonnull(tb);
            const TBOp *slot = &tb->ops[tb->nops - 1];
            g_assert_cmphex((uint64_t)slot->imm, ==, asm_addr(a, f5));
            g_assert_true(slot->handler ==
                          tb_jc_lookup(cache, asm_addr(a, f5), env->tb_flags));
        }
        case_destroy(&c);
        asm_free(a);
    }
}

/* (g) exit_request set from another thread while a hot loop runs chained in host code (to
 * itself, or through a call and a return): tcg_exec returns ACCEL_EXIT_KICKED at a block
 * boundary with registers, pc and instret consistent with the trips made. An alarm fails the
 * test if the loop never stops. */
static gpointer kick_thread(gpointer opaque)
{
    const uint64_t *goal = opaque;
    gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
    while (__atomic_load_n(&env->instret, __ATOMIC_RELAXED) < *goal &&
           g_get_monotonic_time() < deadline) {
        g_usleep(100);
    }
    g_usleep(g_random_int_range(0, 300));
    __atomic_store_n(&cs->exit_request, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_exit_request(void)
{
    if (!jit_usable()) {
        return;
    }
    alarm_fatal = 1;
    uint8_t *image = g_malloc(RAM_SIZE);
    for (unsigned call = 0; call < 2; call++) {
        Asm *a = asm_new(0);
        unsigned loop = asm_label(a), f = asm_label(a), site = asm_label(a);
        asm_bind(a, loop);
        asm_put(a, addi(A0, A0, 1), 4, "addi x10,x10,1");
        asm_put(a, addi(A1, A1, 2), 4, "addi x11,x11,2");
        if (call) {
            asm_jal(a, RA, f);
            asm_bind(a, site);
            asm_put(a, addi(A3, A3, 1), 4, "addi x13,x13,1");
            asm_b(a, 1, A3, ZERO, loop);
            a->pc = FUNC_BASE;
            asm_bind(a, f);
            asm_put(a, addi(A2, A2, 1), 4, "addi x12,x12,1");
            asm_put(a, jalr(ZERO, RA, 0), 4, "ret");
        } else {
            asm_b(a, 1, A0, ZERO, loop);
        }
        asm_finish(a, image);
        for (unsigned jit = 0; jit < 2; jit++) {
            load_image(image, a->x, jit);
            for (unsigned k = 0; k < 16; k++) {
                uint64_t goal = env->instret + 50000;
                GThread *t = g_thread_new("kick", kick_thread, &goal);
                alarm(10);
                int r = cs->ops->tcg_exec(cs);
                alarm(0);
                g_thread_join(t);
                __atomic_store_n(&cs->exit_request, 0, __ATOMIC_RELEASE);
                g_assert_cmpint(r, ==, ACCEL_EXIT_KICKED);
                g_assert_cmpuint(env->instret, >=, goal);
                uint64_t n = env->x[A0], *x = env->x;
                g_assert_cmphex(x[A1], ==, 2 * n);
                g_assert_cmphex(env->mcause, ==, 0);
                if (!call) {
                    g_assert_cmphex(env->pc, ==, asm_addr(a, loop));
                    g_assert_cmpuint(env->instret, ==, 3 * n);
                } else if (env->pc == asm_addr(a, loop)) {
                    g_assert_cmpuint(env->instret, ==, 7 * n);
                    g_assert_true(x[A2] == n && x[A3] == n);
                } else if (env->pc == asm_addr(a, f)) {
                    g_assert_cmpuint(env->instret, ==, 7 * n - 4);
                    g_assert_true(x[A2] == n - 1 && x[A3] == n - 1);
                } else {
                    g_assert_cmphex(env->pc, ==, asm_addr(a, site));
                    g_assert_cmpuint(env->instret, ==, 7 * n - 2);
                    g_assert_true(x[A2] == n && x[A3] == n - 1);
                }
            }
            g_assert_cmpuint(cache->code_used > 0, ==, jit);
        }
        asm_free(a);
    }
    alarm_fatal = 0;
    g_free(image);
    cache->jit = true;
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
    signal(SIGALRM, on_alarm);

    g_test_add_func("/riscv-jit/random", test_random);
    g_test_add_func("/riscv-jit/tlb-miss", test_tlb_miss);
    g_test_add_func("/riscv-jit/fault-mid-run", test_fault_mid_run);
    g_test_add_func("/riscv-jit/self-modifying", test_self_modifying);
    g_test_add_func("/riscv-jit/mmio", test_mmio);
    g_test_add_func("/riscv-jit/calls", test_calls);
    g_test_add_func("/riscv-jit/small-arena", test_small_arena);
    g_test_add_func("/riscv-jit/chain-invalidate", test_chain_invalidate);
    g_test_add_func("/riscv-jit/jalr-operands", test_jalr_operands);
    g_test_add_func("/riscv-jit/exit-request", test_exit_request);
    return g_test_run();
}
