/* Internal to firmware/kernels/m4: the int8 GEMM core shared by the M4 convolutions (1x1 and im2col).
 *
 * GEMM depth k (a multiple of 4; the compiler pads weight rows with zeros), padded to kq = round_up(k, 8).
 * Columns: the inputs of a PAIR of output pixels as int16, per group of 4 inputs x0..x3 the words
 *   p0(x0,x2) p1(x0,x2) p0(x1,x3) p1(x1,x3)   (SXTB16 and SXTB16 ROR 8 of the input word),
 * zeros from k to kq, then the sentinel word 0x7F7F7F7F (never an int16 pair of int8 values) and one spare
 * word: the GEMM loop stops when it loads the sentinel instead of counting.
 * Weights ("quad blob", produced by the compiler, in flash): output channels in quads, ceil(C_OUT / 4)
 * blocks of tp_quad_flash_stride(k) bytes, each:
 *   int32 bias2[4]            2 * bias (input offset folded in: bias + input_offset * sum(w))
 *   int8 weights              per group of 4 inputs the words (w0, w1, w2, w3) of channels 0..3; kq / 4
 *                             groups (zeros beyond k)
 *   int32 {m, c, r}[4]        requantization: multiplier, rounding constant (see below), r = -shift
 * The driver copies chunks of quads into its SRAM cache with the weights expanded (tp_load_quads) to the
 * layout the loop reads, blocks of tp_quad_stride(k) bytes: the same bias and requantization words around
 *   int16 weights             per group: half 0 = the words (2 w0, 2 w2) of channels 0..3 (SXTB16, doubled),
 *                             half 1 = (2 w1, 2 w3) of channels 0..3 (SXTB16 ROR 8, doubled).
 * Weights and bias are doubled so that the accumulator is 2 * acc, what SMMULR needs for TFLite's
 * SaturatingRoundingDoublingHighMul (exact for |acc| < 2^30, checked by the compiler). With v = SMMULR(2 acc,
 * m) (|v| < 2^30) and r >= 1: RoundingDivideByPOT(v, r) = (v + c + (v < 0 ? -1 : 0)) >> r, and v < 0 may be
 * replaced by acc < 0 (they differ only when v = 0, where both give 0); SMMLAR adds c + (acc >> 31) to the
 * high word exactly. Then the output offset and SSAT #8 (the activation clamp, when narrower than
 * [-128, 127], is one pass over the layer's output at the end: none of the reference models needs it).
 * Three forms (TP_RQ_*, the blob header's mode; the compiler picks one per layer, lower.py requant_params):
 *  folded:   c = 2^(r-1) + output_offset * 2^r, so ((v + c + (acc >> 31)) >> r) already holds the offset
 *            (exact while no int32 overflow, checked by the compiler). A channel with zero weights gets
 *            {0, its constant output - (acc >> 31), 0}.
 *  nosign:   folded with output offset -128 (output zero point -128): the (acc >> 31) term is dropped. For
 *            acc < 0, v <= 0 and RoundingDivideByPOT(v, r) <= 0, so the exact output is <= -128, i.e. -128
 *            after SSAT; (v + c) >> r = -128 + floor((v + 2^(r-1)) / 2^r) <= -128 too. A channel with zero
 *            weights gets {0, its constant output, 0}. 2 cycles less per 2 outputs.
 *  unfolded: c = 2^(r-1), 0 for r = 0 (shift 0: no rounding term at all), USAT #31 clamps c + (acc >> 31)
 *            at 0 (a no-op for r >= 1), the offset is added after the shift; 4 more cycles per 2 outputs.
 * Outputs of channels with shift > 0 (none in the reference models) are recomputed in C with the generic
 * requantization (the op's multiplier/shift arrays). Channels beyond C_OUT in the last quad have zero
 * weights.
 */
#ifndef TP_M4_GEMM_H
#define TP_M4_GEMM_H

#include "tp_conv.h"
#include "tp_dsp.h"
#include "tp_fixedpoint.h"

/* The asm K loop does 8 steps (of 2 inputs) per iteration when kq % 16 == 0 and a call does at least
 * TP_GEMM_MIN8 quads x kq of work, else 4 (176 bytes less code). The 4-step loop pays 4 more cycles per 16
 * inputs but, next to the im2col gather, misses the 1 KB flash instruction cache less: tp_conv_im2col_s8
 * sets 2048 (measured on ic01: 4 steps for 4..8 quads of K = 144, 8 steps from 8 quads of K = 288). */
#ifndef TP_GEMM_MIN8
#define TP_GEMM_MIN8 0
#endif

/** k rounded up to 4 (the GEMM depth of the weight rows). */
static inline int32_t tp_kp(int32_t k)
{
    return (k + 3) & ~3;
}

/** GEMM depth rounded up to 8 (4 loop steps of 2 inputs). */
static inline int32_t tp_k8(int32_t k)
{
    return (k + 7) & ~7;
}

/** Bytes of one channel quad in the SRAM cache (int16 weights). */
static inline int32_t tp_quad_stride(int32_t k)
{
    return 16 + 8 * tp_k8(k) + 48;
}

/** Bytes of one channel quad in the flash blob (int8 weights). */
static inline int32_t tp_quad_flash_stride(int32_t k)
{
    return 16 + 4 * tp_k8(k) + 48;
}

/** Bytes of the int16 column pair incl. the sentinel and spare words. */
static inline int32_t tp_cols_bytes(int32_t k)
{
    return 4 * tp_k8(k) + 8;
}

#define TP_GEMM_SENTINEL 0x7F7F7F7F

/* The requantization forms (the blob header's mode word). */
#define TP_RQ_FOLDED 0
#define TP_RQ_UNFOLDED 1
#define TP_RQ_NOSIGN 2

/** One call of the quad GEMM: all quads [w, ...) for one column pair; outputs of pixel 0 at out0 (4 bytes
 *  per quad, channel order), of pixel 1 at out0 + d1 (d1 = 0 when the second pixel duplicates the first).
 *  The asm reads the fields in this order. */
typedef struct {
    const int16_t *cols;
    const int8_t *w;     /**< first quad block */
    int8_t *out0;
    int32_t d1;
    int8_t *end0;        /**< out0 + 4 * quads */
    int32_t off;         /**< output offset */
    int32_t kq;          /**< GEMM depth rounded to 8 (C path only) */
    int32_t mode;        /**< the requantization form, TP_RQ_* (see above) */
} tp_gemm_job;

/** Accumulators (2 * acc) of lane `ch` of the quad block w for both pixels of the column pair. */
static inline void tp_gemm_lane(const tp_gemm_job *j, const int8_t *w, int32_t ch, int32_t acc[2])
{
    acc[0] = acc[1] = tp_read_s8x4(w + 4 * ch);
    const int16_t *c = j->cols, *wv = (const int16_t *)(const void *)(w + 16) + 2 * ch;
    for (int32_t s = j->kq / 2; s > 0; --s, c += 4, wv += 8) {
        acc[0] = tp_smlad(tp_read_s16x2(wv), tp_read_s16x2(c), acc[0]);
        acc[1] = tp_smlad(tp_read_s16x2(wv), tp_read_s16x2(c + 2), acc[1]);
    }
}

/** Portable quad GEMM with the blob's requantization (the host build's version of the asm below). */
static inline void tp_gemm_quads_c(const tp_gemm_job *j)
{
    const int8_t *w = j->w;
    for (int8_t *o = j->out0; o != j->end0; o += 4) {
        const int8_t *rq = w + 16 + 8 * j->kq;
        for (int32_t ch = 0; ch < 4; ++ch, rq += 12) {
            int32_t acc[2];
            tp_gemm_lane(j, w, ch, acc);
            for (int32_t px = 0; px < 2; ++px) {
                const int32_t unf = j->mode == TP_RQ_UNFOLDED;
                const int32_t rnd = tp_read_s8x4(rq + 4) + (j->mode == TP_RQ_NOSIGN ? 0 : acc[px] >> 31);
                int32_t v = tp_smmulr(acc[px], tp_read_s8x4(rq)) + (unf && rnd < 0 ? 0 : rnd);
                v = (v >> tp_read_s8x4(rq + 8)) + (unf ? j->off : 0);
                o[px * j->d1 + ch] = (int8_t)tp_clamp(v, -128, 127);
            }
        }
        w = rq;
    }
}

/** Recompute the outputs of lane `lane` of the quad block w (a channel with shift > 0, which the blob's
 *  requantization cannot express; multiplier m) with the generic requantization into job->out0[lane] and
 *  job->out0[d1 + lane]. */
static inline void tp_gemm_fix(const tp_gemm_job *j, const int8_t *w, int32_t lane, const tp_conv_params *p,
                               int32_t m, int32_t shift)
{
    int32_t acc[2];
    tp_gemm_lane(j, w, lane, acc);
    for (int32_t px = 0; px < 2; ++px) {
        const int32_t v = tp_requant_m4(acc[px] >> 1, m, shift) + p->output_offset;
        j->out0[px * j->d1 + lane] = (int8_t)tp_clamp(v, p->act_min, p->act_max);
    }
}

#if TP_M4_ASM
/* One loop step: 2 inputs x 4 channels x 2 pixels = 8 SMLADs (16 cycles for 16 MACs). Registers: r0
 * columns, r1 weights, r2..r9 accumulators (channel j: r2+2j pixel 0, r3+2j pixel 1), r10/r11 the column
 * words of pixels 0/1, r12/lr two channels' weight words. On entry r10/r11 and the weights of channels 0, 1
 * are loaded; the step ends by loading those of the next step: four single LDRs in a row pipeline (5
 * cycles, where two LDRDs take 6), the LDRD of channels 2, 3 takes 3. */
#define TP_GEMM_STEP                                                                           \
    "smlad r2, r12, r10, r2\n\t"                                                               \
    "smlad r3, r12, r11, r3\n\t"                                                               \
    "smlad r4, lr, r10, r4\n\t"                                                                \
    "smlad r5, lr, r11, r5\n\t"                                                                \
    "ldrd r12, lr, [r1], #8\n\t"                                                               \
    "smlad r6, r12, r10, r6\n\t"                                                               \
    "smlad r7, r12, r11, r7\n\t"                                                               \
    "smlad r8, lr, r10, r8\n\t"                                                                \
    "smlad r9, lr, r11, r9\n\t"                                                                \
    TP_GEMM_NEXT
#define TP_GEMM_NEXT                                                                           \
    "ldr r10, [r0], #4\n\t"                                                                    \
    "ldr r11, [r0], #4\n\t"                                                                    \
    "ldr r12, [r1], #4\n\t"                                                                    \
    "ldr lr, [r1], #4\n\t"
/* The K loop, 4 or 8 steps (8 or 16 inputs) per iteration; it ends having loaded the sentinel into r10 and
 * 8 bytes past the quad's weights (channel 0's m and c) into r12/lr, which the requantization uses. */
#define TP_GEMM_LOOP4                                                                          \
    TP_GEMM_NEXT                                                                               \
    ".p2align 3\n\t"                                                                           \
    "2:\n\t"                                                                                   \
    TP_GEMM_STEP TP_GEMM_STEP TP_GEMM_STEP TP_GEMM_STEP
#define TP_GEMM_LOOP8 TP_GEMM_LOOP4 TP_GEMM_STEP TP_GEMM_STEP TP_GEMM_STEP TP_GEMM_STEP
/* Requantize channel j's two accumulators A, B in place: {m, c, r} from the blob, SMMLAR with the rounding
 * term T, shift, SSAT #8, per MODE: FOLDED: T = c + (acc >> 31) (12 cycles); NOSIGN (output zero point
 * -128): T = c, every acc < 0 gives an output <= -128 either way (10 cycles); UNFOLDED: T clamped at 0
 * (USAT, for r = 0) and the output offset (lr) added after the shift (16 cycles). */
#define TP_GEMM_T_FOLDED(C, A) "add r0, " C ", " A ", asr #31\n\t"
#define TP_GEMM_T_UNFOLDED(C, A) TP_GEMM_T_FOLDED(C, A) "usat r0, #31, r0\n\t"
#define TP_GEMM_T_NOSIGN(C, A) ""
#define TP_GEMM_R_FOLDED(C) "r0"
#define TP_GEMM_R_UNFOLDED(C) "r0"
#define TP_GEMM_R_NOSIGN(C) C
#define TP_GEMM_O_FOLDED(A) ""
#define TP_GEMM_O_UNFOLDED(A) "add " A ", " A ", lr\n\t"
#define TP_GEMM_O_NOSIGN(A) ""
#define TP_GEMM_Z_LR "ldr lr, [sp, #16]\n\t"   /* UNFOLDED: the output offset */
#define TP_GEMM_RQ_(LOAD, M, C, R, MID, A, B, MODE)                                            \
    LOAD                                                                                       \
    TP_GEMM_T_##MODE(C, A)                                                                     \
    "smmlar " A ", " A ", " M ", " TP_GEMM_R_##MODE(C) "\n\t"                                  \
    TP_GEMM_T_##MODE(C, B)                                                                     \
    "smmlar " B ", " B ", " M ", " TP_GEMM_R_##MODE(C) "\n\t"                                  \
    MID                                                                                        \
    "asr " A ", " A ", " R "\n\t"                                                              \
    "asr " B ", " B ", " R "\n\t"                                                              \
    TP_GEMM_O_##MODE(A) TP_GEMM_O_##MODE(B)                                                    \
    "ssat " A ", #8, " A "\n\t"                                                                \
    "ssat " B ", #8, " B "\n\t"
/* Channel 0: the K loop's last loads left its m in r12 and c in lr; only r is loaded (then, unfolded, the
 * output offset into lr). Channels 1..3: {m, c, r} with one LDM. */
#define TP_GEMM_RQ0(A, B, MODE, LR) TP_GEMM_RQ_("ldr r10, [r1], #4\n\t", "r12", "lr", "r10", LR, A, B, MODE)
#define TP_GEMM_RQ(A, B, MODE)                                                                 \
    TP_GEMM_RQ_("ldm r1!, {r10, r11, r12}\n\t", "r10", "r11", "r12", "", A, B, MODE)

/** The quad GEMM in asm, NAME running LOOP (TP_GEMM_LOOP4 or 8) and requantizing in MODE (FOLDED, NOSIGN
 *  or UNFOLDED, which needs LR = TP_GEMM_Z_LR). Per quad: bias, the sentinel-terminated loop,
 *  requantization, the four bytes of each pixel packed (BFI) and stored with one STR. Loop invariants live
 *  on the stack: [sp] cols, [sp+4] out0, [sp+8] d1, [sp+12] end0, [sp+16] off. */
#define TP_GEMM_QUADS_FN(NAME, LOOP, MODE, LR)                                                 \
    static inline void NAME(const tp_gemm_job *job)                                            \
    {                                                                                          \
        register const tp_gemm_job *j __asm__("r0") = job;                                     \
        __asm__ volatile(                                                                      \
            "ldm r0, {r1, r2, r3, r4, r5, r6}\n\t"                                              \
            "push {r1, r3, r4, r5, r6}\n\t"                                                     \
            "mov r0, r1\n\t"                                                                   \
            "mov r1, r2\n\t"                                                                   \
            "1:\n\t"                                                                           \
            "ldm r1!, {r2, r4, r6, r8}\n\t"                                                    \
            "mov r3, r2\n\t"                                                                   \
            "mov r5, r4\n\t"                                                                   \
            "mov r7, r6\n\t"                                                                   \
            "mov r9, r8\n\t"                                                                   \
            LOOP                                                                               \
            "cmp r10, #0x7f7f7f7f\n\t"                                                         \
            "bne 2b\n\t"                                                                       \
            TP_GEMM_RQ0("r2", "r3", MODE, LR) TP_GEMM_RQ("r4", "r5", MODE)                     \
            TP_GEMM_RQ("r6", "r7", MODE) TP_GEMM_RQ("r8", "r9", MODE)                          \
            "bfi r2, r4, #8, #8\n\t"                                                           \
            "bfi r3, r5, #8, #8\n\t"                                                           \
            "bfi r2, r6, #16, #8\n\t"                                                          \
            "bfi r3, r7, #16, #8\n\t"                                                          \
            "bfi r2, r8, #24, #8\n\t"                                                          \
            "bfi r3, r9, #24, #8\n\t"                                                          \
            "ldrd r10, r11, [sp, #4]\n\t"                                                      \
            "str r3, [r10, r11]\n\t"                                                           \
            "str r2, [r10], #4\n\t"                                                            \
            "ldr r12, [sp, #12]\n\t"                                                           \
            "str r10, [sp, #4]\n\t"                                                            \
            "ldr r0, [sp]\n\t"                                                                 \
            "cmp r10, r12\n\t"                                                                 \
            "bne 1b\n\t"                                                                       \
            "add sp, sp, #20\n\t"                                                              \
            : "+r"(j)                                                                          \
            :                                                                                  \
            : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr",  \
              "cc", "memory");                                                                 \
    }
TP_GEMM_QUADS_FN(tp_gemm_quads4, TP_GEMM_LOOP4, FOLDED, "")
TP_GEMM_QUADS_FN(tp_gemm_quads8, TP_GEMM_LOOP8, FOLDED, "")
TP_GEMM_QUADS_FN(tp_gemm_quads4n, TP_GEMM_LOOP4, NOSIGN, "")
TP_GEMM_QUADS_FN(tp_gemm_quads8n, TP_GEMM_LOOP8, NOSIGN, "")
TP_GEMM_QUADS_FN(tp_gemm_quads4z, TP_GEMM_LOOP4, UNFOLDED, TP_GEMM_Z_LR)
TP_GEMM_QUADS_FN(tp_gemm_quads8z, TP_GEMM_LOOP8, UNFOLDED, TP_GEMM_Z_LR)
/* One pixel (slot 0 of the columns; the odd last pixel of a layer), FOLDED or NOSIGN, 4 steps per
 * iteration: a step is 4 SMLADs and 4 loads (11 cycles, where the pair's 16 also computed the duplicate
 * pixel). Accumulators r2, r4, r6, r8; the packed word stored at out0. */
#define TP_GEMM_STEP1                                                                          \
    "smlad r2, r12, r10, r2\n\t"                                                               \
    "smlad r4, lr, r10, r4\n\t"                                                                \
    "ldrd r12, lr, [r1], #8\n\t"                                                               \
    "smlad r6, r12, r10, r6\n\t"                                                               \
    "smlad r8, lr, r10, r8\n\t"                                                                \
    TP_GEMM_NEXT1
#define TP_GEMM_NEXT1                                                                          \
    "ldr r10, [r0], #8\n\t"                                                                    \
    "ldr r12, [r1], #4\n\t"                                                                    \
    "ldr lr, [r1], #4\n\t"
#define TP_GEMM_RQ1(LOAD, M, C, R, A, MODE)                                                    \
    LOAD                                                                                       \
    TP_GEMM_T_##MODE(C, A)                                                                     \
    "smmlar " A ", " A ", " M ", " TP_GEMM_R_##MODE(C) "\n\t"                                  \
    "asr " A ", " A ", " R "\n\t"                                                              \
    "ssat " A ", #8, " A "\n\t"
#define TP_GEMM_RQ1N(A, MODE) TP_GEMM_RQ1("ldm r1!, {r10, r11, r12}\n\t", "r10", "r11", "r12", A, MODE)
#define TP_GEMM_QUADS1_FN(NAME, MODE)                                                          \
    static inline void NAME(const tp_gemm_job *job)                                            \
    {                                                                                          \
        register const tp_gemm_job *j __asm__("r0") = job;                                     \
        __asm__ volatile("ldm r0, {r1, r2, r3, r4, r5, r6}\n\t"                                 \
                         "push {r1, r3, r4, r5, r6}\n\t"                                        \
                         "mov r0, r1\n\t"                                                      \
                         "mov r1, r2\n\t"                                                      \
                         "1:\n\t"                                                              \
                         "ldm r1!, {r2, r4, r6, r8}\n\t"                                       \
                         TP_GEMM_NEXT1                                                         \
                         ".p2align 3\n\t"                                                      \
                         "2:\n\t"                                                              \
                         TP_GEMM_STEP1 TP_GEMM_STEP1 TP_GEMM_STEP1 TP_GEMM_STEP1               \
                         "cmp r10, #0x7f7f7f7f\n\t"                                            \
                         "bne 2b\n\t"                                                          \
                         TP_GEMM_RQ1("ldr r10, [r1], #4\n\t", "r12", "lr", "r10", "r2", MODE)  \
                         TP_GEMM_RQ1N("r4", MODE) TP_GEMM_RQ1N("r6", MODE) TP_GEMM_RQ1N("r8", MODE) \
                         "bfi r2, r4, #8, #8\n\t"                                              \
                         "bfi r2, r6, #16, #8\n\t"                                             \
                         "bfi r2, r8, #24, #8\n\t"                                             \
                         "ldr r10, [sp, #4]\n\t"                                               \
                         "str r2, [r10], #4\n\t"                                               \
                         "ldr r12, [sp, #12]\n\t"                                              \
                         "str r10, [sp, #4]\n\t"                                               \
                         "ldr r0, [sp]\n\t"                                                    \
                         "cmp r10, r12\n\t"                                                    \
                         "bne 1b\n\t"                                                          \
                         "add sp, sp, #20\n\t"                                                 \
                         : "+r"(j)                                                             \
                         :                                                                     \
                         : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", \
                           "lr", "cc", "memory");                                              \
    }
TP_GEMM_QUADS1_FN(tp_gemm_quads1, FOLDED)
TP_GEMM_QUADS1_FN(tp_gemm_quads1n, NOSIGN)
typedef void (*tp_gemm_fn)(const tp_gemm_job *job);
/** The variant for a lone pixel (!second: only out0 is written): tp_gemm_quads1/1n, or for unfolded
 *  layers `pair` (which also computes the duplicate). */
static inline tp_gemm_fn tp_gemm_pick1(tp_gemm_fn pair, int32_t mode)
{
    return mode == TP_RQ_UNFOLDED ? pair : mode == TP_RQ_NOSIGN ? tp_gemm_quads1n : tp_gemm_quads1;
}
/** The asm variant for calls of `quads` quads (chosen once per chunk, outside the pixel loop): the 8-step
 *  loop when kq % 16 == 0 and the call is long enough (TP_GEMM_MIN8); the clamped rounding term when the
 *  layer has shift-0 channels. */
static inline tp_gemm_fn tp_gemm_pick(int32_t kq, int32_t quads, int32_t mode)
{
    const int eight = (kq & 8) == 0 && (TP_GEMM_MIN8 == 0 || quads * kq >= TP_GEMM_MIN8);
    if (mode == TP_RQ_UNFOLDED) {
        return eight ? tp_gemm_quads8z : tp_gemm_quads4z;
    }
    if (mode == TP_RQ_NOSIGN) {
        return eight ? tp_gemm_quads8n : tp_gemm_quads4n;
    }
    return eight ? tp_gemm_quads8 : tp_gemm_quads4;
}
#else
typedef void (*tp_gemm_fn)(const tp_gemm_job *job);
static inline tp_gemm_fn tp_gemm_pick(int32_t kq, int32_t quads, int32_t mode)
{
    (void)kq, (void)quads, (void)mode;
    return tp_gemm_quads_c;
}
static inline tp_gemm_fn tp_gemm_pick1(tp_gemm_fn pair, int32_t mode)
{
    (void)mode;
    return pair;
}
#endif

/** Sign-extend n inputs (n % 4 == 0) into one pixel's slots of the column pair: dst = cols + 2 * p + 2 * k0
 *  for pixel p (0 or 1) and first input k0 (k0 % 4 == 0). */
static inline void tp_expand_run(const int8_t *src, int16_t *dst, int32_t n)
{
    for (int32_t g = n >> 3; g > 0; --g, src += 8, dst += 16) {   /* two groups: loads and stores pipeline */
        const int32_t v0 = tp_read_s8x4(src), v1 = tp_read_s8x4(src + 4);
        const int32_t l0 = tp_sxtb16(v0), h0 = tp_sxtb16_ror8(v0), l1 = tp_sxtb16(v1), h1 = tp_sxtb16_ror8(v1);
        __builtin_memcpy(dst, &l0, 4);
        __builtin_memcpy(dst + 4, &h0, 4);
        __builtin_memcpy(dst + 8, &l1, 4);
        __builtin_memcpy(dst + 12, &h1, 4);
    }
    if (n & 4) {
        const int32_t v = tp_read_s8x4(src);
        const int32_t lo = tp_sxtb16(v), hi = tp_sxtb16_ror8(v);
        __builtin_memcpy(dst, &lo, 4);
        __builtin_memcpy(dst + 4, &hi, 4);
    }
}

/** The same slots for n padded inputs (n % 4 == 0): the input zero point `pad`. */
static inline void tp_fill_run(int8_t pad, int16_t *dst, int32_t n)
{
    const int32_t v = (int32_t)((uint32_t)(uint16_t)pad | ((uint32_t)(uint16_t)pad << 16));
    for (int32_t g = n >> 2; g > 0; --g, dst += 8) {
        __builtin_memcpy(dst, &v, 4);
        __builtin_memcpy(dst + 4, &v, 4);
    }
}

/** Sign-extend n inputs (n % 4 == 0) of both pixels (s0 -> slot 0, s1 -> slot 1) into the column pair at
 *  dst (= cols + 2 k0): per group the four words in order, stored with STM (~6.5 cycles per pixel and
 *  group). */
static inline void tp_expand2(const int8_t *s0, const int8_t *s1, int16_t *dst, int32_t n)
{
#if TP_M4_ASM
    for (; n >= 8; n -= 8) {   /* two groups: four pipelined LDRs, one STM of 8 words */
        __asm__ volatile("ldr r4, [%[a]], #4\n\t"
                         "ldr r5, [%[b]], #4\n\t"
                         "ldr r8, [%[a]], #4\n\t"
                         "ldr r9, [%[b]], #4\n\t"
                         "sxtb16 r6, r4, ror #8\n\t"
                         "sxtb16 r4, r4\n\t"
                         "sxtb16 r7, r5, ror #8\n\t"
                         "sxtb16 r5, r5\n\t"
                         "sxtb16 r10, r8, ror #8\n\t"
                         "sxtb16 r8, r8\n\t"
                         "sxtb16 r11, r9, ror #8\n\t"
                         "sxtb16 r9, r9\n\t"
                         "stmia %[d]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                         : [a] "+r"(s0), [b] "+r"(s1), [d] "+r"(dst)
                         :
                         : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "memory");
    }
    if (n & 4) {
        __asm__ volatile("ldr r4, [%[a]], #4\n\t"
                         "ldr r5, [%[b]], #4\n\t"
                         "sxtb16 r6, r4, ror #8\n\t"
                         "sxtb16 r4, r4\n\t"
                         "sxtb16 r7, r5, ror #8\n\t"
                         "sxtb16 r5, r5\n\t"
                         "stmia %[d]!, {r4, r5, r6, r7}\n\t"
                         : [a] "+r"(s0), [b] "+r"(s1), [d] "+r"(dst)
                         :
                         : "r4", "r5", "r6", "r7", "memory");
    }
#else
    for (int32_t g = n >> 2; g > 0; --g, s0 += 4, s1 += 4, dst += 8) {
        const int32_t v0 = tp_read_s8x4(s0), v1 = tp_read_s8x4(s1);
        const int32_t w[4] = {tp_sxtb16(v0), tp_sxtb16(v1), tp_sxtb16_ror8(v0), tp_sxtb16_ror8(v1)};
        __builtin_memcpy(dst, w, 16);
    }
#endif
}

/** Copy nq quads from the flash blob (src) into the SRAM cache (dst), both 4-byte aligned: bias and
 *  requantization words as they are, each int8 weight word (w0, w1, w2, w3) of a group expanded to
 *  (2 w0, 2 w2) in half 0 and (2 w1, 2 w3) in half 1 (see the layouts above). Per group of 16 weights:
 *  LDM of 4 words (2 flash reads), 8 SXTB16, 8 SADD16 (doubling), STM of 8 words: ~40 cycles with the
 *  flash wait states, about what copying the same weights as int16 cost, at half the flash bytes. */
static inline void tp_load_quads(int8_t *dst, const int8_t *src, int32_t nq, int32_t kq)
{
#if TP_M4_ASM
#define TP_EXPAND_GROUP                                                                        \
    "ldmia %[s]!, {r4, r5, r6, r7}\n\t"                                                         \
    "sxtb16 r8, r4, ror #8\n\t"                                                                \
    "sxtb16 r9, r5, ror #8\n\t"                                                                \
    "sxtb16 r10, r6, ror #8\n\t"                                                               \
    "sxtb16 r11, r7, ror #8\n\t"                                                               \
    "sxtb16 r4, r4\n\t"                                                                        \
    "sxtb16 r5, r5\n\t"                                                                        \
    "sxtb16 r6, r6\n\t"                                                                        \
    "sxtb16 r7, r7\n\t"                                                                        \
    "sadd16 r4, r4, r4\n\t"                                                                    \
    "sadd16 r5, r5, r5\n\t"                                                                    \
    "sadd16 r6, r6, r6\n\t"                                                                    \
    "sadd16 r7, r7, r7\n\t"                                                                    \
    "sadd16 r8, r8, r8\n\t"                                                                    \
    "sadd16 r9, r9, r9\n\t"                                                                    \
    "sadd16 r10, r10, r10\n\t"                                                                 \
    "sadd16 r11, r11, r11\n\t"                                                                 \
    "stmia %[d]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
    for (; nq > 0; --nq) {
        int32_t pairs = kq >> 3;   /* kq / 4 groups, an even number: two per iteration */
        __asm__ volatile("ldmia %[s]!, {r4, r5, r6, r7}\n\t"
                         "stmia %[d]!, {r4, r5, r6, r7}\n\t"
                         "1:\n\t"
                         TP_EXPAND_GROUP TP_EXPAND_GROUP
                         "subs %[g], %[g], #1\n\t"
                         "bne 1b\n\t"
                         "ldmia %[s]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                         "stmia %[d]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                         "ldmia %[s]!, {r4, r5, r6, r7}\n\t"
                         "stmia %[d]!, {r4, r5, r6, r7}\n\t"
                         : [s] "+r"(src), [d] "+r"(dst), [g] "+r"(pairs)
                         :
                         : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");
    }
#undef TP_EXPAND_GROUP
#else
    for (; nq > 0; --nq, src += 64 + 4 * kq, dst += 64 + 8 * kq) {
        __builtin_memcpy(dst, src, 16);
        for (int32_t g = 0; g < kq / 4; ++g) {
            for (int32_t ch = 0; ch < 4; ++ch) {
                const int32_t v = tp_read_s8x4(src + 16 + 16 * g + 4 * ch);
                const int32_t lo = tp_sxtb16(v), hi = tp_sxtb16_ror8(v);
                const int32_t lo2 = tp_sadd16(lo, lo), hi2 = tp_sadd16(hi, hi);
                __builtin_memcpy(dst + 16 + 32 * g + 4 * ch, &lo2, 4);
                __builtin_memcpy(dst + 16 + 32 * g + 16 + 4 * ch, &hi2, 4);
            }
        }
        __builtin_memcpy(dst + 16 + 8 * kq, src + 16 + 4 * kq, 48);
    }
#endif
}

/** Column source for tp_conv_run: expands the inputs of output pixels px (slot 0) and px + 1 (slot 1; px
 *  again when !second) into the column pair `cols`; `row` is a k-byte gather buffer. */
typedef void (*tp_col_fn)(const tp_conv_s8_t *op, const int8_t *in_b, int32_t px, int32_t second, int8_t *row,
                          int16_t *cols);

/** The blob's header (see tp_conv.h): the live channels (nonzero weights) that the quads compute; the
 *  others ("dead": all weights zero) output a constant, fill[c]. Returns the first quad. */
typedef struct {
    int32_t live;            /**< live channels; == C_OUT: no header arrays, quad lane j is channel j */
    int32_t mode;            /**< the requantization form, TP_RQ_* */
    const int8_t *fill;      /**< C_OUT bytes: the output of every channel (dead ones matter) */
    const uint16_t *map;     /**< channel of compacted lane j, j < live */
} tp_blob_head;

static inline const int8_t *tp_blob_header(const tp_conv_s8_t *op, tp_blob_head *h)
{
    const int8_t *b = op->weights;
    h->live = tp_read_s8x4(b);
    h->mode = tp_read_s8x4(b + 4);
    h->fill = b + 8;
    h->map = (const uint16_t *)(const void *)(h->fill + ((op->output.c + 3) & ~3));
    return h->live == op->output.c ? h->fill : (const int8_t *)(h->map + ((h->live + 1) & ~1));
}

/** Scratch bytes of the compacted outputs of one pixel pair (0 without dead channels). */
static inline int32_t tp_compact_bytes(const tp_conv_s8_t *op, const tp_blob_head *h)
{
    return h->live == op->output.c ? 0 : 8 * ((h->live + 3) >> 2);
}

/** Every output pixel gets the fill pattern (the dead channels' constants; live ones are overwritten): the
 *  first pixel from flash, then the filled part doubled by copies within SRAM (no flash wait states). */
static inline void tp_fill_outputs(const tp_conv_s8_t *op, const int8_t *fill, int8_t *output)
{
    const size_t total = (size_t)op->output.c * (size_t)(op->output.n * op->output.h * op->output.w);
    __builtin_memcpy(output, fill, (size_t)op->output.c);
    for (size_t done = (size_t)op->output.c; done < total; done *= 2) {
        __builtin_memcpy(output + done, output, done < total - done ? done : total - done);
    }
}

/** The state of one chunk of quads in tp_conv_run (what the out-of-line steps below need). */
typedef struct {
    tp_gemm_job job;
    tp_gemm_fn gemm_last;
    const tp_conv_s8_t *op;
    tp_blob_head h;
    const int8_t *w;     /**< the cached quads of the chunk */
    int32_t q0, nq, full, nl, qs, fixes;
} tp_conv_chunk;

/** Without dead channels: the last partial quad (C_OUT % 4 lanes) of the pixel pair at base, through a
 *  small buffer. */
static void __attribute__((noinline)) tp_conv_partial(tp_conv_chunk *c, int8_t *base, int32_t second)
{
    const int32_t out_c = c->op->output.c;
    int32_t tmp[2];
    int8_t *dst = base + 4 * c->full;
    c->job.w = c->w + c->full * c->qs;
    c->job.out0 = (int8_t *)tmp;
    c->job.d1 = 4;
    c->job.end0 = c->job.out0 + 4;
    c->gemm_last(&c->job);
    for (int32_t i = 0; i < out_c - 4 * (c->q0 + c->full); ++i) {
        dst[i] = c->job.out0[i];
        dst[(second ? out_c : 0) + i] = c->job.out0[4 + i];
    }
}

/** The lanes with shift > 0 of the pixel pair whose chunk outputs start at base (pixel 1 at d1). */
static void __attribute__((noinline)) tp_conv_fixes(tp_conv_chunk *c, int8_t *base, int32_t d1)
{
    const tp_conv_s8_t *op = c->op;
    c->job.d1 = d1;
    for (int32_t l = 0; l < c->nl; ++l) {
        const int32_t ch = c->h.live != op->output.c ? c->h.map[4 * c->q0 + l] : 4 * c->q0 + l;
        if (op->shift[ch] > 0) {
            c->job.out0 = base + (l & ~3);
            tp_gemm_fix(&c->job, c->w + (l >> 2) * c->qs, l & 3, &op->conv, op->multiplier[ch], op->shift[ch]);
        }
    }
}

/** With dead channels: the compacted lanes of the pixel pair (pixel 1 at 4 nq) to their channels of the
 *  output pixels o0 and o0 + C_OUT (when second). */
static void __attribute__((noinline)) tp_conv_scatter(const tp_conv_chunk *c, const int8_t *lanes, int8_t *o0,
                                                      int32_t second)
{
    const uint16_t *map = c->h.map + 4 * c->q0;
    int8_t *o1 = o0 + c->op->output.c;
    const int8_t *l1 = lanes + 4 * c->nq;
    if (second) {
        for (int32_t l = 0; l < c->nl; ++l) {
            const int32_t ch = map[l];
            o0[ch] = lanes[l];
            o1[ch] = l1[l];
        }
        return;
    }
    for (int32_t l = 0; l < c->nl; ++l) {
        o0[map[l]] = lanes[l];
    }
}

/** The M4 convolution driver. k: the GEMM depth (multiple of 4). Scratch: the column pair
 *  (tp_cols_bytes), one int8 row of k bytes, the compacted outputs of a pixel pair (only with dead
 *  channels), then the SRAM weight cache (at least one quad): chunks of whole quads are loaded there once
 *  (tp_load_quads), then every pixel pair is expanded and multiplied with the chunk. Without dead channels
 *  the GEMM writes the output directly (a last partial quad, C_OUT % 4, into a small buffer whose valid
 *  bytes are copied); with them it writes the compacted buffer, whose lanes are stored to their channels
 *  (the rest of each pixel was filled with the dead channels' constants first). The pixel loop is kept
 *  small (the rare steps out of line): it shares the 1 KB instruction cache with the GEMM. */
static inline tp_status tp_conv_run(const tp_conv_s8_t *op, const int8_t *input, int8_t *output,
                                    int16_t *scratch, tp_col_fn column, int32_t k)
{
    tp_conv_chunk c;
    c.op = op;
    const int8_t *blob = tp_blob_header(op, &c.h);
    const int32_t out_c = op->output.c, kq = tp_k8(k), compact = c.h.live != out_c;
    int8_t *row = (int8_t *)scratch + tp_cols_bytes(k), *lanes = row + k, *cache = lanes + tp_compact_bytes(op, &c.h);
    const int32_t cache_bytes = op->scratch_bytes - (int32_t)(cache - (int8_t *)scratch);
    const int32_t quads = (c.h.live + 3) >> 2;
    const int32_t pixels = op->output.h * op->output.w;
    const tp_conv_params *p = &op->conv;
    c.qs = tp_quad_stride(k);
    const int32_t chunk = cache_bytes / c.qs;   /* >= 1 (tp_conv_scratch_bytes) */
    c.fixes = 0;   /* live channels with shift > 0: recomputed after the quad GEMM */
    for (int32_t j = 0; j < c.h.live; ++j) {
        c.fixes += op->shift[compact ? c.h.map[j] : j] > 0;
    }
    if (compact) {
        tp_fill_outputs(op, c.h.fill, output);
    }
    for (int32_t i = 2 * k; i < 2 * kq; ++i) {
        scratch[i] = 0;
    }
    const int32_t sentinel[2] = {TP_GEMM_SENTINEL, TP_GEMM_SENTINEL};
    __builtin_memcpy(scratch + 2 * kq, sentinel, 8);
    const tp_gemm_job job = {scratch, NULL, NULL, 0, NULL, p->output_offset, kq, c.h.mode};
    c.job = job;
    for (c.q0 = 0; c.q0 < quads; c.q0 += chunk) {
        c.nq = quads - c.q0 < chunk ? quads - c.q0 : chunk;
        c.full = compact || 4 * (c.q0 + c.nq) <= out_c ? c.nq : c.nq - 1;
        c.nl = c.h.live - 4 * c.q0 < 4 * c.nq ? c.h.live - 4 * c.q0 : 4 * c.nq;   /* lanes of this chunk */
        c.w = cache;
        const tp_gemm_fn gemm = tp_gemm_pick(kq, c.full, c.h.mode);
        c.gemm_last = tp_gemm_pick(kq, 1, c.h.mode);
        const tp_gemm_fn gemm1 = tp_gemm_pick1(gemm, c.h.mode);
        tp_load_quads(cache, blob + c.q0 * tp_quad_flash_stride(k), c.nq, kq);
        for (int32_t b = 0; b < op->output.n; ++b) {
            const int8_t *in_b = input + b * op->input.h * op->input.w * op->input.c;
            int8_t *out = output + b * pixels * out_c;
            for (int32_t px = 0; px < pixels; px += 2) {
                const int32_t second = px + 1 < pixels;
                int8_t *base = compact ? lanes : out + px * out_c + 4 * c.q0;
                const int32_t d1 = compact ? 4 * c.nq : second ? out_c : 0;
                column(op, in_b, px, second, row, scratch);
                c.job.w = c.w;
                c.job.out0 = base;
                c.job.d1 = d1;
                c.job.end0 = base + 4 * c.full;
                if (c.full > 0) {
                    (second ? gemm : gemm1)(&c.job);
                }
                if (c.full < c.nq) {
                    tp_conv_partial(&c, base, second);
                }
                if (c.fixes) {
                    tp_conv_fixes(&c, base, d1);
                }
                if (compact) {
                    tp_conv_scatter(&c, lanes, out + px * out_c, second);
                }
            }
        }
    }
    if (p->act_min != -128 || p->act_max != 127) {   /* the activation clamp, one pass */
        for (int32_t i = 0; i < op->output.n * pixels * out_c; ++i) {
            output[i] = (int8_t)tp_clamp(output[i], p->act_min, p->act_max);
        }
    }
    return TP_OK;
}

#endif
