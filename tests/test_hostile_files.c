/* test_hostile_files.c: hostile model, safetensors and state files (SPEC 4),
 * each test built on the smallest input that shows what it checks (see the
 * comment of each). Run in the asan suite too, where an undefined conversion
 * or an over-read stops the test. With an argument, runs that test only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/model_file.h"
#include "model/session.h"
#include "model/state.h"
#include "test_model_util.h"
#include "test_util.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#endif
#ifdef UNDER_SANITIZER
#define TIME_LIMIT 10.0
#else
#define TIME_LIMIT 2.0
#endif

/* ---- safetensors ---- */

/* A safetensors buffer of exactly the right size (ASan sees any over-read):
 * the header text, then data_len bytes 0, 1, 2, ... */
static uint8_t *st_make(const char *header, size_t data_len, size_t *len) {
    const size_t hl = strlen(header);
    *len = 8 + hl + data_len;
    uint8_t *buf = malloc(*len);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    for (size_t i = 0; i < data_len; i++) buf[8 + hl + i] = (uint8_t)i;
    return buf;
}

static void st_expect(const char *header, size_t data_len, const char *needle) {
    size_t len;
    uint8_t *buf = st_make(header, data_len, &len);
    SafeTensors st;
    BittError err = {{0}};
    const int rc = safetensors_parse(buf, len, "h.safetensors", &st, &err);
    if (needle) {
        CHECK_MSG(rc != 0, "accepted: %s (%zu data bytes)", header, data_len);
        CHECK_MSG(rc != 0 && strstr(err.message, "h.safetensors") && strstr(err.message, needle),
                  "\"%s\" lacks \"%s\" for %s", err.message, needle, header);
    } else {
        CHECK_MSG(rc == 0, "refused: %s: %s", header, err.message);
        if (rc == 0) safetensors_free(&st);
    }
    free(buf);
}

#define U8(name, n, b, e) "\"" name "\":{\"dtype\":\"U8\",\"shape\":[" #n "],\"data_offsets\":[" #b "," #e "]}"

/* issue 22.1: header numbers (data_offsets, shapes) out of every integer
 * range are refused before they are converted. */
static void test_header_numbers(void) {
    /* issue 22.1: 1.16842e+24 was converted to uint64_t before any range check */
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1.16842e+24]}}", 1, "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1.16842e+24,1.16842e+24]}}", 1, "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1e300,1]}}", 1, "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,0.5]}}", 1, "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[9007199254740994,9007199254740995]}}", 1,
              "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[\"0\",1]}}", 1, "data_offsets");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.16842e+24],\"data_offsets\":[0,1]}}", 1, "shape");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1e300],\"data_offsets\":[0,1]}}", 1, "shape");
    st_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[-0.0],\"data_offsets\":[0,0]}}", 0, NULL); /* -0 is 0 */
}

/* ---- .bitt files ---- */

/* ---- state files ---- */

/* With an argument, runs only the test of that name (e.g. to see one fail). */
int main(int argc, char **argv) {
    static const struct { const char *name; void (*fn)(void); } tests[] = {
        {"test_header_numbers", test_header_numbers},
    };
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
        if (argc < 2 || strcmp(argv[1], tests[i].name) == 0) tests[i].fn();
    return test_main_end("test_hostile_files");
}
