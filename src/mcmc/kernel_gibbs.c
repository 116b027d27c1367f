/* kernel_gibbs.c — Gibbs sampling of a regression whose mean is linear in its weights, from
 * the exact conditionals the density offers (bnn_density.noise):
 *   w | tau^2, y  ~ N(A^-1 Z'y / tau^2, A^-1),  A = Z'Z / tau^2 + I / sigma^2
 *                     (1 / sigma^2 = 0 under a flat prior: Z'Z must be of full rank, as the
 *                     model checks)
 *   tau^2 | w, y  ~ inverse-gamma(nu1 + n/2, nu2 + |y - Z w|^2 / 2)
 * The chain's state stays in the density's coordinates (eta = log tau^2). */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

#include "kernel.h"

typedef struct {
    size_t d;                  /* weights: the first d coordinates; eta is coordinate d */
    gsl_matrix *A;
    gsl_vector *r, *mean, *z;
} gibbs_state;

static bnn_status gibbs_check(const bnn_density *d, const bnn_run_config *cfg, bnn_error *err)
{
    (void)cfg;
    const bnn_gaussian_noise *nz = d->noise;
    if (!nz || !nz->n_linear || !nz->ztz || !nz->zty || !nz->sse || nz->eta != nz->n_linear ||
        d->dim != nz->n_linear + 1)
        return bnn_fail(err, BNN_EINVAL, "gibbs samples only the linear regression (--model "
                        "linear, identity output): it needs conjugate conditionals");
    return BNN_OK;
}

static void gibbs_free(bnn_chain *c)
{
    gibbs_state *w = c->state;
    gsl_matrix_free(w->A);
    gsl_vector_free(w->r);
    gsl_vector_free(w->mean);
    gsl_vector_free(w->z);
}

static bnn_status gibbs_init(bnn_chain *c, bnn_error *err)
{
    size_t d = c->d->noise->n_linear;
    gibbs_state *w = bnn_chain_state(c, sizeof *w, 0, NULL, err);
    if (!w)
        return BNN_ENOMEM;
    w->d = d;
    w->A = gsl_matrix_alloc(d, d);
    w->r = gsl_vector_alloc(d);
    w->mean = gsl_vector_alloc(d);
    w->z = gsl_vector_alloc(d);
    if (!w->A || !w->r || !w->mean || !w->z)
        return bnn_fail(err, BNN_ENOMEM, "gibbs: out of memory for %zu weights", d);
    return BNN_OK;
}

static void gibbs_info(bnn_step_info *info, double accept_stat, double lp)
{
    info->accept_stat = accept_stat;
    info->stepsize = 0;
    info->treedepth = 0;
    info->n_leapfrog = 0;
    info->divergent = 0;
    info->energy = -lp;
}

static int gibbs_step(bnn_chain *c, bnn_step_info *info)
{
    gibbs_state *w = c->state;
    size_t d = w->d;
    const bnn_gaussian_noise *nz = c->d->noise;
    const double *ztz = nz->ztz, *zty = nz->zty;
    double tau2 = exp(c->theta[d]);
    /* w | tau^2 */
    for (size_t a = 0; a < d; a++) {
        for (size_t b = 0; b < d; b++)
            gsl_matrix_set(w->A, a, b, ztz[a * d + b] / tau2);
        *gsl_matrix_ptr(w->A, a, a) += 1.0 / nz->prior_var;
        gsl_vector_set(w->r, a, zty[a] / tau2);
    }
    if (gsl_linalg_cholesky_decomp1(w->A) != GSL_SUCCESS) {   /* A = L L' (lower) */
        /* A is positive definite for any finite tau^2; a failure means an overflowed one:
         * keep the state (a valid, if idle, transition) */
        gibbs_info(info, 0.0, c->lp);
        return 0;
    }
    gsl_linalg_cholesky_solve(w->A, w->r, w->mean);
    for (size_t a = 0; a < d; a++)
        gsl_vector_set(w->z, a, gsl_ran_gaussian_ziggurat(c->rng, 1.0));
    gsl_blas_dtrsv(CblasLower, CblasTrans, CblasNonUnit, w->A, w->z);   /* L^-T z ~ N(0, A^-1) */
    for (size_t a = 0; a < d; a++)
        c->theta[a] = gsl_vector_get(w->mean, a) + gsl_vector_get(w->z, a);
    bnn_noise_draw(c);   /* tau^2 | w (eta is coordinate d, as gibbs_check demands) */
    c->lp = c->d->logp(c->d->ctx, c->work, c->theta, NULL);
    gibbs_info(info, 1.0, c->lp);
    return 1;
}

static const bnn_kernel_ops ops = {
    .check = gibbs_check, .init = gibbs_init, .step = gibbs_step, .free = gibbs_free};

const bnn_kernel bnn_kernel_gibbs = {
    .name = "gibbs",
    .help = "exact conditional draws (the linear regression only)",
    .algorithm = "gibbs",
    .engine = "gibbs",
    .ops = &ops,
};
