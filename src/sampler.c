/* sampler.c — the transition kernels: random-walk Metropolis-Hastings and the study's
 * Langevin-gradient proposal, over any bnn_density.
 *
 * Langevin (Chandra & Simmons): theta' ~ N(g(theta), diag(scale^2)) where g is the density's
 * drift (one pass of per-row gradient descent). The Metropolis-Hastings ratio carries
 *     log q(theta | theta') - log q(theta' | theta)
 *   = -|theta - g(theta')|^2_S / 2 + |theta' - g(theta)|^2_S / 2,
 * with the true proposal variances scale^2 (the study's code used another variance here,
 * which breaks detailed balance). Choosing Langevin or random walk by a coin that ignores
 * the state is a mixture of two kernels that each keep detailed balance, so the mixture
 * does too.
 *
 * g(theta) of the current state is cached: a rejected Langevin proposal leaves it valid and
 * an accepted one hands over g(theta'), computed anyway for the reverse term. So a Langevin
 * iteration costs one drift pass and one log density. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sampler.h"

double bnn_langevin_log_q(size_t dim, const double *scale, const double *x, const double *gy)
{
    double s = 0.0;
    for (size_t j = 0; j < dim; j++) {
        double r = (x[j] - gy[j]) / scale[j];
        s += r * r;
    }
    return -0.5 * s;
}

void bnn_chain_drift(bnn_chain *c, const double *theta, double *out)
{
    const bnn_density *d = c->d;
    if (d->drift) {
        d->drift(d->ctx, c->work, c->cfg->lr, theta, out);
        return;
    }
    d->logp(d->ctx, c->work, theta, c->grad);
    for (size_t j = 0; j < d->dim; j++)
        out[j] = theta[j] + c->cfg->lr * c->grad[j];
}

bnn_status bnn_chain_init(bnn_chain *c, const bnn_density *d, const bnn_run_config *cfg,
                          unsigned long seed, const double *theta0)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    c->cfg = cfg;
    size_t n = d->dim;
    c->rng = gsl_rng_alloc(gsl_rng_mt19937);
    c->work = malloc((d->work_len ? d->work_len : 1) * sizeof(double));
    c->buf = malloc(6 * n * sizeof(double));
    if (!c->rng || !c->work || !c->buf) {
        bnn_chain_free(c);
        return BNN_ENOMEM;
    }
    gsl_rng_set(c->rng, seed);
    c->theta = c->buf;
    c->prop = c->theta + n;
    c->g = c->prop + n;
    c->gprop = c->g + n;
    c->scale = c->gprop + n;
    c->grad = c->scale + n;
    for (size_t j = 0; j < n; j++)
        c->scale[j] = j < d->n_weights ? cfg->step : cfg->step_eta;
    memcpy(c->theta, theta0, n * sizeof(double));
    c->lp = d->logp(d->ctx, c->work, c->theta, NULL);
    c->g_valid = 0;
    return BNN_OK;
}

void bnn_chain_free(bnn_chain *c)
{
    if (c->rng)
        gsl_rng_free(c->rng);
    free(c->work);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

/* Accepts with probability min(1, exp(log_alpha)); returns 1 when accepted. */
static int metropolis(bnn_chain *c, double log_alpha, double *accept_stat)
{
    *accept_stat = log_alpha >= 0 ? 1.0 : (log_alpha > -INFINITY ? exp(log_alpha) : 0.0);
    if (isnan(log_alpha))
        *accept_stat = 0.0;
    return log_alpha >= 0 || log(gsl_rng_uniform_pos(c->rng)) < log_alpha;
}

static int step_rw(bnn_chain *c, double *accept_stat)
{
    const bnn_density *d = c->d;
    size_t n = d->dim;
    for (size_t j = 0; j < n; j++)
        c->prop[j] = c->theta[j] + c->scale[j] * gsl_ran_gaussian_ziggurat(c->rng, 1.0);
    double lp = d->logp(d->ctx, c->work, c->prop, NULL);
    if (!metropolis(c, lp - c->lp, accept_stat))
        return 0;
    double *t = c->theta;
    c->theta = c->prop;
    c->prop = t;
    c->lp = lp;
    c->g_valid = 0;
    return 1;
}

static int step_langevin(bnn_chain *c, double *accept_stat)
{
    const bnn_density *d = c->d;
    size_t n = d->dim;
    if (!c->g_valid) {
        bnn_chain_drift(c, c->theta, c->g);
        c->g_valid = 1;
    }
    for (size_t j = 0; j < n; j++)
        c->prop[j] = c->g[j] + c->scale[j] * gsl_ran_gaussian_ziggurat(c->rng, 1.0);
    double lp = d->logp(d->ctx, c->work, c->prop, NULL);
    double log_alpha = lp - c->lp;
    if (lp > -INFINITY) {
        bnn_chain_drift(c, c->prop, c->gprop);
        log_alpha += bnn_langevin_log_q(n, c->scale, c->theta, c->gprop) -
                     bnn_langevin_log_q(n, c->scale, c->prop, c->g);
    }
    if (!metropolis(c, log_alpha, accept_stat))
        return 0;
    double *t = c->theta;
    c->theta = c->prop;
    c->prop = t;
    t = c->g;
    c->g = c->gprop;
    c->gprop = t;
    c->lp = lp;
    return 1;
}

int bnn_chain_step(bnn_chain *c, double *accept_stat)
{
    if (c->cfg->sampler == BNN_SAMPLER_LANGEVIN &&
        gsl_rng_uniform(c->rng) < c->cfg->langevin_prob)
        return step_langevin(c, accept_stat);
    return step_rw(c, accept_stat);
}
