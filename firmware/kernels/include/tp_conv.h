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
    int32_t scratch_bytes;      /**< bytes of the scratch the caller passes to the M4 kernels (0 for ref);
                                     beyond tp_conv_scratch_bytes(op) they cache weights in SRAM */
} tp_conv_s8_t;

/** Reference CONV_2D, any geometry. weights: [C_OUT, KH, KW, C_IN] as in the .tflite.
 *  input: [N, H, W, C_IN] (in), output: [N, OH, OW, C_OUT] (out). No scratch. */
tp_status tp_conv_ref_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output);

/** Minimum scratch bytes of tp_conv_1x1_s8 / tp_conv_im2col_s8 with K = KH*KW*C_IN, kp = round_up(K, 4):
 *  4*kp (int16 column pair) + 2*kp (int8 im2col rows). Extra bytes cache the weights in SRAM. */
int32_t tp_conv_scratch_bytes(const tp_conv_s8_t *op);

/* The M4 convolutions below share these contracts:
 *  weights: "pair layout" of [C_OUT, K]: channels in pairs (a, b), per group of 4 inputs the bytes
 *           a[4g..4g+3] b[4g..4g+3], then a's K%4 tail, b's tail, zero padding to a multiple of 4 bytes
 *           (pair stride = round_up(2K, 4)); an odd last channel as a plain row of K bytes. 4-byte aligned.
 *  bias:    required, with the input offset folded in: bias[c] + input_offset * sum_k w[c, k].
 *  scratch: op->scratch_bytes >= tp_conv_scratch_bytes(op) bytes, 4-byte aligned, caller owned.
 *  Precondition (checked by the compiler): |bias| + sum |w| * 255 < 2^30 per channel (exact SMMULR
 *  requantization). Bit-exact with tp_conv_ref_s8 on the unfolded bias and plain weights. */

/** Cortex-M4 1x1 convolution (KH = KW = 1, no padding, any stride), 2x2-blocked SMLAD GEMM. */
tp_status tp_conv_1x1_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch);

/** Cortex-M4 generic convolution (any kernel, stride, padding, dilation): im2col of pixel pairs, then the
 *  same GEMM as tp_conv_1x1_s8. Its weights are the pair layout of [C_OUT, round_up(K, 4)]: rows padded
 *  with zero weights to a multiple of 4 (no tail loops). */
tp_status tp_conv_im2col_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch);

#endif
