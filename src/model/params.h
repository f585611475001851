/* params.h: the parameter table of a Bit-Llama model (SPEC 3.1), written
 * once for everything that needs it: the inference model allocates its
 * weights from it, the trainer lays out its flat parameter buffer from it,
 * files are read and written in its order, and the fingerprint hashes it.
 * Each entry says what the tensor is (a field of a layer, or a global one),
 * its name and shape, how it is stored (BitLinear, embedding, plain float),
 * whether AdamW decays it and how it is initialised. No code anywhere
 * decides these things by looking at a tensor's name. */
#ifndef BITT_PARAMS_H
#define BITT_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* What a tensor is. Global tensors first, then the fields of a layer. */
typedef enum ParamField {
    PF_EMBED,           /* embed.weight [V, D] */
    PF_NORM_F,          /* norm_f.weight [D] */
    PF_LM_HEAD,         /* lm_head.weight [V, D] */
    PF_NORM1,           /* layers.i.norm1.weight [D] (not for variant none) */
    PF_TTT_Q,           /* layers.i.ttt.{q,k,v,o}.weight [D, D] (linear) */
    PF_TTT_K,
    PF_TTT_V,
    PF_TTT_O,
    PF_TTT_LR_W,        /* layers.i.ttt.lr.weight [H, D]: the per-token inner step gate */
    PF_TTT_LR_B,        /* layers.i.ttt.lr.bias [H] */
    PF_TTT_FORGET_W,    /* layers.i.ttt.forget.weight [H, D] (linear with forget_gate, SPEC 1.2.1) */
    PF_TTT_FORGET_B,    /* layers.i.ttt.forget.bias [H] */
    PF_TTT_W0,          /* layers.i.ttt.W0 [H, f, f]: the memory's resting point */
    PF_TTT_B0,          /* layers.i.ttt.b0 [H, f] */
    PF_TTT_LN_W,        /* layers.i.ttt.ln.weight [H, f]: the inner LayerNorm */
    PF_TTT_LN_B,        /* layers.i.ttt.ln.bias [H, f] */
    PF_TTT_POST_NORM,   /* layers.i.ttt.post_norm.weight [D] */
    PF_SEED_DOWN,       /* layers.i.ttt.down.weight [D/4, D] (seed) */
    PF_SEED_UP,         /* layers.i.ttt.up.weight [D, D/4] (seed) */
    PF_NORM2,           /* layers.i.norm2.weight [D] */
    PF_MLP_GATE,        /* layers.i.mlp.gate_proj.weight [I, D] */
    PF_MLP_UP,          /* layers.i.mlp.up_proj.weight [I, D] */
    PF_MLP_DOWN,        /* layers.i.mlp.down_proj.weight [D, I] */
    PF_COUNT
} ParamField;

#define PF_FIRST_LAYER_FIELD PF_NORM1

typedef enum ParamKind {
    PARAM_F32,        /* full precision everywhere */
    PARAM_EMBED,      /* embed / lm_head: f32 at run time, F16 (or I8) in .bitt v2 */
    PARAM_BITLINEAR   /* ternary + scale (SPEC 1.1); float latents while training */
} ParamKind;

/* How SPEC 1.2 / 1.2.1 initialise a tensor. */
typedef enum ParamInit {
    INIT_NORMAL,        /* N(0, 0.02): projections, embed, lm_head, lr.weight, W0 */
    INIT_NORMAL_OUT,    /* N(0, 0.02 / sqrt(2 L)): the projections that write the residual */
    INIT_ONES,          /* norms, inner LayerNorm weight */
    INIT_ZEROS,         /* biases, b0, forget.weight */
    INIT_FORGET_BIAS    /* log(exp(1/tau_h) - 1), tau_h geometric from 16 to 16,384 tokens */
} ParamInit;

typedef struct ParamSpec {
    char name[64];
    ParamField field;
    int layer;          /* -1 for the global tensors */
    ParamKind kind;
    int ndim;
    int64_t shape[3];   /* BitLinear: [out, in] */
    size_t count;       /* elements */
    int weight_decay;   /* AdamW's decoupled decay applies (matrices, not norms or biases) */
    ParamInit init;
} ParamSpec;

/* Writes the table of cfg in file order into out (NULL: only counts) and
 * returns the number of tensors. cfg must be valid (config_validate). */
int param_table(const ModelConfig *cfg, ParamSpec *out);

/* Upper bound of param_table's count for any config with num_layers L. */
static inline int param_table_max(int L) { return 3 + L * (PF_COUNT - PF_FIRST_LAYER_FIELD); }

/* The name pattern of a field ("layers.%d.ttt.q.weight"; globals have no %d). */
const char *param_field_name(ParamField f);

/* SPEC 1.2.1: memory length tau_h (tokens) of head h of H: geometric from 16
 * to 16,384 (one head: 1,024), and the forget bias that gives it. */
double forget_gate_tau(int h, int H);
double forget_gate_bias_init(int h, int H);

#endif
