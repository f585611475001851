/* threadpool.c: parallel_for over a persistent pool of pthreads. */
#include "threadpool.h"

#if defined(__EMSCRIPTEN__) || defined(BITT_NO_THREADS)

void parallel_for(int n, int align, ParallelFn fn, void *ctx) {
    (void)align;
    if (n > 0) fn(ctx, 0, n, 0);
}
int threads_set(int n) { (void)n; return 1; }
int threads_get(void) { return 1; }
int threads_available(void) { return 1; }

#else

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define MAX_THREADS 64
/* Polls of the job counter before a waiting worker sleeps (about 1-2 ms):
 * the gaps between parallel products in a decode step are tens of
 * microseconds, far shorter than a sleep/wake round trip. */
#define SPIN_ROUNDS 1000000

typedef struct Job {
    ParallelFn fn;
    void *ctx;
    int n, align, parts;
} Job;

static struct {
    int threads;                  /* including the caller */
    pthread_t workers[MAX_THREADS];
    Job job;
    atomic_uint generation;       /* bumped for every job */
    atomic_int pending;           /* workers still running the current job */
    atomic_int stop;
    unsigned start_generation;    /* generation when the workers were started */
    pthread_mutex_t lock;
    pthread_cond_t wake;
} pool = {1, {0}, {0, 0, 0, 0, 0}, 0, 0, 0, 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void run_part(const Job *job, int part) {
    /* split [0, n) into `parts` ranges aligned to job->align */
    int units = (job->n + job->align - 1) / job->align;
    int begin = (int)((long long)units * part / job->parts) * job->align;
    int end = (int)((long long)units * (part + 1) / job->parts) * job->align;
    if (end > job->n) end = job->n;
    if (begin < end) job->fn(job->ctx, begin, end, part);
}

static void *worker_main(void *arg) {
    const int id = (int)(long)arg;
    /* not the current value: a job may already have been posted before this
     * thread got to run, and it must not be missed */
    unsigned seen = pool.start_generation;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
            if (atomic_load(&pool.stop)) return NULL;
            if (++spins > SPIN_ROUNDS) {
                pthread_mutex_lock(&pool.lock);
                while (atomic_load(&pool.generation) == seen && !atomic_load(&pool.stop))
                    pthread_cond_wait(&pool.wake, &pool.lock);
                pthread_mutex_unlock(&pool.lock);
                spins = 0;
            }
        }
        seen = gen;
        Job job = pool.job;
        if (id < job.parts) run_part(&job, id);
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
    }
}

void parallel_for(int n, int align, ParallelFn fn, void *ctx) {
    if (n <= 0) return;
    if (align < 1) align = 1;
    int units = (n + align - 1) / align;
    int parts = pool.threads < units ? pool.threads : units;
    if (parts <= 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    pool.job = (Job){fn, ctx, n, align, parts};
    atomic_store(&pool.pending, pool.threads - 1);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    run_part(&pool.job, 0);
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) {
    }
}

static void stop_workers(void) {
    atomic_store(&pool.stop, 1);
    pthread_mutex_lock(&pool.lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 1; i < pool.threads; i++) pthread_join(pool.workers[i], NULL);
    atomic_store(&pool.stop, 0);
    pool.threads = 1;
}

int threads_available(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

int threads_set(int n) {
    if (n <= 0) n = threads_available();
    if (n > MAX_THREADS) n = MAX_THREADS;
    if (n == pool.threads) return n;
    stop_workers();
    pool.start_generation = atomic_load(&pool.generation);
    int started = 1;
    for (int i = 1; i < n; i++) {
        if (pthread_create(&pool.workers[i], NULL, worker_main, (void *)(long)i) != 0) break;
        started++;
    }
    pool.threads = started;
    return started;
}

int threads_get(void) { return pool.threads; }

#endif
