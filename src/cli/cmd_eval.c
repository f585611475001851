/* cmd_eval.c: `bitt eval`: how well a model predicts a text (SPEC 5), and
 * how well it uses a long context:
 *  - the default task: loss (nats/token), perplexity and bits per byte of
 *    the whole text in one pass (the TTT state carries everything read; no
 *    window). A text of stories separated by <|endoftext|> is read as
 *    `bitt prepare` encodes it (each story followed by </s>); another text
 *    as it is. --by-position adds the loss by absolute position and by
 *    position inside a document (src/eval/by_position.h), --plot an SVG;
 *  - --task recall: the synthetic recall corpus of `bitt corpus --task
 *    recall` (src/eval/recall.h): accuracy and loss of the answers by gap;
 *  - --task repeat: a story, N tokens of others, the story again
 *    (src/eval/repeat.h): the loss drop on the second copy by N. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../data/prepare.h"
#include "../data/token_file.h"
#include "../eval/by_position.h"
#include "../eval/recall.h"
#include "../eval/repeat.h"
#include "../eval/score.h"
#include "../model/model_file.h"
#include "../infer/session.h"
#include "../tokenizer/story_split.h"
#include "../util/fileio.h"
#include "../util/svg_chart.h"
#include "../util/threadpool.h"
#include "cli.h"

typedef struct EvalArgs {
    const char *model_path, *text_path, *task, *plot, *key, *gaps;
    int json, by_position, trials;
} EvalArgs;

/* "0,256,1024" -> ints (at most max); -1 on a bad list. */
static int parse_gaps(const char *s, int32_t *out, int max) {
    int n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > RECALL_MAX_GAP || n == max) return -1;
        out[n++] = (int32_t)v;
        s = end;
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return n;
}

static void print_bins(const char *name, const PositionBin *b, int n, int last) {
    printf("\"%s\":[", name);
    for (int i = 0; i < n; i++)
        printf("%s{\"from\":%llu,\"to\":%llu,\"tokens\":%llu,\"loss\":%.6f}", i ? "," : "",
               (unsigned long long)b[i].from, (unsigned long long)b[i].to, (unsigned long long)b[i].tokens,
               b[i].tokens ? b[i].loss : 0.0);
    printf("]%s", last ? "" : ",");
}

static int plot_positions(const char *path, const char *model, const PositionBins *pb, BittError *err) {
    double ax[64], ay[64], dx[64], dy[64];
    int na = 0, nd = 0;
    for (int i = 0; i < pb->n_absolute; i++)
        if (pb->absolute[i].tokens) {
            ax[na] = sqrt((double)pb->absolute[i].from * (double)pb->absolute[i].to); /* the bin's middle, log scale */
            ay[na++] = pb->absolute[i].loss;
        }
    for (int i = 0; i < pb->n_in_document; i++)
        if (pb->in_document[i].tokens && pb->in_document[i].from > 0) {
            dx[nd] = sqrt((double)pb->in_document[i].from * (double)pb->in_document[i].to);
            dy[nd++] = pb->in_document[i].loss;
        }
    char title[300];
    snprintf(title, sizeof title, "bitt eval --by-position: %s", model);
    const SvgSeries s[2] = {{"by position in the text", "#1f5fbf", 2, 1, 0, ax, ay, (size_t)na},
                            {"by position in its document", "#d9531e", 2, 1, 1, dx, dy, (size_t)nd}};
    const SvgChart c = {title, "token position (log scale)", "loss (nats/token)", 1, s, 2};
    return svg_chart_write(&c, path, err);
}

/* The default task: one pass over the text. */
static int eval_loss(const EvalArgs *a, Model *m, const uint8_t *text, size_t text_len, BittError *err) {
    int32_t *ids = NULL;
    size_t n = 0, bytes = 0;
    int separated = 0;
    /* stories separated as in a corpus: the ids `bitt prepare` makes (story, </s>, story, </s> ...) */
    for (size_t i = 0; i + STORY_SEPARATOR_LEN <= text_len && !separated; i++)
        separated = text[i] == '<' && memcmp(text + i, STORY_SEPARATOR, STORY_SEPARATOR_LEN) == 0;
    if (separated) {
        PrepareStats st;
        if (prepare_encode_text(m->tok, (const char *)text, text_len, &ids, &n, &st, err) != 0) return -1;
        bytes = (size_t)st.text_bytes;
    } else {
        if (tokenizer_encode(m->tok, (const char *)text, text_len, &ids, &n, err) != 0) return -1;
        bytes = text_len;
    }
    if (n < 2) {
        free(ids);
        return bitt_fail(err, "%s: the text has %zu token(s); at least 2 are needed", a->text_path, n);
    }
    double *nll = malloc((n - 1) * sizeof *nll);
    Session s;
    int rc = -1;
    if (!nll) {
        bitt_fail(err, "out of memory");
    } else if (session_init(&s, m, err) == 0) {
        const double t0 = cli_now();
        rc = eval_score_tokens(&s, ids, n, nll, NULL, err);
        const double secs = cli_now() - t0;
        session_free(&s);
        if (!rc) {
            double total = 0.0;
            for (size_t i = 0; i + 1 < n; i++) total += nll[i];
            size_t first_len = 0;
            tokenizer_token_bytes(m->tok, ids[0], &first_len);
            if (separated && tokenizer_is_special(m->tok, ids[0])) first_len = 0;
            const size_t scored = n - 1;
            bytes = bytes > first_len ? bytes - first_len : 0;
            const double loss = total / (double)scored, bpb = bytes ? total / log(2.0) / (double)bytes : 0.0;
            PositionBins pb;
            if (a->by_position) eval_by_position(ids, n, nll, tokenizer_token_id(m->tok, "</s>"), &pb);
            if (a->json) {
                printf("{\"tokens\":%zu,\"bytes\":%zu,\"loss\":%.6f,\"ppl\":%.4f,\"bits_per_byte\":%.6f,"
                       "\"seconds\":%.3f,\"documents_separated\":%s",
                       scored, bytes, loss, exp(loss), bpb, secs, separated ? "true" : "false");
                if (a->by_position) {
                    printf(",");
                    print_bins("by_position", pb.absolute, pb.n_absolute, 0);
                    print_bins("by_document_position", pb.in_document, pb.n_in_document, 1);
                }
                printf("}\n");
            } else {
                printf("tokens scored   %zu\nbytes           %zu\nloss            %.4f nats/token\n"
                       "perplexity      %.3f\nbits per byte   %.4f\n(%.2f s, %.0f tok/s)\n",
                       scored, bytes, loss, exp(loss), bpb, secs, secs > 0 ? scored / secs : 0);
                if (a->by_position) {
                    printf("\nloss by position in the text     loss by position in its document\n");
                    const int rows = pb.n_absolute > pb.n_in_document ? pb.n_absolute : pb.n_in_document;
                    for (int i = 0; i < rows; i++) {
                        if (i < pb.n_absolute && pb.absolute[i].tokens)
                            printf("  [%7llu, %7llu) %7.4f       ", (unsigned long long)pb.absolute[i].from,
                                   (unsigned long long)pb.absolute[i].to, pb.absolute[i].loss);
                        else
                            printf("%34s", "");
                        if (i < pb.n_in_document && pb.in_document[i].tokens)
                            printf("[%6llu, %6llu) %7.4f", (unsigned long long)pb.in_document[i].from,
                                   (unsigned long long)pb.in_document[i].to, pb.in_document[i].loss);
                        printf("\n");
                    }
                }
            }
            if (a->by_position && a->plot) rc = plot_positions(a->plot, a->model_path, &pb, err);
        }
    }
    free(nll);
    free(ids);
    return rc;
}

static int eval_recall_task(const EvalArgs *a, Model *m, const uint8_t *text, size_t len, BittError *err) {
    char key_path[4200], want_fp[17], key_fp[17];
    snprintf(key_path, sizeof key_path, "%s", a->key ? a->key : "");
    if (!a->key) snprintf(key_path, sizeof key_path, "%s.json", a->text_path);
    RecallCorpus key;
    if (recall_key_read(key_path, len, &key, key_fp, err) != 0) return -1;
    if (tokenizer_fingerprint(m->tok, want_fp, err) != 0) {
        recall_corpus_free(&key);
        return -1;
    }
    if (strcmp(want_fp, key_fp) != 0) {
        recall_corpus_free(&key);
        return bitt_fail(err, "%s was made with another tokenizer (fingerprint %s, the model's %s): its gaps are in "
                              "that tokenizer's tokens; make the corpus with this model's tokenizer",
                         key_path, key_fp, want_fp);
    }
    RecallResult *res;
    int n;
    const double t0 = cli_now();
    int rc = eval_recall(m, (const char *)text, len, &key, &res, &n, err);
    const double secs = cli_now() - t0;
    recall_corpus_free(&key);
    if (rc) return -1;
    if (a->json) {
        printf("{\"task\":\"recall\",\"seconds\":%.3f,\"by_gap\":[", secs);
        for (int i = 0; i < n; i++)
            printf("%s{\"gap\":%d,\"questions\":%d,\"recalled\":%d,\"accuracy\":%.6f,\"loss\":%.6f,"
                   "\"answer_tokens\":%llu,\"distance\":%.1f}",
                   i ? "," : "", res[i].gap, res[i].questions, res[i].recalled,
                   res[i].questions ? (double)res[i].recalled / res[i].questions : 0.0, res[i].loss,
                   (unsigned long long)res[i].answer_tokens, res[i].distance);
        printf("]}\n");
    } else {
        printf("gap (tokens)  questions  recalled  accuracy  answer loss  mean distance\n");
        for (int i = 0; i < n; i++)
            printf("%12d  %9d  %8d  %7.1f%%  %11.4f  %13.0f\n", res[i].gap, res[i].questions, res[i].recalled,
                   res[i].questions ? 100.0 * res[i].recalled / res[i].questions : 0.0, res[i].loss, res[i].distance);
    }
    free(res);
    return 0;
}

static int eval_repeat_task(const EvalArgs *a, Model *m, const uint8_t *text, size_t len, BittError *err) {
    int32_t gaps[32];
    const int n = parse_gaps(a->gaps ? a->gaps : "0,256,1024,4096", gaps, 32);
    if (n < 1) return bitt_fail(err, "--gaps: expected a list of token counts like 0,256,1024 (each 0..%d)", RECALL_MAX_GAP);
    RepeatResult res[32];
    if (eval_repeat(m, (const char *)text, len, gaps, n, a->trials, res, err) != 0) return -1;
    const double gain0 = res[0].control - res[0].second;
    if (a->json) {
        printf("{\"task\":\"repeat\",\"by_gap\":[");
        for (int i = 0; i < n; i++) {
            const double gain = res[i].control - res[i].second;
            printf("%s{\"gap\":%d,\"trials\":%d,\"first_loss\":%.6f,\"control_loss\":%.6f,\"second_loss\":%.6f,"
                   "\"gain\":%.6f,\"gain_vs_first_gap\":%.6f}",
                   i ? "," : "", res[i].gap, res[i].trials, res[i].first, res[i].control, res[i].second, gain,
                   gain0 != 0 ? gain / gain0 : 0.0);
        }
        printf("]}\n");
    } else {
        printf("gap (tokens)  trials  A first  control (B, gap, A)  repeat (A, gap, A)    gain  gain / gain at gap %d\n",
               res[0].gap);
        for (int i = 0; i < n; i++) {
            const double gain = res[i].control - res[i].second;
            printf("%12d  %6d  %7.4f  %19.4f  %18.4f  %6.4f  %8.3f\n", res[i].gap, res[i].trials, res[i].first,
                   res[i].control, res[i].second, gain, gain0 != 0 ? gain / gain0 : 0.0);
        }
    }
    return 0;
}

int cmd_eval(int argc, char **argv) {
    EvalArgs a = {NULL, NULL, "loss", NULL, NULL, NULL, 0, 0, 20};
    const char *lm_head = NULL;
    int threads = 0;
    Flag flags[] = {
        {"model", FLAG_STRING, &a.model_path, "model: .bitt file or checkpoint directory (required)", 0},
        {"text", FLAG_STRING, &a.text_path, "UTF-8 text file to score (required)", 0},
        {"task", FLAG_STRING, &a.task, "loss (default), recall (a `bitt corpus --task recall` file) or repeat "
                                       "(a story, N tokens of others, the story again)", 0},
        {"by-position", FLAG_BOOL, &a.by_position, "loss task: also the loss by absolute position and by position "
                                                   "in the document (log-spaced bins)", 0},
        {"plot", FLAG_STRING, &a.plot, "with --by-position: draw the bins into this SVG file", 0},
        {"key", FLAG_STRING, &a.key, "recall task: the answer key (default TEXT.json)", 0},
        {"gaps", FLAG_STRING, &a.gaps, "repeat task: gaps in tokens (default 0,256,1024,4096)", 0},
        {"trials", FLAG_INT, &a.trials, "repeat task: stories per gap (default 20)", 0},
        {"threads", FLAG_INT, &threads, CLI_THREADS_HELP, 0},
        {"lm-head", FLAG_STRING, &lm_head, "f32 or int8: score through int8 lm_head rows (default: the file's form, int8 for I8 embeddings)", 0},
        {"json", FLAG_BOOL, &a.json, "print one JSON object ({tokens, bytes, loss, ppl, bits_per_byte} for loss)", 0},
    };
    Command cmd = {"eval", "--model M --text FILE [--task loss|recall|repeat] [--by-position] [--json]",
                   "Scores every token of the text after the first in one pass: loss in nats/token,\n"
                   "perplexity and bits per UTF-8 byte; stories separated by <|endoftext|> are read as\n"
                   "`bitt prepare` encodes them. --by-position, --task recall and --task repeat measure\n"
                   "how the model uses a long context (docs/LONG_CONTEXT.md).",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    if (rc) return rc < 0 ? 1 : 0;
    if (!a.model_path || !a.text_path) return cli_fail("eval", "--model and --text are required");
    if (threads < 0) return cli_fail("eval", "--threads must be >= 0");
    if (lm_head && strcmp(lm_head, "f32") != 0 && strcmp(lm_head, "int8") != 0)
        return cli_fail("eval", "--lm-head must be f32 or int8 (got '%s')", lm_head);
    const int task = strcmp(a.task, "loss") == 0 ? 0 : strcmp(a.task, "recall") == 0 ? 1 : strcmp(a.task, "repeat") == 0 ? 2 : -1;
    if (task < 0) return cli_fail("eval", "--task must be loss, recall or repeat (got '%s')", a.task);
    if ((a.by_position || a.plot) && task != 0) return cli_fail("eval", "--by-position and --plot go with --task loss");
    if (a.plot && !a.by_position) return cli_fail("eval", "--plot draws the --by-position bins: give both");
    if (a.key && task != 1) return cli_fail("eval", "--key goes with --task recall");
    if ((a.gaps || args_seen(&cmd, "trials")) && task != 2) return cli_fail("eval", "--gaps and --trials go with --task repeat");
    if (a.trials < 1 || a.trials > 100000) return cli_fail("eval", "--trials must be 1..100000");
    threads_set(threads);
    BittError err;
    uint8_t *text = NULL;
    size_t text_len = 0;
    Model *m = model_load(a.model_path, 0, &err);
    rc = 1;
    if (m && (!lm_head || model_set_lm_head_int8(m, strcmp(lm_head, "int8") == 0, &err) == 0) &&
        file_read_all(a.text_path, &text, &text_len, &err) == 0) {
        const int r = task == 0 ? eval_loss(&a, m, text, text_len, &err)
                      : task == 1 ? eval_recall_task(&a, m, text, text_len, &err)
                                  : eval_repeat_task(&a, m, text, text_len, &err);
        rc = r == 0 ? 0 : 1;
    }
    if (rc) cli_fail("eval", "%s", err.message);
    free(text);
    model_free(m);
    return rc;
}
