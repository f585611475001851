/* stop_text.c: holding back generated text that may begin a stop string,
 * releasing it once it cannot, and cutting at the first stop string. */
#include "stop_text.h"

#include <stdlib.h>
#include <string.h>

#include "../util/grow.h"

int stop_text_init(StopText *st, const char *const *stops, const size_t *lens, int n, BittError *err) {
    memset(st, 0, sizeof *st);
    if (n < 0 || n > STOP_TEXT_MAX_STRINGS) return bitt_fail(err, "at most %d stop strings (got %d)", STOP_TEXT_MAX_STRINGS, n);
    if (n == 0) return 0;
    st->stops = calloc((size_t)n, sizeof *st->stops);
    st->stop_len = calloc((size_t)n, sizeof *st->stop_len);
    if (!st->stops || !st->stop_len) {
        stop_text_free(st);
        return bitt_fail(err, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        if (lens[i] == 0 || lens[i] > STOP_TEXT_MAX_BYTES) {
            stop_text_free(st);
            return bitt_fail(err, "stop string %d: must be 1 to %d bytes long (got %zu)", i, STOP_TEXT_MAX_BYTES, lens[i]);
        }
        st->stops[i] = malloc(lens[i]);
        if (!st->stops[i]) {
            stop_text_free(st);
            return bitt_fail(err, "out of memory");
        }
        memcpy(st->stops[i], stops[i], lens[i]);
        st->stop_len[i] = lens[i];
        st->n_stops = i + 1;
        if (lens[i] > st->longest) st->longest = lens[i];
    }
    return 0;
}

void stop_text_free(StopText *st) {
    for (int i = 0; i < st->n_stops; i++) free(st->stops[i]);
    free(st->stops);
    free(st->stop_len);
    free(st->pending);
    free(st->out);
    memset(st, 0, sizeof *st);
}

/* Copies n bytes into the output buffer. */
static int release(StopText *st, const char *bytes, size_t n, const char **out, size_t *out_len) {
    if (grow_array(&st->out, &st->out_cap, n + 1, 1) != 0) return -1;
    if (n) memcpy(st->out, bytes, n);
    st->out[n] = 0;
    *out = st->out;
    *out_len = n;
    return 0;
}

/* 1 if some stop string starts with the len bytes at s. */
static int is_stop_prefix(const StopText *st, const char *s, size_t len) {
    for (int i = 0; i < st->n_stops; i++)
        if (st->stop_len[i] > len && memcmp(st->stops[i], s, len) == 0) return 1;
    return 0;
}

int stop_text_push(StopText *st, const char *text, size_t len, const char **out, size_t *out_len) {
    if (st->stopped) return release(st, NULL, 0, out, out_len) == 0 ? 1 : -1;
    if (st->n_stops == 0) return release(st, text, len, out, out_len);
    if (grow_array(&st->pending, &st->pending_cap, st->pending_len + len + 1, 1) != 0) return -1;
    if (len) memcpy(st->pending + st->pending_len, text, len);
    st->pending_len += len;
    const char *p = st->pending;
    const size_t n = st->pending_len;
    /* the earliest complete stop string; held-back text never contains one,
     * so only positions from where the new text could reach matter */
    for (size_t at = 0; at < n; at++) {
        for (int i = 0; i < st->n_stops; i++) {
            if (st->stop_len[i] <= n - at && memcmp(p + at, st->stops[i], st->stop_len[i]) == 0) {
                st->stopped = 1;
                int rc = release(st, p, at, out, out_len);
                st->pending_len = 0;
                return rc == 0 ? 1 : -1;
            }
        }
    }
    /* hold back the longest tail that may still grow into a stop string */
    size_t hold = 0;
    for (size_t k = n < st->longest ? n : st->longest - 1; k > 0; k--)
        if (is_stop_prefix(st, p + n - k, k)) { hold = k; break; }
    if (release(st, p, n - hold, out, out_len) != 0) return -1;
    memmove(st->pending, p + n - hold, hold);
    st->pending_len = hold;
    return 0;
}

int stop_text_flush(StopText *st, const char **out, size_t *out_len) {
    size_t n = st->stopped ? 0 : st->pending_len;
    int rc = release(st, st->pending, n, out, out_len);
    st->pending_len = 0;
    return rc;
}
