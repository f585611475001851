/* adamw.c: AdamW, gradient clipping and the warmup + cosine schedule. */
#include "adamw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int adamw_init(AdamW *a, size_t n, float weight_decay, BittError *err) {
    memset(a, 0, sizeof *a);
    a->beta1 = 0.9f;
    a->beta2 = 0.95f;
    a->eps = 1e-8f;
    a->weight_decay = weight_decay;
    a->n = n;
    a->m = calloc(n ? n : 1, sizeof(float));
    a->v = calloc(n ? n : 1, sizeof(float));
    if (!a->m || !a->v) {
        adamw_free(a);
        return bitt_fail(err, "out of memory for the optimizer state (%zu parameters)", n);
    }
    return 0;
}

void adamw_free(AdamW *a) {
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

void adamw_step(AdamW *a, TmModel *tm, const float *grad, float grad_scale, float lr, int64_t step) {
    const float b1 = a->beta1, b2 = a->beta2;
    const float c1 = 1.0f - (float)pow(b1, (double)step), c2 = 1.0f - (float)pow(b2, (double)step);
    for (int ti = 0; ti < tm->n_tensors; ti++) {
        const TmTensor *t = &tm->tensors[ti];
        const float decay = t->decay ? lr * a->weight_decay : 0.0f;
        float *p = tm->params + t->offset, *m = a->m + t->offset, *v = a->v + t->offset;
        const float *g = grad + t->offset;
        for (size_t i = 0; i < t->count; i++) {
            const float gi = g[i] * grad_scale;
            m[i] = b1 * m[i] + (1.0f - b1) * gi;
            v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
            const float mh = m[i] / c1, vh = v[i] / c2;
            p[i] -= lr * mh / (sqrtf(vh) + a->eps) + decay * p[i];
        }
    }
}

double grad_norm(const float *grad, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)grad[i] * grad[i];
    return sqrt(s);
}

float lr_schedule(int64_t step, int64_t total, int64_t warmup, float lr, float min_lr) {
    if (warmup > 0 && step <= warmup) return lr * (float)step / (float)warmup;
    if (step >= total) return min_lr;
    const double span = (double)(total - warmup);
    const double progress = span > 0 ? (double)(step - warmup) / span : 1.0;
    return (float)(min_lr + 0.5 * (lr - min_lr) * (1.0 + cos(3.14159265358979323846 * progress)));
}
