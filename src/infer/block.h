/* block.h: what the pieces of a block (the TTT mixers, SwiGLU) are given by
 * the session that runs them: the model, the layer, T <= SESSION_CHUNK
 * token rows of input (after the piece's RMSNorm), where the output goes,
 * and scratch buffers. The pieces know nothing else of the session; the
 * mixers also get their layer's slice of the TTT memory. */
#ifndef BITT_INFER_BLOCK_H
#define BITT_INFER_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"
#include "../model/state.h"

/* Tokens per forward pass; longer inputs are processed in chunks. */
#define SESSION_CHUNK 64

/* Scratch of a block's pieces, SESSION_CHUNK rows each (D hidden, I the
 * SwiGLU width, H heads). */
typedef struct BlockScratch {
    float *q, *k, *v, *heads;   /* T x D */
    float *lr_gate, *log_forget; /* T x H: sigmoid gate of the inner step; the forget gate's l_t */
    float *gate, *up;           /* T x max(I, D) (the seed mixer's u and p too) */
    int8_t *xq;                 /* T x max(I, D): int8 activations */
    float *xs;                  /* T: their scales */
    int32_t *acc;               /* T x max(I, D): integer products */
    float *ttt_tmp;             /* H x block_ttt_tmp_per_head */
} BlockScratch;

typedef struct BlockIO {
    const Model *m;
    int layer, T;
    const float *in;            /* T x D */
    float *out;                 /* T x D */
    BlockScratch *scratch;
} BlockIO;

/* Floats of TTT scratch one head needs (its lr and forget-gate columns +
 * inner buffers). */
static inline size_t block_ttt_tmp_per_head(const ModelConfig *c) {
    const size_t f = (size_t)(c->hidden_dim / c->num_heads), b = (size_t)c->mini_batch;
    return 2 * SESSION_CHUNK + 4 * b * f + 6 * f + 2 * b;
}

int block_scratch_init(BlockScratch *s, const ModelConfig *c, BittError *err);
void block_scratch_free(BlockScratch *s);

/* The pieces (ttt_linear.c, ttt_seed.c, swiglu.c): in -> out. force_primal
 * (testing) runs TTT-Linear token by token even in a prefill. */
void ttt_linear_forward(const BlockIO *io, TttLayerState *memory, int force_primal);
void ttt_seed_forward(const BlockIO *io, float *S);
void swiglu_forward(const BlockIO *io);

#endif
