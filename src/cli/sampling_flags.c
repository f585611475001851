/* sampling_flags.c: the --stop flag of bitt generate and bitt chat (the
 * other sampling flags are table entries, sampling_flags.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sampling_flags.h"

int cli_take_stops(const char *cmd, int *argc, char **argv, const char ***stops, int *n_stops) {
    *stops = NULL;
    *n_stops = 0;
    if (cli_take_multi(cmd, "stop", argc, argv, stops, n_stops) != 0) return 1;
    if (*n_stops > BITT_MAX_STOP_STRINGS) {
        cli_fail(cmd, "at most %d --stop strings (got %d)", BITT_MAX_STOP_STRINGS, *n_stops);
        goto bad;
    }
    for (int i = 0; i < *n_stops; i++) {
        size_t n = strlen((*stops)[i]);
        if (n == 0 || n > BITT_MAX_STOP_BYTES) {
            cli_fail(cmd, "--stop strings must be 1 to %d bytes long (got %zu)", BITT_MAX_STOP_BYTES, n);
            goto bad;
        }
    }
    return 0;
bad:
    free(*stops);
    *stops = NULL;
    *n_stops = 0;
    return 1;
}

const char *cli_finish_reason(bitt_finish_reason r) {
    switch (r) {
    case BITT_FINISH_EOS: return "eos";
    case BITT_FINISH_STOP: return "stop";
    case BITT_FINISH_LENGTH: return "length";
    default: return "none";
    }
}
