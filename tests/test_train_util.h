/* test_train_util.h: the trainer on its CPU backend for tests: a backend,
 * the trainer's model of a Model, and a workspace, with one-call forwards of
 * single sequences (from the start state or from a carried state). Works
 * over `real` (define BITT_TRAIN_REAL_DOUBLE before including it for the
 * double build). CPU backend buffers are host memory, so tests read them. */
#ifndef BITT_TEST_TRAIN_UTIL_H
#define BITT_TEST_TRAIN_UTIL_H

#include <stdio.h>

#include "train/cpu/cpu_backend.h"
#include "train/train_blocks.h" /* TrainActs.logits: the probabilities after a forward */
#include "train/train_forward.h"

typedef struct TrainHarness {
    TrainBackend *be;
    TrainModel tm;
    TrainActs *acts;
    int ok;
} TrainHarness;

static inline int harness_init(TrainHarness *h, const Model *m, int Bmax, int Tmax) {
    BittError err;
    memset(h, 0, sizeof *h);
    if (!(h->be = train_backend_cpu(&err)) || train_model_init(&h->tm, m, h->be, &err) != 0 ||
        !(h->acts = train_acts_new(&h->tm, Bmax, Tmax, &err))) {
        fprintf(stderr, "harness: %s\n", err.message);
        return -1;
    }
    h->ok = 1;
    return 0;
}

static inline void harness_free(TrainHarness *h) {
    if (h->acts) train_acts_free(&h->tm, h->acts);
    if (h->tm.be) train_model_free(&h->tm);
    if (h->be) h->be->destroy(h->be);
    memset(h, 0, sizeof *h);
}

/* Mean loss of one sequence ids[0..T] (T + 1 ids); state NULL: the start
 * state, else the carried state (a backend buffer), which the end state
 * replaces when write_back. NAN on error. */
static inline double harness_forward(TrainHarness *h, const int32_t *ids, int T, real *state, int write_back) {
    BittError err;
    const int32_t carried = 1;
    TrainCarry carry = {state, &carried, write_back};
    double loss;
    if (train_forward(&h->tm, h->acts, ids, 1, T, state ? &carry : NULL, NULL, &loss, &err) != 0) {
        fprintf(stderr, "harness forward: %s\n", err.message);
        return NAN;
    }
    return loss;
}

#endif
