/* recall.c: the recall task's score (see recall.h). */
#include "recall.h"

#include <stdlib.h>
#include <string.h>

#include "score.h"

/* Index of the first token whose bytes start at or after byte b (offs: n + 1
 * cumulative token offsets). */
static size_t token_at(const uint64_t *offs, size_t n, uint64_t b) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (offs[mid] < b) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

int eval_recall(const Model *m, const char *text, size_t len, const RecallCorpus *key, RecallResult **out, int *n_out,
                BittError *err) {
    *out = NULL;
    *n_out = 0;
    const int32_t eos = tokenizer_token_id(m->tok, "</s>");
    if (eos < 0) return bitt_fail(err, "the model's tokenizer has no </s>");
    RecallResult *res = calloc(key->n_docs ? key->n_docs : 1, sizeof *res);
    if (!res) return bitt_fail(err, "out of memory");
    int n_res = 0, rc = 0;
    Session s;
    if (session_init(&s, m, err) != 0) {
        free(res);
        return -1;
    }
    for (size_t di = 0; di < key->n_docs && !rc; di++) {
        const RecallDoc *d = &key->docs[di];
        if (d->end > len) {
            rc = bitt_fail(err, "document %zu ends past the text (%zu bytes)", di, len);
            break;
        }
        int32_t *doc_ids = NULL;
        size_t n = 0;
        if (tokenizer_encode(m->tok, text + d->start, (size_t)(d->end - d->start), &doc_ids, &n, err) != 0) {
            rc = -1;
            break;
        }
        /* </s> first, then the document; token i of the document is seq[i + 1] */
        int32_t *seq = malloc((n + 1) * sizeof *seq);
        uint64_t *offs = malloc((n + 1) * sizeof *offs);
        double *nll = malloc((n + 1) * sizeof *nll);
        uint8_t *top1 = malloc(n + 1);
        if (!seq || !offs || !nll || !top1) rc = bitt_fail(err, "out of memory");
        if (!rc) {
            seq[0] = eos;
            memcpy(seq + 1, doc_ids, n * sizeof *seq);
            offs[0] = d->start;
            for (size_t i = 0; i < n; i++) {
                size_t tl = 0;
                tokenizer_token_bytes(m->tok, doc_ids[i], &tl);
                offs[i + 1] = offs[i] + tl;
            }
            session_reset(&s);
            rc = eval_score_tokens(&s, seq, n + 1, nll, top1, err);
        }
        int r = 0;
        while (!rc && r < n_res && res[r].gap != d->gap) r++;
        if (!rc && r == n_res) res[n_res++].gap = d->gap;
        for (int a = 0; a < d->n_answers && !rc; a++) {
            /* the answer's tokens: from the one starting at its first byte to the one ending at its last */
            const size_t t0 = token_at(offs, n, d->answer[a][0]), t1 = token_at(offs, n, d->answer[a][1]);
            if (t0 >= t1 || offs[t0] != d->answer[a][0] || offs[t1] != d->answer[a][1]) {
                rc = bitt_fail(err, "document %zu: answer %d does not fall on token boundaries (another tokenizer?)",
                               di, a);
                break;
            }
            int all = 1;
            for (size_t t = t0; t < t1; t++) { /* document token t is seq[t + 1], predicted by nll[t] */
                res[r].loss += nll[t];
                res[r].answer_tokens++;
                all &= top1[t];
            }
            res[r].questions++;
            res[r].recalled += all;
            /* the fact's value: the same word in the document's first line (the facts) */
            const size_t alen = (size_t)(d->answer[a][1] - d->answer[a][0]);
            const char *word = text + d->answer[a][0];
            const char *nl = memchr(text + d->start, '\n', (size_t)(d->end - d->start));
            const size_t facts_end = nl ? (size_t)(nl - text) : (size_t)d->end;
            for (size_t b = d->start; b + alen <= facts_end; b++)
                if (memcmp(text + b, word, alen) == 0 && text[b + alen] == '.') {
                    res[r].distance += (double)(t0 - token_at(offs, n, b));
                    break;
                }
        }
        free(doc_ids);
        free(seq);
        free(offs);
        free(nll);
        free(top1);
    }
    session_free(&s);
    if (rc) {
        free(res);
        return -1;
    }
    for (int r = 0; r < n_res; r++) {
        if (res[r].answer_tokens) res[r].loss /= (double)res[r].answer_tokens;
        if (res[r].questions) res[r].distance /= (double)res[r].questions;
    }
    for (int i = 1; i < n_res; i++) /* by gap */
        for (int j = i; j > 0 && res[j].gap < res[j - 1].gap; j--) {
            const RecallResult t = res[j];
            res[j] = res[j - 1];
            res[j - 1] = t;
        }
    *out = res;
    *n_out = n_res;
    return 0;
}
