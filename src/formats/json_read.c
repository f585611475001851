/* json_read.c: our own JSON reader (see json.h; the writer is json_write.c):
 * a recursive-descent parser (recursion bounded by JSON_MAX_DEPTH)
 * over a byte buffer that is NOT NUL-terminated; every read is checked
 * against len. All values and decoded strings live in an arena owned by the
 * JsonDoc. Array items / object members are collected on growable scratch
 * stacks while parsing (their count is unknown until the closing bracket) and
 * copied into the arena once complete, so parsing is linear in the input. */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fileio.h"

/* ------------------------------------------------------------------ arena */

typedef struct ArenaBlock {
    struct ArenaBlock *next;
    size_t used; /* bytes of data[] handed out */
    size_t cap;  /* bytes of data[] */
    unsigned char data[];
} ArenaBlock;

struct JsonDoc {
    ArenaBlock *blocks;  /* newest first */
    size_t next_cap;     /* data size of the next block to allocate */
    JsonValue root;
};

#define ARENA_MIN_BLOCK ((size_t)4096)
#define ARENA_MAX_BLOCK ((size_t)64 << 20)

/* Returns size bytes aligned to align (a power of two), or NULL. */
static void *arena_alloc(JsonDoc *doc, size_t size, size_t align) {
    ArenaBlock *b = doc->blocks;
    if (b) {
        uintptr_t base = (uintptr_t)b->data;
        uintptr_t p = (base + b->used + (align - 1)) & ~(uintptr_t)(align - 1);
        size_t off = (size_t)(p - base);
        if (off <= b->cap && size <= b->cap - off) {
            b->used = off + size;
            return b->data + off;
        }
    }
    if (size > SIZE_MAX - sizeof(ArenaBlock) - 2 * align) return NULL;
    size_t cap = doc->next_cap;
    if (cap < size + align) cap = size + align;
    ArenaBlock *nb = malloc(sizeof(ArenaBlock) + cap);
    if (!nb) return NULL;
    nb->next = doc->blocks;
    nb->cap = cap;
    nb->used = 0;
    doc->blocks = nb;
    if (doc->next_cap < ARENA_MAX_BLOCK) doc->next_cap *= 2;
    uintptr_t base = (uintptr_t)nb->data;
    uintptr_t p = (base + (align - 1)) & ~(uintptr_t)(align - 1);
    nb->used = (size_t)(p - base) + size;
    return (void *)p;
}

/* Doubles the capacity *cap (in elements of elem bytes) of a scratch stack. */
static void *grow_stack(void *buf, size_t *cap, size_t elem) {
    size_t n = *cap ? *cap * 2 : 64;
    if (n > SIZE_MAX / elem) return NULL;
    void *nb = realloc(buf, n * elem);
    if (nb) *cap = n;
    return nb;
}

/* Copies elements [first, first + count) of a scratch stack (elem bytes each)
 * into the arena. Returns NULL when count == 0 or out of memory. */
static void *arena_copy(JsonDoc *doc, const void *stack, size_t first, size_t count,
                        size_t elem, size_t align) {
    if (!count) return NULL;
    void *dst = arena_alloc(doc, count * elem, align);
    if (dst) memcpy(dst, (const unsigned char *)stack + first * elem, count * elem);
    return dst;
}

void json_doc_free(JsonDoc *doc) {
    if (!doc) return;
    for (ArenaBlock *b = doc->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(doc);
}

const JsonValue *json_doc_root(const JsonDoc *doc) { return doc ? &doc->root : NULL; }

/* ----------------------------------------------------------------- parser */

typedef struct Parser {
    const unsigned char *s; /* input bytes, len of them, no terminator */
    size_t len;
    size_t pos;
    const char *source;
    BittError *err;
    JsonDoc *doc;
    JsonValue *vstack; /* scratch: items of the arrays being parsed */
    size_t vcount, vcap;
    JsonMember *mstack; /* scratch: members of the objects being parsed */
    size_t mcount, mcap;
    char *numbuf; /* scratch: NUL-terminated copy of a number for strtod */
    size_t numcap;
} Parser;

/* Fills err with "<source>: JSON error at line L, column C: <what>" where
 * L:C (1-based; C counts bytes) is the position `at`. Returns -1. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail_at(Parser *p, size_t at, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (at > p->len) at = p->len;
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < at; i++) {
        if (p->s[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    return bitt_fail(p->err, "%s: JSON error at line %zu, column %zu: %s",
                     p->source ? p->source : "JSON input", line, at - line_start + 1,
                     what);
}

static int fail_oom(Parser *p) { return fail_at(p, p->pos, "out of memory"); }

/* Describes the byte at pos for messages: "'x'", "byte 0xNN" or "end of input". */
static const char *describe(const Parser *p, size_t pos, char buf[16]) {
    if (pos >= p->len) return "end of input";
    unsigned c = p->s[pos];
    if (c > 0x20 && c < 0x7F)
        snprintf(buf, 16, "'%c'", (char)c);
    else
        snprintf(buf, 16, "byte 0x%02X", c);
    return buf;
}

/* Fails with "expected <what>, found <description of the byte at pos>". */
static int fail_expected(Parser *p, const char *what) {
    char buf[16];
    return fail_at(p, p->pos, "expected %s, found %s", what, describe(p, p->pos, buf));
}

static void skip_ws(Parser *p) {
    const unsigned char *s = p->s;
    size_t i = p->pos, n = p->len;
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
    p->pos = i;
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Reads 4 hex digits at s[at..at+3] (all < end). Returns 0..0xFFFF or -1. */
static long read_hex4(const Parser *p, size_t at, size_t end) {
    if (at > end || end - at < 4) return -1;
    long v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = p->s[at + k];
        unsigned char lower = (unsigned char)(c | 0x20);
        int h = is_digit(c) ? c - '0' : (lower >= 'a' && lower <= 'f') ? lower - 'a' + 10 : -1;
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Encodes code point cp (<= 0x10FFFF, not a surrogate) as UTF-8; returns 1..4. */
static size_t put_utf8(unsigned char *out, unsigned long cp) {
    static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (size_t k = n - 1; k > 0; k--) {
        out[k] = (unsigned char)(0x80 | (cp & 0x3F));
        cp >>= 6;
    }
    out[0] = (unsigned char)(lead[n] | cp);
    return n;
}

/* Validates one multi-byte UTF-8 sequence starting at s[i] (s[i] >= 0x80),
 * not extending to or past end. Stores its length (2..4) in *n_out or fails. */
static int check_utf8(Parser *p, size_t i, size_t end, size_t *n_out) {
    const unsigned char *s = p->s;
    unsigned c = s[i], lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    const char *why = NULL;
    if (c == 0xE0) lo = 0xA0; /* shorter forms would be overlong */
    if (c == 0xF0) lo = 0x90;
    if (c == 0xED) hi = 0x9F; /* above: U+D800..U+DFFF */
    if (c == 0xF4) hi = 0x8F; /* above: > U+10FFFF */
    if (c == 0xC0 || c == 0xC1) why = "overlong encoding";
    if (c < 0xC0 || c > 0xF4) why = "invalid lead byte";
    for (size_t k = 1; k < n && !why; k++)
        if (i + k >= end || (s[i + k] & 0xC0) != 0x80) why = "truncated sequence";
    if (!why && (s[i + 1] < lo || s[i + 1] > hi))
        why = c == 0xED   ? "encoded surrogate"
              : c == 0xF4 ? "code point above U+10FFFF"
                          : "overlong encoding";
    if (why)
        return fail_at(p, i, "invalid UTF-8 in string: %s (sequence starts with 0x%02X)", why, c);
    *n_out = n;
    return 0;
}

/* Parses the string whose opening quote is at p->pos into a NUL-terminated
 * arena copy (*out, *out_len bytes excluding the terminator). */
static int parse_string(Parser *p, char **out, size_t *out_len) {
    const unsigned char *s = p->s;
    size_t open = p->pos, start = open + 1, len = p->len;
    /* Find the closing quote (or the end of input) to bound the output:
     * decoding never makes a string longer than its escaped form. */
    size_t end = start;
    while (end < len && s[end] != '"') end += (s[end] == '\\') ? 2 : 1;
    if (end > len) end = len;
    unsigned char *dst = arena_alloc(p->doc, end - start + 1, 1);
    if (!dst) return fail_oom(p);
    size_t i = start, k = 0;
    while (i < end) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            dst[k++] = c;
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = 0;
            if (check_utf8(p, i, end, &n)) return -1;
            memcpy(dst + k, s + i, n);
            k += n;
            i += n;
            continue;
        }
        if (c < 0x20)
            return fail_at(p, i, "raw control character 0x%02X in string (must be escaped)", c);
        /* backslash escape */
        if (i + 1 >= end) break; /* only possible when unterminated */
        unsigned char e = s[i + 1];
        static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
        const char *simple = memchr(esc_in, e, sizeof esc_in - 1);
        if (simple) {
            dst[k++] = (unsigned char)esc_out[simple - esc_in];
            i += 2;
            continue;
        }
        if (e == 'u') {
            long cp = read_hex4(p, i + 2, end);
            if (cp < 0) return fail_at(p, i, "invalid \\u escape: expected 4 hex digits");
            size_t used = 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail_at(p, i, "unpaired low surrogate \\u%04lX in string", cp);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo = -1;
                if (i + 8 <= end && s[i + 6] == '\\' && s[i + 7] == 'u')
                    lo = read_hex4(p, i + 8, end);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail_at(p, i, "unpaired high surrogate \\u%04lX in string", cp);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                used = 12;
            }
            k += put_utf8(dst + k, (unsigned long)cp);
            i += used;
            continue;
        }
        char buf[16];
        return fail_at(p, i, "invalid escape in string: backslash followed by %s",
                       describe(p, i + 1, buf));
    }
    if (end >= len) return fail_at(p, open, "unterminated string");
    dst[k] = 0;
    *out = (char *)dst;
    *out_len = k;
    p->pos = end + 1;
    return 0;
}

static int parse_number(Parser *p, JsonValue *out) {
    const unsigned char *s = p->s;
    size_t start = p->pos, i = start, len = p->len;
    if (i < len && s[i] == '-') i++;
    if (i >= len || !is_digit(s[i]))
        return fail_at(p, i, "invalid number: expected a digit after '-'");
    if (s[i] == '0') {
        i++;
        if (i < len && is_digit(s[i]))
            return fail_at(p, start, "invalid number: leading zeros are not allowed");
    } else {
        while (i < len && is_digit(s[i])) i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || !is_digit(s[i]))
            return fail_at(p, i, "invalid number: expected a digit after '.'");
        while (i < len && is_digit(s[i])) i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= len || !is_digit(s[i]))
            return fail_at(p, i, "invalid number: expected a digit in the exponent");
        while (i < len && is_digit(s[i])) i++;
    }
    size_t n = i - start;
    while (n + 1 > p->numcap) {
        char *nb = grow_stack(p->numbuf, &p->numcap, 1);
        if (!nb) return fail_oom(p);
        p->numbuf = nb;
    }
    memcpy(p->numbuf, s + start, n);
    p->numbuf[n] = 0;
    double x = strtod(p->numbuf, NULL);
    if (isinf(x))
        return fail_at(p, start, "number out of range: %.40s%s", p->numbuf,
                       n > 40 ? "..." : "");
    out->type = JSON_NUMBER;
    out->u.number = x;
    p->pos = i;
    return 0;
}

static int parse_literal(Parser *p, const char *word, JsonValue *out, JsonType type, int b) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail_at(p, p->pos, "invalid literal (expected '%s')", word);
    p->pos += n;
    out->type = type;
    if (type == JSON_BOOL) out->u.boolean = b;
    return 0;
}

static int parse_value(Parser *p, JsonValue *out, int depth);

/* 1 if the byte at p->pos is c (and not past the end). */
static int at_char(const Parser *p, char c) {
    return p->pos < p->len && p->s[p->pos] == (unsigned char)c;
}

/* Parses the array or object whose bracket is at p->pos; depth = number of
 * enclosing containers. Items/members go on the scratch stacks first and are
 * copied into the arena once the closing bracket is seen. */
static int parse_container(Parser *p, JsonValue *out, int depth) {
    int is_object = at_char(p, '{');
    char close = is_object ? '}' : ']';
    const char *kind = is_object ? "object" : "array";
    if (depth + 1 > JSON_MAX_DEPTH)
        return fail_at(p, p->pos, "nesting deeper than %d levels", JSON_MAX_DEPTH);
    size_t base = is_object ? p->mcount : p->vcount;
    p->pos++;
    skip_ws(p);
    if (at_char(p, close)) {
        p->pos++;
    } else {
        for (;;) {
            if (is_object) {
                JsonMember m;
                if (!at_char(p, '"')) return fail_expected(p, "string key in object");
                if (parse_string(p, &m.key, &m.key_len)) return -1;
                skip_ws(p);
                if (!at_char(p, ':')) return fail_expected(p, "':' after object key");
                p->pos++;
                if (parse_value(p, &m.value, depth + 1)) return -1;
                if (p->mcount == p->mcap) {
                    JsonMember *nm = grow_stack(p->mstack, &p->mcap, sizeof *nm);
                    if (!nm) return fail_oom(p);
                    p->mstack = nm;
                }
                p->mstack[p->mcount++] = m;
            } else {
                JsonValue item;
                if (parse_value(p, &item, depth + 1)) return -1;
                if (p->vcount == p->vcap) {
                    JsonValue *nv = grow_stack(p->vstack, &p->vcap, sizeof *nv);
                    if (!nv) return fail_oom(p);
                    p->vstack = nv;
                }
                p->vstack[p->vcount++] = item;
            }
            skip_ws(p);
            if (at_char(p, close)) {
                p->pos++;
                break;
            }
            if (!at_char(p, ','))
                return fail_expected(p, is_object ? "',' or '}' in object" : "',' or ']' in array");
            p->pos++;
            skip_ws(p);
            if (at_char(p, close)) return fail_at(p, p->pos, "trailing comma in %s", kind);
        }
    }
    if (is_object) {
        size_t count = p->mcount - base;
        out->type = JSON_OBJECT;
        out->u.object.count = count;
        out->u.object.members = arena_copy(p->doc, p->mstack, base, count, sizeof(JsonMember),
                                           _Alignof(JsonMember));
        p->mcount = base;
        if (count && !out->u.object.members) return fail_oom(p);
    } else {
        size_t count = p->vcount - base;
        out->type = JSON_ARRAY;
        out->u.array.count = count;
        out->u.array.items = arena_copy(p->doc, p->vstack, base, count, sizeof(JsonValue),
                                        _Alignof(JsonValue));
        p->vcount = base;
        if (count && !out->u.array.items) return fail_oom(p);
    }
    return 0;
}

static int parse_value(Parser *p, JsonValue *out, int depth) {
    skip_ws(p);
    if (p->pos >= p->len) return fail_expected(p, "a value");
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{':
    case '[': return parse_container(p, out, depth);
    case '"':
        out->type = JSON_STRING;
        return parse_string(p, &out->u.string.ptr, &out->u.string.len);
    case 't': return parse_literal(p, "true", out, JSON_BOOL, 1);
    case 'f': return parse_literal(p, "false", out, JSON_BOOL, 0);
    case 'n': return parse_literal(p, "null", out, JSON_NULL, 0);
    default:
        if (c == '-' || is_digit(c)) return parse_number(p, out);
        return fail_expected(p, "a value");
    }
}

JsonDoc *json_parse(const char *text, size_t len, const char *source, BittError *err) {
    static const char empty[1] = "";
    if (!text) {
        text = empty;
        len = 0;
    }
    Parser p;
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)text;
    p.len = len;
    p.source = source;
    p.err = err;
    JsonDoc *doc = calloc(1, sizeof *doc);
    if (!doc) {
        fail_oom(&p);
        return NULL;
    }
    /* First block sized for the input: decoded strings never exceed it. */
    doc->next_cap = len / 2 * 3;
    if (doc->next_cap < ARENA_MIN_BLOCK) doc->next_cap = ARENA_MIN_BLOCK;
    if (doc->next_cap > ARENA_MAX_BLOCK) doc->next_cap = ARENA_MAX_BLOCK;
    p.doc = doc;
    int rc;
    skip_ws(&p);
    if (p.pos >= len) {
        rc = fail_at(&p, p.pos, "empty input (expected a value)");
    } else {
        rc = parse_value(&p, &doc->root, 0);
        if (rc == 0) {
            skip_ws(&p);
            if (p.pos < len) {
                char buf[16];
                rc = fail_at(&p, p.pos, "unexpected %s after the root value",
                             describe(&p, p.pos, buf));
            }
        }
    }
    free(p.vstack);
    free(p.mstack);
    free(p.numbuf);
    if (rc) {
        json_doc_free(doc);
        return NULL;
    }
    return doc;
}

/* ---------------------------------------------------------------- lookups */

const JsonValue *json_get(const JsonValue *object, const char *key) {
    if (!object || !key || object->type != JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < object->u.object.count; i++) {
        const JsonMember *m = &object->u.object.members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return &m->value;
    }
    return NULL;
}

const JsonValue *json_get_typed(const JsonValue *object, const char *key, JsonType type) {
    const JsonValue *v = json_get(object, key);
    return (v && v->type == type) ? v : NULL;
}

const char *json_get_string(const JsonValue *object, const char *key) {
    const JsonValue *v = json_get_typed(object, key, JSON_STRING);
    return v ? v->u.string.ptr : NULL;
}

int json_get_number(const JsonValue *object, const char *key, double *out) {
    const JsonValue *v = json_get_typed(object, key, JSON_NUMBER);
    if (!v) return 0;
    if (out) *out = v->u.number;
    return 1;
}

int json_get_int(const JsonValue *object, const char *key, int64_t lo, int64_t hi, int64_t *out) {
    double x;
    if (!json_get_number(object, key, &x)) return 0;
    if (x != floor(x)) return 0;
    /* Range of int64_t as doubles: [-2^63, 2^63). */
    if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0)) return 0;
    int64_t i = (int64_t)x;
    if (i < lo || i > hi) return 0;
    if (out) *out = i;
    return 1;
}


JsonDoc *json_parse_file(const char *path, BittError *err) {
    uint8_t *buf;
    size_t len;
    if (file_read_all(path, &buf, &len, err) != 0) return NULL;
    JsonDoc *doc = json_parse((const char *)buf, len, path, err);
    free(buf);
    return doc;
}
