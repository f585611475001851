/* train_streams.h: stateful training (truncated backprop through time,
 * `bitt train --carry-state`). The batch is B streams; each reads
 * consecutive windows of `context` + 1 tokens of the token file (stream b
 * starts at offset b * (n - context - 1) / B and wraps to 0 at the end), and
 * each window starts from the TTT state the stream's previous window left
 * (detached: a constant input, no gradient into the past). A stream starts
 * from the model's start state (W0, b0 / S = 0), so that those parameters
 * keep their gradient, and restarts there with probability `reset` per step
 * at a random offset. Also the one-pass validation that matches `bitt eval`
 * (state carried over the first N tokens of a file). */
#ifndef BITT_TRAIN_STREAMS_H
#define BITT_TRAIN_STREAMS_H

#include <stddef.h>
#include <stdint.h>

#include "../data/token_file.h"
#include "../sampling/rng.h"
#include "train_forward.h"

typedef struct TrainStreams {
    int n;                   /* B streams */
    size_t state_floats;     /* per stream: train_state_floats (0 for variant none) */
    uint64_t *pos;           /* B: token offset of each stream's next window */
    int64_t *fresh;          /* B: 1 = the next window starts from the start state */
    int32_t *carried;        /* B: !fresh, as the forward takes it (TrainCarry) */
    TrainBackend *be;        /* not owned */
    real *state;             /* backend, B x state_floats: the state each stream's last window left */
    real *host_state;        /* its host copy (train_streams_download; train_streams_load fills both) */
} TrainStreams;

/* B streams, evenly spaced over n_tokens, all fresh; the states on be. */
int train_streams_init(TrainStreams *s, TrainBackend *be, int B, size_t state_floats, uint64_t n_tokens,
                       int context, BittError *err);
void train_streams_free(TrainStreams *s);

/* Before a step: for each stream in order, one draw of rng; with
 * probability reset (not on a fresh stream) it restarts: fresh, at a random
 * offset. Then reads each stream's window into ids (B x (context + 1)). */
void train_streams_next(TrainStreams *s, BittRng *rng, float reset, const TokenFile *tf, int context,
                        int32_t *ids);
/* After the step's forward wrote each stream's final state: moves every
 * stream on by context tokens (wrapping) and clears fresh. */
void train_streams_advance(TrainStreams *s, uint64_t n_tokens, int context);
/* The forward's view of the streams: their states, carried where not fresh. */
TrainCarry train_streams_carry(TrainStreams *s);
/* The states, backend -> host copy (before train_streams_save). */
int train_streams_download(TrainStreams *s, BittError *err);

/* RUN/checkpoint/streams.safetensors: pos [B] and fresh [B] as I64,
 * state [B, state_floats] as F32 (absent when state_floats is 0), from the
 * host copy. */
int train_streams_save(const TrainStreams *s, const char *path, BittError *err);
/* Into streams made by train_streams_init with the run's B and state size
 * (shapes checked). */
int train_streams_load(TrainStreams *s, const char *path, BittError *err);

/* One-pass validation as `bitt eval` scores: the first min(n, file) tokens
 * of tf in windows of `window` tokens (a multiple of the mini-batch, at most
 * w's Tmax, and w's Bmax >= 1), the state carried from one window to the next from the start
 * state. ids: window + 1 ints of scratch. *loss: mean nats per predicted
 * token; *bpb: summed nats / ln 2 / UTF-8 bytes of the predicted tokens
 * (special tokens count 0 bytes). Returns -1 on error or a non-finite loss. */
int train_eval_stream(const TrainModel *tm, TrainActs *w, const TokenFile *tf, const Tokenizer *tok, uint64_t n,
                      int window, int32_t *ids, double *loss, double *bpb, BittError *err);

#endif
