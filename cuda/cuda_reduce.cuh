/* cuda_reduce.cuh: deterministic warp and block reductions for the CUDA
 * backend's kernels. The order of every sum depends only on the block size
 * (a compile-time constant of each kernel), never on timing: a warp sums
 * with a butterfly of shuffles (after which every lane holds the same bits:
 * each step adds the same two operands on both lanes), a block sums its
 * warps' results in warp order. Every thread of the block (or warp) must
 * call them, and every thread gets the result. */
#ifndef BITT_CUDA_REDUCE_CUH
#define BITT_CUDA_REDUCE_CUH

#include "cuda_compat.h"

static __device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

static __device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

/* max that ignores a NaN operand as the CPU's `a > m ? a : m` scan does */
static __device__ __forceinline__ float max_keep(float m, float a) { return a > m ? a : m; }

static __device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = max_keep(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

/* The sum over the block of v (blockDim.x threads, a multiple of 32, at most 1024). */
static __device__ inline float block_sum(float v) {
    __shared__ float red[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum(v);
    if (lane == 0) red[warp] = v;
    __syncthreads();
    float s = 0.0f;
    for (int w = 0; w < nw; w++) s += red[w];
    __syncthreads(); /* red may be reused by the next call */
    return s;
}

static __device__ inline double block_sum_d(double v) {
    __shared__ double red_d[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum_d(v);
    if (lane == 0) red_d[warp] = v;
    __syncthreads();
    double s = 0.0;
    for (int w = 0; w < nw; w++) s += red_d[w];
    __syncthreads();
    return s;
}

/* The max over the block (NaNs ignored; 0 if every value is NaN or below 0 with m0 = 0). */
static __device__ inline float block_max(float v) {
    __shared__ float red_m[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_max(v);
    if (lane == 0) red_m[warp] = v;
    __syncthreads();
    float m = red_m[0];
    for (int w = 1; w < nw; w++) m = max_keep(m, red_m[w]);
    __syncthreads();
    return m;
}

#endif
