/* adamw.h: the optimiser of the trainer: AdamW (decoupled weight decay on the
 * tensors marked for it), global gradient-norm clipping, and the learning
 * rate schedule (linear warmup, then cosine decay to a floor). */
#ifndef BITT_ADAMW_H
#define BITT_ADAMW_H

#include <stddef.h>
#include <stdint.h>

#include "tm_model.h"

typedef struct AdamW {
    float beta1, beta2, eps, weight_decay;
    float *m, *v;          /* first and second moments, n_params each */
    size_t n;
} AdamW;

int adamw_init(AdamW *a, size_t n, float weight_decay, BittError *err);
void adamw_free(AdamW *a);
/* One update of tm's parameters with gradient grad * grad_scale at learning
 * rate lr; step is 1 for the first update (bias correction). */
void adamw_step(AdamW *a, TmModel *tm, const float *grad, float grad_scale, float lr, int64_t step);

/* sqrt(sum grad^2), accumulated in double. */
double grad_norm(const float *grad, size_t n);
/* Learning rate for update number step (1-based) of total: lr * step/warmup
 * during warmup, then cosine from lr down to min_lr at step total. */
float lr_schedule(int64_t step, int64_t total, int64_t warmup, float lr, float min_lr);

#endif
