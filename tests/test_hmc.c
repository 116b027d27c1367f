/* test_hmc.c — the adaptive gradient samplers and Gibbs, proven on known posteriors:
 * a 100-dimensional Gaussian with scales over three orders of magnitude (HMC and NUTS with
 * the adapted diagonal metric), Gibbs against NUTS on the full linear regression,
 * simulation-based calibration (Talts et al. 2018) of Gibbs and NUTS, and NUTS reporting
 * the divergences of Neal's funnel. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "bnnmc.h"
#include "check.h"
#include "stats.h"
#include "sbc.h"

/* ---- 100-D Gaussian: sd_j = 10^(-1.5 + 3 j / 99), means j / 10 ---- */

enum { GD = 100 };

static double gauss100_logp(const void *ctx, double *work, const double *th, double *grad)
{
    (void)ctx;
    (void)work;
    double lp = 0;
    for (int j = 0; j < GD; j++) {
        double sd = pow(10.0, -1.5 + 3.0 * j / (GD - 1)), z = (th[j] - 0.1 * j) / sd;
        lp -= 0.5 * z * z;
        if (grad)
            grad[j] = -z / sd;
    }
    return lp;
}

static void test_gauss100(void)
{
    bnn_density d = {.dim = GD, .n_weights = GD, .logp = gauss100_logp};
    const char *samplers[] = {"nuts", "hmc"};
    for (int k = 0; k < 2; k++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = samplers[k];
        rc.n_iter = 3000;
        rc.n_burn = 1000;
        rc.chains = 4;
        rc.threads = 2;
        rc.seed = 100 + (uint64_t)k;
        bnn_draws *dr = NULL;
        bnn_error err = {0};
        CHECK(bnn_run(&d, &rc, &dr, &err) == BNN_OK, "run: %s", err.msg);
        if (!dr)
            continue;
        int bad = 0;
        double worst = 0, min_ess = INFINITY, metric_err = 0;
        for (int j = 0; j < GD; j++) {
            double sd = pow(10.0, -1.5 + 3.0 * j / (GD - 1));
            double zm, zv;
            moments mo = moments_z(dr, (size_t)j, 0.1 * j, sd * sd, &zm, &zv);
            worst = fmax(worst, fmax(fabs(zm), fabs(zv)));
            min_ess = fmin(min_ess, mo.ess);
            bad += fabs(zm) >= 4 || fabs(zv) >= 4;
            /* the adapted inverse metric estimates the variances */
            metric_err = fmax(metric_err, fabs(log(dr->inv_metric[j] / (sd * sd))));
        }
        size_t div = 0;
        for (size_t s = 0; s < (size_t)dr->chains * dr->n_kept; s++)
            div += (size_t)dr->divergent[s];
        CHECK_VERBOSE(bad == 0 && metric_err < log(2.0) && div == 0,
                      "100-D Gaussian, sds 0.03..30, %-4s: every mean and variance within 4 MCSE "
                      "(worst |z| %.2f), min ESS %.0f, adapted metric within a factor %.2f of the "
                      "variances, step %.3f, %zu divergences", samplers[k], worst,
                      min_ess, exp(metric_err), dr->step_final[0], div);
        bnn_draws_free(dr);
    }
}

/* ---- Gibbs vs NUTS on the full linear regression (tau^2 unknown) ---- */

static void test_gibbs_vs_nuts(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 77);
    double w[2] = {0.8, -0.4};
    bnn_table *t = regression_data(r, 25, w, 0.2, 0.6);
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 0, BNN_TASK_REGRESSION, 2, 0);
    sp.nu1 = 2;
    sp.nu2 = 0.5;
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, t, NULL);
    bnn_draws *g = run_model(m, "gibbs", 6000, 500, 1, 4, 1);
    bnn_draws *n = run_model(m, "nuts", 6000, 1000, 1, 4, 2);
    for (size_t j = 0; g && n && j < 4; j++) {
        moments a = draw_moments(g, j), b = draw_moments(n, j);
        double zm = (a.mean - b.mean) / hypot(a.mcse_mean, b.mcse_mean);
        double zv = (a.var - b.var) / hypot(a.mcse_var, b.mcse_var);
        CHECK_VERBOSE(fabs(zm) < 4 && fabs(zv) < 4,
                      "gibbs vs nuts, full linear regression, coordinate %zu%s: means %.4f / %.4f "
                      "(z %+.2f), variances %.4g / %.4g (z %+.2f), ESS %.0f / %.0f", j,
                      j == 3 ? " (eta)" : "", a.mean, b.mean, zm, a.var, b.var, zv, a.ess, b.ess);
    }
    bnn_draws_free(g);
    bnn_draws_free(n);
    bnn_model_free(m);
    bnn_table_free(t);
    gsl_rng_free(r);
}

/* ---- NUTS with a fixed step on a 2-D standard normal: deep trees, no adaptation ----
 * NUTS's stopping rule must be reversible; the edge momenta of Stan's pre-2.21 bug made
 * E[x^2] 3-4.6% too large here. The estimate of E[(x1^2 + x2^2) / 2] = 1 has an MCSE of
 * about 0.12% at these lengths, so the test sees any error above 0.5% (4 MCSE); it checks
 * that power as well as the value. */

static double std2_logp(const void *ctx, double *work, const double *th, double *grad)
{
    (void)ctx;
    (void)work;
    if (grad) {
        grad[0] = -th[0];
        grad[1] = -th[1];
    }
    return -0.5 * (th[0] * th[0] + th[1] * th[1]);
}

static void test_nuts_fixed_step(void)
{
    bnn_density d = {.dim = 2, .n_weights = 2, .logp = std2_logp};
    const double steps[] = {0.1, 0.05};
    for (int k = 0; k < 2; k++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = "nuts";
        rc.adapt = 0;
        rc.stepsize = steps[k];
        rc.n_iter = 540100;
        rc.n_burn = 100;
        rc.chains = 4;
        rc.threads = 2;
        rc.seed = 31 + (uint64_t)k;
        bnn_draws *dr = NULL;
        bnn_error err = {0};
        CHECK(bnn_run(&d, &rc, &dr, &err) == BNN_OK, "run: %s", err.msg);
        if (!dr)
            continue;
        size_t M = (size_t)dr->chains, N = dr->n_kept, S = M * N;
        double *y = malloc(S * sizeof *y), mean = 0, var = 0, depth = 0;
        for (size_t s = 0; s < S; s++) {
            const double *x = dr->theta + s * 2;
            y[s] = 0.5 * (x[0] * x[0] + x[1] * x[1]);
            mean += y[s];
            depth += dr->treedepth[s];
        }
        mean /= (double)S;
        for (size_t s = 0; s < S; s++)
            var += (y[s] - mean) * (y[s] - mean);
        var /= (double)(S - 1);
        double ess = bnn_ess(y, M, N), mcse = sqrt(var / ess), z = (mean - 1) / mcse;
        CHECK_VERBOSE(fabs(z) < 4 && 4 * mcse < 0.005,
                      "NUTS, fixed step %.2f, 2-D standard normal, mean tree depth %.1f: "
                      "E[x^2] = %.5f, MCSE %.5f (z %+.2f; detects errors above %.2f%%)",
                      steps[k], depth / (double)S, mean, mcse, z, 400 * mcse);
        free(y);
        bnn_draws_free(dr);
    }
}

/* ---- NUTS against Gibbs's exact draws on the Mackey-Glass linear regression ----
 * The lags are strongly correlated, so NUTS's trees are deep (depth 7-8). Gibbs draws the
 * conditionals exactly. Every sd must agree within 1.5% and every mean within 4 joint
 * MCSE; the sds' joint relative MCSE is checked to be below 0.375%, so a 1.5% error is
 * at least 4 MCSE. (The edge-momentum bug made NUTS's sds 1.6-2.9% too large here.) */
static void test_nuts_vs_gibbs_mackey(void)
{
    bnn_table *train = NULL, *test = NULL;
    bnn_error err = {0};
    CHECK(bnn_dataset_make("mackey-glass", 1, &train, &test, &err) == BNN_OK, "%s", err.msg);
    if (!train)
        return;
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 0, BNN_TASK_REGRESSION, (int)train->p, 0);
    bnn_model *m = NULL;
    CHECK(bnn_model_new(&m, &sp, train, &err) == BNN_OK, "%s", err.msg);
    bnn_draws *g = run_model(m, "gibbs", 201000, 1000, 1, 2, 11);
    bnn_draws *n = run_model(m, "nuts", 35000, 1000, 1, 4, 12);
    size_t dim = bnn_model_dim(m);
    for (size_t j = 0; g && n && j < dim; j++) {
        moments a = draw_moments(g, j), b = draw_moments(n, j);
        double zm = (a.mean - b.mean) / hypot(a.mcse_mean, b.mcse_mean);
        double ratio = sqrt(b.var / a.var);
        /* the sd's relative MCSE is half the variance's */
        double se = 0.5 * hypot(a.mcse_var / a.var, b.mcse_var / b.var);
        CHECK_VERBOSE(fabs(zm) < 4 && fabs(ratio - 1) < 0.015 && se < 0.00375,
                      "NUTS vs Gibbs, Mackey-Glass linear regression, coordinate %zu: means "
                      "%.5f / %.5f (z %+.2f), sd ratio %.4f (MCSE %.4f), ESS %.0f / %.0f", j,
                      b.mean, a.mean, zm, ratio, se, b.ess, a.ess);
    }
    double depth = 0;
    for (size_t s = 0; n && s < (size_t)n->chains * n->n_kept; s++)
        depth += n->treedepth[s];
    if (n)
        printf("       (NUTS mean tree depth %.2f)\n", depth / (double)(n->chains * n->n_kept));
    bnn_draws_free(g);
    bnn_draws_free(n);
    bnn_model_free(m);
    bnn_table_free(train);
    bnn_table_free(test);
}

static void test_sbc(void)
{
    const char *s[] = {"gibbs", "nuts"};
    for (int k = 0; k < 2; k++) {
        double p;
        sbc(s[k], 300, &p);
        /* 4 parameters tested: a Bonferroni threshold of 0.001 each */
        CHECK_VERBOSE(p > 0.001, "simulation-based calibration, %s, 300 replications x 99 "
                      "thinned draws: ranks uniform, smallest chi-square p-value %.3f",
                      s[k], p);
    }
}

/* ---- Neal's funnel: y ~ N(0, 3), x_i ~ N(0, exp(y / 2)), 9 x's ---- */

static double funnel_logp(const void *ctx, double *work, const double *th, double *grad)
{
    (void)ctx;
    (void)work;
    double y = th[0], lp = -y * y / 18.0, s2 = exp(y);
    if (grad)
        grad[0] = -y / 9.0;
    for (int i = 1; i < 10; i++) {
        lp += -0.5 * th[i] * th[i] / s2 - 0.5 * y;
        if (grad) {
            grad[i] = -th[i] / s2;
            grad[0] += 0.5 * th[i] * th[i] / s2 - 0.5;
        }
    }
    return lp;
}

static void test_funnel(void)
{
    bnn_density d = {.dim = 10, .n_weights = 10, .logp = funnel_logp};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "nuts";
    rc.n_iter = 2000;
    rc.n_burn = 1000;
    rc.chains = 2;
    rc.threads = 2;
    rc.seed = 9;
    bnn_draws *dr = NULL;
    CHECK(bnn_run(&d, &rc, &dr, NULL) == BNN_OK, "funnel run");
    size_t div = 0;
    for (size_t s = 0; dr && s < (size_t)dr->chains * dr->n_kept; s++)
        div += (size_t)dr->divergent[s];
    CHECK_VERBOSE(div > 0, "NUTS on Neal's funnel reports divergences: %zu of %zu transitions", div,
                  dr ? (size_t)dr->chains * dr->n_kept : 0);
    bnn_draws_free(dr);
}

/* ---- Stan's step-size search fails loudly, not silently ---- */

static double flat_logp(const void *ctx, double *work, const double *th, double *grad)
{
    (void)ctx;
    (void)work;
    (void)th;
    if (grad)
        grad[0] = 0;
    return 0;
}

/* finite only at 0: every step away is -inf, so no step size is small enough */
static double spike_logp(const void *ctx, double *work, const double *th, double *grad)
{
    (void)ctx;
    (void)work;
    if (grad)
        grad[0] = 0;
    return th[0] == 0 ? 0 : -INFINITY;
}

static void test_stepsize_search_fails(void)
{
    bnn_logp_fn fns[] = {flat_logp, spike_logp};
    const char *want[] = {"improper", "no acceptably small step size"};
    for (int k = 0; k < 2; k++) {
        bnn_density d = {.dim = 1, .n_weights = 1, .logp = fns[k]};
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = "nuts";
        rc.n_iter = 20;
        rc.n_burn = 10;
        rc.chains = 1;
        double zero = 0;
        rc.init = &zero;
        bnn_draws *dr = NULL;
        bnn_error err = {0};
        bnn_status st = bnn_run(&d, &rc, &dr, &err);
        CHECK_VERBOSE(st == BNN_ENUMERIC && strstr(err.msg, want[k]) && !dr,
                      "a failing step-size search is an error: status %d, '%s'", (int)st, err.msg);
        bnn_draws_free(dr);
    }
    /* and a start where the density is not finite is refused before anything runs */
    bnn_density d = {.dim = 1, .n_weights = 1, .logp = spike_logp};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "langevin";
    rc.chains = 1;
    double one = 1;
    rc.init = &one;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_run(&d, &rc, &dr, &err);
    CHECK_VERBOSE(st == BNN_ENUMERIC && strstr(err.msg, "starting point") && !dr,
                  "a start with log density -inf is refused: status %d, '%s'", (int)st, err.msg);
    bnn_draws_free(dr);
}

static void test_gibbs_refuses(void)
{
    bnn_table *t = bnn_table_new(3, 1, "t");
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 1, BNN_TASK_REGRESSION, 1, 0);
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, t, NULL);
    bnn_density d = bnn_model_density(m);
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "gibbs";
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    CHECK(bnn_run(&d, &rc, &dr, &err) == BNN_EINVAL && strstr(err.msg, "only the linear regression"),
          "gibbs refuses a network: %s", err.msg);
    bnn_model_free(m);
    bnn_table_free(t);
}

int main(void)
{
    test_nuts_fixed_step();
    test_nuts_vs_gibbs_mackey();
    test_gauss100();
    test_gibbs_vs_nuts();
    test_sbc();
    test_funnel();
    test_gibbs_refuses();
    test_stepsize_search_fails();
    return check_done("test_hmc");
}
