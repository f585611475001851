/* fuzz_checkpoint.c: libFuzzer harness of a checkpoint directory's model
 * (SPEC 3.1): config.json and model.safetensors as bytes, with a fixed
 * synthetic tokenizer of FUZZ_VOCAB ids (the tokenizer has its own
 * harnesses), through model_from_checkpoint_parts, which model_load uses for
 * a directory. Input: u32 LE length n, n bytes of config.json, then the
 * safetensors file (fuzz_split). A model that loads runs and converts. */
#include "fuzz_util.h"

#include "api/bitt_internal.h"
#include "formats/json.h"
#include "formats/safetensors.h"

static Tokenizer *fixed_tokenizer(void) {
    BittError err;
    static char *json; /* the synthetic tokenizer's JSON, made once: each model takes its own copy */
    static size_t len;
    if (!json) {
        Tokenizer *t = tokenizer_make_synthetic(FUZZ_VOCAB, &err);
        JsonWriter w;
        if (!t) abort();
        jw_init(&w, 0);
        tokenizer_write_json(t, &w);
        len = strlen(jw_text(&w));
        json = malloc(len);
        memcpy(json, jw_text(&w), len);
        jw_free(&w);
        tokenizer_free(t);
    }
    JsonDoc *doc = json_parse(json, len, "tokenizer.json", &err);
    if (!doc) abort();
    Tokenizer *tok = tokenizer_from_json(json_doc_root(doc), "tokenizer.json", &err);
    json_doc_free(doc);
    if (!tok) abort();
    return tok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    bitt_set_threads(1);
    tokenizer_free(fixed_tokenizer());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *cfg_bytes, *st_bytes;
    size_t cfg_len, st_len;
    BittError err = {0};
    SafeTensors st;
    fuzz_split(data, size, &cfg_bytes, &cfg_len, &st_bytes, &st_len);
    char *cfg = malloc(cfg_len ? cfg_len : 1);
    uint8_t *stb = malloc(st_len ? st_len : 1);
    if (!cfg || !stb) {
        free(cfg);
        free(stb);
        return 0;
    }
    memcpy(cfg, cfg_bytes, cfg_len);
    memcpy(stb, st_bytes, st_len);
    JsonDoc *doc = json_parse(cfg, cfg_len, "config.json", &err);
    Model *m = NULL;
    if (doc && safetensors_parse(stb, st_len, "model.safetensors", &st, &err) == 0) {
        m = model_from_checkpoint_parts(json_doc_root(doc), "config.json", fixed_tokenizer(), &st, (int)(size & 1),
                                        &err);
        safetensors_free(&st);
    }
    json_doc_free(doc);
    free(cfg);
    free(stb); /* the model must not point into the file's bytes */
    if (!m) { /* config.json, model.safetensors, or (for a mismatch) either */
        FUZZ_CHECK(strstr(err.message, "config.json") || strstr(err.message, "model.safetensors"),
                   "the error names neither file: %s", err.message);
        return 0;
    }
    bitt_model bm = {m};
    fuzz_use_model(&bm, m);
    model_free(m);
    return 0;
}
