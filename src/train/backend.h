/* backend.h: the seam between the training schedule (train_forward.c: what
 * the model computes, in which order) and the hardware that computes it.
 * A TrainBackend owns buffers of `real` (device memory on a GPU, host memory
 * on the CPU) and runs the ops the schedule calls over N = B * T token rows:
 * matrix products, the SPEC 1.1 quantisers, RMSNorm, SwiGLU, the lr and
 * forget gates, the TTT mixers' chains over all B x H heads, embedding,
 * softmax cross-entropy, the gradient norm and AdamW. The schedule never
 * reads or writes a buffer itself: it only passes pointers (which it may
 * offset) to the ops. Each forward op sits beside its backward.
 *
 * Backends: the CPU one (train/cpu/, built over float for the trainer and
 * over double for the gradient check) and the CUDA one (cuda/, float).
 * Ops do not return errors: a backend that can fail (CUDA) records the first
 * failure and reports it from `status`, which the schedule calls at the end
 * of a forward, a backward and an update.
 *
 * All matrices are row-major and packed (rows of exactly `cols` values). */
#ifndef BITT_TRAIN_BACKEND_H
#define BITT_TRAIN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "../util/error.h"
#include "treal.h"

#define TrainBackend TRAIN_SYM(TrainBackend)
#define TttLinearChain TRAIN_SYM(TttLinearChain)
#define TttSeedChain TRAIN_SYM(TttSeedChain)
#define AdamWTensor TRAIN_SYM(AdamWTensor)

/* The TTT-Linear mixer of one layer (SPEC 1.2, 1.2.1, state_decay) over B
 * sequences of T tokens: every (sequence, head) pair is one chain of
 * mini-batches of b tokens (the last one may be partial). Per head h the
 * vectors are the f-wide slices at h f of the D-wide rows. */
typedef struct TttLinearChain {
    int B, T, D, H, mini_batch;
    real base_lr;              /* SPEC 1.2's inner step scale */
    real state_decay;          /* fixed decay toward (W0, b0) after each mini-batch; 1: none */
    /* forward inputs */
    const real *q, *k, *v;     /* N x D */
    const real *lr_gate;       /* N x H: sigmoid gate of the inner step */
    const real *log_forget;    /* N x H: the forget gate's l_t <= 0 (SPEC 1.2.1), or NULL: no gate */
    const real *W0, *b0;       /* H x f x f, H x f: the resting point (parameters) */
    const real *ln_w, *ln_b;   /* H x f: the inner LayerNorm */
    /* start state: per sequence s, carried[s] = 0 starts at (W0, b0) (and its
     * gradient flows into them), 1 starts at the constant (W, c) found at
     * state + s * state_stride: W (H x f x f) then c (H x f). */
    const int32_t *carried;    /* B flags on the backend, or NULL: every sequence starts at (W0, b0) */
    real *state;               /* carried states in, and (state_out) the end states out; may be NULL */
    size_t state_stride;
    int state_out;             /* 1: write each sequence's end state to state (T % mini_batch == 0) */
    /* saved by the forward for the backward */
    real *g;                   /* N x D: inner gradients g_i */
    real *xk, *sk;             /* N x D, N x H: normalised k W + c and its sigma */
    real *xz, *sz;             /* N x D, N x H: normalised output Z and its sigma */
    real *Wst, *cst;           /* B x nmb x H x f x f, B x nmb x H x f: state at each mini-batch start */
    real *out;                 /* N x D: q + LN(Z) per head (the heads before the post-norm) */
    /* backward: d out in, gradients out */
    const real *d_out;         /* N x D */
    real *dq, *dk, *dv;        /* N x D, written */
    real *d_lr_gate;           /* N x H, written: dloss / d lr_gate */
    real *d_log_forget;        /* N x H, written (with a gate) */
    real *dW0, *db0, *dln_w, *dln_b; /* accumulated */
} TttLinearChain;

/* The seed mixer (SPEC 1.3) of one layer over B sequences: d = D/4, the
 * state S (d x d) per sequence. */
typedef struct TttSeedChain {
    int B, T, d;
    real inner_lr;
    const real *u;             /* N x d: down(x) */
    const int32_t *carried;    /* as TttLinearChain (S = 0 for a fresh sequence) */
    real *state;
    size_t state_stride;
    int state_out;
    real *u_norm;              /* N: |u| (saved) */
    real *S_before;            /* N x d x d: S before each token (saved) */
    real *p;                   /* N x d: output S uh */
    const real *d_p;           /* N x d (backward input) */
    real *d_u;                 /* N x d (written) */
} TttSeedChain;

/* One tensor of the flat parameter buffer, for AdamW. */
typedef struct AdamWTensor {
    size_t offset, count;
    int weight_decay;
} AdamWTensor;

typedef enum GateKind {
    GATE_SIGMOID,      /* y = sigmoid(z + bias): the lr gate */
    GATE_LOG_FORGET    /* y = -softplus(z + bias): the forget gate's log-gate l_t */
} GateKind;

typedef struct TrainBackend TrainBackend;
struct TrainBackend {
    const char *name;           /* "cpu", "cuda" */
    void *impl;
    void (*destroy)(TrainBackend *be);
    /* 0, or -1 with the first failure of any op since the last call. */
    int (*status)(TrainBackend *be, BittError *err);

    /* ---- buffers: zeroed on allocation; NULL when out of memory ---- */
    real *(*alloc)(TrainBackend *be, size_t n);
    int32_t *(*alloc_i32)(TrainBackend *be, size_t n);
    void (*release)(TrainBackend *be, void *p);
    void (*upload)(TrainBackend *be, real *dst, const real *host, size_t n);
    void (*download)(TrainBackend *be, real *host, const real *src, size_t n);
    void (*upload_i32)(TrainBackend *be, int32_t *dst, const int32_t *host, size_t n);
    void (*zero)(TrainBackend *be, real *p, size_t n);
    void (*copy)(TrainBackend *be, real *dst, const real *src, size_t n);
    void (*add)(TrainBackend *be, real *y, const real *x, size_t n);          /* y += x */

    /* ---- matrix products ----
     * C (M x N) = op(A) op(B) (+ C when accumulate), op(X) = X or X^T:
     * A is M x K (ta 0) or K x M (ta 1), B is K x N (tb 0) or N x K (tb 1).
     * Every element of C is one sum over k = 0 .. K-1 in order (so results
     * do not depend on how the backend splits the work over threads). */
    void (*gemm)(TrainBackend *be, int ta, int tb, int M, int N, int K, const real *A, const real *B,
                 real *C, int accumulate);

    /* ---- SPEC 1.1 quantisers (forward only: the STE's backward is the identity) ----
     * out = g * Wt, g = mean |W| (summed in double), Wt = clamp(round(W / (g + 1e-6)), -1, 1). */
    void (*ternarize)(TrainBackend *be, const real *W, size_t n, real *out);
    /* per row of cols: out = xq / s, s = 127 / max(max |x|, 1e-5), xq = clamp(round(x s), -127, 127) */
    void (*act_quant)(TrainBackend *be, const real *x, int rows, int cols, real *out);

    /* ---- RMSNorm: y = x r w, r = 1 / sqrt(mean(x^2) + eps) per row (r saved) ---- */
    void (*rmsnorm_fwd)(TrainBackend *be, const real *x, const real *w, int rows, int n, real eps, real *y,
                        real *r);
    /* dx = (or += when accumulate) d/dx; dw += d/dw (dw may be NULL) */
    void (*rmsnorm_bwd)(TrainBackend *be, const real *x, const real *r, const real *w, const real *dy, int rows,
                        int n, real *dx, int accumulate, real *dw);

    /* ---- SwiGLU: h = silu(a) u over n values ---- */
    void (*swiglu_fwd)(TrainBackend *be, const real *a, const real *u, size_t n, real *h);
    /* dh in; writes da, and d u into dh (in place) */
    void (*swiglu_bwd)(TrainBackend *be, const real *a, const real *u, real *dh, real *da, size_t n);

    /* ---- gates: z (rows x H, the product x W^T) becomes y in place ---- */
    void (*gate_fwd)(TrainBackend *be, GateKind kind, real *z, const real *bias, int rows, int H);
    /* dy (rows x H) becomes dz in place, given the gate's output y; dbias += column sums of dz */
    void (*gate_bwd)(TrainBackend *be, GateKind kind, const real *y, real *dy, int rows, int H, real *dbias);

    /* ---- the TTT mixers' chains ---- */
    void (*ttt_linear_fwd)(TrainBackend *be, const TttLinearChain *c);
    void (*ttt_linear_bwd)(TrainBackend *be, const TttLinearChain *c);
    void (*ttt_seed_fwd)(TrainBackend *be, const TttSeedChain *c);
    void (*ttt_seed_bwd)(TrainBackend *be, const TttSeedChain *c);

    /* ---- embedding: out[t] = table[ids[t]]; dtable[ids[t]] += dx[t] (t in order) ---- */
    void (*embed_fwd)(TrainBackend *be, const real *table, const int32_t *ids, int rows, int D, real *out);
    void (*embed_bwd)(TrainBackend *be, const real *dx, const int32_t *ids, int rows, int D, real *dtable);

    /* ---- softmax cross-entropy over rows of V logits ----
     * The logits become probabilities in place; row_loss (host memory, rows
     * doubles) receives log(sum exp) - (z[target] - max) per row. */
    void (*xent_fwd)(TrainBackend *be, real *logits, const int32_t *targets, int rows, int V, double *row_loss);
    /* probabilities become dlogits in place: (p - onehot(target)) * scale */
    void (*xent_bwd)(TrainBackend *be, real *probs, const int32_t *targets, int rows, int V, real scale);

    /* ---- optimiser ---- */
    /* sum of squares of n values, accumulated in double */
    double (*sum_squares)(TrainBackend *be, const real *x, size_t n);
    /* AdamW over the tensors (bias-corrected with c1 = 1 - b1^t, c2 = 1 - b2^t; decoupled
     * decay lr * wd * p on the tensors marked for it; gradients scaled by grad_scale) */
    void (*adamw)(TrainBackend *be, real *params, const real *grads, real *m, real *v, const AdamWTensor *tensors,
                  int n_tensors, float lr, float wd, float b1, float b2, float eps, float c1, float c2,
                  float grad_scale);
};

#endif
