/* score.h: what every long-context measurement starts from: the model read
 * token by token (in prefill chunks) and each prediction scored, its
 * negative log-likelihood and whether it was the model's top choice. */
#ifndef BITT_EVAL_SCORE_H
#define BITT_EVAL_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "../infer/session.h"

/* Feeds ids[0..n) through s, continuing from its state, and scores the n - 1
 * predictions of ids[1..n): nll[t] = -log p(ids[t+1] | everything read up to
 * ids[t]) in nats, top1[t] = 1 if ids[t+1] was the argmax (top1 may be NULL). */
int eval_score_tokens(Session *s, const int32_t *ids, size_t n, double *nll, uint8_t *top1, BittError *err);

/* -log softmax(logits)[target] in double, and whether target is the argmax. */
double eval_nll(const float *logits, int V, int32_t target, int *is_top1);

#endif
