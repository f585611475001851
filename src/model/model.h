/* model.h: the Bit-Llama model in its run-time form (SPEC 1): weights,
 * the table of named parameters that drives loading, saving and hashing,
 * random initialisation, and the model fingerprint. */
#ifndef BITT_MODEL_H
#define BITT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/kernels.h"
#include "../tokenizer/tokenizer.h"
#include "../util/error.h"
#include "config.h"
#include "int8_rows.h"
#include "params.h"
#include "ternary.h"

/* A BitLinear projection: the quantised run-time weight plus, when the model
 * came from float32 weights and the caller asked to keep them, the latent
 * float weights (needed to write v1 files and checkpoints without loss). */
typedef struct BitLinear {
    TernaryMatrix q;
    float *latent;   /* rows x cols, or NULL */
    /* rows x ceil(cols / 4): the 2-bit codes (SPEC 3.3) inside the mapped
     * .bitt v2 of a lean model, where q.w is not held; NULL otherwise */
    const uint8_t *file_codes;
} BitLinear;

typedef struct LayerWeights {
    float *norm1;                 /* D */
    /* variant linear */
    BitLinear ttt_q, ttt_k, ttt_v, ttt_o;  /* D x D */
    float *lr_w, *lr_b;           /* H x D, H */
    float *forget_w, *forget_b;   /* H x D, H (forget_gate, SPEC 1.2.1), else NULL */
    float *W0, *b0;               /* H x f x f, H x f */
    float *ln_w, *ln_b;           /* H x f */
    float *post_norm;             /* D */
    /* variant seed */
    BitLinear ttt_down, ttt_up;   /* D/4 x D, D x D/4 */
    float *norm2;                 /* D */
    BitLinear gate, up, down;     /* I x D, I x D, D x I */
} LayerWeights;

/* A tensor of the model: its entry of the parameter table (params.h) and
 * where its values live: f32 for PARAM_F32, bl for BitLinear; a PARAM_EMBED
 * tensor is either float (f32, i8 NULL) or, loaded from an I8 .bitt v2, int8
 * rows (i8: the tensor itself, what is hashed and written) with f32 NULL, or
 * f32 a dequantised copy where a caller asked for floats (the float lm_head). */
typedef struct ParamRef {
    ParamSpec spec;
    float *f32;
    BitLinear *bl;
    Int8Matrix *i8;
} ParamRef;

typedef struct Model {
    ModelConfig cfg;
    float *embed;     /* V x D, or NULL when embed is int8 rows (embed_i8) */
    const Int8Matrix *embed_i8; /* V x D: the embed tensor's int8 rows (an I8 .bitt v2), or NULL */
    LayerWeights *layers;
    float *norm_f;    /* D */
    float *lm_head;   /* V x D: used for the logits when lm_head_i8 is NULL; may be NULL otherwise */
    Tokenizer *tok;   /* owned */
    ParamRef *params; /* every tensor of the model, in file order (param_table) */
    int n_params;
    int64_t n_values; /* parameter count */
    int bitt_version; /* format it was loaded from: 1, 2, or 0 for a checkpoint dir / new model */
    uint64_t fingerprint;
    const Kernels *kernels;
    /* V x D int8 rows used for the logits (NULL: the float lm_head): the
     * lm_head tensor's own rows when the file stored it as I8, else a
     * quantised copy (model_set_lm_head_int8) */
    Int8Matrix *lm_head_i8;
    /* the mapped .bitt (a FileView, fileio.h) that a lean load left tensors
     * in: I8 rows borrowed in place, ternary codes kept as the file's 2-bit
     * form while the backend holds its own repack; NULL otherwise. Owned. */
    struct FileView *mapped_file;
} Model;

/* The int8 codes of bl (rows x cols): q.w, or for a lean model the file's
 * 2-bit codes unpacked into *scratch (malloc'd; the caller frees it).
 * NULL when out of memory. */
const int8_t *bitlinear_codes(const BitLinear *bl, int8_t **scratch);
/* Lets the kernel drop the resident pages of [p, p + n) when they lie in
 * m's mapped file (a lean load: read again when touched); else nothing. */
void model_drop_file_pages(const Model *m, const void *p, size_t n);

/* Allocates a zeroed model for cfg (tok is taken over, may be NULL). */
Model *model_alloc(const ModelConfig *cfg, Tokenizer *tok, BittError *err);
void model_free(Model *m);
/* SPEC 1.2 / 1.2.1 initialisation from a seeded generator (the table's init
 * rules, in table order); keeps latent weights. */
void model_init_random(Model *m, uint64_t seed);
/* Quantises every BitLinear's latent weights into its ternary form. */
void model_quantize(Model *m);
/* Prepares backend layouts and computes the fingerprint; call once the weights are in. */
int model_finish_load(Model *m, BittError *err);
/* Computes the logits through int8 rows of lm_head (per-row scales,
 * int8_rows.h) instead of the float matrix: a quarter of the bytes per token,
 * at a small cost in precision. A model whose file stored lm_head as I8 does
 * this from the start with the file's rows. on = 0 goes to float: for such a
 * model that dequantises lm_head into a float copy (V x D x 4 bytes more);
 * on = 1 again frees the copy. */
int model_set_lm_head_int8(Model *m, int on, BittError *err);
/* p (a PARAM_EMBED tensor of m) takes over q as its int8 form and drops its
 * floats (the loader of I8 tensors). */
void model_param_set_i8(Model *m, ParamRef *p, Int8Matrix *q);
/* p's values as floats (n = spec.count): its floats, or its int8 rows
 * dequantised. For writers and the trainer. */
void model_param_values(const ParamRef *p, float *out);
/* Makes floats p's own form (dequantising and dropping int8 rows): for code
 * that writes new values into p->f32 (the trainer). */
int model_param_make_f32(Model *m, ParamRef *p, BittError *err);
/* Switches the model to another kernel backend (re-preparing its layouts). */
int model_use_kernels(Model *m, const Kernels *k, BittError *err);
/* Hash of the config and the weights as v2 stores them (ternary + scales,
 * f16 embed/lm_head, f32 rest): v1, v2 and checkpoint forms of one model agree.
 * Int8 embed/lm_head rows are hashed as the f16 of their values
 * (int8 * row_scale), so an I8 file and its F16 conversion agree too. */
uint64_t model_compute_fingerprint(const Model *m);

#endif
