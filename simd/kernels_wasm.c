/* kernels_wasm.c: the WebAssembly SIMD128 backend of the kernel interface
 * (kernels.h), compiled only when the target has SIMD128 (-msimd128; the
 * wasm build sets it for the whole core) and chosen at build time.
 *
 * BitLinear: weights are repacked at load into blocks of 64 weights held in
 * 16 bytes: byte j of a block carries weights j, j+16, j+32, j+48 of the
 * block as 2-bit codes c = w + 1 at bits 0-1, 2-3, 4-5, 6-7. Rows come in
 * groups of 4 whose blocks are interleaved (block b of rows 0..3, then block
 * b + 1, ...), so a 4-row kernel reads one sequential stream. A shift and a
 * mask give 16 codes that line up with 16 consecutive activations, and
 * sum(c x) - sum(x) = sum(w x) exactly. Decode (one token row): codes and
 * activations widened to int16, i32x4.dot_i16x8 into int32 lanes. Prefill:
 * 4 rows x 2 token rows per pass, i16x8.extmul of codes and int8
 * activations summed in int16 lanes (at most 16 blocks, no overflow), then
 * widened. Activations are zero-padded to whole blocks where needed.
 *
 * The float kernels keep the summation order of the scalar reference where
 * the result feeds the int8 quantiser (rmsnorm: the sum of squares stays
 * sequential, the scaling is vectorised and bit-identical); matmul_f32
 * (lm_head, the TTT gates) goes row by row (one read stream) in 4 x 4
 * lanes, in the summation order that kernels.h fixes for every backend
 * (the same bits as the reference). The TTT inner loops (src/model/ttt_linear.c, ttt_math.h) are
 * element-wise loops that the compiler vectorises to f32x4 under -msimd128,
 * the same way the x86 build compiles them for AVX2 (target_clones.h). */
#if defined(__wasm_simd128__)

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>

#include "kernels_wasm.h"

#define BLOCK 64  /* weights per packed block (16 bytes) */
#define GROUP 4   /* rows interleaved block by block */
#define SPAN 16   /* blocks summed in int16 lanes before widening to int32 */

typedef struct PackedTernary {
    int nblocks;   /* per row: ceil(cols / 64) */
    int ngroups;   /* ceil(rows / 4) */
    uint8_t *data; /* ngroups x nblocks x 4 rows x 16 bytes, 16-byte aligned */
} PackedTernary;

static int wasm_prepare_ternary(TernaryMatrix *w) {
    PackedTernary *p = malloc(sizeof *p);
    if (!p) return -1;
    p->nblocks = (w->cols + BLOCK - 1) / BLOCK;
    p->ngroups = (w->rows + GROUP - 1) / GROUP;
    size_t bytes = (size_t)p->ngroups * (size_t)p->nblocks * GROUP * 16;
    p->data = aligned_alloc(16, bytes ? bytes : 16);
    if (!p->data) {
        free(p);
        return -1;
    }
    memset(p->data, 0, bytes);
    for (int o = 0; o < p->ngroups * GROUP; o++) { /* padding (rows and columns): weight 0 */
        const int8_t *row = o < w->rows ? w->w + (size_t)o * w->cols : NULL;
        uint8_t *dst = p->data + ((size_t)(o / GROUP) * p->nblocks * GROUP + o % GROUP) * 16;
        for (int i = 0; i < p->nblocks * BLOCK; i++) {
            const int b = i / BLOCK, k = i % BLOCK; /* block, index inside it */
            const int code = (row && i < w->cols ? row[i] : 0) + 1;
            dst[(size_t)b * GROUP * 16 + k % 16] |= (uint8_t)(code << (2 * (k / 16)));
        }
    }
    w->packed = p;
    return 0;
}

static void wasm_release_ternary(TernaryMatrix *w) {
    PackedTernary *p = w->packed;
    if (p) free(p->data);
    free(p);
    w->packed = NULL;
}

static inline int32_t hsum_i32x4(v128_t v) {
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
           wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

/* codes of group k (0..3) of a packed block, as 16 bytes 0..2. Constant
 * shift counts: with a variable one (a k loop left rolled), clang 14 turns
 * the shift into 8 scalar lane shifts. */
static inline v128_t codes(v128_t v, int k) {
    const v128_t mask = wasm_i8x16_splat(3);
    switch (k) {
    case 0: return wasm_v128_and(v, mask);
    case 1: return wasm_v128_and(wasm_u16x8_shr(v, 2), mask);
    case 2: return wasm_v128_and(wasm_u16x8_shr(v, 4), mask);
    default: return wasm_v128_and(wasm_u16x8_shr(v, 6), mask);
    }
}

/* h + c x over 16 codes and 16 int8 activations, in 8 int16 lanes */
static inline v128_t madd16(v128_t h, v128_t c, v128_t x) {
    return wasm_i16x8_add(h, wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(c, x), wasm_i16x8_extmul_high_i8x16(c, x)));
}

/* h[r][t] += c x over group k of one block for NR rows (codes v) and NT
 * activation rows (xb: the block's first activation, rows xs apart) */
static inline __attribute__((always_inline)) void tile_k(const v128_t *v, int NR, const int8_t *xb, size_t xs,
                                                         int NT, int k, v128_t h[][4]) {
    v128_t xv[4];
    for (int t = 0; t < NT; t++) xv[t] = wasm_v128_load(xb + t * xs + 16 * k);
    for (int r = 0; r < NR; r++) {
        const v128_t c = codes(v[r], k);
        for (int t = 0; t < NT; t++) h[r][t] = madd16(h[r][t], c, xv[t]);
    }
}

/* sum(c x) of NR rows (of a 4-row group, starting at row r0 of it) against
 * NT activation rows `xs` bytes apart: out[r * NT + t]. Each int16 lane
 * takes 8 products |c x| <= 2 * 128 per block, so 16 blocks stay within
 * int16 before they are widened (extadd_pairwise) into int32. */
static inline __attribute__((always_inline)) void tile(const uint8_t *gp, int r0, int NR, int nb,
                                                       const int8_t *x, size_t xs, int NT, int32_t *out) {
    v128_t s[GROUP][4];
    for (int r = 0; r < NR; r++)
        for (int t = 0; t < NT; t++) s[r][t] = wasm_i32x4_splat(0);
    for (int b0 = 0; b0 < nb; b0 += SPAN) {
        const int b1 = nb - b0 < SPAN ? nb : b0 + SPAN;
        v128_t h[GROUP][4];
        for (int r = 0; r < NR; r++)
            for (int t = 0; t < NT; t++) h[r][t] = wasm_i16x8_splat(0);
        for (int b = b0; b < b1; b++) {
            const uint8_t *wb = gp + ((size_t)b * GROUP + (size_t)r0) * 16;
            v128_t v[GROUP];
            for (int r = 0; r < NR; r++) v[r] = wasm_v128_load(wb + 16 * r);
            const int8_t *xb = x + (size_t)b * BLOCK;
            tile_k(v, NR, xb, xs, NT, 0, h); /* k spelled out: see codes() */
            tile_k(v, NR, xb, xs, NT, 1, h);
            tile_k(v, NR, xb, xs, NT, 2, h);
            tile_k(v, NR, xb, xs, NT, 3, h);
        }
        for (int r = 0; r < NR; r++)
            for (int t = 0; t < NT; t++) s[r][t] = wasm_i32x4_add(s[r][t], wasm_i32x4_extadd_pairwise_i16x8(h[r][t]));
    }
    for (int r = 0; r < NR; r++)
        for (int t = 0; t < NT; t++) out[r * NT + t] = hsum_i32x4(s[r][t]);
}

/* Decode: the 4 rows of a group against one activation row widened to
 * int16 (x16): the codes are widened too and i32x4.dot_i16x8 sums pairs of
 * products straight into int32 lanes (in V8 one pmaddwd per 8 products;
 * the int8 extmul of `tile` costs more instructions when nothing shares the
 * codes). out[r] = sum c x. */
static void tile_rows4_t1(const uint8_t *gp, int nb, const int16_t *x16, int32_t *out) {
    v128_t s[GROUP];
    for (int r = 0; r < GROUP; r++) s[r] = wasm_i32x4_splat(0);
    for (int b = 0; b < nb; b++) {
        const uint8_t *wb = gp + (size_t)b * GROUP * 16;
        const int16_t *xb = x16 + (size_t)b * BLOCK;
        v128_t v[GROUP];
        for (int r = 0; r < GROUP; r++) v[r] = wasm_v128_load(wb + 16 * r);
        for (int k = 0; k < 4; k++) {
            const v128_t xl = wasm_v128_load(xb + 16 * k), xh = wasm_v128_load(xb + 16 * k + 8);
            for (int r = 0; r < GROUP; r++) {
                const v128_t c = codes(v[r], k);
                s[r] = wasm_i32x4_add(s[r], wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(c), xl));
                s[r] = wasm_i32x4_add(s[r], wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(c), xh));
            }
        }
    }
    for (int r = 0; r < GROUP; r++) out[r] = hsum_i32x4(s[r]);
}
/* Prefill: the 4 rows of a group against 2 activation rows (xs apart),
 * out[r * 2 + t]; measured faster in V8 than 2 rows x 4 tokens (register
 * pressure) or 1 row x 4 tokens. */
static void tile_rows4_t2(const uint8_t *gp, int nb, const int8_t *x, size_t xs, int32_t *out) {
    tile(gp, 0, 4, nb, x, xs, 2, out);
}

/* sum of n int8 values (n a multiple of 16) */
static int32_t sum_i8(const int8_t *x, size_t n) {
    v128_t s = wasm_i32x4_splat(0);
    for (size_t i = 0; i < n; i += 16)
        s = wasm_i32x4_add(s, wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(wasm_v128_load(x + i))));
    return hsum_i32x4(s);
}

static WasmTernaryPairs ternary_pairs; /* kernels_wasm_set_ternary_pairs */

/* The first 2 npairs token rows through the outside kernel (rows a
 * multiple of 4); returns the number of rows done (0 when there is no
 * memory for the activation sums). */
static int outside_pairs(const PackedTernary *p, int rows, const int8_t *x, size_t padded, int npairs,
                         int32_t *acc) {
    int32_t *xsums = malloc((size_t)npairs * 4 * sizeof *xsums);
    if (!xsums) return 0;
    for (int pr = 0; pr < npairs; pr++)
        for (int t = 0; t < 2; t++)
            xsums[4 * pr + 2 * t] = xsums[4 * pr + 2 * t + 1] = sum_i8(x + (size_t)(2 * pr + t) * padded, padded);
    ternary_pairs(p->data, p->nblocks, p->ngroups, p->nblocks * GROUP * 16, x, (int)padded, npairs, acc,
                  rows * (int)sizeof *acc, xsums);
    free(xsums);
    return 2 * npairs;
}

/* acc[t, o] = sum_i w[o, i] xq[t, i] = sum_i c x - sum_i x (T x rows):
 * token rows two at a time (through the outside kernel when one is set), a
 * lone row (decode) through tile_rows4_t1. */
static void wasm_ternary_matmul_i8(const TernaryMatrix *w, const int8_t *xq, int T, int32_t *acc) {
    const PackedTernary *p = w->packed;
    const int nb = p->nblocks, rows = w->rows;
    const size_t padded = (size_t)nb * BLOCK, group_bytes = (size_t)nb * GROUP * 16;
    const int8_t *x = xq;
    int8_t *xpad = NULL;
    int16_t *x16 = NULL;
    if (padded != (size_t)w->cols) /* zero-padded copies of the activation rows */
        xpad = malloc((size_t)T * padded + 1);
    if (T % 2) x16 = aligned_alloc(16, padded * sizeof *x16); /* the lone row, widened */
    if ((padded != (size_t)w->cols && !xpad) || (T % 2 && !x16)) {
        free(xpad); /* no memory for the scratch: the reference still works */
        free(x16);
        kernels_scalar()->ternary_matmul_i8(w, xq, T, acc);
        return;
    }
    if (xpad) {
        for (int t = 0; t < T; t++) {
            memcpy(xpad + (size_t)t * padded, xq + (size_t)t * w->cols, (size_t)w->cols);
            memset(xpad + (size_t)t * padded + w->cols, 0, padded - (size_t)w->cols);
        }
        x = xpad;
    }
    int32_t out[GROUP * 2];
    int t0 = 0;
    if (ternary_pairs && T >= 2 && rows % GROUP == 0)
        t0 = outside_pairs(p, rows, x, padded, T / 2, acc);
    while (t0 < T) {
        const int nt = T - t0 >= 2 ? 2 : 1;
        const int8_t *xt = x + (size_t)t0 * padded;
        int32_t xsum[2];
        for (int t = 0; t < nt; t++) xsum[t] = sum_i8(xt + (size_t)t * padded, padded);
        if (nt == 1)
            for (size_t i = 0; i < padded; i++) x16[i] = xt[i];
        for (int g = 0; g < p->ngroups; g++) {
            const uint8_t *gp = p->data + (size_t)g * group_bytes;
            const int o0 = g * GROUP, nr = rows - o0 < GROUP ? rows - o0 : GROUP;
            if (nt == 1) tile_rows4_t1(gp, nb, x16, out);
            else tile_rows4_t2(gp, nb, xt, padded, out);
            for (int r = 0; r < nr; r++)
                for (int t = 0; t < nt; t++) acc[(size_t)(t0 + t) * rows + o0 + r] = out[r * nt + t] - xsum[t];
        }
        t0 += nt;
    }
    free(x16);
    free(xpad);
}

/* roundf (half away from zero) of 4 floats, exactly: trunc, then one more
 * step away from zero where the dropped fraction is >= 0.5. */
static inline v128_t round_half_away(v128_t x) {
    const v128_t t = wasm_f32x4_trunc(x);
    const v128_t frac = wasm_f32x4_abs(wasm_f32x4_sub(x, t));
    const v128_t sign = wasm_v128_and(x, wasm_f32x4_splat(-0.0f));
    const v128_t step = wasm_v128_or(sign, wasm_f32x4_splat(1.0f));
    const v128_t up = wasm_f32x4_ge(frac, wasm_f32x4_splat(0.5f));
    return wasm_f32x4_add(t, wasm_v128_and(up, step));
}

static float wasm_quantize_row_i8(const float *x, int n, int8_t *xq) {
    v128_t vmax = wasm_f32x4_splat(0.0f);
    int i = 0;
    /* pmax (b > a ? b : a) keeps vmax where |x| is NaN: NaNs drop out, as in scalar
     * (f32x4_max would carry the NaN and lose the lane's maximum) */
    for (; i + 4 <= n; i += 4) vmax = wasm_f32x4_pmax(vmax, wasm_f32x4_abs(wasm_v128_load(x + i)));
    float maxabs = 0.0f;
    for (int k = 0; k < 4; k++) {
        float l = wasm_f32x4_extract_lane(vmax, 0);
        vmax = wasm_i32x4_shuffle(vmax, vmax, 1, 2, 3, 0);
        if (l > maxabs) maxabs = l;
    }
    for (; i < n; i++) maxabs = fabsf(x[i]) > maxabs ? fabsf(x[i]) : maxabs;
    const float s = 127.0f / (maxabs > 1e-5f ? maxabs : 1e-5f);
    const v128_t vs = wasm_f32x4_splat(s), lo = wasm_f32x4_splat(-127.0f), hi = wasm_f32x4_splat(127.0f);
    for (i = 0; i + 16 <= n; i += 16) {
        v128_t q[4];
        for (int k = 0; k < 4; k++) {
            v128_t r = round_half_away(wasm_f32x4_mul(wasm_v128_load(x + i + 4 * k), vs));
            r = wasm_f32x4_min(wasm_f32x4_max(r, lo), hi);
            q[k] = wasm_i32x4_trunc_sat_f32x4(r); /* exact: r is integral; NaN -> 0 */
        }
        const v128_t q16a = wasm_i16x8_narrow_i32x4(q[0], q[1]), q16b = wasm_i16x8_narrow_i32x4(q[2], q[3]);
        wasm_v128_store(xq + i, wasm_i8x16_narrow_i16x8(q16a, q16b));
    }
    for (; i < n; i++) xq[i] = kernels_round_i8(x[i] * s);
    return s;
}

static inline float hsum_f32x4(v128_t v) {
    /* (l0 + l2) + (l1 + l3) */
    const v128_t s = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1);
}

/* y[t, o] = sum_i W[o, i] x[t, i], one weight row at a time: the rows are
 * read as one sequential stream (for the 16 MB lm_head, V8 code that walks
 * 2 or 4 rows side by side runs about 4x slower: the reads are no longer
 * one stream), 16 floats per step in 4 accumulators. */
static void wasm_matmul_f32(const float *W, int rows, int cols, const float *x, int T, float *y) {
    const int full16 = cols & ~15, full4 = cols & ~3;
    const size_t C = (size_t)cols;
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * C;
        float *yt = y + (size_t)t * rows;
        for (int o = 0; o < rows; o++) {
            const float *row = W + (size_t)o * C;
            v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i < full16; i += 16) {
                a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(row + i), wasm_v128_load(xt + i)));
                a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(row + i + 4), wasm_v128_load(xt + i + 4)));
                a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(row + i + 8), wasm_v128_load(xt + i + 8)));
                a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load(row + i + 12), wasm_v128_load(xt + i + 12)));
            }
            for (; i < full4; i += 4)
                a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(row + i), wasm_v128_load(xt + i)));
            float sum = hsum_f32x4(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)));
            for (; i < cols; i++) sum += row[i] * xt[i];
            yt[o] = sum;
        }
    }
}

/* acc += w . x over 16 int8 weights (loaded) and 16 int16 activations */
static inline v128_t dot_i8w(v128_t w, const int16_t *x16, v128_t acc) {
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w), wasm_v128_load(x16)));
    return wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w), wasm_v128_load(x16 + 8)));
}

/* Int8 rows x int8 activations (the int8 lm_head), exact int32: one row at
 * a time (one sequential stream, as in wasm_matmul_f32), 32 weights a step. */
static void wasm_int8_matmul(const Int8Matrix *w, const int8_t *xq, int T, int32_t *acc) {
    const int full = w->cols & ~31;
    const size_t C = (size_t)w->cols;
    int16_t *x16 = aligned_alloc(16, ((C * sizeof(int16_t) + 15) / 16) * 16 + 16);
    if (!x16) {
        kernels_scalar()->int8_matmul(w, xq, T, acc);
        return;
    }
    for (int t = 0; t < T; t++) {
        const int8_t *x = xq + (size_t)t * C;
        for (size_t i = 0; i < C; i++) x16[i] = x[i];
        for (int o = 0; o < w->rows; o++) {
            const int8_t *row = w->w + (size_t)o * C;
            v128_t a0 = wasm_i32x4_splat(0), a1 = a0;
            for (int i = 0; i < full; i += 32) {
                a0 = dot_i8w(wasm_v128_load(row + i), x16 + i, a0);
                a1 = dot_i8w(wasm_v128_load(row + i + 16), x16 + i + 16, a1);
            }
            int32_t sum = hsum_i32x4(wasm_i32x4_add(a0, a1));
            for (int i = full; i < w->cols; i++) sum += (int32_t)row[i] * x[i];
            acc[(size_t)t * w->rows + o] = sum;
        }
    }
    free(x16);
}

/* y = x / sqrt(mean(x^2) + eps) * w: the sum of squares in the reference's
 * order (its result feeds the quantiser), the scaling 4 lanes at a time with
 * the same two roundings per value (x * inv, then * w). */
static void wasm_rmsnorm(const float *x, const float *w, int n, float eps, float *y) {
    float ss = 0.0f;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const float inv = 1.0f / sqrtf(ss / (float)n + eps);
    const v128_t vinv = wasm_f32x4_splat(inv);
    int i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(x + i), vinv), wasm_v128_load(w + i)));
    for (; i < n; i++) y[i] = x[i] * inv * w[i];
}

static Kernels wasm_kernels;

void kernels_wasm_set_ternary_pairs(WasmTernaryPairs fn) {
    kernels_wasm128();
    ternary_pairs = fn;
    wasm_kernels.name = fn ? "wasm128+relaxed" : "wasm128";
}

const Kernels *kernels_wasm128(void) {
    if (!wasm_kernels.name) {
        wasm_kernels = *kernels_scalar();
        wasm_kernels.name = "wasm128";
        wasm_kernels.prepare_ternary = wasm_prepare_ternary;
        wasm_kernels.release_ternary = wasm_release_ternary;
        wasm_kernels.ternary_matmul_i8 = wasm_ternary_matmul_i8;
        wasm_kernels.quantize_row_i8 = wasm_quantize_row_i8;
        wasm_kernels.matmul_f32 = wasm_matmul_f32;
        wasm_kernels.int8_matmul = wasm_int8_matmul;
        wasm_kernels.rmsnorm = wasm_rmsnorm;
    }
    return &wasm_kernels;
}

#endif
