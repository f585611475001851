/* test_hostile_files.c: hostile model, safetensors and state files (SPEC 4),
 * each test built on the smallest input that shows what it checks (see the
 * comment of each). Run in the asan suite too, where an undefined conversion
 * or an over-read stops the test. With an argument, runs that test only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model_file.h"
#include "infer/session.h"
#include "model/state.h"
#include "test_model_util.h"
#include "test_util.h"

#ifdef UNDER_SANITIZER
#define TIME_LIMIT 10.0
#else
#define TIME_LIMIT 2.0
#endif

/* ---- safetensors ---- */

/* A safetensors buffer of exactly the right size (ASan sees any over-read):
 * the header text, then data_len bytes 0, 1, 2, ... */
static uint8_t *st_make(const char *header, size_t data_len, size_t *len) {
    const size_t hl = strlen(header);
    *len = 8 + hl + data_len;
    uint8_t *buf = malloc(*len);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    for (size_t i = 0; i < data_len; i++) buf[8 + hl + i] = (uint8_t)i;
    return buf;
}

static void st_expect(const char *header, size_t data_len, const char *needle) {
    size_t len;
    uint8_t *buf = st_make(header, data_len, &len);
    SafeTensors st;
    BittError err = {{0}};
    const int rc = safetensors_parse(buf, len, "h.safetensors", &st, &err);
    if (needle) {
        CHECK_MSG(rc != 0, "accepted: %s (%zu data bytes)", header, data_len);
        CHECK_MSG(rc != 0 && strstr(err.message, "h.safetensors") && strstr(err.message, needle),
                  "\"%s\" lacks \"%s\" for %s", err.message, needle, header);
    } else {
        CHECK_MSG(rc == 0, "refused: %s: %s", header, err.message);
        if (rc == 0) safetensors_free(&st);
    }
    free(buf);
}

#define U8(name, n, b, e) "\"" name "\":{\"dtype\":\"U8\",\"shape\":[" #n "],\"data_offsets\":[" #b "," #e "]}"

/* hostile input: header numbers (data_offsets, shapes) out of every integer
 * range are refused before they are converted. */
static void test_header_numbers(void) {
    /* hostile input: 1.16842e+24 was converted to uint64_t before any range check */
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1.16842e+24]}}", 1, "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1.16842e+24,1.16842e+24]}}", 1, "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1e300,1]}}", 1, "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,0.5]}}", 1, "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[9007199254740994,9007199254740995]}}", 1,
              "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[\"0\",1]}}", 1, "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.16842e+24],\"data_offsets\":[0,1]}}", 1, "shape");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1e300],\"data_offsets\":[0,1]}}", 1, "shape");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[-0.0],\"data_offsets\":[0,0]}}", 0, NULL); /* -0 is 0 */
}

/* hostile input: layouts the reference safetensors library refuses (overlap,
 * gap, trailing bytes) are refused; this project's own files still load. */
static void test_layouts(void) {
    /* hostile input: the tensors, sorted by offset, must tile the data exactly */
    st_expect("{" U8("a", 4, 0, 4) "," U8("b", 4, 2, 6) "}", 6, "overlaps");
    st_expect("{" U8("a", 2, 0, 2) "," U8("b", 2, 4, 6) "}", 6, "gap");
    st_expect("{" U8("a", 2, 2, 4) "}", 4, "gap");
    st_expect("{" U8("a", 2, 0, 2) "}", 4, "after the last");
    st_expect("{}", 3, "after the last");
    st_expect("{" U8("a", 2, 0, 2) "," U8("b", 2, 0, 2) "}", 2, "overlaps");
    /* accepted, as by the reference: any header order, empty tensors anywhere, nothing at all */
    st_expect("{" U8("b", 2, 2, 4) "," U8("a", 2, 0, 2) "}", 4, NULL);
    st_expect("{" U8("e", 0, 0, 0) "," U8("a", 2, 0, 2) "," U8("f", 0, 2, 2) "," U8("g", 0, 2, 2) "}", 2, NULL);
    st_expect("{}", 0, NULL);
    st_expect("{\"__metadata__\":{\"k\":\"v\"},\"__metadata__\":{\"k\":\"w\"}}", 0, "__metadata__");

    /* the project's own files keep loading: .bitt v1 (8-byte aligned) and v2,
     * whose 64-byte alignment is padding of spaces in the JSON header */
    BittError err;
    Model *m = make_random_model(300, 64, 2, TTT_LINEAR, 1, 16, 3);
    CHECK(m != NULL);
    if (!m) return;
    for (int version = 1; version <= 2; version++) {
        uint8_t *buf;
        size_t len;
        CHECK(model_save_bitt_memory(m, version, &buf, &len, &err) == 0);
        uint64_t h = 0, n = 0;
        for (int i = 11; i >= 4; i--) h = (h << 8) | buf[i];
        for (int i = 7; i >= 0; i--) n = (n << 8) | buf[12 + h + (size_t)i];
        const size_t data_start = 12 + (size_t)h + 8 + (size_t)n;
        CHECK_MSG(data_start % (version == 2 ? 64 : 8) == 0, "v%d data at %zu", version, data_start);
        size_t k = data_start;
        while (k > 12 + h + 8 && buf[k - 1] == ' ') k--;
        CHECK(buf[k - 1] == '}'); /* the padding is spaces after the header's JSON, not a gap in the data */
        SafeTensors st;
        CHECK_MSG(safetensors_parse(buf + 12 + h, len - 12 - (size_t)h, "own.bitt", &st, &err) == 0, "%s",
                  err.message);
        safetensors_free(&st);
        Model *back = model_load_bitt_memory(buf, len, "own.bitt", 0, &err);
        CHECK_MSG(back != NULL && back->fingerprint == m->fingerprint, "v%d: %s", version, back ? "" : err.message);
        model_free(back);
        free(buf);
    }
    model_free(m);
}

/* 100,000 tensors: duplicate names are found in O(n log n) (they were
 * compared pairwise), lookups are a binary search. */
static void test_many_tensors(void) {
    enum { N = 100000 };
    char *header = malloc((size_t)N * 96 + 128), *p = header;
    p += sprintf(p, "{");
    for (int i = 0; i < N; i++)
        p += sprintf(p, "%s\"tensor.%d\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[%d,%d]}", i ? "," : "", i, i, i + 1);
    char *end = p;
    for (int dup = 0; dup < 2; dup++) {
        p = end;
        if (dup) p += sprintf(p, ",\"tensor.77\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[%d,%d]}", N, N);
        sprintf(p, "}");
        size_t len;
        uint8_t *buf = st_make(header, N, &len);
        SafeTensors st;
        BittError err;
        const double t0 = test_now_s();
        const int rc = safetensors_parse(buf, len, "many.safetensors", &st, &err);
        const double secs = test_now_s() - t0;
        CHECK_MSG(secs < TIME_LIMIT, "parsing %d tensors took %.2f s", N, secs);
        if (dup) {
            CHECK(rc != 0);
            CHECK_ERR_CONTAINS(&err, "'tensor.77' appears twice");
        } else {
            CHECK_MSG(rc == 0, "%s", err.message);
            if (rc == 0) {
                const StTensor *t = safetensors_find(&st, "tensor.99999");
                CHECK(t && t->data == buf + len - 1 && safetensors_find(&st, "tensor.100000") == NULL);
                safetensors_free(&st);
            }
        }
        free(buf);
    }
    free(header);
}

/* ---- .bitt files ---- */

/* Where tensor name's data is in a .bitt buffer (NULL if absent). */
static uint8_t *tensor_in(uint8_t *buf, size_t len, const char *name) {
    uint64_t h = 0;
    for (int i = 11; i >= 4; i--) h = (h << 8) | buf[i];
    SafeTensors st;
    BittError err;
    if (safetensors_parse(buf + 12 + h, len - 12 - (size_t)h, "x", &st, &err) != 0) return NULL;
    const StTensor *t = safetensors_find(&st, name);
    uint8_t *data = t ? (uint8_t *)t->data : NULL;
    safetensors_free(&st);
    return data;
}

static void expect_load_error(const uint8_t *buf, size_t len, const char *needle1, const char *needle2) {
    BittError err = {{0}};
    uint8_t *c = malloc(len);
    memcpy(c, buf, len);
    Model *m = model_load_bitt_memory(c, len, "bad.bitt", 0, &err);
    CHECK_MSG(m == NULL, "loaded although \"%s\" was expected", needle1);
    model_free(m);
    CHECK_MSG(strstr(err.message, "bad.bitt") && strstr(err.message, needle1) &&
                  (!needle2 || strstr(err.message, needle2)),
              "\"%s\" lacks \"%s\" / \"%s\"", err.message, needle1, needle2 ? needle2 : "");
    free(c);
}

/* hostile input: NaN or infinity in any float tensor of a .bitt is refused,
 * naming the tensor and the element. */
static void test_nonfinite_weights(void) {
    /* hostile input: only BitLinear latents were checked; NaN in the other
     * tensors loaded and reached the sampler */
    BittError err;
    Model *m = make_random_model(300, 64, 2, TTT_LINEAR, 1, 16, 3);
    CHECK(m != NULL);
    if (!m) return;
    uint8_t *v1, *v2, *t;
    size_t n1, n2;
    CHECK(model_save_bitt_memory(m, 1, &v1, &n1, &err) == 0);
    CHECK(model_save_bitt_memory(m, 2, &v2, &n2, &err) == 0);
    model_free(m);
    const float nan = NAN, inf = INFINITY;
    uint8_t *c = malloc(n1);
    memcpy(c, v1, n1);
    CHECK((t = tensor_in(c, n1, "norm_f.weight")) != NULL);
    if (t) memcpy(t + 4 * 5, &nan, 4);
    expect_load_error(c, n1, "'norm_f.weight'", "NaN at element 5");
    memcpy(c, v1, n1);
    CHECK((t = tensor_in(c, n1, "lm_head.weight")) != NULL);
    if (t) memcpy(t, &inf, 4);
    expect_load_error(c, n1, "'lm_head.weight'", "infinity");
    memcpy(c, v1, n1);
    CHECK((t = tensor_in(c, n1, "layers.1.ttt.W0")) != NULL);
    if (t) memcpy(t + 40, &nan, 4);
    expect_load_error(c, n1, "'layers.1.ttt.W0'", "NaN");
    memcpy(c, v1, n1);
    CHECK((t = tensor_in(c, n1, "layers.0.mlp.up_proj.weight")) != NULL); /* a BitLinear latent, as before */
    if (t) memcpy(t + 8, &inf, 4);
    expect_load_error(c, n1, "'layers.0.mlp.up_proj.weight'", "infinity");
    free(c);
    c = malloc(n2);
    memcpy(c, v2, n2);
    CHECK((t = tensor_in(c, n2, "embed.weight")) != NULL); /* F16 in v2: 0x7C00 is +inf */
    if (t) { t[6] = 0x00; t[7] = 0x7C; }
    expect_load_error(c, n2, "'embed.weight'", "infinity at element 3");
    free(c);
    free(v1);
    free(v2);
}

/* A .bitt file from v with the text `from` of its header replaced by `to`. */
static uint8_t *with_header(const uint8_t *v, size_t n, const char *from, const char *to, size_t *out_len) {
    uint64_t h = 0;
    for (int i = 11; i >= 4; i--) h = (h << 8) | v[i];
    char *hdr = malloc(h + 1);
    memcpy(hdr, v + 12, h);
    hdr[h] = 0;
    char *at = strstr(hdr, from);
    if (!at) { free(hdr); return NULL; }
    const size_t nh = h - strlen(from) + strlen(to), rest = n - 12 - (size_t)h;
    uint8_t *out = malloc(12 + nh + rest);
    memcpy(out, v, 4);
    for (int i = 0; i < 8; i++) out[4 + i] = (uint8_t)((uint64_t)nh >> (8 * i));
    size_t k = 12;
    memcpy(out + k, hdr, (size_t)(at - hdr)); k += (size_t)(at - hdr);
    memcpy(out + k, to, strlen(to)); k += strlen(to);
    memcpy(out + k, at + strlen(from), h - (size_t)(at - hdr) - strlen(from)); k += h - (size_t)(at - hdr) - strlen(from);
    memcpy(out + k, v + 12 + h, rest);
    *out_len = 12 + nh + rest;
    free(hdr);
    return out;
}

static void expect_header_error(const uint8_t *v, size_t n, const char *from, const char *to, const char *needle1,
                                const char *needle2) {
    size_t len;
    uint8_t *c = with_header(v, n, from, to, &len);
    CHECK_MSG(c != NULL, "no '%s' in the header", from);
    if (!c) return;
    const double t0 = test_now_s();
    expect_load_error(c, len, needle1, needle2);
    const double secs = test_now_s() - t0;
    CHECK_MSG(secs < TIME_LIMIT, "refusing %s took %.2f s", to, secs);
    free(c);
}

/* hostile input: a config is checked against the tensors of its file before
 * any weight is allocated; the limits are named in the messages. */
static void test_config_against_tensors(void) {
    BittError err;
    Model *m = make_random_model(300, 64, 2, TTT_LINEAR, 1, 16, 3);
    CHECK(m != NULL);
    if (!m) return;
    uint8_t *v;
    size_t n;
    CHECK(model_save_bitt_memory(m, 2, &v, &n, &err) == 0);
    model_free(m);
    /* hostile input: a config far larger than its tensors is refused before its
     * weights are allocated (this one would be about 32 TB) */
    expect_header_error(v, n, "\"hidden_dim\":64,\"num_layers\":2,\"intermediate_dim\":256",
                        "\"hidden_dim\":65536,\"num_layers\":1024,\"intermediate_dim\":1048576",
                        "'embed.weight' has shape [300, 64], expected [300, 65536]", NULL);
    expect_header_error(v, n, "\"num_layers\":2", "\"num_layers\":1000", "missing tensor 'layers.2.", NULL);
    expect_header_error(v, n, "\"vocab_size\":300", "\"vocab_size\":10000000", "tokenizer has 300 ids", "10000000");
    /* tensors the config does not use: not a partly loaded model */
    expect_header_error(v, n, "\"num_layers\":2", "\"num_layers\":1", "'layers.1.", "not part of the model");
    /* the limits, named in the messages */
    expect_header_error(v, n, "\"intermediate_dim\":256", "\"intermediate_dim\":2000000", "[1, 1048576]", NULL);
    expect_header_error(v, n, "\"hidden_dim\":64", "\"hidden_dim\":65540", "[4, 65536]", NULL);
    expect_header_error(v, n, "\"num_layers\":2", "\"num_layers\":1025", "[1, 1024]", NULL);
    free(v);
}

/* hostile input: a model whose vocab_size is above its tokenizer's ids does not
 * load (the sampler could pick ids that have no text) */
static void test_vocab_above_tokenizer(void) {
    BittError err;
    uint8_t *v;
    size_t n;
    Tokenizer *tok = tokenizer_make_synthetic(300, &err);
    ModelConfig cfg;
    config_init(&cfg, 301, 32, 1, TTT_NONE);
    Model *big = tok ? model_alloc(&cfg, tok, &err) : NULL;
    CHECK(big != NULL);
    if (!big) return;
    model_init_random(big, 1);
    CHECK(model_finish_load(big, &err) == 0);
    CHECK(model_save_bitt_memory(big, 1, &v, &n, &err) == 0);
    model_free(big);
    expect_load_error(v, n, "tokenizer has 300 ids but the model's vocab_size is 301", NULL);
    free(v);
}

/* ---- state files ---- */

/* The state file buf with token_count set to count and, when patch is
 * given, element 0 of that tensor set to value. */
static uint8_t *rewrite_state(const uint8_t *buf, size_t len, const char *count, const char *patch, float value,
                              size_t *out_len) {
    SafeTensors st;
    BittError err;
    if (safetensors_parse(buf, len, "s", &st, &err) != 0) return NULL;
    StWriter w;
    st_writer_init(&w);
    const JsonValue *meta = st.metadata;
    for (size_t i = 0; meta && i < meta->u.object.count; i++) {
        const JsonMember *mm = &meta->u.object.members[i];
        st_writer_meta(&w, mm->key, strcmp(mm->key, "token_count") == 0 ? count : mm->value.u.string.ptr, &err);
    }
    for (int i = 0; i < st.count; i++) {
        const StTensor *t = &st.tensors[i];
        if (patch && strcmp(t->name, patch) == 0) {
            uint8_t *copy = malloc(t->nbytes);
            memcpy(copy, t->data, t->nbytes);
            memcpy(copy, &value, 4);
            st_writer_add_owned(&w, t->name, t->dtype, t->ndim, t->shape, copy, &err);
        } else {
            st_writer_add(&w, t->name, t->dtype, t->ndim, t->shape, t->data, &err);
        }
    }
    uint8_t *out = NULL;
    if (st_writer_to_memory(&w, 0, 8, &out, out_len, &err) != 0) out = NULL;
    st_writer_free(&w);
    safetensors_free(&st);
    return out;
}

static int state_loads(Session *s, const Model *m, const uint8_t *buf, size_t len, const char *count,
                       const char *patch, float value, BittError *err) {
    size_t n;
    uint8_t *c = rewrite_state(buf, len, count, patch, value, &n);
    if (!c) return bitt_fail(err, "rewrite failed");
    const int rc = state_load_memory(&s->state, m, c, n, "x.state", err);
    free(c);
    return rc;
}

/* A model, a session that has read 15 tokens (position 15 of mini-batch 16)
 * and its saved state; 0 on success. */
static int state_setup(Model **m, Session *s, uint8_t **buf, size_t *len) {
    BittError err;
    int32_t ids[15];
    *m = make_random_model(300, 64, 2, TTT_LINEAR, 1, 16, 4);
    if (!*m) return -1;
    make_ids(ids, 15, 300, 1);
    if (session_init(s, *m, &err) != 0 || session_forward(s, ids, 15, NULL, 0, &err) != 0 ||
        state_save_memory(&s->state, *m, buf, len, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    return 0;
}

/* hostile input: NaN / infinity in a state file (the final hidden row fed the sampler) */
static void test_state_nonfinite(void) {
    BittError err;
    Model *m;
    Session s;
    uint8_t *buf;
    size_t len;
    CHECK(state_setup(&m, &s, &buf, &len) == 0);
    if (!m) return;
    CHECK_MSG(state_loads(&s, m, buf, len, "15", NULL, 0, &err) == 0, "%s", err.message);
    CHECK(state_loads(&s, m, buf, len, "15", "final_hidden", INFINITY, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "'final_hidden' holds infinity");
    CHECK(state_loads(&s, m, buf, len, "15", "layers.0.ttt.Ws", NAN, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "'layers.0.ttt.Ws' holds NaN");
    CHECK(state_loads(&s, m, buf, len, "15", "layers.1.ttt.A", -INFINITY, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "x.state");
    free(buf);
    session_free(&s);
    model_free(m);
}

/* hostile input: counts past 2^53 (2^63 - 1 loaded, and the next token
 * overflowed int64), saturated strtoll results, signs and spaces */
static void test_state_token_count(void) {
    BittError err;
    Model *m;
    Session s;
    uint8_t *buf;
    size_t len;
    int32_t id = 5;
    CHECK(state_setup(&m, &s, &buf, &len) == 0);
    if (!m) return;
    CHECK_MSG(state_loads(&s, m, buf, len, "15", NULL, 0, &err) == 0, "%s", err.message);
    const char *bad[] = {"9223372036854775807", "99999999999999999999", "9007199254740993", "+15", " 15", "15 ", "",
                         "-1", "0x0f"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_MSG(state_loads(&s, m, buf, len, bad[i], NULL, 0, &err) != 0, "token_count '%s' loaded", bad[i]);
        CHECK_ERR_CONTAINS(&err, "token_count");
        CHECK_ERR_CONTAINS(&err, "x.state");
    }
    CHECK(s.state.token_count == 15); /* refused loads leave the state alone */
    /* the largest count loads; the session then stops at 2^53 */
    CHECK_MSG(state_loads(&s, m, buf, len, "9007199254740991", NULL, 0, &err) == 0, "%s", err.message);
    CHECK(session_forward(&s, &id, 1, NULL, 0, &err) == 0 && s.state.token_count == STATE_MAX_TOKENS);
    CHECK(session_forward(&s, &id, 1, NULL, 0, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "at most 9007199254740992");
    CHECK(s.state.token_count == STATE_MAX_TOKENS);
    free(buf);
    session_free(&s);
    model_free(m);
}

/* JSON nested a million deep: refused at JSON_MAX_DEPTH, no deep recursion. */
static void test_deep_json(void) {
    const size_t depth = 1000000;
    char *text = malloc(depth);
    memset(text, '[', depth);
    BittError err;
    JsonDoc *doc = json_parse(text, depth, "deep.json", &err);
    CHECK(doc == NULL);
    CHECK_ERR_CONTAINS(&err, "nesting deeper than");
    json_doc_free(doc);
    free(text);
}

/* With an argument, runs only the test of that name (e.g. to see one fail). */
int main(int argc, char **argv) {
    static const struct { const char *name; void (*fn)(void); } tests[] = {
        {"test_header_numbers", test_header_numbers},
        {"test_layouts", test_layouts},
        {"test_many_tensors", test_many_tensors},
        {"test_nonfinite_weights", test_nonfinite_weights},
        {"test_config_against_tensors", test_config_against_tensors},
        {"test_vocab_above_tokenizer", test_vocab_above_tokenizer},
        {"test_state_nonfinite", test_state_nonfinite},
        {"test_state_token_count", test_state_token_count},
        {"test_deep_json", test_deep_json},
    };
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
        if (argc < 2 || strcmp(argv[1], tests[i].name) == 0) tests[i].fn();
    return test_main_end("test_hostile_files");
}
