/* fileio.c: whole-file reads, atomic writes, and opening user paths only
 * when they are regular files (a FIFO, device or directory named as a model,
 * tokenizer, token or state file is an error, never a blocked open). */
#define _DEFAULT_SOURCE /* madvise (MADV_DONTNEED) beside POSIX */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#if !defined(__EMSCRIPTEN__)
#include <sys/mman.h>
#define BITT_HAVE_MMAP 1
#endif
#include <unistd.h>

/* What a non-regular file is, for messages. */
static const char *file_kind(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a plain file";
}

/* open(path, flags | O_NONBLOCK): a FIFO or device cannot block the open
 * itself. Then fstat on the descriptor (not the path, so that nothing swapped
 * in between is missed) must show a regular file; then the descriptor goes
 * back to blocking I/O. Returns the descriptor, or -1 with err filled. */
static int open_regular(const char *path, int flags, BittError *err) {
    int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd < 0) {
        if (errno == ENXIO) /* O_WRONLY | O_NONBLOCK on a FIFO without a reader */
            return bitt_fail(err, "%s: not a regular file (a FIFO or a device)", path);
        return bitt_fail(err, "%s: cannot %s: %s", path, (flags & O_ACCMODE) == O_RDONLY ? "open" : "create",
                         strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return bitt_fail(err, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return bitt_fail(err, "%s: not a regular file (%s)", path, file_kind(st.st_mode));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return bitt_fail(err, "%s: cannot set blocking mode: %s", path, strerror(e));
    }
    return fd;
}

FILE *file_open_read(const char *path, BittError *err) {
    int fd = open_regular(path, O_RDONLY, err);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        bitt_fail(err, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

FILE *file_open_write(const char *path, int append, BittError *err) {
    int fd = open_regular(path, O_WRONLY | O_CREAT | (append ? O_APPEND : 0), err);
    if (fd < 0) return NULL;
    if (!append && ftruncate(fd, 0) != 0) { /* only now: a regular file */
        bitt_fail(err, "%s: cannot truncate: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, append ? "ab" : "wb");
    if (!f) {
        bitt_fail(err, "%s: cannot create: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

int file_read_limited(const char *path, size_t max_bytes, uint8_t **buf, size_t *len, BittError *err) {
    *buf = NULL;
    *len = 0;
    FILE *f = file_open_read(path, err);
    if (!f) return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return bitt_fail(err, "%s: cannot stat: %s", path, strerror(errno));
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > (uint64_t)max_bytes || (uint64_t)st.st_size >= (uint64_t)SIZE_MAX) {
        fclose(f);
        return bitt_fail(err, "%s: too large (%lld bytes; at most %zu are read)", path, (long long)st.st_size,
                         max_bytes);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size + 1);
    if (!data) {
        fclose(f);
        return bitt_fail(err, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = size ? fread(data, 1, size, f) : 0;
    int read_error = ferror(f);
    fclose(f);
    if (got != size || read_error) {
        free(data);
        return bitt_fail(err, "%s: read error (%zu of %zu bytes)", path, got, size);
    }
    data[size] = 0;
    *buf = data;
    *len = size;
    return 0;
}

int file_read_all(const char *path, uint8_t **buf, size_t *len, BittError *err) {
    return file_read_limited(path, SIZE_MAX - 1, buf, len, err);
}

int file_write_atomic(const char *path, const void *const *parts, const size_t *lens, int n,
                      BittError *err) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!tmp) return bitt_fail(err, "%s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = file_open_write(tmp, 0, err);
    if (!f) {
        free(tmp);
        return -1;
    }
    int ok = 1;
    for (int i = 0; i < n && ok; i++)
        if (lens[i] && fwrite(parts[i], 1, lens[i], f) != lens[i]) ok = 0;
    if (fflush(f) != 0) ok = 0;
    if (fclose(f) != 0) ok = 0;
    if (!ok) {
        bitt_fail(err, "%s: write failed: %s", tmp, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        bitt_fail(err, "%s: cannot rename into place: %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int file_write_buffer(const char *path, const void *buf, size_t len, BittError *err) {
    const void *parts[1] = {buf};
    return file_write_atomic(path, parts, &len, 1, err);
}

int path_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int file_view_open(const char *path, FileView *v, BittError *err) {
    v->data = NULL;
    v->len = 0;
    v->mapped = 0;
#ifdef BITT_HAVE_MMAP
    const char *no_mmap = getenv("BITT_NO_MMAP");
    if (!no_mmap || !*no_mmap || strcmp(no_mmap, "0") == 0) {
        int fd = open_regular(path, O_RDONLY, err);
        if (fd < 0) return -1;
        struct stat st;
        if (fstat(fd, &st) != 0) {
            int e = errno;
            close(fd);
            return bitt_fail(err, "%s: cannot stat: %s", path, strerror(e));
        }
        if (st.st_size > 0 && (uint64_t)st.st_size < (uint64_t)SIZE_MAX) {
            void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            close(fd); /* the mapping holds the file */
            if (p != MAP_FAILED) {
                v->data = p;
                v->len = (size_t)st.st_size;
                v->mapped = 1;
                return 0;
            }
        } else {
            close(fd); /* empty: nothing to map, read it (the reader says what is wrong) */
        }
    }
#endif
    uint8_t *buf;
    if (file_read_all(path, &buf, &v->len, err) != 0) return -1;
    v->data = buf;
    return 0;
}

void file_view_drop_pages(const FileView *v) {
#ifdef BITT_HAVE_MMAP
    if (v->mapped && v->len) madvise((void *)v->data, v->len, MADV_DONTNEED);
#else
    (void)v;
#endif
}

void file_view_drop_range(const FileView *v, const void *p, size_t n) {
#ifdef BITT_HAVE_MMAP
    const uintptr_t lo = (uintptr_t)v->data, hi = lo + v->len, page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p, b = a + n;
    if (!v->mapped || a < lo || b > hi || n == 0) return;
    a &= ~(page - 1);               /* the mapping starts on a page: a stays inside it */
    b = (b + page - 1) & ~(page - 1); /* b <= hi: at most the mapping's last page */
    madvise((void *)a, (size_t)(b - a), MADV_DONTNEED);
#else
    (void)v, (void)p, (void)n;
#endif
}

void file_view_close(FileView *v) {
    if (!v->data) return;
#ifdef BITT_HAVE_MMAP
    if (v->mapped) munmap((void *)v->data, v->len);
    else
#endif
        free((void *)v->data);
    v->data = NULL;
    v->len = 0;
    v->mapped = 0;
}
