/* textbuf.c: the growing text buffer (see textbuf.h). */
#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

void tb_append(TextBuf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (grow_array(&b->p, &b->cap, b->len + n + 1, 1) != 0) {
        b->failed = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void tb_printf(TextBuf *b, const char *fmt, ...) {
    if (b->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (b->p && b->len + (size_t)n < b->cap) {
        b->len += (size_t)n;
        return;
    }
    if (grow_array(&b->p, &b->cap, b->len + (size_t)n + 1, 1) != 0) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void tb_xml_text(TextBuf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '<') tb_append(b, "&lt;", 4);
        else if (*s == '>') tb_append(b, "&gt;", 4);
        else if (*s == '&') tb_append(b, "&amp;", 5);
        else tb_append(b, s, 1);
    }
}

void tb_free(TextBuf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
