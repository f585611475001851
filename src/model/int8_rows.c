/* int8_rows.c: the SPEC 3.3 per-row int8 quantiser and its inverse (see
 * int8_rows.h). */
#include "int8_rows.h"

#include <math.h>
#include <stdlib.h>

Int8Matrix *int8_rows_alloc(int rows, int cols) {
    Int8Matrix *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->rows = rows;
    q->cols = cols;
    q->w = malloc((size_t)rows * (size_t)cols + 1);
    q->row_scale = malloc((size_t)rows * sizeof(float) + 1);
    if (!q->w || !q->row_scale) {
        int8_rows_free(q);
        return NULL;
    }
    return q;
}

void int8_rows_free(Int8Matrix *q) {
    if (!q) return;
    if (!q->borrowed) {
        free(q->w);
        free(q->row_scale);
    }
    free(q);
}

void int8_rows_quantize(const float *W, Int8Matrix *q) {
    const int D = q->cols;
    for (int o = 0; o < q->rows; o++) {
        const float *row = W + (size_t)o * D;
        int8_t *w = q->w + (size_t)o * D;
        float maxabs = 0.0f;
        for (int i = 0; i < D; i++) maxabs = fabsf(row[i]) > maxabs ? fabsf(row[i]) : maxabs;
        const float s = maxabs / 127.0f; /* 0 for a row of zeros or of subnormals below 127 * FLT_TRUE_MIN */
        q->row_scale[o] = s;
        for (int i = 0; i < D; i++) /* kernels_round_i8: 0 / 0 is NaN, which must not reach an int conversion */
            w[i] = s > 0 ? kernels_round_i8(row[i] / s) : 0;
    }
}

void int8_rows_dequantize(const Int8Matrix *q, float *out) {
    for (int r = 0; r < q->rows; r++) int8_rows_dequantize_row(q, r, out + (size_t)r * (size_t)q->cols);
}
