/* trainer.h: the training loop behind `bitt train` (SPEC 5): each step a
 * batch of windows of `context` + 1 tokens from a token file: by default
 * windows at random offsets, each from the start state (seeded generator),
 * or (carry_state 1) B streams reading consecutive windows with the TTT
 * state carried from one window to the next (train_streams.h); batches
 * split over threads (one gradient buffer per thread, summed in a fixed
 * order, so a run is reproducible for a given thread count), AdamW with
 * clipping and a warmup + cosine schedule, validation loss and bits per
 * byte (windowed, and in one pass with the state carried as `bitt eval`
 * scores), metrics.jsonl + loss.svg, and atomic checkpoints from which
 * `resume` continues exactly. Progress is reported through a callback; the
 * library prints nothing itself. */
#ifndef BITT_TRAINER_H
#define BITT_TRAINER_H

#include <signal.h>
#include <stdint.h>

#include "../model/config.h"
#include "train_ckpt.h"

typedef enum TrainEventKind {
    TRAIN_EV_INFO,   /* text: a line of information */
    TRAIN_EV_STEP,   /* an update done: step, total, loss, lr, tok_s, eta_s */
    TRAIN_EV_EVAL,   /* validation: step, val_loss, val_bpb, val_stream_loss/bpb (NAN if off) */
    TRAIN_EV_SAVED   /* a checkpoint written: step, text = its directory */
} TrainEventKind;

typedef struct TrainEvent {
    TrainEventKind kind;
    int64_t step, total;
    double loss, lr, tok_s, eta_s, val_loss, val_bpb, val_stream_loss, val_stream_bpb;
    const char *text;
} TrainEvent;

/* The run settings a resumed run keeps: a bit set in TrainOptions.given says
 * the caller named it (e.g. the run's own command line given again); its
 * value must then equal the run's, or resuming is an error. */
enum {
    TRAIN_GIVEN_DIM = 1u << 0, TRAIN_GIVEN_LAYERS = 1u << 1, TRAIN_GIVEN_HEADS = 1u << 2,
    TRAIN_GIVEN_MINI_BATCH = 1u << 3, TRAIN_GIVEN_BASE_LR = 1u << 4, TRAIN_GIVEN_STATE_DECAY = 1u << 5,
    TRAIN_GIVEN_FORGET_GATE = 1u << 6, TRAIN_GIVEN_VARIANT = 1u << 7, TRAIN_GIVEN_ACT_QUANT = 1u << 8,
    TRAIN_GIVEN_CONTEXT = 1u << 9, TRAIN_GIVEN_BATCH = 1u << 10, TRAIN_GIVEN_LR = 1u << 11,
    TRAIN_GIVEN_WARMUP = 1u << 12, TRAIN_GIVEN_MIN_LR = 1u << 13, TRAIN_GIVEN_WEIGHT_DECAY = 1u << 14,
    TRAIN_GIVEN_CLIP = 1u << 15, TRAIN_GIVEN_SEED = 1u << 16, TRAIN_GIVEN_CARRY_STATE = 1u << 17,
    TRAIN_GIVEN_STATE_RESET = 1u << 18
};

typedef struct TrainOptions {
    const char *data_path, *val_path, *tokenizer_path, *out_dir; /* data, val: a resumed run's own if NULL */
    /* model (new runs) */
    int dim, layers, heads, mini_batch, act_quant;
    float base_lr;           /* TTT-Linear inner step scale (0: the default 1.0) */
    float state_decay;       /* TTT-Linear memory decay toward W0 (0: the default 1.0, none) */
    int forget_gate;         /* TTT-Linear: the learned forget gate of SPEC 1.2.1 (1 or 0) */
    TttVariant variant;
    /* run (new runs; a resumed run takes them from its checkpoint) */
    int context, batch;
    int carry_state;         /* 1: stateful training; 0 (default): every window from the start state */
    float state_reset;       /* carried state: restart probability per step and stream (default 0.01) */
    int64_t steps, warmup;   /* steps also extends or shortens a resumed run when > 0 */
    float lr, min_lr, weight_decay, clip;
    uint64_t seed;
    /* either: a resumed run keeps its own unless these are >= 0 (paths: non-NULL) */
    int64_t save_interval, eval_interval;
    int val_windows;         /* windows of the validation file scored per evaluation */
    int64_t val_tokens;      /* one-pass validation over the first N tokens (default 16384, 0 off; -1: the run's own) */
    int threads;             /* 0: all cores */
    const char *device;      /* backend_open.h: "cpu" (NULL: the same), "cuda" or "auto" */
    const char *device_options; /* the CUDA backend's options ("math=f32", "math=tf32"), or NULL */
    int resume;
    unsigned given;          /* with resume: TRAIN_GIVEN_* of the settings named (checked against the run's) */
    volatile sig_atomic_t *stop;       /* set (e.g. by SIGINT): save and return */
    void (*on_event)(void *ctx, const TrainEvent *ev);
    void *event_ctx;
    /* test hook: called with "step" after each update is logged, and at the
     * stages of checkpoint writes (train_ckpt.h) */
    TrainCkptHook hook;
    void *hook_ctx;
} TrainOptions;

/* Fills the defaults of SPEC 5 (dim 256, layers 8, context 128, batch 16,
 * lr 3e-4, warmup 100, min-lr 1e-5, save every 500, ...). */
void train_options_default(TrainOptions *o);

typedef struct TrainResult {
    int64_t step;            /* updates done in total */
    double loss, val_loss, val_bpb, val_stream_loss, val_stream_bpb, tok_s;
    int interrupted;         /* stopped by o->stop (after saving) */
} TrainResult;

/* Runs (or resumes) the training; 0 when done or interrupted and saved. */
int train_run(const TrainOptions *o, TrainResult *res, BittError *err);

#endif
