/* threadpool.h: a small pool of worker threads for splitting kernels (rows
 * of a matrix product, TTT heads) over cores. Workers spin briefly between
 * jobs (decode issues dozens of small jobs per token), then sleep. Without
 * pthreads (the wasm build) everything runs on the calling thread. */
#ifndef BITT_THREADPOOL_H
#define BITT_THREADPOOL_H

/* Runs fn(ctx, begin, end, worker) over [0, n) split into contiguous ranges,
 * one per thread (worker = 0 .. threads-1; the caller is worker 0). Ranges
 * are rounded to multiples of `align`. Returns when all are done. */
typedef void (*ParallelFn)(void *ctx, int begin, int end, int worker);
void parallel_for(int n, int align, ParallelFn fn, void *ctx);

/* Sets the number of threads (1 = no workers; 0 = all cores). Not to be
 * called while a parallel_for runs. Returns the number in effect. */
int threads_set(int n);
int threads_get(void);
/* Cores this process may use. */
int threads_available(void);

#endif
