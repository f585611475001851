/* cuda_compat.h: the one place where the CUDA backend's sources meet either
 * the real CUDA toolkit (nvcc: cuda_runtime.h + cublas_v2.h) or the host
 * emulator (g++ with -DBITT_CUDA_EMU: emu/cuda_emu.h, which runs every
 * kernel's threads as host threads with real barriers, so that the kernels
 * are tested on a machine without a GPU). The kernels use only what is
 * defined here: LAUNCH(...) instead of <<<...>>>, dyn_smem() for the
 * dynamic shared memory, the warp shuffles, __syncthreads / __syncwarp. */
#ifndef BITT_CUDA_COMPAT_H
#define BITT_CUDA_COMPAT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifdef BITT_CUDA_EMU
#include "emu/cuda_emu.h"
/* kernel(args) for every thread of every block, the blocks one after another */
#define LAUNCH(kernel, grid, block, smem, ...) \
    emu_launch(#kernel, dim3(grid), dim3(block), (size_t)(smem), [=]() { kernel(__VA_ARGS__); })
#ifdef BITT_CUDA_EMU_PLUGIN /* the emulator dressed as the plugin (cuda/CMakeLists.txt) */
#define BITT_CUDA_ENTRY bitt_train_backend_cuda
#else
#define BITT_CUDA_ENTRY bitt_train_backend_cuda_emu
#endif
#else
#include <cublas_v2.h>
#include <cuda_runtime.h>
#define LAUNCH(kernel, grid, block, smem, ...) kernel<<<(grid), (block), (smem)>>>(__VA_ARGS__)
#define BITT_CUDA_ENTRY bitt_train_backend_cuda
/* the dynamic shared memory of a kernel (its size is the launch's smem bytes) */
static __device__ __forceinline__ float *dyn_smem() {
    extern __shared__ float bitt_dyn_smem[];
    return bitt_dyn_smem;
}
#endif

#define FULL_MASK 0xffffffffu

#endif
