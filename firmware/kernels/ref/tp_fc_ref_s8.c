/* Reference FULLY_CONNECTED: tflite reference_integer_ops::FullyConnected / FullyConnectedPerChannel. */
#include "tp_fc.h"
#include "tp_fixedpoint.h"

tp_status tp_fc_ref_s8(const tp_fc_s8_t *op, const int8_t *input, int8_t *output)
{
    const int32_t depth = op->accum_depth, out_depth = op->output_depth;
    for (int32_t b = 0; b < op->batches; ++b) {
        const int8_t *x = input + b * depth;
        for (int32_t o = 0; o < out_depth; ++o) {
            const int8_t *w = op->weights + o * depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < depth; ++d) {
                acc += (w[d] + op->weights_offset) * (x[d] + op->input_offset);
            }
            if (op->bias) {
                acc += op->bias[o];
            }
            const int32_t q = op->per_channel ? o : 0;
            acc = tp_requantize(acc, op->multiplier[q], op->shift[q]) + op->output_offset;
            output[b * out_depth + o] = (int8_t)tp_clamp(acc, op->act_min, op->act_max);
        }
    }
    return TP_OK;
}
