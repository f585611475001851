/* train_log.c: metrics.jsonl and the SVG loss curve of a training run. */
#include "train_log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/json.h"
#include "../util/fileio.h"

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int push(TrainPoint **a, size_t *n, size_t *cap, int64_t step, double v) {
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        TrainPoint *p = realloc(*a, c * sizeof *p);
        if (!p) return -1;
        *a = p;
        *cap = c;
    }
    (*a)[(*n)++] = (TrainPoint){step, v};
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
            double loss, val;
            if (r && json_get_int(r, "step", 0, INT64_MAX, &step) && step <= keep_until) {
                memcpy(out + o, buf + at, end + 1 - at);
                o += end + 1 - at;
                if (json_get_number(r, "loss", &loss)) push(&log->loss, &log->n_loss, &log->cap_loss, step, loss);
                if (json_get_number(r, "val_loss", &val)) push(&log->val, &log->n_val, &log->cap_val, step, val);
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
        const void *parts[1] = {kept};
        int rc = file_write_atomic(log->metrics_path, parts, &kept_len, 1, err);
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
    free(log->loss);
    free(log->val);
    memset(log, 0, sizeof *log);
}

static int line_done(TrainLog *log, BittError *err) {
    if (fflush(log->f) != 0 || ferror(log->f))
        return bitt_fail(err, "%s: write failed: %s", log->metrics_path, strerror(errno));
    return 0;
}

int train_log_step(TrainLog *log, int64_t step, double loss, double lr, double tok_s, BittError *err) {
    fprintf(log->f, "{\"step\":%lld,\"loss\":%.9g,\"lr\":%.9g,\"tok_s\":%.1f}\n", (long long)step, loss, lr, tok_s);
    if (push(&log->loss, &log->n_loss, &log->cap_loss, step, loss) != 0) return bitt_fail(err, "out of memory");
    return line_done(log, err);
}

int train_log_eval(TrainLog *log, int64_t step, double val_loss, double val_bpb, double stream_loss,
                   double stream_bpb, BittError *err) {
    fprintf(log->f, "{\"step\":%lld,\"val_loss\":%.9g,\"val_bpb\":%.9g", (long long)step, val_loss, val_bpb);
    if (!isnan(stream_loss))
        fprintf(log->f, ",\"val_stream_loss\":%.9g,\"val_stream_bpb\":%.9g", stream_loss, stream_bpb);
    fputs("}\n", log->f);
    if (push(&log->val, &log->n_val, &log->cap_val, step, val_loss) != 0) return bitt_fail(err, "out of memory");
    return line_done(log, err);
}

/* ---- the plot ---- */

typedef struct Buf {
    char *p;
    size_t len, cap;
    int failed;
} Buf;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void bprintf(Buf *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->failed = 1; return; }
        if (b->p && b->len + (size_t)n < b->cap) { b->len += (size_t)n; return; }
        size_t cap = (b->cap ? b->cap * 2 : 8192) + (size_t)n;
        char *p = realloc(b->p, cap);
        if (!p) { b->failed = 1; return; }
        b->p = p;
        b->cap = cap;
    }
}

/* A "nice" tick step (1, 2, 5 x 10^k) for about n ticks over span. */
static double nice_step(double span, int n) {
    double raw = span / n, mag = pow(10.0, floor(log10(raw)));
    double r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

#define PW 800
#define PH 450
#define ML 70
#define MR 20
#define MT 40
#define MB 50

int train_log_plot(const TrainLog *log, const char *title, BittError *err) {
    double xmax = 1, ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < log->n_loss; i++) {
        if (log->loss[i].step > xmax) xmax = (double)log->loss[i].step;
        if (isfinite(log->loss[i].value)) {
            ymin = fmin(ymin, log->loss[i].value);
            ymax = fmax(ymax, log->loss[i].value);
        }
    }
    for (size_t i = 0; i < log->n_val; i++) {
        if (log->val[i].step > xmax) xmax = (double)log->val[i].step;
        ymin = fmin(ymin, log->val[i].value);
        ymax = fmax(ymax, log->val[i].value);
    }
    if (!isfinite(ymin)) { ymin = 0; ymax = 1; }
    if (ymax - ymin < 1e-6) { ymin -= 0.5; ymax += 0.5; }
    const double ystep = nice_step(ymax - ymin, 6), xstep = nice_step(xmax, 8);
    ymin = floor(ymin / ystep) * ystep;
    ymax = ceil(ymax / ystep) * ystep;
    const double pw = PW - ML - MR, ph = PH - MT - MB;
#define X(s) (ML + (double)(s) / xmax * pw)
#define Y(v) (MT + (ymax - (v)) / (ymax - ymin) * ph)
    Buf b = {0};
    bprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            PW, PH, PW, PH);
    bprintf(&b, "<text x=\"%d\" y=\"24\" font-size=\"15\">", ML);
    for (const char *c = title; *c; c++) { /* escape the title */
        if (*c == '<') bprintf(&b, "&lt;");
        else if (*c == '&') bprintf(&b, "&amp;");
        else if (*c == '>') bprintf(&b, "&gt;");
        else bprintf(&b, "%c", *c);
    }
    bprintf(&b, "</text>\n");
    for (double y = ymin; y <= ymax + ystep * 0.01; y += ystep) {
        bprintf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                ML, PW - MR, Y(y), Y(y), ML - 6, Y(y) + 4, y);
    }
    for (double x = 0; x <= xmax + xstep * 0.01; x += xstep)
        bprintf(&b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>"
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                X(x), X(x), MT, PH - MB, X(x), PH - MB + 16, x);
    bprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n", ML, MT, pw, ph);
    bprintf(&b, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">step</text>\n", ML + pw / 2, PH - 12);
    bprintf(&b, "<text x=\"16\" y=\"%.0f\" transform=\"rotate(-90 16 %.0f)\" text-anchor=\"middle\">loss (nats/token)</text>\n",
            MT + ph / 2, MT + ph / 2);
    /* raw training loss, then an exponential moving average over it */
    for (int pass = 0; pass < 2; pass++) {
        if (!log->n_loss) break;
        bprintf(&b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" points=\"",
                pass ? "#1f5fbf" : "#a9c4ec", pass ? "2" : "1");
        double ema = log->loss[0].value;
        const double alpha = log->n_loss > 50 ? 20.0 / (double)log->n_loss : 0.5;
        for (size_t i = 0; i < log->n_loss; i++) {
            double v = log->loss[i].value;
            if (!isfinite(v)) continue;
            ema = i ? (1 - alpha) * ema + alpha * v : v;
            bprintf(&b, "%.1f,%.1f ", X(log->loss[i].step), Y(pass ? ema : v));
        }
        bprintf(&b, "\"/>\n");
    }
    if (log->n_val) {
        bprintf(&b, "<polyline fill=\"none\" stroke=\"#d9531e\" stroke-width=\"2\" points=\"");
        for (size_t i = 0; i < log->n_val; i++) bprintf(&b, "%.1f,%.1f ", X(log->val[i].step), Y(log->val[i].value));
        bprintf(&b, "\"/>\n");
        for (size_t i = 0; i < log->n_val; i++)
            bprintf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#d9531e\"/>\n", X(log->val[i].step), Y(log->val[i].value));
    }
    const int lx = PW - MR - 190, ly = MT + 14;
    bprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"180\" height=\"58\" fill=\"white\" stroke=\"#ccc\"/>\n", lx - 6, ly - 12);
    bprintf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#a9c4ec\"/><text x=\"%d\" y=\"%d\">train loss</text>\n",
            lx, lx + 24, ly, ly, lx + 30, ly + 4);
    bprintf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#1f5fbf\" stroke-width=\"2\"/><text x=\"%d\" y=\"%d\">train loss (smoothed)</text>\n",
            lx, lx + 24, ly + 16, ly + 16, lx + 30, ly + 20);
    bprintf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#d9531e\" stroke-width=\"2\"/><text x=\"%d\" y=\"%d\">validation loss</text>\n",
            lx, lx + 24, ly + 32, ly + 32, lx + 30, ly + 36);
    bprintf(&b, "</svg>\n");
#undef X
#undef Y
    if (b.failed) { free(b.p); return bitt_fail(err, "%s: out of memory", log->svg_path); }
    const void *parts[1] = {b.p};
    int rc = file_write_atomic(log->svg_path, parts, &b.len, 1, err);
    free(b.p);
    return rc;
}
