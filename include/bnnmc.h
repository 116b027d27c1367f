/*
 * bnnmc.h — Bayesian linear, logistic and neural-network models sampled by MCMC.
 *
 * This is the one public header. Read it top to bottom:
 *   1. errors          every call returns a bnn_status and, on failure, a message
 *   2. tables          numeric data read from text files or generated
 *   3. the density     the interface every model implements and every sampler uses
 *   4. models          linear / logistic / feed-forward network posteriors
 *   5. sampling        the kernels (samplers) and chains of MCMC draws over any density
 *   6. diagnostics     R-hat, ESS, MCSE and quantiles as R's posterior computes them
 *   7. predictions     the posterior predictive distribution of a model on a table
 *   8. model comparison PSIS-LOO, WAIC and loo_compare as R's loo computes them
 *   9. variational     ADVI: a Gaussian approximation of any density (CmdStan's variational)
 *
 * The library never prints and never exits; it reports through bnn_error. (It switches off
 * GSL's abort-on-error handler, once, the first time it reaches GSL: GSL's failures come
 * back as return values that bnnmc checks.)
 * Nothing here keeps global mutable state: two threads may use two objects freely,
 * and a const object (a model, a table) may be shared by any number of threads.
 */
#ifndef BNNMC_H
#define BNNMC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BNNMC_VERSION "0.1.0"

/* ---------------------------------------------------------------- 1. errors */

typedef enum {
    BNN_OK = 0,     /* success */
    BNN_ENOMEM,     /* an allocation failed */
    BNN_EIO,        /* a file could not be opened, read or written */
    BNN_EPARSE,     /* input data are malformed; the message names file, line, column */
    BNN_EINVAL,     /* an argument or setting is out of its domain */
    BNN_ENUMERIC,   /* a non-finite log density or gradient where one must be finite */
    BNN_EINTR       /* the caller asked the run to stop (see bnn_run_config.stop) */
} bnn_status;

/* Filled by a failing call when the caller passes one; msg is a single line. */
typedef struct {
    bnn_status code;
    char msg[512];
} bnn_error;

/* A constant string naming a status ("out of memory", ...). */
const char *bnn_status_str(bnn_status s);
/* Records code and a formatted one-line message in err (when err is not NULL) and returns
 * code: for callbacks that report a failure (bnn_run_config.checkpoint), and the library's
 * own failing paths (`return bnn_fail(err, BNN_EINVAL, "...", ...);`). */
bnn_status bnn_fail(bnn_error *err, bnn_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---------------------------------------------------------------- 2. tables */

/*
 * A table is n observations of p inputs and one target. x is row-major (n x p) so a whole
 * batch is one matrix for CBLAS. line[i] is the file line the row came from (1-based), kept
 * so later checks (class labels) can still point at the place.
 */
typedef struct {
    size_t n, p;
    double *x;        /* n x p inputs, row-major */
    double *y;        /* n targets */
    size_t *line;     /* n source line numbers; 0 for generated data */
    int target_col;   /* 1-based column the target came from */
    char *source;     /* file name or "builtin:NAME" */
} bnn_table;

/* Reads a text table: numbers separated by spaces, tabs or commas; a first line with no
 * number is a header; blank lines are skipped. target_col is 1-based; 0 means the last
 * column. Any malformed field is BNN_EPARSE with "FILE:LINE:COL: ..." in err. The file is
 * read a line at a time into the table: it needs the table's memory and a line's, never
 * the file's. */
bnn_status bnn_table_read(bnn_table **out, const char *path, int target_col, bnn_error *err);
void bnn_table_free(bnn_table *t);
/* An n x p table of zeros named source, to fill by hand; NULL when out of memory. */
bnn_table *bnn_table_new(size_t n, size_t p, const char *source);

typedef enum {
    BNN_TASK_AUTO = 0,          /* decide from the targets (bnn_table_infer_task) */
    BNN_TASK_REGRESSION,
    BNN_TASK_CLASSIFICATION
} bnn_task;

/* A test table must have as many inputs as the training table. */
bnn_status bnn_table_check_inputs(const bnn_table *test, const bnn_table *train,
                                  bnn_error *err);

/* Classification if every target is an integer in 0..K-1 with K <= 20 and every class has a
 * row; otherwise regression. *n_classes receives K (0 for regression). */
bnn_task bnn_table_infer_task(const bnn_table *t, int *n_classes);

/* Checks targets as class labels 0..K-1. With *n_classes == 0 (a training table) K is
 * found from the labels and every class must have a row; otherwise (a test table) labels
 * must be below the given K. Errors name the line and the target's column. */
bnn_status bnn_table_check_classes(const bnn_table *t, int *n_classes, bnn_error *err);

/* Built-in, deterministic data sets for demos and tests. */
typedef struct {
    const char *name;
    const char *description;
    bnn_task task;
    int n_classes;           /* 0 for regression */
} bnn_dataset_info;

/* The i-th built-in data set, or NULL past the end. */
const bnn_dataset_info *bnn_dataset_get(int i);
/* Generates a built-in data set's train and test tables; seed changes the noise only.
 * "friedman1:N" is friedman1 with N training rows (below). */
bnn_status bnn_dataset_make(const char *name, uint64_t seed, bnn_table **train,
                            bnn_table **test, bnn_error *err);

/*
 * Friedman's first function (Friedman 1991, "Multivariate adaptive regression splines"), a
 * data set of any size: 10 inputs uniform on [0,1], of which 5 matter, and
 * y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + N(0, 1), given as (y + 6) / 42 so
 * that the target lies in (0, 1) (beyond it only for noise past 6 sd) for a sigmoid output;
 * the noise sd is then 1/42. Rows are generated one after another, so a table of 10^7 rows
 * can be written without being held: the training rows come from stream 0 of the seed and
 * the test rows from stream 1, so neither depends on the other's size. "friedman1" alone is
 * N = 200 rows (Friedman's); either way the test table has BNN_FRIEDMAN1_TEST rows.
 */
enum { BNN_FRIEDMAN1_INPUTS = 10, BNN_FRIEDMAN1_TEST = 1000 };
#define BNN_FRIEDMAN1_MAX_ROWS 1000000000UL
typedef struct bnn_friedman1 bnn_friedman1;
/* *n_rows from "friedman1" (200) or "friedman1:N" (1 <= N <= BNN_FRIEDMAN1_MAX_ROWS): 1;
 * 0 for another name; -1 for friedman1 with a bad N (err says why). */
int bnn_friedman1_name(const char *name, size_t *n_rows, bnn_error *err);
/* A generator of the training (part 0) or test (part 1) rows of seed; NULL when out of
 * memory. */
bnn_friedman1 *bnn_friedman1_new(uint64_t seed, int part);
/* The next n rows into xy (n x 11, row-major: the 10 inputs, then the target). */
void bnn_friedman1_rows(bnn_friedman1 *g, size_t n, double *xy);
void bnn_friedman1_free(bnn_friedman1 *g);

/* ---------------------------------------------------------------- 3. the density */

/*
 * The spine of the library. A density is a parameter dimension and one function that
 * returns log p(theta | data) up to a constant and, when grad != NULL, writes its gradient.
 * Every model implements it; every sampler uses nothing else. A user's own model is just
 * another density.
 *
 * logp must not allocate: the caller hands it work, an array of work_len doubles that it
 * owns and never shares between threads. ctx is read-only, so one density serves several
 * chains at once. logp returns -INFINITY outside the support and never NaN.
 *
 * The first n_weights coordinates are "weights" (proposal scale --step); the rest are scale
 * parameters such as eta = log tau^2 (proposal scale --step-eta). A user density sets
 * n_weights = dim.
 *
 * drift, optional, is the study's Langevin map g(theta): one pass of per-row gradient
 * descent with learning rate lr on the data-fit loss, applied to the weights (the other
 * coordinates are copied). The models' loss: squared error for regression and for the
 * study's sigmoid classification outputs (one-hot targets), cross-entropy for softmax. Samplers that need it fall back to
 * g(theta) = theta + lr * grad log p(theta) when it is NULL.
 */
typedef double (*bnn_logp_fn)(const void *ctx, double *work, const double *theta,
                              double *grad);
typedef void (*bnn_drift_fn)(const void *ctx, double *work, double lr, const double *theta,
                             double *out);

/*
 * Optional, for samplers that draw from exact conditionals (gibbs): the density is a
 * regression with Gaussian noise, y_i ~ N(f(x_i; w), tau^2) for n_rows rows, tau^2 ~
 * inverse-gamma(nu1, nu2), and eta = log tau^2 at coordinate eta. sse(ctx, work, theta) is
 * the sum of squared residuals at theta. When f is linear in the first n_linear coordinates,
 * f = Z w, with a N(0, prior_var) prior on each, ztz (n_linear x n_linear, row-major) and zty
 * are Z'Z and Z'y; otherwise n_linear = 0 and they are NULL. (gibbs samples a density whose
 * coordinates are exactly the n_linear weights and then eta.)
 */
typedef struct {
    size_t n_rows, eta;
    double nu1, nu2;
    double (*sse)(const void *ctx, double *work, const double *theta);
    size_t n_linear;
    const double *ztz, *zty;
    double prior_var;
} bnn_gaussian_noise;

/*
 * Optional, for tempering samplers (pt): the density as log prior + log likelihood, with the
 * likelihood raised to a power beta in [0, 1]. Returns log prior + beta * log likelihood (at
 * beta = 1 the value of logp, up to rounding), its gradient in grad when grad != NULL, and
 * the log likelihood itself in *loglik. What is "prior" is the density's choice, but it must
 * be a proper-enough density on its own for the hot replicas to sample (the models: the
 * Gaussian prior on the weights and, for regression, the inverse-gamma prior on tau^2 with
 * the Jacobian of eta = log tau^2). Same rules as logp: no allocation, work of work_len.
 */
typedef double (*bnn_logp_tempered_fn)(const void *ctx, double *work, double beta,
                                       const double *theta, double *grad, double *loglik);

/*
 * Optional, for the minibatch samplers (sgld, sghmc), on a density of n_rows independent
 * rows: log prior + (n_rows / B) * the log likelihood of rows[0..B) (indices below n_rows),
 * and its gradient in grad when grad != NULL. Over a uniform draw of the rows it is an
 * unbiased estimate of logp and of its gradient; with every row once it is logp (to
 * rounding). Same rules as logp, but its scratch is work of B * batch_work doubles (not
 * work_len): no allocation, whole-batch BLAS.
 */
typedef double (*bnn_logp_batch_fn)(const void *ctx, double *work, const size_t *rows, size_t B,
                                    const double *theta, double *grad);

typedef struct {
    size_t dim;
    size_t n_weights;
    size_t work_len;
    bnn_logp_fn logp;
    bnn_drift_fn drift;                /* may be NULL */
    const void *ctx;
    const bnn_gaussian_noise *noise;   /* may be NULL */
    bnn_logp_tempered_fn logp_tempered;   /* may be NULL (then pt refuses the density) */
    size_t n_rows;                     /* rows of data logp_batch draws from */
    size_t batch_work;                 /* logp_batch's scratch per row of a batch */
    bnn_logp_batch_fn logp_batch;      /* may be NULL (then sgld and sghmc refuse it) */
    /* May be NULL (both): the density's coordinates are then the model's. Otherwise the
     * samplers move in the density's coordinates and to_model maps a point to the model's
     * (what draws record), from_model back (starting points are given in the model's);
     * work of work_len. bnn_run maps; bnn_optimize and bnn_vi_run work in the density's
     * coordinates as they are. */
    void (*to_model)(const void *ctx, double *work, const double *theta, double *out);
    void (*from_model)(const void *ctx, double *work, const double *in, double *theta);
    /* With to_model: which coordinates these are, as bits (the models': BNN_COORDS_CENTER,
     * BNN_COORDS_AXES; 0 names none). A checkpoint records it, so that a chain resumes only
     * in the coordinates it moved in. */
    unsigned coords;
} bnn_density;
/* The models' reparameterisations (bnn_model_spec.center, .axes), as bnn_density.coords bits. */
#define BNN_COORDS_CENTER 1u
#define BNN_COORDS_AXES 2u
/* (Fields may be added: build a density with a designated initialiser, which zeroes the
 * rest, as examples/binomial.c does.) */

/* ---------------------------------------------------------------- 4. models */

typedef enum {
    BNN_ACT_IDENTITY = 0,
    BNN_ACT_SIGMOID,
    BNN_ACT_TANH,
    BNN_ACT_RELU,
    BNN_ACT_SOFTMAX            /* output layer of classification only */
} bnn_activation;

/* An activation's name as the run folder and the options spell it: "identity", "sigmoid",
 * "tanh", "relu", "softmax" ("?" for a value out of range). */
const char *bnn_activation_name(bnn_activation a);
/* The activation of that name, or -1 when there is none. */
int bnn_activation_from_name(const char *name);

#define BNN_MAX_HIDDEN 8

/*
 * A feed-forward model. With n_hidden = 0 it is the linear model: linear regression, or
 * multinomial logistic regression (softmax, K = 2 for two classes as the study does).
 *
 * Regression: y ~ N(f(x; w), tau^2), tau^2 ~ inverse-gamma(nu1, nu2), sampled as
 * eta = log tau^2 with the Jacobian, so nu1 = nu2 = 0 is the improper prior 1/tau^2.
 * Classification: y ~ Categorical(softmax(f(x; w))) with output_act SOFTMAX (the standard),
 * or Categorical(softmax(sigmoid(f(x; w)))) with output_act SIGMOID (the study's network).
 * Every weight and bias of layer l ~ N(0, bnn_model_prior_var(spec, l)), or flat.
 */
typedef struct {
    bnn_task task;                   /* REGRESSION or CLASSIFICATION (not AUTO) */
    int n_inputs;
    int n_classes;                   /* classification: K >= 2; regression: ignored */
    int n_hidden;                    /* number of hidden layers, 0..BNN_MAX_HIDDEN */
    int hidden[BNN_MAX_HIDDEN];      /* their widths */
    bnn_activation hidden_act;       /* SIGMOID, TANH or RELU */
    bnn_activation output_act;       /* regression: SIGMOID or IDENTITY; classification: SOFTMAX
                                        or SIGMOID (softmax of sigmoid outputs) */
    double prior_var;                /* sigma^2 of the Gaussian prior, > 0; INFINITY: flat */
    double nu1, nu2;                 /* inverse-gamma prior on tau^2 (see below) */
    /* Per weight layer (layer l's weights and biases, first layer first), its own prior
     * variance; 0 (as a zeroed spec has) means prior_var. INFINITY is a flat prior. */
    double prior_var_layer[BNN_MAX_HIDDEN + 1];
    /* Regression with one hidden layer: the density samples the output level
     * c = b2 + sum_k v_k mean_i h_k(x_i) in place of the output bias b2 (the same posterior;
     * its stiffest direction becomes one coordinate). Draws are reported as b2 all the same
     * (bnn_density.to_model). Ignored by other models. */
    int center;
    /* A network (one hidden layer or more): the density samples each first-layer unit's
     * input weights w_k in the principal axes of the training inputs, u_k = Q'w_k (Q the
     * eigenvectors of their covariance), and its bias as the unit's value at the inputs'
     * mean, c_k = b_k + mean(x)'w_k. A rotation and a shear: the same posterior (|Jacobian| 1),
     * but weights along correlated inputs become coordinates a diagonal metric scales.
     * Draws are reported as W1 and b1 all the same. Ignored by linear models. */
    int axes;
    /* A network with one hidden layer: its likelihood and gradient in single precision
     * (twice the SIMD lanes: about 1.7x the evaluations a second on the study's networks),
     * the residuals' squares and log-likelihood terms summed in double. The density sampled
     * is then the one computed so: its log within 4e-4 of the double one's (median 5e-5) at
     * the study's abalone's draws. Predictions and the log-likelihoods for loo stay double. */
    int float32;
} bnn_model_spec;
/*
 * Priors and propriety (bnn_model_new refuses, BNN_EINVAL, a posterior that is improper):
 * - a flat prior (variance INFINITY) is allowed only on the output layer: the weights of a
 *   layer that feeds hidden units are unbounded under it (a saturating sigmoid/tanh unit,
 *   or a dead relu unit, leaves the likelihood flat along a ray to infinity);
 * - regression with a sigmoid output refuses it too (the output saturates the same way);
 * - the linear regression (identity output) with a flat prior needs n > p (p = inputs + 1
 *   coefficients), Z'Z of full rank and nu1 > -(n - p)/2: the marginal of tau^2 is then
 *   inverse-gamma(nu1 + (n - p)/2, nu2 + SSE_ols/2), and beta | y a multivariate t;
 *   with nu2 = 0 also SSE_ols > 0;
 * - regression with Gaussian priors needs nu1 > -n/2 (tau^2 | w is inverse-gamma(nu1 + n/2,
 *   nu2 + SSE/2)); nu2 >= 0 always. nu1 = -1/2, nu2 = 0 is the flat prior on sigma;
 *   nu1 = nu2 = 0 the study's 1/tau^2;
 * - a network regression with a flat output layer: n > w + 1 (w the last hidden width) and
 *   nu1 > -(n - w - 1)/2, the linear bounds given the hidden units (sufficient conditions
 *   are not proven for the network: the CLI warns);
 * - classification with a flat prior is proper only when the classes are not separable:
 *   not checked (the CLI warns).
 * Only proper factors contribute normalising constants to the log density: the Gaussian of
 * each layer with a finite variance, and the inverse-gamma when nu1 > 0 and nu2 > 0.
 */

/* The prior variance of weight layer l (0-based) under spec: its own or prior_var. */
double bnn_model_prior_var(const bnn_model_spec *spec, int layer);

/* The study's settings: nn = one hidden layer of 10 sigmoid units, prior variance 25,
 * sigmoid output for regression; linear = no hidden layer, prior variance 5. Classification
 * gets the standard SOFTMAX output (the study's network's is SIGMOID: set output_act, as the
 * CLI's --preset study does). */
void bnn_model_spec_study(bnn_model_spec *spec, int nn, bnn_task task, int n_inputs,
                          int n_classes);

typedef struct bnn_model bnn_model;

/* Builds the posterior of spec given the training table (which must outlive the model:
 * it is not copied). Classification labels must already be checked. With train == NULL
 * the model can only predict: its density has logp == NULL. */
bnn_status bnn_model_new(bnn_model **out, const bnn_model_spec *spec, const bnn_table *train,
                         bnn_error *err);
void bnn_model_free(bnn_model *m);

const bnn_model_spec *bnn_model_get_spec(const bnn_model *m);
/* 1 when the density computes its likelihood in single precision: spec.float32 on a model
 * the single-precision kernel takes (one hidden layer, training data, a processor with AVX2
 * or AVX-512, not the study's softmax of sigmoid outputs); 0 otherwise. */
int bnn_model_float32(const bnn_model *m);
/* The model as a density over the unconstrained vector (weights..., eta). */
bnn_density bnn_model_density(const bnn_model *m);
size_t bnn_model_dim(const bnn_model *m);
/* Outputs per row: 1 for regression, K for classification. */
int bnn_model_n_outputs(const bnn_model *m);

/* The log prior alone at theta: the Gaussian prior on the weights and, for regression, the
 * inverse-gamma prior on tau^2 with the Jacobian of eta = log tau^2 (bnn_density.logp is
 * this plus the log-likelihood of the training rows). grad, when not NULL, receives its
 * gradient (dim values). Needs no training table: a caller that splits the rows over
 * processes adds it once to the sum of the row parts' log-likelihoods. */
double bnn_model_log_prior(const bnn_model *m, const double *theta, double *grad);

/* The i-th parameter's name as in the run folder: "W1.3.2", "b1.2", ..., "tau2". */
void bnn_model_param_name(const bnn_model *m, size_t i, char *buf, size_t len);
/* Maps the unconstrained vector to the reported one (eta -> tau2 = exp(eta)). */
void bnn_model_constrain(const bnn_model *m, const double *theta, double *out);
/* The inverse: the reported vector (as in the run folder's draws or an --init file) to the
 * unconstrained one (tau2 -> eta = log tau2); in and theta may be the same array. A value
 * outside its domain (tau2 not positive and finite) gives BNN_EINVAL and a message naming
 * the parameter; theta is then zero but for a NaN at that value's coordinate, so a caller
 * can point at it. */
bnn_status bnn_model_unconstrain(const bnn_model *m, const double *in, double *theta,
                                 bnn_error *err);

/* A starting point: weights ~ N(0, 1) from seed (the study's), and for regression eta =
 * log of the mean squared residual there. work is the density's work array. */
bnn_status bnn_model_init(const bnn_model *m, uint64_t seed, double *theta, double *work);

/* Doubles of scratch that bnn_model_predict needs for a table of n rows. */
size_t bnn_model_predict_work(const bnn_model *m, size_t n);
/* Predictions of one parameter vector for every row of t: regression, the mean f(x)
 * (n values); classification, the class probabilities (n x K, row-major). */
bnn_status bnn_model_predict(const bnn_model *m, const double *theta, const bnn_table *t,
                             double *out, double *work, bnn_error *err);

/* Predictions of B draws at once (draw b at theta + b * stride), written to out as an
 * n x (B * outputs) matrix: row i holds draw 0's outputs, then draw 1's, ... (class
 * probabilities for classification). work holds bnn_model_predict_batch_work(m, n, B)
 * doubles. Much faster than B calls of bnn_model_predict: the first layer of all B draws
 * is one matrix product. */
size_t bnn_model_predict_batch_work(const bnn_model *m, size_t n, size_t B);
void bnn_model_predict_batch(const bnn_model *m, const double *theta, size_t stride, size_t B,
                             const bnn_table *t, double *out, double *work);

/* ---------------------------------------------------------------- 5. sampling */

/*
 * A sampler is a transition kernel: a constant object in the library's registry, named on
 * the command line by --sampler NAME. Its own settings (a random walk's step, NUTS's
 * maximum tree depth, ...) are listed by its options table, with their defaults; a run sets
 * them by name (bnn_run_config_set). The kernels: "rw" random-walk Metropolis-Hastings;
 * "langevin" the study's Langevin-gradient / random-walk mixture; "mala" Metropolis-adjusted
 * Langevin; "hmc" static HMC; "nuts" the No-U-Turn sampler as Stan's (multinomial,
 * generalised U-turn criterion); "gibbs" exact conditionals (needs bnn_density.noise with
 * a linear f); "slice" Neal's slice sampler, one coordinate at a time; "pt" parallel
 * tempering: K replicas of a base kernel (option base, nuts by default) at tempered
 * likelihoods, exchanging states (needs bnn_density.logp_tempered); "sgld" and "sghmc" the
 * minibatch samplers, APPROXIMATE (bnn_kernel.approximate; need bnn_density.logp_batch).
 * mala, hmc and nuts (and pt's replicas of them) tune their step size and diagonal metric
 * during burn-in.
 */
typedef enum {
    BNN_OPT_REAL,              /* a number in [lo, hi] */
    BNN_OPT_POSITIVE,          /* a number > 0 (lo, hi unused) */
    BNN_OPT_INT,               /* an integer in [lo, hi] */
    BNN_OPT_KERNEL             /* another kernel (pt's base): its index in the registry
                                  (bnn_kernel_at); def_kernel names the default. The command
                                  line and the run folder spell it by name. A kernel with such
                                  an option also accepts the chosen kernel's settings. */
} bnn_option_type;

typedef struct {
    const char *name;          /* "max_depth"; on the command line --max-depth */
    bnn_option_type type;
    double def, lo, hi;
    const char *help;          /* one line */
    const char *def_kernel;    /* BNN_OPT_KERNEL: the default kernel's name (def unused) */
} bnn_option;

typedef struct bnn_kernel_ops bnn_kernel_ops;   /* how it moves: internal */

typedef struct {
    const char *name;          /* "nuts" */
    const char *help;          /* one line */
    const char *algorithm, *engine;   /* CmdStan's CSV header: "hmc", "nuts" */
    int adapts;                /* tunes step size and metric in burn-in (bnn_run_config) */
    double target_accept;      /* adaptive kernels: default mean acceptance to tune to */
    double stepsize;           /* adaptive kernels: default initial step size */
    int dense_metric;          /* adaptive kernels: takes BNN_METRIC_DENSE too */
    int approximate;           /* its draws are not from the posterior, only near it at a
                                  small step (sgld, sghmc: no Metropolis correction) */
    const bnn_option *options; /* its settings, ended by a NULL name */
    const char *const *columns;   /* its own sampler columns after CmdStan's six ("__"
                                     names), ended by NULL; NULL when none */
    const bnn_kernel_ops *ops;
} bnn_kernel;

/* The i-th kernel of the registry, NULL past the end; the kernel called name, or NULL. */
const bnn_kernel *bnn_kernel_at(size_t i);
const bnn_kernel *bnn_kernel_find(const char *name);
/* The registry index of k (for a BNN_OPT_KERNEL setting), or -1. */
int bnn_kernel_index(const bnn_kernel *k);
/* The option of k called name, or NULL. */
const bnn_option *bnn_kernel_option(const bnn_kernel *k, const char *name);

/* What a progress callback sees, summed over chains. */
typedef struct {
    size_t iter_done, iter_total;
    size_t accepted;          /* accepted proposals so far */
    double seconds;           /* wall time since the start */
    double seconds_max;       /* the run's time limit (bnn_run_config.max_seconds), or 0 */
} bnn_progress;

enum { BNN_MAX_SETTINGS = 16 };

/* The metric (mass matrix) of the Hamiltonian kernels, as Stan's diag_e and dense_e: a
 * diagonal inverse metric estimated from the window's variances, or a dense one from its
 * covariance (hmc and nuts only; for posteriors whose correlations a diagonal cannot undo). */
typedef enum {
    BNN_METRIC_DIAG = 0,
    BNN_METRIC_DENSE
} bnn_metric;

typedef struct bnn_draws bnn_draws;   /* a run's draws, below */

/* What bnn_run_config.noise_step asks between the kernel's moves. */
typedef enum {
    BNN_NOISE_STEP_NONE = 0,   /* the kernel moves every coordinate, eta included */
    BNN_NOISE_STEP_GIBBS       /* the kernel moves the weights given eta, then an exact draw
                                  of tau^2 | weights (see bnn_run_config.noise_step) */
} bnn_noise_step;

/*
 * Optimisation of a density: a local maximum of logp found by BFGS (GSL's
 * gsl_multimin_fdfminimizer_vector_bfgs2 on -logp) from a starting point. Used by bnn_run
 * (init_map) to start each chain at its own optimum, so warm-up only adapts.
 */
typedef struct {
    size_t max_iter;          /* BFGS iterations at most (0: 20000) */
    double grad_tol;          /* converged when |grad logp| (Euclidean) < grad_tol *
                                 max(1, |logp|) (0: 1e-5) */
} bnn_optimize_opts;

typedef enum {
    BNN_OPTIM_CONVERGED = 0,  /* the gradient's norm fell below the tolerance */
    BNN_OPTIM_MAX_ITER,       /* max_iter iterations without converging */
    BNN_OPTIM_STALLED,        /* the line search could make no more progress */
    BNN_OPTIM_FAILED          /* a non-finite value or a GSL error: theta is the best
                                 point seen (the start at worst) */
} bnn_optim_status;

typedef struct {
    bnn_optim_status status;
    size_t iter;              /* BFGS iterations */
    size_t n_evals;           /* log density evaluations */
    double lp_start, lp;      /* log density at the start and at the point returned */
    double grad_norm;         /* |grad logp| at the point returned */
} bnn_optimize_result;

/* "converged", "max_iter", "stalled", "failed". */
const char *bnn_optim_status_str(bnn_optim_status s);

/* Moves theta (d->dim values, a finite log density there) to the best point BFGS finds:
 * the highest log density it evaluated, so never worse than the start. opts may be NULL
 * (the defaults). Fails only when out of memory or when the start's log density or
 * gradient is not finite; an optimisation that goes wrong later is not an error, it is
 * res->status. */
bnn_status bnn_optimize(const bnn_density *d, double *theta, const bnn_optimize_opts *opts,
                        bnn_optimize_result *res, bnn_error *err);

typedef struct {
    const char *sampler;      /* a kernel's name (default "nuts") */
    size_t n_iter;            /* iterations per chain, burn-in included */
    size_t n_burn;            /* iterations discarded at the start of each chain */
    size_t thin;              /* keep every thin-th iteration after burn-in */
    int chains;
    int threads;              /* worker threads; the draws never depend on it */
    uint64_t seed;            /* chain c's random stream derives from (seed, c) alone */
    /* The kernel's own settings by name, set with bnn_run_config_set; a setting not given
     * takes the kernel's default, and a name the kernel does not have is an error. */
    int n_settings;
    struct {
        const char *name;
        double value;
    } settings[BNN_MAX_SETTINGS];
    /* adaptive kernels (mala, hmc, nuts): during burn-in the step size is tuned by dual
     * averaging to this mean acceptance (0: the kernel's default, 0.574 for mala, 0.8 for
     * hmc and nuts) and the inverse metric (diagonal or dense, see metric) is estimated in
     * Stan's expanding windows (adapt_metric) */
    double target_accept;
    int adapt_metric;
    /* the metric's form (hmc, nuts; others take only BNN_METRIC_DIAG, the default) */
    bnn_metric metric;
    /* adaptive kernels: the initial step size (0: the kernel's default, 1 or 0.1 for mala).
     * With adapt = 1 (the default) hmc and nuts start from it Stan's step-size search, and
     * burn-in tunes it; with adapt = 0 it is used as given for every iteration and nothing
     * is tuned (Stan's adapt engaged = 0) */
    double stepsize;
    int adapt;
    /* chains x dim starting points (unconstrained, in the model's coordinates: from_model maps
     * them), or NULL for uniform(-2, 2) draws */
    const double *init;
    /* init_map: each chain first moves its starting point to a local maximum of log p
     * (bnn_optimize with the options optimize, on the chain's own thread); the results are
     * in bnn_draws.start_opt */
    int init_map;
    bnn_optimize_opts optimize;
    /* BNN_NOISE_STEP_GIBBS, for the kernels with a metric (mala, hmc, nuts) on a density with
     * noise (a regression): each iteration is the kernel's move of the other coordinates
     * given eta (eta's inverse metric is 0, so leapfrog and MALA leave it exactly where it
     * is, and adaptation tunes the weights alone), then an exact draw tau^2 | weights ~
     * inverse-gamma(nu1 + n/2, nu2 + SSE/2), eta = log tau^2, as Neal's FBM does. The
     * sampler columns are those of the kernel's move. */
    int noise_step;
    /* called from the calling thread about every progress_interval seconds, and once at
     * the end; may be NULL */
    void (*progress)(void *user, const bnn_progress *p);
    void *progress_user;
    double progress_interval;
    /* when not NULL, setting *stop non-zero (from a signal handler, say) ends the run
     * early; bnn_run then returns BNN_EINTR with the draws made so far */
    volatile int *stop;
    /* Run until converged. With max_seconds > 0, after its n_iter iterations every chain
     * goes on in rounds of round_iter more (0: n_iter - n_burn); after each round
     * converged(converged_user, the draws so far) is asked: a positive answer ends the run
     * as converged (bnn_draws.converged), a negative one ends it as not converged (the
     * caller's own limit), 0 goes on. It also ends max_seconds after it started: the first
     * n_iter iterations (warm-up and the first round) always complete; in a later round
     * each chain stops at its next iteration past the limit, and every chain keeps the
     * draws that all of them reached (so those draws depend on timing). max_seconds =
     * INFINITY: rounds with no limit of the library's, so that every round is whole and
     * converged alone decides (what MPI ranks need to stop together). converged may be
     * NULL: rounds until the time is up. */
    double max_seconds;
    size_t round_iter;
    int (*converged)(void *user, const bnn_draws *dr);
    void *converged_user;
    /* Checkpoints. With checkpoint set, each chain hands its whole state to
     * checkpoint(checkpoint_user, chain, bytes, len, err), from whichever pool thread holds
     * the chain at that moment (never two at once for one chain; concurrently for different
     * chains): about every checkpoint_seconds (0: never on a timer; a chain waiting for a
     * thread saves as soon as a thread is free), after every checkpoint_iter iterations if set, when the run is stopped, and
     * when the chain has done its iterations. The state is everything its continuation
     * needs: the random stream, position, log density and gradient, step size, metric and
     * their tuning, the kernel's own state (pt: ladder and replicas), the counters and every
     * draw kept so far, with a checksum. The bytes are opaque (this build's layout, native
     * byte order). A return other than BNN_OK ends the run with that error (err says why). */
    double checkpoint_seconds;
    size_t checkpoint_iter;   /* also after every this many iterations (0: not by count) */
    bnn_status (*checkpoint)(void *user, int chain, const void *bytes, size_t len,
                             bnn_error *err);
    void *checkpoint_user;
    /* Resuming: when resume is set, chain c whose resume[c] is not NULL continues from that
     * checkpoint (resume_len[c] bytes) instead of starting, and its draws are bitwise those
     * of the run never interrupted. The checkpoint must come from a run of the same density
     * and settings, except that n_iter may be larger (more draws after a finished run,
     * with no new warm-up); a mismatch is refused. A run in rounds (max_seconds) goes on
     * from the furthest round a checkpoint reached, with the time it had left. */
    const void *const *resume;
    const size_t *resume_len;
    /* Reusing a finished run's tuning: when adapt_stepsize is set (mala, hmc, nuts), chain c
     * starts with the step size adapt_stepsize[c] and the inverse metric at adapt_inv_metric
     * + c dim (diagonal) or + c dim dim (metric dense) instead of Stan's start; with
     * adapt = 0 and n_burn = 0 it keeps them (CmdStan's adapt engaged = 0 with a step size
     * and a metric file), and bnn_draws reports them as the tuning. */
    const double *adapt_stepsize;
    const double *adapt_inv_metric;
    /* keep the warm-up iterations too (thinned as the draws are: iterations 0, thin, 2 thin,
     * ... of burn-in), in bnn_draws.warmup, apart from the draws */
    int save_warmup;
    /* Part of a run, for a caller that spreads the chains over processes (the CLI's MPI
     * ranks): with chain_hi > 0, only chains chain_lo .. chain_hi - 1 of the run's `chains`
     * run, each exactly as in the whole run (its stream from (seed, chain), its start at
     * init + chain dim, its adapt_stepsize, resume and checkpoint entries by that index), so
     * its draws are bitwise those of the whole run's chain. bnn_draws then holds these
     * chain_hi - chain_lo chains, chain_lo first. 0, 0 (the default): every chain. */
    int chain_lo, chain_hi;
    /* Parallel tempering's replicas spread over processes (the CLI's MPI ranks when pt has
     * more ranks than chains). With replica_parts = G > 1 (pt only; 0 or 1, the default: the
     * whole chain in this process), this process is part replica_part (0 .. G - 1) of a
     * group of G processes that run the same one pt chain (one chain here: chain_lo,
     * chain_hi) with the same config in lockstep. Each moves only its block of the K
     * replicas, replicas replica_part K / G .. (replica_part + 1) K / G - 1 (so G <= K),
     * and each holds the whole pt chain's random stream, ladder and exchange decisions. The
     * group meets through two calls that the caller makes with its own messaging:
     * - replica_gather(user, mine, n, all), every iteration from the chain's thread: each
     *   part's n doubles (mine; n the same on every part of an iteration, at most
     *   2 + 2 ceil(K / G)) into all, part by part (G n values), on every part. It returns
     *   0, or non-zero when a part of the group has left its run (failed): all is then not
     *   filled, the iteration ends without its exchange round, and the caller must have
     *   set *stop on every part still running so that the group ends there. The last of
     *   the n values is the part's lockstep hash (its ladder, iteration and exchange
     *   decisions so far): equal on every part while the parts agree, so the caller can
     *   catch parts that compute differently.
     * - replica_swap(user, part, buf, n): sends this part's n doubles in buf to that part
     *   and receives its n doubles into buf (a state exchanged between replicas of two
     *   parts: both parts call it, pairs in the same order).
     * Part 0 holds the beta = 1 replica: its draws, tuning and sampler columns are bitwise
     * those of the whole chain run in one process with the same seed (n_leapfrog__ summed
     * over the parts); other parts' draws are not the chain's (their count is). Refused
     * with checkpoints, resume and max_seconds (rounds). The parts must compute in the
     * same floating-point arithmetic; the lockstep hash above shows a ladder tuned
     * differently before the round that would use it, a differing exchange decision only
     * at the next gather (on a pair across two parts, too late: the two wait on each
     * other). */
    int replica_parts, replica_part;
    int (*replica_gather)(void *user, const double *mine, size_t n, double *all);
    void (*replica_swap)(void *user, int part, double *buf, size_t n);
    void *replica_user;
} bnn_run_config;

/* The defaults: nuts, 2000 iterations of which 1000 warm-up (Stan's), 4 chains, metric
 * adaptation on. (The study's: sampler "langevin", n_iter 10000, n_burn 5000.) The
 * kernels' settings take their tables' defaults (nuts: max depth 10; hmc: integration
 * time 2 pi; langevin: step 0.025, step_eta 0.2, lr 0.01, probability 0.5). */
void bnn_run_config_default(bnn_run_config *c);
/* Sets the kernel setting name (kept by pointer: a string constant or one that outlives
 * the config) to value, replacing an earlier value; BNN_EINVAL when the table is full. */
bnn_status bnn_run_config_set(bnn_run_config *c, const char *name, double value);
/* The value of setting name for kernel k under c: set, or k's default; NaN when k has no
 * such option. (A BNN_OPT_KERNEL option's default is def_kernel's registry index.) */
double bnn_run_config_get(const bnn_run_config *c, const bnn_kernel *k, const char *name);
/* The kernel that k's BNN_OPT_KERNEL option (if any) chooses under c, or NULL: the kernel
 * whose settings a run of k also accepts (pt's base). */
const bnn_kernel *bnn_run_config_subkernel(const bnn_run_config *c, const bnn_kernel *k);

/* Kept draws of M chains. Every chain keeps n_kept draws (for a stopped run, the number
 * that every chain reached). */
struct bnn_draws {
    int chains;
    size_t dim;
    size_t n_kept;
    size_t n_burn, thin;
    size_t n_iter_done;       /* iterations that every chain completed */
    double *theta;            /* chains x n_kept x dim, unconstrained, in the model's coordinates
                                 (bnn_density.to_model applied) */
    double *lp;               /* chains x n_kept: log density of each draw */
    double *accept_stat;      /* chains x n_kept: min(1, Metropolis-Hastings ratio), or
                                 NUTS's mean over the trajectory */
    double *stepsize;         /* chains x n_kept */
    int *treedepth;           /* chains x n_kept: 0 without trees */
    int *n_leapfrog;          /* chains x n_kept: gradient steps (1 without) */
    int *divergent;           /* chains x n_kept: energy error above 1000 */
    double *energy;           /* chains x n_kept: Hamiltonian (or -lp) at the draw */
    size_t n_extra;           /* the kernel's own sampler columns (bnn_kernel.columns) */
    double *extra;            /* chains x n_kept x n_extra */
    const bnn_kernel *kernel; /* the kernel that made the draws (NULL for draws that
                                 bnn_run did not make, such as a run folder's read back) */
    int adapted;              /* step size and metric were tuned during burn-in */
    double *step_final;       /* chains: the step size after burn-in */
    double *inv_metric;       /* chains x dim: the diagonal of the inverse metric after
                                 burn-in */
    bnn_metric metric;        /* the metric's form */
    double *inv_metric_dense; /* metric dense: chains x dim x dim, the whole inverse metric
                                 after burn-in (row-major, symmetric); otherwise NULL */
    double *accept_rate;      /* chains: accepted / proposed after burn-in */
    double *seconds_warmup;   /* chains */
    double *seconds_sampling; /* chains */
    double *seconds_checkpoint;   /* chains: time in making and handing over checkpoints
                                     (included in the two above), over every resume */
    size_t *n_checkpoints;    /* chains: checkpoints made, over every resume */
    size_t rounds;            /* sampling rounds run (1 without max_seconds) */
    int converged;            /* bnn_run_config.converged said so */
    bnn_optimize_result *start_opt;   /* chains: the starting points' optimisation
                                         (init_map), else NULL */
    /* save_warmup: the warm-up iterations kept, in the same layout (n_kept of them per
     * chain, ceil(n_burn / thin) for a run that finished its warm-up); NULL otherwise.
     * Diagnostics, summaries and predictions use the draws above, never these. */
    bnn_draws *warmup;
};

/* Checks cfg against d as bnn_run does (the sampler exists, its settings are its own and
 * in range, it can sample d), so a caller can refuse a run before preparing its output. */
bnn_status bnn_run_check(const bnn_density *d, const bnn_run_config *cfg, bnn_error *err);

/* Runs cfg->chains chains of the sampler over d, cfg->threads at a time. Each chain's
 * draws depend only on (cfg, chain index), so they are bitwise identical for every
 * thread count. OpenBLAS runs on one thread during the run (chains are the unit of
 * parallelism) and gets the caller's thread count back at the end. */
bnn_status bnn_run(const bnn_density *d, const bnn_run_config *cfg, bnn_draws **out,
                   bnn_error *err);
void bnn_draws_free(bnn_draws *dr);

/* A 64-bit seed for chain c and stream s, a hash of (seed, c, s) alone. Streams used by
 * the library: 0 the sampler, 1 the default starting point, 7 predictive noise; callers
 * drawing their own starting points use 2. */
uint64_t bnn_chain_seed(uint64_t seed, int chain, int stream);

/* The draw of chain c, index i (0-based), as a pointer into dr->theta. */
static inline const double *bnn_draw(const bnn_draws *dr, int c, size_t i)
{
    return dr->theta + ((size_t)c * dr->n_kept + i) * dr->dim;
}

/* ---------------------------------------------------------------- 6. diagnostics */

/*
 * Every function takes M chains x N draws of one quantity, chain-major (chain m's draws at
 * x + m N), and computes exactly what R's posterior package (1.4) computes: Vehtari,
 * Gelman, Simpson, Carpenter & Buerkner (2021). NaN where posterior gives NA (constant or
 * non-finite draws, too few draws).
 */

/* Effective sample size of the chains as given (posterior's internal .ess):
 * multi-chain autocorrelation by FFT, Geyer's initial monotone sequence. */
double bnn_ess(const double *x, size_t M, size_t N);

typedef struct {
    double mean, sd;
    double q5, q50, q95;           /* quantiles, R's type 7 */
    double mcse_mean, mcse_sd;
    double mcse_q5, mcse_q50, mcse_q95;
    double ess_bulk;               /* rank-normalised split-chain ESS */
    double ess_tail;               /* min of the ESS of the 5% and 95% quantile indicators */
    double ess_basic;              /* split-chain ESS of the draws (ess_mean) */
    double rhat;                   /* rank-normalised split R-hat: max of bulk and folded */
    double rhat_basic;             /* split R-hat of the draws themselves */
    double rhat_gr;                /* the study's Gelman-Rubin: Brooks & Gelman's
                                      df-corrected PSRF on whole chains (R's coda); NaN for M<2 */
} bnn_summary;

/* All of the above for one quantity. */
bnn_status bnn_summarise(const double *x, size_t M, size_t N, bnn_summary *out);

/* The cheaper pair used on predictions: rank-normalised R-hat and bulk ESS. */
bnn_status bnn_rhat_ess_bulk(const double *x, size_t M, size_t N, double *rhat, double *ess_bulk);

/* The same over many quantities without allocating per quantity: a workspace made for M
 * chains x N draws (NULL when out of memory), used by one thread at a time. */
typedef struct bnn_diag_work bnn_diag_work;
bnn_diag_work *bnn_diag_work_new(size_t M, size_t N);
void bnn_diag_work_free(bnn_diag_work *w);
bnn_status bnn_rhat_ess_bulk_work(bnn_diag_work *w, const double *x, double *rhat,
                                  double *ess_bulk);

/* bnn_summarise for K quantities at once (quantity k's M x N draws at x + k M N), on
 * `threads` threads; the results do not depend on the thread count. */
bnn_status bnn_summarise_many(const double *x, size_t K, size_t M, size_t N, int threads,
                              bnn_summary *out);

/* ---------------------------------------------------------------- 7. predictions */

/*
 * The posterior predictive distribution of a model on a table, from every kept draw.
 * Regression: per row the predictive mean, sd and 2.5/50/97.5% quantiles of
 * y_rep = f(x; w) + N(0, tau^2) (quantiles from one y_rep per draw, R's type 7).
 * Classification: per row the mean class probabilities and the most probable class.
 * Metrics compare to the table's targets when it has them (has_y): per draw RMSE or
 * accuracy (percent), their mean and sd over draws, the metric of the posterior-mean
 * prediction, the 95% interval coverage and the mean log predictive density per row.
 *
 * draw_pred keeps, as floats, f(x) per row and draw (regression, n x S) or the
 * probability of each class per row, class and draw (classification, n x K x S), with
 * S = chains x n_kept draws in chain-major order, for diagnostics of the predictions.
 */
typedef struct {
    bnn_task task;
    size_t n;                 /* rows */
    int K;                    /* classes, or 1 */
    size_t S;                 /* draws used */
    int has_y;
    const double *y;          /* the table's targets (not owned) */
    double *mean;             /* n (regression) or n x K mean probabilities */
    double *sd, *q025, *q50, *q975;   /* regression: n each */
    int *cls;                 /* classification: n predicted classes */
    double *draw_metric;      /* S: RMSE or accuracy % of each draw */
    float *draw_pred;         /* n x S */
    double metric_mean, metric_std, metric_of_mean, coverage95, lpd;
    /* Diagnostics of the predictions, per row: rank-normalised R-hat and bulk ESS of f(x)
     * (regression) or of the probability of the observed class (classification; of the
     * predicted class when there is no target). Network weights are not identifiable
     * (hidden units can swap), so for a network these, not the weights', tell whether the
     * chains agree. */
    double *row_rhat, *row_ess_bulk;
    double rhat_max, rhat_median, rhat_share_above;   /* share of rows with R-hat > 1.01 */
    double ess_bulk_min;
} bnn_prediction;

/* threads parallelise over draws and rows; the result never depends on their number.
 * seed drives the y_rep noise of the regression quantiles. */
bnn_status bnn_predict(const bnn_model *m, const bnn_draws *dr, const bnn_table *t,
                       int has_y, uint64_t seed, int threads, bnn_prediction **out,
                       bnn_error *err);
void bnn_prediction_free(bnn_prediction *p);

/* The pointwise log-likelihood of every row of t under each of S draws (draw s at theta +
 * s * dim, unconstrained, as bnn_draws.theta holds them): ll[i * S + s] = log N(y_i |
 * f(x_i), tau^2) with the draw's tau^2 (regression) or log p(y_i | x_i) by log-softmax
 * (classification; labels checked). ll is n x S, the layout bnn_loo_compute takes. The
 * draws go in blocks fixed by S alone, so the result is the same for any thread count. */
bnn_status bnn_model_loglik(const bnn_model *m, const double *theta, size_t S,
                            const bnn_table *t, int threads, double *ll, bnn_error *err);

/* ---------------------------------------------------------------- 8. model comparison */

/*
 * Leave-one-out cross-validation by Pareto-smoothed importance sampling (PSIS-LOO:
 * Vehtari, Gelman & Gabry 2017, the generalised Pareto fit of Zhang & Stephens 2009 with
 * loo's weakly informative prior on k) and WAIC, computed exactly as R's loo 2.5.1 does:
 * loo(ll, r_eff = relative_eff(exp(ll), chain_id)), waic(ll), loo_compare(...).
 * The log-likelihood matrix is n x S, observation-major: observation i's S = M x N draws
 * at ll + i S, chain-major (chain m's N draws at + m N); every value finite.
 */

/* loo's relative_eff of one quantity (M chains x N draws, chain-major): its ESS (loo's
 * ess_rfun, which is posterior's .ess but for one edge: a sequence that stops at lag 0,
 * constant draws included, gives ESS = M N / 2) divided by M N. */
double bnn_relative_eff(const double *x, size_t M, size_t N);

typedef struct {
    size_t n, S;
    /* loo's estimates: sums over observations, SE = sqrt(n var) of the pointwise values */
    double elpd_loo, se_elpd_loo, p_loo, se_p_loo, looic, se_looic;
    double mcse_elpd_loo;     /* loo's mcse_loo: NaN (R's NA) when some k > 0.7 */
    double elpd_waic, se_elpd_waic, p_waic, se_p_waic, waic, se_waic;
    /* per observation, n each */
    double *elpd_loo_i, *p_loo_i, *mcse_elpd_loo_i;
    double *pareto_k;         /* Inf where the tail was too short or constant to fit */
    double *n_eff;            /* PSIS effective sample size (r_eff / sum of squared weights) */
    double *r_eff;            /* relative efficiency of exp(ll_i) */
    double *elpd_waic_i, *p_waic_i;
} bnn_loo;

/* PSIS-LOO and WAIC of ll (n x S with S = M N), observations spread over threads (the
 * result does not depend on their number). BNN_EINVAL for a non-finite value (naming its
 * observation and draw) or fewer than 2 draws. */
bnn_status bnn_loo_compute(const double *ll, size_t n, size_t M, size_t N, int threads,
                           bnn_loo **out, bnn_error *err);
void bnn_loo_free(bnn_loo *l);
/* The result of k parts' observations, in order, each part bnn_loo_compute's over its rows
 * of the same S draws: bitwise what bnn_loo_compute gives on all the rows at once (each
 * observation's values depend on its own row alone), so a large n x S matrix can be
 * computed a block of rows at a time. */
bnn_status bnn_loo_merge(const bnn_loo *const *parts, size_t k, bnn_loo **out,
                         bnn_error *err);

/* loo_compare of K >= 2 results over the same n observations: order[0..K) the models best
 * first (by elpd_loo, ties in input order), elpd_diff[j] and se_diff[j] those of model
 * order[j] against the best (sum and sqrt(n) sd of the pointwise differences; 0 and 0 for
 * the best). */
bnn_status bnn_loo_compare(const bnn_loo *const *loos, size_t K, size_t *order,
                           double *elpd_diff, double *se_diff, bnn_error *err);

/* ---------------------------------------------------------------- 9. variational inference */

/*
 * ADVI (Kucukelbir et al. 2017) as CmdStan's `variational` method runs it (stan-dev/stan
 * src/stan/variational/advi.hpp): a Gaussian approximation q on the unconstrained vector of
 * any bnn_density, fitted by stochastic gradient ascent on the ELBO. It is an
 * approximation, not a sampler: its draws are independent draws of q, not of the posterior.
 */
typedef enum { BNN_VI_MEANFIELD = 0, BNN_VI_FULLRANK } bnn_vi_family;

typedef struct {
    bnn_vi_family algorithm;  /* meanfield (mu, omega = log sd) or fullrank (mu, L) */
    size_t iter;              /* maximum iterations (10000) */
    size_t grad_samples;      /* draws per ELBO gradient (1) */
    size_t elbo_samples;      /* draws per ELBO estimate (100) */
    double eta;               /* step-size scale (1); chosen by adaptation when adapt */
    int adapt;                /* 1: search eta in 100, 10, 1, 0.1, 0.01 first (1) */
    size_t adapt_iter;        /* iterations per candidate eta (50) */
    double tol_rel_obj;       /* relative ELBO change that counts as converged (0.01) */
    size_t eval_elbo;         /* iterations between ELBO estimates (100) */
    size_t output_samples;    /* draws of q returned (1000) */
    uint64_t seed;
    /* optional: called with each line of CmdStan's progress table (no newline) */
    void (*progress)(void *ctx, const char *line);
    void *progress_ctx;
} bnn_vi_config;

/* CmdStan's defaults (above), seed 0, no progress. */
void bnn_vi_config_default(bnn_vi_config *c);

typedef struct {
    bnn_vi_family algorithm;
    size_t dim;
    double *mean;             /* dim: q's mean mu */
    double *sd;               /* dim: q's marginal sds (meanfield exp(omega); fullrank the
                                 square roots of diag(L L')) */
    double *L;                /* fullrank: dim x dim row-major, lower triangular (q's
                                 covariance is L L'); NULL for meanfield */
    double eta;               /* the step-size scale used */
    size_t iterations;        /* iterations of the ascent made */
    int converged;            /* 0 no, 1 the mean, 2 the median relative change < tol */
    size_t n_elbo;            /* ELBO evaluations: at iterations elbo_iter[k], values elbo[k] */
    size_t *elbo_iter;
    double *elbo, *rel_mean, *rel_median;
    size_t n_draws;           /* output_samples */
    double *draws;            /* n_draws x dim, row-major, unconstrained */
    double *log_p;            /* n_draws: the density's logp at each draw */
    double *log_g;            /* n_draws: -|z|^2 / 2 of the draw's standard normal z (CmdStan's
                                 log_g__: q's log density without its constant and
                                 log-determinant) */
} bnn_vi_result;

/* Fits q from the start theta0 (d->dim values; mu = theta0, omega = 0 or L = I as Stan).
 * BNN_EINVAL for a bad setting; BNN_ENUMERIC when every candidate eta fails (Stan's
 * message) or the ascent meets a non-finite ELBO or gradient. */
bnn_status bnn_vi_run(const bnn_density *d, const double *theta0, const bnn_vi_config *cfg,
                      bnn_vi_result **out, bnn_error *err);
void bnn_vi_result_free(bnn_vi_result *r);

#ifdef __cplusplus
}
#endif
#endif
