/* test_util.h: the minimal test harness every C test uses. CHECK records a
 * failure with file:line and goes on; test_main_end() prints the closing
 * line "N passed, N failed" and returns the exit code for ctest. */
#ifndef BITT_TEST_UTIL_H
#define BITT_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

static int test_passed_count = 0;
static int test_failed_count = 0;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) {                                                            \
            test_passed_count++;                                               \
        } else {                                                               \
            test_failed_count++;                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                    \
        }                                                                      \
    } while (0)

#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        if (cond) {                                                            \
            test_passed_count++;                                               \
        } else {                                                               \
            test_failed_count++;                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__,   \
                    #cond);                                                    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* Checks that a failing call returned an error whose message contains needle. */
#define CHECK_ERR_CONTAINS(errp, needle)                                       \
    CHECK_MSG(strstr((errp)->message, (needle)) != NULL,                       \
              "message \"%s\" lacks \"%s\"", (errp)->message, (needle))

static inline int test_main_end(const char *name) {
    printf("%s: %d passed, %d failed\n", name, test_passed_count,
           test_failed_count);
    return test_failed_count == 0 ? 0 : 1;
}

/* Seconds on the monotonic clock, for the tests' time limits. */
static inline double test_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* UNDER_SANITIZER: defined under AddressSanitizer (clang's __has_feature,
 * gcc's __SANITIZE_ADDRESS__), where tests scale their time limits and sizes. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(UNDER_SANITIZER)
#define UNDER_SANITIZER 1
#endif

#endif
