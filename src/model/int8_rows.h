/* int8_rows.h: a float matrix as int8 rows with one scale each (Int8Matrix,
 * kernels.h), the form of the int8 lm_head and of I8 embed / lm_head in
 * .bitt v2 (SPEC 3.3): value = int8 * row_scale, row_scale = max|row| / 127,
 * int8 = round(value / row_scale) half away from zero. One quantiser for the
 * file writer and for `--lm-head int8`, so both give the same rows. */
#ifndef BITT_INT8_ROWS_H
#define BITT_INT8_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/kernels.h"

/* rows x cols, uninitialised; NULL when out of memory. */
Int8Matrix *int8_rows_alloc(int rows, int cols);
void int8_rows_free(Int8Matrix *q);
/* Quantises W (rows x cols floats) into q (of the same shape), row by row. */
void int8_rows_quantize(const float *W, Int8Matrix *q);
/* out (cols) = row r of q as floats: (float)w[r, i] * row_scale[r]. */
static inline void int8_rows_dequantize_row(const Int8Matrix *q, int r, float *out) {
    const int8_t *w = q->w + (size_t)r * (size_t)q->cols;
    const float s = q->row_scale[r];
    for (int i = 0; i < q->cols; i++) out[i] = (float)w[i] * s;
}
/* out (rows x cols) = all of q as floats. */
void int8_rows_dequantize(const Int8Matrix *q, float *out);

#endif
