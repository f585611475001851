/* openai_json.h: the JSON the server answers with, in the shapes of the
 * OpenAI API: error objects, text_completion / chat.completion objects,
 * their streamed chunks (Server-Sent Events), usage, log-probabilities, the
 * model list; plus the "bitt" extension object (conversation id, seed,
 * tokens read). Generated text is written as valid UTF-8 (bytes that are not
 * become U+FFFD). */
#ifndef BITT_SERVER_OPENAI_JSON_H
#define BITT_SERVER_OPENAI_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "../api/bitt.h"
#include "../formats/json.h"
#include "request.h"

typedef struct LogprobEntry {
    int32_t token;
    double logprob;
    int n_top;
    int32_t top_ids[BITT_MAX_TOP_LOGPROBS];
    double top_logprobs[BITT_MAX_TOP_LOGPROBS];
    size_t text_offset;       /* byte offset of the token's text in the completion */
} LogprobEntry;

/* What a response says beyond its text. */
typedef struct CompletionInfo {
    RequestKind kind;
    char id[48];              /* "cmpl-..." or "chatcmpl-..." */
    int64_t created;          /* Unix seconds */
    const char *model;
    const bitt_model *m;      /* for the text of tokens in logprobs */
    int logprobs;             /* 1: the request asked for them */
    const char *finish_reason; /* "stop" or "length" (NULL while streaming) */
    const char *bitt_finish;  /* "eos", "stop", "length" */
    int64_t prompt_tokens, completion_tokens, cached_tokens, tokens_read;
    char conversation_id[65]; /* "" when none */
    uint64_t seed;
} CompletionInfo;

/* s (len bytes) as a JSON string; invalid UTF-8 bytes become U+FFFD. */
void oj_text(JsonWriter *w, const char *s, size_t len);
/* {"error": {"message", "type", "param", "code"}} */
void oj_error(JsonWriter *w, const ApiError *e);
/* The whole response of a finished request. */
void oj_completion(JsonWriter *w, const CompletionInfo *info, const char *text, size_t len,
                   const LogprobEntry *lp, size_t n_lp);
/* One streamed chunk: the text piece and the logprob entries that go with it;
 * first = 1 adds the chat role; info->finish_reason non-NULL ends the choice. */
void oj_chunk(JsonWriter *w, const CompletionInfo *info, const char *text, size_t len, const LogprobEntry *lp,
              size_t n_lp, int first);
/* The chunk that carries only usage (stream_options.include_usage). */
void oj_usage_chunk(JsonWriter *w, const CompletionInfo *info);
/* {"object": "list", "data": [{"id", "object": "model", "created", "owned_by"}]} or one model. */
void oj_model(JsonWriter *w, const char *name, int64_t created);
void oj_models(JsonWriter *w, const char *name, int64_t created);

#endif
