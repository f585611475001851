/* train_streams.c: the carried-state streams of stateful training, their
 * checkpoint file, and the one-pass (state carried) validation (see
 * train_streams.h). */
#include "train_streams.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/safetensors.h"
#include "../util/fileio.h"

int train_streams_init(TrainStreams *s, TrainBackend *be, int B, size_t state_floats, uint64_t n_tokens,
                       int context, BittError *err) {
    memset(s, 0, sizeof *s);
    s->n = B;
    s->state_floats = state_floats;
    s->be = be;
    s->pos = calloc((size_t)B, sizeof *s->pos);
    s->fresh = calloc((size_t)B, sizeof *s->fresh);
    s->carried = calloc((size_t)B, sizeof *s->carried);
    s->state = be->alloc(be, (size_t)B * state_floats);
    s->host_state = calloc((size_t)B * (state_floats ? state_floats : 1), sizeof *s->host_state);
    if (!s->pos || !s->fresh || !s->carried || !s->state || !s->host_state) {
        train_streams_free(s);
        return bitt_fail(err, "out of memory for the states of %d streams", B);
    }
    const uint64_t span = n_tokens - (uint64_t)context - 1; /* window starts 0 .. span */
    for (int b = 0; b < B; b++) {
        s->pos[b] = span * (uint64_t)b / (uint64_t)B;
        s->fresh[b] = 1;
    }
    return 0;
}

void train_streams_free(TrainStreams *s) {
    free(s->pos);
    free(s->fresh);
    free(s->carried);
    if (s->be) s->be->release(s->be, s->state);
    free(s->host_state);
    memset(s, 0, sizeof *s);
}

void train_streams_next(TrainStreams *s, BittRng *rng, float reset, const TokenFile *tf, int context,
                        int32_t *ids) {
    const uint64_t span = tf->n_tokens - (uint64_t)context; /* starts 0 .. n - context - 1 */
    for (int b = 0; b < s->n; b++) {
        const float u = rng_next_float(rng);
        if (!s->fresh[b] && u < reset) {
            s->fresh[b] = 1;
            s->pos[b] = rng_next_u64(rng) % span;
        }
        if (s->pos[b] >= span) s->pos[b] = 0; /* a file shorter than when the run started */
        token_file_read(tf, s->pos[b], (size_t)context + 1, ids + (size_t)b * (context + 1));
    }
}

TrainCarry train_streams_carry(TrainStreams *s) {
    for (int b = 0; b < s->n; b++) s->carried[b] = !s->fresh[b];
    TrainCarry c = {s->state_floats ? s->state : NULL, s->carried, 1};
    return c;
}

int train_streams_download(TrainStreams *s, BittError *err) {
    s->be->download(s->be, s->host_state, s->state, (size_t)s->n * s->state_floats);
    return s->be->status(s->be, err);
}

void train_streams_advance(TrainStreams *s, uint64_t n_tokens, int context) {
    for (int b = 0; b < s->n; b++) {
        s->pos[b] += (uint64_t)context;
        if (s->pos[b] + (uint64_t)context + 1 > n_tokens) s->pos[b] = 0; /* wrap; the state carries on */
        s->fresh[b] = 0;
    }
}

int train_streams_save(const TrainStreams *s, const char *path, BittError *err) {
    StWriter w;
    st_writer_init(&w);
    const int64_t shape_b[1] = {s->n}, shape_s[2] = {s->n, (int64_t)s->state_floats};
    int64_t *pos = malloc((size_t)s->n * sizeof *pos);
    int rc = pos ? 0 : bitt_fail(err, "out of memory");
    if (!rc) {
        for (int b = 0; b < s->n; b++) pos[b] = (int64_t)s->pos[b];
        rc = st_writer_add_owned(&w, "pos", ST_I64, 1, shape_b, pos, err);
    } else {
        free(pos);
    }
    if (!rc) rc = st_writer_add(&w, "fresh", ST_I64, 1, shape_b, s->fresh, err);
    if (!rc && s->state_floats) rc = st_writer_add(&w, "state", ST_F32, 2, shape_s, s->host_state, err);
    if (!rc) rc = st_writer_meta(&w, "format", "bitt-train-streams", err);
    if (!rc) rc = st_writer_save(&w, path, err);
    st_writer_free(&w);
    return rc;
}

int train_streams_load(TrainStreams *s, const char *path, BittError *err) {
    SafeTensors st;
    int rc = safetensors_load_file(path, &st, err);
    if (rc == 0) {
        const int64_t shape_b[1] = {s->n}, shape_s[2] = {s->n, (int64_t)s->state_floats};
        const StTensor *pos = safetensors_expect(&st, "pos", ST_I64, 1, shape_b, err);
        const StTensor *fresh = pos ? safetensors_expect(&st, "fresh", ST_I64, 1, shape_b, err) : NULL;
        if (!pos || !fresh) {
            rc = -1;
        } else {
            for (int b = 0; b < s->n && !rc; b++) {
                int64_t p, f;
                memcpy(&p, pos->data + 8 * (size_t)b, 8);
                memcpy(&f, fresh->data + 8 * (size_t)b, 8);
                if (p < 0 || (f != 0 && f != 1))
                    rc = bitt_fail(err, "%s: stream %d: invalid position %lld or fresh flag %lld", path, b,
                                   (long long)p, (long long)f);
                s->pos[b] = (uint64_t)p;
                s->fresh[b] = f;
            }
            if (!rc && s->state_floats)
                rc = safetensors_read_f32(&st, "state", 2, shape_s, s->host_state, err);
            if (!rc) s->be->upload(s->be, s->state, s->host_state, (size_t)s->n * s->state_floats);
        }
        safetensors_free(&st);
    }
    return rc;
}

int train_eval_stream(const TrainModel *tm, TrainActs *w, const TokenFile *tf, const Tokenizer *tok, uint64_t n,
                      int window, int32_t *ids, double *loss, double *bpb, BittError *err) {
    if (n > tf->n_tokens) n = tf->n_tokens;
    if (n < 2) return bitt_fail(err, "one-pass validation needs at least 2 tokens");
    TrainBackend *be = tm->be;
    const size_t S = train_state_floats(tm);
    real *state = be->alloc(be, S);
    int32_t *all = malloc((size_t)n * sizeof(int32_t));
    if (!state || !all) {
        be->release(be, state);
        free(all);
        return bitt_fail(err, "out of memory for the one-pass validation");
    }
    token_file_read(tf, 0, (size_t)n, all);
    train_state_init(tm, state);
    const int32_t carried = 1;
    double nats = 0.0;
    int rc = 0;
    for (uint64_t at = 0; at + 1 < n && !rc; at += (uint64_t)window) { /* predicts all[at + 1 .. at + T] */
        const int T = n - 1 - at < (uint64_t)window ? (int)(n - 1 - at) : window;
        memcpy(ids, all + at, ((size_t)T + 1) * sizeof(int32_t));
        const TrainCarry carry = {S ? state : NULL, &carried, T == window};
        double l;
        rc = train_forward(tm, w, ids, 1, T, &carry, NULL, &l, err);
        nats += l * T;
    }
    *loss = nats / (double)(n - 1);
    char *text = NULL;
    size_t bytes = 0;
    if (!rc) rc = tokenizer_decode(tok, all + 1, (size_t)(n - 1), 1, &text, &bytes, err);
    free(text);
    free(all);
    be->release(be, state);
    if (rc) return -1;
    *bpb = bytes ? nats / log(2.0) / (double)bytes : 0.0;
    return isfinite(*loss) ? 0 : -1;
}
