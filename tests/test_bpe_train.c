/* test_bpe_train.c: tests of BPE training (tokenizer/bpe_train.h): merge
 * order on tiny corpora worked out by hand (count first, ties to the
 * smaller ids in Hugging Face's order), byte ids in GPT-2 order,
 * --min-frequency, special tokens (their ids, never merged, text split
 * around them), `<|endoftext|>` only a separator, determinism (same file
 * whatever the story order or how the text is fed), the requested vocab
 * size reached while pairs remain, refusals (vocab < 259, empty input, bad
 * special tokens) and decode(encode(x)) == x for random bytes with trained
 * tokenizers. Every text is made here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/story_gen.h"
#include "formats/json.h"
#include "sampling/rng.h"
#include "tokenizer/bpe_train.h"
#include "tokenizer/story_split.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

/* ---- helpers ---- */

/* Trains on one text; NULL (err filled) on error. */
static Tokenizer *train_n(const char *const *texts, const size_t *lens, int n_texts, int vocab, uint64_t min_freq,
                          const char *const *special, int n_special, BittError *err) {
    BpeTrainConfig cfg;
    BpeTrainer *t;
    Tokenizer *tok = NULL;
    int i;
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = vocab;
    cfg.min_frequency = min_freq;
    cfg.special = special;
    cfg.n_special = n_special;
    if (!(t = bpe_trainer_new(&cfg, err))) return NULL;
    for (i = 0; i < n_texts; i++)
        if (bpe_trainer_add_text(t, texts[i], lens[i], err)) goto done;
    tok = bpe_trainer_finish(t, err);
done:
    bpe_trainer_free(t);
    return tok;
}

static Tokenizer *train(const char *text, int vocab, uint64_t min_freq, BittError *err) {
    size_t len = strlen(text);
    return train_n(&text, &len, 1, vocab, min_freq, NULL, 0, err);
}

/* The tokenizer.json text (malloc'd). */
static char *json_of(const Tokenizer *tok) {
    JsonWriter w;
    char *out = NULL;
    const char *s;
    jw_init(&w, 0);
    tokenizer_write_json(tok, &w);
    if ((s = jw_text(&w)) != NULL && (out = malloc(strlen(s) + 1)) != NULL) memcpy(out, s, strlen(s) + 1);
    jw_free(&w);
    return out;
}

/* The merges as "left right" strings joined by '|' (vocabulary strings:
 * 'Ġ' is a space), from the tokenizer.json the tokenizer writes. */
static const char *merges_of(const Tokenizer *tok) {
    static char buf[8192];
    char *text = json_of(tok);
    BittError err;
    JsonDoc *doc = text ? json_parse(text, strlen(text), "trained", &err) : NULL;
    const JsonValue *m = doc ? json_get(json_get(json_doc_root(doc), "model"), "merges") : NULL;
    size_t i, at = 0;
    buf[0] = '\0';
    for (i = 0; m && m->type == JSON_ARRAY && i < m->u.array.count; i++) {
        const JsonValue *e = &m->u.array.items[i];
        char one[256];
        if (e->type == JSON_STRING)
            snprintf(one, sizeof one, "%s", e->u.string.ptr);
        else if (e->type == JSON_ARRAY && e->u.array.count == 2)
            snprintf(one, sizeof one, "%s %s", e->u.array.items[0].u.string.ptr, e->u.array.items[1].u.string.ptr);
        else
            snprintf(one, sizeof one, "?");
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", i ? "|" : "", one);
        if (at >= sizeof buf) break;
    }
    json_doc_free(doc);
    free(text);
    return buf;
}

static int round_trips(const Tokenizer *tok, const char *text, size_t len) {
    int32_t *ids = NULL;
    size_t n = 0, out_len = 0, i;
    char *out = NULL;
    BittError err;
    int ok;
    if (tokenizer_encode(tok, text, len, &ids, &n, &err)) return 0;
    for (i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= tokenizer_vocab_size(tok)) {
            free(ids);
            return 0;
        }
    if (tokenizer_decode(tok, ids, n, 0, &out, &out_len, &err)) {
        free(ids);
        return 0;
    }
    ok = out_len == len && memcmp(out, text, len) == 0;
    free(ids);
    free(out);
    return ok;
}

/* Number of ids for text (-1 on error). */
static long n_ids(const Tokenizer *tok, const char *text) {
    int32_t *ids = NULL;
    size_t n = 0;
    BittError err;
    if (tokenizer_encode(tok, text, strlen(text), &ids, &n, &err)) return -1;
    free(ids);
    return (long)n;
}

/* ---- hand-checked merge order ---- */

/* Sennrich et al.'s example. Words (the "\n" between them are words of one
 * byte, without pairs): low x5, lower x2, newest x6, widest x3. Pair counts:
 * e s 9, s t 9, w e 8, l o 7, o w 7, n e 6, e w 6, w i 3, i d 3, d e 3, e r 2.
 *  1. e s (9; ties with s t, 'e' < 's'): newest = n e w es t, widest = w i d es t;
 *     w e drops to 2, s t to 0, es t 9, w es 6, d es 3
 *  2. es t (9)                    -> "est"; w est 6, d est 3
 *  3. l o (7; ties with o w, 'l' < 'o') -> lo w, lo w e r; lo w 7
 *  4. lo w (7)                    -> "low"; w e 0, low e 2
 *  5. e w (6; ties with n e and w est: left 'e' < 'n' < 'w') -> n ew est
 *  6. n ew (6; ties with ew est: 'n' is older than "ew") -> new est
 *  7. new est (6)                 -> "newest"
 *  8. d est (3; ties with w i, i d: 'd' < 'i' < 'w') -> w i dest
 *  9. i dest (3; ties with w i: 'i' < 'w') -> w idest
 * 10. w idest (3)                 -> "widest"
 * 11. e r (2; ties with low e: the byte 'e' is older than "low") -> low er
 * 12. low er (2)                  -> "lower"; no pair left. */
static const char *SENNRICH = "low\nlow\nlow\nlow\nlow\nlower\nlower\nnewest\nnewest\nnewest\nnewest\nnewest\n"
                              "newest\nwidest\nwidest\nwidest";
static const char *SENNRICH_MERGES = "e s|es t|l o|lo w|e w|n ew|new est|d est|i dest|w idest|e r|low er";

static void test_hand_checked_merges(void) {
    BittError err;
    Tokenizer *tok = train(SENNRICH, 1000, 0, &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (!tok) return;
    CHECK_MSG(strcmp(merges_of(tok), SENNRICH_MERGES) == 0, "merges %s", merges_of(tok));
    /* all merges done: 259 + 12 ids, fewer than asked for */
    CHECK(tokenizer_vocab_size(tok) == 259 + 12);
    /* the new tokens' ids follow the merges */
    CHECK(tokenizer_token_id(tok, "es") == 259 && tokenizer_token_id(tok, "lower") == 270);
    /* each training word is now one token */
    CHECK(n_ids(tok, "newest") == 1 && n_ids(tok, "widest") == 1 && n_ids(tok, "lower") == 1);
    CHECK(n_ids(tok, "lowest") == 2); /* low + est */
    tokenizer_free(tok);

    /* The byte tokens' order decides ties between bytes: words "ab" and " ac"
     * (x1 each) hold a b 1, Ġ a 1, a c 1. In Hugging Face's (GPT-2's) order
     * 'a' (U+0061) comes before 'Ġ' (the space, U+0120), so:
     *  1. a b (left 'a'; right 'b' < 'c')   2. a c ('a' < 'Ġ')  -> Ġ ac
     *  3. Ġ ac. Byte order (space 0x20 < 'a') would start with Ġ a. */
    tok = train("ab ac", 1000, 0, &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (tok) {
        CHECK_MSG(strcmp(merges_of(tok), "a b|a c|\xc4\xa0 ac") == 0, "merges %s", merges_of(tok));
        tokenizer_free(tok);
    }

    /* Overlapping pairs: "aaaa" x1 and "aaa" x2 (words of "aaaa\naaa\naaa").
     * a a occurs 3 + 2*2 = 7 times; merged left to right, aaaa = aa aa and
     * aaa = aa a: aa aa 1, aa a 2.
     *  1. a a (7)   2. aa a (2)   3. aa aa (1) */
    tok = train("aaaa\naaa\naaa", 1000, 0, &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (tok) {
        CHECK_MSG(strcmp(merges_of(tok), "a a|aa a|aa aa") == 0, "merges %s", merges_of(tok));
        tokenizer_free(tok);
    }

    /* Merges stop at the vocab size: 259 + 4 ids are the first 4 merges. */
    tok = train(SENNRICH, 263, 0, &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (tok) {
        CHECK_MSG(strcmp(merges_of(tok), "e s|es t|l o|lo w") == 0, "merges %s", merges_of(tok));
        CHECK(tokenizer_vocab_size(tok) == 263);
        tokenizer_free(tok);
    }
}

/* Byte ids: <unk> <s> </s>, then the 256 bytes in the order of GPT-2's
 * vocabulary (its ids + 3). */
static void test_byte_ids(void) {
    BittError err;
    Tokenizer *tok = train("hello world", 300, 0, &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (!tok) return;
    CHECK(tokenizer_token_id(tok, "<unk>") == 0 && tokenizer_token_id(tok, "<s>") == 1 &&
          tokenizer_token_id(tok, "</s>") == 2);
    CHECK(tokenizer_token_id(tok, "!") == 3);             /* GPT-2 id 0 */
    CHECK(tokenizer_token_id(tok, "a") == 3 + 64);        /* GPT-2 id 64 */
    CHECK(tokenizer_token_id(tok, "~") == 3 + 93);        /* the last printable ASCII byte */
    CHECK(tokenizer_token_id(tok, "\xc2\xa1") == 3 + 94); /* byte 0xA1 is U+00A1 */
    CHECK(tokenizer_token_id(tok, "\xc4\x80") == 3 + 188); /* byte 0 is U+0100 */
    CHECK(tokenizer_token_id(tok, "\xc4\xa0") == 3 + 220); /* the space 'Ġ', GPT-2 id 220 */
    CHECK(tokenizer_token_id(tok, "\xc5\x83") == 3 + 255); /* byte 0xAD is U+0143, the last */
    tokenizer_free(tok);
}

static void test_min_frequency(void) {
    BittError err;
    Tokenizer *tok;
    /* from the Sennrich merges: counts 9 9 7 7 6 6 6 3 3 3 2 2 */
    static const struct {
        uint64_t min;
        const char *merges;
    } cases[] = {
        {0, "e s|es t|l o|lo w|e w|n ew|new est|d est|i dest|w idest|e r|low er"},
        {1, "e s|es t|l o|lo w|e w|n ew|new est|d est|i dest|w idest|e r|low er"},
        {3, "e s|es t|l o|lo w|e w|n ew|new est|d est|i dest|w idest"},
        {7, "e s|es t|l o|lo w"},
        {9, "e s|es t"},
        {10, ""},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        tok = train(SENNRICH, 1000, cases[i].min, &err);
        CHECK_MSG(tok != NULL, "%s", err.message);
        if (!tok) continue;
        CHECK_MSG(strcmp(merges_of(tok), cases[i].merges) == 0, "min %d: merges %s", (int)cases[i].min,
                  merges_of(tok));
        tokenizer_free(tok);
    }
    CHECK(BPE_TRAIN_DEFAULT_MIN_FREQUENCY == 0);
}

/* ---- separators and special tokens ---- */

static void test_separator_and_specials(void) {
    BittError err;
    Tokenizer *tok;
    const char *specials[2] = {"<mask>", "<pad>"};
    const char *text;
    size_t len;
    int32_t id, n;
    /* <|endoftext|> only separates: the words are "ab" x3, nothing of the separator */
    tok = train("ab<|endoftext|>ab\n<|endoftext|>\nab\n<|endoftext|>", 1000, 0, &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (tok) {
        CHECK_MSG(strcmp(merges_of(tok), "a b") == 0, "merges %s", merges_of(tok));
        tokenizer_free(tok);
    }
    /* <s> </s> <unk> in the text are cut out: "x<s>yz</s>yz<unk>" gives x, yz, yz */
    tok = train("x<s>yz</s>yz<unk>", 1000, 0, &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (tok) {
        CHECK_MSG(strcmp(merges_of(tok), "y z") == 0, "merges %s", merges_of(tok));
        tokenizer_free(tok);
    }
    /* extra special tokens: ids 3 and 4, bytes after them, special, never merged */
    text = "ab<mask>ab<pad>ab<mask><mask>";
    len = strlen(text);
    tok = train_n(&text, &len, 1, 1000, 0, specials, 2, &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (tok) {
        CHECK(tokenizer_token_id(tok, "<mask>") == 3 && tokenizer_token_id(tok, "<pad>") == 4);
        CHECK(tokenizer_is_special(tok, 3) && tokenizer_is_special(tok, 4) && tokenizer_is_special(tok, 2));
        CHECK(tokenizer_token_id(tok, "!") == 5 && tokenizer_vocab_size(tok) == 2 + 259 + 1);
        CHECK_MSG(strcmp(merges_of(tok), "a b") == 0, "merges %s", merges_of(tok));
        n = (int32_t)n_ids(tok, "ab<mask>");
        CHECK(n == 2);
        id = tokenizer_token_id(tok, "ab");
        CHECK(id == 2 + 259);
        tokenizer_free(tok);
    }
    /* a large corpus: no token holds any part of the separator */
    {
        char *corpus;
        size_t clen;
        int32_t i;
        int clean = 1;
        CHECK(story_corpus_make(7, 200, &corpus, &clen, &err) == 0);
        tok = train_n((const char *const *)&corpus, &clen, 1, 100000, 0, NULL, 0, &err);
        CHECK_MSG(tok != NULL, "%s", err.message);
        for (i = 0; tok && i < tokenizer_vocab_size(tok); i++) {
            size_t blen;
            const char *b = tokenizer_token_bytes(tok, i, &blen);
            char s[512];
            if (i < 3 || !b || blen >= sizeof s) continue;
            memcpy(s, b, blen);
            s[blen] = '\0';
            if (strstr(s, "<|") || strstr(s, "|>") || strstr(s, "endoftext")) {
                fprintf(stderr, "token %d '%s' holds part of the separator\n", (int)i, s);
                clean = 0;
            }
        }
        CHECK(tok && clean && tokenizer_vocab_size(tok) > 600);
        tokenizer_free(tok);
        free(corpus);
    }
}

/* ---- determinism and the requested size ---- */

static void test_determinism(void) {
    BittError err;
    char *corpus, *rev, *a = NULL, *b = NULL;
    size_t clen, pos = 0, start, slen, rlen = 0, n_stories = 0, i;
    size_t starts[400], lens[400];
    const char *pieces[400];
    Tokenizer *tok;
    CHECK(story_corpus_make(3, 300, &corpus, &clen, &err) == 0);
    while (story_next(corpus, clen, &pos, &start, &slen) && n_stories < 400) {
        starts[n_stories] = start;
        lens[n_stories++] = slen;
    }
    CHECK(n_stories == 300);
    /* the same stories in reverse order, one text */
    rev = malloc(clen + 32 * n_stories);
    for (i = n_stories; rev && i-- > 0;) {
        memcpy(rev + rlen, corpus + starts[i], lens[i]);
        rlen += lens[i];
        memcpy(rev + rlen, "\n<|endoftext|>\n", 15);
        rlen += 15;
    }
    /* first run, second run, reversed stories, one add_text call per story */
    tok = train_n((const char *const *)&corpus, &clen, 1, 700, 0, NULL, 0, &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (tok) {
        a = json_of(tok);
        CHECK(tokenizer_vocab_size(tok) == 700); /* pairs remain: the size asked for */
        tokenizer_free(tok);
    }
    tok = train_n((const char *const *)&corpus, &clen, 1, 700, 0, NULL, 0, &err);
    b = tok ? json_of(tok) : NULL;
    CHECK(a && b && strcmp(a, b) == 0);
    free(b);
    tokenizer_free(tok);
    tok = rev ? train_n((const char *const *)&rev, &rlen, 1, 700, 0, NULL, 0, &err) : NULL;
    b = tok ? json_of(tok) : NULL;
    CHECK_MSG(a && b && strcmp(a, b) == 0, "stories in another order give another tokenizer");
    free(b);
    tokenizer_free(tok);
    for (i = 0; i < n_stories; i++) pieces[i] = corpus + starts[i];
    tok = train_n(pieces, lens, (int)n_stories, 700, 0, NULL, 0, &err);
    b = tok ? json_of(tok) : NULL;
    CHECK_MSG(a && b && strcmp(a, b) == 0, "feeding story by story gives another tokenizer");
    free(b);
    tokenizer_free(tok);
    free(a);
    free(rev);
    free(corpus);
}

/* ---- round trips ---- */

static void test_round_trip_random_bytes(void) {
    BittError err;
    BittRng rng;
    char *corpus, buf[600];
    size_t clen;
    int k, ok = 1, i;
    Tokenizer *toks[2];
    /* a tokenizer from stories, and one from random bytes (invalid UTF-8) */
    CHECK(story_corpus_make(11, 200, &corpus, &clen, &err) == 0);
    toks[0] = train_n((const char *const *)&corpus, &clen, 1, 1000, 0, NULL, 0, &err);
    CHECK_MSG(toks[0] != NULL, "%s", err.message);
    rng_seed(&rng, 99);
    for (i = 0; i < (int)sizeof buf; i++) buf[i] = (char)(rng_next_u64(&rng) >> 56);
    {
        const char *t = buf;
        size_t n = sizeof buf;
        toks[1] = train_n(&t, &n, 1, 400, 0, NULL, 0, &err);
        CHECK_MSG(toks[1] != NULL, "%s", err.message);
    }
    for (k = 0; k < 2; k++) {
        if (!toks[k]) continue;
        CHECK(round_trips(toks[k], corpus, clen));
        for (i = 0; i < 300; i++) {
            size_t n = (size_t)(rng_next_u64(&rng) % sizeof buf), j;
            int mode = i % 3;
            for (j = 0; j < n; j++) {
                uint64_t r = rng_next_u64(&rng);
                /* all bytes; mostly ASCII letters and spaces; pieces of stories */
                buf[j] = mode == 0   ? (char)(r >> 56)
                         : mode == 1 ? " aeiouxyz\n\t.!'"[(r >> 33) % 15]
                                     : corpus[(r >> 20) % clen];
            }
            if (!round_trips(toks[k], buf, n)) {
                fprintf(stderr, "tokenizer %d: random text %d (%zu bytes) does not round-trip\n", k, i, n);
                ok = 0;
            }
        }
        tokenizer_free(toks[k]);
    }
    CHECK(ok);
    free(corpus);
}

/* ---- refusals ---- */

static void test_refusals(void) {
    BittError err;
    BpeTrainConfig cfg;
    BpeTrainer *t;
    const char *one[1] = {"<mask>"};
    const char *bad[1];
    Tokenizer *tok;
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = 258;
    CHECK(bpe_trainer_new(&cfg, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "at least 259");
    cfg.vocab_size = 259;
    t = bpe_trainer_new(&cfg, &err);
    CHECK(t != NULL);
    bpe_trainer_free(t);
    /* the smallest vocab: no merges at all */
    tok = train("ab ab ab", 259, 0, &err);
    CHECK(tok && tokenizer_vocab_size(tok) == 259 && strcmp(merges_of(tok), "") == 0);
    tokenizer_free(tok);
    cfg.special = one;
    cfg.n_special = 1;
    CHECK(bpe_trainer_new(&cfg, &err) == NULL); /* 259 + 1 special needed */
    CHECK_ERR_CONTAINS(&err, "at least 260");
    cfg.vocab_size = BPE_TRAIN_MAX_VOCAB + 1;
    CHECK(bpe_trainer_new(&cfg, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "too large");
    cfg.vocab_size = 1000;
    bad[0] = "<s>";
    cfg.special = bad;
    CHECK(bpe_trainer_new(&cfg, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "twice");
    bad[0] = "a"; /* the string of a byte token */
    CHECK(bpe_trainer_new(&cfg, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "byte token");
    bad[0] = "";
    CHECK(bpe_trainer_new(&cfg, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "empty");
    /* no text, or nothing but separators and special tokens */
    tok = train("", 1000, 0, &err);
    CHECK(tok == NULL);
    CHECK_ERR_CONTAINS(&err, "no text");
    tok = train("\n<|endoftext|>\n<|endoftext|><s></s>", 1000, 0, &err);
    CHECK(tok == NULL);
    CHECK_ERR_CONTAINS(&err, "no text");
    /* finish twice, text after finish */
    cfg.special = NULL;
    cfg.n_special = 0;
    t = bpe_trainer_new(&cfg, &err);
    if (t) {
        CHECK(bpe_trainer_add_text(t, "abc", 3, &err) == 0);
        tok = bpe_trainer_finish(t, &err);
        CHECK(tok != NULL);
        tokenizer_free(tok);
        CHECK(bpe_trainer_finish(t, &err) == NULL);
        CHECK(bpe_trainer_add_text(t, "abc", 3, &err) != 0);
        bpe_trainer_free(t);
    }
}

int main(void) {
    test_hand_checked_merges();
    test_byte_ids();
    test_min_frequency();
    test_separator_and_specials();
    test_determinism();
    test_round_trip_random_bytes();
    test_refusals();
    return test_main_end("test_bpe_train");
}
