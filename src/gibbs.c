/* gibbs.c — Gibbs sampling of the Bayesian linear regression, exact conditionals:
 *   w | tau^2, y  ~ N(A^-1 X'y / tau^2, A^-1),  A = X'X / tau^2 + I / sigma^2
 *   tau^2 | w, y  ~ inverse-gamma(nu1 + n/2, nu2 + |y - X w|^2 / 2)
 * with X the inputs and a column of ones (the bias), in the parameter order W1.., b1. The
 * chain's state stays in the density's coordinates (eta = log tau^2). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

#include "sampler.h"

struct bnn_gibbs_ws {
    const bnn_linear_ss *ss;   /* the model's Z'Z, Z'y and sum of squared residuals */
    size_t n, d;               /* rows; weights: inputs + bias */
    double prior_var, nu1, nu2;
    gsl_matrix *A;
    gsl_vector *r, *mean, *z;
};

bnn_status bnn_gibbs_alloc(bnn_chain *c, bnn_error *err)
{
    const bnn_model *m = c->cfg->model;
    if (!m)
        return bnn_fail(err, BNN_EINVAL, "gibbs: the run config names no model");
    const bnn_model_spec *sp = bnn_model_get_spec(m);
    if (sp->task != BNN_TASK_REGRESSION || sp->n_hidden != 0 || sp->output_act != BNN_ACT_IDENTITY)
        return bnn_fail(err, BNN_EINVAL, "gibbs: only the linear regression (no hidden layer, "
                        "identity output) has the conjugate conditionals it needs");
    const bnn_table *t = bnn_model_train(m);
    const bnn_linear_ss *ss = bnn_model_linear_ss(m);
    if (!ss)
        return bnn_fail(err, BNN_EINVAL, "gibbs: the model has no training data");
    bnn_gibbs_ws *w = calloc(1, sizeof *w);
    if (!w)
        return BNN_ENOMEM;
    size_t d = t->p + 1;
    w->ss = ss;
    w->n = t->n;
    w->d = d;
    w->prior_var = sp->prior_var;
    w->nu1 = sp->nu1;
    w->nu2 = sp->nu2;
    w->A = gsl_matrix_alloc(d, d);
    w->r = gsl_vector_alloc(d);
    w->mean = gsl_vector_alloc(d);
    w->z = gsl_vector_alloc(d);
    c->gibbs = w;
    if (!w->A || !w->r || !w->mean || !w->z)
        return BNN_ENOMEM;
    return BNN_OK;
}

void bnn_gibbs_free(bnn_chain *c)
{
    bnn_gibbs_ws *w = c->gibbs;
    if (!w)
        return;
    gsl_matrix_free(w->A);
    gsl_vector_free(w->r);
    gsl_vector_free(w->mean);
    gsl_vector_free(w->z);
    free(w);
    c->gibbs = NULL;
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

int bnn_step_gibbs(bnn_chain *c, bnn_step_info *info)
{
    bnn_gibbs_ws *w = c->gibbs;
    size_t d = w->d;
    const double *ztz = bnn_linear_ss_ztz(w->ss), *zty = bnn_linear_ss_zty(w->ss);
    double tau2 = exp(c->theta[d]);
    /* w | tau^2 */
    for (size_t a = 0; a < d; a++) {
        for (size_t b = 0; b < d; b++)
            gsl_matrix_set(w->A, a, b, ztz[a * d + b] / tau2);
        *gsl_matrix_ptr(w->A, a, a) += 1.0 / w->prior_var;
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
    /* tau^2 | w */
    double sse = bnn_linear_ss_sse(w->ss, c->theta, NULL);
    double shape = w->nu1 + 0.5 * (double)w->n, rate = w->nu2 + 0.5 * sse;
    c->theta[d] = -log(gsl_ran_gamma(c->rng, shape, 1.0 / rate));
    c->lp = c->d->logp(c->d->ctx, c->work, c->theta, NULL);
    gibbs_info(info, 1.0, c->lp);
    return 1;
}
