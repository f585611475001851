/* http_server.c: the libmicrohttpd daemon of `bitt serve`: one thread per
 * connection (a request that generates holds its thread; at most
 * --parallel generate at once, the engine queues the rest), the request
 * bodies with their size limit, routing, /health and /v1/models, and the
 * clean shutdown on SIGINT / SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "http_glue.h"
#include "server.h"

/* Connections beyond those that generate or wait: /health, /v1/models, idle keep-alives. */
#define EXTRA_CONNECTIONS 64
/* The kernel's send buffer of a connection: a stream to a client that reads
 * slowly pauses its generation once this much is waiting (instead of the
 * megabytes that autotuning allows). */
#define SEND_BUFFER_BYTES (64 * 1024)

void server_config_default(ServerConfig *c) {
    memset(c, 0, sizeof *c);
    c->host = "127.0.0.1";
    c->port = 8080;
    c->parallel = 2;
    c->queue = 64;
    c->threads = 1;
    c->cache_entries = 128;
    c->cache_bytes = (size_t)256 << 20;
    c->max_prompt_tokens = 16384;
    c->max_tokens = 256;
    c->max_tokens_limit = 4096;
    c->max_body_bytes = (size_t)4 << 20;
    c->timeout_s = 60;
    c->lm_head_int8 = -1; /* the model's own form */
}

double http_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int http_peer_gone(void *conn) {
    const Conn *cn = conn;
    if (cn->fd < 0) return 0;
    char b;
    ssize_t r = recv(cn->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0) return 1; /* orderly shutdown by the client */
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return 1;
    return 0;
}

void http_log(Conn *cn, const char *fmt, ...) {
    if (cn->engine->cfg.quiet) return;
    char extra[256] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(extra, sizeof extra, fmt, ap);
    va_end(ap);
    fprintf(stderr, "bitt serve: %s %s %d%s%s (%.3f s)\n", cn->method, cn->url, cn->status, extra[0] ? " " : "", extra,
            http_now() - cn->t0);
}

static enum MHD_Result queue(Conn *cn, int status, struct MHD_Response *r) {
    if (!r) return MHD_NO;
    cn->status = status;
    enum MHD_Result rc = MHD_queue_response(cn->c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

enum MHD_Result http_send_json(Conn *cn, int status, const JsonWriter *w) {
    const char *text = jw_text(w);
    if (!text) text = "{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\",\"param\":null,\"code\":null}}";
    size_t len = strlen(text);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return queue(cn, status, r);
}

enum MHD_Result http_send_error(Conn *cn, const ApiError *e) {
    JsonWriter w;
    jw_init(&w, 0);
    oj_error(&w, e);
    const char *text = jw_text(&w);
    struct MHD_Response *r = text ? MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY)
                                  : NULL;
    jw_free(&w);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (e->status == 503) MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    cn->note = e->code ? e->code : e->type;
    enum MHD_Result rc = queue(cn, e->status, r);
    http_log(cn, "%s", e->message);
    return rc;
}

enum MHD_Result http_send_bytes(Conn *cn, int status, const void *data, size_t len, const char *const *headers) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    for (int i = 0; headers && headers[i]; i += 2) MHD_add_response_header(r, headers[i], headers[i + 1]);
    return queue(cn, status, r);
}

/* The route of a path; the {id} part goes to cn->arg. */
static Route route_of(Conn *cn, const char *url) {
    static const char MODELS[] = "/v1/models/", STATE[] = "/v1/bitt/state/";
    if (strcmp(url, "/health") == 0) return ROUTE_HEALTH;
    if (strcmp(url, "/v1/models") == 0) return ROUTE_MODELS;
    if (strcmp(url, "/v1/completions") == 0) return ROUTE_COMPLETIONS;
    if (strcmp(url, "/v1/chat/completions") == 0) return ROUTE_CHAT;
    if (strcmp(url, "/v1/bitt/state") == 0) return ROUTE_STATE_LIST;
    const char *rest = NULL;
    Route r = ROUTE_NONE;
    if (strncmp(url, MODELS, sizeof MODELS - 1) == 0) {
        rest = url + sizeof MODELS - 1;
        r = ROUTE_MODEL;
    } else if (strncmp(url, STATE, sizeof STATE - 1) == 0) {
        rest = url + sizeof STATE - 1;
        r = ROUTE_STATE;
    }
    if (!rest) return ROUTE_NONE;
    size_t n = strlen(rest);
    cn->arg_ok = n <= REQUEST_MAX_ID_LEN && (r == ROUTE_MODEL ? n > 0 : conversation_id_valid(rest, n));
    if (cn->arg_ok) memcpy(cn->arg, rest, n + 1);
    return r;
}

/* The methods a route answers, for 405. */
static const char *allowed_methods(Route r) {
    switch (r) {
    case ROUTE_COMPLETIONS:
    case ROUTE_CHAT: return "POST";
    case ROUTE_STATE: return "GET, PUT, DELETE";
    default: return "GET";
    }
}

static int method_allowed(Route r, const char *m) {
    if (r == ROUTE_COMPLETIONS || r == ROUTE_CHAT) return strcmp(m, "POST") == 0;
    if (r == ROUTE_STATE) return strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0;
    return strcmp(m, "GET") == 0;
}

static enum MHD_Result send_simple(Conn *cn) {
    Engine *e = cn->engine;
    JsonWriter w;
    jw_init(&w, 0);
    int status = 200;
    if (cn->route == ROUTE_HEALTH) {
        engine_health_json(e, &w);
    } else if (cn->route == ROUTE_MODELS) {
        oj_models(&w, e->model_name, e->started);
    } else if (strcmp(cn->arg, e->model_name) == 0) {
        oj_model(&w, e->model_name, e->started);
    } else {
        jw_free(&w);
        ApiError err;
        api_error(&err, 404, "invalid_request_error", "model", "model_not_found", "no model '%.200s' here (this server has '%s')",
                  cn->arg, e->model_name);
        return http_send_error(cn, &err);
    }
    enum MHD_Result rc = http_send_json(cn, status, &w);
    jw_free(&w);
    return rc;
}

static enum MHD_Result dispatch(Conn *cn) {
    ApiError err;
    if (cn->too_large) {
        api_error(&err, 400, "invalid_request_error", NULL, "request_too_large",
                  "the request body is larger than this server takes (%zu bytes)", cn->limit);
        return http_send_error(cn, &err);
    }
    switch (cn->route) {
    case ROUTE_COMPLETIONS:
    case ROUTE_CHAT: return http_generate(cn);
    case ROUTE_STATE_LIST:
    case ROUTE_STATE: return http_state(cn);
    default: break;
    }
    enum MHD_Result rc = send_simple(cn);
    http_log(cn, "%s", "");
    return rc;
}

static size_t body_limit(const Conn *cn) {
    const Engine *e = cn->engine;
    if (cn->route == ROUTE_STATE) { /* a state file: the memory and its header */
        size_t s = 2 * e->state_bytes + ((size_t)1 << 20);
        return s > e->cfg.max_body_bytes ? s : e->cfg.max_body_bytes;
    }
    return e->cfg.max_body_bytes;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version;
    Conn *cn = *con_cls;
    if (!cn) { /* the headers are in: route, limit */
        cn = calloc(1, sizeof *cn);
        if (!cn) return MHD_NO;
        *con_cls = cn;
        cn->engine = cls;
        cn->c = c;
        cn->t0 = http_now();
        cn->method = method;
        snprintf(cn->url, sizeof cn->url, "%s", url);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        cn->fd = ci ? (int)ci->connect_fd : -1;
        if (cn->fd >= 0) {
            int sndbuf = SEND_BUFFER_BYTES;
            setsockopt(cn->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        }
        cn->route = route_of(cn, url);
        cn->limit = body_limit(cn);
        ApiError err;
        if (cn->route == ROUTE_NONE) {
            api_error(&err, 404, "invalid_request_error", NULL, "not_found", "no such endpoint: %s %.200s", method, url);
            return http_send_error(cn, &err);
        }
        if (!method_allowed(cn->route, method)) {
            api_error(&err, 405, "invalid_request_error", NULL, "method_not_allowed", "%s %.200s: use %s", method, url,
                      allowed_methods(cn->route));
            return http_send_error(cn, &err);
        }
        if ((cn->route == ROUTE_STATE || cn->route == ROUTE_MODEL) && !cn->arg_ok) {
            api_error(&err, 400, "invalid_request_error", NULL, "invalid_value",
                      "the id in %.200s must be 1 to %d characters of A-Z a-z 0-9 . _ -", url, REQUEST_MAX_ID_LEN);
            return http_send_error(cn, &err);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > cn->limit) { /* refused before reading it */
            cn->too_large = 1;
            return dispatch(cn);
        }
        return MHD_YES;
    }
    if (*upload_data_size) { /* a piece of the body */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (cn->too_large) return MHD_YES;
        if (n > cn->limit - cn->len) {
            cn->too_large = 1; /* the rest is read and dropped */
            free(cn->body);
            cn->body = NULL;
            cn->len = cn->cap = 0;
            return MHD_YES;
        }
        if (cn->len + n + 1 > cn->cap) {
            size_t cap = cn->cap ? cn->cap : 4096;
            while (cap < cn->len + n + 1) cap *= 2;
            char *p = realloc(cn->body, cap);
            if (!p) return MHD_NO;
            cn->body = p;
            cn->cap = cap;
        }
        memcpy(cn->body + cn->len, upload_data, n);
        cn->len += n;
        cn->body[cn->len] = 0;
        return MHD_YES;
    }
    if (cn->status) return MHD_YES; /* answered already (refused early) */
    return dispatch(cn);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    Conn *cn = *con_cls;
    if (!cn) return;
    free(cn->body);
    free(cn);
    *con_cls = NULL;
}

/* libmicrohttpd's own messages (a connection it closed, a socket error):
 * prefixed, and silent with --quiet. A cancelled stream ends with "closing
 * connection (application error ...)", which is expected, hence left out. */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    const Engine *e = cls;
    if (e->cfg.quiet) return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (strstr(msg, "application error generating response")) return;
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = 0;
    fprintf(stderr, "bitt serve: http: %s\n", msg);
}

int server_run(const ServerConfig *cfg, BittError *err) {
#ifdef __GLIBC__
    /* every connection has its own thread, and glibc would give the threads
     * up to 8 heaps per core, whose free pages it keeps: with two, the
     * resident memory stays flat under load (docs/SERVER.md) */
    mallopt(M_ARENA_MAX, 2);
#endif
    Engine *e = calloc(1, sizeof *e);
    if (!e) return bitt_fail(err, "out of memory");
    if (engine_open(e, cfg, err) != 0) {
        engine_close(e);
        free(e);
        return -1;
    }
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    struct sockaddr *addr;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    if (inet_pton(AF_INET, cfg->host, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)cfg->port);
        addr = (struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, cfg->host, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)cfg->port);
        addr = (struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        engine_close(e);
        free(e);
        return bitt_fail(err, "--host '%s' is not an IPv4 or IPv6 address", cfg->host);
    }
    /* SIGINT / SIGTERM are taken by sigwait below: blocked in every thread (the daemon's inherit it) */
    sigset_t stop_signals, old;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &old);
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, e, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, e,
        MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(cfg->parallel + cfg->queue + EXTRA_CONNECTIONS),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (!d) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        engine_close(e);
        free(e);
        return bitt_fail(err, "cannot listen on %s port %d: %s", cfg->host, cfg->port,
                         errno ? strerror(errno) : "the HTTP daemon did not start");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    const int port = info ? (int)info->port : cfg->port;
    const int ipv6 = addr == (struct sockaddr *)&v6;
    fprintf(stderr, "bitt serve: model %s (%s, %s kernels), %d parallel x %d thread%s, queue %d, cache %d memories / %zu MiB\n",
            e->model_name, cfg->model_path, bitt_model_kernels(e->model), e->n_slots, e->n_slots > 1 ? 1 : cfg->threads,
            e->n_slots > 1 || cfg->threads == 1 ? "" : "s", cfg->queue, cfg->cache_entries, cfg->cache_bytes >> 20);
    printf("bitt serve: listening on http://%s%s%s:%d\n", ipv6 ? "[" : "", cfg->host, ipv6 ? "]" : "", port);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    fprintf(stderr, "bitt serve: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
    atomic_store(&e->stopping, 1);
    MHD_stop_daemon(d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    engine_close(e);
    free(e);
    return 0;
}
