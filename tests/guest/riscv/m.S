/* RV64M: multiply and divide, including the divide-by-zero and overflow rules. */
#include "common.h"

#define INT64_MIN 0x8000000000000000
#define INT32_MIN_SX 0xffffffff80000000

TEST_BEGIN("m")
    PRINT("mul")
    TEST_RR(1, mul, 7, 6, 42)
    TEST_RR(2, mul, -7, 6, -42)
    TEST_RR(3, mul, 0x100000001, 0x100000001, 0x200000001)
    TEST_RR(4, mul, INT64_MIN, -1, INT64_MIN)
    TEST_RR(5, mul, 0x123456789abcdef0, 0x10, 0x23456789abcdef00)
    TEST_RR(6, mulh, -1, -1, 0)
    TEST_RR(7, mulh, INT64_MIN, INT64_MIN, 0x4000000000000000)
    TEST_RR(8, mulh, INT64_MIN, 2, -1)
    TEST_RR(9, mulh, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x3fffffffffffffff)
    TEST_RR(10, mulh, -2, 3, -1)
    TEST_RR(11, mulhu, -1, -1, 0xfffffffffffffffe)
    TEST_RR(12, mulhu, INT64_MIN, 2, 1)
    TEST_RR(13, mulhu, 0x100000000, 0x100000000, 1)
    TEST_RR(14, mulhu, 5, 7, 0)
    TEST_RR(15, mulhsu, -1, -1, -1)       /* -1 * (2^64-1) = -(2^64-1) */
    TEST_RR(16, mulhsu, 1, -1, 0)
    TEST_RR(17, mulhsu, INT64_MIN, -1, 0x8000000000000000)
    TEST_RR(18, mulhsu, -2, 0x8000000000000000, -1)
    TEST_RR(19, mulw, 0x7fffffff, 2, 0xfffffffffffffffe)
    TEST_RR(20, mulw, 0x10000, 0x10000, 0)
    TEST_RR(21, mulw, 0xffffffff00000003, 0x1234500000005, 15)
    TEST_RR(22, mulw, -3, 5, -15)
    TEST_RR(23, mulw, 0x8000, 0x10000, INT32_MIN_SX)

    PRINT("div")
    TEST_RR(30, div, 20, 6, 3)
    TEST_RR(31, div, -20, 6, -3)          /* rounds toward zero */
    TEST_RR(32, div, 20, -6, -3)
    TEST_RR(33, div, -20, -6, 3)
    TEST_RR(34, div, 20, 0, -1)
    TEST_RR(35, div, INT64_MIN, -1, INT64_MIN)
    TEST_RR(36, divu, 20, 6, 3)
    TEST_RR(37, divu, -20, 6, 0x2aaaaaaaaaaaaaa7)
    TEST_RR(38, divu, 20, 0, -1)
    TEST_RR(39, divu, INT64_MIN, -1, 0)
    TEST_RR(40, rem, 20, 6, 2)
    TEST_RR(41, rem, -20, 6, -2)          /* sign of the dividend */
    TEST_RR(42, rem, 20, -6, 2)
    TEST_RR(43, rem, -20, -6, -2)
    TEST_RR(44, rem, 20, 0, 20)
    TEST_RR(45, rem, INT64_MIN, -1, 0)
    TEST_RR(46, remu, 20, 6, 2)
    TEST_RR(47, remu, -20, 6, 2)
    TEST_RR(48, remu, 20, 0, 20)
    TEST_RR(49, remu, -1, 0, -1)

    PRINT("word div")
    TEST_RR(60, divw, 20, 6, 3)
    TEST_RR(61, divw, -20, 6, -3)
    TEST_RR(62, divw, 0xffffffff00000014, 0x100000006, 3)   /* upper halves ignored */
    TEST_RR(63, divw, 20, 0, -1)
    TEST_RR(64, divw, 20, 0x100000000, -1)                 /* low word of divisor is 0 */
    TEST_RR(65, divw, INT32_MIN_SX, -1, INT32_MIN_SX)
    TEST_RR(66, divw, 0x80000000, 0xffffffff, INT32_MIN_SX)
    TEST_RR(67, divuw, 0xffffffec, 6, 0x2aaaaaa7)
    TEST_RR(68, divuw, 0xfffffffe, 1, 0xfffffffffffffffe)  /* result sign-extended */
    TEST_RR(69, divuw, 20, 0, -1)
    TEST_RR(70, divuw, INT32_MIN_SX, -1, 0)
    TEST_RR(71, remw, -20, 6, -2)
    TEST_RR(72, remw, 20, 0, 20)
    TEST_RR(73, remw, 0x80000014, 0, INT32_MIN_SX | 0x14)  /* dividend sign-extended */
    TEST_RR(74, remw, INT32_MIN_SX, -1, 0)
    TEST_RR(75, remuw, 0xffffffec, 6, 2)
    TEST_RR(76, remuw, 0x80000005, 0, INT32_MIN_SX | 5)
    TEST_RR(77, remuw, 0x1fffffffe, 0xffffffff, 0xfffffffffffffffe)

    TEST_END
