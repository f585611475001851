/* error.c: formatting of BittError messages. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int bitt_fail(BittError *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int bitt_fail_prefix(BittError *err, const char *prefix) {
    if (err) {
        char old[sizeof err->message];
        memcpy(old, err->message, sizeof old);
        /* the message is cut if too long; the return value is used so gcc knows that is meant */
        if (snprintf(err->message, sizeof err->message, "%s: %s", prefix, old) < 0) err->message[0] = 0;
    }
    return -1;
}
