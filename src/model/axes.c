/* axes.c — a network's first layer on the principal axes of its centred training inputs.
 *
 * Why: when inputs are correlated (abalone's eight measurements of size and weight: the
 * covariance's eigenvalues span 0.23 to 1.7e-4; sunspot's four lags 0.26 to 4.8e-6) the
 * data pin each unit's weights along the inputs' common direction and leave them prior-wide
 * across it, so a weight's marginal spread says little about how far it can move: with a
 * diagonal metric NUTS crawls along those combinations (on abalone the slowest weights were
 * exactly the correlated inputs', bulk ESS 7-11 in 2,200 draws a chain) and the predictions
 * of rows that lean on them mix as slowly.
 *
 * The sampler's coordinates here are the inner density's with each unit k's input weights
 * w_k (D values) and bias b_k replaced by
 *     u_k = Q' w_k   (Q: the orthonormal eigenvectors of the training inputs' covariance)
 *     c_k = b_k + mu' w_k   (mu: the inputs' means, so c_k is the unit's input at mu)
 * Then w_k' x + b_k = u_k' Q'(x - mu) + c_k: the unit sees centred, uncorrelated inputs.
 * The map is linear with determinant det(Q)^H = +-1 (a rotation, then a shear with a unit
 * diagonal), so the density at a point is the inner density at the mapped point, nothing
 * added; the gradient is the transposed map of the inner gradient. Its price per evaluation
 * is 2 D^2 H multiply-adds each way, against the D H n of one pass over n rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>

#include "axes.h"

struct bnn_axes {
    bnn_density inner;
    int D, H;
    size_t w_off, b_off;
    double *Q;                  /* D x D row-major: column l is axis l (largest first) */
    double *mu;                 /* D input means */
    size_t work_len;            /* inner's, then the mapped point (dim), then D scratch */
    bnn_gaussian_noise noise;   /* inner's, with sse in these coordinates */
};

static double sse(const void *ctx, double *work, const double *theta);

/* The covariance's eigenvectors by GSL's symmetric solver, sorted by eigenvalue, largest
 * first, each signed so that its largest component is positive: a solver (through the
 * BLAS the build links) may return -v for v, and a checkpoint's state must mean the same
 * point wherever it is resumed. */
static int principal_axes(bnn_axes *a, const bnn_table *train)
{
    int D = a->D;
    size_t n = train->n;
    gsl_matrix *C = gsl_matrix_calloc((size_t)D, (size_t)D);
    gsl_matrix *V = gsl_matrix_alloc((size_t)D, (size_t)D);
    gsl_vector *ev = gsl_vector_alloc((size_t)D);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc((size_t)D);
    int ok = C && V && ev && ws;
    if (ok) {
        for (size_t i = 0; i < n; i++)
            for (int j = 0; j < D; j++)
                a->mu[j] += train->x[i * (size_t)D + (size_t)j];
        for (int j = 0; j < D; j++)
            a->mu[j] /= (double)n;
        for (size_t i = 0; i < n; i++) {
            const double *x = train->x + i * (size_t)D;
            for (int j = 0; j < D; j++)
                for (int l = 0; l <= j; l++) {
                    double *c = gsl_matrix_ptr(C, (size_t)j, (size_t)l);
                    *c += (x[j] - a->mu[j]) * (x[l] - a->mu[l]);
                }
        }
        for (int j = 0; j < D; j++)
            for (int l = 0; l < j; l++)
                gsl_matrix_set(C, (size_t)l, (size_t)j, gsl_matrix_get(C, (size_t)j, (size_t)l));
        ok = gsl_eigen_symmv(C, ev, V, ws) == 0 &&
             gsl_eigen_symmv_sort(ev, V, GSL_EIGEN_SORT_VAL_DESC) == 0;
    }
    for (size_t l = 0; l < (size_t)D && ok; l++) {
        size_t big = 0;
        for (size_t j = 1; j < (size_t)D; j++)
            big = fabs(gsl_matrix_get(V, j, l)) > fabs(gsl_matrix_get(V, big, l)) ? j : big;
        double sign = gsl_matrix_get(V, big, l) < 0 ? -1.0 : 1.0;
        for (size_t j = 0; j < (size_t)D; j++)
            a->Q[j * (size_t)D + l] = sign * gsl_matrix_get(V, j, l);
    }
    gsl_eigen_symmv_free(ws);
    gsl_vector_free(ev);
    gsl_matrix_free(V);
    gsl_matrix_free(C);
    return ok ? 0 : -1;
}

bnn_axes *bnn_axes_new(const bnn_density *inner, const bnn_table *train, int H, size_t w_off,
                       size_t b_off)
{
    bnn_gsl_setup();   /* GSL's errors returned, not aborting */
    bnn_axes *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->inner = *inner;
    a->D = (int)train->p;
    a->H = H;
    a->w_off = w_off;
    a->b_off = b_off;
    a->Q = malloc((size_t)a->D * (size_t)a->D * sizeof *a->Q);
    a->mu = calloc((size_t)a->D, sizeof *a->mu);
    if (!a->Q || !a->mu || train->n == 0 || principal_axes(a, train) != 0) {
        bnn_axes_free(a);
        return NULL;
    }
    if (inner->noise) {
        a->noise = *inner->noise;
        a->noise.sse = sse;
    }
    a->work_len = inner->work_len + inner->dim + (size_t)a->D;
    return a;
}

void bnn_axes_free(bnn_axes *a)
{
    if (!a)
        return;
    free(a->Q);
    free(a->mu);
    free(a);
}

typedef struct {
    double *inner, *theta, *tmp;
} scratch;

static scratch split(const bnn_axes *a, double *work)
{
    scratch w;
    w.inner = work;
    w.theta = w.inner + a->inner.work_len;
    w.tmp = w.theta + a->inner.dim;
    return w;
}

/* out = the inner density's point for theta (out != theta): w_k = Q u_k, b_k = c_k - mu'w_k. */
static void to_inner(const bnn_axes *a, const double *theta, double *out)
{
    int D = a->D, H = a->H;
    memcpy(out, theta, a->inner.dim * sizeof *out);
    const double *u = theta + a->w_off, *c = theta + a->b_off;
    double *W = out + a->w_off, *b = out + a->b_off;
    for (int k = 0; k < H; k++)
        b[k] = c[k];
    for (int j = 0; j < D; j++) {
        const double *q = a->Q + (size_t)j * (size_t)D;
        double *wj = W + (size_t)j * (size_t)H;
        for (int k = 0; k < H; k++)
            wj[k] = 0.0;
        for (int l = 0; l < D; l++) {
            const double *ul = u + (size_t)l * (size_t)H;
            for (int k = 0; k < H; k++)
                wj[k] += q[l] * ul[k];
        }
        for (int k = 0; k < H; k++)
            b[k] -= a->mu[j] * wj[k];
    }
}

/* The inverse (theta != in): u_k = Q'w_k, c_k = b_k + mu'w_k. */
static void from_inner(const bnn_axes *a, const double *in, double *theta)
{
    int D = a->D, H = a->H;
    memcpy(theta, in, a->inner.dim * sizeof *theta);
    const double *W = in + a->w_off, *b = in + a->b_off;
    double *u = theta + a->w_off, *c = theta + a->b_off;
    for (int k = 0; k < H; k++)
        c[k] = b[k];
    for (int l = 0; l < D; l++)
        for (int k = 0; k < H; k++)
            u[(size_t)l * (size_t)H + (size_t)k] = 0.0;
    for (int j = 0; j < D; j++) {
        const double *q = a->Q + (size_t)j * (size_t)D, *wj = W + (size_t)j * (size_t)H;
        for (int k = 0; k < H; k++)
            c[k] += a->mu[j] * wj[k];
        for (int l = 0; l < D; l++) {
            double *ul = u + (size_t)l * (size_t)H;
            for (int k = 0; k < H; k++)
                ul[k] += q[l] * wj[k];
        }
    }
}

/* The chain rule in place, from the inner gradient g to these coordinates:
 * d/du_k = Q'(dW_k - mu db_k), d/dc_k = db_k. tmp: D values. */
static void pull_back(const bnn_axes *a, double *g, double *tmp)
{
    int D = a->D, H = a->H;
    double *gW = g + a->w_off;
    const double *gb = g + a->b_off;
    for (int k = 0; k < H; k++) {
        for (int j = 0; j < D; j++)
            tmp[j] = gW[(size_t)j * (size_t)H + (size_t)k] - a->mu[j] * gb[k];
        for (int l = 0; l < D; l++) {
            double s = 0.0;
            for (int j = 0; j < D; j++)
                s += a->Q[(size_t)j * (size_t)D + (size_t)l] * tmp[j];
            gW[(size_t)l * (size_t)H + (size_t)k] = s;
        }
    }
}

static double logp(const void *ctx, double *work, const double *theta, double *grad)
{
    const bnn_axes *a = ctx;
    scratch w = split(a, work);
    to_inner(a, theta, w.theta);
    double lp = a->inner.logp(a->inner.ctx, w.inner, w.theta, grad);
    if (grad)
        pull_back(a, grad, w.tmp);
    return lp;
}

static double logp_tempered(const void *ctx, double *work, double beta, const double *theta,
                            double *grad, double *loglik)
{
    const bnn_axes *a = ctx;
    scratch w = split(a, work);
    to_inner(a, theta, w.theta);
    double lp = a->inner.logp_tempered(a->inner.ctx, w.inner, beta, w.theta, grad, loglik);
    if (grad)
        pull_back(a, grad, w.tmp);
    return lp;
}

static double sse(const void *ctx, double *work, const double *theta)
{
    const bnn_axes *a = ctx;
    scratch w = split(a, work);
    to_inner(a, theta, w.theta);
    return a->inner.noise->sse(a->inner.ctx, w.inner, w.theta);
}

static void to_model(const void *ctx, double *work, const double *theta, double *out)
{
    const bnn_axes *a = ctx;
    scratch w = split(a, work);
    to_inner(a, theta, w.theta);
    if (a->inner.to_model)
        a->inner.to_model(a->inner.ctx, w.inner, w.theta, out);
    else
        memcpy(out, w.theta, a->inner.dim * sizeof *out);
}

static void from_model(const void *ctx, double *work, const double *in, double *theta)
{
    const bnn_axes *a = ctx;
    scratch w = split(a, work);
    if (a->inner.from_model)
        a->inner.from_model(a->inner.ctx, w.inner, in, w.theta);
    else
        memcpy(w.theta, in, a->inner.dim * sizeof *w.theta);
    from_inner(a, w.theta, theta);
}

bnn_density bnn_axes_density(const bnn_axes *a)
{
    bnn_density d = a->inner;
    d.ctx = a;
    d.work_len = a->work_len;
    d.logp = logp;
    d.to_model = to_model;
    d.from_model = from_model;
    d.coords = (a->inner.to_model ? a->inner.coords : 0u) | BNN_COORDS_AXES;
    /* the Langevin map is per-row descent in the model's coordinates, and a minibatch's
     * scratch has no room for the mapped point: samplers that need either fall back or
     * refuse */
    d.drift = NULL;
    d.logp_batch = NULL;
    d.batch_work = 0;
    d.logp_tempered = a->inner.logp_tempered ? logp_tempered : NULL;
    d.noise = a->inner.noise ? &a->noise : NULL;
    return d;
}
