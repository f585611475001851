/* bitt_generation.c: generation in steps (bitt.h, "generation"): draw a
 * token, read it into the memory, turn its bytes into text through the UTF-8
 * reassembly and the stop strings. bitt_generate, the wasm exports and the
 * HTTP server all generate through it, so a seed gives the same text in
 * each of them. */
#include <stdlib.h>
#include <string.h>

#include "../sampling/stop_text.h"
#include "bitt_internal.h"
#include "utf8_stream.h"

struct bitt_generation {
    bitt_session *s;
    int max_tokens, leave_last_unread, top_logprobs;
    int32_t eos;            /* </s>, or -1 */
    int count;              /* tokens drawn */
    int32_t unread;         /* the last drawn token while it is not yet in the memory, else -1 */
    int finished;
    bitt_finish_reason finish;
    Utf8Stream utf8;
    StopText stops;
    char *text;             /* the text released by the last step */
    size_t text_len, text_cap;
    int have_logprobs;
    double token_logprob;
    int32_t top_ids[BITT_MAX_TOP_LOGPROBS];
    double top_logprobs_v[BITT_MAX_TOP_LOGPROBS];
    int n_top;
};

bitt_generate_options bitt_generate_options_default(int max_tokens) {
    bitt_generate_options o;
    memset(&o, 0, sizeof o);
    o.max_tokens = max_tokens;
    o.top_logprobs = -1;
    return o;
}

static int check_options(const bitt_generate_options *o, BittError *err) {
    if (o->max_tokens < 0) return bitt_fail(err, "max_tokens must be >= 0 (got %d)", o->max_tokens);
    if (o->n_stop < 0 || o->n_stop > BITT_MAX_STOP_STRINGS)
        return bitt_fail(err, "at most %d stop strings (got %d)", BITT_MAX_STOP_STRINGS, o->n_stop);
    if (o->n_stop > 0 && !o->stop) return bitt_fail(err, "%d stop strings announced but none given", o->n_stop);
    if (o->top_logprobs > BITT_MAX_TOP_LOGPROBS)
        return bitt_fail(err, "top_logprobs must be at most %d (got %d)", BITT_MAX_TOP_LOGPROBS, o->top_logprobs);
    return 0;
}

int bitt_generation_start(bitt_session *s, const bitt_sampling *p, const bitt_generate_options *o,
                          bitt_generation **out, BittError *err) {
    *out = NULL;
    SamplingParams sp;
    if (check_options(o, err) != 0 || bitt_sampling_params(p, s->model->m->cfg.vocab_size, &sp, err) != 0) return -1;
    if (!s->has_logits) return bitt_fail(err, "empty prompt and empty memory: nothing to continue from");
    bitt_generation *g = calloc(1, sizeof *g);
    if (!g) return bitt_fail(err, "out of memory");
    size_t lens[BITT_MAX_STOP_STRINGS];
    for (int i = 0; i < o->n_stop; i++) lens[i] = o->stop_len ? o->stop_len[i] : strlen(o->stop[i]);
    if (stop_text_init(&g->stops, o->stop, lens, o->n_stop, err) != 0) {
        free(g);
        return -1;
    }
    utf8_stream_init(&g->utf8);
    g->s = s;
    g->max_tokens = o->max_tokens;
    g->leave_last_unread = o->leave_last_unread;
    g->top_logprobs = o->top_logprobs;
    g->eos = tokenizer_token_id(s->model->m->tok, "</s>");
    g->unread = -1;
    sampler_set_params(&s->sampler, &sp);
    sampler_reseed(&s->sampler, sp.seed);
    *out = g;
    return 0;
}

void bitt_generation_free(bitt_generation *g) {
    if (!g) return;
    utf8_stream_free(&g->utf8);
    stop_text_free(&g->stops);
    free(g->text);
    free(g);
}

int bitt_generation_count(const bitt_generation *g) { return g->count; }

bitt_finish_reason bitt_generation_finish_reason(const bitt_generation *g) { return g->finish; }

int bitt_generation_logprobs(const bitt_generation *g, double *token_logprob, const int32_t **ids,
                             const double **logprobs) {
    if (!g->have_logprobs) return -1;
    if (token_logprob) *token_logprob = g->token_logprob;
    if (ids) *ids = g->top_ids;
    if (logprobs) *logprobs = g->top_logprobs_v;
    return g->n_top;
}

/* Appends released text to this step's output. */
static int add_text(bitt_generation *g, const char *text, size_t len) {
    if (!len) return 0;
    size_t need = g->text_len + len + 1;
    if (need > g->text_cap) {
        size_t cap = g->text_cap ? g->text_cap : 64;
        while (cap < need) cap *= 2;
        char *p = realloc(g->text, cap);
        if (!p) return -1;
        g->text = p;
        g->text_cap = cap;
    }
    memcpy(g->text + g->text_len, text, len);
    g->text_len += len;
    g->text[g->text_len] = 0;
    return 0;
}

/* Bytes complete as UTF-8 go through the stop strings; 1 if one was found. */
static int push_bytes(bitt_generation *g, const char *bytes, size_t n, int flush) {
    const char *piece, *out;
    size_t plen, olen;
    if (flush) utf8_stream_flush(&g->utf8, &piece, &plen);
    else if (utf8_stream_push(&g->utf8, bytes, n, &piece, &plen) != 0) return -1;
    int rc = stop_text_push(&g->stops, piece, plen, &out, &olen);
    if (rc < 0 || add_text(g, out, olen) != 0) return -1;
    if (rc == 1 || !flush) return rc;
    if (stop_text_flush(&g->stops, &out, &olen) != 0 || add_text(g, out, olen) != 0) return -1;
    return 0;
}

/* Ends the generation: the held-back text is released (unless a stop string ended it). */
static int finish(bitt_generation *g, bitt_finish_reason why, BittError *err) {
    g->finished = 1;
    g->finish = why;
    if (why != BITT_FINISH_STOP && push_bytes(g, NULL, 0, 1) < 0) return bitt_fail(err, "out of memory");
    return 0;
}

static int feed_token(bitt_generation *g, int32_t token, BittError *err) {
    g->unread = -1;
    return bitt_session_feed(g->s, &token, 1, err);
}

int bitt_generation_step(bitt_generation *g, int32_t *token, const char **text, size_t *len, BittError *err) {
    bitt_session *s = g->s;
    g->text_len = 0;
    if (g->text) g->text[0] = 0;
    *token = -1;
    *text = g->text ? g->text : "";
    *len = 0;
    g->have_logprobs = 0;
    if (g->finished) return 0;
    if (g->count >= g->max_tokens) {
        if (finish(g, BITT_FINISH_LENGTH, err) != 0) return -1;
        *text = g->text ? g->text : "";
        *len = g->text_len;
        return 0;
    }
    if (g->unread >= 0 && feed_token(g, g->unread, err) != 0) return -1;
    const int32_t next = sampler_sample(&s->sampler, s->logits);
    if (g->top_logprobs >= 0) {
        g->n_top = g->top_logprobs;
        sampler_logprobs(s->logits, s->model->m->cfg.vocab_size, next, g->n_top, g->top_ids, g->top_logprobs_v,
                         &g->token_logprob);
        if (g->n_top > s->model->m->cfg.vocab_size) g->n_top = s->model->m->cfg.vocab_size;
        g->have_logprobs = 1;
    }
    if (sampler_accept(&s->sampler, next) != 0) return bitt_fail(err, "out of memory");
    g->count++;
    *token = next;
    g->unread = next;
    int stopped = 0;
    if (next != g->eos && !tokenizer_is_special(s->model->m->tok, next)) {
        size_t n;
        const char *bytes = tokenizer_token_bytes(s->model->m->tok, next, &n);
        stopped = push_bytes(g, bytes, n, 0);
        if (stopped < 0) return bitt_fail(err, "out of memory");
    }
    const int done = next == g->eos || stopped;
    /* every drawn token enters the memory now, except the last one when the
     * caller asked to leave it unread (then it is read before the next draw) */
    if (!g->leave_last_unread && feed_token(g, next, err) != 0) return -1;
    if (done && finish(g, next == g->eos ? BITT_FINISH_EOS : BITT_FINISH_STOP, err) != 0) return -1;
    *text = g->text ? g->text : "";
    *len = g->text_len;
    return done ? 0 : 1;
}

int bitt_generate_opts(bitt_session *s, const char *prompt, const bitt_sampling *p, const bitt_generate_options *o,
                       bitt_piece_fn on_piece, void *user, int *n_generated, bitt_finish_reason *finish_out,
                       BittError *err) {
    if (n_generated) *n_generated = 0;
    if (finish_out) *finish_out = BITT_FINISH_NONE;
    SamplingParams sp;
    if (check_options(o, err) != 0 || bitt_sampling_params(p, s->model->m->cfg.vocab_size, &sp, err) != 0) return -1;
    if (bitt_feed_text(s, prompt ? prompt : "", prompt ? strlen(prompt) : 0, err) != 0) return -1;
    bitt_generation *g;
    if (bitt_generation_start(s, p, o, &g, err) != 0) return -1;
    int rc;
    for (;;) {
        int32_t token;
        const char *text;
        size_t len;
        rc = bitt_generation_step(g, &token, &text, &len, err);
        if (rc < 0) break;
        if (len && on_piece && on_piece(text, len, user) != 0) { rc = 0; break; }
        if (rc == 0) break;
    }
    if (n_generated) *n_generated = bitt_generation_count(g);
    if (finish_out) *finish_out = bitt_generation_finish_reason(g);
    bitt_generation_free(g);
    return rc < 0 ? -1 : 0;
}

int bitt_generate(bitt_session *s, const char *prompt, int max_tokens, const bitt_sampling *p,
                  bitt_piece_fn on_piece, void *user, int *n_generated, BittError *err) {
    bitt_generate_options o = bitt_generate_options_default(max_tokens);
    return bitt_generate_opts(s, prompt, p, &o, on_piece, user, n_generated, NULL, err);
}
