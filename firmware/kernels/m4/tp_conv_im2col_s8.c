/* Cortex-M4 generic convolution: im2col of two output pixels (padding filled with the input zero point,
 * which contributes 0 once the folded offset is in the bias), sign-extended to int16, then the 2x2 SMLAD
 * GEMM over all output channels. Any kernel size, stride, dilation and padding. */
#include "tp_conv.h"
#include "tp_m4_gemm.h"

static void im2col(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int8_t *row)
{
    const tp_conv_params *p = &op->conv;
    const int32_t c = op->input.c, kw = op->filter.w, kh = op->filter.h;
    const int32_t oy = px / op->output.w, ox = px - oy * op->output.w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int8_t zp = (int8_t)(-p->input_offset);
    for (int32_t ky = 0; ky < kh; ++ky) {
        const int32_t y = y0 + ky * p->dilation_h;
        if (y < 0 || y >= op->input.h) {
            memset(row, zp, (size_t)(kw * c));
            row += kw * c;
            continue;
        }
        const int8_t *line = in_b + y * op->input.w * c;
        if (p->dilation_w == 1 && x0 >= 0 && x0 + kw <= op->input.w) {
            memcpy(row, line + x0 * c, (size_t)(kw * c));
            row += kw * c;
            continue;
        }
        for (int32_t kx = 0; kx < kw; ++kx) {
            const int32_t x = x0 + kx * p->dilation_w;
            if (x < 0 || x >= op->input.w) {
                memset(row, zp, (size_t)c);
            } else {
                memcpy(row, line + x * c, (size_t)c);
            }
            row += c;
        }
    }
}

tp_status tp_conv_im2col_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch)
{
    const tp_conv_params *p = &op->conv;
    const int32_t k = op->filter.h * op->filter.w * op->filter.c, out_c = op->output.c;
    if (op->filter.c != op->input.c || !op->bias) {
        return TP_ERR_ARG;
    }
    const int32_t kp = tp_conv_kp(k);
    int16_t *col0 = scratch, *col1 = scratch + kp;
    int8_t *row0 = (int8_t *)(scratch + 2 * kp), *row1 = row0 + kp;
    const int32_t pixels = op->output.h * op->output.w;
    for (int32_t b = 0; b < op->output.n; ++b) {
        const int8_t *in_b = input + b * op->input.h * op->input.w * op->input.c;
        int8_t *out = output + b * pixels * out_c;
        int32_t px = 0;
        for (; px + 1 < pixels; px += 2) {
            im2col(op, in_b, px, row0);
            im2col(op, in_b, px + 1, row1);
            tp_expand_s8(row0, col0, k);
            tp_expand_s8(row1, col1, k);
            tp_gemm_2col(col0, col1, k, op->weights, out_c, op->bias, op->multiplier, op->shift,
                         p->output_offset, p->act_min, p->act_max, out, out + out_c);
            out += 2 * out_c;
        }
        if (px < pixels) {
            im2col(op, in_b, px, row0);
            tp_expand_s8(row0, col0, k);
            tp_gemm_1col(col0, k, op->weights, out_c, op->bias, op->multiplier, op->shift,
                         p->output_offset, p->act_min, p->act_max, out);
        }
    }
    return TP_OK;
}
