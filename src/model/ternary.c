/* ternary.c: BitLinear weights (see ternary.h): the engine's quantiser,
 * the exact inverse used when writing float files, and the 2-bit packing of
 * .bitt v2 (SPEC 3.3). */
#include "ternary.h"

#include <math.h>
#include <string.h>

void bitlinear_quantize_weights(const float *latent, int rows, int cols, TernaryMatrix *out) {
    const size_t n = (size_t)rows * cols;
    const float g = ternary_scale_f32(latent, n);
    for (size_t i = 0; i < n; i++) out->w[i] = (int8_t)ternary_code_f32(latent[i], g);
    out->scale = g;
}

void bitlinear_dequantize(const TernaryMatrix *t, float *latent) {
    size_t n = (size_t)t->rows * t->cols, nnz = 0, last = 0;
    for (size_t i = 0; i < n; i++)
        if (t->w[i] != 0) {
            nnz++;
            last = i;
        }
    /* mean|W| must come back as g: each of the nnz nonzeros carries about
     * g*n/nnz. That magnitude rounded to float can miss g by an ulp once
     * averaged (no float m has mean m*nnz/n == g for every g), so the last
     * nonzero takes what is left of g*n, nudged until the mean is g. */
    const float mag = nnz ? (float)((double)t->scale * (double)n / (double)nnz) : 0.0f;
    for (size_t i = 0; i < n; i++) latent[i] = (float)t->w[i] * mag;
    if (nnz == 0) return;
    float rest = (float)((double)t->scale * (double)n - (double)(nnz - 1) * (double)mag);
    if (!(rest > 0.0f)) rest = mag;
    for (int k = 0; k < 64; k++) {
        latent[last] = (float)t->w[last] * rest;
        const float g = ternary_scale_f32(latent, n);
        if (g == t->scale || ternary_code_f32(latent[last], t->scale) != t->w[last]) break;
        rest = nextafterf(rest, g < t->scale ? INFINITY : 0.0f);
    }
    if (ternary_scale_f32(latent, n) != t->scale || ternary_code_f32(latent[last], t->scale) != t->w[last])
        latent[last] = (float)t->w[last] * mag; /* not reachable: keep the plain form (1 ulp off) */
}

size_t ternary_packed_row_bytes(int cols) { return ((size_t)cols + 3) / 4; }

void ternary_pack(const TernaryMatrix *t, uint8_t *packed) {
    size_t rb = ternary_packed_row_bytes(t->cols);
    memset(packed, 0, rb * (size_t)t->rows);
    for (int r = 0; r < t->rows; r++) {
        const int8_t *row = t->w + (size_t)r * t->cols;
        uint8_t *out = packed + (size_t)r * rb;
        for (int j = 0; j < t->cols; j++) out[j / 4] |= (uint8_t)((row[j] + 1) << (2 * (j % 4)));
    }
}

int ternary_unpack(const uint8_t *packed, TernaryMatrix *t, int *bad_row, int *bad_col) {
    size_t rb = ternary_packed_row_bytes(t->cols);
    for (int r = 0; r < t->rows; r++) {
        const uint8_t *in = packed + (size_t)r * rb;
        int8_t *row = t->w + (size_t)r * t->cols;
        for (int j = 0; j < t->cols; j++) {
            int code = (in[j / 4] >> (2 * (j % 4))) & 3;
            if (code == 3) {
                *bad_row = r;
                *bad_col = j;
                return -1;
            }
            row[j] = (int8_t)(code - 1);
        }
    }
    return 0;
}
