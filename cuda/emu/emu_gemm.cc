/* emu_gemm.cc: cuda_gemm.cu compiled by the host compiler for the emulator
 * (cuda_emu.h), so that its kernels run in the tests without a GPU. */
#include "../cuda_gemm.cu"
