/* Minimum scratch size of the M4 convolutions (tp_conv_1x1_s8, tp_conv_im2col_s8): the int16 column pair
 * (with sentinel), one int8 im2col row, the compacted outputs of a pixel pair (layers with dead channels)
 * and a weight cache of one quad. Any bytes beyond this (op->scratch_bytes) cache more quads in SRAM. */
#include "tp_conv.h"
#include "tp_m4_gemm.h"

int32_t tp_conv_scratch_bytes(const tp_conv_s8_t *op)
{
    const int32_t k = tp_kp(op->filter.h * op->filter.w * op->filter.c);
    tp_blob_head h;
    tp_blob_header(op, &h);
    return tp_cols_bytes(k) + k + tp_compact_bytes(op, &h) + tp_quad_stride(k);
}
