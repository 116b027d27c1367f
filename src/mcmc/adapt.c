/* adapt.c — tuning an adaptive kernel in burn-in, as Stan does: the step size by dual
 * averaging, the inverse metric (diagonal or dense) in expanding windows, and Stan's step-size search
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

/* Welford's running variance of each coordinate (Stan's welford_var_estimator). */
static void va_add_diag(bnn_var_adapt *v, const double *q, size_t dim)
{
    v->n++;
    for (size_t j = 0; j < dim; j++) {
        double delta = q[j] - v->mean[j];
        v->mean[j] += delta / (double)v->n;
        v->m2[j] += delta * (q[j] - v->mean[j]);
    }
}

/* The window's regularised variances into inv_metric. */
static void va_estimate_diag(bnn_var_adapt *v, double *inv_metric, size_t dim)
{
    double n = (double)v->n;
    for (size_t j = 0; j < dim; j++) {
        /* as Stan's: with one draw in the window the current metric is regularised */
        double var = n > 1 ? v->m2[j] / (n - 1) : inv_metric[j];
        /* a 0 entry is a frozen coordinate (eta under the noise step): it stays 0, and
         * the regularised estimates are never 0 */
        if (inv_metric[j] != 0)
            inv_metric[j] = (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0));
        v->mean[j] = v->m2[j] = 0;
    }
}

/* Welford's running covariance (Stan's welford_covar_estimator): m2 += (q - mean_new)
 * (q - mean_old)'; delta is a vector of scratch. */
static void va_add_dense(bnn_var_adapt *v, const double *q, size_t dim, double *delta)
{
    v->n++;
    for (size_t j = 0; j < dim; j++) {
        delta[j] = q[j] - v->mean[j];
        v->mean[j] += delta[j] / (double)v->n;
    }
    for (size_t i = 0; i < dim; i++) {
        double qi = q[i] - v->mean[i];
        double *row = v->m2 + i * dim;
        for (size_t j = 0; j < dim; j++)
            row[j] += qi * delta[j];
    }
}

/* The window's regularised covariance into A (covar_adaptation's (n / (n + 5)) Sigma +
 * 1e-3 (5 / (n + 5)) I). Stan keeps the full product, whose two triangles can differ in
 * the last bit; here the lower triangle is mirrored, so the metric is exactly symmetric
 * and is the matrix BLAS's dsymv and the Cholesky factorisation read. */
static void va_estimate_dense(bnn_var_adapt *v, double *A, size_t dim)
{
    double n = (double)v->n;
    for (size_t i = 0; i < dim; i++) {
        for (size_t j = 0; j <= i; j++) {
            double cov = n > 1 ? v->m2[i * dim + j] / (n - 1) : A[i * dim + j];
            double a = (n / (n + 5.0)) * cov + (i == j ? 1e-3 * (5.0 / (n + 5.0)) : 0.0);
            A[i * dim + j] = A[j * dim + i] = a;
        }
        v->mean[i] = 0;
    }
    memset(v->m2, 0, dim * dim * sizeof(double));
}

/* Adds the chain's position to the window's estimate; at a window's end writes the
 * regularised estimate into the inverse metric and returns 1. */
static int va_learn(bnn_chain *c)
{
    bnn_var_adapt *v = &c->va;
    size_t dim = c->d->dim;
    int dense = c->cfg->metric == BNN_METRIC_DENSE;
    int in_window = v->counter >= v->init_buffer && v->counter < v->n_warmup - v->term_buffer &&
                    v->counter != v->n_warmup;
    if (in_window) {
        if (dense)
            va_add_dense(v, c->theta, dim, c->metric_tmp);
        else
            va_add_diag(v, c->theta, dim);
    }
    if (v->counter == v->next_window && v->counter != v->n_warmup) {
        va_next_window(v);
        if (dense)
            va_estimate_dense(v, c->inv_metric_dense, dim);
        else
            va_estimate_diag(v, c->inv_metric, dim);
        v->n = 0;
        v->counter++;
        return 1;
    }
    v->counter++;
    return 0;
}

/* After a window: the new metric must be finite (Stan's overflow check) and, when dense,
 * positive definite (its Cholesky factor is taken here). */
static bnn_status metric_check(bnn_chain *c, bnn_error *err)
{
    size_t n = c->d->dim;
    int dense = c->cfg->metric == BNN_METRIC_DENSE;
    const double *m = dense ? c->inv_metric_dense : c->inv_metric;
    size_t len = dense ? n * n : n;
    for (size_t k = 0; k < len; k++)
        if (!isfinite(m[k]) || (!dense && !(m[k] >= 0)))
            return bnn_fail(err, BNN_ENUMERIC, "numerical overflow in metric adaptation "
                            "(coordinate %zu's %s over the window is %g)", (dense ? k / n : k) + 1,
                            dense ? "covariance" : "variance", m[k]);
    return dense ? bnn_metric_dense_factor(c, err) : BNN_OK;
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
        bnn_status st = c->restoring ? BNN_OK : search_stepsize(c, err);
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
    if (c->va.on && va_learn(c)) {
        bnn_status ms = metric_check(c, err);
        if (ms)
            return ms;
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
