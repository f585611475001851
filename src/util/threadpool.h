/* threadpool.h: a small pool of worker threads for splitting kernels (rows
 * of a matrix product, TTT heads) over cores, built to stay fast when other
 * processes share the CPU (threadpool.c). Without pthreads (the wasm build)
 * everything runs on the calling thread. */
#ifndef BITT_THREADPOOL_H
#define BITT_THREADPOOL_H

/* Runs fn(ctx, begin, end, worker) over [0, n) split into contiguous ranges
 * (a few per thread), each run by one thread: worker = 0 .. threads-1 names
 * the thread (the caller is 0), so per-worker scratch is safe; no two calls
 * with one worker id run at once. Ranges are rounded to multiples of
 * `align`. Returns when all are done. */
typedef void (*ParallelFn)(void *ctx, int begin, int end, int worker);
void parallel_for(int n, int align, ParallelFn fn, void *ctx);

/* Sets the number of threads (1 = no workers; 0 = all cores). Not to be
 * called while a parallel_for runs. Returns the number in effect. */
int threads_set(int n);
int threads_get(void);
/* Cores this process may use. */
int threads_available(void);

#endif
