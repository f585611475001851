/* ttt_seed.c: the seed's TTT mixer (SPEC 1.3), kept so that checkpoints of
 * the original engine still run. d = D/4; per token u = down(x),
 * uh = u / (|u| + 1e-6), p = S uh, S <- S - inner_lr (p - uh) uh^T,
 * output up(p) (p taken before the update). Purely sequential. */
#include <math.h>

#include "bitlinear_apply.h"
#include "block.h"

void ttt_seed_forward(const BlockIO *io, float *S) {
    const Model *m = io->m;
    const Kernels *kern = m->kernels;
    const ModelConfig *cfg = &m->cfg;
    const LayerWeights *w = &m->layers[io->layer];
    BlockScratch *s = io->scratch;
    const int D = cfg->hidden_dim, d = D / 4, T = io->T;
    float *U = s->gate, *P = s->up; /* T x d each */

    ActRows a;
    act_rows_quantize(kern, cfg->act_quant, io->in, T, D, s->xq, s->xs, &a);
    bitlinear_apply(kern, &w->ttt_down.q, &a, T, s->acc, U);
    for (int t = 0; t < T; t++) {
        float *uh = U + (size_t)t * d, *p = P + (size_t)t * d;
        float norm = 0.0f;
        for (int j = 0; j < d; j++) norm += uh[j] * uh[j];
        const float inv = 1.0f / (sqrtf(norm) + 1e-6f);
        for (int j = 0; j < d; j++) uh[j] *= inv;
        for (int i = 0; i < d; i++) {
            const float *row = S + (size_t)i * d;
            float sum = 0.0f;
            for (int j = 0; j < d; j++) sum += row[j] * uh[j];
            p[i] = sum;
        }
        for (int i = 0; i < d; i++) {
            const float r = cfg->inner_lr * (p[i] - uh[i]);
            float *row = S + (size_t)i * d;
            for (int j = 0; j < d; j++) row[j] -= r * uh[j];
        }
    }
    act_rows_quantize(kern, cfg->act_quant, P, T, d, s->xq, s->xs, &a);
    bitlinear_apply(kern, &w->ttt_up.q, &a, T, s->acc, io->out);
}
