/* PLACEHOLDER model (see model.h): a deterministic stand-in, not a neural network. Each output byte is
 * a checksum of a slice of the input, so different inputs give different results. */
#include "model.h"

#warning "tinyperf: PLACEHOLDER model linked: benchmark results from this image are not valid"

static int8_t input[MODEL_INPUT_BYTES];
static int8_t output[MODEL_OUTPUT_BYTES];

int8_t *model_input(void) { return input; }
const int8_t *model_output(void) { return output; }

void model_invoke(void) {
    for (int o = 0; o < MODEL_OUTPUT_BYTES; o++) {
        uint32_t acc = 2166136261u;   /* FNV-1a over every input byte whose index = o (mod outputs) */
        for (int i = o % MODEL_INPUT_BYTES; i < MODEL_INPUT_BYTES; i += MODEL_OUTPUT_BYTES) {
            acc = (acc ^ (uint8_t)input[i]) * 16777619u;
        }
        output[o] = (int8_t)(acc >> 24);
    }
}
