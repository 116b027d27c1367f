/* optimize.c — a local maximum of a density by BFGS (GSL's vector_bfgs2 on -logp), the
 * starting points of init_map. Keeps the best point it evaluates, so a line search that
 * wanders into non-finite values or an error from GSL leaves the best point seen. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>

#include "kernel.h"

/* On mackey-glass's network (300 rows, 61 parameters) bfgs2 needs some 10^4 iterations
 * (about 3 s) to come within the tolerance of an optimum, and stalls at the rounding limit
 * of -logp near |grad| 1e-3 (logp about 800): hence a tolerance relative to |logp|. */
enum { DEFAULT_MAX_ITER = 20000 };
#define DEFAULT_GRAD_TOL 1e-5
/* GSL's advice for bfgs2: a line-search tolerance of 0.1; the first trial step's length */
#define LINE_TOL 0.1
#define FIRST_STEP 0.01

typedef struct {
    const bnn_density *d;
    double *work;
    double *best;             /* the highest log density seen, and where */
    double best_lp;
    size_t n_evals;
} opt_ctx;

/* logp at x (and its gradient into g when g != NULL); remembers the best finite point. */
static double eval(opt_ctx *o, const double *x, double *g)
{
    double lp = o->d->logp(o->d->ctx, o->work, x, g);
    o->n_evals++;
    if (isfinite(lp) && lp > o->best_lp) {
        o->best_lp = lp;
        memcpy(o->best, x, o->d->dim * sizeof(double));
    }
    return lp;
}

/* GSL minimises: f = -logp, +inf where logp is not finite (the line search backs off) */
static double neg_f(const gsl_vector *x, void *arg)
{
    double lp = eval(arg, x->data, NULL);
    return isfinite(lp) ? -lp : GSL_POSINF;
}

static void neg_fdf(const gsl_vector *x, void *arg, double *f, gsl_vector *g)
{
    double lp = eval(arg, x->data, g->data);
    *f = isfinite(lp) ? -lp : GSL_POSINF;
    gsl_vector_scale(g, -1.0);
}

static void neg_df(const gsl_vector *x, void *arg, gsl_vector *g)
{
    double f;
    neg_fdf(x, arg, &f, g);
}

const char *bnn_optim_status_str(bnn_optim_status s)
{
    switch (s) {
    case BNN_OPTIM_CONVERGED: return "converged";
    case BNN_OPTIM_MAX_ITER: return "max_iter";
    case BNN_OPTIM_STALLED: return "stalled";
    default: return "failed";
    }
}

static double norm2(const double *g, size_t n)
{
    double s = 0;
    for (size_t j = 0; j < n; j++)
        s += g[j] * g[j];
    return sqrt(s);
}

/* Is the gradient within the tolerance, relative to |logp| (at least 1)? */
static int small_gradient(const gsl_multimin_fdfminimizer *s, double tol)
{
    return gsl_multimin_test_gradient(s->gradient, tol * fmax(1.0, fabs(s->f))) == GSL_SUCCESS;
}

/* The minimiser's loop; returns how it ended. */
static bnn_optim_status iterate(gsl_multimin_fdfminimizer *s, size_t max_iter, double tol,
                                size_t *iter)
{
    for (*iter = 0; *iter < max_iter;) {
        int st = gsl_multimin_fdfminimizer_iterate(s);
        ++*iter;
        if (!isfinite(s->f))
            return BNN_OPTIM_FAILED;
        if (st == GSL_ENOPROG)
            return small_gradient(s, tol) ? BNN_OPTIM_CONVERGED : BNN_OPTIM_STALLED;
        if (st != GSL_SUCCESS)
            return BNN_OPTIM_FAILED;
        if (small_gradient(s, tol))
            return BNN_OPTIM_CONVERGED;
    }
    return BNN_OPTIM_MAX_ITER;
}

bnn_status bnn_optimize(const bnn_density *d, double *theta, const bnn_optimize_opts *opts,
                        bnn_optimize_result *res, bnn_error *err)
{
    size_t n = d->dim;
    size_t max_iter = opts && opts->max_iter ? opts->max_iter : DEFAULT_MAX_ITER;
    double tol = opts && opts->grad_tol > 0 ? opts->grad_tol : DEFAULT_GRAD_TOL;
    memset(res, 0, sizeof *res);
    bnn_gsl_setup();
    opt_ctx o = {d, NULL, NULL, -INFINITY, 0};
    o.work = malloc((d->work_len + 1) * sizeof(double));
    o.best = malloc(n * sizeof(double));
    gsl_vector *x = gsl_vector_alloc(n), *g = gsl_vector_alloc(n);
    gsl_multimin_fdfminimizer *s = gsl_multimin_fdfminimizer_alloc(
        gsl_multimin_fdfminimizer_vector_bfgs2, n);
    bnn_status st = BNN_OK;
    if (!o.work || !o.best || !x || !g || !s) {
        st = bnn_fail(err, BNN_ENOMEM, "optimize: out of memory for dimension %zu", n);
        goto done;
    }
    memcpy(x->data, theta, n * sizeof(double));
    res->lp_start = eval(&o, theta, g->data);
    if (!isfinite(res->lp_start) || !isfinite(norm2(g->data, n))) {
        st = bnn_fail(err, BNN_ENUMERIC, "optimize: the log density or its gradient at the "
                      "starting point is not finite (log density %g)", res->lp_start);
        goto done;
    }
    gsl_multimin_function_fdf fn = {neg_f, neg_df, neg_fdf, n, &o};
    if (gsl_multimin_fdfminimizer_set(s, &fn, x, FIRST_STEP, LINE_TOL) != GSL_SUCCESS)
        res->status = BNN_OPTIM_FAILED;
    else
        res->status = iterate(s, max_iter, tol, &res->iter);
    /* the best point seen, and its gradient's norm (one more evaluation) */
    memcpy(theta, o.best, n * sizeof(double));
    res->lp = d->logp(d->ctx, o.work, theta, g->data);
    res->grad_norm = norm2(g->data, n);
    res->n_evals = o.n_evals + 1;
done:
    gsl_multimin_fdfminimizer_free(s);
    gsl_vector_free(x);
    gsl_vector_free(g);
    free(o.work);
    free(o.best);
    return st;
}
