/* hamiltonian.h — phase space with a diagonal or dense metric, shared by the Hamiltonian
 * kernels (hmc, nuts) and Stan's step-size search (internal).
 *
 * Conventions (Stan's diag_e and dense_e): position q, momentum p ~ N(0, M), potential
 * V(q) = -log p(q), Hamiltonian H = V + p' M^-1 p / 2, p_sharp = dH/dp = M^-1 p, where the
 * inverse metric M^-1 is diag(inv_metric) or the dense inv_metric_dense. Leapfrog: p +=
 * eps/2 grad, q += eps p_sharp, p += eps/2 grad. The metric's operations go through the
 * chain's phase table (metric.c), chosen once per chain. */
#ifndef BNNMC_HAMILTONIAN_H
#define BNNMC_HAMILTONIAN_H

#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "kernel.h"

/* An energy error above this is a divergence (Stan's). */
#define MAX_DELTA_H 1000.0

/* A point of phase space. lp is log p(q); g its gradient. */
typedef struct {
    double *q, *p, *g;
    double lp;
} ps_point;

/* Points q, p, g of dimension n taken from consecutive slices of block (3 n doubles each). */
static inline void ps_point_take(ps_point *z, double **block, size_t n)
{
    z->q = *block;
    z->p = *block + n;
    z->g = *block + 2 * n;
    *block += 3 * n;
}

static inline void ps_point_copy(ps_point *dst, const ps_point *src, size_t n)
{
    memcpy(dst->q, src->q, n * sizeof(double));
    memcpy(dst->p, src->p, n * sizeof(double));
    memcpy(dst->g, src->g, n * sizeof(double));
    dst->lp = src->lp;
}

/* Exchanges two points' buffers: where Stan copies a point that is not read again, swapping
 * gives the same trajectory without the copy (each point owns distinct buffers, and a swap
 * keeps them distinct). */
static inline void ps_point_swap(ps_point *a, ps_point *b)
{
    ps_point t = *a;
    *a = *b;
    *b = t;
}

/* sum_j a_j b_j w_j (w NULL: 1) over eight running sums: a single sum is a chain of
 * dependent additions that the compiler may not reorder, and NUTS takes six of these dot
 * products per tree node. With the copies turned into swaps, the tree code went from 17%
 * to 6% of a NUTS run on iris's network (perf). */
static inline double bnn_wdot(const double *a, const double *b, const double *w, size_t n)
{
    double s[8] = {0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; k++)
            s[k] += a[j + k] * b[j + k] * (w ? w[j + k] : 1.0);
    for (; j < n; j++)
        s[0] += a[j] * b[j] * (w ? w[j] : 1.0);
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

static inline double bnn_dot(const double *a, const double *b, size_t n)
{
    return bnn_wdot(a, b, NULL, n);
}

/* The metric's four operations (metric.c): kinetic energy p' M^-1 p / 2, velocity p_sharp =
 * M^-1 p (out distinct from p), a momentum draw p ~ N(0, M) and one leapfrog step. The
 * chain picks its table once (bnn_phase_diag or bnn_phase_dense) when it starts; the
 * diagonal one is the code this header held inline before dense metrics came. */
struct bnn_phase_ops {
    double (*kinetic)(const bnn_chain *c, const double *p);
    void (*p_sharp)(const bnn_chain *c, const double *p, double *out);
    void (*sample_momentum)(bnn_chain *c, double *p);
    void (*leapfrog)(bnn_chain *c, ps_point *z, double eps);
};
extern const bnn_phase_ops bnn_phase_diag, bnn_phase_dense;

/* After c->inv_metric_dense changed: its Cholesky factor into c->metric_chol and its
 * diagonal into c->inv_metric. Fails (BNN_ENUMERIC) when it is not positive definite. */
bnn_status bnn_metric_dense_factor(bnn_chain *c, bnn_error *err);

static inline double ps_kinetic(const bnn_chain *c, const double *p)
{
    return c->phase->kinetic(c, p);
}

static inline double ps_hamiltonian(const bnn_chain *c, const ps_point *z)
{
    double h = -z->lp + ps_kinetic(c, z->p);
    return isnan(h) ? INFINITY : h;
}

/* A coordinate whose inverse metric is 0 (eta under the noise step) is frozen (an infinite
 * mass): its momentum starts at 0 and then takes the leapfrog's gradient kicks like any
 * other, but its VELOCITY, p_sharp = inv_metric .* p, is 0 always, so the position never
 * moves, and the kinetic energy and the U-turn criterion, which read p only through
 * p_sharp or inv_metric .* p, never see it. */
static inline void ps_sample_momentum(bnn_chain *c, double *p)
{
    c->phase->sample_momentum(c, p);
}

static inline void ps_p_sharp(const bnn_chain *c, const double *p, double *out)
{
    c->phase->p_sharp(c, p, out);
}

static inline void ps_leapfrog(bnn_chain *c, ps_point *z, double eps)
{
    c->phase->leapfrog(c, z, eps);
}

static inline double bnn_log_sum_exp(double a, double b)
{
    if (a == -INFINITY)
        return b;
    if (b == -INFINITY)
        return a;
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

/* Starts a trajectory at the chain's state: fresh momentum, the gradient (cached across
 * iterations in c->grad). */
static inline void ps_start(bnn_chain *c, ps_point *z)
{
    const bnn_density *d = c->d;
    size_t n = d->dim;
    memcpy(z->q, c->theta, n * sizeof(double));
    if (!c->grad_valid) {
        c->lp = d->logp(d->ctx, c->work, c->theta, c->grad);
        c->grad_valid = 1;
    }
    memcpy(z->g, c->grad, n * sizeof(double));
    z->lp = c->lp;
    ps_sample_momentum(c, z->p);
}

#endif
