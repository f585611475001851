/* cpu_gemm.c: the CPU backend's matrix products, written as row updates
 * (y_row += a * b_row) so that the compiler vectorises them without
 * reassociating sums (-ffp-contract=off keeps them bit-reproducible): each
 * element of C is one sum over k in order, four rows at a time sharing each
 * loaded row of the right-hand matrix. Rows of C are split over threads,
 * which changes no value. An operand given transposed on the right (the
 * forward's x W^T) is first transposed into scratch. */
#include <stdlib.h>
#include <string.h>

#include "../../kernels/target_clones.h"
#include "../../util/threadpool.h"
#include "cpu_internal.h"

/* Rows [m0, m1) of C (M x N) = [C +] A (M x K) . B (K x N). */
BITT_VECTOR_CLONES static void gemm_nn_rows(int m0, int m1, int N, int K, const real *A, const real *B, real *C,
                                            int accumulate) {
    if (!accumulate) memset(C + (size_t)m0 * N, 0, (size_t)(m1 - m0) * N * sizeof(real));
    int t = m0;
    for (; t + 4 <= m1; t += 4) {
        real *y0 = C + (size_t)t * N, *y1 = y0 + N, *y2 = y1 + N, *y3 = y2 + N;
        const real *x0 = A + (size_t)t * K, *x1 = x0 + K, *x2 = x1 + K, *x3 = x2 + K;
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
    for (; t < m1; t++) {
        real *yt = C + (size_t)t * N;
        const real *xt = A + (size_t)t * K;
        for (int k = 0; k < K; k++) {
            const real a = xt[k];
            if (a == 0) continue;
            const real *b = B + (size_t)k * N;
            for (int n = 0; n < N; n++) yt[n] += a * b[n];
        }
    }
}

/* Rows [o0, o1) of C (M x N) = [C +] A^T . B, A: K x M, B: K x N (the
 * weight gradient dW += dy^T x, with K the token rows). */
BITT_VECTOR_CLONES static void gemm_tn_rows(int o0, int o1, int M, int N, int K, const real *A, const real *B,
                                            real *C, int accumulate) {
    if (!accumulate) memset(C + (size_t)o0 * N, 0, (size_t)(o1 - o0) * N * sizeof(real));
    int o = o0;
    for (; o + 4 <= o1; o += 4) {
        real *w0 = C + (size_t)o * N, *w1 = w0 + N, *w2 = w1 + N, *w3 = w2 + N;
        for (int t = 0; t < K; t++) {
            const real *g = A + (size_t)t * M + o;
            const real a0 = g[0], a1 = g[1], a2 = g[2], a3 = g[3];
            if (a0 == 0 && a1 == 0 && a2 == 0 && a3 == 0) continue;
            const real *xt = B + (size_t)t * N;
            for (int i = 0; i < N; i++) {
                const real xi = xt[i];
                w0[i] += a0 * xi;
                w1[i] += a1 * xi;
                w2[i] += a2 * xi;
                w3[i] += a3 * xi;
            }
        }
    }
    for (; o < o1; o++) {
        real *wo = C + (size_t)o * N;
        for (int t = 0; t < K; t++) {
            const real a = A[(size_t)t * M + o];
            if (a == 0) continue;
            const real *xt = B + (size_t)t * N;
            for (int i = 0; i < N; i++) wo[i] += a * xt[i];
        }
    }
}

typedef struct GemmJob {
    int ta, M, N, K, accumulate;
    const real *A, *B;
    real *C;
} GemmJob;

static void gemm_worker(void *ctx, int begin, int end, int worker) {
    (void)worker;
    const GemmJob *j = ctx;
    if (j->ta) gemm_tn_rows(begin, end, j->M, j->N, j->K, j->A, j->B, j->C, j->accumulate);
    else gemm_nn_rows(begin, end, j->N, j->K, j->A, j->B, j->C, j->accumulate);
}

/* out (cols x rows) = in (rows x cols)^T */
static void transpose(const real *in, int rows, int cols, real *out) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) out[(size_t)c * rows + r] = in[(size_t)r * cols + c];
}

void cpu_gemm(TrainBackend *be, int ta, int tb, int M, int N, int K, const real *A, const real *B, real *C,
              int accumulate) {
    CpuBackend *cb = cpu_of(be);
    if (M <= 0 || N <= 0) return;
    if (tb) { /* B given as N x K */
        const size_t need = (size_t)N * K;
        if (need > cb->transposed_cap) {
            real *t = realloc(cb->transposed, need * sizeof(real));
            if (!t) { cb->oom = 1; return; } /* reported by status */
            cb->transposed = t;
            cb->transposed_cap = need;
        }
        transpose(B, N, K, cb->transposed);
        B = cb->transposed;
    }
    GemmJob job = {ta, M, N, K, accumulate, A, B, C};
    if ((double)M * N * K < (double)(1 << 18)) gemm_worker(&job, 0, M, 0); /* too small to pay for a thread */
    else parallel_for(M, 4, gemm_worker, &job);
}
