/* test_threadpool.c: parallel_for covers every index exactly once, with
 * aligned ranges, for any thread count; a job posted right after the
 * workers start is not lost (a race that once hung the CLI); switching the
 * thread count back and forth works. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "util/threadpool.h"

typedef struct Cover {
    atomic_int *hits;
    int align, bad_align;
} Cover;

static void mark(void *ctx, int begin, int end, int worker) {
    Cover *c = ctx;
    (void)worker;
    if (begin % c->align != 0) c->bad_align = 1;
    for (int i = begin; i < end; i++) atomic_fetch_add(&c->hits[i], 1);
}

int main(void) {
    atomic_int *hits = malloc(5000 * sizeof *hits);
    int counts[] = {1, 2, 3, 4, 1, 8, 2};
    for (size_t k = 0; k < sizeof counts / sizeof *counts; k++) {
        int got = threads_set(counts[k]);
        CHECK(got >= 1 && got <= counts[k]);
        CHECK(threads_get() == got);
        for (int rep = 0; rep < 200; rep++) {
            int n = 1 + (rep * 37) % 4999, align = 1 + rep % 5;
            for (int i = 0; i < n; i++) atomic_store(&hits[i], 0);
            Cover c = {hits, align, 0};
            parallel_for(n, align, mark, &c);
            int ok = !c.bad_align;
            for (int i = 0; i < n; i++) ok &= atomic_load(&hits[i]) == 1;
            CHECK_MSG(ok, "threads %d, n %d, align %d", got, n, align);
        }
    }
    parallel_for(0, 1, mark, NULL); /* nothing to do: no call */
    CHECK(threads_set(0) == threads_available());
    threads_set(1);
    free(hits);
    return test_main_end("test_threadpool");
}
