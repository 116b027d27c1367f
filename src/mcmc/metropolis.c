/* metropolis.c — the Metropolis-Hastings accept step and the random-walk move, shared by
 * the kernels that propose and test (rw, langevin, mala, hmc). */
#include <math.h>

#include <gsl/gsl_randist.h>

#include "kernel.h"

int bnn_metropolis(gsl_rng *rng, double log_alpha, double *accept_stat)
{
    *accept_stat = log_alpha >= 0 ? 1.0 : (log_alpha > -INFINITY ? exp(log_alpha) : 0.0);
    if (isnan(log_alpha))
        *accept_stat = 0.0;
    return log_alpha >= 0 || log(gsl_rng_uniform_pos(rng)) < log_alpha;
}

int bnn_rw_move(bnn_chain *c, double **prop, const double *scale, double *accept_stat)
{
    const bnn_density *d = c->d;
    size_t n = d->dim;
    double *x = *prop;
    for (size_t j = 0; j < n; j++)
        x[j] = c->theta[j] + scale[j] * gsl_ran_gaussian_ziggurat(c->rng, 1.0);
    double lp = d->logp(d->ctx, c->work, x, NULL);
    if (!bnn_metropolis(c->rng, lp - c->lp, accept_stat))
        return 0;
    bnn_swap(&c->theta, prop);
    c->lp = lp;
    c->grad_valid = 0;
    return 1;
}

void bnn_rw_scale(const bnn_chain *c, double *scale, double step, double step_eta)
{
    for (size_t j = 0; j < c->d->dim; j++)
        scale[j] = j < c->d->n_weights ? step : step_eta;
}

void bnn_step_info_plain(bnn_step_info *info, double accept_stat, double step, double lp)
{
    info->accept_stat = accept_stat;
    info->stepsize = step;
    info->treedepth = 0;
    info->n_leapfrog = 1;
    info->divergent = 0;
    info->energy = -lp;
}
