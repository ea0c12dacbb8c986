/* QUANTIZE int8 -> int8: tflite reference_ops::Requantize. */
#include "tp_quantize.h"
#include "tp_fixedpoint.h"

tp_status tp_quantize_ref_s8_s8(const tp_quantize_s8_t *op, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < op->size; ++i) {
        const int32_t v = tp_requantize(input[i] - op->input_zero_point, op->multiplier, op->shift)
                          + op->zero_point;
        output[i] = (int8_t)tp_clamp(v, -128, 127);
    }
    return TP_OK;
}
