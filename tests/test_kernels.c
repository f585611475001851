/* test_kernels.c: every fast backend against the scalar reference: the
 * BitLinear integer products bit for bit (odd shapes, 1..9 token rows),
 * the int8 quantiser bit for bit (ties at .5 included), the float matmul
 * bit for bit (every backend sums in the order kernels.h fixes); then whole
 * models of every variant, the forget gate included: the same logits bit
 * for bit and identical greedy continuations of 128 tokens. */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "test_model_util.h"
#include "test_util.h"

static uint32_t lcg(uint32_t *s) { return *s = *s * 1664525u + 1013904223u; }

static void check_ternary(const Kernels *fast, int rows, int cols, int T, uint32_t seed) {
    TernaryMatrix a = {rows, cols, malloc((size_t)rows * cols), 0.5f, NULL};
    TernaryMatrix b = a;
    for (size_t i = 0; i < (size_t)rows * cols; i++) a.w[i] = (int8_t)((int)(lcg(&seed) >> 16) % 3 - 1);
    if (fast->prepare_ternary) CHECK(fast->prepare_ternary(&b) == 0);
    int8_t *x = malloc((size_t)T * cols);
    for (size_t i = 0; i < (size_t)T * cols; i++) {
        int v = (int)((lcg(&seed) >> 16) % 255) - 127;
        x[i] = (int8_t)(i % 7 == 0 ? (i % 2 ? 127 : -127) : v); /* extremes too */
    }
    int32_t *want = malloc((size_t)T * rows * 4), *got = malloc((size_t)T * rows * 4);
    kernels_scalar()->ternary_matmul_i8(&a, x, T, want);
    fast->ternary_matmul_i8(&b, x, T, got);
    CHECK_MSG(memcmp(want, got, (size_t)T * rows * 4) == 0, "%s ternary %dx%d T=%d differs", fast->name, rows, cols, T);
    if (fast->release_ternary) fast->release_ternary(&b);
    free(a.w); free(x); free(want); free(got);
}

static void check_int8(const Kernels *fast, int rows, int cols, int T, uint32_t seed) {
    Int8Matrix m = {rows, cols, malloc((size_t)rows * cols), NULL, 0};
    int8_t *x = malloc((size_t)T * cols);
    for (size_t i = 0; i < (size_t)rows * cols; i++) m.w[i] = (int8_t)((int)(lcg(&seed) >> 16) % 255 - 127);
    for (size_t i = 0; i < (size_t)T * cols; i++) x[i] = (int8_t)(i % 5 == 0 ? -127 : (int)(lcg(&seed) >> 16) % 255 - 127);
    int32_t *want = malloc((size_t)T * rows * 4), *got = malloc((size_t)T * rows * 4);
    kernels_scalar()->int8_matmul(&m, x, T, want);
    fast->int8_matmul(&m, x, T, got);
    CHECK_MSG(memcmp(want, got, (size_t)T * rows * 4) == 0, "%s int8 %dx%d T=%d differs", fast->name, rows, cols, T);
    free(m.w); free(x); free(want); free(got);
}

static void check_quantize(const Kernels *fast) {
    uint32_t seed = 5;
    for (int n = 1; n < 300; n += 37) {
        float *x = malloc((size_t)n * 4);
        int8_t *q1 = malloc((size_t)n), *q2 = malloc((size_t)n);
        for (int rep = 0; rep < 20; rep++) {
            for (int i = 0; i < n; i++) x[i] = ((float)(lcg(&seed) >> 8) / 16777216.0f - 0.5f) * (rep + 1);
            /* exact ties: with max |x| = 127, x * s = x, so k + 0.5 must round away from zero */
            if (rep % 2 && n > 4) { x[0] = 127.0f; x[1] = 2.5f; x[2] = -3.5f; x[3] = -0.5f; }
            if (rep == 19) for (int i = 0; i < n; i++) x[i] = 0.0f;
            float s1 = kernels_scalar()->quantize_row_i8(x, n, q1);
            float s2 = fast->quantize_row_i8(x, n, q2);
            CHECK(s1 == s2);
            CHECK_MSG(memcmp(q1, q2, (size_t)n) == 0, "%s quantize n=%d rep=%d", fast->name, n, rep);
        }
        free(x); free(q1); free(q2);
    }
}

static void check_matmul(const Kernels *fast, int rows, int cols, int T) {
    uint32_t seed = (uint32_t)(9 + cols);
    float *W = malloc((size_t)rows * cols * 4), *x = malloc((size_t)T * cols * 4);
    float *y1 = malloc((size_t)T * rows * 4), *y2 = malloc((size_t)T * rows * 4);
    for (int i = 0; i < rows * cols; i++) W[i] = (float)(lcg(&seed) >> 8) / 16777216.0f - 0.5f;
    for (int i = 0; i < T * cols; i++) x[i] = (float)(lcg(&seed) >> 8) / 16777216.0f - 0.5f;
    kernels_scalar()->matmul_f32(W, rows, cols, x, T, y1);
    fast->matmul_f32(W, rows, cols, x, T, y2);
    CHECK_MSG(memcmp(y1, y2, (size_t)T * rows * 4) == 0, "%s matmul_f32 %dx%d T=%d: not the reference's bits (rel %.3g)",
              fast->name, rows, cols, T, rel_diff(y1, y2, (size_t)T * rows));
    free(W); free(x); free(y1); free(y2);
}

static int32_t sample_argmax_f(const float *l, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (l[i] > l[best]) best = i;
    return best;
}

static void greedy(Model *m, const int32_t *prompt, int n, int steps, int32_t *out, float *first_logits) {
    BittError err;
    Session s;
    float *logits = malloc((size_t)m->cfg.vocab_size * 4);
    CHECK(session_init(&s, m, &err) == 0);
    CHECK(session_forward(&s, prompt, n, logits, 0, &err) == 0);
    memcpy(first_logits, logits, (size_t)m->cfg.vocab_size * 4);
    for (int i = 0; i < steps; i++) {
        out[i] = sample_argmax_f(logits, m->cfg.vocab_size);
        CHECK(session_forward(&s, &out[i], 1, logits, 0, &err) == 0);
    }
    session_free(&s);
    free(logits);
}

static void check_model(const Kernels *fast, TttVariant v, int act_quant, int lm_head_int8, int gate) {
    BittError err;
    Model *m = make_random_model_gated(2000, 128, 3, v, act_quant, 16, 77, gate);
    CHECK(m != NULL);
    if (!m) return;
    CHECK(model_set_lm_head_int8(m, lm_head_int8, &err) == 0);
    int32_t prompt[50], g1[128], g2[128];
    make_ids(prompt, 50, 2000, 4);
    float *l1 = malloc(2000 * 4), *l2 = malloc(2000 * 4);
    CHECK(model_use_kernels(m, kernels_scalar(), &err) == 0);
    greedy(m, prompt, 50, 128, g1, l1);
    CHECK(model_use_kernels(m, fast, &err) == 0);
    greedy(m, prompt, 50, 128, g2, l2);
    double d = rel_diff(l1, l2, 2000);
    CHECK_MSG(memcmp(l1, l2, 2000 * 4) == 0, "%s %s%s: logits differ from the reference (rel %.3g)", fast->name,
              ttt_variant_name(v), gate ? " gated" : "", d);
    CHECK_MSG(memcmp(g1, g2, sizeof g1) == 0, "%s %s: greedy continuations differ", fast->name, ttt_variant_name(v));
    printf("%s vs scalar, %s%s%s: logits %s, 128 greedy tokens %s\n", fast->name, ttt_variant_name(v),
           gate ? " with the forget gate" : "", lm_head_int8 ? ", int8 lm_head" : "",
           memcmp(l1, l2, 2000 * 4) == 0 ? "bit-identical" : "DIFFERENT",
           memcmp(g1, g2, sizeof g1) == 0 ? "identical" : "DIFFERENT");
    free(l1); free(l2);
    model_free(m);
}

int main(void) {
    const char *names[] = {"avx2", "avx512vnni", "wasm128"};
    int tested = 0;
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        const Kernels *fast = kernels_by_name(names[k]);
        if (!fast) {
            printf("backend %s not available on this machine/build: skipped\n", names[k]);
            continue;
        }
        tested++;
        int shapes[][2] = {{1, 1}, {3, 5}, {17, 127}, {8, 128}, {9, 129}, {64, 256}, {33, 1024}, {5, 2100}, {4, 4100}};
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
            for (int T = 1; T <= 9; T += 2) check_ternary(fast, shapes[i][0], shapes[i][1], T, (uint32_t)(i * 31 + T));
        int ishapes[][2] = {{1, 1}, {5, 31}, {7, 32}, {9, 63}, {4, 64}, {13, 100}, {8, 256}, {3, 1000}};
        for (size_t i = 0; i < sizeof ishapes / sizeof *ishapes; i++)
            for (int T = 1; T <= 3; T++) check_int8(fast, ishapes[i][0], ishapes[i][1], T, (uint32_t)(i + 7 * T));
        check_quantize(fast);
        const int mshapes[][3] = {{37, 77, 3}, {5, 1, 1}, {3, 3, 2}, {4, 4, 1}, {6, 15, 2}, {7, 16, 1}, {9, 17, 3},
                                  {2, 35, 1}, {16, 64, 4}, {3, 1000, 2}};
        for (size_t i = 0; i < sizeof mshapes / sizeof *mshapes; i++)
            check_matmul(fast, mshapes[i][0], mshapes[i][1], mshapes[i][2]);
        check_model(fast, TTT_LINEAR, 1, 0, 0);
        check_model(fast, TTT_LINEAR, 1, 1, 0);
        check_model(fast, TTT_LINEAR, 1, 0, 1);
        check_model(fast, TTT_LINEAR, 0, 1, 1);
        check_model(fast, TTT_SEED, 0, 0, 0);
        check_model(fast, TTT_NONE, 1, 1, 0);
    }
    CHECK(kernels_by_name("no-such-backend") == NULL);
    CHECK(kernels_best() != NULL);
    printf("kernels_best: %s (%d fast backend(s) tested)\n", kernels_best()->name, tested);
    return test_main_end("test_kernels");
}
