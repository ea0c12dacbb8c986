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

/** Cortex-M4 FULLY_CONNECTED, four output rows at a time with SMLAD. weights_offset must be 0.
 *  weights: "quad layout" of [output_depth, K]: rows in groups of 4, per group of 4 inputs the 4 bytes of
 *           each row (16 bytes), then the rows' K%4 tails padded to 4 bytes; output_depth%4 plain rows last.
 *  bias:    required, with the input offset folded in: bias[o] + input_offset * sum_i w[o, i].
 *  Precondition (checked by the compiler): |bias| + sum |w| * 255 < 2^30 per output. */
tp_status tp_fc_m4_s8(const tp_fc_s8_t *op, const int8_t *input, int8_t *output);

#endif
