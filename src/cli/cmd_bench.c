/* cmd_bench.c: `bitt bench`: prefill and decode speed (tokens/s, medians of
 * runs), decode speed and memory at growing contexts (the TTT state is
 * constant: no KV cache), load time and peak RSS, for a given model or a
 * random one of given dimensions written as .bitt v2 and loaded back.
 * --dense-f32 runs the same model with float weights through a plain float
 * matmul: the llama2.c-style baseline measured in the same way. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../model/model_file.h"
#include "../infer/session.h"
#include "../sampling/sampler.h"
#include "../util/threadpool.h"
#include "bench_util.h"
#include "cli.h"

#define BENCH_MAX_CONTEXTS 16
#define BENCH_MAX_THREAD_COUNTS 8

typedef struct BenchOptions {
    int prompt_tokens, gen_tokens, runs;
    int contexts[BENCH_MAX_CONTEXTS];
    int n_contexts;
} BenchOptions;

typedef struct ThreadResult {
    int threads;
    double prefill_tok_s, decode_tok_s; /* medians */
} ThreadResult;

typedef struct ContextResult {
    int context;
    double decode_tok_s;  /* median */
    size_t rss_bytes;     /* after the last run at this context */
} ContextResult;

/* Writes a random model of the given shape as .bitt v2 at path, in a child
 * process so that building it (float latent weights) does not count in this
 * process's peak RSS. */
static int write_random_model(const char *path, int dim, int layers, int heads, int vocab,
                              const char *variant, const char *embed) {
    char s_dim[16], s_layers[16], s_heads[16], s_vocab[16];
    snprintf(s_dim, sizeof s_dim, "%d", dim);
    snprintf(s_layers, sizeof s_layers, "%d", layers);
    snprintf(s_heads, sizeof s_heads, "%d", heads);
    snprintf(s_vocab, sizeof s_vocab, "%d", vocab);
    char *args[] = {"--out", (char *)path, "--dim", s_dim, "--layers", s_layers, "--heads", s_heads,
                    "--vocab", s_vocab, "--variant", (char *)variant, "--packed", "--embed", (char *)embed};
    int n_args = (int)(sizeof args / sizeof *args);
    if (heads == 0) {  /* default heads: drop the flag pair */
        memmove(args + 6, args + 8, (size_t)(n_args - 8) * sizeof *args);
        n_args -= 2;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) _exit(cmd_init(n_args, args));
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* --contend: n child processes that only burn CPU, as a browser tab, a build
 * or a second model would, started before the measurements and killed after. */
#define BENCH_MAX_CONTEND 64
static int start_contenders(int n, pid_t *pids) {
    fflush(NULL);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] < 0) return -1;
        if (pids[i] == 0) {
            volatile unsigned long spin = 0;
            for (;;) spin++;
        }
    }
    return 0;
}

static void stop_contenders(int n, pid_t *pids) {
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
}

/* Random token ids in [3, V): the specials are left out. */
static void random_ids(BittRng *rng, int V, int32_t *ids, int n) {
    for (int i = 0; i < n; i++) ids[i] = 3 + (int32_t)(rng_next_u64(rng) % (uint64_t)(V - 3));
}

/* Feeds n prompt ids (one call: the dual form, chunked) then generates
 * gen tokens one at a time with the default sampler. Times in seconds. */
static int run_once(Session *s, Sampler *smp, const int32_t *prompt, int n, int gen, float *logits,
                    double *t_prefill, double *t_decode, BittError *err) {
    session_reset(s);
    sampler_reseed(smp, 42);
    double t0 = cli_now();
    if (session_forward(s, prompt, n, logits, 0, err) != 0) return -1;
    double t1 = cli_now();
    for (int i = 0; i < gen; i++) {
        int32_t tok = sampler_sample(smp, logits);
        if (session_forward(s, &tok, 1, logits, 0, err) != 0) return -1;
    }
    double t2 = cli_now();
    *t_prefill = t1 - t0;
    *t_decode = t2 - t1;
    return 0;
}

static int bench_model(Model *m, const BenchOptions *o, double *prefill_tok_s, double *decode_tok_s,
                       ContextResult *ctx, BittError *err) {
    const int V = m->cfg.vocab_size;
    int max_n = o->prompt_tokens;
    for (int c = 0; c < o->n_contexts; c++) max_n = o->contexts[c] > max_n ? o->contexts[c] : max_n;
    int32_t *ids = malloc((size_t)(max_n > 0 ? max_n : 1) * sizeof *ids);
    float *logits = malloc((size_t)V * sizeof *logits);
    double *pre = malloc((size_t)o->runs * sizeof *pre), *dec = malloc((size_t)o->runs * sizeof *dec);
    double *ctx_dec = malloc((size_t)(o->n_contexts + 1) * o->runs * sizeof *ctx_dec);
    Session s;
    Sampler smp;
    SamplingParams sp = sampling_params_basic(0.8f, 40, 0.95f, 42);
    int rc = -1, have_session = 0, have_sampler = 0;
    if (!ids || !logits || !pre || !dec || !ctx_dec) {
        bitt_fail(err, "out of memory");
        goto done;
    }
    if (session_init(&s, m, err) != 0) goto done;
    have_session = 1;
    if (sampler_init(&smp, V, &sp, err) != 0) goto done;
    have_sampler = 1;
    BittRng rng;
    rng_seed(&rng, 7);
    random_ids(&rng, V, ids, max_n);

    /* warm-up: page in the weights, size the thread pool */
    double tp, td;
    if (run_once(&s, &smp, ids, o->prompt_tokens < 64 ? o->prompt_tokens : 64, 8, logits, &tp, &td, err) != 0)
        goto done;
    for (int r = 0; r < o->runs; r++) {
        if (run_once(&s, &smp, ids, o->prompt_tokens, o->gen_tokens, logits, &tp, &td, err) != 0)
            goto done;
        pre[r] = tp > 0 ? o->prompt_tokens / tp : 0;
        dec[r] = td > 0 ? o->gen_tokens / td : 0;
    }
    *prefill_tok_s = bench_median(pre, o->runs);
    *decode_tok_s = bench_median(dec, o->runs);
    /* contexts interleaved run by run, so a slow spell of the machine
     * does not land on one context only */
    for (int r = 0; r < o->runs && o->n_contexts > 0; r++)
        for (int c = 0; c < o->n_contexts; c++) {
            if (run_once(&s, &smp, ids, o->contexts[c], o->gen_tokens, logits, &tp, &td, err) != 0)
                goto done;
            ctx_dec[(size_t)c * o->runs + r] = td > 0 ? o->gen_tokens / td : 0;
            ctx[c].rss_bytes = bench_rss_bytes();
        }
    for (int c = 0; c < o->n_contexts; c++) {
        ctx[c].context = o->contexts[c];
        ctx[c].decode_tok_s = bench_median(ctx_dec + (size_t)c * o->runs, o->runs);
    }
    rc = 0;
done:
    if (have_sampler) sampler_free(&smp);
    if (have_session) session_free(&s);
    free(ids);
    free(logits);
    free(pre);
    free(dec);
    free(ctx_dec);
    return rc;
}

/* "1,2" into counts (each 1..256); the number of counts, or -1. */
static int parse_thread_counts(const char *list, int *counts) {
    int n = 0;
    const char *p = list;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 256 || n == BENCH_MAX_THREAD_COUNTS) return -1;
        counts[n++] = (int)v;
        if (*end == ',') end++;
        else if (*end) return -1;
        p = end;
    }
    return n > 0 ? n : -1;
}

static int parse_contexts(const char *list, BenchOptions *o) {
    o->n_contexts = 0;
    if (strcmp(list, "none") == 0 || !*list) return 0;
    const char *p = list;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 1 << 24 || o->n_contexts == BENCH_MAX_CONTEXTS) return -1;
        o->contexts[o->n_contexts++] = (int)v;
        if (*end == 'k' || *end == 'K') {
            o->contexts[o->n_contexts - 1] *= 1024;
            end++;
        }
        if (*end == ',') end++;
        else if (*end) return -1;
        p = end;
    }
    return 0;
}

int cmd_bench(int argc, char **argv) {
    const char *model_path = NULL, *variant = "linear", *kernels = NULL, *lm_head = NULL, *embed = NULL;
    const char *contexts = "128,1k,4k,16k", *thread_list = NULL;
    int dim = 256, layers = 8, heads = 0, vocab = 16384, threads = 0, dense = 0, json = 0, contend = 0;
    BenchOptions o = {512, 128, 5, {0}, 0};
    Flag flags[] = {
        {"model", FLAG_STRING, &model_path, "model to measure (default: a random one of --dim/--layers/--vocab)", 0},
        {"dim", FLAG_INT, &dim, "random model: hidden size D (default 256)", 0},
        {"layers", FLAG_INT, &layers, "random model: layers L (default 8)", 0},
        {"heads", FLAG_INT, &heads, "random model: TTT heads (default D/64)", 0},
        {"vocab", FLAG_INT, &vocab, "random model: vocabulary size (default 16384)", 0},
        {"variant", FLAG_STRING, &variant, "random model: TTT mixer linear, seed or none (default linear)", 0},
        {"embed", FLAG_STRING, &embed, "random model: embed and lm_head as i8 (default, as `convert --packed` writes) or f16", 0},
        {"prompt-tokens", FLAG_INT, &o.prompt_tokens, "prompt length for the prefill figure (default 512)", 0},
        {"gen-tokens", FLAG_INT, &o.gen_tokens, "tokens generated per decode measurement (default 128)", 0},
        {"contexts", FLAG_STRING, &contexts, "decode after these context lengths, at the first thread count (default 128,1k,4k,16k; none)", 0},
        {"runs", FLAG_INT, &o.runs, "runs per figure; medians are reported (default 5)", 0},
        {"threads", FLAG_INT, &threads, CLI_THREADS_HELP, 0},
        {"thread-counts", FLAG_STRING, &thread_list, "measure prefill and decode at each of these thread counts, e.g. 1,2 "
                                                     "(default: 1 and all cores; --threads N: N only)", 0},
        {"kernels", FLAG_STRING, &kernels, "backend: avx2 or scalar (default: best for this CPU)", 0},
        {"lm-head", FLAG_STRING, &lm_head, "f32 or int8 logits (default: the model's form, int8 for I8 embeddings)", 0},
        {"dense-f32", FLAG_BOOL, &dense, "baseline: float32 weights and activations, plain float matmul", 0},
        {"contend", FLAG_INT, &contend, "run N busy-loop processes beside the measurements (a shared CPU)", 0},
        {"json", FLAG_BOOL, &json, "print one JSON object with the figures", 0},
    };
    Command cmd = {"bench", "[--model M | --dim D --layers L --vocab V] [flags]",
                   "Measures prefill and decode tokens/s, decode at long contexts, load time and peak RSS.",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    if (rc) return rc < 0 ? 1 : 0;
    if (o.prompt_tokens < 1 || o.gen_tokens < 1 || o.runs < 1)
        return cli_fail("bench", "--prompt-tokens, --gen-tokens and --runs must be >= 1");
    if (threads < 0) return cli_fail("bench", "--threads must be >= 0");
    if (thread_list && args_seen(&cmd, "threads")) return cli_fail("bench", "give either --threads or --thread-counts");
    int counts[BENCH_MAX_THREAD_COUNTS], n_counts = 0;
    if (thread_list) {
        if ((n_counts = parse_thread_counts(thread_list, counts)) < 0)
            return cli_fail("bench", "--thread-counts: expected up to %d counts 1..256 like 1,2 (got '%s')",
                            BENCH_MAX_THREAD_COUNTS, thread_list);
    } else if (args_seen(&cmd, "threads")) {
        counts[n_counts++] = threads; /* 0: all cores, resolved by threads_set */
    } else {
        counts[n_counts++] = 1;
        if (threads_available() > 1) counts[n_counts++] = threads_available();
    }
    if (contend < 0 || contend > BENCH_MAX_CONTEND) return cli_fail("bench", "--contend must be 0..%d", BENCH_MAX_CONTEND);
    if (parse_contexts(contexts, &o) != 0)
        return cli_fail("bench", "--contexts: expected a comma-separated list like 128,1k,8k (got '%s')", contexts);
    if (lm_head && strcmp(lm_head, "f32") != 0 && strcmp(lm_head, "int8") != 0)
        return cli_fail("bench", "--lm-head must be f32 or int8 (got '%s')", lm_head);
    if (dense && kernels) return cli_fail("bench", "give either --dense-f32 or --kernels");
    const Kernels *k = kernels_best();
    if (dense) kernels = "dense-f32";
    if (kernels && !(k = kernels_by_name(kernels)))
        return cli_fail("bench", "kernels '%s' are not available on this machine", kernels);
    int embed_i8 = 1;
    if (cli_embed_form("bench", embed, 1, 1, &embed_i8) != 0) return 1;
    if (model_path && (args_seen(&cmd, "dim") || args_seen(&cmd, "layers") || args_seen(&cmd, "vocab") ||
                       args_seen(&cmd, "embed")))
        return cli_fail("bench", "give either --model or the dimensions of a random model");
    counts[0] = threads_set(counts[0]);

    char tmp_dir[4096], tmp_path[4200];
    int made_tmp = 0;
    if (!model_path) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp_dir, sizeof tmp_dir, "%s/bitt-bench-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmp_dir)) return cli_fail("bench", "cannot create a temporary directory in %s", base && *base ? base : "/tmp");
        made_tmp = 1;
        snprintf(tmp_path, sizeof tmp_path, "%s/random.bitt", tmp_dir);
        if (write_random_model(tmp_path, dim, layers, heads, vocab, variant, embed_i8 ? "i8" : "f16") != 0) {
            rmdir(tmp_dir);
            return cli_fail("bench", "could not write the random model");
        }
        model_path = tmp_path;
    }
    BittError err;
    long long file_bytes = bench_path_bytes(model_path);
    size_t rss_before = bench_rss_bytes();
    double t0 = cli_now();
    Model *m = model_load(model_path, 0, &err);
    double load_s = cli_now() - t0;
    size_t rss_loaded = bench_rss_bytes();
    if (made_tmp) {
        remove(tmp_path);
        rmdir(tmp_dir);
    }
    if (!m) return cli_fail("bench", "%s", err.message);
    if (dense) m->cfg.act_quant = 0;  /* float activations through the float kernels */
    ContextResult ctx[BENCH_MAX_CONTEXTS];
    ThreadResult by_threads[BENCH_MAX_THREAD_COUNTS];
    double prefill = 0, decode = 0;
    rc = 1;
    if (model_use_kernels(m, k, &err) != 0 ||
        (lm_head && model_set_lm_head_int8(m, strcmp(lm_head, "int8") == 0, &err) != 0)) {
        cli_fail("bench", "%s", err.message);
        goto done;
    }
    lm_head = m->lm_head_i8 ? "int8" : "f32";
    size_t rss_ready = bench_rss_bytes();
    pid_t contenders[BENCH_MAX_CONTEND] = {0};
    if (start_contenders(contend, contenders) != 0) {
        stop_contenders(contend, contenders);
        cli_fail("bench", "--contend: cannot start the busy-loop processes");
        goto done;
    }
    /* the contexts at the first count; the other counts: prefill and decode */
    int bench_rc = 0;
    for (int i = 0; i < n_counts && !bench_rc; i++) {
        BenchOptions oi = o;
        if (i) oi.n_contexts = 0;
        by_threads[i].threads = threads_set(counts[i]);
        bench_rc = bench_model(m, &oi, &by_threads[i].prefill_tok_s, &by_threads[i].decode_tok_s, ctx, &err);
    }
    threads_set(counts[0]);
    prefill = by_threads[0].prefill_tok_s;
    decode = by_threads[0].decode_tok_s;
    stop_contenders(contend, contenders);
    if (bench_rc != 0) {
        cli_fail("bench", "%s", err.message);
        goto done;
    }
    size_t peak = bench_peak_rss_bytes();
    for (int i = 0; i < o.n_contexts; i++)  /* the kernel's peak counter lags a little */
        if (ctx[i].rss_bytes > peak) peak = ctx[i].rss_bytes;
    const ModelConfig *c = &m->cfg;
    if (json) {
        printf("{\"prefill_tok_s\":%.1f,\"decode_tok_s\":%.1f,\"peak_rss_bytes\":%zu,\"threads\":%d,"
               "\"kernels\":\"%s\",\"lm_head\":\"%s\",\"prompt_tokens\":%d,\"gen_tokens\":%d,\"runs\":%d,"
               "\"model_bytes\":%lld,\"bitt_version\":%d,\"params\":%lld,\"load_s\":%.4f,"
               "\"rss_before_load_bytes\":%zu,\"rss_loaded_bytes\":%zu,\"rss_ready_bytes\":%zu,\"contend\":%d,"
               "\"config\":{\"dim\":%d,\"layers\":%d,\"heads\":%d,\"vocab\":%d,\"variant\":\"%s\"},\"contexts\":[",
               prefill, decode, peak, threads_get(), k->name, lm_head, o.prompt_tokens, o.gen_tokens, o.runs,
               file_bytes, m->bitt_version, (long long)m->n_values, load_s, rss_before, rss_loaded, rss_ready, contend,
               c->hidden_dim, c->num_layers, c->num_heads, c->vocab_size, ttt_variant_name(c->variant));
        for (int i = 0; i < o.n_contexts; i++)
            printf("%s{\"context\":%d,\"decode_tok_s\":%.1f,\"rss_bytes\":%zu}", i ? "," : "", ctx[i].context,
                   ctx[i].decode_tok_s, ctx[i].rss_bytes);
        printf("],\"intermediate_dim\":%d,\"by_threads\":[", c->intermediate_dim);
        for (int i = 0; i < n_counts; i++)
            printf("%s{\"threads\":%d,\"prefill_tok_s\":%.1f,\"decode_tok_s\":%.1f}", i ? "," : "",
                   by_threads[i].threads, by_threads[i].prefill_tok_s, by_threads[i].decode_tok_s);
        printf("]}\n");
    } else {
        char fb[32], rl[32], rr[32], pk[32];
        cli_format_bytes(fb, sizeof fb, (double)file_bytes);
        cli_format_bytes(rl, sizeof rl, (double)(rss_loaded > rss_before ? rss_loaded - rss_before : 0));
        cli_format_bytes(rr, sizeof rr, (double)rss_ready);
        cli_format_bytes(pk, sizeof pk, (double)peak);
        printf("model     D=%d L=%d H=%d V=%d %s, %lld params, .bitt v%d of %s\n", c->hidden_dim,
               c->num_layers, c->num_heads, c->vocab_size, ttt_variant_name(c->variant),
               (long long)m->n_values, m->bitt_version, fb);
        printf("load      %.1f ms, RSS +%s by the load, %s once prepared for %s\n", load_s * 1e3, rl, rr, k->name);
        printf("run       kernels %s, lm_head %s, medians of %d runs%s; contexts at %d thread(s)\n", k->name, lm_head,
               o.runs, contend ? " (beside busy-loop processes: --contend)" : "", by_threads[0].threads);
        for (int i = 0; i < n_counts; i++)
            printf("%d thread%s prefill %8.1f tok/s (%d-token prompt), decode %8.1f tok/s (%d tokens after it)\n",
                   by_threads[i].threads, by_threads[i].threads == 1 ? ": " : "s:", by_threads[i].prefill_tok_s,
                   o.prompt_tokens, by_threads[i].decode_tok_s, o.gen_tokens);
        for (int i = 0; i < o.n_contexts; i++) {
            char rs[32];
            cli_format_bytes(rs, sizeof rs, (double)ctx[i].rss_bytes);
            printf("context %6d: decode %8.1f tok/s, RSS %s\n", ctx[i].context, ctx[i].decode_tok_s, rs);
        }
        printf("peak RSS  %s\n", pk);
    }
    rc = 0;
done:
    model_free(m);
    return rc;
}
