/* model.c: allocation of a Bit-Llama model, the parameter table (names and
 * shapes of SPEC 3.1), random initialisation and the fingerprint. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/f16.h"
#include "../sampling/rng.h"
#include "../util/fileio.h"

static float *alloc_f32(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* The run-time home of each layer field (NULL for the fields kept as BitLinear). */
static float **layer_f32_slot(LayerWeights *w, ParamField f) {
    switch (f) {
    case PF_NORM1: return &w->norm1;
    case PF_TTT_LR_W: return &w->lr_w;
    case PF_TTT_LR_B: return &w->lr_b;
    case PF_TTT_FORGET_W: return &w->forget_w;
    case PF_TTT_FORGET_B: return &w->forget_b;
    case PF_TTT_W0: return &w->W0;
    case PF_TTT_B0: return &w->b0;
    case PF_TTT_LN_W: return &w->ln_w;
    case PF_TTT_LN_B: return &w->ln_b;
    case PF_TTT_POST_NORM: return &w->post_norm;
    case PF_NORM2: return &w->norm2;
    default: return NULL;
    }
}

static BitLinear *layer_bitlinear_slot(LayerWeights *w, ParamField f) {
    switch (f) {
    case PF_TTT_Q: return &w->ttt_q;
    case PF_TTT_K: return &w->ttt_k;
    case PF_TTT_V: return &w->ttt_v;
    case PF_TTT_O: return &w->ttt_o;
    case PF_SEED_DOWN: return &w->ttt_down;
    case PF_SEED_UP: return &w->ttt_up;
    case PF_MLP_GATE: return &w->gate;
    case PF_MLP_UP: return &w->up;
    case PF_MLP_DOWN: return &w->down;
    default: return NULL;
    }
}

static float **global_slot(Model *m, ParamField f) {
    return f == PF_EMBED ? &m->embed : f == PF_NORM_F ? &m->norm_f : f == PF_LM_HEAD ? &m->lm_head : NULL;
}

Model *model_alloc(const ModelConfig *cfg, Tokenizer *tok, BittError *err) {
    if (config_validate(cfg, "model", err) != 0) { tokenizer_free(tok); return NULL; }
    Model *m = calloc(1, sizeof *m);
    if (!m) { tokenizer_free(tok); bitt_fail(err, "out of memory"); return NULL; }
    m->cfg = *cfg;
    m->tok = tok;
    m->kernels = kernels_best();
    const int n = param_table(cfg, NULL);
    ParamSpec *specs = calloc((size_t)n, sizeof *specs);
    m->layers = calloc((size_t)cfg->num_layers, sizeof *m->layers);
    m->params = calloc((size_t)n, sizeof *m->params);
    if (!specs || !m->layers || !m->params) {
        free(specs);
        model_free(m);
        bitt_fail(err, "out of memory");
        return NULL;
    }
    param_table(cfg, specs);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        ParamRef *p = &m->params[m->n_params++];
        p->spec = specs[i];
        m->n_values += (int64_t)p->spec.count;
        if (p->spec.kind == PARAM_BITLINEAR) {
            p->bl = layer_bitlinear_slot(&m->layers[p->spec.layer], p->spec.field);
            p->bl->q.rows = (int)p->spec.shape[0];
            p->bl->q.cols = (int)p->spec.shape[1];
            p->bl->q.w = calloc(p->spec.count ? p->spec.count : 1, 1);
            if (!p->bl->q.w) failed = 1;
        } else {
            float **slot = p->spec.layer >= 0 ? layer_f32_slot(&m->layers[p->spec.layer], p->spec.field)
                                              : global_slot(m, p->spec.field);
            p->f32 = *slot = alloc_f32(p->spec.count);
            if (!p->f32) failed = 1;
        }
    }
    free(specs);
    if (failed) {
        model_free(m);
        bitt_fail(err, "out of memory allocating a model of %d x %d, %d layers", cfg->vocab_size, cfg->hidden_dim,
                  cfg->num_layers);
        return NULL;
    }
    return m;
}

static void free_bitlinear(const Kernels *k, BitLinear *bl) {
    if (k && k->release_ternary && bl->q.packed) k->release_ternary(&bl->q);
    free(bl->q.w);
    free(bl->latent);
}

/* The tensor of a global field (embed, norm_f, lm_head). */
static ParamRef *global_param(Model *m, ParamField f) {
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].spec.field == f) return &m->params[i];
    return NULL;
}

/* Points m->embed / embed_i8 / lm_head at p's current forms. */
static void sync_global(Model *m, const ParamRef *p) {
    if (p->spec.field == PF_EMBED) {
        m->embed = p->f32;
        m->embed_i8 = p->i8;
    } else if (p->spec.field == PF_LM_HEAD) {
        m->lm_head = p->f32;
    }
}

/* Frees m->lm_head_i8 when it is a quantised copy (not the tensor's own rows). */
static void drop_lm_head_copy(Model *m) {
    const ParamRef *p = global_param(m, PF_LM_HEAD);
    if (m->lm_head_i8 && (!p || m->lm_head_i8 != p->i8)) int8_rows_free(m->lm_head_i8);
    m->lm_head_i8 = NULL;
}

int model_set_lm_head_int8(Model *m, int on, BittError *err) {
    ParamRef *p = global_param(m, PF_LM_HEAD);
    drop_lm_head_copy(m);
    if (!p) return bitt_fail(err, "the model has no lm_head");
    const int V = m->cfg.vocab_size, D = m->cfg.hidden_dim;
    if (p->i8) { /* the file's int8 rows: used as they are, or dequantised for float logits */
        if (on) {
            free(p->f32);
            p->f32 = NULL;
            m->lm_head_i8 = p->i8;
        } else if (!p->f32) {
            p->f32 = malloc(p->spec.count * sizeof(float) + 1);
            if (!p->f32) {
                m->lm_head_i8 = p->i8;
                return bitt_fail(err, "out of memory for a float lm_head of %d x %d", V, D);
            }
            int8_rows_dequantize(p->i8, p->f32);
        }
        sync_global(m, p);
        return 0;
    }
    if (!on) return 0;
    Int8Matrix *q = int8_rows_alloc(V, D);
    if (!q) return bitt_fail(err, "out of memory for the int8 lm_head");
    int8_rows_quantize(p->f32, q);
    m->lm_head_i8 = q;
    return 0;
}

void model_param_set_i8(Model *m, ParamRef *p, Int8Matrix *q) {
    if (p->spec.field == PF_LM_HEAD) drop_lm_head_copy(m);
    free(p->f32);
    p->f32 = NULL;
    int8_rows_free(p->i8);
    p->i8 = q;
    sync_global(m, p);
    if (p->spec.field == PF_LM_HEAD) m->lm_head_i8 = q;
}

void model_param_values(const ParamRef *p, float *out) {
    if (p->i8) int8_rows_dequantize(p->i8, out);
    else memcpy(out, p->f32, p->spec.count * sizeof(float));
}

int model_param_make_f32(Model *m, ParamRef *p, BittError *err) {
    if (!p->i8) return 0;
    if (!p->f32) {
        p->f32 = malloc(p->spec.count * sizeof(float) + 1);
        if (!p->f32) return bitt_fail(err, "out of memory for a float %s", p->spec.name);
        int8_rows_dequantize(p->i8, p->f32);
    }
    if (m->lm_head_i8 == p->i8) m->lm_head_i8 = NULL; /* float logits from now on */
    int8_rows_free(p->i8);
    p->i8 = NULL;
    sync_global(m, p);
    return 0;
}

void model_free(Model *m) {
    if (!m) return;
    drop_lm_head_copy(m);
    for (int i = 0; i < m->n_params; i++) {
        ParamRef *p = &m->params[i];
        if (p->spec.kind == PARAM_BITLINEAR) free_bitlinear(m->kernels, p->bl);
        else free(p->f32);
        int8_rows_free(p->i8);
    }
    free(m->layers);
    free(m->params);
    tokenizer_free(m->tok);
    if (m->mapped_file) { /* after every tensor that points into it */
        file_view_close(m->mapped_file);
        free(m->mapped_file);
    }
    free(m);
}

void model_drop_file_pages(const Model *m, const void *p, size_t n) {
    if (m->mapped_file) file_view_drop_range(m->mapped_file, p, n);
}

/* The bytes of bl's 2-bit codes in the file. */
static size_t file_codes_bytes(const BitLinear *bl) {
    return (size_t)bl->q.rows * ternary_packed_row_bytes(bl->q.cols);
}

const int8_t *bitlinear_codes(const BitLinear *bl, int8_t **scratch) {
    *scratch = NULL;
    if (bl->q.w || !bl->file_codes) return bl->q.w;
    TernaryMatrix t = bl->q;
    t.w = malloc((size_t)t.rows * (size_t)t.cols + 1);
    int bad_row, bad_col;
    if (!t.w || ternary_unpack(bl->file_codes, &t, &bad_row, &bad_col) != 0) { /* checked at load: no code 3 */
        free(t.w);
        return NULL;
    }
    return *scratch = t.w;
}

static void fill_normal(BittRng *r, float *x, size_t n, float std) {
    for (size_t i = 0; i < n; i++) x[i] = rng_next_normal(r) * std;
}

static void fill_const(float *x, size_t n, float v) {
    for (size_t i = 0; i < n; i++) x[i] = v;
}

void model_init_random(Model *m, uint64_t seed) {
    BittRng r;
    rng_seed(&r, seed);
    const float out_std = 0.02f / sqrtf(2.0f * (float)m->cfg.num_layers);
    for (int i = 0; i < m->n_params; i++) {
        ParamRef *p = &m->params[i];
        const size_t n = p->spec.count;
        float *x = p->f32;
        if (p->spec.kind == PARAM_BITLINEAR) {
            if (!p->bl->latent) p->bl->latent = alloc_f32(n);
            if (!p->bl->latent) continue;
            x = p->bl->latent;
        }
        switch (p->spec.init) {
        case INIT_NORMAL: fill_normal(&r, x, n, 0.02f); break;
        case INIT_NORMAL_OUT: fill_normal(&r, x, n, out_std); break;
        case INIT_ONES: fill_const(x, n, 1.0f); break;
        case INIT_ZEROS: fill_const(x, n, 0.0f); break;
        case INIT_FORGET_BIAS:
            for (size_t h = 0; h < n; h++) x[h] = (float)forget_gate_bias_init((int)h, (int)n);
            break;
        }
    }
    model_quantize(m);
}

void model_quantize(Model *m) {
    for (int i = 0; i < m->n_params; i++) {
        ParamRef *p = &m->params[i];
        if (p->spec.kind == PARAM_BITLINEAR && p->bl->latent)
            bitlinear_quantize_weights(p->bl->latent, p->bl->q.rows, p->bl->q.cols, &p->bl->q);
    }
}

/* FNV-1a, 64 bit. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

uint64_t model_compute_fingerprint(const Model *m) {
    uint64_t h = 0xCBF29CE484222325ull;
    JsonWriter w;
    jw_init(&w, 0);
    config_write_json(&m->cfg, &w);
    if (jw_text(&w)) h = fnv1a(h, w.buf, w.len);
    jw_free(&w);
    for (int i = 0; i < m->n_params; i++) {
        const ParamRef *p = &m->params[i];
        h = fnv1a(h, p->spec.name, strlen(p->spec.name));
        const size_t n = p->spec.count;
        if (p->spec.kind == PARAM_BITLINEAR) {
            int8_t *scratch;
            const int8_t *codes = bitlinear_codes(p->bl, &scratch);
            if (!codes) return 0; /* out of memory: no fingerprint */
            h = fnv1a(h, codes, n);
            free(scratch);
            if (p->bl->file_codes) model_drop_file_pages(m, p->bl->file_codes, file_codes_bytes(p->bl));
            h = fnv1a(h, &p->bl->q.scale, sizeof(float));
        } else if (p->spec.kind == PARAM_EMBED && p->i8) { /* the f16 of int8 * row_scale */
            const Int8Matrix *q = p->i8;
            for (int r = 0; r < q->rows; r++)
                for (int c = 0; c < q->cols; c++) {
                    uint16_t half = f32_to_f16((float)q->w[(size_t)r * q->cols + c] * q->row_scale[r]);
                    h = fnv1a(h, &half, 2);
                }
            if (q->borrowed) {
                model_drop_file_pages(m, q->w, (size_t)q->rows * (size_t)q->cols);
                model_drop_file_pages(m, q->row_scale, (size_t)q->rows * sizeof(float));
            }
        } else if (p->spec.kind == PARAM_EMBED) {
            for (size_t j = 0; j < n; j++) {
                uint16_t half = f32_to_f16(p->f32[j]);
                h = fnv1a(h, &half, 2);
            }
        } else {
            h = fnv1a(h, p->f32, n * sizeof(float));
        }
    }
    return h;
}

int model_use_kernels(Model *m, const Kernels *k, BittError *err) {
    for (int i = 0; i < m->n_params; i++) {
        TernaryMatrix *q = m->params[i].spec.kind == PARAM_BITLINEAR ? &m->params[i].bl->q : NULL;
        if (q && q->packed && m->kernels->release_ternary) m->kernels->release_ternary(q);
    }
    m->kernels = k;
    for (int i = 0; i < m->n_params; i++) {
        BitLinear *bl = m->params[i].spec.kind == PARAM_BITLINEAR ? m->params[i].bl : NULL;
        if (!bl) continue;
        int8_t *scratch = NULL;
        if (!bl->q.w && !(bl->q.w = (int8_t *)bitlinear_codes(bl, &scratch)))
            return bitt_fail(err, "out of memory unpacking %s", m->params[i].spec.name);
        if (k->prepare_ternary && k->prepare_ternary(&bl->q) != 0)
            return bitt_fail(err, "out of memory preparing %s for the %s kernels", m->params[i].spec.name, k->name);
        if (scratch && bl->q.packed && k->i8_reads_packed_only && m->cfg.act_quant) {
            /* lean: the backend has its form, the codes stay in the file */
            free(scratch);
            bl->q.w = NULL;
        }
        if (scratch) model_drop_file_pages(m, bl->file_codes, file_codes_bytes(bl));
    }
    return 0;
}

int model_finish_load(Model *m, BittError *err) {
    if (model_use_kernels(m, m->kernels, err) != 0) return -1;
    m->fingerprint = model_compute_fingerprint(m);
    return 0;
}
