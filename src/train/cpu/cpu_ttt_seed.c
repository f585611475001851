/* cpu_ttt_seed.c: the seed mixer's chains (SPEC 1.3) of the CPU backend,
 * forward and backward side by side, one sequence at a time (sequences split
 * over threads). Per token uh = u / (|u| + 1e-6), p = S uh,
 * S <- S - inner_lr (p - uh) uh^T; S starts at zero (or at a carried S
 * given as a constant). The forward keeps S before every token; the backward
 * runs the recurrence in reverse carrying dS (none flows into a given S). */
#include <string.h>

#include "../../util/threadpool.h"
#include "cpu_internal.h"

typedef struct SeedJob {
    const TttSeedChain *c;
    real **scratch;
} SeedJob;

static void seed_fwd(const TttSeedChain *c, int s, real *hs) {
    const int d = c->d, T = c->T;
    const real eta = c->inner_lr;
    const size_t dd = (size_t)d * d, r0 = (size_t)s * T;
    real *S = hs, *uh = S + dd;
    real *st = c->state ? c->state + (size_t)s * c->state_stride : NULL;
    if (st && c->carried && c->carried[s]) memcpy(S, st, dd * sizeof(real));
    else memset(S, 0, dd * sizeof(real));
    for (int i = 0; i < T; i++) {
        const size_t t = r0 + (size_t)i;
        const real *u = c->u + t * d;
        real *p = c->p + t * d;
        real nn = 0;
        for (int j = 0; j < d; j++) nn += u[j] * u[j];
        const real norm = REAL_SQRT(nn);
        c->u_norm[t] = norm;
        for (int j = 0; j < d; j++) uh[j] = u[j] / (norm + (real)1e-6);
        memcpy(c->S_before + t * dd, S, dd * sizeof(real));
        for (int a = 0; a < d; a++) {
            const real *row = S + (size_t)a * d;
            real sum = 0;
            for (int j = 0; j < d; j++) sum += row[j] * uh[j];
            p[a] = sum;
        }
        for (int a = 0; a < d; a++) {
            const real r = eta * (p[a] - uh[a]);
            real *row = S + (size_t)a * d;
            for (int j = 0; j < d; j++) row[j] -= r * uh[j];
        }
    }
    if (st && c->state_out) memcpy(st, S, dd * sizeof(real));
}

static void seed_bwd(const TttSeedChain *c, int s, real *hs) {
    const int d = c->d, T = c->T;
    const real eta = c->inner_lr;
    const size_t dd = (size_t)d * d, r0 = (size_t)s * T;
    real *G = hs, *uh = G + dd, *r = uh + d, *dp = r + d, *duh = dp + d;
    memset(G, 0, dd * sizeof(real)); /* dS after the last token */
    for (int i = T - 1; i >= 0; i--) {
        const size_t t = r0 + (size_t)i;
        const real *u = c->u + t * d, *p = c->p + t * d;
        const real *S = c->S_before + t * dd;
        const real norm = c->u_norm[t], den = norm + (real)1e-6;
        for (int j = 0; j < d; j++) {
            uh[j] = u[j] / den;
            r[j] = p[j] - uh[j];
            duh[j] = 0;
        }
        /* S' = S - eta r uh^T: dr = -eta G uh, duh -= eta G^T r */
        for (int a = 0; a < d; a++) {
            const real *row = G + (size_t)a * d;
            real sum = 0;
            for (int j = 0; j < d; j++) {
                sum += row[j] * uh[j];
                duh[j] -= eta * row[j] * r[a];
            }
            dp[a] = c->d_p[t * d + a] - eta * sum; /* r = p - uh */
            duh[a] += eta * sum;
        }
        /* p = S uh: dS = G + dp uh^T, duh += S^T dp */
        for (int a = 0; a < d; a++) {
            const real *Srow = S + (size_t)a * d;
            real *Grow = G + (size_t)a * d;
            for (int j = 0; j < d; j++) {
                duh[j] += Srow[j] * dp[a];
                Grow[j] += dp[a] * uh[j];
            }
        }
        /* uh = u / (|u| + eps) */
        real udu = 0;
        for (int j = 0; j < d; j++) udu += u[j] * duh[j];
        real *du = c->d_u + t * d;
        const real k = norm > 0 ? udu / (norm * den * den) : 0;
        for (int j = 0; j < d; j++) du[j] = duh[j] / den - k * u[j];
    }
}

static void fwd_worker(void *ctx, int s0, int s1, int worker) {
    const SeedJob *j = ctx;
    for (int s = s0; s < s1; s++) seed_fwd(j->c, s, j->scratch[worker]);
}

static void bwd_worker(void *ctx, int s0, int s1, int worker) {
    const SeedJob *j = ctx;
    for (int s = s0; s < s1; s++) seed_bwd(j->c, s, j->scratch[worker]);
}

static size_t seed_scratch(const TttSeedChain *c) { return (size_t)c->d * c->d + 4 * (size_t)c->d + 16; }

void cpu_ttt_seed_fwd(TrainBackend *be, const TttSeedChain *c) {
    SeedJob j = {c, cpu_scratch(cpu_of(be), seed_scratch(c))};
    if (j.scratch) parallel_for(c->B, 1, fwd_worker, &j);
}

void cpu_ttt_seed_bwd(TrainBackend *be, const TttSeedChain *c) {
    SeedJob j = {c, cpu_scratch(cpu_of(be), seed_scratch(c))};
    if (j.scratch) parallel_for(c->B, 1, bwd_worker, &j);
}
