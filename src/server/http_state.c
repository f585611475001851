/* http_state.c: the memory endpoints, an extension of the OpenAI API:
 *   GET    /v1/bitt/state          the memories the server holds
 *   GET    /v1/bitt/state/{id}     one memory as a state file (SPEC 3.4)
 *   PUT    /v1/bitt/state/{id}     store a state file under that id
 *   DELETE /v1/bitt/state/{id}     forget it
 * A stored memory is continued by a request with "conversation_id": id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_glue.h"

static int slot_wait_gone(void *user) { return http_peer_gone(user); }

/* Takes a slot for work on a session (loading a state checks it against the
 * model and computes its logits). 0, or -1 with err filled. */
static int take_slot(Conn *cn, EngineSlot **slot, ApiError *err) {
    switch (engine_acquire(cn->engine, slot_wait_gone, cn, slot)) {
    case ACQUIRE_OK: return 0;
    case ACQUIRE_BUSY:
        return api_error(err, 503, "server_error", NULL, "server_busy", "the server is busy; try again shortly");
    default: return api_error(err, 499, "cancelled", NULL, "cancelled", "gone while queued");
    }
}

static void state_object(JsonWriter *w, const char *id, int64_t tokens, size_t bytes) {
    jw_begin_object(w);
    jw_key(w, "id");
    jw_string(w, id);
    jw_key(w, "object");
    jw_string(w, "bitt.state");
    jw_key(w, "tokens");
    jw_int(w, tokens);
    jw_key(w, "bytes");
    jw_int(w, (int64_t)bytes);
    jw_end_object(w);
}

static void list_one(const ConvEntry *e, void *user) {
    JsonWriter *w = user;
    jw_begin_object(w);
    jw_key(w, "id");
    jw_string(w, e->id);
    jw_key(w, "object");
    jw_string(w, "bitt.state");
    jw_key(w, "tokens");
    jw_int(w, e->token_count + (e->unread >= 0 ? 1 : 0));
    jw_key(w, "bytes");
    jw_int(w, (int64_t)e->state_len);
    jw_key(w, "prefix_tokens"); /* ids known: found by the prompts that start with them */
    if (e->tokens) jw_int(w, (int64_t)e->n_tokens);
    else jw_null(w);
    jw_end_object(w);
}

static enum MHD_Result send_list(Conn *cn) {
    JsonWriter w;
    jw_init(&w, 0);
    jw_begin_object(&w);
    jw_key(&w, "object");
    jw_string(&w, "list");
    jw_key(&w, "data");
    jw_begin_array(&w);
    conv_cache_each(&cn->engine->cache, list_one, &w);
    jw_end_array(&w);
    jw_end_object(&w);
    enum MHD_Result rc = http_send_json(cn, 200, &w);
    jw_free(&w);
    http_log(cn, "%s", "");
    return rc;
}

static enum MHD_Result not_found(Conn *cn) {
    ApiError err;
    api_error(&err, 404, "invalid_request_error", NULL, "conversation_not_found",
              "no memory '%s' (unknown, or evicted from the cache)", cn->arg);
    return http_send_error(cn, &err);
}

/* GET: the bytes as stored, or, when the answer's last token is still unread,
 * the memory after reading it (what the conversation holds). */
static enum MHD_Result send_state(Conn *cn) {
    Engine *e = cn->engine;
    ConvEntry *entry = conv_cache_get(&e->cache, cn->arg);
    if (!entry) return not_found(cn);
    ApiError err;
    BittError berr;
    uint8_t *fresh = NULL;
    size_t fresh_len = 0;
    const uint8_t *bytes = entry->state;
    size_t len = entry->state_len;
    int64_t tokens = entry->token_count;
    if (entry->unread >= 0) {
        EngineSlot *slot;
        if (take_slot(cn, &slot, &err) != 0) {
            conv_cache_release(&e->cache, entry, 0);
            if (err.status == 499) return MHD_NO;
            return http_send_error(cn, &err);
        }
        int rc = bitt_state_load(slot->session, entry->state, entry->state_len, &berr) != 0 ||
                 bitt_session_feed(slot->session, &entry->unread, 1, &berr) != 0 ||
                 bitt_state_save(slot->session, &fresh, &fresh_len, &berr) != 0;
        tokens = bitt_session_tokens(slot->session);
        engine_release(e, slot);
        if (rc) {
            conv_cache_release(&e->cache, entry, 0);
            api_error(&err, 500, "server_error", NULL, NULL, "%s", berr.message);
            return http_send_error(cn, &err);
        }
        bytes = fresh;
        len = fresh_len;
    }
    char count[32], disposition[128];
    snprintf(count, sizeof count, "%lld", (long long)tokens);
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s.state\"", cn->arg);
    const char *headers[] = {"X-Bitt-Tokens", count, "Content-Disposition", disposition, NULL};
    enum MHD_Result rc = http_send_bytes(cn, 200, bytes, len, headers);
    conv_cache_release(&e->cache, entry, 0);
    bitt_free(fresh);
    http_log(cn, "%zu bytes, %lld tokens", len, (long long)tokens);
    return rc;
}

/* PUT: the body must load into this model (fingerprint, shapes). */
static enum MHD_Result put_state(Conn *cn) {
    Engine *e = cn->engine;
    ApiError err;
    BittError berr;
    if (e->cache.max_entries == 0) {
        api_error(&err, 400, "invalid_request_error", NULL, "cache_off",
                  "this server keeps no memories (started with --cache 0)");
        return http_send_error(cn, &err);
    }
    EngineSlot *slot;
    if (take_slot(cn, &slot, &err) != 0) {
        if (err.status == 499) return MHD_NO;
        return http_send_error(cn, &err);
    }
    uint8_t *state = NULL;
    size_t len = 0;
    int bad = bitt_state_load(slot->session, cn->body ? cn->body : "", cn->len, &berr) != 0;
    int64_t tokens = bitt_session_tokens(slot->session);
    if (!bad && bitt_state_save(slot->session, &state, &len, &berr) != 0) {
        engine_release(e, slot);
        api_error(&err, 500, "server_error", NULL, NULL, "%s", berr.message);
        return http_send_error(cn, &err);
    }
    engine_release(e, slot);
    if (bad) {
        api_error(&err, 400, "invalid_request_error", NULL, "invalid_state", "%s", berr.message);
        return http_send_error(cn, &err);
    }
    if (conv_cache_put(&e->cache, cn->arg, state, len, NULL, 0, -1, tokens, NULL) != 0) {
        api_error(&err, 400, "invalid_request_error", NULL, "state_too_large",
                  "a memory of %zu bytes does not fit in this server's cache (--cache-bytes)", len);
        return http_send_error(cn, &err);
    }
    JsonWriter w;
    jw_init(&w, 0);
    state_object(&w, cn->arg, tokens, len);
    enum MHD_Result rc = http_send_json(cn, 201, &w);
    jw_free(&w);
    http_log(cn, "%zu bytes, %lld tokens", len, (long long)tokens);
    return rc;
}

static enum MHD_Result delete_state(Conn *cn) {
    if (!conv_cache_delete(&cn->engine->cache, cn->arg)) return not_found(cn);
    JsonWriter w;
    jw_init(&w, 0);
    jw_begin_object(&w);
    jw_key(&w, "id");
    jw_string(&w, cn->arg);
    jw_key(&w, "object");
    jw_string(&w, "bitt.state");
    jw_key(&w, "deleted");
    jw_bool(&w, 1);
    jw_end_object(&w);
    enum MHD_Result rc = http_send_json(cn, 200, &w);
    jw_free(&w);
    http_log(cn, "%s", "");
    return rc;
}

enum MHD_Result http_state(Conn *cn) {
    if (cn->route == ROUTE_STATE_LIST) return send_list(cn);
    if (strcmp(cn->method, "GET") == 0) return send_state(cn);
    if (strcmp(cn->method, "PUT") == 0) return put_state(cn);
    return delete_state(cn);
}
