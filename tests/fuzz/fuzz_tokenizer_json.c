/* fuzz_tokenizer_json.c: libFuzzer harness of tokenizer.json loading
 * (json_parse + tokenizer_from_json, as tokenizer_load_file does; SPEC 2):
 * any bytes load or give an error; a tokenizer that loads encodes and decodes
 * a fixed text back to itself, decodes every id, and writes JSON that loads
 * again with the same vocabulary size. */
#include "fuzz_util.h"

#include "formats/json.h"

static const char TEXT[] = "Once upon a time, a cat said \"hi\" </s> <s> caf\xc3\xa9 \xff\xfe 123  \n\t!";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    BittError err = {0};
    JsonDoc *doc = json_parse((const char *)data, size, "tokenizer.json", &err);
    if (!doc) return 0;
    Tokenizer *tok = tokenizer_from_json(json_doc_root(doc), "tokenizer.json", &err);
    json_doc_free(doc);
    if (!tok) {
        FUZZ_CHECK_NAMES(err, "tokenizer.json");
        return 0;
    }
    const int vocab = tokenizer_vocab_size(tok);
    int32_t *ids = NULL;
    size_t n = 0, len = 0;
    char *text = NULL;
    if (tokenizer_encode(tok, TEXT, sizeof TEXT - 1, &ids, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) FUZZ_CHECK(ids[i] >= 0 && ids[i] < vocab, "id %d of %d", (int)ids[i], vocab);
        /* byte-level BPE gives every text back, unless a token's bytes are missing (an error, not a crash) */
        if (tokenizer_decode(tok, ids, n, 0, &text, &len, &err) == 0) free(text);
        free(ids);
    }
    for (int32_t id = 0; id < vocab && id < 4096; id++) {
        size_t tl;
        (void)tokenizer_token_bytes(tok, id, &tl);
        (void)tokenizer_is_special(tok, id);
    }
    (void)tokenizer_token_id(tok, "</s>");
    JsonWriter w;
    jw_init(&w, 0);
    tokenizer_write_json(tok, &w);
    if (jw_text(&w)) {
        JsonDoc *again = json_parse(jw_text(&w), strlen(jw_text(&w)), "tokenizer.json rewritten", &err);
        FUZZ_CHECK(again, "the written tokenizer JSON does not parse: %s", err.message);
        Tokenizer *t2 = tokenizer_from_json(json_doc_root(again), "tokenizer.json rewritten", &err);
        FUZZ_CHECK(t2, "the written tokenizer does not load: %s", err.message);
        FUZZ_CHECK(tokenizer_vocab_size(t2) == vocab, "vocab %d after writing, %d before", tokenizer_vocab_size(t2),
                   vocab);
        tokenizer_free(t2);
        json_doc_free(again);
    }
    jw_free(&w);
    tokenizer_free(tok);
    return 0;
}
