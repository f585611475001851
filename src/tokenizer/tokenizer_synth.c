/* tokenizer_synth.c: tokenizer_make_synthetic(), a deterministic byte-level
 * BPE vocabulary of any size from 259 up to SYNTH_MAX_VOCAB, for
 * random-weight models and tests.
 *
 * Ids 0, 1, 2: <unk> <s> </s> (special added tokens, also in the vocab);
 * ids 3..258: the byte-level chars of bytes 0..255 in byte order; then one
 * merge (and one new token) per id, in stages over lower-case words built
 * from the letters in rough English frequency order "etaoinsh...":
 *   stage 1: "Ġ" + letter                    ("Ġe", "Ġt", ...)
 *   stage n (n = 2, 3, 4), first plain words of n letters ("e"+"e", ...,
 *   merged as the (n-1)-letter prefix + the last letter), then the same
 *   words with the "Ġ" prefix ("Ġe"+"e": prefix "Ġ"+(n-1) letters + last).
 * Within a stage words are ordered by the sum of their letters' frequency
 * ranks, then lexicographically by rank, so common pairs come first. */
#include <stdio.h>
#include <string.h>

#include "tokenizer_internal.h"

#define LETTERS "etaoinshrdlcumwfgypbvkjxqz"
#define NL 26
#define MAX_LEN 4
#define GSPACE "\xC4\xA0" /* U+0120, the byte-level char of ' ' */
/* 259 + 26 + 2 * (26^2 + 26^3 + 26^4) */
#define SYNTH_MAX_VOCAB (259 + NL + 2 * (NL * NL + NL * NL * NL + NL * NL * NL * NL))

typedef struct Synth {
    Tokenizer *tok;
    int target, next_id;
    BittError *err;
} Synth;

/* Adds the token left+right (both already in the vocab) and its merge. */
static int add_pair(Synth *s, const char *left, size_t llen, const char *right, size_t rlen) {
    char buf[32];
    memcpy(buf, left, llen);
    memcpy(buf + llen, right, rlen);
    if (tok_add_vocab(s->tok, buf, llen + rlen, s->next_id, s->err) ||
        tok_add_merge(s->tok, left, llen, right, rlen, "synthetic merge", s->err))
        return -1;
    s->next_id++;
    return 0;
}

/* Adds the words of n letters (ranks idx[0..n)) whose rank sum is `left`
 * more than the ranks fixed so far, with or without the Ġ prefix.
 * Returns 1 when the target size is reached, -1 on error, else 0. */
static int words(Synth *s, int *idx, int k, int n, int left, int spaced) {
    int lo, hi, i;
    if (s->next_id >= s->target) return 1;
    if (k == n) {
        char w[2 + MAX_LEN];
        size_t p = 0;
        int j;
        if (spaced) {
            memcpy(w, GSPACE, 2);
            p = 2;
        }
        for (j = 0; j < n; j++) w[p + (size_t)j] = LETTERS[idx[j]];
        return add_pair(s, w, p + (size_t)n - 1, w + p + n - 1, 1) ? -1 : 0;
    }
    lo = left - (NL - 1) * (n - k - 1);
    if (lo < 0) lo = 0;
    hi = left < NL - 1 ? left : NL - 1;
    for (i = lo; i <= hi; i++) {
        int rc;
        idx[k] = i;
        if ((rc = words(s, idx, k + 1, n, left - i, spaced)) != 0) return rc;
    }
    return 0;
}

static int stage(Synth *s, int n, int spaced) {
    int idx[MAX_LEN], sum, rc;
    for (sum = 0; sum <= (NL - 1) * n; sum++)
        if ((rc = words(s, idx, 0, n, sum, spaced)) != 0) return rc;
    return 0;
}

Tokenizer *tokenizer_make_synthetic(int vocab_size, BittError *err) {
    static const char *const specials[3] = {"<unk>", "<s>", "</s>"};
    Tokenizer *tok;
    Synth s;
    AddedTok flags;
    int i, n, rc = 0;
    if (vocab_size < 259 || vocab_size > SYNTH_MAX_VOCAB) {
        bitt_fail(err, "synthetic tokenizer: vocab size %d is out of range: it must be 259..%d "
                  "(3 special tokens + 256 byte tokens + merges)", vocab_size, SYNTH_MAX_VOCAB);
        return NULL;
    }
    if (!(tok = tok_new("synthetic tokenizer", err))) return NULL;
    memset(&flags, 0, sizeof flags);
    flags.special = 1;
    for (i = 0; i < 3; i++)
        if (tok_add_vocab(tok, specials[i], strlen(specials[i]), i, err)) goto fail;
    for (i = 0; i < 256; i++) {
        char c[4];
        size_t len = 0;
        uint32_t cp = tok_byte_to_char((unsigned char)i);
        if (cp < 0x80) {
            c[len++] = (char)cp;
        } else {
            c[len++] = (char)(0xC0 | (cp >> 6));
            c[len++] = (char)(0x80 | (cp & 0x3F));
        }
        if (tok_add_vocab(tok, c, len, 3 + i, err)) goto fail;
    }
    for (i = 0; i < 3; i++)
        if (tok_add_added(tok, specials[i], strlen(specials[i]), i, &flags, err)) goto fail;
    if (tok_set_unk(tok, "<unk>", err)) goto fail;
    s.tok = tok;
    s.target = vocab_size;
    s.next_id = 259;
    s.err = err;
    for (i = 0; i < NL && s.next_id < s.target; i++)
        if (add_pair(&s, GSPACE, 2, &LETTERS[i], 1)) goto fail;
    for (n = 2; n <= MAX_LEN && rc == 0; n++) {
        rc = stage(&s, n, 0);
        if (rc == 0) rc = stage(&s, n, 1);
    }
    if (rc < 0) goto fail;
    if (s.next_id != vocab_size) {
        bitt_fail(err, "synthetic tokenizer: made %d ids, not %d", s.next_id, vocab_size);
        goto fail;
    }
    if (tok_finish(tok, err)) goto fail;
    return tok;
fail:
    tokenizer_free(tok);
    return NULL;
}
