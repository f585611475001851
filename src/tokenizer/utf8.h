/* utf8.h: decoding one UTF-8 code point at a time, with the byte-level
 * tokenizer's rule for bad input: an invalid, truncated, overlong or
 * surrogate sequence consumes exactly ONE byte and is reported as invalid
 * (the pre-tokenizer treats it as a character that is neither letter, number
 * nor whitespace). */
#ifndef BITT_UTF8_H
#define BITT_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_INVALID 0xFFFFFFFFu

/* Decodes the code point at s[0..len) (len >= 1). Stores the number of bytes
 * consumed (1..4) in *used and returns the code point, or UTF8_INVALID with
 * *used = 1. */
uint32_t utf8_decode(const unsigned char *s, size_t len, size_t *used);

/* Encodes cp (< 0x110000) into out (room for 4 bytes); returns the length. */
size_t utf8_encode(uint32_t cp, char *out);

#endif
