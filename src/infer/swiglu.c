/* swiglu.c: the MLP half of a block at run time (SPEC 1): out =
 * down(silu(gate(x)) * up(x)), all three BitLinear; gate and up share the
 * quantised input. */
#include "../kernels/target_clones.h"
#include "act_math.h"
#include "bitlinear_apply.h"
#include "block.h"

/* gate = silu(gate) * up over n values (vectorised where the CPU allows) */
BITT_VECTOR_CLONES static void silu_times(float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) gate[i] = act_silu(gate[i]) * up[i];
}

void swiglu_forward(const BlockIO *io) {
    const Model *m = io->m;
    const Kernels *kern = m->kernels;
    const LayerWeights *w = &m->layers[io->layer];
    BlockScratch *s = io->scratch;
    const int D = m->cfg.hidden_dim, I = m->cfg.intermediate_dim, T = io->T;
    ActRows a;
    act_rows_quantize(kern, m->cfg.act_quant, io->in, T, D, s->xq, s->xs, &a);
    bitlinear_apply(kern, &w->gate.q, &a, T, s->acc, s->gate);
    bitlinear_apply(kern, &w->up.q, &a, T, s->acc, s->up);
    silu_times(s->gate, s->up, (size_t)T * I);
    act_rows_quantize(kern, m->cfg.act_quant, s->gate, T, I, s->xq, s->xs, &a);
    bitlinear_apply(kern, &w->down.q, &a, T, s->acc, io->out);
}
