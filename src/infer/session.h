/* session.h: running a model over tokens (the inference engine). A Session
 * owns the TTT memory and the scratch buffers of one stream of text; the
 * forward pass goes through the kernel interface only, the block's pieces
 * through block.h. */
#ifndef BITT_SESSION_H
#define BITT_SESSION_H

#include <stdint.h>

#include "../model/model.h"
#include "../model/state.h"
#include "block.h"

typedef struct Session {
    const Model *m;
    ModelState state;    /* the TTT memory of this stream of text */
    int force_primal;    /* testing: run TTT-Linear token by token even in prefill */
    float *x, *xn, *mix; /* SESSION_CHUNK x D: residual stream, normalised input, block output */
    BlockScratch scratch;
} Session;

int session_init(Session *s, const Model *m, BittError *err);
void session_free(Session *s);
void session_reset(Session *s);

/* Feeds n token ids through the model, advancing the state. logits may be
 * NULL (no output), or receive V floats for the last token (all_logits 0),
 * or n x V floats (all_logits 1). Out-of-range ids are an error (nothing is
 * consumed then). */
int session_forward(Session *s, const int32_t *ids, int n, float *logits, int all_logits,
                    BittError *err);

/* The next-token logits (V) of the state as it is (e.g. just loaded from a
 * file): -1 if the state has consumed no token yet. */
int session_state_logits(Session *s, float *logits);

#endif
