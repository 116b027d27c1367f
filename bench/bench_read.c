/* bench_read.c — the table reader (bnn_table_read) on a large file: seconds, rows, and the
 * process's peak resident memory, beside the bytes the table itself holds.
 *
 * usage: bench_read FILE          (bench/bench_read.sh writes friedman1:N and runs it) */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "bnnmc.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_read FILE\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bnn_table *t = NULL;
    bnn_error err = {0};
    if (bnn_table_read(&t, argv[1], 0, &err) != BNN_OK) {
        fprintf(stderr, "bench_read: %s\n", err.msg);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double table = (double)t->n * ((double)t->p + 2) * 8;   /* x, y, line numbers */
    printf("%zu rows x %zu inputs: %.2f s, peak RSS %.0f MB (the table itself %.0f MB)\n", t->n,
           t->p, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
           (double)ru.ru_maxrss / 1024, table / (1024 * 1024));
    bnn_table_free(t);
    return 0;
}
