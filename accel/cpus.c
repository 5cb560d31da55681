/* The generic vCPU loop shared by every accelerator, and pausing/resuming all vCPUs. */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "accel/accel.h"
#include "hw/core/machine.h"
#include "util/bql.h"
#include "util/error.h"

static pthread_cond_t cpus_parked_cond;
static bool cpus_cond_ready;

static void cpus_init_once(void)
{
    if (!cpus_cond_ready) {
        bql_cond_init(&cpus_parked_cond);
        cpus_cond_ready = true;
    }
}

void cpu_exit(CPUState *cpu)
{
    __atomic_store_n(&cpu->exit_request, 1, __ATOMIC_RELEASE);
    const AccelOps *accel = cpu->machine ? cpu->machine->accel : NULL;
    if (accel && accel->vcpu_kick) {
        accel->vcpu_kick(cpu);
    }
}

void cpu_kick(CPUState *cpu)
{
    cpu_exit(cpu);
    pthread_cond_broadcast(&cpu->cond);
}

static void *cpu_thread_fn(void *arg)
{
    CPUState *cpu = arg;
    const AccelOps *accel = cpu->machine->accel;
    bql_lock();
    for (;;) {
        /* Kicks that matter come with state changes made under the big lock, so clearing
         * here, before the checks, cannot lose one. */
        __atomic_store_n(&cpu->exit_request, 0, __ATOMIC_RELEASE);
        if (cpu->stop) {
            cpu->stopped = true;
            pthread_cond_broadcast(&cpus_parked_cond);
            bql_cond_wait(&cpu->cond);
            continue;
        }
        cpu->stopped = false;
        if (cpu->halted) {
            if (!cpu->ops->has_work(cpu)) {
                bql_cond_wait(&cpu->cond);
                continue;
            }
            cpu->halted = false;
        }
        bql_unlock();
        int r = accel->vcpu_exec(cpu);
        bql_lock();
        if (r == ACCEL_EXIT_HALTED) {
            cpu->halted = true;
        } else if (r == ACCEL_EXIT_ERROR) {
            cpu->stop = true;
            machine_request_internal_error();
        }
    }
    return NULL;
}

bool cpu_start_thread(CPUState *cpu, Error **errp)
{
    cpus_init_once();
    const AccelOps *accel = cpu->machine->accel;
    bql_cond_init(&cpu->cond);
    if (accel->vcpu_init && !accel->vcpu_init(cpu, errp)) {
        return false;
    }
    int r = pthread_create(&cpu->thread, NULL, cpu_thread_fn, cpu);
    if (r) {
        error_setg_errno(errp, r, "cannot create vCPU thread");
        return false;
    }
    char name[16];
    snprintf(name, sizeof(name), "CPU %d/%s", cpu->index, accel->name);
    pthread_setname_np(cpu->thread, name);
    cpu->thread_started = true;
    return true;
}

static Machine *cpus_machine(void)
{
    return current_machine;
}

void cpus_pause_all(void)
{
    Machine *m = cpus_machine();
    if (!m || !m->cpus) {
        return;
    }
    cpus_init_once();
    for (unsigned i = 0; i < m->smp; i++) {
        CPUState *cpu = m->cpus[i];
        if (cpu) {
            cpu->stop = true;
            cpu_kick(cpu);
        }
    }
    for (unsigned i = 0; i < m->smp; i++) {
        CPUState *cpu = m->cpus[i];
        while (cpu && cpu->thread_started && !cpu->stopped &&
               !pthread_equal(cpu->thread, pthread_self())) {
            bql_cond_wait(&cpus_parked_cond);
        }
    }
}

void cpus_resume_all(void)
{
    Machine *m = cpus_machine();
    if (!m || !m->cpus) {
        return;
    }
    for (unsigned i = 0; i < m->smp; i++) {
        CPUState *cpu = m->cpus[i];
        if (cpu) {
            cpu->stop = false;
            cpu_kick(cpu);
        }
    }
}

void cpus_reset_all(void)
{
    Machine *m = cpus_machine();
    for (unsigned i = 0; m && m->cpus && i < m->smp; i++) {
        CPUState *cpu = m->cpus[i];
        if (cpu) {
            cpu->halted = false;
            cpu->ops->reset(cpu);
        }
    }
}
