/* bpe_train_internal.h: the BpeTrainer struct shared by the trainer's two
 * source files (bpe_train_words.c: configuration and word counting;
 * bpe_train.c: the merge loop and the tokenizer it builds). Not part of the
 * public API. */
#ifndef BITT_BPE_TRAIN_INTERNAL_H
#define BITT_BPE_TRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "bpe_train.h"

/* A distinct pre-token: its bytes in BpeTrainer.pool and how often it occurs. */
typedef struct BpeWord {
    uint64_t off;
    uint32_t len;
    uint32_t hash;
    uint64_t count;
} BpeWord;

struct BpeTrainer {
    int vocab_size;
    uint64_t min_frequency;
    BpeProgressFn progress;
    void *progress_ctx;

    /* All special tokens, <unk> <s> </s> first, then the extra ones (their
     * ids are their indices), and the order in which text is matched
     * against them (longest first). */
    char **special;
    size_t *special_len;
    int n_special;
    int *match_order;
    unsigned char special_first[256]; /* 1 if some special token starts with this byte */

    /* The word map: open addressing over words (slot = index + 1, 0 = empty). */
    unsigned char *pool;
    size_t pool_len, pool_cap;
    BpeWord *words;
    size_t n_words, cap_words;
    uint32_t *slots;
    size_t n_slots; /* a power of two */
    uint64_t total_words;
    int finished;
};

#endif
