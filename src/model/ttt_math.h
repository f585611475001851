/* ttt_math.h: the inner model of TTT-Linear for one head (SPEC 1.2):
 * z = k W + c, the inner LayerNorm and the gradient g = dloss/dz of
 * loss = 1/2 |LN(z) - (v - k)|^2. Shared by the dual and the primal form.
 * All vectors are rows of f floats; W is f x f, row m = input component m. */
#ifndef BITT_TTT_MATH_H
#define BITT_TTT_MATH_H

/* z = x W + c */
static inline void ttt_vec_mat(const float *x, const float *W, const float *c, int f, float *z) {
    for (int j = 0; j < f; j++) z[j] = c ? c[j] : 0.0f;
    for (int m = 0; m < f; m++) {
        const float xm = x[m];
        const float *row = W + (size_t)m * f;
        for (int j = 0; j < f; j++) z[j] += xm * row[j];
    }
}

/* xhat = (z - mean) / sigma; returns sigma = sqrt(var + 1e-6). */
static inline float ttt_normalize(const float *z, int f, float *xhat) {
    float mean = 0.0f;
    for (int j = 0; j < f; j++) mean += z[j];
    mean /= (float)f;
    float var = 0.0f;
    for (int j = 0; j < f; j++) var += (z[j] - mean) * (z[j] - mean);
    var /= (float)f;
    float sigma = sqrtf(var + 1e-6f);
    for (int j = 0; j < f; j++) xhat[j] = (z[j] - mean) / sigma;
    return sigma;
}

/* g = dloss/dz at the state (W, c) for the token (k, v). tmp: 2 f floats. */
static inline void ttt_inner_grad(const float *W, const float *c, const float *k, const float *v,
                                  const float *ln_w, const float *ln_b, int f, float *g,
                                  float *tmp) {
    float *z = tmp, *xhat = tmp + f;
    ttt_vec_mat(k, W, c, f, z);
    float sigma = ttt_normalize(z, f, xhat);
    float mean_e = 0.0f, mean_ex = 0.0f;
    for (int j = 0; j < f; j++) {
        float zh = ln_w[j] * xhat[j] + ln_b[j];
        float e = ln_w[j] * (zh - (v[j] - k[j]));
        g[j] = e;
        mean_e += e;
        mean_ex += e * xhat[j];
    }
    mean_e /= (float)f;
    mean_ex /= (float)f;
    for (int j = 0; j < f; j++) g[j] = (g[j] - mean_e - xhat[j] * mean_ex) / sigma;
}

/* out = q + LN(z); z is overwritten. */
static inline void ttt_output(const float *q, float *z, const float *ln_w, const float *ln_b,
                              int f, float *out) {
    ttt_normalize(z, f, z);
    for (int j = 0; j < f; j++) out[j] = q[j] + ln_w[j] * z[j] + ln_b[j];
}

#endif
