/* kernels_wasm.c: the WebAssembly SIMD128 backend of the kernel interface
 * (kernels.h), compiled only when the target has SIMD128 (-msimd128; the
 * wasm build sets it for the whole core) and chosen at build time.
 *
 * BitLinear: weights are repacked at load into blocks of 64 weights held in
 * 16 bytes: byte j of a block carries weights j, j+16, j+32, j+48 of the
 * block as 2-bit codes c = w + 1 at bits 0-1, 2-3, 4-5, 6-7. A shift and a
 * mask give 16 codes that line up with 16 consecutive activations; the codes
 * are widened to int16 and multiplied with int16 activations (widened once
 * per call) by i32x4.dot_i16x8, which sums pairs straight into int32 lanes,
 * so nothing can overflow. sum(c x) - sum(x) = sum(w x) exactly.
 * Activations are zero-padded to whole blocks, so padding adds nothing.
 * Decode runs 4 weight rows against the one activation row (the activation
 * vectors are loaded once for the 4 rows); prefill runs up to 4 token rows
 * against each unpacked block.
 *
 * The float kernels keep the summation order of the scalar reference where
 * the result feeds the int8 quantiser (rmsnorm: the sum of squares stays
 * sequential, the scaling is vectorised and bit-identical); matmul_f32
 * (lm_head, the TTT lr projection) sums in 4 lanes, within rounding of the
 * reference. The TTT inner loops (src/model/ttt_linear.c, ttt_math.h) are
 * element-wise loops that the compiler vectorises to f32x4 under -msimd128,
 * the same way the x86 build compiles them for AVX2 (target_clones.h). */
#if defined(__wasm_simd128__)

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>

#include "kernels_wasm.h"

#define BLOCK 64 /* weights per packed block (16 bytes) */

typedef struct PackedTernary {
    int nblocks;   /* per row: ceil(cols / 64) */
    uint8_t *data; /* rows x nblocks x 16 bytes, 16-byte aligned */
} PackedTernary;

static int wasm_prepare_ternary(TernaryMatrix *w) {
    PackedTernary *p = malloc(sizeof *p);
    if (!p) return -1;
    p->nblocks = (w->cols + BLOCK - 1) / BLOCK;
    size_t bytes = (size_t)w->rows * (size_t)p->nblocks * 16;
    p->data = aligned_alloc(16, bytes ? bytes : 16);
    if (!p->data) {
        free(p);
        return -1;
    }
    memset(p->data, 0, bytes);
    for (int o = 0; o < w->rows; o++) {
        const int8_t *row = w->w + (size_t)o * w->cols;
        uint8_t *dst = p->data + (size_t)o * p->nblocks * 16;
        for (int i = 0; i < w->cols; i++) {
            int b = i / BLOCK, k = i % BLOCK; /* block, index inside it */
            dst[b * 16 + k % 16] |= (uint8_t)((row[i] + 1) << (2 * (k / 16)));
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

/* codes of group k (0..3) of a packed block, as 16 bytes 0..2 */
static inline v128_t codes(v128_t v, int k) {
    const v128_t mask = wasm_i8x16_splat(3);
    return wasm_v128_and(k ? wasm_u16x8_shr(v, (uint32_t)(2 * k)) : v, mask);
}

/* acc += codes . x16 over the 16 weights of one group (x16: 16 int16) */
static inline v128_t dot16(v128_t c, const int16_t *x16, v128_t acc) {
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(c), wasm_v128_load(x16)));
    return wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(c), wasm_v128_load(x16 + 8)));
}

/* Decode: 4 weight rows against one padded int16 activation row. out[r] = sum c x. */
static void rows4_dot(const uint8_t *wp, size_t row_bytes, int nb, const int16_t *x, int32_t *out) {
    v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (int b = 0; b < nb; b++) {
        const int16_t *xb = x + (size_t)b * BLOCK;
        const uint8_t *w0 = wp + (size_t)b * 16;
        const v128_t v0 = wasm_v128_load(w0), v1 = wasm_v128_load(w0 + row_bytes);
        const v128_t v2 = wasm_v128_load(w0 + 2 * row_bytes), v3 = wasm_v128_load(w0 + 3 * row_bytes);
        for (int k = 0; k < 4; k++) {
            const v128_t xl = wasm_v128_load(xb + 16 * k), xh = wasm_v128_load(xb + 16 * k + 8);
            v128_t c = codes(v0, k);
            a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(c), xl));
            a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(c), xh));
            c = codes(v1, k);
            a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(c), xl));
            a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(c), xh));
            c = codes(v2, k);
            a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(c), xl));
            a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(c), xh));
            c = codes(v3, k);
            a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(c), xl));
            a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(c), xh));
        }
    }
    out[0] = hsum_i32x4(a0);
    out[1] = hsum_i32x4(a1);
    out[2] = hsum_i32x4(a2);
    out[3] = hsum_i32x4(a3);
}

/* One weight row against NT (1..4) padded activation rows `padded` apart. */
static inline void row_dot(const uint8_t *wp, int nb, const int16_t *x, size_t padded, int NT,
                           int32_t *out) {
    v128_t acc[4];
    for (int t = 0; t < NT; t++) acc[t] = wasm_i32x4_splat(0);
    for (int b = 0; b < nb; b++) {
        const v128_t v = wasm_v128_load(wp + (size_t)b * 16);
        for (int k = 0; k < 4; k++) {
            const v128_t c = codes(v, k);
            for (int t = 0; t < NT; t++) acc[t] = dot16(c, x + t * padded + (size_t)b * BLOCK + 16 * k, acc[t]);
        }
    }
    for (int t = 0; t < NT; t++) out[t] = hsum_i32x4(acc[t]);
}

/* acc[t, o] = sum_i w[o, i] xq[t, i] (T x rows) */
static void wasm_ternary_matmul_i8(const TernaryMatrix *w, const int8_t *xq, int T, int32_t *acc) {
    const PackedTernary *p = w->packed;
    const size_t padded = (size_t)p->nblocks * BLOCK, row_bytes = (size_t)p->nblocks * 16;
    int16_t *x16 = aligned_alloc(16, (size_t)T * padded * sizeof(int16_t) + 16);
    int32_t *xsum = malloc((size_t)T * sizeof(int32_t) + 1);
    if (!x16 || !xsum) { /* no memory for the scratch: the reference still works */
        free(x16);
        free(xsum);
        kernels_scalar()->ternary_matmul_i8(w, xq, T, acc);
        return;
    }
    for (int t = 0; t < T; t++) { /* widened, zero-padded copies and their sums */
        const int8_t *src = xq + (size_t)t * w->cols;
        int16_t *dst = x16 + (size_t)t * padded;
        int32_t sum = 0;
        for (int i = 0; i < w->cols; i++) {
            dst[i] = src[i];
            sum += src[i];
        }
        for (size_t i = (size_t)w->cols; i < padded; i++) dst[i] = 0;
        xsum[t] = sum;
    }
    int32_t out[4];
    for (int t0 = 0; t0 < T; t0 += 4) {
        const int nt = T - t0 < 4 ? T - t0 : 4;
        const int16_t *xt = x16 + (size_t)t0 * padded;
        int o = 0;
        if (nt == 1)
            for (; o + 4 <= w->rows; o += 4) {
                rows4_dot(p->data + (size_t)o * row_bytes, row_bytes, p->nblocks, xt, out);
                for (int r = 0; r < 4; r++) acc[(size_t)t0 * w->rows + o + r] = out[r] - xsum[t0];
            }
        for (; o < w->rows; o++) {
            const uint8_t *wp = p->data + (size_t)o * row_bytes;
            switch (nt) { /* constant NT: the accumulators stay in locals */
            case 1: row_dot(wp, p->nblocks, xt, padded, 1, out); break;
            case 2: row_dot(wp, p->nblocks, xt, padded, 2, out); break;
            case 3: row_dot(wp, p->nblocks, xt, padded, 3, out); break;
            default: row_dot(wp, p->nblocks, xt, padded, 4, out); break;
            }
            for (int t = 0; t < nt; t++) acc[(size_t)(t0 + t) * w->rows + o] = out[t] - xsum[t0 + t];
        }
    }
    free(x16);
    free(xsum);
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
    for (; i + 4 <= n; i += 4) vmax = wasm_f32x4_max(vmax, wasm_f32x4_abs(wasm_v128_load(x + i)));
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
            q[k] = wasm_i32x4_trunc_sat_f32x4(r); /* exact: r is integral */
        }
        const v128_t q16a = wasm_i16x8_narrow_i32x4(q[0], q[1]), q16b = wasm_i16x8_narrow_i32x4(q[2], q[3]);
        wasm_v128_store(xq + i, wasm_i8x16_narrow_i16x8(q16a, q16b));
    }
    for (; i < n; i++) {
        float r = roundf(x[i] * s);
        xq[i] = (int8_t)(r > 127.0f ? 127 : r < -127.0f ? -127 : (int)r);
    }
    return s;
}

static inline float hsum_f32x4(v128_t v) {
    /* (l0 + l2) + (l1 + l3) */
    const v128_t s = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1);
}

/* y[t, o] = sum_i W[o, i] x[t, i]: 4 rows share each activation load. */
static void wasm_matmul_f32(const float *W, int rows, int cols, const float *x, int T, float *y) {
    const int full = cols & ~3;
    const size_t C = (size_t)cols;
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * C;
        float *yt = y + (size_t)t * rows;
        int o = 0;
        for (; o + 4 <= rows; o += 4) {
            const float *r0 = W + (size_t)o * C;
            v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < full; i += 4) {
                const v128_t xv = wasm_v128_load(xt + i);
                a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(r0 + i), xv));
                a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(r0 + C + i), xv));
                a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(r0 + 2 * C + i), xv));
                a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load(r0 + 3 * C + i), xv));
            }
            float s[4] = {hsum_f32x4(a0), hsum_f32x4(a1), hsum_f32x4(a2), hsum_f32x4(a3)};
            for (int r = 0; r < 4; r++) {
                for (int i = full; i < cols; i++) s[r] += r0[r * C + i] * xt[i];
                yt[o + r] = s[r];
            }
        }
        for (; o < rows; o++) {
            const float *row = W + (size_t)o * C;
            v128_t a = wasm_f32x4_splat(0.0f);
            for (int i = 0; i < full; i += 4)
                a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load(row + i), wasm_v128_load(xt + i)));
            float sum = hsum_f32x4(a);
            for (int i = full; i < cols; i++) sum += row[i] * xt[i];
            yt[o] = sum;
        }
    }
}

/* acc += w . x over 16 int8 weights (loaded) and 16 int16 activations */
static inline v128_t dot_i8w(v128_t w, const int16_t *x16, v128_t acc) {
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w), wasm_v128_load(x16)));
    return wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w), wasm_v128_load(x16 + 8)));
}

/* Int8 rows x int8 activations (the int8 lm_head), exact int32. */
static void wasm_int8_matmul(const Int8Matrix *w, const int8_t *xq, int T, int32_t *acc) {
    const int full = w->cols & ~15;
    const size_t C = (size_t)w->cols;
    int16_t *x16 = aligned_alloc(16, ((C * sizeof(int16_t) + 15) / 16) * 16 + 16);
    if (!x16) {
        kernels_scalar()->int8_matmul(w, xq, T, acc);
        return;
    }
    for (int t = 0; t < T; t++) {
        const int8_t *x = xq + (size_t)t * C;
        for (size_t i = 0; i < C; i++) x16[i] = x[i];
        int o = 0;
        for (; o + 4 <= w->rows; o += 4) { /* four rows share the activation loads */
            const int8_t *r0 = w->w + (size_t)o * C;
            v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < full; i += 16) {
                a0 = dot_i8w(wasm_v128_load(r0 + i), x16 + i, a0);
                a1 = dot_i8w(wasm_v128_load(r0 + C + i), x16 + i, a1);
                a2 = dot_i8w(wasm_v128_load(r0 + 2 * C + i), x16 + i, a2);
                a3 = dot_i8w(wasm_v128_load(r0 + 3 * C + i), x16 + i, a3);
            }
            int32_t s[4] = {hsum_i32x4(a0), hsum_i32x4(a1), hsum_i32x4(a2), hsum_i32x4(a3)};
            for (int r = 0; r < 4; r++) {
                for (int i = full; i < w->cols; i++) s[r] += (int32_t)r0[r * C + i] * x[i];
                acc[(size_t)t * w->rows + o + r] = s[r];
            }
        }
        for (; o < w->rows; o++) {
            const int8_t *row = w->w + (size_t)o * C;
            v128_t a = wasm_i32x4_splat(0);
            for (int i = 0; i < full; i += 16) a = dot_i8w(wasm_v128_load(row + i), x16 + i, a);
            int32_t sum = hsum_i32x4(a);
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
