/* train_model.c: the trainer's model (see train_model.h): its flat parameter
 * layout taken from the model's own table, the buffers on the backend, and
 * the moves between the inference Model, the host copy and the backend. */
#include "train_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int train_model_find(const TrainModel *tm, const char *name) {
    for (int i = 0; i < tm->n_tensors; i++)
        if (strcmp(tm->tensors[i].spec.name, name) == 0) return i;
    return -1;
}

void train_model_free(TrainModel *tm) {
    if (tm->be) {
        tm->be->release(tm->be, tm->params);
        tm->be->release(tm->be, tm->grads);
        tm->be->release(tm->be, tm->weights);
    }
    free(tm->tensors);
    free(tm->adamw_table);
    free(tm->field);
    free(tm->host_params);
    memset(tm, 0, sizeof *tm);
}

int train_model_init(TrainModel *tm, const Model *m, TrainBackend *be, BittError *err) {
    memset(tm, 0, sizeof *tm);
    tm->cfg = m->cfg;
    tm->be = be;
    tm->quant_weights = 1;
    tm->act_quant = m->cfg.act_quant;
    tm->n_tensors = m->n_params;
    tm->tensors = calloc((size_t)m->n_params, sizeof *tm->tensors);
    tm->adamw_table = calloc((size_t)m->n_params, sizeof *tm->adamw_table);
    tm->field = calloc((size_t)m->cfg.num_layers, sizeof *tm->field);
    if (!tm->tensors || !tm->adamw_table || !tm->field) {
        train_model_free(tm);
        return bitt_fail(err, "out of memory");
    }
    for (int l = 0; l < m->cfg.num_layers; l++)
        for (int f = 0; f < PF_COUNT; f++) tm->field[l][f] = -1;
    tm->embed_idx = tm->norm_f_idx = tm->lm_head_idx = -1;
    size_t off = 0;
    for (int i = 0; i < m->n_params; i++) {
        const ParamSpec *p = &m->params[i].spec;
        TrainTensor *t = &tm->tensors[i];
        t->spec = *p;
        t->rows = (int)p->shape[0];
        t->cols = p->ndim > 1 ? (int)(p->count / (size_t)p->shape[0]) : 1;
        t->offset = off;
        tm->adamw_table[i] = (AdamWTensor){off, p->count, p->weight_decay};
        off += p->count;
        if (p->layer >= 0) tm->field[p->layer][p->field] = i;
        else if (p->field == PF_EMBED) tm->embed_idx = i;
        else if (p->field == PF_NORM_F) tm->norm_f_idx = i;
        else if (p->field == PF_LM_HEAD) tm->lm_head_idx = i;
    }
    tm->n_params = off;
    if (tm->embed_idx < 0 || tm->norm_f_idx < 0 || tm->lm_head_idx < 0) {
        train_model_free(tm);
        return bitt_fail(err, "the model's parameter table lacks embed, norm_f or lm_head");
    }
    tm->host_params = calloc(off ? off : 1, sizeof(real));
    tm->params = be->alloc(be, off);
    tm->grads = be->alloc(be, off);
    tm->weights = be->alloc(be, off);
    if (!tm->host_params || !tm->params || !tm->grads || !tm->weights) {
        train_model_free(tm);
        return bitt_fail(err, "out of memory for %zu training parameters on the %s backend", off, be->name);
    }
    float *tmp = NULL;
    for (int i = 0; i < m->n_params; i++) {
        const ParamRef *p = &m->params[i];
        const TrainTensor *t = &tm->tensors[i];
        const float *src = p->f32;
        if (p->i8) { /* int8 rows (an I8 .bitt v2): trained as their values */
            free(tmp);
            tmp = malloc(p->spec.count * sizeof(float));
            if (!tmp) { train_model_free(tm); return bitt_fail(err, "out of memory"); }
            model_param_values(p, tmp);
            src = tmp;
        } else if (p->spec.kind == PARAM_BITLINEAR) {
            src = p->bl->latent;
            if (!src) { /* rebuilt from the ternary form */
                free(tmp);
                tmp = malloc(p->spec.count * sizeof(float));
                if (!tmp) { train_model_free(tm); return bitt_fail(err, "out of memory"); }
                bitlinear_dequantize(&p->bl->q, tmp);
                src = tmp;
            }
        }
        for (size_t k = 0; k < p->spec.count; k++) tm->host_params[t->offset + k] = (real)src[k];
    }
    free(tmp);
    if (train_model_upload(tm, err) != 0) {
        train_model_free(tm);
        return -1;
    }
    return 0;
}

int train_model_prepare(TrainModel *tm, BittError *err) {
    TrainBackend *be = tm->be;
    for (int i = 0; i < tm->n_tensors; i++) {
        const TrainTensor *t = &tm->tensors[i];
        if (t->spec.kind != PARAM_BITLINEAR) continue;
        if (tm->quant_weights) be->ternarize(be, tm->params + t->offset, t->spec.count, tm->weights + t->offset);
        else be->copy(be, tm->weights + t->offset, tm->params + t->offset, t->spec.count);
    }
    return be->status(be, err);
}

int train_model_upload(TrainModel *tm, BittError *err) {
    tm->be->upload(tm->be, tm->params, tm->host_params, tm->n_params);
    return train_model_prepare(tm, err);
}

int train_model_download(TrainModel *tm, BittError *err) {
    tm->be->download(tm->be, tm->host_params, tm->params, tm->n_params);
    return tm->be->status(tm->be, err);
}

int train_model_store(TrainModel *tm, Model *m, BittError *err) {
    if (train_model_download(tm, err) != 0) return -1;
    for (int i = 0; i < m->n_params && i < tm->n_tensors; i++) {
        ParamRef *p = &m->params[i];
        const TrainTensor *t = &tm->tensors[i];
        if (p->i8 && model_param_make_f32(m, p, err) != 0) return -1; /* trained values are floats */
        float *dst = p->f32;
        if (p->spec.kind == PARAM_BITLINEAR) {
            if (!p->bl->latent && !(p->bl->latent = malloc(p->spec.count * sizeof(float))))
                return bitt_fail(err, "out of memory");
            dst = p->bl->latent;
        }
        for (size_t k = 0; k < p->spec.count; k++) dst[k] = (float)tm->host_params[t->offset + k];
    }
    model_quantize(m);
    return 0;
}
