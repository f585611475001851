/* text_chunks.c: a corpus file in chunks of whole stories (see
 * text_chunks.h). */
#include "text_chunks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../tokenizer/story_split.h"
#include "../util/fileio.h"

int text_chunks_open(TextChunkReader *r, const char *path, size_t chunk_bytes, BittError *err) {
    struct stat st;
    size_t n = strlen(path) + 1;
    memset(r, 0, sizeof *r);
    r->want = chunk_bytes ? chunk_bytes : TEXT_CHUNK_DEFAULT_BYTES;
    if (!(r->path = malloc(n))) return bitt_fail(err, "%s: out of memory", path);
    memcpy(r->path, path, n);
    if (!(r->f = file_open_read(path, err))) { /* a FIFO or device is refused, not waited on */
        text_chunks_close(r);
        return -1;
    }
    if (fstat(fileno(r->f), &st) != 0) {
        bitt_fail(err, "%s: cannot stat: %s", path, strerror(errno));
        text_chunks_close(r);
        return -1;
    }
    r->file_size = (uint64_t)st.st_size;
    return 0;
}

/* Reads until the buffer holds at least want bytes or the file ends. */
static int fill(TextChunkReader *r, BittError *err) {
    while (!r->eof && r->len < r->want) {
        size_t got;
        if (r->cap < r->want + 1) {
            char *nb = realloc(r->buf, r->want + 1);
            if (!nb) return bitt_fail(err, "%s: out of memory (a %zu-byte buffer)", r->path, r->want + 1);
            r->buf = nb;
            r->cap = r->want + 1;
        }
        got = fread(r->buf + r->len, 1, r->want - r->len, r->f);
        r->len += got;
        if (got == 0) {
            if (ferror(r->f)) return bitt_fail(err, "%s: read error: %s", r->path, strerror(errno));
            r->eof = 1;
        }
    }
    return 0;
}

int text_chunks_next(TextChunkReader *r, const char **text, size_t *len, BittError *err) {
    size_t cut;
    if (r->carry) { /* drop what was handed out last time */
        memmove(r->buf, r->buf + r->carry, r->len - r->carry);
        r->len -= r->carry;
        r->carry = 0;
    }
    for (;;) {
        if (fill(r, err)) return -1;
        if (r->eof) {
            cut = r->len;
            break;
        }
        cut = story_last_separator_end(r->buf, r->len);
        if (cut > 0) break;
        if (r->want > ((size_t)-1) / 4) return bitt_fail(err, "%s: a story is too long", r->path);
        r->want *= 2; /* no separator yet: read more */
    }
    if (cut == 0) return 0;
    r->carry = cut;
    r->done += cut;
    *text = r->buf;
    *len = cut;
    return 1;
}

void text_chunks_close(TextChunkReader *r) {
    if (r->f) fclose(r->f);
    free(r->buf);
    free(r->path);
    memset(r, 0, sizeof *r);
}
