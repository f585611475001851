/* tm_model.h: the training form of a Bit-Llama model (SPEC 1) and its exact
 * gradients. A TmModel holds every parameter of the model's table (latent
 * float weights for the BitLinears) in one flat buffer; tm_forward runs one
 * sequence of T tokens keeping the activations in a TmWork, tm_backward adds
 * the gradient of that sequence's mean loss into a buffer of the same layout.
 * Written over `real` (treal.h): float for the trainer, double for the
 * gradient check. Shapes: T tokens, D hidden, I intermediate, V vocabulary,
 * H heads of f = D/H, d = D/4 (seed mixer). */
#ifndef BITT_TM_MODEL_H
#define BITT_TM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"
#include "treal.h"

#define tm_model_init TM_NAME(tm_model_init)
#define tm_model_free TM_NAME(tm_model_free)
#define tm_model_store TM_NAME(tm_model_store)
#define tm_prepare TM_NAME(tm_prepare)
#define tm_work_init TM_NAME(tm_work_init)
#define tm_work_free TM_NAME(tm_work_free)
#define tm_forward TM_NAME(tm_forward)
#define tm_backward TM_NAME(tm_backward)
#define tm_find TM_NAME(tm_find)
#define tm_state_floats TM_NAME(tm_state_floats)
#define tm_state_init TM_NAME(tm_state_init)
#define tm_forward_state TM_NAME(tm_forward_state)

/* Fields of a layer, in the order of TmModel.lidx. */
enum {
    TM_NORM1, TM_Q, TM_K, TM_V, TM_O, TM_LR_W, TM_LR_B, TM_W0, TM_B0, TM_LN_W, TM_LN_B,
    TM_POST_NORM, TM_SDOWN, TM_SUP, TM_NORM2, TM_GATE, TM_UP, TM_DOWN, TM_NFIELDS
};

typedef struct TmTensor {
    char name[64];
    int ndim;
    int64_t shape[3];
    size_t offset, count;   /* into the flat parameter buffer */
    int rows, cols;         /* as a matrix (BitLinear: out x in) */
    int bitlinear;          /* quantised in the forward (STE in the backward) */
    int decay;              /* AdamW weight decay applies (matrices, not norms/biases) */
} TmTensor;

typedef struct TmModel {
    ModelConfig cfg;
    int n_tensors;
    TmTensor *tensors;      /* the model's parameter table, in file order */
    size_t n_params;
    real *params;           /* n_params */
    int (*lidx)[TM_NFIELDS];/* per layer: tensor index of each field, -1 if absent */
    int embed_idx, norm_f_idx, lm_head_idx;
    /* derived from params by tm_prepare: */
    real *weff;             /* n_params layout: BitLinear slots hold g*Wt (the weights the forward uses) */
    real *wefft;            /* same, each matrix transposed (in x out) */
    real *lm_t;             /* lm_head transposed, D x V */
    /* switches for the gradient check */
    int quant_weights;      /* 1 (default): ternary weights; 0: latent weights as they are */
    int act_quant;          /* from cfg; 0 turns the int8 activations off */
    int freeze;             /* 0; 1: record the quantisation offsets; 2: replay them */
    real *wdelta;           /* frozen g*Wt - W (freeze 1/2) */
} TmModel;

/* Copies m's parameters (latent weights of the BitLinears; m must have them
 * or they are rebuilt from the ternary form). */
int tm_model_init(TmModel *tm, const Model *m, BittError *err);
void tm_model_free(TmModel *tm);
/* Writes the parameters back into m (latent + requantised ternary). */
int tm_model_store(const TmModel *tm, Model *m, BittError *err);
/* Recomputes the forward's weights from params; call after every change. */
int tm_prepare(TmModel *tm, BittError *err);
/* Index of the tensor with this name, or -1. */
int tm_find(const TmModel *tm, const char *name);

/* Activations of one sequence of up to Tmax tokens, plus backward scratch. */
typedef struct TmWork TmWork;
TmWork *tm_work_init(const TmModel *tm, int Tmax, BittError *err);
void tm_work_free(TmWork *w);

/* Forward over ids[0..T] (T + 1 ids): predicts ids[1..T] from the state
 * (W0, b0) at ids[0]. Returns the mean cross-entropy in nats; the
 * activations stay in w for tm_backward. */
double tm_forward(const TmModel *tm, TmWork *w, const int32_t *ids, int T);
/* The TTT state a sequence carries (stateful training): floats per
 * sequence. Layout per layer l, one after the other: linear: W (H x f x f)
 * then c (H x f) at the start of a mini-batch; seed: S (d x d); none: 0. */
size_t tm_state_floats(const TmModel *tm);
/* Writes the start state: (W0, b0) (linear), S = 0 (seed). */
void tm_state_init(const TmModel *tm, real *state);
/* tm_forward from a given state. state_in NULL: the start state (W0, b0),
 * whose parameters then get gradients; else a constant input of
 * tm_state_floats (no gradient flows into it, nor into W0, b0). state_out
 * (may be NULL, may alias state_in) receives the state after the T tokens;
 * with state_out, T must be a multiple of the mini-batch for `linear` (the
 * state then has no partial mini-batch): else NAN is returned. */
double tm_forward_state(const TmModel *tm, TmWork *w, const int32_t *ids, int T, const real *state_in,
                        real *state_out);
/* grad += scale * d(mean loss of the last tm_forward)/d(params). */
void tm_backward(const TmModel *tm, TmWork *w, const int32_t *ids, int T, real scale, real *grad);

/* Gradient-check support: the quantisation offsets of activations (xq/s - x)
 * recorded by a forward under freeze 1 and replayed under freeze 2, so that
 * finite differences see the function whose exact gradient is the STE one. */
#define tm_work_tape_reset TM_NAME(tm_work_tape_reset)
void tm_work_tape_reset(TmWork *w);

#endif
