/* tm_mat.c: the two matrix products of the training math, written as row
 * updates (y_row += a * b_row) so that the compiler vectorises them without
 * reassociating sums (-ffp-contract=off keeps them bit-reproducible); four
 * rows at a time share each loaded row of the right-hand matrix. */
#include <string.h>

#include "../kernels/target_clones.h"
#include "tm_internal.h"

/* The products are static clones (compiled for AVX2 and the baseline,
 * picked at load) behind plain exported functions: clang 14 emits no
 * resolver for an exported target_clones function that its own file does
 * not call. */

/* y (T x N) = [y +] x (T x K) . B (K x N) */
BITT_VECTOR_CLONES static void gemm_nn(int T, int K, int N, const real *x, const real *B, real *y,
                                       int accumulate) {
    if (!accumulate) memset(y, 0, (size_t)T * N * sizeof(real));
    int t = 0;
    for (; t + 4 <= T; t += 4) {
        real *y0 = y + (size_t)t * N, *y1 = y0 + N, *y2 = y1 + N, *y3 = y2 + N;
        const real *x0 = x + (size_t)t * K, *x1 = x0 + K, *x2 = x1 + K, *x3 = x2 + K;
        for (int k = 0; k < K; k++) {
            const real a0 = x0[k], a1 = x1[k], a2 = x2[k], a3 = x3[k];
            if (a0 == 0 && a1 == 0 && a2 == 0 && a3 == 0) continue;
            const real *b = B + (size_t)k * N;
            for (int n = 0; n < N; n++) {
                const real bn = b[n];
                y0[n] += a0 * bn;
                y1[n] += a1 * bn;
                y2[n] += a2 * bn;
                y3[n] += a3 * bn;
            }
        }
    }
    for (; t < T; t++) {
        real *yt = y + (size_t)t * N;
        const real *xt = x + (size_t)t * K;
        for (int k = 0; k < K; k++) {
            const real a = xt[k];
            if (a == 0) continue;
            const real *b = B + (size_t)k * N;
            for (int n = 0; n < N; n++) yt[n] += a * b[n];
        }
    }
}

/* dW (O x I) += dy^T (O x T) . x (T x I) */
BITT_VECTOR_CLONES static void gemm_tn_acc(int T, int O, int I, const real *dy, const real *x,
                                           real *dW) {
    int o = 0;
    for (; o + 4 <= O; o += 4) {
        real *w0 = dW + (size_t)o * I, *w1 = w0 + I, *w2 = w1 + I, *w3 = w2 + I;
        for (int t = 0; t < T; t++) {
            const real *g = dy + (size_t)t * O + o;
            const real a0 = g[0], a1 = g[1], a2 = g[2], a3 = g[3];
            if (a0 == 0 && a1 == 0 && a2 == 0 && a3 == 0) continue;
            const real *xt = x + (size_t)t * I;
            for (int i = 0; i < I; i++) {
                const real xi = xt[i];
                w0[i] += a0 * xi;
                w1[i] += a1 * xi;
                w2[i] += a2 * xi;
                w3[i] += a3 * xi;
            }
        }
    }
    for (; o < O; o++) {
        real *wo = dW + (size_t)o * I;
        for (int t = 0; t < T; t++) {
            const real a = dy[(size_t)t * O + o];
            if (a == 0) continue;
            const real *xt = x + (size_t)t * I;
            for (int i = 0; i < I; i++) wo[i] += a * xt[i];
        }
    }
}

void tm_gemm_nn(int T, int K, int N, const real *x, const real *B, real *y, int accumulate) {
    gemm_nn(T, K, N, x, B, y, accumulate);
}

void tm_gemm_tn_acc(int T, int O, int I, const real *dy, const real *x, real *dW) {
    gemm_tn_acc(T, O, I, dy, x, dW);
}
