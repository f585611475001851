/* test_train_forward.c: the trainer's forward (src/train, float) gives the
 * same loss as the inference engine (Session, as `bitt eval` scores) on the
 * same tokens of random models of every variant, with int8 activations on
 * and off; and its state really carries across mini-batches (changing an
 * early token changes the loss of later mini-batches). Stateful training:
 * a training forward of window 2 started from the state window 1 left
 * (train_forward with a TrainCarry) gives the inference engine's probabilities and loss
 * for those tokens when it is fed both windows in sequence. The linear
 * cases run once more with state_decay 0.85 (docs/TTT_MEMORY.md). */
#include <stdlib.h>

#include "test_model_util.h"
#include "test_util.h"
#include "test_train_util.h"
#include "util/threadpool.h"

static double session_loss(const Model *m, const int32_t *ids, int T) {
    BittError err;
    Session s;
    if (session_init(&s, m, &err) != 0) return NAN;
    const int V = m->cfg.vocab_size;
    float *logits = malloc((size_t)T * V * sizeof(float));
    double total = 0.0;
    if (logits && session_forward(&s, ids, T, logits, 1, &err) == 0) {
        for (int t = 0; t < T; t++) {
            const float *z = logits + (size_t)t * V;
            float mx = z[0];
            for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
            double sum = 0.0;
            for (int v = 0; v < V; v++) sum += exp((double)z[v] - mx);
            total += log(sum) - ((double)z[ids[t + 1]] - mx);
        }
    } else {
        total = NAN;
    }
    free(logits);
    session_free(&s);
    return total / T;
}

static void compare(TttVariant variant, int act_quant, float decay) {
    enum { T = 90 }; /* more than one session chunk, 5 mini-batches + a partial one */
    Model *m = make_random_model(300, 64, 2, variant, act_quant, 16, 11);
    CHECK(m != NULL);
    if (!m) return;
    m->cfg.state_decay = decay;
    int32_t ids[T + 1];
    make_ids(ids, T + 1, 300, 5);
    TrainHarness h;
    CHECK(harness_init(&h, m, 1, T) == 0);
    const double train = harness_forward(&h, ids, T, NULL, 0);
    const double infer = session_loss(m, ids, T);
    CHECK_MSG(fabs(train - infer) < 2e-4 * fabs(infer), "%s act_quant=%d: training loss %.7f, inference %.7f",
              ttt_variant_name(variant), act_quant, train, infer);
    printf("%-6s act_quant=%d decay=%.2f: training forward %.7f, inference %.7f\n", ttt_variant_name(variant),
           act_quant, (double)decay, train, infer);
    if (variant != TTT_NONE) {
        int32_t ids2[T + 1];
        memcpy(ids2, ids, sizeof ids);
        ids2[1] = ids[1] == 3 ? 4 : 3;
        const double base_tail = harness_forward(&h, ids, T, NULL, 0);
        const double changed = harness_forward(&h, ids2, T, NULL, 0);
        CHECK_MSG(base_tail != changed, "%s: changing token 1 did not change the loss", ttt_variant_name(variant));
    }
    harness_free(&h);
    model_free(m);
}

/* Window 1 (48 tokens, 3 mini-batches) then window 2 (42 tokens, from
 * window 1's final state) in training, against one Session over all 90. */
static void compare_carried(TttVariant variant, int act_quant, float decay) {
    BittError err;
    enum { T1 = 48, T2 = 42, T = T1 + T2 };
    Model *m = make_random_model(300, 64, 2, variant, act_quant, 16, 13);
    CHECK(m != NULL);
    if (!m) return;
    m->cfg.state_decay = decay;
    int32_t ids[T + 1];
    make_ids(ids, T + 1, 300, 9);
    TrainHarness h;
    CHECK(harness_init(&h, m, 1, T) == 0);
    const size_t S = train_state_floats(&h.tm);
    real *state = h.be->alloc(h.be, S);
    const int V = m->cfg.vocab_size;
    float *logits = malloc((size_t)T * V * sizeof(float));
    Session s;
    CHECK(state && logits && session_init(&s, m, &err) == 0);
    /* the start state as an input gives the same as no state */
    train_state_init(&h.tm, state);
    const double from_init = harness_forward(&h, ids, T1, S ? state : NULL, 1);
    const double plain = harness_forward(&h, ids, T1, NULL, 0);
    CHECK_MSG(from_init == plain, "%s: start state as input %.9f vs %.9f", ttt_variant_name(variant), from_init, plain);
    const double win2 = harness_forward(&h, ids + T1, T2, S ? state : NULL, 0);
    CHECK(session_forward(&s, ids, T, logits, 1, &err) == 0);
    double total = 0.0, worst = 0.0;
    for (int t = T1; t < T; t++) {
        const float *z = logits + (size_t)t * V, *p = h.acts->logits + (size_t)(t - T1) * V;
        float mx = z[0];
        for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
        double sum = 0.0;
        for (int v = 0; v < V; v++) sum += exp((double)z[v] - mx);
        for (int v = 0; v < V; v++) {
            const double d = fabs(exp((double)z[v] - mx) / sum - (double)p[v]);
            worst = d > worst ? d : worst;
        }
        total += log(sum) - ((double)z[ids[t + 1]] - mx);
    }
    const double infer = total / T2;
    CHECK_MSG(fabs(win2 - infer) < 2e-4 * fabs(infer) && worst < 1e-4,
              "%s act_quant=%d carried: window 2 training %.7f, inference %.7f, worst probability diff %.2e",
              ttt_variant_name(variant), act_quant, win2, infer, worst);
    if (variant != TTT_NONE) {
        const double fresh = harness_forward(&h, ids + T1, T2, NULL, 0);
        CHECK_MSG(fabs(fresh - win2) > 1e-4, "%s: the carried state changed nothing", ttt_variant_name(variant));
    }
    printf("%-6s act_quant=%d decay=%.2f: window 2 from window 1's state %.7f, inference over both %.7f "
           "(max |dp| %.1e)\n", ttt_variant_name(variant), act_quant, (double)decay, win2, infer, worst);
    session_free(&s);
    free(logits);
    h.be->release(h.be, state);
    harness_free(&h);
    model_free(m);
}

/* A batch of 3 sequences in one forward and backward (the middle one from a
 * carried state) gives, bit for bit, the losses and the summed gradients of
 * the three run one at a time, at 1 and at 2 threads. */
static void compare_batched(TttVariant variant) {
    enum { B = 3, T = 32 };
    BittError err;
    Model *m = make_random_model(300, 64, 2, variant, 1, 16, 17);
    CHECK(m != NULL);
    if (!m) return;
    int32_t ids[B * (T + 1)];
    make_ids(ids, B * (T + 1), 300, 21);
    TrainHarness h;
    CHECK(harness_init(&h, m, B, T) == 0);
    const size_t S = train_state_floats(&h.tm), P = h.tm.n_params;
    real *states = h.be->alloc(h.be, B * S), *one = malloc(P * sizeof(real));
    CHECK(states && one);
    for (int s = 0; s < B; s++) train_state_init(&h.tm, states + s * S);
    for (size_t i = 0; i < B * S; i++) states[i] += (real)(0.01 * sin((double)i)); /* a carried state */
    const int32_t carried[B] = {0, 1, 0};
    /* one at a time */
    double single[B];
    h.be->zero(h.be, h.tm.grads, P);
    for (int s = 0; s < B; s++) {
        const TrainCarry c = {states + s * S, &carried[s], 0};
        CHECK(train_forward(&h.tm, h.acts, ids + s * (T + 1), 1, T, S ? &c : NULL, NULL, &single[s], &err) == 0);
        CHECK(train_backward(&h.tm, h.acts, 1.0f / (float)B, &err) == 0);
    }
    memcpy(one, h.tm.grads, P * sizeof(real));
    for (int threads = 1; threads <= 2; threads++) {
        threads_set(threads);
        double batched[B], mean;
        const TrainCarry c = {states, carried, 0};
        h.be->zero(h.be, h.tm.grads, P);
        CHECK(train_forward(&h.tm, h.acts, ids, B, T, S ? &c : NULL, batched, &mean, &err) == 0);
        CHECK(train_backward(&h.tm, h.acts, 1.0f / (float)B, &err) == 0);
        for (int s = 0; s < B; s++)
            CHECK_MSG(batched[s] == single[s], "%s threads=%d: sequence %d loss %.9g batched, %.9g alone",
                      ttt_variant_name(variant), threads, s, batched[s], single[s]);
        size_t differ = 0;
        for (size_t i = 0; i < P; i++) differ += h.tm.grads[i] != one[i];
        CHECK_MSG(differ == 0, "%s threads=%d: %zu of %zu gradient values differ between the batch and one at a time",
                  ttt_variant_name(variant), threads, differ, P);
    }
    threads_set(1);
    printf("%-6s batch of %d (one carried): losses and gradients equal to one at a time, at 1 and 2 threads\n",
           ttt_variant_name(variant), B);
    free(one);
    h.be->release(h.be, states);
    harness_free(&h);
    model_free(m);
}

int main(void) {
    compare_batched(TTT_LINEAR);
    compare_batched(TTT_SEED);
    compare_batched(TTT_NONE);
    const TttVariant variants[3] = {TTT_LINEAR, TTT_SEED, TTT_NONE};
    for (int v = 0; v < 3; v++)
        for (int q = 0; q <= 1; q++) {
            compare(variants[v], q, 1.0f);
            compare_carried(variants[v], q, 1.0f);
        }
    for (int q = 0; q <= 1; q++) {
        compare(TTT_LINEAR, q, 0.85f);
        compare_carried(TTT_LINEAR, q, 0.85f);
    }
    return test_main_end("test_train_forward");
}
