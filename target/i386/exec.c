/* The x86 interpreter loop: block lookup and chaining, threaded dispatch of op pairs,
 * integer semantics with exact flags. */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include "target/i386/internal.h"
#include "target/i386/ops.h"
#include "hw/core/memory.h"
#include "hw/i386/ioport.h"
#include "util/bql.h"
#include "util/log.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define CC_MASK (X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF | X86_FLAG_SF | \
                 X86_FLAG_OF)

static inline uint64_t szmask(unsigned size)
{
    return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t sz_signbit(unsigned size)
{
    return 1ull << (size * 8 - 1);
}

static inline int64_t sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - size * 8;
    return (int64_t)(v << sh) >> sh;
}

static inline uint64_t flags_szp(uint64_t res, unsigned size)
{
    uint64_t f = 0;
    res &= szmask(size);
    if (!res) {
        f |= X86_FLAG_ZF;
    }
    if (res & sz_signbit(size)) {
        f |= X86_FLAG_SF;
    }
    if (!__builtin_parity((unsigned)(res & 0xff))) {
        f |= X86_FLAG_PF;
    }
    return f;
}

static bool cond(uint64_t fl, unsigned cc)
{
    bool r;
    switch (cc >> 1) {
    case 0: r = fl & X86_FLAG_OF; break;
    case 1: r = fl & X86_FLAG_CF; break;
    case 2: r = fl & X86_FLAG_ZF; break;
    case 3: r = fl & (X86_FLAG_CF | X86_FLAG_ZF); break;
    case 4: r = fl & X86_FLAG_SF; break;
    case 5: r = fl & X86_FLAG_PF; break;
    case 6: r = !(fl & X86_FLAG_SF) != !(fl & X86_FLAG_OF); break;
    default: r = (fl & X86_FLAG_ZF) || (!(fl & X86_FLAG_SF) != !(fl & X86_FLAG_OF)); break;
    }
    return (cc & 1) ? !r : r;
}

/* Lazy status flags: the last flag-setting operation as kind << 4 | operand size, with its
 * masked result (dst) and operands (src, src2; INC/DEC keep the carry they leave in src2,
 * SHL/SHR/SAR their CF and OF);
 * with op CC_EFLAGS the six status flags are those in env->rflags. CC_ROT: rotates after
 * the operation recorded in base (its size in op, its dst/src/src2 kept) replaced its CF
 * and OF with those in rot. */
enum { CC_EFLAGS, CC_ADD, CC_ADC, CC_SUB, CC_SBB, CC_LOGIC, CC_INC, CC_DEC, CC_SHIFT, CC_ROT };
typedef struct X86CC {
    unsigned op, base;
    uint64_t dst, src, src2, rot;
} X86CC;

#define CC_OP(kind, size) ((kind) << 4 | (size))

/* The six status flags of the recorded operation (op is not CC_EFLAGS). */
static uint64_t cc_flags(const X86CC *cc)
{
    unsigned size = cc->op & 15, kind = cc->op >> 4;
    uint64_t m = szmask(size), sb = sz_signbit(size), keep = ~0ull, rot = 0;
    uint64_t r = cc->dst, a = cc->src, b = cc->src2, f = flags_szp(r, size);
    if (kind == CC_ROT) {
        kind = cc->base >> 4;
        keep = ~(uint64_t)(X86_FLAG_CF | X86_FLAG_OF);
        rot = cc->rot;
    }
    switch (kind) {
    case CC_ADD:
    case CC_ADC: {
        uint64_t cin = (r - a - b) & m;   /* the carry-in an ADC added */
        if (r < a || (cin && r == a)) {
            f |= X86_FLAG_CF;
        }
        if ((a ^ r) & (b ^ r) & sb) {
            f |= X86_FLAG_OF;
        }
        f |= (a ^ b ^ r) & X86_FLAG_AF;
        break;
    }
    case CC_SUB:
    case CC_SBB: {
        uint64_t cin = (a - b - r) & m;   /* the borrow-in an SBB subtracted */
        if (a < b || (cin && a == b)) {
            f |= X86_FLAG_CF;
        }
        if ((a ^ b) & (a ^ r) & sb) {
            f |= X86_FLAG_OF;
        }
        f |= (a ^ b ^ r) & X86_FLAG_AF;
        break;
    }
    case CC_SHIFT:
        f |= b;
        break;
    case CC_INC:
    case CC_DEC:
        f |= b;
        f |= (a ^ r ^ 1) & X86_FLAG_AF;
        if (r == ((cc->op >> 4) == CC_INC ? sb : sb - 1)) {
            f |= X86_FLAG_OF;
        }
        break;
    default:
        break;
    }
    return (f & keep) | rot;
}

/* Writes the recorded flags into env->rflags; afterwards they live there (CC_EFLAGS). */
static inline void cc_sync(CPUX86State *env, X86CC *cc)
{
    if (cc->op != CC_EFLAGS) {
        env->rflags = (env->rflags & ~(uint64_t)CC_MASK) | cc_flags(cc);
        cc->op = CC_EFLAGS;
    }
}

/* Sets all six status flags to f. */
static inline void set_cc(CPUX86State *env, X86CC *cc, uint64_t f)
{
    env->rflags = (env->rflags & ~(uint64_t)CC_MASK) | f;
    cc->op = CC_EFLAGS;
}

/* CF (0 or 1) without materializing the other flags where that is cheap. */
static inline uint64_t cc_cf(const CPUX86State *env, const X86CC *cc)
{
    switch (cc->op >> 4) {
    case CC_EFLAGS: return env->rflags & X86_FLAG_CF;
    case CC_ADD: return cc->dst < cc->src;
    case CC_SUB: return cc->src < cc->src2;
    case CC_LOGIC: return 0;
    case CC_INC: case CC_DEC: return cc->src2;
    case CC_ROT: return cc->rot & X86_FLAG_CF;
    default: return cc_flags(cc) & X86_FLAG_CF;
    }
}

/* Condition code c (the low nibble of Jcc/SETcc/CMOVcc) on the current flags: compares,
 * logic results and ZF/SF straight from the recorded operation, the rest materialized. */
static inline __attribute__((always_inline))
bool cc_cond(const CPUX86State *env, const X86CC *cc, unsigned c)
{
    unsigned kind = cc->op >> 4, size = cc->op & 15;
    bool r;
    if (kind == CC_EFLAGS) {
        return cond(env->rflags, c);
    }
    switch (c >> 1) {
    case 2:
        r = cc->dst == 0;
        break;
    case 4:
        r = cc->dst & sz_signbit(size);
        break;
    case 1:
        if (kind == CC_SUB) {
            r = cc->src < cc->src2;
            break;
        }
        return cond(cc_flags(cc), c);
    case 3:
        if (kind == CC_SUB) {
            r = cc->src <= cc->src2;
            break;
        }
        return cond(cc_flags(cc), c);
    case 6:
        if (kind == CC_SUB) {
            r = sext(cc->src, size) < sext(cc->src2, size);
            break;
        }
        return cond(cc_flags(cc), c);
    case 7:
        if (kind == CC_SUB) {
            r = sext(cc->src, size) <= sext(cc->src2, size);
            break;
        }
        return cond(cc_flags(cc), c);
    default:
        return cond(cc_flags(cc), c);
    }
    return (c & 1) ? !r : r;
}

/* One ALU operation (sub-op in opcode order) recording its flags lazily; returns the result
 * truncated to size (CMP's is discarded by the caller). */
static inline __attribute__((always_inline))
uint64_t alu(const CPUX86State *env, X86CC *cc, unsigned op, unsigned size, uint64_t a,
             uint64_t b)
{
    uint64_t m = szmask(size), r;
    unsigned kind;
    a &= m;
    b &= m;
    switch (op) {
    case ALU_ADD: r = a + b; kind = CC_ADD; break;
    case ALU_ADC: r = a + b + cc_cf(env, cc); kind = CC_ADC; break;
    case ALU_SBB: r = a - b - cc_cf(env, cc); kind = CC_SBB; break;
    case ALU_SUB: case ALU_CMP: r = a - b; kind = CC_SUB; break;
    case ALU_OR: r = a | b; kind = CC_LOGIC; break;
    case ALU_AND: r = a & b; kind = CC_LOGIC; break;
    default: r = a ^ b; kind = CC_LOGIC; break;
    }
    r &= m;
    cc->op = CC_OP(kind, size);
    cc->dst = r;
    cc->src = a;
    cc->src2 = b;
    return r;
}

/* The result of ALU operation op on a and b without its flags (X86_PF_NOFLAGS); the caller
 * truncates it to the operand size. */
static inline uint64_t alu_result(const CPUX86State *env, const X86CC *cc, unsigned op,
                                  uint64_t a, uint64_t b)
{
    switch (op) {
    case ALU_ADD: return a + b;
    case ALU_OR: return a | b;
    case ALU_ADC: return a + b + cc_cf(env, cc);
    case ALU_SBB: return a - b - cc_cf(env, cc);
    case ALU_AND: return a & b;
    case ALU_SUB: case ALU_CMP: return a - b;
    default: return a ^ b;
    }
}

static inline uint64_t get_reg(CPUX86State *env, unsigned r, unsigned size)
{
    if (size == 1 && r >= 16) {
        return (env->regs[r - 16] >> 8) & 0xff;
    }
    return env->regs[r] & szmask(size);
}

static inline void set_reg(CPUX86State *env, unsigned r, unsigned size, uint64_t v)
{
    switch (size) {
    case 1:
        if (r >= 16) {
            env->regs[r - 16] = (env->regs[r - 16] & ~0xff00ull) | ((v & 0xff) << 8);
        } else {
            env->regs[r] = (env->regs[r] & ~0xffull) | (v & 0xff);
        }
        break;
    case 2:
        env->regs[r] = (env->regs[r] & ~0xffffull) | (v & 0xffff);
        break;
    case 4:
        env->regs[r] = (uint32_t)v;
        break;
    default:
        env->regs[r] = v;
        break;
    }
}

/* Effective address (offset) of the memory operand b. */
static inline uint64_t ea_off(CPUX86State *env, const TBOp *b)
{
    uint64_t a = (uint64_t)b->imm;
    if (b->rd != X86_NONE) {
        a += env->regs[b->rd];
    }
    if (b->rs1 != X86_NONE) {
        a += env->regs[b->rs1] << b->rs2;
    }
    return b->pc_off == 8 ? a : b->pc_off == 4 ? (uint32_t)a : (a & 0xffff);
}

static inline uint64_t linear(X86Tcg *t, int seg, uint64_t off)
{
    uint64_t la = off;
    t->stack_access = seg == R_SS;
    if (seg != X86_NONE) {
        la += t->env->segs[seg].base;
    }
    return (t->tb_flags & X86_TBF_CS64) ? la : (uint32_t)la;
}

static inline uint64_t ea_lin(X86Tcg *t, const TBOp *b)
{
    if (likely(b->ilen & X86_PF_FLAT)) {
        const uint64_t *r = t->env->regs;
        uint64_t a = (uint64_t)b->imm;
        if (b->rd != X86_NONE) {
            a += r[b->rd];
        }
        if (b->rs1 != X86_NONE) {
            a += r[b->rs1] << b->rs2;
        }
        t->stack_access = b->rd == R_ESP || b->rd == R_EBP;
        return a;
    }
    uint64_t la = linear(t, b->rs3, ea_off(t->env, b));
    t->stack_access |= b->rd == R_ESP || b->rd == R_EBP;   /* SS by default */
    return la;
}

/* Host memory access of 1, 2, 4 or 8 bytes (fixed-size moves, not a variable memcpy). */
static inline uint64_t host_ld(const void *p, unsigned size)
{
    switch (size) {
    case 1: return *(const uint8_t *)p;
    case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
    case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
    default: { uint64_t x; memcpy(&x, p, 8); return x; }
    }
}

static inline void host_st(void *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *(uint8_t *)p = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

static inline bool ld(X86Tcg *t, uint64_t la, unsigned size, uint64_t *v)
{
    X86TLBEntry *e = &t->tlb[t->mmu_idx][(la >> 12) & (X86_TLB_SIZE - 1)];
    if (likely(e->tag_r == (la & TB_PAGE_MASK) && (la & 0xfff) + size <= 4096)) {
        *v = host_ld((void *)(uintptr_t)(la + e->addend), size);
        return true;
    }
    return x86_load_slow(t, la, size, v, t->mmu_idx);
}

static inline bool st(X86Tcg *t, uint64_t la, unsigned size, uint64_t v)
{
    X86TLBEntry *e = &t->tlb[t->mmu_idx][(la >> 12) & (X86_TLB_SIZE - 1)];
    if (likely(e->tag_w == (la & TB_PAGE_MASK) && (la & 0xfff) + size <= 4096)) {
        host_st((void *)(uintptr_t)(la + e->addend), size, v);
        return true;
    }
    return x86_store_slow(t, la, size, v, t->mmu_idx);
}

static inline bool probe_write(X86Tcg *t, uint64_t la, unsigned size)
{
    X86TLBEntry *e = &t->tlb[t->mmu_idx][(la >> 12) & (X86_TLB_SIZE - 1)];
    if (likely((e->tag_w & TB_PAGE_MASK) == (la & TB_PAGE_MASK) &&
               e->tag_w != X86_TLB_INVALID && (la & 0xfff) + size <= 4096)) {
        return true;
    }
    return x86_probe_write(t, la, size, t->mmu_idx);
}

/* The new value of a count or index register updated at address size am: a 32-bit update
 * writes the register as a 32-bit one (upper half cleared), a 16-bit one keeps the rest. */
static inline uint64_t addr_reg(uint64_t old, uint64_t am, uint64_t v)
{
    return am == 0xffffffffull ? (uint32_t)v : (old & ~am) | (v & am);
}

static inline uint64_t sp_mask(X86Tcg *t)
{
    return (t->tb_flags & X86_TBF_CS64) ? ~0ull : (t->tb_flags & X86_TBF_SS32) ? 0xffffffffull
                                                                              : 0xffffull;
}

static inline bool canonical(uint64_t v)
{
    return (uint64_t)((int64_t)v << 16 >> 16) == v;
}

/* A stack access at a non-canonical address faults with #SS(0), not #GP. */
static bool stack_canonical(X86Tcg *t, uint64_t sp, unsigned size)
{
    if ((t->tb_flags & X86_TBF_CS64) && (!canonical(sp) || !canonical(sp + size - 1))) {
        x86_raise(t, EXCP_SS, true, 0);
        return false;
    }
    return true;
}

static bool push(X86Tcg *t, unsigned size, uint64_t v)
{
    CPUX86State *env = t->env;
    uint64_t m = sp_mask(t);
    uint64_t sp = (env->regs[R_ESP] - size) & m;
    if (!stack_canonical(t, sp, size)) {
        return false;
    }
    if (!st(t, linear(t, (t->tb_flags & X86_TBF_CS64) ? X86_NONE : R_SS, sp), size, v)) {
        return false;
    }
    env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | sp;
    return true;
}

/* Reads the top of stack at offset off without popping. */
static bool peek(X86Tcg *t, unsigned size, uint64_t off, uint64_t *v)
{
    uint64_t sp = (t->env->regs[R_ESP] + off) & sp_mask(t);
    if (!stack_canonical(t, sp, size)) {
        return false;
    }
    return ld(t, linear(t, (t->tb_flags & X86_TBF_CS64) ? X86_NONE : R_SS, sp), size, v);
}

static void sp_add(X86Tcg *t, uint64_t n)
{
    uint64_t m = sp_mask(t);
    t->env->regs[R_ESP] = (t->env->regs[R_ESP] & ~m) | ((t->env->regs[R_ESP] + n) & m);
}

/* The result of a shift or rotate other than RCL/RCR (sub-op in opcode order) without its
 * flags (X86_PF_NOFLAGS); count already masked and nonzero. */
static inline uint64_t shift_value(unsigned op, unsigned size, uint64_t a, unsigned cnt)
{
    unsigned bits = size * 8, c = cnt % bits;
    uint64_t m = szmask(size);
    a &= m;
    switch (op) {
    case 0: return c ? ((a << c) | (a >> (bits - c))) & m : a;
    case 1: return c ? ((a >> c) | (a << (bits - c))) & m : a;
    case 5: return a >> cnt;
    case 7: return (uint64_t)(sext(a, size) >> (cnt > 63 ? 63 : cnt)) & m;
    default: return (a << cnt) & m;
    }
}

/* A rotate's CF and OF (cfof) over the flags so far: SF, ZF, AF and PF stay lazy. */
static inline void cc_rotate(CPUX86State *env, X86CC *cc, uint64_t cfof)
{
    switch (cc->op >> 4) {
    case CC_EFLAGS:
        env->rflags = (env->rflags & ~(uint64_t)(X86_FLAG_CF | X86_FLAG_OF)) | cfof;
        return;
    case CC_ROT:
        break;
    default:
        cc->base = cc->op;
        cc->op = CC_OP(CC_ROT, cc->op & 15);
        break;
    }
    cc->rot = cfof;
}

/* Shifts and rotates (sub-op in opcode order); count already masked and nonzero. */
static uint64_t shift(CPUX86State *env, X86CC *cc, unsigned op, unsigned size, uint64_t a,
                      unsigned cnt)
{
    if (op == 2 || op == 3) {
        cc_sync(env, cc);   /* RCL/RCR read CF and keep SF, ZF, AF and PF */
    }
    unsigned bits = size * 8;
    uint64_t m = szmask(size), sb = sz_signbit(size), r = 0, f = env->rflags & CC_MASK;
    a &= m;
    switch (op) {
    case 0: {   /* ROL */
        unsigned c = cnt % bits;
        r = c ? ((a << c) | (a >> (bits - c))) & m : a;
        cc_rotate(env, cc, ((r & 1) ? X86_FLAG_CF : 0) |
                           ((((r & sb) ? 1 : 0) ^ (r & 1)) ? X86_FLAG_OF : 0));
        return r;
    }
    case 1: {   /* ROR */
        unsigned c = cnt % bits;
        r = c ? ((a >> c) | (a << (bits - c))) & m : a;
        cc_rotate(env, cc, ((r & sb) ? X86_FLAG_CF : 0) |
                           ((((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1) ? X86_FLAG_OF : 0));
        return r;
    }
    case 2: case 3: {   /* RCL, RCR through bits+1 */
        unsigned c = cnt % (bits + 1);
        unsigned cf = env->rflags & X86_FLAG_CF ? 1 : 0;
        r = a;
        for (unsigned i = 0; i < c; i++) {
            if (op == 2) {
                unsigned out = (r & sb) ? 1 : 0;
                r = ((r << 1) | cf) & m;
                cf = out;
            } else {
                unsigned out = r & 1;
                r = (r >> 1) | (cf ? sb : 0);
                cf = out;
            }
        }
        f &= ~(uint64_t)(X86_FLAG_CF | X86_FLAG_OF);
        f |= cf ? X86_FLAG_CF : 0;
        if (op == 2) {
            f |= (((r & sb) ? 1 : 0) ^ cf) ? X86_FLAG_OF : 0;
        } else {
            f |= (((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1) ? X86_FLAG_OF : 0;
        }
        break;
    }
    case 4: case 6: {   /* SHL */
        r = cnt >= 64 ? 0 : (a << cnt) & m;
        unsigned cf = cnt <= bits ? (a >> (bits - cnt)) & 1 : 0;
        f = flags_szp(r, size) | (cf ? X86_FLAG_CF : 0);
        f |= (((r & sb) ? 1 : 0) ^ cf) ? X86_FLAG_OF : 0;
        break;
    }
    case 5: {   /* SHR */
        r = cnt >= 64 ? 0 : a >> cnt;
        unsigned cf = (a >> (cnt - 1)) & 1;
        f = flags_szp(r, size) | (cf ? X86_FLAG_CF : 0);
        f |= (a & sb) ? X86_FLAG_OF : 0;
        break;
    }
    default: {  /* SAR */
        int64_t s = sext(a, size);
        unsigned c = cnt > 63 ? 63 : cnt;
        r = (uint64_t)(s >> c) & m;
        unsigned cf = (uint64_t)(s >> (c - 1)) & 1;
        f = flags_szp(r, size) | (cf ? X86_FLAG_CF : 0);
        break;
    }
    }
    set_cc(env, cc, f);
    return r;
}

/* 16-byte compare-and-swap on host memory for CMPXCHG16B: true when *expected matched;
 * *expected receives the old contents either way. */
#if defined(__x86_64__)
__attribute__((target("cx16")))
#endif
static bool cas128(void *p, unsigned __int128 *expected, unsigned __int128 desired)
{
    unsigned __int128 old = __sync_val_compare_and_swap((unsigned __int128 *)p, *expected,
                                                        desired);
    bool ok = old == *expected;
    *expected = old;
    return ok;
}

static uint64_t read_flags(CPUX86State *env)
{
    return env->rflags & ~(uint64_t)(X86_FLAG_RF | X86_FLAG_VM);
}

/* The block at linear pc: from the code cache or freshly translated; NULL on a fault. */
static TranslationBlock *find_tb(X86Tcg *t, uint64_t pc, const void *const *labels)
{
    TranslationBlock *tb = tb_jc_lookup(t->cache, pc, t->tb_flags);
    if (tb && !tb->invalid) {
        return tb;
    }
    uint64_t phys;
    if (!x86_fetch_page(t, pc, &phys)) {
        return NULL;
    }
    tb = tb_lookup(t->cache, phys, pc, t->tb_flags);
    if (tb && tb->phys_page2 != UINT64_MAX) {
        uint64_t phys2;
        if (!x86_fetch_page(t, (pc & TB_PAGE_MASK) + TB_PAGE_SIZE, &phys2)) {
            t->exc_vec = -1;
            tb = NULL;
        } else if ((phys2 & TB_PAGE_MASK) != tb->phys_page2) {
            tb = NULL;
        }
    }
    if (!tb) {
        tb = x86_translate_block(t, pc, labels);
    }
    if (tb) {
        tb_jc_insert(t->cache, tb);
    }
    return tb;
}

static bool io_in(unsigned port, unsigned size, uint64_t *v)
{
    bql_lock();
    MemTxResult r = memory_dispatch_read(&address_space_io, port, v, size);
    bql_unlock();
    if (r != MEMTX_OK) {
        *v = szmask(size);
    }
    return true;
}

static void io_out(unsigned port, unsigned size, uint64_t v)
{
    bql_lock();
    memory_dispatch_write(&address_space_io, port, v, size);
    bql_unlock();
}

/* IN/OUT permission: CPL <= IOPL in protected mode (no I/O bitmap). */
static bool io_allowed(X86Tcg *t)
{
    CPUX86State *env = t->env;
    return !(env->cr[0] & X86_CR0_PE) || x86_cpl(env) <= ((env->rflags >> 12) & 3);
}

#define LABEL_ADDR(name) [X86_OP_##name] = &&L_##name,

/* With labels_out set, only reports the op label table; otherwise runs guest code. */
__attribute__((optimize("no-crossjumping", "no-gcse")))
static int x86_exec_loop(CPUState *cs, const void *const **labels_out)
{
    static const void *const labels[X86_OP_COUNT] = { X86_OPS(LABEL_ADDR) };
    if (labels_out) {
        *labels_out = labels;
        return 0;
    }
    X86Tcg *t = x86_tcg(cs);
    CPUX86State *env = t->env;
    uint64_t *R = env->regs;
    TranslationBlock *tb = NULL, *last_tb = NULL;
    int last_slot = 0;
    const TBOp *op = NULL, *b = NULL;
    bool check_irq = true;
    const bool nochain = log_enabled(LOG_EXEC | LOG_CPU);
    uint64_t va = 0, vb = 0, la = 0;
    unsigned sz;
    X86CC cc = { .op = CC_EFLAGS };
    bool jcc_taken;
    int ret = ACCEL_EXIT_KICKED;

#define DISPATCH() do { b = op + 1; sz = op->rs2; goto *op->handler; } while (0)
#define NEXT() do { op += 2; DISPATCH(); } while (0)
#define PC() (tb->pc + op->pc_off)
#define NEXT_PC() (tb->pc + op->pc_off + op->ilen)
#define CSB (env->segs[R_CS].base)
#define SET_RIP(lin) (env->rip = (lin) - CSB)
#define RAISE(v, he, e) do { x86_raise(t, (v), (he), (e)); goto raise; } while (0)
#define GP0() RAISE(EXCP_GP, true, 0)
#define CHECK(x) do { if (unlikely(!(x))) { goto raise; } } while (0)
#define EXIT_TB(n, target) do { \
        uint64_t t_ = (target); \
        unsigned n_ = (n); \
        TranslationBlock *d_ = n_ < TB_MAX_EXITS ? tb->jmp_dest[n_] : NULL; \
        if (d_ && !d_->invalid && !__atomic_load_n(&cs->exit_request, __ATOMIC_RELAXED)) { \
            tb = d_; \
            op = tb->ops; \
            DISPATCH(); \
        } \
        SET_RIP(t_); \
        last_tb = n_ < TB_MAX_EXITS ? tb : NULL; \
        last_slot = (int)n_; \
        goto next_tb; \
    } while (0)
#define JUMP_IND(target) do { SET_RIP(target); last_tb = NULL; goto next_tb; } while (0)
/* A near branch to a non-canonical target faults with #GP(0) at the branch itself. */
#define CHECK_TARGET(target) do { \
        if ((t->tb_flags & X86_TBF_CS64) && !canonical(target)) { \
            GP0(); \
        } \
    } while (0)
#define END_BLOCK() do { \
        SET_RIP(NEXT_PC()); \
        check_irq = true; \
        last_tb = NULL; \
        goto next_tb; \
    } while (0)
#define RM_READ(v) do { \
        if (op->rs1 == X86_RM_MEM) { \
            la = ea_lin(t, b); \
            CHECK(ld(t, la, sz, &(v))); \
        } else { \
            (v) = get_reg(env, op->rs1, sz); \
        } \
    } while (0)
/* The read half of a read-modify-write: the memory operand must be writable first, so a
 * not-present page faults with W set as on hardware. */
#define RM_READ_RMW(v) do { \
        if (op->rs1 == X86_RM_MEM) { \
            la = ea_lin(t, b); \
            CHECK(probe_write(t, la, sz)); \
            CHECK(ld(t, la, sz, &(v))); \
        } else { \
            (v) = get_reg(env, op->rs1, sz); \
        } \
    } while (0)
#define RM_WRITE(v) do { \
        if (op->rs1 == X86_RM_MEM) { \
            CHECK(st(t, la, sz, (v))); \
            if (unlikely(t->tb_invalidated)) { \
                goto store_invalidated; \
            } \
        } else { \
            set_reg(env, op->rs1, sz, (v)); \
        } \
    } while (0)
/* Locked read-modify-write of the memory operand: expr computes the new value from va. */
#define RMW_LOCKED(expr, store) do { \
        la = ea_lin(t, b); \
        void *h_ = x86_rmw_ptr(t, la, sz, t->mmu_idx); \
        if (!h_) { \
            CHECK(t->exc_vec < 0); \
            CHECK(ld(t, la, sz, &va)); \
            uint64_t n_ = (expr); \
            if (store) { \
                CHECK(st(t, la, sz, n_)); \
            } \
        } else { \
            for (;;) { \
                va = 0; \
                memcpy(&va, h_, sz); \
                uint64_t n_ = (expr); \
                if (!(store)) { \
                    break; \
                } \
                bool ok_; \
                switch (sz) { \
                case 1: { uint8_t e_ = (uint8_t)va; \
                    ok_ = __atomic_compare_exchange_n((uint8_t *)h_, &e_, (uint8_t)n_, false, \
                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); break; } \
                case 2: { uint16_t e_ = (uint16_t)va; \
                    ok_ = __atomic_compare_exchange_n((uint16_t *)h_, &e_, (uint16_t)n_, false, \
                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); break; } \
                case 4: { uint32_t e_ = (uint32_t)va; \
                    ok_ = __atomic_compare_exchange_n((uint32_t *)h_, &e_, (uint32_t)n_, false, \
                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); break; } \
                default: { uint64_t e_ = va; \
                    ok_ = __atomic_compare_exchange_n((uint64_t *)h_, &e_, n_, false, \
                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); break; } \
                } \
                if (ok_) { \
                    break; \
                } \
            } \
        } \
        if (unlikely(t->tb_invalidated)) { \
            goto store_invalidated; \
        } \
    } while (0)
#define LOCKED() (op->rs1 == X86_RM_MEM && (b->ilen & X86_PF_LOCK))
/* A locked ALU operation on the memory operand; a retried compare-exchange starts again
 * from the flags before the operation (ADC/SBB read CF). */
#define RMW_LOCKED_ALU() do { \
        const X86CC cc0_ = cc; \
        RMW_LOCKED((cc = cc0_, alu(env, &cc, op->rs3, sz, va, vb)), op->rs3 != ALU_CMP); \
    } while (0)
/* The ALU operation of this op on x and y, with flags unless they are dead. */
#define ALU_OP(x, y) ((b->ilen & X86_PF_NOFLAGS) \
        ? alu_result(env, &cc, op->rs3, (x), (y)) & szmask(sz) \
        : alu(env, &cc, op->rs3, sz, (x), (y)))
#define SYNC() cc_sync(env, &cc)
/* rd (a_) and src_ (b_) at S bytes (type T) give r_ = expr_, written to rd when write_;
 * records the flags lazily and leaves a_, b_ and r_ declared for what follows. */
#define ALU_RECORD(S, T, kind_, expr_, src_, write_) \
        T a_ = (T)R[op->rd], b_ = (T)(src_), r_ = (T)(expr_); \
        if (write_) { \
            R[op->rd] = r_; \
        } \
        cc.op = CC_OP(kind_, S); \
        cc.dst = r_; \
        cc.src = a_; \
        cc.src2 = b_
/* A specialized ALU operation or TEST (ops.h X86_FAST_OPS) on rd and src at S bytes (T). */
#define FAST_ALU(S, T, kind_, expr_, src_, write_) do { \
        ALU_RECORD(S, T, kind_, expr_, src_, write_); \
        NEXT(); \
    } while (0)
/* Condition c of Jcc after a SUB/CMP of a and b with result r at type T (signed ST). */
#define JCC_SUB_COND(T, ST, c, a, b, r) ({ \
        T x_ = (T)(a), y_ = (T)(b), z_ = (T)(r); \
        bool k_; \
        switch ((c) >> 1) { \
        case 0: k_ = (ST)((x_ ^ y_) & (x_ ^ z_)) < 0; break; \
        case 1: k_ = x_ < y_; break; \
        case 2: k_ = x_ == y_; break; \
        case 3: k_ = x_ <= y_; break; \
        case 4: k_ = (ST)z_ < 0; break; \
        case 5: k_ = !__builtin_parity((unsigned)(z_ & 0xff)); break; \
        case 6: k_ = (ST)x_ < (ST)y_; break; \
        default: k_ = (ST)x_ <= (ST)y_; break; \
        } \
        k_ != ((c) & 1); })
/* Condition c of Jcc after a logic operation with result r. */
#define JCC_LOGIC_COND(T, ST, c, r) ({ \
        T z_ = (T)(r); \
        bool k_; \
        switch ((c) >> 1) { \
        case 0: case 1: k_ = false; break; \
        case 2: case 3: k_ = z_ == 0; break; \
        case 4: case 6: k_ = (ST)z_ < 0; break; \
        case 5: k_ = !__builtin_parity((unsigned)(z_ & 0xff)); break; \
        default: k_ = (ST)z_ <= 0; break; \
        } \
        k_ != ((c) & 1); })
/* CMP, TEST or SUB (write_) fused with the Jcc that follows it (the next op pair): records
 * the flags, then branches as that Jcc. */
#define FUSED_JCC(S, T, ST, kind_, expr_, src_, write_) do { \
        ALU_RECORD(S, T, kind_, expr_, src_, write_); \
        op += 2; \
        jcc_taken = (kind_) == CC_SUB ? JCC_SUB_COND(T, ST, op->rs3, a_, b_, r_) \
                                      : JCC_LOGIC_COND(T, ST, op->rs3, r_); \
        goto jcc_exit; \
    } while (0)
#define STORE_HANDLER(S) \
L_STORE##S: \
    CHECK(st(t, ea_lin(t, b), S, R[op->rd])); \
    if (unlikely(t->tb_invalidated)) { \
        goto store_invalidated; \
    } \
    NEXT();
#define FAST_HANDLERS(S, T, ST) \
L_ADD_RR##S: FAST_ALU(S, T, CC_ADD, a_ + b_, R[op->rs1], true); \
L_OR_RR##S: FAST_ALU(S, T, CC_LOGIC, a_ | b_, R[op->rs1], true); \
L_AND_RR##S: FAST_ALU(S, T, CC_LOGIC, a_ & b_, R[op->rs1], true); \
L_SUB_RR##S: FAST_ALU(S, T, CC_SUB, a_ - b_, R[op->rs1], true); \
L_XOR_RR##S: FAST_ALU(S, T, CC_LOGIC, a_ ^ b_, R[op->rs1], true); \
L_CMP_RR##S: FAST_ALU(S, T, CC_SUB, a_ - b_, R[op->rs1], false); \
L_TEST_RR##S: FAST_ALU(S, T, CC_LOGIC, a_ & b_, R[op->rs1], false); \
L_ADD_RI##S: FAST_ALU(S, T, CC_ADD, a_ + b_, op->imm, true); \
L_OR_RI##S: FAST_ALU(S, T, CC_LOGIC, a_ | b_, op->imm, true); \
L_AND_RI##S: FAST_ALU(S, T, CC_LOGIC, a_ & b_, op->imm, true); \
L_SUB_RI##S: FAST_ALU(S, T, CC_SUB, a_ - b_, op->imm, true); \
L_XOR_RI##S: FAST_ALU(S, T, CC_LOGIC, a_ ^ b_, op->imm, true); \
L_CMP_RI##S: FAST_ALU(S, T, CC_SUB, a_ - b_, op->imm, false); \
L_TEST_RI##S: FAST_ALU(S, T, CC_LOGIC, a_ & b_, op->imm, false); \
L_MOV_RR##S: \
    R[op->rd] = (T)R[op->rs1]; \
    NEXT(); \
L_MOV_RI##S: \
    R[op->rd] = (T)op->imm; \
    NEXT(); \
L_LOAD##S: \
    CHECK(ld(t, ea_lin(t, b), S, &va)); \
    R[op->rd] = (T)va; \
    NEXT(); \
STORE_HANDLER(S) \
L_LEA##S: \
    R[op->rd] = (T)ea_off(env, b); \
    NEXT(); \
L_ALU_LD##S: \
    CHECK(ld(t, ea_lin(t, b), S, &vb)); \
    switch (op->rs3) { \
    case ALU_ADD: FAST_ALU(S, T, CC_ADD, a_ + b_, vb, true); \
    case ALU_OR: FAST_ALU(S, T, CC_LOGIC, a_ | b_, vb, true); \
    case ALU_AND: FAST_ALU(S, T, CC_LOGIC, a_ & b_, vb, true); \
    case ALU_SUB: FAST_ALU(S, T, CC_SUB, a_ - b_, vb, true); \
    case ALU_XOR: FAST_ALU(S, T, CC_LOGIC, a_ ^ b_, vb, true); \
    default: FAST_ALU(S, T, CC_SUB, a_ - b_, vb, false); \
    } \
L_SHIFT_RI##S: { \
    T a_ = (T)R[op->rd], r_; \
    unsigned c_ = (unsigned)op->imm; \
    uint64_t f_; \
    switch (op->rs3) { \
    case 0: \
        r_ = (T)((a_ << c_) | (a_ >> (S * 8 - c_))); \
        R[op->rd] = r_; \
        if (!(b->ilen & X86_PF_NOFLAGS)) { \
            cc_rotate(env, &cc, (r_ & 1) | \
                      (((r_ >> (S * 8 - 1)) ^ r_) & 1 ? X86_FLAG_OF : 0)); \
        } \
        NEXT(); \
    case 1: \
        r_ = (T)((a_ >> c_) | (a_ << (S * 8 - c_))); \
        R[op->rd] = r_; \
        if (!(b->ilen & X86_PF_NOFLAGS)) { \
            cc_rotate(env, &cc, (r_ >> (S * 8 - 1)) | \
                      (((r_ >> (S * 8 - 1)) ^ (r_ >> (S * 8 - 2))) & 1 ? X86_FLAG_OF : 0)); \
        } \
        NEXT(); \
    case 5: \
        r_ = a_ >> c_; \
        f_ = ((a_ >> (c_ - 1)) & 1) | ((a_ >> (S * 8 - 1)) ? X86_FLAG_OF : 0); \
        break; \
    case 7: \
        r_ = (T)((ST)a_ >> c_); \
        f_ = ((ST)a_ >> (c_ - 1)) & 1; \
        break; \
    default: \
        r_ = (T)(a_ << c_); \
        f_ = (a_ >> (S * 8 - c_)) & 1; \
        f_ |= ((r_ >> (S * 8 - 1)) ^ f_) ? X86_FLAG_OF : 0; \
        break; \
    } \
    R[op->rd] = r_; \
    if (!(b->ilen & X86_PF_NOFLAGS)) { \
        cc.op = CC_OP(CC_SHIFT, S); \
        cc.dst = r_; \
        cc.src2 = f_; \
    } \
    NEXT(); \
} \
L_UNARY_R##S: { \
    T a_ = (T)R[op->rd]; \
    switch (op->rs3) { \
    case 0: case 1: { \
        uint64_t cf_ = cc_cf(env, &cc); \
        T r_ = op->rs3 ? a_ - 1 : a_ + 1; \
        R[op->rd] = r_; \
        cc.op = CC_OP(op->rs3 ? CC_DEC : CC_INC, S); \
        cc.dst = r_; \
        cc.src = a_; \
        cc.src2 = cf_; \
        NEXT(); \
    } \
    case 2: \
        R[op->rd] = (T)~a_; \
        NEXT(); \
    default: { \
        T r_ = (T)-a_; \
        R[op->rd] = r_; \
        cc.op = CC_OP(CC_SUB, S); \
        cc.dst = r_; \
        cc.src = 0; \
        cc.src2 = a_; \
        NEXT(); \
    } \
    } \
} \
L_IMUL_RR##S: { \
    ST p_; \
    bool o_ = __builtin_mul_overflow((ST)R[op->rd], (ST)R[op->rs1], &p_); \
    R[op->rd] = (T)p_; \
    set_cc(env, &cc, (flags_szp((T)p_, S) & ~(uint64_t)X86_FLAG_ZF) | \
                     (o_ ? X86_FLAG_CF | X86_FLAG_OF : 0)); \
    NEXT(); \
} \
L_CMOV_RR##S: \
    R[op->rd] = cc_cond(env, &cc, op->rs3) ? (T)R[op->rs1] : (T)R[op->rd]; \
    NEXT(); \
L_JCC_SUB##S: \
    jcc_taken = JCC_SUB_COND(T, ST, op->rs3, cc.src, cc.src2, cc.dst); \
    goto jcc_exit; \
L_JCC_LOGIC##S: \
    jcc_taken = JCC_LOGIC_COND(T, ST, op->rs3, cc.dst); \
    goto jcc_exit; \
L_CMP_JCC_RR##S: FUSED_JCC(S, T, ST, CC_SUB, a_ - b_, R[op->rs1], false); \
L_CMP_JCC_RI##S: FUSED_JCC(S, T, ST, CC_SUB, a_ - b_, op->imm, false); \
L_TEST_JCC_RR##S: FUSED_JCC(S, T, ST, CC_LOGIC, a_ & b_, R[op->rs1], false); \
L_TEST_JCC_RI##S: FUSED_JCC(S, T, ST, CC_LOGIC, a_ & b_, op->imm, false); \
L_SUB_JCC_RI##S: FUSED_JCC(S, T, ST, CC_SUB, a_ - b_, op->imm, true);
#define NARROW_HANDLERS(S, T) \
L_LDZX##S: \
    CHECK(ld(t, ea_lin(t, b), S, &va)); \
    R[op->rd] = va; \
    NEXT(); \
L_MOVZX_RR##S: \
    R[op->rd] = (T)R[op->rs1]; \
    NEXT(); \
STORE_HANDLER(S)

next_tb:
    if (unlikely(check_irq || __atomic_load_n(&cs->exit_request, __ATOMIC_ACQUIRE))) {
        check_irq = false;
        SYNC();
        if (__atomic_load_n(&cs->exit_request, __ATOMIC_ACQUIRE)) {
            ret = ACCEL_EXIT_KICKED;
            goto out;
        }
        if (__atomic_exchange_n(&tcg_vcpu(cs)->tlb_flush_request, 0, __ATOMIC_ACQ_REL)) {
            x86_tlb_flush(t, true);
            x86_ram_cache_reset(t);
        }
        if (env->interrupt_shadow) {
            env->interrupt_shadow = false;
            check_irq = true;
        } else if (x86_check_interrupts(t)) {
            last_tb = NULL;
        }
    }
    t->tb_invalidated = false;
    t->exc_vec = -1;
    tb = find_tb(t, CSB + env->rip, labels);
    if (unlikely(!tb)) {
        SYNC();
        x86_do_exception(t);
        last_tb = NULL;
        goto next_tb;
    }
    if (last_tb && !nochain && last_tb->jmp_pc[last_slot] == tb->pc &&
        (last_tb->flags == tb->flags)) {
        tb_add_jump(last_tb, last_slot, tb);
    }
    last_tb = NULL;
    if (unlikely(nochain)) {
        log_mask_printf(LOG_EXEC, "Trace %d: %p [%016" PRIx64 "/%016" PRIx64 "/%08x]\n",
                        cs->index, (void *)tb, tb->pc, tb->phys_pc, tb->flags);
    }
    op = tb->ops;
    DISPATCH();

raise:
    SYNC();
    SET_RIP(PC());
    x86_do_exception(t);
    last_tb = NULL;
    goto next_tb;

store_invalidated:
    /* the instruction completed but may have rewritten code that follows it */
    t->tb_invalidated = false;
    END_BLOCK();

FAST_HANDLERS(4, uint32_t, int32_t)
FAST_HANDLERS(8, uint64_t, int64_t)
NARROW_HANDLERS(1, uint8_t)
NARROW_HANDLERS(2, uint16_t)
L_ALU_RM_R:
    vb = get_reg(env, op->rd, sz);
    if (LOCKED()) {
        RMW_LOCKED_ALU();
        NEXT();
    }
    if (op->rs3 != ALU_CMP) {
        RM_READ_RMW(va);
    } else {
        RM_READ(va);
    }
    va = ALU_OP(va, vb);
    if (op->rs3 != ALU_CMP) {
        RM_WRITE(va);
    }
    NEXT();
L_ALU_R_RM:
    RM_READ(vb);
    va = ALU_OP(get_reg(env, op->rd, sz), vb);
    if (op->rs3 != ALU_CMP) {
        set_reg(env, op->rd, sz, va);
    }
    NEXT();
L_ALU_RM_I:
    vb = (uint64_t)op->imm;
    if (LOCKED()) {
        RMW_LOCKED_ALU();
        NEXT();
    }
    if (op->rs3 != ALU_CMP) {
        RM_READ_RMW(va);
    } else {
        RM_READ(va);
    }
    va = ALU_OP(va, vb);
    if (op->rs3 != ALU_CMP) {
        RM_WRITE(va);
    }
    NEXT();
L_TEST_RM_R:
    RM_READ(va);
    if (!(b->ilen & X86_PF_NOFLAGS)) {
        alu(env, &cc, ALU_AND, sz, va, get_reg(env, op->rd, sz));
    }
    NEXT();
L_TEST_RM_I:
    RM_READ(va);
    if (!(b->ilen & X86_PF_NOFLAGS)) {
        alu(env, &cc, ALU_AND, sz, va, (uint64_t)op->imm);
    }
    NEXT();
L_UNARY: {
    /* 0 INC, 1 DEC, 2 NOT, 3 NEG */
#define UNARY_EXPR(x) ({ \
        uint64_t r_; \
        switch (op->rs3) { \
        case 0: case 1: { \
            uint64_t cf_ = cc_cf(env, &cc); \
            r_ = alu(env, &cc, op->rs3 ? ALU_SUB : ALU_ADD, sz, (x), 1); \
            cc.op = CC_OP(op->rs3 ? CC_DEC : CC_INC, sz); \
            cc.src2 = cf_; \
            break; \
        } \
        case 2: r_ = ~(x) & szmask(sz); break; \
        default: r_ = alu(env, &cc, ALU_SUB, sz, 0, (x)); break; \
        } \
        r_; })
    if (LOCKED()) {
        RMW_LOCKED(UNARY_EXPR(va), true);
        NEXT();
    }
    RM_READ_RMW(va);
    va = UNARY_EXPR(va);
    RM_WRITE(va);
    NEXT();
}
L_MULDIV: {
    RM_READ(vb);
    uint64_t m = szmask(sz);
    unsigned bits = sz * 8;
    uint64_t a = get_reg(env, R_EAX, sz);
    uint64_t dreg = sz == 1 ? (get_reg(env, 16 + R_EAX, 1)) : get_reg(env, R_EDX, sz);
    switch (op->rs3) {
    case 4: case 5: {
        unsigned __int128 p;
        bool ovf;
        if (op->rs3 == 4) {
            p = (unsigned __int128)a * vb;
            ovf = (uint64_t)(p >> bits) & m;
        } else {
            __int128 sp = (__int128)sext(a, sz) * sext(vb, sz);
            p = (unsigned __int128)sp;
            ovf = sp != (__int128)sext((uint64_t)p, sz);
        }
        uint64_t lo = (uint64_t)p & m, hi = (uint64_t)(p >> bits) & m;
        if (sz == 1) {
            set_reg(env, R_EAX, 2, lo | hi << 8);
        } else {
            set_reg(env, R_EAX, sz, lo);
            set_reg(env, R_EDX, sz, hi);
        }
        uint64_t f = flags_szp(lo, sz) & ~(uint64_t)X86_FLAG_ZF;
        set_cc(env, &cc, f | (ovf ? X86_FLAG_CF | X86_FLAG_OF : 0));
        break;
    }
    case 6: {
        if ((vb & m) == 0) {
            RAISE(EXCP_DE, false, 0);
        }
        unsigned __int128 n = ((unsigned __int128)dreg << bits) | a;
        unsigned __int128 q = n / (vb & m);
        if (q > m) {
            RAISE(EXCP_DE, false, 0);
        }
        uint64_t r = (uint64_t)(n % (vb & m));
        if (sz == 1) {
            set_reg(env, R_EAX, 2, ((uint64_t)q & 0xff) | (r & 0xff) << 8);
        } else {
            set_reg(env, R_EAX, sz, (uint64_t)q);
            set_reg(env, R_EDX, sz, r);
        }
        break;
    }
    default: {
        int64_t dv = sext(vb, sz);
        if (dv == 0) {
            RAISE(EXCP_DE, false, 0);
        }
        /* the dividend is twice the operand size: AX, DX:AX, EDX:EAX or RDX:RAX */
        __int128 n;
        if (sz == 8) {
            n = (__int128)(((unsigned __int128)dreg << 64) | a);
            if (dv == -1 && n == (__int128)((unsigned __int128)1 << 127)) {
                RAISE(EXCP_DE, false, 0);
            }
        } else {
            n = sext((dreg << bits) | a, sz * 2);
        }
        __int128 q = n / dv, r = n % dv;
        if (q > (__int128)(m >> 1) || q < -(__int128)(m >> 1) - 1) {
            RAISE(EXCP_DE, false, 0);
        }
        if (sz == 1) {
            set_reg(env, R_EAX, 2, ((uint64_t)q & 0xff) | ((uint64_t)r & 0xff) << 8);
        } else {
            set_reg(env, R_EAX, sz, (uint64_t)q);
            set_reg(env, R_EDX, sz, (uint64_t)r);
        }
        break;
    }
    }
    NEXT();
}
L_IMUL2:
    RM_READ(vb);
    va = get_reg(env, op->rd, sz);
    goto imul_common;
L_IMUL3:
    RM_READ(va);
    vb = (uint64_t)op->imm;
imul_common: {
    __int128 p = (__int128)sext(va, sz) * sext(vb, sz);
    uint64_t lo = (uint64_t)p & szmask(sz);
    bool ovf = p != (__int128)sext(lo, sz);
    set_reg(env, op->rd, sz, lo);
    set_cc(env, &cc, (flags_szp(lo, sz) & ~(uint64_t)X86_FLAG_ZF) |
                (ovf ? X86_FLAG_CF | X86_FLAG_OF : 0));
    NEXT();
}
L_SHIFT: {
    unsigned cnt = op->imm < 0 ? (unsigned)R[R_ECX] & 0xff : (unsigned)op->imm;
    cnt &= sz == 8 ? 63 : 31;
    RM_READ_RMW(va);
    if (cnt) {
        va = (b->ilen & X86_PF_NOFLAGS) ? shift_value(op->rs3, sz, va, cnt)
                                        : shift(env, &cc, op->rs3, sz, va, cnt);
        RM_WRITE(va);
    } else if (sz == 4 && op->rs1 != X86_RM_MEM) {
        R[op->rs1] = (uint32_t)R[op->rs1];   /* a 32-bit destination is written even so */
    }
    NEXT();
}
L_SHD: {
    unsigned cnt = (op->imm < 0 ? (unsigned)R[R_ECX] : (unsigned)op->imm) &
                   (sz == 8 ? 63 : 31);
    RM_READ_RMW(va);
    if (!cnt && sz == 4 && op->rs1 != X86_RM_MEM) {
        R[op->rs1] = (uint32_t)R[op->rs1];   /* a 32-bit destination is written even so */
    }
    if (cnt) {
        unsigned bits = sz * 8;
        uint64_t src = get_reg(env, op->rd, sz), m = szmask(sz);
        unsigned __int128 w;
        uint64_t r;
        unsigned cf;
        if (op->rs3 == 0) {   /* SHLD */
            w = ((unsigned __int128)va << bits) | src;
            w <<= cnt;
            r = (uint64_t)(w >> bits) & m;
            cf = (uint64_t)(((unsigned __int128)va << bits | src) >> (2 * bits - cnt)) & 1;
        } else {
            w = ((unsigned __int128)src << bits) | va;
            r = (uint64_t)(w >> cnt) & m;
            cf = (uint64_t)(w >> (cnt - 1)) & 1;
        }
        uint64_t f = flags_szp(r, sz) | (cf ? X86_FLAG_CF : 0);
        f |= ((r ^ va) & sz_signbit(sz)) ? X86_FLAG_OF : 0;
        set_cc(env, &cc, f);
        RM_WRITE(r);
    }
    NEXT();
}
L_MOV_RM_R:
    va = get_reg(env, op->rd, sz);
    if (op->rs1 == X86_RM_MEM) {
        la = ea_lin(t, b);
    }
    RM_WRITE(va);
    NEXT();
L_MOV_R_RM:
    RM_READ(va);
    set_reg(env, op->rd, sz, va);
    NEXT();
L_MOV_RM_I:
    if (op->rs1 == X86_RM_MEM) {
        la = ea_lin(t, b);
    }
    RM_WRITE((uint64_t)op->imm);
    NEXT();
L_MOVX: {
    unsigned src = b->insn_idx;
    if (op->rs1 == X86_RM_MEM) {
        CHECK(ld(t, ea_lin(t, b), src, &va));
    } else {
        va = get_reg(env, op->rs1, src);
    }
    set_reg(env, op->rd, sz, op->rs3 ? (uint64_t)sext(va, src) : va);
    NEXT();
}
L_LEA:
    set_reg(env, op->rd, sz, ea_off(env, b));
    NEXT();
L_XCHG:
    if (op->rs1 == X86_RM_MEM) {
        vb = get_reg(env, op->rd, sz);
        RMW_LOCKED(vb, true);
        set_reg(env, op->rd, sz, va);
        NEXT();
    }
    va = get_reg(env, op->rs1, sz);
    vb = get_reg(env, op->rd, sz);
    set_reg(env, op->rs1, sz, vb);
    set_reg(env, op->rd, sz, va);
    NEXT();
L_CMPXCHG: {
    uint64_t acc = get_reg(env, R_EAX, sz);
    vb = get_reg(env, op->rd, sz);
    if (op->rs1 == X86_RM_MEM) {
        /* always a locked access; a failed compare writes the old value back */
        RMW_LOCKED(va == acc ? vb : va, true);
    } else {
        va = get_reg(env, op->rs1, sz);
        if (va == acc) {
            set_reg(env, op->rs1, sz, vb);
        }
    }
    alu(env, &cc, ALU_CMP, sz, acc, va);
    if (va != acc) {
        set_reg(env, R_EAX, sz, va);
    }
    NEXT();
}
L_XADD:
    vb = get_reg(env, op->rd, sz);
    if (op->rs1 == X86_RM_MEM) {
        RMW_LOCKED((va + vb) & szmask(sz), true);
    } else {
        /* the destination is written last: XADD r, r with one register leaves the sum */
        va = get_reg(env, op->rs1, sz);
        alu(env, &cc, ALU_ADD, sz, va, vb);
        set_reg(env, op->rd, sz, va);
        set_reg(env, op->rs1, sz, va + vb);
        NEXT();
    }
    alu(env, &cc, ALU_ADD, sz, va, vb);
    set_reg(env, op->rd, sz, va);
    NEXT();
L_BSWAP:
    if (sz == 8) {
        R[op->rd] = __builtin_bswap64(R[op->rd]);
    } else if (sz == 4) {
        R[op->rd] = __builtin_bswap32((uint32_t)R[op->rd]);
    } else {
        set_reg(env, op->rd, 2, 0);   /* undefined on hardware; zero as observed */
    }
    NEXT();
L_CBW:
    set_reg(env, R_EAX, sz, (uint64_t)sext(R[R_EAX], sz / 2));
    NEXT();
L_CWD:
    set_reg(env, R_EDX, sz, (R[R_EAX] & sz_signbit(sz)) ? ~0ull : 0);
    NEXT();
L_CMPXCHG8B: {
    uint64_t m = 0xffffffffull;
    SYNC();
    if (sz == 16) {
        /* CMPXCHG16B: RDX:RAX against m128 (16-byte aligned), RCX:RBX stored on a match */
        unsigned __int128 exp = (unsigned __int128)R[R_EDX] << 64 | R[R_EAX];
        unsigned __int128 nv = (unsigned __int128)R[R_ECX] << 64 | R[R_EBX];
        unsigned __int128 old;
        la = ea_lin(t, b);
        if (la & 15) {
            GP0();
        }
        void *h = x86_rmw_ptr(t, la, 16, t->mmu_idx);
        if (h) {
            old = exp;
            cas128(h, &old, nv);
        } else {
            CHECK(t->exc_vec < 0);
            uint64_t lo, hi;
            CHECK(ld(t, la, 8, &lo));
            CHECK(ld(t, la + 8, 8, &hi));
            old = (unsigned __int128)hi << 64 | lo;
            unsigned __int128 w = old == exp ? nv : old;
            CHECK(st(t, la, 8, (uint64_t)w));
            CHECK(st(t, la + 8, 8, (uint64_t)(w >> 64)));
        }
        if (old == exp) {
            env->rflags |= X86_FLAG_ZF;
        } else {
            env->rflags &= ~(uint64_t)X86_FLAG_ZF;
            R[R_EAX] = (uint64_t)old;
            R[R_EDX] = (uint64_t)(old >> 64);
        }
    } else {
        uint64_t exp = (R[R_EAX] & m) | (R[R_EDX] & m) << 32;
        uint64_t nv = (R[R_EBX] & m) | (R[R_ECX] & m) << 32;
        sz = 8;
        RMW_LOCKED(va == exp ? nv : va, true);
        if (va == exp) {
            env->rflags |= X86_FLAG_ZF;
        } else {
            env->rflags &= ~(uint64_t)X86_FLAG_ZF;
            R[R_EAX] = (uint32_t)va;
            R[R_EDX] = va >> 32;
        }
    }
    if (unlikely(t->tb_invalidated)) {
        goto store_invalidated;
    }
    NEXT();
}
L_PUSH_RM:
    RM_READ(va);
    CHECK(push(t, sz, va));
    NEXT();
L_PUSH_I:
    CHECK(push(t, sz, (uint64_t)op->imm));
    NEXT();
L_POP_RM:
    CHECK(peek(t, sz, 0, &va));
    if (op->rs1 == X86_RM_MEM) {
        /* the address is computed with RSP already incremented */
        uint64_t old = R[R_ESP];
        sp_add(t, sz);
        la = ea_lin(t, b);
        R[R_ESP] = old;
        CHECK(st(t, la, sz, va));
        sp_add(t, sz);
        NEXT();
    }
    sp_add(t, sz);
    set_reg(env, op->rs1, sz, va);
    NEXT();
L_PUSHF:
    SYNC();
    CHECK(push(t, sz, read_flags(env)));
    NEXT();
L_POPF: {
    SYNC();
    CHECK(peek(t, sz, 0, &va));
    uint64_t mask = CC_MASK | X86_FLAG_TF | X86_FLAG_DF | X86_FLAG_NT | X86_FLAG_AC |
                    X86_FLAG_ID;
    unsigned cpl = x86_cpl(env), iopl = (env->rflags >> 12) & 3;
    if (cpl == 0 || !(env->cr[0] & X86_CR0_PE)) {
        mask |= X86_FLAG_IOPL | X86_FLAG_IF;
    } else if (cpl <= iopl) {
        mask |= X86_FLAG_IF;
    }
    if (sz == 2) {
        mask &= 0xffff;
    }
    sp_add(t, sz);
    env->rflags = (env->rflags & ~mask) | (va & mask) | X86_FLAG_FIXED1;
    END_BLOCK();
}
L_LEAVE: {
    uint64_t m = sp_mask(t);
    uint64_t old = R[R_ESP];
    R[R_ESP] = (R[R_ESP] & ~m) | (R[R_EBP] & m);
    if (!peek(t, sz, 0, &va)) {
        R[R_ESP] = old;
        goto raise;
    }
    sp_add(t, sz);
    set_reg(env, R_EBP, sz, va);
    NEXT();
}
L_ENTER: {
    unsigned level = op->rs3 & 31;
    uint64_t frame_sz = (uint64_t)op->imm & 0xffff, m = sp_mask(t);
    uint64_t old_sp = R[R_ESP], bp = R[R_EBP];
    if (!push(t, sz, bp)) {
        goto raise;
    }
    uint64_t frame = R[R_ESP] & m;
    for (unsigned i = 1; i < level; i++) {
        uint64_t v;
        bp = (bp & ~m) | ((bp - sz) & m);
        if (!ld(t, linear(t, (t->tb_flags & X86_TBF_CS64) ? X86_NONE : R_SS, bp & m), sz, &v) ||
            !push(t, sz, v)) {
            R[R_ESP] = old_sp;
            goto raise;
        }
    }
    if (level && !push(t, sz, frame)) {
        R[R_ESP] = old_sp;
        goto raise;
    }
    set_reg(env, R_EBP, sz, frame);
    R[R_ESP] = (R[R_ESP] & ~m) | ((R[R_ESP] - frame_sz) & m);
    NEXT();
}
L_JCC:
    jcc_taken = cc_cond(env, &cc, op->rs3);
jcc_exit:
    if (jcc_taken) {
        EXIT_TB(op->rd, (uint64_t)op->imm);
    }
    EXIT_TB(op->rs1, NEXT_PC());
L_JMP:
    EXIT_TB(op->rd, (uint64_t)op->imm);
L_JMP_RM:
    RM_READ(va);
    CHECK_TARGET(va);
    JUMP_IND(CSB + va);
L_PUSH_R8: {
    uint64_t sp_ = R[R_ESP] - 8;
    if (unlikely(!canonical(sp_) || !canonical(sp_ + 7))) {
        goto L_PUSH_RM;
    }
    t->stack_access = false;
    CHECK(st(t, sp_, 8, R[op->rs1]));
    R[R_ESP] = sp_;
    NEXT();
}
L_POP_R8: {
    uint64_t sp_ = R[R_ESP];
    if (unlikely(!canonical(sp_) || !canonical(sp_ + 7))) {
        goto L_POP_RM;
    }
    t->stack_access = false;
    CHECK(ld(t, sp_, 8, &va));
    R[R_ESP] = sp_ + 8;
    R[op->rs1] = va;
    NEXT();
}
L_CALL8: {
    uint64_t sp_ = R[R_ESP] - 8;
    if (unlikely(!canonical(sp_) || !canonical(sp_ + 7))) {
        goto L_CALL;
    }
    t->stack_access = false;
    CHECK(st(t, sp_, 8, NEXT_PC() - CSB));
    R[R_ESP] = sp_;
    EXIT_TB(op->rd, (uint64_t)op->imm);
}
L_RET8: {
    uint64_t sp_ = R[R_ESP];
    if (unlikely(!canonical(sp_) || !canonical(sp_ + 7))) {
        goto L_RET;
    }
    t->stack_access = false;
    CHECK(ld(t, sp_, 8, &va));
    CHECK_TARGET(va);
    R[R_ESP] = sp_ + 8;
    JUMP_IND(CSB + va);
}
L_CALL:
    CHECK(push(t, sz, NEXT_PC() - CSB));
    EXIT_TB(op->rd, (uint64_t)op->imm);
L_CALL_RM:
    RM_READ(va);
    CHECK_TARGET(va);
    CHECK(push(t, sz, NEXT_PC() - CSB));
    JUMP_IND(CSB + va);
L_RET:
    CHECK(peek(t, sz, 0, &va));
    CHECK_TARGET(va);
    sp_add(t, sz + (uint64_t)op->imm);
    if (!(t->tb_flags & X86_TBF_CS64) && sz == 2) {
        va &= 0xffff;
    }
    JUMP_IND(CSB + va);
L_LOOP: {
    uint64_t am = b->pc_off == 8 ? ~0ull : b->pc_off == 4 ? 0xffffffffull : 0xffffull;
    bool taken;
    if (op->rs3 == 3) {
        taken = (R[R_ECX] & am) == 0;
    } else {
        R[R_ECX] = addr_reg(R[R_ECX], am, R[R_ECX] - 1);
        taken = (R[R_ECX] & am) != 0;
        if (op->rs3 == 0) {
            taken = taken && !cc_cond(env, &cc, 4);
        } else if (op->rs3 == 1) {
            taken = taken && cc_cond(env, &cc, 4);
        }
    }
    if (taken) {
        EXIT_TB(op->rd, (uint64_t)op->imm);
    }
    EXIT_TB(op->rs1, NEXT_PC());
}
L_SETCC:
    if (op->rs1 == X86_RM_MEM) {
        la = ea_lin(t, b);
    }
    RM_WRITE(cc_cond(env, &cc, op->rs3) ? 1 : 0);
    NEXT();
L_CMOVCC:
    RM_READ(va);
    if (cc_cond(env, &cc, op->rs3)) {
        set_reg(env, op->rd, sz, va);
    } else if (sz == 4) {
        R[op->rd] = (uint32_t)R[op->rd];
    }
    NEXT();
L_BT: {
    unsigned bits = sz * 8;
    int64_t bit;
    if (op->rd == X86_NONE) {
        bit = op->imm & (bits - 1);
    } else {
        bit = sext(get_reg(env, op->rd, sz), sz);
    }
    if (op->rs1 == X86_RM_MEM && op->rd != X86_NONE) {
        /* a register bit offset addresses memory beyond the operand */
        int64_t off = (bit >> (sz == 8 ? 6 : sz == 4 ? 5 : 4)) * (int64_t)sz;
        la = linear(t, b->rs3, ea_off(env, b) + (uint64_t)off);
        bit &= bits - 1;
    } else if (op->rs1 == X86_RM_MEM) {
        la = ea_lin(t, b);
    }
    bit &= bits - 1;
    uint64_t mask = 1ull << bit;
    SYNC();
    uint64_t f = env->rflags;
#define BT_EXPR(x) (op->rs3 == 1 ? ((x) | mask) : op->rs3 == 2 ? ((x) & ~mask) : \
                    op->rs3 == 3 ? ((x) ^ mask) : (x))
    if (op->rs1 == X86_RM_MEM) {
        if ((b->ilen & X86_PF_LOCK) && op->rs3) {
            void *h = x86_rmw_ptr(t, la, sz, t->mmu_idx);
            CHECK(h || t->exc_vec < 0);
            if (h) {
                uint64_t old;
                switch (sz) {
                case 2: old = op->rs3 == 1 ? __atomic_fetch_or((uint16_t *)h, (uint16_t)mask, __ATOMIC_SEQ_CST)
                            : op->rs3 == 2 ? __atomic_fetch_and((uint16_t *)h, (uint16_t)~mask, __ATOMIC_SEQ_CST)
                            : __atomic_fetch_xor((uint16_t *)h, (uint16_t)mask, __ATOMIC_SEQ_CST); break;
                case 4: old = op->rs3 == 1 ? __atomic_fetch_or((uint32_t *)h, (uint32_t)mask, __ATOMIC_SEQ_CST)
                            : op->rs3 == 2 ? __atomic_fetch_and((uint32_t *)h, (uint32_t)~mask, __ATOMIC_SEQ_CST)
                            : __atomic_fetch_xor((uint32_t *)h, (uint32_t)mask, __ATOMIC_SEQ_CST); break;
                default: old = op->rs3 == 1 ? __atomic_fetch_or((uint64_t *)h, mask, __ATOMIC_SEQ_CST)
                             : op->rs3 == 2 ? __atomic_fetch_and((uint64_t *)h, ~mask, __ATOMIC_SEQ_CST)
                             : __atomic_fetch_xor((uint64_t *)h, mask, __ATOMIC_SEQ_CST); break;
                }
                va = old;
                goto bt_flags;
            }
        }
        if (op->rs3) {
            CHECK(probe_write(t, la, sz));
        }
        CHECK(ld(t, la, sz, &va));
        if (op->rs3) {
            CHECK(st(t, la, sz, BT_EXPR(va)));
        }
    } else {
        va = get_reg(env, op->rs1, sz);
        if (op->rs3) {
            set_reg(env, op->rs1, sz, BT_EXPR(va));
        }
    }
bt_flags:
    env->rflags = (f & ~(uint64_t)X86_FLAG_CF) | ((va & mask) ? X86_FLAG_CF : 0);
    if (unlikely(t->tb_invalidated)) {
        goto store_invalidated;
    }
    NEXT();
}
L_BSF:
    RM_READ(va);
    SYNC();
    va &= szmask(sz);
    if (!va) {
        set_cc(env, &cc, (env->rflags & CC_MASK & ~(uint64_t)X86_FLAG_ZF) | X86_FLAG_ZF);
    } else {
        set_reg(env, op->rd, sz, (uint64_t)__builtin_ctzll(va));
        set_cc(env, &cc, env->rflags & CC_MASK & ~(uint64_t)X86_FLAG_ZF);
    }
    NEXT();
L_BSR:
    RM_READ(va);
    SYNC();
    va &= szmask(sz);
    if (!va) {
        set_cc(env, &cc, (env->rflags & CC_MASK & ~(uint64_t)X86_FLAG_ZF) | X86_FLAG_ZF);
    } else {
        set_reg(env, op->rd, sz, 63u - (unsigned)__builtin_clzll(va));
        set_cc(env, &cc, env->rflags & CC_MASK & ~(uint64_t)X86_FLAG_ZF);
    }
    NEXT();
L_POPCNT:
    RM_READ(va);
    va &= szmask(sz);
    set_reg(env, op->rd, sz, (uint64_t)__builtin_popcountll(va));
    set_cc(env, &cc, va ? 0 : X86_FLAG_ZF);
    NEXT();
L_STRING: {
    /* 0 MOVS 1 STOS 2 LODS 3 CMPS 4 SCAS 5 INS 6 OUTS */
    uint64_t am = b->pc_off == 8 ? ~0ull : b->pc_off == 4 ? 0xffffffffull : 0xffffull;
    bool rep = b->ilen & (X86_PF_REP | X86_PF_REPNE);
    int64_t step = (env->rflags & X86_FLAG_DF) ? -(int64_t)sz : (int64_t)sz;
    unsigned kind = op->rs3;
    int es = (t->tb_flags & X86_TBF_CS64) ? X86_NONE : R_ES;
    if (kind >= 5 && !io_allowed(t)) {
        GP0();
    }
    bool uses_si = kind == 0 || kind == 2 || kind == 3 || kind == 6;
    bool uses_di = kind != 2 && kind != 6;
    if (am == 0xffffffffull && kind <= 1) {
        /* 32-bit addressed MOVS/STOS write their registers as 32-bit ones even for a zero
         * count (the compares and LODS leave them alone then, as the CPU does) */
        R[R_ESI] = uses_si ? (uint32_t)R[R_ESI] : R[R_ESI];
        R[R_EDI] = uses_di ? (uint32_t)R[R_EDI] : R[R_EDI];
        R[R_ECX] = rep ? (uint32_t)R[R_ECX] : R[R_ECX];
    }
    /* a repeated compare that faults leaves the flags as they were before it */
    SYNC();
    uint64_t flags0 = env->rflags;
    unsigned budget = 4096;
    while (!rep || (R[R_ECX] & am)) {
        uint64_t si = R[R_ESI] & am, di = R[R_EDI] & am;
        switch (kind) {
        case 0:
            CHECK(ld(t, linear(t, b->rs3, si), sz, &va));
            CHECK(st(t, linear(t, es, di), sz, va));
            break;
        case 1:
            CHECK(st(t, linear(t, es, di), sz, R[R_EAX]));
            break;
        case 2:
            CHECK(ld(t, linear(t, b->rs3, si), sz, &va));
            set_reg(env, R_EAX, sz, va);
            break;
        case 3:
            if (!ld(t, linear(t, b->rs3, si), sz, &va) || !ld(t, linear(t, es, di), sz, &vb)) {
                if (rep) {
                    set_cc(env, &cc, flags0 & CC_MASK);
                }
                goto raise;
            }
            alu(env, &cc, ALU_CMP, sz, va, vb);
            break;
        case 4:
            if (!ld(t, linear(t, es, di), sz, &vb)) {
                if (rep) {
                    set_cc(env, &cc, flags0 & CC_MASK);
                }
                goto raise;
            }
            alu(env, &cc, ALU_CMP, sz, R[R_EAX], vb);
            break;
        case 5:
            io_in((unsigned)R[R_EDX] & 0xffff, sz, &va);
            CHECK(st(t, linear(t, es, di), sz, va));
            break;
        default:
            CHECK(ld(t, linear(t, b->rs3, si), sz, &va));
            io_out((unsigned)R[R_EDX] & 0xffff, sz, va);
            break;
        }
        if (uses_si) {
            R[R_ESI] = addr_reg(R[R_ESI], am, si + (uint64_t)step);
        }
        if (uses_di) {
            R[R_EDI] = addr_reg(R[R_EDI], am, di + (uint64_t)step);
        }
        if (!rep) {
            break;
        }
        R[R_ECX] = addr_reg(R[R_ECX], am, R[R_ECX] - 1);
        if (kind == 3 || kind == 4) {
            bool zf = cc_cond(env, &cc, 4);
            if ((b->ilen & X86_PF_REP) ? !zf : zf) {
                break;
            }
        }
        if (unlikely(t->tb_invalidated) || --budget == 0) {
            /* resume the rest of the repetition in a new block (interrupts may come) */
            if ((R[R_ECX] & am) != 0) {
                t->tb_invalidated = false;
                SET_RIP(PC());
                check_irq = true;
                last_tb = NULL;
                goto next_tb;
            }
        }
    }
    if (t->tb_invalidated || rep || kind >= 5) {
        t->tb_invalidated = false;
        END_BLOCK();
    }
    NEXT();
}
L_IO: {
    unsigned port = op->imm < 0 ? (unsigned)R[R_EDX] & 0xffff : (unsigned)op->imm;
    if (!io_allowed(t)) {
        GP0();
    }
    if (op->rs3) {
        io_out(port, sz, R[R_EAX] & szmask(sz));
    } else {
        io_in(port, sz, &va);
        set_reg(env, R_EAX, sz, va);
    }
    END_BLOCK();
}
L_FLAGOP:
    SYNC();
    switch (op->rs3) {
    case 0: env->rflags &= ~(uint64_t)X86_FLAG_CF; break;
    case 1: env->rflags |= X86_FLAG_CF; break;
    case 2: env->rflags ^= X86_FLAG_CF; break;
    case 3: case 4:
        if ((env->cr[0] & X86_CR0_PE) && x86_cpl(env) > ((env->rflags >> 12) & 3)) {
            GP0();
        }
        if (op->rs3 == 3) {
            env->rflags &= ~(uint64_t)X86_FLAG_IF;
        } else {
            if (!(env->rflags & X86_FLAG_IF)) {
                env->interrupt_shadow = true;
            }
            env->rflags |= X86_FLAG_IF;
            SET_RIP(NEXT_PC());
            last_tb = NULL;
            goto next_tb;
        }
        break;
    case 5: env->rflags &= ~(uint64_t)X86_FLAG_DF; break;
    case 6: env->rflags |= X86_FLAG_DF; break;
    case 7: {
        uint64_t m = X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF | X86_FLAG_SF;
        env->rflags = (env->rflags & ~m) | ((R[R_EAX] >> 8) & m);
        break;
    }
    default:
        set_reg(env, 16 + R_EAX, 1, (env->rflags & 0xd7) | X86_FLAG_FIXED1);
        break;
    }
    NEXT();
L_NOP:
    if (op->rs3 && x86_cpl(env) != 0) {
        GP0();
    }
    NEXT();
L_HLT:
    if (x86_cpl(env) != 0) {
        GP0();
    }
    SET_RIP(NEXT_PC());
    ret = ACCEL_EXIT_HALTED;
    goto out;
L_CPUID: {
    uint32_t o[4];
    x86_cpu_cpuid(env, (uint32_t)R[R_EAX], (uint32_t)R[R_ECX], o);
    R[R_EAX] = o[0];
    R[R_EBX] = o[1];
    R[R_ECX] = o[2];
    R[R_EDX] = o[3];
    NEXT();
}
L_RDTSC:
    if ((env->cr[4] & X86_CR4_TSD) && x86_cpl(env) != 0) {
        GP0();
    }
    va = x86_read_tsc(t);
    R[R_EAX] = (uint32_t)va;
    R[R_EDX] = va >> 32;
    NEXT();
L_RDTSCP:
    if ((env->cr[4] & X86_CR4_TSD) && x86_cpl(env) != 0) {
        GP0();
    }
    va = x86_read_tsc(t);
    R[R_EAX] = (uint32_t)va;
    R[R_EDX] = va >> 32;
    R[R_ECX] = (uint32_t)env->tsc_aux;
    NEXT();
L_RDMSR:
    if (x86_cpl(env) != 0) {
        GP0();
    }
    CHECK(x86_rdmsr(t, (uint32_t)R[R_ECX], &va));
    R[R_EAX] = (uint32_t)va;
    R[R_EDX] = va >> 32;
    NEXT();
L_WRMSR:
    if (x86_cpl(env) != 0) {
        GP0();
    }
    CHECK(x86_wrmsr(t, (uint32_t)R[R_ECX], (R[R_EDX] << 32) | (uint32_t)R[R_EAX]));
    END_BLOCK();
L_MOVCR:
    if (x86_cpl(env) != 0) {
        GP0();
    }
    if (op->rs3) {
        CHECK(x86_write_cr(t, op->rd, R[op->rs1] & szmask(sz)));
    } else {
        switch (op->rd) {
        case 0: case 2: case 3: case 4: va = env->cr[op->rd]; break;
        case 8: va = env->cr8; break;
        default: RAISE(EXCP_UD, false, 0);
        }
        set_reg(env, op->rs1, sz, va);
    }
    END_BLOCK();
L_MOVDR:
    if (x86_cpl(env) != 0) {
        GP0();
    }
    {
        unsigned r = op->rd == 4 ? 6 : op->rd == 5 ? 7 : op->rd;
        if (r > 7) {
            RAISE(EXCP_UD, false, 0);
        }
        if (op->rs3) {
            env->dr[r] = R[op->rs1];   /* debug breakpoints are not armed */
        } else {
            set_reg(env, op->rs1, sz, env->dr[r]);
        }
    }
    END_BLOCK();
L_DESC: {
    unsigned sub = op->rs3;
    bool cs64 = t->tb_flags & X86_TBF_CS64;
    if (sub != 0 && sub != 1 && sub != 8 && sub != 9 && sub != 12 && x86_cpl(env) != 0) {
        GP0();
    }
    switch (sub) {
    case 0: case 1: {   /* SLDT, STR */
        uint16_t sel = sub ? env->tr.selector : env->ldt.selector;
        if (op->rs1 == X86_RM_MEM) {
            CHECK(st(t, ea_lin(t, b), 2, sel));
        } else {
            set_reg(env, op->rs1, sz, sel);
        }
        break;
    }
    case 2: case 3:     /* LLDT, LTR */
        if (op->rs1 == X86_RM_MEM) {
            CHECK(ld(t, ea_lin(t, b), 2, &va));
        } else {
            va = R[op->rs1];
        }
        CHECK(sub == 2 ? x86_lldt(t, (uint16_t)va) : x86_ltr(t, (uint16_t)va));
        break;
    case 8: case 9: {   /* SGDT, SIDT */
        X86DescTable *d = sub == 8 ? &env->gdt : &env->idt;
        la = ea_lin(t, b);
        CHECK(st(t, la, 2, d->limit));
        CHECK(st(t, linear(t, b->rs3, ea_off(env, b) + 2), cs64 ? 8 : 4,
                 cs64 ? d->base : (uint32_t)d->base));
        break;
    }
    case 10: case 11: { /* LGDT, LIDT */
        X86DescTable *d = sub == 10 ? &env->gdt : &env->idt;
        uint64_t lim, base;
        CHECK(ld(t, ea_lin(t, b), 2, &lim));
        CHECK(ld(t, linear(t, b->rs3, ea_off(env, b) + 2), cs64 ? 8 : 4, &base));
        if (!cs64 && sz == 2) {
            base &= 0xffffff;
        }
        d->limit = (uint16_t)lim;
        d->base = base;
        break;
    }
    case 12:            /* SMSW */
        if (op->rs1 == X86_RM_MEM) {
            CHECK(st(t, ea_lin(t, b), 2, env->cr[0] & 0xffff));
        } else {
            set_reg(env, op->rs1, sz, env->cr[0]);
        }
        break;
    case 14:            /* LMSW: sets PE, MP, EM, TS; cannot clear PE */
        if (op->rs1 == X86_RM_MEM) {
            CHECK(ld(t, ea_lin(t, b), 2, &va));
        } else {
            va = R[op->rs1];
        }
        CHECK(x86_write_cr(t, 0, (env->cr[0] & ~0xeull) | (va & 0xf) |
                                 (env->cr[0] & X86_CR0_PE)));
        break;
    case 15:            /* INVLPG */
        x86_tlb_flush_page(t, ea_lin(t, b));
        break;
    default:
        RAISE(EXCP_UD, false, 0);
    }
    END_BLOCK();
}
L_SWAPGS:
    if (x86_cpl(env) != 0) {
        GP0();
    }
    va = env->segs[R_GS].base;
    env->segs[R_GS].base = env->kernel_gs_base;
    env->kernel_gs_base = va;
    NEXT();
L_SYSCALL:
    SYNC();
    CHECK(x86_syscall(t, NEXT_PC() - CSB));
    JUMP_IND(CSB + env->rip);
L_SYSRET:
    SYNC();
    CHECK(x86_sysret(t, b->ilen & X86_PF_REXW));
    JUMP_IND(CSB + env->rip);
L_IRET:
    SYNC();
    CHECK(x86_iret(t, (b->ilen & X86_PF_REXW) ? 8 : sz));
    check_irq = true;
    last_tb = NULL;
    goto next_tb;
L_INT:
    SYNC();
    if (op->rs3 == 2 && !(env->rflags & X86_FLAG_OF)) {
        NEXT();
    }
    SET_RIP(PC());
    /* INT3, INT n and INTO are traps past the instruction, checked against the gate DPL */
    x86_do_interrupt(t, (int)op->imm, true, false, 0, NEXT_PC() - CSB);
    last_tb = NULL;
    goto next_tb;
L_EXCP:
    RAISE((int)op->imm, false, 0);
L_CLTS:
    if (x86_cpl(env) != 0) {
        GP0();
    }
    env->cr[0] &= ~(uint64_t)X86_CR0_TS;
    x86_update_mode(t);
    END_BLOCK();
L_MOV_SEG:
    if (op->rs3 == 0) {
        va = env->segs[op->rd].selector;
        if (op->rs1 == X86_RM_MEM) {
            la = ea_lin(t, b);
        }
        RM_WRITE(va);
        NEXT();
    }
    RM_READ(va);
    CHECK(x86_load_seg(t, op->rd, (uint16_t)va));
    if (op->rd == R_SS) {
        env->interrupt_shadow = true;
    }
    END_BLOCK();
L_PUSH_SEG:
    CHECK(push(t, sz, env->segs[op->rs3].selector));
    NEXT();
L_POP_SEG:
    CHECK(peek(t, sz, 0, &va));
    CHECK(x86_load_seg(t, op->rs3, (uint16_t)va));
    sp_add(t, sz);
    if (op->rs3 == R_SS) {
        env->interrupt_shadow = true;
    }
    END_BLOCK();
L_LJMP:
    SYNC();
    SET_RIP(PC());
    CHECK(x86_far_jump(t, (uint16_t)b->imm, (uint64_t)op->imm & szmask(sz), op->rs3, sz,
                       NEXT_PC() - CSB));
    last_tb = NULL;
    goto next_tb;
L_LJMP_M: {
    la = ea_lin(t, b);
    unsigned osz = sz;
    CHECK(ld(t, la, osz, &va));
    CHECK(ld(t, linear(t, b->rs3, ea_off(env, b) + osz), 2, &vb));
    SYNC();
    SET_RIP(PC());
    CHECK(x86_far_jump(t, (uint16_t)vb, va, op->rs3, osz, NEXT_PC() - CSB));
    last_tb = NULL;
    goto next_tb;
}
L_LRET:
    SYNC();
    SET_RIP(PC());
    CHECK(x86_far_ret(t, (b->ilen & X86_PF_REXW) ? 8 : sz, (unsigned)op->imm));
    last_tb = NULL;
    goto next_tb;
L_XLAT:
    CHECK(ld(t, linear(t, b->rs3, ((R[R_EBX] + (R[R_EAX] & 0xff)) &
                                   (b->pc_off == 8 ? ~0ull : b->pc_off == 4 ? 0xffffffffull
                                                                            : 0xffffull))),
             1, &va));
    set_reg(env, R_EAX, 1, va);
    NEXT();
L_FXSAVE: {
    if (t->tb_flags & X86_TBF_TS_EM) {
        RAISE(EXCP_NM, false, 0);
    }
    la = ea_lin(t, b);
    if (la & 15) {
        GP0();
    }
    uint8_t *img = (uint8_t *)&env->fx;
    if (op->rs3 == 0) {
        for (unsigned i = 0; i < 416; i += 8) {
            uint64_t v;
            memcpy(&v, img + i, 8);
            CHECK(st(t, la + i, 8, v));
        }
    } else {
        X86FxSave n;
        uint8_t *ni = (uint8_t *)&n;
        for (unsigned i = 0; i < 416; i += 8) {
            uint64_t v;
            CHECK(ld(t, la + i, 8, &v));
            memcpy(ni + i, &v, 8);
        }
        if (n.mxcsr & ~env->fx.mxcsr_mask) {
            GP0();
        }
        memcpy(img, ni, 24);
        memcpy(img + 32, ni + 32, 416 - 32);
        env->fx.mxcsr = n.mxcsr;
    }
    NEXT();
}
L_MXCSR:
    if (!(t->tb_flags & X86_TBF_OSFXSR) || (env->cr[0] & X86_CR0_EM)) {
        RAISE(EXCP_UD, false, 0);
    }
    if (env->cr[0] & X86_CR0_TS) {
        RAISE(EXCP_NM, false, 0);
    }
    la = ea_lin(t, b);
    if (op->rs3 == 0) {
        CHECK(ld(t, la, 4, &va));
        if (va & ~(uint64_t)env->fx.mxcsr_mask) {
            GP0();
        }
        env->fx.mxcsr = (uint32_t)va;
    } else {
        CHECK(st(t, la, 4, env->fx.mxcsr));
    }
    NEXT();
L_SSE:
    SYNC();
    la = op->rs1 == X86_RM_MEM ? ea_lin(t, b) : 0;
    CHECK(x86_sse_exec(t, op, la));
    if (unlikely(t->tb_invalidated)) {
        goto store_invalidated;
    }
    NEXT();
L_FPU:
    SYNC();
    la = op->rs1 == X86_RM_MEM ? ea_lin(t, b) : 0;
    SET_RIP(PC());
    CHECK(x86_fpu_exec(t, op, la));
    if (unlikely(t->tb_invalidated)) {
        goto store_invalidated;
    }
    NEXT();

out:
    SYNC();
    return ret;
}

int x86_cpu_exec(CPUState *cs)
{
    return x86_exec_loop(cs, NULL);
}
