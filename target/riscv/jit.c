/* JIT back end (x86-64 hosts): the hot parts of a block become host code. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "target/riscv/internal.h"
#include "target/riscv/ops.h"

#if defined(__x86_64__)

/*
 * A run is a sequence of a block's ops that host code runs one after the other: integer ALU
 * ops, loads, stores, conditional branches and the block's direct and indirect exits (JAL,
 * JALR, the final GOTO). Guest registers stay in env->x (no register allocation): each op
 * loads its sources, computes and stores its result. Loads and stores check the TLB inline
 * like the interpreter and call riscv_load_slow / riscv_store_slow on a miss. An exit leaves
 * like EXIT_TB in exec.c: to the chained successor's host code when it has some (a tail
 * jump: chained blocks run without returning), else back to the interpreter. An exception,
 * a store into translated code or an op the JIT does not compile returns to the interpreter
 * at that op; the ops of a run stay as decoded, so the interpreter can go on from any of
 * them. Host registers: rbx = env->x, r12 = the data TLB, r13 = env; two stack slots.
 */

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

_Static_assert(sizeof(TLBEntry) == 32, "the TLB index is scaled by a shift of 5");
_Static_assert(offsetof(TLBEntry, tag_r) == 0 && offsetof(TLBEntry, tag_w) == 8 &&
               offsetof(TLBEntry, addend) == 24, "TLB entry layout");
_Static_assert(_Alignof(TBOp) >= 8, "op pointers carry the status in their low 3 bits");

#define MAX_OPS TB_MAX_INSNS

typedef struct Stub {
    uint32_t jcc;      /* offset of the rel32 of the jcc that leads here (TLB miss, taken branch) */
    uint32_t resume;   /* after a slow access: where the fast path goes on */
    const TBOp *op;
    uint8_t kind;
} Stub;

typedef struct Jit {
    uint8_t *buf;
    size_t len, cap;
    bool overflow;
    CPURISCVState *env;
    TBCache *cache;
    TranslationBlock *tb;
    Stub stubs[MAX_OPS];
    unsigned nstubs;
    uint32_t exits[8 * MAX_OPS];   /* rel32 offsets of jumps to the epilogue */
    unsigned nexits;
} Jit;

static void b1(Jit *j, uint8_t v)
{
    if (j->len < j->cap) {
        j->buf[j->len] = v;
    } else {
        j->overflow = true;
    }
    j->len++;
}

static void b4(Jit *j, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        b1(j, (uint8_t)(v >> (8 * i)));
    }
}

static void b8(Jit *j, uint64_t v)
{
    b4(j, (uint32_t)v);
    b4(j, (uint32_t)(v >> 32));
}

static void patch4(Jit *j, uint32_t at, uint32_t v)
{
    if (at + 4 <= j->cap) {
        memcpy(j->buf + at, &v, 4);
    }
}

/* Points the rel32 at offset at to offset target. */
static void link_rel32(Jit *j, uint32_t at, size_t target)
{
    patch4(j, at, (uint32_t)((int64_t)target - (int64_t)(at + 4)));
}

static bool fits8(int64_t v)
{
    return v >= -128 && v <= 127;
}

static bool fits32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

/* REX prefix when needed: w = 64-bit operand, r = modrm.reg, b = modrm.rm / base. */
static void rex(Jit *j, bool w, int r, int b)
{
    uint8_t v = (uint8_t)(0x40 | (w ? 8 : 0) | ((r & 8) ? 4 : 0) | ((b & 8) ? 1 : 0));
    if (v != 0x40) {
        b1(j, v);
    }
}

/* Opcode bytes (1 or 2; 0x0f escapes written as part of op > 0xff) */
static void opcode(Jit *j, unsigned op)
{
    if (op > 0xff) {
        b1(j, (uint8_t)(op >> 8));
    }
    b1(j, (uint8_t)op);
}

/* op reg, [base + disp] */
static void op_rm(Jit *j, bool w, unsigned op, int reg, int base, int32_t disp)
{
    rex(j, w, reg, base);
    opcode(j, op);
    int mod = (disp == 0 && (base & 7) != RBP) ? 0 : fits8(disp) ? 1 : 2;
    b1(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | (base & 7)));
    if ((base & 7) == RSP) {
        b1(j, 0x24);
    }
    if (mod == 1) {
        b1(j, (uint8_t)disp);
    } else if (mod == 2) {
        b4(j, (uint32_t)disp);
    }
}

/* op reg, rm (register form) */
static void op_rr(Jit *j, bool w, unsigned op, int reg, int rm)
{
    rex(j, w, reg, rm);
    opcode(j, op);
    b1(j, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* Group-1 ALU with an immediate: ext 0 add, 1 or, 4 and, 5 sub, 6 xor, 7 cmp. */
static void alu_ri(Jit *j, bool w, int ext, int r, int32_t imm)
{
    rex(j, w, 0, r);
    if (fits8(imm)) {
        b1(j, 0x83);
        b1(j, (uint8_t)(0xc0 | ext << 3 | (r & 7)));
        b1(j, (uint8_t)imm);
    } else {
        b1(j, 0x81);
        b1(j, (uint8_t)(0xc0 | ext << 3 | (r & 7)));
        b4(j, (uint32_t)imm);
    }
}

/* Shift by an immediate: ext 4 shl, 5 shr, 7 sar. */
static void shift_ri(Jit *j, bool w, int ext, int r, unsigned n)
{
    rex(j, w, 0, r);
    b1(j, 0xc1);
    b1(j, (uint8_t)(0xc0 | ext << 3 | (r & 7)));
    b1(j, (uint8_t)n);
}

/* Shift by cl. */
static void shift_rcl(Jit *j, bool w, int ext, int r)
{
    rex(j, w, 0, r);
    b1(j, 0xd3);
    b1(j, (uint8_t)(0xc0 | ext << 3 | (r & 7)));
}

static void mov_ri(Jit *j, int r, uint64_t v)
{
    if (v <= UINT32_MAX) {
        rex(j, false, 0, r);
        b1(j, (uint8_t)(0xb8 | (r & 7)));
        b4(j, (uint32_t)v);
    } else if (fits32((int64_t)v)) {
        rex(j, true, 0, r);
        b1(j, 0xc7);
        b1(j, (uint8_t)(0xc0 | (r & 7)));
        b4(j, (uint32_t)v);
    } else {
        rex(j, true, 0, r);
        b1(j, (uint8_t)(0xb8 | (r & 7)));
        b8(j, v);
    }
}

static void load_x(Jit *j, int r, unsigned reg)
{
    op_rm(j, true, 0x8b, r, RBX, (int32_t)(reg * 8));
}

static void store_x(Jit *j, unsigned reg, int r)
{
    op_rm(j, true, 0x89, r, RBX, (int32_t)(reg * 8));
}

/* rax = sign extension of eax */
static void sext32(Jit *j)
{
    op_rr(j, true, 0x63, RAX, RAX);
}


static bool is_branch(unsigned kind)
{
    return kind == OP_BEQ || kind == OP_BNE || kind == OP_BLT || kind == OP_BGE ||
           kind == OP_BLTU || kind == OP_BGEU;
}

static bool is_load(unsigned kind)
{
    return kind == OP_LB || kind == OP_LH || kind == OP_LW || kind == OP_LD ||
           kind == OP_LBU || kind == OP_LHU || kind == OP_LWU;
}

static bool is_store(unsigned kind)
{
    return kind == OP_SB || kind == OP_SH || kind == OP_SW || kind == OP_SD;
}

/* Ops that leave the block: a run ends with them. */
static bool is_jump(unsigned kind)
{
    return kind == OP_GOTO || kind == OP_JAL || kind == OP_JALR;
}

static bool jit_supported(unsigned kind)
{
    switch (kind) {
    case OP_LI: case OP_MV: case OP_LI_PAIR:
    case OP_ADD: case OP_SUB: case OP_SLL: case OP_SLT: case OP_SLTU: case OP_XOR:
    case OP_SRL: case OP_SRA: case OP_OR: case OP_AND:
    case OP_ADDI: case OP_SLTI: case OP_SLTIU: case OP_XORI: case OP_ORI: case OP_ANDI:
    case OP_SLLI: case OP_SRLI: case OP_SRAI:
    case OP_ADDW: case OP_SUBW: case OP_SLLW: case OP_SRLW: case OP_SRAW:
    case OP_ADDIW: case OP_SLLIW: case OP_SRLIW: case OP_SRAIW:
    case OP_MUL: case OP_MULW:
        return true;
    default:
        return is_branch(kind) || is_load(kind) || is_store(kind) || is_jump(kind);
    }
}

static unsigned mem_size(unsigned kind)
{
    switch (kind) {
    case OP_LB: case OP_LBU: case OP_SB:
        return 1;
    case OP_LH: case OP_LHU: case OP_SH:
        return 2;
    case OP_LW: case OP_LWU: case OP_SW:
        return 4;
    default:
        return 8;
    }
}

/* call fn (the frame keeps rsp 16-byte aligned) */
static void call(Jit *j, const void *fn)
{
    mov_ri(j, R11, (uint64_t)(uintptr_t)fn);
    op_rr(j, false, 0xff, 2, R11);                   /* call r11 */
}

/* rax = the load kind's value, extended to 64 bits: from [rax] (mem) or from rax. */
static void load_extend(Jit *j, unsigned kind, bool mem)
{
    static const struct { uint8_t kind; bool w; uint16_t opc; } ext[] = {
        { OP_LB, true, 0x0fbe }, { OP_LBU, false, 0x0fb6 }, { OP_LH, true, 0x0fbf },
        { OP_LHU, false, 0x0fb7 }, { OP_LW, true, 0x63 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(ext); i++) {
        if (ext[i].kind == kind) {
            mem ? op_rm(j, ext[i].w, ext[i].opc, RAX, RAX, 0)
                : op_rr(j, ext[i].w, ext[i].opc, RAX, RAX);
            return;
        }
    }
    if (kind == OP_LWU) {
        mem ? op_rm(j, false, 0x8b, RAX, RAX, 0) : op_rr(j, false, 0x89, RAX, RAX);
    } else if (mem) {
        op_rm(j, true, 0x8b, RAX, RAX, 0);           /* LD */
    }
}

/* jmp rel32 to the epilogue (linked at the end) */
static void jmp_epilogue(Jit *j)
{
    b1(j, 0xe9);
    if (j->nexits < G_N_ELEMENTS(j->exits)) {
        j->exits[j->nexits++] = (uint32_t)j->len;
    } else {
        j->overflow = true;
    }
    b4(j, 0);
}

/* Forward jcc/jmp with a rel8 to patch: returns where its displacement is. */
static size_t jcc8(Jit *j, uint8_t opc)
{
    b1(j, opc);
    b1(j, 0);
    return j->len - 1;
}

static void here8(Jit *j, size_t at)
{
    if (at < j->cap) {
        j->buf[at] = (uint8_t)(j->len - at - 1);
    }
    if (j->len - at - 1 > 127) {
        j->overflow = true;          /* never with the sequences below */
    }
}

/* Leaves to the interpreter at op with status (NEXT, RAISE or INVALIDATED). */
static void leave_at(Jit *j, const TBOp *op, unsigned status)
{
    mov_ri(j, RAX, (uint64_t)(uintptr_t)j->tb);
    op_rm(j, true, 0x89, RAX, R13, (int32_t)offsetof(CPURISCVState, jit_tb));
    mov_ri(j, RAX, (uint64_t)(uintptr_t)op | status);
    jmp_epilogue(j);
}

/* env->instret += n */
static void add_instret(Jit *j, unsigned n)
{
    rex(j, true, 0, R13);
    b1(j, fits8(n) ? 0x83 : 0x81);
    int32_t disp = (int32_t)offsetof(CPURISCVState, instret);
    b1(j, (uint8_t)(2 << 6 | (R13 & 7)));            /* mod=10 /0 [r13 + disp32] */
    b4(j, (uint32_t)disp);
    fits8(n) ? b1(j, (uint8_t)n) : b4(j, n);
}

/* Enters block rax (not NULL) unless an exit is requested (then jumps to the rel8 returned):
 * by a tail jump into its host code, or by returning it to the interpreter. */
static size_t enter_block(Jit *j)
{
    size_t busy;

    mov_ri(j, RCX, (uint64_t)(uintptr_t)&env_cpu(j->env)->parent.exit_request);
    op_rm(j, false, 0x83, 7, RCX, 0);                 /* cmp dword [rcx], 0 */
    b1(j, 0);
    busy = jcc8(j, 0x75);                             /* jne */
    op_rm(j, true, 0x8b, RCX, RAX, (int32_t)offsetof(TranslationBlock, jit_entry));
    op_rr(j, true, 0x85, RCX, RCX);                   /* test rcx, rcx */
    size_t interp = jcc8(j, 0x74);                    /* jz */
    op_rr(j, false, 0xff, 4, RCX);                    /* jmp rcx */
    here8(j, interp);
    alu_ri(j, true, 1, RAX, RISCV_JIT_ENTER);         /* or rax, ENTER */
    jmp_epilogue(j);
    return busy;
}

/* Direct exit n of the block to target, after op (which retires): like EXIT_TB. */
static void gen_exit(Jit *j, const TBOp *op, unsigned n, uint64_t target)
{
    add_instret(j, op->insn_idx + 1u);
    mov_ri(j, RAX, (uint64_t)(uintptr_t)&j->tb->jmp_dest[n]);
    op_rm(j, true, 0x8b, RAX, RAX, 0);
    op_rr(j, true, 0x85, RAX, RAX);                   /* test rax, rax */
    size_t unchained = jcc8(j, 0x74);
    size_t busy = enter_block(j);
    here8(j, unchained);
    here8(j, busy);
    mov_ri(j, RAX, target);
    op_rm(j, true, 0x89, RAX, R13, (int32_t)offsetof(CPURISCVState, pc));
    mov_ri(j, RAX, (uint64_t)(uintptr_t)j->tb);
    op_rm(j, true, 0x89, RAX, R13, (int32_t)offsetof(CPURISCVState, jit_tb));
    mov_ri(j, RAX, (uint64_t)n << 3 | RISCV_JIT_EXIT);
    jmp_epilogue(j);
}

/* Block for an indirect jump's target: the JALR's cache slot, refreshed from the jump cache
 * like L_JALR does; NULL when the target has no block yet. */
static TranslationBlock *jit_jalr_lookup(TBCache *cache, uint64_t t, TBOp *slot, uint32_t flags)
{
    TranslationBlock *d = tb_jc_lookup(cache, t, flags);
    if (d) {
        slot->handler = d;
        slot->imm = (int64_t)t;
        slot->aux = cache->jc_gen;
    }
    return d;
}

/* JALR: like L_JALR in exec.c, whose target cache is the op after it. */
static void gen_jalr(Jit *j, const TBOp *op)
{
    const TBOp *slot = op + 1;
    uint64_t next_pc = j->tb->pc + op->pc_off + op->ilen;

    load_x(j, RAX, op->rs1);
    if (op->imm) {
        alu_ri(j, true, 0, RAX, (int32_t)op->imm);
    }
    alu_ri(j, true, 4, RAX, -2);                      /* and rax, ~1 */
    op_rm(j, true, 0x89, RAX, RSP, 8);                /* target in the second slot */
    mov_ri(j, RCX, next_pc);
    store_x(j, op->rd, RCX);
    add_instret(j, op->insn_idx + 1u);
    mov_ri(j, RCX, (uint64_t)(uintptr_t)slot);
    op_rm(j, true, 0x3b, RAX, RCX, (int32_t)offsetof(TBOp, imm));
    size_t miss = jcc8(j, 0x75);
    mov_ri(j, RDX, (uint64_t)(uintptr_t)&j->cache->jc_gen);
    op_rm(j, true, 0x8b, RDX, RDX, 0);
    op_rm(j, true, 0x3b, RDX, RCX, (int32_t)offsetof(TBOp, aux));
    size_t miss2 = jcc8(j, 0x75);
    op_rm(j, true, 0x8b, RAX, RCX, (int32_t)offsetof(TBOp, handler));
    size_t hit = jcc8(j, 0xeb);                       /* jmp */
    here8(j, miss);
    here8(j, miss2);
    mov_ri(j, RDI, (uint64_t)(uintptr_t)j->cache);
    op_rr(j, true, 0x89, RCX, RDX);                   /* mov rdx, rcx (slot) */
    op_rr(j, true, 0x89, RAX, RSI);                   /* mov rsi, rax (target) */
    mov_ri(j, RCX, j->tb->flags);
    call(j, (const void *)jit_jalr_lookup);
    op_rr(j, true, 0x85, RAX, RAX);
    size_t none = jcc8(j, 0x74);
    here8(j, hit);
    size_t busy = enter_block(j);
    here8(j, none);
    here8(j, busy);
    op_rm(j, true, 0x8b, RAX, RSP, 8);
    op_rm(j, true, 0x89, RAX, R13, (int32_t)offsetof(CPURISCVState, pc));
    mov_ri(j, RAX, (uint64_t)TB_MAX_EXITS << 3 | RISCV_JIT_EXIT);
    jmp_epilogue(j);
}

/* op reg, [r12 + rdx + disp8]: the TLB entry of the access */
static void op_tlb(Jit *j, bool w, unsigned opc, int reg, int8_t disp)
{
    rex(j, w, reg, R12);
    opcode(j, opc);
    b1(j, (uint8_t)((disp ? 1 : 0) << 6 | (reg & 7) << 3 | 4));
    b1(j, (uint8_t)(RDX << 3 | (R12 & 7)));          /* SIB: scale 1, index rdx, base r12 */
    if (disp) {
        b1(j, (uint8_t)disp);
    }
}

/* Inline TLB check of the access at x[rs1] + imm: rax = host address on a hit; a miss jumps
 * to a stub (recorded) that does the slow access and comes back after the fast path. */
static void mem_fast(Jit *j, const TBOp *op, unsigned kind)
{
    bool store = is_store(kind);
    unsigned size = mem_size(kind);

    load_x(j, RAX, op->rs1);
    if (op->imm) {
        alu_ri(j, true, 0, RAX, (int32_t)op->imm);
    }
    op_rr(j, true, 0x89, RAX, RDX);                  /* mov rdx, rax */
    shift_ri(j, true, 5, RDX, 12 - 5);               /* entry offset: page number * 32 ... */
    alu_ri(j, false, 4, RDX, (TLB_SIZE - 1) << 5);   /* ... modulo the TLB size */
    op_rr(j, true, 0x89, RAX, RCX);                  /* mov rcx, rax */
    alu_ri(j, true, 4, RCX, (int32_t)(TB_PAGE_MASK | (size - 1)));
    op_tlb(j, true, 0x3b, RCX, store ? 8 : 0);       /* cmp rcx, tag */
    b1(j, 0x0f);
    b1(j, 0x85);                                     /* jne stub */
    Stub *st = &j->stubs[j->nstubs++];
    st->jcc = (uint32_t)j->len;
    st->op = op;
    st->kind = (uint8_t)kind;
    b4(j, 0);
    op_tlb(j, true, 0x03, RAX, 24);                  /* add rax, addend */
}

static void gen_load(Jit *j, const TBOp *op, unsigned kind)
{
    mem_fast(j, op, kind);
    load_extend(j, kind, true);
    store_x(j, op->rd, RAX);
    j->stubs[j->nstubs - 1].resume = (uint32_t)j->len;
}

static void gen_store(Jit *j, const TBOp *op, unsigned kind)
{
    mem_fast(j, op, kind);
    load_x(j, RCX, op->rs2);
    switch (mem_size(kind)) {
    case 1:
        op_rm(j, false, 0x88, RCX, RAX, 0);
        break;
    case 2:
        b1(j, 0x66);
        op_rm(j, false, 0x89, RCX, RAX, 0);
        break;
    case 4:
        op_rm(j, false, 0x89, RCX, RAX, 0);
        break;
    default:
        op_rm(j, true, 0x89, RCX, RAX, 0);
        break;
    }
    j->stubs[j->nstubs - 1].resume = (uint32_t)j->len;
}

/* Out of line: the slow access of a TLB miss, then back to the fast path's end. */
static void gen_stub(Jit *j, const Stub *st)
{
    link_rel32(j, st->jcc, j->len);
    op_rr(j, true, 0x89, R13, RDI);                  /* mov rdi, env */
    op_rr(j, true, 0x89, RAX, RSI);                  /* mov rsi, addr */
    mov_ri(j, RDX, mem_size(st->kind));
    if (is_store(st->kind)) {
        load_x(j, RCX, st->op->rs2);
        switch (mem_size(st->kind)) {
        case 1:
            op_rr(j, false, 0x0fb6, RCX, RCX);
            break;
        case 2:
            op_rr(j, false, 0x0fb7, RCX, RCX);
            break;
        case 4:
            op_rr(j, false, 0x89, RCX, RCX);
            break;
        }
        call(j, (const void *)riscv_store_slow);
    } else {
        op_rr(j, true, 0x89, RSP, RCX);              /* mov rcx, rsp: &value */
        call(j, (const void *)riscv_load_slow);
    }
    op_rr(j, false, 0x84, RAX, RAX);                 /* test al, al */
    b1(j, 0x0f);
    b1(j, 0x84);                                     /* jz raise */
    uint32_t raise = (uint32_t)j->len;
    b4(j, 0);
    if (is_store(st->kind)) {
        /* cmp byte [r13 + tb_invalidated], 0; je resume */
        op_rm(j, false, 0x80, 7, R13, (int32_t)offsetof(CPURISCVState, tb_invalidated));
        b1(j, 0);
        b1(j, 0x0f);
        b1(j, 0x84);
        b4(j, 0);
        link_rel32(j, (uint32_t)j->len - 4, st->resume);
        leave_at(j, st->op, RISCV_JIT_INVALIDATED);
    } else {
        op_rm(j, true, 0x8b, RAX, RSP, 0);           /* mov rax, [rsp] */
        load_extend(j, st->kind, false);
        store_x(j, st->op->rd, RAX);
        b1(j, 0xe9);
        b4(j, 0);
        link_rel32(j, (uint32_t)j->len - 4, st->resume);
    }
    link_rel32(j, raise, j->len);
    leave_at(j, st->op, RISCV_JIT_RAISE);
}

/* x[rd] = x[rs1] OP x[rs2] for the ops whose x86 form is "op r64, r/m64" */
static void gen_rr(Jit *j, const TBOp *op, unsigned opc, bool w32)
{
    load_x(j, RAX, op->rs1);
    op_rm(j, true, opc, RAX, RBX, (int32_t)(op->rs2 * 8));
    if (w32) {
        sext32(j);
    }
    store_x(j, op->rd, RAX);
}

static void gen_shift_r(Jit *j, const TBOp *op, int ext, bool w32)
{
    load_x(j, RAX, op->rs1);
    load_x(j, RCX, op->rs2);
    shift_rcl(j, !w32, ext, RAX);
    if (w32) {
        sext32(j);
    }
    store_x(j, op->rd, RAX);
}

static void gen_shift_i(Jit *j, const TBOp *op, int ext, bool w32)
{
    load_x(j, RAX, op->rs1);
    if (op->imm) {
        shift_ri(j, !w32, ext, RAX, (unsigned)op->imm);
    }
    if (w32) {
        sext32(j);
    }
    store_x(j, op->rd, RAX);
}

/* x[rd] = x[rs1] OP imm (12-bit immediates) */
static void gen_ri(Jit *j, const TBOp *op, int ext, bool w32)
{
    load_x(j, RAX, op->rs1);
    if (op->imm || ext == 4) {
        alu_ri(j, true, ext, RAX, (int32_t)op->imm);
    }
    if (w32) {
        sext32(j);
    }
    store_x(j, op->rd, RAX);
}

/* x[rd] = (x[rs1] < src) as 0/1; setcc 0x9c (signed) or 0x92 (unsigned) */
static void gen_set(Jit *j, const TBOp *op, unsigned setcc, bool imm)
{
    load_x(j, RAX, op->rs1);
    if (imm) {
        alu_ri(j, true, 7, RAX, (int32_t)op->imm);
    } else {
        op_rm(j, true, 0x3b, RAX, RBX, (int32_t)(op->rs2 * 8));
    }
    op_rr(j, false, 0x0f00 | setcc, 0, RAX);
    op_rr(j, false, 0x0fb6, RAX, RAX);
    store_x(j, op->rd, RAX);
}

/* A taken branch jumps to its exit code, out of line after the run. */
static void gen_branch(Jit *j, const TBOp *op, unsigned kind)
{
    static const uint8_t taken_cc[] = {
        [OP_BEQ] = 0x84, [OP_BNE] = 0x85, [OP_BLT] = 0x8c, [OP_BGE] = 0x8d,
        [OP_BLTU] = 0x82, [OP_BGEU] = 0x83,
    };

    load_x(j, RAX, op->rs1);
    op_rm(j, true, 0x3b, RAX, RBX, (int32_t)(op->rs2 * 8));
    b1(j, 0x0f);
    b1(j, taken_cc[kind]);
    Stub *st = &j->stubs[j->nstubs++];
    st->jcc = (uint32_t)j->len;
    st->op = op;
    st->kind = (uint8_t)kind;
    b4(j, 0);
}

static void gen_op(Jit *j, const TBOp *op, unsigned kind)
{
    switch (kind) {
    case OP_LI:
    case OP_LI_PAIR:    /* its ADDI, next, is not compiled: imm is the sum */
        mov_ri(j, RAX, (uint64_t)op->imm);
        store_x(j, op->rd, RAX);
        break;
    case OP_MV:
        load_x(j, RAX, op->rs1);
        store_x(j, op->rd, RAX);
        break;
    case OP_ADD: gen_rr(j, op, 0x03, false); break;
    case OP_SUB: gen_rr(j, op, 0x2b, false); break;
    case OP_AND: gen_rr(j, op, 0x23, false); break;
    case OP_OR: gen_rr(j, op, 0x0b, false); break;
    case OP_XOR: gen_rr(j, op, 0x33, false); break;
    case OP_ADDW: gen_rr(j, op, 0x03, true); break;
    case OP_SUBW: gen_rr(j, op, 0x2b, true); break;
    case OP_MUL: gen_rr(j, op, 0x0faf, false); break;
    case OP_MULW: gen_rr(j, op, 0x0faf, true); break;
    case OP_SLT: gen_set(j, op, 0x9c, false); break;
    case OP_SLTU: gen_set(j, op, 0x92, false); break;
    case OP_SLTI: gen_set(j, op, 0x9c, true); break;
    case OP_SLTIU: gen_set(j, op, 0x92, true); break;
    case OP_SLL: gen_shift_r(j, op, 4, false); break;
    case OP_SRL: gen_shift_r(j, op, 5, false); break;
    case OP_SRA: gen_shift_r(j, op, 7, false); break;
    case OP_SLLW: gen_shift_r(j, op, 4, true); break;
    case OP_SRLW: gen_shift_r(j, op, 5, true); break;
    case OP_SRAW: gen_shift_r(j, op, 7, true); break;
    case OP_SLLI: gen_shift_i(j, op, 4, false); break;
    case OP_SRLI: gen_shift_i(j, op, 5, false); break;
    case OP_SRAI: gen_shift_i(j, op, 7, false); break;
    case OP_SLLIW: gen_shift_i(j, op, 4, true); break;
    case OP_SRLIW: gen_shift_i(j, op, 5, true); break;
    case OP_SRAIW: gen_shift_i(j, op, 7, true); break;
    case OP_ADDI: gen_ri(j, op, 0, false); break;
    case OP_ADDIW: gen_ri(j, op, 0, true); break;
    case OP_ORI: gen_ri(j, op, 1, false); break;
    case OP_ANDI: gen_ri(j, op, 4, false); break;
    case OP_XORI: gen_ri(j, op, 6, false); break;
    case OP_GOTO:
        gen_exit(j, op, op->rs3, (uint64_t)op->imm);
        break;
    case OP_JAL:
        mov_ri(j, RAX, j->tb->pc + op->pc_off + op->ilen);
        store_x(j, op->rd, RAX);
        gen_exit(j, op, op->rs3, (uint64_t)op->imm);
        break;
    case OP_JALR:
        gen_jalr(j, op);
        break;
    default:
        if (is_branch(kind)) {
            gen_branch(j, op, kind);
        } else if (is_load(kind)) {
            gen_load(j, op, kind);
        } else {
            gen_store(j, op, kind);
        }
        break;
    }
}

/* Host code for the run ops[0..n) (kinds: their ops for the JIT); *entry is where chained
 * blocks jump in (after the prologue). NULL when it does not fit in the code arena. */
static void *jit_run(Jit *j, const TBOp *ops, const uint8_t *kinds, unsigned n, void **entry)
{
    j->buf = tb_code_ptr(j->cache, &j->cap);
    j->len = 0;
    j->overflow = false;
    j->nstubs = j->nexits = 0;
    b1(j, 0x53);                                     /* push rbx */
    b1(j, 0x41);
    b1(j, 0x54);                                     /* push r12 */
    b1(j, 0x41);
    b1(j, 0x55);                                     /* push r13 */
    alu_ri(j, true, 5, RSP, 16);                     /* sub rsp, 16 */
    op_rr(j, true, 0x89, RDI, RBX);                  /* mov rbx, rdi (x) */
    op_rr(j, true, 0x89, RSI, R12);                  /* mov r12, rsi (dtlb) */
    op_rr(j, true, 0x89, RDX, R13);                  /* mov r13, rdx (env) */
    size_t body = j->len;
    for (unsigned k = 0; k < n; k++) {
        gen_op(j, &ops[k], kinds[k]);
        k += kinds[k] == OP_LI_PAIR;
    }
    if (!is_jump(kinds[n - 1])) {
        leave_at(j, &ops[n], RISCV_JIT_NEXT);
    }
    size_t epilogue = j->len;
    alu_ri(j, true, 0, RSP, 16);                     /* add rsp, 16 */
    b1(j, 0x41);
    b1(j, 0x5d);                                     /* pop r13 */
    b1(j, 0x41);
    b1(j, 0x5c);                                     /* pop r12 */
    b1(j, 0x5b);                                     /* pop rbx */
    b1(j, 0xc3);                                     /* ret */
    for (unsigned i = 0; i < j->nstubs; i++) {
        const Stub *st = &j->stubs[i];
        if (is_branch(st->kind)) {
            link_rel32(j, st->jcc, j->len);
            gen_exit(j, st->op, st->op->rd, (uint64_t)st->op->imm);
        } else {
            gen_stub(j, st);
        }
    }
    for (unsigned i = 0; i < j->nexits; i++) {
        link_rel32(j, j->exits[i], epilogue);
    }
    if (j->overflow) {
        return NULL;
    }
    j->cache->code_used += (j->len + 15) & ~(size_t)15;
    *entry = j->buf + body;
    if (tcg_perfmap_enabled()) {
        tcg_perfmap_add(j->buf, j->len, "riscv", j->tb->pc + ops[0].pc_off);
    }
    return j->buf;
}

typedef struct LabelKind {
    const void *label;
    unsigned kind;
} LabelKind;

static LabelKind label_kinds[OP_COUNT];

static int label_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const LabelKind *)a)->label;
    uintptr_t y = (uintptr_t)((const LabelKind *)b)->label;
    return x < y ? -1 : x > y;
}

/* The op an op's handler implements, 0xff for none (the data op after a JALR). */
static unsigned handler_kind(const TBOp *op)
{
    LabelKind key = { .label = op->handler };
    const LabelKind *lk = bsearch(&key, label_kinds, OP_COUNT, sizeof(LabelKind), label_cmp);
    return lk ? lk->kind : 0xff;
}

/* What an op does as far as the JIT is concerned: for a fused pair the first instruction's
 * op (the second op is in place), 0xff for what it does not compile. */
static unsigned base_kind(unsigned kind)
{
    static const uint8_t first[][2] = {
        { OP_LD_RUN, OP_LD }, { OP_SD_RUN, OP_SD }, { OP_ANDI_BEQ, OP_ANDI },
        { OP_ANDI_BNE, OP_ANDI }, { OP_ADDI_JALR, OP_ADDI }, { OP_LI_JALR, OP_LI },
        { OP_MV_JAL, OP_MV }, { OP_MV_MV, OP_MV }, { OP_ADDI_SD, OP_ADDI },
        { OP_ADDI_MV, OP_ADDI }, { OP_ADDI_LI, OP_ADDI }, { OP_MV_LI, OP_MV },
        { OP_LI_LI, OP_LI }, { OP_MV_LD, OP_MV }, { OP_SLLI_ADD, OP_SLLI },
        { OP_SLLI_SRLI, OP_SLLI }, { OP_LD_ADDI, OP_LD }, { OP_LD_MV, OP_LD },
        { OP_LD_LI, OP_LD }, { OP_LD_BEQ, OP_LD }, { OP_LD_BNE, OP_LD }, { OP_LD_ANDI, OP_LD },
        { OP_SD_ADDI, OP_SD },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(first); i++) {
        if (kind == first[i][0]) {
            return first[i][1];
        }
    }
    return kind == OP_NATIVE ? 0xff : kind;
}

void riscv_jit_block(CPURISCVState *env, TBCache *c, TranslationBlock *tb,
                     const void *const *labels)
{
    static gsize init;
    static __thread Jit j;
    uint8_t kinds[TB_MAX_INSNS + 2];
    /* ops a fused op before them runs with their fields: a run must not start there */
    bool covered[TB_MAX_INSNS + 2] = { false };
    size_t room;

    if (g_once_init_enter(&init)) {
        for (unsigned i = 0; i < OP_COUNT; i++) {
            label_kinds[i] = (LabelKind){ labels[i], i };
        }
        qsort(label_kinds, OP_COUNT, sizeof(LabelKind), label_cmp);
        g_once_init_leave(&init, 1);
    }
    tb_code_ptr(c, &room);
    if (room < RISCV_JIT_BLOCK_MAX || tb->nops > G_N_ELEMENTS(kinds)) {
        return;
    }
    for (unsigned i = 0; i < tb->nops; i++) {
        unsigned kind = handler_kind(&tb->ops[i]);
        unsigned span = kind == OP_LD_RUN || kind == OP_SD_RUN ? tb->ops[i].rs3 :
                        base_kind(kind) != kind || kind == OP_LI_PAIR ? 2 : 1;
        kinds[i] = (uint8_t)base_kind(kind);
        for (unsigned k = i + 1; k < i + span && k < tb->nops; k++) {
            covered[k] = true;
        }
    }
    j.env = env;
    j.cache = c;
    j.tb = tb;
    for (unsigned i = 0; i < tb->nops;) {
        unsigned n = 0;
        if (!covered[i]) {
            while (i + n < tb->nops && n < MAX_OPS && jit_supported(kinds[i + n])) {
                n++;
                if (is_jump(kinds[i + n - 1])) {
                    break;
                }
            }
        }
        /* an LI_PAIR's ADDI must not run again in the interpreter */
        if (n && kinds[i + n - 1] == OP_LI_PAIR) {
            n--;
        }
        if (n >= RISCV_JIT_MIN_RUN || (n && is_jump(kinds[i + n - 1]))) {
            void *entry;
            void *code = jit_run(&j, &tb->ops[i], &kinds[i], n, &entry);
            if (!code) {
                return;
            }
            tb->ops[i].handler = labels[OP_NATIVE];
            tb->ops[i].imm = (int64_t)(uintptr_t)code;
            if (i == 0) {
                tb->jit_entry = entry;
            }
        }
        i += n ? n : 1;
    }
}

bool riscv_jit_available(void)
{
    return true;
}

#else

void riscv_jit_block(CPURISCVState *env, TBCache *c, TranslationBlock *tb,
                     const void *const *labels)
{
}

bool riscv_jit_available(void)
{
    return false;
}

#endif
