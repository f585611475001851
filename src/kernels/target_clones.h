/* target_clones.h: BITT_VECTOR_CLONES marks a hot loop nest of plain C (the
 * TTT inner model) to be compiled twice, for AVX2 and for the baseline, with
 * the copy picked at load by the CPU (GCC/Clang function multiversioning).
 * The loops are element-wise (no reassociation; -ffp-contract=off), so both
 * copies give the same bits. Elsewhere (wasm, other CPUs) it is empty. */
#ifndef BITT_TARGET_CLONES_H
#define BITT_TARGET_CLONES_H

#if defined(__x86_64__) && !defined(__EMSCRIPTEN__) && defined(__has_attribute) && \
    !defined(__SANITIZE_ADDRESS__)
#if __has_attribute(target_clones)
#define BITT_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef BITT_VECTOR_CLONES
#define BITT_VECTOR_CLONES
#endif

#endif
