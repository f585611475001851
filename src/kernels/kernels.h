/* kernels.h: the small kernel interface every backend implements (scalar C
 * reference here; AVX2, WebAssembly SIMD128 and CUDA later). The model code
 * calls only these entry points and never knows which backend runs.
 *
 * Shapes: a TernaryMatrix is rows (out) x cols (in); activations come as T
 * token rows of cols values; outputs as T rows of `rows` values. */
#ifndef BITT_KERNELS_H
#define BITT_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* A BitLinear weight in its run-time form. w is the canonical layout: int8
 * values in {-1, 0, +1}, row-major rows x cols. A backend may build its own
 * layout in `packed` at load (prepare_ternary) and free it (release). */
typedef struct TernaryMatrix {
    int rows, cols;
    int8_t *w;           /* rows x cols; NULL in a model loaded lean from a mapped
                            .bitt v2 once the backend has its repack (the codes stay
                            in the file: BitLinear.file_codes) */
    float scale;         /* g = mean |W| of the latent weights */
    void *packed;        /* backend-owned repack, or NULL */
} TernaryMatrix;

/* A float matrix stored as int8 rows with one scale each (the optional
 * int8 lm_head): W[o, i] ~ w[o, i] * row_scale[o]. */
typedef struct Int8Matrix {
    int rows, cols;
    int8_t *w;           /* rows x cols, values in [-127, 127] */
    float *row_scale;    /* rows */
    int borrowed;        /* 1: w and row_scale point into a mapped file, not owned */
} Int8Matrix;

typedef struct Kernels {
    const char *name;
    /* Optional: build w->packed from w->w; 0 on success. */
    int (*prepare_ternary)(TernaryMatrix *w);
    void (*release_ternary)(TernaryMatrix *w);
    /* 1: once prepared, ternary_matmul_i8 reads only `packed`, so a model
     * with int8 activations may drop w (a lean load, model_use_kernels) */
    int i8_reads_packed_only;
    /* acc[t, o] = sum_i w[o, i] * xq[t, i], exact int32. xq: T x cols, acc: T x rows. */
    void (*ternary_matmul_i8)(const TernaryMatrix *w, const int8_t *xq, int T, int32_t *acc);
    /* y[t, o] = sum_i w[o, i] * x[t, i] in float (act_quant "none"). */
    void (*ternary_matmul_f32)(const TernaryMatrix *w, const float *x, int T, float *y);
    /* Per-row int8 quantisation (SPEC 1.1): xq = clamp(round(x * s), -127, 127),
     * s = 127 / max(max|x|, 1e-5); returns s. Defined for every float, the
     * same in every backend: NaNs are left out of max|x| and quantise to 0
     * (as does inf * 0 when a row holds an infinity: s is then 0). */
    float (*quantize_row_i8)(const float *x, int n, int8_t *xq);
    /* y[t, o] = sum_i W[o, i] * x[t, i]; W: rows x cols float. Every backend
     * sums in the same order, so all give the same bits (the result feeds the
     * int8 quantiser through the TTT gates, where a last-bit difference can
     * flip a rounding): 16 lanes, lane k taking i = k, k + 16, ... over whole
     * blocks of 16; then whole blocks of 4 into lanes 0-3; then
     * v[k] = (lane[k] + lane[k+4]) + (lane[k+8] + lane[k+12]), k = 0..3, and
     * sum = (v[0] + v[2]) + (v[1] + v[3]); then the last cols % 4 one by
     * one. Products and sums are separate roundings (no FMA). */
    void (*matmul_f32)(const float *W, int rows, int cols, const float *x, int T, float *y);
    /* acc[t, o] = sum_i w[o, i] * xq[t, i], exact int32 (Int8Matrix). */
    void (*int8_matmul)(const Int8Matrix *w, const int8_t *xq, int T, int32_t *acc);
    /* y = x / sqrt(mean(x^2) + eps) * w over n values (y may alias x). */
    void (*rmsnorm)(const float *x, const float *w, int n, float eps, float *y);
} Kernels;

/* roundf(r) clamped to [-127, 127] as int8, NaN -> 0: the scalar tail of
 * every quantiser (a float -> int conversion of NaN or of a value out of
 * range is undefined behaviour in C, so the clamp comes first). */
static inline int8_t kernels_round_i8(float v) {
    const float r = roundf(v);
    return (int8_t)(r > 127.0f ? 127 : r < -127.0f ? -127 : r == r ? (int)r : 0);
}

const Kernels *kernels_scalar(void);
/* The fastest backend this CPU supports: AVX2 where the CPU has it (checked
 * at run time), else scalar. The environment variable BITT_KERNELS=scalar
 * (or avx2) overrides the choice. */
const Kernels *kernels_best(void);
/* A backend by name ("scalar", "avx2"), or NULL if not built / not supported here. */
const Kernels *kernels_by_name(const char *name);
/* The i-th kernel set this build has (whether or not this CPU runs it), NULL
 * past the last: for tests that every entry the engine calls is filled in
 * (all but the optional prepare_ternary / release_ternary). */
const Kernels *kernels_built(int i);

#endif
