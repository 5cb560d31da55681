#ifndef TARGET_RISCV_OPS_H
#define TARGET_RISCV_OPS_H

/* The interpreter's op set: the decoder emits these, exec.c implements one label each. */
#define RISCV_OPS(X) \
    X(LI) X(MV) \
    X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND) \
    X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI) \
    X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW) X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW) \
    X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU) \
    X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW) \
    X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU) X(FLW) X(FLD) \
    X(SB) X(SH) X(SW) X(SD) X(FSW) X(FSD) \
    X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU) X(JAL) X(JALR) X(GOTO) \
    X(EXCP) X(CSR) X(MRET) X(SRET) X(WFI) X(SFENCE_VMA) X(FENCE) X(FENCE_I) X(AMO) \
    X(FP_BIN_RM) X(FP_UN_RM) X(FP_BIN_FL) X(FP_CMP) X(FP_SGNJ) X(FP_CLASS) \
    X(FP_TO_INT) X(FP_FROM_INT) X(FMV_X_W) X(FMV_X_D) X(FMV_W_X) X(FMV_D_X) \
    X(FMADD_S) X(FMSUB_S) X(FNMSUB_S) X(FNMADD_S) \
    X(FMADD_D) X(FMSUB_D) X(FNMSUB_D) X(FNMADD_D) \
    X(LD_RUN) X(SD_RUN) X(LI_PAIR) \
    X(ANDI_BEQ) X(ANDI_BNE) X(ADDI_JALR) X(LI_JALR) X(MV_JAL) X(MV_MV) X(ADDI_SD) \
    X(ADDI_MV) X(ADDI_LI) X(MV_LI) X(LI_LI) X(MV_LD) X(SLLI_ADD) X(SLLI_SRLI) \
    X(LD_ADDI) X(LD_MV) X(LD_LI) X(LD_BEQ) X(LD_BNE) X(LD_ANDI) X(SD_ADDI) \
    X(NATIVE)

#define RISCV_OP_ENUM(name) OP_##name,
enum { RISCV_OPS(RISCV_OP_ENUM) OP_COUNT };
#undef RISCV_OP_ENUM

/*
 * Pairs of adjacent instructions the decoder fuses (the second op stays in place: the first
 * one's handler does both and skips it, or falls back to doing only its own instruction):
 * LD_RUN / SD_RUN are rs3 (2 or more) LDs or SDs on the same base register (no LD but the
 * last writing it), done together while the addresses stay on the first one's TLB page
 * (the rest from the first that does not, one by one); LI_PAIR is LI
 * followed by ADDI/ADDIW of its destination, with the sum already in imm.
 * A_B (ANDI_BEQ ...) runs op A, then op B through a direct jump instead of a dispatch; when
 * A is an LD or SD that misses the TLB it goes the usual way and B is dispatched after it.
 * NATIVE (target/riscv/jit.c) replaces the first op of a run compiled to host code (imm);
 * the run's other ops stay as decoded.
 */

/* Immediate-form flag and write flag of OP_CSR (in rs3). */
#define CSR_F_IMM 1
#define CSR_F_WRITE 2

#endif
