/* repeat.h: the "repeated story after a gap" measurement on real text: a
 * story A, then N tokens of the stories that follow it in the file, then A
 * again, read from a fresh memory. The control reads another story in A's
 * place, then the same N tokens, then A: the loss on A there against the
 * loss on A's second copy (the gain) is what the memory kept of A across N
 * tokens, apart from what any earlier text (a warmed-up memory) gives. The pieces are
 * joined by a newline, not </s> (a model that resets its memory at a
 * document boundary should not be penalised for that). Stories are split
 * at <|endoftext|>, or at blank lines in a text without any (such as
 * valid-head.txt). Trials take the stories in a fixed spread over the file,
 * the same for every gap. */
#ifndef BITT_EVAL_REPEAT_H
#define BITT_EVAL_REPEAT_H

#include "../model/model.h"

typedef struct RepeatResult {
    int32_t gap;
    int trials;
    double first;             /* mean nll on A's tokens (after its first): A read first */
    double second;            /* A again after A and the gap */
    double control;           /* A after another story and the same gap; gain = control - second */
} RepeatResult;

/* stories: the file's text (separated by <|endoftext|>). out: n_gaps results. */
int eval_repeat(const Model *m, const char *text, size_t len, const int32_t *gaps, int n_gaps, int trials,
                RepeatResult *out, BittError *err);

#endif
