/* cuda_gemm.cu: the CUDA backend's matrix products through cuBLAS, in FP32
 * (math=f32: CUBLAS_COMPUTE_32F) or on TF32 tensor cores with FP32
 * accumulation (math=tf32). backend.h's gemm is row-major, cuBLAS is
 * column-major; the mapping:
 *
 * A row-major r x c matrix X with rows of ld = c values is, read
 * column-major with the same ld, the c x r matrix X^T. So the row-major
 * C (M x N) = op(A) op(B) is the column-major C^T (N x M, ldc = N)
 * = op(B)^T op(A)^T, and cuBLAS is asked for that product with m = N,
 * n = M, k = K, its first operand from B and its second from A:
 *
 *   first operand op(B)^T (N x K):
 *     tb 0: B is stored K x N row-major = column-major N x K (ld N) = B^T:
 *           already op(B)^T: CUBLAS_OP_N, ld = N
 *     tb 1: B is stored N x K row-major = column-major K x N (ld K) = B^T,
 *           and op(B)^T = B: transpose it back: CUBLAS_OP_T, ld = K
 *   second operand op(A)^T (K x M):
 *     ta 0: A is stored M x K row-major = column-major K x M (ld K) = A^T:
 *           CUBLAS_OP_N, ld = K
 *     ta 1: A is stored K x M row-major = column-major M x K (ld M) = A^T,
 *           and op(A)^T = A: CUBLAS_OP_T, ld = M
 *
 * so the four (ta, tb) cases are
 *   (0, 0): gemm(N, N, N, M, K, B, ldb N, A, lda K, C, N)   x W (dx = dy W)
 *   (0, 1): gemm(T, N, N, M, K, B, ldb K, A, lda K, C, N)   x W^T (the forward)
 *   (1, 0): gemm(N, T, N, M, K, B, ldb N, A, lda M, C, N)   dy^T x (dW)
 *   (1, 1): gemm(T, T, N, M, K, B, ldb K, A, lda M, C, N)   (unused by the schedule)
 * with beta 1 to accumulate into C, else 0 (C is then not read).
 *
 * Unlike the CPU's gemm, cuBLAS does not promise one sum over k in order:
 * its results are reproducible from run to run on the same GPU model and
 * library version, but differ from the CPU in the last bits. */
#include "cuda_internal.h"

void cuda_gemm(TrainBackend *be, int ta, int tb, int M, int N, int K, const real *A, const real *B, real *C,
               int accumulate) {
    CudaBackend *cb = cuda_of(be);
    if (M <= 0 || N <= 0) return;
    ProfScope ps(cb, "gemm");
    if (K <= 0) { /* an empty sum: C = 0 (or C unchanged) */
        if (!accumulate) cuda_check(cb, cudaMemsetAsync(C, 0, (size_t)M * N * sizeof(real), 0), "gemm: zero");
        return;
    }
    const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    const cublasOperation_t opB = tb ? CUBLAS_OP_T : CUBLAS_OP_N, opA = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int ldb = tb ? K : N, lda = ta ? M : K;
    cublas_check(cb,
                 cublasGemmEx(cb->blas, opB, opA, N, M, K, &alpha, B, CUDA_R_32F, ldb, A, CUDA_R_32F, lda, &beta, C,
                              CUDA_R_32F, N, cb->tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F,
                              CUBLAS_GEMM_DEFAULT),
                 "gemm");
}
