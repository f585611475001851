/* test_train_optim.c: the trainer's optimiser pieces: the learning-rate
 * schedule (linear warmup, cosine to min-lr), AdamW's first update against
 * a hand computation (bias-corrected: each parameter moves by lr), weight
 * decay on matrices only, and the gradient norm. */
#include <stdlib.h>

#include "test_model_util.h"
#include "test_util.h"
#include "test_train_util.h"
#include "train/adamw.h"

int main(void) {
    /* schedule: lr 1e-3, warmup 10, 110 steps, floor 1e-5 */
    CHECK(fabsf(lr_schedule(1, 110, 10, 1e-3f, 1e-5f) - 1e-4f) < 1e-9f);
    CHECK(fabsf(lr_schedule(10, 110, 10, 1e-3f, 1e-5f) - 1e-3f) < 1e-9f);
    CHECK(fabsf(lr_schedule(60, 110, 10, 1e-3f, 1e-5f) - (1e-5f + 0.5f * (1e-3f - 1e-5f))) < 1e-8f);
    CHECK(fabsf(lr_schedule(110, 110, 10, 1e-3f, 1e-5f) - 1e-5f) < 1e-10f);
    for (int s = 11; s < 110; s++) /* monotone decay after warmup */
        CHECK(lr_schedule(s + 1, 110, 10, 1e-3f, 1e-5f) <= lr_schedule(s, 110, 10, 1e-3f, 1e-5f));
    CHECK(lr_schedule(5, 100, 0, 1e-3f, 0.0f) < 1e-3f && lr_schedule(1, 100, 0, 1e-3f, 0.0f) > 0.99e-3f);

    /* AdamW on a real model's parameter table */
    BittError err;
    Model *m = make_random_model(300, 32, 1, TTT_LINEAR, 1, 16, 3);
    CHECK(m != NULL);
    TrainHarness h;
    CHECK(harness_init(&h, m, 1, 1) == 0);
    TrainModel *tm = &h.tm;
    float *before = malloc(tm->n_params * sizeof(float)), *grad = tm->grads;
    for (size_t i = 0; i < tm->n_params; i++) grad[i] = (i % 3 == 0) ? 0.5f : (i % 3 == 1) ? -2.0f : 0.0f;
    memcpy(before, tm->params, tm->n_params * sizeof(float));
    AdamW opt;
    CHECK(adamw_init(&opt, h.be, tm->n_params, 0.1f, &err) == 0);
    const float lr = 1e-2f;
    adamw_step(&opt, tm, 1.0f, lr, 1);
    int decayed = 0, plain = 0, bad = 0;
    for (int ti = 0; ti < tm->n_tensors; ti++) {
        const TrainTensor *t = &tm->tensors[ti];
        if (t->spec.weight_decay) decayed++; else plain++;
        for (size_t k = 0; k < t->spec.count; k++) {
            const size_t i = t->offset + k;
            /* first step: m/(1-b1) = g, v/(1-b2) = g^2, so the step is lr * sign(g) */
            const float sign = grad[i] > 0 ? 1.0f : grad[i] < 0 ? -1.0f : 0.0f;
            const float expect = before[i] - lr * sign - (t->spec.weight_decay ? lr * 0.1f * before[i] : 0.0f);
            if (fabsf(tm->params[i] - expect) > 1e-6f + 1e-5f * fabsf(expect)) bad++;
        }
    }
    CHECK_MSG(bad == 0, "%d parameters off the hand-computed AdamW step", bad);
#define DECAYS(name) (tm->tensors[train_model_find(tm, name)].spec.weight_decay)
    CHECK(DECAYS("embed.weight") && DECAYS("layers.0.ttt.q.weight") && DECAYS("layers.0.ttt.W0"));
    CHECK(!DECAYS("layers.0.norm1.weight") && !DECAYS("layers.0.ttt.b0"));
    CHECK(!DECAYS("layers.0.ttt.ln.weight") && !DECAYS("layers.0.ttt.lr.bias"));
    CHECK(decayed > 0 && plain > 0);
    /* grad norm */
    h.be->zero(h.be, grad, tm->n_params);
    grad[0] = 3;
    grad[tm->n_params - 1] = 4;
    CHECK(fabs(grad_norm(tm) - 5.0) < 1e-12);
    adamw_free(&opt);
    free(before);
    harness_free(&h);
    model_free(m);
    return test_main_end("test_train_optim");
}
