/* Reference AVERAGE_POOL_2D: tflite reference_integer_ops::AveragePool (int8). */
#include "tp_pool.h"
#include "tp_fixedpoint.h"

tp_status tp_avgpool_ref_s8(const tp_pool_s8_t *op, const int8_t *input, int8_t *output)
{
    const int32_t in_h = op->input.h, in_w = op->input.w, c = op->input.c;
    for (int32_t b = 0; b < op->output.n; ++b) {
        for (int32_t oy = 0; oy < op->output.h; ++oy) {
            const int32_t y0 = oy * op->stride_h - op->pad_h;
            const int32_t fy_start = y0 < 0 ? -y0 : 0;
            const int32_t fy_end = op->filter_h < in_h - y0 ? op->filter_h : in_h - y0;
            for (int32_t ox = 0; ox < op->output.w; ++ox) {
                const int32_t x0 = ox * op->stride_w - op->pad_w;
                const int32_t fx_start = x0 < 0 ? -x0 : 0;
                const int32_t fx_end = op->filter_w < in_w - x0 ? op->filter_w : in_w - x0;
                for (int32_t ch = 0; ch < c; ++ch) {
                    int32_t acc = 0, count = 0;
                    for (int32_t fy = fy_start; fy < fy_end; ++fy) {
                        for (int32_t fx = fx_start; fx < fx_end; ++fx) {
                            acc += input[((b * in_h + y0 + fy) * in_w + x0 + fx) * c + ch];
                            ++count;
                        }
                    }
                    if (count == 0) {
                        return TP_ERR_ARG;
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    output[((b * op->output.h + oy) * op->output.w + ox) * c + ch] =
                        (int8_t)tp_clamp(acc, op->act_min, op->act_max);
                }
            }
        }
    }
    return TP_OK;
}
