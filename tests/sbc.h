/* sbc.h — simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018)
 * of a sampler on the Bayesian linear regression, shared by the test suite (a short run)
 * and bench/sbc.c (all samplers, more replications). */
#ifndef BNNMC_TEST_SBC_H
#define BNNMC_TEST_SBC_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "bnnmc.h"

static inline bnn_table *regression_data(gsl_rng *r, size_t n, const double *w, double b, double sd)
{
    bnn_table *t = bnn_table_new(n, 2, "sbc");
    for (size_t i = 0; i < n; i++) {
        t->x[2 * i] = gsl_ran_gaussian(r, 1.0);
        t->x[2 * i + 1] = gsl_ran_gaussian(r, 1.0);
        t->y[i] = w[0] * t->x[2 * i] + w[1] * t->x[2 * i + 1] + b + gsl_ran_gaussian(r, sd);
    }
    return t;
}

static inline bnn_draws *run_model_noise(const bnn_model *m, const char *s, size_t iter, size_t burn,
                                 size_t thin, int chains, uint64_t seed, double step, int noise_step)
{
    bnn_density d = bnn_model_density(m);
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = s;
    rc.n_iter = iter;
    rc.n_burn = burn;
    rc.thin = thin;
    rc.chains = chains;
    rc.threads = 1;
    rc.seed = seed;
    rc.noise_step = noise_step;
    if (step > 0) {
        bnn_run_config_set(&rc, "step", step);
        bnn_run_config_set(&rc, "step_eta", step);
    }
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    if (bnn_run(&d, &rc, &dr, &err) != BNN_OK)
        printf("run failed: %s\n", err.msg);
    return dr;
}

static inline bnn_draws *run_model_step(const bnn_model *m, const char *s, size_t iter, size_t burn,
                                 size_t thin, int chains, uint64_t seed, double step)
{
    return run_model_noise(m, s, iter, burn, thin, chains, seed, step, BNN_NOISE_STEP_NONE);
}

static inline bnn_draws *run_model(const bnn_model *m, const char *s, size_t iter, size_t burn, size_t thin,
                            int chains, uint64_t seed)
{
    return run_model_step(m, s, iter, burn, thin, chains, seed, 0);
}

/* FNV-1a of the sampler's name: a seed of its characters. (Its address, as the seed once
 * took, moves run to run under PIE + ASLR, and the SBC tests with it.) */
static inline unsigned long sbc_name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

/* Draw (w, b, tau^2) from the prior, data from the model, sample the posterior, record the
 * rank of the true value among L draws thinned by thin (near-independent draws, or the
 * ranks bunch at the ends). If the sampler is right, every rank 0..L is equally likely: a
 * chi-square test over 10 bins, at a fixed seed; *pvalue_out is the smallest p-value over
 * the four parameters. step sets rw/langevin's proposal scale (0: the default);
 * noise_step is bnn_run_config's. */
static inline void sbc_run_noise(const char *s, int reps, size_t thin, double step, int noise_step,
                                 double *pvalue_out)
{
    enum { L = 99, BINS = 10 };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 2018 + sbc_name_hash(s) + (unsigned long)noise_step);
    int counts[4][BINS] = {{0}};
    for (int rep = 0; rep < reps; rep++) {
        bnn_model_spec sp;
        bnn_model_spec_study(&sp, 0, BNN_TASK_REGRESSION, 2, 0);
        sp.prior_var = 1.0;
        sp.nu1 = 3.0;
        sp.nu2 = 1.0;
        double truth[4];
        for (int j = 0; j < 3; j++)
            truth[j] = gsl_ran_gaussian(r, 1.0);
        double tau2 = 1.0 / gsl_ran_gamma(r, sp.nu1, 1.0 / sp.nu2);
        truth[3] = log(tau2);
        bnn_table *t = regression_data(r, 12, truth, truth[2], sqrt(tau2));
        bnn_model *m = NULL;
        bnn_model_new(&m, &sp, t, NULL);
        bnn_draws *dr = run_model_noise(m, s, 300 + L * thin, 300, thin, 1, (uint64_t)rep + 1,
                                        step, noise_step);
        for (int j = 0; dr && j < 4; j++) {
            int rank = 0;
            for (size_t i = 0; i < dr->n_kept; i++)
                rank += bnn_draw(dr, 0, i)[j] < truth[j];
            counts[j][rank * BINS / (L + 1)]++;
        }
        bnn_draws_free(dr);
        bnn_model_free(m);
        bnn_table_free(t);
    }
    /* the smallest p-value over the four parameters */
    double pmin = 1;
    for (int j = 0; j < 4; j++) {
        double chi2 = 0, e = (double)reps / BINS;
        for (int b = 0; b < BINS; b++)
            chi2 += (counts[j][b] - e) * (counts[j][b] - e) / e;
        pmin = fmin(pmin, gsl_cdf_chisq_Q(chi2, BINS - 1));
    }
    *pvalue_out = pmin;
    gsl_rng_free(r);
}

static inline void sbc_run(const char *s, int reps, size_t thin, double step, double *pvalue_out)
{
    sbc_run_noise(s, reps, thin, step, BNN_NOISE_STEP_NONE, pvalue_out);
}

static inline void sbc(const char *s, int reps, double *pvalue_out)
{
    sbc_run(s, reps, strcmp(s, "gibbs") == 0 ? 2 : 3, 0, pvalue_out);
}


#endif
