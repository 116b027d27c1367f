/* bench_sampler.c — iterations per second of one chain of the study's network with the
 * langevin sampler (its defaults) on each of the study's data sets; median of 5 runs.
 *
 * usage: bench_sampler [DATA_DIR]   (default ../shared/data) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bnnmc.h"
#include "bench_util.h"

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/data";
    const char *sets[] = {"sunspot", "abalone", "iris", "ionosphere"};
    /* the study's Python, measured on this kind of machine (issue 3) */
    const double study[] = {85, 12, 200, 85};
    printf("%-11s %10s %10s %10s\n", "data", "iter/s", "study", "ratio");
    for (int s = 0; s < 4; s++) {
        bnn_table *t = NULL;
        bnn_model *m = NULL;
        bnn_error err = {0};
        if (load_study_model(dir, sets[s], 1, &t, &m) != 0)
            return 1;
        bnn_density d = bnn_model_density(m);
        double *init = calloc(d.dim, sizeof *init), *work = calloc(d.work_len, sizeof *work);
        bnn_model_init(m, 1, init, work);
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = "langevin";   /* the study's sampler, against the study's rate */
        rc.chains = 1;
        rc.n_iter = s == 1 ? 1000 : 4000;
        rc.n_burn = rc.n_iter / 2;
        rc.init = init;
        double rate[5];
        for (int rep = 0; rep < 5; rep++) {
            bnn_draws *dr = NULL;
            rc.seed = (uint64_t)rep + 1;
            double t0 = now();
            bnn_run(&d, &rc, &dr, &err);
            rate[rep] = (double)rc.n_iter / (now() - t0);
            bnn_draws_free(dr);
        }
        double med = median(rate, 5);
        printf("%-11s %10.0f %10.0f %9.0fx\n", sets[s], med, study[s], med / study[s]);
        free(init);
        free(work);
        bnn_model_free(m);
        bnn_table_free(t);
    }
    return 0;
}
