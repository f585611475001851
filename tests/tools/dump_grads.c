/* dump_grads.c: test tool bitt_dump_grads: the loss and every parameter
 * gradient of one training batch as `bitt train` computes them (train_forward.h),
 * written to a safetensors file, so that an independent implementation
 * (tests/reference/bitllama.py) can be checked against the C trainer.
 *
 *   bitt_dump_grads --model M --data TOKENS.bin --context T --starts S1,S2,...
 *                   [--carry N] [--precision f32|f64] [--device cpu|cuda] [--no-quant-weights]
 *                   --out OUT.safetensors
 *
 * Sequence s is the window ids[S_s .. S_s + T] (T + 1 ids, T predictions). With
 * --carry N each sequence first runs the N windows before it in its stream
 * (starting at S_s - N*T, S_s - (N-1)*T, ...; forward only, from the start
 * state), carrying the TTT state as `bitt train --carry-state` does, so the
 * batch starts from a carried state (a constant: no gradient into the past;
 * T must then be a multiple of the mini-batch for `linear`). The loss is the
 * mean over sequences of the mean token cross-entropy, in nats.
 *
 * OUT holds: "loss" [1] and "seq_loss" [n] (F64), one tensor per parameter
 * named like it (F64 with --precision f64, the default; F32 with f32) holding
 * d loss / d param (the STE gradient of the latent weights for the BitLinears),
 * with --carry also "carried_state" [n, S] (F64; the state each sequence
 * started from, layout of train_state_floats), and in __metadata__ the settings.
 *
 * Built twice from this file: bitt_dump_grads (double, through bitt_train_f64)
 * and bitt_dump_grads_f32 (float, the trainer's own math); each runs the
 * other for the other precision. (The float and double training math cannot
 * share one binary: clang gives the target_clones resolvers of cpu_gemm.c
 * global names, which then collide.) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump_grads.h"
#include "model/model_file.h"
#include "formats/safetensors.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: bitt_dump_grads --model M --data TOKENS.bin --context T --starts S1,S2,... --out OUT.safetensors\n"
            "                       [--carry N] [--precision f32|f64] [--device cpu|cuda] [--no-quant-weights]\n"
            "\n"
            "Runs one training batch (forward + backward, as bitt train) and writes the loss and\n"
            "every parameter gradient to OUT.safetensors.\n"
            "\n"
            "  --model M            checkpoint directory or .bitt v1 (float latent weights)\n"
            "  --data TOKENS.bin    token file from bitt prepare (with its .json sidecar)\n"
            "  --context T          predictions per sequence: sequence s reads ids[S_s .. S_s + T]\n"
            "  --starts S1,S2,...   window starts, one per sequence of the batch\n"
            "  --carry N            first run the N preceding windows of each sequence (forward\n"
            "                       only), carrying the TTT state into the batch (default 0)\n"
            "  --precision P        f64 (the double build of the training math; default of bitt_dump_grads)\n"
            "                       or f32 (the trainer's float math; default of bitt_dump_grads_f32)\n"
            "  --device D           cpu (default) or cuda: the trainer's backend (cuda: --precision f32 only)\n"
            "  --no-quant-weights   latent weights as they are (default: ternary, as training)\n"
            "  --out OUT            safetensors file to write\n");
}

static int parse_int(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* "0,37,101" -> starts; returns the count or -1. */
static int parse_starts(const char *s, uint64_t **out) {
    int n = 1;
    for (const char *p = s; *p; p++) n += *p == ',';
    uint64_t *v = malloc((size_t)n * sizeof *v);
    char *copy = strdup(s);
    if (!v || !copy) { free(v); free(copy); return -1; }
    int k = 0;
    for (char *tok = copy, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next) *next++ = '\0';
        long long x;
        if (parse_int(tok, 0, INT64_MAX, &x) != 0) { free(v); free(copy); return -1; }
        v[k++] = (uint64_t)x;
    }
    free(copy);
    *out = v;
    return k;
}

void dump_grads_result_free(DumpGradsResult *res) {
    free(res->seq_loss);
    free(res->grad);
    free(res->state);
    memset(res, 0, sizeof *res);
}

static int write_result(const char *path, const Model *m, const DumpGradsResult *r, int n_seq, int f32,
                        char meta[][2][256], int n_meta, BittError *err) {
    StWriter w;
    st_writer_init(&w);
    int rc = -1;
    const int64_t one = 1, nseq = n_seq, state_shape[2] = {n_seq, (int64_t)r->state_floats};
    float *g32 = NULL;
    if (f32 && !(g32 = malloc((r->n_params ? r->n_params : 1) * sizeof *g32))) {
        bitt_fail(err, "out of memory");
        goto done;
    }
    if (st_writer_add(&w, "loss", ST_F64, 1, &one, &r->loss, err) != 0 ||
        st_writer_add(&w, "seq_loss", ST_F64, 1, &nseq, r->seq_loss, err) != 0)
        goto done;
    size_t off = 0;
    for (int i = 0; i < m->n_params; i++) {
        const ParamSpec *p = &m->params[i].spec;
        const size_t count = p->count;
        if (off + count > r->n_params) {
            bitt_fail(err, "the training table has fewer values than the model's parameters");
            goto done;
        }
        const void *data = r->grad + off;
        if (f32) {
            for (size_t k = 0; k < count; k++) g32[off + k] = (float)r->grad[off + k];
            data = g32 + off;
        }
        if (st_writer_add(&w, p->name, f32 ? ST_F32 : ST_F64, p->ndim, p->shape, data, err) != 0) goto done;
        off += count;
    }
    if (off != r->n_params) {
        bitt_fail(err, "the training table has %zu values, the model's parameters %zu", r->n_params, off);
        goto done;
    }
    if (r->state && st_writer_add(&w, "carried_state", ST_F64, 2, state_shape, r->state, err) != 0) goto done;
    for (int i = 0; i < n_meta; i++)
        if (st_writer_meta(&w, meta[i][0], meta[i][1], err) != 0) goto done;
    rc = st_writer_save(&w, path, err);
done:
    st_writer_free(&w);
    free(g32);
    return rc;
}

#if DUMP_GRADS_F64
#define THIS_PRECISION "f64"
#define OTHER_TOOL "bitt_dump_grads_f32"
#define RUN dump_grads_run_f64
#else
#define THIS_PRECISION "f32"
#define OTHER_TOOL "bitt_dump_grads"
#define RUN dump_grads_run
#endif

/* Runs the build of the other precision, next to this one. */
static int run_other(char **argv) {
    char path[4096];
    const char *slash = strrchr(argv[0], '/');
    if (slash) snprintf(path, sizeof path, "%.*s/%s", (int)(slash - argv[0]), argv[0], OTHER_TOOL);
    else snprintf(path, sizeof path, "%s", OTHER_TOOL);
    argv[0] = path;
    execvp(path, argv);
    fprintf(stderr, "bitt_dump_grads: cannot run %s for the other precision: %s\n", path, strerror(errno));
    return 1;
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *data_path = NULL, *out_path = NULL, *starts_arg = NULL, *precision = THIS_PRECISION;
    const char *device = "cpu";
    long long T = 0, carry = 0;
    int quant_weights = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) { usage(stdout); return 0; }
        if (strcmp(a, "--no-quant-weights") == 0) { quant_weights = 0; continue; }
        if (!val) { fprintf(stderr, "bitt_dump_grads: %s needs a value (or is unknown)\n", a); usage(stderr); return 2; }
        i++;
        if (strcmp(a, "--model") == 0) model_path = val;
        else if (strcmp(a, "--data") == 0) data_path = val;
        else if (strcmp(a, "--out") == 0) out_path = val;
        else if (strcmp(a, "--starts") == 0) starts_arg = val;
        else if (strcmp(a, "--precision") == 0) precision = val;
        else if (strcmp(a, "--device") == 0) device = val;
        else if (strcmp(a, "--context") == 0) {
            if (parse_int(val, 1, 1 << 20, &T) != 0) { fprintf(stderr, "bitt_dump_grads: bad --context %s\n", val); return 2; }
        } else if (strcmp(a, "--carry") == 0) {
            if (parse_int(val, 0, 1 << 20, &carry) != 0) { fprintf(stderr, "bitt_dump_grads: bad --carry %s\n", val); return 2; }
        } else {
            fprintf(stderr, "bitt_dump_grads: unknown flag %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model_path || !data_path || !out_path || !starts_arg || T < 1) {
        fprintf(stderr, "bitt_dump_grads: --model, --data, --context, --starts and --out are required\n");
        usage(stderr);
        return 2;
    }
    if (strcmp(precision, "f64") != 0 && strcmp(precision, "f32") != 0) {
        fprintf(stderr, "bitt_dump_grads: --precision must be f32 or f64 (got %s)\n", precision);
        return 2;
    }
    if (strcmp(device, "cpu") != 0 && strcmp(device, "cuda") != 0) {
        fprintf(stderr, "bitt_dump_grads: --device must be cpu or cuda (got %s)\n", device);
        return 2;
    }
    if (strcmp(device, "cuda") == 0 && strcmp(precision, "f32") != 0) {
        fprintf(stderr, "bitt_dump_grads: --device cuda needs --precision f32 (the CUDA trainer is float)\n");
        return 2;
    }
    if (strcmp(precision, THIS_PRECISION) != 0) return run_other(argv);
    const int f64 = DUMP_GRADS_F64;
    uint64_t *starts = NULL;
    const int n_seq = parse_starts(starts_arg, &starts);
    if (n_seq < 1) {
        fprintf(stderr, "bitt_dump_grads: --starts must be non-negative integers separated by commas (got %s)\n", starts_arg);
        return 2;
    }
    BittError err;
    int rc = 1, have_tokens = 0;
    TokenFile tf;
    DumpGradsResult res;
    memset(&res, 0, sizeof res);
    Model *m = model_load(model_path, 1, &err);
    if (!m) goto fail;
    if (token_file_open(&tf, data_path, NULL, NULL, &err) != 0) goto fail;
    have_tokens = 1;
    if (tf.vocab_size > m->cfg.vocab_size) {
        bitt_fail(&err, "%s: vocabulary of %d ids, the model's is %d", data_path, tf.vocab_size, m->cfg.vocab_size);
        goto fail;
    }
    for (int s = 0; s < n_seq; s++) {
        if (starts[s] + (uint64_t)T + 1 > tf.n_tokens) {
            bitt_fail(&err, "--starts: sequence %d at %" PRIu64 " needs ids up to %" PRIu64 ", %s has %" PRIu64, s,
                      starts[s], starts[s] + (uint64_t)T, data_path, tf.n_tokens);
            goto fail;
        }
        if (starts[s] < (uint64_t)carry * (uint64_t)T) {
            bitt_fail(&err, "--starts: sequence %d at %" PRIu64 " has no room for %lld carried windows of %lld before it",
                      s, starts[s], carry, T);
            goto fail;
        }
    }
    if (carry > 0 && m->cfg.variant == TTT_LINEAR && T % m->cfg.mini_batch != 0) {
        bitt_fail(&err, "--carry: --context %lld is not a multiple of the mini-batch %d (a carried state ends on a "
                        "mini-batch boundary)", T, m->cfg.mini_batch);
        goto fail;
    }
    DumpGradsJob job = {m, &tf, starts, n_seq, (int)T, (int)carry, quant_weights, device};
    if (RUN(&job, &res, &err) != 0) goto fail;
    char meta[8][2][256];
    int n_meta = 0;
#define META(k, ...) (snprintf(meta[n_meta][0], 256, "%s", k), snprintf(meta[n_meta][1], 256, __VA_ARGS__), n_meta++)
    META("model", "%s", model_path);
    META("data", "%s", data_path);
    META("context", "%lld", T);
    META("carry", "%lld", carry);
    META("precision", "%s", precision);
    META("quant_weights", "%d", quant_weights);
    META("act_quant", "%s", m->cfg.act_quant ? "int8" : "none");
    META("device", "%s", device);
#undef META
    if (write_result(out_path, m, &res, n_seq, !f64, meta, n_meta, &err) != 0) goto fail;
    printf("{\"loss\":%.17g,\"sequences\":%d,\"parameters\":%zu}\n", res.loss, n_seq, res.n_params);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "bitt_dump_grads: %s\n", err.message);
done:
    dump_grads_result_free(&res);
    if (have_tokens) token_file_close(&tf);
    model_free(m);
    free(starts);
    return rc;
}
