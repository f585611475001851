/* chat_template.c: reading a model's chat template from its config (see
 * chat_template.h) and rendering messages with it. */
#include "chat_template.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../formats/json.h"
#include "../util/fileio.h"
#include "../util/textbuf.h"

static const char *const ROLE_KEYS[3] = {"system", "user", "assistant"}; /* ChatRole order */
static const char DEFAULT_SYSTEM[] = "{content}\n";

void chat_template_free(ChatTemplate *t) {
    for (int r = 0; r < 3; r++) {
        free(t->prefix[r]);
        free(t->suffix[r]);
    }
    for (int i = 0; i < t->n_stop; i++) free(t->stop[i]);
    memset(t, 0, sizeof *t);
}

static char *copy_bytes(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* Splits a role's string at its one {content}. */
static int set_role(ChatTemplate *t, int role, const char *s, size_t n, const char *source, BittError *err) {
    static const char MARK[] = "{content}";
    const size_t mark = sizeof MARK - 1;
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + mark <= n; i++) {
        if (memcmp(s + i, MARK, mark) != 0) continue;
        if (at != SIZE_MAX)
            return bitt_fail(err, "%s: %s.%s holds {content} more than once", source, CHAT_TEMPLATE_KEY, ROLE_KEYS[role]);
        at = i;
    }
    if (at == SIZE_MAX)
        return bitt_fail(err, "%s: %s.%s must hold {content} (where the message goes)", source, CHAT_TEMPLATE_KEY,
                         ROLE_KEYS[role]);
    free(t->prefix[role]);
    free(t->suffix[role]);
    t->prefix[role] = copy_bytes(s, at);
    t->suffix[role] = copy_bytes(s + at + mark, n - at - mark);
    t->prefix_len[role] = at;
    t->suffix_len[role] = n - at - mark;
    if (!t->prefix[role] || !t->suffix[role]) return bitt_fail(err, "out of memory");
    return 0;
}

int chat_template_default(ChatTemplate *t, BittError *err) {
    memset(t, 0, sizeof *t);
    t->is_default = 1;
    if (set_role(t, ROLE_SYSTEM, DEFAULT_SYSTEM, sizeof DEFAULT_SYSTEM - 1, "default", err) != 0 ||
        set_role(t, ROLE_USER, "{content}", 9, "default", err) != 0 ||
        set_role(t, ROLE_ASSISTANT, "{content}", 9, "default", err) != 0) {
        chat_template_free(t);
        return -1;
    }
    return 0;
}

static int template_from_json(const JsonValue *v, const char *source, ChatTemplate *t, BittError *err) {
    if (chat_template_default(t, err) != 0) return -1;
    t->is_default = 0;
    int rc = -1;
    if (v->type != JSON_OBJECT) {
        bitt_fail(err, "%s: %s must be an object", source, CHAT_TEMPLATE_KEY);
        goto done;
    }
    for (size_t i = 0; i < v->u.object.count; i++) {
        const JsonMember *m = &v->u.object.members[i];
        int role = -1;
        for (int r = 0; r < 3; r++)
            if (strcmp(m->key, ROLE_KEYS[r]) == 0) role = r;
        if (role >= 0) {
            if (m->value.type != JSON_STRING || m->value.u.string.len > CHAT_TEMPLATE_MAX_BYTES) {
                bitt_fail(err, "%s: %s.%s must be a string of at most %d bytes", source, CHAT_TEMPLATE_KEY, m->key,
                          CHAT_TEMPLATE_MAX_BYTES);
                goto done;
            }
            if (set_role(t, role, m->value.u.string.ptr, m->value.u.string.len, source, err) != 0) goto done;
        } else if (strcmp(m->key, "stop") == 0) {
            const JsonValue *a = &m->value;
            if (a->type != JSON_ARRAY || a->u.array.count > BITT_MAX_STOP_STRINGS) {
                bitt_fail(err, "%s: %s.stop must be an array of at most %d strings", source, CHAT_TEMPLATE_KEY,
                          BITT_MAX_STOP_STRINGS);
                goto done;
            }
            for (size_t k = 0; k < a->u.array.count; k++) {
                const JsonValue *s = &a->u.array.items[k];
                if (s->type != JSON_STRING || s->u.string.len == 0 || s->u.string.len > BITT_MAX_STOP_BYTES) {
                    bitt_fail(err, "%s: %s.stop[%zu] must be a string of 1 to %d bytes", source, CHAT_TEMPLATE_KEY, k,
                              BITT_MAX_STOP_BYTES);
                    goto done;
                }
                if (!(t->stop[t->n_stop] = copy_bytes(s->u.string.ptr, s->u.string.len))) {
                    bitt_fail(err, "out of memory");
                    goto done;
                }
                t->stop_len[t->n_stop++] = s->u.string.len;
            }
        } else {
            bitt_fail(err, "%s: %s has an unknown key '%s' (known: system, user, assistant, stop)", source,
                      CHAT_TEMPLATE_KEY, m->key);
            goto done;
        }
    }
    rc = 0;
done:
    if (rc != 0) chat_template_free(t);
    return rc;
}

int chat_template_parse(const char *json, size_t len, const char *source, ChatTemplate *t, BittError *err) {
    memset(t, 0, sizeof *t);
    JsonDoc *doc = json_parse(json, len, source, err);
    if (!doc) return -1;
    int rc = template_from_json(json_doc_root(doc), source, t, err);
    json_doc_free(doc);
    return rc;
}

/* The template in a config object, or the default when it has none. */
static int template_of_config(const JsonValue *config, const char *source, ChatTemplate *t, BittError *err) {
    const JsonValue *v = config && config->type == JSON_OBJECT ? json_get(config, CHAT_TEMPLATE_KEY) : NULL;
    if (!v || v->type == JSON_NULL) return chat_template_default(t, err);
    return template_from_json(v, source, t, err);
}

/* The JSON header of a .bitt file (only the header is read). */
static JsonDoc *read_bitt_header(const char *path, BittError *err) {
    FILE *f = file_open_read(path, err);
    if (!f) return NULL;
    unsigned char head[12];
    JsonDoc *doc = NULL;
    char *text = NULL;
    if (fread(head, 1, 12, f) != 12 || memcmp(head, "BITT", 4) != 0) {
        bitt_fail(err, "%s: not a .bitt file", path);
        goto done;
    }
    uint64_t h = 0;
    for (int i = 11; i >= 4; i--) h = (h << 8) | head[i];
    if (h > ((uint64_t)1 << 31)) {
        bitt_fail(err, "%s: .bitt header of %llu bytes is too large", path, (unsigned long long)h);
        goto done;
    }
    text = malloc((size_t)h + 1);
    if (!text) {
        bitt_fail(err, "out of memory");
        goto done;
    }
    if (fread(text, 1, (size_t)h, f) != (size_t)h) {
        bitt_fail(err, "%s: the .bitt header is cut short", path);
        goto done;
    }
    char where[300];
    snprintf(where, sizeof where, "%s (.bitt header)", path);
    doc = json_parse(text, (size_t)h, where, err);
done:
    free(text);
    fclose(f);
    return doc;
}

int chat_template_load(const char *model_path, ChatTemplate *t, BittError *err) {
    memset(t, 0, sizeof *t);
    JsonDoc *doc = NULL;
    const JsonValue *config = NULL;
    char path[4096];
    if (path_is_dir(model_path)) {
        /* as the model loader finds it: DIR/config.json, or DIR/checkpoint/config.json in a run directory */
        snprintf(path, sizeof path, "%s/config.json", model_path);
        if (access(path, F_OK) != 0) snprintf(path, sizeof path, "%s/checkpoint/config.json", model_path);
        doc = json_parse_file(path, err);
        if (doc) config = json_doc_root(doc);
    } else {
        snprintf(path, sizeof path, "%s", model_path);
        doc = read_bitt_header(model_path, err);
        if (doc) config = json_get(json_doc_root(doc), "config");
    }
    if (!doc) return -1;
    char source[4200];
    snprintf(source, sizeof source, "%s: config", path);
    int rc = template_of_config(config, source, t, err);
    json_doc_free(doc);
    return rc;
}

int chat_template_from_bitt(const void *data, size_t len, const char *source, ChatTemplate *t, BittError *err) {
    memset(t, 0, sizeof *t);
    const unsigned char *b = data;
    if (len < 12 || memcmp(b, "BITT", 4) != 0) return bitt_fail(err, "%s: not a .bitt file", source);
    uint64_t h = 0;
    for (int i = 11; i >= 4; i--) h = (h << 8) | b[i];
    if (h > len - 12) return bitt_fail(err, "%s: the .bitt header is cut short", source);
    char where[300];
    snprintf(where, sizeof where, "%s (.bitt header)", source);
    JsonDoc *doc = json_parse((const char *)b + 12, (size_t)h, where, err);
    if (!doc) return -1;
    snprintf(where, sizeof where, "%s: config", source);
    int rc = template_of_config(json_get(json_doc_root(doc), "config"), where, t, err);
    json_doc_free(doc);
    return rc;
}

int chat_template_render(const ChatTemplate *t, const ChatMessage *msgs, int n, char **text, size_t *len,
                         BittError *err) {
    TextBuf b = {0};
    for (int i = 0; i < n; i++) {
        const int r = (int)msgs[i].role;
        tb_append(&b, t->prefix[r], t->prefix_len[r]);
        tb_append(&b, msgs[i].content, msgs[i].len);
        tb_append(&b, t->suffix[r], t->suffix_len[r]);
    }
    tb_append(&b, t->prefix[ROLE_ASSISTANT], t->prefix_len[ROLE_ASSISTANT]);
    tb_append(&b, "", 0);
    if (b.failed || (!b.p && !(b.p = calloc(1, 1)))) {
        tb_free(&b);
        return bitt_fail(err, "out of memory");
    }
    *text = b.p;
    *len = b.len;
    return 0;
}
