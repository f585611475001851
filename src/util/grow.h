/* grow.h: the one helper behind every array in the project that grows as
 * it fills (token ids, tensors of a writer, merges, text, plot points):
 * capacity doubles, so n appends cost O(n) in all. */
#ifndef BITT_GROW_H
#define BITT_GROW_H

#include <stddef.h>

/* Makes room for at least `need` elements of `elem` bytes in the array
 * *(void **)array_ptr whose capacity is *cap elements: the capacity doubles
 * (at least to `need`, at least to 16). Returns 0, or -1 when out of memory
 * or when the size would overflow (the array is then left as it was). */
int grow_array(void *array_ptr, size_t *cap, size_t need, size_t elem);

#endif
