#ifndef ACCEL_TCG_TCG_H
#define ACCEL_TCG_TCG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "accel/cpu.h"

/*
 * The target-independent half of the interpreter: translated blocks (TBs) of pre-decoded
 * ops in a per-vCPU code cache keyed by guest physical PC + virtual PC + flags, a virtual-PC
 * jump cache, direct-jump chaining and invalidation by guest physical page.
 * A target's decoder fills TBOp arrays; its exec function dispatches them by threaded code
 * (op->handler is the address of the op's implementation, e.g. a computed-goto label).
 */

#define TB_PAGE_BITS 12
#define TB_PAGE_SIZE (1ull << TB_PAGE_BITS)
#define TB_PAGE_MASK (~(TB_PAGE_SIZE - 1))
/* Upper bound on guest instructions per block (insn_idx is 8 bits). */
#define TB_MAX_INSNS 200
/* Direct exits per block (conditional branches continue the block when not taken); the
 * exit number travels in the low bits of 16-byte-aligned block pointers. */
#define TB_MAX_EXITS 8

/* One pre-decoded guest operation; 24 bytes. */
typedef struct TBOp {
    const void *handler;     /* dispatch target supplied by the target's exec function */
    int64_t imm;             /* immediate, absolute target PC, or helper pointer */
    union {
        struct {
            uint8_t rd, rs1, rs2, rs3;
            uint16_t pc_off;         /* guest PC of the instruction minus the block's PC */
            uint8_t insn_idx;        /* index of the instruction inside the block */
            uint8_t ilen;            /* length of the guest instruction in bytes */
        };
        uint64_t aux;                /* instead, in an op that is data for the one before */
    };
} TBOp;

typedef struct TranslationBlock TranslationBlock;
struct TranslationBlock {
    uint64_t phys_pc;                /* guest physical PC */
    uint64_t phys_page2;             /* second physical page touched, or UINT64_MAX */
    uint64_t jmp_pc[TB_MAX_EXITS];   /* direct successor PCs (UINT64_MAX: not chainable) */
    uintptr_t jmp_in;                /* incoming chain list head: (tb | exit) */
    uintptr_t jmp_in_next[TB_MAX_EXITS];        /* next link of our exit n in dest's list */
    TranslationBlock *hash_next;
    TranslationBlock *page_next[2];  /* per-page lists (page 1 = phys_pc's page, 2 = page2) */
    uint32_t nops;
    uint32_t nexits;
    uint16_t size;                   /* guest bytes covered */
    uint16_t icount;                 /* guest instructions */
    bool invalid;
    /* What running and entering the block reads sits next to its first op. */
    TranslationBlock *jmp_dest[TB_MAX_EXITS];   /* chained successors */
    uint64_t pc;                     /* guest virtual PC of the first instruction */
    uint32_t flags;                  /* target mode bits the translation depends on */
    uint32_t jit_countdown;          /* entries left before a JIT compiles it (0: never) */
    void *jit_entry;                 /* JIT host code running it from its first op, or NULL */
    TBOp ops[];
};

#define TB_JC_BITS 14
#define TB_JC_SIZE (1u << TB_JC_BITS)
_Static_assert(TB_JC_BITS <= 16, "jump-cache slots are logged in 16 bits");
#define TB_HASH_BITS 15
/* Jump-cache slots filled since the last flush that tb_jc_flush clears one by one; past
 * that many it clears the whole cache. */
#define TB_JC_LOG_SIZE 512

/* A vCPU's code cache. Only its own vCPU thread touches it. */
typedef struct TBCache {
    uint8_t *arena;
    size_t arena_size, arena_used;
    TranslationBlock **hash;           /* 1 << TB_HASH_BITS buckets */
    GHashTable *pages;                 /* guest physical page -> first TB of page list */
    TranslationBlock *jc[TB_JC_SIZE];  /* virtual PC -> TB */
    uint16_t jc_log[TB_JC_LOG_SIZE];   /* slots filled since the last tb_jc_flush ... */
    unsigned jc_log_count;             /* ... and how many (above the size: all of them) */
    uint64_t nr_tbs, nr_flushes;
    uint64_t jc_gen;                   /* changes whenever a jump-cache entry is dropped */
    uint8_t *code;                     /* host code of a JIT back end (RWX), or NULL */
    size_t code_size, code_used;       /* emptied with the blocks by tb_flush */
    bool jit;                          /* new blocks get host code (tests turn it off) */
} TBCache;

/* The interpreter's per-vCPU data (CPUState.accel_data). */
typedef struct TCGVCpu {
    TBCache cache;
    uint32_t tlb_flush_request;        /* atomic: the memory view changed */
} TCGVCpu;

static inline TCGVCpu *tcg_vcpu(CPUState *cpu)
{
    return (TCGVCpu *)cpu->accel_data;
}

static inline unsigned tb_jc_hash(uint64_t pc)
{
    return (unsigned)((pc >> 1) ^ (pc >> (TB_JC_BITS + 1))) & (TB_JC_SIZE - 1);
}

/* Jump-cache probe: the block for virtual pc and flags, or NULL. */
static inline TranslationBlock *tb_jc_lookup(TBCache *c, uint64_t pc, uint32_t flags)
{
    TranslationBlock *tb = c->jc[tb_jc_hash(pc)];
    if (tb && tb->pc == pc && tb->flags == flags) {
        return tb;
    }
    return NULL;
}

static inline void tb_jc_insert(TBCache *c, TranslationBlock *tb)
{
    unsigned h = tb_jc_hash(tb->pc);
    c->jc[h] = tb;
    if (c->jc_log_count < TB_JC_LOG_SIZE) {
        c->jc_log[c->jc_log_count] = (uint16_t)h;
    }
    if (c->jc_log_count <= TB_JC_LOG_SIZE) {
        c->jc_log_count++;
    }
}

void tb_cache_init(TBCache *c, size_t arena_size);
void tb_cache_destroy(TBCache *c);
/* Drops every block (the arena is reused); only between blocks. */
void tb_flush(TBCache *c);
/* Forgets virtual PC -> block associations (after TLB flushes). */
void tb_jc_flush(TBCache *c);
/* Forgets the jump-cache entries of blocks that start in, or run into, the virtual page. */
void tb_jc_flush_page(TBCache *c, uint64_t page);
/* Room for a block of up to max_ops ops; NULL when the arena is full (flush and retry). */
TranslationBlock *tb_alloc(TBCache *c, unsigned max_ops);
/* Publishes a block filled by the decoder (nops ops used, fields set). */
void tb_commit(TBCache *c, TranslationBlock *tb);
TranslationBlock *tb_lookup(TBCache *c, uint64_t phys_pc, uint64_t pc, uint32_t flags);
/* Chains from's direct exit n to to. */
void tb_add_jump(TranslationBlock *from, int n, TranslationBlock *to);
/* Invalidates every block touching guest physical page; true when there was one. Blocks
 * stay readable until the next tb_flush, so the running block may finish its op. */
bool tb_invalidate_phys_page(TBCache *c, uint64_t page);
bool tb_page_has_code(TBCache *c, uint64_t page);
/* True unless the environment says VESSEL_JIT=off: targets with a JIT back end for this
 * host then compile hot op sequences to host code. */
bool tcg_jit_wanted(void);
/* Gives the cache size bytes of executable memory for host code; false when the host
 * refuses it (the interpreter then runs alone). */
bool tb_code_init(TBCache *c, size_t size);
/* -perfmap (accel/tcg/perfmap.c): JIT back ends name each piece of host code they emit. */
void tcg_perfmap_enable(void);
bool tcg_perfmap_enabled(void);
void tcg_perfmap_add(const void *start, size_t size, const char *arch, uint64_t guest_pc);
/* Where the next host code goes and how many bytes fit there. */
static inline uint8_t *tb_code_ptr(TBCache *c, size_t *room)
{
    *room = c->code_size - c->code_used;
    return c->code + c->code_used;
}

#endif
