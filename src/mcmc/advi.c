/* advi.c — automatic differentiation variational inference (Kucukelbir et al. 2017) as
 * Stan implements it (stan-dev/stan src/stan/variational/advi.hpp and
 * families/normal_meanfield.hpp, normal_fullrank.hpp): Gaussian q on the unconstrained
 * vector, reparametrisation-trick ELBO gradients, Stan's adaptive step-size sequence, its
 * eta search and its relative-tolerance stopping rule. Uses only the bnn_density interface:
 * it is neither a kernel nor a model. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "../core/core.h"
#include "advi_internal.h"

/* advi.hpp (adapt_eta, stochastic_gradient_ascent): tau = 1, pre-factor 0.9, post-factor
 * 0.1; adapt_eta's eta_sequence; normal_meanfield / normal_fullrank::calc_grad's n_retries
 * (a gradient fails after n_retries * grad_samples dropped draws). */
#define ADVI_TAU 1.0
#define ADVI_PRE 0.9
#define ADVI_POST 0.1
#define ADVI_RETRIES 10
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
    /* advi.hpp: eta_scaled = eta / sqrt(iter_counter) (the paper's iter^(-1/2 + eps) is not
     * what Stan runs); history += g^2 at iteration 1 from a zeroed history, else
     * pre * history + post * g^2; then variational += eta_scaled * g / (tau + sqrt(h)) */
    double eta_scaled = eta / sqrt((double)iter);
    for (size_t i = 0; i < n; i++) {
        double g2 = g[i] * g[i];
        s[i] = iter == 1 ? g2 : ADVI_PRE * s[i] + ADVI_POST * g2;
        x[i] += eta_scaled * g[i] / (ADVI_TAU + sqrt(s[i]));
    }
}

double bnn_advi_rel_change(double elbo, double elbo_prev)
{
    return fabs((elbo_prev - elbo) / elbo);
}

size_t bnn_advi_cb_size(size_t iter, size_t eval_elbo)
{
    /* advi.hpp stochastic_gradient_ascent: static_cast<int>(max(0.1 * max_iterations /
     * eval_elbo, 2.0)) */
    return (size_t)fmax(0.1 * (double)iter / (double)eval_elbo, 2.0);
}

int bnn_advi_converged(double *buf, size_t cap, size_t *count, size_t *head, double rel,
                       double tol, double *mean, double *median)
{
    buf[*head] = rel;
    *head = (*head + 1) % cap;
    if (*count < cap)
        (*count)++;
    /* std::accumulate over the boost::circular_buffer: oldest first, from 0.0 */
    size_t oldest = (*head + cap - *count) % cap;
    double sum = 0, *scratch = buf + cap;
    for (size_t i = 0; i < *count; i++) {
        scratch[i] = buf[(oldest + i) % cap];
        sum += scratch[i];
    }
    *mean = sum / (double)*count;
    /* advi.hpp circ_buff_median: nth_element at size / 2, no averaging of two middles */
    bnn_select_kth(scratch, *count, *count / 2);
    *median = scratch[*count / 2];
    return (*mean < tol ? 1 : 0) | (*median < tol ? 2 : 0);
}

int bnn_advi_eta_next(size_t k, double eta, double elbo, double elbo_init, double *elbo_best,
                      double *eta_best)
{
    /* advi.hpp adapt_eta, after the adapt_iter steps of candidate k: stop at the first
     * candidate worse than the one before, provided that one beat the start; at the last
     * candidate keep it when it beats the start, else every candidate failed */
    if (elbo < *elbo_best && *elbo_best > elbo_init)
        return 1;
    if (k + 1 < N_ETA) {
        *elbo_best = elbo;
        *eta_best = eta;
        return 0;
    }
    if (elbo > elbo_init) {
        *eta_best = eta;
        return 2;
    }
    return -1;
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
    /* normal_meanfield::transform: eta * exp(omega) + mu; normal_fullrank::transform:
     * L * eta + mu (the product first, then the mean) */
    for (size_t i = 0; i < dim; i++) {
        if (fam == BNN_VI_MEANFIELD) {
            zeta[i] = z[i] * exp(phi[dim + i]) + phi[i];
        } else {
            double v = 0;
            for (size_t j = 0; j <= i; j++)
                v += phi[lidx(dim, i, j)] * z[j];
            zeta[i] = v + phi[i];
        }
    }
}

double bnn_advi_entropy(bnn_vi_family fam, size_t dim, const double *phi)
{
    const double log_two_pi = log(2 * M_PI);
    if (fam == BNN_VI_MEANFIELD) {
        /* normal_meanfield::entropy: 0.5 dim (1 + log 2 pi) + omega.sum() */
        double sum = 0;
        for (size_t i = 0; i < dim; i++)
            sum += phi[dim + i];
        return 0.5 * (double)dim * (1.0 + log_two_pi) + sum;
    }
    /* normal_fullrank::entropy: 0.5 (1 + log 2 pi) dim + sum log |L_dd|, skipping a zero
     * L_dd (Stan's guard: the entropy stays finite on a degenerate L) */
    double h = 0.5 * (1.0 + log_two_pi) * (double)dim;
    for (size_t i = 0; i < dim; i++) {
        double l = fabs(phi[lidx(dim, i, i)]);
        if (l != 0.0)
            h += log(l);
    }
    return h;
}

/* One base draw z of normal_*::calc_grad's Monte Carlo loop: zeta = transform(z), then
 * logp and its gradient g at zeta. A draw whose log density or gradient is not finite is
 * dropped (Stan: the exception of stan::model::gradient or check_finite("Gradient of mu");
 * our densities signal a domain error by -INFINITY): returns -1 and adds nothing. Else adds
 * g to mu's part of grad and g_i z_i (meanfield) or g_i z_j, j <= i (fullrank) to the
 * rest, writes logp in *lp and returns 0. */
static int add_draw(bnn_vi_family fam, const bnn_density *d, double *work, const double *phi,
                    const double *z, double *zeta, double *g, double *grad, double *lp)
{
    size_t dim = d->dim;
    bnn_advi_transform(fam, dim, phi, z, zeta);
    double v = d->logp(d->ctx, work, zeta, g);
    if (!isfinite(v))
        return -1;
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(g[i]))
            return -1;
    for (size_t i = 0; i < dim; i++) {
        grad[i] += g[i];
        if (fam == BNN_VI_MEANFIELD)
            grad[dim + i] += g[i] * z[i];
        else
            for (size_t j = 0; j <= i; j++)
                grad[lidx(dim, i, j)] += g[i] * z[j];
    }
    *lp = v;
    return 0;
}

/* The end of calc_grad: the mean over the n kept draws, then the entropy's gradient:
 * meanfield omega_grad .* exp(omega) + 1 (the chain rule through sigma = exp(omega));
 * fullrank L_grad's diagonal + 1 / L_dd (L's diagonal is unconstrained, as in Stan). */
static void grad_finish(bnn_vi_family fam, size_t dim, const double *phi, size_t n, double *grad)
{
    size_t np = bnn_advi_nparam(fam, dim);
    for (size_t i = 0; i < np; i++)
        grad[i] /= (double)n;
    for (size_t i = 0; i < dim; i++) {
        if (fam == BNN_VI_MEANFIELD)
            grad[dim + i] = grad[dim + i] * exp(phi[dim + i]) + 1.0;
        else
            grad[lidx(dim, i, i)] += 1.0 / phi[lidx(dim, i, i)];
    }
}

double bnn_advi_elbo_grad(bnn_vi_family fam, const bnn_density *d, double *work,
                          const double *phi, const double *z, size_t n, double *zeta,
                          double *g, double *grad)
{
    size_t dim = d->dim;
    memset(grad, 0, bnn_advi_nparam(fam, dim) * sizeof(double));
    double lp_sum = 0, lp;
    for (size_t k = 0; k < n; k++) {
        if (add_draw(fam, d, work, phi, z + k * dim, zeta, g, grad, &lp))
            return NAN;
        lp_sum += lp;
    }
    grad_finish(fam, dim, phi, n, grad);
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

/* advi.hpp calc_ELBO: the mean logp over elbo_samples draws of q with a finite logp, plus
 * the entropy. A draw with a non-finite logp is dropped and replaced by a fresh one; when
 * elbo_samples draws in all have been dropped, returns -1 (Stan's domain_error "The number
 * of dropped evaluations has reached its maximum amount"). */
static int calc_elbo(advi *a, double *elbo)
{
    size_t n = a->cfg->elbo_samples, dropped = 0;
    double sum = 0;
    for (size_t i = 0; i < n;) {
        draw_normal(a->rng, a->z, a->dim);
        bnn_advi_transform(a->cfg->algorithm, a->dim, a->phi, a->z, a->zeta);
        double lp = a->d->logp(a->d->ctx, a->work, a->zeta, NULL);
        if (isfinite(lp)) {
            sum += lp;
            i++;
        } else if (++dropped >= n) {
            return -1;
        }
    }
    *elbo = sum / (double)n + bnn_advi_entropy(a->cfg->algorithm, a->dim, a->phi);
    return 0;
}

/* normal_*::calc_grad: grad_samples kept base draws, each fresh; a dropped draw is
 * replaced; -1 once ADVI_RETRIES * grad_samples draws have been dropped. */
static int calc_grad(advi *a)
{
    size_t n = a->cfg->grad_samples, dropped = 0;
    memset(a->grad, 0, a->np * sizeof(double));
    for (size_t i = 0; i < n;) {
        double lp;
        draw_normal(a->rng, a->z, a->dim);
        if (add_draw(a->cfg->algorithm, a->d, a->work, a->phi, a->z, a->zeta, a->g, a->grad,
                     &lp) == 0)
            i++;
        else if (++dropped >= ADVI_RETRIES * n)
            return -1;
    }
    grad_finish(a->cfg->algorithm, a->dim, a->phi, n, a->grad);
    return 0;
}

/* print_progress.hpp as adapt_eta calls it (start 0, refresh adapt_iter): the first
 * iteration, every adapt_iter-th and the last of the adapt_iter * 5. */
static void adapt_progress(const advi *a, size_t m)
{
    size_t finish = a->cfg->adapt_iter * N_ETA, refresh = a->cfg->adapt_iter;
    if (m == finish || m == 1 || m % refresh == 0)
        say(a, "Iteration: %*zu / %zu [%3zu%%]  (Adaptation)",
            (int)ceil(log10((double)finish)), m, finish, 100 * m / finish);
}

/* advi.hpp adapt_eta: for each candidate, largest first, adapt_iter steps from the start
 * (a failed gradient counts as zero: a smaller eta will be tried), then its ELBO (a failed
 * ELBO counts as -DBL_MAX); bnn_advi_eta_next decides. */
static bnn_status adapt_eta(advi *a, const double *theta0, double *eta_out, bnn_error *err)
{
    say(a, "Begin eta adaptation.");
    init_phi(a, theta0);
    double elbo_init;
    if (calc_elbo(a, &elbo_init))
        return bnn_fail(err, BNN_ENUMERIC,
                        "variational: cannot compute the ELBO using the initial variational "
                        "distribution (%zu of its draws had a non-finite log density); the model "
                        "may be either severely ill-conditioned or misspecified",
                        a->cfg->elbo_samples);
    double elbo_best = -DBL_MAX, eta_best = 0.0;
    for (size_t k = 0; k < N_ETA; k++) {
        double eta = ETA_SEQUENCE[k];
        for (size_t it = 1; it <= a->cfg->adapt_iter; it++) {
            adapt_progress(a, k * a->cfg->adapt_iter + it);
            if (calc_grad(a))
                memset(a->grad, 0, a->np * sizeof(double));
            bnn_advi_step(a->phi, a->s, a->grad, a->np, it, eta);
        }
        double elbo;
        if (calc_elbo(a, &elbo))
            elbo = -DBL_MAX;
        init_phi(a, theta0);
        int next = bnn_advi_eta_next(k, eta, elbo, elbo_init, &elbo_best, &eta_best);
        if (next == 0)
            continue;
        if (next < 0)
            break;
        /* Stan prints eta_best before it takes the last candidate's eta (next == 2), so it
         * names the wrong value there; we name the eta chosen */
        say(a, "Success! Found best value [eta = %g]%s", eta_best,
            next == 1 && k + 1 < N_ETA ? " earlier than expected." : ".");
        say(a, "%s", "");
        *eta_out = eta_best;
        return BNN_OK;
    }
    return bnn_fail(err, BNN_ENUMERIC,
                    "variational: all proposed step-sizes failed; the model may be either "
                    "severely ill-conditioned or misspecified");
}

/* advi.hpp stochastic_gradient_ascent */
static bnn_status ascend(advi *a, double eta, bnn_vi_result *r, bnn_error *err)
{
    const bnn_vi_config *c = a->cfg;
    size_t cap = bnn_advi_cb_size(c->iter, c->eval_elbo), count = 0, head = 0;
    double *buf = bnn_zalloc(2 * cap);   /* the buffer, then scratch for the median */
    if (!buf)
        return bnn_fail(err, BNN_ENOMEM, "variational: out of memory");
    say(a, "Begin stochastic gradient ascent.");
    say(a, "  iter             ELBO   delta_ELBO_mean   delta_ELBO_med   notes ");
    double elbo = 0, elbo_best = -DBL_MAX;
    bnn_status st = BNN_OK;
    for (size_t it = 1; it <= c->iter; it++) {
        if (calc_grad(a)) {
            st = bnn_fail(err, BNN_ENUMERIC,
                          "variational: the number of dropped evaluations of the gradient has "
                          "reached its maximum amount (%zu) at iteration %zu; the model may be "
                          "either severely ill-conditioned or misspecified",
                          ADVI_RETRIES * c->grad_samples, it);
            break;
        }
        bnn_advi_step(a->phi, a->s, a->grad, a->np, it, eta);
        r->iterations = it;
        int stop = 0;
        if (it % c->eval_elbo == 0) {
            double prev = elbo;
            if (calc_elbo(a, &elbo)) {
                st = bnn_fail(err, BNN_ENUMERIC,
                              "variational: the number of dropped evaluations of the ELBO has "
                              "reached its maximum amount (%zu) at iteration %zu; the model may "
                              "be either severely ill-conditioned or misspecified",
                              c->elbo_samples, it);
                break;
            }
            /* deliberate: Stan carries on with an ELBO that overflowed (it then never
             * converges); we stop with an error */
            if (!isfinite(elbo)) {
                st = bnn_fail(err, BNN_ENUMERIC, "variational: non-finite ELBO at iteration %zu",
                              it);
                break;
            }
            if (elbo > elbo_best)
                elbo_best = elbo;
            double mean, med;
            int conv = bnn_advi_converged(buf, cap, &count, &head,
                                          bnn_advi_rel_change(elbo, prev), c->tol_rel_obj,
                                          &mean, &med);
            size_t k = r->n_elbo++;
            r->elbo_iter[k] = it;
            r->elbo[k] = elbo;
            r->rel_mean[k] = mean;
            r->rel_median[k] = med;
            int diverging = it > 10 * c->eval_elbo && (med > 0.5 || mean > 0.5);
            say(a, "  %4zu  %15.3f  %16.3f  %15.3f%s%s%s", it, elbo, mean, med,
                conv & 1 ? "   MEAN ELBO CONVERGED" : "",
                conv & 2 ? "   MEDIAN ELBO CONVERGED" : "",
                diverging ? "   MAY BE DIVERGING... INSPECT ELBO" : "");
            if (conv) {
                r->converged = conv & 1 ? 1 : 2;
                stop = 1;
                if (bnn_advi_rel_change(elbo, elbo_best) > 0.05) {
                    say(a, "Informational Message: The ELBO at a previous iteration is larger "
                           "than the ELBO upon convergence!");
                    say(a, "This variational approximation may not have converged to a good "
                           "optimum.");
                }
            }
        }
        /* Stan says this at the last iteration even when it also converged there */
        if (it == c->iter) {
            say(a, "Informational Message: The maximum number of iterations is reached! The "
                   "algorithm may not have converged.");
            say(a, "This variational approximation is not guaranteed to be meaningful.");
            stop = 1;
        }
        if (stop)
            break;
    }
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
    a.z = bnn_zalloc(dim);
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
    say(&a, "%s", "");
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
