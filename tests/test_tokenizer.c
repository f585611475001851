/* test_tokenizer.c: tests of the byte-level BPE tokenizer: the Unicode
 * tables and UTF-8 decoder, hand-checked GPT-2 pre-tokenizer splits,
 * hand-checked BPE on a small tokenizer.json fixture (both merge
 * encodings), decode(encode(x)) == x on synthetic tokenizers (V = 512 and
 * 16384) for many kinds of text and 500 random byte strings, added tokens,
 * save -> load round trips, and errors on bad input. Every fixture is made
 * here; nothing is downloaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/json.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"
#include "test_util.h"

/* ---- fixtures ---- */

#define ADDED3                                                                                             \
    "[{\"id\":0,\"content\":\"<unk>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"           \
    "\"normalized\":false,\"special\":true},"                                                              \
    "{\"id\":1,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"              \
    "\"normalized\":false,\"special\":true},"                                                              \
    "{\"id\":2,\"content\":\"</s>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"             \
    "\"normalized\":false,\"special\":true}]"
#define BYTELEVEL "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}"
/* \u0120 is "Ġ", the byte-level char of ' '. */
#define SMALL_VOCAB                                                                                        \
    "{\"<unk>\":0,\"<s>\":1,\"</s>\":2,\"a\":3,\"b\":4,\"c\":5,\"\\u0120\":6,\"ab\":7,\"abc\":8,\"bc\":9,"  \
    "\"\\u0120ab\":10,\"aa\":11,\"'\":12,\"s\":13}"
#define MERGES_STR "[\"a b\",\"ab c\",\"b c\",\"\\u0120 ab\",\"a a\"]"
#define MERGES_ARR "[[\"a\",\"b\"],[\"ab\",\"c\"],[\"b\",\"c\"],[\"\\u0120\",\"ab\"],[\"a\",\"a\"]]"

static char json_buf[8192];

/* A tokenizer.json text from its parts (model_type NULL: no "type" key). */
static const char *make_json(const char *model_type, const char *vocab, const char *merges,
                             const char *pre_tokenizer, const char *added) {
    char type[64] = "";
    if (model_type) snprintf(type, sizeof type, "\"type\":\"%s\",", model_type);
    snprintf(json_buf, sizeof json_buf,
             "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":%s,"
             "\"normalizer\":null,\"pre_tokenizer\":%s,\"post_processor\":null,\"decoder\":null,"
             "\"model\":{%s\"dropout\":null,\"unk_token\":\"<unk>\",%s%s%s\"merges\":%s}}",
             added, pre_tokenizer, type, vocab ? "\"vocab\":" : "", vocab ? vocab : "", vocab ? "," : "",
             merges);
    return json_buf;
}

/* Parses text and builds a tokenizer named "fixture.json"; NULL on error. */
static Tokenizer *from_text(const char *text, BittError *err) {
    JsonDoc *doc = json_parse(text, strlen(text), "fixture.json", err);
    Tokenizer *tok;
    if (!doc) return NULL;
    tok = tokenizer_from_json(json_doc_root(doc), "fixture.json", err);
    json_doc_free(doc);
    return tok;
}

/* ---- helpers ---- */

static int encode_is(const Tokenizer *tok, const char *text, const int32_t *want, size_t nwant) {
    int32_t *ids = NULL;
    size_t n = 0, i;
    BittError err;
    int ok;
    if (tokenizer_encode(tok, text, strlen(text), &ids, &n, &err) != 0) {
        fprintf(stderr, "encode(\"%s\") failed: %s\n", text, err.message);
        return 0;
    }
    ok = n == nwant && memcmp(ids, want, n * sizeof *ids) == 0;
    if (!ok) {
        fprintf(stderr, "encode(\"%s\") = [", text);
        for (i = 0; i < n; i++) fprintf(stderr, "%s%d", i ? " " : "", (int)ids[i]);
        fprintf(stderr, "]\n");
    }
    free(ids);
    return ok;
}

/* decode(encode(text)) == text, every id in range. */
static int round_trips(const Tokenizer *tok, const char *text, size_t len) {
    int32_t *ids = NULL;
    size_t n = 0, i, out_len = 0;
    char *out = NULL;
    BittError err;
    int ok;
    if (tokenizer_encode(tok, text, len, &ids, &n, &err) != 0) {
        fprintf(stderr, "encode failed: %s\n", err.message);
        return 0;
    }
    for (i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= tokenizer_vocab_size(tok)) {
            free(ids);
            return 0;
        }
    if (tokenizer_decode(tok, ids, n, 0, &out, &out_len, &err) != 0) {
        fprintf(stderr, "decode failed: %s\n", err.message);
        free(ids);
        return 0;
    }
    ok = out_len == len && memcmp(out, text, len) == 0 && out[out_len] == '\0';
    free(ids);
    free(out);
    return ok;
}

/* Pre-tokenizer pieces of text joined by '|'. */
static const char *split(const char *text) {
    static char buf[512];
    PretokPiece p[64];
    size_t n = pretokenize(text, strlen(text), p, 64), i, at = 0;
    for (i = 0; i < n && i < 64; i++) {
        if (i) buf[at++] = '|';
        memcpy(buf + at, text + p[i].offset, p[i].length);
        at += p[i].length;
    }
    buf[at] = '\0';
    return buf;
}

static uint32_t lcg_state = 12345;
static uint32_t lcg(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

/* ---- tests ---- */

static void test_unicode_and_utf8(void) {
    size_t used;
    CHECK(unicode_is_letter('a') && unicode_is_letter(0x00F1) && unicode_is_letter(0x65E5));
    CHECK(unicode_is_letter(0x20000)); /* inside a <CJK Ideograph Extension B, First/Last> range */
    CHECK(!unicode_is_letter('1') && !unicode_is_letter(0x0301) && !unicode_is_letter(0x1F600));
    CHECK(unicode_is_number('7') && unicode_is_number(0x0663) && unicode_is_number(0x00B2));
    CHECK(unicode_is_whitespace(' ') && unicode_is_whitespace('\n') && unicode_is_whitespace(0x3000));
    CHECK(unicode_is_whitespace(0x85) && !unicode_is_whitespace(0x200B) && !unicode_is_whitespace(0x180E));
    CHECK(utf8_decode((const unsigned char *)"\xE2\x82\xAC", 3, &used) == 0x20AC && used == 3);
    CHECK(utf8_decode((const unsigned char *)"\xF0\x9F\x98\x80", 4, &used) == 0x1F600 && used == 4);
    CHECK(utf8_decode((const unsigned char *)"\x80", 1, &used) == UTF8_INVALID && used == 1);
    CHECK(utf8_decode((const unsigned char *)"\xFF", 1, &used) == UTF8_INVALID && used == 1);
    CHECK(utf8_decode((const unsigned char *)"\xE2\x82", 2, &used) == UTF8_INVALID && used == 1);
    CHECK(utf8_decode((const unsigned char *)"\xC0\xAF", 2, &used) == UTF8_INVALID && used == 1);
    CHECK(utf8_decode((const unsigned char *)"\xE0\x80\xAF", 3, &used) == UTF8_INVALID && used == 1);
    CHECK(utf8_decode((const unsigned char *)"\xED\xA0\x80", 3, &used) == UTF8_INVALID && used == 1);
    CHECK(utf8_decode((const unsigned char *)"\xF4\x90\x80\x80", 4, &used) == UTF8_INVALID && used == 1);
}

static void test_pretokenize(void) {
    CHECK(strcmp(split("Hello world"), "Hello| world") == 0);
    CHECK(strcmp(split("I'm here"), "I|'m| here") == 0);
    CHECK(strcmp(split("a  b"), "a| | b") == 0);
    CHECK(strcmp(split("x\n\n"), "x|\n\n") == 0);
    CHECK(strcmp(split("a\n\nb"), "a|\n|\n|b") == 0);
    CHECK(strcmp(split("a\t b"), "a|\t| b") == 0);
    CHECK(strcmp(split("a \tb"), "a| |\t|b") == 0);
    CHECK(strcmp(split("a \n"), "a| \n") == 0);
    CHECK(strcmp(split("a\xC3\xB1o 2024!!"), "a\xC3\xB1o| 2024|!!") == 0); /* "año 2024!!" */
    CHECK(strcmp(split("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88"),
                 "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88") == 0);
    CHECK(strcmp(split("x\xE3\x80\x80y"), "x|\xE3\x80\x80|y") == 0); /* U+3000 is whitespace */
    CHECK(strcmp(split("abc123"), "abc|123") == 0);
    CHECK(strcmp(split("don't they'LL we've"), "don|'t| they|'|LL| we|'ve") == 0);
    CHECK(strcmp(split("!!'s x"), "!!'|s| x") == 0);
    CHECK(strcmp(split(" 's"), " '|s") == 0);
    CHECK(strcmp(split("e\xCC\x81t\xC3\xA9"), "e|\xCC\x81|t\xC3\xA9") == 0);  /* combining mark is "other" */
    CHECK(strcmp(split("a\x80\xFF!b"), "a|\x80\xFF!|b") == 0);               /* invalid bytes are "other" */
    CHECK(strcmp(split("  "), "  ") == 0);
    CHECK(pretokenize("", 0, NULL, 0) == 0);
}

static void test_fixture_bpe(const char *merges) {
    BittError err;
    Tokenizer *tok = from_text(make_json("BPE", SMALL_VOCAB, merges, BYTELEVEL, ADDED3), &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (!tok) return;
    CHECK(tokenizer_vocab_size(tok) == 14);
    {
        static const int32_t w1[] = {8, 7}; /* "abc"+"ab": both (a,b) first, then (ab,c) */
        static const int32_t w2[] = {9, 7}; /* rank order beats leftmost: (a,b) before (b,c) */
        static const int32_t w3[] = {8};    /* (a,b) rank 0 before (b,c) rank 2 */
        static const int32_t w4[] = {11, 3}; /* a tie: the leftmost pair merges first */
        static const int32_t w5[] = {11, 11};
        static const int32_t w6[] = {10};   /* " ab" -> Ġ ab -> Ġab */
        static const int32_t w7[] = {7, 0}; /* 'z' is not in the vocab: <unk> */
        static const int32_t w8[] = {7, 2, 5};
        static const int32_t w9[] = {7, 12, 13, 6, 5}; /* "ab" "'s"(no token: ' s) " c"(no merge) */
        CHECK(encode_is(tok, "abcab", w1, 2));
        CHECK(encode_is(tok, "bcab", w2, 2));
        CHECK(encode_is(tok, "abc", w3, 1));
        CHECK(encode_is(tok, "aaa", w4, 2));
        CHECK(encode_is(tok, "aaaa", w5, 2));
        CHECK(encode_is(tok, " ab", w6, 1));
        CHECK(encode_is(tok, "abz", w7, 2));
        CHECK(encode_is(tok, "ab</s>c", w8, 3));
        CHECK(encode_is(tok, "ab's c", w9, 5));
    }
    CHECK(tokenizer_token_id(tok, "\xC4\xA0" "ab") == 10);
    CHECK(tokenizer_token_id(tok, "</s>") == 2 && tokenizer_token_id(tok, "zz") == -1);
    {
        size_t len;
        const char *b = tokenizer_token_bytes(tok, 10, &len);
        CHECK(b && len == 3 && memcmp(b, " ab", 3) == 0);
        CHECK(tokenizer_token_bytes(tok, 14, &len) == NULL && tokenizer_token_bytes(tok, -1, &len) == NULL);
    }
    tokenizer_free(tok);
}

/* The texts every tokenizer must round-trip. */
static const char *const texts[] = {
    "Hello, world! This is a test of the tokenizer. Don't panic; it's fine.",
    "\xF0\x9F\x98\x80 emoji \xF0\x9F\x87\xAF\xF0\x9F\x87\xB5 flags \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88 \xE4\xB8\xAD\xE6\x96\x87",
    "e\xCC\x81 and cafe\xCC\x81 a\xCC\x8A\xCC\x81",
    "Mixed: English, \xD0\xA0\xD1\x83\xD1\x81\xD1\x81\xD0\xBA\xD0\xB8\xD0\xB9, \xD8\xA7\xD9\x84\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A\xD8\xA9, \xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\xA8\xE0\xA5\x8D\xE0\xA4\xA6\xE0\xA5\x80",
    "3.14159 2024 1,000,000 -42 0x1F 1e-9",
    "\xD9\xA3\xD9\xA4\xD9\xA5 \xE0\xA5\xAA\xE0\xA5\xA8 \xEF\xBC\x91\xEF\xBC\x92 \xE2\x85\xAB \xC2\xB2",
    "a  b\t\tc\n\n\nd \xE3\x80\x80" "e   ",
    "   ",
    "\n",
    "\t \n \r\n\xC2\xA0\xC2\x85",
    "\x80",
    "\xFF",
    "\xE2\x82",
    "\xC0\xAF",
    "\xED\xA0\x80",
    "a\x80" "b\xFF" "c\xE2\x82 d\xC0\xAF\xED\xA0\x80!",
    "<s>hello</s> <unk> </s",
};

static void check_round_trips(const Tokenizer *tok, const char *name) {
    size_t i, j;
    char buf[96];
    uint32_t t;
    for (i = 0; i < sizeof texts / sizeof texts[0]; i++)
        CHECK_MSG(round_trips(tok, texts[i], strlen(texts[i])), "%s: text %zu", name, i);
    CHECK_MSG(round_trips(tok, "", 0), "%s: empty text", name);
    CHECK_MSG(round_trips(tok, "a\0b", 3), "%s: NUL byte", name);
    lcg_state = 12345;
    for (i = 0; i < 500; i++) {
        size_t len = lcg() % sizeof buf;
        int ascii = (i % 2) == 0; /* half mostly letters and spaces, half any bytes */
        for (j = 0; j < len; j++) {
            t = lcg();
            buf[j] = ascii ? " etaoinshrdlu'\n"[t % 15] : (char)(t & 0xFF);
        }
        CHECK_MSG(round_trips(tok, buf, len), "%s: random string %zu", name, i);
    }
    /* A long word goes through the heap merge. */
    for (j = 0; j < sizeof buf; j++) buf[j] = "etaoin"[j % 6];
    CHECK_MSG(round_trips(tok, buf, sizeof buf), "%s: long word", name);
}

static void test_synthetic(int vocab_size) {
    BittError err;
    char name[48];
    Tokenizer *tok = tokenizer_make_synthetic(vocab_size, &err);
    size_t len;
    const char *b;
    snprintf(name, sizeof name, "synthetic %d", vocab_size);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (!tok) return;
    CHECK(tokenizer_vocab_size(tok) == vocab_size);
    CHECK(tokenizer_token_id(tok, "<unk>") == 0 && tokenizer_token_id(tok, "<s>") == 1 &&
          tokenizer_token_id(tok, "</s>") == 2);
    CHECK(tokenizer_is_special(tok, 0) && tokenizer_is_special(tok, 2) && !tokenizer_is_special(tok, 3));
    CHECK(tokenizer_token_id(tok, "\xC4\x80") == 3); /* byte 0 -> U+0100 */
    CHECK(tokenizer_token_id(tok, "a") == 3 + 'a' && tokenizer_token_id(tok, "\xC4\xA0") == 3 + ' ');
    b = tokenizer_token_bytes(tok, 3, &len);
    CHECK(b && len == 1 && b[0] == 0);
    b = tokenizer_token_bytes(tok, 259, &len); /* the first merge: "Ġ" + "e" */
    CHECK(b && len == 2 && memcmp(b, " e", 2) == 0);
    b = tokenizer_token_bytes(tok, vocab_size - 1, &len);
    CHECK(b && len >= 2);
    CHECK(tokenizer_token_bytes(tok, vocab_size, &len) == NULL);
    check_round_trips(tok, name);
    {
        int32_t *ids;
        size_t n, i;
        char *text;
        int has2 = 0;
        CHECK(tokenizer_encode(tok, "hi</s>there", 11, &ids, &n, &err) == 0);
        for (i = 0; i < n; i++) has2 += ids[i] == 2;
        CHECK(has2 == 1 && n >= 3);
        CHECK(tokenizer_decode(tok, ids, n, 1, &text, &len, &err) == 0);
        CHECK(len == 7 && strcmp(text, "hithere") == 0);
        free(text);
        CHECK(tokenizer_decode(tok, ids, n, 0, &text, &len, &err) == 0);
        CHECK(strcmp(text, "hi</s>there") == 0);
        free(text);
        free(ids);
        CHECK(tokenizer_encode(tok, "<s></s><s>", 10, &ids, &n, &err) == 0);
        CHECK(n == 3 && ids[0] == 1 && ids[1] == 2 && ids[2] == 1);
        free(ids);
    }
    tokenizer_free(tok);
}

static void test_synthetic_determinism(void) {
    BittError err;
    Tokenizer *a = tokenizer_make_synthetic(70000, &err), *b = tokenizer_make_synthetic(70000, &err);
    JsonWriter wa, wb;
    CHECK_MSG(a && b, "%s", err.message);
    if (!a || !b) {
        tokenizer_free(a);
        tokenizer_free(b);
        return;
    }
    jw_init(&wa, 0);
    jw_init(&wb, 0);
    tokenizer_write_json(a, &wa);
    tokenizer_write_json(b, &wb);
    CHECK(jw_text(&wa) && jw_text(&wb) && strcmp(jw_text(&wa), jw_text(&wb)) == 0);
    CHECK(tokenizer_vocab_size(a) == 70000);
    jw_free(&wa);
    jw_free(&wb);
    tokenizer_free(a);
    tokenizer_free(b);
}

/* Same ids from tok and from tok written to JSON and read back. */
static void check_save_load(const Tokenizer *tok, const char *name) {
    BittError err;
    JsonWriter w;
    Tokenizer *back;
    const char *path = "test_tokenizer_tmp.json";
    size_t i;
    jw_init(&w, 2);
    tokenizer_write_json(tok, &w);
    CHECK(jw_text(&w) != NULL);
    back = jw_text(&w) ? from_text(jw_text(&w), &err) : NULL;
    CHECK_MSG(back != NULL, "%s: %s", name, err.message);
    jw_free(&w);
    if (!back) return;
    for (i = 0; i < 2; i++) {
        size_t k;
        CHECK(tokenizer_vocab_size(back) == tokenizer_vocab_size(tok));
        for (k = 0; k < sizeof texts / sizeof texts[0]; k++) {
            int32_t *x, *y;
            size_t nx, ny;
            int ok = tokenizer_encode(tok, texts[k], strlen(texts[k]), &x, &nx, &err) == 0 &&
                     tokenizer_encode(back, texts[k], strlen(texts[k]), &y, &ny, &err) == 0;
            CHECK_MSG(ok && nx == ny && memcmp(x, y, nx * sizeof *x) == 0, "%s: text %zu", name, k);
            if (ok) {
                free(x);
                free(y);
            }
        }
        tokenizer_free(back);
        back = NULL;
        if (i == 1) break;
        /* second round: through a file */
        CHECK_MSG(tokenizer_save_file(tok, path, &err) == 0, "%s", err.message);
        back = tokenizer_load_file(path, &err);
        CHECK_MSG(back != NULL, "%s: %s", name, err.message);
        remove(path);
        if (!back) return;
    }
}

static void test_save_load(void) {
    BittError err;
    Tokenizer *tok = tokenizer_make_synthetic(16384, &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (tok) check_save_load(tok, "synthetic 16384");
    tokenizer_free(tok);
    tok = from_text(make_json("BPE", SMALL_VOCAB, MERGES_ARR, BYTELEVEL, ADDED3), &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (tok) check_save_load(tok, "small fixture");
    tokenizer_free(tok);
}

/* tokenizer.json inputs that must load: a Sequence pre-tokenizer, no model
 * type, an extra added token outside the vocab. */
static void test_accepted_variants(void) {
    BittError err;
    Tokenizer *tok;
    static const int32_t w[] = {7, 14, 5};
    tok = from_text(make_json(NULL, SMALL_VOCAB, MERGES_STR, "{\"type\":\"Sequence\",\"pretokenizers\":[" BYTELEVEL "]}",
                              "[{\"id\":0,\"content\":\"<unk>\",\"special\":true},"
                              "{\"id\":14,\"content\":\"[X]\",\"special\":false}]"),
                    &err);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (!tok) return;
    CHECK(tokenizer_vocab_size(tok) == 15);
    CHECK(encode_is(tok, "ab[X]c", w, 3));
    CHECK(tokenizer_token_id(tok, "[X]") == 14 && !tokenizer_is_special(tok, 14));
    CHECK(round_trips(tok, "abc[X]ab", 8));
    tokenizer_free(tok);
}

/* Loading text must fail with a message containing source and needle. */
static void expect_load_error(const char *text, const char *needle) {
    BittError err;
    Tokenizer *tok;
    memset(&err, 0, sizeof err);
    tok = from_text(text, &err);
    CHECK_MSG(tok == NULL, "loaded although \"%s\" was expected", needle);
    tokenizer_free(tok);
    CHECK_ERR_CONTAINS(&err, "fixture.json");
    CHECK_ERR_CONTAINS(&err, needle);
}

/* ---- hostile sizes (SPEC 4; issue 19 item 2) ---- */

#ifdef UNDER_SANITIZER
#define RUN_SCALE 10 /* 0.1 MB and 1 MB: the same ratio, a tenth of the time */
#else
#define RUN_SCALE 1
#endif

/* n bytes of 'a' through the fixture BPE (merge "a a" -> "aa"): one
 * pre-token of n letters. Returns the seconds it took; checks the ids. */
static double encode_run_of_a(const Tokenizer *tok, size_t n) {
    char *text = malloc(n);
    memset(text, 'a', n);
    int32_t *ids = NULL;
    size_t m = 0;
    BittError err;
    const double t0 = test_now_s();
    CHECK(tokenizer_encode(tok, text, n, &ids, &m, &err) == 0);
    const double t = test_now_s() - t0;
    CHECK(m == n / 2);
    int all_aa = 1;
    for (size_t i = 0; i < m; i++) all_aa &= ids[i] == 11;
    CHECK(all_aa);
    free(ids);
    free(text);
    return t;
}

/* 10 MB of one character is one 10-million-letter word for the BPE: it must
 * cost about 10x what 1 MB costs (the heap merge, n log n), not 100x; and a
 * million merges, the last naming a token that is not there, load to the
 * error that names it, in time linear in the file. */
static void test_hostile_sizes(void) {
    BittError err;
    Tokenizer *tok = from_text(make_json("BPE", SMALL_VOCAB, MERGES_STR, BYTELEVEL, ADDED3), &err);
    CHECK(tok != NULL);
    if (!tok) return;
    encode_run_of_a(tok, 1 << 16); /* warm */
    const double t1 = encode_run_of_a(tok, 1000000 / RUN_SCALE), t10 = encode_run_of_a(tok, 10000000 / RUN_SCALE);
    printf("encode: %d KB of 'a' %.3f s, %d KB %.3f s (x%.1f)\n", 1000 / RUN_SCALE, t1, 10000 / RUN_SCALE, t10,
           t10 / (t1 > 0 ? t1 : 1e-9));
    CHECK(t10 < 25 * t1 + 0.05);
    tokenizer_free(tok);

    const size_t n_merges = 1000000;
    const char *head = "{\"version\":\"1.0\",\"added_tokens\":" ADDED3 ",\"normalizer\":null,\"pre_tokenizer\":" BYTELEVEL
                       ",\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"vocab\":" SMALL_VOCAB ",\"merges\":[";
    const size_t cap = strlen(head) + n_merges * 8 + 64;
    char *big = malloc(cap), *w = big;
    w += sprintf(w, "%s", head);
    for (size_t i = 0; i + 1 < n_merges; i++) w += sprintf(w, "\"a b\",");
    w += sprintf(w, "\"x y\"]}}");
    const double t0 = test_now_s();
    JsonDoc *doc = json_parse(big, (size_t)(w - big), "million.json", &err);
    CHECK(doc != NULL);
    if (doc) {
        CHECK(tokenizer_from_json(json_doc_root(doc), "million.json", &err) == NULL);
        CHECK(strstr(err.message, "model.merges[999999]") != NULL && strstr(err.message, "million.json") != NULL);
        json_doc_free(doc);
    }
    const double tm = test_now_s() - t0;
    printf("a million merges, the last one missing: refused in %.3f s: %s\n", tm, err.message);
    CHECK(tm < 20.0);
    free(big);
}

static void test_errors(void) {
    BittError err;
    Tokenizer *tok;
    const char *path = "test_tokenizer_bad.json";
    FILE *f;
    expect_load_error("{\"model\": {\"type\": \"BPE\", ", "fixture.json");
    expect_load_error(make_json("WordPiece", SMALL_VOCAB, "[]", BYTELEVEL, ADDED3),
                      "unsupported tokenizer model type 'WordPiece'");
    expect_load_error(make_json("BPE", NULL, "[]", BYTELEVEL, ADDED3), "model.vocab is missing");
    expect_load_error(make_json("BPE", "{\"a\":0,\"b\":-1}", "[]", BYTELEVEL, "[]"), "'b' has id -1");
    expect_load_error(make_json("BPE", "{\"a\":0,\"b\":1.5}", "[]", BYTELEVEL, "[]"), "'b' has id 1.5");
    expect_load_error(make_json("BPE", "{\"a\":0,\"b\":\"1\"}", "[]", BYTELEVEL, "[]"), "not an integer");
    expect_load_error(make_json("BPE", "{\"a\":0,\"b\":10000000}", "[]", BYTELEVEL, "[]"), "0..9999999");
    expect_load_error(make_json("BPE", "{\"a\":0,\"b\":1,\"c\":1}", "[]", BYTELEVEL, "[]"), "duplicate id 1");
    expect_load_error(make_json("BPE", SMALL_VOCAB, "[\"a b\",\"q c\"]", BYTELEVEL, ADDED3),
                      "token 'q', which is not in the vocab");
    expect_load_error(make_json("BPE", SMALL_VOCAB, "[\"b a\"]", BYTELEVEL, ADDED3),
                      "merged token 'ba' is not in the vocab");
    expect_load_error(make_json("BPE", SMALL_VOCAB, "[[\"a\"]]", BYTELEVEL, ADDED3), "model.merges[0] has the wrong shape");
    expect_load_error(make_json("BPE", SMALL_VOCAB, "[\"a b\",5]", BYTELEVEL, ADDED3), "model.merges[1] has the wrong shape");
    expect_load_error(make_json("BPE", SMALL_VOCAB, "[\"a  b\"]", BYTELEVEL, ADDED3), "model.merges[0]");
    expect_load_error(make_json("BPE", SMALL_VOCAB, "[]", "{\"type\":\"Whitespace\"}", ADDED3),
                      "unsupported pre_tokenizer type 'Whitespace'");
    expect_load_error(make_json("BPE", SMALL_VOCAB, "[]", "null", ADDED3), "pre_tokenizer is missing");
    expect_load_error(make_json("BPE", SMALL_VOCAB, "[]",
                                "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Digits\"}," BYTELEVEL "]}",
                                ADDED3),
                      "'Digits'");
    expect_load_error(make_json("BPE", SMALL_VOCAB, "[]", BYTELEVEL,
                                "[{\"id\":3,\"content\":\"<unk>\",\"special\":true}]"),
                      "vocab gives it id 0");
    expect_load_error(make_json("BPE", SMALL_VOCAB, "[]", BYTELEVEL,
                                "[{\"id\":20,\"content\":\"[X]\",\"special\":true}]"),
                      "would give it id 14");
    expect_load_error("[1, 2]", "must be a JSON object");

    /* A file: the message names the path. */
    f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"model\": {\"vocab\": {\"a\": 0,}}}", f);
        fclose(f);
        tok = tokenizer_load_file(path, &err);
        CHECK(tok == NULL);
        tokenizer_free(tok);
        CHECK_ERR_CONTAINS(&err, path);
        remove(path);
    }
    tok = tokenizer_load_file("no/such/tokenizer.json", &err);
    CHECK(tok == NULL);
    CHECK_ERR_CONTAINS(&err, "no/such/tokenizer.json");

    /* decode of ids out of range */
    tok = tokenizer_make_synthetic(512, &err);
    CHECK(tok != NULL);
    if (tok) {
        int32_t bad[] = {5, 512};
        int32_t neg[] = {-1};
        char *text = NULL;
        size_t len;
        CHECK(tokenizer_decode(tok, bad, 2, 0, &text, &len, &err) != 0 && text == NULL);
        CHECK_ERR_CONTAINS(&err, "synthetic tokenizer");
        CHECK_ERR_CONTAINS(&err, "token id 512");
        CHECK(tokenizer_decode(tok, neg, 1, 0, &text, &len, &err) != 0);
        CHECK_ERR_CONTAINS(&err, "out of range");
        tokenizer_free(tok);
    }
    tok = tokenizer_make_synthetic(100, &err);
    CHECK(tok == NULL);
    CHECK_ERR_CONTAINS(&err, "synthetic tokenizer: vocab size 100");
}

int main(void) {
    test_unicode_and_utf8();
    test_pretokenize();
    test_fixture_bpe(MERGES_STR);
    test_fixture_bpe(MERGES_ARR);
    test_synthetic(512);
    test_synthetic(16384);
    test_synthetic_determinism();
    test_save_load();
    test_accepted_variants();
    test_errors();
    test_hostile_sizes();
    return test_main_end("test_tokenizer");
}
