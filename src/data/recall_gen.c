/* recall_gen.c: documents of facts, filler and questions, and their answer
 * key (see recall_gen.h). */
#include "recall_gen.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/json.h"
#include "../sampling/rng.h"
#include "../tokenizer/story_split.h"
#include "../util/fileio.h"
#include "../util/grow.h"
#include "../util/textbuf.h"
#include "story_gen.h"

static const char *const COLORS[] = {"red", "blue", "green", "yellow", "pink", "purple", "orange", "white",
                                     "brown", "black"};
static const char *const THINGS[] = {"box", "bag", "cup", "jar", "basket", "pot", "bucket", "drawer"};
static const char *const VALUES[] = {"frog", "key", "ball", "coin", "shell", "apple", "star", "bell", "ring",
                                     "stone", "feather", "button", "leaf", "cookie", "duck", "spoon", "sock", "hat",
                                     "flower", "kite", "fish", "cake", "rope", "candle", "map", "mouse", "pear",
                                     "egg", "owl", "bee"};
#define N_COLORS (sizeof COLORS / sizeof *COLORS)
#define N_THINGS (sizeof THINGS / sizeof *THINGS)
#define N_VALUES (sizeof VALUES / sizeof *VALUES)

static const char *article(const char *w) { return strchr("aeiou", w[0]) ? "an" : "a"; }

/* The filler stories, read in turn (cycling) across documents. */
typedef struct Filler {
    const char *text;
    size_t len, pos;
    char *owned;
} Filler;

static int next_story(Filler *f, const char **s, size_t *n) {
    size_t start;
    for (int pass = 0; pass < 2; pass++) {
        if (story_next(f->text, f->len, &f->pos, &start, n)) {
            *s = f->text + start;
            return 1;
        }
        f->pos = 0; /* cycle */
    }
    return 0;
}

/* Appends about `gap` tokens of filler (whole stories joined by '\n', cut
 * at a token that starts a word, so the text encodes to exactly the tokens
 * counted). */
static int add_filler(const Tokenizer *tok, Filler *f, int32_t gap, TextBuf *b, BittError *err) {
    if (gap <= 0) return 0;
    TextBuf g = {0};
    int32_t *ids = NULL;
    size_t n = 0;
    for (;;) {
        const char *s;
        size_t slen;
        if (!next_story(f, &s, &slen)) {
            tb_free(&g);
            return bitt_fail(err, "the filler text holds no story");
        }
        if (g.len) tb_append(&g, "\n", 1);
        tb_append(&g, s, slen);
        if (g.failed) break;
        free(ids);
        ids = NULL;
        if (tokenizer_encode(tok, g.p, g.len, &ids, &n, err) != 0) {
            tb_free(&g);
            return -1;
        }
        if (n > (size_t)gap) break;
    }
    if (g.failed) {
        free(ids);
        tb_free(&g);
        return bitt_fail(err, "out of memory for the filler");
    }
    /* the largest k <= gap whose token k starts a word: the first k tokens are then a text of its own */
    size_t k = (size_t)gap, bytes = 0;
    for (;; k--) {
        size_t tl = 0;
        const char *t = tokenizer_token_bytes(tok, ids[k], &tl);
        if (k == 0 || (t && tl && (t[0] == ' ' || t[0] == '\n'))) break;
    }
    for (size_t i = 0; i < k; i++) {
        size_t tl = 0;
        tokenizer_token_bytes(tok, ids[i], &tl);
        bytes += tl;
    }
    tb_append(b, g.p, bytes);
    free(ids);
    tb_free(&g);
    return 0;
}

int recall_corpus_make(const Tokenizer *tok, const RecallOptions *o, RecallCorpus *out, BittError *err) {
    memset(out, 0, sizeof *out);
    if (o->facts < 1 || o->facts > RECALL_MAX_FACTS)
        return bitt_fail(err, "recall: --facts %d must be 1..%d", o->facts, RECALL_MAX_FACTS);
    if (o->n_gaps < 1 || o->docs_per_gap < 1) return bitt_fail(err, "recall: no gaps or no documents asked for");
    int64_t total = 0;
    for (int i = 0; i < o->n_gaps; i++) {
        if (o->gaps[i] < 0 || o->gaps[i] > RECALL_MAX_GAP)
            return bitt_fail(err, "recall: gap %d must be 0..%d tokens", o->gaps[i], RECALL_MAX_GAP);
        total += o->gaps[i];
    }
    Filler f = {o->filler, o->filler_len, 0, NULL};
    if (!f.text) { /* synthetic stories: about 150 tokens each, enough for every gap once */
        const int64_t n = total * o->docs_per_gap / 100 + 16;
        char *text;
        size_t len;
        if (story_corpus_make(o->seed ^ 0x66696c6c6572ull, n < 1000000 ? (int)n : 1000000, &text, &len, err) != 0)
            return -1;
        f.text = f.owned = text;
        f.len = len;
    }
    BittRng r;
    rng_seed(&r, o->seed);
    TextBuf b = {0};
    size_t cap = 0;
    out->facts = o->facts;
    int rc = 0;
    for (int round = 0; round < o->docs_per_gap && !rc; round++)
        for (int gi = 0; gi < o->n_gaps && !rc; gi++) {
            if (grow_array(&out->docs, &cap, out->n_docs + 1, sizeof *out->docs) != 0) {
                rc = bitt_fail(err, "out of memory");
                break;
            }
            RecallDoc *d = &out->docs[out->n_docs++];
            memset(d, 0, sizeof *d);
            d->gap = o->gaps[gi];
            d->start = b.len;
            /* K facts with distinct keys (color + thing) and distinct values */
            int key[RECALL_MAX_FACTS], val[RECALL_MAX_FACTS];
            for (int k = 0; k < o->facts; k++) {
                int again;
                do {
                    key[k] = (int)(rng_next_u64(&r) % (N_COLORS * N_THINGS));
                    val[k] = (int)(rng_next_u64(&r) % N_VALUES);
                    again = 0;
                    for (int j = 0; j < k; j++) again |= key[j] == key[k] || val[j] == val[k];
                } while (again);
                const char *v = VALUES[val[k]];
                tb_printf(&b, "%sThe %s %s holds %s %s.", k ? " " : "", COLORS[key[k] / N_THINGS],
                          THINGS[key[k] % N_THINGS], article(v), v);
            }
            tb_append(&b, "\n", 1);
            if (add_filler(tok, &f, d->gap, &b, err) != 0) {
                rc = -1;
                break;
            }
            if (d->gap > 0) tb_append(&b, "\n", 1);
            /* the questions, in a shuffled order */
            int order[RECALL_MAX_FACTS];
            for (int k = 0; k < o->facts; k++) order[k] = k;
            for (int k = o->facts - 1; k > 0; k--) {
                const int j = (int)(rng_next_u64(&r) % (uint64_t)(k + 1)), t = order[k];
                order[k] = order[j];
                order[j] = t;
            }
            for (int q = 0; q < o->facts; q++) {
                const int k = order[q];
                const char *v = VALUES[val[k]];
                tb_printf(&b, "Question: What is in the %s %s? Answer: %s", COLORS[key[k] / N_THINGS],
                          THINGS[key[k] % N_THINGS], article(v));
                d->answer[q][0] = b.len;
                tb_printf(&b, " %s", v);
                d->answer[q][1] = b.len;
                tb_append(&b, ".\n", 2);
            }
            d->n_answers = o->facts;
            d->end = b.len - 1; /* without the last newline */
            tb_append(&b, STORY_SEPARATOR "\n", STORY_SEPARATOR_LEN + 1);
        }
    free(f.owned);
    if (!rc && b.failed) rc = bitt_fail(err, "out of memory for the recall corpus");
    if (rc) {
        tb_free(&b);
        recall_corpus_free(out);
        return -1;
    }
    out->text = b.p;
    out->len = b.len;
    return 0;
}

void recall_corpus_free(RecallCorpus *c) {
    free(c->text);
    free(c->docs);
    memset(c, 0, sizeof *c);
}

int recall_key_write(const RecallCorpus *c, const char *tokenizer_fingerprint, const char *path, BittError *err) {
    JsonWriter w;
    jw_init(&w, 0);
    jw_begin_object(&w);
    jw_key(&w, "format"); jw_string(&w, "bitt-recall");
    jw_key(&w, "version"); jw_int(&w, 1);
    jw_key(&w, "tokenizer_fingerprint"); jw_string(&w, tokenizer_fingerprint);
    jw_key(&w, "facts"); jw_int(&w, c->facts);
    jw_key(&w, "documents");
    jw_begin_array(&w);
    for (size_t i = 0; i < c->n_docs; i++) {
        const RecallDoc *d = &c->docs[i];
        jw_begin_object(&w);
        jw_key(&w, "start"); jw_int(&w, (int64_t)d->start);
        jw_key(&w, "end"); jw_int(&w, (int64_t)d->end);
        jw_key(&w, "gap"); jw_int(&w, d->gap);
        jw_key(&w, "answers");
        jw_begin_array(&w);
        for (int a = 0; a < d->n_answers; a++) {
            jw_begin_array(&w);
            jw_int(&w, (int64_t)d->answer[a][0]);
            jw_int(&w, (int64_t)d->answer[a][1]);
            jw_end_array(&w);
        }
        jw_end_array(&w);
        jw_end_object(&w);
    }
    jw_end_array(&w);
    jw_end_object(&w);
    const int rc = jw_write_file(&w, path, err);
    jw_free(&w);
    return rc;
}

int recall_key_parse(const char *json, size_t json_len, const char *path, size_t text_len, RecallCorpus *out,
                     char fingerprint[17], BittError *err) {
    memset(out, 0, sizeof *out);
    JsonDoc *doc = json_parse(json, json_len, path, err);
    if (!doc) return -1;
    const JsonValue *root = json_doc_root(doc);
    const char *format = json_get_string(root, "format"), *fp = json_get_string(root, "tokenizer_fingerprint");
    const JsonValue *docs = json_get_typed(root, "documents", JSON_ARRAY);
    int64_t facts = 0;
    int rc = 0;
    if (!format || strcmp(format, "bitt-recall") != 0) {
        rc = bitt_fail(err, "%s: not a recall answer key (format is not \"bitt-recall\")", path);
    } else if (!fp || strlen(fp) != 16 || !docs || !json_get_int(root, "facts", 1, RECALL_MAX_FACTS, &facts)) {
        rc = bitt_fail(err, "%s: the key needs tokenizer_fingerprint, facts (1..%d) and documents", path,
                       RECALL_MAX_FACTS);
    } else {
        memcpy(fingerprint, fp, 17);
        out->facts = (int)facts;
        out->n_docs = docs->u.array.count;
        out->docs = calloc(out->n_docs ? out->n_docs : 1, sizeof *out->docs);
        if (!out->docs) rc = bitt_fail(err, "%s: out of memory", path);
        for (size_t i = 0; i < out->n_docs && !rc; i++) {
            const JsonValue *d = &docs->u.array.items[i];
            const JsonValue *ans = json_get_typed(d, "answers", JSON_ARRAY);
            RecallDoc *rd = &out->docs[i];
            int64_t s, e, g;
            if (!json_get_int(d, "start", 0, (int64_t)text_len, &s) || !json_get_int(d, "end", s, (int64_t)text_len, &e) ||
                !json_get_int(d, "gap", 0, RECALL_MAX_GAP, &g) || !ans || ans->u.array.count > RECALL_MAX_FACTS) {
                rc = bitt_fail(err, "%s: document %zu: bad start, end, gap or answers (the text has %zu bytes)", path, i,
                               text_len);
                break;
            }
            rd->start = (uint64_t)s;
            rd->end = (uint64_t)e;
            rd->gap = (int32_t)g;
            rd->n_answers = (int)ans->u.array.count;
            for (int a = 0; a < rd->n_answers && !rc; a++) {
                const JsonValue *p = &ans->u.array.items[a];
                const double *v0 = p->type == JSON_ARRAY && p->u.array.count == 2 &&
                                           p->u.array.items[0].type == JSON_NUMBER &&
                                           p->u.array.items[1].type == JSON_NUMBER
                                       ? &p->u.array.items[0].u.number
                                       : NULL;
                const double a0 = v0 ? v0[0] : -1, a1 = v0 ? p->u.array.items[1].u.number : -1;
                if (!v0 || !(a0 >= (double)s && a0 < a1 && a1 <= (double)e) || a0 != (double)(uint64_t)a0 ||
                    a1 != (double)(uint64_t)a1) {
                    /* before the conversions below, which are undefined for -1 or 1e300 (found by fuzz_recall_key) */
                    rc = bitt_fail(err, "%s: document %zu: answer %d is not a byte range inside the document", path, i,
                                   a);
                    break;
                }
                rd->answer[a][0] = (uint64_t)a0;
                rd->answer[a][1] = (uint64_t)a1;
            }
        }
    }
    json_doc_free(doc);
    if (rc) recall_corpus_free(out);
    return rc;
}

int recall_key_read(const char *path, size_t text_len, RecallCorpus *out, char fingerprint[17], BittError *err) {
    uint8_t *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    if (file_read_all(path, &buf, &len, err) != 0) return -1;
    int rc = recall_key_parse((const char *)buf, len, path, text_len, out, fingerprint, err);
    free(buf);
    return rc;
}
