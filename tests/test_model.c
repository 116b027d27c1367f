/* test_model.c — every model's gradient against finite differences, the log density against
 * a hand computation (prior and Jacobian included), the Langevin map against per-row
 * gradients, numerical stability, predictions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

#include "../src/model/model_internal.h"
#include "check.h"

#define LOG_2PI 1.8378770664093454836

static bnn_table *random_table(gsl_rng *r, size_t n, size_t p, int K)
{
    bnn_table *t = bnn_table_new(n, p, "random");
    for (size_t i = 0; i < n * p; i++)
        t->x[i] = gsl_ran_gaussian(r, 1.0);
    for (size_t i = 0; i < n; i++)
        t->y[i] = K ? (double)(i % (size_t)K) : gsl_rng_uniform(r);
    return t;
}

static double eval(const bnn_density *d, double *work, const double *th, double *g)
{
    return d->logp(d->ctx, work, th, g);
}

/* Largest |analytic - numeric| / max(1, |analytic|, |numeric|) over coordinates; numeric is
 * the 5-point central difference, error O(h^4). */
static double grad_error(const bnn_density *d, double *theta, double *work)
{
    double *g = bnn_zalloc(d->dim);
    eval(d, work, theta, g);
    double worst = 0.0;
    for (size_t j = 0; j < d->dim; j++) {
        double t0 = theta[j], h = 1e-4 * fmax(1.0, fabs(t0));
        double f[4], off[4] = {-2, -1, 1, 2};
        for (int k = 0; k < 4; k++) {
            theta[j] = t0 + off[k] * h;
            f[k] = eval(d, work, theta, NULL);
        }
        theta[j] = t0;
        double num = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
        double e = fabs(g[j] - num) / fmax(1.0, fmax(fabs(g[j]), fabs(num)));
        if (e > worst)
            worst = e;
    }
    free(g);
    return worst;
}

/* The tempered density at a fixed beta as a plain density, for grad_error. */
typedef struct {
    const bnn_density *d;
    double beta;
} tempered_at;

static double tempered_logp(const void *ctx, double *work, const double *th, double *g)
{
    const tempered_at *t = ctx;
    double ll;
    return t->d->logp_tempered(t->d->ctx, work, t->beta, th, g, &ll);
}

/* grad_error of d's tempered density at beta. */
static double tempered_grad_error(const bnn_density *d, double beta, double *theta, double *work)
{
    tempered_at ta = {d, beta};
    bnn_density w = *d;
    w.logp = tempered_logp;
    w.ctx = &ta;
    return grad_error(&w, theta, work);
}

/* logp_tempered (bnn_density): its gradient at beta = 0.37 against finite differences; at
 * beta = 1 it is logp; at beta = 0 it is the prior alone, computed here by hand (the
 * Gaussian weights, and for regression the inverse-gamma on tau^2 with eta's Jacobian: the
 * prior part), and f(beta) = f(0) + beta * loglik. Returns the worst of these errors,
 * relative. */
static double tempered_error(const bnn_density *d, const bnn_model_spec *sp, double *theta,
                             double *work)
{
    tempered_at t = {d, 0.37};
    bnn_density w = *d;
    w.logp = tempered_logp;
    w.ctx = &t;
    double worst = grad_error(&w, theta, work);
    double ll0, ll1, llb;
    double f0 = d->logp_tempered(d->ctx, work, 0.0, theta, NULL, &ll0);
    double f1 = d->logp_tempered(d->ctx, work, 1.0, theta, NULL, &ll1);
    double fb = d->logp_tempered(d->ctx, work, 0.37, theta, NULL, &llb);
    double lp = d->logp(d->ctx, work, theta, NULL);
    size_t nw = d->n_weights;
    double prior = -0.5 * (double)nw * (LOG_2PI + log(sp->prior_var));
    for (size_t j = 0; j < nw; j++)
        prior -= 0.5 * theta[j] * theta[j] / sp->prior_var;
    if (sp->task == BNN_TASK_REGRESSION) {
        double eta = theta[nw];
        if (sp->nu1 > 0 && sp->nu2 > 0)
            prior += sp->nu1 * log(sp->nu2) - lgamma(sp->nu1);
        prior += -sp->nu1 * eta - sp->nu2 * exp(-eta);
    }
    double scale = 1.0 + fabs(lp);
    double e[] = {fabs(f1 - lp) / scale, fabs(f0 - prior) / scale,
                  fabs(fb - (f0 + 0.37 * ll0)) / scale, fabs(f1 - (f0 + ll0)) / scale,
                  fabs(ll1 - ll0) / scale, fabs(llb - ll0) / scale};
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        worst = e[i] > worst ? e[i] : worst;
    return worst;
}

static const char *act_name(bnn_activation a)
{
    static const char *n[] = {"identity", "sigmoid", "tanh", "relu", "softmax"};
    return n[a];
}

static void test_gradients(gsl_rng *r)
{
    struct {
        int n_hidden, h[2];
    } shapes[] = {{0, {0, 0}}, {1, {10, 0}}, {2, {5, 4}}};
    bnn_activation acts[] = {BNN_ACT_SIGMOID, BNN_ACT_TANH, BNN_ACT_RELU};
    /* (task, K, output, nu1, nu2) */
    struct {
        bnn_task task;
        int K;
        bnn_activation out;
        double nu1, nu2;
    } tasks[] = {{BNN_TASK_REGRESSION, 0, BNN_ACT_SIGMOID, 0, 0},
                 {BNN_TASK_REGRESSION, 0, BNN_ACT_IDENTITY, 2.5, 0.3},
                 {BNN_TASK_CLASSIFICATION, 2, BNN_ACT_SOFTMAX, 0, 0},
                 {BNN_TASK_CLASSIFICATION, 3, BNN_ACT_SOFTMAX, 0, 0}};
    for (size_t s = 0; s < 3; s++)
        for (size_t a = 0; a < 3; a++) {
            if (shapes[s].n_hidden == 0 && a > 0)
                continue;   /* the linear model has no hidden activation */
            for (size_t k = 0; k < 4; k++) {
                bnn_table *t = random_table(r, 9, 3, tasks[k].K);
                bnn_model_spec sp = {0};
                sp.task = tasks[k].task;
                sp.n_inputs = 3;
                sp.n_classes = tasks[k].K;
                sp.n_hidden = shapes[s].n_hidden;
                memcpy(sp.hidden, shapes[s].h, sizeof shapes[s].h);
                sp.hidden_act = acts[a];
                sp.output_act = tasks[k].out;
                sp.prior_var = 2.0;
                sp.nu1 = tasks[k].nu1;
                sp.nu2 = tasks[k].nu2;
                bnn_model *m = NULL;
                bnn_error err = {0};
                CHECK(bnn_model_new(&m, &sp, t, &err) == BNN_OK, "model: %s", err.msg);
                if (!m) {
                    bnn_table_free(t);
                    continue;
                }
                bnn_density d = bnn_model_density(m);
                double *work = bnn_zalloc(d.work_len), *theta = bnn_zalloc(d.dim);
                double worst = 0.0, worst_t = 0.0;
                for (int rep = 0; rep < 3; rep++) {
                    for (size_t j = 0; j < d.dim; j++)
                        theta[j] = gsl_ran_gaussian(r, 0.8);
                    double e = grad_error(&d, theta, work);
                    worst = e > worst ? e : worst;
                    e = tempered_error(&d, &sp, theta, work);
                    worst_t = e > worst_t ? e : worst_t;
                }
                CHECK_VERBOSE(worst_t < 1e-6, "tempered %-5s hidden=%d act=%-8s out=%-8s K=%d "
                              "nu=(%g,%g): gradient at beta 0.37, beta 1 = logp, beta 0 = prior: "
                              "max rel err %.2e", shapes[s].n_hidden ? "nn" : "linear",
                              shapes[s].n_hidden, shapes[s].n_hidden ? act_name(acts[a]) : "-",
                              act_name(tasks[k].out), tasks[k].K, tasks[k].nu1, tasks[k].nu2,
                              worst_t);
                CHECK_VERBOSE(worst < 1e-6, "gradient %-5s hidden=%d act=%-8s out=%-8s K=%d "
                              "nu=(%g,%g) dim=%3zu: max rel err %.2e", shapes[s].n_hidden ? "nn" : "linear",
                              shapes[s].n_hidden, shapes[s].n_hidden ? act_name(acts[a]) : "-",
                              act_name(tasks[k].out), tasks[k].K, tasks[k].nu1, tasks[k].nu2,
                              d.dim, worst);
                free(work);
                free(theta);
                bnn_model_free(m);
                bnn_table_free(t);
            }
        }
}

/* The density's path against the general BLAS path at th: updates the largest relative
 * errors of the log density and of the gradient (relative to 1 + the largest |gradient|);
 * returns the path's log density. */
static double against_blas(const bnn_model *m, const bnn_density *d, double *work,
                           const double *th, double *g1, double *g2, double *worst_lp,
                           double *worst_g)
{
    double l1 = eval(d, work, th, g1);
    double l2 = bnn_model_logp_blas(m, work, th, g2);
    double gmax = 0.0, gd = 0.0;
    for (size_t j = 0; j < d->dim; j++) {
        gmax = fmax(gmax, fabs(g2[j]));
        gd = fmax(gd, fabs(g1[j] - g2[j]));
    }
    *worst_lp = fmax(*worst_lp, fabs(l1 - l2) / (1.0 + fabs(l2)));
    *worst_g = fmax(*worst_g, gd / (1.0 + gmax));
    return l1;
}

/* The fused one-hidden-layer kernel (fused.c), both instances (4 and 8 lanes), against the
 * general BLAS path, on row counts that fill no, one and several blocks, every activation,
 * both regression outputs and softmax with the specialised (2, 3) and general (5) class
 * counts; and past BNN_FUSED_MAXK classes the BLAS path is the one used, gradient still
 * right. */
/* The density takes the fused kernel where the processor has AVX-512 (8 lanes) or AVX2
 * and FMA (4 lanes) (model.c's fused_is_fast). */
static int fused_expected(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ||
           (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
}

#define TOL_SINGLE 1e-4

static void test_fused(gsl_rng *r)
{
    int fused_where_fast = 1;
    bnn_activation acts[] = {BNN_ACT_SIGMOID, BNN_ACT_TANH, BNN_ACT_RELU};
    size_t rows[] = {1, 8, 37};
    int Ks[] = {0, -1, 2, 3, 5}; /* 0: sigmoid output, -1: identity output */
    /* the instances: lanes and precision (bnn_model_spec.float32) */
    const int inst_lanes[] = {4, 8, 8, 16}, inst_single[] = {0, 0, 1, 1};
    for (int in = 0; in < 4; in++) {
        const int lanes = inst_lanes[in], single = inst_single[in];
        /* single precision: float's epsilon (6e-8) on each row's products, sigmoid and
         * deltas, summed over at most 37 rows and 7 units; the residuals' squares summed
         * in double */
        const double tol = single ? TOL_SINGLE : 1e-12;
        for (int a = 0; a < 3; a++)
            for (int k = 0; k < 5; k++) {
                double worst_lp = 0.0, worst_g = 0.0;
                int same_no_grad = 1;
                for (int ri = 0; ri < 3; ri++) {
                    int K = Ks[k] > 0 ? Ks[k] : 0;
                    bnn_table *t = random_table(r, rows[ri], 4, K);
                    bnn_model_spec sp;
                    bnn_model_spec_study(&sp, 1,
                                         K ? BNN_TASK_CLASSIFICATION : BNN_TASK_REGRESSION, 4, K);
                    sp.hidden[0] = 7; /* one tile of 4 and a remainder of 3 */
                    sp.hidden_act = acts[a];
                    sp.float32 = single;
                    if (Ks[k] == -1)
                        sp.output_act = BNN_ACT_IDENTITY;
                    bnn_model *m = NULL;
                    bnn_model_new(&m, &sp, t, NULL);
                    bnn_density d = bnn_model_density(m);
                    /* the density takes the kernel only with AVX-512 or AVX2; test it
                     * everywhere */
                    fused_where_fast &= bnn_model_has_fused(m) &&
                                        (d.logp == bnn_model_logp_fused) == fused_expected();
                    /* each instance, whichever this processor would pick */
                    CHECK(bnn_model_set_fused_lanes(m, lanes) == 0, "fused kernel on %d lanes",
                          lanes);
                    d = bnn_model_density(m);
                    d.logp = bnn_model_logp_fused;
                    double *work = bnn_zalloc(d.work_len), *th = bnn_zalloc(d.dim);
                    double *g1 = bnn_zalloc(d.dim), *g2 = bnn_zalloc(d.dim);
                    for (int rep = 0; rep < 4; rep++) {
                        double scale = rep < 2 ? 0.8 : rep == 2 ? 5.0 : 1e3;
                        for (size_t j = 0; j < d.dim; j++)
                            th[j] = gsl_ran_gaussian(r, scale);
                        if (d.dim > d.n_weights)
                            th[d.n_weights] = gsl_ran_gaussian(r, 1.0);
                        double l1 = against_blas(m, &d, work, th, g1, g2, &worst_lp, &worst_g);
                        /* without a gradient the kernel skips the backward work: same value */
                        same_no_grad &= eval(&d, work, th, NULL) == l1;
                    }
                    free(work);
                    free(th);
                    free(g1);
                    free(g2);
                    bnn_model_free(m);
                    bnn_table_free(t);
                }
                CHECK(same_no_grad, "fused kernel: logp without gradient differs");
                CHECK_VERBOSE(worst_lp < tol && worst_g < tol,
                              "fused kernel (%2d lanes, %s) = BLAS path: act=%-7s %s K=%d, n = 1, "
                              "8, 37: rel err logp %.1e, gradient %.1e", lanes,
                              single ? "single" : "double", act_name(acts[a]),
                              Ks[k] == 0  ? "sigmoid out "
                              : Ks[k] < 0 ? "identity out"
                                          : "softmax     ",
                              Ks[k] > 0 ? Ks[k] : 1, worst_lp, worst_g);
            }
    }

    CHECK_VERBOSE(fused_where_fast, "a one-hidden-layer network's density takes %s (AVX-512 "
                  "or AVX2 %s)", fused_expected() ? "the fused kernel" : "the BLAS path",
                  fused_expected() ? "present" : "absent");
    /* more classes than the kernel takes: the BLAS path, checked by finite differences */
    bnn_table *t = random_table(r, 30, 3, BNN_FUSED_MAXK + 1);
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 1, BNN_TASK_CLASSIFICATION, 3, BNN_FUSED_MAXK + 1);
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, t, NULL);
    bnn_density d = bnn_model_density(m);
    double *work = bnn_zalloc(d.work_len), *th = bnn_zalloc(d.dim);
    for (size_t j = 0; j < d.dim; j++)
        th[j] = gsl_ran_gaussian(r, 0.8);
    double e = grad_error(&d, th, work);
    CHECK_VERBOSE(d.logp == bnn_model_logp_blas && e < 1e-6,
                  "%d classes use the BLAS path: gradient max rel err %.1e",
                  BNN_FUSED_MAXK + 1, e);
    free(work);
    free(th);
    bnn_model_free(m);
    bnn_table_free(t);

    /* each instance's own exp and log against libm (single precision: on [-87, 87] and
     * [e^-87, e^87], to a few of float's epsilon, 1.2e-7, the argument itself rounded to
     * float first) */
    for (int in = 0; in < 4; in++) {
        const int lanes = inst_lanes[in], single = inst_single[in];
        const double lim = single ? 87.0 : 708.0, llim = single ? 87.0 : 690.0;
        const double tol = single ? 4e-7 : 1e-15;
        double we = 0.0, wl = 0.0;
        for (int i = 0; i <= 20000; i++) {
            double x = -lim + 2 * lim * i / 20000.0 + 1e-3 * gsl_rng_uniform(r);
            x = fmin(x, lim);
            if (single)
                x = (float)x;
            double ex, lx;
            bnn_fused_exp_log(lanes, single, x, &ex, &lx);
            we = fmax(we, fabs(ex - exp(x)) / exp(x));
            double s = exp(gsl_ran_flat(r, -llim, llim));
            if (single)
                s = (float)s;
            bnn_fused_exp_log(lanes, single, s, &ex, &lx);
            wl = fmax(wl, fabs(lx - log(s)) / fmax(1.0, fabs(log(s))));
        }
        CHECK_VERBOSE(we < tol && wl < tol,
                      "kernel exp (%2d lanes, %s) on [-%.0f, %.0f]: max rel err %.1e; log on "
                      "[e^-%.0f, e^%.0f]: %.1e", lanes, single ? "single" : "double", lim, lim,
                      we, llim, llim, wl);
    }
}

/* The linear regression through sufficient statistics (linear.c) against the row-by-row
 * BLAS path: near the least-squares fit (where the residuals are small and cancellation
 * would show), far from it, and on data whose columns repeat (singular Z'Z: the expansion
 * falls back to beta0 = 0). */
static void test_linear_ss(gsl_rng *r)
{
    for (int dup = 0; dup < 2; dup++) {
        size_t n = 203, p = 4;
        bnn_table *t = random_table(r, n, p, 0);
        for (size_t i = 0; i < n; i++) {
            if (dup)
                t->x[i * p + 3] = t->x[i * p + 1];
            /* y = a near-exact linear function plus noise 1e-3, offset 10 */
            t->y[i] = 10.0 + 0.5 * t->x[i * p] - 0.25 * t->x[i * p + 2] +
                      1e-3 * gsl_ran_gaussian(r, 1.0);
        }
        bnn_model_spec sp;
        bnn_model_spec_study(&sp, 0, BNN_TASK_REGRESSION, (int)p, 0);
        bnn_model *m = NULL;
        bnn_model_new(&m, &sp, t, NULL);
        bnn_density d = bnn_model_density(m);
        double *work = bnn_zalloc(d.work_len), *th = bnn_zalloc(d.dim);
        double *g1 = bnn_zalloc(d.dim), *g2 = bnn_zalloc(d.dim);
        double worst_lp = 0.0, worst_g = 0.0;
        for (int rep = 0; rep < 20; rep++) {
            double spread = rep < 10 ? 1e-4 : 3.0;
            double fit[5] = {0.5, 0.0, -0.25, 0.0, 10.0};
            for (size_t j = 0; j <= p; j++)
                th[j] = fit[j] + gsl_ran_gaussian(r, spread);
            th[p + 1] = log(1e-6) + gsl_ran_gaussian(r, 1.0);
            against_blas(m, &d, work, th, g1, g2, &worst_lp, &worst_g);
        }
        /* Repeated columns: Z'Z is singular and the expansion is about beta0 = 0, so the
         * SSE (about 2e-4 near the fit) is y'y (about 2e4) less nearly all of itself: a
         * cancellation of 1e8, double's epsilon 1.1e-16 times that (measured up to 6.5e-9,
         * by the random stream's position). */
        const double tol = dup ? 1e-7 : 1e-10;
        CHECK_VERBOSE(d.logp != bnn_model_logp_blas && worst_lp < tol && worst_g < tol,
                      "linear regression by sufficient statistics = row by row%s: rel err "
                      "logp %.1e, gradient %.1e", dup ? " (repeated column)" : "", worst_lp,
                      worst_g);
        free(work);
        free(th);
        free(g1);
        free(g2);
        bnn_model_free(m);
        bnn_table_free(t);
    }
}

/* Linear regression, 2 rows, 1 input, written out by hand. */
static void test_hand_linear(void)
{
    bnn_table *t = bnn_table_new(2, 1, "hand");
    t->x[0] = 1.0, t->y[0] = 2.0;
    t->x[1] = -2.0, t->y[1] = 0.5;
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 0, BNN_TASK_REGRESSION, 1, 0);
    sp.prior_var = 4.0;
    sp.nu1 = 3.0;
    sp.nu2 = 2.0;
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, t, NULL);
    bnn_density d = bnn_model_density(m);
    CHECK(d.dim == 3 && d.n_weights == 2, "dim %zu", d.dim);
    double theta[3] = {0.7, -0.2, log(0.5)}; /* w, b, eta: tau^2 = 0.5 */
    double work[64];
    double lp = eval(&d, work, theta, NULL);
    /* residuals: 2 - (0.7 - 0.2) = 1.5; 0.5 - (-1.4 - 0.2) = 2.1 */
    double sse = 1.5 * 1.5 + 2.1 * 2.1, tau2 = 0.5;
    double loglik = -1.0 * log(2 * M_PI * tau2) - sse / (2 * tau2);
    double logprior_w = -log(2 * M_PI * 4.0) - (0.49 + 0.04) / (2 * 4.0);
    /* inverse-gamma(3, 2) density of tau^2, times the Jacobian d tau^2 / d eta = tau^2 */
    double logig = 3.0 * log(2.0) - lgamma(3.0) - 4.0 * log(tau2) - 2.0 / tau2;
    double want = loglik + logprior_w + logig + log(tau2);
    CHECK_VERBOSE(fabs(lp - want) < 1e-12 * fabs(want), "hand linear regression: %.15g vs %.15g", lp, want);

    /* nu1 = nu2 = 0: the improper 1/tau^2 prior is flat in eta (no normaliser) */
    bnn_model_free(m);
    sp.nu1 = sp.nu2 = 0;
    bnn_model_new(&m, &sp, t, NULL);
    d = bnn_model_density(m);
    lp = eval(&d, work, theta, NULL);
    want = loglik + logprior_w;
    CHECK_VERBOSE(fabs(lp - want) < 1e-12 * fabs(want), "hand linear regression, 1/tau^2 prior: %.15g vs %.15g", lp, want);
    bnn_model_free(m);
    bnn_table_free(t);
}

/* A 1-1-1 sigmoid network and a 2-class softmax regression on one row. */
static void test_hand_nn(void)
{
    bnn_table *t = bnn_table_new(1, 1, "hand");
    t->x[0] = 0.5, t->y[0] = 0.8;
    bnn_model_spec sp = {0};
    sp.task = BNN_TASK_REGRESSION;
    sp.n_inputs = 1;
    sp.n_hidden = 1;
    sp.hidden[0] = 1;
    sp.hidden_act = BNN_ACT_TANH;
    sp.output_act = BNN_ACT_SIGMOID;
    sp.prior_var = 25.0;
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, t, NULL);
    bnn_density d = bnn_model_density(m);
    double th[5] = {1.5, -0.3, 2.0, 0.1, 0.0}; /* W1, b1, W2, b2, eta (tau^2 = 1) */
    double work[64];
    double h = tanh(1.5 * 0.5 - 0.3), f = 1 / (1 + exp(-(2.0 * h + 0.1)));
    double want = -0.5 * log(2 * M_PI) - 0.5 * (0.8 - f) * (0.8 - f) - 2 * log(2 * M_PI * 25) -
                  (1.5 * 1.5 + 0.09 + 4.0 + 0.01) / 50.0;
    double lp = eval(&d, work, th, NULL);
    CHECK_VERBOSE(fabs(lp - want) < 1e-12 * fabs(want), "hand 1-1-1 tanh/sigmoid network: %.15g vs %.15g", lp, want);
    char name[32];
    bnn_model_param_name(m, 0, name, sizeof name);
    CHECK(strcmp(name, "W1.1.1") == 0, "name 0 %s", name);
    bnn_model_param_name(m, 3, name, sizeof name);
    CHECK(strcmp(name, "b2.1") == 0, "name 3 %s", name);
    bnn_model_param_name(m, 4, name, sizeof name);
    CHECK(strcmp(name, "tau2") == 0, "name 4 %s", name);
    bnn_model_free(m);

    t->y[0] = 1;
    bnn_model_spec_study(&sp, 0, BNN_TASK_CLASSIFICATION, 1, 2);
    bnn_model_new(&m, &sp, t, NULL);
    d = bnn_model_density(m);
    CHECK(d.dim == 4, "softmax K=2 has 4 parameters, got %zu", d.dim);
    double w[4] = {1.0, -1.0, 0.2, 0.4}; /* W1.1.1, W1.1.2, b1.1, b1.2 */
    double z0 = 0.5 + 0.2, z1 = -0.5 + 0.4;
    want = z1 - log(exp(z0) + exp(z1)) - 2 * log(2 * M_PI * 5) - (1 + 1 + 0.04 + 0.16) / 10.0;
    lp = eval(&d, work, w, NULL);
    CHECK_VERBOSE(fabs(lp - want) < 1e-12 * fabs(want), "hand 2-class softmax regression: %.15g vs %.15g", lp, want);
    bnn_model_param_name(m, 1, name, sizeof name);
    CHECK(strcmp(name, "W1.1.2") == 0, "name %s", name);
    bnn_model_free(m);
    bnn_table_free(t);
}

/* Weights of magnitude 1e3 saturate every unit: the density must stay finite, no NaN. */
static void test_stability(gsl_rng *r)
{
    bnn_activation acts[] = {BNN_ACT_SIGMOID, BNN_ACT_TANH, BNN_ACT_RELU};
    for (int k = 0; k < 3; k++)
        for (int a = 0; a < 3; a++) {
            int K = k == 0 ? 0 : k + 1;
            bnn_table *t = random_table(r, 20, 4, K);
            bnn_model_spec sp;
            bnn_model_spec_study(&sp, 1, K ? BNN_TASK_CLASSIFICATION : BNN_TASK_REGRESSION, 4, K);
            sp.hidden_act = acts[a];
            bnn_model *m = NULL;
            bnn_model_new(&m, &sp, t, NULL);
            bnn_density d = bnn_model_density(m);
            double *work = bnn_zalloc(d.work_len), *th = bnn_zalloc(d.dim), *g = bnn_zalloc(d.dim);
            int ok = 1;
            for (int rep = 0; rep < 5; rep++) {
                for (size_t j = 0; j < d.n_weights; j++)
                    th[j] = 1e3 * (2 * gsl_rng_uniform(r) - 1);
                if (d.dim > d.n_weights)
                    th[d.n_weights] = -3.0;
                double lp = eval(&d, work, th, g);
                ok &= isfinite(lp);
                for (size_t j = 0; j < d.dim; j++)
                    ok &= isfinite(g[j]);
            }
            CHECK_VERBOSE(ok, "finite log density and gradient at |w| ~ 1e3: K=%d act=%s", K, act_name(acts[a]));
            free(work);
            free(th);
            free(g);
            bnn_model_free(m);
            bnn_table_free(t);
        }
}

/* On one row with an (almost) flat prior and tau^2 = 1, the Langevin map is exactly one
 * gradient step on the log-likelihood: g(theta) = theta + lr * grad. On several rows it
 * is a sequence of such steps, row by row. */
static void test_drift(gsl_rng *r)
{
    for (int K = 0; K <= 3; K += 3) {
        bnn_table *t = random_table(r, 3, 2, K);
        bnn_model_spec sp;
        bnn_model_spec_study(&sp, 1, K ? BNN_TASK_CLASSIFICATION : BNN_TASK_REGRESSION, 2, K);
        sp.prior_var = 1e300;
        bnn_model *full = NULL;
        bnn_model_new(&full, &sp, t, NULL);
        bnn_density d = bnn_model_density(full);
        double *work = bnn_zalloc(d.work_len), *th = bnn_zalloc(d.dim), *g = bnn_zalloc(d.dim);
        double *want = bnn_zalloc(d.dim), *got = bnn_zalloc(d.dim);
        for (size_t j = 0; j < d.dim; j++)
            th[j] = gsl_ran_gaussian(r, 1.0);
        if (!K)
            th[d.n_weights] = 0.0;
        double lr = 0.05;
        memcpy(want, th, d.dim * sizeof *want);
        /* reference: step through the rows with one-row models */
        for (size_t i = 0; i < t->n; i++) {
            bnn_table *row = bnn_table_new(1, 2, "row");
            memcpy(row->x, t->x + 2 * i, 2 * sizeof(double));
            row->y[0] = t->y[i];
            bnn_model_spec sp1 = sp;
            bnn_model *m1 = NULL;
            bnn_model_new(&m1, &sp1, row, NULL);
            bnn_density d1 = bnn_model_density(m1);
            double *w1 = bnn_zalloc(d1.work_len);
            d1.logp(d1.ctx, w1, want, g);
            for (size_t j = 0; j < d.n_weights; j++)
                want[j] += lr * g[j];
            free(w1);
            bnn_model_free(m1);
            bnn_table_free(row);
        }
        d.drift(d.ctx, work, lr, th, got);
        double worst = 0.0;
        for (size_t j = 0; j < d.dim; j++)
            worst = fmax(worst, fabs(got[j] - want[j]));
        CHECK_VERBOSE(worst < 1e-12, "Langevin map = row-by-row gradient steps (K=%d): max diff %.2e", K, worst);
        free(work);
        free(th);
        free(g);
        free(want);
        free(got);
        bnn_model_free(full);
        bnn_table_free(t);
    }
}

/* Predictions agree with the likelihood: the SSE of predict() reproduces logp. */
static void test_predict(gsl_rng *r)
{
    bnn_table *t = random_table(r, 15, 3, 0);
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 1, BNN_TASK_REGRESSION, 3, 0);
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, t, NULL);
    bnn_density d = bnn_model_density(m);
    double *work = bnn_zalloc(d.work_len), *th = bnn_zalloc(d.dim);
    for (size_t j = 0; j < d.dim; j++)
        th[j] = gsl_ran_gaussian(r, 1.0);
    double pred[15], *pw = bnn_zalloc(bnn_model_predict_work(m, 15));
    CHECK(bnn_model_predict(m, th, t, pred, pw, NULL) == BNN_OK, "predict");
    double sse = 0, ss = 0, eta = th[d.n_weights];
    for (int i = 0; i < 15; i++)
        sse += (t->y[i] - pred[i]) * (t->y[i] - pred[i]);
    for (size_t j = 0; j < d.n_weights; j++)
        ss += th[j] * th[j];
    double want = -7.5 * (LOG_2PI + eta) - 0.5 * exp(-eta) * sse -
                  0.5 * (double)d.n_weights * log(2 * M_PI * 25) - ss / 50;
    double lp = eval(&d, work, th, NULL);
    CHECK_VERBOSE(fabs(lp - want) < 1e-10 * fabs(want), "predict() consistent with logp: %.12g vs %.12g", lp, want);
    free(work);
    free(th);
    free(pw);
    bnn_model_free(m);
    bnn_table_free(t);

    t = random_table(r, 12, 3, 3);
    bnn_model_spec_study(&sp, 1, BNN_TASK_CLASSIFICATION, 3, 3);
    bnn_model_new(&m, &sp, t, NULL);
    d = bnn_model_density(m);
    th = bnn_zalloc(d.dim);
    work = bnn_zalloc(d.work_len);
    for (size_t j = 0; j < d.dim; j++)
        th[j] = gsl_ran_gaussian(r, 1.0);
    double prob[36];
    pw = bnn_zalloc(bnn_model_predict_work(m, 12));
    bnn_model_predict(m, th, t, prob, pw, NULL);
    double ll = 0, sumerr = 0;
    ss = 0;
    for (int i = 0; i < 12; i++) {
        ll += log(prob[i * 3 + (int)t->y[i]]);
        sumerr = fmax(sumerr, fabs(prob[i * 3] + prob[i * 3 + 1] + prob[i * 3 + 2] - 1));
    }
    for (size_t j = 0; j < d.dim; j++)
        ss += th[j] * th[j];
    want = ll - 0.5 * (double)d.dim * log(2 * M_PI * 25) - ss / 50;
    lp = eval(&d, work, th, NULL);
    CHECK_VERBOSE(fabs(lp - want) < 1e-10 * fabs(want) && sumerr < 1e-14,
                  "class probabilities consistent with logp: %.12g vs %.12g", lp, want);
    free(work);
    free(th);
    free(pw);
    bnn_model_free(m);
    bnn_table_free(t);
}

/* The batched predictor (all draws' first layer in one product) gives what one-draw
 * predictions give, for a regression net, a two-layer classifier and the linear model. */
static void test_predict_batch(gsl_rng *r)
{
    struct {
        int nn, K, layers;
    } cases[] = {{1, 0, 1}, {1, 3, 2}, {0, 0, 0}};
    for (int c = 0; c < 3; c++) {
        int K = cases[c].K;
        bnn_table *t = random_table(r, 11, 3, K);
        bnn_model_spec sp;
        bnn_model_spec_study(&sp, cases[c].nn, K ? BNN_TASK_CLASSIFICATION : BNN_TASK_REGRESSION, 3, K);
        if (cases[c].layers == 2) {
            sp.n_hidden = 2;
            sp.hidden[1] = 4;
            sp.hidden_act = BNN_ACT_TANH;
        }
        bnn_model *m = NULL;
        bnn_model_new(&m, &sp, t, NULL);
        size_t dim = bnn_model_dim(m), B = 5, out = (size_t)bnn_model_n_outputs(m);
        double *th = bnn_zalloc(B * dim), *batch = bnn_zalloc(t->n * B * out),
               *one = bnn_zalloc(t->n * out);
        double *bw = bnn_zalloc(bnn_model_predict_batch_work(m, t->n, B)),
               *pw = bnn_zalloc(bnn_model_predict_work(m, t->n));
        for (size_t j = 0; j < B * dim; j++)
            th[j] = gsl_ran_gaussian(r, 1.0);
        bnn_model_predict_batch(m, th, dim, B, t, batch, bw);
        double worst = 0;
        for (size_t b = 0; b < B; b++) {
            bnn_model_predict(m, th + b * dim, t, one, pw, NULL);
            for (size_t i = 0; i < t->n; i++)
                for (size_t k = 0; k < out; k++)
                    worst = fmax(worst, fabs(batch[i * B * out + b * out + k] - one[i * out + k]));
        }
        CHECK_VERBOSE(worst < 1e-12, "batched predictions = one-draw predictions (%s, K=%d): max diff %.1e",
                      cases[c].nn ? (cases[c].layers == 2 ? "2 hidden layers" : "nn") : "linear", K, worst);
        free(th);
        free(batch);
        free(one);
        free(bw);
        free(pw);
        bnn_model_free(m);
        bnn_table_free(t);
    }
}

/* The pointwise log-likelihood of S draws (more than two blocks of the batch, not a
 * multiple of one): each value against a direct computation from one-draw predictions,
 * the sum over rows against the density minus its prior (study priors: N(0, prior_var)
 * weights, inverse-gamma(0, 0) on tau^2, whose log density with eta's Jacobian is 0), the same bits
 * on 1 and 3 threads, and finite where softmax probabilities underflow. */
static void test_loglik(gsl_rng *r)
{
    struct {
        int nn, K;
        double scale;
    } cases[] = {{1, 0, 1}, {0, 0, 1}, {1, 3, 1}, {0, 2, 1}, {1, 3, 300}};
    for (int c = 0; c < 5; c++) {
        int K = cases[c].K;
        bnn_table *t = random_table(r, 13, 3, K);
        bnn_model_spec sp;
        bnn_model_spec_study(&sp, cases[c].nn, K ? BNN_TASK_CLASSIFICATION : BNN_TASK_REGRESSION,
                             3, K);
        bnn_model *m = NULL;
        bnn_model_new(&m, &sp, t, NULL);
        bnn_density d = bnn_model_density(m);
        size_t dim = d.dim, S = 70, n = t->n, out = (size_t)bnn_model_n_outputs(m);
        double *th = bnn_zalloc(S * dim), *ll = bnn_zalloc(n * S), *ll3 = bnn_zalloc(n * S);
        double *one = bnn_zalloc(n * out), *pw = bnn_zalloc(bnn_model_predict_work(m, n));
        double *work = bnn_zalloc(d.work_len);
        for (size_t j = 0; j < S * dim; j++)
            th[j] = cases[c].scale * gsl_ran_gaussian(r, 1.0);
        bnn_error err = {0};
        CHECK(bnn_model_loglik(m, th, S, t, 1, ll, &err) == BNN_OK, "loglik: %s", err.msg);
        CHECK(bnn_model_loglik(m, th, S, t, 3, ll3, &err) == BNN_OK, "loglik: %s", err.msg);
        double worst = 0, worst_sum = 0;
        int finite = 1;
        for (size_t s = 0; s < S; s++) {
            const double *ths = th + s * dim;
            bnn_model_predict(m, ths, t, one, pw, NULL);
            double sum = 0, ss = 0;
            for (size_t i = 0; i < n; i++) {
                double want;
                if (K) {
                    want = log(one[i * out + (size_t)t->y[i]]);
                } else {
                    double eta = ths[dim - 1], rr = t->y[i] - one[i];
                    want = -0.5 * (LOG_2PI + eta) - 0.5 * rr * rr * exp(-eta);
                }
                double v = ll[i * S + s];
                finite &= isfinite(v);
                /* a probability that underflowed, or went subnormal (few bits), has no
                 * accurate direct log: log-softmax is the reference there */
                if (want > -700)
                    worst = fmax(worst, fabs(v - want) / fmax(1, fabs(want)));
                sum += v;
            }
            for (size_t j = 0; j < d.n_weights; j++)
                ss += ths[j] * ths[j];
            double prior = -0.5 * (double)d.n_weights * log(2 * M_PI * sp.prior_var) -
                           ss / (2 * sp.prior_var);
            double lp = eval(&d, work, ths, NULL);
            worst_sum = fmax(worst_sum, fabs(sum - (lp - prior)) / fmax(1, fabs(lp - prior)));
        }
        CHECK_VERBOSE(worst < 1e-12 && worst_sum < 1e-10 && finite &&
                      memcmp(ll, ll3, n * S * sizeof *ll) == 0,
                      "pointwise log-likelihood (%s, K=%d, weights x%g): direct %.1e, sum vs "
                      "density %.1e, 1 = 3 threads", cases[c].nn ? "nn" : "linear", K,
                      cases[c].scale, worst, worst_sum);
        if (K) {
            t->y[4] = K;   /* not a class */
            CHECK(bnn_model_loglik(m, th, S, t, 1, ll, &err) == BNN_EINVAL &&
                  strstr(err.msg, "label"), "a label out of range is refused: %s", err.msg);
        }
        free(th);
        free(ll);
        free(ll3);
        free(one);
        free(pw);
        free(work);
        bnn_model_free(m);
        bnn_table_free(t);
    }
}

static void test_bad_spec(void)
{
    bnn_table *t = bnn_table_new(2, 2, "t");
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 1, BNN_TASK_REGRESSION, 3, 0);
    bnn_model *m = NULL;
    bnn_error err = {0};
    CHECK(bnn_model_new(&m, &sp, t, &err) == BNN_EINVAL && strstr(err.msg, "3 inputs, but the data have 2"),
          "input mismatch: %s", err.msg);
    bnn_model_spec_study(&sp, 1, BNN_TASK_REGRESSION, 2, 0);
    sp.prior_var = -1;
    CHECK(bnn_model_new(&m, &sp, t, &err) == BNN_EINVAL && strstr(err.msg, "prior variance"),
          "negative prior: %s", err.msg);
    bnn_table_free(t);
}

/* bnn_model_unconstrain inverts bnn_model_constrain on every kind of model (in place too),
 * refuses a tau2 that is not positive and finite, marking its coordinate, and the
 * activation names round-trip. */
static void test_unconstrain(gsl_rng *r)
{
    bnn_table *t = random_table(r, 10, 3, 0), *tc = random_table(r, 10, 3, 3);
    struct { int nn; bnn_task task; bnn_table *t; int K; } kinds[] = {
        {1, BNN_TASK_REGRESSION, t, 0}, {0, BNN_TASK_REGRESSION, t, 0},
        {1, BNN_TASK_CLASSIFICATION, tc, 3}, {0, BNN_TASK_CLASSIFICATION, tc, 3}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        bnn_model_spec sp;
        bnn_model_spec_study(&sp, kinds[k].nn, kinds[k].task, 3, kinds[k].K);
        bnn_model *m = NULL;
        bnn_error err = {0};
        CHECK(bnn_model_new(&m, &sp, kinds[k].t, &err) == BNN_OK, "model %zu: %s", k, err.msg);
        size_t dim = bnn_model_dim(m);
        double *th = malloc(3 * dim * sizeof *th), *c = th + dim, *back = th + 2 * dim;
        for (size_t j = 0; j < dim; j++)
            th[j] = gsl_ran_gaussian(r, 2.0);
        bnn_model_constrain(m, th, c);
        CHECK(bnn_model_unconstrain(m, c, back, &err) == BNN_OK, "model %zu: %s", k, err.msg);
        double worst = 0;
        for (size_t j = 0; j < dim; j++)
            worst = fmax(worst, fabs(back[j] - th[j]));
        CHECK(worst < 1e-12, "model %zu: unconstrain(constrain(theta)) is off by %g", k, worst);
        CHECK(bnn_model_unconstrain(m, c, c, &err) == BNN_OK && memcmp(c, back, dim * sizeof *c) == 0,
              "model %zu: in place differs", k);
        if (kinds[k].task == BNN_TASK_REGRESSION) {
            bnn_model_constrain(m, th, c);
            CHECK(c[dim - 1] == exp(th[dim - 1]), "model %zu: tau2 is not exp(eta)", k);
            double bad[3] = {0.0, -1.0, INFINITY};
            for (int b = 0; b < 3; b++) {
                c[dim - 1] = bad[b];
                bnn_status st = bnn_model_unconstrain(m, c, back, &err);
                size_t nan_at = dim;
                for (size_t j = 0; j < dim; j++)
                    nan_at = isnan(back[j]) ? (nan_at == dim ? j : dim + 1) : nan_at;
                CHECK(st == BNN_EINVAL && strstr(err.msg, "tau2 must be positive") && nan_at == dim - 1,
                      "model %zu: tau2 = %g gives %d '%s', NaN at %zu", k, bad[b], (int)st, err.msg, nan_at);
            }
        }
        free(th);
        bnn_model_free(m);
    }
    for (int a = BNN_ACT_IDENTITY; a <= BNN_ACT_SOFTMAX; a++)
        CHECK(bnn_activation_from_name(bnn_activation_name((bnn_activation)a)) == a,
              "activation %d does not round-trip its name '%s'", a, bnn_activation_name((bnn_activation)a));
    CHECK(strcmp(bnn_activation_name(BNN_ACT_TANH), "tanh") == 0 && bnn_activation_from_name("softplus") == -1 &&
          strcmp(bnn_activation_name((bnn_activation)99), "?") == 0, "activation names");
    bnn_table_free(t);
    bnn_table_free(tc);
}

/* Per-layer and flat priors (bnn_model_spec.prior_var_layer, INFINITY): the gradient against
 * finite differences, the tempered density's absence, and the log density against the same
 * model under N(0, 1) on every weight plus the prior difference computed here by hand (each
 * finite layer's -count/2 log(2 pi v) - |theta_l|^2 / (2 v); a flat layer contributes
 * nothing). nu1 = -1/2 (the flat prior on sigma) in the regressions. */
static void test_prior_layers(gsl_rng *r)
{
    struct {
        bnn_task task;
        int K, n_hidden, h[2];
        bnn_activation out;
        double var[3];
    } cases[] = {
        {BNN_TASK_REGRESSION, 0, 0, {0, 0}, BNN_ACT_IDENTITY, {INFINITY}},
        {BNN_TASK_REGRESSION, 0, 1, {6, 0}, BNN_ACT_IDENTITY, {3.0, INFINITY}},
        {BNN_TASK_REGRESSION, 0, 1, {6, 0}, BNN_ACT_SIGMOID, {3.0, 0.5}},
        {BNN_TASK_REGRESSION, 0, 2, {5, 4}, BNN_ACT_IDENTITY, {4.0, 0.5, INFINITY}},
        {BNN_TASK_CLASSIFICATION, 3, 0, {0, 0}, BNN_ACT_SOFTMAX, {INFINITY}},
        {BNN_TASK_CLASSIFICATION, 2, 1, {6, 0}, BNN_ACT_SOFTMAX, {2.0, INFINITY}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        bnn_table *t = random_table(r, 40, 3, cases[c].K);
        bnn_model_spec sp = {0};
        sp.task = cases[c].task;
        sp.n_inputs = 3;
        sp.n_classes = cases[c].K;
        sp.n_hidden = cases[c].n_hidden;
        memcpy(sp.hidden, cases[c].h, sizeof cases[c].h);
        sp.hidden_act = BNN_ACT_TANH;
        sp.output_act = cases[c].out;
        sp.prior_var = 1.0;
        sp.nu1 = sp.task == BNN_TASK_REGRESSION ? -0.5 : 0.0;
        bnn_model *ref = NULL, *m = NULL;
        bnn_error err = {0};
        CHECK(bnn_model_new(&ref, &sp, t, &err) == BNN_OK, "reference model: %s", err.msg);
        for (int l = 0; l <= sp.n_hidden; l++)
            sp.prior_var_layer[l] = cases[c].var[l];
        CHECK(bnn_model_new(&m, &sp, t, &err) == BNN_OK, "per-layer model %zu: %s", c, err.msg);
        if (!m || !ref) {
            bnn_model_free(m);
            bnn_model_free(ref);
            bnn_table_free(t);
            continue;
        }
        bnn_density d = bnn_model_density(m), dr = bnn_model_density(ref);
        double *work = bnn_zalloc(d.work_len), *theta = bnn_zalloc(d.dim);
        double worst_g = 0.0, worst_lp = 0.0;
        int flat = isinf(cases[c].var[sp.n_hidden]);
        for (int rep = 0; rep < 3; rep++) {
            for (size_t j = 0; j < d.dim; j++)
                theta[j] = gsl_ran_gaussian(r, 0.8);
            worst_g = fmax(worst_g, grad_error(&d, theta, work));
            /* the prior difference by hand, layer by layer in the parameter order */
            double diff = 0.0;
            size_t j = 0;
            int width[BNN_MAX_HIDDEN + 2] = {3};
            for (int l = 0; l < sp.n_hidden; l++)
                width[l + 1] = sp.hidden[l];
            width[sp.n_hidden + 1] = sp.task == BNN_TASK_REGRESSION ? 1 : sp.n_classes;
            for (int l = 0; l <= sp.n_hidden; l++) {
                size_t count = (size_t)width[l] * (size_t)width[l + 1] + (size_t)width[l + 1];
                double v = cases[c].var[l], ss = 0.0;
                for (size_t k = 0; k < count; k++, j++)
                    ss += theta[j] * theta[j];
                diff += 0.5 * (double)count * LOG_2PI + 0.5 * ss;   /* remove N(0, 1) */
                if (isfinite(v))
                    diff += -0.5 * (double)count * (LOG_2PI + log(v)) - 0.5 * ss / v;
            }
            double lp = eval(&d, work, theta, NULL), lr = eval(&dr, work, theta, NULL);
            worst_lp = fmax(worst_lp, fabs(lp - (lr + diff)) / (1.0 + fabs(lp)));
        }
        CHECK_VERBOSE(worst_g < 1e-6 && worst_lp < 1e-12,
                      "per-layer prior case %zu (hidden=%d, out=%s, last layer %s): gradient max "
                      "rel err %.2e, log density vs hand prior %.2e", c, sp.n_hidden,
                      act_name(sp.output_act), flat ? "flat" : "Gaussian", worst_g, worst_lp);
        CHECK_VERBOSE((d.logp_tempered == NULL) == flat, "per-layer prior case %zu: tempered "
                      "density %s", c, d.logp_tempered ? "offered" : "withheld");
        free(work);
        free(theta);
        bnn_model_free(m);
        bnn_model_free(ref);
        bnn_table_free(t);
    }
}

/* The improper combinations are refused (BNN_EINVAL, a message), their proper neighbours
 * accepted: each bound is probed on both sides. */
static void test_propriety(gsl_rng *r)
{
    bnn_table *t = random_table(r, 10, 3, 0);   /* n = 10, p = 4 coefficients */
    bnn_model_spec sp;
    struct {
        int nn;
        bnn_activation out;
        double var0, var1, nu1, nu2;
        int ok;
        const char *what;
    } cases[] = {
        {0, BNN_ACT_IDENTITY, INFINITY, 0, -2.9, 0, 1, "linear flat, nu1 -2.9 > -(10-4)/2"},
        {0, BNN_ACT_IDENTITY, INFINITY, 0, -3.0, 0, 0, "linear flat, nu1 -3 = -(n-p)/2"},
        {0, BNN_ACT_IDENTITY, 5.0, 0, -4.9, 0, 1, "linear Gaussian, nu1 -4.9 > -n/2"},
        {0, BNN_ACT_IDENTITY, 5.0, 0, -5.0, 0, 0, "linear Gaussian, nu1 -5 = -n/2"},
        {0, BNN_ACT_IDENTITY, 5.0, 0, 0, -1, 0, "nu2 < 0"},
        {1, BNN_ACT_SIGMOID, INFINITY, 1.0, 0, 0, 0, "flat hidden layer"},
        {1, BNN_ACT_SIGMOID, 25.0, INFINITY, 0, 0, 0, "flat output layer, sigmoid output"},
        {1, BNN_ACT_IDENTITY, 25.0, INFINITY, 0, 0, 0, "flat output layer, 10 hidden, n = 10"},
        {1, BNN_ACT_IDENTITY, 25.0, 1.0, 0, 0, 1, "finite layers, identity output"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        bnn_model_spec_study(&sp, cases[c].nn, BNN_TASK_REGRESSION, 3, 0);
        sp.output_act = cases[c].out;
        sp.prior_var_layer[0] = cases[c].var0;
        sp.prior_var_layer[1] = cases[c].var1;
        sp.nu1 = cases[c].nu1;
        sp.nu2 = cases[c].nu2;
        bnn_model *m = NULL;
        bnn_error err = {0};
        bnn_status st = bnn_model_new(&m, &sp, t, &err);
        CHECK_VERBOSE(cases[c].ok ? st == BNN_OK : st == BNN_EINVAL && err.msg[0] && !m,
                      "propriety: %s %s (%s)", cases[c].what, st ? "refused" : "accepted",
                      st ? err.msg : "-");
        bnn_model_free(m);
    }
    /* n <= p with a flat prior: 4 rows, 3 inputs + intercept */
    bnn_table *small = random_table(r, 4, 3, 0);
    bnn_model_spec_study(&sp, 0, BNN_TASK_REGRESSION, 3, 0);
    sp.prior_var = INFINITY;
    sp.nu1 = 5.0;
    bnn_model *m = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_model_new(&m, &sp, small, &err);
    CHECK_VERBOSE(st == BNN_EINVAL && strstr(err.msg, "more than 4 training rows"),
                  "propriety: flat linear prior on 4 rows and 4 coefficients refused (%s)", err.msg);
    bnn_model_free(m);
    /* collinear inputs: Z'Z singular */
    for (size_t i = 0; i < t->n; i++)
        t->x[i * 3 + 2] = 2.0 * t->x[i * 3];
    sp.nu1 = 0.0;
    st = bnn_model_new(&m, &sp, t, &err);
    CHECK_VERBOSE(st == BNN_EINVAL && strstr(err.msg, "singular"),
                  "propriety: flat linear prior on collinear inputs refused (%s)", err.msg);
    bnn_model_free(m);
    bnn_table_free(small);
    bnn_table_free(t);
}

/* The study's classification output (output_act SIGMOID): probabilities softmax(sigmoid(z)).
 * A one-hidden-layer network written out here: its forward pass for one row into h (H) and
 * o (K). */
static void hand_forward(const double *th, const double *x, int P, int H, int K, double *h,
                         double *o)
{
    const double *W1 = th, *b1 = W1 + P * H, *W2 = b1 + H, *b2 = W2 + H * K;
    for (int j = 0; j < H; j++) {
        double z = b1[j];
        for (int i = 0; i < P; i++)
            z += x[i] * W1[i * H + j];
        h[j] = 1.0 / (1.0 + exp(-z));
    }
    for (int k = 0; k < K; k++) {
        double z = b2[k];
        for (int j = 0; j < H; j++)
            z += h[j] * W2[j * K + k];
        o[k] = 1.0 / (1.0 + exp(-z));
    }
}

/* Gradients against finite differences (1 and 2 hidden layers, K = 2 and 3, tempered too);
 * the log density against sum_i log softmax(sigmoid(z_i))_{y_i} + the prior written out by
 * hand; predict and predict_batch against the same hand probabilities; the fused kernel
 * not taken. */
static void test_sigmoid_classification(gsl_rng *r)
{
    const int P = 3, H = 5;
    for (int K = 2; K <= 3; K++)
        for (int nh = 1; nh <= 2; nh++) {
            bnn_table *t = random_table(r, 14, (size_t)P, K);
            bnn_model_spec sp;
            bnn_model_spec_study(&sp, 1, BNN_TASK_CLASSIFICATION, P, K);
            sp.n_hidden = nh;
            sp.hidden[0] = H;
            sp.hidden[1] = 4;
            sp.output_act = BNN_ACT_SIGMOID;
            sp.prior_var = 2.0;
            bnn_model *m = NULL;
            bnn_error err = {0};
            CHECK(bnn_model_new(&m, &sp, t, &err) == BNN_OK, "sigmoid classification: %s", err.msg);
            if (!m) {
                bnn_table_free(t);
                continue;
            }
            bnn_density d = bnn_model_density(m);
            double *work = bnn_zalloc(d.work_len), *th = bnn_zalloc(d.dim);
            double worst = 0.0, worst_t = 0.0, worst_lp = 0.0, worst_p = 0.0;
            size_t n = t->n;
            double *prob = bnn_zalloc(n * (size_t)K), *pw = bnn_zalloc(bnn_model_predict_work(m, n));
            double *pb = bnn_zalloc(n * 2 * (size_t)K);
            double *bw = bnn_zalloc(bnn_model_predict_batch_work(m, n, 2));
            double *th2 = bnn_zalloc(2 * d.dim);
            for (int rep = 0; rep < 3; rep++) {
                for (size_t j = 0; j < d.dim; j++)
                    th[j] = gsl_ran_gaussian(r, 1.5);
                worst = fmax(worst, grad_error(&d, th, work));
                worst_t = fmax(worst_t, tempered_error(&d, &sp, th, work));
                bnn_model_predict(m, th, t, prob, pw, NULL);
                memcpy(th2, th, d.dim * sizeof *th);
                memcpy(th2 + d.dim, th, d.dim * sizeof *th);
                bnn_model_predict_batch(m, th2, d.dim, 2, t, pb, bw);
                double ll = 0.0, ss = 0.0;
                for (size_t i = 0; i < n; i++) {
                    double h[8], o[3], s = 0.0, pr[3];
                    if (nh == 1) {   /* probabilities by hand */
                        hand_forward(th, t->x + i * (size_t)P, P, H, K, h, o);
                        for (int k = 0; k < K; k++)
                            s += exp(o[k]);
                        for (int k = 0; k < K; k++)
                            pr[k] = exp(o[k]) / s;
                    } else {
                        memcpy(pr, prob + i * (size_t)K, (size_t)K * sizeof *pr);
                    }
                    for (int k = 0; k < K; k++) {
                        worst_p = fmax(worst_p, fabs(prob[i * (size_t)K + k] - pr[k]));
                        worst_p = fmax(worst_p, fabs(pb[i * 2 * (size_t)K + (size_t)K + k] - pr[k]));
                    }
                    ll += log(pr[(int)t->y[i]]);
                }
                for (size_t j = 0; j < d.n_weights; j++)
                    ss += th[j] * th[j];
                double want = ll - 0.5 * (double)d.n_weights * (LOG_2PI + log(2.0)) - ss / 4.0;
                double lp = eval(&d, work, th, NULL);
                worst_lp = fmax(worst_lp, fabs(lp - want) / (1.0 + fabs(want)));
            }
            CHECK_VERBOSE(worst < 1e-6 && worst_t < 1e-6 && worst_lp < 1e-12 && worst_p < 1e-14 &&
                          !bnn_model_has_fused(m),
                          "softmax(sigmoid) classification K=%d hidden=%d: gradient %.2e, "
                          "tempered %.2e, logp vs hand %.2e, probabilities %.2e%s", K, nh, worst,
                          worst_t, worst_lp, worst_p, nh == 1 ? " (by hand)" : " (batch = single)");
            free(work);
            free(th);
            free(prob);
            free(pw);
            free(pb);
            free(bw);
            free(th2);
            bnn_model_free(m);
            bnn_table_free(t);
        }
}

/* The study's Langevin map for its classification (backward_pass): per row in order,
 * d2 = (onehot - o) o (1 - o), d1 = (W2 d2) h (1 - h) with W2 before the row's update, then
 * W2 += lr h d2', b2 += lr d2, W1 += lr x d1', b1 += lr d1: written out here. */
static void test_sigmoid_drift(gsl_rng *r)
{
    const int P = 2, H = 4, K = 3;
    bnn_table *t = random_table(r, 7, (size_t)P, K);
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 1, BNN_TASK_CLASSIFICATION, P, K);
    sp.hidden[0] = H;
    sp.output_act = BNN_ACT_SIGMOID;
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, t, NULL);
    bnn_density d = bnn_model_density(m);
    double *work = bnn_zalloc(d.work_len), *th = bnn_zalloc(d.dim);
    double *want = bnn_zalloc(d.dim), *got = bnn_zalloc(d.dim);
    for (size_t j = 0; j < d.dim; j++)
        th[j] = gsl_ran_gaussian(r, 1.0);
    const double lr = 0.1;
    memcpy(want, th, d.dim * sizeof *want);
    double *W1 = want, *b1 = W1 + P * H, *W2 = b1 + H, *b2 = W2 + H * K;
    for (size_t i = 0; i < t->n; i++) {
        const double *x = t->x + i * (size_t)P;
        double h[4], o[3], d2[3], d1[4];
        hand_forward(want, x, P, H, K, h, o);
        for (int k = 0; k < K; k++)
            d2[k] = ((k == (int)t->y[i]) - o[k]) * o[k] * (1.0 - o[k]);
        for (int j = 0; j < H; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++)
                s += W2[j * K + k] * d2[k];
            d1[j] = s * h[j] * (1.0 - h[j]);
        }
        for (int j = 0; j < H; j++)
            for (int k = 0; k < K; k++)
                W2[j * K + k] += lr * h[j] * d2[k];
        for (int k = 0; k < K; k++)
            b2[k] += lr * d2[k];
        for (int a = 0; a < P; a++)
            for (int j = 0; j < H; j++)
                W1[a * H + j] += lr * x[a] * d1[j];
        for (int j = 0; j < H; j++)
            b1[j] += lr * d1[j];
    }
    d.drift(d.ctx, work, lr, th, got);
    double worst = 0.0, moved = 0.0;
    for (size_t j = 0; j < d.dim; j++) {
        worst = fmax(worst, fabs(got[j] - want[j]));
        moved = fmax(moved, fabs(got[j] - th[j]));
    }
    CHECK_VERBOSE(worst < 1e-14 && moved > 1e-3, "study's classification Langevin map "
                  "(squared error of sigmoid outputs on one-hot targets) = the per-row updates "
                  "written out: max diff %.2e (it moves the weights by up to %.3f)", worst, moved);
    free(work);
    free(th);
    free(want);
    free(got);
    bnn_model_free(m);
    bnn_table_free(t);
}

/* A table of more rows than one pass takes (predict.c's ROW_CHUNK = 4096: 9000 rows cross
 * two chunk boundaries): every row's stored prediction, each draw's RMSE or accuracy and
 * each pointwise log-likelihood against one-draw predictions of the whole table. A row
 * taken from the wrong chunk, or a chunk's sum lost, is off by O(1). */
static void test_predict_chunks(gsl_rng *r)
{
    for (int K = 0; K <= 3; K += 3) {
        bnn_table *t = random_table(r, 9000, 3, K);
        bnn_model_spec sp;
        bnn_model_spec_study(&sp, 1, K ? BNN_TASK_CLASSIFICATION : BNN_TASK_REGRESSION, 3, K);
        bnn_model *m = NULL;
        bnn_model_new(&m, &sp, t, NULL);
        size_t dim = bnn_model_dim(m), n = t->n, out = (size_t)bnn_model_n_outputs(m);
        bnn_draws dr = {0};
        dr.chains = 2;
        dr.n_kept = 20;
        dr.dim = dim;
        size_t S = 40;
        dr.theta = bnn_zalloc(S * dim);
        for (size_t j = 0; j < S * dim; j++)
            dr.theta[j] = 0.5 * gsl_ran_gaussian(r, 1.0);
        bnn_prediction *p = NULL;
        bnn_error err = {0};
        double *ll = bnn_zalloc(n * S), *one = bnn_zalloc(n * out);
        double *pw = bnn_zalloc(bnn_model_predict_work(m, n));
        CHECK(bnn_predict(m, &dr, t, 1, 1, 2, &p, &err) == BNN_OK, "predict: %s", err.msg);
        CHECK(bnn_model_loglik(m, dr.theta, S, t, 2, ll, &err) == BNN_OK, "loglik: %s", err.msg);
        double worst = 0, worst_metric = 0, worst_ll = 0;
        for (size_t s = 0; p && s < S; s++) {
            const double *th = dr.theta + s * dim;
            bnn_model_predict(m, th, t, one, pw, NULL);
            double acc = 0;
            for (size_t i = 0; i < n; i++) {
                if (!K) {
                    double f = one[i], rr = t->y[i] - f, eta = th[dim - 1];
                    worst = fmax(worst, fabs(p->draw_pred[i * S + s] - f) / fmax(1, fabs(f)));
                    acc += rr * rr;
                    double want = -0.5 * (LOG_2PI + eta) - 0.5 * rr * rr * exp(-eta);
                    worst_ll = fmax(worst_ll, fabs(ll[i * S + s] - want) / fmax(1, fabs(want)));
                } else {
                    size_t best = 0;
                    for (size_t k = 0; k < out; k++) {
                        double pk = one[i * out + k];
                        worst = fmax(worst, fabs(p->draw_pred[(i * out + k) * S + s] - pk));
                        best = pk > one[i * out + best] ? k : best;
                    }
                    acc += (double)(best == (size_t)t->y[i]);
                    double want = log(one[i * out + (size_t)t->y[i]]);
                    worst_ll = fmax(worst_ll, fabs(ll[i * S + s] - want) / fmax(1, fabs(want)));
                }
            }
            double metric = K ? 100 * acc / (double)n : sqrt(acc / (double)n);
            worst_metric = fmax(worst_metric, fabs(p->draw_metric[s] - metric) / metric);
        }
        /* the stored predictions are floats: 2^-24 relative */
        CHECK_VERBOSE(p && worst < 1.2e-7 && worst_metric < 1e-12 && worst_ll < 1e-12,
                      "%zu rows in chunks (%s): stored predictions %.1e, per-draw metric %.1e, "
                      "log-likelihood %.1e from one-draw predictions", n,
                      K ? "classification" : "regression", worst, worst_metric, worst_ll);
        bnn_prediction_free(p);
        free(dr.theta);
        free(ll);
        free(one);
        free(pw);
        bnn_model_free(m);
        bnn_table_free(t);
    }
}

/* The log prior as a density of its own, for grad_error. */
static double prior_only(const void *ctx, double *work, const double *th, double *g)
{
    (void)work;
    return bnn_model_log_prior(ctx, th, g);
}

/* bnn_model_log_prior: its gradient against finite differences, its value that of the
 * tempered density at beta 0 (whose prior tempered_error checks by hand), and the split
 * that spreads rows over processes (cli/ranks.c): the log density of the whole table is the
 * prior plus the sum over row slices of (slice's log density - prior), value and gradient,
 * for slices of 1, 5 and 7 of 13 rows (the fused, BLAS and sufficient-statistics paths). */
static void test_log_prior_split(gsl_rng *r)
{
    struct {
        int n_hidden;
        bnn_task task;
        int K;
        bnn_activation out;
        double nu1, nu2;
    } cases[] = {{1, BNN_TASK_REGRESSION, 0, BNN_ACT_SIGMOID, 0, 0},
                 {1, BNN_TASK_REGRESSION, 0, BNN_ACT_IDENTITY, 2.5, 0.3},
                 {0, BNN_TASK_REGRESSION, 0, BNN_ACT_IDENTITY, 1.5, 0.7},
                 {2, BNN_TASK_REGRESSION, 0, BNN_ACT_SIGMOID, 0, 0},
                 {1, BNN_TASK_CLASSIFICATION, 3, BNN_ACT_SOFTMAX, 0, 0},
                 {1, BNN_TASK_CLASSIFICATION, 2, BNN_ACT_SIGMOID, 0, 0},
                 {0, BNN_TASK_CLASSIFICATION, 3, BNN_ACT_SOFTMAX, 0, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        bnn_table *t = random_table(r, 13, 3, cases[k].K);
        bnn_model_spec sp = {0};
        sp.task = cases[k].task;
        sp.n_inputs = 3;
        sp.n_classes = cases[k].K;
        sp.n_hidden = cases[k].n_hidden;
        sp.hidden[0] = 6;
        sp.hidden[1] = 4;
        sp.hidden_act = BNN_ACT_TANH;
        sp.output_act = cases[k].out;
        sp.prior_var = 2.0;
        sp.prior_var_layer[0] = 3.0;
        sp.nu1 = cases[k].nu1;
        sp.nu2 = cases[k].nu2;
        bnn_model *m = NULL, *part[3] = {NULL, NULL, NULL};
        CHECK(bnn_model_new(&m, &sp, t, NULL) == BNN_OK, "model %zu", k);
        /* three slices viewing the table's rows (0, 1..5, 6..12) */
        size_t lo[3] = {0, 1, 6}, hi[3] = {1, 6, 13};
        bnn_table view[3];
        for (int s = 0; s < 3; s++) {
            view[s] = *t;
            view[s].n = hi[s] - lo[s];
            view[s].x = t->x + lo[s] * t->p;
            view[s].y = t->y + lo[s];
            view[s].line = t->line + lo[s];
            CHECK(bnn_model_new(&part[s], &sp, &view[s], NULL) == BNN_OK, "slice %d", s);
        }
        bnn_density d = bnn_model_density(m);
        size_t wl = d.work_len;
        for (int s = 0; s < 3; s++) {
            bnn_density ds = bnn_model_density(part[s]);
            wl = ds.work_len > wl ? ds.work_len : wl;
        }
        double *work = bnn_zalloc(wl), *theta = bnn_zalloc(d.dim), *g = bnn_zalloc(d.dim);
        double *gs = bnn_zalloc(d.dim), *gp = bnn_zalloc(d.dim), *sum = bnn_zalloc(d.dim);
        bnn_density pd = d;
        pd.logp = prior_only;
        pd.ctx = m;
        double worst_g = 0, worst_t = 0, worst_split = 0;
        for (int rep = 0; rep < 3; rep++) {
            for (size_t j = 0; j < d.dim; j++)
                theta[j] = gsl_ran_gaussian(r, 0.8);
            double e = grad_error(&pd, theta, work);
            worst_g = e > worst_g ? e : worst_g;
            double prior = bnn_model_log_prior(m, theta, gp), ll;
            if (d.logp_tempered) {
                double f0 = d.logp_tempered(d.ctx, work, 0.0, theta, NULL, &ll);
                e = fabs(f0 - prior) / (1 + fabs(prior));
                worst_t = e > worst_t ? e : worst_t;
            }
            double lp = d.logp(d.ctx, work, theta, g), total = prior;
            memcpy(sum, gp, d.dim * sizeof *sum);
            for (int s = 0; s < 3; s++) {
                bnn_density ds = bnn_model_density(part[s]);
                total += ds.logp(ds.ctx, work, theta, gs) - prior;
                for (size_t j = 0; j < d.dim; j++)
                    sum[j] += gs[j] - gp[j];
            }
            double gmax = 1;
            for (size_t j = 0; j < d.dim; j++)
                gmax = fmax(gmax, fabs(g[j]));
            e = fabs(total - lp) / (1 + fabs(lp));
            for (size_t j = 0; j < d.dim; j++)
                e = fmax(e, fabs(sum[j] - g[j]) / gmax);
            worst_split = e > worst_split ? e : worst_split;
        }
        CHECK_VERBOSE(worst_g < 1e-6 && worst_t < 1e-12 && worst_split < 1e-12,
                      "log prior hidden=%d K=%d out=%-8s nu=(%g,%g): gradient max rel err %.1e, "
                      "against the tempered density at beta 0 %.1e; prior + sum of 3 row "
                      "slices' parts against the whole table %.1e", cases[k].n_hidden,
                      cases[k].K, act_name(cases[k].out), cases[k].nu1, cases[k].nu2, worst_g,
                      worst_t, worst_split);
        free(work);
        free(theta);
        free(g);
        free(gs);
        free(gp);
        free(sum);
        for (int s = 0; s < 3; s++)
            bnn_model_free(part[s]);
        bnn_model_free(m);
        bnn_table_free(t);
    }
}

/* By hand, for the one-hidden-layer network at th (W1 P x H input-major, b1, v, b2) on t's
 * rows, unit by unit: the means of the activations hb, of their derivatives s and of the
 * derivatives times each input S (P x H); returns the model's b2 for th's level,
 * c - sum_k v_k hb_k. */
static double hand_means(const bnn_table *t, const double *th, size_t P, int H,
                         bnn_activation act, double *hb, double *s, double *S)
{
    size_t n = t->n;
    double b = th[P * (size_t)H + 2 * (size_t)H];
    for (int k = 0; k < H; k++) {
        hb[k] = s[k] = 0.0;
        for (size_t j = 0; j < P; j++)
            S[j * (size_t)H + (size_t)k] = 0.0;
        for (size_t i = 0; i < n; i++) {
            double z = th[P * (size_t)H + (size_t)k];
            for (size_t j = 0; j < P; j++)
                z += t->x[i * P + j] * th[j * (size_t)H + (size_t)k];
            double h = act == BNN_ACT_SIGMOID ? 1.0 / (1.0 + exp(-z))
                     : act == BNN_ACT_TANH    ? tanh(z) : fmax(z, 0.0);
            double hp = act == BNN_ACT_SIGMOID ? h * (1 - h)
                      : act == BNN_ACT_TANH    ? 1 - h * h : (z > 0 ? 1.0 : 0.0);
            hb[k] += h / (double)n;
            s[k] += hp / (double)n;
            for (size_t j = 0; j < P; j++)
                S[j * (size_t)H + (size_t)k] += hp * t->x[i * P + j] / (double)n;
        }
        b -= th[P * (size_t)H + (size_t)H + (size_t)k] * hb[k];
    }
    return b;
}

/* spec.center (center.c): the centred density's gradient and tempered density against finite
 * differences; its value is the model's at to_model's point; from_model inverts to_model; the
 * noise's sse is the model's at the mapped point; b2 is the only coordinate that moves, and
 * by sum_k v_k hbar_k computed here by hand. Other models ignore the flag. */
static void test_center(gsl_rng *r)
{
    bnn_activation acts[] = {BNN_ACT_SIGMOID, BNN_ACT_TANH, BNN_ACT_RELU};
    bnn_activation outs[] = {BNN_ACT_SIGMOID, BNN_ACT_IDENTITY};
    for (size_t a = 0; a < 3; a++)
        for (size_t o = 0; o < 2; o++) {
            size_t n = 23, P = 3;
            int H = 6;
            bnn_table *t = random_table(r, n, P, 0);
            bnn_model_spec sp = {0};
            sp.task = BNN_TASK_REGRESSION;
            sp.n_inputs = (int)P;
            sp.n_hidden = 1;
            sp.hidden[0] = H;
            sp.hidden_act = acts[a];
            sp.output_act = outs[o];
            sp.prior_var = 2.0;
            sp.nu1 = o ? 2.5 : 0.0;
            sp.nu2 = o ? 0.3 : 0.0;
            bnn_model *m0 = NULL, *m1 = NULL;
            bnn_error err = {0};
            CHECK(bnn_model_new(&m0, &sp, t, &err) == BNN_OK, "model: %s", err.msg);
            sp.center = 1;
            CHECK(bnn_model_new(&m1, &sp, t, &err) == BNN_OK, "centred model: %s", err.msg);
            if (!m0 || !m1) {
                bnn_model_free(m0);
                bnn_model_free(m1);
                bnn_table_free(t);
                continue;
            }
            bnn_density d0 = bnn_model_density(m0), d1 = bnn_model_density(m1);
            CHECK(d1.to_model && d1.from_model && !d0.to_model && !d0.from_model &&
                  d1.dim == d0.dim && d1.noise && d1.noise->sse != d0.noise->sse,
                  "center: the density maps its coordinates");
            double *work = bnn_zalloc(d1.work_len), *th = bnn_zalloc(d1.dim),
                   *mod = bnn_zalloc(d1.dim), *back = bnn_zalloc(d1.dim);
            double worst = 0.0, worst_t = 0.0, worst_v = 0.0, worst_b = 0.0, worst_s = 0.0;
            size_t b2 = P * (size_t)H + 2 * (size_t)H;
            int others = 1;
            for (int rep = 0; rep < 3; rep++) {
                for (size_t j = 0; j < d1.dim; j++)
                    th[j] = gsl_ran_gaussian(r, 0.8);
                double e = grad_error(&d1, th, work);
                worst = e > worst ? e : worst;
                e = tempered_grad_error(&d1, 0.37, th, work);
                worst_t = e > worst_t ? e : worst_t;
                d1.to_model(d1.ctx, work, th, mod);
                double ll0, ll1;
                double f0 = d0.logp_tempered(d0.ctx, work, 0.37, mod, NULL, &ll0);
                double f1 = d1.logp_tempered(d1.ctx, work, 0.37, th, NULL, &ll1);
                e = fmax(fabs(f1 - f0) / (1.0 + fabs(f0)), fabs(ll1 - ll0) / (1.0 + fabs(ll0)));
                worst_t = e > worst_t ? e : worst_t;
                /* by hand: b2 = c - sum_k v_k mean_i act(b1_k + x_i W1[.][k]) */
                double hb[H], s[H], S[P * H];
                double bh = hand_means(t, th, P, H, acts[a], hb, s, S);
                e = fabs(mod[b2] - bh) / (1.0 + fabs(th[b2]));
                worst_b = e > worst_b ? e : worst_b;
                for (size_t j = 0; j < d1.dim; j++)
                    others &= j == b2 || mod[j] == th[j];
                double l0 = d0.logp(d0.ctx, work, mod, NULL), l1 = d1.logp(d1.ctx, work, th, NULL);
                e = fabs(l1 - l0) / (1.0 + fabs(l0));
                worst_v = e > worst_v ? e : worst_v;
                d1.from_model(d1.ctx, work, mod, back);
                for (size_t j = 0; j < d1.dim; j++) {
                    e = fabs(back[j] - th[j]) / (1.0 + fabs(th[j]));
                    worst_b = e > worst_b ? e : worst_b;
                }
                double s0 = d0.noise->sse(d0.ctx, work, mod), s1 = d1.noise->sse(d1.ctx, work, th);
                e = fabs(s1 - s0) / (1.0 + s0);
                worst_s = e > worst_s ? e : worst_s;
            }
            /* where tau^2 overflows the fused path declines: the general one answers, finite */
            {
                double *g = bnn_zalloc(d1.dim), *g0 = bnn_zalloc(d1.dim);
                th[d1.dim - 1] = 720.0;
                double l1 = d1.logp(d1.ctx, work, th, g);
                d1.to_model(d1.ctx, work, th, mod);
                double l0 = d0.logp(d0.ctx, work, mod, g0);
                int fin = 1;
                for (size_t j = 0; j < d1.dim; j++)
                    fin &= isfinite(g[j]);
                double *cs = bnn_zalloc(1 + 2 * H + P * H);
                int declined = isnan(bnn_model_center_fused(m1, work, th, g0, cs, mod));
                free(cs);
                CHECK_VERBOSE(fin && l1 == l0 && declined, "center act=%-8s out=%-8s: at eta = "
                              "720 the fused path declines, the value is the model's (%g) and "
                              "the gradient finite", act_name(acts[a]), act_name(outs[o]), l1);
                free(g);
                free(g0);
            }
            /* the fused kernel's statistics (every instance: 4 and 8 lanes in double, 8 and
             * 16 in single precision) against the hand's */
            bnn_model *m1f = NULL;
            sp.float32 = 1;
            CHECK(bnn_model_new(&m1f, &sp, t, &err) == BNN_OK, "single model: %s", err.msg);
            sp.float32 = 0;
            const int inst_lanes[] = {4, 8, 8, 16}, inst_single[] = {0, 0, 1, 1};
            for (int in = 0; in < 4 && m1f; in++) {
                const int lanes = inst_lanes[in], single = inst_single[in];
                bnn_model *mc = single ? m1f : m1;
                if (bnn_model_set_fused_lanes(mc, lanes) != 0 ||
                    bnn_model_set_fused_lanes(m0, single ? 8 : lanes) != 0)
                    continue;
                bnn_density e1 = bnn_model_density(mc);
                double *wk = bnn_zalloc(e1.work_len), *g1 = bnn_zalloc(e1.dim),
                       *g0 = bnn_zalloc(e1.dim), *cs = bnn_zalloc(1 + 2 * H + P * H);
                double we = 0.0;
                for (size_t j = 0; j < e1.dim; j++)
                    th[j] = gsl_ran_gaussian(r, 0.8);
                double l1 = bnn_model_center_fused(mc, wk, th, g1, cs, mod);
                double l0 = bnn_model_logp_blas(m0, wk, mod, g0);
                double hb[H], s[H], S[P * H];
                double b = hand_means(t, th, P, H, acts[a], hb, s, S);
                we = fmax(we, fabs(cs[0] - b) / (1 + fabs(b)));
                for (int k = 0; k < H; k++)
                    we = fmax(we, fabs(cs[1 + k] - hb[k]));
                for (size_t j = 0; j < e1.dim; j++)
                    we = fmax(we, fabs(mod[j] - (j == b2 ? b : th[j])) / (1 + fabs(th[j])));
                /* the centred gradient: the model's at the mapped point through the chain
                 * rule, by hand (gb = d log p / d b2 moves v, b1 and W1) */
                double gb = g0[b2];
                for (int k = 0; k < H; k++) {
                    double vk = th[P * (size_t)H + (size_t)H + (size_t)k];
                    g0[P * (size_t)H + (size_t)H + (size_t)k] -= gb * hb[k];
                    g0[P * (size_t)H + (size_t)k] -= gb * vk * s[k];
                    for (size_t j = 0; j < P; j++)
                        g0[j * (size_t)H + (size_t)k] -= gb * vk * S[j * (size_t)H + (size_t)k];
                }
                double gmax = 1.0;
                for (size_t j = 0; j < e1.dim; j++)
                    gmax = fmax(gmax, fabs(g0[j]));
                for (size_t j = 0; j < e1.dim; j++)
                    we = fmax(we, fabs(g1[j] - g0[j]) / gmax);
                we = fmax(we, fabs(l1 - l0) / (1 + fabs(l0)));
                CHECK_VERBOSE(isfinite(l1) && !isnan(we) && we < (single ? TOL_SINGLE : 1e-12),
                              "center act=%-8s out=%-8s: the %2d-lane %s kernel's b2, "
                              "hbar, mapped point, value and centred gradient against the hand "
                              "and the BLAS path's gradient pulled back by hand (max err %.1e)",
                              act_name(acts[a]), act_name(outs[o]), lanes,
                              single ? "single" : "double", we);
                free(wk);
                free(g1);
                free(g0);
                free(cs);
            }
            CHECK_VERBOSE(worst < 1e-6 && worst_t < 1e-6, "center act=%-8s out=%-8s: gradient "
                          "%.2e; tempered: gradient at beta 0.37 and value = the model's at "
                          "to_model %.2e (max rel err)", act_name(acts[a]),
                          act_name(outs[o]), worst, worst_t);
            CHECK_VERBOSE(worst_v < 1e-12 && worst_s < 1e-12 && worst_b < 1e-12 && others,
                          "center act=%-8s out=%-8s: logp = the model's at to_model (%.1e), sse "
                          "(%.1e), b2 by hand and from_model's round trip (%.1e), other "
                          "coordinates unchanged (%d)", act_name(acts[a]), act_name(outs[o]),
                          worst_v, worst_s, worst_b, others);
            free(work);
            free(th);
            free(mod);
            free(back);
            bnn_model_free(m0);
            bnn_model_free(m1);
            bnn_model_free(m1f);
            bnn_table_free(t);
        }
    /* the flag means nothing to a linear model, a classifier or two hidden layers */
    struct {
        bnn_task task;
        int n_hidden, K;
    } other[] = {{BNN_TASK_REGRESSION, 0, 0}, {BNN_TASK_CLASSIFICATION, 1, 3},
                 {BNN_TASK_REGRESSION, 2, 0}};
    for (size_t k = 0; k < 3; k++) {
        bnn_table *t = random_table(r, 9, 3, other[k].K);
        bnn_model_spec sp = {0};
        sp.task = other[k].task;
        sp.n_inputs = 3;
        sp.n_classes = other[k].K;
        sp.n_hidden = other[k].n_hidden;
        sp.hidden[0] = sp.hidden[1] = 4;
        sp.hidden_act = BNN_ACT_SIGMOID;
        sp.output_act = other[k].task == BNN_TASK_REGRESSION ? BNN_ACT_IDENTITY : BNN_ACT_SOFTMAX;
        sp.prior_var = 2.0;
        sp.center = 1;
        bnn_model *m = NULL;
        bnn_error err = {0};
        CHECK(bnn_model_new(&m, &sp, t, &err) == BNN_OK, "model: %s", err.msg);
        if (m) {
            bnn_density d = bnn_model_density(m);
            CHECK(!d.to_model && !d.from_model, "center ignored by model %zu", k);
        }
        bnn_model_free(m);
        bnn_table_free(t);
    }
}

/* spec.axes (axes.c) on correlated, off-centre inputs: the density's gradient and tempered
 * density against finite differences; its value, sse and tempered value are the model's at
 * to_model's point; from_model inverts to_model; the map has determinant +-1 (it is linear:
 * its columns are exact); and by hand, the axes are the inputs' principal axes: unit k given
 * u = the k-th unit vector and c = 0 sees the rows' k-th principal component, so over the
 * rows those inputs have mean 0, are uncorrelated and have decreasing variances, while
 * rotation keeps each unit's weight norm and c is the unit's input at the inputs' mean.
 * Regression (with and without the centred level), classification and two hidden layers;
 * a linear model ignores the flag. */
static void test_axes(gsl_rng *r)
{
    struct {
        bnn_task task;
        int n_hidden, K, center;
        bnn_activation out;
    } cases[] = {{BNN_TASK_REGRESSION, 1, 0, 0, BNN_ACT_SIGMOID},
                 {BNN_TASK_REGRESSION, 1, 0, 1, BNN_ACT_SIGMOID},
                 {BNN_TASK_REGRESSION, 1, 0, 1, BNN_ACT_IDENTITY},
                 {BNN_TASK_CLASSIFICATION, 1, 3, 0, BNN_ACT_SOFTMAX},
                 {BNN_TASK_REGRESSION, 2, 0, 0, BNN_ACT_IDENTITY}};
    enum { P = 3, H = 4 };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = 31;
        bnn_table *t = random_table(r, n, P, cases[c].K);
        for (size_t i = 0; i < n; i++) {   /* correlated and off-centre */
            double *x = t->x + i * P;
            x[1] = 0.9 * x[0] + 0.2 * x[1] + 2.0;
            x[2] = 0.5 * x[0] - 0.7 * x[1] + 0.1 * x[2] - 1.0;
        }
        bnn_model_spec sp = {0};
        sp.task = cases[c].task;
        sp.n_inputs = P;
        sp.n_classes = cases[c].K;
        sp.n_hidden = cases[c].n_hidden;
        sp.hidden[0] = H;
        sp.hidden[1] = 3;
        sp.hidden_act = BNN_ACT_SIGMOID;
        sp.output_act = cases[c].out;
        sp.prior_var = 2.0;
        sp.nu1 = 1.5;
        sp.nu2 = 0.2;
        bnn_model *m0 = NULL, *m1 = NULL;
        bnn_error err = {0};
        CHECK(bnn_model_new(&m0, &sp, t, &err) == BNN_OK, "model: %s", err.msg);
        sp.center = cases[c].center;
        sp.axes = 1;
        CHECK(bnn_model_new(&m1, &sp, t, &err) == BNN_OK, "model on the axes: %s", err.msg);
        if (!m0 || !m1) {
            bnn_model_free(m0);
            bnn_model_free(m1);
            bnn_table_free(t);
            continue;
        }
        bnn_density d0 = bnn_model_density(m0), d1 = bnn_model_density(m1);
        size_t dim = d1.dim, b1 = P * (size_t)H;
        unsigned want = BNN_COORDS_AXES | (cases[c].center ? BNN_COORDS_CENTER : 0u);
        CHECK(d1.to_model && d1.from_model && d1.coords == want && !d0.to_model &&
              d1.dim == d0.dim && !d1.drift && !d1.logp_batch && !!d1.noise == !!d0.noise &&
              !!d1.logp_tempered == !!d0.logp_tempered,
              "axes, case %zu: the density maps its coordinates (coords %u)", c, d1.coords);
        double *work = bnn_zalloc(d1.work_len), *th = bnn_zalloc(dim), *mod = bnn_zalloc(dim),
               *back = bnn_zalloc(dim), *zero = bnn_zalloc(dim);
        double worst_g = 0, worst_t = 0, worst_v = 0, worst_b = 0, worst_n = 0;
        for (int rep = 0; rep < 3; rep++) {
            for (size_t j = 0; j < dim; j++)
                th[j] = gsl_ran_gaussian(r, 0.7);
            worst_g = fmax(worst_g, grad_error(&d1, th, work));
            if (d1.logp_tempered)
                worst_t = fmax(worst_t, tempered_grad_error(&d1, 0.37, th, work));
            d1.to_model(d1.ctx, work, th, mod);
            double l0 = d0.logp(d0.ctx, work, mod, NULL), l1 = d1.logp(d1.ctx, work, th, NULL);
            worst_v = fmax(worst_v, fabs(l1 - l0) / (1.0 + fabs(l0)));
            if (d1.logp_tempered) {
                double ll0, ll1;
                double f0 = d0.logp_tempered(d0.ctx, work, 0.37, mod, NULL, &ll0);
                double f1 = d1.logp_tempered(d1.ctx, work, 0.37, th, NULL, &ll1);
                worst_v = fmax(worst_v, fmax(fabs(f1 - f0) / (1.0 + fabs(f0)),
                                             fabs(ll1 - ll0) / (1.0 + fabs(ll0))));
            }
            if (d1.noise) {
                double s0 = d0.noise->sse(d0.ctx, work, mod), s1 = d1.noise->sse(d1.ctx, work, th);
                worst_v = fmax(worst_v, fabs(s1 - s0) / (1.0 + s0));
            }
            d1.from_model(d1.ctx, work, mod, back);
            for (size_t j = 0; j < dim; j++)
                worst_b = fmax(worst_b, fabs(back[j] - th[j]) / (1.0 + fabs(th[j])));
            /* rotation keeps each unit's weight norm; c is its input at the inputs' mean
             * (the centred level moves b2 alone: the first layer is the axes' own) */
            for (int k = 0; k < H; k++) {
                double nu = 0, nw = 0, at_mean = mod[b1 + (size_t)k];
                for (size_t j = 0; j < P; j++) {
                    double mean = 0;
                    for (size_t i = 0; i < n; i++)
                        mean += t->x[i * P + j] / (double)n;
                    nu += th[j * H + (size_t)k] * th[j * H + (size_t)k];
                    nw += mod[j * H + (size_t)k] * mod[j * H + (size_t)k];
                    at_mean += mean * mod[j * H + (size_t)k];
                }
                worst_n = fmax(worst_n, fmax(fabs(nu - nw) / (1 + nu),
                                             fabs(at_mean - th[b1 + (size_t)k]) / (1 + fabs(at_mean))));
            }
        }
        /* the map is linear when not centred: its determinant from its exact columns */
        double det = NAN;
        if (!cases[c].center) {
            gsl_matrix *J = gsl_matrix_alloc(dim, dim);
            gsl_permutation *perm = gsl_permutation_alloc(dim);
            double *e = bnn_zalloc(dim), *col = bnn_zalloc(dim), *z = bnn_zalloc(dim);
            d1.to_model(d1.ctx, work, zero, z);
            for (size_t j = 0; j < dim; j++) {
                e[j] = 1.0;
                d1.to_model(d1.ctx, work, e, col);
                e[j] = 0.0;
                for (size_t i = 0; i < dim; i++)
                    gsl_matrix_set(J, i, j, col[i] - z[i]);
            }
            int sign;
            gsl_linalg_LU_decomp(J, perm, &sign);
            det = gsl_linalg_LU_det(J, sign);
            free(e);
            free(col);
            free(z);
            gsl_permutation_free(perm);
            gsl_matrix_free(J);
        }
        /* by hand: unit k on axis k sees the k-th principal component of the rows */
        double pc[H][31] = {{0}}, cov[H][H] = {{0}}, mean[H] = {0};
        memset(th, 0, dim * sizeof *th);
        for (int k = 0; k < P; k++)
            th[(size_t)k * H + (size_t)k] = 1.0;
        d1.to_model(d1.ctx, work, th, mod);
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < P; k++) {
                double a = mod[b1 + (size_t)k];
                for (size_t j = 0; j < P; j++)
                    a += t->x[i * P + j] * mod[j * H + (size_t)k];
                pc[k][i] = a;
                mean[k] += a / (double)n;
            }
        for (int k = 0; k < P; k++)
            for (int l = 0; l < P; l++)
                for (size_t i = 0; i < n; i++)
                    cov[k][l] += pc[k][i] * pc[l][i] / (double)(n - 1);
        double off = 0, mean_err = 0;
        int order = 1;
        for (int k = 0; k < P; k++) {
            mean_err = fmax(mean_err, fabs(mean[k]));
            order &= k == 0 || cov[k][k] <= cov[k - 1][k - 1];
            for (int l = 0; l < P; l++)
                off = l == k ? off : fmax(off, fabs(cov[k][l]) / sqrt(cov[k][k] * cov[l][l]));
        }
        CHECK_VERBOSE(worst_g < 1e-6 && worst_t < 1e-6, "axes, case %zu: gradient %.1e, tempered "
                      "gradient %.1e (max rel err against finite differences)", c, worst_g, worst_t);
        CHECK_VERBOSE(worst_v < 1e-12 && worst_b < 1e-12 && worst_n < 1e-12 &&
                      (cases[c].center || fabs(fabs(det) - 1) < 1e-12),
                      "axes, case %zu: logp, tempered value and sse = the model's at to_model "
                      "(%.1e), from_model's round trip (%.1e), norms and the input at the mean "
                      "(%.1e), |det| %.15f", c, worst_v, worst_b, worst_n, fabs(det));
        /* the wrapper is built again over a new fused kernel: the same density */
        if (cases[c].n_hidden == 1) {
            for (size_t j = 0; j < dim; j++)
                back[j] = gsl_ran_gaussian(r, 0.7);
            double before = d1.logp(d1.ctx, work, back, NULL);
            int rebuilt = bnn_model_set_fused_lanes(m1, 4) == 0;
            bnn_density e1 = bnn_model_density(m1);
            double *wk = bnn_zalloc(e1.work_len);
            double after = rebuilt ? e1.logp(e1.ctx, wk, back, NULL) : NAN;
            CHECK_VERBOSE(rebuilt && e1.coords == want && fabs(after - before) <= 1e-12 * (1 + fabs(before)),
                          "axes, case %zu: rebuilt over the 4-lane kernel, the same value (%.15g, %.15g)",
                          c, before, after);
            free(wk);
        }
        CHECK_VERBOSE(mean_err < 1e-12 && off < 1e-12 && order && cov[P - 1][P - 1] > 0,
                      "axes, case %zu: the units on axes 1..%d see the principal components "
                      "(means %.1e, correlation %.1e, variances %.3g > %.3g > %.3g)", c, P,
                      mean_err, off, cov[0][0], cov[1][1], cov[2][2]);
        free(work);
        free(th);
        free(mod);
        free(back);
        free(zero);
        bnn_model_free(m0);
        bnn_model_free(m1);
        bnn_table_free(t);
    }
    /* the flag means nothing to a linear model */
    bnn_table *t = random_table(r, 9, 3, 0);
    bnn_model_spec sp = {0};
    sp.task = BNN_TASK_REGRESSION;
    sp.n_inputs = 3;
    sp.output_act = BNN_ACT_IDENTITY;
    sp.prior_var = 2.0;
    sp.axes = 1;
    bnn_model *m = NULL;
    bnn_error err = {0};
    CHECK(bnn_model_new(&m, &sp, t, &err) == BNN_OK, "model: %s", err.msg);
    if (m) {
        bnn_density d = bnn_model_density(m);
        CHECK(!d.to_model && !d.from_model && !d.coords, "axes ignored by the linear model");
    }
    bnn_model_free(m);
    bnn_table_free(t);
}

/* Draws in runs (a sampler that rejects repeats its draw): bnn_predict computes a run's
 * predictions once, in batches of distinct draws, so a draw's predictions must not depend
 * on its place in a batch. Every stored prediction equals, bit for bit, the same draw
 * predicted alone (a batch of one), for odd row counts (the activations' last partial
 * vector), on 1 and 3 threads (other batches), whose per-draw metrics and quantiles agree. */
static void test_predict_runs(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    int cases = 0, same = 0;
    for (int K = 0; K <= 3; K += 3)
        for (int H = 3; H <= 10; H += 7) {
            size_t n = K ? 37 : 41, M = 3, N = 50, S = M * N;
            bnn_table *t = random_table(r, n, 3, K);
            bnn_model_spec sp;
            bnn_model_spec_study(&sp, 1, K ? BNN_TASK_CLASSIFICATION : BNN_TASK_REGRESSION, 3, K);
            sp.hidden[0] = H;
            bnn_model *m = NULL;
            bnn_model_new(&m, &sp, t, NULL);
            size_t dim = bnn_model_dim(m), out = (size_t)bnn_model_n_outputs(m);
            bnn_draws dr = {0};
            dr.chains = (int)M;
            dr.n_kept = N;
            dr.dim = dim;
            dr.theta = bnn_zalloc(S * dim);
            for (size_t j = 0; j < S * dim; j++)
                dr.theta[j] = 0.7 * gsl_ran_gaussian(r, 1.0);
            for (size_t s = 1; s < S; s++)   /* runs: 80% of draws repeat the last */
                if (s % N != 0 && gsl_rng_uniform(r) < 0.8)
                    memcpy(dr.theta + s * dim, dr.theta + (s - 1) * dim, dim * sizeof(double));
            bnn_prediction *p1 = NULL, *p3 = NULL;
            bnn_predict(m, &dr, t, 1, 5, 1, &p1, NULL);
            bnn_predict(m, &dr, t, 1, 5, 3, &p3, NULL);
            double *one = bnn_zalloc(n * out), *bw = bnn_zalloc(bnn_model_predict_batch_work(m, n, 1));
            int ok = p1 && p3;
            for (size_t s = 0; ok && s < S; s++) {
                bnn_model_predict_batch(m, dr.theta + s * dim, dim, 1, t, one, bw);
                for (size_t i = 0; i < n; i++)
                    for (size_t k = 0; k < out; k++) {
                        float want = (float)one[i * out + k];
                        ok &= p1->draw_pred[(i * out + k) * S + s] == want &&
                              p3->draw_pred[(i * out + k) * S + s] == want;
                    }
                ok &= p1->draw_metric[s] == p3->draw_metric[s];
            }
            ok &= p1 && p3 && memcmp(p1->q50 ? p1->q50 : p1->mean, p3->q50 ? p3->q50 : p3->mean,
                                     n * sizeof(double)) == 0;
            cases++;
            same += ok;
            free(one);
            free(bw);
            bnn_prediction_free(p1);
            bnn_prediction_free(p3);
            free(dr.theta);
            bnn_model_free(m);
            bnn_table_free(t);
        }
    CHECK_VERBOSE(same == cases, "draws in runs: every stored prediction and per-draw metric "
                  "is the draw's own, predicted alone, bit for bit, on 1 and 3 threads: %d of "
                  "%d cases", same, cases);
    gsl_rng_free(r);
}

/* The density's drift of a network of one hidden layer of at most 16 units (model.c's
 * padded pass, two vectors of 8 lanes) equals the path any network takes bit for bit, at
 * every width around the lanes' edges, every activation and output, with weights large
 * enough to saturate units (rounding edges exercised). Its own generator: the tests above
 * keep their random streams. */
static void test_drift_lanes(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    int widths[] = {1, 7, 8, 9, 10, 15, 16, 17};
    bnn_activation acts[] = {BNN_ACT_SIGMOID, BNN_ACT_TANH, BNN_ACT_RELU};
    int cases = 0, same = 0;
    for (int wk = 0; wk < 8; wk++)
        for (int a = 0; a < 3; a++)
            for (int task = 0; task < 4; task++) {
                /* regression with sigmoid and identity outputs, softmax 3 classes, the
                 * study's sigmoid outputs on 2 classes */
                int K = task < 2 ? 0 : task == 2 ? 3 : 2;
                size_t p = (size_t)(1 + (wk * 5 + a * 3 + task) % 12);
                bnn_table *t = random_table(r, 23, p, K);
                bnn_model_spec sp;
                bnn_model_spec_study(&sp, 1, K ? BNN_TASK_CLASSIFICATION : BNN_TASK_REGRESSION,
                                     (int)p, K);
                sp.hidden[0] = widths[wk];
                sp.hidden_act = acts[a];
                if (task == 1)
                    sp.output_act = BNN_ACT_IDENTITY;
                if (task == 3)
                    sp.output_act = BNN_ACT_SIGMOID;
                bnn_model *m = NULL;
                if (bnn_model_new(&m, &sp, t, NULL) != BNN_OK) {
                    CHECK(0, "model for the drift lanes (H=%d)", widths[wk]);
                    bnn_table_free(t);
                    continue;
                }
                bnn_density d = bnn_model_density(m);
                double *work = bnn_zalloc(d.work_len), *th = bnn_zalloc(d.dim);
                double *got = bnn_zalloc(d.dim), *want = bnn_zalloc(d.dim);
                for (size_t j = 0; j < d.dim; j++)
                    th[j] = gsl_ran_gaussian(r, j % 5 == 0 ? 4.0 : 0.7);
                d.drift(d.ctx, work, 0.07, th, got);
                bnn_model_drift_any(m, work, 0.07, th, want);
                cases++;
                same += memcmp(got, want, d.dim * sizeof *got) == 0 &&
                        memcmp(got, th, d.dim * sizeof *got) != 0;
                free(work);
                free(th);
                free(got);
                free(want);
                bnn_model_free(m);
                bnn_table_free(t);
            }
    CHECK_VERBOSE(cases == 96 && same == cases, "one hidden layer's drift (padded lanes) = any "
                  "network's, bit for bit, and moved: %d of %d cases", same, cases);
    gsl_rng_free(r);
}

int main(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 20240402);
    test_gradients(r);
    test_fused(r);
    test_linear_ss(r);
    test_hand_linear();
    test_hand_nn();
    test_stability(r);
    test_drift(r);
    test_predict(r);
    test_predict_batch(r);
    test_loglik(r);
    test_predict_chunks(r);
    test_bad_spec();
    test_unconstrain(r);
    test_prior_layers(r);
    test_propriety(r);
    test_sigmoid_classification(r);
    test_sigmoid_drift(r);
    test_log_prior_split(r);
    test_center(r);
    test_axes(r);
    test_drift_lanes();
    test_predict_runs();
    gsl_rng_free(r);
    return check_done("test_model");
}
