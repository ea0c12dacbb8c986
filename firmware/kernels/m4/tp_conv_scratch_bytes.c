/* Scratch size of the M4 convolutions (tp_conv_1x1_s8, tp_conv_im2col_s8) without weight cache: the int16
 * column pair and two int8 im2col rows. Any bytes beyond this (op->scratch_bytes) cache weights in SRAM. */
#include "tp_conv.h"
#include "tp_m4_gemm.h"

int32_t tp_conv_scratch_bytes(const tp_conv_s8_t *op)
{
    const int32_t k = op->filter.h * op->filter.w * op->filter.c;
    return tp_cols_bytes(k) + 2 * tp_kp(k);
}
