/* cli.h: the subcommands of the bitt command-line tool and what they share. */
#ifndef BITT_CLI_H
#define BITT_CLI_H

#include <stdio.h>

#include "../api/bitt.h"
#include "../model/config.h"
#include "args.h"

int cmd_init(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_tokenizer(int argc, char **argv);
int cmd_prepare(int argc, char **argv);
int cmd_corpus(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* The --threads help of the inference commands: why all cores is the
 * default (scripts/bench_threads.sh, docs/BENCHMARKS.md). */
#define CLI_THREADS_HELP                                                                                   \
    "threads for the kernels (default 0 = all cores: on 2 cores, 2 threads measured 1.3x prefill and 1.2x " \
    "decode, 0.97x beside a busy process; products too small to gain stay on one thread)"

/* Monotonic seconds. */
double cli_now(void);
/* Writes s as a JSON string literal (with quotes) to out; invalid UTF-8
 * bytes become U+FFFD so the output is always valid JSON. */
void cli_print_json_string(FILE *out, const char *s, size_t len);
/* 1 if path names a .bitt file (by extension). */
int cli_is_bitt_path(const char *path);
/* Takes the values of the multi-valued flag --name out of argv ("--name A B"
 * up to the next "--" argument, "--name=A", repeats add more); *argc is
 * reduced to the arguments left. *values (malloc'd, caller frees) points
 * into argv. Returns -1 after printing an error (a flag with no value). */
int cli_take_multi(const char *cmd, const char *name, int *argc, char **argv, const char ***values,
                   int *n_values);
/* --forget-gate on|off of a new model (model_flags.c): the default (flag not
 * seen) is on for linear without a fixed state_decay. Returns 0, or 1 after
 * printing the error. */
int cli_forget_gate(const char *cmd, const char *value, int value_seen, TttVariant variant, float state_decay,
                    int *forget_gate);
/* --embed f16|i8 of init and convert: how .bitt v2 stores embed and lm_head
 * (0 F16, 1 I8, SPEC 3.3); value NULL gives dflt. Only with --packed: the
 * other forms are float. Returns 0, or 1 after printing the error. */
int cli_embed_form(const char *cmd, const char *value, int packed, int dflt, int *i8);
/* "1.2 MB"-style size into out. */
void cli_format_bytes(char *out, size_t size, double bytes);

#endif
