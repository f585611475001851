/* json.h: a small JSON reader (DOM, arena-allocated) and writer of our own.
 *
 * Reader: json_parse() parses UTF-8 text (RFC 8259: objects, arrays, strings
 * with all escapes incl. \uXXXX surrogate pairs, numbers, true/false/null)
 * into a tree owned by a JsonDoc; json_doc_free() frees it all at once.
 * Object members keep their order in the file. Nesting deeper than
 * JSON_MAX_DEPTH, trailing garbage, invalid escapes, unpaired surrogates,
 * control characters in strings and invalid UTF-8 are errors whose message
 * names the source and the line:column.
 *
 * Writer: JsonWriter appends to a growing buffer; commas and (optional)
 * indentation are handled for the caller. */
#ifndef BITT_JSON_H
#define BITT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "../util/error.h"

#define JSON_MAX_DEPTH 64

typedef enum JsonType {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} JsonType;

typedef struct JsonValue JsonValue;
typedef struct JsonMember JsonMember;

struct JsonValue {
    JsonType type;
    union {
        int boolean;                                   /* JSON_BOOL */
        double number;                                 /* JSON_NUMBER */
        struct { char *ptr; size_t len; } string;      /* JSON_STRING: decoded UTF-8, NUL-terminated (may hold \0 inside: use len) */
        struct { JsonValue *items; size_t count; } array;      /* JSON_ARRAY */
        struct { JsonMember *members; size_t count; } object;  /* JSON_OBJECT, in file order */
    } u;
};

struct JsonMember {
    char *key;        /* decoded, NUL-terminated */
    size_t key_len;
    JsonValue value;
};

typedef struct JsonDoc JsonDoc;

/* Parses len bytes of text. source names the input in error messages
 * (e.g. "model.bitt header"). Returns NULL and fills err on failure. */
JsonDoc *json_parse(const char *text, size_t len, const char *source, BittError *err);
/* Reads and parses the file at path (the one way JSON files are read). */
JsonDoc *json_parse_file(const char *path, BittError *err);
const JsonValue *json_doc_root(const JsonDoc *doc);
void json_doc_free(JsonDoc *doc);

/* Lookup helpers: NULL / 0 when absent or of another type. */
const JsonValue *json_get(const JsonValue *object, const char *key); /* first member named key */
const JsonValue *json_get_typed(const JsonValue *object, const char *key, JsonType type);
const char *json_get_string(const JsonValue *object, const char *key); /* NULL if absent or not a string */
/* Stores the number in *out and returns 1 if key exists and is a number. */
int json_get_number(const JsonValue *object, const char *key, double *out);
/* Like json_get_number but requires an integer value in [lo, hi]. */
int json_get_int(const JsonValue *object, const char *key, int64_t lo, int64_t hi, int64_t *out);

/* ---- writer ---- */
typedef struct JsonWriter {
    char *buf;
    size_t len, cap;
    int indent;              /* spaces per level; 0 = compact */
    int depth;
    int need_comma[JSON_MAX_DEPTH + 1];
    int after_key;
    int failed;              /* set on allocation failure or a non-finite number; buf is then unusable */
} JsonWriter;

void jw_init(JsonWriter *w, int indent);
void jw_free(JsonWriter *w);
void jw_begin_object(JsonWriter *w);
void jw_end_object(JsonWriter *w);
void jw_begin_array(JsonWriter *w);
void jw_end_array(JsonWriter *w);
void jw_key(JsonWriter *w, const char *key);
void jw_string(JsonWriter *w, const char *s);
void jw_string_len(JsonWriter *w, const char *s, size_t len);
/* Integral values with |x| < 2^53 print without a decimal point; others print
 * as the shortest %.Ng (N = 9..17) that reads back to the same double.
 * NaN/inf set w->failed. */
void jw_number(JsonWriter *w, double x);
void jw_int(JsonWriter *w, int64_t x);
void jw_bool(JsonWriter *w, int b);
void jw_null(JsonWriter *w);
/* Writes a parsed value (deep). */
void jw_value(JsonWriter *w, const JsonValue *v);
/* Appends raw bytes without any separator logic (e.g. padding spaces). */
void jw_raw(JsonWriter *w, const char *s, size_t len);
/* Writes w's text and a newline to path atomically (fileio.h). */
int jw_write_file(const JsonWriter *w, const char *path, BittError *err);
/* Returns the NUL-terminated text (owned by w) or NULL if w->failed. */
const char *jw_text(const JsonWriter *w);

#endif
