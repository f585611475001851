/* kernels_scalar.c: the plain C reference of every kernel. Fast backends are
 * tested against these. */
#include <math.h>
#include <stddef.h>

#include "kernels.h"

static void scalar_ternary_matmul_i8(const TernaryMatrix *w, const int8_t *xq, int T,
                                     int32_t *acc) {
    for (int t = 0; t < T; t++) {
        const int8_t *x = xq + (size_t)t * w->cols;
        for (int o = 0; o < w->rows; o++) {
            const int8_t *row = w->w + (size_t)o * w->cols;
            int32_t sum = 0;
            for (int i = 0; i < w->cols; i++) sum += (int32_t)row[i] * x[i];
            acc[(size_t)t * w->rows + o] = sum;
        }
    }
}

static void scalar_ternary_matmul_f32(const TernaryMatrix *w, const float *x, int T, float *y) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * w->cols;
        for (int o = 0; o < w->rows; o++) {
            const int8_t *row = w->w + (size_t)o * w->cols;
            float sum = 0.0f;
            for (int i = 0; i < w->cols; i++)
                sum += row[i] > 0 ? xt[i] : row[i] < 0 ? -xt[i] : 0.0f;
            y[(size_t)t * w->rows + o] = sum;
        }
    }
}

static float scalar_quantize_row_i8(const float *x, int n, int8_t *xq) {
    float maxabs = 0.0f;
    for (int i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > maxabs) maxabs = a;
    }
    float s = 127.0f / (maxabs > 1e-5f ? maxabs : 1e-5f);
    for (int i = 0; i < n; i++) xq[i] = kernels_round_i8(x[i] * s);
    return s;
}

/* The dot product in the summation order of kernels.h (matmul_f32). */
static float dot_f32(const float *a, const float *b, int n) {
    float lane[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) lane[k] += a[i + k] * b[i + k];
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) lane[k] += a[i + k] * b[i + k];
    float v[4];
    for (int k = 0; k < 4; k++) v[k] = (lane[k] + lane[k + 4]) + (lane[k + 8] + lane[k + 12]);
    float sum = (v[0] + v[2]) + (v[1] + v[3]);
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static void scalar_matmul_f32(const float *W, int rows, int cols, const float *x, int T,
                              float *y) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * cols;
        for (int o = 0; o < rows; o++) y[(size_t)t * rows + o] = dot_f32(W + (size_t)o * cols, xt, cols);
    }
}

static void scalar_int8_matmul(const Int8Matrix *w, const int8_t *xq, int T, int32_t *acc) {
    for (int t = 0; t < T; t++) {
        const int8_t *x = xq + (size_t)t * w->cols;
        for (int o = 0; o < w->rows; o++) {
            const int8_t *row = w->w + (size_t)o * w->cols;
            int32_t sum = 0;
            for (int i = 0; i < w->cols; i++) sum += (int32_t)row[i] * x[i];
            acc[(size_t)t * w->rows + o] = sum;
        }
    }
}

static void scalar_rmsnorm(const float *x, const float *w, int n, float eps, float *y) {
    float ss = 0.0f;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    float inv = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = 0; i < n; i++) y[i] = x[i] * inv * w[i];
}

static const Kernels scalar_kernels = {
    .name = "scalar",
    .prepare_ternary = NULL,
    .release_ternary = NULL,
    .ternary_matmul_i8 = scalar_ternary_matmul_i8,
    .ternary_matmul_f32 = scalar_ternary_matmul_f32,
    .quantize_row_i8 = scalar_quantize_row_i8,
    .matmul_f32 = scalar_matmul_f32,
    .int8_matmul = scalar_int8_matmul,
    .rmsnorm = scalar_rmsnorm,
};

const Kernels *kernels_scalar(void) { return &scalar_kernels; }
