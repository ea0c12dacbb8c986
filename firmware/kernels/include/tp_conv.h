/* CONV_2D, int8 activations, int8 per-channel weights, int32 bias. */
#ifndef TP_CONV_H
#define TP_CONV_H

#include "tp_types.h"

/** One CONV_2D layer: everything that is constant at run time (lives in flash). */
typedef struct {
    tp_dims input;              /**< [N, H, W, C_IN] */
    tp_dims filter;             /**< [C_OUT, KH, KW, C_IN] (n = C_OUT) */
    tp_dims output;             /**< [N, OH, OW, C_OUT] */
    tp_conv_params conv;        /**< geometry, offsets, activation clamp */
    const int8_t *weights;      /**< C_OUT*KH*KW*C_IN bytes, layout per kernel variant (see each function) */
    const int32_t *bias;        /**< [C_OUT], or NULL for no bias */
    const int32_t *multiplier;  /**< [C_OUT] output multipliers, Range: [0, 2^31) */
    const int32_t *shift;       /**< [C_OUT] output shifts (> 0: left). Range: [-31, 30] */
} tp_conv_s8_t;

/** Reference CONV_2D, any geometry. weights: [C_OUT, KH, KW, C_IN] as in the .tflite.
 *  input: [N, H, W, C_IN] (in), output: [N, OH, OW, C_OUT] (out). No scratch. */
tp_status tp_conv_ref_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output);

/** Scratch bytes tp_conv_1x1_s8 / tp_conv_im2col_s8 need: 2 columns of KH*KW*C_IN int16 (4-byte aligned). */
int32_t tp_conv_scratch_bytes(const tp_conv_s8_t *op);

/** Cortex-M4 1x1 convolution (KH = KW = 1, no padding, dilation 1, any stride).
 *  weights: tp_reorder_weights_s8 layout of [C_OUT, C_IN] (groups of 4 stored as w0 w2 w1 w3, tail as is).
 *  scratch: tp_conv_scratch_bytes(op) bytes, 4-byte aligned (caller owned). */
tp_status tp_conv_1x1_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch);

/** Cortex-M4 generic convolution: im2col of two output pixels into int16, then a 2x2-blocked GEMM.
 *  weights: tp_reorder_weights_s8 layout of [C_OUT, KH*KW*C_IN]. scratch as for tp_conv_1x1_s8. */
tp_status tp_conv_im2col_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch);

#endif
