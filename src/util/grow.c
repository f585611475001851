/* grow.c: doubling growth of arrays (see grow.h). */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int grow_array(void *array_ptr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2) return -1;
        c *= 2;
    }
    if (elem && c > SIZE_MAX / elem) return -1;
    void *old;
    memcpy(&old, array_ptr, sizeof old);
    void *p = realloc(old, c * elem);
    if (!p) return -1;
    memcpy(array_ptr, &p, sizeof p);
    *cap = c;
    return 0;
}
