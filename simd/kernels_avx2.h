/* kernels_avx2.h: the AVX2 backend (x86-64 only; chosen at run time). */
#ifndef BITT_KERNELS_AVX2_H
#define BITT_KERNELS_AVX2_H

#include <stddef.h>
#include <stdint.h>

#include "../src/kernels/kernels.h"

/* 1 if this CPU runs AVX2 and FMA. */
int cpu_has_avx2_fma(void);
const Kernels *kernels_avx2(void);
/* Rows [o0, o1) of the BitLinear product, for callers that split rows over
 * threads; xpad_scratch: avx2_ternary_scratch_bytes(w) bytes, 32-aligned. */
void avx2_ternary_rows(const TernaryMatrix *w, const int8_t *xq, int T, int32_t *acc, int o0,
                       int o1, int8_t *xpad_scratch);
size_t avx2_ternary_scratch_bytes(const TernaryMatrix *w);

#endif
