/* story_split.h: cutting corpus text into stories at the `<|endoftext|>`
 * separator (the TinyStories convention "story\n<|endoftext|>\nstory").
 * The one rule, shared by the tokenizer trainer (which never learns the
 * separator) and `bitt prepare` (which turns it into </s>): a story is the
 * text between two separators, with the newlines ('\n', '\r') next to a
 * separator or at either end of the text trimmed; empty stories are
 * skipped. */
#ifndef BITT_STORY_SPLIT_H
#define BITT_STORY_SPLIT_H

#include <stddef.h>

#define STORY_SEPARATOR "<|endoftext|>"
#define STORY_SEPARATOR_LEN 13

/* Finds the next non-empty story in text[*pos, len). Returns 1 and sets
 * *start, *story_len (the story is text[*start, *start + *story_len)),
 * advancing *pos past the story and its separator; returns 0 when no
 * story is left. */
int story_next(const char *text, size_t len, size_t *pos, size_t *start, size_t *story_len);

/* Offset just past the last separator in text[0, len), or 0 if none. */
size_t story_last_separator_end(const char *text, size_t len);

#endif
