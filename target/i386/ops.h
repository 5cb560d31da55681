#ifndef TARGET_I386_OPS_H
#define TARGET_I386_OPS_H

/*
 * The x86 interpreter's op set. Every guest instruction becomes two TBOps: the first holds
 * the handler, immediate, reg (rd), r/m (rs1: a register, X86_RM_MEM for memory), operand
 * size in bytes (rs2) and a sub-operation (rs3); the second holds the memory operand:
 * displacement (imm), base (rd), index (rs1), scale shift (rs2), segment (rs3), address
 * size (pc_off), the source size of MOVZX/MOVSX (insn_idx) and the prefix flags (ilen).
 */
#define X86_OPS(X) \
    X(ALU_RM_R) X(ALU_R_RM) X(ALU_RM_I) X(TEST_RM_R) X(TEST_RM_I) X(UNARY) X(MULDIV) \
    X(IMUL2) X(IMUL3) X(SHIFT) X(SHD) \
    X(MOV_RM_R) X(MOV_R_RM) X(MOV_RM_I) X(MOVX) X(LEA) X(XCHG) X(CMPXCHG) X(XADD) \
    X(BSWAP) X(CBW) X(CWD) X(CMPXCHG8B) \
    X(PUSH_RM) X(PUSH_I) X(POP_RM) X(PUSHF) X(POPF) X(LEAVE) X(ENTER) \
    X(JCC) X(JMP) X(JMP_RM) X(CALL) X(CALL_RM) X(RET) X(LOOP) X(SETCC) X(CMOVCC) \
    X(BT) X(BSF) X(BSR) X(POPCNT) X(STRING) X(IO) X(FLAGOP) X(NOP) X(HLT) X(CPUID) \
    X(RDTSC) X(RDTSCP) X(RDMSR) X(WRMSR) X(MOVCR) X(MOVDR) X(DESC) X(SWAPGS) X(SYSCALL) \
    X(SYSRET) X(IRET) X(INT) X(EXCP) X(CLTS) X(MOV_SEG) X(PUSH_SEG) X(POP_SEG) X(LJMP) \
    X(LJMP_M) X(LRET) X(XLAT) X(FXSAVE) X(MXCSR) X(SSE) X(FPU) \
    X86_FAST_OPS(X, 4) X86_FAST_OPS(X, 8) X86_NARROW_OPS(X, 1) X86_NARROW_OPS(X, 2) \
    X(PUSH_R8) X(POP_R8) X(CALL8) X(RET8)

/*
 * Specialized forms the translator substitutes for the commonest generic ones with 32- and
 * 64-bit operands (no LOCK): register-only ADD/OR/AND/SUB/XOR/CMP/TEST with destination rd and
 * source rs1 (_RR) or imm (_RI), MOV between registers (rd <- rs1), MOV of an immediate
 * (rd <- imm), loads (rd <- memory operand), stores (memory operand <- rd), LEA (rd),
 * ADD/OR/AND/SUB/XOR/CMP of a memory operand into rd (_LD, sub-op in rs3), and shifts and
 * rotates other than RCL/RCR of rd by a nonzero immediate count (sub-op in rs3, masked count
 * in imm), INC/DEC/NOT/NEG of rd (sub-op in rs3), IMUL rd, rs1, CMOVcc rd, rs1 (condition
 * in rs3), and Jcc right after an instruction of its block that leaves a SUB/CMP (_SUB) or
 * logic (_LOGIC) result of that size, testing the condition straight from it; a CMP, TEST or
 * SUB of an immediate right before its Jcc runs both (_JCC: the Jcc pair stays in place for
 * its exits). The narrow forms: MOVZX from memory or a register (not AH..BH) of 1 or 2 bytes
 * into rd (32 or 64 bits), and stores of 1 or 2 bytes from rd (not AH..BH).
 */
/* In 64-bit code: PUSH and POP of a register, near CALL and RET without an immediate, with
 * 8-byte operands; a non-canonical stack goes to the generic handler. */
#define X86_FAST_OPS(X, S) \
    X(ADD_RR##S) X(OR_RR##S) X(AND_RR##S) X(SUB_RR##S) X(XOR_RR##S) X(CMP_RR##S) X(TEST_RR##S) \
    X(ADD_RI##S) X(OR_RI##S) X(AND_RI##S) X(SUB_RI##S) X(XOR_RI##S) X(CMP_RI##S) X(TEST_RI##S) \
    X(MOV_RR##S) X(MOV_RI##S) X(LOAD##S) X(STORE##S) X(LEA##S) X(ALU_LD##S) X(SHIFT_RI##S) \
    X(JCC_SUB##S) X(JCC_LOGIC##S) X(UNARY_R##S) \
    X(CMP_JCC_RR##S) X(CMP_JCC_RI##S) X(TEST_JCC_RR##S) X(TEST_JCC_RI##S) X(SUB_JCC_RI##S) \
    X(IMUL_RR##S) X(CMOV_RR##S)
#define X86_NARROW_OPS(X, S) X(LDZX##S) X(MOVZX_RR##S) X(STORE##S)

#define X86_OP_ENUM(name) X86_OP_##name,
enum { X86_OPS(X86_OP_ENUM) X86_OP_COUNT };
#undef X86_OP_ENUM

#define X86_RM_MEM 0xff
#define X86_NONE 0xff

/* Prefix flags (second op's ilen). */
enum { X86_PF_REP = 1, X86_PF_REPNE = 2, X86_PF_LOCK = 4, X86_PF_REXW = 8, X86_PF_OPSZ = 16,
       X86_PF_NOFLAGS = 32, X86_PF_FLAT = 64 };
/* X86_PF_FLAT (set by the translator): the ModRM memory operand has a 64-bit address and no
 * segment base, so its linear address is base + index << scale + displacement. */
/* X86_PF_NOFLAGS (set by the translator on an ALU operation, TEST, or shift or rotate other
 * than RCL/RCR that writes no memory): a later instruction of the block overwrites all six
 * status flags without reading them and cannot fault, and those in between neither touch the
 * flags nor access memory, so this one's flags are never observed and need not be computed. */

/* X86_OP_SSE's first op: imm = opcode | map << 8 (0: 0F, 1: 0F 38, 2: 0F 3A) | mandatory
 * prefix << 10 (0 none, 1 66, 2 F3, 3 F2) | imm8 << 16 | REX.W << 24; rd = ModRM.reg,
 * rs1 = r/m register or X86_RM_MEM, rs2 = operand size. MASKMOVQ/MASKMOVDQU carry their
 * mask register in the imm8 field and [rDI] as the memory operand. */
#define X86_SSE_IMM(opc, map, pfx, imm8, rexw) \
    ((int64_t)((opc) | (map) << 8 | (pfx) << 10 | (uint32_t)(imm8) << 16 | (uint32_t)(rexw) << 24))

/* ALU sub-ops in opcode order. */
enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

#endif
