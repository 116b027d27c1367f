/* kernel_mala.c — the Metropolis-adjusted Langevin algorithm with a diagonal metric D:
 * x' ~ N(x + eps^2/2 D grad log p(x), eps^2 D), its step size and metric tuned in burn-in
 * (to a mean acceptance of 0.574, Roberts & Rosenthal's optimum). */
#include <math.h>

#include <gsl/gsl_randist.h>

#include "kernel.h"

typedef struct {
    double *prop, *gprop;
} mala_state;

static bnn_status mala_init(bnn_chain *c, bnn_error *err)
{
    double *v;
    mala_state *s = bnn_chain_state(c, sizeof *s, 2, &v, err);
    if (!s)
        return BNN_ENOMEM;
    s->prop = v;
    s->gprop = v + c->d->dim;
    return BNN_OK;
}

static double log_q(const bnn_chain *c, const double *x, const double *y, const double *gy)
{
    /* x ~ N(y + eps^2/2 D gy, eps^2 D), D = inv_metric */
    double e2 = c->eps * c->eps, s = 0;
    for (size_t j = 0; j < c->d->dim; j++) {
        double D = c->inv_metric[j];
        double r = x[j] - y[j] - 0.5 * e2 * D * gy[j];
        /* D = 0 (eta under the noise step): the proposal keeps the coordinate exactly, a
         * point mass both ways, so it adds nothing (and r = 0 here, r^2 / 0 a NaN) */
        s += D > 0 ? r * r / (e2 * D) : 0.0;
    }
    return -0.5 * s;
}

static int mala_step(bnn_chain *c, bnn_step_info *info)
{
    mala_state *s = c->state;
    const bnn_density *d = c->d;
    size_t n = d->dim;
    if (!c->grad_valid) {
        c->lp = d->logp(d->ctx, c->work, c->theta, c->grad);
        c->grad_valid = 1;
    }
    double e2 = c->eps * c->eps;
    for (size_t j = 0; j < n; j++) {
        double D = c->inv_metric[j];
        s->prop[j] = c->theta[j] + 0.5 * e2 * D * c->grad[j] +
                     c->eps * sqrt(D) * gsl_ran_gaussian_ziggurat(c->rng, 1.0);
    }
    double lp = d->logp(d->ctx, c->work, s->prop, s->gprop);
    double log_alpha = -INFINITY;
    if (lp > -INFINITY)
        log_alpha = lp - c->lp + log_q(c, c->theta, s->prop, s->gprop) -
                    log_q(c, s->prop, c->theta, c->grad);
    info->stepsize = c->eps;
    info->treedepth = 0;
    info->n_leapfrog = 1;
    info->divergent = 0;
    int accept = bnn_metropolis(c->rng, log_alpha, &info->accept_stat);
    if (accept) {
        bnn_swap(&c->theta, &s->prop);
        bnn_swap(&c->grad, &s->gprop);
        c->lp = lp;
    }
    info->energy = -c->lp;
    return accept;
}


static const bnn_kernel_ops ops = {
    .init = mala_init, .step = mala_step, .term_buffer_div = 5};

const bnn_kernel bnn_kernel_mala = {
    .name = "mala",
    .help = "Metropolis-adjusted Langevin with a diagonal metric",
    .algorithm = "mala",
    .engine = "mala",
    .adapts = 1,
    .target_accept = 0.574,
    .stepsize = 0.1,
    .ops = &ops,
};
