/* emu_ttt_seed.cc: cuda_ttt_seed.cu compiled by the host compiler for the emulator
 * (cuda_emu.h), so that its kernels run in the tests without a GPU. */
#include "../cuda_ttt_seed.cu"
