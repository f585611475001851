/* sampler.c: greedy / temperature / top-k / top-p sampling. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sampling_params_check(const SamplingParams *p, BittError *err) {
    if (!isfinite(p->temperature) || p->temperature < 0)
        return bitt_fail(err, "temperature must be a finite number >= 0 (got %g)", (double)p->temperature);
    if (p->top_k < 0) return bitt_fail(err, "top-k must be >= 0 (got %d)", p->top_k);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return bitt_fail(err, "top-p must be in (0, 1] (got %g)", (double)p->top_p);
    return 0;
}

int sampler_init(Sampler *s, int vocab_size, const SamplingParams *p, BittError *err) {
    memset(s, 0, sizeof *s);
    if (sampling_params_check(p, err) != 0) return -1;
    s->vocab_size = vocab_size;
    s->params = *p;
    s->cand = malloc((size_t)vocab_size * sizeof *s->cand);
    s->weight = malloc((size_t)vocab_size * sizeof *s->weight);
    if (!s->cand || !s->weight) {
        sampler_free(s);
        return bitt_fail(err, "out of memory for the sampler");
    }
    rng_seed(&s->rng, p->seed);
    return 0;
}

void sampler_free(Sampler *s) {
    free(s->cand);
    free(s->weight);
    memset(s, 0, sizeof *s);
}

void sampler_reseed(Sampler *s, uint64_t seed) {
    s->params.seed = seed;
    rng_seed(&s->rng, seed);
}

double det_exp(double x) {
    if (!(x >= -745.0)) return 0.0; /* also NaN: never reaches the float -> int conversion */
    if (x > 0.0) x = 0.0;
    /* x = n ln2 + r, |r| <= ln2/2 (Cody-Waite split of ln2) */
    const double inv_ln2 = 1.4426950408889634, ln2_hi = 6.93147180369123816490e-01,
                 ln2_lo = 1.90821492927058770002e-10;
    double n = floor(x * inv_ln2 + 0.5);
    double r = (x - n * ln2_hi) - n * ln2_lo;
    /* Taylor series to r^13/13!: error below 1e-16 for |r| <= 0.35 */
    double term = 1.0, sum = 1.0;
    for (int i = 1; i <= 13; i++) {
        term = term * r / (double)i;
        sum += term;
    }
    return ldexp(sum, (int)n);
}

/* A logit as the sampler ranks it: NaN counts as -infinity, so that every
 * comparison is a total order (qsort and the heap need one) and a NaN is
 * never chosen over a number. +-infinity rank as themselves. */
static inline float rank_key(float x) { return x == x ? x : -INFINITY; }

int32_t sample_argmax(const float *logits, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (rank_key(logits[i]) > rank_key(logits[best])) best = i;
    return best;
}

/* Candidate order: larger logit first, then smaller id. */
static int ranks_before(const float *logits, int32_t a, int32_t b) {
    const float ka = rank_key(logits[a]), kb = rank_key(logits[b]);
    return ka > kb || (ka == kb && a < b);
}

/* Unnormalised probability of logit l given the largest one (maxl) and
 * 1 / temperature: exp((l - maxl) / T) in [0, 1]. NaN gives 0; a logit equal
 * to maxl gives 1 (also when both are +infinity, where l - maxl is NaN), so
 * the largest logit always has weight 1 and the weights stay finite. */
static double weight_of(float l, double maxl, double inv_t) {
    if (!(l == l)) return 0.0;
    if ((double)l == maxl) return 1.0;
    return det_exp(((double)l - maxl) * inv_t);
}

/* Keeps the k best ids in cand[0..k) sorted best first, in O(V log k):
 * a min-heap (worst at the root) of the k best so far. */
static int select_top_k(const float *logits, int V, int k, int32_t *cand) {
    int size = 0;
    for (int32_t id = 0; id < V; id++) {
        if (size == k) {
            /* ids come in increasing order, so once the heap is full an id
             * gets in only with a logit strictly above the worst kept one */
            const float worst = rank_key(logits[cand[0]]);
            while (id < V && !(rank_key(logits[id]) > worst)) id++;
            if (id == V) break;
        }
        if (size < k) {
            int i = size++;
            cand[i] = id;
            while (i > 0 && ranks_before(logits, cand[(i - 1) / 2], cand[i])) {
                int32_t t = cand[i]; cand[i] = cand[(i - 1) / 2]; cand[(i - 1) / 2] = t;
                i = (i - 1) / 2;
            }
        } else if (ranks_before(logits, id, cand[0])) {
            cand[0] = id;
            int i = 0;
            for (;;) {
                int l = 2 * i + 1, r = l + 1, worst = i;
                if (l < size && ranks_before(logits, cand[worst], cand[l])) worst = l;
                if (r < size && ranks_before(logits, cand[worst], cand[r])) worst = r;
                if (worst == i) break;
                int32_t t = cand[i]; cand[i] = cand[worst]; cand[worst] = t;
                i = worst;
            }
        }
    }
    /* heap sort: repeatedly move the worst to the end -> best first */
    for (int end = size - 1; end > 0; end--) {
        int32_t t = cand[0]; cand[0] = cand[end]; cand[end] = t;
        int i = 0;
        for (;;) {
            int l = 2 * i + 1, r = l + 1, worst = i;
            if (l < end && ranks_before(logits, cand[worst], cand[l])) worst = l;
            if (r < end && ranks_before(logits, cand[worst], cand[r])) worst = r;
            if (worst == i) break;
            int32_t u = cand[i]; cand[i] = cand[worst]; cand[worst] = u;
            i = worst;
        }
    }
    return size;
}

static const float *sort_logits; /* comparator context (single-threaded use) */
static int cmp_candidates(const void *pa, const void *pb) {
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    return ranks_before(sort_logits, a, b) ? -1 : ranks_before(sort_logits, b, a) ? 1 : 0;
}

int32_t sampler_sample(Sampler *s, const float *logits) {
    const int V = s->vocab_size;
    const SamplingParams *p = &s->params;
    if (p->temperature <= 0.0f || p->top_k == 1) return sample_argmax(logits, V);
    const double inv_t = 1.0 / (double)p->temperature;
    const int32_t best = sample_argmax(logits, V);
    const double maxl = rank_key(logits[best]);
    int n;
    if (p->top_k > 0 && p->top_k < V) {
        n = select_top_k(logits, V, p->top_k, s->cand);
    } else if (p->top_p < 1.0f) {
        /* Only ids whose probability can matter for top-p: the one at rank j >= 1
         * is kept only if p_j > (1 - top_p) / (V - 1). The best id is always kept
         * (rank 0), whatever its probability: with near-equal logits and a small
         * top_p it can be below that bound, and then no other id is kept either. */
        double total = 0.0;
        for (int i = 0; i < V; i++) total += weight_of(logits[i], maxl, inv_t);
        const double cutoff = (1.0 - (double)p->top_p) / (double)(V > 1 ? V - 1 : 1) * total;
        n = 0;
        for (int32_t i = 0; i < V; i++)
            if (i == best || weight_of(logits[i], maxl, inv_t) >= cutoff) s->cand[n++] = i;
        sort_logits = logits;
        qsort(s->cand, (size_t)n, sizeof *s->cand, cmp_candidates);
    } else {
        n = V;
        for (int32_t i = 0; i < V; i++) s->cand[i] = i;
    }
    /* n >= 1 here (V >= 1, k >= 1, the best id in the top-p set); cand[0] is
     * the best id where the candidates are sorted (top-k, top-p) */
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        s->weight[i] = weight_of(logits[s->cand[i]], maxl, inv_t);
        total += s->weight[i];
    }
    if (!(total > 0.0)) return best; /* every logit NaN: nothing to draw from */
    if (p->top_p < 1.0f) { /* candidates are sorted best first: keep the smallest head with mass >= top_p */
        double cum = 0.0, mass = 0.0;
        int keep = n;
        for (int i = 0; i < n; i++) {
            cum += s->weight[i];
            if (cum / total >= (double)p->top_p) { keep = i + 1; break; }
        }
        for (int i = 0; i < keep; i++) mass += s->weight[i];
        n = keep;
        total = mass;
    }
    const double r = (double)rng_next_float(&s->rng) * total;
    double cum = 0.0;
    for (int i = 0; i < n; i++) {
        cum += s->weight[i];
        if (r < cum) return s->cand[i];
    }
    return s->cand[n - 1];
}
