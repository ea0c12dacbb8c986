/* DEPTHWISE_CONV_2D, int8 activations, int8 per-channel weights, int32 bias. */
#ifndef TP_DWCONV_H
#define TP_DWCONV_H

#include "tp_types.h"

/** One DEPTHWISE_CONV_2D layer. C_OUT = C_IN * depth_multiplier. */
typedef struct {
    tp_dims input;              /**< [N, H, W, C_IN] */
    tp_dims filter;             /**< [1, KH, KW, C_OUT] */
    tp_dims output;             /**< [N, OH, OW, C_OUT] */
    tp_conv_params conv;
    int32_t depth_multiplier;   /**< >= 1 */
    const int8_t *weights;      /**< [KH, KW, C_OUT] as in the .tflite (all variants) */
    const int32_t *bias;        /**< [C_OUT] or NULL */
    const int32_t *multiplier;  /**< [C_OUT], Range: [0, 2^31) */
    const int32_t *shift;       /**< [C_OUT], Range: [-31, 30] */
} tp_dwconv_s8_t;

/** Reference DEPTHWISE_CONV_2D, any geometry. input [N, H, W, C_IN] (in), output [N, OH, OW, C_OUT] (out). */
tp_status tp_dwconv_ref_s8(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output);

/** Cortex-M4 depthwise convolution for depth_multiplier 1, dilation 1, any kernel size (<= 64 taps), stride
 *  and padding: four channels at a time with SXTB16 + SMLABB/SMLATT (3x3 windows and the requantization
 *  in inline assembly); other shapes return TP_ERR_ARG. Precondition (checked by the compiler):
 *  |bias| + sum |w| * 255 < 2^30 per channel, so the SMMULR requantization is exact. */
tp_status tp_dwconv_m4_s8(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output);

#endif
