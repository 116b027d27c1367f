/* precision_error.c — how far the single-precision density (bnn_model_spec.float32,
 * --precision single) is from the double one, at a run's draws: the log density's absolute
 * difference (what bounds the posteriors' distance: where |log p32 - log p64| <= d, the
 * two posteriors' density ratio is within e^(+-2d)) and the gradient's largest difference
 * relative to its largest element. The study's network (one hidden layer of 10 sigmoid
 * units, its priors) on TRAIN; the draws from chain CSVs of a run on it.
 *
 * usage: precision_error TRAIN CHAIN.csv...   (e.g. a run folder's chain-*.csv) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnnmc.h"
#include "bench_util.h"

#define SAMPLER_COLS 7   /* lp__ ... energy__ before the parameters */

static bnn_model *study_model(const bnn_table *t, int float32)
{
    int K = 0;
    bnn_task task = bnn_table_infer_task(t, &K);
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 1, task, (int)t->p, K);
    sp.float32 = float32;
    bnn_model *m = NULL;
    bnn_error err = {0};
    if (bnn_model_new(&m, &sp, t, &err) != BNN_OK) {
        fprintf(stderr, "precision_error: %s\n", err.msg);
        return NULL;
    }
    return m;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: precision_error TRAIN CHAIN.csv...\n");
        return 2;
    }
    bnn_table *t = NULL;
    bnn_error err = {0};
    if (bnn_table_read(&t, argv[1], 0, &err) != BNN_OK) {
        fprintf(stderr, "precision_error: %s\n", err.msg);
        return 1;
    }
    bnn_model *m64 = study_model(t, 0), *m32 = study_model(t, 1);
    if (!m64 || !m32)
        return 1;
    if (!bnn_model_float32(m32)) {
        fprintf(stderr, "precision_error: no single-precision kernel on this processor\n");
        return 1;
    }
    bnn_density d64 = bnn_model_density(m64), d32 = bnn_model_density(m32);
    size_t dim = d64.dim, wl = d64.work_len > d32.work_len ? d64.work_len : d32.work_len;
    double *th = calloc(dim, sizeof *th), *g64 = calloc(dim, sizeof *g64),
           *g32 = calloc(dim, sizeof *g32), *work = calloc(wl, sizeof *work);
    size_t cap = 1 << 16, n = 0;
    double *dl = malloc(cap * sizeof *dl);
    char *line = NULL;
    size_t len = 0;
    double worst_g = 0.0, lp_lo = INFINITY, lp_hi = -INFINITY;
    for (int a = 2; a < argc; a++) {
        FILE *f = fopen(argv[a], "r");
        if (!f) {
            perror(argv[a]);
            return 1;
        }
        int header = 1;
        while (getline(&line, &len, f) > 0) {
            if (line[0] == '#' || line[0] == '\n')
                continue;
            if (header) {   /* the column names: count the parameters */
                size_t cols = 1;
                for (char *c = line; *c; c++)
                    cols += *c == ',';
                if (cols - SAMPLER_COLS != dim) {
                    fprintf(stderr, "precision_error: %s has %zu parameters, the study's network "
                            "on %s %zu\n", argv[a], cols - SAMPLER_COLS, argv[1], dim);
                    return 1;
                }
                header = 0;
                continue;
            }
            char *p = line, *end;
            for (int c = 0; c < SAMPLER_COLS; c++) {
                strtod(p, &end);
                p = end + 1;
            }
            for (size_t j = 0; j < dim; j++) {
                th[j] = strtod(p, &end);
                p = end + 1;
            }
            if (dim > d64.n_weights)
                th[dim - 1] = log(th[dim - 1]);   /* tau2 -> eta */
            double l64 = d64.logp(d64.ctx, work, th, g64);
            double l32 = d32.logp(d32.ctx, work, th, g32);
            double gmax = 0.0, gd = 0.0;
            for (size_t j = 0; j < dim; j++) {
                gmax = fmax(gmax, fabs(g64[j]));
                gd = fmax(gd, fabs(g32[j] - g64[j]));
            }
            worst_g = fmax(worst_g, gd / gmax);
            lp_lo = fmin(lp_lo, l64);
            lp_hi = fmax(lp_hi, l64);
            if (n == cap)
                dl = realloc(dl, (cap *= 2) * sizeof *dl);
            dl[n++] = fabs(l32 - l64);
        }
        fclose(f);
    }
    if (!n) {
        fprintf(stderr, "precision_error: no draws\n");
        return 1;
    }
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, dl[i]);
    printf("draws %zu, log density (double) %.1f .. %.1f\n", n, lp_lo, lp_hi);
    printf("|log p single - log p double|: median %.2e, max %.2e\n", median(dl, n), mx);
    printf("gradient: max |g single - g double| / max |g double| %.2e\n", worst_g);
    free(line);
    free(dl);
    free(th);
    free(g64);
    free(g32);
    free(work);
    bnn_model_free(m32);
    bnn_model_free(m64);
    bnn_table_free(t);
    return 0;
}
