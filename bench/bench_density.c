/* bench_density.c — log density + gradient evaluations per second of the study's network
 * (and linear model) on the study's four data sets. Prints the median of 11 timed repeats,
 * and the rate of floating-point work in the row-by-row products (GFLOP/s; '-' for the
 * linear regression, which uses sufficient statistics instead).
 *
 * Then, for each network, its three exact paths side by side in one process (the BLAS path
 * and the fused kernel's 8- and 4-lane instances: model.c picks one by the processor), as
 * median rates and their ratios to the BLAS path. Last, for the regression networks, the
 * density in the centred coordinates (--center, src/model/center.c) against the model's own,
 * interleaved the same way: what the centring costs per gradient; and each network in
 * single precision (bnn_model_spec.float32) against double.
 *
 * usage: bench_density [DATA_DIR]   (default ../shared/data) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "bnnmc.h"
#include "bench_util.h"
#include "../src/model/model_internal.h"

/* Median logp+grad evaluations per second of logp over 11 repeats of 0.1 s each. */
static double rate_of(double (*logp)(const void *, double *, const double *, double *),
                      const void *ctx, double *work, const double *th, double *g)
{
    double rate[11], sink = 0;
    for (int rep = 0; rep < 11; rep++) {
        int iters = 0;
        double t0 = now(), t1;
        do {
            for (int k = 0; k < 50; k++)
                sink += logp(ctx, work, th, g);
            iters += 50;
        } while ((t1 = now()) - t0 < 0.1);
        rate[rep] = iters / (t1 - t0);
    }
    if (sink == 12345.678)
        puts("");
    return median(rate, 11);
}

/* The network's BLAS path and both fused instances, interleaved repeat by repeat so that
 * a noisy machine slows each alike. */
static int paths(const char *dir, const char *set)
{
    bnn_table *t = NULL;
    bnn_model *m = NULL;
    if (load_study_model(dir, set, 1, &t, &m) != 0)
        return 1;
    double r[3][5];
    for (int rep = 0; rep < 5; rep++)
        for (int p = 0; p < 3; p++) {
            if (p > 0 && bnn_model_set_fused_lanes(m, p == 1 ? 8 : 4) != 0)
                return 1;
            bnn_density d = bnn_model_density(m);
            double *work = calloc(d.work_len, sizeof *work), *th = calloc(d.dim, sizeof *th),
                   *g = calloc(d.dim, sizeof *g);
            bnn_model_init(m, 1, th, work);
            r[p][rep] = rate_of(p == 0 ? bnn_model_logp_blas : bnn_model_logp_fused, m, work, th, g);
            free(work);
            free(th);
            free(g);
        }
    double blas = median(r[0], 5), f8 = median(r[1], 5), f4 = median(r[2], 5);
    printf("%-11s %12.0f %12.0f %12.0f %9.2fx %9.2fx   %s\n", set, blas, f8, f4, f8 / blas,
           f4 / blas, bnn_model_density(m).logp == bnn_model_logp_fused ? "fused" : "blas");
    bnn_model_free(m);
    bnn_table_free(t);
    return 0;
}

/* The network's density with the spec changed by `vary` (the left column without it, the
 * right with it), interleaved; `base` applied to both. */
static int versus(const char *dir, const char *set, void (*base)(bnn_model_spec *),
                  void (*vary)(bnn_model_spec *))
{
    bnn_table *t = NULL;
    bnn_model *m[2] = {NULL, NULL};
    if (load_study_model(dir, set, 1, &t, &m[0]) != 0)
        return 1;
    bnn_model_spec sp = *bnn_model_get_spec(m[0]);
    bnn_error err = {0};
    if (base) {
        base(&sp);
        bnn_model_free(m[0]);
        if (bnn_model_new(&m[0], &sp, t, &err) != BNN_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
    }
    vary(&sp);
    if (bnn_model_new(&m[1], &sp, t, &err) != BNN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double r[2][5];
    for (int rep = 0; rep < 5; rep++)
        for (int p = 0; p < 2; p++) {
            bnn_density d = bnn_model_density(m[p]);
            double *work = calloc(d.work_len, sizeof *work), *th = calloc(d.dim, sizeof *th),
                   *g = calloc(d.dim, sizeof *g);
            bnn_model_init(m[p], 1, th, work);
            r[p][rep] = rate_of(d.logp, d.ctx, work, th, g);
            free(work);
            free(th);
            free(g);
        }
    double plain = median(r[0], 5), with = median(r[1], 5);
    printf("%-11s %12.0f %12.0f %9.2fx\n", set, plain, with, with / plain);
    bnn_model_free(m[0]);
    bnn_model_free(m[1]);
    bnn_table_free(t);
    return 0;
}

static void set_center(bnn_model_spec *sp) { sp->center = 1; }
static void set_float32(bnn_model_spec *sp) { sp->float32 = 1; }

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/data";
    const char *sets[] = {"sunspot", "abalone", "iris", "ionosphere"};
    openblas_set_num_threads(1);   /* one chain's view: chains are the parallel unit */
    printf("%-11s %-6s %5s %5s %12s %12s %10s\n", "data", "model", "rows", "dim", "logp+grad/s",
           "drift/s", "GFLOP/s");
    for (int s = 0; s < 4; s++)
        for (int nn = 1; nn >= 0; nn--) {
            bnn_table *t = NULL;
            bnn_model *m = NULL;
            if (load_study_model(dir, sets[s], nn, &t, &m) != 0)
                return 1;
            int K = bnn_model_get_spec(m)->task == BNN_TASK_CLASSIFICATION
                        ? bnn_model_get_spec(m)->n_classes : 0;
            bnn_density d = bnn_model_density(m);
            double *work = calloc(d.work_len, sizeof *work), *th = calloc(d.dim, sizeof *th),
                   *g = calloc(d.dim, sizeof *g), *o = calloc(d.dim, sizeof *o);
            bnn_model_init(m, 1, th, work);
            double rate[11], drate[11];
            double sink = 0;
            for (int rep = 0; rep < 11; rep++) {
                int iters = 0;
                double t0 = now(), t1;
                do {
                    for (int k = 0; k < 50; k++)
                        sink += d.logp(d.ctx, work, th, g);
                    iters += 50;
                } while ((t1 = now()) - t0 < 0.1);
                rate[rep] = iters / (t1 - t0);
                iters = 0;
                t0 = now();
                do {
                    for (int k = 0; k < 10; k++)
                        d.drift(d.ctx, work, 0.01, th, o);
                    iters += 10;
                } while ((t1 = now()) - t0 < 0.05);
                drate[rep] = iters / (t1 - t0);
                sink += o[0];
            }
            double r_med = median(rate, 11), d_med = median(drate, 11);
            /* flops of one logp+grad: 2 n w_in w_out forward, 4 n w_in w_out backward */
            int h = nn ? 10 : 0, out = K ? K : 1;
            double macs = nn ? (double)t->p * h + (double)h * out : (double)t->p * out;
            double flops = 6.0 * (double)t->n * macs;
            /* the linear regression (identity output) runs on sufficient statistics, not
             * row by row: no row flops to count */
            int rows = nn || K;
            printf("%-11s %-6s %5zu %5zu %12.0f %12.0f ", sets[s], nn ? "nn" : "linear", t->n,
                   d.dim, r_med, d_med);
            if (rows)
                printf("%10.2f\n", r_med * flops * 1e-9);
            else
                printf("%10s\n", "-");
            if (sink == 12345.678)
                puts("");
            free(work);
            free(th);
            free(g);
            free(o);
            bnn_model_free(m);
            bnn_table_free(t);
        }
    printf("\nthe network's paths, logp+grad/s (median of 5 x 11 repeats, interleaved):\n");
    printf("%-11s %12s %12s %12s %10s %10s   %s\n", "data", "blas", "fused8", "fused4",
           "f8/blas", "f4/blas", "density takes");
    for (int s = 0; s < 4; s++)
        if (paths(dir, sets[s]) != 0)
            return 1;
    printf("\nthe regression networks in the centred coordinates (--center), logp+grad/s "
           "(median of 5 x 11 repeats, interleaved):\n");
    printf("%-11s %12s %12s %10s\n", "data", "model's", "centred", "ratio");
    for (int s = 0; s < 2; s++)
        if (versus(dir, sets[s], NULL, set_center) != 0)
            return 1;
    printf("\nthe networks in single precision (--float32; regression centred as a run samples "
           "it), logp+grad/s (median of 5 x 11 repeats, interleaved):\n");
    printf("%-11s %12s %12s %10s\n", "data", "double", "single", "ratio");
    for (int s = 0; s < 4; s++)
        if (versus(dir, sets[s], s < 2 ? set_center : NULL, set_float32) != 0)
            return 1;
    return 0;
}
