/* llama_depth: decode speed of a llama.cpp model after a long context, for scripts/bench_peers.sh.
 *
 * The llama.cpp we measure (b4747) has no llama-bench depth option (-d came later), and
 * "-pg 16384,128" reports prefill and decode together. This small program, ours, links
 * llama.cpp's public API (include/llama.h) and does what llama-bench's test_prompt/test_gen do,
 * at a depth: fill the KV cache with random tokens in batches of 512 up to each depth D, then
 * time G single-token llama_decode calls (random tokens, logits computed, no sampling), then drop
 * those G tokens from the cache (llama_kv_cache_seq_rm) and fill on to the next depth.
 *
 *   cc -O2 -I LLAMA/include -I LLAMA/ggml/include tools/llama_depth.c -L BUILD/bin -lllama \
 *      -Wl,-rpath,BUILD/bin -o llama_depth
 *   llama_depth MODEL.gguf THREADS DEPTHS(4096,16384) [GEN=128 [FLASH_ATTN=0]]
 *
 * Prints one JSON line: {"threads":T,"contexts":[{"context":D,"decode_tok_s":X,"fill_tok_s":Y},..],
 * "peak_rss_bytes":R}. fill_tok_s is the prefill rate of the tokens added to reach D (from the
 * previous depth), a prefill figure at long context. Not llama.cpp's code; llama.cpp is MIT.
 */
#include "llama.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.gguf THREADS DEPTHS [GEN [FLASH_ATTN]]\n", argv[0]);
        return 2;
    }
    const int threads = atoi(argv[2]);
    int depths[16], n_depths = 0;
    for (char *s = argv[3]; *s && n_depths < 16;) {
        depths[n_depths++] = (int)strtol(s, &s, 10);
        if (*s == ',') s++;
    }
    const int gen = argc > 4 ? atoi(argv[4]) : 128;
    const int flash_attn = argc > 5 ? atoi(argv[5]) : 0; /* llama-bench's default: off */
    const int max_depth = depths[n_depths - 1];

    llama_log_set(quiet, NULL);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        fprintf(stderr, "cannot load %s\n", argv[1]);
        return 1;
    }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)(max_depth + gen);
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.no_perf = true;
    cp.flash_attn = flash_attn != 0;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        fprintf(stderr, "cannot create a context of %d tokens\n", max_depth + gen);
        return 1;
    }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    srand(42);
    llama_token batch[512];
    int pos = 0;
    printf("{\"threads\":%d,\"gen_tokens\":%d,\"flash_attn\":%d,\"contexts\":[", threads, gen, flash_attn);
    for (int d = 0; d < n_depths; d++) {
        const int fill_from = pos;
        double t0 = now_s();
        while (pos < depths[d]) {
            int n = depths[d] - pos < 512 ? depths[d] - pos : 512;
            for (int i = 0; i < n; i++) batch[i] = pos == 0 && i == 0 ? 1 : rand() % n_vocab;
            if (llama_decode(ctx, llama_batch_get_one(batch, n))) {
                fprintf(stderr, "llama_decode failed filling at %d\n", pos);
                return 1;
            }
            pos += n;
        }
        llama_synchronize(ctx);
        const double fill_s = now_s() - t0;
        t0 = now_s();
        for (int g = 0; g < gen; g++) {
            llama_token t = rand() % n_vocab;
            if (llama_decode(ctx, llama_batch_get_one(&t, 1))) {
                fprintf(stderr, "llama_decode failed at %d\n", pos + g);
                return 1;
            }
        }
        llama_synchronize(ctx);
        const double gen_s = now_s() - t0;
        llama_kv_cache_seq_rm(ctx, 0, pos, -1); /* back to depth D for the next fill */
        printf("%s{\"context\":%d,\"decode_tok_s\":%.1f,\"fill_tok_s\":%.1f}", d ? "," : "", depths[d],
               gen / gen_s, fill_s > 0 ? (pos - fill_from) / fill_s : 0.0);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("],\"peak_rss_bytes\":%ld}\n", ru.ru_maxrss * 1024L);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
