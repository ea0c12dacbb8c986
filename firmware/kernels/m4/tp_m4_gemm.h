/* Internal to firmware/kernels/m4: the int8 GEMM core shared by the M4 convolutions.
 *
 * Columns: the inputs of a PAIR of output pixels, sign-extended to int16 and interleaved for LDM: for each
 * group of 4 inputs x0..x3 the words p0(x0,x2) p1(x0,x2) p0(x1,x3) p1(x1,x3); then the K % 4 tail as
 * int16, pixel 0's values followed by pixel 1's.
 * Weights ("pair layout", produced by the compiler): output channels in pairs (a, b); per group of 4
 * inputs the bytes a[4g..4g+3] b[4g..4g+3], then a's K % 4 tail bytes, b's tail bytes, padding to a
 * multiple of 4 bytes (tp_pair_stride). An odd last channel follows as a plain row of K bytes.
 * SXTB16 on a weight word gives (w0, w2), with ROR 8 (w1, w3): they pair with the column words in SMLAD.
 * The input offset is folded into the bias by the compiler (bias' = bias + input_offset * sum(w)), so
 * columns hold raw inputs and padded taps hold the input zero point (contributing exactly 0).
 */
#ifndef TP_M4_GEMM_H
#define TP_M4_GEMM_H

#include "tp_conv.h"
#include "tp_dsp.h"
#include "tp_fixedpoint.h"

static inline int32_t tp_kp(int32_t k)
{
    return (k + 3) & ~3;
}

/** Bytes of one channel pair in the pair layout. */
static inline int32_t tp_pair_stride(int32_t k)
{
    return (2 * k + 3) & ~3;
}

/** Bytes of the int16 column pair (4-byte aligned). */
static inline int32_t tp_cols_bytes(int32_t k)
{
    return 4 * tp_kp(k);
}

/** Sign-extend the k int8 inputs of pixel p (0 or 1) into the column pair. */
static inline void tp_expand_pair(const int8_t *src, int16_t *cols, int32_t k, int32_t p)
{
    int16_t *dst = cols + 2 * p;
    for (int32_t g = k >> 2; g > 0; --g) {
        const int32_t v = tp_read_s8x4(src);
        const int32_t lo = tp_sxtb16(v), hi = tp_sxtb16_ror8(v);
        __builtin_memcpy(dst, &lo, 4);
        __builtin_memcpy(dst + 4, &hi, 4);
        src += 4;
        dst += 8;
    }
    const int32_t r = k & 3;
    int16_t *tail = cols + 8 * (k >> 2) + p * r;
    for (int32_t i = 0; i < r; ++i) {
        tail[i] = src[i];
    }
}

static inline int8_t tp_out_s8(int32_t acc, int32_t mult, int32_t shift, int32_t off, int32_t lo, int32_t hi)
{
    return (int8_t)tp_clamp(tp_requant_m4(acc, mult, shift) + off, lo, hi);
}

/* a00 += w_a . col_p0, a01 += w_a . col_p1, a10 += w_b . col_p0, a11 += w_b . col_p1 over `groups` groups
 * of 4; w and c advance past the groups. */
#if TP_M4_ASM
/* Four groups per loop iteration, then two and one (the loop branch and counter cost ~3 cycles per
 * iteration). One group: LDRD of the two weight words, LDM of the four column words into r4-r7 (ascending, as LDM
 * needs), SXTB16 of each weight word in two steps, eight SMLADs. */
#define TP_GEMM_2X2_BODY                                                                       \
    "ldrd %[wa], %[wb], [%[w]], #8\n\t"                                                        \
    "ldmia %[c]!, {r4, r5, r6, r7}\n\t"                                                        \
    "sxtb16 %[t], %[wa]\n\t"                                                                   \
    "smlad %[a00], %[t], r4, %[a00]\n\t"                                                       \
    "smlad %[a01], %[t], r5, %[a01]\n\t"                                                       \
    "sxtb16 %[wa], %[wa], ror #8\n\t"                                                          \
    "smlad %[a00], %[wa], r6, %[a00]\n\t"                                                      \
    "smlad %[a01], %[wa], r7, %[a01]\n\t"                                                      \
    "sxtb16 %[t], %[wb]\n\t"                                                                   \
    "smlad %[a10], %[t], r4, %[a10]\n\t"                                                       \
    "smlad %[a11], %[t], r5, %[a11]\n\t"                                                       \
    "sxtb16 %[wb], %[wb], ror #8\n\t"                                                          \
    "smlad %[a10], %[wb], r6, %[a10]\n\t"                                                      \
    "smlad %[a11], %[wb], r7, %[a11]\n\t"
#define TP_GEMM_2X2_GROUPS(w, c, groups, a00, a01, a10, a11)                                    \
    do {                                                                                       \
        int32_t n_ = (groups) >> 2;                                                            \
        int32_t wa_, wb_, t_;                                                                  \
        if (n_ > 0) {   /* four groups per iteration */                                        \
            __asm__ volatile(                                                                  \
                "1:\n\t" TP_GEMM_2X2_BODY TP_GEMM_2X2_BODY TP_GEMM_2X2_BODY TP_GEMM_2X2_BODY   \
                "subs %[n], %[n], #1\n\t"                                                      \
                "bne 1b\n\t"                                                                   \
                : [w] "+r"(w), [c] "+r"(c), [n] "+r"(n_), [a00] "+r"(a00), [a01] "+r"(a01),    \
                  [a10] "+r"(a10), [a11] "+r"(a11), [wa] "=&r"(wa_), [wb] "=&r"(wb_),          \
                  [t] "=&r"(t_)                                                                \
                :                                                                              \
                : "r4", "r5", "r6", "r7", "cc", "memory");                                     \
        }                                                                                      \
        if ((groups) & 2) {                                                                    \
            __asm__ volatile(                                                                  \
                TP_GEMM_2X2_BODY TP_GEMM_2X2_BODY                                              \
                : [w] "+r"(w), [c] "+r"(c), [a00] "+r"(a00), [a01] "+r"(a01),                  \
                  [a10] "+r"(a10), [a11] "+r"(a11), [wa] "=&r"(wa_), [wb] "=&r"(wb_),          \
                  [t] "=&r"(t_)                                                                \
                :                                                                              \
                : "r4", "r5", "r6", "r7", "memory");                                           \
        }                                                                                      \
        if ((groups) & 1) {                                                                    \
            __asm__ volatile(                                                                  \
                TP_GEMM_2X2_BODY                                                               \
                : [w] "+r"(w), [c] "+r"(c), [a00] "+r"(a00), [a01] "+r"(a01),                  \
                  [a10] "+r"(a10), [a11] "+r"(a11), [wa] "=&r"(wa_), [wb] "=&r"(wb_),          \
                  [t] "=&r"(t_)                                                                \
                :                                                                              \
                : "r4", "r5", "r6", "r7", "memory");                                           \
        }                                                                                      \
    } while (0)
#else
#define TP_GEMM_2X2_GROUPS(w, c, groups, a00, a01, a10, a11)                                    \
    do {                                                                                       \
        for (int32_t n_ = (groups); n_ > 0; --n_) {                                            \
            const int32_t wa_ = tp_read_s8x4((const int8_t *)(w)), wb_ = tp_read_s8x4((const int8_t *)(w) + 4); \
            const int32_t x_[4] = {tp_read_s16x2((const int16_t *)(c)), tp_read_s16x2((const int16_t *)(c) + 2), \
                                   tp_read_s16x2((const int16_t *)(c) + 4), tp_read_s16x2((const int16_t *)(c) + 6)}; \
            const int32_t la_ = tp_sxtb16(wa_), lb_ = tp_sxtb16(wb_);                          \
            const int32_t ha_ = tp_sxtb16_ror8(wa_), hb_ = tp_sxtb16_ror8(wb_);                \
            a00 = tp_smlad(la_, x_[0], a00);                                                   \
            a01 = tp_smlad(la_, x_[1], a01);                                                   \
            a10 = tp_smlad(lb_, x_[0], a10);                                                   \
            a11 = tp_smlad(lb_, x_[1], a11);                                                   \
            a00 = tp_smlad(ha_, x_[2], a00);                                                   \
            a01 = tp_smlad(ha_, x_[3], a01);                                                   \
            a10 = tp_smlad(hb_, x_[2], a10);                                                   \
            a11 = tp_smlad(hb_, x_[3], a11);                                                   \
            (w) = (const int8_t *)(w) + 8;                                                     \
            (c) = (const int16_t *)(c) + 8;                                                    \
        }                                                                                      \
    } while (0)
#endif

#if TP_M4_ASM
/* Requantize one accumulator in asm (tp_requant_rs, shifts <= -1 only): multiplier at [mp, #MO], shift at
 * [sp, #MO]; SMMULR(2 acc, m), rounding shift by r = -shift folded with the offset (off21 = 2 off + 1),
 * clamp, store at [OUT, #I]. */
#define TP_RQ_ASM(A, MO, I)                                                                    \
    "ldr %[m], [%[mp], #" MO "]\n\t"                                                            \
    "ldr %[r], [%[sp], #" MO "]\n\t"                                                            \
    "mvn %[r], %[r]\n\t"                                                                       \
    TP_RQ_CORE(A, "%[o], #" I)
/* Two adjacent channels (multiplier/shift at mp/sp, every shift <= -1) of one pixel: O[0] from A, O[1]
 * from B. OFF21 = 2 * output_offset + 1. */
#define TP_RQ_PAIR(O, MP, SP, OFF21, LO, HI, A, B)                                             \
    do {                                                                                       \
        int32_t m_, r_, v_;                                                                    \
        __asm__ volatile(TP_RQ_ASM("%[a]", "0", "0") TP_RQ_ASM("%[b]", "4", "1")                \
                         : [m] "=&r"(m_), [r] "=&r"(r_), [v] "=&r"(v_)                          \
                         : [a] "r"(A), [b] "r"(B), [mp] "r"(MP), [sp] "r"(SP), [o] "r"(O),       \
                           [off] "r"(OFF21), [lo] "r"(LO), [hi] "r"(HI),                         \
                           "m"(*(const int32_t(*)[2])(MP)), "m"(*(const int32_t(*)[2])(SP))       \
                         : "cc", "memory");                                                    \
    } while (0)
/* One channel (multiplier/shift at MP/SP, shift <= -1) for the two pixels of a column pair: *O0 from A,
 * *O1 from B; the multiplier and shift are loaded once for both. */
#define TP_RQ_CHAN2(O0, O1, MP, SP, OFF21, LO, HI, A, B)                                       \
    do {                                                                                       \
        int32_t m_, r_, v_;                                                                    \
        __asm__ volatile("ldr %[m], [%[mp]]\n\t"                                               \
                         "ldr %[r], [%[sp]]\n\t"                                               \
                         "mvn %[r], %[r]\n\t"                                                  \
                         TP_RQ_CORE("%[a]", "%[o0]") TP_RQ_CORE("%[b]", "%[o1]")                 \
                         : [m] "=&r"(m_), [r] "=&r"(r_), [v] "=&r"(v_)                          \
                         : [a] "r"(A), [b] "r"(B), [mp] "r"(MP), [sp] "r"(SP), [o0] "r"(O0),     \
                           [o1] "r"(O1), [off] "r"(OFF21), [lo] "r"(LO), [hi] "r"(HI),           \
                           "m"(*(const int32_t *)(MP)), "m"(*(const int32_t *)(SP))              \
                         : "cc", "memory");                                                    \
    } while (0)
#else
#define TP_RQ_PAIR(O, MP, SP, OFF21, LO, HI, A, B)                                             \
    do {                                                                                       \
        (O)[0] = (int8_t)tp_clamp(tp_requant_rs(A, (MP)[0], -(SP)[0] - 1, OFF21), LO, HI);      \
        (O)[1] = (int8_t)tp_clamp(tp_requant_rs(B, (MP)[1], -(SP)[1] - 1, OFF21), LO, HI);      \
    } while (0)
#define TP_RQ_CHAN2(O0, O1, MP, SP, OFF21, LO, HI, A, B)                                       \
    do {                                                                                       \
        *(O0) = (int8_t)tp_clamp(tp_requant_rs(A, *(MP), -*(SP) - 1, OFF21), LO, HI);           \
        *(O1) = (int8_t)tp_clamp(tp_requant_rs(B, *(MP), -*(SP) - 1, OFF21), LO, HI);           \
    } while (0)
#endif

/** All output channels for one column pair. weights in pair layout (flash or the SRAM cache), channels
 *  [oc0, oc1) with oc0 even; bias/mult/shift indexed by absolute channel. out0/out1 point at the pixels'
 *  channel 0 (out1 may equal out0 when the second pixel is a duplicate). */
static inline void tp_gemm_pair(const int16_t *cols, int32_t k, const int8_t *weights, int32_t oc0, int32_t oc1,
                                const tp_conv_s8_t *op, int8_t *out0, int8_t *out1, int32_t right_shifts)
{
    const tp_conv_params *p = &op->conv;
    const int32_t g = k >> 2, r = k & 3, stride = tp_pair_stride(k);
    const int16_t *tail0 = cols + 8 * g, *tail1 = tail0 + r;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max, off21 = 2 * off + 1;
    int32_t oc = oc0;
    const int8_t *wp = weights;
    for (; oc + 1 < oc1; oc += 2, wp += stride) {
        int32_t a00 = op->bias[oc], a01 = a00, a10 = op->bias[oc + 1], a11 = a10;
        const int8_t *w = wp;
        const int16_t *c = cols;
        TP_GEMM_2X2_GROUPS(w, c, g, a00, a01, a10, a11);
        for (int32_t i = 0; i < r; ++i) {
            const int32_t wa = w[i], wb = w[r + i];
            a00 += wa * tail0[i];
            a01 += wa * tail1[i];
            a10 += wb * tail0[i];
            a11 += wb * tail1[i];
        }
        const int32_t *mp = op->multiplier + oc, *sp = op->shift + oc;
        if (right_shifts) {
            TP_RQ_CHAN2(out0 + oc, out1 + oc, mp, sp, off21, lo, hi, a00, a01);
            TP_RQ_CHAN2(out0 + oc + 1, out1 + oc + 1, mp + 1, sp + 1, off21, lo, hi, a10, a11);
            continue;
        }
        out0[oc] = tp_out_s8(a00, mp[0], sp[0], off, lo, hi);
        out0[oc + 1] = tp_out_s8(a10, mp[1], sp[1], off, lo, hi);
        out1[oc] = tp_out_s8(a01, mp[0], sp[0], off, lo, hi);
        out1[oc + 1] = tp_out_s8(a11, mp[1], sp[1], off, lo, hi);
    }
    if (oc < oc1) {  /* odd last channel: plain row */
        const int16_t *c = cols;
        int32_t a00 = op->bias[oc], a01 = a00;
        const int8_t *w = wp;
        for (int32_t n = g; n > 0; --n) {
            const int32_t wv = tp_read_s8x4(w);
            const int32_t wl = tp_sxtb16(wv), wh = tp_sxtb16_ror8(wv);
            a00 = tp_smlad(wl, tp_read_s16x2(c), a00);
            a01 = tp_smlad(wl, tp_read_s16x2(c + 2), a01);
            a00 = tp_smlad(wh, tp_read_s16x2(c + 4), a00);
            a01 = tp_smlad(wh, tp_read_s16x2(c + 6), a01);
            w += 4;
            c += 8;
        }
        for (int32_t i = 0; i < r; ++i) {
            a00 += w[i] * tail0[i];
            a01 += w[i] * tail1[i];
        }
        out0[oc] = tp_out_s8(a00, op->multiplier[oc], op->shift[oc], off, lo, hi);
        out1[oc] = tp_out_s8(a01, op->multiplier[oc], op->shift[oc], off, lo, hi);
    }
}

/** Sign-extend n inputs (n % 4 == 0) into the column pair for pixel p starting at input index k0
 *  (k0 % 4 == 0). src NULL: a padded run, filled with `pad` (the input zero point). */
static inline void tp_expand_run(const int8_t *src, int8_t pad, int16_t *cols, int32_t k0, int32_t n, int32_t p)
{
    int16_t *dst = cols + 2 * k0 + 2 * p;
    if (src == NULL) {
        const int32_t v = (int32_t)((uint32_t)(uint16_t)pad | ((uint32_t)(uint16_t)pad << 16));
        for (int32_t g = n >> 2; g > 0; --g, dst += 8) {
            __builtin_memcpy(dst, &v, 4);
            __builtin_memcpy(dst + 4, &v, 4);
        }
        return;
    }
    for (int32_t g = n >> 2; g > 0; --g, src += 4, dst += 8) {
        const int32_t v = tp_read_s8x4(src);
        const int32_t lo = tp_sxtb16(v), hi = tp_sxtb16_ror8(v);
        __builtin_memcpy(dst, &lo, 4);
        __builtin_memcpy(dst + 4, &hi, 4);
    }
}

/** Copy `bytes` from src to dst, both 4-byte aligned: 16 bytes per LDM/STM pair (no per-word loop
 *  overhead), then the remaining words and bytes. Writes exactly `bytes` bytes. */
static inline void tp_copy_words(int8_t *dst, const int8_t *src, int32_t bytes)
{
    uint32_t *d = (uint32_t *)(void *)dst;
    const uint32_t *s = (const uint32_t *)(const void *)src;
    int32_t words = bytes >> 2;
#if TP_M4_ASM
    for (; words >= 4; words -= 4) {
        __asm__ volatile("ldmia %[s]!, {r4, r5, r6, r7}\n\t"
                         "stmia %[d]!, {r4, r5, r6, r7}\n\t"
                         : [s] "+r"(s), [d] "+r"(d)
                         :
                         : "r4", "r5", "r6", "r7", "memory");
    }
#endif
    for (; words > 0; --words) {
        *d++ = *s++;
    }
    int8_t *db = (int8_t *)d;
    const int8_t *sb = (const int8_t *)s;
    for (int32_t i = 0; i < (bytes & 3); ++i) {
        db[i] = sb[i];
    }
}

/** Column source for tp_conv_run: either returns a pointer to the k int8 inputs of output pixel `px`
 *  (written to `row`, or directly in the input) for the driver to expand, or expands them itself into
 *  slot `p` of the column pair `cols` and returns NULL. */
typedef const int8_t *(*tp_col_fn)(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int8_t *row,
                                   int16_t *cols, int32_t p);

/** The M4 convolution driver: channel chunks whose pair-layout weights fit the SRAM cache in the scratch
 *  are copied there once, then every pixel pair is expanded and multiplied with the chunk. k: the GEMM
 *  depth (the weights' row length in the pair layout). */
static inline tp_status tp_conv_run(const tp_conv_s8_t *op, const int8_t *input, int8_t *output,
                                    int16_t *scratch, tp_col_fn column, int32_t k)
{
    const int32_t out_c = op->output.c;
    const int32_t stride = tp_pair_stride(k);
    int8_t *row0 = (int8_t *)scratch + tp_cols_bytes(k), *row1 = row0 + tp_kp(k);
    int8_t *cache = row1 + tp_kp(k);
    const int32_t cache_bytes = op->scratch_bytes - (int32_t)(cache - (int8_t *)scratch);
    int32_t chunk_pairs = cache_bytes >= stride ? cache_bytes / stride : 0;
    const int32_t pairs = out_c / 2;
    if (chunk_pairs == 0) {
        chunk_pairs = pairs + 1;   /* no cache: read weights straight from flash */
    }
    const int32_t pixels = op->output.h * op->output.w;
    int32_t right_shifts = 1;   /* every channel's shift <= -1: TP_RQ_PAIR applies */
    for (int32_t oc = 0; oc < out_c; ++oc) {
        right_shifts &= op->shift[oc] < 0;
    }
    for (int32_t pair0 = 0; pair0 <= pairs; pair0 += chunk_pairs) {
        const int32_t oc0 = 2 * pair0;
        int32_t oc1 = 2 * (pair0 + chunk_pairs);
        oc1 = oc1 > out_c ? out_c : oc1;
        if (oc0 >= oc1) {
            break;
        }
        const int8_t *w = op->weights + pair0 * stride;
        if (cache_bytes >= stride) {
            const int32_t bytes = (oc1 - oc0) / 2 * stride + ((oc1 - oc0) & 1) * k;
            tp_copy_words(cache, w, bytes);
            w = cache;
        }
        for (int32_t b = 0; b < op->output.n; ++b) {
            const int8_t *in_b = input + b * op->input.h * op->input.w * op->input.c;
            int8_t *out = output + b * pixels * out_c;
            for (int32_t px = 0; px < pixels; px += 2) {
                const int32_t second = px + 1 < pixels;
                const int8_t *c0 = column(op, in_b, px, row0, scratch, 0);
                if (c0) {
                    tp_expand_pair(c0, scratch, k, 0);
                }
                const int8_t *c1 = column(op, in_b, second ? px + 1 : px, row1, scratch, 1);
                if (c1) {
                    tp_expand_pair(c1, scratch, k, 1);
                }
                tp_gemm_pair(scratch, k, w, oc0, oc1, op, out + px * out_c,
                             out + (second ? px + 1 : px) * out_c, right_shifts);
            }
        }
    }
    return TP_OK;
}

#endif
