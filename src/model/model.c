/* model.c: allocation of a Bit-Llama model, the parameter table (names and
 * shapes of SPEC 3.1), random initialisation and the fingerprint. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/f16.h"
#include "../sampling/rng.h"

typedef struct TableBuilder {
    Model *m;
    int failed;
    int table_only; /* names, kinds and shapes only: no weight is allocated */
} TableBuilder;

static void add_param(TableBuilder *b, ParamKind kind, float *f32, BitLinear *bl, int ndim,
                      int64_t d0, int64_t d1, int64_t d2, const char *fmt, int layer) {
    Model *m = b->m;
    ParamRef *p = &m->params[m->n_params++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, fmt, layer);
    p->kind = kind;
    p->ndim = ndim;
    p->shape[0] = d0;
    p->shape[1] = d1;
    p->shape[2] = d2;
    p->f32 = f32;
    p->bl = bl;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= p->shape[i];
    m->n_values += n;
    if (!b->table_only && ((f32 == NULL && bl == NULL) || (bl && bl->q.w == NULL))) b->failed = 1;
}

static float *alloc_f32(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* A weight of the model being built: none when only the table is wanted. */
static float *alloc_weight(const TableBuilder *b, size_t n) { return b->table_only ? NULL : alloc_f32(n); }

static int alloc_bitlinear(const TableBuilder *b, BitLinear *bl, int rows, int cols) {
    bl->q.rows = rows;
    bl->q.cols = cols;
    if (b->table_only) return 0;
    bl->q.w = calloc((size_t)rows * cols, 1);
    return bl->q.w ? 0 : -1;
}

static Model *model_new(const ModelConfig *cfg, Tokenizer *tok, int table_only, BittError *err);

Model *model_alloc(const ModelConfig *cfg, Tokenizer *tok, BittError *err) {
    return model_new(cfg, tok, 0, err);
}

Model *model_alloc_table(const ModelConfig *cfg, BittError *err) {
    return model_new(cfg, NULL, 1, err);
}

static Model *model_new(const ModelConfig *cfg, Tokenizer *tok, int table_only, BittError *err) {
    if (config_validate(cfg, "model", err) != 0) { tokenizer_free(tok); return NULL; }
    Model *m = calloc(1, sizeof *m);
    if (!m) { tokenizer_free(tok); bitt_fail(err, "out of memory"); return NULL; }
    m->cfg = *cfg;
    m->tok = tok;
    m->kernels = kernels_best();
    const int V = cfg->vocab_size, D = cfg->hidden_dim, L = cfg->num_layers;
    const int I = cfg->intermediate_dim, H = cfg->num_heads, f = D / H, d = D / 4;
    m->layers = calloc((size_t)L, sizeof *m->layers);
    m->params = calloc((size_t)L * 20 + 4, sizeof *m->params);
    if (!m->layers || !m->params) { model_free(m); bitt_fail(err, "out of memory"); return NULL; }
    TableBuilder b = {m, 0, table_only};
    m->embed = alloc_weight(&b, (size_t)V * D);
    add_param(&b, PARAM_EMBED, m->embed, NULL, 2, V, D, 0, "embed.weight", 0);
    for (int l = 0; l < L; l++) {
        LayerWeights *w = &m->layers[l];
        w->norm1 = alloc_weight(&b, D);
        if (cfg->variant != TTT_NONE) add_param(&b, PARAM_F32, w->norm1, NULL, 1, D, 0, 0, "layers.%d.norm1.weight", l);
        if (cfg->variant == TTT_LINEAR) {
            BitLinear *qkvo[4] = {&w->ttt_q, &w->ttt_k, &w->ttt_v, &w->ttt_o};
            const char *names[4] = {"layers.%d.ttt.q.weight", "layers.%d.ttt.k.weight",
                                    "layers.%d.ttt.v.weight", "layers.%d.ttt.o.weight"};
            for (int i = 0; i < 4; i++) {
                if (alloc_bitlinear(&b, qkvo[i], D, D) != 0) b.failed = 1;
                add_param(&b, PARAM_BITLINEAR, NULL, qkvo[i], 2, D, D, 0, names[i], l);
            }
            w->lr_w = alloc_weight(&b, (size_t)H * D);
            w->lr_b = alloc_weight(&b, H);
            w->W0 = alloc_weight(&b, (size_t)H * f * f);
            w->b0 = alloc_weight(&b, (size_t)H * f);
            w->ln_w = alloc_weight(&b, (size_t)H * f);
            w->ln_b = alloc_weight(&b, (size_t)H * f);
            w->post_norm = alloc_weight(&b, D);
            add_param(&b, PARAM_F32, w->lr_w, NULL, 2, H, D, 0, "layers.%d.ttt.lr.weight", l);
            add_param(&b, PARAM_F32, w->lr_b, NULL, 1, H, 0, 0, "layers.%d.ttt.lr.bias", l);
            add_param(&b, PARAM_F32, w->W0, NULL, 3, H, f, f, "layers.%d.ttt.W0", l);
            add_param(&b, PARAM_F32, w->b0, NULL, 2, H, f, 0, "layers.%d.ttt.b0", l);
            add_param(&b, PARAM_F32, w->ln_w, NULL, 2, H, f, 0, "layers.%d.ttt.ln.weight", l);
            add_param(&b, PARAM_F32, w->ln_b, NULL, 2, H, f, 0, "layers.%d.ttt.ln.bias", l);
            add_param(&b, PARAM_F32, w->post_norm, NULL, 1, D, 0, 0, "layers.%d.ttt.post_norm.weight", l);
        } else if (cfg->variant == TTT_SEED) {
            if (alloc_bitlinear(&b, &w->ttt_down, d, D) || alloc_bitlinear(&b, &w->ttt_up, D, d)) b.failed = 1;
            add_param(&b, PARAM_BITLINEAR, NULL, &w->ttt_down, 2, d, D, 0, "layers.%d.ttt.down.weight", l);
            add_param(&b, PARAM_BITLINEAR, NULL, &w->ttt_up, 2, D, d, 0, "layers.%d.ttt.up.weight", l);
        }
        w->norm2 = alloc_weight(&b, D);
        add_param(&b, PARAM_F32, w->norm2, NULL, 1, D, 0, 0, "layers.%d.norm2.weight", l);
        if (alloc_bitlinear(&b, &w->gate, I, D) || alloc_bitlinear(&b, &w->up, I, D) ||
            alloc_bitlinear(&b, &w->down, D, I))
            b.failed = 1;
        add_param(&b, PARAM_BITLINEAR, NULL, &w->gate, 2, I, D, 0, "layers.%d.mlp.gate_proj.weight", l);
        add_param(&b, PARAM_BITLINEAR, NULL, &w->up, 2, I, D, 0, "layers.%d.mlp.up_proj.weight", l);
        add_param(&b, PARAM_BITLINEAR, NULL, &w->down, 2, D, I, 0, "layers.%d.mlp.down_proj.weight", l);
    }
    m->norm_f = alloc_weight(&b, D);
    add_param(&b, PARAM_F32, m->norm_f, NULL, 1, D, 0, 0, "norm_f.weight", 0);
    m->lm_head = alloc_weight(&b, (size_t)V * D);
    add_param(&b, PARAM_EMBED, m->lm_head, NULL, 2, V, D, 0, "lm_head.weight", 0);
    if (b.failed) {
        model_free(m);
        bitt_fail(err, "out of memory allocating a model of %d x %d, %d layers", V, D, L);
        return NULL;
    }
    return m;
}

static void free_bitlinear(const Kernels *k, BitLinear *bl) {
    if (k && k->release_ternary && bl->q.packed) k->release_ternary(&bl->q);
    free(bl->q.w);
    free(bl->latent);
}

static void free_int8_matrix(Int8Matrix *q) {
    if (!q) return;
    free(q->w);
    free(q->row_scale);
    free(q);
}

int model_set_lm_head_int8(Model *m, int on, BittError *err) {
    free_int8_matrix(m->lm_head_i8);
    m->lm_head_i8 = NULL;
    if (!on) return 0;
    const int V = m->cfg.vocab_size, D = m->cfg.hidden_dim;
    Int8Matrix *q = calloc(1, sizeof *q);
    if (q) {
        q->rows = V;
        q->cols = D;
        q->w = malloc((size_t)V * D);
        q->row_scale = malloc((size_t)V * sizeof(float));
    }
    if (!q || !q->w || !q->row_scale) {
        free_int8_matrix(q);
        return bitt_fail(err, "out of memory for the int8 lm_head");
    }
    for (int o = 0; o < V; o++) {
        const float *row = m->lm_head + (size_t)o * D;
        float maxabs = 0.0f;
        for (int i = 0; i < D; i++) maxabs = fabsf(row[i]) > maxabs ? fabsf(row[i]) : maxabs;
        q->row_scale[o] = maxabs / 127.0f; /* 0 for a row of zeros or of subnormals below 127 * FLT_TRUE_MIN */
        for (int i = 0; i < D; i++) /* kernels_round_i8: 0 / 0 is NaN, which must not reach an int conversion */
            q->w[(size_t)o * D + i] = q->row_scale[o] > 0 ? kernels_round_i8(row[i] / q->row_scale[o]) : 0;
    }
    m->lm_head_i8 = q;
    return 0;
}

void model_free(Model *m) {
    if (!m) return;
    free_int8_matrix(m->lm_head_i8);
    for (int i = 0; i < m->n_params; i++) {
        ParamRef *p = &m->params[i];
        if (p->kind == PARAM_BITLINEAR) free_bitlinear(m->kernels, p->bl);
        else free(p->f32);
    }
    if (m->layers) /* norm1 is allocated even where the table does not list it */
        for (int l = 0; l < m->cfg.num_layers; l++)
            if (m->cfg.variant == TTT_NONE) free(m->layers[l].norm1);
    free(m->layers);
    free(m->params);
    tokenizer_free(m->tok);
    free(m);
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
        size_t n = (size_t)p->shape[0] * (p->ndim > 1 ? p->shape[1] : 1) * (p->ndim > 2 ? p->shape[2] : 1);
        if (p->kind == PARAM_BITLINEAR) {
            if (!p->bl->latent) p->bl->latent = alloc_f32(n);
            if (!p->bl->latent) continue;
            int is_output = strstr(p->name, ".o.weight") || strstr(p->name, "down_proj") ||
                            strstr(p->name, "ttt.up.weight");
            fill_normal(&r, p->bl->latent, n, is_output ? out_std : 0.02f);
        } else if (strstr(p->name, "norm") || strstr(p->name, "ln.weight")) {
            fill_const(p->f32, n, 1.0f);
        } else if (strstr(p->name, "b0") || strstr(p->name, "ln.bias") || strstr(p->name, "lr.bias")) {
            fill_const(p->f32, n, 0.0f);
        } else {
            fill_normal(&r, p->f32, n, 0.02f); /* embed, lm_head, lr.weight, W0 */
        }
    }
    model_quantize(m);
}

void model_quantize(Model *m) {
    for (int i = 0; i < m->n_params; i++) {
        ParamRef *p = &m->params[i];
        if (p->kind == PARAM_BITLINEAR && p->bl->latent)
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
        h = fnv1a(h, p->name, strlen(p->name));
        size_t n = (size_t)p->shape[0] * (p->ndim > 1 ? p->shape[1] : 1) * (p->ndim > 2 ? p->shape[2] : 1);
        if (p->kind == PARAM_BITLINEAR) {
            h = fnv1a(h, p->bl->q.w, n);
            h = fnv1a(h, &p->bl->q.scale, sizeof(float));
        } else if (p->kind == PARAM_EMBED) {
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
        TernaryMatrix *q = m->params[i].kind == PARAM_BITLINEAR ? &m->params[i].bl->q : NULL;
        if (q && q->packed && m->kernels->release_ternary) m->kernels->release_ternary(q);
    }
    m->kernels = k;
    if (k->prepare_ternary)
        for (int i = 0; i < m->n_params; i++)
            if (m->params[i].kind == PARAM_BITLINEAR && k->prepare_ternary(&m->params[i].bl->q) != 0)
                return bitt_fail(err, "out of memory preparing %s for the %s kernels", m->params[i].name, k->name);
    return 0;
}

int model_finish_load(Model *m, BittError *err) {
    if (model_use_kernels(m, m->kernels, err) != 0) return -1;
    m->fingerprint = model_compute_fingerprint(m);
    return 0;
}
