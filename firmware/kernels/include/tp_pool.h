/* AVERAGE_POOL_2D and MAX_POOL_2D, int8 (input and output share scale and zero point). */
#ifndef TP_POOL_H
#define TP_POOL_H

#include "tp_types.h"

/** One pooling layer. */
typedef struct {
    tp_dims input;              /**< [N, H, W, C] */
    tp_dims output;             /**< [N, OH, OW, C] */
    int32_t filter_h, filter_w; /**< window, >= 1 */
    int32_t stride_h, stride_w; /**< >= 1 */
    int32_t pad_h, pad_w;       /**< top / left padding, >= 0 (padded taps are skipped, not zeros) */
    int32_t act_min, act_max;   /**< fused activation clamp */
} tp_pool_s8_t;

/** Reference AVERAGE_POOL_2D: mean over the in-image taps, rounded half away from zero. */
tp_status tp_avgpool_ref_s8(const tp_pool_s8_t *op, const int8_t *input, int8_t *output);

/** Cortex-M4 AVERAGE_POOL_2D, same results as tp_avgpool_ref_s8: 8 channels per pass summed in int16 lanes
 *  with SXTAB16, SDIV per channel. Windows of more than 256 taps use tp_avgpool_ref_s8. */
tp_status tp_avgpool_m4_s8(const tp_pool_s8_t *op, const int8_t *input, int8_t *output);

/** Reference MAX_POOL_2D: max over the in-image taps. */
tp_status tp_maxpool_ref_s8(const tp_pool_s8_t *op, const int8_t *input, int8_t *output);

#endif
