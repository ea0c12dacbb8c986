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
    int32_t scratch_bytes;      /**< bytes of the scratch passed to tp_dw3x3_s8 (0 for the other kernels) */
} tp_dwconv_s8_t;

/** Reference DEPTHWISE_CONV_2D, any geometry. input [N, H, W, C_IN] (in), output [N, OH, OW, C_OUT] (out). */
tp_status tp_dwconv_ref_s8(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output);

/** Cortex-M4 depthwise convolution for depth_multiplier 1, dilation 1, any kernel size (<= 64 taps), stride
 *  and padding: four channels at a time with SXTB16 + SMLABB/SMLATT (3x3 windows and the requantization
 *  in inline assembly); other shapes return TP_ERR_ARG. Precondition (checked by the compiler):
 *  |bias| + sum |w| * 255 < 2^30 per channel, so the SMMULR requantization is exact. */
tp_status tp_dwconv_m4_s8(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output);

/** Minimum scratch bytes of tp_dw3x3_s8: 4 * 4 * words * 10 (the planes of one group of four channels) + 512 *
 *  (band_pairs + 1) with pairs = ceil(L / 2) output pairs along the pair axis L (H if OH > OW, else W), words =
 *  pairs + 1 (stride 1) or 2 * pairs + 1 (stride 2), band_pairs = ceil(min(S, 8 or 4 at stride 2) / 2) for the
 *  other output axis S. A larger scratch holds the planes of more groups (filled together). */
int32_t tp_dw3x3_scratch_bytes(const tp_dwconv_s8_t *op);

/** Cortex-M4 3x3 depthwise convolution, stride 1 or 2 (equal on both axes), depth_multiplier 1, dilation 1,
 *  any padding, at most 64 outputs along the pair axis, on channel-planar int16 bands with SMLAD tap pairs
 *  (see tp_dw3x3_m4_s8.c). weights: the compiler's layout, per channel a record of ten int32: {W01, W12} per
 *  kernel row (ky; kx when OH > OW, the pair axis then being H), int16 halves W01 = (2 w0, 2 w1), W12 = (2 w1,
 *  2 w2); then m = multiplier, kh = 2^(r-1) + output_offset * 2^r, r = -shift, 2 * bias (op->bias, multiplier
 *  and shift are not read). Preconditions (checked by the compiler): |bias| + sum |w| * 255 < 2^30 per
 *  channel, every shift in [-23, -1], |kh| < 2^30, act_min = -128 and act_max = 127 (the asm clamps with SSAT
 *  only); op->scratch_bytes >= tp_dw3x3_scratch_bytes(op).
 *  scratch: op->scratch_bytes bytes, 4-byte aligned, caller owned. Other shapes return TP_ERR_ARG. */
tp_status tp_dw3x3_s8(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch);

#endif
