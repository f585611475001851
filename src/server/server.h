/* server.h: `bitt serve`, an OpenAI-compatible HTTP server over one model
 * (docs/SERVER.md): its settings and its entry point. The HTTP glue needs
 * GNU libmicrohttpd; the rest (request parsing, the chat template, the
 * conversation cache, the JSON, the engine) is plain C. */
#ifndef BITT_SERVER_H
#define BITT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "../api/bitt.h"

typedef struct ServerConfig {
    const char *model_path;
    const char *model_name;     /* the id in /v1/models; NULL: the file's base name */
    const char *host;           /* address to listen on (IPv4 or IPv6) */
    int port;                   /* 0: any free port (printed at start) */
    int parallel;               /* requests generating at once, each on its own session */
    int queue;                  /* requests waiting for a session beyond those; then 503 */
    int threads;                /* kernel threads per request; > 1 only with parallel 1 */
    int cache_entries;          /* conversation memories kept; 0 = no cache */
    size_t cache_bytes;         /* and their bytes at most */
    int max_prompt_tokens;      /* longer prompts are refused (400) */
    int max_tokens;             /* a request's max_tokens when it gives none */
    int max_tokens_limit;       /* larger max_tokens are refused (400) */
    size_t max_body_bytes;      /* larger request bodies are refused (400) */
    int timeout_s;              /* idle connections are closed after this */
    int lm_head_int8;           /* 1 int8 logits, 0 float, -1 the model file's form */
    int quiet;                  /* no line per request on stderr */
} ServerConfig;

void server_config_default(ServerConfig *c);

/* Loads the model, listens, serves until SIGINT or SIGTERM. Errors (the
 * model, the address) come back in err. Prints "bitt serve: listening on
 * http://HOST:PORT" on stdout once ready. */
int server_run(const ServerConfig *c, BittError *err);

#endif
