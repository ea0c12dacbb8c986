/* Cortex-M4 DEPTHWISE_CONV_2D for depth_multiplier 1 and dilation 1 (any kernel, stride, padding).
 *
 * Four channels at a time, channel group outermost: the group's weights are sign-extended once into a
 * stack table (one flash pass per group), its bias, multipliers and shifts are held in locals. Inputs are
 * sign-extended with SXTB16 and accumulated per channel with SMLABB/SMLATT. Output pixels whose window is
 * entirely inside the image use the bias with the input offset folded in (bias + offset * sum of taps,
 * computed here per group) and raw inputs; border pixels add the offset per tap (SADD16) and skip
 * outside taps, exactly as the reference. Bias as in the .tflite (no compile-time folding). The 3x3
 * window and the 4-channel requantization (SMMULR form, see tp_requant_m4) are inline assembly. */
#include "tp_dwconv.h"
#include "tp_dsp.h"
#include "tp_fixedpoint.h"

#define TP_DW_MAX_TAPS 64

/* One tap: x = 4 channels at px (any alignment), w02/w13 = the tap's sign-extended weights from wt. */
#define TP_DW_TAP(next)                                                                        \
    "ldr %[xv], [%[px]]\n\t"                                                                   \
    "ldrd %[w02], %[w13], [%[wt]], #8\n\t"                                                     \
    "add %[px], %[px], " next "\n\t"                                                           \
    "sxtb16 %[x02], %[xv]\n\t"                                                                 \
    "sxtb16 %[xv], %[xv], ror #8\n\t"                                                          \
    "smlabb %[a0], %[x02], %[w02], %[a0]\n\t"                                                  \
    "smlatt %[a2], %[x02], %[w02], %[a2]\n\t"                                                  \
    "smlabb %[a1], %[xv], %[w13], %[a1]\n\t"                                                   \
    "smlatt %[a3], %[xv], %[w13], %[a3]\n\t"

/* Requantize one channel in asm (tp_requant_rs): rq -> {multiplier, rs1 = -shift - 1 >= 0}; SMMULR(2 acc, m)
 * = SRDHM (|acc| < 2^30, guaranteed by the compiler), rounding shift folded with off = 2 * offset + 1,
 * clamp, store byte at out+I. */
#define TP_DW_RQ1(A, I)                                                                        \
    "ldrd %[m], %[r], [%[rq]], #8\n\t"                                                          \
    TP_RQ_CORE(A, "%[out], #" I)

#if TP_M4_ASM
/* Requantize a0..a3 into out[0..3]; rq: {m0, r0, m1, r1, m2, r2, m3, r3} with r = -shift - 1 >= 0;
 * OFF = 2 * output_offset + 1. */
#define TP_DW_REQUANT4(OUT, RQ, OFF, LO, HI, A0, A1, A2, A3)                                   \
    do {                                                                                       \
        const int32_t *rq_ = (RQ);                                                             \
        int32_t m_, r_, v_;                                                                    \
        __asm__ volatile(                                                                      \
            TP_DW_RQ1("%[a0]", "0") TP_DW_RQ1("%[a1]", "1") TP_DW_RQ1("%[a2]", "2")              \
            TP_DW_RQ1("%[a3]", "3")                                                            \
            : [rq] "+r"(rq_), [m] "=&r"(m_), [r] "=&r"(r_), [v] "=&r"(v_)                      \
            : [a0] "r"(A0), [a1] "r"(A1), [a2] "r"(A2), [a3] "r"(A3), [out] "r"(OUT),            \
              [off] "r"(OFF), [lo] "r"(LO), [hi] "r"(HI), "m"(*(const int32_t(*)[8])(RQ))       \
            : "cc", "memory");                                                                 \
    } while (0)
#else
#define TP_DW_REQUANT4(OUT, RQ, OFF, LO, HI, A0, A1, A2, A3)                                   \
    do {                                                                                       \
        const int32_t acc_[4] = {A0, A1, A2, A3};                                              \
        for (int32_t i_ = 0; i_ < 4; ++i_) {                                                   \
            (OUT)[i_] = (int8_t)tp_clamp(tp_requant_rs(acc_[i_], (RQ)[2 * i_], (RQ)[2 * i_ + 1], OFF), LO, HI); \
        }                                                                                      \
    } while (0)
#endif

#if TP_M4_ASM
/* The 9 taps of a 3x3 window, row by row; px/wt are consumed. */
#define TP_DW_3X3_TAPS(px, ch, rowskip, wt, a0, a1, a2, a3)                                    \
    do {                                                                                       \
        const int32_t *wt_ = (wt);                                                             \
        const int8_t *px_ = (px);                                                              \
        int32_t xv_, x02_, w02_, w13_;                                                         \
        __asm__ volatile(                                                                      \
            TP_DW_TAP("%[ch]") TP_DW_TAP("%[ch]") TP_DW_TAP("%[skip]")                           \
            TP_DW_TAP("%[ch]") TP_DW_TAP("%[ch]") TP_DW_TAP("%[skip]")                           \
            TP_DW_TAP("%[ch]") TP_DW_TAP("%[ch]") TP_DW_TAP("%[skip]")                           \
            : [px] "+r"(px_), [wt] "+r"(wt_), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),       \
              [a3] "+r"(a3), [xv] "=&r"(xv_), [x02] "=&r"(x02_), [w02] "=&r"(w02_),             \
              [w13] "=&r"(w13_)                                                                \
            : [ch] "r"(ch), [skip] "r"(rowskip), "m"(*(const int32_t(*)[18])(wt))              \
            : );                                                                               \
    } while (0)
#else
#define TP_DW_3X3_TAPS(px, ch, rowskip, wt, a0, a1, a2, a3)                                    \
    do {                                                                                       \
        const int8_t *px_ = (px);                                                              \
        const int32_t *wt_ = (wt);                                                             \
        for (int32_t t_ = 0; t_ < 9; ++t_, wt_ += 2) {                                         \
            const int32_t xv_ = tp_read_s8x4(px_);                                             \
            const int32_t x02_ = tp_sxtb16(xv_), x13_ = tp_sxtb16_ror8(xv_);                   \
            a0 = tp_smlabb(x02_, wt_[0], a0);                                                  \
            a2 = tp_smlatt(x02_, wt_[0], a2);                                                  \
            a1 = tp_smlabb(x13_, wt_[1], a1);                                                  \
            a3 = tp_smlatt(x13_, wt_[1], a3);                                                  \
            px_ += (t_ % 3 == 2) ? (rowskip) : (ch);                                           \
        }                                                                                      \
    } while (0)
#endif

static void channel_scalar(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output, int32_t c);


static inline int8_t requant(int32_t acc, int32_t mult, int32_t shift, int32_t off, int32_t lo, int32_t hi)
{
    return (int8_t)tp_clamp(tp_requant_m4(acc, mult, shift) + off, lo, hi);
}

tp_status tp_dwconv_m4_s8(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output)
{
    const tp_conv_params *p = &op->conv;
    const int32_t in_h = op->input.h, in_w = op->input.w, ch = op->input.c;
    const int32_t k_h = op->filter.h, k_w = op->filter.w, taps = k_h * k_w;
    const int32_t out_h = op->output.h, out_w = op->output.w;
    if (op->depth_multiplier != 1 || p->dilation_h != 1 || p->dilation_w != 1 || taps > TP_DW_MAX_TAPS
        || op->output.c != ch) {
        return TP_ERR_ARG;
    }
    const int32_t off = p->input_offset, out_off = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int32_t off21 = 2 * out_off + 1;
    const int32_t off2 = (int32_t)(((uint32_t)(uint16_t)off) | ((uint32_t)(uint16_t)off << 16));
    const int32_t row_step = in_w * ch;
    int32_t wtab[2 * TP_DW_MAX_TAPS];
    int32_t c = 0;
    for (; c + 3 < ch; c += 4) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;       /* sum of the taps per channel */
        for (int32_t t = 0; t < taps; ++t) {
            const int8_t *w = op->weights + t * ch + c;
            const int32_t wv = tp_read_s8x4(w);
            wtab[2 * t] = tp_sxtb16(wv);
            wtab[2 * t + 1] = tp_sxtb16_ror8(wv);
            s0 += w[0];
            s1 += w[1];
            s2 += w[2];
            s3 += w[3];
        }
        const int32_t b0 = op->bias ? op->bias[c] : 0, b1 = op->bias ? op->bias[c + 1] : 0;
        const int32_t b2 = op->bias ? op->bias[c + 2] : 0, b3 = op->bias ? op->bias[c + 3] : 0;
        const int32_t f0 = b0 + off * s0, f1 = b1 + off * s1, f2 = b2 + off * s2, f3 = b3 + off * s3;
        const int32_t mh[8] = {op->multiplier[c], op->shift[c], op->multiplier[c + 1], op->shift[c + 1],
                               op->multiplier[c + 2], op->shift[c + 2], op->multiplier[c + 3], op->shift[c + 3]};
        /* multiplier and rs1 = -shift - 1 per channel for TP_DW_REQUANT4 (all shifts <= -1 needed) */
        const int32_t rs[8] = {mh[0], -mh[1] - 1, mh[2], -mh[3] - 1, mh[4], -mh[5] - 1, mh[6], -mh[7] - 1};
        const int32_t fast_rq = mh[1] < 0 && mh[3] < 0 && mh[5] < 0 && mh[7] < 0;
        for (int32_t n = 0; n < op->output.n; ++n) {
            const int8_t *in_b = input + n * in_h * row_step + c;
            int8_t *out = output + n * out_h * out_w * ch + c;
            for (int32_t oy = 0; oy < out_h; ++oy) {
                const int32_t y0 = oy * p->stride_h - p->pad_h;
                const int32_t ky0 = y0 < 0 ? -y0 : 0;
                const int32_t ky1 = k_h < in_h - y0 ? k_h : in_h - y0;
                const int32_t full_y = ky0 == 0 && ky1 == k_h;
                int8_t *out_row = out + oy * out_w * ch;
                for (int32_t ox = 0; ox < out_w; ++ox) {
                    const int32_t x0 = ox * p->stride_w - p->pad_w;
                    int32_t a0, a1, a2, a3;
                    if (full_y && x0 >= 0 && x0 + k_w <= in_w) {
                        /* interior: folded bias, raw inputs, all taps */
                        a0 = f0;
                        a1 = f1;
                        a2 = f2;
                        a3 = f3;
                        const int8_t *px = in_b + y0 * row_step + x0 * ch;
                        const int32_t *wt = wtab;
                        if (k_w == 3 && k_h == 3) {
                            TP_DW_3X3_TAPS(px, ch, row_step - 2 * ch, wt, a0, a1, a2, a3);
                        } else {
                            for (int32_t ky = 0; ky < k_h; ++ky, px += row_step - k_w * ch) {
                                for (int32_t kx = 0; kx < k_w; ++kx, px += ch, wt += 2) {
                                    const int32_t xv = tp_read_s8x4(px);
                                    const int32_t x02 = tp_sxtb16(xv), x13 = tp_sxtb16_ror8(xv);
                                    a0 = tp_smlabb(x02, wt[0], a0);
                                    a2 = tp_smlatt(x02, wt[0], a2);
                                    a1 = tp_smlabb(x13, wt[1], a1);
                                    a3 = tp_smlatt(x13, wt[1], a3);
                                }
                            }
                        }
                    } else {
                        a0 = b0;
                        a1 = b1;
                        a2 = b2;
                        a3 = b3;
                        const int32_t kx0 = x0 < 0 ? -x0 : 0;
                        const int32_t kx1 = k_w < in_w - x0 ? k_w : in_w - x0;
                        for (int32_t ky = ky0; ky < ky1; ++ky) {
                            const int8_t *row = in_b + (y0 + ky) * row_step + x0 * ch;
                            const int32_t *wt = wtab + 2 * ky * k_w;
                            for (int32_t kx = kx0; kx < kx1; ++kx) {
                                const int32_t xv = tp_read_s8x4(row + kx * ch);
                                const int32_t x02 = tp_sadd16(tp_sxtb16(xv), off2);
                                const int32_t x13 = tp_sadd16(tp_sxtb16_ror8(xv), off2);
                                a0 = tp_smlabb(x02, wt[2 * kx], a0);
                                a2 = tp_smlatt(x02, wt[2 * kx], a2);
                                a1 = tp_smlabb(x13, wt[2 * kx + 1], a1);
                                a3 = tp_smlatt(x13, wt[2 * kx + 1], a3);
                            }
                        }
                    }
                    int8_t *o = out_row + ox * ch;
                    if (fast_rq) {
                        TP_DW_REQUANT4(o, rs, off21, lo, hi, a0, a1, a2, a3);
                        continue;
                    }
                    o[0] = requant(a0, mh[0], mh[1], out_off, lo, hi);
                    o[1] = requant(a1, mh[2], mh[3], out_off, lo, hi);
                    o[2] = requant(a2, mh[4], mh[5], out_off, lo, hi);
                    o[3] = requant(a3, mh[6], mh[7], out_off, lo, hi);
                }
            }
        }
    }
    for (; c < ch; ++c) {
        channel_scalar(op, input, output, c);
    }
    return TP_OK;
}

static void channel_scalar(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output, int32_t c)
{
    const tp_conv_params *p = &op->conv;
    const int32_t in_h = op->input.h, in_w = op->input.w, ch = op->input.c;
    const int32_t k_h = op->filter.h, k_w = op->filter.w;
    for (int32_t n = 0; n < op->output.n; ++n) {
        for (int32_t oy = 0; oy < op->output.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < op->output.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t acc = op->bias ? op->bias[c] : 0;
                for (int32_t ky = 0; ky < k_h; ++ky) {
                    const int32_t y = y0 + ky;
                    if (y < 0 || y >= in_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < k_w; ++kx) {
                        const int32_t x = x0 + kx;
                        if (x < 0 || x >= in_w) {
                            continue;
                        }
                        acc += op->weights[(ky * k_w + kx) * ch + c]
                               * (input[((n * in_h + y) * in_w + x) * ch + c] + p->input_offset);
                    }
                }
                output[((n * op->output.h + oy) * op->output.w + ox) * ch + c] =
                    requant(acc, op->multiplier[c], op->shift[c], p->output_offset, p->act_min, p->act_max);
            }
        }
    }
}
