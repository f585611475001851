/* cuda_ttt_seed.cu: the seed mixer's chains (SPEC 1.3) of the CUDA backend,
 * forward and backward side by side, mirroring src/train/cpu/cpu_ttt_seed.c:
 * one thread block per sequence walks its tokens. Per token uh = u / (|u| +
 * 1e-6), p = S uh, S <- S - inner_lr (p - uh) uh^T; S starts at zero (or at
 * a carried S, a constant). S (d x d, too big for shared memory at d = D/4)
 * lives in the S_before array itself: the forward writes the S after token
 * t straight into S_before[t + 1] (the end state, when asked for, into the
 * state). The backward carries dS (G) in device scratch, one d x d per
 * sequence, through the tokens in reverse. Rows (p = S uh, G uh) are one warp
 * each; columns (S^T dp, G^T r) one thread each, summing over the rows in
 * the CPU's order. This is the legacy variant: one block per sequence keeps
 * most of a large GPU idle, which is accepted here. */
#include "cuda_internal.h"
#include "cuda_reduce.cuh"

#define SEED_THREADS 256

static __global__ void __launch_bounds__(SEED_THREADS) ttt_seed_fwd_kernel(TttSeedChain C) {
    const int s = blockIdx.x, d = C.d, T = C.T;
    const int tid = threadIdx.x, nt = blockDim.x, lane = tid & 31, warp = tid >> 5, nw = nt >> 5;
    const float eta = C.inner_lr;
    const size_t dd = (size_t)d * d, r0 = (size_t)s * T;
    float *uh = dyn_smem(), *p = uh + d;
    float *st = C.state ? C.state + (size_t)s * C.state_stride : NULL;
    const int carried = st && C.carried && C.carried[s];
    float *S0 = C.S_before + r0 * dd;
    for (size_t e = tid; e < dd; e += nt) S0[e] = carried ? st[e] : 0.0f;
    __syncthreads();
    for (int i = 0; i < T; i++) {
        const size_t t = r0 + (size_t)i;
        const float *u = C.u + t * d, *S = C.S_before + t * dd;
        float nn = 0.0f;
        for (int j = tid; j < d; j += nt) nn += u[j] * u[j];
        const float norm = sqrtf(block_sum(nn));
        if (tid == 0) C.u_norm[t] = norm;
        for (int j = tid; j < d; j += nt) uh[j] = u[j] / (norm + 1e-6f);
        __syncthreads();
        for (int a = warp; a < d; a += nw) { /* p = S uh, a row per warp */
            float sum = 0.0f;
            for (int j = lane; j < d; j += 32) sum += S[(size_t)a * d + j] * uh[j];
            sum = warp_sum(sum);
            if (lane == 0) {
                p[a] = sum;
                C.p[t * d + a] = sum;
            }
        }
        __syncthreads();
        float *next = i + 1 < T ? C.S_before + (t + 1) * dd : st && C.state_out ? st : NULL;
        if (next)
            for (size_t e = tid; e < dd; e += nt) {
                const int a = (int)(e / d), j = (int)(e % d);
                const float r = eta * (p[a] - uh[a]);
                next[e] = S[e] - r * uh[j];
            }
        __syncthreads(); /* S_before[t + 1] is read by the next token */
    }
}

void cuda_ttt_seed_fwd(TrainBackend *be, const TttSeedChain *c) {
    CudaBackend *cb = cuda_of(be);
    if (c->B <= 0 || c->T <= 0) return;
    ProfScope ps(cb, "ttt_seed_fwd");
    const size_t smem = 2 * (size_t)c->d * sizeof(float);
    if (!cuda_smem_allow(cb, (const void *)ttt_seed_fwd_kernel, smem, "the seed mixer's forward")) return;
    LAUNCH(ttt_seed_fwd_kernel, (unsigned)c->B, SEED_THREADS, smem, *c);
    cuda_launched(cb, "ttt_seed_fwd");
}

/* G: per sequence d x d (device scratch), dS after the token being walked */
static __global__ void __launch_bounds__(SEED_THREADS) ttt_seed_bwd_kernel(TttSeedChain C, float *Gall) {
    const int s = blockIdx.x, d = C.d, T = C.T;
    const int tid = threadIdx.x, nt = blockDim.x, lane = tid & 31, warp = tid >> 5, nw = nt >> 5;
    const float eta = C.inner_lr;
    const size_t dd = (size_t)d * d, r0 = (size_t)s * T;
    float *uh = dyn_smem(), *r = uh + d, *dp = r + d, *duh = dp + d, *sv = duh + d;
    float *G = Gall + (size_t)s * dd;
    for (size_t e = tid; e < dd; e += nt) G[e] = 0.0f; /* dS after the last token */
    __syncthreads();
    for (int i = T - 1; i >= 0; i--) {
        const size_t t = r0 + (size_t)i;
        const float *u = C.u + t * d, *p = C.p + t * d, *S = C.S_before + t * dd;
        const float norm = C.u_norm[t], den = norm + 1e-6f;
        for (int j = tid; j < d; j += nt) {
            uh[j] = u[j] / den;
            r[j] = p[j] - uh[j];
        }
        __syncthreads();
        /* S' = S - eta r uh^T: dr = -eta G uh (into dp), duh = eta G uh [the row's] - eta G^T r */
        for (int a = warp; a < d; a += nw) {
            float sum = 0.0f;
            for (int j = lane; j < d; j += 32) sum += G[(size_t)a * d + j] * uh[j];
            sum = warp_sum(sum);
            if (lane == 0) {
                sv[a] = sum;
                dp[a] = C.d_p[t * d + a] - eta * sum; /* r = p - uh */
            }
        }
        __syncthreads();
        for (int j = tid; j < d; j += nt) { /* the CPU's order: rows a in turn, + eta sv[j] after row j */
            float acc = 0.0f;
            for (int a = 0; a < d; a++) {
                acc -= eta * G[(size_t)a * d + j] * r[a];
                if (a == j) acc += eta * sv[j];
            }
            duh[j] = acc;
        }
        __syncthreads();
        /* p = S uh: dS = G + dp uh^T, duh += S^T dp */
        for (int j = tid; j < d; j += nt) {
            float acc = duh[j];
            for (int a = 0; a < d; a++) acc += S[(size_t)a * d + j] * dp[a];
            duh[j] = acc;
        }
        for (size_t e = tid; e < dd; e += nt) G[e] += dp[e / d] * uh[e % d];
        __syncthreads();
        /* uh = u / (|u| + eps) */
        float udu = 0.0f;
        for (int j = tid; j < d; j += nt) udu += u[j] * duh[j];
        udu = block_sum(udu);
        const float k = norm > 0 ? udu / (norm * den * den) : 0.0f;
        for (int j = tid; j < d; j += nt) C.d_u[t * d + j] = duh[j] / den - k * u[j];
        __syncthreads(); /* uh, r, dp, duh are rewritten by the next token */
    }
}

void cuda_ttt_seed_bwd(TrainBackend *be, const TttSeedChain *c) {
    CudaBackend *cb = cuda_of(be);
    if (c->B <= 0 || c->T <= 0) return;
    ProfScope ps(cb, "ttt_seed_bwd");
    const size_t smem = 5 * (size_t)c->d * sizeof(float);
    if (!cuda_smem_allow(cb, (const void *)ttt_seed_bwd_kernel, smem, "the seed mixer's backward")) return;
    float *G = (float *)cuda_scratch(cb, (size_t)c->B * c->d * c->d * sizeof(float));
    if (!G) return;
    LAUNCH(ttt_seed_bwd_kernel, (unsigned)c->B, SEED_THREADS, smem, *c, G);
    cuda_launched(cb, "ttt_seed_bwd");
}
