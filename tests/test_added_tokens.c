/* test_added_tokens.c: the tokenizer's added-token matching and the
 * encoder's edge cases on hostile tokenizers (see the comment of each test).
 * With an argument, runs that test only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/json.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

#ifdef UNDER_SANITIZER
#define TIME_LIMIT 10.0 /* seconds: ASan + UBSan run several times slower */
#else
#define TIME_LIMIT 2.0
#endif

static Tokenizer *from_text(const char *text, size_t len, BittError *err) {
    JsonDoc *doc = json_parse(text, len, "fixture.json", err);
    Tokenizer *tok;
    if (!doc) return NULL;
    tok = tokenizer_from_json(json_doc_root(doc), "fixture.json", err);
    json_doc_free(doc);
    return tok;
}

/* A growing text buffer. */
typedef struct Buf {
    char *p;
    size_t len, cap;
} Buf;

static void put(Buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void puts_(Buf *b, const char *s) { put(b, s, strlen(s)); }

#define PRE "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}"

/* hostile input: bytes a tokenizer has no token for (and no <unk>) are
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

/* ---- matching against a brute-force reference ---- */

typedef struct RefTok {
    char s[8];
    size_t len;
    int normalized;
    int32_t id;
} RefTok;

static uint32_t rng_state = 2024;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) % n;
}

/* The reference: pass 0 over [0, len) with the non-normalized tokens, pass 1
 * over the gaps with the normalized ones; a position with no token is its
 * byte's id (b - 'a' + 3). */
static void ref_pass(const RefTok *t, int nt, const char *s, size_t len, int pass, int32_t *out, size_t *n) {
    size_t pos = 0, done = 0;
    while (pos < len) {
        int best = -1;
        for (int k = 0; k < nt; k++)
            if (t[k].normalized == pass && t[k].len <= len - pos && memcmp(t[k].s, s + pos, t[k].len) == 0 &&
                (best < 0 || t[k].len > t[best].len))
                best = k;
        if (best < 0) { pos++; continue; }
        if (pass == 0) ref_pass(t, nt, s + done, pos - done, 1, out, n);
        else for (size_t i = done; i < pos; i++) out[(*n)++] = s[i] - 'a' + 3;
        out[(*n)++] = t[best].id;
        pos += t[best].len;
        done = pos;
    }
    if (pass == 0) ref_pass(t, nt, s + done, len - done, 1, out, n);
    else for (size_t i = done; i < len; i++) out[(*n)++] = s[i] - 'a' + 3;
}

/* Added-token matching against a brute-force reference (leftmost, then
 * longest; non-normalized tokens first, then normalized ones in between, as
 * Hugging Face does) on random tokens and texts. */
static void test_matching_reference(void) {
    int mismatches = 0;
    for (int round = 0; round < 300; round++) {
        RefTok t[24];
        int nt = 1 + (int)rnd(24);
        /* distinct random strings over {a, b, c}, 1..7 bytes */
        for (int k = 0; k < nt; k++) {
            int dup;
            do {
                t[k].len = 1 + rnd(rnd(2) ? 3 : 7);
                for (size_t i = 0; i < t[k].len; i++) t[k].s[i] = (char)('a' + rnd(3));
                dup = 0;
                for (int j = 0; j < k; j++)
                    dup |= t[j].len == t[k].len && memcmp(t[j].s, t[k].s, t[k].len) == 0;
            } while (dup);
            t[k].normalized = (int)rnd(2);
        }
        /* vocab: specials, a b c (ids 3..5); one-byte added tokens keep their vocab id, the rest take 6, 7, ... */
        Buf j = {0};
        puts_(&j, "{\"added_tokens\":[");
        int32_t next = 6;
        for (int k = 0; k < nt; k++) {
            char item[160];
            t[k].id = t[k].len == 1 ? t[k].s[0] - 'a' + 3 : next++;
            snprintf(item, sizeof item, "%s{\"id\":%d,\"content\":\"%.*s\",\"special\":%s,\"normalized\":%s}",
                     k ? "," : "", (int)t[k].id, (int)t[k].len, t[k].s, rnd(2) ? "true" : "false",
                     t[k].normalized ? "true" : "false");
            puts_(&j, item);
        }
        puts_(&j, "],\"normalizer\":null,\"pre_tokenizer\":" PRE ",\"decoder\":null,\"model\":{\"type\":\"BPE\","
                  "\"unk_token\":\"<unk>\",\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2,\"a\":3,\"b\":4,\"c\":5},"
                  "\"merges\":[]}}");
        BittError err;
        Tokenizer *tok = from_text(j.p, j.len, &err);
        free(j.p);
        CHECK_MSG(tok != NULL, "round %d: %s", round, err.message);
        if (!tok) continue;
        for (int text = 0; text < 10; text++) {
            char s[64];
            size_t len = rnd(64);
            for (size_t i = 0; i < len; i++) s[i] = (char)('a' + rnd(3));
            int32_t want[64], *ids = NULL;
            size_t nwant = 0, n = 0;
            ref_pass(t, nt, s, len, 0, want, &nwant);
            int ok = tokenizer_encode(tok, s, len, &ids, &n, &err) == 0 && n == nwant &&
                     memcmp(ids, want, n * sizeof *ids) == 0;
            if (!ok && mismatches++ < 5) fprintf(stderr, "round %d: \"%.*s\" encodes differently\n", round, (int)len, s);
            free(ids);
        }
        tokenizer_free(tok);
    }
    CHECK_MSG(mismatches == 0, "%d texts split differently from the reference", mismatches);
}

/* ---- 100,000 added tokens ---- */

#define MANY 100000

/* A tokenizer.json with the specials, 'A' (id 3), and MANY added tokens
 * (ids 4, 5, ...) whose contents content(i) gives. */
static char *many_json(void (*content)(int i, char *out), size_t *len) {
    Buf j = {0};
    puts_(&j, "{\"added_tokens\":[");
    for (int i = 0; i < MANY; i++) {
        char c[64], item[128];
        content(i, c);
        snprintf(item, sizeof item, "%s{\"id\":%d,\"content\":\"%s\",\"special\":true}", i ? "," : "", 4 + i, c);
        puts_(&j, item);
    }
    puts_(&j, "],\"normalizer\":null,\"pre_tokenizer\":" PRE ",\"decoder\":null,\"model\":{\"type\":\"BPE\","
              "\"unk_token\":\"<unk>\",\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2,\"A\":3},\"merges\":[]}}");
    *len = j.len;
    return j.p;
}

static void base62(int i, char *out) {
    static const char d[] = "0123456789abcdefghijklmnopqrstuvwxyzBCDEFGHIJKLMNOPQRSTUVWXYZ";
    char tmp[16];
    int n = 0;
    do { tmp[n++] = d[i % 61]; i /= 61; } while (i);
    while (n) *out++ = tmp[--n];
    *out = 0;
}

/* First bytes falling from '~' to '#' through the list: the order in which
 * an insertion sort by first byte moved every token across all before it. */
static void falling_first_byte(int i, char *out) {
    char c = (char)('~' - (int)((long long)i * 91 / MANY));
    out[0] = c == '\\' ? '[' : c; /* no escapes in the JSON */
    base62(i, out + 1);
}

/* All start with 'A', then '-': each one fails at the second byte of a run of 'A's. */
static void starts_with_a(int i, char *out) {
    out[0] = 'A';
    out[1] = '-';
    base62(i, out + 2);
}

/* hostile input: loading, writing and matching 100,000 added tokens stay fast
 * (each was quadratic). */
static void test_many_added_tokens(void) {
    BittError err;
    size_t len;
    char *json = many_json(falling_first_byte, &len);
    double t0 = test_now_s();
    Tokenizer *tok = from_text(json, len, &err);
    double load = test_now_s() - t0;
    free(json);
    CHECK_MSG(tok != NULL, "%s", err.message);
    CHECK_MSG(load < TIME_LIMIT, "loading %d added tokens took %.2f s (limit %.0f s)", MANY, load, TIME_LIMIT);
    if (tok) {
        /* writing them (in id order) is linear too: it used to scan them once per id */
        JsonWriter w;
        jw_init(&w, 0);
        t0 = test_now_s();
        tokenizer_write_json(tok, &w);
        double write = test_now_s() - t0;
        CHECK_MSG(write < TIME_LIMIT, "writing %d added tokens took %.2f s", MANY, write);
        CHECK(jw_text(&w) != NULL && strstr(jw_text(&w), "{\"id\":4,\"content\":\"~0\"") != NULL);
        jw_free(&w);
        tokenizer_free(tok);
    }

    json = many_json(starts_with_a, &len);
    tok = from_text(json, len, &err);
    free(json);
    CHECK_MSG(tok != NULL, "%s", err.message);
    if (!tok) return;
    const size_t n_text = 100000;
    char *text = malloc(n_text + 16);
    memset(text, 'A', n_text);
    memcpy(text + n_text, "A-0A-1A", 7); /* two matches at the end: the matcher is really used */
    int32_t *ids = NULL;
    size_t n = 0;
    t0 = test_now_s();
    int rc = tokenizer_encode(tok, text, n_text + 7, &ids, &n, &err);
    double enc = test_now_s() - t0;
    CHECK_MSG(rc == 0, "%s", err.message);
    CHECK_MSG(enc < TIME_LIMIT, "encoding %zu bytes of 'A' against %d added tokens starting with 'A' took %.2f s",
              n_text, MANY, enc);
    /* 100,000 'A' (id 3), the tokens "A-0" (id 4) and "A-1" (id 5), one more 'A' */
    CHECK(rc == 0 && n == n_text + 3 && ids[0] == 3 && ids[n_text - 1] == 3 && ids[n_text] == 4 &&
          ids[n_text + 1] == 5 && ids[n_text + 2] == 3);
    free(ids);
    free(text);
    tokenizer_free(tok);
}

/* With an argument, runs only the test of that name (e.g. to see one fail). */
int main(int argc, char **argv) {
    static const struct { const char *name; void (*fn)(void); } tests[] = {
        {"test_dropped_bytes", test_dropped_bytes},
        {"test_matching_reference", test_matching_reference},
        {"test_many_added_tokens", test_many_added_tokens},
    };
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
        if (argc < 2 || strcmp(argv[1], tests[i].name) == 0) tests[i].fn();
    return test_main_end("test_added_tokens");
}
