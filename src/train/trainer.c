/* trainer.c: the training loop (see trainer.h). */
#include "trainer.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../data/token_file.h"
#include "../sampling/rng.h"
#include "../util/fileio.h"
#include "../util/threadpool.h"
#include "backend_open.h"
#include "train_log.h"
#include "train_streams.h"

void train_options_default(TrainOptions *o) {
    memset(o, 0, sizeof *o);
    o->dim = 256;
    o->layers = 8;
    o->mini_batch = 16;
    o->act_quant = 1;
    o->variant = TTT_LINEAR;
    o->context = 128;
    o->batch = 16;
    o->steps = 1000;
    o->warmup = 100;
    o->lr = 3e-4f;
    o->min_lr = 1e-5f;
    o->weight_decay = 0.1f;
    o->clip = 1.0f;
    o->seed = 1;
    o->save_interval = 500;
    o->eval_interval = 100;
    o->val_windows = 64;
    o->carry_state = 0; /* opt-in: see docs/TRAINING.md, "Stateful training" */
    o->state_reset = 0.01f;
    o->val_tokens = 16384;
}

typedef struct Trainer {
    const TrainOptions *o;
    TrainBackend *be;
    Model *m;
    TrainModel tm;
    AdamW opt;
    TrainRun st;
    BittRng rng;
    TokenFile data, val;
    int have_tm, have_opt, have_data, have_val;
    int nthreads;
    TrainActs *acts;         /* batch x context */
    int eval_window;         /* the one-pass validation's window: a multiple of the mini-batch */
    TrainStreams streams;    /* carry_state */
    int have_streams;
    int32_t *ids;            /* max(batch x (context + 1), eval_window + 1) */
    double *losses;          /* per sequence */
    TrainLog log;
    int have_log;
} Trainer;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void emit(const Trainer *tr, TrainEvent ev) {
    if (tr->o->on_event) tr->o->on_event(tr->o->event_ctx, &ev);
}

static void info(const Trainer *tr, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void info(const Trainer *tr, const char *fmt, ...) {
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    TrainEvent ev = {0};
    ev.kind = TRAIN_EV_INFO;
    ev.text = line;
    emit(tr, ev);
}

/* ---- the batch ---- */

/* Mean loss of n sequences at ids (each context + 1 ids); with streams,
 * sequence s carries stream s's state. With backward, the gradients of the
 * mean are added to the model's. */
static int run_batch(Trainer *tr, const int32_t *ids, int n, int backward, TrainStreams *streams, double *loss,
                     BittError *err) {
    TrainCarry carry;
    if (streams) carry = train_streams_carry(streams);
    if (train_forward(&tr->tm, tr->acts, ids, n, tr->st.context, streams ? &carry : NULL, tr->losses, loss, err) != 0)
        return -1;
    return backward ? train_backward(&tr->tm, tr->acts, 1.0f / (float)n, err) : 0;
}

/* Validation: up to val_windows windows spread evenly over the file. */
static int evaluate(Trainer *tr, double *loss, double *bpb, BittError *err) {
    const int T = tr->st.context;
    const uint64_t n_tok = tr->val.n_tokens;
    uint64_t n = (n_tok - 1) / (uint64_t)T;
    if (n > (uint64_t)tr->st.val_windows) n = (uint64_t)tr->st.val_windows;
    double total = 0.0;
    const uint64_t span = n_tok - (uint64_t)T - 1;
    uint64_t done = 0;
    while (done < n) { /* in batches, reusing the training buffers */
        int chunk = (int)(n - done < (uint64_t)tr->st.batch ? n - done : (uint64_t)tr->st.batch);
        for (int s = 0; s < chunk; s++) {
            uint64_t i = done + (uint64_t)s, start = n > 1 ? span * i / (n - 1) : 0;
            token_file_read(&tr->val, start, (size_t)T + 1, tr->ids + (size_t)s * (T + 1));
        }
        double l;
        if (run_batch(tr, tr->ids, chunk, 0, NULL, &l, err) != 0) return -1;
        total += l * chunk;
        done += (uint64_t)chunk;
    }
    *loss = total / (double)n;
    *bpb = tr->val.text_bytes ? *loss * (double)tr->val.n_tokens / (double)tr->val.text_bytes / log(2.0) : 0.0;
    return isfinite(*loss) ? 0 : -1;
}

/* ---- setup ---- */

static void data_fingerprint(const TokenFile *tf, char out[17]) {
    uint64_t h = fnv1a64(tf->data, (size_t)(tf->n_tokens * (uint64_t)tf->dtype_bytes), FNV1A64_INIT);
    snprintf(out, 17, "%016" PRIx64, h);
}

static int setup_new(Trainer *tr, BittError *err) {
    const TrainOptions *o = tr->o;
    char ck[4096];
    snprintf(ck, sizeof ck, "%s/checkpoint", o->out_dir);
    if (path_is_dir(ck))
        return bitt_fail(err, "%s already holds a training run (resume it with --resume, or choose another --out)", o->out_dir);
    if (!o->tokenizer_path) return bitt_fail(err, "--tokenizer is required for a new run");
    Tokenizer *tok = tokenizer_load_file(o->tokenizer_path, err);
    if (!tok) return -1;
    ModelConfig cfg;
    config_init(&cfg, tokenizer_vocab_size(tok), o->dim, o->layers, o->variant);
    if (o->heads > 0) cfg.num_heads = o->heads;
    if (o->mini_batch > 0) cfg.mini_batch = o->mini_batch;
    if (o->base_lr > 0) cfg.base_lr = o->base_lr;
    if (o->state_decay > 0) cfg.state_decay = o->state_decay;
    cfg.forget_gate = o->forget_gate;
    cfg.act_quant = o->act_quant;
    if (config_validate(&cfg, "bitt train", err) != 0) { tokenizer_free(tok); return -1; }
    tr->m = model_alloc(&cfg, tok, err);
    if (!tr->m) return -1;
    model_init_random(tr->m, o->seed);
    if (train_model_init(&tr->tm, tr->m, tr->be, err) != 0) return -1;
    tr->have_tm = 1;
    if (adamw_init(&tr->opt, tr->be, tr->tm.n_params, o->weight_decay, err) != 0) return -1;
    tr->have_opt = 1;
    TrainRun *st = &tr->st;
    st->total_steps = o->steps;
    st->warmup = o->warmup;
    st->lr = o->lr;
    st->min_lr = o->min_lr;
    st->weight_decay = o->weight_decay;
    st->clip = o->clip;
    st->batch = o->batch;
    st->context = o->context;
    st->seed = o->seed;
    st->save_interval = o->save_interval;
    st->eval_interval = o->eval_interval;
    st->val_windows = o->val_windows;
    st->carry_state = o->carry_state;
    st->state_reset = o->state_reset;
    st->val_tokens = o->val_tokens;
    snprintf(st->data_path, sizeof st->data_path, "%s", o->data_path ? o->data_path : "");
    snprintf(st->val_path, sizeof st->val_path, "%s", o->val_path ? o->val_path : "");
    BittRng r;
    rng_seed(&r, o->seed ^ 0x7261696e5eedull); /* the window stream, apart from the init stream */
    st->rng_state = r.state;
    return 0;
}

/* A resumed run keeps its settings: those named again must be the run's own. */
static int check_resume_settings(const Trainer *tr, BittError *err) {
    const TrainOptions *o = tr->o;
    const ModelConfig *c = &tr->m->cfg;
    const TrainRun *st = &tr->st;
    const unsigned g = o->given;
    const char *fail = NULL;
    char mine[64] = "", theirs[64] = "";
#define SAME_INT(bit, flag, a, b)                                                 \
    if (!fail && (g & (bit)) && (long long)(a) != (long long)(b)) {                \
        fail = flag;                                                                \
        snprintf(mine, sizeof mine, "%lld", (long long)(a));                         \
        snprintf(theirs, sizeof theirs, "%lld", (long long)(b));                     \
    }
#define SAME_FLOAT(bit, flag, a, b)                                               \
    if (!fail && (g & (bit)) && (float)(a) != (float)(b)) {                        \
        fail = flag;                                                                \
        snprintf(mine, sizeof mine, "%g", (double)(a));                              \
        snprintf(theirs, sizeof theirs, "%g", (double)(b));                          \
    }
#define SAME_WORD(bit, flag, a, b)                                                \
    if (!fail && (g & (bit)) && strcmp((a), (b)) != 0) {                           \
        fail = flag;                                                                \
        snprintf(mine, sizeof mine, "%s", (a));                                      \
        snprintf(theirs, sizeof theirs, "%s", (b));                                  \
    }
    SAME_INT(TRAIN_GIVEN_DIM, "dim", o->dim, c->hidden_dim)
    SAME_INT(TRAIN_GIVEN_LAYERS, "layers", o->layers, c->num_layers)
    SAME_INT(TRAIN_GIVEN_HEADS, "heads", o->heads, c->num_heads)
    SAME_INT(TRAIN_GIVEN_MINI_BATCH, "mini-batch", o->mini_batch, c->mini_batch)
    SAME_FLOAT(TRAIN_GIVEN_BASE_LR, "base-lr", o->base_lr, c->base_lr)
    SAME_FLOAT(TRAIN_GIVEN_STATE_DECAY, "state-decay", o->state_decay, c->state_decay)
    SAME_WORD(TRAIN_GIVEN_FORGET_GATE, "forget-gate", o->forget_gate ? "on" : "off", c->forget_gate ? "on" : "off")
    SAME_WORD(TRAIN_GIVEN_VARIANT, "variant", ttt_variant_name(o->variant), ttt_variant_name(c->variant))
    SAME_WORD(TRAIN_GIVEN_ACT_QUANT, "no-act-quant", o->act_quant ? "int8" : "none", c->act_quant ? "int8" : "none")
    SAME_INT(TRAIN_GIVEN_CONTEXT, "context", o->context, st->context)
    SAME_INT(TRAIN_GIVEN_BATCH, "batch", o->batch, st->batch)
    SAME_FLOAT(TRAIN_GIVEN_LR, "lr", o->lr, st->lr)
    SAME_INT(TRAIN_GIVEN_WARMUP, "warmup", o->warmup, st->warmup)
    SAME_FLOAT(TRAIN_GIVEN_MIN_LR, "min-lr", o->min_lr, st->min_lr)
    SAME_FLOAT(TRAIN_GIVEN_WEIGHT_DECAY, "weight-decay", o->weight_decay, st->weight_decay)
    SAME_FLOAT(TRAIN_GIVEN_CLIP, "clip", o->clip, st->clip)
    SAME_INT(TRAIN_GIVEN_SEED, "seed", o->seed, st->seed)
    SAME_WORD(TRAIN_GIVEN_CARRY_STATE, "carry-state", o->carry_state ? "on" : "off", st->carry_state ? "on" : "off")
    SAME_FLOAT(TRAIN_GIVEN_STATE_RESET, "state-reset", o->state_reset, st->state_reset)
#undef SAME_INT
#undef SAME_FLOAT
#undef SAME_WORD
    if (fail)
        return bitt_fail(err, "--%s %s differs from the run's %s: a resumed run keeps its settings (%s/checkpoint); "
                              "leave the flag out or give the run's value", fail, mine, theirs, o->out_dir);
    return 0;
}

static int setup_resume(Trainer *tr, BittError *err) {
    const TrainOptions *o = tr->o;
    int have = train_ckpt_recover(o->out_dir, err);
    if (have < 0) return -1;
    if (!have) return bitt_fail(err, "%s: no checkpoint to resume (no %s/checkpoint)", o->out_dir, o->out_dir);
    tr->m = train_ckpt_load(o->out_dir, tr->be, &tr->tm, &tr->opt, &tr->st, err);
    if (!tr->m) return -1;
    tr->have_tm = tr->have_opt = 1;
    if (check_resume_settings(tr, err) != 0) return -1;
    TrainRun *st = &tr->st;
    if (o->steps > 0) st->total_steps = o->steps;
    if (o->save_interval >= 0) st->save_interval = o->save_interval;
    if (o->eval_interval >= 0) st->eval_interval = o->eval_interval;
    if (o->val_windows > 0) st->val_windows = o->val_windows;
    if (o->val_tokens >= 0) st->val_tokens = o->val_tokens;
    if (o->data_path) snprintf(st->data_path, sizeof st->data_path, "%s", o->data_path);
    if (o->val_path) snprintf(st->val_path, sizeof st->val_path, "%s", o->val_path);
    if (o->tokenizer_path) { /* must be the run's own tokenizer */
        Tokenizer *tok = tokenizer_load_file(o->tokenizer_path, err);
        if (!tok) return -1;
        char a[17], b[17];
        int rc = tokenizer_fingerprint(tok, a, err) || tokenizer_fingerprint(tr->m->tok, b, err);
        tokenizer_free(tok);
        if (rc) return -1;
        if (strcmp(a, b) != 0)
            return bitt_fail(err, "%s is not the tokenizer of the run being resumed (fingerprint %s, the run's %s)",
                             o->tokenizer_path, a, b);
    }
    return 0;
}

static int setup(Trainer *tr, BittError *err) {
    const TrainOptions *o = tr->o;
    if (!o->out_dir || (!o->data_path && !o->resume)) return bitt_fail(err, "--data and --out are required");
    if (!path_is_dir(o->out_dir) && mkdir(o->out_dir, 0755) != 0)
        return bitt_fail(err, "%s: cannot create the run directory: %s", o->out_dir, strerror(errno));
    tr->nthreads = threads_set(o->threads);
    char note[600];
    if (!(tr->be = train_backend_open(o->device, o->device_options, note, sizeof note, err))) return -1;
    if (note[0]) info(tr, "%s", note);
    if ((o->resume ? setup_resume(tr, err) : setup_new(tr, err)) != 0) return -1;
    const TrainRun *st = &tr->st;
    if (st->context < 1 || st->batch < 1 || st->total_steps < 1 || st->warmup < 0 || !(st->lr > 0) ||
        !(st->min_lr >= 0) || !(st->clip > 0) || !(st->state_reset >= 0 && st->state_reset <= 1) || st->val_tokens < 0)
        return bitt_fail(err, "invalid run settings: context, batch and steps must be >= 1, lr and clip > 0, min-lr, "
                              "warmup and val-tokens >= 0, state-reset in [0, 1]");
    const int mb = tr->m->cfg.variant == TTT_LINEAR ? tr->m->cfg.mini_batch : 1;
    if (st->carry_state && st->context % mb != 0)
        return bitt_fail(err, "--context %d is not a multiple of the TTT mini-batch %d: a carried state must end on a "
                              "mini-batch boundary (choose such a context, or --no-carry-state)", st->context, mb);
    const char *tok_name = o->resume ? "the run's tokenizer" : o->tokenizer_path;
    const char *data_path = st->data_path, *val_path = st->val_path[0] ? st->val_path : NULL;
    if (token_file_open(&tr->data, data_path, tr->m->tok, tok_name, err) != 0) return -1;
    tr->have_data = 1;
    if (tr->data.n_tokens < (uint64_t)st->context + 1)
        return bitt_fail(err, "%s: %" PRIu64 " tokens, fewer than one window of --context %d + 1", data_path,
                         tr->data.n_tokens, st->context);
    char fp[17];
    data_fingerprint(&tr->data, fp);
    if (o->resume && strcmp(fp, tr->st.data_fingerprint) != 0)
        info(tr, "note: %s is not the token file this run was trained on so far", data_path);
    snprintf(tr->st.data_fingerprint, sizeof tr->st.data_fingerprint, "%s", fp);
    if (val_path) {
        if (token_file_open(&tr->val, val_path, tr->m->tok, tok_name, err) != 0) return -1;
        tr->have_val = 1;
        if (tr->val.n_tokens < (uint64_t)st->context + 1)
            return bitt_fail(err, "%s: %" PRIu64 " tokens, fewer than one window of --context %d + 1", val_path,
                             tr->val.n_tokens, st->context);
    }
    tr->rng.state = tr->st.rng_state;
    tr->eval_window = st->context / mb * mb > 0 ? st->context / mb * mb : mb;
    size_t n_ids = (size_t)st->batch * (st->context + 1);
    if (n_ids < (size_t)tr->eval_window + 1) n_ids = (size_t)tr->eval_window + 1;
    tr->ids = malloc(n_ids * sizeof(int32_t));
    tr->losses = malloc((size_t)st->batch * sizeof(double));
    if (!tr->ids || !tr->losses) return bitt_fail(err, "out of memory");
    const int Tmax = tr->eval_window > st->context ? tr->eval_window : st->context;
    if (!(tr->acts = train_acts_new(&tr->tm, st->batch, Tmax, err))) return -1;
    if (st->carry_state) {
        if (train_streams_init(&tr->streams, tr->be, st->batch, train_state_floats(&tr->tm), tr->data.n_tokens,
                               st->context, err) != 0)
            return -1;
        tr->have_streams = 1;
        char path[4200];
        snprintf(path, sizeof path, "%s/checkpoint/streams.safetensors", o->out_dir);
        if (o->resume && train_streams_load(&tr->streams, path, err) != 0) return -1;
    }
    if (train_log_open(&tr->log, o->out_dir, o->resume ? st->step : -1, err) != 0) return -1;
    tr->have_log = 1;
    return 0;
}

static void teardown(Trainer *tr) {
    train_acts_free(&tr->tm, tr->acts);
    if (tr->have_streams) train_streams_free(&tr->streams);
    free(tr->ids);
    free(tr->losses);
    if (tr->have_log) train_log_close(&tr->log);
    if (tr->have_val) token_file_close(&tr->val);
    if (tr->have_data) token_file_close(&tr->data);
    if (tr->have_opt) adamw_free(&tr->opt);
    if (tr->have_tm) train_model_free(&tr->tm);
    model_free(tr->m);
    if (tr->be) tr->be->destroy(tr->be);
}

static int save(Trainer *tr, BittError *err) {
    const TrainOptions *o = tr->o;
    tr->st.rng_state = tr->rng.state;
    char title[200];
    snprintf(title, sizeof title, "bitt train: %s, D=%d L=%d, step %" PRId64 "/%" PRId64,
             ttt_variant_name(tr->m->cfg.variant), tr->m->cfg.hidden_dim, tr->m->cfg.num_layers,
             tr->st.step, tr->st.total_steps);
    if (train_log_plot(&tr->log, title, err) != 0) return -1;
    if (train_model_download(&tr->tm, err) != 0 || adamw_download(&tr->opt, err) != 0 ||
        (tr->have_streams && train_streams_download(&tr->streams, err) != 0))
        return -1;
    if (train_ckpt_save(o->out_dir, tr->m, &tr->tm, &tr->opt, &tr->st, tr->have_streams ? &tr->streams : NULL,
                        o->hook, o->hook_ctx, err) != 0)
        return -1;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/checkpoint", o->out_dir);
    TrainEvent ev = {0};
    ev.kind = TRAIN_EV_SAVED;
    ev.step = tr->st.step;
    ev.total = tr->st.total_steps;
    ev.text = dir;
    emit(tr, ev);
    return 0;
}

static int do_eval(Trainer *tr, TrainResult *res, BittError *err) {
    double vl, bpb;
    if (evaluate(tr, &vl, &bpb, err) != 0)
        return bitt_fail(err, "validation loss is not finite at step %" PRId64 "; stopping (the last checkpoint is kept as it was)", tr->st.step);
    double sl = NAN, sbpb = NAN;
    if (tr->st.val_tokens > 0) {
        if (train_eval_stream(&tr->tm, tr->acts, &tr->val, tr->m->tok, (uint64_t)tr->st.val_tokens, tr->eval_window,
                              tr->ids, &sl, &sbpb, err) != 0)
            return bitt_fail(err, "one-pass validation failed or is not finite at step %" PRId64 "; stopping (the "
                                  "last checkpoint is kept as it was)", tr->st.step);
    }
    res->val_loss = vl;
    res->val_bpb = bpb;
    res->val_stream_loss = sl;
    res->val_stream_bpb = sbpb;
    if (train_log_eval(&tr->log, tr->st.step, vl, bpb, sl, sbpb, err) != 0) return -1;
    TrainEvent ev = {0};
    ev.kind = TRAIN_EV_EVAL;
    ev.step = tr->st.step;
    ev.total = tr->st.total_steps;
    ev.val_loss = vl;
    ev.val_bpb = bpb;
    ev.val_stream_loss = sl;
    ev.val_stream_bpb = sbpb;
    emit(tr, ev);
    return 0;
}

int train_run(const TrainOptions *o, TrainResult *res, BittError *err) {
    Trainer tr;
    memset(&tr, 0, sizeof tr);
    memset(res, 0, sizeof *res);
    tr.o = o;
    int rc = setup(&tr, err);
    if (rc) { teardown(&tr); return -1; }
    TrainRun *st = &tr.st;
    const int B = st->batch, T = st->context;
    const ModelConfig *c = &tr.m->cfg;
    info(&tr, "%s %s: D=%d L=%d H=%d V=%d, %zu parameters; %d x %d tokens a step (%s), %d thread%s; %s: %" PRIu64 " tokens",
         o->resume ? "resuming" : "training", ttt_variant_name(c->variant),
         c->hidden_dim, c->num_layers, c->num_heads, c->vocab_size, tr.tm.n_params, B, T,
         st->carry_state ? "streams, state carried" : "random windows", tr.nthreads,
         tr.nthreads == 1 ? "" : "s", st->data_path, tr.data.n_tokens);
    if (o->resume) info(&tr, "resumed from %s/checkpoint at step %" PRId64 " of %" PRId64, o->out_dir, st->step, st->total_steps);
    if (o->resume && st->step >= st->total_steps) {
        info(&tr, "the run is complete (step %" PRId64 " of %" PRId64 "); nothing to do (--steps N extends it)",
             st->step, st->total_steps);
        res->step = st->step;
        teardown(&tr);
        return 0;
    }
    const uint64_t span = tr.data.n_tokens - (uint64_t)T; /* window starts 0 .. n - T - 1 */
    const double t_start = now_s();
    const int64_t step_start = st->step;
    int64_t last_eval = -1;
    while (st->step < st->total_steps) {
        if (o->stop && *o->stop) {
            res->interrupted = 1;
            break;
        }
        const double t0 = now_s();
        const int64_t step = st->step + 1;
        const float lr = lr_schedule(step, st->total_steps, st->warmup, st->lr, st->min_lr);
        if (tr.have_streams) {
            train_streams_next(&tr.streams, &tr.rng, st->state_reset, &tr.data, T, tr.ids);
        } else {
            for (int s = 0; s < B; s++)
                token_file_read(&tr.data, rng_next_u64(&tr.rng) % span, (size_t)T + 1, tr.ids + (size_t)s * (T + 1));
        }
        tr.be->zero(tr.be, tr.tm.grads, tr.tm.n_params);
        double loss;
        if ((rc = run_batch(&tr, tr.ids, B, 1, tr.have_streams ? &tr.streams : NULL, &loss, err)) != 0) break;
        if (tr.have_streams) train_streams_advance(&tr.streams, tr.data.n_tokens, T);
        const double gnorm = grad_norm(&tr.tm);
        if (!isfinite(loss) || !isfinite(gnorm)) {
            rc = bitt_fail(err, "the loss became %s at step %" PRId64 " (gradient norm %g); stopping without writing a "
                           "checkpoint (the last one, if any, is kept as it was). Try a lower --lr.",
                           isnan(loss) ? "NaN" : isfinite(loss) ? "finite but the gradient not" : "infinite", step, gnorm);
            break;
        }
        const float scale = gnorm > st->clip ? (float)(st->clip / gnorm) : 1.0f;
        adamw_step(&tr.opt, &tr.tm, scale, lr, step);
        if ((rc = train_model_prepare(&tr.tm, err)) != 0) break;
        st->step = step;
        st->windows_drawn += (uint64_t)B;
        st->tokens_seen += (uint64_t)B * (uint64_t)T;
        const double t1 = now_s();
        const double tok_s = (double)B * T / (t1 - t0 > 1e-9 ? t1 - t0 : 1e-9);
        res->loss = loss;
        res->tok_s = (double)(st->step - step_start) * B * T / (t1 - t_start);
        if ((rc = train_log_step(&tr.log, step, loss, lr, tok_s, err)) != 0) break;
        TrainEvent ev = {0};
        ev.kind = TRAIN_EV_STEP;
        ev.step = step;
        ev.total = st->total_steps;
        ev.loss = loss;
        ev.lr = lr;
        ev.tok_s = tok_s;
        ev.eta_s = (t1 - t_start) / (double)(step - step_start) * (double)(st->total_steps - step);
        emit(&tr, ev);
        if (o->hook) o->hook(o->hook_ctx, "step", step);
        if (tr.have_val && st->eval_interval > 0 && step % st->eval_interval == 0) {
            if ((rc = do_eval(&tr, res, err)) != 0) break;
            last_eval = step;
        }
        if (st->save_interval > 0 && step % st->save_interval == 0 && step < st->total_steps &&
            (rc = save(&tr, err)) != 0)
            break;
    }
    if (!rc && tr.have_val && last_eval != st->step && !res->interrupted) rc = do_eval(&tr, res, err);
    if (!rc) rc = save(&tr, err);
    res->step = st->step;
    teardown(&tr);
    return rc ? -1 : 0;
}
