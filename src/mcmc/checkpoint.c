/* checkpoint.c — a chain's whole state as bytes and back (bnn_run_config.checkpoint and
 * .resume): what a chain that goes on from it needs to make bitwise the draws it would have
 * made uninterrupted.
 *
 * Saved: the random stream (GSL's state bytes), the position, its log density and the
 * cached gradient (bitwise: pt sets a replica's log density from a sum after an exchange,
 * which a fresh evaluation need not reproduce in the last bit), the step size, the metric
 * (and its Cholesky factor), dual averaging and the metric's windows, then what the kernel
 * keeps across transitions (its save op; pt: its ladder and every replica). A kernel
 * without a save op keeps nothing across transitions but caches of the state, which its
 * reset op drops and its next transition recomputes exactly. The layout is this build's,
 * in native byte order: a checkpoint resumes on the same build and machine type. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define CHAIN_TAG 0x4e494843u   /* "CHIN" */

/* What the chain's transitions depend on besides its state: a checkpoint of a chain with
 * other settings is refused, not continued as another sampler. */
typedef struct {
    char kernel[32];
    double opt[BNN_MAX_OPTIONS];
    int metric, adapt, adapt_metric, noise_step;
    double target_accept, stepsize;
} chain_settings;

static void settings_of(const bnn_chain *c, chain_settings *s)
{
    memset(s, 0, sizeof *s);   /* padding too: the same chain gives the same bytes */
    snprintf(s->kernel, sizeof s->kernel, "%s", c->k->name);
    memcpy(s->opt, c->opt, sizeof s->opt);
    s->metric = (int)c->cfg->metric;
    s->adapt = c->cfg->adapt;
    s->adapt_metric = c->cfg->adapt_metric;
    s->noise_step = c->cfg->noise_step;
    s->target_accept = c->cfg->target_accept;
    s->stepsize = c->cfg->stepsize;
}

/* GSL's mt19937 state is {unsigned long mt[624]; int mti;}, and its next draw reads mt[mti]
 * when mti < 624: a damaged mti would read outside the array. */
static int rng_state_ok(const gsl_rng *r)
{
    if (r->type != gsl_rng_mt19937)
        return 1;
    int mti;
    memcpy(&mti, (const char *)gsl_rng_state(r) + 624 * sizeof(unsigned long), sizeof mti);
    return mti >= 0 && mti <= 624;
}

void bnn_wbuf_put(bnn_wbuf *b, const void *x, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, x, n);
    b->len += n;
}

int bnn_rbuf_get(bnn_rbuf *r, void *x, size_t n)
{
    if (r->bad || n > r->len - r->pos) {
        r->bad = 1;
        return -1;
    }
    memcpy(x, r->p + r->pos, n);
    r->pos += n;
    return 0;
}

/* one scalar or array each way */
#define PUT(b, x) bnn_wbuf_put(b, &(x), sizeof(x))
#define GET(r, x) bnn_rbuf_get(r, &(x), sizeof(x))

void bnn_chain_save(const bnn_chain *c, bnn_wbuf *b)
{
    size_t n = c->d->dim, dense = c->inv_metric_dense != NULL;
    unsigned tag = CHAIN_TAG;
    size_t rng_size = gsl_rng_size(c->rng);
    chain_settings set;
    settings_of(c, &set);
    PUT(b, tag);
    PUT(b, set);
    PUT(b, n);
    PUT(b, dense);
    PUT(b, rng_size);
    bnn_wbuf_put(b, gsl_rng_state(c->rng), rng_size);
    bnn_wbuf_put(b, c->theta, n * sizeof(double));
    PUT(b, c->lp);
    bnn_wbuf_put(b, c->grad, n * sizeof(double));
    PUT(b, c->grad_valid);
    PUT(b, c->eps);
    bnn_wbuf_put(b, c->inv_metric, n * sizeof(double));
    if (dense) {
        bnn_wbuf_put(b, c->inv_metric_dense, n * n * sizeof(double));
        bnn_wbuf_put(b, c->metric_chol, n * n * sizeof(double));
    }
    PUT(b, c->da);
    const bnn_var_adapt *v = &c->va;
    PUT(b, v->on);
    PUT(b, v->n_warmup);
    PUT(b, v->init_buffer);
    PUT(b, v->term_buffer);
    PUT(b, v->base_window);
    PUT(b, v->counter);
    PUT(b, v->window_size);
    PUT(b, v->next_window);
    PUT(b, v->n);
    bnn_wbuf_put(b, v->mean, n * sizeof(double));
    bnn_wbuf_put(b, v->m2, (dense ? n * n : n) * sizeof(double));
    PUT(b, c->adapting);
    if (c->k->ops->save)
        c->k->ops->save(c, b);
}

int bnn_chain_saved_theta(bnn_rbuf r, size_t n, double *theta)
{
    unsigned tag;
    chain_settings set;
    size_t n_saved, dense, rng_size;
    GET(&r, tag);
    GET(&r, set);
    GET(&r, n_saved);
    GET(&r, dense);
    GET(&r, rng_size);
    if (r.bad || tag != CHAIN_TAG || n_saved != n || rng_size > r.len - r.pos)
        return -1;
    r.pos += rng_size;
    return bnn_rbuf_get(&r, theta, n * sizeof(double));
}

bnn_status bnn_chain_load(bnn_chain *c, bnn_rbuf *r, bnn_error *err)
{
    size_t n = c->d->dim, dense = c->inv_metric_dense != NULL, n_saved = 0, dense_saved = 0;
    size_t rng_size = 0;
    unsigned tag = 0;
    chain_settings set, now;
    settings_of(c, &now);
    GET(r, tag);
    GET(r, set);
    GET(r, n_saved);
    GET(r, dense_saved);
    GET(r, rng_size);
    if (r->bad || tag != CHAIN_TAG)
        return bnn_fail(err, BNN_EINVAL, "checkpoint: no chain state where one should be");
    set.kernel[sizeof set.kernel - 1] = '\0';
    if (memcmp(&set, &now, sizeof set) != 0)
        return bnn_fail(err, BNN_EINVAL, "checkpoint: a chain of %s with other settings (the "
                        "kernel's, the metric, adaptation or the noise step) than this run's %s",
                        set.kernel, now.kernel);
    if (n_saved != n || dense_saved != dense || rng_size != gsl_rng_size(c->rng))
        return bnn_fail(err, BNN_EINVAL, "checkpoint: a chain of dimension %zu with a %s "
                        "metric, not %zu and %s", n_saved, dense_saved ? "dense" : "diagonal",
                        n, dense ? "dense" : "diagonal");
    bnn_rbuf_get(r, gsl_rng_state(c->rng), rng_size);
    if (!r->bad && !rng_state_ok(c->rng))
        return bnn_fail(err, BNN_EINVAL, "checkpoint: a damaged random-number state");
    bnn_rbuf_get(r, c->theta, n * sizeof(double));
    GET(r, c->lp);
    bnn_rbuf_get(r, c->grad, n * sizeof(double));
    GET(r, c->grad_valid);
    GET(r, c->eps);
    bnn_rbuf_get(r, c->inv_metric, n * sizeof(double));
    if (dense) {
        bnn_rbuf_get(r, c->inv_metric_dense, n * n * sizeof(double));
        bnn_rbuf_get(r, c->metric_chol, n * n * sizeof(double));
    }
    GET(r, c->da);
    bnn_var_adapt *v = &c->va;
    GET(r, v->on);
    GET(r, v->n_warmup);
    GET(r, v->init_buffer);
    GET(r, v->term_buffer);
    GET(r, v->base_window);
    GET(r, v->counter);
    GET(r, v->window_size);
    GET(r, v->next_window);
    GET(r, v->n);
    bnn_rbuf_get(r, v->mean, n * sizeof(double));
    bnn_rbuf_get(r, v->m2, (dense ? n * n : n) * sizeof(double));
    GET(r, c->adapting);
    if (r->bad)
        return bnn_fail(err, BNN_EINVAL, "checkpoint: a chain's state is cut short");
    if (c->k->ops->load)
        return c->k->ops->load(c, r, err);
    if (c->k->ops->reset)
        c->k->ops->reset(c);
    return BNN_OK;
}
