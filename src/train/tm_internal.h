/* tm_internal.h: what the tm_*.c files (the training math) share: the
 * activation cache of a sequence, the matrix products and the layer pieces.
 * Not part of the trainer's interface (tm_model.h is). */
#ifndef BITT_TM_INTERNAL_H
#define BITT_TM_INTERNAL_H

#include "tm_model.h"

/* Activations of one layer for T tokens, kept by the forward for the backward. */
typedef struct TmLayerActs {
    real *x_in;               /* T x D: input of the block */
    real *xn1, *r1, *xe1;     /* RMSNorm_1 out (T x D), its 1/rms (T), BitLinear input as quantised */
    /* linear mixer */
    real *q, *k, *v;          /* T x D */
    real *lr;                 /* T x H: sigmoid gate */
    real *g, *xk, *sk;        /* T x D inner gradient g_i, LN-normalised k W + c, its sigma (T x H) */
    real *xz, *sz;            /* T x D normalised Z of the output LN, sigma (T x H) */
    real *ho;                 /* T x D heads before the post-norm */
    real *rp, *hp, *hpe;      /* post-norm 1/rms (T), output (T x D), as quantised */
    real *Wst, *cst;          /* state at the start of each mini-batch: nmb x H x f x f, nmb x H x f */
    /* seed mixer */
    real *su, *sun, *sp, *spe;/* u (T x d), |u| (T), p (T x d), p as quantised */
    real *sS;                 /* S before each token: T x d x d */
    /* SwiGLU */
    real *x_mid;              /* T x D: input of the MLP half */
    real *xn2, *r2, *xe2;     /* RMSNorm_2 */
    real *ga, *gu, *gh, *ghe; /* T x I: gate pre-activation, up, silu(gate)*up, as quantised */
} TmLayerActs;

struct TmWork {
    int Tmax;
    TmLayerActs *L;
    real *x, *mix;            /* T x D residual stream, block output */
    real *x_fin, *xf, *rf;    /* final RMSNorm input, output (T x D), 1/rms (T) */
    real *logits;             /* T x V; softmax probabilities after the forward */
    /* backward scratch */
    real *dx, *dD1, *dD2;     /* T x D */
    real *dI1, *dI2;          /* T x I */
    real *dq, *dk, *dv;       /* T x D */
    real *dlr;                /* T x H */
    real *hs;                 /* per-head scratch */
    /* carried state of the current forward (tm_forward_state): in NULL = (W0, b0) */
    const real *state_in;     /* tm_state_floats, read at the start of each layer's mixer */
    real *state_out;          /* written at the end of each layer's mixer, or NULL */
    int state_given;          /* the last forward started from state_in (no gradient to W0, b0) */
    /* quantisation offsets of activations (gradient check, freeze 1/2) */
    real *tape;
    size_t tape_len, tape_cap, tape_pos;
    int tape_failed;
    void *arena;
};

static inline real *tm_at(const TmModel *tm, real *base, int idx) {
    return idx < 0 ? NULL : base + tm->tensors[idx].offset;
}
static inline real *tm_lp(const TmModel *tm, real *base, int layer, int field) {
    return tm_at(tm, base, tm->lidx[layer][field]);
}
/* The forward's (quantised) weight of a BitLinear field, row-major out x in,
 * or transposed (in x out). */
static inline const real *tm_weff(const TmModel *tm, int layer, int field) {
    return tm_lp(tm, tm->weff, layer, field);
}
static inline const real *tm_wefft(const TmModel *tm, int layer, int field) {
    return tm_lp(tm, tm->wefft, layer, field);
}

/* ---- matrix products (tm_mat.c) ---- */
#define tm_gemm_nn TM_NAME(tm_gemm_nn)
#define tm_gemm_tn_acc TM_NAME(tm_gemm_tn_acc)
/* y (T x N) = [y +] x (T x K) . B (K x N) */
void tm_gemm_nn(int T, int K, int N, const real *x, const real *B, real *y, int accumulate);
/* dW (O x I) += dy^T (O x T) . x (T x I) */
void tm_gemm_tn_acc(int T, int O, int I, const real *dy, const real *x, real *dW);

/* ---- layers (tm_layers.c) ---- */
#define tm_rmsnorm_fwd TM_NAME(tm_rmsnorm_fwd)
#define tm_rmsnorm_bwd TM_NAME(tm_rmsnorm_bwd)
#define tm_act_eff TM_NAME(tm_act_eff)
#define tm_bitlinear_fwd TM_NAME(tm_bitlinear_fwd)
#define tm_bitlinear_bwd TM_NAME(tm_bitlinear_bwd)
#define tm_swiglu_fwd TM_NAME(tm_swiglu_fwd)
#define tm_swiglu_bwd TM_NAME(tm_swiglu_bwd)
#define tm_ttt_linear_fwd TM_NAME(tm_ttt_linear_fwd)
#define tm_ttt_linear_bwd TM_NAME(tm_ttt_linear_bwd)
#define tm_ttt_seed_fwd TM_NAME(tm_ttt_seed_fwd)
#define tm_ttt_seed_bwd TM_NAME(tm_ttt_seed_bwd)

/* y = x / sqrt(mean(x^2) + eps) * w per row of n; r[t] = 1/rms. */
void tm_rmsnorm_fwd(const real *x, const real *w, int T, int n, real eps, real *y, real *r);
/* dx [+]= d/dx, dw += d/dw, given dy and the forward's x and r. */
void tm_rmsnorm_bwd(const real *x, const real *r, const real *w, const real *dy, int T, int n,
                    real *dx, int accumulate, real *dw);
/* The BitLinear input as the forward uses it: per row xq/s (SPEC 1.1) when
 * act_quant is on, else x (T x cols). */
void tm_act_eff(const TmModel *tm, TmWork *w, const real *x, int T, int cols, real *out);
/* y (T x out) = xe (T x in) . Weff^T for layer field `field`. */
void tm_bitlinear_fwd(const TmModel *tm, int layer, int field, const real *xe, int T, real *y);
/* STE: dxe [+]= dy . Weff, dW += dy^T . xe (dW in the grad buffer). */
void tm_bitlinear_bwd(const TmModel *tm, int layer, int field, const real *xe, const real *dy,
                      int T, real *dxe, int accumulate, real *grad);
/* SwiGLU of the layer: xn2 (in a) -> mix. */
void tm_swiglu_fwd(const TmModel *tm, TmWork *w, int layer, int T);
/* dmix (T x D) -> dxn2 (T x D, written) and the weight gradients. */
void tm_swiglu_bwd(const TmModel *tm, TmWork *w, int layer, int T, const real *dmix, real *dxn2,
                   real *grad);

/* ---- mixers (tm_ttt_linear.c, tm_ttt_seed.c): xn1 -> w->mix ---- */
void tm_ttt_linear_fwd(const TmModel *tm, TmWork *w, int layer, int T);
/* dmix -> dxn1 (written) and the weight gradients. */
void tm_ttt_linear_bwd(const TmModel *tm, TmWork *w, int layer, int T, const real *dmix,
                       real *dxn1, real *grad);
void tm_ttt_seed_fwd(const TmModel *tm, TmWork *w, int layer, int T);
void tm_ttt_seed_bwd(const TmModel *tm, TmWork *w, int layer, int T, const real *dmix,
                     real *dxn1, real *grad);

/* Offset of a layer's slice in a carried state (tm_state_floats layout). */
static inline size_t tm_state_layer_off(const ModelConfig *c, int layer) {
    const size_t D = (size_t)c->hidden_dim, H = (size_t)c->num_heads, f = D / H, d = D / 4;
    if (c->variant == TTT_LINEAR) return (size_t)layer * H * (f * f + f);
    if (c->variant == TTT_SEED) return (size_t)layer * d * d;
    return 0;
}

/* Per-head scratch floats the mixers need. */
static inline size_t tm_head_scratch(const ModelConfig *c) {
    size_t f = (size_t)(c->hidden_dim / c->num_heads), d = (size_t)(c->hidden_dim / 4);
    size_t n = f > d ? f : d;
    return 4 * n * n + ((size_t)c->mini_batch + 16) * n + 64;
}

#endif
