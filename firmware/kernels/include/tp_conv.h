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

/** Minimum scratch bytes of tp_conv_1x1_s8 / tp_conv_im2col_s8 with K = KH*KW*C_IN, kp = round_up(K, 4),
 *  kq = round_up(kp, 8): 4*kq + 8 (int16 column pair with its sentinel) + kp (int8 gather row) + 8*ceil(L/4)
 *  if L < C_OUT (compacted outputs of two pixels) + 64 + 8*kq (SRAM weight cache of one quad of channels).
 *  Extra bytes cache more quads. */
int32_t tp_conv_scratch_bytes(const tp_conv_s8_t *op);

/* The M4 convolutions below share these contracts:
 *  weights: int32 L = the number of live channels (nonzero weights), int32 the requantization form
 *           (0 folded, 1 unfolded, 2 nosign; see tp_m4_gemm.h); if L < C_OUT, int8 fill[C_OUT] (the
 *           constant output of each dead channel; padded to 4 bytes) and uint16 live[L] (their channels in
 *           increasing order; padded to 4 bytes); then the "quad blob" of the L live rows of [C_OUT, kp]
 *           (rows padded with zero weights to kp), see firmware/kernels/m4/tp_m4_gemm.h: per quad of
 *           channels the doubled bias, the weights as int8 (K padded to 8) and the per-channel
 *           requantization constants. 4-byte aligned.
 *  bias:    unused (NULL): the blob holds it, with the input offset folded in (bias[c] + input_offset *
 *           sum_k w[c, k]).
 *  scratch: op->scratch_bytes >= tp_conv_scratch_bytes(op) bytes, 4-byte aligned, caller owned.
 *  Precondition (checked by the compiler): |bias| + sum |w| * 255 < 2^30 per channel (exact SMMULR
 *  requantization). Bit-exact with tp_conv_ref_s8 on the unfolded bias and plain weights. */

/** Cortex-M4 1x1 convolution (KH = KW = 1, no padding, any stride): SMLAD GEMM in blocks of 4 output
 *  channels x 2 pixels. */
tp_status tp_conv_1x1_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch);

/** Cortex-M4 generic convolution (any kernel, stride, padding, dilation): im2col of pixel pairs, then the
 *  same GEMM as tp_conv_1x1_s8. */
tp_status tp_conv_im2col_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch);

#endif
