/* test_grad_check.c: the training backward against central finite
 * differences, in double precision (the schedule and CPU backend compiled over double,
 * library bitt_train_f64), for every parameter of a tiny model of each
 * variant (linear, seed, none): once with quantisation off (the exact
 * gradient of the float model), once with ternary weights and int8
 * activations on, checked through the STE definition (the rounding offsets
 * g*Wt - W and xq/s - x frozen at the point, so that the finite differences
 * see the function whose exact gradient the STE gives). The linear model
 * has several mini-batches and a partial last one, so gradients must flow
 * through the state from one mini-batch to the next. The linear and seed
 * models are checked a second time starting from a random carried state
 * (stateful training: the state is a constant input, so W0 and b0 get no
 * gradient then, and every other tensor must still be exact). The linear
 * model is checked once more with state_decay 0.7 (docs/TTT_MEMORY.md), fresh
 * and carried: the pull toward W0, b0 after each mini-batch gives them a
 * gradient even from a carried state. */
#define BITT_TRAIN_REAL_DOUBLE 1
#include <stdlib.h>

#include "sampling/rng.h"
#include "test_util.h"
#include "test_train_util.h"

/* A tiny model with non-trivial weights (norms and LN away from 1/0, a large
 * lm_head, W0 and the lr gate big enough to matter). */
static Model *tiny_model(TttVariant variant, int act_quant, float state_decay) {
    BittError err;
    ModelConfig cfg;
    config_init(&cfg, 13, 8, 2, variant);
    cfg.num_heads = 2;         /* f = 4 */
    cfg.intermediate_dim = 12;
    cfg.mini_batch = 4;
    cfg.inner_lr = 0.5f;
    cfg.base_lr = 2.0f;
    cfg.act_quant = act_quant;
    cfg.state_decay = state_decay;
    Model *m = model_alloc(&cfg, NULL, &err);
    if (!m) { fprintf(stderr, "%s\n", err.message); return NULL; }
    model_init_random(m, 7);
    BittRng r;
    rng_seed(&r, 99);
    for (int i = 0; i < m->n_params; i++) {
        ParamRef *p = &m->params[i];
        const size_t n = p->spec.count;
        const ParamField f = p->spec.field;
        float *x = p->spec.kind == PARAM_BITLINEAR ? p->bl->latent : p->f32;
        float amp = f == PF_LM_HEAD ? 1.0f : f == PF_TTT_W0 ? 0.3f
                  : (f == PF_TTT_LR_W || f == PF_TTT_LR_B) ? 1.0f : p->spec.kind == PARAM_BITLINEAR ? 0.3f : 0.2f;
        for (size_t k = 0; k < n; k++) x[k] += amp * rng_next_normal(&r);
    }
    model_quantize(m);
    return m;
}

static const char *variant_label(TttVariant v) { return ttt_variant_name(v); }

/* A random carried state: for linear around W0/b0, for seed a random S (a
 * CPU backend buffer: host memory). */
static real *random_state(const TrainModel *tm) {
    const size_t n = train_state_floats(tm);
    real *s = tm->be->alloc(tm->be, n);
    if (!s) return NULL;
    train_state_init(tm, s);
    BittRng r;
    rng_seed(&r, 4242);
    for (size_t i = 0; i < n; i++) s[i] += (real)(0.3f * rng_next_normal(&r));
    return s;
}

static int is_start_state(ParamField f) { return f == PF_TTT_W0 || f == PF_TTT_B0; }

/* Forward from the point as the check sees it: the quantisers replay their
 * recorded offsets (freeze 2) or record them (freeze 1). */
static double loss_at(TrainHarness *h, const int32_t *ids, int T, real *state) {
    BittError err;
    train_cpu_tape_rewind(h->be);
    if (train_model_prepare(&h->tm, &err) != 0) return NAN;
    return harness_forward(h, ids, T, state, 0);
}

/* Returns the worst relative error over all parameters. carried: start
 * from a random state given as an input. */
static double check(TttVariant variant, int quant, int carried, float decay) {
    BittError err;
    Model *m = tiny_model(variant, quant, decay);
    CHECK(m != NULL);
    if (!m) return 1.0;
    enum { T = 22 }; /* 5 full mini-batches of 4 and a partial one */
    TrainHarness h;
    CHECK(harness_init(&h, m, 1, T) == 0);
    TrainModel *tm = &h.tm;
    tm->quant_weights = quant;
    tm->act_quant = quant;
    train_cpu_set_freeze(h.be, quant ? 1 : 0);
    int32_t ids[T + 1];
    uint32_t s = 12345;
    for (int i = 0; i <= T; i++) {
        s = s * 1664525u + 1013904223u;
        ids[i] = (int32_t)((s >> 8) % 13u);
    }
    real *grad = calloc(tm->n_params, sizeof(real));
    real *state = carried ? random_state(tm) : NULL;
    CHECK(grad && (!carried || state != NULL));
    const double loss0 = loss_at(&h, ids, T, state);
    h.be->zero(h.be, tm->grads, tm->n_params);
    CHECK(train_backward(tm, h.acts, 1.0, &err) == 0);
    memcpy(grad, tm->grads, tm->n_params * sizeof(real));
    if (quant) train_cpu_set_freeze(h.be, 2); /* replay the recorded offsets from now on */
    const double loss_replay = loss_at(&h, ids, T, state);
    if (carried) { /* the carried state matters */
        const double fresh = loss_at(&h, ids, T, NULL);
        CHECK_MSG(fabs(fresh - loss0) > 1e-6, "%s: a carried state did not change the loss", variant_label(variant));
    }
    CHECK_MSG(fabs(loss_replay - loss0) < 1e-12, "%s: replayed loss %.15g vs %.15g", variant_label(variant),
              loss_replay, loss0);

    double worst = 0.0;
    int worst_tensor = -1, nonzero = 0;
    const double step = 1e-5;
    for (int ti = 0; ti < tm->n_tensors; ti++) {
        const TrainTensor *t = &tm->tensors[ti];
        double tensor_worst = 0.0, gnorm = 0.0;
        for (size_t k = 0; k < t->spec.count; k++) {
            real *p = &tm->params[t->offset + k];
            const real keep = *p;
            *p = keep + step;
            const double lp = loss_at(&h, ids, T, state);
            *p = keep - step;
            const double lm = loss_at(&h, ids, T, state);
            *p = keep;
            const double num = (lp - lm) / (2 * step), ana = grad[t->offset + k];
            const double scale = fmax(fmax(fabs(num), fabs(ana)), 1e-6);
            const double rel = fabs(num - ana) / scale;
            if (rel > tensor_worst) tensor_worst = rel;
            gnorm += ana * ana;
        }
        if (gnorm > 0) nonzero++;
        if (carried && decay == 1.0f && is_start_state(t->spec.field)) {
            CHECK_MSG(gnorm == 0, "%s carried: %s has a gradient", variant_label(variant), t->spec.name);
            nonzero++; /* counted as expected */
        }
        CHECK_MSG(tensor_worst < 1e-4, "%s quant=%d carried=%d: %s: relative error %.3g", variant_label(variant),
                  quant, carried, t->spec.name, tensor_worst);
        if (tensor_worst > worst) { worst = tensor_worst; worst_tensor = ti; }
    }
    CHECK_MSG(!train_cpu_tape_failed(h.be), "%s: the quantisation tape ran out", variant_label(variant));
    /* every tensor receives a gradient (else the check would prove little) */
    CHECK_MSG(nonzero == tm->n_tensors, "%s: only %d of %d tensors have a nonzero gradient",
              variant_label(variant), nonzero, tm->n_tensors);
    printf("grad check %-6s quant=%d carried=%d decay=%.1f: %zu parameters in %d tensors, loss %.6f, worst relative "
           "error %.2e (%s)\n", variant_label(variant), quant, carried, (double)decay, tm->n_params, tm->n_tensors,
           loss0, worst, worst_tensor >= 0 ? tm->tensors[worst_tensor].spec.name : "-");
    free(grad);
    if (state) h.be->release(h.be, state);
    harness_free(&h);
    model_free(m);
    return worst;
}

int main(void) {
    const TttVariant variants[3] = {TTT_LINEAR, TTT_SEED, TTT_NONE};
    for (int v = 0; v < 3; v++)
        for (int quant = 0; quant <= 1; quant++)
            for (int carried = 0; carried <= (variants[v] != TTT_NONE); carried++)
                check(variants[v], quant, carried, 1.0f);
    for (int quant = 0; quant <= 1; quant++)
        for (int carried = 0; carried <= 1; carried++) check(TTT_LINEAR, quant, carried, 0.7f);
    return test_main_end("test_grad_check");
}
