/* tm_ttt_linear.c: the TTT-Linear mixer (SPEC 1.2) for training, forward
 * and backward side by side. The forward runs the dual form over whole
 * mini-batches of b tokens through the full sequence, the state (W, c)
 * carried from one mini-batch to the next (starting at W0, b0, or at a
 * carried state given as a constant input: TmWork.state_in), and keeps the
 * state at each mini-batch start (and writes the final one to
 * TmWork.state_out when asked). The backward walks the mini-batches in
 * reverse: gradients through the dual form within a mini-batch (the output
 * LN, the b x b eta (q.k + 1) mixing, the inner gradients g_i and their own
 * LayerNorm), and through (W, c) into the previous mini-batch, ending in W0
 * and b0 (not when the state was given). With config state_decay d < 1
 * each closed mini-batch ends with W <- W0 + d (W - W0) (docs/TTT_MEMORY.md):
 * the backward scales the state's gradient by d there and gives (1 - d) of
 * it to the parameters W0, b0 (also when the start state was given).
 * Per head: q, k, v, g... are f-wide slices of T x D rows. */
#include <string.h>

#include "tm_internal.h"

static real sigm(real x) { return (real)1 / ((real)1 + TM_EXP(-x)); }

/* z = x W + c (x: f, W: f x f with row m = input m) */
static void vec_mat(const real *x, const real *W, const real *c, int f, real *z) {
    for (int j = 0; j < f; j++) z[j] = c[j];
    for (int m = 0; m < f; m++) {
        const real xm = x[m];
        const real *row = W + (size_t)m * f;
        for (int j = 0; j < f; j++) z[j] += xm * row[j];
    }
}

/* out = W y (out[m] = sum_j W[m, j] y[j]), accumulated */
static void mat_vec_acc(const real *W, const real *y, int f, real *out) {
    for (int m = 0; m < f; m++) {
        const real *row = W + (size_t)m * f;
        real s = 0;
        for (int j = 0; j < f; j++) s += row[j] * y[j];
        out[m] += s;
    }
}

/* W += a x^T y (outer product) */
static void outer_acc(real *W, real a, const real *x, const real *y, int f) {
    for (int m = 0; m < f; m++) {
        const real am = a * x[m];
        real *row = W + (size_t)m * f;
        for (int j = 0; j < f; j++) row[j] += am * y[j];
    }
}

static real dot(const real *a, const real *b, int f) {
    real s = 0;
    for (int j = 0; j < f; j++) s += a[j] * b[j];
    return s;
}

/* xhat = (z - mean) / sigma, sigma = sqrt(var + 1e-6); returns sigma (xhat may alias z). */
static real normalize(const real *z, int f, real *xhat) {
    real mean = 0, var = 0;
    for (int j = 0; j < f; j++) mean += z[j];
    mean /= (real)f;
    for (int j = 0; j < f; j++) var += (z[j] - mean) * (z[j] - mean);
    var /= (real)f;
    const real sigma = TM_SQRT(var + (real)1e-6);
    for (int j = 0; j < f; j++) xhat[j] = (z[j] - mean) / sigma;
    return sigma;
}

/* dz of a LayerNorm xhat = LN(z) given dxhat: (dxhat - mean dxhat - xhat mean(dxhat xhat)) / sigma */
static void ln_back(const real *xhat, real sigma, const real *dxhat, int f, real *dz) {
    real m1 = 0, m2 = 0;
    for (int j = 0; j < f; j++) {
        m1 += dxhat[j];
        m2 += dxhat[j] * xhat[j];
    }
    m1 /= (real)f;
    m2 /= (real)f;
    for (int j = 0; j < f; j++) dz[j] = (dxhat[j] - m1 - xhat[j] * m2) / sigma;
}

typedef struct HeadCtx {
    const TmModel *tm;
    TmLayerActs *A;
    int layer, h, T, D, H, f, b;
    real base_lr, decay;
    const real *W0, *b0, *lnw, *lnb;   /* W0, b0: the start state (params or the carried state_in) */
    const real *W0p, *b0p;             /* the parameters W0, b0 (the target of state_decay) */
    real *Wout, *cout;                 /* where the final state goes, or NULL */
} HeadCtx;

static HeadCtx head_ctx(const TmModel *tm, const TmWork *w, int layer, int h, int T) {
    const ModelConfig *c = &tm->cfg;
    HeadCtx x;
    x.tm = tm;
    x.A = &w->L[layer];
    x.layer = layer;
    x.h = h;
    x.T = T;
    x.D = c->hidden_dim;
    x.H = c->num_heads;
    x.f = x.D / x.H;
    x.b = c->mini_batch;
    x.base_lr = (real)c->base_lr;
    x.decay = (real)c->state_decay;
    x.W0 = x.W0p = tm_lp(tm, tm->params, layer, TM_W0) + (size_t)h * x.f * x.f;
    x.b0 = x.b0p = tm_lp(tm, tm->params, layer, TM_B0) + (size_t)h * x.f;
    x.Wout = x.cout = NULL;
    const size_t ff = (size_t)x.f * x.f, so = tm_state_layer_off(c, layer);
    if (w->state_in) { /* state slice of the layer: W (H x f x f), then c (H x f) */
        x.W0 = w->state_in + so + (size_t)h * ff;
        x.b0 = w->state_in + so + (size_t)x.H * ff + (size_t)h * x.f;
    }
    if (w->state_out) {
        x.Wout = w->state_out + so + (size_t)h * ff;
        x.cout = w->state_out + so + (size_t)x.H * ff + (size_t)h * x.f;
    }
    x.lnw = tm_lp(tm, tm->params, layer, TM_LN_W) + (size_t)h * x.f;
    x.lnb = tm_lp(tm, tm->params, layer, TM_LN_B) + (size_t)h * x.f;
    return x;
}

/* ---- forward of one head over the sequence ---- */
static void head_fwd(const HeadCtx *x, real *hs) {
    TmLayerActs *A = x->A;
    const int f = x->f, D = x->D, H = x->H, h = x->h, T = x->T;
    const size_t off = (size_t)h * f;
    real *W = hs, *c = W + (size_t)f * f, *z = c + f;
    memcpy(W, x->W0, (size_t)f * f * sizeof(real));
    memcpy(c, x->b0, (size_t)f * sizeof(real));
    for (int mb = 0, s0 = 0; s0 < T; mb++, s0 += x->b) {
        const int n = T - s0 < x->b ? T - s0 : x->b;
        memcpy(A->Wst + ((size_t)mb * H + h) * f * f, W, (size_t)f * f * sizeof(real));
        memcpy(A->cst + ((size_t)mb * H + h) * f, c, (size_t)f * sizeof(real));
        /* inner gradients g_i, all at the state of the mini-batch start */
        for (int i = 0; i < n; i++) {
            const size_t t = (size_t)(s0 + i);
            const real *k = A->k + t * D + off, *v = A->v + t * D + off;
            real *xk = A->xk + t * D + off, *g = A->g + t * D + off;
            vec_mat(k, W, c, f, z);
            const real sigma = normalize(z, f, xk);
            A->sk[t * H + h] = sigma;
            real m1 = 0, m2 = 0;
            for (int j = 0; j < f; j++) {
                const real e = x->lnw[j] * (x->lnw[j] * xk[j] + x->lnb[j] - (v[j] - k[j]));
                g[j] = e;
                m1 += e;
                m2 += e * xk[j];
            }
            m1 /= (real)f;
            m2 /= (real)f;
            for (int j = 0; j < f; j++) g[j] = (g[j] - m1 - xk[j] * m2) / sigma;
        }
        /* outputs: Z_j = q_j Ws + cs - sum_{i<=j} eta_{j,i} (q_j.k_i + 1) g_i */
        for (int j = 0; j < n; j++) {
            const size_t t = (size_t)(s0 + j);
            const real *q = A->q + t * D + off;
            const real coef = x->base_lr / (real)(f * (j + 1));
            vec_mat(q, W, c, f, z);
            for (int i = 0; i <= j; i++) {
                const size_t ti = (size_t)(s0 + i);
                const real *k = A->k + ti * D + off, *g = A->g + ti * D + off;
                const real a = A->lr[ti * H + h] * coef * (dot(q, k, f) + 1);
                for (int m = 0; m < f; m++) z[m] -= a * g[m];
            }
            real *xz = A->xz + t * D + off, *ho = A->ho + t * D + off;
            A->sz[t * H + h] = normalize(z, f, xz);
            for (int m = 0; m < f; m++) ho[m] = q[m] + x->lnw[m] * xz[m] + x->lnb[m];
        }
        if (s0 + n < T || x->Wout) { /* the state for the next mini-batch (or the caller) */
            const real coefb = x->base_lr / (real)(f * n);
            for (int i = 0; i < n; i++) {
                const size_t t = (size_t)(s0 + i);
                const real *k = A->k + t * D + off, *g = A->g + t * D + off;
                const real a = -coefb * A->lr[t * H + h];
                outer_acc(W, a, k, g, f);
                for (int m = 0; m < f; m++) c[m] += a * g[m];
            }
            if (x->decay != 1) {
                const real d = x->decay;
                for (size_t i = 0; i < (size_t)f * f; i++) W[i] = x->W0p[i] + d * (W[i] - x->W0p[i]);
                for (int m = 0; m < f; m++) c[m] = x->b0p[m] + d * (c[m] - x->b0p[m]);
            }
        }
    }
    if (x->Wout) { /* T is a multiple of b here (tm_forward_state checks) */
        memcpy(x->Wout, W, (size_t)f * f * sizeof(real));
        memcpy(x->cout, c, (size_t)f * sizeof(real));
    }
}

void tm_ttt_linear_fwd(const TmModel *tm, TmWork *w, int layer, int T) {
    TmLayerActs *A = &w->L[layer];
    const ModelConfig *cfg = &tm->cfg;
    const int D = cfg->hidden_dim, H = cfg->num_heads;
    tm_act_eff(tm, w, A->xn1, T, D, A->xe1);
    tm_bitlinear_fwd(tm, layer, TM_Q, A->xe1, T, A->q);
    tm_bitlinear_fwd(tm, layer, TM_K, A->xe1, T, A->k);
    tm_bitlinear_fwd(tm, layer, TM_V, A->xe1, T, A->v);
    const real *lw = tm_lp(tm, tm->params, layer, TM_LR_W), *lb = tm_lp(tm, tm->params, layer, TM_LR_B);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++)
            A->lr[t * H + h] = sigm(dot(lw + (size_t)h * D, A->xn1 + (size_t)t * D, D) + lb[h]);
    for (int h = 0; h < H; h++) {
        HeadCtx x = head_ctx(tm, w, layer, h, T);
        head_fwd(&x, w->hs);
    }
    tm_rmsnorm_fwd(A->ho, tm_lp(tm, tm->params, layer, TM_POST_NORM), T, D, (real)cfg->rms_eps,
                   A->hp, A->rp);
    tm_act_eff(tm, w, A->hp, T, D, A->hpe);
    tm_bitlinear_fwd(tm, layer, TM_O, A->hpe, T, w->mix);
}

/* ---- backward of one head ---- */

/* Gradient through g = dloss/dz of the inner loss (SPEC 1.2) for token t,
 * given dg: into dzk (f), dk, dv and the inner LN's dlnw, dlnb. */
static void inner_grad_bwd(const HeadCtx *x, size_t t, const real *dg, real *dzk, real *dk,
                           real *dv, real *dlnw, real *dlnb, real *tmp) {
    const TmLayerActs *A = x->A;
    const int f = x->f, D = x->D;
    const size_t off = (size_t)x->h * f;
    const real *k = A->k + t * D + off, *v = A->v + t * D + off;
    const real *xk = A->xk + t * D + off, *g = A->g + t * D + off;
    const real sigma = A->sk[t * x->H + x->h];
    real *e = tmp, *dxk = tmp + f;
    real m2 = 0, S1 = 0, S2 = 0, dsigma = 0;
    for (int j = 0; j < f; j++) {
        e[j] = x->lnw[j] * (x->lnw[j] * xk[j] + x->lnb[j] - (v[j] - k[j]));
        m2 += e[j] * xk[j];
        const real dh = dg[j] / sigma;
        S1 += dh;
        S2 += dh * xk[j];
        dsigma -= dg[j] * g[j] / sigma;
    }
    m2 /= (real)f;
    S1 /= (real)f;
    S2 /= (real)f;
    for (int j = 0; j < f; j++) {
        const real dh = dg[j] / sigma;
        const real de = dh - S1 - xk[j] * S2;
        const real y = v[j] - k[j];
        dxk[j] = -dh * m2 - e[j] * S2 + de * x->lnw[j] * x->lnw[j];
        dlnw[j] += de * ((real)2 * x->lnw[j] * xk[j] + x->lnb[j] - y);
        dlnb[j] += de * x->lnw[j];
        const real dy = -de * x->lnw[j];
        dv[j] += dy;
        dk[j] -= dy;
    }
    ln_back(xk, sigma, dxk, f, dzk);
    for (int j = 0; j < f; j++) dzk[j] += dsigma * xk[j] / (real)f;
}

typedef struct HeadGrads {
    const real *dho;            /* T x D */
    real *dq, *dk, *dv, *dlr;   /* T x D, T x H */
    real *dW0, *db0, *dlnw, *dlnb; /* dW0, db0 NULL: the start state was a constant */
    real *dW0p, *db0p;          /* the parameters' gradients, for state_decay */
} HeadGrads;

static void head_bwd(const HeadCtx *x, const HeadGrads *G, real *hs) {
    const TmLayerActs *A = x->A;
    const int f = x->f, D = x->D, H = x->H, h = x->h, T = x->T, b = x->b;
    const size_t off = (size_t)h * f, ff = (size_t)f * f;
    real *dW = hs, *dWs = dW + ff, *dc = dWs + ff, *dcs = dc + f, *dG = dcs + f;
    real *v1 = dG + (size_t)b * f, *v2 = v1 + f, *tmp = v2 + f;
    memset(dW, 0, ff * sizeof(real));
    memset(dc, 0, (size_t)f * sizeof(real));
    for (int mb = (T - 1) / b; mb >= 0; mb--) {
        const int s0 = mb * b, n = T - s0 < b ? T - s0 : b;
        const real *Ws = A->Wst + ((size_t)mb * H + h) * ff;
        if (s0 + n < T && x->decay != 1) { /* W' = W0 + d (W - W0): dW0 += (1 - d) dW', dW = d dW' */
            const real d = x->decay;
            for (size_t i = 0; i < ff; i++) {
                G->dW0p[i] += (1 - d) * dW[i];
                dW[i] *= d;
            }
            for (int m = 0; m < f; m++) {
                G->db0p[m] += (1 - d) * dc[m];
                dc[m] *= d;
            }
        }
        memcpy(dWs, dW, ff * sizeof(real));
        memcpy(dcs, dc, (size_t)f * sizeof(real));
        memset(dG, 0, (size_t)n * f * sizeof(real));
        if (s0 + n < T) {
            /* W' = Ws - coefb sum_i lr_i k_i^T g_i, c' = cs - coefb sum_i lr_i g_i */
            const real coefb = x->base_lr / (real)(f * n);
            for (int i = 0; i < n; i++) {
                const size_t t = (size_t)(s0 + i);
                const real *k = A->k + t * D + off, *g = A->g + t * D + off;
                const real lr = A->lr[t * H + h], a = coefb * lr;
                memset(v1, 0, (size_t)f * sizeof(real));
                mat_vec_acc(dW, g, f, v1);                 /* dW g^T */
                real *dg = dG + (size_t)i * f, *dk = G->dk + t * D + off;
                for (int j = 0; j < f; j++) {
                    real kdw = 0;                          /* (k dW)[j] */
                    for (int m = 0; m < f; m++) kdw += k[m] * dW[(size_t)m * f + j];
                    dg[j] -= a * (kdw + dc[j]);
                    dk[j] -= a * v1[j];
                }
                G->dlr[t * H + h] -= coefb * (dot(k, v1, f) + dot(dc, g, f));
            }
        }
        for (int j = 0; j < n; j++) {
            const size_t t = (size_t)(s0 + j);
            const real *q = A->q + t * D + off, *dout = G->dho + t * D + off;
            const real *xz = A->xz + t * D + off;
            const real coef = x->base_lr / (real)(f * (j + 1));
            real *dq = G->dq + t * D + off;
            /* out = q + lnw * LN(Z) + lnb */
            for (int m = 0; m < f; m++) {
                dq[m] += dout[m];
                v1[m] = dout[m] * x->lnw[m];
                G->dlnw[m] += dout[m] * xz[m];
                G->dlnb[m] += dout[m];
            }
            ln_back(xz, A->sz[t * H + h], v1, f, v2); /* v2 = dZ */
            mat_vec_acc(Ws, v2, f, dq);
            outer_acc(dWs, 1, q, v2, f);
            for (int m = 0; m < f; m++) dcs[m] += v2[m];
            for (int i = 0; i <= j; i++) {
                const size_t ti = (size_t)(s0 + i);
                const real *k = A->k + ti * D + off, *g = A->g + ti * D + off;
                const real lr = A->lr[ti * H + h], qk1 = dot(q, k, f) + 1;
                const real a = lr * coef * qk1, da = -dot(v2, g, f);
                real *dg = dG + (size_t)i * f, *dk = G->dk + ti * D + off;
                const real s = da * lr * coef;
                for (int m = 0; m < f; m++) {
                    dg[m] -= a * v2[m];
                    dq[m] += s * k[m];
                    dk[m] += s * q[m];
                }
                G->dlr[ti * H + h] += da * coef * qk1;
            }
        }
        /* g_i = inner gradient at (Ws, cs): through z_i = k_i Ws + cs */
        for (int i = 0; i < n; i++) {
            const size_t t = (size_t)(s0 + i);
            const real *k = A->k + t * D + off;
            real *dk = G->dk + t * D + off, *dv = G->dv + t * D + off;
            inner_grad_bwd(x, t, dG + (size_t)i * f, v1, dk, dv, G->dlnw, G->dlnb, tmp);
            mat_vec_acc(Ws, v1, f, dk);
            outer_acc(dWs, 1, k, v1, f);
            for (int m = 0; m < f; m++) dcs[m] += v1[m];
        }
        memcpy(dW, dWs, ff * sizeof(real));
        memcpy(dc, dcs, (size_t)f * sizeof(real));
    }
    if (!G->dW0) return;
    for (size_t i = 0; i < ff; i++) G->dW0[i] += dW[i];
    for (int m = 0; m < f; m++) G->db0[m] += dc[m];
}

void tm_ttt_linear_bwd(const TmModel *tm, TmWork *w, int layer, int T, const real *dmix,
                       real *dxn1, real *grad) {
    TmLayerActs *A = &w->L[layer];
    const ModelConfig *cfg = &tm->cfg;
    const int D = cfg->hidden_dim, H = cfg->num_heads, f = D / H;
    real *dhp = w->dD2, *dho = w->dI1;
    /* o and the post-norm */
    tm_bitlinear_bwd(tm, layer, TM_O, A->hpe, dmix, T, dhp, 0, grad);
    tm_rmsnorm_bwd(A->ho, A->rp, tm_lp(tm, tm->params, layer, TM_POST_NORM), dhp, T, D, dho, 0,
                   tm_lp(tm, grad, layer, TM_POST_NORM));
    /* the heads */
    memset(w->dq, 0, (size_t)T * D * sizeof(real));
    memset(w->dk, 0, (size_t)T * D * sizeof(real));
    memset(w->dv, 0, (size_t)T * D * sizeof(real));
    memset(w->dlr, 0, (size_t)T * H * sizeof(real));
    for (int h = 0; h < H; h++) {
        HeadCtx x = head_ctx(tm, w, layer, h, T);
        x.Wout = x.cout = NULL;
        HeadGrads G = {dho, w->dq, w->dk, w->dv, w->dlr,
                       w->state_given ? NULL : tm_lp(tm, grad, layer, TM_W0) + (size_t)h * f * f,
                       w->state_given ? NULL : tm_lp(tm, grad, layer, TM_B0) + (size_t)h * f,
                       tm_lp(tm, grad, layer, TM_LN_W) + (size_t)h * f,
                       tm_lp(tm, grad, layer, TM_LN_B) + (size_t)h * f,
                       tm_lp(tm, grad, layer, TM_W0) + (size_t)h * f * f,
                       tm_lp(tm, grad, layer, TM_B0) + (size_t)h * f};
        head_bwd(&x, &G, w->hs);
    }
    /* the lr gate: lr = sigmoid(lr_w xn1 + lr_b) */
    const real *lw = tm_lp(tm, tm->params, layer, TM_LR_W);
    real *dlw = tm_lp(tm, grad, layer, TM_LR_W), *dlb = tm_lp(tm, grad, layer, TM_LR_B);
    memset(dxn1, 0, (size_t)T * D * sizeof(real));
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++) {
            const real s = A->lr[t * H + h], dl = w->dlr[t * H + h] * s * (1 - s);
            if (dl == 0) continue;
            dlb[h] += dl;
            const real *xn = A->xn1 + (size_t)t * D, *lwh = lw + (size_t)h * D;
            real *dlwh = dlw + (size_t)h * D, *dx = dxn1 + (size_t)t * D;
            for (int i = 0; i < D; i++) {
                dlwh[i] += dl * xn[i];
                dx[i] += dl * lwh[i];
            }
        }
    /* q, k, v (the STE passes dxe1 to xn1) */
    tm_bitlinear_bwd(tm, layer, TM_Q, A->xe1, w->dq, T, dxn1, 1, grad);
    tm_bitlinear_bwd(tm, layer, TM_K, A->xe1, w->dk, T, dxn1, 1, grad);
    tm_bitlinear_bwd(tm, layer, TM_V, A->xe1, w->dv, T, dxn1, 1, grad);
}
