/* cuda_ttt_linear.cu: the TTT-Linear chains (SPEC 1.2, 1.2.1, state_decay)
 * of the CUDA backend, forward and backward side by side, mirroring
 * src/train/cpu/cpu_ttt_linear.c (read that file's comments first: the
 * same names are used here). One thread block per (sequence s, head h)
 * chain walks its mini-batches in order (forward) or in reverse
 * (backward), with the state (W, c), the resting point (W0, b0), the inner
 * LayerNorm and the mini-batch's q, k, g rows in shared memory. Matrices
 * in shared memory have rows of F = f + 1 floats (the padding puts the
 * rows of a column in different banks).
 *
 * Work inside a block, per mini-batch of n <= b tokens:
 *   - products (k W + c, q W + c, dW g^T, ...): one thread per output
 *     element, its sum over the f (or n) terms in the CPU's order;
 *   - per-token reductions (LayerNorm means, dot products reduced over f):
 *     one warp per token, a shuffle butterfly (cuda_reduce.cuh);
 *   - sums over the tokens of a mini-batch (dW += k^T g, dlnw, ...): one
 *     thread per element looping over the tokens in the CPU's order, from
 *     per-token terms kept in shared memory;
 *   - the forget gate's exponent sums (gate_decays: summed directly from
 *     the later end, never as a difference of running sums) and the log-gate
 *     gradient dL: by one thread, in the CPU's order.
 * So every value is computed in one fixed order: runs are reproducible,
 * and differ from the CPU only in the order of the per-token reductions.
 *
 * The backward writes its rows of dq, dk, dv, d_lr_gate, d_log_forget
 * (each block owns its (sequence, head) slices) and its contributions to
 * dW0, db0, dln_w, dln_b into per-(sequence, head) partial buffers; a
 * second kernel adds them to the gradients summing the sequences in order. */
#include "cuda_internal.h"
#include "cuda_reduce.cuh"

#define TTT_THREADS 256

/* ---- shared-memory layouts (floats) ---- */

static size_t fwd_smem_floats(int f, int b) {
    const size_t F = (size_t)f + 1;
    return 2 * f * F + 4 * (size_t)f + 4 * (size_t)b * F + (size_t)b * b + 4 * (size_t)b;
}

static size_t bwd_smem_floats(int f, int b) {
    const size_t F = (size_t)f + 1;
    return 5 * f * F + 9 * (size_t)f + 8 * (size_t)b * F + 3 * (size_t)b * b + 8 * (size_t)b;
}

/* mean and sigma = sqrt(var + 1e-6) of z[0..f) by one warp (every lane gets them) */
static __device__ __forceinline__ void warp_moments(const float *z, int f, int lane, float *mean, float *sigma) {
    float s = 0.0f;
    for (int j = lane; j < f; j += 32) s += z[j];
    const float m = warp_sum(s) / (float)f;
    float v = 0.0f;
    for (int j = lane; j < f; j += 32) v += (z[j] - m) * (z[j] - m);
    const float var = warp_sum(v) / (float)f;
    *mean = m;
    *sigma = sqrtf(var + 1e-6f);
}

/* exp(l_{i+1} + ... + l_j) of the mini-batch's log-gates lf, summed from j down (gate_decays) */
static __device__ __forceinline__ float gate_decay(const float *lf, int j, int i) {
    float acc = 0.0f;
    for (int m = j; m > i; m--) acc += lf[m];
    return expf(acc);
}

/* The chain's start state and where its end state goes (head_of). */
struct ChainHead {
    int s, h, f, nmb, carried;
    size_t r0, off;
    const float *Wstart, *cstart;   /* (W0, b0) or the carried state */
    float *Wout, *cout;             /* the end state, or NULL */
};

static __device__ ChainHead chain_head(const TttLinearChain &C, int s, int h) {
    ChainHead x;
    x.s = s;
    x.h = h;
    x.f = C.D / C.H;
    x.nmb = (C.T + C.mini_batch - 1) / C.mini_batch;
    x.r0 = (size_t)s * C.T;
    x.off = (size_t)h * x.f;
    const size_t ff = (size_t)x.f * x.f;
    float *st = C.state ? C.state + (size_t)s * C.state_stride : NULL;
    x.carried = st && C.carried && C.carried[s];
    x.Wstart = x.carried ? st + h * ff : C.W0 + h * ff;
    x.cstart = x.carried ? st + (size_t)C.H * ff + x.off : C.b0 + x.off;
    x.Wout = st && C.state_out ? st + h * ff : NULL;
    x.cout = st && C.state_out ? st + (size_t)C.H * ff + x.off : NULL;
    return x;
}

/* ---- forward of one chain per block (head_fwd) ---- */

static __global__ void __launch_bounds__(TTT_THREADS) ttt_linear_fwd_kernel(TttLinearChain C) {
    const ChainHead x = chain_head(C, blockIdx.x / C.H, blockIdx.x % C.H);
    const int f = x.f, F = f + 1, b = C.mini_batch, D = C.D, H = C.H, h = x.h, T = C.T;
    const size_t ff = (size_t)f * f, off = x.off;
    const int tid = threadIdx.x, nt = blockDim.x, lane = tid & 31, warp = tid >> 5, nw = nt >> 5;
    const int gated = C.log_forget != NULL;
    float *W = dyn_smem(), *W0 = W + f * F, *c = W0 + f * F, *b0 = c + f, *lnw = b0 + f, *lnb = lnw + f;
    float *Qt = lnb + f, *Kt = Qt + b * F, *Gt = Kt + b * F, *Zt = Gt + b * F;
    float *A = Zt + b * F, *lf = A + b * b, *L = lf + b, *lr = L + b, *ai = lr + b;
    const float *W0p = C.W0 + h * ff, *b0p = C.b0 + off;
    for (int e = tid; e < (int)ff; e += nt) {
        W[e / f * F + e % f] = x.Wstart[e];
        W0[e / f * F + e % f] = W0p[e];
    }
    for (int j = tid; j < f; j += nt) {
        c[j] = x.cstart[j];
        b0[j] = b0p[j];
        lnw[j] = C.ln_w[off + j];
        lnb[j] = C.ln_b[off + j];
    }
    __syncthreads();
    for (int mb = 0, s0 = 0; s0 < T; mb++, s0 += b) {
        const int n = T - s0 < b ? T - s0 : b;
        const size_t st = ((size_t)x.s * x.nmb + mb) * H + h, rb = x.r0 + (size_t)s0;
        for (int e = tid; e < (int)ff; e += nt) C.Wst[st * ff + e] = W[e / f * F + e % f];
        for (int j = tid; j < f; j += nt) C.cst[st * f + j] = c[j];
        for (int e = tid; e < n * f; e += nt) {
            const int i = e / f, j = e % f;
            Qt[i * F + j] = C.q[(rb + i) * D + off + j];
            Kt[i * F + j] = C.k[(rb + i) * D + off + j];
        }
        for (int i = tid; i < n; i += nt) {
            lr[i] = C.lr_gate[(rb + i) * H + h];
            if (gated) lf[i] = C.log_forget[(rb + i) * H + h];
        }
        __syncthreads();
        if (gated && tid == 0) { /* gate_cumsum */
            float acc = 0.0f;
            for (int j = 0; j < n; j++) {
                acc += lf[j];
                L[j] = acc;
            }
        }
        /* inner gradients g_i, all at the state of the mini-batch start: z = k W + c */
        for (int e = tid; e < n * f; e += nt) {
            const int i = e / f, j = e % f;
            float z = c[j];
            for (int m = 0; m < f; m++) z += Kt[i * F + m] * W[m * F + j];
            Zt[i * F + j] = z;
        }
        __syncthreads();
        for (int i = warp; i < n; i += nw) { /* one warp per token: LN(z), e, g */
            const size_t t = rb + i;
            float *z = Zt + i * F;
            float mean, sigma;
            warp_moments(z, f, lane, &mean, &sigma);
            for (int j = lane; j < f; j += 32) {
                z[j] = (z[j] - mean) / sigma; /* xk */
                C.xk[t * D + off + j] = z[j];
            }
            if (lane == 0) C.sk[t * H + h] = sigma;
            float s1 = 0.0f, s2 = 0.0f;
            for (int j = lane; j < f; j += 32) {
                const float e = lnw[j] * (lnw[j] * z[j] + lnb[j] - (C.v[t * D + off + j] - Kt[i * F + j]));
                s1 += e;
                s2 += e * z[j];
            }
            const float m1 = warp_sum(s1) / (float)f, m2 = warp_sum(s2) / (float)f;
            for (int j = lane; j < f; j += 32) {
                const float e = lnw[j] * (lnw[j] * z[j] + lnb[j] - (C.v[t * D + off + j] - Kt[i * F + j]));
                const float g = (e - m1 - z[j] * m2) / sigma;
                Gt[i * F + j] = g;
                C.g[t * D + off + j] = g;
            }
        }
        /* the mixing coefficients a_{j,i} = lr_i coef_j (q_j.k_i + 1) [dec_j[i]], i <= j */
        for (int e = tid; e < n * n; e += nt) {
            const int j = e / n, i = e % n;
            if (i > j) continue;
            float d = 0.0f;
            for (int m = 0; m < f; m++) d += Qt[j * F + m] * Kt[i * F + m];
            const float coef = C.base_lr / (float)(f * (j + 1));
            float a = lr[i] * coef * (d + 1);
            if (gated) a *= gate_decay(lf, j, i);
            A[j * b + i] = a;
        }
        __syncthreads();
        /* outputs: Z_j = q_j Ws + cs [gated: E_j (...) + (1 - E_j) (q_j W0 + b0)] - sum_{i<=j} a_{j,i} g_i */
        for (int e = tid; e < n * f; e += nt) {
            const int j = e / f, m = e % f;
            float z = c[m];
            for (int mm = 0; mm < f; mm++) z += Qt[j * F + mm] * W[mm * F + m];
            if (gated) {
                const float E = expf(L[j]), om = -expm1f(L[j]);
                float z0 = b0[m];
                for (int mm = 0; mm < f; mm++) z0 += Qt[j * F + mm] * W0[mm * F + m];
                z = E * z + om * z0;
            }
            for (int i = 0; i <= j; i++) z -= A[j * b + i] * Gt[i * F + m];
            Zt[j * F + m] = z;
        }
        __syncthreads();
        for (int j = warp; j < n; j += nw) { /* one warp per token: LN(Z), out = q + LN(Z) */
            const size_t t = rb + j;
            float *z = Zt + j * F;
            float mean, sigma;
            warp_moments(z, f, lane, &mean, &sigma);
            for (int m = lane; m < f; m += 32) {
                const float xz = (z[m] - mean) / sigma;
                C.xz[t * D + off + m] = xz;
                C.out[t * D + off + m] = Qt[j * F + m] + lnw[m] * xz + lnb[m];
            }
            if (lane == 0) C.sz[t * H + h] = sigma;
        }
        if (s0 + n < T || x.Wout) { /* the state for the next mini-batch (or the caller) */
            const float coefb = C.base_lr / (float)(f * n);
            for (int i = tid; i < n; i += nt) {
                float a = -coefb * lr[i];
                if (gated) a *= gate_decay(lf, n - 1, i);
                ai[i] = a;
            }
            __syncthreads();
            const float E = gated ? expf(L[n - 1]) : 1.0f, d = C.state_decay;
            for (int e = tid; e < (int)ff; e += nt) {
                const int m = e / f, j = e % f;
                float w = W[m * F + j];
                if (gated) w = W0[m * F + j] + E * (w - W0[m * F + j]); /* W <- W0 + E_n (W - W0) */
                for (int i = 0; i < n; i++) w += ai[i] * Kt[i * F + m] * Gt[i * F + j];
                if (d != 1.0f) w = W0[m * F + j] + d * (w - W0[m * F + j]);
                W[m * F + j] = w;
            }
            for (int j = tid; j < f; j += nt) {
                float cc = c[j];
                if (gated) cc = b0[j] + E * (cc - b0[j]);
                for (int i = 0; i < n; i++) cc += ai[i] * Gt[i * F + j];
                if (d != 1.0f) cc = b0[j] + d * (cc - b0[j]);
                c[j] = cc;
            }
        }
        __syncthreads(); /* the tiles and the state are read by the next mini-batch */
    }
    if (x.Wout) { /* T is a multiple of b here (train_forward checks) */
        for (int e = tid; e < (int)ff; e += nt) x.Wout[e] = W[e / f * F + e % f];
        for (int j = tid; j < f; j += nt) x.cout[j] = c[j];
    }
}

static int chain_fits(CudaBackend *cb, const TttLinearChain *c, const void *kernel, size_t floats, const char *what) {
    char msg[200];
    snprintf(msg, sizeof msg, "TTT-Linear %s (head size f = %d, mini-batch %d)", what, c->D / c->H, c->mini_batch);
    return cuda_smem_allow(cb, kernel, floats * sizeof(float), msg);
}

void cuda_ttt_linear_fwd(TrainBackend *be, const TttLinearChain *c) {
    CudaBackend *cb = cuda_of(be);
    if (c->B <= 0 || c->T <= 0) return;
    ProfScope ps(cb, "ttt_linear_fwd");
    const size_t floats = fwd_smem_floats(c->D / c->H, c->mini_batch);
    if (!chain_fits(cb, c, (const void *)ttt_linear_fwd_kernel, floats, "forward")) return;
    LAUNCH(ttt_linear_fwd_kernel, (unsigned)(c->B * c->H), TTT_THREADS, floats * sizeof(float), *c);
    cuda_launched(cb, "ttt_linear_fwd");
}

/* ---- backward of one chain per block (head_bwd) ---- */

/* Partial gradients of one (sequence, head): dW0 (f x f), db0, dln_w, dln_b (f each). */
static __device__ __forceinline__ float *chain_partial(float *partials, int f, int chain) {
    return partials + (size_t)chain * ((size_t)f * f + 3 * (size_t)f);
}

static __global__ void __launch_bounds__(TTT_THREADS) ttt_linear_bwd_kernel(TttLinearChain C, float *partials) {
    const ChainHead x = chain_head(C, blockIdx.x / C.H, blockIdx.x % C.H);
    const int f = x.f, F = f + 1, b = C.mini_batch, D = C.D, H = C.H, h = x.h, T = C.T;
    const size_t ff = (size_t)f * f, off = x.off;
    const int tid = threadIdx.x, nt = blockDim.x, lane = tid & 31, warp = tid >> 5, nw = nt >> 5;
    const int gated = C.log_forget != NULL;
    const float d = C.state_decay;
    /* matrices f x F */
    float *dW = dyn_smem(), *dWs = dW + f * F, *Ws = dWs + f * F, *W0 = Ws + f * F, *dW0a = W0 + f * F;
    /* vectors f */
    float *dc = dW0a + f * F, *dcs = dc + f, *cs = dcs + f, *b0 = cs + f, *db0a = b0 + f;
    float *dlnw = db0a + f, *dlnb = dlnw + f, *lnw = dlnb + f, *lnb = lnw + f;
    /* tiles b x F: q, k, g of the mini-batch, dG, dZ, and three scratch tiles */
    float *Qt = lnb + f, *Kt = Qt + b * F, *Gt = Kt + b * F, *dGt = Gt + b * F, *DZt = dGt + b * F;
    float *T1 = DZt + b * F, *T2 = T1 + b * F, *T3 = T2 + b * F;
    /* b x b: q_j.k_i + 1, da_{j,i} = -dZ_j.g_i, M_{j,i} (the gate's decay; 1 without) */
    float *QK1 = T3 + b * F, *DA = QK1 + b * b, *MJ = DA + b * b;
    /* b */
    float *lf = MJ + b * b, *L = lf + b, *dL = L + b, *lr = dL + b, *dec = lr + b, *dE = dec + b, *dm5 = dE + b;
    float *misc = dm5 + b; /* [0]: dE of the end-of-mini-batch decay */
    const float *W0p = C.W0 + h * ff, *b0p = C.b0 + off;
    for (int e = tid; e < (int)ff; e += nt) {
        const int m = e / f, j = e % f;
        dW[m * F + j] = 0.0f;
        W0[m * F + j] = W0p[e];
        dW0a[m * F + j] = 0.0f;
    }
    for (int j = tid; j < f; j += nt) {
        dc[j] = 0.0f;
        b0[j] = b0p[j];
        db0a[j] = dlnw[j] = dlnb[j] = 0.0f;
        lnw[j] = C.ln_w[off + j];
        lnb[j] = C.ln_b[off + j];
    }
    for (int mb = (T - 1) / b; mb >= 0; mb--) {
        const int s0 = mb * b, n = T - s0 < b ? T - s0 : b, last = s0 + n >= T;
        const size_t st = ((size_t)x.s * x.nmb + mb) * H + h, rb = x.r0 + (size_t)s0;
        for (int e = tid; e < (int)ff; e += nt) Ws[e / f * F + e % f] = C.Wst[st * ff + e];
        for (int j = tid; j < f; j += nt) cs[j] = C.cst[st * f + j];
        for (int e = tid; e < n * f; e += nt) {
            const int i = e / f, j = e % f;
            const size_t t = rb + i;
            Qt[i * F + j] = C.q[t * D + off + j];
            Kt[i * F + j] = C.k[t * D + off + j];
            Gt[i * F + j] = C.g[t * D + off + j];
            dGt[i * F + j] = 0.0f;
        }
        for (int i = tid; i < n; i += nt) {
            lr[i] = C.lr_gate[(rb + i) * H + h];
            if (gated) lf[i] = C.log_forget[(rb + i) * H + h];
            dL[i] = 0.0f;
        }
        __syncthreads();
        if (gated && tid == 0) {
            float acc = 0.0f;
            for (int j = 0; j < n; j++) {
                acc += lf[j];
                L[j] = acc;
            }
        }
        if (!last && d != 1.0f) { /* W' = W0 + d (W - W0): dW0 += (1 - d) dW', dW = d dW' */
            for (int e = tid; e < (int)ff; e += nt) {
                const int i = e / f * F + e % f;
                dW0a[i] += (1 - d) * dW[i];
                dW[i] *= d;
            }
            for (int m = tid; m < f; m += nt) {
                db0a[m] += (1 - d) * dc[m];
                dc[m] *= d;
            }
        }
        __syncthreads();
        if (gated && !last) { /* W' = W0 + E_n (Ws - W0) - ...: dWs = E_n dW', dW0 += (1 - E_n) dW' */
            const float E = expf(L[n - 1]), om = -expm1f(L[n - 1]);
            float part = 0.0f;
            for (int e = tid; e < (int)ff; e += nt) {
                const int i = e / f * F + e % f;
                part += dW[i] * (Ws[i] - W0[i]);
            }
            for (int m = tid; m < f; m += nt) part += dc[m] * (cs[m] - b0[m]);
            const float dEn = block_sum(part);
            for (int e = tid; e < (int)ff; e += nt) {
                const int i = e / f * F + e % f;
                dWs[i] = E * dW[i];
                dW0a[i] += om * dW[i];
            }
            for (int m = tid; m < f; m += nt) {
                dcs[m] = E * dc[m];
                db0a[m] += om * dc[m];
            }
            if (tid == 0) misc[0] = dEn * E;
        } else {
            for (int e = tid; e < (int)ff; e += nt) dWs[e / f * F + e % f] = dW[e / f * F + e % f];
            for (int m = tid; m < f; m += nt) dcs[m] = dc[m];
        }
        if (!last) { /* W' = (...) - coefb sum_i lr_i M_ni k_i^T g_i, c' = (...) - coefb sum_i lr_i M_ni g_i */
            const float coefb = C.base_lr / (float)(f * n);
            for (int i = tid; i < n; i += nt) dec[i] = gated ? gate_decay(lf, n - 1, i) : 1.0f;
            __syncthreads();
            for (int e = tid; e < n * f; e += nt) {
                const int i = e / f, j = e % f;
                float v1 = 0.0f, kdw = 0.0f; /* (dW g_i^T)[j], (k_i dW)[j] */
                for (int jj = 0; jj < f; jj++) v1 += dW[j * F + jj] * Gt[i * F + jj];
                for (int m = 0; m < f; m++) kdw += Kt[i * F + m] * dW[m * F + j];
                float a = coefb * lr[i];
                if (gated) a *= dec[i];
                dGt[i * F + j] -= a * (kdw + dc[j]);
                T1[i * F + j] = v1;
                C.dk[(rb + i) * D + off + j] -= a * v1;
            }
            __syncthreads();
            for (int i = warp; i < n; i += nw) {
                float s1 = 0.0f, s2 = 0.0f;
                for (int j = lane; j < f; j += 32) {
                    s1 += Kt[i * F + j] * T1[i * F + j];
                    s2 += dc[j] * Gt[i * F + j];
                }
                const float inner = warp_sum(s1) + warp_sum(s2);
                if (lane == 0) {
                    const size_t gi = (rb + i) * H + h;
                    if (!gated) {
                        C.d_lr_gate[gi] -= coefb * inner;
                    } else {
                        const float M = dec[i];
                        C.d_lr_gate[gi] -= coefb * M * inner;
                        dm5[i] = -coefb * lr[i] * inner * M; /* d/d(L_n - L_i) */
                    }
                }
            }
        }
        __syncthreads();
        if (gated && tid == 0) { /* dL, in the CPU's order */
            if (!last) {
                dL[n - 1] += misc[0];
                for (int i = 0; i < n; i++) {
                    dL[n - 1] += dm5[i];
                    dL[i] -= dm5[i];
                }
            }
        }
        /* the outputs: out_j = q_j + lnw LN(Z_j) + lnb; dZ_j by one warp per token */
        for (int j = warp; j < n; j += nw) {
            const size_t t = rb + j;
            const float *dout = C.d_out + t * D + off, *xz = C.xz + t * D + off;
            const float sz = C.sz[t * H + h];
            float s1 = 0.0f, s2 = 0.0f;
            for (int m = lane; m < f; m += 32) {
                const float v1 = dout[m] * lnw[m];
                s1 += v1;
                s2 += v1 * xz[m];
            }
            const float m1 = warp_sum(s1) / (float)f, m2 = warp_sum(s2) / (float)f;
            for (int m = lane; m < f; m += 32) {
                const float v1 = dout[m] * lnw[m];
                DZt[j * F + m] = (v1 - m1 - xz[m] * m2) / sz;
            }
        }
        __syncthreads();
        if (gated) { /* dE_j = dZ_j . ((q_j Ws + cs) - (q_j W0 + b0)) */
            for (int e = tid; e < n * f; e += nt) {
                const int j = e / f, m = e % f;
                float zs = cs[m], z0 = b0[m];
                for (int mm = 0; mm < f; mm++) zs += Qt[j * F + mm] * Ws[mm * F + m];
                for (int mm = 0; mm < f; mm++) z0 += Qt[j * F + mm] * W0[mm * F + m];
                T1[j * F + m] = DZt[j * F + m] * (zs - z0);
            }
            __syncthreads();
            for (int j = warp; j < n; j += nw) {
                float s = 0.0f;
                for (int m = lane; m < f; m += 32) s += T1[j * F + m];
                s = warp_sum(s);
                if (lane == 0) dE[j] = s;
            }
        }
        /* per pair i <= j: q_j.k_i + 1, da = -dZ_j.g_i, M_{j,i} */
        for (int e = tid; e < n * n; e += nt) {
            const int j = e / n, i = e % n;
            if (i > j) continue;
            float qk = 0.0f, dz = 0.0f;
            for (int m = 0; m < f; m++) qk += Qt[j * F + m] * Kt[i * F + m];
            for (int m = 0; m < f; m++) dz += DZt[j * F + m] * Gt[i * F + m];
            QK1[j * b + i] = qk + 1;
            DA[j * b + i] = -dz;
            MJ[j * b + i] = gated ? gate_decay(lf, j, i) : 1.0f;
        }
        __syncthreads();
        /* a_{j,i} = lr_i coef_j qk1 [M], s_{j,i} = da lr_i coef_j [M], as head_bwd forms them */
#define PAIR_COEF(j) (C.base_lr / (float)(f * ((j) + 1)))
#define PAIR_A(j, i) (gated ? lr[i] * PAIR_COEF(j) * QK1[(j) * b + (i)] * MJ[(j) * b + (i)] \
                            : lr[i] * PAIR_COEF(j) * QK1[(j) * b + (i)])
#define PAIR_S(j, i) (gated ? DA[(j) * b + (i)] * lr[i] * PAIR_COEF(j) * MJ[(j) * b + (i)] \
                            : DA[(j) * b + (i)] * lr[i] * PAIR_COEF(j))
        for (int e = tid; e < n * f; e += nt) { /* dq_j, written whole */
            const int j = e / f, m = e % f;
            const size_t t = rb + j;
            float q = C.dq[t * D + off + m] + C.d_out[t * D + off + m];
            if (!gated) {
                float s = 0.0f;
                for (int jj = 0; jj < f; jj++) s += Ws[m * F + jj] * DZt[j * F + jj];
                q += s;
            } else {
                const float E = expf(L[j]), om = -expm1f(L[j]);
                float s = 0.0f, s0w = 0.0f;
                for (int jj = 0; jj < f; jj++) s += Ws[m * F + jj] * (E * DZt[j * F + jj]);
                q += s;
                for (int jj = 0; jj < f; jj++) s0w += W0[m * F + jj] * (om * DZt[j * F + jj]);
                q += s0w;
            }
            for (int i = 0; i <= j; i++) q += PAIR_S(j, i) * Kt[i * F + m];
            C.dq[t * D + off + m] = q;
        }
        for (int e = tid; e < n * f; e += nt) { /* dk_i and dG_i: the terms of the tokens j >= i, in order */
            const int i = e / f, m = e % f;
            const size_t t = rb + i;
            float k = C.dk[t * D + off + m], g = dGt[i * F + m];
            for (int j = i; j < n; j++) {
                g -= PAIR_A(j, i) * DZt[j * F + m];
                k += PAIR_S(j, i) * Qt[j * F + m];
            }
            dGt[i * F + m] = g;
            C.dk[t * D + off + m] = k;
        }
        for (int e = tid; e < (int)ff; e += nt) { /* dWs += q_j^T (E_j dZ_j); dW0 += q_j^T ((1 - E_j) dZ_j) */
            const int m = e / f, jj = e % f;
            float w = dWs[m * F + jj], w0 = dW0a[m * F + jj];
            for (int j = 0; j < n; j++) {
                if (!gated) {
                    w += Qt[j * F + m] * DZt[j * F + jj];
                } else {
                    w += Qt[j * F + m] * (expf(L[j]) * DZt[j * F + jj]);
                    w0 += Qt[j * F + m] * (-expm1f(L[j]) * DZt[j * F + jj]);
                }
            }
            dWs[m * F + jj] = w;
            dW0a[m * F + jj] = w0;
        }
        for (int m = tid; m < f; m += nt) { /* dcs, db0, and the output LN's dlnw, dlnb */
            float a = dcs[m], a0 = db0a[m], w = dlnw[m], bb = dlnb[m];
            for (int j = 0; j < n; j++) {
                const size_t t = rb + j;
                const float dz = DZt[j * F + m], dout = C.d_out[t * D + off + m];
                w += dout * C.xz[t * D + off + m];
                bb += dout;
                if (!gated) {
                    a += dz;
                } else {
                    a += expf(L[j]) * dz;
                    a0 += -expm1f(L[j]) * dz;
                }
            }
            dcs[m] = a;
            db0a[m] = a0;
            dlnw[m] = w;
            dlnb[m] = bb;
        }
        for (int i = tid; i < n; i += nt) { /* d lr_i: the terms of the tokens j >= i, in order */
            const size_t gi = (rb + i) * H + h;
            float g = C.d_lr_gate[gi];
            for (int j = i; j < n; j++) {
                const float term = DA[j * b + i] * PAIR_COEF(j) * QK1[j * b + i];
                g += gated ? term * MJ[j * b + i] : term;
            }
            C.d_lr_gate[gi] = g;
        }
        if (gated && tid == 0) { /* dL, in the CPU's order: per token j, then its pairs */
            for (int j = 0; j < n; j++) {
                dL[j] += dE[j] * expf(L[j]);
                for (int i = 0; i <= j; i++) {
                    const float dM = DA[j * b + i] * lr[i] * PAIR_COEF(j) * QK1[j * b + i] * MJ[j * b + i];
                    dL[j] += dM;
                    dL[i] -= dM;
                }
            }
        }
#undef PAIR_COEF
#undef PAIR_A
#undef PAIR_S
        __syncthreads();
        /* g_i = the inner gradient at (Ws, cs) through z_i = k_i Ws + cs (inner_grad_bwd), one warp per token */
        for (int i = warp; i < n; i += nw) {
            const size_t t = rb + i;
            const float *xk = C.xk + t * D + off, *v = C.v + t * D + off;
            const float sigma = C.sk[t * H + h];
            float a2 = 0.0f, a1 = 0.0f, a3 = 0.0f, a4 = 0.0f;
            for (int j = lane; j < f; j += 32) {
                const float e = lnw[j] * (lnw[j] * xk[j] + lnb[j] - (v[j] - Kt[i * F + j]));
                const float dh = dGt[i * F + j] / sigma;
                a2 += e * xk[j];
                a1 += dh;
                a3 += dh * xk[j];
                a4 += dGt[i * F + j] * Gt[i * F + j] / sigma;
            }
            const float m2 = warp_sum(a2) / (float)f, S1 = warp_sum(a1) / (float)f, S2 = warp_sum(a3) / (float)f;
            const float dsigma = -warp_sum(a4);
            float b1 = 0.0f, b2 = 0.0f;
            for (int j = lane; j < f; j += 32) {
                const float e = lnw[j] * (lnw[j] * xk[j] + lnb[j] - (v[j] - Kt[i * F + j]));
                const float dh = dGt[i * F + j] / sigma;
                const float de = dh - S1 - xk[j] * S2;
                const float y = v[j] - Kt[i * F + j];
                const float dxk = -dh * m2 - e * S2 + de * lnw[j] * lnw[j];
                T1[i * F + j] = dxk;
                T2[i * F + j] = de * ((float)2 * lnw[j] * xk[j] + lnb[j] - y); /* dlnw term */
                T3[i * F + j] = de * lnw[j];                                     /* dlnb term */
                const float dy = -de * lnw[j];
                C.dv[t * D + off + j] += dy;
                C.dk[t * D + off + j] -= dy;
                b1 += dxk;
                b2 += dxk * xk[j];
            }
            const float n1 = warp_sum(b1) / (float)f, n2 = warp_sum(b2) / (float)f;
            for (int j = lane; j < f; j += 32) /* dzk = ln_back(xk, sigma, dxk) + dsigma xk / f */
                T1[i * F + j] = (T1[i * F + j] - n1 - xk[j] * n2) / sigma + dsigma * xk[j] / (float)f;
        }
        __syncthreads();
        for (int e = tid; e < n * f; e += nt) { /* dk_i += Ws dzk_i */
            const int i = e / f, m = e % f;
            float s = 0.0f;
            for (int j = 0; j < f; j++) s += Ws[m * F + j] * T1[i * F + j];
            C.dk[(rb + i) * D + off + m] += s;
        }
        for (int e = tid; e < (int)ff; e += nt) { /* dWs += k_i^T dzk_i */
            const int m = e / f, j = e % f;
            float w = dWs[m * F + j];
            for (int i = 0; i < n; i++) w += Kt[i * F + m] * T1[i * F + j];
            dWs[m * F + j] = w;
        }
        for (int m = tid; m < f; m += nt) {
            float a = dcs[m], w = dlnw[m], bb = dlnb[m];
            for (int i = 0; i < n; i++) {
                a += T1[i * F + m];
                w += T2[i * F + m];
                bb += T3[i * F + m];
            }
            dcs[m] = a;
            dlnw[m] = w;
            dlnb[m] = bb;
        }
        __syncthreads();
        if (gated && tid == 0) { /* L_j = l_0 + ... + l_j: dl_m = sum over j >= m of dL_j */
            float acc = 0.0f;
            for (int j = n - 1; j >= 0; j--) {
                acc += dL[j];
                C.d_log_forget[(rb + j) * H + h] = acc;
            }
        }
        for (int e = tid; e < (int)ff; e += nt) dW[e / f * F + e % f] = dWs[e / f * F + e % f];
        for (int m = tid; m < f; m += nt) dc[m] = dcs[m];
        __syncthreads();
    }
    if (!x.carried) { /* the start state was (W0, b0) */
        for (int e = tid; e < (int)ff; e += nt) dW0a[e / f * F + e % f] += dW[e / f * F + e % f];
        for (int m = tid; m < f; m += nt) db0a[m] += dc[m];
    }
    __syncthreads();
    float *P = chain_partial(partials, f, blockIdx.x);
    for (int e = tid; e < (int)ff; e += nt) P[e] = dW0a[e / f * F + e % f];
    for (int m = tid; m < f; m += nt) {
        P[ff + m] = db0a[m];
        P[ff + f + m] = dlnw[m];
        P[ff + 2 * f + m] = dlnb[m];
    }
}

/* dW0, db0, dln_w, dln_b += the chains' partials, summed over the sequences in order */
static __global__ void ttt_linear_partials_kernel(const float *partials, int B, int H, int f, float *dW0, float *db0,
                                                  float *dln_w, float *dln_b) {
    const size_t ff = (size_t)f * f, per = ff + 3 * (size_t)f, n = (size_t)H * per;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < n; e += (size_t)gridDim.x * blockDim.x) {
        const size_t h = e / per, k = e % per;
        float s = 0.0f;
        for (int seq = 0; seq < B; seq++) s += partials[((size_t)seq * H + h) * per + k];
        if (k < ff) dW0[h * ff + k] += s;
        else if (k < ff + f) db0[h * f + (k - ff)] += s;
        else if (k < ff + 2 * f) dln_w[h * f + (k - ff - f)] += s;
        else dln_b[h * f + (k - ff - 2 * f)] += s;
    }
}

void cuda_ttt_linear_bwd(TrainBackend *be, const TttLinearChain *c) {
    CudaBackend *cb = cuda_of(be);
    if (c->B <= 0 || c->T <= 0) return;
    ProfScope ps(cb, "ttt_linear_bwd");
    const size_t N = (size_t)c->B * c->T;
    const int f = c->D / c->H;
    cuda_check(cb, cudaMemsetAsync(c->dq, 0, N * c->D * sizeof(real), 0), "ttt_linear_bwd: zero dq");
    cuda_check(cb, cudaMemsetAsync(c->dk, 0, N * c->D * sizeof(real), 0), "ttt_linear_bwd: zero dk");
    cuda_check(cb, cudaMemsetAsync(c->dv, 0, N * c->D * sizeof(real), 0), "ttt_linear_bwd: zero dv");
    cuda_check(cb, cudaMemsetAsync(c->d_lr_gate, 0, N * c->H * sizeof(real), 0), "ttt_linear_bwd: zero d_lr_gate");
    const size_t floats = bwd_smem_floats(f, c->mini_batch);
    if (!chain_fits(cb, c, (const void *)ttt_linear_bwd_kernel, floats, "backward")) return;
    const size_t chains = (size_t)c->B * c->H, per = (size_t)f * f + 3 * (size_t)f;
    float *partials = (float *)cuda_scratch(cb, chains * per * sizeof(float));
    if (!partials) return;
    LAUNCH(ttt_linear_bwd_kernel, (unsigned)chains, TTT_THREADS, floats * sizeof(float), *c, partials);
    cuda_launched(cb, "ttt_linear_bwd");
    LAUNCH(ttt_linear_partials_kernel, grid_for((size_t)c->H * per, CUDA_THREADS), CUDA_THREADS, 0, partials, c->B,
           c->H, f, c->dW0, c->db0, c->dln_w, c->dln_b);
    cuda_launched(cb, "ttt_linear_bwd: partial sums");
}
