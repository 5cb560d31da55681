#ifndef TARGET_RISCV_FPU_H
#define TARGET_RISCV_FPU_H

#include <stdint.h>

/*
 * IEEE-754 binary32/binary64 arithmetic exactly as the RISC-V F and D extensions define it.
 * Operands and results are raw 64-bit f-register values: binary32 values are NaN-boxed
 * (upper 32 bits all ones; an improperly boxed input reads as the canonical NaN, results are
 * boxed). rm is a resolved static rounding mode 0..4 (RNE, RTZ, RDN, RUP, RMM): the caller
 * substitutes frm for DYN and raises illegal-instruction for 5, 6 and an invalid frm.
 * Each function ORs the exception flags it raises into *fflags (RISC-V fflags encoding).
 * NaN results are the canonical NaN (0x7fc00000 / 0x7ff8000000000000).
 */

enum {
    FPU_RNE = 0, FPU_RTZ = 1, FPU_RDN = 2, FPU_RUP = 3, FPU_RMM = 4,
};
enum {
    FFLAG_NX = 1 << 0, FFLAG_UF = 1 << 1, FFLAG_OF = 1 << 2, FFLAG_DZ = 1 << 3, FFLAG_NV = 1 << 4,
};

/* binary32 */
uint64_t fpu_add_s(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t fpu_sub_s(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t fpu_mul_s(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t fpu_div_s(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t fpu_sqrt_s(uint64_t a, int rm, uint32_t *fflags);
/* fmadd: a*b+c; fmsub: a*b-c; fnmsub: -(a*b)+c; fnmadd: -(a*b)-c; one rounding. */
uint64_t fpu_madd_s(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags);
uint64_t fpu_msub_s(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags);
uint64_t fpu_nmsub_s(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags);
uint64_t fpu_nmadd_s(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags);
uint64_t fpu_min_s(uint64_t a, uint64_t b, uint32_t *fflags);
uint64_t fpu_max_s(uint64_t a, uint64_t b, uint32_t *fflags);
uint64_t fpu_sgnj_s(uint64_t a, uint64_t b);
uint64_t fpu_sgnjn_s(uint64_t a, uint64_t b);
uint64_t fpu_sgnjx_s(uint64_t a, uint64_t b);
uint64_t fpu_eq_s(uint64_t a, uint64_t b, uint32_t *fflags);   /* 0 or 1 */
uint64_t fpu_lt_s(uint64_t a, uint64_t b, uint32_t *fflags);
uint64_t fpu_le_s(uint64_t a, uint64_t b, uint32_t *fflags);
uint64_t fpu_class_s(uint64_t a);
/* Conversions to integers return the x-register value (32-bit results sign-extended). */
uint64_t fpu_cvt_w_s(uint64_t a, int rm, uint32_t *fflags);
uint64_t fpu_cvt_wu_s(uint64_t a, int rm, uint32_t *fflags);
uint64_t fpu_cvt_l_s(uint64_t a, int rm, uint32_t *fflags);
uint64_t fpu_cvt_lu_s(uint64_t a, int rm, uint32_t *fflags);
/* Conversions from integers take the x-register value. */
uint64_t fpu_cvt_s_w(uint64_t x, int rm, uint32_t *fflags);
uint64_t fpu_cvt_s_wu(uint64_t x, int rm, uint32_t *fflags);
uint64_t fpu_cvt_s_l(uint64_t x, int rm, uint32_t *fflags);
uint64_t fpu_cvt_s_lu(uint64_t x, int rm, uint32_t *fflags);

/* binary64 */
uint64_t fpu_add_d(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t fpu_sub_d(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t fpu_mul_d(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t fpu_div_d(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t fpu_sqrt_d(uint64_t a, int rm, uint32_t *fflags);
uint64_t fpu_madd_d(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags);
uint64_t fpu_msub_d(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags);
uint64_t fpu_nmsub_d(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags);
uint64_t fpu_nmadd_d(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags);
uint64_t fpu_min_d(uint64_t a, uint64_t b, uint32_t *fflags);
uint64_t fpu_max_d(uint64_t a, uint64_t b, uint32_t *fflags);
uint64_t fpu_sgnj_d(uint64_t a, uint64_t b);
uint64_t fpu_sgnjn_d(uint64_t a, uint64_t b);
uint64_t fpu_sgnjx_d(uint64_t a, uint64_t b);
uint64_t fpu_eq_d(uint64_t a, uint64_t b, uint32_t *fflags);
uint64_t fpu_lt_d(uint64_t a, uint64_t b, uint32_t *fflags);
uint64_t fpu_le_d(uint64_t a, uint64_t b, uint32_t *fflags);
uint64_t fpu_class_d(uint64_t a);
uint64_t fpu_cvt_w_d(uint64_t a, int rm, uint32_t *fflags);
uint64_t fpu_cvt_wu_d(uint64_t a, int rm, uint32_t *fflags);
uint64_t fpu_cvt_l_d(uint64_t a, int rm, uint32_t *fflags);
uint64_t fpu_cvt_lu_d(uint64_t a, int rm, uint32_t *fflags);
uint64_t fpu_cvt_d_w(uint64_t x, int rm, uint32_t *fflags);
uint64_t fpu_cvt_d_wu(uint64_t x, int rm, uint32_t *fflags);
uint64_t fpu_cvt_d_l(uint64_t x, int rm, uint32_t *fflags);
uint64_t fpu_cvt_d_lu(uint64_t x, int rm, uint32_t *fflags);

/* between formats */
uint64_t fpu_cvt_s_d(uint64_t a, int rm, uint32_t *fflags);
uint64_t fpu_cvt_d_s(uint64_t a, int rm, uint32_t *fflags);

#endif
