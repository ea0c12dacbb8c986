/* Cortex-M4 FULLY_CONNECTED: four output rows (two row pairs) per pass over the input, 3 ALU cycles per
 * 4 MACs.
 *
 * Packed-pair trick: a row pair (p, q) stores, per input i, the int16 h = p[i] + 256 * q[i] (the compiler
 * guarantees it fits). One word holds h for two inputs, so with X = (x[i], x[j]) as two int16:
 *   SMLAD(word, X)          += h_i x_i + h_j x_j = (p.x) + 256 (q.x)     (raw halfwords)
 *   SMLAD(SXTB16(word), X)  += p_i x_i + p_j x_j = (p.x)                 (low byte of each h is p mod 256)
 * so per row pair raw - lo = 256 (q.x) mod 2^32, exact while |q.x| < 2^23 (checked by the compiler:
 * sum |q| * 128 < 2^23); both sums wrap harmlessly in between. Per weight word: SMLAD, SXTB16, SMLAD.
 *
 * Weights ("pair16 layout", compiler): output rows padded with zero rows to a multiple of 4; per quad of
 * rows (a, b, c, d) and per group of 4 inputs x0..x3 four words:
 *   (h(a,b)[x0], h(a,b)[x2]) (h(a,b)[x1], h(a,b)[x3]) (h(c,d)[x0], h(c,d)[x2]) (h(c,d)[x1], h(c,d)[x3])
 * matching the inputs' int16 copy in the scratch (fc_expand, once per batch row, shared by all quads):
 * (x0, x2), (x1, x3) = SXTB16 of the raw input word and of it rotated by 8; then the K % 4
 * tails of a, b, c, d as plain int8 (4 * (K % 4) bytes). A quad's block is 4 * K bytes, read once in order.
 * The bias carries the folded input offset: bias'[o] = bias[o] + input_offset * sum_i w[o, i], so raw int8
 * inputs are multiplied; input_offset is ignored. Outputs of the padding rows are not stored.
 *
 * Cycle budget per group of 4 inputs x 4 rows (16 MACs): 6 pipelined LDR (7) + 4 x (SMLAD, SXTB16, SMLAD)
 * = 19, plus the flash wait states of the 16 weight bytes (2 reads of 8 bytes, 5 WS each: each weight byte
 * is read once, sequentially); the main loop runs eight groups per iteration (+ SUBS/BNE). Per quad, the
 * per-tensor epilogue (fc_store4_pt) is one asm block of about 50 cycles. */
#include "tp_fc.h"
#include "tp_dsp.h"
#include "tp_fixedpoint.h"

/* Sums of one group: ra/la = raw/low sums of row pair (a, b), rb/lb of (c, d). */
#if TP_M4_ASM
#define TP_FC_PAIR(R, L, WLO, WHI)                                                               \
    "smlad " R ", " WLO ", %[x], " R "\n\t"                                                     \
    "sxtb16 " WLO ", " WLO "\n\t"                                                               \
    "smlad " L ", " WLO ", %[x], " L "\n\t"                                                     \
    "smlad " R ", " WHI ", %[xh], " R "\n\t"                                                    \
    "sxtb16 " WHI ", " WHI "\n\t"                                                               \
    "smlad " L ", " WHI ", %[xh], " L "\n\t"
#define TP_FC_GROUP                                                                              \
    "ldr %[x], [%[xp]], #4\n\t"                                                                 \
    "ldr %[xh], [%[xp]], #4\n\t"                                                                \
    "ldr %[w0], [%[w]], #4\n\t"                                                                 \
    "ldr %[w1], [%[w]], #4\n\t"                                                                 \
    "ldr %[w2], [%[w]], #4\n\t"                                                                 \
    "ldr %[w3], [%[w]], #4\n\t"                                                                 \
    TP_FC_PAIR("%[ra]", "%[la]", "%[w0]", "%[w1]") TP_FC_PAIR("%[rb]", "%[lb]", "%[w2]", "%[w3]")
#define TP_FC_OPERANDS                                                                           \
    : [w] "+r"(w), [xp] "+r"(xp), [cnt] "+r"(cnt), [ra] "+r"(ra), [la] "+r"(la), [rb] "+r"(rb),    \
      [lb] "+r"(lb), [x] "=&r"(x_), [xh] "=&r"(xh_), [w0] "=&r"(w0_), [w1] "=&r"(w1_), [w2] "=&r"(w2_), \
      [w3] "=&r"(w3_)                                                                            \
    :                                                                                            \
    : "cc", "memory"
#endif

/* The packed groups' inputs as int16, in the weights' order: per group of 4 inputs the words (x0, x2),
 * (x1, x3) (SXTB16 of the raw word, and of it rotated by 8), shared by all quads. */
static void fc_expand(const int8_t *x, int32_t groups, int32_t *x16)
{
    for (int32_t g = groups >> 1; g > 0; --g, x += 8, x16 += 4) {   /* two groups per iteration */
        const int32_t a = tp_read_s8x4(x), b = tp_read_s8x4(x + 4);
        x16[0] = tp_sxtb16(a);
        x16[1] = tp_sxtb16_ror8(a);
        x16[2] = tp_sxtb16(b);
        x16[3] = tp_sxtb16_ror8(b);
    }
    if (groups & 1) {
        const int32_t a = tp_read_s8x4(x);
        x16[0] = tp_sxtb16(a);
        x16[1] = tp_sxtb16_ror8(a);
    }
}

/* raw/low sums over `groups` groups of 4 inputs (xp: fc_expand's words); advances *wp. Always inlined into
 * both quad loops of tp_fc_m4_s8 (an outlined copy costs a call and register spills per quad). */
__attribute__((always_inline)) static inline void fc_groups(const int8_t **wp, const int32_t *xp, int32_t groups,
                                                            int32_t *s)
{
    const int8_t *w = *wp;
    int32_t ra = s[0], la = s[1], rb = s[2], lb = s[3];
#if TP_M4_ASM
    int32_t x_, xh_, w0_, w1_, w2_, w3_, cnt = groups >> 3;
    if (cnt > 0) {
        __asm__ volatile("1:\n\t" TP_FC_GROUP TP_FC_GROUP TP_FC_GROUP TP_FC_GROUP
                         TP_FC_GROUP TP_FC_GROUP TP_FC_GROUP TP_FC_GROUP
                         "subs %[cnt], %[cnt], #1\n\t"
                         "bne 1b\n\t" TP_FC_OPERANDS);
    }
    cnt = groups & 7;
    if (__builtin_expect(cnt > 0, 0)) {   /* rare in practice: keep the common path straight */
        __asm__ volatile("1:\n\t" TP_FC_GROUP
                         "subs %[cnt], %[cnt], #1\n\t"
                         "bne 1b\n\t" TP_FC_OPERANDS);
    }
#else
    for (int32_t g = groups; g > 0; --g) {
        const int32_t x = xp[0], xh = xp[1];
        const int32_t w0 = tp_read_s8x4(w), w1 = tp_read_s8x4(w + 4);
        const int32_t w2 = tp_read_s8x4(w + 8), w3 = tp_read_s8x4(w + 12);
        ra = tp_smlad(w1, xh, tp_smlad(w0, x, ra));
        la = tp_smlad(tp_sxtb16(w1), xh, tp_smlad(tp_sxtb16(w0), x, la));
        rb = tp_smlad(w3, xh, tp_smlad(w2, x, rb));
        lb = tp_smlad(tp_sxtb16(w3), xh, tp_smlad(tp_sxtb16(w2), x, lb));
        xp += 2;
        w += 16;
    }
#endif
    s[0] = ra;
    s[1] = la;
    s[2] = rb;
    s[3] = lb;
    *wp = w;
}

/* q.x of a row pair from its raw and low sums (see the top comment). */
static inline int32_t fc_high(int32_t raw, int32_t low)
{
    return (int32_t)((uint32_t)raw - (uint32_t)low) >> 8;
}

/* The K % 4 tails (plain int8, r per row) into the sums: p's products go to both sums of its pair, q's
 * times 256 to the raw sum only (so fc_high still gives q.x, exact under the same bound). */
static inline void fc_tails(const int8_t *w, const int8_t *xp, int32_t r, int32_t *s)
{
    if (__builtin_expect(r == 0, 1)) {
        return;
    }
    for (int32_t i = 0; i < r; ++i, ++w) {
        const int32_t v = xp[i], pa = w[0] * v, pb = w[2 * r] * v;
        s[0] = (int32_t)((uint32_t)s[0] + (uint32_t)pa + ((uint32_t)(w[r] * v) << 8));
        s[1] += pa;
        s[2] = (int32_t)((uint32_t)s[2] + (uint32_t)pb + ((uint32_t)(w[3 * r] * v) << 8));
        s[3] += pb;
    }
}

/* Generic requantization of output o (any shift). */
static int8_t fc_out(const tp_fc_s8_t *op, int32_t acc, int32_t o)
{
    const int32_t q = op->per_channel ? o : 0;
    return (int8_t)tp_clamp(tp_requant_m4(acc, op->multiplier[q], op->shift[q]) + op->output_offset,
                            op->act_min, op->act_max);
}

/* Folded requantization (tp_requant_rs: shift <= -1, rs1 = -shift - 1, off21 = 2 * offset + 1) with the
 * final halving and the int8 saturation in one SSAT: 7 instructions (bias add included). */
static inline int32_t fc_rq(int32_t acc, int32_t m, int32_t rs1, int32_t off21)
{
    int32_t v = tp_smmulr(acc * 2, m);
    v = ((v + (v >> 31)) >> rs1) + off21;
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    __asm__("ssat %0, #8, %1, asr #1" : "=r"(v) : "r"(v));
    return v;
#else
    return tp_clamp(v >> 1, -128, 127);
#endif
}

/* Four int8 values (in [-128, 127]) packed into one word and clamped to [lo, hi] bytewise (lo4/hi4: lo/hi
 * in every byte): BFI x3, then SSUB8 + SEL for each bound (7 instructions, one STR instead of 4 STRB). */
static inline uint32_t fc_pack4(int32_t v0, int32_t v1, int32_t v2, int32_t v3, uint32_t lo4, uint32_t hi4)
{
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    uint32_t w = (uint32_t)v0, t;
    __asm__("bfi %[w], %[v1], #8, #8\n\t"
            "bfi %[w], %[v2], #16, #8\n\t"
            "bfi %[w], %[v3], #24, #8\n\t"
            "ssub8 %[t], %[w], %[lo]\n\t"
            "sel %[w], %[w], %[lo]\n\t"
            "ssub8 %[t], %[hi], %[w]\n\t"
            "sel %[w], %[w], %[hi]"
            : [w] "+&r"(w), [t] "=&r"(t)
            : [v1] "r"(v1), [v2] "r"(v2), [v3] "r"(v3), [lo] "r"(lo4), [hi] "r"(hi4)
            : "cc");
    return w;
#else
    const int32_t lo = (int8_t)(lo4 & 0xFFu), hi = (int8_t)(hi4 & 0xFFu);
    return (uint32_t)(uint8_t)tp_clamp(v0, lo, hi) | (uint32_t)(uint8_t)tp_clamp(v1, lo, hi) << 8 |
           (uint32_t)(uint8_t)tp_clamp(v2, lo, hi) << 16 | (uint32_t)(uint8_t)tp_clamp(v3, lo, hi) << 24;
#endif
}

/* Per-tensor parameters of the folded requantization, in SRAM (the weight stream evicts flash data from
 * the ART data cache): multiplier, rs1 = -shift - 1 (shift <= -1), off21 = 2 * output_offset + 1, and the
 * clamp bounds in every byte. */
typedef struct {
    int32_t m, rs1, off21;
    uint32_t lo4, hi4;
} fc_rq_t;

#if TP_M4_ASM
/* Requantize V (fc_rq) with [m], [rs], [off] in registers. */
#define TP_FC_RQ(V)                                                                              \
    "lsl " V ", " V ", #1\n\t"                                                                  \
    "smmulr " V ", " V ", %[m]\n\t"                                                             \
    "add " V ", " V ", " V ", asr #31\n\t"                                                      \
    "asr " V ", " V ", %[rs]\n\t"                                                               \
    "add " V ", " V ", %[off]\n\t"                                                              \
    "ssat " V ", #8, " V ", asr #1\n\t"
#endif

/* Four outputs of a quad, per-tensor quantization: q sums, bias, requantization, clamp, one STR (about 50
 * cycles; the same as fc_pack4 of four fc_rq). s: raw/low sums of the two row pairs. */
static inline void fc_store4_pt(int8_t *out, const int32_t *s, const int32_t *bias, const fc_rq_t *p)
{
#if TP_M4_ASM
    int32_t ra = s[0], la = s[1], rb = s[2], lb = s[3], m, rs, off, t;
    __asm__ volatile(
        "ldr %[t], [%[b]]\n\t"
        "ldr %[m], [%[b], #4]\n\t"
        "ldr %[rs], [%[b], #8]\n\t"
        "ldr %[off], [%[b], #12]\n\t"
        "sub %[ra], %[ra], %[la]\n\t"
        "sub %[rb], %[rb], %[lb]\n\t"
        "add %[la], %[la], %[t]\n\t"
        "add %[ra], %[m], %[ra], asr #8\n\t"
        "add %[lb], %[lb], %[rs]\n\t"
        "add %[rb], %[off], %[rb], asr #8\n\t"
        "ldr %[m], [%[p]]\n\t"
        "ldr %[rs], [%[p], #4]\n\t"
        "ldr %[off], [%[p], #8]\n\t"
        TP_FC_RQ("%[la]") TP_FC_RQ("%[ra]") TP_FC_RQ("%[lb]") TP_FC_RQ("%[rb]")
        "ldr %[m], [%[p], #12]\n\t"
        "ldr %[rs], [%[p], #16]\n\t"
        "bfi %[la], %[ra], #8, #8\n\t"
        "bfi %[la], %[lb], #16, #8\n\t"
        "bfi %[la], %[rb], #24, #8\n\t"
        "ssub8 %[t], %[la], %[m]\n\t"
        "sel %[la], %[la], %[m]\n\t"
        "ssub8 %[t], %[rs], %[la]\n\t"
        "sel %[la], %[la], %[rs]\n\t"
        "str %[la], [%[o]]\n\t"
        : [ra] "+&r"(ra), [la] "+&r"(la), [rb] "+&r"(rb), [lb] "+&r"(lb), [m] "=&r"(m), [rs] "=&r"(rs),
          [off] "=&r"(off), [t] "=&r"(t)
        : [b] "r"(bias), [p] "r"(p), [o] "r"(out)
        : "cc", "memory");
#else
    const uint32_t word = fc_pack4(fc_rq(s[1] + bias[0], p->m, p->rs1, p->off21),
                                   fc_rq(fc_high(s[0], s[1]) + bias[1], p->m, p->rs1, p->off21),
                                   fc_rq(s[3] + bias[2], p->m, p->rs1, p->off21),
                                   fc_rq(fc_high(s[2], s[3]) + bias[3], p->m, p->rs1, p->off21), p->lo4,
                                   p->hi4);
    __builtin_memcpy(out, &word, 4);
#endif
}

tp_status tp_fc_m4_s8(const tp_fc_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch)
{
    const int32_t k = op->accum_depth, n = op->output_depth, groups = k >> 2, r = k & 3;
    if (op->weights_offset != 0 || !op->bias) {
        return TP_ERR_ARG;
    }
    const int32_t off21 = 2 * op->output_offset + 1;
    const uint32_t lo4 = 0x01010101u * (uint8_t)op->act_min, hi4 = 0x01010101u * (uint8_t)op->act_max;
    int32_t right_shifts = 1;                     /* every shift <= -1: the folded requantization */
    for (int32_t i = 0; i < (op->per_channel ? n : 1); ++i) {
        right_shifts &= op->shift[i] < 0;
    }
    const fc_rq_t prm = {op->multiplier[0], ~op->shift[0], off21, lo4, hi4};
    /* op fields in locals: the asm blocks clobber memory, and the op struct is in flash */
    const int32_t *const bias0 = op->bias, *const mult = op->multiplier, *const shift = op->shift;
    const int8_t *const weights = op->weights;
    const int32_t batches = op->batches;
    /* full quads: 0 = per-tensor asm epilogue, 1 = per-channel folded, 2 = generic requantization */
    const int32_t mode = !right_shifts ? 2 : op->per_channel ? 1 : 0;
    const int32_t n_fast = mode == 0 ? n & ~3 : 0;   /* outputs of the per-tensor loop (full quads) */
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *x = input + b * k;
        int8_t *out = output + b * n;
        const int8_t *w = weights;
        int32_t *const x16 = (int32_t *)(void *)scratch;
        fc_expand(x, groups, x16);
        for (int32_t o = 0; o < n_fast; o += 4) {
            int32_t s[4] = {0, 0, 0, 0};   /* raw/low sums of row pairs (o, o + 1), (o + 2, o + 3) */
            fc_groups(&w, x16, groups, s);
            fc_tails(w, x + 4 * groups, r, s);
            w += 4 * r;
            fc_store4_pt(out + o, s, bias0 + o, &prm);
        }
        for (int32_t o = n_fast; o < n; o += 4) {
            int32_t s[4] = {0, 0, 0, 0};
            fc_groups(&w, x16, groups, s);
            fc_tails(w, x + 4 * groups, r, s);
            w += 4 * r;
            const int32_t *bias = bias0 + o;
            if (mode == 1 && n - o >= 4) {
                const int32_t *mp = mult + o, *sp = shift + o;
                const uint32_t word = fc_pack4(fc_rq(s[1] + bias[0], mp[0], ~sp[0], off21),
                                               fc_rq(fc_high(s[0], s[1]) + bias[1], mp[1], ~sp[1], off21),
                                               fc_rq(s[3] + bias[2], mp[2], ~sp[2], off21),
                                               fc_rq(fc_high(s[2], s[3]) + bias[3], mp[3], ~sp[3], off21), lo4,
                                               hi4);
                __builtin_memcpy(out + o, &word, 4);
                continue;
            }
            const int32_t acc[4] = {s[1], fc_high(s[0], s[1]), s[3], fc_high(s[2], s[3])};
            for (int32_t j = 0; j < 4 && o + j < n; ++j) {
                out[o + j] = fc_out(op, acc[j] + bias[j], o + j);
            }
        }
    }
    return TP_OK;
}
