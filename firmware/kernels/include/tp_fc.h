/* FULLY_CONNECTED, int8 activations, int8 weights (per-tensor or per-channel), int32 bias. */
#ifndef TP_FC_H
#define TP_FC_H

#include "tp_types.h"

/** One FULLY_CONNECTED layer: output[b, o] = sum_i (input[b, i] + input_offset) * (w[o, i] + weights_offset). */
typedef struct {
    int32_t batches;            /**< rows of the input, >= 1 */
    int32_t accum_depth;        /**< input features per row, >= 1 */
    int32_t output_depth;       /**< output features per row, >= 1 */
    int32_t input_offset;       /**< minus the input zero point, Range: [-127, 128] */
    int32_t weights_offset;     /**< minus the weights zero point (0 for TFLite int8 weights) */
    int32_t output_offset;      /**< output zero point, Range: [-128, 127] */
    int32_t act_min, act_max;   /**< fused activation clamp */
    int32_t per_channel;        /**< 0: multiplier[0]/shift[0] for all outputs; 1: one per output */
    const int8_t *weights;      /**< [output_depth, accum_depth], layout per variant */
    const int32_t *bias;        /**< [output_depth] or NULL */
    const int32_t *multiplier;  /**< [1] or [output_depth], Range: [0, 2^31) */
    const int32_t *shift;       /**< [1] or [output_depth], Range: [-31, 30] */
} tp_fc_s8_t;

/** Reference FULLY_CONNECTED. weights [output_depth, accum_depth] as in the .tflite.
 *  input [batches, accum_depth] (in), output [batches, output_depth] (out). */
tp_status tp_fc_ref_s8(const tp_fc_s8_t *op, const int8_t *input, int8_t *output);

/** Cortex-M4 FULLY_CONNECTED, four output rows per pass, SMLAD + SXTB16 + SMLAD per 4 MACs (packed row
 *  pairs, see tp_fc_m4_s8.c). weights_offset must be 0; accum_depth >= 4.
 *  weights: "pair16 layout" of [output_depth, K] (compiler: pair16_layout): rows padded to a multiple of 4;
 *           per quad of rows and group of 4 inputs, the int16 p + 256 q of the row pairs (p, q) for inputs
 *           (0, 2) and (1, 3) (16 bytes), then the four rows' K%4 tails as int8; 4 * K bytes per quad.
 *  bias:    required, with the input offset folded in: bias[o] + input_offset * sum_i w[o, i].
 *  Preconditions (checked by the compiler): |bias| + sum |w| * 255 < 2^30 per output; for the second row
 *  of each pair sum |q| * 128 < 2^23, and p + 256 q fits in int16.
 *  scratch: 2 * (accum_depth & ~3) bytes, 4-byte aligned, caller owned (the inputs sign-extended to int16). */
tp_status tp_fc_m4_s8(const tp_fc_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch);

#endif
