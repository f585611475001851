/* test_bad_model_files.c: every reader of model files answers bad input
 * with an error naming the file and the problem, never a crash: the
 * safetensors reader, the .bitt reader (v1 and v2), the config reader and
 * checkpoint directories. Run under ASan/UBSan to catch over-reads. */
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

int main(void) {
    check_bitt_reader();
    check_forget_gate_tensors();
    check_safetensors_reader();
    check_checkpoint_dir();
    return test_main_end("test_bad_model_files");
}
