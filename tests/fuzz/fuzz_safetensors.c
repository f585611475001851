/* fuzz_safetensors.c: libFuzzer harness of the safetensors reader
 * (src/formats/safetensors.c, SPEC 3.2): any bytes parse or give an error;
 * what parses has every tensor's bytes inside the buffer (read them all, so
 * ASan sees any that are not) and lookups that find each tensor by name. */
#include "fuzz_util.h"

#include "formats/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    BittError err = {0};
    SafeTensors st;
    /* a copy of exactly size bytes, so a read past the end is one ASan sees */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    if (safetensors_parse(buf, size, "fuzz.safetensors", &st, &err) != 0) {
        FUZZ_CHECK_NAMES(err, "fuzz.safetensors");
        free(buf);
        return 0;
    }
    unsigned sum = 0;
    for (int i = 0; i < st.count; i++) {
        const StTensor *t = &st.tensors[i];
        size_t elems = 1;
        for (int d = 0; d < t->ndim; d++) elems *= (size_t)t->shape[d];
        FUZZ_CHECK(elems * st_dtype_size(t->dtype) == t->nbytes, "tensor %s: %zu bytes for its shape, %zu given",
                   t->name, elems * st_dtype_size(t->dtype), t->nbytes);
        FUZZ_CHECK(t->data >= buf && t->nbytes <= size && (size_t)(t->data - buf) <= size - t->nbytes,
                   "tensor %s outside the buffer", t->name);
        for (size_t b = 0; b < t->nbytes; b++) sum += t->data[b];
        const StTensor *found = safetensors_find(&st, t->name);
        FUZZ_CHECK(found == t, "tensor %s is not found by its name", t->name);
        (void)safetensors_expect(&st, t->name, t->dtype, t->ndim, t->shape, &err);
    }
    (void)safetensors_meta(&st, "format");
    (void)sum;
    safetensors_free(&st);
    free(buf);
    return 0;
}
