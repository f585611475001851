/* train_forward.c: the training forward and backward of the whole model
 * over a batch (see train_forward.h): the activation workspace, the carried
 * state, embed -> L blocks -> RMSNorm_f -> lm_head -> softmax cross-entropy,
 * and its backward beside it. */
#include "train_forward.h"

#include <stdlib.h>
#include <string.h>

#include "train_blocks.h"

/* ---- workspace ---- */

typedef struct Arena {
    real *base;
    size_t used;
} Arena;

static real *take(Arena *a, size_t n) {
    real *p = a->base ? a->base + a->used : NULL;
    a->used += (n + 7) & ~(size_t)7; /* 32-byte steps (float) keep rows aligned */
    return p;
}

/* Lays out every buffer (a->base NULL: only counts). */
static void layout(const TrainModel *tm, TrainActs *w, Arena *a) {
    const ModelConfig *c = &tm->cfg;
    const size_t B = (size_t)w->Bmax, T = (size_t)w->Tmax, N = B * T;
    const size_t D = (size_t)c->hidden_dim, I = (size_t)c->intermediate_dim;
    const size_t H = (size_t)c->num_heads, f = D / H, d = D / 4, V = (size_t)c->vocab_size;
    const size_t nmb = (T + (size_t)c->mini_batch - 1) / (size_t)c->mini_batch;
    const size_t ID = I > D ? I : D;
    for (int l = 0; l < c->num_layers; l++) {
        TrainLayerActs *A = &w->L[l];
        memset(A, 0, sizeof *A);
        A->x_in = take(a, N * D);
        if (c->variant != TTT_NONE) {
            A->xn1 = take(a, N * D);
            A->r1 = take(a, N);
            A->xe1 = take(a, N * D);
        }
        if (c->variant == TTT_LINEAR) {
            A->q = take(a, N * D);
            A->k = take(a, N * D);
            A->v = take(a, N * D);
            A->lr_gate = take(a, N * H);
            if (c->forget_gate) A->log_forget = take(a, N * H);
            A->g = take(a, N * D);
            A->xk = take(a, N * D);
            A->sk = take(a, N * H);
            A->xz = take(a, N * D);
            A->sz = take(a, N * H);
            A->ho = take(a, N * D);
            A->rp = take(a, N);
            A->hp = take(a, N * D);
            A->hpe = take(a, N * D);
            A->Wst = take(a, B * nmb * H * f * f);
            A->cst = take(a, B * nmb * H * f);
        } else if (c->variant == TTT_SEED) {
            A->su = take(a, N * d);
            A->sun = take(a, N);
            A->sp = take(a, N * d);
            A->spe = take(a, N * d);
            A->sS = take(a, N * d * d);
        }
        A->x_mid = take(a, N * D);
        A->xn2 = take(a, N * D);
        A->r2 = take(a, N);
        A->xe2 = take(a, N * D);
        A->ga = take(a, N * I);
        A->gu = take(a, N * I);
        A->gh = take(a, N * I);
        A->ghe = take(a, N * I);
    }
    w->x = take(a, N * D);
    w->mix = take(a, N * D);
    w->x_fin = take(a, N * D);
    w->xf = take(a, N * D);
    w->rf = take(a, N);
    w->logits = take(a, N * V);
    w->dx = take(a, N * D);
    w->dD1 = take(a, N * D);
    w->dD2 = take(a, N * D);
    w->dI1 = take(a, N * ID);
    w->dI2 = take(a, N * ID);
    w->dq = take(a, N * D);
    w->dk = take(a, N * D);
    w->dv = take(a, N * D);
    w->dlr = take(a, N * H);
    if (c->forget_gate) w->dlf = take(a, N * H);
}

TrainActs *train_acts_new(const TrainModel *tm, int Bmax, int Tmax, BittError *err) {
    TrainBackend *be = tm->be;
    if (Bmax < 1 || Tmax < 1) {
        bitt_fail(err, "a training batch needs at least one sequence of one token");
        return NULL;
    }
    TrainActs *w = calloc(1, sizeof *w);
    if (w) w->L = calloc((size_t)tm->cfg.num_layers, sizeof *w->L);
    if (!w || !w->L) {
        if (w) free(w);
        bitt_fail(err, "out of memory");
        return NULL;
    }
    w->Bmax = Bmax;
    w->Tmax = Tmax;
    const size_t N = (size_t)Bmax * Tmax;
    Arena a = {NULL, 0};
    layout(tm, w, &a);
    w->arena = be->alloc(be, a.used);
    w->arena_i32 = be->alloc_i32(be, 2 * N + (size_t)Bmax);
    w->host_ids = malloc(2 * N * sizeof(int32_t));
    w->row_loss = malloc(N * sizeof(double));
    if (!w->arena || !w->arena_i32 || !w->host_ids || !w->row_loss) {
        bitt_fail(err, "out of memory on the %s backend for the activations of %d x %d tokens (%zu MB)", be->name,
                  Bmax, Tmax, a.used * sizeof(real) >> 20);
        train_acts_free(tm, w);
        return NULL;
    }
    w->inputs = w->arena_i32;
    w->targets = w->arena_i32 + N;
    w->carried = w->arena_i32 + 2 * N;
    a.base = w->arena;
    a.used = 0;
    layout(tm, w, &a);
    return w;
}

void train_acts_free(const TrainModel *tm, TrainActs *w) {
    if (!w) return;
    if (tm && tm->be) {
        tm->be->release(tm->be, w->arena);
        tm->be->release(tm->be, w->arena_i32);
    }
    free(w->host_ids);
    free(w->row_loss);
    free(w->L);
    free(w);
}

int train_acts_probs(const TrainModel *tm, const TrainActs *a, real *host, BittError *err) {
    tm->be->download(tm->be, host, a->logits, (size_t)a->B * a->T * tm->cfg.vocab_size);
    return tm->be->status(tm->be, err);
}

/* ---- carried state ---- */

size_t train_state_floats(const TrainModel *tm) {
    return (size_t)tm->cfg.num_layers * ttt_boundary_layer_floats(&tm->cfg);
}

void train_state_init(const TrainModel *tm, real *state) {
    TrainBackend *be = tm->be;
    const ModelConfig *c = &tm->cfg;
    const size_t H = (size_t)c->num_heads, f = (size_t)(c->hidden_dim / c->num_heads);
    if (c->variant == TTT_SEED) be->zero(be, state, train_state_floats(tm));
    if (c->variant != TTT_LINEAR) return;
    for (int l = 0; l < c->num_layers; l++) {
        real *s = state + train_state_layer_off(c, l);
        be->copy(be, s, train_layer_tensor(tm, tm->params, l, PF_TTT_W0), H * f * f);
        be->copy(be, s + H * f * f, train_layer_tensor(tm, tm->params, l, PF_TTT_B0), H * f);
    }
}

/* ---- whole model ---- */

int train_forward(const TrainModel *tm, TrainActs *a, const int32_t *ids, int B, int T, const TrainCarry *carry,
                  double *seq_loss, double *mean_loss, BittError *err) {
    TrainBackend *be = tm->be;
    const ModelConfig *c = &tm->cfg;
    const int D = c->hidden_dim, V = c->vocab_size, N = B * T;
    const real eps = (real)c->rms_eps;
    if (B < 1 || T < 1 || B > a->Bmax || T > a->Tmax)
        return bitt_fail(err, "a batch of %d x %d tokens does not fit the workspace (%d x %d)", B, T, a->Bmax, a->Tmax);
    const int carries = carry && carry->state;
    if (carries && carry->write_back && c->variant == TTT_LINEAR && T % c->mini_batch != 0)
        return bitt_fail(err, "a carried TTT-Linear state must end on a mini-batch boundary: %d tokens is not a "
                              "multiple of the mini-batch %d", T, c->mini_batch);
    a->B = B;
    a->T = T;
    a->state = carries ? carry->state : NULL;
    a->write_back = carries && carry->write_back;
    for (int s = 0; s < B; s++)
        for (int t = 0; t < T; t++) {
            a->host_ids[(size_t)s * T + t] = ids[(size_t)s * (T + 1) + t];
            a->host_ids[(size_t)N + (size_t)s * T + t] = ids[(size_t)s * (T + 1) + t + 1];
        }
    be->upload_i32(be, a->inputs, a->host_ids, (size_t)N);
    be->upload_i32(be, a->targets, a->host_ids + N, (size_t)N);
    if (carries) be->upload_i32(be, a->carried, carry->carried, (size_t)B);
    be->embed_fwd(be, train_tensor(tm, tm->params, tm->embed_idx), a->inputs, N, D, a->x);
    const size_t ND = (size_t)N * D;
    for (int l = 0; l < c->num_layers; l++) {
        TrainLayerActs *A = &a->L[l];
        be->copy(be, A->x_in, a->x, ND);
        if (c->variant != TTT_NONE) {
            be->rmsnorm_fwd(be, a->x, train_layer_tensor(tm, tm->params, l, PF_NORM1), N, D, eps, A->xn1, A->r1);
            if (c->variant == TTT_LINEAR) train_ttt_linear_fwd(tm, a, l);
            else train_ttt_seed_fwd(tm, a, l);
            be->add(be, a->x, a->mix, ND);
        }
        be->copy(be, A->x_mid, a->x, ND);
        be->rmsnorm_fwd(be, a->x, train_layer_tensor(tm, tm->params, l, PF_NORM2), N, D, eps, A->xn2, A->r2);
        train_swiglu_fwd(tm, a, l);
        be->add(be, a->x, a->mix, ND);
    }
    be->copy(be, a->x_fin, a->x, ND);
    be->rmsnorm_fwd(be, a->x, train_tensor(tm, tm->params, tm->norm_f_idx), N, D, eps, a->xf, a->rf);
    be->gemm(be, 0, 1, N, V, D, a->xf, train_tensor(tm, tm->params, tm->lm_head_idx), a->logits, 0);
    be->xent_fwd(be, a->logits, a->targets, N, V, a->row_loss);
    if (be->status(be, err) != 0) return -1;
    double all = 0.0;
    for (int s = 0; s < B; s++) {
        double total = 0.0;
        for (int t = 0; t < T; t++) total += a->row_loss[(size_t)s * T + t];
        const double loss = total / (double)T;
        if (seq_loss) seq_loss[s] = loss;
        all += loss;
    }
    if (mean_loss) *mean_loss = all / B;
    return 0;
}

int train_backward(const TrainModel *tm, TrainActs *a, real scale, BittError *err) {
    TrainBackend *be = tm->be;
    const ModelConfig *c = &tm->cfg;
    const int D = c->hidden_dim, V = c->vocab_size, T = a->T, N = a->B * T;
    /* dlogits = (p - onehot) * scale / T, in place */
    be->xent_bwd(be, a->logits, a->targets, N, V, scale / (real)T);
    be->gemm(be, 1, 0, V, D, N, a->logits, a->xf, train_tensor(tm, tm->grads, tm->lm_head_idx), 1);
    be->gemm(be, 0, 0, N, D, V, a->logits, train_tensor(tm, tm->params, tm->lm_head_idx), a->dD1, 0);
    be->rmsnorm_bwd(be, a->x_fin, a->rf, train_tensor(tm, tm->params, tm->norm_f_idx), a->dD1, N, D, a->dx, 0,
                    train_tensor(tm, tm->grads, tm->norm_f_idx));
    for (int l = c->num_layers - 1; l >= 0; l--) {
        TrainLayerActs *A = &a->L[l];
        /* x_out = x_mid + SwiGLU(RMSNorm_2(x_mid)) */
        train_swiglu_bwd(tm, a, l, a->dx, a->dD1);
        be->rmsnorm_bwd(be, A->x_mid, A->r2, train_layer_tensor(tm, tm->params, l, PF_NORM2), a->dD1, N, D, a->dx, 1,
                        train_layer_tensor(tm, tm->grads, l, PF_NORM2));
        if (c->variant == TTT_NONE) continue;
        /* x_mid = x_in + Mixer(RMSNorm_1(x_in)) */
        if (c->variant == TTT_LINEAR) train_ttt_linear_bwd(tm, a, l, a->dx, a->dD1);
        else train_ttt_seed_bwd(tm, a, l, a->dx, a->dD1);
        be->rmsnorm_bwd(be, A->x_in, A->r1, train_layer_tensor(tm, tm->params, l, PF_NORM1), a->dD1, N, D, a->dx, 1,
                        train_layer_tensor(tm, tm->grads, l, PF_NORM1));
    }
    be->embed_bwd(be, a->dx, a->inputs, N, D, train_tensor(tm, tm->grads, tm->embed_idx));
    return be->status(be, err);
}
