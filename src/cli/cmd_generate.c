/* cmd_generate.c: `bitt generate`: feed a prompt, stream the continuation
 * to stdout as it is produced; optional state in/out files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sampling_flags.h"
#include "../util/grow.h"

typedef struct GenOutput {
    int json;
    char *text;      /* collected for --json */
    size_t len, cap;
} GenOutput;

static int on_piece(const char *piece, size_t len, void *user) {
    GenOutput *o = user;
    if (!o->json) {
        fwrite(piece, 1, len, stdout);
        fflush(stdout);
        return 0;
    }
    if (grow_array(&o->text, &o->cap, o->len + len + 1, 1) != 0) return 1;
    memcpy(o->text + o->len, piece, len);
    o->len += len;
    return 0;
}

/* Runs bitt generate once its flags are parsed. */
static int generate_run(const char *model_path, const char *prompt, const char *state_in, const char *state_out,
                        const char *lm_head, const bitt_sampling *sp_in, const char **stops, int n_stops, int threads,
                        int max_tokens, int json) {
    const bitt_sampling sp = *sp_in;
    int rc;
    if (!model_path) return cli_fail("generate", "--model is required");
    if (max_tokens < 0) return cli_fail("generate", "--max-tokens must be >= 0");
    if (threads < 0) return cli_fail("generate", "--threads must be >= 0");
    BittError check_err;
    if (bitt_sampling_check(&sp, &check_err) != 0) return cli_fail("generate", "%s", check_err.message);
    bitt_set_threads(threads);
    if (lm_head && strcmp(lm_head, "f32") != 0 && strcmp(lm_head, "int8") != 0)
        return cli_fail("generate", "--lm-head must be f32 or int8 (got '%s')", lm_head);

    BittError err;
    bitt_model *m = NULL;
    bitt_session *s = NULL;
    GenOutput out = {json, NULL, 0, 0};
    int n_gen = 0;
    double t_prompt = 0, t_gen = 0;
    rc = 1;
    if (bitt_model_load(model_path, &m, &err) != 0 ||
        (lm_head && bitt_model_set_lm_head_int8(m, strcmp(lm_head, "int8") == 0, &err) != 0) ||
        bitt_session_new(m, &s, &err) != 0 ||
        (state_in && bitt_state_load_file(s, state_in, &err) != 0)) {
        cli_fail("generate", "%s", err.message);
        goto done;
    }
    const int64_t tokens_before = bitt_session_tokens(s);
    double t0 = cli_now();
    if (bitt_session_learn(s, prompt, strlen(prompt), &err) != 0) {
        cli_fail("generate", "%s", err.message);
        goto done;
    }
    double t1 = cli_now();
    const int64_t prompt_tokens = bitt_session_tokens(s) - tokens_before;
    bitt_generate_options go = bitt_generate_options_default(max_tokens);
    go.stop = stops;
    go.n_stop = n_stops;
    bitt_finish_reason finish = BITT_FINISH_NONE;
    if (bitt_generate_opts(s, "", &sp, &go, on_piece, &out, &n_gen, &finish, &err) != 0) {
        cli_fail("generate", "%s", err.message);
        goto done;
    }
    double t2 = cli_now();
    t_prompt = t1 - t0;
    t_gen = t2 - t1;
    if (state_out && bitt_state_save_file(s, state_out, &err) != 0) {
        cli_fail("generate", "%s", err.message);
        goto done;
    }
    double tok_s = t_gen > 0 ? n_gen / t_gen : 0;
    if (json) {
        printf("{\"text\":");
        cli_print_json_string(stdout, out.text ? out.text : "", out.len);
        printf(",\"tokens\":%d,\"tok_s\":%.2f,\"prompt_tokens\":%lld,\"prompt_s\":%.4f,\"finish_reason\":\"%s\"}\n",
               n_gen, tok_s, (long long)prompt_tokens, t_prompt, cli_finish_reason(finish));
    } else {
        /* stdout holds exactly the text; the stats go to stderr on a line of
         * their own: after a newline where the text on the terminal ended mid-line */
        fflush(stdout);
        const int mid_line = isatty(STDOUT_FILENO) && out.len > 0 && out.text[out.len - 1] != '\n';
        fprintf(stderr, "%s[%d tokens in %.2f s, %.1f tok/s; prompt: %lld tokens in %.3f s]\n", mid_line ? "\n" : "",
                n_gen, t_gen, tok_s, (long long)prompt_tokens, t_prompt);
    }
    rc = 0;
done:
    free(out.text);
    bitt_session_free(s);
    bitt_model_free(m);
    return rc;
}

int cmd_generate(int argc, char **argv) {
    const char *model_path = NULL, *prompt = "", *state_in = NULL, *state_out = NULL, *lm_head = NULL;
    const char **stops = NULL, *stop_dummy = NULL;
    int n_stops = 0;
    bitt_sampling sp = bitt_sampling_default();
    int threads = 0;
    int max_tokens = 256, json = 0;
    Flag flags[] = {
        {"model", FLAG_STRING, &model_path, "model: .bitt file or checkpoint directory (required)", 0},
        {"prompt", FLAG_STRING, &prompt, "text to continue (default: empty)", 0},
        {"max-tokens", FLAG_INT, &max_tokens, "tokens to generate at most (default 256)", 0},
        CLI_SAMPLING_FLAGS(sp),
        CLI_STOP_FLAG(stop_dummy),
        {"threads", FLAG_INT, &threads, CLI_THREADS_HELP, 0},
        {"state-in", FLAG_STRING, &state_in, "start from this saved memory (state file)", 0},
        {"state-out", FLAG_STRING, &state_out, "save the memory here afterwards", 0},
        {"lm-head", FLAG_STRING, &lm_head, "f32 or int8: logits through int8 rows, faster (default: the file's form, int8 for I8 embeddings)", 0},
        {"json", FLAG_BOOL, &json, "print {text, tokens, tok_s, finish_reason} as JSON at the end", 0},
    };
    Command cmd = {"generate", "--model M --prompt TEXT [flags]",
                   "Continues the prompt and streams the text to stdout as it is produced.",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    if (cli_take_stops("generate", &argc, argv, &stops, &n_stops) != 0) return 1;
    int rc = args_parse(&cmd, argc, argv);
    if (rc) {
        free(stops);
        return rc < 0 ? 1 : 0;
    }
    rc = generate_run(model_path, prompt, state_in, state_out, lm_head, &sp, stops, n_stops, threads, max_tokens, json);
    free(stops);
    return rc;
}
