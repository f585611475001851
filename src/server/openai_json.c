/* openai_json.c: writing the OpenAI-shaped responses (openai_json.h) with
 * our JsonWriter. */
#include "openai_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/utf8.h"

/* A malloc'd NUL-terminated copy of s with each byte that is not part of
 * valid UTF-8 replaced by U+FFFD; NULL when out of memory. */
static char *clean_utf8(const char *s, size_t len, size_t *out_len) {
    const unsigned char *u = (const unsigned char *)s;
    char *clean = malloc(3 * len + 1);
    if (!clean) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_valid_len(u + i, len - i);
        if (n == 0) {
            memcpy(clean + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(clean + o, s + i, n);
            o += n;
            i += n;
        }
    }
    clean[o] = 0;
    *out_len = o;
    return clean;
}

void oj_text(JsonWriter *w, const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_valid_len(u + i, len - i);
        if (n == 0) break;
        i += n;
    }
    if (i == len) { /* the usual case: valid already */
        jw_string_len(w, s, len);
        return;
    }
    size_t n;
    char *clean = clean_utf8(s, len, &n);
    if (!clean) {
        w->failed = 1;
        return;
    }
    jw_string_len(w, clean, n);
    free(clean);
}

void oj_error(JsonWriter *w, const ApiError *e) {
    jw_begin_object(w);
    jw_key(w, "error");
    jw_begin_object(w);
    jw_key(w, "message");
    oj_text(w, e->message, strlen(e->message));
    jw_key(w, "type");
    jw_string(w, e->type ? e->type : "server_error");
    jw_key(w, "param");
    if (e->param) jw_string(w, e->param);
    else jw_null(w);
    jw_key(w, "code");
    if (e->code) jw_string(w, e->code);
    else jw_null(w);
    jw_end_object(w);
    jw_end_object(w);
}

static void token_text(JsonWriter *w, const bitt_model *m, int32_t id) {
    size_t n = 0;
    const char *b = bitt_token_bytes(m, id, &n);
    oj_text(w, b ? b : "", b ? n : 0);
}

/* a finite logprob (-infinity, which JSON lacks, as -9999) */
static void logprob_value(JsonWriter *w, double lp) { jw_number(w, isfinite(lp) ? lp : -9999.0); }

static void token_bytes(JsonWriter *w, const bitt_model *m, int32_t id) {
    size_t n = 0;
    const unsigned char *b = (const unsigned char *)bitt_token_bytes(m, id, &n);
    jw_begin_array(w);
    for (size_t i = 0; b && i < n; i++) jw_int(w, b[i]);
    jw_end_array(w);
}

/* chat: {"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}], "refusal": null} */
static void chat_logprobs(JsonWriter *w, const bitt_model *m, const LogprobEntry *lp, size_t n) {
    jw_begin_object(w);
    jw_key(w, "content");
    jw_begin_array(w);
    for (size_t i = 0; i < n; i++) {
        jw_begin_object(w);
        jw_key(w, "token");
        token_text(w, m, lp[i].token);
        jw_key(w, "logprob");
        logprob_value(w, lp[i].logprob);
        jw_key(w, "bytes");
        token_bytes(w, m, lp[i].token);
        jw_key(w, "top_logprobs");
        jw_begin_array(w);
        for (int k = 0; k < lp[i].n_top; k++) {
            jw_begin_object(w);
            jw_key(w, "token");
            token_text(w, m, lp[i].top_ids[k]);
            jw_key(w, "logprob");
            logprob_value(w, lp[i].top_logprobs[k]);
            jw_key(w, "bytes");
            token_bytes(w, m, lp[i].top_ids[k]);
            jw_end_object(w);
        }
        jw_end_array(w);
        jw_end_object(w);
    }
    jw_end_array(w);
    jw_key(w, "refusal");
    jw_null(w);
    jw_end_object(w);
}

/* completions: {"tokens", "token_logprobs", "top_logprobs": [{token: logprob}], "text_offset"} */
static void completion_logprobs(JsonWriter *w, const bitt_model *m, const LogprobEntry *lp, size_t n) {
    jw_begin_object(w);
    jw_key(w, "tokens");
    jw_begin_array(w);
    for (size_t i = 0; i < n; i++) token_text(w, m, lp[i].token);
    jw_end_array(w);
    jw_key(w, "token_logprobs");
    jw_begin_array(w);
    for (size_t i = 0; i < n; i++) logprob_value(w, lp[i].logprob);
    jw_end_array(w);
    jw_key(w, "top_logprobs");
    jw_begin_array(w);
    for (size_t i = 0; i < n; i++) {
        jw_begin_object(w);
        for (int k = 0; k < lp[i].n_top; k++) {
            size_t len = 0, n;
            const char *b = bitt_token_bytes(m, lp[i].top_ids[k], &len);
            char *key = clean_utf8(b ? b : "", b ? len : 0, &n);
            if (!key) {
                w->failed = 1;
                return;
            }
            jw_key(w, key); /* a token holding a NUL byte gives a shorter key: such tokens are not text anyway */
            free(key);
            logprob_value(w, lp[i].top_logprobs[k]);
        }
        jw_end_object(w);
    }
    jw_end_array(w);
    jw_key(w, "text_offset");
    jw_begin_array(w);
    for (size_t i = 0; i < n; i++) jw_int(w, (int64_t)lp[i].text_offset);
    jw_end_array(w);
    jw_end_object(w);
}

static void head(JsonWriter *w, const CompletionInfo *info, int chunk) {
    jw_key(w, "id");
    jw_string(w, info->id);
    jw_key(w, "object");
    jw_string(w, info->kind == REQ_CHAT ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
    jw_key(w, "created");
    jw_int(w, info->created);
    jw_key(w, "model");
    jw_string(w, info->model);
    jw_key(w, "system_fingerprint");
    jw_string(w, "bitt");
}

static void usage(JsonWriter *w, const CompletionInfo *info) {
    jw_key(w, "usage");
    jw_begin_object(w);
    jw_key(w, "prompt_tokens");
    jw_int(w, info->prompt_tokens);
    jw_key(w, "completion_tokens");
    jw_int(w, info->completion_tokens);
    jw_key(w, "total_tokens");
    jw_int(w, info->prompt_tokens + info->completion_tokens);
    jw_key(w, "prompt_tokens_details");
    jw_begin_object(w);
    jw_key(w, "cached_tokens");
    jw_int(w, info->cached_tokens);
    jw_end_object(w);
    jw_end_object(w);
}

/* "bitt": {"conversation_id", "seed", "tokens_read", "tokens_cached", "finish"} */
static void extension(JsonWriter *w, const CompletionInfo *info) {
    jw_key(w, "bitt");
    jw_begin_object(w);
    jw_key(w, "conversation_id");
    if (info->conversation_id[0]) jw_string(w, info->conversation_id);
    else jw_null(w);
    jw_key(w, "seed");
    jw_int(w, (int64_t)info->seed);
    jw_key(w, "tokens_read");
    jw_int(w, info->tokens_read);
    jw_key(w, "tokens_cached");
    jw_int(w, info->cached_tokens);
    jw_key(w, "finish");
    if (info->bitt_finish) jw_string(w, info->bitt_finish);
    else jw_null(w);
    jw_end_object(w);
}

static void choice_logprobs(JsonWriter *w, const CompletionInfo *info, const LogprobEntry *lp, size_t n_lp) {
    jw_key(w, "logprobs");
    if (!info->logprobs) jw_null(w);
    else if (info->kind == REQ_CHAT) chat_logprobs(w, info->m, lp, n_lp);
    else completion_logprobs(w, info->m, lp, n_lp);
}

void oj_completion(JsonWriter *w, const CompletionInfo *info, const char *text, size_t len,
                   const LogprobEntry *lp, size_t n_lp) {
    jw_begin_object(w);
    head(w, info, 0);
    jw_key(w, "choices");
    jw_begin_array(w);
    jw_begin_object(w);
    jw_key(w, "index");
    jw_int(w, 0);
    if (info->kind == REQ_CHAT) {
        jw_key(w, "message");
        jw_begin_object(w);
        jw_key(w, "role");
        jw_string(w, "assistant");
        jw_key(w, "content");
        oj_text(w, text, len);
        jw_key(w, "refusal");
        jw_null(w);
        jw_end_object(w);
    } else {
        jw_key(w, "text");
        oj_text(w, text, len);
    }
    choice_logprobs(w, info, lp, n_lp);
    jw_key(w, "finish_reason");
    jw_string(w, info->finish_reason ? info->finish_reason : "stop");
    jw_end_object(w);
    jw_end_array(w);
    usage(w, info);
    extension(w, info);
    jw_end_object(w);
}

void oj_chunk(JsonWriter *w, const CompletionInfo *info, const char *text, size_t len, const LogprobEntry *lp,
              size_t n_lp, int first) {
    jw_begin_object(w);
    head(w, info, 1);
    jw_key(w, "choices");
    jw_begin_array(w);
    jw_begin_object(w);
    jw_key(w, "index");
    jw_int(w, 0);
    if (info->kind == REQ_CHAT) {
        jw_key(w, "delta");
        jw_begin_object(w);
        if (first) {
            jw_key(w, "role");
            jw_string(w, "assistant");
        }
        if (len || first) {
            jw_key(w, "content");
            oj_text(w, text, len);
        }
        jw_end_object(w);
    } else {
        jw_key(w, "text");
        oj_text(w, text, len);
    }
    choice_logprobs(w, info, lp, n_lp);
    jw_key(w, "finish_reason");
    if (info->finish_reason) jw_string(w, info->finish_reason);
    else jw_null(w);
    jw_end_object(w);
    jw_end_array(w);
    if (info->finish_reason) extension(w, info);
    jw_end_object(w);
}

void oj_usage_chunk(JsonWriter *w, const CompletionInfo *info) {
    jw_begin_object(w);
    head(w, info, 1);
    jw_key(w, "choices");
    jw_begin_array(w);
    jw_end_array(w);
    usage(w, info);
    jw_end_object(w);
}

void oj_model(JsonWriter *w, const char *name, int64_t created) {
    jw_begin_object(w);
    jw_key(w, "id");
    jw_string(w, name);
    jw_key(w, "object");
    jw_string(w, "model");
    jw_key(w, "created");
    jw_int(w, created);
    jw_key(w, "owned_by");
    jw_string(w, "bitt");
    jw_end_object(w);
}

void oj_models(JsonWriter *w, const char *name, int64_t created) {
    jw_begin_object(w);
    jw_key(w, "object");
    jw_string(w, "list");
    jw_key(w, "data");
    jw_begin_array(w);
    oj_model(w, name, created);
    jw_end_array(w);
    jw_end_object(w);
}
