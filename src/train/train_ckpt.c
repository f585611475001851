/* train_ckpt.c: writing and reading the training checkpoint of a run
 * directory, atomically (see train_ckpt.h). */
#include "train_ckpt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../formats/json.h"
#include "../model/model_file.h"
#include "../formats/safetensors.h"
#include "../util/fileio.h"

#define PATH_MAX_LEN 4096

static int join(char *out, const char *dir, const char *name, BittError *err) {
    if ((size_t)snprintf(out, PATH_MAX_LEN, "%s/%s", dir, name) >= PATH_MAX_LEN)
        return bitt_fail(err, "%s: path too long", dir);
    return 0;
}

/* Flushes a written file (or directory) to disk. */
static int sync_path(const char *path, BittError *err) {
    int fd = open(path, O_RDONLY | O_NONBLOCK); /* a FIFO swapped in cannot block */
    if (fd < 0) return bitt_fail(err, "%s: cannot open to sync: %s", path, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc != 0 && errno != EINVAL) return bitt_fail(err, "%s: fsync failed: %s", path, strerror(errno));
    return 0;
}

/* Removes a directory this module wrote (its plain files, then itself). */
static int remove_dir(const char *dir, BittError *err) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : bitt_fail(err, "%s: cannot open: %s", dir, strerror(errno));
    struct dirent *e;
    char path[PATH_MAX_LEN];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (join(path, dir, e->d_name, err) == 0) remove(path);
    }
    closedir(d);
    if (rmdir(dir) != 0) return bitt_fail(err, "%s: cannot remove: %s", dir, strerror(errno));
    return 0;
}

static int write_text(const char *path, const char *text, size_t len, BittError *err) {
    FILE *f = file_open_write(path, 0, err);
    if (!f) return -1;
    int ok = fwrite(text, 1, len, f) == len;
    ok &= fclose(f) == 0;
    return ok ? 0 : bitt_fail(err, "%s: write failed", path);
}

static void run_to_json(const TrainRun *st, JsonWriter *w) {
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, st->rng_state);
    jw_begin_object(w);
    jw_key(w, "format"); jw_string(w, "bitt-train-state");
    jw_key(w, "version"); jw_int(w, 2);
    jw_key(w, "step"); jw_int(w, st->step);
    jw_key(w, "rng_state"); jw_string(w, hex);
    jw_key(w, "windows_drawn"); jw_int(w, (int64_t)st->windows_drawn);
    jw_key(w, "tokens_seen"); jw_int(w, (int64_t)st->tokens_seen);
    jw_key(w, "data_fingerprint"); jw_string(w, st->data_fingerprint);
    jw_key(w, "schedule");
    jw_begin_object(w);
    jw_key(w, "total_steps"); jw_int(w, st->total_steps);
    jw_key(w, "warmup"); jw_int(w, st->warmup);
    jw_key(w, "lr"); jw_number(w, st->lr);
    jw_key(w, "min_lr"); jw_number(w, st->min_lr);
    jw_end_object(w);
    jw_key(w, "weight_decay"); jw_number(w, st->weight_decay);
    jw_key(w, "clip"); jw_number(w, st->clip);
    jw_key(w, "batch"); jw_int(w, st->batch);
    jw_key(w, "context"); jw_int(w, st->context);
    char seed[24]; /* a u64 does not fit a JSON number exactly: decimal string */
    snprintf(seed, sizeof seed, "%" PRIu64, st->seed);
    jw_key(w, "seed"); jw_string(w, seed);
    jw_key(w, "save_interval"); jw_int(w, st->save_interval);
    jw_key(w, "eval_interval"); jw_int(w, st->eval_interval);
    jw_key(w, "val_windows"); jw_int(w, st->val_windows);
    jw_key(w, "carry_state"); jw_bool(w, st->carry_state);
    jw_key(w, "state_reset"); jw_number(w, st->state_reset);
    jw_key(w, "val_tokens"); jw_int(w, st->val_tokens);
    jw_key(w, "data"); jw_string(w, st->data_path);
    jw_key(w, "val"); jw_string(w, st->val_path);
    jw_end_object(w);
}

static int write_run(const char *path, const TrainRun *st, BittError *err) {
    JsonWriter w;
    jw_init(&w, 2);
    run_to_json(st, &w);
    const char *text = jw_text(&w);
    int rc = text ? write_text(path, text, strlen(text), err) : bitt_fail(err, "%s: out of memory", path);
    jw_free(&w);
    return rc;
}

static int write_model(const char *path, const TrainModel *tm, BittError *err) {
    StWriter w;
    st_writer_init(&w);
    int rc = 0;
    for (int i = 0; i < tm->n_tensors && !rc; i++) {
        const ParamSpec *t = &tm->tensors[i].spec;
        rc = st_writer_add(&w, t->name, ST_F32, t->ndim, t->shape, tm->host_params + tm->tensors[i].offset, err);
    }
    if (!rc) rc = st_writer_meta(&w, "format", "pt", err);
    if (!rc) rc = st_writer_save(&w, path, err);
    st_writer_free(&w);
    return rc;
}

static int write_optimizer(const char *path, const TrainModel *tm, const AdamW *opt, BittError *err) {
    StWriter w;
    st_writer_init(&w);
    int rc = 0;
    char name[96];
    for (int i = 0; i < tm->n_tensors && !rc; i++) {
        const ParamSpec *t = &tm->tensors[i].spec;
        const size_t off = tm->tensors[i].offset;
        snprintf(name, sizeof name, "exp_avg.%s", t->name);
        rc = st_writer_add(&w, name, ST_F32, t->ndim, t->shape, opt->host_m + off, err);
        snprintf(name, sizeof name, "exp_avg_sq.%s", t->name);
        if (!rc) rc = st_writer_add(&w, name, ST_F32, t->ndim, t->shape, opt->host_v + off, err);
    }
    if (!rc) rc = st_writer_save(&w, path, err);
    st_writer_free(&w);
    return rc;
}

int train_ckpt_save(const char *run_dir, const Model *m, const TrainModel *tm, const AdamW *opt,
                    const TrainRun *st, const TrainStreams *streams, TrainCkptHook hook, void *hook_ctx,
                    BittError *err) {
    char tmp[PATH_MAX_LEN], fin[PATH_MAX_LEN], old[PATH_MAX_LEN], path[PATH_MAX_LEN];
    if (join(tmp, run_dir, "checkpoint.tmp", err) || join(fin, run_dir, "checkpoint", err) ||
        join(old, run_dir, "checkpoint.old", err))
        return -1;
    if (path_is_dir(tmp) && remove_dir(tmp, err) != 0) return -1;
    if (mkdir(tmp, 0755) != 0) return bitt_fail(err, "%s: cannot create directory: %s", tmp, strerror(errno));
    int rc = 0;
    JsonWriter jw;
    jw_init(&jw, 2);
    config_write_json(&m->cfg, &jw);
    const char *cfg_text = jw_text(&jw);
    if (!cfg_text) rc = bitt_fail(err, "out of memory");
    if (!rc && !(rc = join(path, tmp, "config.json", err))) rc = write_text(path, cfg_text, strlen(cfg_text), err);
    jw_free(&jw);
    static const char *const files[] = {"config.json", "tokenizer.json", "model.safetensors",
                                        "optimizer.safetensors", "state.json", "streams.safetensors"};
    const int n_files = streams ? 6 : 5;
    if (!rc && !(rc = join(path, tmp, files[1], err))) rc = tokenizer_save_file(m->tok, path, err);
    if (!rc && !(rc = join(path, tmp, files[2], err))) rc = write_model(path, tm, err);
    if (!rc && !(rc = join(path, tmp, files[3], err))) rc = write_optimizer(path, tm, opt, err);
    if (!rc && !(rc = join(path, tmp, files[4], err))) rc = write_run(path, st, err);
    if (!rc && streams && !(rc = join(path, tmp, files[5], err))) rc = train_streams_save(streams, path, err);
    for (int i = 0; i < n_files && !rc; i++)
        if (!(rc = join(path, tmp, files[i], err))) rc = sync_path(path, err);
    if (!rc) rc = sync_path(tmp, err);
    if (rc) {
        BittError ignored;
        remove_dir(tmp, &ignored);
        return -1;
    }
    if (hook) hook(hook_ctx, "files", st->step);
    if (path_is_dir(old) && remove_dir(old, err) != 0) return -1;
    const int had = path_is_dir(fin);
    if (had && rename(fin, old) != 0)
        return bitt_fail(err, "%s: cannot move the old checkpoint aside: %s", fin, strerror(errno));
    if (hook) hook(hook_ctx, "swap", st->step);
    if (rename(tmp, fin) != 0)
        return bitt_fail(err, "%s: cannot rename the new checkpoint into place: %s", fin, strerror(errno));
    if (sync_path(run_dir, err) != 0) return -1;
    if (had) return remove_dir(old, err);
    return 0;
}

int train_ckpt_recover(const char *run_dir, BittError *err) {
    char tmp[PATH_MAX_LEN], fin[PATH_MAX_LEN], old[PATH_MAX_LEN];
    if (join(tmp, run_dir, "checkpoint.tmp", err) || join(fin, run_dir, "checkpoint", err) ||
        join(old, run_dir, "checkpoint.old", err))
        return -1;
    if (path_is_dir(tmp) && remove_dir(tmp, err) != 0) return -1;
    if (!path_is_dir(fin) && path_is_dir(old) && rename(old, fin) != 0)
        return bitt_fail(err, "%s: cannot restore the previous checkpoint: %s", old, strerror(errno));
    if (path_is_dir(old) && remove_dir(old, err) != 0) return -1;
    return path_is_dir(fin) ? 1 : 0;
}

static int read_run(const char *path, TrainRun *st, BittError *err) {
    JsonDoc *doc = json_parse_file(path, err);
    if (!doc) return -1;
    const JsonValue *r = json_doc_root(doc), *sched = json_get_typed(r, "schedule", JSON_OBJECT);
    int64_t step, drawn, seen, total, warmup, batch, context, save_iv, eval_iv, val_windows;
    double lr, min_lr, wd, clip;
    const char *rng = json_get_string(r, "rng_state"), *seed = json_get_string(r, "seed");
    const char *fp = json_get_string(r, "data_fingerprint");
    const char *data = json_get_string(r, "data"), *val = json_get_string(r, "val");
    int rc = 0;
    if (!sched || !rng || !seed || !fp || strlen(fp) > 16 || !data || !val ||
        !json_get_int(r, "save_interval", 0, INT64_MAX, &save_iv) ||
        !json_get_int(r, "eval_interval", 0, INT64_MAX, &eval_iv) ||
        !json_get_int(r, "val_windows", 1, INT32_MAX, &val_windows) ||
        !json_get_int(r, "step", 0, INT64_MAX, &step) ||
        !json_get_int(r, "windows_drawn", 0, INT64_MAX, &drawn) ||
        !json_get_int(r, "tokens_seen", 0, INT64_MAX, &seen) ||
        !json_get_int(sched, "total_steps", 1, INT64_MAX, &total) ||
        !json_get_int(sched, "warmup", 0, INT64_MAX, &warmup) ||
        !json_get_int(r, "batch", 1, 1 << 20, &batch) || !json_get_int(r, "context", 1, 1 << 24, &context) ||
        !json_get_number(sched, "lr", &lr) || !json_get_number(sched, "min_lr", &min_lr) ||
        !json_get_number(r, "weight_decay", &wd) || !json_get_number(r, "clip", &clip)) {
        rc = bitt_fail(err, "%s: missing or invalid fields (not a bitt training state?)", path);
    } else {
        char *end;
        st->rng_state = strtoull(rng, &end, 16);
        if (*end || !*rng) rc = bitt_fail(err, "%s: rng_state '%s' is not hexadecimal", path, rng);
        st->seed = strtoull(seed, &end, 10);
        if (*end || !*seed) rc = bitt_fail(err, "%s: seed '%s' is not a decimal integer", path, seed);
        st->step = step;
        st->windows_drawn = (uint64_t)drawn;
        st->tokens_seen = (uint64_t)seen;
        st->total_steps = total;
        st->warmup = warmup;
        st->batch = (int)batch;
        st->context = (int)context;
        st->lr = (float)lr;
        st->min_lr = (float)min_lr;
        st->weight_decay = (float)wd;
        st->clip = (float)clip;
        snprintf(st->data_fingerprint, sizeof st->data_fingerprint, "%s", fp);
        snprintf(st->data_path, sizeof st->data_path, "%s", data);
        snprintf(st->val_path, sizeof st->val_path, "%s", val);
        st->save_interval = save_iv;
        st->eval_interval = eval_iv;
        st->val_windows = (int)val_windows;
        /* version 2 (stateful training); absent in version 1 */
        const JsonValue *carry = json_get(r, "carry_state");
        double reset = 0.0;
        int64_t val_tokens = 0;
        if (carry && carry->type != JSON_BOOL)
            rc = bitt_fail(err, "%s: carry_state must be true or false", path);
        st->carry_state = carry && carry->type == JSON_BOOL && carry->u.boolean;
        if (json_get(r, "state_reset") && (!json_get_number(r, "state_reset", &reset) || !(reset >= 0 && reset <= 1)))
            rc = bitt_fail(err, "%s: state_reset must be a probability", path);
        if (json_get(r, "val_tokens") && !json_get_int(r, "val_tokens", 0, INT64_MAX, &val_tokens))
            rc = bitt_fail(err, "%s: val_tokens must be an integer >= 0", path);
        st->state_reset = (float)reset;
        st->val_tokens = val_tokens;
    }
    json_doc_free(doc);
    return rc;
}

static int read_optimizer(const char *path, const TrainModel *tm, AdamW *opt, BittError *err) {
    SafeTensors st;
    int rc = safetensors_load_file(path, &st, err);
    if (rc == 0) {
        char name[96];
        for (int i = 0; i < tm->n_tensors && !rc; i++) {
            const ParamSpec *t = &tm->tensors[i].spec;
            const size_t off = tm->tensors[i].offset;
            snprintf(name, sizeof name, "exp_avg.%s", t->name);
            rc = safetensors_read_f32(&st, name, t->ndim, t->shape, opt->host_m + off, err);
            snprintf(name, sizeof name, "exp_avg_sq.%s", t->name);
            if (!rc) rc = safetensors_read_f32(&st, name, t->ndim, t->shape, opt->host_v + off, err);
        }
        safetensors_free(&st);
    }
    return rc;
}

Model *train_ckpt_load(const char *run_dir, TrainBackend *be, TrainModel *tm, AdamW *opt, TrainRun *st,
                       BittError *err) {
    char dir[PATH_MAX_LEN], path[PATH_MAX_LEN];
    if (join(dir, run_dir, "checkpoint", err) != 0) return NULL;
    memset(st, 0, sizeof *st);
    if (join(path, dir, "state.json", err) != 0 || read_run(path, st, err) != 0) return NULL;
    Model *m = model_load(dir, 1, err);
    if (!m) return NULL;
    if (train_model_init(tm, m, be, err) != 0) { model_free(m); return NULL; }
    if (adamw_init(opt, be, tm->n_params, st->weight_decay, err) != 0 ||
        join(path, dir, "optimizer.safetensors", err) != 0 || read_optimizer(path, tm, opt, err) != 0 ||
        adamw_upload(opt, err) != 0) {
        adamw_free(opt);
        train_model_free(tm);
        model_free(m);
        return NULL;
    }
    return m;
}
