/* fuzz_server_request.c: libFuzzer harness of `bitt serve`'s request path
 * without HTTP (src/server: gen_request_parse, then the Job of engine.h that
 * http_generate.c runs: render, tokenize, check the limits, take a slot, read
 * the prompt with the conversation cache, generate, store the memory), on a
 * small model. Every body is read as a completion request and as a chat
 * request. A refusal is an ApiError with a status and a message; what is
 * answered -- the response object, or the error -- is valid JSON. */
#include "fuzz_util.h"

#include <unistd.h>

#include "formats/json.h"
#include "server/engine.h"

static Engine engine;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    static char path[] = "/tmp/bitt-fuzz-server-XXXXXX"; /* a .bitt file (read as one whatever its name) */
    uint8_t *buf;
    size_t len;
    BittError err;
    (void)argc, (void)argv;
    bitt_set_threads(1);
    int fd = mkstemp(path);
    if (fd < 0 || fuzz_small_model_bitt(TTT_LINEAR, 1, &buf, &len) != 0 || write(fd, buf, len) != (ssize_t)len) abort();
    close(fd);
    free(buf);
    ServerConfig c;
    memset(&c, 0, sizeof c);
    c.model_path = path;
    c.model_name = "fuzz";
    c.host = "127.0.0.1";
    c.parallel = 1;
    c.queue = 0;
    c.threads = 1;
    c.cache_entries = 8;            /* small, so entries are evicted too */
    c.cache_bytes = (size_t)1 << 20;
    c.max_prompt_tokens = 512;      /* small limits keep each input fast */
    c.max_tokens = 4;
    c.max_tokens_limit = 8;
    c.max_body_bytes = (size_t)1 << 20;
    c.timeout_s = 60;
    c.quiet = 1;
    if (engine_open(&engine, &c, &err) != 0) {
        fprintf(stderr, "fuzz: engine_open: %s\n", err.message);
        abort();
    }
    unlink(path);
    return 0;
}

/* What the server would send: must parse as JSON. */
static void check_json(JsonWriter *w, const char *what) {
    BittError err;
    const char *t = jw_text(w);
    FUZZ_CHECK(t, "%s: the writer failed", what);
    JsonDoc *d = json_parse(t, strlen(t), what, &err);
    FUZZ_CHECK(d, "%s is not valid JSON: %s", what, err.message);
    json_doc_free(d);
}

static void refused(const ApiError *e) {
    FUZZ_CHECK(e->status >= 400 && e->status < 600, "status %d", e->status);
    FUZZ_CHECK(e->message[0] != '\0', "an error with no message");
    JsonWriter w;
    jw_init(&w, 0);
    oj_error(&w, e);
    check_json(&w, "the error object");
    jw_free(&w);
}

static void one_request(RequestKind kind, const char *body, size_t len) {
    GenRequest req;
    JsonDoc *doc = NULL;
    ApiError e;
    Job j;
    memset(&j, 0, sizeof j);
    memset(&e, 0, sizeof e);
    if (gen_request_parse(kind, body, len, &req, &doc, &e) != 0) {
        refused(&e);
        goto done_req;
    }
    if (job_init(&j, &engine, &req, &e) != 0) {
        refused(&e);
        goto done_job;
    }
    EngineSlot *slot = NULL;
    FUZZ_CHECK(engine_acquire(&engine, NULL, NULL, &slot) == ACQUIRE_OK, "no slot with one request at a time");
    if (job_start(&j, slot, NULL, NULL, &e) != 0) {
        refused(&e);
        engine_release(&engine, slot);
        goto done_job;
    }
    int rc, steps = 0;
    JsonWriter w;
    for (;;) {
        const char *piece;
        size_t plen;
        rc = job_step(&j, &piece, &plen, &e);
        if (rc <= 0) break;
        FUZZ_CHECK(++steps <= 64, "more steps than max_tokens_limit allows");
        if (req.stream) { /* the chunk this piece would go out in */
            const LogprobEntry *lp;
            size_t n_lp = job_take_logprobs(&j, &lp);
            jw_init(&w, 0);
            oj_chunk(&w, &j.info, piece, plen, lp, n_lp, steps == 1);
            check_json(&w, "a streamed chunk");
            jw_free(&w);
        }
    }
    if (rc < 0) {
        refused(&e);
    } else {
        job_store(&j);
        const LogprobEntry *lp;
        size_t n_lp = job_take_logprobs(&j, &lp);
        jw_init(&w, 0);
        oj_completion(&w, &j.info, j.text ? j.text : "", j.text_len, lp, n_lp);
        check_json(&w, "the response");
        jw_free(&w);
        if (req.stream && req.include_usage) {
            jw_init(&w, 0);
            oj_usage_chunk(&w, &j.info);
            check_json(&w, "the usage chunk");
            jw_free(&w);
        }
    }
    engine_release(&engine, slot);
done_job:
    job_free(&j);
done_req:
    gen_request_free(&req);
    json_doc_free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *body = malloc(size ? size : 1); /* exactly size bytes */
    if (!body) return 0;
    memcpy(body, data, size);
    one_request(REQ_COMPLETION, body, size);
    one_request(REQ_CHAT, body, size);
    free(body);
    JsonWriter w;
    jw_init(&w, 0);
    engine_health_json(&engine, &w);
    check_json(&w, "/health");
    jw_free(&w);
    return 0;
}
