/* roofline.c: how close decode and prefill come to what this CPU can do
 * (issue 20, "close to the limit"). On one thread it measures
 *   - the peak int8 multiply-add rate of vpdpbusd (ymm, the instruction the
 *     avx512vnni kernels use; zmm where AVX-512 VNNI is there) and of the
 *     AVX2 pair vpmaddubsw + vpmaddwd (the avx2 kernels), in MAC/s;
 *   - read bandwidth at working sets from 32 KB (L1) to 256 MB (DRAM);
 *   - each hot loop alone through the engine's own Kernels: the ternary
 *     BitLinear product at T = 1 (decode) and T = 64 (prefill blocks), the
 *     int8 lm_head at T = 1, as MAC/s and bytes/s of weights read;
 *   - decode and prefill of a model (`--model M.bitt`), medians of runs;
 * and prints each as a fraction of its roofline bound: the time the weight
 * bytes take at the bandwidth measured for a working set of their size, or
 * the MACs at the peak rate, whichever is longer.
 *
 * Usage: bitt_roofline --model M.bitt [--runs N] [--json] [--quick]
 * (--quick: short peaks and a bandwidth sweep of 32 MB a size, for tests)
 * x86-64 only (the peaks are x86 instructions). */
#include <cpuid.h>
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infer/session.h"
#include "kernels/kernels.h"
#include "model/model_file.h"
#include "util/threadpool.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- peaks: 8 independent accumulators, so latency does not bound; the
 * empty asm makes the inputs opaque each iteration, so that no product
 * is hoisted out of the loop ---- */
#define OPAQUE(v) __asm__ volatile("" : "+x"(v))

static long peak_iters = 1 << 24; /* --quick: 1 << 18 */
#define PEAK_ITERS peak_iters

__attribute__((target("avxvnni"))) static double peak_vnni_ymm(void) {
    __m256i a[8];
    __m256i u = _mm256_set1_epi8(3);
    const __m256i s = _mm256_set1_epi8(-2);
    for (int k = 0; k < 8; k++) a[k] = _mm256_set1_epi32(k);
    const double t0 = now_s();
    for (long i = 0; i < PEAK_ITERS; i++)
    {
        OPAQUE(u);
        for (int k = 0; k < 8; k++) a[k] = _mm256_dpbusd_avx_epi32(a[k], u, s);
    }
    const double t = now_s() - t0;
    for (int k = 1; k < 8; k++) a[0] = _mm256_add_epi32(a[0], a[k]); /* every accumulator is used */
    volatile int sink = _mm256_extract_epi32(a[0], 0);
    (void)sink;
    return (double)PEAK_ITERS * 8 * 32 / t;
}

__attribute__((target("avx512f,avx512vnni"))) static double peak_vnni_zmm(void) {
    __m512i a[8];
    __m512i u = _mm512_set1_epi8(3);
    const __m512i s = _mm512_set1_epi8(-2);
    for (int k = 0; k < 8; k++) a[k] = _mm512_set1_epi32(k);
    const double t0 = now_s();
    for (long i = 0; i < PEAK_ITERS; i++)
    {
        OPAQUE(u);
        for (int k = 0; k < 8; k++) a[k] = _mm512_dpbusd_epi32(a[k], u, s);
    }
    const double t = now_s() - t0;
    for (int k = 1; k < 8; k++) a[0] = _mm512_add_epi32(a[0], a[k]); /* every accumulator is used */
    volatile int sink = _mm512_reduce_add_epi32(a[0]);
    (void)sink;
    return (double)PEAK_ITERS * 8 * 64 / t;
}

__attribute__((target("avx2"))) static double peak_maddubs(void) {
    __m256i a[8];
    __m256i u = _mm256_set1_epi8(3);
    const __m256i s = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
    for (int k = 0; k < 8; k++) a[k] = _mm256_set1_epi32(k);
    const double t0 = now_s();
    for (long i = 0; i < PEAK_ITERS; i++) {
        OPAQUE(u);
        for (int k = 0; k < 8; k++) /* each its own product: s differs by accumulator */
            a[k] = _mm256_add_epi32(a[k], _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_add_epi8(s, _mm256_set1_epi8((char)k))), ones));
    }
    const double t = now_s() - t0;
    for (int k = 1; k < 8; k++) a[0] = _mm256_add_epi32(a[0], a[k]); /* every accumulator is used */
    volatile int sink = _mm256_extract_epi32(a[0], 0);
    (void)sink;
    return (double)PEAK_ITERS * 8 * 32 / t;
}

/* ---- read bandwidth: sum of 32-byte loads over a buffer of n bytes ---- */

__attribute__((target("avx2"))) static double read_bandwidth(const uint8_t *buf, size_t n, int passes) {
    double *rates = malloc((size_t)passes * sizeof *rates);
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    for (int p = 0; p < passes; p++) {
        const double t0 = now_s();
        for (size_t i = 0; i + 128 <= n; i += 128) {
            s0 = _mm256_add_epi64(s0, _mm256_load_si256((const __m256i *)(buf + i)));
            s1 = _mm256_add_epi64(s1, _mm256_load_si256((const __m256i *)(buf + i + 32)));
            s2 = _mm256_add_epi64(s2, _mm256_load_si256((const __m256i *)(buf + i + 64)));
            s3 = _mm256_add_epi64(s3, _mm256_load_si256((const __m256i *)(buf + i + 96)));
        }
        rates[p] = (double)n / (now_s() - t0);
    }
    volatile long long sink = _mm256_extract_epi64(_mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3)), 0);
    (void)sink;
    const double r = median(rates, passes);
    free(rates);
    return r;
}

#define N_SIZES 8
static const size_t SIZES[N_SIZES] = {32u << 10, 256u << 10, 1u << 20, 4u << 20, 8u << 20,
                                      16u << 20, 64u << 20, 256u << 20};

/* The bandwidth measured for the smallest size >= n (the largest past it). */
static double bandwidth_for(const double *bw, size_t n) {
    for (int i = 0; i < N_SIZES; i++)
        if (SIZES[i] >= n) return bw[i];
    return bw[N_SIZES - 1];
}

/* ---- the hot loops alone ---- */

typedef struct LoopRate {
    double seconds;  /* median per call */
    double macs, bytes;
} LoopRate;

static LoopRate time_ternary(const Kernels *k, int rows, int cols, int T, int runs) {
    TernaryMatrix w = {rows, cols, malloc((size_t)rows * cols), 0.5f, NULL};
    int8_t *x = malloc((size_t)T * cols);
    int32_t *acc = malloc((size_t)T * rows * sizeof(int32_t));
    for (size_t i = 0; i < (size_t)rows * cols; i++) w.w[i] = (int8_t)((i * 2654435761u >> 7) % 3) - 1;
    for (size_t i = 0; i < (size_t)T * cols; i++) x[i] = (int8_t)((i * 40503u >> 3) % 255 - 127);
    if (k->prepare_ternary) k->prepare_ternary(&w);
    const int reps = T == 1 ? 200 : 20;
    double *t = malloc((size_t)runs * sizeof *t);
    for (int r = 0; r < runs; r++) {
        const double t0 = now_s();
        for (int i = 0; i < reps; i++) k->ternary_matmul_i8(&w, x, T, acc);
        t[r] = (now_s() - t0) / reps;
    }
    LoopRate lr = {median(t, runs), (double)rows * cols * T, (double)rows * ((cols + 127) / 128) * 32};
    if (k->release_ternary && w.packed) k->release_ternary(&w);
    free(w.w);
    free(x);
    free(acc);
    free(t);
    return lr;
}

static LoopRate time_int8_rows(const Kernels *k, int rows, int cols, int runs) {
    Int8Matrix w = {rows, cols, malloc((size_t)rows * cols), malloc((size_t)rows * sizeof(float)), 0};
    int8_t *x = malloc((size_t)cols);
    int32_t *acc = malloc((size_t)rows * sizeof(int32_t));
    for (size_t i = 0; i < (size_t)rows * cols; i++) w.w[i] = (int8_t)((i * 2654435761u >> 9) % 255 - 127);
    for (int i = 0; i < cols; i++) x[i] = (int8_t)(i % 200 - 100);
    double *t = malloc((size_t)runs * sizeof *t);
    for (int r = 0; r < runs; r++) {
        const double t0 = now_s();
        for (int i = 0; i < 20; i++) k->int8_matmul(&w, x, 1, acc);
        t[r] = (now_s() - t0) / 20;
    }
    LoopRate lr = {median(t, runs), (double)rows * cols, (double)rows * cols + 4.0 * rows};
    free(w.w);
    free(w.row_scale);
    free(x);
    free(acc);
    free(t);
    return lr;
}

/* ---- the whole model ---- */

typedef struct ModelWork {
    double ternary_macs, ternary_bytes;  /* per token */
    double head_macs, head_bytes;
    double state_bytes;                  /* TTT memory read and written per token */
} ModelWork;

static ModelWork model_work(const Model *m) {
    ModelWork w = {0};
    for (int i = 0; i < m->n_params; i++) {
        const ParamRef *p = &m->params[i];
        if (p->spec.kind != PARAM_BITLINEAR) continue;
        w.ternary_macs += (double)p->bl->q.rows * p->bl->q.cols;
        w.ternary_bytes += (double)p->bl->q.rows * ((p->bl->q.cols + 127) / 128) * 32;
    }
    const double V = m->cfg.vocab_size, D = m->cfg.hidden_dim;
    w.head_macs = V * D;
    w.head_bytes = m->lm_head_i8 ? V * D + 4 * V : 4 * V * D;
    if (m->cfg.variant == TTT_LINEAR) {
        const double dh = D / m->cfg.num_heads;
        w.state_bytes = 2.0 * 4.0 * m->cfg.num_layers * m->cfg.num_heads * dh * dh;
    }
    return w;
}

static int time_model(Model *m, int runs, double *prefill_tok_s, double *decode_tok_s) {
    BittError err;
    Session s;
    if (session_init(&s, m, &err) != 0) { fprintf(stderr, "roofline: %s\n", err.message); return -1; }
    const int V = m->cfg.vocab_size, P = 512, G = 128;
    int32_t *ids = malloc(P * sizeof *ids);
    float *logits = malloc((size_t)V * sizeof *logits);
    double *pre = malloc((size_t)runs * sizeof *pre), *dec = malloc((size_t)runs * sizeof *dec);
    for (int i = 0; i < P; i++) ids[i] = 3 + (int32_t)((i * 7919u) % (unsigned)(V - 3));
    for (int r = -1; r < runs; r++) { /* run -1 warms up */
        session_reset(&s);
        const double t0 = now_s();
        session_forward(&s, ids, P, logits, 0, &err);
        const double t1 = now_s();
        for (int i = 0; i < G; i++) {
            int32_t tok = ids[i];
            session_forward(&s, &tok, 1, logits, 0, &err);
        }
        const double t2 = now_s();
        if (r >= 0) {
            pre[r] = P / (t1 - t0);
            dec[r] = G / (t2 - t1);
        }
    }
    *prefill_tok_s = median(pre, runs);
    *decode_tok_s = median(dec, runs);
    session_free(&s);
    free(ids);
    free(logits);
    free(pre);
    free(dec);
    return 0;
}

int main(int argc, char **argv) {
    const char *model_path = NULL;
    int runs = 5, json = 0, quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) model_path = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else {
            fprintf(stderr, "usage: bitt_roofline --model M.bitt [--runs N] [--json] [--quick]\n");
            return 2;
        }
    }
    if (!model_path || runs < 1) {
        fprintf(stderr, "usage: bitt_roofline --model M.bitt [--runs N] [--json] [--quick]\n");
        return 2;
    }
    BittError err;
    Model *m = model_load(model_path, 0, &err);
    if (!m) {
        fprintf(stderr, "roofline: %s\n", err.message);
        return 1;
    }
    if (quick) peak_iters = 1 << 18;
    threads_set(1);
    __builtin_cpu_init();
    unsigned eax = 0, ebx, ecx, edx; /* AVX-VNNI: CPUID leaf 7 subleaf 1, EAX bit 4 (not every compiler's builtin knows it) */
    const int has_avxvnni = __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax & (1u << 4));
    const int has_zmm = __builtin_cpu_supports("avx512vnni");
    if (!__builtin_cpu_supports("avx2")) {
        fprintf(stderr, "roofline: this CPU has no AVX2\n");
        return 1;
    }
    double peaks[5], p_ymm = 0, p_zmm = 0, p_avx2;
    for (int r = 0; r < 5; r++) peaks[r] = peak_maddubs();
    p_avx2 = median(peaks, 5);
    if (has_avxvnni) {
        for (int r = 0; r < 5; r++) peaks[r] = peak_vnni_ymm();
        p_ymm = median(peaks, 5);
    }
    if (has_zmm) {
        for (int r = 0; r < 5; r++) peaks[r] = peak_vnni_zmm();
        p_zmm = median(peaks, 5);
    }
    double bw[N_SIZES];
    uint8_t *buf = aligned_alloc(64, SIZES[N_SIZES - 1]);
    if (!buf) return 1;
    memset(buf, 1, SIZES[N_SIZES - 1]);
    for (int i = 0; i < N_SIZES; i++) {
        const size_t budget = quick ? 32u << 20 : 512u << 20; /* bytes read per size */
        int passes = SIZES[i] >= (64u << 20) ? (quick ? 1 : 5) : (int)(budget / SIZES[i]) | 1;
        bw[i] = read_bandwidth(buf, SIZES[i], passes > 2001 ? 2001 : passes);
    }
    free(buf);

    const Kernels *k = m->kernels;
    const int D = m->cfg.hidden_dim, I = m->cfg.intermediate_dim, V = m->cfg.vocab_size;
    /* the peak of the instruction the chosen kernels use (the avx512vnni
     * kernels: vpdpbusd on ymm), and the CPU's best, the roofline's */
    const double peak_kernel = strcmp(k->name, "avx512vnni") == 0 && p_ymm > 0 ? p_ymm : p_avx2;
    const double peak = fmax(p_avx2, fmax(p_ymm, p_zmm));
    LoopRate loops[4] = {time_ternary(k, I, D, 1, runs), time_ternary(k, D, I, 1, runs),
                         time_ternary(k, I, D, 64, runs), time_int8_rows(k, V, D, runs)};
    const char *loop_names[4] = {"ternary up/gate I x D, T=1", "ternary down D x I, T=1",
                                 "ternary up/gate I x D, T=64", "int8 lm_head V x D, T=1"};
    double prefill, decode;
    if (time_model(m, runs, &prefill, &decode) != 0) return 1;
    const ModelWork w = model_work(m);
    const double dec_bytes = w.ternary_bytes + w.head_bytes + w.state_bytes;
    const double dec_macs = w.ternary_macs + w.head_macs;
    const double dec_bound = fmax(dec_bytes / bandwidth_for(bw, (size_t)dec_bytes), dec_macs / peak);
    /* prefill reads each weight once per block of tokens: compute bound */
    const double pre_bound = dec_macs / peak;
    /* decode's time per token as the isolated loops would spend it */
    const double t_ternary = w.ternary_macs / (0.5 * (loops[0].macs / loops[0].seconds + loops[1].macs / loops[1].seconds));
    const double t_head = w.head_macs / (loops[3].macs / loops[3].seconds);
    const double t_token = 1 / decode;
    if (json) {
        printf("{\"kernels\":\"%s\",\"peak_mac_s\":{\"avx2_maddubs\":%.4g,\"vpdpbusd_ymm\":%.4g,\"vpdpbusd_zmm\":%.4g},"
               "\"read_bytes_s\":[", k->name, p_avx2, p_ymm, p_zmm);
        for (int i = 0; i < N_SIZES; i++) printf("%s{\"bytes\":%zu,\"bytes_s\":%.4g}", i ? "," : "", SIZES[i], bw[i]);
        printf("],\"loops\":[");
        for (int i = 0; i < 4; i++)
            printf("%s{\"loop\":\"%s\",\"mac_s\":%.4g,\"weight_bytes_s\":%.4g,\"of_kernel_peak_mac\":%.4f,\"of_bandwidth\":%.4f}",
                   i ? "," : "", loop_names[i], loops[i].macs / loops[i].seconds, loops[i].bytes / loops[i].seconds,
                   loops[i].macs / loops[i].seconds / peak_kernel,
                   loops[i].bytes / loops[i].seconds / bandwidth_for(bw, (size_t)loops[i].bytes));
        printf("],\"peak_kernel_mac_s\":%.4g,\"peak_cpu_mac_s\":%.4g,\"decode_us\":{\"token\":%.2f,\"ternary\":%.2f,"
               "\"lm_head\":%.2f,\"other\":%.2f}", peak_kernel, peak, 1e6 * t_token, 1e6 * t_ternary, 1e6 * t_head,
               1e6 * (t_token - t_ternary - t_head));
        printf(",\"decode_tok_s\":%.1f,\"decode_bytes_per_token\":%.0f,\"decode_macs_per_token\":%.0f,"
               "\"decode_bound_tok_s\":%.1f,\"decode_of_roofline\":%.4f,\"prefill_tok_s\":%.1f,"
               "\"prefill_bound_tok_s\":%.1f,\"prefill_of_roofline\":%.4f}\n",
               decode, dec_bytes, dec_macs, 1 / dec_bound, decode * dec_bound, prefill, 1 / pre_bound,
               prefill * pre_bound);
    } else {
        printf("peaks (1 thread): vpmaddubsw+vpmaddwd %.1f GMAC/s, vpdpbusd ymm %.1f GMAC/s, zmm %.1f GMAC/s\n",
               p_avx2 / 1e9, p_ymm / 1e9, p_zmm / 1e9);
        printf("read bandwidth (1 thread):");
        for (int i = 0; i < N_SIZES; i++) printf(" %zu KB %.1f GB/s%s", SIZES[i] >> 10, bw[i] / 1e9, i + 1 < N_SIZES ? "," : "\n");
        printf("kernels %s: their instruction's peak %.1f GMAC/s; the CPU's best (the roofline) %.1f GMAC/s\n", k->name,
               peak_kernel / 1e9, peak / 1e9);
        for (int i = 0; i < 4; i++)
            printf("  %-28s %6.1f GMAC/s (%4.1f%% of the kernels' peak), weights %6.1f GB/s (%4.1f%% of the bandwidth at %.2f MB)%s\n",
                   loop_names[i], loops[i].macs / loops[i].seconds / 1e9, 100 * loops[i].macs / loops[i].seconds / peak_kernel,
                   loops[i].bytes / loops[i].seconds / 1e9,
                   100 * loops[i].bytes / loops[i].seconds / bandwidth_for(bw, (size_t)loops[i].bytes),
                   loops[i].bytes / 1e6, i == 2 ? " (weights reused by 64 tokens: compute bound)" : "");
        printf("decode:  %.1f tok/s; per token %.2f MB read (ternary %.2f, lm_head %.2f, TTT state %.2f), %.1f M MACs;\n"
               "         roofline %.1f tok/s: %.1f%% of it\n",
               decode, dec_bytes / 1e6, w.ternary_bytes / 1e6, w.head_bytes / 1e6, w.state_bytes / 1e6,
               dec_macs / 1e6, 1 / dec_bound, 100 * decode * dec_bound);
        printf("         per token %.1f us: ternary products %.1f us, lm_head %.1f us (as the loops above run), the rest "
               "(TTT, norms, quantisation, sampling) %.1f us\n", 1e6 * t_token, 1e6 * t_ternary, 1e6 * t_head,
               1e6 * (t_token - t_ternary - t_head));
        printf("prefill: %.1f tok/s; roofline (MACs at the peak) %.1f tok/s: %.1f%% of it\n", prefill, 1 / pre_bound,
               100 * prefill * pre_bound);
    }
    model_free(m);
    return 0;
}
