/* text_chunks.h: reading a large text corpus in pieces that are whole
 * stories: each chunk ends right after a `<|endoftext|>` separator or at
 * the end of the file, so cutting never changes how the text is split or
 * pre-tokenized (see tokenizer/story_split.h). Memory stays near the chunk
 * size; a file without separators is read whole. */
#ifndef BITT_TEXT_CHUNKS_H
#define BITT_TEXT_CHUNKS_H

#include <stdint.h>
#include <stdio.h>

#include "../util/error.h"

#define TEXT_CHUNK_DEFAULT_BYTES (8u << 20)

typedef struct TextChunkReader {
    FILE *f;
    char *path;
    char *buf;
    size_t cap, len;   /* buf holds len bytes */
    size_t carry;      /* bytes at buf[0, carry) already handed out */
    size_t want;       /* read at least this much before looking for a cut */
    uint64_t file_size;
    uint64_t done;     /* file bytes handed out so far */
    int eof;
} TextChunkReader;

/* Opens path (a regular file). chunk_bytes 0 means the default. */
int text_chunks_open(TextChunkReader *r, const char *path, size_t chunk_bytes, BittError *err);
/* The next chunk: returns 1 and sets *text, *len (valid until the next
 * call), 0 at the end of the file, -1 on a read error. */
int text_chunks_next(TextChunkReader *r, const char **text, size_t *len, BittError *err);
void text_chunks_close(TextChunkReader *r);

#endif
