/* request.h: the body of POST /v1/completions and /v1/chat/completions
 * parsed and checked into a GenRequest, and the OpenAI-style error every
 * refusal carries ({"error": {"message", "type", "param", "code"}} with its
 * HTTP status). Known fields must have their documented type and range
 * (null counts as absent); unknown fields are ignored, except the OpenAI
 * features this server does not have (tools, n > 1, echo, ...), which are
 * refused by name. See docs/SERVER.md. */
#ifndef BITT_SERVER_REQUEST_H
#define BITT_SERVER_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "../api/bitt.h"

typedef struct ApiError {
    int status;            /* HTTP status: 400, 404, 409, 413, 503, 500 */
    char message[512];
    const char *type;      /* "invalid_request_error", "server_error", ... */
    const char *param;     /* the field at fault, or NULL */
    const char *code;      /* a stable code, or NULL */
} ApiError;

/* Fills e and returns -1. */
int api_error(ApiError *e, int status, const char *type, const char *param, const char *code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
/* 400 invalid_request_error naming the field. */
#define api_bad_field(e, param, ...) api_error((e), 400, "invalid_request_error", (param), "invalid_value", __VA_ARGS__)

typedef enum RequestKind { REQ_COMPLETION, REQ_CHAT } RequestKind;

typedef enum ChatRole { ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT } ChatRole;

typedef struct ChatMessage {
    ChatRole role;
    const char *content;   /* points into the parsed document or into GenRequest.owned */
    size_t len;
} ChatMessage;

/* Limits the parser enforces (the server's own come from its flags). */
#define REQUEST_MAX_MESSAGES 4096
#define REQUEST_MAX_ID_LEN 64

typedef struct GenRequest {
    RequestKind kind;
    const char *prompt;            /* completions: the text (may be empty) */
    size_t prompt_len;
    ChatMessage *messages;         /* chat: n_messages of them (malloc'd) */
    int n_messages;
    char **owned;                  /* texts joined from content parts (malloc'd), freed with the request */
    int n_owned;
    int max_tokens;                /* -1: the server's default */
    bitt_sampling sampling;
    int seed_given;                /* 0: the server picks a seed */
    const char *stop[BITT_MAX_STOP_STRINGS];
    size_t stop_len[BITT_MAX_STOP_STRINGS];
    int n_stop;
    int stream;
    int include_usage;             /* stream_options.include_usage */
    int logprobs;                  /* 1: report log-probabilities */
    int top_logprobs;              /* alternatives per token (completions: logprobs = N) */
    char conversation_id[REQUEST_MAX_ID_LEN + 1]; /* "" or the memory to continue */
    const char *model;             /* as sent, or NULL */
} GenRequest;

/* Parses and checks the body. On success the request points into doc's
 * strings: keep the JsonDoc (*doc_out) until gen_request_free. */
struct JsonDoc;
int gen_request_parse(RequestKind kind, const char *body, size_t len, GenRequest *req, struct JsonDoc **doc_out,
                      ApiError *e);
void gen_request_free(GenRequest *req);

/* 1 if s (len bytes) is a usable conversation id: 1..64 of [A-Za-z0-9._-]. */
int conversation_id_valid(const char *s, size_t len);

#endif
