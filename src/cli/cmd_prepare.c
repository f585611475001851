/* cmd_prepare.c: `bitt prepare`: encodes text files into a token file
 * (TOKENS.bin, little-endian u16/u32 ids) and its JSON sidecar for
 * training (data/prepare.h, data/token_file.h). Progress goes to stderr. */
#include <stdlib.h>
#include <string.h>

#include "../data/prepare.h"
#include "cli.h"

typedef struct PrepProgress {
    double start, last;
    int quiet;
} PrepProgress;

static void on_chunk(void *ctx, const char *input, uint64_t done, uint64_t total) {
    PrepProgress *p = ctx;
    double t = cli_now();
    if (p->quiet || t - p->last < 1.0) return;
    p->last = t;
    fprintf(stderr, "prepare: %s: %.0f%% (%.1f s)\n", input, total ? 100.0 * (double)done / (double)total : 100.0,
            t - p->start);
}

int cmd_prepare(int argc, char **argv) {
    const char *tok_path = NULL, *out = NULL, **inputs = NULL, *dummy = NULL;
    int n_inputs = 0, quiet = 0, rc, i;
    Flag flags[] = {
        {"tokenizer", FLAG_STRING, &tok_path, "tokenizer.json to encode with", 0},
        {"input", FLAG_STRING, &dummy, "text files (one or more; <|endoftext|> separates stories)", 0},
        {"out", FLAG_STRING, &out, "token file to write (and OUT.json, its sidecar)", 0},
        {"quiet", FLAG_BOOL, &quiet, "no progress on stderr", 0},
    };
    Command cmd = {"prepare", "--tokenizer T.json --input FILE... --out TOKENS.bin",
                   "Encodes text files into little-endian u16 token ids (u32 for vocabularies over 65,536)\n"
                   "and a JSON sidecar TOKENS.bin.json. Each story (stories are separated by <|endoftext|>,\n"
                   "the newlines around it trimmed) is followed by </s>; so is the end of each file.",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    PrepareStats st;
    PrepProgress progress;
    BittError err;
    Tokenizer *tok = NULL;
    for (i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            args_print_help(&cmd);
            return 0;
        }
    if (cli_take_multi(cmd.name, "input", &argc, argv, &inputs, &n_inputs)) return 1;
    rc = args_parse(&cmd, argc, argv);
    if (rc) {
        free(inputs);
        return rc < 0 ? 1 : 0;
    }
    rc = 1;
    if (!tok_path) {
        cli_fail(cmd.name, "--tokenizer is required");
        goto done;
    }
    if (n_inputs == 0) {
        cli_fail(cmd.name, "--input is required (one or more text files)");
        goto done;
    }
    if (!out) {
        cli_fail(cmd.name, "--out is required (the token file to write)");
        goto done;
    }
    if (!(tok = tokenizer_load_file(tok_path, &err))) {
        cli_fail(cmd.name, "%s", err.message);
        goto done;
    }
    progress.start = progress.last = cli_now();
    progress.quiet = quiet;
    if (prepare_token_file(tok, tok_path, inputs, n_inputs, out, on_chunk, &progress, &st, &err)) {
        cli_fail(cmd.name, "%s", err.message);
        goto done;
    }
    if (!quiet) {
        double secs = cli_now() - progress.start;
        char size[32];
        cli_format_bytes(size, sizeof size, (double)st.input_bytes);
        fprintf(stderr,
                "prepare: wrote %s: %llu tokens (%s), %llu stories, %s of text, %.2f bytes/token; "
                "%.2f s in all, encoding %.1f MB/s\n",
                out, (unsigned long long)st.n_tokens, tokenizer_vocab_size(tok) <= 65536 ? "u16" : "u32",
                (unsigned long long)st.n_documents, size,
                st.n_tokens ? (double)st.text_bytes / (double)st.n_tokens : 0.0, secs,
                st.encode_seconds > 0 ? (double)st.text_bytes / 1e6 / st.encode_seconds : 0.0);
    }
    rc = 0;
done:
    tokenizer_free(tok);
    free(inputs);
    return rc;
}
