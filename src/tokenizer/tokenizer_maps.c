/* tokenizer_maps.c: the lookup tables every part of the tokenizer reads:
 * the GPT-2 byte <-> char map of byte-level BPE, the string hash, and the
 * open-addressing maps from token strings to their entries. Construction
 * (tokenizer_build.c) fills them, the runtime (tokenizer.c) reads them:
 * both depend on this file, not on each other. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

/* ---- the GPT-2 byte map ---- */

static int printable_byte(unsigned b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* The 68 other bytes, in order (0..32, 127..160, 173), map to U+0100.. */
uint32_t tok_byte_to_char(unsigned char b) {
    if (printable_byte(b)) return b;
    if (b <= 32) return 256u + b;
    if (b >= 127 && b <= 160) return 256u + 33u + (b - 127u);
    return 256u + 67u; /* 173 */
}

int tok_char_to_byte(uint32_t cp) {
    uint32_t n;
    if (cp < 256) return printable_byte(cp) ? (int)cp : -1;
    n = cp - 256;
    if (n <= 32) return (int)n;
    if (n <= 66) return (int)(127 + n - 33);
    if (n == 67) return 173;
    return -1;
}

uint32_t tok_hash(const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t h = 0x243F6A8885A308D3ull ^ (len * 0x9E3779B97F4A7C15ull);
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t v = 0;
        memcpy(&v, p, len);
        h = (h ^ v) * 0x9E3779B97F4A7C15ull;
    }
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* ---- string map ---- */

int32_t tok_strmap_find(const Tokenizer *tok, const StrMap *m, const char *s, size_t len) {
    uint32_t h, i, mask;
    if (m->cap == 0) return -1;
    h = tok_hash(s, len);
    mask = m->cap - 1;
    for (i = h & mask;; i = (i + 1) & mask) {
        uint64_t v = m->slots[i];
        uint32_t e;
        if (v == 0) return -1;
        e = (uint32_t)v - 1;
        if ((uint32_t)(v >> 32) == h && tok->entries[e].len == len &&
            memcmp(tok_entry_str(tok, e), s, len) == 0)
            return (int32_t)e;
    }
}

int tok_strmap_insert(Tokenizer *tok, StrMap *m, uint32_t e) {
    uint32_t mask, i;
    if ((m->count + 1) * 2 > m->cap) {
        uint32_t ncap = m->cap ? m->cap * 2 : 64, j;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns) return -1;
        for (j = 0; j < m->cap; j++) {
            uint64_t v = m->slots[j];
            if (v) {
                for (i = (uint32_t)(v >> 32) & (ncap - 1); ns[i]; i = (i + 1) & (ncap - 1)) {
                }
                ns[i] = v;
            }
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    {
        const TokEntry *te = &tok->entries[e];
        uint32_t h = tok_hash(tok->pool + te->off, te->len);
        mask = m->cap - 1;
        for (i = h & mask; m->slots[i]; i = (i + 1) & mask) {
        }
        m->slots[i] = ((uint64_t)h << 32) | (e + 1);
        m->count++;
    }
    return 0;
}

int32_t tok_vocab_find(const Tokenizer *tok, const char *s, size_t len) {
    int32_t e = tok_strmap_find(tok, &tok->vocab_map, s, len);
    return e < 0 ? -1 : tok->entries[e].id;
}

int32_t tok_added_find(const Tokenizer *tok, const char *s, size_t len) {
    int32_t e = tok_strmap_find(tok, &tok->added_map, s, len);
    return e < 0 ? -1 : tok->entries[e].id;
}

