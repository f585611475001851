/* cli_multi.c: flags that take several values ("--input a.txt b.txt",
 * "--special X --special Y"), taken out of argv before the strict parser
 * in args.c sees the rest. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_take_multi(const char *cmd, const char *name, int *argc, char **argv, const char ***values,
                   int *n_values) {
    size_t name_len = strlen(name);
    int i, kept = 0, n = 0;
    const char **vals = malloc(((size_t)*argc + 1) * sizeof *vals);
    if (!vals) {
        cli_fail(cmd, "out of memory");
        return -1;
    }
    for (i = 0; i < *argc; i++) {
        const char *a = argv[i];
        int is_flag = strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, name_len) == 0;
        if (is_flag && a[2 + name_len] == '=') {
            vals[n++] = a + 3 + name_len;
            continue;
        }
        if (is_flag && a[2 + name_len] == '\0') {
            int start = n;
            while (i + 1 < *argc && strncmp(argv[i + 1], "--", 2) != 0) vals[n++] = argv[++i];
            if (n == start) {
                free(vals);
                cli_fail(cmd, "--%s needs at least one value", name);
                return -1;
            }
            continue;
        }
        argv[kept++] = argv[i];
    }
    *argc = kept;
    *values = vals;
    *n_values = n;
    return 0;
}

void cli_format_bytes(char *out, size_t size, double bytes) {
    if (bytes >= 1e9) snprintf(out, size, "%.2f GB", bytes / 1e9);
    else if (bytes >= 1e6) snprintf(out, size, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1e3) snprintf(out, size, "%.1f kB", bytes / 1e3);
    else snprintf(out, size, "%.0f bytes", bytes);
}
