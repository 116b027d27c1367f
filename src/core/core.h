/* core.h — the library's foundation, below every model, kernel and diagnostic: errors,
 * GSL set-up, vector maths, sorting and quantiles, the thread pool (not public API). */
#ifndef BNNMC_CORE_H
#define BNNMC_CORE_H

#include "bnnmc.h"

#if defined(__GNUC__)
#define BNN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BNN_PRINTF(a, b)
#endif

/* Switches GSL's abort-on-error handler off, once per process (thread-safe); called by
 * the entry points that reach GSL. */
void bnn_gsl_setup(void);

/* FNV-1a, 64 bits, of n bytes at p, continuing from h (BNN_FNV1A_INIT to start): the
 * checkpoints' checksum, pt's lockstep hash. */
#define BNN_FNV1A_INIT 0xcbf29ce484222325ULL
static inline uint64_t bnn_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* Allocates n doubles, zeroed; NULL on failure or overflow. */
double *bnn_zalloc(size_t n);

/* Fills x with n independent N(0, 1) draws from a generator seeded with seed. A separate
 * module so that GSL's randist header (which brings GSL's CBLAS declarations) and OpenBLAS's
 * cblas.h never meet in one file. Non-zero if out of memory. */
int bnn_gaussian_fill(uint64_t seed, double *x, size_t n);

/* In place over n values: a = 1 / (1 + exp(-a)), a = tanh(a); vectorised (vmath.c). */
void bnn_vsigmoid(double *a, size_t n);
void bnn_vtanh(double *a, size_t n);
/* a = exp(a) for a <= 0 (values below -745 give exp(-745), about 5e-324). */
void bnn_vexp(double *a, size_t n);

/* pool.c, the one thread pool. bnn_pool_run calls fn(ctx, i) once for every i in [0, n),
 * on `threads` threads taking the next i in turn. With a monitor, the calling thread calls
 * monitor(mctx) about every interval seconds while tasks run and once more at the
 * end; without, it works too. bnn_parallel_for calls fn(ctx, lo, hi) on contiguous ranges
 * covering [0, n) that depend on n and threads alone, and returns the first failing status. */
typedef void (*bnn_task_fn)(void *ctx, size_t i);
/* Seconds on the monotonic clock. */
double bnn_now(void);
typedef void (*bnn_monitor_fn)(void *mctx);
void bnn_pool_run(size_t n, int threads, bnn_task_fn fn, void *ctx, bnn_monitor_fn monitor,
                  void *mctx, double interval);
/* Sets the number of BLAS threads, returning the previous one: a pass that already runs
 * on the pool's threads calls BLAS on one thread each (more oversubscribe the cores). */
int bnn_blas_threads(int n);
typedef bnn_status (*bnn_range_fn)(void *ctx, size_t lo, size_t hi);
bnn_status bnn_parallel_for(size_t n, int threads, bnn_range_fn fn, void *ctx);

/* order.c: idx receives the permutation that sorts x ascending (a stable radix sort);
 * bnn_sort sorts x in place; both return -1 when out of memory. bnn_select_kth permutes x
 * so that x[k] is the k-th smallest with no larger value before it and no smaller after.
 * bnn_quantile_sorted is R's type-7 quantile of sorted s. */
int bnn_argsort(const double *x, size_t n, size_t *idx);
/* bnn_argsort in the caller's scratch (kbuf 2n keys, ibuf n indices): no allocation. */
void bnn_argsort_ws(const double *x, size_t n, size_t *idx, uint64_t *kbuf, size_t *ibuf);
int bnn_sort(double *x, size_t n);
void bnn_select_kth(double *x, size_t n, size_t k);
double bnn_quantile_sorted(const double *s, size_t n, double p);
/* The order statistics x_(r[q]) (0-based ranks, nr <= 8) of x, exactly, into out; x is
 * left as it was. gather: n doubles of scratch; hist: BNN_ORDER_BUCKETS. -1 (nothing
 * done) when x holds a NaN or an infinity, or one value only: select instead. */
enum { BNN_ORDER_BUCKETS = 4096 };
int bnn_order_stats(const double *x, size_t n, const size_t *r, int nr, double *out,
                    double *gather, uint32_t *hist);

#endif
