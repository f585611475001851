/* args.h: command-line flags of the bitt subcommands: a table per command,
 * strict parsing (unknown flags, missing values and bad numbers are errors
 * that name the flag), and --help text generated from the same table. */
#ifndef BITT_CLI_ARGS_H
#define BITT_CLI_ARGS_H

#include <stdint.h>

typedef enum FlagType { FLAG_STRING, FLAG_INT, FLAG_FLOAT, FLAG_U64, FLAG_BOOL } FlagType;

typedef struct Flag {
    const char *name;   /* without the leading "--" */
    FlagType type;
    void *value;        /* const char **, int *, float *, uint64_t *, int * */
    const char *help;
    int seen;
} Flag;

typedef struct Command {
    const char *name;       /* "generate" */
    const char *usage;      /* one line after "bitt <name> " */
    const char *summary;    /* what it does */
    Flag *flags;
    int n_flags;
    int max_positional;     /* positional arguments allowed */
    const char *positional[4];
    int n_positional;
} Command;

/* Parses argv (after the subcommand name). Returns 0 to run, 1 if --help
 * was printed, -1 after printing an error to stderr. */
int args_parse(Command *cmd, int argc, char **argv);
void args_print_help(const Command *cmd);
/* Prints "bitt <cmd>: <message>" to stderr and returns the exit code 1. */
int cli_fail(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* 1 if the flag was given on the command line. */
int args_seen(const Command *cmd, const char *name);

#endif
