/* config.h: the model configuration (SPEC 1 and 3.1 config.json keys), its
 * defaults, validation and JSON form. */
#ifndef BITT_CONFIG_H
#define BITT_CONFIG_H

#include "../formats/json.h"
#include "../util/error.h"

/* Limits of a config (config_validate; the messages name them). They keep
 * every size product in range of the int and size_t arithmetic of the
 * engine; what a loaded model reserves is bounded besides by its file, whose
 * tensors are checked against the config before any weight is allocated. */
#define CONFIG_MAX_VOCAB 10000000        /* vocab_size in [3, this] */
#define CONFIG_MAX_DIM 65536             /* hidden_dim a multiple of 4 in [4, this] */
#define CONFIG_MAX_LAYERS 1024           /* num_layers in [1, this] */
#define CONFIG_MAX_INTERMEDIATE 1048576  /* intermediate_dim in [1, this] */
#define CONFIG_MAX_MINI_BATCH 4096       /* mini_batch in [1, this] */
#define CONFIG_MAX_VOCAB_X_DIM 4e9       /* vocab_size x hidden_dim (embed and lm_head values) */

typedef enum TttVariant { TTT_LINEAR = 0, TTT_SEED = 1, TTT_NONE = 2 } TttVariant;

/* Four learning rates appear in this project, each with its own name:
 *  - lr (TrainOptions, TrainRun): the outer learning rate of AdamW;
 *  - the lr gate (tensor ttt.lr, lr_gate in code): a per-token, per-head
 *    sigmoid that scales TTT-Linear's inner step;
 *  - base_lr (below): the inner step's constant scale (SPEC 1.2);
 *  - inner_lr (below): the seed mixer's step (SPEC 1.3). */
typedef struct ModelConfig {
    int vocab_size;        /* V */
    int hidden_dim;        /* D */
    int num_layers;        /* L */
    int intermediate_dim;  /* I, default 4*D */
    TttVariant variant;
    int num_heads;         /* H (linear), head size f = D/H, default f = 64 */
    int mini_batch;        /* b, default 16 */
    float base_lr;         /* linear: default 1.0 */
    float state_decay;     /* linear: after each full mini-batch Ws <- W0 + state_decay (Ws - W0);
                              1.0 (default) is SPEC 1.2 as written; < 1 is the bounded memory of
                              docs/TTT_MEMORY.md (an extension, written to config only when < 1) */
    int forget_gate;       /* linear: 1 = the learned forget gate of SPEC 1.2.1 (written to config
                              only when on; a config without the key has none) */
    float inner_lr;        /* seed: default 0.1 */
    int act_quant;         /* 1: int8 activations (default), 0: "none" */
    float rms_eps;         /* default 1e-5 */
} ModelConfig;

const char *ttt_variant_name(TttVariant v);
int ttt_variant_parse(const char *s, TttVariant *out);

/* Fills every field with the defaults for the given sizes and variant. */
void config_init(ModelConfig *c, int vocab, int dim, int layers, TttVariant variant);
/* Checks ranges and divisibility; the error names source. */
int config_validate(const ModelConfig *c, const char *source, BittError *err);
/* Reads config.json (the full form or the seed's 4-key form). */
int config_from_json(const JsonValue *obj, const char *source, ModelConfig *c, BittError *err);
void config_write_json(const ModelConfig *c, JsonWriter *w);

static inline int config_head_dim(const ModelConfig *c) { return c->hidden_dim / c->num_heads; }

#endif
