/* Reference SOFTMAX int8 -> int8: tflite reference_ops::Softmax (the gemmlowp fixed-point path that
 * tflite-micro's reference kernel uses for int8 input and int8 output), with the gemmlowp helpers
 * (exp_on_negative_values, one_over_one_plus_x_for_x_in_0_1, Rescale) specialised to int32. */
#include "tp_softmax.h"
#include "tp_fixedpoint.h"

#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUM_INTEGER_BITS 12

/* SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0. */
static int32_t sat_shift_left(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out. */
static int32_t exp_quarter(int32_t a)
{
    const int32_t constant_term = 1895147668;      /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;
    const int32_t x = a + (1 << 28);                /* a + 1/8 */
    const int32_t x2 = tp_srdhm(x, x);
    const int32_t x3 = tp_srdhm(x2, x);
    const int32_t x4 = tp_srdhm(x2, x2);
    const int32_t x4_over_4 = tp_rdbpot(x4, 2);
    const int32_t poly = tp_rdbpot(tp_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + tp_srdhm(constant_term, x + poly);
}

/* exp(a) for a <= 0 in Q5.26, result Q0.31. */
static int32_t exp_negative_q5(int32_t a)
{
    const int32_t fractional_bits = 31 - SCALED_DIFF_INTEGER_BITS;
    const int32_t one_quarter = 1 << (fractional_bits - 2);
    const int32_t a_mod = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = exp_quarter(sat_shift_left(a_mod, SCALED_DIFF_INTEGER_BITS));
    const int32_t remainder = a_mod - a;
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    for (int32_t e = -2; e <= 4; ++e) {
        if (remainder & (1 << (fractional_bits + e))) {
            result = tp_srdhm(result, multipliers[e + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out (Newton-Raphson, 3 iterations). */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48_17 = 1515870810, cneg32_17 = -1010580540;    /* Q2.29 */
    int32_t x = c48_17 + tp_srdhm(half_denominator, cneg32_17);
    for (int i = 0; i < 3; ++i) {
        const int32_t hdx = tp_srdhm(half_denominator, x);
        const int32_t one_minus = (1 << 29) - hdx;
        x = x + sat_shift_left(tp_srdhm(x, one_minus), 2);
    }
    return sat_shift_left(x, 1);
}

static int32_t count_leading_zeros(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

tp_status tp_softmax_ref_s8(const tp_softmax_s8_t *op, const int8_t *input, int8_t *output)
{
    const int32_t depth = op->depth;
    for (int32_t r = 0; r < op->rows; ++r) {
        const int8_t *x = input + r * depth;
        int8_t *y = output + r * depth;
        int32_t max = -128;
        for (int32_t c = 0; c < depth; ++c) {
            max = x[c] > max ? x[c] : max;
        }
        int32_t sum = 0;
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = x[c] - max;
            if (diff >= op->diff_min) {
                const int32_t scaled = tp_srdhm((int32_t)((uint32_t)diff << op->input_left_shift),
                                                op->input_multiplier);
                sum += tp_rdbpot(exp_negative_q5(scaled), ACCUM_INTEGER_BITS);
            }
        }
        const int32_t headroom_plus_one = count_leading_zeros((uint32_t)sum);
        const int32_t bits_over_unit = ACCUM_INTEGER_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum << headroom_plus_one) - (1u << 31));
        const int32_t shifted_scale = one_over_one_plus_x(shifted_sum_minus_one);
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = x[c] - max;
            if (diff >= op->diff_min) {
                const int32_t scaled = tp_srdhm((int32_t)((uint32_t)diff << op->input_left_shift),
                                                op->input_multiplier);
                const int32_t e = exp_negative_q5(scaled);
                const int32_t unsat = tp_rdbpot(tp_srdhm(shifted_scale, e), bits_over_unit + 31 - 8);
                y[c] = (int8_t)tp_clamp(unsat - 128, -128, 127);
            } else {
                y[c] = -128;
            }
        }
    }
    return TP_OK;
}
