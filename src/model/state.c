/* state.c: allocation, reset and the file form (SPEC 3.4) of the TTT memory. */
#include "state.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/safetensors.h"
#include "../util/fileio.h"
#include "state_layout.h"

int state_alloc(ModelState *s, const Model *m, BittError *err) {
    memset(s, 0, sizeof *s);
    const ModelConfig *c = &m->cfg;
    s->variant = c->variant;
    s->num_layers = c->num_layers;
    s->num_heads = c->num_heads;
    s->head_dim = c->hidden_dim / c->num_heads;
    s->seed_dim = c->hidden_dim / 4;
    const size_t L = (size_t)c->num_layers;
    const size_t per_layer = ttt_state_layer_floats(c);
    const TttLinearLayout lay = ttt_linear_layout(c);
    s->n_floats = L * per_layer;
    s->data = calloc(s->n_floats ? s->n_floats : 1, sizeof(float));
    s->hidden_dim = c->hidden_dim;
    s->final_hidden = calloc((size_t)c->hidden_dim, sizeof(float));
    if (c->variant == TTT_LINEAR) s->linear = calloc(L, sizeof *s->linear);
    if (c->variant == TTT_SEED) s->seed_S = calloc(L, sizeof *s->seed_S);
    if (!s->data || !s->final_hidden || (c->variant == TTT_LINEAR && !s->linear) || (c->variant == TTT_SEED && !s->seed_S)) {
        state_free(s);
        return bitt_fail(err, "out of memory allocating the TTT state");
    }
    for (size_t l = 0; l < L; l++) {
        float *base = s->data + l * per_layer;
        if (c->variant == TTT_LINEAR) {
            s->linear[l].W = base + lay.W;
            s->linear[l].c = base + lay.c;
            s->linear[l].A = base + lay.A;
            s->linear[l].a = base + lay.a;
            s->linear[l].gamma = c->forget_gate ? base + lay.gamma : NULL;
        } else if (c->variant == TTT_SEED) {
            s->seed_S[l] = base;
        }
    }
    return 0;
}

void state_free(ModelState *s) {
    free(s->data);
    free(s->final_hidden);
    free(s->linear);
    free(s->seed_S);
    memset(s, 0, sizeof *s);
}

void state_reset(ModelState *s, const Model *m) {
    memset(s->data, 0, s->n_floats * sizeof(float));
    memset(s->final_hidden, 0, (size_t)s->hidden_dim * sizeof(float));
    s->token_count = 0;
    if (s->variant != TTT_LINEAR) return;
    const size_t H = (size_t)s->num_heads, f = (size_t)s->head_dim;
    for (int l = 0; l < s->num_layers; l++) {
        memcpy(s->linear[l].W, m->layers[l].W0, H * f * f * sizeof(float));
        memcpy(s->linear[l].c, m->layers[l].b0, H * f * sizeof(float));
        if (s->linear[l].gamma)
            for (size_t h = 0; h < H; h++) s->linear[l].gamma[h] = 1.0f;
        s->linear[l].pos = 0;
    }
}

int state_copy(ModelState *dst, const ModelState *src) {
    if (dst->n_floats != src->n_floats || dst->variant != src->variant) return -1;
    memcpy(dst->data, src->data, src->n_floats * sizeof(float));
    memcpy(dst->final_hidden, src->final_hidden, (size_t)src->hidden_dim * sizeof(float));
    dst->token_count = src->token_count;
    if (src->variant == TTT_LINEAR)
        for (int l = 0; l < src->num_layers; l++) dst->linear[l].pos = src->linear[l].pos;
    return 0;
}

size_t state_bytes(const ModelState *s) { return s->n_floats * sizeof(float); }

/* ---- file form ---- */

typedef struct StateTensor {
    char name[64];
    float *data;
    int ndim;
    int64_t shape[3];
} StateTensor;

static size_t state_tensor_count(const StateTensor *t) {
    size_t n = 1;
    for (int k = 0; k < t->ndim; k++) n *= (size_t)t->shape[k];
    return n;
}

/* Lists the float tensors of the state in file order; returns the count. */
static int list_tensors(const ModelState *s, StateTensor *out) {
    int n = 0;
    const int64_t H = s->num_heads, f = s->head_dim, d = s->seed_dim;
    for (int l = 0; l < s->num_layers; l++) {
        if (s->variant == TTT_LINEAR) {
            const TttLayerState *ls = &s->linear[l];
            struct { const char *what; float *p; int ndim; } parts[5] = {
                {"Ws", ls->W, 3}, {"cs", ls->c, 2}, {"A", ls->A, 3}, {"a", ls->a, 2}, {"gamma", ls->gamma, 1}};
            for (int i = 0; i < 5; i++) {
                if (!parts[i].p) continue; /* gamma: only with the forget gate */
                snprintf(out[n].name, sizeof out[n].name, "layers.%d.ttt.%s", l, parts[i].what);
                out[n].data = parts[i].p;
                out[n].ndim = parts[i].ndim;
                out[n].shape[0] = H;
                out[n].shape[1] = f;
                out[n].shape[2] = f;
                n++;
            }
        } else if (s->variant == TTT_SEED) {
            snprintf(out[n].name, sizeof out[n].name, "layers.%d.ttt.S", l);
            out[n].data = s->seed_S[l];
            out[n].ndim = 2;
            out[n].shape[0] = d;
            out[n].shape[1] = d;
            n++;
        }
    }
    return n;
}

int state_save_memory(const ModelState *s, const Model *m, uint8_t **buf, size_t *len, BittError *err) {
    StateTensor *list = calloc((size_t)s->num_layers * 5 + 1, sizeof *list);
    int32_t *pos = calloc((size_t)s->num_layers + 1, sizeof *pos);
    if (!list || !pos) { free(list); free(pos); return bitt_fail(err, "out of memory"); }
    int n = list_tensors(s, list);
    StWriter w;
    st_writer_init(&w);
    char fp[32], count[32];
    snprintf(fp, sizeof fp, "%016" PRIx64, m->fingerprint);
    snprintf(count, sizeof count, "%" PRId64, s->token_count);
    int rc = st_writer_meta(&w, "format", "bitt-state", err) ||
             st_writer_meta(&w, "version", "1", err) ||
             st_writer_meta(&w, "ttt_variant", ttt_variant_name(s->variant), err) ||
             st_writer_meta(&w, "model_fingerprint", fp, err) ||
             st_writer_meta(&w, "token_count", count, err);
    for (int i = 0; i < n && !rc; i++)
        rc = st_writer_add(&w, list[i].name, ST_F32, list[i].ndim, list[i].shape, list[i].data, err);
    if (s->variant == TTT_LINEAR)
        for (int l = 0; l < s->num_layers && !rc; l++) {
            char name[64];
            const int64_t one = 1;
            pos[l] = s->linear[l].pos;
            snprintf(name, sizeof name, "layers.%d.ttt.pos", l);
            rc = st_writer_add(&w, name, ST_I32, 1, &one, &pos[l], err);
        }
    const int64_t D = s->hidden_dim;
    if (!rc && s->token_count > 0) rc = st_writer_add(&w, "final_hidden", ST_F32, 1, &D, s->final_hidden, err);
    if (!rc) rc = st_writer_to_memory(&w, 0, 8, buf, len, err);
    st_writer_free(&w);
    free(list);
    free(pos);
    return rc ? -1 : 0;
}

/* The token_count metadata: decimal digits only, at most STATE_MAX_TOKENS;
 * -1 if absent or anything else (no strtoll: it takes signs, spaces and
 * saturates silently on overflow). */
static long long parse_token_count(const char *s) {
    long long v = 0;
    if (!s || !*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (*s - '0');
        if (v > STATE_MAX_TOKENS) return -1; /* checked every digit: v * 10 never overflows */
    }
    return v;
}

int state_load_memory(ModelState *s, const Model *m, const uint8_t *buf, size_t len,
                      const char *source, BittError *err) {
    SafeTensors st;
    if (safetensors_parse(buf, len, source, &st, err) != 0) return -1;
    int rc = -1;
    StateTensor *list = calloc((size_t)s->num_layers * 5 + 1, sizeof *list);
    float *staged = malloc(s->n_floats * sizeof(float) + 1);
    float *hidden = calloc((size_t)s->hidden_dim, sizeof(float));
    int32_t *pos = calloc((size_t)s->num_layers + 1, sizeof *pos);
    const char *format = safetensors_meta(&st, "format");
    const char *fp = safetensors_meta(&st, "model_fingerprint");
    const char *variant = safetensors_meta(&st, "ttt_variant");
    const char *count = safetensors_meta(&st, "token_count");
    char want_fp[32];
    snprintf(want_fp, sizeof want_fp, "%016" PRIx64, m->fingerprint);
    const long long tokens = parse_token_count(count);
    if (!list || !staged || !pos || !hidden) {
        bitt_fail(err, "%s: out of memory", source);
    } else if (!format || strcmp(format, "bitt-state") != 0) {
        bitt_fail(err, "%s: not a Bit-TTT state file (metadata format is not \"bitt-state\")", source);
    } else if (!variant || strcmp(variant, ttt_variant_name(s->variant)) != 0) {
        bitt_fail(err, "%s: state is for TTT variant '%s', this model uses '%s'", source,
                  variant ? variant : "?", ttt_variant_name(s->variant));
    } else if (!fp || strcmp(fp, want_fp) != 0) {
        bitt_fail(err, "%s: state belongs to another model (fingerprint %s, this model %s)", source,
                  fp ? fp : "missing", want_fp);
    } else if (tokens < 0) {
        bitt_fail(err, "%s: bad or missing token_count in the state metadata (it must be a decimal "
                  "integer in 0..%lld)", source, STATE_MAX_TOKENS);
    } else {
        /* stage everything, commit only when all of it checked out */
        int n = list_tensors(s, list);
        size_t at = 0;
        rc = 0;
        for (int i = 0; i < n && !rc; i++) {
            size_t cnt = state_tensor_count(&list[i]);
            rc = safetensors_read_f32(&st, list[i].name, list[i].ndim, list[i].shape, staged + at, err);
            at += cnt;
        }
        if (s->variant == TTT_LINEAR)
            for (int l = 0; l < s->num_layers && !rc; l++) {
                char name[64];
                const int64_t one = 1;
                snprintf(name, sizeof name, "layers.%d.ttt.pos", l);
                const StTensor *t = safetensors_expect(&st, name, ST_I32, 1, &one, err);
                if (!t) { rc = -1; break; }
                memcpy(&pos[l], t->data, 4);
                if (pos[l] < 0 || pos[l] >= m->cfg.mini_batch || pos[l] != (int32_t)(tokens % m->cfg.mini_batch))
                    rc = bitt_fail(err, "%s: %s = %d does not fit mini_batch %d and token_count %lld",
                                   source, name, pos[l], m->cfg.mini_batch, tokens);
            }
        const int64_t D = s->hidden_dim;
        if (!rc && tokens > 0) rc = safetensors_read_f32(&st, "final_hidden", 1, &D, hidden, err);
        if (!rc) {
            /* list_tensors order matches the layout of s->data only per tensor: copy back */
            at = 0;
            for (int i = 0; i < n; i++) {
                size_t cnt = state_tensor_count(&list[i]);
                memcpy(list[i].data, staged + at, cnt * sizeof(float));
                at += cnt;
            }
            if (s->variant == TTT_LINEAR)
                for (int l = 0; l < s->num_layers; l++) s->linear[l].pos = pos[l];
            s->token_count = tokens;
            memcpy(s->final_hidden, hidden, (size_t)s->hidden_dim * sizeof(float));
        }
    }
    if (rc) bitt_fail_prefix(err, "cannot load state");
    free(list);
    free(staged);
    free(pos);
    free(hidden);
    safetensors_free(&st);
    return rc;
}

int state_save_file(const ModelState *s, const Model *m, const char *path, BittError *err) {
    uint8_t *buf;
    size_t len;
    if (state_save_memory(s, m, &buf, &len, err) != 0) return bitt_fail_prefix(err, path);
    int rc = file_write_buffer(path, buf, len, err);
    free(buf);
    return rc;
}

int state_load_file(ModelState *s, const Model *m, const char *path, BittError *err) {
    uint8_t *buf;
    size_t len;
    if (file_read_all(path, &buf, &len, err) != 0) return -1;
    int rc = state_load_memory(s, m, buf, len, path, err);
    free(buf);
    return rc;
}
