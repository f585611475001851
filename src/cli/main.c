/* main.c: the `bitt` command-line tool: dispatch to the subcommands. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../util/utf8.h"

typedef struct Subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} Subcommand;

static const Subcommand SUBCOMMANDS[] = {
    {"init", cmd_init, "write a random-weight model (.bitt or checkpoint directory)"},
    {"generate", cmd_generate, "continue a prompt, streaming text to stdout"},
    {"chat", cmd_chat, "interactive session whose memory persists across turns"},
    {"eval", cmd_eval, "loss, perplexity and bits per byte of a model on a text file"},
    {"convert", cmd_convert, "convert between checkpoint dir, .bitt v1 and .bitt v2 (--packed)"},
    {"inspect", cmd_inspect, "show a model's config, tensors, sizes and format version"},
    {"tokenize", cmd_tokenize, "text to token ids (or --decode ids to text)"},
    {"tokenizer", cmd_tokenizer, "tokenizer train: learn a byte-level BPE tokenizer from text files"},
    {"prepare", cmd_prepare, "encode text files into a token file for training"},
    {"train", cmd_train, "train a model on a token file on the CPU (AdamW, checkpoints, --resume)"},
    {"corpus", cmd_corpus, "write a synthetic corpus of simple children's stories"},
    {"bench", cmd_bench, "prefill/decode tokens per second, long-context decode, load time, peak RSS"},
    {"serve", cmd_serve, "an OpenAI-compatible HTTP server; each conversation's memory is kept"},
};
static const int N_SUBCOMMANDS = (int)(sizeof SUBCOMMANDS / sizeof *SUBCOMMANDS);

static void print_usage(FILE *out) {
    fprintf(out, "usage: bitt <command> [flags]   (bitt <command> --help for its flags)\n\ncommands:\n");
    for (int i = 0; i < N_SUBCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", SUBCOMMANDS[i].name, SUBCOMMANDS[i].summary);
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_print_json_string(FILE *out, const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    fputc('"', out);
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        size_t n = utf8_valid_len(u + i, len - i);
        if (n == 0) { fputs("\\ufffd", out); i++; continue; } /* JSON text must be valid UTF-8 */
        if (n > 1) { fwrite(u + i, 1, n, out); i += n; continue; }
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c == '\n') fputs("\\n", out);
        else if (c == '\r') fputs("\\r", out);
        else if (c == '\t') fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
        i++;
    }
    fputc('"', out);
}

int cli_is_bitt_path(const char *path) {
    size_t n = strlen(path);
    return n >= 5 && strcmp(path + n - 5, ".bitt") == 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stderr);
        return 1;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("bitt 0.1.0\n");
        return 0;
    }
    for (int i = 0; i < N_SUBCOMMANDS; i++)
        if (strcmp(argv[1], SUBCOMMANDS[i].name) == 0) return SUBCOMMANDS[i].run(argc - 2, argv + 2);
    fprintf(stderr, "bitt: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return 1;
}
