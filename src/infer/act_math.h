/* act_math.h: exp, SiLU, sigmoid and softplus for the forward pass, with our own exp
 * (range reduction to 2^n e^r, |r| <= ln2/2, and a degree-6 polynomial in r;
 * max relative error ~2e-7 against double-precision exp). Plain branch-free
 * C: the compiler vectorises the loops that use it, and the result is the
 * same bits on every platform (glibc, wasm), unlike libm's expf. */
#ifndef BITT_ACT_MATH_H
#define BITT_ACT_MATH_H

#include <stdint.h>
#include <string.h>

static inline float act_expf(float x) {
    /* e^x overflows float above ~88.72 and is 0 (to float) below ~-103 */
    x = x < 88.0f ? x : 88.0f;
    x = x > -87.0f ? x : -87.0f;
    /* n = round(x / ln 2): adding 1.5 * 2^23 leaves n in the low mantissa
     * bits (round to nearest even) without a float -> int conversion */
    const float magic = 12582912.0f;
    const float fn = x * 1.44269504088896341f + magic;
    const float nf = fn - magic;
    uint32_t fn_bits;
    memcpy(&fn_bits, &fn, sizeof fn_bits);
    /* r = x - n ln 2, with ln 2 in two pieces for precision */
    float r = x - nf * 0.693359375f;
    r = r - nf * -2.12194440e-4f;
    /* e^r = 1 + r + r^2 (1/2 + r/6 + ...), coefficients fitted on [-ln2/2, ln2/2] */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    /* times 2^n through the exponent bits (n in [-126, 127] after the clamp):
     * the low bits of fn_bits are n + 2^22 */
    const uint32_t bits = (fn_bits - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* log(1 + y) for y in [0, 1], as 2 atanh(s) with s = y / (2 + y) <= 1/3 and
 * its series to s^17 (relative error ~1e-7, no cancellation for small y). */
static inline float act_log1p_unit(float y) {
    const float s = y / (2.0f + y), s2 = s * s;
    float p = 1.0f / 17.0f;
    p = p * s2 + 1.0f / 15.0f;
    p = p * s2 + 1.0f / 13.0f;
    p = p * s2 + 1.0f / 11.0f;
    p = p * s2 + 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    p = p * s2 + 1.0f;
    return 2.0f * s * p;
}

/* softplus(u) = log(1 + e^u) = max(u, 0) + log(1 + e^-|u|): never overflows */
static inline float act_softplus(float u) {
    const float a = u < 0 ? -u : u;
    return (u > 0 ? u : 0.0f) + act_log1p_unit(act_expf(-a));
}

/* x sigmoid(x) */
static inline float act_silu(float x) { return x / (1.0f + act_expf(-x)); }

/* 1 / (1 + e^-x) */
static inline float act_sigmoid(float x) { return 1.0f / (1.0f + act_expf(-x)); }

#endif
