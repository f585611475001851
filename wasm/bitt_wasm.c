/* bitt_wasm.c: the exports of bitt.wasm, JS-friendly functions over the
 * public C API (src/api/bitt.h) for the npm package (npm/index.js).
 *
 * Conventions: pointers are wasm addresses (u32); every function that can
 * fail returns 0 (or a NULL pointer) and leaves the message in the buffer of
 * bw_error(); strings in are (pointer, byte length), never NUL-terminated
 * by the caller; buffers returned to JS are malloc'd, released by bw_free.
 *
 * Generation is split into steps so that JS can yield between tokens (an
 * async iterator that can be cancelled): bw_gen_begin feeds the prompt,
 * each bw_gen_next samples one token, feeds it into the memory and returns
 * the text that is complete so far. The steps are the C API's own
 * (bitt_generation_step, which bitt_generate runs too: same sampler reseed,
 * penalties, stop strings, stop at </s>, UTF-8 piece boundaries), so the
 * text equals the native CLI's for a seed.
 *
 * Chat (model.chat.completions.create in JS) renders messages with the
 * server's own code (src/server/chat_template.c): the template from the
 * .bitt header, the rendering, and the template's stop strings appended
 * after the request's as `bitt serve` does, so a chat prompt reads the same
 * text here and there. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/api/bitt.h"
#include "../simd/kernels_wasm.h"
#include "../src/server/chat_template.h"

#define EXPORT __attribute__((used, visibility("default")))

static BittError last_error;

static void set_error(const BittError *e) { last_error = *e; }

static void set_message(const char *msg) {
    strncpy(last_error.message, msg, sizeof last_error.message - 1);
    last_error.message[sizeof last_error.message - 1] = '\0';
}

EXPORT const char *bw_error(void) { return last_error.message; }

EXPORT void *bw_malloc(uint32_t n) { return malloc(n ? n : 1); }

EXPORT void bw_free(void *p) { free(p); }

/* The relaxed-SIMD prefill kernel that npm/relaxed.js assembles, an import
 * (env.bitt_relaxed_ternary_pairs; declared to Emscripten by
 * relaxed_import.js); the loader turns it on with bw_use_relaxed(1) only
 * where the engine validated it. */
void bitt_relaxed_ternary_pairs(const uint8_t *groups, int nblocks, int ngroups, int group_bytes, const int8_t *x,
                           int padded, int npairs, int32_t *acc, int row_bytes, const int32_t *xsums);

EXPORT void bw_use_relaxed(int on) { kernels_wasm_set_ternary_pairs(on ? bitt_relaxed_ternary_pairs : NULL); }

/* ---- models ---- */

/* A .bitt file (v1 or v2) held in wasm memory at data (len bytes). */
EXPORT bitt_model *bw_model_load(const void *data, uint32_t len) {
    BittError err;
    bitt_model *m = NULL;
    if (bitt_model_load_memory(data, len, &m, &err) != 0) {
        set_error(&err);
        return NULL;
    }
    return m;
}

EXPORT void bw_model_free(bitt_model *m) { bitt_model_free(m); }

/* on = 1: logits through an int8 copy of lm_head (per-row scales), a quarter
 * of the bytes per token; 0: the float matrix. 1 on success. */
EXPORT int bw_model_set_lm_head_int8(bitt_model *m, int on) {
    BittError err;
    if (bitt_model_set_lm_head_int8(m, on, &err) != 0) {
        set_error(&err);
        return 0;
    }
    return 1;
}

/* {"config", "params", "bitt_version", "state_bytes"} as malloc'd JSON text. */
EXPORT char *bw_model_info(const bitt_model *m) {
    char *json = bitt_model_info_json(m);
    if (!json) set_message("out of memory for the model info");
    return json;
}

EXPORT const char *bw_model_kernels(const bitt_model *m) { return bitt_model_kernels(m); }

EXPORT int bw_model_vocab_size(const bitt_model *m) { return bitt_model_vocab_size(m); }

/* ---- tokenizer ---- */

/* ids of the text (no special tokens added); *n_out gets the count. */
EXPORT int32_t *bw_encode(const bitt_model *m, const char *text, uint32_t len, uint32_t *n_out) {
    BittError err;
    int32_t *ids = NULL;
    size_t n = 0;
    if (bitt_encode(m, text, len, &ids, &n, &err) != 0) {
        set_error(&err);
        return NULL;
    }
    *n_out = (uint32_t)n;
    return ids;
}

/* The text of n ids (special tokens skipped); *len_out gets its bytes. */
EXPORT char *bw_decode(const bitt_model *m, const int32_t *ids, uint32_t n, uint32_t *len_out) {
    BittError err;
    char *text = NULL;
    size_t len = 0;
    if (bitt_decode(m, ids, n, &text, &len, &err) != 0) {
        set_error(&err);
        return NULL;
    }
    *len_out = (uint32_t)len;
    return text;
}

/* ---- sessions ---- */

EXPORT bitt_session *bw_session_new(const bitt_model *m) {
    BittError err;
    bitt_session *s = NULL;
    if (bitt_session_new(m, &s, &err) != 0) {
        set_error(&err);
        return NULL;
    }
    return s;
}

EXPORT void bw_session_free(bitt_session *s) { bitt_session_free(s); }

EXPORT void bw_session_reset(bitt_session *s) { bitt_session_reset(s); }

/* Tokens in the memory (as a double: exact below 2^53). */
EXPORT double bw_session_tokens(const bitt_session *s) { return (double)bitt_session_tokens(s); }

/* 1 on success, 0 on failure (message in bw_error). */
EXPORT int bw_feed(bitt_session *s, const int32_t *ids, uint32_t n) {
    BittError err;
    if (bitt_session_feed(s, ids, n, &err) != 0) {
        set_error(&err);
        return 0;
    }
    return 1;
}

/* The vocab_size logits after the last fed token, or NULL (none yet). */
EXPORT const float *bw_logits(const bitt_session *s) { return bitt_session_logits(s); }

EXPORT int bw_learn(bitt_session *s, const char *text, uint32_t len) {
    BittError err;
    if (bitt_session_learn(s, text, len, &err) != 0) {
        set_error(&err);
        return 0;
    }
    return 1;
}

/* ---- memory (TTT state) ---- */

EXPORT uint8_t *bw_state_save(const bitt_session *s, uint32_t *len_out) {
    BittError err;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (bitt_state_save(s, &buf, &len, &err) != 0) {
        set_error(&err);
        return NULL;
    }
    *len_out = (uint32_t)len;
    return buf;
}

EXPORT int bw_state_load(bitt_session *s, const void *data, uint32_t len) {
    BittError err;
    if (bitt_state_load(s, data, len, &err) != 0) {
        set_error(&err);
        return 0;
    }
    return 1;
}

/* ---- step-wise generation ---- */

/* The options of a generation beyond max_tokens, filled by JS field by field
 * (bw_gen_options_new / bw_gen_options_set / bw_gen_options_stop), so that
 * adding one never shifts the arguments of bw_gen_begin. */
typedef struct GenOptions {
    bitt_sampling sampling;
    char *stop[BITT_MAX_STOP_STRINGS];
    size_t stop_len[BITT_MAX_STOP_STRINGS];
    int n_stop;
} GenOptions;

enum {
    OPT_TEMPERATURE = 0, OPT_TOP_K, OPT_TOP_P, OPT_MIN_P, OPT_REPETITION_PENALTY,
    OPT_PRESENCE_PENALTY, OPT_FREQUENCY_PENALTY, OPT_PENALTY_LAST_N
};

EXPORT GenOptions *bw_gen_options_new(void) {
    GenOptions *o = calloc(1, sizeof *o);
    if (!o) {
        set_message("out of memory");
        return NULL;
    }
    o->sampling = bitt_sampling_default();
    return o;
}

EXPORT void bw_gen_options_free(GenOptions *o) {
    if (!o) return;
    for (int i = 0; i < o->n_stop; i++) free(o->stop[i]);
    free(o);
}

/* Sets one numeric option (OPT_*); integers come as doubles (exact below 2^53). 1 on success. */
EXPORT int bw_gen_options_set(GenOptions *o, int which, double value) {
    bitt_sampling *p = &o->sampling;
    switch (which) {
    case OPT_TEMPERATURE: p->temperature = (float)value; break;
    case OPT_TOP_K: p->top_k = (int)value; break;
    case OPT_TOP_P: p->top_p = (float)value; break;
    case OPT_MIN_P: p->min_p = (float)value; break;
    case OPT_REPETITION_PENALTY: p->repetition_penalty = (float)value; break;
    case OPT_PRESENCE_PENALTY: p->presence_penalty = (float)value; break;
    case OPT_FREQUENCY_PENALTY: p->frequency_penalty = (float)value; break;
    case OPT_PENALTY_LAST_N: p->penalty_last_n = (int)value; break;
    default: set_message("unknown generation option"); return 0;
    }
    return 1;
}

/* Adds a stop string (len bytes of UTF-8, copied). 1 on success. */
EXPORT int bw_gen_options_stop(GenOptions *o, const char *text, uint32_t len) {
    if (o->n_stop >= BITT_MAX_STOP_STRINGS) {
        set_message("too many stop strings");
        return 0;
    }
    char *copy = malloc(len ? len : 1);
    if (!copy) {
        set_message("out of memory");
        return 0;
    }
    memcpy(copy, text, len);
    o->stop[o->n_stop] = copy;
    o->stop_len[o->n_stop++] = len;
    return 1;
}

typedef struct Generation {
    bitt_generation *g;
    const char *piece;   /* the text of the last step */
    size_t piece_len;
    int finished;
} Generation;

/* Feeds the prompt (len bytes; a session at its start state reads </s>
 * first) and prepares up to max_tokens sampling steps with the options o
 * (may be NULL: the defaults). The seed comes as two 32-bit halves. NULL on
 * error. */
EXPORT Generation *bw_gen_begin(bitt_session *s, const bitt_model *m, const char *prompt, uint32_t len,
                                int max_tokens, const GenOptions *o, uint32_t seed_lo, uint32_t seed_hi) {
    (void)m;
    BittError err;
    bitt_sampling sp = o ? o->sampling : bitt_sampling_default();
    sp.seed = ((uint64_t)seed_hi << 32) | seed_lo;
    bitt_generate_options go = bitt_generate_options_default(max_tokens);
    if (o) {
        go.stop = (const char *const *)o->stop;
        go.stop_len = o->stop_len;
        go.n_stop = o->n_stop;
    }
    /* check before the prompt enters the memory */
    if (bitt_sampling_check(&sp, &err) != 0) {
        set_error(&err);
        return NULL;
    }
    if (max_tokens < 0) {
        set_message("maxTokens must be >= 0");
        return NULL;
    }
    Generation *g = calloc(1, sizeof *g);
    if (!g) {
        set_message("out of memory");
        return NULL;
    }
    if (bitt_session_learn(s, prompt, len, &err) != 0 || bitt_generation_start(s, &sp, &go, &g->g, &err) != 0) {
        set_error(&err);
        free(g);
        return NULL;
    }
    return g;
}

/* One step: 1 = a piece is ready (bw_gen_piece, may be empty), 0 = done,
 * -1 = error (bw_error). A finished generation has flushed its last bytes
 * in the step that returned the final piece. */
EXPORT int bw_gen_next(Generation *g) {
    BittError err;
    g->piece = NULL;
    g->piece_len = 0;
    if (g->finished) return 0;
    int32_t token;
    int rc = bitt_generation_step(g->g, &token, &g->piece, &g->piece_len, &err);
    if (rc < 0) {
        set_error(&err);
        g->finished = 1;
        return -1;
    }
    if (rc == 0) {
        g->finished = 1;
        return g->piece_len ? 1 : 0;
    }
    return 1;
}

EXPORT const char *bw_gen_piece(const Generation *g) { return g->piece; }

EXPORT uint32_t bw_gen_piece_len(const Generation *g) { return (uint32_t)g->piece_len; }

/* Tokens drawn so far. */
EXPORT int bw_gen_tokens(const Generation *g) { return bitt_generation_count(g->g); }

/* Why it ended: 0 not yet (or stopped by the caller), 1 </s>, 2 a stop string, 3 maxTokens. */
EXPORT int bw_gen_finish_reason(const Generation *g) { return (int)bitt_generation_finish_reason(g->g); }

EXPORT void bw_gen_free(Generation *g) {
    if (!g) return;
    bitt_generation_free(g->g);
    free(g);
}

/* ---- chat (the template of src/server/chat_template.c) ---- */

/* The chat template in the header of the .bitt file at data (len bytes):
 * the default (plain text) when its config has none. NULL on error (a
 * malformed template; the message names it). */
EXPORT ChatTemplate *bw_chat_template_new(const void *data, uint32_t len) {
    BittError err;
    ChatTemplate *t = calloc(1, sizeof *t);
    if (!t) {
        set_message("out of memory");
        return NULL;
    }
    if (chat_template_from_bitt(data, len, "model", t, &err) != 0) {
        set_error(&err);
        free(t);
        return NULL;
    }
    return t;
}

EXPORT void bw_chat_template_free(ChatTemplate *t) {
    if (!t) return;
    chat_template_free(t);
    free(t);
}

/* The text the model reads for n messages, each three u32 at msgs: role
 * (0 system, 1 user, 2 assistant: ChatRole), pointer, byte length; then the
 * start of the answer. malloc'd; *len_out gets its bytes. */
EXPORT char *bw_chat_render(const ChatTemplate *t, const uint32_t *msgs, int n, uint32_t *len_out) {
    BittError err;
    if (n < 1) {
        set_message("messages must hold at least one message");
        return NULL;
    }
    ChatMessage *m = calloc((size_t)n, sizeof *m);
    if (!m) {
        set_message("out of memory");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (msgs[3 * i] > ROLE_ASSISTANT) {
            free(m);
            set_message("unknown chat role");
            return NULL;
        }
        m[i].role = (ChatRole)msgs[3 * i];
        m[i].content = (const char *)(uintptr_t)msgs[3 * i + 1];
        m[i].len = msgs[3 * i + 2];
    }
    char *text = NULL;
    size_t len = 0;
    int rc = chat_template_render(t, m, n, &text, &len, &err);
    free(m);
    if (rc != 0) {
        set_error(&err);
        return NULL;
    }
    *len_out = (uint32_t)len;
    return text;
}

/* Appends the template's stop strings to o after those already there, up
 * to the limit, as the server does for a chat request. 1 on success. */
EXPORT int bw_gen_options_chat_stops(GenOptions *o, const ChatTemplate *t) {
    for (int i = 0; i < t->n_stop && o->n_stop < BITT_MAX_STOP_STRINGS; i++)
        if (!bw_gen_options_stop(o, t->stop[i], (uint32_t)t->stop_len[i])) return 0;
    return 1;
}
