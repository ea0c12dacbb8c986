/* Task glue between the protocol and the generated model (see tasks.h). */
#include "tasks.h"

#include <string.h>

#include "build_config.h"
#include "model.h"

#if defined(MODEL_INPUT_TYPE_float32) || defined(MODEL_OUTPUT_TYPE_float32)
#error "tinyperf firmware: the model's input and output tensors must be int8 (MLPerf Tiny closed division)"
#endif

#if TP_TASK_KWS01
#define TASK_HOST_BYTES MODEL_INPUT_BYTES
_Static_assert(MODEL_INPUT_BYTES == 490, "kws01 takes 49 x 10 MFCC features");
#elif TP_TASK_VWW01
#define TASK_HOST_BYTES MODEL_INPUT_BYTES
#define TASK_IMAGE 1
_Static_assert(MODEL_INPUT_BYTES == 96 * 96 * 3, "vww01 takes a 96x96 RGB image");
#elif TP_TASK_IC01
#define TASK_HOST_BYTES MODEL_INPUT_BYTES
#define TASK_IMAGE 1
_Static_assert(MODEL_INPUT_BYTES == 32 * 32 * 3, "ic01 takes a 32x32 RGB image");
#elif TP_TASK_AD01
#define TASK_HOST_BYTES (4 * MODEL_INPUT_BYTES)
_Static_assert(MODEL_INPUT_BYTES == 640, "ad01 takes 5 frames x 128 mel bins");
#else
#error "build_config.h selects no task"
#endif

#if defined(TASK_IMAGE)
_Static_assert(MODEL_INPUT_ZERO_POINT == -128, "image tasks map uint8 pixels to int8 by subtracting 128");
#endif

const char tp_task_name[] = TP_TASK_NAME;
const size_t tp_task_input_bytes = TASK_HOST_BYTES;

/* The converted input, copied into the model's input tensor before every inference unless the model
 * guarantees its input tensor survives model_invoke() (MODEL_INPUT_PRESERVED). */
static int8_t staged[MODEL_INPUT_BYTES];

#if TP_TASK_AD01
static int8_t quantize(float x) {
    float t = x / MODEL_INPUT_SCALE;
    if (!(t > -1000.0f)) {            /* also NaN */
        t = -1000.0f;
    } else if (t > 1000.0f) {
        t = 1000.0f;
    }
    int32_t i = (int32_t)t;           /* toward zero; then round half away from zero */
    float frac = t - (float)i;
    if (frac >= 0.5f) {
        i++;
    } else if (frac <= -0.5f) {
        i--;
    }
    i += MODEL_INPUT_ZERO_POINT;
    return (int8_t)(i < -128 ? -128 : (i > 127 ? 127 : i));
}
#endif

const char *tp_task_load(const uint8_t *buffer, size_t n) {
    if (n != TASK_HOST_BYTES) {
        return "wrong input size for this task";
    }
#if TP_TASK_KWS01
    memcpy(staged, buffer, MODEL_INPUT_BYTES);
#elif defined(TASK_IMAGE)
    for (size_t i = 0; i < MODEL_INPUT_BYTES; i++) {
        staged[i] = (int8_t)((int32_t)buffer[i] - 128);
    }
#else
    for (size_t i = 0; i < MODEL_INPUT_BYTES; i++) {
        float x;
        memcpy(&x, buffer + 4 * i, 4);   /* little endian, possibly unaligned */
        staged[i] = quantize(x);
    }
#endif
    memcpy(model_input(), staged, MODEL_INPUT_BYTES);
    return 0;
}

void tp_task_infer(void) {
#if !defined(MODEL_INPUT_PRESERVED) || !MODEL_INPUT_PRESERVED
    memcpy(model_input(), staged, MODEL_INPUT_BYTES);
#endif
    model_invoke();
}

static float dequantize_output(int8_t q) {
    return (float)((int32_t)q - (int32_t)(MODEL_OUTPUT_ZERO_POINT)) * MODEL_OUTPUT_SCALE;
}

void tp_task_results(tp_fmt_t *line) {
    const int8_t *out = model_output();
#if TP_TASK_AD01
    float sum = 0.0f;
    for (size_t i = 0; i < MODEL_INPUT_BYTES; i++) {
        float x = (float)((int32_t)staged[i] - (int32_t)(MODEL_INPUT_ZERO_POINT)) * MODEL_INPUT_SCALE;
        float d = x - dequantize_output(out[i]);
        sum += d * d;
    }
    tp_fmt_f3(line, sum / (float)MODEL_INPUT_BYTES);
#else
    for (size_t i = 0; i < MODEL_OUTPUT_BYTES; i++) {
        if (i) {
            tp_fmt_char(line, ',');
        }
        tp_fmt_f3(line, dequantize_output(out[i]));
    }
#endif
}
