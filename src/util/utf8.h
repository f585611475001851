/* utf8.h: the one UTF-8 validity rule of the CLI's JSON output and the
 * server's answers (invalid bytes become U+FFFD there). */
#ifndef BITT_UTF8_H
#define BITT_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0 if it is
 * invalid (a bad lead or continuation byte, overlong, a surrogate, > U+10FFFF). */
static inline size_t utf8_valid_len(const unsigned char *s, size_t n) {
    if (s[0] < 0x80) return 1;
    size_t len = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
               : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (s[0] == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
    if (s[0] == 0xED && s[1] > 0x9F) return 0; /* surrogate */
    if (s[0] == 0xF0 && s[1] < 0x90) return 0; /* overlong */
    if (s[0] == 0xF4 && s[1] > 0x8F) return 0; /* > U+10FFFF */
    return len;
}

#endif
