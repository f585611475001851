/* test_cuda_step.c: one whole training step's forward and backward
 * (train_forward + train_backward, the schedule the trainer runs) of tiny
 * random models of every variant on the CUDA backend against the CPU
 * backend: linear with the forget gate off and on, with state_decay 0.85,
 * seed and none; int8 activations on and off; a batch of 3 sequences from
 * the start state (40 tokens: a partial last mini-batch) and one where the
 * middle sequence starts from a carried state and every end state is
 * written back. Checks (math=f32):
 *   - act_quant none: each sequence's loss to 1e-5 relative, every
 *     parameter's gradient within 1e-4 relative norm error, the end states
 *     within 1e-5, the softmax probabilities within 1e-4;
 *   - act_quant int8: the same function is discontinuous: a last-bit
 *     difference upstream (another summation order) moves a few of the
 *     thousands of x*s values across a rounding boundary, and each such int8
 *     code flip changes a loss by up to ~1e-4 and single gradients by up to
 *     ~1e-2 (measured on the emulator: 0 flips gave CPU agreement to 1e-6,
 *     6-9 flips gave 1e-2). act_quant itself is bit-exact (test_cuda_ops);
 *     here the bounds are loss 1e-3, probabilities 2e-2, gradients 5e-2;
 *   - the step run twice on the CUDA backend gives bit-identical losses,
 *     gradients and states (the kernels' sums have fixed orders).
 *   test_cuda_step          the plugin on GPU 0 (exit 77, SKIP, without one)
 *   test_cuda_step --emu    the same kernels on the host emulator */
#include "cuda_test_util.h"
#include "test_model_util.h"
#include "train/train_blocks.h"
#include "train/train_forward.h"

enum { B = 3 };

typedef struct Side {
    TrainModel tm;
    TrainActs *acts;
    double seq_loss[B], loss;
    real *grads, *probs, *state_out;
} Side;

/* One forward + backward on backend be; results to host arrays. */
static int run_side(TrainBackend *be, const Model *m, const int32_t *ids, int T, const real *state0,
                    const int32_t *carried, Side *s) {
    BittError err;
    memset(s, 0, sizeof *s);
    if (train_model_init(&s->tm, m, be, &err) != 0 || !(s->acts = train_acts_new(&s->tm, B, T, &err))) {
        fprintf(stderr, "FAIL: %s: %s\n", be->name, err.message);
        return -1;
    }
    const size_t S = train_state_floats(&s->tm), P = s->tm.n_params, V = (size_t)m->cfg.vocab_size;
    real *state = NULL;
    if (state0 && S) state = to_dev(be, state0, B * S);
    const TrainCarry carry = {state, carried, 1};
    be->zero(be, s->tm.grads, P);
    if (train_forward(&s->tm, s->acts, ids, B, T, state ? &carry : NULL, s->seq_loss, &s->loss, &err) != 0) {
        fprintf(stderr, "FAIL: %s forward: %s\n", be->name, err.message);
        return -1;
    }
    s->probs = malloc((size_t)B * T * V * sizeof(real));
    if (train_acts_probs(&s->tm, s->acts, s->probs, &err) != 0) return -1;
    if (train_backward(&s->tm, s->acts, 1.0f / (float)B, &err) != 0) {
        fprintf(stderr, "FAIL: %s backward: %s\n", be->name, err.message);
        return -1;
    }
    s->grads = from_dev(be, s->tm.grads, P);
    if (state) {
        s->state_out = from_dev(be, state, B * S);
        be->release(be, state);
    }
    return be->status(be, &err);
}

static void side_free(TrainBackend *be, Side *s) {
    (void)be;
    if (s->acts) train_acts_free(&s->tm, s->acts);
    if (s->tm.be) train_model_free(&s->tm);
    free(s->grads);
    free(s->probs);
    free(s->state_out);
}

static void compare_step(TrainBackend *cpu, TrainBackend *gpu, TttVariant variant, int act_quant, int gate,
                         float decay, int carried_case, uint64_t seed) {
    const int T = carried_case ? 32 : 40, V = 300;
    Model *m = make_random_model_gated(V, 64, 2, variant, act_quant, 16, seed, gate);
    CHECK(m != NULL);
    if (!m) return;
    m->cfg.state_decay = decay;
    printf("%s act_quant=%d gate=%d decay=%.2f %s\n", ttt_variant_name(variant), act_quant, gate, (double)decay,
           carried_case ? "(sequence 1 from a carried state, end states written back)" : "(fresh, partial mini-batch)");
    int32_t ids[B * 41];
    make_ids(ids, B * (T + 1), V, (uint32_t)seed + 7);
    const int32_t carried[B] = {0, 1, 0};
    real *state0 = NULL;
    Side c, g;
    if (carried_case) { /* the start states, perturbed: a carried state for sequence 1 */
        BittError err;
        TrainModel tm;
        CHECK(train_model_init(&tm, m, cpu, &err) == 0);
        const size_t S = train_state_floats(&tm);
        state0 = calloc(B * S + 1, sizeof(real));
        for (int s = 0; s < B; s++) train_state_init(&tm, state0 + s * S);
        for (size_t i = 0; i < B * S; i++) state0[i] += (real)(0.05 * sin(0.7 * (double)i));
        train_model_free(&tm);
    }
    Side g2;
    const int ok = run_side(cpu, m, ids, T, state0, carried, &c) == 0 &&
                   run_side(gpu, m, ids, T, state0, carried, &g) == 0 &&
                   run_side(gpu, m, ids, T, state0, carried, &g2) == 0;
    CHECK_MSG(ok, "the step did not run on both backends");
    const double tol_loss = act_quant ? 1e-3 : 1e-5, tol_grad = act_quant ? 5e-2 : 1e-4;
    const double tol_prob = act_quant ? 2e-2 : 1e-4;
    if (ok) {
        for (int s = 0; s < B; s++) {
            const double e = fabs(g.seq_loss[s] - c.seq_loss[s]) / fabs(c.seq_loss[s]);
            CHECK_MSG(e <= tol_loss, "sequence %d loss %.9g, the CPU's %.9g (relative %.2e)", s, g.seq_loss[s],
                      c.seq_loss[s], e);
        }
        printf("  %-34s %.9g vs the CPU's %.9g (rel %.1e, tol %.0e)\n", "loss", g.loss, c.loss,
               fabs(g.loss - c.loss) / fabs(c.loss), tol_loss);
        expect_close("probabilities", c.probs, g.probs, (size_t)B * T * V, tol_prob);
        double worst = 0.0;
        const char *worst_name = "-";
        for (int i = 0; i < c.tm.n_tensors; i++) {
            const TrainTensor *t = &c.tm.tensors[i];
            const double e = rel_norm_err(c.grads + t->offset, g.grads + t->offset, t->spec.count);
            CHECK_MSG(e <= tol_grad, "gradient of %s: relative error %.3g", t->spec.name, e);
            if (e > worst || e != e) {
                worst = e;
                worst_name = t->spec.name;
            }
        }
        printf("  %-34s worst %.2e (%s) over %d tensors (tol %.0e)\n", "gradients", worst, worst_name,
               c.tm.n_tensors, tol_grad);
        const size_t S = train_state_floats(&c.tm);
        if (carried_case && c.state_out)
            expect_close("end states", c.state_out, g.state_out, B * S, act_quant ? 1e-2 : 1e-5);
        int same = g.loss == g2.loss && memcmp(g.grads, g2.grads, c.tm.n_params * sizeof(real)) == 0;
        if (carried_case && g.state_out) same = same && memcmp(g.state_out, g2.state_out, B * S * sizeof(real)) == 0;
        CHECK_MSG(same, "the CUDA step run twice differs");
        printf("  %-34s %s\n", "the CUDA step run twice", same ? "bit-identical" : "DIFFERS");
    }
    side_free(gpu, &g2);
    side_free(cpu, &c);
    side_free(gpu, &g);
    free(state0);
    model_free(m);
}

int main(int argc, char **argv) {
    BittError err;
    TrainBackend *gpu = open_cuda_backend(argc, argv, "math=f32");
    TrainBackend *cpu = train_backend_cpu(&err);
    CHECK(cpu != NULL);
    if (!cpu) return 1;
    for (int carried = 0; carried <= 1; carried++) {
        for (int q = 0; q <= 1; q++) {
            compare_step(cpu, gpu, TTT_LINEAR, q, 0, 1.0f, carried, 11 + (uint64_t)q);
            compare_step(cpu, gpu, TTT_LINEAR, q, 1, 1.0f, carried, 21 + (uint64_t)q);
            compare_step(cpu, gpu, TTT_SEED, q, 0, 1.0f, carried, 31 + (uint64_t)q);
        }
        compare_step(cpu, gpu, TTT_LINEAR, 1, 0, 0.85f, carried, 41);
        compare_step(cpu, gpu, TTT_NONE, 1, 0, 1.0f, carried, 51);
    }
    gpu->destroy(gpu);
    cpu->destroy(cpu);
    return test_main_end(cuda_test_emu ? "test_cuda_step (emulator)" : "test_cuda_step");
}
