/* fuzz_json.c: libFuzzer harness of the JSON reader (src/formats/json_read.c):
 * any bytes parse or give an error with a message; what parses writes back
 * (json_write.c) to text that parses again to the same text. */
#include "fuzz_util.h"

#include "formats/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    BittError err = {0};
    JsonDoc *doc = json_parse((const char *)data, size, "fuzz.json", &err);
    if (!doc) {
        FUZZ_CHECK_NAMES(err, "fuzz.json");
        return 0;
    }
    const JsonValue *root = json_doc_root(doc);
    JsonWriter w1, w2;
    jw_init(&w1, 0);
    jw_value(&w1, root);
    const char *t1 = jw_text(&w1);
    if (t1) { /* a number that does not fit a double, or out of memory, fails the writer: fine */
        BittError err2 = {0};
        JsonDoc *again = json_parse(t1, strlen(t1), "fuzz.json rewritten", &err2);
        FUZZ_CHECK(again, "the writer's text does not parse: %s", err2.message);
        jw_init(&w2, 2);
        jw_value(&w2, json_doc_root(again));
        const char *t2 = jw_text(&w2);
        FUZZ_CHECK(t2, "the rewritten document does not write");
        /* the indented form reads back to the compact one */
        JsonDoc *third = json_parse(t2, strlen(t2), "fuzz.json indented", &err2);
        FUZZ_CHECK(third, "the indented text does not parse: %s", err2.message);
        JsonWriter w3;
        jw_init(&w3, 0);
        jw_value(&w3, json_doc_root(third));
        FUZZ_CHECK(jw_text(&w3) && strcmp(jw_text(&w3), t1) == 0, "writing is not stable");
        jw_free(&w3);
        json_doc_free(third);
        jw_free(&w2);
        json_doc_free(again);
    }
    jw_free(&w1);
    /* the lookup helpers on whatever came out */
    if (root->type == JSON_OBJECT) {
        double x;
        int64_t i;
        for (size_t k = 0; k < root->u.object.count && k < 8; k++) {
            const char *key = root->u.object.members[k].key;
            (void)json_get(root, key);
            (void)json_get_string(root, key);
            (void)json_get_number(root, key, &x);
            (void)json_get_int(root, key, -5, 1LL << 40, &i);
        }
    }
    json_doc_free(doc);
    return 0;
}
