/* dots_vnni.c: the integer dot products with AVX-512 VNNI (vpdpbusd on
 * 256-bit vectors): BitLinear and the int8 lm_head.
 *
 * BitLinear: the layout and
 * the arithmetic are those of kernels_avx2.c (unsigned 2-bit codes c = w + 1
 * times signed int8 activations, minus the activation sum), but vpdpbusd
 * multiplies 32 code/activation pairs and adds each group of four into an
 * int32 lane in one instruction: no int16 partial sums to widen. Compiled
 * through target attributes; used only when the CPU reports AVX512-VNNI and
 * AVX512-VL (kernels_select.c). */
#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include "../src/kernels/kernels.h"
#include "x86_packed_ternary.h"

#define VNNI_TARGET "avx2,fma,avx512f,avx512vl,avx512vnni"
#define VNNI_INLINE __attribute__((target(VNNI_TARGET), always_inline)) static inline

VNNI_INLINE __m256i codes(__m256i v, int shift) {
    return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8(3));
}


/* One weight row against NT padded activation rows. */
VNNI_INLINE void row_dot(const uint8_t *wp, int nb, const int8_t *xpad, size_t padded, int NT, int32_t *out) {
    __m256i acc[4];
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_si256();
    for (int b = 0; b < nb; b++) {
        const __m256i v = _mm256_load_si256((const __m256i *)(wp + (size_t)b * 32));
        const __m256i c0 = codes(v, 0), c1 = codes(v, 2), c2 = codes(v, 4), c3 = codes(v, 6);
        for (int t = 0; t < NT; t++) {
            const int8_t *xb = xpad + t * padded + (size_t)b * BLOCK;
            acc[t] = _mm256_dpbusd_epi32(acc[t], c0, _mm256_load_si256((const __m256i *)xb));
            acc[t] = _mm256_dpbusd_epi32(acc[t], c1, _mm256_load_si256((const __m256i *)(xb + 32)));
            acc[t] = _mm256_dpbusd_epi32(acc[t], c2, _mm256_load_si256((const __m256i *)(xb + 64)));
            acc[t] = _mm256_dpbusd_epi32(acc[t], c3, _mm256_load_si256((const __m256i *)(xb + 96)));
        }
    }
    for (int t = 0; t < NT; t++) out[t] = hsum_epi32(acc[t]);
}

/* Decode: four weight rows against one activation row. */
VNNI_INLINE void rows4_dot(const uint8_t *wp, size_t row_bytes, int nb, const int8_t *x, int32_t *out) {
    __m256i acc[4];
    for (int r = 0; r < 4; r++) acc[r] = _mm256_setzero_si256();
    for (int b = 0; b < nb; b++) {
        const int8_t *xb = x + (size_t)b * BLOCK;
        const __m256i x0 = _mm256_load_si256((const __m256i *)xb);
        const __m256i x1 = _mm256_load_si256((const __m256i *)(xb + 32));
        const __m256i x2 = _mm256_load_si256((const __m256i *)(xb + 64));
        const __m256i x3 = _mm256_load_si256((const __m256i *)(xb + 96));
        for (int r = 0; r < 4; r++) {
            const __m256i v = _mm256_load_si256((const __m256i *)(wp + r * row_bytes + (size_t)b * 32));
            acc[r] = _mm256_dpbusd_epi32(acc[r], codes(v, 0), x0);
            acc[r] = _mm256_dpbusd_epi32(acc[r], codes(v, 2), x1);
            acc[r] = _mm256_dpbusd_epi32(acc[r], codes(v, 4), x2);
            acc[r] = _mm256_dpbusd_epi32(acc[r], codes(v, 6), x3);
        }
    }
    _mm_storeu_si128((__m128i *)out, hsum4_epi32(acc[0], acc[1], acc[2], acc[3]));
}

__attribute__((target(VNNI_TARGET))) void vnni_rows_dot_nt(const PackedTernary *p, int o0, int o1,
                                                          const int8_t *xpad, size_t padded, int nt,
                                                          const int32_t *xsum, int rows, int32_t *acc) {
    int32_t out[4];
    const size_t row_bytes = (size_t)p->nblocks * 32;
    if (nt == 1)
        for (; o0 + 4 <= o1; o0 += 4) {
            rows4_dot(p->data + (size_t)o0 * row_bytes, row_bytes, p->nblocks, xpad, out);
            for (int r = 0; r < 4; r++) acc[o0 + r] = out[r] - xsum[0];
        }
    for (int o = o0; o < o1; o++) {
        const uint8_t *wp = p->data + (size_t)o * row_bytes;
        switch (nt) {
        case 1: row_dot(wp, p->nblocks, xpad, padded, 1, out); break;
        case 2: row_dot(wp, p->nblocks, xpad, padded, 2, out); break;
        case 3: row_dot(wp, p->nblocks, xpad, padded, 3, out); break;
        default: row_dot(wp, p->nblocks, xpad, padded, 4, out); break;
        }
        for (int t = 0; t < nt; t++) acc[(size_t)t * rows + o] = out[t] - xsum[t];
    }
}

/* Int8 rows x int8 activations. vpdpbusd takes one unsigned operand: with
 * u = x + 128 (x xor 0x80), sum u w = sum x w + 128 sum w, and 128 sum w
 * comes from a second vpdpbusd of the constant 128 with the same w. */
__attribute__((target(VNNI_TARGET))) void vnni_int8_rows(const Int8Matrix *w, const int8_t *xq, int T,
                                                        int begin, int end, int32_t *acc) {
    const size_t C = (size_t)w->cols;
    const int full = w->cols & ~31;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (int t = 0; t < T; t++) {
        const int8_t *x = xq + (size_t)t * C;
        int o = begin;
        for (; o < end; o++) {
            const int8_t *row = w->w + (size_t)o * C;
            __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
            for (int i = 0; i < full; i += 32) {
                const __m256i u = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(x + i)), flip);
                const __m256i wv = _mm256_loadu_si256((const __m256i *)(row + i));
                a = _mm256_dpbusd_epi32(a, u, wv);
                b = _mm256_dpbusd_epi32(b, flip, wv);
            }
            int32_t sum = hsum_epi32(_mm256_sub_epi32(a, b));
            for (int i = full; i < w->cols; i++) sum += (int32_t)row[i] * x[i];
            acc[(size_t)t * w->rows + o] = sum;
        }
    }
}

#endif
