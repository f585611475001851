/* recall.h: scoring the synthetic recall task (data/recall_gen.h): each
 * document read from a fresh memory (after </s>, as a session starts), only
 * its answer words scored. An answer counts as recalled when every one of
 * its tokens is the model's top prediction. Results by the gap between the
 * facts and the questions. */
#ifndef BITT_EVAL_RECALL_H
#define BITT_EVAL_RECALL_H

#include "../data/recall_gen.h"
#include "../model/model.h"

typedef struct RecallResult {
    int32_t gap;              /* filler tokens asked for */
    int questions, recalled;  /* answers, and those recalled */
    double loss;              /* mean nll of the answer tokens (nats) */
    uint64_t answer_tokens;
    double distance;          /* mean tokens from a fact's value to its answer */
} RecallResult;

/* text: the corpus the key describes. *out (malloc'd) gets one result per
 * distinct gap, in increasing gap order. */
int eval_recall(const Model *m, const char *text, size_t len, const RecallCorpus *key, RecallResult **out, int *n_out,
                BittError *err);

#endif
