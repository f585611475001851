/* cmd_train.c: `bitt train` (SPEC 5): trains a Bit-Llama model on a token
 * file on the CPU or a CUDA GPU (--device; independent windows, or with --carry-state the TTT
 * state carried from window to window), or resumes a run. Prints a progress line on stderr;
 * Ctrl-C saves a checkpoint and exits (a second Ctrl-C quits at once).
 *
 * Test hook (for tests/cli/train_resume.sh): the environment variable
 * BITT_TRAIN_TEST_CRASH makes the process kill itself with SIGKILL at a
 * chosen point, so that a crash test is deterministic:
 *   step:N          right after update N is logged (before any save at N)
 *   save:N:files    while saving at step N: all files written to
 *                   RUN/checkpoint.tmp, nothing renamed yet
 *   save:N:swap     while saving at step N: the old checkpoint moved to
 *                   RUN/checkpoint.old, the new one not yet in place */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../train/trainer.h"
#include "cli.h"

static volatile sig_atomic_t g_stop = 0;

static void on_sigint(int sig) {
    (void)sig;
    g_stop = 1; /* SA_RESETHAND: a second Ctrl-C kills as usual */
}

typedef struct CrashHook {
    char kind[16], stage[16];
    long long step;
} CrashHook;

static void crash_hook(void *ctx, const char *stage, int64_t step) {
    const CrashHook *h = ctx;
    int match = strcmp(h->kind, "step") == 0 ? strcmp(stage, "step") == 0
                                             : strcmp(h->kind, "save") == 0 && strcmp(stage, h->stage) == 0;
    if (match && step == h->step) {
        fprintf(stderr, "bitt train: test hook BITT_TRAIN_TEST_CRASH: killing the process (%s at step %lld)\n",
                stage, (long long)step);
        raise(SIGKILL);
    }
}

typedef struct Progress {
    int tty, log_interval, line_open;
} Progress;

static void fmt_duration(char *out, size_t n, double s) {
    if (!(s >= 0) || s > 1e8) { snprintf(out, n, "?"); return; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(out, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(out, n, "%lds", t);
}

static void on_event(void *ctx, const TrainEvent *ev) {
    Progress *p = ctx;
    if (p->line_open && ev->kind != TRAIN_EV_STEP) { fputs("\r\033[K", stderr); p->line_open = 0; }
    switch (ev->kind) {
    case TRAIN_EV_INFO:
        fprintf(stderr, "%s\n", ev->text);
        break;
    case TRAIN_EV_STEP: {
        char eta[32];
        fmt_duration(eta, sizeof eta, ev->eta_s);
        int show = p->tty || ev->step == 1 || ev->step == ev->total || ev->step % p->log_interval == 0;
        if (!show) break;
        fprintf(stderr, "%sstep %lld/%lld  loss %.4f  lr %.2e  %.0f tok/s  ETA %s%s", p->tty ? "\r\033[K" : "",
                (long long)ev->step, (long long)ev->total, ev->loss, ev->lr, ev->tok_s, eta, p->tty ? "" : "\n");
        p->line_open = p->tty;
        break;
    }
    case TRAIN_EV_EVAL:
        fprintf(stderr, "step %lld: val loss %.4f, val bits/byte %.4f", (long long)ev->step, ev->val_loss, ev->val_bpb);
        if (!isnan(ev->val_stream_loss))
            fprintf(stderr, "; one pass (state carried): loss %.4f, bits/byte %.4f", ev->val_stream_loss,
                    ev->val_stream_bpb);
        fputs("\n", stderr);
        break;
    case TRAIN_EV_SAVED:
        fprintf(stderr, "step %lld: checkpoint saved to %s\n", (long long)ev->step, ev->text);
        break;
    }
    fflush(stderr);
}

int cmd_train(int argc, char **argv) {
    TrainOptions o;
    train_options_default(&o);
    const char *variant = "linear", *ttt = NULL, *device = "auto", *forget_gate = "on", *cuda_math = NULL;
    int steps = (int)o.steps, warmup = (int)o.warmup, save_interval = (int)o.save_interval;
    int eval_interval = (int)o.eval_interval, no_act_quant = 0, log_interval = 10;
    int carry = 0, no_carry = 0, val_tokens = (int)o.val_tokens;
    Flag flags[] = {
        {"data", FLAG_STRING, &o.data_path, "token file from `bitt prepare` (required)", 0},
        {"val", FLAG_STRING, &o.val_path, "validation token file (loss and bits/byte every --eval-interval)", 0},
        {"tokenizer", FLAG_STRING, &o.tokenizer_path, "tokenizer.json the token files were made with (required for a new run)", 0},
        {"out", FLAG_STRING, &o.out_dir, "run directory: checkpoint/, metrics.jsonl, loss.svg (required)", 0},
        {"dim", FLAG_INT, &o.dim, "hidden size D (default 256)", 0},
        {"layers", FLAG_INT, &o.layers, "layers L (default 8)", 0},
        {"heads", FLAG_INT, &o.heads, "TTT heads H (default D/64)", 0},
        {"mini-batch", FLAG_INT, &o.mini_batch, "TTT mini-batch b (default 16)", 0},
        {"base-lr", FLAG_FLOAT, &o.base_lr, "TTT-Linear inner step scale base_lr (default 1.0)", 0},
        {"state-decay", FLAG_FLOAT, &o.state_decay, "TTT-Linear bounded memory: after each mini-batch W <- W0 + d (W - W0), "
                                                    "d in (0, 1]; 1 (default) is SPEC 1.2 (docs/TTT_MEMORY.md)", 0},
        {"forget-gate", FLAG_STRING, &forget_gate, "on or off: the learned forget gate of the linear mixer's memory "
                                                   "(SPEC 1.2.1; default on for linear, off with --state-decay < 1)", 0},
        {"variant", FLAG_STRING, &variant, "mixer: linear (default), seed or none", 0},
        {"ttt", FLAG_STRING, &ttt, "same as --variant", 0},
        {"no-act-quant", FLAG_BOOL, &no_act_quant, "float activations in the BitLinears (act_quant none)", 0},
        {"context", FLAG_INT, &o.context, "tokens per training window (default 128)", 0},
        {"batch", FLAG_INT, &o.batch, "windows per step (default 16): with a carried state, streams", 0},
        {"carry-state", FLAG_BOOL, &carry, "stateful training: each of the --batch streams reads consecutive "
                                           "windows, each starting from the TTT state the previous one left", 0},
        {"no-carry-state", FLAG_BOOL, &no_carry, "independent windows at random offsets, each from the start state (W0, b0) (the default)", 0},
        {"state-reset", FLAG_FLOAT, &o.state_reset, "carried state: probability per step that a stream restarts from the "
                                                    "start state at a random offset (default 0.01)", 0},
        {"steps", FLAG_INT, &steps, "updates in total (default 1000; with --resume: extends the run)", 0},
        {"lr", FLAG_FLOAT, &o.lr, "peak learning rate (default 3e-4)", 0},
        {"warmup", FLAG_INT, &warmup, "linear warmup steps (default 100)", 0},
        {"min-lr", FLAG_FLOAT, &o.min_lr, "learning rate at the end of the cosine decay (default 1e-5)", 0},
        {"weight-decay", FLAG_FLOAT, &o.weight_decay, "AdamW weight decay on matrices (default 0.1)", 0},
        {"clip", FLAG_FLOAT, &o.clip, "gradient norm clipping (default 1.0)", 0},
        {"save-interval", FLAG_INT, &save_interval, "checkpoint every N steps (default 500; always at the end)", 0},
        {"eval-interval", FLAG_INT, &eval_interval, "validation every N steps (default 100; and at the end)", 0},
        {"val-windows", FLAG_INT, &o.val_windows, "validation windows scored per evaluation (default 64)", 0},
        {"val-tokens", FLAG_INT, &val_tokens, "one-pass validation as `bitt eval` scores: state carried over the first N "
                                             "validation tokens (default 16384; 0 off)", 0},
        {"log-interval", FLAG_INT, &log_interval, "progress line every N steps when stderr is not a terminal (default 10)", 0},
        {"seed", FLAG_U64, &o.seed, "random seed: initialisation and windows (default 1)", 0},
        {"device", FLAG_STRING, &device, "cpu, cuda or auto (default auto: the CUDA GPU if there is one, else the CPU)", 0},
        {"cuda-math", FLAG_STRING, &cuda_math, "on the GPU: f32 (default: exact FP32 products) or tf32 (TF32 tensor "
                                               "cores, FP32 accumulation)", 0},
        {"threads", FLAG_INT, &o.threads, "threads (default 0 = all cores: 2 threads train 1.8x faster on 2 cores, 1.1x beside a busy process); a run "
                                           "reproduces exactly with any count", 0},
        {"resume", FLAG_BOOL, &o.resume, "continue the run in --out from its checkpoint (its settings, data and intervals)", 0},
    };
    Command cmd = {"train",
                   "--data TOKENS.bin [--val TOKENS.bin] --tokenizer T.json --out DIR [flags]",
                   "Trains a Bit-Llama model on the CPU or a CUDA GPU (exact gradients; AdamW, warmup + cosine),\n"
                   "writing DIR/checkpoint (a model directory for generate/eval/convert), DIR/metrics.jsonl\n"
                   "and DIR/loss.svg. --resume continues an interrupted run exactly.",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    if (rc) return rc < 0 ? 1 : 0;
    if (!o.out_dir || (!o.data_path && !o.resume))
        return cli_fail("train", "--data and --out are required (see bitt train --help)");
    if (!o.resume && !o.tokenizer_path) return cli_fail("train", "--tokenizer is required for a new run");
    if (args_seen(&cmd, "base-lr") && !(o.base_lr > 0.0f && o.base_lr < 1e6f))
        return cli_fail("train", "--base-lr must be a positive number (got %g)", (double)o.base_lr);
    if (args_seen(&cmd, "state-decay") && !(o.state_decay > 0.0f && o.state_decay <= 1.0f))
        return cli_fail("train", "--state-decay must be in (0, 1] (got %g)", (double)o.state_decay);
    if (ttt) variant = ttt;
    if (ttt_variant_parse(variant, &o.variant) != 0)
        return cli_fail("train", "--variant: unknown TTT variant '%s' (linear, seed or none)", variant);
    if (!o.resume && cli_forget_gate("train", forget_gate, args_seen(&cmd, "forget-gate"), o.variant,
                                     o.state_decay > 0 ? o.state_decay : 1.0f, &o.forget_gate) != 0)
        return 1;
    if (o.resume) {
        /* flags naming the run's settings may be given again (the same command line + --resume);
         * the trainer refuses a changed value */
        static const struct { const char *flag; unsigned bit; } fixed[] = {
            {"dim", TRAIN_GIVEN_DIM}, {"layers", TRAIN_GIVEN_LAYERS}, {"heads", TRAIN_GIVEN_HEADS},
            {"mini-batch", TRAIN_GIVEN_MINI_BATCH}, {"base-lr", TRAIN_GIVEN_BASE_LR},
            {"state-decay", TRAIN_GIVEN_STATE_DECAY}, {"forget-gate", TRAIN_GIVEN_FORGET_GATE},
            {"variant", TRAIN_GIVEN_VARIANT}, {"ttt", TRAIN_GIVEN_VARIANT}, {"no-act-quant", TRAIN_GIVEN_ACT_QUANT},
            {"context", TRAIN_GIVEN_CONTEXT}, {"batch", TRAIN_GIVEN_BATCH}, {"lr", TRAIN_GIVEN_LR},
            {"warmup", TRAIN_GIVEN_WARMUP}, {"min-lr", TRAIN_GIVEN_MIN_LR}, {"weight-decay", TRAIN_GIVEN_WEIGHT_DECAY},
            {"clip", TRAIN_GIVEN_CLIP}, {"seed", TRAIN_GIVEN_SEED}, {"carry-state", TRAIN_GIVEN_CARRY_STATE},
            {"no-carry-state", TRAIN_GIVEN_CARRY_STATE}, {"state-reset", TRAIN_GIVEN_STATE_RESET}};
        for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
            if (args_seen(&cmd, fixed[i].flag)) o.given |= fixed[i].bit;
        if (args_seen(&cmd, "forget-gate")) {
            if (strcmp(forget_gate, "on") != 0 && strcmp(forget_gate, "off") != 0)
                return cli_fail("train", "--forget-gate takes on or off (got '%s')", forget_gate);
            o.forget_gate = strcmp(forget_gate, "on") == 0;
        }
        if (!args_seen(&cmd, "state-decay")) o.state_decay = 1.0f;
        o.steps = args_seen(&cmd, "steps") ? steps : 0;
        /* the run's own unless given again */
        if (!args_seen(&cmd, "save-interval")) save_interval = -1;
        if (!args_seen(&cmd, "eval-interval")) eval_interval = -1;
        if (!args_seen(&cmd, "val-windows")) o.val_windows = 0;
        if (!args_seen(&cmd, "val-tokens")) val_tokens = -1;
    } else {
        o.steps = steps;
    }
    if (steps < 1 || warmup < 0 || save_interval < -1 || eval_interval < -1 || log_interval < 1 || o.val_windows < 0 ||
        o.context < 1 || o.batch < 1 || o.threads < 0)
        return cli_fail("train", "--steps, --context, --batch, --val-windows and --log-interval must be >= 1; "
                                 "--warmup, the intervals and --threads >= 0");
    if (!(o.lr > 0) || !(o.min_lr >= 0) || !(o.clip > 0) || !(o.weight_decay >= 0))
        return cli_fail("train", "--lr and --clip must be > 0, --min-lr and --weight-decay >= 0");
    if (carry && no_carry) return cli_fail("train", "--carry-state and --no-carry-state contradict each other");
    if (!(o.state_reset >= 0 && o.state_reset <= 1)) return cli_fail("train", "--state-reset must be in [0, 1]");
    if (val_tokens < -1 || (val_tokens == -1 && !o.resume)) return cli_fail("train", "--val-tokens must be >= 0");
    if (carry || no_carry) o.carry_state = carry;
    o.val_tokens = val_tokens;
    o.warmup = warmup;
    o.save_interval = save_interval;
    o.eval_interval = eval_interval;
    o.act_quant = !no_act_quant;
    if (strcmp(device, "cpu") != 0 && strcmp(device, "cuda") != 0 && strcmp(device, "auto") != 0)
        return cli_fail("train", "--device: '%s' is not cpu, cuda or auto", device);
    char device_options[16] = "";
    if (cuda_math) {
        if (strcmp(cuda_math, "f32") != 0 && strcmp(cuda_math, "tf32") != 0)
            return cli_fail("train", "--cuda-math takes f32 or tf32 (got '%s')", cuda_math);
        snprintf(device_options, sizeof device_options, "math=%s", cuda_math);
    }
    o.device = device; /* the trainer reports a fallback to the CPU in one line */
    o.device_options = device_options[0] ? device_options : NULL;

    CrashHook crash;
    const char *spec = getenv("BITT_TRAIN_TEST_CRASH");
    if (spec && *spec) {
        memset(&crash, 0, sizeof crash);
        if (sscanf(spec, "step:%lld", &crash.step) == 1) {
            strcpy(crash.kind, "step");
        } else if (sscanf(spec, "save:%lld:%15s", &crash.step, crash.stage) == 2 &&
                   (strcmp(crash.stage, "files") == 0 || strcmp(crash.stage, "swap") == 0)) {
            strcpy(crash.kind, "save");
        } else {
            return cli_fail("train", "BITT_TRAIN_TEST_CRASH='%s': expected step:N, save:N:files or save:N:swap", spec);
        }
        o.hook = crash_hook;
        o.hook_ctx = &crash;
    }
    Progress prog = {isatty(2), log_interval, 0};
    o.on_event = on_event;
    o.event_ctx = &prog;
    o.stop = &g_stop;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    BittError err;
    TrainResult res;
    rc = train_run(&o, &res, &err);
    if (prog.line_open) fputs("\n", stderr);
    signal(SIGINT, SIG_DFL);
    if (rc != 0) return cli_fail("train", "%s", err.message);
    if (res.interrupted) {
        fprintf(stderr, "interrupted at step %lld: checkpoint saved; continue with: bitt train --out %s --resume\n",
                (long long)res.step, o.out_dir);
        return 130;
    }
    if (res.tok_s <= 0) return 0; /* nothing was left to do */
    fprintf(stderr, "done: %lld steps, last loss %.4f", (long long)res.step, res.loss);
    if (res.val_loss > 0) fprintf(stderr, ", val loss %.4f, val bits/byte %.4f", res.val_loss, res.val_bpb);
    fprintf(stderr, ", %.0f tok/s. Model: %s/checkpoint\n", res.tok_s, o.out_dir);
    return 0;
}
