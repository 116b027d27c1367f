/* model.c — feed-forward posteriors (linear, logistic, neural network) as densities.
 *
 * The model is L = n_hidden + 1 dense layers. Layer l maps a_l (n x w_l) to
 * a_{l+1} = act_l(a_l W_l + 1 b_l^T) (n x w_{l+1}), with a_0 = X. The last layer's act is
 * the output's: identity or sigmoid for regression, softmax for classification (or, the
 * study's, sigmoid outputs whose softmax the likelihood takes).
 *
 * Parameter vector (the run folder's order): W_1 (w_0 x w_1, row-major: W1.i.j is input i
 * to unit j), b_1 (w_1), ..., W_L, b_L, then eta = log tau^2 for regression.
 *
 * The log density is computed over the whole batch: one dgemm per layer forward and two per
 * layer backward, into the caller's work array (no allocation). Activation derivatives are
 * taken from the activations themselves (sigmoid a(1-a), tanh 1-a^2, relu [a>0]), so
 * only the activations are stored.
 *
 * bnn_model_density hands the samplers the fastest exact path for the model: the linear
 * regression from its sufficient statistics (linear.c), a network with one hidden layer
 * through the fused SIMD kernel (fused.c), anything else through the BLAS path here. The
 * tests hold each specialised path equal to the BLAS one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <gsl/gsl_sf_gamma.h>

#include "axes.h"
#include "center.h"
#include "model_internal.h"

#define LOG_2PI 1.8378770664093454836

struct bnn_model {
    bnn_model_spec spec;
    const bnn_table *train;
    int *label;                  /* classification: training labels as integers */
    double *ones;                /* n ones: column sums as a matrix-vector product */
    int L;                       /* layers */
    int width[BNN_MAX_HIDDEN + 2];
    size_t w_off[BNN_MAX_HIDDEN + 1], b_off[BNN_MAX_HIDDEN + 1];
    size_t n_weights, dim;
    int max_width, sum_width;    /* over layer outputs (w_1..w_L), and w_0 for max */
    size_t work_len;
    bnn_fused *fused;            /* one hidden layer with training data: the fused kernel */
    int fused_fast;              /* the density takes it (use_fused) */
    bnn_linear_ss *ss;           /* linear regression, identity output: sufficient statistics */
    double *prior_prec;          /* n_weights: 1/sigma^2 of each weight's layer (0: flat) */
    double prior_const;          /* normalisers of the proper factors: each Gaussian layer's
                                    -count/2 log(2 pi sigma_l^2), the inverse-gamma's */
    int flat;                    /* some layer's prior is flat (then no tempered density) */
    bnn_gaussian_noise noise;    /* regression with training data: its noise, for Gibbs steps */
    bnn_center *center;          /* spec.center on a one-hidden-layer regression: center.c */
    bnn_axes *axes;              /* spec.axes on a network: axes.c, over center or the model */
};

static void set_noise(bnn_model *m);
static bnn_density model_density(const bnn_model *m);
static double center_fused(const void *ctx, double *work, const double *theta, double *grad,
                           double *cs, double *mapped);
static int make_center(bnn_model *m);
static int make_axes(bnn_model *m);

/* The study's classification output: class probabilities softmax(sigmoid(z)), the sigmoid
 * taken by the output layer itself (as a regression's sigmoid output), the softmax by the
 * likelihood and the predictions. The fused kernel knows only softmax(z): these models take
 * the BLAS path. */
static int sigmoid_softmax(const bnn_model_spec *s)
{
    return s->task == BNN_TASK_CLASSIFICATION && s->output_act == BNN_ACT_SIGMOID;
}

static int fused_is_fast(int lanes);
static int use_fused(const bnn_model *m);
static int drift_padded(const bnn_model *m);
static size_t drift_extra(const bnn_model *m);
/* in the order of bnn_activation */
static const char *const activation_names[] = {"identity", "sigmoid", "tanh", "relu", "softmax"};

const char *bnn_activation_name(bnn_activation a)
{
    if ((int)a < 0 || (size_t)a >= sizeof activation_names / sizeof activation_names[0])
        return "?";
    return activation_names[a];
}

int bnn_activation_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof activation_names / sizeof activation_names[0]; i++)
        if (strcmp(name, activation_names[i]) == 0)
            return (int)i;
    return -1;
}

void bnn_model_spec_study(bnn_model_spec *spec, int nn, bnn_task task, int n_inputs,
                          int n_classes)
{
    memset(spec, 0, sizeof *spec);
    spec->task = task;
    spec->n_inputs = n_inputs;
    spec->n_classes = task == BNN_TASK_CLASSIFICATION ? n_classes : 0;
    spec->n_hidden = nn ? 1 : 0;
    spec->hidden[0] = 10;
    spec->hidden_act = BNN_ACT_SIGMOID;
    if (task == BNN_TASK_CLASSIFICATION)
        spec->output_act = BNN_ACT_SOFTMAX;
    else
        spec->output_act = nn ? BNN_ACT_SIGMOID : BNN_ACT_IDENTITY;
    spec->prior_var = nn ? 25.0 : 5.0;
    spec->nu1 = 0.0;
    spec->nu2 = 0.0;
}

static bnn_status check_spec(const bnn_model_spec *s, const bnn_table *train, bnn_error *err)
{
    if (s->task != BNN_TASK_REGRESSION && s->task != BNN_TASK_CLASSIFICATION)
        return bnn_fail(err, BNN_EINVAL, "model: task must be regression or classification");
    if (s->n_inputs < 1 || (train && (size_t)s->n_inputs != train->p))
        return bnn_fail(err, BNN_EINVAL, "model: %d inputs, but the data have %zu",
                        s->n_inputs, train ? train->p : 0);
    if (s->n_hidden < 0 || s->n_hidden > BNN_MAX_HIDDEN)
        return bnn_fail(err, BNN_EINVAL, "model: %d hidden layers (at most %d)", s->n_hidden,
                        BNN_MAX_HIDDEN);
    for (int l = 0; l < s->n_hidden; l++)
        if (s->hidden[l] < 1 || s->hidden[l] > 100000)
            return bnn_fail(err, BNN_EINVAL, "model: hidden layer %d has %d units", l + 1,
                            s->hidden[l]);
    if (s->n_hidden > 0 && s->hidden_act != BNN_ACT_SIGMOID && s->hidden_act != BNN_ACT_TANH &&
        s->hidden_act != BNN_ACT_RELU)
        return bnn_fail(err, BNN_EINVAL, "model: hidden activation must be sigmoid, tanh or "
                        "relu");
    if (s->task == BNN_TASK_CLASSIFICATION) {
        if (s->n_classes < 2)
            return bnn_fail(err, BNN_EINVAL, "model: classification needs at least 2 classes");
        if (s->output_act != BNN_ACT_SOFTMAX && s->output_act != BNN_ACT_SIGMOID)
            return bnn_fail(err, BNN_EINVAL, "model: classification output must be softmax "
                            "or sigmoid");
    } else if (s->output_act != BNN_ACT_IDENTITY && s->output_act != BNN_ACT_SIGMOID) {
        return bnn_fail(err, BNN_EINVAL, "model: regression output must be identity or "
                        "sigmoid");
    }
    if (!(s->prior_var > 0))
        return bnn_fail(err, BNN_EINVAL, "model: prior variance must be positive, got %g",
                        s->prior_var);
    int L = s->n_hidden + 1;
    for (int l = 0; l < L; l++) {
        double v = s->prior_var_layer[l];
        if (!(v >= 0))
            return bnn_fail(err, BNN_EINVAL, "model: prior variance of layer %d must be "
                            "positive, got %g", l + 1, v);
        if (l < L - 1 && isinf(bnn_model_prior_var(s, l)))
            return bnn_fail(err, BNN_EINVAL, "model: a flat prior on layer %d, which feeds "
                            "hidden units, is improper (a saturating or dead unit leaves its "
                            "weights unbounded); give it a finite variance", l + 1);
    }
    if (s->output_act == BNN_ACT_SIGMOID && isinf(bnn_model_prior_var(s, L - 1)))
        return bnn_fail(err, BNN_EINVAL, "model: a flat prior on the output layer of a sigmoid "
                        "output is improper (the output saturates); use --output identity or a "
                        "finite variance");
    if (!isfinite(s->nu1) || !(s->nu2 >= 0) || !isfinite(s->nu2))
        return bnn_fail(err, BNN_EINVAL, "model: nu1 must be finite and nu2 >= 0 and finite");
    return BNN_OK;
}

double bnn_model_prior_var(const bnn_model_spec *spec, int layer)
{
    double v = layer >= 0 && layer <= BNN_MAX_HIDDEN ? spec->prior_var_layer[layer] : 0.0;
    return v > 0 ? v : spec->prior_var;
}

/* The propriety of the regression's posterior (bnnmc.h, "Priors and propriety"), once the
 * data are known: tau^2 | rest is inverse-gamma with shape nu1 + m/2, where m = n with a
 * Gaussian prior on the output layer and m = n - (its inputs + 1) with a flat one (its
 * coefficients integrated out), so nu1 must exceed -m/2; the linear model's flat prior also
 * needs Z'Z of full rank and, with nu2 = 0, a positive least-squares SSE. */
static bnn_status check_propriety(const bnn_model *m, bnn_error *err)
{
    const bnn_model_spec *s = &m->spec;
    if (s->task != BNN_TASK_REGRESSION)
        return BNN_OK;
    double n = (double)m->train->n;
    int flat = isinf(bnn_model_prior_var(s, m->L - 1));
    int p = m->width[m->L - 1] + 1;
    if (flat && n <= p)
        return bnn_fail(err, BNN_EINVAL, "model: a flat prior on the %d coefficients of the %s "
                        "layer needs more than %d training rows, got %.0f (improper posterior)",
                        p, m->L == 1 ? "linear" : "output", p, n);
    double free_rows = flat ? n - p : n;
    if (!(s->nu1 > -0.5 * free_rows))
        return bnn_fail(err, BNN_EINVAL, "model: nu1 = %g makes the posterior improper: with %s "
                        "it must exceed -%g (%s)", s->nu1,
                        flat ? "a flat prior" : "a Gaussian prior", 0.5 * free_rows,
                        flat ? "-(n - p)/2" : "-n/2");
    if (flat && m->ss && !bnn_linear_ss_full_rank(m->ss))
        return bnn_fail(err, BNN_EINVAL, "model: a flat prior needs the inputs and the intercept "
                        "to be linearly independent (Z'Z is singular: improper posterior)");
    if (flat && m->ss && s->nu2 == 0 && !(bnn_linear_ss_sse_min(m->ss) > 0))
        return bnn_fail(err, BNN_EINVAL, "model: the data are fitted exactly: a flat prior with "
                        "nu2 = 0 is improper (give nu2 > 0)");
    return BNN_OK;
}

/* Each weight's prior precision (0 under a flat prior) and the normalising constants of
 * the proper factors. */
static bnn_status set_prior(bnn_model *m)
{
    const bnn_model_spec *s = &m->spec;
    m->prior_prec = malloc((m->n_weights ? m->n_weights : 1) * sizeof *m->prior_prec);
    if (!m->prior_prec)
        return BNN_ENOMEM;
    m->prior_const = 0.0;
    for (int l = 0; l < m->L; l++) {
        double v = bnn_model_prior_var(s, l);
        size_t count = m->b_off[l] + (size_t)m->width[l + 1] - m->w_off[l];
        for (size_t j = m->w_off[l]; j < m->w_off[l] + count; j++)
            m->prior_prec[j] = 1.0 / v;
        if (isfinite(v))
            m->prior_const -= 0.5 * (double)count * (LOG_2PI + log(v));
        else
            m->flat = 1;
    }
    if (s->task == BNN_TASK_REGRESSION && s->nu1 > 0 && s->nu2 > 0)
        m->prior_const += s->nu1 * log(s->nu2) - gsl_sf_lngamma(s->nu1);
    return BNN_OK;
}

static size_t work_for_rows(const bnn_model *m, size_t n)
{
    /* activations a_1..a_L, then two delta buffers of the widest layer */
    return n * ((size_t)m->sum_width + 2 * (size_t)m->max_width);
}

bnn_status bnn_model_new(bnn_model **out, const bnn_model_spec *spec, const bnn_table *train,
                         bnn_error *err)
{
    *out = NULL;
    bnn_status st = check_spec(spec, train, err);
    if (st)
        return st;
    if (train && train->n == 0)
        return bnn_fail(err, BNN_EINVAL, "model: no training rows");
    bnn_model *m = calloc(1, sizeof *m);
    if (!m)
        return bnn_fail(err, BNN_ENOMEM, "model: out of memory");
    m->spec = *spec;
    m->train = train;
    m->L = spec->n_hidden + 1;
    m->width[0] = spec->n_inputs;
    for (int l = 0; l < spec->n_hidden; l++)
        m->width[l + 1] = spec->hidden[l];
    m->width[m->L] = spec->task == BNN_TASK_CLASSIFICATION ? spec->n_classes : 1;
    size_t off = 0;
    m->max_width = m->width[0];
    for (int l = 0; l < m->L; l++) {
        m->w_off[l] = off;
        off += (size_t)m->width[l] * (size_t)m->width[l + 1];
        m->b_off[l] = off;
        off += (size_t)m->width[l + 1];
        m->sum_width += m->width[l + 1];
        if (m->width[l + 1] > m->max_width)
            m->max_width = m->width[l + 1];
    }
    m->n_weights = off;
    m->dim = off + (spec->task == BNN_TASK_REGRESSION);
    size_t batch = work_for_rows(m, train ? train->n : 1);
    size_t row = work_for_rows(m, 1) + (drift_padded(m) ? drift_extra(m) : 0);
    m->work_len = batch > row ? batch : row;

    if (set_prior(m) != BNN_OK) {
        bnn_model_free(m);
        return bnn_fail(err, BNN_ENOMEM, "model: out of memory");
    }

    if (train) {
        m->ones = malloc(train->n * sizeof *m->ones);
        if (!m->ones) {
            bnn_model_free(m);
            return bnn_fail(err, BNN_ENOMEM, "model: out of memory");
        }
        for (size_t i = 0; i < train->n; i++)
            m->ones[i] = 1.0;
    }
    if (train && spec->task == BNN_TASK_CLASSIFICATION) {
        m->label = malloc(train->n * sizeof *m->label);
        if (!m->label) {
            bnn_model_free(m);
            return bnn_fail(err, BNN_ENOMEM, "model: out of memory");
        }
        for (size_t i = 0; i < train->n; i++) {
            double v = train->y[i];
            if (v != floor(v) || v < 0 || v >= spec->n_classes) {
                bnn_model_free(m);
                return bnn_fail(err, BNN_EINVAL, "%s:%zu:%d: class label %g outside 0..%d",
                                train->source, train->line[i], train->target_col, v,
                                spec->n_classes - 1);
            }
            m->label[i] = (int)v;
        }
    }
    if (train && m->L == 2 && m->width[2] <= BNN_FUSED_MAXK && !sigmoid_softmax(spec)) {
        if (bnn_model_set_fused_lanes(m, 0) != 0) {
            bnn_model_free(m);
            return bnn_fail(err, BNN_ENOMEM, "model: out of memory");
        }
        m->fused_fast = fused_is_fast(bnn_fused_lanes(m->fused) / (spec->float32 ? 2 : 1));
    }
    if (train && m->L == 1 && spec->task == BNN_TASK_REGRESSION &&
        spec->output_act == BNN_ACT_IDENTITY) {
        m->ss = bnn_linear_ss_new(train);
        if (!m->ss) {
            bnn_model_free(m);
            return bnn_fail(err, BNN_ENOMEM, "model: out of memory");
        }
    }
    if (train && (st = check_propriety(m, err)) != BNN_OK) {
        bnn_model_free(m);
        return st;
    }
    if (train && spec->task == BNN_TASK_REGRESSION)
        set_noise(m);
    if (train && spec->center && spec->task == BNN_TASK_REGRESSION && m->L == 2 &&
        make_center(m) != 0) {
        bnn_model_free(m);
        return bnn_fail(err, BNN_ENOMEM, "model: out of memory");
    }
    if (train && spec->axes && m->L >= 2 && make_axes(m) != 0) {
        bnn_model_free(m);
        return bnn_fail(err, BNN_ENOMEM, "model: out of memory (or no principal axes of %s's "
                        "inputs)", train->source);
    }
    *out = m;
    return BNN_OK;
}

void bnn_model_free(bnn_model *m)
{
    if (!m)
        return;
    bnn_fused_free(m->fused);
    bnn_axes_free(m->axes);
    bnn_center_free(m->center);
    bnn_linear_ss_free(m->ss);
    free(m->label);
    free(m->ones);
    free(m->prior_prec);
    free(m);
}

const bnn_model_spec *bnn_model_get_spec(const bnn_model *m) { return &m->spec; }
size_t bnn_model_dim(const bnn_model *m) { return m->dim; }
int bnn_model_n_outputs(const bnn_model *m) { return m->width[m->L]; }

/* ------------------------------------------------------------ activations */

/* In place over n values. */
static void act_forward(bnn_activation act, double *a, size_t n)
{
    switch (act) {
    case BNN_ACT_SIGMOID:
        bnn_vsigmoid(a, n);
        break;
    case BNN_ACT_TANH:
        bnn_vtanh(a, n);
        break;
    case BNN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            a[i] = a[i] > 0 ? a[i] : 0.0;
        break;
    default:
        break;
    }
}

/* delta *= act'(z), written in terms of a = act(z). */
static void act_backward(bnn_activation act, const double *a, double *delta, size_t n)
{
    switch (act) {
    case BNN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            delta[i] *= a[i] * (1.0 - a[i]);
        break;
    case BNN_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            delta[i] *= 1.0 - a[i] * a[i];
        break;
    case BNN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            delta[i] = a[i] > 0 ? delta[i] : 0.0;
        break;
    default:
        break;
    }
}

/* act_forward over n values in whole vectors of 8: the last n mod 8 through a padded copy.
 * bnn_vsigmoid and bnn_vtanh take a value in a vector's lane or, past the last whole
 * vector, one by one or in a shorter vector, whose exponential may round differently: here
 * every value takes the 8-lane path (or the processor's narrower whole-vector one), so a
 * value's activation does not depend on its place in the array (the predictions of a draw
 * are the same in any batch). */
static void act_forward_whole_lanes(bnn_activation act, double *a, size_t n)
{
    size_t whole = n / 8 * 8;
    act_forward(act, a, whole);
    if (whole == n)
        return;
    double pad[8] = {0};
    memcpy(pad, a + whole, (n - whole) * sizeof *pad);
    act_forward(act, pad, 8);
    memcpy(a + whole, pad, (n - whole) * sizeof *pad);
}

static bnn_activation layer_act(const bnn_model *m, int l)
{
    return l == m->L - 1 ? m->spec.output_act : m->spec.hidden_act;
}

/* ------------------------------------------------------------ batch forward/backward */

/* a_l for l = 1..L, each n x w_l, packed one after another in work. */
static double *act_buf(const bnn_model *m, double *work, size_t n, int l)
{
    double *p = work;
    for (int k = 1; k < l; k++)
        p += n * (size_t)m->width[k];
    return p;
}

/* Forward over n rows of x (n x w_0). Leaves a_1..a_L in work; the softmax of the output is
 * NOT applied (the caller wants log-sum-exp), only hidden and sigmoid/identity outputs. */
static void forward(const bnn_model *m, const double *theta, const double *x, size_t n,
                    double *work)
{
    const double *in = x;
    for (int l = 0; l < m->L; l++) {
        int wi = m->width[l], wo = m->width[l + 1];
        double *a = act_buf(m, work, n, l + 1);
        const double *W = theta + m->w_off[l], *b = theta + m->b_off[l];
        for (size_t i = 0; i < n; i++)
            for (int j = 0; j < wo; j++)
                a[i * (size_t)wo + j] = b[j];
        /* a (n x wo) += in (n x wi) * W (wi x wo); one output (regression) is a gemv, which
         * OpenBLAS does far better than a gemm with one column */
        if (wo == 1)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, wi, 1.0, in, wi, W, 1, 1.0, a, 1);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, wo, wi, 1.0, in, wi,
                        W, wo, 1.0, a, wo);
        bnn_activation act = layer_act(m, l);
        if (act != BNN_ACT_SOFTMAX)
            act_forward(act, a, n * (size_t)wo);
        in = a;
    }
}

/* Backward from delta = d logp / d z_L (n x w_L, in the first delta buffer) to the
 * gradient of the weights, accumulated into grad (overwritten). */
static void backward(const bnn_model *m, const double *theta, const double *x, size_t n,
                     double *work, double *delta, double *spare, double *grad)
{
    for (int l = m->L - 1; l >= 0; l--) {
        int wi = m->width[l], wo = m->width[l + 1];
        const double *in = l == 0 ? x : act_buf(m, work, n, l);
        const double *W = theta + m->w_off[l];
        double *gW = grad + m->w_off[l], *gb = grad + m->b_off[l];
        /* gW (wi x wo) = in^T (wi x n) * delta (n x wo) */
        if (wo == 1)
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, wi, 1.0, in, wi, delta, 1, 0.0, gW, 1);
        else
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, wi, wo, (int)n, 1.0, in, wi,
                        delta, wo, 0.0, gW, wo);
        /* gb (wo) = delta^T (wo x n) * 1 (n): the column sums, as one BLAS call */
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, wo, 1.0, delta, wo, m->ones, 1, 0.0, gb, 1);
        if (l == 0)
            break;
        /* spare (n x wi) = delta (n x wo) * W^T (wo x wi), then through act' of layer l-1 */
        if (wo == 1) {
            for (size_t i = 0; i < n; i++)
                for (int k = 0; k < wi; k++)
                    spare[i * (size_t)wi + k] = delta[i] * W[k];
        } else {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, wi, wo, 1.0, delta, wo,
                        W, wo, 0.0, spare, wi);
        }
        act_backward(layer_act(m, l - 1), in, spare, n * (size_t)wi);
        double *t = delta;
        delta = spare;
        spare = t;
    }
}

/* Sum of squared residuals of the regression outputs; writes d loglik / d z_L into delta
 * (the residuals times 1/tau^2, through the sigmoid output's derivative). yhat holds n rows:
 * the training rows rows[0..n), or the first n when rows is NULL. */
static double regression_sse_rows(const bnn_model *m, const size_t *rows, size_t n,
                                  const double *yhat, double eta, double *delta)
{
    const double *y = m->train->y;
    double sse = 0.0, prec = exp(-eta);
    for (size_t i = 0; i < n; i++) {
        double r = y[rows ? rows[i] : i] - yhat[i];
        sse += r * r;
        if (delta)
            delta[i] = prec * r;
    }
    if (delta && m->spec.output_act == BNN_ACT_SIGMOID)
        act_backward(BNN_ACT_SIGMOID, yhat, delta, n);
    return sse;
}

static double regression_sse(const bnn_model *m, const double *yhat, double eta, double *delta)
{
    return regression_sse_rows(m, NULL, m->train->n, yhat, eta, delta);
}

/* The Gaussian prior on the weights, each at its layer's precision (0 for a flat layer:
 * no branch, the term vanishes); its gradient is added into grad (may be NULL). */
static double prior_logp(const bnn_model *m, const double *theta, double *grad)
{
    const double *prec = m->prior_prec;
    double ss = 0.0;
    for (size_t j = 0; j < m->n_weights; j++)
        ss += theta[j] * theta[j] * prec[j];
    if (grad)
        for (size_t j = 0; j < m->n_weights; j++)
            grad[j] -= theta[j] * prec[j];
    return m->prior_const - 0.5 * ss;
}

double bnn_model_log_prior(const bnn_model *m, const double *theta, double *grad)
{
    if (grad)
        memset(grad, 0, m->dim * sizeof *grad);
    double lp = prior_logp(m, theta, grad);
    if (m->spec.task == BNN_TASK_REGRESSION) {
        /* tempered_complete's split: the inverse-gamma on tau^2 and eta's Jacobian */
        double eta = theta[m->n_weights], prec = exp(-eta);
        lp += -m->spec.nu1 * eta - m->spec.nu2 * prec;
        if (grad)
            grad[m->n_weights] = -m->spec.nu1 + m->spec.nu2 * prec;
    }
    return isnan(lp) ? -INFINITY : lp;
}

/* Gaussian noise of variance tau^2 = e^eta given the sum of squared residuals, plus the
 * inverse-gamma prior on tau^2 with the Jacobian of eta; *g_eta (may be NULL) receives the
 * derivative in eta. */
static double noise_logp(const bnn_model *m, double sse, double eta, double *g_eta)
{
    double n = (double)m->train->n, prec = exp(-eta), nu1 = m->spec.nu1, nu2 = m->spec.nu2;
    if (g_eta)
        *g_eta = -0.5 * n + 0.5 * prec * sse - nu1 + nu2 * prec;
    return -0.5 * n * (LOG_2PI + eta) - 0.5 * prec * sse - nu1 * eta - nu2 * prec;
}

static double classification_loglik_rows(const bnn_model *m, const size_t *rows, size_t n,
                                         const double *z, double *delta, double *e);

/* Categorical log-likelihood with log-sum-exp; delta = onehot - softmax. e (n x K scratch)
 * receives exp(z - row max) for the whole batch in one vectorised call. */
static double classification_loglik(const bnn_model *m, const double *z, double *delta, double *e)
{
    return classification_loglik_rows(m, NULL, m->train->n, z, delta, e);
}

/* The same over n rows of z: the training rows rows[0..n), or the first n when rows is NULL. */
static double classification_loglik_rows(const bnn_model *m, const size_t *rows, size_t n,
                                         const double *z, double *delta, double *e)
{
    int K = m->width[m->L];
    for (size_t i = 0; i < n; i++) {
        const double *zi = z + i * (size_t)K;
        double mx = zi[0];
        for (int k = 1; k < K; k++)
            mx = zi[k] > mx ? zi[k] : mx;
        for (int k = 0; k < K; k++)
            e[i * (size_t)K + k] = zi[k] - mx;
    }
    bnn_vexp(e, n * (size_t)K);
    double ll = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double *zi = z + i * (size_t)K, *ei = e + i * (size_t)K;
        double s = 0.0;
        for (int k = 0; k < K; k++)
            s += ei[k];
        int y = m->label[rows ? rows[i] : i];
        double mx = zi[0];
        for (int k = 1; k < K; k++)
            mx = zi[k] > mx ? zi[k] : mx;
        /* z_y - lse = (z_y - max) - log(sum exp(z - max)), exact however far z_y is below */
        ll += (zi[y] - mx) - log(s);
        if (delta) {
            double *di = delta + i * (size_t)K, inv = 1.0 / s;
            for (int k = 0; k < K; k++)
                di[k] = -ei[k] * inv;
            di[y] += 1.0;
        }
    }
    return ll;
}

/* The data term by BLAS: regression, the sum of squared residuals with grad = sum_i r_i
 * e^-eta d f_i / d theta over the weights (eta = 0: not yet scaled by 1/tau^2, the
 * specialised paths' form); softmax, the log-likelihood with its gradient. */
static double blas_data(const bnn_model *m, double *work, const double *theta, double *grad,
                        double eta)
{
    size_t n = m->train->n;
    const double *x = m->train->x;
    forward(m, theta, x, n, work);
    double *out = act_buf(m, work, n, m->L);
    double *delta = work + n * (size_t)m->sum_width;
    double *spare = delta + n * (size_t)m->max_width;
    double *dl = grad ? delta : NULL;
    double data = m->spec.task == BNN_TASK_REGRESSION ? regression_sse(m, out, eta, dl)
                                                      : classification_loglik(m, out, dl, spare);
    /* classification: delta is d loglik / d output; through the output's sigmoid when it has
     * one (act_backward leaves it for softmax, whose z is the output) */
    if (grad && m->spec.task == BNN_TASK_CLASSIFICATION)
        act_backward(m->spec.output_act, out, delta, n * (size_t)m->width[m->L]);
    if (grad)
        backward(m, theta, x, n, work, delta, spare, grad);
    return data;
}

double bnn_model_logp_blas(const void *ctx, double *work, const double *theta, double *grad)
{
    const bnn_model *m = ctx;
    int reg = m->spec.task == BNN_TASK_REGRESSION;
    double eta = reg ? theta[m->n_weights] : 0.0;
    double data = blas_data(m, work, theta, grad, eta);
    double lp = reg ? noise_logp(m, data, eta, grad ? grad + m->n_weights : NULL) : data;
    lp += prior_logp(m, theta, grad);
    return isnan(lp) ? -INFINITY : lp;
}

/* The log density from the data term of a specialised path: for regression the sum of
 * squared residuals with grad = sum_i r_i d f_i / d theta over the weights (not yet scaled
 * by 1/tau^2), for classification the log-likelihood with grad its gradient. */
static double complete_logp(const bnn_model *m, double data, const double *theta, double *grad)
{
    size_t nw = m->n_weights;
    double lp = data;
    if (m->spec.task == BNN_TASK_REGRESSION) {
        double eta = theta[nw], prec = exp(-eta);
        if (grad)
            for (size_t j = 0; j < nw; j++)
                grad[j] *= prec;
        lp = noise_logp(m, data, eta, grad ? grad + nw : NULL);
    }
    lp += prior_logp(m, theta, grad);
    return isnan(lp) ? -INFINITY : lp;
}

/* A network with one hidden layer through the fused kernel (fused.c): the same density as
 * bnn_model_logp_blas, 1.4-2.5x faster on the study's networks with AVX-512 (bench_density;
 * without it, slower: see use_fused). */
double bnn_model_logp_fused(const void *ctx, double *work, const double *theta, double *grad)
{
    const bnn_model *m = ctx;
    return complete_logp(m, bnn_fused_eval(m->fused, theta, grad, work), theta, grad);
}

/* The centred density's fast path (center.h) through the fused kernel. */
static double center_fused(const void *ctx, double *work, const double *theta, double *grad,
                           double *cs, double *mapped)
{
    const bnn_model *m = ctx;
    size_t b2 = m->b_off[1];
    /* the kernel folds b2's prior into the chain rule by q = tau^2 / sigma_b2^2; where tau^2
     * overflows (eta > 709: no posterior mass) it declines and the general path runs */
    double q = exp(theta[m->n_weights]) * m->prior_prec[b2];
    if (!(q < 1e300))
        return NAN;
    cs[0] = q;
    double data = bnn_fused_eval_center(m->fused, theta, grad, work, cs);
    memcpy(mapped, theta, m->dim * sizeof *mapped);
    mapped[b2] = cs[0];
    double lp = complete_logp(m, data, mapped, grad);
    if (grad)   /* W1 and b1 came pulled back from the kernel; v through hbar here */
        for (int k = 0; k < m->width[1]; k++)
            grad[m->w_off[1] + (size_t)k] -= grad[b2] * cs[1 + k];
    return lp;
}

double bnn_model_center_fused(const void *ctx, double *work, const double *theta, double *grad,
                              double *cs, double *mapped)
{
    return center_fused(ctx, work, theta, grad, cs, mapped);
}

/* The linear regression with identity output through its sufficient statistics
 * (linear.c): O(p^2) per call whatever the number of rows; the same density as
 * bnn_model_logp_blas. */
static double linear_logp(const void *ctx, double *work, const double *theta, double *grad)
{
    const bnn_model *m = ctx;
    (void)work;
    return complete_logp(m, bnn_linear_ss_sse(m->ss, theta, grad), theta, grad);
}

/* ------------------------------------------------------------ minibatches */

/* Scratch per row of a batch: the gathered inputs, then forward/backward's buffers. */
static size_t batch_work_per_row(const bnn_model *m)
{
    return (size_t)m->width[0] + work_for_rows(m, 1);
}

/* bnn_density.logp_batch of every model: the rows' inputs gathered into one B x p matrix,
 * the data term on it by the BLAS path (forward, backward: one dgemm or dgemv per layer
 * each way), scaled by n/B, then the prior and noise terms as the full density adds them
 * (complete_logp). The sufficient statistics and the fused kernel hold the whole table: a
 * batch takes neither. */
static double model_logp_batch(const void *ctx, double *work, const size_t *rows, size_t B,
                               const double *theta, double *grad)
{
    const bnn_model *m = ctx;
    size_t p = m->train->p;
    double *xb = work, *w = work + B * p;
    for (size_t i = 0; i < B; i++)
        memcpy(xb + i * p, m->train->x + rows[i] * p, p * sizeof *xb);
    forward(m, theta, xb, B, w);
    double *out = act_buf(m, w, B, m->L);
    double *delta = w + B * (size_t)m->sum_width;
    double *spare = delta + B * (size_t)m->max_width;
    double *dl = grad ? delta : NULL;
    int reg = m->spec.task == BNN_TASK_REGRESSION;
    double data = reg ? regression_sse_rows(m, rows, B, out, 0.0, dl)
                      : classification_loglik_rows(m, rows, B, out, dl, spare);
    if (grad && !reg)
        act_backward(m->spec.output_act, out, delta, B * (size_t)m->width[m->L]);
    double scale = (double)m->train->n / (double)B;
    if (grad) {
        backward(m, theta, xb, B, w, delta, spare, grad);
        for (size_t j = 0; j < m->n_weights; j++)
            grad[j] *= scale;
    }
    return complete_logp(m, scale * data, theta, grad);
}

/* ------------------------------------------------------------ the tempered density */

/* log prior + beta * log likelihood from the data term (complete_logp's input). The
 * likelihood: the Gaussian noise (-n/2 log(2 pi tau^2) - SSE / (2 tau^2)) or the
 * categorical; the prior: the Gaussian weights and, for regression, the inverse-gamma on
 * tau^2 with the Jacobian of eta (-nu1 eta - nu2 e^-eta), both untempered. */
static double tempered_complete(const bnn_model *m, double data, double beta,
                                const double *theta, double *grad, double *loglik)
{
    size_t nw = m->n_weights;
    double ll = data, lp_eta = 0.0;
    if (m->spec.task == BNN_TASK_REGRESSION) {
        double eta = theta[nw], prec = exp(-eta), n = (double)m->train->n;
        double nu1 = m->spec.nu1, nu2 = m->spec.nu2;
        ll = -0.5 * n * (LOG_2PI + eta) - 0.5 * prec * data;
        lp_eta = -nu1 * eta - nu2 * prec;
        if (grad) {
            for (size_t j = 0; j < nw; j++)
                grad[j] *= beta * prec;
            grad[nw] = beta * (-0.5 * n + 0.5 * prec * data) - nu1 + nu2 * prec;
        }
    } else if (grad) {
        for (size_t j = 0; j < nw; j++)
            grad[j] *= beta;
    }
    *loglik = isnan(ll) ? -INFINITY : ll;
    double lp = lp_eta + prior_logp(m, theta, grad) + beta * ll;
    return isnan(lp) ? -INFINITY : lp;
}

/* bnn_density.logp_tempered of every model: the data term by the path the untempered
 * density takes (so beta = 1 agrees with it to rounding), then tempered_complete. The
 * untempered logp is left as it was: no beta in its path. */
static double model_logp_tempered(const void *ctx, double *work, double beta,
                                  const double *theta, double *grad, double *loglik)
{
    const bnn_model *m = ctx;
    double data = m->ss ? bnn_linear_ss_sse(m->ss, theta, grad)
                  : use_fused(m) ? bnn_fused_eval(m->fused, theta, grad, work)
                                 : blas_data(m, work, theta, grad, 0.0);
    return tempered_complete(m, data, beta, theta, grad, loglik);
}

/* ------------------------------------------------------------ the study's Langevin map */

/* One pass of per-row gradient descent over the training rows in order, as the study's
 * langevin_gradient does, on a data-fit loss: regression, 1/2 squared error (the study's);
 * classification with the study's sigmoid outputs (output_act SIGMOID), 1/2 squared error
 * of the sigmoid outputs against one-hot targets, delta = (t - o) o (1 - o) (the study's
 * backward_pass); with the standard softmax output, cross-entropy, delta = t - softmax(z)
 * (bnnmc's, NOT the study's: the gradient of the log likelihood it samples). Each row's
 * deltas are computed with the weights before that row's update.
 *
 * The pass is a chain of dependent rows (each reads the weights the last one wrote), so its
 * speed is its latency: the study's table spends most of its sampling time here. Every
 * value is a multiply then an add, each rounded, in one fixed order; the two versions below
 * (any network, and one hidden layer of at most DRIFT_LANES units) do the same operations
 * on the same values and agree bit for bit (test_model). */

/* Layer l's outputs for one row: a = act(b + sum_i in_i W_i), summed in input order. Four
 * outputs' sums at a time are kept in registers (a store and a load per term otherwise: a
 * may alias W for the compiler). The softmax is left to the caller. */
static inline void drift_forward(const bnn_model *m, int l, const double *in, const double *out,
                                 double *a)
{
    int wi = m->width[l], wo = m->width[l + 1], j = 0;
    const double *W = out + m->w_off[l], *b = out + m->b_off[l];
    for (; j + 4 <= wo; j += 4) {
        double s0 = b[j], s1 = b[j + 1], s2 = b[j + 2], s3 = b[j + 3];
        for (int i = 0; i < wi; i++) {
            double v = in[i];
            const double *Wi = W + (size_t)i * wo + j;
            s0 += v * Wi[0];
            s1 += v * Wi[1];
            s2 += v * Wi[2];
            s3 += v * Wi[3];
        }
        a[j] = s0;
        a[j + 1] = s1;
        a[j + 2] = s2;
        a[j + 3] = s3;
    }
    for (; j < wo; j++) {
        double s0 = b[j];
        for (int i = 0; i < wi; i++)
            s0 += in[i] * W[(size_t)i * wo + j];
        a[j] = s0;
    }
    bnn_activation act = layer_act(m, l);
    if (act != BNN_ACT_SOFTMAX)
        act_forward(act, a, (size_t)wo);
}

/* The output deltas of row r from its outputs o. */
static inline void drift_output_delta(const bnn_model *m, size_t r, const double *o,
                                      double *delta)
{
    int K = m->width[m->L];
    if (m->spec.task == BNN_TASK_REGRESSION) {
        delta[0] = m->train->y[r] - o[0];
        if (m->spec.output_act == BNN_ACT_SIGMOID)
            delta[0] *= o[0] * (1.0 - o[0]);
    } else if (sigmoid_softmax(&m->spec)) {
        for (int k = 0; k < K; k++)
            delta[k] = ((k == m->label[r]) - o[k]) * o[k] * (1.0 - o[k]);
    } else {
        double mx = o[0], s = 0.0;
        for (int k = 1; k < K; k++)
            mx = o[k] > mx ? o[k] : mx;
        for (int k = 0; k < K; k++)
            s += exp(o[k] - mx);
        for (int k = 0; k < K; k++)
            delta[k] = -exp(o[k] - mx) / s;
        delta[m->label[r]] += 1.0;
    }
}

/* Layer l's step for one row: below it (l > 0) the deltas of its inputs into spare, with
 * W before this row's update; then W += lr a_in delta', b += lr delta. */
static inline void drift_backward(const bnn_model *m, int l, const double *a_in,
                                  const double *delta, double *spare, double lr, double *out)
{
    int wi = m->width[l], wo = m->width[l + 1];
    double *W = out + m->w_off[l], *b = out + m->b_off[l];
    if (l > 0) {
        for (int i = 0; i < wi; i++) {
            const double *Wi = W + (size_t)i * wo;
            double s = 0.0;
            for (int j = 0; j < wo; j++)
                s += Wi[j] * delta[j];
            spare[i] = s;
        }
        act_backward(layer_act(m, l - 1), a_in, spare, (size_t)wi);
    }
    for (int i = 0; i < wi; i++) {
        double v = lr * a_in[i];
        double *Wi = W + (size_t)i * wo;
        for (int j = 0; j < wo; j++)
            Wi[j] += v * delta[j];
    }
    for (int j = 0; j < wo; j++)
        b[j] += lr * delta[j];
}

/* Any network. work: sum_width activations, then two max_width delta buffers. */
static void drift_any(const bnn_model *m, double *work, double lr, double *out)
{
    size_t n = m->train->n;
    int L = m->L;
    for (size_t r = 0; r < n; r++) {
        const double *x = m->train->x + r * m->train->p;
        const double *in = x;
        for (int l = 0; l < L; l++) {
            double *a = act_buf(m, work, 1, l + 1);
            drift_forward(m, l, in, out, a);
            in = a;
        }
        double *delta = work + m->sum_width, *spare = delta + m->max_width;
        drift_output_delta(m, r, act_buf(m, work, 1, L), delta);
        for (int l = L - 1; l >= 0; l--) {
            const double *a_in = l == 0 ? x : act_buf(m, work, 1, l);
            drift_backward(m, l, a_in, delta, spare, lr, out);
            double *t = delta;
            delta = spare;
            spare = t;
        }
    }
}

/* One hidden layer of H <= DRIFT_LANES units, the study's network: W1, b1 and W2 are held
 * in padded copies (a row of DRIFT_LANES per input, a column of W2 per output, zeros past
 * H) and each row's hidden sums, hidden deltas and updates of W1, b1 and W2 are done on two
 * vectors of 8 lanes. Lane j does exactly the scalar operations of unit j in drift_forward
 * / drift_backward (b + x_0 W_0 + x_1 W_1 + ..., 0 + W2_j1 d_1 + ..., W += (lr x_i) d_j),
 * with no contraction into FMA (ISO C mode: -ffp-contract=off), so the result is
 * drift_any's bit for bit. The sums over the hidden units (the outputs) stay scalar, in
 * unit order. The activations go through act_forward as drift_any's do: bnn_vsigmoid's
 * lanes and tail must see the same values at the same places. Besides keeping the weights
 * in registers, the vectors spare the row's chain the reloads that a scalar store followed
 * by a vector load costs (the chain of dependent rows is the pass's whole time). work: as
 * drift_any's, then drift_extra(m) doubles. */
enum { DRIFT_LANES = 16 };
typedef double drift_v8 __attribute__((vector_size(64), may_alias));
typedef long long drift_m8 __attribute__((vector_size(64), may_alias));

static int drift_padded(const bnn_model *m)
{
    return m->L == 2 && m->width[1] <= DRIFT_LANES;
}

static size_t drift_extra(const bnn_model *m)
{
    /* W1 (p rows), b1 and W2 (K columns), 16 for the 16-lane store of the activations and
     * 8 to align to 64 bytes */
    return ((size_t)m->width[0] + 1 + (size_t)m->width[2]) * DRIFT_LANES + 16 + 8;
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void drift_one_hidden(const bnn_model *m, double *work, double lr, double *out)
{
    size_t n = m->train->n, p = (size_t)m->width[0], K = (size_t)m->width[2];
    int H = m->width[1];
    bnn_activation hact = m->spec.hidden_act, oact = m->spec.output_act;
    size_t used = (size_t)m->sum_width + 2 * (size_t)m->max_width;
    double *a = work, *o = work + H, *delta = work + m->sum_width;
    double *pad = work + (used > DRIFT_LANES ? used : DRIFT_LANES);
    pad += (8 - ((uintptr_t)pad / sizeof *pad) % 8) % 8;
    drift_v8 *Wp = (drift_v8 *)pad, *bp = Wp + 2 * p, *W2p = bp + 2;
    double *W1 = out + m->w_off[0], *b1 = out + m->b_off[0];
    double *W2 = out + m->w_off[1], *b2 = out + m->b_off[1];
    memset(pad, 0, (p + 1 + K) * DRIFT_LANES * sizeof *pad);
    for (size_t i = 0; i < p; i++)
        for (int j = 0; j < H; j++)
            pad[i * DRIFT_LANES + (size_t)j] = W1[i * (size_t)H + (size_t)j];
    for (int j = 0; j < H; j++) {
        pad[p * DRIFT_LANES + (size_t)j] = b1[j];
        for (size_t k = 0; k < K; k++)
            pad[(p + 1 + k) * DRIFT_LANES + (size_t)j] = W2[(size_t)j * K + k];
    }
    /* all ones in the lanes of the H units, zeros past them */
    drift_m8 keep[2];
    for (int j = 0; j < DRIFT_LANES; j++)
        keep[j / 8][j % 8] = j < H ? -1 : 0;
    const drift_v8 one = {1, 1, 1, 1, 1, 1, 1, 1}, zero = {0, 0, 0, 0, 0, 0, 0, 0};
    const drift_v8 lrv = lr * one;
    for (size_t r = 0; r < n; r++) {
        const double *x = m->train->x + r * p;
        drift_v8 h0 = bp[0], h1 = bp[1];
        for (size_t i = 0; i < p; i++) {
            drift_v8 v = x[i] * one;
            h0 = h0 + v * Wp[2 * i];
            h1 = h1 + v * Wp[2 * i + 1];
        }
        /* all 16 lanes stored (past H: o and the deltas, written again below) */
        memcpy(a, &h0, sizeof h0);
        memcpy(a + 8, &h1, sizeof h1);
        act_forward(hact, a, (size_t)H);
        drift_v8 a0, a1;
        memcpy(&a0, a, sizeof a0);
        memcpy(&a1, a + 8, sizeof a1);
        a0 = (drift_v8)((drift_m8)a0 & keep[0]);
        a1 = (drift_v8)((drift_m8)a1 & keep[1]);
        for (size_t k = 0; k < K; k++) {
            const double *w = (const double *)(W2p + 2 * k);
            double s = b2[k];
            for (int j = 0; j < H; j++)
                s += a[j] * w[j];
            o[k] = s;
        }
        if (oact != BNN_ACT_SOFTMAX)
            act_forward(oact, o, K);
        drift_output_delta(m, r, o, delta);
        /* the hidden deltas: W2 before this row's update */
        drift_v8 s0 = zero, s1 = zero;
        for (size_t k = 0; k < K; k++) {
            drift_v8 d = delta[k] * one;
            s0 = s0 + W2p[2 * k] * d;
            s1 = s1 + W2p[2 * k + 1] * d;
        }
        switch (hact) {
        case BNN_ACT_SIGMOID:
            s0 = s0 * (a0 * (1.0 - a0));
            s1 = s1 * (a1 * (1.0 - a1));
            break;
        case BNN_ACT_TANH:
            s0 = s0 * (1.0 - a0 * a0);
            s1 = s1 * (1.0 - a1 * a1);
            break;
        case BNN_ACT_RELU:
            s0 = (drift_v8)((drift_m8)s0 & (a0 > zero));
            s1 = (drift_v8)((drift_m8)s1 & (a1 > zero));
            break;
        default:
            break;
        }
        s0 = (drift_v8)((drift_m8)s0 & keep[0]);
        s1 = (drift_v8)((drift_m8)s1 & keep[1]);
        drift_v8 la0 = lr * a0, la1 = lr * a1;
        for (size_t k = 0; k < K; k++) {
            drift_v8 d = delta[k] * one;
            W2p[2 * k] = W2p[2 * k] + la0 * d;
            W2p[2 * k + 1] = W2p[2 * k + 1] + la1 * d;
            b2[k] += lr * delta[k];
        }
        for (size_t i = 0; i < p; i++) {
            drift_v8 v = (lr * x[i]) * one;
            Wp[2 * i] = Wp[2 * i] + v * s0;
            Wp[2 * i + 1] = Wp[2 * i + 1] + v * s1;
        }
        bp[0] = bp[0] + lrv * s0;
        bp[1] = bp[1] + lrv * s1;
    }
    for (size_t i = 0; i < p; i++)
        for (int j = 0; j < H; j++)
            W1[i * (size_t)H + (size_t)j] = pad[i * DRIFT_LANES + (size_t)j];
    for (int j = 0; j < H; j++) {
        b1[j] = pad[p * DRIFT_LANES + (size_t)j];
        for (size_t k = 0; k < K; k++)
            W2[(size_t)j * K + k] = pad[(p + 1 + k) * DRIFT_LANES + (size_t)j];
    }
}

static void model_drift(const void *ctx, double *work, double lr, const double *theta,
                        double *out)
{
    const bnn_model *m = ctx;
    memcpy(out, theta, m->dim * sizeof *out);
    if (drift_padded(m))
        drift_one_hidden(m, work, lr, out);
    else
        drift_any(m, work, lr, out);
}

void bnn_model_drift_any(const bnn_model *m, double *work, double lr, const double *theta,
                         double *out)
{
    memcpy(out, theta, m->dim * sizeof *out);
    drift_any(m, work, lr, out);
}

/* Whether the density takes the fused kernel (decided once, when the model is built), by
 * the instance the processor gets (bnn_fused_best_lanes). 8 lanes: only where the
 * processor has AVX-512, where the vectors are native (1.4-2.5x faster than the BLAS path
 * on the study's networks, bench_density, session 2); under AVX2 they are emulated as
 * pairs and the BLAS path was faster on all four of the study's networks (one process,
 * side by side: sunspot 2.1x, abalone 3.3x, iris 1.3x, ionosphere 3.5x). 4 lanes (AVX2 and
 * FMA, fused4.c): native there, and against the BLAS path on that machine (bench_density,
 * interleaved, session 6) 0.97x on sunspot's network, 1.37x abalone, 1.85x iris, 1.76x
 * ionosphere: taken (sunspot's is bound by the ten exponentials per row, which the 4-lane
 * instance computes without a table). */
#define FUSED4_FAST 1

int bnn_model_has_fused(const bnn_model *m) { return m->fused != NULL; }

static int fused_is_fast(int lanes)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (lanes == 8)
        return __builtin_cpu_supports("avx512f") != 0;
    return FUSED4_FAST;
#else
    (void)lanes;
    return 1;
#endif
}

/* The centred density (center.c) over the model's density as it is now: built again when
 * the fused kernel changes, since it holds the inner density's work size. */
static int make_center(bnn_model *m)
{
    bnn_density inner = model_density(m);
    bnn_center *c = bnn_center_new(&inner, m->train, m->width[1], m->spec.hidden_act,
                                   use_fused(m) ? center_fused : NULL);
    if (!c)
        return -1;
    /* the axes over the new centre before the old one goes: on failure the model keeps
     * both old ones, whose pointers still agree */
    bnn_center *old = m->center;
    m->center = c;
    if (m->axes && make_axes(m) != 0) {
        m->center = old;
        bnn_center_free(c);
        return -1;
    }
    bnn_center_free(old);
    return 0;
}

/* The first layer on the inputs' axes (axes.c) over the density as it is now (centred or
 * the model's own): built again when either changes, since it holds the inner density. */
static int make_axes(bnn_model *m)
{
    bnn_density inner = m->center ? bnn_center_density(m->center) : model_density(m);
    bnn_axes *a = bnn_axes_new(&inner, m->train, m->width[1], m->w_off[0], m->b_off[0]);
    if (!a)
        return -1;
    bnn_axes_free(m->axes);
    m->axes = a;
    return 0;
}

/* Also builds the model's kernel in the first place (lanes 0: the processor's). */
int bnn_model_set_fused_lanes(bnn_model *m, int lanes)
{
    if (!m->train || m->L != 2 || m->width[2] > BNN_FUSED_MAXK || sigmoid_softmax(&m->spec))
        return -1;
    const bnn_model_spec *sp = &m->spec;
    bnn_fused *f = bnn_fused_new(m->train->x, m->train->y, m->label, m->train->n, m->width[0],
                                 m->width[1], m->width[2], sp->hidden_act, sp->output_act, lanes,
                                 sp->float32);
    if (!f)
        return -1;
    bnn_fused_free(m->fused);
    m->fused = f;
    size_t fw = bnn_fused_work(f);
    m->work_len = fw > m->work_len ? fw : m->work_len;
    return m->center ? make_center(m) : m->axes ? make_axes(m) : 0;
}

static int use_fused(const bnn_model *m)
{
    return m->fused && m->fused_fast;
}

int bnn_model_float32(const bnn_model *m) { return use_fused(m) && bnn_fused_single(m->fused); }

/* The sum of squared residuals at theta, by the density's own path (bitwise the value its
 * log density uses). */
static double model_sse(const void *ctx, double *work, const double *theta)
{
    const bnn_model *m = ctx;
    if (m->ss)
        return bnn_linear_ss_sse(m->ss, theta, NULL);
    if (use_fused(m))
        return bnn_fused_eval(m->fused, theta, NULL, work);
    forward(m, theta, m->train->x, m->train->n, work);
    return regression_sse(m, act_buf(m, work, m->train->n, m->L), 0.0, NULL);
}

static void set_noise(bnn_model *m)
{
    bnn_gaussian_noise *nz = &m->noise;
    nz->n_rows = m->train->n;
    nz->eta = m->n_weights;
    nz->nu1 = m->spec.nu1;
    nz->nu2 = m->spec.nu2;
    nz->sse = model_sse;
    if (m->ss) {
        nz->n_linear = m->n_weights;
        nz->ztz = bnn_linear_ss_ztz(m->ss);
        nz->zty = bnn_linear_ss_zty(m->ss);
        nz->prior_var = bnn_model_prior_var(&m->spec, 0);   /* the one layer */
    }
}

/* The density in the model's own coordinates. */
static bnn_density model_density(const bnn_model *m)
{
    bnn_density d = {0};
    d.dim = m->dim;
    d.n_weights = m->n_weights;
    d.work_len = m->work_len;
    d.logp = !m->train ? NULL : m->ss ? linear_logp : use_fused(m) ? bnn_model_logp_fused
                                                                   : bnn_model_logp_blas;
    d.drift = m->train ? model_drift : NULL;
    /* a flat prior is no density for the hot replicas to sample: no tempering */
    d.logp_tempered = m->train && !m->flat ? model_logp_tempered : NULL;
    d.noise = m->train && m->spec.task == BNN_TASK_REGRESSION ? &m->noise : NULL;
    d.n_rows = m->train ? m->train->n : 0;
    d.batch_work = batch_work_per_row(m);
    d.logp_batch = m->train ? model_logp_batch : NULL;
    d.ctx = m;
    return d;
}

bnn_density bnn_model_density(const bnn_model *m)
{
    if (m->axes)
        return bnn_axes_density(m->axes);
    if (m->center)
        return bnn_center_density(m->center);
    return model_density(m);
}

/* ------------------------------------------------------------ names and predictions */

void bnn_model_param_name(const bnn_model *m, size_t k, char *buf, size_t len)
{
    if (k >= m->n_weights) {
        snprintf(buf, len, "tau2");
        return;
    }
    for (int l = m->L - 1; l >= 0; l--) {
        if (k >= m->b_off[l]) {
            snprintf(buf, len, "b%d.%zu", l + 1, k - m->b_off[l] + 1);
            return;
        }
        if (k >= m->w_off[l]) {
            size_t r = k - m->w_off[l], wo = (size_t)m->width[l + 1];
            snprintf(buf, len, "W%d.%zu.%zu", l + 1, r / wo + 1, r % wo + 1);
            return;
        }
    }
}

void bnn_model_constrain(const bnn_model *m, const double *theta, double *out)
{
    memcpy(out, theta, m->n_weights * sizeof *out);
    if (m->dim > m->n_weights)
        out[m->n_weights] = exp(theta[m->n_weights]);
}

bnn_status bnn_model_unconstrain(const bnn_model *m, const double *in, double *theta,
                                 bnn_error *err)
{
    double tau2 = m->dim > m->n_weights ? in[m->n_weights] : 1.0;
    if (!(tau2 > 0) || !isfinite(tau2)) {
        /* a caller that points at the refused value finds it as theta's one NaN */
        memset(theta, 0, m->dim * sizeof *theta);
        theta[m->n_weights] = NAN;
        return bnn_fail(err, BNN_EINVAL, "tau2 must be positive and finite, got %g", tau2);
    }
    memmove(theta, in, m->n_weights * sizeof *theta);
    if (m->dim > m->n_weights)
        theta[m->n_weights] = log(tau2);
    return BNN_OK;
}

size_t bnn_model_eta_index(const bnn_model *m)
{
    return m->n_weights;
}

size_t bnn_model_predict_work(const bnn_model *m, size_t n)
{
    return n * (size_t)m->sum_width;
}

bnn_status bnn_model_predict(const bnn_model *m, const double *theta, const bnn_table *t,
                             double *out, double *work, bnn_error *err)
{
    if (t->p != (size_t)m->width[0])
        return bnn_fail(err, BNN_EINVAL, "%s: %zu inputs, the model expects %d", t->source,
                        t->p, m->width[0]);
    forward(m, theta, t->x, t->n, work);
    const double *o = act_buf(m, work, t->n, m->L);
    int K = m->width[m->L];
    if (m->spec.task == BNN_TASK_REGRESSION) {
        memcpy(out, o, t->n * sizeof *out);
        return BNN_OK;
    }
    for (size_t i = 0; i < t->n; i++) {
        const double *zi = o + i * (size_t)K;
        double *pi = out + i * (size_t)K;
        double mx = zi[0], s = 0.0;
        for (int k = 1; k < K; k++)
            mx = zi[k] > mx ? zi[k] : mx;
        for (int k = 0; k < K; k++)
            s += (pi[k] = exp(zi[k] - mx));
        for (int k = 0; k < K; k++)
            pi[k] /= s;
    }
    return BNN_OK;
}

/* The study's starting point: every weight ~ N(0, 1); for regression eta = log of the mean
 * squared residual at those weights, so tau^2 starts at the scale the data say. */
bnn_status bnn_model_init(const bnn_model *m, uint64_t seed, double *theta, double *work)
{
    if (bnn_gaussian_fill(seed, theta, m->n_weights))
        return BNN_ENOMEM;
    if (m->spec.task == BNN_TASK_REGRESSION && m->train) {
        size_t n = m->train->n;
        forward(m, theta, m->train->x, n, work);
        const double *o = act_buf(m, work, n, m->L);
        double sse = 0;
        for (size_t i = 0; i < n; i++)
            sse += (m->train->y[i] - o[i]) * (m->train->y[i] - o[i]);
        theta[m->n_weights] = log(fmax(sse / (double)n, 1e-12));
    }
    return BNN_OK;
}

/* ------------------------------------------------------------ predictions of many draws */

/* Predictions of B draws at once. The first layer of all B draws is one matrix product
 * X (n x w0) * [W1_1 | ... | W1_B] (w0 x B w1), far faster than B thin products; later
 * layers run per draw on strided blocks of that packed result. Layout of every layer's
 * output: n x (B w), draw b's block at column b w. */
size_t bnn_model_predict_batch_work(const bnn_model *m, size_t n, size_t B)
{
    return (size_t)m->width[0] * B * (size_t)m->width[1] + n * B * (size_t)m->sum_width;
}

/* With logits = 1 a classifier's final softmax is left out: the output is its input (the raw
 * z, or sigmoid(z) under --output sigmoid), as the log-likelihood wants log-softmax, exact
 * where a probability would underflow. */
static void predict_batch(const bnn_model *m, const double *theta, size_t stride, size_t B,
                          const bnn_table *t, double *out, double *work, int logits)
{
    size_t n = t->n;
    double *packed = work;
    double *a = packed + (size_t)m->width[0] * B * (size_t)m->width[1];
    const double *in = t->x;
    size_t ld_in = (size_t)m->width[0];
    for (int l = 0; l < m->L; l++) {
        size_t wi = (size_t)m->width[l], wo = (size_t)m->width[l + 1], ld = B * wo;
        double *dst = l == m->L - 1 ? out : a;
        for (size_t i = 0; i < n; i++)
            for (size_t b = 0; b < B; b++) {
                const double *bias = theta + b * stride + m->b_off[l];
                for (size_t j = 0; j < wo; j++)
                    dst[i * ld + b * wo + j] = bias[j];
            }
        if (l == 0) {
            for (size_t i = 0; i < wi; i++)
                for (size_t b = 0; b < B; b++)
                    memcpy(packed + i * ld + b * wo, theta + b * stride + m->w_off[0] + i * wo,
                           wo * sizeof(double));
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)ld, (int)wi, 1.0,
                        in, (int)ld_in, packed, (int)ld, 1.0, dst, (int)ld);
        } else {
            for (size_t b = 0; b < B; b++)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)wo, (int)wi,
                            1.0, in + b * wi, (int)ld_in, theta + b * stride + m->w_off[l],
                            (int)wo, 1.0, dst + b * wo, (int)ld);
        }
        act_forward_whole_lanes(layer_act(m, l), dst, n * ld);   /* nothing for softmax */
        if (l == m->L - 1 && m->spec.task == BNN_TASK_CLASSIFICATION && !logits) {
            for (size_t r = 0; r < n * B; r++) {
                double *z = dst + r * wo, mx = z[0], s = 0.0;
                for (size_t k = 1; k < wo; k++)
                    mx = z[k] > mx ? z[k] : mx;
                for (size_t k = 0; k < wo; k++)
                    s += (z[k] = exp(z[k] - mx));
                for (size_t k = 0; k < wo; k++)
                    z[k] /= s;
            }
        }
        in = dst;
        ld_in = ld;
        a = dst + n * ld;
    }
}

void bnn_model_predict_batch(const bnn_model *m, const double *theta, size_t stride, size_t B,
                             const bnn_table *t, double *out, double *work)
{
    predict_batch(m, theta, stride, B, t, out, work, 0);
}

void bnn_model_logits_batch(const bnn_model *m, const double *theta, size_t stride, size_t B,
                            const bnn_table *t, double *out, double *work)
{
    predict_batch(m, theta, stride, B, t, out, work, 1);
}
