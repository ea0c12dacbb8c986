/* Cortex-M4 generic convolution: im2col of each output pixel (padding filled with the input zero point,
 * which contributes 0 once the folded offset is in the bias), then the pair GEMM of tp_m4_gemm.h.
 * Any kernel size, stride, dilation and padding. */
#include "tp_conv.h"
#define TP_GEMM_MIN8 2048   /* see tp_m4_gemm.h */
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

/* Padded taps of im2col_c4 (out of line: only border pixels have them). */
static void __attribute__((noinline)) pad_taps(int8_t zp, int16_t *dst, int32_t n)
{
    tp_fill_run(zp, dst, n);
}

/* C % 4 == 0, dilation_w 1 (the hot case): per kernel row, the taps left of the input, the run inside it and
 * the taps right of it, expanded straight into the column pair (runs of C inputs never straddle a group of
 * 4). Kept small: it runs between the GEMM calls and shares the 1 KB instruction cache with them. */
static void im2col_one(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int16_t *cols, int32_t slot)
{
    const tp_conv_params *p = &op->conv;
    const int32_t c = op->input.c, kw = op->filter.w, w = op->input.w;
    const int32_t oy = px / op->output.w, ox = px - oy * op->output.w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int32_t lo = tp_clamp(-x0, 0, kw), hi = tp_clamp(w - x0, lo, kw);   /* taps [lo, hi) inside */
    const int8_t zp = (int8_t)(-p->input_offset);
    int16_t *dst = cols + 2 * slot;
    for (int32_t ky = 0, y = y0; ky < op->filter.h; ++ky, y += p->dilation_h, dst += 2 * kw * c) {
        const int32_t a = y < 0 || y >= op->input.h ? kw : lo, b = a == kw ? kw : hi;   /* taps [a, b) inside */
        if (a > 0) {
            pad_taps(zp, dst, a * c);
        }
        tp_expand_run(in_b + (y * w + x0 + a) * c, dst + 2 * a * c, (b - a) * c);
        if (b < kw) {
            pad_taps(zp, dst + 2 * b * c, (kw - b) * c);
        }
    }
}

/* Both pixels in one pass (tp_expand2) when their windows lie inside the input (most pixels), else one
 * at a time. */
static void im2col_c4(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int32_t second, int8_t *row,
                      int16_t *cols)
{
    (void)row;
    const tp_conv_params *p = &op->conv;
    const int32_t c = op->input.c, kw = op->filter.w, dx = second ? p->stride_w : 0;
    const int32_t oy = px / op->output.w, ox = px - oy * op->output.w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    if (ox + 1 < op->output.w && x0 >= 0 && x0 + dx + kw <= op->input.w && y0 >= 0
        && y0 + (op->filter.h - 1) * p->dilation_h < op->input.h) {
        int16_t *dst = cols;
        for (int32_t ky = 0, y = y0; ky < op->filter.h; ++ky, y += p->dilation_h, dst += 2 * kw * c) {
            const int8_t *src = in_b + (y * op->input.w + x0) * c;
            tp_expand2(src, src + dx * c, dst, kw * c);
        }
        return;
    }
    im2col_one(op, in_b, px, cols, 0);
    im2col_one(op, in_b, second ? px + 1 : px, cols, 1);
}

/* Any other geometry: the inputs of pixel px gathered into `row` (zero point for padding; k % 4 pad bytes
 * stay zero), then expanded. */
static const int8_t *gather(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int8_t *row)
{
    const tp_conv_params *p = &op->conv;
    const int32_t c = op->input.c, kw = op->filter.w, kh = op->filter.h;
    const int32_t oy = px / op->output.w, ox = px - oy * op->output.w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int8_t zp = (int8_t)(-p->input_offset);
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

static void im2col_any(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int32_t second, int8_t *row,
                       int16_t *cols)
{
    const int32_t k = tp_kp(op->filter.h * op->filter.w * op->filter.c);
    tp_expand_run(gather(op, in_b, px, row), cols, k);
    tp_expand_run(gather(op, in_b, second ? px + 1 : px, row), cols + 2, k);
}

tp_status tp_conv_im2col_s8(const tp_conv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch)
{
    if (op->filter.c != op->input.c || op->scratch_bytes < tp_conv_scratch_bytes(op)) {
        return TP_ERR_ARG;
    }
    /* GEMM depth K rounded up to 4 (zero weights in the padding); the row buffer's pad bytes are zeroed
     * once so the padded column entries are defined (they meet zero weights either way). */
    const int32_t k = op->filter.h * op->filter.w * op->filter.c, kp = tp_kp(k);
    int8_t *row = (int8_t *)scratch + tp_cols_bytes(kp);
    for (int32_t i = k; i < kp; ++i) {
        row[i] = 0;
    }
    const int32_t fast = (op->input.c & 3) == 0 && op->conv.dilation_w == 1;
    return tp_conv_run(op, input, output, scratch, fast ? im2col_c4 : im2col_any, kp);
}
