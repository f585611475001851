/* ac_match.c: the reversed Aho-Corasick matcher of ac_match.h.
 *
 * The trie holds every string reversed. Reading the text backwards, the
 * automaton state after s[j] is the longest string of the form s[j .. k)
 * whose reversal is a trie path, i.e. that is a suffix of some string; the
 * strings equal to some s[j .. j + l) are exactly those among the suffixes
 * of that state's path (read backwards), the longest of which the state
 * records (from its failure chain, once, at build time). Each text byte
 * costs O(1) amortised: at most one edge taken, failure links only shorten
 * the state. Edges live in one hash table keyed by (state, byte), so memory
 * is linear in the total length of the strings, whatever the alphabet. */
#include "ac_match.h"

#include <stdlib.h>
#include <string.h>

#define NO_STATE UINT32_MAX

static uint64_t slot_of(uint64_t key, uint64_t mask) {
    return (key * 0x9E3779B97F4A7C15ull >> 17) & mask;
}

static uint32_t edge_get(const AcMatcher *m, uint32_t state, unsigned char c) {
    const uint64_t key = (((uint64_t)state << 8) | c) + 1, mask = m->cap - 1;
    for (uint64_t i = slot_of(key, mask);; i = (i + 1) & mask) {
        if (m->keys[i] == key) return m->child[i];
        if (m->keys[i] == 0) return NO_STATE;
    }
}

static void edge_put(AcMatcher *m, uint32_t state, unsigned char c, uint32_t to) {
    const uint64_t key = (((uint64_t)state << 8) | c) + 1, mask = m->cap - 1;
    uint64_t i = slot_of(key, mask);
    while (m->keys[i] != 0) i = (i + 1) & mask;
    m->keys[i] = key;
    m->child[i] = to;
}

void ac_free(AcMatcher *m) {
    free(m->fail);
    free(m->longest);
    free(m->keys);
    free(m->child);
    memset(m, 0, sizeof *m);
}

int ac_build(AcMatcher *m, const char *const *strs, const size_t *lens, size_t n) {
    memset(m, 0, sizeof *m);
    if (n == 0) return 0;
    uint64_t total = 1; /* states: the root plus at most one per string byte */
    size_t max_len = 0;
    for (size_t i = 0; i < n; i++) {
        total += lens[i];
        if (lens[i] > max_len) max_len = lens[i];
    }
    if (total >= NO_STATE || n > (size_t)INT32_MAX) return -1;
    uint64_t cap = 16;
    while (cap < 2 * total) cap *= 2;
    uint32_t *parent = malloc(total * sizeof *parent), *depth = malloc(total * sizeof *depth);
    unsigned char *byte = malloc(total);
    uint32_t *order = malloc(total * sizeof *order), *count = calloc(max_len + 2, sizeof *count);
    m->fail = malloc(total * sizeof *m->fail);
    m->longest = malloc(total * sizeof *m->longest);
    m->keys = calloc(cap, sizeof *m->keys);
    m->child = malloc(cap * sizeof *m->child);
    m->cap = cap;
    int rc = 0;
    if (!parent || !depth || !byte || !order || !count || !m->fail || !m->longest || !m->keys || !m->child) {
        rc = -1;
        goto done;
    }
    /* the trie of the reversed strings */
    m->n_states = 1;
    parent[0] = 0;
    depth[0] = 0;
    byte[0] = 0;
    m->longest[0] = -1;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *s = (const unsigned char *)strs[i];
        uint32_t state = 0;
        for (size_t k = lens[i]; k-- > 0;) {
            uint32_t next = edge_get(m, state, s[k]);
            if (next == NO_STATE) {
                next = m->n_states++;
                parent[next] = state;
                depth[next] = depth[state] + 1;
                byte[next] = s[k];
                m->longest[next] = -1;
                edge_put(m, state, s[k], next);
            }
            state = next;
        }
        m->longest[state] = (int32_t)i; /* the string itself: the longest suffix there is */
    }
    /* states in order of depth (a counting sort), so that every failure link
     * points to a state already done */
    for (uint32_t v = 0; v < m->n_states; v++) count[depth[v] + 1]++;
    for (size_t d = 1; d <= max_len + 1; d++) count[d] += count[d - 1];
    for (uint32_t v = 0; v < m->n_states; v++) order[count[depth[v]]++] = v;
    m->fail[0] = 0;
    for (uint32_t k = 1; k < m->n_states; k++) {
        const uint32_t v = order[k], p = parent[v];
        uint32_t f = 0;
        if (p != 0) {
            for (uint32_t g = m->fail[p];; g = m->fail[g]) {
                const uint32_t to = edge_get(m, g, byte[v]);
                if (to != NO_STATE) { f = to; break; }
                if (g == 0) break;
            }
        }
        m->fail[v] = f;
        if (m->longest[v] < 0) m->longest[v] = m->longest[f];
    }
done:
    free(parent);
    free(depth);
    free(byte);
    free(order);
    free(count);
    if (rc) ac_free(m);
    return rc;
}

void ac_longest_at(const AcMatcher *m, const unsigned char *s, size_t len, int32_t *out) {
    uint32_t state = 0;
    if (m->n_states == 0) {
        for (size_t j = 0; j < len; j++) out[j] = -1;
        return;
    }
    for (size_t j = len; j-- > 0;) {
        for (;;) {
            const uint32_t to = edge_get(m, state, s[j]);
            if (to != NO_STATE) { state = to; break; }
            if (state == 0) break;
            state = m->fail[state];
        }
        out[j] = m->longest[state];
    }
}
