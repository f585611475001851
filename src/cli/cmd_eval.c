/* cmd_eval.c: `bitt eval`: loss (nats/token), perplexity and bits per byte
 * of a model on a text file (SPEC 5): the whole text tokenized with nothing
 * added, every token after the first scored, in one pass (the TTT state
 * carries the whole context; no window). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/model_file.h"
#include "../model/session.h"
#include "../util/fileio.h"
#include "../util/threadpool.h"
#include "cli.h"

/* -log softmax(logits)[target], in double. */
static double nll(const float *logits, int V, int32_t target) {
    float maxl = logits[0];
    for (int i = 1; i < V; i++)
        if (logits[i] > maxl) maxl = logits[i];
    double sum = 0.0;
    for (int i = 0; i < V; i++) sum += exp((double)logits[i] - maxl);
    return log(sum) - ((double)logits[target] - maxl);
}

int cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *text_path = NULL, *lm_head = "f32";
    int json = 0, threads = 0;
    Flag flags[] = {
        {"model", FLAG_STRING, &model_path, "model: .bitt file or checkpoint directory (required)", 0},
        {"text", FLAG_STRING, &text_path, "UTF-8 text file to score (required)", 0},
        {"threads", FLAG_INT, &threads, "threads for the kernels (default 0 = all cores)", 0},
        {"lm-head", FLAG_STRING, &lm_head, "f32 (default) or int8: score through int8 lm_head rows", 0},
        {"json", FLAG_BOOL, &json, "print {tokens, bytes, loss, ppl, bits_per_byte} as JSON", 0},
    };
    Command cmd = {"eval", "--model M --text FILE [--json]",
                   "Scores every token of the text after the first: loss in nats/token, perplexity,\n"
                   "and bits per UTF-8 byte (tokenizer-independent).",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    if (rc) return rc < 0 ? 1 : 0;
    if (!model_path || !text_path) return cli_fail("eval", "--model and --text are required");
    if (threads < 0) return cli_fail("eval", "--threads must be >= 0");
    if (strcmp(lm_head, "f32") != 0 && strcmp(lm_head, "int8") != 0)
        return cli_fail("eval", "--lm-head must be f32 or int8 (got '%s')", lm_head);
    threads_set(threads);
    BittError err;
    uint8_t *text = NULL;
    size_t text_len = 0, n = 0;
    int32_t *ids = NULL;
    float *logits = NULL;
    Session sess;
    int have_session = 0;
    Model *m = model_load(model_path, 0, &err);
    rc = 1;
    if (!m || model_set_lm_head_int8(m, strcmp(lm_head, "int8") == 0, &err) != 0 ||
        file_read_all(text_path, &text, &text_len, &err) != 0 ||
        tokenizer_encode(m->tok, (const char *)text, text_len, &ids, &n, &err) != 0) {
        cli_fail("eval", "%s", err.message);
        goto done;
    }
    if (n < 2) {
        cli_fail("eval", "%s: the text has %zu token(s); at least 2 are needed", text_path, n);
        goto done;
    }
    const int V = m->cfg.vocab_size;
    logits = malloc((size_t)SESSION_CHUNK * V * sizeof(float));
    if (!logits || session_init(&sess, m, &err) != 0) {
        cli_fail("eval", "%s", logits ? err.message : "out of memory");
        goto done;
    }
    have_session = 1;
    double total = 0.0;
    double t0 = cli_now();
    for (size_t at = 0; at + 1 < n; at += SESSION_CHUNK) {
        int T = (int)(n - 1 - at < SESSION_CHUNK ? n - 1 - at : SESSION_CHUNK);
        if (session_forward(&sess, ids + at, T, logits, 1, &err) != 0) {
            cli_fail("eval", "%s", err.message);
            goto done;
        }
        for (int t = 0; t < T; t++) total += nll(logits + (size_t)t * V, V, ids[at + t + 1]);
    }
    double secs = cli_now() - t0;
    size_t first_len = 0;
    tokenizer_token_bytes(m->tok, ids[0], &first_len);
    const size_t scored = n - 1;
    const size_t bytes = text_len > first_len ? text_len - first_len : 0;
    const double loss = total / (double)scored;
    const double bpb = bytes ? total / log(2.0) / (double)bytes : 0.0;
    if (json) {
        printf("{\"tokens\":%zu,\"bytes\":%zu,\"loss\":%.6f,\"ppl\":%.4f,\"bits_per_byte\":%.6f,\"seconds\":%.3f}\n",
               scored, bytes, loss, exp(loss), bpb, secs);
    } else {
        printf("tokens scored   %zu\nbytes           %zu\nloss            %.4f nats/token\n"
               "perplexity      %.3f\nbits per byte   %.4f\n(%.2f s, %.0f tok/s)\n",
               scored, bytes, loss, exp(loss), bpb, secs, secs > 0 ? scored / secs : 0);
    }
    rc = 0;
done:
    if (have_session) session_free(&sess);
    free(logits);
    free(ids);
    free(text);
    model_free(m);
    return rc;
}
