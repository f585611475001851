/* kernels_avx2.c: the x86 AVX2 backend of the kernel interface (kernels.h).
 *
 * BitLinear: weights are repacked at load into blocks of 128 weights held
 * in 32 bytes: byte j of a block carries weights j, j+32, j+64, j+96 of the
 * block as 2-bit codes c = w + 1 at bits 0-1, 2-3, 4-5, 6-7. Four shifts and
 * masks give four 32-byte vectors of codes that line up with 32 consecutive
 * int8 activations each; _mm256_maddubs_epi16 multiplies the unsigned codes
 * with the signed activations, and sum(c x) - sum(x) = sum(w x) exactly.
 * Activations are zero-padded to whole blocks, so padding adds nothing.
 * Up to 4 token rows share each unpacked block (prefill reuses weights).
 *
 * Every function is compiled for avx2+fma through target attributes; the
 * caller picks this backend only after checking the CPU (kernels_best).
 * Kernels whose float results depend on summation order (rmsnorm) stay
 * scalar so that both backends feed the quantiser the same numbers. */
#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/kernels/kernels.h"
#include "../src/util/threadpool.h"
#include "kernels_avx2.h"

#include "x86_packed_ternary.h"

/* Products smaller than this many multiply-adds run on one thread: below
 * it (a 256 x 256 BitLinear for one token takes about a microsecond) the
 * hand-off to the pool costs more than the split saves. */
#define PARALLEL_MIN_WORK (1 << 18)

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

static int avx2_prepare_ternary(TernaryMatrix *w) {
    PackedTernary *p = malloc(sizeof *p);
    if (!p) return -1;
    p->nblocks = (w->cols + BLOCK - 1) / BLOCK;
    size_t bytes = (size_t)w->rows * p->nblocks * 32;
    p->data = aligned_alloc(32, bytes ? bytes : 32);
    if (!p->data) { free(p); return -1; }
    memset(p->data, 0, bytes);
    for (int o = 0; o < w->rows; o++) {
        const int8_t *row = w->w + (size_t)o * w->cols;
        uint8_t *dst = p->data + (size_t)o * p->nblocks * 32;
        for (int i = 0; i < w->cols; i++) {
            int b = i / BLOCK, k = i % BLOCK;   /* block, index inside it */
            dst[b * 32 + k % 32] |= (uint8_t)((row[i] + 1) << (2 * (k / 32)));
        }
    }
    w->packed = p;
    return 0;
}

static void avx2_release_ternary(TernaryMatrix *w) {
    PackedTernary *p = w->packed;
    if (p) free(p->data);
    free(p);
    w->packed = NULL;
}


/* One weight row against NT (1..4) padded activation rows: out[t] = sum c x. */
AVX2_INLINE void row_dot(const uint8_t *wp, int nb, const int8_t *xpad, size_t padded, int NT,
                         int32_t *out) {
    const __m256i mask = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
    __m256i acc32[4], acc16[4];
    for (int t = 0; t < NT; t++) acc32[t] = acc16[t] = _mm256_setzero_si256();
    for (int b = 0; b < nb; b++) {
        const __m256i v = _mm256_load_si256((const __m256i *)(wp + (size_t)b * 32));
        const __m256i c0 = _mm256_and_si256(v, mask);
        const __m256i c1 = _mm256_and_si256(_mm256_srli_epi16(v, 2), mask);
        const __m256i c2 = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
        const __m256i c3 = _mm256_and_si256(_mm256_srli_epi16(v, 6), mask);
        for (int t = 0; t < NT; t++) {
            const int8_t *xb = xpad + t * padded + (size_t)b * BLOCK;
            __m256i s = _mm256_maddubs_epi16(c0, _mm256_load_si256((const __m256i *)xb));
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(c1, _mm256_load_si256((const __m256i *)(xb + 32))));
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(c2, _mm256_load_si256((const __m256i *)(xb + 64))));
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(c3, _mm256_load_si256((const __m256i *)(xb + 96))));
            acc16[t] = _mm256_add_epi16(acc16[t], s);
        }
        /* a block adds at most 4 * 2 * 2 * 127 = 2032 per int16 lane: widen every 16 blocks */
        if ((b & 15) == 15)
            for (int t = 0; t < NT; t++) {
                acc32[t] = _mm256_add_epi32(acc32[t], _mm256_madd_epi16(acc16[t], ones));
                acc16[t] = _mm256_setzero_si256();
            }
    }
    for (int t = 0; t < NT; t++)
        out[t] = hsum_epi32(_mm256_add_epi32(acc32[t], _mm256_madd_epi16(acc16[t], ones)));
}


/* Decode: four weight rows against one activation row (the activation
 * vectors are loaded once for the four rows). out[r] = sum c x. */
AVX2_INLINE void rows4_dot(const uint8_t *wp, size_t row_bytes, int nb, const int8_t *x, int32_t *out) {
    const __m256i mask = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
    __m256i acc32[4], acc16[4];
    for (int r = 0; r < 4; r++) acc32[r] = acc16[r] = _mm256_setzero_si256();
    for (int b = 0; b < nb; b++) {
        const int8_t *xb = x + (size_t)b * BLOCK;
        const __m256i x0 = _mm256_load_si256((const __m256i *)xb);
        const __m256i x1 = _mm256_load_si256((const __m256i *)(xb + 32));
        const __m256i x2 = _mm256_load_si256((const __m256i *)(xb + 64));
        const __m256i x3 = _mm256_load_si256((const __m256i *)(xb + 96));
        for (int r = 0; r < 4; r++) {
            const __m256i v = _mm256_load_si256((const __m256i *)(wp + r * row_bytes + (size_t)b * 32));
            __m256i s = _mm256_maddubs_epi16(_mm256_and_si256(v, mask), x0);
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 2), mask), x1));
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), mask), x2));
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 6), mask), x3));
            acc16[r] = _mm256_add_epi16(acc16[r], s);
        }
        if ((b & 15) == 15)
            for (int r = 0; r < 4; r++) {
                acc32[r] = _mm256_add_epi32(acc32[r], _mm256_madd_epi16(acc16[r], ones));
                acc16[r] = _mm256_setzero_si256();
            }
    }
    for (int r = 0; r < 4; r++) acc32[r] = _mm256_add_epi32(acc32[r], _mm256_madd_epi16(acc16[r], ones));
    _mm_storeu_si128((__m128i *)out, hsum4_epi32(acc32[0], acc32[1], acc32[2], acc32[3]));
}

AVX2 static void avx2_rows_dot_nt(const PackedTernary *p, int o0, int o1, const int8_t *xpad,
                             size_t padded, int nt, const int32_t *xsum, int rows, int32_t *acc) {
    int32_t out[4];
    const size_t row_bytes = (size_t)p->nblocks * 32;
    if (nt == 1) /* decode: 4 rows at a time */
        for (; o0 + 4 <= o1; o0 += 4) {
            rows4_dot(p->data + (size_t)o0 * row_bytes, row_bytes, p->nblocks, xpad, out);
            for (int r = 0; r < 4; r++) acc[o0 + r] = out[r] - xsum[0];
        }
    for (int o = o0; o < o1; o++) {
        const uint8_t *wp = p->data + (size_t)o * p->nblocks * 32;
        switch (nt) { /* constant NT: the accumulators stay in registers */
        case 1: row_dot(wp, p->nblocks, xpad, padded, 1, out); break;
        case 2: row_dot(wp, p->nblocks, xpad, padded, 2, out); break;
        case 3: row_dot(wp, p->nblocks, xpad, padded, 3, out); break;
        default: row_dot(wp, p->nblocks, xpad, padded, 4, out); break;
        }
        for (int t = 0; t < nt; t++) acc[(size_t)t * rows + o] = out[t] - xsum[t];
    }
}

/* Zero-padded copies of the T activation rows (whole blocks) and their sums. */
static void pad_rows(const TernaryMatrix *w, const int8_t *xq, int T, size_t padded, int8_t *xpad,
                     int32_t *xsum) {
    for (int t = 0; t < T; t++) {
        const int8_t *src = xq + (size_t)t * w->cols;
        int8_t *dst = xpad + (size_t)t * padded;
        memcpy(dst, src, (size_t)w->cols);
        memset(dst + w->cols, 0, padded - (size_t)w->cols);
        int32_t sum = 0;
        for (int i = 0; i < w->cols; i++) sum += src[i];
        xsum[t] = sum;
    }
}

typedef struct TernaryJob {
    RowsDotFn rows_dot;
    const TernaryMatrix *w;
    const int8_t *xpad;
    const int32_t *xsum;
    size_t padded;
    int T;
    int32_t *acc;
} TernaryJob;

/* Rows [begin, end) for every group of up to 4 tokens. */
static void ternary_rows_job(void *ctx, int begin, int end, int worker) {
    (void)worker;
    const TernaryJob *j = ctx;
    for (int t0 = 0; t0 < j->T; t0 += 4) {
        const int nt = j->T - t0 < 4 ? j->T - t0 : 4;
        j->rows_dot(j->w->packed, begin, end, j->xpad + (size_t)t0 * j->padded, j->padded, nt,
                    j->xsum + t0, j->w->rows, j->acc + (size_t)t0 * j->w->rows);
    }
}

/* acc[t, o] = sum_i w[o, i] xq[t, i], rows split over the thread pool */
/* The product read from the packed blocks one weight at a time: the path
 * when the padded activations cannot be allocated (w->w may be dropped). */
static void packed_matmul_plain(const TernaryMatrix *w, const int8_t *xq, int T, int32_t *acc) {
    const PackedTernary *p = w->packed;
    for (int t = 0; t < T; t++)
        for (int o = 0; o < w->rows; o++) {
            const uint8_t *row = p->data + (size_t)o * p->nblocks * 32;
            int32_t sum = 0;
            for (int i = 0; i < w->cols; i++) {
                const int b = i / BLOCK, k = i % BLOCK;
                sum += (((row[b * 32 + k % 32] >> (2 * (k / 32))) & 3) - 1) * xq[(size_t)t * w->cols + i];
            }
            acc[(size_t)t * w->rows + o] = sum;
        }
}

static void ternary_matmul_with(RowsDotFn rows_dot, const TernaryMatrix *w, const int8_t *xq, int T,
                                int32_t *acc) {
    const PackedTernary *p = w->packed;
    const size_t padded = (size_t)p->nblocks * BLOCK;
    int8_t *xpad = aligned_alloc(32, (size_t)T * padded);
    int32_t *xsum = malloc((size_t)T * sizeof(int32_t));
    if (!xpad || !xsum) {
        free(xpad);
        free(xsum);
        packed_matmul_plain(w, xq, T, acc);
        return;
    }
    pad_rows(w, xq, T, padded, xpad, xsum);
    TernaryJob job = {rows_dot, w, xpad, xsum, padded, T, acc};
    if ((long long)w->rows * w->cols * T < PARALLEL_MIN_WORK) ternary_rows_job(&job, 0, w->rows, 0);
    else parallel_for(w->rows, 4, ternary_rows_job, &job);
    free(xpad);
    free(xsum);
}

static void avx2_ternary_matmul_i8(const TernaryMatrix *w, const int8_t *xq, int T, int32_t *acc) {
    ternary_matmul_with(avx2_rows_dot_nt, w, xq, T, acc);
}

static void vnni_ternary_matmul_i8(const TernaryMatrix *w, const int8_t *xq, int T, int32_t *acc) {
    ternary_matmul_with(vnni_rows_dot_nt, w, xq, T, acc);
}

/* roundf (half away from zero) of 8 floats, exactly: trunc, then one more
 * step away from zero where the dropped fraction is >= 0.5. */
AVX2_INLINE __m256 round_half_away(__m256 x) {
    const __m256 t = _mm256_round_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = _mm256_sub_ps(x, t);
    const __m256 sign_mask = _mm256_set1_ps(-0.0f);
    const __m256 abs_frac = _mm256_andnot_ps(sign_mask, frac);
    const __m256 step = _mm256_or_ps(_mm256_and_ps(x, sign_mask), _mm256_set1_ps(1.0f));
    const __m256 up = _mm256_cmp_ps(abs_frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    return _mm256_add_ps(t, _mm256_and_ps(up, step));
}

AVX2 static float avx2_quantize_row_i8(const float *x, int n, int8_t *xq) {
    const __m256 sign_mask = _mm256_set1_ps(-0.0f);
    __m256 vmax = _mm256_setzero_ps();
    int i = 0;
    /* max_ps returns its second operand when either is NaN: NaNs drop out, as in scalar */
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(_mm256_andnot_ps(sign_mask, _mm256_loadu_ps(x + i)), vmax);
    float lanes[8];
    _mm256_storeu_ps(lanes, vmax);
    float maxabs = 0.0f;
    for (int k = 0; k < 8; k++) maxabs = lanes[k] > maxabs ? lanes[k] : maxabs;
    for (; i < n; i++) maxabs = fabsf(x[i]) > maxabs ? fabsf(x[i]) : maxabs;
    const float s = 127.0f / (maxabs > 1e-5f ? maxabs : 1e-5f);
    const __m256 vs = _mm256_set1_ps(s), lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 r = round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
        r = _mm256_and_ps(r, _mm256_cmp_ps(r, r, _CMP_ORD_Q)); /* NaN -> 0 */
        r = _mm256_min_ps(_mm256_max_ps(r, lo), hi);
        __m256i q = _mm256_cvtps_epi32(r); /* exact: r is integral */
        __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        __m128i q8 = _mm_packs_epi16(q16, q16);
        _mm_storel_epi64((__m128i *)(xq + i), q8);
    }
    for (; i < n; i++) xq[i] = kernels_round_i8(x[i] * s);
    return s;
}

typedef struct F32Job {
    const float *W, *x;
    int rows, cols, T;
    float *y;
} F32Job;

/* Rows in the summation order of kernels.h (matmul_f32): lanes 0-7 in a0,
 * 8-15 in a1, blocks of 4 into lanes 0-3, mul then add (no FMA). */
AVX2 static void f32_rows_job(void *ctx, int begin, int end, int worker) {
    (void)worker;
    const F32Job *j = ctx;
    const float *W = j->W, *x = j->x;
    const int rows = j->rows, cols = j->cols;
    float *y = j->y;
    for (int t = 0; t < j->T; t++) {
        const float *xt = x + (size_t)t * cols;
        for (int o = begin; o < end; o++) {
            const float *row = W + (size_t)o * cols;
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            int i = 0;
            for (; i + 16 <= cols; i += 16) {
                a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_loadu_ps(row + i), _mm256_loadu_ps(xt + i)));
                a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_loadu_ps(row + i + 8), _mm256_loadu_ps(xt + i + 8)));
            }
            __m128 l0 = _mm256_castps256_ps128(a0);
            for (; i + 4 <= cols; i += 4) l0 = _mm_add_ps(l0, _mm_mul_ps(_mm_loadu_ps(row + i), _mm_loadu_ps(xt + i)));
            /* v = (lanes 0-3 + 4-7) + (8-11 + 12-15), then (v0 + v2) + (v1 + v3) */
            const __m128 v = _mm_add_ps(_mm_add_ps(l0, _mm256_extractf128_ps(a0, 1)),
                                        _mm_add_ps(_mm256_castps256_ps128(a1), _mm256_extractf128_ps(a1, 1)));
            const __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
            float sum = _mm_cvtss_f32(s) + _mm_cvtss_f32(_mm_shuffle_ps(s, s, 0x55));
            for (; i < cols; i++) sum += row[i] * xt[i];
            y[(size_t)t * rows + o] = sum;
        }
    }
}

static void avx2_matmul_f32(const float *W, int rows, int cols, const float *x, int T, float *y) {
    F32Job job = {W, x, rows, cols, T, y};
    if ((long long)rows * cols * T < PARALLEL_MIN_WORK) f32_rows_job(&job, 0, rows, 0);
    else parallel_for(rows, 4, f32_rows_job, &job);
}

/* Int8 rows x int8 activations: maddubs needs one unsigned operand, so
 * |w| meets x with w's sign moved onto it (sign_epi8); pairs sum to at most
 * 2 * 127 * 127 < 32768, then widen to int32 at once. */
AVX2_INLINE __m256i dot_i8_32(__m256i w, __m256i x) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)),
                             _mm256_set1_epi16(1));
}

typedef struct Int8Job {
    const Int8Matrix *w;
    const int8_t *xq;
    int T;
    int32_t *acc;
} Int8Job;

AVX2 static void int8_rows_job(void *ctx, int begin, int end, int worker) {
    (void)worker;
    const Int8Job *j = ctx;
    const Int8Matrix *w = j->w;
    const int8_t *xq = j->xq;
    int32_t *acc = j->acc;
    const int full = w->cols & ~31;
    const size_t C = (size_t)w->cols;
    for (int t = 0; t < j->T; t++) {
        const int8_t *x = xq + (size_t)t * C;
        int o = begin;
        for (; o + 4 <= end; o += 4) { /* four rows share the activation loads */
            const int8_t *r0 = w->w + (size_t)o * C;
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < full; i += 32) {
                const __m256i xv = _mm256_loadu_si256((const __m256i *)(x + i));
                a0 = _mm256_add_epi32(a0, dot_i8_32(_mm256_loadu_si256((const __m256i *)(r0 + i)), xv));
                a1 = _mm256_add_epi32(a1, dot_i8_32(_mm256_loadu_si256((const __m256i *)(r0 + C + i)), xv));
                a2 = _mm256_add_epi32(a2, dot_i8_32(_mm256_loadu_si256((const __m256i *)(r0 + 2 * C + i)), xv));
                a3 = _mm256_add_epi32(a3, dot_i8_32(_mm256_loadu_si256((const __m256i *)(r0 + 3 * C + i)), xv));
            }
            int32_t sums[4];
            _mm_storeu_si128((__m128i *)sums, hsum4_epi32(a0, a1, a2, a3));
            for (int r = 0; r < 4; r++) {
                for (int i = full; i < w->cols; i++) sums[r] += (int32_t)r0[r * C + i] * x[i];
                acc[(size_t)t * w->rows + o + r] = sums[r];
            }
        }
        for (; o < end; o++) {
            const int8_t *row = w->w + (size_t)o * C;
            __m256i a = _mm256_setzero_si256();
            for (int i = 0; i < full; i += 32)
                a = _mm256_add_epi32(a, dot_i8_32(_mm256_loadu_si256((const __m256i *)(row + i)),
                                                  _mm256_loadu_si256((const __m256i *)(x + i))));
            int32_t sum = hsum_epi32(a);
            for (int i = full; i < w->cols; i++) sum += (int32_t)row[i] * x[i];
            acc[(size_t)t * w->rows + o] = sum;
        }
    }
}

static void avx2_int8_matmul(const Int8Matrix *w, const int8_t *xq, int T, int32_t *acc) {
    Int8Job job = {w, xq, T, acc};
    if ((long long)w->rows * w->cols * T < PARALLEL_MIN_WORK) int8_rows_job(&job, 0, w->rows, 0);
    else parallel_for(w->rows, 4, int8_rows_job, &job);
}

static void vnni_int8_job(void *ctx, int begin, int end, int worker) {
    (void)worker;
    const Int8Job *j = ctx;
    vnni_int8_rows(j->w, j->xq, j->T, begin, end, j->acc);
}

static void vnni_int8_matmul(const Int8Matrix *w, const int8_t *xq, int T, int32_t *acc) {
    Int8Job job = {w, xq, T, acc};
    if ((long long)w->rows * w->cols * T < PARALLEL_MIN_WORK) vnni_int8_job(&job, 0, w->rows, 0);
    else parallel_for(w->rows, 4, vnni_int8_job, &job);
}

/* ---- dense float32 baseline: the same model with float weights ---- */

/* The ternary weights expanded to floats (w in {-1, 0, 1}; the scale g is
 * applied by the caller as for the ternary path): 4 bytes per weight, the
 * llama2.c-style engine our packed kernels are measured against. */
static int dense_prepare(TernaryMatrix *w) {
    size_t n = (size_t)w->rows * w->cols;
    float *f = aligned_alloc(32, ((n * sizeof(float) + 31) / 32) * 32);
    if (!f) return -1;
    for (size_t i = 0; i < n; i++) f[i] = (float)w->w[i];
    w->packed = f;
    return 0;
}

static void dense_release(TernaryMatrix *w) {
    free(w->packed);
    w->packed = NULL;
}

static void dense_ternary_matmul_f32(const TernaryMatrix *w, const float *x, int T, float *y) {
    avx2_matmul_f32(w->packed, w->rows, w->cols, x, T, y);
}

static Kernels dense_kernels;

const Kernels *kernels_dense_f32(void) {
    if (!dense_kernels.name) {
        dense_kernels = *kernels_avx2();
        dense_kernels.name = "dense-f32";
        dense_kernels.prepare_ternary = dense_prepare;
        dense_kernels.release_ternary = dense_release;
        /* Int8 activations (a model with act_quant int8 run with BITT_KERNELS=dense-f32 or
         * bench --kernels dense-f32): the exact scalar product over the canonical int8
         * weights, which every backend keeps next to its own layout. */
        dense_kernels.ternary_matmul_i8 = kernels_scalar()->ternary_matmul_i8;
        dense_kernels.i8_reads_packed_only = 0;
        dense_kernels.ternary_matmul_f32 = dense_ternary_matmul_f32;
    }
    return &dense_kernels;
}

static Kernels avx2_kernels;

const Kernels *kernels_avx2(void) {
    if (!avx2_kernels.name) {
        avx2_kernels = *kernels_scalar();
        avx2_kernels.name = "avx2";
        avx2_kernels.prepare_ternary = avx2_prepare_ternary;
        avx2_kernels.release_ternary = avx2_release_ternary;
        avx2_kernels.ternary_matmul_i8 = avx2_ternary_matmul_i8;
        avx2_kernels.i8_reads_packed_only = 1;
        avx2_kernels.quantize_row_i8 = avx2_quantize_row_i8;
        avx2_kernels.matmul_f32 = avx2_matmul_f32;
        avx2_kernels.int8_matmul = avx2_int8_matmul;
    }
    return &avx2_kernels;
}

static Kernels vnni_kernels;

const Kernels *kernels_avx512vnni(void) {
    if (!vnni_kernels.name) {
        vnni_kernels = *kernels_avx2();
        vnni_kernels.name = "avx512vnni";
        vnni_kernels.ternary_matmul_i8 = vnni_ternary_matmul_i8;
        vnni_kernels.int8_matmul = vnni_int8_matmul;
    }
    return &vnni_kernels;
}

int cpu_has_avx512vnni(void) {
    __builtin_cpu_init();
    return cpu_has_avx2_fma() && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl");
}

int cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#endif
