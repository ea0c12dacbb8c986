/* Cortex-M4 generic convolution: im2col of each output pixel (padding filled with the input zero point,
 * which contributes 0 once the folded offset is in the bias), then the pair GEMM of tp_m4_gemm.h.
 * Any kernel size, stride, dilation and padding. */
#include "tp_conv.h"
#include "tp_m4_gemm.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")   /* keep the copy loops from becoming memcpy calls */
#endif

/* Inline copies: the runs are short (kw * C bytes), and calls to memcpy/memset would also evict the
 * kernel's loop from the 1 KB flash instruction cache. Unaligned word accesses are fine on the M4. */
static inline void copy_run(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        __builtin_memcpy(dst, src, 4);
    }
    for (; n > 0; --n) {
        *dst++ = *src++;
    }
}

static inline void fill_run(int8_t *dst, int8_t value, int32_t n)
{
    const uint32_t w = 0x01010101u * (uint8_t)value;
    for (; n >= 4; n -= 4, dst += 4) {
        __builtin_memcpy(dst, &w, 4);
    }
    for (; n > 0; --n) {
        *dst++ = value;
    }
}

static const int8_t *im2col(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int8_t *row, int16_t *cols,
                            int32_t slot)
{
    const tp_conv_params *p = &op->conv;
    const int32_t c = op->input.c, kw = op->filter.w, kh = op->filter.h;
    const int32_t oy = px / op->output.w, ox = px - oy * op->output.w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int8_t zp = (int8_t)(-p->input_offset);
    if ((c & 3) == 0) {   /* runs of C inputs never straddle a group of 4: expand straight from the input */
        int32_t k0 = 0;
        for (int32_t ky = 0; ky < kh; ++ky) {
            const int32_t y = y0 + ky * p->dilation_h;
            const int8_t *line = (y < 0 || y >= op->input.h) ? NULL : in_b + y * op->input.w * c;
            for (int32_t kx = 0; kx < kw; ++kx, k0 += c) {
                const int32_t x = x0 + kx * p->dilation_w;
                tp_expand_run(line && x >= 0 && x < op->input.w ? line + x * c : NULL, zp, cols, k0, c, slot);
            }
        }
        return NULL;
    }
    int8_t *out = row;
    for (int32_t ky = 0; ky < kh; ++ky) {
        const int32_t y = y0 + ky * p->dilation_h;
        if (y < 0 || y >= op->input.h) {
            fill_run(out, zp, kw * c);
            out += kw * c;
            continue;
        }
        const int8_t *line = in_b + y * op->input.w * c;
        if (p->dilation_w == 1 && x0 >= 0 && x0 + kw <= op->input.w) {
            copy_run(out, line + x0 * c, kw * c);
            out += kw * c;
            continue;
        }
        for (int32_t kx = 0; kx < kw; ++kx) {
            const int32_t x = x0 + kx * p->dilation_w;
            if (x < 0 || x >= op->input.w) {
                fill_run(out, zp, c);
            } else {
                copy_run(out, line + x * c, c);
            }
            out += c;
        }
    }
    return row;
}

tp_status tp_conv_im2col_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch)
{
    if (op->filter.c != op->input.c || !op->bias || op->scratch_bytes < tp_conv_scratch_bytes(op)) {
        return TP_ERR_ARG;
    }
    /* GEMM depth K rounded up to 4 (zero weights in the padding); the row buffers' pad bytes are zeroed
     * once so the padded column entries are defined (they meet zero weights either way). */
    const int32_t k = op->filter.h * op->filter.w * op->filter.c, kp = tp_kp(k);
    int8_t *rows = (int8_t *)scratch + tp_cols_bytes(k);
    for (int32_t i = k; i < kp; ++i) {
        rows[i] = 0;
        rows[kp + i] = 0;
    }
    return tp_conv_run(op, input, output, scratch, im2col, kp);
}
