/* chain.c — one chain: its common state (position, log density, gradient cache, random
 * stream, step size and metric), the kernel's settings resolved from the run's, and the
 * calls into the kernel. Names no kernel. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "hamiltonian.h"

/* A dense metric's matrices, in one block: the inverse metric and its Cholesky factor (both
 * the identity to start), the window's covariance sums, a vector of scratch. */
static bnn_status dense_init(bnn_chain *c, bnn_error *err)
{
    size_t n = c->d->dim;
    /* n = 0 (a direct bnn_chain_init; bnn_run refuses it) must not divide by 0; the + 1
     * keeps calloc from returning NULL for an empty block */
    if (n && n > SIZE_MAX / sizeof(double) / 4 / n)
        return bnn_fail(err, BNN_ENOMEM, "out of memory for a dense metric of dimension %zu", n);
    double *b = calloc(3 * n * n + n + 1, sizeof(double));
    if (!b)
        return bnn_fail(err, BNN_ENOMEM, "out of memory for a dense metric of dimension %zu", n);
    c->inv_metric_dense = b;
    c->metric_chol = b + n * n;
    c->va.m2 = b + 2 * n * n;
    c->metric_tmp = b + 3 * n * n;
    for (size_t j = 0; j < n; j++)
        c->inv_metric_dense[j * n + j] = c->metric_chol[j * n + j] = 1.0;
    c->phase = &bnn_phase_dense;
    return BNN_OK;
}

bnn_status bnn_noise_step_check(const bnn_kernel *k, const bnn_density *d,
                                const bnn_run_config *cfg, bnn_error *err)
{
    if (cfg->noise_step == BNN_NOISE_STEP_NONE)
        return BNN_OK;
    if (cfg->noise_step != BNN_NOISE_STEP_GIBBS)
        return bnn_fail(err, BNN_EINVAL, "run: noise step %d is not none (0) or gibbs (1)",
                        cfg->noise_step);
    /* the weights' move must leave eta alone: only a kernel with a metric can (a 0 entry) */
    if (!k->adapts)
        return bnn_fail(err, BNN_EINVAL, "--noise-step gibbs needs a sampler with a metric "
                        "(mala, hmc or nuts), not %s", k->name);
    /* a dense metric would need eta's row and column frozen too: not built */
    if (cfg->metric != BNN_METRIC_DIAG)
        return bnn_fail(err, BNN_EINVAL, "--noise-step gibbs works with the diagonal metric "
                        "only, not --metric dense");
    const bnn_gaussian_noise *nz = d->noise;
    if (!nz || !nz->sse || nz->eta >= d->dim)
        return bnn_fail(err, BNN_EINVAL, "--noise-step gibbs needs a regression with Gaussian "
                        "noise (this density has no noise variance tau2 to draw)");
    return BNN_OK;
}

void bnn_noise_draw(bnn_chain *c)
{
    const bnn_gaussian_noise *nz = c->d->noise;
    double sse = nz->sse(c->d->ctx, c->work, c->theta);
    /* a sum of squares is >= 0, but the linear model's (y'y - 2 w'Z'y + w'Z'Zw) can round
     * a hair below 0 at an exact fit */
    double shape = nz->nu1 + 0.5 * (double)nz->n_rows, rate = nz->nu2 + 0.5 * fmax(sse, 0.0);
    /* a non-finite SSE (overflowed weights), or a rate of 0 (nu2 = 0 and an exact fit: the
     * conditional is improper) gives no tau^2: eta stays, a valid if idle move */
    if (!isfinite(sse) || !(rate > 0) || !isfinite(rate))
        return;
    double eta = -log(gsl_ran_gamma(c->rng, shape, 1.0 / rate));
    if (isfinite(eta))   /* 1 / rate overflows for a subnormal rate */
        c->theta[nz->eta] = eta;
}

static bnn_status chain_init(bnn_chain *c, const bnn_kernel *k, const bnn_density *d,
                             const bnn_run_config *cfg, unsigned long seed,
                             const double *theta0, int restoring, bnn_error *err)
{
    memset(c, 0, sizeof *c);
    c->restoring = restoring;
    /* bnn_run has checked this already; a direct caller (the tests) gets the same refusal */
    if (k->ops->check) {
        bnn_status st = k->ops->check(d, cfg, err);
        if (st)
            return st;
    }
    if (cfg->metric == BNN_METRIC_DENSE && !k->dense_metric)
        return bnn_fail(err, BNN_EINVAL, "run: sampler %s has no dense metric (hmc and nuts "
                        "have)", k->name);
    bnn_status nst = bnn_noise_step_check(k, d, cfg, err);
    if (nst)
        return nst;
    c->d = d;
    c->cfg = cfg;
    c->k = k;
    c->phase = &bnn_phase_diag;
    for (size_t i = 0; i < BNN_MAX_OPTIONS && k->options && k->options[i].name; i++)
        c->opt[i] = bnn_run_config_get(cfg, k, k->options[i].name);
    size_t n = d->dim;
    c->rng = gsl_rng_alloc(gsl_rng_mt19937);
    c->work = malloc((d->work_len ? d->work_len : 1) * sizeof(double));
    c->buf = malloc(5 * n * sizeof(double));
    if (!c->rng || !c->work || !c->buf) {
        bnn_chain_free(c);
        return bnn_fail(err, BNN_ENOMEM, "out of memory for a chain of dimension %zu", n);
    }
    gsl_rng_set(c->rng, seed);
    double *b = c->buf;
    double **vecs[] = {&c->theta, &c->grad, &c->inv_metric, &c->va.mean, &c->va.m2};
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++, b += n)
        *vecs[i] = b;
    for (size_t j = 0; j < n; j++) {
        c->inv_metric[j] = 1.0;
        c->va.mean[j] = c->va.m2[j] = 0;
    }
    if (cfg->metric == BNN_METRIC_DENSE && dense_init(c, err) != BNN_OK) {
        bnn_chain_free(c);
        return BNN_ENOMEM;
    }
    /* the noise step: an inverse metric of 0 freezes eta in the kernel's move (hamiltonian.h,
     * kernel_mala.c) and adaptation keeps it 0 (adapt.c) */
    if (cfg->noise_step == BNN_NOISE_STEP_GIBBS)
        c->inv_metric[d->noise->eta] = 0.0;
    memcpy(c->theta, theta0, n * sizeof(double));
    c->lp = d->logp(d->ctx, c->work, c->theta, NULL);
    if (!isfinite(c->lp) && !restoring) {
        /* Stan refuses such a start too; every later test would compare with it */
        double lp = c->lp;
        bnn_chain_free(c);
        return bnn_fail(err, BNN_ENUMERIC, "the log density at the starting point is %g, not "
                        "finite (check --init or the data)", lp);
    }
    bnn_status st = BNN_OK;
    if (k->ops->init && (st = k->ops->init(c, err)) != BNN_OK) {
        bnn_chain_free(c);
        return st;
    }
    if (k->adapts && (st = bnn_adapt_init(c, err)) != BNN_OK) {
        bnn_chain_free(c);
        return st;
    }
    return BNN_OK;
}

bnn_status bnn_chain_init(bnn_chain *c, const bnn_kernel *k, const bnn_density *d,
                          const bnn_run_config *cfg, unsigned long seed, const double *theta0,
                          bnn_error *err)
{
    return chain_init(c, k, d, cfg, seed, theta0, 0, err);
}

bnn_status bnn_chain_init_restore(bnn_chain *c, const bnn_kernel *k, const bnn_density *d,
                                  const bnn_run_config *cfg, const double *theta0,
                                  bnn_error *err)
{
    return chain_init(c, k, d, cfg, 1, theta0, 1, err);
}

bnn_status bnn_chain_set_tuning(bnn_chain *c, double eps, const double *inv_metric,
                                bnn_error *err)
{
    size_t n = c->d->dim, len = c->inv_metric_dense ? n * n : n;
    for (size_t j = 0; j < len; j++)
        if (!isfinite(inv_metric[j]))
            return bnn_fail(err, BNN_EINVAL, "the inverse metric's entry %zu is %g, not finite",
                            j + 1, inv_metric[j]);
    /* a 0 on the diagonal freezes that coordinate for good (a metric from a run with the
     * noise step has one for eta): refused, not silently kept */
    int gibbs = c->cfg->noise_step == BNN_NOISE_STEP_GIBBS;
    for (size_t j = 0; j < n; j++) {
        double v = inv_metric[c->inv_metric_dense ? j * n + j : j];
        if (!(v > 0) && !(gibbs && j == c->d->noise->eta))
            return bnn_fail(err, BNN_EINVAL, "the inverse metric's diagonal entry %zu is %g, not "
                            "positive (a run with --noise-step gibbs has 0 for eta)", j + 1, v);
    }
    c->eps = eps;
    if (c->inv_metric_dense) {
        memcpy(c->inv_metric_dense, inv_metric, n * n * sizeof(double));
        bnn_status st = bnn_metric_dense_factor(c, err);
        if (st)
            return st;
    } else {
        memcpy(c->inv_metric, inv_metric, n * sizeof(double));
    }
    /* the noise step's eta stays frozen whatever the metric came from */
    if (c->cfg->noise_step == BNN_NOISE_STEP_GIBBS)
        c->inv_metric[c->d->noise->eta] = 0.0;
    return BNN_OK;
}

void bnn_chain_free(bnn_chain *c)
{
    if (c->rng)
        gsl_rng_free(c->rng);
    if (c->k && c->k->ops->free && c->state)
        c->k->ops->free(c);
    free(c->state);
    free(c->search);
    free(c->work);
    free(c->buf);
    free(c->inv_metric_dense);
    memset(c, 0, sizeof *c);
}

void *bnn_chain_state(bnn_chain *c, size_t bytes, size_t nvec, double **vecs, bnn_error *err)
{
    size_t head = (bytes + 63) / 64 * 64;   /* the vectors start on a cache line */
    size_t n = c->d->dim;
    if (nvec > (SIZE_MAX - head) / sizeof(double) / (n ? n : 1)) {
        bnn_fail(err, BNN_ENOMEM, "out of memory for a chain of dimension %zu", n);
        return NULL;
    }
    char *s = calloc(1, head + nvec * n * sizeof(double));
    if (!s) {
        bnn_fail(err, BNN_ENOMEM, "out of memory for a chain of dimension %zu", n);
        return NULL;
    }
    if (vecs)
        *vecs = (double *)(s + head);
    c->state = s;
    return s;
}

int bnn_chain_step(bnn_chain *c, bnn_step_info *info)
{
    int moved = c->k->ops->step(c, info);
    if (c->cfg->noise_step == BNN_NOISE_STEP_GIBBS) {
        /* tau^2 | weights, then the state's log density and gradient at the new eta (the
         * next move starts from the cache) */
        bnn_noise_draw(c);
        c->lp = c->d->logp(c->d->ctx, c->work, c->theta, c->grad);
        c->grad_valid = 1;
    }
    return moved;
}

void bnn_chain_set_state(bnn_chain *c, const double *theta, double lp)
{
    /* pt re-sets a replica's own state after a ladder move (theta == c->theta): memcpy of a
     * block onto itself is undefined behaviour */
    if (theta != c->theta)
        memcpy(c->theta, theta, c->d->dim * sizeof(double));
    c->lp = lp;
    c->grad_valid = 0;
    if (c->k->ops->reset)
        c->k->ops->reset(c);
}
