/* by_position.c: loss binned by absolute and in-document position (see
 * by_position.h). */
#include "by_position.h"

#include <string.h>

/* 0 -> bin 0; p >= 1 -> 1 + floor(log2 p) (with_zero), else floor(log2 p) */
static int bin_of(uint64_t p, int with_zero) {
    if (with_zero && p == 0) return 0;
    int b = 0;
    while (p > 1) {
        p >>= 1;
        b++;
    }
    return b + (with_zero ? 1 : 0);
}

static void bin_bounds(int b, int with_zero, uint64_t *from, uint64_t *to) {
    if (with_zero) {
        if (b == 0) {
            *from = 0;
            *to = 1;
            return;
        }
        b--;
    }
    *from = (uint64_t)1 << b;
    *to = (uint64_t)1 << (b + 1);
}

static void finish(PositionBin *bins, double *sums, int *count, int with_zero) {
    int last = -1;
    for (int b = 0; b < 64; b++) {
        bin_bounds(b < 63 ? b : 62, with_zero, &bins[b].from, &bins[b].to);
        bins[b].loss = bins[b].tokens ? sums[b] / (double)bins[b].tokens : 0.0;
        if (bins[b].tokens) last = b;
    }
    *count = last + 1;
}

void eval_by_position(const int32_t *ids, size_t n, const double *nll, int32_t eos, PositionBins *out) {
    memset(out, 0, sizeof *out);
    double abs_sum[64] = {0}, doc_sum[64] = {0};
    uint64_t doc_start = 0; /* index of the current document's first token */
    for (size_t i = 0; i < n; i++) {
        if (i > 0) { /* ids[i] is predicted by nll[i - 1] */
            const int a = bin_of((uint64_t)i, 0), d = bin_of((uint64_t)(i - doc_start), 1);
            out->absolute[a < 63 ? a : 63].tokens++;
            abs_sum[a < 63 ? a : 63] += nll[i - 1];
            out->in_document[d < 63 ? d : 63].tokens++;
            doc_sum[d < 63 ? d : 63] += nll[i - 1];
        }
        if (eos >= 0 && ids[i] == eos) doc_start = (uint64_t)i + 1;
    }
    finish(out->absolute, abs_sum, &out->n_absolute, 0);
    finish(out->in_document, doc_sum, &out->n_in_document, 1);
}
