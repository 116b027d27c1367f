/* center.c — the centred output level of a one-hidden-layer regression network.
 *
 * Why: in the network's own coordinates the posterior's stiffest direction is the output
 * level, the output bias b2 plus the output weights of the hidden units saturated at 1 (on
 * every training row such a unit adds its weight to the bias). The data pin that sum to a
 * width of about 1e-4 while each of its terms ranges as wide as the prior, and which units
 * saturate changes as the chain moves, so no fixed metric removes it: it sets NUTS's step
 * size (see the README's "Networks that converge").
 *
 * The sampler's coordinates here are the model's, with b2 replaced by the level
 *     c = b2 + sum_k v_k hbar_k(W1, b1),   hbar_k = the mean over the training rows of unit
 * k's activation, v the output weights. Then f(x_i) = out(c + sum_k v_k (h_ik - hbar_k)):
 * a saturated unit (h_ik = hbar_k on every row) leaves the likelihood alone, and the level
 * is one coordinate that a diagonal metric scales. The map is a bijection whose Jacobian is
 * triangular with a unit diagonal, so the density in the new coordinates is the model's at
 * the mapped point: nothing is added to it. Gradient by the chain rule, with
 * d hbar_k / d W1[j][k] = mean_i h'_ik x_ij and d hbar_k / d b1[k] = mean_i h'_ik. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "center.h"

struct bnn_center {
    bnn_density inner;       /* the model's density in its own coordinates */
    const double *x;         /* training inputs, n x D row-major */
    size_t n;
    int D, H;
    bnn_activation act;
    size_t w2, b2;           /* offsets of v and b2 (W1 at 0, b1 at D * H) */
    bnn_center_fast_fn fast; /* the model's own path to logp and the statistics, or NULL */
    size_t work_len;         /* inner's, then theta, the statistics cs, A (n x H) */
    bnn_gaussian_noise noise;   /* inner's, with sse in these coordinates */
};

static double sse(const void *ctx, double *work, const double *theta);

bnn_center *bnn_center_new(const bnn_density *inner, const bnn_table *train, int H,
                           bnn_activation act, bnn_center_fast_fn fast)
{
    bnn_center *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->inner = *inner;
    c->x = train->x;
    c->n = train->n;
    c->D = (int)train->p;
    c->H = H;
    c->act = act;
    c->fast = fast;
    c->w2 = (size_t)c->D * (size_t)H + (size_t)H;
    c->b2 = c->w2 + (size_t)H;
    if (inner->noise) {
        c->noise = *inner->noise;
        c->noise.sse = sse;
    }
    c->work_len = inner->work_len + inner->dim + 1 + 2 * (size_t)H + (size_t)c->D * (size_t)H +
                  c->n * (size_t)H;
    return c;
}

void bnn_center_free(bnn_center *c)
{
    free(c);
}

/* The statistics cs (center.h's layout) at theta by the general path: b2, the hidden
 * activations' means over the training rows hbar (H), and with deriv the means of their
 * derivatives s (H) and of the derivatives times each input S (D x H). A: n x H scratch. */
static void means(const bnn_center *c, const double *theta, double *A, double *cs, int deriv)
{
    double *hbar = cs + 1, *s = hbar + c->H, *S = s + c->H;
    size_t n = c->n;
    int D = c->D, H = c->H;
    const double *W1 = theta, *b1 = theta + (size_t)D * (size_t)H;
    for (size_t i = 0; i < n; i++) {
        double *a = A + i * (size_t)H;
        const double *xi = c->x + i * (size_t)D;
        for (int k = 0; k < H; k++)
            a[k] = b1[k];
        for (int j = 0; j < D; j++) {
            double xij = xi[j];
            const double *w = W1 + (size_t)j * (size_t)H;
            for (int k = 0; k < H; k++)
                a[k] += xij * w[k];
        }
    }
    size_t nh = n * (size_t)H;
    if (c->act == BNN_ACT_SIGMOID)
        bnn_vsigmoid(A, nh);
    else if (c->act == BNN_ACT_TANH)
        bnn_vtanh(A, nh);
    else
        for (size_t t = 0; t < nh; t++)
            A[t] = A[t] > 0 ? A[t] : 0.0;
    memset(hbar, 0, (size_t)H * sizeof *hbar);
    if (deriv) {
        memset(s, 0, (size_t)H * sizeof *s);
        memset(S, 0, (size_t)D * (size_t)H * sizeof *S);
    }
    for (size_t i = 0; i < n; i++) {
        double *h = A + i * (size_t)H;
        for (int k = 0; k < H; k++)
            hbar[k] += h[k];
        if (!deriv)
            continue;
        /* the row's activations are summed: their derivatives take their place */
        for (int k = 0; k < H; k++)
            h[k] = c->act == BNN_ACT_SIGMOID ? h[k] * (1.0 - h[k])
                 : c->act == BNN_ACT_TANH    ? 1.0 - h[k] * h[k]
                                             : (h[k] > 0 ? 1.0 : 0.0);
        const double *xi = c->x + i * (size_t)D;
        for (int k = 0; k < H; k++)
            s[k] += h[k];
        for (int j = 0; j < D; j++)
            for (int k = 0; k < H; k++)
                S[(size_t)j * (size_t)H + k] += xi[j] * h[k];
    }
    double inv = 1.0 / (double)n;
    for (int k = 0; k < H; k++)
        hbar[k] *= inv;
    if (deriv) {
        for (int k = 0; k < H; k++)
            s[k] *= inv;
        for (size_t t = 0; t < (size_t)D * (size_t)H; t++)
            S[t] *= inv;
    }
    /* b2 = c - sum_k v_k hbar_k */
    double b = theta[c->b2];
    for (int k = 0; k < H; k++)
        b -= theta[c->w2 + (size_t)k] * hbar[k];
    cs[0] = b;
}

typedef struct {
    double *inner, *theta, *cs, *A;
} scratch;

static scratch split(const bnn_center *c, double *work)
{
    scratch w;
    w.inner = work;
    w.theta = w.inner + c->inner.work_len;
    w.cs = w.theta + c->inner.dim;
    w.A = w.cs + 1 + 2 * (size_t)c->H + (size_t)c->D * (size_t)c->H;
    return w;
}

static void to_model(const void *ctx, double *work, const double *theta, double *out)
{
    const bnn_center *c = ctx;
    scratch w = split(c, work);
    means(c, theta, w.A, w.cs, 0);
    memmove(out, theta, c->inner.dim * sizeof *out);
    out[c->b2] = w.cs[0];
}

static void from_model(const void *ctx, double *work, const double *in, double *theta)
{
    const bnn_center *c = ctx;
    scratch w = split(c, work);
    means(c, in, w.A, w.cs, 0);   /* cs[0] = b2 - sum_k v_k hbar_k, since in holds b2 */
    double b2 = in[c->b2];
    memmove(theta, in, c->inner.dim * sizeof *theta);
    theta[c->b2] = b2 + (b2 - w.cs[0]);
}

/* The chain rule from the model's gradient g (at the mapped point) to the level's
 * coordinates: only b2's derivative gb moves, through hbar. */
static void pull_back(const bnn_center *c, const double *theta, const double *cs, double *g)
{
    int D = c->D, H = c->H;
    const double *hbar = cs + 1, *s = hbar + H, *S = s + H;
    double gb = g[c->b2];
    double *gW1 = g, *gb1 = g + (size_t)D * (size_t)H, *gv = g + c->w2;
    const double *v = theta + c->w2;
    for (int k = 0; k < H; k++) {
        gv[k] -= gb * hbar[k];
        gb1[k] -= gb * v[k] * s[k];
    }
    for (int j = 0; j < D; j++)
        for (int k = 0; k < H; k++)
            gW1[(size_t)j * (size_t)H + k] -= gb * v[k] * S[(size_t)j * (size_t)H + k];
}

/* The statistics at theta and the mapped point into w->theta. */
static void map_point(const bnn_center *c, const scratch *w, const double *theta, int deriv)
{
    means(c, theta, w->A, w->cs, deriv);
    memcpy(w->theta, theta, c->inner.dim * sizeof *theta);
    w->theta[c->b2] = w->cs[0];
}

static double logp(const void *ctx, double *work, const double *theta, double *grad)
{
    const bnn_center *c = ctx;
    scratch w = split(c, work);
    if (c->fast) {
        double lp = c->fast(c->inner.ctx, w.inner, theta, grad, w.cs, w.theta);
        if (!isnan(lp))
            return lp;
    }
    map_point(c, &w, theta, grad != NULL);
    double lp = c->inner.logp(c->inner.ctx, w.inner, w.theta, grad);
    if (grad)
        pull_back(c, theta, w.cs, grad);
    return lp;
}

static double logp_tempered(const void *ctx, double *work, double beta, const double *theta,
                            double *grad, double *loglik)
{
    const bnn_center *c = ctx;
    scratch w = split(c, work);
    map_point(c, &w, theta, grad != NULL);
    double lp = c->inner.logp_tempered(c->inner.ctx, w.inner, beta, w.theta, grad, loglik);
    if (grad)
        pull_back(c, theta, w.cs, grad);
    return lp;
}

static double sse(const void *ctx, double *work, const double *theta)
{
    const bnn_center *c = ctx;
    scratch w = split(c, work);
    to_model(c, work, theta, w.theta);
    return c->inner.noise->sse(c->inner.ctx, w.inner, w.theta);
}

bnn_density bnn_center_density(const bnn_center *c)
{
    bnn_density d = c->inner;
    d.ctx = c;
    d.work_len = c->work_len;
    d.logp = logp;
    d.to_model = to_model;
    d.from_model = from_model;
    d.coords = BNN_COORDS_CENTER;
    /* the Langevin map is per-row gradient descent in the model's coordinates, and a
     * minibatch cannot know hbar: samplers that need either fall back or refuse */
    d.drift = NULL;
    d.logp_batch = NULL;
    d.batch_work = 0;
    d.logp_tempered = c->inner.logp_tempered ? logp_tempered : NULL;
    d.noise = c->inner.noise ? &c->noise : NULL;
    return d;
}
