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
#include "model/model_file.h"
#include "kernels/kernels.h"
#include "sampling/sampler.h"
#include "test_model_util.h"
#include "test_util.h"

static int32_t sample_with(const float *logits, int V, float temp, int top_k, float top_p, uint64_t seed) {
    SamplingParams p = sampling_params_basic(temp, top_k, top_p, seed);
    Sampler s;
    BittError err;
    if (sampler_init(&s, V, &p, &err) != 0) return -2;
    int32_t t = sampler_sample(&s, logits);
    sampler_free(&s);
    return t;
}

/* hostile input: the top-p pre-filter keeps the best id, so the candidate list
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

/* The quantiser's definition, written out: NaN left out of max|x|, NaN -> 0. */
static float reference_quantize(const float *x, int n, int8_t *q) {
    float maxabs = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > maxabs) maxabs = fabsf(x[i]);
    const float s = 127.0f / (maxabs > 1e-5f ? maxabs : 1e-5f);
    for (int i = 0; i < n; i++) {
        const float r = roundf(x[i] * s);
        q[i] = isnan(r) ? 0 : r > 127.0f ? 127 : r < -127.0f ? -127 : (int8_t)r;
    }
    return s;
}

/* hostile input: every int8 quantiser on NaN, infinities and subnormals. */
static void test_quantizers(void) {
    const float nan = NAN, inf = INFINITY;
    enum { N = 37 }; /* vector bodies of 4, 8 and 16 plus a tail */
    float rows[5][N];
    for (int r = 0; r < 5; r++)
        for (int i = 0; i < N; i++) rows[r][i] = (float)((i * 7 + r * 3) % 11) - 5.0f;
    /* the maximum and a NaN in one vector lane (index 0 and 8 share lane 0 for
     * 4 and 8 lanes), in both orders: the NaN must not take the maximum away */
    rows[0][0] = nan;  rows[0][8] = 20.0f;
    rows[1][0] = -20.0f; rows[1][8] = nan;
    rows[1][30] = nan; rows[1][36] = nan; /* in the body and the tail */
    rows[2][5] = inf;  /* s = 0: inf * 0 is NaN */
    rows[3][20] = -inf; rows[3][21] = nan;
    for (int i = 0; i < N; i++) rows[4][i] = nan;
    for (int k = 0; kernels_built(k); k++) {
        const Kernels *kn = kernels_built(k);
        if (!kernels_by_name(kn->name)) continue; /* not on this CPU */
        for (int r = 0; r < 5; r++) {
            int8_t want[N], got[N];
            const float s1 = reference_quantize(rows[r], N, want);
            const float s2 = kn->quantize_row_i8(rows[r], N, got);
            CHECK_MSG(s1 == s2 && memcmp(want, got, N) == 0, "%s: quantize row %d differs from the definition",
                      kn->name, r);
        }
    }
    /* BitLinear weights: a NaN latent quantises to 0 (no UB), the rest as usual */
    float latent[8] = {nan, 0.5f, -0.5f, 0.01f, 1.0f, -1.0f, 0.0f, 0.3f};
    int8_t w[8];
    TernaryMatrix tm = {2, 4, w, 0.0f, NULL};
    bitlinear_quantize_weights(latent, 2, 4, &tm);
    CHECK(w[0] == 0);
    latent[0] = 0.2f;
    bitlinear_quantize_weights(latent, 2, 4, &tm);
    CHECK(w[4] == 1 && w[5] == -1 && w[6] == 0);

    /* the int8 lm_head: a row whose largest value is subnormal has scale 0 (was 0 / 0 -> int) */
    BittError err;
    Model *m = make_random_model(300, 32, 1, TTT_NONE, 1, 16, 5);
    CHECK(m != NULL);
    if (!m) return;
    for (int i = 0; i < 32; i++) m->lm_head[i] = i == 3 ? 1e-45f : 0.0f;
    CHECK(model_set_lm_head_int8(m, 1, &err) == 0);
    CHECK(m->lm_head_i8 && m->lm_head_i8->row_scale[0] == 0.0f);
    int zeros = 1;
    for (int i = 0; i < 32; i++) zeros &= m->lm_head_i8->w[i] == 0;
    CHECK(zeros);
    model_free(m);
}

/* hostile input: every kernel set of the build fills every entry the engine
 * calls; an int8-activation model runs through each (dense-f32 included). */
static void test_kernel_tables(void) {
    int n = 0;
    for (int k = 0; kernels_built(k); k++, n++) {
        const Kernels *kn = kernels_built(k);
        CHECK_MSG(kn->name && kn->ternary_matmul_i8 && kn->ternary_matmul_f32 && kn->quantize_row_i8 &&
                      kn->matmul_f32 && kn->int8_matmul && kn->rmsnorm,
                  "kernel set %d (%s) leaves an entry NULL", k, kn->name ? kn->name : "?");
    }
    CHECK(n >= 1);
    /* an int8-activation model through every kernel set this CPU runs: the same logits as scalar */
    BittError err;
    Model *m = make_random_model(300, 64, 1, TTT_LINEAR, 1, 16, 8);
    CHECK(m != NULL);
    if (!m) return;
    int32_t ids[20];
    make_ids(ids, 20, 300, 3);
    float want[300], got[300];
    Session s;
    CHECK(model_use_kernels(m, kernels_scalar(), &err) == 0);
    CHECK(session_init(&s, m, &err) == 0 && session_forward(&s, ids, 20, want, 0, &err) == 0);
    session_free(&s);
    for (int k = 0; kernels_built(k); k++) {
        const Kernels *kn = kernels_by_name(kernels_built(k)->name);
        if (!kn) continue;
        CHECK(model_use_kernels(m, kn, &err) == 0);
        CHECK(session_init(&s, m, &err) == 0 && session_forward(&s, ids, 20, got, 0, &err) == 0);
        session_free(&s);
        CHECK_MSG(rel_diff(want, got, 300) < 1e-4, "%s: int8 model logits differ", kn->name);
    }
    model_free(m);
}

static int count_bytes(const char *piece, size_t len, void *user) {
    (void)piece;
    *(size_t *)user += len;
    return 0;
}

/* hostile input: a model whose tokenizer has a hole at id 4 and whose logits always pick 4:
 * generating it must give no text (tokenizer_token_bytes is NULL for it). */
static void test_hole_id(void) {
    Utf8Stream us;
    const char *piece;
    size_t plen;
    utf8_stream_init(&us);
    CHECK(utf8_stream_push(&us, NULL, 0, &piece, &plen) == 0 && plen == 0); /* NULL + 0 is allowed */
    utf8_stream_free(&us);

    static const char *json =
        "{\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},{\"id\":1,\"content\":\"<s>\",\"special\":true},"
        "{\"id\":2,\"content\":\"</s>\",\"special\":true}],\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\"},"
        "\"decoder\":null,\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2,"
        "\"a\":3,\"b\":5},\"merges\":[]}}";
    BittError err;
    JsonDoc *doc = json_parse(json, strlen(json), "hole.json", &err);
    Tokenizer *tok = doc ? tokenizer_from_json(json_doc_root(doc), "hole.json", &err) : NULL;
    json_doc_free(doc);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (!tok) return;
    CHECK(tokenizer_vocab_size(tok) == 6 && tokenizer_token_bytes(tok, 4, NULL) == NULL);
    ModelConfig cfg;
    config_init(&cfg, 6, 16, 1, TTT_NONE);
    Model *m = model_alloc(&cfg, tok, &err); /* every weight 0: the residual stream is the embedding */
    CHECK(m != NULL);
    if (!m) return;
    for (int i = 0; i < 6 * 16; i++) m->embed[i] = 1.0f;
    for (int i = 0; i < 16; i++) {
        m->layers[0].norm2[i] = m->norm_f[i] = 1.0f;
        m->lm_head[4 * 16 + i] = 1.0f;
    }
    CHECK(model_finish_load(m, &err) == 0);
    uint8_t *buf;
    size_t len;
    CHECK(model_save_bitt_memory(m, 1, &buf, &len, &err) == 0);
    model_free(m);
    bitt_model *bm;
    bitt_session *s;
    CHECK_MSG(bitt_model_load_memory(buf, len, &bm, &err) == 0, "%s", err.message);
    free(buf);
    if (!bm) return;
    CHECK(bitt_session_new(bm, &s, &err) == 0);
    bitt_sampling p = bitt_sampling_default();
    p.temperature = 0.0f; /* greedy: id 4 every time */
    p.seed = 1;
    size_t text = 0;
    int n = 0;
    CHECK_MSG(bitt_generate(s, "", 3, &p, count_bytes, &text, &n, &err) == 0, "%s", err.message);
    CHECK(n == 3 && text == 0);
    bitt_session_free(s);
    bitt_model_free(bm);
}

/* With an argument, runs only the test of that name (e.g. to see one fail). */
int main(int argc, char **argv) {
    static const struct { const char *name; void (*fn)(void); } tests[] = {
        {"test_sampler_top_p", test_sampler_top_p},
        {"test_sampler_nonfinite", test_sampler_nonfinite},
        {"test_quantizers", test_quantizers},
        {"test_kernel_tables", test_kernel_tables},
        {"test_hole_id", test_hole_id},
    };
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
        if (argc < 2 || strcmp(argv[1], tests[i].name) == 0) tests[i].fn();
    return test_main_end("test_hostile_runtime");
}
