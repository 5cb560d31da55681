/* The "tcg" accelerator: runs vCPUs through the target's interpreter. */
#include <glib.h>
#include "accel/accel.h"
#include "accel/tcg/tcg.h"
#include "hw/core/machine.h"
#include "hw/core/memory.h"

#define TCG_ARENA_SIZE (64u << 20)

/* A changed memory view invalidates every vCPU's TLB host pointers. */
static void tcg_memory_commit(MemoryListener *l, AddressSpace *as, const FlatView *old_view,
                              const FlatView *new_view)
{
    Machine *m = current_machine;
    if (!m || !m->cpus) {
        return;
    }
    for (unsigned i = 0; i < m->smp; i++) {
        CPUState *cpu = m->cpus[i];
        if (cpu && cpu->accel_data) {
            __atomic_store_n(&tcg_vcpu(cpu)->tlb_flush_request, 1, __ATOMIC_RELEASE);
            cpu_exit(cpu);
        }
    }
}

static MemoryListener tcg_memory_listener = {
    .commit = tcg_memory_commit,
};

static bool tcg_init(Machine *m, Error **errp)
{
    static bool listening;
    if (!listening) {
        address_space_add_listener(&address_space_memory, &tcg_memory_listener);
        listening = true;
    }
    return true;
}

static bool tcg_vcpu_init(CPUState *cpu, Error **errp)
{
    if (!cpu->ops->tcg_exec || !cpu->ops->tcg_init) {
        error_setg(errp, "the %s CPU has no interpreter", cpu->ops->arch);
        return false;
    }
    if (!cpu->accel_data) {
        TCGVCpu *v = g_new0(TCGVCpu, 1);
        tb_cache_init(&v->cache, TCG_ARENA_SIZE);
        cpu->accel_data = v;
    }
    return cpu->ops->tcg_init(cpu, errp);
}

static int tcg_vcpu_exec(CPUState *cpu)
{
    return cpu->ops->tcg_exec(cpu);
}

/* The interpreter keeps guest registers in the CPU state itself: nothing to copy. */
static void tcg_sync_regs(CPUState *cpu)
{
}

static const AccelOps tcg_accel_ops = {
    .name = "tcg",
    .init = tcg_init,
    .vcpu_init = tcg_vcpu_init,
    .vcpu_exec = tcg_vcpu_exec,
    /* no vcpu_kick: the interpreter polls the exit_request that cpu_exit sets */
    .sync_regs = tcg_sync_regs,
};

static void __attribute__((constructor)) tcg_accel_register(void)
{
    accel_register(&tcg_accel_ops);
}
