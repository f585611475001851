/* rng.c: normal variates for weight initialisation. */
#include <math.h>

#include "rng.h"

float rng_next_normal(BittRng *r) {
    /* Box-Muller with u1 in (0, 1]. */
    double u1 = ((double)(rng_next_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(rng_next_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
