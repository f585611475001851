/* ternary.h: BitLinear weights (SPEC 1.1, 3.3). The ternary quantiser is
 * written once, here, for the engine (float latents to int8 codes and a
 * scale) and for the trainer (its forward's g * Wt, over float, and over
 * double for the gradient check):
 *   g = mean |W| over the matrix (summed in double),
 *   Wt = clamp(round(W / (g + 1e-6)), -1, 1), round half away from zero,
 * a NaN weight quantising to 0 (no undefined conversion). Also the exact
 * inverse used to write float files, and the 2-bit packing of .bitt v2. */
#ifndef BITT_TERNARY_H
#define BITT_TERNARY_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/kernels.h"

/* ternary_scale_T(w, n) = g; ternary_code_T(w, g) = the code of w in {-1, 0, 1}. */
#define TERNARY_RULE(SUFFIX, T, ROUND, FABS)                                        \
    static inline T ternary_scale_##SUFFIX(const T *w, size_t n) {                   \
        double sum = 0.0;                                                             \
        for (size_t i = 0; i < n; i++) sum += (double)FABS(w[i]);                     \
        return n ? (T)(sum / (double)n) : (T)0;                                       \
    }                                                                                 \
    static inline int ternary_code_##SUFFIX(T w, T g) {                               \
        const T r = ROUND(w / (g + (T)1e-6));                                         \
        return r > 1 ? 1 : r < -1 ? -1 : r == r ? (int)r : 0;                         \
    }
TERNARY_RULE(f32, float, roundf, fabsf)
TERNARY_RULE(f64, double, round, fabs)
#undef TERNARY_RULE

/* Quantises rows x cols latent weights into out (codes and scale). */
void bitlinear_quantize_weights(const float *latent, int rows, int cols, TernaryMatrix *out);
/* Latent weights that quantise back to exactly (Wt, g): nonzeros are
 * +-g*N/nnz, the last one adjusted so that the mean comes back as g bit for bit. */
void bitlinear_dequantize(const TernaryMatrix *t, float *latent);
/* 2-bit packing of SPEC 3.3: code w+1, weight j of a row in byte j/4, bits 2*(j%4). */
size_t ternary_packed_row_bytes(int cols);
void ternary_pack(const TernaryMatrix *t, uint8_t *packed);
/* Returns -1 (and the offending row/column) if a code 3 is found. */
int ternary_unpack(const uint8_t *packed, TernaryMatrix *t, int *bad_row, int *bad_col);

#endif
