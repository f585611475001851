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
 * the text that is complete so far. The steps do exactly what
 * bitt_generate does (same sampler reseed, same stop at </s>, same UTF-8
 * piece boundaries), so the text equals the native CLI's for a seed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/api/bitt.h"
#include "../src/api/utf8_stream.h"
#include "../src/sampling/sampler.h"
#include "../simd/kernels_wasm.h"

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

typedef struct Generation {
    bitt_session *s;
    const bitt_model *m;
    Sampler sampler;
    Utf8Stream stream;
    int32_t eos;         /* id of </s>, or -1 */
    int remaining;       /* tokens still allowed */
    int finished;
    const char *piece;   /* the text of the last step */
    size_t piece_len;
} Generation;

/* The id of </s> as bitt_generate finds it: the single token the text
 * "</s>" encodes to, else -1. */
static int32_t find_eos(const bitt_model *m) {
    BittError err;
    int32_t *ids = NULL, id = -1;
    size_t n = 0;
    if (bitt_encode(m, "</s>", 4, &ids, &n, &err) == 0 && n == 1) id = ids[0];
    bitt_free(ids);
    return id;
}

/* Feeds the prompt (len bytes; a session at its start state reads </s>
 * first) and prepares up to max_tokens sampling steps. The seed comes as two
 * 32-bit halves. NULL on error. */
EXPORT Generation *bw_gen_begin(bitt_session *s, const bitt_model *m, const char *prompt, uint32_t len,
                                int max_tokens, float temperature, int top_k, float top_p,
                                uint32_t seed_lo, uint32_t seed_hi) {
    BittError err;
    if (max_tokens < 0) {
        set_message("maxTokens must be >= 0");
        return NULL;
    }
    SamplingParams sp = {temperature, top_k, top_p, ((uint64_t)seed_hi << 32) | seed_lo};
    if (sampling_params_check(&sp, &err) != 0) {
        set_error(&err);
        return NULL;
    }
    if (sp.top_k > bitt_model_vocab_size(m)) sp.top_k = 0;
    Generation *g = calloc(1, sizeof *g);
    if (!g) {
        set_message("out of memory");
        return NULL;
    }
    g->s = s;
    g->m = m;
    g->remaining = max_tokens;
    g->eos = find_eos(m);
    utf8_stream_init(&g->stream);
    if (sampler_init(&g->sampler, bitt_model_vocab_size(m), &sp, &err) != 0) {
        set_error(&err);
        free(g);
        return NULL;
    }
    sampler_reseed(&g->sampler, sp.seed);
    if (bitt_session_learn(s, prompt, len, &err) != 0) {
        set_error(&err);
        sampler_free(&g->sampler);
        free(g);
        return NULL;
    }
    if (!bitt_session_logits(s)) {
        set_message("empty prompt and empty memory: nothing to continue from");
        sampler_free(&g->sampler);
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
    if (g->remaining <= 0) {
        g->finished = 1;
        utf8_stream_flush(&g->stream, &g->piece, &g->piece_len);
        return g->piece_len ? 1 : 0;
    }
    g->remaining--;
    const float *logits = bitt_session_logits(g->s);
    int32_t next = sampler_sample(&g->sampler, logits);
    /* every generated token enters the memory */
    if (bitt_session_feed(g->s, &next, 1, &err) != 0) {
        set_error(&err);
        g->finished = 1;
        return -1;
    }
    if (next == g->eos) {
        g->finished = 1;
        utf8_stream_flush(&g->stream, &g->piece, &g->piece_len);
        return g->piece_len ? 1 : 0;
    }
    char *bytes = NULL; /* the token's bytes; empty for special tokens */
    size_t len = 0;
    if (bitt_decode(g->m, &next, 1, &bytes, &len, &err) != 0) {
        set_error(&err);
        g->finished = 1;
        return -1;
    }
    int rc = utf8_stream_push(&g->stream, bytes, len, &g->piece, &g->piece_len);
    bitt_free(bytes);
    if (rc != 0) {
        set_message("out of memory");
        g->finished = 1;
        return -1;
    }
    return 1;
}

EXPORT const char *bw_gen_piece(const Generation *g) { return g->piece; }

EXPORT uint32_t bw_gen_piece_len(const Generation *g) { return (uint32_t)g->piece_len; }

EXPORT void bw_gen_free(Generation *g) {
    if (!g) return;
    sampler_free(&g->sampler);
    utf8_stream_free(&g->stream);
    free(g);
}
