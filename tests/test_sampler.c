/* test_sampler.c — the samplers against closed-form posteriors, the Langevin proposal
 * correction term by term, thread-count independence, stopping early. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

/* OpenBLAS's own calls (its cblas.h clashes with GSL's gsl_cblas.h, included above) */
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

#include "../src/mcmc/kernel.h"
#include "check.h"
#include "stats.h"

/* ---- the linear model with tau^2 held fixed: a density over the weights alone ---- */

typedef struct {
    bnn_density inner;
    double eta;
} fixed_tau;

static double fixed_logp(const void *ctx, double *work, const double *theta, double *grad)
{
    const fixed_tau *f = ctx;
    size_t d = f->inner.dim;
    double *full = work + f->inner.work_len, *g = full + d;
    memcpy(full, theta, (d - 1) * sizeof *full);
    full[d - 1] = f->eta;
    double lp = f->inner.logp(f->inner.ctx, work, full, grad ? g : NULL);
    if (grad)
        memcpy(grad, g, (d - 1) * sizeof *grad);
    return lp;
}

/* The tempered form (pt's replicas) of the same: the inner model's at eta held fixed. */
static double fixed_tempered(const void *ctx, double *work, double beta, const double *theta,
                             double *grad, double *loglik)
{
    const fixed_tau *f = ctx;
    size_t d = f->inner.dim;
    double *full = work + f->inner.work_len, *g = full + d;
    memcpy(full, theta, (d - 1) * sizeof *full);
    full[d - 1] = f->eta;
    double lp = f->inner.logp_tempered(f->inner.ctx, work, beta, full, grad ? g : NULL, loglik);
    if (grad)
        memcpy(grad, g, (d - 1) * sizeof *grad);
    return lp;
}

static void fixed_drift(const void *ctx, double *work, double lr, const double *theta, double *out)
{
    const fixed_tau *f = ctx;
    size_t d = f->inner.dim;
    double *full = work + f->inner.work_len, *g = full + d;
    memcpy(full, theta, (d - 1) * sizeof *full);
    full[d - 1] = f->eta;
    f->inner.drift(f->inner.ctx, work, lr, full, g);
    memcpy(out, g, (d - 1) * sizeof *out);
}

/* Posterior of w given tau^2: N(mu, A^-1), A = X'X / tau^2 + I / s2, mu = A^-1 X'y / tau^2,
 * with X = [inputs, 1] in the model's parameter order (W1.1.1, ..., b1.1). */
static void conjugate_posterior(const bnn_table *t, double tau2, double s2, double *mu, double *var)
{
    size_t d = t->p + 1;
    gsl_matrix *A = gsl_matrix_calloc(d, d);
    gsl_vector *r = gsl_vector_calloc(d), *m = gsl_vector_alloc(d);
    for (size_t i = 0; i < t->n; i++) {
        double xi[16];
        for (size_t j = 0; j < t->p; j++)
            xi[j] = t->x[i * t->p + j];
        xi[t->p] = 1.0;
        for (size_t a = 0; a < d; a++) {
            r->data[a] += xi[a] * t->y[i] / tau2;
            for (size_t b = 0; b < d; b++)
                *gsl_matrix_ptr(A, a, b) += xi[a] * xi[b] / tau2;
        }
    }
    for (size_t a = 0; a < d; a++)
        *gsl_matrix_ptr(A, a, a) += 1.0 / s2;
    gsl_linalg_cholesky_decomp1(A);
    gsl_linalg_cholesky_solve(A, r, m);
    gsl_linalg_cholesky_invert(A);
    for (size_t a = 0; a < d; a++) {
        mu[a] = m->data[a];
        var[a] = gsl_matrix_get(A, a, a);
    }
    gsl_matrix_free(A);
    gsl_vector_free(r);
    gsl_vector_free(m);
}

static void test_conjugate(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    bnn_table *t = bnn_table_new(30, 2, "conjugate");
    for (size_t i = 0; i < 30; i++) {
        t->x[2 * i] = gsl_ran_gaussian(r, 1.0);
        t->x[2 * i + 1] = gsl_ran_gaussian(r, 1.0);
        t->y[i] = 0.5 * t->x[2 * i] - 1.0 * t->x[2 * i + 1] + 0.3 + gsl_ran_gaussian(r, 0.5);
    }
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 0, BNN_TASK_REGRESSION, 2, 0);
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, t, NULL);
    fixed_tau ft = {bnn_model_density(m), log(0.25)};
    bnn_density d = {.dim = 3, .n_weights = 3, .work_len = ft.inner.work_len + 2 * ft.inner.dim,
                     .logp = fixed_logp, .drift = fixed_drift, .ctx = &ft,
                     .logp_tempered = fixed_tempered};
    double mu[3], var[3];
    conjugate_posterior(t, 0.25, sp.prior_var, mu, var);
    /* every kernel of the registry, so a new one is tested here the day it is added; the
     * ones that cannot sample this density (it offers no conjugate conditionals) must say
     * so, and only gibbs may (it has its own tests against the closed form) */
    char skipped[256] = "";
    for (size_t k = 0; bnn_kernel_at(k); k++) {
        const bnn_kernel *kern = bnn_kernel_at(k);
        /* the approximate (minibatch) kernels are held to their known bias, not to
         * exactness: test_sg */
        if (kern->approximate)
            continue;
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = kern->name;
        bnn_error err = {0};
        if (bnn_run_check(&d, &rc, &err) != BNN_OK) {
            strncat(skipped, kern->name, sizeof skipped - strlen(skipped) - 2);
            strcat(skipped, " ");
            continue;
        }
        int random_walk = bnn_kernel_option(kern, "step") != NULL;
        rc.n_iter = random_walk ? 30000 : 6000;
        rc.n_burn = random_walk ? 2000 : 1000;
        rc.chains = 4;
        rc.threads = 2;
        rc.seed = 5;
        if (random_walk) {
            bnn_run_config_set(&rc, "step", 0.05);
            bnn_run_config_set(&rc, "step_eta", 0.05);
        }
        if (bnn_kernel_option(kern, "lr"))
            bnn_run_config_set(&rc, "lr", 0.01);
        bnn_draws *dr = NULL;
        CHECK(bnn_run(&d, &rc, &dr, &err) == BNN_OK, "run: %s", err.msg);
        if (!dr)
            continue;
        for (size_t j = 0; j < 3; j++) {
            double zm, zv;
            moments mo = moments_z(dr, j, mu[j], var[j], &zm, &zv);
            CHECK_VERBOSE(fabs(zm) < 4 && fabs(zv) < 4,
                          "conjugate linear %-8s w%zu: mean %.5f vs %.5f (z %+.2f), var %.3e vs "
                          "%.3e (z %+.2f), ESS %.0f, accept %.2f, step %.3g", kern->name, j,
                          mo.mean, mu[j], zm, mo.var, var[j], zv, mo.ess, dr->accept_rate[0],
                          dr->step_final[0]);
        }
        bnn_draws_free(dr);
    }
    CHECK_VERBOSE(strcmp(skipped, "gibbs ") == 0, "every kernel but gibbs sampled the conjugate "
                  "linear model (skipped: %s)", skipped);
    bnn_model_free(m);
    bnn_table_free(t);
    gsl_rng_free(r);
}

/* ---- a correlated 2-D Gaussian with no drift of its own (the fallback g) ---- */

static double gauss2_logp(const void *ctx, double *work, const double *th, double *grad)
{
    (void)ctx;
    (void)work;
    /* precision of a Gaussian with sds 1 and 2, correlation 0.6 */
    const double s1 = 1, s2 = 2, rho = 0.6, det = 1 - rho * rho;
    double a = 1 / (s1 * s1 * det), b = -rho / (s1 * s2 * det), c = 1 / (s2 * s2 * det);
    double x = th[0] - 1, y = th[1] + 2;
    if (grad) {
        grad[0] = -(a * x + b * y);
        grad[1] = -(b * x + c * y);
    }
    return -0.5 * (a * x * x + 2 * b * x * y + c * y * y);
}

static void test_gauss2(void)
{
    bnn_density d = {.dim = 2, .n_weights = 2, .logp = gauss2_logp};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "langevin";
    bnn_run_config_set(&rc, "langevin_prob", 0.7);
    rc.n_iter = 40000;
    rc.n_burn = 1000;
    rc.chains = 4;
    rc.threads = 2;
    rc.seed = 3;
    bnn_run_config_set(&rc, "step", 0.9);
    bnn_run_config_set(&rc, "step_eta", 0.9);
    bnn_run_config_set(&rc, "lr", 0.3);
    bnn_draws *dr = NULL;
    CHECK(bnn_run(&d, &rc, &dr, NULL) == BNN_OK, "run");
    double mu[2] = {1, -2}, var[2] = {1, 4};
    for (size_t j = 0; j < 2 && dr; j++) {
        double zm, zv;
        moments mo = moments_z(dr, j, mu[j], var[j], &zm, &zv);
        CHECK_VERBOSE(fabs(zm) < 4 && fabs(zv) < 4,
                      "2-D Gaussian, langevin with gradient drift, x%zu: mean %.4f (z %+.2f), "
                      "var %.4f (z %+.2f), ESS %.0f", j, mo.mean, zm, mo.var, zv, mo.ess);
    }
    bnn_draws_free(dr);
}

/* ---- the Langevin correction, term by term ---- */

static void odd_drift(const void *ctx, double *work, double lr, const double *th, double *out)
{
    (void)ctx;
    (void)work;
    /* deliberately not a gradient step: asymmetric, so the correction matters */
    out[0] = th[0] - lr * th[0] + 0.2 * sin(th[1]);
    out[1] = th[1] - lr * th[1] * th[1] * 0.1;
}

/* The density records the last point it was asked about: the kernel's proposal, whether
 * accepted or not (the drift is odd_drift, so log p is called once per step, on it). */
typedef struct {
    double last[2];
} recorder;

static double recording_logp(const void *ctx, double *work, const double *th, double *grad)
{
    recorder *r = (recorder *)ctx;
    r->last[0] = th[0];
    r->last[1] = th[1];
    return gauss2_logp(NULL, work, th, grad);
}

static void test_correction(void)
{
    recorder rec = {{0, 0}};
    bnn_density d = {.dim = 2, .n_weights = 1, .logp = recording_logp, .drift = odd_drift, .ctx = &rec};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    const double lr = 0.2;
    bnn_run_config_set(&rc, "langevin_prob", 1.0);
    bnn_run_config_set(&rc, "step", 0.7);
    bnn_run_config_set(&rc, "step_eta", 0.4);
    bnn_run_config_set(&rc, "lr", lr);
    bnn_chain c;
    double th0[2] = {0.3, -1.0};
    bnn_chain_init(&c, bnn_kernel_find("langevin"), &d, &rc, 99, th0, NULL);
    double worst = 0;
    int accepted = 0;
    for (int it = 0; it < 200; it++) {
        double before[2] = {c.theta[0], c.theta[1]}, g0[2], g1[2];
        bnn_step_info info;
        odd_drift(NULL, NULL, lr, before, g0);
        int a = bnn_chain_step(&c, &info);
        double astat = info.accept_stat;
        accepted += a;
        const double *prop = rec.last;
        if (a && (c.theta[0] != prop[0] || c.theta[1] != prop[1]))
            worst = INFINITY;   /* an accepted move must land on the proposal */
        odd_drift(NULL, NULL, lr, prop, g1);
        /* direct: full Gaussian densities of both proposal directions, constants included */
        double lq_rev = log(gsl_ran_gaussian_pdf(before[0] - g1[0], 0.7)) +
                        log(gsl_ran_gaussian_pdf(before[1] - g1[1], 0.4));
        double lq_fwd = log(gsl_ran_gaussian_pdf(prop[0] - g0[0], 0.7)) +
                        log(gsl_ran_gaussian_pdf(prop[1] - g0[1], 0.4));
        double la = gauss2_logp(NULL, NULL, prop, NULL) - gauss2_logp(NULL, NULL, before, NULL) +
                    lq_rev - lq_fwd;
        double want = la >= 0 ? 1.0 : exp(la);
        worst = fmax(worst, fabs(astat - want));
    }
    CHECK_VERBOSE(worst < 1e-12 && accepted > 10 && accepted < 190,
                  "Langevin acceptance = min(1, p(x')q(x|x')/p(x)q(x'|x)) with direct Gaussian "
                  "densities: max diff %.1e over 200 steps (%d accepted)", worst, accepted);
    bnn_chain_free(&c);
}

/* ---- same seed, same draws, whatever the thread count ---- */

static void test_threads(void)
{
    bnn_table *tr = NULL, *te = NULL;
    bnn_dataset_make("blobs3", 1, &tr, &te, NULL);
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 1, BNN_TASK_CLASSIFICATION, 4, 3);
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, tr, NULL);
    bnn_density dc = bnn_model_density(m);
    /* the noise step needs a regression: the study's network on Mackey-Glass */
    bnn_table *rtr = NULL, *rte = NULL;
    bnn_dataset_make("mackey-glass", 1, &rtr, &rte, NULL);
    bnn_model_spec rsp;
    bnn_model_spec_study(&rsp, 1, BNN_TASK_REGRESSION, (int)rtr->p, 0);
    bnn_model *rm = NULL;
    bnn_model_new(&rm, &rsp, rtr, NULL);
    bnn_density dreg = bnn_model_density(rm);
    /* nuts (the default), pt (its replicas' streams come from the chain's own) and nuts
     * with the Gibbs noise step (its draws of tau2 from the chain's stream) */
    const char *samplers[3] = {"nuts", "pt", "nuts + noise step"};
    for (int k = 0; k < 3; k++) {
        bnn_density d = k == 2 ? dreg : dc;
        bnn_draws *ref = NULL;
        for (int T = 1; T <= 3; T++) {
            bnn_run_config rc;
            bnn_run_config_default(&rc);
            rc.sampler = k == 2 ? "nuts" : samplers[k];
            rc.noise_step = k == 2 ? BNN_NOISE_STEP_GIBBS : BNN_NOISE_STEP_NONE;
            rc.n_iter = k == 1 ? 300 : 600;
            rc.n_burn = 100;
            rc.thin = 3;
            rc.chains = 3;
            rc.threads = T;
            rc.seed = 42;
            if (k == 1)
                bnn_run_config_set(&rc, "replicas", 3);
            bnn_draws *dr = NULL;
            CHECK(bnn_run(&d, &rc, &dr, NULL) == BNN_OK, "run %s T=%d", samplers[k], T);
            if (!ref) {
                ref = dr;
                continue;
            }
            size_t n = (size_t)dr->chains * dr->n_kept;
            int same = dr->n_kept == ref->n_kept && dr->n_extra == ref->n_extra &&
                       memcmp(dr->theta, ref->theta, n * d.dim * sizeof(double)) == 0 &&
                       memcmp(dr->lp, ref->lp, n * sizeof(double)) == 0 &&
                       memcmp(dr->accept_stat, ref->accept_stat, n * sizeof(double)) == 0 &&
                       memcmp(dr->extra, ref->extra, n * dr->n_extra * sizeof(double)) == 0;
            /* and the chains differ from each other */
            int distinct = memcmp(bnn_draw(dr, 0, 0), bnn_draw(dr, 1, 0), d.dim * sizeof(double)) != 0;
            CHECK_VERBOSE(same && distinct, "%s: draws with %d threads bitwise equal to 1 thread "
                          "(%zu draws)", samplers[k], T, n);
            bnn_draws_free(dr);
        }
        bnn_draws_free(ref);
    }
    bnn_model_free(m);
    bnn_table_free(tr);
    bnn_table_free(te);
    bnn_model_free(rm);
    bnn_table_free(rtr);
    bnn_table_free(rte);
}

/* ---- part of a run (bnn_run_config.chain_lo, chain_hi: the CLI's MPI ranks) ---- */

/* The kept rows of chain c of a against those of chain cb of b, bitwise. */
static int same_rows(const bnn_draws *a, int c, const bnn_draws *b, int cb)
{
    size_t n = a->n_kept, dim = a->dim, ne = a->n_extra;
    if (n != b->n_kept || dim != b->dim || ne != b->n_extra)
        return 0;
    size_t ia = (size_t)c * n, ib = (size_t)cb * n;
    return memcmp(a->theta + ia * dim, b->theta + ib * dim, n * dim * sizeof(double)) == 0 &&
           memcmp(a->lp + ia, b->lp + ib, n * sizeof(double)) == 0 &&
           memcmp(a->accept_stat + ia, b->accept_stat + ib, n * sizeof(double)) == 0 &&
           memcmp(a->stepsize + ia, b->stepsize + ib, n * sizeof(double)) == 0 &&
           memcmp(a->n_leapfrog + ia, b->n_leapfrog + ib, n * sizeof(int)) == 0 &&
           memcmp(a->extra + ia * ne, b->extra + ib * ne, n * ne * sizeof(double)) == 0;
}

/* Chain c of a against chain cb of b: its rows, warm-up rows and tuning, bitwise. */
static int same_chain(const bnn_draws *a, int c, const bnn_draws *b, int cb)
{
    size_t dim = a->dim;
    return same_rows(a, c, b, cb) && !a->warmup == !b->warmup &&
           (!a->warmup || same_rows(a->warmup, c, b->warmup, cb)) &&
           a->step_final[c] == b->step_final[cb] &&
           memcmp(a->inv_metric + (size_t)c * dim, b->inv_metric + (size_t)cb * dim,
                  dim * sizeof(double)) == 0 &&
           (isnan(a->accept_rate[c]) ? isnan(b->accept_rate[cb])
                                     : a->accept_rate[c] == b->accept_rate[cb]);
}

/* A run cut into parts [0,1), [1,3), [3,4) of its 4 chains gives each chain bitwise as the
 * whole run does (streams, default starts, warm-up rows and tuning by the chain's index in
 * the run), for nuts (adapting) and langevin (the map), with a given start and the default
 * one; a range outside the run is refused. */
static void test_chain_range(void)
{
    bnn_table *tr = NULL, *te = NULL;
    bnn_dataset_make("mackey-glass", 1, &tr, &te, NULL);
    bnn_model_spec sp;
    bnn_model_spec_study(&sp, 1, BNN_TASK_REGRESSION, (int)tr->p, 0);
    bnn_model *m = NULL;
    bnn_model_new(&m, &sp, tr, NULL);
    bnn_density d = bnn_model_density(m);
    double *init = calloc(4 * d.dim, sizeof *init), *work = calloc(d.work_len, sizeof *work);
    for (int c = 0; c < 4; c++)
        bnn_model_init(m, bnn_chain_seed(5, c, 2), init + (size_t)c * d.dim, work);
    const char *samplers[] = {"nuts", "langevin"};
    for (int k = 0; k < 2; k++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = samplers[k];
        rc.n_iter = 200;
        rc.n_burn = 100;
        rc.thin = 2;
        rc.seed = 5;
        rc.threads = 2;
        rc.save_warmup = 1;
        rc.init = k ? NULL : init;
        bnn_draws *whole = NULL;
        CHECK(bnn_run(&d, &rc, &whole, NULL) == BNN_OK, "whole run");
        int lo[3] = {0, 1, 3}, hi[3] = {1, 3, 4}, same = whole != NULL;
        for (int p = 0; p < 3 && same; p++) {
            rc.chain_lo = lo[p];
            rc.chain_hi = hi[p];
            bnn_draws *part = NULL;
            bnn_error err = {0};
            CHECK(bnn_run(&d, &rc, &part, &err) == BNN_OK, "part %d..%d: %s", lo[p], hi[p], err.msg);
            same = part && part->chains == hi[p] - lo[p];
            for (int c = lo[p]; same && c < hi[p]; c++)
                same = same_chain(part, c - lo[p], whole, c);
            bnn_draws_free(part);
        }
        int distinct = whole && !same_chain(whole, 0, whole, 1);
        CHECK_VERBOSE(same && distinct, "%s: chains 1, 2..3 and 4 run as parts of a run of 4 "
                      "are bitwise the whole run's (draws, warm-up rows, tuning)%s", samplers[k],
                      k ? ", default starts" : "");
        bnn_draws_free(whole);
    }
    int bad[3][2] = {{2, 2}, {-1, 2}, {3, 5}};
    for (int i = 0; i < 3; i++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.chain_lo = bad[i][0];
        rc.chain_hi = bad[i][1];
        bnn_draws *dr = NULL;
        bnn_error err = {0};
        bnn_status st = bnn_run(&d, &rc, &dr, &err);
        CHECK_VERBOSE(st == BNN_EINVAL && !dr && strstr(err.msg, "not a range of the run's 4"),
                      "chains %d..%d refused: %s", bad[i][0], bad[i][1], err.msg);
    }
    free(init);
    free(work);
    bnn_model_free(m);
    bnn_table_free(tr);
    bnn_table_free(te);
}

/* ---- rounds (bnn_run_config.max_seconds, converged) ---- */

typedef struct {
    int calls, stop_at, sign;     /* answer sign (1 converged, -1 stop) at call stop_at */
    size_t kept[8];               /* n_kept at each call */
} verdicts;

static int verdict(void *user, const bnn_draws *dr)
{
    verdicts *v = user;
    if (v->calls < 8)
        v->kept[v->calls] = dr->n_kept;
    return ++v->calls == v->stop_at ? v->sign : 0;
}

/* With no time limit of the library's (max_seconds = INFINITY, as the CLI's MPI ranks run),
 * every round is whole and the answer alone ends the run: positive as converged, negative
 * as not; either way the draws are bitwise the first rows of a plain run as long. */
static void test_rounds(void)
{
    bnn_density d = {.dim = 2, .n_weights = 2, .logp = gauss2_logp};
    for (int sign = -1; sign <= 1; sign += 2) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = "nuts";
        rc.n_iter = 300;
        rc.n_burn = 100;
        rc.round_iter = 50;
        rc.chains = 3;
        rc.threads = 2;
        rc.seed = 11;
        rc.max_seconds = INFINITY;
        verdicts v = {0, 3, sign, {0}};
        rc.converged = verdict;
        rc.converged_user = &v;
        bnn_draws *dr = NULL, *plain = NULL;
        bnn_error err = {0};
        CHECK(bnn_run(&d, &rc, &dr, &err) == BNN_OK, "rounds: %s", err.msg);
        rc.max_seconds = 0;
        rc.converged = NULL;
        rc.n_iter = 400;
        CHECK(bnn_run(&d, &rc, &plain, &err) == BNN_OK, "plain: %s", err.msg);
        int same = dr && plain && dr->n_kept == 300 && plain->n_kept == 300;
        for (int c = 0; same && c < 3; c++)
            same = same_rows(dr, c, plain, c);
        CHECK_VERBOSE(dr && v.calls == 3 && v.kept[0] == 200 && v.kept[1] == 250 &&
                      v.kept[2] == 300 && dr->rounds == 3 && dr->converged == (sign > 0) && same,
                      "rounds with no time limit: answer %+d at the third check ends the run %s "
                      "after 3 whole rounds (checks at %zu, %zu, %zu draws; rounds %zu), draws "
                      "bitwise a plain run's", sign, sign > 0 ? "converged" : "not converged",
                      v.kept[0], v.kept[1], v.kept[2], dr ? dr->rounds : 0);
        bnn_draws_free(dr);
        bnn_draws_free(plain);
    }
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.max_seconds = INFINITY;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    CHECK_VERBOSE(bnn_run(&d, &rc, &dr, &err) == BNN_EINVAL && !dr && strstr(err.msg, "never end"),
                  "rounds with no time limit and no check refused: %s", err.msg);
}

/* ---- stopping early ---- */

typedef struct {
    volatile int *stop;
    int *calls;
} stopper;

static double stopping_logp(const void *ctx, double *work, const double *th, double *grad)
{
    const stopper *s = ctx;
    if (++*s->calls == 500)
        *s->stop = 1;
    return gauss2_logp(NULL, work, th, grad);
}

static void test_stop(void)
{
    volatile int stop = 0;
    int calls = 0;
    stopper s = {&stop, &calls};
    bnn_density d = {.dim = 2, .n_weights = 2, .logp = stopping_logp, .ctx = &s};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "rw";
    rc.n_iter = 10000;
    rc.n_burn = 100;
    rc.chains = 1;
    rc.stop = &stop;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_run(&d, &rc, &dr, &err);
    CHECK_VERBOSE(st == BNN_EINTR && dr && dr->n_iter_done < 10000 && dr->n_kept == dr->n_iter_done - 100 &&
                      strstr(err.msg, "stopped after"),
                  "stop flag: status %d, %zu iterations done, %zu kept, \"%s\"", (int)st,
                  dr ? dr->n_iter_done : 0, dr ? dr->n_kept : 0, err.msg);
    bnn_draws_free(dr);
}

static void test_bad_config(void)
{
    bnn_density d = {.dim = 2, .n_weights = 2, .logp = gauss2_logp};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.n_burn = rc.n_iter;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    CHECK(bnn_run(&d, &rc, &dr, &err) == BNN_EINVAL && dr == NULL && strstr(err.msg, "burn-in"),
          "burn-in >= iterations refused: %s", err.msg);
    /* a kernel's settings: checked against its table by name and range */
    struct {
        const char *sampler, *name;
        double value;
        const char *want;
    } bad[] = {{"pt0", NULL, 0, "unknown sampler 'pt0' (one of rw|langevin|"},
               {"nuts", "lr", 0.1, "nuts has no setting 'lr'"},
               {"nuts", "max_depth", 21, "nuts's max_depth must be an integer in 1..20, not 21"},
               {"nuts", "max_depth", 2.5, "must be an integer in 1..20, not 2.5"},
               {"rw", "step", 0, "rw's step must be positive, not 0"},
               {"langevin", "langevin_prob", 1.5, "langevin_prob must be a number in 0..1"},
               {"hmc", "int_time", -1, "hmc's int_time must be positive"},
               {"gibbs", NULL, 0, "gibbs samples only the linear regression"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bnn_run_config_default(&rc);
        rc.sampler = bad[i].sampler;
        if (bad[i].name)
            bnn_run_config_set(&rc, bad[i].name, bad[i].value);
        err.msg[0] = 0;
        bnn_status st = bnn_run(&d, &rc, &dr, &err);
        CHECK_VERBOSE(st == BNN_EINVAL && dr == NULL && strstr(err.msg, bad[i].want),
                      "refused: %s", err.msg);
    }
    /* a direct bnn_chain_init (no bnn_run_check) refuses what the kernel cannot take */
    {
        bnn_chain c;
        double th0[2] = {0, 0};
        bnn_run_config_default(&rc);
        rc.sampler = "nuts";
        rc.n_settings = 0;
        bnn_run_config_set(&rc, "max_depth", 25);
        err.msg[0] = 0;
        bnn_status s1 = bnn_chain_init(&c, bnn_kernel_find("nuts"), &d, &rc, 1, th0, &err);
        int said1 = strstr(err.msg, "max_depth 25") != NULL;
        bnn_run_config_default(&rc);
        err.msg[0] = 0;
        bnn_status s2 = bnn_chain_init(&c, bnn_kernel_find("gibbs"), &d, &rc, 1, th0, &err);
        CHECK_VERBOSE(s1 == BNN_EINVAL && said1 && s2 == BNN_EINVAL &&
                          strstr(err.msg, "only the linear regression"),
                      "bnn_chain_init refuses nuts at depth 25 and gibbs without conditionals "
                      "(%d, %d: %s)", (int)s1, (int)s2, err.msg);
    }
    /* a setting given twice keeps the last value; unset ones take the table's default */
    bnn_run_config_default(&rc);
    rc.sampler = "nuts";
    bnn_run_config_set(&rc, "max_depth", 5);
    bnn_run_config_set(&rc, "max_depth", 7);
    const bnn_kernel *k = bnn_kernel_find("nuts"), *h = bnn_kernel_find("hmc");
    CHECK_VERBOSE(rc.n_settings == 1 && bnn_run_config_get(&rc, k, "max_depth") == 7 &&
                      fabs(bnn_run_config_get(&rc, h, "int_time") - 2 * M_PI) < 1e-15 &&
                      isnan(bnn_run_config_get(&rc, k, "lr")),
                  "settings: last value kept (%g), defaults from the table (%g), NaN for none",
                  bnn_run_config_get(&rc, k, "max_depth"), bnn_run_config_get(&rc, h, "int_time"));
}

/* The header promises no global state left changed: OpenBLAS's thread count included. */
static void test_blas_threads_restored(void)
{
    bnn_density d = {.dim = 2, .n_weights = 2, .logp = gauss2_logp};
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "langevin";
    rc.n_iter = 20;
    rc.n_burn = 10;
    rc.chains = 2;
    rc.threads = 2;
    openblas_set_num_threads(2);
    bnn_draws *dr = NULL;
    bnn_status st = bnn_run(&d, &rc, &dr, NULL);
    int after = openblas_get_num_threads();
    CHECK_VERBOSE(st == BNN_OK && after == 2, "bnn_run gives OpenBLAS its thread count back "
                  "(2 before, %d after)", after);
    bnn_draws_free(dr);
}

/* ---- flat-prior linear regression against its closed form ----
 * With beta ~ flat and tau^2 ~ inverse-gamma(nu1, nu2), p coefficients and n rows:
 *   tau^2 | y ~ inverse-gamma(a, b),  a = nu1 + (n - p)/2,  b = nu2 + SSE/2,
 *   beta | y  ~ t_df(beta_ols, s2 (Z'Z)^-1),  df = n - p + 2 nu1 = 2a,  s2 = 2b / df,
 * SSE the least-squares fit's. The checks, each a z-score against the draws' own MCSE
 * (|z| < 4): each coefficient's mean and variance (Var = s2 C_jj df / (df - 2)), its 5%
 * quantile (the share of draws below the exact one, 0.05, MCSE from the indicator's ESS),
 * and eta = log tau^2's mean and variance (log b - digamma(a), trigamma(a)). */
static void test_flat_prior(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 17);
    const size_t n = 12, p = 3;   /* 2 inputs + intercept: df = 9 + 2 nu1, heavy tails */
    bnn_table *t = bnn_table_new(n, 2, "flat");
    for (size_t i = 0; i < n; i++) {
        t->x[2 * i] = gsl_ran_gaussian(r, 1.0);
        t->x[2 * i + 1] = gsl_ran_gaussian(r, 1.0);
        t->y[i] = 0.5 * t->x[2 * i] - 1.0 * t->x[2 * i + 1] + 0.3 + gsl_ran_gaussian(r, 0.5);
    }
    /* least squares by hand: C = (Z'Z)^-1, beta_ols = C Z'y, SSE */
    gsl_matrix *C = gsl_matrix_calloc(p, p);
    gsl_vector *zy = gsl_vector_calloc(p), *ols = gsl_vector_alloc(p);
    for (size_t i = 0; i < n; i++) {
        double z[3] = {t->x[2 * i], t->x[2 * i + 1], 1.0};
        for (size_t a = 0; a < p; a++) {
            zy->data[a] += z[a] * t->y[i];
            for (size_t b = 0; b < p; b++)
                *gsl_matrix_ptr(C, a, b) += z[a] * z[b];
        }
    }
    gsl_linalg_cholesky_decomp1(C);
    gsl_linalg_cholesky_solve(C, zy, ols);
    gsl_linalg_cholesky_invert(C);
    double sse = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = t->y[i] - ols->data[0] * t->x[2 * i] - ols->data[1] * t->x[2 * i + 1] -
                   ols->data[2];
        sse += e * e;
    }
    const double nus[][2] = {{-0.5, 0.0}, {0.0, 0.0}, {1.0, 0.5}};
    /* nuts+gibbs: nuts on beta with tau^2 drawn exactly (--noise-step gibbs) */
    const char *samplers[] = {"gibbs", "nuts", "nuts+gibbs"};
    for (size_t q = 0; q < sizeof nus / sizeof nus[0]; q++) {
        bnn_model_spec sp;
        bnn_model_spec_study(&sp, 0, BNN_TASK_REGRESSION, 2, 0);
        sp.prior_var = INFINITY;
        sp.nu1 = nus[q][0];
        sp.nu2 = nus[q][1];
        bnn_model *m = NULL;
        bnn_error err = {0};
        CHECK(bnn_model_new(&m, &sp, t, &err) == BNN_OK, "flat model: %s", err.msg);
        if (!m)
            continue;
        bnn_density d = bnn_model_density(m);
        double a = sp.nu1 + 0.5 * (double)(n - p), b = sp.nu2 + 0.5 * sse, df = 2.0 * a;
        double s2 = 2.0 * b / df;
        for (size_t k = 0; k < sizeof samplers / sizeof samplers[0]; k++) {
            bnn_run_config rc;
            bnn_run_config_default(&rc);
            rc.sampler = k == 2 ? "nuts" : samplers[k];
            rc.noise_step = k == 2 ? BNN_NOISE_STEP_GIBBS : BNN_NOISE_STEP_NONE;
            rc.n_iter = 12000;
            rc.n_burn = 1000;
            rc.chains = 4;
            rc.threads = 2;
            rc.seed = 23;
            bnn_draws *dr = NULL;
            CHECK(bnn_run(&d, &rc, &dr, &err) == BNN_OK, "flat prior %s: %s", samplers[k], err.msg);
            if (!dr)
                continue;
            double worst = 0.0, worst_q = 0.0, detect = 0.0;
            for (size_t j = 0; j < p; j++) {
                double sc = sqrt(s2 * gsl_matrix_get(C, j, j));
                double var = sc * sc * df / (df - 2.0), zm, zv;
                moments mo = moments_z(dr, j, ols->data[j], var, &zm, &zv);
                worst = fmax(worst, fmax(fabs(zm), fabs(zv)));
                detect = fmax(detect, 4.0 * mo.mcse_mean / sqrt(var));
                /* the 5% quantile: share of draws below it */
                double q05 = ols->data[j] + sc * gsl_cdf_tdist_Pinv(0.05, df);
                size_t M = (size_t)dr->chains, N = dr->n_kept;
                double *ind = malloc(M * N * sizeof *ind), share = 0.0;
                for (size_t c = 0; c < M; c++)
                    for (size_t i = 0; i < N; i++)
                        share += ind[c * N + i] = bnn_draw(dr, (int)c, i)[j] < q05;
                share /= (double)(M * N);
                double mcse = sqrt(0.05 * 0.95 / bnn_ess(ind, M, N));
                worst_q = fmax(worst_q, fabs(share - 0.05) / mcse);
                free(ind);
            }
            double zm, zv;
            moments me = moments_z(dr, p, log(b) - gsl_sf_psi(a), gsl_sf_psi_1(a), &zm, &zv);
            worst = fmax(worst, fmax(fabs(zm), fabs(zv)));
            CHECK_VERBOSE(worst < 4 && worst_q < 4,
                          "flat prior nu=(%g,%g) %-10s vs multivariate t (df %g) and "
                          "inverse-gamma(%g, %.3g): worst |z| moments %.2f, 5%% quantile %.2f "
                          "(detects a mean shift of %.3f sd; eta ESS %.0f)", sp.nu1, sp.nu2,
                          samplers[k], df, a, b, worst, worst_q, detect, me.ess);
            bnn_draws_free(dr);
        }
        bnn_model_free(m);
    }
    gsl_matrix_free(C);
    gsl_vector_free(zy);
    gsl_vector_free(ols);
    bnn_table_free(t);
    gsl_rng_free(r);
}

int main(void)
{
    test_correction();
    test_conjugate();
    test_gauss2();
    test_threads();
    test_chain_range();
    test_rounds();
    test_stop();
    test_bad_config();
    test_blas_threads_restored();
    test_flat_prior();
    return check_done("test_sampler");
}
