/* test_ttt_forms.c: the dual form (prefill) and the primal form (decode) of
 * the TTT mixer give the same logits: 37 tokens in one prefill == token by
 * token == 21 in a prefill then 16 single tokens (a partial mini-batch
 * carried in the state); also for a mini-batch that does not divide the
 * chunk size, for the seed and none variants, and with activation
 * quantisation on and off. */
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
    struct { const char *name; TttVariant v; int aq; int mb; int D; } cases[] = {
        {"linear, int8 acts, b=16", TTT_LINEAR, 1, 16, 64},
        {"linear, float acts, b=16", TTT_LINEAR, 0, 16, 64},
        {"linear, int8 acts, b=5", TTT_LINEAR, 1, 5, 48},
        {"linear, b=1", TTT_LINEAR, 0, 1, 32},
        {"seed", TTT_SEED, 0, 16, 64},
        {"none", TTT_NONE, 1, 16, 64},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Model *m = make_random_model(300, cases[i].D, 2, cases[i].v, cases[i].aq, cases[i].mb, 100 + i);
        CHECK(m != NULL);
        if (!m) continue;
        check_forms(cases[i].name, m, 1e-4);
        if (cases[i].v == TTT_LINEAR) check_forced_primal(m);
        if (cases[i].v != TTT_NONE) check_context_matters(m);
        check_bad_ids(m);
        model_free(m);
    }
    return test_main_end("test_ttt_forms");
}
