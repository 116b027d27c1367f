/* kernel_sghmc.c — stochastic gradient Hamiltonian Monte Carlo in the practical form of
 * Chen, Fox & Guestrin 2014 (eq. 15): with learning rate eta, friction alpha and the noise
 * estimate beta_hat, on a batch of B of the n rows,
 *     theta' = theta + v
 *     v'     = v - eta grad U~(theta') - alpha v + N(0, 2 (alpha - beta_hat) eta I),
 * U~ = -(log prior + n/B sum_batch log lik) (their Algorithm 2's order: the position moves
 * with the old momentum, the momentum takes the gradient at the new position). No
 * Metropolis correction: APPROXIMATE, nearer the posterior as eta shrinks. eta follows the
 * cyclical schedule of Zhang et al. 2020 (minibatch.h); the exploration stage's updates
 * have no noise term (SGD with momentum 1 - alpha).
 *
 * Defaults: alpha 0.1 and eta = alpha * 0.02/n, so that eta/alpha, the step of the
 * overdamped limit (theta' = theta - (eta/alpha) grad U~ + N(0, 2 eta/alpha)), equals
 * sgld's eps/2 at its default 0.04/n: the two defaults take the same long-run step.
 *
 * A non-finite update is refused: the chain keeps its position, the momentum is zeroed
 * (a momentum that carried the chain to overflow would carry it there again), and the
 * iteration's divergent__ is 1. */
#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "minibatch.h"

enum { OPT_LR = 3, OPT_FRICTION = 4, OPT_BETA_HAT = 5 };

static bnn_status sghmc_check(const bnn_density *d, const bnn_run_config *cfg, bnn_error *err)
{
    const bnn_kernel *k = bnn_kernel_find("sghmc");
    double a = bnn_run_config_get(cfg, k, "friction"), b = bnn_run_config_get(cfg, k, "beta_hat");
    if (!(a > 0))
        return bnn_fail(err, BNN_EINVAL, "--friction must be positive (0 leaves no noise: "
                        "Hamiltonian dynamics, not a sampler)");
    if (!(b < a))
        return bnn_fail(err, BNN_EINVAL, "--beta-hat %g must be below --friction %g (the noise "
                        "added has variance 2 (friction - beta_hat) lr)", b, a);
    return bnn_sg_check(d, cfg, "sghmc", err);
}

static bnn_status sghmc_init(bnn_chain *c, bnn_error *err)
{
    double step0 = c->opt[OPT_LR] > 0 ? c->opt[OPT_LR]
                                      : c->opt[OPT_FRICTION] * 0.02 / (double)c->d->n_rows;
    return bnn_sg_init(c, 1, step0, err);
}

static void sghmc_reset(bnn_chain *c)
{
    bnn_sg_state *s = c->state;
    memset(s->v, 0, c->d->dim * sizeof *s->v);
}

/* One update at learning rate eta, with the noise term or (exploration) without. */
static int sghmc_update(bnn_chain *c, double eta, int noise)
{
    bnn_sg_state *s = c->state;
    size_t n = c->d->dim;
    double alpha = c->opt[OPT_FRICTION], beta = c->opt[OPT_BETA_HAT];
    for (size_t j = 0; j < n; j++)
        s->prop[j] = c->theta[j] + s->v[j];
    double lp;
    if (!bnn_sg_eval(c, s->prop, &lp, s->gprop)) {
        s->refused++;
        sghmc_reset(c);
        return 0;
    }
    bnn_swap(&c->theta, &s->prop);
    bnn_swap(&c->grad, &s->gprop);
    c->lp = lp;
    c->grad_valid = 1;
    /* grad U~ = -grad log p: the gradient's term enters with a plus */
    double keep = 1.0 - alpha, sd = sqrt(2.0 * (alpha - beta) * eta);
    const double *g = c->grad;
    if (noise)
        for (size_t j = 0; j < n; j++)
            s->v[j] = keep * s->v[j] + eta * g[j] + sd * gsl_ran_gaussian_ziggurat(c->rng, 1.0);
    else
        for (size_t j = 0; j < n; j++)
            s->v[j] = keep * s->v[j] + eta * g[j];
    return 1;
}

static int sghmc_step(bnn_chain *c, bnn_step_info *info)
{
    bnn_sg_state *s = c->state;
    s->evals = s->refused = 0;
    bnn_sg_where w;
    bnn_sg_locate(&s->plan, s->k, &w);
    for (size_t e = 0; e < w.explore_now; e++)
        sghmc_update(c, s->step0 * bnn_sg_cosine(e, w.n_explore + w.n_sample), 0);
    double eta = s->step0 * w.factor;
    int moved = sghmc_update(c, eta, 1);
    s->k++;
    bnn_sg_info(c, info, moved, eta);
    return moved;
}

/* batch, cycles and explore first, in minibatch.h's order (its SG_SHARED_OPTIONS) */
static const bnn_option sghmc_options[] = {
    SG_SHARED_OPTIONS,
    {"sghmc_lr", BNN_OPT_REAL, 0, 0, 1e6, "SGHMC's learning rate eta in burn-in, at each cycle's "
     "start and throughout with cycles 0 (0: friction * 0.02/n, n training rows)", NULL},
    {"friction", BNN_OPT_REAL, 0.1, 0, 1, "SGHMC's friction alpha (momentum 1 - alpha; above 0 "
     "and above beta_hat)", NULL},
    {"beta_hat", BNN_OPT_REAL, 0, 0, 1, "SGHMC's estimate beta_hat of the batch gradient's "
     "noise (< friction)", NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL}};

static const bnn_kernel_ops ops = {
    .check = sghmc_check, .init = sghmc_init, .step = sghmc_step, .free = bnn_sg_free,
    .reset = sghmc_reset, .save = bnn_sg_save, .load = bnn_sg_load};

const bnn_kernel bnn_kernel_sghmc = {
    .name = "sghmc",
    .help = "stochastic gradient HMC (friction) on minibatches (--batch), cyclical steps",
    .algorithm = "sghmc",
    .engine = "sghmc",
    .approximate = 1,
    .options = sghmc_options,
    .ops = &ops,
};
