/* fuzz_util.h: what the libFuzzer harnesses of tests/fuzz share: the entry
 * point's prototype, a check that aborts (so libFuzzer records the input) when
 * a promise of SPEC 4 or of a header is broken, the small fixed models and
 * tokenizers the harnesses load bytes into, and the two-part input layout of
 * the harnesses that read two files at once. */
#ifndef BITT_FUZZ_UTIL_H
#define BITT_FUZZ_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bitt.h"
#include "formats/json.h"
#include "model/model_file.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken promise: print what and abort (libFuzzer keeps the input). */
#define FUZZ_CHECK(cond, ...)                                              \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "fuzz check failed: %s (%s:%d): ", #cond, __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
            abort();                                                       \
        }                                                                  \
    } while (0)

/* An error must say something (SPEC 4: the error names what is wrong). */
#define FUZZ_CHECK_ERROR(err) FUZZ_CHECK((err).message[0] != '\0', "an error with an empty message")
/* ... and the file it is about: its message holds the source name given. */
#define FUZZ_CHECK_NAMES(err, name)                                                                   \
    do {                                                                                             \
        FUZZ_CHECK_ERROR(err);                                                                       \
        FUZZ_CHECK(strstr((err).message, (name)) != NULL, "the error does not name %s: %s", (name),   \
                   (err).message);                                                                   \
    } while (0)

/* Two inputs in one: a u32 little-endian length n, n bytes of the first part,
 * the rest is the second part. A too short input gives an empty first part
 * and everything after the prefix as the second. */
static inline void fuzz_split(const uint8_t *data, size_t size, const uint8_t **a, size_t *na, const uint8_t **b,
                              size_t *nb) {
    uint32_t n = 0;
    if (size < 4) {
        *a = data, *na = 0, *b = data, *nb = 0;
        return;
    }
    n = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
    if (n > size - 4) n = (uint32_t)(size - 4);
    *a = data + 4, *na = n;
    *b = data + 4 + n, *nb = size - 4 - n;
}

/* The small models of the harnesses that load a state into a model, and of
 * the server's: a synthetic tokenizer of FUZZ_VOCAB ids, D = 16, one layer,
 * seed 1 -- what `bitt init --dim 16 --layers 1 --vocab 300 --seed 1
 * [--variant V] [--forget-gate off]` writes, so that the seed states
 * make_seeds.sh makes with those models fit these. Returned as .bitt v1 bytes
 * (malloc'd) that bitt_model_load_memory reads, as the CLI reads the file. */
#define FUZZ_VOCAB 300
#define FUZZ_DIM 16
static inline int fuzz_small_model_bitt(TttVariant variant, int forget_gate, uint8_t **buf, size_t *len) {
    BittError err;
    ModelConfig cfg;
    Tokenizer *tok = tokenizer_make_synthetic(FUZZ_VOCAB, &err);
    Model *m;
    int rc;
    if (!tok) return -1;
    config_init(&cfg, FUZZ_VOCAB, FUZZ_DIM, 1, variant);
    cfg.forget_gate = variant == TTT_LINEAR ? forget_gate : 0;
    if (!(m = model_alloc(&cfg, tok, &err))) return -1;
    model_init_random(m, 1);
    rc = model_finish_load(m, &err);
    if (!rc) rc = model_save_bitt_memory(m, 1, buf, len, &err);
    if (rc) fprintf(stderr, "fuzz: the small model: %s\n", err.message);
    model_free(m);
    return rc;
}

/* A model that loaded is whole (SPEC 4): it runs a few tokens and samples
 * one, describes itself in JSON (bitt inspect --json), and writes itself as .bitt v2
 * with I8 and with F16 embeddings (`bitt convert --packed [--embed f16]`) and as
 * v1, which load again. */
static inline void fuzz_use_model(bitt_model *bm, const Model *m) {
    BittError err = {0};
    bitt_session *s = NULL;
    const int32_t ids[3] = {0, 1, 2};
    int32_t next;
    bitt_sampling p = bitt_sampling_default();
    char *info = bitt_model_info_json(bm); /* what bitt inspect --json prints: JSON */
    FUZZ_CHECK(info, "a loaded model has no info JSON");
    JsonDoc *d = json_parse(info, strlen(info), "model info", &err);
    FUZZ_CHECK(d, "the model's info is not JSON: %s", err.message);
    json_doc_free(d);
    free(info);
    FUZZ_CHECK(bitt_session_new(bm, &s, &err) == 0, "a loaded model gives no session: %s", err.message);
    FUZZ_CHECK(bitt_session_feed(s, ids, 3, &err) == 0, "a loaded model cannot read 3 tokens: %s", err.message);
    FUZZ_CHECK(bitt_session_sample(s, &p, &next, &err) == 0, "a loaded model cannot sample: %s", err.message);
    FUZZ_CHECK(next >= 0 && next < bitt_model_vocab_size(bm), "sampled id %d outside the vocabulary", (int)next);
    bitt_session_free(s);
    if (m) {
        /* v2 with I8 embeddings, v2 with F16, v1 */
        static const int versions[3] = {2, 2, 1};
        static const BittEmbedForm forms[3] = {BITT_EMBED_I8, BITT_EMBED_F16, BITT_EMBED_F16};
        for (int k = 0; k < 3; k++) {
            uint8_t *buf = NULL;
            size_t len = 0;
            bitt_model *again = NULL;
            /* F16 may refuse a weight beyond float16's range (an error naming it); the others hold every model */
            if (model_save_bitt_memory_as(m, versions[k], forms[k], &buf, &len, &err) != 0) {
                FUZZ_CHECK(k == 1, "a loaded model does not save as form %d: %s", k, err.message);
                FUZZ_CHECK_ERROR(err);
                continue;
            }
            FUZZ_CHECK(bitt_model_load_memory(buf, len, &again, &err) == 0, "a saved model (form %d) does not load: %s",
                       k, err.message);
            bitt_model_free(again);
            free(buf);
        }
    }
}

#endif
