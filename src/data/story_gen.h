/* story_gen.h: a deterministic generator of simple children's stories, so
 * tests and the quickstart never depend on downloaded text. Each story has
 * a little plot built from templates and word lists (story_words.c):
 * someone wants something, there is a problem, a friend helps, an ending.
 * Stories are separated as in TinyStories: each is followed by
 * "\n<|endoftext|>\n". The same seed gives the same bytes on every
 * platform (the project's integer RNG, sampling/rng.h). */
#ifndef BITT_STORY_GEN_H
#define BITT_STORY_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "../util/error.h"

#define STORY_GEN_MAX_STORIES 10000000

/* Makes n_stories stories from seed; *text is malloc'd and NUL-terminated
 * (caller frees), *len its length. */
int story_corpus_make(uint64_t seed, int n_stories, char **text, size_t *len, BittError *err);

#endif
