/* adapt.c — tuning an adaptive kernel in burn-in, as Stan does: the step size by dual
 * averaging, the diagonal inverse metric in expanding windows, and Stan's step-size search
 * at the start and after each metric window (for the kernels that ask for it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hamiltonian.h"

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
 * terminal buffer where the warm-up is long enough (see bnn_kernel_ops.term_buffer_div). */
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

/* One leapfrog step of size eps from theta with a fresh momentum: H0 - H after it. */
static double one_step_delta_H(bnn_chain *c, ps_point *z)
{
    ps_start(c, z);
    double H0 = ps_hamiltonian(c, z);
    ps_leapfrog(c, z, c->eps);
    return H0 - ps_hamiltonian(c, z);
}

/* Stan's heuristic: double or halve eps until one leapfrog step's acceptance crosses 0.8.
 * As Stan's, fails when eps passes 1e7 ("the posterior is improper") or halves to 0. */
static bnn_status search_stepsize(bnn_chain *c, bnn_error *err)
{
    ps_point *z = c->search;
    /* as Stan's: skip extreme step sizes, which could loop for ever */
    if (!(c->eps > 0) || c->eps > 1e7)
        return BNN_OK;
    const double log08 = log(0.8);
    /* the first trial only sets the direction, as Stan's */
    int direction = one_step_delta_H(c, z) > log08 ? 1 : -1;
    for (;;) {
        double delta_H = one_step_delta_H(c, z);
        if ((direction == 1 && !(delta_H > log08)) || (direction == -1 && !(delta_H < log08)))
            return BNN_OK;
        c->eps = direction == 1 ? 2 * c->eps : 0.5 * c->eps;
        if (c->eps > 1e7)
            return bnn_fail(err, BNN_ENUMERIC, "the step-size search passed 1e7: the posterior "
                            "is improper (check the model and its priors)");
        if (c->eps == 0)
            return bnn_fail(err, BNN_ENUMERIC, "no acceptably small step size could be found "
                            "(is the log density continuous and finite at the starting point?)");
    }
}

bnn_status bnn_adapt_init(bnn_chain *c, bnn_error *err)
{
    const bnn_run_config *cfg = c->cfg;
    const bnn_kernel *k = c->k;
    size_t n = c->d->dim;
    double eps0 = cfg->stepsize > 0 ? cfg->stepsize : k->stepsize;
    c->eps = eps0;
    if (!cfg->adapt)
        return BNN_OK;   /* Stan's adapt engaged = 0: the step as given, no search */
    if (k->ops->search_stepsize) {
        ps_point *z = malloc(sizeof *z + 3 * n * sizeof(double));
        if (!z)
            return bnn_fail(err, BNN_ENOMEM, "out of memory for a chain of dimension %zu", n);
        double *b = (double *)(z + 1);
        ps_point_take(z, &b, n);
        c->search = z;
        bnn_status st = search_stepsize(c, err);
        if (st)
            return st;
    }
    c->da.delta = cfg->target_accept > 0 ? cfg->target_accept : k->target_accept;
    /* Stan centres the first window's dual averaging on ten times the step size it was
     * given, not on the one its search found (later windows: the search's). */
    da_restart(&c->da, eps0);
    size_t div = k->ops->term_buffer_div;
    va_init(&c->va, cfg->n_burn, cfg->adapt_metric, div ? cfg->n_burn / div : 0);
    c->adapting = cfg->n_burn > 0;
    return BNN_OK;
}

bnn_status bnn_chain_adapt(bnn_chain *c, size_t it, const bnn_step_info *info, bnn_error *err)
{
    if (c->k->ops->adapt)   /* a kernel that tunes itself (pt: its replicas) */
        return c->k->ops->adapt(c, it, info, err);
    if (!c->adapting)
        return BNN_OK;
    da_learn(&c->da, &c->eps, info->accept_stat);
    if (c->va.on && va_learn(&c->va, c->inv_metric, c->theta, c->d->dim)) {
        for (size_t j = 0; j < c->d->dim; j++)
            if (!isfinite(c->inv_metric[j]) || !(c->inv_metric[j] > 0))
                return bnn_fail(err, BNN_ENUMERIC, "numerical overflow in metric adaptation "
                                "(coordinate %zu's variance over the window is %g)", j + 1,
                                c->inv_metric[j]);
        if (c->k->ops->search_stepsize) {
            bnn_status st = search_stepsize(c, err);
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
