/* tokenizer_json.c: reading and writing Hugging Face tokenizer.json for the
 * byte-level BPE runtime. Reads model.type "BPE" (vocab, merges as "a b" or
 * ["a","b"], unk_token, fuse_unk, ignore_merges), added_tokens, and checks
 * that the pipeline is one this runtime reproduces: a ByteLevel
 * pre-tokenizer (alone or in a Sequence), no normalizer, a ByteLevel decoder
 * or none. Writes the full tokenizer.json object that `tokenizers` loads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fileio.h"
#include "tokenizer_internal.h"

#define SHOW 40
#define SHOWN(len) ((int)((len) < SHOW ? (len) : SHOW))
#define MAX_FILE_BYTES ((size_t)1 << 30) /* a tokenizer.json larger than 1 GiB is refused unread */

static const char *type_name(const JsonValue *v) {
    if (!v) return "missing";
    switch (v->type) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "a boolean";
    case JSON_NUMBER: return "a number";
    case JSON_STRING: return "a string";
    case JSON_ARRAY: return "an array";
    case JSON_OBJECT: return "an object";
    }
    return "?";
}

/* Reads an optional boolean member into *out (default kept when absent or
 * null); any other type is an error. */
static int get_bool(const Tokenizer *tok, const JsonValue *obj, const char *where, const char *key,
                    int *out, BittError *err) {
    const JsonValue *v = json_get(obj, key);
    if (!v || v->type == JSON_NULL) return 0;
    if (v->type != JSON_BOOL)
        return bitt_fail(err, "%s: %s.%s must be a boolean, not %s", tok->source, where, key, type_name(v));
    *out = v->u.boolean;
    return 0;
}

static int read_vocab(Tokenizer *tok, const JsonValue *model, BittError *err) {
    const JsonValue *vocab = json_get(model, "vocab");
    size_t i;
    if (!vocab) return bitt_fail(err, "%s: model.vocab is missing", tok->source);
    if (vocab->type != JSON_OBJECT)
        return bitt_fail(err, "%s: model.vocab must be an object, not %s", tok->source, type_name(vocab));
    for (i = 0; i < vocab->u.object.count; i++) {
        const JsonMember *m = &vocab->u.object.members[i];
        double x = m->value.u.number;
        if (m->value.type != JSON_NUMBER)
            return bitt_fail(err, "%s: model.vocab token '%.*s' has %s as its id, not an integer",
                             tok->source, SHOWN(m->key_len), m->key, type_name(&m->value));
        if (!(x >= 0 && x < TOK_MAX_ID) || x != (double)(int64_t)x)
            return bitt_fail(err, "%s: model.vocab token '%.*s' has id %g: ids must be integers in 0..%d",
                             tok->source, SHOWN(m->key_len), m->key, x, TOK_MAX_ID - 1);
        if (tok_add_vocab(tok, m->key, m->key_len, (int64_t)x, err)) return -1;
    }
    return 0;
}

static int read_added(Tokenizer *tok, const JsonValue *root, BittError *err) {
    const JsonValue *arr = json_get(root, "added_tokens");
    size_t i;
    if (!arr || arr->type == JSON_NULL) return 0;
    if (arr->type != JSON_ARRAY)
        return bitt_fail(err, "%s: added_tokens must be an array, not %s", tok->source, type_name(arr));
    for (i = 0; i < arr->u.array.count; i++) {
        const JsonValue *t = &arr->u.array.items[i];
        const JsonValue *content = json_get(t, "content");
        const JsonValue *idv = json_get(t, "id");
        AddedTok a;
        int special = 0, single_word = 0, lstrip = 0, rstrip = 0, normalized;
        char where[48];
        snprintf(where, sizeof where, "added_tokens[%zu]", i);
        if (t->type != JSON_OBJECT)
            return bitt_fail(err, "%s: %s must be an object, not %s", tok->source, where, type_name(t));
        if (!content || content->type != JSON_STRING)
            return bitt_fail(err, "%s: %s.content must be a string, not %s", tok->source, where,
                             type_name(content));
        if (!idv || idv->type != JSON_NUMBER)
            return bitt_fail(err, "%s: %s ('%.*s') needs an integer id, not %s", tok->source, where,
                             SHOWN(content->u.string.len), content->u.string.ptr, type_name(idv));
        if (!(idv->u.number >= 0 && idv->u.number < TOK_MAX_ID) ||
            idv->u.number != (double)(int64_t)idv->u.number)
            return bitt_fail(err, "%s: %s ('%.*s') has id %g: ids must be integers in 0..%d", tok->source,
                             where, SHOWN(content->u.string.len), content->u.string.ptr, idv->u.number,
                             TOK_MAX_ID - 1);
        if (get_bool(tok, t, where, "special", &special, err)) return -1;
        normalized = !special; /* the tokenizers default */
        if (get_bool(tok, t, where, "single_word", &single_word, err) ||
            get_bool(tok, t, where, "lstrip", &lstrip, err) || get_bool(tok, t, where, "rstrip", &rstrip, err) ||
            get_bool(tok, t, where, "normalized", &normalized, err))
            return -1;
        memset(&a, 0, sizeof a);
        a.special = (uint8_t)special;
        a.single_word = (uint8_t)single_word;
        a.lstrip = (uint8_t)lstrip;
        a.rstrip = (uint8_t)rstrip;
        a.normalized = (uint8_t)normalized;
        if (tok_add_added(tok, content->u.string.ptr, content->u.string.len, (int64_t)idv->u.number, &a, err))
            return -1;
    }
    return 0;
}

static int read_merges(Tokenizer *tok, const JsonValue *model, BittError *err) {
    const JsonValue *arr = json_get(model, "merges");
    size_t i;
    if (!arr || arr->type == JSON_NULL) return 0;
    if (arr->type != JSON_ARRAY)
        return bitt_fail(err, "%s: model.merges must be an array, not %s", tok->source, type_name(arr));
    for (i = 0; i < arr->u.array.count; i++) {
        const JsonValue *m = &arr->u.array.items[i];
        char what[48];
        snprintf(what, sizeof what, "model.merges[%zu]", i);
        if (m->type == JSON_STRING) {
            const char *s = m->u.string.ptr, *sp = memchr(s, ' ', m->u.string.len);
            size_t len = m->u.string.len;
            if (!sp || sp == s || sp + 1 == s + len || memchr(sp + 1, ' ', len - (size_t)(sp + 1 - s)))
                return bitt_fail(err, "%s: %s '%.*s' is not two tokens separated by one space", tok->source,
                                 what, SHOWN(len), s);
            if (tok_add_merge(tok, s, (size_t)(sp - s), sp + 1, len - (size_t)(sp + 1 - s), what, err)) return -1;
        } else if (m->type == JSON_ARRAY && m->u.array.count == 2 && m->u.array.items[0].type == JSON_STRING &&
                   m->u.array.items[1].type == JSON_STRING) {
            const JsonValue *a = &m->u.array.items[0], *b = &m->u.array.items[1];
            if (tok_add_merge(tok, a->u.string.ptr, a->u.string.len, b->u.string.ptr, b->u.string.len, what, err))
                return -1;
        } else {
            return bitt_fail(err, "%s: %s has the wrong shape: expected \"a b\" or [\"a\", \"b\"], got %s%s",
                             tok->source, what, type_name(m),
                             m->type == JSON_ARRAY ? " of another length or with non-strings" : "");
        }
    }
    return 0;
}

/* Checks one pre-tokenizer object: ByteLevel (its options read) or a
 * Sequence of exactly one ByteLevel. */
static int read_pre_tokenizer(Tokenizer *tok, const JsonValue *pt, int depth, BittError *err) {
    const char *type = json_get_string(pt, "type");
    if (!pt || pt->type == JSON_NULL)
        return bitt_fail(err, "%s: pre_tokenizer is missing: this runtime needs the ByteLevel pre-tokenizer",
                         tok->source);
    if (pt->type != JSON_OBJECT || !type)
        return bitt_fail(err, "%s: pre_tokenizer must be an object with a \"type\"", tok->source);
    if (strcmp(type, "ByteLevel") == 0) {
        tok->add_prefix_space = 1; /* the ByteLevel defaults */
        tok->use_regex = 1;
        if (get_bool(tok, pt, "pre_tokenizer", "add_prefix_space", &tok->add_prefix_space, err) ||
            get_bool(tok, pt, "pre_tokenizer", "use_regex", &tok->use_regex, err))
            return -1;
        return 0;
    }
    if (strcmp(type, "Sequence") == 0 && depth == 0) {
        const JsonValue *list = json_get_typed(pt, "pretokenizers", JSON_ARRAY);
        if (!list || list->u.array.count != 1) {
            const char *other = NULL;
            size_t i;
            for (i = 0; list && i < list->u.array.count; i++) {
                const char *t = json_get_string(&list->u.array.items[i], "type");
                if (!t || strcmp(t, "ByteLevel") != 0) {
                    other = t ? t : "?";
                    break;
                }
            }
            return bitt_fail(err, "%s: unsupported pre_tokenizer: a Sequence must hold just one ByteLevel%s%s%s",
                             tok->source, other ? " (it has '" : "", other ? other : "", other ? "')" : "");
        }
        return read_pre_tokenizer(tok, &list->u.array.items[0], 1, err);
    }
    return bitt_fail(err, "%s: unsupported pre_tokenizer type '%s' (only ByteLevel is supported)", tok->source,
                     type);
}

/* A normalizer or decoder: null, absent, one of the allowed types, or a
 * Sequence of those (listed under list_key). */
static int check_stage(const Tokenizer *tok, const JsonValue *v, const char *what, const char *allowed,
                       const char *list_key, BittError *err) {
    const char *type;
    if (!v || v->type == JSON_NULL) return 0;
    type = json_get_string(v, "type");
    if (v->type != JSON_OBJECT || !type)
        return bitt_fail(err, "%s: %s must be null or an object with a \"type\"", tok->source, what);
    if (allowed && strcmp(type, allowed) == 0) return 0;
    if (strcmp(type, "Sequence") == 0) {
        const JsonValue *list = json_get_typed(v, list_key, JSON_ARRAY);
        size_t i;
        if (!list) return bitt_fail(err, "%s: %s Sequence lacks its \"%s\" array", tok->source, what, list_key);
        for (i = 0; i < list->u.array.count; i++)
            if (check_stage(tok, &list->u.array.items[i], what, allowed, list_key, err)) return -1;
        return 0;
    }
    return bitt_fail(err, "%s: unsupported %s type '%s'%s%s", tok->source, what, type,
                     allowed ? ": only " : " (only none is supported)", allowed ? allowed : "");
}

static int read_model_options(Tokenizer *tok, const JsonValue *model, BittError *err) {
    const JsonValue *unk = json_get(model, "unk_token");
    static const char *const unsupported[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    size_t i;
    for (i = 0; i < 2; i++) {
        const char *s = json_get_string(model, unsupported[i]);
        if (s && *s)
            return bitt_fail(err, "%s: model.%s '%s' is not supported by the byte-level runtime", tok->source,
                             unsupported[i], s);
    }
    if (unk && unk->type != JSON_NULL) {
        if (unk->type != JSON_STRING)
            return bitt_fail(err, "%s: model.unk_token must be a string or null, not %s", tok->source,
                             type_name(unk));
        if (tok_set_unk(tok, unk->u.string.ptr, err)) return -1;
    }
    if (get_bool(tok, model, "model", "fuse_unk", &tok->fuse_unk, err) ||
        get_bool(tok, model, "model", "ignore_merges", &tok->ignore_merges, err))
        return -1;
    return 0;
}

Tokenizer *tokenizer_from_json(const JsonValue *root, const char *source, BittError *err) {
    Tokenizer *tok = tok_new(source, err);
    const JsonValue *model;
    const char *type;
    if (!tok) return NULL;
    if (!root || root->type != JSON_OBJECT) {
        bitt_fail(err, "%s: a tokenizer.json must be a JSON object, not %s", tok->source, type_name(root));
        goto fail;
    }
    model = json_get(root, "model");
    if (!model || model->type != JSON_OBJECT) {
        bitt_fail(err, "%s: \"model\" must be an object, not %s", tok->source, type_name(model));
        goto fail;
    }
    type = json_get_string(model, "type");
    if (json_get(model, "type") && (!type || strcmp(type, "BPE") != 0)) {
        bitt_fail(err, "%s: unsupported tokenizer model type '%s' (only BPE is supported)", tok->source,
                  type ? type : type_name(json_get(model, "type")));
        goto fail;
    }
    if (read_model_options(tok, model, err) || read_vocab(tok, model, err) || read_added(tok, root, err) ||
        read_merges(tok, model, err) || read_pre_tokenizer(tok, json_get(root, "pre_tokenizer"), 0, err) ||
        check_stage(tok, json_get(root, "normalizer"), "normalizer", NULL, "normalizers", err) ||
        check_stage(tok, json_get(root, "decoder"), "decoder", "ByteLevel", "decoders", err) ||
        tok_finish(tok, err))
        goto fail;
    return tok;
fail:
    tokenizer_free(tok);
    return NULL;
}

Tokenizer *tokenizer_load_file(const char *path, BittError *err) {
    uint8_t *text;
    size_t size;
    JsonDoc *doc;
    Tokenizer *tok;
    /* a regular file only (a FIFO is refused, not waited on), its size checked before the read */
    if (file_read_limited(path, MAX_FILE_BYTES, &text, &size, err)) {
        bitt_fail_prefix(err, "cannot read the tokenizer file");
        return NULL;
    }
    doc = json_parse((const char *)text, size, path, err);
    free(text);
    if (!doc) return NULL;
    tok = tokenizer_from_json(json_doc_root(doc), path, err);
    json_doc_free(doc);
    return tok;
}

/* ---- writing ---- */

static const char *vocab_str(const Tokenizer *tok, int32_t id, size_t *len) {
    const TokEntry *e = &tok->entries[tok->id_entry[id]];
    *len = e->len;
    return tok->pool + e->off;
}

static void write_added(const Tokenizer *tok, JsonWriter *w) {
    size_t i;
    jw_begin_array(w);
    /* in id order: tok_finish() sorted them so (a scan of them per id was quadratic) */
    for (i = 0; i < tok->n_added; i++) {
        const AddedTok *a = &tok->added[i];
        const TokEntry *e = &tok->entries[a->entry];
        jw_begin_object(w);
        jw_key(w, "id");
        jw_int(w, e->id);
        jw_key(w, "content");
        jw_string_len(w, tok->pool + e->off, e->len);
        jw_key(w, "single_word");
        jw_bool(w, a->single_word);
        jw_key(w, "lstrip");
        jw_bool(w, a->lstrip);
        jw_key(w, "rstrip");
        jw_bool(w, a->rstrip);
        jw_key(w, "normalized");
        jw_bool(w, a->normalized);
        jw_key(w, "special");
        jw_bool(w, a->special);
        jw_end_object(w);
    }
    jw_end_array(w);
}

static void write_byte_level(JsonWriter *w, int add_prefix_space, int use_regex) {
    jw_begin_object(w);
    jw_key(w, "type");
    jw_string(w, "ByteLevel");
    jw_key(w, "add_prefix_space");
    jw_bool(w, add_prefix_space);
    jw_key(w, "trim_offsets");
    jw_bool(w, 1);
    jw_key(w, "use_regex");
    jw_bool(w, use_regex);
    jw_end_object(w);
}

void tokenizer_write_json(const Tokenizer *tok, JsonWriter *w) {
    int32_t id;
    size_t i, len, len2;
    const char *s, *s2;
    jw_begin_object(w);
    jw_key(w, "version");
    jw_string(w, "1.0");
    jw_key(w, "truncation");
    jw_null(w);
    jw_key(w, "padding");
    jw_null(w);
    jw_key(w, "added_tokens");
    write_added(tok, w);
    jw_key(w, "normalizer");
    jw_null(w);
    jw_key(w, "pre_tokenizer");
    write_byte_level(w, tok->add_prefix_space, tok->use_regex);
    jw_key(w, "post_processor");
    jw_null(w);
    jw_key(w, "decoder");
    write_byte_level(w, 1, 1);
    jw_key(w, "model");
    jw_begin_object(w);
    jw_key(w, "type");
    jw_string(w, "BPE");
    jw_key(w, "dropout");
    jw_null(w);
    jw_key(w, "unk_token");
    jw_string(w, tok->unk_token); /* NULL writes null */
    jw_key(w, "continuing_subword_prefix");
    jw_null(w);
    jw_key(w, "end_of_word_suffix");
    jw_null(w);
    jw_key(w, "fuse_unk");
    jw_bool(w, tok->fuse_unk);
    jw_key(w, "byte_fallback");
    jw_bool(w, 0);
    jw_key(w, "ignore_merges");
    jw_bool(w, tok->ignore_merges);
    jw_key(w, "vocab");
    jw_begin_object(w);
    for (id = 0; id < tok->n_ids; id++) {
        if (!(tok->id_flags[id] & TOK_IN_VOCAB)) continue;
        s = vocab_str(tok, id, &len);
        jw_key(w, s); /* vocab strings hold no NUL (checked at load) */
        jw_int(w, id);
    }
    jw_end_object(w);
    jw_key(w, "merges");
    jw_begin_array(w);
    for (i = 0; i < tok->n_merges; i++) {
        s = vocab_str(tok, tok->merge_list[2 * i], &len);
        s2 = vocab_str(tok, tok->merge_list[2 * i + 1], &len2);
        jw_begin_array(w);
        jw_string_len(w, s, len);
        jw_string_len(w, s2, len2);
        jw_end_array(w);
    }
    jw_end_array(w);
    jw_end_object(w);
    jw_end_object(w);
}

int tokenizer_save_file(const Tokenizer *tok, const char *path, BittError *err) {
    JsonWriter w;
    const char *text;
    FILE *f;
    size_t len;
    int ok;
    jw_init(&w, 0);
    tokenizer_write_json(tok, &w);
    text = jw_text(&w);
    if (!text) {
        jw_free(&w);
        return bitt_fail(err, "%s: out of memory writing the tokenizer JSON", path);
    }
    len = strlen(text);
    if (!(f = file_open_write(path, 0, err))) {
        jw_free(&w);
        return -1;
    }
    ok = fwrite(text, 1, len, f) == len && fputc('\n', f) != EOF;
    ok = (fclose(f) == 0) && ok;
    jw_free(&w);
    if (!ok) return bitt_fail(err, "%s: write error", path);
    return 0;
}
