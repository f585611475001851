/* train_log.c: metrics.jsonl and the SVG loss curve of a training run. */
#include "train_log.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/json.h"
#include "../util/fileio.h"
#include "../util/grow.h"
#include "../util/svg_chart.h"

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int push(TrainSeries *s, int64_t step, double v) {
    if (grow_array(&s->p, &s->cap, s->n + 1, sizeof *s->p) != 0) return -1;
    s->p[s->n++] = (TrainPoint){step, v};
    return 0;
}

/* Keeps the lines of an existing metrics file with step <= keep_until. */
static int reload(TrainLog *log, int64_t keep_until, char **kept, size_t *kept_len, BittError *err) {
    uint8_t *buf;
    size_t len;
    *kept = NULL;
    *kept_len = 0;
    struct stat sb;
    if (stat(log->metrics_path, &sb) != 0) return 0; /* no metrics yet */
    if (file_read_all(log->metrics_path, &buf, &len, err) != 0) return -1;
    char *out = malloc(len + 1);
    if (!out) { free(buf); return bitt_fail(err, "out of memory"); }
    size_t o = 0;
    for (size_t at = 0; at < len;) {
        size_t end = at;
        while (end < len && buf[end] != '\n') end++;
        if (end < len) { /* a line cut short by a crash (no newline) is dropped */
            JsonDoc *doc = json_parse((const char *)buf + at, end - at, log->metrics_path, NULL);
            const JsonValue *r = doc ? json_doc_root(doc) : NULL;
            int64_t step;
            double loss, val, stream;
            if (r && json_get_int(r, "step", 0, INT64_MAX, &step) && step <= keep_until) {
                memcpy(out + o, buf + at, end + 1 - at);
                o += end + 1 - at;
                int bad = 0;
                if (json_get_number(r, "loss", &loss)) bad |= push(&log->loss, step, loss);
                if (json_get_number(r, "val_loss", &val)) bad |= push(&log->val, step, val);
                if (json_get_number(r, "val_stream_loss", &stream)) bad |= push(&log->val_stream, step, stream);
                if (bad) {
                    json_doc_free(doc);
                    free(buf);
                    free(out);
                    return bitt_fail(err, "out of memory");
                }
            }
            json_doc_free(doc);
        }
        at = end + 1;
    }
    free(buf);
    *kept = out;
    *kept_len = o;
    return 0;
}

int train_log_open(TrainLog *log, const char *run_dir, int64_t keep_until, BittError *err) {
    memset(log, 0, sizeof *log);
    log->metrics_path = join(run_dir, "metrics.jsonl");
    log->svg_path = join(run_dir, "loss.svg");
    if (!log->metrics_path || !log->svg_path) { train_log_close(log); return bitt_fail(err, "out of memory"); }
    char *kept = NULL;
    size_t kept_len = 0;
    if (keep_until >= 0 && reload(log, keep_until, &kept, &kept_len, err) != 0) {
        train_log_close(log);
        return -1;
    }
    if (kept) {
        int rc = file_write_buffer(log->metrics_path, kept, kept_len, err);
        free(kept);
        if (rc) { train_log_close(log); return -1; }
    }
    log->f = file_open_write(log->metrics_path, keep_until >= 0, err); /* a FIFO is refused, not waited on */
    if (!log->f) {
        train_log_close(log);
        return -1;
    }
    return 0;
}

void train_log_close(TrainLog *log) {
    if (log->f) fclose(log->f);
    free(log->metrics_path);
    free(log->svg_path);
    free(log->loss.p);
    free(log->val.p);
    free(log->val_stream.p);
    memset(log, 0, sizeof *log);
}

static int line_done(TrainLog *log, BittError *err) {
    if (fflush(log->f) != 0 || ferror(log->f))
        return bitt_fail(err, "%s: write failed: %s", log->metrics_path, strerror(errno));
    return 0;
}

int train_log_step(TrainLog *log, int64_t step, double loss, double lr, double tok_s, BittError *err) {
    fprintf(log->f, "{\"step\":%lld,\"loss\":%.9g,\"lr\":%.9g,\"tok_s\":%.1f}\n", (long long)step, loss, lr, tok_s);
    if (push(&log->loss, step, loss) != 0) return bitt_fail(err, "out of memory");
    return line_done(log, err);
}

int train_log_eval(TrainLog *log, int64_t step, double val_loss, double val_bpb, double stream_loss,
                   double stream_bpb, BittError *err) {
    fprintf(log->f, "{\"step\":%lld,\"val_loss\":%.9g,\"val_bpb\":%.9g", (long long)step, val_loss, val_bpb);
    if (!isnan(stream_loss))
        fprintf(log->f, ",\"val_stream_loss\":%.9g,\"val_stream_bpb\":%.9g", stream_loss, stream_bpb);
    fputs("}\n", log->f);
    if (push(&log->val, step, val_loss) != 0 || (!isnan(stream_loss) && push(&log->val_stream, step, stream_loss) != 0))
        return bitt_fail(err, "out of memory");
    return line_done(log, err);
}

/* ---- the plot ---- */

void train_smooth_centred(const double *v, size_t n, size_t h, double *out) {
    for (size_t i = 0; i < n; i++) {
        const size_t a = i > h ? i - h : 0, b = i + h < n ? i + h : n - 1;
        double sum = 0;
        size_t k = 0;
        for (size_t j = a; j <= b; j++)
            if (isfinite(v[j])) {
                sum += v[j];
                k++;
            }
        out[i] = k ? sum / (double)k : NAN;
    }
}

/* Steps and values of a series as two arrays (x, y: n each, malloc'd). */
static int unzip(const TrainSeries *s, double **x, double **y) {
    *x = malloc((s->n ? s->n : 1) * sizeof **x);
    *y = malloc((s->n ? s->n : 1) * sizeof **y);
    if (!*x || !*y) return -1;
    for (size_t i = 0; i < s->n; i++) {
        (*x)[i] = (double)s->p[i].step;
        (*y)[i] = s->p[i].value;
    }
    return 0;
}

int train_log_plot(const TrainLog *log, const char *title, BittError *err) {
    double *lx = NULL, *ly = NULL, *sm = NULL, *vx = NULL, *vy = NULL, *sx = NULL, *sy = NULL;
    int rc = -1;
    if (unzip(&log->loss, &lx, &ly) == 0 && unzip(&log->val, &vx, &vy) == 0 &&
        unzip(&log->val_stream, &sx, &sy) == 0 && (sm = malloc((log->loss.n ? log->loss.n : 1) * sizeof *sm))) {
        /* a window of about 1/40 of the run on each side: no lag, unlike an exponential average */
        train_smooth_centred(ly, log->loss.n, log->loss.n / 40, sm);
        const SvgSeries series[4] = {
            {"train loss", "#a9c4ec", 1, 0, 0, lx, ly, log->loss.n},
            {"train loss (centred average)", "#1f5fbf", 2, 0, 0, lx, sm, log->loss.n},
            {"validation loss (windows)", "#d9531e", 2, 1, 0, vx, vy, log->val.n},
            {"validation loss (one pass, state carried)", "#2a9d3a", 2, 1, 1, sx, sy, log->val_stream.n},
        };
        const SvgChart chart = {title, "step", "loss (nats/token)", 0, series, log->val_stream.n ? 4 : 3};
        rc = svg_chart_write(&chart, log->svg_path, err);
    } else {
        bitt_fail(err, "%s: out of memory", log->svg_path);
    }
    free(lx); free(ly); free(sm); free(vx); free(vy); free(sx); free(sy);
    return rc;
}
