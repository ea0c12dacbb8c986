/* Fixed-point helpers with TensorFlow Lite's exact rounding (gemmlowp fixedpoint.h, tflite common.h,
 * double-rounding variant, which is what the tflite-micro reference kernels use).
 * All functions are static inline and portable C99.
 */
#ifndef TP_FIXEDPOINT_H
#define TP_FIXEDPOINT_H

#include <stdint.h>

/** SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating INT32_MIN * INT32_MIN. */
static inline int32_t tp_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/** SaturatingRoundingDoublingHighMul for b > 0 (never saturates): floor((a * b + 2^30) / 2^31),
 *  which equals tp_srdhm(a, b) for every a when b != INT32_MIN. */
static inline int32_t tp_srdhm_pos(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/** RoundingDivideByPOT: x / 2^exponent rounded to nearest, halves away from zero. exponent in [0, 31]. */
static inline int32_t tp_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((1u << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31) with TFLite's double rounding.
 *  multiplier in [0, 2^31), shift in [-31, 30] (> 0: left shift). */
static inline int32_t tp_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return tp_rdbpot(tp_srdhm((int32_t)((uint32_t)x << left), multiplier), right);
}

/** Same result as tp_requantize for multiplier >= 0, cheaper (no saturation branch). */
static inline int32_t tp_requantize_pos(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return tp_rdbpot(tp_srdhm_pos((int32_t)((uint32_t)x << left), multiplier), right);
}

static inline int32_t tp_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif
