/* Internal to firmware/kernels/m4: the int8 x int16 GEMM core shared by the M4 convolutions.
 *
 * Columns: int16, K values each, stored in "SXTB16 order": for every group of 4 inputs x0..x3 the words
 * (x0, x2), (x1, x3); the K % 4 tail in natural order. Weights: int8 rows of K in natural order, so
 * SXTB16(w) = (w0, w2) and SXTB16(w ROR 8) = (w1, w3) pair up with the column words for SMLAD.
 * The input offset is folded into the bias by the compiler (bias' = bias + input_offset * sum(w)), so
 * columns hold raw input values and padded taps hold the input zero point (contributing exactly 0).
 */
#ifndef TP_M4_GEMM_H
#define TP_M4_GEMM_H

#include "tp_dsp.h"
#include "tp_fixedpoint.h"

/** Sign-extend k int8 to int16 in SXTB16 order. dst 4-byte aligned. */
static inline void tp_expand_s8(const int8_t *src, int16_t *dst, int32_t k)
{
    int32_t g = k >> 2;
    while (g-- > 0) {
        const int32_t v = tp_read_s8x4(src);
        const int32_t lo = tp_sxtb16(v), hi = tp_sxtb16_ror8(v);
        __builtin_memcpy(dst, &lo, 4);
        __builtin_memcpy(dst + 2, &hi, 4);
        src += 4;
        dst += 4;
    }
    for (int32_t r = k & 3; r > 0; --r) {
        *dst++ = *src++;
    }
}

static inline int8_t tp_out_s8(int32_t acc, int32_t mult, int32_t shift, int32_t off, int32_t lo, int32_t hi)
{
    return (int8_t)tp_clamp(tp_requantize_pos(acc, mult, shift) + off, lo, hi);
}

/** Output channels [0, out_c) for two columns (col1 = second column). out0/out1: the two output pixels. */
static inline void tp_gemm_2col(const int16_t *col0, const int16_t *col1, int32_t k, const int8_t *weights,
                                int32_t out_c, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                int32_t out_off, int32_t lo, int32_t hi, int8_t *out0, int8_t *out1)
{
    int32_t oc = 0;
    for (; oc + 1 < out_c; oc += 2) {
        const int8_t *w0 = weights + oc * k;
        const int8_t *w1 = w0 + k;
        int32_t a00 = bias[oc], a01 = a00, a10 = bias[oc + 1], a11 = a10;
        const int16_t *x0 = col0, *x1 = col1;
        for (int32_t g = k >> 2; g > 0; --g) {
            const int32_t wa = tp_read_s8x4(w0);
            const int32_t wb = tp_read_s8x4(w1);
            const int32_t x0l = tp_read_s16x2(x0), x0h = tp_read_s16x2(x0 + 2);
            const int32_t x1l = tp_read_s16x2(x1), x1h = tp_read_s16x2(x1 + 2);
            w0 += 4;
            w1 += 4;
            x0 += 4;
            x1 += 4;
            int32_t wl = tp_sxtb16(wa), wh = tp_sxtb16_ror8(wa);
            a00 = tp_smlad(wl, x0l, a00);
            a01 = tp_smlad(wl, x1l, a01);
            a00 = tp_smlad(wh, x0h, a00);
            a01 = tp_smlad(wh, x1h, a01);
            wl = tp_sxtb16(wb);
            wh = tp_sxtb16_ror8(wb);
            a10 = tp_smlad(wl, x0l, a10);
            a11 = tp_smlad(wl, x1l, a11);
            a10 = tp_smlad(wh, x0h, a10);
            a11 = tp_smlad(wh, x1h, a11);
        }
        for (int32_t r = k & 3; r > 0; --r) {
            const int32_t v0 = *x0++, v1 = *x1++, c0 = *w0++, c1 = *w1++;
            a00 += c0 * v0;
            a01 += c0 * v1;
            a10 += c1 * v0;
            a11 += c1 * v1;
        }
        out0[oc] = tp_out_s8(a00, mult[oc], shift[oc], out_off, lo, hi);
        out1[oc] = tp_out_s8(a01, mult[oc], shift[oc], out_off, lo, hi);
        out0[oc + 1] = tp_out_s8(a10, mult[oc + 1], shift[oc + 1], out_off, lo, hi);
        out1[oc + 1] = tp_out_s8(a11, mult[oc + 1], shift[oc + 1], out_off, lo, hi);
    }
    if (oc < out_c) {
        const int8_t *w0 = weights + oc * k;
        int32_t a00 = bias[oc], a01 = a00;
        const int16_t *x0 = col0, *x1 = col1;
        for (int32_t g = k >> 2; g > 0; --g) {
            const int32_t wa = tp_read_s8x4(w0);
            const int32_t wl = tp_sxtb16(wa), wh = tp_sxtb16_ror8(wa);
            a00 = tp_smlad(wl, tp_read_s16x2(x0), a00);
            a00 = tp_smlad(wh, tp_read_s16x2(x0 + 2), a00);
            a01 = tp_smlad(wl, tp_read_s16x2(x1), a01);
            a01 = tp_smlad(wh, tp_read_s16x2(x1 + 2), a01);
            w0 += 4;
            x0 += 4;
            x1 += 4;
        }
        for (int32_t r = k & 3; r > 0; --r) {
            const int32_t c0 = *w0++;
            a00 += c0 * *x0++;
            a01 += c0 * *x1++;
        }
        out0[oc] = tp_out_s8(a00, mult[oc], shift[oc], out_off, lo, hi);
        out1[oc] = tp_out_s8(a01, mult[oc], shift[oc], out_off, lo, hi);
    }
}

/** Output channels for one column. */
static inline void tp_gemm_1col(const int16_t *col0, int32_t k, const int8_t *weights, int32_t out_c,
                                const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                int32_t out_off, int32_t lo, int32_t hi, int8_t *out0)
{
    for (int32_t oc = 0; oc < out_c; ++oc) {
        const int8_t *w0 = weights + oc * k;
        const int16_t *x0 = col0;
        int32_t acc = bias[oc];
        for (int32_t g = k >> 2; g > 0; --g) {
            const int32_t wa = tp_read_s8x4(w0);
            acc = tp_smlad(tp_sxtb16(wa), tp_read_s16x2(x0), acc);
            acc = tp_smlad(tp_sxtb16_ror8(wa), tp_read_s16x2(x0 + 2), acc);
            w0 += 4;
            x0 += 4;
        }
        for (int32_t r = k & 3; r > 0; --r) {
            acc += *w0++ * *x0++;
        }
        out0[oc] = tp_out_s8(acc, mult[oc], shift[oc], out_off, lo, hi);
    }
}

/** Scratch layout shared by the M4 convolutions: two int16 columns of kp = round_up(K, 4) values, then
 *  two int8 im2col rows of kp bytes: 6 * kp bytes. */
static inline int32_t tp_conv_kp(int32_t k)
{
    return (k + 3) & ~3;
}

#endif
