/* state.h: the TTT memory of a whole model (SPEC 1.2, 1.3, 3.4): per layer
 * the inner weights of every head and the running mini-batch sums (linear)
 * or the matrix S (seed). Constant size whatever the context length. */
#ifndef BITT_STATE_H
#define BITT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* The most tokens a state may have consumed: 2^53, the largest count that a
 * JavaScript number (bitt-ttt's sessionTokens) and a JSON number hold exactly.
 * State files with a larger token_count are refused, and a session refuses to
 * go past it (int64 arithmetic on the count can then never overflow). */
#define STATE_MAX_TOKENS 9007199254740992LL

typedef struct TttLayerState {
    float *W;   /* H x f x f: Ws, the state at the start of the current mini-batch */
    float *c;   /* H x f: cs */
    float *A;   /* H x f x f: sum over the mini-batch so far of lr_i k_i^T g_i (with the
                   forget gate each term decayed by the gates of the tokens after it) */
    float *a;   /* H x f: sum of lr_i g_i */
    float *gamma; /* H: exp(L_j), the share of (Ws - W0) the forget gate has kept since the
                     mini-batch start (SPEC 1.2.1); NULL without the gate */
    int pos;    /* tokens of the current mini-batch already seen, 0..b-1 */
} TttLayerState;

typedef struct ModelState {
    TttVariant variant;
    int num_layers, num_heads, head_dim, seed_dim;
    float *data;               /* every float of the state, contiguous */
    size_t n_floats;
    TttLayerState *linear;     /* num_layers entries (variant linear) */
    float **seed_S;            /* num_layers pointers to d x d (variant seed) */
    int64_t token_count;       /* tokens consumed since the start state */
    float *final_hidden;       /* D: the last token's output of the last block (before
                                * norm_f), so a restored state can give logits again */
    int hidden_dim;
} ModelState;

int state_alloc(ModelState *s, const Model *m, BittError *err);
void state_free(ModelState *s);
/* Back to the start of a sequence: (W0, b0), zero sums, gamma = 1, S = 0. */
void state_reset(ModelState *s, const Model *m);
int state_copy(ModelState *dst, const ModelState *src);
size_t state_bytes(const ModelState *s);

/* State files (safetensors, SPEC 3.4). Loading checks the model fingerprint,
 * variant and every shape; on failure the state is left unchanged. */
int state_save_memory(const ModelState *s, const Model *m, uint8_t **buf, size_t *len, BittError *err);
int state_load_memory(ModelState *s, const Model *m, const uint8_t *buf, size_t len,
                      const char *source, BittError *err);
int state_save_file(const ModelState *s, const Model *m, const char *path, BittError *err);
int state_load_file(ModelState *s, const Model *m, const char *path, BittError *err);

#endif
