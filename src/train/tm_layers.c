/* tm_layers.c: forward and backward of the plain layers of a block, side by
 * side: RMSNorm, the BitLinear projection with its straight-through
 * estimator (SPEC 1.1) and SwiGLU. Rows are tokens (T), all row-major. */
#include <stdlib.h>
#include <string.h>

#include "tm_internal.h"

/* ---- RMSNorm: y = x * r * w, r = 1/sqrt(mean(x^2) + eps) ---- */

void tm_rmsnorm_fwd(const real *x, const real *w, int T, int n, real eps, real *y, real *r) {
    for (int t = 0; t < T; t++) {
        const real *xt = x + (size_t)t * n;
        real *yt = y + (size_t)t * n;
        real ss = 0;
        for (int i = 0; i < n; i++) ss += xt[i] * xt[i];
        const real inv = (real)1 / TM_SQRT(ss / (real)n + eps);
        r[t] = inv;
        for (int i = 0; i < n; i++) yt[i] = xt[i] * inv * w[i];
    }
}

/* dx_i = r (dy_i w_i) - x_i r^3 / n * sum_j dy_j w_j x_j ; dw_i += dy_i x_i r */
void tm_rmsnorm_bwd(const real *x, const real *r, const real *w, const real *dy, int T, int n,
                    real *dx, int accumulate, real *dw) {
    for (int t = 0; t < T; t++) {
        const real *xt = x + (size_t)t * n, *dyt = dy + (size_t)t * n;
        real *dxt = dx + (size_t)t * n;
        const real rt = r[t];
        real dot = 0;
        for (int i = 0; i < n; i++) dot += dyt[i] * w[i] * xt[i];
        const real c = dot * rt * rt * rt / (real)n;
        for (int i = 0; i < n; i++) {
            const real v = rt * dyt[i] * w[i] - xt[i] * c;
            dxt[i] = accumulate ? dxt[i] + v : v;
            if (dw) dw[i] += dyt[i] * xt[i] * rt;
        }
    }
}

/* ---- BitLinear ---- */

/* Appends n offsets to the tape (freeze 1) or returns the next n (freeze 2). */
static real *tape_take(TmWork *w, size_t n, int record) {
    if (record) {
        if (w->tape_len + n > w->tape_cap) {
            size_t cap = (w->tape_cap ? w->tape_cap * 2 : 4096) + n;
            real *t = realloc(w->tape, cap * sizeof(real));
            if (!t) { w->tape_failed = 1; return NULL; }
            w->tape = t;
            w->tape_cap = cap;
        }
        real *p = w->tape + w->tape_len;
        w->tape_len += n;
        return p;
    }
    if (w->tape_pos + n > w->tape_len) { w->tape_failed = 1; return NULL; }
    real *p = w->tape + w->tape_pos;
    w->tape_pos += n;
    return p;
}

void tm_act_eff(const TmModel *tm, TmWork *w, const real *x, int T, int cols, real *out) {
    const size_t n = (size_t)T * cols;
    if (!tm->act_quant) {
        if (out != x) memcpy(out, x, n * sizeof(real));
        return;
    }
    if (tm->freeze == 2) { /* replay: x + the recorded offset */
        const real *d = tape_take(w, n, 0);
        for (size_t i = 0; i < n; i++) out[i] = x[i] + (d ? d[i] : 0);
        return;
    }
    real *d = tm->freeze == 1 ? tape_take(w, n, 1) : NULL;
    for (int t = 0; t < T; t++) {
        const real *xt = x + (size_t)t * cols;
        real *ot = out + (size_t)t * cols;
        real maxabs = 0;
        for (int i = 0; i < cols; i++) {
            const real a = TM_FABS(xt[i]);
            if (a > maxabs) maxabs = a;
        }
        const real s = (real)127 / (maxabs > (real)1e-5 ? maxabs : (real)1e-5);
        for (int i = 0; i < cols; i++) {
            real q = TM_ROUND(xt[i] * s);
            q = q > 127 ? 127 : q < -127 ? -127 : q;
            const real e = q / s;
            if (d) d[(size_t)t * cols + i] = e - xt[i];
            ot[i] = e;
        }
    }
}

void tm_bitlinear_fwd(const TmModel *tm, int layer, int field, const real *xe, int T, real *y) {
    const TmTensor *p = &tm->tensors[tm->lidx[layer][field]];
    tm_gemm_nn(T, p->cols, p->rows, xe, tm_wefft(tm, layer, field), y, 0);
}

/* y = xe . Weff^T: dxe = dy . Weff; dW = dy^T xe (the STE: the gradient of
 * the latent W is that of its quantised form, and xe's that of x). */
void tm_bitlinear_bwd(const TmModel *tm, int layer, int field, const real *xe, const real *dy,
                      int T, real *dxe, int accumulate, real *grad) {
    const TmTensor *p = &tm->tensors[tm->lidx[layer][field]];
    tm_gemm_nn(T, p->rows, p->cols, dy, tm_weff(tm, layer, field), dxe, accumulate);
    tm_gemm_tn_acc(T, p->rows, p->cols, dy, xe, tm_lp(tm, grad, layer, field));
}

/* ---- SwiGLU: mix = down(silu(gate(xn2)) * up(xn2)) ---- */

static real sigm(real x) { return (real)1 / ((real)1 + TM_EXP(-x)); }

void tm_swiglu_fwd(const TmModel *tm, TmWork *w, int layer, int T) {
    TmLayerActs *A = &w->L[layer];
    const int D = tm->cfg.hidden_dim, I = tm->cfg.intermediate_dim;
    tm_act_eff(tm, w, A->xn2, T, D, A->xe2);
    tm_bitlinear_fwd(tm, layer, TM_GATE, A->xe2, T, A->ga);
    tm_bitlinear_fwd(tm, layer, TM_UP, A->xe2, T, A->gu);
    for (size_t i = 0; i < (size_t)T * I; i++) A->gh[i] = A->ga[i] * sigm(A->ga[i]) * A->gu[i];
    tm_act_eff(tm, w, A->gh, T, I, A->ghe);
    tm_bitlinear_fwd(tm, layer, TM_DOWN, A->ghe, T, w->mix);
}

void tm_swiglu_bwd(const TmModel *tm, TmWork *w, int layer, int T, const real *dmix, real *dxn2,
                   real *grad) {
    TmLayerActs *A = &w->L[layer];
    const int I = tm->cfg.intermediate_dim;
    real *dh = w->dI1, *dga = w->dI2;
    tm_bitlinear_bwd(tm, layer, TM_DOWN, A->ghe, dmix, T, dh, 0, grad);
    for (size_t i = 0; i < (size_t)T * I; i++) {
        const real a = A->ga[i], s = sigm(a), d = dh[i];
        dga[i] = d * A->gu[i] * s * ((real)1 + a * ((real)1 - s)); /* silu'(a) */
        dh[i] = d * a * s;                                         /* d up */
    }
    tm_bitlinear_bwd(tm, layer, TM_GATE, A->xe2, dga, T, dxn2, 0, grad);
    tm_bitlinear_bwd(tm, layer, TM_UP, A->xe2, dh, T, dxn2, 1, grad);
}
