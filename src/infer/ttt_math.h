/* ttt_math.h: the inner model of TTT-Linear for one head (SPEC 1.2):
 * z = k W + c, the inner LayerNorm and the gradient g = dloss/dz of
 * loss = 1/2 |LN(z) - (v - k)|^2. Shared by the dual and the primal form.
 * All vectors are rows of f floats; W is f x f, row m = input component m. */
#ifndef BITT_TTT_MATH_H
#define BITT_TTT_MATH_H

/* Inlined into their callers, so they are compiled for whichever CPU
 * target the caller's clone is built for (see kernels/target_clones.h).
 * WebAssembly has no clones, and there they stay separate functions: V8
 * compiled the one huge inlined loop nest of the dual form more slowly in
 * an A/B of the two builds (same results). TTT_PROFILE_NOINLINE does the
 * same elsewhere, so that a profile shows each helper. */
#if defined(TTT_PROFILE_NOINLINE) || defined(__wasm__)
#define TTT_INLINE static __attribute__((noinline, unused))
#elif defined(__GNUC__) || defined(__clang__)
#define TTT_INLINE static inline __attribute__((always_inline))
#else
#define TTT_INLINE static inline
#endif

/* Sums in a fixed order over 8 lanes (lane k takes elements k, k+8, ...,
 * then a fixed tree): the compiler can keep each lane in a vector register,
 * so the reduction is not one long chain of dependent adds, and the result
 * is the same bits with or without vectorisation, natively and in wasm. */
TTT_INLINE float ttt_lanes_total(const float acc[8]) {
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* sum_j a[j] b[j] */
TTT_INLINE float ttt_dot(const float *a, const float *b, int f) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= f; j += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[j + k] * b[j + k];
    float s = ttt_lanes_total(acc);
    for (; j < f; j++) s += a[j] * b[j];
    return s;
}

/* sum_j a[j] */
TTT_INLINE float ttt_sum(const float *a, int f) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= f; j += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[j + k];
    float s = ttt_lanes_total(acc);
    for (; j < f; j++) s += a[j];
    return s;
}

/* sum_j (a[j] - mu)^2 */
TTT_INLINE float ttt_sum_sq_dev(const float *a, float mu, int f) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= f; j += 8)
        for (int k = 0; k < 8; k++) acc[k] += (a[j + k] - mu) * (a[j + k] - mu);
    float s = ttt_lanes_total(acc);
    for (; j < f; j++) s += (a[j] - mu) * (a[j] - mu);
    return s;
}

/* z = x W + c. Columns in blocks of 32 kept in registers over the whole
 * sum; each z[j] still adds c[j], x[0] W[0][j], x[1] W[1][j], ... in order. */
TTT_INLINE void ttt_vec_mat(const float *x, const float *W, const float *c, int f, float *z) {
    int j0 = 0;
    for (; j0 + 32 <= f; j0 += 32) {
        float acc[32];
        for (int k = 0; k < 32; k++) acc[k] = c ? c[j0 + k] : 0.0f;
        for (int m = 0; m < f; m++) {
            const float xm = x[m];
            const float *row = W + (size_t)m * f + j0;
            for (int k = 0; k < 32; k++) acc[k] += xm * row[k];
        }
        for (int k = 0; k < 32; k++) z[j0 + k] = acc[k];
    }
    for (int j = j0; j < f; j++) {
        float acc = c ? c[j] : 0.0f;
        for (int m = 0; m < f; m++) acc += x[m] * W[(size_t)m * f + j];
        z[j] = acc;
    }
}

/* Z[t] = X[t] W + c for n rows (X rows `sx` apart, Z rows f apart): the same
 * sums, in the same order, as ttt_vec_mat row by row; 4 rows x 16 columns
 * are kept in registers so each loaded W value serves 4 rows. */
TTT_INLINE void ttt_rows_mat(const float *X, int sx, const float *W, const float *c, int n, int f,
                             float *Z) {
    int t0 = 0;
    for (; t0 + 4 <= n; t0 += 4) {
        const float *x0 = X + (size_t)t0 * sx, *x1 = x0 + sx, *x2 = x1 + sx, *x3 = x2 + sx;
        int j0 = 0;
        for (; j0 + 16 <= f; j0 += 16) {
            float a0[16], a1[16], a2[16], a3[16];
            for (int k = 0; k < 16; k++) a0[k] = a1[k] = a2[k] = a3[k] = c ? c[j0 + k] : 0.0f;
            for (int m = 0; m < f; m++) {
                const float *row = W + (size_t)m * f + j0;
                const float v0 = x0[m], v1 = x1[m], v2 = x2[m], v3 = x3[m];
                for (int k = 0; k < 16; k++) {
                    a0[k] += v0 * row[k];
                    a1[k] += v1 * row[k];
                    a2[k] += v2 * row[k];
                    a3[k] += v3 * row[k];
                }
            }
            float *z = Z + (size_t)t0 * f + j0;
            for (int k = 0; k < 16; k++) {
                z[k] = a0[k];
                z[f + k] = a1[k];
                z[2 * f + k] = a2[k];
                z[3 * f + k] = a3[k];
            }
        }
        for (int j = j0; j < f; j++)
            for (int t = 0; t < 4; t++) {
                float acc = c ? c[j] : 0.0f;
                for (int m = 0; m < f; m++) acc += X[(size_t)(t0 + t) * sx + m] * W[(size_t)m * f + j];
                Z[(size_t)(t0 + t) * f + j] = acc;
            }
    }
    for (; t0 < n; t0++) ttt_vec_mat(X + (size_t)t0 * sx, W, c, f, Z + (size_t)t0 * f);
}

/* A[m][j] = decay * A[m][j] + sum_i (s_i x_i[m]) g_i[j] over n rows x_i, g_i
 * (strides sx, f): the decay first, then the terms in the order i = 0, 1,
 * ... (decay 1 skips the multiply), in one pass over A. */
TTT_INLINE void ttt_decay_add_outer(float *A, float decay, const float *s, const float *x, int sx, const float *g,
                                    int n, int f) {
    for (int m = 0; m < f; m++) {
        float *row = A + (size_t)m * f;
        int j0 = 0;
        for (; j0 + 32 <= f; j0 += 32) {
            float acc[32];
            if (decay != 1.0f)
                for (int k = 0; k < 32; k++) acc[k] = decay * row[j0 + k];
            else
                for (int k = 0; k < 32; k++) acc[k] = row[j0 + k];
            for (int i = 0; i < n; i++) {
                const float l = s[i] * x[(size_t)i * sx + m];
                const float *gi = g + (size_t)i * f + j0;
                for (int k = 0; k < 32; k++) acc[k] += l * gi[k];
            }
            for (int k = 0; k < 32; k++) row[j0 + k] = acc[k];
        }
        for (int j = j0; j < f; j++) {
            if (decay != 1.0f) row[j] *= decay;
            for (int i = 0; i < n; i++) row[j] += (s[i] * x[(size_t)i * sx + m]) * g[(size_t)i * f + j];
        }
    }
}

/* A[m][j] += sum_i (s_i x_i[m]) g_i[j] (ttt_decay_add_outer without a decay). */
TTT_INLINE void ttt_add_outer(float *A, const float *s, const float *x, int sx, const float *g, int n, int f) {
    ttt_decay_add_outer(A, 1.0f, s, x, sx, g, n, f);
}

/* xhat = (z - mean) / sigma; returns sigma = sqrt(var + 1e-6). */
TTT_INLINE float ttt_normalize(const float *z, int f, float *xhat) {
    const float mean = ttt_sum(z, f) / (float)f;
    const float var = ttt_sum_sq_dev(z, mean, f) / (float)f;
    float sigma = sqrtf(var + 1e-6f);
    for (int j = 0; j < f; j++) xhat[j] = (z[j] - mean) / sigma;
    return sigma;
}

/* g = dloss/dz for the token (k, v) given z = k W + c. xhat: f floats of scratch. */
TTT_INLINE void ttt_inner_grad_from_z(const float *z, const float *k, const float *v, const float *ln_w,
                                      const float *ln_b, int f, float *g, float *xhat) {
    float sigma = ttt_normalize(z, f, xhat);
    for (int j = 0; j < f; j++) {
        float zh = ln_w[j] * xhat[j] + ln_b[j];
        g[j] = ln_w[j] * (zh - (v[j] - k[j]));
    }
    const float mean_e = ttt_sum(g, f) / (float)f;
    const float mean_ex = ttt_dot(g, xhat, f) / (float)f;
    for (int j = 0; j < f; j++) g[j] = (g[j] - mean_e - xhat[j] * mean_ex) / sigma;
}

/* g = dloss/dz at the state (W, c) for the token (k, v). tmp: 2 f floats. */
TTT_INLINE void ttt_inner_grad(const float *W, const float *c, const float *k, const float *v,
                               const float *ln_w, const float *ln_b, int f, float *g, float *tmp) {
    ttt_vec_mat(k, W, c, f, tmp);
    ttt_inner_grad_from_z(tmp, k, v, ln_w, ln_b, f, g, tmp + f);
}

/* out = q + LN(z); z is overwritten. */
TTT_INLINE void ttt_output(const float *q, float *z, const float *ln_w, const float *ln_b,
                              int f, float *out) {
    ttt_normalize(z, f, z);
    for (int j = 0; j < f; j++) out[j] = q[j] + ln_w[j] * z[j] + ln_b[j];
}

#endif
