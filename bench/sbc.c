/* sbc.c — simulation-based calibration of every sampler on the Bayesian linear regression:
 * more replications than the test suite's, and rw, langevin, mala and hmc besides gibbs
 * and nuts. Prints the smallest chi-square p-value of the rank histograms per sampler.
 *
 * usage: bench_sbc [REPLICATIONS]   (default 1000) */
#include <stdio.h>
#include <stdlib.h>

#include "../tests/sbc.h"

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 1000;
    /* thinning for near-independent draws, and a proposal scale that suits this posterior
     * for the random-walk samplers (the study's 0.02 barely moves on 12 rows) */
    struct {
        const char *s;
        size_t thin;
        double step;
        int noise;            /* bnn_run_config.noise_step */
    } runs[] = {{"gibbs", 2, 0, 0},    {"nuts", 3, 0, 0},
                {"hmc", 3, 0, 0},      {"mala", 10, 0, 0},
                {"rw", 25, 0.25, 0},   {"langevin", 25, 0.25, 0},
                {"nuts", 3, 0, BNN_NOISE_STEP_GIBBS}, {"hmc", 3, 0, BNN_NOISE_STEP_GIBBS},
                {"mala", 10, 0, BNN_NOISE_STEP_GIBBS}};
    printf("%-9s %-11s %6s %5s %10s\n", "sampler", "noise-step", "reps", "thin", "min p");
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        double p;
        sbc_run_noise(runs[k].s, reps, runs[k].thin, runs[k].step, runs[k].noise, &p);
        printf("%-9s %-11s %6d %5zu %10.4f %s\n", runs[k].s, runs[k].noise ? "gibbs" : "none",
               reps, runs[k].thin, p, p > 0.001 ? "uniform" : "NOT UNIFORM");
    }
    return 0;
}
