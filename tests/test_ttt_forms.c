/* test_ttt_forms.c: the dual form (prefill) and the primal form (decode) of
 * the TTT mixer give the same logits: 37 tokens in one prefill == token by
 * token == 21 in a prefill then 16 single tokens (a partial mini-batch
 * carried in the state); also for a mini-batch that does not divide the
 * chunk size, for the seed and none variants, with activation
 * quantisation on and off, with state_decay < 1 and with the forget gate
 * (SPEC 1.2.1). Also the reason for state_decay and the gate
 * (docs/TTT_MEMORY.md): as SPEC 1.2 is written the norm of the memory
 * (W, c) never decreases, mini-batch after mini-batch; with a decay or the
 * gate it stops growing. */
#include <stdlib.h>

#include "test_model_util.h"
#include "test_util.h"

#define N 37

static void check_forms(const char *what, Model *m, double tol) {
    BittError err;
    const int V = m->cfg.vocab_size;
    int32_t ids[N];
    make_ids(ids, N, V, 7);
    float *all = malloc((size_t)N * V * sizeof(float));
    float *step = malloc((size_t)N * V * sizeof(float));
    float *split = malloc((size_t)N * V * sizeof(float));
    Session a, b, c;
    CHECK(session_init(&a, m, &err) == 0);
    CHECK(session_init(&b, m, &err) == 0);
    CHECK(session_init(&c, m, &err) == 0);
    /* one prefill of 37 (dual form) */
    CHECK(session_forward(&a, ids, N, all, 1, &err) == 0);
    /* token by token (primal form) */
    for (int t = 0; t < N; t++) CHECK(session_forward(&b, ids + t, 1, step + (size_t)t * V, 0, &err) == 0);
    /* prefill 21, then 16 single tokens */
    CHECK(session_forward(&c, ids, 21, split, 1, &err) == 0);
    for (int t = 21; t < N; t++) CHECK(session_forward(&c, ids + t, 1, split + (size_t)t * V, 0, &err) == 0);
    double d_step = rel_diff(all, step, (size_t)N * V);
    double d_split = rel_diff(all, split, (size_t)N * V);
    CHECK_MSG(d_step < tol, "%s: prefill vs token-by-token: rel diff %.3g", what, d_step);
    CHECK_MSG(d_split < tol, "%s: prefill vs 21+16: rel diff %.3g", what, d_split);
    printf("%s: prefill vs primal %.2e, prefill vs 21+16 %.2e\n", what, d_step, d_split);
    /* the states agree as well */
    double ds = rel_diff(a.state.data, b.state.data, a.state.n_floats);
    CHECK_MSG(ds < 1e-4, "%s: states differ by %.3g", what, ds);
    CHECK(a.state.token_count == N && b.state.token_count == N && c.state.token_count == N);
    if (m->cfg.variant == TTT_LINEAR)
        CHECK(a.state.linear[0].pos == N % m->cfg.mini_batch && b.state.linear[0].pos == a.state.linear[0].pos);
    session_free(&a);
    session_free(&b);
    session_free(&c);
    free(all);
    free(step);
    free(split);
}

/* Forcing the primal form inside a prefill gives the same as the dual form,
 * and 16 tokens with a model of mini-batch 16 fold exactly one step. */
static void check_forced_primal(Model *m) {
    BittError err;
    const int V = m->cfg.vocab_size;
    int32_t ids[N];
    make_ids(ids, N, V, 11);
    float *x = malloc((size_t)V * sizeof(float)), *y = malloc((size_t)V * sizeof(float));
    Session a, b;
    CHECK(session_init(&a, m, &err) == 0);
    CHECK(session_init(&b, m, &err) == 0);
    b.force_primal = 1;
    CHECK(session_forward(&a, ids, N, x, 0, &err) == 0);
    CHECK(session_forward(&b, ids, N, y, 0, &err) == 0);
    double d = rel_diff(x, y, (size_t)V);
    CHECK_MSG(d < 1e-4, "forced primal vs dual: %.3g", d);
    session_free(&a);
    session_free(&b);
    free(x);
    free(y);
}

/* The memory matters: the same token after different contexts gives
 * different logits (the mixer passes information between tokens). */
static void check_context_matters(Model *m) {
    BittError err;
    const int V = m->cfg.vocab_size;
    int32_t c1[20], c2[20];
    make_ids(c1, 20, V, 1);
    make_ids(c2, 20, V, 2);
    c2[19] = c1[19];
    float *x = malloc((size_t)V * sizeof(float)), *y = malloc((size_t)V * sizeof(float));
    Session a, b;
    CHECK(session_init(&a, m, &err) == 0);
    CHECK(session_init(&b, m, &err) == 0);
    CHECK(session_forward(&a, c1, 20, x, 0, &err) == 0);
    CHECK(session_forward(&b, c2, 20, y, 0, &err) == 0);
    CHECK_MSG(rel_diff(x, y, (size_t)V) > 1e-3, "context made no difference");
    session_free(&a);
    session_free(&b);
    free(x);
    free(y);
}

/* |(W, c)|^2 of head 0 of layer 0 */
static double memory_norm2(const Session *s, int f) {
    const TttLayerState *ls = &s->state.linear[0];
    double n = 0;
    for (int i = 0; i < f * f; i++) n += (double)ls->W[i] * ls->W[i];
    for (int j = 0; j < f; j++) n += (double)ls->c[j] * ls->c[j];
    return n;
}

/* 256 mini-batches of 16 tokens. decay 1: the inner gradient step is
 * orthogonal to (W, c) (the inner LayerNorm makes the loss blind to their
 * scale and shift), so the norm grows at every fold. decay < 1: it settles. */
static void check_memory_norm(float decay, int gate) {
    BittError err;
    Model *m = make_random_model_gated(300, 64, 1, TTT_LINEAR, 1, 16, 77, gate);
    CHECK(m != NULL);
    if (!m) return;
    m->cfg.state_decay = decay;
    const int f = m->cfg.hidden_dim / m->cfg.num_heads, MB = 256;
    Session s;
    CHECK(session_init(&s, m, &err) == 0);
    int32_t ids[16];
    double prev = memory_norm2(&s, f), at_half = 0, first = prev;
    int decreased = 0;
    for (int mb = 1; mb <= MB; mb++) {
        make_ids(ids, 16, 300, 1000 + mb);
        CHECK(session_forward(&s, ids, 16, NULL, 0, &err) == 0);
        const double n = memory_norm2(&s, f);
        if (n < prev * (1 - 1e-5)) decreased++;
        prev = n;
        if (mb == MB / 2) at_half = n;
    }
    const double growth = sqrt(prev / at_half); /* |W| after 256 vs after 128 mini-batches */
    printf("memory norm, state_decay %.2f, gate %d: %.3f at start, %.3f after %d mini-batches, %.3f after %d; "
           "%d folds decreased it\n", (double)decay, gate, sqrt(first), sqrt(at_half), MB / 2, sqrt(prev), MB,
           decreased);
    if (decay == 1.0f && !gate) {
        CHECK_MSG(decreased == 0, "state_decay 1: the memory norm decreased at %d folds", decreased);
        CHECK_MSG(growth > 1.01, "state_decay 1: the memory norm stopped growing (%.4f)", growth);
    } else {
        CHECK_MSG(decreased > MB / 10, "state_decay %.2f: the norm fell at only %d folds", (double)decay, decreased);
        CHECK_MSG(growth < 1.01, "state_decay %.2f: the memory norm still grows (%.4f)", (double)decay, growth);
    }
    session_free(&s);
    model_free(m);
}

static void check_bad_ids(Model *m) {
    BittError err;
    Session a;
    CHECK(session_init(&a, m, &err) == 0);
    int32_t bad[3] = {5, m->cfg.vocab_size, 6};
    CHECK(session_forward(&a, bad, 3, NULL, 0, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "out of range");
    CHECK(a.state.token_count == 0);
    int32_t neg = -1;
    CHECK(session_forward(&a, &neg, 1, NULL, 0, &err) != 0);
    session_free(&a);
}

int main(void) {
    struct { const char *name; TttVariant v; int aq; int mb; int D; float decay; int gate; } cases[] = {
        {"linear, int8 acts, b=16", TTT_LINEAR, 1, 16, 64, 1.0f, 0},
        {"linear, float acts, b=16", TTT_LINEAR, 0, 16, 64, 1.0f, 0},
        {"linear, int8 acts, b=5", TTT_LINEAR, 1, 5, 48, 1.0f, 0},
        {"linear, b=1", TTT_LINEAR, 0, 1, 32, 1.0f, 0},
        {"linear, state_decay 0.8, b=5", TTT_LINEAR, 1, 5, 48, 0.8f, 0},
        {"linear, forget gate, int8 acts, b=16", TTT_LINEAR, 1, 16, 64, 1.0f, 1},
        {"linear, forget gate, float acts, b=5", TTT_LINEAR, 0, 5, 48, 1.0f, 1},
        {"seed", TTT_SEED, 0, 16, 64, 1.0f, 0},
        {"none", TTT_NONE, 1, 16, 64, 1.0f, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Model *m = make_random_model_gated(300, cases[i].D, 2, cases[i].v, cases[i].aq, cases[i].mb, 100 + i,
                                           cases[i].gate);
        CHECK(m != NULL);
        if (!m) continue;
        m->cfg.state_decay = cases[i].decay;
        check_forms(cases[i].name, m, 1e-4);
        if (cases[i].v == TTT_LINEAR) check_forced_primal(m);
        if (cases[i].v != TTT_NONE) check_context_matters(m);
        check_bad_ids(m);
        model_free(m);
    }
    check_memory_norm(1.0f, 0);
    check_memory_norm(0.9f, 0);
    check_memory_norm(1.0f, 1);
    return test_main_end("test_ttt_forms");
}
