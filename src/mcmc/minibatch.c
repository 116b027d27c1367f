/* minibatch.c — the machinery of the minibatch kernels (sgld, sghmc): the cyclical step
 * plan, shuffled epochs of rows, batch estimates of log p, the state's checkpoint. The plan's
 * definition is in minibatch.h. Everything here is integer arithmetic but the cosine, so
 * cycle boundaries and exploration counts are exact for any explore share. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "minibatch.h"

#define PPM 1000000u

void bnn_sg_plan_make(bnn_sg_plan *p, size_t n_iter, size_t n_burn, size_t cycles,
                      double explore)
{
    p->n_burn = n_burn;
    p->S = n_iter > n_burn ? n_iter - n_burn : 0;
    p->M = cycles;
    /* explore is checked to [0, 0.99]; read to the nearest millionth, so 0.8 is 800000
     * exactly (0.8 * L in floating point is not always 0.8 L) */
    long long r = llround(explore * PPM);
    p->explore_ppm = r < 0 ? 0 : r >= (long long)PPM ? PPM - 1 : (uint64_t)r;
}

size_t bnn_sg_explore_count(size_t s, uint64_t explore_ppm)
{
    /* s <= 10^9 iterations and R < 10^6: the product fits in 64 bits */
    return (size_t)((uint64_t)s * explore_ppm / (PPM - explore_ppm));
}

double bnn_sg_cosine(size_t j, size_t L)
{
    return 0.5 * (cos(M_PI * (double)j / (double)L) + 1.0);
}

void bnn_sg_locate(const bnn_sg_plan *p, size_t k, bnn_sg_where *w)
{
    memset(w, 0, sizeof *w);
    w->factor = 1.0;
    if (k < p->n_burn || p->M == 0 || p->S < p->M)
        return;
    /* the first S mod M cycles have q + 1 sampling iterations, the others (and any past the
     * plan) q */
    size_t t = k - p->n_burn, q = p->S / p->M, r = p->S % p->M, s;
    if (t < r * (q + 1)) {
        w->cycle = t / (q + 1);
        w->index = t % (q + 1);
        s = q + 1;
    } else {
        size_t u = t - r * (q + 1);
        w->cycle = r + u / q;
        w->index = u % q;
        s = q;
    }
    w->cyclic = 1;
    w->n_sample = s;
    w->n_explore = bnn_sg_explore_count(s, p->explore_ppm);
    w->explore_now = w->index == 0 ? w->n_explore : 0;
    w->factor = bnn_sg_cosine(w->n_explore + w->index, w->n_explore + s);
}

/* ------------------------------------------------------------ checks and state */

bnn_status bnn_sg_check(const bnn_density *d, const bnn_run_config *cfg, const char *name,
                        bnn_error *err)
{
    const bnn_kernel *k = bnn_kernel_find(name);
    if (!d->logp_batch || d->n_rows == 0 || d->batch_work == 0)
        return bnn_fail(err, BNN_EINVAL, "%s needs a density with a minibatch form (bnn_density."
                        "logp_batch over n_rows rows); this one has none", name);
    double B = bnn_run_config_get(cfg, k, "batch");
    if (B > (double)d->n_rows)
        return bnn_fail(err, BNN_EINVAL, "--batch %.0f: more than the %zu training rows", B,
                        d->n_rows);
    double M = bnn_run_config_get(cfg, k, "cycles");
    size_t S = cfg->n_iter > cfg->n_burn ? cfg->n_iter - cfg->n_burn : 0;
    /* every cycle keeps at least two draws: with one, every kept draw would sit at the same
     * phase of its cycle (the first sampling step after exploration, the largest) */
    if (M > 0 && (double)S < M * 2.0 * (double)cfg->thin)
        return bnn_fail(err, BNN_EINVAL, "--cycles %.0f: %zu sampling iterations (after burn-in) "
                        "give each cycle fewer than 2 kept draws at --thin %zu; need at least "
                        "%.0f, or fewer cycles", M, S, cfg->thin, M * 2.0 * (double)cfg->thin);
    return BNN_OK;
}

bnn_status bnn_sg_init(bnn_chain *c, int with_momentum, double step0, bnn_error *err)
{
    const bnn_density *d = c->d;
    double *v;
    bnn_sg_state *s = bnn_chain_state(c, sizeof *s, with_momentum ? 3 : 2, &v, err);
    if (!s)
        return BNN_ENOMEM;
    size_t n = d->dim;
    s->prop = v;
    s->gprop = v + n;
    s->v = with_momentum ? v + 2 * n : NULL;
    const bnn_kernel *k = c->k;
    size_t B = (size_t)c->opt[SG_OPT_BATCH];
    bnn_sg_plan_make(&s->plan, c->cfg->n_iter, c->cfg->n_burn, (size_t)c->opt[SG_OPT_CYCLES],
                     c->opt[SG_OPT_EXPLORE]);
    s->step0 = step0;
    s->mb.n = d->n_rows;
    s->mb.B = B;
    s->mb.pos = d->n_rows;   /* the first batch shuffles */
    s->mb.perm = malloc(d->n_rows * sizeof *s->mb.perm);
    s->batch_work = malloc(B * d->batch_work * sizeof *s->batch_work);
    if (!s->mb.perm || !s->batch_work)
        return bnn_fail(err, BNN_ENOMEM, "%s: out of memory for %zu rows", k->name, d->n_rows);
    for (size_t i = 0; i < d->n_rows; i++)
        s->mb.perm[i] = i;
    return BNN_OK;
}

void bnn_sg_free(bnn_chain *c)
{
    bnn_sg_state *s = c->state;
    free(s->mb.perm);
    free(s->batch_work);
}

/* the schedule's clock, the epoch (its permutation and place), the plan (an extended run
 * keeps the cycles of the run it extends), the momentum */
void bnn_sg_save(const bnn_chain *c, bnn_wbuf *b)
{
    const bnn_sg_state *s = c->state;
    bnn_wbuf_put(b, &s->k, sizeof s->k);
    bnn_wbuf_put(b, &s->plan, sizeof s->plan);
    bnn_wbuf_put(b, &s->mb.n, sizeof s->mb.n);
    bnn_wbuf_put(b, &s->mb.pos, sizeof s->mb.pos);
    bnn_wbuf_put(b, s->mb.perm, s->mb.n * sizeof *s->mb.perm);
    if (s->v)
        bnn_wbuf_put(b, s->v, c->d->dim * sizeof *s->v);
}

bnn_status bnn_sg_load(bnn_chain *c, bnn_rbuf *r, bnn_error *err)
{
    bnn_sg_state *s = c->state;
    bnn_sg_plan plan;
    size_t n = 0, pos = 0;
    bnn_rbuf_get(r, &s->k, sizeof s->k);
    bnn_rbuf_get(r, &plan, sizeof plan);
    bnn_rbuf_get(r, &n, sizeof n);
    bnn_rbuf_get(r, &pos, sizeof pos);
    if (r->bad || n != s->mb.n || pos > n || plan.n_burn != s->plan.n_burn ||
        plan.M != s->plan.M || plan.explore_ppm != s->plan.explore_ppm)
        return bnn_fail(err, BNN_EINVAL, "checkpoint: the %s state does not fit this run (rows, "
                        "burn-in or cycles differ)", c->k->name);
    s->plan = plan;
    s->mb.pos = pos;
    bnn_rbuf_get(r, s->mb.perm, n * sizeof *s->mb.perm);
    if (s->v)
        bnn_rbuf_get(r, s->v, c->d->dim * sizeof *s->v);
    if (r->bad)
        return bnn_fail(err, BNN_EINVAL, "checkpoint: the %s state is cut short", c->k->name);
    for (size_t i = 0; i < n; i++)
        if (s->mb.perm[i] >= n)
            return bnn_fail(err, BNN_EINVAL, "checkpoint: the %s state's row %zu is out of range",
                            c->k->name, s->mb.perm[i]);
    return BNN_OK;
}

/* ------------------------------------------------------------ batches */

static const size_t *next_batch(bnn_sg_batches *b, gsl_rng *rng)
{
    if (b->B > b->n - b->pos) {
        gsl_ran_shuffle(rng, b->perm, b->n, sizeof *b->perm);
        b->pos = 0;
    }
    const size_t *rows = b->perm + b->pos;
    b->pos += b->B;
    return rows;
}

int bnn_sg_eval(bnn_chain *c, const double *theta, double *lp, double *grad)
{
    bnn_sg_state *s = c->state;
    const bnn_density *d = c->d;
    const size_t *rows = next_batch(&s->mb, c->rng);
    *lp = d->logp_batch(d->ctx, s->batch_work, rows, s->mb.B, theta, grad);
    s->evals++;
    /* one sum tells whether any entry is inf or NaN (a sum of finite values can overflow
     * only past 1e308, itself a diverged update) */
    double sum = *lp;
    for (size_t j = 0; j < d->dim; j++)
        sum += grad[j] + theta[j];
    return isfinite(sum);
}

int bnn_sg_ready(bnn_chain *c)
{
    if (c->grad_valid)
        return 1;
    double lp;
    if (!bnn_sg_eval(c, c->theta, &lp, c->grad)) {
        ((bnn_sg_state *)c->state)->refused++;
        return 0;
    }
    c->lp = lp;
    c->grad_valid = 1;
    return 1;
}

void bnn_sg_info(bnn_chain *c, bnn_step_info *info, int moved, double step)
{
    const bnn_sg_state *s = c->state;
    info->accept_stat = moved ? 1.0 : 0.0;
    info->stepsize = step;
    info->treedepth = 0;
    info->n_leapfrog = s->evals;
    info->divergent = s->refused > 0;
    info->energy = -c->lp;
}
