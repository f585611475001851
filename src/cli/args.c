/* args.c: strict flag parsing for the bitt CLI. */
#include "args.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "bitt %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

void args_print_help(const Command *cmd) {
    printf("usage: bitt %s %s\n\n%s\n\nflags:\n", cmd->name, cmd->usage, cmd->summary);
    for (int i = 0; i < cmd->n_flags; i++) {
        const Flag *f = &cmd->flags[i];
        const char *arg = f->type == FLAG_BOOL ? "" : f->type == FLAG_STRING ? " STR"
                        : f->type == FLAG_FLOAT ? " X" : " N";
        char left[64];
        snprintf(left, sizeof left, "--%s%s", f->name, arg);
        printf("  %-22s %s\n", left, f->help);
    }
    printf("  %-22s %s\n", "--help", "show this help");
}

static int parse_value(const Command *cmd, Flag *f, const char *text) {
    char *end = NULL;
    errno = 0;
    switch (f->type) {
    case FLAG_STRING:
        *(const char **)f->value = text;
        return 0;
    case FLAG_INT: {
        long v = strtol(text, &end, 10);
        if (!*text || *end || errno || v < -2147483647L || v > 2147483647L)
            { cli_fail(cmd->name, "--%s: '%s' is not an integer", f->name, text); return -1; }
        *(int *)f->value = (int)v;
        return 0;
    }
    case FLAG_U64: {
        if (*text < '0' || *text > '9') { /* strtoull would take " -1" as 2^64 - 1 */
            cli_fail(cmd->name, "--%s: '%s' is not a non-negative integer", f->name, text); return -1;
        }
        unsigned long long v = strtoull(text, &end, 10);
        if (!*text || *end || errno)
            { cli_fail(cmd->name, "--%s: '%s' is not a non-negative integer", f->name, text); return -1; }
        *(uint64_t *)f->value = (uint64_t)v;
        return 0;
    }
    case FLAG_FLOAT: {
        double v = strtod(text, &end);
        if (!*text || *end || errno || !isfinite(v))
            { cli_fail(cmd->name, "--%s: '%s' is not a number", f->name, text); return -1; }
        if (fabs(v) > FLT_MAX) /* finite as a double, infinite as the float it is stored in */
            { cli_fail(cmd->name, "--%s: '%s' is out of range", f->name, text); return -1; }
        *(float *)f->value = (float)v;
        return 0;
    }
    case FLAG_BOOL:
        *(int *)f->value = 1;
        return 0;
    }
    return -1;
}

int args_parse(Command *cmd, int argc, char **argv) {
    cmd->n_positional = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            args_print_help(cmd);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            if (cmd->n_positional >= cmd->max_positional) {
                cli_fail(cmd->name, "unexpected argument '%s' (see bitt %s --help)", a, cmd->name);
                return -1;
            }
            cmd->positional[cmd->n_positional++] = a;
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        Flag *f = NULL;
        for (int j = 0; j < cmd->n_flags; j++)
            if (strlen(cmd->flags[j].name) == name_len && strncmp(cmd->flags[j].name, name, name_len) == 0)
                f = &cmd->flags[j];
        if (!f) {
            cli_fail(cmd->name, "unknown flag '%.*s' (see bitt %s --help)", (int)(name_len + 2), a, cmd->name);
            return -1;
        }
        const char *value = NULL;
        if (f->type == FLAG_BOOL) {
            if (eq) {
                cli_fail(cmd->name, "--%s takes no value", f->name);
                return -1;
            }
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            cli_fail(cmd->name, "--%s needs a value", f->name);
            return -1;
        }
        if (parse_value(cmd, f, value) != 0) return -1;
        f->seen = 1;
    }
    return 0;
}

int args_seen(const Command *cmd, const char *name) {
    for (int i = 0; i < cmd->n_flags; i++)
        if (strcmp(cmd->flags[i].name, name) == 0) return cmd->flags[i].seen;
    return 0;
}
