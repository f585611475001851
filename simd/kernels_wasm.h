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
 * nblocks blocks of 64 codes each); x: activation rows `padded` bytes apart.
 * For token pair p and group g it writes 8 sums of c x (codes c = w + 1) at
 * out + 8 (p ngroups + g): [half][token][row of the half], rows 2 half + 0..1.
 * NULL (the default) keeps the SIMD128 kernel; the kernel set's name says
 * which runs ("wasm128" or "wasm128+relaxed"). */
typedef void (*WasmTernaryPairs)(const uint8_t *groups, int nblocks, int ngroups, int group_bytes,
                                 const int8_t *x, int padded, int npairs, int32_t *out);
void kernels_wasm_set_ternary_pairs(WasmTernaryPairs fn);

#endif
