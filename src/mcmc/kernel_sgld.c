/* kernel_sgld.c — stochastic gradient Langevin dynamics (Welling & Teh 2011, eq. 4): on a
 * batch of B of the n rows,
 *     theta' = theta + eps/2 (grad log prior + n/B sum_batch grad log lik) + N(0, eps I),
 * with no Metropolis correction, so APPROXIMATE: its draws follow a distribution near the
 * posterior, nearer as eps shrinks (on a Gaussian posterior of precision P the variance is
 * inflated by about 1/(1 - eps P/4) plus the batch noise's share; the mean is unbiased).
 * eps follows the cyclical schedule of Zhang et al. 2020 (minibatch.h): their alpha_k is
 * eps_k / 2, their exploration stage the updates without the noise term.
 *
 * A non-finite update (its batch estimate of log p or of the gradient, or the point, not
 * finite: a step too large) is refused: the chain stays where it was before that update
 * (not before the whole iteration), the next update draws a fresh batch there, and the
 * iteration's divergent__ is 1. */
#include <math.h>

#include <gsl/gsl_randist.h>

#include "minibatch.h"

enum { OPT_STEP = 3 };

static bnn_status sgld_check(const bnn_density *d, const bnn_run_config *cfg, bnn_error *err)
{
    return bnn_sg_check(d, cfg, "sgld", err);
}

static bnn_status sgld_init(bnn_chain *c, bnn_error *err)
{
    /* 0.04 / n: on a posterior whose curvature is n times a per-row c, eps/2 n c = 0.02 c,
     * stable (below 2) for c up to 100 */
    double step0 = c->opt[OPT_STEP] > 0 ? c->opt[OPT_STEP] : 0.04 / (double)c->d->n_rows;
    return bnn_sg_init(c, 0, step0, err);
}

/* One update at step eps, with the noise term or (exploration) without; 1 when it moved. */
static int sgld_update(bnn_chain *c, double eps, int noise)
{
    bnn_sg_state *s = c->state;
    if (!bnn_sg_ready(c))
        return 0;
    size_t n = c->d->dim;
    double h = 0.5 * eps, sd = sqrt(eps);
    const double *th = c->theta, *g = c->grad;
    if (noise)
        for (size_t j = 0; j < n; j++)
            s->prop[j] = th[j] + h * g[j] + sd * gsl_ran_gaussian_ziggurat(c->rng, 1.0);
    else
        for (size_t j = 0; j < n; j++)
            s->prop[j] = th[j] + h * g[j];
    double lp;
    if (!bnn_sg_eval(c, s->prop, &lp, s->gprop)) {
        s->refused++;
        c->grad_valid = 0;   /* a fresh batch at the point kept */
        return 0;
    }
    bnn_swap(&c->theta, &s->prop);
    bnn_swap(&c->grad, &s->gprop);
    c->lp = lp;
    return 1;
}

static int sgld_step(bnn_chain *c, bnn_step_info *info)
{
    bnn_sg_state *s = c->state;
    s->evals = s->refused = 0;
    bnn_sg_where w;
    bnn_sg_locate(&s->plan, s->k, &w);
    for (size_t e = 0; e < w.explore_now; e++)
        sgld_update(c, s->step0 * bnn_sg_cosine(e, w.n_explore + w.n_sample), 0);
    double eps = s->step0 * w.factor;
    int moved = sgld_update(c, eps, 1);
    s->k++;
    bnn_sg_info(c, info, moved, eps);
    return moved;
}

/* batch, cycles and explore first, in minibatch.h's order (its SG_SHARED_OPTIONS) */
static const bnn_option sgld_options[] = {
    SG_SHARED_OPTIONS,
    {"sgld_step", BNN_OPT_REAL, 0, 0, 1e6, "SGLD's step eps in burn-in, at each cycle's start and "
     "throughout with cycles 0 (0: 0.04/n, n training rows)", NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL}};

static const bnn_kernel_ops ops = {
    .check = sgld_check, .init = sgld_init, .step = sgld_step, .free = bnn_sg_free,
    .save = bnn_sg_save, .load = bnn_sg_load};

const bnn_kernel bnn_kernel_sgld = {
    .name = "sgld",
    .help = "stochastic gradient Langevin on minibatches (--batch), cyclical steps",
    .algorithm = "sgld",
    .engine = "sgld",
    .approximate = 1,
    .options = sgld_options,
    .ops = &ops,
};
