/* config.c: model configuration defaults, validation and (de)serialisation. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const variant_names[] = {"linear", "seed", "none"};

const char *ttt_variant_name(TttVariant v) {
    return (unsigned)v < 3 ? variant_names[v] : "?";
}

int ttt_variant_parse(const char *s, TttVariant *out) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, variant_names[i]) == 0) { *out = (TttVariant)i; return 0; }
    return -1;
}

void config_init(ModelConfig *c, int vocab, int dim, int layers, TttVariant variant) {
    memset(c, 0, sizeof *c);
    c->vocab_size = vocab;
    c->hidden_dim = dim;
    c->num_layers = layers;
    c->intermediate_dim = 4 * dim;
    c->variant = variant;
    c->num_heads = dim >= 64 && dim % 64 == 0 ? dim / 64 : 1;
    c->mini_batch = 16;
    c->base_lr = 1.0f;
    c->state_decay = 1.0f;
    c->inner_lr = 0.1f;
    c->act_quant = 1;
    c->rms_eps = 1e-5f;
}

int config_validate(const ModelConfig *c, const char *source, BittError *err) {
    if (c->vocab_size < 3 || c->vocab_size > CONFIG_MAX_VOCAB)
        return bitt_fail(err, "%s: config vocab_size %d out of range [3, %d]", source, c->vocab_size, CONFIG_MAX_VOCAB);
    if (c->hidden_dim < 4 || c->hidden_dim > CONFIG_MAX_DIM || c->hidden_dim % 4 != 0)
        return bitt_fail(err, "%s: config hidden_dim %d must be a multiple of 4 in [4, %d]", source, c->hidden_dim,
                         CONFIG_MAX_DIM);
    if (c->num_layers < 1 || c->num_layers > CONFIG_MAX_LAYERS)
        return bitt_fail(err, "%s: config num_layers %d out of range [1, %d]", source, c->num_layers, CONFIG_MAX_LAYERS);
    if (c->intermediate_dim < 1 || c->intermediate_dim > CONFIG_MAX_INTERMEDIATE)
        return bitt_fail(err, "%s: config intermediate_dim %d out of range [1, %d]", source, c->intermediate_dim,
                         CONFIG_MAX_INTERMEDIATE);
    if (c->num_heads < 1 || c->hidden_dim % c->num_heads != 0)
        return bitt_fail(err, "%s: config num_heads %d does not divide hidden_dim %d", source, c->num_heads, c->hidden_dim);
    if (c->mini_batch < 1 || c->mini_batch > CONFIG_MAX_MINI_BATCH)
        return bitt_fail(err, "%s: config mini_batch %d out of range [1, %d]", source, c->mini_batch,
                         CONFIG_MAX_MINI_BATCH);
    if (!isfinite(c->base_lr) || !isfinite(c->inner_lr) || !(c->rms_eps > 0) || !isfinite(c->rms_eps))
        return bitt_fail(err, "%s: config base_lr, inner_lr and rms_eps must be finite (rms_eps > 0)", source);
    if (!(c->state_decay > 0.0f && c->state_decay <= 1.0f))
        return bitt_fail(err, "%s: config state_decay %g must be in (0, 1]", source, (double)c->state_decay);
    if (c->forget_gate && c->variant != TTT_LINEAR)
        return bitt_fail(err, "%s: config forget_gate applies to ttt_variant linear only (this is '%s')", source,
                         ttt_variant_name(c->variant));
    if (c->forget_gate && c->state_decay != 1.0f)
        return bitt_fail(err, "%s: config forget_gate and state_decay %g < 1 are not combined (SPEC 1.2.1: the fixed "
                              "decay is the gate's special case; choose one)", source, (double)c->state_decay);
    if ((double)c->vocab_size * c->hidden_dim > CONFIG_MAX_VOCAB_X_DIM)
        return bitt_fail(err, "%s: config vocab_size x hidden_dim = %.0f is above the limit %.0f", source,
                         (double)c->vocab_size * c->hidden_dim, CONFIG_MAX_VOCAB_X_DIM);
    return 0;
}

/* Reads an optional integer member; returns -1 (error set) if present but bad. */
static int read_int(const JsonValue *obj, const char *key, const char *source, int lo, int hi,
                    int *out, BittError *err) {
    const JsonValue *v = json_get(obj, key);
    if (!v || v->type == JSON_NULL) return 0;
    int64_t x;
    if (!json_get_int(obj, key, lo, hi, &x))
        return bitt_fail(err, "%s: config '%s' must be an integer in [%d, %d]", source, key, lo, hi);
    *out = (int)x;
    return 0;
}

static int read_float(const JsonValue *obj, const char *key, const char *source, float *out,
                      BittError *err) {
    const JsonValue *v = json_get(obj, key);
    if (!v || v->type == JSON_NULL) return 0;
    if (v->type != JSON_NUMBER || !isfinite(v->u.number))
        return bitt_fail(err, "%s: config '%s' must be a number", source, key);
    *out = (float)v->u.number;
    return 0;
}

int config_from_json(const JsonValue *obj, const char *source, ModelConfig *c, BittError *err) {
    if (!obj || obj->type != JSON_OBJECT) return bitt_fail(err, "%s: config is not a JSON object", source);
    int vocab = 0, dim = 0, layers = 0;
    if (read_int(obj, "vocab_size", source, 3, CONFIG_MAX_VOCAB, &vocab, err) ||
        read_int(obj, "hidden_dim", source, 4, CONFIG_MAX_DIM, &dim, err) ||
        read_int(obj, "num_layers", source, 1, CONFIG_MAX_LAYERS, &layers, err))
        return -1;
    if (!vocab || !dim || !layers)
        return bitt_fail(err, "%s: config needs vocab_size, hidden_dim and num_layers", source);
    /* The seed's config.json has only these keys (+ inner_lr): variant seed, no act quant. */
    const JsonValue *variant = json_get(obj, "ttt_variant");
    TttVariant v = TTT_SEED;
    int seed_form = variant == NULL;
    if (variant) {
        if (variant->type != JSON_STRING || ttt_variant_parse(variant->u.string.ptr, &v) != 0)
            return bitt_fail(err, "%s: unknown ttt_variant %s%s%s (expected linear, seed or none)", source,
                             variant->type == JSON_STRING ? "'" : "",
                             variant->type == JSON_STRING ? variant->u.string.ptr : "(not a string)",
                             variant->type == JSON_STRING ? "'" : "");
    }
    config_init(c, vocab, dim, layers, v);
    if (seed_form) c->act_quant = 0;
    if (read_int(obj, "intermediate_dim", source, 1, CONFIG_MAX_INTERMEDIATE, &c->intermediate_dim, err) ||
        read_int(obj, "num_heads", source, 1, CONFIG_MAX_DIM, &c->num_heads, err) ||
        read_int(obj, "mini_batch", source, 1, CONFIG_MAX_MINI_BATCH, &c->mini_batch, err) ||
        read_float(obj, "base_lr", source, &c->base_lr, err) ||
        read_float(obj, "state_decay", source, &c->state_decay, err) ||
        read_float(obj, "inner_lr", source, &c->inner_lr, err) ||
        read_float(obj, "rms_eps", source, &c->rms_eps, err))
        return -1;
    const JsonValue *fg = json_get(obj, "forget_gate");
    if (fg && fg->type != JSON_NULL) {
        if (fg->type != JSON_BOOL) return bitt_fail(err, "%s: config forget_gate must be true or false", source);
        c->forget_gate = fg->u.boolean;
    }
    const JsonValue *aq = json_get(obj, "act_quant");
    if (aq && aq->type != JSON_NULL) {
        if (aq->type == JSON_STRING && strcmp(aq->u.string.ptr, "none") == 0) c->act_quant = 0;
        else if (aq->type == JSON_STRING && strcmp(aq->u.string.ptr, "int8") == 0) c->act_quant = 1;
        else return bitt_fail(err, "%s: config act_quant must be \"int8\" or \"none\"", source);
    }
    return config_validate(c, source, err);
}

/* The double whose shortest text is the shortest text of the float x, so
 * that 1e-5f is written as 1e-05 rather than 9.99999974737875e-06. */
static double float_for_json(float x) {
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
        if ((float)strtod(buf, NULL) == x) break;
    }
    return strtod(buf, NULL);
}

void config_write_json(const ModelConfig *c, JsonWriter *w) {
    jw_begin_object(w);
    jw_key(w, "vocab_size"); jw_int(w, c->vocab_size);
    jw_key(w, "hidden_dim"); jw_int(w, c->hidden_dim);
    jw_key(w, "num_layers"); jw_int(w, c->num_layers);
    jw_key(w, "intermediate_dim"); jw_int(w, c->intermediate_dim);
    jw_key(w, "ttt_variant"); jw_string(w, ttt_variant_name(c->variant));
    jw_key(w, "num_heads"); jw_int(w, c->num_heads);
    jw_key(w, "mini_batch"); jw_int(w, c->mini_batch);
    jw_key(w, "base_lr"); jw_number(w, float_for_json(c->base_lr));
    if (c->state_decay != 1.0f) { /* absent: SPEC 1.2 as written */
        jw_key(w, "state_decay"); jw_number(w, float_for_json(c->state_decay));
    }
    if (c->forget_gate) { /* absent: no gate (files from before SPEC 1.2.1 load unchanged) */
        jw_key(w, "forget_gate"); jw_bool(w, 1);
    }
    jw_key(w, "inner_lr"); jw_number(w, float_for_json(c->inner_lr));
    jw_key(w, "act_quant"); jw_string(w, c->act_quant ? "int8" : "none");
    jw_key(w, "rms_eps"); jw_number(w, float_for_json(c->rms_eps));
    jw_end_object(w);
}
