/* parallel.c — a parallel for over contiguous ranges, for the library's batch work
 * (predictions, diagnostics). Ranges depend only on n and the thread count, and each index
 * is handled by exactly one call, so results that are written per index do not depend on
 * the thread count. */
#include <pthread.h>

#include "internal.h"

enum { MAX_THREADS = 256 };

typedef struct {
    bnn_range_fn fn;
    void *ctx;
    size_t lo, hi;
    bnn_status st;
} range_job;

static void *run_range(void *arg)
{
    range_job *j = arg;
    j->st = j->fn(j->ctx, j->lo, j->hi);
    return NULL;
}

bnn_status bnn_parallel_for(size_t n, int threads, bnn_range_fn fn, void *ctx)
{
    if (n == 0)
        return BNN_OK;
    if (threads < 1)
        threads = 1;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((size_t)threads > n)
        threads = (int)n;
    range_job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++)
        jobs[t] = (range_job){fn, ctx, n * (size_t)t / (size_t)threads,
                              n * (size_t)(t + 1) / (size_t)threads, BNN_OK};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, run_range, &jobs[t]) == 0;
    run_range(&jobs[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            run_range(&jobs[t]);   /* a thread that could not start: its range runs here */
    }
    for (int t = 0; t < threads; t++)
        if (jobs[t].st)
            return jobs[t].st;
    return BNN_OK;
}
