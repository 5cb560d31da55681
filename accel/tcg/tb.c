/* Translated-block cache: allocation, lookup, chaining and invalidation by physical page. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <glib.h>
#include "accel/tcg/tcg.h"

#define TB_ALIGN 16
#define EXIT_MASK ((uintptr_t)TB_MAX_EXITS - 1)
_Static_assert(TB_MAX_EXITS <= TB_ALIGN, "exit numbers must fit in block pointer bits");

static unsigned tb_hash(uint64_t phys_pc, uint64_t pc, uint32_t flags)
{
    uint64_t h = phys_pc * 0x9e3779b97f4a7c15ull ^ (pc >> 1) ^ ((uint64_t)flags << 40);
    h ^= h >> 29;
    return (unsigned)(h & ((1u << TB_HASH_BITS) - 1));
}

static gpointer page_key(uint64_t page)
{
    return (gpointer)(uintptr_t)(page >> TB_PAGE_BITS);
}

void tb_cache_init(TBCache *c, size_t arena_size)
{
    memset(c, 0, sizeof(*c));
    c->arena = g_malloc(arena_size);
    c->arena_size = arena_size;
    c->hash = g_new0(TranslationBlock *, 1u << TB_HASH_BITS);
    c->pages = g_hash_table_new(g_direct_hash, g_direct_equal);
}

bool tcg_jit_wanted(void)
{
    const char *v = getenv("VESSEL_JIT");
    return !v || strcmp(v, "off") != 0;
}

bool tb_code_init(TBCache *c, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        return false;
    }
    c->code = p;
    c->code_size = size;
    c->code_used = 0;
    c->jit = true;
    return true;
}

void tb_cache_destroy(TBCache *c)
{
    if (c->code) {
        munmap(c->code, c->code_size);
    }
    g_free(c->arena);
    g_free(c->hash);
    g_hash_table_destroy(c->pages);
    memset(c, 0, sizeof(*c));
}

void tb_jc_flush(TBCache *c)
{
    if (c->jc_log_count <= TB_JC_LOG_SIZE) {
        for (unsigned i = 0; i < c->jc_log_count; i++) {
            c->jc[c->jc_log[i]] = NULL;
        }
    } else {
        memset(c->jc, 0, sizeof(c->jc));
    }
    c->jc_log_count = 0;
    c->jc_gen++;
}

/* The jump-cache slots of one virtual page form an aligned run of TB_JC_PAGE_SLOTS: the hash
 * takes bits 1-11 of the PC as they are and folds only higher bits onto them. */
#define TB_JC_PAGE_SLOTS (1u << (TB_PAGE_BITS - 1))
_Static_assert(TB_JC_BITS >= TB_PAGE_BITS, "page slots must form aligned runs");

static void tb_jc_flush_run(TBCache *c, uint64_t page, uint64_t start)
{
    unsigned base = tb_jc_hash(start) & ~(TB_JC_PAGE_SLOTS - 1);
    for (unsigned k = base; k < base + TB_JC_PAGE_SLOTS; k++) {
        TranslationBlock *tb = c->jc[k];
        if (tb && ((tb->pc & TB_PAGE_MASK) == page ||
                   ((tb->pc + tb->size - 1) & TB_PAGE_MASK) == page)) {
            c->jc[k] = NULL;
        }
    }
}

void tb_jc_flush_page(TBCache *c, uint64_t page)
{
    page &= TB_PAGE_MASK;
    c->jc_gen++;
    tb_jc_flush_run(c, page, page);
    tb_jc_flush_run(c, page, page - TB_PAGE_SIZE);
}

void tb_flush(TBCache *c)
{
    c->arena_used = 0;
    c->code_used = 0;
    memset(c->hash, 0, sizeof(TranslationBlock *) << TB_HASH_BITS);
    g_hash_table_remove_all(c->pages);
    tb_jc_flush(c);
    c->nr_tbs = 0;
    c->nr_flushes++;
}

TranslationBlock *tb_alloc(TBCache *c, unsigned max_ops)
{
    size_t need = sizeof(TranslationBlock) + (size_t)max_ops * sizeof(TBOp);
    need = (need + TB_ALIGN - 1) & ~(size_t)(TB_ALIGN - 1);
    if (c->arena_used + need > c->arena_size) {
        return NULL;
    }
    TranslationBlock *tb = (TranslationBlock *)(c->arena + c->arena_used);
    memset(tb, 0, sizeof(*tb));
    tb->phys_page2 = UINT64_MAX;
    for (int n = 0; n < TB_MAX_EXITS; n++) {
        tb->jmp_pc[n] = UINT64_MAX;
    }
    return tb;
}

static void page_list_add(TBCache *c, uint64_t page, TranslationBlock *tb, int i)
{
    gpointer key = page_key(page);
    tb->page_next[i] = g_hash_table_lookup(c->pages, key);
    /* the slot number is kept in the low bit of the list pointers */
    g_hash_table_insert(c->pages, key, (gpointer)((uintptr_t)tb | (uintptr_t)i));
}

void tb_commit(TBCache *c, TranslationBlock *tb)
{
    size_t used = sizeof(TranslationBlock) + (size_t)tb->nops * sizeof(TBOp);
    c->arena_used += (used + TB_ALIGN - 1) & ~(size_t)(TB_ALIGN - 1);
    unsigned h = tb_hash(tb->phys_pc, tb->pc, tb->flags);
    tb->hash_next = c->hash[h];
    c->hash[h] = tb;
    page_list_add(c, tb->phys_pc & TB_PAGE_MASK, tb, 0);
    if (tb->phys_page2 != UINT64_MAX) {
        page_list_add(c, tb->phys_page2, tb, 1);
    }
    c->nr_tbs++;
}

TranslationBlock *tb_lookup(TBCache *c, uint64_t phys_pc, uint64_t pc, uint32_t flags)
{
    TranslationBlock *tb = c->hash[tb_hash(phys_pc, pc, flags)];
    for (; tb; tb = tb->hash_next) {
        if (tb->phys_pc == phys_pc && tb->pc == pc && tb->flags == flags) {
            return tb;
        }
    }
    return NULL;
}

void tb_add_jump(TranslationBlock *from, int n, TranslationBlock *to)
{
    if (from->jmp_dest[n] || from->invalid || to->invalid) {
        return;
    }
    from->jmp_dest[n] = to;
    from->jmp_in_next[n] = to->jmp_in;
    to->jmp_in = (uintptr_t)from | (uintptr_t)n;
}

/* Removes from's outgoing link n from the incoming list of its destination. */
static void tb_unlink_out(TranslationBlock *from, int n)
{
    TranslationBlock *dest = from->jmp_dest[n];
    if (!dest) {
        return;
    }
    uintptr_t want = (uintptr_t)from | (uintptr_t)n;
    uintptr_t *pp = &dest->jmp_in;
    while (*pp) {
        if (*pp == want) {
            *pp = from->jmp_in_next[n];
            break;
        }
        TranslationBlock *t = (TranslationBlock *)(*pp & ~(uintptr_t)EXIT_MASK);
        pp = &t->jmp_in_next[*pp & EXIT_MASK];
    }
    from->jmp_dest[n] = NULL;
}

static void page_list_remove(TBCache *c, uint64_t page, TranslationBlock *tb, int i)
{
    gpointer key = page_key(page);
    uintptr_t want = (uintptr_t)tb | (uintptr_t)i;
    uintptr_t head = (uintptr_t)g_hash_table_lookup(c->pages, key);
    if (head == want) {
        uintptr_t next = (uintptr_t)tb->page_next[i];
        if (next) {
            g_hash_table_insert(c->pages, key, (gpointer)next);
        } else {
            g_hash_table_remove(c->pages, key);
        }
        return;
    }
    while (head) {
        TranslationBlock *t = (TranslationBlock *)(head & ~(uintptr_t)1);
        int ti = head & 1;
        uintptr_t next = (uintptr_t)t->page_next[ti];
        if (next == want) {
            t->page_next[ti] = tb->page_next[i];
            return;
        }
        head = next;
    }
}

/* Takes tb out of every structure except the page list slot `skip_page` being dismantled. */
static void tb_invalidate(TBCache *c, TranslationBlock *tb, int skip_slot)
{
    tb->invalid = true;
    TranslationBlock **pp = &c->hash[tb_hash(tb->phys_pc, tb->pc, tb->flags)];
    for (; *pp; pp = &(*pp)->hash_next) {
        if (*pp == tb) {
            *pp = tb->hash_next;
            break;
        }
    }
    unsigned j = tb_jc_hash(tb->pc);
    if (c->jc[j] == tb) {
        c->jc[j] = NULL;
    }
    c->jc_gen++;
    for (int n = 0; n < TB_MAX_EXITS; n++) {
        tb_unlink_out(tb, n);
    }
    while (tb->jmp_in) {
        TranslationBlock *src = (TranslationBlock *)(tb->jmp_in & ~(uintptr_t)EXIT_MASK);
        int n = tb->jmp_in & EXIT_MASK;
        tb->jmp_in = src->jmp_in_next[n];
        src->jmp_dest[n] = NULL;
    }
    if (skip_slot != 0) {
        page_list_remove(c, tb->phys_pc & TB_PAGE_MASK, tb, 0);
    }
    if (skip_slot != 1 && tb->phys_page2 != UINT64_MAX) {
        page_list_remove(c, tb->phys_page2, tb, 1);
    }
    c->nr_tbs--;
}

bool tb_invalidate_phys_page(TBCache *c, uint64_t page)
{
    gpointer key = page_key(page);
    uintptr_t head = (uintptr_t)g_hash_table_lookup(c->pages, key);
    if (!head) {
        return false;
    }
    g_hash_table_remove(c->pages, key);
    while (head) {
        TranslationBlock *tb = (TranslationBlock *)(head & ~(uintptr_t)1);
        int i = head & 1;
        head = (uintptr_t)tb->page_next[i];
        tb_invalidate(c, tb, i);
    }
    return true;
}

bool tb_page_has_code(TBCache *c, uint64_t page)
{
    return g_hash_table_contains(c->pages, page_key(page));
}
