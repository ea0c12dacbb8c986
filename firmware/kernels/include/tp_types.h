/* tinyperf int8 kernels: shared types.
 *
 * Contract of every kernel in firmware/kernels/ref and firmware/kernels/m4: bit-exact with TensorFlow
 * Lite Micro's reference integer kernels (tensorflow/lite/kernels/internal/reference/integer_ops/).
 * No kernel allocates memory; scratch space, where needed, is owned by the caller and sized by the
 * matching *_scratch_bytes() function. Tensors are NHWC, int8, batch 1..N, densely packed.
 */
#ifndef TP_TYPES_H
#define TP_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

/** Status returned by every kernel. */
typedef enum {
    TP_OK = 0,            /**< success */
    TP_ERR_ARG = -1,      /**< a shape or parameter the kernel does not support (nothing written) */
} tp_status;

/** Tensor dimensions. Format: [N, H, W, C]; 2-D tensors [N, C] use h = w = 1. All >= 1. */
typedef struct {
    int32_t n, h, w, c;
} tp_dims;

/** Convolution geometry and output quantization (CONV_2D, DEPTHWISE_CONV_2D). */
typedef struct {
    int32_t stride_h, stride_w;      /**< >= 1 */
    int32_t pad_h, pad_w;            /**< top / left zero padding in input pixels, >= 0 */
    int32_t dilation_h, dilation_w;  /**< >= 1 */
    int32_t input_offset;            /**< minus the input zero point. Range: [-127, 128] */
    int32_t output_offset;           /**< the output zero point. Range: [-128, 127] */
    int32_t act_min, act_max;        /**< fused activation clamp. Range: -128 <= act_min <= act_max <= 127 */
} tp_conv_params;

#endif
