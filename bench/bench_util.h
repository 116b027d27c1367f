/* bench_util.h — the benchmarks' clock and median. */
#ifndef BNNMC_BENCH_UTIL_H
#define BNNMC_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bnnmc.h"

static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n values (sorts them). */
static inline double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The study's model (nn: network, else linear) on DIR/NAME/train.txt; 0, or -1 with the
 * reason on stderr. The table must outlive the model. */
static inline int load_study_model(const char *dir, const char *name, int nn, bnn_table **t,
                                   bnn_model **m)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/train.txt", dir, name);
    bnn_error err = {0};
    *m = NULL;
    if (bnn_table_read(t, path, 0, &err) != BNN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    int K = 0;
    bnn_task task = bnn_table_infer_task(*t, &K);
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, nn, task, (int)(*t)->p, K);
    if (bnn_model_new(m, &sp, *t, &err) != BNN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

#endif
