/* test_center.c — the centred output level (bnn_model_spec.center, src/model/center.c),
 * alone and with the first layer on the inputs' axes (.axes, src/model/axes.c), against the
 * model's own coordinates: the maps' Jacobian determinants are +-1 (so nothing is owed to
 * the density), and NUTS in any of the coordinates samples the same posterior: the
 * moments of quantities that hidden-unit relabelling leaves alone (tau2, lp__ and the
 * predictions at fixed inputs) agree within their Monte Carlo error, with the power of the
 * comparison printed and checked. (Gradients and the map itself: tests/test_model.c.) */
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

enum { N = 20, P = 2, H = 3 };

static bnn_table *data(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 4242);
    bnn_table *t = bnn_table_new(N, P, "center");
    for (size_t i = 0; i < N; i++) {
        double a = gsl_ran_gaussian(r, 1.0), b = gsl_ran_gaussian(r, 1.0);
        t->x[P * i] = a;
        t->x[P * i + 1] = b;
        /* a saturating step in a: the network's units have a level to share */
        t->y[i] = 0.3 + 0.5 / (1.0 + exp(-4.0 * a)) - 0.1 * b + gsl_ran_gaussian(r, 0.1);
    }
    gsl_rng_free(r);
    return t;
}

static bnn_model *model(const bnn_table *t, int center, int axes)
{
    bnn_model_spec sp = {0};
    sp.task = BNN_TASK_REGRESSION;
    sp.n_inputs = P;
    sp.n_hidden = 1;
    sp.hidden[0] = H;
    sp.hidden_act = BNN_ACT_SIGMOID;
    sp.output_act = BNN_ACT_IDENTITY;
    sp.prior_var = 4.0;
    sp.nu1 = 2.0;
    sp.nu2 = 0.02;
    sp.center = center;
    sp.axes = axes;
    bnn_model *m = NULL;
    bnn_error err = {0};
    if (bnn_model_new(&m, &sp, t, &err) != BNN_OK)
        printf("model: %s\n", err.msg);
    return m;
}

/* ---- (1) the Jacobian of to_model is 1 ----
 * By central differences at random points: the determinant of d to_model / d theta, which
 * a map that scaled any coordinate (or a level c = b2 + 2 sum v hbar) would move. */
static void test_jacobian(int axes)
{
    bnn_table *t = data();
    bnn_model *m = model(t, 1, axes);
    bnn_density d = bnn_model_density(m);
    size_t D = d.dim;
    double *work = calloc(d.work_len, sizeof *work), *th = calloc(D, sizeof *th),
           *hi = calloc(D, sizeof *hi), *lo = calloc(D, sizeof *lo);
    gsl_matrix *J = gsl_matrix_alloc(D, D);
    gsl_permutation *perm = gsl_permutation_alloc(D);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 9);
    double worst = 0.0;
    for (int rep = 0; rep < 5; rep++) {
        for (size_t j = 0; j < D; j++)
            th[j] = gsl_ran_gaussian(r, 1.5);
        for (size_t j = 0; j < D; j++) {
            double t0 = th[j], h = 1e-5;
            th[j] = t0 + h;
            d.to_model(d.ctx, work, th, hi);
            th[j] = t0 - h;
            d.to_model(d.ctx, work, th, lo);
            th[j] = t0;
            for (size_t i = 0; i < D; i++)
                gsl_matrix_set(J, i, j, (hi[i] - lo[i]) / (2 * h));
        }
        int sign;
        gsl_linalg_LU_decomp(J, perm, &sign);
        double det = gsl_linalg_LU_det(J, sign);
        worst = fmax(worst, fabs(fabs(det) - 1.0));
    }
    CHECK_VERBOSE(worst < 1e-8, "the centred map%s's Jacobian determinant is +-1 at 5 random "
                  "points (worst ||det| - 1| %.1e)", axes ? " on the inputs' axes" : "", worst);
    gsl_rng_free(r);
    gsl_permutation_free(perm);
    gsl_matrix_free(J);
    free(work);
    free(th);
    free(hi);
    free(lo);
    bnn_model_free(m);
    bnn_table_free(t);
}

/* ---- (2) NUTS in the centred coordinates against NUTS in the model's ---- */

enum { Q = 5 };   /* tau2, lp__, the predictions at three inputs */
static const char *const qname[Q] = {"tau2", "lp__", "f(-1.5, 0)", "f(0, 0)", "f(1, 1)"};

/* The Q quantities of every draw, quantity-major (Q x chains x n_kept). */
static double *quantities(const bnn_model *m, const bnn_draws *dr)
{
    size_t S = (size_t)dr->chains * dr->n_kept, dim = dr->dim;
    double *q = malloc(Q * S * sizeof *q);
    bnn_table *at = bnn_table_new(3, P, "points");
    double pts[3][P] = {{-1.5, 0}, {0, 0}, {1, 1}};
    memcpy(at->x, pts, sizeof pts);
    double *work = calloc(bnn_model_predict_work(m, 3), sizeof *work), out[3];
    for (size_t s = 0; s < S; s++) {
        const double *th = dr->theta + s * dim;
        q[s] = exp(th[dim - 1]);
        q[S + s] = dr->lp[s];
        bnn_model_predict(m, th, at, out, work, NULL);
        for (int k = 0; k < 3; k++)
            q[(2 + (size_t)k) * S + s] = out[k];
    }
    free(work);
    bnn_table_free(at);
    return q;
}

static bnn_draws *nuts(const bnn_model *m, uint64_t seed)
{
    bnn_density d = bnn_model_density(m);
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "nuts";
    rc.n_iter = 81000;
    rc.n_burn = 1000;
    rc.chains = 4;
    rc.threads = 2;
    rc.seed = seed;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    if (bnn_run(&d, &rc, &dr, &err) != BNN_OK)
        printf("run failed: %s\n", err.msg);
    return dr;
}

/* Every mean and sd within 4 standard errors of the difference; the smallest differences
 * the comparison detects (4 se, relative to the posterior sd) are printed and must be below
 * 4% of an sd in a mean and in an sd (80,000 draws a chain: lp__ has the smallest ESS).
 * The draws are in the model's coordinates either way (to_model), so one prediction code
 * serves both. */
static void test_same_posterior(void)
{
    bnn_table *t = data();
    bnn_model *m0 = model(t, 0, 0);
    bnn_draws *a = m0 ? nuts(m0, 11) : NULL;
    CHECK(a != NULL, "the run in the model's coordinates");
    double *qa = a ? quantities(m0, a) : NULL;
    for (int axes = 0; axes <= 1 && a; axes++) {
        const char *name = axes ? "centred, axes" : "centred";
        bnn_model *m1 = model(t, 1, axes);
        bnn_draws *b = m1 ? nuts(m1, 12 + (uint64_t)axes) : NULL;
        CHECK(b != NULL, "the run %s", name);
        if (!b) {
            bnn_model_free(m1);
            continue;
        }
        size_t Sa = (size_t)a->chains * a->n_kept, Sb = (size_t)b->chains * b->n_kept;
        double *qb = quantities(m0, b);
        double pm_worst = 0, ps_worst = 0;
        for (int k = 0; k < Q; k++) {
            moments x = array_moments(qa + (size_t)k * Sa, (size_t)a->chains, a->n_kept);
            moments y = array_moments(qb + (size_t)k * Sb, (size_t)b->chains, b->n_kept);
            double se_m = hypot(x.mcse_mean, y.mcse_mean), se_v = hypot(x.mcse_var, y.mcse_var);
            double zm = (x.mean - y.mean) / se_m, zv = (x.var - y.var) / se_v;
            double pm = 4 * se_m / sqrt(x.var), ps = 4 * se_v / (2 * x.var);
            pm_worst = fmax(pm_worst, pm);
            ps_worst = fmax(ps_worst, ps);
            CHECK_VERBOSE(fabs(zm) < 4 && fabs(zv) < 4,
                          "nuts in the model's coordinates / %s, %-10s: means %.5f / %.5f "
                          "(z %+.2f), sds %.5f / %.5f (z %+.2f), ESS %.0f / %.0f", name, qname[k],
                          x.mean, y.mean, zm, sqrt(x.var), sqrt(y.var), zv, x.ess, y.ess);
        }
        CHECK_VERBOSE(pm_worst < 0.04 && ps_worst < 0.04, "the comparison has power (%s): "
                      "detects %.1f%% of an sd in a mean, %.1f%% in an sd", name, 100 * pm_worst,
                      100 * ps_worst);
        /* the point of it: a larger step size in the centred coordinates */
        double ea = 0, eb = 0;
        for (int c = 0; c < 4; c++) {
            ea += a->stepsize[(size_t)c * a->n_kept] / 4;
            eb += b->stepsize[(size_t)c * b->n_kept] / 4;
        }
        printf("# step size after warm-up: %.4f in the model's coordinates, %.4f %s\n", ea, eb,
               name);
        free(qb);
        bnn_draws_free(b);
        bnn_model_free(m1);
    }
    free(qa);
    bnn_draws_free(a);
    bnn_model_free(m0);
    bnn_table_free(t);
}

int main(void)
{
    test_jacobian(0);
    test_jacobian(1);
    test_same_posterior();
    return check_done("test_center");
}
