/* kernel_hmc.c — static Hamiltonian Monte Carlo with a diagonal or dense metric, its step
 * size and metric tuned in burn-in as Stan's; phase space in hamiltonian.h. */
#include <math.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "hamiltonian.h"

enum { INT_TIME };

static const bnn_option options[] = {
    [INT_TIME] = {"int_time", BNN_OPT_POSITIVE, 2 * M_PI, 0, 0,
                  "integration time; leapfrog steps = int_time / step size (jittered)"},
    {0}};

static bnn_status hmc_init(bnn_chain *c, bnn_error *err)
{
    double *b;
    ps_point *z = bnn_chain_state(c, sizeof *z, 3, &b, err);
    if (!z)
        return BNN_ENOMEM;
    ps_point_take(z, &b, c->d->dim);
    return BNN_OK;
}

/* Static HMC: about int_time / eps leapfrog steps, then one Metropolis test on the energy.
 * The count is drawn uniformly from 1 .. 2 L0 - 1 (mean L0 = int_time / eps, at most
 * 1024) each iteration: a fixed count resonates with the posterior's own periods (on an
 * adapted Gaussian, int_time 2 pi is exactly one period and the chain barely moves). A
 * count chosen independently of the state keeps the kernel reversible. */
static int hmc_step(bnn_chain *c, bnn_step_info *info)
{
    ps_point *z = c->state;
    size_t n = c->d->dim;
    ps_start(c, z);
    double H0 = ps_hamiltonian(c, z);
    double steps = floor(c->opt[INT_TIME] / c->eps);
    int L0 = steps < 1 ? 1 : (steps > 1024 ? 1024 : (int)steps);
    int L = 1 + (int)gsl_rng_uniform_int(c->rng, (unsigned long)(2 * L0 - 1));
    /* Every one of the L steps is taken even after an energy error above 1000: stopping
     * there (or rejecting for it) would make the move's acceptance depend on the path,
     * which the reverse move does not share. Only a non-finite energy ends the path early:
     * from there the end point is non-finite too, so the move is rejected either way. */
    int divergent = 0, l = 0;
    double h = H0;
    while (l < L && isfinite(h)) {
        ps_leapfrog(c, z, c->eps);
        l++;
        h = ps_hamiltonian(c, z);
        divergent |= h - H0 > MAX_DELTA_H;
    }
    info->stepsize = c->eps;
    info->treedepth = 0;
    info->n_leapfrog = l;
    info->divergent = divergent;
    /* divergent is reported, not acted on: the test is on the end point alone */
    int accept = bnn_metropolis(c->rng, H0 - h, &info->accept_stat);
    if (accept) {
        memcpy(c->theta, z->q, n * sizeof(double));
        memcpy(c->grad, z->g, n * sizeof(double));
        c->lp = z->lp;
        info->energy = h;
    } else {
        info->energy = H0;
    }
    return accept;
}


static const bnn_kernel_ops ops = {
    .init = hmc_init, .step = hmc_step, .search_stepsize = 1};

const bnn_kernel bnn_kernel_hmc = {
    .name = "hmc",
    .help = "static HMC: leapfrog steps of about int_time / step size, one Metropolis test",
    .algorithm = "hmc",
    .engine = "static",
    .adapts = 1,
    .dense_metric = 1,   /* it moves through hamiltonian.h's phase operations */
    .target_accept = 0.8,
    .stepsize = 1.0,
    .options = options,
    .ops = &ops,
};
