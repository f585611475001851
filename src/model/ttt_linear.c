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
 * closed mini-batch also pulls the memory back toward (W0, b0). */
#include <math.h>
#include <string.h>

#include "../kernels/target_clones.h"
#include "../util/threadpool.h"
#include "act_math.h"
#include "session.h"
#include "ttt_math.h"

typedef struct HeadParams {
    const float *ln_w, *ln_b;   /* f */
    const float *W0, *b0;       /* f x f, f: where state_decay pulls the memory */
    int f, b;
    float base_lr, decay;
} HeadParams;

typedef struct HeadState {
    float *W, *c, *A, *a;       /* f x f, f, f x f, f */
    int *pos;
} HeadState;

/* Closes a full mini-batch: Ws <- Ws - base_lr/(f b) A, cs likewise; then,
 * with state_decay d < 1, Ws <- W0 + d (Ws - W0), cs <- b0 + d (cs - b0). */
BITT_VECTOR_CLONES static void fold_minibatch(const HeadParams *p, HeadState *st) {
    const int f = p->f;
    const float coef = p->base_lr / (float)(f * p->b);
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

typedef struct HeadsJob {
    Session *s;
    int layer, T;
} HeadsJob;

/* Heads [h0, h1) over the T tokens of the chunk: s->q/k/v/lr -> s->heads. */
static void run_heads(void *ctx, int h0, int h1, int worker) {
    (void)worker;
    const HeadsJob *job = ctx;
    Session *s = job->s;
    const int T = job->T;
    const ModelConfig *cfg = &s->m->cfg;
    const LayerWeights *w = &s->m->layers[job->layer];
    TttLayerState *ls = &s->state.linear[job->layer];
    const int D = cfg->hidden_dim, H = cfg->num_heads, f = D / H;
    for (int h = h0; h < h1; h++) {
        float *lr_col = s->ttt_tmp + (size_t)h * session_ttt_tmp_per_head(cfg); /* T values */
        float *tmp = lr_col + SESSION_CHUNK;                                     /* head scratch */
        HeadParams p = {w->ln_w + h * f, w->ln_b + h * f, w->W0 + (size_t)h * f * f, w->b0 + h * f,
                        f, cfg->mini_batch, cfg->base_lr, cfg->state_decay};
        int pos = ls->pos;
        HeadState st = {ls->W + (size_t)h * f * f, ls->c + h * f, ls->A + (size_t)h * f * f,
                        ls->a + h * f, &pos};
        for (int t = 0; t < T; t++) lr_col[t] = s->lr[t * H + h];
        const size_t off = (size_t)h * f;
        if (T == 1 || s->force_primal) {
            for (int t = 0; t < T; t++)
                head_primal_step(&p, &st, s->q + t * D + off, s->k + t * D + off,
                                 s->v + t * D + off, lr_col[t], s->heads + t * D + off, tmp);
        } else {
            for (int t = 0; t < T;) {
                int n = cfg->mini_batch - pos;
                if (n > T - t) n = T - t;
                head_dual_chunk(&p, &st, s->q + t * D + off, s->k + t * D + off,
                                s->v + t * D + off, D, lr_col + t, n, s->heads + t * D + off, tmp);
                t += n;
            }
        }
    }
}

void ttt_linear_forward(Session *s, int layer, int T) {
    const Model *m = s->m;
    const Kernels *kern = m->kernels;
    const ModelConfig *cfg = &m->cfg;
    const LayerWeights *w = &m->layers[layer];
    TttLayerState *ls = &s->state.linear[layer];
    const int D = cfg->hidden_dim, H = cfg->num_heads, f = D / H;

    ActRows a;
    act_rows_quantize(s, s->xn, T, D, &a);
    bitlinear_apply(kern, &w->ttt_q.q, &a, T, s->acc, s->q);
    bitlinear_apply(kern, &w->ttt_k.q, &a, T, s->acc, s->k);
    bitlinear_apply(kern, &w->ttt_v.q, &a, T, s->acc, s->v);
    /* lr_t = sigmoid(lr(x_t)): full precision D -> H */
    kern->matmul_f32(w->lr_w, H, D, s->xn, T, s->lr);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++) s->lr[t * H + h] = act_sigmoid(s->lr[t * H + h] + w->lr_b[h]);

    HeadsJob job = {s, layer, T};
    if (T * H * f * f < (1 << 14)) run_heads(&job, 0, H, 0);
    else parallel_for(H, 1, run_heads, &job); /* heads are independent */
    ls->pos = (ls->pos + T) % cfg->mini_batch;   /* every head moved the same way */
    /* concat heads -> post-norm RMSNorm -> o */
    for (int t = 0; t < T; t++)
        kern->rmsnorm(s->heads + t * D, w->post_norm, D, cfg->rms_eps, s->heads + t * D);
    act_rows_quantize(s, s->heads, T, D, &a);
    bitlinear_apply(kern, &w->ttt_o.q, &a, T, s->acc, s->mix);
}
