/* http_glue.h: what the libmicrohttpd files of the server share: one
 * request's context (route, body), sending JSON and errors, noticing that a
 * client has gone. http_server.c runs the daemon and routes; http_generate.c
 * answers completions and chats (whole or streamed); http_state.c the
 * memory endpoints. */
#ifndef BITT_SERVER_HTTP_GLUE_H
#define BITT_SERVER_HTTP_GLUE_H

#include <microhttpd.h>
#include <stddef.h>

#include "engine.h"

typedef enum Route {
    ROUTE_NONE = 0,
    ROUTE_HEALTH,
    ROUTE_MODELS,
    ROUTE_MODEL,        /* /v1/models/{id} */
    ROUTE_COMPLETIONS,
    ROUTE_CHAT,
    ROUTE_STATE_LIST,   /* /v1/bitt/state */
    ROUTE_STATE         /* /v1/bitt/state/{id} */
} Route;

typedef struct Conn {
    Engine *engine;
    struct MHD_Connection *c;
    int fd;                 /* the client's socket, to notice it going away */
    Route route;
    const char *method;
    char url[256];
    char arg[REQUEST_MAX_ID_LEN + 1]; /* the {id} of the path */
    int arg_ok;
    char *body;
    size_t len, cap, limit;
    int too_large;
    double t0;
    /* for the request log */
    int status;
    const char *note;
} Conn;

/* Monotonic seconds. */
double http_now(void);
/* 1 if the client closed its connection (a peek at the socket). */
int http_peer_gone(void *conn);
/* Sends a JSON body (w's text) with the status; frees nothing. */
enum MHD_Result http_send_json(Conn *cn, int status, const JsonWriter *w);
/* Sends {"error": ...}; adds Retry-After to a 503. */
enum MHD_Result http_send_error(Conn *cn, const ApiError *e);
/* Sends bytes as application/octet-stream with extra headers (name, value pairs, NULL-ended). */
enum MHD_Result http_send_bytes(Conn *cn, int status, const void *data, size_t len, const char *const *headers);
/* One line on stderr about a finished request (unless --quiet). */
void http_log(Conn *cn, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

enum MHD_Result http_generate(Conn *cn);
enum MHD_Result http_state(Conn *cn);

#endif
