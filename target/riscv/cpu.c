/* RISC-V hart: object, reset, interrupts, traps and the board-facing API. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "target/riscv/internal.h"
#include "util/log.h"
#include "util/timer.h"

#define MISA_RV64 (2ull << 62)
#define MISA_EXT(c) (1ull << ((c) - 'A'))
#define MISA_VALUE (MISA_RV64 | MISA_EXT('I') | MISA_EXT('M') | MISA_EXT('A') | \
                    MISA_EXT('F') | MISA_EXT('D') | MISA_EXT('C') | MISA_EXT('S') | \
                    MISA_EXT('U'))

static const ObjectClass riscv_cpu_class = {
    .name = "rv64-riscv-cpu",
    .instance_size = sizeof(RISCVCPU),
    .desc = "RISC-V RV64GC hart",
};
OBJECT_CLASS_REGISTER(riscv_cpu_class)

uint64_t riscv_mip(CPURISCVState *env)
{
    uint64_t mip = __atomic_load_n(&env->mip, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&env->seip_ext, __ATOMIC_ACQUIRE)) {
        mip |= MIP_SEIP;
    }
    return mip;
}

uint64_t riscv_read_time(CPURISCVState *env)
{
    if (env->get_time) {
        return env->get_time(env->time_opaque);
    }
    return (uint64_t)clock_ns() / 100;   /* 10 MHz timebase */
}

void riscv_update_mode(CPURISCVState *env)
{
    uint64_t priv = env->priv;
    env->tb_flags = (uint32_t)priv | ((env->mstatus & MSTATUS_FS) ? TB_FLAG_FS : 0);
    uint64_t dpriv = priv;
    if (priv == PRV_M && (env->mstatus & MSTATUS_MPRV)) {
        dpriv = (env->mstatus & MSTATUS_MPP) >> 11;
    }
    unsigned idx;
    if (dpriv == PRV_M) {
        idx = MMU_IDX_M;
    } else if (dpriv == PRV_S) {
        idx = (env->mstatus & MSTATUS_SUM) ? MMU_IDX_S_SUM : MMU_IDX_S;
    } else {
        idx = MMU_IDX_U;
    }
    env->dmmu_idx = idx;
    env->dtlb = env->tlb[idx];
}

void riscv_set_priv(CPURISCVState *env, uint64_t priv)
{
    env->priv = priv;
    riscv_update_mode(env);
}

static const char *const riscv_excp_names[16] = {
    "misaligned_fetch", "fault_fetch", "illegal_instruction", "breakpoint",
    "misaligned_load", "fault_load", "misaligned_store", "fault_store",
    "user_ecall", "supervisor_ecall", "hypervisor_ecall", "machine_ecall",
    "exec_page_fault", "load_page_fault", "reserved", "store_page_fault",
};

static const char *const riscv_intr_names[12] = {
    "u_software", "s_software", "vs_software", "m_software",
    "u_timer", "s_timer", "vs_timer", "m_timer",
    "u_external", "s_external", "vs_external", "m_external",
};

/* Enters the trap handler for cause (interrupt or exception) taken at epc. */
static void riscv_do_trap(CPURISCVState *env, bool interrupt, uint64_t cause, uint64_t tval,
                          uint64_t epc)
{
    uint64_t deleg = interrupt ? env->mideleg : env->medeleg;
    bool to_s = env->priv <= PRV_S && cause < 64 && ((deleg >> cause) & 1);
    uint64_t full_cause = cause | (interrupt ? 1ull << 63 : 0);

    if (log_enabled(LOG_INT)) {
        const char *desc = interrupt ? (cause < 12 ? riscv_intr_names[cause] : "?")
                                     : (cause < 16 ? riscv_excp_names[cause] : "?");
        log_printf("riscv_cpu_do_interrupt: hart:%d, async:%d, cause:%016" PRIx64
                   ", epc:0x%016" PRIx64 ", tval:0x%016" PRIx64 ", desc=%s, priv:%" PRIu64
                   " -> %s\n", env_cpu(env)->parent.index, interrupt, full_cause, epc, tval,
                   desc, env->priv, to_s ? "S" : "M");
    }

    uint64_t s = env->mstatus;
    uint64_t vec;
    if (to_s) {
        env->scause = full_cause;
        env->sepc = epc;
        env->stval = tval;
        s = (s & ~MSTATUS_SPIE) | ((s & MSTATUS_SIE) ? MSTATUS_SPIE : 0);
        s &= ~MSTATUS_SIE;
        s = (s & ~MSTATUS_SPP) | (env->priv == PRV_S ? MSTATUS_SPP : 0);
        vec = env->stvec;
    } else {
        env->mcause = full_cause;
        env->mepc = epc;
        env->mtval = tval;
        s = (s & ~MSTATUS_MPIE) | ((s & MSTATUS_MIE) ? MSTATUS_MPIE : 0);
        s &= ~MSTATUS_MIE;
        s = (s & ~MSTATUS_MPP) | (env->priv << 11);
        vec = env->mtvec;
    }
    env->mstatus = s;
    env->pc = (vec & ~3ull) + ((interrupt && (vec & 3) == 1) ? 4 * cause : 0);
    env->lr_addr = UINT64_MAX;
    riscv_set_priv(env, to_s ? PRV_S : PRV_M);
}

void riscv_do_exception(CPURISCVState *env, uint64_t pc)
{
    riscv_do_trap(env, false, env->exc_cause, env->exc_tval, pc);
}

/* Interrupt numbers from highest to lowest priority. */
static const uint8_t riscv_irq_order[] = {
    RISCV_IRQ_M_EXT, RISCV_IRQ_M_SOFT, RISCV_IRQ_M_TIMER,
    RISCV_IRQ_S_EXT, RISCV_IRQ_S_SOFT, RISCV_IRQ_S_TIMER,
};

bool riscv_check_interrupts(CPURISCVState *env)
{
    uint64_t pending = riscv_mip(env) & env->mie;
    if (!pending) {
        return false;
    }
    bool m_on = env->priv < PRV_M || (env->mstatus & MSTATUS_MIE);
    bool s_on = env->priv < PRV_S || (env->priv == PRV_S && (env->mstatus & MSTATUS_SIE));
    uint64_t m_pend = m_on ? pending & ~env->mideleg : 0;
    uint64_t s_pend = s_on ? pending & env->mideleg : 0;
    uint64_t irqs = m_pend ? m_pend : s_pend;
    if (!irqs) {
        return false;
    }
    for (size_t i = 0; i < sizeof(riscv_irq_order); i++) {
        unsigned irq = riscv_irq_order[i];
        if (irqs & (1ull << irq)) {
            riscv_do_trap(env, true, irq, 0, env->pc);
            return true;
        }
    }
    return false;
}

static void riscv_cpu_reset(CPUState *cs)
{
    RISCVCPU *cpu = riscv_cpu(cs);
    CPURISCVState *env = &cpu->env;
    memset(env->x, 0, sizeof(env->x));
    memset(env->f, 0, sizeof(env->f));
    env->pc = cpu->reset_pc;
    env->misa = MISA_VALUE;
    env->mstatus = (2ull << 32) | (2ull << 34);
    env->medeleg = env->mideleg = 0;
    env->mie = 0;
    __atomic_and_fetch(&env->mip, ~(MIP_SSIP | MIP_STIP | MIP_SEIP), __ATOMIC_ACQ_REL);
    env->mtvec = env->stvec = 0;
    env->mepc = env->sepc = 0;
    env->mcause = env->scause = 0;
    env->mtval = env->stval = 0;
    env->mscratch = env->sscratch = 0;
    env->mcounteren = env->scounteren = env->mcountinhibit = 0;
    env->menvcfg = env->senvcfg = 0;
    env->satp = 0;
    env->fflags = env->frm = 0;
    env->instret = 0;
    env->minstret_off = env->mcycle_off = 0;
    memset(env->pmpcfg, 0, sizeof(env->pmpcfg));
    memset(env->pmpaddr, 0, sizeof(env->pmpaddr));
    env->lr_addr = UINT64_MAX;
    env->tb_invalidated = false;
    env->priv = PRV_M;
    if (cpu->cache) {
        tb_flush(cpu->cache);     /* boot images are rewritten behind the CPU's back */
    }
    env->tlb_log_count = TLB_LOG_SIZE + 1;    /* every entry, whether logged or not */
    riscv_tlb_flush(env);
    riscv_update_mode(env);
}

static bool riscv_cpu_has_work(CPUState *cs)
{
    CPURISCVState *env = riscv_env(cs);
    return (riscv_mip(env) & env->mie) != 0;
}

static void riscv_cpu_dump_state(CPUState *cs, GString *out)
{
    static const char *const abi[32] = {
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2",
        "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
        "s10", "s11", "t3", "t4", "t5", "t6",
    };
    CPURISCVState *env = riscv_env(cs);
    g_string_append_printf(out, " pc       %016" PRIx64 "\n", env->pc);
    g_string_append_printf(out, " priv     %c\n", "USHM"[env->priv & 3]);
    g_string_append_printf(out, " mhartid  %016x\n", cs->index);
    uint64_t ms = env->mstatus;
    if ((ms & MSTATUS_FS) == MSTATUS_FS) {
        ms |= MSTATUS_SD;
    }
    g_string_append_printf(out, " mstatus  %016" PRIx64 "\n", ms);
    g_string_append_printf(out, " mip      %016" PRIx64 "\n", riscv_mip(env));
    g_string_append_printf(out, " mie      %016" PRIx64 "\n", env->mie);
    g_string_append_printf(out, " mideleg  %016" PRIx64 "\n", env->mideleg);
    g_string_append_printf(out, " medeleg  %016" PRIx64 "\n", env->medeleg);
    g_string_append_printf(out, " mtvec    %016" PRIx64 "\n", env->mtvec);
    g_string_append_printf(out, " stvec    %016" PRIx64 "\n", env->stvec);
    g_string_append_printf(out, " mepc     %016" PRIx64 "\n", env->mepc);
    g_string_append_printf(out, " sepc     %016" PRIx64 "\n", env->sepc);
    g_string_append_printf(out, " mcause   %016" PRIx64 "\n", env->mcause);
    g_string_append_printf(out, " scause   %016" PRIx64 "\n", env->scause);
    g_string_append_printf(out, " mtval    %016" PRIx64 "\n", env->mtval);
    g_string_append_printf(out, " stval    %016" PRIx64 "\n", env->stval);
    g_string_append_printf(out, " satp     %016" PRIx64 "\n", env->satp);
    g_string_append_printf(out, " mscratch %016" PRIx64 "\n", env->mscratch);
    g_string_append_printf(out, " sscratch %016" PRIx64 "\n", env->sscratch);
    for (int i = 0; i < 32; i++) {
        g_string_append_printf(out, " x%-2d/%-4s %016" PRIx64 "%s", i, abi[i], env->x[i],
                               (i % 4 == 3) ? "\n" : " ");
    }
    for (int i = 0; i < 32; i++) {
        g_string_append_printf(out, " f%-2d      %016" PRIx64 "%s", i, env->f[i],
                               (i % 4 == 3) ? "\n" : " ");
    }
}

static int64_t riscv_cpu_debug_translate(CPUState *cs, uint64_t vaddr)
{
    CPURISCVState *env = riscv_env(cs);
    uint64_t paddr;
    bool cacheable;
    unsigned idx = env->priv == PRV_M ? MMU_IDX_M : MMU_IDX_S_SUM;
    if (!riscv_translate(env, vaddr, ACC_READ, idx, 1, &paddr, &cacheable, true) &&
        !riscv_translate(env, vaddr, ACC_EXEC, idx, 1, &paddr, &cacheable, true)) {
        return -1;
    }
    return (int64_t)paddr;
}

static uint64_t riscv_cpu_get_pc(CPUState *cs)
{
    return riscv_env(cs)->pc;
}

static bool riscv_cpu_tcg_init(CPUState *cs, Error **errp)
{
    RISCVCPU *cpu = riscv_cpu(cs);
    cpu->cache = &tcg_vcpu(cs)->cache;
    if (!cpu->cache->code && riscv_jit_available() && tcg_jit_wanted()) {
        /* without executable memory the interpreter runs alone */
        tb_code_init(cpu->cache, RISCV_JIT_ARENA_SIZE);
    }
    return true;
}

static const CPUOps riscv_cpu_ops = {
    .arch = "riscv64",
    .reset = riscv_cpu_reset,
    .has_work = riscv_cpu_has_work,
    .dump_state = riscv_cpu_dump_state,
    .tcg_exec = riscv_cpu_exec,
    .tcg_init = riscv_cpu_tcg_init,
    .debug_translate = riscv_cpu_debug_translate,
    .get_pc = riscv_cpu_get_pc,
};

CPUState *riscv_cpu_create(Machine *m, unsigned hartid, uint64_t reset_pc, Error **errp)
{
    RISCVCPU *cpu = (RISCVCPU *)object_new(&riscv_cpu_class);
    CPUState *cs = &cpu->parent;
    cs->ops = &riscv_cpu_ops;
    cs->index = (int)hartid;
    cs->machine = m;
    cs->as = &address_space_memory;
    cpu->reset_pc = reset_pc;
    if (m) {
        char name[32];
        snprintf(name, sizeof(name), "cpu[%u]", hartid);
        if (!object_add_child(OBJECT(m), name, OBJECT(cs), errp)) {
            object_unref(OBJECT(cs));
            return NULL;
        }
        object_unref(OBJECT(cs));
    }
    riscv_cpu_reset(cs);
    return cs;
}

void riscv_cpu_set_irq(CPUState *cs, int irq, int level)
{
    CPURISCVState *env = riscv_env(cs);
    if (irq < 0 || irq > RISCV_IRQ_M_EXT) {
        return;
    }
    if (irq == RISCV_IRQ_S_EXT) {
        __atomic_store_n(&env->seip_ext, level ? 1u : 0u, __ATOMIC_RELEASE);
    } else if (level) {
        __atomic_or_fetch(&env->mip, 1ull << irq, __ATOMIC_ACQ_REL);
    } else {
        __atomic_and_fetch(&env->mip, ~(1ull << irq), __ATOMIC_ACQ_REL);
    }
    if (level) {
        cpu_kick(cs);
    }
}

void riscv_cpu_set_time_source(CPUState *cs, uint64_t (*get_time)(void *opaque),
                               void *opaque)
{
    CPURISCVState *env = riscv_env(cs);
    env->time_opaque = opaque;
    env->get_time = get_time;
}

const char *riscv_cpu_isa_string(CPUState *cs)
{
    return "rv64imafdc_zicsr_zifencei";
}

const char *riscv_cpu_mmu_type(CPUState *cs)
{
    return "riscv,sv48";
}
