/* model_file.h: a model to and from its files (SPEC 3.1, 3.3): `.bitt` v1
 * (float32 latent weights) and v2 (packed 2-bit ternary + scales, f16 or
 * int8-row embed and lm_head, 64-byte aligned data), and checkpoint directories
 * (config.json, tokenizer.json, model.safetensors). */
#ifndef BITT_MODEL_FILE_H
#define BITT_MODEL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "../formats/safetensors.h"

/* Loads a .bitt file or a checkpoint directory (or a training run
 * directory without config.json: its RUN/checkpoint). keep_latent keeps float
 * latent weights when the file has them (for lossless conversion). */
Model *model_load(const char *path, int keep_latent, BittError *err);
/* Loads a .bitt lean (inference only; what model_load does for a mapped
 * file without keep_latent): I8 rows and the 2-bit codes stay in v's bytes
 * (a mapping, or a malloc'd copy, file_view_*), and the model owns v (a
 * malloc'd FileView) from then on: it is closed and freed with the model,
 * or before returning when the load fails or nothing points into it. */
struct FileView;
Model *model_load_bitt_view(struct FileView *v, const char *source, BittError *err);
/* Loads a .bitt file from memory (the buffer may be freed afterwards). */
Model *model_load_bitt_memory(const uint8_t *buf, size_t len, const char *source, int keep_latent,
                              BittError *err);
/* A checkpoint directory's model from its parts once read: config.json's
 * object (config_source names it in messages), the tokenizer (taken over:
 * freed on failure too) and model.safetensors. model_load reads a directory
 * through this; the fuzz harness (tests/fuzz) calls it on bytes. */
Model *model_from_checkpoint_parts(const JsonValue *config, const char *config_source, Tokenizer *tok,
                                   const SafeTensors *st, int keep_latent, BittError *err);
/* Fills m's weights from a safetensors set (float or packed BitLinear forms). */
int model_load_tensors(Model *m, const SafeTensors *st, int keep_latent, BittError *err);

/* How .bitt v2 stores embed and lm_head (SPEC 3.3): F16, or I8 [V, D] with
 * NAME_row_scale F32 [V] (int8_rows.h; a quarter of the float bytes). */
typedef enum BittEmbedForm { BITT_EMBED_F16, BITT_EMBED_I8 } BittEmbedForm;

/* Serialises to .bitt version 1 or 2 in memory / to a file (atomically); v2
 * with F16 embed / lm_head. A model holding int8 rows writes them dequantised
 * wherever the form is not I8. */
int model_save_bitt_memory(const Model *m, int version, uint8_t **buf, size_t *len, BittError *err);
int model_save_bitt(const Model *m, const char *path, int version, BittError *err);
/* The same with embed / lm_head in the given form (v2 only; v1 is float). */
int model_save_bitt_memory_as(const Model *m, int version, BittEmbedForm embed, uint8_t **buf, size_t *len,
                              BittError *err);
int model_save_bitt_as(const Model *m, const char *path, int version, BittEmbedForm embed, BittError *err);
/* Writes a checkpoint directory (temp dir + rename). */
int model_save_checkpoint(const Model *m, const char *dir, BittError *err);

#endif
