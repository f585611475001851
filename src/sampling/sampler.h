/* sampler.h: picking the next token from logits: repetition, presence and
 * frequency penalties (logit transforms over the tokens drawn so far), then
 * greedy, or temperature with top-k, top-p and min-p. Deterministic across
 * platforms: the same seed and the same logits give the same tokens natively
 * and in wasm (integer RNG, our own exp in double arithmetic, fixed
 * summation order, no full sort of V). Every non-greedy draw takes exactly
 * one number from the RNG whatever the filters, so the stream stays aligned
 * between front ends. */
#ifndef BITT_SAMPLER_H
#define BITT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "../util/error.h"
#include "rng.h"

typedef struct SamplingParams {
    float temperature;        /* <= 0: greedy */
    int top_k;                /* 0: off */
    float top_p;              /* >= 1: off */
    uint64_t seed;
    float min_p;              /* 0: off; keeps the tokens whose probability (at the temperature) is
                                 at least min_p times the largest one's */
    float repetition_penalty; /* 1: off; a drawn token's logit l becomes l / r if l > 0, else l * r */
    float presence_penalty;   /* 0: off; subtracted once from the logit of every drawn token */
    float frequency_penalty;  /* 0: off; subtracted once per time the token was drawn */
    int penalty_last_n;       /* the penalties look at the last n drawn tokens; 0: all of them */
} SamplingParams;

/* The penalties' history and the filters off; temperature, top_k, top_p and seed as given. */
SamplingParams sampling_params_basic(float temperature, int top_k, float top_p, uint64_t seed);

typedef struct Sampler {
    int vocab_size;
    SamplingParams params;
    BittRng rng;
    int32_t *cand;      /* candidate ids, V */
    double *weight;     /* their unnormalised probabilities, V */
    float *adjusted;    /* V: the logits after the penalties */
    int32_t *counts;    /* V: how often each id occurs in the penalty window */
    int32_t *history;   /* the tokens drawn since the last reseed (sampler_accept) */
    size_t history_len, history_cap;
} Sampler;

/* Checks the parameters (temperature finite >= 0, top_k in [0, V], top_p in
 * (0, 1], min_p in [0, 1], repetition_penalty finite > 0, presence and
 * frequency penalties finite, penalty_last_n >= 0). */
int sampling_params_check(const SamplingParams *p, BittError *err);
int sampler_init(Sampler *s, int vocab_size, const SamplingParams *p, BittError *err);
void sampler_free(Sampler *s);
/* Replaces the parameters (checked by the caller) and keeps the RNG and the
 * drawn tokens (the penalty window is recounted if it changed). */
void sampler_set_params(Sampler *s, const SamplingParams *p);
/* Restarts the random stream from the seed and forgets the drawn tokens
 * (the penalties then start from an empty history). */
void sampler_reseed(Sampler *s, uint64_t seed);
/* Records a drawn token for the penalties. Returns -1 when out of memory. */
int sampler_accept(Sampler *s, int32_t token);
/* Draws the next token. Safe on any floats: a NaN logit ranks as -infinity
 * (never drawn while any logit is a number), +infinity logits share all the
 * probability, and when every logit is NaN the answer is id 0. */
int32_t sampler_sample(Sampler *s, const float *logits);
/* Index of the largest logit (the first on ties; NaN ranks lowest). */
int32_t sample_argmax(const float *logits, int n);
/* exp(x) for x <= 0 computed with + - * only: identical on every IEEE platform
 * (x > 0 counts as 0; NaN and x < -745 give 0). */
double det_exp(double x);

/* Log-probabilities under softmax(logits) (temperature 1, no penalties or
 * filters): *token_logprob of `token`, and the n most likely ids (best
 * first, ties to the smaller id) with theirs into ids / logprobs (n <= V).
 * NaN logits count as -infinity. For reporting only (libm's exp and log). */
void sampler_logprobs(const float *logits, int V, int32_t token, int n, int32_t *ids, double *logprobs,
                      double *token_logprob);

#endif
