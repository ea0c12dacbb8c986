/* Cortex-M4 AVERAGE_POOL_2D (int8), bit-exact with tflite reference_integer_ops::AveragePool.
 *
 * Per output pixel, channels in blocks of 8: the window's taps are summed in four registers of two int16
 * lanes with SXTAB16 (x, x ror 8 of each input word: channels (0, 2), (1, 3) and (4, 6), (5, 7)), i.e.
 * 2 loads + 4 SXTAB16 per tap for 8 channels. A lane holds at most count * 128 <= 32768 in magnitude
 * (count <= 256 taps; larger windows use the reference kernel). Then per channel the TFLite rounding
 * division (sum +- count / 2) / count (SDIV, a few cycles for these small quotients) and the clamp.
 * The last C % 8 channels: a block of 4, then single channels (int32 sums). */
#include "tp_pool.h"
#include "tp_dsp.h"
#include "tp_fixedpoint.h"

#define TP_AVGPOOL_MAX_COUNT 256   /* int16 lanes: |sum| <= 128 * count <= 32768 */

/* TFLite: (sum > 0 ? sum + count / 2 : sum - count / 2) / count (C division truncates), clamped. */
static inline int8_t pool_mean(int32_t sum, int32_t count, int32_t lo, int32_t hi)
{
    const int32_t half = count >> 1;
    return (int8_t)tp_clamp((sum > 0 ? sum + half : sum - half) / count, lo, hi);
}

static inline int32_t lane_lo(uint32_t v) { return (int16_t)(v & 0xFFFFu); }
static inline int32_t lane_hi(uint32_t v) { return (int16_t)(v >> 16); }

/* One output pixel: taps rows [y0 + fy0, y0 + fy1) x columns [x0 + fx0, x0 + fx1) of one image. */
static void pool_pixel(const tp_pool_s8_t *op, const int8_t *win, int32_t rows, int32_t cols, int8_t *out)
{
    const int32_t c = op->input.c, row_stride = op->input.w * c, count = rows * cols;
    const int32_t lo = op->act_min, hi = op->act_max;
    int32_t ch = 0;
    for (; ch + 8 <= c; ch += 8) {   /* 8 channels: 2 loads + 4 SXTAB16 per tap */
        uint32_t e0 = 0, o0 = 0, e1 = 0, o1 = 0;
        const int8_t *row = win + ch;
        for (int32_t y = rows; y > 0; --y, row += row_stride) {
            const int8_t *p = row;
            for (int32_t x = cols; x > 0; --x, p += c) {
                const uint32_t w0 = (uint32_t)tp_read_s8x4(p), w1 = (uint32_t)tp_read_s8x4(p + 4);
                e0 = (uint32_t)tp_sxtab16((int32_t)e0, (int32_t)w0);
                o0 = (uint32_t)tp_sxtab16_ror8((int32_t)o0, (int32_t)w0);
                e1 = (uint32_t)tp_sxtab16((int32_t)e1, (int32_t)w1);
                o1 = (uint32_t)tp_sxtab16_ror8((int32_t)o1, (int32_t)w1);
            }
        }
        int8_t *q = out + ch;
        q[0] = pool_mean(lane_lo(e0), count, lo, hi);
        q[1] = pool_mean(lane_lo(o0), count, lo, hi);
        q[2] = pool_mean(lane_hi(e0), count, lo, hi);
        q[3] = pool_mean(lane_hi(o0), count, lo, hi);
        q[4] = pool_mean(lane_lo(e1), count, lo, hi);
        q[5] = pool_mean(lane_lo(o1), count, lo, hi);
        q[6] = pool_mean(lane_hi(e1), count, lo, hi);
        q[7] = pool_mean(lane_hi(o1), count, lo, hi);
    }
    if (ch + 4 <= c) {   /* 4 channels */
        uint32_t e0 = 0, o0 = 0;
        const int8_t *row = win + ch;
        for (int32_t y = rows; y > 0; --y, row += row_stride) {
            const int8_t *p = row;
            for (int32_t x = cols; x > 0; --x, p += c) {
                const uint32_t w0 = (uint32_t)tp_read_s8x4(p);
                e0 = (uint32_t)tp_sxtab16((int32_t)e0, (int32_t)w0);
                o0 = (uint32_t)tp_sxtab16_ror8((int32_t)o0, (int32_t)w0);
            }
        }
        int8_t *q = out + ch;
        q[0] = pool_mean(lane_lo(e0), count, lo, hi);
        q[1] = pool_mean(lane_lo(o0), count, lo, hi);
        q[2] = pool_mean(lane_hi(e0), count, lo, hi);
        q[3] = pool_mean(lane_hi(o0), count, lo, hi);
        ch += 4;
    }
    for (; ch < c; ++ch) {   /* 1..3 channels */
        int32_t sum = 0;
        const int8_t *row = win + ch;
        for (int32_t y = rows; y > 0; --y, row += row_stride) {
            for (int32_t x = 0; x < cols; ++x) {
                sum += row[x * c];
            }
        }
        out[ch] = pool_mean(sum, count, lo, hi);
    }
}

tp_status tp_avgpool_m4_s8(const tp_pool_s8_t *op, const int8_t *input, int8_t *output)
{
    if (op->filter_h * op->filter_w > TP_AVGPOOL_MAX_COUNT) {
        return tp_avgpool_ref_s8(op, input, output);
    }
    const int32_t in_h = op->input.h, in_w = op->input.w, c = op->input.c;
    for (int32_t b = 0; b < op->output.n; ++b) {
        const int8_t *image = input + b * in_h * in_w * c;
        for (int32_t oy = 0; oy < op->output.h; ++oy) {
            const int32_t y0 = oy * op->stride_h - op->pad_h;
            const int32_t fy0 = y0 < 0 ? -y0 : 0;
            const int32_t fy1 = op->filter_h < in_h - y0 ? op->filter_h : in_h - y0;
            for (int32_t ox = 0; ox < op->output.w; ++ox) {
                const int32_t x0 = ox * op->stride_w - op->pad_w;
                const int32_t fx0 = x0 < 0 ? -x0 : 0;
                const int32_t fx1 = op->filter_w < in_w - x0 ? op->filter_w : in_w - x0;
                if (fy1 <= fy0 || fx1 <= fx0) {
                    return TP_ERR_ARG;   /* no tap inside the image */
                }
                pool_pixel(op, image + ((y0 + fy0) * in_w + x0 + fx0) * c, fy1 - fy0, fx1 - fx0,
                           output + ((b * op->output.h + oy) * op->output.w + ox) * c);
            }
        }
    }
    return TP_OK;
}
