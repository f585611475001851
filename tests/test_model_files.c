/* test_model_files.c: .bitt v1 -> v2 -> checkpoint dir round trips (same
 * greedy tokens, same logits; v2 packs exactly what v1 quantises to), the
 * v2 size against v1, 64-byte alignment, and every kind of bad model file
 * failing with a clear message. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/model_file.h"
#include "test_model_util.h"
#include "test_util.h"
#include "util/fileio.h"

static void logits_of(Model *m, const int32_t *ids, int n, float *out) {
    BittError err;
    Session s;
    CHECK(session_init(&s, m, &err) == 0);
    CHECK(session_forward(&s, ids, n, out, 0, &err) == 0);
    session_free(&s);
}

static void greedy(Model *m, const int32_t *prompt, int n, int steps, int32_t *out) {
    BittError err;
    Session s;
    float *logits = malloc((size_t)m->cfg.vocab_size * sizeof(float));
    CHECK(session_init(&s, m, &err) == 0);
    CHECK(session_forward(&s, prompt, n, logits, 0, &err) == 0);
    for (int i = 0; i < steps; i++) {
        int32_t best = 0;
        for (int v = 1; v < m->cfg.vocab_size; v++)
            if (logits[v] > logits[best]) best = v;
        out[i] = best;
        CHECK(session_forward(&s, &best, 1, logits, 0, &err) == 0);
    }
    session_free(&s);
    free(logits);
}

static int same_ternary(const Model *a, const Model *b) {
    for (int i = 0; i < a->n_params; i++) {
        const ParamRef *p = &a->params[i], *q = &b->params[i];
        if (p->spec.kind != PARAM_BITLINEAR) continue;
        size_t n = (size_t)p->bl->q.rows * p->bl->q.cols;
        if (memcmp(p->bl->q.w, q->bl->q.w, n) != 0 || p->bl->q.scale != q->bl->q.scale) {
            fprintf(stderr, "%s differs (scale %.9g vs %.9g)\n", p->spec.name, p->bl->q.scale, q->bl->q.scale);
            return 0;
        }
    }
    return 1;
}

static void check_round_trip(TttVariant variant) {
    BittError err;
    Model *m1 = make_random_model(400, 64, 2, variant, variant != TTT_SEED, 16, 5);
    CHECK(m1 != NULL);
    if (!m1) return;
    const int V = m1->cfg.vocab_size;
    CHECK(model_save_bitt(m1, "rt_v1.bitt", 1, &err) == 0);
    Model *a = model_load("rt_v1.bitt", 1, &err);
    CHECK_MSG(a != NULL, "%s", err.message);
    CHECK(model_save_bitt(a, "rt_v2.bitt", 2, &err) == 0);
    Model *b = model_load("rt_v2.bitt", 1, &err);
    CHECK_MSG(b != NULL, "%s", err.message);
    CHECK(model_save_checkpoint(b, "rt_ckpt", &err) == 0);
    Model *c = model_load("rt_ckpt", 1, &err);
    CHECK_MSG(c != NULL, "%s", err.message);
    CHECK(model_save_bitt(c, "rt_v1_again.bitt", 1, &err) == 0);
    Model *d = model_load("rt_v1_again.bitt", 0, &err);
    CHECK_MSG(d != NULL, "%s", err.message);
    if (!a || !b || !c || !d) return;
    CHECK(a->bitt_version == 1 && b->bitt_version == 2 && c->bitt_version == 0);
    /* v2 packs exactly what v1 quantises to; the float forms quantise back to it */
    CHECK(same_ternary(a, b));
    CHECK(same_ternary(b, c));
    CHECK(same_ternary(c, d));
    CHECK(a->fingerprint == b->fingerprint && b->fingerprint == c->fingerprint && c->fingerprint == d->fingerprint);
    int32_t prompt[24];
    make_ids(prompt, 24, V, 3);
    float *la = malloc((size_t)V * 4), *lb = malloc((size_t)V * 4), *lc = malloc((size_t)V * 4), *ld = malloc((size_t)V * 4);
    logits_of(a, prompt, 24, la);
    logits_of(b, prompt, 24, lb);
    logits_of(c, prompt, 24, lc);
    logits_of(d, prompt, 24, ld);
    /* v1 -> v2 rounds embed and lm_head to f16: close, not equal */
    double d_ab = rel_diff(la, lb, (size_t)V);
    CHECK_MSG(d_ab < 1e-2, "v1 vs v2 logits: %.3g", d_ab);
    /* from v2 on, the weights are exactly the same numbers */
    double d_bc = rel_diff(lb, lc, (size_t)V), d_cd = rel_diff(lc, ld, (size_t)V);
    CHECK_MSG(d_bc < 1e-6, "v2 vs checkpoint logits: %.3g", d_bc);
    CHECK_MSG(d_cd < 1e-6, "checkpoint vs v1 logits: %.3g", d_cd);
    printf("%s: logits v1/v2 %.2e, v2/ckpt %.2e, ckpt/v1 %.2e\n", ttt_variant_name(variant), d_ab, d_bc, d_cd);
    int32_t ga[32], gb[32], gc[32], gd[32];
    greedy(a, prompt, 24, 32, ga);
    greedy(b, prompt, 24, 32, gb);
    greedy(c, prompt, 24, 32, gc);
    greedy(d, prompt, 24, 32, gd);
    CHECK(memcmp(ga, gb, sizeof ga) == 0);
    CHECK(memcmp(gb, gc, sizeof gb) == 0);
    CHECK(memcmp(gc, gd, sizeof gc) == 0);
    /* the v1 latent weights survive v1 -> memory -> checkpoint byte for byte */
    CHECK(model_save_checkpoint(a, "rt_ckpt_from_v1", &err) == 0);
    Model *e = model_load("rt_ckpt_from_v1", 1, &err);
    CHECK(e != NULL);
    if (e) {
        for (int i = 0; i < e->n_params; i++)
            if (e->params[i].spec.kind == PARAM_BITLINEAR)
                CHECK(memcmp(e->params[i].bl->latent, m1->params[i].bl->latent,
                             (size_t)e->params[i].bl->q.rows * e->params[i].bl->q.cols * 4) == 0);
        model_free(e);
    }
    free(la); free(lb); free(lc); free(ld);
    model_free(a); model_free(b); model_free(c); model_free(d); model_free(m1);
}

static size_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* v2 data starts 64-byte aligned, and the size ratio of the model. */
static void check_v2_layout_and_size(void) {
    BittError err;
    Model *m = make_random_model(16384, 256, 8, TTT_LINEAR, 1, 16, 9);
    CHECK(m != NULL);
    if (!m) return;
    CHECK(model_save_bitt(m, "big_v1.bitt", 1, &err) == 0);
    CHECK(model_save_bitt(m, "big_v2.bitt", 2, &err) == 0);
    size_t s1 = file_size("big_v1.bitt"), s2 = file_size("big_v2.bitt");
    printf("256-dim 8-layer 16384-vocab: v1 %zu bytes, v2 %zu bytes, v2/v1 = %.3f (1/%.2f)\n", s1, s2,
           (double)s2 / s1, (double)s1 / s2);
    /* embed + lm_head in f16 (SPEC 3.3) are 2 x 8 MiB of the v2 file: the
     * ternary part itself is 1/16 of its float form */
    CHECK(s2 > 0 && s2 * 3 < s1);
    uint8_t *buf;
    size_t len;
    CHECK(file_read_all("big_v2.bitt", &buf, &len, &err) == 0);
    uint64_t h = 0, n = 0;
    for (int i = 11; i >= 4; i--) h = (h << 8) | buf[i];
    for (int i = 7; i >= 0; i--) n = (n << 8) | buf[12 + h + i];
    CHECK((12 + h + 8 + n) % 64 == 0);
    free(buf);
    remove("big_v1.bitt");
    remove("big_v2.bitt");
    model_free(m);
}

/* A finite float32 weight beyond float16's range (found by fuzz_bitt): .bitt
 * v2 stores embed and lm_head as f16, where it would be infinite and the
 * reader would refuse the file. The writer refuses instead, naming the
 * tensor; v1 keeps it. */
static void check_v2_refuses_f16_overflow(void) {
    BittError err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    Model *m = make_random_model(300, 16, 1, TTT_LINEAR, 1, 16, 3);
    CHECK(m != NULL);
    if (!m) return;
    m->lm_head[16] = 1e6f;
    CHECK(model_save_bitt_memory(m, 2, &buf, &len, &err) != 0);
    CHECK(strstr(err.message, "lm_head.weight") && strstr(err.message, "float16"));
    CHECK(model_save_bitt_memory(m, 1, &buf, &len, &err) == 0);
    Model *back = model_load_bitt_memory(buf, len, "v1", 0, &err);
    CHECK(back != NULL && back->lm_head[16] == 1e6f);
    model_free(back);
    free(buf);
    m->lm_head[16] = 65504.0f; /* the largest f16: still written */
    CHECK(model_save_bitt_memory(m, 2, &buf, &len, &err) == 0);
    back = model_load_bitt_memory(buf, len, "v2", 0, &err);
    CHECK(back != NULL && back->lm_head[16] == 65504.0f);
    model_free(back);
    free(buf);
    model_free(m);
}

int main(void) {
    check_v2_refuses_f16_overflow();
    check_round_trip(TTT_LINEAR);
    check_round_trip(TTT_SEED);
    check_round_trip(TTT_NONE);
    check_v2_layout_and_size();
    return test_main_end("test_model_files");
}
