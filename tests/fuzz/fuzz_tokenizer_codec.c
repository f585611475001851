/* fuzz_tokenizer_codec.c: libFuzzer harness of the tokenizer runtime on
 * arbitrary bytes (src/tokenizer/tokenizer.c), with a fixed synthetic
 * tokenizer (byte tokens, merges, the added tokens <unk> <s> </s>):
 * encode(x) gives ids in range and decode(encode(x)) == x for every byte
 * string x (tokenizer.h); the same bytes read as u16 ids decode or are
 * refused (an id out of range), with and without special tokens. */
#include "fuzz_util.h"

static Tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    BittError err;
    (void)argc, (void)argv;
    if (!(tok = tokenizer_make_synthetic(FUZZ_VOCAB + 212, &err))) abort(); /* 512 ids: some merges */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    BittError err = {0};
    const int vocab = tokenizer_vocab_size(tok);
    int32_t *ids = NULL;
    size_t n = 0, len = 0;
    char *text = NULL;
    char *copy = malloc(size ? size : 1); /* exactly size bytes, no NUL: ASan sees a read past them */
    if (!copy) return 0;
    memcpy(copy, data, size);
    FUZZ_CHECK(tokenizer_encode(tok, copy, size, &ids, &n, &err) == 0, "encode failed: %s", err.message);
    for (size_t i = 0; i < n; i++) FUZZ_CHECK(ids[i] >= 0 && ids[i] < vocab, "id %d of %d", (int)ids[i], vocab);
    FUZZ_CHECK(tokenizer_decode(tok, ids, n, 0, &text, &len, &err) == 0, "decode failed: %s", err.message);
    FUZZ_CHECK(len == size && memcmp(text, data, size) == 0, "decode(encode(x)) != x (%zu bytes, %zu back)", size, len);
    FUZZ_CHECK(text[len] == '\0', "decoded text not NUL-terminated");
    free(text);
    free(ids);
    free(copy);
    /* the bytes as ids (u16 LE, some out of range) */
    size_t m = size / 2;
    int32_t *raw = malloc((m ? m : 1) * sizeof *raw);
    if (!raw) return 0;
    int in_range = 1;
    for (size_t i = 0; i < m; i++) {
        raw[i] = (int32_t)(data[2 * i] | data[2 * i + 1] << 8) - 8; /* a few negative ids too */
        if (raw[i] < 0 || raw[i] >= vocab) in_range = 0;
    }
    for (int skip = 0; skip < 2; skip++) {
        int rc = tokenizer_decode(tok, raw, m, skip, &text, &len, &err);
        FUZZ_CHECK((rc == 0) == in_range, "decode of ids %s", in_range ? "in range failed" : "out of range succeeded");
        if (rc == 0) {
            FUZZ_CHECK(strlen(text) <= len, "length");
            free(text);
        } else {
            FUZZ_CHECK_ERROR(err);
        }
    }
    free(raw);
    return 0;
}
