/* threadpool.c: parallel_for over a persistent pool of pthreads. A job is
 * cut into a few chunks per thread that every thread, the caller included,
 * takes from a shared counter; waits poll for ~20 us, then yield the core
 * (so that a descheduled thread, or another process, gets it), and an idle
 * worker sleeps after ~1 ms. Under CPU contention a late thread therefore
 * delays a job by at most one chunk, not by its whole share or a time slice
 * of polling. Which thread runs which chunk changes no result: every job's
 * ranges are computed independently. */
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
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
/* Chunks per thread a job is cut into: the threads (the caller included)
 * take chunks from a shared counter, so a thread that the OS has descheduled
 * holds up at most the chunk it took, and the others do the rest. */
#define CHUNKS_PER_THREAD 4
/* How long a thread polls before it yields its core, and how long an idle
 * worker keeps looking for the next job before it sleeps (decode posts a
 * job every ~10-50 us; a sleep/wake round trip costs about as much). */
#define SPIN_NS 20000
#define IDLE_YIELD_NS 1000000

/* The job of the current generation. Its fields are written before the
 * ticket that announces it and read only by a thread that has claimed one
 * of its chunks (the job cannot end, and be replaced, while a chunk of it
 * is unfinished). */
typedef struct Job {
    ParallelFn fn;
    void *ctx;
    int n, align, chunks;
} Job;

/* ticket: generation (32 bits) | chunks (16) | next chunk to take (16) */
#define TICKET(gen, chunks, next) (((uint64_t)(gen) << 32) | ((uint64_t)(chunks) << 16) | (uint64_t)(next))
#define TICKET_GEN(t) ((uint32_t)((t) >> 32))
#define TICKET_CHUNKS(t) ((int)(((t) >> 16) & 0xFFFF))
#define TICKET_NEXT(t) ((int)((t)&0xFFFF))

static struct {
    int threads;                  /* including the caller */
    pthread_t workers[MAX_THREADS];
    Job job;
    _Atomic uint64_t ticket;
    atomic_int done;              /* chunks of the current job finished */
    atomic_int sleepers;          /* workers asleep on `wake` */
    atomic_int stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
} pool = {1, {0}, {0, 0, 0, 0, 0}, 0, 0, 0, 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void run_chunk(const Job *job, int chunk, int worker) {
    /* split [0, n) into `chunks` ranges aligned to job->align */
    const int units = (job->n + job->align - 1) / job->align;
    const int begin = (int)((long long)units * chunk / job->chunks) * job->align;
    int end = (int)((long long)units * (chunk + 1) / job->chunks) * job->align;
    if (end > job->n) end = job->n;
    if (begin < end) job->fn(job->ctx, begin, end, worker);
}

/* Takes and runs chunks of generation gen until none is left. */
static void take_chunks(uint32_t gen, int worker) {
    for (;;) {
        uint64_t t = atomic_load_explicit(&pool.ticket, memory_order_acquire);
        if (TICKET_GEN(t) != gen || TICKET_NEXT(t) >= TICKET_CHUNKS(t)) return;
        if (!atomic_compare_exchange_weak_explicit(&pool.ticket, &t, t + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        const Job job = pool.job; /* stable: chunk TICKET_NEXT(t) of it is ours and unfinished */
        run_chunk(&job, TICKET_NEXT(t), worker);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
}

static void *worker_main(void *arg) {
    const int id = (int)(long)arg;
    uint32_t seen = TICKET_GEN(atomic_load(&pool.ticket));
    for (;;) {
        /* wait for a new generation: poll, then yield the core, then sleep */
        const uint64_t t0 = now_ns();
        uint32_t gen;
        for (long polls = 0;; polls++) {
            if (atomic_load(&pool.stop)) return NULL;
            gen = TICKET_GEN(atomic_load_explicit(&pool.ticket, memory_order_acquire));
            if (gen != seen) break;
            if ((polls & 63) != 63) {
                cpu_relax();
                continue;
            }
            const uint64_t waited = now_ns() - t0;
            if (waited < SPIN_NS) continue;
            if (waited < IDLE_YIELD_NS) {
                sched_yield();
                continue;
            }
            pthread_mutex_lock(&pool.lock);
            atomic_fetch_add(&pool.sleepers, 1);
            while (TICKET_GEN(atomic_load(&pool.ticket)) == seen && !atomic_load(&pool.stop))
                pthread_cond_wait(&pool.wake, &pool.lock);
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.lock);
        }
        seen = gen;
        take_chunks(gen, id);
    }
}

void parallel_for(int n, int align, ParallelFn fn, void *ctx) {
    if (n <= 0) return;
    if (align < 1) align = 1;
    const int units = (n + align - 1) / align;
    int chunks = pool.threads * CHUNKS_PER_THREAD;
    if (chunks > units) chunks = units;
    if (pool.threads <= 1 || chunks <= 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    const uint32_t gen = TICKET_GEN(atomic_load(&pool.ticket)) + 1;
    pool.job = (Job){fn, ctx, n, align, chunks};
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    atomic_store(&pool.ticket, TICKET(gen, chunks, 0)); /* publishes the job (seq_cst, see the sleepers) */
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    take_chunks(gen, 0);
    /* the chunks others took: poll briefly, then yield the core to whoever holds one */
    const uint64_t t0 = now_ns();
    for (long polls = 0; atomic_load_explicit(&pool.done, memory_order_acquire) < chunks; polls++) {
        if ((polls & 63) != 63) cpu_relax();
        else if (now_ns() - t0 > SPIN_NS) sched_yield();
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
