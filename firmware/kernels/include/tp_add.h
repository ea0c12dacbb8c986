/* ADD, int8, elementwise (same shapes) or broadcast over up to 4 dimensions. */
#ifndef TP_ADD_H
#define TP_ADD_H

#include "tp_types.h"

/** One ADD layer, TFLite's int8 arithmetic: both inputs rescaled to a common scale with 20 bits headroom. */
typedef struct {
    int32_t size;                           /**< output elements */
    int32_t broadcast;                      /**< 0: elementwise over size; 1: use dims/strides below */
    int32_t out_dims[4];                    /**< output shape padded to 4-D [d0, d1, d2, d3] (broadcast only) */
    int32_t in1_strides[4], in2_strides[4]; /**< element strides, 0 on broadcast dimensions (broadcast only) */
    int32_t input1_offset, input2_offset;   /**< minus the input zero points, Range: [-127, 128] */
    int32_t output_offset;                  /**< output zero point */
    int32_t left_shift;                     /**< 20 for int8 */
    int32_t input1_multiplier, input1_shift;/**< shift <= 0 */
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
    const int32_t *lut1, *lut2;             /**< tp_add_lut_s8 only: [256] tables (index value + 128) with
                                                 (lut1[x1] + lut2[x2]) >> 16 = the unclamped output - act_min
                                                 (built and proven by the compiler); NULL for the reference */
} tp_add_s8_t;

/** Reference ADD. input1, input2 (in), output (out) may alias input1 or input2 when elementwise. */
tp_status tp_add_ref_s8(const tp_add_s8_t *op, const int8_t *input1, const int8_t *input2, int8_t *output);

/** Cortex-M4 ADD, elementwise only (broadcast == 0): output = clamp(((lut1[x1] + lut2[x2]) >> 16) + act_min)
 *  with tables from the compiler (compiler/lower.py _add_luts: exact for all 65536 input pairs), copied
 *  into `scratch` (512 int32, caller owned) so the lookups hit SRAM. ~8.6 cycles per element. Bit-exact
 *  with tp_add_ref_s8. */
tp_status tp_add_lut_s8(const tp_add_s8_t *op, const int8_t *input1, const int8_t *input2, int8_t *output,
                        int32_t *scratch);

#endif
