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

/* How the next token is drawn. The penalties are logit transforms over the
 * tokens drawn in this generation (applied first; greedy uses them too);
 * then temperature, top-k, top-p and min-p, in that order. A non-greedy
 * token takes exactly one number from the seeded stream whatever the
 * options, so the same seed and options give the same tokens in every
 * front end (CLI, server, wasm). */
typedef struct bitt_sampling {
    float temperature;        /* 0 = greedy */
    int top_k;                /* 0 = off */
    float top_p;              /* 1 = off */
    uint64_t seed;
    float min_p;              /* 0 = off: keeps tokens with probability >= min_p x the most likely one's */
    float repetition_penalty; /* 1 = off: logit l of a drawn token -> l / r (l > 0) or l * r */
    float presence_penalty;   /* 0 = off: minus this once for every token drawn at least once */
    float frequency_penalty;  /* 0 = off: minus this times the number of times the token was drawn */
    int penalty_last_n;       /* the penalties look at the last n drawn tokens; 0 = all of this generation */
} bitt_sampling;

/* temperature 0.8, top_k 40, top_p 0.95, seed 42, min_p 0, no penalties */
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
/* Logits through int8 rows of lm_head (per-row scales): faster decode,
 * logits within about 1e-2 of the float ones. on = 0: float lm_head. The
 * default is the file's form: int8 for an I8 .bitt v2 (its own rows; on = 0
 * then makes a float copy), float for the others. */
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

/* Id of a token by its vocabulary string (e.g. "</s>"), or -1. */
int32_t bitt_token_id(const bitt_model *m, const char *token);
/* The bytes a token stands for (a special token gives its content, e.g.
 * "</s>"); NULL for an id out of range. Not NUL-terminated. */
const char *bitt_token_bytes(const bitt_model *m, int32_t id, size_t *len);
/* 1 if the id is a special token (skipped in generated text). */
int bitt_token_is_special(const bitt_model *m, int32_t id);

/* ---- generation ---- */
#define BITT_MAX_STOP_STRINGS 16       /* per generation */
#define BITT_MAX_STOP_BYTES 256        /* per stop string */
#define BITT_MAX_TOP_LOGPROBS 20

typedef enum bitt_finish_reason {
    BITT_FINISH_NONE = 0,   /* still running, or stopped by the caller */
    BITT_FINISH_EOS,        /* the model drew </s> */
    BITT_FINISH_STOP,       /* a stop string appeared (it is not part of the text) */
    BITT_FINISH_LENGTH      /* max_tokens drawn */
} bitt_finish_reason;

typedef struct bitt_generate_options {
    int max_tokens;             /* >= 0 */
    const char *const *stop;    /* n_stop stop strings (1..BITT_MAX_STOP_BYTES bytes of UTF-8 each), or NULL */
    const size_t *stop_len;     /* their lengths in bytes; NULL: NUL-terminated strings */
    int n_stop;                 /* 0..BITT_MAX_STOP_STRINGS */
    int leave_last_unread;      /* 0: every drawn token enters the memory at once, the last one too
                                   (bitt_generate, the CLI, the npm package); 1: the last drawn token
                                   is not read (one forward step less; the memory then ends on the
                                   text before it) */
    int top_logprobs;           /* < 0: no log-probabilities; 0..BITT_MAX_TOP_LOGPROBS: each drawn
                                   token's and this many of the most likely alternatives */
} bitt_generate_options;

/* max_tokens as given, no stop strings, every token read, no logprobs. */
bitt_generate_options bitt_generate_options_default(int max_tokens);

/* A generation in steps (so that a caller can stream, cancel, or look at
 * each token): the text of the tokens goes through UTF-8 reassembly (pieces
 * end on character boundaries) and the stop strings (text that may begin one
 * is held back until it cannot). */
typedef struct bitt_generation bitt_generation;
/* Starts drawing from the session's current logits (feed the prompt first).
 * Reseeds the sampler with p->seed and starts the penalties' history afresh.
 * The session must not be used otherwise until bitt_generation_free. */
int bitt_generation_start(bitt_session *s, const bitt_sampling *p, const bitt_generate_options *o,
                          bitt_generation **out, BittError *err);
/* One step: draws a token (*token, or -1 when this call drew none) and gives
 * the text that became final (*text, *len: maybe empty, valid until the next
 * call). Returns 1 while running, 0 once finished (the text of that call is
 * the last; later calls give 0 and no text), -1 on error. */
int bitt_generation_step(bitt_generation *g, int32_t *token, const char **text, size_t *len, BittError *err);
/* Tokens drawn so far (a final </s> included). */
int bitt_generation_count(const bitt_generation *g);
bitt_finish_reason bitt_generation_finish_reason(const bitt_generation *g);
/* Log-probabilities of the token the last step drew under softmax(logits) of
 * the model (before penalties, temperature and filters): *token_logprob, and
 * the top_logprobs most likely ids best first in *ids / *logprobs (owned by
 * g, valid until the next step). Returns their number, or -1 when logprobs
 * were not asked for or no token was drawn. */
int bitt_generation_logprobs(const bitt_generation *g, double *token_logprob, const int32_t **ids,
                             const double **logprobs);
void bitt_generation_free(bitt_generation *g);

/* Called with each piece of generated text (complete UTF-8 sequences);
 * return non-zero to stop generation. */
typedef int (*bitt_piece_fn)(const char *piece, size_t len, void *user);
/* Feeds the prompt (may be empty), then samples up to max_tokens tokens,
 * stopping early at </s>. Every generated token is fed into the memory, so
 * the session carries the whole conversation. *n_generated (optional) gets
 * the number of tokens produced. */
int bitt_generate(bitt_session *s, const char *prompt, int max_tokens, const bitt_sampling *p,
                  bitt_piece_fn on_piece, void *user, int *n_generated, BittError *err);
/* bitt_generate with options (stop strings, what is read); *finish (optional)
 * gets why it ended. */
int bitt_generate_opts(bitt_session *s, const char *prompt, const bitt_sampling *p, const bitt_generate_options *o,
                       bitt_piece_fn on_piece, void *user, int *n_generated, bitt_finish_reason *finish,
                       BittError *err);
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
