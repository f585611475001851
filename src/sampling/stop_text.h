/* stop_text.h: stop strings over generated text. Pieces of text go in as
 * they are produced; what comes out is the text that can no longer be the
 * start of a stop string, so a stop string split across tokens is caught
 * and never shown. When one is found, the text before it is the last
 * output and generation should end. Byte-exact (UTF-8 in, UTF-8 out). */
#ifndef BITT_STOP_TEXT_H
#define BITT_STOP_TEXT_H

#include <stddef.h>

#include "../util/error.h"

/* Limits of a request's stop strings (the OpenAI API allows 4). */
#define STOP_TEXT_MAX_STRINGS 16
#define STOP_TEXT_MAX_BYTES 256

typedef struct StopText {
    char **stops;          /* copies of the stop strings */
    size_t *stop_len;
    int n_stops;
    size_t longest;
    char *pending;         /* text held back: it may be the start of a stop string */
    size_t pending_len, pending_cap;
    char *out;             /* the text released by the last call */
    size_t out_cap;
    int stopped;           /* a stop string was found: everything after it is dropped */
} StopText;

/* Copies the n stop strings (each 1..STOP_TEXT_MAX_BYTES bytes; n <= STOP_TEXT_MAX_STRINGS). */
int stop_text_init(StopText *st, const char *const *stops, const size_t *lens, int n, BittError *err);
void stop_text_free(StopText *st);
/* Adds len bytes of generated text. *out / *out_len: the text released now
 * (valid until the next call). Returns 1 when a stop string was completed
 * (the released text is what came before it), 0 otherwise, -1 when out of
 * memory. After a stop, further text is ignored. */
int stop_text_push(StopText *st, const char *text, size_t len, const char **out, size_t *out_len);
/* At the end of generation: releases what is still held back (nothing after a stop). */
int stop_text_flush(StopText *st, const char **out, size_t *out_len);

#endif
