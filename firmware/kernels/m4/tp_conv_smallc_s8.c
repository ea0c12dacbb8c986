/* Cortex-M4 CONV_2D for few input channels (C_IN <= 4), layout and arithmetic in tp_conv_smallc.h.
 *
 * Output pixels in pairs, pairs in chunks (chunk_pairs, sized by the compiler). Per chunk, the receptive
 * fields (in the input, or a copy with the zero point at the borders; for 3x3 x 3 channels, output rows
 * crossing the top/bottom border read a band of their KH input rows) are sign-extended once into int16
 * columns (sc_build*: 3x3 x 3-channel windows by an asm loop, ~101 cycles per pixel pair). Then each
 * channel unit runs over the chunk (sc_run*, asm, context pushed on the stack), per pixel pair a straight
 * run of G blocks entered by MOV PC (no loop counter):
 *  - channel quads (C_OUT % 4 == 0, G <= 10; KWS, VWW, IC): 4 channels x 2 pixels x 4 taps, 6 16-bit LDM
 *    of 2 words, 16 SMLAD: 34 cycles per 32 MACs; 76-byte blocks, the hot loop (<= 10 blocks, ~0.95 KB)
 *    about fits the 1 KB I-cache (88-byte blocks with LDM.W thrashed it at G = 10);
 *  - channel pairs (otherwise): 2 x 2 x 4, LDM of 4 weight and 4 column words, 8 SMLAD: 18 cycles per
 *    16 MACs.
 * Requantization per output: ADD (sign), SMMLAR (rounding and offsets folded), ASR, then SSAT (full output
 * range: the output) or USAT (output - act_min, clamped on the packed word with USUB8/SEL/UADD8). */
#include "tp_conv_smallc.h"
#include "tp_dsp.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")   /* keep the copy loops from becoming memcpy */
#endif

#define SC_MAX_GROUPS 16

/** From the doubled accumulator (see tp_conv_smallc.h): output - act_min in [0, 255], or for the full
 *  range the output byte. */
static inline uint32_t sc_requant(int32_t acc2, int32_t mult, int32_t cst, int32_t shift, int32_t full)
{
    const int32_t v = tp_smmlar(acc2, mult, cst + (acc2 >> 31)) >> shift;
    return full ? (uint32_t)tp_ssat8(v) & 0xFFu : tp_usat8(v);
}

/** Byte offsets of the tail taps of a receptive field (rows `rs` bytes apart): 4 per tail group, the
 *  padding taps at offset 0 (they meet zero weights). */
static void sc_tail_offsets(const tp_conv_smallc_s8_t *op, int32_t rs, int32_t *goff)
{
    const int32_t run = op->kw * op->input.c, ng = op->groups - op->kh * op->row_groups;
    int32_t k = 0;
    for (int32_t ky = 0; ky < op->kh; ++ky) {
        for (int32_t j = 4 * op->row_groups; j < run; ++j) {
            goff[k++] = ky * rs + j;
        }
    }
    for (; k < 4 * ng; ++k) {
        goff[k] = 0;
    }
}

/** Columns of one pixel whose receptive field starts at f (rows rs bytes apart) into its slot of a pixel
 *  pair: per group, cw[0] = (b0, b2) and cw[2] = (b1, b3) (the other pixel uses cw[1], cw[3]). */
static inline void sc_pixel(const tp_conv_smallc_s8_t *op, const int8_t *f, int32_t rs, int32_t *cw,
                            const int32_t *goff, int32_t ng)
{
    const int32_t rg = op->row_groups;
    const int8_t *row = f;
    for (int32_t ky = op->kh; ky > 0; --ky, row += rs) {
        const int8_t *p = row;
        for (int32_t g = rg; g > 0; --g, p += 4, cw += 4) {
            const int32_t v = tp_read_s8x4(p);
            cw[0] = tp_sxtb16(v);
            cw[2] = tp_sxtb16_ror8(v);
        }
    }
    for (int32_t j = ng; j > 0; --j, cw += 4, goff += 4) {
        cw[0] = tp_pkhbt16(f[goff[0]], f[goff[2]]);
        cw[2] = tp_pkhbt16(f[goff[1]], f[goff[3]]);
    }
}

/** n bytes: word copies, then the tail (unaligned words are fine on the M4). */
static inline void sc_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        __builtin_memcpy(dst, src, 4);
    }
    for (; n > 0; --n) {
        *dst++ = *src++;
    }
}

/** Copy in `field` of the receptive field whose window starts at (y0, x0) and crosses the input border
 *  (same row stride as the input, zero point outside): per row a zero-point fill, then the valid run. */
__attribute__((noinline)) static const int8_t *sc_gather(const tp_conv_smallc_s8_t *op, const int8_t *in_b,
                                                          int32_t y0, int32_t x0, int8_t *field, const int8_t *zp_run)
{
    const int32_t h = op->input.h, w = op->input.w, c = op->input.c, rs = w * c, run = op->kw * c;
    const int32_t xa = x0 < 0 ? -x0 : 0, xb = x0 + op->kw > w ? w - x0 : op->kw;   /* valid kx range */
    for (int32_t y = y0; y < y0 + op->kh; ++y, field += rs) {
        sc_copy(field, zp_run, run);
        if (y >= 0 && y < h) {
            sc_copy(field + xa * c, in_b + y * rs + (x0 + xa) * c, (xb - xa) * c);
        }
    }
    return field - op->kh * rs;
}

/** The KH input rows of the windows of output row oy (first input row y0) copied into `field` (rows rs
 *  bytes apart), rows outside the input as zero points: then the windows of that output row that are inside
 *  the input horizontally can be read from `field` like from the input. */
__attribute__((noinline)) static void sc_band(const tp_conv_smallc_s8_t *op, const int8_t *in_b, int32_t y0,
                                              int8_t *field)
{
    const int32_t rs = op->input.w * op->input.c;
    const uint32_t zp4 = 0x01010101u * (uint8_t)op->input_zp;
    for (int32_t y = y0; y < y0 + op->kh; ++y, field += rs) {
        if (y >= 0 && y < op->input.h) {
            sc_copy(field, in_b + y * rs, rs);
        } else {
            int32_t i = 0;
            for (; i + 4 <= rs; i += 4) {
                __builtin_memcpy(field + i, &zp4, 4);
            }
            for (; i < rs; ++i) {
                field[i] = (int8_t)op->input_zp;
            }
        }
    }
}

/* Run context of one channel pair over a chunk of pixel pairs (uintptr_t: 32-bit words on the M4): output
 * pointer of the first pair's pixel 0 (advances by 2 D1 per pair), pixel 1's offset D1, span4, lo4 (clamp),
 * end of the output pointer, the pair's packed words, the code offset 40 G of the run entry. */
enum { SC_OUT, SC_D1, SC_END, SC_SPAN, SC_LO, SC_W, SC_CODE, SC_CTX_WORDS = 8 };

/** Packed output bytes from sc_requant: clamped to [act_min, act_min + span] unless full range. */
static inline uint32_t sc_finish(uint32_t h, const uintptr_t *ctx)
{
    return ctx[SC_SPAN] == 0xFFFFFFFFu ? h : tp_clamp_bytes(h, (uint32_t)ctx[SC_SPAN], (uint32_t)ctx[SC_LO]);
}

/* Channel pair x pixel pair. w walks the pair's packed words: bias2 (accumulator init), G blocks of 4 taps
 * x 2 channels x 2 pixels (weights: int16 pairs wa_lo, wb_lo, wa_hi, wb_hi; columns c: p0_lo, p1_lo, p0_hi,
 * p1_hi; LDM both, 8 SMLAD), then the requantization parameters. */
#if TP_M4_ASM
/* One block: exactly 40 bytes of code (.w encodings), so that the run of G blocks starts 40 G bytes
 * before its end label. */
#define SC_BLOCK                                                                               \
    "ldmia.w %[w]!, {r4, r5, r6, r7}\n\t"                                                      \
    "ldmia.w %[c]!, {r8, r9, r10, r11}\n\t"                                                    \
    "smlad %[a00], r4, r8, %[a00]\n\t"                                                         \
    "smlad %[a01], r4, r9, %[a01]\n\t"                                                         \
    "smlad %[a10], r5, r8, %[a10]\n\t"                                                         \
    "smlad %[a11], r5, r9, %[a11]\n\t"                                                         \
    "smlad %[a00], r6, r10, %[a00]\n\t"                                                        \
    "smlad %[a01], r6, r11, %[a01]\n\t"                                                        \
    "smlad %[a10], r7, r10, %[a10]\n\t"                                                        \
    "smlad %[a11], r7, r11, %[a11]\n\t"
#define SC_BLOCK4 SC_BLOCK SC_BLOCK SC_BLOCK SC_BLOCK
/* One output: A = SMMLAR(A, M, C + (A >> 31)) >> R, then SAT #8: USAT (output - act_min) or, for the full
 * range (span 255), SSAT (the output; tp_conv_smallc.h); r10 scratch. */
#define SC_RQ(A, M, C, R, SAT)                                                                 \
    "add r10, " C ", %[" A "], asr #31\n\t"                                                    \
    "smmlar %[" A "], %[" A "], " M ", r10\n\t"                                                \
    "asr %[" A "], %[" A "], " R "\n\t"                                                        \
    SAT " %[" A "], #8, %[" A "]\n\t"
/* Tails: out, d1, end (+ span4, lo4 and the clamp of the packed word) */
#define SC_TAIL2_CLAMP                                                                         \
    "ldmia sp, {r4, r5, r6, r7, r8}\n\t"                                                       \
    "usub8 r9, %[a00], r7\n\t"                                                                 \
    "sel %[a00], r7, %[a00]\n\t"                                                               \
    "uadd8 %[a00], %[a00], r8\n\t"
#define SC_TAIL2_FULL "ldmia sp, {r4, r5, r6}\n\t"

/** One channel pair over the pixel pairs of a chunk (columns c, one pair after the other; at least one):
 *  the context is pushed on the stack; per pixel pair a straight run of G blocks entered at 40 G bytes
 *  before its end (MOV PC), the four requantized outputs (clamped unless span 255) stored as two
 *  halfwords. Per pair: 11 + 18 G (blocks) + 26 (requantization) + 15..19 (stores, loop) cycles. */
#define SC_RUN2_FN(NAME, SAT, TAIL)                                                            \
__attribute__((noinline)) static void NAME(const uintptr_t *ctx, const int32_t *c)            \
{                                                                                              \
    const int32_t *w = (const int32_t *)(const void *)ctx;                                     \
    int32_t a00, a01, a10, a11;                                                                \
    __asm__ volatile(                                                                          \
        "ldmia %[w], {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"                                   \
        "adr.w r11, 2f\n\t"                                                                    \
        "sub r10, r11, r10\n\t"                                                                \
        "push {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"                                          \
        "1:\n\t"                                                                               \
        "ldrd %[w], r6, [sp, #20]\n\t"                                                         \
        "ldrd %[a00], %[a10], [%[w]], #8\n\t"                                                  \
        "mov %[a01], %[a00]\n\t"                                                               \
        "mov %[a11], %[a10]\n\t"                                                               \
        "mov pc, r6\n\t"                                                                       \
        SC_BLOCK4 SC_BLOCK4 SC_BLOCK4 SC_BLOCK4                                                \
        "2:\n\t"                                                                               \
        "ldmia %[w], {r4, r5, r6, r7, r8, r9}\n\t"                                             \
        SC_RQ("a00", "r4", "r6", "r8", SAT) SC_RQ("a01", "r4", "r6", "r8", SAT)                \
        SC_RQ("a10", "r5", "r7", "r9", SAT) SC_RQ("a11", "r5", "r7", "r9", SAT)                \
        "bfi %[a00], %[a10], #8, #8\n\t"                                                       \
        "bfi %[a00], %[a01], #16, #8\n\t"                                                      \
        "bfi %[a00], %[a11], #24, #8\n\t"                                                      \
        TAIL                                                                                   \
        "strh %[a00], [r4]\n\t"                                                                \
        "lsr %[a00], %[a00], #16\n\t"                                                          \
        "strh %[a00], [r4, r5]\n\t"                                                            \
        "add r4, r4, r5, lsl #1\n\t"                                                           \
        "str r4, [sp]\n\t"                                                                     \
        "cmp r4, r6\n\t"                                                                       \
        "bne 1b\n\t"                                                                           \
        "add sp, sp, #32\n\t"                                                                  \
        : [w] "+r"(w), [c] "+r"(c), [a00] "=&r"(a00), [a01] "=&r"(a01), [a10] "=&r"(a10),     \
          [a11] "=&r"(a11)                                                                     \
        :                                                                                      \
        : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");                   \
}
/* sp during the loop: out, d1, end, span4, lo4, w, entry */
SC_RUN2_FN(sc_run, "usat", SC_TAIL2_CLAMP)
SC_RUN2_FN(sc_run_full, "ssat", SC_TAIL2_FULL)
#else
static void sc_run(const uintptr_t *ctx, const int32_t *c)
{
    const intptr_t d1 = (intptr_t)ctx[SC_D1];
    const int32_t full = ctx[SC_SPAN] == 0xFFFFFFFFu;
    for (int8_t *o = (int8_t *)ctx[SC_OUT]; o != (int8_t *)ctx[SC_END]; o += 2 * d1) {
        const int32_t *w = (const int32_t *)ctx[SC_W];
        int32_t a00 = w[0], a01 = w[0], a10 = w[1], a11 = w[1];
        w += 2;
        for (int32_t g = (int32_t)ctx[SC_CODE] / 40; g > 0; --g, w += 4, c += 4) {
            a00 = tp_smlad(w[0], c[0], a00);
            a01 = tp_smlad(w[0], c[1], a01);
            a10 = tp_smlad(w[1], c[0], a10);
            a11 = tp_smlad(w[1], c[1], a11);
            a00 = tp_smlad(w[2], c[2], a00);
            a01 = tp_smlad(w[2], c[3], a01);
            a10 = tp_smlad(w[3], c[2], a10);
            a11 = tp_smlad(w[3], c[3], a11);
        }
        const uint32_t v = sc_finish(sc_requant(a00, w[0], w[2], w[4], full)
                                     | sc_requant(a10, w[1], w[3], w[5], full) << 8
                                     | sc_requant(a01, w[0], w[2], w[4], full) << 16
                                     | sc_requant(a11, w[1], w[3], w[5], full) << 24, ctx);
        o[0] = (int8_t)v;
        o[1] = (int8_t)(v >> 8);
        o[d1] = (int8_t)(v >> 16);
        o[d1 + 1] = (int8_t)(v >> 24);
    }
}
#define sc_run_full sc_run   /* the C paths read the full-range case from the context */
#endif

/** Columns of one pixel of a 3x3 kernel over 3 channels: rows of 9 bytes = 2 words and a tail byte; the
 *  tail group (t0, t1, t2, 0). ~41 cycles. */
static inline void sc_pixel_k3r2t1(const int8_t *f, int32_t rs, int32_t *cw)
{
    const int8_t *f1 = f + rs, *f2 = f1 + rs;
    int32_t v = tp_read_s8x4(f);
    cw[0] = tp_sxtb16(v);
    cw[2] = tp_sxtb16_ror8(v);
    v = tp_read_s8x4(f + 4);
    cw[4] = tp_sxtb16(v);
    cw[6] = tp_sxtb16_ror8(v);
    v = tp_read_s8x4(f1);
    cw[8] = tp_sxtb16(v);
    cw[10] = tp_sxtb16_ror8(v);
    v = tp_read_s8x4(f1 + 4);
    cw[12] = tp_sxtb16(v);
    cw[14] = tp_sxtb16_ror8(v);
    v = tp_read_s8x4(f2);
    cw[16] = tp_sxtb16(v);
    cw[18] = tp_sxtb16_ror8(v);
    v = tp_read_s8x4(f2 + 4);
    cw[20] = tp_sxtb16(v);
    cw[22] = tp_sxtb16_ror8(v);
    cw[24] = tp_pkhbt16(f[8], f2[8]);
    cw[26] = f1[8];
}

/* Channel quad x pixel pair (quad layout, tp_conv_smallc.h): w walks the quad's packed words: bias2
 * doubled (a, a, b, b, c, c, d, d: the accumulators a p0, a p1, ...), G blocks of 4 taps x 4 channels x
 * 2 pixels (weights wa_lo, wb_lo, wc_lo, wd_lo, wa_hi, .., wd_hi; columns as for pairs), then per channel
 * multiplier, rq_const, rq_shift. */
#if TP_M4_ASM
/* One block: exactly 76 bytes of code: 6 16-bit LDM of 2 words, 16 SMLAD; 34 cycles per 32 MACs. Fixed
 * registers: w r0, c r1, loads r2, r3 (columns), r4, r5 (weights); accumulators a p0, a p1 r6, r7, b r8, r9,
 * c r10, r11, d r12, lr. */
#define SC_QBLOCK                                                                              \
    "ldmia.n r1!, {r2, r3}\n\t"                                                                \
    "ldmia.n r0!, {r4, r5}\n\t"                                                                \
    "smlad r6, r4, r2, r6\n\t"                                                                 \
    "smlad r7, r4, r3, r7\n\t"                                                                 \
    "smlad r8, r5, r2, r8\n\t"                                                                 \
    "smlad r9, r5, r3, r9\n\t"                                                                 \
    "ldmia.n r0!, {r4, r5}\n\t"                                                                \
    "smlad r10, r4, r2, r10\n\t"                                                               \
    "smlad r11, r4, r3, r11\n\t"                                                               \
    "smlad r12, r5, r2, r12\n\t"                                                               \
    "smlad lr, r5, r3, lr\n\t"                                                                 \
    "ldmia.n r1!, {r2, r3}\n\t"                                                                \
    "ldmia.n r0!, {r4, r5}\n\t"                                                                \
    "smlad r6, r4, r2, r6\n\t"                                                                 \
    "smlad r7, r4, r3, r7\n\t"                                                                 \
    "smlad r8, r5, r2, r8\n\t"                                                                 \
    "smlad r9, r5, r3, r9\n\t"                                                                 \
    "ldmia.n r0!, {r4, r5}\n\t"                                                                \
    "smlad r10, r4, r2, r10\n\t"                                                               \
    "smlad r11, r4, r3, r11\n\t"                                                               \
    "smlad r12, r5, r2, r12\n\t"                                                               \
    "smlad lr, r5, r3, lr\n\t"
#define SC_QBLOCK4 SC_QBLOCK SC_QBLOCK SC_QBLOCK SC_QBLOCK
/* One channel's two outputs (accumulators P0, P1): multiplier, rq_const, rq_shift from w; SAT as SC_RQ. */
#define SC_QRQ(P0, P1, SAT)                                                                    \
    "ldmia.n r0!, {r2, r3, r4}\n\t"                                                            \
    "add r5, r3, " P0 ", asr #31\n\t"                                                          \
    "smmlar " P0 ", " P0 ", r2, r5\n\t"                                                        \
    "asr " P0 ", " P0 ", r4\n\t"                                                               \
    SAT " " P0 ", #8, " P0 "\n\t"                                                              \
    "add r5, r3, " P1 ", asr #31\n\t"                                                          \
    "smmlar " P1 ", " P1 ", r2, r5\n\t"                                                        \
    "asr " P1 ", " P1 ", r4\n\t"                                                               \
    SAT " " P1 ", #8, " P1 "\n\t"
/* Tails: out r2, d1 r3, end r4, w r0 (+ span4, lo4 and the clamp of both packed words r6, r7) */
#define SC_TAIL4_CLAMP                                                                         \
    "ldmia sp, {r2, r3, r4, r5, r8, r9}\n\t"                                                   \
    "usub8 r10, r6, r5\n\t"                                                                    \
    "sel r6, r5, r6\n\t"                                                                       \
    "uadd8 r6, r6, r8\n\t"                                                                     \
    "usub8 r10, r7, r5\n\t"                                                                    \
    "sel r7, r5, r7\n\t"                                                                       \
    "uadd8 r7, r7, r8\n\t"                                                                     \
    "mov r0, r9\n\t"
#define SC_TAIL4_FULL                                                                          \
    "ldmia sp, {r2, r3, r4}\n\t"                                                               \
    "ldr r0, [sp, #20]\n\t"

/** One channel quad over the pixel pairs of a chunk (at least one), like sc_run: per pixel pair a
 *  straight run of G quad blocks entered 76 G bytes before its end, the eight requantized outputs
 *  (clamped unless span 255) stored as two words. Per pair: 14 + 34 G + 48 (requantization) + 19..27
 *  cycles. Up to 10 groups: the run (about) stays inside the 1 KB flash instruction cache. */
#define SC_RUN4_FN(NAME, SAT, TAIL)                                                            \
__attribute__((noinline)) static void NAME(const uintptr_t *ctx, const int32_t *c)            \
{                                                                                              \
    register const uintptr_t *x __asm__("r0") = ctx;                                           \
    register const int32_t *cc __asm__("r1") = c;                                              \
    __asm__ volatile(                                                                          \
        "ldmia r0, {r4, r5, r6, r7, r8, r9, r10}\n\t"                                          \
        "adr.w r3, 2f\n\t"                                                                     \
        "sub r10, r3, r10\n\t"                                                                 \
        "push {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"                                          \
        "mov r0, r9\n\t"                                                                       \
        "1:\n\t"                                                                               \
        "ldr r2, [sp, #24]\n\t"                                                                \
        "ldmia r0!, {r6, r7, r8, r9, r10, r11, r12, lr}\n\t"                                   \
        "mov pc, r2\n\t"                                                                       \
        SC_QBLOCK4 SC_QBLOCK4 SC_QBLOCK4 SC_QBLOCK4                                            \
        "2:\n\t"                                                                               \
        SC_QRQ("r6", "r7", SAT) SC_QRQ("r8", "r9", SAT)                                        \
        SC_QRQ("r10", "r11", SAT) SC_QRQ("r12", "lr", SAT)                                     \
        "bfi r6, r8, #8, #8\n\t"                                                               \
        "bfi r7, r9, #8, #8\n\t"                                                               \
        "bfi r6, r10, #16, #8\n\t"                                                             \
        "bfi r7, r11, #16, #8\n\t"                                                             \
        "bfi r6, r12, #24, #8\n\t"                                                             \
        "bfi r7, lr, #24, #8\n\t"                                                              \
        TAIL                                                                                   \
        "str r6, [r2]\n\t"                                                                     \
        "str r7, [r2, r3]\n\t"                                                                 \
        "add r2, r2, r3, lsl #1\n\t"                                                           \
        "str r2, [sp]\n\t"                                                                     \
        "cmp r2, r4\n\t"                                                                       \
        "bne 1b\n\t"                                                                           \
        "add sp, sp, #32\n\t"                                                                  \
        : "+r"(x), "+r"(cc)                                                                    \
        :                                                                                      \
        : "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc",     \
          "memory");                                                                           \
}
/* sp during the loop: out, d1, end, span4, lo4, w, entry */
SC_RUN4_FN(sc_run4, "usat", SC_TAIL4_CLAMP)
SC_RUN4_FN(sc_run4_full, "ssat", SC_TAIL4_FULL)
#else
static void sc_run4(const uintptr_t *ctx, const int32_t *c)
{
    const intptr_t d1 = (intptr_t)ctx[SC_D1];
    const int32_t full = ctx[SC_SPAN] == 0xFFFFFFFFu;
    for (int8_t *o = (int8_t *)ctx[SC_OUT]; o != (int8_t *)ctx[SC_END]; o += 2 * d1) {
        const int32_t *w = (const int32_t *)ctx[SC_W];
        int32_t a[8];
        for (int32_t k = 0; k < 8; ++k) {
            a[k] = w[k];
        }
        w += 8;
        for (int32_t g = (int32_t)ctx[SC_CODE] / 76; g > 0; --g, w += 8, c += 4) {
            for (int32_t k = 0; k < 4; ++k) {
                a[2 * k] = tp_smlad(w[k], c[0], tp_smlad(w[4 + k], c[2], a[2 * k]));
                a[2 * k + 1] = tp_smlad(w[k], c[1], tp_smlad(w[4 + k], c[3], a[2 * k + 1]));
            }
        }
        uint32_t h0 = 0, h1 = 0;
        for (int32_t k = 0; k < 4; ++k, w += 3) {
            h0 |= sc_requant(a[2 * k], w[0], w[1], w[2], full) << (8 * k);
            h1 |= sc_requant(a[2 * k + 1], w[0], w[1], w[2], full) << (8 * k);
        }
        h0 = sc_finish(h0, ctx);
        h1 = sc_finish(h1, ctx);
        for (int32_t k = 0; k < 4; ++k) {
            o[k] = (int8_t)(h0 >> (8 * k));
            o[d1 + k] = (int8_t)(h1 >> (8 * k));
        }
    }
}
#define sc_run4_full sc_run4   /* the C paths read the full-range case from the context */
#endif

/** k pixel pairs of a 3x3 kernel over 3 channels (sc_pixel_k3r2t1 for pixels f, f + dx; next pair at
 *  f + 2 dx), their columns one pair after the other (28 words each). Asm: ~96 cycles per pair. */
#if TP_M4_ASM
/* One kernel row of the pair: 2 words of each pixel (fa, fb), 8 column words stored with two STM; r4..r11. */
#define SC_PAIR_ROW                                                                            \
    "ldr r4, [%[fa]]\n\t"                                                                      \
    "ldr r5, [%[fb]]\n\t"                                                                      \
    "ldr r6, [%[fa], #4]\n\t"                                                                  \
    "ldr r7, [%[fb], #4]\n\t"                                                                  \
    "sxtb16 r8, r4\n\t"                                                                        \
    "sxtb16 r9, r5\n\t"                                                                        \
    "sxtb16 r10, r4, ror #8\n\t"                                                               \
    "sxtb16 r11, r5, ror #8\n\t"                                                               \
    "stmia %[cw]!, {r8, r9, r10, r11}\n\t"                                                     \
    "sxtb16 r8, r6\n\t"                                                                        \
    "sxtb16 r9, r7\n\t"                                                                        \
    "sxtb16 r10, r6, ror #8\n\t"                                                               \
    "sxtb16 r11, r7, ror #8\n\t"                                                               \
    "stmia %[cw]!, {r8, r9, r10, r11}\n\t"                                                     \
    "add %[fa], %[fa], %[rs]\n\t"                                                              \
    "add %[fb], %[fb], %[rs]\n\t"

__attribute__((noinline)) static void sc_pairs_k3r2t1(const int8_t *f, int32_t dx, int32_t rs, int32_t *cw,
                                                      int32_t k)
{
    const int8_t *fa = f, *fb = f + dx;
    const int32_t back = 2 * dx - 3 * rs;
    __asm__ volatile(
        "1:\n\t"
        "ldrsb r4, [%[fa], #8]\n\t"         /* tail group: (t0, t2) and t1 of both pixels, at cw + 96 */
        "ldrsb r5, [%[fb], #8]\n\t"
        "add r8, %[fa], %[rs], lsl #1\n\t"
        "add r9, %[fb], %[rs], lsl #1\n\t"
        "ldrsb r6, [r8, #8]\n\t"
        "ldrsb r7, [r9, #8]\n\t"
        "pkhbt r4, r4, r6, lsl #16\n\t"
        "pkhbt r5, r5, r7, lsl #16\n\t"
        "add r8, %[fa], %[rs]\n\t"
        "add r9, %[fb], %[rs]\n\t"
        "ldrsb r6, [r8, #8]\n\t"
        "ldrsb r7, [r9, #8]\n\t"
        "add r10, %[cw], #96\n\t"
        "stmia r10, {r4, r5, r6, r7}\n\t"
        SC_PAIR_ROW SC_PAIR_ROW SC_PAIR_ROW
        "add %[cw], %[cw], #16\n\t"
        "add %[fa], %[fa], %[back]\n\t"
        "add %[fb], %[fb], %[back]\n\t"
        "subs %[k], %[k], #1\n\t"
        "bne 1b\n\t"
        : [fa] "+r"(fa), [fb] "+r"(fb), [cw] "+r"(cw), [k] "+r"(k)
        : [rs] "r"(rs), [back] "r"(back)
        : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");
}
#else
static void sc_pairs_k3r2t1(const int8_t *f, int32_t dx, int32_t rs, int32_t *cw, int32_t k)
{
    for (; k > 0; --k, f += 2 * dx, cw += 28) {
        sc_pixel_k3r2t1(f, rs, cw);
        sc_pixel_k3r2t1(f + dx, rs, cw + 1);
    }
}
#endif

/** Columns of one pixel whose kernel rows are one word each (KW C_IN = 4). */
static inline void sc_pixel_r1(const int8_t *f, int32_t rs, int32_t *cw, int32_t kh)
{
    for (; kh > 0; --kh, f += rs, cw += 4) {
        const int32_t v = tp_read_s8x4(f);
        cw[0] = tp_sxtb16(v);
        cw[2] = tp_sxtb16_ror8(v);
    }
}

/* Builder kinds: generic, 3 rows of 2 words + 1 tail byte each (3x3 C_IN 3), rows of 1 word (KW C_IN 4). */
enum { SC_ANY, SC_K3R2T1, SC_R1 };

/** Columns of the n pixels (n even) from linear index px (pixels past the last repeat it), pair after pair
 *  (4 G words each); per pixel the receptive field in the input, or its border copy. Two pixels at once
 *  when both windows are inside the input on the same row. */
static inline __attribute__((always_inline)) void sc_build_kind(const tp_conv_smallc_s8_t *op,
    const int8_t *in_b, int32_t px, int32_t n, int32_t *cols, const int32_t *goff, int8_t *field,
    const int8_t *zp_run, const int32_t kind)
{
    const int32_t ow = op->output.w, last = op->output.h * ow - 1, g4 = 4 * op->groups, c = op->input.c;
    const int32_t rs = op->input.w * c, ng = op->groups - op->kh * op->row_groups;
    const int32_t sh = op->stride_h, sw = op->stride_w, dx = sw * c, dy = sh * rs - ow * dx;
    /* output columns oxl <= ox < oxh and rows oyl <= oy < oyh whose windows are inside the input */
    const int32_t oxl = (op->pad_w + sw - 1) / sw, oyl = (op->pad_h + sh - 1) / sh;
    const int32_t oxh = op->input.w + op->pad_w >= op->kw ? (op->input.w + op->pad_w - op->kw) / sw + 1 : 0;
    const int32_t oyh = op->input.h + op->pad_h >= op->kh ? (op->input.h + op->pad_h - op->kh) / sh + 1 : 0;
    const int32_t oxe = oxh < ow ? oxh : ow;
    const uint32_t xspan = oxe > oxl ? (uint32_t)(oxe - oxl) : 0u, xspan2 = xspan > 0u ? xspan - 1u : 0u;
    int32_t oy = px / ow, ox = px - oy * ow;
    int32_t off = (oy * sh - op->pad_h) * rs + (ox * sw - op->pad_w) * c;   /* of the window, in the input */
    int32_t y_in = oy >= oyl && oy < oyh, band = -1;   /* output row whose band is in `field` */
    for (int32_t i = 0; i < n; i += 2, cols += g4) {
        if (kind == SC_K3R2T1 && (uint32_t)(ox - oxl) < xspan2) {   /* k pairs inside horizontally */
            int32_t k = (int32_t)(xspan2 - (uint32_t)(ox - oxl) + 1u) / 2;
            k = k < (n - i) / 2 ? k : (n - i) / 2;
            const int8_t *f = in_b + off;
            if (!y_in) {   /* rows partly outside: from the band of this output row */
                const int32_t y0 = oy * sh - op->pad_h;
                if (band != oy) {
                    sc_band(op, in_b, y0, field);
                    band = oy;
                }
                f = field + (off - y0 * rs);
            }
            sc_pairs_k3r2t1(f, dx, rs, cols, k);
            i += 2 * (k - 1);
            cols += g4 * (k - 1);
            px += 2 * k;
            off += 2 * k * dx;
            ox += 2 * k;
            if (ox == ow) {
                ox = 0;
                ++oy;
                off += dy;
                y_in = oy >= oyl && oy < oyh;
            }
            continue;
        }
        if (kind == SC_R1 && y_in && (uint32_t)(ox - oxl) < xspan2) {   /* both inside, same row */
            const int8_t *f = in_b + off;
            sc_pixel_r1(f, rs, cols, op->kh);
            sc_pixel_r1(f + dx, rs, cols + 1, op->kh);
            px += 2;
            off += 2 * dx;
            ox += 2;
            if (ox == ow) {
                ox = 0;
                ++oy;
                off += dy;
                y_in = oy >= oyl && oy < oyh;
            }
            continue;
        }
        for (int32_t j = 0; j < 2; ++j) {
            const int8_t *f = in_b + off;
            if (!y_in || (uint32_t)(ox - oxl) >= xspan) {
                f = sc_gather(op, in_b, oy * sh - op->pad_h, ox * sw - op->pad_w, field, zp_run);
                band = -1;   /* field overwritten */
            }
            if (kind == SC_K3R2T1) {
                sc_pixel_k3r2t1(f, rs, cols + j);
            } else if (kind == SC_R1) {
                sc_pixel_r1(f, rs, cols + j, op->kh);
            } else {
                sc_pixel(op, f, rs, cols + j, goff, ng);
            }
            if (px < last) {
                ++px;
                off += dx;
                if (++ox == ow) {
                    ox = 0;
                    ++oy;
                    off += dy;
                    y_in = oy >= oyl && oy < oyh;
                }
            }
        }
    }
}

__attribute__((noinline)) static void sc_build_k3r2t1(const tp_conv_smallc_s8_t *op, const int8_t *in_b,
    int32_t px, int32_t n, int32_t *cols, const int32_t *goff, int8_t *field, const int8_t *zp_run)
{
    sc_build_kind(op, in_b, px, n, cols, goff, field, zp_run, SC_K3R2T1);
}

__attribute__((noinline)) static void sc_build_r1(const tp_conv_smallc_s8_t *op, const int8_t *in_b,
    int32_t px, int32_t n, int32_t *cols, const int32_t *goff, int8_t *field, const int8_t *zp_run)
{
    sc_build_kind(op, in_b, px, n, cols, goff, field, zp_run, SC_R1);
}

__attribute__((noinline)) static void sc_build_any(const tp_conv_smallc_s8_t *op, const int8_t *in_b,
    int32_t px, int32_t n, int32_t *cols, const int32_t *goff, int8_t *field, const int8_t *zp_run)
{
    sc_build_kind(op, in_b, px, n, cols, goff, field, zp_run, SC_ANY);
}

typedef void sc_run_fn(const uintptr_t *ctx, const int32_t *c);

typedef void sc_build_fn(const tp_conv_smallc_s8_t *op, const int8_t *in_b, int32_t px, int32_t n,
                         int32_t *cols, const int32_t *goff, int8_t *field, const int8_t *zp_run);

/** The column builder for the layer's shape. */
static sc_build_fn *sc_builder(const tp_conv_smallc_s8_t *op)
{
    const int32_t run = op->kw * op->input.c;
    if (op->kh == 3 && run == 9) {
        return sc_build_k3r2t1;
    }
    return run == 4 ? sc_build_r1 : sc_build_any;
}

tp_status tp_conv_smallc_s8(const tp_conv_smallc_s8_t *op, const int8_t *input, int8_t *output,
                            int16_t *scratch)
{
    const int32_t groups = op->groups, cout = op->output.c, cin = op->input.c, chunk = op->chunk_pairs;
    if (groups < 1 || groups > SC_MAX_GROUPS || cin > 4 || op->row_groups * op->kh > groups || chunk < 1) {
        return TP_ERR_ARG;
    }
    /* scratch: packed words | columns (chunk pairs x 4 G words) | goff | two output pixels | one receptive
     * field or band (KH rows of W * C) | KW * C zero points */
    const int32_t quad = op->quad, uch = quad ? 4 : 2;                /* channels per unit */
    const int32_t ustride = quad ? 20 + 8 * groups : 8 + 4 * groups, units = (cout + uch - 1) / uch;
    const int32_t words = units * ustride, cpad = units * uch;
    const int32_t rs = op->input.w * cin, ng = groups - op->kh * op->row_groups;
    int32_t *packed = (int32_t *)(void *)scratch, *cols = packed + words, *goff = cols + 4 * groups * chunk;
    int8_t *tmp = (int8_t *)(goff + 4 * ng), *field = tmp + 2 * cpad, *zp_run = field + op->kh * rs;
    for (int32_t i = 0; i < op->kw * cin; ++i) {
        zp_run[i] = (int8_t)op->input_zp;
    }
    uintptr_t ctx[SC_CTX_WORDS] = {0};
    ctx[SC_SPAN] = 0x01010101u * (uint32_t)op->span;
    ctx[SC_LO] = 0x01010101u * (uint8_t)op->act_min;
    ctx[SC_CODE] = (uintptr_t)((quad ? 76 : 40) * groups);
    for (int32_t i = 0; i < words; ++i) {
        packed[i] = op->packed[i];
    }
    sc_tail_offsets(op, rs, goff);
    sc_build_fn *const sc_build = sc_builder(op);
    sc_run_fn *const run = op->span == 255 ? (quad ? sc_run4_full : sc_run_full) : (quad ? sc_run4 : sc_run);
    /* Pixel pairs in chunks: columns once, then each channel unit (pair or quad) over the chunk, written in
     * place (pixel 1 at + C_OUT). Units last to first: with odd C_OUT the padding channel's output lands on
     * the next pixel's channel 0, written afterwards. The last pixel pair goes through `tmp` (two pixels of
     * cpad bytes) if the pixel count or C_OUT is odd. */
    const int32_t npx = op->output.h * op->output.w, npairs = (npx + 1) / 2;
    const int32_t direct = ((npx | cout) & 1) ? npairs - 1 : npairs;
    for (int32_t n = 0; n < op->input.n; ++n) {
        const int8_t *in_b = input + n * op->input.h * rs;
        int8_t *out_b = output + n * npx * cout;
        for (int32_t p = 0; p < direct; p += chunk) {
            const int32_t np = direct - p < chunk ? direct - p : chunk;
            sc_build(op, in_b, 2 * p, 2 * np, cols, goff, field, zp_run);
            ctx[SC_D1] = (uintptr_t)cout;
            for (int32_t u = units - 1; u >= 0; --u) {
                int8_t *o = out_b + 2 * p * cout + uch * u;
                ctx[SC_OUT] = (uintptr_t)o;
                ctx[SC_END] = (uintptr_t)(o + 2 * np * cout);
                ctx[SC_W] = (uintptr_t)(packed + u * ustride);
                run(ctx, cols);
            }
        }
        if (direct < npairs) {
            sc_build(op, in_b, 2 * direct, 2, cols, goff, field, zp_run);
            ctx[SC_D1] = (uintptr_t)cpad;
            for (int32_t u = 0; u < units; ++u) {
                ctx[SC_OUT] = (uintptr_t)(tmp + uch * u);
                ctx[SC_END] = (uintptr_t)(tmp + uch * u + 2 * cpad);
                ctx[SC_W] = (uintptr_t)(packed + u * ustride);
                run(ctx, cols);
            }
            sc_copy(out_b + 2 * direct * cout, tmp, cout);
            if (2 * direct + 1 < npx) {
                sc_copy(out_b + (2 * direct + 1) * cout, tmp + cpad, cout);
            }
        }
    }
    return TP_OK;
}
