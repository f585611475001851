/* cmd_serve.c: `bitt serve`: the OpenAI-compatible HTTP server
 * (src/server/, docs/SERVER.md). Built only where libmicrohttpd was found;
 * otherwise the command says so. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifdef BITT_HAVE_SERVER
#include "../server/server.h"

int cmd_serve(int argc, char **argv) {
    ServerConfig c;
    server_config_default(&c);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c.parallel = cores < 1 ? 1 : cores > 16 ? 16 : (int)cores;
    const char *lm_head = NULL;
    int cache_mb = (int)(c.cache_bytes >> 20), body_kb = (int)(c.max_body_bytes >> 10);
    Flag flags[] = {
        {"model", FLAG_STRING, &c.model_path, "model: .bitt file or checkpoint directory (required)", 0},
        {"host", FLAG_STRING, &c.host, "address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)", 0},
        {"port", FLAG_INT, &c.port, "port (default 8080; 0 = any free one, printed at start)", 0},
        {"name", FLAG_STRING, &c.model_name, "the model's id in /v1/models (default: the file's base name)", 0},
        {"parallel", FLAG_INT, &c.parallel, "requests generating at once, one session each (default: the cores, <= 16)", 0},
        {"threads", FLAG_INT, &c.threads, "kernel threads per request (default 1; > 1 needs --parallel 1; 0 = all cores)", 0},
        {"queue", FLAG_INT, &c.queue, "requests waiting beyond --parallel before 503 (default 64)", 0},
        {"cache", FLAG_INT, &c.cache_entries, "conversation memories kept (default 128; 0 = none)", 0},
        {"cache-mb", FLAG_INT, &cache_mb, "and at most this many MiB of them (default 256)", 0},
        {"max-prompt-tokens", FLAG_INT, &c.max_prompt_tokens, "longer prompts are refused with 400 (default 16384)", 0},
        {"max-tokens", FLAG_INT, &c.max_tokens, "max_tokens of a request that sets none (default 256)", 0},
        {"max-tokens-limit", FLAG_INT, &c.max_tokens_limit, "larger max_tokens are refused with 400 (default 4096)", 0},
        {"max-body-kb", FLAG_INT, &body_kb, "larger request bodies are refused with 400 (default 4096)", 0},
        {"timeout", FLAG_INT, &c.timeout_s, "seconds before an idle connection is closed (default 60)", 0},
        {"lm-head", FLAG_STRING, &lm_head, "f32 or int8: logits through int8 rows, faster (default: the file's form, int8 for I8 embeddings)", 0},
        {"quiet", FLAG_BOOL, &c.quiet, "no line per request on stderr", 0},
    };
    Command cmd = {"serve", "--model M [--host H] [--port P] [flags]",
                   "An OpenAI-compatible HTTP server: GET /v1/models, POST /v1/completions,\n"
                   "POST /v1/chat/completions (stream: true for Server-Sent Events), GET /health, and the\n"
                   "memory endpoints GET/PUT/DELETE /v1/bitt/state/{id}. Each conversation's memory is\n"
                   "cached, so the next turn reads only its new tokens. See docs/SERVER.md.",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    if (rc) return rc < 0 ? 1 : 0;
    if (!c.model_path) return cli_fail("serve", "--model is required");
    if (c.port < 0 || c.port > 65535) return cli_fail("serve", "--port must be in [0, 65535]");
    if (c.threads < 0) return cli_fail("serve", "--threads must be >= 0");
    if (c.threads != 1 && !args_seen(&cmd, "parallel")) c.parallel = 1;
    if (c.parallel < 1 || c.parallel > 256) return cli_fail("serve", "--parallel must be in [1, 256]");
    if (c.parallel > 1 && c.threads != 1)
        return cli_fail("serve", "--threads %d needs --parallel 1: the kernel thread pool is one per process, so "
                        "requests that run at once each use one thread", c.threads);
    if (c.queue < 0) return cli_fail("serve", "--queue must be >= 0");
    if (c.cache_entries < 0) return cli_fail("serve", "--cache must be >= 0");
    if (cache_mb < 0) return cli_fail("serve", "--cache-mb must be >= 0");
    if (c.max_prompt_tokens < 1) return cli_fail("serve", "--max-prompt-tokens must be >= 1");
    if (c.max_tokens < 0 || c.max_tokens_limit < 0 || c.max_tokens > c.max_tokens_limit)
        return cli_fail("serve", "--max-tokens must be in [0, --max-tokens-limit]");
    if (body_kb < 1) return cli_fail("serve", "--max-body-kb must be >= 1");
    if (c.timeout_s < 1) return cli_fail("serve", "--timeout must be >= 1");
    if (lm_head && strcmp(lm_head, "f32") != 0 && strcmp(lm_head, "int8") != 0)
        return cli_fail("serve", "--lm-head must be f32 or int8 (got '%s')", lm_head);
    c.lm_head_int8 = lm_head ? strcmp(lm_head, "int8") == 0 : -1;
    c.cache_bytes = (size_t)cache_mb << 20;
    c.max_body_bytes = (size_t)body_kb << 10;
    BittError err;
    if (server_run(&c, &err) != 0) return cli_fail("serve", "%s", err.message);
    return 0;
}

#else

int cmd_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_fail("serve", "this bitt was built without the HTTP server: libmicrohttpd was not found at build "
                    "time (apt-get install libmicrohttpd-dev, then configure and build again)");
}

#endif
