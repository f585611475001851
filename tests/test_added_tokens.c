/* test_added_tokens.c: the tokenizer's added-token matching and the
 * encoder's edge cases on hostile tokenizers (see the comment of each test).
 * With an argument, runs that test only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/json.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

static Tokenizer *from_text(const char *text, size_t len, BittError *err) {
    JsonDoc *doc = json_parse(text, len, "fixture.json", err);
    Tokenizer *tok;
    if (!doc) return NULL;
    tok = tokenizer_from_json(json_doc_root(doc), "fixture.json", err);
    json_doc_free(doc);
    return tok;
}

#define PRE "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}"

/* issue 22.3: bytes a tokenizer has no token for (and no <unk>) are
 * dropped, without NULL + 0 on the still empty output. */
static void test_dropped_bytes(void) {
    static const char *json =
        "{\"added_tokens\":[],\"normalizer\":null,\"pre_tokenizer\":" PRE ",\"decoder\":null,"
        "\"model\":{\"type\":\"BPE\",\"unk_token\":null,\"vocab\":{\"a\":0},\"merges\":[]}}";
    BittError err;
    Tokenizer *tok = from_text(json, strlen(json), &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (!tok) return;
    int32_t *ids = NULL;
    size_t n = 99;
    /* 'b' has no token and there is no <unk>: it is dropped (the first word
     * of the call, so the output buffer is still NULL); in "b b b" the
     * second " b" comes from the word cache's empty entry */
    CHECK(tokenizer_encode(tok, "b", 1, &ids, &n, &err) == 0 && ids != NULL && n == 0);
    free(ids);
    CHECK(tokenizer_encode(tok, "b b b", 5, &ids, &n, &err) == 0 && n == 0);
    free(ids);
    CHECK(tokenizer_encode(tok, "bab", 3, &ids, &n, &err) == 0 && n == 1 && ids[0] == 0);
    free(ids);
    CHECK(tokenizer_encode(tok, "b a b", 5, &ids, &n, &err) == 0 && n == 1 && ids[0] == 0);
    free(ids);
    tokenizer_free(tok);
}

/* With an argument, runs only the test of that name (e.g. to see one fail). */
int main(int argc, char **argv) {
    static const struct { const char *name; void (*fn)(void); } tests[] = {
        {"test_dropped_bytes", test_dropped_bytes},
    };
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
        if (argc < 2 || strcmp(argv[1], tests[i].name) == 0) tests[i].fn();
    return test_main_end("test_added_tokens");
}
