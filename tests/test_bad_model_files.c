/* test_bad_model_files.c: every reader of model files answers bad input
 * with an error naming the file and the problem, never a crash: the
 * safetensors reader, the .bitt reader (v1 and v2, with F16 or I8
 * embeddings), the config reader and checkpoint directories. Run under ASan/UBSan to catch over-reads. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model_file.h"
#include "test_model_util.h"
#include "test_util.h"
#include "util/fileio.h"

static uint8_t *copy_of(const uint8_t *buf, size_t len) {
    uint8_t *c = malloc(len ? len : 1); /* exactly sized: ASan sees any over-read */
    memcpy(c, buf, len);
    return c;
}

/* Replaces the first occurrence of `from` by `to` (same length); 1 if found. */
static int patch(uint8_t *buf, size_t len, const char *from, const char *to) {
    size_t n = strlen(from);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, from, n) == 0) {
            memcpy(buf + i, to, n);
            return 1;
        }
    return 0;
}

static void expect_bitt_error(const uint8_t *buf, size_t len, const char *needle, const char *what) {
    BittError err = {{0}};
    uint8_t *c = copy_of(buf, len);
    Model *m = model_load_bitt_memory(c, len, "bad.bitt", 0, &err);
    CHECK_MSG(m == NULL, "%s: loaded", what);
    model_free(m);
    CHECK_MSG(strstr(err.message, "bad.bitt") != NULL, "%s: message lacks the file: %s", what, err.message);
    CHECK_MSG(strstr(err.message, needle) != NULL, "%s: message \"%s\" lacks \"%s\"", what, err.message, needle);
    free(c);
    /* the lean load (what model_load does with a mapped file) refuses it the same way */
    FileView *v = malloc(sizeof *v);
    *v = (FileView){copy_of(buf, len), len, 0};
    BittError lean_err = {{0}};
    m = model_load_bitt_view(v, "bad.bitt", &lean_err); /* owns v */
    CHECK_MSG(m == NULL, "%s: loaded lean", what);
    model_free(m);
    CHECK_MSG(strstr(lean_err.message, "bad.bitt") != NULL && strstr(lean_err.message, needle) != NULL,
              "%s: the lean load's message \"%s\" lacks the file or \"%s\"", what, lean_err.message, needle);
}

static void check_bitt_reader(void) {
    BittError err;
    Model *m = make_random_model(300, 64, 2, TTT_LINEAR, 1, 16, 3);
    uint8_t *v1, *v2;
    size_t n1, n2;
    CHECK(model_save_bitt_memory(m, 1, &v1, &n1, &err) == 0);
    CHECK(model_save_bitt_memory(m, 2, &v2, &n2, &err) == 0);
    model_free(m);
    /* truncated anywhere */
    size_t cuts[] = {0, 3, 4, 11, 12, 13, 40, n1 / 3, n1 / 2, n1 - 100, n1 - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        BittError e = {{0}};
        uint8_t *c = copy_of(v1, cuts[i]);
        Model *bad = model_load_bitt_memory(c, cuts[i], "cut.bitt", 0, &e);
        CHECK_MSG(bad == NULL && strstr(e.message, "cut.bitt"), "cut at %zu: %s", cuts[i], e.message);
        model_free(bad);
        free(c);
    }
    for (size_t cut = 0; cut < n2; cut += n2 / 97 + 1) { /* v2, many cut points */
        BittError e = {{0}};
        uint8_t *c = copy_of(v2, cut);
        Model *bad = model_load_bitt_memory(c, cut, "cut.bitt", 0, &e);
        CHECK(bad == NULL);
        model_free(bad);
        free(c);
    }
    uint8_t *c = copy_of(v1, n1);
    memcpy(c, "BITX", 4);
    expect_bitt_error(c, n1, "wrong magic", "wrong magic");
    memcpy(c, v1, n1);
    memset(c + 4, 0xff, 8);
    expect_bitt_error(c, n1, "past the end", "header length past the end");
    memcpy(c, v1, n1);
    CHECK(patch(c, n1, "{\"bitt_version\"", "[\"bitt_version\""));
    expect_bitt_error(c, n1, "JSON error", "malformed header JSON");
    memcpy(c, v1, n1);
    CHECK(patch(c, n1, "\"bitt_version\":1", "\"bitt_version\":7"));
    expect_bitt_error(c, n1, "bitt_version", "unknown version");
    memcpy(c, v1, n1);
    CHECK(patch(c, n1, "\"ttt_variant\":\"linear\"", "\"ttt_variant\":\"lineax\""));
    expect_bitt_error(c, n1, "unknown ttt_variant 'lineax'", "unknown variant");
    memcpy(c, v1, n1);
    CHECK(patch(c, n1, "\"num_layers\":2", "\"num_layers\":3"));
    expect_bitt_error(c, n1, "missing tensor 'layers.2.", "missing tensors");
    memcpy(c, v1, n1);
    CHECK(patch(c, n1, "\"hidden_dim\":64", "\"hidden_dim\":68"));
    expect_bitt_error(c, n1, "shape", "wrong shape");
    memcpy(c, v1, n1);
    CHECK(patch(c, n1, "\"config\"", "\"cOnfig\""));
    expect_bitt_error(c, n1, "no \"config\"", "no config");
    memcpy(c, v1, n1);
    CHECK(patch(c, n1, "\"model\":{\"type\":\"BPE\"", "\"model\":{\"type\":\"XPE\""));
    expect_bitt_error(c, n1, "XPE", "tokenizer model type");
    memcpy(c, v1, n1);
    CHECK(patch(c, n1, "\"norm_f.weight\":{\"dtype\":\"F32\"", "\"norm_f.weight\":{\"dtype\":\"I32\""));
    expect_bitt_error(c, n1, "dtype I32", "wrong dtype");
    memcpy(c, v1, n1);
    CHECK(patch(c, n1, "\"norm_f.weight\"", "\"norm_g.weight\""));
    expect_bitt_error(c, n1, "missing tensor 'norm_f.weight'", "missing tensor");
    memcpy(c, v1, n1);
    CHECK(patch(c, n1, "\"vocab_size\":300", "\"vocab_size\":299"));
    expect_bitt_error(c, n1, "vocab", "tokenizer larger than the model");
    free(c);
    /* v2: an invalid 2-bit code; a NaN scale */
    c = copy_of(v2, n2);
    SafeTensors st;
    uint64_t h = 0;
    for (int i = 11; i >= 4; i--) h = (h << 8) | v2[i];
    CHECK(safetensors_parse(c + 12 + h, n2 - 12 - h, "v2", &st, &err) == 0);
    const StTensor *t = safetensors_find(&st, "layers.1.mlp.up_proj.weight");
    CHECK(t != NULL && t->dtype == ST_U8);
    if (t) ((uint8_t *)t->data)[5] = 0xff;
    const StTensor *sc = safetensors_find(&st, "layers.0.ttt.k.weight_scale");
    safetensors_free(&st);
    expect_bitt_error(c, n2, "invalid 2-bit code 3", "code 3");
    memcpy(c, v2, n2);
    CHECK(sc != NULL);
    CHECK(safetensors_parse(c + 12 + h, n2 - 12 - h, "v2", &st, &err) == 0);
    sc = safetensors_find(&st, "layers.0.ttt.k.weight_scale");
    if (sc) memcpy((uint8_t *)sc->data, "\x00\x00\xc0\x7f", 4); /* NaN */
    safetensors_free(&st);
    expect_bitt_error(c, n2, "scale", "NaN scale");
    free(c);
    free(v1);
    free(v2);
}

static void expect_st_error(const char *text_header, size_t data_len, const char *needle) {
    size_t hl = strlen(text_header), len = 8 + hl + data_len;
    uint8_t *buf = calloc(1, len);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, text_header, hl);
    uint8_t *c = copy_of(buf, len);
    SafeTensors st;
    BittError err = {{0}};
    CHECK_MSG(safetensors_parse(c, len, "x.safetensors", &st, &err) != 0, "parsed: %s", text_header);
    CHECK_MSG(strstr(err.message, "x.safetensors") && strstr(err.message, needle),
              "\"%s\" lacks \"%s\" for %s", err.message, needle, text_header);
    free(c);
    free(buf);
}

static void check_safetensors_reader(void) {
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "past the end");
    expect_st_error("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype");
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "do not match");
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "bad shape");
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "bad data_offsets");
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets");
    expect_st_error("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "missing dtype");
    expect_st_error("{\"a\":5}", 8, "not an object");
    expect_st_error("[1,2]", 8, "not a JSON object");
    expect_st_error("{\"a\":", 8, "JSON error");
    expect_st_error("{\"__metadata__\":[1]}", 0, "__metadata__");
    expect_st_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                    "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "twice");
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,2,3,4,5,6,7,8,9],\"data_offsets\":[0,8]}}", 8, "dimensions");
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4000000000000,4000000000000],\"data_offsets\":[0,8]}}", 8, "shape");
    /* length field past the end, and too short */
    uint8_t tiny[8] = {0xff, 0xff, 0, 0, 0, 0, 0, 0};
    SafeTensors st;
    BittError err;
    CHECK(safetensors_parse(tiny, 8, "t.safetensors", &st, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "past the end");
    CHECK(safetensors_parse(tiny, 5, "t.safetensors", &st, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "too short");
    /* a valid one with metadata reads back */
    const char *ok = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t hl = strlen(ok);
    uint8_t buf[200] = {0};
    buf[0] = (uint8_t)hl;
    memcpy(buf + 8, ok, hl);
    CHECK(safetensors_parse(buf, 8 + hl + 8, "ok", &st, &err) == 0);
    CHECK(st.count == 1 && safetensors_meta(&st, "k") && strcmp(safetensors_meta(&st, "k"), "v") == 0);
    safetensors_free(&st);
}

static void write_text(const char *path, const char *text) {
    const void *parts[1] = {text};
    size_t len = strlen(text);
    BittError err;
    CHECK(file_write_atomic(path, parts, &len, 1, &err) == 0);
}

static void check_checkpoint_dir(void) {
    BittError err;
    Model *m = make_random_model(300, 64, 1, TTT_LINEAR, 1, 16, 3);
    CHECK(model_save_checkpoint(m, "bad_ckpt", &err) == 0);
    model_free(m);
    Model *ok = model_load("bad_ckpt", 0, &err);
    CHECK(ok != NULL);
    model_free(ok);
    write_text("bad_ckpt/config.json", "{\"vocab_size\": 300, \"hidden_dim\": 64,");
    CHECK(model_load("bad_ckpt", 0, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "bad_ckpt/config.json");
    CHECK_ERR_CONTAINS(&err, "JSON error");
    write_text("bad_ckpt/config.json", "{\"vocab_size\": 300, \"hidden_dim\": 64, \"num_layers\": 1, \"ttt_variant\": \"bogus\"}");
    CHECK(model_load("bad_ckpt", 0, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "bogus");
    write_text("bad_ckpt/config.json", "{\"vocab_size\": 300, \"hidden_dim\": 64, \"num_layers\": 1, \"num_heads\": 5, \"ttt_variant\": \"linear\"}");
    CHECK(model_load("bad_ckpt", 0, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "num_heads");
    write_text("bad_ckpt/config.json", "{\"vocab_size\": 300.5, \"hidden_dim\": 64, \"num_layers\": 1}");
    CHECK(model_load("bad_ckpt", 0, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "vocab_size");
    write_text("bad_ckpt/config.json", "{\"vocab_size\": 300, \"hidden_dim\": 64, \"num_layers\": 1, \"act_quant\": \"int4\"}");
    CHECK(model_load("bad_ckpt", 0, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "act_quant");
    /* state_decay (docs/TTT_MEMORY.md) must be a number in (0, 1] */
    const char *bad_decays[] = {"1.5", "0", "-0.2", "\"0.9\""};
    for (int i = 0; i < 4; i++) {
        char cfg[200];
        snprintf(cfg, sizeof cfg, "{\"vocab_size\": 300, \"hidden_dim\": 64, \"num_layers\": 1, "
                 "\"ttt_variant\": \"linear\", \"state_decay\": %s}", bad_decays[i]);
        write_text("bad_ckpt/config.json", cfg);
        CHECK(model_load("bad_ckpt", 0, &err) == NULL);
        CHECK_ERR_CONTAINS(&err, "state_decay");
    }
    /* the forget gate (SPEC 1.2.1): a boolean, linear only, not with a fixed state_decay < 1,
     * and a gated config needs the gate's tensors (this checkpoint has none) */
    const struct { const char *extra, *want; } bad_gates[] = {
        {"\"ttt_variant\": \"linear\", \"forget_gate\": \"yes\"", "forget_gate must be true or false"},
        {"\"ttt_variant\": \"linear\", \"forget_gate\": 1", "forget_gate must be true or false"},
        {"\"ttt_variant\": \"seed\", \"forget_gate\": true", "linear only"},
        {"\"ttt_variant\": \"linear\", \"forget_gate\": true, \"state_decay\": 0.9", "not combined"},
        {"\"ttt_variant\": \"linear\", \"forget_gate\": true", "layers.0.ttt.forget.weight"},
    };
    for (size_t i = 0; i < sizeof bad_gates / sizeof *bad_gates; i++) {
        char cfg[300];
        snprintf(cfg, sizeof cfg, "{\"vocab_size\": 300, \"hidden_dim\": 64, \"num_layers\": 1, \"num_heads\": 4, %s}",
                 bad_gates[i].extra);
        write_text("bad_ckpt/config.json", cfg);
        CHECK(model_load("bad_ckpt", 0, &err) == NULL);
        CHECK_ERR_CONTAINS(&err, bad_gates[i].want);
    }
    /* a seed-style config (4 keys) means variant seed: the linear tensors do not fit it */
    write_text("bad_ckpt/config.json", "{\"vocab_size\": 300, \"hidden_dim\": 64, \"num_layers\": 1, \"inner_lr\": 0.1}");
    CHECK(model_load("bad_ckpt", 0, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "ttt.down.weight");
    remove("bad_ckpt/model.safetensors");
    CHECK(model_load("bad_ckpt", 0, &err) == NULL);
    remove("bad_ckpt/config.json");
    CHECK(model_load("bad_ckpt", 0, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "config.json");
    CHECK(model_load("no_such_model.bitt", 0, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "no_such_model.bitt");
    remove("bad_ckpt/tokenizer.json");
    rmdir("bad_ckpt");
}

/* A gated model whose files lack the gate's tensors or hold them in the
 * wrong shape is refused with the tensor's name; without the key the same
 * files are a gate-less model (older files load unchanged). */
static void check_forget_gate_tensors(void) {
    BittError err;
    Model *m = make_random_model_gated(300, 64, 1, TTT_LINEAR, 1, 16, 5, 1);
    CHECK(m != NULL);
    CHECK(model_save_checkpoint(m, "gate_ckpt", &err) == 0);
    model_free(m);
    Model *ok = model_load("gate_ckpt", 0, &err);
    CHECK(ok != NULL && ok->cfg.forget_gate);
    model_free(ok);
    /* forget.bias [H] saved as [H + 1]: rewrite model.safetensors with one tensor changed */
    Model *src = make_random_model_gated(300, 64, 1, TTT_LINEAR, 1, 16, 5, 1);
    StWriter w;
    st_writer_init(&w);
    int rc = 0;
    for (int i = 0; i < src->n_params && !rc; i++) {
        const ParamRef *p = &src->params[i];
        if (p->spec.field == PF_TTT_FORGET_B) {
            const int64_t shape = p->spec.shape[0] + 1;
            rc = st_writer_add_owned(&w, p->spec.name, ST_F32, 1, &shape, calloc((size_t)shape, sizeof(float)), &err);
        } else if (p->spec.kind == PARAM_BITLINEAR) {
            float *lat = malloc(p->spec.count * sizeof(float));
            bitlinear_dequantize(&p->bl->q, lat);
            rc = st_writer_add_owned(&w, p->spec.name, ST_F32, p->spec.ndim, p->spec.shape, lat, &err);
        } else {
            rc = st_writer_add(&w, p->spec.name, ST_F32, p->spec.ndim, p->spec.shape, p->f32, &err);
        }
    }
    CHECK(rc == 0 && st_writer_save(&w, "gate_ckpt/model.safetensors", &err) == 0);
    st_writer_free(&w);
    model_free(src);
    CHECK(model_load("gate_ckpt", 0, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "layers.0.ttt.forget.bias");
    /* the gated config over a gate-less checkpoint is refused (check_checkpoint_dir), and the
     * gate's tensors in a gate-less config are ignored no more than any stray tensor */
    remove("gate_ckpt/config.json");
    remove("gate_ckpt/tokenizer.json");
    remove("gate_ckpt/model.safetensors");
    rmdir("gate_ckpt");
}

/* good (a .bitt v2) with its tensors rewritten: `name` dropped (data NULL) or
 * replaced by (dt, ndim, shape, data), or added when good lacks it. The JSON
 * header is kept byte for byte. */
static uint8_t *bitt_edit(const uint8_t *good, size_t good_len, const char *name, StDtype dt, int ndim,
                          const int64_t *shape, const void *data, size_t *len) {
    BittError err;
    uint64_t h = 0;
    for (int i = 11; i >= 4; i--) h = (h << 8) | good[i];
    SafeTensors st;
    CHECK(safetensors_parse(good + 12 + h, good_len - 12 - (size_t)h, "good.bitt", &st, &err) == 0);
    StWriter w;
    st_writer_init(&w);
    int found = 0;
    for (int i = 0; i < st.count; i++) {
        const StTensor *t = &st.tensors[i];
        if (strcmp(t->name, name) == 0) {
            found = 1;
            if (data) CHECK(st_writer_add(&w, name, dt, ndim, shape, data, &err) == 0);
        } else {
            CHECK(st_writer_add(&w, t->name, t->dtype, t->ndim, t->shape, t->data, &err) == 0);
        }
    }
    if (!found && data) CHECK(st_writer_add(&w, name, dt, ndim, shape, data, &err) == 0);
    uint8_t *sb = NULL;
    size_t sl = 0;
    CHECK(st_writer_to_memory(&w, 12 + (size_t)h, 64, &sb, &sl, &err) == 0);
    st_writer_free(&w);
    safetensors_free(&st);
    *len = 12 + (size_t)h + sl;
    uint8_t *out = malloc(*len);
    memcpy(out, good, 12 + (size_t)h);
    memcpy(out + 12 + h, sb, sl);
    free(sb);
    return out;
}

static void expect_edit_error(const uint8_t *good, size_t good_len, const char *name, StDtype dt, int ndim,
                              const int64_t *shape, const void *data, const char *needle, const char *what) {
    size_t len;
    uint8_t *bad = bitt_edit(good, good_len, name, dt, ndim, shape, data, &len);
    expect_bitt_error(bad, len, needle, what);
    free(bad);
}

/* I8 embed / lm_head (SPEC 3.3: NAME I8 [V, D] + NAME_row_scale F32 [V]):
 * every way of getting them wrong is refused with the file and the tensor. */
static void check_i8_tensors(void) {
    BittError err;
    enum { V = 300, D = 64 };
    Model *m = make_random_model(V, D, 1, TTT_LINEAR, 1, 16, 7);
    uint8_t *i8, *f16;
    size_t n8, n16;
    CHECK(model_save_bitt_memory_as(m, 2, BITT_EMBED_I8, &i8, &n8, &err) == 0);
    CHECK(model_save_bitt_memory_as(m, 2, BITT_EMBED_F16, &f16, &n16, &err) == 0);
    Model *ok = model_load_bitt_memory(i8, n8, "good.bitt", 0, &err);
    CHECK_MSG(ok && ok->embed_i8 && !ok->embed && ok->lm_head_i8 && !ok->lm_head, "%s", ok ? "" : err.message);
    model_free(ok);
    const int64_t vd[2] = {V, D}, vd1[2] = {V, D + 1}, v = V, v1 = V + 1, d = D;
    float *scales = malloc((V + 1) * sizeof(float));
    for (int i = 0; i <= V; i++) scales[i] = 0.01f;
    int8_t *rows = calloc((size_t)V * (D + 1), 1);
    uint16_t *half_scales = calloc(V, 2);
    expect_edit_error(i8, n8, "embed.weight_row_scale", ST_F32, 0, NULL, NULL, "embed.weight_row_scale",
                      "missing row scale");
    expect_edit_error(i8, n8, "lm_head.weight_row_scale", ST_F32, 1, &v1, scales, "lm_head.weight_row_scale",
                      "row scale [V + 1]");
    expect_edit_error(i8, n8, "embed.weight_row_scale", ST_F16, 1, &v, half_scales, "embed.weight_row_scale",
                      "F16 row scale");
    scales[17] = NAN;
    expect_edit_error(i8, n8, "embed.weight_row_scale", ST_F32, 1, &v, scales, "NaN", "NaN row scale");
    scales[17] = INFINITY;
    expect_edit_error(i8, n8, "lm_head.weight_row_scale", ST_F32, 1, &v, scales, "lm_head.weight_row_scale",
                      "infinite row scale");
    scales[17] = -0.5f;
    expect_edit_error(i8, n8, "embed.weight_row_scale", ST_F32, 1, &v, scales, "embed.weight_row_scale",
                      "negative row scale");
    scales[17] = 1e37f; /* finite, but 127 x 1e37 is not: its float conversion (v1, F16) would be infinite */
    expect_edit_error(i8, n8, "lm_head.weight_row_scale", ST_F32, 1, &v, scales, "127 x scale", "row scale x 127 overflows");
    scales[17] = 0.01f;
    expect_edit_error(i8, n8, "embed.weight", ST_I8, 2, vd1, rows, "embed.weight", "I8 rows [V, D + 1]");
    rows[5 * D + 9] = -128;
    expect_edit_error(i8, n8, "lm_head.weight", ST_I8, 2, vd, rows, "-128", "an int8 of -128");
    /* I8 where the format has none: another tensor, a v1 file, a checkpoint */
    expect_edit_error(i8, n8, "norm_f.weight", ST_I8, 1, &d, rows, "norm_f.weight", "I8 norm_f");
    const int64_t id[2] = {4 * D, D};
    int8_t *big = calloc(4 * D, D);
    expect_edit_error(i8, n8, "layers.0.mlp.up_proj.weight", ST_I8, 2, id, big, "layers.0.mlp.up_proj.weight",
                      "I8 BitLinear");
    free(big);
    uint8_t *v1file = copy_of(i8, n8);
    CHECK(patch(v1file, n8, "\"bitt_version\":2", "\"bitt_version\":1"));
    expect_bitt_error(v1file, n8, "only .bitt version 2", "I8 in a v1 file");
    expect_bitt_error(v1file, n8, "embed.weight", "I8 in a v1 file names the tensor");
    free(v1file);
    /* a row scale without its I8 rows: beside F16, or with the rows gone */
    expect_edit_error(f16, n16, "embed.weight_row_scale", ST_F32, 1, &v, scales, "embed.weight_row_scale",
                      "row scale beside F16");
    expect_edit_error(f16, n16, "lm_head.weight_row_scale", ST_F32, 1, &v, scales, "not I8 rows",
                      "row scale beside F16 says why");
    expect_edit_error(i8, n8, "embed.weight", ST_I8, 0, NULL, NULL, "embed.weight", "rows gone, scale left");
    /* a checkpoint directory holding I8 rows */
    CHECK(model_save_checkpoint(m, "i8_ckpt", &err) == 0);
    StWriter w;
    st_writer_init(&w);
    int rc = 0;
    Int8Matrix *q = int8_rows_alloc(V, D);
    int8_rows_quantize(m->embed, q);
    for (int i = 0; i < m->n_params && !rc; i++) {
        const ParamRef *p = &m->params[i];
        if (p->spec.field == PF_EMBED) {
            rc = st_writer_add(&w, p->spec.name, ST_I8, 2, vd, q->w, &err) != 0 ||
                 st_writer_add(&w, "embed.weight_row_scale", ST_F32, 1, &v, q->row_scale, &err) != 0;
        } else if (p->spec.kind == PARAM_BITLINEAR) {
            float *lat = malloc(p->spec.count * sizeof(float));
            bitlinear_dequantize(&p->bl->q, lat);
            rc = st_writer_add_owned(&w, p->spec.name, ST_F32, p->spec.ndim, p->spec.shape, lat, &err);
        } else {
            rc = st_writer_add(&w, p->spec.name, ST_F32, p->spec.ndim, p->spec.shape, p->f32, &err);
        }
    }
    CHECK(rc == 0 && st_writer_save(&w, "i8_ckpt/model.safetensors", &err) == 0);
    st_writer_free(&w);
    int8_rows_free(q);
    CHECK(model_load("i8_ckpt", 0, &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "i8_ckpt/model.safetensors");
    CHECK_ERR_CONTAINS(&err, "'embed.weight' is I8");
    CHECK_ERR_CONTAINS(&err, "a checkpoint");
    remove("i8_ckpt/config.json");
    remove("i8_ckpt/tokenizer.json");
    remove("i8_ckpt/model.safetensors");
    rmdir("i8_ckpt");
    free(scales);
    free(rows);
    free(half_scales);
    free(i8);
    free(f16);
    model_free(m);
}

int main(void) {
    check_bitt_reader();
    check_forget_gate_tensors();
    check_i8_tensors();
    check_safetensors_reader();
    check_checkpoint_dir();
    return test_main_end("test_bad_model_files");
}
