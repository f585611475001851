/* sampling_flags.h: the sampling flags that bitt generate and bitt chat
 * share (the names and meanings of bitt_sampling, src/api/bitt.h), and the
 * repeated --stop flag. */
#ifndef BITT_CLI_SAMPLING_FLAGS_H
#define BITT_CLI_SAMPLING_FLAGS_H

#include "../api/bitt.h"
#include "args.h"

/* Entries for a command's Flag table, writing into the bitt_sampling sp. */
#define CLI_SAMPLING_FLAGS(sp)                                                                              \
    {"temp", FLAG_FLOAT, &(sp).temperature, "temperature, 0 = greedy (default 0.8)", 0},                   \
    {"top-k", FLAG_INT, &(sp).top_k, "keep the k most likely tokens, 0 = off (default 40)", 0},          \
    {"top-p", FLAG_FLOAT, &(sp).top_p, "nucleus sampling mass, 1 = off (default 0.95)", 0},              \
    {"min-p", FLAG_FLOAT, &(sp).min_p,                                                                      \
     "keep tokens at least this share of the most likely one's probability, 0 = off (default)", 0},       \
    {"repetition-penalty", FLAG_FLOAT, &(sp).repetition_penalty,                                            \
     "logit l of a token drawn before -> l/r (l > 0) or l*r; 1 = off (default)", 0},                        \
    {"presence-penalty", FLAG_FLOAT, &(sp).presence_penalty,                                                \
     "subtracted once from the logit of each token drawn before, 0 = off (default)", 0},                    \
    {"frequency-penalty", FLAG_FLOAT, &(sp).frequency_penalty,                                              \
     "subtracted per time a token was drawn before, 0 = off (default)", 0},                                 \
    {"penalty-last-n", FLAG_INT, &(sp).penalty_last_n,                                                      \
     "the penalties look at the last n drawn tokens, 0 = all of the answer (default)", 0},                  \
    {"seed", FLAG_U64, &(sp).seed, "sampling seed (default 42)", 0}

/* The table entry that documents --stop (cli_take_stops takes the values out
 * of argv before the parser sees them; dummy is never written). */
#define CLI_STOP_FLAG(dummy) \
    {"stop", FLAG_STRING, &(dummy), "stop strings (one or more, repeatable): the answer ends where one appears, not printed", 0}

/* Takes the --stop values out of argv ("--stop A B", "--stop=A", repeated)
 * and checks them against the API's limits. *stops is malloc'd (free it),
 * pointing into argv. Returns 0, or 1 after printing the error. */
int cli_take_stops(const char *cmd, int *argc, char **argv, const char ***stops, int *n_stops);

/* "eos", "stop", "length" or "none" (stopped by the caller). */
const char *cli_finish_reason(bitt_finish_reason r);

#endif
