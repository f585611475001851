/* train_blocks.h: what the schedule's files share (train_forward.c: the
 * whole model; train_blocks.c: a block's pieces): the activations kept by a
 * forward for the backward, and the forward and backward of BitLinear,
 * SwiGLU and the two TTT mixers over N = B * T rows. Not part of the
 * trainer's interface (train_forward.h is). Every buffer is a backend
 * buffer. */
#ifndef BITT_TRAIN_BLOCKS_H
#define BITT_TRAIN_BLOCKS_H

#include "../model/state_layout.h"
#include "train_forward.h"

/* Activations of one layer over N rows. */
typedef struct TrainLayerActs {
    real *x_in;               /* N x D: input of the block */
    real *xn1, *r1, *xe1;     /* RMSNorm_1 out (N x D), its 1/rms (N), BitLinear input as quantised */
    /* linear mixer */
    real *q, *k, *v;          /* N x D */
    real *lr_gate;            /* N x H: sigmoid gate of the inner step */
    real *log_forget;         /* N x H: the forget gate's l_t (forget_gate), else NULL */
    real *g, *xk, *sk;        /* N x D inner gradients, normalised k W + c (N x D), its sigma (N x H) */
    real *xz, *sz;            /* N x D normalised Z of the output LN, sigma (N x H) */
    real *ho;                 /* N x D heads before the post-norm */
    real *rp, *hp, *hpe;      /* post-norm 1/rms (N), output (N x D), as quantised */
    real *Wst, *cst;          /* state at each mini-batch start: B x nmb x H x f x f, B x nmb x H x f */
    /* seed mixer */
    real *su, *sun, *sp, *spe;/* u (N x d), |u| (N), p (N x d), p as quantised */
    real *sS;                 /* S before each token: N x d x d */
    /* SwiGLU */
    real *x_mid;              /* N x D: input of the MLP half */
    real *xn2, *r2, *xe2;     /* RMSNorm_2 */
    real *ga, *gu, *gh, *ghe; /* N x I: gate pre-activation, up, silu(gate) * up, as quantised */
} TrainLayerActs;

struct TrainActs {
    int Bmax, Tmax;
    int B, T;                 /* of the last forward */
    TrainLayerActs *L;
    int32_t *inputs, *targets;/* backend: N ids each */
    int32_t *carried;         /* backend: Bmax flags of the last forward, or NULL (none carried) */
    int32_t *host_ids;        /* host scratch: 2 N ids */
    double *row_loss;         /* host: N */
    real *state;              /* the last forward's carried state (TrainCarry.state) or NULL */
    int write_back;
    real *x, *mix;            /* N x D residual stream, block output */
    real *x_fin, *xf, *rf;    /* final RMSNorm input, output (N x D), 1/rms (N) */
    real *logits;             /* N x V; softmax probabilities after the forward */
    /* backward scratch */
    real *dx, *dD1, *dD2;     /* N x D */
    real *dI1, *dI2;          /* N x max(I, D) */
    real *dq, *dk, *dv;       /* N x D */
    real *dlr, *dlf;          /* N x H */
    real *arena;              /* one backend allocation holding all of the above */
    int32_t *arena_i32;
};

/* ---- BitLinear (SPEC 1.1, STE) ---- */
#define train_act_eff TRAIN_SYM(train_act_eff)
#define train_bitlinear_fwd TRAIN_SYM(train_bitlinear_fwd)
#define train_bitlinear_bwd TRAIN_SYM(train_bitlinear_bwd)
/* The BitLinear input as the forward uses it: per row xq/s when act_quant is on, else x. */
void train_act_eff(const TrainModel *tm, const real *x, int rows, int cols, real *out);
/* y (N x out) = xe (N x in) . Wt^T for a layer's BitLinear field. */
void train_bitlinear_fwd(const TrainModel *tm, int layer, ParamField f, const real *xe, int N, real *y);
/* STE: dxe (=, or += when accumulate) dy . W; dW += dy^T xe. */
void train_bitlinear_bwd(const TrainModel *tm, int layer, ParamField f, const real *xe, const real *dy, int N,
                         real *dxe, int accumulate);

/* ---- SwiGLU of a layer: xn2 -> a->mix; dmix -> dxn2 (written) ---- */
#define train_swiglu_fwd TRAIN_SYM(train_swiglu_fwd)
#define train_swiglu_bwd TRAIN_SYM(train_swiglu_bwd)
void train_swiglu_fwd(const TrainModel *tm, TrainActs *a, int layer);
void train_swiglu_bwd(const TrainModel *tm, TrainActs *a, int layer, const real *dmix, real *dxn2);

/* ---- the mixers: xn1 -> a->mix; dmix -> dxn1 (written) ---- */
#define train_ttt_linear_fwd TRAIN_SYM(train_ttt_linear_fwd)
#define train_ttt_linear_bwd TRAIN_SYM(train_ttt_linear_bwd)
#define train_ttt_seed_fwd TRAIN_SYM(train_ttt_seed_fwd)
#define train_ttt_seed_bwd TRAIN_SYM(train_ttt_seed_bwd)
void train_ttt_linear_fwd(const TrainModel *tm, TrainActs *a, int layer);
void train_ttt_linear_bwd(const TrainModel *tm, TrainActs *a, int layer, const real *dmix, real *dxn1);
void train_ttt_seed_fwd(const TrainModel *tm, TrainActs *a, int layer);
void train_ttt_seed_bwd(const TrainModel *tm, TrainActs *a, int layer, const real *dmix, real *dxn1);

/* Offset of a layer's slice in a sequence's carried state. */
static inline size_t train_state_layer_off(const ModelConfig *c, int layer) {
    return (size_t)layer * ttt_boundary_layer_floats(c);
}

#endif
