#ifndef TARGET_I386_CPU_H
#define TARGET_I386_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "accel/cpu.h"
#include "hw/core/machine.h"

/*
 * The x86-64 CPU: architectural state shared by every accelerator. KVM copies it in and out
 * of the kernel (target/i386/kvm.c); the interpreter (issue 7) executes on it directly, so
 * every field holds the architectural value in the architectural encoding.
 */

enum {
    R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI,
    R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
    X86_NR_GPRS,
};

/* Segment registers in instruction-encoding order. */
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS, X86_NR_SEGS };

/* Segment attributes in the VMX access-rights layout (bits 8..23 of a descriptor's
 * second dword, shifted down by 8), plus bit 16 for an unusable (null-loaded) segment. */
enum {
    SEG_ATTR_TYPE_MASK = 0x000f,   /* bit 0 accessed, bit 1 R/W, bit 2 E/C, bit 3 code */
    SEG_ATTR_S         = 0x0010,   /* code/data (1) or system (0) */
    SEG_ATTR_DPL_SHIFT = 5,
    SEG_ATTR_DPL_MASK  = 0x0060,
    SEG_ATTR_P         = 0x0080,
    SEG_ATTR_AVL       = 0x1000,
    SEG_ATTR_L         = 0x2000,   /* 64-bit code segment */
    SEG_ATTR_DB        = 0x4000,   /* default operand size 32 / big stack */
    SEG_ATTR_G         = 0x8000,   /* limit in 4 KiB units (the cached limit is in bytes) */
    SEG_ATTR_UNUSABLE  = 0x10000,
};

/* A segment register with its hidden (cached) part as loaded from the descriptor. */
typedef struct X86Segment {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;                /* byte granular, already expanded when G is set */
    uint32_t attr;                 /* SEG_ATTR_* */
} X86Segment;

/* GDTR / IDTR. */
typedef struct X86DescTable {
    uint64_t base;
    uint16_t limit;
} X86DescTable;

/* RFLAGS bits. */
enum {
    X86_FLAG_CF = 1u << 0, X86_FLAG_FIXED1 = 1u << 1, X86_FLAG_PF = 1u << 2,
    X86_FLAG_AF = 1u << 4, X86_FLAG_ZF = 1u << 6, X86_FLAG_SF = 1u << 7,
    X86_FLAG_TF = 1u << 8, X86_FLAG_IF = 1u << 9, X86_FLAG_DF = 1u << 10,
    X86_FLAG_OF = 1u << 11, X86_FLAG_IOPL = 3u << 12, X86_FLAG_NT = 1u << 14,
    X86_FLAG_RF = 1u << 16, X86_FLAG_VM = 1u << 17, X86_FLAG_AC = 1u << 18,
    X86_FLAG_VIF = 1u << 19, X86_FLAG_VIP = 1u << 20, X86_FLAG_ID = 1u << 21,
};

/* Control register and EFER bits the emulator itself interprets. */
enum {
    X86_CR0_PE = 1u << 0, X86_CR0_MP = 1u << 1, X86_CR0_EM = 1u << 2, X86_CR0_TS = 1u << 3,
    X86_CR0_ET = 1u << 4, X86_CR0_NE = 1u << 5, X86_CR0_WP = 1u << 16, X86_CR0_AM = 1u << 18,
    X86_CR0_NW = 1u << 29, X86_CR0_CD = 1u << 30, X86_CR0_PG = 1u << 31,
    X86_CR4_VME = 1u << 0, X86_CR4_PVI = 1u << 1, X86_CR4_TSD = 1u << 2, X86_CR4_DE = 1u << 3,
    X86_CR4_PSE = 1u << 4, X86_CR4_PAE = 1u << 5, X86_CR4_MCE = 1u << 6, X86_CR4_PGE = 1u << 7,
    X86_CR4_PCE = 1u << 8, X86_CR4_OSFXSR = 1u << 9, X86_CR4_OSXMMEXCPT = 1u << 10,
    X86_CR4_UMIP = 1u << 11, X86_CR4_LA57 = 1u << 12, X86_CR4_FSGSBASE = 1u << 16,
    X86_CR4_PCIDE = 1u << 17, X86_CR4_OSXSAVE = 1u << 18, X86_CR4_SMEP = 1u << 20,
    X86_CR4_SMAP = 1u << 21, X86_CR4_PKE = 1u << 22,
    X86_EFER_SCE = 1u << 0, X86_EFER_LME = 1u << 8, X86_EFER_LMA = 1u << 10,
    X86_EFER_NXE = 1u << 11,
};

/* MSR numbers. */
enum {
    MSR_IA32_TSC = 0x10,
    MSR_IA32_APICBASE = 0x1b,
    MSR_IA32_FEATURE_CONTROL = 0x3a,
    MSR_IA32_TSC_ADJUST = 0x3b,
    MSR_IA32_SYSENTER_CS = 0x174,
    MSR_IA32_SYSENTER_ESP = 0x175,
    MSR_IA32_SYSENTER_EIP = 0x176,
    MSR_IA32_MISC_ENABLE = 0x1a0,
    MSR_IA32_CR_PAT = 0x277,
    MSR_EFER = 0xc0000080,
    MSR_STAR = 0xc0000081,
    MSR_LSTAR = 0xc0000082,
    MSR_CSTAR = 0xc0000083,
    MSR_FMASK = 0xc0000084,
    MSR_FS_BASE = 0xc0000100,
    MSR_GS_BASE = 0xc0000101,
    MSR_KERNEL_GS_BASE = 0xc0000102,
    MSR_TSC_AUX = 0xc0000103,
    MSR_KVM_WALL_CLOCK_NEW = 0x4b564d00,
    MSR_KVM_SYSTEM_TIME_NEW = 0x4b564d01,
};

/* IA32_APIC_BASE bits; the reset value is 0xfee00000 | ENABLE (| BSP on cpu 0). */
enum {
    MSR_APICBASE_BSP = 1u << 8,
    MSR_APICBASE_EXTD = 1u << 10,
    MSR_APICBASE_ENABLE = 1u << 11,
};
#define APIC_DEFAULT_ADDRESS 0xfee00000u

/* x87, MMX and SSE state in the 512-byte FXSAVE layout (Intel SDM vol. 1, 10.5.1). */
typedef struct X86FxSave {
    uint16_t fcw;
    uint16_t fsw;
    uint8_t ftw;                   /* abridged tag word: bit i set = ST register i valid */
    uint8_t reserved1;
    uint16_t fop;
    uint64_t fip;                  /* 64-bit layout (REX.W FXSAVE) */
    uint64_t fdp;
    uint32_t mxcsr;
    uint32_t mxcsr_mask;
    uint8_t st[8][16];             /* ST0..ST7 / MM0..MM7: 80-bit values, 6 bytes padding */
    uint8_t xmm[16][16];
    uint8_t reserved2[96];
} X86FxSave;
G_STATIC_ASSERT(sizeof(X86FxSave) == 512);

/* One CPUID result, as KVM_SET_CPUID2 takes it and the CPUID instruction returns it. */
typedef struct X86CpuidEntry {
    uint32_t function;
    uint32_t index;
    uint32_t flags;                /* X86_CPUID_FLAG_SIGNIFICANT_INDEX when index matters */
    uint32_t eax, ebx, ecx, edx;
} X86CpuidEntry;
#define X86_CPUID_FLAG_SIGNIFICANT_INDEX 1u
#define X86_CPUID_MAX_ENTRIES 100

/* Multiprocessor state of a vCPU (KVM_MP_STATE_* values). */
typedef enum X86MpState {
    X86_MP_RUNNABLE = 0,
    X86_MP_UNINITIALIZED = 1,      /* an AP waiting for INIT/SIPI */
    X86_MP_INIT_RECEIVED = 2,
    X86_MP_HALTED = 3,
    X86_MP_SIPI_RECEIVED = 4,
} X86MpState;

typedef struct CPUX86State {
    uint64_t regs[X86_NR_GPRS];
    uint64_t rip;
    uint64_t rflags;               /* all flags materialised; bit 1 always set */

    X86Segment segs[X86_NR_SEGS];
    X86Segment ldt;
    X86Segment tr;
    X86DescTable gdt;
    X86DescTable idt;

    uint64_t cr[5];                /* cr0, (cr1 unused), cr2, cr3, cr4 */
    uint64_t cr8;                  /* task priority (mirrors the local APIC's TPR[7:4]) */
    uint64_t efer;
    uint64_t xcr0;
    uint64_t dr[8];                /* dr0..dr3, (dr4, dr5 unused), dr6, dr7 */

    /* MSRs with architectural state */
    uint64_t apic_base;            /* IA32_APIC_BASE */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t star, lstar, cstar, fmask;
    uint64_t kernel_gs_base;
    uint64_t tsc;                  /* IA32_TSC at the last sync */
    uint64_t tsc_aux;
    uint64_t pat;
    uint64_t misc_enable;
    uint64_t system_time_msr;      /* kvmclock */
    uint64_t wall_clock_msr;

    X86FxSave fx;

    /* Interrupt and event state */
    X86MpState mp_state;
    bool nmi_pending;
    bool interrupt_shadow;         /* after MOV SS / STI: no interrupt before the next insn */
    int32_t pending_vector;        /* external interrupt accepted but not injected, or -1 */
    uint8_t sipi_vector;           /* start-up vector of the last SIPI */

    /* CPUID as the guest sees it (built from the model at creation) */
    X86CpuidEntry cpuid[X86_CPUID_MAX_ENTRIES];
    unsigned cpuid_count;
} CPUX86State;

typedef struct X86CPUModel X86CPUModel;

typedef struct X86CPU {
    CPUState parent;
    CPUX86State env;
    const X86CPUModel *model;
    uint32_t apic_id;
    uint32_t tsc_khz;              /* 0: the accelerator's default */
    bool regs_dirty;               /* userspace changed env: the accelerator reloads it */
    bool apic_reset_pending;       /* RESET happened: the accelerator resets its LAPIC too */
    void *tcg;                     /* the interpreter's per-vCPU state (target/i386) */
    struct ApicState *apic;        /* the userspace LAPIC (hw/intc/apic.c); NULL under KVM */
} X86CPU;

static inline X86CPU *x86_cpu(CPUState *cs)
{
    return (X86CPU *)cs;
}

static inline CPUX86State *x86_env(CPUState *cs)
{
    return &((X86CPU *)cs)->env;
}

/* -cpu names: a named model, or "host" (only with an accelerator that can supply it). */
const X86CPUModel *x86_cpu_model_find(const char *name);
const char *x86_cpu_model_name(const X86CPUModel *model);
bool x86_cpu_model_is_host(const X86CPUModel *model);
/* Prints the "-cpu help" list. */
void x86_cpu_print_list(void);

/* Creates vCPU index (APIC ID index) of model name (NULL: the default, qemu64) with the
 * machine's memory; cpu 0 is the bootstrap processor, the others wait for INIT/SIPI. */
CPUState *x86_cpu_create(Machine *m, unsigned index, const char *model, Error **errp);

/* Power-on (RESET) state: real mode at f000:fff0, or INIT for an AP. */
void x86_cpu_reset(CPUState *cs);
/* Puts the BSP straight into the 32-bit flat protected mode of the PVH and multiboot boot
 * protocols (CR0.PE, paging off, 4 GiB code and data segments) at entry with the given
 * ebx / esi / eax values. */
void x86_cpu_set_flat32(CPUState *cs, uint64_t entry, uint32_t eax, uint32_t ebx,
                        uint32_t esi);
/* Puts the BSP into 64-bit mode at entry with identity-mapped page tables the caller
 * placed at cr3, rsi = boot_params (the Linux 64-bit boot protocol). */
void x86_cpu_set_long64(CPUState *cs, uint64_t entry, uint64_t cr3, uint64_t gdt_base,
                        uint16_t gdt_limit, uint64_t rsi);

/* The CPUID leaf/subleaf as the guest sees it (zeros for absent leaves, as hardware clamps
 * to the highest basic leaf only for Intel: we return zeros, which KVM does too). */
void x86_cpu_cpuid(CPUX86State *env, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
/* Fills env->cpuid from model, restricted to the features in supported (the accelerator's
 * list, NULL: no restriction), and patches per-vCPU fields (APIC ID, topology). */
bool x86_cpu_build_cpuid(X86CPU *cpu, const X86CpuidEntry *supported, unsigned nsupported,
                         unsigned smp, Error **errp);

/* The interpreter's CPUOps entries (target/i386/tcg-cpu.c), for x86_cpu_ops: tcg_init,
 * tcg_exec, has_work (covers the local APIC under tcg; KVM state otherwise). */
bool x86_tcg_init(CPUState *cs, Error **errp);
int x86_tcg_exec(CPUState *cs);
bool x86_tcg_has_work(CPUState *cs);
int64_t x86_tcg_debug_translate(CPUState *cs, uint64_t vaddr);

/* Loads a segment's hidden part from a descriptor's two dwords. */
void x86_segment_from_descriptor(X86Segment *seg, uint16_t selector, uint32_t lo,
                                 uint32_t hi);

#endif
