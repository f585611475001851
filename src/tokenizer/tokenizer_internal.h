/* tokenizer_internal.h: the Tokenizer struct and the helpers shared by the
 * tokenizer's source files (tokenizer_maps.c: the byte map, the hash and
 * the string maps; tokenizer.c: BPE, encode/decode; tokenizer_build.c:
 * construction and validation; tokenizer_json.c:
 * tokenizer.json load/save; tokenizer_synth.c: the synthetic vocabulary).
 * Not part of the public API. */
#ifndef BITT_TOKENIZER_INTERNAL_H
#define BITT_TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ac_match.h"
#include "tokenizer.h"

#define TOK_MAX_ID 10000000 /* ids must be < this */

/* Per-id flags. */
#define TOK_IN_VOCAB 1u /* the id has a model.vocab entry */
#define TOK_ADDED 2u    /* the id is an added token */
#define TOK_SPECIAL 4u  /* ... a special one */

/* A token string stored in Tokenizer.pool (NUL-terminated there). */
typedef struct TokEntry {
    uint32_t off, len;
    int32_t id;
} TokEntry;

typedef struct AddedTok {
    uint32_t entry; /* index into entries: id and content */
    uint8_t special, single_word, lstrip, rstrip, normalized;
} AddedTok;

/* Open-addressing map from a string (a TokEntry) to its entry index. */
typedef struct StrMap {
    uint64_t *slots; /* (hash << 32) | (entry + 1); 0 = empty */
    uint32_t cap;    /* power of two, or 0 */
    uint32_t count;
} StrMap;

/* Open-addressing map from a pair of ids to (rank, merged id). */
typedef struct MergeMap {
    uint64_t *keys; /* (left << 32) | right; MERGE_EMPTY = empty */
    int32_t *rank;
    int32_t *merged;
    uint32_t cap;
    uint32_t count;
} MergeMap;
#define MERGE_EMPTY UINT64_MAX

/* The added tokens matched in one pass: for each position of a text, the
 * longest one that starts there, in linear time (ac_match.h). */
typedef struct AddedIndex {
    uint32_t *added; /* string i of the matcher is Tokenizer.added[added[i]] */
    AcMatcher match;
    size_t n;
} AddedIndex;

struct Tokenizer {
    char *source; /* names the tokenizer in error messages */

    char *pool; /* all token strings */
    size_t pool_len, pool_cap;
    TokEntry *entries;
    size_t n_entries, cap_entries;
    StrMap vocab_map; /* model.vocab strings */
    StrMap added_map; /* added tokens' contents */
    AddedTok *added;    /* in id order once tok_finish() has run */
    size_t n_added, cap_added;
    int64_t max_added; /* largest added-token id so far */

    MergeMap merges;
    int32_t *merge_list; /* 2 ids per merge, in rank order (for saving) */
    size_t n_merges, cap_merges;

    /* Filled by tok_finish(). */
    int32_t n_ids;
    int32_t *id_entry; /* vocab entry (else added entry) of each id, -1 for a hole */
    uint8_t *id_flags;
    uint32_t *raw_off; /* n_ids + 1 offsets into raw */
    char *raw;         /* byte-level decoded bytes of every id */
    int32_t byte_id[256]; /* id of the one-char token of each byte, -1 if absent */
    AddedIndex index[2];  /* [0]: normalized = false, [1]: normalized = true */

    /* Settings. */
    int add_prefix_space, use_regex, ignore_merges, fuse_unk;
    char *unk_token; /* NULL when null */
    int32_t unk_id;  /* -1 when none or not in the vocab */
};

/* The GPT-2 byte <-> char map. */
uint32_t tok_byte_to_char(unsigned char b);
/* The byte a char stands for, or -1. */
int tok_char_to_byte(uint32_t cp);

uint32_t tok_hash(const void *data, size_t len);

/* Construction (tokenizer_build.c). All return 0 or -1 with err filled, the
 * message starting with tok->source. */
Tokenizer *tok_new(const char *source, BittError *err);
/* Looks up a model.vocab string; -1 if absent. */
int32_t tok_vocab_find(const Tokenizer *tok, const char *s, size_t len);
/* The string maps (tokenizer_maps.c): the entry of a string (-1: absent),
 * and insertion of entry e (-1 when out of memory). */
int32_t tok_strmap_find(const Tokenizer *tok, const StrMap *m, const char *s, size_t len);
int tok_strmap_insert(Tokenizer *tok, StrMap *m, uint32_t e);
/* An entry's string in the pool (NUL-terminated). */
static inline const char *tok_entry_str(const Tokenizer *tok, uint32_t e) { return tok->pool + tok->entries[e].off; }
int32_t tok_added_find(const Tokenizer *tok, const char *s, size_t len);
int tok_add_vocab(Tokenizer *tok, const char *s, size_t len, int64_t id, BittError *err);
int tok_add_added(Tokenizer *tok, const char *s, size_t len, int64_t id, const AddedTok *flags,
                  BittError *err);
/* Adds the merge of two vocab strings; what names it in messages (e.g. "merge #3"). */
int tok_add_merge(Tokenizer *tok, const char *a, size_t alen, const char *b, size_t blen,
                  const char *what, BittError *err);
int tok_set_unk(Tokenizer *tok, const char *unk, BittError *err);
/* Builds the per-id tables; call once after everything is added. */
int tok_finish(Tokenizer *tok, BittError *err);

/* Looks up a merge: returns its rank and stores the merged id, or returns -1. */
static inline int32_t tok_merge_find(const MergeMap *m, int32_t a, int32_t b, int32_t *merged) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    uint32_t mask = m->cap - 1, i;
    if (m->cap == 0) return -1;
    i = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    for (;;) {
        uint64_t k = m->keys[i];
        if (k == key) {
            *merged = m->merged[i];
            return m->rank[i];
        }
        if (k == MERGE_EMPTY) return -1;
        i = (i + 1) & mask;
    }
}

#endif
