/* session.h: running a model over tokens. A Session owns the TTT state and
 * the scratch buffers of one stream of text; the forward pass goes through
 * the kernel interface only. */
#ifndef BITT_SESSION_H
#define BITT_SESSION_H

#include <stdint.h>

#include "model.h"
#include "state.h"

/* Tokens per forward pass; longer inputs are processed in chunks. */
#define SESSION_CHUNK 64

/* Int8 (or float) activations of T rows, shared by the projections that
 * read the same input (q/k/v, gate/up). */
typedef struct ActRows {
    const float *x;   /* T x cols, used when act_quant is off */
    int8_t *xq;       /* T x cols */
    float *scale;     /* T: s of each row */
    int cols;
    int quantized;    /* act_quant of the model */
} ActRows;

typedef struct Session {
    const Model *m;
    ModelState state;
    int force_primal;    /* testing: run TTT-Linear token by token even in prefill */
    /* scratch, SESSION_CHUNK rows each */
    float *x, *xn, *mix;                 /* T x D */
    float *q, *k, *v, *heads;            /* T x D */
    float *lr;                           /* T x H: the lr gate */
    float *lf;                           /* T x H: the forget gate's log-gate l_t (forget_gate) */
    float *gate, *up;                    /* T x I (seed mixer reuses gate for T x D/4) */
    int8_t *xq;                          /* T x max(D, I) */
    float *xs;                           /* T */
    int32_t *acc;                        /* T x max(D, I) */
    float *ttt_tmp;                      /* TTT inner scratch, per head */
} Session;

/* Floats of TTT scratch one head needs (its lr and forget-gate columns +
 * inner buffers). */
static inline size_t session_ttt_tmp_per_head(const ModelConfig *c) {
    const size_t f = (size_t)(c->hidden_dim / c->num_heads), b = (size_t)c->mini_batch;
    return 2 * SESSION_CHUNK + 4 * b * f + 6 * f + 2 * b;
}

int session_init(Session *s, const Model *m, BittError *err);
void session_free(Session *s);
void session_reset(Session *s);

/* Feeds n token ids through the model, advancing the state. logits may be
 * NULL (no output), or receive V floats for the last token (all_logits 0),
 * or n x V floats (all_logits 1). Out-of-range ids are an error (nothing is
 * consumed then). */
int session_forward(Session *s, const int32_t *ids, int n, float *logits, int all_logits,
                    BittError *err);

/* The next-token logits (V) of the state as it is (e.g. just loaded from a
 * file): -1 if the state has consumed no token yet. */
int session_state_logits(Session *s, float *logits);

/* ---- layer pieces, used by session.c ---- */
/* Quantises T rows of x into the session's int8 buffers (or keeps x as is
 * when act_quant is off). */
void act_rows_quantize(Session *s, const float *x, int T, int cols, ActRows *a);
/* y (T x rows) = BitLinear(w, a) */
void bitlinear_apply(const Kernels *k, const TernaryMatrix *w, const ActRows *a, int T,
                     int32_t *acc, float *y);
void ttt_linear_forward(Session *s, int layer, int T);  /* s->xn -> s->mix */
void ttt_seed_forward(Session *s, int layer, int T);    /* s->xn -> s->mix */

#endif
