/* bench_dense.c — what the metric's form costs per leapfrog step (one gradient each) on
 * the study's networks: the bare log density + gradient, the diagonal leapfrog as it was
 * before dense metrics (inline, copied here), the diagonal leapfrog through the chain's
 * phase table (what hmc and nuts run now), and the dense one (two dsymv-sized products
 * more). Median of 7 repetitions of STEPS steps each.
 *
 * usage: bench_dense [DATA_DIR] [STEPS]   (defaults ../shared/data, 20000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS's, declared here: its cblas.h clashes with GSL's through hamiltonian.h */
void openblas_set_num_threads(int n);

#include "bnnmc.h"
#include "../src/mcmc/hamiltonian.h"
#include "bench_util.h"

/* hamiltonian.h's leapfrog before the phase table, as a reference */
static inline void old_diag_leapfrog(bnn_chain *c, ps_point *z, double eps)
{
    const bnn_density *d = c->d;
    size_t n = d->dim;
    for (size_t j = 0; j < n; j++)
        z->p[j] += 0.5 * eps * z->g[j];
    for (size_t j = 0; j < n; j++)
        z->q[j] += eps * c->inv_metric[j] * z->p[j];
    z->lp = d->logp(d->ctx, c->work, z->q, z->g);
    for (size_t j = 0; j < n; j++)
        z->p[j] += 0.5 * eps * z->g[j];
}

enum { GRAD, OLD_DIAG, DIAG, DENSE, N_WAYS };
static const char *const way_name[N_WAYS] = {"gradient", "diag (old)", "diag", "dense"};

/* Seconds per step of one way; the trajectory goes forward then back so it stays put. */
static double per_step(bnn_chain *c, ps_point *z, int way, int steps)
{
    const bnn_density *d = c->d;
    double t0 = now();
    for (int s = 0; s < steps; s++) {
        double eps = (s / 10) % 2 ? -1e-3 : 1e-3;
        switch (way) {
        case GRAD: z->lp = d->logp(d->ctx, c->work, z->q, z->g); break;
        case OLD_DIAG: old_diag_leapfrog(c, z, eps); break;
        default: ps_leapfrog(c, z, eps); break;
        }
        (void)ps_kinetic(c, z->p);   /* NUTS's energy at every node */
    }
    return (now() - t0) / steps;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/data";
    int steps = argc > 2 ? atoi(argv[2]) : 20000;
    const char *sets[] = {"sunspot", "abalone", "iris", "ionosphere"};
    openblas_set_num_threads(1);   /* as bnn_run does: chains, not BLAS, are parallel */
    printf("microseconds per leapfrog step (one gradient and one kinetic energy), median of 7\n");
    printf("%-11s %4s", "data", "dim");
    for (int w = 0; w < N_WAYS; w++)
        printf(" %11s", way_name[w]);
    printf(" %11s\n", "dense/diag");
    for (int s = 0; s < 4; s++) {
        bnn_table *t = NULL;
        bnn_model *m = NULL;
        if (load_study_model(dir, sets[s], 1, &t, &m) != 0)
            return 1;
        bnn_density d = bnn_model_density(m);
        size_t n = d.dim;
        double *init = calloc(n, sizeof *init), *work = calloc(d.work_len, sizeof *work);
        bnn_model_init(m, 1, init, work);
        bnn_chain c[2];
        bnn_run_config rc[2];
        bnn_error err = {0};
        for (int k = 0; k < 2; k++) {
            bnn_run_config_default(&rc[k]);
            rc[k].sampler = "nuts";
            rc[k].metric = k ? BNN_METRIC_DENSE : BNN_METRIC_DIAG;
            rc[k].n_iter = 2;
            rc[k].n_burn = 1;
            rc[k].adapt = 0;   /* no step-size search: only the operations are timed */
            if (bnn_chain_init(&c[k], bnn_kernel_find("nuts"), &d, &rc[k], 1, init, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
        }
        /* a dense inverse metric with every element non-zero (the cost does not depend on
         * the values; the factor must exist) */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                c[1].inv_metric_dense[i * n + j] = i == j ? 1.0 : 0.5 / (double)n;
        if (bnn_metric_dense_factor(&c[1], &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double *block = malloc(3 * n * sizeof *block), *b = block;
        ps_point z;
        ps_point_take(&z, &b, n);
        double med[N_WAYS];
        for (int w = 0; w < N_WAYS; w++) {
            bnn_chain *ch = &c[w == DENSE];
            double r[7];
            for (int rep = 0; rep < 7; rep++) {
                memcpy(z.q, init, n * sizeof(double));
                for (size_t j = 0; j < n; j++)
                    z.p[j] = 0.1;
                z.lp = d.logp(d.ctx, ch->work, z.q, z.g);
                r[rep] = per_step(ch, &z, w, steps);
            }
            med[w] = median(r, 7);
        }
        printf("%-11s %4zu", sets[s], n);
        for (int w = 0; w < N_WAYS; w++)
            printf(" %11.2f", 1e6 * med[w]);
        printf(" %11.3f\n", med[DENSE] / med[DIAG]);
        free(block);
        bnn_chain_free(&c[0]);
        bnn_chain_free(&c[1]);
        free(init);
        free(work);
        bnn_model_free(m);
        bnn_table_free(t);
    }
    return 0;
}
