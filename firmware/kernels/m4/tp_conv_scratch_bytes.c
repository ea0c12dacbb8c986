/* Scratch size of the M4 convolutions (tp_conv_1x1_s8, tp_conv_im2col_s8). */
#include "tp_conv.h"
#include "tp_m4_gemm.h"

int32_t tp_conv_scratch_bytes(const tp_conv_s8_t *op)
{
    return 6 * tp_conv_kp(op->filter.h * op->filter.w * op->filter.c);
}
