/* bench_sg.c — what a minibatch buys: the time of one batch estimate of log p and its
 * gradient (bnn_density.logp_batch, B rows gathered, the BLAS path) against one full
 * evaluation (bnn_density.logp, the fastest exact path the model has), on Friedman's first
 * function with n rows (10 inputs; the network of 10 sigmoid units and the linear model).
 * Prints microseconds per call and per row, the median of 7 repetitions. One thread.
 * usage: bench_sg [ROWS]   (default 20000) */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "bench_util.h"

int openblas_set_num_threads(int);

/* xorshift: the rows need no statistical quality, only to be the same every run */
static double unif(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (double)(*s >> 11) * 0x1.0p-53;
}

static double time_calls(const bnn_density *d, double *work, const size_t *rows, size_t B,
                         const double *th, double *g, int calls)
{
    double t[7];
    for (int r = 0; r < 7; r++) {
        double t0 = now(), sink = 0;
        for (int c = 0; c < calls; c++)
            sink += rows ? d->logp_batch(d->ctx, work, rows + (size_t)c * B % (d->n_rows - B + 1), B, th, g)
                         : d->logp(d->ctx, work, th, g);
        t[r] = (now() - t0) / calls;
        if (!isfinite(sink))
            fprintf(stderr, "non-finite log density\n");
    }
    return median(t, 7);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 20000;
    openblas_set_num_threads(1);
    bnn_table *t = bnn_table_new(n, 10, "friedman1");
    uint64_t s = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        double *x = t->x + i * 10;
        for (int j = 0; j < 10; j++)
            x[j] = unif(&s);
        double e = sqrt(-2 * log(1 - unif(&s))) * cos(2 * M_PI * unif(&s));
        double y = 10 * sin(M_PI * x[0] * x[1]) + 20 * (x[2] - 0.5) * (x[2] - 0.5) + 10 * x[3] +
                   5 * x[4] + e;
        t->y[i] = (y + 6) / 42;
    }
    size_t *rows = malloc(n * sizeof *rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = (i * 7919) % n;   /* scattered, as a shuffled epoch's are */
    printf("friedman1, %zu rows, one thread: microseconds per call (per row)\n", n);
    printf("%-8s %14s %14s %14s %14s %9s\n", "model", "full logp", "batch 100", "batch 1000",
           "batch n", "full/100");
    for (int nn = 1; nn >= 0; nn--) {
        bnn_model_spec sp;
        bnn_model_spec_study(&sp, nn, BNN_TASK_REGRESSION, 10, 0);
        bnn_model *m = NULL;
        if (bnn_model_new(&m, &sp, t, NULL) != BNN_OK)
            return 1;
        bnn_density d = bnn_model_density(m);
        double *th = calloc(d.dim, sizeof *th), *g = malloc(d.dim * sizeof *g);
        double *work = malloc(d.work_len * sizeof *work), *bw = malloc(n * d.batch_work * sizeof *bw);
        for (size_t j = 0; j < d.dim; j++)
            th[j] = 0.3 * sin((double)j);
        th[d.dim - 1] = log(0.01);
        double full = time_calls(&d, work, NULL, 0, th, g, 20);
        double b100 = time_calls(&d, bw, rows, 100, th, g, 2000);
        double b1000 = time_calls(&d, bw, rows, 1000, th, g, 200);
        double bn = time_calls(&d, bw, rows, n, th, g, 20);
        printf("%-8s %7.1f (%.3f) %7.1f (%.3f) %7.1f (%.3f) %7.1f (%.3f) %8.0fx\n",
               nn ? "nn" : "linear", 1e6 * full, 1e6 * full / n, 1e6 * b100, 1e6 * b100 / 100,
               1e6 * b1000, 1e6 * b1000 / 1000, 1e6 * bn, 1e6 * bn / n, full / b100);
        free(th);
        free(g);
        free(work);
        free(bw);
        bnn_model_free(m);
    }
    free(rows);
    bnn_table_free(t);
    return 0;
}
