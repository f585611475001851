/* test_json.c: tests of the JSON reader and writer (src/formats/json.c):
 * value types, escapes, numbers, writer output and round trips, a table of
 * malformed inputs with their error messages, every truncated prefix of a
 * valid document (each in an exactly-sized buffer so ASan sees over-reads),
 * and a deterministic mutation fuzz loop. */
#include <stdint.h>
#include <stdlib.h>

#include "formats/json.h"
#include "test_util.h"

/* Parses a NUL-terminated string (the terminator is not passed). */
static JsonDoc *parse_str(const char *s, BittError *err) {
    return json_parse(s, strlen(s), "test.json", err);
}

/* Deep equality of two parsed values (numbers compared with ==). */
static int values_equal(const JsonValue *a, const JsonValue *b) {
    if (a->type != b->type) return 0;
    switch (a->type) {
    case JSON_NULL: return 1;
    case JSON_BOOL: return a->u.boolean == b->u.boolean;
    case JSON_NUMBER: return a->u.number == b->u.number;
    case JSON_STRING:
        return a->u.string.len == b->u.string.len &&
               memcmp(a->u.string.ptr, b->u.string.ptr, a->u.string.len) == 0;
    case JSON_ARRAY:
        if (a->u.array.count != b->u.array.count) return 0;
        for (size_t i = 0; i < a->u.array.count; i++)
            if (!values_equal(&a->u.array.items[i], &b->u.array.items[i])) return 0;
        return 1;
    case JSON_OBJECT:
        if (a->u.object.count != b->u.object.count) return 0;
        for (size_t i = 0; i < a->u.object.count; i++) {
            const JsonMember *ma = &a->u.object.members[i], *mb = &b->u.object.members[i];
            if (ma->key_len != mb->key_len || memcmp(ma->key, mb->key, ma->key_len) != 0)
                return 0;
            if (!values_equal(&ma->value, &mb->value)) return 0;
        }
        return 1;
    }
    return 0;
}

static void test_value_types(void) {
    BittError err = {{0}};
    JsonDoc *doc = parse_str(
        " {\"n\": null, \"t\": true, \"f\": false, \"i\": 42, \"s\": \"hi\",\n"
        "  \"a\": [1, \"two\", [3], {}], \"o\": {\"x\": {\"y\": []}}, \"n\": 7}\r\n\t",
        &err);
    CHECK_MSG(doc != NULL, "%s", err.message);
    if (!doc) return;
    const JsonValue *root = json_doc_root(doc);
    CHECK(root->type == JSON_OBJECT);
    CHECK(root->u.object.count == 8);
    /* member order is file order */
    const char *order[] = {"n", "t", "f", "i", "s", "a", "o", "n"};
    for (size_t i = 0; i < 8 && i < root->u.object.count; i++)
        CHECK(strcmp(root->u.object.members[i].key, order[i]) == 0);
    /* json_get returns the first of duplicate keys */
    CHECK(json_get(root, "n") && json_get(root, "n")->type == JSON_NULL);
    CHECK(json_get_typed(root, "t", JSON_BOOL) && json_get(root, "t")->u.boolean == 1);
    CHECK(json_get_typed(root, "f", JSON_BOOL) && json_get(root, "f")->u.boolean == 0);
    CHECK(json_get_typed(root, "t", JSON_NUMBER) == NULL);
    CHECK(json_get(root, "missing") == NULL);
    CHECK(json_get(json_get(root, "s"), "x") == NULL); /* not an object */
    CHECK(json_get_string(root, "s") && strcmp(json_get_string(root, "s"), "hi") == 0);
    CHECK(json_get_string(root, "i") == NULL);
    double d = 0;
    CHECK(json_get_number(root, "i", &d) && d == 42.0);
    CHECK(!json_get_number(root, "s", &d));
    int64_t v = 0;
    CHECK(json_get_int(root, "i", 0, 100, &v) && v == 42);
    CHECK(!json_get_int(root, "i", 0, 41, &v));
    CHECK(!json_get_int(root, "i", 43, 100, &v));
    CHECK(!json_get_int(root, "s", 0, 100, &v));
    const JsonValue *a = json_get_typed(root, "a", JSON_ARRAY);
    CHECK(a && a->u.array.count == 4);
    if (a && a->u.array.count == 4) {
        CHECK(a->u.array.items[0].type == JSON_NUMBER && a->u.array.items[0].u.number == 1);
        CHECK(a->u.array.items[1].type == JSON_STRING &&
              strcmp(a->u.array.items[1].u.string.ptr, "two") == 0);
        CHECK(a->u.array.items[2].type == JSON_ARRAY && a->u.array.items[2].u.array.count == 1);
        CHECK(a->u.array.items[3].type == JSON_OBJECT && a->u.array.items[3].u.object.count == 0);
    }
    const JsonValue *y = json_get(json_get(json_get(root, "o"), "x"), "y");
    CHECK(y && y->type == JSON_ARRAY && y->u.array.count == 0);
    json_doc_free(doc);

    /* scalars at the root */
    const char *roots[] = {"null", "true", "false", "0", "\"\"", "[]", "{}", " 5 "};
    JsonType types[] = {JSON_NULL, JSON_BOOL, JSON_BOOL, JSON_NUMBER,
                        JSON_STRING, JSON_ARRAY, JSON_OBJECT, JSON_NUMBER};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        doc = parse_str(roots[i], &err);
        CHECK_MSG(doc && json_doc_root(doc)->type == types[i], "root %s", roots[i]);
        if (doc && types[i] == JSON_STRING)
            CHECK(json_doc_root(doc)->u.string.len == 0 &&
                  json_doc_root(doc)->u.string.ptr[0] == 0);
        json_doc_free(doc);
    }
    json_doc_free(NULL);
}

static void test_int_limits(void) {
    BittError err;
    JsonDoc *doc = parse_str("{\"f\": 1.5, \"big\": 1e19, \"neg\": -9007199254740992, "
                             "\"e\": 2e3, \"m\": -3}", &err);
    CHECK_MSG(doc != NULL, "%s", err.message);
    if (!doc) return;
    const JsonValue *r = json_doc_root(doc);
    int64_t v = 0;
    CHECK(!json_get_int(r, "f", INT64_MIN, INT64_MAX, &v));
    CHECK(!json_get_int(r, "big", INT64_MIN, INT64_MAX, &v)); /* beyond int64 */
    CHECK(json_get_int(r, "neg", INT64_MIN, INT64_MAX, &v) && v == -9007199254740992LL);
    CHECK(json_get_int(r, "e", 0, 2000, &v) && v == 2000);
    CHECK(json_get_int(r, "m", -3, -3, &v) && v == -3);
    json_doc_free(doc);
}

static void test_strings(void) {
    BittError err;
    JsonDoc *doc = parse_str("[\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\", \"\\u0041\\u00e9\\u20AC\","
                             " \"\\ud83d\\ude00\", \"x\\u0000y\","
                             " \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
                             " \"\\uDBFF\\uDFFF\"]",
                             &err);
    CHECK_MSG(doc != NULL, "%s", err.message);
    if (!doc) return;
    const JsonValue *r = json_doc_root(doc);
    CHECK(r->type == JSON_ARRAY && r->u.array.count == 6);
    if (r->u.array.count == 6) {
        const JsonValue *it = r->u.array.items;
        CHECK(it[0].u.string.len == 17 &&
              strcmp(it[0].u.string.ptr, "a\"b\\c/d\be\ff\ng\rh\ti") == 0);
        CHECK(strcmp(it[1].u.string.ptr, "A\xc3\xa9\xe2\x82\xac") == 0);
        CHECK(it[2].u.string.len == 4 && memcmp(it[2].u.string.ptr, "\xF0\x9F\x98\x80", 5) == 0);
        CHECK(it[3].u.string.len == 3 && memcmp(it[3].u.string.ptr, "x\0y", 4) == 0);
        CHECK(strcmp(it[4].u.string.ptr, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0);
        CHECK(strcmp(it[5].u.string.ptr, "\xf4\x8f\xbf\xbf") == 0); /* U+10FFFF */
    }
    json_doc_free(doc);
}

static void test_numbers(void) {
    struct {
        const char *text;
        double want;
    } cases[] = {
        {"0", 0.0},         {"-0", 0.0},        {"7", 7.0},
        {"-123", -123.0},   {"1.5", 1.5},       {"-0.25", -0.25},
        {"1e3", 1000.0},    {"1E+3", 1000.0},   {"2.5e-3", 0.0025},
        {"1e308", 1e308},   {"-1.7976931348623157e308", -1.7976931348623157e308},
        {"1e-400", 0.0}, /* underflow to zero is fine */
        {"123456789012345678901234567890", 1.2345678901234568e29},
    };
    BittError err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        JsonDoc *doc = parse_str(cases[i].text, &err);
        CHECK_MSG(doc != NULL, "%s: %s", cases[i].text, err.message);
        if (!doc) continue;
        const JsonValue *r = json_doc_root(doc);
        CHECK_MSG(r->type == JSON_NUMBER && r->u.number == cases[i].want, "%s -> %.17g",
                  cases[i].text, r->u.number);
        json_doc_free(doc);
    }
    JsonDoc *doc = parse_str("-0.0", &err);
    CHECK(doc && json_doc_root(doc)->u.number == 0.0 && signbit(json_doc_root(doc)->u.number));
    json_doc_free(doc);
    /* a number that ends exactly at the end of the (unterminated) buffer */
    char digits[3] = {'4', '2', '9'};
    doc = json_parse(digits, 2, "buf", &err);
    CHECK(doc && json_doc_root(doc)->u.number == 42.0);
    json_doc_free(doc);
}

/* Writes v with the given indent; returns a malloc'ed copy of the text. */
static char *write_value(const JsonValue *v, int indent) {
    JsonWriter w;
    jw_init(&w, indent);
    jw_value(&w, v);
    const char *t = jw_text(&w);
    char *copy = NULL;
    if (t) {
        copy = malloc(strlen(t) + 1);
        if (copy) memcpy(copy, t, strlen(t) + 1);
    }
    jw_free(&w);
    return copy;
}

static const char *SAMPLE_DOC =
    "{\"name\": \"bit-ttt\", \"version\": 3, \"ratio\": 0.1, \"neg\": -2.5e-7,\n"
    " \"flags\": [true, false, null], \"empty_a\": [], \"empty_o\": {},\n"
    " \"nested\": {\"k\": [[1, 2], {\"z\": \"\\u00e9\\n\\t\\\"q\\\"\\u0001\"}]},\n"
    " \"big\": 1152921504606846976, \"emoji\": \"\\ud83d\\ude00\", \"nul\": \"a\\u0000b\"}";

static void test_writer_round_trip(void) {
    BittError err;
    JsonDoc *doc = parse_str(SAMPLE_DOC, &err);
    CHECK_MSG(doc != NULL, "%s", err.message);
    if (!doc) return;
    for (int indent = 0; indent <= 4; indent += 2) {
        char *text = write_value(json_doc_root(doc), indent);
        CHECK(text != NULL);
        if (!text) continue;
        JsonDoc *again = parse_str(text, &err);
        CHECK_MSG(again != NULL, "indent %d: %s\n%s", indent, err.message, text);
        if (again) {
            CHECK_MSG(values_equal(json_doc_root(doc), json_doc_root(again)), "indent %d", indent);
            /* writing the re-parsed tree gives the same text */
            char *text2 = write_value(json_doc_root(again), indent);
            CHECK(text2 && strcmp(text, text2) == 0);
            free(text2);
        }
        json_doc_free(again);
        free(text);
    }
    json_doc_free(doc);

    /* exact compact and indented text of a small document */
    doc = parse_str("{ \"a\" : [1, 2.5, \"x\\u0001\"], \"b\": {}, \"c\": [],"
                    " \"d\": {\"e\": null} }",
                    &err);
    CHECK_MSG(doc != NULL, "%s", err.message);
    if (!doc) return;
    char *compact = write_value(json_doc_root(doc), 0);
    const char *want_compact = "{\"a\":[1,2.5,\"x\\u0001\"],\"b\":{},\"c\":[],\"d\":{\"e\":null}}";
    CHECK_MSG(compact && strcmp(compact, want_compact) == 0,
              "%s", compact ? compact : "(null)");
    free(compact);
    char *pretty = write_value(json_doc_root(doc), 2);
    const char *want_pretty = /* as Python's json.dumps(obj, indent=2) */
        "{\n  \"a\": [\n    1,\n    2.5,\n    \"x\\u0001\"\n  ],\n  \"b\": {},\n  \"c\": [],\n"
        "  \"d\": {\n    \"e\": null\n  }\n}";
    CHECK_MSG(pretty && strcmp(pretty, want_pretty) == 0, "%s", pretty ? pretty : "(null)");
    free(pretty);
    json_doc_free(doc);
}

static void test_writer_api(void) {
    JsonWriter w;
    jw_init(&w, 0);
    jw_begin_object(&w);
    jw_key(&w, "s");
    jw_string(&w, "q\"\\\n\r\t\b\f\x1f\x7f\xc3\xa9");
    jw_key(&w, "i");
    jw_int(&w, INT64_MIN);
    jw_key(&w, "l");
    jw_begin_array(&w);
    jw_bool(&w, 1);
    jw_bool(&w, 0);
    jw_null(&w);
    jw_string_len(&w, "a\0b", 3);
    jw_end_array(&w);
    jw_end_object(&w);
    jw_raw(&w, "  ", 2);
    const char *t = jw_text(&w);
    const char *want = "{\"s\":\"q\\\"\\\\\\n\\r\\t\\b\\f\\u001F\x7f\xc3\xa9\","
                       "\"i\":-9223372036854775808,"
                       "\"l\":[true,false,null,\"a\\u0000b\"]}  ";
    CHECK_MSG(t && strcmp(t, want) == 0,
              "%s", t ? t : "(null)");
    jw_free(&w);

    /* empty writer gives "" */
    jw_init(&w, 2);
    CHECK(jw_text(&w) && jw_text(&w)[0] == 0);
    jw_free(&w);

    /* non-finite numbers fail */
    jw_init(&w, 0);
    jw_begin_array(&w);
    jw_number(&w, NAN);
    CHECK(w.failed && jw_text(&w) == NULL);
    jw_free(&w);
    jw_init(&w, 0);
    jw_number(&w, -INFINITY);
    CHECK(w.failed && jw_text(&w) == NULL);
    jw_free(&w);

    /* nesting: JSON_MAX_DEPTH levels are fine, one more fails */
    jw_init(&w, 1);
    for (int i = 0; i < JSON_MAX_DEPTH; i++) jw_begin_array(&w);
    for (int i = 0; i < JSON_MAX_DEPTH; i++) jw_end_array(&w);
    CHECK(!w.failed && jw_text(&w) != NULL);
    jw_free(&w);
    jw_init(&w, 0);
    for (int i = 0; i < JSON_MAX_DEPTH + 5; i++) jw_begin_array(&w);
    CHECK(w.failed && jw_text(&w) == NULL);
    jw_free(&w);
    /* unbalanced end fails */
    jw_init(&w, 0);
    jw_end_object(&w);
    CHECK(w.failed);
    jw_free(&w);
}

/* jw_number alone at the root; returns a static copy of the text. */
static const char *number_text(double x) {
    static char out[64];
    JsonWriter w;
    jw_init(&w, 0);
    jw_number(&w, x);
    const char *t = jw_text(&w);
    snprintf(out, sizeof out, "%s", t ? t : "(failed)");
    jw_free(&w);
    return out;
}

static void test_number_format(void) {
    struct {
        double x;
        const char *want;
    } cases[] = {
        {3.0, "3"},
        {-3.0, "-3"},
        {0.0, "0"},
        {-0.0, "-0"},
        {0.1, "0.1"},
        {1e-07, "1e-07"},
        {2.5, "2.5"},
        {1.0 / 3.0, "0.3333333333333333"},
        {0.30000000000000004, "0.30000000000000004"},
        {9007199254740991.0, "9007199254740991"},      /* 2^53 - 1: integer form */
        {9007199254740992.0, "9007199254740992"},      /* 2^53: %g form, shortest */
        {1e20, "1e+20"},                               /* >= 2^53: %g per json.h */
        {1152921504606846976.0, "1.152921504606847e+18"}, /* 2^60 */
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {5e-324, "4.94065646e-324"},
        {123456.789, "123456.789"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = number_text(cases[i].x);
        CHECK_MSG(strcmp(t, cases[i].want) == 0, "%.17g -> %s, want %s", cases[i].x, t,
                  cases[i].want);
        CHECK_MSG(strtod(t, NULL) == cases[i].x, "%s does not read back", t);
    }
    /* every output re-parses as JSON to the same double */
    uint64_t seed = 12345;
    for (int i = 0; i < 500; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t bits = seed;
        double x;
        memcpy(&x, &bits, sizeof x);
        if (!isfinite(x)) continue;
        const char *t = number_text(x);
        BittError err;
        JsonDoc *doc = parse_str(t, &err);
        CHECK_MSG(doc && json_doc_root(doc)->u.number == x, "%s: %s", t, doc ? "" : err.message);
        json_doc_free(doc);
    }
}

/* Each bad input must fail with a message naming the source and containing
 * the given fragment. */
static void check_bad(const char *text, size_t len, const char *fragment) {
    BittError err;
    memset(&err, 0, sizeof err);
    char *copy = malloc(len ? len : 1); /* exactly sized: ASan catches over-reads */
    if (len) memcpy(copy, text, len);
    JsonDoc *doc = json_parse(copy, len, "bad.json", &err);
    CHECK_MSG(doc == NULL, "accepted bad input \"%.*s\"", (int)len, text);
    json_doc_free(doc);
    CHECK_MSG(strncmp(err.message, "bad.json: JSON error at line ", 29) == 0, "%s", err.message);
    CHECK_ERR_CONTAINS(&err, fragment);
    free(copy);
}

#define BAD(lit, frag) check_bad(lit, sizeof(lit) - 1, frag)

static void test_bad_inputs(void) {
    BAD("", "empty input");
    BAD("  \n\t", "empty input");
    BAD("{", "line 1, column 2: expected string key in object, found end of input");
    BAD("[", "expected a value, found end of input");
    BAD("[1,]", "trailing comma in array");
    BAD("[1 2]", "expected ',' or ']' in array, found '2'");
    BAD("{\"a\" 1}", "line 1, column 6: expected ':' after object key, found '1'");
    BAD("{\"a\":1,}", "trailing comma in object");
    BAD("{\"a\":1 \"b\":2}", "expected ',' or '}' in object");
    BAD("{1:2}", "expected string key in object, found '1'");
    BAD("01", "leading zeros");
    BAD("-01", "leading zeros");
    BAD("1.", "expected a digit after '.'");
    BAD("1.e5", "expected a digit after '.'");
    BAD("-", "expected a digit after '-'");
    BAD("-a", "expected a digit after '-'");
    BAD("1e", "expected a digit in the exponent");
    BAD("1e+", "expected a digit in the exponent");
    BAD("+1", "expected a value, found '+'");
    BAD(".5", "expected a value, found '.'");
    BAD("NaN", "expected a value, found 'N'");
    BAD("Infinity", "expected a value, found 'I'");
    BAD("-Infinity", "expected a digit after '-'");
    BAD("0x10", "unexpected 'x' after the root value");
    BAD("nul", "invalid literal (expected 'null')");
    BAD("tru", "invalid literal (expected 'true')");
    BAD("fals", "invalid literal (expected 'false')");
    BAD("True", "expected a value, found 'T'");
    BAD("\"abc", "column 1: unterminated string");
    BAD("\"abc\\", "unterminated string");
    BAD("\"\\x\"", "invalid escape in string: backslash followed by 'x'");
    BAD("\"\\u12\"", "invalid \\u escape");
    BAD("\"\\u12G4\"", "invalid \\u escape");
    BAD("\"\\ud800\"", "unpaired high surrogate \\uD800");
    BAD("\"\\ud800\\u0041\"", "unpaired high surrogate");
    BAD("\"\\ud800x\"", "unpaired high surrogate");
    BAD("\"\\udc00\"", "unpaired low surrogate");
    BAD("\"a\nb\"", "line 1, column 3: raw control character 0x0A in string");
    BAD("\"a\x01\"", "raw control character 0x01");
    BAD("\"a\tb\"", "raw control character 0x09");
    BAD("\"\xff\"", "invalid UTF-8 in string: invalid lead byte (sequence starts with 0xFF)");
    BAD("\"\x80\"", "invalid lead byte (sequence starts with 0x80)");
    BAD("\"\xc0\xaf\"", "overlong encoding (sequence starts with 0xC0)");
    BAD("\"\xe0\x80\xaf\"", "overlong encoding");
    BAD("\"\xf0\x80\x80\xaf\"", "overlong encoding");
    BAD("\"\xed\xa0\x80\"", "encoded surrogate");
    BAD("\"\xf4\x90\x80\x80\"", "above U+10FFFF");
    BAD("\"\xf5\x80\x80\x80\"", "invalid lead byte");
    BAD("\"\xe2\x82\"", "truncated sequence");
    BAD("\"\xe2\x82", "truncated sequence");
    BAD("\"\xc3x\"", "truncated sequence");
    BAD("\xc3\xa9", "expected a value, found byte 0xC3");
    BAD("1 2", "line 1, column 3: unexpected '2' after the root value");
    BAD("{}\n\n  ]", "line 3, column 3: unexpected ']'");
    BAD("[1]\x00", "unexpected byte 0x00");
    BAD("\x0b" "1", "expected a value, found byte 0x0B"); /* vertical tab is not whitespace */
    BAD("1e999", "number out of range: 1e999");
    BAD("-1e400", "number out of range");
    BAD("[1,\n  {\"a\": [tru]}]", "line 2, column 10: invalid literal");

    /* depth: JSON_MAX_DEPTH levels parse, one more fails; 100 fails */
    for (int depth = JSON_MAX_DEPTH; depth <= 100; depth++) {
        if (depth != JSON_MAX_DEPTH && depth != JSON_MAX_DEPTH + 1 && depth != 100) continue;
        char buf[256];
        for (int i = 0; i < depth; i++) buf[i] = '[';
        for (int i = 0; i < depth; i++) buf[depth + i] = ']';
        BittError err;
        JsonDoc *doc = json_parse(buf, (size_t)depth * 2, "deep.json", &err);
        if (depth == JSON_MAX_DEPTH) {
            CHECK_MSG(doc != NULL, "%s", err.message);
        } else {
            CHECK(doc == NULL);
            CHECK_ERR_CONTAINS(&err, "deep.json: JSON error at line 1, column 65: "
                                     "nesting deeper than 64");
        }
        json_doc_free(doc);
    }
    char objs[64 * 6 + 8];
    size_t n = 0;
    for (int i = 0; i < 70; i++) {
        memcpy(objs + n, "{\"a\":", 5);
        n += 5;
    }
    check_bad(objs, n, "nesting deeper than 64 levels");
    /* an unbounded run of '[' must fail without deep recursion */
    size_t big = 100000;
    char *many = malloc(big);
    memset(many, '[', big);
    check_bad(many, big, "nesting deeper");
    free(many);
    /* NULL text */
    BittError err;
    CHECK(json_parse(NULL, 0, "nul.json", &err) == NULL);
    CHECK_ERR_CONTAINS(&err, "nul.json: JSON error at line 1, column 1: empty input");
}

/* Every strict prefix of a valid document must fail cleanly; the full one parses. */
static void test_prefixes(void) {
    size_t len = strlen(SAMPLE_DOC);
    CHECK(len > 150);
    int failed_cleanly = 0, succeeded = 0;
    for (size_t n = 0; n <= len; n++) {
        char *buf = malloc(n ? n : 1);
        memcpy(buf, SAMPLE_DOC, n);
        BittError err;
        err.message[0] = 0;
        JsonDoc *doc = json_parse(buf, n, "prefix.json", &err);
        if (doc) {
            succeeded++;
            CHECK_MSG(n == len, "prefix of %zu bytes accepted", n);
        } else {
            const char *head = "prefix.json: JSON error at line ";
            failed_cleanly += strncmp(err.message, head, strlen(head)) == 0;
        }
        json_doc_free(doc);
        free(buf);
    }
    CHECK(succeeded == 1);
    CHECK_MSG(failed_cleanly == (int)len, "%d of %zu prefixes failed cleanly", failed_cleanly, len);
}

/* 2000 random mutations of a valid document: parse must never crash. */
static void test_fuzz(void) {
    size_t len = strlen(SAMPLE_DOC);
    uint32_t state = 0x9E3779B9u;
#define NEXT() (state = state * 1664525u + 1013904223u, state >> 8)
    static const char alphabet[] = "{}[]\",:\\u0123456789eE+-.tfnl \n\t"
                                   "\x01\x7f\x80\xc3\xed\xf0\xff";
    int ok = 0;
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = len;
        char *buf = malloc(len + 8);
        memcpy(buf, SAMPLE_DOC, len);
        int edits = 1 + (int)(NEXT() % 4);
        for (int e = 0; e < edits; e++) {
            uint32_t kind = NEXT() % 4, at = (uint32_t)(NEXT() % n);
            char c = alphabet[NEXT() % (sizeof alphabet - 1)];
            if (kind == 0) {
                buf[at] = c; /* replace with a JSON-ish byte */
            } else if (kind == 1) {
                buf[at] = (char)(NEXT() & 0xFF); /* replace with any byte */
            } else if (kind == 2 && n > 1) {
                memmove(buf + at, buf + at + 1, n - at - 1); /* delete */
                n--;
            } else if (n < len + 8) {
                memmove(buf + at + 1, buf + at, n - at); /* insert */
                buf[at] = c;
                n++;
            }
        }
        char *exact = malloc(n);
        memcpy(exact, buf, n);
        free(buf);
        BittError err;
        JsonDoc *doc = json_parse(exact, n, "fuzz.json", &err);
        if (doc) {
            ok++;
            /* whatever parsed must write and re-parse to the same tree */
            char *text = write_value(json_doc_root(doc), (iter & 1) * 2);
            JsonDoc *again = text ? parse_str(text, &err) : NULL;
            CHECK(again && values_equal(json_doc_root(doc), json_doc_root(again)));
            json_doc_free(again);
            free(text);
        } else {
            CHECK(strncmp(err.message, "fuzz.json: JSON error at line ", 30) == 0);
        }
        json_doc_free(doc);
        free(exact);
    }
#undef NEXT
    CHECK(ok > 0 && ok < 2000);
}

/* A large object (like a tokenizer vocab) parses with every member intact. */
static void test_large_object(void) {
    size_t count = 20000, cap = count * 32 + 16, n = 0;
    char *text = malloc(cap);
    text[n++] = '{';
    for (size_t i = 0; i < count; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s\"tok_%zu\":%zu", i ? "," : "", i, i);
    text[n++] = '}';
    BittError err;
    JsonDoc *doc = json_parse(text, n, "big.json", &err);
    CHECK_MSG(doc != NULL, "%s", err.message);
    if (doc) {
        const JsonValue *r = json_doc_root(doc);
        CHECK(r->u.object.count == count);
        int64_t v = 0;
        CHECK(json_get_int(r, "tok_19999", 0, INT64_MAX, &v) && v == 19999);
        int all = 1;
        for (size_t i = 0; i < count && all; i++) {
            char key[32];
            snprintf(key, sizeof key, "tok_%zu", i);
            all = strcmp(r->u.object.members[i].key, key) == 0 &&
                  r->u.object.members[i].value.u.number == (double)i;
        }
        CHECK(all);
    }
    json_doc_free(doc);
    free(text);
}

int main(void) {
    test_value_types();
    test_int_limits();
    test_strings();
    test_numbers();
    test_writer_round_trip();
    test_writer_api();
    test_number_format();
    test_bad_inputs();
    test_prefixes();
    test_fuzz();
    test_large_object();
    return test_main_end("test_json");
}
