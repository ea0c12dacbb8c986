/* Reference CONV_2D: the loop nest of tflite reference_integer_ops::ConvPerChannel. */
#include "tp_conv.h"
#include "tp_fixedpoint.h"

tp_status tp_conv_ref_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output)
{
    const tp_conv_params *p = &op->conv;
    const int32_t in_h = op->input.h, in_w = op->input.w, in_c = op->input.c;
    const int32_t k_h = op->filter.h, k_w = op->filter.w, out_c = op->output.c;
    if (op->filter.c != in_c || op->filter.n != out_c) {
        return TP_ERR_ARG;
    }
    for (int32_t b = 0; b < op->output.n; ++b) {
        for (int32_t oy = 0; oy < op->output.h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < op->output.w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t in_y = in_y0 + p->dilation_h * ky;
                        if (in_y < 0 || in_y >= in_h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t in_x = in_x0 + p->dilation_w * kx;
                            if (in_x < 0 || in_x >= in_w) {
                                continue;
                            }
                            const int8_t *x = input + ((b * in_h + in_y) * in_w + in_x) * in_c;
                            const int8_t *w = op->weights + ((oc * k_h + ky) * k_w + kx) * in_c;
                            for (int32_t ic = 0; ic < in_c; ++ic) {
                                acc += w[ic] * (x[ic] + p->input_offset);
                            }
                        }
                    }
                    if (op->bias) {
                        acc += op->bias[oc];
                    }
                    acc = tp_requantize(acc, op->multiplier[oc], op->shift[oc]) + p->output_offset;
                    output[((b * op->output.h + oy) * op->output.w + ox) * out_c + oc] =
                        (int8_t)tp_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
    return TP_OK;
}
