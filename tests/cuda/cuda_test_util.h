/* cuda_test_util.h: what the CUDA backend's tests share: the backend under
 * test (the plugin through train_backend_open("cuda"), or with --emu its
 * kernels on the host emulator; no GPU: exit 77, ctest's SKIP, with the
 * reason), buffers moved between the host and a backend, random inputs, and
 * comparisons of a CUDA result against the CPU backend's (the reference). */
#ifndef BITT_CUDA_TEST_UTIL_H
#define BITT_CUDA_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitt_cuda.h"
#include "test_util.h"
#include "train/backend_open.h"
#include "train/cpu/cpu_backend.h"

#define SKIP_CODE 77

static int cuda_test_emu = 0;

/* The CUDA backend for this run (argv: --emu picks the emulator). */
static inline TrainBackend *open_cuda_backend(int argc, char **argv, const char *options) {
    BittError err;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--emu") == 0) cuda_test_emu = 1;
    TrainBackend *be = NULL;
    if (cuda_test_emu) {
        be = bitt_train_backend_cuda_emu(options, &err);
    } else {
        char note[600];
        be = train_backend_open("cuda", options, note, sizeof note, &err);
        if (!be && strstr(err.message, "no CUDA GPU")) {
            printf("SKIP: %s\n", err.message);
            exit(SKIP_CODE);
        }
        if (be) printf("%s\n", note);
    }
    if (!be) {
        fprintf(stderr, "FAIL: the CUDA backend did not open: %s\n", err.message);
        exit(1);
    }
    printf("backend under test: %s\n", cuda_test_emu ? "CUDA kernels on the host emulator (no GPU)" : "CUDA GPU");
    return be;
}

/* ---- random numbers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static inline double urand(void) { /* [0, 1) */
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static inline real *rand_host(size_t n, double lo, double hi) {
    real *p = (real *)malloc((n ? n : 1) * sizeof(real));
    for (size_t i = 0; i < n; i++) p[i] = (real)(lo + (hi - lo) * urand());
    return p;
}

static inline real *copy_host(const real *src, size_t n) {
    real *p = (real *)malloc((n ? n : 1) * sizeof(real));
    if (n) memcpy(p, src, n * sizeof(real));
    return p;
}

/* ---- backend buffers ---- */

static inline real *to_dev(TrainBackend *be, const real *host, size_t n) {
    real *d = be->alloc(be, n);
    if (!d) {
        fprintf(stderr, "FAIL: out of backend memory (%zu values)\n", n);
        exit(1);
    }
    be->upload(be, d, host, n);
    return d;
}

static inline int32_t *to_dev_i32(TrainBackend *be, const int32_t *host, size_t n) {
    int32_t *d = be->alloc_i32(be, n);
    if (!d) {
        fprintf(stderr, "FAIL: out of backend memory (%zu ids)\n", n);
        exit(1);
    }
    be->upload_i32(be, d, host, n);
    return d;
}

/* A fresh host copy of a backend buffer (free it). */
static inline real *from_dev(TrainBackend *be, const real *dev, size_t n) {
    real *h = (real *)malloc((n ? n : 1) * sizeof(real));
    be->download(be, h, dev, n);
    return h;
}

static inline void check_status(TrainBackend *be, const char *what) {
    BittError err;
    const int rc = be->status(be, &err);
    CHECK_MSG(rc == 0, "%s: the backend reports: %s", what, rc ? err.message : "");
}

/* ---- comparisons ---- */

/* |got - ref| / |ref| over n values (2-norms; NaN anywhere gives infinity). */
static inline double rel_norm_err(const real *ref, const real *got, size_t n) {
    double d = 0.0, r = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double e = (double)got[i] - (double)ref[i];
        if (e != e) return INFINITY;
        d += e * e;
        r += (double)ref[i] * ref[i];
    }
    return r > 0 ? sqrt(d / r) : sqrt(d);
}

static double worst_err_seen = 0.0;

/* got (a host copy of a CUDA result) against the CPU's ref: relative norm error <= tol. */
static inline void expect_close(const char *what, const real *ref, const real *got, size_t n, double tol) {
    const double e = rel_norm_err(ref, got, n);
    if (e > worst_err_seen && e <= tol) worst_err_seen = e;
    CHECK_MSG(e <= tol, "%s: relative error %.3g > %.1g (%zu values)", what, e, tol, n);
    printf("  %-34s rel err %.2e (tol %.0e)\n", what, e, tol);
}

/* bit for bit */
static inline void expect_equal(const char *what, const real *ref, const real *got, size_t n) {
    size_t differ = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&ref[i], &got[i], sizeof(real)) != 0 && !(ref[i] != ref[i] && got[i] != got[i]))
            if (differ++ == 0) first = i;
    CHECK_MSG(differ == 0, "%s: %zu of %zu values differ from the CPU's bits (first at %zu: %.9g vs %.9g)", what,
              differ, n, first, differ ? (double)ref[first] : 0.0, differ ? (double)got[first] : 0.0);
    printf("  %-34s %s\n", what, differ ? "DIFFERS" : "bit-identical to the CPU");
}

#endif
