/* fuzz_recall_key.c: libFuzzer harness of the recall task's answer key
 * (FILE.json next to a `bitt corpus --task recall` text, read by `bitt eval
 * --task recall`; src/data/recall_gen.c) through recall_key_parse, which
 * recall_key_read uses. Any bytes give a key or an error naming the file; a
 * key that is read has every document and answer inside the text. */
#include "fuzz_util.h"

#include "data/recall_gen.h"

#define TEXT_LEN 5000 /* the corpus text the ranges are checked against */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    BittError err = {0};
    RecallCorpus key;
    char fp[17];
    char *json = malloc(size ? size : 1);
    if (!json) return 0;
    memcpy(json, data, size);
    int rc = recall_key_parse(json, size, "rec.txt.json", TEXT_LEN, &key, fp, &err);
    free(json);
    if (rc != 0) {
        FUZZ_CHECK_NAMES(err, "rec.txt.json");
        return 0;
    }
    FUZZ_CHECK(key.facts >= 1 && key.facts <= RECALL_MAX_FACTS, "facts %d", key.facts);
    for (size_t i = 0; i < key.n_docs; i++) {
        const RecallDoc *d = &key.docs[i];
        FUZZ_CHECK(d->start <= d->end && d->end <= TEXT_LEN, "document %zu: [%llu, %llu)", i,
                   (unsigned long long)d->start, (unsigned long long)d->end);
        FUZZ_CHECK(d->n_answers >= 0 && d->n_answers <= RECALL_MAX_FACTS, "%d answers", d->n_answers);
        for (int a = 0; a < d->n_answers; a++)
            FUZZ_CHECK(d->answer[a][0] >= d->start && d->answer[a][0] < d->answer[a][1] && d->answer[a][1] <= d->end,
                       "document %zu answer %d outside it", i, a);
    }
    recall_corpus_free(&key);
    return 0;
}
