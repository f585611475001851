/* train_model.h: the model as the trainer holds it: every tensor of the
 * model's parameter table (params.h) in one flat buffer of `real` on a
 * training backend (backend.h), BitLinears as float latent weights, beside
 * a buffer of the same layout for the gradients and one for the weights the
 * forward multiplies with (BitLinear slots: g * Wt of SPEC 1.1; the rest a
 * copy). A host copy of the parameters is kept in step on request, for
 * checkpoints and tests. Shapes: D hidden, V vocabulary, L layers. */
#ifndef BITT_TRAIN_MODEL_H
#define BITT_TRAIN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"
#include "backend.h"

#define TrainTensor TRAIN_SYM(TrainTensor)
#define TrainModel TRAIN_SYM(TrainModel)
#define train_model_init TRAIN_SYM(train_model_init)
#define train_model_free TRAIN_SYM(train_model_free)
#define train_model_store TRAIN_SYM(train_model_store)
#define train_model_prepare TRAIN_SYM(train_model_prepare)
#define train_model_upload TRAIN_SYM(train_model_upload)
#define train_model_download TRAIN_SYM(train_model_download)
#define train_model_find TRAIN_SYM(train_model_find)

typedef struct TrainTensor {
    ParamSpec spec;
    size_t offset;           /* into the flat buffers */
    int rows, cols;          /* as a matrix (BitLinear: out x in; vectors: n x 1) */
} TrainTensor;

typedef struct TrainModel {
    ModelConfig cfg;
    TrainBackend *be;        /* not owned */
    int n_tensors;
    TrainTensor *tensors;    /* the parameter table, in file order */
    AdamWTensor *adamw_table;/* n_tensors: offset, count, weight decay */
    size_t n_params;
    int (*field)[PF_COUNT];  /* per layer: tensor index of each field, -1 if the variant lacks it */
    int embed_idx, norm_f_idx, lm_head_idx;
    /* on the backend, n_params each */
    real *params;            /* latent parameters (what AdamW updates) */
    real *grads;             /* gradients, same layout */
    real *weights;           /* the forward's weights (train_model_prepare) */
    real *host_params;       /* host copy (train_model_download / train_model_upload) */
    /* switches for the gradient check */
    int quant_weights;       /* 1 (default): ternary weights; 0: latent weights as they are */
    int act_quant;           /* from cfg; 0 turns the int8 activations off */
} TrainModel;

/* Copies m's parameters onto the backend (latent weights of the BitLinears;
 * rebuilt from the ternary form when m has none) and prepares the weights. */
int train_model_init(TrainModel *tm, const Model *m, TrainBackend *be, BittError *err);
void train_model_free(TrainModel *tm);
/* Downloads the parameters and writes them into m (latent + requantised ternary). */
int train_model_store(TrainModel *tm, Model *m, BittError *err);
/* Recomputes the forward's weights from the parameters; after every update. */
int train_model_prepare(TrainModel *tm, BittError *err);
/* host_params -> the backend (then prepare); the backend -> host_params. */
int train_model_upload(TrainModel *tm, BittError *err);
int train_model_download(TrainModel *tm, BittError *err);
/* Index of the tensor with this name, or -1. */
int train_model_find(const TrainModel *tm, const char *name);

/* Pointer to a tensor inside one of the flat buffers (params, grads,
 * weights, or any buffer of the same layout); NULL for an absent field. */
static inline real *train_tensor(const TrainModel *tm, real *base, int idx) {
    return idx < 0 ? NULL : base + tm->tensors[idx].offset;
}
static inline real *train_layer_tensor(const TrainModel *tm, real *base, int layer, ParamField f) {
    return train_tensor(tm, base, tm->field[layer][f]);
}

#endif
