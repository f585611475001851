/* bitt_api.c: the public C API (bitt.h) over the model, session, tokenizer,
 * sampler and state modules. */
#include "bitt.h"

#include <stdlib.h>
#include <string.h>

#include "../model/model_file.h"
#include "../util/threadpool.h"
#include "bitt_internal.h"

bitt_sampling bitt_sampling_default(void) {
    bitt_sampling p;
    memset(&p, 0, sizeof p);
    p.temperature = 0.8f;
    p.top_k = 40;
    p.top_p = 0.95f;
    p.seed = 42;
    p.repetition_penalty = 1.0f;
    return p;
}

int bitt_sampling_params(const bitt_sampling *p, int vocab_size, SamplingParams *out, BittError *err) {
    SamplingParams sp = sampling_params_basic(p->temperature, p->top_k, p->top_p, p->seed);
    sp.min_p = p->min_p;
    sp.repetition_penalty = p->repetition_penalty;
    sp.presence_penalty = p->presence_penalty;
    sp.frequency_penalty = p->frequency_penalty;
    sp.penalty_last_n = p->penalty_last_n;
    if (sampling_params_check(&sp, err) != 0) return -1;
    if (vocab_size > 0 && sp.top_k > vocab_size) sp.top_k = 0;
    *out = sp;
    return 0;
}

static int wrap_model(Model *m, bitt_model **out, BittError *err) {
    *out = NULL;
    if (!m) return -1;
    bitt_model *bm = calloc(1, sizeof *bm);
    if (!bm) { model_free(m); return bitt_fail(err, "out of memory"); }
    bm->m = m;
    *out = bm;
    return 0;
}

int bitt_model_load(const char *path, bitt_model **out, BittError *err) {
    return wrap_model(model_load(path, 0, err), out, err);
}

int bitt_model_load_memory(const void *data, size_t len, bitt_model **out, BittError *err) {
    return wrap_model(model_load_bitt_memory(data, len, "model", 0, err), out, err);
}

void bitt_model_free(bitt_model *m) {
    if (!m) return;
    model_free(m->m);
    free(m);
}

int bitt_model_set_lm_head_int8(bitt_model *m, int on, BittError *err) {
    return model_set_lm_head_int8(m->m, on, err);
}

const char *bitt_model_kernels(const bitt_model *m) { return m->m->kernels->name; }

int bitt_model_vocab_size(const bitt_model *m) { return m->m->cfg.vocab_size; }

char *bitt_model_info_json(const bitt_model *bm) {
    const Model *m = bm->m;
    const ModelConfig *c = &m->cfg;
    JsonWriter w;
    jw_init(&w, 0);
    jw_begin_object(&w);
    jw_key(&w, "config");
    config_write_json(c, &w);
    jw_key(&w, "params");
    jw_int(&w, m->n_values);
    jw_key(&w, "bitt_version");
    jw_int(&w, m->bitt_version);
    jw_key(&w, "state_bytes");
    size_t per_layer = 0, H = (size_t)c->num_heads, f = (size_t)(c->hidden_dim / c->num_heads);
    if (c->variant == TTT_LINEAR) per_layer = H * (2 * f * f + 2 * f) * sizeof(float);
    if (c->variant == TTT_SEED) per_layer = (size_t)(c->hidden_dim / 4) * (c->hidden_dim / 4) * sizeof(float);
    jw_int(&w, (int64_t)(per_layer * (size_t)c->num_layers));
    jw_end_object(&w);
    char *text = NULL;
    if (jw_text(&w)) {
        text = malloc(w.len + 1);
        if (text) memcpy(text, w.buf, w.len + 1);
    }
    jw_free(&w);
    return text;
}

int bitt_encode(const bitt_model *m, const char *text, size_t len, int32_t **ids, size_t *n,
                BittError *err) {
    return tokenizer_encode(m->m->tok, text, len, ids, n, err);
}

int bitt_decode(const bitt_model *m, const int32_t *ids, size_t n, char **text, size_t *len,
                BittError *err) {
    return tokenizer_decode(m->m->tok, ids, n, 1, text, len, err);
}

void bitt_free(void *p) { free(p); }

int bitt_session_new(const bitt_model *m, bitt_session **out, BittError *err) {
    *out = NULL;
    bitt_session *s = calloc(1, sizeof *s);
    if (!s) return bitt_fail(err, "out of memory");
    s->model = m;
    s->logits = malloc((size_t)m->m->cfg.vocab_size * sizeof(float));
    bitt_sampling def = bitt_sampling_default();
    SamplingParams sp = sampling_params_basic(def.temperature, def.top_k, def.top_p, def.seed);
    if (!s->logits) {
        free(s);
        return bitt_fail(err, "out of memory");
    }
    if (session_init(&s->run, m->m, err) != 0) {
        free(s->logits);
        free(s);
        return -1;
    }
    if (sampler_init(&s->sampler, m->m->cfg.vocab_size, &sp, err) != 0) {
        bitt_session_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void bitt_session_free(bitt_session *s) {
    if (!s) return;
    session_free(&s->run);
    sampler_free(&s->sampler);
    free(s->logits);
    free(s);
}

int bitt_set_threads(int n) { return threads_set(n); }

int bitt_sampling_check(const bitt_sampling *p, BittError *err) {
    SamplingParams sp;
    return bitt_sampling_params(p, 0, &sp, err);
}

void bitt_session_reset(bitt_session *s) {
    session_reset(&s->run);
    s->has_logits = 0;
}

int64_t bitt_session_tokens(const bitt_session *s) { return s->run.state.token_count; }

int bitt_session_feed(bitt_session *s, const int32_t *ids, size_t n, BittError *err) {
    if (n == 0) return 0;
    if (n > (size_t)1 << 30) return bitt_fail(err, "too many tokens in one call (%zu)", n);
    if (session_forward(&s->run, ids, (int)n, s->logits, 0, err) != 0) return -1;
    s->has_logits = 1;
    return 0;
}

const float *bitt_session_logits(const bitt_session *s) { return s->has_logits ? s->logits : NULL; }

/* The document separator </s> read first by a session at its start state. */
static int feed_start_if_fresh(bitt_session *s, BittError *err) {
    if (s->run.state.token_count != 0) return 0;
    int32_t sep = tokenizer_token_id(s->model->m->tok, "</s>");
    if (sep < 0) return 0;
    return bitt_session_feed(s, &sep, 1, err);
}

int bitt_feed_text(bitt_session *s, const char *text, size_t len, BittError *err) {
    if (feed_start_if_fresh(s, err) != 0) return -1;
    int32_t *ids = NULL;
    size_t n = 0;
    if (tokenizer_encode(s->model->m->tok, text, len, &ids, &n, err) != 0) return -1;
    int rc = bitt_session_feed(s, ids, n, err);
    free(ids);
    return rc;
}

int bitt_session_learn(bitt_session *s, const char *text, size_t len, BittError *err) {
    return bitt_feed_text(s, text, len, err);
}

int bitt_session_sample(bitt_session *s, const bitt_sampling *p, int32_t *token, BittError *err) {
    if (!s->has_logits) return bitt_fail(err, "no logits yet: feed some tokens first");
    SamplingParams sp;
    if (bitt_sampling_params(p, s->model->m->cfg.vocab_size, &sp, err) != 0) return -1;
    sampler_set_params(&s->sampler, &sp);
    *token = sampler_sample(&s->sampler, s->logits);
    return 0;
}

int32_t bitt_token_id(const bitt_model *m, const char *token) { return tokenizer_token_id(m->m->tok, token); }

const char *bitt_token_bytes(const bitt_model *m, int32_t id, size_t *len) {
    return tokenizer_token_bytes(m->m->tok, id, len);
}

int bitt_token_is_special(const bitt_model *m, int32_t id) { return tokenizer_is_special(m->m->tok, id); }

int bitt_state_save(const bitt_session *s, uint8_t **buf, size_t *len, BittError *err) {
    return state_save_memory(&s->run.state, s->model->m, buf, len, err);
}

int bitt_state_load(bitt_session *s, const void *buf, size_t len, BittError *err) {
    if (state_load_memory(&s->run.state, s->model->m, buf, len, "state", err) != 0) return -1;
    s->has_logits = session_state_logits(&s->run, s->logits) == 0;
    return 0;
}

int bitt_state_save_file(const bitt_session *s, const char *path, BittError *err) {
    return state_save_file(&s->run.state, s->model->m, path, err);
}

int bitt_state_load_file(bitt_session *s, const char *path, BittError *err) {
    if (state_load_file(&s->run.state, s->model->m, path, err) != 0) return -1;
    s->has_logits = session_state_logits(&s->run, s->logits) == 0;
    return 0;
}

size_t bitt_state_bytes(const bitt_session *s) { return state_bytes(&s->run.state); }
