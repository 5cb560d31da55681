/* Interpreter glue for the x86 vCPU: per-vCPU state, the "tcg" CPUID restriction, the
 * run loop entry with AP wait-for-SIPI, wake-up test and debug translation. */
#include <string.h>
#include <glib.h>
#include "target/i386/internal.h"
#include "util/timer.h"
#include "util/bql.h"
#include "hw/intc/apic.h"

/* Leaf 1 EDX: FPU DE PSE TSC MSR PAE MCE CX8 APIC SEP PGE CMOV PAT PSE36 CLFLUSH MMX FXSR
 * SSE SSE2; ECX: SSE3 SSSE3 CX16 SSE4.1 SSE4.2 POPCNT. MTRR, MCA and XSAVE stay out. */
static const X86CpuidEntry x86_tcg_supported[] = {
    { 1, 0, 0, 0, 0,
      (1u << 0) | (1u << 9) | (1u << 13) | (1u << 19) | (1u << 20) | (1u << 23),
      (0x0009fbffu & ~(1u << 12) & ~(1u << 14)) | (1u << 23) | (1u << 24) | (1u << 25) |
      (1u << 26) },
    { 7, 0, X86_CPUID_FLAG_SIGNIFICANT_INDEX, 0, 0, 0, 0 },
    /* 0x80000001 EDX: SYSCALL NX LM; ECX: LAHF_LM */
    { 0x80000001, 0, 0, 0, 0, 1u << 0, (1u << 11) | (1u << 20) | (1u << 29) },
};

bool x86_tcg_init(CPUState *cs, Error **errp)
{
    X86CPU *cpu = x86_cpu(cs);
    if (cpu->model && x86_cpu_model_is_host(cpu->model)) {
        error_setg(errp, "CPU model 'host' requires KVM");
        return false;
    }
    if (!x86_cpu_build_cpuid(cpu, x86_tcg_supported, G_N_ELEMENTS(x86_tcg_supported),
                             cs->machine ? cs->machine->smp : 1, errp)) {
        return false;
    }
    X86Tcg *t = cpu->tcg;
    if (!t) {
        t = g_new0(X86Tcg, 1);
        cpu->tcg = t;
    }
    t->cs = cs;
    t->env = &cpu->env;
    t->cache = &tcg_vcpu(cs)->cache;
    t->tsc_khz = cpu->tsc_khz ? cpu->tsc_khz : 1000000;
    t->tsc_offset = -(int64_t)((__int128)clock_ns() * t->tsc_khz / 1000000);
    t->exc_vec = -1;
    x86_ram_cache_reset(t);
    x86_tlb_flush(t, true);
    x86_update_mode(t);
    return true;
}

bool x86_tcg_has_work(CPUState *cs)
{
    CPUX86State *env = x86_env(cs);
    ApicState *apic = x86_cpu(cs)->apic;
    bool waiting = env->mp_state == X86_MP_UNINITIALIZED ||
                   env->mp_state == X86_MP_INIT_RECEIVED;
    if (apic) {
        if (waiting) {
            return apic->init || apic->sipi;
        }
        return env->nmi_pending || apic_has_work(apic, env->rflags & X86_FLAG_IF);
    }
    if (waiting) {
        return false;
    }
    if (env->nmi_pending) {
        return true;
    }
    if (!(env->rflags & X86_FLAG_IF)) {
        return false;
    }
    return env->pending_vector >= 0;
}

/* INIT and SIPI the LAPIC received: INIT puts the vCPU back into wait-for-SIPI, a SIPI
 * starts a waiting vCPU at vector:0000 in real mode. */
static void x86_tcg_startup_events(CPUState *cs, ApicState *apic)
{
    CPUX86State *env = x86_env(cs);
    bool init, sipi;
    uint8_t vector;
    bql_lock();
    apic_take_startup(apic, &init, &sipi, &vector);
    bql_unlock();
    if (init) {
        uint64_t apic_base = env->apic_base;
        x86_cpu_reset(cs);
        env->apic_base = apic_base;
        env->mp_state = X86_MP_INIT_RECEIVED;
    }
    if (sipi && (env->mp_state == X86_MP_UNINITIALIZED ||
                 env->mp_state == X86_MP_INIT_RECEIVED)) {
        env->sipi_vector = vector;
        env->mp_state = X86_MP_SIPI_RECEIVED;
    }
}

int x86_tcg_exec(CPUState *cs)
{
    X86Tcg *t = x86_tcg(cs);
    CPUX86State *env = t->env;
    ApicState *apic = x86_cpu(cs)->apic;
    if (apic) {
        apic_set_current_cpu(cs);
        if (__atomic_load_n(&apic->pending, __ATOMIC_ACQUIRE)) {
            x86_tcg_startup_events(cs, apic);
        }
    }
    if (env->mp_state == X86_MP_UNINITIALIZED || env->mp_state == X86_MP_INIT_RECEIVED) {
        return ACCEL_EXIT_HALTED;
    }
    if (env->mp_state == X86_MP_SIPI_RECEIVED) {
        /* real mode at vector:0000 */
        env->segs[R_CS].selector = (uint16_t)(env->sipi_vector << 8);
        env->segs[R_CS].base = (uint64_t)env->sipi_vector << 12;
        env->rip = 0;
        env->mp_state = X86_MP_RUNNABLE;
    }
    if (x86_cpu(cs)->regs_dirty) {
        x86_cpu(cs)->regs_dirty = false;
        x86_tlb_flush(t, true);
    }
    env->mp_state = X86_MP_RUNNABLE;
    x86_update_mode(t);
    int r = x86_cpu_exec(cs);
    if (r == ACCEL_EXIT_HALTED) {
        env->mp_state = X86_MP_HALTED;
    }
    return r;
}

int64_t x86_tcg_debug_translate(CPUState *cs, uint64_t vaddr)
{
    X86Tcg *t = x86_tcg(cs);
    uint64_t pa;
    if (!t) {
        return -1;
    }
    if (!x86_translate(t, vaddr, X86_ACC_READ, X86_MMU_SUP, &pa, true)) {
        return -1;
    }
    return (int64_t)pa;
}
