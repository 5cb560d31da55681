/* x86 system state: exceptions and interrupts, descriptor tables, segment loads, IRET,
 * far transfers, SYSCALL/SYSRET, control registers and MSRs. */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include "target/i386/internal.h"
#include "hw/core/machine.h"
#include "util/log.h"
#include "util/timer.h"
#include "util/bql.h"
#include "hw/intc/apic.h"

#define MSR_IA32_TSC_DEADLINE 0x6e0

void x86_raise(X86Tcg *t, int vec, bool has_err, uint32_t err)
{
    t->exc_vec = vec;
    t->exc_has_err = has_err;
    t->exc_err = err;
}

void x86_update_mode(X86Tcg *t)
{
    CPUX86State *env = t->env;
    uint32_t f = x86_cpl(env);
    if (x86_code64(env)) {
        f |= X86_TBF_CS64;
    } else if (env->segs[R_CS].attr & SEG_ATTR_DB) {
        f |= X86_TBF_CS32;
    }
    if (env->segs[R_SS].attr & SEG_ATTR_DB) {
        f |= X86_TBF_SS32;
    }
    if (env->cr[0] & X86_CR0_PE) {
        f |= X86_TBF_PE;
    }
    if (env->cr[4] & X86_CR4_OSFXSR) {
        f |= X86_TBF_OSFXSR;
    }
    if (env->cr[0] & (X86_CR0_TS | X86_CR0_EM)) {
        f |= X86_TBF_TS_EM;
    }
    t->tb_flags = f;
    t->mmu_idx = x86_cpl(env) == 3 ? X86_MMU_USER : X86_MMU_SUP;
}

/* Implicit supervisor accesses to system structures. */
static bool sys_ld(X86Tcg *t, uint64_t la, unsigned size, uint64_t *v)
{
    return x86_load_slow(t, la, size, v, X86_MMU_SUP);
}

static bool sys_st(X86Tcg *t, uint64_t la, unsigned size, uint64_t v)
{
    return x86_store_slow(t, la, size, v, X86_MMU_SUP);
}

/* Reads the descriptor of sel from the GDT or LDT; #GP(sel) when outside the table. */
static bool read_desc(X86Tcg *t, uint16_t sel, uint32_t *lo, uint32_t *hi, uint64_t *addr)
{
    CPUX86State *env = t->env;
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        base = env->ldt.base;
        limit = env->ldt.limit;
        if (env->ldt.attr & SEG_ATTR_UNUSABLE) {
            limit = 0;
        }
    } else {
        base = env->gdt.base;
        limit = env->gdt.limit;
    }
    uint64_t v;
    if ((sel & ~7u) + 7u > limit || !sys_ld(t, base + (sel & ~7u), 8, &v)) {
        if (t->exc_vec < 0) {
            x86_raise(t, EXCP_GP, true, sel & 0xfffc);
        }
        return false;
    }
    *lo = (uint32_t)v;
    *hi = (uint32_t)(v >> 32);
    if (addr) {
        *addr = base + (sel & ~7u);
    }
    return true;
}

/* Sets the accessed bit of a code/data descriptor in memory. */
static void set_accessed(X86Tcg *t, uint64_t addr, uint32_t hi)
{
    if (!(hi & (1u << 8))) {
        sys_st(t, addr + 4, 4, hi | (1u << 8));
    }
}

static void load_seg_cache(X86Tcg *t, int seg, uint16_t sel, uint32_t lo, uint32_t hi)
{
    x86_segment_from_descriptor(&t->env->segs[seg], sel, lo, hi);
}

bool x86_load_seg(X86Tcg *t, int seg, uint16_t sel)
{
    CPUX86State *env = t->env;
    X86Segment *s = &env->segs[seg];
    if (!(env->cr[0] & X86_CR0_PE)) {
        /* real mode: base = selector * 16, attributes kept */
        s->selector = sel;
        s->base = (uint64_t)sel << 4;
        if (seg == R_CS || seg == R_SS) {
            x86_update_mode(t);
        }
        return true;
    }
    unsigned cpl = x86_cpl(env), rpl = sel & 3;
    if ((sel & 0xfffc) == 0) {
        if (seg == R_SS && !(x86_code64(env) && cpl != 3 && rpl == cpl)) {
            x86_raise(t, EXCP_GP, true, 0);
            return false;
        }
        s->selector = sel;
        s->base = 0;
        s->limit = 0;
        s->attr = SEG_ATTR_UNUSABLE | (seg == R_SS ? (cpl << SEG_ATTR_DPL_SHIFT) |
                                       SEG_ATTR_DB | SEG_ATTR_S | 3 : 0);
        if (seg == R_SS) {
            x86_update_mode(t);
        }
        return true;
    }
    uint32_t lo, hi;
    uint64_t addr;
    if (!read_desc(t, sel, &lo, &hi, &addr)) {
        return false;
    }
    unsigned type = (hi >> 8) & 0xf, dpl = (hi >> 13) & 3;
    bool sflag = hi & (1u << 12), code = type & 8;
    if (!sflag) {
        x86_raise(t, EXCP_GP, true, sel & 0xfffc);
        return false;
    }
    if (seg == R_SS) {
        if (code || !(type & 2) || rpl != cpl || dpl != cpl) {
            x86_raise(t, EXCP_GP, true, sel & 0xfffc);
            return false;
        }
    } else if (code && !(type & 2)) {
        x86_raise(t, EXCP_GP, true, sel & 0xfffc);   /* execute-only code */
        return false;
    } else if ((!code || !(type & 4)) && (dpl < cpl || dpl < rpl)) {
        x86_raise(t, EXCP_GP, true, sel & 0xfffc);
        return false;
    }
    if (!(hi & (1u << 15))) {
        x86_raise(t, seg == R_SS ? EXCP_SS : EXCP_NP, true, sel & 0xfffc);
        return false;
    }
    set_accessed(t, addr, hi);
    load_seg_cache(t, seg, sel, lo, hi | (1u << 8));
    if (seg == R_SS) {
        x86_update_mode(t);
    }
    return true;
}

bool x86_lldt(X86Tcg *t, uint16_t sel)
{
    CPUX86State *env = t->env;
    if ((sel & 0xfffc) == 0) {
        env->ldt.selector = sel;
        env->ldt.base = 0;
        env->ldt.limit = 0;
        env->ldt.attr = SEG_ATTR_UNUSABLE;
        return true;
    }
    uint32_t lo, hi;
    if ((sel & 4) || !read_desc(t, sel, &lo, &hi, NULL)) {
        if (t->exc_vec < 0) {
            x86_raise(t, EXCP_GP, true, sel & 0xfffc);
        }
        return false;
    }
    if (((hi >> 8) & 0x1f) != 2) {
        x86_raise(t, EXCP_GP, true, sel & 0xfffc);
        return false;
    }
    if (!(hi & (1u << 15))) {
        x86_raise(t, EXCP_NP, true, sel & 0xfffc);
        return false;
    }
    x86_segment_from_descriptor(&env->ldt, sel, lo, hi);
    if (x86_long_mode(env)) {
        uint64_t high;
        if (!sys_ld(t, env->gdt.base + (sel & ~7u) + 8, 4, &high)) {
            return false;
        }
        env->ldt.base |= high << 32;
    }
    return true;
}

bool x86_ltr(X86Tcg *t, uint16_t sel)
{
    CPUX86State *env = t->env;
    uint32_t lo, hi;
    uint64_t addr;
    if ((sel & 0xfffc) == 0 || (sel & 4)) {
        x86_raise(t, EXCP_GP, true, sel & 0xfffc);
        return false;
    }
    if (!read_desc(t, sel, &lo, &hi, &addr)) {
        return false;
    }
    unsigned type = (hi >> 8) & 0x1f;
    if (type != 9 && type != 1) {
        x86_raise(t, EXCP_GP, true, sel & 0xfffc);
        return false;
    }
    if (!(hi & (1u << 15))) {
        x86_raise(t, EXCP_NP, true, sel & 0xfffc);
        return false;
    }
    x86_segment_from_descriptor(&env->tr, sel, lo, hi | (2u << 8));
    if (x86_long_mode(env)) {
        uint64_t high;
        if (!sys_ld(t, addr + 8, 4, &high)) {
            return false;
        }
        env->tr.base |= high << 32;
    }
    sys_st(t, addr + 4, 4, hi | (2u << 8));   /* busy */
    return true;
}

/* ---- interrupts and exceptions ---- */

static bool push64(X86Tcg *t, uint64_t *sp, uint64_t v)
{
    *sp -= 8;
    return sys_st(t, *sp, 8, v);
}

/* Pushes onto the stack segment described by ss (32- or 16-bit wide values). */
static bool push_legacy(X86Tcg *t, const X86Segment *ss, uint32_t *sp, unsigned size,
                        uint32_t v)
{
    uint32_t mask = (ss->attr & SEG_ATTR_DB) ? 0xffffffffu : 0xffffu;
    uint32_t nsp = (*sp - size) & mask;
    *sp = (*sp & ~mask) | nsp;
    return sys_st(t, ss->base + nsp, size, v);
}

static void triple_fault(X86Tcg *t)
{
    log_mask_printf(LOG_GUEST_ERROR, "x86: triple fault at rip 0x%016" PRIx64 ", resetting\n",
                    t->env->rip);
    machine_request_reset(SHUTDOWN_CAUSE_GUEST_RESET);
    cpu_exit(t->cs);
}

static bool deliver_long(X86Tcg *t, int vec, bool soft, bool has_err, uint32_t err,
                         uint64_t ret_rip)
{
    CPUX86State *env = t->env;
    unsigned cpl = x86_cpl(env);
    uint64_t lo, hi;
    if (vec * 16u + 15 > env->idt.limit || !sys_ld(t, env->idt.base + vec * 16u, 8, &lo) ||
        !sys_ld(t, env->idt.base + vec * 16u + 8, 8, &hi)) {
        if (t->exc_vec < 0) {
            x86_raise(t, EXCP_GP, true, vec * 8 + 2);
        }
        return false;
    }
    unsigned type = (lo >> 40) & 0x1f, dpl = (lo >> 45) & 3;
    if (type != 0xe && type != 0xf) {
        x86_raise(t, EXCP_GP, true, vec * 8 + 2);
        return false;
    }
    if (soft && dpl < cpl) {
        x86_raise(t, EXCP_GP, true, vec * 8 + 2);
        return false;
    }
    if (!(lo & (1ull << 47))) {
        x86_raise(t, EXCP_NP, true, vec * 8 + 2);
        return false;
    }
    uint16_t sel = (uint16_t)(lo >> 16);
    uint64_t off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull) | (hi << 32);
    unsigned ist = (lo >> 32) & 7;
    uint32_t clo, chi;
    if ((sel & 0xfffc) == 0) {
        x86_raise(t, EXCP_GP, true, 0);
        return false;
    }
    if (!read_desc(t, sel, &clo, &chi, NULL)) {
        return false;
    }
    unsigned cdpl = (chi >> 13) & 3;
    if (!(chi & (1u << 11)) || !(chi & (1u << 21)) || cdpl > cpl) {
        x86_raise(t, EXCP_GP, true, sel & 0xfffc);
        return false;
    }
    if (!(chi & (1u << 15))) {
        x86_raise(t, EXCP_NP, true, sel & 0xfffc);
        return false;
    }
    unsigned ncpl = (chi & (1u << 10)) ? cpl : cdpl;   /* conforming keeps CPL */
    uint64_t sp = env->regs[R_ESP];
    if (ist || ncpl < cpl) {
        uint64_t off_tss = ist ? 0x24 + (ist - 1) * 8 : 4 + ncpl * 8;
        if (off_tss + 7 > env->tr.limit || !sys_ld(t, env->tr.base + off_tss, 8, &sp)) {
            if (t->exc_vec < 0) {
                x86_raise(t, EXCP_TS, true, env->tr.selector & 0xfffc);
            }
            return false;
        }
    }
    sp &= ~0xfull;
    uint64_t old_ss = env->segs[R_SS].selector, old_sp = env->regs[R_ESP];
    if (!push64(t, &sp, old_ss) || !push64(t, &sp, old_sp) ||
        !push64(t, &sp, env->rflags) || !push64(t, &sp, env->segs[R_CS].selector) ||
        !push64(t, &sp, ret_rip) || (has_err && !push64(t, &sp, err))) {
        return false;
    }
    if (ncpl < cpl) {
        X86Segment *ss = &env->segs[R_SS];
        ss->selector = ncpl;
        ss->base = 0;
        ss->limit = 0;
        ss->attr = SEG_ATTR_UNUSABLE | SEG_ATTR_S | SEG_ATTR_DB | 3 |
                   (ncpl << SEG_ATTR_DPL_SHIFT);
    }
    env->regs[R_ESP] = sp;
    load_seg_cache(t, R_CS, (sel & 0xfffc) | ncpl, clo, chi);
    env->segs[R_CS].attr = (env->segs[R_CS].attr & ~SEG_ATTR_DPL_MASK) |
                           (ncpl << SEG_ATTR_DPL_SHIFT);
    env->rip = off;
    env->rflags &= ~(X86_FLAG_TF | X86_FLAG_NT | X86_FLAG_RF | X86_FLAG_VM);
    if (type == 0xe) {
        env->rflags &= ~X86_FLAG_IF;
    }
    return true;
}

static bool deliver_prot32(X86Tcg *t, int vec, bool soft, bool has_err, uint32_t err,
                           uint64_t ret_rip)
{
    CPUX86State *env = t->env;
    unsigned cpl = x86_cpl(env);
    uint64_t g;
    if (vec * 8u + 7 > env->idt.limit || !sys_ld(t, env->idt.base + vec * 8u, 8, &g)) {
        if (t->exc_vec < 0) {
            x86_raise(t, EXCP_GP, true, vec * 8 + 2);
        }
        return false;
    }
    unsigned type = (g >> 40) & 0x1f, dpl = (g >> 45) & 3;
    if (type != 0xe && type != 0xf && type != 0x6 && type != 0x7) {
        x86_raise(t, EXCP_GP, true, vec * 8 + 2);
        return false;
    }
    if ((soft && dpl < cpl)) {
        x86_raise(t, EXCP_GP, true, vec * 8 + 2);
        return false;
    }
    if (!(g & (1ull << 47))) {
        x86_raise(t, EXCP_NP, true, vec * 8 + 2);
        return false;
    }
    bool gate32 = type & 8;
    unsigned psize = gate32 ? 4 : 2;
    uint16_t sel = (uint16_t)(g >> 16);
    uint32_t off = (uint32_t)((g & 0xffff) | ((g >> 32) & 0xffff0000ull));
    uint32_t clo, chi;
    if ((sel & 0xfffc) == 0) {
        x86_raise(t, EXCP_GP, true, 0);
        return false;
    }
    if (!read_desc(t, sel, &clo, &chi, NULL)) {
        return false;
    }
    unsigned cdpl = (chi >> 13) & 3;
    if (!(chi & (1u << 11)) || cdpl > cpl) {
        x86_raise(t, EXCP_GP, true, sel & 0xfffc);
        return false;
    }
    unsigned ncpl = (chi & (1u << 10)) ? cpl : cdpl;
    uint32_t esp = (uint32_t)env->regs[R_ESP];
    X86Segment nss = env->segs[R_SS];
    bool outer = ncpl < cpl;
    if (outer) {
        uint64_t v;
        if (!sys_ld(t, env->tr.base + 4 + ncpl * 8, 8, &v)) {
            return false;
        }
        uint16_t ss_sel = (uint16_t)(v >> 32);
        uint32_t slo, shi;
        if (!read_desc(t, ss_sel, &slo, &shi, NULL)) {
            return false;
        }
        x86_segment_from_descriptor(&nss, ss_sel, slo, shi);
        esp = (uint32_t)v;
        if (!push_legacy(t, &nss, &esp, psize, env->segs[R_SS].selector) ||
            !push_legacy(t, &nss, &esp, psize, (uint32_t)env->regs[R_ESP])) {
            return false;
        }
    }
    if (!push_legacy(t, &nss, &esp, psize, (uint32_t)env->rflags) ||
        !push_legacy(t, &nss, &esp, psize, env->segs[R_CS].selector) ||
        !push_legacy(t, &nss, &esp, psize, (uint32_t)ret_rip) ||
        (has_err && !push_legacy(t, &nss, &esp, psize, err))) {
        return false;
    }
    if (outer) {
        env->segs[R_SS] = nss;
    }
    uint32_t mask = (nss.attr & SEG_ATTR_DB) ? 0xffffffffu : 0xffffu;
    env->regs[R_ESP] = (env->regs[R_ESP] & ~(uint64_t)mask) | (esp & mask);
    load_seg_cache(t, R_CS, (sel & 0xfffc) | ncpl, clo, chi);
    env->segs[R_CS].attr = (env->segs[R_CS].attr & ~SEG_ATTR_DPL_MASK) |
                           (ncpl << SEG_ATTR_DPL_SHIFT);
    env->rip = gate32 ? off : (off & 0xffff);
    env->rflags &= ~(X86_FLAG_TF | X86_FLAG_NT | X86_FLAG_RF | X86_FLAG_VM);
    if (!(type & 1)) {
        env->rflags &= ~X86_FLAG_IF;
    }
    return true;
}

static bool deliver_real(X86Tcg *t, int vec, uint64_t ret_rip)
{
    CPUX86State *env = t->env;
    uint64_t v;
    if (vec * 4u + 3 > env->idt.limit || !sys_ld(t, env->idt.base + vec * 4u, 4, &v)) {
        if (t->exc_vec < 0) {
            x86_raise(t, EXCP_GP, true, 0);
        }
        return false;
    }
    uint32_t sp = (uint32_t)env->regs[R_ESP];
    X86Segment *ss = &env->segs[R_SS];
    if (!push_legacy(t, ss, &sp, 2, (uint32_t)env->rflags) ||
        !push_legacy(t, ss, &sp, 2, env->segs[R_CS].selector) ||
        !push_legacy(t, ss, &sp, 2, (uint32_t)ret_rip)) {
        return false;
    }
    env->regs[R_ESP] = (env->regs[R_ESP] & ~0xffffull) | (sp & 0xffff);
    env->segs[R_CS].selector = (uint16_t)(v >> 16);
    env->segs[R_CS].base = (v >> 16) << 4;
    env->rip = v & 0xffff;
    env->rflags &= ~(X86_FLAG_TF | X86_FLAG_IF | X86_FLAG_AC | X86_FLAG_RF);
    return true;
}

/* Contributory exceptions combine into #DF. */
static bool contributory(int vec)
{
    return vec == EXCP_DE || (vec >= EXCP_TS && vec <= EXCP_GP);
}

void x86_do_interrupt(X86Tcg *t, int vec, bool soft, bool has_err, uint32_t err,
                      uint64_t next_rip)
{
    CPUX86State *env = t->env;
    uint64_t ret = soft ? next_rip : env->rip;
    for (int depth = 0;; depth++) {
        t->exc_vec = -1;
        log_mask_printf(LOG_INT, "x86: vector %d err 0x%x rip 0x%016" PRIx64 " cr2 0x%016"
                        PRIx64 "\n", vec, err, env->rip, env->cr[2]);
        bool ok;
        if (x86_long_mode(env)) {
            ok = deliver_long(t, vec, soft, has_err, err, ret);
        } else if (env->cr[0] & X86_CR0_PE) {
            ok = deliver_prot32(t, vec, soft, has_err, err, ret);
        } else {
            ok = deliver_real(t, vec, ret);
        }
        if (ok) {
            break;
        }
        int nvec = t->exc_vec;
        if (vec == EXCP_DF || depth >= 2) {
            triple_fault(t);
            break;
        }
        if ((contributory(vec) && contributory(nvec)) ||
            (vec == EXCP_PF && (contributory(nvec) || nvec == EXCP_PF))) {
            nvec = EXCP_DF;
            t->exc_has_err = true;
            t->exc_err = 0;
        }
        vec = nvec;
        soft = false;
        has_err = t->exc_has_err;
        err = t->exc_err;
        ret = env->rip;
    }
    t->exc_vec = -1;
    env->interrupt_shadow = false;
    x86_update_mode(t);
}

void x86_do_exception(X86Tcg *t)
{
    x86_do_interrupt(t, t->exc_vec, false, t->exc_has_err, t->exc_err, 0);
}

bool x86_check_interrupts(X86Tcg *t)
{
    CPUX86State *env = t->env;
    ApicState *apic = x86_cpu(t->cs)->apic;
    if (apic) {
        bool nmi;
        bool can_intr = (env->rflags & X86_FLAG_IF) && !env->interrupt_shadow &&
                        env->pending_vector < 0 && !env->nmi_pending;
        int vec = apic_ack_interrupt(apic, can_intr, &nmi);
        if (nmi) {
            env->nmi_pending = true;
        } else if (vec >= 0) {
            env->pending_vector = vec;
        }
    }
    if (env->nmi_pending) {
        env->nmi_pending = false;
        x86_do_interrupt(t, EXCP_NMI, false, false, 0, 0);
        return true;
    }
    if (!(env->rflags & X86_FLAG_IF) || env->interrupt_shadow) {
        return false;
    }
    int vec = env->pending_vector;
    if (vec < 0) {
        return false;
    }
    env->pending_vector = -1;
    x86_do_interrupt(t, vec, false, false, 0, 0);
    return true;
}

/* ---- IRET, far transfers ---- */

static bool pop_n(X86Tcg *t, uint64_t *sp, unsigned size, uint64_t *v, uint64_t base,
                  uint64_t mask)
{
    if (!x86_load_slow(t, base + (*sp & mask), size, v, t->mmu_idx)) {
        return false;
    }
    *sp = (*sp & ~mask) | ((*sp + size) & mask);
    return true;
}

/* Reads the descriptor of a code segment selector; checks that it is present. */
static bool load_cs_checked(X86Tcg *t, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    if ((sel & 0xfffc) == 0) {
        x86_raise(t, EXCP_GP, true, 0);
        return false;
    }
    if (!read_desc(t, sel, lo, hi, NULL)) {
        return false;
    }
    if (!(*hi & (1u << 11)) || !(*hi & (1u << 12))) {
        x86_raise(t, EXCP_GP, true, sel & 0xfffc);
        return false;
    }
    if (!(*hi & (1u << 15))) {
        x86_raise(t, EXCP_NP, true, sel & 0xfffc);
        return false;
    }
    return true;
}

static void set_rflags(X86Tcg *t, uint64_t v, unsigned cpl, unsigned size)
{
    CPUX86State *env = t->env;
    uint64_t mask = X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF | X86_FLAG_SF |
                    X86_FLAG_TF | X86_FLAG_DF | X86_FLAG_OF | X86_FLAG_NT | X86_FLAG_RF |
                    X86_FLAG_AC | X86_FLAG_ID;
    unsigned iopl = (env->rflags >> 12) & 3;
    if (cpl == 0) {
        mask |= X86_FLAG_IOPL | X86_FLAG_IF | X86_FLAG_VIF | X86_FLAG_VIP;
    } else if (cpl <= iopl) {
        mask |= X86_FLAG_IF;
    }
    if (size == 2) {
        mask &= 0xffff;
    }
    env->rflags = (env->rflags & ~mask) | (v & mask) | X86_FLAG_FIXED1;
}

/* Data segments not accessible at the new outer privilege become null. */
static void clear_outer_segs(X86Tcg *t, unsigned cpl)
{
    static const int segs[] = { R_ES, R_DS, R_FS, R_GS };
    for (unsigned i = 0; i < 4; i++) {
        X86Segment *s = &t->env->segs[segs[i]];
        unsigned dpl = (s->attr & SEG_ATTR_DPL_MASK) >> SEG_ATTR_DPL_SHIFT;
        bool conf_code = (s->attr & 0xc) == 0xc && (s->attr & SEG_ATTR_S);
        if (!(s->attr & SEG_ATTR_UNUSABLE) && !conf_code && dpl < cpl) {
            s->selector = 0;
            s->attr |= SEG_ATTR_UNUSABLE;
        }
    }
}

bool x86_iret(X86Tcg *t, unsigned size)
{
    CPUX86State *env = t->env;
    unsigned cpl = x86_cpl(env);
    uint64_t sp = env->regs[R_ESP];
    bool lm64 = x86_code64(env);
    uint64_t mask = lm64 ? ~0ull : (env->segs[R_SS].attr & SEG_ATTR_DB) ? 0xffffffffull
                                                                        : 0xffffull;
    uint64_t ssbase = lm64 ? 0 : env->segs[R_SS].base;
    uint64_t rip, cs, fl;
    if (!pop_n(t, &sp, size, &rip, ssbase, mask) || !pop_n(t, &sp, size, &cs, ssbase, mask) ||
        !pop_n(t, &sp, size, &fl, ssbase, mask)) {
        return false;
    }
    if (!(env->cr[0] & X86_CR0_PE)) {
        env->regs[R_ESP] = (env->regs[R_ESP] & ~mask) | (sp & mask);
        env->segs[R_CS].selector = (uint16_t)cs;
        env->segs[R_CS].base = (cs & 0xffff) << 4;
        env->rip = rip;
        set_rflags(t, fl, 0, size);
        return true;
    }
    if (env->rflags & X86_FLAG_NT && !x86_long_mode(env)) {
        x86_raise(t, EXCP_GP, true, 0);     /* task return: no hardware task switching */
        return false;
    }
    unsigned rpl = cs & 3;
    uint32_t lo, hi;
    if (rpl < cpl) {
        x86_raise(t, EXCP_GP, true, cs & 0xfffc);
        return false;
    }
    if (!load_cs_checked(t, (uint16_t)cs, &lo, &hi)) {
        return false;
    }
    bool to_outer = rpl > cpl;
    uint64_t nsp = 0, nss = 0;
    if (lm64 || to_outer) {
        if (!pop_n(t, &sp, size, &nsp, ssbase, mask) || !pop_n(t, &sp, size, &nss, ssbase, mask)) {
            return false;
        }
    }
    set_rflags(t, fl, cpl, size);
    load_seg_cache(t, R_CS, (uint16_t)cs, lo, hi);
    env->rip = rip;
    if (lm64 || to_outer) {
        if ((nss & 0xfffc) == 0 && x86_long_mode(env) && rpl != 3 &&
            (hi & (1u << 21))) {
            X86Segment *ss = &env->segs[R_SS];
            ss->selector = (uint16_t)nss;
            ss->base = 0;
            ss->limit = 0;
            ss->attr = SEG_ATTR_UNUSABLE | SEG_ATTR_S | SEG_ATTR_DB | 3 |
                       (rpl << SEG_ATTR_DPL_SHIFT);
        } else {
            uint32_t slo, shi;
            if ((nss & 3) != rpl || !read_desc(t, (uint16_t)nss, &slo, &shi, NULL)) {
                if (t->exc_vec < 0) {
                    x86_raise(t, EXCP_GP, true, nss & 0xfffc);
                }
                return false;
            }
            load_seg_cache(t, R_SS, (uint16_t)nss, slo, shi);
        }
        env->regs[R_ESP] = nsp;
        if (!(x86_code64(env))) {
            env->regs[R_ESP] &= (env->segs[R_SS].attr & SEG_ATTR_DB) ? 0xffffffffull
                                                                     : 0xffffull;
        }
    } else {
        env->regs[R_ESP] = (env->regs[R_ESP] & ~mask) | (sp & mask);
    }
    if (to_outer) {
        clear_outer_segs(t, rpl);
    }
    x86_update_mode(t);
    return true;
}

bool x86_far_jump(X86Tcg *t, uint16_t sel, uint64_t off, bool call, unsigned size,
                  uint64_t next_rip)
{
    CPUX86State *env = t->env;
    if (!(env->cr[0] & X86_CR0_PE)) {
        if (call) {
            uint32_t sp = (uint32_t)env->regs[R_ESP];
            X86Segment *ss = &env->segs[R_SS];
            if (!push_legacy(t, ss, &sp, size, env->segs[R_CS].selector) ||
                !push_legacy(t, ss, &sp, size, (uint32_t)next_rip)) {
                return false;
            }
            uint32_t m = (ss->attr & SEG_ATTR_DB) ? 0xffffffffu : 0xffffu;
            env->regs[R_ESP] = (env->regs[R_ESP] & ~(uint64_t)m) | (sp & m);
        }
        env->segs[R_CS].selector = sel;
        env->segs[R_CS].base = (uint64_t)sel << 4;
        env->rip = off;
        x86_update_mode(t);
        return true;
    }
    uint32_t lo, hi;
    unsigned cpl = x86_cpl(env);
    if (!load_cs_checked(t, sel, &lo, &hi)) {
        return false;
    }
    unsigned dpl = (hi >> 13) & 3;
    bool conforming = hi & (1u << 10);
    if ((conforming && dpl > cpl) || (!conforming && (dpl != cpl || (sel & 3) > cpl))) {
        x86_raise(t, EXCP_GP, true, sel & 0xfffc);   /* call gates are not supported */
        return false;
    }
    if (call) {
        uint64_t sp = env->regs[R_ESP];
        if (x86_code64(env)) {
            if (!sys_st(t, sp - size, size, env->segs[R_CS].selector) ||
                !x86_store_slow(t, sp - 2 * size, size, next_rip, t->mmu_idx)) {
                return false;
            }
            env->regs[R_ESP] = sp - 2 * size;
        } else {
            uint32_t esp = (uint32_t)sp;
            if (!push_legacy(t, &env->segs[R_SS], &esp, size, env->segs[R_CS].selector) ||
                !push_legacy(t, &env->segs[R_SS], &esp, size, (uint32_t)next_rip)) {
                return false;
            }
            uint32_t m = (env->segs[R_SS].attr & SEG_ATTR_DB) ? 0xffffffffu : 0xffffu;
            env->regs[R_ESP] = (sp & ~(uint64_t)m) | (esp & m);
        }
    }
    load_seg_cache(t, R_CS, (sel & 0xfffc) | cpl, lo, hi);
    env->segs[R_CS].attr = (env->segs[R_CS].attr & ~SEG_ATTR_DPL_MASK) |
                           (cpl << SEG_ATTR_DPL_SHIFT);
    env->rip = x86_code64(env) ? off : (uint32_t)off;
    x86_update_mode(t);
    return true;
}

bool x86_far_ret(X86Tcg *t, unsigned size, unsigned pop)
{
    CPUX86State *env = t->env;
    bool lm64 = x86_code64(env);
    uint64_t mask = lm64 ? ~0ull : (env->segs[R_SS].attr & SEG_ATTR_DB) ? 0xffffffffull
                                                                        : 0xffffull;
    uint64_t ssbase = lm64 ? 0 : env->segs[R_SS].base;
    uint64_t sp = env->regs[R_ESP], rip, cs;
    if (!pop_n(t, &sp, size, &rip, ssbase, mask) || !pop_n(t, &sp, size, &cs, ssbase, mask)) {
        return false;
    }
    sp = (sp & ~mask) | ((sp + pop) & mask);
    if (!(env->cr[0] & X86_CR0_PE)) {
        env->segs[R_CS].selector = (uint16_t)cs;
        env->segs[R_CS].base = (cs & 0xffff) << 4;
        env->rip = rip;
        env->regs[R_ESP] = sp;
        return true;
    }
    unsigned cpl = x86_cpl(env), rpl = cs & 3;
    uint32_t lo, hi;
    if (rpl != cpl) {
        x86_raise(t, EXCP_GP, true, cs & 0xfffc);   /* returns to outer levels: use IRET */
        return false;
    }
    if (!load_cs_checked(t, (uint16_t)cs, &lo, &hi)) {
        return false;
    }
    load_seg_cache(t, R_CS, (uint16_t)cs, lo, hi);
    env->rip = x86_code64(env) ? rip : (uint32_t)rip;
    env->regs[R_ESP] = sp;
    x86_update_mode(t);
    return true;
}

/* ---- SYSCALL / SYSRET ---- */

static void flat_seg(X86Segment *s, uint16_t sel, uint32_t attr)
{
    s->selector = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->attr = attr | SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_G;
}

bool x86_syscall(X86Tcg *t, uint64_t next_rip)
{
    CPUX86State *env = t->env;
    if (!(env->efer & X86_EFER_SCE)) {
        x86_raise(t, EXCP_UD, false, 0);
        return false;
    }
    uint16_t sel = (uint16_t)(env->star >> 32) & 0xfffc;
    if (x86_long_mode(env)) {
        uint64_t target = x86_code64(env) ? env->lstar : env->cstar;
        env->regs[R_ECX] = next_rip;
        env->regs[R_R11] = env->rflags & ~X86_FLAG_RF;
        flat_seg(&env->segs[R_CS], sel, SEG_ATTR_L | 0xb);
        flat_seg(&env->segs[R_SS], sel + 8, SEG_ATTR_DB | 0x3);
        env->rflags &= ~(env->fmask | X86_FLAG_RF);
        env->rflags |= X86_FLAG_FIXED1;
        env->rip = target;
    } else {
        env->regs[R_ECX] = (uint32_t)next_rip;
        flat_seg(&env->segs[R_CS], sel, SEG_ATTR_DB | 0xb);
        flat_seg(&env->segs[R_SS], sel + 8, SEG_ATTR_DB | 0x3);
        env->rflags &= ~(X86_FLAG_IF | X86_FLAG_RF | X86_FLAG_VM);
        env->rip = (uint32_t)env->star;
    }
    x86_update_mode(t);
    return true;
}

bool x86_sysret(X86Tcg *t, bool rex_w)
{
    CPUX86State *env = t->env;
    if (!(env->efer & X86_EFER_SCE)) {
        x86_raise(t, EXCP_UD, false, 0);
        return false;
    }
    if (!(env->cr[0] & X86_CR0_PE) || x86_cpl(env) != 0) {
        x86_raise(t, EXCP_GP, true, 0);
        return false;
    }
    uint16_t sel = (uint16_t)(env->star >> 48);
    const uint32_t user = 3u << SEG_ATTR_DPL_SHIFT;
    if (x86_long_mode(env)) {
        if (rex_w) {
            flat_seg(&env->segs[R_CS], (sel + 16) | 3, SEG_ATTR_L | 0xb | user);
            env->rip = env->regs[R_ECX];
        } else {
            flat_seg(&env->segs[R_CS], sel | 3, SEG_ATTR_DB | 0xb | user);
            env->rip = (uint32_t)env->regs[R_ECX];
        }
        env->rflags = (env->regs[R_R11] & 0x3c7fd7) | X86_FLAG_FIXED1;
    } else {
        flat_seg(&env->segs[R_CS], sel | 3, SEG_ATTR_DB | 0xb | user);
        env->rip = (uint32_t)env->regs[R_ECX];
        env->rflags |= X86_FLAG_IF;
    }
    /* SS keeps its cached attributes except the selector and DPL (as hardware does). */
    X86Segment *ss = &env->segs[R_SS];
    ss->selector = (sel + 8) | 3;
    ss->attr = (ss->attr & ~(SEG_ATTR_DPL_MASK | SEG_ATTR_UNUSABLE)) | user | SEG_ATTR_P |
               SEG_ATTR_S | 3 | SEG_ATTR_DB;
    x86_update_mode(t);
    return true;
}

/* ---- control registers and MSRs ---- */

bool x86_write_cr(X86Tcg *t, unsigned cr, uint64_t val)
{
    CPUX86State *env = t->env;
    switch (cr) {
    case 0: {
        val |= X86_CR0_ET;
        if ((val >> 32) || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
            ((val & X86_CR0_NW) && !(val & X86_CR0_CD))) {
            x86_raise(t, EXCP_GP, true, 0);
            return false;
        }
        uint64_t old = env->cr[0];
        if ((val & X86_CR0_PG) && !(old & X86_CR0_PG) && (env->efer & X86_EFER_LME)) {
            if (!(env->cr[4] & X86_CR4_PAE)) {
                x86_raise(t, EXCP_GP, true, 0);
                return false;
            }
            env->efer |= X86_EFER_LMA;
        }
        if (!(val & X86_CR0_PG) && (old & X86_CR0_PG) && x86_long_mode(env)) {
            if (x86_code64(env)) {
                x86_raise(t, EXCP_GP, true, 0);
                return false;
            }
            env->efer &= ~X86_EFER_LMA;
        }
        env->cr[0] = val;
        if ((old ^ val) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE)) {
            x86_tlb_flush(t, true);
        }
        break;
    }
    case 2:
        env->cr[2] = val;
        break;
    case 3:
        if (x86_long_mode(env) && (val & 0x7ff0000000000000ull) &&
            !(env->cr[4] & X86_CR4_PCIDE)) {
            x86_raise(t, EXCP_GP, true, 0);
            return false;
        }
        env->cr[3] = val & ~(1ull << 63);   /* bit 63: PCID no-flush, not stored */
        x86_tlb_flush(t, false);
        break;
    case 4: {
        const uint64_t ok = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
                            X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
                            X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |
                            X86_CR4_FSGSBASE | X86_CR4_PCIDE;
        if ((val & ~ok) || (x86_long_mode(env) && !(val & X86_CR4_PAE))) {
            x86_raise(t, EXCP_GP, true, 0);
            return false;
        }
        uint64_t old = env->cr[4];
        env->cr[4] = val;
        if ((old ^ val) & (X86_CR4_PSE | X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PCIDE)) {
            x86_tlb_flush(t, true);
        }
        break;
    }
    case 8:
        if (val & ~0xfull) {
            x86_raise(t, EXCP_GP, true, 0);
            return false;
        }
        env->cr8 = val;
        if (x86_cpu(t->cs)->apic) {
            bql_lock();
            apic_set_cr8(x86_cpu(t->cs)->apic, val);
            bql_unlock();
        }
        break;
    default:
        x86_raise(t, EXCP_UD, false, 0);
        return false;
    }
    x86_update_mode(t);
    return true;
}

uint64_t x86_read_tsc(X86Tcg *t)
{
    return (uint64_t)((__int128)clock_ns() * t->tsc_khz / 1000000) + (uint64_t)t->tsc_offset;
}

bool x86_rdmsr(X86Tcg *t, uint32_t msr, uint64_t *val)
{
    CPUX86State *env = t->env;
    switch (msr) {
    case MSR_IA32_TSC: *val = x86_read_tsc(t); break;
    case MSR_IA32_APICBASE: *val = env->apic_base; break;
    case MSR_IA32_SYSENTER_CS: *val = env->sysenter_cs; break;
    case MSR_IA32_SYSENTER_ESP: *val = env->sysenter_esp; break;
    case MSR_IA32_SYSENTER_EIP: *val = env->sysenter_eip; break;
    case MSR_IA32_MISC_ENABLE: *val = env->misc_enable; break;
    case MSR_IA32_CR_PAT: *val = env->pat; break;
    case MSR_EFER: *val = env->efer; break;
    case MSR_STAR: *val = env->star; break;
    case MSR_LSTAR: *val = env->lstar; break;
    case MSR_CSTAR: *val = env->cstar; break;
    case MSR_FMASK: *val = env->fmask; break;
    case MSR_FS_BASE: *val = env->segs[R_FS].base; break;
    case MSR_GS_BASE: *val = env->segs[R_GS].base; break;
    case MSR_KERNEL_GS_BASE: *val = env->kernel_gs_base; break;
    case MSR_TSC_AUX: *val = env->tsc_aux; break;
    case MSR_IA32_TSC_DEADLINE:
        if (!x86_cpu(t->cs)->apic) {
            goto gp;
        }
        bql_lock();
        *val = apic_get_tsc_deadline(x86_cpu(t->cs)->apic);
        bql_unlock();
        break;
    default:
        goto gp;
    }
    return true;
gp:
    x86_raise(t, EXCP_GP, true, 0);
    return false;
}

/* IA32_TSC_DEADLINE: the LAPIC timer fires when the guest TSC reaches val. */
static bool x86_write_tsc_deadline(X86Tcg *t, uint64_t val)
{
    ApicState *apic = x86_cpu(t->cs)->apic;
    if (!apic) {
        x86_raise(t, EXCP_GP, true, 0);
        return false;
    }
    uint64_t now = x86_read_tsc(t);
    int64_t expire = clock_ns();
    if (val > now) {
        expire += (int64_t)MIN((__int128)(val - now) * 1000000 / t->tsc_khz,
                               (__int128)INT64_MAX / 2);
    }
    bql_lock();
    apic_set_tsc_deadline(apic, val, expire);
    bql_unlock();
    return true;
}

static bool canonical(uint64_t v)
{
    return (uint64_t)((int64_t)v << 16 >> 16) == v;
}

bool x86_wrmsr(X86Tcg *t, uint32_t msr, uint64_t val)
{
    CPUX86State *env = t->env;
    switch (msr) {
    case MSR_IA32_TSC:
        t->tsc_offset += (int64_t)(val - x86_read_tsc(t));
        break;
    case MSR_IA32_APICBASE:
        if (val & ~(0xffffff000ull | MSR_APICBASE_BSP | MSR_APICBASE_ENABLE)) {
            goto gp;
        }
        env->apic_base = (val & ~(uint64_t)MSR_APICBASE_BSP) |
                         (env->apic_base & MSR_APICBASE_BSP);
        break;
    case MSR_IA32_SYSENTER_CS: env->sysenter_cs = val & 0xffff; break;
    case MSR_IA32_SYSENTER_ESP: env->sysenter_esp = val; break;
    case MSR_IA32_SYSENTER_EIP: env->sysenter_eip = val; break;
    case MSR_IA32_MISC_ENABLE: env->misc_enable = (env->misc_enable & ~1ull) | (val & 1); break;
    case MSR_IA32_CR_PAT:
        for (int i = 0; i < 8; i++) {
            unsigned ty = (val >> (i * 8)) & 0xff;
            if (ty == 2 || ty == 3 || ty > 7) {
                goto gp;
            }
        }
        env->pat = val;
        break;
    case MSR_EFER: {
        uint64_t ok = X86_EFER_SCE | X86_EFER_LME | X86_EFER_NXE;
        if (val & ~(ok | X86_EFER_LMA)) {
            goto gp;
        }
        if ((env->cr[0] & X86_CR0_PG) && ((val ^ env->efer) & X86_EFER_LME)) {
            goto gp;
        }
        uint64_t old = env->efer;
        env->efer = (val & ok) | (env->efer & X86_EFER_LMA);
        if ((old ^ env->efer) & X86_EFER_NXE) {
            x86_tlb_flush(t, true);
        }
        break;
    }
    case MSR_STAR: env->star = val; break;
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
        if (!canonical(val)) {
            goto gp;
        }
        if (msr == MSR_LSTAR) {
            env->lstar = val;
        } else if (msr == MSR_CSTAR) {
            env->cstar = val;
        } else if (msr == MSR_FS_BASE) {
            env->segs[R_FS].base = val;
        } else if (msr == MSR_GS_BASE) {
            env->segs[R_GS].base = val;
        } else {
            env->kernel_gs_base = val;
        }
        break;
    case MSR_FMASK: env->fmask = (uint32_t)val; break;
    case MSR_TSC_AUX: env->tsc_aux = (uint32_t)val; break;
    case MSR_IA32_TSC_DEADLINE: return x86_write_tsc_deadline(t, val);
    default:
        goto gp;
    }
    return true;
gp:
    x86_raise(t, EXCP_GP, true, 0);
    return false;
}
