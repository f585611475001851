/* dump_logits.c: test tool for the Node harness (tests/js): prints the
 * next-token logits of a model after it has read a text, as JSON
 * {"kernels": NAME, "logits": [V floats]}, so the wasm package can be
 * compared with the native build. Reading works as model.learn(text) in
 * the npm package (a fresh memory first reads </s>). The lm_head is the
 * file's form (int8 rows for an I8 .bitt v2, as the package), or float with
 * --float-lm-head (what the PyTorch reference computes).
 * Usage: bitt_dump_logits [--float-lm-head] MODEL TEXT [STATE_IN] */
#include <stdio.h>
#include <string.h>

#include "api/bitt.h"

int main(int argc, char **argv) {
    const int float_lm_head = argc > 1 && strcmp(argv[1], "--float-lm-head") == 0;
    if (float_lm_head) {
        argv++;
        argc--;
    }
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bitt_dump_logits [--float-lm-head] MODEL TEXT [STATE_IN]\n");
        return 2;
    }
    BittError err;
    bitt_model *m = NULL;
    bitt_session *s = NULL;
    int rc = 1;
    if (bitt_model_load(argv[1], &m, &err) != 0 || (float_lm_head && bitt_model_set_lm_head_int8(m, 0, &err) != 0) ||
        bitt_session_new(m, &s, &err) != 0 ||
        (argc == 4 && bitt_state_load_file(s, argv[3], &err) != 0) ||
        bitt_session_learn(s, argv[2], strlen(argv[2]), &err) != 0) {
        fprintf(stderr, "bitt_dump_logits: %s\n", err.message);
        goto done;
    }
    const float *logits = bitt_session_logits(s);
    if (!logits) {
        fprintf(stderr, "bitt_dump_logits: no logits (empty text and empty memory)\n");
        goto done;
    }
    const int V = bitt_model_vocab_size(m);
    printf("{\"kernels\":\"%s\",\"logits\":[", bitt_model_kernels(m));
    for (int i = 0; i < V; i++) printf("%s%.9g", i ? "," : "", (double)logits[i]);
    printf("]}\n");
    rc = 0;
done:
    bitt_session_free(s);
    bitt_model_free(m);
    return rc;
}
