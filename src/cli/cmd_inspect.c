/* cmd_inspect.c: `bitt inspect M [--json]`: config, tensors (as stored in
 * the file), sizes, parameter count and format version. The model is also
 * loaded in full, so a broken file is reported here too. */
#include <stdlib.h>
#include <string.h>

#include "../model/model_file.h"
#include "../util/fileio.h"
#include "cli.h"

/* The safetensors part of M: of the .bitt file, or model.safetensors of a dir. */
static int read_tensor_file(const char *path, uint8_t **buf, size_t *len, size_t *offset,
                            size_t *file_bytes, BittError *err) {
    if (path_is_dir(path)) {
        char full[4096];
        snprintf(full, sizeof full, "%s/model.safetensors", path);
        if (file_read_all(full, buf, len, err) != 0) return -1;
        *offset = 0;
        *file_bytes = *len;
        return 0;
    }
    if (file_read_all(path, buf, len, err) != 0) return -1;
    *file_bytes = *len;
    uint64_t h = 0;
    for (int i = 11; i >= 4 && *len >= 12; i--) h = (h << 8) | (*buf)[i];
    if (*len < 12 || h > *len - 12) { /* model_load checked it, but the file is read a second time */
        free(*buf);
        *buf = NULL;
        return bitt_fail(err, "%s: the file changed while it was inspected", path);
    }
    *offset = 12 + (size_t)h;
    return 0;
}

int cmd_inspect(int argc, char **argv) {
    int json = 0;
    Flag flags[] = {{"json", FLAG_BOOL, &json, "print {bitt_version, params, file_bytes, config, tensors}", 0}};
    Command cmd = {"inspect", "M [--json]", "Shows what a model file holds.", flags, 1, 1, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    if (rc) return rc < 0 ? 1 : 0;
    if (cmd.n_positional != 1) return cli_fail("inspect", "needs a model path (see bitt inspect --help)");
    const char *path = cmd.positional[0];
    BittError err;
    Model *m = model_load(path, 0, &err);
    uint8_t *buf = NULL;
    size_t len = 0, offset = 0, file_bytes = 0;
    SafeTensors st;
    if (!m) return cli_fail("inspect", "%s", err.message);
    if (read_tensor_file(path, &buf, &len, &offset, &file_bytes, &err) != 0 ||
        safetensors_parse(buf + offset, len - offset, path, &st, &err) != 0) {
        free(buf);
        model_free(m);
        return cli_fail("inspect", "%s", err.message);
    }
    JsonWriter w;
    jw_init(&w, json ? 0 : 2);
    jw_begin_object(&w);
    jw_key(&w, "path"); jw_string(&w, path);
    jw_key(&w, "format"); jw_string(&w, m->bitt_version ? ".bitt" : "checkpoint directory");
    jw_key(&w, "bitt_version"); jw_int(&w, m->bitt_version);
    jw_key(&w, "params"); jw_int(&w, m->n_values);
    jw_key(&w, "file_bytes"); jw_int(&w, (int64_t)file_bytes);
    jw_key(&w, "config"); config_write_json(&m->cfg, &w);
    jw_key(&w, "tokenizer_vocab"); jw_int(&w, tokenizer_vocab_size(m->tok));
    char fp[32];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)m->fingerprint);
    jw_key(&w, "fingerprint"); jw_string(&w, fp);
    jw_key(&w, "tensors");
    jw_begin_array(&w);
    for (int i = 0; i < st.count; i++) {
        const StTensor *t = &st.tensors[i];
        jw_begin_object(&w);
        jw_key(&w, "name"); jw_string(&w, t->name);
        jw_key(&w, "dtype"); jw_string(&w, st_dtype_name(t->dtype));
        jw_key(&w, "shape");
        jw_begin_array(&w);
        for (int d = 0; d < t->ndim; d++) jw_int(&w, t->shape[d]);
        jw_end_array(&w);
        jw_key(&w, "bytes"); jw_int(&w, (int64_t)t->nbytes);
        jw_end_object(&w);
    }
    jw_end_array(&w);
    jw_end_object(&w);
    if (jw_text(&w)) printf("%s\n", jw_text(&w));
    jw_free(&w);
    safetensors_free(&st);
    free(buf);
    model_free(m);
    return 0;
}
