/* adamw.c: AdamW, gradient clipping and the warmup + cosine schedule (the
 * update itself is the backend's adamw op). */
#include "adamw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int adamw_init(AdamW *a, TrainBackend *be, size_t n, float weight_decay, BittError *err) {
    memset(a, 0, sizeof *a);
    a->beta1 = 0.9f;
    a->beta2 = 0.95f;
    a->eps = 1e-8f;
    a->weight_decay = weight_decay;
    a->be = be;
    a->n = n;
    a->m = be->alloc(be, n);
    a->v = be->alloc(be, n);
    a->host_m = calloc(n ? n : 1, sizeof(real));
    a->host_v = calloc(n ? n : 1, sizeof(real));
    if (!a->m || !a->v || !a->host_m || !a->host_v) {
        adamw_free(a);
        return bitt_fail(err, "out of memory for the optimizer state (%zu parameters)", n);
    }
    return 0;
}

void adamw_free(AdamW *a) {
    if (a->be) {
        a->be->release(a->be, a->m);
        a->be->release(a->be, a->v);
    }
    free(a->host_m);
    free(a->host_v);
    memset(a, 0, sizeof *a);
}

void adamw_step(AdamW *a, TrainModel *tm, float grad_scale, float lr, int64_t step) {
    const float b1 = a->beta1, b2 = a->beta2;
    const float c1 = 1.0f - (float)pow(b1, (double)step), c2 = 1.0f - (float)pow(b2, (double)step);
    a->be->adamw(a->be, tm->params, tm->grads, a->m, a->v, tm->adamw_table, tm->n_tensors, lr, a->weight_decay, b1, b2,
                 a->eps, c1, c2, grad_scale);
}

int adamw_download(AdamW *a, BittError *err) {
    a->be->download(a->be, a->host_m, a->m, a->n);
    a->be->download(a->be, a->host_v, a->v, a->n);
    return a->be->status(a->be, err);
}

int adamw_upload(AdamW *a, BittError *err) {
    a->be->upload(a->be, a->m, a->host_m, a->n);
    a->be->upload(a->be, a->v, a->host_v, a->n);
    return a->be->status(a->be, err);
}

double grad_norm(TrainModel *tm) { return sqrt(tm->be->sum_squares(tm->be, tm->grads, tm->n_params)); }

float lr_schedule(int64_t step, int64_t total, int64_t warmup, float lr, float min_lr) {
    if (warmup > 0 && step <= warmup) return lr * (float)step / (float)warmup;
    if (step >= total) return min_lr;
    const double span = (double)(total - warmup);
    const double progress = span > 0 ? (double)(step - warmup) / span : 1.0;
    return (float)(min_lr + 0.5 * (lr - min_lr) * (1.0 + cos(3.14159265358979323846 * progress)));
}
