/* kernels_avx2.h: the AVX2 backend (x86-64 only; chosen at run time). */
#ifndef BITT_KERNELS_AVX2_H
#define BITT_KERNELS_AVX2_H

#include <stddef.h>
#include <stdint.h>

#include "../src/kernels/kernels.h"

/* 1 if this CPU runs AVX2 and FMA. */
int cpu_has_avx2_fma(void);
const Kernels *kernels_avx2(void);
/* 1 if this CPU also has AVX-512 VNNI with 256-bit forms (AVX512VL). */
int cpu_has_avx512vnni(void);
/* The AVX2 backend with BitLinear through vpdpbusd (one instruction for
 * 32 code x activation products summed into int32). */
const Kernels *kernels_avx512vnni(void);
/* The dense float32 baseline (bench --dense-f32): BitLinear weights expanded
 * to float32 and multiplied with float activations by an FMA matvec. Meant
 * for act_quant off; int8 activations go through the scalar product. */
const Kernels *kernels_dense_f32(void);

#endif
