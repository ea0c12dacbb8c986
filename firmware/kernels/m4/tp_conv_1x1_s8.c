/* Cortex-M4 1x1 convolution: each output pixel reads one input pixel (stride s, no padding), so the
 * "im2col" column is the input pixel itself. See tp_m4_gemm.h for the layouts and the driver. */
#include "tp_conv.h"
#include "tp_m4_gemm.h"

static const int8_t *pixel(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px)
{
    const int32_t oy = px / op->output.w, ox = px - oy * op->output.w;
    return in_b + (oy * op->conv.stride_h * op->input.w + ox * op->conv.stride_w) * op->input.c;
}

/* Stride 1, C % 4 == 0 (the hot case): pixels px and px + 1 are adjacent in the input, expanded at once. */
static void pixels_c4(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int32_t second, int8_t *row,
                      int16_t *cols)
{
    (void)row;
    const int32_t c = op->input.c;
    const int8_t *s0 = in_b + px * c;
    tp_expand2(s0, second ? s0 + c : s0, cols, c);
}

/* Any stride: both input pixels expanded at once; with C % 4 != 0 each is copied to `row` and zero padded
 * to a multiple of 4 first (zero weights there). */
static void pixels(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int32_t second, int8_t *row,
                   int16_t *cols)
{
    const int32_t c = op->input.c;
    const int8_t *s0 = pixel(op, in_b, px), *s1 = second ? pixel(op, in_b, px + 1) : s0;
    if ((c & 3) == 0) {
        tp_expand2(s0, s1, cols, c);
        return;
    }
    for (int32_t slot = 0; slot < 2; ++slot) {
        const int8_t *src = slot ? s1 : s0;
        for (int32_t i = 0; i < tp_kp(c); ++i) {
            row[i] = i < c ? src[i] : 0;
        }
        tp_expand_run(row, cols + 2 * slot, tp_kp(c));
    }
}

tp_status tp_conv_1x1_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch)
{
    const tp_conv_params *p = &op->conv;
    if (op->filter.h != 1 || op->filter.w != 1 || op->filter.c != op->input.c || p->pad_h || p->pad_w
        || op->scratch_bytes < tp_conv_scratch_bytes(op)) {
        return TP_ERR_ARG;
    }
    const int32_t fast = p->stride_h == 1 && p->stride_w == 1 && (op->input.c & 3) == 0;
    return tp_conv_run(op, input, output, scratch, fast ? pixels_c4 : pixels, tp_kp(op->input.c));
}
