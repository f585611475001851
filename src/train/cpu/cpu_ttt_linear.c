/* cpu_ttt_linear.c: the TTT-Linear chains (SPEC 1.2) of the CPU backend,
 * forward and backward side by side, one (sequence, head) pair at a time.
 * The forward runs the dual form over whole mini-batches of b tokens through
 * the sequence, the state (W, c) carried from one mini-batch to the next
 * (starting at W0, b0, or at a carried state given as a constant), and
 * keeps the state at each mini-batch start. The backward walks the
 * mini-batches in reverse: gradients through the dual form within a
 * mini-batch (the output LN, the b x b eta (q.k + 1) mixing, the inner
 * gradients g_i and their own LayerNorm), and through (W, c) into the
 * previous mini-batch, ending in W0 and b0 (not when the state was given).
 * With state_decay d < 1 each closed mini-batch ends with
 * W <- W0 + d (W - W0) (docs/TTT_MEMORY.md): the backward scales the
 * state's gradient by d there and gives (1 - d) of it to W0, b0.
 * Threads: the forward splits the B x H chains; the backward splits the
 * heads, each walking the sequences in order, so that the gradients of W0,
 * b0 and the inner LayerNorm are summed in the same order at any thread
 * count. Per head: q, k, v, g... are f-wide slices of the D-wide rows. */
#include <string.h>

#include "../../util/threadpool.h"
#include "cpu_internal.h"

/* z = x W + c (x: f, W: f x f with row m = input m) */
static void vec_mat(const real *x, const real *W, const real *c, int f, real *z) {
    for (int j = 0; j < f; j++) z[j] = c[j];
    for (int m = 0; m < f; m++) {
        const real xm = x[m];
        const real *row = W + (size_t)m * f;
        for (int j = 0; j < f; j++) z[j] += xm * row[j];
    }
}

/* out += W y (out[m] += sum_j W[m, j] y[j]) */
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
    const real sigma = REAL_SQRT(var + (real)1e-6);
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

/* Per-head scratch (reals) of the chains. */
static size_t head_scratch(const TttLinearChain *c) {
    const size_t f = (size_t)(c->D / c->H);
    return 4 * f * f + ((size_t)c->mini_batch + 16) * f + 64;
}

/* One (sequence, head) chain. */
typedef struct Head {
    const TttLinearChain *c;
    int s, h, f, nmb;
    size_t r0;                  /* first row of the sequence */
    const real *W0, *b0;        /* the start state: the parameters or the carried state */
    const real *lnw, *lnb;
    int carried;
    real *Wout, *cout;          /* where the end state goes, or NULL */
} Head;

static Head head_of(const TttLinearChain *c, int s, int h) {
    Head x;
    x.c = c;
    x.s = s;
    x.h = h;
    x.f = c->D / c->H;
    x.nmb = (c->T + c->mini_batch - 1) / c->mini_batch;
    x.r0 = (size_t)s * c->T;
    const size_t ff = (size_t)x.f * x.f;
    x.W0 = c->W0 + (size_t)h * ff;
    x.b0 = c->b0 + (size_t)h * x.f;
    x.lnw = c->ln_w + (size_t)h * x.f;
    x.lnb = c->ln_b + (size_t)h * x.f;
    x.carried = c->state && c->carried && c->carried[s];
    x.Wout = x.cout = NULL;
    real *st = c->state ? c->state + (size_t)s * c->state_stride : NULL;
    if (x.carried) { /* the layer's slice: W (H x f x f), then c (H x f) */
        x.W0 = st + (size_t)h * ff;
        x.b0 = st + (size_t)c->H * ff + (size_t)h * x.f;
    }
    if (st && c->state_out) {
        x.Wout = st + (size_t)h * ff;
        x.cout = st + (size_t)c->H * ff + (size_t)h * x.f;
    }
    return x;
}

/* ---- forward of one chain ---- */
static void head_fwd(const Head *x, real *hs) {
    const TttLinearChain *C = x->c;
    const int f = x->f, D = C->D, H = C->H, h = x->h, T = C->T, b = C->mini_batch;
    const size_t off = (size_t)h * f, ff = (size_t)f * f;
    const real *W0p = C->W0 + (size_t)h * ff, *b0p = C->b0 + off;
    real *W = hs, *c = W + ff, *z = c + f;
    memcpy(W, x->W0, ff * sizeof(real));
    memcpy(c, x->b0, (size_t)f * sizeof(real));
    for (int mb = 0, s0 = 0; s0 < T; mb++, s0 += b) {
        const int n = T - s0 < b ? T - s0 : b;
        const size_t st = ((size_t)x->s * x->nmb + mb) * H + h;
        memcpy(C->Wst + st * ff, W, ff * sizeof(real));
        memcpy(C->cst + st * f, c, (size_t)f * sizeof(real));
        /* inner gradients g_i, all at the state of the mini-batch start */
        for (int i = 0; i < n; i++) {
            const size_t t = x->r0 + (size_t)(s0 + i);
            const real *k = C->k + t * D + off, *v = C->v + t * D + off;
            real *xk = C->xk + t * D + off, *g = C->g + t * D + off;
            vec_mat(k, W, c, f, z);
            const real sigma = normalize(z, f, xk);
            C->sk[t * H + h] = sigma;
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
            const size_t t = x->r0 + (size_t)(s0 + j);
            const real *q = C->q + t * D + off;
            const real coef = C->base_lr / (real)(f * (j + 1));
            vec_mat(q, W, c, f, z);
            for (int i = 0; i <= j; i++) {
                const size_t ti = x->r0 + (size_t)(s0 + i);
                const real *k = C->k + ti * D + off, *g = C->g + ti * D + off;
                const real a = C->lr_gate[ti * H + h] * coef * (dot(q, k, f) + 1);
                for (int m = 0; m < f; m++) z[m] -= a * g[m];
            }
            real *xz = C->xz + t * D + off, *ho = C->out + t * D + off;
            C->sz[t * H + h] = normalize(z, f, xz);
            for (int m = 0; m < f; m++) ho[m] = q[m] + x->lnw[m] * xz[m] + x->lnb[m];
        }
        if (s0 + n < T || x->Wout) { /* the state for the next mini-batch (or the caller) */
            const real coefb = C->base_lr / (real)(f * n);
            for (int i = 0; i < n; i++) {
                const size_t t = x->r0 + (size_t)(s0 + i);
                const real *k = C->k + t * D + off, *g = C->g + t * D + off;
                const real a = -coefb * C->lr_gate[t * H + h];
                outer_acc(W, a, k, g, f);
                for (int m = 0; m < f; m++) c[m] += a * g[m];
            }
            if (C->state_decay != 1) {
                const real d = C->state_decay;
                for (size_t i = 0; i < ff; i++) W[i] = W0p[i] + d * (W[i] - W0p[i]);
                for (int m = 0; m < f; m++) c[m] = b0p[m] + d * (c[m] - b0p[m]);
            }
        }
    }
    if (x->Wout) { /* T is a multiple of b here (train_forward checks) */
        memcpy(x->Wout, W, ff * sizeof(real));
        memcpy(x->cout, c, (size_t)f * sizeof(real));
    }
}

typedef struct ChainJob {
    const TttLinearChain *c;
    real **scratch;
} ChainJob;

static void fwd_worker(void *ctx, int i0, int i1, int worker) {
    const ChainJob *j = ctx;
    for (int i = i0; i < i1; i++) {
        Head x = head_of(j->c, i / j->c->H, i % j->c->H);
        head_fwd(&x, j->scratch[worker]);
    }
}

void cpu_ttt_linear_fwd(TrainBackend *be, const TttLinearChain *c) {
    CpuBackend *cb = cpu_of(be);
    ChainJob j = {c, cpu_scratch(cb, head_scratch(c))};
    if (!j.scratch) return;
    parallel_for(c->B * c->H, 1, fwd_worker, &j);
}

/* ---- backward of one chain ---- */

/* Gradient through g = dloss/dz of the inner loss (SPEC 1.2) for row t,
 * given dg: into dzk (f), dk, dv and the inner LN's dlnw, dlnb. */
static void inner_grad_bwd(const Head *x, size_t t, const real *dg, real *dzk, real *dk, real *dv, real *dlnw,
                           real *dlnb, real *tmp) {
    const TttLinearChain *C = x->c;
    const int f = x->f, D = C->D;
    const size_t off = (size_t)x->h * f;
    const real *k = C->k + t * D + off, *v = C->v + t * D + off;
    const real *xk = C->xk + t * D + off, *g = C->g + t * D + off;
    const real sigma = C->sk[t * C->H + x->h];
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

static void head_bwd(const Head *x, real *hs) {
    const TttLinearChain *C = x->c;
    const int f = x->f, D = C->D, H = C->H, h = x->h, T = C->T, b = C->mini_batch;
    const size_t off = (size_t)h * f, ff = (size_t)f * f;
    real *dlnw = C->dln_w + off, *dlnb = C->dln_b + off;
    real *dW0p = C->dW0 + (size_t)h * ff, *db0p = C->db0 + off;
    real *dW = hs, *dWs = dW + ff, *dc = dWs + ff, *dcs = dc + f, *dG = dcs + f;
    real *v1 = dG + (size_t)b * f, *v2 = v1 + f, *tmp = v2 + f;
    memset(dW, 0, ff * sizeof(real));
    memset(dc, 0, (size_t)f * sizeof(real));
    for (int mb = (T - 1) / b; mb >= 0; mb--) {
        const int s0 = mb * b, n = T - s0 < b ? T - s0 : b;
        const real *Ws = C->Wst + (((size_t)x->s * x->nmb + mb) * H + h) * ff;
        if (s0 + n < T && C->state_decay != 1) { /* W' = W0 + d (W - W0): dW0 += (1 - d) dW', dW = d dW' */
            const real d = C->state_decay;
            for (size_t i = 0; i < ff; i++) {
                dW0p[i] += (1 - d) * dW[i];
                dW[i] *= d;
            }
            for (int m = 0; m < f; m++) {
                db0p[m] += (1 - d) * dc[m];
                dc[m] *= d;
            }
        }
        memcpy(dWs, dW, ff * sizeof(real));
        memcpy(dcs, dc, (size_t)f * sizeof(real));
        memset(dG, 0, (size_t)n * f * sizeof(real));
        if (s0 + n < T) {
            /* W' = Ws - coefb sum_i lr_i k_i^T g_i, c' = cs - coefb sum_i lr_i g_i */
            const real coefb = C->base_lr / (real)(f * n);
            for (int i = 0; i < n; i++) {
                const size_t t = x->r0 + (size_t)(s0 + i);
                const real *k = C->k + t * D + off, *g = C->g + t * D + off;
                const real lr = C->lr_gate[t * H + h], a = coefb * lr;
                memset(v1, 0, (size_t)f * sizeof(real));
                mat_vec_acc(dW, g, f, v1); /* dW g^T */
                real *dg = dG + (size_t)i * f, *dk = C->dk + t * D + off;
                for (int j = 0; j < f; j++) {
                    real kdw = 0; /* (k dW)[j] */
                    for (int m = 0; m < f; m++) kdw += k[m] * dW[(size_t)m * f + j];
                    dg[j] -= a * (kdw + dc[j]);
                    dk[j] -= a * v1[j];
                }
                C->d_lr_gate[t * H + h] -= coefb * (dot(k, v1, f) + dot(dc, g, f));
            }
        }
        for (int j = 0; j < n; j++) {
            const size_t t = x->r0 + (size_t)(s0 + j);
            const real *q = C->q + t * D + off, *dout = C->d_out + t * D + off;
            const real *xz = C->xz + t * D + off;
            const real coef = C->base_lr / (real)(f * (j + 1));
            real *dq = C->dq + t * D + off;
            /* out = q + lnw * LN(Z) + lnb */
            for (int m = 0; m < f; m++) {
                dq[m] += dout[m];
                v1[m] = dout[m] * x->lnw[m];
                dlnw[m] += dout[m] * xz[m];
                dlnb[m] += dout[m];
            }
            ln_back(xz, C->sz[t * H + h], v1, f, v2); /* v2 = dZ */
            mat_vec_acc(Ws, v2, f, dq);
            outer_acc(dWs, 1, q, v2, f);
            for (int m = 0; m < f; m++) dcs[m] += v2[m];
            for (int i = 0; i <= j; i++) {
                const size_t ti = x->r0 + (size_t)(s0 + i);
                const real *k = C->k + ti * D + off, *g = C->g + ti * D + off;
                const real lr = C->lr_gate[ti * H + h], qk1 = dot(q, k, f) + 1;
                const real a = lr * coef * qk1, da = -dot(v2, g, f);
                real *dg = dG + (size_t)i * f, *dk = C->dk + ti * D + off;
                const real s = da * lr * coef;
                for (int m = 0; m < f; m++) {
                    dg[m] -= a * v2[m];
                    dq[m] += s * k[m];
                    dk[m] += s * q[m];
                }
                C->d_lr_gate[ti * H + h] += da * coef * qk1;
            }
        }
        /* g_i = inner gradient at (Ws, cs): through z_i = k_i Ws + cs */
        for (int i = 0; i < n; i++) {
            const size_t t = x->r0 + (size_t)(s0 + i);
            const real *k = C->k + t * D + off;
            real *dk = C->dk + t * D + off, *dv = C->dv + t * D + off;
            inner_grad_bwd(x, t, dG + (size_t)i * f, v1, dk, dv, dlnw, dlnb, tmp);
            mat_vec_acc(Ws, v1, f, dk);
            outer_acc(dWs, 1, k, v1, f);
            for (int m = 0; m < f; m++) dcs[m] += v1[m];
        }
        memcpy(dW, dWs, ff * sizeof(real));
        memcpy(dc, dcs, (size_t)f * sizeof(real));
    }
    if (x->carried) return; /* the start state was a constant */
    for (size_t i = 0; i < ff; i++) dW0p[i] += dW[i];
    for (int m = 0; m < f; m++) db0p[m] += dc[m];
}

/* Head h over every sequence, in order. */
static void bwd_worker(void *ctx, int h0, int h1, int worker) {
    const ChainJob *j = ctx;
    for (int h = h0; h < h1; h++)
        for (int s = 0; s < j->c->B; s++) {
            Head x = head_of(j->c, s, h);
            x.Wout = x.cout = NULL;
            head_bwd(&x, j->scratch[worker]);
        }
}

void cpu_ttt_linear_bwd(TrainBackend *be, const TttLinearChain *c) {
    CpuBackend *cb = cpu_of(be);
    const size_t N = (size_t)c->B * c->T;
    memset(c->dq, 0, N * c->D * sizeof(real));
    memset(c->dk, 0, N * c->D * sizeof(real));
    memset(c->dv, 0, N * c->D * sizeof(real));
    memset(c->d_lr_gate, 0, N * c->H * sizeof(real));
    ChainJob j = {c, cpu_scratch(cb, head_scratch(c))};
    if (!j.scratch) return;
    parallel_for(c->H, 1, bwd_worker, &j);
}
