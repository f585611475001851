/* cuda_internal.h: what the CUDA backend's files share: its state (the
 * cuBLAS handle, the sticky first error, device scratch, the optional
 * per-op profile), the helpers every op uses (error checks after each
 * launch and cuBLAS call, launch sizes, scratch), and the op
 * implementations that cuda_backend.cu puts into the TrainBackend table
 * (backend.h documents each op; the CPU backend in src/train/cpu/ is the
 * reference each one mirrors). Everything runs on the legacy default
 * stream, so every op is ordered after the previous one and a copy to the
 * host waits for them. `real` is float here. */
#ifndef BITT_CUDA_INTERNAL_H
#define BITT_CUDA_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cuda_compat.h"

extern "C" {
#include "train/backend.h"
}

#if defined(BITT_TRAIN_REAL_DOUBLE)
#error "the CUDA backend is float only"
#endif

/* threads of the element-wise and per-row kernels */
#define CUDA_THREADS 256
/* most blocks of the double reductions (ternarize, sum_squares): the order
 * of their sums depends only on n and this number, not on the GPU */
#define REDUCE_BLOCKS 256
/* rows per partial sum of the column sums (RMSNorm dw, gate biases) */
#define COLSUM_CHUNK 128

#define PROF_MAX_OPS 48
#define PROF_MAX_PENDING 2048

typedef struct ProfOp {
    const char *name;
    long calls;
    double ms;
} ProfOp;

typedef struct CudaBackend {
    TrainBackend be;            /* first: a TrainBackend * is a CudaBackend * */
    cublasHandle_t blas;
    int tf32;                   /* math=tf32: cuBLAS on TF32 tensor cores (FP32 accumulation) */
    int failed;                 /* the sticky first error, reported (and cleared) by status */
    char failure[400];
    void *scratch;              /* device scratch for one op at a time */
    size_t scratch_bytes;
    int32_t *host_i32;          /* host scratch (embedding backward's sort) */
    size_t host_i32_cap;
    double *host_f64;           /* host scratch (row losses) */
    size_t host_f64_cap;
    int max_smem;               /* shared memory a block may opt in to (bytes) */
    int sm_count;
    char device_name[256];
    /* BITT_CUDA_PROFILE=1: per-op GPU time from events, printed at destroy */
    int profile;
    ProfOp ops[PROF_MAX_OPS];
    int n_ops;
    cudaEvent_t ev_begin[PROF_MAX_PENDING], ev_end[PROF_MAX_PENDING];
    int ev_op[PROF_MAX_PENDING];
    int n_pending, open_op;
    size_t peak_used, total_mem;
} CudaBackend;

static inline CudaBackend *cuda_of(TrainBackend *be) { return (CudaBackend *)be; }

/* Records a failure (the first one is kept); printf-style. */
void cuda_fail(CudaBackend *cb, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* 1 if e is cudaSuccess, else records "what: <error>" and returns 0. */
int cuda_check(CudaBackend *cb, cudaError_t e, const char *what);
/* After a kernel launch: a bad configuration shows up here. */
void cuda_launched(CudaBackend *cb, const char *what);
/* 1 if s is CUBLAS_STATUS_SUCCESS, else records it and returns 0. */
int cublas_check(CudaBackend *cb, cublasStatus_t s, const char *what);
/* At least bytes of device scratch (valid until the next call), or NULL (recorded). */
void *cuda_scratch(CudaBackend *cb, size_t bytes);
/* Host scratch of n values (kept), or NULL (recorded). */
int32_t *cuda_host_i32(CudaBackend *cb, size_t n);
double *cuda_host_f64(CudaBackend *cb, size_t n);
/* Lets `kernel` use `bytes` of dynamic shared memory; 0 and a recorded error if the GPU cannot. */
int cuda_smem_allow(CudaBackend *cb, const void *kernel, size_t bytes, const char *what);

/* Blocks for a grid-stride loop over n items (at least 1, at most 4096). */
static inline unsigned grid_for(size_t n, unsigned threads) {
    size_t b = (n + threads - 1) / threads;
    return b < 1 ? 1u : b > 4096 ? 4096u : (unsigned)b;
}

/* The profile: the op between prof_begin and prof_end is timed by events. */
void prof_begin(CudaBackend *cb, const char *op);
void prof_end(CudaBackend *cb);
struct ProfScope {
    CudaBackend *cb;
    ProfScope(CudaBackend *c, const char *op) : cb(c) {
        if (cb->profile) prof_begin(cb, op);
    }
    ~ProfScope() {
        if (cb->profile) prof_end(cb);
    }
};

/* cuda_gemm.cu */
void cuda_gemm(TrainBackend *be, int ta, int tb, int M, int N, int K, const real *A, const real *B, real *C,
               int accumulate);
/* cuda_layers.cu */
/* *out (device) = sum over x[0..n) of |x| (squares 0) or x^2 (squares 1), in
 * double, in an order fixed by n: up to REDUCE_BLOCKS partial sums (device
 * scratch `partials`, REDUCE_BLOCKS doubles) of strided elements, then their
 * sum. */
void cuda_sum_f64(CudaBackend *cb, const real *x, size_t n, int squares, double *out, double *partials);
void cuda_ternarize(TrainBackend *be, const real *W, size_t n, real *out);
void cuda_act_quant(TrainBackend *be, const real *x, int rows, int cols, real *out);
void cuda_rmsnorm_fwd(TrainBackend *be, const real *x, const real *w, int rows, int n, real eps, real *y, real *r);
void cuda_rmsnorm_bwd(TrainBackend *be, const real *x, const real *r, const real *w, const real *dy, int rows, int n,
                      real *dx, int accumulate, real *dw);
void cuda_swiglu_fwd(TrainBackend *be, const real *a, const real *u, size_t n, real *h);
void cuda_swiglu_bwd(TrainBackend *be, const real *a, const real *u, real *dh, real *da, size_t n);
void cuda_gate_fwd(TrainBackend *be, GateKind kind, real *z, const real *bias, int rows, int H);
void cuda_gate_bwd(TrainBackend *be, GateKind kind, const real *y, real *dy, int rows, int H, real *dbias);
/* cuda_ttt_linear.cu, cuda_ttt_seed.cu */
void cuda_ttt_linear_fwd(TrainBackend *be, const TttLinearChain *c);
void cuda_ttt_linear_bwd(TrainBackend *be, const TttLinearChain *c);
void cuda_ttt_seed_fwd(TrainBackend *be, const TttSeedChain *c);
void cuda_ttt_seed_bwd(TrainBackend *be, const TttSeedChain *c);

/* sigmoid, as the CPU's cpu_sigm */
static __device__ __forceinline__ float dev_sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

#endif
