/* advi.c — automatic differentiation variational inference (Kucukelbir et al. 2017) as
 * Stan implements it (stan-dev/stan src/stan/variational/advi.hpp and
 * families/normal_meanfield.hpp, normal_fullrank.hpp): Gaussian q on the unconstrained
 * vector, reparametrisation-trick ELBO gradients, Stan's adaptive step-size sequence, its
 * eta search and its relative-tolerance stopping rule. Uses only the bnn_density interface:
 * it is neither a kernel nor a model. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "../core/core.h"
#include "advi_internal.h"

/* advi.hpp: tau = 1, pre-factor 0.9, post-factor 0.1; adapt_eta's sequence */
#define ADVI_TAU 1.0
#define ADVI_PRE 0.9
#define ADVI_POST 0.1
static const double ETA_SEQUENCE[] = {100, 10, 1, 0.1, 0.01};
enum { N_ETA = sizeof ETA_SEQUENCE / sizeof ETA_SEQUENCE[0] };

void bnn_vi_config_default(bnn_vi_config *c)
{
    memset(c, 0, sizeof *c);
    c->algorithm = BNN_VI_MEANFIELD;
    c->iter = 10000;
    c->grad_samples = 1;
    c->elbo_samples = 100;
    c->eta = 1.0;
    c->adapt = 1;
    c->adapt_iter = 50;
    c->tol_rel_obj = 0.01;
    c->eval_elbo = 100;
    c->output_samples = 1000;
}

void bnn_advi_step(double *x, double *s, const double *g, size_t n, size_t iter, double eta)
{
    /* advi.hpp: eta_scaled = eta / sqrt(iter_counter) (the paper's iter^(-1/2 + 1e-16)) */
    double eta_scaled = eta / sqrt((double)iter);
    for (size_t i = 0; i < n; i++) {
        s[i] = iter == 1 ? g[i] * g[i] : ADVI_PRE * s[i] + ADVI_POST * g[i] * g[i];
        x[i] += eta_scaled * g[i] / (ADVI_TAU + sqrt(s[i]));
    }
}

double bnn_advi_rel_change(double elbo, double elbo_prev)
{
    return fabs((elbo_prev - elbo) / elbo);
}

int bnn_advi_converged(double *buf, size_t cap, size_t *count, size_t *head, double rel,
                       double tol, double *mean, double *median)
{
    buf[*head] = rel;
    *head = (*head + 1) % cap;
    if (*count < cap)
        (*count)++;
    double sum = 0, *scratch = buf + cap;
    for (size_t i = 0; i < *count; i++) {
        sum += buf[i];
        scratch[i] = buf[i];
    }
    *mean = sum / (double)*count;
    /* advi.hpp circ_buff_median: nth_element at size / 2, no averaging of two middles */
    bnn_select_kth(scratch, *count, *count / 2);
    *median = scratch[*count / 2];
    return (*mean < tol ? 1 : 0) | (*median < tol ? 2 : 0);
}

size_t bnn_advi_nparam(bnn_vi_family fam, size_t dim)
{
    return fam == BNN_VI_MEANFIELD ? 2 * dim : dim + dim * (dim + 1) / 2;
}

/* fullrank: L(i, j), j <= i, in phi after mu */
static size_t lidx(size_t dim, size_t i, size_t j)
{
    return dim + i * (i + 1) / 2 + j;
}

void bnn_advi_transform(bnn_vi_family fam, size_t dim, const double *phi, const double *z,
                        double *zeta)
{
    for (size_t i = 0; i < dim; i++) {
        if (fam == BNN_VI_MEANFIELD) {
            zeta[i] = z[i] * exp(phi[dim + i]) + phi[i];
        } else {
            double v = phi[i];
            for (size_t j = 0; j <= i; j++)
                v += phi[lidx(dim, i, j)] * z[j];
            zeta[i] = v;
        }
    }
}

double bnn_advi_entropy(bnn_vi_family fam, size_t dim, const double *phi)
{
    double h = 0.5 * (double)dim * (1.0 + log(2 * M_PI));
    for (size_t i = 0; i < dim; i++)
        h += fam == BNN_VI_MEANFIELD ? phi[dim + i] : log(fabs(phi[lidx(dim, i, i)]));
    return h;
}

double bnn_advi_elbo_grad(bnn_vi_family fam, const bnn_density *d, double *work,
                          const double *phi, const double *z, size_t n, double *zeta,
                          double *g, double *grad)
{
    size_t dim = d->dim, np = bnn_advi_nparam(fam, dim);
    memset(grad, 0, np * sizeof(double));
    double lp_sum = 0;
    for (size_t k = 0; k < n; k++) {
        const double *zk = z + k * dim;
        bnn_advi_transform(fam, dim, phi, zk, zeta);
        double lp = d->logp(d->ctx, work, zeta, g);
        if (!isfinite(lp))
            return NAN;
        lp_sum += lp;
        for (size_t i = 0; i < dim; i++) {
            if (!isfinite(g[i]))
                return NAN;
            grad[i] += g[i];
            if (fam == BNN_VI_MEANFIELD)
                grad[dim + i] += g[i] * zk[i];
            else
                for (size_t j = 0; j <= i; j++)
                    grad[lidx(dim, i, j)] += g[i] * zk[j];
        }
    }
    for (size_t i = 0; i < np; i++)
        grad[i] /= (double)n;
    /* the entropy's gradient: d/d omega_i = 1 after the chain rule through exp(omega)
     * (normal_meanfield::calc_grad); d/d L_ii = 1 / L_ii (normal_fullrank::calc_grad) */
    for (size_t i = 0; i < dim; i++) {
        if (fam == BNN_VI_MEANFIELD) {
            grad[dim + i] = grad[dim + i] * exp(phi[dim + i]) + 1.0;
        } else {
            grad[lidx(dim, i, i)] += 1.0 / phi[lidx(dim, i, i)];
        }
    }
    return lp_sum / (double)n + bnn_advi_entropy(fam, dim, phi);
}

/* ---- the run ---- */

typedef struct {
    const bnn_density *d;
    const bnn_vi_config *cfg;
    size_t dim, np;
    gsl_rng *rng;
    double *work, *z, *zeta, *g, *grad, *s, *phi;
} advi;

static void say(const advi *a, const char *fmt, ...) BNN_PRINTF(2, 3);
static void say(const advi *a, const char *fmt, ...)
{
    if (!a->cfg->progress)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    a->cfg->progress(a->cfg->progress_ctx, line);
}

static void draw_normal(gsl_rng *r, double *z, size_t n)
{
    for (size_t i = 0; i < n; i++)
        z[i] = gsl_ran_ugaussian(r);
}

/* q's initial parameters (advi.hpp's Q(cont_params)): mu = theta0, omega = 0 or L = I */
static void init_phi(const advi *a, const double *theta0)
{
    memset(a->phi, 0, a->np * sizeof(double));
    memcpy(a->phi, theta0, a->dim * sizeof(double));
    if (a->cfg->algorithm == BNN_VI_FULLRANK)
        for (size_t i = 0; i < a->dim; i++)
            a->phi[lidx(a->dim, i, i)] = 1.0;
}

/* advi.hpp calc_ELBO: mean logp over elbo_samples fresh draws of q plus the entropy; NaN
 * when a logp is not finite (Stan's domain error) */
static double calc_elbo(advi *a)
{
    double sum = 0;
    for (size_t k = 0; k < a->cfg->elbo_samples; k++) {
        draw_normal(a->rng, a->z, a->dim);
        bnn_advi_transform(a->cfg->algorithm, a->dim, a->phi, a->z, a->zeta);
        double lp = a->d->logp(a->d->ctx, a->work, a->zeta, NULL);
        if (!isfinite(lp))
            return NAN;
        sum += lp;
    }
    return sum / (double)a->cfg->elbo_samples + bnn_advi_entropy(a->cfg->algorithm, a->dim, a->phi);
}

/* advi.hpp calc_ELBO_grad: grad_samples fresh base draws; 0 when finite */
static int calc_grad(advi *a)
{
    draw_normal(a->rng, a->z, a->dim * a->cfg->grad_samples);
    double e = bnn_advi_elbo_grad(a->cfg->algorithm, a->d, a->work, a->phi, a->z,
                                  a->cfg->grad_samples, a->zeta, a->g, a->grad);
    return isfinite(e) ? 0 : -1;
}

/* advi.hpp adapt_eta: adapt_iter steps from the start for each candidate, largest first;
 * stops at the first candidate worse than the best once the best beats the start. */
static bnn_status adapt_eta(advi *a, const double *theta0, double *eta_out, bnn_error *err)
{
    init_phi(a, theta0);
    double elbo_init = calc_elbo(a);
    if (!isfinite(elbo_init))
        return bnn_fail(err, BNN_ENUMERIC,
                        "variational: cannot compute the ELBO at the initial approximation");
    say(a, "Begin eta adaptation.");
    double elbo_best = -INFINITY, eta_best = ETA_SEQUENCE[0];
    for (size_t k = 0; k < N_ETA; k++) {
        double eta = ETA_SEQUENCE[k];
        init_phi(a, theta0);
        for (size_t it = 1; it <= a->cfg->adapt_iter; it++) {
            /* Stan: a gradient that fails is zero (a smaller eta will be tried) */
            if (calc_grad(a))
                memset(a->grad, 0, a->np * sizeof(double));
            bnn_advi_step(a->phi, a->s, a->grad, a->np, it, eta);
        }
        double elbo = calc_elbo(a);
        if (!isfinite(elbo))
            elbo = -INFINITY;
        if (elbo < elbo_best && elbo_best > elbo_init) {
            say(a, "Success! Found best value [eta = %g] earlier than expected.", eta_best);
            *eta_out = eta_best;
            return BNN_OK;
        }
        if (k + 1 < N_ETA) {
            elbo_best = elbo;
            eta_best = eta;
        } else if (elbo > elbo_init) {
            say(a, "Success! Found best value [eta = %g].", eta);
            *eta_out = eta;
            return BNN_OK;
        }
    }
    return bnn_fail(err, BNN_EINVAL,
                    "variational: all proposed step-sizes failed; the model may be severely "
                    "ill-conditioned or misspecified");
}

/* advi.hpp stochastic_gradient_ascent */
static bnn_status ascend(advi *a, double eta, bnn_vi_result *r, bnn_error *err)
{
    const bnn_vi_config *c = a->cfg;
    double cbf = 0.1 * (double)c->iter / (double)c->eval_elbo;
    size_t cap = cbf > 2.0 ? (size_t)cbf : 2, count = 0, head = 0;
    double *buf = bnn_zalloc(2 * cap);   /* the buffer, then scratch for the median */
    if (!buf)
        return bnn_fail(err, BNN_ENOMEM, "variational: out of memory");
    say(a, "Begin stochastic gradient ascent.");
    say(a, "  iter             ELBO   delta_ELBO_mean   delta_ELBO_med   notes ");
    double elbo = 0;
    bnn_status st = BNN_OK;
    for (size_t it = 1; it <= c->iter; it++) {
        if (calc_grad(a)) {
            st = bnn_fail(err, BNN_ENUMERIC,
                          "variational: non-finite log density or gradient at iteration %zu", it);
            break;
        }
        bnn_advi_step(a->phi, a->s, a->grad, a->np, it, eta);
        r->iterations = it;
        if (it % c->eval_elbo)
            continue;
        double prev = elbo;
        elbo = calc_elbo(a);
        if (!isfinite(elbo)) {
            st = bnn_fail(err, BNN_ENUMERIC, "variational: non-finite ELBO at iteration %zu", it);
            break;
        }
        double mean, med;
        int conv = bnn_advi_converged(buf, cap, &count, &head, bnn_advi_rel_change(elbo, prev),
                                      c->tol_rel_obj, &mean, &med);
        size_t k = r->n_elbo++;
        r->elbo_iter[k] = it;
        r->elbo[k] = elbo;
        r->rel_mean[k] = mean;
        r->rel_median[k] = med;
        const char *note = conv & 1 ? "MEAN ELBO CONVERGED"
                         : conv & 2 ? "MEDIAN ELBO CONVERGED"
                         : it > 10 * c->eval_elbo && (med > 0.5 || mean > 0.5)
                             ? "MAY BE DIVERGING... INSPECT ELBO" : "";
        say(a, "  %4zu  %15.3f  %16.3f  %15.3f   %s", it, elbo, mean, med, note);
        if (conv) {
            r->converged = conv & 1 ? 1 : 2;
            break;
        }
    }
    if (st == BNN_OK && !r->converged)
        say(a, "Informational Message: The maximum number of iterations is reached! The "
               "algorithm may not have converged.");
    free(buf);
    return st;
}

void bnn_vi_result_free(bnn_vi_result *r)
{
    if (!r)
        return;
    free(r->mean);
    free(r->sd);
    free(r->L);
    free(r->elbo_iter);
    free(r->elbo);
    free(r->rel_mean);
    free(r->rel_median);
    free(r->draws);
    free(r->log_p);
    free(r->log_g);
    free(r);
}

static bnn_status check_config(const bnn_density *d, const bnn_vi_config *c, bnn_error *err)
{
    if (!d || !d->logp || d->dim == 0)
        return bnn_fail(err, BNN_EINVAL, "variational: the density has no log density or no dimension");
    if (c->algorithm != BNN_VI_MEANFIELD && c->algorithm != BNN_VI_FULLRANK)
        return bnn_fail(err, BNN_EINVAL, "variational: unknown algorithm");
    if (c->iter < 1 || c->grad_samples < 1 || c->elbo_samples < 1 || c->eval_elbo < 1)
        return bnn_fail(err, BNN_EINVAL,
                        "variational: iter, grad_samples, elbo_samples and eval_elbo must be >= 1");
    if (!(c->eta > 0) || !isfinite(c->eta))
        return bnn_fail(err, BNN_EINVAL, "variational: eta must be positive and finite");
    if (c->adapt && c->adapt_iter < 1)
        return bnn_fail(err, BNN_EINVAL, "variational: adapt_iter must be >= 1");
    if (!(c->tol_rel_obj > 0))
        return bnn_fail(err, BNN_EINVAL, "variational: tol_rel_obj must be positive");
    return BNN_OK;
}

/* q's summaries and output_samples draws (CmdStan's closing loop in advi::run: log_p__ the
 * density at the draw, log_g__ = -|z|^2 / 2, normal_*::calc_log_g) */
static void finish(advi *a, bnn_vi_result *r)
{
    size_t dim = a->dim;
    for (size_t i = 0; i < dim; i++) {
        r->mean[i] = a->phi[i];
        if (a->cfg->algorithm == BNN_VI_MEANFIELD) {
            r->sd[i] = exp(a->phi[dim + i]);
        } else {
            double v = 0;
            for (size_t j = 0; j <= i; j++) {
                double l = a->phi[lidx(dim, i, j)];
                r->L[i * dim + j] = l;
                v += l * l;
            }
            r->sd[i] = sqrt(v);
        }
    }
    for (size_t k = 0; k < r->n_draws; k++) {
        double *x = r->draws + k * dim, lg = 0;
        draw_normal(a->rng, a->z, dim);
        for (size_t i = 0; i < dim; i++)
            lg -= 0.5 * a->z[i] * a->z[i];
        bnn_advi_transform(a->cfg->algorithm, dim, a->phi, a->z, x);
        r->log_p[k] = a->d->logp(a->d->ctx, a->work, x, NULL);
        r->log_g[k] = lg;
    }
}

bnn_status bnn_vi_run(const bnn_density *d, const double *theta0, const bnn_vi_config *cfg,
                      bnn_vi_result **out, bnn_error *err)
{
    *out = NULL;
    bnn_status st = check_config(d, cfg, err);
    if (st)
        return st;
    bnn_gsl_setup();
    size_t dim = d->dim, np = bnn_advi_nparam(cfg->algorithm, dim);
    size_t n_eval = cfg->iter / cfg->eval_elbo + 1;
    advi a = {.d = d, .cfg = cfg, .dim = dim, .np = np};
    a.rng = gsl_rng_alloc(gsl_rng_mt19937);
    a.work = bnn_zalloc(d->work_len + 1);
    a.z = bnn_zalloc(dim * (cfg->grad_samples > 1 ? cfg->grad_samples : 1));
    a.zeta = bnn_zalloc(dim);
    a.g = bnn_zalloc(dim);
    a.grad = bnn_zalloc(np);
    a.s = bnn_zalloc(np);
    a.phi = bnn_zalloc(np);
    bnn_vi_result *r = calloc(1, sizeof *r);
    if (r) {
        r->algorithm = cfg->algorithm;
        r->dim = dim;
        r->n_draws = cfg->output_samples;
        r->mean = bnn_zalloc(dim);
        r->sd = bnn_zalloc(dim);
        r->L = cfg->algorithm == BNN_VI_FULLRANK ? bnn_zalloc(dim * dim) : NULL;
        r->elbo_iter = calloc(n_eval, sizeof(size_t));
        r->elbo = bnn_zalloc(n_eval);
        r->rel_mean = bnn_zalloc(n_eval);
        r->rel_median = bnn_zalloc(n_eval);
        r->draws = bnn_zalloc(r->n_draws * dim + 1);
        r->log_p = bnn_zalloc(r->n_draws + 1);
        r->log_g = bnn_zalloc(r->n_draws + 1);
    }
    if (!a.rng || !a.work || !a.z || !a.zeta || !a.g || !a.grad || !a.s || !a.phi || !r ||
        !r->mean || !r->sd || (cfg->algorithm == BNN_VI_FULLRANK && !r->L) || !r->elbo_iter ||
        !r->elbo || !r->rel_mean || !r->rel_median || !r->draws || !r->log_p || !r->log_g) {
        st = bnn_fail(err, BNN_ENOMEM, "variational: out of memory");
        goto done;
    }
    gsl_rng_set(a.rng, (unsigned long)cfg->seed);
    r->eta = cfg->eta;
    if (cfg->adapt && (st = adapt_eta(&a, theta0, &r->eta, err)) != BNN_OK)
        goto done;
    init_phi(&a, theta0);
    memset(a.s, 0, np * sizeof(double));
    if ((st = ascend(&a, r->eta, r, err)) != BNN_OK)
        goto done;
    say(&a, "Drawing a sample of size %zu from the approximate posterior... ", r->n_draws);
    finish(&a, r);
    say(&a, "COMPLETED.");
done:
    if (st) {
        bnn_vi_result_free(r);
        r = NULL;
    }
    if (a.rng)
        gsl_rng_free(a.rng);
    free(a.work);
    free(a.z);
    free(a.zeta);
    free(a.g);
    free(a.grad);
    free(a.s);
    free(a.phi);
    *out = r;
    return st;
}
