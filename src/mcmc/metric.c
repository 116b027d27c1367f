/* metric.c — phase space under a diagonal or a dense metric (Stan's diag_e_metric and
 * dense_e_metric): kinetic energy, velocity, momentum draw and the leapfrog step, as two
 * tables of functions; a chain takes one when it starts (chain.c), so the diagonal path
 * pays one indirect call per operation and never a test of the metric's form.
 *
 * Dense: M^-1 = A (inv_metric_dense, symmetric; its lower triangle is what BLAS reads) and
 * A = L L' (metric_chol, lower). T(p) = p' A p / 2, p_sharp = A p (dsymv), and the momentum
 * p = L^-T u with u ~ N(0, I) (dtrsv), whose covariance is L^-T L^-1 = A^-1 = M, as Stan's
 * inv_e_metric_.llt().matrixU().solve(u). Nothing here allocates: metric_tmp is the
 * chain's scratch vector. */
#include <math.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

#include "hamiltonian.h"

/* ---------------------------------------------------------------- diagonal */

static double diag_kinetic(const bnn_chain *c, const double *p)
{
    return 0.5 * bnn_wdot(p, p, c->inv_metric, c->d->dim);
}

static void diag_p_sharp(const bnn_chain *c, const double *p, double *out)
{
    for (size_t j = 0; j < c->d->dim; j++)
        out[j] = c->inv_metric[j] * p[j];
}

static void diag_sample_momentum(bnn_chain *c, double *p)
{
    /* a 0 entry freezes its coordinate (the noise step): no momentum there, and the
     * random stream advances the same */
    for (size_t j = 0; j < c->d->dim; j++) {
        double z = gsl_ran_gaussian_ziggurat(c->rng, 1.0);
        p[j] = c->inv_metric[j] > 0 ? z / sqrt(c->inv_metric[j]) : 0.0;
    }
}

static void diag_leapfrog(bnn_chain *c, ps_point *z, double eps)
{
    const bnn_density *d = c->d;
    size_t n = d->dim;
    for (size_t j = 0; j < n; j++)
        z->p[j] += 0.5 * eps * z->g[j];
    for (size_t j = 0; j < n; j++)
        z->q[j] += eps * c->inv_metric[j] * z->p[j];
    z->lp = d->logp(d->ctx, c->work, z->q, z->g);
    for (size_t j = 0; j < n; j++)
        z->p[j] += 0.5 * eps * z->g[j];
}

const bnn_phase_ops bnn_phase_diag = {diag_kinetic, diag_p_sharp, diag_sample_momentum,
                                      diag_leapfrog};

/* ---------------------------------------------------------------- dense */

static void dense_p_sharp(const bnn_chain *c, const double *p, double *out)
{
    int n = (int)c->d->dim;
    cblas_dsymv(CblasRowMajor, CblasLower, n, 1.0, c->inv_metric_dense, n, p, 1, 0.0, out, 1);
}

static double dense_kinetic(const bnn_chain *c, const double *p)
{
    dense_p_sharp(c, p, c->metric_tmp);
    return 0.5 * bnn_dot(p, c->metric_tmp, c->d->dim);
}

static void dense_sample_momentum(bnn_chain *c, double *p)
{
    int n = (int)c->d->dim;
    for (int j = 0; j < n; j++)
        p[j] = gsl_ran_gaussian_ziggurat(c->rng, 1.0);
    /* L' p = u */
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, n, c->metric_chol, n, p, 1);
}

static void dense_leapfrog(bnn_chain *c, ps_point *z, double eps)
{
    const bnn_density *d = c->d;
    size_t n = d->dim;
    double *v = c->metric_tmp;
    for (size_t j = 0; j < n; j++)
        z->p[j] += 0.5 * eps * z->g[j];
    dense_p_sharp(c, z->p, v);
    for (size_t j = 0; j < n; j++)
        z->q[j] += eps * v[j];
    z->lp = d->logp(d->ctx, c->work, z->q, z->g);
    for (size_t j = 0; j < n; j++)
        z->p[j] += 0.5 * eps * z->g[j];
}

const bnn_phase_ops bnn_phase_dense = {dense_kinetic, dense_p_sharp, dense_sample_momentum,
                                       dense_leapfrog};

bnn_status bnn_metric_dense_factor(bnn_chain *c, bnn_error *err)
{
    size_t n = c->d->dim;
    const double *A = c->inv_metric_dense;
    for (size_t j = 0; j < n; j++)
        c->inv_metric[j] = A[j * n + j];
    memcpy(c->metric_chol, A, n * n * sizeof(double));
    bnn_gsl_setup();   /* GSL's failure comes back as a status, never an abort */
    gsl_matrix_view L = gsl_matrix_view_array(c->metric_chol, n, n);
    if (gsl_linalg_cholesky_decomp1(&L.matrix) != GSL_SUCCESS)
        return bnn_fail(err, BNN_ENUMERIC, "the dense metric's estimate is not positive definite "
                        "(the warm-up draws are degenerate: try --metric diag)");
    return BNN_OK;
}
