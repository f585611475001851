/* tokenizer.c: the byte-level BPE runtime (the byte map and string maps are in tokenizer_maps.c):
 * BPE of one pre-token (lowest-rank adjacent pair first, leftmost on ties,
 * exactly as Hugging Face `tokenizers` merges), a per-call word cache,
 * splitting on added tokens, encode, decode and the lookups of tokenizer.h.
 * Construction is in tokenizer_build.c, tokenizer.json in tokenizer_json.c. */
#include <stdlib.h>
#include <string.h>

#include "pretokenize.h"
#include "tokenizer_internal.h"
#include "unicode_tables.h"
#include "utf8.h"
#include "../util/grow.h"

/* Words of more symbols than this are merged with a heap (O(n log n));
 * shorter ones by rescanning (faster for the short words text is made of). */
#ifndef BPE_NAIVE_MAX
#define BPE_NAIVE_MAX 48
#endif
#define CACHE_MAX_ENTRIES 65536u /* per encode call */
#define CACHE_MAX_WORD 64        /* longer words are not cached */


/* ---- encode state ---- */

typedef struct CacheEntry {
    uint32_t hash, key_off, key_len, ids_off, ids_len;
} CacheEntry;

typedef struct EncodeCtx {
    const Tokenizer *tok;
    int32_t *out;
    size_t n, cap;
    /* scratch for BPE */
    int32_t *sym, *rank, *merged, *prev, *next;
    size_t scap;
    struct HeapItem *heap;
    size_t hcap;
    /* word cache */
    uint32_t *slots; /* entry + 1, 0 = empty */
    uint32_t ccap;
    CacheEntry *ents;
    uint32_t nents;
    size_t ents_cap;
    char *keys;
    size_t keys_len, keys_cap;
    int32_t *cids;
    size_t cids_len, cids_cap;
    /* per added-token pass: the longest added token starting at each position */
    int32_t *match[2];
    size_t match_cap[2];
} EncodeCtx;

typedef struct HeapItem {
    int32_t rank, pos, left, right, merged;
} HeapItem;


static int push_id(EncodeCtx *c, int32_t id) {
    if (c->n == c->cap && grow_array(&c->out, &c->cap, c->n + 1, sizeof *c->out)) return -1;
    c->out[c->n++] = id;
    return 0;
}

static void ctx_free(EncodeCtx *c) {
    free(c->sym);
    free(c->rank);
    free(c->merged);
    free(c->prev);
    free(c->next);
    free(c->heap);
    free(c->slots);
    free(c->ents);
    free(c->keys);
    free(c->cids);
    free(c->match[0]);
    free(c->match[1]);
}

/* ---- BPE ---- */

/* Rank of the merge of (a, b) (INT32_MAX: none); the result in *m. */
static inline int32_t pair_rank(const Tokenizer *tok, int32_t a, int32_t b, int32_t *m) {
    int32_t r = tok_merge_find(&tok->merges, a, b, m);
    return r < 0 ? INT32_MAX : r;
}

/* Merges sym[0..n) in place by rescanning; returns the new count. */
static size_t bpe_naive(const Tokenizer *tok, int32_t *sym, int32_t *rank, int32_t *merged, size_t n) {
    size_t i;
    for (i = 0; i + 1 < n; i++) rank[i] = pair_rank(tok, sym[i], sym[i + 1], &merged[i]);
    while (n > 1) {
        int32_t best = INT32_MAX;
        size_t b = 0;
        for (i = 0; i + 1 < n; i++)
            if (rank[i] < best) {
                best = rank[i];
                b = i;
            }
        if (best == INT32_MAX) break;
        sym[b] = merged[b];
        for (i = b + 1; i + 1 < n; i++) {
            sym[i] = sym[i + 1];
            if (i + 2 < n) {
                rank[i] = rank[i + 1];
                merged[i] = merged[i + 1];
            }
        }
        n--;
        if (b > 0) rank[b - 1] = pair_rank(tok, sym[b - 1], sym[b], &merged[b - 1]);
        if (b + 1 < n) rank[b] = pair_rank(tok, sym[b], sym[b + 1], &merged[b]);
    }
    return n;
}

static int heap_less(const HeapItem *a, const HeapItem *b) {
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(HeapItem *h, size_t *n, HeapItem it) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(&it, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = it;
}

static HeapItem heap_pop(HeapItem *h, size_t *n) {
    HeapItem top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, s;
        if (l >= *n) break;
        s = (l + 1 < *n && heap_less(&h[l + 1], &h[l])) ? l + 1 : l;
        if (!heap_less(&h[s], &last)) break;
        h[i] = h[s];
        i = s;
    }
    if (*n) h[i] = last;
    return top;
}

/* Merges sym[0..n) with a priority queue of (rank, position); symbols stay
 * at their first position and are linked by prev/next. A queued pair is
 * stale when either side has changed since (symbols only grow, so equal ids
 * at an equal position mean the same symbol). Returns the new count, the
 * symbols compacted to the front of sym. */
static size_t bpe_heap(EncodeCtx *c, size_t n) {
    const Tokenizer *tok = c->tok;
    int32_t *sym = c->sym, *prev = c->prev, *next = c->next, m = -1;
    HeapItem *h = c->heap;
    size_t hn = 0, i, k = 0;
    for (i = 0; i < n; i++) {
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    for (i = 0; i + 1 < n; i++) {
        int32_t r = pair_rank(tok, sym[i], sym[i + 1], &m);
        if (r != INT32_MAX) heap_push(h, &hn, (HeapItem){r, (int32_t)i, sym[i], sym[i + 1], m});
    }
    while (hn) {
        HeapItem it = heap_pop(h, &hn);
        int32_t p = it.pos, q = next[p], r;
        if (sym[p] != it.left || q < 0 || sym[q] != it.right) continue;
        sym[p] = it.merged;
        sym[q] = -1; /* removed */
        next[p] = next[q];
        if (next[q] >= 0) prev[next[q]] = p;
        if (prev[p] >= 0) {
            int32_t a = prev[p];
            r = pair_rank(tok, sym[a], sym[p], &m);
            if (r != INT32_MAX) heap_push(h, &hn, (HeapItem){r, a, sym[a], sym[p], m});
        }
        if (next[p] >= 0) {
            int32_t b = next[p];
            r = pair_rank(tok, sym[p], sym[b], &m);
            if (r != INT32_MAX) heap_push(h, &hn, (HeapItem){r, p, sym[p], sym[b], m});
        }
    }
    for (i = 0; i < n; i++)
        if (sym[i] >= 0) sym[k++] = sym[i];
    return k;
}

/* BPE of one pre-token; appends its ids to c->out. */
static int bpe_word(EncodeCtx *c, const unsigned char *w, size_t len) {
    const Tokenizer *tok = c->tok;
    size_t i, n = 0;
    if (len > c->scap) { /* grow all the per-symbol scratch arrays together */
        size_t cap = len < 64 ? 64 : len + len / 2;
        int32_t **arrs[5];
        int k;
        arrs[0] = &c->sym, arrs[1] = &c->rank, arrs[2] = &c->merged, arrs[3] = &c->prev, arrs[4] = &c->next;
        for (k = 0; k < 5; k++) {
            int32_t *p = realloc(*arrs[k], cap * sizeof(int32_t));
            if (!p) return -1;
            *arrs[k] = p;
        }
        c->scap = cap;
    }
    if (tok->ignore_merges) {
        /* the whole word in the vocab wins (HF ignore_merges) */
        char small[256] = {0}, *mapped = small;
        size_t ml = 0;
        int32_t id;
        if (len * 2 > sizeof small && !(mapped = malloc(len * 2))) return -1;
        for (i = 0; i < len; i++) ml += utf8_encode(tok_byte_to_char(w[i]), mapped + ml);
        id = tok_vocab_find(tok, mapped, ml);
        if (mapped != small) free(mapped);
        if (id >= 0) return push_id(c, id);
    }
    for (i = 0; i < len; i++) {
        int32_t id = tok->byte_id[w[i]];
        if (id < 0) {
            /* a byte missing from the vocab: <unk> (fused if fuse_unk), or dropped */
            if (tok->unk_id < 0) continue;
            if (tok->fuse_unk && n > 0 && c->sym[n - 1] == tok->unk_id) continue;
            id = tok->unk_id;
        }
        c->sym[n++] = id;
    }
    if (n == 0) return 0; /* every byte dropped: c->out may still be NULL, and NULL + 0 is UB */
    if (n <= BPE_NAIVE_MAX) {
        n = bpe_naive(tok, c->sym, c->rank, c->merged, n);
    } else {
        /* the heap never holds more than 2n entries: n - 1 pairs, then at most one more per merge */
        if (grow_array(&c->heap, &c->hcap, 2 * n + 2, sizeof *c->heap)) return -1;
        n = bpe_heap(c, n);
    }
    if (grow_array(&c->out, &c->cap, c->n + n, sizeof *c->out)) return -1;
    memcpy(c->out + c->n, c->sym, n * sizeof *c->sym);
    c->n += n;
    return 0;
}

/* BPE through the word cache. */
static int encode_word(EncodeCtx *c, const unsigned char *w, size_t len) {
    uint32_t h, i, mask;
    size_t before = c->n, nids;
    CacheEntry *e;
    if (len > CACHE_MAX_WORD) return bpe_word(c, w, len);
    if (!c->slots) {
        c->ccap = 1024;
        if (!(c->slots = calloc(c->ccap, sizeof *c->slots))) return -1;
    }
    h = tok_hash(w, len);
    mask = c->ccap - 1;
    for (i = h & mask; c->slots[i]; i = (i + 1) & mask) {
        e = &c->ents[c->slots[i] - 1];
        if (e->hash == h && e->key_len == len && memcmp(c->keys + e->key_off, w, len) == 0) {
            if (e->ids_len == 0) return 0; /* a word of dropped bytes (c->cids may be NULL) */
            if (grow_array(&c->out, &c->cap, c->n + e->ids_len, sizeof *c->out)) return -1;
            memcpy(c->out + c->n, c->cids + e->ids_off, e->ids_len * sizeof *c->out);
            c->n += e->ids_len;
            return 0;
        }
    }
    if (bpe_word(c, w, len)) return -1;
    if (c->nents >= CACHE_MAX_ENTRIES) return 0; /* full: no more inserts */
    if ((c->nents + 1) * 2 > c->ccap) {           /* grow the table and rehash */
        uint32_t ncap = c->ccap * 2, j;
        uint32_t *ns = calloc(ncap, sizeof *ns);
        if (!ns) return -1;
        for (j = 0; j < c->nents; j++) {
            uint32_t k;
            for (k = c->ents[j].hash & (ncap - 1); ns[k]; k = (k + 1) & (ncap - 1)) {
            }
            ns[k] = j + 1;
        }
        free(c->slots);
        c->slots = ns;
        c->ccap = ncap;
        mask = ncap - 1;
        for (i = h & mask; c->slots[i]; i = (i + 1) & mask) {
        }
    }
    nids = c->n - before;
    if (grow_array(&c->ents, &c->ents_cap, (size_t)c->nents + 1, sizeof *c->ents) ||
        grow_array(&c->keys, &c->keys_cap, c->keys_len + len, 1) ||
        grow_array(&c->cids, &c->cids_cap, c->cids_len + nids, sizeof *c->cids))
        return -1;
    e = &c->ents[c->nents];
    e->hash = h;
    e->key_off = (uint32_t)c->keys_len;
    e->key_len = (uint32_t)len;
    e->ids_off = (uint32_t)c->cids_len;
    e->ids_len = (uint32_t)nids;
    memcpy(c->keys + c->keys_len, w, len);
    if (nids) memcpy(c->cids + c->cids_len, c->out + before, nids * sizeof *c->cids);
    c->keys_len += len;
    c->cids_len += nids;
    c->slots[i] = ++c->nents;
    return 0;
}

static int encode_pieces(EncodeCtx *c, const unsigned char *s, size_t len) {
    size_t pos = 0;
    if (!c->tok->use_regex) return encode_word(c, s, len);
    while (pos < len) {
        size_t n = pretok_piece_len((const char *)s, len, pos);
        if (encode_word(c, s + pos, n)) return -1;
        pos += n;
    }
    return 0;
}

/* Pre-tokenizes and BPEs text between added tokens (ByteLevel, with its
 * add_prefix_space and use_regex settings). */
static int encode_plain(EncodeCtx *c, const unsigned char *s, size_t len) {
    unsigned char *t;
    int rc;
    if (len == 0) return 0;
    if (!c->tok->add_prefix_space || s[0] == ' ') return encode_pieces(c, s, len);
    if (!(t = malloc(len + 1))) return -1;
    t[0] = ' ';
    memcpy(t + 1, s, len);
    rc = encode_pieces(c, t, len + 1);
    free(t);
    return rc;
}

/* ---- added tokens ---- */

/* Whether the char ending at s[end) / starting at s[pos] is White_Space;
 * its length in *n. */
static int space_before(const unsigned char *s, size_t floor, size_t end, size_t *n) {
    size_t p = end, used;
    uint32_t cp;
    if (end <= floor) return 0;
    do p--;
    while (p > floor && end - p < 4 && (s[p] & 0xC0) == 0x80);
    cp = utf8_decode(s + p, end - p, &used);
    if (cp == UTF8_INVALID || p + used != end || !unicode_is_whitespace(cp)) return 0;
    *n = used;
    return 1;
}

static int space_at(const unsigned char *s, size_t len, size_t pos, size_t *n) {
    uint32_t cp;
    if (pos >= len) return 0;
    cp = utf8_decode(s + pos, len - pos, n);
    return cp != UTF8_INVALID && unicode_is_whitespace(cp);
}

/* A "word" char for single_word added tokens: letter, number or '_'. */
static int word_char_at(const unsigned char *s, size_t len, size_t pos) {
    size_t n;
    uint32_t cp = utf8_decode(s + pos, len - pos, &n);
    return cp != UTF8_INVALID && (cp == '_' || unicode_is_letter(cp) || unicode_is_number(cp));
}

static int word_char_before(const unsigned char *s, size_t end) {
    size_t p = end, used;
    uint32_t cp;
    if (end == 0) return 0;
    do p--;
    while (p > 0 && end - p < 4 && (s[p] & 0xC0) == 0x80);
    cp = utf8_decode(s + p, end - p, &used);
    return cp != UTF8_INVALID && p + used == end &&
           (cp == '_' || unicode_is_letter(cp) || unicode_is_number(cp));
}

/* Splits s on the added tokens of pass `pass` (leftmost, then longest
 * match), encodes the added tokens and hands the text between them on to
 * the next pass (then to encode_plain). The longest token at every position
 * comes from the pass's matcher in one linear scan (c->match[pass], which
 * the next pass, run on the pieces in between, leaves alone). */
static int encode_added(EncodeCtx *c, const unsigned char *s, size_t len, int pass) {
    const Tokenizer *tok = c->tok;
    const AddedIndex *ix;
    const int32_t *longest;
    size_t pos = 0, done = 0;
    if (pass == 2) return encode_plain(c, s, len);
    ix = &tok->index[pass];
    if (ix->n == 0 || len == 0) return encode_added(c, s, len, pass + 1);
    if (grow_array(&c->match[pass], &c->match_cap[pass], len, sizeof *c->match[pass])) return -1;
    ac_longest_at(&ix->match, s, len, c->match[pass]);
    longest = c->match[pass];
    while (pos < len) {
        const AddedTok *hit;
        size_t start = pos, stop, sp;
        if (longest[pos] < 0) {
            pos++;
            continue;
        }
        hit = &tok->added[ix->added[longest[pos]]];
        stop = pos + tok->entries[hit->entry].len;
        pos = stop; /* the matched text is not searched again, even if discarded */
        if (hit->single_word &&
            ((start > 0 && word_char_before(s, start)) || (stop < len && word_char_at(s, len, stop))))
            continue;
        if (hit->lstrip)
            while (space_before(s, done, start, &sp)) start -= sp;
        if (hit->rstrip)
            while (space_at(s, len, stop, &sp)) stop += sp;
        if (encode_added(c, s + done, start - done, pass + 1)) return -1;
        if (push_id(c, tok->entries[hit->entry].id)) return -1;
        done = pos = stop;
    }
    return encode_added(c, s + done, len - done, pass + 1);
}

int tokenizer_encode(const Tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n,
                     BittError *err) {
    EncodeCtx c;
    memset(&c, 0, sizeof c);
    c.tok = tok;
    *ids = NULL;
    *n = 0;
    if (!text && len) return bitt_fail(err, "%s: encode: text is NULL", tok->source);
    if (len == 0) text = "";
    if (encode_added(&c, (const unsigned char *)text, len, 0)) {
        free(c.out);
        ctx_free(&c);
        return bitt_fail(err, "%s: encode: out of memory (%zu bytes of text)", tok->source, len);
    }
    ctx_free(&c);
    if (!c.out && !(c.out = malloc(sizeof *c.out))) /* never NULL on success */
        return bitt_fail(err, "%s: encode: out of memory", tok->source);
    *ids = c.out;
    *n = c.n;
    return 0;
}

/* ---- decode and lookups ---- */

int tokenizer_vocab_size(const Tokenizer *tok) { return tok->n_ids; }

const char *tokenizer_token_bytes(const Tokenizer *tok, int32_t id, size_t *len) {
    if (id < 0 || id >= tok->n_ids || tok->id_entry[id] < 0) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = tok->raw_off[id + 1] - tok->raw_off[id];
    return tok->raw + tok->raw_off[id];
}

int tokenizer_decode(const Tokenizer *tok, const int32_t *ids, size_t n, int skip_special, char **text,
                     size_t *len, BittError *err) {
    size_t total = 0, i, at = 0;
    char *out;
    *text = NULL;
    if (len) *len = 0;
    for (i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= tok->n_ids || tok->id_entry[id] < 0)
            return bitt_fail(err, "%s: decode: token id %d (position %zu) is out of range: the vocabulary has ids 0..%d%s",
                             tok->source, (int)id, i, (int)tok->n_ids - 1,
                             (id >= 0 && id < tok->n_ids) ? " but no token with this id" : "");
        if (skip_special && (tok->id_flags[id] & TOK_SPECIAL)) continue;
        total += tok->raw_off[id + 1] - tok->raw_off[id];
    }
    if (!(out = malloc(total + 1))) return bitt_fail(err, "%s: decode: out of memory", tok->source);
    for (i = 0; i < n; i++) {
        int32_t id = ids[i];
        size_t l = tok->raw_off[id + 1] - tok->raw_off[id];
        if (skip_special && (tok->id_flags[id] & TOK_SPECIAL)) continue;
        memcpy(out + at, tok->raw + tok->raw_off[id], l);
        at += l;
    }
    out[at] = '\0';
    *text = out;
    if (len) *len = at;
    return 0;
}

int32_t tokenizer_token_id(const Tokenizer *tok, const char *token) {
    size_t len = strlen(token);
    int32_t id = tok_added_find(tok, token, len);
    return id >= 0 ? id : tok_vocab_find(tok, token, len);
}

int tokenizer_is_special(const Tokenizer *tok, int32_t id) {
    return id >= 0 && id < tok->n_ids && (tok->id_flags[id] & TOK_SPECIAL) != 0;
}
