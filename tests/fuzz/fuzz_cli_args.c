/* fuzz_cli_args.c: libFuzzer harness of the CLI's flag parser
 * (src/cli/args.c; SPEC 4 counts CLI flags as input): the bytes split at NUL
 * into argv, parsed against a table with a flag of every type and two
 * positional arguments. A parse returns run (0), help (1) or an error (-1);
 * what it stores is what the flag's type allows. */
#include "fuzz_util.h"

#include <math.h>

#include "cli/args.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *copy = malloc(size + 1);
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    if (!copy) return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (size_t i = 0; i <= size && argc < MAX_ARGS;) { /* NUL-separated arguments */
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
    }
    argv[argc] = NULL;
    const char *out = NULL, *name = NULL;
    int n = 7, flag = 0;
    float temp = 0.5f;
    uint64_t seed = 1;
    Flag flags[] = {
        {"out", FLAG_STRING, &out, "a path", 0},
        {"name", FLAG_STRING, &name, "a string", 0},
        {"max-tokens", FLAG_INT, &n, "an int", 0},
        {"temp", FLAG_FLOAT, &temp, "a float", 0},
        {"seed", FLAG_U64, &seed, "a u64", 0},
        {"packed", FLAG_BOOL, &flag, "a bool", 0},
    };
    Command cmd = {"fuzz", "[flags] A B", "The fuzz harness's command.", flags, (int)(sizeof flags / sizeof *flags),
                   2, {0}, 0};
    /* stdout and stderr get --help and the messages: fine, they are short */
    int rc = args_parse(&cmd, argc, argv);
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == -1, "args_parse returned %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(cmd.n_positional >= 0 && cmd.n_positional <= 2, "%d positional arguments", cmd.n_positional);
        FUZZ_CHECK(isfinite(temp), "a float flag stored %g", (double)temp);
        FUZZ_CHECK(flag == 0 || flag == 1, "a bool flag stored %d", flag);
        (void)args_seen(&cmd, "seed");
    }
    free(copy);
    return 0;
}
