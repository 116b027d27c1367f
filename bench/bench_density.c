/* bench_density.c — log density + gradient evaluations per second of the study's network
 * (and linear model) on the study's four data sets. Prints the median of 11 timed repeats,
 * and the rate of floating-point work in the row-by-row products (GFLOP/s; '-' for the
 * linear regression, which uses sufficient statistics instead).
 *
 * usage: bench_density [DATA_DIR]   (default ../shared/data) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "bnnmc.h"
#include "bench_util.h"

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
    return 0;
}
