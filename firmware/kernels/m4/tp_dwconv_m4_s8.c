/* Cortex-M4 DEPTHWISE_CONV_2D for depth_multiplier 1 and dilation 1 (any kernel, stride, padding).
 * Four channels at a time: the group's weights are sign-extended once into a stack table (so the flash
 * reads happen once per group, not per pixel), inputs are sign-extended with SXTB16, offset with SADD16,
 * and accumulated per channel with SMLABB/SMLATT. Bias as in the .tflite (no folding). */
#include "tp_dwconv.h"
#include "tp_dsp.h"
#include "tp_fixedpoint.h"

#define TP_DW_MAX_TAPS 64

static void channel_scalar(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output, int32_t c);

tp_status tp_dwconv_m4_s8(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output)
{
    const tp_conv_params *p = &op->conv;
    const int32_t in_h = op->input.h, in_w = op->input.w, ch = op->input.c;
    const int32_t k_h = op->filter.h, k_w = op->filter.w;
    if (op->depth_multiplier != 1 || p->dilation_h != 1 || p->dilation_w != 1 || k_h * k_w > TP_DW_MAX_TAPS
        || op->output.c != ch) {
        return TP_ERR_ARG;
    }
    const int32_t off = p->input_offset;
    const int32_t off2 = (int32_t)(((uint32_t)(uint16_t)off) | ((uint32_t)(uint16_t)off << 16));
    int32_t wtab[2 * TP_DW_MAX_TAPS];
    int32_t c = 0;
    for (; c + 3 < ch; c += 4) {
        for (int32_t t = 0; t < k_h * k_w; ++t) {
            const int32_t wv = tp_read_s8x4(op->weights + t * ch + c);
            wtab[2 * t] = tp_sxtb16(wv);
            wtab[2 * t + 1] = tp_sxtb16_ror8(wv);
        }
        int32_t b[4] = {0, 0, 0, 0};
        if (op->bias) {
            b[0] = op->bias[c];
            b[1] = op->bias[c + 1];
            b[2] = op->bias[c + 2];
            b[3] = op->bias[c + 3];
        }
        for (int32_t n = 0; n < op->output.n; ++n) {
            const int8_t *in_b = input + n * in_h * in_w * ch + c;
            int8_t *out = output + n * op->output.h * op->output.w * ch + c;
            for (int32_t oy = 0; oy < op->output.h; ++oy) {
                const int32_t y0 = oy * p->stride_h - p->pad_h;
                const int32_t ky0 = y0 < 0 ? -y0 : 0;
                const int32_t ky1 = k_h < in_h - y0 ? k_h : in_h - y0;
                for (int32_t ox = 0; ox < op->output.w; ++ox, out += ch) {
                    const int32_t x0 = ox * p->stride_w - p->pad_w;
                    const int32_t kx0 = x0 < 0 ? -x0 : 0;
                    const int32_t kx1 = k_w < in_w - x0 ? k_w : in_w - x0;
                    int32_t a0 = b[0], a1 = b[1], a2 = b[2], a3 = b[3];
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *row = in_b + ((y0 + ky) * in_w + x0) * ch;
                        const int32_t *wt = wtab + 2 * ky * k_w;
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const int32_t xv = tp_read_s8x4(row + kx * ch);
                            const int32_t x02 = tp_sadd16(tp_sxtb16(xv), off2);
                            const int32_t x13 = tp_sadd16(tp_sxtb16_ror8(xv), off2);
                            const int32_t w02 = wt[2 * kx], w13 = wt[2 * kx + 1];
                            a0 = tp_smlabb(x02, w02, a0);
                            a2 = tp_smlatt(x02, w02, a2);
                            a1 = tp_smlabb(x13, w13, a1);
                            a3 = tp_smlatt(x13, w13, a3);
                        }
                    }
                    const int32_t acc[4] = {a0, a1, a2, a3};
                    for (int32_t i = 0; i < 4; ++i) {
                        out[i] = (int8_t)tp_clamp(tp_requantize_pos(acc[i], op->multiplier[c + i], op->shift[c + i])
                                                  + p->output_offset, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
    for (; c < ch; ++c) {
        channel_scalar(op, input, output, c);
    }
    return TP_OK;
}

static void channel_scalar(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output, int32_t c)
{
    const tp_conv_params *p = &op->conv;
    const int32_t in_h = op->input.h, in_w = op->input.w, ch = op->input.c;
    const int32_t k_h = op->filter.h, k_w = op->filter.w;
    for (int32_t n = 0; n < op->output.n; ++n) {
        for (int32_t oy = 0; oy < op->output.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < op->output.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t acc = op->bias ? op->bias[c] : 0;
                for (int32_t ky = 0; ky < k_h; ++ky) {
                    const int32_t y = y0 + ky;
                    if (y < 0 || y >= in_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < k_w; ++kx) {
                        const int32_t x = x0 + kx;
                        if (x < 0 || x >= in_w) {
                            continue;
                        }
                        acc += op->weights[(ky * k_w + kx) * ch + c]
                               * (input[((n * in_h + y) * in_w + x) * ch + c] + p->input_offset);
                    }
                }
                acc = tp_requantize_pos(acc, op->multiplier[c], op->shift[c]) + p->output_offset;
                output[((n * op->output.h + oy) * op->output.w + ox) * ch + c] =
                    (int8_t)tp_clamp(acc, p->act_min, p->act_max);
            }
        }
    }
}
