/* repeat.c: the repeated-story measurement (see repeat.h). */
#include "repeat.h"

#include <stdlib.h>
#include <string.h>

#include "../tokenizer/story_split.h"
#include "../util/grow.h"
#include "score.h"

typedef struct Story {
    int32_t *ids;
    size_t n;
} Story;

/* Without <|endoftext|>: the pieces between blank lines (valid-head.txt
 * separates stories and paragraphs alike that way). */
static int next_paragraph(const char *text, size_t len, size_t *pos, size_t *start, size_t *n) {
    while (*pos < len) {
        while (*pos < len && (text[*pos] == '\n' || text[*pos] == '\r')) (*pos)++;
        const size_t s = *pos;
        while (*pos < len && !(text[*pos] == '\n' && *pos + 1 < len && text[*pos + 1] == '\n')) (*pos)++;
        size_t e = *pos;
        while (e > s && (text[e - 1] == '\n' || text[e - 1] == '\r')) e--;
        if (e > s) {
            *start = s;
            *n = e - s;
            return 1;
        }
    }
    return 0;
}

int eval_repeat(const Model *m, const char *text, size_t len, const int32_t *gaps, int n_gaps, int trials,
                RepeatResult *out, BittError *err) {
    const int32_t eos = tokenizer_token_id(m->tok, "</s>");
    int32_t *nl_ids = NULL;
    size_t nl_n = 0;
    if (eos < 0) return bitt_fail(err, "the model's tokenizer has no </s>");
    if (tokenizer_encode(m->tok, "\n", 1, &nl_ids, &nl_n, err) != 0) return -1;
    Story *st = NULL;
    size_t n_st = 0, cap = 0, pos = 0, start, slen;
    int rc = 0;
    int separated = 0;
    for (size_t i = 0; i + STORY_SEPARATOR_LEN <= len && !separated; i++)
        separated = text[i] == '<' && memcmp(text + i, STORY_SEPARATOR, STORY_SEPARATOR_LEN) == 0;
    while (!rc && (separated ? story_next(text, len, &pos, &start, &slen) : next_paragraph(text, len, &pos, &start, &slen))) {
        if (grow_array(&st, &cap, n_st + 1, sizeof *st) != 0) {
            rc = bitt_fail(err, "out of memory");
            break;
        }
        if (tokenizer_encode(m->tok, text + start, slen, &st[n_st].ids, &st[n_st].n, err) != 0) rc = -1;
        else n_st++;
    }
    if (!rc && n_st < 2) rc = bitt_fail(err, "the text needs at least 2 stories (separated by <|endoftext|>)");
    Session s;
    int have_s = !rc && session_init(&s, m, err) == 0;
    if (!rc && !have_s) rc = -1;
    int32_t *seq = NULL;
    double *nll = NULL;
    size_t seq_cap = 0, nll_cap = 0;
    for (int g = 0; g < n_gaps && !rc; g++) {
        RepeatResult *r = &out[g];
        memset(r, 0, sizeof *r);
        r->gap = gaps[g];
        double first = 0, second = 0, control = 0;
        size_t tokens = 0;
        for (int t = 0; t < trials && !rc; t++) {
            const size_t a = (size_t)t * n_st / (size_t)trials;  /* spread over the file */
            const size_t c = (a + n_st / 2) % n_st;             /* the control's first story */
            const Story *A = &st[a];
            if (A->n < 2 || c == a) continue;
            const size_t need = 1 + A->n + st[c].n + 2 * nl_n + (size_t)gaps[g] + A->n;
            if (grow_array(&seq, &seq_cap, need, sizeof *seq) != 0 || grow_array(&nll, &nll_cap, need, sizeof *nll)) {
                rc = bitt_fail(err, "out of memory");
                break;
            }
            /* pass 0: A, gap, A; pass 1 (the control): another story, the same gap, A */
            for (int pass = 0; pass < 2 && !rc; pass++) {
                const Story *P = pass ? &st[c] : A;
                size_t n = 0;
                seq[n++] = eos;
                const size_t first_at = n;
                memcpy(seq + n, P->ids, P->n * sizeof *seq);
                n += P->n;
                memcpy(seq + n, nl_ids, nl_n * sizeof *seq);
                n += nl_n;
                if (gaps[g] > 0) { /* N tokens of the stories after A, joined by newlines */
                    size_t got = 0;
                    for (size_t k = 1; got < (size_t)gaps[g]; k++) {
                        const size_t fi = (a + k) % n_st;
                        if (fi == a || fi == c) continue; /* never A or the control's story */
                        const Story *F = &st[fi];
                        for (size_t i = 0; i < F->n && got < (size_t)gaps[g]; i++) seq[n + got++] = F->ids[i];
                        for (size_t i = 0; i < nl_n && got < (size_t)gaps[g]; i++) seq[n + got++] = nl_ids[i];
                    }
                    n += got;
                    memcpy(seq + n, nl_ids, nl_n * sizeof *seq);
                    n += nl_n;
                }
                const size_t last_at = n;
                memcpy(seq + n, A->ids, A->n * sizeof *seq);
                n += A->n;
                session_reset(&s);
                if (eval_score_tokens(&s, seq, n, nll, NULL, err) != 0) {
                    rc = -1;
                    break;
                }
                /* A's tokens after its first: seq[at + i] is predicted by nll[at + i - 1] */
                for (size_t i = 1; i < A->n; i++) {
                    if (pass) {
                        control += nll[last_at + i - 1];
                    } else {
                        first += nll[first_at + i - 1];
                        second += nll[last_at + i - 1];
                    }
                }
            }
            tokens += A->n - 1;
            r->trials++;
        }
        if (tokens) {
            r->first = first / (double)tokens;
            r->second = second / (double)tokens;
            r->control = control / (double)tokens;
        }
    }
    if (have_s) session_free(&s);
    for (size_t i = 0; i < n_st; i++) free(st[i].ids);
    free(st);
    free(seq);
    free(nll);
    free(nl_ids);
    return rc;
}
