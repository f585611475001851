/* cmd_tokenizer.c: `bitt tokenizer train`: learns a byte-level BPE
 * tokenizer from text files (tokenizer/bpe_train.h) and writes it as a
 * Hugging Face tokenizer.json. Progress goes to stderr. */
#include <stdlib.h>
#include <string.h>

#include "../data/text_chunks.h"
#include "../tokenizer/bpe_train.h"
#include "../util/fileio.h"
#include "cli.h"

typedef struct TrainProgress {
    double start;
    int quiet;
} TrainProgress;

static void on_merges(void *ctx, uint64_t done, uint64_t total) {
    const TrainProgress *p = ctx;
    if (!p->quiet)
        fprintf(stderr, "tokenizer train: merges %llu / %llu (%.2f s)\n", (unsigned long long)done,
                (unsigned long long)total, cli_now() - p->start);
}

/* A trainer message without its "tokenizer train: " prefix, which cli_fail adds. */
static const char *lib_message(const char *m) {
    static const char prefix[] = "tokenizer train: ";
    return strncmp(m, prefix, sizeof prefix - 1) == 0 ? m + sizeof prefix - 1 : m;
}

/* Feeds one file to the trainer in chunks of whole stories. */
static int count_file(BpeTrainer *t, const char *path, const TrainProgress *p, uint64_t *bytes) {
    TextChunkReader r;
    BittError err;
    const char *text;
    size_t len;
    int rc;
    char size[32];
    if (text_chunks_open(&r, path, 0, &err)) return cli_fail("tokenizer train", "%s", err.message);
    cli_format_bytes(size, sizeof size, (double)r.file_size);
    if (!p->quiet) fprintf(stderr, "tokenizer train: counting words in %s (%s)\n", path, size);
    while ((rc = text_chunks_next(&r, &text, &len, &err)) == 1) {
        if (bpe_trainer_add_text(t, text, len, &err)) {
            text_chunks_close(&r);
            return cli_fail("tokenizer train", "%s: %s", path, lib_message(err.message));
        }
        if (!p->quiet && r.file_size > (64u << 20))
            fprintf(stderr, "tokenizer train: %s: %.0f%%\n", path, 100.0 * (double)r.done / (double)r.file_size);
    }
    *bytes += r.file_size;
    text_chunks_close(&r);
    if (rc < 0) return cli_fail("tokenizer train", "%s", lib_message(err.message));
    return 0;
}

static int train(int argc, char **argv) {
    const char *out = NULL, **inputs = NULL, **specials = NULL;
    int vocab = 0, n_inputs = 0, n_specials = 0, quiet = 0, rc;
    uint64_t min_frequency = BPE_TRAIN_DEFAULT_MIN_FREQUENCY;
    const char *dummy = NULL;
    Flag flags[] = {
        {"input", FLAG_STRING, &dummy, "text files to learn from (one or more; <|endoftext|> separates stories)", 0},
        {"vocab", FLAG_INT, &vocab, "vocabulary size in ids: 3 special + extra special + 256 bytes + merges", 0},
        {"out", FLAG_STRING, &out, "the tokenizer.json to write", 0},
        {"min-frequency", FLAG_U64, &min_frequency,
         "merge only pairs seen at least this often (default 0: any pair, as Hugging Face)", 0},
        {"special", FLAG_STRING, &dummy, "extra special tokens (ids 3, 4, ...; one or more)", 0},
        {"quiet", FLAG_BOOL, &quiet, "no progress on stderr", 0},
    };
    Command cmd = {"tokenizer train",
                   "--input FILE... --vocab N --out T.json [--min-frequency F] [--special TOKEN...]",
                   "Learns a byte-level BPE tokenizer (GPT-2 pre-tokenizer; ids <unk> 0, <s> 1, </s> 2,\n"
                   "the --special tokens, the 256 bytes in GPT-2's order, then merges) and writes a\n"
                   "Hugging Face tokenizer.json. Each step merges the most frequent pair; ties go to\n"
                   "the pair of smaller ids, as in Hugging Face's BpeTrainer, whose merges it matches.",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    BpeTrainConfig cfg;
    BpeTrainer *t = NULL;
    Tokenizer *tok = NULL;
    TrainProgress progress;
    BittError err;
    JsonWriter w;
    uint64_t bytes = 0;
    int i;
    for (i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            args_print_help(&cmd);
            return 0;
        }
    if (cli_take_multi(cmd.name, "input", &argc, argv, &inputs, &n_inputs)) return 1;
    if (cli_take_multi(cmd.name, "special", &argc, argv, &specials, &n_specials)) {
        free(inputs);
        return 1;
    }
    rc = args_parse(&cmd, argc, argv);
    if (rc) goto done_args;
    rc = -1;
    if (n_inputs == 0) {
        cli_fail(cmd.name, "--input is required (one or more text files)");
        goto done_args;
    }
    if (!out) {
        cli_fail(cmd.name, "--out is required (the tokenizer.json to write)");
        goto done_args;
    }
    if (!args_seen(&cmd, "vocab")) {
        cli_fail(cmd.name, "--vocab is required (the vocabulary size, e.g. 4096)");
        goto done_args;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = vocab;
    cfg.min_frequency = min_frequency;
    cfg.special = specials;
    cfg.n_special = n_specials;
    cfg.progress = on_merges;
    cfg.progress_ctx = &progress;
    progress.start = cli_now();
    progress.quiet = quiet;
    if (!(t = bpe_trainer_new(&cfg, &err))) {
        cli_fail(cmd.name, "%s", lib_message(err.message));
        goto done_args;
    }
    for (i = 0; i < n_inputs; i++)
        if (count_file(t, inputs[i], &progress, &bytes)) goto done_args;
    if (!quiet) {
        char size[32];
        cli_format_bytes(size, sizeof size, (double)bytes);
        fprintf(stderr, "tokenizer train: %d file%s, %s, %llu words, %zu distinct (%.2f s)\n", n_inputs,
                n_inputs == 1 ? "" : "s", size, (unsigned long long)bpe_trainer_total_words(t),
                bpe_trainer_distinct_words(t), cli_now() - progress.start);
    }
    if (bpe_trainer_total_words(t) == 0) {
        cli_fail(cmd.name, "%s%s: no text to train on (empty, or only <|endoftext|> separators and special "
                 "tokens)", inputs[0], n_inputs > 1 ? " and the other inputs" : "");
        goto done_args;
    }
    if (!(tok = bpe_trainer_finish(t, &err))) {
        cli_fail(cmd.name, "%s", lib_message(err.message));
        goto done_args;
    }
    jw_init(&w, 0);
    tokenizer_write_json(tok, &w);
    {
        if (jw_write_file(&w, out, &err)) {
            cli_fail(cmd.name, "%s", err.message);
        } else {
            rc = 0;
            if (!quiet)
                fprintf(stderr, "tokenizer train: wrote %s: %d ids (%.2f s)\n", out, tokenizer_vocab_size(tok),
                        cli_now() - progress.start);
            if (tokenizer_vocab_size(tok) < vocab && min_frequency > 1)
                fprintf(stderr, "tokenizer train: note: only %d of the %d ids asked for: no pair left occurs "
                        "%llu times or more (see --min-frequency)\n", tokenizer_vocab_size(tok), vocab,
                        (unsigned long long)min_frequency);
            else if (tokenizer_vocab_size(tok) < vocab)
                fprintf(stderr, "tokenizer train: note: only %d of the %d ids asked for: no pair is left to "
                        "merge (every word of the text is a single token)\n", tokenizer_vocab_size(tok), vocab);
        }
    }
    jw_free(&w);
done_args:
    tokenizer_free(tok);
    bpe_trainer_free(t);
    free(inputs);
    free(specials);
    return rc == 0 ? 0 : (rc == 1 ? 0 : 1);
}

int cmd_tokenizer(int argc, char **argv) {
    if (argc >= 1 && strcmp(argv[0], "train") == 0) return train(argc - 1, argv + 1);
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: bitt tokenizer train --input FILE... --vocab N --out T.json [--min-frequency F]\n"
               "                            [--special TOKEN...]\n\n"
               "subcommands:\n  train      learn a byte-level BPE tokenizer (bitt tokenizer train --help)\n");
        return 0;
    }
    if (argc == 0) return cli_fail("tokenizer", "missing subcommand: bitt tokenizer train ... (see --help)");
    return cli_fail("tokenizer", "unknown subcommand '%s' (only 'train'; see bitt tokenizer --help)", argv[0]);
}
