/* dump_grads_run.c: one batch of bitt_dump_grads through the trainer's
 * schedule (train_forward.h) on its CPU backend, or in the float build on
 * the one job->device names (the CUDA plugin), as the trainer's run_batch
 * does it: the n sequences forward as one batch, from the start state or
 * from carried states, then the backward with scale 1/n, so the gradients
 * are those of the mean over sequences of the mean token loss. Compiled
 * twice (see dump_grads.h): `real` is float in bitt_dump_grads_f32 and
 * double where it is built against bitt_train_f64; TRAIN_SYM gives the
 * double build's function its _f64 name. */
#include <stdlib.h>
#include <string.h>

#include "dump_grads.h"
#include "train/cpu/cpu_backend.h"
#include "train/train_forward.h"
#ifndef BITT_TRAIN_REAL_DOUBLE
#include "train/backend_open.h"
#endif

#define dump_grads_run_real TRAIN_SYM(dump_grads_run)

static void result_free(DumpGradsResult *res) {
    free(res->seq_loss);
    free(res->grad);
    free(res->state);
    memset(res, 0, sizeof *res);
}

int dump_grads_run_real(const DumpGradsJob *job, DumpGradsResult *res, BittError *err) {
    memset(res, 0, sizeof *res);
    const int T = job->T, n = job->n_seq, carry = job->carry;
#ifdef BITT_TRAIN_REAL_DOUBLE
    TrainBackend *be = train_backend_cpu(err); /* the double math is the CPU's only */
#else
    TrainBackend *be = train_backend_open(job->device ? job->device : "cpu", NULL, NULL, 0, err);
#endif
    if (!be) return -1;
    TrainModel tm;
    memset(&tm, 0, sizeof tm);
    TrainActs *acts = NULL;
    real *state = NULL, *host = NULL;
    int32_t *ids = NULL, *carried = NULL;
    int rc = -1, have_tm = 0;
    if (train_model_init(&tm, job->model, be, err) != 0) goto done;
    have_tm = 1;
    tm.quant_weights = job->quant_weights;
    if (train_model_prepare(&tm, err) != 0) goto done;
    const size_t S = train_state_floats(&tm), P = tm.n_params;
    if (!(acts = train_acts_new(&tm, n, T, err))) goto done;
    ids = malloc((size_t)n * (T + 1) * sizeof *ids);
    carried = calloc((size_t)n, sizeof *carried);
    host = malloc(((size_t)n * S > P ? (size_t)n * S : P) * sizeof *host + sizeof *host);
    state = be->alloc(be, (size_t)n * S + 1);
    res->seq_loss = calloc((size_t)n, sizeof *res->seq_loss);
    res->grad = malloc((P ? P : 1) * sizeof *res->grad);
    res->n_params = P;
    res->state_floats = S;
    if (carry > 0) res->state = calloc((size_t)n * (S ? S : 1), sizeof *res->state);
    if (!ids || !carried || !host || !state || !res->seq_loss || !res->grad || (carry > 0 && !res->state)) {
        bitt_fail(err, "out of memory");
        goto done;
    }
    /* the preceding windows of each sequence's stream, forward only: the next
       window starts where the last one's predictions ended; the first from
       the start state, each leaving its end state for the next */
    double mean;
    for (int k = carry; k >= 1; k--) {
        for (int s = 0; s < n; s++) {
            token_file_read(job->tokens, job->starts[s] - (uint64_t)k * (uint64_t)T, (size_t)T + 1,
                            ids + (size_t)s * (T + 1));
            carried[s] = k != carry;
        }
        const TrainCarry c = {state, carried, 1};
        if (train_forward(&tm, acts, ids, n, T, &c, NULL, &mean, err) != 0) goto done;
    }
    if (carry > 0) {
        be->download(be, host, state, (size_t)n * S);
        for (size_t i = 0; i < (size_t)n * S; i++) res->state[i] = (double)host[i];
    }
    for (int s = 0; s < n; s++) {
        token_file_read(job->tokens, job->starts[s], (size_t)T + 1, ids + (size_t)s * (T + 1));
        carried[s] = 1;
    }
    const TrainCarry c = {state, carried, 0};
    be->zero(be, tm.grads, P);
    if (train_forward(&tm, acts, ids, n, T, carry > 0 ? &c : NULL, res->seq_loss, &res->loss, err) != 0 ||
        train_backward(&tm, acts, (real)1 / (real)n, err) != 0)
        goto done;
    be->download(be, host, tm.grads, P);
    size_t at = 0; /* in the order of the model's parameter table, whatever the trainer's layout */
    for (int i = 0; i < tm.n_tensors; i++) {
        const TrainTensor *t = &tm.tensors[i];
        for (size_t k = 0; k < t->spec.count; k++) res->grad[at + k] = (double)host[t->offset + k];
        at += t->spec.count;
    }
    rc = 0;
done:
    if (rc) result_free(res);
    free(ids);
    free(carried);
    free(host);
    if (state) be->release(be, state);
    if (acts) train_acts_free(&tm, acts);
    if (have_tm) train_model_free(&tm);
    be->destroy(be);
    return rc;
}
