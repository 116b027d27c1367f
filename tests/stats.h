/* stats.h — Monte Carlo checks shared by the sampler tests: a moment is recovered when it
 * is within 4 Monte Carlo standard errors, the MCSE coming from the draws' own ESS. */
#ifndef BNNMC_TEST_STATS_H
#define BNNMC_TEST_STATS_H

#include <math.h>
#include <stdlib.h>

#include "bnnmc.h"

typedef struct {
    double mean, var;          /* estimates */
    double mcse_mean, mcse_var;
    double ess;
} moments;

/* Moments of M chains of N values (x, chain after chain): mean and variance with their
 * MCSEs. */
static inline moments array_moments(const double *x, size_t M, size_t N)
{
    size_t S = M * N;
    double *sq = malloc(S * sizeof *sq);
    moments r = {0};
    for (size_t s = 0; s < S; s++)
        r.mean += x[s];
    r.mean /= (double)S;
    for (size_t s = 0; s < S; s++)
        sq[s] = (x[s] - r.mean) * (x[s] - r.mean);
    for (size_t s = 0; s < S; s++)
        r.var += sq[s];
    r.var /= (double)(S - 1);
    double v4 = 0;
    for (size_t s = 0; s < S; s++)
        v4 += (sq[s] - r.var) * (sq[s] - r.var);
    v4 /= (double)(S - 1);
    r.ess = bnn_ess(x, M, N);
    r.mcse_mean = sqrt(r.var / r.ess);
    r.mcse_var = sqrt(v4 / bnn_ess(sq, M, N));
    free(sq);
    return r;
}

/* Moments of coordinate j of the draws. */
static inline moments draw_moments(const bnn_draws *dr, size_t j)
{
    size_t M = (size_t)dr->chains, N = dr->n_kept;
    double *x = malloc(M * N * sizeof *x);
    for (size_t c = 0; c < M; c++)
        for (size_t i = 0; i < N; i++)
            x[c * N + i] = bnn_draw(dr, (int)c, i)[j];
    moments r = array_moments(x, M, N);
    free(x);
    return r;
}

/* z-scores of the estimated mean and variance of coordinate j against the exact ones; a
 * sampler passes at |z| < 4. */
static inline moments moments_z(const bnn_draws *dr, size_t j, double mu, double var, double *zm,
                         double *zv)
{
    moments mo = draw_moments(dr, j);
    *zm = (mo.mean - mu) / mo.mcse_mean;
    *zv = (mo.var - var) / mo.mcse_var;
    return mo;
}

#endif
