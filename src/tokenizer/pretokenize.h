/* pretokenize.h: the GPT-2 split pattern that Hugging Face's ByteLevel
 * pre-tokenizer (use_regex = true) applies,
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * hand-coded as a scanner over raw bytes (\s = Unicode White_Space). Invalid
 * UTF-8 bytes count as one character each that is neither letter, number
 * nor whitespace. The pieces are contiguous and cover the whole text. */
#ifndef BITT_PRETOKENIZE_H
#define BITT_PRETOKENIZE_H

#include <stddef.h>

typedef struct PretokPiece {
    size_t offset, length;
} PretokPiece;

/* Length in bytes (>= 1) of the piece that starts at text[pos]; pos < len. */
size_t pretok_piece_len(const char *text, size_t len, size_t pos);

/* Splits text into pieces: stores the first max of them in pieces (which may
 * be NULL when max is 0) and returns how many there are in all. */
size_t pretokenize(const char *text, size_t len, PretokPiece *pieces, size_t max);

#endif
