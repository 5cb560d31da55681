/* x86-64 vCPU: CPU models and CPUID, reset and boot-protocol entry states, register dump. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "target/i386/cpu.h"

/* CPUID feature words a model lists. */
enum {
    FEAT_1_EDX, FEAT_1_ECX, FEAT_7_0_EBX, FEAT_7_0_ECX, FEAT_7_0_EDX,
    FEAT_8000_0001_EDX, FEAT_8000_0001_ECX, FEAT_KVM, FEAT_WORDS,
};

struct X86CPUModel {
    const char *name;
    const char *desc;
    const char *vendor;            /* 12 characters */
    uint32_t level, xlevel;
    unsigned family, model, stepping;
    uint32_t features[FEAT_WORDS];
    const char *model_id;
    bool host;
};

/* Leaf 1 EDX */
#define F_FPU (1u << 0)
#define F_DE (1u << 2)
#define F_PSE (1u << 3)
#define F_TSC (1u << 4)
#define F_MSR (1u << 5)
#define F_PAE (1u << 6)
#define F_MCE (1u << 7)
#define F_CX8 (1u << 8)
#define F_APIC (1u << 9)
#define F_SEP (1u << 11)
#define F_MTRR (1u << 12)
#define F_PGE (1u << 13)
#define F_MCA (1u << 14)
#define F_CMOV (1u << 15)
#define F_PAT (1u << 16)
#define F_PSE36 (1u << 17)
#define F_CLFLUSH (1u << 19)
#define F_MMX (1u << 23)
#define F_FXSR (1u << 24)
#define F_SSE (1u << 25)
#define F_SSE2 (1u << 26)
/* Leaf 1 ECX */
#define F_SSE3 (1u << 0)
#define F_PCLMUL (1u << 1)
#define F_SSSE3 (1u << 9)
#define F_FMA (1u << 12)
#define F_CX16 (1u << 13)
#define F_PCID (1u << 17)
#define F_SSE41 (1u << 19)
#define F_SSE42 (1u << 20)
#define F_X2APIC (1u << 21)
#define F_MOVBE (1u << 22)
#define F_POPCNT (1u << 23)
#define F_TSC_DEADLINE (1u << 24)
#define F_AES (1u << 25)
#define F_RDRAND (1u << 30)
#define F_HYPERVISOR (1u << 31)
/* Leaf 7.0 EBX */
#define F7_FSGSBASE (1u << 0)
#define F7_BMI1 (1u << 3)
#define F7_SMEP (1u << 7)
#define F7_BMI2 (1u << 8)
#define F7_ERMS (1u << 9)
#define F7_INVPCID (1u << 10)
#define F7_RDSEED (1u << 18)
#define F7_ADX (1u << 19)
#define F7_SMAP (1u << 20)
#define F7_CLFLUSHOPT (1u << 23)
/* Leaf 0x80000001 EDX / ECX */
#define FE_SYSCALL (1u << 11)
#define FE_NX (1u << 20)
#define FE_PDPE1GB (1u << 26)
#define FE_RDTSCP (1u << 27)
#define FE_LM (1u << 29)
#define FE_LAHF_LM (1u << 0)
#define FE_ABM (1u << 5)
#define FE_3DNOWPREFETCH (1u << 8)
/* Leaf 0x40000001 EAX */
#define FK_CLOCKSOURCE (1u << 0)
#define FK_NOPIODELAY (1u << 1)
#define FK_CLOCKSOURCE2 (1u << 3)
#define FK_CLOCKSOURCE_STABLE (1u << 24)

#define BASE_EDX (F_FPU | F_DE | F_PSE | F_TSC | F_MSR | F_PAE | F_MCE | F_CX8 | F_APIC | \
                  F_SEP | F_MTRR | F_PGE | F_MCA | F_CMOV | F_PAT | F_PSE36 | F_CLFLUSH | \
                  F_MMX | F_FXSR | F_SSE | F_SSE2)
#define BASE_KVM (FK_CLOCKSOURCE | FK_NOPIODELAY | FK_CLOCKSOURCE2 | FK_CLOCKSOURCE_STABLE)

static const X86CPUModel x86_cpu_models[] = {
    {
        .name = "qemu64", .desc = "QEMU Virtual CPU version 2.5+",
        .vendor = "AuthenticAMD", .level = 0xd, .xlevel = 0x8000000a,
        .family = 15, .model = 107, .stepping = 1,
        .features = {
            [FEAT_1_EDX] = BASE_EDX,
            [FEAT_1_ECX] = F_SSE3 | F_CX16 | F_X2APIC,
            [FEAT_8000_0001_EDX] = FE_LM | FE_SYSCALL | FE_NX,
            [FEAT_8000_0001_ECX] = FE_LAHF_LM,
            [FEAT_KVM] = BASE_KVM,
        },
        .model_id = "QEMU Virtual CPU version 2.5+",
    },
    {
        .name = "Skylake-Client", .desc = "Intel Core Processor (Skylake), without XSAVE/AVX",
        .vendor = "GenuineIntel", .level = 0xd, .xlevel = 0x80000008,
        .family = 6, .model = 94, .stepping = 3,
        .features = {
            [FEAT_1_EDX] = BASE_EDX,
            [FEAT_1_ECX] = F_SSE3 | F_PCLMUL | F_SSSE3 | F_FMA | F_CX16 | F_PCID | F_SSE41 |
                           F_SSE42 | F_X2APIC | F_MOVBE | F_POPCNT | F_TSC_DEADLINE | F_AES |
                           F_RDRAND,
            [FEAT_7_0_EBX] = F7_FSGSBASE | F7_BMI1 | F7_SMEP | F7_BMI2 | F7_ERMS |
                             F7_INVPCID | F7_RDSEED | F7_ADX | F7_SMAP | F7_CLFLUSHOPT,
            [FEAT_8000_0001_EDX] = FE_LM | FE_SYSCALL | FE_NX | FE_PDPE1GB | FE_RDTSCP,
            [FEAT_8000_0001_ECX] = FE_LAHF_LM | FE_ABM | FE_3DNOWPREFETCH,
            [FEAT_KVM] = BASE_KVM,
        },
        .model_id = "Intel Core Processor (Skylake)",
    },
    {
        .name = "host", .desc = "the host CPU's features as KVM supports them (KVM only)",
        .host = true,
    },
};

const X86CPUModel *x86_cpu_model_find(const char *name)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(x86_cpu_models); i++) {
        if (strcmp(x86_cpu_models[i].name, name) == 0) {
            return &x86_cpu_models[i];
        }
    }
    return NULL;
}

const char *x86_cpu_model_name(const X86CPUModel *model)
{
    return model->name;
}

bool x86_cpu_model_is_host(const X86CPUModel *model)
{
    return model->host;
}

void x86_cpu_print_list(void)
{
    printf("Available CPUs:\n");
    for (unsigned i = 0; i < G_N_ELEMENTS(x86_cpu_models); i++) {
        printf("x86 %-16s %s\n", x86_cpu_models[i].name, x86_cpu_models[i].desc);
    }
}

/* ---- CPUID ---- */

static const X86CpuidEntry *cpuid_find(const X86CpuidEntry *e, unsigned n, uint32_t fn,
                                       uint32_t index)
{
    for (unsigned i = 0; i < n; i++) {
        if (e[i].function == fn &&
            (!(e[i].flags & X86_CPUID_FLAG_SIGNIFICANT_INDEX) || e[i].index == index)) {
            return &e[i];
        }
    }
    return NULL;
}

void x86_cpu_cpuid(CPUX86State *env, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    const X86CpuidEntry *e = cpuid_find(env->cpuid, env->cpuid_count, leaf, subleaf);
    out[0] = e ? e->eax : 0;
    out[1] = e ? e->ebx : 0;
    out[2] = e ? e->ecx : 0;
    out[3] = e ? e->edx : 0;
}

static X86CpuidEntry *cpuid_add(CPUX86State *env, uint32_t fn, uint32_t index, bool indexed,
                                Error **errp)
{
    if (env->cpuid_count >= X86_CPUID_MAX_ENTRIES) {
        error_setg(errp, "too many CPUID entries (more than %u)", X86_CPUID_MAX_ENTRIES);
        return NULL;
    }
    X86CpuidEntry *e = &env->cpuid[env->cpuid_count++];
    memset(e, 0, sizeof(*e));
    e->function = fn;
    e->index = index;
    e->flags = indexed ? X86_CPUID_FLAG_SIGNIFICANT_INDEX : 0;
    return e;
}

static void cpuid_vendor(X86CpuidEntry *e, const char *v)
{
    memcpy(&e->ebx, v, 4);
    memcpy(&e->edx, v + 4, 4);
    memcpy(&e->ecx, v + 8, 4);
}

/* The mask of a feature word the accelerator supports (all ones without a list). */
static uint32_t cpuid_supported(const X86CpuidEntry *sup, unsigned n, uint32_t fn,
                                uint32_t index, int reg)
{
    if (!sup) {
        return ~0u;
    }
    const X86CpuidEntry *e = cpuid_find(sup, n, fn, index);
    if (!e) {
        return 0;
    }
    const uint32_t regs[4] = { e->eax, e->ebx, e->ecx, e->edx };
    return regs[reg];
}

/* Under an accelerator the guest sees the host's vendor (as QEMU does with KVM): SYSCALL,
 * SYSENTER and MSR behaviour follow the real CPU. */
static const char *cpuid_model_vendor(const X86CPUModel *m, const X86CpuidEntry *sup,
                                      unsigned nsup)
{
    static __thread char vendor[13];
    const X86CpuidEntry *l0 = sup ? cpuid_find(sup, nsup, 0, 0) : NULL;
    if (!l0) {
        return m->vendor;
    }
    memcpy(vendor, &l0->ebx, 4);
    memcpy(vendor + 4, &l0->edx, 4);
    memcpy(vendor + 8, &l0->ecx, 4);
    vendor[12] = 0;
    return vendor;
}

static unsigned bits_for(unsigned count)
{
    unsigned b = 0;
    while ((1u << b) < count) {
        b++;
    }
    return b;
}

/* Per-vCPU fields: APIC IDs, logical processor count, topology leaf 0xb. */
static bool cpuid_patch_topology(X86CPU *cpu, unsigned smp, Error **errp)
{
    CPUX86State *env = &cpu->env;
    for (unsigned i = 0; i < env->cpuid_count; i++) {
        X86CpuidEntry *e = &env->cpuid[i];
        if (e->function == 1) {
            e->ebx = (e->ebx & 0xffff) | (MIN(smp, 255u) << 16) | (cpu->apic_id << 24);
            e->edx |= smp > 1 ? (1u << 28) : 0;    /* HTT: the count in ebx is valid */
            e->ecx |= F_HYPERVISOR;
        } else if (e->function == 0xb) {
            e->edx = cpu->apic_id;
        } else if (e->function == 4) {
            e->eax = (e->eax & 0x3ffffff) | ((smp - 1) << 26);
        }
    }
    /* Leaf 0xb: one thread per core, smp cores per package. */
    if (!cpuid_find(env->cpuid, env->cpuid_count, 0xb, 0)) {
        const X86CpuidEntry *l0 = cpuid_find(env->cpuid, env->cpuid_count, 0, 0);
        if (l0 && l0->eax >= 0xb) {
            X86CpuidEntry *e = cpuid_add(env, 0xb, 0, true, errp);
            if (!e) {
                return false;
            }
            *e = (X86CpuidEntry){ 0xb, 0, X86_CPUID_FLAG_SIGNIFICANT_INDEX, 0, 1, 1u << 8,
                                  cpu->apic_id };
            if (!(e = cpuid_add(env, 0xb, 1, true, errp))) {
                return false;
            }
            *e = (X86CpuidEntry){ 0xb, 1, X86_CPUID_FLAG_SIGNIFICANT_INDEX, bits_for(smp),
                                  smp, 2u << 8 | 1, cpu->apic_id };
            if (!(e = cpuid_add(env, 0xb, 2, true, errp))) {
                return false;
            }
            *e = (X86CpuidEntry){ 0xb, 2, X86_CPUID_FLAG_SIGNIFICANT_INDEX, 0, 0, 2,
                                  cpu->apic_id };
        }
    }
    return true;
}

bool x86_cpu_build_cpuid(X86CPU *cpu, const X86CpuidEntry *sup, unsigned nsup, unsigned smp,
                         Error **errp)
{
    CPUX86State *env = &cpu->env;
    const X86CPUModel *m = cpu->model;
    env->cpuid_count = 0;

    if (m->host) {
        if (!sup) {
            error_setg(errp, "CPU model 'host' requires KVM");
            return false;
        }
        for (unsigned i = 0; i < nsup; i++) {
            X86CpuidEntry *e = cpuid_add(env, sup[i].function, sup[i].index,
                                         sup[i].flags & X86_CPUID_FLAG_SIGNIFICANT_INDEX, errp);
            if (!e) {
                return false;
            }
            *e = sup[i];
            e->flags &= X86_CPUID_FLAG_SIGNIFICANT_INDEX;
        }
        return cpuid_patch_topology(cpu, smp, errp);
    }

    const uint32_t *f = m->features;
    uint32_t sig = (m->stepping & 0xf) | (MIN(m->model, 15u) << 4) |
                   (MIN(m->family, 15u) << 8) | ((m->model >> 4) << 16) |
                   ((m->family > 15 ? m->family - 15 : 0) << 20);
    X86CpuidEntry *e;

    if (!(e = cpuid_add(env, 0, 0, false, errp))) {
        return false;
    }
    e->eax = m->level;
    cpuid_vendor(e, cpuid_model_vendor(m, sup, nsup));

    if (!(e = cpuid_add(env, 1, 0, false, errp))) {
        return false;
    }
    e->eax = sig;
    e->ebx = 8u << 8;                                   /* CLFLUSH line size: 64 bytes */
    e->ecx = f[FEAT_1_ECX] & cpuid_supported(sup, nsup, 1, 0, 2);
    e->edx = f[FEAT_1_EDX] & cpuid_supported(sup, nsup, 1, 0, 3);
    if (!sup) {
        e->ecx &= ~F_TSC_DEADLINE;                      /* needs an emulated LAPIC timer */
    }
    if (sup && !(e->ecx & F_TSC_DEADLINE) && (f[FEAT_1_ECX] & F_TSC_DEADLINE)) {
        e->ecx |= F_TSC_DEADLINE;                       /* KVM emulates it in its LAPIC */
    }

    if (!(e = cpuid_add(env, 4, 0, true, errp))) {
        return false;                                   /* no cache descriptions */
    }
    if (!(e = cpuid_add(env, 7, 0, true, errp))) {
        return false;
    }
    e->ebx = f[FEAT_7_0_EBX] & cpuid_supported(sup, nsup, 7, 0, 1);
    e->ecx = f[FEAT_7_0_ECX] & cpuid_supported(sup, nsup, 7, 0, 2);
    e->edx = f[FEAT_7_0_EDX] & cpuid_supported(sup, nsup, 7, 0, 3);
    if (!(e = cpuid_add(env, 0xd, 0, true, errp))) {
        return false;                                   /* no XSAVE: leaf 0xd stays empty */
    }

    if (sup && cpuid_find(sup, nsup, 0x40000001, 0)) {
        if (!(e = cpuid_add(env, 0x40000000, 0, false, errp))) {
            return false;
        }
        e->eax = 0x40000001;
        memcpy(&e->ebx, "KVMK", 4);
        memcpy(&e->ecx, "VMKV", 4);
        memcpy(&e->edx, "M\0\0\0", 4);
        if (!(e = cpuid_add(env, 0x40000001, 0, false, errp))) {
            return false;
        }
        e->eax = f[FEAT_KVM] & cpuid_supported(sup, nsup, 0x40000001, 0, 0);
    }

    if (!(e = cpuid_add(env, 0x80000000, 0, false, errp))) {
        return false;
    }
    e->eax = m->xlevel;
    cpuid_vendor(e, cpuid_model_vendor(m, sup, nsup));
    if (!(e = cpuid_add(env, 0x80000001, 0, false, errp))) {
        return false;
    }
    e->eax = sig;
    e->ecx = f[FEAT_8000_0001_ECX] & cpuid_supported(sup, nsup, 0x80000001, 0, 2);
    e->edx = f[FEAT_8000_0001_EDX] & cpuid_supported(sup, nsup, 0x80000001, 0, 3);
    if (!strcmp(cpuid_model_vendor(m, sup, nsup), "AuthenticAMD")) {
        /* AMD mirrors the leaf 1 EDX bits 0-9, 12-17, 23-24 in the extended leaf. */
        e->edx |= f[FEAT_1_EDX] & 0x0183f3ff & cpuid_supported(sup, nsup, 1, 0, 3);
    }
    char id[48] = { 0 };
    strncpy(id, m->model_id, sizeof(id) - 1);
    for (unsigned leaf = 0; leaf < 3; leaf++) {
        if (!(e = cpuid_add(env, 0x80000002 + leaf, 0, false, errp))) {
            return false;
        }
        memcpy(&e->eax, id + leaf * 16, 4);
        memcpy(&e->ebx, id + leaf * 16 + 4, 4);
        memcpy(&e->ecx, id + leaf * 16 + 8, 4);
        memcpy(&e->edx, id + leaf * 16 + 12, 4);
    }
    if (!(e = cpuid_add(env, 0x80000008, 0, false, errp))) {
        return false;
    }
    /* Physical address bits: the host's when the accelerator says, else 40; virtual 48. */
    const X86CpuidEntry *host8 = sup ? cpuid_find(sup, nsup, 0x80000008, 0) : NULL;
    e->eax = (host8 && (host8->eax & 0xff) ? MIN(host8->eax & 0xff, 46u) : 40u) | 48u << 8;
    return cpuid_patch_topology(cpu, smp, errp);
}

/* ---- segments and state ---- */

void x86_segment_from_descriptor(X86Segment *seg, uint16_t selector, uint32_t lo, uint32_t hi)
{
    seg->selector = selector;
    seg->base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000);
    uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
    seg->attr = (hi >> 8) & 0xf0ff;
    if (seg->attr & SEG_ATTR_G) {
        limit = (limit << 12) | 0xfff;
    }
    seg->limit = limit;
}

static void x86_seg_set(X86Segment *s, uint16_t sel, uint64_t base, uint32_t limit,
                        uint32_t attr)
{
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->attr = attr;
}

void x86_cpu_reset(CPUState *cs)
{
    X86CPU *cpu = x86_cpu(cs);
    CPUX86State *env = &cpu->env;
    /* Keep what does not change on RESET: the CPUID table. */
    X86CpuidEntry cpuid[X86_CPUID_MAX_ENTRIES];
    unsigned n = env->cpuid_count;
    memcpy(cpuid, env->cpuid, sizeof(cpuid));
    memset(env, 0, sizeof(*env));
    memcpy(env->cpuid, cpuid, sizeof(cpuid));
    env->cpuid_count = n;

    const uint32_t data = SEG_ATTR_P | SEG_ATTR_S | 0x3;     /* read/write, accessed */
    for (int i = 0; i < X86_NR_SEGS; i++) {
        x86_seg_set(&env->segs[i], 0, 0, 0xffff, data);
    }
    x86_seg_set(&env->segs[R_CS], 0xf000, 0xffff0000, 0xffff,
                SEG_ATTR_P | SEG_ATTR_S | 0xb);                /* code, read, accessed */
    x86_seg_set(&env->ldt, 0, 0, 0xffff, SEG_ATTR_P | 0x2);
    x86_seg_set(&env->tr, 0, 0, 0xffff, SEG_ATTR_P | 0xb);    /* busy 32-bit TSS */
    env->gdt.limit = 0xffff;
    env->idt.limit = 0xffff;
    env->rip = 0xfff0;
    env->rflags = X86_FLAG_FIXED1;
    env->cr[0] = X86_CR0_ET | X86_CR0_CD | X86_CR0_NW;
    uint32_t sig[4];
    x86_cpu_cpuid(env, 1, 0, sig);
    env->regs[R_EDX] = sig[0];
    env->dr[6] = 0xffff0ff0;
    env->dr[7] = 0x400;
    env->xcr0 = 1;
    env->pat = 0x0007040600070406ULL;
    env->misc_enable = 1;                                   /* fast strings */
    env->apic_base = APIC_DEFAULT_ADDRESS | MSR_APICBASE_ENABLE |
                     (cs->index == 0 ? MSR_APICBASE_BSP : 0);
    env->fx.fcw = 0x37f;
    env->fx.mxcsr = 0x1f80;
    env->fx.mxcsr_mask = 0xffff;
    env->pending_vector = -1;
    env->mp_state = cs->index == 0 ? X86_MP_RUNNABLE : X86_MP_UNINITIALIZED;
    cpu->regs_dirty = true;
    cpu->apic_reset_pending = true;
}

void x86_cpu_set_flat32(CPUState *cs, uint64_t entry, uint32_t eax, uint32_t ebx, uint32_t esi)
{
    CPUX86State *env = x86_env(cs);
    const uint32_t flat = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G;
    for (int i = 0; i < X86_NR_SEGS; i++) {
        x86_seg_set(&env->segs[i], 0x18, 0, 0xffffffff, flat | 0x3);
    }
    x86_seg_set(&env->segs[R_CS], 0x10, 0, 0xffffffff, flat | 0xb);
    x86_seg_set(&env->tr, 0x20, 0, 0x67, SEG_ATTR_P | 0xb);
    env->cr[0] = X86_CR0_PE | X86_CR0_ET;
    env->cr[4] = 0;
    env->efer = 0;
    env->rip = entry;
    env->rflags = X86_FLAG_FIXED1;
    env->regs[R_EAX] = eax;
    env->regs[R_EBX] = ebx;
    env->regs[R_ESI] = esi;
    x86_cpu(cs)->regs_dirty = true;
}

void x86_cpu_set_long64(CPUState *cs, uint64_t entry, uint64_t cr3, uint64_t gdt_base,
                        uint16_t gdt_limit, uint64_t rsi)
{
    CPUX86State *env = x86_env(cs);
    const uint32_t flat = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_G;
    for (int i = 0; i < X86_NR_SEGS; i++) {
        x86_seg_set(&env->segs[i], 0x18, 0, 0xffffffff, flat | SEG_ATTR_DB | 0x3);
    }
    x86_seg_set(&env->segs[R_CS], 0x10, 0, 0xffffffff, flat | SEG_ATTR_L | 0xb);
    x86_seg_set(&env->tr, 0x20, 0, 0x67, SEG_ATTR_P | 0xb);
    env->gdt.base = gdt_base;
    env->gdt.limit = gdt_limit;
    env->cr[0] = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
    env->cr[3] = cr3;
    env->cr[4] = X86_CR4_PAE;
    env->efer = X86_EFER_LME | X86_EFER_LMA;
    env->rip = entry;
    env->rflags = X86_FLAG_FIXED1;
    env->regs[R_ESI] = rsi;
    x86_cpu(cs)->regs_dirty = true;
}

/* ---- CPUOps ---- */

static uint64_t x86_cpu_get_pc(CPUState *cs)
{
    CPUX86State *env = x86_env(cs);
    return env->segs[R_CS].base + env->rip;
}

static void x86_dump_seg(GString *out, const char *name, const X86Segment *s)
{
    g_string_append_printf(out, "%-3s=%04x %016" PRIx64 " %08x %05x\n", name, s->selector,
                           s->base, s->limit, s->attr);
}

static void x86_cpu_dump_state(CPUState *cs, GString *out)
{
    static const char *const gpr[X86_NR_GPRS] = {
        "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
        "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
    };
    static const char *const seg[X86_NR_SEGS] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    CPUX86State *env = x86_env(cs);
    for (int i = 0; i < X86_NR_GPRS; i++) {
        g_string_append_printf(out, "%-3s=%016" PRIx64 "%s", gpr[i], env->regs[i],
                               i % 4 == 3 ? "\n" : " ");
    }
    g_string_append_printf(out, "RIP=%016" PRIx64 " RFL=%08" PRIx64 " CPL=%u HLT=%d\n",
                           env->rip, env->rflags,
                           (env->segs[R_CS].attr & SEG_ATTR_DPL_MASK) >> SEG_ATTR_DPL_SHIFT,
                           env->mp_state == X86_MP_HALTED);
    for (int i = 0; i < X86_NR_SEGS; i++) {
        x86_dump_seg(out, seg[i], &env->segs[i]);
    }
    x86_dump_seg(out, "LDT", &env->ldt);
    x86_dump_seg(out, "TR", &env->tr);
    g_string_append_printf(out, "GDT=     %016" PRIx64 " %08x\n", env->gdt.base, env->gdt.limit);
    g_string_append_printf(out, "IDT=     %016" PRIx64 " %08x\n", env->idt.base, env->idt.limit);
    g_string_append_printf(out, "CR0=%08" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64
                           " CR4=%08" PRIx64 "\n", env->cr[0], env->cr[2], env->cr[3],
                           env->cr[4]);
    g_string_append_printf(out, "EFER=%016" PRIx64 " APICBASE=%016" PRIx64 "\n", env->efer,
                           env->apic_base);
}

/* 4-level (and PAE / 32-bit) page walk through guest memory for the monitor. */
static int64_t x86_cpu_debug_translate(CPUState *cs, uint64_t vaddr)
{
    CPUX86State *env = x86_env(cs);
    if (!(env->cr[0] & X86_CR0_PG)) {
        return (int64_t)(vaddr & 0xffffffffULL);
    }
    uint64_t table = env->cr[3];
    if (env->cr[4] & X86_CR4_PAE) {
        int levels = (env->efer & X86_EFER_LMA) ? 4 : 3;
        if (levels == 3) {
            table &= ~0x1fULL;
            vaddr &= 0xffffffffULL;
        }
        for (int lvl = levels; lvl >= 1; lvl--) {
            unsigned shift = 12 + 9 * (lvl - 1);
            uint64_t idx = (vaddr >> shift) & (lvl == 3 && levels == 3 ? 3 : 0x1ff);
            uint64_t pte;
            if (address_space_read(cs->as, (table & 0xffffffffff000ULL) + idx * 8, &pte, 8) !=
                MEMTX_OK || !(pte & 1)) {
                return -1;
            }
            if (lvl <= 3 && lvl >= 2 && (pte & 0x80) && !(lvl == 3 && levels == 3)) {
                uint64_t mask = (1ULL << shift) - 1;
                return (int64_t)((pte & 0xffffffffff000ULL & ~mask) | (vaddr & mask));
            }
            table = pte;
        }
        return (int64_t)((table & 0xffffffffff000ULL) | (vaddr & 0xfff));
    }
    uint32_t pde, pte;
    vaddr &= 0xffffffffULL;
    if (address_space_read(cs->as, (table & 0xfffff000) + (vaddr >> 22) * 4, &pde, 4) !=
        MEMTX_OK || !(pde & 1)) {
        return -1;
    }
    if ((pde & 0x80) && (env->cr[4] & X86_CR4_PSE)) {
        return (int64_t)((pde & 0xffc00000) | (vaddr & 0x3fffff));
    }
    if (address_space_read(cs->as, (pde & 0xfffff000) + ((vaddr >> 12) & 0x3ff) * 4, &pte, 4) !=
        MEMTX_OK || !(pte & 1)) {
        return -1;
    }
    return (int64_t)((pte & 0xfffff000) | (vaddr & 0xfff));
}

static const CPUOps x86_cpu_ops = {
    .arch = "x86_64",
    .reset = x86_cpu_reset,
    .has_work = x86_tcg_has_work,
    .tcg_exec = x86_tcg_exec,
    .tcg_init = x86_tcg_init,
    .dump_state = x86_cpu_dump_state,
    .debug_translate = x86_cpu_debug_translate,
    .get_pc = x86_cpu_get_pc,
};

static const ObjectClass x86_cpu_class = {
    .name = "x86_64-cpu",
    .instance_size = sizeof(X86CPU),
    .desc = "x86-64 vCPU",
};
OBJECT_CLASS_REGISTER(x86_cpu_class)

CPUState *x86_cpu_create(Machine *m, unsigned index, const char *model, Error **errp)
{
    const X86CPUModel *cm = x86_cpu_model_find(model ? model : "qemu64");
    if (!cm) {
        error_setg(errp, "unable to find CPU model '%s' (-cpu help lists them)", model);
        return NULL;
    }
    X86CPU *cpu = (X86CPU *)object_new(&x86_cpu_class);
    CPUState *cs = &cpu->parent;
    cs->ops = &x86_cpu_ops;
    cs->index = (int)index;
    cs->machine = m;
    cs->as = &address_space_memory;
    cpu->model = cm;
    cpu->apic_id = index;
    /* The accelerator may rebuild it against what it supports (KVM: vcpu_init). */
    if (!cm->host && !x86_cpu_build_cpuid(cpu, NULL, 0, m ? m->smp : 1, errp)) {
        object_unref(OBJECT(cs));
        return NULL;
    }
    if (m) {
        char name[32];
        snprintf(name, sizeof(name), "cpu[%u]", index);
        if (!object_add_child(OBJECT(m), name, OBJECT(cs), errp)) {
            object_unref(OBJECT(cs));
            return NULL;
        }
        object_unref(OBJECT(cs));
    }
    x86_cpu_reset(cs);
    return cs;
}
