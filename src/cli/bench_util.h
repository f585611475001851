/* bench_util.h: what `bitt bench` reads off the process and the numbers it
 * prints: current and peak resident memory, file sizes, medians. */
#ifndef BITT_CLI_BENCH_UTIL_H
#define BITT_CLI_BENCH_UTIL_H

#include <stddef.h>

/* Resident set size now, in bytes (0 if the platform does not tell). */
size_t bench_rss_bytes(void);
/* Peak resident set size of the process so far, in bytes. */
size_t bench_peak_rss_bytes(void);
/* Size of a file, or the sum of the regular files in a directory (one
 * level: a checkpoint directory); -1 if it cannot be read. */
long long bench_path_bytes(const char *path);
/* Median of n values (sorts v in place). */
double bench_median(double *v, int n);

#endif
