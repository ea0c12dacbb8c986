/* Cortex-M4 DSP instructions used by firmware/kernels/m4, with portable C fallbacks of identical
 * semantics so the same kernel sources build and test on the host.
 *   tp_smlad(a, b, acc)   acc + a.lo16 * b.lo16 + a.hi16 * b.hi16      (SMLAD, wraps mod 2^32)
 *   tp_sxtb16(x)          bytes 0 and 2 of x sign-extended to two int16 (SXTB16)
 *   tp_sxtb16_ror8(x)     bytes 1 and 3 of x sign-extended to two int16 (SXTB16 x, ROR #8)
 *   tp_sadd16(a, b)       two int16 additions, each wrapping            (SADD16)
 *   tp_smlabb(a, b, acc)  acc + a.lo16 * b.lo16                        (SMLABB, wraps)
 *   tp_smlatt(a, b, acc)  acc + a.hi16 * b.hi16                        (SMLATT, wraps)
 *   tp_smmulr(a, b)       (a * b + 2^31) >> 32, 64-bit product           (SMMULR)
 *   tp_smmlar(a, b, acc)  (acc * 2^32 + a * b + 2^31) >> 32              (SMMLAR)
 *   tp_sxtab16(a, x)      a + bytes 0 and 2 of x, two wrapping int16 lanes (SXTAB16; _ror8: bytes 1, 3)
 *   tp_smlatb(a, b, acc)  acc + a.hi16 * b.lo16; tp_smlabt: a.lo16 * b.hi16 (SMLATB / SMLABT, wrap)
 *   tp_pkhbt16(a, b)      (a.lo16, b.lo16); tp_pkhtb16(a, b): (b.hi16, a.hi16)   (PKHBT / PKHTB)
 *   tp_ssat8(x), tp_usat8(x)  x saturated to [-128, 127] / [0, 255]      (SSAT #8 / USAT #8)
 *   tp_clamp_bytes(u, span, lo)  per byte: unsigned min(u, span) + lo, wrapping (USUB8, SEL, UADD8)
 *   tp_requant_m4(acc, multiplier, shift): TFLite's MultiplyByQuantizedMultiplier for |acc| < 2^30
 *   tp_read_s8x4(p)       4 bytes at p (any alignment) as one word, little-endian
 *   tp_read_s16x2(p)      2 int16 at p (2-byte aligned) as one word, little-endian
 * (__builtin_memcpy so the reads stay inline under -ffreestanding / -fno-builtin)
 */
#ifndef TP_DSP_H
#define TP_DSP_H

#include <stdint.h>
#include <string.h>

#include "tp_fixedpoint.h"

/* Multi-instruction inline assembly in firmware/kernels/m4 needs an optimizing build: at -O0 GCC keeps r7
 * as the frame pointer and cannot satisfy those blocks' register counts ("impossible constraints"), so
 * they fall back to the C paths (same results, built from the single-instruction helpers below). */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__OPTIMIZE__)
#define TP_M4_ASM 1
#else
#define TP_M4_ASM 0
#endif

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP

static inline int32_t tp_smlad(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__ ("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

static inline int32_t tp_sxtb16(int32_t x)
{
    int32_t r;
    __asm__ ("sxtb16 %0, %1" : "=r"(r) : "r"(x));
    return r;
}

static inline int32_t tp_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__ ("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

static inline int32_t tp_sadd16(int32_t a, int32_t b)
{
    int32_t r;
    __asm__ ("sadd16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t tp_smlabb(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__ ("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

static inline int32_t tp_smlatt(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__ ("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

static inline int32_t tp_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__ ("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t tp_smmlar(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__ ("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

static inline int32_t tp_sxtab16(int32_t a, int32_t x)
{
    int32_t r;
    __asm__ ("sxtab16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

static inline int32_t tp_sxtab16_ror8(int32_t a, int32_t x)
{
    int32_t r;
    __asm__ ("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

static inline int32_t tp_smlatb(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__ ("smlatb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

static inline int32_t tp_smlabt(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__ ("smlabt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

static inline int32_t tp_pkhbt16(int32_t a, int32_t b)
{
    int32_t r;
    __asm__ ("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t tp_pkhtb16(int32_t a, int32_t b)
{
    int32_t r;
    __asm__ ("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t tp_ssat8(int32_t x)
{
    int32_t r;
    __asm__ ("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
}

static inline uint32_t tp_usat8(int32_t x)
{
    uint32_t r;
    __asm__ ("usat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
}

static inline uint32_t tp_clamp_bytes(uint32_t u, uint32_t span, uint32_t lo)
{
    uint32_t r;
    __asm__ ("usub8 %0, %1, %2\n\t"
             "sel %0, %2, %1\n\t"
             "uadd8 %0, %0, %3" : "=&r"(r) : "r"(u), "r"(span), "r"(lo) : "cc");
    return r;
}

#else

static inline int32_t tp_lo16(int32_t x) { return (int16_t)(uint16_t)((uint32_t)x & 0xFFFFu); }
static inline int32_t tp_hi16(int32_t x) { return (int16_t)(uint16_t)((uint32_t)x >> 16); }
static inline int32_t tp_pack16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)(uint16_t)lo) | ((uint32_t)(uint16_t)hi << 16));
}

static inline int32_t tp_smlad(int32_t a, int32_t b, int32_t acc)
{
    const int64_t sum = (int64_t)acc + (int64_t)tp_lo16(a) * tp_lo16(b) + (int64_t)tp_hi16(a) * tp_hi16(b);
    return (int32_t)(uint32_t)(uint64_t)sum;
}

static inline int32_t tp_sxtb16(int32_t x)
{
    const uint32_t u = (uint32_t)x;
    return tp_pack16((int8_t)(uint8_t)(u & 0xFFu), (int8_t)(uint8_t)((u >> 16) & 0xFFu));
}

static inline int32_t tp_sxtb16_ror8(int32_t x)
{
    const uint32_t u = (uint32_t)x;
    return tp_pack16((int8_t)(uint8_t)((u >> 8) & 0xFFu), (int8_t)(uint8_t)(u >> 24));
}

static inline int32_t tp_sadd16(int32_t a, int32_t b)
{
    return tp_pack16(tp_lo16(a) + tp_lo16(b), tp_hi16(a) + tp_hi16(b));
}

static inline int32_t tp_smlabb(int32_t a, int32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(tp_lo16(a) * tp_lo16(b)));
}

static inline int32_t tp_smlatt(int32_t a, int32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(tp_hi16(a) * tp_hi16(b)));
}

static inline int32_t tp_smmulr(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 31)) >> 32);
}

static inline int32_t tp_smmlar(int32_t a, int32_t b, int32_t acc)
{
    return (int32_t)((((int64_t)acc << 32) + (int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}

static inline int32_t tp_sxtab16(int32_t a, int32_t x)
{
    return tp_pack16(tp_lo16(a) + (int8_t)(uint8_t)((uint32_t)x & 0xFFu),
                     tp_hi16(a) + (int8_t)(uint8_t)(((uint32_t)x >> 16) & 0xFFu));
}

static inline int32_t tp_sxtab16_ror8(int32_t a, int32_t x)
{
    return tp_sxtab16(a, (int32_t)(((uint32_t)x >> 8) | ((uint32_t)x << 24)));
}

static inline int32_t tp_smlatb(int32_t a, int32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(tp_hi16(a) * tp_lo16(b)));
}

static inline int32_t tp_smlabt(int32_t a, int32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(tp_lo16(a) * tp_hi16(b)));
}

static inline int32_t tp_pkhbt16(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a & 0xFFFFu) | ((uint32_t)b << 16));
}

static inline int32_t tp_pkhtb16(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a & 0xFFFF0000u) | ((uint32_t)b >> 16));
}

static inline int32_t tp_ssat8(int32_t x)
{
    return x < -128 ? -128 : (x > 127 ? 127 : x);
}

static inline uint32_t tp_usat8(int32_t x)
{
    return (uint32_t)(x < 0 ? 0 : (x > 255 ? 255 : x));
}

static inline uint32_t tp_clamp_bytes(uint32_t u, uint32_t span, uint32_t lo)
{
    uint32_t r = 0;
    for (int i = 0; i < 32; i += 8) {
        const uint32_t x = (u >> i) & 0xFFu, y = (span >> i) & 0xFFu;
        r |= (((x < y ? x : y) + (lo >> i)) & 0xFFu) << i;
    }
    return r;
}

#endif

/** MultiplyByQuantizedMultiplier (TFLite double rounding) for |acc| < 2^30 and multiplier >= 0:
 *  SaturatingRoundingDoublingHighMul(acc, m) = floor((acc * m + 2^30) / 2^31) = SMMULR(2 * acc, m), exact
 *  because 2 * acc fits in int32; then RoundingDivideByPOT. The compiler guarantees the bound statically
 *  (|bias| + sum |w| * 255 < 2^30) before selecting a kernel that uses this. */
static inline int32_t tp_requant_m4(int32_t acc, int32_t multiplier, int32_t shift)
{
    if (shift > 0) {
        return tp_requantize_pos(acc, multiplier, shift);   /* rare: effective scale >= 1 */
    }
    return tp_rdbpot(tp_smmulr(acc * 2, multiplier), -shift);
}

/** tp_clamp(tp_requant_m4(acc, multiplier, shift) + off, ...) without the clamp, for shift <= -1 only, with
 *  rs1 = -shift - 1 and off21 = 2 * off + 1. With v = SMMULR(2 acc, m) (|v| < 2^30), RoundingDivideByPOT(v,
 *  r) = floor((v + 2^(r-1) - (v < 0)) / 2^r) = ((v + (v >> 31)) >> (r - 1) + 1) >> 1, and the offset is
 *  folded in before the last halving: 5 ALU instructions instead of 10. Bit-exact for |acc| < 2^30. */
static inline int32_t tp_requant_rs(int32_t acc, int32_t multiplier, int32_t rs1, int32_t off21)
{
    int32_t v = tp_smmulr(acc * 2, multiplier);
    v += v >> 31;
    return ((v >> rs1) + off21) >> 1;
}

static inline int32_t tp_read_s8x4(const int8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return (int32_t)v;
}

static inline int32_t tp_read_s16x2(const int16_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return (int32_t)v;
}

/* Requantize A in inline asm (tp_requant_rs, shifts <= -1 only), multiplier [m] and rs1 [r] = -shift - 1
 * already in registers: SMMULR(2 A, m) = SRDHM, rounding shift folded with [off] = 2 * output_offset + 1,
 * clamp to [lo, hi], store the byte at [OUT]; [v] is scratch. */
#define TP_RQ_CORE(A, OUT)                                                                     \
    "lsl %[v], " A ", #1\n\t"                                                                  \
    "smmulr %[v], %[v], %[m]\n\t"                                                               \
    "add %[v], %[v], %[v], asr #31\n\t"                                                         \
    "asr %[v], %[v], %[r]\n\t"                                                                  \
    "add %[v], %[v], %[off]\n\t"                                                                \
    "asr %[v], %[v], #1\n\t"                                                                    \
    "cmp %[v], %[lo]\n\t"                                                                       \
    "it lt\n\t"                                                                                 \
    "movlt %[v], %[lo]\n\t"                                                                     \
    "cmp %[v], %[hi]\n\t"                                                                       \
    "it gt\n\t"                                                                                 \
    "movgt %[v], %[hi]\n\t"                                                                     \
    "strb %[v], [" OUT "]\n\t"

#endif
