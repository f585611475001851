/* dump_grads_run.c: one batch of bitt_dump_grads through the training math
 * of tm_model.h, exactly as the trainer's run_batch does it: each sequence
 * forward from the start state (or a carried one) and backward with scale
 * 1/n, so the gradients are those of the mean over sequences of the mean
 * token loss. Compiled twice (see dump_grads.h): `real` is float in the
 * tool's own build and double where it is built against bitt_train_f64;
 * TM_NAME gives the double build's function its _f64 name. */
#include <stdlib.h>
#include <string.h>

#include "dump_grads.h"
#include "train/tm_model.h"

#define dump_grads_run_real TM_NAME(dump_grads_run)

static void result_free(DumpGradsResult *res) {
    free(res->seq_loss);
    free(res->grad);
    free(res->state);
    memset(res, 0, sizeof *res);
}

int dump_grads_run_real(const DumpGradsJob *job, DumpGradsResult *res, BittError *err) {
    memset(res, 0, sizeof *res);
    const int T = job->T, n = job->n_seq, carry = job->carry;
    TmModel tm;
    if (tm_model_init(&tm, job->model, err) != 0) return -1;
    tm.quant_weights = job->quant_weights;
    int rc = -1;
    TmWork *w = NULL;
    real *grad = NULL, *state = NULL;
    int32_t *ids = malloc((size_t)(T + 1) * sizeof *ids);
    const size_t S = tm_state_floats(&tm);
    if (tm_prepare(&tm, err) != 0) goto done;
    if (!(w = tm_work_init(&tm, T, err))) goto done;
    grad = calloc(tm.n_params ? tm.n_params : 1, sizeof *grad);
    state = malloc((S ? S : 1) * sizeof *state);
    res->seq_loss = calloc((size_t)n, sizeof *res->seq_loss);
    res->grad = malloc((tm.n_params ? tm.n_params : 1) * sizeof *res->grad);
    res->n_params = tm.n_params;
    res->state_floats = S;
    if (carry > 0) res->state = calloc((size_t)n * (S ? S : 1), sizeof *res->state);
    if (!ids || !grad || !state || !res->seq_loss || !res->grad || (carry > 0 && !res->state)) {
        bitt_fail(err, "out of memory");
        goto done;
    }
    double total = 0.0;
    for (int s = 0; s < n; s++) {
        const uint64_t start = job->starts[s];
        /* the preceding windows of this sequence's stream, forward only: the next
           window starts where the last one's predictions ended (train_streams.c) */
        for (int k = carry; k >= 1; k--) {
            token_file_read(job->tokens, start - (uint64_t)k * (uint64_t)T, (size_t)T + 1, ids);
            double l = tm_forward_state(&tm, w, ids, T, k == carry ? NULL : state, state);
            if (l != l) {
                bitt_fail(err, "carried window of sequence %d gave NaN (is --context a multiple of the mini-batch?)", s);
                goto done;
            }
        }
        if (carry > 0)
            for (size_t i = 0; i < S; i++) res->state[(size_t)s * S + i] = (double)state[i];
        token_file_read(job->tokens, start, (size_t)T + 1, ids);
        res->seq_loss[s] = tm_forward_state(&tm, w, ids, T, carry > 0 ? state : NULL, NULL);
        tm_backward(&tm, w, ids, T, (real)1 / (real)n, grad);
        total += res->seq_loss[s];
    }
    res->loss = total / n;
    for (size_t i = 0; i < tm.n_params; i++) res->grad[i] = (double)grad[i];
    rc = 0;
done:
    if (rc) result_free(res);
    free(ids);
    free(grad);
    free(state);
    tm_work_free(w);
    tm_model_free(&tm);
    return rc;
}
