/* train_log.h: what a training run leaves for people to watch: RUN/metrics.jsonl
 * (one JSON object a line: {"step","loss","lr","tok_s"} per update,
 * {"step","val_loss","val_bpb"[,"val_stream_loss","val_stream_bpb"]} per
 * evaluation) and RUN/loss.svg, a plot of the training loss (raw, and
 * smoothed by a centred moving average, which does not lag behind the raw
 * curve), the windowed validation loss and the one-pass validation loss
 * (state carried over the first N validation tokens, as `bitt eval`
 * scores). The history is kept in memory for the plot; a resumed run reads
 * it back, dropping lines after the checkpoint's step. */
#ifndef BITT_TRAIN_LOG_H
#define BITT_TRAIN_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "../util/error.h"

typedef struct TrainPoint {
    int64_t step;
    double value;
} TrainPoint;

typedef struct TrainSeries {
    TrainPoint *p;
    size_t n, cap;
} TrainSeries;

typedef struct TrainLog {
    char *metrics_path, *svg_path;
    FILE *f;
    TrainSeries loss, val, val_stream;
} TrainLog;

/* Opens RUN/metrics.jsonl: truncated for a new run; for a resumed run
 * (keep_until >= 0) the lines with step <= keep_until are kept (and read
 * into the history), later ones dropped. */
int train_log_open(TrainLog *log, const char *run_dir, int64_t keep_until, BittError *err);
void train_log_close(TrainLog *log);
int train_log_step(TrainLog *log, int64_t step, double loss, double lr, double tok_s, BittError *err);
/* stream_loss, stream_bpb: the one-pass validation, NAN when off (not written). */
int train_log_eval(TrainLog *log, int64_t step, double val_loss, double val_bpb, double stream_loss,
                   double stream_bpb, BittError *err);
/* Writes RUN/loss.svg (atomically) from the history; title goes on top. */
/* The centred moving average of n values over a window of 2 h + 1 (fewer at
 * the ends; non-finite values skipped), into out. */
void train_smooth_centred(const double *v, size_t n, size_t h, double *out);
int train_log_plot(const TrainLog *log, const char *title, BittError *err);

#endif
