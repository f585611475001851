/* train_ckpt.h: the training checkpoint of a run directory (SPEC 3.1):
 * RUN/checkpoint/ holds config.json, tokenizer.json, model.safetensors (the
 * float32 latent weights: `bitt generate/eval/convert` take the directory
 * as a model), optimizer.safetensors (AdamW moments exp_avg.NAME and
 * exp_avg_sq.NAME), state.json (step, RNG state, data position,
 * schedule and the run's settings) and, for a run with carried state,
 * streams.safetensors (each stream's position and TTT state, train_streams.h).
 *
 * Writing is atomic: everything goes to RUN/checkpoint.tmp/ (files synced),
 * then the old checkpoint is renamed to RUN/checkpoint.old, the new one into
 * place, and the old one removed. A crash at any point leaves either the
 * old or the new checkpoint whole; train_ckpt_recover puts the old one back
 * if the crash came between the two renames. */
#ifndef BITT_TRAIN_CKPT_H
#define BITT_TRAIN_CKPT_H

#include <stdint.h>

#include "../model/model.h"
#include "adamw.h"
#include "train_model.h"
#include "train_streams.h"

/* The run: how far it has come (step, generator, data position) and the
 * settings it keeps when resumed; RUN/checkpoint/state.json (SPEC 3.1's
 * name). Not to be confused with the TTT state, the model's memory
 * (model/state.h), which stateful training carries from one window to the
 * next (train_streams.h). */
typedef struct TrainRun {
    int64_t step;            /* updates done */
    uint64_t rng_state;      /* the window sampler's generator after `step` */
    uint64_t windows_drawn;  /* data position: windows sampled so far */
    uint64_t tokens_seen;
    /* the run's settings (a resumed run keeps them) */
    int64_t total_steps, warmup;
    float lr, min_lr, weight_decay, clip;
    int batch, context;
    uint64_t seed;
    int64_t save_interval, eval_interval;
    int val_windows;
    int carry_state;         /* 1: stateful training (streams.safetensors holds the streams) */
    float state_reset;       /* per step and stream: probability of a restart from the start state */
    int64_t val_tokens;      /* one-pass validation over the first N validation tokens (0: off) */
    char data_fingerprint[17];
    char data_path[1024], val_path[1024];  /* as given when the run started ("" if none) */
} TrainRun;

/* Called at stages of a save ("files": all files written to the temporary
 * directory; "swap": the old checkpoint moved aside, the new not yet in
 * place), for tests that crash the process there. May be NULL. */
typedef void (*TrainCkptHook)(void *ctx, const char *stage, int64_t step);

/* Writes the host copies (train_model_download, adamw_download and
 * train_streams_download first). streams: NULL for a run without carried
 * state. */
int train_ckpt_save(const char *run_dir, const Model *m, const TrainModel *tm, const AdamW *opt,
                    const TrainRun *st, const TrainStreams *streams, TrainCkptHook hook, void *hook_ctx,
                    BittError *err);

/* Cleans up after a crash during a save: removes RUN/checkpoint.tmp, and
 * if RUN/checkpoint is missing but RUN/checkpoint.old exists, renames it
 * back. Returns 1 if RUN/checkpoint exists afterwards, 0 if not, -1 on error. */
int train_ckpt_recover(const char *run_dir, BittError *err);

/* Loads RUN/checkpoint: the model (with latent weights, into tm too, on the
 * backend be), the optimizer (initialised here) and the state (a version 1 state.json, from
 * before stateful training, reads as carry_state 0, val_tokens 0). Returns
 * the model or NULL. The streams are read with train_streams_load from
 * RUN/checkpoint/streams.safetensors. */
Model *train_ckpt_load(const char *run_dir, TrainBackend *be, TrainModel *tm, AdamW *opt, TrainRun *st,
                       BittError *err);

#endif
