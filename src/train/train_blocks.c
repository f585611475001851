/* train_blocks.c: the schedule of a block's pieces over N = B * T rows,
 * each forward beside its backward: BitLinear with its straight-through
 * estimator (SPEC 1.1), SwiGLU, and the two TTT mixers around their chains
 * (the projections, the lr and forget gates, the post-norm). The arithmetic
 * is the backend's. */
#include "train_blocks.h"

static TrainBackend *be_of(const TrainModel *tm) { return tm->be; }

/* ---- BitLinear ---- */

void train_act_eff(const TrainModel *tm, const real *x, int rows, int cols, real *out) {
    TrainBackend *be = be_of(tm);
    if (tm->act_quant) be->act_quant(be, x, rows, cols, out);
    else if (out != x) be->copy(be, out, x, (size_t)rows * cols);
}

void train_bitlinear_fwd(const TrainModel *tm, int layer, ParamField f, const real *xe, int N, real *y) {
    const TrainTensor *t = &tm->tensors[tm->field[layer][f]];
    be_of(tm)->gemm(be_of(tm), 0, 1, N, t->rows, t->cols, xe, tm->weights + t->offset, y, 0);
}

/* y = xe W^T: dxe = dy W; dW = dy^T xe (the STE: the latent W gets the
 * gradient of its quantised form, and x that of xe). */
void train_bitlinear_bwd(const TrainModel *tm, int layer, ParamField f, const real *xe, const real *dy, int N,
                         real *dxe, int accumulate) {
    TrainBackend *be = be_of(tm);
    const TrainTensor *t = &tm->tensors[tm->field[layer][f]];
    be->gemm(be, 0, 0, N, t->cols, t->rows, dy, tm->weights + t->offset, dxe, accumulate);
    be->gemm(be, 1, 0, t->rows, t->cols, N, dy, xe, tm->grads + t->offset, 1);
}

/* ---- SwiGLU: mix = down(silu(gate(xn2)) * up(xn2)) ---- */

void train_swiglu_fwd(const TrainModel *tm, TrainActs *a, int layer) {
    TrainBackend *be = be_of(tm);
    TrainLayerActs *A = &a->L[layer];
    const int N = a->B * a->T, D = tm->cfg.hidden_dim, I = tm->cfg.intermediate_dim;
    train_act_eff(tm, A->xn2, N, D, A->xe2);
    train_bitlinear_fwd(tm, layer, PF_MLP_GATE, A->xe2, N, A->ga);
    train_bitlinear_fwd(tm, layer, PF_MLP_UP, A->xe2, N, A->gu);
    be->swiglu_fwd(be, A->ga, A->gu, (size_t)N * I, A->gh);
    train_act_eff(tm, A->gh, N, I, A->ghe);
    train_bitlinear_fwd(tm, layer, PF_MLP_DOWN, A->ghe, N, a->mix);
}

void train_swiglu_bwd(const TrainModel *tm, TrainActs *a, int layer, const real *dmix, real *dxn2) {
    TrainBackend *be = be_of(tm);
    TrainLayerActs *A = &a->L[layer];
    const int N = a->B * a->T, I = tm->cfg.intermediate_dim;
    real *dh = a->dI1, *dga = a->dI2;
    train_bitlinear_bwd(tm, layer, PF_MLP_DOWN, A->ghe, dmix, N, dh, 0);
    be->swiglu_bwd(be, A->ga, A->gu, dh, dga, (size_t)N * I);
    train_bitlinear_bwd(tm, layer, PF_MLP_GATE, A->xe2, dga, N, dxn2, 0);
    train_bitlinear_bwd(tm, layer, PF_MLP_UP, A->xe2, dh, N, dxn2, 1);
}

/* ---- TTT-Linear (SPEC 1.2, 1.2.1) ---- */

/* A gate over the heads: y (N x H) = act(xn1 W^T + bias), W: H x D. */
static void gate_fwd(const TrainModel *tm, int layer, ParamField wf, ParamField bf, GateKind kind, const real *xn1,
                     int N, real *y) {
    TrainBackend *be = be_of(tm);
    const int D = tm->cfg.hidden_dim, H = tm->cfg.num_heads;
    be->gemm(be, 0, 1, N, H, D, xn1, train_layer_tensor(tm, tm->params, layer, wf), y, 0);
    be->gate_fwd(be, kind, y, train_layer_tensor(tm, tm->params, layer, bf), N, H);
}

/* dy (N x H, overwritten) -> dW, dbias, and dxn1 (= or += when accumulate). */
static void gate_bwd(const TrainModel *tm, int layer, ParamField wf, ParamField bf, GateKind kind, const real *y,
                     real *dy, const real *xn1, int N, real *dxn1, int accumulate) {
    TrainBackend *be = be_of(tm);
    const int D = tm->cfg.hidden_dim, H = tm->cfg.num_heads;
    be->gate_bwd(be, kind, y, dy, N, H, train_layer_tensor(tm, tm->grads, layer, bf));
    be->gemm(be, 1, 0, H, D, N, dy, xn1, train_layer_tensor(tm, tm->grads, layer, wf), 1);
    be->gemm(be, 0, 0, N, D, H, dy, train_layer_tensor(tm, tm->params, layer, wf), dxn1, accumulate);
}

static TttLinearChain linear_chain(const TrainModel *tm, TrainActs *a, int layer) {
    const ModelConfig *c = &tm->cfg;
    TrainLayerActs *A = &a->L[layer];
    TttLinearChain ch = {0};
    ch.B = a->B;
    ch.T = a->T;
    ch.D = c->hidden_dim;
    ch.H = c->num_heads;
    ch.mini_batch = c->mini_batch;
    ch.base_lr = (real)c->base_lr;
    ch.state_decay = (real)c->state_decay;
    ch.q = A->q;
    ch.k = A->k;
    ch.v = A->v;
    ch.lr_gate = A->lr_gate;
    ch.log_forget = A->log_forget;
    ch.W0 = train_layer_tensor(tm, tm->params, layer, PF_TTT_W0);
    ch.b0 = train_layer_tensor(tm, tm->params, layer, PF_TTT_B0);
    ch.ln_w = train_layer_tensor(tm, tm->params, layer, PF_TTT_LN_W);
    ch.ln_b = train_layer_tensor(tm, tm->params, layer, PF_TTT_LN_B);
    ch.carried = a->state ? a->carried : NULL;
    ch.state = a->state ? a->state + train_state_layer_off(c, layer) : NULL;
    ch.state_stride = train_state_floats(tm);
    ch.state_out = a->state && a->write_back;
    ch.g = A->g;
    ch.xk = A->xk;
    ch.sk = A->sk;
    ch.xz = A->xz;
    ch.sz = A->sz;
    ch.Wst = A->Wst;
    ch.cst = A->cst;
    ch.out = A->ho;
    return ch;
}

void train_ttt_linear_fwd(const TrainModel *tm, TrainActs *a, int layer) {
    TrainBackend *be = be_of(tm);
    TrainLayerActs *A = &a->L[layer];
    const ModelConfig *c = &tm->cfg;
    const int N = a->B * a->T, D = c->hidden_dim;
    train_act_eff(tm, A->xn1, N, D, A->xe1);
    train_bitlinear_fwd(tm, layer, PF_TTT_Q, A->xe1, N, A->q);
    train_bitlinear_fwd(tm, layer, PF_TTT_K, A->xe1, N, A->k);
    train_bitlinear_fwd(tm, layer, PF_TTT_V, A->xe1, N, A->v);
    gate_fwd(tm, layer, PF_TTT_LR_W, PF_TTT_LR_B, GATE_SIGMOID, A->xn1, N, A->lr_gate);
    if (c->forget_gate) gate_fwd(tm, layer, PF_TTT_FORGET_W, PF_TTT_FORGET_B, GATE_LOG_FORGET, A->xn1, N, A->log_forget);
    TttLinearChain ch = linear_chain(tm, a, layer);
    be->ttt_linear_fwd(be, &ch);
    be->rmsnorm_fwd(be, A->ho, train_layer_tensor(tm, tm->params, layer, PF_TTT_POST_NORM), N, D, (real)c->rms_eps,
                    A->hp, A->rp);
    train_act_eff(tm, A->hp, N, D, A->hpe);
    train_bitlinear_fwd(tm, layer, PF_TTT_O, A->hpe, N, a->mix);
}

void train_ttt_linear_bwd(const TrainModel *tm, TrainActs *a, int layer, const real *dmix, real *dxn1) {
    TrainBackend *be = be_of(tm);
    TrainLayerActs *A = &a->L[layer];
    const ModelConfig *c = &tm->cfg;
    const int N = a->B * a->T, D = c->hidden_dim;
    real *dhp = a->dD2, *dho = a->dI1;
    /* o and the post-norm */
    train_bitlinear_bwd(tm, layer, PF_TTT_O, A->hpe, dmix, N, dhp, 0);
    be->rmsnorm_bwd(be, A->ho, A->rp, train_layer_tensor(tm, tm->params, layer, PF_TTT_POST_NORM), dhp, N, D, dho, 0,
                    train_layer_tensor(tm, tm->grads, layer, PF_TTT_POST_NORM));
    /* the chains of every (sequence, head) */
    TttLinearChain ch = linear_chain(tm, a, layer);
    ch.d_out = dho;
    ch.dq = a->dq;
    ch.dk = a->dk;
    ch.dv = a->dv;
    ch.d_lr_gate = a->dlr;
    ch.d_log_forget = c->forget_gate ? a->dlf : NULL;
    ch.dW0 = train_layer_tensor(tm, tm->grads, layer, PF_TTT_W0);
    ch.db0 = train_layer_tensor(tm, tm->grads, layer, PF_TTT_B0);
    ch.dln_w = train_layer_tensor(tm, tm->grads, layer, PF_TTT_LN_W);
    ch.dln_b = train_layer_tensor(tm, tm->grads, layer, PF_TTT_LN_B);
    be->ttt_linear_bwd(be, &ch);
    /* the gates read xn1 directly; q, k, v through the STE */
    gate_bwd(tm, layer, PF_TTT_LR_W, PF_TTT_LR_B, GATE_SIGMOID, A->lr_gate, a->dlr, A->xn1, N, dxn1, 0);
    if (c->forget_gate)
        gate_bwd(tm, layer, PF_TTT_FORGET_W, PF_TTT_FORGET_B, GATE_LOG_FORGET, A->log_forget, a->dlf, A->xn1, N,
                 dxn1, 1);
    train_bitlinear_bwd(tm, layer, PF_TTT_Q, A->xe1, a->dq, N, dxn1, 1);
    train_bitlinear_bwd(tm, layer, PF_TTT_K, A->xe1, a->dk, N, dxn1, 1);
    train_bitlinear_bwd(tm, layer, PF_TTT_V, A->xe1, a->dv, N, dxn1, 1);
}

/* ---- the seed mixer (SPEC 1.3) ---- */

static TttSeedChain seed_chain(const TrainModel *tm, TrainActs *a, int layer) {
    const ModelConfig *c = &tm->cfg;
    TrainLayerActs *A = &a->L[layer];
    TttSeedChain ch = {0};
    ch.B = a->B;
    ch.T = a->T;
    ch.d = c->hidden_dim / 4;
    ch.inner_lr = (real)c->inner_lr;
    ch.u = A->su;
    ch.carried = a->state ? a->carried : NULL;
    ch.state = a->state ? a->state + train_state_layer_off(c, layer) : NULL;
    ch.state_stride = train_state_floats(tm);
    ch.state_out = a->state && a->write_back;
    ch.u_norm = A->sun;
    ch.S_before = A->sS;
    ch.p = A->sp;
    return ch;
}

void train_ttt_seed_fwd(const TrainModel *tm, TrainActs *a, int layer) {
    TrainBackend *be = be_of(tm);
    TrainLayerActs *A = &a->L[layer];
    const int N = a->B * a->T, D = tm->cfg.hidden_dim, d = D / 4;
    train_act_eff(tm, A->xn1, N, D, A->xe1);
    train_bitlinear_fwd(tm, layer, PF_SEED_DOWN, A->xe1, N, A->su);
    TttSeedChain ch = seed_chain(tm, a, layer);
    be->ttt_seed_fwd(be, &ch);
    train_act_eff(tm, A->sp, N, d, A->spe);
    train_bitlinear_fwd(tm, layer, PF_SEED_UP, A->spe, N, a->mix);
}

void train_ttt_seed_bwd(const TrainModel *tm, TrainActs *a, int layer, const real *dmix, real *dxn1) {
    TrainBackend *be = be_of(tm);
    TrainLayerActs *A = &a->L[layer];
    const int N = a->B * a->T;
    real *dP = a->dq, *dU = a->dk; /* N x d each */
    train_bitlinear_bwd(tm, layer, PF_SEED_UP, A->spe, dmix, N, dP, 0);
    TttSeedChain ch = seed_chain(tm, a, layer);
    ch.d_p = dP;
    ch.d_u = dU;
    be->ttt_seed_bwd(be, &ch);
    train_bitlinear_bwd(tm, layer, PF_SEED_DOWN, A->xe1, dU, N, dxn1, 0);
}
