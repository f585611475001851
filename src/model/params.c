/* params.c: the parameter table of SPEC 3.1 (see params.h). The order of
 * the entries is the file order of every format and of the fingerprint:
 * changing it changes every model's identity. */
#include "params.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct FieldInfo {
    const char *name;
    ParamKind kind;
    int weight_decay;
    ParamInit init;
} FieldInfo;

static const FieldInfo FIELDS[PF_COUNT] = {
    [PF_EMBED] = {"embed.weight", PARAM_EMBED, 1, INIT_NORMAL},
    [PF_NORM_F] = {"norm_f.weight", PARAM_F32, 0, INIT_ONES},
    [PF_LM_HEAD] = {"lm_head.weight", PARAM_EMBED, 1, INIT_NORMAL},
    [PF_NORM1] = {"layers.%d.norm1.weight", PARAM_F32, 0, INIT_ONES},
    [PF_TTT_Q] = {"layers.%d.ttt.q.weight", PARAM_BITLINEAR, 1, INIT_NORMAL},
    [PF_TTT_K] = {"layers.%d.ttt.k.weight", PARAM_BITLINEAR, 1, INIT_NORMAL},
    [PF_TTT_V] = {"layers.%d.ttt.v.weight", PARAM_BITLINEAR, 1, INIT_NORMAL},
    [PF_TTT_O] = {"layers.%d.ttt.o.weight", PARAM_BITLINEAR, 1, INIT_NORMAL_OUT},
    [PF_TTT_LR_W] = {"layers.%d.ttt.lr.weight", PARAM_F32, 1, INIT_NORMAL},
    [PF_TTT_LR_B] = {"layers.%d.ttt.lr.bias", PARAM_F32, 0, INIT_ZEROS},
    [PF_TTT_FORGET_W] = {"layers.%d.ttt.forget.weight", PARAM_F32, 1, INIT_ZEROS},
    [PF_TTT_FORGET_B] = {"layers.%d.ttt.forget.bias", PARAM_F32, 0, INIT_FORGET_BIAS},
    [PF_TTT_W0] = {"layers.%d.ttt.W0", PARAM_F32, 1, INIT_NORMAL},
    [PF_TTT_B0] = {"layers.%d.ttt.b0", PARAM_F32, 0, INIT_ZEROS},
    [PF_TTT_LN_W] = {"layers.%d.ttt.ln.weight", PARAM_F32, 0, INIT_ONES},
    [PF_TTT_LN_B] = {"layers.%d.ttt.ln.bias", PARAM_F32, 0, INIT_ZEROS},
    [PF_TTT_POST_NORM] = {"layers.%d.ttt.post_norm.weight", PARAM_F32, 0, INIT_ONES},
    [PF_SEED_DOWN] = {"layers.%d.ttt.down.weight", PARAM_BITLINEAR, 1, INIT_NORMAL},
    [PF_SEED_UP] = {"layers.%d.ttt.up.weight", PARAM_BITLINEAR, 1, INIT_NORMAL_OUT},
    [PF_NORM2] = {"layers.%d.norm2.weight", PARAM_F32, 0, INIT_ONES},
    [PF_MLP_GATE] = {"layers.%d.mlp.gate_proj.weight", PARAM_BITLINEAR, 1, INIT_NORMAL},
    [PF_MLP_UP] = {"layers.%d.mlp.up_proj.weight", PARAM_BITLINEAR, 1, INIT_NORMAL},
    [PF_MLP_DOWN] = {"layers.%d.mlp.down_proj.weight", PARAM_BITLINEAR, 1, INIT_NORMAL_OUT},
};

const char *param_field_name(ParamField f) { return (unsigned)f < PF_COUNT ? FIELDS[f].name : "?"; }

typedef struct Table {
    ParamSpec *out;
    int n;
} Table;

static void add(Table *t, ParamField f, int layer, int ndim, int64_t d0, int64_t d1, int64_t d2) {
    if (t->out) {
        ParamSpec *p = &t->out[t->n];
        memset(p, 0, sizeof *p);
        if (layer >= 0) snprintf(p->name, sizeof p->name, FIELDS[f].name, layer);
        else snprintf(p->name, sizeof p->name, "%s", FIELDS[f].name);
        p->field = f;
        p->layer = layer;
        p->kind = FIELDS[f].kind;
        p->ndim = ndim;
        p->shape[0] = d0;
        p->shape[1] = d1;
        p->shape[2] = d2;
        p->count = (size_t)d0 * (size_t)(ndim > 1 ? d1 : 1) * (size_t)(ndim > 2 ? d2 : 1);
        p->weight_decay = FIELDS[f].weight_decay;
        p->init = FIELDS[f].init;
    }
    t->n++;
}

int param_table(const ModelConfig *c, ParamSpec *out) {
    Table t = {out, 0};
    const int64_t V = c->vocab_size, D = c->hidden_dim, I = c->intermediate_dim;
    const int64_t H = c->num_heads, f = D / H, d = D / 4;
    add(&t, PF_EMBED, -1, 2, V, D, 0);
    for (int l = 0; l < c->num_layers; l++) {
        if (c->variant != TTT_NONE) add(&t, PF_NORM1, l, 1, D, 0, 0);
        if (c->variant == TTT_LINEAR) {
            add(&t, PF_TTT_Q, l, 2, D, D, 0);
            add(&t, PF_TTT_K, l, 2, D, D, 0);
            add(&t, PF_TTT_V, l, 2, D, D, 0);
            add(&t, PF_TTT_O, l, 2, D, D, 0);
            add(&t, PF_TTT_LR_W, l, 2, H, D, 0);
            add(&t, PF_TTT_LR_B, l, 1, H, 0, 0);
            if (c->forget_gate) {
                add(&t, PF_TTT_FORGET_W, l, 2, H, D, 0);
                add(&t, PF_TTT_FORGET_B, l, 1, H, 0, 0);
            }
            add(&t, PF_TTT_W0, l, 3, H, f, f);
            add(&t, PF_TTT_B0, l, 2, H, f, 0);
            add(&t, PF_TTT_LN_W, l, 2, H, f, 0);
            add(&t, PF_TTT_LN_B, l, 2, H, f, 0);
            add(&t, PF_TTT_POST_NORM, l, 1, D, 0, 0);
        } else if (c->variant == TTT_SEED) {
            add(&t, PF_SEED_DOWN, l, 2, d, D, 0);
            add(&t, PF_SEED_UP, l, 2, D, d, 0);
        }
        add(&t, PF_NORM2, l, 1, D, 0, 0);
        add(&t, PF_MLP_GATE, l, 2, I, D, 0);
        add(&t, PF_MLP_UP, l, 2, I, D, 0);
        add(&t, PF_MLP_DOWN, l, 2, D, I, 0);
    }
    add(&t, PF_NORM_F, -1, 1, D, 0, 0);
    add(&t, PF_LM_HEAD, -1, 2, V, D, 0);
    return t.n;
}

double forget_gate_tau(int h, int H) {
    if (H <= 1) return 1024.0;
    return 16.0 * pow(16384.0 / 16.0, (double)h / (double)(H - 1));
}

double forget_gate_bias_init(int h, int H) {
    /* -softplus(bias) = -1/tau: the gate keeps exp(-1/tau) of the deviation per token */
    return log(expm1(1.0 / forget_gate_tau(h, H)));
}
