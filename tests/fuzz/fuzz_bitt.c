/* fuzz_bitt.c: libFuzzer harness of `.bitt` files read from memory
 * (model_load_bitt_memory, SPEC 3.3, versions 1 and 2 -- what bitt_model_load
 * and the npm package's loadModel read): any bytes load or give an error
 * with a message; a model that loads runs, samples, and saves and loads again
 * (fuzz_use_model). */
#include "fuzz_util.h"

#include "api/bitt_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    bitt_set_threads(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    BittError err = {0};
    uint8_t *buf = malloc(size ? size : 1); /* exactly size bytes: ASan sees any read past them */
    if (!buf) return 0;
    memcpy(buf, data, size);
    /* keep_latent (float weights kept for lossless conversion, as bitt convert
     * asks) on for odd sizes, so both paths are tried without a second load */
    Model *m = model_load_bitt_memory(buf, size, "fuzz.bitt", (int)(size & 1), &err);
    free(buf); /* the model must not point into the buffer (model_file.h) */
    if (!m) {
        FUZZ_CHECK_NAMES(err, "fuzz.bitt");
        return 0;
    }
    bitt_model bm = {m};
    fuzz_use_model(&bm, m);
    model_free(m);
    return 0;
}
