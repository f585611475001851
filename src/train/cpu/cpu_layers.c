/* cpu_layers.c: the CPU backend's per-row ops, each forward beside its
 * backward: the SPEC 1.1 quantisers (with the gradient check's tapes),
 * RMSNorm, SwiGLU and the gates. Rows are split over threads; sums that run
 * over rows (the weight gradients of RMSNorm, the gates' biases) are split
 * by columns instead, so every value is summed in row order. */
#include <string.h>

#include "../../model/ternary.h"
#include "../../util/threadpool.h"
#include "cpu_internal.h"

/* ---- SPEC 1.1 quantisers ---- */

void cpu_ternarize(TrainBackend *be, const real *W, size_t n, real *out) {
    CpuBackend *cb = cpu_of(be);
    if (cb->freeze == 2) { /* replay: W + the recorded offset */
        const real *d = cpu_tape_take(cb, &cb->weight_tape, n);
        for (size_t i = 0; i < n; i++) out[i] = W[i] + (d ? d[i] : 0);
        return;
    }
    const real g = REAL_TERNARY_SCALE(W, n); /* model/ternary.h: the one rule */
    for (size_t i = 0; i < n; i++) out[i] = (real)REAL_TERNARY_CODE(W[i], g) * g;
    if (cb->freeze == 1) {
        real *d = cpu_tape_take(cb, &cb->weight_tape, n);
        if (d)
            for (size_t i = 0; i < n; i++) d[i] = out[i] - W[i];
    }
}

typedef struct RowsJob {
    const real *x, *w, *r, *dy;
    real *y, *out, *rs, *dx, *tape;
    int cols, accumulate;
    real eps;
} RowsJob;

static void act_quant_rows(void *ctx, int t0, int t1, int worker) {
    (void)worker;
    const RowsJob *j = ctx;
    const int cols = j->cols;
    for (int t = t0; t < t1; t++) {
        const real *xt = j->x + (size_t)t * cols;
        real *ot = j->out + (size_t)t * cols;
        real *d = j->tape ? j->tape + (size_t)t * cols : NULL;
        real maxabs = 0;
        for (int i = 0; i < cols; i++) {
            const real a = REAL_FABS(xt[i]);
            if (a > maxabs) maxabs = a;
        }
        const real s = (real)127 / (maxabs > (real)1e-5 ? maxabs : (real)1e-5);
        for (int i = 0; i < cols; i++) {
            real q = REAL_ROUND(xt[i] * s);
            q = q > 127 ? 127 : q < -127 ? -127 : q;
            const real e = q / s;
            if (d) d[i] = e - xt[i];
            ot[i] = e;
        }
    }
}

void cpu_act_quant(TrainBackend *be, const real *x, int rows, int cols, real *out) {
    CpuBackend *cb = cpu_of(be);
    const size_t n = (size_t)rows * cols;
    if (cb->freeze == 2) {
        const real *d = cpu_tape_take(cb, &cb->act_tape, n);
        for (size_t i = 0; i < n; i++) out[i] = x[i] + (d ? d[i] : 0);
        return;
    }
    RowsJob j = {0};
    j.x = x;
    j.out = out;
    j.cols = cols;
    j.tape = cb->freeze == 1 ? cpu_tape_take(cb, &cb->act_tape, n) : NULL;
    parallel_for(rows, 1, act_quant_rows, &j);
}

/* ---- RMSNorm: y = x r w, r = 1/sqrt(mean(x^2) + eps) ---- */

static void rmsnorm_fwd_rows(void *ctx, int t0, int t1, int worker) {
    (void)worker;
    const RowsJob *j = ctx;
    const int n = j->cols;
    for (int t = t0; t < t1; t++) {
        const real *xt = j->x + (size_t)t * n;
        real *yt = j->y + (size_t)t * n;
        real ss = 0;
        for (int i = 0; i < n; i++) ss += xt[i] * xt[i];
        const real inv = (real)1 / REAL_SQRT(ss / (real)n + j->eps);
        j->rs[t] = inv;
        for (int i = 0; i < n; i++) yt[i] = xt[i] * inv * j->w[i];
    }
}

void cpu_rmsnorm_fwd(TrainBackend *be, const real *x, const real *w, int rows, int n, real eps, real *y, real *r) {
    (void)be;
    RowsJob j = {0};
    j.x = x;
    j.w = w;
    j.y = y;
    j.rs = r;
    j.cols = n;
    j.eps = eps;
    parallel_for(rows, 1, rmsnorm_fwd_rows, &j);
}

/* dx_i = r (dy_i w_i) - x_i r^3 / n * sum_j dy_j w_j x_j */
static void rmsnorm_bwd_rows(void *ctx, int t0, int t1, int worker) {
    (void)worker;
    const RowsJob *j = ctx;
    const int n = j->cols;
    for (int t = t0; t < t1; t++) {
        const real *xt = j->x + (size_t)t * n, *dyt = j->dy + (size_t)t * n;
        real *dxt = j->dx + (size_t)t * n;
        const real rt = j->r[t];
        real dot = 0;
        for (int i = 0; i < n; i++) dot += dyt[i] * j->w[i] * xt[i];
        const real c = dot * rt * rt * rt / (real)n;
        for (int i = 0; i < n; i++) {
            const real v = rt * dyt[i] * j->w[i] - xt[i] * c;
            dxt[i] = j->accumulate ? dxt[i] + v : v;
        }
    }
}

typedef struct ColsJob {
    const real *x, *r, *dy;
    real *dw;
    int rows, n;
} ColsJob;

/* dw_i += sum over rows t (in order) of dy_ti x_ti r_t, for columns [i0, i1) */
static void rmsnorm_dw_cols(void *ctx, int i0, int i1, int worker) {
    (void)worker;
    const ColsJob *j = ctx;
    for (int t = 0; t < j->rows; t++) {
        const real *xt = j->x + (size_t)t * j->n, *dyt = j->dy + (size_t)t * j->n;
        const real rt = j->r[t];
        for (int i = i0; i < i1; i++) j->dw[i] += dyt[i] * xt[i] * rt;
    }
}

void cpu_rmsnorm_bwd(TrainBackend *be, const real *x, const real *r, const real *w, const real *dy, int rows, int n,
                     real *dx, int accumulate, real *dw) {
    (void)be;
    RowsJob j = {0};
    j.x = x;
    j.w = w;
    j.r = r;
    j.dy = dy;
    j.dx = dx;
    j.cols = n;
    j.accumulate = accumulate;
    parallel_for(rows, 1, rmsnorm_bwd_rows, &j);
    if (!dw) return;
    ColsJob c = {x, r, dy, dw, rows, n};
    parallel_for(n, 8, rmsnorm_dw_cols, &c);
}

/* ---- SwiGLU ---- */

typedef struct ElemJob {
    const real *a, *u;
    real *h, *dh, *da;
} ElemJob;

static void swiglu_fwd_range(void *ctx, int i0, int i1, int worker) {
    (void)worker;
    const ElemJob *j = ctx;
    for (int i = i0; i < i1; i++) j->h[i] = j->a[i] * cpu_sigm(j->a[i]) * j->u[i];
}

void cpu_swiglu_fwd(TrainBackend *be, const real *a, const real *u, size_t n, real *h) {
    (void)be;
    ElemJob j = {a, u, h, NULL, NULL};
    parallel_for((int)n, 64, swiglu_fwd_range, &j);
}

static void swiglu_bwd_range(void *ctx, int i0, int i1, int worker) {
    (void)worker;
    const ElemJob *j = ctx;
    for (int i = i0; i < i1; i++) {
        const real a = j->a[i], s = cpu_sigm(a), d = j->dh[i];
        j->da[i] = d * j->u[i] * s * ((real)1 + a * ((real)1 - s)); /* silu'(a) */
        j->dh[i] = d * a * s;                                        /* d up */
    }
}

void cpu_swiglu_bwd(TrainBackend *be, const real *a, const real *u, real *dh, real *da, size_t n) {
    (void)be;
    ElemJob j = {a, u, NULL, dh, da};
    parallel_for((int)n, 64, swiglu_bwd_range, &j);
}

/* ---- gates over the heads ---- */

/* -softplus(u) = -log(1 + e^u), computed without overflow */
static real neg_softplus(real u) {
    return u > 0 ? -u - REAL_LOG1P(REAL_EXP(-u)) : -REAL_LOG1P(REAL_EXP(u));
}

void cpu_gate_fwd(TrainBackend *be, GateKind kind, real *z, const real *bias, int rows, int H) {
    (void)be;
    for (int t = 0; t < rows; t++)
        for (int h = 0; h < H; h++) {
            real *zt = z + (size_t)t * H + h;
            *zt = kind == GATE_SIGMOID ? cpu_sigm(*zt + bias[h]) : neg_softplus(*zt + bias[h]);
        }
}

/* sigmoid: dz = dy s (1 - s); log-forget l = -softplus(u): dl/du = -sigmoid(u) = expm1(l) */
void cpu_gate_bwd(TrainBackend *be, GateKind kind, const real *y, real *dy, int rows, int H, real *dbias) {
    (void)be;
    for (int t = 0; t < rows; t++)
        for (int h = 0; h < H; h++) {
            const size_t i = (size_t)t * H + h;
            const real s = y[i];
            const real dz = kind == GATE_SIGMOID ? dy[i] * s * (1 - s) : dy[i] * REAL_EXPM1(s);
            dy[i] = dz;
            if (dz == 0) continue;
            dbias[h] += dz;
        }
}
