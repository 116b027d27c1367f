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

/* ------------------------------------------------------------ adaptation */

/* Stan's dual-averaging constants */
#define DA_GAMMA 0.05
#define DA_T0 10.0
#define DA_KAPPA 0.75

static void da_restart(bnn_dual_avg *a, double eps)
{
    a->mu = log(10 * eps);
    a->s_bar = a->x_bar = a->counter = 0;
}

static void da_learn(bnn_dual_avg *a, double *eps, double accept_stat)
{
    a->counter += 1;
    double as = accept_stat > 1 ? 1 : accept_stat;
    double eta = 1.0 / (a->counter + DA_T0);
    a->s_bar = (1 - eta) * a->s_bar + eta * (a->delta - as);
    double x = a->mu - a->s_bar * sqrt(a->counter) / DA_GAMMA;
    double x_eta = pow(a->counter, -DA_KAPPA);
    a->x_bar = (1 - x_eta) * a->x_bar + x_eta * x;
    *eps = exp(x);
}

/* Stan's windowed_adaptation: buffers 75 / window 25 / 50, shrunk to 15% / 75% / 10% of a
 * short warmup; no metric estimation under 20 warmup iterations. A deliberate difference:
 * for 20..149 warm-up iterations Stan announces the shrunk windows but, as its
 * set_window_params returns before restart(), never ends one: its metric stays the
 * identity. Here the shrunk windows are used, as Stan's message says. term_min raises the
 * terminal buffer (the step size's last tuning, after the final metric) where the
 * warm-up is long enough: MALA's acceptance is far more sensitive to its step than
 * NUTS's, and Stan's 50 iterations left it at a fifth of its target. */
static void va_init(bnn_var_adapt *v, size_t n_warmup, int on, size_t term_min)
{
    v->on = on && n_warmup >= 20;
    v->n_warmup = n_warmup;
    v->init_buffer = 75;
    v->term_buffer = 50;
    v->base_window = 25;
    if (v->init_buffer + v->base_window + v->term_buffer > n_warmup) {
        v->init_buffer = (size_t)(0.15 * (double)n_warmup);
        v->term_buffer = (size_t)(0.1 * (double)n_warmup);
        v->base_window = n_warmup - (v->init_buffer + v->term_buffer);
    }
    if (term_min > v->term_buffer && v->init_buffer + v->base_window + term_min <= n_warmup) {
        v->term_buffer = term_min;
    }
    v->counter = 0;
    v->window_size = v->base_window;
    v->next_window = v->init_buffer + v->window_size - 1;
    v->n = 0;
}

static void va_next_window(bnn_var_adapt *v)
{
    size_t last = v->n_warmup - v->term_buffer - 1;
    if (v->next_window == last)
        return;
    v->window_size *= 2;
    v->next_window = v->counter + v->window_size;
    if (v->next_window != last && v->next_window + 2 * v->window_size >= v->n_warmup - v->term_buffer)
        v->next_window = last;
}

/* Adds q to the window's estimate; at a window's end writes the regularised variance into
 * inv_metric and returns 1. */
static int va_learn(bnn_var_adapt *v, double *inv_metric, const double *q, size_t dim)
{
    int in_window = v->counter >= v->init_buffer && v->counter < v->n_warmup - v->term_buffer &&
                    v->counter != v->n_warmup;
    if (in_window) {
        v->n++;
        for (size_t j = 0; j < dim; j++) {
            double delta = q[j] - v->mean[j];
            v->mean[j] += delta / (double)v->n;
            v->m2[j] += delta * (q[j] - v->mean[j]);
        }
    }
    if (v->counter == v->next_window && v->counter != v->n_warmup) {
        va_next_window(v);
        double n = (double)v->n;
        for (size_t j = 0; j < dim; j++) {
            /* as Stan's: with one draw in the window the current metric is regularised */
            double var = n > 1 ? v->m2[j] / (n - 1) : inv_metric[j];
            inv_metric[j] = (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0));
            v->mean[j] = v->m2[j] = 0;
        }
        v->n = 0;
        v->counter++;
        return 1;
    }
    v->counter++;
    return 0;
}

static int adaptive(bnn_sampler s)
{
    return s == BNN_SAMPLER_MALA || s == BNN_SAMPLER_HMC || s == BNN_SAMPLER_NUTS;
}

bnn_status bnn_chain_adapt(bnn_chain *c, size_t it, const bnn_step_info *info, bnn_error *err)
{
    if (!c->adapting)
        return BNN_OK;
    da_learn(&c->da, &c->eps, info->accept_stat);
    if (c->va.on && va_learn(&c->va, c->inv_metric, c->theta, c->d->dim)) {
        for (size_t j = 0; j < c->d->dim; j++)
            if (!isfinite(c->inv_metric[j]) || !(c->inv_metric[j] > 0))
                return bnn_fail(err, BNN_ENUMERIC, "numerical overflow in metric adaptation "
                                "(coordinate %zu's variance over the window is %g)", j + 1,
                                c->inv_metric[j]);
        if (c->cfg->sampler != BNN_SAMPLER_MALA) {
            bnn_status st = bnn_init_stepsize(c, err);
            if (st)
                return st;
        }
        da_restart(&c->da, c->eps);
    }
    if (it + 1 == c->cfg->n_burn) {
        c->eps = exp(c->da.x_bar);   /* the averaged iterate, as Stan ends warmup */
        c->adapting = 0;
    }
    return BNN_OK;
}

/* ------------------------------------------------------------ the chain */

bnn_status bnn_chain_init(bnn_chain *c, const bnn_density *d, const bnn_run_config *cfg,
                          unsigned long seed, const double *theta0, bnn_error *err)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    c->cfg = cfg;
    size_t n = d->dim;
    c->rng = gsl_rng_alloc(gsl_rng_mt19937);
    c->work = malloc((d->work_len ? d->work_len : 1) * sizeof(double));
    c->buf = malloc(9 * n * sizeof(double));
    if (!c->rng || !c->work || !c->buf) {
        bnn_chain_free(c);
        return bnn_fail(err, BNN_ENOMEM, "out of memory for a chain of dimension %zu", n);
    }
    gsl_rng_set(c->rng, seed);
    double *b = c->buf;
    double **vecs[] = {&c->theta, &c->prop, &c->g, &c->gprop, &c->scale, &c->grad,
                       &c->inv_metric, &c->va.mean, &c->va.m2};
    for (size_t k = 0; k < sizeof vecs / sizeof vecs[0]; k++, b += n)
        *vecs[k] = b;
    for (size_t j = 0; j < n; j++) {
        c->scale[j] = j < d->n_weights ? cfg->step : cfg->step_eta;
        c->inv_metric[j] = 1.0;
        c->va.mean[j] = c->va.m2[j] = 0;
    }
    memcpy(c->theta, theta0, n * sizeof(double));
    c->lp = d->logp(d->ctx, c->work, c->theta, NULL);
    c->g_valid = 0;
    if (!isfinite(c->lp)) {
        /* Stan refuses such a start too; every later test would compare with it */
        double lp = c->lp;
        bnn_chain_free(c);
        return bnn_fail(err, BNN_ENUMERIC, "the log density at the starting point is %g, not "
                        "finite (check --init or the data)", lp);
    }
    bnn_status st = BNN_OK;
    if (cfg->sampler == BNN_SAMPLER_HMC || cfg->sampler == BNN_SAMPLER_NUTS ||
        cfg->sampler == BNN_SAMPLER_MALA)
        if ((st = bnn_nuts_alloc(c)) != BNN_OK)
            bnn_fail(err, st, "out of memory for the trajectory of a chain of dimension %zu", n);
    if (!st && cfg->sampler == BNN_SAMPLER_GIBBS)
        st = bnn_gibbs_alloc(c, err);
    if (st) {
        bnn_chain_free(c);
        return st;
    }
    if (adaptive(cfg->sampler)) {
        double delta = cfg->target_accept > 0 ? cfg->target_accept
                                              : (cfg->sampler == BNN_SAMPLER_MALA ? 0.574 : 0.8);
        double eps0 = cfg->stepsize > 0 ? cfg->stepsize
                                        : (cfg->sampler == BNN_SAMPLER_MALA ? 0.1 : 1.0);
        c->eps = eps0;
        if (!cfg->adapt)
            return BNN_OK;   /* Stan's adapt engaged = 0: the step as given, no search */
        if (cfg->sampler != BNN_SAMPLER_MALA && (st = bnn_init_stepsize(c, err)) != BNN_OK) {
            bnn_chain_free(c);
            return st;
        }
        c->da.delta = delta;
        /* Stan centres the first window's dual averaging on ten times the step size it
         * was given, not on the one its search found (later windows: the search's). */
        da_restart(&c->da, eps0);
        va_init(&c->va, cfg->n_burn, cfg->adapt_metric,
                cfg->sampler == BNN_SAMPLER_MALA ? cfg->n_burn / 5 : 0);
        c->adapting = cfg->n_burn > 0;
    }
    return BNN_OK;
}

void bnn_chain_free(bnn_chain *c)
{
    if (c->rng)
        gsl_rng_free(c->rng);
    bnn_nuts_free(c);
    bnn_gibbs_free(c);
    free(c->work);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

int bnn_metropolis(bnn_chain *c, double log_alpha, double *accept_stat)
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
    if (!bnn_metropolis(c, lp - c->lp, accept_stat))
        return 0;
    bnn_swap(&c->theta, &c->prop);
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
    if (!bnn_metropolis(c, log_alpha, accept_stat))
        return 0;
    bnn_swap(&c->theta, &c->prop);
    bnn_swap(&c->g, &c->gprop);
    c->lp = lp;
    return 1;
}

int bnn_chain_step(bnn_chain *c, bnn_step_info *info)
{
    int moved;
    switch (c->cfg->sampler) {
    case BNN_SAMPLER_MALA: return bnn_step_mala(c, info);
    case BNN_SAMPLER_HMC: return bnn_step_hmc(c, info);
    case BNN_SAMPLER_NUTS: return bnn_step_nuts(c, info);
    case BNN_SAMPLER_GIBBS: return bnn_step_gibbs(c, info);
    case BNN_SAMPLER_LANGEVIN:
        if (gsl_rng_uniform(c->rng) < c->cfg->langevin_prob) {
            moved = step_langevin(c, &info->accept_stat);
            break;
        }
        /* fall through */
    default:
        moved = step_rw(c, &info->accept_stat);
        break;
    }
    info->stepsize = c->cfg->step;
    info->treedepth = 0;
    info->n_leapfrog = 1;
    info->divergent = 0;
    info->energy = -c->lp;
    return moved;
}
