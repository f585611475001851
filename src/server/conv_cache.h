/* conv_cache.h: the server's memory of conversations. Each entry holds a
 * TTT state (the state file bytes of SPEC 3.4), the token ids that state has
 * read (when known), the one drawn token it has not read yet (or -1), and an
 * id. A request finds the entry whose tokens are the longest prefix of its
 * prompt (prefix hashes, then the stored ids compared), so the next turn of
 * a chat reads only its new tokens; or names an entry by id to continue it.
 * Bounded in entries and bytes, least recently used evicted first.
 * Thread-safe; entries are reference-counted, so one in use survives its
 * eviction until released. */
#ifndef BITT_SERVER_CONV_CACHE_H
#define BITT_SERVER_CONV_CACHE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define CONV_ID_MAX 64

typedef struct ConvEntry {
    char id[CONV_ID_MAX + 1];
    uint8_t *state;          /* state file bytes */
    size_t state_len;
    int32_t *tokens;         /* the ids the state has read; NULL when unknown (an imported state) */
    size_t n_tokens;
    uint64_t hash;           /* conv_hash of tokens */
    int32_t unread;          /* a drawn token not yet read, or -1 */
    int64_t token_count;     /* tokens the state has read (its metadata) */
    int in_use;              /* held by a request that continues it by id */
    /* owned by the cache */
    int refs;
    int linked;              /* still findable (not evicted / replaced / deleted) */
    uint64_t last_used;
    size_t bytes;
} ConvEntry;

typedef struct ConvCacheStats {
    size_t entries, bytes, max_entries, max_bytes;
    uint64_t hits, misses, evictions, inserts;
} ConvCacheStats;

typedef struct ConvCache {
    pthread_mutex_t lock;
    ConvEntry **entries;
    size_t n, cap;
    size_t max_entries, max_bytes, bytes;
    uint64_t clock;
    uint64_t hits, misses, evictions, inserts;
    uint64_t id_state;       /* for new ids */
} ConvCache;

/* FNV-1a over the ids, extended one id at a time (h0 = conv_hash(NULL, 0)). */
uint64_t conv_hash_step(uint64_t h, int32_t id);
uint64_t conv_hash(const int32_t *ids, size_t n);

/* max_entries 0 turns the cache off (nothing is kept). id_seed makes new ids
 * unpredictable. */
int conv_cache_init(ConvCache *c, size_t max_entries, size_t max_bytes, uint64_t id_seed);
void conv_cache_free(ConvCache *c);

/* The entry with known tokens that are the longest prefix of ids[0..n) (at
 * most n of them), with a reference; NULL if none. Counts a hit or a miss. */
ConvEntry *conv_cache_find_prefix(ConvCache *c, const int32_t *ids, size_t n);
/* The entry of that id with a reference, or NULL. */
ConvEntry *conv_cache_get(ConvCache *c, const char *id);
/* Like conv_cache_get, and marks it in use: *busy = 1 (and NULL) if another
 * request holds it. */
ConvEntry *conv_cache_checkout(ConvCache *c, const char *id, int *busy);
/* Drops a reference (and the in-use mark when in_use is 1). */
void conv_cache_release(ConvCache *c, ConvEntry *e, int in_use);

/* Stores a state (the cache copies nothing: it takes state and tokens, which
 * must be malloc'd; on failure they are freed). id NULL: a new id; else the
 * entry of that id is replaced. The id is written to id_out (CONV_ID_MAX + 1
 * bytes) when given. Evicts least recently used entries to fit; returns 0, or
 * -1 when the cache is off or the entry alone is larger than the cache. */
int conv_cache_put(ConvCache *c, const char *id, uint8_t *state, size_t state_len, int32_t *tokens, size_t n_tokens,
                   int32_t unread, int64_t token_count, char *id_out);
/* Removes the entry of that id: 1 if there was one. */
int conv_cache_delete(ConvCache *c, const char *id);
ConvCacheStats conv_cache_stats(ConvCache *c);
/* Calls fn for every entry (under the lock: fn must not call the cache). */
void conv_cache_each(ConvCache *c, void (*fn)(const ConvEntry *e, void *user), void *user);

#endif
