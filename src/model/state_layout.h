/* state_layout.h: how many floats the TTT memory of a model takes, and where
 * each part of a layer's memory sits (SPEC 1.2, 1.2.1, 1.3, 3.4). Two forms:
 *  - the full memory of the inference engine (state.h, state files): per
 *    layer, linear: Ws (H x f x f), cs (H x f), the running sums A (H x f x f)
 *    and a (H x f), and with the forget gate gamma (H); seed: S (d x d);
 *  - the memory at a mini-batch boundary, which is all the trainer carries
 *    from one window to the next (A = a = 0 and gamma = 1 there): per
 *    layer, linear: W (H x f x f) then c (H x f); seed: S (d x d).
 * Both are constant in the context length. */
#ifndef BITT_STATE_LAYOUT_H
#define BITT_STATE_LAYOUT_H

#include <stddef.h>

#include "config.h"

typedef struct TttLinearLayout {
    size_t W, c, A, a, gamma;   /* offsets inside a layer's slice (gamma: only with the gate) */
    size_t per_layer;           /* floats of a layer's slice */
} TttLinearLayout;

static inline TttLinearLayout ttt_linear_layout(const ModelConfig *c) {
    const size_t H = (size_t)c->num_heads, f = (size_t)(c->hidden_dim / c->num_heads);
    TttLinearLayout l;
    l.W = 0;
    l.c = H * f * f;
    l.A = l.c + H * f;
    l.a = l.A + H * f * f;
    l.gamma = l.a + H * f;
    l.per_layer = l.gamma + (c->forget_gate ? H : 0);
    return l;
}

/* Floats of one layer's full memory (engine). */
static inline size_t ttt_state_layer_floats(const ModelConfig *c) {
    const size_t d = (size_t)(c->hidden_dim / 4);
    if (c->variant == TTT_LINEAR) return ttt_linear_layout(c).per_layer;
    if (c->variant == TTT_SEED) return d * d;
    return 0;
}

/* Floats of one layer's memory at a mini-batch boundary (trainer). */
static inline size_t ttt_boundary_layer_floats(const ModelConfig *c) {
    const size_t H = (size_t)c->num_heads, f = (size_t)(c->hidden_dim / c->num_heads);
    const size_t d = (size_t)(c->hidden_dim / 4);
    if (c->variant == TTT_LINEAR) return H * (f * f + f);
    if (c->variant == TTT_SEED) return d * d;
    return 0;
}

#endif
