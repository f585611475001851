/* kernels_select.c: picks the kernel backend at run time from what the CPU
 * supports (never from compile-time -march flags); in a wasm build with
 * SIMD128 the SIMD128 backend is chosen at build time. */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#ifdef BITT_HAVE_AVX2
#include "../../simd/kernels_avx2.h"
#endif
#if defined(__wasm_simd128__)
#include "../../simd/kernels_wasm.h"
#endif

const Kernels *kernels_by_name(const char *name) {
    if (strcmp(name, "scalar") == 0) return kernels_scalar();
#ifdef BITT_HAVE_AVX2
    if (strcmp(name, "avx2") == 0) return cpu_has_avx2_fma() ? kernels_avx2() : NULL;
    if (strcmp(name, "avx512vnni") == 0) return cpu_has_avx512vnni() ? kernels_avx512vnni() : NULL;
    if (strcmp(name, "dense-f32") == 0) return cpu_has_avx2_fma() ? kernels_dense_f32() : NULL;
#endif
#if defined(__wasm_simd128__)
    if (strcmp(name, "wasm128") == 0) return kernels_wasm128();
#endif
    return NULL;
}

const Kernels *kernels_built(int i) {
    const Kernels *all[] = {
        kernels_scalar(),
#ifdef BITT_HAVE_AVX2
        kernels_avx2(), kernels_avx512vnni(), kernels_dense_f32(),
#endif
#if defined(__wasm_simd128__)
        kernels_wasm128(),
#endif
    };
    return i >= 0 && i < (int)(sizeof all / sizeof *all) ? all[i] : NULL;
}

const Kernels *kernels_best(void) {
    const char *forced = getenv("BITT_KERNELS");
    if (forced && *forced) {
        const Kernels *k = kernels_by_name(forced);
        if (k) return k;
    }
#ifdef BITT_HAVE_AVX2
    if (cpu_has_avx512vnni()) return kernels_avx512vnni();
    if (cpu_has_avx2_fma()) return kernels_avx2();
#endif
#if defined(__wasm_simd128__)
    return kernels_wasm128();
#endif
    return kernels_scalar();
}
