/* adamw.h: the optimiser of the trainer: AdamW (decoupled weight decay on
 * the tensors the parameter table marks for it), global gradient-norm
 * clipping, and the learning rate schedule (linear warmup, then cosine decay
 * to a floor). The moments live on the training backend beside the
 * parameters; a host copy is kept for checkpoints. */
#ifndef BITT_ADAMW_H
#define BITT_ADAMW_H

#include <stddef.h>
#include <stdint.h>

#include "train_model.h"

typedef struct AdamW {
    float beta1, beta2, eps, weight_decay;
    TrainBackend *be;      /* not owned */
    real *m, *v;           /* first and second moments on the backend, n each */
    real *host_m, *host_v; /* host copies (adamw_download / adamw_upload) */
    size_t n;
} AdamW;

int adamw_init(AdamW *a, TrainBackend *be, size_t n, float weight_decay, BittError *err);
void adamw_free(AdamW *a);
/* One update of tm's parameters with its gradients times grad_scale at
 * learning rate lr; step is 1 for the first update (bias correction). */
void adamw_step(AdamW *a, TrainModel *tm, float grad_scale, float lr, int64_t step);
/* Moments: backend -> host copies, and back. */
int adamw_download(AdamW *a, BittError *err);
int adamw_upload(AdamW *a, BittError *err);

/* sqrt(sum of the squared gradients), accumulated in double. */
double grad_norm(TrainModel *tm);
/* Learning rate for update number step (1-based) of total: lr * step/warmup
 * during warmup, then cosine from lr down to min_lr at step total. */
float lr_schedule(int64_t step, int64_t total, int64_t warmup, float lr, float min_lr);

#endif
