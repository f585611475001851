/* rng.h: the project's random number generator. Integer-only (xorshift64*
 * seeded through splitmix64), so the stream for a seed is the same on every
 * platform: native, wasm, any compiler. */
#ifndef BITT_RNG_H
#define BITT_RNG_H

#include <stdint.h>

typedef struct BittRng {
    uint64_t state;
} BittRng;

static inline void rng_seed(BittRng *r, uint64_t seed) {
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    r->state = z ? z : 0x2545F4914F6CDD1Dull;
}

static inline uint64_t rng_next_u64(BittRng *r) {
    uint64_t x = r->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, 1) with 24 random bits (exact in float). */
static inline float rng_next_float(BittRng *r) {
    return (float)(rng_next_u64(r) >> 40) * (1.0f / 16777216.0f);
}

/* Standard normal (Box-Muller); used for initialisation only. */
float rng_next_normal(BittRng *r);

#endif
