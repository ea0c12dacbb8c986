/* PLACEHOLDER model: NOT a neural network. Linked only while no compiled model is available; the
 * firmware's profile reply then says "PLACEHOLDER" and the runner refuses to publish its results.
 * The input/output shapes and quantisation parameters are those of the MLPerf Tiny reference models
 * (read from the .tflite files, see /work/shared/models/README.md), so everything around the model
 * (protocol, input conversion, result formatting) is exercised as with the real one. */
#ifndef TP_MODEL_H
#define TP_MODEL_H

#include <stdint.h>

#include "build_config.h"

#define MODEL_PLACEHOLDER 1
#define MODEL_HASH ""
#define MODEL_ARENA_BYTES 0

#if TP_TASK_KWS01
#define MODEL_INPUT_BYTES 490
#define MODEL_OUTPUT_BYTES 12
#define MODEL_INPUT_SCALE 0.5847029089927673f
#define MODEL_INPUT_ZERO_POINT 83
#define MODEL_OUTPUT_SCALE 0.00390625f
#define MODEL_OUTPUT_ZERO_POINT (-128)
#elif TP_TASK_VWW01
#define MODEL_INPUT_BYTES 27648
#define MODEL_OUTPUT_BYTES 2
#define MODEL_INPUT_SCALE 0.003921568859368563f
#define MODEL_INPUT_ZERO_POINT (-128)
#define MODEL_OUTPUT_SCALE 0.00390625f
#define MODEL_OUTPUT_ZERO_POINT (-128)
#elif TP_TASK_IC01
#define MODEL_INPUT_BYTES 3072
#define MODEL_OUTPUT_BYTES 10
#define MODEL_INPUT_SCALE 1.0f
#define MODEL_INPUT_ZERO_POINT (-128)
#define MODEL_OUTPUT_SCALE 0.00390625f
#define MODEL_OUTPUT_ZERO_POINT (-128)
#elif TP_TASK_AD01
#define MODEL_INPUT_BYTES 640
#define MODEL_OUTPUT_BYTES 640
#define MODEL_INPUT_SCALE 0.3910152316093445f
#define MODEL_INPUT_ZERO_POINT 89
#define MODEL_OUTPUT_SCALE 0.36449846625328064f
#define MODEL_OUTPUT_ZERO_POINT 96
#endif

int8_t *model_input(void);
const int8_t *model_output(void);
void model_invoke(void);

#endif
