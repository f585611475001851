/* bitlinear_apply.c: a BitLinear projection at run time (see bitlinear_apply.h). */
#include "bitlinear_apply.h"

#include <stddef.h>

void act_rows_quantize(const Kernels *k, int quantized, const float *x, int T, int cols, int8_t *xq, float *xs,
                       ActRows *a) {
    a->x = x;
    a->xq = xq;
    a->scale = xs;
    a->cols = cols;
    a->quantized = quantized;
    if (!quantized) return;
    for (int t = 0; t < T; t++) a->scale[t] = k->quantize_row_i8(x + (size_t)t * cols, cols, a->xq + (size_t)t * cols);
}

void bitlinear_apply(const Kernels *k, const TernaryMatrix *w, const ActRows *a, int T, int32_t *acc, float *y) {
    const size_t R = (size_t)w->rows;
    if (!a->quantized) { /* y = g * (Wt . x) */
        k->ternary_matmul_f32(w, a->x, T, y);
        for (size_t i = 0; i < (size_t)T * R; i++) y[i] *= w->scale;
        return;
    }
    /* y = (Wt . xq) * g / s, the integer part exact */
    k->ternary_matmul_i8(w, a->xq, T, acc);
    for (int t = 0; t < T; t++) {
        const float gs = w->scale / a->scale[t];
        for (size_t o = 0; o < R; o++) y[t * R + o] = (float)acc[t * R + o] * gs;
    }
}
