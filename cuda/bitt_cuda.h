/* bitt_cuda.h: the entry points of the CUDA training backend. The plugin
 * libbitt_cuda.so exports exactly one symbol, bitt_train_backend_cuda, which
 * src/train/backend_open.c finds with dlsym; the host emulator build of the
 * same sources (library bitt_cuda_emu, for tests on machines without a GPU)
 * names it bitt_train_backend_cuda_emu and is linked in directly. */
#ifndef BITT_CUDA_H
#define BITT_CUDA_H

#include "train/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A CUDA backend on GPU 0 (destroy it with be->destroy), or NULL with a
 * message: "no CUDA GPU (cudaGetDeviceCount: ...)" when there is none.
 * options: comma-separated, "math=f32" (default: exact FP32 cuBLAS) or
 * "math=tf32" (TF32 tensor cores, FP32 accumulation); NULL or "" for the
 * defaults. BITT_CUDA_PROFILE=1 in the environment times every op (CUDA
 * events) and prints the table to stderr at destroy (and as JSON to the file
 * named by BITT_CUDA_PROFILE_OUT). */
TrainBackend *bitt_train_backend_cuda(const char *options, BittError *err);
typedef TrainBackend *(*BittCudaEntry)(const char *options, BittError *err);
#define BITT_CUDA_ENTRY_NAME "bitt_train_backend_cuda"

/* The same backend with its kernels run by the host emulator (cuda/emu/). */
TrainBackend *bitt_train_backend_cuda_emu(const char *options, BittError *err);

#ifdef __cplusplus
}
#endif

#endif
