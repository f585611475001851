/* test_generation.c: stop strings over streamed text (src/sampling/stop_text.c)
 * and generation in steps (bitt_generation_*, src/api/bitt_generation.c) on
 * a random model: the steps give bitt_generate's text, a stop string ends the
 * text right before its first occurrence even across tokens, the last token
 * is read or not as asked, max_tokens, logprobs. Runs natively and in wasm. */
#include <stdlib.h>
#include <string.h>

#include "api/bitt.h"
#include "model/model_file.h"
#include "sampling/stop_text.h"
#include "test_model_util.h"
#include "test_util.h"

typedef struct Collected {
    char buf[8192];
    size_t len;
} Collected;

static void collect(Collected *c, const char *s, size_t n) {
    if (c->len + n > sizeof c->buf) n = sizeof c->buf - c->len;
    memcpy(c->buf + c->len, s, n);
    c->len += n;
}

/* pushes each piece, collecting what is released; returns 1 if a stop was found */
static int push_all(StopText *st, const char *const *pieces, int n, Collected *out) {
    const char *o;
    size_t ol;
    for (int i = 0; i < n; i++) {
        int rc = stop_text_push(st, pieces[i], strlen(pieces[i]), &o, &ol);
        CHECK(rc >= 0);
        collect(out, o, ol);
        if (rc == 1) return 1;
    }
    CHECK(stop_text_flush(st, &o, &ol) == 0);
    collect(out, o, ol);
    return 0;
}

static void test_stop_text(void) {
    BittError err;
    StopText st;
    const char *stops[] = {"\nUser:", "END"};
    const size_t lens[] = {6, 3};
    /* a stop string split over three pieces is found and not released */
    CHECK(stop_text_init(&st, stops, lens, 2, &err) == 0);
    const char *a[] = {"Hello there.\nUs", "er", ": more"};
    Collected c = {{0}, 0};
    CHECK(push_all(&st, a, 3, &c) == 1);
    CHECK(c.len == 12 && memcmp(c.buf, "Hello there.", 12) == 0);
    stop_text_free(&st);
    /* a held-back start that turns out not to be a stop is released whole */
    CHECK(stop_text_init(&st, stops, lens, 2, &err) == 0);
    const char *b[] = {"line\nUs", "ed to it. EN", "D? no: ENd"};
    Collected d = {{0}, 0};
    CHECK(push_all(&st, b, 3, &d) == 1); /* "END" completes across pieces 2 and 3 */
    CHECK(d.len == strlen("line\nUsed to it. ") && memcmp(d.buf, "line\nUsed to it. ", d.len) == 0);
    stop_text_free(&st);
    /* nothing matches: all text comes out, in order, the held tail at the flush */
    CHECK(stop_text_init(&st, stops, lens, 2, &err) == 0);
    const char *e[] = {"no stop here\nU", "ser", " EN"};
    Collected f = {{0}, 0};
    CHECK(push_all(&st, e, 3, &f) == 0);
    CHECK(f.len == strlen("no stop here\nUser EN") && memcmp(f.buf, "no stop here\nUser EN", f.len) == 0);
    /* after the flush, a piece that could start a stop is held again (nothing released) */
    const char *o;
    size_t ol;
    CHECK(stop_text_push(&st, "E", 1, &o, &ol) == 0 && ol == 0);
    stop_text_free(&st);
    /* the earliest of several stop strings wins */
    CHECK(stop_text_init(&st, stops, lens, 2, &err) == 0);
    CHECK(stop_text_push(&st, "a END b\nUser: c", 15, &o, &ol) == 1);
    CHECK(ol == 2 && memcmp(o, "a ", 2) == 0);
    CHECK(stop_text_push(&st, "more", 4, &o, &ol) == 1 && ol == 0); /* ignored after a stop */
    stop_text_free(&st);
    /* bad stop strings */
    const size_t zero[] = {0};
    CHECK(stop_text_init(&st, stops, zero, 1, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "stop string 0");
    CHECK(stop_text_init(&st, stops, lens, STOP_TEXT_MAX_STRINGS + 1, &err) != 0);
}

typedef struct Run {
    Collected text;
    int tokens;
    bitt_finish_reason finish;
    int64_t memory_tokens;
} Run;

/* Generates through the steps from a fresh session after the prompt. */
static void run_steps(bitt_model *m, const char *prompt, const bitt_sampling *p, const bitt_generate_options *o,
                      Run *r) {
    BittError err;
    bitt_session *s;
    memset(r, 0, sizeof *r);
    CHECK(bitt_session_new(m, &s, &err) == 0);
    CHECK(bitt_session_learn(s, prompt, strlen(prompt), &err) == 0);
    bitt_generation *g;
    CHECK_MSG(bitt_generation_start(s, p, o, &g, &err) == 0, "%s", err.message);
    int rc, steps = 0;
    do {
        int32_t token;
        const char *t;
        size_t n;
        rc = bitt_generation_step(g, &token, &t, &n, &err);
        CHECK(rc >= 0);
        collect(&r->text, t, n);
        if (token >= 0 && o->top_logprobs >= 0) {
            double lp;
            const int32_t *ids;
            const double *lps;
            int k = bitt_generation_logprobs(g, &lp, &ids, &lps);
            CHECK(k == o->top_logprobs && lp <= 0.0);
            for (int i = 0; i < k; i++) CHECK(lps[i] <= 0.0 && (i == 0 || lps[i] <= lps[i - 1]));
            CHECK(k == 0 || lp <= lps[0]);
        }
    } while (rc == 1 && ++steps < 10000);
    r->tokens = bitt_generation_count(g);
    r->finish = bitt_generation_finish_reason(g);
    bitt_generation_free(g);
    r->memory_tokens = bitt_session_tokens(s);
    bitt_session_free(s);
}

static int collect_piece(const char *piece, size_t len, void *user) {
    collect(user, piece, len);
    return 0;
}

static void test_generation_steps(void) {
    BittError err;
    Model *raw = make_random_model(400, 32, 2, TTT_LINEAR, 1, 4, 7);
    if (!raw) { CHECK(0); return; }
    uint8_t *buf;
    size_t len;
    CHECK(model_save_bitt_memory(raw, 1, &buf, &len, &err) == 0);
    model_free(raw);
    bitt_model *m;
    CHECK_MSG(bitt_model_load_memory(buf, len, &m, &err) == 0, "%s", err.message);
    free(buf);
    if (!m) return;
    const char *prompt = "the cat";
    bitt_sampling p = bitt_sampling_default();
    p.seed = 5;
    p.presence_penalty = 0.5f;
    p.min_p = 0.02f;
    bitt_generate_options o = bitt_generate_options_default(60);

    /* the steps give bitt_generate's text and count */
    Run steps;
    run_steps(m, prompt, &p, &o, &steps);
    bitt_session *s;
    CHECK(bitt_session_new(m, &s, &err) == 0);
    Collected whole = {{0}, 0};
    int n_gen = 0;
    CHECK(bitt_generate(s, prompt, 60, &p, collect_piece, &whole, &n_gen, &err) == 0);
    const int64_t prompt_tokens = steps.memory_tokens - steps.tokens;
    CHECK(n_gen == steps.tokens && whole.len == steps.text.len && memcmp(whole.buf, steps.text.buf, whole.len) == 0);
    CHECK(bitt_session_tokens(s) == steps.memory_tokens); /* every drawn token was read */
    bitt_session_free(s);
    CHECK(steps.text.len > 8);

    /* the last drawn token left unread: one token less in the memory, same text */
    bitt_generate_options lazy = o;
    lazy.leave_last_unread = 1;
    Run lz;
    run_steps(m, prompt, &p, &lazy, &lz);
    CHECK(lz.text.len == steps.text.len && memcmp(lz.text.buf, steps.text.buf, lz.text.len) == 0);
    CHECK(lz.memory_tokens == prompt_tokens + lz.tokens - 1);

    /* a stop string taken from the middle of the text ends it right before its first occurrence */
    const size_t at = steps.text.len / 2;
    char stop[5];
    memcpy(stop, steps.text.buf + at, 4);
    stop[4] = 0;
    size_t first = 0;
    while (memcmp(steps.text.buf + first, stop, 4) != 0) first++;
    const char *stops[] = {stop};
    const size_t stop_lens[] = {4};
    bitt_generate_options with_stop = o;
    with_stop.stop = stops;
    with_stop.stop_len = stop_lens;
    with_stop.n_stop = 1;
    with_stop.top_logprobs = 3;
    Run st;
    run_steps(m, prompt, &p, &with_stop, &st);
    CHECK(st.finish == BITT_FINISH_STOP);
    CHECK_MSG(st.text.len == first && memcmp(st.text.buf, steps.text.buf, first) == 0,
              "stopped text %zu bytes, want the %zu before the first stop", st.text.len, first);
    CHECK(st.tokens <= steps.tokens);

    /* max_tokens: the length, or 0 tokens */
    if (steps.finish == BITT_FINISH_LENGTH) CHECK(steps.tokens == 60);
    bitt_generate_options none = bitt_generate_options_default(0);
    Run z;
    run_steps(m, prompt, &p, &none, &z);
    CHECK(z.tokens == 0 && z.text.len == 0 && z.finish == BITT_FINISH_LENGTH);

    /* bad options are refused before anything runs */
    CHECK(bitt_session_new(m, &s, &err) == 0);
    bitt_generation *g;
    CHECK(bitt_generation_start(s, &p, &o, &g, &err) != 0); /* nothing read yet */
    CHECK_ERR_CONTAINS(&err, "nothing to continue");
    CHECK(bitt_session_learn(s, "x", 1, &err) == 0);
    bitt_generate_options bad = o;
    bad.top_logprobs = BITT_MAX_TOP_LOGPROBS + 1;
    CHECK(bitt_generation_start(s, &p, &bad, &g, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "top_logprobs");
    bitt_sampling badp = p;
    badp.repetition_penalty = -1.0f;
    CHECK(bitt_generation_start(s, &badp, &o, &g, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "repetition");
    bitt_session_free(s);
    bitt_model_free(m);
}

int main(void) {
    test_stop_text();
    test_generation_steps();
    return test_main_end("test_generation");
}
