/* ttt_linear.c: the TTT-Linear mixer (SPEC 1.2). The memory of each head is
 * a small linear model (W, c) trained by one gradient step per mini-batch
 * of b tokens while the model reads. Two forms of the same function:
 *  - dual form (prefill): all tokens of a mini-batch at once, through the
 *    b x b matrix of eta_{j,i} (q_j . k_i + 1); the running sums (A, a)
 *    are formed only at the end of the chunk;
 *  - primal form (decode): one token, updating A and a first, then
 *    W_j = Ws - base_lr/(f j) A.
 * A chunk may start in the middle of a mini-batch: the carried (A, a, pos)
 * make that exact. With config state_decay < 1 (docs/TTT_MEMORY.md) each
 * closed mini-batch also pulls the memory back toward (W0, b0). With the
 * forget gate (SPEC 1.2.1) every token t keeps a_t = exp(l_t) of the
 * memory's deviation from (W0, b0): gamma = exp(L_j) is the share of
 * (Ws - W0) kept since the mini-batch start, the sums (A, a) decay by a_t
 * before each new term, and W_j = W0 + gamma (Ws - W0) - base_lr/(f j) A;
 * the dual form gets the same through exp(L_j - L_i). Without the gate each
 * path does exactly the arithmetic of SPEC 1.2. */
#include <math.h>
#include <string.h>

#include "../kernels/target_clones.h"
#include "../util/threadpool.h"
#include "act_math.h"
#include "bitlinear_apply.h"
#include "block.h"
#include "ttt_math.h"

typedef struct HeadParams {
    const float *ln_w, *ln_b;   /* f */
    const float *W0, *b0;       /* f x f, f: where state_decay pulls the memory */
    int f, b;
    float base_lr, decay;
} HeadParams;

typedef struct HeadState {
    float *W, *c, *A, *a;       /* f x f, f, f x f, f */
    float *gamma;               /* 1 value with the forget gate, else NULL */
    int *pos;
} HeadState;

/* Closes a full mini-batch: Ws <- Ws - base_lr/(f b) A, cs likewise; then,
 * with state_decay d < 1, Ws <- W0 + d (Ws - W0), cs <- b0 + d (cs - b0).
 * With the forget gate: Ws <- W0 + gamma (Ws - W0) - base_lr/(f b) A. */
BITT_VECTOR_CLONES static void fold_minibatch(const HeadParams *p, HeadState *st) {
    const int f = p->f;
    const float coef = p->base_lr / (float)(f * p->b);
    if (st->gamma) {
        const float g = *st->gamma;
        for (int i = 0; i < f * f; i++) {
            st->W[i] = p->W0[i] + g * (st->W[i] - p->W0[i]) - coef * st->A[i];
            st->A[i] = 0.0f;
        }
        for (int j = 0; j < f; j++) {
            st->c[j] = p->b0[j] + g * (st->c[j] - p->b0[j]) - coef * st->a[j];
            st->a[j] = 0.0f;
        }
        *st->gamma = 1.0f;
        *st->pos = 0;
        return;
    }
    for (int i = 0; i < f * f; i++) {
        st->W[i] -= coef * st->A[i];
        st->A[i] = 0.0f;
    }
    for (int j = 0; j < f; j++) {
        st->c[j] -= coef * st->a[j];
        st->a[j] = 0.0f;
    }
    if (p->decay != 1.0f) {
        const float d = p->decay;
        for (int i = 0; i < f * f; i++) st->W[i] = p->W0[i] + d * (st->W[i] - p->W0[i]);
        for (int j = 0; j < f; j++) st->c[j] = p->b0[j] + d * (st->c[j] - p->b0[j]);
    }
    *st->pos = 0;
}

/* Primal form with the forget gate: a_t = exp(l_t) decays gamma and the
 * sums before the token's own term; z = gamma (q Ws + cs) + (1 - gamma)
 * (q W0 + b0) - base_lr/(f j) (q A + a). tmp: 5 f. */
BITT_VECTOR_CLONES static void head_primal_step_gated(const HeadParams *p, HeadState *st, const float *q,
                                                      const float *k, const float *v, float lr, float l, float *out,
                                                      float *tmp) {
    const int f = p->f;
    float *g = tmp, *z = tmp + f, *z0 = tmp + 2 * f, *qa = tmp + 3 * f, *grad_tmp = tmp + 3 * f;
    ttt_inner_grad(st->W, st->c, k, v, p->ln_w, p->ln_b, f, g, grad_tmp);
    const float a_t = act_expf(l);
    *st->gamma *= a_t;
    ttt_decay_add_outer(st->A, a_t, &lr, k, f, g, 1, f);
    for (int j = 0; j < f; j++) st->a[j] = a_t * st->a[j] + lr * g[j];
    int pos = ++*st->pos;
    const float coef = p->base_lr / (float)(f * pos), gam = *st->gamma;
    ttt_vec_mat(q, st->W, st->c, f, z);
    ttt_vec_mat(q, p->W0, p->b0, f, z0);
    ttt_vec_mat(q, st->A, st->a, f, qa);
    for (int j = 0; j < f; j++) z[j] = gam * z[j] + (1.0f - gam) * z0[j] - coef * qa[j];
    ttt_output(q, z, p->ln_w, p->ln_b, f, out);
    if (pos == p->b) fold_minibatch(p, st);
}

/* Primal form: one token. q, k, v: f values; out: f values. tmp: 4 f. */
BITT_VECTOR_CLONES static void head_primal_step(const HeadParams *p, HeadState *st, const float *q, const float *k,
                             const float *v, float lr, float *out, float *tmp) {
    const int f = p->f;
    float *g = tmp, *z = tmp + f, *qa = tmp + 2 * f, *grad_tmp = tmp + 2 * f;
    ttt_inner_grad(st->W, st->c, k, v, p->ln_w, p->ln_b, f, g, grad_tmp);
    ttt_add_outer(st->A, &lr, k, f, g, 1, f);
    for (int j = 0; j < f; j++) st->a[j] += lr * g[j];
    int pos = ++*st->pos;
    const float coef = p->base_lr / (float)(f * pos);
    ttt_vec_mat(q, st->W, st->c, f, z);
    ttt_vec_mat(q, st->A, st->a, f, qa);
    for (int j = 0; j < f; j++) z[j] -= coef * qa[j];
    ttt_output(q, z, p->ln_w, p->ln_b, f, out);
    if (pos == p->b) fold_minibatch(p, st);
}

/* 1 if the n floats are all +0 or -0 */
static int all_zero(const float *x, int n) {
    float any = 0.0f;
    for (int i = 0; i < n; i++) any += fabsf(x[i]); /* no early exit: vectorises; NaN/inf count as nonzero */
    return any == 0.0f;
}

/* Dual form: n tokens that all fall in the current mini-batch
 * (n <= b - pos). Rows of Q, K, V, out are `stride` floats apart; lr has n
 * values. tmp: 3 n f + f floats. */
BITT_VECTOR_CLONES static void head_dual_chunk(const HeadParams *p, HeadState *st, const float *Q, const float *K,
                            const float *V, int stride, const float *lr, int n, float *out,
                            float *tmp) {
    const int f = p->f;
    float *G = tmp, *QW = G + (size_t)n * f, *QA = QW + (size_t)n * f, *xhat = QA + (size_t)n * f;
    /* every g_i at the state (Ws, cs) of this mini-batch: Z = K Ws + cs first */
    ttt_rows_mat(K, stride, st->W, st->c, n, f, G);
    for (int i = 0; i < n; i++) {
        float *g = G + (size_t)i * f;
        ttt_inner_grad_from_z(g, K + (size_t)i * stride, V + (size_t)i * stride, p->ln_w, p->ln_b, f, g,
                              xhat);
    }
    ttt_rows_mat(Q, stride, st->W, st->c, n, f, QW);
    const int pos0 = *st->pos;
    /* q A_prev + a_prev: zero at the start of a mini-batch (fold_minibatch
     * cleared A, a), which is where every prefill chunk but a resumed one
     * starts: a third of the products saved. The check keeps it exact for
     * any state (a loaded state file, too). */
    if (pos0 == 0 && all_zero(st->A, f * f) && all_zero(st->a, f))
        memset(QA, 0, (size_t)n * f * sizeof *QA);
    else
        ttt_rows_mat(Q, stride, st->A, st->a, n, f, QA);
    for (int j = 0; j < n; j++) {
        const float *q = Q + (size_t)j * stride;
        /* q A_prev + a_prev + sum_{i<=j} lr_i (q . k_i + 1) g_i */
        float *qa = QA + (size_t)j * f, *z = QW + (size_t)j * f;
        for (int i = 0; i <= j; i++) {
            const float e = lr[i] * (ttt_dot(q, K + (size_t)i * stride, f) + 1.0f);
            const float *g = G + (size_t)i * f;
            for (int m = 0; m < f; m++) qa[m] += e * g[m];
        }
        const float coef = p->base_lr / (float)(f * (pos0 + j + 1));
        for (int m = 0; m < f; m++) z[m] -= coef * qa[m];
        ttt_output(q, z, p->ln_w, p->ln_b, f, out + (size_t)j * stride);
    }
    /* carry the sums: A += K^T diag(lr) G, a += lr G */
    ttt_add_outer(st->A, lr, K, stride, G, n, f);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < f; j++) st->a[j] += lr[i] * G[(size_t)i * f + j];
    *st->pos = pos0 + n;
    if (*st->pos == p->b) fold_minibatch(p, st);
}

/* dec[i] = exp(l[i+1] + ... + l[j]) for i <= j: the share of term i that the
 * gates after it keep at token j, the exponent summed directly (not as a
 * difference of two long running sums, whose rounding would grow with the
 * distance from the mini-batch start). */
static void gate_decays(const float *l, int j, float *dec) {
    float acc = 0.0f;
    for (int i = j; i >= 0; i--) {
        dec[i] = act_expf(acc);
        acc += l[i];
    }
}

/* Dual form with the forget gate: n tokens of the current mini-batch whose
 * log-gates are l (n values). With Lc the running sum of l over the chunk
 * and E_t = exp(Lc_t): the carried sums enter token t scaled by E_t, the
 * chunk's term i by exp(l_{i+1} + ... + l_t), and z = gamma_t (q Ws + cs) +
 * (1 - gamma_t) (q W0 + b0) - base_lr/(f j) (q A_t + a_t), gamma_t =
 * gamma E_t. tmp: 4 n f + f + 2 n floats. */
BITT_VECTOR_CLONES static void head_dual_chunk_gated(const HeadParams *p, HeadState *st, const float *Q,
                                                     const float *K, const float *V, int stride, const float *lr,
                                                     const float *l, int n, float *out, float *tmp) {
    const int f = p->f;
    float *G = tmp, *QW = G + (size_t)n * f, *QA = QW + (size_t)n * f, *Z0 = QA + (size_t)n * f;
    float *xhat = Z0 + (size_t)n * f, *Lc = xhat + f, *dec = Lc + n;
    ttt_rows_mat(K, stride, st->W, st->c, n, f, G);
    for (int i = 0; i < n; i++) {
        float *g = G + (size_t)i * f;
        ttt_inner_grad_from_z(g, K + (size_t)i * stride, V + (size_t)i * stride, p->ln_w, p->ln_b, f, g,
                              xhat);
    }
    ttt_rows_mat(Q, stride, st->W, st->c, n, f, QW);
    ttt_rows_mat(Q, stride, p->W0, p->b0, n, f, Z0);
    const int pos0 = *st->pos;
    if (pos0 == 0 && all_zero(st->A, f * f) && all_zero(st->a, f))
        memset(QA, 0, (size_t)n * f * sizeof *QA);
    else
        ttt_rows_mat(Q, stride, st->A, st->a, n, f, QA);
    float acc = 0.0f;
    for (int t = 0; t < n; t++) Lc[t] = acc += l[t];
    const float gamma0 = *st->gamma;
    for (int j = 0; j < n; j++) {
        const float *q = Q + (size_t)j * stride;
        const float E = act_expf(Lc[j]), gam = gamma0 * E;
        float *qa = QA + (size_t)j * f, *z = QW + (size_t)j * f;
        const float *z0 = Z0 + (size_t)j * f;
        for (int m = 0; m < f; m++) qa[m] *= E;
        gate_decays(l, j, dec);
        for (int i = 0; i <= j; i++) {
            const float e = lr[i] * dec[i] * (ttt_dot(q, K + (size_t)i * stride, f) + 1.0f);
            const float *g = G + (size_t)i * f;
            for (int m = 0; m < f; m++) qa[m] += e * g[m];
        }
        const float coef = p->base_lr / (float)(f * (pos0 + j + 1));
        for (int m = 0; m < f; m++) z[m] = gam * z[m] + (1.0f - gam) * z0[m] - coef * qa[m];
        ttt_output(q, z, p->ln_w, p->ln_b, f, out + (size_t)j * stride);
    }
    /* carry the sums: A <- E A + sum_i lr_i exp(l_{i+1} + ... + l_n) k_i^T g_i, the same for a */
    const float E = act_expf(Lc[n - 1]);
    float *s = Z0; /* the n weights of the terms, in Z0's rows (no longer needed) */
    gate_decays(l, n - 1, dec);
    for (int i = 0; i < n; i++) s[i] = lr[i] * dec[i];
    ttt_decay_add_outer(st->A, E, s, K, stride, G, n, f);
    for (int j = 0; j < f; j++) st->a[j] *= E;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < f; j++) st->a[j] += s[i] * G[(size_t)i * f + j];
    *st->gamma = gamma0 * E;
    *st->pos = pos0 + n;
    if (*st->pos == p->b) fold_minibatch(p, st);
}

typedef struct HeadsJob {
    const BlockIO *io;
    TttLayerState *ls;
    int force_primal;
} HeadsJob;

/* Heads [h0, h1) over the T tokens of the chunk: q/k/v/lr/lf -> heads. */
static void run_heads(void *ctx, int h0, int h1, int worker) {
    (void)worker;
    const HeadsJob *job = ctx;
    const BlockIO *io = job->io;
    BlockScratch *s = io->scratch;
    const int T = io->T;
    const ModelConfig *cfg = &io->m->cfg;
    const LayerWeights *w = &io->m->layers[io->layer];
    TttLayerState *ls = job->ls;
    const int D = cfg->hidden_dim, H = cfg->num_heads, f = D / H;
    for (int h = h0; h < h1; h++) {
        float *lr_col = s->ttt_tmp + (size_t)h * block_ttt_tmp_per_head(cfg); /* T values */
        float *lf_col = lr_col + SESSION_CHUNK;                                /* T values */
        float *tmp = lf_col + SESSION_CHUNK;                                   /* head scratch */
        HeadParams p = {w->ln_w + h * f, w->ln_b + h * f, w->W0 + (size_t)h * f * f, w->b0 + h * f,
                        f, cfg->mini_batch, cfg->base_lr, cfg->state_decay};
        int pos = ls->pos;
        HeadState st = {ls->W + (size_t)h * f * f, ls->c + h * f, ls->A + (size_t)h * f * f,
                        ls->a + h * f, ls->gamma ? ls->gamma + h : NULL, &pos};
        const int gated = st.gamma != NULL;
        for (int t = 0; t < T; t++) lr_col[t] = s->lr_gate[t * H + h];
        if (gated)
            for (int t = 0; t < T; t++) lf_col[t] = s->log_forget[t * H + h];
        const size_t off = (size_t)h * f;
        if (T == 1 || job->force_primal) {
            for (int t = 0; t < T; t++) {
                if (gated)
                    head_primal_step_gated(&p, &st, s->q + t * D + off, s->k + t * D + off, s->v + t * D + off,
                                           lr_col[t], lf_col[t], s->heads + t * D + off, tmp);
                else
                    head_primal_step(&p, &st, s->q + t * D + off, s->k + t * D + off,
                                     s->v + t * D + off, lr_col[t], s->heads + t * D + off, tmp);
            }
        } else {
            for (int t = 0; t < T;) {
                int n = cfg->mini_batch - pos;
                if (n > T - t) n = T - t;
                if (gated)
                    head_dual_chunk_gated(&p, &st, s->q + t * D + off, s->k + t * D + off, s->v + t * D + off, D,
                                          lr_col + t, lf_col + t, n, s->heads + t * D + off, tmp);
                else
                    head_dual_chunk(&p, &st, s->q + t * D + off, s->k + t * D + off,
                                    s->v + t * D + off, D, lr_col + t, n, s->heads + t * D + off, tmp);
                t += n;
            }
        }
    }
}

void ttt_linear_forward(const BlockIO *io, TttLayerState *ls, int force_primal) {
    const Model *m = io->m;
    const Kernels *kern = m->kernels;
    const ModelConfig *cfg = &m->cfg;
    const LayerWeights *w = &m->layers[io->layer];
    BlockScratch *s = io->scratch;
    const int D = cfg->hidden_dim, H = cfg->num_heads, f = D / H, T = io->T;

    ActRows a;
    act_rows_quantize(kern, cfg->act_quant, io->in, T, D, s->xq, s->xs, &a);
    bitlinear_apply(kern, &w->ttt_q.q, &a, T, s->acc, s->q);
    bitlinear_apply(kern, &w->ttt_k.q, &a, T, s->acc, s->k);
    bitlinear_apply(kern, &w->ttt_v.q, &a, T, s->acc, s->v);
    /* lr_t = sigmoid(lr(x_t)): full precision D -> H */
    kern->matmul_f32(w->lr_w, H, D, io->in, T, s->lr_gate);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++) s->lr_gate[t * H + h] = act_sigmoid(s->lr_gate[t * H + h] + w->lr_b[h]);
    if (cfg->forget_gate) { /* l_t = -softplus(forget(x_t)), per head (SPEC 1.2.1) */
        kern->matmul_f32(w->forget_w, H, D, io->in, T, s->log_forget);
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) s->log_forget[t * H + h] = -act_softplus(s->log_forget[t * H + h] + w->forget_b[h]);
    }

    HeadsJob job = {io, ls, force_primal};
    if (T * H * f * f < (1 << 14)) run_heads(&job, 0, H, 0);
    else parallel_for(H, 1, run_heads, &job); /* heads are independent */
    ls->pos = (ls->pos + T) % cfg->mini_batch;   /* every head moved the same way */
    /* concat heads -> post-norm RMSNorm -> o */
    for (int t = 0; t < T; t++)
        kern->rmsnorm(s->heads + t * D, w->post_norm, D, cfg->rms_eps, s->heads + t * D);
    act_rows_quantize(kern, cfg->act_quant, s->heads, T, D, s->xq, s->xs, &a);
    bitlinear_apply(kern, &w->ttt_o.q, &a, T, s->acc, io->out);
}
