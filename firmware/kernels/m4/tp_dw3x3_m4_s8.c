/* Cortex-M4 3x3 DEPTHWISE_CONV_2D, stride 1 or 2 (both axes equal), depth_multiplier 1, dilation 1.
 *
 * Channel-planar int16 bands. For a group of four channels the kernel sign-extends a band of up to DW_NR
 * input rows into int16 (x + input_offset), zero in the padding (padding then contributes 0, exactly as the
 * reference skips it; no input-offset folding). Plane layout, four channels interleaved word by word:
 * word (k, row, c) = positions (2k, 2k + 1) of that row of channel c at planes[(k * DW_NR + row) * 4 + c];
 * the rows of a window are 16 bytes apart and the next position pair 160 bytes on (immediate offsets).
 * Per channel the weights stay in six registers, doubled and pre-paired by the compiler as W01 = (w0, w1),
 * W12 = (w1, w2) per kernel row, and each step computes two adjacent outputs per output row with SMLAD:
 *   stride 1, A = (x0, x1), B = (x2, x3): out0 = SMLAD(A, W01) + SMLABT(B, W12)   (x2 w2)
 *                                        out1 = SMLATB(A, W01) + SMLAD(B, W12)   (x1 w0; x2 w1 + x3 w2)
 *   stride 2, C = (x4, x5):               out0 = SMLAD(A, W01) + SMLABT(B, W12)
 *                                        out1 = SMLAD(B, W01) + SMLABT(C, W12)
 * for two output rows at once (2x2 block: 24 multiply instructions for 36 MACs, 44 cycles at stride 1,
 * ~56 at stride 2; a single last row takes a 1x2 loop). Per channel the MAC loops of all the band's row
 * pairs run first, storing each 2x2 block as four consecutive accumulators (2 * acc without the bias), then
 * one pass requantizes them with the channel's constants in registers (~7.3 cycles an output):
 *   out = SSAT8(SMMLAR(2 (acc + bias), m, kh - (acc < 0)) >> r), kh = 2^(r-1) + zp * 2^r, r = -shift >= 1,
 * which is RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc, m), r) + zp exactly: SMMLAR(2 acc, m,
 * K) = K + floor((2 acc m + 2^31) / 2^32) = K + SRDHM(acc, m) for |acc| < 2^30, and nested floors fold the
 * rounding, the zero point and the sign correction of RoundingDivideByPOT into K (the compiler checks
 * |acc| < 2^30, every shift in [-23, -1], |kh| < 2^30; it stores m, kh, r and 2 * bias with the weights, one
 * 40-byte record per channel). When act_min >= zp the sign correction is dropped: it only changes results
 * <= zp, which clamp to act_min either way. SSAT clamps to [-128, 127], so the asm build takes only act_min =
 * -128, act_max = 127 (the compiler checks it; other layers keep tp_dwconv_m4_s8).
 * Orientation: the pairs run along the longer output axis (KWS 25x5: along H, the image read transposed).
 * One asm call runs a channel group (four channels) over a band (~0.8 KB of code); for small images the
 * driver fills the planes of a batch of groups first, then runs their bands (no C/fill code in between: the
 * band code stays in the 1 KB I-cache). The fill of the interior columns is asm too, the rest is C.
 */
#include "tp_dwconv.h"
#include "tp_dsp.h"

#define DW_NR 10  /* input rows per band: 8 output rows at stride 1, 4 at stride 2 */
#define DW_G 4    /* channels per band, interleaved word by word in the planes */
#define DW_KW (DW_G * DW_NR)   /* plane words between position pairs k and k + 1 (40: 160 bytes) */
#define DW_ACC_ALIGN 512   /* the accumulators (16 bytes a pair, <= 32 pairs) end on this boundary */


/* The layer seen along its pair axis L (outputs computed two at a time) and row axis S. */
typedef struct {
    int32_t in_l, in_s, out_l, out_s, pad_l, pad_s, stride;
    int32_t in_step_l, in_step_s;     /* input bytes between neighbours along L / S */
    int32_t out_step_l, out_step_s;   /* output bytes between neighbours along L / S */
    int32_t transposed;               /* L is the H axis */
    int32_t pairs, words;             /* output pairs and plane words per row */
    int32_t band, band_pairs;         /* output rows per band (at most), row pairs in a band (at most) */
} dw_geo;

static void dw_geometry(const tp_dwconv_s8_t *op, dw_geo *g)
{
    const int32_t ch = op->input.c, st = op->conv.stride_h;
    const int32_t oh = op->output.h, ow = op->output.w;
    /* pairs along the longer output axis: fewer row pairs and bands */
    g->transposed = oh > ow;
    if (g->transposed) {
        g->in_l = op->input.h, g->in_s = op->input.w, g->out_l = oh, g->out_s = ow;
        g->pad_l = op->conv.pad_h, g->pad_s = op->conv.pad_w;
        g->in_step_l = op->input.w * ch, g->in_step_s = ch;
        g->out_step_l = ow * ch, g->out_step_s = ch;
    } else {
        g->in_l = op->input.w, g->in_s = op->input.h, g->out_l = ow, g->out_s = oh;
        g->pad_l = op->conv.pad_w, g->pad_s = op->conv.pad_h;
        g->in_step_l = ch, g->in_step_s = op->input.w * ch;
        g->out_step_l = ch, g->out_step_s = ow * ch;
    }
    g->stride = st;
    g->pairs = (g->out_l + 1) / 2;
    g->words = st == 1 ? g->pairs + 1 : 2 * g->pairs + 1;
    g->band = st == 1 ? DW_NR - 2 : (DW_NR - 1) / 2;
    g->band_pairs = ((g->out_s < g->band ? g->out_s : g->band) + 1) / 2;
}

/* Scratch after the planes: the row pairs' accumulators DW_ACC_ALIGN apart, the first ending on the first
 * DW_ACC_ALIGN boundary at least 16 * pairs bytes after the planes. */
static int32_t dw_acc_bytes(const dw_geo *g)
{
    return DW_ACC_ALIGN * (g->band_pairs + 1);
}

/* The minimum (the planes of one channel group); a larger scratch holds the planes of more groups, filled
 * together before their MAC loops (fewer code switches for small images). */
int32_t tp_dw3x3_scratch_bytes(const tp_dwconv_s8_t *op)
{
    dw_geo g;
    dw_geometry(op, &g);
    return 4 * DW_KW * g.words + dw_acc_bytes(&g);
}

/* Plane words (k, row) of channels c..c+3 from the input pixels v0 (position 2k) and v1 (2k + 1), four
 * channels each; off2 = the input offset in both halves. */
static inline void dw_put4(int32_t *p, int32_t v0, int32_t v1, int32_t off2)
{
    const int32_t e0 = tp_sxtab16(off2, v0), o0 = tp_sxtab16_ror8(off2, v0);   /* (c0, c2), (c1, c3) */
    const int32_t e1 = tp_sxtab16(off2, v1), o1 = tp_sxtab16_ror8(off2, v1);
    p[0] = tp_pkhbt16(e0, e1);
    p[1] = tp_pkhbt16(o0, o1);
    p[2] = tp_pkhtb16(e1, e0);
    p[3] = tp_pkhtb16(o1, o0);
}

/* One fill step: the 4 channels of two input words (x0, x1), offset added (SXTAB16), written as the
 * interleaved int16 planes c0 c1 c2 c3 of one position pair. */
#define DW_FILL_STEP                                                           \
        "ldr r11, [r10]\n\t"                                                   \
        "ldr r12, [r10, r2]\n\t"                                               \
        "add r10, r10, r3\n\t"                                                 \
        "sxtab16 r9, r7, r11\n\t"                        /* (c0, c2) at x0 */  \
        "sxtab16 r11, r7, r11, ror #8\n\t"               /* (c1, c3) at x0 */  \
        "sxtab16 r8, r7, r12\n\t"                        /* (c0, c2) at x1 */  \
        "sxtab16 r12, r7, r12, ror #8\n\t"               /* (c1, c3) at x1 */  \
        "pkhbt r0, r9, r8, lsl #16\n\t"                                        \
        "str r0, [r4], #16\n\t"                          /* c0 */              \
        "pkhtb r8, r8, r9, asr #16\n\t"                                        \
        "str r8, [r4, #-8]\n\t"                          /* c2 */              \
        "pkhbt r0, r11, r12, lsl #16\n\t"                                      \
        "str r0, [r4, #-12]\n\t"                         /* c1 */              \
        "pkhtb r12, r12, r11, asr #16\n\t"                                     \
        "str r12, [r4, #-4]\n\t"                         /* c3 */

/* Interior columns of a fill: nk column pairs of rows input rows each, both positions inside the image. */
typedef struct {
    const int8_t *col;     /*  0: first row of the first pair's left position */
    int32_t step;          /*  4: input bytes between the two positions of a pair */
    int32_t rstep;         /*  8: input bytes between rows */
    int32_t *q;            /* 12: plane word (k, first row, channel 0) */
    int32_t rows;          /* 16: >= 1 */
    int32_t nk;            /* 20: >= 1 */
    int32_t off2;          /* 24: input offset in both halves */
    int32_t colstep;       /* 28: 2 * step */
    int32_t qskip;         /* 32: plane bytes from after the last row of a pair to the next pair */
} dw_cols;

#if TP_M4_ASM
/* ~18 cycles a row (8 values), two rows per loop (an odd count enters at the second), ~10 a column pair;
 * the column loop's constants stay on the stack. */
__attribute__((naked)) static void dw_fill_cols(const dw_cols *f __attribute__((unused)))
{
    __asm__ volatile(
        "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
        "sub sp, sp, #12\n\t"
        "ldr r8, [r0, #28]\n\t"
        "ldr r9, [r0, #32]\n\t"
        "strd r8, r9, [sp]\n\t"                          /* colstep, qskip */
        "ldmia r0, {r1, r2, r3, r4, r5, r6, r7}\n"       /* col, step, rstep, q, rows, nk, off2 */
        "1:\n\t"
        "mov r10, r1\n\t"
        "adds lr, r5, #1\n\t"
        "lsrs lr, lr, #1\n\t"                            /* (rows + 1) / 2 loops; C clear: rows odd */
        "bcc 3f\n"
        "2:\n\t"
        DW_FILL_STEP
        "3:\n\t"
        DW_FILL_STEP
        "subs lr, lr, #1\n\t"
        "bne 2b\n\t"
        "ldrd r8, r9, [sp]\n\t"
        "add r1, r1, r8\n\t"
        "add r4, r4, r9\n\t"
        "subs r6, r6, #1\n\t"
        "bne 1b\n\t"
        "add sp, sp, #12\n\t"
        "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}
#else
static void dw_fill_cols(const dw_cols *f)
{
    const int8_t *col = f->col;
    int32_t *q = f->q;
    for (int32_t k = 0; k < f->nk; ++k, col += f->colstep, q += f->qskip / 4) {
        const int8_t *a = col;
        for (int32_t rho = 0; rho < f->rows; ++rho, q += 4, a += f->rstep) {
            dw_put4(q, tp_read_s8x4(a), tp_read_s8x4(a + f->step), f->off2);
        }
    }
}
#endif

/* Input rows [r_lo, r_hi) of the band [s0, s0 + rows) (padded coordinates) that lie inside the image. */
static void dw_band_rows(const dw_geo *g, int32_t s0, int32_t rows, int32_t *r_lo, int32_t *r_hi)
{
    int32_t lo = g->pad_s - s0, hi = g->in_s + g->pad_s - s0;
    lo = lo < 0 ? 0 : (lo > rows ? rows : lo);
    hi = hi < lo ? lo : (hi > rows ? rows : hi);
    *r_lo = lo;
    *r_hi = hi;
}

/* The fill of a band, the same for every channel group (offsets from the group's first input byte and plane
 * word): the interior column pairs (both positions in the image: dw_fill_cols) and the at most two edge
 * pairs (one position in). The rows outside the image stay zero from dw_zero_pad; a position outside the
 * row reads the pad word (four bytes of -offset, 0 after the add). */
typedef struct {
    dw_cols mid;              /* col and q set per group; nk = 0: no interior pair */
    int32_t mid_col, mid_q;   /* the interior's input byte and plane word offsets */
    int32_t rows, n_edge;
    int32_t e_q[2], e_a[2], e_b[2];   /* edge pairs: plane word offset, input byte offsets (-1: pad word) */
} dw_plan;

static void dw_plan_band(const dw_geo *g, int32_t s0, int32_t r_lo, int32_t r_hi, int32_t off2, dw_plan *pl)
{
    const int32_t step = g->in_step_l, rstep = g->in_step_s;
    const int32_t row0 = (s0 + r_lo - g->pad_s) * rstep;
    const int32_t k_lo = (g->pad_l + 1) / 2;                         /* first pair with both positions in */
    int32_t k_hi = (g->in_l + g->pad_l) / 2;                         /* end of those pairs */
    k_hi = k_hi > g->words ? g->words : k_hi;
    pl->rows = r_hi - r_lo;
    pl->mid = (dw_cols){NULL, step, rstep, NULL, pl->rows, pl->rows > 0 && k_hi > k_lo ? k_hi - k_lo : 0, off2,
                        2 * step, 4 * (DW_KW - 4 * pl->rows)};
    pl->mid_col = row0 + (2 * k_lo - g->pad_l) * step;
    pl->mid_q = k_lo * DW_KW + 4 * r_lo;
    pl->n_edge = 0;
    for (int32_t k = 0; k < g->words && pl->rows > 0; ++k) {
        const int32_t x0 = 2 * k - g->pad_l, x1 = x0 + 1;
        const int32_t in0 = x0 >= 0 && x0 < g->in_l, in1 = x1 >= 0 && x1 < g->in_l;
        if (in0 != in1 && pl->n_edge < 2) {          /* the two borders; both in: interior; none: zero */
            pl->e_q[pl->n_edge] = k * DW_KW + 4 * r_lo;
            pl->e_a[pl->n_edge] = in0 ? row0 + x0 * step : -1;
            pl->e_b[pl->n_edge] = in1 ? row0 + x1 * step : -1;
            ++pl->n_edge;
        }
    }
}

/* Sign-extend the band's input rows into the planes of channels c..c+3 (in, planes: the group's), (x +
 * offset) int16 per position (~2.3 cycles a value inside, ~2.8 at the edges). */
static void dw_fill4(dw_plan *pl, const dw_geo *g, const int8_t *in, int32_t *planes, int32_t off2, int32_t pad)
{
    if (pl->mid.nk > 0) {
        pl->mid.col = in + pl->mid_col;
        pl->mid.q = planes + pl->mid_q;
        dw_fill_cols(&pl->mid);
    }
    const int8_t *padp = (const int8_t *)&pad;
    for (int32_t e = 0; e < pl->n_edge; ++e) {
        const int8_t *a = pl->e_a[e] >= 0 ? in + pl->e_a[e] : padp, *b = pl->e_b[e] >= 0 ? in + pl->e_b[e] : padp;
        const int32_t sa = pl->e_a[e] >= 0 ? g->in_step_s : 0, sb = pl->e_b[e] >= 0 ? g->in_step_s : 0;
        int32_t *q = planes + pl->e_q[e];
        for (int32_t rho = 0; rho < pl->rows; ++rho, q += 4, a += sa, b += sb) {
            dw_put4(q, tp_read_s8x4(a), tp_read_s8x4(b), off2);
        }
    }
}

/* Zero plane rows [r0, r1) of a column pair (four channels). */
static void dw_zero_rows(int32_t *q, int32_t r0, int32_t r1)
{
    for (int32_t r = r0; r < r1; ++r) {
        q[4 * r] = q[4 * r + 1] = q[4 * r + 2] = q[4 * r + 3] = 0;
    }
}

/* Zero what the fills of a band leave unwritten and the MAC loops read, in n groups' planes: the rows [0,
 * r_lo) and [r_hi, rows) of every column pair (padding rows, or rows of an earlier band) and the column pairs
 * with both positions in the padding. */
static void dw_zero_pad(const dw_geo *g, int32_t *planes, int32_t n, int32_t r_lo, int32_t r_hi, int32_t rows)
{
    for (int32_t k = 0; k < g->words; ++k) {
        const int32_t x0 = 2 * k - g->pad_l;
        const int32_t outside = x0 + 1 < 0 || x0 >= g->in_l;
        for (int32_t j = 0; j < n; ++j) {
            int32_t *q = planes + (j * g->words + k) * DW_KW;
            if (outside) {
                dw_zero_rows(q, 0, rows);
            } else {
                dw_zero_rows(q, 0, r_lo);
                dw_zero_rows(q, r_hi, rows);
            }
        }
    }
}

/* Same for fewer than four channels (n < 4), one byte at a time; the absent channels' words are unused. */
static void dw_fill_tail(const dw_geo *g, const int8_t *in, int32_t *planes, int32_t s0, int32_t rows, int32_t n,
                         int32_t off)
{
    for (int32_t j = 0; j < n; ++j) {
        for (int32_t rho = 0; rho < rows; ++rho) {
            const int32_t ys = s0 + rho - g->pad_s;
            const int32_t inside = ys >= 0 && ys < g->in_s;
            int16_t *p = (int16_t *)(void *)(planes + 4 * rho + j);
            for (int32_t pos = 0; pos < 2 * g->words; ++pos) {
                const int32_t x = pos - g->pad_l;
                const int32_t v = inside && x >= 0 && x < g->in_l
                                ? in[ys * g->in_step_s + x * g->in_step_l + j] + off : 0;
                const int16_t v16 = (int16_t)v;
                __builtin_memcpy(p + (pos >> 1) * 2 * DW_KW + (pos & 1), &v16, 2);
            }
        }
    }
}

/* The channels of a group over one band, read by the asm by offset (keep the order). Per channel, output
 * rows go in pairs: the MAC loop computes a 2x2 block of outputs per step and stores it as four consecutive
 * accumulators (row 0 left, right, row 1 left, right; a single last row stores the first two of each four),
 * row pair j's blocks ending on the DW_ACC_ALIGN boundary acc_end + j * DW_ACC_ALIGN (the loop end); after
 * all row pairs, one loop requantizes them block by block. The channel record (the compiler's layout,
 * DW_REC words): {W01, W12} per kernel row (int16 halves, doubled), then m, kh, r, 2 * bias. */
typedef struct {
    const int32_t *w;      /*  0: the channel's record (advances per channel) */
    const int32_t *p;      /*  4: the channel's first plane word (advances 4 bytes per channel) */
    int32_t *acc;          /*  8: first accumulator of row pair 0 */
    int32_t rows;          /* 12: output rows left (the MAC, then the requantization phase) */
    int8_t *out;           /* 16: the channel's first output (advances 1 byte per channel) */
    int32_t step_l;        /* 20: output bytes between neighbours in a row */
    int32_t step_s;        /* 24: output bytes between rows */
    int32_t out_l;         /* 28: outputs per row */
    int32_t rows0;         /* 32: output rows of the band */
    int32_t nch;           /* 36: channels left, >= 1 */
    int32_t p_adv;         /* 40: plane bytes from the end of a row pair's MAC loop to the next row pair */
    int32_t corr;          /* 44: act_min < output zero point: the asm needs the sign correction */
    int32_t out_adv;       /* 48: output bytes from after a row pair's last block to the next row pair */
    int32_t acc_adv;       /* 52: DW_ACC_ALIGN - 16 * pairs: accumulator bytes between row pairs */
} dw_job;
#define DW_REC 10          /* int32 words per channel record */

#if TP_M4_ASM
/* Requantize accumulator A (+ bias r8; m r5, kh r6, r r7) up to the shift. With CORR the sign correction of
 * RoundingDivideByPOT (r12 scratch); without it only valid when act_min >= the output zero point (then
 * every output it changes is clamped to act_min anyway). */
#define DW_RQ1_CORR(A)                                                                         \
    "add " A ", " A ", r8\n\t"                                                                 \
    "add r12, r6, " A ", asr #31\n\t"                                                          \
    "smmlar " A ", " A ", r5, r12\n\t"
#define DW_RQ1_FAST(A)                                                                         \
    "add " A ", " A ", r8\n\t"                                                                 \
    "smmlar " A ", " A ", r5, r6\n\t"
/* One 2x2 block (r0 r9: row 0 at r2, r2 + r3; r10 r11: row 1 at lr, lr + r3), 27 cycles. */
#define DW_RQ2X2_ASM(RQ1)                                                                      \
    "ldmia r1!, {r0, r9, r10, r11}\n\t"                                                        \
    RQ1("r0") RQ1("r9") RQ1("r10") RQ1("r11")                                                  \
    "asr r0, r0, r7\n\t"                                                                       \
    "asr r9, r9, r7\n\t"                                                                       \
    "asr r10, r10, r7\n\t"                                                                     \
    "asr r11, r11, r7\n\t"                                                                     \
    "ssat r0, #8, r0\n\t"                                                                      \
    "ssat r9, #8, r9\n\t"                                                                      \
    "ssat r10, #8, r10\n\t"                                                                    \
    "ssat r11, #8, r11\n\t"                                                                    \
    "strb r0, [r2]\n\t"                                                                        \
    "strb r9, [r2, r3]\n\t"                                                                    \
    "strb r10, [lr]\n\t"                                                                       \
    "strb r11, [lr, r3]\n\t"                                                                   \
    "add r2, r2, r3, lsl #1\n\t"                                                               \
    "add lr, lr, r3, lsl #1\n\t"

/* Channel start: W0..W5 in r4..r9, p r0, acc r1; a single row takes the 1x2 loop at 9:. MAC registers:
 * A r2, B r3, a0 r10, a1 r11 (output row 0), a2 r12, a3 lr (output row 1). */
#define DW_CHANNEL_SETUP_ASM                                                                   \
    "push {r0, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n"                                        \
    "0:\n\t"                                                                                   \
    "ldr r12, [sp]\n\t"                                                                        \
    "ldr r11, [r12]\n\t"                                                                       \
    "ldmia r11, {r4, r5, r6, r7, r8, r9}\n\t"                                                  \
    "ldr r0, [r12, #4]\n\t"                                                                    \
    "ldr r1, [r12, #8]\n\t"                                                                    \
    "ldr r2, [r12, #32]\n\t"                                                                   \
    "str r2, [r12, #12]\n\t"                                                                   \
    "cmp r2, #1\n\t"                                                                           \
    "beq 9f\n"

/* Accumulators of a step to the block (the first two only for a single row); loop until acc reaches the
 * DW_ACC_ALIGN boundary (acc is a multiple of 16: bits 4..8 clear). */
#define DW_STORE4_ASM                                                                          \
    "str r10, [r1], #16\n\t"             /* single STRs: 1 cycle each (STM: 1 + N) */          \
    "str r11, [r1, #-12]\n\t"                                                                  \
    "str r12, [r1, #-8]\n\t"                                                                   \
    "str lr, [r1, #-4]\n\t"                                                                    \
    "tst r1, #0x1f0\n\t"                                                                       \
    "bne 1b\n\t"
#define DW_STORE2_ASM                                                                          \
    "str r10, [r1], #16\n\t"                                                                   \
    "str r11, [r1, #-12]\n\t"                                                                  \
    "tst r1, #0x1f0\n\t"                                                                       \
    "bne 9b\n"

/* After a row pair's 2x2 loop: the next row pair (2x2 at 1:, a single last row at 9:, placed next), or the
 * requantization (20:) after the last. ~14 cycles. */
#define DW_PAIR_NEXT_ASM                                                                       \
    "ldr r12, [sp]\n\t"                                                                        \
    "ldr r2, [r12, #12]\n\t"                                                                   \
    "ldr r3, [r12, #40]\n\t"                                                                   \
    "ldr r10, [r12, #52]\n\t"                                                                  \
    "add r0, r0, r3\n\t"                                                                       \
    "add r1, r1, r10\n\t"                                                                      \
    "subs r2, r2, #2\n\t"                                                                      \
    "str r2, [r12, #12]\n\t"                                                                   \
    "beq 20f\n\t"                                                                              \
    "cmp r2, #1\n\t"                                                                           \
    "bne 1b\n"

/* Requantize the channel's row pairs (blocks, then a half block for an odd row length: the left column of
 * both rows; a single last row two by two), then the next channel of the group (record, planes, output) or
 * return. Registers: r1 acc, r2 out row 0, lr out row 1, r3 step_l, r4 count, r5..r8 m kh r bias2. */
#define DW_REQUANT_ASM                                                                         \
    "20:\n\t"                                                                                  \
    "ldr r12, [sp]\n\t"                                                                        \
    "ldr r11, [r12]\n\t"                                                                       \
    "ldr r2, [r12, #16]\n\t"                                                                   \
    "ldr lr, [r12, #24]\n\t"                                                                   \
    "ldr r1, [r12, #8]\n\t"                                                                    \
    "ldr r3, [r12, #20]\n\t"                                                                   \
    "ldr r0, [r12, #32]\n\t"                                                                   \
    "add r11, r11, #24\n\t"                                                                    \
    "ldmia r11, {r5, r6, r7, r8}\n\t"     /* m, kh, r, bias2 from the record */                \
    "add lr, lr, r2\n\t"                                                                       \
    "str r0, [r12, #12]\n"                                                                     \
    "27:\n\t"                                                                                  \
    "ldr r4, [r12, #12]\n\t"                                                                   \
    "ldr r0, [r12, #44]\n\t"                                                                   \
    "cmp r4, #1\n\t"                                                                           \
    "beq 30f\n\t"                                                                              \
    "ldr r4, [r12, #28]\n\t"                                                                   \
    "subs r4, r4, #2\n\t"                                                                      \
    "blt 24f\n\t"                                                                              \
    "cmp r0, #0\n\t"                                                                           \
    "bne 22f\n\t"                                                                              \
    "tst r4, #2\n\t"                    /* blocks two per loop; an odd count enters at 23: */  \
    "beq 23f\n\t"                                                                              \
    "subs r4, r4, #2\n\t"                                                                      \
    ".p2align 2\n"                       /* 32-bit loop heads word-aligned: no refill extra */ \
    "21:\n\t"                                                                                  \
    DW_RQ2X2_ASM(DW_RQ1_FAST)                                                                  \
    "23:\n\t"                                                                                  \
    DW_RQ2X2_ASM(DW_RQ1_FAST)                                                                  \
    "subs r4, r4, #4\n\t"                                                                      \
    "bge 21b\n\t"                                                                              \
    "add r4, r4, #2\n\t"                                                                       \
    "b 24f\n\t"                                                                                \
    ".p2align 2\n"                                                                             \
    "22:\n\t"                                                                                  \
    DW_RQ2X2_ASM(DW_RQ1_CORR)                                                                  \
    "subs r4, r4, #2\n\t"                                                                      \
    "bge 22b\n"                                                                                \
    "24:\n\t"                                                                                  \
    "adds r4, r4, #2\n\t"                                                                      \
    "beq 26f\n\t"                                                                              \
    "ldmia r1!, {r0, r9, r10, r11}\n\t"   /* half block (with the correction: valid either way) */\
    DW_RQ1_CORR("r0") DW_RQ1_CORR("r10")                                                       \
    "asr r0, r0, r7\n\t"                                                                       \
    "asr r10, r10, r7\n\t"                                                                     \
    "ssat r0, #8, r0\n\t"                                                                      \
    "ssat r10, #8, r10\n\t"                                                                    \
    "strb r0, [r2]\n\t"                                                                        \
    "strb r10, [lr]\n"                                                                         \
    "26:\n\t"                                                                                  \
    "ldr r12, [sp]\n\t"                                                                        \
    "ldr r0, [r12, #12]\n\t"                                                                   \
    "ldr r9, [r12, #48]\n\t"                                                                   \
    "ldr r10, [r12, #52]\n\t"                                                                  \
    "add r2, r2, r9\n\t"                                                                       \
    "add lr, lr, r9\n\t"                                                                       \
    "add r1, r1, r10\n\t"                                                                      \
    "subs r0, r0, #2\n\t"                                                                      \
    "str r0, [r12, #12]\n\t"                                                                   \
    "bgt 27b\n\t"                                                                              \
    "b 5f\n"                                                                                   \
    "30:\n\t"                                                                                  \
    "ldr r4, [r12, #28]\n\t"                                                                   \
    "subs r4, r4, #2\n\t"                                                                      \
    "blt 34f\n"                                                                                \
    "31:\n\t"                                                                                  \
    "ldrd r0, r9, [r1], #16\n\t"                                                               \
    DW_RQ1_CORR("r0") DW_RQ1_CORR("r9")                                                        \
    "asr r0, r0, r7\n\t"                                                                       \
    "asr r9, r9, r7\n\t"                                                                       \
    "ssat r0, #8, r0\n\t"                                                                      \
    "ssat r9, #8, r9\n\t"                                                                      \
    "strb r0, [r2]\n\t"                                                                        \
    "strb r9, [r2, r3]\n\t"                                                                    \
    "add r2, r2, r3, lsl #1\n\t"                                                               \
    "subs r4, r4, #2\n\t"                                                                      \
    "bge 31b\n"                                                                                \
    "34:\n\t"                                                                                  \
    "adds r4, r4, #2\n\t"                                                                      \
    "beq 5f\n\t"                                                                               \
    "ldr r0, [r1]\n\t"                                                                         \
    DW_RQ1_CORR("r0")                                                                          \
    "asr r0, r0, r7\n\t"                                                                       \
    "ssat r0, #8, r0\n\t"                                                                      \
    "strb r0, [r2]\n"                                                                          \
    "5:\n\t"                                                                                   \
    "ldr r12, [sp]\n\t"                                                                        \
    "ldr r1, [r12, #36]\n\t"                                                                   \
    "subs r1, r1, #1\n\t"                                                                      \
    "beq 6f\n\t"                                                                               \
    "ldr r0, [r12]\n\t"                                                                        \
    "ldr r2, [r12, #4]\n\t"                                                                    \
    "ldr r3, [r12, #16]\n\t"                                                                   \
    "add r0, r0, #40\n\t"                                                                      \
    "add r2, r2, #4\n\t"                                                                       \
    "add r3, r3, #1\n\t"                                                                       \
    "str r1, [r12, #36]\n\t"                                                                   \
    "str r0, [r12]\n\t"                                                                        \
    "str r2, [r12, #4]\n\t"                                                                    \
    "str r3, [r12, #16]\n\t"                                                                   \
    "b 0b\n"                                                                                   \
    "6:\n\t"                                                                                   \
    "pop {r0, r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t"

/* Stride 1, one kernel row KR (W01 WA, W12 WB) on plane row at OFF into the pair (X, Y): A = x0 x1,
 * B = x2 x3 loaded at p + OFF and p + 40 + OFF. FIRST starts the accumulators. */
#define DW_S1_LOAD(OFF)                                                                        \
    "ldr r2, [r0, #" OFF "]\n\t"                                                               \
    "ldr r3, [r0, #160 + " OFF "]\n\t"
#define DW_S1_MAC(WA, WB, X, Y)                                                                \
    "smlad " X ", r2, " WA ", " X "\n\t"                                                       \
    "smlatb " Y ", r2, " WA ", " Y "\n\t"                                                      \
    "smlabt " X ", r3, " WB ", " X "\n\t"                                                      \
    "smlad " Y ", r3, " WB ", " Y "\n\t"
#define DW_S1_FIRST(WA, WB, X, Y)                                                              \
    "smuad " X ", r2, " WA "\n\t"                                                              \
    "smultb " Y ", r2, " WA "\n\t"                                                             \
    "smlabt " X ", r3, " WB ", " X "\n\t"                                                      \
    "smlad " Y ", r3, " WB ", " Y "\n\t"

/* Stride 1, 2x2 outputs per step (45 cycles): plane rows 0..3 at p + 4 r (A = x0 x1) and p + 40 + 4 r
 * (B = x2 x3); row 0 feeds output row 0, rows 1 and 2 both, row 3 output row 1. 1x2: 28 cycles. */
__attribute__((naked)) static void dw_band_s1(dw_job *job __attribute__((unused)))
{
    __asm__ volatile(
        DW_CHANNEL_SETUP_ASM
        "1:\n\t"
        DW_S1_LOAD("0") DW_S1_FIRST("r4", "r5", "r10", "r11")
        DW_S1_LOAD("16") DW_S1_MAC("r6", "r7", "r10", "r11") DW_S1_FIRST("r4", "r5", "r12", "lr")
        DW_S1_LOAD("32") DW_S1_MAC("r8", "r9", "r10", "r11") DW_S1_MAC("r6", "r7", "r12", "lr")
        DW_S1_LOAD("48") DW_S1_MAC("r8", "r9", "r12", "lr")
        "add r0, r0, #160\n\t"
        DW_STORE4_ASM
        DW_PAIR_NEXT_ASM
        "9:\n\t"
        DW_S1_LOAD("0") DW_S1_FIRST("r4", "r5", "r10", "r11")
        DW_S1_LOAD("16") DW_S1_MAC("r6", "r7", "r10", "r11")
        DW_S1_LOAD("32") DW_S1_MAC("r8", "r9", "r10", "r11")
        "add r0, r0, #160\n\t"
        DW_STORE2_ASM
        DW_REQUANT_ASM);
}

/* Stride 2, kernel row on plane row OFF: A = x0 x1 (p + OFF), B = x2 x3 (p + 40 + OFF), C = x4 x5 (p + 80
 * + OFF, into A's register): X += A W01 + B.lo w2, Y += B W01 + C.lo w2. */
#define DW_S2_ROW(OFF, MUL, WA, WB, X, Y)                                                      \
    "ldr r2, [r0, #" OFF "]\n\t"                                                               \
    "ldr r3, [r0, #160 + " OFF "]\n\t"                                                         \
    MUL(X, "r2", WA)                                                                           \
    "smlabt " X ", r3, " WB ", " X "\n\t"                                                      \
    MUL(Y, "r3", WA)                                                                           \
    "ldr r2, [r0, #320 + " OFF "]\n\t"                                                          \
    "smlabt " Y ", r2, " WB ", " Y "\n\t"
/* Plane row 2, kernel row 2 of output row 0 (W4 W5 into r10 r11) and kernel row 0 of output row 1 (W0 W1,
 * starting r12 lr): loaded once. */
#define DW_S2_SHARED_ROW                                                                       \
    "ldr r2, [r0, #32]\n\t"                                                                     \
    "ldr r3, [r0, #192]\n\t"                                                                    \
    "smlad r10, r2, r8, r10\n\t"                                                               \
    "smuad r12, r2, r4\n\t"                                                                     \
    "smlabt r10, r3, r9, r10\n\t"                                                              \
    "smlabt r12, r3, r5, r12\n\t"                                                              \
    "smlad r11, r3, r8, r11\n\t"                                                               \
    "smuad lr, r3, r4\n\t"                                                                      \
    "ldr r2, [r0, #352]\n\t"                                                                    \
    "smlabt r11, r2, r9, r11\n\t"                                                              \
    "smlabt lr, r2, r5, lr\n\t"
#define DW_SMUAD(X, A, W) "smuad " X ", " A ", " W "\n\t"
#define DW_SMLAD(X, A, W) "smlad " X ", " A ", " W ", " X "\n\t"

/* Stride 2, 2x2 outputs per step (~57 cycles): plane rows 0..4; rows 0, 1 feed output row 0, row 2 both,
 * rows 3, 4 output row 1. 1x2: ~32 cycles. */
__attribute__((naked)) static void dw_band_s2(dw_job *job __attribute__((unused)))
{
    __asm__ volatile(
        DW_CHANNEL_SETUP_ASM
        "1:\n\t"
        DW_S2_ROW("0", DW_SMUAD, "r4", "r5", "r10", "r11")
        DW_S2_ROW("16", DW_SMLAD, "r6", "r7", "r10", "r11")
        DW_S2_SHARED_ROW
        DW_S2_ROW("48", DW_SMLAD, "r6", "r7", "r12", "lr")
        DW_S2_ROW("64", DW_SMLAD, "r8", "r9", "r12", "lr")
        "add r0, r0, #320\n\t"
        DW_STORE4_ASM
        DW_PAIR_NEXT_ASM
        "9:\n\t"
        DW_S2_ROW("0", DW_SMUAD, "r4", "r5", "r10", "r11")
        DW_S2_ROW("16", DW_SMLAD, "r6", "r7", "r10", "r11")
        DW_S2_ROW("32", DW_SMLAD, "r8", "r9", "r10", "r11")
        "add r0, r0, #320\n\t"
        DW_STORE2_ASM
        DW_REQUANT_ASM);
}

static void dw_band(dw_job *job, int32_t stride, int32_t lo, int32_t hi)
{
    (void)lo, (void)hi;   /* SSAT clamp only: the kernel requires [-128, 127] when built with the asm */
    if (stride == 1) {
        dw_band_s1(job);
    } else {
        dw_band_s2(job);
    }
}
#else
/* The asm's accumulator (no bias) of the output at pair p, half h (0: left, 1: right), from plane rows
 * p + 0..2 and kernel rows w. */
static int32_t dw_mac(const int32_t *p, const int32_t *w, int32_t stride, int32_t h)
{
    int32_t acc = 0;
    for (int32_t r = 0; r < 3; ++r) {
        const int32_t x = p[4 * r], y = p[DW_KW + 4 * r], z = stride == 2 ? p[2 * DW_KW + 4 * r] : 0;
        const int32_t w01 = w[2 * r], w12 = w[2 * r + 1];
        if (stride == 1) {
            acc = h ? tp_smlad(y, w12, tp_smlatb(x, w01, acc)) : tp_smlabt(y, w12, tp_smlad(x, w01, acc));
        } else {
            acc = h ? tp_smlabt(z, w12, tp_smlad(y, w01, acc)) : tp_smlabt(y, w12, tp_smlad(x, w01, acc));
        }
    }
    return acc;
}

static void dw_band(dw_job *job, int32_t stride, int32_t lo, int32_t hi)
{
    const int32_t pairs = (job->out_l + 1) / 2;
    for (int32_t ch = 0; ch < job->nch; ++ch) {
        const int32_t *w = job->w + DW_REC * ch, m = w[6], kh = w[7], r = w[8], bias2 = w[9];
        const int32_t *pp = job->p + ch;
        int8_t *po = job->out + ch;
        for (int32_t rows = job->rows0; rows > 0; rows -= 2, pp += 8 * stride, po += 2 * job->step_s) {
            /* the 2x2 blocks where the asm keeps them (row 1 computed even when absent) */
            for (int32_t j = 0; j < 2; ++j) {
                const int32_t *p = pp + 4 * j * stride;
                for (int32_t i = 0; i < pairs; ++i, p += stride * DW_KW) {
                    job->acc[4 * i + 2 * j] = dw_mac(p, w, stride, 0);
                    job->acc[4 * i + 2 * j + 1] = dw_mac(p, w, stride, 1);
                }
            }
            for (int32_t j = 0; j < 2 && j < rows; ++j) {
                int8_t *out = po + j * job->step_s;
                for (int32_t i = 0; i < job->out_l; ++i, out += job->step_l) {
                    const int32_t a = job->acc[4 * (i / 2) + 2 * j + i % 2] + bias2;
                    *out = (int8_t)tp_clamp(tp_ssat8(tp_smmlar(a, m, kh + (a >> 31)) >> r), lo, hi);
                }
            }
        }
    }
}
#endif

tp_status tp_dw3x3_s8(const tp_dwconv_s8_t *op, const int8_t *input, int8_t *output, int16_t *scratch)
{
    const tp_conv_params *p = &op->conv;
    const int32_t ch = op->input.c;
    if (op->depth_multiplier != 1 || op->filter.h != 3 || op->filter.w != 3 || p->dilation_h != 1
        || p->dilation_w != 1 || p->stride_h != p->stride_w || p->stride_h < 1 || p->stride_h > 2
        || op->output.c != ch || op->scratch_bytes < tp_dw3x3_scratch_bytes(op)
        || (op->output.h > op->output.w ? op->output.h : op->output.w) > 64
        || (TP_M4_ASM && (p->act_min != -128 || p->act_max != 127))) {
        return TP_ERR_ARG;
    }
    dw_geo g;
    dw_geometry(op, &g);
    const int32_t st = g.stride, off = p->input_offset;
    const int32_t off2 = (int32_t)(((uint32_t)(uint16_t)off) | ((uint32_t)(uint16_t)off << 16));
    const int32_t pad = (int32_t)(0x01010101u * (uint8_t)(int8_t)-off);
    const int32_t band_rows = g.band;
    int32_t *planes = (int32_t *)(void *)scratch;
    const int32_t group_words = DW_KW * g.words, groups = (ch + DW_G - 1) / DW_G;
    int32_t batch = (op->scratch_bytes - dw_acc_bytes(&g)) / (4 * group_words);   /* groups filled together */
    batch = batch > groups ? groups : batch;
    /* row pair j's accumulators (16 * pairs bytes) end on the DW_ACC_ALIGN boundary acc_end + j * DW_ACC_ALIGN
     * (the MAC loop's end test), all inside the scratch after the planes */
    const uintptr_t row_bytes = 16 * (uintptr_t)g.pairs;
    const uintptr_t acc_end = ((uintptr_t)(planes + batch * group_words) + row_bytes + DW_ACC_ALIGN - 1)
                            & ~(uintptr_t)(DW_ACC_ALIGN - 1);
    int32_t *acc = (int32_t *)(acc_end - row_bytes);
    const int32_t in_image = op->input.h * op->input.w * ch, out_image = op->output.h * op->output.w * ch;
    dw_job job = {.acc = acc, .step_l = g.out_step_l, .step_s = g.out_step_s, .out_l = g.out_l,
                  .p_adv = 32 * st - 4 * DW_KW * st * g.pairs, .corr = p->act_min < p->output_offset,
                  .out_adv = 2 * g.out_step_s - 2 * (g.out_l / 2) * g.out_step_l,
                  .acc_adv = DW_ACC_ALIGN - 16 * g.pairs};   /* the fields that change per channel are set below */
    for (int32_t n = 0; n < op->output.n; ++n) {
        const int8_t *in_b = input + n * in_image;
        int8_t *out_b = output + n * out_image;
        for (int32_t oy0 = 0; oy0 < g.out_s; oy0 += band_rows) {
            const int32_t rows_out = g.out_s - oy0 < band_rows ? g.out_s - oy0 : band_rows;
            /* input rows read: the odd last row pair still reads its absent row's inputs (discarded) */
            const int32_t rows_in = ((rows_out + 1) / 2 * 2 - 1) * st + 3;
            int32_t r_lo, r_hi;
            dw_band_rows(&g, oy0 * st, rows_in, &r_lo, &r_hi);
            dw_zero_pad(&g, planes, batch, r_lo, r_hi, rows_in);
            dw_plan plan;
            dw_plan_band(&g, oy0 * st, r_lo, r_hi, off2, &plan);
            for (int32_t b0 = 0; b0 < ch; b0 += batch * DW_G) {
                const int32_t b_end = b0 + batch * DW_G < ch ? b0 + batch * DW_G : ch;
                int32_t *q = planes;
                for (int32_t c0 = b0; c0 < b_end; c0 += DW_G, q += group_words) {
                    const int32_t gn = b_end - c0 < DW_G ? b_end - c0 : DW_G;
                    if (gn == DW_G) {
                        dw_fill4(&plan, &g, in_b + c0, q, off2, pad);
                    } else {
                        dw_fill_tail(&g, in_b + c0, q, oy0 * st, rows_in, gn, off);
                    }
                }
                q = planes;
                for (int32_t c0 = b0; c0 < b_end; c0 += DW_G, q += group_words) {
                    job.w = (const int32_t *)(const void *)(op->weights + 4 * DW_REC * c0);
                    job.p = q;
                    job.out = out_b + oy0 * g.out_step_s + c0;
                    job.rows0 = rows_out;
                    job.nch = b_end - c0 < DW_G ? b_end - c0 : DW_G;
                    dw_band(&job, st, p->act_min, p->act_max);
                }
            }
        }
    }
    return TP_OK;
}
