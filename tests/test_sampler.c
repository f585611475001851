/* test_sampler.c: greedy, temperature, top-k, top-p and min-p sampling; the
 * repetition / presence / frequency penalties and their window; the
 * deterministic exp; the log-probabilities; the RNG stream and a sequence
 * drawn with every option pinned, so that native and wasm builds (this test
 * runs in both) draw the same tokens for a seed. */
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
    SamplingParams greedy = sampling_params_basic(0.0f, 0, 1.0f, 1);
    CHECK(sample_once(shuffled, V, greedy) == 1);
    SamplingParams k1 = sampling_params_basic(1.0f, 1, 1.0f, 1);
    CHECK(sample_once(shuffled, V, k1) == 1);
    CHECK(sample_argmax(shuffled, V) == 1);

    const int draws = 40000;
    struct { SamplingParams p; int allowed; } modes[] = {
        {sampling_params_basic(1.0f, 0, 1.0f, 7), 6},   /* plain temperature 1 */
        {sampling_params_basic(1.0f, 2, 1.0f, 7), 2},   /* top-k 2 */
        {sampling_params_basic(1.0f, 0, 0.7f, 7), 2},   /* top-p 0.7: 0.4 + 0.3 */
        {sampling_params_basic(1.0f, 3, 0.9f, 7), 3},   /* top-k 3 then top-p 0.9: 0.4+0.3+0.15 = 0.85 < 0.9 -> all 3 */
        {sampling_params_basic(1.0f, 0, 0.75f, 7), 3},  /* 0.7 < 0.75 -> 3 tokens */
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
    SamplingParams cold = sampling_params_basic(0.25f, 0, 1.0f, 3);
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
    SamplingParams p = sampling_params_basic(1.0f, 10, 1.0f, 5);
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
    SamplingParams bad[] = {sampling_params_basic(-1.0f, 0, 1.0f, 0), sampling_params_basic(NAN, 0, 1.0f, 0),
                            sampling_params_basic(1.0f, -3, 1.0f, 0), sampling_params_basic(1.0f, 0, 0.0f, 0),
                            sampling_params_basic(1.0f, 0, 1.5f, 0)};
    const char *words[] = {"temperature", "temperature", "top-k", "top-p", "top-p"};
    for (int i = 0; i < 5; i++) {
        CHECK(sampling_params_check(&bad[i], &err) != 0);
        CHECK_ERR_CONTAINS(&err, words[i]);
    }
}


/* greedy over the penalised logits: each penalty changes the winner */
static void check_penalties(void) {
    BittError err;
    Sampler s;
    SamplingParams p = sampling_params_basic(0.0f, 0, 1.0f, 1);
    CHECK(sampler_init(&s, 4, &p, &err) == 0);
    const float l[4] = {3.0f, 2.0f, -1.0f, 0.0f};
    CHECK(sampler_sample(&s, l) == 0);
    p.repetition_penalty = 2.0f; /* 3 -> 1.5 < 2 */
    sampler_set_params(&s, &p);
    CHECK(sampler_sample(&s, l) == 0); /* nothing drawn yet: no penalty */
    CHECK(sampler_accept(&s, 0) == 0);
    CHECK(sampler_sample(&s, l) == 1);
    /* a negative logit is multiplied: -1 * 2 = -2, so id 2 stays below id 3 */
    const float neg[4] = {-1.0f, -1.5f, -3.0f, -4.0f};
    CHECK(sampler_sample(&s, neg) == 1); /* -1 -> -2 < -1.5 */
    sampler_reseed(&s, 1);               /* forgets the drawn tokens */
    CHECK(sampler_sample(&s, l) == 0);

    const float close[4] = {3.0f, 2.5f, 0.0f, -1.0f};
    p = sampling_params_basic(0.0f, 0, 1.0f, 1);
    p.presence_penalty = 1.0f;
    sampler_set_params(&s, &p);
    CHECK(sampler_accept(&s, 0) == 0);
    CHECK(sampler_sample(&s, close) == 1); /* 3 - 1 < 2.5 */
    p.presence_penalty = 0.0f;
    p.frequency_penalty = 0.3f;
    sampler_set_params(&s, &p);
    CHECK(sampler_sample(&s, close) == 0); /* once: 3 - 0.3 > 2.5 */
    CHECK(sampler_accept(&s, 0) == 0);
    CHECK(sampler_sample(&s, close) == 1); /* twice: 3 - 0.6 < 2.5 */
    /* the window: only the last n drawn tokens count */
    p.frequency_penalty = 0.0f;
    p.presence_penalty = 1.0f;
    p.penalty_last_n = 1;
    sampler_set_params(&s, &p);            /* recounts: the window holds the last 0 */
    CHECK(sampler_sample(&s, close) == 1);
    CHECK(sampler_accept(&s, 2) == 0);     /* now it holds 2 only */
    CHECK(sampler_sample(&s, close) == 0);
    p.penalty_last_n = 0;                  /* all three again: 0 counts */
    sampler_set_params(&s, &p);
    CHECK(sampler_sample(&s, close) == 1);
    /* the penalties are applied to a copy: the caller's logits are unchanged */
    CHECK(close[0] == 3.0f && close[1] == 2.5f);
    sampler_free(&s);

    SamplingParams bad = sampling_params_basic(1.0f, 0, 1.0f, 1);
    bad.repetition_penalty = 0.0f;
    CHECK(sampling_params_check(&bad, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "repetition");
    bad.repetition_penalty = 1.0f;
    bad.presence_penalty = INFINITY;
    CHECK(sampling_params_check(&bad, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "presence");
    bad.presence_penalty = 0.0f;
    bad.frequency_penalty = NAN;
    CHECK(sampling_params_check(&bad, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "frequency");
    bad.frequency_penalty = 0.0f;
    bad.min_p = 1.5f;
    CHECK(sampling_params_check(&bad, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "min-p");
    bad.min_p = 0.0f;
    bad.penalty_last_n = -1;
    CHECK(sampling_params_check(&bad, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "penalty window");
}

/* min-p 0.5 over probabilities 0.4, 0.3, 0.15, ...: keeps p >= 0.2, i.e. the first two */
static void check_min_p(void) {
    enum { V = 6 };
    const double probs[V] = {0.4, 0.3, 0.15, 0.1, 0.05, 1e-30};
    float logits[V];
    const int pos[V] = {3, 0, 5, 1, 4, 2}; /* rank r sits at id pos[r] */
    for (int r = 0; r < V; r++) logits[pos[r]] = (float)log(probs[r]);
    for (int with_top_p = 0; with_top_p < 2; with_top_p++) {
        SamplingParams p = sampling_params_basic(1.0f, with_top_p ? 0 : 4, with_top_p ? 0.99f : 1.0f, 11);
        p.min_p = 0.5f;
        Sampler s;
        BittError err;
        CHECK(sampler_init(&s, V, &p, &err) == 0);
        int counts[V] = {0};
        const int draws = 20000;
        for (int i = 0; i < draws; i++) counts[sampler_sample(&s, logits)]++;
        CHECK(counts[pos[0]] + counts[pos[1]] == draws);
        const double got = (double)counts[pos[0]] / draws;
        CHECK_MSG(fabs(got - 0.4 / 0.7) < 0.02, "min-p: share of the best %.4f, want %.4f", got, 0.4 / 0.7);
        sampler_free(&s);
    }
}

/* Whatever the filters and penalties, a non-greedy token takes exactly one
 * number from the stream: samplers with different options stay aligned. */
static void check_one_draw_per_token(void) {
    enum { V = 40 };
    float logits[V];
    for (int i = 0; i < V; i++) logits[i] = (float)((i * 13) % 17) * 0.25f;
    SamplingParams plain = sampling_params_basic(1.0f, 0, 1.0f, 5);
    SamplingParams rich = sampling_params_basic(0.7f, 9, 0.8f, 5);
    rich.min_p = 0.2f;
    rich.repetition_penalty = 1.4f;
    rich.presence_penalty = 0.5f;
    rich.frequency_penalty = 0.25f;
    rich.penalty_last_n = 5;
    Sampler a, b;
    BittError err;
    CHECK(sampler_init(&a, V, &plain, &err) == 0);
    CHECK(sampler_init(&b, V, &rich, &err) == 0);
    for (int i = 0; i < 100; i++) {
        sampler_accept(&a, sampler_sample(&a, logits));
        sampler_accept(&b, sampler_sample(&b, logits));
    }
    CHECK(a.rng.state == b.rng.state);
    sampler_free(&a);
    sampler_free(&b);
}

/* A sequence drawn with every option on, pinned: the wasm build of this test
 * must draw the very same tokens (integer RNG, det_exp, float penalties in a
 * fixed order). */
static void check_pinned_sequence(void) {
    enum { V = 300 };
    float logits[V];
    for (int i = 0; i < V; i++) logits[i] = (float)((i * 7919) % 101) / 17.0f - (float)(i % 7) * 0.3f;
    struct { float temp, top_p, min_p, rp, pp, fp; int top_k, last_n; uint64_t want; } cases[] = {
        {0.9f, 0.9f, 0.05f, 1.3f, 0.2f, 0.1f, 0, 8, 0x6a7fb1d940bd0bb5ull},
        {1.1f, 1.0f, 0.1f, 1.0f, 0.0f, 0.4f, 50, 0, 0x3faf8e909d4178b7ull},
        {0.0f, 1.0f, 0.0f, 1.2f, 0.3f, 0.0f, 0, 16, 0x9213080a60d2135cull},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        SamplingParams p = sampling_params_basic(cases[c].temp, cases[c].top_k, cases[c].top_p, 2024 + c);
        p.min_p = cases[c].min_p;
        p.repetition_penalty = cases[c].rp;
        p.presence_penalty = cases[c].pp;
        p.frequency_penalty = cases[c].fp;
        p.penalty_last_n = cases[c].last_n;
        Sampler s;
        BittError err;
        CHECK(sampler_init(&s, V, &p, &err) == 0);
        uint64_t h = 0xcbf29ce484222325ull;
        int seen[V] = {0}, distinct = 0;
        for (int i = 0; i < 300; i++) {
            int32_t t = sampler_sample(&s, logits);
            sampler_accept(&s, t);
            h = (h ^ (uint64_t)t) * 0x100000001b3ull;
            distinct += !seen[t]++;
        }
        CHECK_MSG(distinct >= 10, "case %zu: only %d distinct tokens: the penalties do not act", c, distinct);
        printf("pinned sequence %zu: %016llx\n", c, (unsigned long long)h);
        CHECK_MSG(h == cases[c].want, "case %zu: sequence hash %016llx (pinned %016llx)", c, (unsigned long long)h,
                  (unsigned long long)cases[c].want);
        sampler_free(&s);
    }
}

static void check_logprobs(void) {
    const float l[5] = {0.0f, (float)log(2.0), NAN, (float)log(4.0), -INFINITY}; /* p = 1/7, 2/7, 0, 4/7, 0 */
    int32_t ids[5];
    double lps[5], tok;
    sampler_logprobs(l, 5, 1, 3, ids, lps, &tok);
    CHECK(fabs(tok - log(2.0 / 7.0)) < 1e-6);
    CHECK(ids[0] == 3 && ids[1] == 1 && ids[2] == 0);
    CHECK(fabs(lps[0] - log(4.0 / 7.0)) < 1e-6 && fabs(lps[2] - log(1.0 / 7.0)) < 1e-6);
    sampler_logprobs(l, 5, 2, 0, ids, lps, &tok);
    CHECK(tok == -INFINITY); /* NaN counts as -infinity */
    const float inf2[3] = {INFINITY, 1.0f, INFINITY};
    sampler_logprobs(inf2, 3, 2, 2, ids, lps, &tok);
    CHECK(fabs(tok - log(0.5)) < 1e-12 && ids[0] == 0 && ids[1] == 2);
}

int main(void) {
    check_rng_stream();
    check_det_exp();
    check_modes();
    check_large_vocab_top_k();
    check_bad_params();
    check_penalties();
    check_min_p();
    check_one_draw_per_token();
    check_pinned_sequence();
    check_logprobs();
    return test_main_end("test_sampler");
}
