/* pretokenize.c: the GPT-2 split pattern as a scanner (see pretokenize.h).
 *
 * At each position the alternatives are tried in the regex's order
 * (leftmost-first):
 *   1. an ASCII apostrophe followed by s, t, re, ve, m, ll or d (case-sensitive);
 *   2-4. an optional U+0020 then a maximal run of letters, of numbers, or of
 *      "other" characters (not whitespace, letter or number);
 *   5. a whitespace run that ends the text is taken whole; one followed by a
 *      non-space gives its last character back (\s+(?!\S) backtracks one
 *      character) when it has more than one;
 *   6. otherwise the single whitespace character (\s+). */
#include "pretokenize.h"

#include <stdint.h>

#include "unicode_tables.h"
#include "utf8.h"

enum { CLS_OTHER = 0, CLS_LETTER = 1, CLS_NUMBER = 2, CLS_SPACE = 3 };

/* Classes of the ASCII characters. */
static const unsigned char ascii_class[128] = {
    /* 0x00-0x08 */ 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* \t \n \v \f \r */ 3, 3, 3, 3, 3,
    /* 0x0E-0x1F */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* space !"#$%&'()*+,-./ */ 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0-9 */ 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    /* :;<=>?@ */ 0, 0, 0, 0, 0, 0, 0,
    /* A-Z */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* [\]^_` */ 0, 0, 0, 0, 0, 0,
    /* a-z */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* {|}~ DEL */ 0, 0, 0, 0, 0,
};

/* The class of the character at s[pos] (pos < len); its length in *n. */
static inline int char_class(const unsigned char *s, size_t len, size_t pos, size_t *n) {
    uint32_t cp;
    if (s[pos] < 0x80) {
        *n = 1;
        return ascii_class[s[pos]];
    }
    cp = utf8_decode(s + pos, len - pos, n);
    if (cp == UTF8_INVALID) return CLS_OTHER;
    if (unicode_is_letter(cp)) return CLS_LETTER;
    if (unicode_is_number(cp)) return CLS_NUMBER;
    if (unicode_is_whitespace(cp)) return CLS_SPACE;
    return CLS_OTHER;
}

/* End of the maximal run of class cls that starts at pos. */
static size_t run_end(const unsigned char *s, size_t len, size_t pos, int cls) {
    size_t n;
    while (pos < len) {
        unsigned c = s[pos];
        if (c < 0x80) {
            if (ascii_class[c] != cls) break;
            pos++;
            continue;
        }
        if (char_class(s, len, pos, &n) != cls) break;
        pos += n;
    }
    return pos;
}

/* Length of a contraction ('s 't 're 've 'm 'll 'd) at s[pos] == '\'', or 0. */
static size_t contraction_len(const unsigned char *s, size_t len, size_t pos) {
    size_t left = len - pos;
    if (left < 2) return 0;
    switch (s[pos + 1]) {
    case 's': case 't': case 'm': case 'd':
        return 2;
    case 'r': case 'v':
        return (left >= 3 && s[pos + 2] == 'e') ? 3 : 0;
    case 'l':
        return (left >= 3 && s[pos + 2] == 'l') ? 3 : 0;
    default:
        return 0;
    }
}

size_t pretok_piece_len(const char *text, size_t len, size_t pos) {
    const unsigned char *s = (const unsigned char *)text;
    size_t n, start = pos, last = pos;
    int cls;

    if (s[pos] == '\'') {
        size_t c = contraction_len(s, len, pos);
        if (c) return c;
    }
    if (s[pos] == ' ' && pos + 1 < len) {
        cls = char_class(s, len, pos + 1, &n);
        if (cls != CLS_SPACE) return run_end(s, len, pos + 1 + n, cls) - start;
    }
    cls = char_class(s, len, pos, &n);
    if (cls != CLS_SPACE) return run_end(s, len, pos + n, cls) - start;

    /* A whitespace run: find its end, remembering where its last char starts. */
    pos += n;
    while (pos < len) {
        size_t m;
        if (char_class(s, len, pos, &m) != CLS_SPACE) break;
        last = pos;
        pos += m;
    }
    if (pos == len) return pos - start;   /* ends the text: whole */
    if (last > start) return last - start; /* give the last char back */
    return pos - start;                    /* a single char: \s+ */
}

size_t pretokenize(const char *text, size_t len, PretokPiece *pieces, size_t max) {
    size_t pos = 0, count = 0;
    while (pos < len) {
        size_t n = pretok_piece_len(text, len, pos);
        if (count < max) {
            pieces[count].offset = pos;
            pieces[count].length = n;
        }
        count++;
        pos += n;
    }
    return count;
}
