/* DEQUANTIZE int8 -> float32: tflite reference_ops::Dequantize (scale applied in double). */
#include "tp_quantize.h"

tp_status tp_dequantize_ref_s8_f32(const tp_quantize_s8_t *op, const int8_t *input, float *output)
{
    const double scale = (double)op->scale;
    for (int32_t i = 0; i < op->size; ++i) {
        output[i] = (float)(scale * (double)(input[i] - op->zero_point));
    }
    return TP_OK;
}
