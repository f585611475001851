/* main.c: the `bitt` command-line tool: dispatch to the subcommands. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

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

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_valid_len(const unsigned char *s, size_t n) {
    if (s[0] < 0x80) return 1;
    size_t len = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
               : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (s[0] == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
    if (s[0] == 0xED && s[1] > 0x9F) return 0;  /* surrogate */
    if (s[0] == 0xF0 && s[1] < 0x90) return 0;  /* overlong */
    if (s[0] == 0xF4 && s[1] > 0x8F) return 0;  /* > U+10FFFF */
    return len;
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
