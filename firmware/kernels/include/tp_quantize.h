/* QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32). */
#ifndef TP_QUANTIZE_H
#define TP_QUANTIZE_H

#include "tp_types.h"

/** One QUANTIZE or DEQUANTIZE layer. */
typedef struct {
    int32_t size;               /**< elements, >= 1 */
    float scale;                /**< QUANTIZE f32->s8: output scale; DEQUANTIZE: input scale (> 0) */
    int32_t zero_point;         /**< the int8 side's zero point */
    int32_t input_zero_point;   /**< requantize only: input zero point */
    int32_t multiplier, shift;  /**< requantize only: input_scale / output_scale as multiplier and shift */
} tp_quantize_s8_t;

/** QUANTIZE float32 -> int8: clamp(round(x / scale) + zero_point), the division in float32. */
tp_status tp_quantize_ref_f32_s8(const tp_quantize_s8_t *op, const float *input, int8_t *output);

/** QUANTIZE int8 -> int8 (requantize): clamp(requantize(x - input_zp) + zero_point). */
tp_status tp_quantize_ref_s8_s8(const tp_quantize_s8_t *op, const int8_t *input, int8_t *output);

/** DEQUANTIZE int8 -> float32: (float)((double)scale * (x - zero_point)). */
tp_status tp_dequantize_ref_s8_f32(const tp_quantize_s8_t *op, const int8_t *input, float *output);

#endif
