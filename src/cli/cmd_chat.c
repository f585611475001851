/* cmd_chat.c: `bitt chat`: an interactive session. Each line you type is
 * fed to the model, which answers until </s> or --max-tokens; the TTT
 * memory carries across turns. /save F, /load F, /reset, /quit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sampling_flags.h"

static int print_piece(const char *piece, size_t len, void *user) {
    (void)user;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return 0;
}

/* Handles a /command line; returns 1 to quit. */
static int run_command(bitt_session *s, char *line) {
    BittError err;
    char *arg = strchr(line, ' ');
    if (arg) {
        *arg++ = 0;
        while (*arg == ' ') arg++;
    }
    if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0) return 1;
    if (strcmp(line, "/reset") == 0) {
        bitt_session_reset(s);
        printf("[memory reset]\n");
    } else if (strcmp(line, "/save") == 0 || strcmp(line, "/load") == 0) {
        if (!arg || !*arg) {
            fprintf(stderr, "bitt chat: %s needs a file name\n", line);
        } else if (line[1] == 's' ? bitt_state_save_file(s, arg, &err) : bitt_state_load_file(s, arg, &err)) {
            fprintf(stderr, "bitt chat: %s\n", err.message);
        } else {
            printf("[memory %s %s: %lld tokens, %zu bytes]\n", line[1] == 's' ? "saved to" : "loaded from",
                   arg, (long long)bitt_session_tokens(s), bitt_state_bytes(s));
        }
    } else if (strcmp(line, "/help") == 0) {
        printf("/save FILE  /load FILE  /reset  /quit\n");
    } else {
        fprintf(stderr, "bitt chat: unknown command %s (try /help)\n", line);
    }
    fflush(stdout);
    return 0;
}

/* Runs bitt chat once its flags are parsed. */
static int chat_run(const char *model_path, const bitt_sampling *sp_in, const char **stops, int n_stops, int threads,
                    int max_tokens) {
    const bitt_sampling sp = *sp_in;
    int rc;
    if (!model_path) return cli_fail("chat", "--model is required");
    if (max_tokens < 0) return cli_fail("chat", "--max-tokens must be >= 0");
    if (threads < 0) return cli_fail("chat", "--threads must be >= 0");
    BittError check_err;
    if (bitt_sampling_check(&sp, &check_err) != 0) return cli_fail("chat", "%s", check_err.message);
    bitt_set_threads(threads);
    bitt_generate_options go = bitt_generate_options_default(max_tokens);
    go.stop = stops;
    go.n_stop = n_stops;
    BittError err;
    bitt_model *m = NULL;
    bitt_session *s = NULL;
    if (bitt_model_load(model_path, &m, &err) != 0 || bitt_session_new(m, &s, &err) != 0) {
        bitt_model_free(m);
        return cli_fail("chat", "%s", err.message);
    }
    const int interactive = isatty(0);
    if (interactive) printf("bitt chat: type text and press Enter; /help for commands.\n");
    char *line = NULL;
    size_t cap = 0;
    rc = 0;
    for (;;) {
        if (interactive) {
            printf("> ");
            fflush(stdout);
        }
        ssize_t got = getline(&line, &cap, stdin); /* any length: one line is one turn */
        if (got < 0) break;
        size_t n = (size_t)got;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (strlen(line) != n) {
            fprintf(stderr, "bitt chat: input line contains a NUL byte; skipped\n");
            continue;
        }
        if (n == 0) continue;
        if (line[0] == '/') {
            if (run_command(s, line)) break;
            continue;
        }
        /* each turn's stream depends on --seed and on how much the memory holds, so a
         * restored memory answers the same input the same way */
        bitt_sampling turn_sp = sp;
        turn_sp.seed = sp.seed + (uint64_t)bitt_session_tokens(s);
        if (bitt_generate_opts(s, line, &turn_sp, &go, print_piece, NULL, NULL, NULL, &err) != 0) {
            rc = cli_fail("chat", "%s", err.message);
            break;
        }
        printf("\n");
        fflush(stdout);
    }
    free(line);
    bitt_session_free(s);
    bitt_model_free(m);
    return rc;
}

int cmd_chat(int argc, char **argv) {
    const char *model_path = NULL, **stops = NULL, *stop_dummy = NULL;
    int n_stops = 0;
    bitt_sampling sp = bitt_sampling_default();
    int threads = 0;
    int max_tokens = 256;
    Flag flags[] = {
        {"model", FLAG_STRING, &model_path, "model: .bitt file or checkpoint directory (required)", 0},
        {"max-tokens", FLAG_INT, &max_tokens, "tokens per answer at most (default 256)", 0},
        CLI_SAMPLING_FLAGS(sp),
        CLI_STOP_FLAG(stop_dummy),
        {"threads", FLAG_INT, &threads, CLI_THREADS_HELP, 0},
    };
    Command cmd = {"chat", "--model M [flags]",
                   "Interactive: type text, the model continues it. The memory persists across turns.\n"
                   "Commands: /save FILE, /load FILE, /reset, /quit.",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    if (cli_take_stops("chat", &argc, argv, &stops, &n_stops) != 0) return 1;
    int rc = args_parse(&cmd, argc, argv);
    if (rc) {
        free(stops);
        return rc < 0 ? 1 : 0;
    }
    rc = chat_run(model_path, &sp, stops, n_stops, threads, max_tokens);
    free(stops);
    return rc;
}
