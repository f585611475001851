/* kernels_wasm.h: the WebAssembly SIMD128 backend (built only when the
 * compiler targets wasm with -msimd128; chosen at build time). */
#ifndef BITT_KERNELS_WASM_H
#define BITT_KERNELS_WASM_H

#include "../src/kernels/kernels.h"

/* The SIMD128 kernel set ("wasm128"). */
const Kernels *kernels_wasm128(void);

/* An outside kernel for the ternary products of prefill, token rows two at a
 * time (npm/relaxed.js: relaxed SIMD, assembled where the engine has it).
 * groups: the packed weights (ngroups groups of 4 rows, group_bytes apart,
 * nblocks blocks of 64 codes each); x: activation rows `padded` bytes apart;
 * xsums: 4 int32 per token pair, (s0, s0, s1, s1), s the sum of a row's
 * activations. It writes acc[t][o] = sum_i c x - s_t (codes c = w + 1, so
 * that is sum_i w x) for the first 2 npairs tokens, acc rows `row_bytes`
 * apart: every row of every group, so it is used only when the row count
 * is a multiple of 4. NULL (the default) keeps the SIMD128 kernel; the
 * kernel set's name says which runs ("wasm128" or "wasm128+relaxed"). */
typedef void (*WasmTernaryPairs)(const uint8_t *groups, int nblocks, int ngroups, int group_bytes,
                                 const int8_t *x, int padded, int npairs, int32_t *acc, int row_bytes,
                                 const int32_t *xsums);
void kernels_wasm_set_ternary_pairs(WasmTernaryPairs fn);

#endif
