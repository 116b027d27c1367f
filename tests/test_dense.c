/* test_dense.c — the dense metric (Stan's dense_e), proven against exact references:
 * its phase-space operations directly (kinetic energy, velocity, the momentum draw's
 * covariance, energy conservation of the leapfrog), NUTS and HMC with the adapted dense
 * metric on strongly correlated Gaussians of very different scales, and the draws' independence
 * of the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>

#include "bnnmc.h"
#include "../src/mcmc/hamiltonian.h"
#include "check.h"
#include "stats.h"

/* ---- a Gaussian N(mu, Sigma), Sigma = D R D with R_ij = rho (i != j) ---- */

enum { MAXD = 10 };

typedef struct {
    int dim;
    double mu[MAXD], sd[MAXD], rho;
    double prec[MAXD * MAXD];     /* Sigma^-1 */
} gauss;

static void gauss_make(gauss *g, int dim, double rho)
{
    g->dim = dim;
    g->rho = rho;
    for (int i = 0; i < dim; i++) {
        g->mu[i] = 1.0 + i;
        /* scales from 0.01 to 100 */
        g->sd[i] = pow(10.0, -2.0 + 4.0 * i / (dim - 1));
    }
    gsl_matrix *S = gsl_matrix_alloc((size_t)dim, (size_t)dim);
    for (int i = 0; i < dim; i++)
        for (int j = 0; j < dim; j++)
            gsl_matrix_set(S, (size_t)i, (size_t)j, (i == j ? 1.0 : rho) * g->sd[i] * g->sd[j]);
    gsl_linalg_cholesky_decomp1(S);
    gsl_linalg_cholesky_invert(S);
    for (int i = 0; i < dim; i++)
        for (int j = 0; j < dim; j++)
            g->prec[i * dim + j] = gsl_matrix_get(S, (size_t)i, (size_t)j);
    gsl_matrix_free(S);
}

static double gauss_logp(const void *ctx, double *work, const double *th, double *grad)
{
    const gauss *g = ctx;
    (void)work;
    int n = g->dim;
    double lp = 0;
    for (int i = 0; i < n; i++) {
        double gi = 0;
        for (int j = 0; j < n; j++)
            gi -= g->prec[i * n + j] * (th[j] - g->mu[j]);
        lp += 0.5 * gi * (th[i] - g->mu[i]);
        if (grad)
            grad[i] = gi;
    }
    return lp;
}

static double gauss_cov(const gauss *g, int i, int j)
{
    return (i == j ? 1.0 : g->rho) * g->sd[i] * g->sd[j];
}

/* Mean and MCSE (from the series' own ESS) of x, chains x N. */
static void series_mean(const double *x, size_t M, size_t N, double *mean, double *mcse)
{
    double m = 0, v = 0;
    for (size_t s = 0; s < M * N; s++)
        m += x[s];
    m /= (double)(M * N);
    for (size_t s = 0; s < M * N; s++)
        v += (x[s] - m) * (x[s] - m);
    v /= (double)(M * N - 1);
    *mean = m;
    *mcse = sqrt(v / bnn_ess(x, M, N));
}

/* ---- (1) the phase-space operations against their definitions ---- */

/* A chain of nuts with a dense metric over g, its inverse metric set to A (SPD). */
static void dense_chain(bnn_chain *c, bnn_density *d, bnn_run_config *rc, const gauss *g,
                        const double *A)
{
    static const double zero[MAXD];
    bnn_run_config_default(rc);
    rc->sampler = "nuts";
    rc->metric = BNN_METRIC_DENSE;
    rc->n_iter = 2;
    rc->n_burn = 1;
    *d = (bnn_density){.dim = (size_t)g->dim, .n_weights = (size_t)g->dim, .logp = gauss_logp, .ctx = g};
    bnn_error err = {0};
    bnn_status st = bnn_chain_init(c, bnn_kernel_find("nuts"), d, rc, 11, zero, &err);
    CHECK(st == BNN_OK, "chain init: %s", err.msg);
    size_t n = (size_t)g->dim;
    memcpy(c->inv_metric_dense, A, n * n * sizeof(double));
    CHECK(bnn_metric_dense_factor(c, &err) == BNN_OK, "factor: %s", err.msg);
}

static void test_phase_ops(void)
{
    enum { N = 5 };
    gauss g;
    gauss_make(&g, N, 0.9);
    /* A: a correlated SPD inverse metric with scales 0.1 .. 10 */
    double A[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double si = pow(10.0, -1.0 + 0.5 * i), sj = pow(10.0, -1.0 + 0.5 * j);
            A[i * N + j] = (i == j ? 1.0 : (i + j) % 2 ? -0.6 : 0.5) * si * sj;
        }
    bnn_chain c;
    bnn_density d;
    bnn_run_config rc;
    dense_chain(&c, &d, &rc, &g, A);

    /* kinetic energy p'Ap/2 and velocity Ap against long-double sums */
    double p[N] = {0.3, -1.2, 2.5, 0.7, -0.4}, v[N];
    long double T = 0, verr = 0;
    ps_p_sharp(&c, p, v);
    for (int i = 0; i < N; i++) {
        long double vi = 0;
        for (int j = 0; j < N; j++)
            vi += (long double)A[i * N + j] * p[j];
        T += 0.5L * p[i] * vi;
        verr = fmaxl(verr, fabsl(vi - v[i]) / fabsl(vi));
    }
    double kin = ps_kinetic(&c, p);
    CHECK_VERBOSE(fabsl(kin - T) < 1e-13L * fabsl(T) && verr < 1e-13L,
                  "dense kinetic energy p'Ap/2 and velocity Ap to 1e-13 (%.3g, %.3Lg)",
                  (double)(fabsl(kin - T) / T), verr);

    /* the momentum draw: its sample covariance is M = A^-1, element by element within 4
     * MCSE, MCSE(S_ij) = sqrt((M_ii M_jj + M_ij^2) / S). With S = 200000 draws this detects
     * a relative error of about 4 sqrt(2 / S) = 1.3% in any element: drawing L^-1 u instead
     * of L^-T u, or dropping the solve, changes elements by far more. */
    gsl_matrix *Mi = gsl_matrix_alloc(N, N);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            gsl_matrix_set(Mi, (size_t)i, (size_t)j, A[i * N + j]);
    gsl_linalg_cholesky_decomp1(Mi);
    gsl_linalg_cholesky_invert(Mi);   /* now M */
    enum { S = 200000 };
    double sum[N] = {0}, sxx[N * N] = {0};
    for (int s = 0; s < S; s++) {
        ps_sample_momentum(&c, p);
        for (int i = 0; i < N; i++) {
            sum[i] += p[i];
            for (int j = 0; j < N; j++)
                sxx[i * N + j] += p[i] * p[j];
        }
    }
    double worst = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++) {
            double m = gsl_matrix_get(Mi, (size_t)i, (size_t)j);
            double mii = gsl_matrix_get(Mi, (size_t)i, (size_t)i), mjj = gsl_matrix_get(Mi, (size_t)j, (size_t)j);
            double est = sxx[i * N + j] / S;
            worst = fmax(worst, fabs(est - m) / sqrt((mii * mjj + m * m) / S));
        }
    CHECK_VERBOSE(worst < 4, "dense momentum draw: covariance = M = A^-1 in every element "
                  "within 4 MCSE over %d draws (worst |z| %.2f)", S, worst);
    gsl_matrix_free(Mi);

    /* the leapfrog conserves H to O(eps^2): over the same time, halving the step divides
     * the largest energy error by 4 (between 3 and 5 here) */
    double herr[2];
    for (int h = 0; h < 2; h++) {
        double eps = 0.02 / (1 << h);
        int L = 100 << h;
        double block[3 * N];
        double *b = block;
        ps_point z;
        ps_point_take(&z, &b, N);
        for (int i = 0; i < N; i++) {
            z.q[i] = g.mu[i] + 0.5 * g.sd[i];
            z.p[i] = 1.0 - 0.3 * i;
        }
        z.lp = gauss_logp(&g, NULL, z.q, z.g);
        double H0 = ps_hamiltonian(&c, &z), worst_h = 0;
        for (int l = 0; l < L; l++) {
            ps_leapfrog(&c, &z, eps);
            worst_h = fmax(worst_h, fabs(ps_hamiltonian(&c, &z) - H0));
        }
        herr[h] = worst_h;
    }
    double ratio = herr[0] / herr[1];
    CHECK_VERBOSE(ratio > 3 && ratio < 5 && herr[0] < 0.1,
                  "dense leapfrog: energy error %.3g at eps 0.02, %.3g at 0.01 (ratio %.2f, "
                  "O(eps^2) wants 4)", herr[0], herr[1], ratio);
    bnn_chain_free(&c);
}

/* ---- (2) NUTS and HMC with the adapted dense metric on correlated Gaussians ---- */

/* The eigenvalues of R^-1 A (A v = lambda R v), R = Stan's regularised covariance of a window
 * of n draws, (n / (n + 5)) Sigma + 1e-3 (5 / (n + 5)) I: all 1 when the inverse metric A is
 * that. (The regulariser matters: Sigma's smallest variance here is about 1e-6, below the
 * 1e-5 it adds.) *lo and *hi receive the extremes. */
static void metric_vs_cov(const gauss *g, double n_win, const double *A, double *lo, double *hi)
{
    size_t n = (size_t)g->dim;
    gsl_matrix *a = gsl_matrix_alloc(n, n), *s = gsl_matrix_alloc(n, n);
    gsl_vector *ev = gsl_vector_alloc(n);
    gsl_eigen_gensymm_workspace *w = gsl_eigen_gensymm_alloc(n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            gsl_matrix_set(a, i, j, A[i * n + j]);
            gsl_matrix_set(s, i, j, n_win / (n_win + 5) * gauss_cov(g, (int)i, (int)j) +
                                        (i == j ? 1e-3 * 5 / (n_win + 5) : 0));
        }
    gsl_eigen_gensymm(a, s, ev, w);
    *lo = gsl_vector_min(ev);
    *hi = gsl_vector_max(ev);
    gsl_eigen_gensymm_free(w);
    gsl_vector_free(ev);
    gsl_matrix_free(s);
    gsl_matrix_free(a);
}

/* Every mean, variance and correlation of the draws against the exact Gaussian's, each
 * within 4 MCSE: 65 checks at 10-D, so the chance of a false alarm is under 1% (6e-5
 * each). The MCSEs printed say the power: with ESS about 10^4, 4 MCSE is 4% of a standard
 * deviation for a mean and 6% of a variance. The correlation is checked through the mean
 * of (z_i - z_j)^2 / 2 (z standardised by the exact mean and sd), whose expectation is
 * exactly 1 - rho and whose sd is sqrt(2) (1 - rho): 4 MCSE is about 5e-4 on rho = 0.99
 * at that ESS (1% of rho would be 0.0099). */
static void test_correlated(const char *sampler, int dim, uint64_t seed)
{
    gauss g;
    gauss_make(&g, dim, 0.99);
    bnn_density d = {.dim = (size_t)dim, .n_weights = (size_t)dim, .logp = gauss_logp, .ctx = &g};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = sampler;
    rc.metric = BNN_METRIC_DENSE;
    rc.n_iter = 4000;
    rc.n_burn = 1000;
    rc.chains = 4;
    rc.threads = 2;
    rc.seed = seed;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    CHECK(bnn_run(&d, &rc, &dr, &err) == BNN_OK, "run: %s", err.msg);
    if (!dr)
        return;
    size_t M = (size_t)dr->chains, N = dr->n_kept;
    double worst = 0, min_ess = INFINITY, worst_corr_mcse = 0;
    int bad = 0;
    for (int i = 0; i < dim; i++) {
        double zm, zv;
        moments mo = moments_z(dr, (size_t)i, g.mu[i], g.sd[i] * g.sd[i], &zm, &zv);
        min_ess = fmin(min_ess, mo.ess);
        worst = fmax(worst, fmax(fabs(zm), fabs(zv)));
        bad += fabs(zm) >= 4 || fabs(zv) >= 4;
    }
    double *x = malloc(M * N * sizeof *x);
    for (int i = 0; i < dim; i++)
        for (int j = 0; j < i; j++) {
            for (size_t c = 0; c < M; c++)
                for (size_t s = 0; s < N; s++) {
                    const double *th = bnn_draw(dr, (int)c, s);
                    double dz = (th[i] - g.mu[i]) / g.sd[i] - (th[j] - g.mu[j]) / g.sd[j];
                    x[c * N + s] = 0.5 * dz * dz;
                }
            double m, se;
            series_mean(x, M, N, &m, &se);
            worst = fmax(worst, fabs(m - (1 - g.rho)) / se);
            worst_corr_mcse = fmax(worst_corr_mcse, se);
            bad += fabs(m - (1 - g.rho)) >= 4 * se;
        }
    free(x);
    /* the adapted inverse metric A estimates the regularised covariance R of the last
     * window (warm-up 1000: draws 450..949, n = 500): every eigenvalue of R^-1 A in [0.5,
     * 2], each chain (500 draws give extremes near (1 +- sqrt(dim / ESS))^2; a diagonal
     * metric's would span 0.01 .. 9 at 10-D) */
    double ev_lo = INFINITY, ev_hi = 0;
    for (size_t c = 0; c < M; c++) {
        const double *A = dr->inv_metric_dense + c * (size_t)dim * (size_t)dim;
        double lo, hi;
        metric_vs_cov(&g, 500, A, &lo, &hi);
        ev_lo = fmin(ev_lo, lo);
        ev_hi = fmax(ev_hi, hi);
        for (int i = 0; i < dim; i++)
            CHECK(dr->inv_metric[c * (size_t)dim + (size_t)i] == A[i * dim + i],
                  "the diagonal inverse metric reported is the dense one's diagonal");
    }
    size_t div = 0;
    for (size_t s = 0; s < M * N; s++)
        div += (size_t)dr->divergent[s];
    CHECK_VERBOSE(bad == 0 && ev_lo > 0.5 && ev_hi < 2 && div == 0,
                  "%s, dense metric, %d-D Gaussian, correlation 0.99, sds 0.01..100: every mean, "
                  "variance and correlation within 4 MCSE (worst |z| %.2f; min ESS %.0f, "
                  "MCSE of 1 - rho <= %.1e), eigenvalues of R^-1 A in [%.2f, %.2f], step "
                  "%.3f, %zu divergences", sampler, dim, worst, min_ess, worst_corr_mcse, ev_lo,
                  ev_hi, dr->step_final[0], div);
    bnn_draws_free(dr);
}

/* ---- (3) the draws do not depend on the thread count ---- */

static void test_threads(void)
{
    gauss g;
    gauss_make(&g, 10, 0.99);
    bnn_density d = {.dim = 10, .n_weights = 10, .logp = gauss_logp, .ctx = &g};
    bnn_draws *dr[2] = {NULL, NULL};
    for (int t = 0; t < 2; t++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = "nuts";
        rc.metric = BNN_METRIC_DENSE;
        rc.n_iter = 600;
        rc.n_burn = 300;
        rc.chains = 3;
        rc.threads = t + 1;
        rc.seed = 5;
        bnn_error err = {0};
        CHECK(bnn_run(&d, &rc, &dr[t], &err) == BNN_OK, "run: %s", err.msg);
    }
    if (dr[0] && dr[1]) {
        size_t n = (size_t)dr[0]->chains * dr[0]->n_kept;
        int same = memcmp(dr[0]->theta, dr[1]->theta, n * 10 * sizeof(double)) == 0 &&
                   memcmp(dr[0]->inv_metric_dense, dr[1]->inv_metric_dense,
                          3 * 100 * sizeof(double)) == 0;
        CHECK_VERBOSE(same, "nuts, dense metric: draws and adapted metrics bitwise the same on "
                      "1 and 2 threads");
    }
    bnn_draws_free(dr[0]);
    bnn_draws_free(dr[1]);
}

/* ---- a kernel without a dense metric refuses it ---- */

static void test_refuses(void)
{
    gauss g;
    gauss_make(&g, 2, 0.5);
    bnn_density d = {.dim = 2, .n_weights = 2, .logp = gauss_logp, .ctx = &g};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "mala";
    rc.metric = BNN_METRIC_DENSE;
    bnn_error err = {0};
    CHECK_VERBOSE(bnn_run_check(&d, &rc, &err) == BNN_EINVAL && strstr(err.msg, "dense"),
                  "mala refuses a dense metric: %s", err.msg);
}

/* A direct bnn_chain_init of dimension 0 with a dense metric (bnn_run refuses dim 0 before):
 * the size check in dense_init divided by the dimension (SIGFPE, the test crashed). */
static double empty_logp(const void *ctx, double *work, const double *th, double *grad)
{
    (void)ctx;
    (void)work;
    (void)th;
    (void)grad;
    return 0.0;
}

static void test_dim0(void)
{
    bnn_density d = {.dim = 0, .logp = empty_logp};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "nuts";
    rc.metric = BNN_METRIC_DENSE;
    rc.adapt = 0;   /* no step-size search (on 0 coordinates it would double without end) */
    bnn_chain c;
    bnn_error err = {0};
    double none[1] = {0};
    bnn_status st = bnn_chain_init(&c, bnn_kernel_find("nuts"), &d, &rc, 1, none, &err);
    CHECK_VERBOSE(st == BNN_OK && c.inv_metric_dense, "a dense metric of dimension 0 is set "
                  "up without dividing by 0 %s", err.msg);
    if (st == BNN_OK)
        bnn_chain_free(&c);
}

int main(void)
{
    test_phase_ops();
    test_correlated("nuts", 2, 21);
    test_correlated("nuts", 10, 22);
    test_correlated("hmc", 10, 23);
    test_threads();
    test_refuses();
    test_dim0();
    return check_done("test_dense");
}
