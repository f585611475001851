/* fileio.c: whole-file reads and atomic writes. */
#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int file_read_all(const char *path, uint8_t **buf, size_t *len, BittError *err) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return bitt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return bitt_fail(err, "%s: not a regular file", path);
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

int file_write_atomic(const char *path, const void *const *parts, const size_t *lens, int n,
                      BittError *err) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!tmp) return bitt_fail(err, "%s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        bitt_fail(err, "%s: cannot create: %s", tmp, strerror(errno));
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

int path_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
