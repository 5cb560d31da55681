/* Control and status registers (Zicsr, privileged spec 1.12 subset OpenSBI and Linux use). */
#include <glib.h>
#include "target/riscv/internal.h"
#include "util/log.h"

enum {
    CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
    CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105, CSR_SCOUNTEREN = 0x106,
    CSR_SENVCFG = 0x10a, CSR_SSCRATCH = 0x140, CSR_SEPC = 0x141, CSR_SCAUSE = 0x142,
    CSR_STVAL = 0x143, CSR_SIP = 0x144, CSR_SATP = 0x180,
    CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302, CSR_MIDELEG = 0x303,
    CSR_MIE = 0x304, CSR_MTVEC = 0x305, CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a,
    CSR_MCOUNTINHIBIT = 0x320, CSR_MHPMEVENT3 = 0x323, CSR_MHPMEVENT31 = 0x33f,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342, CSR_MTVAL = 0x343,
    CSR_MIP = 0x344,
    CSR_PMPCFG0 = 0x3a0, CSR_PMPCFG15 = 0x3af, CSR_PMPADDR0 = 0x3b0,
    CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02, CSR_MHPMCOUNTER3 = 0xb03,
    CSR_MHPMCOUNTER31 = 0xb1f,
    CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02, CSR_HPMCOUNTER3 = 0xc03,
    CSR_HPMCOUNTER31 = 0xc1f,
    CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13, CSR_MHARTID = 0xf14,
    CSR_MCONFIGPTR = 0xf15,
};

#define MSTATUS_WMASK (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | \
                       MSTATUS_SPP | MSTATUS_MPP | MSTATUS_FS | MSTATUS_MPRV | \
                       MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)
#define SSTATUS_RMASK (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | \
                       MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)
#define SSTATUS_WMASK (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | \
                       MSTATUS_SUM | MSTATUS_MXR)
/* Exceptions that may be delegated to S-mode (not ecall from M). */
#define MEDELEG_WMASK 0xb3ffull
#define SATP_MODE_SHIFT 60
#define SATP_PPN_MASK ((1ull << 44) - 1)

static uint64_t mstatus_read(CPURISCVState *env)
{
    uint64_t s = env->mstatus;
    if ((s & MSTATUS_FS) == MSTATUS_FS) {
        s |= MSTATUS_SD;
    }
    return s;
}

static void mstatus_write(CPURISCVState *env, uint64_t val, uint64_t mask)
{
    uint64_t old = env->mstatus;
    if ((val & MSTATUS_MPP) == (2ull << 11)) {
        mask &= ~MSTATUS_MPP;         /* reserved MPP value: keep the old one */
    }
    uint64_t s = (old & ~mask) | (val & mask);
    env->mstatus = s;
    if ((old ^ s) & MSTATUS_MXR) {
        riscv_tlb_flush(env);
    }
    riscv_update_mode(env);
}

/* Counter access from S/U mode as gated by mcounteren/scounteren. */
static bool counter_allowed(CPURISCVState *env, unsigned bit)
{
    if (env->priv < PRV_M && !((env->mcounteren >> bit) & 1)) {
        return false;
    }
    if (env->priv < PRV_S && !((env->scounteren >> bit) & 1)) {
        return false;
    }
    return true;
}

static bool fp_enabled(CPURISCVState *env)
{
    return (env->mstatus & MSTATUS_FS) != 0;
}

static bool csr_read(CPURISCVState *env, unsigned csr, uint64_t *val)
{
    switch (csr) {
    case CSR_FFLAGS:
        *val = env->fflags;
        return fp_enabled(env);
    case CSR_FRM:
        *val = env->frm;
        return fp_enabled(env);
    case CSR_FCSR:
        *val = env->fflags | (env->frm << 5);
        return fp_enabled(env);
    case CSR_SSTATUS:
        *val = mstatus_read(env) & SSTATUS_RMASK;
        return true;
    case CSR_SIE:
        *val = env->mie & env->mideleg;
        return true;
    case CSR_STVEC:
        *val = env->stvec;
        return true;
    case CSR_SCOUNTEREN:
        *val = env->scounteren;
        return true;
    case CSR_SENVCFG:
        *val = env->senvcfg;
        return true;
    case CSR_SSCRATCH:
        *val = env->sscratch;
        return true;
    case CSR_SEPC:
        *val = env->sepc;
        return true;
    case CSR_SCAUSE:
        *val = env->scause;
        return true;
    case CSR_STVAL:
        *val = env->stval;
        return true;
    case CSR_SIP:
        *val = riscv_mip(env) & env->mideleg;
        return true;
    case CSR_SATP:
        *val = env->satp;
        return !(env->priv == PRV_S && (env->mstatus & MSTATUS_TVM));
    case CSR_MSTATUS:
        *val = mstatus_read(env);
        return true;
    case CSR_MISA:
        *val = env->misa;
        return true;
    case CSR_MEDELEG:
        *val = env->medeleg;
        return true;
    case CSR_MIDELEG:
        *val = env->mideleg;
        return true;
    case CSR_MIE:
        *val = env->mie;
        return true;
    case CSR_MTVEC:
        *val = env->mtvec;
        return true;
    case CSR_MCOUNTEREN:
        *val = env->mcounteren;
        return true;
    case CSR_MENVCFG:
        *val = env->menvcfg;
        return true;
    case CSR_MCOUNTINHIBIT:
        *val = env->mcountinhibit;
        return true;
    case CSR_MSCRATCH:
        *val = env->mscratch;
        return true;
    case CSR_MEPC:
        *val = env->mepc;
        return true;
    case CSR_MCAUSE:
        *val = env->mcause;
        return true;
    case CSR_MTVAL:
        *val = env->mtval;
        return true;
    case CSR_MIP:
        *val = riscv_mip(env);
        return true;
    case CSR_MCYCLE:
        *val = env->instret + (uint64_t)env->mcycle_off;
        return true;
    case CSR_MINSTRET:
        *val = env->instret + (uint64_t)env->minstret_off;
        return true;
    case CSR_CYCLE:
        *val = env->instret + (uint64_t)env->mcycle_off;
        return counter_allowed(env, 0);
    case CSR_TIME:
        *val = riscv_read_time(env);
        return counter_allowed(env, 1);
    case CSR_INSTRET:
        *val = env->instret + (uint64_t)env->minstret_off;
        return counter_allowed(env, 2);
    case CSR_MVENDORID:
    case CSR_MARCHID:
    case CSR_MIMPID:
    case CSR_MCONFIGPTR:
        *val = 0;
        return true;
    case CSR_MHARTID:
        *val = (uint64_t)env_cpu(env)->parent.index;
        return true;
    default:
        break;
    }
    if (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31) {
        *val = 0;
        return true;
    }
    if (csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) {
        *val = 0;
        return true;
    }
    if (csr >= CSR_HPMCOUNTER3 && csr <= CSR_HPMCOUNTER31) {
        *val = 0;
        return counter_allowed(env, csr - CSR_CYCLE);
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
        unsigned reg = csr - CSR_PMPCFG0;
        if ((reg & 1) || reg * 4 >= PMP_ENTRIES) {
            return false;
        }
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | env->pmpcfg[reg * 4 + i];
        }
        *val = v;
        return true;
    }
    if (csr >= CSR_PMPADDR0 && csr < CSR_PMPADDR0 + PMP_ENTRIES) {
        *val = env->pmpaddr[csr - CSR_PMPADDR0];
        return true;
    }
    return false;
}

static bool csr_write(CPURISCVState *env, unsigned csr, uint64_t val)
{
    switch (csr) {
    case CSR_FFLAGS:
        env->fflags = val & 0x1f;
        env->mstatus |= MSTATUS_FS_DIRTY;
        return true;
    case CSR_FRM:
        env->frm = val & 7;
        env->mstatus |= MSTATUS_FS_DIRTY;
        return true;
    case CSR_FCSR:
        env->fflags = val & 0x1f;
        env->frm = (val >> 5) & 7;
        env->mstatus |= MSTATUS_FS_DIRTY;
        return true;
    case CSR_SSTATUS:
        mstatus_write(env, val, SSTATUS_WMASK);
        return true;
    case CSR_SIE:
        env->mie = (env->mie & ~env->mideleg) | (val & env->mideleg & MIP_S_MASK);
        return true;
    case CSR_STVEC:
        env->stvec = (val & 3) >= 2 ? (val & ~3ull) | (env->stvec & 3) : val;
        return true;
    case CSR_SCOUNTEREN:
        env->scounteren = (uint32_t)val;
        return true;
    case CSR_SENVCFG:
        env->senvcfg = val & 1;
        return true;
    case CSR_SSCRATCH:
        env->sscratch = val;
        return true;
    case CSR_SEPC:
        env->sepc = val & ~1ull;
        return true;
    case CSR_SCAUSE:
        env->scause = val;
        return true;
    case CSR_STVAL:
        env->stval = val;
        return true;
    case CSR_SIP:
        if (env->mideleg & MIP_SSIP) {
            if (val & MIP_SSIP) {
                __atomic_or_fetch(&env->mip, MIP_SSIP, __ATOMIC_ACQ_REL);
            } else {
                __atomic_and_fetch(&env->mip, ~MIP_SSIP, __ATOMIC_ACQ_REL);
            }
        }
        return true;
    case CSR_SATP: {
        if (env->priv == PRV_S && (env->mstatus & MSTATUS_TVM)) {
            return false;
        }
        uint64_t mode = val >> SATP_MODE_SHIFT;
        if (mode != 0 && mode != 8 && mode != 9) {
            return true;              /* unsupported mode: satp unchanged */
        }
        env->satp = (mode << SATP_MODE_SHIFT) | (val & SATP_PPN_MASK);
        riscv_tlb_flush(env);
        return true;
    }
    case CSR_MSTATUS:
        mstatus_write(env, val, MSTATUS_WMASK);
        return true;
    case CSR_MISA:
        return true;                  /* the extension set is fixed */
    case CSR_MEDELEG:
        env->medeleg = val & MEDELEG_WMASK;
        return true;
    case CSR_MIDELEG:
        env->mideleg = val & MIP_S_MASK;
        return true;
    case CSR_MIE:
        env->mie = val & MIP_ALL;
        return true;
    case CSR_MTVEC:
        env->mtvec = (val & 3) >= 2 ? (val & ~3ull) | (env->mtvec & 3) : val;
        return true;
    case CSR_MCOUNTEREN:
        env->mcounteren = (uint32_t)val;
        return true;
    case CSR_MENVCFG:
        env->menvcfg = val & 1;
        return true;
    case CSR_MCOUNTINHIBIT:
        env->mcountinhibit = (uint32_t)val & ~2u;
        return true;
    case CSR_MSCRATCH:
        env->mscratch = val;
        return true;
    case CSR_MEPC:
        env->mepc = val & ~1ull;
        return true;
    case CSR_MCAUSE:
        env->mcause = val;
        return true;
    case CSR_MTVAL:
        env->mtval = val;
        return true;
    case CSR_MIP: {
        uint64_t m = MIP_SSIP | MIP_STIP | MIP_SEIP;
        uint64_t cur = __atomic_load_n(&env->mip, __ATOMIC_ACQUIRE);
        while (!__atomic_compare_exchange_n(&env->mip, &cur, (cur & ~m) | (val & m), false,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        }
        return true;
    }
    case CSR_MCYCLE:
        env->mcycle_off = (int64_t)(val - env->instret);
        return true;
    case CSR_MINSTRET:
        env->minstret_off = (int64_t)(val - env->instret);
        return true;
    default:
        break;
    }
    if ((csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31) ||
        (csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31)) {
        return true;                  /* no events are counted: read-only zero */
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
        riscv_pmp_write_cfg(env, csr - CSR_PMPCFG0, val);
        return true;
    }
    if (csr >= CSR_PMPADDR0 && csr < CSR_PMPADDR0 + PMP_ENTRIES) {
        riscv_pmp_write_addr(env, csr - CSR_PMPADDR0, val);
        return true;
    }
    return false;
}

bool riscv_csr_rw(CPURISCVState *env, unsigned csrno, uint64_t *old, uint64_t src,
                  uint64_t op, bool do_write)
{
    uint64_t val = 0;
    if (((csrno >> 8) & 3) > env->priv || (do_write && (csrno >> 10) == 3)) {
        goto illegal;
    }
    if (!csr_read(env, csrno, &val)) {
        goto illegal;
    }
    if (do_write) {
        uint64_t base = val;
        if (csrno == CSR_MIP) {
            /* read-modify-write sees the software-written SEIP only */
            base = __atomic_load_n(&env->mip, __ATOMIC_ACQUIRE);
        }
        uint64_t nv = op == CSR_OP_W ? src : op == CSR_OP_S ? base | src : base & ~src;
        if (!csr_write(env, csrno, nv)) {
            goto illegal;
        }
    }
    *old = val;
    return true;

illegal:
    log_mask_printf(LOG_GUEST_ERROR, "riscv: illegal access to CSR 0x%03x in priv %u\n",
                    csrno, (unsigned)env->priv);
    env->exc_cause = EXC_ILLEGAL_INST;
    return false;
}
