/* test_hostile_runtime.c: the run-time pieces on the values that hostile
 * files and overflowing arithmetic can bring in (see the comment of each
 * test). The asan suite runs it under UBSan, where an undefined float -> int
 * conversion or a NULL argument stops it. With an argument, runs that test only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/bitt.h"
#include "api/utf8_stream.h"
#include "formats/json.h"
#include "formats/model_file.h"
#include "kernels/kernels.h"
#include "sampling/sampler.h"
#include "test_model_util.h"
#include "test_util.h"

static int32_t sample_with(const float *logits, int V, float temp, int top_k, float top_p, uint64_t seed) {
    SamplingParams p = {temp, top_k, top_p, seed};
    Sampler s;
    BittError err;
    if (sampler_init(&s, V, &p, &err) != 0) return -2;
    int32_t t = sampler_sample(&s, logits);
    sampler_free(&s);
    return t;
}

/* issue 23.1: the top-p pre-filter keeps the best id, so the candidate list
 * is never empty. */
static void test_sampler_top_p(void) {
    /* top-p with near-equal logits and a small top_p: the best id's probability
     * (1/V) is below the pre-filter's bound, which used to leave no candidate
     * and read cand[-1] */
    const float flat[2] = {0.0f, 0.0f};
    for (uint64_t seed = 1; seed <= 4; seed++) CHECK(sample_with(flat, 2, 1.0f, 0, 0.1f, seed) == 0);
    const float flat3[3] = {1.0f, 1.0f, 1.0f};
    CHECK(sample_with(flat3, 3, 0.7f, 0, 0.2f, 9) == 0);
    CHECK(sample_with(flat3, 3, 0.7f, 5, 0.2f, 9) == 0); /* top-k above V: the same path */
    const float near[3] = {0.0f, 0.001f, 0.001f}; /* the best is id 1 (the first of the two largest) */
    for (uint64_t seed = 1; seed <= 4; seed++) CHECK(sample_with(near, 3, 1.0f, 0, 0.1f, seed) == 1);
}

/* issues 22.2 and 23.1: the sampler on NaN and infinite logits, on every
 * path (greedy, top-k, top-p, plain). */
static void test_sampler_nonfinite(void) {
    const float nan = NAN, inf = INFINITY;
    /* NaN ranks lowest: never drawn while a number is there */
    const float some_nan[4] = {nan, 1.0f, 3.0f, nan};
    CHECK(sample_argmax(some_nan, 4) == 2);
    CHECK(sample_with(some_nan, 4, 0.0f, 0, 1.0f, 1) == 2);
    for (uint64_t seed = 1; seed <= 40; seed++) {
        int32_t a = sample_with(some_nan, 4, 1.0f, 0, 0.9f, seed);  /* top-p path */
        int32_t b = sample_with(some_nan, 4, 1.0f, 3, 1.0f, seed);  /* top-k path */
        int32_t c = sample_with(some_nan, 4, 1.0f, 0, 1.0f, seed);  /* plain */
        CHECK_MSG((a == 1 || a == 2) && (b == 1 || b == 2) && (c == 1 || c == 2), "seed %llu: %d %d %d",
                  (unsigned long long)seed, a, b, c);
    }
    /* every logit NaN: a valid id (0), on every path */
    const float all_nan[3] = {nan, nan, nan};
    CHECK(sample_with(all_nan, 3, 1.0f, 0, 0.5f, 3) == 0);
    CHECK(sample_with(all_nan, 3, 1.0f, 2, 1.0f, 3) == 0);
    CHECK(sample_with(all_nan, 3, 1.0f, 0, 1.0f, 3) == 0);
    CHECK(sample_with(all_nan, 3, 0.0f, 0, 1.0f, 3) == 0);
    /* +infinity logits share the probability; the finite ones get none */
    const float two_inf[4] = {1.0f, inf, 2.0f, inf};
    int seen1 = 0, seen3 = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        int32_t t = sample_with(two_inf, 4, 1.0f, 0, 0.95f, seed);
        CHECK(t == 1 || t == 3);
        seen1 += t == 1;
        seen3 += t == 3;
    }
    CHECK(seen1 > 0 && seen3 > 0);
    const float all_minus_inf[3] = {-inf, -inf, -inf};
    int32_t t = sample_with(all_minus_inf, 3, 1.0f, 0, 0.5f, 2);
    CHECK(t >= 0 && t < 3);
    CHECK(det_exp(NAN) == 0.0 && det_exp(-INFINITY) == 0.0 && det_exp(INFINITY) == 1.0);
}

/* With an argument, runs only the test of that name (e.g. to see one fail). */
int main(int argc, char **argv) {
    static const struct { const char *name; void (*fn)(void); } tests[] = {
        {"test_sampler_top_p", test_sampler_top_p},
        {"test_sampler_nonfinite", test_sampler_nonfinite},
    };
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
        if (argc < 2 || strcmp(argv[1], tests[i].name) == 0) tests[i].fn();
    return test_main_end("test_hostile_runtime");
}
