/* Cortex-M4 1x1 convolution: each output pixel's input is one input pixel (stride s, no padding);
 * pairs of pixels are sign-extended to int16 once and multiplied with all output channels (2x2 SMLAD).
 * Bias must carry the folded input offset (see tp_m4_gemm.h). */
#include "tp_conv.h"
#include "tp_m4_gemm.h"

tp_status tp_conv_1x1_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch)
{
    const tp_conv_params *p = &op->conv;
    const int32_t k = op->input.c, out_c = op->output.c;
    const int32_t ow = op->output.w, oh = op->output.h;
    if (op->filter.h != 1 || op->filter.w != 1 || op->filter.c != k || p->pad_h || p->pad_w || !op->bias) {
        return TP_ERR_ARG;
    }
    int16_t *col0 = scratch, *col1 = scratch + tp_conv_kp(k);
    const int32_t pixels = oh * ow;
    for (int32_t b = 0; b < op->output.n; ++b) {
        const int8_t *in_b = input + b * op->input.h * op->input.w * k;
        int8_t *out = output + b * pixels * out_c;
        int32_t px = 0;
        for (; px + 1 < pixels; px += 2) {
            const int32_t y0 = px / ow, x0 = px - y0 * ow, y1 = (px + 1) / ow, x1 = px + 1 - y1 * ow;
            tp_expand_s8(in_b + (y0 * p->stride_h * op->input.w + x0 * p->stride_w) * k, col0, k);
            tp_expand_s8(in_b + (y1 * p->stride_h * op->input.w + x1 * p->stride_w) * k, col1, k);
            tp_gemm_2col(col0, col1, k, op->weights, out_c, op->bias, op->multiplier, op->shift,
                         p->output_offset, p->act_min, p->act_max, out, out + out_c);
            out += 2 * out_c;
        }
        if (px < pixels) {
            const int32_t y0 = px / ow, x0 = px - y0 * ow;
            tp_expand_s8(in_b + (y0 * p->stride_h * op->input.w + x0 * p->stride_w) * k, col0, k);
            tp_gemm_1col(col0, k, op->weights, out_c, op->bias, op->multiplier, op->shift,
                         p->output_offset, p->act_min, p->act_max, out);
        }
    }
    return TP_OK;
}
