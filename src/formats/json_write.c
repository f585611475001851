/* json_write.c: our own JSON writer (see json.h; the reader is json_read.c):
 * appends to a malloc'ed, always NUL-terminated buffer; tracks per level
 * whether a comma is needed and pretty-prints like Python's
 * json.dumps(indent=N) when indent > 0. */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fileio.h"
#include "../util/grow.h"

/* ----------------------------------------------------------------- writer */

void jw_init(JsonWriter *w, int indent) {
    memset(w, 0, sizeof *w);
    w->indent = indent > 0 ? indent : 0;
}

void jw_free(JsonWriter *w) {
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

/* Marks the writer failed (further calls do nothing, jw_text() is NULL); returns -1. */
static int jw_fail(JsonWriter *w) {
    w->failed = 1;
    return -1;
}

/* Makes room for extra more bytes plus the terminator; 0 on success. */
static int jw_reserve(JsonWriter *w, size_t extra) {
    if (w->failed) return -1;
    if (extra > SIZE_MAX / 2 - w->len) return jw_fail(w);
    if (grow_array(&w->buf, &w->cap, w->len + extra + 1, 1) != 0) return jw_fail(w);
    return 0;
}

void jw_raw(JsonWriter *w, const char *s, size_t len) {
    if (jw_reserve(w, len)) return;
    if (len) memcpy(w->buf + w->len, s, len);
    w->len += len;
    w->buf[w->len] = 0;
}

static void jw_putc(JsonWriter *w, char c) { jw_raw(w, &c, 1); }

static void jw_newline(JsonWriter *w, int level) {
    size_t n = (size_t)w->indent * (size_t)level;
    if (jw_reserve(w, n + 1)) return;
    w->buf[w->len++] = '\n';
    memset(w->buf + w->len, ' ', n);
    w->len += n;
    w->buf[w->len] = 0;
}

/* Emits the separator before a value (or key) in the current container. */
static void jw_before_value(JsonWriter *w) {
    if (w->failed) return;
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth == 0) return;
    if (w->need_comma[w->depth]) jw_putc(w, ',');
    if (w->indent) jw_newline(w, w->depth);
    w->need_comma[w->depth] = 1;
}

static void jw_begin(JsonWriter *w, char open) {
    jw_before_value(w);
    if (w->depth >= JSON_MAX_DEPTH) jw_fail(w);
    if (w->failed) return;
    jw_putc(w, open);
    w->depth++;
    w->need_comma[w->depth] = 0;
}

static void jw_end(JsonWriter *w, char close) {
    if (w->depth <= 0 || w->after_key) jw_fail(w); /* unbalanced, or a key without value */
    if (w->failed) return;
    int had_items = w->need_comma[w->depth];
    w->depth--;
    if (w->indent && had_items) jw_newline(w, w->depth);
    jw_putc(w, close);
}

void jw_begin_object(JsonWriter *w) { jw_begin(w, '{'); }
void jw_end_object(JsonWriter *w) { jw_end(w, '}'); }
void jw_begin_array(JsonWriter *w) { jw_begin(w, '['); }
void jw_end_array(JsonWriter *w) { jw_end(w, ']'); }

/* Writes s (len bytes) as a quoted, escaped JSON string. */
static void jw_quoted(JsonWriter *w, const char *s, size_t len) {
    jw_putc(w, '"');
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        jw_raw(w, s + run, i - run);
        run = i + 1;
        static const char plain[] = "\"\\\n\r\t\b\f", letter[] = "\"\\nrtbf";
        const char *hit = memchr(plain, c, sizeof plain - 1);
        char esc[8] = {'\\', hit ? letter[hit - plain] : 0};
        if (!hit) snprintf(esc, sizeof esc, "\\u%04X", c);
        jw_raw(w, esc, hit ? 2 : 6);
    }
    jw_raw(w, s + run, len - run);
    jw_putc(w, '"');
}

static void jw_key_len(JsonWriter *w, const char *key, size_t len) {
    if (w->depth == 0 || w->after_key) jw_fail(w); /* a key outside an object, or twice */
    if (w->failed) return;
    jw_before_value(w);
    jw_quoted(w, key, len);
    jw_raw(w, ": ", w->indent ? 2 : 1);
    w->after_key = 1;
}

void jw_key(JsonWriter *w, const char *key) {
    jw_key_len(w, key ? key : "", key ? strlen(key) : 0);
}

void jw_string_len(JsonWriter *w, const char *s, size_t len) {
    if (w->failed) return;
    jw_before_value(w);
    jw_quoted(w, s ? s : "", s ? len : 0);
}

/* A NULL s writes JSON null. */
void jw_string(JsonWriter *w, const char *s) {
    if (s)
        jw_string_len(w, s, strlen(s));
    else
        jw_null(w);
}

void jw_number(JsonWriter *w, double x) {
    if (!isfinite(x)) jw_fail(w);
    if (w->failed) return;
    char tmp[40];
    if (x == floor(x) && fabs(x) < 9007199254740992.0) { /* 2^53 */
        snprintf(tmp, sizeof tmp, "%.0f", x);            /* -0.0 prints "-0" */
    } else {
        for (int prec = 9; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, x);
            if (strtod(tmp, NULL) == x) break;
        }
    }
    jw_before_value(w);
    jw_raw(w, tmp, strlen(tmp));
}

void jw_int(JsonWriter *w, int64_t x) {
    if (w->failed) return;
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%" PRId64, x);
    jw_before_value(w);
    jw_raw(w, tmp, strlen(tmp));
}

void jw_bool(JsonWriter *w, int b) {
    if (w->failed) return;
    jw_before_value(w);
    jw_raw(w, b ? "true" : "false", b ? 4 : 5);
}

void jw_null(JsonWriter *w) {
    if (w->failed) return;
    jw_before_value(w);
    jw_raw(w, "null", 4);
}

void jw_value(JsonWriter *w, const JsonValue *v) {
    if (w->failed) return;
    switch (v ? v->type : JSON_NULL) {
    case JSON_NULL: jw_null(w); break;
    case JSON_BOOL: jw_bool(w, v->u.boolean); break;
    case JSON_NUMBER: jw_number(w, v->u.number); break;
    case JSON_STRING: jw_string_len(w, v->u.string.ptr, v->u.string.len); break;
    case JSON_ARRAY:
        jw_begin_array(w);
        for (size_t i = 0; i < v->u.array.count && !w->failed; i++)
            jw_value(w, &v->u.array.items[i]);
        jw_end_array(w);
        break;
    case JSON_OBJECT:
        jw_begin_object(w);
        for (size_t i = 0; i < v->u.object.count && !w->failed; i++) {
            const JsonMember *m = &v->u.object.members[i];
            jw_key_len(w, m->key, m->key_len);
            jw_value(w, &m->value);
        }
        jw_end_object(w);
        break;
    default: jw_fail(w); break;
    }
}

const char *jw_text(const JsonWriter *w) {
    if (w->failed) return NULL;
    return w->buf ? w->buf : "";
}

int jw_write_file(const JsonWriter *w, const char *path, BittError *err) {
    const char *text = jw_text(w);
    if (!text) return bitt_fail(err, "%s: out of memory writing the JSON", path);
    const void *parts[2] = {text, "\n"};
    const size_t lens[2] = {w->len, 1};
    return file_write_atomic(path, parts, lens, 2, err);
}
