/* tokenizer_build.c: constructing a Tokenizer piece by piece (vocab
 * entries, added tokens, merges), with the validation every source of
 * tokens shares (id range, duplicates, merges naming unknown tokens), and
 * the per-id tables tok_finish() derives: raw bytes, byte ids, the index of
 * added tokens. Used by the tokenizer.json loader and the synthetic maker. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"
#include "utf8.h"
#include "../util/grow.h"

/* At most this many bytes of a token are shown in a message. */
#define SHOW 40
#define SHOWN(len) ((int)((len) < SHOW ? (len) : SHOW))

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

Tokenizer *tok_new(const char *source, BittError *err) {
    Tokenizer *tok = calloc(1, sizeof *tok);
    if (!tok || !(tok->source = dup_str(source ? source : "tokenizer"))) {
        free(tok);
        bitt_fail(err, "%s: out of memory", source ? source : "tokenizer");
        return NULL;
    }
    tok->add_prefix_space = 0;
    tok->use_regex = 1;
    tok->unk_id = -1;
    return tok;
}

static void free_index(AddedIndex *ix) {
    free(ix->added);
    ac_free(&ix->match);
}

void tokenizer_free(Tokenizer *tok) {
    if (!tok) return;
    free(tok->source);
    free(tok->pool);
    free(tok->entries);
    free(tok->vocab_map.slots);
    free(tok->added_map.slots);
    free(tok->added);
    free(tok->merges.keys);
    free(tok->merges.rank);
    free(tok->merges.merged);
    free(tok->merge_list);
    free(tok->id_entry);
    free(tok->id_flags);
    free(tok->raw_off);
    free(tok->raw);
    free_index(&tok->index[0]);
    free_index(&tok->index[1]);
    free(tok->unk_token);
    free(tok);
}

static int oom(Tokenizer *tok, BittError *err) {
    return bitt_fail(err, "%s: out of memory", tok->source);
}


/* ---- entries and ids ---- */

/* Makes id_entry / id_flags cover id (new slots: -1 / 0). */
static int cover_id(Tokenizer *tok, int32_t id) {
    if (id >= tok->n_ids) {
        size_t old = (size_t)tok->n_ids, cap = old, need = (size_t)id + 1, i;
        size_t c = cap < 256 ? 256 : cap;
        int32_t *ie;
        uint8_t *fl;
        while (c < need) c *= 2;
        if (c > TOK_MAX_ID) c = TOK_MAX_ID;
        ie = realloc(tok->id_entry, c * sizeof *ie);
        if (!ie) return -1;
        tok->id_entry = ie;
        fl = realloc(tok->id_flags, c);
        if (!fl) return -1;
        tok->id_flags = fl;
        for (i = old; i < c; i++) {
            ie[i] = -1;
            fl[i] = 0;
        }
        tok->n_ids = (int32_t)c; /* capacity while building; tok_finish trims */
    }
    return 0;
}

static int add_entry(Tokenizer *tok, const char *s, size_t len, int32_t id, uint32_t *out) {
    TokEntry *e;
    if (tok->pool_len + len + 1 > UINT32_MAX) return -1;
    if (grow_array(&tok->pool, &tok->pool_cap, tok->pool_len + len + 1, 1) ||
        grow_array(&tok->entries, &tok->cap_entries, tok->n_entries + 1, sizeof *tok->entries))
        return -1;
    memcpy(tok->pool + tok->pool_len, s, len);
    tok->pool[tok->pool_len + len] = '\0';
    e = &tok->entries[tok->n_entries];
    e->off = (uint32_t)tok->pool_len;
    e->len = (uint32_t)len;
    e->id = id;
    tok->pool_len += len + 1;
    *out = (uint32_t)tok->n_entries++;
    return 0;
}

static int check_id(Tokenizer *tok, const char *what, const char *s, size_t len, int64_t id,
                    BittError *err) {
    if (id < 0 || id >= TOK_MAX_ID)
        return bitt_fail(err, "%s: %s '%.*s' has id %lld: ids must be integers in 0..%d",
                         tok->source, what, SHOWN(len), s, (long long)id, TOK_MAX_ID - 1);
    if (cover_id(tok, (int32_t)id)) return oom(tok, err);
    return 0;
}

int tok_add_vocab(Tokenizer *tok, const char *s, size_t len, int64_t id, BittError *err) {
    uint32_t e;
    int32_t prev;
    if (len == 0) return bitt_fail(err, "%s: vocab has an empty token (id %lld)", tok->source, (long long)id);
    if (memchr(s, '\0', len))
        return bitt_fail(err, "%s: vocab token with id %lld contains a NUL character", tok->source,
                         (long long)id);
    if (check_id(tok, "vocab token", s, len, id, err)) return -1;
    if (tok_vocab_find(tok, s, len) >= 0)
        return bitt_fail(err, "%s: vocab token '%.*s' appears twice", tok->source, SHOWN(len), s);
    prev = tok->id_entry[id];
    if (prev >= 0 && (tok->id_flags[id] & TOK_IN_VOCAB))
        return bitt_fail(err, "%s: duplicate id %lld in vocab ('%.*s' and '%.*s')", tok->source,
                         (long long)id, SHOWN(tok->entries[prev].len), tok_entry_str(tok, (uint32_t)prev),
                         SHOWN(len), s);
    if (add_entry(tok, s, len, (int32_t)id, &e) || tok_strmap_insert(tok, &tok->vocab_map, e))
        return oom(tok, err);
    tok->id_entry[id] = (int32_t)e;
    tok->id_flags[id] |= TOK_IN_VOCAB;
    return 0;
}

int tok_add_added(Tokenizer *tok, const char *s, size_t len, int64_t id, const AddedTok *flags,
                  BittError *err) {
    uint32_t e;
    int32_t v;
    AddedTok *a;
    if (len == 0) return bitt_fail(err, "%s: added token with id %lld has empty content", tok->source, (long long)id);
    if (check_id(tok, "added token", s, len, id, err)) return -1;
    if (tok_added_find(tok, s, len) >= 0)
        return bitt_fail(err, "%s: added token '%.*s' appears twice", tok->source, SHOWN(len), s);
    if (tok->id_flags[id] & TOK_ADDED)
        return bitt_fail(err, "%s: duplicate id %lld in added_tokens", tok->source, (long long)id);
    v = tok_vocab_find(tok, s, len);
    if (v >= 0 && v != id)
        return bitt_fail(err, "%s: added token '%.*s' has id %lld but the vocab gives it id %d",
                         tok->source, SHOWN(len), s, (long long)id, (int)v);
    if (v < 0 && tok->id_entry[id] >= 0) {
        int32_t pe = tok->id_entry[id];
        return bitt_fail(err, "%s: added token '%.*s' has id %lld, which the vocab gives to '%.*s'",
                         tok->source, SHOWN(len), s, (long long)id, SHOWN(tok->entries[pe].len),
                         tok_entry_str(tok, (uint32_t)pe));
    }
    if (v < 0) {
        /* Hugging Face gives an added token outside the vocab the next free
         * id (ignoring the file's): refuse a file whose ids say otherwise. */
        int64_t n_vocab = (int64_t)tok->vocab_map.count;
        int64_t want = tok->n_added == 0 ? n_vocab
                       : (tok->max_added >= n_vocab ? tok->max_added + 1 : n_vocab);
        if (id != want)
            return bitt_fail(err, "%s: added token '%.*s' has id %lld, but Hugging Face tokenizers would "
                             "give it id %lld (added tokens outside the vocab take the next free ids, in order)",
                             tok->source, SHOWN(len), s, (long long)id, (long long)want);
    }
    if (add_entry(tok, s, len, (int32_t)id, &e) || tok_strmap_insert(tok, &tok->added_map, e) ||
        grow_array(&tok->added, &tok->cap_added, tok->n_added + 1, sizeof *tok->added))
        return oom(tok, err);
    if (tok->n_added == 0 || id > tok->max_added) tok->max_added = id;
    a = &tok->added[tok->n_added++];
    *a = *flags;
    a->entry = e;
    if (tok->id_entry[id] < 0) tok->id_entry[id] = (int32_t)e;
    tok->id_flags[id] |= TOK_ADDED | (flags->special ? TOK_SPECIAL : 0);
    return 0;
}

/* ---- merges ---- */

static int merge_insert(MergeMap *m, int32_t a, int32_t b, int32_t rank, int32_t merged) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    uint32_t i, mask;
    if ((m->count + 1) * 2 > m->cap) {
        uint32_t ncap = m->cap ? m->cap * 2 : 1024, j;
        uint64_t *nk = malloc((size_t)ncap * sizeof *nk);
        int32_t *nr = malloc((size_t)ncap * sizeof *nr), *nm = malloc((size_t)ncap * sizeof *nm);
        if (!nk || !nr || !nm) {
            free(nk);
            free(nr);
            free(nm);
            return -1;
        }
        memset(nk, 0xFF, (size_t)ncap * sizeof *nk);
        for (j = 0; j < m->cap; j++) {
            uint64_t k = m->keys[j];
            if (k == MERGE_EMPTY) continue;
            for (i = (uint32_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & (ncap - 1); nk[i] != MERGE_EMPTY;
                 i = (i + 1) & (ncap - 1)) {
            }
            nk[i] = k;
            nr[i] = m->rank[j];
            nm[i] = m->merged[j];
        }
        free(m->keys);
        free(m->rank);
        free(m->merged);
        m->keys = nk;
        m->rank = nr;
        m->merged = nm;
        m->cap = ncap;
    }
    mask = m->cap - 1;
    for (i = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == key) break; /* a repeated merge: the later rank wins (as in HF) */
        if (m->keys[i] == MERGE_EMPTY) {
            m->count++;
            break;
        }
    }
    m->keys[i] = key;
    m->rank[i] = rank;
    m->merged[i] = merged;
    return 0;
}

int tok_add_merge(Tokenizer *tok, const char *a, size_t alen, const char *b, size_t blen,
                  const char *what, BittError *err) {
    int32_t ia = tok_vocab_find(tok, a, alen), ib = tok_vocab_find(tok, b, blen), im;
    char small[256], *cat = small;
    if (ia < 0 || ib < 0) {
        const char *bad = ia < 0 ? a : b;
        size_t badlen = ia < 0 ? alen : blen;
        return bitt_fail(err, "%s: %s ('%.*s' '%.*s') names token '%.*s', which is not in the vocab",
                         tok->source, what, SHOWN(alen), a, SHOWN(blen), b, SHOWN(badlen), bad);
    }
    if (alen + blen > sizeof small && !(cat = malloc(alen + blen))) return oom(tok, err);
    memcpy(cat, a, alen);
    memcpy(cat + alen, b, blen);
    im = tok_vocab_find(tok, cat, alen + blen);
    if (cat != small) free(cat);
    if (im < 0)
        return bitt_fail(err, "%s: %s ('%.*s' '%.*s'): the merged token '%.*s%.*s' is not in the vocab",
                         tok->source, what, SHOWN(alen), a, SHOWN(blen), b, SHOWN(alen), a,
                         SHOWN(blen), b);
    if (tok->n_merges >= (size_t)INT32_MAX - 1) return bitt_fail(err, "%s: too many merges", tok->source);
    if (grow_array(&tok->merge_list, &tok->cap_merges, 2 * (tok->n_merges + 1), sizeof(int32_t)) ||
        merge_insert(&tok->merges, ia, ib, (int32_t)tok->n_merges, im))
        return oom(tok, err);
    tok->merge_list[2 * tok->n_merges] = ia;
    tok->merge_list[2 * tok->n_merges + 1] = ib;
    tok->n_merges++;
    return 0;
}

int tok_set_unk(Tokenizer *tok, const char *unk, BittError *err) {
    free(tok->unk_token);
    tok->unk_token = NULL;
    if (unk && !(tok->unk_token = dup_str(unk))) return oom(tok, err);
    return 0;
}

/* ---- finishing ---- */

/* Byte-level decoding of a vocab string: each char through the inverse
 * byte map; a string with any char outside the map stands for its own UTF-8
 * bytes (as the Hugging Face ByteLevel decoder does). Returns the length
 * written to out (NULL: just measure). */
static size_t bytes_of(const char *s, size_t len, char *out) {
    size_t i = 0, n = 0, used;
    while (i < len) {
        uint32_t cp = utf8_decode((const unsigned char *)s + i, len - i, &used);
        int b = cp == UTF8_INVALID ? -1 : tok_char_to_byte(cp);
        if (b < 0) {
            if (out) memcpy(out, s, len);
            return len;
        }
        if (out) out[n] = (char)b;
        n++;
        i += used;
    }
    return n;
}

/* An added token with its id, for sorting by id (ids of added tokens are
 * unique: tok_add_added checks). */
typedef struct AddedById {
    int32_t id;
    AddedTok a;
} AddedById;

static int cmp_added_id(const void *x, const void *y) {
    const int32_t a = ((const AddedById *)x)->id, b = ((const AddedById *)y)->id;
    return a < b ? -1 : (a > b);
}

/* Puts tok->added in id order, in O(n log n). */
static int sort_added(Tokenizer *tok) {
    size_t i;
    AddedById *tmp = malloc((tok->n_added ? tok->n_added : 1) * sizeof *tmp);
    if (!tmp) return -1;
    for (i = 0; i < tok->n_added; i++) {
        tmp[i].id = tok->entries[tok->added[i].entry].id;
        tmp[i].a = tok->added[i];
    }
    qsort(tmp, tok->n_added, sizeof *tmp, cmp_added_id);
    for (i = 0; i < tok->n_added; i++) tok->added[i] = tmp[i].a;
    free(tmp);
    return 0;
}

/* The matcher of the added tokens with the given normalized flag: linear in
 * their total length to build, linear in the text to run (however many share
 * a prefix), where trying each token at each position was quadratic. */
static int build_index(Tokenizer *tok, AddedIndex *ix, int normalized) {
    size_t i, n = 0;
    const char **strs;
    size_t *lens;
    int rc;
    memset(ix, 0, sizeof *ix);
    for (i = 0; i < tok->n_added; i++) n += (tok->added[i].normalized != 0) == (normalized != 0);
    if (n == 0) return 0;
    strs = malloc(n * sizeof *strs);
    lens = malloc(n * sizeof *lens);
    if (!(ix->added = malloc(n * sizeof *ix->added)) || !strs || !lens) {
        free(strs);
        free(lens);
        return -1;
    }
    for (i = 0; i < tok->n_added; i++)
        if ((tok->added[i].normalized != 0) == (normalized != 0)) {
            const TokEntry *e = &tok->entries[tok->added[i].entry];
            strs[ix->n] = tok->pool + e->off;
            lens[ix->n] = e->len;
            ix->added[ix->n++] = (uint32_t)i;
        }
    rc = ac_build(&ix->match, strs, lens, n); /* contents are unique (tok_add_added checks) and non-empty */
    free(strs);
    free(lens);
    return rc;
}

int tok_finish(Tokenizer *tok, BittError *err) {
    int32_t n = 0, id;
    size_t total = 0, i;
    for (id = tok->n_ids - 1; id >= 0; id--)
        if (tok->id_flags[id]) {
            n = id + 1;
            break;
        }
    if (n == 0) return bitt_fail(err, "%s: the vocabulary is empty", tok->source);
    tok->n_ids = n;
    if (!(tok->raw_off = malloc(((size_t)n + 1) * sizeof *tok->raw_off))) return oom(tok, err);
    /* Raw bytes: an added token's content, else the vocab string decoded. */
    for (i = 0; i < tok->n_added; i++) {
        const TokEntry *e = &tok->entries[tok->added[i].entry];
        tok->id_entry[e->id] = (int32_t)tok->added[i].entry;
    }
    for (id = 0; id < n; id++) {
        int32_t e = tok->id_entry[id];
        size_t len = 0;
        if (e >= 0)
            len = (tok->id_flags[id] & TOK_ADDED) ? tok->entries[e].len
                                                 : bytes_of(tok_entry_str(tok, (uint32_t)e), tok->entries[e].len, NULL);
        if (total + len > UINT32_MAX) return bitt_fail(err, "%s: tokens too long", tok->source);
        tok->raw_off[id] = (uint32_t)total;
        total += len;
    }
    tok->raw_off[n] = (uint32_t)total;
    if (!(tok->raw = malloc(total ? total : 1))) return oom(tok, err);
    for (id = 0; id < n; id++) {
        int32_t e = tok->id_entry[id];
        if (e < 0) continue;
        if (tok->id_flags[id] & TOK_ADDED)
            memcpy(tok->raw + tok->raw_off[id], tok_entry_str(tok, (uint32_t)e), tok->entries[e].len);
        else
            bytes_of(tok_entry_str(tok, (uint32_t)e), tok->entries[e].len, tok->raw + tok->raw_off[id]);
    }
    /* From here on id_entry names the vocab entry where there is one. */
    for (i = 0; i < tok->n_entries; i++)
        if (tok_strmap_find(tok, &tok->vocab_map, tok_entry_str(tok, (uint32_t)i), tok->entries[i].len) == (int32_t)i)
            tok->id_entry[tok->entries[i].id] = (int32_t)i;
    for (i = 0; i < 256; i++) {
        char c[4];
        size_t len = utf8_encode(tok_byte_to_char((unsigned char)i), c);
        tok->byte_id[i] = tok_vocab_find(tok, c, len);
    }
    tok->unk_id = tok->unk_token ? tok_vocab_find(tok, tok->unk_token, strlen(tok->unk_token)) : -1;
    if (sort_added(tok) || build_index(tok, &tok->index[0], 0) || build_index(tok, &tok->index[1], 1)) return oom(tok, err);
    return 0;
}
