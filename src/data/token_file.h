/* token_file.h: token files, the output of `bitt prepare` and the input of
 * training. TOKENS.bin is the token ids as little-endian u16 (u32 when the
 * vocabulary has more than 65,536 ids), nothing else; TOKENS.bin.json, the
 * sidecar, says how to read it and what made it:
 *   {"format": "bitt-tokens", "version": 1, "dtype": "u16" | "u32",
 *    "token_count": N, "text_bytes": B, "documents": D, "vocab_size": V,
 *    "eos_id": 2, "tokenizer": "path/of/tokenizer.json",
 *    "tokenizer_fingerprint": "<16 hex digits>", "inputs": ["a.txt", ...]}
 * text_bytes counts the UTF-8 bytes that were encoded (the stories, without
 * separators); documents counts the stories (each ends with eos_id). The
 * fingerprint is FNV-1a 64 of the compact tokenizer.json text that
 * tokenizer_write_json gives for the tokenizer, so any copy or re-save of
 * the same tokenizer matches and any other tokenizer does not. */
#ifndef BITT_TOKEN_FILE_H
#define BITT_TOKEN_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "../tokenizer/tokenizer.h"
#include "../util/error.h"

#define TOKEN_FILE_FORMAT "bitt-tokens"
#define TOKEN_FILE_VERSION 1

/* FNV-1a 64 of len bytes, continuing from h (start with FNV1A64_INIT). */
#define FNV1A64_INIT 0xcbf29ce484222325ull
uint64_t fnv1a64(const void *data, size_t len, uint64_t h);

/* The tokenizer's fingerprint as 16 lower-case hex digits and a NUL. */
int tokenizer_fingerprint(const Tokenizer *tok, char hex[17], BittError *err);

/* Bytes per token for a vocabulary size: 2 up to 65,536 ids, else 4. */
int token_dtype_bytes(int32_t vocab_size);

/* ---- reading ---- */

typedef struct TokenFile {
    char *path;
    int dtype_bytes; /* 2 or 4 */
    uint64_t n_tokens;
    uint64_t text_bytes;
    uint64_t n_documents;
    int32_t vocab_size;
    int32_t eos_id;
    char fingerprint[17];
    uint8_t *data; /* n_tokens * dtype_bytes bytes, little-endian */
} TokenFile;

/* Opens TOKENS.bin and its sidecar, checks the sidecar's fields, the file
 * size against token_count (a truncated or padded file is an error) and
 * every id against vocab_size, then loads the tokens. With tok non-NULL
 * (tokenizer_path names it in messages), also checks that the file was
 * made with that tokenizer: same fingerprint and vocabulary size. On error
 * nothing is left open. */
int token_file_open(TokenFile *tf, const char *path, const Tokenizer *tok, const char *tokenizer_path,
                    BittError *err);
/* The same checks on a token file already in memory: tokens_len bytes of
 * ids and the sidecar's text (path names both in messages, as
 * token_file_open does; the tokens are copied). */
int token_file_open_memory(TokenFile *tf, const char *path, const uint8_t *tokens, size_t tokens_len,
                           const char *sidecar, size_t sidecar_len, const Tokenizer *tok, const char *tokenizer_path,
                           BittError *err);
void token_file_close(TokenFile *tf);

static inline int32_t token_file_get(const TokenFile *tf, uint64_t i) {
    const uint8_t *p = tf->data + i * (uint64_t)tf->dtype_bytes;
    if (tf->dtype_bytes == 2) return (int32_t)(p[0] | (uint32_t)p[1] << 8);
    return (int32_t)(p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* Copies n ids from position start (start + n <= n_tokens). */
void token_file_read(const TokenFile *tf, uint64_t start, size_t n, int32_t *out);

/* ---- writing ---- */

typedef struct TokenWriter {
    FILE *f;
    char *path, *tmp_path;
    int dtype_bytes;
    int32_t vocab_size;
    uint64_t n_tokens;
    uint8_t buf[1 << 16];
    size_t buf_len;
} TokenWriter;

/* What the sidecar records besides the counts the writer keeps. */
typedef struct TokenFileMeta {
    const char *tokenizer_path;
    const char *fingerprint;
    int32_t eos_id;
    uint64_t text_bytes;
    uint64_t n_documents;
    const char *const *inputs;
    int n_inputs;
} TokenFileMeta;

/* Starts writing path (to path.tmp until token_writer_finish). */
int token_writer_open(TokenWriter *w, const char *path, int32_t vocab_size, BittError *err);
/* Appends ids (each must be in 0..vocab_size-1). */
int token_writer_write(TokenWriter *w, const int32_t *ids, size_t n, BittError *err);
/* Closes the file, moves it into place and writes the sidecar. Frees w. */
int token_writer_finish(TokenWriter *w, const TokenFileMeta *meta, BittError *err);
/* Gives up: removes the temporary file. Frees w. */
void token_writer_abort(TokenWriter *w);

#endif
