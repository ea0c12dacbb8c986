/* CONV_2D with few input channels (Cortex-M4): first layers such as 10x4x1 (KWS) or 3x3x3 (VWW, IC). */
#ifndef TP_CONV_SMALLC_H
#define TP_CONV_SMALLC_H

#include "tp_types.h"

/** One small-Cin CONV_2D layer (dilation 1, any kernel size, stride and padding with at most 16 tap groups).
 *
 *  Taps: each kernel row is a run of L = KW * C_IN contiguous input bytes. Tap group i (4 taps) is bytes
 *  4g..4g+3 of row ky's run for i = ky * row_groups + g (row_groups = L / 4); then the rows' tails
 *  (L % 4 bytes each, row after row) in groups of 4, the last one zero padded: `groups` = G groups.
 *  A group's bytes (b0, b1, b2, b3) are used as the int16 pairs (b0, b2) and (b1, b3).
 *  packed: per output channel pair (a, b) 8 + 4 G words: bias2[a], bias2[b]; per group the int16 pairs
 *  (2 w[a] at b0, 2 w[a] at b2), (2 w[b] at b0, b2), (2 w[a] at b1, b3), (2 w[b] at b1, b3); then
 *  multiplier[a], multiplier[b], rq_const[a], rq_const[b], rq_shift[a], rq_shift[b]. bias2 = 2 * (bias + input_offset
 *  * sum w); rq_shift = -shift >= 1, rq_const = 2^(rq_shift - 1) + (output_offset - act_min) 2^rq_shift.
 *  An odd last channel is paired with a zero channel whose outputs are not stored.
 *  Quad layout (quad = 1): per output channel quad (a, b, c, d) 20 + 8 G words: bias2 of a, a, b, b, c, c,
 *  d, d; per group the int16 pairs (b0, b2) of a, b, c, d then (b1, b3) of a, b, c, d; then multiplier,
 *  rq_const, rq_shift of a, of b, of c, of d.
 *  Requantization of the doubled accumulator A = 2 acc (exact TFLite double rounding, |acc| < 2^30):
 *  output - act_min = SMMLAR(A, multiplier, rq_const + (A >> 31)) >> rq_shift, clamped to [0, span].
 *  Full range (span 255): rq_const = 2^(rq_shift - 1) + output_offset 2^rq_shift, and the same expression
 *  is the output, saturated to int8 (no clamp). */
typedef struct {
    tp_dims input;              /**< [N, H, W, C_IN], C_IN <= 4 */
    tp_dims output;             /**< [N, OH, OW, C_OUT] */
    int32_t kh, kw;             /**< kernel size */
    int32_t stride_h, stride_w; /**< >= 1 */
    int32_t pad_h, pad_w;       /**< top / left padding */
    int32_t input_zp;           /**< value of padded taps (contributes 0: the input offset is in bias2) */
    int32_t groups;             /**< G tap groups, 1..16 */
    int32_t row_groups;         /**< full groups per kernel row: (KW * C_IN) / 4 */
    int32_t act_min;            /**< output clamp: [act_min, act_min + span] */
    int32_t span;               /**< act_max - act_min */
    int32_t quad;               /**< 1: channel quads (C_OUT % 4 == 0, G <= 10), quad layout; 0: pairs */
    int32_t chunk_pairs;        /**< pixel pairs whose columns are built at once (scratch), >= 1 */
    const int32_t *packed;      /**< (C_OUT + 1) / 2 channel pairs, 8 + 4 G words each, or C_OUT / 4
                                     channel quads, 20 + 8 G words each (above) */
} tp_conv_smallc_s8_t;

/** Cortex-M4 CONV_2D for C_IN <= 4: for a chunk of chunk_pairs output pixel pairs, the receptive fields are
 *  sign-extended once into int16 columns; then each channel pair runs over the chunk, per pixel pair a
 *  straight run of G blocks of 4 taps x 2 channels x 2 pixels (LDM of 4 weight words and 4 column words,
 *  8 SMLAD). input (in), output (out); scratch (4-byte aligned, sized by the compiler): the packed words
 *  (copied to SRAM), the columns of a chunk (16 G chunk_pairs bytes), the tail tap offsets (16 (G - KH
 *  row_groups) bytes), two output pixels for an odd last pair (2 C_OUT + 2 bytes), a receptive-field copy
 *  for border pixels or a band of KH input rows (KH W C_IN bytes) and KW C_IN zero points. Bit-exact with tp_conv_ref_s8. */
tp_status tp_conv_smallc_s8(const tp_conv_smallc_s8_t *op, const int8_t *input, int8_t *output,
                            int16_t *scratch);

#endif
