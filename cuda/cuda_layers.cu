/* cuda_layers.cu: the CUDA backend's per-row ops, each forward beside its
 * backward, mirroring src/train/cpu/cpu_layers.c expression for
 * expression (compiled with --fmad=false, as the CPU with
 * -ffp-contract=off): the SPEC 1.1 quantisers, RMSNorm, SwiGLU and the
 * gates. Per-row work is one block per row; the sums within a row are the
 * deterministic block reductions of cuda_reduce.cuh (another order than the
 * CPU's running sum: the last bits differ). Sums over rows (RMSNorm's dw,
 * the gates' dbias) are per column: partial sums over chunks of
 * COLSUM_CHUNK rows in row order, then the partials in chunk order, so they
 * are reproducible too. act_quant, swiglu and the gates' element-wise parts
 * give the CPU's bits for the same input; ternarize does too, unless the
 * double sum of |W| (summed in another order) rounds g differently. */
#include "cuda_internal.h"
#include "cuda_reduce.cuh"

/* ---- fixed-order double sums (ternarize's mean |W|, sum_squares) ---- */

/* The number of partial sums for n values: one per 4096 (16 a thread), at
 * most REDUCE_BLOCKS. It depends on n only, so the order of the sums does too. */
static unsigned reduce_parts(size_t n) {
    const size_t p = (n + 4095) / 4096;
    return p < 1 ? 1u : p > REDUCE_BLOCKS ? (unsigned)REDUCE_BLOCKS : (unsigned)p;
}

/* block b sums elements b*CUDA_THREADS + tid + k * gridDim.x*CUDA_THREADS */
static __global__ void sum_f64_partial_kernel(const real *x, size_t n, int squares, double *partials) {
    double s = 0.0;
    const size_t stride = (size_t)gridDim.x * CUDA_THREADS;
    for (size_t i = blockIdx.x * (size_t)CUDA_THREADS + threadIdx.x; i < n; i += stride)
        s += squares ? (double)x[i] * x[i] : (double)fabsf(x[i]);
    s = block_sum_d(s);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

/* the parts in order (one per thread: REDUCE_BLOCKS <= CUDA_THREADS) */
static __global__ void sum_f64_final_kernel(const double *partials, unsigned parts, double *out) {
    const double s = block_sum_d(threadIdx.x < parts ? partials[threadIdx.x] : 0.0);
    if (threadIdx.x == 0) *out = s;
}

void cuda_sum_f64(CudaBackend *cb, const real *x, size_t n, int squares, double *out, double *partials) {
    static_assert(REDUCE_BLOCKS <= CUDA_THREADS, "the final pass reads one partial per thread");
    const unsigned parts = reduce_parts(n);
    LAUNCH(sum_f64_partial_kernel, parts, CUDA_THREADS, 0, x, n, squares, partials);
    LAUNCH(sum_f64_final_kernel, 1, CUDA_THREADS, 0, partials, parts, out);
    cuda_launched(cb, "sum (double)");
}

/* ---- SPEC 1.1 quantisers ---- */

/* out = (float)code * g with g = (float)(sum |W| / n) and code = clamp(round(W / (g + 1e-6)), -1, 1),
 * a NaN weight coding 0: the rule of src/model/ternary.h (ternary_scale_f32, ternary_code_f32),
 * written out again because device code cannot call the host's inline functions */
static __device__ __forceinline__ int ternary_code(real w, real g) {
    const real r = roundf(w / (g + (real)1e-6));
    return r > 1 ? 1 : r < -1 ? -1 : r == r ? (int)r : 0;
}

static __global__ void ternarize_kernel(const real *W, size_t n, const double *sum, real *out) {
    const real g = (real)(*sum / (double)n);
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = (real)ternary_code(W[i], g) * g;
}

void cuda_ternarize(TrainBackend *be, const real *W, size_t n, real *out) {
    CudaBackend *cb = cuda_of(be);
    if (!n) return;
    ProfScope ps(cb, "ternarize");
    double *dev = (double *)cuda_scratch(cb, (REDUCE_BLOCKS + 1) * sizeof(double));
    if (!dev) return;
    cuda_sum_f64(cb, W, n, 0, dev, dev + 1);
    LAUNCH(ternarize_kernel, grid_for(n, CUDA_THREADS), CUDA_THREADS, 0, W, n, dev, out);
    cuda_launched(cb, "ternarize");
}

/* one block per row: s = 127 / max(max |x|, 1e-5), out = clamp(round(x s), -127, 127) / s */
static __global__ void act_quant_kernel(const real *x, int cols, real *out) {
    const real *xt = x + (size_t)blockIdx.x * cols;
    real *ot = out + (size_t)blockIdx.x * cols;
    real maxabs = 0;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) maxabs = max_keep(maxabs, fabsf(xt[i]));
    maxabs = block_max(maxabs);
    const real s = (real)127 / (maxabs > (real)1e-5 ? maxabs : (real)1e-5);
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
        real q = roundf(xt[i] * s);
        q = q > 127 ? 127 : q < -127 ? -127 : q;
        ot[i] = q / s;
    }
}

void cuda_act_quant(TrainBackend *be, const real *x, int rows, int cols, real *out) {
    CudaBackend *cb = cuda_of(be);
    if (rows <= 0) return;
    ProfScope ps(cb, "act_quant");
    LAUNCH(act_quant_kernel, (unsigned)rows, CUDA_THREADS, 0, x, cols, out);
    cuda_launched(cb, "act_quant");
}

/* ---- column sums over rows, in a fixed order ---- */

/* partials[chunk * cols + c] = sum over the chunk's rows t (in order) of
 * (dy x r)[t, c] (rmsnorm: x, r given) or of dy[t, c] (x NULL) */
static __global__ void colsum_partial_kernel(const real *dy, const real *x, const real *r, int rows, int cols,
                                             real *partials) {
    const int chunk = blockIdx.y, t0 = chunk * COLSUM_CHUNK;
    const int t1 = t0 + COLSUM_CHUNK < rows ? t0 + COLSUM_CHUNK : rows;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += gridDim.x * blockDim.x) {
        real s = 0;
        for (int t = t0; t < t1; t++) {
            const size_t i = (size_t)t * cols + c;
            s += x ? dy[i] * x[i] * r[t] : dy[i];
        }
        partials[(size_t)chunk * cols + c] = s;
    }
}

/* out[c] += the chunks' partials, in chunk order */
static __global__ void colsum_final_kernel(const real *partials, int chunks, int cols, real *out) {
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += gridDim.x * blockDim.x) {
        real s = 0;
        for (int k = 0; k < chunks; k++) s += partials[(size_t)k * cols + c];
        out[c] += s;
    }
}

static void colsum(CudaBackend *cb, const real *dy, const real *x, const real *r, int rows, int cols, real *out) {
    const int chunks = (rows + COLSUM_CHUNK - 1) / COLSUM_CHUNK;
    real *partials = (real *)cuda_scratch(cb, (size_t)chunks * cols * sizeof(real));
    if (!partials) return;
    const unsigned gx = grid_for((size_t)cols, CUDA_THREADS);
    LAUNCH(colsum_partial_kernel, dim3(gx, (unsigned)chunks), CUDA_THREADS, 0, dy, x, r, rows, cols, partials);
    LAUNCH(colsum_final_kernel, gx, CUDA_THREADS, 0, partials, chunks, cols, out);
    cuda_launched(cb, "column sums");
}

/* ---- RMSNorm: y = x r w, r = 1/sqrt(mean(x^2) + eps) ---- */

static __global__ void rmsnorm_fwd_kernel(const real *x, const real *w, int n, real eps, real *y, real *r) {
    const size_t t = blockIdx.x;
    const real *xt = x + t * n;
    real *yt = y + t * n;
    real ss = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) ss += xt[i] * xt[i];
    ss = block_sum(ss);
    const real inv = (real)1 / sqrtf(ss / (real)n + eps);
    if (threadIdx.x == 0) r[t] = inv;
    for (int i = threadIdx.x; i < n; i += blockDim.x) yt[i] = xt[i] * inv * w[i];
}

void cuda_rmsnorm_fwd(TrainBackend *be, const real *x, const real *w, int rows, int n, real eps, real *y, real *r) {
    CudaBackend *cb = cuda_of(be);
    if (rows <= 0) return;
    ProfScope ps(cb, "rmsnorm_fwd");
    LAUNCH(rmsnorm_fwd_kernel, (unsigned)rows, CUDA_THREADS, 0, x, w, n, eps, y, r);
    cuda_launched(cb, "rmsnorm_fwd");
}

/* dx_i = r (dy_i w_i) - x_i r^3 / n * sum_j dy_j w_j x_j */
static __global__ void rmsnorm_bwd_kernel(const real *x, const real *r, const real *w, const real *dy, int n,
                                          real *dx, int accumulate) {
    const size_t t = blockIdx.x;
    const real *xt = x + t * n, *dyt = dy + t * n;
    real *dxt = dx + t * n;
    const real rt = r[t];
    real dot = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) dot += dyt[i] * w[i] * xt[i];
    dot = block_sum(dot);
    const real c = dot * rt * rt * rt / (real)n;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const real v = rt * dyt[i] * w[i] - xt[i] * c;
        dxt[i] = accumulate ? dxt[i] + v : v;
    }
}

void cuda_rmsnorm_bwd(TrainBackend *be, const real *x, const real *r, const real *w, const real *dy, int rows, int n,
                      real *dx, int accumulate, real *dw) {
    CudaBackend *cb = cuda_of(be);
    if (rows <= 0) return;
    ProfScope ps(cb, "rmsnorm_bwd");
    LAUNCH(rmsnorm_bwd_kernel, (unsigned)rows, CUDA_THREADS, 0, x, r, w, dy, n, dx, accumulate);
    cuda_launched(cb, "rmsnorm_bwd");
    if (dw) colsum(cb, dy, x, r, rows, n, dw); /* dw_i += sum_t dy_ti x_ti r_t */
}

/* ---- SwiGLU: h = silu(a) u ---- */

static __global__ void swiglu_fwd_kernel(const real *a, const real *u, size_t n, real *h) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        h[i] = a[i] * dev_sigm(a[i]) * u[i];
}

void cuda_swiglu_fwd(TrainBackend *be, const real *a, const real *u, size_t n, real *h) {
    CudaBackend *cb = cuda_of(be);
    if (!n) return;
    ProfScope ps(cb, "swiglu_fwd");
    LAUNCH(swiglu_fwd_kernel, grid_for(n, CUDA_THREADS), CUDA_THREADS, 0, a, u, n, h);
    cuda_launched(cb, "swiglu_fwd");
}

static __global__ void swiglu_bwd_kernel(const real *a, const real *u, real *dh, real *da, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const real ai = a[i], s = dev_sigm(ai), d = dh[i];
        da[i] = d * u[i] * s * ((real)1 + ai * ((real)1 - s)); /* silu'(a) */
        dh[i] = d * ai * s;                                     /* d up */
    }
}

void cuda_swiglu_bwd(TrainBackend *be, const real *a, const real *u, real *dh, real *da, size_t n) {
    CudaBackend *cb = cuda_of(be);
    if (!n) return;
    ProfScope ps(cb, "swiglu_bwd");
    LAUNCH(swiglu_bwd_kernel, grid_for(n, CUDA_THREADS), CUDA_THREADS, 0, a, u, dh, da, n);
    cuda_launched(cb, "swiglu_bwd");
}

/* ---- gates over the heads ---- */

/* -softplus(u) = -log(1 + e^u), computed without overflow */
static __device__ __forceinline__ real neg_softplus(real u) {
    return u > 0 ? -u - log1pf(expf(-u)) : -log1pf(expf(u));
}

static __global__ void gate_fwd_kernel(int kind, real *z, const real *bias, size_t n, int H) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const real u = z[i] + bias[i % H];
        z[i] = kind == GATE_SIGMOID ? dev_sigm(u) : neg_softplus(u);
    }
}

void cuda_gate_fwd(TrainBackend *be, GateKind kind, real *z, const real *bias, int rows, int H) {
    CudaBackend *cb = cuda_of(be);
    const size_t n = (size_t)rows * H;
    if (!n) return;
    ProfScope ps(cb, "gate_fwd");
    LAUNCH(gate_fwd_kernel, grid_for(n, CUDA_THREADS), CUDA_THREADS, 0, (int)kind, z, bias, n, H);
    cuda_launched(cb, "gate_fwd");
}

/* sigmoid: dz = dy s (1 - s); log-forget l = -softplus(u): dl/du = -sigmoid(u) = expm1(l) */
static __global__ void gate_bwd_kernel(int kind, const real *y, real *dy, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const real s = y[i];
        dy[i] = kind == GATE_SIGMOID ? dy[i] * s * (1 - s) : dy[i] * expm1f(s);
    }
}

void cuda_gate_bwd(TrainBackend *be, GateKind kind, const real *y, real *dy, int rows, int H, real *dbias) {
    CudaBackend *cb = cuda_of(be);
    const size_t n = (size_t)rows * H;
    if (!n) return;
    ProfScope ps(cb, "gate_bwd");
    LAUNCH(gate_bwd_kernel, grid_for(n, CUDA_THREADS), CUDA_THREADS, 0, (int)kind, y, dy, n);
    cuda_launched(cb, "gate_bwd");
    colsum(cb, dy, NULL, NULL, rows, H, dbias); /* dbias += column sums of dz */
}
