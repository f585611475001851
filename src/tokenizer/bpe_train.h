/* bpe_train.h: training a byte-level BPE tokenizer (the `bitt tokenizer
 * train` library side).
 *
 * Text goes in with bpe_trainer_add_text(): it is cut into stories at
 * `<|endoftext|>` (story_split.h; the separator itself is never learned),
 * split on the special tokens (which are never merged with their
 * neighbours), pre-tokenized with the GPT-2 pattern (pretokenize.h), and
 * each distinct pre-token ("word") is counted in a hash map. Then
 * bpe_trainer_finish() learns merges until the vocabulary has vocab_size
 * ids or no pair occurs min_frequency times (default 0, as in Hugging
 * Face: pairs seen once still merge; training stops only when no pair is
 * left). It follows Hugging Face's BpeTrainer step for step, so the same
 * words give the same merges in the same order:
 *   - ids: <unk> 0, <s> 1, </s> 2, the extra special tokens, the 256 byte
 *     tokens in the code-point order of their byte-level characters (bytes
 *     '!'..'~' first, as in GPT-2's vocabulary and in HF's alphabet, which
 *     it sorts by code point), then one id per new token (SPEC section 2);
 *   - each step merges the adjacent pair with the highest count (summed
 *     over words times their counts); ties go to the pair with the smaller
 *     left id, then the smaller right id (HF's order: an older token
 *     first), so the result depends only on the text, never on hash or
 *     insertion order;
 *   - a merge whose string is already a token reuses that token's id;
 *   - pair counts are kept up to date incrementally: an index from each
 *     pair to the words that contain it limits every merge to the words it
 *     touches, and a max-heap with lazy deletion (a popped entry whose
 *     count is stale is pushed back with the current count) finds the best
 *     pair.
 * Inside a word a merge applies left to right, as the runtime does. */
#ifndef BITT_BPE_TRAIN_H
#define BITT_BPE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "../util/error.h"
#include "tokenizer.h"

#define BPE_TRAIN_MAX_VOCAB 1000000
#define BPE_TRAIN_DEFAULT_MIN_FREQUENCY 0

/* Called now and then during bpe_trainer_finish (done of total merges). */
typedef void (*BpeProgressFn)(void *ctx, uint64_t done, uint64_t total);

typedef struct BpeTrainConfig {
    int vocab_size;              /* ids wanted in all: >= 259 + n_special */
    uint64_t min_frequency;      /* a pair must occur this often to merge (0 and 1: once) */
    const char *const *special;  /* extra special tokens after <unk> <s> </s> */
    int n_special;
    BpeProgressFn progress;      /* may be NULL */
    void *progress_ctx;
} BpeTrainConfig;

typedef struct BpeTrainer BpeTrainer;

/* Checks the configuration (vocab size, special tokens) and makes an empty
 * trainer; NULL with err filled on error. */
BpeTrainer *bpe_trainer_new(const BpeTrainConfig *cfg, BittError *err);
void bpe_trainer_free(BpeTrainer *t);

/* Counts the words of len bytes of text (any bytes). Text given in several
 * calls must be cut right after a separator (or at the end of a story
 * file): each call is a whole number of stories. */
int bpe_trainer_add_text(BpeTrainer *t, const char *text, size_t len, BittError *err);

/* Distinct words and the total of their counts so far. */
size_t bpe_trainer_distinct_words(const BpeTrainer *t);
uint64_t bpe_trainer_total_words(const BpeTrainer *t);

/* Learns the merges and returns the tokenizer (NULL with err filled: no
 * text was added, or out of memory). Call once. */
Tokenizer *bpe_trainer_finish(BpeTrainer *t, BittError *err);

#endif
