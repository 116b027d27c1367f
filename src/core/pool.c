/* pool.c — the library's one thread pool: tasks taken in turn by worker threads, for the
 * chains of a run and for the batch work of predictions and diagnostics. A task's result
 * depends only on its index, so no result depends on the thread count. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <cblas.h>

#include "core.h"

enum { MAX_THREADS = 256 };

typedef struct {
    bnn_task_fn fn;
    void *ctx;
    size_t n;
    atomic_size_t next;
    atomic_int finished;     /* workers that found no task left */
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        p->fn(p->ctx, i);
    }
    atomic_fetch_add(&p->finished, 1);
    return NULL;
}

int bnn_blas_threads(int n)
{
    int was = openblas_get_num_threads();
    openblas_set_num_threads(n);
    return was;
}

double bnn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void bnn_pool_run(size_t n, int threads, bnn_task_fn fn, void *ctx, bnn_monitor_fn monitor,
                  void *mctx, double interval)
{
    if (threads < 1)
        threads = 1;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((size_t)threads > n)
        threads = n ? (int)n : 1;
    pool p = {fn, ctx, n, 0, 0};
    pthread_t tid[MAX_THREADS];
    /* with a monitor the calling thread watches; without, it is one of the workers */
    int first = monitor ? 0 : 1, started = 0;
    for (int t = first; t < threads; t++, started++)
        if (pthread_create(&tid[started], NULL, worker, &p) != 0)
            break;
    if (started == 0 || !monitor) {
        worker(&p);   /* also where no thread could start: the work runs here */
    } else {
        struct timespec nap = {0, 50 * 1000 * 1000};
        double next = bnn_now() + interval;
        while (atomic_load(&p.finished) < started) {
            nanosleep(&nap, NULL);
            if (bnn_now() >= next && atomic_load(&p.finished) < started) {
                monitor(mctx);
                next = bnn_now() + interval;
            }
        }
    }
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    if (monitor)
        monitor(mctx);
}

typedef struct {
    bnn_range_fn fn;
    void *ctx;
    size_t n, parts;
    bnn_status st[MAX_THREADS];
} ranges;

static void run_range(void *arg, size_t t)
{
    ranges *r = arg;
    r->st[t] = r->fn(r->ctx, r->n * t / r->parts, r->n * (t + 1) / r->parts);
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
    ranges r = {fn, ctx, n, (size_t)threads, {BNN_OK}};
    bnn_pool_run((size_t)threads, threads, run_range, &r, NULL, NULL, 0);
    for (int t = 0; t < threads; t++)
        if (r.st[t])
            return r.st[t];
    return BNN_OK;
}
