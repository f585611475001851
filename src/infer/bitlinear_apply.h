/* bitlinear_apply.h: a BitLinear projection at run time (SPEC 1.1): the
 * input rows quantised once to int8 (or kept as floats when the model's
 * act_quant is off) and shared by the projections that read the same input
 * (q, k, v; gate, up), then y = (Wt . xq) * g / s with the integer product
 * exact. */
#ifndef BITT_INFER_BITLINEAR_APPLY_H
#define BITT_INFER_BITLINEAR_APPLY_H

#include <stdint.h>

#include "../kernels/kernels.h"

/* Int8 (or float) activations of T rows. */
typedef struct ActRows {
    const float *x;   /* T x cols, used when act_quant is off */
    int8_t *xq;       /* T x cols */
    float *scale;     /* T: s of each row */
    int cols;
    int quantized;    /* act_quant of the model */
} ActRows;

/* Quantises T rows of x into xq (T x cols) and xs (T) when quantized, else
 * keeps x as it is. */
void act_rows_quantize(const Kernels *k, int quantized, const float *x, int T, int cols, int8_t *xq, float *xs,
                       ActRows *a);
/* y (T x rows) = BitLinear(w, a); acc: T x rows int32 scratch. */
void bitlinear_apply(const Kernels *k, const TernaryMatrix *w, const ActRows *a, int T, int32_t *acc, float *y);

#endif
