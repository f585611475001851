/* error.h: errors are values. A failing function fills a BittError with a
 * message (naming the file and the problem) and returns a non-zero code; the
 * library never prints or exits on its own. */
#ifndef BITT_ERROR_H
#define BITT_ERROR_H

#include <stddef.h>

#ifndef BITT_ERROR_STRUCT_DEFINED /* also defined by the public bitt.h */
#define BITT_ERROR_STRUCT_DEFINED
typedef struct BittError {
    char message[512];
} BittError;
#endif

/* Formats the message into err (if err is non-NULL) and returns -1, so that
 * callers can write `return bitt_fail(err, "%s: bad magic", path);`. */
int bitt_fail(BittError *err, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes an existing message: "<prefix>: <old message>". Returns -1. */
int bitt_fail_prefix(BittError *err, const char *prefix);

#endif
