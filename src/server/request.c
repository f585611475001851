/* request.c: parsing and checking the JSON body of a completion or chat
 * request (request.h): every known field's type and range, the OpenAI
 * features this server refuses by name, the sampling options into
 * bitt_sampling. */
#include "request.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/json.h"

int api_error(ApiError *e, int status, const char *type, const char *param, const char *code, const char *fmt, ...) {
    e->status = status;
    e->type = type;
    e->param = param;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

int conversation_id_valid(const char *s, size_t len) {
    if (len == 0 || len > REQUEST_MAX_ID_LEN) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return 0;
    }
    return 1;
}

static const char *type_name(const JsonValue *v) {
    switch (v->type) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "a boolean";
    case JSON_NUMBER: return "a number";
    case JSON_STRING: return "a string";
    case JSON_ARRAY: return "an array";
    default: return "an object";
    }
}

/* The member or NULL when absent or null. */
static const JsonValue *field(const JsonValue *obj, const char *key) {
    const JsonValue *v = json_get(obj, key);
    return v && v->type != JSON_NULL ? v : NULL;
}

/* A number in [lo, hi]: 1 if given, 0 if absent, -1 (e filled) if wrong. */
static int opt_number(const JsonValue *obj, const char *key, double lo, double hi, double *out, ApiError *e) {
    const JsonValue *v = field(obj, key);
    if (!v) return 0;
    if (v->type != JSON_NUMBER) return api_bad_field(e, key, "'%s' must be a number (got %s)", key, type_name(v));
    if (!(v->u.number >= lo && v->u.number <= hi))
        return api_bad_field(e, key, "'%s' must be between %g and %g (got %g)", key, lo, hi, v->u.number);
    *out = v->u.number;
    return 1;
}

/* An integer in [lo, hi] (|hi| <= 2^53). */
static int opt_int(const JsonValue *obj, const char *key, double lo, double hi, int64_t *out, ApiError *e) {
    double x = 0;
    const JsonValue *v = field(obj, key);
    if (v && v->type == JSON_NUMBER && v->u.number != floor(v->u.number))
        return api_bad_field(e, key, "'%s' must be an integer (got %g)", key, v->u.number);
    int rc = opt_number(obj, key, lo, hi, &x, e);
    if (rc == 1) *out = (int64_t)x;
    return rc;
}

static int opt_bool(const JsonValue *obj, const char *key, int *out, ApiError *e) {
    const JsonValue *v = field(obj, key);
    if (!v) return 0;
    if (v->type != JSON_BOOL) return api_bad_field(e, key, "'%s' must be a boolean (got %s)", key, type_name(v));
    *out = v->u.boolean;
    return 1;
}

static int opt_string(const JsonValue *obj, const char *key, const JsonValue **out, ApiError *e) {
    const JsonValue *v = field(obj, key);
    if (!v) return 0;
    if (v->type != JSON_STRING) return api_bad_field(e, key, "'%s' must be a string (got %s)", key, type_name(v));
    *out = v;
    return 1;
}

static int unsupported(ApiError *e, const char *param, const char *what) {
    return api_error(e, 400, "invalid_request_error", param, "unsupported", "%s is not supported by bitt serve", what);
}

/* OpenAI features this server does not have: refused by name rather than ignored. */
static int refuse_unsupported(const JsonValue *root, RequestKind kind, ApiError *e) {
    const JsonValue *v;
    int64_t n;
    int rc;
    if ((rc = opt_int(root, "n", 1, 1e9, &n, e)) < 0) return -1;
    if (rc == 1 && n != 1) return unsupported(e, "n", "n other than 1");
    if ((rc = opt_int(root, "best_of", 1, 1e9, &n, e)) < 0) return -1;
    if (rc == 1 && n != 1) return unsupported(e, "best_of", "best_of other than 1");
    int echo = 0;
    if (opt_bool(root, "echo", &echo, e) < 0) return -1;
    if (echo) return unsupported(e, "echo", "echo");
    if ((v = field(root, "suffix")) && !(v->type == JSON_STRING && v->u.string.len == 0))
        return unsupported(e, "suffix", "suffix");
    if ((v = field(root, "logit_bias")) && !(v->type == JSON_OBJECT && v->u.object.count == 0))
        return unsupported(e, "logit_bias", "logit_bias");
    static const char *const ARRAYS[] = {"tools", "functions"};
    for (size_t i = 0; i < sizeof ARRAYS / sizeof *ARRAYS; i++)
        if ((v = field(root, ARRAYS[i])) && !(v->type == JSON_ARRAY && v->u.array.count == 0))
            return unsupported(e, ARRAYS[i], "tool and function calling");
    if ((v = field(root, "tool_choice")) && !(v->type == JSON_STRING && strcmp(v->u.string.ptr, "none") == 0))
        return unsupported(e, "tool_choice", "tool and function calling");
    if (field(root, "function_call")) return unsupported(e, "function_call", "tool and function calling");
    if ((v = field(root, "response_format"))) {
        const JsonValue *t = v->type == JSON_OBJECT ? json_get(v, "type") : NULL;
        if (!t || t->type != JSON_STRING) return api_bad_field(e, "response_format", "'response_format' must be {\"type\": \"text\"}");
        if (strcmp(t->u.string.ptr, "text") != 0) return unsupported(e, "response_format", "a response_format other than text");
    }
    if (kind == REQ_CHAT && field(root, "audio")) return unsupported(e, "audio", "audio output");
    return 0;
}

static int parse_stop(const JsonValue *root, GenRequest *r, ApiError *e) {
    const JsonValue *v = field(root, "stop");
    if (!v) return 0;
    const JsonValue *items = v;
    size_t n = 1;
    if (v->type == JSON_ARRAY) {
        items = v->u.array.items;
        n = v->u.array.count;
    } else if (v->type != JSON_STRING) {
        return api_bad_field(e, "stop", "'stop' must be a string or an array of strings (got %s)", type_name(v));
    }
    if (n > BITT_MAX_STOP_STRINGS)
        return api_bad_field(e, "stop", "'stop' holds at most %d strings (got %zu)", BITT_MAX_STOP_STRINGS, n);
    for (size_t i = 0; i < n; i++) {
        const JsonValue *s = &items[i];
        if (s->type != JSON_STRING) return api_bad_field(e, "stop", "'stop[%zu]' must be a string (got %s)", i, type_name(s));
        if (s->u.string.len == 0 || s->u.string.len > BITT_MAX_STOP_BYTES)
            return api_bad_field(e, "stop", "each stop string must be 1 to %d bytes long (stop[%zu] has %zu)",
                                 BITT_MAX_STOP_BYTES, i, s->u.string.len);
        r->stop[r->n_stop] = s->u.string.ptr;
        r->stop_len[r->n_stop++] = s->u.string.len;
    }
    return 0;
}

/* temperature, top_p, top_k, min_p, the penalties, seed, max_tokens */
static int parse_sampling(const JsonValue *root, GenRequest *r, ApiError *e) {
    bitt_sampling *p = &r->sampling;
    double x = 0;
    int64_t i;
    int rc;
    if ((rc = opt_number(root, "temperature", 0, 2, &x, e)) < 0) return -1;
    if (rc) p->temperature = (float)x;
    if ((rc = opt_number(root, "top_p", 0, 1, &x, e)) < 0) return -1;
    if (rc && x == 0) return api_bad_field(e, "top_p", "'top_p' must be above 0 (1 = off)");
    if (rc) p->top_p = (float)x;
    if ((rc = opt_int(root, "top_k", 0, 1e9, &i, e)) < 0) return -1;
    if (rc) p->top_k = (int)i;
    if ((rc = opt_number(root, "min_p", 0, 1, &x, e)) < 0) return -1;
    if (rc) p->min_p = (float)x;
    if ((rc = opt_number(root, "presence_penalty", -2, 2, &x, e)) < 0) return -1;
    if (rc) p->presence_penalty = (float)x;
    if ((rc = opt_number(root, "frequency_penalty", -2, 2, &x, e)) < 0) return -1;
    if (rc) p->frequency_penalty = (float)x;
    if ((rc = opt_number(root, "repetition_penalty", 0, 10, &x, e)) < 0) return -1;
    if (rc && x == 0) return api_bad_field(e, "repetition_penalty", "'repetition_penalty' must be above 0 (1 = off)");
    if (rc) p->repetition_penalty = (float)x;
    if ((rc = opt_int(root, "penalty_last_n", 0, 1e9, &i, e)) < 0) return -1;
    if (rc) p->penalty_last_n = (int)i;
    if ((rc = opt_int(root, "seed", 0, 9007199254740992.0, &i, e)) < 0) return -1;
    if (rc) {
        p->seed = (uint64_t)i;
        r->seed_given = 1;
    }
    const char *mt = r->kind == REQ_CHAT && field(root, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    if ((rc = opt_int(root, mt, 0, 1e9, &i, e)) < 0) return -1;
    if (rc) r->max_tokens = (int)i;
    return 0;
}

/* The text of a message's content: a string, or an array of {"type": "text", "text": ...} parts. */
static int message_content(const JsonValue *content, size_t index, GenRequest *r, ChatMessage *m, ApiError *e) {
    if (content->type == JSON_STRING) {
        m->content = content->u.string.ptr;
        m->len = content->u.string.len;
        return 0;
    }
    if (content->type != JSON_ARRAY)
        return api_bad_field(e, "messages", "messages[%zu].content must be a string or an array of text parts", index);
    size_t total = 0;
    for (size_t i = 0; i < content->u.array.count; i++) {
        const JsonValue *part = &content->u.array.items[i];
        const char *type = part->type == JSON_OBJECT ? json_get_string(part, "type") : NULL;
        const JsonValue *text = part->type == JSON_OBJECT ? json_get(part, "text") : NULL;
        if (!type || strcmp(type, "text") != 0) return unsupported(e, "messages", "message content other than text");
        if (!text || text->type != JSON_STRING)
            return api_bad_field(e, "messages", "messages[%zu].content[%zu].text must be a string", index, i);
        total += text->u.string.len;
    }
    char *joined = malloc(total + 1);
    char **owned = realloc(r->owned, (size_t)(r->n_owned + 1) * sizeof *owned);
    if (!joined || !owned) {
        free(joined);
        if (owned) r->owned = owned;
        return api_error(e, 500, "server_error", NULL, NULL, "out of memory");
    }
    r->owned = owned;
    r->owned[r->n_owned++] = joined;
    size_t at = 0;
    for (size_t i = 0; i < content->u.array.count; i++) {
        const JsonValue *text = json_get(&content->u.array.items[i], "text");
        memcpy(joined + at, text->u.string.ptr, text->u.string.len);
        at += text->u.string.len;
    }
    joined[at] = 0;
    m->content = joined;
    m->len = at;
    return 0;
}

static int parse_messages(const JsonValue *root, GenRequest *r, ApiError *e) {
    const JsonValue *v = field(root, "messages");
    if (!v) return api_error(e, 400, "invalid_request_error", "messages", "missing_field", "'messages' is required");
    if (v->type != JSON_ARRAY) return api_bad_field(e, "messages", "'messages' must be an array (got %s)", type_name(v));
    if (v->u.array.count == 0) return api_bad_field(e, "messages", "'messages' must hold at least one message");
    if (v->u.array.count > REQUEST_MAX_MESSAGES)
        return api_bad_field(e, "messages", "at most %d messages (got %zu)", REQUEST_MAX_MESSAGES, v->u.array.count);
    r->messages = calloc(v->u.array.count, sizeof *r->messages);
    if (!r->messages) return api_error(e, 500, "server_error", NULL, NULL, "out of memory");
    for (size_t i = 0; i < v->u.array.count; i++) {
        const JsonValue *msg = &v->u.array.items[i];
        if (msg->type != JSON_OBJECT) return api_bad_field(e, "messages", "messages[%zu] must be an object", i);
        const JsonValue *role = json_get(msg, "role"), *content = field(msg, "content");
        if (!role || role->type != JSON_STRING)
            return api_bad_field(e, "messages", "messages[%zu].role must be a string", i);
        ChatMessage *m = &r->messages[i];
        const char *rs = role->u.string.ptr;
        if (strcmp(rs, "system") == 0 || strcmp(rs, "developer") == 0) m->role = ROLE_SYSTEM;
        else if (strcmp(rs, "user") == 0) m->role = ROLE_USER;
        else if (strcmp(rs, "assistant") == 0) m->role = ROLE_ASSISTANT;
        else if (strcmp(rs, "tool") == 0 || strcmp(rs, "function") == 0)
            return unsupported(e, "messages", "tool and function messages");
        else
            return api_bad_field(e, "messages", "messages[%zu].role must be system, developer, user or assistant", i);
        if (!content) return api_bad_field(e, "messages", "messages[%zu].content is required", i);
        if (message_content(content, i, r, m, e) != 0) return -1;
        r->n_messages = (int)i + 1;
    }
    return 0;
}

static int parse_prompt(const JsonValue *root, GenRequest *r, ApiError *e) {
    const JsonValue *v = field(root, "prompt");
    if (!v) return api_error(e, 400, "invalid_request_error", "prompt", "missing_field", "'prompt' is required");
    if (v->type == JSON_ARRAY) {
        if (v->u.array.count != 1 || v->u.array.items[0].type != JSON_STRING)
            return unsupported(e, "prompt", "a prompt other than a string or an array of one string (several prompts, token ids)");
        v = &v->u.array.items[0];
    }
    if (v->type != JSON_STRING) return api_bad_field(e, "prompt", "'prompt' must be a string (got %s)", type_name(v));
    r->prompt = v->u.string.ptr;
    r->prompt_len = v->u.string.len;
    return 0;
}

static int parse_logprobs(const JsonValue *root, GenRequest *r, ApiError *e) {
    int64_t n = 0;
    int rc;
    if (r->kind == REQ_COMPLETION) { /* "logprobs": N = the token's and N alternatives */
        if ((rc = opt_int(root, "logprobs", 0, BITT_MAX_TOP_LOGPROBS, &n, e)) < 0) return -1;
        r->logprobs = rc == 1;
        r->top_logprobs = (int)n;
        return 0;
    }
    if (opt_bool(root, "logprobs", &r->logprobs, e) < 0) return -1;
    if ((rc = opt_int(root, "top_logprobs", 0, BITT_MAX_TOP_LOGPROBS, &n, e)) < 0) return -1;
    if (rc && !r->logprobs)
        return api_bad_field(e, "top_logprobs", "'top_logprobs' needs 'logprobs': true");
    r->top_logprobs = (int)n;
    return 0;
}

int gen_request_parse(RequestKind kind, const char *body, size_t len, GenRequest *r, JsonDoc **doc_out, ApiError *e) {
    memset(r, 0, sizeof *r);
    *doc_out = NULL;
    r->kind = kind;
    r->max_tokens = -1;
    r->sampling = bitt_sampling_default();
    BittError jerr;
    JsonDoc *doc = json_parse(body, len, "request body", &jerr);
    if (!doc) return api_error(e, 400, "invalid_request_error", NULL, "invalid_json", "%s", jerr.message);
    *doc_out = doc;
    const JsonValue *root = json_doc_root(doc);
    if (root->type != JSON_OBJECT)
        return api_error(e, 400, "invalid_request_error", NULL, "invalid_json", "the request body must be a JSON object");
    const JsonValue *v = NULL;
    if (opt_string(root, "model", &v, e) < 0) return -1;
    r->model = field(root, "model") ? v->u.string.ptr : NULL;
    if (opt_string(root, "user", &v, e) < 0) return -1;
    if (refuse_unsupported(root, kind, e) != 0) return -1;
    if ((kind == REQ_CHAT ? parse_messages(root, r, e) : parse_prompt(root, r, e)) != 0) return -1;
    if (parse_sampling(root, r, e) != 0 || parse_stop(root, r, e) != 0 || parse_logprobs(root, r, e) != 0) return -1;
    if (opt_bool(root, "stream", &r->stream, e) < 0) return -1;
    if ((v = field(root, "stream_options"))) {
        if (v->type != JSON_OBJECT) return api_bad_field(e, "stream_options", "'stream_options' must be an object");
        if (opt_bool(v, "include_usage", &r->include_usage, e) < 0) {
            e->param = "stream_options";
            return -1;
        }
    }
    if (opt_string(root, "conversation_id", &v, e) < 0) return -1;
    if (field(root, "conversation_id")) {
        if (!conversation_id_valid(v->u.string.ptr, v->u.string.len))
            return api_bad_field(e, "conversation_id", "'conversation_id' must be 1 to %d characters of A-Z a-z 0-9 . _ -",
                                 REQUEST_MAX_ID_LEN);
        memcpy(r->conversation_id, v->u.string.ptr, v->u.string.len + 1);
    }
    return 0;
}

void gen_request_free(GenRequest *r) {
    for (int i = 0; i < r->n_owned; i++) free(r->owned[i]);
    free(r->owned);
    free(r->messages);
    memset(r, 0, sizeof *r);
}
