/* score.c: per-token scores of a model over a sequence (see score.h). */
#include "score.h"

#include <math.h>
#include <stdlib.h>

double eval_nll(const float *logits, int V, int32_t target, int *is_top1) {
    float maxl = logits[0];
    int32_t best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > maxl) {
            maxl = logits[i];
            best = i;
        }
    double sum = 0.0;
    for (int i = 0; i < V; i++) sum += exp((double)logits[i] - maxl);
    if (is_top1) *is_top1 = best == target;
    return log(sum) - ((double)logits[target] - maxl);
}

int eval_score_tokens(Session *s, const int32_t *ids, size_t n, double *nll, uint8_t *top1, BittError *err) {
    if (n < 2) return 0;
    const int V = s->m->cfg.vocab_size;
    float *logits = malloc((size_t)SESSION_CHUNK * V * sizeof(float));
    if (!logits) return bitt_fail(err, "out of memory for the logits of a chunk");
    for (size_t at = 0; at + 1 < n; at += SESSION_CHUNK) {
        const int T = (int)(n - 1 - at < SESSION_CHUNK ? n - 1 - at : SESSION_CHUNK);
        if (session_forward(s, ids + at, T, logits, 1, err) != 0) {
            free(logits);
            return -1;
        }
        for (int t = 0; t < T; t++) {
            int hit;
            nll[at + t] = eval_nll(logits + (size_t)t * V, V, ids[at + t + 1], &hit);
            if (top1) top1[at + t] = (uint8_t)hit;
        }
    }
    free(logits);
    return 0;
}
