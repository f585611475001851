/* utf8_stream.h: turns a stream of token bytes into pieces of text that end
 * on UTF-8 character boundaries (a token may hold half a character). */
#ifndef BITT_UTF8_STREAM_H
#define BITT_UTF8_STREAM_H

#include <stddef.h>

typedef struct Utf8Stream {
    char *buf;        /* the piece being returned, then the held-back bytes */
    size_t len, cap;
    size_t held;      /* bytes of an unfinished character kept for the next push */
} Utf8Stream;

void utf8_stream_init(Utf8Stream *s);
void utf8_stream_free(Utf8Stream *s);
/* Appends n bytes (bytes may be NULL when n is 0); *piece and *plen receive the text that is complete now (valid
 * until the next call). Bytes that can never complete a character are
 * passed through as they are. Returns -1 on allocation failure. */
int utf8_stream_push(Utf8Stream *s, const char *bytes, size_t n, const char **piece, size_t *plen);
/* Whatever is still held back. */
void utf8_stream_flush(Utf8Stream *s, const char **piece, size_t *plen);

#endif
