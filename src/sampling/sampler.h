/* sampler.h: picking the next token from logits: greedy, temperature,
 * top-k, top-p. Deterministic across platforms: the same seed and the same
 * logits give the same tokens natively and in wasm (integer RNG, our own
 * exp in double arithmetic, fixed summation order, no full sort of V). */
#ifndef BITT_SAMPLER_H
#define BITT_SAMPLER_H

#include <stdint.h>

#include "../util/error.h"
#include "rng.h"

typedef struct SamplingParams {
    float temperature;  /* <= 0: greedy */
    int top_k;          /* 0: off */
    float top_p;        /* >= 1: off */
    uint64_t seed;
} SamplingParams;

typedef struct Sampler {
    int vocab_size;
    SamplingParams params;
    BittRng rng;
    int32_t *cand;      /* candidate ids, V */
    double *weight;     /* their unnormalised probabilities, V */
} Sampler;

/* Checks the parameters (temperature finite >= 0, top_k in [0, V], top_p in (0, 1]). */
int sampling_params_check(const SamplingParams *p, BittError *err);
int sampler_init(Sampler *s, int vocab_size, const SamplingParams *p, BittError *err);
void sampler_free(Sampler *s);
/* Restarts the random stream from the seed. */
void sampler_reseed(Sampler *s, uint64_t seed);
/* Draws the next token. Safe on any floats: a NaN logit ranks as -infinity
 * (never drawn while any logit is a number), +infinity logits share all the
 * probability, and when every logit is NaN the answer is id 0. */
int32_t sampler_sample(Sampler *s, const float *logits);
/* Index of the largest logit (the first on ties; NaN ranks lowest). */
int32_t sample_argmax(const float *logits, int n);
/* exp(x) for x <= 0 computed with + - * only: identical on every IEEE platform
 * (x > 0 counts as 0; NaN and x < -745 give 0). */
double det_exp(double x);

#endif
