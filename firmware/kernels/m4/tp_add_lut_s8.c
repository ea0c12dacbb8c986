/* Cortex-M4 ADD (int8, elementwise). Bit-exact with tp_add_ref_s8 (the compiler proves it for all 65536
 * input pairs when it builds the tables, see lower.py _add_luts).
 *
 * Tables lut1/lut2 (copied to SRAM scratch): (lut1[x1] + lut2[x2]) >> 16 = TFLite's output minus act_min,
 * before the clamp. Per 4 elements: 8 LDRSB + 8 table LDR (pipelined, 1 cycle each but the first of a
 * group), 4 ADD, 2 PKHTB (two sums' top halves into one word), 2 USAT16 #8 (clamp to [0, 255]), one ORR
 * packs the four bytes, USUB8 + SEL clamp to act_max - act_min, UADD8 adds act_min back, one STR:
 * ~33 cycles per 4 elements, 8 elements per loop iteration (the per-element requantization before:
 * ~49 cycles per element). */
#include "tp_add.h"
#include "tp_dsp.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")   /* keep the table copy from becoming memcpy */
#endif

/** out - act_min for one element, clamped to [0, 255]. */
static inline uint32_t add_one(const int32_t *t1, const int32_t *t2, int32_t x1, int32_t x2)
{
    const int32_t y = (t1[x1] + t2[x2]) >> 16;
    return (uint32_t)(y < 0 ? 0 : (y > 255 ? 255 : y));
}

#if TP_M4_ASM
/* Two elements of a group of four (1 and 3, then 2 and 0): input bytes, table words, sums; OUT = the top
 * halves of the sums HI and LO, USAT16. The second pair post-increments the input pointers. */
#define ADD_PAIR(A0, A1, HI, LO, OUT)                                                            \
    "ldrsb %[x0], [%[pa], #" A0 "]\n\t"                                                        \
    "ldrsb %[x1], [%[pb], #" A0 "]\n\t"                                                        \
    "ldrsb %[x2], [%[pa]" A1 "\n\t"                                                            \
    "ldrsb %[x3], [%[pb]" A1 "\n\t"                                                            \
    "ldr %[x0], [%[t1], %[x0], lsl #2]\n\t"                                                    \
    "ldr %[x1], [%[t2], %[x1], lsl #2]\n\t"                                                    \
    "ldr %[x2], [%[t1], %[x2], lsl #2]\n\t"                                                    \
    "ldr %[x3], [%[t2], %[x3], lsl #2]\n\t"                                                    \
    "add %[x0], %[x0], %[x1]\n\t"                                                              \
    "add %[x2], %[x2], %[x3]\n\t"                                                              \
    "pkhtb " OUT ", " HI ", " LO ", asr #16\n\t"                                                \
    "usat16 " OUT ", #8, " OUT "\n\t"
/* Four elements: u = (e3 : e1), x0 = (e2 : e0), pa, pb += 4; bytes e0 e1 e2 e3, clamp, store, po += 4. */
#define ADD_QUAD                                                                               \
    ADD_PAIR("1", ", #3]", "%[x2]", "%[x0]", "%[u]")                                           \
    ADD_PAIR("2", "], #4", "%[x0]", "%[x2]", "%[x0]")                                          \
    "orr %[u], %[x0], %[u], lsl #8\n\t"                                                        \
    "usub8 %[x0], %[u], %[span]\n\t"                                                           \
    "sel %[u], %[span], %[u]\n\t"                                                              \
    "uadd8 %[u], %[u], %[lo]\n\t"                                                              \
    "str %[u], [%[po]], #4\n\t"
#endif

tp_status tp_add_lut_s8(const tp_add_s8_t *op, const int8_t *input1, const int8_t *input2, int8_t *output,
                        int32_t *scratch)
{
    if (op->broadcast || !op->lut1 || !op->lut2) {
        return TP_ERR_ARG;
    }
    for (int32_t i = 0; i < 256; i += 4) {   /* tables to SRAM: flash lookups would miss the D-cache */
        __builtin_memcpy(scratch + i, op->lut1 + i, 16);
        __builtin_memcpy(scratch + 256 + i, op->lut2 + i, 16);
    }
    const int32_t *t1 = scratch + 128, *t2 = scratch + 384;   /* indexed by the signed input */
    const int32_t lo = op->act_min;
    const uint32_t span4 = 0x01010101u * (uint32_t)(op->act_max - lo);
    const uint32_t lo4 = 0x01010101u * (uint8_t)lo;
    const int32_t n8 = op->size & ~7;
#if TP_M4_ASM
    if (n8 > 0) {   /* 8 elements per iteration: the loop branch costs 4 cycles */
        const int8_t *pa = input1, *pb = input2;
        int8_t *po = output, *const end = output + n8;
        int32_t x0, x1, x2, x3, u;
        __asm__ volatile(
            "1:\n\t"
            ADD_QUAD ADD_QUAD
            "cmp %[po], %[end]\n\t"
            "bne 1b\n\t"
            : [pa] "+r"(pa), [pb] "+r"(pb), [po] "+r"(po), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2),
              [x3] "=&r"(x3), [u] "=&r"(u)
            : [t1] "r"(t1), [t2] "r"(t2), [span] "r"(span4), [lo] "r"(lo4), [end] "r"(end)
            : "cc", "memory");
    }
#else
    for (int32_t i = 0; i < n8; i += 4) {
        const uint32_t u = add_one(t1, t2, input1[i], input2[i]) | add_one(t1, t2, input1[i + 1], input2[i + 1]) << 8
                           | add_one(t1, t2, input1[i + 2], input2[i + 2]) << 16
                           | add_one(t1, t2, input1[i + 3], input2[i + 3]) << 24;
        const uint32_t w = tp_clamp_bytes(u, span4, lo4);
        __builtin_memcpy(output + i, &w, 4);
    }
#endif
    for (int32_t i = n8; i < op->size; ++i) {
        output[i] = (int8_t)tp_clamp_bytes(add_one(t1, t2, input1[i], input2[i]), span4, lo4);
    }
    return TP_OK;
}
