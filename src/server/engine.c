/* engine.c: slots, the queue, the counters, and the life of a Job
 * (engine.h): prompt -> tokens -> a memory from the cache -> the new tokens
 * read -> tokens drawn -> the memory stored again. */
#include "engine.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Tokens fed per call while reading a prompt: a multiple of the engine's
 * chunk of 64, so the arithmetic is the same as one call over all of them
 * (the same bits as `bitt generate`), with a cancellation check between. */
#define FEED_BLOCK 256

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t random_seed(void) {
    uint64_t s = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &s, sizeof s) != (ssize_t)sizeof s) s = 0;
        close(fd);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return s ^ ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
}

/* "run/checkpoint/" -> "checkpoint", "models/story.bitt" -> "story" */
static void name_of_path(const char *path, char *out, size_t cap) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/') start--;
    size_t len = n - start;
    if (len > 5 && memcmp(path + n - 5, ".bitt", 5) == 0) len -= 5;
    if (len >= cap) len = cap - 1;
    memcpy(out, path + start, len);
    out[len] = 0;
    if (!out[0]) snprintf(out, cap, "bitt");
}

int engine_open(Engine *e, const ServerConfig *cfg, BittError *err) {
    memset(e, 0, sizeof *e);
    e->cfg = *cfg;
    e->started = (int64_t)time(NULL);
    e->rng = random_seed();
    atomic_init(&e->stopping, 0);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->slot_freed, NULL);
    if (cfg->parallel < 1) return bitt_fail(err, "parallel must be >= 1 (got %d)", cfg->parallel);
    /* the kernel thread pool is one per process: several sessions at once run single-threaded */
    bitt_set_threads(cfg->parallel > 1 ? 1 : cfg->threads);
    if (bitt_model_load(cfg->model_path, &e->model, err) != 0) return -1;
    if (cfg->lm_head_int8 >= 0 && bitt_model_set_lm_head_int8(e->model, cfg->lm_head_int8, err) != 0) return -1;
    if (cfg->model_name) snprintf(e->model_name, sizeof e->model_name, "%s", cfg->model_name);
    else name_of_path(cfg->model_path, e->model_name, sizeof e->model_name);
    if (chat_template_load(cfg->model_path, &e->tpl, err) != 0) return -1;
    e->eos = bitt_token_id(e->model, "</s>");
    e->slots = calloc((size_t)cfg->parallel, sizeof *e->slots);
    if (!e->slots) return bitt_fail(err, "out of memory");
    for (int i = 0; i < cfg->parallel; i++) {
        if (bitt_session_new(e->model, &e->slots[i].session, err) != 0) return -1;
        e->n_slots = i + 1;
    }
    e->state_bytes = bitt_state_bytes(e->slots[0].session);
    if (conv_cache_init(&e->cache, (size_t)(cfg->cache_entries > 0 ? cfg->cache_entries : 0), cfg->cache_bytes,
                        splitmix(&e->rng)) != 0)
        return bitt_fail(err, "cannot set up the conversation cache");
    e->cache_ready = 1;
    return 0;
}

void engine_close(Engine *e) {
    for (int i = 0; i < e->n_slots; i++) bitt_session_free(e->slots[i].session);
    free(e->slots);
    if (e->cache_ready) conv_cache_free(&e->cache);
    chat_template_free(&e->tpl);
    bitt_model_free(e->model);
    pthread_cond_destroy(&e->slot_freed);
    pthread_mutex_destroy(&e->lock);
    memset(e, 0, sizeof *e);
}

AcquireResult engine_acquire(Engine *e, CancelFn cancelled, void *user, EngineSlot **slot) {
    *slot = NULL;
    pthread_mutex_lock(&e->lock);
    if (e->busy >= e->n_slots && e->waiting >= e->cfg.queue) {
        e->stats.rejected_busy++;
        pthread_mutex_unlock(&e->lock);
        return ACQUIRE_BUSY;
    }
    e->waiting++;
    while (e->busy >= e->n_slots) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000 * 1000; /* look at the client every 100 ms while queued */
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&e->slot_freed, &e->lock, &until);
        if (e->busy < e->n_slots) break;
        if (atomic_load(&e->stopping) || (cancelled && cancelled(user))) {
            e->waiting--;
            pthread_mutex_unlock(&e->lock);
            return ACQUIRE_CANCELLED;
        }
    }
    e->waiting--;
    for (int i = 0; i < e->n_slots; i++) {
        if (!e->slots[i].busy) {
            e->slots[i].busy = 1;
            e->busy++;
            *slot = &e->slots[i];
            break;
        }
    }
    pthread_mutex_unlock(&e->lock);
    return ACQUIRE_OK;
}

void engine_release(Engine *e, EngineSlot *slot) {
    if (!slot) return;
    pthread_mutex_lock(&e->lock);
    slot->busy = 0;
    e->busy--;
    pthread_cond_signal(&e->slot_freed);
    pthread_mutex_unlock(&e->lock);
}

void engine_new_id(Engine *e, const char *prefix, char *out, size_t cap) {
    pthread_mutex_lock(&e->lock);
    uint64_t a = splitmix(&e->rng), b = splitmix(&e->rng);
    pthread_mutex_unlock(&e->lock);
    snprintf(out, cap, "%s%016llx%08llx", prefix, (unsigned long long)a, (unsigned long long)(b >> 32));
}

void engine_count(Engine *e, int outcome) {
    pthread_mutex_lock(&e->lock);
    if (outcome == 0) e->stats.completed++;
    else if (outcome == 1) e->stats.cancelled++;
    else if (outcome == 2) e->stats.failed++;
    pthread_mutex_unlock(&e->lock);
}

static void key_int(JsonWriter *w, const char *key, int64_t v) {
    jw_key(w, key);
    jw_int(w, v);
}

void engine_health_json(Engine *e, JsonWriter *w) {
    pthread_mutex_lock(&e->lock);
    EngineStats st = e->stats;
    int busy = e->busy, waiting = e->waiting;
    pthread_mutex_unlock(&e->lock);
    ConvCacheStats cs = conv_cache_stats(&e->cache);
    jw_begin_object(w);
    jw_key(w, "status");
    jw_string(w, "ok");
    jw_key(w, "model");
    jw_string(w, e->model_name);
    key_int(w, "uptime_s", (int64_t)time(NULL) - e->started);
    jw_key(w, "slots");
    jw_begin_object(w);
    key_int(w, "parallel", e->n_slots);
    key_int(w, "busy", busy);
    key_int(w, "queued", waiting);
    key_int(w, "queue_limit", e->cfg.queue);
    key_int(w, "threads", e->n_slots > 1 ? 1 : e->cfg.threads);
    jw_end_object(w);
    jw_key(w, "cache");
    jw_begin_object(w);
    key_int(w, "entries", (int64_t)cs.entries);
    key_int(w, "bytes", (int64_t)cs.bytes);
    key_int(w, "max_entries", (int64_t)cs.max_entries);
    key_int(w, "max_bytes", (int64_t)cs.max_bytes);
    key_int(w, "hits", (int64_t)cs.hits);
    key_int(w, "misses", (int64_t)cs.misses);
    key_int(w, "evictions", (int64_t)cs.evictions);
    key_int(w, "state_bytes", (int64_t)e->state_bytes);
    jw_end_object(w);
    jw_key(w, "requests");
    jw_begin_object(w);
    key_int(w, "started", (int64_t)st.requests);
    key_int(w, "completed", (int64_t)st.completed);
    key_int(w, "cancelled", (int64_t)st.cancelled);
    key_int(w, "failed", (int64_t)st.failed);
    key_int(w, "rejected_busy", (int64_t)st.rejected_busy);
    jw_end_object(w);
    jw_key(w, "tokens");
    jw_begin_object(w);
    key_int(w, "prompt", (int64_t)st.prompt_tokens);
    key_int(w, "read", (int64_t)st.tokens_read);
    key_int(w, "cached", (int64_t)st.tokens_cached);
    key_int(w, "generated", (int64_t)st.tokens_generated);
    jw_end_object(w);
    jw_end_object(w);
}

/* ---- jobs ---- */

static int oom(ApiError *err) { return api_error(err, 500, "server_error", NULL, NULL, "out of memory"); }

int job_init(Job *j, Engine *e, GenRequest *req, ApiError *err) {
    memset(j, 0, sizeof *j);
    j->e = e;
    j->req = req;
    j->explicit_conv = req->conversation_id[0] != 0;
    BittError berr;
    char *rendered = NULL;
    size_t rlen = 0;
    const char *text = req->prompt;
    size_t len = req->prompt_len;
    if (req->kind == REQ_CHAT) {
        if (chat_template_render(&e->tpl, req->messages, req->n_messages, &rendered, &rlen, &berr) != 0) return oom(err);
        text = rendered;
        len = rlen;
    }
    if (!rendered) { /* kept for job_store */
        rendered = malloc(len + 1);
        if (!rendered) return oom(err);
        if (len) memcpy(rendered, text, len);
        rendered[len] = 0;
    }
    j->prompt_text = rendered;
    j->prompt_text_len = len;
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = bitt_encode(e->model, rendered, len, &ids, &n, &berr);
    if (rc != 0) return api_error(err, 400, "invalid_request_error", NULL, "invalid_value", "%s", berr.message);
    const int with_start = !j->explicit_conv && e->eos >= 0; /* a fresh memory reads </s> first, as bitt generate */
    j->ids = malloc((n + 1) * sizeof *j->ids);
    if (!j->ids) {
        bitt_free(ids);
        return oom(err);
    }
    if (with_start) j->ids[0] = e->eos;
    if (n) memcpy(j->ids + with_start, ids, n * sizeof *ids);
    j->n_ids = n + (size_t)with_start;
    bitt_free(ids);
    const char *param = req->kind == REQ_CHAT ? "messages" : "prompt";
    if (j->n_ids > (size_t)e->cfg.max_prompt_tokens)
        return api_error(err, 400, "invalid_request_error", param, "context_length_exceeded",
                         "the prompt is %zu tokens long; this server reads at most %d per request (--max-prompt-tokens)",
                         j->n_ids, e->cfg.max_prompt_tokens);
    j->max_tokens = req->max_tokens < 0 ? e->cfg.max_tokens : req->max_tokens;
    if (j->max_tokens > e->cfg.max_tokens_limit)
        return api_error(err, 400, "invalid_request_error", "max_tokens", "invalid_value",
                         "max_tokens %d is above this server's limit of %d (--max-tokens-limit)", j->max_tokens,
                         e->cfg.max_tokens_limit);
    j->sampling = req->sampling;
    if (!req->seed_given) {
        pthread_mutex_lock(&e->lock);
        j->sampling.seed = splitmix(&e->rng) >> 11; /* < 2^53: exact in JSON */
        pthread_mutex_unlock(&e->lock);
    }
    if (bitt_sampling_check(&j->sampling, &berr) != 0)
        return api_error(err, 400, "invalid_request_error", NULL, "invalid_value", "%s", berr.message);
    CompletionInfo *info = &j->info;
    info->kind = req->kind;
    engine_new_id(e, req->kind == REQ_CHAT ? "chatcmpl-" : "cmpl-", info->id, sizeof info->id);
    info->created = (int64_t)time(NULL);
    info->model = e->model_name;
    info->m = e->model;
    info->logprobs = req->logprobs;
    info->seed = j->sampling.seed;
    info->prompt_tokens = (int64_t)j->n_ids;
    pthread_mutex_lock(&e->lock);
    e->stats.requests++;
    e->stats.prompt_tokens += j->n_ids;
    pthread_mutex_unlock(&e->lock);
    return 0;
}

/* Feeds ids[from..to) in blocks, checking for cancellation in between. */
static int feed_blocks(Job *j, size_t from, size_t to, CancelFn cancelled, void *user, ApiError *err) {
    BittError berr;
    for (size_t at = from; at < to; at += FEED_BLOCK) {
        if (atomic_load(&j->e->stopping) || (cancelled && cancelled(user)))
            return api_error(err, 499, "cancelled", NULL, "cancelled", "the client went away");
        size_t n = to - at < FEED_BLOCK ? to - at : FEED_BLOCK;
        if (bitt_session_feed(j->slot->session, j->ids + at, n, &berr) != 0)
            return api_error(err, 400, "invalid_request_error", NULL, "invalid_value", "%s", berr.message);
    }
    return 0;
}

static int save_state(Job *j, uint8_t **buf, size_t *len) {
    BittError berr;
    return bitt_state_save(j->slot->session, buf, len, &berr);
}

static int32_t *copy_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
    int32_t *out = malloc((na + nb + 1) * sizeof *out);
    if (!out) return NULL;
    if (na) memcpy(out, a, na * sizeof *a);
    if (nb) memcpy(out + na, b, nb * sizeof *b);
    return out;
}

/* Stores the memory after the prompt (before the answer) under a new id:
 * the same prompt again (a regenerated answer) then reads nothing. */
static void store_prompt_checkpoint(Job *j) {
    uint8_t *state;
    size_t len;
    if (j->e->cache.max_entries == 0 || save_state(j, &state, &len) != 0) return;
    int32_t *tokens = copy_ids(j->ids, j->n_ids, NULL, 0);
    if (!tokens) {
        bitt_free(state);
        return;
    }
    conv_cache_put(&j->e->cache, NULL, state, len, tokens, j->n_ids, -1, bitt_session_tokens(j->slot->session),
                   j->info.conversation_id);
}

int job_start(Job *j, EngineSlot *slot, CancelFn cancelled, void *user, ApiError *err) {
    Engine *e = j->e;
    BittError berr;
    j->slot = slot;
    bitt_session *s = slot->session;
    size_t cached = 0, read = 0;
    if (j->explicit_conv) {
        int busy = 0;
        j->base = conv_cache_checkout(&e->cache, j->req->conversation_id, &busy);
        if (busy)
            return api_error(err, 409, "invalid_request_error", "conversation_id", "conversation_busy",
                             "conversation '%s' is in use by another request", j->req->conversation_id);
        if (!j->base)
            return api_error(err, 404, "invalid_request_error", "conversation_id", "conversation_not_found",
                             "no conversation '%s' (unknown, or evicted from the cache)", j->req->conversation_id);
        if (bitt_state_load(s, j->base->state, j->base->state_len, &berr) != 0)
            return api_error(err, 500, "server_error", NULL, NULL, "%s", berr.message);
        if (j->base->unread >= 0) { /* the answer's last token, drawn but not read yet */
            if (bitt_session_feed(s, &j->base->unread, 1, &berr) != 0)
                return api_error(err, 500, "server_error", NULL, NULL, "%s", berr.message);
            read++;
        }
        if (feed_blocks(j, 0, j->n_ids, cancelled, user, err) != 0) return -1;
        read += j->n_ids;
    } else {
        ConvEntry *hit = e->cache.max_entries ? conv_cache_find_prefix(&e->cache, j->ids, j->n_ids) : NULL;
        if (hit) {
            int rc = bitt_state_load(s, hit->state, hit->state_len, &berr);
            cached = hit->n_tokens;
            conv_cache_release(&e->cache, hit, 0);
            if (rc != 0) return api_error(err, 500, "server_error", NULL, NULL, "%s", berr.message);
        } else {
            bitt_session_reset(s);
        }
        size_t from = cached;
        if (from == 0 && j->n_ids > 0 && e->eos >= 0 && j->ids[0] == e->eos) {
            /* a fresh memory reads </s> on its own, then the prompt: as bitt generate does */
            if (feed_blocks(j, 0, 1, cancelled, user, err) != 0) return -1;
            from = 1;
        }
        if (feed_blocks(j, from, j->n_ids, cancelled, user, err) != 0) return -1;
        read = j->n_ids - cached;
        if (read > 0) store_prompt_checkpoint(j);
    }
    j->info.cached_tokens = (int64_t)cached;
    j->info.tokens_read = (int64_t)read;
    pthread_mutex_lock(&e->lock);
    e->stats.tokens_cached += cached;
    e->stats.tokens_read += read;
    pthread_mutex_unlock(&e->lock);
    bitt_generate_options o = bitt_generate_options_default(j->max_tokens);
    const char *stops[BITT_MAX_STOP_STRINGS];
    size_t stop_len[BITT_MAX_STOP_STRINGS];
    int n_stop = 0;
    for (int i = 0; i < j->req->n_stop; i++) {
        stops[n_stop] = j->req->stop[i];
        stop_len[n_stop++] = j->req->stop_len[i];
    }
    for (int i = 0; j->req->kind == REQ_CHAT && i < e->tpl.n_stop && n_stop < BITT_MAX_STOP_STRINGS; i++) {
        stops[n_stop] = e->tpl.stop[i];
        stop_len[n_stop++] = e->tpl.stop_len[i];
    }
    o.stop = stops;
    o.stop_len = stop_len;
    o.n_stop = n_stop;
    /* a conversation continued by id reads everything it draws (like bitt chat); an
     * anonymous one leaves the last token unread, so that the next turn, which sends
     * the answer back as text, finds this memory as a prefix of its tokens */
    o.leave_last_unread = !j->explicit_conv;
    o.top_logprobs = j->req->logprobs ? j->req->top_logprobs : -1;
    if (bitt_generation_start(s, &j->sampling, &o, &j->gen, &berr) != 0)
        return api_error(err, 400, "invalid_request_error", NULL, "invalid_value", "%s", berr.message);
    return 0;
}

static int append_text(Job *j, const char *s, size_t n) {
    if (n == 0) return 0;
    size_t need = j->text_len + n + 1;
    if (need > j->text_cap) {
        size_t cap = j->text_cap ? j->text_cap * 2 : 256;
        while (cap < need) cap *= 2;
        char *p = realloc(j->text, cap);
        if (!p) return -1;
        j->text = p;
        j->text_cap = cap;
    }
    memcpy(j->text + j->text_len, s, n);
    j->text_len += n;
    j->text[j->text_len] = 0;
    return 0;
}

static int add_drawn(Job *j, int32_t token) {
    if (j->n_drawn == j->cap_drawn) {
        size_t cap = j->cap_drawn ? 2 * j->cap_drawn : 64;
        int32_t *p = realloc(j->drawn, cap * sizeof *p);
        if (!p) return -1;
        j->drawn = p;
        j->cap_drawn = cap;
    }
    j->drawn[j->n_drawn++] = token;
    return 0;
}

/* Records the logprobs of a drawn token that has text. */
static int add_logprob(Job *j, int32_t token) {
    const bitt_model *m = j->e->model;
    if (token == j->e->eos || bitt_token_is_special(m, token)) return 0;
    size_t bytes = 0;
    bitt_token_bytes(m, token, &bytes);
    if (j->req->logprobs) {
        if (j->n_lp == j->cap_lp) {
            size_t cap = j->cap_lp ? 2 * j->cap_lp : 32;
            LogprobEntry *p = realloc(j->lp, cap * sizeof *p);
            if (!p) return -1;
            j->lp = p;
            j->cap_lp = cap;
        }
        LogprobEntry *le = &j->lp[j->n_lp++];
        memset(le, 0, sizeof *le);
        le->token = token;
        le->text_offset = j->token_bytes;
        const int32_t *ids;
        const double *lps;
        int k = bitt_generation_logprobs(j->gen, &le->logprob, &ids, &lps);
        le->n_top = k > 0 ? k : 0;
        for (int i = 0; i < le->n_top; i++) {
            le->top_ids[i] = ids[i];
            le->top_logprobs[i] = lps[i];
        }
    }
    j->token_bytes += bytes;
    return 0;
}

static const char *finish_name(bitt_finish_reason r) {
    return r == BITT_FINISH_EOS ? "eos" : r == BITT_FINISH_STOP ? "stop" : r == BITT_FINISH_LENGTH ? "length" : "none";
}

int job_step(Job *j, const char **piece, size_t *len, ApiError *err) {
    BittError berr;
    *piece = "";
    *len = 0;
    if (j->finished) return 0;
    if (atomic_load(&j->e->stopping))
        return api_error(err, 503, "server_error", NULL, "shutting_down", "the server is shutting down");
    int32_t token;
    const char *text;
    size_t n;
    int rc = bitt_generation_step(j->gen, &token, &text, &n, &berr);
    if (rc < 0) return api_error(err, 500, "server_error", NULL, NULL, "%s", berr.message);
    if (token >= 0 && (add_drawn(j, token) != 0 || add_logprob(j, token) != 0)) return oom(err);
    size_t before = j->text_len;
    if (append_text(j, text, n) != 0) return oom(err);
    *piece = j->text ? j->text + before : "";
    *len = n;
    if (rc == 0) {
        j->finished = 1;
        bitt_finish_reason why = bitt_generation_finish_reason(j->gen);
        j->info.bitt_finish = finish_name(why);
        j->info.finish_reason = why == BITT_FINISH_LENGTH ? "length" : "stop";
    }
    j->info.completion_tokens = (int64_t)j->n_drawn;
    return rc;
}

size_t job_take_logprobs(Job *j, const LogprobEntry **lp) {
    size_t from = j->lp_sent, to = from;
    while (to < j->n_lp && j->lp[to].text_offset < j->text_len) to++;
    *lp = j->lp ? j->lp + from : NULL;
    j->lp_sent = to;
    return to - from;
}

/* The tokens a server without a cache reads for the text of this exchange
 * (prompt, answer, the template's end of an answer), all but the last (its
 * text may still merge with what follows); NULL when out of memory. */
static int32_t *canonical_tokens(Job *j, size_t *n) {
    Engine *e = j->e;
    const int chat = j->req->kind == REQ_CHAT;
    const size_t tail = chat ? e->tpl.suffix_len[ROLE_ASSISTANT] : 0;
    size_t len = j->prompt_text_len + j->text_len + tail;
    char *text = malloc(len + 1);
    if (!text) return NULL;
    memcpy(text, j->prompt_text, j->prompt_text_len);
    if (j->text_len) memcpy(text + j->prompt_text_len, j->text, j->text_len);
    if (tail) memcpy(text + j->prompt_text_len + j->text_len, e->tpl.suffix[ROLE_ASSISTANT], tail);
    int32_t *ids = NULL;
    size_t m = 0;
    BittError berr;
    int rc = bitt_encode(e->model, text, len, &ids, &m, &berr);
    free(text);
    if (rc != 0) return NULL;
    const int with_start = e->eos >= 0;
    int32_t *out = malloc((m + 1) * sizeof *out);
    if (out) {
        if (with_start) out[0] = e->eos;
        if (m) memcpy(out + with_start, ids, m * sizeof *ids);
        *n = m + (size_t)with_start - (m > 0); /* the last one left out */
    }
    bitt_free(ids);
    return out;
}

/* Reads the canonical tokens of the exchange from the longest cached prefix
 * of them and stores that memory too (see job_store). The session is the
 * slot's: its state is replaced. */
static void store_canonical(Job *j, const int32_t *lazy, size_t n_lazy) {
    Engine *e = j->e;
    size_t n = 0;
    int32_t *canon = canonical_tokens(j, &n);
    if (!canon) return;
    const int extends = n > j->n_ids;                               /* beyond the prompt's own checkpoint */
    const int known = n <= n_lazy && memcmp(canon, lazy, n * sizeof *canon) == 0; /* the memory as it is covers it */
    ConvEntry *from = extends && !known ? conv_cache_find_prefix(&e->cache, canon, n) : NULL;
    /* re-reading costs a prefill: only from a prefix close enough */
    const size_t budget = 64 + 2 * j->n_drawn;
    BittError berr;
    bitt_session *s = j->slot->session;
    if (from && n - from->n_tokens <= budget && bitt_state_load(s, from->state, from->state_len, &berr) == 0) {
        const size_t start = from->n_tokens;
        conv_cache_release(&e->cache, from, 0);
        from = NULL;
        uint8_t *state;
        size_t len;
        if (bitt_session_feed(s, canon + start, n - start, &berr) == 0 && save_state(j, &state, &len) == 0) {
            int32_t *tokens = copy_ids(canon, n, NULL, 0);
            if (tokens) conv_cache_put(&e->cache, NULL, state, len, tokens, n, -1, bitt_session_tokens(s), NULL);
            else bitt_free(state);
        }
    }
    if (from) conv_cache_release(&e->cache, from, 0);
    free(canon);
}

void job_store(Job *j) {
    Engine *e = j->e;
    pthread_mutex_lock(&e->lock);
    e->stats.tokens_generated += j->n_drawn;
    pthread_mutex_unlock(&e->lock);
    if (!j->finished || !j->slot || e->cache.max_entries == 0) return;
    bitt_session *s = j->slot->session;
    uint8_t *state;
    size_t len;
    if (j->explicit_conv) {
        /* everything drawn was read: the memory goes back under its id */
        int32_t *tokens = NULL;
        size_t n = 0;
        if (j->base && j->base->tokens) {
            const ConvEntry *b = j->base;
            int32_t unread[1] = {b->unread};
            int32_t *head = copy_ids(b->tokens, b->n_tokens, unread, b->unread >= 0 ? 1 : 0);
            size_t nh = b->n_tokens + (b->unread >= 0 ? 1 : 0);
            int32_t *mid = head ? copy_ids(head, nh, j->ids, j->n_ids) : NULL;
            tokens = mid ? copy_ids(mid, nh + j->n_ids, j->drawn, j->n_drawn) : NULL;
            n = nh + j->n_ids + j->n_drawn;
            free(head);
            free(mid);
        }
        if (save_state(j, &state, &len) != 0) {
            free(tokens);
            return;
        }
        if (conv_cache_put(&e->cache, j->req->conversation_id, state, len, tokens, n, -1, bitt_session_tokens(s),
                           j->info.conversation_id) != 0)
            j->info.conversation_id[0] = 0;
        return;
    }
    if (j->n_drawn == 0) return; /* the prompt checkpoint is this memory: its id stays in info */
    /* the last drawn token is not read: the memory is the prompt and the answer before it */
    const size_t n_lazy = j->n_ids + j->n_drawn - 1;
    int32_t *tokens = copy_ids(j->ids, j->n_ids, j->drawn, j->n_drawn - 1);
    if (!tokens) return;
    int32_t *lazy = copy_ids(tokens, n_lazy, NULL, 0);
    if (!lazy || save_state(j, &state, &len) != 0) {
        free(tokens);
        free(lazy);
        return;
    }
    if (conv_cache_put(&e->cache, NULL, state, len, tokens, n_lazy, j->drawn[j->n_drawn - 1], bitt_session_tokens(s),
                       j->info.conversation_id) != 0)
        j->info.conversation_id[0] = 0;
    store_canonical(j, lazy, n_lazy);
    free(lazy);
}

void job_free(Job *j) {
    if (j->base) conv_cache_release(&j->e->cache, j->base, j->explicit_conv);
    free(j->prompt_text);
    bitt_generation_free(j->gen);
    free(j->ids);
    free(j->drawn);
    free(j->text);
    free(j->lp);
    memset(j, 0, sizeof *j);
}
