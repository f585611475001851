/* safetensors.c: the safetensors reader (in place, bounds-checked) and writer. */
#include "safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fileio.h"
#include "f16.h"

static const char *const dtype_names[ST_DTYPE_COUNT] = {
    "F32", "F16", "BF16", "F64", "U8", "I8", "I16", "I32", "I64", "BOOL"};
static const size_t dtype_sizes[ST_DTYPE_COUNT] = {4, 2, 2, 8, 1, 1, 2, 4, 8, 1};

const char *st_dtype_name(StDtype dt) { return dt < ST_DTYPE_COUNT ? dtype_names[dt] : "?"; }
size_t st_dtype_size(StDtype dt) { return dt < ST_DTYPE_COUNT ? dtype_sizes[dt] : 0; }

static int dtype_from_name(const char *s, StDtype *out) {
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (strcmp(s, dtype_names[i]) == 0) { *out = (StDtype)i; return 0; }
    return -1;
}

static uint64_t read_u64_le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Integers a double holds exactly: header numbers above this are refused. */
#define ST_MAX_EXACT 9007199254740992.0 /* 2^53 */

/* Reads a header number that must be a non-negative integer <= max. The
 * double is range-checked before it is converted (converting one outside
 * the range of the integer type is undefined behaviour). */
static int header_uint(const JsonValue *v, uint64_t max, uint64_t *out) {
    if (!v || v->type != JSON_NUMBER) return -1;
    const double x = v->u.number;
    if (!(x >= 0.0 && x <= ST_MAX_EXACT) || x != floor(x)) return -1;
    const uint64_t u = (uint64_t)x;
    if (u > max) return -1;
    *out = u;
    return 0;
}

/* Parses one tensor entry of the header: dtype, shape and data_offsets are
 * checked against the data section (data_len bytes) before any is used. */
static int parse_entry(const JsonMember *m, const uint8_t *data, size_t data_len,
                       const char *source, StTensor *t, BittError *err) {
    const JsonValue *v = &m->value;
    t->name = m->key;
    if (v->type != JSON_OBJECT)
        return bitt_fail(err, "%s: tensor '%s': header entry is not an object", source, m->key);
    const char *dt = json_get_string(v, "dtype");
    if (!dt) return bitt_fail(err, "%s: tensor '%s': missing dtype", source, m->key);
    if (dtype_from_name(dt, &t->dtype) != 0)
        return bitt_fail(err, "%s: tensor '%s': unknown dtype '%s'", source, m->key, dt);
    const JsonValue *shape = json_get_typed(v, "shape", JSON_ARRAY);
    if (!shape) return bitt_fail(err, "%s: tensor '%s': missing shape", source, m->key);
    if (shape->u.array.count > ST_MAX_DIMS)
        return bitt_fail(err, "%s: tensor '%s': too many dimensions (%zu)", source, m->key,
                         shape->u.array.count);
    t->ndim = (int)shape->u.array.count;
    uint64_t elems = 1;
    for (int i = 0; i < t->ndim; i++) {
        const JsonValue *d = &shape->u.array.items[i];
        uint64_t n;
        if (header_uint(d, (uint64_t)INT64_MAX, &n) != 0)
            return bitt_fail(err, "%s: tensor '%s': bad shape entry %d (must be an integer in 0..2^53)",
                             source, m->key, i);
        t->shape[i] = (int64_t)n;
        if (n && elems > UINT64_MAX / 16 / n)
            return bitt_fail(err, "%s: tensor '%s': shape too large", source, m->key);
        elems *= n;
    }
    const JsonValue *offs = json_get_typed(v, "data_offsets", JSON_ARRAY);
    if (!offs || offs->u.array.count != 2)
        return bitt_fail(err, "%s: tensor '%s': data_offsets must be [begin, end]", source, m->key);
    const JsonValue *bv = &offs->u.array.items[0], *ev = &offs->u.array.items[1];
    uint64_t b, e;
    if (header_uint(bv, UINT64_MAX, &b) != 0 || header_uint(ev, UINT64_MAX, &e) != 0 || e < b)
        return bitt_fail(err, "%s: tensor '%s': bad data_offsets (they must be integers begin <= end)",
                         source, m->key);
    if (e > (uint64_t)data_len)
        return bitt_fail(err, "%s: tensor '%s': data_offsets [%llu, %llu] past the end of the data (%zu bytes); file truncated?",
                         source, m->key, (unsigned long long)b, (unsigned long long)e, data_len);
    const uint64_t nbytes = elems * dtype_sizes[t->dtype];
    if (e - b != nbytes)
        return bitt_fail(err, "%s: tensor '%s': %llu data bytes do not match dtype %s and shape (%llu bytes)",
                         source, m->key, (unsigned long long)(e - b), dt, (unsigned long long)nbytes);
    t->begin = (size_t)b;
    t->data = data + (size_t)b;
    t->nbytes = (size_t)nbytes;
    return 0;
}

/* A tensor's sort keys and index (qsort has no context argument, and a
 * file-static one would not be thread-safe). */
typedef struct SortKey {
    const char *name;
    size_t begin, nbytes;
    int index;
} SortKey;

static int cmp_by_name(const void *a, const void *b) {
    return strcmp(((const SortKey *)a)->name, ((const SortKey *)b)->name);
}

static int cmp_by_offsets(const void *a, const void *b) {
    const SortKey *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1; /* empty tensors first */
    return x->index - y->index;
}

/* Checks the tensor set as a whole, in O(n log n): no name twice, and the
 * tensors, sorted by offsets, tile the data section exactly (no overlap, no
 * gap, nothing after the last), as the reference safetensors library requires. */
static int check_layout(SafeTensors *out, size_t data_len, BittError *err) {
    const int n = out->count;
    SortKey *keys = malloc((size_t)(n ? n : 1) * sizeof *keys);
    int *order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!keys || !order) {
        free(keys);
        free(order);
        return bitt_fail(err, "%s: out of memory", out->source);
    }
    for (int i = 0; i < n; i++)
        keys[i] = (SortKey){out->tensors[i].name, out->tensors[i].begin, out->tensors[i].nbytes, i};
    qsort(keys, (size_t)n, sizeof *keys, cmp_by_name);
    for (int i = 0; i < n; i++) out->by_name[i] = keys[i].index;
    qsort(keys, (size_t)n, sizeof *keys, cmp_by_offsets);
    for (int i = 0; i < n; i++) order[i] = keys[i].index;
    free(keys);
    int rc = 0;
    for (int i = 1; i < n && !rc; i++)
        if (strcmp(out->tensors[out->by_name[i - 1]].name, out->tensors[out->by_name[i]].name) == 0)
            rc = bitt_fail(err, "%s: tensor '%s' appears twice", out->source, out->tensors[out->by_name[i]].name);
    size_t end = 0;
    for (int i = 0; i < n && !rc; i++) {
        const StTensor *t = &out->tensors[order[i]];
        if (t->begin < end) {
            rc = bitt_fail(err, "%s: tensor '%s' (data bytes %zu..%zu) overlaps the tensor before it (which ends at %zu)",
                           out->source, t->name, t->begin, t->begin + t->nbytes, end);
        } else if (t->begin > end) {
            rc = bitt_fail(err, "%s: a gap of %zu unused data bytes before tensor '%s' (at %zu): the tensors must "
                           "fill the data section without gaps", out->source, t->begin - end, t->name, t->begin);
        }
        end = t->begin + t->nbytes;
    }
    if (!rc && end != data_len)
        rc = bitt_fail(err, "%s: %zu bytes after the last tensor's data (the tensors hold %zu of %zu data bytes): "
                       "trailing bytes are not allowed", out->source, data_len - end, end, data_len);
    free(order);
    return rc;
}

int safetensors_parse(const uint8_t *buf, size_t len, const char *source, SafeTensors *out,
                      BittError *err) {
    memset(out, 0, sizeof *out);
    out->source = source;
    if (len < 8) return bitt_fail(err, "%s: too short for a safetensors file (%zu bytes)", source, len);
    uint64_t n = read_u64_le(buf);
    if (n > len - 8)
        return bitt_fail(err, "%s: safetensors header length %llu runs past the end of the file (%zu bytes)",
                         source, (unsigned long long)n, len);
    if (n < 2) return bitt_fail(err, "%s: safetensors header too short", source);
    char where[300];
    snprintf(where, sizeof where, "%s (safetensors header)", source);
    JsonDoc *doc = json_parse((const char *)buf + 8, (size_t)n, where, err);
    if (!doc) return -1;
    const JsonValue *root = json_doc_root(doc);
    if (root->type != JSON_OBJECT) {
        json_doc_free(doc);
        return bitt_fail(err, "%s: safetensors header is not a JSON object", source);
    }
    const uint8_t *data = buf + 8 + n;
    size_t data_len = len - 8 - (size_t)n;
    out->header = doc;
    const size_t cap = root->u.object.count ? root->u.object.count : 1;
    if (root->u.object.count > (size_t)INT32_MAX) {
        safetensors_free(out);
        return bitt_fail(err, "%s: too many tensors", source);
    }
    out->tensors = calloc(cap, sizeof(StTensor));
    out->by_name = calloc(cap, sizeof(int));
    if (!out->tensors || !out->by_name) { safetensors_free(out); return bitt_fail(err, "%s: out of memory", source); }
    for (size_t i = 0; i < root->u.object.count; i++) {
        const JsonMember *m = &root->u.object.members[i];
        if (strcmp(m->key, "__metadata__") == 0) {
            if (m->value.type != JSON_OBJECT || out->metadata) {
                safetensors_free(out);
                return bitt_fail(err, "%s: __metadata__ is not an object or appears twice", source);
            }
            out->metadata = &m->value;
            continue;
        }
        if (parse_entry(m, data, data_len, source, &out->tensors[out->count], err) != 0) {
            safetensors_free(out);
            return -1;
        }
        out->count++;
    }
    if (check_layout(out, data_len, err) != 0) {
        safetensors_free(out); /* frees the names: the message is written first */
        return -1;
    }
    return 0;
}

int safetensors_load_file(const char *path, SafeTensors *out, BittError *err) {
    uint8_t *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    if (file_read_all(path, &buf, &len, err) != 0) return -1;
    if (safetensors_parse(buf, len, path, out, err) != 0) {
        free(buf);
        return -1;
    }
    out->file = buf;
    return 0;
}

void safetensors_free(SafeTensors *st) {
    free(st->file);
    free(st->tensors);
    free(st->by_name);
    json_doc_free(st->header);
    memset(st, 0, sizeof *st);
}

const StTensor *safetensors_find(const SafeTensors *st, const char *name) {
    int lo = 0, hi = st->count; /* binary search of the names in by_name order */
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        const StTensor *t = &st->tensors[st->by_name[mid]];
        const int c = strcmp(t->name, name);
        if (c == 0) return t;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const char *safetensors_meta(const SafeTensors *st, const char *key) {
    return st->metadata ? json_get_string(st->metadata, key) : NULL;
}

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t at = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (at < size) snprintf(buf + at, size - at, "]");
}

static int shape_matches(const StTensor *t, int ndim, const int64_t *shape) {
    if (t->ndim != ndim) return 0;
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] != shape[i]) return 0;
    return 1;
}

const StTensor *safetensors_expect(const SafeTensors *st, const char *name, StDtype dtype,
                                   int ndim, const int64_t *shape, BittError *err) {
    const StTensor *t = safetensors_find(st, name);
    if (!t) { bitt_fail(err, "%s: missing tensor '%s'", st->source, name); return NULL; }
    if (t->dtype != dtype) {
        bitt_fail(err, "%s: tensor '%s' has dtype %s, expected %s", st->source, name,
                  st_dtype_name(t->dtype), st_dtype_name(dtype));
        return NULL;
    }
    if (!shape_matches(t, ndim, shape)) {
        char want[128], got[128];
        format_shape(want, sizeof want, ndim, shape);
        format_shape(got, sizeof got, t->ndim, t->shape);
        bitt_fail(err, "%s: tensor '%s' has shape %s, expected %s", st->source, name, got, want);
        return NULL;
    }
    return t;
}

int safetensors_read_f32(const SafeTensors *st, const char *name, int ndim, const int64_t *shape,
                         float *out, BittError *err) {
    const StTensor *t = safetensors_find(st, name);
    if (!t) return bitt_fail(err, "%s: missing tensor '%s'", st->source, name);
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
        return bitt_fail(err, "%s: tensor '%s' has dtype %s, expected F32, F16 or BF16",
                         st->source, name, st_dtype_name(t->dtype));
    if (!safetensors_expect(st, name, t->dtype, ndim, shape, err)) return -1;
    size_t n = t->nbytes / st_dtype_size(t->dtype);
    const uint8_t *p = t->data;
    for (size_t i = 0; i < n; i++) {
        if (t->dtype == ST_F32) {
            memcpy(&out[i], p + 4 * i, 4);
        } else {
            uint16_t h = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
            out[i] = t->dtype == ST_F16 ? f16_to_f32(h) : bf16_to_f32(h);
        }
        if (!isfinite(out[i]))
            return bitt_fail(err, "%s: tensor '%s' holds %s at element %zu: weights and states must be finite",
                             st->source, name, isnan(out[i]) ? "NaN" : "infinity", i);
    }
    return 0;
}

/* ---- writer ---- */

void st_writer_init(StWriter *w) { memset(w, 0, sizeof *w); }

void st_writer_free(StWriter *w) {
    for (int i = 0; i < w->count; i++) {
        free(w->entries[i].name);
        free(w->entries[i].owned_data);
    }
    for (int i = 0; i < 2 * w->meta_count; i++) free(w->meta_kv[i]);
    free(w->entries);
    free(w->meta_kv);
    memset(w, 0, sizeof *w);
}

static char *dup_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int st_writer_add(StWriter *w, const char *name, StDtype dtype, int ndim, const int64_t *shape,
                  const void *data, BittError *err) {
    if (ndim < 0 || ndim > ST_MAX_DIMS) return bitt_fail(err, "tensor '%s': bad ndim", name);
    if (w->count == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        StWriterEntry *e = realloc(w->entries, (size_t)cap * sizeof *e);
        if (!e) return bitt_fail(err, "out of memory");
        w->entries = e;
        w->cap = cap;
    }
    StWriterEntry *e = &w->entries[w->count];
    memset(e, 0, sizeof *e);
    e->name = dup_string(name);
    if (!e->name) return bitt_fail(err, "out of memory");
    e->dtype = dtype;
    e->ndim = ndim;
    size_t elems = 1;
    for (int i = 0; i < ndim; i++) {
        e->shape[i] = shape[i];
        elems *= (size_t)shape[i];
    }
    e->nbytes = elems * st_dtype_size(dtype);
    e->data = data;
    w->count++;
    return 0;
}

int st_writer_add_owned(StWriter *w, const char *name, StDtype dtype, int ndim,
                        const int64_t *shape, void *data, BittError *err) {
    if (st_writer_add(w, name, dtype, ndim, shape, data, err) != 0) {
        free(data);
        return -1;
    }
    w->entries[w->count - 1].owned_data = data;
    return 0;
}

int st_writer_meta(StWriter *w, const char *key, const char *value, BittError *err) {
    char **kv = realloc(w->meta_kv, (size_t)(w->meta_count + 1) * 2 * sizeof(char *));
    if (!kv) return bitt_fail(err, "out of memory");
    w->meta_kv = kv;
    kv[2 * w->meta_count] = dup_string(key);
    kv[2 * w->meta_count + 1] = dup_string(value);
    w->meta_count++;
    if (!kv[2 * w->meta_count - 2] || !kv[2 * w->meta_count - 1]) return bitt_fail(err, "out of memory");
    return 0;
}

int st_writer_to_memory(const StWriter *w, size_t prefix_len, size_t align, uint8_t **out,
                        size_t *out_len, BittError *err) {
    JsonWriter jw;
    jw_init(&jw, 0);
    jw_begin_object(&jw);
    if (w->meta_count) {
        jw_key(&jw, "__metadata__");
        jw_begin_object(&jw);
        for (int i = 0; i < w->meta_count; i++) {
            jw_key(&jw, w->meta_kv[2 * i]);
            jw_string(&jw, w->meta_kv[2 * i + 1]);
        }
        jw_end_object(&jw);
    }
    size_t offset = 0;
    for (int i = 0; i < w->count; i++) {
        const StWriterEntry *e = &w->entries[i];
        jw_key(&jw, e->name);
        jw_begin_object(&jw);
        jw_key(&jw, "dtype");
        jw_string(&jw, st_dtype_name(e->dtype));
        jw_key(&jw, "shape");
        jw_begin_array(&jw);
        for (int d = 0; d < e->ndim; d++) jw_int(&jw, e->shape[d]);
        jw_end_array(&jw);
        jw_key(&jw, "data_offsets");
        jw_begin_array(&jw);
        jw_int(&jw, (int64_t)offset);
        jw_int(&jw, (int64_t)(offset + e->nbytes));
        jw_end_array(&jw);
        jw_end_object(&jw);
        offset += e->nbytes;
    }
    jw_end_object(&jw);
    /* pad the header with spaces so the data starts aligned in the final file */
    if (align < 8) align = 8;
    while (!jw.failed && (prefix_len + 8 + jw.len) % align != 0) jw_raw(&jw, " ", 1);
    const char *header = jw_text(&jw);
    if (!header) { jw_free(&jw); return bitt_fail(err, "out of memory writing safetensors header"); }
    size_t hlen = jw.len;
    size_t total = 8 + hlen + offset;
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf) { jw_free(&jw); return bitt_fail(err, "out of memory (%zu bytes)", total); }
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    jw_free(&jw);
    size_t at = 8 + hlen;
    for (int i = 0; i < w->count; i++) {
        if (w->entries[i].nbytes) memcpy(buf + at, w->entries[i].data, w->entries[i].nbytes);
        at += w->entries[i].nbytes;
    }
    *out = buf;
    *out_len = total;
    return 0;
}

int st_writer_save(const StWriter *w, const char *path, BittError *err) {
    uint8_t *buf;
    size_t len;
    if (st_writer_to_memory(w, 0, 8, &buf, &len, err) != 0) return bitt_fail_prefix(err, path);
    int rc = file_write_buffer(path, buf, len, err);
    free(buf);
    return rc;
}
