/* SOFTMAX, int8 input, int8 output (scale 1/256, zero point -128), TFLite's gemmlowp fixed-point path. */
#ifndef TP_SOFTMAX_H
#define TP_SOFTMAX_H

#include "tp_types.h"

/** One SOFTMAX layer over the last dimension. */
typedef struct {
    int32_t rows;               /**< product of all but the last dimension, >= 1 */
    int32_t depth;              /**< last dimension, >= 1 */
    int32_t input_multiplier;   /**< from PreprocessSoftmaxScaling (beta * input scale), Range: [2^30, 2^31) */
    int32_t input_left_shift;   /**< >= 0 */
    int32_t diff_min;           /**< minus CalculateInputRadius(5, input_left_shift), <= 0 */
} tp_softmax_s8_t;

/** Reference SOFTMAX: input [rows, depth] (in), output [rows, depth] (out), may not alias. */
tp_status tp_softmax_ref_s8(const tp_softmax_s8_t *op, const int8_t *input, int8_t *output);

#endif
