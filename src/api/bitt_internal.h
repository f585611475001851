/* bitt_internal.h: what the files of the C API (src/api) share behind
 * bitt.h: the structs behind the opaque handles and the conversion of the
 * public sampling parameters. Not for applications. */
#ifndef BITT_API_INTERNAL_H
#define BITT_API_INTERNAL_H

#include "bitt.h"

#include "../infer/session.h"
#include "../model/model.h"
#include "../sampling/sampler.h"

struct bitt_model {
    Model *m;
};

struct bitt_session {
    const bitt_model *model;
    Session run;
    float *logits;       /* V: next-token logits after the last fed token */
    int has_logits;
    Sampler sampler;
};

/* Checks p and makes the sampler's parameters of it (a top_k above the
 * vocabulary means off). */
int bitt_sampling_params(const bitt_sampling *p, int vocab_size, SamplingParams *out, BittError *err);
/* Feeds the text (a session at its start state reads </s> first). */
int bitt_feed_text(bitt_session *s, const char *text, size_t len, BittError *err);

#endif
