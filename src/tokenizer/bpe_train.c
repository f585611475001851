/* bpe_train.c: the second half of BPE training: learning the merges from
 * the counted words with incrementally updated pair counts, an index from
 * each pair to the words holding it and a lazy max-heap, then building the
 * Tokenizer (see bpe_train.h for the rules). */
#include <stdlib.h>
#include <string.h>

#include "bpe_train_internal.h"
#include "tokenizer_internal.h"
#include "utf8.h"
#include "../util/grow.h"

/* An adjacent pair of token ids, its count over all words and the words
 * that hold (or once held) it; duplicates are avoided, stale entries are
 * skipped when the pair is merged. */
typedef struct Pair {
    int32_t left, right;
    int64_t count;
    uint32_t *words;
    uint32_t n_words, cap_words;
    uint8_t touched; /* its count went up in this step */
    uint8_t blocked; /* merging it would make a special token's string */
} Pair;

typedef struct HeapEntry {
    int64_t count;
    uint32_t pair;
} HeapEntry;

/* The bytes of every token id (specials have none) and a map from bytes to id. */
typedef struct TokenTable {
    unsigned char *bytes;
    size_t bytes_len, bytes_cap;
    uint64_t *off; /* n + 1 offsets */
    size_t n, cap;
    uint32_t *slots; /* id + 1, 0 = empty */
    size_t n_slots;
} TokenTable;

typedef struct Train {
    BpeTrainer *t;
    TokenTable tokens;
    Pair *pairs;
    size_t n_pairs, cap_pairs;
    uint64_t *pair_keys; /* open addressing: (left << 32 | right) */
    uint32_t *pair_slot; /* pair index + 1, 0 = empty */
    size_t n_pair_slots;
    HeapEntry *heap;
    size_t n_heap, cap_heap;
    int32_t *sym;      /* the symbols of every word, word w at sym_off[w] */
    uint64_t *sym_off;
    uint32_t *sym_len;
    uint32_t *seen_step; /* last merge step that visited each word, + 1 */
    uint32_t *touched;   /* pairs whose count went up in this step */
    size_t n_touched, cap_touched;
    int32_t *merges; /* 2 ids per merge */
    size_t n_merges, cap_merges;
    int32_t n_ids;   /* ids so far */
    int32_t byte_id[256]; /* the id of each byte's token */
    unsigned char **special_bytes; /* see find_special_bytes */
    size_t *special_bytes_len;
} Train;


/* ---- token table ---- */

static const unsigned char *token_bytes(const Train *tr, int32_t id, size_t *len) {
    *len = (size_t)(tr->tokens.off[id + 1] - tr->tokens.off[id]);
    return tr->tokens.bytes + tr->tokens.off[id];
}

static int token_slots_grow(TokenTable *tt) {
    size_t ncap = tt->n_slots ? tt->n_slots * 2 : 1024, i;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (i = 0; i < tt->n; i++) {
        size_t len = (size_t)(tt->off[i + 1] - tt->off[i]), k;
        if (len == 0) continue;
        for (k = tok_hash(tt->bytes + tt->off[i], len) & (ncap - 1); ns[k]; k = (k + 1) & (ncap - 1)) {
        }
        ns[k] = (uint32_t)i + 1;
    }
    free(tt->slots);
    tt->slots = ns;
    tt->n_slots = ncap;
    return 0;
}

/* Id of the token with these bytes, or -1. */
static int32_t token_find(const TokenTable *tt, const unsigned char *b, size_t len) {
    size_t k;
    for (k = tok_hash(b, len) & (tt->n_slots - 1); tt->slots[k]; k = (k + 1) & (tt->n_slots - 1)) {
        uint32_t id = tt->slots[k] - 1;
        if (tt->off[id + 1] - tt->off[id] == len && memcmp(tt->bytes + tt->off[id], b, len) == 0)
            return (int32_t)id;
    }
    return -1;
}

/* Appends a token (len 0: a special token, not in the byte map). */
static int token_add(TokenTable *tt, const unsigned char *b, size_t len) {
    if (grow_array(&tt->off, &tt->cap, tt->n + 2, sizeof *tt->off) ||
        grow_array(&tt->bytes, &tt->bytes_cap, tt->bytes_len + len, 1))
        return -1;
    if (tt->n == 0) tt->off[0] = 0;
    if (len) memcpy(tt->bytes + tt->bytes_len, b, len);
    tt->bytes_len += len;
    tt->off[++tt->n] = tt->bytes_len;
    if (len) {
        size_t k;
        if ((tt->n + 1) * 2 > tt->n_slots && token_slots_grow(tt)) return -1;
        for (k = tok_hash(b, len) & (tt->n_slots - 1); tt->slots[k]; k = (k + 1) & (tt->n_slots - 1)) {
        }
        tt->slots[k] = (uint32_t)tt->n;
    }
    return 0;
}

/* ---- pairs ---- */

static uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

static size_t key_slot(uint64_t key, size_t n_slots) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (n_slots - 1);
}

static int pair_slots_grow(Train *tr) {
    size_t ncap = tr->n_pair_slots ? tr->n_pair_slots * 2 : 65536, i;
    uint64_t *nk = malloc(ncap * sizeof *nk);
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!nk || !ns) {
        free(nk);
        free(ns);
        return -1;
    }
    for (i = 0; i < tr->n_pairs; i++) {
        uint64_t key = pair_key(tr->pairs[i].left, tr->pairs[i].right);
        size_t k = key_slot(key, ncap);
        while (ns[k]) k = (k + 1) & (ncap - 1);
        nk[k] = key;
        ns[k] = (uint32_t)i + 1;
    }
    free(tr->pair_keys);
    free(tr->pair_slot);
    tr->pair_keys = nk;
    tr->pair_slot = ns;
    tr->n_pair_slots = ncap;
    return 0;
}

/* Index of the pair (a, b), created with count 0 if new; -1: out of memory. */
static int64_t pair_get(Train *tr, int32_t a, int32_t b) {
    uint64_t key = pair_key(a, b);
    size_t k;
    Pair *p;
    if ((tr->n_pairs + 1) * 2 > tr->n_pair_slots && pair_slots_grow(tr)) return -1;
    for (k = key_slot(key, tr->n_pair_slots); tr->pair_slot[k]; k = (k + 1) & (tr->n_pair_slots - 1))
        if (tr->pair_keys[k] == key) return tr->pair_slot[k] - 1;
    if (tr->n_pairs >= UINT32_MAX - 1 || grow_array(&tr->pairs, &tr->cap_pairs, tr->n_pairs + 1, sizeof *tr->pairs))
        return -1;
    p = &tr->pairs[tr->n_pairs];
    memset(p, 0, sizeof *p);
    p->left = a;
    p->right = b;
    tr->pair_keys[k] = key;
    tr->pair_slot[k] = (uint32_t)++tr->n_pairs;
    return (int64_t)tr->n_pairs - 1;
}

/* Adds count occurrences of (a, b) in word w. */
static int pair_add(Train *tr, int32_t a, int32_t b, uint32_t w, int64_t count) {
    int64_t i = pair_get(tr, a, b);
    Pair *p;
    if (i < 0) return -1;
    p = &tr->pairs[i];
    p->count += count;
    if (p->n_words == 0 || p->words[p->n_words - 1] != w) {
        if (p->n_words == p->cap_words) {
            uint32_t cap = p->cap_words ? p->cap_words * 2 : 4;
            uint32_t *nw = realloc(p->words, (size_t)cap * sizeof *nw);
            if (!nw) return -1;
            p->words = nw;
            p->cap_words = cap;
        }
        p->words[p->n_words++] = w;
    }
    if (!p->touched) {
        if (grow_array(&tr->touched, &tr->cap_touched, tr->n_touched + 1, sizeof *tr->touched)) return -1;
        p->touched = 1;
        tr->touched[tr->n_touched++] = (uint32_t)i;
    }
    return 0;
}

/* Removes count occurrences of (a, b) (the pair exists). */
static void pair_remove(Train *tr, int32_t a, int32_t b, int64_t count) {
    uint64_t key = pair_key(a, b);
    size_t k;
    for (k = key_slot(key, tr->n_pair_slots); tr->pair_slot[k]; k = (k + 1) & (tr->n_pair_slots - 1))
        if (tr->pair_keys[k] == key) {
            tr->pairs[tr->pair_slot[k] - 1].count -= count;
            return;
        }
}

/* ---- the heap: highest count first, ties to the smaller (left, right) ids ---- */

/* 1 if entry x comes before entry y. Ids are those of Hugging Face's
 * trainer (bpe_train.h), so this is its order: count, then pair ids. */
static int heap_before(const Train *tr, const HeapEntry *x, const HeapEntry *y) {
    const Pair *px, *py;
    if (x->count != y->count) return x->count > y->count;
    px = &tr->pairs[x->pair];
    py = &tr->pairs[y->pair];
    if (px->left != py->left) return px->left < py->left;
    return px->right < py->right;
}

static void sift_down(Train *tr, size_t i) {
    HeapEntry *h = tr->heap, e = h[i];
    size_t n = tr->n_heap;
    for (;;) {
        size_t l = 2 * i + 1, c;
        if (l >= n) break;
        c = (l + 1 < n && heap_before(tr, &h[l + 1], &h[l])) ? l + 1 : l;
        if (!heap_before(tr, &h[c], &e)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = e;
}

static int heap_push(Train *tr, int64_t count, uint32_t pair) {
    HeapEntry e = {count, pair};
    size_t i;
    if (grow_array(&tr->heap, &tr->cap_heap, tr->n_heap + 1, sizeof *tr->heap)) return -1;
    i = tr->n_heap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_before(tr, &e, &tr->heap[parent])) break;
        tr->heap[i] = tr->heap[parent];
        i = parent;
    }
    tr->heap[i] = e;
    return 0;
}

static HeapEntry heap_pop(Train *tr) {
    HeapEntry top = tr->heap[0];
    tr->heap[0] = tr->heap[--tr->n_heap];
    if (tr->n_heap) sift_down(tr, 0);
    return top;
}

/* Pushes the pairs whose count went up in this step, with their count now. */
static int push_touched(Train *tr) {
    size_t i;
    for (i = 0; i < tr->n_touched; i++) {
        Pair *p = &tr->pairs[tr->touched[i]];
        p->touched = 0;
        if (p->count > 0 && !p->blocked && heap_push(tr, p->count, tr->touched[i])) return -1;
    }
    tr->n_touched = 0;
    return 0;
}

/* ---- setup and the merge loop ---- */

/* The byte tokens get ids in the order of their byte-level characters'
 * code points (printable ASCII '!'..'~', then U+00A1.., then the bytes
 * mapped to U+0100..): the order of GPT-2's vocabulary and of Hugging
 * Face's trainer, which sorts its alphabet by code point. */
static void byte_order(unsigned char order[256]) {
    int i, j;
    for (i = 0; i < 256; i++) {
        unsigned char b = (unsigned char)i;
        for (j = i; j > 0 && tok_byte_to_char(order[j - 1]) > tok_byte_to_char(b); j--) order[j] = order[j - 1];
        order[j] = b;
    }
}

static int setup(Train *tr, BittError *err) {
    BpeTrainer *t = tr->t;
    size_t w, total = 0, i;
    unsigned char order[256];
    int k;
    for (k = 0; k < t->n_special; k++)
        if (token_add(&tr->tokens, NULL, 0)) goto oom;
    byte_order(order);
    for (i = 0; i < 256; i++) {
        if (token_add(&tr->tokens, &order[i], 1)) goto oom;
        tr->byte_id[order[i]] = t->n_special + (int32_t)i;
    }
    tr->n_ids = t->n_special + 256;
    for (w = 0; w < t->n_words; w++) total += t->words[w].len;
    if (!(tr->sym = malloc((total ? total : 1) * sizeof *tr->sym)) ||
        !(tr->sym_off = malloc((t->n_words + 1) * sizeof *tr->sym_off)) ||
        !(tr->sym_len = malloc((t->n_words + 1) * sizeof *tr->sym_len)) ||
        !(tr->seen_step = calloc(t->n_words + 1, sizeof *tr->seen_step)))
        goto oom;
    total = 0;
    for (w = 0; w < t->n_words; w++) {
        const BpeWord *word = &t->words[w];
        int32_t *s = tr->sym + total;
        tr->sym_off[w] = total;
        tr->sym_len[w] = word->len;
        for (i = 0; i < word->len; i++) s[i] = tr->byte_id[t->pool[word->off + i]];
        for (i = 0; i + 1 < word->len; i++)
            if (pair_add(tr, s[i], s[i + 1], (uint32_t)w, (int64_t)word->count)) goto oom;
        total += word->len;
    }
    /* Every pair is touched now; the words are no longer needed. */
    if (push_touched(tr)) goto oom;
    return 0;
oom:
    return bitt_fail(err, "tokenizer train: out of memory setting up %zu words", t->n_words);
}

/* Merges (a, b) -> z in every word that holds it, updating the pair counts. */
static int apply_merge(Train *tr, uint32_t pair_index, int32_t z, uint32_t step) {
    Pair *p = &tr->pairs[pair_index];
    int32_t a = p->left, b = p->right;
    uint32_t *list = p->words, n_list = p->n_words, j;
    p->words = NULL; /* pair_add may append to this pair's list no more: its count ends at 0 */
    p->n_words = p->cap_words = 0;
    for (j = 0; j < n_list; j++) {
        uint32_t w = list[j], n, r = 0, wr = 0;
        int32_t *s;
        int64_t c;
        if (tr->seen_step[w] == step) continue;
        tr->seen_step[w] = step;
        s = tr->sym + tr->sym_off[w];
        n = tr->sym_len[w];
        c = (int64_t)tr->t->words[w].count;
        while (r < n) {
            if (r + 1 < n && s[r] == a && s[r + 1] == b) {
                if (wr > 0) {
                    pair_remove(tr, s[wr - 1], a, c);
                    if (pair_add(tr, s[wr - 1], z, w, c)) goto oom;
                }
                if (r + 2 < n) {
                    pair_remove(tr, b, s[r + 2], c);
                    if (pair_add(tr, z, s[r + 2], w, c)) goto oom;
                }
                tr->pairs[pair_index].count -= c;
                s[wr++] = z;
                r += 2;
            } else {
                s[wr++] = s[r++];
            }
        }
        tr->sym_len[w] = wr;
    }
    free(list);
    return 0;
oom:
    free(list);
    return -1;
}

/* The bytes whose byte-level string is each special token's text (when its
 * text is made of byte-level chars only): a merge giving those bytes would
 * give the special's vocabulary string to ordinary text, so it is blocked. */
static int find_special_bytes(Train *tr, BittError *err) {
    BpeTrainer *t = tr->t;
    int k;
    if (!(tr->special_bytes = calloc((size_t)t->n_special, sizeof *tr->special_bytes)) ||
        !(tr->special_bytes_len = calloc((size_t)t->n_special, sizeof *tr->special_bytes_len)))
        return bitt_fail(err, "tokenizer train: out of memory");
    for (k = 0; k < t->n_special; k++) {
        const unsigned char *s = (const unsigned char *)t->special[k];
        size_t n = t->special_len[k], i = 0, used, m = 0;
        unsigned char *b = malloc(n);
        if (!b) return bitt_fail(err, "tokenizer train: out of memory");
        while (i < n) {
            uint32_t cp = utf8_decode(s + i, n - i, &used);
            int byte = cp == UTF8_INVALID ? -1 : tok_char_to_byte(cp);
            if (byte < 0) break;
            b[m++] = (unsigned char)byte;
            i += used;
        }
        if (i < n) {
            free(b);
            continue;
        }
        tr->special_bytes[k] = b;
        tr->special_bytes_len[k] = m;
    }
    return 0;
}

static int is_special_bytes(const Train *tr, const unsigned char *b, size_t len) {
    int k;
    for (k = 0; k < tr->t->n_special; k++)
        if (tr->special_bytes[k] && tr->special_bytes_len[k] == len && memcmp(tr->special_bytes[k], b, len) == 0)
            return 1;
    return 0;
}

static int learn_merges(Train *tr, BittError *err) {
    BpeTrainer *t = tr->t;
    uint64_t wanted = (uint64_t)(t->vocab_size - tr->n_ids), report = 0;
    int64_t min_count = t->min_frequency > 1 ? (int64_t)t->min_frequency : 1;
    uint32_t step = 0;
    unsigned char small[512], *cat = small;
    size_t cat_cap = sizeof small;
    if (t->progress) t->progress(t->progress_ctx, 0, wanted);
    while (tr->n_ids < t->vocab_size && tr->n_heap > 0) {
        HeapEntry top = heap_pop(tr);
        Pair *p = &tr->pairs[top.pair];
        const unsigned char *lb, *rb;
        size_t llen, rlen;
        int32_t z;
        if (p->blocked || p->count <= 0) continue;
        if (p->count != top.count) { /* stale: counts only fall between pushes */
            if (heap_push(tr, p->count, top.pair)) goto oom;
            continue;
        }
        if (p->count < min_count) break;
        lb = token_bytes(tr, p->left, &llen);
        rb = token_bytes(tr, p->right, &rlen);
        if (llen + rlen > cat_cap) {
            unsigned char *nc = malloc(2 * (llen + rlen));
            if (!nc) goto oom;
            if (cat != small) free(cat);
            cat = nc;
            cat_cap = 2 * (llen + rlen);
        }
        memcpy(cat, lb, llen);
        memcpy(cat + llen, rb, rlen);
        if (is_special_bytes(tr, cat, llen + rlen)) {
            p->blocked = 1;
            continue;
        }
        z = token_find(&tr->tokens, cat, llen + rlen);
        if (z < 0) {
            if (token_add(&tr->tokens, cat, llen + rlen)) goto oom;
            z = tr->n_ids++;
        }
        if (grow_array(&tr->merges, &tr->cap_merges, 2 * (tr->n_merges + 1), sizeof *tr->merges)) goto oom;
        tr->merges[2 * tr->n_merges] = p->left;
        tr->merges[2 * tr->n_merges + 1] = p->right;
        tr->n_merges++;
        if (apply_merge(tr, top.pair, z, ++step) || push_touched(tr)) goto oom;
        if (t->progress && (uint64_t)(tr->n_ids - t->n_special - 256) >= report + 1000) {
            report = (uint64_t)(tr->n_ids - t->n_special - 256);
            t->progress(t->progress_ctx, report, wanted);
        }
    }
    if (t->progress) t->progress(t->progress_ctx, (uint64_t)(tr->n_ids - t->n_special - 256), wanted);
    if (cat != small) free(cat);
    return 0;
oom:
    if (cat != small) free(cat);
    return bitt_fail(err, "tokenizer train: out of memory after %zu merges", tr->n_merges);
}

/* ---- the tokenizer ---- */

/* The byte-level vocabulary string of len bytes, into *buf (grown as needed). */
static const char *vocab_string(const unsigned char *b, size_t len, char **buf, size_t *cap, size_t *out_len) {
    size_t i, n = 0;
    if (2 * len + 1 > *cap) {
        char *nb = realloc(*buf, 2 * len + 1);
        if (!nb) return NULL;
        *buf = nb;
        *cap = 2 * len + 1;
    }
    for (i = 0; i < len; i++) n += utf8_encode(tok_byte_to_char(b[i]), *buf + n);
    *out_len = n;
    return *buf;
}

static Tokenizer *build_tokenizer(Train *tr, BittError *err) {
    BpeTrainer *t = tr->t;
    Tokenizer *tok = tok_new("trained tokenizer", err);
    char *buf[2] = {NULL, NULL};
    size_t cap[2] = {0, 0}, len[2], i;
    int32_t id;
    AddedTok flags;
    if (!tok) return NULL;
    for (id = 0; id < t->n_special; id++)
        if (tok_add_vocab(tok, t->special[id], t->special_len[id], id, err)) goto fail;
    for (id = t->n_special; id < tr->n_ids; id++) {
        const unsigned char *b = token_bytes(tr, id, &len[1]);
        if (!vocab_string(b, len[1], &buf[0], &cap[0], &len[0])) goto oom;
        if (tok_add_vocab(tok, buf[0], len[0], id, err)) goto fail;
    }
    for (i = 0; i < tr->n_merges; i++) {
        size_t blen;
        int k;
        for (k = 0; k < 2; k++) {
            const unsigned char *b = token_bytes(tr, tr->merges[2 * i + (size_t)k], &blen);
            if (!vocab_string(b, blen, &buf[k], &cap[k], &len[k])) goto oom;
        }
        if (tok_add_merge(tok, buf[0], len[0], buf[1], len[1], "learned merge", err)) goto fail;
    }
    memset(&flags, 0, sizeof flags);
    flags.special = 1;
    for (id = 0; id < t->n_special; id++)
        if (tok_add_added(tok, t->special[id], t->special_len[id], id, &flags, err)) goto fail;
    if (tok_set_unk(tok, "<unk>", err) || tok_finish(tok, err)) goto fail;
    free(buf[0]);
    free(buf[1]);
    return tok;
oom:
    bitt_fail(err, "tokenizer train: out of memory building the tokenizer");
fail:
    free(buf[0]);
    free(buf[1]);
    tokenizer_free(tok);
    return NULL;
}

static void train_free(Train *tr) {
    size_t i;
    for (i = 0; i < tr->n_pairs; i++) free(tr->pairs[i].words);
    if (tr->special_bytes)
        for (i = 0; i < (size_t)tr->t->n_special; i++) free(tr->special_bytes[i]);
    free(tr->special_bytes);
    free(tr->special_bytes_len);
    free(tr->tokens.bytes);
    free(tr->tokens.off);
    free(tr->tokens.slots);
    free(tr->pairs);
    free(tr->pair_keys);
    free(tr->pair_slot);
    free(tr->heap);
    free(tr->sym);
    free(tr->sym_off);
    free(tr->sym_len);
    free(tr->seen_step);
    free(tr->touched);
    free(tr->merges);
}

Tokenizer *bpe_trainer_finish(BpeTrainer *t, BittError *err) {
    Train tr;
    Tokenizer *tok = NULL;
    if (t->finished) {
        bitt_fail(err, "tokenizer train: bpe_trainer_finish called twice");
        return NULL;
    }
    t->finished = 1;
    if (t->n_words == 0) {
        bitt_fail(err, "tokenizer train: no text to train on (the input is empty, or holds only "
                  "separators and special tokens)");
        return NULL;
    }
    memset(&tr, 0, sizeof tr);
    tr.t = t;
    if (find_special_bytes(&tr, err) == 0 && setup(&tr, err) == 0 && learn_merges(&tr, err) == 0)
        tok = build_tokenizer(&tr, err);
    train_free(&tr);
    return tok;
}
