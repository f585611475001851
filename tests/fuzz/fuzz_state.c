/* fuzz_state.c: libFuzzer harness of TTT state files (SPEC 3.4) loaded into
 * small models (bitt_state_load, what --state-in, /load and loadState
 * read): one model of each variant (linear with and without the forget gate,
 * seed, none), the ones make_seeds.sh saves states of. Any bytes load or give
 * an error; a refused state leaves the session as it was (state.h), and a
 * state that loads is whole: the session reads on from it and samples. */
#include "fuzz_util.h"

#define N_MODELS 4
static bitt_model *models[N_MODELS];
static bitt_session *sessions[N_MODELS];
static uint8_t *fresh[N_MODELS]; /* each session's state before any load */
static size_t fresh_len[N_MODELS];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    static const TttVariant variants[N_MODELS] = {TTT_LINEAR, TTT_LINEAR, TTT_SEED, TTT_NONE};
    static const int gates[N_MODELS] = {1, 0, 0, 0};
    BittError err;
    (void)argc, (void)argv;
    bitt_set_threads(1);
    for (int i = 0; i < N_MODELS; i++) {
        uint8_t *buf;
        size_t len;
        if (fuzz_small_model_bitt(variants[i], gates[i], &buf, &len) != 0 ||
            bitt_model_load_memory(buf, len, &models[i], &err) != 0 || bitt_session_new(models[i], &sessions[i], &err) ||
            bitt_state_save(sessions[i], &fresh[i], &fresh_len[i], &err))
            abort();
        free(buf);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1); /* exactly size bytes */
    if (!buf) return 0;
    memcpy(buf, data, size);
    for (int i = 0; i < N_MODELS; i++) {
        BittError err = {0};
        bitt_session *s = sessions[i];
        bitt_session_reset(s);
        if (bitt_state_load(s, buf, size, &err) != 0) {
            FUZZ_CHECK_NAMES(err, "state"); /* bitt_state_load names the bytes "state" */
            uint8_t *now;
            size_t now_len;
            FUZZ_CHECK(bitt_state_save(s, &now, &now_len, &err) == 0, "save after a refused load: %s", err.message);
            FUZZ_CHECK(now_len == fresh_len[i] && memcmp(now, fresh[i], now_len) == 0,
                       "a refused state changed the session (model %d)", i);
            free(now);
            continue;
        }
        const int32_t ids[2] = {5, 2};
        int32_t next;
        bitt_sampling p = bitt_sampling_default();
        FUZZ_CHECK(bitt_session_tokens(s) >= 0, "negative token count");
        /* a count near the limit may be refused: an error, not a crash */
        if (bitt_session_feed(s, ids, 2, &err) == 0)
            FUZZ_CHECK(bitt_session_sample(s, &p, &next, &err) == 0, "sample after a loaded state: %s", err.message);
    }
    free(buf);
    return 0;
}
