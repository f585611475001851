/* test_model_util.h: random-weight models and logit comparisons for tests. */
#ifndef BITT_TEST_MODEL_UTIL_H
#define BITT_TEST_MODEL_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/model.h"
#include "infer/session.h"

/* A random model with a synthetic tokenizer of V ids; forget_gate 1 gives
 * the linear mixer the forget gate of SPEC 1.2.1 with gates that vary from
 * token to token (SPEC's initialisation makes them constant per head). */
static inline Model *make_random_model_gated(int V, int D, int L, TttVariant variant, int act_quant,
                                             int mini_batch, uint64_t seed, int forget_gate) {
    BittError err;
    Tokenizer *tok = tokenizer_make_synthetic(V, &err);
    if (!tok) { fprintf(stderr, "%s\n", err.message); return NULL; }
    ModelConfig cfg;
    config_init(&cfg, V, D, L, variant);
    cfg.act_quant = act_quant;
    cfg.mini_batch = mini_batch;
    if (D % 16 == 0 && D >= 32) cfg.num_heads = D / 16; /* several small heads */
    cfg.forget_gate = forget_gate;
    Model *m = model_alloc(&cfg, tok, &err);
    if (!m) { fprintf(stderr, "%s\n", err.message); return NULL; }
    model_init_random(m, seed);
    for (int l = 0; forget_gate && l < L; l++) { /* gates a_t from ~0.5 to ~1, varying with the token */
        uint32_t r = (uint32_t)seed * 2654435761u + (uint32_t)l;
        for (int i = 0; i < cfg.num_heads * D; i++) {
            r = r * 1664525u + 1013904223u;
            m->layers[l].forget_w[i] = ((float)(r >> 8) / 16777216.0f - 0.5f) * 0.6f;
        }
        for (int h = 0; h < cfg.num_heads; h++) m->layers[l].forget_b[h] = 1.0f - 1.5f * (float)h;
    }
    /* random models have tiny logits: a larger lm_head gives a real scale */
    for (size_t i = 0; i < (size_t)V * D; i++) m->lm_head[i] *= 50.0f;
    if (model_finish_load(m, &err) != 0) { fprintf(stderr, "%s\n", err.message); model_free(m); return NULL; }
    return m;
}

static inline Model *make_random_model(int V, int D, int L, TttVariant variant, int act_quant,
                                       int mini_batch, uint64_t seed) {
    return make_random_model_gated(V, D, L, variant, act_quant, mini_batch, seed, 0);
}

/* max |a - b| / max |a| */
static inline double rel_diff(const float *a, const float *b, size_t n) {
    double maxd = 0, scale = 1e-12;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > maxd || d != d) maxd = d != d ? INFINITY : d;
        if (fabs((double)a[i]) > scale) scale = fabs((double)a[i]);
    }
    return maxd / scale;
}

/* Deterministic token ids in [3, V). */
static inline void make_ids(int32_t *ids, int n, int V, uint32_t seed) {
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        ids[i] = 3 + (int32_t)((seed >> 8) % (uint32_t)(V - 3));
    }
}

#endif
