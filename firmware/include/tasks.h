/* The benchmark task (kws01, vww01, ic01 or ad01, chosen at build time in build_config.h) between the
 * protocol and the model: input conversion from the bytes the host sends to the model's int8 input,
 * one inference, and the result values.
 *   kws01: 490 int8 MFCC bytes, used as they are.
 *   vww01, ic01: uint8 RGB bytes; int8 input = byte - 128 (the models' input zero point, checked at
 *                build time, with scale 1/255 and 1.0 the quantisation of pixel/255 and pixel).
 *   ad01: 2560 bytes = 640 float32 (little endian), quantised with the model's input scale and zero
 *         point (round half away from zero, clamp to [-128, 127], as TFLite's quantize).
 * Results: kws01/vww01/ic01 the dequantised int8 output ((q - zero_point) * scale, the softmax
 * probabilities); ad01 one value, the mean squared error between the dequantised input and the
 * dequantised reconstruction. */
#ifndef TP_TASKS_H
#define TP_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"

extern const char tp_task_name[];
extern const size_t tp_task_input_bytes;    /* bytes the host sends per input */

/* Convert the host's bytes; NULL on success, else an error message. */
const char *tp_task_load(const uint8_t *buffer, size_t n);
void tp_task_infer(void);
void tp_task_results(tp_fmt_t *line);

#endif
