/* bpe_train_words.c: the first half of BPE training: checking the
 * configuration, cutting text into stories and around special tokens,
 * pre-tokenizing it and counting each distinct word in a hash map (see
 * bpe_train.h). The merges are learned in bpe_train.c. */
#include <stdlib.h>
#include <string.h>

#include "bpe_train_internal.h"
#include "pretokenize.h"
#include "story_split.h"
#include "tokenizer_internal.h"
#include "utf8.h"
#include "../util/grow.h"

#define SHOW 40
#define SHOWN(len) ((int)((len) < SHOW ? (len) : SHOW))

static const char *const BASE_SPECIALS[3] = {"<unk>", "<s>", "</s>"};

/* 1 if s (UTF-8) is exactly one char of the byte-level alphabet, the
 * vocabulary string of a byte token. */
static int is_byte_token_string(const char *s, size_t len) {
    size_t used;
    uint32_t cp = utf8_decode((const unsigned char *)s, len, &used);
    return cp != UTF8_INVALID && used == len && tok_char_to_byte(cp) >= 0;
}

static int check_special(const char *s, size_t len, BittError *err) {
    if (len == 0) return bitt_fail(err, "tokenizer train: a special token is empty");
    if (memchr(s, '\0', len)) return bitt_fail(err, "tokenizer train: special token contains a NUL byte");
    if (len > 256) return bitt_fail(err, "tokenizer train: special token '%.*s...' is longer than 256 bytes", SHOW, s);
    if (is_byte_token_string(s, len))
        return bitt_fail(err, "tokenizer train: special token '%.*s' is the vocabulary string of a byte token",
                         SHOWN(len), s);
    return 0;
}

BpeTrainer *bpe_trainer_new(const BpeTrainConfig *cfg, BittError *err) {
    BpeTrainer *t;
    int n_all, i, j, min_vocab;
    if (cfg->n_special < 0 || cfg->n_special > 1000) {
        bitt_fail(err, "tokenizer train: %d extra special tokens: at most 1000 are allowed", cfg->n_special);
        return NULL;
    }
    min_vocab = 259 + cfg->n_special;
    if (cfg->vocab_size < min_vocab) {
        bitt_fail(err, "tokenizer train: vocab size %d is too small: it must be at least %d "
                  "(3 special tokens <unk> <s> </s>%s + 256 byte tokens)", cfg->vocab_size, min_vocab,
                  cfg->n_special ? " + the extra special tokens" : "");
        return NULL;
    }
    if (cfg->vocab_size > BPE_TRAIN_MAX_VOCAB) {
        bitt_fail(err, "tokenizer train: vocab size %d is too large (at most %d)", cfg->vocab_size,
                  BPE_TRAIN_MAX_VOCAB);
        return NULL;
    }
    n_all = 3 + cfg->n_special;
    if (!(t = calloc(1, sizeof *t)) || !(t->special = calloc((size_t)n_all, sizeof *t->special)) ||
        !(t->special_len = calloc((size_t)n_all, sizeof *t->special_len)) ||
        !(t->match_order = calloc((size_t)n_all, sizeof *t->match_order))) {
        bpe_trainer_free(t);
        bitt_fail(err, "tokenizer train: out of memory");
        return NULL;
    }
    t->vocab_size = cfg->vocab_size;
    t->min_frequency = cfg->min_frequency;
    t->progress = cfg->progress;
    t->progress_ctx = cfg->progress_ctx;
    t->n_special = n_all;
    for (i = 0; i < n_all; i++) {
        const char *s = i < 3 ? BASE_SPECIALS[i] : cfg->special[i - 3];
        size_t len = s ? strlen(s) : 0;
        if (check_special(s ? s : "", len, err)) goto fail;
        for (j = 0; j < i; j++)
            if (t->special_len[j] == len && memcmp(t->special[j], s, len) == 0) {
                bitt_fail(err, "tokenizer train: special token '%.*s' is given twice%s", SHOWN(len), s,
                          j < 3 ? " (<unk> <s> </s> are always there)" : "");
                goto fail;
            }
        if (!(t->special[i] = malloc(len + 1))) {
            bitt_fail(err, "tokenizer train: out of memory");
            goto fail;
        }
        memcpy(t->special[i], s, len + 1);
        t->special_len[i] = len;
        t->special_first[(unsigned char)s[0]] = 1;
        /* insertion into the match order: longest first, then by id */
        for (j = i; j > 0 && t->special_len[t->match_order[j - 1]] < len; j--)
            t->match_order[j] = t->match_order[j - 1];
        t->match_order[j] = i;
    }
    return t;
fail:
    bpe_trainer_free(t);
    return NULL;
}

void bpe_trainer_free(BpeTrainer *t) {
    int i;
    if (!t) return;
    for (i = 0; t->special && i < t->n_special; i++) free(t->special[i]);
    free(t->special);
    free(t->special_len);
    free(t->match_order);
    free(t->pool);
    free(t->words);
    free(t->slots);
    free(t);
}

size_t bpe_trainer_distinct_words(const BpeTrainer *t) { return t->n_words; }
uint64_t bpe_trainer_total_words(const BpeTrainer *t) { return t->total_words; }

/* ---- the word map ---- */

static int grow_slots(BpeTrainer *t) {
    size_t ncap = t->n_slots ? t->n_slots * 2 : 4096, i;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (i = 0; i < t->n_words; i++) {
        size_t k = t->words[i].hash & (ncap - 1);
        while (ns[k]) k = (k + 1) & (ncap - 1);
        ns[k] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = ns;
    t->n_slots = ncap;
    return 0;
}

static int count_word(BpeTrainer *t, const unsigned char *w, size_t len, BittError *err) {
    uint32_t h = tok_hash(w, len);
    size_t k;
    BpeWord *word;
    if (len > UINT32_MAX) return bitt_fail(err, "tokenizer train: a pre-token is longer than 4 GB");
    if ((t->n_words + 1) * 2 > t->n_slots && grow_slots(t)) goto oom;
    for (k = h & (t->n_slots - 1); t->slots[k]; k = (k + 1) & (t->n_slots - 1)) {
        word = &t->words[t->slots[k] - 1];
        if (word->hash == h && word->len == len && memcmp(t->pool + word->off, w, len) == 0) {
            word->count++;
            t->total_words++;
            return 0;
        }
    }
    if (t->n_words >= UINT32_MAX - 1) return bitt_fail(err, "tokenizer train: too many distinct words");
    if (grow_array(&t->words, &t->cap_words, t->n_words + 1, sizeof *t->words) != 0 ||
        grow_array(&t->pool, &t->pool_cap, t->pool_len + len, 1) != 0)
        goto oom;
    memcpy(t->pool + t->pool_len, w, len);
    word = &t->words[t->n_words];
    word->off = t->pool_len;
    word->len = (uint32_t)len;
    word->hash = h;
    word->count = 1;
    t->pool_len += len;
    t->slots[k] = (uint32_t)++t->n_words;
    t->total_words++;
    return 0;
oom:
    return bitt_fail(err, "tokenizer train: out of memory counting words (%zu distinct so far)", t->n_words);
}

/* Pre-tokenizes text that holds no special token and counts its words. */
static int count_plain(BpeTrainer *t, const unsigned char *s, size_t len, BittError *err) {
    size_t pos = 0;
    while (pos < len) {
        size_t n = pretok_piece_len((const char *)s, len, pos);
        if (count_word(t, s + pos, n, err)) return -1;
        pos += n;
    }
    return 0;
}

/* Splits one story around the special tokens it holds (leftmost, then
 * longest match, as the runtime's added-token matching does). */
static int count_story(BpeTrainer *t, const unsigned char *s, size_t len, BittError *err) {
    size_t i = 0, done = 0;
    while (i < len) {
        size_t match = 0;
        int k;
        if (t->special_first[s[i]])
            for (k = 0; k < t->n_special; k++) {
                int id = t->match_order[k];
                size_t sl = t->special_len[id];
                if (sl <= len - i && memcmp(s + i, t->special[id], sl) == 0) {
                    match = sl;
                    break;
                }
            }
        if (!match) {
            i++;
            continue;
        }
        if (count_plain(t, s + done, i - done, err)) return -1;
        i += match;
        done = i;
    }
    return count_plain(t, s + done, len - done, err);
}

int bpe_trainer_add_text(BpeTrainer *t, const char *text, size_t len, BittError *err) {
    size_t pos = 0, start, story_len;
    if (t->finished) return bitt_fail(err, "tokenizer train: text added after training finished");
    if (!text && len) return bitt_fail(err, "tokenizer train: text is NULL");
    while (story_next(text, len, &pos, &start, &story_len))
        if (count_story(t, (const unsigned char *)text + start, story_len, err)) return -1;
    return 0;
}
