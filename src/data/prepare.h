/* prepare.h: encoding text corpora into a token file (`bitt prepare`).
 * Each input is read in chunks of whole stories (text_chunks.h) and cut
 * into stories at `<|endoftext|>` (tokenizer/story_split.h: the newlines
 * around a separator are trimmed, empty stories skipped); every story is
 * encoded with no special tokens added and followed by the tokenizer's
 * </s> id, so each file ends with </s>. The tokens go to a token file and
 * its sidecar (token_file.h). An input without any story (empty, or only
 * separators) is an error. */
#ifndef BITT_PREPARE_H
#define BITT_PREPARE_H

#include <stdint.h>

#include "../tokenizer/tokenizer.h"
#include "../util/error.h"

/* Called after each chunk: bytes of the current input done of total. */
typedef void (*PrepareProgressFn)(void *ctx, const char *input, uint64_t done, uint64_t total);

typedef struct PrepareStats {
    uint64_t n_tokens;    /* tokens written, </s> included */
    uint64_t text_bytes;  /* bytes of story text encoded */
    uint64_t input_bytes; /* bytes of the input files */
    uint64_t n_documents; /* stories */
    double encode_seconds; /* time spent in the encoder */
} PrepareStats;

/* Encodes the inputs with tok (tokenizer_path names it in the sidecar and
 * messages) into out_path + out_path.json. On error nothing is left under
 * out_path. */
int prepare_token_file(const Tokenizer *tok, const char *tokenizer_path, const char *const *inputs, int n_inputs,
                       const char *out_path, PrepareProgressFn progress, void *progress_ctx, PrepareStats *stats,
                       BittError *err);

/* Encodes one text in memory the same way: every story followed by </s>
 * (the ids `bitt prepare` would write for it). *ids is malloc'd (caller
 * frees); stats counts tokens, story bytes and stories. A text without any
 * story is an error. */
int prepare_encode_text(const Tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n,
                        PrepareStats *stats, BittError *err);

#endif
