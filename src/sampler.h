/* sampler.h — one chain's state, its transition kernels and their adaptation (internal). */
#ifndef BNNMC_SAMPLER_H
#define BNNMC_SAMPLER_H

#include <gsl/gsl_rng.h>

#include "internal.h"

/* What one transition reports: the CmdStan sampler columns. */
typedef struct {
    double accept_stat, stepsize, energy;
    int treedepth, n_leapfrog, divergent;
} bnn_step_info;

/* Step-size adaptation by dual averaging (Nesterov; Hoffman & Gelman 2014), Stan's
 * constants. */
typedef struct {
    double mu, s_bar, x_bar, counter;
    double delta;            /* target mean acceptance */
} bnn_dual_avg;

/* Stan's windowed estimation of the diagonal inverse metric: an initial fast buffer, slow
 * windows that double, a terminal fast buffer; Welford's running variance in a window. */
typedef struct {
    int on;
    size_t n_warmup, init_buffer, term_buffer, base_window;
    size_t counter, window_size, next_window;
    size_t n;                /* draws in the current window */
    double *mean, *m2;       /* dim each */
} bnn_var_adapt;

typedef struct bnn_nuts_ws bnn_nuts_ws;
typedef struct bnn_gibbs_ws bnn_gibbs_ws;

/* Everything one chain owns. Buffers are allocated once by bnn_chain_init, so a step
 * allocates nothing. theta/prop and g/gprop swap on acceptance instead of copying. */
typedef struct {
    const bnn_density *d;
    const bnn_run_config *cfg;
    gsl_rng *rng;
    double *work;            /* the density's scratch */
    double *buf;             /* backing store of the vectors below */
    double *theta, *prop;    /* current state, proposal */
    double *g, *gprop;       /* drift g(theta), g(prop) (langevin); gradients (mala) */
    double *scale;           /* per-coordinate proposal sd (rw, langevin) */
    double *grad;            /* gradient scratch */
    double *inv_metric;      /* diagonal inverse metric (mala, hmc, nuts) */
    double lp;               /* log density at theta */
    int g_valid;             /* g holds g(theta) (langevin) or grad log p(theta) (mala) */
    double eps;              /* step size (mala, hmc, nuts) */
    bnn_dual_avg da;
    bnn_var_adapt va;
    int adapting;
    bnn_nuts_ws *nuts;
    bnn_gibbs_ws *gibbs;
} bnn_chain;

/* Fails with the reason in err (which may be NULL): out of memory, or Stan's step-size
 * search failed. */
bnn_status bnn_chain_init(bnn_chain *c, const bnn_density *d, const bnn_run_config *cfg,
                          unsigned long seed, const double *theta0, bnn_error *err);
void bnn_chain_free(bnn_chain *c);
/* One iteration; returns 1 if the state moved (a proposal was accepted). */
int bnn_chain_step(bnn_chain *c, bnn_step_info *info);
/* After iteration it (0-based) of burn-in: adapts step size and metric. Fails (reason in
 * err) when the step-size search after a metric window fails. */
bnn_status bnn_chain_adapt(bnn_chain *c, size_t it, const bnn_step_info *info, bnn_error *err);

/* Accepts with probability min(1, exp(log_alpha)), NaN counting as a rejection; writes
 * that probability to accept_stat; returns 1 when accepted. */
int bnn_metropolis(bnn_chain *c, double log_alpha, double *accept_stat);

/* Exchanges two state buffers (an accepted proposal becomes the state without a copy). */
static inline void bnn_swap(double **a, double **b)
{
    double *t = *a;
    *a = *b;
    *b = t;
}

/* log N(x | gy, diag(scale^2)) without its constant: the Langevin proposal's log q. */
double bnn_langevin_log_q(size_t dim, const double *scale, const double *x, const double *gy);
/* g(theta): the density's drift, or theta + lr grad log p when it has none. */
void bnn_chain_drift(bnn_chain *c, const double *theta, double *out);

/* hmc.c */
bnn_status bnn_nuts_alloc(bnn_chain *c);
void bnn_nuts_free(bnn_chain *c);
int bnn_step_nuts(bnn_chain *c, bnn_step_info *info);
int bnn_step_hmc(bnn_chain *c, bnn_step_info *info);
int bnn_step_mala(bnn_chain *c, bnn_step_info *info);
/* Stan's heuristic: double or halve eps until one leapfrog step's acceptance crosses 0.8.
 * As Stan's, fails (BNN_ENUMERIC, reason in err) when eps passes 1e7 ("the posterior is
 * improper") or halves to 0. */
bnn_status bnn_init_stepsize(bnn_chain *c, bnn_error *err);
/* log q of MALA's proposal x given y (gradient gy at y), without constants. */
double bnn_mala_log_q(const bnn_chain *c, const double *x, const double *y, const double *gy);

/* gibbs.c */
bnn_status bnn_gibbs_alloc(bnn_chain *c, bnn_error *err);
void bnn_gibbs_free(bnn_chain *c);
int bnn_step_gibbs(bnn_chain *c, bnn_step_info *info);

#endif
