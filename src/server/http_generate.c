/* http_generate.c: POST /v1/completions and /v1/chat/completions: parse,
 * wait for a slot (503 when the queue is full), read the prompt, then either
 * generate the whole answer (a client that goes away stops it) or stream it
 * as Server-Sent Events from libmicrohttpd's content reader, one token per
 * call, ending in "data: [DONE]". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_glue.h"

typedef struct Generation {
    Conn *cn;                /* valid until the response is queued (not during streaming) */
    Engine *e;
    GenRequest req;
    JsonDoc *doc;
    Job job;
    EngineSlot *slot;
    int fd;
    /* streaming */
    char *out;               /* SSE bytes not yet handed to the daemon */
    size_t out_len, out_pos, out_cap;
    int started, done, outcome;
    double t0;
    char method[8], url[256];
} Generation;

static void generation_free(Generation *g) {
    if (g->slot) engine_release(g->e, g->slot);
    job_free(&g->job);
    gen_request_free(&g->req);
    json_doc_free(g->doc);
    free(g->out);
    free(g);
}

static int out_append(Generation *g, const char *s, size_t n) {
    if (g->out_len + n > g->out_cap) {
        size_t cap = g->out_cap ? g->out_cap : 1024;
        while (cap < g->out_len + n) cap *= 2;
        char *p = realloc(g->out, cap);
        if (!p) return -1;
        g->out = p;
        g->out_cap = cap;
    }
    memcpy(g->out + g->out_len, s, n);
    g->out_len += n;
    return 0;
}

/* "data: <json>\n\n" */
static int out_event(Generation *g, const JsonWriter *w) {
    const char *text = jw_text(w);
    if (!text) return -1;
    return out_append(g, "data: ", 6) || out_append(g, text, strlen(text)) || out_append(g, "\n\n", 2) ? -1 : 0;
}

static int peer_gone(void *user) {
    Generation *g = user;
    Conn probe = {0};
    probe.fd = g->fd;
    return http_peer_gone(&probe);
}

/* The next events of a stream into g->out: 0 on success, -1 when it must end with an error. */
static int stream_more(Generation *g) {
    JsonWriter w;
    Job *j = &g->job;
    if (!g->started && g->req.kind == REQ_CHAT) { /* the first chunk names the role */
        g->started = 1;
        jw_init(&w, 0);
        oj_chunk(&w, &j->info, "", 0, NULL, 0, 1);
        int rc = out_event(g, &w);
        jw_free(&w);
        return rc;
    }
    g->started = 1;
    if (peer_gone(g)) {
        g->outcome = 1;
        return -1;
    }
    const char *piece;
    size_t len;
    ApiError err;
    int rc = job_step(j, &piece, &len, &err);
    if (rc < 0) { /* the headers are out: the error goes as an event */
        jw_init(&w, 0);
        oj_error(&w, &err);
        out_event(g, &w);
        jw_free(&w);
        out_append(g, "data: [DONE]\n\n", 14);
        g->done = 1;
        g->outcome = 2;
        return 0;
    }
    const LogprobEntry *lp;
    size_t n_lp = job_take_logprobs(j, &lp);
    if (len || n_lp || rc == 0) {
        if (rc == 0) job_store(j); /* names the memory in the last chunk */
        jw_init(&w, 0);
        oj_chunk(&w, &j->info, piece, len, lp, n_lp, 0);
        int bad = out_event(g, &w);
        jw_free(&w);
        if (bad) return -1;
    }
    if (rc == 0) {
        if (g->req.include_usage) {
            jw_init(&w, 0);
            oj_usage_chunk(&w, &j->info);
            int bad = out_event(g, &w);
            jw_free(&w);
            if (bad) return -1;
        }
        if (out_append(g, "data: [DONE]\n\n", 14) != 0) return -1;
        g->done = 1;
        engine_release(g->e, g->slot); /* the memory is stored: free the slot now */
        g->slot = NULL;
    }
    return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    Generation *g = cls;
    while (g->out_pos == g->out_len) {
        g->out_pos = g->out_len = 0;
        if (g->done) return MHD_CONTENT_READER_END_OF_STREAM;
        if (stream_more(g) != 0) return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = g->out_len - g->out_pos;
    if (n > max) n = max;
    memcpy(buf, g->out + g->out_pos, n);
    g->out_pos += n;
    return (ssize_t)n;
}

static void stream_free(void *cls) {
    Generation *g = cls;
    if (!g->done && g->outcome == 0) g->outcome = 1; /* the client went away mid-stream */
    engine_count(g->e, g->outcome);
    if (!g->e->cfg.quiet)
        fprintf(stderr, "bitt serve: %s %s 200 stream %s: prompt %lld (cached %lld), %lld tokens (%.3f s)\n", g->method,
                g->url, g->outcome == 0 ? "done" : g->outcome == 1 ? "cancelled" : "failed",
                (long long)g->job.info.prompt_tokens, (long long)g->job.info.cached_tokens,
                (long long)g->job.info.completion_tokens, http_now() - g->t0);
    generation_free(g);
}

static enum MHD_Result start_stream(Generation *g) {
    Conn *cn = g->cn;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, g, stream_free);
    if (!r) {
        generation_free(g);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    cn->status = 200;
    enum MHD_Result rc = MHD_queue_response(cn->c, 200, r); /* from here the response owns g */
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result fail(Generation *g, const ApiError *err, int outcome) {
    Conn *cn = g->cn;
    engine_count(g->e, outcome);
    generation_free(g);
    if (err->status == 499) { /* the client is gone: nobody to answer */
        cn->status = 499;
        http_log(cn, "cancelled while queued or reading the prompt");
        return MHD_NO;
    }
    return http_send_error(cn, err);
}

enum MHD_Result http_generate(Conn *cn) {
    ApiError err;
    Generation *g = calloc(1, sizeof *g);
    if (!g) return MHD_NO;
    g->cn = cn;
    g->e = cn->engine;
    g->fd = cn->fd;
    g->t0 = cn->t0;
    snprintf(g->method, sizeof g->method, "%s", cn->method);
    snprintf(g->url, sizeof g->url, "%s", cn->url);
    const RequestKind kind = cn->route == ROUTE_CHAT ? REQ_CHAT : REQ_COMPLETION;
    if (gen_request_parse(kind, cn->body ? cn->body : "", cn->len, &g->req, &g->doc, &err) != 0 ||
        job_init(&g->job, g->e, &g->req, &err) != 0)
        return fail(g, &err, 2);
    switch (engine_acquire(g->e, peer_gone, g, &g->slot)) {
    case ACQUIRE_BUSY:
        api_error(&err, 503, "server_error", NULL, "server_busy",
                  "the server is busy: %d requests generating and %d queued; try again shortly", g->e->n_slots,
                  g->e->cfg.queue);
        return fail(g, &err, 3);
    case ACQUIRE_CANCELLED:
        api_error(&err, 499, "cancelled", NULL, "cancelled", "gone while queued");
        return fail(g, &err, 1);
    default: break;
    }
    if (job_start(&g->job, g->slot, peer_gone, g, &err) != 0) return fail(g, &err, err.status == 499 ? 1 : 2);
    if (g->req.stream) return start_stream(g);
    /* the whole answer, then one response */
    Job *j = &g->job;
    for (;;) {
        if (peer_gone(g)) {
            api_error(&err, 499, "cancelled", NULL, "cancelled", "gone");
            return fail(g, &err, 1);
        }
        const char *piece;
        size_t len;
        int rc = job_step(j, &piece, &len, &err);
        if (rc < 0) return fail(g, &err, 2);
        if (rc == 0) break;
    }
    job_store(j);
    engine_release(g->e, g->slot);
    g->slot = NULL;
    const LogprobEntry *lp;
    size_t n_lp = job_take_logprobs(j, &lp);
    JsonWriter w;
    jw_init(&w, 0);
    oj_completion(&w, &j->info, j->text ? j->text : "", j->text_len, lp, n_lp);
    enum MHD_Result rc = http_send_json(cn, 200, &w);
    jw_free(&w);
    http_log(cn, "prompt %lld (cached %lld, read %lld), %lld tokens, %s", (long long)j->info.prompt_tokens,
             (long long)j->info.cached_tokens, (long long)j->info.tokens_read, (long long)j->info.completion_tokens,
             j->info.bitt_finish ? j->info.bitt_finish : "");
    engine_count(g->e, 0);
    generation_free(g);
    return rc;
}
