/* test_state.c: the TTT memory as a value: generating after a saved and
 * restored state equals generating without the round trip, reset returns
 * to the start state, and a state refuses to load into another model. */
#include <stdlib.h>
#include <string.h>

#include "api/bitt.h"
#include "model/model_file.h"
#include "test_model_util.h"
#include "test_util.h"

typedef struct Collected { char text[4096]; size_t len; } Collected;

static int collect(const char *piece, size_t len, void *user) {
    Collected *c = user;
    if (c->len + len < sizeof c->text) {
        memcpy(c->text + c->len, piece, len);
        c->len += len;
    }
    return 0;
}

static void check_variant(TttVariant v, int gate) {
    BittError err;
    Model *raw = make_random_model_gated(500, 64, 2, v, 1, 16, 21, gate);
    CHECK(raw != NULL);
    CHECK(model_save_bitt(raw, "state_model.bitt", 2, &err) == 0);
    model_free(raw);
    bitt_model *m;
    CHECK(bitt_model_load("state_model.bitt", &m, &err) == 0);
    bitt_session *a, *b;
    CHECK(bitt_session_new(m, &a, &err) == 0);
    CHECK(bitt_session_new(m, &b, &err) == 0);
    bitt_sampling sp = bitt_sampling_default();
    sp.temperature = 0.9f;
    sp.top_k = 0;
    sp.top_p = 1.0f;
    Collected first = {{0}, 0}, cont = {{0}, 0}, again = {{0}, 0};
    /* a prompt of 21 tokens: the state ends inside a mini-batch */
    CHECK(bitt_generate(a, "once upon a time the cat sat", 7, &sp, collect, &first, NULL, &err) == 0);
    uint8_t *buf, *buf2;
    size_t len, len2;
    CHECK(bitt_state_save(a, &buf, &len, &err) == 0);
    int64_t tokens = bitt_session_tokens(a);
    CHECK(tokens > 0);
    /* continue in a */
    CHECK(bitt_generate(a, " and then", 40, &sp, collect, &cont, NULL, &err) == 0);
    /* restore into b and continue the same way */
    CHECK(bitt_state_load(b, buf, len, &err) == 0);
    CHECK(bitt_session_tokens(b) == tokens);
    CHECK(bitt_generate(b, " and then", 40, &sp, collect, &again, NULL, &err) == 0);
    CHECK(cont.len == again.len && memcmp(cont.text, again.text, cont.len) == 0);
    /* a restored memory continues with no prompt at all, as the original does */
    Collected more_a = {{0}, 0}, more_b = {{0}, 0};
    CHECK(bitt_state_save(a, &buf2, &len2, &err) == 0);
    CHECK(bitt_generate(a, "", 20, &sp, collect, &more_a, NULL, &err) == 0);
    CHECK(bitt_state_load(b, buf2, len2, &err) == 0);
    CHECK(bitt_session_logits(b) != NULL);
    CHECK_MSG(bitt_generate(b, "", 20, &sp, collect, &more_b, NULL, &err) == 0, "%s", err.message);
    CHECK(more_a.len == more_b.len && memcmp(more_a.text, more_b.text, more_a.len) == 0);
    free(buf2);
    /* through a file too */
    CHECK(bitt_state_save_file(b, "state.bin", &err) == 0);
    CHECK(bitt_state_load_file(a, "state.bin", &err) == 0);
    CHECK(bitt_session_tokens(a) == bitt_session_tokens(b));
    /* reset: back to the very start */
    bitt_session_reset(a);
    CHECK(bitt_session_tokens(a) == 0);
    Collected after_reset = {{0}, 0};
    CHECK(bitt_generate(a, "once upon a time the cat sat", 7, &sp, collect, &after_reset, NULL, &err) == 0);
    CHECK(after_reset.len == first.len && memcmp(after_reset.text, first.text, first.len) == 0);
    /* the state bytes are constant whatever the context */
    size_t before = bitt_state_bytes(a);
    CHECK(bitt_session_learn(a, "more and more text to read, and again more text", 48, &err) == 0);
    CHECK(bitt_state_bytes(a) == before);
    /* a damaged state is refused and leaves the session untouched */
    int64_t t_before = bitt_session_tokens(a);
    for (size_t cut = 0; cut < len; cut += len / 7 + 1) {
        CHECK(bitt_state_load(a, buf, cut, &err) != 0);
        CHECK(strstr(err.message, "state") != NULL);
    }
    CHECK(bitt_session_tokens(a) == t_before);
    free(buf);
    bitt_session_free(a);
    bitt_session_free(b);
    bitt_model_free(m);
}

/* A state of one model does not load into another (other weights, or
 * another variant). */
static void check_other_model(void) {
    BittError err;
    Model *m1 = make_random_model(300, 64, 2, TTT_LINEAR, 1, 16, 1);
    Model *m2 = make_random_model(300, 64, 2, TTT_LINEAR, 1, 16, 2);
    Model *m3 = make_random_model(300, 64, 2, TTT_SEED, 1, 16, 1);
    Session s1, s2, s3;
    CHECK(session_init(&s1, m1, &err) == 0);
    CHECK(session_init(&s2, m2, &err) == 0);
    CHECK(session_init(&s3, m3, &err) == 0);
    int32_t ids[5] = {5, 6, 7, 8, 9};
    CHECK(session_forward(&s1, ids, 5, NULL, 0, &err) == 0);
    uint8_t *buf;
    size_t len;
    CHECK(state_save_memory(&s1.state, m1, &buf, &len, &err) == 0);
    CHECK(state_load_memory(&s2.state, m2, buf, len, "s1.state", &err) != 0);
    CHECK_ERR_CONTAINS(&err, "another model");
    CHECK_ERR_CONTAINS(&err, "s1.state");
    CHECK(state_load_memory(&s3.state, m3, buf, len, "s1.state", &err) != 0);
    CHECK_ERR_CONTAINS(&err, "variant");
    CHECK(s2.state.token_count == 0);
    /* garbage */
    uint8_t junk[64];
    for (int i = 0; i < 64; i++) junk[i] = (uint8_t)(i * 37 + 11);
    CHECK(state_load_memory(&s1.state, m1, junk, sizeof junk, "junk.state", &err) != 0);
    CHECK_ERR_CONTAINS(&err, "junk.state");
    free(buf);
    session_free(&s1); session_free(&s2); session_free(&s3);
    model_free(m1); model_free(m2); model_free(m3);
}

/* With the forget gate the state file holds gamma per layer (1 at a
 * mini-batch start, below 1 inside one); a gated state without it is refused,
 * and a gate-less model's file has none. */
static void check_gamma(void) {
    BittError err;
    Model *g = make_random_model_gated(300, 64, 2, TTT_LINEAR, 1, 16, 31, 1);
    Model *plain = make_random_model(300, 64, 2, TTT_LINEAR, 1, 16, 31);
    Session s, p;
    CHECK(g && plain && session_init(&s, g, &err) == 0 && session_init(&p, plain, &err) == 0);
    int32_t ids[21];
    make_ids(ids, 21, 300, 3);
    CHECK(session_forward(&s, ids, 21, NULL, 0, &err) == 0); /* 5 tokens into the second mini-batch */
    CHECK(session_forward(&p, ids, 21, NULL, 0, &err) == 0);
    const float gamma = s.state.linear[0].gamma[0];
    CHECK_MSG(gamma > 0.0f && gamma < 1.0f, "gamma %g inside a mini-batch", (double)gamma);
    CHECK(p.state.linear[0].gamma == NULL);
    uint8_t *buf, *pbuf;
    size_t len, plen;
    CHECK(state_save_memory(&s.state, g, &buf, &len, &err) == 0);
    CHECK(state_save_memory(&p.state, plain, &pbuf, &plen, &err) == 0);
    SafeTensors st;
    CHECK(safetensors_parse(buf, len, "g", &st, &err) == 0);
    CHECK(safetensors_find(&st, "layers.1.ttt.gamma") != NULL);
    safetensors_free(&st);
    CHECK(safetensors_parse(pbuf, plen, "p", &st, &err) == 0);
    CHECK(safetensors_find(&st, "layers.0.ttt.gamma") == NULL);
    safetensors_free(&st);
    /* round trip: a fresh session given the state continues exactly as the original */
    Session r;
    CHECK(session_init(&r, g, &err) == 0);
    CHECK(state_load_memory(&r.state, g, buf, len, "g.state", &err) == 0);
    CHECK(r.state.linear[0].gamma[0] == gamma);
    const int V = g->cfg.vocab_size;
    float *a = malloc((size_t)V * sizeof(float)), *b = malloc((size_t)V * sizeof(float));
    int32_t more[3] = {7, 8, 9};
    CHECK(session_forward(&s, more, 3, a, 0, &err) == 0 && session_forward(&r, more, 3, b, 0, &err) == 0);
    CHECK(memcmp(a, b, (size_t)V * sizeof(float)) == 0);
    /* the gate-less model's file does not load into the gated model (another model), and
     * a gated file whose gamma is cut out is refused naming the tensor */
    CHECK(state_load_memory(&r.state, g, pbuf, plen, "p.state", &err) != 0);
    StWriter w;
    st_writer_init(&w);
    CHECK(safetensors_parse(buf, len, "g", &st, &err) == 0);
    for (int i = 0; i < st.count; i++)
        if (strcmp(st.tensors[i].name, "layers.1.ttt.gamma") != 0)
            CHECK(st_writer_add(&w, st.tensors[i].name, st.tensors[i].dtype, st.tensors[i].ndim, st.tensors[i].shape,
                                st.tensors[i].data, &err) == 0);
    const char *keys[] = {"format", "version", "ttt_variant", "model_fingerprint", "token_count"};
    for (int i = 0; i < 5; i++) CHECK(st_writer_meta(&w, keys[i], safetensors_meta(&st, keys[i]), &err) == 0);
    uint8_t *cut;
    size_t cut_len;
    CHECK(st_writer_to_memory(&w, 0, 8, &cut, &cut_len, &err) == 0);
    st_writer_free(&w);
    safetensors_free(&st);
    CHECK(state_load_memory(&r.state, g, cut, cut_len, "cut.state", &err) != 0);
    CHECK_ERR_CONTAINS(&err, "layers.1.ttt.gamma");
    free(cut);
    free(a);
    free(b);
    free(buf);
    free(pbuf);
    session_free(&s);
    session_free(&p);
    session_free(&r);
    model_free(g);
    model_free(plain);
}

int main(void) {
    check_variant(TTT_LINEAR, 0);
    check_variant(TTT_LINEAR, 1);
    check_variant(TTT_SEED, 0);
    check_gamma();
    check_other_model();
    remove("state_model.bitt");
    remove("state.bin");
    return test_main_end("test_state");
}
