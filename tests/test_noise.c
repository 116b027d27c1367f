/* test_noise.c — the Gibbs noise step (bnn_run_config.noise_step) and optimiser starts
 * (bnn_optimize, bnn_run_config.init_map), against exact references: the gibbs kernel on
 * the conjugate linear regression, and that model's MAP solved in closed form. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "bnnmc.h"
#include "check.h"
#include "stats.h"
#include "sbc.h"

/* The linear regression of test_hmc's gibbs-vs-nuts test: 25 rows, 2 inputs. */
static bnn_table *conjugate_data(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 77);
    double w[2] = {0.8, -0.4};
    bnn_table *t = regression_data(r, 25, w, 0.2, 0.6);
    gsl_rng_free(r);
    return t;
}

static bnn_model *linear_model(const bnn_table *t, double nu1, double nu2)
{
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 0, BNN_TASK_REGRESSION, 2, 0);
    sp.nu1 = nu1;
    sp.nu2 = nu2;
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, t, NULL);
    return m;
}

static bnn_draws *run(const bnn_density *d, const char *s, size_t iter, size_t burn, int chains,
                      int threads, uint64_t seed, int noise, int init_map)
{
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = s;
    rc.n_iter = iter;
    rc.n_burn = burn;
    rc.chains = chains;
    rc.threads = threads;
    rc.seed = seed;
    rc.noise_step = noise;
    rc.init_map = init_map;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    if (bnn_run(d, &rc, &dr, &err) != BNN_OK)
        printf("run failed: %s\n", err.msg);
    return dr;
}

/* ---- (1) nuts + noise step against exact Gibbs: weights and tau2 ----
 * Every mean and sd must agree within 4 standard errors of the difference (both chains'
 * MCSE from their ESS). At these lengths that detects a difference in a mean of 1.5% of the
 * posterior sd and a relative difference in an sd of about 1.3% (printed and checked as the
 * test's power). */
static void test_vs_gibbs(void)
{
    bnn_table *t = conjugate_data();
    bnn_model *m = linear_model(t, 2, 0.5);
    bnn_density d = bnn_model_density(m);
    bnn_draws *g = run(&d, "gibbs", 100500, 500, 4, 2, 1, BNN_NOISE_STEP_NONE, 0);
    bnn_draws *n = run(&d, "nuts", 51000, 1000, 4, 2, 2, BNN_NOISE_STEP_GIBBS, 0);
    for (size_t s = 0; g && n && s < (size_t)g->chains * g->n_kept; s++)   /* eta -> tau2 */
        g->theta[s * g->dim + 3] = exp(g->theta[s * g->dim + 3]);
    for (size_t s = 0; g && n && s < (size_t)n->chains * n->n_kept; s++)
        n->theta[s * n->dim + 3] = exp(n->theta[s * n->dim + 3]);
    double worst_mean_power = 0, worst_sd_power = 0;
    for (size_t j = 0; g && n && j < 4; j++) {
        moments a = draw_moments(g, j), b = draw_moments(n, j);
        double se_m = hypot(a.mcse_mean, b.mcse_mean), se_v = hypot(a.mcse_var, b.mcse_var);
        double zm = (a.mean - b.mean) / se_m, zv = (a.var - b.var) / se_v;
        double sd = sqrt(a.var);
        /* the smallest differences the test detects: 4 se, relative to the sd (means) or
         * to the sd itself (sds: d sd / sd = d var / (2 var)) */
        double pm = 4 * se_m / sd, ps = 4 * se_v / (2 * a.var);
        worst_mean_power = fmax(worst_mean_power, pm);
        worst_sd_power = fmax(worst_sd_power, ps);
        CHECK_VERBOSE(fabs(zm) < 4 && fabs(zv) < 4,
                      "nuts + noise step vs exact gibbs, %s: means %.5f / %.5f (z %+.2f), sds "
                      "%.5f / %.5f (z %+.2f), ESS %.0f / %.0f; detects %.1f%% of the sd in the "
                      "mean, %.1f%% in the sd", j == 3 ? "tau2" : j == 2 ? "b1.1" : j ? "W1.2.1" : "W1.1.1",
                      a.mean, b.mean, zm, sd, sqrt(b.var), zv, a.ess, b.ess, 100 * pm, 100 * ps);
    }
    CHECK_VERBOSE(g && n && worst_mean_power < 0.02 && worst_sd_power < 0.02,
                  "the comparison has power: detects %.2f%% of an sd in a mean, %.2f%% in an sd",
                  100 * worst_mean_power, 100 * worst_sd_power);
    bnn_draws_free(g);
    bnn_draws_free(n);
    bnn_model_free(m);
    bnn_table_free(t);
}

/* ---- (2) eta never moves inside a gradient move ----
 * A density that watches every point the kernel evaluates: between two noise draws (which
 * call sse first) every logp call must see eta bitwise equal to the value the last draw set
 * (the first call after a draw is the chain's refresh at the new eta). */
typedef struct {
    bnn_density inner;
    bnn_gaussian_noise noise;
    int after_draw;
    double eta_now, at_draw[8];   /* the weights where the last draw's sse was taken */
    long calls, moved, draws, bad_refresh;
} spy;

static double spy_logp(const void *ctx, double *work, const double *th, double *grad)
{
    spy *s = (spy *)ctx;   /* the test's own state, one thread */
    size_t e = s->noise.eta;
    if (s->after_draw) {
        /* the chain's refresh: at the draw's weights, with the gradient (the next move
         * starts from the cache) */
        s->bad_refresh += s->draws > 0 && (!grad || memcmp(th, s->at_draw, e * sizeof(double)));
        s->eta_now = th[e];
        s->after_draw = 0;
    } else {
        s->moved += memcmp(&th[e], &s->eta_now, sizeof(double)) != 0;
    }
    s->calls++;
    return s->inner.logp(s->inner.ctx, work, th, grad);
}

static double spy_sse(const void *ctx, double *work, const double *th)
{
    spy *s = (spy *)ctx;
    s->after_draw = 1;
    s->draws++;
    memcpy(s->at_draw, th, s->noise.eta * sizeof(double));
    return s->inner.noise->sse(s->inner.ctx, work, th);
}

static void test_eta_frozen(void)
{
    bnn_table *t = conjugate_data();
    bnn_model *m = linear_model(t, 2, 0.5);
    const char *kernels[] = {"nuts", "hmc", "mala"};
    for (int k = 0; k < 3; k++) {
        spy s = {.inner = bnn_model_density(m), .after_draw = 1};
        s.noise = *s.inner.noise;
        s.noise.sse = spy_sse;
        bnn_density d = s.inner;
        d.logp = spy_logp;
        d.drift = NULL;
        d.ctx = &s;
        d.noise = &s.noise;
        /* burn-in of 300 iterations: Stan's standard windows, not shrunk (300 >= 150: init
         * buffer 75, slow windows 25, 50, 100, term buffer 50), with a step-size search after
         * each metric window */
        bnn_draws *dr = run(&d, kernels[k], 600, 300, 1, 1, 3, BNN_NOISE_STEP_GIBBS, 0);
        size_t distinct = 0;
        for (size_t i = 1; dr && i < dr->n_kept; i++)
            distinct += bnn_draw(dr, 0, i)[3] != bnn_draw(dr, 0, i - 1)[3];
        CHECK_VERBOSE(dr && s.moved == 0 && s.calls > 1000 && distinct + 1 == dr->n_kept &&
                          dr->inv_metric[3] == 0,
                      "%s + noise step: eta identical at all %ld points of the moves (%ld "
                      "moved), yet new at each of %zu draws; its inverse metric stays %g",
                      kernels[k], s.calls, s.moved, distinct, dr ? dr->inv_metric[3] : NAN);
        CHECK_VERBOSE(s.draws >= 600 && s.bad_refresh == 0, "%s + noise step: after each of %ld "
                      "draws the next logp call is the refresh, at the draw's weights with the "
                      "gradient (%ld are not)", kernels[k], s.draws, s.bad_refresh);
        bnn_draws_free(dr);
    }
    bnn_model_free(m);
    bnn_table_free(t);
}

/* ---- (2b) a degenerate noise conditional leaves eta as it is ----
 * The density's SSE replaced by a constant: 0 with nu2 = 0 (an exact fit: a rate of 0),
 * -1e-13 (the linear model's SSE rounded below 0), NaN and +inf (overflowed weights). No
 * inverse gamma exists then; eta must stay at its start, finite, in the noise step and in
 * the gibbs kernel (both call bnn_noise_draw), while the weights still move. */
typedef struct {
    bnn_density inner;
    bnn_gaussian_noise noise;
    double sse;
} fixed_sse;

static double fixed_logp(const void *ctx, double *work, const double *th, double *grad)
{
    const fixed_sse *f = ctx;
    return f->inner.logp(f->inner.ctx, work, th, grad);
}

static double fixed_sse_fn(const void *ctx, double *work, const double *th)
{
    (void)work;
    (void)th;
    return ((const fixed_sse *)ctx)->sse;
}

static void test_degenerate_noise(void)
{
    bnn_table *t = conjugate_data();
    bnn_model *m = linear_model(t, 2, 0);
    const double sses[] = {0.0, -1e-13, NAN, INFINITY};
    const char *kernels[] = {"nuts", "gibbs"};
    for (int k = 0; k < 2; k++)
        for (int v = 0; v < 4; v++) {
            fixed_sse f = {.inner = bnn_model_density(m), .sse = sses[v]};
            f.noise = *f.inner.noise;
            f.noise.sse = fixed_sse_fn;
            bnn_density d = f.inner;
            d.logp = fixed_logp;
            d.drift = NULL;
            d.logp_tempered = NULL;
            d.ctx = &f;
            d.noise = &f.noise;
            double init[4] = {0.1, 0.2, 0.3, -0.5};
            bnn_run_config rc;
            bnn_run_config_default(&rc);
            rc.sampler = kernels[k];
            rc.n_iter = 60;
            rc.n_burn = 30;
            rc.chains = 1;
            rc.threads = 1;
            rc.seed = 4;
            rc.init = init;
            rc.noise_step = k == 0 ? BNN_NOISE_STEP_GIBBS : BNN_NOISE_STEP_NONE;
            bnn_draws *dr = NULL;
            bnn_error err = {0};
            bnn_status st = bnn_run(&d, &rc, &dr, &err);
            int ok = st == BNN_OK && dr, moved = 0;
            for (size_t i = 0; ok && i < dr->n_kept; i++) {
                ok &= bnn_draw(dr, 0, i)[3] == init[3] && isfinite(dr->lp[i]);
                moved += bnn_draw(dr, 0, i)[0] != init[0];
            }
            CHECK_VERBOSE(ok && moved > 0, "%s%s, nu2 = 0, SSE %g: eta stays %g (finite lp) "
                          "while the weights move (%d of %zu draws) %s", kernels[k],
                          k == 0 ? " + noise step" : "", sses[v], init[3], moved,
                          dr ? dr->n_kept : 0, err.msg);
            bnn_draws_free(dr);
        }
    bnn_model_free(m);
    bnn_table_free(t);
}

/* ---- (3) simulation-based calibration of the noise step (bench_sbc runs more) ---- */
static void test_sbc(void)
{
    const char *s[] = {"nuts", "mala"};
    size_t thin[] = {3, 10};
    for (int k = 0; k < 2; k++) {
        double p;
        sbc_run_noise(s[k], 300, thin[k], 0, BNN_NOISE_STEP_GIBBS, &p);
        /* a fixed seed: the p-value is a constant of the code; 0.001 over 4 x 2 tests */
        CHECK_VERBOSE(p > 0.001, "SBC of %s + noise step, 300 replications: smallest "
                      "chi-square p-value %.4f", s[k], p);
    }
}

/* ---- (4) the noise step refused where it cannot run ---- */
static void test_refusals(void)
{
    bnn_table *t = conjugate_data();
    bnn_model *m = linear_model(t, 0, 0);
    bnn_density d = bnn_model_density(m);
    const char *no_metric[] = {"rw", "langevin", "slice", "gibbs"};
    for (int k = 0; k < 4; k++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = no_metric[k];
        rc.noise_step = BNN_NOISE_STEP_GIBBS;
        bnn_error err = {0};
        bnn_status st = bnn_run_check(&d, &rc, &err);
        CHECK_VERBOSE(st == BNN_EINVAL && strstr(err.msg, "needs a sampler with a metric"),
                      "noise step refused with %s: %s", no_metric[k], err.msg);
    }
    /* a dense metric would move eta through its off-diagonal entries: refused */
    {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = "nuts";
        rc.metric = BNN_METRIC_DENSE;
        rc.noise_step = BNN_NOISE_STEP_GIBBS;
        bnn_error err = {0};
        bnn_status st = bnn_run_check(&d, &rc, &err);
        CHECK_VERBOSE(st == BNN_EINVAL && strstr(err.msg, "diagonal metric only"),
                      "noise step refused with the dense metric: %s", err.msg);
    }
    /* classification: no noise variance */
    bnn_table *c = bnn_table_new(4, 1, "classes");
    for (size_t i = 0; i < 4; i++) {
        c->x[i] = (double)i;
        c->y[i] = (double)(i % 2);
    }
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 0, BNN_TASK_CLASSIFICATION, 1, 2);
    bnn_model *mc = NULL;
    bnn_model_new(&mc, &sp, c, NULL);
    bnn_density dc = bnn_model_density(mc);
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "nuts";
    rc.noise_step = BNN_NOISE_STEP_GIBBS;
    bnn_error err = {0};
    bnn_status st = bnn_run_check(&dc, &rc, &err);
    CHECK_VERBOSE(st == BNN_EINVAL && strstr(err.msg, "needs a regression"),
                  "noise step refused on a classification: %s", err.msg);
    bnn_model_free(mc);
    bnn_table_free(c);
    bnn_model_free(m);
    bnn_table_free(t);
}

/* ---- (5) the same draws whatever the thread count, noise step and MAP starts on ---- */
static void test_threads(void)
{
    bnn_table *t = conjugate_data();
    bnn_model *m = linear_model(t, 2, 0.5);
    bnn_density d = bnn_model_density(m);
    bnn_draws *a = run(&d, "nuts", 400, 200, 3, 1, 9, BNN_NOISE_STEP_GIBBS, 1);
    bnn_draws *b = run(&d, "nuts", 400, 200, 3, 2, 9, BNN_NOISE_STEP_GIBBS, 1);
    size_t S = a ? (size_t)a->chains * a->n_kept : 0;
    CHECK_VERBOSE(a && b && a->start_opt && b->start_opt &&
                      memcmp(a->theta, b->theta, S * a->dim * sizeof(double)) == 0 &&
                      memcmp(a->lp, b->lp, S * sizeof(double)) == 0 &&
                      memcmp(a->start_opt, b->start_opt, 3 * sizeof *a->start_opt) == 0,
                  "nuts + noise step + MAP starts: bitwise the same draws and optima on 1 and 2 "
                  "threads");
    bnn_draws_free(a);
    bnn_draws_free(b);
    bnn_model_free(m);
    bnn_table_free(t);
}

/* ---- (6) the optimiser on the conjugate linear regression: the MAP in closed form ----
 * In (w, eta) with eta's Jacobian: for fixed eta, w = (Z'Z + e^eta / s2 I)^-1 Z'y; for fixed
 * w, e^eta = (SSE/2 + nu2) / (n/2 + nu1). The fixed point, iterated to 1e-14 in eta. */
static void exact_map(const bnn_table *t, double s2, double nu1, double nu2, double *theta)
{
    size_t d = t->p + 1, n = t->n;
    gsl_matrix *A = gsl_matrix_alloc(d, d);
    gsl_vector *r = gsl_vector_alloc(d), *w = gsl_vector_alloc(d);
    double eta = 0;
    for (int it = 0; it < 100000; it++) {
        gsl_matrix_set_zero(A);
        gsl_vector_set_zero(r);
        for (size_t i = 0; i < n; i++) {
            double z[3] = {t->x[2 * i], t->x[2 * i + 1], 1.0};
            for (size_t a = 0; a < d; a++) {
                r->data[a] += z[a] * t->y[i];
                for (size_t b = 0; b < d; b++)
                    *gsl_matrix_ptr(A, a, b) += z[a] * z[b];
            }
        }
        for (size_t a = 0; a < d; a++)
            *gsl_matrix_ptr(A, a, a) += exp(eta) / s2;
        gsl_linalg_cholesky_decomp1(A);
        gsl_linalg_cholesky_solve(A, r, w);
        double sse = 0;
        for (size_t i = 0; i < n; i++) {
            double f = w->data[0] * t->x[2 * i] + w->data[1] * t->x[2 * i + 1] + w->data[2];
            sse += (t->y[i] - f) * (t->y[i] - f);
        }
        double next = log((0.5 * sse + nu2) / (0.5 * (double)n + nu1));
        int done = fabs(next - eta) < 1e-14;
        eta = next;
        if (done)
            break;
    }
    for (size_t a = 0; a < d; a++)
        theta[a] = w->data[a];
    theta[d] = eta;
    gsl_matrix_free(A);
    gsl_vector_free(r);
    gsl_vector_free(w);
}

static void test_map_linear(void)
{
    bnn_table *t = conjugate_data();
    const double priors[2][2] = {{2, 0.5}, {0, 0}};
    for (int p = 0; p < 2; p++) {
        bnn_model *m = linear_model(t, priors[p][0], priors[p][1]);
        bnn_density d = bnn_model_density(m);
        double exact[4], theta[4], work[4096];
        exact_map(t, bnn_model_get_spec(m)->prior_var, priors[p][0], priors[p][1], exact);
        double worst = 0, worst_g = 0;
        int ok = 1;
        for (uint64_t seed = 1; seed <= 5; seed++) {
            bnn_model_init(m, seed, theta, work);
            bnn_optimize_opts o = {0, 1e-9};
            bnn_optimize_result res;
            bnn_error err = {0};
            ok &= bnn_optimize(&d, theta, &o, &res, &err) == BNN_OK && res.lp >= res.lp_start;
            for (int j = 0; j < 4; j++)
                worst = fmax(worst, fabs(theta[j] - exact[j]));
            worst_g = fmax(worst_g, res.grad_norm);
        }
        /* bfgs2 stalls at the rounding limit near |grad| 1e-6, some 5e-8 from the optimum
         * (eta's curvature is n/2 + nu1 ~ 14); 1e-6 leaves a margin of 20 */
        CHECK_VERBOSE(ok && worst < 1e-6, "MAP of the linear regression (nu1 %g, nu2 %g) from 5 "
                      "starts: within %.1e of the closed form (W %.6f %.6f, b %.6f, eta %.6f); "
                      "|grad| at most %.1e", priors[p][0], priors[p][1], worst, exact[0], exact[1],
                      exact[2], exact[3], worst_g);
        bnn_model_free(m);
    }
    bnn_table_free(t);
}

/* ---- (7) a network's optimum: the gradient within the tolerance ---- */
static void test_map_network(void)
{
    bnn_table *tr = NULL, *te = NULL;
    bnn_dataset_make("mackey-glass", 1, &tr, &te, NULL);
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 1, BNN_TASK_REGRESSION, (int)tr->p, 0);
    sp.hidden[0] = 3;
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, tr, NULL);
    bnn_density d = bnn_model_density(m);
    double theta[64], work[65536];
    CHECK(d.dim <= 64 && d.work_len <= 65536, "sizes");
    bnn_model_init(m, 2, theta, work);
    bnn_optimize_result res;
    bnn_error err = {0};
    bnn_status st = bnn_optimize(&d, theta, NULL, &res, &err);
    /* the default tolerance: |grad| < 1e-5 max(1, |logp|) */
    CHECK_VERBOSE(st == BNN_OK && res.status == BNN_OPTIM_CONVERGED &&
                      res.grad_norm < 1e-5 * fmax(1, fabs(res.lp)) && res.lp > res.lp_start,
                  "mackey-glass network (3 hidden): log density %.3f -> %.3f, |grad| %.2e < "
                  "%.2e after %zu iterations, %s", res.lp_start, res.lp, res.grad_norm,
                  1e-5 * fmax(1, fabs(res.lp)), res.iter, bnn_optim_status_str(res.status));
    bnn_model_free(m);
    bnn_table_free(tr);
    bnn_table_free(te);
}

/* ---- (8) an optimisation that runs into non-finite values keeps the best point ---- */
static double cliff_logp(const void *ctx, double *work, const double *th, double *grad)
{
    (void)ctx;
    (void)work;
    /* the maximum of the smooth part (3, 3) lies beyond a cliff at x0 = 1 */
    if (th[0] > 1)
        return -INFINITY;
    if (grad) {
        grad[0] = -(th[0] - 3);
        grad[1] = -(th[1] - 3);
    }
    return -0.5 * ((th[0] - 3) * (th[0] - 3) + (th[1] - 3) * (th[1] - 3));
}

static void test_map_fallback(void)
{
    bnn_density d = {.dim = 2, .n_weights = 2, .logp = cliff_logp};
    double theta[2] = {0, 0};
    bnn_optimize_result res;
    bnn_error err = {0};
    bnn_status st = bnn_optimize(&d, theta, NULL, &res, &err);
    CHECK_VERBOSE(st == BNN_OK && res.status != BNN_OPTIM_CONVERGED && isfinite(res.lp) &&
                      res.lp > res.lp_start && theta[0] <= 1 && res.lp == cliff_logp(NULL, NULL, theta, NULL),
                  "an optimum beyond a cliff: the best finite point (%.4f, %.4f), log density "
                  "%.4f > %.4f at the start, status %s", theta[0], theta[1], res.lp, res.lp_start,
                  bnn_optim_status_str(res.status));
    double bad[2] = {2, 0};
    st = bnn_optimize(&d, bad, NULL, &res, &err);
    CHECK_VERBOSE(st == BNN_ENUMERIC && strstr(err.msg, "not finite"),
                  "a non-finite start is refused: %s", err.msg);
}

int main(void)
{
    (void)moments_z;
    test_refusals();
    test_eta_frozen();
    test_degenerate_noise();
    test_threads();
    test_map_linear();
    test_map_network();
    test_map_fallback();
    test_vs_gibbs();
    test_sbc();
    return check_done("test_noise");
}
