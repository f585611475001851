/* ac_match.h: for every position of a text, the longest of a set of byte
 * strings that starts there, in time linear in the text (plus the total
 * length of the strings to build): an Aho-Corasick automaton over the
 * reversed strings, run over the text from its end. The tokenizer matches
 * its added tokens with it (leftmost, then longest, as Hugging Face does),
 * so that many added tokens sharing a prefix cost nothing per position. */
#ifndef BITT_AC_MATCH_H
#define BITT_AC_MATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct AcMatcher {
    uint32_t n_states;  /* 0 when built from no strings */
    uint32_t *fail;     /* per state: the longest proper suffix of its string that is a state */
    int32_t *longest;   /* per state: the longest string that is a suffix of the state's, or -1 */
    uint64_t *keys;     /* trie edges, open addressing: (state << 8 | byte) + 1, 0 = empty */
    uint32_t *child;
    uint64_t cap;       /* slots of keys / child: a power of two */
} AcMatcher;

/* Builds the matcher of n strings (strs[i], lens[i] bytes each, non-empty,
 * no two equal). Returns 0, or -1 when out of memory (m is then empty). */
int ac_build(AcMatcher *m, const char *const *strs, const size_t *lens, size_t n);
void ac_free(AcMatcher *m);
/* out[j] = index of the longest string equal to s[j .. j + its length), or
 * -1, for every j in [0, len). */
void ac_longest_at(const AcMatcher *m, const unsigned char *s, size_t len, int32_t *out);

#endif
