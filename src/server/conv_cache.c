/* conv_cache.c: the conversation cache (conv_cache.h): a small array of
 * reference-counted entries under one mutex; lookups scan it (it holds at
 * most a few hundred entries), eviction takes the least recently used. */
#include "conv_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../util/grow.h"

uint64_t conv_hash_step(uint64_t h, int32_t id) {
    uint32_t u = (uint32_t)id;
    for (int i = 0; i < 4; i++) {
        h ^= (u >> (8 * i)) & 0xffu;
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t conv_hash(const int32_t *ids, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = conv_hash_step(h, ids[i]);
    return h;
}

int conv_cache_init(ConvCache *c, size_t max_entries, size_t max_bytes, uint64_t id_seed) {
    memset(c, 0, sizeof *c);
    if (pthread_mutex_init(&c->lock, NULL) != 0) return -1;
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    c->id_state = id_seed;
    return 0;
}

static void entry_free(ConvEntry *e) {
    free(e->state);
    free(e->tokens);
    free(e);
}

void conv_cache_free(ConvCache *c) {
    for (size_t i = 0; i < c->n; i++) entry_free(c->entries[i]); /* requests are over: no references left */
    free(c->entries);
    pthread_mutex_destroy(&c->lock);
    memset(c, 0, sizeof *c);
}

/* Takes entry i out of the array (under the lock); frees it if unreferenced. */
static void unlink_at(ConvCache *c, size_t i) {
    ConvEntry *e = c->entries[i];
    c->entries[i] = c->entries[--c->n];
    c->bytes -= e->bytes;
    e->linked = 0;
    if (e->refs == 0) entry_free(e);
}

static ConvEntry *take_ref(ConvCache *c, ConvEntry *e) {
    e->refs++;
    e->last_used = ++c->clock;
    return e;
}

ConvEntry *conv_cache_find_prefix(ConvCache *c, const int32_t *ids, size_t n) {
    uint64_t *prefix = malloc((n + 1) * sizeof *prefix); /* prefix[k]: hash of ids[0..k) */
    if (!prefix) return NULL;
    prefix[0] = conv_hash(NULL, 0);
    for (size_t k = 0; k < n; k++) prefix[k + 1] = conv_hash_step(prefix[k], ids[k]);
    pthread_mutex_lock(&c->lock);
    ConvEntry *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        ConvEntry *e = c->entries[i];
        if (!e->tokens || e->n_tokens == 0 || e->n_tokens > n || e->hash != prefix[e->n_tokens]) continue;
        if (best && best->n_tokens >= e->n_tokens) continue;
        if (memcmp(e->tokens, ids, e->n_tokens * sizeof *ids) == 0) best = e;
    }
    if (best) {
        take_ref(c, best);
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->lock);
    free(prefix);
    return best;
}

static ssize_t index_of(const ConvCache *c, const char *id) {
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->entries[i]->id, id) == 0) return (ssize_t)i;
    return -1;
}

ConvEntry *conv_cache_get(ConvCache *c, const char *id) {
    pthread_mutex_lock(&c->lock);
    ssize_t i = index_of(c, id);
    ConvEntry *e = i >= 0 ? take_ref(c, c->entries[i]) : NULL;
    pthread_mutex_unlock(&c->lock);
    return e;
}

ConvEntry *conv_cache_checkout(ConvCache *c, const char *id, int *busy) {
    *busy = 0;
    pthread_mutex_lock(&c->lock);
    ssize_t i = index_of(c, id);
    ConvEntry *e = NULL;
    if (i >= 0 && c->entries[i]->in_use) {
        *busy = 1;
    } else if (i >= 0) {
        e = take_ref(c, c->entries[i]);
        e->in_use = 1;
        c->hits++;
    }
    pthread_mutex_unlock(&c->lock);
    return e;
}

void conv_cache_release(ConvCache *c, ConvEntry *e, int in_use) {
    if (!e) return;
    pthread_mutex_lock(&c->lock);
    if (in_use) e->in_use = 0;
    if (--e->refs == 0 && !e->linked) entry_free(e);
    pthread_mutex_unlock(&c->lock);
}

/* A new id: "conv-" and 16 hex digits of a splitmix64 stream. */
static void new_id(ConvCache *c, char *out) {
    uint64_t z = (c->id_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    snprintf(out, CONV_ID_MAX + 1, "conv-%016llx", (unsigned long long)z);
}

/* The least recently used entry's index, or -1 when empty. */
static ssize_t lru_index(const ConvCache *c) {
    ssize_t best = -1;
    for (size_t i = 0; i < c->n; i++)
        if (best < 0 || c->entries[i]->last_used < c->entries[best]->last_used) best = (ssize_t)i;
    return best;
}

int conv_cache_put(ConvCache *c, const char *id, uint8_t *state, size_t state_len, int32_t *tokens, size_t n_tokens,
                   int32_t unread, int64_t token_count, char *id_out) {
    const size_t bytes = sizeof(ConvEntry) + state_len + n_tokens * sizeof *tokens;
    ConvEntry *e = NULL;
    if (c->max_entries == 0 || bytes > c->max_bytes || !(e = calloc(1, sizeof *e))) {
        free(state);
        free(tokens);
        return -1;
    }
    e->state = state;
    e->state_len = state_len;
    e->tokens = tokens;
    e->n_tokens = tokens ? n_tokens : 0;
    e->hash = tokens ? conv_hash(tokens, n_tokens) : 0;
    e->unread = unread;
    e->token_count = token_count;
    e->bytes = bytes;
    e->linked = 1;
    pthread_mutex_lock(&c->lock);
    if (id) {
        snprintf(e->id, sizeof e->id, "%s", id);
        ssize_t old = index_of(c, id);
        if (old >= 0) unlink_at(c, (size_t)old);
    } else {
        do new_id(c, e->id);
        while (index_of(c, e->id) >= 0);
    }
    while (c->n > 0 && (c->n + 1 > c->max_entries || c->bytes + bytes > c->max_bytes)) {
        unlink_at(c, (size_t)lru_index(c));
        c->evictions++;
    }
    if (grow_array(&c->entries, &c->cap, c->n + 1, sizeof *c->entries) != 0) {
        pthread_mutex_unlock(&c->lock);
        entry_free(e);
        return -1;
    }
    e->last_used = ++c->clock;
    c->entries[c->n++] = e;
    c->bytes += bytes;
    c->inserts++;
    if (id_out) memcpy(id_out, e->id, sizeof e->id);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int conv_cache_delete(ConvCache *c, const char *id) {
    pthread_mutex_lock(&c->lock);
    ssize_t i = index_of(c, id);
    if (i >= 0) unlink_at(c, (size_t)i);
    pthread_mutex_unlock(&c->lock);
    return i >= 0;
}

ConvCacheStats conv_cache_stats(ConvCache *c) {
    pthread_mutex_lock(&c->lock);
    ConvCacheStats s = {c->n, c->bytes, c->max_entries, c->max_bytes, c->hits, c->misses, c->evictions, c->inserts};
    pthread_mutex_unlock(&c->lock);
    return s;
}

void conv_cache_each(ConvCache *c, void (*fn)(const ConvEntry *e, void *user), void *user) {
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n; i++) fn(c->entries[i], user);
    pthread_mutex_unlock(&c->lock);
}
