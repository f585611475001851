/* test_eval_bins.c: the long-context measurements' arithmetic: loss binned
 * by absolute and in-document position (src/eval/by_position.h) against a
 * hand computation, including the bin edges, documents that restart at
 * </s>, and a text without any separator. */
#include <string.h>

#include "eval/by_position.h"
#include "test_util.h"

int main(void) {
    /* 12 ids, </s> (2) at 3 and 8: documents [0..3], [4..8], [9..11] */
    const int32_t ids[12] = {5, 6, 7, 2, 9, 9, 9, 9, 2, 4, 4, 4};
    double nll[11];
    for (int i = 0; i < 11; i++) nll[i] = (double)(i + 1); /* nll[i] scores ids[i + 1]: position i + 1 */
    PositionBins b;
    eval_by_position(ids, 12, nll, 2, &b);
    /* absolute: [1,2) {1}, [2,4) {2,3}, [4,8) {4..7}, [8,16) {8..11} */
    CHECK(b.n_absolute == 4);
    CHECK(b.absolute[0].from == 1 && b.absolute[0].to == 2 && b.absolute[0].tokens == 1 && b.absolute[0].loss == 1.0);
    CHECK(b.absolute[1].from == 2 && b.absolute[1].to == 4 && b.absolute[1].tokens == 2 && b.absolute[1].loss == 2.5);
    CHECK(b.absolute[2].tokens == 4 && b.absolute[2].loss == 5.5);
    CHECK(b.absolute[3].from == 8 && b.absolute[3].to == 16 && b.absolute[3].tokens == 4 && b.absolute[3].loss == 9.5);
    /* in the document: position 4 (doc 2 starts at 4) -> 0, ... ; positions of 1..11:
     * 1,2,3 (doc 1: 1,2,3), 4..8 (doc 2: 0..4), 9..11 (doc 3: 0,1,2) */
    const int dpos[11] = {1, 2, 3, 0, 1, 2, 3, 4, 0, 1, 2};
    double want_sum[5] = {0}, want_n[5] = {0};
    for (int i = 0; i < 11; i++) {
        const int bin = dpos[i] == 0 ? 0 : dpos[i] == 1 ? 1 : dpos[i] < 4 ? 2 : 3;
        want_sum[bin] += nll[i];
        want_n[bin]++;
    }
    CHECK(b.n_in_document == 4);
    CHECK(b.in_document[0].from == 0 && b.in_document[0].to == 1);
    CHECK(b.in_document[1].from == 1 && b.in_document[1].to == 2);
    CHECK(b.in_document[3].from == 4 && b.in_document[3].to == 8);
    for (int k = 0; k < 4; k++)
        CHECK_MSG(b.in_document[k].tokens == (uint64_t)want_n[k] && b.in_document[k].loss == want_sum[k] / want_n[k],
                  "document bin %d: %llu tokens, loss %g", k, (unsigned long long)b.in_document[k].tokens,
                  b.in_document[k].loss);
    /* no separator: the document positions are the absolute ones, and the bins sum to every prediction */
    eval_by_position(ids, 12, nll, -1, &b);
    uint64_t total = 0;
    for (int k = 0; k < b.n_in_document; k++) total += b.in_document[k].tokens;
    CHECK(total == 11 && b.in_document[0].tokens == 0 && b.in_document[1].tokens == 1);
    return test_main_end("test_eval_bins");
}
