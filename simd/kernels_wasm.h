/* kernels_wasm.h: the WebAssembly SIMD128 backend (built only when the
 * compiler targets wasm with -msimd128; chosen at build time). */
#ifndef BITT_KERNELS_WASM_H
#define BITT_KERNELS_WASM_H

#include "../src/kernels/kernels.h"

/* The SIMD128 kernel set ("wasm128"). */
const Kernels *kernels_wasm128(void);

#endif
