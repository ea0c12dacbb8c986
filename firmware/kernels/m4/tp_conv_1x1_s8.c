/* Cortex-M4 1x1 convolution: each output pixel reads one input pixel (stride s, no padding), so the
 * "im2col" column is the input pixel itself. See tp_m4_gemm.h for the layouts and the driver. */
#include "tp_conv.h"
#include "tp_m4_gemm.h"

static const int8_t *pixel(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int8_t *row, int16_t *cols,
                           int32_t p)
{
    (void)row;
    (void)cols;
    (void)p;
    const int32_t oy = px / op->output.w, ox = px - oy * op->output.w;
    return in_b + (oy * op->conv.stride_h * op->input.w + ox * op->conv.stride_w) * op->input.c;
}

tp_status tp_conv_1x1_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch)
{
    const tp_conv_params *p = &op->conv;
    if (op->filter.h != 1 || op->filter.w != 1 || op->filter.c != op->input.c || p->pad_h || p->pad_w
        || !op->bias || op->scratch_bytes < tp_conv_scratch_bytes(op)) {
        return TP_ERR_ARG;
    }
    return tp_conv_run(op, input, output, scratch, pixel, op->input.c);
}
