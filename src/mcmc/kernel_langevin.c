/* kernel_langevin.c — the study's Langevin-gradient proposal (Chandra & Simmons), mixed
 * with random-walk moves.
 *
 * Langevin: theta' ~ N(g(theta), diag(scale^2)) where g is the density's drift (one pass of
 * per-row gradient descent). The Metropolis-Hastings ratio carries
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

#include <gsl/gsl_randist.h>

#include "kernel.h"

enum { STEP, STEP_ETA, LR, PROB };

static const bnn_option options[] = {
    [STEP] = {"step", BNN_OPT_POSITIVE, 0.025, 0, 0, "random-walk sd of the weights"},
    [STEP_ETA] = {"step_eta", BNN_OPT_POSITIVE, 0.2, 0, 0,
                  "random-walk sd of eta = log tau^2 (and any other scale parameter)"},
    [LR] = {"lr", BNN_OPT_POSITIVE, 0.01, 0, 0, "Langevin learning rate of the drift"},
    [PROB] = {"langevin_prob", BNN_OPT_REAL, 0.5, 0, 1,
              "probability of a Langevin proposal (else a random-walk one)"},
    {0}};

typedef struct {
    double *prop, *g, *gprop, *scale;
    int g_valid;              /* g holds g(theta) */
} langevin_state;

static bnn_status langevin_init(bnn_chain *c, bnn_error *err)
{
    size_t n = c->d->dim;
    double *v;
    langevin_state *s = bnn_chain_state(c, sizeof *s, 4, &v, err);
    if (!s)
        return BNN_ENOMEM;
    s->prop = v;
    s->g = v + n;
    s->gprop = v + 2 * n;
    s->scale = v + 3 * n;
    bnn_rw_scale(c, s->scale, c->opt[STEP], c->opt[STEP_ETA]);
    return BNN_OK;
}

/* log N(x | gy, diag(scale^2)) without its constant: the proposal's log q. */
static double log_q(size_t dim, const double *scale, const double *x, const double *gy)
{
    double s = 0.0;
    for (size_t j = 0; j < dim; j++) {
        double r = (x[j] - gy[j]) / scale[j];
        s += r * r;
    }
    return -0.5 * s;
}

/* g(theta): the density's drift, or theta + lr grad log p when it has none (the chain's
 * gradient buffer is scratch here: this kernel never marks it valid). */
static void drift(bnn_chain *c, const double *theta, double *out)
{
    const bnn_density *d = c->d;
    double lr = c->opt[LR];
    if (d->drift) {
        d->drift(d->ctx, c->work, lr, theta, out);
        return;
    }
    d->logp(d->ctx, c->work, theta, c->grad);
    for (size_t j = 0; j < d->dim; j++)
        out[j] = theta[j] + lr * c->grad[j];
}

static int langevin_move(bnn_chain *c, langevin_state *s, double *accept_stat)
{
    const bnn_density *d = c->d;
    size_t n = d->dim;
    if (!s->g_valid) {
        drift(c, c->theta, s->g);
        s->g_valid = 1;
    }
    for (size_t j = 0; j < n; j++)
        s->prop[j] = s->g[j] + s->scale[j] * gsl_ran_gaussian_ziggurat(c->rng, 1.0);
    double lp = d->logp(d->ctx, c->work, s->prop, NULL);
    double log_alpha = lp - c->lp;
    if (lp > -INFINITY) {
        drift(c, s->prop, s->gprop);
        log_alpha += log_q(n, s->scale, c->theta, s->gprop) - log_q(n, s->scale, s->prop, s->g);
    }
    if (!bnn_metropolis(c->rng, log_alpha, accept_stat))
        return 0;
    bnn_swap(&c->theta, &s->prop);
    bnn_swap(&s->g, &s->gprop);
    c->lp = lp;
    return 1;
}

static int langevin_step(bnn_chain *c, bnn_step_info *info)
{
    langevin_state *s = c->state;
    double accept_stat;
    int moved;
    if (gsl_rng_uniform(c->rng) < c->opt[PROB]) {
        moved = langevin_move(c, s, &accept_stat);
    } else {
        moved = bnn_rw_move(c, &s->prop, s->scale, &accept_stat);
        if (moved)
            s->g_valid = 0;
    }
    bnn_step_info_plain(info, accept_stat, c->opt[STEP], c->lp);
    return moved;
}

/* The state was replaced (pt's exchanges): the cached g(theta) is of the old one. */
static void langevin_reset(bnn_chain *c)
{
    langevin_state *s = c->state;
    s->g_valid = 0;
}

static const bnn_kernel_ops ops = {
    .init = langevin_init, .step = langevin_step, .reset = langevin_reset};

const bnn_kernel bnn_kernel_langevin = {
    .name = "langevin",
    .help = "the study's Langevin-gradient / random-walk mixture",
    .algorithm = "langevin",
    .engine = "langevin",
    .options = options,
    .ops = &ops,
};
