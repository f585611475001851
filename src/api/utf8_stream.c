/* utf8_stream.c: holding back an unfinished UTF-8 character between pieces. */
#include "utf8_stream.h"
#include "../util/grow.h"

#include <stdlib.h>
#include <string.h>

void utf8_stream_init(Utf8Stream *s) { memset(s, 0, sizeof *s); }

void utf8_stream_free(Utf8Stream *s) {
    free(s->buf);
    memset(s, 0, sizeof *s);
}

/* Length a lead byte announces (0 for a continuation or invalid byte). */
static size_t lead_length(unsigned char c) {
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

/* Bytes at the end of buf[0..len) that start a character still missing bytes. */
static size_t unfinished_tail(const char *buf, size_t len) {
    for (size_t back = 1; back <= 3 && back <= len; back++) {
        unsigned char c = (unsigned char)buf[len - back];
        if ((c & 0xC0) == 0x80) continue; /* continuation: look further back */
        size_t need = lead_length(c);
        return need > back ? back : 0;
    }
    return 0;
}

int utf8_stream_push(Utf8Stream *s, const char *bytes, size_t n, const char **piece, size_t *plen) {
    /* drop the piece returned last time, keep the held bytes */
    if (s->len > s->held) memmove(s->buf, s->buf + s->len - s->held, s->held);
    s->len = s->held;
    if (grow_array(&s->buf, &s->cap, s->len + n + 1, 1) != 0) return -1;
    if (n) memcpy(s->buf + s->len, bytes, n); /* bytes may be NULL when n is 0 */
    s->len += n;
    s->held = unfinished_tail(s->buf, s->len);
    *piece = s->buf;
    *plen = s->len - s->held;
    return 0;
}

void utf8_stream_flush(Utf8Stream *s, const char **piece, size_t *plen) {
    if (s->len > s->held && s->held) memmove(s->buf, s->buf + s->len - s->held, s->held);
    *piece = s->buf;
    *plen = s->held;
    s->len = s->held = 0;
}
