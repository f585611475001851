/* tm_model.c: the training model: its parameter layout (the model's own
 * table), the quantised weights the forward uses, the activation workspace,
 * and the whole-model forward (embed -> L blocks -> RMSNorm_f -> lm_head ->
 * softmax cross-entropy) with its backward beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tm_internal.h"

static const char *const FIELD_FMT[TM_NFIELDS] = {
    "layers.%d.norm1.weight", "layers.%d.ttt.q.weight", "layers.%d.ttt.k.weight",
    "layers.%d.ttt.v.weight", "layers.%d.ttt.o.weight", "layers.%d.ttt.lr.weight",
    "layers.%d.ttt.lr.bias", "layers.%d.ttt.W0", "layers.%d.ttt.b0",
    "layers.%d.ttt.ln.weight", "layers.%d.ttt.ln.bias", "layers.%d.ttt.post_norm.weight",
    "layers.%d.ttt.down.weight", "layers.%d.ttt.up.weight", "layers.%d.norm2.weight",
    "layers.%d.mlp.gate_proj.weight", "layers.%d.mlp.up_proj.weight",
    "layers.%d.mlp.down_proj.weight"};

int tm_find(const TmModel *tm, const char *name) {
    for (int i = 0; i < tm->n_tensors; i++)
        if (strcmp(tm->tensors[i].name, name) == 0) return i;
    return -1;
}

/* Weight decay: matrices (projections, embeddings, lr gate, W0), not norms or biases. */
static int decays(const ParamRef *p) {
    if (p->ndim < 2) return 0;
    return !strstr(p->name, ".ln.") && !strstr(p->name, ".b0") && !strstr(p->name, "norm");
}

int tm_model_init(TmModel *tm, const Model *m, BittError *err) {
    memset(tm, 0, sizeof *tm);
    tm->cfg = m->cfg;
    tm->quant_weights = 1;
    tm->act_quant = m->cfg.act_quant;
    tm->n_tensors = m->n_params;
    tm->tensors = calloc((size_t)m->n_params, sizeof *tm->tensors);
    tm->lidx = calloc((size_t)m->cfg.num_layers, sizeof *tm->lidx);
    if (!tm->tensors || !tm->lidx) { tm_model_free(tm); return bitt_fail(err, "out of memory"); }
    size_t off = 0;
    for (int i = 0; i < m->n_params; i++) {
        const ParamRef *p = &m->params[i];
        TmTensor *t = &tm->tensors[i];
        snprintf(t->name, sizeof t->name, "%s", p->name);
        t->ndim = p->ndim;
        t->count = 1;
        for (int k = 0; k < p->ndim; k++) {
            t->shape[k] = p->shape[k];
            t->count *= (size_t)p->shape[k];
        }
        t->rows = (int)p->shape[0];
        t->cols = p->ndim > 1 ? (int)(t->count / (size_t)p->shape[0]) : 1;
        t->bitlinear = p->kind == PARAM_BITLINEAR;
        t->decay = decays(p);
        t->offset = off;
        off += t->count;
    }
    tm->n_params = off;
    tm->params = calloc(off, sizeof(real));
    tm->weff = calloc(off, sizeof(real));
    tm->wefft = calloc(off, sizeof(real));
    tm->lm_t = calloc((size_t)m->cfg.vocab_size * m->cfg.hidden_dim, sizeof(real));
    float *tmp = NULL;
    if (!tm->params || !tm->weff || !tm->wefft || !tm->lm_t) {
        tm_model_free(tm);
        return bitt_fail(err, "out of memory for %zu training parameters", off);
    }
    for (int i = 0; i < m->n_params; i++) {
        const ParamRef *p = &m->params[i];
        const TmTensor *t = &tm->tensors[i];
        const float *src = p->f32;
        if (p->kind == PARAM_BITLINEAR) {
            src = p->bl->latent;
            if (!src) { /* rebuilt from the ternary form */
                free(tmp);
                tmp = malloc(t->count * sizeof(float));
                if (!tmp) { tm_model_free(tm); return bitt_fail(err, "out of memory"); }
                bitlinear_dequantize(&p->bl->q, tmp);
                src = tmp;
            }
        }
        for (size_t k = 0; k < t->count; k++) tm->params[t->offset + k] = (real)src[k];
    }
    free(tmp);
    for (int l = 0; l < m->cfg.num_layers; l++)
        for (int f = 0; f < TM_NFIELDS; f++) {
            char name[64];
            snprintf(name, sizeof name, FIELD_FMT[f], l);
            tm->lidx[l][f] = tm_find(tm, name);
        }
    tm->embed_idx = tm_find(tm, "embed.weight");
    tm->norm_f_idx = tm_find(tm, "norm_f.weight");
    tm->lm_head_idx = tm_find(tm, "lm_head.weight");
    if (tm->embed_idx < 0 || tm->norm_f_idx < 0 || tm->lm_head_idx < 0) {
        tm_model_free(tm);
        return bitt_fail(err, "the model's parameter table lacks embed, norm_f or lm_head");
    }
    return tm_prepare(tm, err);
}

void tm_model_free(TmModel *tm) {
    free(tm->tensors);
    free(tm->lidx);
    free(tm->params);
    free(tm->weff);
    free(tm->wefft);
    free(tm->lm_t);
    free(tm->wdelta);
    memset(tm, 0, sizeof *tm);
}

int tm_model_store(const TmModel *tm, Model *m, BittError *err) {
    for (int i = 0; i < m->n_params && i < tm->n_tensors; i++) {
        ParamRef *p = &m->params[i];
        const TmTensor *t = &tm->tensors[i];
        float *dst = p->f32;
        if (p->kind == PARAM_BITLINEAR) {
            if (!p->bl->latent && !(p->bl->latent = malloc(t->count * sizeof(float))))
                return bitt_fail(err, "out of memory");
            dst = p->bl->latent;
        }
        for (size_t k = 0; k < t->count; k++) dst[k] = (float)tm->params[t->offset + k];
    }
    model_quantize(m);
    return 0;
}

/* g*Wt of SPEC 1.1: g = mean|W| (summed in double), Wt = clamp(round(W / (g + 1e-6)), -1, 1). */
static void quantize_weights(const real *W, size_t n, real *out) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += TM_FABS(W[i]);
    const real g = n ? (real)(sum / (double)n) : 0;
    const real denom = g + (real)1e-6;
    for (size_t i = 0; i < n; i++) {
        real r = TM_ROUND(W[i] / denom);
        r = r > 1 ? 1 : r < -1 ? -1 : r;
        out[i] = r * g;
    }
}

int tm_prepare(TmModel *tm, BittError *err) {
    if (tm->freeze && !tm->wdelta) {
        tm->wdelta = calloc(tm->n_params, sizeof(real));
        if (!tm->wdelta) return bitt_fail(err, "out of memory");
    }
    for (int i = 0; i < tm->n_tensors; i++) {
        const TmTensor *t = &tm->tensors[i];
        if (!t->bitlinear) continue;
        const real *W = tm->params + t->offset;
        real *E = tm->weff + t->offset, *ET = tm->wefft + t->offset;
        if (tm->freeze == 2) {
            for (size_t k = 0; k < t->count; k++) E[k] = W[k] + tm->wdelta[t->offset + k];
        } else if (tm->quant_weights) {
            quantize_weights(W, t->count, E);
            if (tm->freeze == 1)
                for (size_t k = 0; k < t->count; k++) tm->wdelta[t->offset + k] = E[k] - W[k];
        } else {
            memcpy(E, W, t->count * sizeof(real));
        }
        for (int r = 0; r < t->rows; r++)
            for (int c = 0; c < t->cols; c++) ET[(size_t)c * t->rows + r] = E[(size_t)r * t->cols + c];
    }
    const int V = tm->cfg.vocab_size, D = tm->cfg.hidden_dim;
    const real *lm = tm->params + tm->tensors[tm->lm_head_idx].offset;
    for (int v = 0; v < V; v++)
        for (int i = 0; i < D; i++) tm->lm_t[(size_t)i * V + v] = lm[(size_t)v * D + i];
    return 0;
}

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
static void layout(const TmModel *tm, TmWork *w, Arena *a) {
    const ModelConfig *c = &tm->cfg;
    const size_t T = (size_t)w->Tmax, D = (size_t)c->hidden_dim, I = (size_t)c->intermediate_dim;
    const size_t H = (size_t)c->num_heads, f = D / H, d = D / 4, V = (size_t)c->vocab_size;
    const size_t nmb = (T + (size_t)c->mini_batch - 1) / (size_t)c->mini_batch;
    const size_t ID = I > D ? I : D;
    for (int l = 0; l < c->num_layers; l++) {
        TmLayerActs *A = &w->L[l];
        memset(A, 0, sizeof *A);
        A->x_in = take(a, T * D);
        if (c->variant != TTT_NONE) {
            A->xn1 = take(a, T * D);
            A->r1 = take(a, T);
            A->xe1 = take(a, T * D);
        }
        if (c->variant == TTT_LINEAR) {
            A->q = take(a, T * D);
            A->k = take(a, T * D);
            A->v = take(a, T * D);
            A->lr = take(a, T * H);
            A->g = take(a, T * D);
            A->xk = take(a, T * D);
            A->sk = take(a, T * H);
            A->xz = take(a, T * D);
            A->sz = take(a, T * H);
            A->ho = take(a, T * D);
            A->rp = take(a, T);
            A->hp = take(a, T * D);
            A->hpe = take(a, T * D);
            A->Wst = take(a, nmb * H * f * f);
            A->cst = take(a, nmb * H * f);
        } else if (c->variant == TTT_SEED) {
            A->su = take(a, T * d);
            A->sun = take(a, T);
            A->sp = take(a, T * d);
            A->spe = take(a, T * d);
            A->sS = take(a, T * d * d);
        }
        A->x_mid = take(a, T * D);
        A->xn2 = take(a, T * D);
        A->r2 = take(a, T);
        A->xe2 = take(a, T * D);
        A->ga = take(a, T * I);
        A->gu = take(a, T * I);
        A->gh = take(a, T * I);
        A->ghe = take(a, T * I);
    }
    w->x = take(a, T * D);
    w->mix = take(a, T * D);
    w->x_fin = take(a, T * D);
    w->xf = take(a, T * D);
    w->rf = take(a, T);
    w->logits = take(a, T * V);
    w->dx = take(a, T * D);
    w->dD1 = take(a, T * D);
    w->dD2 = take(a, T * D);
    w->dI1 = take(a, T * ID);
    w->dI2 = take(a, T * ID);
    w->dq = take(a, T * D);
    w->dk = take(a, T * D);
    w->dv = take(a, T * D);
    w->dlr = take(a, T * H);
    w->hs = take(a, tm_head_scratch(c));
}

TmWork *tm_work_init(const TmModel *tm, int Tmax, BittError *err) {
    TmWork *w = calloc(1, sizeof *w);
    if (w) w->L = calloc((size_t)tm->cfg.num_layers, sizeof *w->L);
    if (!w || !w->L) {
        if (w) free(w);
        bitt_fail(err, "out of memory");
        return NULL;
    }
    w->Tmax = Tmax;
    Arena a = {NULL, 0};
    layout(tm, w, &a);
    w->arena = calloc(a.used, sizeof(real));
    if (!w->arena) {
        bitt_fail(err, "out of memory for the activations of %d tokens (%zu MB)", Tmax,
                  a.used * sizeof(real) >> 20);
        tm_work_free(w);
        return NULL;
    }
    a.base = w->arena;
    a.used = 0;
    layout(tm, w, &a);
    return w;
}

void tm_work_free(TmWork *w) {
    if (!w) return;
    free(w->arena);
    free(w->L);
    free(w->tape);
    free(w);
}

void tm_work_tape_reset(TmWork *w) {
    w->tape_len = w->tape_pos = 0;
    w->tape_failed = 0;
}

/* ---- carried state ---- */

size_t tm_state_floats(const TmModel *tm) {
    return tm_state_layer_off(&tm->cfg, tm->cfg.num_layers);
}

void tm_state_init(const TmModel *tm, real *state) {
    const ModelConfig *c = &tm->cfg;
    const size_t H = (size_t)c->num_heads, f = (size_t)(c->hidden_dim / c->num_heads);
    if (c->variant == TTT_SEED) memset(state, 0, tm_state_floats(tm) * sizeof(real));
    if (c->variant != TTT_LINEAR) return;
    for (int l = 0; l < c->num_layers; l++) {
        real *s = state + tm_state_layer_off(c, l);
        memcpy(s, tm_lp(tm, tm->params, l, TM_W0), H * f * f * sizeof(real));
        memcpy(s + H * f * f, tm_lp(tm, tm->params, l, TM_B0), H * f * sizeof(real));
    }
}

/* ---- whole model ---- */

double tm_forward(const TmModel *tm, TmWork *w, const int32_t *ids, int T) {
    return tm_forward_state(tm, w, ids, T, NULL, NULL);
}

double tm_forward_state(const TmModel *tm, TmWork *w, const int32_t *ids, int T, const real *state_in,
                        real *state_out) {
    const ModelConfig *c = &tm->cfg;
    const int D = c->hidden_dim, V = c->vocab_size;
    const real eps = (real)c->rms_eps;
    if (state_out && c->variant == TTT_LINEAR && T % c->mini_batch != 0) return NAN;
    w->state_in = state_in;
    w->state_out = state_out;
    w->state_given = state_in != NULL;
    w->tape_pos = 0;
    if (tm->freeze == 1) w->tape_len = 0;
    const real *embed = tm_at(tm, tm->params, tm->embed_idx);
    for (int t = 0; t < T; t++)
        memcpy(w->x + (size_t)t * D, embed + (size_t)ids[t] * D, (size_t)D * sizeof(real));
    const size_t TD = (size_t)T * D;
    for (int l = 0; l < c->num_layers; l++) {
        TmLayerActs *A = &w->L[l];
        memcpy(A->x_in, w->x, TD * sizeof(real));
        if (c->variant != TTT_NONE) {
            tm_rmsnorm_fwd(w->x, tm_lp(tm, tm->params, l, TM_NORM1), T, D, eps, A->xn1, A->r1);
            if (c->variant == TTT_LINEAR) tm_ttt_linear_fwd(tm, w, l, T);
            else tm_ttt_seed_fwd(tm, w, l, T);
            for (size_t i = 0; i < TD; i++) w->x[i] += w->mix[i];
        }
        memcpy(A->x_mid, w->x, TD * sizeof(real));
        tm_rmsnorm_fwd(w->x, tm_lp(tm, tm->params, l, TM_NORM2), T, D, eps, A->xn2, A->r2);
        tm_swiglu_fwd(tm, w, l, T);
        for (size_t i = 0; i < TD; i++) w->x[i] += w->mix[i];
    }
    w->state_in = NULL; /* may be overwritten by the caller from now on */
    w->state_out = NULL;
    memcpy(w->x_fin, w->x, TD * sizeof(real));
    tm_rmsnorm_fwd(w->x, tm_at(tm, tm->params, tm->norm_f_idx), T, D, eps, w->xf, w->rf);
    tm_gemm_nn(T, D, V, w->xf, tm->lm_t, w->logits, 0);
    /* softmax cross-entropy; the logits become probabilities */
    double total = 0.0;
    for (int t = 0; t < T; t++) {
        real *z = w->logits + (size_t)t * V;
        real mx = z[0];
        for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
        double sum = 0.0;
        const real target = z[ids[t + 1]];
        for (int v = 0; v < V; v++) {
            z[v] = TM_EXP(z[v] - mx);
            sum += (double)z[v];
        }
        const real inv = (real)(1.0 / sum);
        for (int v = 0; v < V; v++) z[v] *= inv;
        total += log(sum) - (double)(target - mx);
    }
    return total / (double)T;
}

void tm_backward(const TmModel *tm, TmWork *w, const int32_t *ids, int T, real scale, real *grad) {
    const ModelConfig *c = &tm->cfg;
    const int D = c->hidden_dim, V = c->vocab_size;
    /* dlogits = (p - onehot) * scale / T, in place */
    const real k = scale / (real)T;
    for (int t = 0; t < T; t++) {
        real *p = w->logits + (size_t)t * V;
        p[ids[t + 1]] -= 1;
        for (int v = 0; v < V; v++) p[v] *= k;
    }
    const real *lm = tm_at(tm, tm->params, tm->lm_head_idx);
    tm_gemm_tn_acc(T, V, D, w->logits, w->xf, tm_at(tm, grad, tm->lm_head_idx));
    tm_gemm_nn(T, V, D, w->logits, lm, w->dD1, 0);
    tm_rmsnorm_bwd(w->x_fin, w->rf, tm_at(tm, tm->params, tm->norm_f_idx), w->dD1, T, D, w->dx, 0,
                   tm_at(tm, grad, tm->norm_f_idx));
    for (int l = c->num_layers - 1; l >= 0; l--) {
        TmLayerActs *A = &w->L[l];
        /* x_out = x_mid + SwiGLU(RMSNorm_2(x_mid)) */
        tm_swiglu_bwd(tm, w, l, T, w->dx, w->dD1, grad);
        tm_rmsnorm_bwd(A->x_mid, A->r2, tm_lp(tm, tm->params, l, TM_NORM2), w->dD1, T, D, w->dx, 1,
                       tm_lp(tm, grad, l, TM_NORM2));
        if (c->variant == TTT_NONE) continue;
        /* x_mid = x_in + Mixer(RMSNorm_1(x_in)) */
        if (c->variant == TTT_LINEAR) tm_ttt_linear_bwd(tm, w, l, T, w->dx, w->dD1, grad);
        else tm_ttt_seed_bwd(tm, w, l, T, w->dx, w->dD1, grad);
        tm_rmsnorm_bwd(A->x_in, A->r1, tm_lp(tm, tm->params, l, TM_NORM1), w->dD1, T, D, w->dx, 1,
                       tm_lp(tm, grad, l, TM_NORM1));
    }
    real *dembed = tm_at(tm, grad, tm->embed_idx);
    for (int t = 0; t < T; t++) {
        const real *dx = w->dx + (size_t)t * D;
        real *row = dembed + (size_t)ids[t] * D;
        for (int i = 0; i < D; i++) row[i] += dx[i];
    }
}
