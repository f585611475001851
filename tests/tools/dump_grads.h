/* dump_grads.h: the interface between bitt_dump_grads' command line
 * (dump_grads.c) and its batch runner (dump_grads_run.c), which is compiled
 * twice: over float with the trainer's math (bitt_core, in
 * bitt_dump_grads_f32) and over double with bitt_train_f64 (in
 * bitt_dump_grads). The runner forms the batch as `bitt train` does and returns
 * the loss and the gradient of every parameter, in double whatever the
 * precision it ran in. Shapes: n sequences of T tokens. */
#ifndef BITT_DUMP_GRADS_H
#define BITT_DUMP_GRADS_H

#include <stddef.h>
#include <stdint.h>

#include "data/token_file.h"
#include "model/model.h"

typedef struct DumpGradsJob {
    const Model *model;       /* loaded with its latent weights */
    const TokenFile *tokens;
    const uint64_t *starts;   /* n_seq window starts: sequence s reads ids[starts[s] .. starts[s] + T] */
    int n_seq;
    int T;                    /* context: predictions per sequence */
    int carry;                /* windows run first (forward only) per sequence, carrying the state */
    int quant_weights;        /* 1: ternary weights (as training); 0: latent weights as they are */
    const char *device;       /* the trainer's backend (train/backend_open.h): "cpu" or "cuda"; float only */
} DumpGradsJob;

typedef struct DumpGradsResult {
    double loss;              /* mean over sequences of the mean token cross-entropy (nats) */
    double *seq_loss;         /* n_seq */
    double *grad;             /* d loss / d params: the tensors of the model's parameter table in order, flat */
    size_t n_params;
    double *state;            /* carry > 0: the carried state each sequence started from, n_seq x state_floats */
    size_t state_floats;
} DumpGradsResult;

/* Fill res (the caller frees its arrays with dump_grads_result_free). Each
 * tool links one of the two. */
int dump_grads_run(const DumpGradsJob *job, DumpGradsResult *res, BittError *err);      /* float */
int dump_grads_run_f64(const DumpGradsJob *job, DumpGradsResult *res, BittError *err);  /* double */
void dump_grads_result_free(DumpGradsResult *res);

#endif
