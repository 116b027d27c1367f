/* test_sg.c — the minibatch samplers (sgld, sghmc): their cyclical plan term by term; their
 * paths against a reference written from the papers' equations with the same random
 * numbers; their draws on a conjugate posterior against its exact mean and the variance
 * bounds their discretisation and batch noise imply, at a constant step and with cycles
 * on; every model's batch log density against its full one and finite differences;
 * reproducibility (threads, checkpoints) and the checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "../src/mcmc/minibatch.h"
#include "check.h"
#include "stats.h"

/* ------------------------------------------------------------ the plan */

/* The largest E with E / (E + s) <= R / 10^6, by counting up: the definition itself, not
 * minibatch.c's closed form. */
static size_t explore_brute(size_t s, uint64_t R)
{
    size_t E = 0;
    while ((uint64_t)(E + 1) * 1000000u <= R * (uint64_t)(E + 1 + s))
        E++;
    return E;
}

static void test_plan(void)
{
    /* exploration counts in integer arithmetic, where floating point is off by one */
    CHECK(bnn_sg_explore_count(10, 800000) == 40, "explore 0.8, s 10: E %zu, not 40",
          bnn_sg_explore_count(10, 800000));
    CHECK(bnn_sg_explore_count(10, 900000) == 90, "explore 0.9, s 10: E %zu, not 90",
          bnn_sg_explore_count(10, 900000));
    CHECK(bnn_sg_explore_count(75, 250000) == 25, "explore 0.25, s 75: E %zu, not 25",
          bnn_sg_explore_count(75, 250000));
    CHECK(bnn_sg_explore_count(7, 0) == 0, "explore 0: E must be 0");
    bnn_sg_plan p;
    bnn_sg_plan_make(&p, 100, 0, 1, 0.9);
    CHECK(p.explore_ppm == 900000, "explore 0.9 read as %llu millionths",
          (unsigned long long)p.explore_ppm);
    bnn_sg_plan_make(&p, 100, 0, 1, 0.8);
    CHECK(p.explore_ppm == 800000, "explore 0.8 read as %llu millionths",
          (unsigned long long)p.explore_ppm);
    int bad = 0;
    for (size_t s = 1; s <= 300; s++)
        for (uint64_t R = 0; R < 1000000; R += 12347)
            bad += bnn_sg_explore_count(s, R) != explore_brute(s, R);
    for (size_t s = 1; s <= 300; s++) {
        bad += bnn_sg_explore_count(s, 800000) != explore_brute(s, 800000);
        bad += bnn_sg_explore_count(s, 900000) != explore_brute(s, 900000);
        bad += bnn_sg_explore_count(s, 990000) != explore_brute(s, 990000);
    }
    CHECK_VERBOSE(bad == 0, "exploration counts equal the definition's (largest E with E/(E+s) "
                  "<= explore) for s 1..300 and 84 shares: %d differ", bad);

    /* the cosine factor at known places */
    CHECK(bnn_sg_cosine(0, 10) == 1.0, "cosine at the cycle's start %g", bnn_sg_cosine(0, 10));
    CHECK(fabs(bnn_sg_cosine(5, 10) - 0.5) < 1e-15, "cosine mid-cycle %g", bnn_sg_cosine(5, 10));
    CHECK(fabs(bnn_sg_cosine(3, 12) - (cos(M_PI / 4) + 1) / 2) < 1e-15, "cosine at a quarter");

    /* exactly M cycles of S draws, whatever S mod M, their sizes within one of each other */
    bad = 0;
    size_t Ss[] = {4, 5, 10, 11, 97, 100, 1000, 1001, 9999};
    size_t Ms[] = {1, 2, 3, 4, 7};
    for (size_t a = 0; a < sizeof Ss / sizeof *Ss; a++)
        for (size_t b = 0; b < sizeof Ms / sizeof *Ms; b++) {
            size_t S = Ss[a], M = Ms[b];
            if (M > S)
                continue;
            bnn_sg_plan_make(&p, 17 + S, 17, M, 0.25);
            size_t count[8] = {0}, last = 0, starts = 0, explore = 0;
            for (size_t k = 0; k < 17 + S; k++) {
                bnn_sg_where w;
                bnn_sg_locate(&p, k, &w);
                if (k < 17) {
                    bad += w.cyclic || w.factor != 1.0 || w.explore_now;
                    continue;
                }
                bad += !w.cyclic || w.cycle >= M || w.cycle < last || w.index != count[w.cycle];
                last = w.cycle;
                count[w.cycle]++;
                starts += w.index == 0;
                explore += w.explore_now;
                bad += w.explore_now != (w.index == 0 ? w.n_explore : 0);
                bad += w.n_explore != bnn_sg_explore_count(w.n_sample, p.explore_ppm);
                /* the sampling update's factor: place E + j of a cycle of E + s */
                bad += fabs(w.factor - bnn_sg_cosine(w.n_explore + w.index,
                                                     w.n_explore + w.n_sample)) > 0;
            }
            size_t sum = 0, lo = S, hi = 0, Esum = 0;
            for (size_t m = 0; m < M; m++) {
                sum += count[m];
                lo = count[m] < lo ? count[m] : lo;
                hi = count[m] > hi ? count[m] : hi;
                Esum += bnn_sg_explore_count(count[m], p.explore_ppm);
            }
            bad += sum != S || last != M - 1 || starts != M || hi - lo > 1 || lo == 0 ||
                   explore != Esum;
        }
    CHECK_VERBOSE(bad == 0, "plans of 9 lengths x 5 cycle counts: exactly M cycles covering S "
                  "(sizes within 1), one exploration stage per cycle of its E (%d faults)", bad);

    /* boundaries at known iterations: burn-in 10, S = 10, M = 3 -> cycles of 4, 3, 3 */
    bnn_sg_plan_make(&p, 20, 10, 3, 0.5);
    struct {
        size_t k, cycle, index, s;
    } at[] = {{10, 0, 0, 4}, {13, 0, 3, 4}, {14, 1, 0, 3}, {16, 1, 2, 3}, {17, 2, 0, 3},
              {19, 2, 2, 3}, {20, 3, 0, 3}, {23, 4, 0, 3}};
    bad = 0;
    for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
        bnn_sg_where w;
        bnn_sg_locate(&p, at[i].k, &w);
        bad += w.cycle != at[i].cycle || w.index != at[i].index || w.n_sample != at[i].s;
    }
    bnn_sg_where w;
    bnn_sg_locate(&p, 10, &w);
    /* explore 0.5: E = s, a cycle of 8: the first sampling update at place 4 of 8 */
    bad += w.n_explore != 4 || w.explore_now != 4 || fabs(w.factor - 0.5) > 1e-15;
    bnn_sg_locate(&p, 9, &w);
    bad += w.cyclic || w.factor != 1.0;
    CHECK_VERBOSE(bad == 0, "cycle boundaries, sizes and steps at known iterations (burn-in "
                  "10, 10 draws in 3 cycles; past the plan, cycles of 3) (%d faults)", bad);
}

/* ------------------------------------------------------------ a conjugate posterior */

/* y_i ~ N(theta, 1), i = 1..n, theta ~ N(0, s0): the linear regression on an intercept with
 * the noise known. Posterior N(mu, 1/P), P = n + 1/s0, mu = sum y / P. The batch gradient
 * -theta/s0 + (n/B) sum_b (y_i - theta) = grad log p(theta) + a_t: its theta term is exact,
 * the batch noise a_t = (n/B) sum_b y_i - sum y does not depend on theta. */
typedef struct {
    size_t n;
    const double *y;
    double s0;
} gmean;

static double gmean_logp(const void *ctx, double *work, const double *th, double *grad)
{
    const gmean *g = ctx;
    (void)work;
    double lp = -th[0] * th[0] / (2 * g->s0), gr = -th[0] / g->s0;
    for (size_t i = 0; i < g->n; i++) {
        double r = g->y[i] - th[0];
        lp -= 0.5 * r * r;
        gr += r;
    }
    if (grad)
        grad[0] = gr;
    return lp;
}

static double gmean_batch(const void *ctx, double *work, const size_t *rows, size_t B,
                          const double *th, double *grad)
{
    const gmean *g = ctx;
    (void)work;
    double ll = 0, gl = 0;
    for (size_t i = 0; i < B; i++) {
        double r = g->y[rows[i]] - th[0];
        ll -= 0.5 * r * r;
        gl += r;
    }
    double sc = (double)g->n / (double)B;
    if (grad)
        grad[0] = -th[0] / g->s0 + sc * gl;
    return -th[0] * th[0] / (2 * g->s0) + sc * ll;
}

static bnn_density gmean_density(const gmean *g)
{
    return (bnn_density){.dim = 1, .n_weights = 1, .logp = gmean_logp, .ctx = g, .n_rows = g->n,
                         .batch_work = 1, .logp_batch = gmean_batch};
}

/* n = 100 rows whose spread (population variance v_y) sets the batch noise's size */
static void gmean_data(double *y, size_t n, double center, double spread, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < n; i++)
        y[i] = center + spread * gsl_ran_gaussian(r, 1.0);
    gsl_rng_free(r);
}

static double pop_var(const double *y, size_t n)
{
    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        m += y[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++)
        v += (y[i] - m) * (y[i] - m);
    return v / (double)n;
}

/* ------------------------------------------------------------ the reference path */

/* The expanded schedule, from the definitions alone: burn-in updates at factor 1 with noise,
 * then for each cycle m its E_m exploration updates and s_m sampling updates at the cosine
 * factors of places 0..L_m-1 (Zhang et al. 2020: alpha_k = alpha_0/2 (cos(pi r_k) + 1) with
 * r_k the place in the cycle over its length). */
typedef struct {
    double factor;
    int noise, ends_iteration;
} ref_update;

static size_t ref_schedule(size_t n_burn, size_t S, size_t M, double explore, ref_update *u)
{
    size_t n = 0;
    for (size_t k = 0; k < n_burn; k++)
        u[n++] = (ref_update){1.0, 1, 1};
    uint64_t R = (uint64_t)llround(explore * 1e6);
    for (size_t k = 0; M == 0 && k < S; k++)   /* no cycles: a constant step */
        u[n++] = (ref_update){1.0, 1, 1};
    for (size_t m = 0; m < M; m++) {
        size_t s = S / M + (m < S % M), E = explore_brute(s, R), L = E + s;
        for (size_t j = 0; j < L; j++)
            u[n++] = (ref_update){0.5 * (cos(M_PI * (double)j / (double)L) + 1.0), j >= E, j >= E};
    }
    return n;
}

/* The reference's batches: the same shuffled epochs from the same stream, written out. */
typedef struct {
    gsl_rng *r;
    size_t *perm, n, B, pos;
    const gmean *g;
} ref_chain;

static double ref_grad(ref_chain *c, double th)
{
    if (c->pos + c->B > c->n) {
        gsl_ran_shuffle(c->r, c->perm, c->n, sizeof *c->perm);
        c->pos = 0;
    }
    double g;
    gmean_batch(c->g, NULL, c->perm + c->pos, c->B, &th, &g);
    c->pos += c->B;
    return g;
}

/* Runs the kernel and the reference side by side from theta0, comparing the position (and
 * the reported step and batch evaluations) after every iteration. sghmc when alpha > 0. */
static void test_reference_path(const char *sampler, size_t n_burn, size_t S, size_t M,
                                double explore, double step0, double alpha, double beta,
                                unsigned long seed)
{
    double y[100];
    gmean_data(y, 100, 1.0, 1.0, 3);
    gmean g = {100, y, 10.0};
    bnn_density d = gmean_density(&g);
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = sampler;
    rc.n_iter = n_burn + S;
    rc.n_burn = n_burn;
    bnn_run_config_set(&rc, "batch", 20);
    bnn_run_config_set(&rc, "cycles", (double)M);
    bnn_run_config_set(&rc, "explore", explore);
    int hmc = alpha > 0;
    bnn_run_config_set(&rc, hmc ? "sghmc_lr" : "sgld_step", step0);
    if (hmc) {
        bnn_run_config_set(&rc, "friction", alpha);
        bnn_run_config_set(&rc, "beta_hat", beta);
    }
    bnn_chain c;
    bnn_error err = {0};
    double th0 = 3.0;
    if (bnn_chain_init(&c, bnn_kernel_find(sampler), &d, &rc, seed, &th0, &err) != BNN_OK) {
        CHECK(0, "%s init: %s", sampler, err.msg);
        return;
    }
    ref_update *u = malloc((n_burn + 100 * S + 10) * sizeof *u);
    size_t nu = ref_schedule(n_burn, S, M, explore, u);
    ref_chain rf = {gsl_rng_alloc(gsl_rng_mt19937), malloc(100 * sizeof(size_t)), 100, 20, 100, &g};
    gsl_rng_set(rf.r, seed);
    for (size_t i = 0; i < 100; i++)
        rf.perm[i] = i;
    double th = th0, v = 0, grad = 0;
    int have_grad = 0, evals = 0;
    double worst = 0, step_err = 0;
    int eval_err = 0, iters = 0;
    for (size_t i = 0; i < nu; i++) {
        double f = u[i].factor * step0;
        if (!hmc) {
            /* Welling & Teh eq. 4: theta += eps/2 grad~ + N(0, eps); the gradient at the
             * point, on a fresh batch, made when the point was reached */
            if (!have_grad) {
                grad = ref_grad(&rf, th);
                evals++;
                have_grad = 1;
            }
            th += 0.5 * f * grad + (u[i].noise ? sqrt(f) * gsl_ran_gaussian_ziggurat(rf.r, 1.0) : 0);
            grad = ref_grad(&rf, th);
            evals++;
        } else {
            /* Chen et al. eq. 15: theta += v; v += -eta grad U~(theta) - alpha v +
             * N(0, 2 (alpha - beta_hat) eta) */
            th += v;
            grad = ref_grad(&rf, th);
            evals++;
            v += f * grad - alpha * v +
                 (u[i].noise ? sqrt(2 * (alpha - beta) * f) * gsl_ran_gaussian_ziggurat(rf.r, 1.0) : 0);
        }
        if (!u[i].ends_iteration)
            continue;
        bnn_step_info info = {0};
        bnn_chain_step(&c, &info);
        double e = fabs(c.theta[0] - th) / (1 + fabs(th));
        worst = e > worst ? e : worst;
        step_err = fmax(step_err, fabs(info.stepsize - f) / f);
        eval_err += info.n_leapfrog != evals;
        evals = 0;
        iters++;
    }
    CHECK_VERBOSE(worst < 1e-12 && step_err < 1e-14 && eval_err == 0 && iters == (int)(n_burn + S),
                  "%s path = the paper's update from the same random numbers (burn-in %zu, %zu "
                  "draws, %zu cycles, explore %g%s): worst relative difference %.1e over %d "
                  "iterations, step %.1e, batch counts off %d", sampler, n_burn, S, M, explore,
                  hmc && beta > 0 ? ", beta_hat > 0" : "", worst, iters, step_err, eval_err);
    bnn_chain_free(&c);
    gsl_rng_free(rf.r);
    free(rf.perm);
    free(u);
}

/* ------------------------------------------------------------ stationary moments */

/* Moments of the linear chain x' = A x + b + noise (x = theta, or (theta, v) for sghmc):
 * mean and covariance propagated one update at a time. q is the variance of the noise
 * entering the update (through coefficient c on the batch noise a: q_lo without it, q_hi
 * with the with-replacement variance times n/(n-1), the most the without-replacement
 * epochs' anti-correlated batches can add to any linear function of them). */
typedef struct {
    double m[2], S[2][2];
} lin_moments;

/* One update of either kernel on the conjugate posterior (P, mu), step f; noise variance q
 * in the update's random term (SGLD: into theta; SGHMC: into v). */
static void moments_update(lin_moments *x, int hmc, double P, double mu, double f, double alpha,
                           double q)
{
    if (!hmc) {
        double a = 1 - 0.5 * f * P;
        x->m[0] = a * x->m[0] + 0.5 * f * P * mu;
        x->S[0][0] = a * a * x->S[0][0] + q;
        return;
    }
    /* theta' = theta + v; v' = (1 - alpha) v + f (-P (theta' - mu)) + noise
     *        = -f P theta + (1 - alpha - f P) v + f P mu + noise */
    double A[2][2] = {{1, 1}, {-f * P, 1 - alpha - f * P}}, b[2] = {0, f * P * mu};
    double m0 = A[0][0] * x->m[0] + A[0][1] * x->m[1] + b[0];
    double m1 = A[1][0] * x->m[0] + A[1][1] * x->m[1] + b[1];
    double T[2][2], N[2][2];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            T[i][j] = A[i][0] * x->S[0][j] + A[i][1] * x->S[1][j];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            N[i][j] = T[i][0] * A[j][0] + T[i][1] * A[j][1];
    N[1][1] += q;
    x->m[0] = m0;
    x->m[1] = m1;
    memcpy(x->S, N, sizeof N);
}

/* The draws of one chain of `sampler` on the conjugate posterior (cycles 0: constant step),
 * checked against the exact mean and the variance bounds of the stationary chain. */
static void test_conjugate_constant(const char *sampler, double fP, double alpha,
                                    unsigned long seed)
{
    enum { N = 100, B = 10 };
    double y[N];
    /* the rows' spread sets the batch noise: small, so the variance bounds are tight */
    gmean_data(y, N, 0.7, 0.2, 17);
    gmean g = {N, y, 100.0};
    bnn_density d = gmean_density(&g);
    double P = N + 1 / g.s0, sy = 0;
    for (int i = 0; i < N; i++)
        sy += y[i];
    double mu = sy / P, f = fP / P;
    int hmc = alpha > 0;
    /* the batch noise a_t: with-replacement variance n^2 v_y / B, times n/(n-1) */
    double lam = (double)N * N * pop_var(y, N) / B * N / (N - 1.0);
    double c = hmc ? f : 0.5 * f;   /* a_t's coefficient in the noisy coordinate */
    double q0 = hmc ? 2 * alpha * f : f;
    lin_moments lo = {{mu, 0}, {{0}}}, hi = lo;
    for (int t = 0; t < 200000; t++) {
        moments_update(&lo, hmc, P, mu, f, alpha, q0);
        moments_update(&hi, hmc, P, mu, f, alpha, q0 + c * c * lam);
    }
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = sampler;
    rc.n_burn = 2000;
    rc.n_iter = rc.n_burn + 4000000;
    rc.thin = 20;
    rc.chains = 2;
    rc.threads = 2;
    rc.seed = seed;
    double init[2] = {mu + 1, mu - 1};
    rc.init = init;
    bnn_run_config_set(&rc, "batch", B);
    bnn_run_config_set(&rc, "cycles", 0);
    bnn_run_config_set(&rc, hmc ? "sghmc_lr" : "sgld_step", f);
    if (hmc)
        bnn_run_config_set(&rc, "friction", alpha);
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    if (bnn_run(&d, &rc, &dr, &err) != BNN_OK) {
        CHECK(0, "%s: %s", sampler, err.msg);
        return;
    }
    moments mo = draw_moments(dr, 0);
    double zm = (mo.mean - mu) / mo.mcse_mean;
    double vlo = lo.S[0][0], vhi = hi.S[0][0], vexact = 1 / P;
    int ok_v = mo.var > vlo - 4 * mo.mcse_var && mo.var < vhi + 4 * mo.mcse_var;
    /* the smallest errors the checks detect: 4 MCSE beyond the bounds */
    CHECK_VERBOSE(fabs(zm) < 4 && ok_v,
                  "%s at a constant step (step x precision %.2f, seed %lu): mean %.6f vs exact "
                  "%.6f (z %+.2f; MCSE %.1e = %.2f%% of the sd; the bias is 0 here), var %.5e in "
                  "[%.5e, %.5e] (exact %.5e: the step's bounds %+.2f%%..%+.2f%%; MCSE %.2f%%), "
                  "ESS %.0f", sampler, fP, seed, mo.mean, mu, zm, mo.mcse_mean,
                  100 * mo.mcse_mean / sqrt(vexact), mo.var, vlo, vhi, vexact,
                  100 * (vlo / vexact - 1), 100 * (vhi / vexact - 1), 100 * mo.mcse_var / mo.var,
                  mo.ess);
    bnn_draws_free(dr);
}

/* With cycles on: R independent chains from a start far in the tail; at every kept
 * iteration the chains' mean must be the exact mean of the linear recursion through the
 * schedule (exploration included), and their variance within its bounds. */
static void test_conjugate_cycles(const char *sampler, double f0P, double alpha,
                                  unsigned long seed)
{
    enum { N = 100, B = 10, R = 4000, BURN = 20, S = 240, M = 3 };
    double explore = 0.3;
    double y[N];
    gmean_data(y, N, 0.7, 0.2, 17);
    gmean g = {N, y, 100.0};
    bnn_density d = gmean_density(&g);
    double P = N + 1 / g.s0, sy = 0;
    for (int i = 0; i < N; i++)
        sy += y[i];
    double mu = sy / P, f0 = f0P / P, sd = 1 / sqrt(P);
    int hmc = alpha > 0;
    double lam = (double)N * N * pop_var(y, N) / B * N / (N - 1.0);
    ref_update *u = malloc(100000 * sizeof *u);
    size_t nu = ref_schedule(BURN, S, M, explore, u);
    /* the predicted moments at every iteration's end */
    double *pm = malloc(S * sizeof *pm), *plo = malloc(S * sizeof *plo), *phi = malloc(S * sizeof *phi);
    double th0 = mu + 20 * sd;
    lin_moments lo = {{th0, 0}, {{0}}}, hi = lo;
    size_t it = 0, kept = 0;
    for (size_t i = 0; i < nu; i++) {
        double f = f0 * u[i].factor, c = hmc ? f : 0.5 * f;
        double q0 = u[i].noise ? (hmc ? 2 * alpha * f : f) : 0;
        moments_update(&lo, hmc, P, mu, f, alpha, q0);
        moments_update(&hi, hmc, P, mu, f, alpha, q0 + c * c * lam);
        if (!u[i].ends_iteration)
            continue;
        if (it++ >= BURN) {
            pm[kept] = lo.m[0];
            plo[kept] = lo.S[0][0];
            phi[kept] = hi.S[0][0];
            kept++;
        }
    }
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = sampler;
    rc.n_burn = BURN;
    rc.n_iter = BURN + S;
    rc.chains = R;
    rc.threads = 2;
    rc.seed = seed;
    double *init = malloc(R * sizeof *init);
    for (int r = 0; r < R; r++)
        init[r] = th0;
    rc.init = init;
    bnn_run_config_set(&rc, "batch", B);
    bnn_run_config_set(&rc, "cycles", M);
    bnn_run_config_set(&rc, "explore", explore);
    bnn_run_config_set(&rc, hmc ? "sghmc_lr" : "sgld_step", f0);
    if (hmc)
        bnn_run_config_set(&rc, "friction", alpha);
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    if (bnn_run(&d, &rc, &dr, &err) != BNN_OK || dr->n_kept != S) {
        CHECK(0, "%s: %s", sampler, err.msg);
        free(init);
        return;
    }
    double zmax = 0, vz_lo = 0, vz_hi = 0, vmin_ratio = INFINITY, vmax_ratio = 0;
    for (size_t t = 0; t < S; t++) {
        double m = 0, v = 0;
        for (int r = 0; r < R; r++)
            m += bnn_draw(dr, r, t)[0];
        m /= R;
        for (int r = 0; r < R; r++)
            v += (bnn_draw(dr, r, t)[0] - m) * (bnn_draw(dr, r, t)[0] - m);
        v /= R - 1;
        /* the chains are independent: the mean's SE from the upper variance, the sample
         * variance's sd sqrt(2/(R-1)) of the truth (near-Gaussian draws) */
        double z = (m - pm[t]) / sqrt(phi[t] / R);
        zmax = fmax(zmax, fabs(z));
        double sv = sqrt(2.0 / (R - 1));
        vz_lo = fmin(vz_lo, (v - plo[t]) / (plo[t] * sv));
        vz_hi = fmax(vz_hi, (v - phi[t]) / (phi[t] * sv));
        vmin_ratio = fmin(vmin_ratio, v / plo[t]);
        vmax_ratio = fmax(vmax_ratio, v / phi[t]);
    }
    /* S = 240 iterations each tested: |z| < 4.5 keeps the family's false alarms near 1e-3 */
    CHECK_VERBOSE(zmax < 4.5 && vz_lo > -4.5 && vz_hi < 4.5,
                  "%s with %d cycles (explore %.1f, %d chains from 20 sd out): at each of %d "
                  "iterations the mean = the schedule's exact mean (max |z| %.2f) and the "
                  "variance within its bounds (z below %.2f, above %.2f; ratio to the bounds "
                  "%.3f..%.3f; one iteration's sd of the variance %.1f%%)", sampler, M, explore,
                  R, S, zmax, vz_lo, vz_hi, vmin_ratio, vmax_ratio, 100 * sqrt(2.0 / (R - 1)));
    bnn_draws_free(dr);
    free(init);
    free(u);
    free(pm);
    free(plo);
    free(phi);
}

/* ------------------------------------------------------------ the models' batch densities */

static void test_model_batches(void)
{
    struct {
        const char *name;
        int nn, hidden2, cls, sigmoid_out;
    } cases[] = {{"linear regression", 0, 0, 0, 0}, {"nn regression", 1, 0, 0, 1},
                 {"nn 2 layers tanh", 1, 1, 0, 1}, {"softmax regression", 0, 0, 1, 0},
                 {"nn softmax", 1, 0, 1, 0}, {"nn sigmoid-softmax (study)", 1, 0, 1, 1}};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        size_t n = 60, p = 3;
        bnn_table *t = bnn_table_new(n, p, "batch");
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < p; j++)
                t->x[i * p + j] = gsl_ran_gaussian(r, 1.0);
            t->y[i] = cases[ci].cls ? (double)(i % 3) : 0.3 + 0.2 * t->x[i * p] + 0.1 * gsl_ran_gaussian(r, 1.0);
        }
        bnn_model_spec sp;
        bnn_model_spec_study(&sp, cases[ci].nn, cases[ci].cls ? BNN_TASK_CLASSIFICATION
                                                              : BNN_TASK_REGRESSION, (int)p, 3);
        if (cases[ci].hidden2) {
            sp.n_hidden = 2;
            sp.hidden[0] = 4;
            sp.hidden[1] = 3;
            sp.hidden_act = BNN_ACT_TANH;
        }
        if (cases[ci].cls && cases[ci].sigmoid_out)
            sp.output_act = BNN_ACT_SIGMOID;
        sp.nu1 = 1.5;
        sp.nu2 = 0.5;
        bnn_model *m = NULL;
        bnn_error err = {0};
        if (bnn_model_new(&m, &sp, t, &err) != BNN_OK) {
            CHECK(0, "%s: %s", cases[ci].name, err.msg);
            continue;
        }
        bnn_density d = bnn_model_density(m);
        size_t dim = d.dim;
        double *th = malloc(dim * sizeof *th), *g = malloc(dim * sizeof *g);
        double *gb = malloc(dim * sizeof *gb), *gsum = calloc(dim, sizeof *gsum);
        double *work = malloc(d.work_len * sizeof *work);
        double *bw = malloc(n * d.batch_work * sizeof *bw);
        size_t *rows = malloc(n * sizeof *rows);
        for (size_t j = 0; j < dim; j++)
            th[j] = 0.5 * gsl_ran_gaussian(r, 1.0);
        if (dim > d.n_weights)
            th[dim - 1] = log(0.05);
        double lp = d.logp(d.ctx, work, th, g);
        /* every row once, in order: the full density */
        for (size_t i = 0; i < n; i++)
            rows[i] = i;
        double lb = d.logp_batch(d.ctx, bw, rows, n, th, gb);
        double e_full = fabs(lb - lp) / fabs(lp), eg_full = 0;
        for (size_t j = 0; j < dim; j++)
            eg_full = fmax(eg_full, fabs(gb[j] - g[j]) / (1 + fabs(g[j])));
        /* a partition into 6 shuffled batches of 10: the mean of the estimates is the full
         * density, exactly (the estimator is unbiased) */
        gsl_ran_shuffle(r, rows, n, sizeof *rows);
        double lsum = 0;
        for (size_t b = 0; b < 6; b++) {
            lsum += d.logp_batch(d.ctx, bw, rows + 10 * b, 10, th, gb) / 6;
            for (size_t j = 0; j < dim; j++)
                gsum[j] += gb[j] / 6;
        }
        double e_part = fabs(lsum - lp) / fabs(lp), eg_part = 0;
        for (size_t j = 0; j < dim; j++)
            eg_part = fmax(eg_part, fabs(gsum[j] - g[j]) / (1 + fabs(g[j])));
        /* the batch gradient against central differences of the batch density */
        double l0 = d.logp_batch(d.ctx, bw, rows, 7, th, gb), fd_err = 0;
        (void)l0;
        for (size_t j = 0; j < dim; j++) {
            double h = 1e-5, keep = th[j];
            th[j] = keep + h;
            double up = d.logp_batch(d.ctx, bw, rows, 7, th, NULL);
            th[j] = keep - h;
            double dn = d.logp_batch(d.ctx, bw, rows, 7, th, NULL);
            th[j] = keep;
            double fd = (up - dn) / (2 * h);
            fd_err = fmax(fd_err, fabs(fd - gb[j]) / (1 + fabs(gb[j])));
        }
        CHECK_VERBOSE(e_full < 1e-12 && eg_full < 1e-10 && e_part < 1e-12 && eg_part < 1e-10 &&
                      fd_err < 1e-6,
                      "%-28s batch density: all rows = logp (%.1e, gradient %.1e); mean over a "
                      "partition = logp (%.1e, %.1e); gradient of 7 rows vs differences %.1e",
                      cases[ci].name, e_full, eg_full, e_part, eg_part, fd_err);
        free(th);
        free(g);
        free(gb);
        free(gsum);
        free(work);
        free(bw);
        free(rows);
        bnn_model_free(m);
        bnn_table_free(t);
    }
    gsl_rng_free(r);
}

/* ------------------------------------------------------------ reproducibility, checks */

typedef struct {
    unsigned char *p[4];
    size_t len[4];
    int last;                  /* keep each chain's last checkpoint, else its first */
} ckpt_store;

static bnn_status keep_ckpt(void *user, int chain, const void *bytes, size_t len, bnn_error *err)
{
    ckpt_store *s = user;
    (void)err;
    if (s->last) {
        free(s->p[chain]);
        s->p[chain] = NULL;
    }
    /* the first checkpoint of each chain (after checkpoint_iter iterations), or the last */
    if (!s->p[chain]) {
        s->p[chain] = malloc(len);
        memcpy(s->p[chain], bytes, len);
        s->len[chain] = len;
    }
    return BNN_OK;
}

static void test_reproducible(void)
{
    double y[100];
    gmean_data(y, 100, 1.0, 1.0, 3);
    gmean g = {100, y, 10.0};
    bnn_density d = gmean_density(&g);
    const char *names[] = {"sgld", "sghmc"};
    for (int k = 0; k < 2; k++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = names[k];
        rc.n_iter = 900;
        rc.n_burn = 100;
        rc.chains = 3;
        rc.seed = 9;
        bnn_run_config_set(&rc, "batch", 30);   /* 100 rows: 10 left over each epoch */
        bnn_draws *a = NULL, *b = NULL, *c = NULL;
        rc.threads = 1;
        bnn_run(&d, &rc, &a, NULL);
        rc.threads = 3;
        ckpt_store st = {{0}, {0}, 0};
        rc.checkpoint = keep_ckpt;
        rc.checkpoint_user = &st;
        rc.checkpoint_iter = 437;   /* inside the second cycle's sampling stage */
        bnn_run(&d, &rc, &b, NULL);
        rc.checkpoint = NULL;
        rc.resume = (const void *const *)st.p;
        rc.resume_len = st.len;
        bnn_error err = {0};
        bnn_status s = bnn_run(&d, &rc, &c, &err);
        size_t bytes = (size_t)a->chains * a->n_kept * a->dim * sizeof(double);
        int same_t = b && memcmp(a->theta, b->theta, bytes) == 0;
        int same_r = s == BNN_OK && c && memcmp(a->theta, c->theta, bytes) == 0;
        CHECK_VERBOSE(same_t && same_r, "%s: 1 and 3 threads give bitwise the same draws (%d); "
                      "resumed from a checkpoint at iteration 437, bitwise the same (%d) %s",
                      names[k], same_t, same_r, err.msg);
        bnn_draws_free(a);
        bnn_draws_free(b);
        bnn_draws_free(c);
        for (int i = 0; i < 4; i++)
            free(st.p[i]);
    }
}

/* Extending a cyclical run goes on in cycles of its first cycles' length: a run of 4 cycles
 * of 100 draws extended by 200 iterations is bitwise the run of 6 such cycles. */
static void test_extend(void)
{
    double y[100];
    gmean_data(y, 100, 1.0, 1.0, 3);
    gmean g = {100, y, 10.0};
    bnn_density d = gmean_density(&g);
    const char *names[] = {"sgld", "sghmc"};
    for (int k = 0; k < 2; k++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = names[k];
        rc.n_burn = 50;
        rc.n_iter = 450;
        rc.chains = 2;
        rc.seed = 4;
        bnn_run_config_set(&rc, "batch", 25);
        bnn_run_config_set(&rc, "cycles", 4);
        ckpt_store st = {{0}, {0}, 1};
        rc.checkpoint = keep_ckpt;
        rc.checkpoint_user = &st;
        bnn_draws *a = NULL, *b = NULL, *c = NULL;
        bnn_run(&d, &rc, &a, NULL);
        rc.checkpoint = NULL;
        rc.resume = (const void *const *)st.p;
        rc.resume_len = st.len;
        rc.n_iter = 650;
        bnn_error err = {0};
        bnn_run(&d, &rc, &b, &err);
        rc.resume = NULL;
        bnn_run_config_set(&rc, "cycles", 6);
        bnn_run(&d, &rc, &c, NULL);
        int same = a && b && c && b->n_kept == 600 && c->n_kept == 600;
        for (int ch = 0; same && ch < 2; ch++)
            same = !memcmp(bnn_draw(b, ch, 0), bnn_draw(c, ch, 0), 600 * sizeof(double)) &&
                   !memcmp(bnn_draw(a, ch, 0), bnn_draw(c, ch, 0), 400 * sizeof(double));
        CHECK_VERBOSE(same, "%s: 4 cycles of 100 draws extended by 200 iterations = bitwise 6 "
                      "cycles of 100 from the start %s", names[k], err.msg);
        bnn_draws_free(a);
        bnn_draws_free(b);
        bnn_draws_free(c);
        for (int i = 0; i < 4; i++)
            free(st.p[i]);
    }
}

/* A wall: the batch density is NaN beyond theta = 1.2 (the posterior's mean is about 1, its
 * sd 0.1), so large steps cross it. */
static double wall_batch(const void *ctx, double *work, const size_t *rows, size_t B,
                         const double *th, double *grad)
{
    double lp = gmean_batch(ctx, work, rows, B, th, grad);
    if (th[0] > 1.2) {
        grad[0] = NAN;
        return NAN;
    }
    return lp;
}

/* A non-finite update is refused alone: the chain stays where that update started, says
 * divergent__ = 1, and goes on. */
static void test_refused(void)
{
    double y[100];
    gmean_data(y, 100, 1.0, 1.0, 3);
    gmean g = {100, y, 10.0};
    bnn_density d = gmean_density(&g);
    d.logp_batch = wall_batch;
    const char *names[] = {"sgld", "sghmc"};
    for (int k = 0; k < 2; k++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = names[k];
        rc.n_iter = 2000;
        rc.n_burn = 0;
        bnn_run_config_set(&rc, "batch", 20);
        bnn_run_config_set(&rc, "cycles", 0);
        bnn_run_config_set(&rc, k ? "sghmc_lr" : "sgld_step", k ? 4e-3 : 8e-3);
        bnn_chain c;
        double th0 = 1.0;
        if (bnn_chain_init(&c, bnn_kernel_find(names[k]), &d, &rc, 7, &th0, NULL) != BNN_OK) {
            CHECK(0, "%s: init", names[k]);
            continue;
        }
        int refused = 0, moved = 0, bad = 0, was_refused = 1;
        double prev = th0;
        for (int it = 0; it < 2000; it++) {
            bnn_step_info info = {0};
            int m = bnn_chain_step(&c, &info);
            double th = c.theta[0];
            bad += !isfinite(th) || th > 1.2 || !isfinite(c.lp);
            if (!m) {
                refused++;
                /* the sampling update alone was refused: nothing else ran this iteration */
                bad += th != prev || !info.divergent || info.accept_stat != 0;
            } else {
                moved++;
                /* sghmc's momentum is zeroed by a refusal (and 0 at the start): its next
                 * update takes theta + 0 */
                bad += (th == prev && !(k == 1 && was_refused)) || info.divergent ||
                       info.accept_stat != 1;
                /* audit: sghmc's zeroed momentum: its next update is theta + 0, exactly */
                bad += k == 1 && was_refused && th != prev;
                /* audit: sgld after a refusal evaluates a fresh batch at the kept point */
                bad += k == 0 && info.n_leapfrog != (was_refused ? 2 : 1);
            }
            was_refused = !m;
            prev = th;
        }
        CHECK_VERBOSE(bad == 0 && refused > 20 && moved > 1000,
                      "%s beside a NaN wall: %d updates refused (each one staying put, "
                      "divergent__ 1), %d moved, every draw finite and inside (%d faults)",
                      names[k], refused, moved, bad);
        bnn_chain_free(&c);
    }
}

/* With cycles: an exploration update refused leaves the rest of its iteration to run (the
 * sampling update after it moves), so a refusal never undoes a whole iteration. */
static void test_refused_explore(void)
{
    double y[100];
    gmean_data(y, 100, 1.0, 1.0, 3);
    gmean g = {100, y, 10.0};
    bnn_density d = gmean_density(&g);
    d.logp_batch = wall_batch;
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "sgld";
    rc.n_burn = 0;
    rc.n_iter = 2000;
    bnn_run_config_set(&rc, "batch", 20);
    bnn_run_config_set(&rc, "cycles", 20);
    bnn_run_config_set(&rc, "explore", 0.5);
    /* eps P / 2 = 1.6 at a cycle's start: the noise-free updates overshoot the mean and
     * cross the wall */
    bnn_run_config_set(&rc, "sgld_step", 0.032);
    bnn_chain c;
    double th0 = 0.6;
    if (bnn_chain_init(&c, bnn_kernel_find("sgld"), &d, &rc, 8, &th0, NULL) != BNN_OK) {
        CHECK(0, "init");
        return;
    }
    int both = 0, bad = 0;
    for (int it = 0; it < 2000; it++) {
        bnn_step_info info = {0};
        int m = bnn_chain_step(&c, &info);
        bad += !isfinite(c.theta[0]) || c.theta[0] > 1.2;
        both += m && info.divergent && info.n_leapfrog > 2;
    }
    CHECK_VERBOSE(both > 0 && bad == 0, "sgld: %d cycle starts with an exploration update "
                  "refused and the sampling update moved; every draw finite and inside (%d "
                  "faults)", both, bad);
    bnn_chain_free(&c);
}

/* The defaults' steps for n rows: sgld eps = 0.04/n; sghmc eta = alpha 0.02/n, so that
 * eta/alpha (the overdamped limit's step) is sgld's eps/2, for any friction. */
static void test_defaults(void)
{
    double y[100];
    gmean_data(y, 100, 1.0, 1.0, 3);
    gmean g = {100, y, 10.0};
    bnn_density d = gmean_density(&g);
    double step[3];
    const char *names[3] = {"sgld", "sghmc", "sghmc"};
    for (int k = 0; k < 3; k++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = names[k];
        if (k == 2)
            bnn_run_config_set(&rc, "friction", 0.3);
        bnn_chain c;
        double th0 = 0;
        bnn_step_info info = {0};
        step[k] = NAN;
        if (bnn_chain_init(&c, bnn_kernel_find(names[k]), &d, &rc, 1, &th0, NULL) == BNN_OK) {
            bnn_chain_step(&c, &info);   /* in burn-in: the step at factor 1 */
            step[k] = info.stepsize;
            bnn_chain_free(&c);
        }
    }
    CHECK_VERBOSE(fabs(step[0] - 0.04 / 100) < 1e-18 && fabs(step[1] / 0.1 - step[0] / 2) < 1e-18 &&
                  fabs(step[2] / 0.3 - step[0] / 2) < 1e-18,
                  "default steps on 100 rows: sgld eps %g = 0.04/n; sghmc eta %g at friction 0.1 "
                  "and %g at 0.3: eta/alpha = eps/2", step[0], step[1], step[2]);
}

static void test_checks(void)
{
    double y[100];
    gmean_data(y, 100, 1.0, 1.0, 3);
    gmean g = {100, y, 10.0};
    bnn_density d = gmean_density(&g), plain = d;
    plain.logp_batch = NULL;
    struct {
        const char *sampler, *opt;
        double v;
        bnn_density *d;
        size_t thin;
        const char *says;
    } cases[] = {{"sgld", "batch", 101, &d, 1, "more than the 100 training rows"},
                 {"sgld", "cycles", 251, &d, 1, "fewer than 2 kept draws"},
                 {"sghmc", "cycles", 126, &d, 2, "fewer than 2 kept draws"},
                 {"sghmc", "beta_hat", 0.1, &d, 1, "below --friction"},
                 {"sghmc", "friction", 0, &d, 1, "must be positive"},
                 {"sgld", "cycles", 4, &plain, 1, "minibatch form"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bnn_run_config rc;
        bnn_run_config_default(&rc);
        rc.sampler = cases[i].sampler;
        rc.n_iter = 1000;
        rc.n_burn = 500;
        rc.thin = cases[i].thin;
        bnn_run_config_set(&rc, cases[i].opt, cases[i].v);
        bnn_error err = {0};
        bnn_status s = bnn_run_check(cases[i].d, &rc, &err);
        CHECK_VERBOSE(s == BNN_EINVAL && strstr(err.msg, cases[i].says), "%s --%s %g refused: %s",
                      cases[i].sampler, cases[i].opt, cases[i].v, err.msg);
    }
    /* 250 cycles of 2 draws: allowed */
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = "sgld";
    rc.n_iter = 1000;
    rc.n_burn = 500;
    bnn_run_config_set(&rc, "cycles", 250);
    CHECK(bnn_run_check(&d, &rc, NULL) == BNN_OK, "250 cycles of 2 draws must be allowed");
    CHECK(bnn_kernel_find("sgld")->approximate && bnn_kernel_find("sghmc")->approximate &&
          !bnn_kernel_find("nuts")->approximate, "sgld and sghmc, and they only, are approximate");
}

int main(void)
{
    (void)moments_z;
    test_plan();
    /* the reference path: schedules with S mod M != 0, explore 0.8 and 0.9, beta_hat > 0 */
    test_reference_path("sgld", 5, 40, 3, 0.25, 2e-3, 0, 0, 11);
    test_reference_path("sgld", 0, 23, 2, 0.8, 2e-3, 0, 0, 12);
    test_reference_path("sgld", 3, 30, 3, 0.9, 1e-3, 0, 0, 13);
    test_reference_path("sgld", 4, 30, 0, 0.25, 2e-3, 0, 0, 14);
    test_reference_path("sghmc", 5, 40, 3, 0.25, 2e-4, 0.1, 0, 21);
    test_reference_path("sghmc", 0, 23, 2, 0.8, 2e-4, 0.2, 0.05, 22);
    test_reference_path("sghmc", 3, 31, 4, 0.9, 1e-4, 0.1, 0.02, 23);
    test_model_batches();
    /* different seeds for the two samplers */
    test_conjugate_constant("sgld", 0.05, 0, 101);
    test_conjugate_constant("sghmc", 0.01, 0.2, 202);
    test_conjugate_cycles("sgld", 0.05, 0, 303);
    test_conjugate_cycles("sghmc", 0.005, 0.2, 404);
    test_reproducible();
    test_extend();
    test_defaults();
    test_refused();
    test_refused_explore();
    test_checks();
    return check_done("test_sg");
}
