/* test_cuda_ops.c: every op of the CUDA training backend (cuda/) against
 * the CPU backend, the reference, on random inputs of odd sizes: buffers,
 * the four gemm transpose cases (accumulating or not, f32 and tf32), the
 * quantisers, RMSNorm (rows over several column-sum chunks), SwiGLU, both
 * gates, embedding (repeated ids), softmax cross-entropy, the sum of
 * squares, AdamW, and the TTT chains: linear over sequences whose length is
 * not a multiple of the mini-batch, with the forget gate on and off,
 * state_decay < 1, fresh and carried sequences in one batch, head sizes 16
 * and 64; seed with carried and fresh sequences. Bit-identical where the
 * design makes it so (buffers, act_quant, embedding, xent's backward scale,
 * AdamW), else a relative norm error per op (docs/CUDA.md).
 *   test_cuda_ops          the plugin on GPU 0 (exit 77, SKIP, without one)
 *   test_cuda_ops --emu    the same kernels on the host emulator */
#include "cuda_test_util.h"

static TrainBackend *cpu, *gpu;

/* ---- buffers ---- */

static void test_buffers(void) {
    printf("buffers\n");
    const size_t n = 1001;
    real *h = rand_host(n, -1, 1);
    real *d = to_dev(gpu, h, n), *d2 = gpu->alloc(gpu, n);
    real *z = from_dev(gpu, d2, n), *zero = calloc(n, sizeof(real));
    expect_equal("alloc zeroes", zero, z, n);
    real *back = from_dev(gpu, d, n);
    expect_equal("upload + download", h, back, n);
    gpu->copy(gpu, d2, d, n);
    real *c = from_dev(gpu, d2, n);
    expect_equal("copy", h, c, n);
    real *sum = copy_host(h, n);
    cpu->add(cpu, sum, h, n);
    gpu->add(gpu, d2, d, n);
    real *s = from_dev(gpu, d2, n);
    expect_equal("add", sum, s, n);
    gpu->zero(gpu, d2 + 7, 100);
    real *zz = from_dev(gpu, d2, n);
    memset(sum + 7, 0, 100 * sizeof(real));
    expect_equal("zero (offset)", sum, zz, n);
    check_status(gpu, "buffers");
    free(h); free(z); free(zero); free(back); free(c); free(sum); free(s); free(zz);
    gpu->release(gpu, d);
    gpu->release(gpu, d2);
}

/* ---- gemm ---- */

static void test_gemm(TrainBackend *g, double tol, const char *label) {
    printf("gemm (%s)\n", label);
    const int M = 37, N = 29, K = 45;
    for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++)
            for (int acc = 0; acc <= 1; acc++) {
                real *A = rand_host((size_t)M * K, -1, 1), *B = rand_host((size_t)K * N, -1, 1);
                real *C = rand_host((size_t)M * N, -1, 1), *Cc = copy_host(C, (size_t)M * N);
                real *dA = to_dev(g, A, (size_t)M * K), *dB = to_dev(g, B, (size_t)K * N);
                real *dC = to_dev(g, C, (size_t)M * N);
                cpu->gemm(cpu, ta, tb, M, N, K, A, B, Cc, acc);
                g->gemm(g, ta, tb, M, N, K, dA, dB, dC, acc);
                real *got = from_dev(g, dC, (size_t)M * N);
                char what[64];
                snprintf(what, sizeof what, "gemm ta=%d tb=%d acc=%d", ta, tb, acc);
                expect_close(what, Cc, got, (size_t)M * N, tol);
                free(A); free(B); free(C); free(Cc); free(got);
                g->release(g, dA); g->release(g, dB); g->release(g, dC);
            }
    /* K = 0: C = 0, or unchanged when accumulating */
    real *C = rand_host(6, -1, 1), *dC = to_dev(g, C, 6), *zero = calloc(6, sizeof(real));
    g->gemm(g, 0, 1, 2, 3, 0, dC, dC, dC, 1);
    real *same = from_dev(g, dC, 6);
    expect_equal("gemm K=0 accumulate", C, same, 6);
    g->gemm(g, 0, 1, 2, 3, 0, dC, dC, dC, 0);
    real *z = from_dev(g, dC, 6);
    expect_equal("gemm K=0", zero, z, 6);
    check_status(g, "gemm");
    free(C); free(zero); free(same); free(z);
    g->release(g, dC);
}

/* ---- quantisers ---- */

static void test_quantisers(void) {
    printf("quantisers\n");
    const size_t n = 10007;
    real *W = rand_host(n, -0.1, 0.1), *out = malloc(n * sizeof(real));
    W[18] = -1e-9f; /* rounds to -0: the code 0 gives +0 (model/ternary.h), as every small negative weight */
    real *dW = to_dev(gpu, W, n), *dout = gpu->alloc(gpu, n);
    cpu->ternarize(cpu, W, n, out);
    gpu->ternarize(gpu, dW, n, dout);
    real *got = from_dev(gpu, dout, n);
    /* g = mean |W| is summed in double in another order: the same float g, almost surely */
    expect_equal("ternarize", out, got, n);
    free(W); free(out); free(got);
    gpu->release(gpu, dW); gpu->release(gpu, dout);

    const int rows = 35, cols = 77;
    real *x = rand_host((size_t)rows * cols, -3, 3), *q = malloc((size_t)rows * cols * sizeof(real));
    for (int i = 0; i < cols; i++) x[2 * cols + i] = 0;        /* a zero row: s from the 1e-5 floor */
    x[5 * cols + 3] = 1e6f;                                     /* one huge value */
    for (int i = 0; i < cols; i++) x[7 * cols + i] = (real)(i - 38) * 0.5f; /* halves: round away from zero */
    real *dx = to_dev(gpu, x, (size_t)rows * cols), *dq = gpu->alloc(gpu, (size_t)rows * cols);
    cpu->act_quant(cpu, x, rows, cols, q);
    gpu->act_quant(gpu, dx, rows, cols, dq);
    real *gq = from_dev(gpu, dq, (size_t)rows * cols);
    expect_equal("act_quant", q, gq, (size_t)rows * cols);
    check_status(gpu, "quantisers");
    free(x); free(q); free(gq);
    gpu->release(gpu, dx); gpu->release(gpu, dq);
}

/* ---- RMSNorm, SwiGLU, gates ---- */

static void test_rmsnorm(void) {
    printf("rmsnorm\n");
    const int rows = 300, n = 97; /* 3 column-sum chunks of 128 rows */
    const size_t nn = (size_t)rows * n;
    real *x = rand_host(nn, -2, 2), *w = rand_host((size_t)n, 0.5, 1.5), *y = malloc(nn * sizeof(real));
    real *r = malloc((size_t)rows * sizeof(real));
    real *dx_ = to_dev(gpu, x, nn), *dw_ = to_dev(gpu, w, (size_t)n), *dy_ = gpu->alloc(gpu, nn);
    real *dr_ = gpu->alloc(gpu, (size_t)rows);
    cpu->rmsnorm_fwd(cpu, x, w, rows, n, 1e-5f, y, r);
    gpu->rmsnorm_fwd(gpu, dx_, dw_, rows, n, 1e-5f, dy_, dr_);
    real *gy = from_dev(gpu, dy_, nn), *gr = from_dev(gpu, dr_, (size_t)rows);
    expect_close("rmsnorm_fwd y", y, gy, nn, 1e-6);
    expect_close("rmsnorm_fwd r", r, gr, (size_t)rows, 1e-6);
    for (int acc = 0; acc <= 1; acc++) {
        real *dy = rand_host(nn, -1, 1), *dx = rand_host(nn, -1, 1), *dw = rand_host((size_t)n, -1, 1);
        real *ddy = to_dev(gpu, dy, nn), *ddx = to_dev(gpu, dx, nn), *ddw = to_dev(gpu, dw, (size_t)n);
        cpu->rmsnorm_bwd(cpu, x, r, w, dy, rows, n, dx, acc, dw);
        gpu->rmsnorm_bwd(gpu, dx_, dr_ /* the GPU's r */, dw_, ddy, rows, n, ddx, acc, ddw);
        real *gdx = from_dev(gpu, ddx, nn), *gdw = from_dev(gpu, ddw, (size_t)n);
        expect_close(acc ? "rmsnorm_bwd dx (accumulate)" : "rmsnorm_bwd dx", dx, gdx, nn, 1e-5);
        expect_close("rmsnorm_bwd dw (column sums)", dw, gdw, (size_t)n, 1e-5);
        free(dy); free(dx); free(dw); free(gdx); free(gdw);
        gpu->release(gpu, ddy); gpu->release(gpu, ddx); gpu->release(gpu, ddw);
    }
    check_status(gpu, "rmsnorm");
    free(x); free(w); free(y); free(r); free(gy); free(gr);
    gpu->release(gpu, dx_); gpu->release(gpu, dw_); gpu->release(gpu, dy_); gpu->release(gpu, dr_);
}

static void test_swiglu(void) {
    printf("swiglu\n");
    const size_t n = 1001;
    real *a = rand_host(n, -6, 6), *u = rand_host(n, -2, 2), *h = malloc(n * sizeof(real));
    real *da = to_dev(gpu, a, n), *du = to_dev(gpu, u, n), *dh = gpu->alloc(gpu, n);
    cpu->swiglu_fwd(cpu, a, u, n, h);
    gpu->swiglu_fwd(gpu, da, du, n, dh);
    real *gh = from_dev(gpu, dh, n);
    expect_close("swiglu_fwd", h, gh, n, 1e-6);
    real *d = rand_host(n, -1, 1), *gda = malloc(n * sizeof(real));
    real *dd = to_dev(gpu, d, n), *dga = gpu->alloc(gpu, n);
    cpu->swiglu_bwd(cpu, a, u, d, gda, n);
    gpu->swiglu_bwd(gpu, da, du, dd, dga, n);
    real *g1 = from_dev(gpu, dga, n), *g2 = from_dev(gpu, dd, n);
    expect_close("swiglu_bwd da", gda, g1, n, 1e-6);
    expect_close("swiglu_bwd du (in place)", d, g2, n, 1e-6);
    check_status(gpu, "swiglu");
    free(a); free(u); free(h); free(gh); free(d); free(gda); free(g1); free(g2);
    gpu->release(gpu, da); gpu->release(gpu, du); gpu->release(gpu, dh);
    gpu->release(gpu, dd); gpu->release(gpu, dga);
}

static void test_gates(void) {
    printf("gates\n");
    const int rows = 301, H = 5;
    const size_t n = (size_t)rows * H;
    for (int kind = 0; kind <= 1; kind++) {
        const GateKind k = kind ? GATE_LOG_FORGET : GATE_SIGMOID;
        real *z = rand_host(n, -40, 40), *bias = rand_host((size_t)H, -2, 2); /* large |u|: softplus's two sides */
        real *dz = to_dev(gpu, z, n), *db = to_dev(gpu, bias, (size_t)H);
        cpu->gate_fwd(cpu, k, z, bias, rows, H);
        gpu->gate_fwd(gpu, k, dz, db, rows, H);
        real *gz = from_dev(gpu, dz, n);
        expect_close(kind ? "gate_fwd log-forget" : "gate_fwd sigmoid", z, gz, n, 1e-6);
        real *dy = rand_host(n, -1, 1), *dbias = rand_host((size_t)H, -1, 1);
        real *ddy = to_dev(gpu, dy, n), *ddb = to_dev(gpu, dbias, (size_t)H);
        cpu->gate_bwd(cpu, k, z, dy, rows, H, dbias);
        gpu->gate_bwd(gpu, k, dz, ddy, rows, H, ddb);
        real *gdy = from_dev(gpu, ddy, n), *gdb = from_dev(gpu, ddb, (size_t)H);
        expect_close(kind ? "gate_bwd log-forget dz" : "gate_bwd sigmoid dz", dy, gdy, n, 1e-6);
        expect_close("gate_bwd dbias", dbias, gdb, (size_t)H, 1e-5);
        free(z); free(bias); free(gz); free(dy); free(dbias); free(gdy); free(gdb);
        gpu->release(gpu, dz); gpu->release(gpu, db); gpu->release(gpu, ddy); gpu->release(gpu, ddb);
    }
    check_status(gpu, "gates");
}

/* ---- embedding, cross-entropy ---- */

static void test_embed_xent(void) {
    printf("embedding, cross-entropy\n");
    const int V = 17, D = 33, rows = 200;
    int32_t ids[200];
    for (int t = 0; t < rows; t++) ids[t] = (int32_t)(urand() * (t % 3 ? 5 : V)); /* ids 0..4 repeat often */
    ids[11] = V - 1;
    real *table = rand_host((size_t)V * D, -1, 1), *out = malloc((size_t)rows * D * sizeof(real));
    real *dtab = to_dev(gpu, table, (size_t)V * D), *dout = gpu->alloc(gpu, (size_t)rows * D);
    int32_t *dids = to_dev_i32(gpu, ids, (size_t)rows);
    cpu->embed_fwd(cpu, table, ids, rows, D, out);
    gpu->embed_fwd(gpu, dtab, dids, rows, D, dout);
    real *gout = from_dev(gpu, dout, (size_t)rows * D);
    expect_equal("embed_fwd", out, gout, (size_t)rows * D);
    real *dx = rand_host((size_t)rows * D, -1, 1), *ddx = to_dev(gpu, dx, (size_t)rows * D);
    cpu->embed_bwd(cpu, dx, ids, rows, D, table); /* onto the random table: accumulates */
    gpu->embed_bwd(gpu, ddx, dids, rows, D, dtab);
    real *gt = from_dev(gpu, dtab, (size_t)V * D);
    expect_equal("embed_bwd (token order per id)", table, gt, (size_t)V * D);
    free(table); free(out); free(gout); free(dx); free(gt);
    gpu->release(gpu, dtab); gpu->release(gpu, dout); gpu->release(gpu, dids); gpu->release(gpu, ddx);

    const int R = 19, VV = 301;
    real *z = rand_host((size_t)R * VV, -8, 8);
    int32_t tg[19];
    for (int t = 0; t < R; t++) tg[t] = (int32_t)(urand() * VV);
    double loss_c[19], loss_g[19];
    real *dz = to_dev(gpu, z, (size_t)R * VV);
    int32_t *dtg = to_dev_i32(gpu, tg, (size_t)R);
    cpu->xent_fwd(cpu, z, tg, R, VV, loss_c);
    gpu->xent_fwd(gpu, dz, dtg, R, VV, loss_g);
    real *gp = from_dev(gpu, dz, (size_t)R * VV);
    expect_close("xent_fwd probabilities", z, gp, (size_t)R * VV, 1e-6);
    double worst = 0;
    for (int t = 0; t < R; t++) worst = fmax(worst, fabs(loss_g[t] - loss_c[t]) / fabs(loss_c[t]));
    CHECK_MSG(worst <= 1e-6, "xent_fwd row losses: relative error %.3g", worst);
    printf("  %-34s rel err %.2e (tol 1e-06)\n", "xent_fwd row losses (host)", worst);
    /* the backward on the CPU's probabilities on both sides: (p - 1[target]) * scale, bit for bit */
    gpu->upload(gpu, dz, z, (size_t)R * VV);
    cpu->xent_bwd(cpu, z, tg, R, VV, 0.37f);
    gpu->xent_bwd(gpu, dz, dtg, R, VV, 0.37f);
    real *gd = from_dev(gpu, dz, (size_t)R * VV);
    expect_equal("xent_bwd", z, gd, (size_t)R * VV);
    check_status(gpu, "embedding, cross-entropy");
    free(z); free(gp); free(gd);
    gpu->release(gpu, dz); gpu->release(gpu, dtg);
}

/* ---- optimiser ---- */

static void test_optimiser(void) {
    printf("optimiser\n");
    const size_t n = 100003;
    real *x = rand_host(n, -3, 3), *dx = to_dev(gpu, x, n);
    const double sc = cpu->sum_squares(cpu, x, n), sg = gpu->sum_squares(gpu, dx, n);
    CHECK_MSG(fabs(sg - sc) <= 1e-12 * sc, "sum_squares: %.17g vs the CPU's %.17g", sg, sc);
    printf("  %-34s rel err %.2e (tol 1e-12)\n", "sum_squares (double)", fabs(sg - sc) / sc);
    free(x);
    gpu->release(gpu, dx);

    const AdamWTensor t[4] = {{0, 300, 1}, {300, 7, 0}, {307, 1000, 1}, {1307, 93, 1}};
    const size_t P = 1400;
    real *p = rand_host(P, -1, 1), *g = rand_host(P, -2, 2), *m = rand_host(P, -0.1, 0.1), *v = rand_host(P, 0, 0.1);
    real *dp = to_dev(gpu, p, P), *dg = to_dev(gpu, g, P), *dm = to_dev(gpu, m, P), *dv = to_dev(gpu, v, P);
    for (int step = 1; step <= 3; step++) {
        const float c1 = 1.0f - powf(0.9f, (float)step), c2 = 1.0f - powf(0.95f, (float)step);
        cpu->adamw(cpu, p, g, m, v, t, 4, 3e-3f, 0.1f, 0.9f, 0.95f, 1e-8f, c1, c2, 0.7f);
        gpu->adamw(gpu, dp, dg, dm, dv, t, 4, 3e-3f, 0.1f, 0.9f, 0.95f, 1e-8f, c1, c2, 0.7f);
    }
    real *gp = from_dev(gpu, dp, P), *gm = from_dev(gpu, dm, P), *gv = from_dev(gpu, dv, P);
    expect_equal("adamw params (3 steps)", p, gp, P);
    expect_equal("adamw m", m, gm, P);
    expect_equal("adamw v", v, gv, P);
    check_status(gpu, "optimiser");
    free(p); free(g); free(m); free(v); free(gp); free(gm); free(gv);
    gpu->release(gpu, dp); gpu->release(gpu, dg); gpu->release(gpu, dm); gpu->release(gpu, dv);
}

/* ---- the TTT-Linear chains ---- */

/* One array of a chain on both backends: the CPU's is the host array itself. */
typedef struct Pair {
    real *c, *g;
    size_t n;
} Pair;

static Pair pair_rand(size_t n, double lo, double hi) {
    Pair p = {rand_host(n, lo, hi), NULL, n};
    p.g = to_dev(gpu, p.c, n);
    return p;
}

static Pair pair_zero(size_t n) {
    Pair p = {calloc(n ? n : 1, sizeof(real)), gpu->alloc(gpu, n), n};
    return p;
}

static void pair_check(const char *what, const Pair *p, double tol) {
    real *got = from_dev(gpu, p->g, p->n);
    expect_close(what, p->c, got, p->n, tol);
    free(got);
}

static void pair_free(Pair *p) {
    free(p->c);
    if (p->g) gpu->release(gpu, p->g);
    memset(p, 0, sizeof *p);
}

typedef struct LinearCase {
    const char *name;
    int B, T, D, H, mb;
    float base_lr, decay;
    int gate, carry, state_out;
} LinearCase;

static void test_ttt_linear(const LinearCase *k) {
    printf("ttt_linear: %s (B=%d T=%d f=%d mini-batch %d)\n", k->name, k->B, k->T, k->D / k->H, k->mb);
    const int B = k->B, T = k->T, D = k->D, H = k->H, b = k->mb, f = D / H;
    const size_t N = (size_t)B * T, nmb = (size_t)(T + b - 1) / b, ff = (size_t)f * f;
    const size_t S = (size_t)H * (ff + f) + 5; /* per sequence: the layer's W then c, and a gap */
    Pair q = pair_rand(N * D, -1, 1), kk = pair_rand(N * D, -1, 1), v = pair_rand(N * D, -1, 1);
    Pair lr = pair_rand(N * H, 0.05, 0.95), lf = pair_rand(N * H, -2, 3);
    for (size_t i = 0; i < N * H; i++) { /* l = -softplus(u) <= 0 */
        const real u = lf.c[i];
        lf.c[i] = -log1pf(expf(u));
    }
    gpu->upload(gpu, lf.g, lf.c, N * H);
    Pair W0 = pair_rand((size_t)H * ff, -0.3, 0.3), b0 = pair_rand((size_t)H * f, -0.2, 0.2);
    Pair lnw = pair_rand((size_t)H * f, 0.8, 1.2), lnb = pair_rand((size_t)H * f, -0.1, 0.1);
    Pair state = pair_rand((size_t)B * S, -0.3, 0.3);
    int32_t carried[8] = {0, 1, 0, 1, 1, 0, 0, 1};
    int32_t *dcar = to_dev_i32(gpu, carried, (size_t)B);
    Pair g = pair_zero(N * D), xk = pair_zero(N * D), sk = pair_zero(N * H), xz = pair_zero(N * D);
    Pair sz = pair_zero(N * H), out = pair_zero(N * D);
    Pair Wst = pair_zero((size_t)B * nmb * H * ff), cst = pair_zero((size_t)B * nmb * H * f);
    TttLinearChain cc = {0};
    cc.B = B; cc.T = T; cc.D = D; cc.H = H; cc.mini_batch = b;
    cc.base_lr = k->base_lr; cc.state_decay = k->decay;
    cc.state_stride = S;
    cc.state_out = k->state_out;
    TttLinearChain cg = cc;
#define SET(field, P) (cc.field = (P).c, cg.field = (P).g)
    SET(q, q); SET(k, kk); SET(v, v); SET(lr_gate, lr); SET(W0, W0); SET(b0, b0); SET(ln_w, lnw); SET(ln_b, lnb);
    if (k->gate) SET(log_forget, lf);
    if (k->carry || k->state_out) {
        SET(state, state);
        if (k->carry) {
            cc.carried = carried;
            cg.carried = dcar;
        }
    }
    SET(g, g); SET(xk, xk); SET(sk, sk); SET(xz, xz); SET(sz, sz); SET(Wst, Wst); SET(cst, cst); SET(out, out);
    cpu->ttt_linear_fwd(cpu, &cc);
    gpu->ttt_linear_fwd(gpu, &cg);
    check_status(gpu, "ttt_linear_fwd");
    pair_check("fwd g", &g, 2e-5);
    pair_check("fwd xk", &xk, 2e-5);
    pair_check("fwd sk", &sk, 2e-5);
    pair_check("fwd xz", &xz, 2e-5);
    pair_check("fwd sz", &sz, 2e-5);
    pair_check("fwd out", &out, 2e-5);
    pair_check("fwd Wst (mini-batch start states)", &Wst, 2e-5);
    pair_check("fwd cst", &cst, 2e-5);
    if (k->state_out) pair_check("fwd end states", &state, 2e-5);
    /* backward */
    Pair dout = pair_rand(N * D, -1, 1);
    Pair dq = pair_rand(N * D, -9, 9), dk = pair_rand(N * D, -9, 9), dv = pair_rand(N * D, -9, 9); /* overwritten */
    Pair dlr = pair_rand(N * H, -9, 9), dlf = pair_zero(N * H);
    Pair dW0 = pair_rand((size_t)H * ff, -1, 1), db0 = pair_rand((size_t)H * f, -1, 1); /* accumulated */
    Pair dlnw = pair_rand((size_t)H * f, -1, 1), dlnb = pair_rand((size_t)H * f, -1, 1);
    SET(d_out, dout); SET(dq, dq); SET(dk, dk); SET(dv, dv); SET(d_lr_gate, dlr);
    if (k->gate) SET(d_log_forget, dlf);
    SET(dW0, dW0); SET(db0, db0); SET(dln_w, dlnw); SET(dln_b, dlnb);
#undef SET
    cpu->ttt_linear_bwd(cpu, &cc);
    gpu->ttt_linear_bwd(gpu, &cg);
    check_status(gpu, "ttt_linear_bwd");
    pair_check("bwd dq", &dq, 1e-4);
    pair_check("bwd dk", &dk, 1e-4);
    pair_check("bwd dv", &dv, 1e-4);
    pair_check("bwd d_lr_gate", &dlr, 1e-4);
    if (k->gate) pair_check("bwd d_log_forget", &dlf, 1e-4);
    pair_check("bwd dW0 (accumulated)", &dW0, 1e-4);
    pair_check("bwd db0", &db0, 1e-4);
    pair_check("bwd dln_w", &dlnw, 1e-4);
    pair_check("bwd dln_b", &dlnb, 1e-4);
    Pair *all[] = {&q, &kk, &v, &lr, &lf, &W0, &b0, &lnw, &lnb, &state, &g, &xk, &sk, &xz, &sz, &out, &Wst, &cst,
                   &dout, &dq, &dk, &dv, &dlr, &dlf, &dW0, &db0, &dlnw, &dlnb};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) pair_free(all[i]);
    gpu->release(gpu, dcar);
}

/* A head too big for the backward's shared memory (f = 128, mini-batch 16:
 * 404 KB a block, more than any GPU allows) is a clear error from status. */
static void test_ttt_linear_too_big(void) {
    printf("ttt_linear: f = 128, mini-batch 16 (too big for shared memory)\n");
    const int B = 1, T = 16, D = 256, H = 2, b = 16, f = D / H;
    const size_t N = (size_t)B * T;
    real *buf = gpu->alloc(gpu, 20 * N * D + 8 * (size_t)H * f * f);
    CHECK(buf != NULL);
    if (!buf) return;
    TttLinearChain c = {0};
    c.B = B; c.T = T; c.D = D; c.H = H; c.mini_batch = b;
    c.base_lr = 1; c.state_decay = 1;
    real *p = buf;
    c.q = p; p += N * D; c.k = p; p += N * D; c.v = p; p += N * D; c.lr_gate = p; p += N * D;
    c.W0 = p; p += (size_t)H * f * f; c.b0 = p; p += N * D; c.ln_w = p; p += N * D; c.ln_b = p; p += N * D;
    c.g = p; p += N * D; c.xk = p; p += N * D; c.sk = p; p += N * D; c.xz = p; p += N * D; c.sz = p; p += N * D;
    c.Wst = p; p += (size_t)H * f * f; c.cst = p; p += N * D; c.out = p; p += N * D;
    c.d_out = p; p += N * D; c.dq = p; p += N * D; c.dk = p; p += N * D; c.dv = p; p += N * D;
    c.d_lr_gate = p; p += N * D; c.dW0 = p; p += (size_t)H * f * f; c.db0 = p; p += N * D; c.dln_w = p; p += N * D;
    c.dln_b = p;
    gpu->ttt_linear_fwd(gpu, &c); /* 165 KB: fits an H100/H200 (227 KB), not an A100 (163 KB) */
    BittError err;
    int rc = gpu->status(gpu, &err);
    printf("  forward: %s\n", rc ? err.message : "ran");
    gpu->ttt_linear_bwd(gpu, &c);
    rc = gpu->status(gpu, &err);
    CHECK_MSG(rc != 0, "a 404 KB backward block did not fail");
    if (rc) {
        CHECK_ERR_CONTAINS(&err, "TTT-Linear backward (head size f = 128, mini-batch 16) needs");
        CHECK_ERR_CONTAINS(&err, "bytes of shared memory per block; this GPU allows");
        printf("  backward: %s\n", err.message);
    }
    check_status(gpu, "after the shared-memory error"); /* the error was reported once, then cleared */
    gpu->release(gpu, buf);
}

/* ---- the seed chains ---- */

static void test_ttt_seed(int d, int carry) {
    printf("ttt_seed: d=%d %s\n", d, carry ? "carried + fresh, end states out" : "fresh");
    const int B = 3, T = 13;
    const size_t N = (size_t)B * T, dd = (size_t)d * d, S = dd + 3;
    Pair u = pair_rand(N * d, -1, 1), state = pair_rand((size_t)B * S, -0.3, 0.3);
    Pair un = pair_zero(N), Sb = pair_zero(N * dd), p = pair_zero(N * d);
    int32_t carried[3] = {1, 0, 1};
    int32_t *dcar = to_dev_i32(gpu, carried, 3);
    TttSeedChain cc = {0};
    cc.B = B; cc.T = T; cc.d = d; cc.inner_lr = 0.7f;
    cc.state_stride = S;
    TttSeedChain cg = cc;
    cc.u = u.c; cg.u = u.g;
    if (carry) {
        cc.carried = carried; cg.carried = dcar;
        cc.state = state.c; cg.state = state.g;
        cc.state_out = cg.state_out = 1;
    }
    cc.u_norm = un.c; cg.u_norm = un.g;
    cc.S_before = Sb.c; cg.S_before = Sb.g;
    cc.p = p.c; cg.p = p.g;
    cpu->ttt_seed_fwd(cpu, &cc);
    gpu->ttt_seed_fwd(gpu, &cg);
    check_status(gpu, "ttt_seed_fwd");
    pair_check("fwd |u|", &un, 1e-6);
    pair_check("fwd S before each token", &Sb, 2e-5);
    pair_check("fwd p", &p, 2e-5);
    if (carry) pair_check("fwd end states", &state, 2e-5);
    Pair dp = pair_rand(N * d, -1, 1), du = pair_rand(N * d, -9, 9);
    cc.d_p = dp.c; cg.d_p = dp.g;
    cc.d_u = du.c; cg.d_u = du.g;
    cpu->ttt_seed_bwd(cpu, &cc);
    gpu->ttt_seed_bwd(gpu, &cg);
    check_status(gpu, "ttt_seed_bwd");
    pair_check("bwd d_u", &du, 1e-4);
    Pair *all[] = {&u, &state, &un, &Sb, &p, &dp, &du};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) pair_free(all[i]);
    gpu->release(gpu, dcar);
}

int main(int argc, char **argv) {
    BittError err;
    gpu = open_cuda_backend(argc, argv, "math=f32");
    cpu = train_backend_cpu(&err);
    CHECK(cpu != NULL);
    if (!cpu) return 1;
    test_buffers();
    test_gemm(gpu, 1e-6, "math=f32");
    TrainBackend *tf32 = cuda_test_emu ? bitt_train_backend_cuda_emu("math=tf32", &err)
                                       : train_backend_open("cuda", "math=tf32", NULL, 0, &err);
    CHECK_MSG(tf32 != NULL, "math=tf32: %s", err.message);
    if (tf32) {
        test_gemm(tf32, 2e-3, "math=tf32: 10-bit mantissas"); /* TF32 rounds the inputs: ~2^-11 relative */
        tf32->destroy(tf32);
    }
    BittError bad;
    TrainBackend *nope = cuda_test_emu ? bitt_train_backend_cuda_emu("math=fp16", &bad)
                                       : train_backend_open("cuda", "math=fp16", NULL, 0, &bad);
    CHECK(nope == NULL);
    if (!nope) CHECK_ERR_CONTAINS(&bad, "unknown option 'math=fp16'");
    test_quantisers();
    test_rmsnorm();
    test_swiglu();
    test_gates();
    test_embed_xent();
    test_optimiser();
    const LinearCase cases[] = {
        {"plain (SPEC 1.2), partial last mini-batch", 3, 37, 48, 3, 8, 1.0f, 1.0f, 0, 0, 0},
        {"forget gate (SPEC 1.2.1)", 3, 37, 48, 3, 8, 2.0f, 1.0f, 1, 0, 0},
        {"state_decay 0.85", 3, 37, 48, 3, 8, 1.0f, 0.85f, 0, 0, 0},
        {"carried + fresh, end states out", 4, 32, 48, 3, 8, 1.0f, 1.0f, 0, 1, 1},
        {"carried + fresh with the gate", 4, 32, 48, 3, 8, 1.0f, 1.0f, 1, 1, 1},
        {"carried + fresh with state_decay", 4, 32, 48, 3, 8, 1.0f, 0.9f, 0, 1, 1},
        {"fresh, end states out", 2, 24, 48, 3, 8, 1.0f, 1.0f, 1, 0, 1},
        {"head size 64, mini-batch 16, gate", 2, 40, 128, 2, 16, 1.0f, 1.0f, 1, 0, 0},
        {"head size 64, mini-batch 16, carried", 3, 32, 128, 2, 16, 1.0f, 1.0f, 0, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) test_ttt_linear(&cases[i]);
    test_ttt_linear_too_big();
    test_ttt_seed(20, 0);
    test_ttt_seed(20, 1);
    test_ttt_seed(64, 1);
    gpu->destroy(gpu);
    cpu->destroy(cpu);
    printf("worst relative error within tolerance: %.2e\n", worst_err_seen);
    return test_main_end(cuda_test_emu ? "test_cuda_ops (emulator)" : "test_cuda_ops");
}
