/* Cortex-M4 ADD (int8, elementwise): both input rescales by table lookup (tables from the compiler, copied
 * to SRAM scratch), then TFLite's output rescale and clamp. Bit-exact with tp_add_ref_s8. */
#include "tp_add.h"
#include "tp_fixedpoint.h"

tp_status tp_add_lut_s8(const tp_add_s8_t *op, const int8_t *input1, const int8_t *input2, int8_t *output,
                        int32_t *scratch)
{
    if (op->broadcast || !op->lut1 || !op->lut2) {
        return TP_ERR_ARG;
    }
    memcpy(scratch, op->lut1, 256 * sizeof(int32_t));
    memcpy(scratch + 256, op->lut2, 256 * sizeof(int32_t));
    const int32_t *l1 = scratch + 128, *l2 = scratch + 256 + 128;
    const int32_t m = op->output_multiplier, e = -op->output_shift, off = op->output_offset;
    const int32_t lo = op->act_min, hi = op->act_max;
    const int32_t mask = (int32_t)((1u << e) - 1u), half = mask >> 1;
    for (int32_t i = 0; i < op->size; ++i) {
        const int32_t sum = l1[input1[i]] + l2[input2[i]];
        const int32_t v = tp_srdhm_pos(sum, m);
        const int32_t q = (v >> e) + ((v & mask) > half + (v < 0 ? 1 : 0) ? 1 : 0) + off;
        output[i] = (int8_t)tp_clamp(q, lo, hi);
    }
    return TP_OK;
}
