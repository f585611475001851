/* test_sampler.c: greedy, temperature, top-k and top-p sampling; the
 * deterministic exp; the RNG stream pinned so that native and wasm builds
 * draw the same numbers for a seed. */
#include <math.h>
#include <stdlib.h>

#include "sampling/sampler.h"
#include "test_util.h"

static void check_rng_stream(void) {
    BittRng r;
    rng_seed(&r, 42);
    uint64_t first = rng_next_u64(&r), second = rng_next_u64(&r);
    BittRng r2;
    rng_seed(&r2, 42);
    CHECK(rng_next_u64(&r2) == first && rng_next_u64(&r2) == second);
    rng_seed(&r2, 43);
    CHECK(rng_next_u64(&r2) != first);
    /* pinned: a change here breaks cross-platform reproducibility of saved seeds */
    printf("rng(42): %016llx %016llx\n", (unsigned long long)first, (unsigned long long)second);
    CHECK(first == 0x31b0ece7c4f697a2ull && second == 0x9008a3b1cb686f03ull);
    float f = rng_next_float(&r);
    CHECK(f >= 0.0f && f < 1.0f);
}

static void check_det_exp(void) {
    double worst = 0;
    for (double x = -700; x <= 0; x += 0.01337) {
        double rel = fabs(det_exp(x) - exp(x)) / exp(x);
        if (rel > worst) worst = rel;
    }
    CHECK_MSG(worst < 1e-14, "det_exp max rel error %.3g", worst);
    CHECK(det_exp(0) == 1.0);
    CHECK(det_exp(-800) == 0.0);
}

static int32_t sample_once(const float *logits, int V, SamplingParams p) {
    Sampler s;
    BittError err;
    CHECK(sampler_init(&s, V, &p, &err) == 0);
    int32_t t = sampler_sample(&s, logits);
    sampler_free(&s);
    return t;
}

static void check_modes(void) {
    enum { V = 6 };
    /* probabilities 0.4, 0.3, 0.15, 0.1, 0.05, 0.0 (as logs) */
    const double probs[V] = {0.4, 0.3, 0.15, 0.1, 0.05, 1e-30};
    float logits[V];
    for (int i = 0; i < V; i++) logits[i] = (float)log(probs[i]);
    /* shuffle positions so that order is not the id order */
    float shuffled[V] = {logits[3], logits[0], logits[5], logits[1], logits[4], logits[2]};
    const int id_of_rank[V] = {1, 3, 5, 0, 4, 2};
    SamplingParams greedy = {0.0f, 0, 1.0f, 1};
    CHECK(sample_once(shuffled, V, greedy) == 1);
    SamplingParams k1 = {1.0f, 1, 1.0f, 1};
    CHECK(sample_once(shuffled, V, k1) == 1);
    CHECK(sample_argmax(shuffled, V) == 1);

    const int draws = 40000;
    struct { SamplingParams p; int allowed; } modes[] = {
        {{1.0f, 0, 1.0f, 7}, 6},   /* plain temperature 1 */
        {{1.0f, 2, 1.0f, 7}, 2},   /* top-k 2 */
        {{1.0f, 0, 0.7f, 7}, 2},   /* top-p 0.7: 0.4 + 0.3 */
        {{1.0f, 3, 0.9f, 7}, 3},   /* top-k 3 then top-p 0.9: 0.4+0.3+0.15 = 0.85 < 0.9 -> all 3 */
        {{1.0f, 0, 0.75f, 7}, 3},  /* 0.7 < 0.75 -> 3 tokens */
    };
    for (size_t mi = 0; mi < sizeof modes / sizeof *modes; mi++) {
        Sampler s;
        BittError err;
        CHECK(sampler_init(&s, V, &modes[mi].p, &err) == 0);
        int counts[V] = {0};
        for (int i = 0; i < draws; i++) counts[sampler_sample(&s, shuffled)]++;
        double mass = 0;
        for (int r = 0; r < modes[mi].allowed; r++) mass += probs[r];
        for (int r = 0; r < V; r++) {
            int id = id_of_rank[r];
            double want = r < modes[mi].allowed ? probs[r] / mass : 0.0;
            double got = (double)counts[id] / draws;
            CHECK_MSG(fabs(got - want) < 0.015, "mode %zu rank %d: got %.4f want %.4f", mi, r, got, want);
        }
        sampler_free(&s);
    }
    /* temperature sharpens: at 0.25 the top token has 0.4^4 / sum p^4 = 0.75 of the mass */
    SamplingParams cold = {0.25f, 0, 1.0f, 3};
    Sampler s;
    BittError err;
    CHECK(sampler_init(&s, V, &cold, &err) == 0);
    int top = 0;
    for (int i = 0; i < 2000; i++) top += sampler_sample(&s, shuffled) == 1;
    CHECK_MSG(top > 1350 && top < 1650, "top %d of 2000", top);
    /* same seed, same stream; reseed restarts it */
    int32_t seq1[50], seq2[50];
    sampler_reseed(&s, 99);
    for (int i = 0; i < 50; i++) seq1[i] = sampler_sample(&s, shuffled);
    sampler_reseed(&s, 99);
    for (int i = 0; i < 50; i++) seq2[i] = sampler_sample(&s, shuffled);
    CHECK(memcmp(seq1, seq2, sizeof seq1) == 0);
    sampler_free(&s);
}

static void check_large_vocab_top_k(void) {
    enum { V = 20000 };
    float *logits = malloc(V * sizeof(float));
    for (int i = 0; i < V; i++) logits[i] = (float)((i * 7919) % V) / V; /* a permutation of levels */
    SamplingParams p = {1.0f, 10, 1.0f, 5};
    Sampler s;
    BittError err;
    CHECK(sampler_init(&s, V, &p, &err) == 0);
    for (int i = 0; i < 500; i++) {
        int32_t t = sampler_sample(&s, logits);
        CHECK(logits[t] >= (float)(V - 10) / V);
    }
    sampler_free(&s);
    free(logits);
}

static void check_bad_params(void) {
    BittError err;
    SamplingParams bad[] = {{-1.0f, 0, 1.0f, 0}, {NAN, 0, 1.0f, 0}, {1.0f, -3, 1.0f, 0},
                            {1.0f, 0, 0.0f, 0}, {1.0f, 0, 1.5f, 0}};
    const char *words[] = {"temperature", "temperature", "top-k", "top-p", "top-p"};
    for (int i = 0; i < 5; i++) {
        CHECK(sampling_params_check(&bad[i], &err) != 0);
        CHECK_ERR_CONTAINS(&err, words[i]);
    }
}

int main(void) {
    check_rng_stream();
    check_det_exp();
    check_modes();
    check_large_vocab_top_k();
    check_bad_params();
    return test_main_end("test_sampler");
}
