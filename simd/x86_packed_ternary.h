/* x86_packed_ternary.h: the packed ternary layout shared by the x86
 * integer kernels (kernels_avx2.c, dots_vnni.c). */
#ifndef BITT_X86_PACKED_TERNARY_H
#define BITT_X86_PACKED_TERNARY_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* Weights per block: 32 bytes, byte j holding weights j, j+32, j+64, j+96 of
 * the block as 2-bit codes c = w + 1 at bits 0-1, 2-3, 4-5, 6-7. */
#define BLOCK 128

typedef struct PackedTernary {
    int nblocks;      /* per row: ceil(cols / 128) */
    uint8_t *data;    /* rows x nblocks x 32 bytes, 32-byte aligned */
} PackedTernary;

#define AVX2_SUM_INLINE __attribute__((target("avx2"), always_inline)) static inline

/* The sum of the 8 int32 lanes of v. */
AVX2_SUM_INLINE int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* Four horizontal sums at once: lane k of the result is the sum of v[k]. */
AVX2_SUM_INLINE __m128i hsum4_epi32(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
    const __m256i s01 = _mm256_hadd_epi32(v0, v1), s23 = _mm256_hadd_epi32(v2, v3);
    const __m256i s = _mm256_hadd_epi32(s01, s23);
    return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

/* Output rows [o0, o1) of nt (1..4) token rows: acc[t * rows + o] =
 * sum_i c[o, i] xpad[t, i] - xsum[t] = sum_i w[o, i] x[t, i], exact int32.
 * xpad: nt rows of `padded` int8 (zero past the columns), 32-byte aligned. */
typedef void (*RowsDotFn)(const PackedTernary *p, int o0, int o1, const int8_t *xpad, size_t padded,
                          int nt, const int32_t *xsum, int rows, int32_t *acc);

/* The AVX-512 VNNI version (vpdpbusd on 256-bit vectors). */
void vnni_rows_dot_nt(const PackedTernary *p, int o0, int o1, const int8_t *xpad, size_t padded, int nt,
                      const int32_t *xsum, int rows, int32_t *acc);

/* acc[t * rows + o] = sum_i w[o, i] xq[t, i] for rows [begin, end) (VNNI). */
struct Int8Matrix;
void vnni_int8_rows(const struct Int8Matrix *w, const int8_t *xq, int T, int begin, int end, int32_t *acc);

#endif
