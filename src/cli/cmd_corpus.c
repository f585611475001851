/* cmd_corpus.c: `bitt corpus`: writes a deterministic synthetic corpus:
 * simple children's stories (data/story_gen.h), separated by
 * "\n<|endoftext|>\n" like TinyStories; or, with --task recall, the recall
 * task's documents and their answer key OUT.json (data/recall_gen.h). */
#include <stdlib.h>
#include <string.h>

#include "../data/recall_gen.h"
#include "../data/story_gen.h"
#include "../data/token_file.h"
#include "../util/fileio.h"
#include "cli.h"

static int write_recall(const char *out, const char *tokenizer, const char *gaps_arg, int docs, int facts,
                        const char *filler_path, uint64_t seed) {
    BittError err;
    if (!tokenizer) return cli_fail("corpus", "--task recall needs --tokenizer (gaps are counted in its tokens)");
    int32_t gaps[32];
    int n_gaps = 0;
    for (const char *s = gaps_arg; *s;) {
        char *end;
        const long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > RECALL_MAX_GAP || n_gaps == 32)
            return cli_fail("corpus", "--gaps: expected up to 32 token counts like 0,256,1024 (each 0..%d)", RECALL_MAX_GAP);
        gaps[n_gaps++] = (int32_t)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return cli_fail("corpus", "--gaps: '%s' is not a list of numbers", gaps_arg);
    }
    if (!n_gaps) return cli_fail("corpus", "--gaps is empty");
    Tokenizer *tok = tokenizer_load_file(tokenizer, &err);
    if (!tok) return cli_fail("corpus", "%s", err.message);
    uint8_t *filler = NULL;
    size_t filler_len = 0;
    if (filler_path && file_read_all(filler_path, &filler, &filler_len, &err) != 0) {
        tokenizer_free(tok);
        return cli_fail("corpus", "%s", err.message);
    }
    RecallOptions o = {gaps, n_gaps, docs, facts, seed, (const char *)filler, filler_len};
    RecallCorpus c;
    char fp[17], key[4200];
    int rc = recall_corpus_make(tok, &o, &c, &err) || tokenizer_fingerprint(tok, fp, &err);
    snprintf(key, sizeof key, "%s.json", out);
    if (!rc) {
        rc = file_write_buffer(out, c.text, c.len, &err) || recall_key_write(&c, fp, key, &err);
    }
    if (!rc)
        fprintf(stderr, "corpus: wrote %s: %zu recall documents (%d facts each, gaps %s tokens), %zu bytes; key %s\n",
                out, c.n_docs, facts, gaps_arg, c.len, key);
    recall_corpus_free(&c);
    free(filler);
    tokenizer_free(tok);
    return rc ? cli_fail("corpus", "%s", err.message) : 0;
}

int cmd_corpus(int argc, char **argv) {
    const char *out = NULL, *task = "stories", *tokenizer = NULL, *gaps = "0,256,1024,4096,16384", *filler = NULL;
    int stories = 1000, docs = 20, facts = 4;
    uint64_t seed = 1;
    Flag flags[] = {
        {"out", FLAG_STRING, &out, "the text file to write", 0},
        {"task", FLAG_STRING, &task, "stories (default) or recall: facts, a gap of filler, questions", 0},
        {"stories", FLAG_INT, &stories, "stories: how many (default 1000)", 0},
        {"tokenizer", FLAG_STRING, &tokenizer, "recall: the tokenizer whose tokens measure the gaps (required)", 0},
        {"gaps", FLAG_STRING, &gaps, "recall: filler tokens between facts and questions (default 0,256,1024,4096,16384)", 0},
        {"docs", FLAG_INT, &docs, "recall: documents per gap (default 20)", 0},
        {"facts", FLAG_INT, &facts, "recall: facts (and questions) per document (default 4)", 0},
        {"filler", FLAG_STRING, &filler, "recall: stories to fill the gaps with (separated by <|endoftext|>; "
                                         "default: synthetic stories)", 0},
        {"seed", FLAG_U64, &seed, "random seed (default 1): the same seed gives the same file", 0},
    };
    Command cmd = {"corpus", "--out FILE [--stories N] [--seed S] | --task recall --tokenizer T.json [flags]",
                   "Writes simple synthetic children's stories (someone wants something, a problem, a\n"
                   "friend helps, an ending), each followed by \"\\n<|endoftext|>\\n\" as in TinyStories;\n"
                   "or, with --task recall, documents that state facts, then a gap of story text, then ask\n"
                   "about the facts, with their answer key FILE.json (scored by bitt eval --task recall).",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    BittError err;
    char *text;
    size_t len;
    if (rc) return rc < 0 ? 1 : 0;
    if (!out) return cli_fail(cmd.name, "--out is required (the text file to write)");
    if (strcmp(task, "recall") == 0) {
        if (args_seen(&cmd, "stories")) return cli_fail(cmd.name, "--stories goes with --task stories");
        if (docs < 1 || docs > 100000) return cli_fail(cmd.name, "--docs %d: it must be 1..100000", docs);
        return write_recall(out, tokenizer, gaps, docs, facts, filler, seed);
    }
    if (strcmp(task, "stories") != 0) return cli_fail(cmd.name, "--task must be stories or recall (got '%s')", task);
    if (tokenizer || filler || args_seen(&cmd, "gaps") || args_seen(&cmd, "docs") || args_seen(&cmd, "facts"))
        return cli_fail(cmd.name, "--tokenizer, --gaps, --docs, --facts and --filler go with --task recall");
    if (stories < 1 || stories > STORY_GEN_MAX_STORIES)
        return cli_fail(cmd.name, "--stories %d: it must be 1..%d", stories, STORY_GEN_MAX_STORIES);
    if (story_corpus_make(seed, stories, &text, &len, &err)) return cli_fail(cmd.name, "%s", err.message);
    rc = file_write_buffer(out, text, len, &err);
    free(text);
    if (rc) return cli_fail(cmd.name, "%s", err.message);
    fprintf(stderr, "corpus: wrote %s: %d stories, %zu bytes\n", out, stories, len);
    return 0;
}
