/* token_file.c: reading, checking and writing token files and their JSON
 * sidecars (see token_file.h). */
#include "token_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../formats/json.h"
#include "../util/fileio.h"

#define MAX_SIDECAR_BYTES (64u << 20)
#define MAX_EXACT_COUNT 9007199254740992.0 /* 2^53: larger counts do not survive a JSON number */

uint64_t fnv1a64(const void *data, size_t len, uint64_t h) {
    const unsigned char *p = data;
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int tokenizer_fingerprint(const Tokenizer *tok, char hex[17], BittError *err) {
    JsonWriter w;
    const char *text;
    jw_init(&w, 0);
    tokenizer_write_json(tok, &w);
    if (!(text = jw_text(&w))) {
        jw_free(&w);
        return bitt_fail(err, "tokenizer fingerprint: out of memory");
    }
    snprintf(hex, 17, "%016llx", (unsigned long long)fnv1a64(text, strlen(text), FNV1A64_INIT));
    jw_free(&w);
    return 0;
}

int token_dtype_bytes(int32_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* path + suffix, malloc'd. */
static char *with_suffix(const char *path, const char *suffix) {
    size_t a = strlen(path), b = strlen(suffix);
    char *s = malloc(a + b + 1);
    if (s) {
        memcpy(s, path, a);
        memcpy(s + a, suffix, b + 1);
    }
    return s;
}

/* ---- reading ---- */

/* A required non-negative integer field of the sidecar. */
static int get_count(const JsonValue *root, const char *side, const char *key, double max, uint64_t *out,
                     BittError *err) {
    const JsonValue *v = json_get(root, key);
    if (!v) return bitt_fail(err, "%s: \"%s\" is missing", side, key);
    if (v->type != JSON_NUMBER || !(v->u.number >= 0 && v->u.number <= max) ||
        v->u.number != (double)(uint64_t)v->u.number)
        return bitt_fail(err, "%s: \"%s\" must be an integer in 0..%.0f", side, key, max);
    *out = (uint64_t)v->u.number;
    return 0;
}

/* Checks the sidecar's text (side names it) and fills tf's fields from it. */
static int parse_sidecar(TokenFile *tf, const char *side, const char *text, size_t len, BittError *err) {
    JsonDoc *doc;
    const JsonValue *root;
    const char *s;
    uint64_t version = 0, vocab = 0, eos = 0;
    int rc = -1;
    if (len > MAX_SIDECAR_BYTES)
        return bitt_fail(err, "%s: %zu bytes is too large for a sidecar (at most %u)", side, len, MAX_SIDECAR_BYTES);
    doc = json_parse(text, len, side, err);
    if (!doc) return -1;
    root = json_doc_root(doc);
    if (root->type != JSON_OBJECT) {
        bitt_fail(err, "%s: must be a JSON object", side);
        goto done;
    }
    s = json_get_string(root, "format");
    if (!s || strcmp(s, TOKEN_FILE_FORMAT) != 0) {
        bitt_fail(err, "%s: \"format\" is %s%s%s, not \"%s\"", side, s ? "\"" : "", s ? s : "missing",
                  s ? "\"" : "", TOKEN_FILE_FORMAT);
        goto done;
    }
    if (get_count(root, side, "version", 1e9, &version, err)) goto done;
    if (version != TOKEN_FILE_VERSION) {
        bitt_fail(err, "%s: version %llu is not supported (this build reads version %d)", side,
                  (unsigned long long)version, TOKEN_FILE_VERSION);
        goto done;
    }
    if (get_count(root, side, "vocab_size", 2147483647.0, &vocab, err) ||
        get_count(root, side, "token_count", MAX_EXACT_COUNT, &tf->n_tokens, err))
        goto done;
    if (vocab == 0) {
        bitt_fail(err, "%s: \"vocab_size\" is 0", side);
        goto done;
    }
    tf->vocab_size = (int32_t)vocab;
    s = json_get_string(root, "dtype");
    if (!s || (strcmp(s, "u16") != 0 && strcmp(s, "u32") != 0)) {
        bitt_fail(err, "%s: \"dtype\" is %s%s%s: it must be \"u16\" or \"u32\"", side, s ? "\"" : "",
                  s ? s : "missing", s ? "\"" : "");
        goto done;
    }
    tf->dtype_bytes = s[1] == '1' ? 2 : 4;
    if (tf->dtype_bytes == 2 && vocab > 65536) {
        bitt_fail(err, "%s: dtype \"u16\" cannot hold the ids of a %llu-id vocabulary (it needs \"u32\")", side,
                  (unsigned long long)vocab);
        goto done;
    }
    if (json_get(root, "text_bytes") && get_count(root, side, "text_bytes", MAX_EXACT_COUNT, &tf->text_bytes, err))
        goto done;
    if (json_get(root, "documents") && get_count(root, side, "documents", MAX_EXACT_COUNT, &tf->n_documents, err))
        goto done;
    tf->eos_id = -1;
    if (json_get(root, "eos_id")) {
        if (get_count(root, side, "eos_id", 2147483647.0, &eos, err)) goto done;
        if (eos >= vocab) {
            bitt_fail(err, "%s: eos_id %llu is outside the vocabulary (%llu ids)", side, (unsigned long long)eos,
                      (unsigned long long)vocab);
            goto done;
        }
        tf->eos_id = (int32_t)eos;
    }
    s = json_get_string(root, "tokenizer_fingerprint");
    if (!s || strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16) {
        bitt_fail(err, "%s: \"tokenizer_fingerprint\" must be 16 lower-case hex digits", side);
        goto done;
    }
    memcpy(tf->fingerprint, s, 17);
    rc = 0;
done:
    json_doc_free(doc);
    return rc;
}

static int read_sidecar(TokenFile *tf, const char *side, BittError *err) {
    uint8_t *text = NULL;
    size_t len;
    BittError why;
    int rc;
    if (file_read_limited(side, MAX_SIDECAR_BYTES, &text, &len, &why))
        return bitt_fail(err, "%s: the sidecar of %s cannot be read (%s; token files are made by "
                         "bitt prepare, which writes both)", side, tf->path, why.message);
    rc = parse_sidecar(tf, side, (const char *)text, len, err);
    free(text);
    return rc;
}

/* The token bytes' size against the sidecar, before anything is allocated. */
static int check_token_bytes(const TokenFile *tf, uint64_t size, BittError *err) {
    uint64_t want = tf->n_tokens * (uint64_t)tf->dtype_bytes;
    if (size % (uint64_t)tf->dtype_bytes != 0)
        return bitt_fail(err, "%s: %llu bytes is not a whole number of %s tokens (%d bytes each): the file is "
                         "damaged or its sidecar names the wrong dtype", tf->path, (unsigned long long)size,
                         tf->dtype_bytes == 2 ? "u16" : "u32", tf->dtype_bytes);
    if (size != want)
        return bitt_fail(err, "%s: the file has %llu bytes but its sidecar says %llu %s tokens (%llu bytes): %s",
                         tf->path, (unsigned long long)size, (unsigned long long)tf->n_tokens,
                         tf->dtype_bytes == 2 ? "u16" : "u32", (unsigned long long)want,
                         size < want ? "truncated" : "the file and the sidecar disagree");
    if (want > (uint64_t)(size_t)-1 / 2)
        return bitt_fail(err, "%s: out of memory loading %llu bytes", tf->path, (unsigned long long)want);
    return 0;
}

/* Every loaded id against the vocabulary. */
static int check_token_ids(const TokenFile *tf, BittError *err) {
    uint64_t i;
    for (i = 0; i < tf->n_tokens; i++) {
        int32_t id = token_file_get(tf, i);
        if (id < 0 || id >= tf->vocab_size)
            return bitt_fail(err, "%s: token %lld at position %llu is outside the vocabulary (%d ids)", tf->path,
                             (long long)(uint32_t)id, (unsigned long long)i, (int)tf->vocab_size);
    }
    return 0;
}

static int load_tokens(TokenFile *tf, BittError *err) {
    FILE *f = file_open_read(tf->path, err); /* a FIFO or device is refused, not waited on */
    struct stat st;
    uint64_t want = tf->n_tokens * (uint64_t)tf->dtype_bytes;
    size_t got;
    if (!f) return -1;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return bitt_fail(err, "%s: cannot stat: %s", tf->path, strerror(errno));
    }
    if (check_token_bytes(tf, (uint64_t)st.st_size, err)) {
        fclose(f);
        return -1;
    }
    if (!(tf->data = malloc(want ? (size_t)want : 1))) {
        fclose(f);
        return bitt_fail(err, "%s: out of memory loading %llu bytes", tf->path, (unsigned long long)want);
    }
    got = want ? fread(tf->data, 1, (size_t)want, f) : 0;
    fclose(f);
    if (got != want) return bitt_fail(err, "%s: read error (%zu of %llu bytes)", tf->path, got, (unsigned long long)want);
    return check_token_ids(tf, err);
}

/* The tokenizer check shared by both openers: same fingerprint and vocabulary. */
static int check_tokenizer(const TokenFile *tf, const char *path, const char *side, const Tokenizer *tok,
                           const char *tokenizer_path, BittError *err) {
    char fp[17];
    const char *tname = tokenizer_path ? tokenizer_path : "the tokenizer";
    if (!tok) return 0;
    if (tokenizer_fingerprint(tok, fp, err)) return -1;
    if (strcmp(fp, tf->fingerprint) != 0)
        return bitt_fail(err, "%s was made with another tokenizer than %s: tokenizer fingerprint %s in %s, %s for %s "
                         "(run bitt prepare again with this tokenizer)", path, tname, tf->fingerprint, side, fp, tname);
    if (tokenizer_vocab_size(tok) != tf->vocab_size)
        return bitt_fail(err, "%s: vocab_size %d in %s, but %s has %d ids", path, (int)tf->vocab_size, side, tname,
                         tokenizer_vocab_size(tok));
    return 0;
}

int token_file_open(TokenFile *tf, const char *path, const Tokenizer *tok, const char *tokenizer_path,
                    BittError *err) {
    char *side;
    memset(tf, 0, sizeof *tf);
    if (!(tf->path = dup_str(path)) || !(side = with_suffix(path, ".json"))) {
        free(tf->path);
        tf->path = NULL;
        return bitt_fail(err, "%s: out of memory", path);
    }
    if (read_sidecar(tf, side, err)) goto fail;
    if (check_tokenizer(tf, path, side, tok, tokenizer_path, err)) goto fail;
    if (load_tokens(tf, err)) goto fail;
    free(side);
    return 0;
fail:
    free(side);
    token_file_close(tf);
    return -1;
}

int token_file_open_memory(TokenFile *tf, const char *path, const uint8_t *tokens, size_t tokens_len,
                           const char *sidecar, size_t sidecar_len, const Tokenizer *tok, const char *tokenizer_path,
                           BittError *err) {
    char *side;
    memset(tf, 0, sizeof *tf);
    if (!(tf->path = dup_str(path)) || !(side = with_suffix(path, ".json"))) {
        free(tf->path);
        tf->path = NULL;
        return bitt_fail(err, "%s: out of memory", path);
    }
    if (parse_sidecar(tf, side, sidecar, sidecar_len, err) || check_tokenizer(tf, path, side, tok, tokenizer_path, err) ||
        check_token_bytes(tf, tokens_len, err))
        goto fail;
    if (!(tf->data = malloc(tokens_len ? tokens_len : 1))) {
        bitt_fail(err, "%s: out of memory loading %zu bytes", path, tokens_len);
        goto fail;
    }
    if (tokens_len) memcpy(tf->data, tokens, tokens_len);
    if (check_token_ids(tf, err)) goto fail;
    free(side);
    return 0;
fail:
    free(side);
    token_file_close(tf);
    return -1;
}

void token_file_close(TokenFile *tf) {
    free(tf->path);
    free(tf->data);
    memset(tf, 0, sizeof *tf);
}

void token_file_read(const TokenFile *tf, uint64_t start, size_t n, int32_t *out) {
    size_t i;
    for (i = 0; i < n; i++) out[i] = token_file_get(tf, start + i);
}

/* ---- writing ---- */

int token_writer_open(TokenWriter *w, const char *path, int32_t vocab_size, BittError *err) {
    memset(w, 0, sizeof *w);
    if (vocab_size <= 0) return bitt_fail(err, "%s: vocab size %d is not positive", path, (int)vocab_size);
    w->vocab_size = vocab_size;
    w->dtype_bytes = token_dtype_bytes(vocab_size);
    if (!(w->path = dup_str(path)) || !(w->tmp_path = with_suffix(path, ".tmp"))) {
        token_writer_abort(w);
        return bitt_fail(err, "%s: out of memory", path);
    }
    if (!(w->f = file_open_write(w->tmp_path, 0, err))) {
        token_writer_abort(w);
        return -1;
    }
    return 0;
}

static int flush_buf(TokenWriter *w, BittError *err) {
    if (w->buf_len && fwrite(w->buf, 1, w->buf_len, w->f) != w->buf_len)
        return bitt_fail(err, "%s: write error: %s", w->tmp_path, strerror(errno));
    w->buf_len = 0;
    return 0;
}

int token_writer_write(TokenWriter *w, const int32_t *ids, size_t n, BittError *err) {
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t v = (uint32_t)ids[i];
        if (ids[i] < 0 || ids[i] >= w->vocab_size)
            return bitt_fail(err, "%s: token id %d is outside the vocabulary (%d ids)", w->path, (int)ids[i],
                             (int)w->vocab_size);
        if (w->buf_len + 4 > sizeof w->buf && flush_buf(w, err)) return -1;
        w->buf[w->buf_len++] = (uint8_t)v;
        w->buf[w->buf_len++] = (uint8_t)(v >> 8);
        if (w->dtype_bytes == 4) {
            w->buf[w->buf_len++] = (uint8_t)(v >> 16);
            w->buf[w->buf_len++] = (uint8_t)(v >> 24);
        }
    }
    w->n_tokens += n;
    return 0;
}

static char *sidecar_text(const TokenWriter *w, const TokenFileMeta *m) {
    JsonWriter j;
    char *out = NULL;
    const char *text;
    int i;
    jw_init(&j, 2);
    jw_begin_object(&j);
    jw_key(&j, "format");
    jw_string(&j, TOKEN_FILE_FORMAT);
    jw_key(&j, "version");
    jw_int(&j, TOKEN_FILE_VERSION);
    jw_key(&j, "dtype");
    jw_string(&j, w->dtype_bytes == 2 ? "u16" : "u32");
    jw_key(&j, "token_count");
    jw_int(&j, (int64_t)w->n_tokens);
    jw_key(&j, "text_bytes");
    jw_int(&j, (int64_t)m->text_bytes);
    jw_key(&j, "documents");
    jw_int(&j, (int64_t)m->n_documents);
    jw_key(&j, "vocab_size");
    jw_int(&j, w->vocab_size);
    jw_key(&j, "eos_id");
    jw_int(&j, m->eos_id);
    jw_key(&j, "tokenizer");
    jw_string(&j, m->tokenizer_path ? m->tokenizer_path : "");
    jw_key(&j, "tokenizer_fingerprint");
    jw_string(&j, m->fingerprint);
    jw_key(&j, "inputs");
    jw_begin_array(&j);
    for (i = 0; i < m->n_inputs; i++) jw_string(&j, m->inputs[i]);
    jw_end_array(&j);
    jw_end_object(&j);
    if ((text = jw_text(&j)) != NULL) out = with_suffix(text, "\n");
    jw_free(&j);
    return out;
}

int token_writer_finish(TokenWriter *w, const TokenFileMeta *meta, BittError *err) {
    char *side = NULL, *text = NULL;
    int ok;
    if (flush_buf(w, err)) goto fail;
    ok = fflush(w->f) == 0;
    ok = (fclose(w->f) == 0) && ok;
    w->f = NULL;
    if (!ok) {
        bitt_fail(err, "%s: write error: %s", w->tmp_path, strerror(errno));
        goto fail;
    }
    if (!(side = with_suffix(w->path, ".json")) || !(text = sidecar_text(w, meta))) {
        bitt_fail(err, "%s: out of memory writing the sidecar", w->path);
        goto fail;
    }
    /* the sidecar of an older file goes first, so a crash never pairs it with the new tokens */
    remove(side);
    if (rename(w->tmp_path, w->path) != 0) {
        bitt_fail(err, "%s: cannot rename into place: %s", w->path, strerror(errno));
        goto fail;
    }
    if (file_write_buffer(side, text, strlen(text), err)) goto fail;
    free(side);
    free(text);
    free(w->path);
    free(w->tmp_path);
    memset(w, 0, sizeof *w);
    return 0;
fail:
    free(side);
    free(text);
    token_writer_abort(w);
    return -1;
}

void token_writer_abort(TokenWriter *w) {
    if (w->f) fclose(w->f);
    if (w->tmp_path) remove(w->tmp_path);
    free(w->path);
    free(w->tmp_path);
    memset(w, 0, sizeof *w);
}
