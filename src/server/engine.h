/* engine.h: the inference side of the server, with no HTTP in it: the model
 * (shared, read-only), one session per slot (--parallel of them; a request
 * holds a slot while it reads its prompt and generates, others wait in a
 * bounded queue), the conversation cache, the counters of /health; and a
 * Job: one completion or chat request from its tokens to its last piece of
 * text, with the cache looked up before and written after. */
#ifndef BITT_SERVER_ENGINE_H
#define BITT_SERVER_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../api/bitt.h"
#include "../formats/json.h"
#include "chat_template.h"
#include "conv_cache.h"
#include "openai_json.h"
#include "request.h"
#include "server.h"

typedef struct EngineSlot {
    bitt_session *session;
    int busy;
} EngineSlot;

typedef struct EngineStats {
    uint64_t requests, completed, cancelled, failed, rejected_busy;
    uint64_t prompt_tokens, tokens_read, tokens_cached, tokens_generated;
} EngineStats;

typedef struct Engine {
    ServerConfig cfg;
    bitt_model *model;
    char model_name[256];
    ChatTemplate tpl;
    int32_t eos;                 /* </s>, or -1 */
    size_t state_bytes;          /* of one memory */
    ConvCache cache;
    int cache_ready;
    pthread_mutex_t lock;        /* slots, queue, stats, rng */
    pthread_cond_t slot_freed;
    EngineSlot *slots;
    int n_slots, busy, waiting;
    EngineStats stats;
    uint64_t rng;                /* seeds and response ids */
    int64_t started;             /* Unix seconds */
    atomic_int stopping;         /* set on shutdown: jobs end at their next step */
} Engine;

/* Polled between steps and while queued: non-zero = the client is gone. */
typedef int (*CancelFn)(void *user);

int engine_open(Engine *e, const ServerConfig *cfg, BittError *err);
void engine_close(Engine *e);

typedef enum AcquireResult { ACQUIRE_OK = 0, ACQUIRE_BUSY, ACQUIRE_CANCELLED } AcquireResult;
/* Waits for a free slot, queued behind at most cfg.queue others. */
AcquireResult engine_acquire(Engine *e, CancelFn cancelled, void *user, EngineSlot **slot);
void engine_release(Engine *e, EngineSlot *slot);
/* A fresh id with the prefix ("cmpl-", "chatcmpl-"). */
void engine_new_id(Engine *e, const char *prefix, char *out, size_t cap);
/* The body of GET /health. */
void engine_health_json(Engine *e, JsonWriter *w);
/* Counts a request that ended: outcome 0 done, 1 cancelled, 2 failed, 3 refused as busy. */
void engine_count(Engine *e, int outcome);

typedef struct Job {
    Engine *e;
    GenRequest *req;
    EngineSlot *slot;
    int32_t *ids;                /* the prompt as read (a fresh memory: </s> first) */
    size_t n_ids;
    char *prompt_text;           /* the text those ids encode (the rendered chat) */
    size_t prompt_text_len;
    int explicit_conv;           /* continues req->conversation_id */
    ConvEntry *base;             /* the cached memory it starts from, or NULL */
    bitt_generation *gen;
    bitt_sampling sampling;
    int max_tokens;
    int32_t *drawn;              /* the tokens drawn so far */
    size_t n_drawn, cap_drawn;
    char *text;                  /* the completion so far */
    size_t text_len, text_cap;
    size_t token_bytes;          /* bytes of the drawn tokens' text so far (the next one's offset) */
    LogprobEntry *lp;            /* one per drawn token with text */
    size_t n_lp, cap_lp, lp_sent;
    int finished;
    CompletionInfo info;
} Job;

/* Renders and tokenizes the request and checks it against the limits (no
 * slot needed). */
int job_init(Job *j, Engine *e, GenRequest *req, ApiError *err);
/* With a slot: finds the memory to start from (the conversation named, or
 * the longest cached prefix), reads the rest of the prompt (cancellable
 * between blocks of tokens), starts generating. */
int job_start(Job *j, EngineSlot *slot, CancelFn cancelled, void *user, ApiError *err);
/* One token: *piece / *len get the text that became final (valid until the
 * next call). 1 while running, 0 finished, -1 error. */
int job_step(Job *j, const char **piece, size_t *len, ApiError *err);
/* The logprob entries that belong to the text given so far and were not
 * taken yet: *lp and their number. */
size_t job_take_logprobs(Job *j, const LogprobEntry **lp);
/* After the last step: stores the memory in the cache (and names it in info):
 * the memory as it is (every token drawn but the last; info names it), and,
 * when the answer's text does not encode back to the tokens drawn, also the
 * memory of that text as the tokenizer encodes it (plus the template's end
 * of an answer): the prompt of the next turn starts with those tokens, so it
 * finds this memory and reads only its new tokens, and reads what a server
 * without a cache would read. */
void job_store(Job *j);
void job_free(Job *j);

#endif
