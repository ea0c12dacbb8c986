/* Cortex-M4 FULLY_CONNECTED: four output rows at a time, inputs and weights sign-extended in registers
 * with SXTB16 (both in SXTB16 order, so no reordering is needed) and accumulated with SMLAD.
 * The bias must carry the folded input offset: bias'[o] = bias[o] + input_offset * sum_i w[o, i]
 * (the compiler does this), so the kernel multiplies raw int8 inputs; input_offset is ignored. */
#include "tp_fc.h"
#include "tp_dsp.h"
#include "tp_fixedpoint.h"

static inline int32_t dot4(const int8_t *w, const int8_t *x, int32_t k, int32_t acc)
{
    for (int32_t g = k >> 2; g > 0; --g) {
        const int32_t xv = tp_read_s8x4(x), wv = tp_read_s8x4(w);
        acc = tp_smlad(tp_sxtb16(wv), tp_sxtb16(xv), acc);
        acc = tp_smlad(tp_sxtb16_ror8(wv), tp_sxtb16_ror8(xv), acc);
        x += 4;
        w += 4;
    }
    for (int32_t r = k & 3; r > 0; --r) {
        acc += *w++ * *x++;
    }
    return acc;
}

tp_status tp_fc_m4_s8(const tp_fc_s8_t *op, const int8_t *input, int8_t *output)
{
    const int32_t k = op->accum_depth, n = op->output_depth;
    if (op->weights_offset != 0 || !op->bias) {
        return TP_ERR_ARG;
    }
    for (int32_t b = 0; b < op->batches; ++b) {
        const int8_t *x = input + b * k;
        int8_t *out = output + b * n;
        int32_t o = 0;
        for (; o + 3 < n; o += 4) {
            const int8_t *w0 = op->weights + o * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
            int32_t a0 = op->bias[o], a1 = op->bias[o + 1], a2 = op->bias[o + 2], a3 = op->bias[o + 3];
            const int8_t *xp = x;
            for (int32_t g = k >> 2; g > 0; --g) {
                const int32_t xv = tp_read_s8x4(xp);
                const int32_t xl = tp_sxtb16(xv), xh = tp_sxtb16_ror8(xv);
                int32_t wv = tp_read_s8x4(w0);
                a0 = tp_smlad(tp_sxtb16(wv), xl, a0);
                a0 = tp_smlad(tp_sxtb16_ror8(wv), xh, a0);
                wv = tp_read_s8x4(w1);
                a1 = tp_smlad(tp_sxtb16(wv), xl, a1);
                a1 = tp_smlad(tp_sxtb16_ror8(wv), xh, a1);
                wv = tp_read_s8x4(w2);
                a2 = tp_smlad(tp_sxtb16(wv), xl, a2);
                a2 = tp_smlad(tp_sxtb16_ror8(wv), xh, a2);
                wv = tp_read_s8x4(w3);
                a3 = tp_smlad(tp_sxtb16(wv), xl, a3);
                a3 = tp_smlad(tp_sxtb16_ror8(wv), xh, a3);
                xp += 4;
                w0 += 4;
                w1 += 4;
                w2 += 4;
                w3 += 4;
            }
            for (int32_t r = k & 3; r > 0; --r) {
                const int32_t v = *xp++;
                a0 += *w0++ * v;
                a1 += *w1++ * v;
                a2 += *w2++ * v;
                a3 += *w3++ * v;
            }
            const int32_t acc[4] = {a0, a1, a2, a3};
            for (int32_t i = 0; i < 4; ++i) {
                const int32_t q = op->per_channel ? o + i : 0;
                out[o + i] = (int8_t)tp_clamp(tp_requantize_pos(acc[i], op->multiplier[q], op->shift[q])
                                              + op->output_offset, op->act_min, op->act_max);
            }
        }
        for (; o < n; ++o) {
            const int32_t acc = dot4(op->weights + o * k, x, k, op->bias[o]);
            const int32_t q = op->per_channel ? o : 0;
            out[o] = (int8_t)tp_clamp(tp_requantize_pos(acc, op->multiplier[q], op->shift[q])
                                      + op->output_offset, op->act_min, op->act_max);
        }
    }
    return TP_OK;
}
