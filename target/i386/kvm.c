/* KVM glue for x86: VM set-up (TSS, identity map, irqchip, PIT), CPUID and the register,
 * segment, FPU, MSR and MP-state copies between CPUX86State and the kernel. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <glib.h>
#include "accel/kvm.h"
#include "hw/i386/ioport.h"
#include "target/i386/cpu.h"

/* The VM, for machine-wide state (the in-kernel PIC and IOAPIC). */
static int kvm_x86_vm_fd = -1;

/* Three pages below the BIOS ROM that VT-x needs for real mode (as QEMU places them). */
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000u
#define KVM_TSS_ADDR 0xfeffd000u

bool kvm_arch_init(int vm_fd, Machine *m, Error **errp)
{
    if (strcmp(m->mc->name, "pc") != 0) {
        error_setg(errp, "KVM cannot run machine '%s': it accelerates x86_64 guests only",
                   m->mc->name);
        return false;
    }
    uint64_t ident = KVM_IDENTITY_MAP_ADDR;
    if (ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0 ||
        ioctl(vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
        error_setg_errno(errp, errno, "KVM: setting the TSS / identity map address");
        return false;
    }
    if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
        error_setg_errno(errp, errno, "KVM_CREATE_IRQCHIP");
        return false;
    }
    /* the kernel also models port 0x61 (speaker gate, PIT channel 2 output) */
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
        error_setg_errno(errp, errno, "KVM_CREATE_PIT2");
        return false;
    }
    kvm_x86_vm_fd = vm_fd;
    return true;
}

bool kvm_irqchip_reset(Error **errp)
{
    /* PICs: uninitialised, nothing pending or in service, edge-triggered; the ELCR bits
     * that can be level-triggered are those QEMU allows (not IRQ 0-2, 8, 13) */
    for (unsigned chip = KVM_IRQCHIP_PIC_MASTER; chip <= KVM_IRQCHIP_PIC_SLAVE; chip++) {
        struct kvm_irqchip c = { .chip_id = chip };
        c.chip.pic.elcr_mask = chip == KVM_IRQCHIP_PIC_MASTER ? 0xf8 : 0xde;
        if (ioctl(kvm_x86_vm_fd, KVM_SET_IRQCHIP, &c) < 0) {
            error_setg_errno(errp, errno, "KVM_SET_IRQCHIP (PIC)");
            return false;
        }
    }
    /* IOAPIC: id 0 at its default address, every redirection entry masked */
    struct kvm_irqchip c = { .chip_id = KVM_IRQCHIP_IOAPIC };
    c.chip.ioapic.base_address = 0xfec00000;
    for (unsigned i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
        c.chip.ioapic.redirtbl[i].fields.mask = 1;
    }
    if (ioctl(kvm_x86_vm_fd, KVM_SET_IRQCHIP, &c) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_IRQCHIP (IOAPIC)");
        return false;
    }
    return true;
}

static void lapic_set_reg(struct kvm_lapic_state *s, unsigned reg, uint32_t val)
{
    memcpy(s->regs + reg, &val, 4);
}

/* The in-kernel LAPIC at RESET (SDM 11.4.7.1): LVTs masked, software-disabled (SVR 0xff),
 * flat destination format, timer stopped; on the BSP LINT0 delivers ExtINT so the PIC
 * reaches it once the guest enables the APIC, as firmware leaves it (and QEMU does). */
static bool kvm_lapic_reset(CPUState *cs, int fd, Error **errp)
{
    struct kvm_lapic_state s = { { 0 } };
    lapic_set_reg(&s, 0x20, x86_cpu(cs)->apic_id << 24);    /* ID */
    lapic_set_reg(&s, 0xe0, 0xffffffff);                     /* DFR */
    lapic_set_reg(&s, 0xf0, 0xff);                           /* SVR */
    for (unsigned lvt = 0x320; lvt <= 0x370; lvt += 0x10) {
        lapic_set_reg(&s, lvt, 0x10000);                     /* masked */
    }
    if (cs->index == 0) {
        lapic_set_reg(&s, 0x350, 0x700);                     /* LINT0: ExtINT */
    }
    if (ioctl(fd, KVM_SET_LAPIC, &s) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_LAPIC on vCPU %d", cs->index);
        return false;
    }
    return true;
}

/* KVM_GET_SUPPORTED_CPUID, growing the buffer until it fits. */
static struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd, Error **errp)
{
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
        c->nent = n;
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            return c;
        }
        int e = errno;
        g_free(c);
        if (e != E2BIG) {
            error_setg_errno(errp, e, "KVM_GET_SUPPORTED_CPUID");
            return NULL;
        }
    }
    error_setg(errp, "KVM_GET_SUPPORTED_CPUID: too many entries");
    return NULL;
}

bool kvm_arch_vcpu_init(CPUState *cs, int kvm_fd, int vcpu_fd, Error **errp)
{
    X86CPU *cpu = x86_cpu(cs);
    struct kvm_cpuid2 *sup = kvm_supported_cpuid(kvm_fd, errp);
    if (!sup) {
        return false;
    }
    X86CpuidEntry *list = g_new0(X86CpuidEntry, sup->nent ? sup->nent : 1);
    for (unsigned i = 0; i < sup->nent; i++) {
        const struct kvm_cpuid_entry2 *k = &sup->entries[i];
        list[i] = (X86CpuidEntry){
            .function = k->function, .index = k->index,
            .flags = (k->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ?
                     X86_CPUID_FLAG_SIGNIFICANT_INDEX : 0,
            .eax = k->eax, .ebx = k->ebx, .ecx = k->ecx, .edx = k->edx,
        };
    }
    bool ok = x86_cpu_build_cpuid(cpu, list, sup->nent, cs->machine ? cs->machine->smp : 1,
                                  errp);
    g_free(list);
    g_free(sup);
    if (!ok) {
        return false;
    }
    CPUX86State *env = &cpu->env;
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + env->cpuid_count *
                                     sizeof(struct kvm_cpuid_entry2));
    c->nent = env->cpuid_count;
    for (unsigned i = 0; i < env->cpuid_count; i++) {
        const X86CpuidEntry *e = &env->cpuid[i];
        c->entries[i] = (struct kvm_cpuid_entry2){
            .function = e->function, .index = e->index,
            .flags = (e->flags & X86_CPUID_FLAG_SIGNIFICANT_INDEX) ?
                     KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
            .eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx,
        };
    }
    int r = ioctl(vcpu_fd, KVM_SET_CPUID2, c);
    g_free(c);
    if (r < 0) {
        error_setg_errno(errp, errno, "KVM_SET_CPUID2 on vCPU %d", cs->index);
        return false;
    }
    return true;
}

bool kvm_arch_take_dirty(CPUState *cs)
{
    X86CPU *cpu = x86_cpu(cs);
    bool dirty = cpu->regs_dirty;
    cpu->regs_dirty = false;
    return dirty;
}

AddressSpace *kvm_arch_io_space(void)
{
    return system_io ? &address_space_io : NULL;
}

static void seg_to_kvm(struct kvm_segment *k, const X86Segment *s)
{
    *k = (struct kvm_segment){
        .base = s->base, .limit = s->limit, .selector = s->selector,
        .type = s->attr & SEG_ATTR_TYPE_MASK,
        .s = !!(s->attr & SEG_ATTR_S),
        .dpl = (s->attr & SEG_ATTR_DPL_MASK) >> SEG_ATTR_DPL_SHIFT,
        .present = !!(s->attr & SEG_ATTR_P),
        .avl = !!(s->attr & SEG_ATTR_AVL),
        .l = !!(s->attr & SEG_ATTR_L),
        .db = !!(s->attr & SEG_ATTR_DB),
        .g = !!(s->attr & SEG_ATTR_G),
        .unusable = !!(s->attr & SEG_ATTR_UNUSABLE),
    };
}

static void seg_from_kvm(X86Segment *s, const struct kvm_segment *k)
{
    s->base = k->base;
    s->limit = k->limit;
    s->selector = k->selector;
    s->attr = (k->type & SEG_ATTR_TYPE_MASK) | (k->s ? SEG_ATTR_S : 0) |
              ((uint32_t)k->dpl << SEG_ATTR_DPL_SHIFT) | (k->present ? SEG_ATTR_P : 0) |
              (k->avl ? SEG_ATTR_AVL : 0) | (k->l ? SEG_ATTR_L : 0) |
              (k->db ? SEG_ATTR_DB : 0) | (k->g ? SEG_ATTR_G : 0) |
              (k->unusable ? SEG_ATTR_UNUSABLE : 0);
}

/* The MSRs copied in and out, paired with their CPUX86State fields. */
typedef struct MsrField {
    uint32_t index;
    size_t offset;
} MsrField;

#define MSR_FIELD(i, f) { (i), offsetof(CPUX86State, f) }
static const MsrField kvm_msrs[] = {
    MSR_FIELD(MSR_IA32_SYSENTER_CS, sysenter_cs),
    MSR_FIELD(MSR_IA32_SYSENTER_ESP, sysenter_esp),
    MSR_FIELD(MSR_IA32_SYSENTER_EIP, sysenter_eip),
    MSR_FIELD(MSR_STAR, star),
    MSR_FIELD(MSR_LSTAR, lstar),
    MSR_FIELD(MSR_CSTAR, cstar),
    MSR_FIELD(MSR_FMASK, fmask),
    MSR_FIELD(MSR_KERNEL_GS_BASE, kernel_gs_base),
    MSR_FIELD(MSR_IA32_CR_PAT, pat),
    MSR_FIELD(MSR_IA32_TSC, tsc),
    MSR_FIELD(MSR_IA32_MISC_ENABLE, misc_enable),
    MSR_FIELD(MSR_KVM_SYSTEM_TIME_NEW, system_time_msr),
    MSR_FIELD(MSR_KVM_WALL_CLOCK_NEW, wall_clock_msr),
};
#define KVM_NR_MSRS G_N_ELEMENTS(kvm_msrs)

typedef struct {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[KVM_NR_MSRS];
} KvmMsrBuf;

static uint64_t *msr_slot(CPUX86State *env, unsigned i)
{
    return (uint64_t *)((char *)env + kvm_msrs[i].offset);
}

bool kvm_arch_put_registers(CPUState *cs, int fd, Error **errp)
{
    CPUX86State *env = x86_env(cs);
    struct kvm_regs regs = {
        .rax = env->regs[R_EAX], .rbx = env->regs[R_EBX], .rcx = env->regs[R_ECX],
        .rdx = env->regs[R_EDX], .rsi = env->regs[R_ESI], .rdi = env->regs[R_EDI],
        .rsp = env->regs[R_ESP], .rbp = env->regs[R_EBP],
        .r8 = env->regs[R_R8], .r9 = env->regs[R_R9], .r10 = env->regs[R_R10],
        .r11 = env->regs[R_R11], .r12 = env->regs[R_R12], .r13 = env->regs[R_R13],
        .r14 = env->regs[R_R14], .r15 = env->regs[R_R15],
        .rip = env->rip, .rflags = env->rflags,
    };
    struct kvm_sregs sregs = { 0 };
    seg_to_kvm(&sregs.es, &env->segs[R_ES]);
    seg_to_kvm(&sregs.cs, &env->segs[R_CS]);
    seg_to_kvm(&sregs.ss, &env->segs[R_SS]);
    seg_to_kvm(&sregs.ds, &env->segs[R_DS]);
    seg_to_kvm(&sregs.fs, &env->segs[R_FS]);
    seg_to_kvm(&sregs.gs, &env->segs[R_GS]);
    seg_to_kvm(&sregs.ldt, &env->ldt);
    seg_to_kvm(&sregs.tr, &env->tr);
    sregs.gdt.base = env->gdt.base;
    sregs.gdt.limit = env->gdt.limit;
    sregs.idt.base = env->idt.base;
    sregs.idt.limit = env->idt.limit;
    sregs.cr0 = env->cr[0];
    sregs.cr2 = env->cr[2];
    sregs.cr3 = env->cr[3];
    sregs.cr4 = env->cr[4];
    sregs.cr8 = env->cr8;
    sregs.efer = env->efer;
    sregs.apic_base = env->apic_base;

    struct kvm_fpu fpu = {
        .fcw = env->fx.fcw, .fsw = env->fx.fsw, .ftwx = env->fx.ftw,
        .last_opcode = env->fx.fop, .last_ip = env->fx.fip, .last_dp = env->fx.fdp,
        .mxcsr = env->fx.mxcsr,
    };
    memcpy(fpu.fpr, env->fx.st, sizeof(fpu.fpr));
    memcpy(fpu.xmm, env->fx.xmm, sizeof(fpu.xmm));

    KvmMsrBuf msrs = { .hdr.nmsrs = KVM_NR_MSRS };
    for (unsigned i = 0; i < KVM_NR_MSRS; i++) {
        msrs.e[i].index = kvm_msrs[i].index;
        msrs.e[i].data = *msr_slot(env, i);
    }
    struct kvm_mp_state mp = { .mp_state = env->mp_state };

    const char *what = NULL;
    if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) {
        what = "KVM_SET_SREGS";
    } else if (ioctl(fd, KVM_SET_REGS, &regs) < 0) {
        what = "KVM_SET_REGS";
    } else if (ioctl(fd, KVM_SET_FPU, &fpu) < 0) {
        what = "KVM_SET_FPU";
    } else if (ioctl(fd, KVM_SET_MSRS, &msrs) != (int)KVM_NR_MSRS) {
        what = "KVM_SET_MSRS";
    } else if (ioctl(fd, KVM_SET_MP_STATE, &mp) < 0) {
        what = "KVM_SET_MP_STATE";
    }
    if (what) {
        error_setg_errno(errp, errno, "%s on vCPU %d", what, cs->index);
        return false;
    }
    if (x86_cpu(cs)->apic_reset_pending) {
        if (!kvm_lapic_reset(cs, fd, errp)) {
            return false;
        }
        x86_cpu(cs)->apic_reset_pending = false;
    }
    return true;
}

bool kvm_arch_get_registers(CPUState *cs, int fd, Error **errp)
{
    CPUX86State *env = x86_env(cs);
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;
    struct kvm_mp_state mp;
    KvmMsrBuf msrs = { .hdr.nmsrs = KVM_NR_MSRS };
    for (unsigned i = 0; i < KVM_NR_MSRS; i++) {
        msrs.e[i].index = kvm_msrs[i].index;
    }
    const char *what = NULL;
    if (ioctl(fd, KVM_GET_REGS, &regs) < 0) {
        what = "KVM_GET_REGS";
    } else if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0) {
        what = "KVM_GET_SREGS";
    } else if (ioctl(fd, KVM_GET_FPU, &fpu) < 0) {
        what = "KVM_GET_FPU";
    } else if (ioctl(fd, KVM_GET_MSRS, &msrs) != (int)KVM_NR_MSRS) {
        what = "KVM_GET_MSRS";
    } else if (ioctl(fd, KVM_GET_MP_STATE, &mp) < 0) {
        what = "KVM_GET_MP_STATE";
    }
    if (what) {
        error_setg_errno(errp, errno, "%s on vCPU %d", what, cs->index);
        return false;
    }
    const uint64_t gpr[X86_NR_GPRS] = {
        regs.rax, regs.rcx, regs.rdx, regs.rbx, regs.rsp, regs.rbp, regs.rsi, regs.rdi,
        regs.r8, regs.r9, regs.r10, regs.r11, regs.r12, regs.r13, regs.r14, regs.r15,
    };
    memcpy(env->regs, gpr, sizeof(gpr));
    env->rip = regs.rip;
    env->rflags = regs.rflags;
    seg_from_kvm(&env->segs[R_ES], &sregs.es);
    seg_from_kvm(&env->segs[R_CS], &sregs.cs);
    seg_from_kvm(&env->segs[R_SS], &sregs.ss);
    seg_from_kvm(&env->segs[R_DS], &sregs.ds);
    seg_from_kvm(&env->segs[R_FS], &sregs.fs);
    seg_from_kvm(&env->segs[R_GS], &sregs.gs);
    seg_from_kvm(&env->ldt, &sregs.ldt);
    seg_from_kvm(&env->tr, &sregs.tr);
    env->gdt.base = sregs.gdt.base;
    env->gdt.limit = sregs.gdt.limit;
    env->idt.base = sregs.idt.base;
    env->idt.limit = sregs.idt.limit;
    env->cr[0] = sregs.cr0;
    env->cr[2] = sregs.cr2;
    env->cr[3] = sregs.cr3;
    env->cr[4] = sregs.cr4;
    env->cr8 = sregs.cr8;
    env->efer = sregs.efer;
    env->apic_base = sregs.apic_base;
    env->fx.fcw = fpu.fcw;
    env->fx.fsw = fpu.fsw;
    env->fx.ftw = fpu.ftwx;
    env->fx.fop = fpu.last_opcode;
    env->fx.fip = fpu.last_ip;
    env->fx.fdp = fpu.last_dp;
    env->fx.mxcsr = fpu.mxcsr;
    memcpy(env->fx.st, fpu.fpr, sizeof(fpu.fpr));
    memcpy(env->fx.xmm, fpu.xmm, sizeof(fpu.xmm));
    for (unsigned i = 0; i < KVM_NR_MSRS; i++) {
        *msr_slot(env, i) = msrs.e[i].data;
    }
    env->mp_state = (X86MpState)mp.mp_state;
    return true;
}
