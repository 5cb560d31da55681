/*
 * The "kvm" accelerator: one VM per machine, one vCPU file descriptor and thread per CPU,
 * memory slots that follow address_space_memory, port I/O and MMIO exits through
 * memory_dispatch, and kicks by signal with immediate_exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>
#include <glib.h>
#include "accel/kvm.h"
#include "accel/accel.h"
#include "hw/core/machine.h"
#include "hw/core/memory.h"
#include "util/bql.h"
#include "util/error.h"

#define KVM_DEVICE "/dev/kvm"
#define SIG_KICK SIGUSR1

/* One memory slot as it is registered with the kernel. */
typedef struct KVMSlot {
    bool used;
    uint64_t start, size;
    void *host;
    bool readonly;
} KVMSlot;

typedef struct KVMVcpu {
    int fd;
    struct kvm_run *run;
    size_t run_size;
    bool sync_pending;               /* the monitor waits for kvm_arch_get_registers */
    pthread_cond_t sync_cond;
} KVMVcpu;

static struct {
    bool enabled;
    int fd;                          /* /dev/kvm */
    int vm_fd;
    int run_size;
    bool readonly_mem;
    unsigned max_slots;
    KVMSlot *slots;
} kvm = { .fd = -1, .vm_fd = -1 };

static __thread struct kvm_run *kvm_thread_run;

bool kvm_enabled(void)
{
    return kvm.enabled;
}

/* ---- memory slots ---- */

static bool kvm_range_wants_slot(const FlatRange *fr)
{
    MemoryRegion *mr = fr->mr;
    long page = sysconf(_SC_PAGESIZE);
    return (mr->type == MR_RAM || mr->type == MR_ROM) && fr->size &&
           !(fr->start % page) && !(fr->size % page) && !(fr->offset % page);
}

static void kvm_slot_set(unsigned id, const KVMSlot *s, bool remove)
{
    struct kvm_userspace_memory_region r = {
        .slot = id,
        .flags = (!remove && s->readonly) ? KVM_MEM_READONLY : 0,
        .guest_phys_addr = s->start,
        .memory_size = remove ? 0 : s->size,
        .userspace_addr = (uint64_t)(uintptr_t)s->host,
    };
    if (ioctl(kvm.vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        error_report("KVM_SET_USER_MEMORY_REGION slot %u at 0x%" PRIx64 "+0x%" PRIx64
                     " failed: %s", id, s->start, s->size, strerror(errno));
    }
}

/* Replaces the slots that changed between the views; unchanged ones stay untouched. */
static void kvm_memory_commit(MemoryListener *l, AddressSpace *as, const FlatView *old_view,
                              const FlatView *new_view)
{
    unsigned n = new_view ? new_view->nr : 0;
    KVMSlot *want = g_new0(KVMSlot, n ? n : 1);
    unsigned nwant = 0;
    for (unsigned i = 0; i < n; i++) {
        const FlatRange *fr = &new_view->ranges[i];
        if (kvm_range_wants_slot(fr)) {
            want[nwant++] = (KVMSlot){
                .used = true, .start = fr->start, .size = fr->size,
                .host = fr->mr->ram + fr->offset,
                .readonly = fr->mr->type == MR_ROM && kvm.readonly_mem,
            };
        }
    }
    bool *kept = g_new0(bool, nwant ? nwant : 1);
    for (unsigned id = 0; id < kvm.max_slots; id++) {
        KVMSlot *s = &kvm.slots[id];
        if (!s->used) {
            continue;
        }
        bool found = false;
        for (unsigned j = 0; j < nwant && !found; j++) {
            if (!kept[j] && want[j].start == s->start && want[j].size == s->size &&
                want[j].host == s->host && want[j].readonly == s->readonly) {
                kept[j] = found = true;
            }
        }
        if (!found) {
            kvm_slot_set(id, s, true);
            s->used = false;
        }
    }
    for (unsigned j = 0; j < nwant; j++) {
        if (kept[j]) {
            continue;
        }
        unsigned id = 0;
        while (id < kvm.max_slots && kvm.slots[id].used) {
            id++;
        }
        if (id == kvm.max_slots) {
            error_report("KVM: out of memory slots (%u) for 0x%" PRIx64, kvm.max_slots,
                         want[j].start);
            break;
        }
        kvm.slots[id] = want[j];
        kvm_slot_set(id, &want[j], false);
    }
    g_free(kept);
    g_free(want);
}

static MemoryListener kvm_memory_listener = {
    .commit = kvm_memory_commit,
};

/* ---- interrupts ---- */

void kvm_irqchip_set_gsi(void *opaque, int gsi, int level)
{
    struct kvm_irq_level irq = { .irq = (uint32_t)gsi, .level = level ? 1 : 0 };
    if (ioctl(kvm.vm_fd, KVM_IRQ_LINE, &irq) < 0) {
        error_report("KVM_IRQ_LINE gsi %d: %s", gsi, strerror(errno));
    }
}

bool kvm_irqchip_send_msi(uint64_t addr, uint32_t data)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data,
    };
    return ioctl(kvm.vm_fd, KVM_SIGNAL_MSI, &msi) >= 0;
}

bool kvm_ioeventfd_set(int fd, uint64_t addr, unsigned size, bool pio, bool assign,
                       Error **errp)
{
    struct kvm_ioeventfd e = {
        .addr = addr, .len = size, .fd = fd,
        .flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    if (ioctl(kvm.vm_fd, KVM_IOEVENTFD, &e) < 0) {
        error_setg_errno(errp, errno, "KVM_IOEVENTFD at 0x%" PRIx64, addr);
        return false;
    }
    return true;
}

bool kvm_irqfd_set(int fd, int gsi, bool assign, Error **errp)
{
    struct kvm_irqfd f = {
        .fd = (uint32_t)fd, .gsi = (uint32_t)gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
    };
    if (ioctl(kvm.vm_fd, KVM_IRQFD, &f) < 0) {
        error_setg_errno(errp, errno, "KVM_IRQFD for GSI %d", gsi);
        return false;
    }
    return true;
}

/* ---- accelerator ---- */

static void kvm_kick_handler(int sig)
{
    struct kvm_run *run = kvm_thread_run;
    if (run) {
        run->immediate_exit = 1;
    }
}

static bool kvm_check_cap(int fd, long cap)
{
    return ioctl(fd, KVM_CHECK_EXTENSION, cap) > 0;
}

static bool kvm_accel_init(Machine *m, Error **errp)
{
    int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not access KVM kernel module (" KVM_DEVICE ")");
        return false;
    }
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        error_setg(errp, "KVM API version %d, expected %d", version, KVM_API_VERSION);
        close(fd);
        return false;
    }
    static const struct { long cap; const char *name; } needed[] = {
        { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
        { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
        { KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
        { KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(needed); i++) {
        if (!kvm_check_cap(fd, needed[i].cap)) {
            error_setg(errp, "KVM lacks %s", needed[i].name);
            close(fd);
            return false;
        }
    }
    int run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    int vm_fd = -1;
    do {
        vm_fd = ioctl(fd, KVM_CREATE_VM, 0);
    } while (vm_fd < 0 && errno == EINTR);
    if (run_size <= 0 || vm_fd < 0) {
        error_setg_errno(errp, errno, "could not create a KVM virtual machine");
        close(fd);
        return false;
    }
    int slots = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    kvm.fd = fd;
    kvm.vm_fd = vm_fd;
    kvm.run_size = run_size;
    kvm.max_slots = slots > 0 ? (unsigned)slots : 32;
    kvm.readonly_mem = kvm_check_cap(vm_fd, KVM_CAP_READONLY_MEM);
    kvm.slots = g_new0(KVMSlot, kvm.max_slots);
    if (!kvm_arch_init(vm_fd, m, errp)) {
        close(vm_fd);
        close(fd);
        g_free(kvm.slots);
        kvm.fd = kvm.vm_fd = -1;
        return false;
    }

    struct sigaction sa = { .sa_handler = kvm_kick_handler };
    sigemptyset(&sa.sa_mask);
    sigaction(SIG_KICK, &sa, NULL);
    kvm.enabled = true;
    address_space_add_listener(&address_space_memory, &kvm_memory_listener);
    return true;
}

static bool kvm_vcpu_init(CPUState *cpu, Error **errp)
{
    KVMVcpu *v = g_new0(KVMVcpu, 1);
    v->fd = ioctl(kvm.vm_fd, KVM_CREATE_VCPU, (unsigned long)cpu->index);
    if (v->fd < 0) {
        error_setg_errno(errp, errno, "KVM_CREATE_VCPU %d", cpu->index);
        g_free(v);
        return false;
    }
    v->run_size = kvm.run_size;
    v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        error_setg_errno(errp, errno, "mapping the kvm_run area of vCPU %d", cpu->index);
        close(v->fd);
        g_free(v);
        return false;
    }
    bql_cond_init(&v->sync_cond);
    cpu->accel_data = v;
    if (!kvm_arch_vcpu_init(cpu, kvm.fd, v->fd, errp) ||
        !kvm_arch_put_registers(cpu, v->fd, errp)) {
        return false;
    }
    kvm_arch_take_dirty(cpu);
    return true;
}

static void kvm_handle_io(struct kvm_run *run)
{
    AddressSpace *io = kvm_arch_io_space();
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    unsigned size = run->io.size;
    for (uint32_t i = 0; i < run->io.count; i++, data += size) {
        uint64_t val = 0;
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            memcpy(&val, data, size);
            if (io) {
                memory_dispatch_write(io, run->io.port, val, size);
            }
        } else {
            if (!io || memory_dispatch_read(io, run->io.port, &val, size) != MEMTX_OK) {
                val = ~0ULL;              /* nothing decodes the port: the bus floats high */
            }
            memcpy(data, &val, size);
        }
    }
}

static void kvm_handle_mmio(struct kvm_run *run)
{
    unsigned len = run->mmio.len;
    uint64_t val = 0;
    if (len != 1 && len != 2 && len != 4 && len != 8) {
        return;
    }
    if (run->mmio.is_write) {
        memcpy(&val, run->mmio.data, len);
        memory_dispatch_write(&address_space_memory, run->mmio.phys_addr, val, len);
    } else {
        if (memory_dispatch_read(&address_space_memory, run->mmio.phys_addr, &val, len) !=
            MEMTX_OK) {
            val = 0;
        }
        memcpy(run->mmio.data, &val, len);
    }
}

/* Answers a waiting sync_regs; vCPU thread, outside KVM_RUN. */
static void kvm_serve_sync(CPUState *cpu, KVMVcpu *v)
{
    if (!__atomic_load_n(&v->sync_pending, __ATOMIC_ACQUIRE)) {
        return;
    }
    kvm_arch_get_registers(cpu, v->fd, NULL);
    bql_lock();
    v->sync_pending = false;
    pthread_cond_broadcast(&v->sync_cond);
    bql_unlock();
}

static int kvm_vcpu_run(CPUState *cpu, KVMVcpu *v)
{
    struct kvm_run *run = v->run;
    kvm_thread_run = run;
    if (kvm_arch_take_dirty(cpu)) {
        Error *err = NULL;
        if (!kvm_arch_put_registers(cpu, v->fd, &err)) {
            error_report_err(err);
            return ACCEL_EXIT_ERROR;
        }
    }
    for (;;) {
        kvm_serve_sync(cpu, v);
        if (__atomic_load_n(&cpu->exit_request, __ATOMIC_ACQUIRE)) {
            return ACCEL_EXIT_KICKED;
        }
        int r = ioctl(v->fd, KVM_RUN, 0);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                run->immediate_exit = 0;
                return ACCEL_EXIT_KICKED;
            }
            error_report("KVM_RUN on vCPU %d failed: %s", cpu->index, strerror(errno));
            return ACCEL_EXIT_ERROR;
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            kvm_handle_io(run);
            break;
        case KVM_EXIT_MMIO:
            kvm_handle_mmio(run);
            break;
        case KVM_EXIT_IRQ_WINDOW_OPEN:
        case KVM_EXIT_INTR:
            break;
        case KVM_EXIT_HLT:
            return ACCEL_EXIT_HALTED;
        case KVM_EXIT_SHUTDOWN:
            /* Triple fault: the machine resets; this vCPU parks until then. */
            bql_lock();
            cpu->stop = true;
            bql_unlock();
            machine_request_reset(SHUTDOWN_CAUSE_GUEST_RESET);
            return ACCEL_EXIT_KICKED;
        case KVM_EXIT_SYSTEM_EVENT:
            bql_lock();
            cpu->stop = true;
            bql_unlock();
            if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
                machine_request_reset(SHUTDOWN_CAUSE_GUEST_RESET);
            } else {
                machine_request_shutdown(SHUTDOWN_CAUSE_GUEST_SHUTDOWN, 0);
            }
            return ACCEL_EXIT_KICKED;
        case KVM_EXIT_FAIL_ENTRY:
            error_report("KVM: vCPU %d failed to enter the guest (hardware reason 0x%llx)",
                         cpu->index,
                         (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            kvm_arch_get_registers(cpu, v->fd, NULL);
            return ACCEL_EXIT_ERROR;
        case KVM_EXIT_INTERNAL_ERROR:
            kvm_arch_get_registers(cpu, v->fd, NULL);
            error_report("KVM internal error on vCPU %d: suberror %u, pc 0x%" PRIx64,
                         cpu->index, run->internal.suberror, cpu->ops->get_pc(cpu));
            return ACCEL_EXIT_ERROR;
        default:
            kvm_arch_get_registers(cpu, v->fd, NULL);
            error_report("KVM: unhandled exit reason %u on vCPU %d at pc 0x%" PRIx64,
                         run->exit_reason, cpu->index, cpu->ops->get_pc(cpu));
            return ACCEL_EXIT_ERROR;
        }
    }
}

static int kvm_vcpu_exec(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel_data;
    int r = kvm_vcpu_run(cpu, v);
    kvm_serve_sync(cpu, v);
    return r;
}

static void kvm_vcpu_kick(CPUState *cpu)
{
    if (cpu->thread_started && !pthread_equal(cpu->thread, pthread_self())) {
        pthread_kill(cpu->thread, SIG_KICK);
    }
}

/* Fetches the registers: directly from a parked vCPU, otherwise from its own thread. */
static void kvm_sync_regs(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel_data;
    if (!v) {
        return;
    }
    if (!cpu->thread_started || cpu->stopped || cpu->halted ||
        pthread_equal(cpu->thread, pthread_self())) {
        kvm_arch_get_registers(cpu, v->fd, NULL);
        return;
    }
    __atomic_store_n(&v->sync_pending, true, __ATOMIC_RELEASE);
    cpu_exit(cpu);
    while (v->sync_pending) {
        bql_cond_wait(&v->sync_cond);
    }
}

static const AccelOps kvm_accel_ops = {
    .name = "kvm",
    .init = kvm_accel_init,
    .vcpu_init = kvm_vcpu_init,
    .vcpu_exec = kvm_vcpu_exec,
    .vcpu_kick = kvm_vcpu_kick,
    .sync_regs = kvm_sync_regs,
};

static void __attribute__((constructor)) kvm_accel_register(void)
{
    accel_register(&kvm_accel_ops);
}
