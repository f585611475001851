/* sampler.c: the penalties (logit transforms), then greedy / temperature /
 * top-k / top-p / min-p sampling; the log-probabilities reported with a token. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/grow.h"

SamplingParams sampling_params_basic(float temperature, int top_k, float top_p, uint64_t seed) {
    SamplingParams p;
    memset(&p, 0, sizeof p);
    p.temperature = temperature;
    p.top_k = top_k;
    p.top_p = top_p;
    p.seed = seed;
    p.repetition_penalty = 1.0f;
    return p;
}

int sampling_params_check(const SamplingParams *p, BittError *err) {
    if (!isfinite(p->temperature) || p->temperature < 0)
        return bitt_fail(err, "temperature must be a finite number >= 0 (got %g)", (double)p->temperature);
    if (p->top_k < 0) return bitt_fail(err, "top-k must be >= 0 (got %d)", p->top_k);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return bitt_fail(err, "top-p must be in (0, 1] (got %g)", (double)p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return bitt_fail(err, "min-p must be in [0, 1] (got %g)", (double)p->min_p);
    if (!isfinite(p->repetition_penalty) || !(p->repetition_penalty > 0.0f))
        return bitt_fail(err, "repetition penalty must be a finite number > 0 (1 = off; got %g)",
                         (double)p->repetition_penalty);
    if (!isfinite(p->presence_penalty))
        return bitt_fail(err, "presence penalty must be a finite number (got %g)", (double)p->presence_penalty);
    if (!isfinite(p->frequency_penalty))
        return bitt_fail(err, "frequency penalty must be a finite number (got %g)", (double)p->frequency_penalty);
    if (p->penalty_last_n < 0)
        return bitt_fail(err, "penalty window (last n tokens) must be >= 0 (0 = all; got %d)", p->penalty_last_n);
    return 0;
}

int sampler_init(Sampler *s, int vocab_size, const SamplingParams *p, BittError *err) {
    memset(s, 0, sizeof *s);
    if (sampling_params_check(p, err) != 0) return -1;
    s->vocab_size = vocab_size;
    s->params = *p;
    s->cand = malloc((size_t)vocab_size * sizeof *s->cand);
    s->weight = malloc((size_t)vocab_size * sizeof *s->weight);
    s->adjusted = malloc((size_t)vocab_size * sizeof *s->adjusted);
    s->counts = calloc((size_t)vocab_size, sizeof *s->counts);
    if (!s->cand || !s->weight || !s->adjusted || !s->counts) {
        sampler_free(s);
        return bitt_fail(err, "out of memory for the sampler");
    }
    rng_seed(&s->rng, p->seed);
    return 0;
}

void sampler_free(Sampler *s) {
    free(s->cand);
    free(s->weight);
    free(s->adjusted);
    free(s->counts);
    free(s->history);
    memset(s, 0, sizeof *s);
}

void sampler_reseed(Sampler *s, uint64_t seed) {
    s->params.seed = seed;
    rng_seed(&s->rng, seed);
    for (size_t i = 0; i < s->history_len; i++) s->counts[s->history[i]] = 0;
    s->history_len = 0;
}

void sampler_set_params(Sampler *s, const SamplingParams *p) {
    const int recount = p->penalty_last_n != s->params.penalty_last_n;
    s->params = *p;
    if (!recount) return;
    for (size_t i = 0; i < s->history_len; i++) s->counts[s->history[i]] = 0;
    const size_t window = (size_t)p->penalty_last_n;
    const size_t from = window > 0 && s->history_len > window ? s->history_len - window : 0;
    for (size_t i = from; i < s->history_len; i++) s->counts[s->history[i]]++;
}

int sampler_accept(Sampler *s, int32_t token) {
    if (token < 0 || token >= s->vocab_size) return 0; /* not an id: nothing to penalise */
    if (grow_array(&s->history, &s->history_cap, s->history_len + 1, sizeof *s->history) != 0) return -1;
    s->history[s->history_len++] = token;
    s->counts[token]++;
    const size_t window = (size_t)s->params.penalty_last_n;
    if (window > 0 && s->history_len > window) s->counts[s->history[s->history_len - 1 - window]]--;
    return 0;
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
 * comparison is a total order (the heaps and sorts need one) and a NaN is
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

/* In the heap cand[0..size) the worst candidate is at the root: moves the
 * candidate at i down to its place. */
static void sift_down_worst_first(const float *logits, int32_t *cand, int i, int size) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, worst = i;
        if (l < size && ranks_before(logits, cand[worst], cand[l])) worst = l;
        if (r < size && ranks_before(logits, cand[worst], cand[r])) worst = r;
        if (worst == i) return;
        int32_t t = cand[i]; cand[i] = cand[worst]; cand[worst] = t;
        i = worst;
    }
}

/* Heap sort of a heap (worst at the root): repeatedly moves the worst to the
 * end, which leaves cand[0..size) sorted best first. */
static void heap_sort_best_first(const float *logits, int32_t *cand, int size) {
    for (int end = size - 1; end > 0; end--) {
        int32_t t = cand[0]; cand[0] = cand[end]; cand[end] = t;
        sift_down_worst_first(logits, cand, 0, end);
    }
}

/* Sorts cand[0..n) best first (the order is total: ties go to the smaller id,
 * so any correct sort gives the same result). In place, no comparator
 * context: safe from several threads at once. */
static void sort_best_first(const float *logits, int32_t *cand, int n) {
    for (int i = n / 2 - 1; i >= 0; i--) sift_down_worst_first(logits, cand, i, n);
    heap_sort_best_first(logits, cand, n);
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
            sift_down_worst_first(logits, cand, 0, size);
        }
    }
    heap_sort_best_first(logits, cand, size);
    return size;
}

static int penalties_on(const SamplingParams *p) {
    return p->repetition_penalty != 1.0f || p->presence_penalty != 0.0f || p->frequency_penalty != 0.0f;
}

/* The logits with the penalties applied to every id in the window, into
 * s->adjusted. Float arithmetic in a fixed order: the same bits everywhere. */
static const float *apply_penalties(Sampler *s, const float *logits) {
    const SamplingParams *p = &s->params;
    if (!penalties_on(p) || s->history_len == 0) return logits;
    const float rp = p->repetition_penalty, pp = p->presence_penalty, fp = p->frequency_penalty;
    for (int i = 0; i < s->vocab_size; i++) {
        float x = logits[i];
        const int32_t c = s->counts[i];
        if (c > 0) {
            if (rp != 1.0f) x = x > 0.0f ? x / rp : x * rp;
            x = x - (float)c * fp - pp;
        }
        s->adjusted[i] = x;
    }
    return s->adjusted;
}

int32_t sampler_sample(Sampler *s, const float *raw_logits) {
    const int V = s->vocab_size;
    const SamplingParams *p = &s->params;
    const float *logits = apply_penalties(s, raw_logits);
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
        sort_best_first(logits, s->cand, n);
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
    if (p->min_p > 0.0f) { /* weights are relative to the best one (1): keep those >= min_p, in order */
        const double floor_w = (double)p->min_p;
        int kept = 0;
        total = 0.0;
        for (int i = 0; i < n; i++) {
            if (!(s->weight[i] >= floor_w)) continue;
            s->cand[kept] = s->cand[i];
            s->weight[kept] = s->weight[i];
            total += s->weight[kept];
            kept++;
        }
        n = kept; /* >= 1: the best id has weight 1 */
    }
    const double r = (double)rng_next_float(&s->rng) * total;
    double cum = 0.0;
    for (int i = 0; i < n; i++) {
        cum += s->weight[i];
        if (r < cum) return s->cand[i];
    }
    return s->cand[n - 1];
}

/* log softmax of one logit, given the largest (maxl), log of the sum of
 * exp(l - maxl) over all, and how many logits are +infinity */
static double logprob_of(float logit, double maxl, double log_sum, int n_inf, int V) {
    const double l = rank_key(logit);
    if (maxl == INFINITY) return l == INFINITY ? -log((double)n_inf) : -INFINITY; /* they share the mass */
    if (maxl == -INFINITY) return -log((double)V);                                  /* nothing is a number */
    return l - maxl - log_sum;
}

void sampler_logprobs(const float *logits, int V, int32_t token, int n, int32_t *ids, double *logprobs,
                      double *token_logprob) {
    const double maxl = rank_key(logits[sample_argmax(logits, V)]);
    double sum = 0.0;
    int n_inf = 0;
    for (int i = 0; i < V; i++) {
        const double l = rank_key(logits[i]);
        n_inf += l == INFINITY;
        if (isfinite(maxl)) sum += exp(l - maxl);
    }
    const double log_sum = isfinite(maxl) ? log(sum) : 0.0;
    if (token_logprob)
        *token_logprob = token >= 0 && token < V ? logprob_of(logits[token], maxl, log_sum, n_inf, V) : -INFINITY;
    if (n > V) n = V;
    if (n > 0) {
        const int got = select_top_k(logits, V, n, ids);
        for (int i = 0; i < got; i++) logprobs[i] = logprob_of(logits[ids[i]], maxl, log_sum, n_inf, V);
    }
}
