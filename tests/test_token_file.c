/* test_token_file.c: tests of token files (data/token_file.h) and of
 * prepare (data/prepare.h): u16 and u32 round trips through the writer and
 * reader, the dtype chosen by vocabulary size, prepare's stories each
 * ending in </s> and decoding back to the text, and every kind of bad
 * input refused with an error naming the file: truncated or padded token
 * files, sizes that are not whole tokens, a missing, garbage or lying
 * sidecar (token count, dtype, vocab size, format, version), ids outside
 * the vocabulary, a tokenizer with another fingerprint. Files are written
 * in the current directory under names starting with "ttf_" and removed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepare.h"
#include "data/story_gen.h"
#include "data/token_file.h"
#include "tokenizer/story_split.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

#define BIN "ttf_tokens.bin"
#define SIDE "ttf_tokens.bin.json"

/* ---- helpers ---- */

static int write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f) ok = (fclose(f) == 0) && ok;
    return ok ? 0 : -1;
}

static int exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* Reads a whole file (NUL-terminated, malloc'd); NULL on error. */
static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)n, f);
        buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}

/* Writes n ids through the writer with this vocabulary size. */
static int write_tokens(const char *path, const int32_t *ids, size_t n, int32_t vocab, const char *fingerprint,
                        BittError *err) {
    TokenWriter *w = malloc(sizeof *w);
    TokenFileMeta meta;
    const char *inputs[1] = {"made-up.txt"};
    int rc;
    if (!w) return -1;
    memset(&meta, 0, sizeof meta);
    meta.tokenizer_path = "tok.json";
    meta.fingerprint = fingerprint;
    meta.eos_id = 2;
    meta.text_bytes = 4 * n;
    meta.n_documents = 3;
    meta.inputs = inputs;
    meta.n_inputs = 1;
    rc = token_writer_open(w, path, vocab, err);
    if (rc == 0 && (rc = token_writer_write(w, ids, n, err)) != 0) token_writer_abort(w);
    if (rc == 0) rc = token_writer_finish(w, &meta, err);
    free(w);
    return rc;
}

/* Replaces the first occurrence of from with to in the sidecar. */
static int edit_sidecar(const char *from, const char *to) {
    size_t len, a, b;
    char *text = read_text(SIDE, &len), *at, *out;
    int rc = -1;
    if (!text) return -1;
    if ((at = strstr(text, from)) != NULL && (out = malloc(len + strlen(to) + 1)) != NULL) {
        a = (size_t)(at - text);
        b = strlen(from);
        memcpy(out, text, a);
        memcpy(out + a, to, strlen(to));
        memcpy(out + a + strlen(to), at + b, len - a - b);
        rc = write_file(SIDE, out, len - b + strlen(to));
        free(out);
    }
    free(text);
    return rc;
}

/* Opening BIN must fail with a message that names `names` and holds `needle`. */
static void expect_refused(const Tokenizer *tok, const char *names, const char *needle, int line) {
    TokenFile tf;
    BittError err;
    int rc = token_file_open(&tf, BIN, tok, "tok.json", &err);
    if (rc == 0) {
        fprintf(stderr, "line %d: opened a bad token file\n", line);
        token_file_close(&tf);
        CHECK(rc != 0);
        return;
    }
    CHECK_MSG(strstr(err.message, names) != NULL && strstr(err.message, needle) != NULL,
              "line %d: message \"%s\" lacks \"%s\" or \"%s\"", line, err.message, names, needle);
    CHECK(tf.data == NULL && tf.path == NULL); /* nothing left open */
}

/* ---- round trips ---- */

static void test_round_trip(void) {
    static const int32_t vocabs[2] = {300, 70000};
    int32_t ids[1000], got[1000];
    BittError err;
    TokenFile tf;
    size_t i, len;
    int k;
    char *side;
    CHECK(token_dtype_bytes(65536) == 2 && token_dtype_bytes(65537) == 4 && token_dtype_bytes(259) == 2);
    for (k = 0; k < 2; k++) {
        int32_t v = vocabs[k];
        for (i = 0; i < 1000; i++) ids[i] = (int32_t)((i * 7919u + 13u) % (uint32_t)v);
        ids[0] = 0;
        ids[1] = v - 1;
        CHECK_MSG(write_tokens(BIN, ids, 1000, v, "0123456789abcdef", &err) == 0, "%s", err.message);
        /* the file is exactly the little-endian ids */
        {
            char *bin = read_text(BIN, &len);
            CHECK(bin && len == 1000u * (k ? 4u : 2u));
            if (bin && len >= 8)
                CHECK((unsigned char)bin[2 * (size_t)(k ? 2 : 1)] == (unsigned char)((v - 1) & 0xFF) &&
                      (unsigned char)bin[2 * (size_t)(k ? 2 : 1) + 1] == (unsigned char)(((v - 1) >> 8) & 0xFF));
            free(bin);
        }
        side = read_text(SIDE, &len);
        CHECK(side && strstr(side, k ? "\"u32\"" : "\"u16\"") && strstr(side, "\"token_count\": 1000"));
        free(side);
        CHECK_MSG(token_file_open(&tf, BIN, NULL, NULL, &err) == 0, "%s", err.message);
        if (tf.data) {
            CHECK(tf.dtype_bytes == (k ? 4 : 2) && tf.n_tokens == 1000 && tf.vocab_size == v);
            CHECK(tf.text_bytes == 4000 && tf.n_documents == 3 && tf.eos_id == 2);
            CHECK(strcmp(tf.fingerprint, "0123456789abcdef") == 0);
            token_file_read(&tf, 0, 1000, got);
            CHECK(memcmp(ids, got, sizeof ids) == 0);
            CHECK(token_file_get(&tf, 1) == v - 1);
            token_file_close(&tf);
        }
    }
    /* an empty token file is a valid one */
    CHECK(write_tokens(BIN, ids, 0, 300, "0123456789abcdef", &err) == 0);
    CHECK(token_file_open(&tf, BIN, NULL, NULL, &err) == 0 && tf.n_tokens == 0);
    token_file_close(&tf);
}

static void test_writer_refusals(void) {
    TokenWriter *w = malloc(sizeof *w);
    BittError err;
    int32_t bad[2] = {5, 300}, neg = -1;
    if (!w) return;
    CHECK(token_writer_open(w, BIN, 300, &err) == 0);
    CHECK(token_writer_write(w, bad, 2, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "300 is outside the vocabulary");
    CHECK_ERR_CONTAINS(&err, BIN);
    CHECK(token_writer_write(w, &neg, 1, &err) != 0);
    token_writer_abort(w);
    CHECK(!exists(BIN ".tmp")); /* the temporary file is gone */
    CHECK(token_writer_open(w, "ttf_no_such_dir/x.bin", 300, &err) != 0);
    CHECK_ERR_CONTAINS(&err, "ttf_no_such_dir/x.bin");
    CHECK(token_writer_open(w, BIN, 0, &err) != 0);
    free(w);
}

/* ---- bad files ---- */

static void test_bad_files(void) {
    int32_t ids[100];
    BittError err;
    Tokenizer *tok = tokenizer_make_synthetic(300, &err), *other = tokenizer_make_synthetic(301, &err);
    char fp[17], fp_other[17], hex[40];
    size_t i, len;
    char *bin;
    TokenFile tf;
    CHECK(tok && other);
    if (!tok || !other) goto done;
    CHECK(tokenizer_fingerprint(tok, fp, &err) == 0 && tokenizer_fingerprint(other, fp_other, &err) == 0);
    CHECK(strcmp(fp, fp_other) != 0);
    for (i = 0; i < 100; i++) ids[i] = (int32_t)(i * 3 % 300);
#define FRESH() CHECK(write_tokens(BIN, ids, 100, 300, fp, &err) == 0)

    /* the right tokenizer opens it; another is refused */
    FRESH();
    CHECK_MSG(token_file_open(&tf, BIN, tok, "tok.json", &err) == 0, "%s", err.message);
    token_file_close(&tf);
    CHECK(token_file_open(&tf, BIN, other, "other.json", &err) != 0);
    CHECK_ERR_CONTAINS(&err, BIN);
    CHECK_ERR_CONTAINS(&err, "another tokenizer");
    CHECK_ERR_CONTAINS(&err, "other.json");

    /* truncated by one token, by one byte; one byte too many */
    bin = read_text(BIN, &len);
    CHECK(bin && len == 200);
    if (bin) {
        CHECK(write_file(BIN, bin, 198) == 0);
        expect_refused(tok, BIN, "truncated", __LINE__);
        CHECK(write_file(BIN, bin, 199) == 0);
        expect_refused(tok, BIN, "not a whole number of u16 tokens", __LINE__);
        CHECK(write_file(BIN, bin, 0) == 0);
        expect_refused(tok, BIN, "truncated", __LINE__);
        bin[199] = 0;
        {
            char *big = calloc(202, 1);
            if (big) {
                memcpy(big, bin, 200);
                CHECK(write_file(BIN, big, 202) == 0);
                expect_refused(tok, BIN, "disagree", __LINE__);
                free(big);
            }
        }
        free(bin);
    }

    /* the sidecar lies about the count or the dtype */
    FRESH();
    CHECK(edit_sidecar("\"token_count\": 100", "\"token_count\": 101") == 0);
    expect_refused(tok, BIN, "101 u16 tokens", __LINE__);
    FRESH();
    CHECK(edit_sidecar("\"token_count\": 100", "\"token_count\": 99") == 0);
    expect_refused(tok, BIN, "disagree", __LINE__);
    FRESH();
    CHECK(edit_sidecar("\"u16\"", "\"u32\"") == 0);
    expect_refused(tok, BIN, "100 u32 tokens", __LINE__);
    FRESH();
    CHECK(edit_sidecar("\"u16\"", "\"u8\"") == 0);
    expect_refused(tok, SIDE, "\"dtype\"", __LINE__);
    FRESH();
    CHECK(edit_sidecar("\"vocab_size\": 300", "\"vocab_size\": 70000") == 0);
    expect_refused(NULL, SIDE, "needs \"u32\"", __LINE__);
    FRESH();
    CHECK(edit_sidecar("\"token_count\": 100", "\"token_count\": -1") == 0);
    expect_refused(tok, SIDE, "token_count", __LINE__);
    FRESH();
    CHECK(edit_sidecar("\"token_count\": 100", "\"token_count\": 1.5") == 0);
    expect_refused(tok, SIDE, "token_count", __LINE__);
    FRESH();
    CHECK(edit_sidecar("\"token_count\": 100,", "") == 0);
    expect_refused(tok, SIDE, "\"token_count\" is missing", __LINE__);
    FRESH();
    CHECK(edit_sidecar("bitt-tokens", "other-tokens") == 0);
    expect_refused(tok, SIDE, "format", __LINE__);
    FRESH();
    CHECK(edit_sidecar("\"version\": 1", "\"version\": 2") == 0);
    expect_refused(tok, SIDE, "version 2", __LINE__);
    FRESH();
    snprintf(hex, sizeof hex, "\"%s\"", fp);
    CHECK(edit_sidecar(hex, "\"XYZ\"") == 0);
    expect_refused(tok, SIDE, "16 lower-case hex", __LINE__);

    /* ids outside the vocabulary: the sidecar says fewer ids than the file holds */
    FRESH();
    CHECK(edit_sidecar("\"vocab_size\": 300", "\"vocab_size\": 200") == 0);
    expect_refused(NULL, BIN, "outside the vocabulary (200 ids)", __LINE__);
    /* with the tokenizer: its vocab size differs from the sidecar's */
    expect_refused(tok, BIN, "vocab_size 200", __LINE__);
    FRESH();
    CHECK(edit_sidecar("\"eos_id\": 2", "\"eos_id\": 300") == 0);
    expect_refused(tok, SIDE, "eos_id 300", __LINE__);

    /* the sidecar is missing, garbage, not an object */
    FRESH();
    remove(SIDE);
    expect_refused(tok, SIDE, "cannot be read", __LINE__);
    CHECK(write_file(SIDE, "{\"format\": \"bitt-tok", 20) == 0);
    expect_refused(tok, SIDE, "", __LINE__);
    CHECK(write_file(SIDE, "[1, 2]", 6) == 0);
    expect_refused(tok, SIDE, "JSON object", __LINE__);
    CHECK(write_file(SIDE, "\x89PNG\r\n\x1a\n", 8) == 0);
    expect_refused(tok, SIDE, "", __LINE__);
    /* the token file itself is missing */
    FRESH();
    remove(BIN);
    expect_refused(tok, BIN, "cannot open", __LINE__);
#undef FRESH
done:
    tokenizer_free(tok);
    tokenizer_free(other);
}

/* ---- prepare ---- */

static void test_prepare(void) {
    BittError err;
    char *corpus = NULL, *out = NULL;
    size_t clen, pos = 0, start, slen, out_len;
    int k;
    for (k = 0; k < 2; k++) {
        int vocab = k ? 70000 : 512;
        Tokenizer *tok = tokenizer_make_synthetic(vocab, &err);
        const char *inputs[2] = {"ttf_corpus.txt", "ttf_corpus.txt"};
        PrepareStats st;
        TokenFile tf;
        uint64_t at = 0, n_eos = 0, stories = 0;
        int ok = 1;
        CHECK_MSG(tok != NULL, "%s", err.message);
        if (!tok) continue;
        if (!corpus) {
            CHECK(story_corpus_make(5, 40, &corpus, &clen, &err) == 0);
            CHECK(corpus && write_file("ttf_corpus.txt", corpus, clen) == 0);
        }
        CHECK_MSG(prepare_token_file(tok, "synth.json", inputs, 2, BIN, NULL, NULL, &st, &err) == 0, "%s",
                  err.message);
        CHECK(st.n_documents == 80 && st.input_bytes == 2 * clen);
        CHECK_MSG(token_file_open(&tf, BIN, tok, "synth.json", &err) == 0, "%s", err.message);
        if (!tf.data) {
            tokenizer_free(tok);
            continue;
        }
        CHECK(tf.dtype_bytes == (k ? 4 : 2) && tf.n_tokens == st.n_tokens && tf.n_documents == 80);
        CHECK(tf.eos_id == 2 && tf.text_bytes == st.text_bytes);
        /* story by story: the ids up to each </s> decode to the story */
        pos = 0;
        while (ok && at < tf.n_tokens) {
            uint64_t end = at;
            int32_t *ids;
            while (end < tf.n_tokens && token_file_get(&tf, end) != 2) end++;
            if (end == tf.n_tokens) {
                ok = 0;
                break;
            }
            n_eos++;
            if (!story_next(corpus, clen, &pos, &start, &slen)) { /* the second input: the same stories again */
                pos = 0;
                story_next(corpus, clen, &pos, &start, &slen);
            }
            ids = malloc((size_t)(end - at + 1) * sizeof *ids);
            if (!ids) break;
            token_file_read(&tf, at, (size_t)(end - at), ids);
            if (tokenizer_decode(tok, ids, (size_t)(end - at), 0, &out, &out_len, &err) != 0 || out_len != slen ||
                memcmp(out, corpus + start, slen) != 0)
                ok = 0;
            free(out);
            out = NULL;
            free(ids);
            stories++;
            at = end + 1;
        }
        CHECK(ok && n_eos == 80 && stories == 80 && at == tf.n_tokens);
        token_file_close(&tf);
        tokenizer_free(tok);
    }
    /* an unreadable input: an error naming it, no token file left behind */
    {
        Tokenizer *tok = tokenizer_make_synthetic(300, &err);
        const char *inputs[1] = {"ttf_missing.txt"};
        PrepareStats st;
        remove(BIN);
        CHECK(tok && prepare_token_file(tok, "synth.json", inputs, 1, BIN, NULL, NULL, &st, &err) != 0);
        CHECK_ERR_CONTAINS(&err, "ttf_missing.txt");
        CHECK(!exists(BIN) && !exists(BIN ".tmp"));
        tokenizer_free(tok);
    }
    free(corpus);
    remove("ttf_corpus.txt");
}

/* token_file_open_memory (the fuzz harness's way in) reads what
 * token_file_open reads from the same bytes, and refuses what it refuses
 * with the same message. */
static void test_from_memory(void) {
    int32_t ids[300], got[300];
    BittError err, err2;
    TokenFile tf, tf2;
    size_t bin_len, side_len, i;
    for (i = 0; i < 300; i++) ids[i] = (int32_t)((i * 31u) % 300u);
    CHECK(write_tokens(BIN, ids, 300, 300, "0123456789abcdef", &err) == 0);
    char *bin = read_text(BIN, &bin_len), *side = read_text(SIDE, &side_len);
    CHECK(bin && side && bin_len == 600);
    if (!bin || !side) return;
    CHECK_MSG(token_file_open_memory(&tf, BIN, (const uint8_t *)bin, bin_len, side, side_len, NULL, NULL, &err) == 0,
              "%s", err.message);
    CHECK(tf.n_tokens == 300 && tf.dtype_bytes == 2 && tf.vocab_size == 300 && strcmp(tf.path, BIN) == 0);
    token_file_read(&tf, 0, 300, got);
    CHECK(memcmp(ids, got, sizeof ids) == 0);
    token_file_close(&tf);
    /* one byte short: the same refusal both ways */
    CHECK(write_file(BIN, bin, bin_len - 2) == 0);
    CHECK(token_file_open(&tf2, BIN, NULL, NULL, &err2) != 0);
    CHECK(token_file_open_memory(&tf, BIN, (const uint8_t *)bin, bin_len - 2, side, side_len, NULL, NULL, &err) != 0);
    CHECK(strcmp(err.message, err2.message) == 0 && strstr(err.message, "truncated"));
    CHECK(tf.data == NULL && tf.path == NULL);
    /* an id outside the vocabulary */
    bin[0] = (char)0xff, bin[1] = (char)0xff;
    CHECK(token_file_open_memory(&tf, BIN, (const uint8_t *)bin, bin_len, side, side_len, NULL, NULL, &err) != 0);
    CHECK(strstr(err.message, BIN) && strstr(err.message, "outside the vocabulary"));
    /* a sidecar that is not JSON names the sidecar */
    CHECK(token_file_open_memory(&tf, BIN, (const uint8_t *)bin, bin_len, "{", 1, NULL, NULL, &err) != 0);
    CHECK(strstr(err.message, SIDE) != NULL);
    free(bin);
    free(side);
}

int main(void) {
    test_from_memory();
    test_round_trip();
    test_writer_refusals();
    test_bad_files();
    test_prepare();
    remove(BIN);
    remove(SIDE);
    return test_main_end("test_token_file");
}
