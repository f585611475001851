/* model_file.c: reading and writing .bitt v1/v2 files and checkpoint
 * directories (a `bitt train` run directory, which holds its model in
 * RUN/checkpoint, is read as that checkpoint). v2 embed / lm_head are F16 or
 * I8 rows with per-row scales (kept as int8 at run time). Every size is
 * checked against the buffer before use; a model is returned only when every
 * tensor loaded. */
#include "model_file.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/fileio.h"
#include "../formats/f16.h"

static const char BITT_MAGIC[4] = {'B', 'I', 'T', 'T'};

static size_t param_count(const ParamRef *p) {
    size_t n = 1;
    for (int i = 0; i < p->spec.ndim; i++) n *= (size_t)p->spec.shape[i];
    return n;
}

/* lean (a mapped .bitt, inference only): v2 ternary codes are checked here
 * and left in the file (file_codes), I8 rows are used where they lie. */
static int load_bitlinear(const SafeTensors *st, const ParamRef *p, int keep_latent, int lean,
                          BittError *err) {
    BitLinear *bl = p->bl;
    const StTensor *t = safetensors_find(st, p->spec.name);
    if (!t) return bitt_fail(err, "%s: missing tensor '%s'", st->source, p->spec.name);
    if (t->dtype == ST_U8) { /* packed ternary (v2) */
        const int64_t shape[2] = {bl->q.rows, (int64_t)ternary_packed_row_bytes(bl->q.cols)};
        if (!safetensors_expect(st, p->spec.name, ST_U8, 2, shape, err)) return -1;
        char scale_name[80];
        snprintf(scale_name, sizeof scale_name, "%s_scale", p->spec.name);
        const int64_t one = 1;
        float g;
        if (safetensors_read_f32(st, scale_name, 1, &one, &g, err) != 0) return -1;
        if (!isfinite(g) || g < 0)
            return bitt_fail(err, "%s: tensor '%s' is not a finite non-negative scale", st->source, scale_name);
        int bad_row, bad_col;
        TernaryMatrix check = bl->q; /* lean: unpacked into a scratch only to check the codes */
        if (lean && !(check.w = malloc((size_t)check.rows * (size_t)check.cols + 1)))
            return bitt_fail(err, "%s: out of memory for '%s'", st->source, p->spec.name);
        const int bad = ternary_unpack(t->data, &check, &bad_row, &bad_col) != 0;
        if (lean) {
            free(check.w);
            free(bl->q.w); /* model_use_kernels unpacks them again for the backend */
            bl->q.w = NULL;
            bl->file_codes = t->data;
        }
        if (bad)
            return bitt_fail(err, "%s: tensor '%s' holds the invalid 2-bit code 3 at row %d, column %d",
                             st->source, p->spec.name, bad_row, bad_col);
        bl->q.scale = g;
        return 0;
    }
    float *latent = malloc(param_count(p) * sizeof(float));
    if (!latent) return bitt_fail(err, "%s: out of memory for '%s'", st->source, p->spec.name);
    if (safetensors_read_f32(st, p->spec.name, p->spec.ndim, p->spec.shape, latent, err) != 0) {
        free(latent);
        return -1;
    }
    bitlinear_quantize_weights(latent, bl->q.rows, bl->q.cols, &bl->q);
    if (keep_latent) {
        free(bl->latent);
        bl->latent = latent;
    } else {
        free(latent);
    }
    return 0;
}

/* "NAME_row_scale": the per-row scales of an I8 embed / lm_head (SPEC 3.3). */
static void row_scale_name(const char *name, char *out, size_t n) { snprintf(out, n, "%s_row_scale", name); }

/* An I8 embed / lm_head: NAME I8 [V, D] and NAME_row_scale F32 [V], every
 * value in [-127, 127] (the int8 kernels' range), every scale finite and
 * >= 0. p keeps the int8 rows; no float copy is made. */
static int load_i8_rows(Model *m, const SafeTensors *st, ParamRef *p, int lean, BittError *err) {
    const int V = (int)p->spec.shape[0], D = (int)p->spec.shape[1];
    char rs_name[80];
    row_scale_name(p->spec.name, rs_name, sizeof rs_name);
    const StTensor *t = safetensors_expect(st, p->spec.name, ST_I8, 2, p->spec.shape, err);
    const StTensor *rs = t ? safetensors_expect(st, rs_name, ST_F32, 1, p->spec.shape, err) : NULL;
    if (!rs) return -1;
    Int8Matrix *q;
    int rc = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (lean && (uintptr_t)rs->data % sizeof(float) == 0) { /* used where they lie in the mapped file */
        if (!(q = calloc(1, sizeof *q))) return bitt_fail(err, "%s: out of memory for '%s'", st->source, p->spec.name);
        *q = (Int8Matrix){V, D, (int8_t *)t->data, (float *)rs->data, 1};
    } else
#endif
    {
        (void)lean;
        if (!(q = int8_rows_alloc(V, D))) return bitt_fail(err, "%s: out of memory for '%s'", st->source, p->spec.name);
        rc = safetensors_read_f32(st, rs_name, 1, p->spec.shape, q->row_scale, err);
        memcpy(q->w, t->data, (size_t)V * D);
    }
    for (int r = 0; r < V && !rc; r++)
        /* finite and >= 0 (a borrowed scale was not read by safetensors_read_f32), and
         * small enough that 127 x scale, a row's largest value, is finite too */
        if (!isfinite(q->row_scale[r]))
            rc = bitt_fail(err, "%s: tensor '%s' holds %s at element %d: weights and states must be finite", st->source,
                           rs_name, isnan(q->row_scale[r]) ? "NaN" : "infinity", r);
        else if (!(q->row_scale[r] >= 0 && q->row_scale[r] <= FLT_MAX / 127))
            rc = bitt_fail(err, "%s: tensor '%s' holds %g at row %d: a row scale is >= 0 and at most %g "
                           "(127 x scale must be a finite float)", st->source, rs_name, q->row_scale[r], r,
                           (double)(FLT_MAX / 127));
    for (size_t j = 0; j < (size_t)V * D && !rc; j++)
        if (q->w[j] == -128)
            rc = bitt_fail(err, "%s: tensor '%s' holds -128 at row %zu, column %zu (int8 rows are in [-127, 127])",
                           st->source, p->spec.name, j / (size_t)D, j % (size_t)D);
    if (rc) {
        int8_rows_free(q);
        return -1;
    }
    model_param_set_i8(m, p, q);
    return 0;
}

static int load_tensors(Model *m, const SafeTensors *st, int keep_latent, int lean, BittError *err) {
    for (int i = 0; i < m->n_params; i++) {
        ParamRef *p = &m->params[i];
        const StTensor *t = safetensors_find(st, p->spec.name);
        if (p->spec.kind == PARAM_BITLINEAR) {
            if (load_bitlinear(st, p, keep_latent, lean, err) != 0) return -1;
            if (t) model_drop_file_pages(m, t->data, t->nbytes); /* checked: not needed in memory now */
        } else if (p->spec.kind == PARAM_EMBED && t && t->dtype == ST_I8) {
            if (load_i8_rows(m, st, p, lean, err) != 0) return -1;
            if (p->i8 && p->i8->borrowed) {
                model_drop_file_pages(m, p->i8->w, (size_t)p->i8->rows * (size_t)p->i8->cols);
                model_drop_file_pages(m, p->i8->row_scale, (size_t)p->i8->rows * sizeof(float));
            }
        } else if (safetensors_read_f32(st, p->spec.name, p->spec.ndim, p->spec.shape, p->f32, err) != 0) {
            return -1;
        }
    }
    return 0;
}

int model_load_tensors(Model *m, const SafeTensors *st, int keep_latent, BittError *err) {
    return load_tensors(m, st, keep_latent, 0, err);
}

static int is_float_dtype(StDtype dt) { return dt == ST_F32 || dt == ST_F16 || dt == ST_BF16; }

/* Checks one float tensor of the file: present, F32/F16/BF16, the given shape. */
static const StTensor *expect_float(const SafeTensors *st, const char *name, int ndim, const int64_t *shape,
                                    BittError *err) {
    const StTensor *t = safetensors_find(st, name);
    if (!t) { bitt_fail(err, "%s: missing tensor '%s'", st->source, name); return NULL; }
    if (!is_float_dtype(t->dtype)) {
        bitt_fail(err, "%s: tensor '%s' has dtype %s, expected F32, F16 or BF16", st->source, name,
                  st_dtype_name(t->dtype));
        return NULL;
    }
    return safetensors_expect(st, name, t->dtype, ndim, shape, err);
}

/* Checks the file's tensors against the parameter table of the config before
 * any weight is allocated (SPEC 4): each tensor the model reads is there, of a
 * dtype the loader takes and of the shape the config gives, and the file holds
 * no tensor the model does not read (a config that disagrees with its tensors,
 * e.g. fewer layers than the file has, is an error, not a partial model). Since
 * the safetensors reader has checked every tensor's bytes against the file, what
 * model_alloc then reserves is bounded by the file's size. */
static int check_file_tensors(const ModelConfig *cfg, const SafeTensors *st, int version, BittError *err) {
    const int n = param_table(cfg, NULL);
    ParamSpec *table = calloc((size_t)n, sizeof *table);
    unsigned char *used = calloc((size_t)st->count + 1, 1);
    if (!used || !table) {
        free(used);
        free(table);
        return bitt_fail(err, "%s: out of memory", st->source);
    }
    param_table(cfg, table);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        const ParamSpec *p = &table[i];
        const StTensor *t = safetensors_find(st, p->name);
        if (p->kind == PARAM_BITLINEAR && t && t->dtype == ST_U8) { /* packed ternary + its scale */
            const int64_t shape[2] = {p->shape[0], (int64_t)ternary_packed_row_bytes((int)p->shape[1])};
            char scale_name[80];
            const int64_t one = 1;
            snprintf(scale_name, sizeof scale_name, "%s_scale", p->name);
            const StTensor *sc = NULL;
            if (!safetensors_expect(st, p->name, ST_U8, 2, shape, err) ||
                !(sc = expect_float(st, scale_name, 1, &one, err)))
                rc = -1;
            else
                used[sc - st->tensors] = 1;
        } else if (p->kind == PARAM_EMBED && t && t->dtype == ST_I8) { /* int8 rows + their scales */
            char rs_name[80];
            row_scale_name(p->name, rs_name, sizeof rs_name);
            const StTensor *sc = NULL;
            if (version != 2)
                rc = bitt_fail(err, "%s: tensor '%s' is I8, which only .bitt version 2 allows (this is %s)", st->source,
                               p->name, version == 1 ? "a .bitt version 1 file" : "a checkpoint");
            else if (!safetensors_expect(st, p->name, ST_I8, 2, p->shape, err) ||
                     !(sc = safetensors_expect(st, rs_name, ST_F32, 1, p->shape, err)))
                rc = -1;
            else
                used[sc - st->tensors] = 1;
        } else if (!expect_float(st, p->name, p->ndim, p->shape, err)) {
            rc = -1;
        }
        if (!rc) used[t - st->tensors] = 1;
    }
    for (int i = 0; i < st->count && !rc; i++) {
        const char *name = st->tensors[i].name;
        const size_t len = strlen(name), sfx = strlen("_row_scale");
        if (!used[i] && len > sfx && strcmp(name + len - sfx, "_row_scale") == 0) { /* a scale without its rows */
            char base[80];
            snprintf(base, sizeof base, "%.*s", (int)(len - sfx), name);
            const StTensor *b = safetensors_find(st, base);
            rc = bitt_fail(err, "%s: tensor '%s' is a row scale, but '%s' is %s, not I8 rows", st->source, name, base,
                           b ? st_dtype_name(b->dtype) : "not in the file");
        }
        if (!used[i] && !rc)
            rc = bitt_fail(err, "%s: tensor '%s' is not part of the model its config describes (%s%s, %d layers): "
                           "config and tensors disagree", st->source, st->tensors[i].name,
                           ttt_variant_name(cfg->variant), cfg->forget_gate ? " with the forget gate" : "",
                           cfg->num_layers);
    }
    free(used);
    free(table);
    return rc;
}

/* Builds the model once config, tokenizer and tensors are at hand. */
/* view: the mapped file st lies in, for a lean load (else NULL); the model
 * takes it over once allocated (*view_taken = 1), and frees it on failure. */
static Model *model_build(const JsonValue *config, const char *config_source, Tokenizer *tok,
                          const SafeTensors *st, int version, int keep_latent, FileView *view, int *view_taken,
                          BittError *err) {
    const int lean = view != NULL;
    ModelConfig cfg;
    if (config_from_json(config, config_source, &cfg, err) != 0) { tokenizer_free(tok); return NULL; }
    /* Equal sizes, as every model this project writes has: a larger vocab_size
     * would let the sampler pick ids the tokenizer cannot decode to text. */
    if (tokenizer_vocab_size(tok) != cfg.vocab_size) {
        bitt_fail(err, "%s: the tokenizer has %d ids but the model's vocab_size is %d (they must be equal)",
                  config_source, tokenizer_vocab_size(tok), cfg.vocab_size);
        tokenizer_free(tok);
        return NULL;
    }
    if (check_file_tensors(&cfg, st, version, err) != 0) { tokenizer_free(tok); return NULL; }
    Model *m = model_alloc(&cfg, tok, err);
    if (!m) return NULL;
    m->bitt_version = version;
    if (view) {
        m->mapped_file = view;
        *view_taken = 1;
    }
    if (load_tensors(m, st, keep_latent, lean, err) != 0 || model_finish_load(m, err) != 0) {
        model_free(m);
        return NULL;
    }
    return m;
}

/* view: buf is this mapped file, and the load is lean (model_build). */
static Model *load_bitt_buffer(const uint8_t *buf, size_t len, const char *source, int keep_latent,
                               FileView *view, int *view_taken, BittError *err) {
    if (len < 12) { bitt_fail(err, "%s: too short for a .bitt file (%zu bytes)", source, len); return NULL; }
    if (memcmp(buf, BITT_MAGIC, 4) != 0) {
        bitt_fail(err, "%s: wrong magic (not a .bitt file: expected \"BITT\")", source);
        return NULL;
    }
    uint64_t h = 0;
    for (int i = 11; i >= 4; i--) h = (h << 8) | buf[i];
    if (h > len - 12) {
        bitt_fail(err, "%s: header length %llu runs past the end of the file (%zu bytes)", source,
                  (unsigned long long)h, len);
        return NULL;
    }
    char where[300];
    snprintf(where, sizeof where, "%s (.bitt header)", source);
    JsonDoc *doc = json_parse((const char *)buf + 12, (size_t)h, where, err);
    if (!doc) return NULL;
    const JsonValue *root = json_doc_root(doc);
    Model *m = NULL;
    int version = 1;
    const JsonValue *vv = json_get(root, "bitt_version");
    const JsonValue *config = json_get_typed(root, "config", JSON_OBJECT);
    const JsonValue *tokjson = json_get_typed(root, "tokenizer", JSON_OBJECT);
    if (root->type != JSON_OBJECT) {
        bitt_fail(err, "%s: the .bitt header is not a JSON object", source);
    } else if (vv && (vv->type != JSON_NUMBER || (vv->u.number != 1 && vv->u.number != 2))) {
        bitt_fail(err, "%s: unsupported bitt_version (this reader knows versions 1 and 2)", source);
    } else if (!config) {
        bitt_fail(err, "%s: the .bitt header has no \"config\" object", source);
    } else if (!tokjson) {
        bitt_fail(err, "%s: the .bitt header has no \"tokenizer\" object", source);
    } else {
        if (vv) version = (int)vv->u.number;
        Tokenizer *tok = tokenizer_from_json(tokjson, source, err);
        SafeTensors st;
        if (tok && safetensors_parse(buf + 12 + h, len - 12 - (size_t)h, source, &st, err) == 0) {
            m = model_build(config, source, tok, &st, version, keep_latent, view, view_taken, err);
            safetensors_free(&st);
        } else {
            tokenizer_free(tok);
        }
    }
    json_doc_free(doc);
    return m;
}

Model *model_load_bitt_memory(const uint8_t *buf, size_t len, const char *source, int keep_latent,
                              BittError *err) {
    return load_bitt_buffer(buf, len, source, keep_latent, NULL, NULL, err);
}

Model *model_from_checkpoint_parts(const JsonValue *config, const char *config_source, Tokenizer *tok,
                                   const SafeTensors *st, int keep_latent, BittError *err) {
    return model_build(config, config_source, tok, st, 0, keep_latent, NULL, NULL, err);
}

/* 1 if a tensor of m points into its file (a lean load kept codes or rows there). */
static int uses_file(const Model *m) {
    for (int i = 0; i < m->n_params; i++) {
        const ParamRef *p = &m->params[i];
        if ((p->bl && p->bl->file_codes) || (p->i8 && p->i8->borrowed)) return 1;
    }
    return 0;
}

/* A .bitt file: mapped where the platform can (file_view_open). Without
 * keep_latent the load is lean: tensors stay in the mapping, which the model
 * then owns; its resident pages are dropped after the load, so the process
 * holds what the backend built plus the pages inference touches. */
Model *model_load_bitt_view(FileView *v, const char *source, BittError *err) {
    int taken = 0;
    Model *m = load_bitt_buffer(v->data, v->len, source, 0, v, &taken, err);
    if (taken) { /* the model holds the view (and closed it if the load failed) */
        if (m && !uses_file(m)) { /* nothing points into it: a v1 file */
            file_view_close(m->mapped_file);
            free(m->mapped_file);
            m->mapped_file = NULL;
        } else if (m) {
            file_view_drop_pages(v);
        }
        return m;
    }
    file_view_close(v);
    free(v);
    return m;
}

static Model *load_bitt_file(const char *path, int keep_latent, BittError *err) {
    FileView *v = malloc(sizeof *v);
    if (!v) { bitt_fail(err, "out of memory"); return NULL; }
    if (file_view_open(path, v, err) != 0) { free(v); return NULL; }
    if (v->mapped && !keep_latent) return model_load_bitt_view(v, path, err);
    Model *m = load_bitt_buffer(v->data, v->len, path, keep_latent, NULL, NULL, err);
    file_view_close(v);
    free(v);
    return m;
}

static char *join_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static Model *load_checkpoint_dir(const char *dir, int keep_latent, BittError *err) {
    char *cfg_path = join_path(dir, "config.json");
    char *tok_path = join_path(dir, "tokenizer.json");
    char *st_path = join_path(dir, "model.safetensors");
    JsonDoc *doc = NULL;
    Tokenizer *tok = NULL;
    Model *m = NULL;
    SafeTensors st;
    if (!cfg_path || !tok_path || !st_path) {
        bitt_fail(err, "out of memory");
    } else if ((doc = json_parse_file(cfg_path, err)) != NULL && (tok = tokenizer_load_file(tok_path, err)) != NULL &&
               safetensors_load_file(st_path, &st, err) == 0) {
        m = model_from_checkpoint_parts(json_doc_root(doc), cfg_path, tok, &st, keep_latent, err);
        tok = NULL;
        safetensors_free(&st);
    }
    tokenizer_free(tok);
    json_doc_free(doc);
    free(cfg_path);
    free(tok_path);
    free(st_path);
    return m;
}

Model *model_load(const char *path, int keep_latent, BittError *err) {
    if (path_is_dir(path)) {
        char *cfg = join_path(path, "config.json"), *ck = join_path(path, "checkpoint");
        Model *m = NULL;
        if (!cfg || !ck) bitt_fail(err, "out of memory");
        else if (access(cfg, F_OK) != 0 && path_is_dir(ck)) m = load_checkpoint_dir(ck, keep_latent, err); /* a run dir */
        else m = load_checkpoint_dir(path, keep_latent, err);
        free(cfg);
        free(ck);
        return m;
    }
    return load_bitt_file(path, keep_latent, err);
}

/* ---- writing ---- */

/* Adds embed / lm_head as I8 rows + F32 row scales: the model's own rows when
 * it has them (an I8 file stays the same bytes), else its floats quantised. */
static int add_i8_rows(const ParamRef *p, StWriter *w, BittError *err) {
    char rs_name[80];
    row_scale_name(p->spec.name, rs_name, sizeof rs_name);
    if (p->i8)
        return st_writer_add(w, p->spec.name, ST_I8, 2, p->spec.shape, p->i8->w, err) != 0 ||
                       st_writer_add(w, rs_name, ST_F32, 1, p->spec.shape, p->i8->row_scale, err) != 0
                   ? -1
                   : 0;
    Int8Matrix *q = int8_rows_alloc((int)p->spec.shape[0], (int)p->spec.shape[1]);
    if (!q) return bitt_fail(err, "out of memory");
    int8_rows_quantize(p->f32, q);
    int8_t *rows = q->w;
    float *scales = q->row_scale;
    free(q); /* the writer owns the arrays from here */
    if (st_writer_add_owned(w, p->spec.name, ST_I8, 2, p->spec.shape, rows, err) != 0) {
        free(scales);
        return -1;
    }
    return st_writer_add_owned(w, rs_name, ST_F32, 1, p->spec.shape, scales, err);
}

/* Adds every tensor of m in the form of the given version (1: float, 2:
 * packed, with embed / lm_head as F16 or I8 rows). */
static int add_tensors(const Model *m, int version, BittEmbedForm embed, StWriter *w, BittError *err) {
    for (int i = 0; i < m->n_params; i++) {
        const ParamRef *p = &m->params[i];
        const size_t n = param_count(p);
        TernaryMatrix codes = {0}; /* a lean model's codes come from its file */
        int8_t *scratch = NULL;
        if (p->spec.kind == PARAM_BITLINEAR) {
            codes = p->bl->q;
            if (!(codes.w = (int8_t *)bitlinear_codes(p->bl, &scratch))) return bitt_fail(err, "out of memory");
        }
        if (p->spec.kind == PARAM_BITLINEAR && version == 2) {
            const TernaryMatrix *t = &codes;
            const int64_t shape[2] = {t->rows, (int64_t)ternary_packed_row_bytes(t->cols)};
            uint8_t *packed = malloc((size_t)shape[0] * (size_t)shape[1] + 1);
            float *scale = malloc(sizeof(float));
            if (!packed || !scale) { free(packed); free(scale); free(scratch); return bitt_fail(err, "out of memory"); }
            ternary_pack(t, packed);
            free(scratch);
            *scale = t->scale;
            char scale_name[80];
            snprintf(scale_name, sizeof scale_name, "%s_scale", p->spec.name);
            const int64_t one = 1;
            if (st_writer_add_owned(w, p->spec.name, ST_U8, 2, shape, packed, err) != 0 ||
                st_writer_add_owned(w, scale_name, ST_F32, 1, &one, scale, err) != 0)
                return -1;
        } else if (p->spec.kind == PARAM_BITLINEAR) {
            if (p->bl->latent) {
                free(scratch);
                if (st_writer_add(w, p->spec.name, ST_F32, p->spec.ndim, p->spec.shape, p->bl->latent, err) != 0) return -1;
            } else {
                float *latent = malloc(n * sizeof(float));
                if (latent) bitlinear_dequantize(&codes, latent);
                free(scratch);
                if (!latent) return bitt_fail(err, "out of memory");
                if (st_writer_add_owned(w, p->spec.name, ST_F32, p->spec.ndim, p->spec.shape, latent, err) != 0) return -1;
            }
        } else if (p->spec.kind == PARAM_EMBED && version == 2 && embed == BITT_EMBED_I8) {
            if (add_i8_rows(p, w, err) != 0) return -1;
        } else if (p->spec.kind == PARAM_EMBED && version == 2) {
            uint16_t *half = malloc(n * sizeof(uint16_t) + 1);
            if (!half) return bitt_fail(err, "out of memory");
            for (size_t j = 0; j < n; j++) {
                const float v = p->i8 /* dequantised, as the fingerprint hashes them */
                                    ? (float)p->i8->w[j] * p->i8->row_scale[j / (size_t)p->i8->cols]
                                    : p->f32[j];
                half[j] = f32_to_f16(v);
                if ((half[j] & 0x7c00) == 0x7c00) { /* finite in float32, infinite in f16: readers refuse it */
                    free(half);
                    return bitt_fail(err, "tensor '%s' element %zu is %g, outside float16's range (|x| < 65520): "
                                     "F16 embeddings cannot hold it; write them as I8 rows (--embed i8) or write v1",
                                     p->spec.name, j, (double)v);
                }
            }
            if (st_writer_add_owned(w, p->spec.name, ST_F16, p->spec.ndim, p->spec.shape, half, err) != 0) return -1;
        } else if (p->spec.kind == PARAM_EMBED && p->i8) { /* float files: dequantised */
            float *values = malloc(n * sizeof(float) + 1);
            if (!values) return bitt_fail(err, "out of memory");
            model_param_values(p, values);
            if (st_writer_add_owned(w, p->spec.name, ST_F32, p->spec.ndim, p->spec.shape, values, err) != 0) return -1;
        } else if (st_writer_add(w, p->spec.name, ST_F32, p->spec.ndim, p->spec.shape, p->f32, err) != 0) {
            return -1;
        }
    }
    return 0;
}

int model_save_bitt_memory(const Model *m, int version, uint8_t **buf, size_t *len, BittError *err) {
    return model_save_bitt_memory_as(m, version, BITT_EMBED_F16, buf, len, err);
}

int model_save_bitt_memory_as(const Model *m, int version, BittEmbedForm embed, uint8_t **buf, size_t *len,
                              BittError *err) {
    if (version != 1 && version != 2) return bitt_fail(err, "unknown .bitt version %d", version);
    JsonWriter jw;
    jw_init(&jw, 0);
    jw_begin_object(&jw);
    jw_key(&jw, "bitt_version");
    jw_int(&jw, version);
    jw_key(&jw, "config");
    config_write_json(&m->cfg, &jw);
    jw_key(&jw, "tokenizer");
    tokenizer_write_json(m->tok, &jw);
    jw_end_object(&jw);
    if (!jw_text(&jw)) { jw_free(&jw); return bitt_fail(err, "out of memory writing the .bitt header"); }
    const size_t h = jw.len;
    StWriter w;
    st_writer_init(&w);
    uint8_t *st_buf = NULL;
    size_t st_len = 0;
    int rc = add_tensors(m, version, embed, &w, err);
    if (!rc) rc = st_writer_to_memory(&w, 12 + h, version == 2 ? 64 : 8, &st_buf, &st_len, err);
    st_writer_free(&w);
    if (!rc) {
        *len = 12 + h + st_len;
        *buf = malloc(*len);
        if (!*buf) {
            rc = bitt_fail(err, "out of memory (%zu bytes)", *len);
        } else {
            memcpy(*buf, BITT_MAGIC, 4);
            for (int i = 0; i < 8; i++) (*buf)[4 + i] = (uint8_t)((uint64_t)h >> (8 * i));
            memcpy(*buf + 12, jw.buf, h);
            memcpy(*buf + 12 + h, st_buf, st_len);
        }
    }
    free(st_buf);
    jw_free(&jw);
    return rc;
}

int model_save_bitt(const Model *m, const char *path, int version, BittError *err) {
    return model_save_bitt_as(m, path, version, BITT_EMBED_F16, err);
}

int model_save_bitt_as(const Model *m, const char *path, int version, BittEmbedForm embed, BittError *err) {
    uint8_t *buf;
    size_t len;
    if (model_save_bitt_memory_as(m, version, embed, &buf, &len, err) != 0) return bitt_fail_prefix(err, path);
    int rc = file_write_buffer(path, buf, len, err);
    free(buf);
    return rc;
}

static const char *const CHECKPOINT_FILES[] = {"config.json", "tokenizer.json", "model.safetensors"};

/* Removes a checkpoint directory we wrote (only our files; rmdir fails if others are there). */
static void remove_checkpoint_dir(const char *dir) {
    for (size_t i = 0; i < sizeof CHECKPOINT_FILES / sizeof *CHECKPOINT_FILES; i++) {
        char *p = join_path(dir, CHECKPOINT_FILES[i]);
        if (p) remove(p);
        free(p);
    }
    rmdir(dir);
}

int model_save_checkpoint(const Model *m, const char *dir, BittError *err) {
    size_t n = strlen(dir);
    if (path_is_dir(dir)) { /* replace only a checkpoint, never some other directory */
        char *cfg = join_path(dir, "config.json");
        struct stat st;
        int is_checkpoint = cfg && stat(cfg, &st) == 0;
        free(cfg);
        if (!is_checkpoint)
            return bitt_fail(err, "%s: exists and is not a checkpoint directory (no config.json); not replacing it", dir);
    }
    char *tmp = malloc(n + 32), *old = malloc(n + 32);
    if (!tmp || !old) { free(tmp); free(old); return bitt_fail(err, "out of memory"); }
    snprintf(tmp, n + 32, "%s.tmp-%ld", dir, (long)getpid());
    snprintf(old, n + 32, "%s.old-%ld", dir, (long)getpid());
    remove_checkpoint_dir(tmp);
    int rc = 0;
    if (mkdir(tmp, 0755) != 0) rc = bitt_fail(err, "%s: cannot create directory: %s", tmp, strerror(errno));
    char *cfg_path = join_path(tmp, "config.json"), *tok_path = join_path(tmp, "tokenizer.json");
    char *st_path = join_path(tmp, "model.safetensors");
    if (!rc) {
        JsonWriter jw;
        jw_init(&jw, 2);
        config_write_json(&m->cfg, &jw);
        rc = jw_write_file(&jw, cfg_path, err);
        jw_free(&jw);
    }
    if (!rc) rc = tokenizer_save_file(m->tok, tok_path, err);
    if (!rc) {
        StWriter w;
        st_writer_init(&w);
        rc = add_tensors(m, 1, BITT_EMBED_F16, &w, err);
        if (!rc) rc = st_writer_save(&w, st_path, err);
        st_writer_free(&w);
    }
    if (!rc) {
        int had_old = path_is_dir(dir);
        if (had_old && rename(dir, old) != 0)
            rc = bitt_fail(err, "%s: cannot move the old checkpoint aside: %s", dir, strerror(errno));
        else if (rename(tmp, dir) != 0)
            rc = bitt_fail(err, "%s: cannot rename the new checkpoint into place: %s", dir, strerror(errno));
        else if (had_old)
            remove_checkpoint_dir(old);
    }
    if (rc) remove_checkpoint_dir(tmp);
    free(cfg_path); free(tok_path); free(st_path); free(tmp); free(old);
    return rc;
}
