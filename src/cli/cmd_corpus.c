/* cmd_corpus.c: `bitt corpus`: writes a deterministic synthetic corpus of
 * simple children's stories (data/story_gen.h), separated by
 * "\n<|endoftext|>\n" like TinyStories. */
#include <stdlib.h>

#include "../data/story_gen.h"
#include "../util/fileio.h"
#include "cli.h"

int cmd_corpus(int argc, char **argv) {
    const char *out = NULL;
    int stories = 1000;
    uint64_t seed = 1;
    Flag flags[] = {
        {"out", FLAG_STRING, &out, "the text file to write", 0},
        {"stories", FLAG_INT, &stories, "how many stories (default 1000)", 0},
        {"seed", FLAG_U64, &seed, "random seed (default 1): the same seed gives the same file", 0},
    };
    Command cmd = {"corpus", "--out FILE [--stories N] [--seed S]",
                   "Writes simple synthetic children's stories (someone wants something, a problem, a\n"
                   "friend helps, an ending), each followed by \"\\n<|endoftext|>\\n\" as in TinyStories.",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    BittError err;
    char *text;
    size_t len;
    if (rc) return rc < 0 ? 1 : 0;
    if (!out) return cli_fail(cmd.name, "--out is required (the text file to write)");
    if (stories < 1 || stories > STORY_GEN_MAX_STORIES)
        return cli_fail(cmd.name, "--stories %d: it must be 1..%d", stories, STORY_GEN_MAX_STORIES);
    if (story_corpus_make(seed, stories, &text, &len, &err)) return cli_fail(cmd.name, "%s", err.message);
    {
        const void *parts[1] = {text};
        size_t lens[1] = {len};
        rc = file_write_atomic(out, parts, lens, 1, &err);
    }
    free(text);
    if (rc) return cli_fail(cmd.name, "%s", err.message);
    fprintf(stderr, "corpus: wrote %s: %d stories, %zu bytes\n", out, stories, len);
    return 0;
}
