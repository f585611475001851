/* fuzz_token_file.c: libFuzzer harness of token files and their sidecar
 * (src/data/token_file.c, what `bitt train --data` reads), through
 * token_file_open_memory, which makes the same checks as token_file_open.
 * Input: u32 LE length n, n bytes of TOKENS.bin.json, then TOKENS.bin
 * (fuzz_split). Opened once without a tokenizer and once with a fixed
 * synthetic one; a file that opens has every id inside its vocabulary. */
#include "fuzz_util.h"

#include "data/token_file.h"

static Tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    BittError err;
    (void)argc, (void)argv;
    if (!(tok = tokenizer_make_synthetic(FUZZ_VOCAB, &err))) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *side, *tokens;
    size_t side_len, tokens_len;
    fuzz_split(data, size, &side, &side_len, &tokens, &tokens_len);
    char *s = malloc(side_len ? side_len : 1);
    uint8_t *t = malloc(tokens_len ? tokens_len : 1);
    if (!s || !t) {
        free(s);
        free(t);
        return 0;
    }
    memcpy(s, side, side_len);
    memcpy(t, tokens, tokens_len);
    for (int with_tok = 0; with_tok < 2; with_tok++) {
        BittError err = {0};
        TokenFile tf;
        if (token_file_open_memory(&tf, "fuzz.bin", t, tokens_len, s, side_len, with_tok ? tok : NULL,
                                   "tok.json", &err) != 0) {
            FUZZ_CHECK_NAMES(err, "fuzz.bin"); /* the token file or its sidecar, fuzz.bin.json */
            FUZZ_CHECK(tf.data == NULL && tf.path == NULL, "a refused token file left memory held");
            continue;
        }
        FUZZ_CHECK(tf.n_tokens * (uint64_t)tf.dtype_bytes == tokens_len, "count and bytes disagree");
        int32_t buf[64];
        for (uint64_t i = 0; i < tf.n_tokens; i += 64) {
            size_t n = tf.n_tokens - i < 64 ? (size_t)(tf.n_tokens - i) : 64;
            token_file_read(&tf, i, n, buf);
            for (size_t k = 0; k < n; k++)
                FUZZ_CHECK(buf[k] >= 0 && buf[k] < tf.vocab_size, "id %d outside %d", (int)buf[k], (int)tf.vocab_size);
        }
        FUZZ_CHECK(tf.eos_id < tf.vocab_size, "eos_id %d outside %d", (int)tf.eos_id, (int)tf.vocab_size);
        token_file_close(&tf);
    }
    free(s);
    free(t);
    return 0;
}
