/* kernel_slice.c — univariate slice sampling with stepping out and shrinkage (Neal 2003,
 * "Slice sampling", Ann. Statist. 31, figs. 3 and 5), one coordinate after another. Needs
 * no gradient and no tuning of an acceptance rate; every move is accepted. Costs a few log
 * densities per coordinate: for low-dimensional models (the linear ones) and as a check
 * of the others. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "kernel.h"

enum { WIDTH, MAX_STEPS };

static const bnn_option options[] = {
    [WIDTH] = {"width", BNN_OPT_POSITIVE, 1.0, 0, 0, "initial width of each slice interval"},
    [MAX_STEPS] = {"max_steps", BNN_OPT_INT, 20, 1, 1000,
                   "stepping-out limit: the interval grows to at most max_steps widths"},
    {0}};

static const char *const columns[] = {"n_evals__", NULL};

/* Shrinking stops here: only a density that is -inf or NaN almost everywhere near the
 * state gets so far, and the coordinate then keeps its value. */
enum { MAX_SHRINK = 200 };

typedef struct {
    double *x;               /* the point whose log density is evaluated */
    size_t evals;
} slice_state;

static bnn_status slice_init(bnn_chain *c, bnn_error *err)
{
    double *v;
    slice_state *s = bnn_chain_state(c, sizeof *s, 1, &v, err);
    if (!s)
        return BNN_ENOMEM;
    s->x = v;
    return BNN_OK;
}

/* log p with coordinate j of s->x set to v (NaN counts as outside the slice) */
static double lp_at(bnn_chain *c, slice_state *s, size_t j, double v)
{
    s->x[j] = v;
    s->evals++;
    double lp = c->d->logp(c->d->ctx, c->work, s->x, NULL);
    return isnan(lp) ? -INFINITY : lp;
}

/* One update of coordinate j: Neal's stepping out, then shrinkage. */
static void update(bnn_chain *c, slice_state *s, size_t j)
{
    double x0 = c->theta[j], w = c->opt[WIDTH];
    double y = c->lp - gsl_ran_exponential(c->rng, 1.0);   /* log of the slice's height */
    double L = x0 - w * gsl_rng_uniform(c->rng), R = L + w;
    long m = (long)c->opt[MAX_STEPS];
    long J = (long)floor((double)m * gsl_rng_uniform(c->rng)), K = m - 1 - J;
    while (J-- > 0 && lp_at(c, s, j, L) > y)
        L -= w;
    while (K-- > 0 && lp_at(c, s, j, R) > y)
        R += w;
    for (int t = 0; t < MAX_SHRINK; t++) {
        double x1 = L + gsl_rng_uniform(c->rng) * (R - L);
        double lp = lp_at(c, s, j, x1);
        if (lp > y) {
            c->theta[j] = x1;
            c->lp = lp;
            return;
        }
        if (x1 < x0)
            L = x1;
        else
            R = x1;
    }
    s->x[j] = x0;
}

static int slice_step(bnn_chain *c, bnn_step_info *info)
{
    slice_state *s = c->state;
    size_t n = c->d->dim;
    memcpy(s->x, c->theta, n * sizeof(double));
    s->evals = 0;
    for (size_t j = 0; j < n; j++)
        update(c, s, j);
    c->grad_valid = 0;
    bnn_step_info_plain(info, 1.0, c->opt[WIDTH], c->lp);
    info->n_leapfrog = 0;
    info->extra[0] = (double)s->evals;
    return 1;
}

static const bnn_kernel_ops ops = {.init = slice_init, .step = slice_step};

const bnn_kernel bnn_kernel_slice = {
    .name = "slice",
    .help = "slice sampling, one coordinate at a time (Neal 2003); no gradient, no tuning",
    .algorithm = "slice",
    .engine = "slice",
    .options = options,
    .columns = columns,
    .ops = &ops,
};
