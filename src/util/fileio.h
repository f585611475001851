/* fileio.h: whole-file reads and atomic writes (temp file + rename, so a
 * crash never leaves a half-written file under the final name). */
#ifndef BITT_FILEIO_H
#define BITT_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Reads the whole file into a malloc'd buffer (one extra NUL byte after the
 * end, not counted in *len). */
int file_read_all(const char *path, uint8_t **buf, size_t *len, BittError *err);
/* Writes the concatenation of n parts to path.tmp, flushes, renames to path. */
int file_write_atomic(const char *path, const void *const *parts, const size_t *lens, int n,
                      BittError *err);
/* 1 if path is an existing directory. */
int path_is_dir(const char *path);

#endif
