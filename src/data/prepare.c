/* prepare.c: text files -> token file (see prepare.h). */
#include "prepare.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tokenizer/story_split.h"
#include "../util/grow.h"
#include "text_chunks.h"
#include "token_file.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Where encoded stories go: a token file, or ids in memory. */
typedef struct IdSink {
    TokenWriter *w;
    int32_t *ids;
    size_t n, cap;
} IdSink;

static int sink_write(IdSink *s, const int32_t *ids, size_t n, BittError *err) {
    if (s->w) return token_writer_write(s->w, ids, n, err);
    if (grow_array(&s->ids, &s->cap, s->n + n, sizeof *s->ids) != 0) return bitt_fail(err, "out of memory");
    memcpy(s->ids + s->n, ids, n * sizeof *ids);
    s->n += n;
    return 0;
}

/* Encodes the stories of one chunk. */
static int encode_chunk(const Tokenizer *tok, int32_t eos, const char *text, size_t len, IdSink *w,
                        PrepareStats *st, BittError *err) {
    size_t pos = 0, start, story_len;
    while (story_next(text, len, &pos, &start, &story_len)) {
        int32_t *ids = NULL;
        size_t n = 0;
        double t0 = now_seconds();
        if (tokenizer_encode(tok, text + start, story_len, &ids, &n, err)) return -1;
        st->encode_seconds += now_seconds() - t0;
        if (sink_write(w, ids, n, err) || sink_write(w, &eos, 1, err)) {
            free(ids);
            return -1;
        }
        free(ids);
        st->text_bytes += story_len;
        st->n_documents++;
        st->n_tokens += n + 1;
    }
    return 0;
}

int prepare_token_file(const Tokenizer *tok, const char *tokenizer_path, const char *const *inputs, int n_inputs,
                       const char *out_path, PrepareProgressFn progress, void *progress_ctx, PrepareStats *stats,
                       BittError *err) {
    const char *tname = tokenizer_path ? tokenizer_path : "the tokenizer";
    int32_t eos = tokenizer_token_id(tok, "</s>");
    char fingerprint[17];
    TokenWriter *w;
    TokenFileMeta meta;
    int i;
    memset(stats, 0, sizeof *stats);
    if (n_inputs <= 0) return bitt_fail(err, "prepare: no input files");
    if (eos < 0)
        return bitt_fail(err, "%s: the tokenizer has no </s> token, which prepare puts after every story "
                         "(SPEC 2: <unk> 0, <s> 1, </s> 2)", tname);
    if (tokenizer_fingerprint(tok, fingerprint, err)) return -1;
    if (!(w = malloc(sizeof *w))) return bitt_fail(err, "%s: out of memory", out_path);
    if (token_writer_open(w, out_path, tokenizer_vocab_size(tok), err)) {
        free(w);
        return -1;
    }
    for (i = 0; i < n_inputs; i++) {
        TextChunkReader r;
        const char *text;
        size_t len;
        uint64_t docs_before = stats->n_documents;
        int rc;
        if (text_chunks_open(&r, inputs[i], 0, err)) goto fail;
        while ((rc = text_chunks_next(&r, &text, &len, err)) == 1) {
            IdSink sink = {w, NULL, 0, 0};
            if (encode_chunk(tok, eos, text, len, &sink, stats, err)) {
                bitt_fail_prefix(err, inputs[i]);
                rc = -1;
                break;
            }
            if (progress) progress(progress_ctx, inputs[i], r.done, r.file_size);
        }
        stats->input_bytes += r.file_size;
        text_chunks_close(&r);
        if (rc < 0) goto fail;
        if (stats->n_documents == docs_before) {
            bitt_fail(err, "%s: no text to encode (the file is empty or holds only <|endoftext|> separators)",
                      inputs[i]);
            goto fail;
        }
    }
    meta.tokenizer_path = tokenizer_path;
    meta.fingerprint = fingerprint;
    meta.eos_id = eos;
    meta.text_bytes = stats->text_bytes;
    meta.n_documents = stats->n_documents;
    meta.inputs = inputs;
    meta.n_inputs = n_inputs;
    if (token_writer_finish(w, &meta, err)) {
        free(w);
        return -1;
    }
    free(w);
    return 0;
fail:
    token_writer_abort(w);
    free(w);
    return -1;
}

int prepare_encode_text(const Tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n,
                        PrepareStats *stats, BittError *err) {
    const int32_t eos = tokenizer_token_id(tok, "</s>");
    memset(stats, 0, sizeof *stats);
    *ids = NULL;
    *n = 0;
    if (eos < 0) return bitt_fail(err, "the tokenizer has no </s> token to end each story with");
    IdSink sink = {NULL, NULL, 0, 0};
    if (encode_chunk(tok, eos, text, len, &sink, stats, err) != 0) {
        free(sink.ids);
        return -1;
    }
    if (!stats->n_documents) {
        free(sink.ids);
        return bitt_fail(err, "no text to encode (empty, or only <|endoftext|> separators)");
    }
    stats->input_bytes = len;
    *ids = sink.ids;
    *n = sink.n;
    return 0;
}
