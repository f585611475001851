/* by_position.h: loss by where a token sits, the first question to ask of a
 * model with a memory: does it predict better as it has read more? Bins of
 * the predicted token's absolute position in the text, 1, 2-3, 4-7, ...
 * (log-spaced, powers of 2), and of its position inside its document
 * (tokens since the last </s>: 0 is a document's first token, then 1, 2-3,
 * 4-7, ...). A memory that drifts shows a loss that climbs with the
 * absolute position; one that uses its context, a loss that falls with the
 * position in the document. */
#ifndef BITT_EVAL_BY_POSITION_H
#define BITT_EVAL_BY_POSITION_H

#include <stddef.h>
#include <stdint.h>

#include "../util/error.h"

typedef struct PositionBin {
    uint64_t from, to;   /* positions [from, to) */
    uint64_t tokens;     /* predictions in the bin */
    double loss;         /* their mean nll (nats) */
} PositionBin;

typedef struct PositionBins {
    PositionBin absolute[64], in_document[64];
    int n_absolute, n_in_document;  /* bins up to the last non-empty one */
} PositionBins;

/* nll[t] scores ids[t + 1] (n - 1 values); eos: the document separator's id
 * (-1: the whole text is one document). */
void eval_by_position(const int32_t *ids, size_t n, const double *nll, int32_t eos, PositionBins *out);

#endif
