/* test_act_math.c: our exp (src/infer/act_math.h) against double-precision
 * exp over the whole range the model uses, SiLU / sigmoid at their edges,
 * and softplus (the forget gate) against log1p(exp(u)). */
#include <math.h>
#include <stdint.h>

#include "../src/infer/act_math.h"
#include "test_util.h"

int main(void) {
    double worst = 0.0, worst_x = 0.0;
    /* every 1/1024 from -87 to 88, plus the points between */
    for (int32_t i = -87 * 1024; i <= 88 * 1024; i++) {
        for (int frac = 0; frac < 3; frac++) {
            const float x = (float)i / 1024.0f + (float)frac * 0.000317f;
            if (x > 88.0f) continue;
            const double want = exp((double)x), got = (double)act_expf(x);
            const double rel = fabs(got - want) / want;
            if (rel > worst) {
                worst = rel;
                worst_x = x;
            }
        }
    }
    printf("act_expf: worst relative error %.3g at x = %.6f\n", worst, worst_x);
    CHECK(worst < 4e-7);
    CHECK(act_expf(0.0f) == 1.0f);
    /* clamped ends: finite, no overflow to inf, no NaN */
    CHECK(isfinite(act_expf(1000.0f)) && act_expf(1000.0f) > 1e38f);
    CHECK(act_expf(-1000.0f) >= 0.0f && act_expf(-1000.0f) < 1e-37f);
    CHECK(act_silu(0.0f) == 0.0f);
    CHECK(fabsf(act_silu(30.0f) - 30.0f) < 1e-5f);
    CHECK(fabsf(act_silu(-30.0f)) < 1e-10f);
    CHECK(act_sigmoid(0.0f) == 0.5f);
    CHECK(fabsf(act_sigmoid(20.0f) - 1.0f) < 1e-7f);
    CHECK(act_sigmoid(-100.0f) >= 0.0f && act_sigmoid(-100.0f) < 1e-30f);
    double worst_silu = 0.0;
    for (int i = -20000; i <= 20000; i++) {
        const float x = (float)i / 1000.0f;
        const double want = (double)x / (1.0 + exp(-(double)x));
        const double err = fabs((double)act_silu(x) - want) / (fabs(want) + 1e-30);
        if (want != 0.0 && err > worst_silu) worst_silu = err;
    }
    printf("act_silu: worst relative error %.3g on [-20, 20]\n", worst_silu);
    CHECK(worst_silu < 1e-6);
    /* softplus (the forget gate's l = -softplus(u)): relative error over the
     * range of gate pre-activations, finite at the ends */
    double worst_sp = 0.0, worst_sp_u = 0.0;
    for (int i = -40000; i <= 40000; i++) {
        const float u = (float)i / 1000.0f;
        const double want = log1p(exp((double)u)), got = (double)act_softplus(u);
        const double err = fabs(got - want) / want;
        if (err > worst_sp) {
            worst_sp = err;
            worst_sp_u = u;
        }
    }
    printf("act_softplus: worst relative error %.3g at u = %.3f on [-40, 40]\n", worst_sp, worst_sp_u);
    CHECK(worst_sp < 1e-6);
    CHECK(act_softplus(200.0f) == 200.0f && act_softplus(-200.0f) >= 0.0f && act_softplus(-200.0f) < 1e-30f);
    return test_main_end("test_act_math");
}
