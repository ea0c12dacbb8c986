/* QUANTIZE float32 -> int8: tflite reference_ops::AffineQuantize. */
#include <math.h>
#include "tp_quantize.h"
#include "tp_fixedpoint.h"

tp_status tp_quantize_ref_f32_s8(const tp_quantize_s8_t *op, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < op->size; ++i) {
        const float r = roundf(input[i] / op->scale);
        int32_t q;
        if (r >= 2147483647.0f) {
            q = INT32_MAX;
        } else if (r <= -2147483648.0f) {
            q = INT32_MIN;
        } else {
            q = (int32_t)r;
        }
        q = q > INT32_MAX - 128 ? INT32_MAX - 128 : q;
        output[i] = (int8_t)tp_clamp(q + op->zero_point, -128, 127);
    }
    return TP_OK;
}
