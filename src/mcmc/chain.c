/* chain.c — one chain: its common state (position, log density, gradient cache, random
 * stream, step size and metric), the kernel's settings resolved from the run's, and the
 * calls into the kernel. Names no kernel. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

bnn_status bnn_chain_init(bnn_chain *c, const bnn_kernel *k, const bnn_density *d,
                          const bnn_run_config *cfg, unsigned long seed, const double *theta0,
                          bnn_error *err)
{
    memset(c, 0, sizeof *c);
    /* bnn_run has checked this already; a direct caller (the tests) gets the same refusal */
    if (k->ops->check) {
        bnn_status st = k->ops->check(d, cfg, err);
        if (st)
            return st;
    }
    c->d = d;
    c->cfg = cfg;
    c->k = k;
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
    memcpy(c->theta, theta0, n * sizeof(double));
    c->lp = d->logp(d->ctx, c->work, c->theta, NULL);
    if (!isfinite(c->lp)) {
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
    return c->k->ops->step(c, info);
}

void bnn_chain_set_state(bnn_chain *c, const double *theta, double lp)
{
    memcpy(c->theta, theta, c->d->dim * sizeof(double));
    c->lp = lp;
    c->grad_valid = 0;
    if (c->k->ops->reset)
        c->k->ops->reset(c);
}
