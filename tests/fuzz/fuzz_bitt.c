/* fuzz_bitt.c: libFuzzer harness of `.bitt` files read from memory
 * (model_load_bitt_memory, SPEC 3.3, versions 1 and 2 -- what the npm
 * package's loadModel reads) and lean (model_load_bitt_view -- what
 * bitt_model_load does with a mapped file): any bytes load or give an error
 * with a message; a model that loads runs, samples, and saves and loads again
 * (fuzz_use_model). */
#include "fuzz_util.h"

#include "api/bitt_internal.h"
#include "util/fileio.h"

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
    /* by size mod 3: from memory (what the npm package reads), from memory
     * with keep_latent (float weights kept for lossless conversion, as bitt
     * convert asks), or lean, as model_load reads a mapped file (tensors
     * left in the bytes, which the model then owns): all three paths are
     * tried without a second load */
    Model *m;
    if (size % 3 != 2) {
        m = model_load_bitt_memory(buf, size, "fuzz.bitt", (int)(size % 3), &err);
        free(buf); /* the model must not point into the buffer (model_file.h) */
    } else {
        FileView *v = malloc(sizeof *v);
        if (!v) { free(buf); return 0; }
        *v = (FileView){buf, size, 0};
        m = model_load_bitt_view(v, "fuzz.bitt", &err); /* owns buf from here */
    }
    if (!m) {
        FUZZ_CHECK_NAMES(err, "fuzz.bitt");
        return 0;
    }
    bitt_model bm = {m};
    fuzz_use_model(&bm, m);
    model_free(m);
    return 0;
}
