/* textbuf.h: a growing text buffer with printf-style appends (for SVG
 * plots, generated text, reports). An allocation failure is sticky: later
 * appends do nothing and `failed` says so once at the end. */
#ifndef BITT_TEXTBUF_H
#define BITT_TEXTBUF_H

#include <stddef.h>

typedef struct TextBuf {
    char *p;         /* NUL-terminated text (NULL while empty) */
    size_t len, cap;
    int failed;
} TextBuf;

void tb_printf(TextBuf *b, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void tb_append(TextBuf *b, const char *s, size_t n);
/* s with <, > and & escaped for XML text. */
void tb_xml_text(TextBuf *b, const char *s);
void tb_free(TextBuf *b);

#endif
