/* emu_ttt_linear.cc: cuda_ttt_linear.cu compiled by the host compiler for the emulator
 * (cuda_emu.h), so that its kernels run in the tests without a GPU. */
#include "../cuda_ttt_linear.cu"
