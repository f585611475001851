/* session.c: the forward pass of Bit-Llama over a chunk of tokens (SPEC 1):
 * embed -> L x (mixer + SwiGLU, each behind an RMSNorm and a residual)
 * -> final RMSNorm -> lm_head. Buffers are T x D rows, T <= SESSION_CHUNK. */
#include "session.h"

#include "../kernels/target_clones.h"
#include "act_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int session_init(Session *s, const Model *m, BittError *err) {
    memset(s, 0, sizeof *s);
    s->m = m;
    if (state_alloc(&s->state, m, err) != 0) return -1;
    const ModelConfig *c = &m->cfg;
    const size_t T = SESSION_CHUNK, D = (size_t)c->hidden_dim;
    const size_t I = (size_t)c->intermediate_dim > D ? (size_t)c->intermediate_dim : D;
    s->x = malloc(T * D * sizeof(float));
    s->xn = malloc(T * D * sizeof(float));
    s->mix = malloc(T * D * sizeof(float));
    s->q = malloc(T * D * sizeof(float));
    s->k = malloc(T * D * sizeof(float));
    s->v = malloc(T * D * sizeof(float));
    s->heads = malloc(T * D * sizeof(float));
    s->lr = malloc(T * (size_t)c->num_heads * sizeof(float));
    s->lf = malloc(T * (size_t)c->num_heads * sizeof(float));
    s->gate = malloc(T * I * sizeof(float));
    s->up = malloc(T * I * sizeof(float));
    s->xq = malloc(T * I);
    s->xs = malloc(T * sizeof(float));
    s->acc = malloc(T * I * sizeof(int32_t));
    s->ttt_tmp = malloc((size_t)c->num_heads * session_ttt_tmp_per_head(c) * sizeof(float));
    if (!s->x || !s->xn || !s->mix || !s->q || !s->k || !s->v || !s->heads || !s->lr || !s->lf ||
        !s->gate || !s->up || !s->xq || !s->xs || !s->acc || !s->ttt_tmp) {
        session_free(s);
        return bitt_fail(err, "out of memory allocating a session");
    }
    state_reset(&s->state, m);
    return 0;
}

void session_free(Session *s) {
    state_free(&s->state);
    free(s->x); free(s->xn); free(s->mix); free(s->q); free(s->k); free(s->v);
    free(s->heads); free(s->lr); free(s->lf); free(s->gate); free(s->up); free(s->xq); free(s->xs);
    free(s->acc); free(s->ttt_tmp);
    memset(s, 0, sizeof *s);
}

void session_reset(Session *s) { state_reset(&s->state, s->m); }

void act_rows_quantize(Session *s, const float *x, int T, int cols, ActRows *a) {
    a->x = x;
    a->xq = s->xq;
    a->scale = s->xs;
    a->cols = cols;
    a->quantized = s->m->cfg.act_quant;
    if (!a->quantized) return;
    const Kernels *k = s->m->kernels;
    for (int t = 0; t < T; t++)
        a->scale[t] = k->quantize_row_i8(x + (size_t)t * cols, cols, a->xq + (size_t)t * cols);
}

void bitlinear_apply(const Kernels *k, const TernaryMatrix *w, const ActRows *a, int T,
                     int32_t *acc, float *y) {
    const size_t R = (size_t)w->rows;
    if (!a->quantized) { /* y = g * (Wt . x) */
        k->ternary_matmul_f32(w, a->x, T, y);
        for (size_t i = 0; i < (size_t)T * R; i++) y[i] *= w->scale;
        return;
    }
    /* y = (Wt . xq) * g / s, the integer part exact */
    k->ternary_matmul_i8(w, a->xq, T, acc);
    for (int t = 0; t < T; t++) {
        const float gs = w->scale / a->scale[t];
        for (size_t o = 0; o < R; o++) y[t * R + o] = (float)acc[t * R + o] * gs;
    }
}

/* gate = silu(gate) * up over n values (vectorised where the CPU allows) */
BITT_VECTOR_CLONES static void silu_times(float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) gate[i] = act_silu(gate[i]) * up[i];
}

/* h = h + down(silu(gate(xn)) * up(xn)) */
static void swiglu_forward(Session *s, int layer, int T) {
    const Model *m = s->m;
    const Kernels *kern = m->kernels;
    const LayerWeights *w = &m->layers[layer];
    const int D = m->cfg.hidden_dim, I = m->cfg.intermediate_dim;
    ActRows a;
    act_rows_quantize(s, s->xn, T, D, &a);
    bitlinear_apply(kern, &w->gate.q, &a, T, s->acc, s->gate);
    bitlinear_apply(kern, &w->up.q, &a, T, s->acc, s->up);
    silu_times(s->gate, s->up, (size_t)T * I);
    act_rows_quantize(s, s->gate, T, I, &a);
    bitlinear_apply(kern, &w->down.q, &a, T, s->acc, s->mix);
}

/* logits (V) = lm_head(RMSNorm_f(x)) for one hidden row x (D). */
static void logits_of_hidden(Session *s, const float *x, float *out) {
    const Model *m = s->m;
    const Kernels *kern = m->kernels;
    const int D = m->cfg.hidden_dim, V = m->cfg.vocab_size;
    kern->rmsnorm(x, m->norm_f, D, m->cfg.rms_eps, s->xn);
    if (!m->lm_head_i8) {
        kern->matmul_f32(m->lm_head, V, D, s->xn, 1, out);
        return;
    }
    /* int8 lm_head: logits[o] = (w_o . xq) * row_scale[o] / s */
    const Int8Matrix *q = m->lm_head_i8;
    const float sx = kern->quantize_row_i8(s->xn, D, s->xq);
    int32_t *acc = (int32_t *)out; /* same size as the floats it becomes */
    kern->int8_matmul(q, s->xq, 1, acc);
    const float inv_sx = 1.0f / sx;
    for (int o = 0; o < V; o++) out[o] = (float)acc[o] * q->row_scale[o] * inv_sx;
}

int session_state_logits(Session *s, float *logits) {
    if (s->state.token_count == 0) return -1;
    logits_of_hidden(s, s->state.final_hidden, logits);
    return 0;
}

/* One chunk of T <= SESSION_CHUNK tokens. */
static void forward_chunk(Session *s, const int32_t *ids, int T, float *logits, int all_logits) {
    const Model *m = s->m;
    const Kernels *kern = m->kernels;
    const ModelConfig *c = &m->cfg;
    const int D = c->hidden_dim, V = c->vocab_size;
    for (int t = 0; t < T; t++) memcpy(s->x + (size_t)t * D, m->embed + (size_t)ids[t] * D, D * sizeof(float));
    for (int l = 0; l < c->num_layers; l++) {
        const LayerWeights *w = &m->layers[l];
        if (c->variant != TTT_NONE) {
            for (int t = 0; t < T; t++) kern->rmsnorm(s->x + t * D, w->norm1, D, c->rms_eps, s->xn + t * D);
            if (c->variant == TTT_LINEAR) ttt_linear_forward(s, l, T);
            else ttt_seed_forward(s, l, T);
            for (size_t i = 0; i < (size_t)T * D; i++) s->x[i] += s->mix[i];
        }
        for (int t = 0; t < T; t++) kern->rmsnorm(s->x + t * D, w->norm2, D, c->rms_eps, s->xn + t * D);
        swiglu_forward(s, l, T);
        for (size_t i = 0; i < (size_t)T * D; i++) s->x[i] += s->mix[i];
    }
    memcpy(s->state.final_hidden, s->x + (size_t)(T - 1) * D, D * sizeof(float));
    if (!logits) return;
    const int first = all_logits ? 0 : T - 1;
    for (int t = first; t < T; t++) logits_of_hidden(s, s->x + (size_t)t * D, logits + (size_t)(all_logits ? t : 0) * V);
}

int session_forward(Session *s, const int32_t *ids, int n, float *logits, int all_logits,
                    BittError *err) {
    const int V = s->m->cfg.vocab_size;
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return bitt_fail(err, "token id %d (at position %d) out of range [0, %d)", ids[i], i, V);
    if (n > 0 && s->state.token_count > STATE_MAX_TOKENS - n)
        return bitt_fail(err, "the memory has read %lld tokens: at most %lld are supported",
                         (long long)s->state.token_count, STATE_MAX_TOKENS);
    for (int at = 0; at < n; at += SESSION_CHUNK) {
        int T = n - at < SESSION_CHUNK ? n - at : SESSION_CHUNK;
        int last_chunk = at + T == n;
        float *out = NULL;
        if (logits && all_logits) out = logits + (size_t)at * V;
        else if (logits && last_chunk) out = logits;
        forward_chunk(s, ids + at, T, out, all_logits);
        s->state.token_count += T;
    }
    return 0;
}
