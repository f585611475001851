/* tm_ttt_seed.c: the seed's mixer (SPEC 1.3) for training, forward and
 * backward side by side. u = down(x) (T x d, d = D/4), uh = u / (|u| + 1e-6),
 * p = S uh, S <- S - inner_lr (p - uh) uh^T, mix = up(p); S starts at zero
 * (or at a carried S given as a constant input, TmWork.state_in; the final S
 * goes to TmWork.state_out when asked). The forward keeps S before every
 * token (T x d x d); the backward runs the recurrence in reverse carrying
 * dS (none flows into a given start S). */
#include <string.h>

#include "tm_internal.h"

void tm_ttt_seed_fwd(const TmModel *tm, TmWork *w, int layer, int T) {
    TmLayerActs *A = &w->L[layer];
    const int D = tm->cfg.hidden_dim, d = D / 4;
    const real eta = (real)tm->cfg.inner_lr;
    real *S = w->hs, *uh = S + (size_t)d * d;
    tm_act_eff(tm, w, A->xn1, T, D, A->xe1);
    tm_bitlinear_fwd(tm, layer, TM_SDOWN, A->xe1, T, A->su);
    const size_t so = tm_state_layer_off(&tm->cfg, layer);
    if (w->state_in) memcpy(S, w->state_in + so, (size_t)d * d * sizeof(real));
    else memset(S, 0, (size_t)d * d * sizeof(real));
    for (int t = 0; t < T; t++) {
        const real *u = A->su + (size_t)t * d;
        real *p = A->sp + (size_t)t * d;
        real nn = 0;
        for (int j = 0; j < d; j++) nn += u[j] * u[j];
        const real norm = TM_SQRT(nn);
        A->sun[t] = norm;
        for (int j = 0; j < d; j++) uh[j] = u[j] / (norm + (real)1e-6);
        memcpy(A->sS + (size_t)t * d * d, S, (size_t)d * d * sizeof(real));
        for (int i = 0; i < d; i++) {
            const real *row = S + (size_t)i * d;
            real s = 0;
            for (int j = 0; j < d; j++) s += row[j] * uh[j];
            p[i] = s;
        }
        for (int i = 0; i < d; i++) {
            const real r = eta * (p[i] - uh[i]);
            real *row = S + (size_t)i * d;
            for (int j = 0; j < d; j++) row[j] -= r * uh[j];
        }
    }
    if (w->state_out) memcpy(w->state_out + so, S, (size_t)d * d * sizeof(real));
    tm_act_eff(tm, w, A->sp, T, d, A->spe);
    tm_bitlinear_fwd(tm, layer, TM_SUP, A->spe, T, w->mix);
}

void tm_ttt_seed_bwd(const TmModel *tm, TmWork *w, int layer, int T, const real *dmix,
                     real *dxn1, real *grad) {
    TmLayerActs *A = &w->L[layer];
    const int D = tm->cfg.hidden_dim, d = D / 4;
    const real eta = (real)tm->cfg.inner_lr;
    real *dP = w->dq, *dU = w->dk; /* T x d each */
    real *G = w->hs, *uh = G + (size_t)d * d, *r = uh + d, *dp = r + d, *duh = dp + d;
    tm_bitlinear_bwd(tm, layer, TM_SUP, A->spe, dmix, T, dP, 0, grad);
    memset(G, 0, (size_t)d * d * sizeof(real)); /* dS after the last token */
    for (int t = T - 1; t >= 0; t--) {
        const real *u = A->su + (size_t)t * d, *p = A->sp + (size_t)t * d;
        const real *S = A->sS + (size_t)t * d * d;
        const real norm = A->sun[t], den = norm + (real)1e-6;
        for (int j = 0; j < d; j++) {
            uh[j] = u[j] / den;
            r[j] = p[j] - uh[j];
            duh[j] = 0;
        }
        /* S' = S - eta r uh^T: dr = -eta G uh, duh -= eta G^T r */
        for (int i = 0; i < d; i++) {
            const real *row = G + (size_t)i * d;
            real s = 0;
            for (int j = 0; j < d; j++) {
                s += row[j] * uh[j];
                duh[j] -= eta * row[j] * r[i];
            }
            dp[i] = dP[(size_t)t * d + i] - eta * s; /* r = p - uh */
            duh[i] += eta * s;
        }
        /* p = S uh: dS = G + dp uh^T, duh += S^T dp */
        for (int i = 0; i < d; i++) {
            const real *Srow = S + (size_t)i * d;
            real *Grow = G + (size_t)i * d;
            for (int j = 0; j < d; j++) {
                duh[j] += Srow[j] * dp[i];
                Grow[j] += dp[i] * uh[j];
            }
        }
        /* uh = u / (|u| + eps) */
        real udu = 0;
        for (int j = 0; j < d; j++) udu += u[j] * duh[j];
        real *du = dU + (size_t)t * d;
        const real c = norm > 0 ? udu / (norm * den * den) : 0;
        for (int j = 0; j < d; j++) du[j] = duh[j] / den - c * u[j];
    }
    tm_bitlinear_bwd(tm, layer, TM_SDOWN, A->xe1, dU, T, dxn1, 0, grad);
}
