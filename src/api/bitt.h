/* bitt.h: the public C API of Bit-TTT, the one header an application needs.
 *
 *   bitt_model   *m;  bitt_model_load("story.bitt", &m, &err);
 *   bitt_session *s;  bitt_session_new(m, &s, &err);
 *   bitt_sampling p = bitt_sampling_default();
 *   bitt_generate(s, "Once upon a time", 100, &p, print_piece, NULL, NULL, &err);
 *   bitt_session_free(s); bitt_model_free(m);
 *
 * Every function that can fail returns 0 on success and -1 on failure with
 * err->message naming the problem (and the file). The library never prints
 * and never exits. A session is the model's memory of one stream of text
 * (the TTT state, constant in size): it persists across calls until reset. */
#ifndef BITT_API_H
#define BITT_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef BITT_ERROR_STRUCT_DEFINED
#define BITT_ERROR_STRUCT_DEFINED
typedef struct BittError {
    char message[512];
} BittError;
#endif

typedef struct bitt_model bitt_model;
typedef struct bitt_session bitt_session;

typedef struct bitt_sampling {
    float temperature;  /* 0 = greedy */
    int top_k;          /* 0 = off */
    float top_p;        /* 1 = off */
    uint64_t seed;
} bitt_sampling;

/* temperature 0.8, top_k 40, top_p 0.95, seed 42 */
bitt_sampling bitt_sampling_default(void);
/* 0 if the parameters are usable, else -1 with the reason. */
int bitt_sampling_check(const bitt_sampling *p, BittError *err);

/* Threads for the kernels (0 = all cores; the library starts with 1).
 * Returns the number in effect. Call it between, not during, other calls. */
int bitt_set_threads(int n);

/* ---- models ---- */
/* path: a .bitt file (v1 or v2) or a checkpoint directory. */
int bitt_model_load(const char *path, bitt_model **out, BittError *err);
/* A .bitt file held in memory (copied as needed; data may be freed after). */
int bitt_model_load_memory(const void *data, size_t len, bitt_model **out, BittError *err);
void bitt_model_free(bitt_model *m);
/* Logits through an int8 copy of lm_head (per-row scales): faster decode,
 * logits within about 1e-2 of the float ones. on = 0: float lm_head (default). */
int bitt_model_set_lm_head_int8(bitt_model *m, int on, BittError *err);
/* The kernel backend in use ("scalar", "avx2", ...). */
const char *bitt_model_kernels(const bitt_model *m);
int bitt_model_vocab_size(const bitt_model *m);
/* {"config": {...}, "params": N, "bitt_version": V, "state_bytes": S} as malloc'd text. */
char *bitt_model_info_json(const bitt_model *m);

/* ---- tokenizer ---- */
/* Adds no special tokens. *ids is malloc'd: release with bitt_free. */
int bitt_encode(const bitt_model *m, const char *text, size_t len, int32_t **ids, size_t *n,
                BittError *err);
/* *text is malloc'd, NUL-terminated (special tokens skipped). */
int bitt_decode(const bitt_model *m, const int32_t *ids, size_t n, char **text, size_t *len,
                BittError *err);
void bitt_free(void *p);

/* ---- sessions ---- */
int bitt_session_new(const bitt_model *m, bitt_session **out, BittError *err);
void bitt_session_free(bitt_session *s);
/* Back to the start state (the model's W0, b0): forgets everything. */
void bitt_session_reset(bitt_session *s);
/* Tokens the memory has consumed since the start state. */
int64_t bitt_session_tokens(const bitt_session *s);

/* Feeds token ids (prefill in the dual form; one id is a decode step in the
 * primal form). Afterwards bitt_session_logits gives the next-token logits. */
int bitt_session_feed(bitt_session *s, const int32_t *ids, size_t n, BittError *err);
/* The logits after the last fed token (vocab_size floats), or NULL if none. */
const float *bitt_session_logits(const bitt_session *s);
/* Feeds text into the memory without generating ("learn"). A session at its
 * start state first reads the document separator </s>, as in training. */
int bitt_session_learn(bitt_session *s, const char *text, size_t len, BittError *err);

/* Called with each piece of generated text (complete UTF-8 sequences);
 * return non-zero to stop generation. */
typedef int (*bitt_piece_fn)(const char *piece, size_t len, void *user);
/* Feeds the prompt (may be empty), then samples up to max_tokens tokens,
 * stopping early at </s>. Every generated token is fed into the memory, so
 * the session carries the whole conversation. *n_generated (optional) gets
 * the number of tokens produced. */
int bitt_generate(bitt_session *s, const char *prompt, int max_tokens, const bitt_sampling *p,
                  bitt_piece_fn on_piece, void *user, int *n_generated, BittError *err);
/* Samples one token from the current logits (no feeding). */
int bitt_session_sample(bitt_session *s, const bitt_sampling *p, int32_t *token, BittError *err);

/* ---- memory (TTT state) ---- */
int bitt_state_save(const bitt_session *s, uint8_t **buf, size_t *len, BittError *err);
/* Refuses a state of another model; on error the session is unchanged. */
int bitt_state_load(bitt_session *s, const void *buf, size_t len, BittError *err);
int bitt_state_save_file(const bitt_session *s, const char *path, BittError *err);
int bitt_state_load_file(bitt_session *s, const char *path, BittError *err);
size_t bitt_state_bytes(const bitt_session *s);

#ifdef __cplusplus
}
#endif
#endif
