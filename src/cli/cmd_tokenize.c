/* cmd_tokenize.c: `bitt tokenize`: text -> ids (no special tokens added),
 * or with --decode, ids -> text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../model/model_file.h"
#include "../util/fileio.h"
#include "cli.h"

/* Parses ids separated by spaces, commas, brackets or newlines. */
static int parse_ids(const char *s, int32_t **ids, size_t *n) {
    size_t cap = 64;
    *ids = malloc(cap * sizeof **ids);
    *n = 0;
    if (!*ids) return -1;
    while (*s) {
        if (strchr(" ,\t\r\n[]", *s)) { s++; continue; }
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 0 || v > 2147483647L) return -1;
        if (*n == cap) {
            int32_t *t = realloc(*ids, (cap *= 2) * sizeof *t);
            if (!t) return -1;
            *ids = t;
        }
        (*ids)[(*n)++] = (int32_t)v;
        s = end;
    }
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *tok_path = NULL, *model_path = NULL, *text = NULL, *input = NULL;
    int json = 0, decode = 0;
    Flag flags[] = {
        {"tokenizer", FLAG_STRING, &tok_path, "tokenizer.json to use", 0},
        {"model", FLAG_STRING, &model_path, "or: use the tokenizer of this model", 0},
        {"text", FLAG_STRING, &text, "the text (or, with --decode, the ids)", 0},
        {"input", FLAG_STRING, &input, "read the text (or ids) from this file", 0},
        {"decode", FLAG_BOOL, &decode, "ids -> text instead", 0},
        {"json", FLAG_BOOL, &json, "print {\"ids\": [...]} (or {\"text\": ...} with --decode)", 0},
    };
    Command cmd = {"tokenize", "--tokenizer T.json (--text STR | --input FILE) [--json] [--decode]",
                   "Encodes text to token ids with no special tokens added, or decodes ids.",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    if (rc) return rc < 0 ? 1 : 0;
    if (!tok_path == !model_path) return cli_fail("tokenize", "give exactly one of --tokenizer or --model");
    if (!text == !input) return cli_fail("tokenize", "give exactly one of --text or --input");
    BittError err;
    Model *m = NULL;
    Tokenizer *tok = NULL;
    uint8_t *buf = NULL;
    size_t len = text ? strlen(text) : 0, n = 0;
    int32_t *ids = NULL;
    rc = 1;
    if (model_path) {
        m = model_load(model_path, 0, &err);
        if (!m) { cli_fail("tokenize", "%s", err.message); goto done; }
    } else if (!(tok = tokenizer_load_file(tok_path, &err))) {
        cli_fail("tokenize", "%s", err.message);
        goto done;
    }
    const Tokenizer *t = m ? m->tok : tok;
    if (input) {
        if (file_read_all(input, &buf, &len, &err) != 0) { cli_fail("tokenize", "%s", err.message); goto done; }
        text = (const char *)buf;
    }
    if (decode) {
        char *out = NULL;
        size_t out_len = 0;
        if (memchr(text, 0, len) || parse_ids(text, &ids, &n) != 0) {
            cli_fail("tokenize", "--decode: the input is not a list of non-negative integer ids");
            goto done;
        }
        if (tokenizer_decode(t, ids, n, 0, &out, &out_len, &err) != 0) {
            cli_fail("tokenize", "%s", err.message);
            goto done;
        }
        if (json) {
            printf("{\"text\":");
            cli_print_json_string(stdout, out, out_len);
            printf("}\n");
        } else {
            fwrite(out, 1, out_len, stdout);
            printf("\n");
        }
        free(out);
    } else {
        if (tokenizer_encode(t, text, len, &ids, &n, &err) != 0) { cli_fail("tokenize", "%s", err.message); goto done; }
        printf(json ? "{\"ids\":[" : "");
        for (size_t i = 0; i < n; i++) printf(json ? "%s%d" : "%s%d", i ? (json ? "," : " ") : "", ids[i]);
        printf(json ? "]}\n" : "\n");
    }
    rc = 0;
done:
    free(ids);
    free(buf);
    tokenizer_free(tok);
    model_free(m);
    return rc;
}
