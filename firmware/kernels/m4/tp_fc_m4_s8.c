/* Cortex-M4 FULLY_CONNECTED: four output rows at a time. Weights in "quad layout" (compiler): rows in
 * groups of 4 (a, b, c, d), per group of 4 inputs the bytes a[4i..4i+3] b[..] c[..] d[..] (16 bytes, one
 * pointer, LDRD), then the four K % 4 tails (a's, b's, c's, d's) padded to 4 bytes; the last
 * output_depth % 4 rows follow as plain rows of K bytes. Inputs and weights are sign-extended in registers
 * with SXTB16 (both in SXTB16 order, so no reordering is needed) and accumulated with SMLAD.
 * The bias must carry the folded input offset: bias'[o] = bias[o] + input_offset * sum_i w[o, i]
 * (the compiler does this), so raw int8 inputs are multiplied; input_offset is ignored. */
#include "tp_fc.h"
#include "tp_dsp.h"
#include "tp_fixedpoint.h"
#include "tp_m4_gemm.h"   /* TP_RQ_PAIR */

static inline int32_t quad_stride(int32_t k)
{
    return 16 * (k >> 2) + ((4 * (k & 3) + 3) & ~3);
}

static inline int8_t out_s8(const tp_fc_s8_t *op, int32_t acc, int32_t o)
{
    const int32_t q = op->per_channel ? o : 0;
    return (int8_t)tp_clamp(tp_requant_m4(acc, op->multiplier[q], op->shift[q]) + op->output_offset,
                            op->act_min, op->act_max);
}

#if TP_M4_ASM
/* One group of 4 inputs for 4 rows: LDR of the inputs, LDRD of two rows' weight words (twice), SXTB16
 * of inputs and weights, 8 SMLADs; advances xp by 4 and w by 16. */
#define TP_FC_GROUP \
    "ldr %[xh], [%[xp]], #4\n\t" \
    "ldrd %[wa], %[wb], [%[w]], #8\n\t" \
    "sxtb16 %[xl], %[xh]\n\t" \
    "sxtb16 %[xh], %[xh], ror #8\n\t" \
    "sxtb16 %[t], %[wa]\n\t" \
    "sxtb16 %[wa], %[wa], ror #8\n\t" \
    "smlad %[a0], %[t], %[xl], %[a0]\n\t" \
    "smlad %[a0], %[wa], %[xh], %[a0]\n\t" \
    "sxtb16 %[t], %[wb]\n\t" \
    "sxtb16 %[wb], %[wb], ror #8\n\t" \
    "smlad %[a1], %[t], %[xl], %[a1]\n\t" \
    "smlad %[a1], %[wb], %[xh], %[a1]\n\t" \
    "ldrd %[wa], %[wb], [%[w]], #8\n\t" \
    "sxtb16 %[t], %[wa]\n\t" \
    "sxtb16 %[wa], %[wa], ror #8\n\t" \
    "smlad %[a2], %[t], %[xl], %[a2]\n\t" \
    "smlad %[a2], %[wa], %[xh], %[a2]\n\t" \
    "sxtb16 %[t], %[wb]\n\t" \
    "sxtb16 %[wb], %[wb], ror #8\n\t" \
    "smlad %[a3], %[t], %[xl], %[a3]\n\t" \
    "smlad %[a3], %[wb], %[xh], %[a3]\n\t"
#endif

tp_status tp_fc_m4_s8(const tp_fc_s8_t *op, const int8_t *input, int8_t *output)
{
    const int32_t k = op->accum_depth, n = op->output_depth, groups = k >> 2, r = k & 3;
    if (op->weights_offset != 0 || !op->bias) {
        return TP_ERR_ARG;
    }
    const int32_t stride = quad_stride(k);
    /* per-tensor quantization: the pair requantization reads two (equal) entries */
    const int32_t mt[2] = {op->multiplier[0], op->multiplier[0]}, st[2] = {op->shift[0], op->shift[0]};
    const int32_t off21 = 2 * op->output_offset + 1;
    int32_t right_shifts = 1;
    for (int32_t i = 0; i < (op->per_channel ? n : 1); ++i) {
        right_shifts &= op->shift[i] < 0;   /* TP_RQ_PAIR needs shifts <= -1 */
    }
    for (int32_t b = 0; b < op->batches; ++b) {
        const int8_t *x = input + b * k;
        int8_t *out = output + b * n;
        const int8_t *wq = op->weights;
        int32_t o = 0;
        for (; o + 3 < n; o += 4, wq += stride) {
            int32_t a0 = op->bias[o], a1 = op->bias[o + 1], a2 = op->bias[o + 2], a3 = op->bias[o + 3];
            const int8_t *w = wq, *xp = x;
#if TP_M4_ASM
            int32_t xl, xh, wa, wb, t;
            if (groups > 1) {   /* two groups per iteration: half the loop overhead */
                int32_t cnt = groups >> 1;
                __asm__ volatile(
                    "1:\n\t" TP_FC_GROUP TP_FC_GROUP
                    "subs %[cnt], %[cnt], #1\n\t"
                    "bne 1b\n\t"
                    : [w] "+r"(w), [xp] "+r"(xp), [cnt] "+r"(cnt), [a0] "+r"(a0), [a1] "+r"(a1),
                      [a2] "+r"(a2), [a3] "+r"(a3), [xl] "=&r"(xl), [xh] "=&r"(xh), [wa] "=&r"(wa),
                      [wb] "=&r"(wb), [t] "=&r"(t)
                    :
                    : "cc", "memory");
            }
            if (groups & 1) {
                __asm__ volatile(
                    TP_FC_GROUP
                    : [w] "+r"(w), [xp] "+r"(xp), [a0] "+r"(a0), [a1] "+r"(a1),
                      [a2] "+r"(a2), [a3] "+r"(a3), [xl] "=&r"(xl), [xh] "=&r"(xh), [wa] "=&r"(wa),
                      [wb] "=&r"(wb), [t] "=&r"(t)
                    :
                    : "memory");
            }
#else
            for (int32_t g = groups; g > 0; --g) {
                const int32_t xv = tp_read_s8x4(xp);
                const int32_t xl = tp_sxtb16(xv), xh = tp_sxtb16_ror8(xv);
                int32_t wv = tp_read_s8x4(w);
                a0 = tp_smlad(tp_sxtb16_ror8(wv), xh, tp_smlad(tp_sxtb16(wv), xl, a0));
                wv = tp_read_s8x4(w + 4);
                a1 = tp_smlad(tp_sxtb16_ror8(wv), xh, tp_smlad(tp_sxtb16(wv), xl, a1));
                wv = tp_read_s8x4(w + 8);
                a2 = tp_smlad(tp_sxtb16_ror8(wv), xh, tp_smlad(tp_sxtb16(wv), xl, a2));
                wv = tp_read_s8x4(w + 12);
                a3 = tp_smlad(tp_sxtb16_ror8(wv), xh, tp_smlad(tp_sxtb16(wv), xl, a3));
                xp += 4;
                w += 16;
            }
#endif
            for (int32_t i = 0; i < r; ++i) {
                const int32_t v = xp[i];
                a0 += w[i] * v;
                a1 += w[r + i] * v;
                a2 += w[2 * r + i] * v;
                a3 += w[3 * r + i] * v;
            }
            if (right_shifts) {
                const int32_t *mp = op->per_channel ? op->multiplier + o : mt, *sp = op->per_channel ? op->shift + o : st;
                TP_RQ_PAIR(out + o, mp, sp, off21, op->act_min, op->act_max, a0, a1);
                mp = op->per_channel ? mp + 2 : mt;
                sp = op->per_channel ? sp + 2 : st;
                TP_RQ_PAIR(out + o + 2, mp, sp, off21, op->act_min, op->act_max, a2, a3);
                continue;
            }
            out[o] = out_s8(op, a0, o);
            out[o + 1] = out_s8(op, a1, o + 1);
            out[o + 2] = out_s8(op, a2, o + 2);
            out[o + 3] = out_s8(op, a3, o + 3);
        }
        for (; o < n; ++o, wq += k) {   /* remaining rows, plain */
            int32_t acc = op->bias[o];
            const int8_t *w = wq, *xp = x;
            for (int32_t g = groups; g > 0; --g) {
                const int32_t xv = tp_read_s8x4(xp), wv = tp_read_s8x4(w);
                acc = tp_smlad(tp_sxtb16(wv), tp_sxtb16(xv), acc);
                acc = tp_smlad(tp_sxtb16_ror8(wv), tp_sxtb16_ror8(xv), acc);
                xp += 4;
                w += 4;
            }
            for (int32_t i = 0; i < r; ++i) {
                acc += w[i] * xp[i];
            }
            out[o] = out_s8(op, acc, o);
        }
    }
    return TP_OK;
}
