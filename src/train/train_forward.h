/* train_forward.h: the training forward and backward of a whole Bit-Llama
 * model (SPEC 1) over a batch of B sequences of T tokens, N = B * T rows:
 * embed -> L blocks (mixer and SwiGLU, each behind an RMSNorm and a
 * residual) -> RMSNorm_f -> lm_head -> softmax cross-entropy. This is the
 * schedule: which ops run in which order on which buffers. The arithmetic is
 * the backend's (backend.h), so one schedule drives the CPU and the CUDA
 * trainer. The activations of the last forward stay in a TrainActs for the
 * backward. */
#ifndef BITT_TRAIN_FORWARD_H
#define BITT_TRAIN_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "train_model.h"

#define TrainActs TRAIN_SYM(TrainActs)
#define TrainCarry TRAIN_SYM(TrainCarry)
#define train_acts_new TRAIN_SYM(train_acts_new)
#define train_acts_free TRAIN_SYM(train_acts_free)
#define train_acts_probs TRAIN_SYM(train_acts_probs)
#define train_forward TRAIN_SYM(train_forward)
#define train_backward TRAIN_SYM(train_backward)
#define train_state_floats TRAIN_SYM(train_state_floats)
#define train_state_init TRAIN_SYM(train_state_init)

typedef struct TrainActs TrainActs;

/* Activations for batches of up to Bmax sequences of up to Tmax tokens. */
TrainActs *train_acts_new(const TrainModel *tm, int Bmax, int Tmax, BittError *err);
void train_acts_free(const TrainModel *tm, TrainActs *a);
/* The softmax probabilities of the last forward (B*T x V, rows in batch
 * order) copied to the host; 0 on success. */
int train_acts_probs(const TrainModel *tm, const TrainActs *a, real *host, BittError *err);

/* The TTT memory a sequence carries from one window to the next (stateful
 * training): floats per sequence, in the boundary layout of
 * model/state_layout.h (linear: W then c per layer; seed: S; none: 0). */
size_t train_state_floats(const TrainModel *tm);
/* Writes the start state of one sequence ((W0, b0); S = 0) to a backend buffer. */
void train_state_init(const TrainModel *tm, real *state);

/* Where the batch's sequences start. NULL (or state NULL): every sequence
 * at the start state, whose parameters then get gradients. Otherwise
 * sequence s starts from the constant state + s * train_state_floats when
 * carried[s] is 1 (no gradient flows into it, nor into W0, b0 except through
 * the decay of state_decay), else from the start state. */
typedef struct TrainCarry {
    real *state;              /* backend: B x train_state_floats */
    const int32_t *carried;   /* host: B flags */
    int write_back;           /* 1: each sequence's end state replaces its entry of state
                                 (T must then be a multiple of the mini-batch for linear) */
} TrainCarry;

/* Forward over ids (host, B rows of T + 1 ids): row s predicts ids[s][1..T]
 * from ids[s][0..T-1]. seq_loss (host, may be NULL) receives each sequence's
 * mean cross-entropy in nats, *mean_loss their mean. */
int train_forward(const TrainModel *tm, TrainActs *a, const int32_t *ids, int B, int T, const TrainCarry *carry,
                  double *seq_loss, double *mean_loss, BittError *err);
/* grads += scale * sum over the batch's sequences of d(sequence's mean loss)
 * / d(params), for the last forward (the trainer passes scale = 1 / B). */
int train_backward(const TrainModel *tm, TrainActs *a, real scale, BittError *err);

#endif
