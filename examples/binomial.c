/* binomial.c — the study's first example through the density interface: a user-written
 * model, not one of bnnmc's. y successes in n trials, a uniform prior on p; the posterior
 * is Beta(y + 1, n - y + 1). We sample theta = logit(p), so the density carries the
 * Jacobian dp/dtheta = p (1 - p).
 *
 * Run it: prints the posterior summary and checks it against the Beta distribution (mean,
 * variance, and the 5/50/95% quantiles, each within 4 Monte Carlo standard errors); exits 1
 * if a check fails. The test suite runs it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "bnnmc.h"

typedef struct {
    int n, y;
} binomial;

/* log p(theta | y) = y log p + (n - y) log(1 - p) + log p + log(1 - p), p = logistic(theta) */
static double binomial_logp(const void *ctx, double *work, const double *theta, double *grad)
{
    const binomial *b = ctx;
    (void)work;
    double t = theta[0];
    /* log p and log(1 - p) without overflow for large |t| */
    double log_p = -log1p(exp(-t)), log_q = -log1p(exp(t));
    if (t > 30)
        log_p = -exp(-t);
    if (t < -30)
        log_q = -exp(t);
    if (grad) {
        double p = exp(log_p);
        grad[0] = (b->y + 1) - (b->n + 2) * p;
    }
    return (b->y + 1) * log_p + (b->n - b->y + 1) * log_q;
}

static double ess_of(const bnn_draws *dr, double (*f)(double, double), double arg, double *mean,
                     double *var)
{
    size_t S = (size_t)dr->chains * dr->n_kept;
    double *x = malloc(S * sizeof *x);
    *mean = *var = 0;
    for (size_t s = 0; s < S; s++)
        *mean += (x[s] = f(dr->theta[s], arg)) / (double)S;
    for (size_t s = 0; s < S; s++)
        *var += (x[s] - *mean) * (x[s] - *mean) / (double)(S - 1);
    double e = bnn_ess(x, (size_t)dr->chains, dr->n_kept);
    free(x);
    return e;
}

static double to_p(double t, double unused)
{
    (void)unused;
    return 1 / (1 + exp(-t));
}

static double below(double t, double q)
{
    return to_p(t, 0) <= q;
}

static double centred_sq(double t, double m)
{
    return (to_p(t, 0) - m) * (to_p(t, 0) - m);
}

int main(void)
{
    binomial b = {20, 7};
    bnn_density d = {.dim = 1, .n_weights = 1, .logp = binomial_logp, .ctx = &b};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "rw";
    bnn_run_config_set(&rc, "step", 1.2);
    rc.n_iter = 20000;
    rc.n_burn = 1000;
    rc.chains = 4;
    rc.threads = 2;
    rc.seed = 2024;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    if (bnn_run(&d, &rc, &dr, &err) != BNN_OK) {
        fprintf(stderr, "binomial: %s\n", err.msg);
        return 1;
    }
    double alpha = b.y + 1, beta = b.n - b.y + 1;
    double mu = alpha / (alpha + beta);
    double v = alpha * beta / ((alpha + beta) * (alpha + beta) * (alpha + beta + 1));
    int failed = 0;
    double m, var, m2, var2;
    double ess = ess_of(dr, to_p, 0, &m, &var);
    double z = (m - mu) / sqrt(var / ess);
    printf("%s posterior mean of p %.5f, Beta(%g, %g) %.5f, z %+.2f (ESS %.0f)\n",
           fabs(z) < 4 ? "ok    " : "NOT OK", m, alpha, beta, mu, z, ess);
    failed += fabs(z) >= 4;
    double ess2 = ess_of(dr, centred_sq, m, &m2, &var2);
    z = (m2 - v) / sqrt(var2 / ess2);
    printf("%s posterior variance %.6f, exact %.6f, z %+.2f\n", fabs(z) < 4 ? "ok    " : "NOT OK",
           m2, v, z);
    failed += fabs(z) >= 4;
    double qs[3] = {0.05, 0.5, 0.95};
    for (int k = 0; k < 3; k++) {
        double q = gsl_cdf_beta_Pinv(qs[k], alpha, beta), frac, fv;
        double e = ess_of(dr, below, q, &frac, &fv);
        z = (frac - qs[k]) / sqrt(fv / e);
        printf("%s P(p <= Beta %g%% quantile %.4f) = %.4f, want %.2f, z %+.2f\n",
               fabs(z) < 4 ? "ok    " : "NOT OK", 100 * qs[k], q, frac, qs[k], z);
        failed += fabs(z) >= 4;
    }
    printf("binomial: %d passed, %d failed\n", 5 - failed, failed);
    bnn_draws_free(dr);
    return failed ? 1 : 0;
}
