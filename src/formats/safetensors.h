/* safetensors.h: read and write the safetensors format (SPEC 3.2).
 *
 *   u64 LE header length N | N bytes of JSON header | data
 *   header: {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}
 *
 * The reader parses a buffer in place (tensors point into it; the buffer
 * must outlive the SafeTensors) and checks every size against the buffer
 * before use. The writer collects tensor descriptions (data not copied) and
 * writes a file the Python `safetensors` library loads. */
#ifndef BITT_SAFETENSORS_H
#define BITT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "../util/error.h"
#include "json.h"

#define ST_MAX_DIMS 8

typedef enum StDtype {
    ST_F32, ST_F16, ST_BF16, ST_F64, ST_U8, ST_I8, ST_I16, ST_I32, ST_I64, ST_BOOL, ST_DTYPE_COUNT
} StDtype;

const char *st_dtype_name(StDtype dt);
size_t st_dtype_size(StDtype dt);

typedef struct StTensor {
    const char *name;              /* points into the parsed header */
    StDtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const uint8_t *data;           /* points into the buffer; may be unaligned */
    size_t begin;                  /* offset of data in the data section */
    size_t nbytes;
} StTensor;

typedef struct SafeTensors {
    StTensor *tensors;             /* in header order */
    int *by_name;                  /* indices into tensors, sorted by name (lookups) */
    int count;
    const JsonValue *metadata;     /* the "__metadata__" object or NULL */
    JsonDoc *header;
    const char *source;            /* name used in error messages (not owned) */
    uint8_t *file;                 /* the bytes, when read by safetensors_load_file (owned) */
} SafeTensors;

/* Parses len bytes at buf. On failure fills err (naming source) and returns -1.
 * As the reference safetensors library does, it refuses header numbers that
 * are not non-negative integers (checked before any conversion), a name
 * twice, and data_offsets that do not tile the data section exactly: the
 * tensors sorted by offset must follow each other without overlap or gap
 * from 0 to the end of the buffer (no trailing bytes). */
int safetensors_parse(const uint8_t *buf, size_t len, const char *source, SafeTensors *out,
                      BittError *err);
/* Reads the file at path and parses it (the one way files are read as
 * safetensors); the tensors point into bytes that st owns. */
int safetensors_load_file(const char *path, SafeTensors *out, BittError *err);
void safetensors_free(SafeTensors *st);
const StTensor *safetensors_find(const SafeTensors *st, const char *name);
/* A metadata string value or NULL. */
const char *safetensors_meta(const SafeTensors *st, const char *key);

/* Finds a tensor and checks dtype and shape; error names source and tensor. */
const StTensor *safetensors_expect(const SafeTensors *st, const char *name, StDtype dtype,
                                   int ndim, const int64_t *shape, BittError *err);
/* Copies a float tensor of n elements (F32, F16 or BF16) into out as float32.
 * A NaN or infinity anywhere is an error naming the tensor and the element
 * (out is then partly written): every float this project stores is finite. */
int safetensors_read_f32(const SafeTensors *st, const char *name, int ndim, const int64_t *shape,
                         float *out, BittError *err);

/* ---- writer ---- */
typedef struct StWriterEntry {
    char *name;
    StDtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const void *data;              /* not owned unless owned_data */
    void *owned_data;
    size_t nbytes;
} StWriterEntry;

typedef struct StWriter {
    StWriterEntry *entries;
    int count, cap;
    char **meta_kv;                /* key, value, key, value, ... */
    int meta_count;
} StWriter;

void st_writer_init(StWriter *w);
void st_writer_free(StWriter *w);
/* Adds a tensor; data is referenced, not copied (must live until the write). */
int st_writer_add(StWriter *w, const char *name, StDtype dtype, int ndim, const int64_t *shape,
                  const void *data, BittError *err);
/* Same, but the writer takes ownership of malloc'd data. */
int st_writer_add_owned(StWriter *w, const char *name, StDtype dtype, int ndim,
                        const int64_t *shape, void *data, BittError *err);
int st_writer_meta(StWriter *w, const char *key, const char *value, BittError *err);
/* Serialises to a malloc'd buffer. prefix_len bytes (written by the caller
 * before it, e.g. a .bitt header) are counted so that the data section
 * starts at a multiple of align (8 or 64) in the final file. */
int st_writer_to_memory(const StWriter *w, size_t prefix_len, size_t align, uint8_t **out,
                        size_t *out_len, BittError *err);
/* Writes atomically (temp file + rename). */
int st_writer_save(const StWriter *w, const char *path, BittError *err);

#endif
