/* fileio.h: whole-file reads and atomic writes (temp file + rename, so a
 * crash never leaves a half-written file under the final name), and opening
 * user paths only when they are regular files. */
#ifndef BITT_FILEIO_H
#define BITT_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

/* Opens path for reading only if it is a regular file. It is opened with
 * O_NONBLOCK and checked with fstat, so a FIFO (or device) gives the error
 * "not a regular file" instead of an open that blocks forever; the stream
 * then reads in blocking mode. NULL with err filled (naming path) on error. */
FILE *file_open_read(const char *path, BittError *err);
/* The same for writing: creates path or truncates it (append: appends),
 * refusing anything but a regular file (nothing is truncated before that). */
FILE *file_open_write(const char *path, int append, BittError *err);
/* Reads the whole file (a regular file only, see file_open_read) into a
 * malloc'd buffer (one extra NUL byte after the end, not counted in *len). */
int file_read_all(const char *path, uint8_t **buf, size_t *len, BittError *err);
/* The same, refusing a file of more than max_bytes before allocating. */
int file_read_limited(const char *path, size_t max_bytes, uint8_t **buf, size_t *len, BittError *err);
/* Writes the concatenation of n parts to path.tmp, flushes, renames to path. */
int file_write_atomic(const char *path, const void *const *parts, const size_t *lens, int n,
                      BittError *err);
/* One buffer: the serialise-then-write-atomically step of every file the
 * project writes (models, states, tokenizers, key files, plots). */
int file_write_buffer(const char *path, const void *buf, size_t len, BittError *err);
/* A read-only view of a whole regular file. Where the platform has mmap
 * (not in WebAssembly; not with the environment variable BITT_NO_MMAP=1) the
 * file is mapped: nothing is read before it is touched, and the kernel can
 * drop the pages again (file_view_drop_pages), so the file's bytes do not
 * stay in the process's memory as a copy. Else it is read into memory
 * (file_read_all). A mapped file that another program truncates in place
 * while it is open makes the next touch of a lost page fail with SIGBUS:
 * this project's writers replace files by rename, which never does that. */
typedef struct FileView {
    const uint8_t *data;
    size_t len;
    int mapped; /* 1: mmap, 0: a malloc'd copy */
} FileView;
int file_view_open(const char *path, FileView *v, BittError *err);
/* Lets the kernel drop the resident pages of a mapped view (they are read
 * from the file again when touched); nothing for a copy. */
void file_view_drop_pages(const FileView *v);
/* The same for the pages that hold [p, p + n) (p inside the view). */
void file_view_drop_range(const FileView *v, const void *p, size_t n);
void file_view_close(FileView *v);
/* 1 if path is an existing directory. */
int path_is_dir(const char *path);

#endif
