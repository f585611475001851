/* kernels_select.c: picks the kernel backend at run time from what the CPU
 * supports (never from compile-time -march flags). */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#ifdef BITT_HAVE_AVX2
#include "../../simd/kernels_avx2.h"
#endif

const Kernels *kernels_by_name(const char *name) {
    if (strcmp(name, "scalar") == 0) return kernels_scalar();
#ifdef BITT_HAVE_AVX2
    if (strcmp(name, "avx2") == 0) return cpu_has_avx2_fma() ? kernels_avx2() : NULL;
    if (strcmp(name, "dense-f32") == 0) return cpu_has_avx2_fma() ? kernels_dense_f32() : NULL;
#endif
    return NULL;
}

const Kernels *kernels_best(void) {
    const char *forced = getenv("BITT_KERNELS");
    if (forced && *forced) {
        const Kernels *k = kernels_by_name(forced);
        if (k) return k;
    }
#ifdef BITT_HAVE_AVX2
    if (cpu_has_avx2_fma()) return kernels_avx2();
#endif
    return kernels_scalar();
}
