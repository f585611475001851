/* fuzz_bpe_train.c: libFuzzer harness of the tokenizer trainer
 * (src/tokenizer/bpe_train*.c, what `bitt tokenizer train --input FILE`
 * runs on any text): arbitrary bytes train a small vocabulary, or give an
 * error; the tokenizer trained has the size asked for at most, and encodes
 * the very text it was trained on so that it decodes back byte for byte. */
#include "fuzz_util.h"

#include "tokenizer/bpe_train.h"

#define MAX_TEXT 8192 /* training cost grows with the text: keep each input fast */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    BittError err = {0};
    if (size > MAX_TEXT) return 0;
    BpeTrainConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = 300;
    cfg.min_frequency = size > 0 ? data[0] % 3 : 0; /* 0, 1 or 2: the pair frequency floor */
    BpeTrainer *t = bpe_trainer_new(&cfg, &err);
    FUZZ_CHECK(t, "bpe_trainer_new: %s", err.message);
    char *text = malloc(size ? size : 1); /* exactly size bytes */
    if (!text) {
        bpe_trainer_free(t);
        return 0;
    }
    memcpy(text, data, size);
    if (bpe_trainer_add_text(t, text, size, &err) != 0) {
        FUZZ_CHECK_ERROR(err);
        bpe_trainer_free(t);
        free(text);
        return 0;
    }
    Tokenizer *tok = bpe_trainer_finish(t, &err);
    bpe_trainer_free(t);
    if (!tok) {
        FUZZ_CHECK_ERROR(err);
        free(text);
        return 0;
    }
    FUZZ_CHECK(tokenizer_vocab_size(tok) <= 300 && tokenizer_vocab_size(tok) >= 259, "vocab %d",
               tokenizer_vocab_size(tok));
    int32_t *ids = NULL;
    size_t n = 0, len = 0;
    char *back = NULL;
    FUZZ_CHECK(tokenizer_encode(tok, text, size, &ids, &n, &err) == 0, "encode: %s", err.message);
    FUZZ_CHECK(tokenizer_decode(tok, ids, n, 0, &back, &len, &err) == 0, "decode: %s", err.message);
    FUZZ_CHECK(len == size && memcmp(back, data, size) == 0, "decode(encode(text)) is not the text it trained on");
    free(back);
    free(ids);
    tokenizer_free(tok);
    free(text);
    return 0;
}
