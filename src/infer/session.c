/* session.c: the forward pass of Bit-Llama over a chunk of tokens (SPEC 1):
 * embed -> L x (mixer + SwiGLU, each behind an RMSNorm and a residual)
 * -> final RMSNorm -> lm_head; and the scratch of the block pieces.
 * Buffers are T x D rows, T <= SESSION_CHUNK. */
#include "session.h"


#include <math.h>
#include <stdlib.h>
#include <string.h>

int block_scratch_init(BlockScratch *s, const ModelConfig *c, BittError *err) {
    memset(s, 0, sizeof *s);
    const size_t T = SESSION_CHUNK, D = (size_t)c->hidden_dim, H = (size_t)c->num_heads;
    const size_t I = (size_t)c->intermediate_dim > D ? (size_t)c->intermediate_dim : D;
    s->q = malloc(T * D * sizeof(float));
    s->k = malloc(T * D * sizeof(float));
    s->v = malloc(T * D * sizeof(float));
    s->heads = malloc(T * D * sizeof(float));
    s->lr_gate = malloc(T * H * sizeof(float));
    s->log_forget = malloc(T * H * sizeof(float));
    s->gate = malloc(T * I * sizeof(float));
    s->up = malloc(T * I * sizeof(float));
    s->xq = malloc(T * I);
    s->xs = malloc(T * sizeof(float));
    s->acc = malloc(T * I * sizeof(int32_t));
    s->ttt_tmp = malloc(H * block_ttt_tmp_per_head(c) * sizeof(float));
    if (!s->q || !s->k || !s->v || !s->heads || !s->lr_gate || !s->log_forget || !s->gate || !s->up || !s->xq || !s->xs ||
        !s->acc || !s->ttt_tmp) {
        block_scratch_free(s);
        return bitt_fail(err, "out of memory allocating a session");
    }
    return 0;
}

void block_scratch_free(BlockScratch *s) {
    free(s->q); free(s->k); free(s->v); free(s->heads); free(s->lr_gate); free(s->log_forget);
    free(s->gate); free(s->up); free(s->xq); free(s->xs); free(s->acc); free(s->ttt_tmp);
    memset(s, 0, sizeof *s);
}

int session_init(Session *s, const Model *m, BittError *err) {
    memset(s, 0, sizeof *s);
    s->m = m;
    if (state_alloc(&s->state, m, err) != 0) return -1;
    const size_t T = SESSION_CHUNK, D = (size_t)m->cfg.hidden_dim;
    s->x = malloc(T * D * sizeof(float));
    s->xn = malloc(T * D * sizeof(float));
    s->mix = malloc(T * D * sizeof(float));
    if (!s->x || !s->xn || !s->mix || block_scratch_init(&s->scratch, &m->cfg, err) != 0) {
        session_free(s);
        return bitt_fail(err, "out of memory allocating a session");
    }
    state_reset(&s->state, m);
    return 0;
}

void session_free(Session *s) {
    state_free(&s->state);
    free(s->x);
    free(s->xn);
    free(s->mix);
    block_scratch_free(&s->scratch);
    memset(s, 0, sizeof *s);
}

void session_reset(Session *s) { state_reset(&s->state, s->m); }

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
    const float sx = kern->quantize_row_i8(s->xn, D, s->scratch.xq);
    int32_t *acc = (int32_t *)out; /* same size as the floats it becomes */
    kern->int8_matmul(q, s->scratch.xq, 1, acc);
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
    for (int t = 0; t < T; t++) { /* the embedding rows; int8 rows (an I8 file) are dequantised one by one */
        if (m->embed) memcpy(s->x + (size_t)t * D, m->embed + (size_t)ids[t] * D, D * sizeof(float));
        else int8_rows_dequantize_row(m->embed_i8, ids[t], s->x + (size_t)t * D);
    }
    for (int l = 0; l < c->num_layers; l++) {
        const LayerWeights *w = &m->layers[l];
        const BlockIO io = {m, l, T, s->xn, s->mix, &s->scratch};
        if (c->variant != TTT_NONE) {
            for (int t = 0; t < T; t++) kern->rmsnorm(s->x + t * D, w->norm1, D, c->rms_eps, s->xn + t * D);
            if (c->variant == TTT_LINEAR) ttt_linear_forward(&io, &s->state.linear[l], s->force_primal);
            else ttt_seed_forward(&io, s->state.seed_S[l]);
            for (size_t i = 0; i < (size_t)T * D; i++) s->x[i] += s->mix[i];
        }
        for (int t = 0; t < T; t++) kern->rmsnorm(s->x + t * D, w->norm2, D, c->rms_eps, s->xn + t * D);
        swiglu_forward(&io);
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
