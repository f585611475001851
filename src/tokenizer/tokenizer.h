/* tokenizer.h: the byte-level BPE tokenizer runtime (Hugging Face
 * tokenizer.json, model.type "BPE", ByteLevel pre-tokenizer with the GPT-2
 * split pattern, ByteLevel decoder, added tokens).
 *
 * Ids: SPEC section 2 fixes <unk> 0, <s> 1, </s> 2 for the files this
 * project writes; loaded files may have their own ids (look them up with
 * tokenizer_token_id). Text is arbitrary bytes: invalid UTF-8 is split as
 * the byte-level scheme does (each invalid byte its own "other" character),
 * so decode(encode(x)) == x for every byte string x. */
#ifndef BITT_TOKENIZER_H
#define BITT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "../formats/json.h"
#include "../util/error.h"

typedef struct Tokenizer Tokenizer;

/* Builds a tokenizer from a parsed tokenizer.json object. source names the
 * file in error messages. Accepts merges as "a b" strings or ["a","b"]
 * pairs. Rejects model types other than BPE, non-ByteLevel pre-tokenizers,
 * normalizers, duplicate ids, merges naming unknown tokens, and added tokens
 * whose id differs from the one Hugging Face would give them (an added token
 * outside model.vocab takes the next free id). */
Tokenizer *tokenizer_from_json(const JsonValue *root, const char *source, BittError *err);
/* Reads and parses a tokenizer.json file. */
Tokenizer *tokenizer_load_file(const char *path, BittError *err);
void tokenizer_free(Tokenizer *tok);

/* Number of ids (largest id + 1, added tokens included). */
int tokenizer_vocab_size(const Tokenizer *tok);

/* Encodes len bytes of text. Adds no special tokens; added tokens that
 * appear literally in the text are matched (as Hugging Face does). Safe to
 * call from several threads on one tokenizer (the word cache is per call).
 * On success *ids is malloc'd (caller frees) with *n ids; returns 0. */
int tokenizer_encode(const Tokenizer *tok, const char *text, size_t len,
                     int32_t **ids, size_t *n, BittError *err);

/* The raw bytes a token stands for (byte-level decoded; an added token gives
 * its content). Returns NULL for an id out of range. Not NUL-terminated. */
const char *tokenizer_token_bytes(const Tokenizer *tok, int32_t id, size_t *len);

/* Decodes ids to bytes; skip_special drops special added tokens.
 * *text is malloc'd and NUL-terminated; out-of-range ids are an error. */
int tokenizer_decode(const Tokenizer *tok, const int32_t *ids, size_t n, int skip_special,
                     char **text, size_t *len, BittError *err);

/* Id of a token by its vocabulary string (byte-level form, e.g. "Ġthe", or
 * an added token's content such as "</s>"); -1 if absent. */
int32_t tokenizer_token_id(const Tokenizer *tok, const char *token);
/* 1 if id is a special added token. */
int tokenizer_is_special(const Tokenizer *tok, int32_t id);

/* Writes the tokenizer as a Hugging Face tokenizer.json object (the value,
 * not a file) that the Python `tokenizers` library loads with the same ids. */
void tokenizer_write_json(const Tokenizer *tok, JsonWriter *w);
/* Writes tokenizer.json to path. */
int tokenizer_save_file(const Tokenizer *tok, const char *path, BittError *err);

/* A deterministic tokenizer of exactly vocab_size ids (>= 259) for
 * random-weight models and tests: <unk> <s> </s>, the 256 byte tokens, then
 * synthetic merges of common letter pairs until vocab_size is reached. */
Tokenizer *tokenizer_make_synthetic(int vocab_size, BittError *err);

#endif
