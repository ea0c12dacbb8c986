/* Reference ADD (int8): tflite reference_integer_ops::AddElementwise / BroadcastAdd6DSlow arithmetic. */
#include "tp_add.h"
#include "tp_fixedpoint.h"

static inline int8_t add_one(const tp_add_s8_t *op, int32_t a, int32_t b)
{
    const int32_t x1 = (int32_t)((uint32_t)(a + op->input1_offset) << op->left_shift);
    const int32_t x2 = (int32_t)((uint32_t)(b + op->input2_offset) << op->left_shift);
    const int32_t s1 = tp_rdbpot(tp_srdhm(x1, op->input1_multiplier), -op->input1_shift);
    const int32_t s2 = tp_rdbpot(tp_srdhm(x2, op->input2_multiplier), -op->input2_shift);
    const int32_t out = tp_rdbpot(tp_srdhm(s1 + s2, op->output_multiplier), -op->output_shift)
                        + op->output_offset;
    return (int8_t)tp_clamp(out, op->act_min, op->act_max);
}

tp_status tp_add_ref_s8(const tp_add_s8_t *op, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    if (!op->broadcast) {
        for (int32_t i = 0; i < op->size; ++i) {
            output[i] = add_one(op, input1[i], input2[i]);
        }
        return TP_OK;
    }
    const int32_t *d = op->out_dims, *s1 = op->in1_strides, *s2 = op->in2_strides;
    int32_t o = 0;
    for (int32_t i0 = 0; i0 < d[0]; ++i0) {
        for (int32_t i1 = 0; i1 < d[1]; ++i1) {
            for (int32_t i2 = 0; i2 < d[2]; ++i2) {
                for (int32_t i3 = 0; i3 < d[3]; ++i3) {
                    const int32_t a = input1[i0 * s1[0] + i1 * s1[1] + i2 * s1[2] + i3 * s1[3]];
                    const int32_t b = input2[i0 * s2[0] + i1 * s2[1] + i2 * s2[2] + i3 * s2[3]];
                    output[o++] = add_one(op, a, b);
                }
            }
        }
    }
    return TP_OK;
}
