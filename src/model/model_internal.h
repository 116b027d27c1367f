/* model_internal.h — what the model modules share with each other and the tests: the fused
 * one-hidden-layer kernel, the linear regression's sufficient statistics, the general path
 * (not public API). Kernels and diagnostics never include it. */
#ifndef BNNMC_MODEL_INTERNAL_H
#define BNNMC_MODEL_INTERNAL_H

#include "../core/core.h"
#include "fused.h"

/* fused.c: the log-likelihood of a network with one hidden layer (D inputs, H units of
 * `hidden`, K outputs of `out`: IDENTITY or SIGMOID with K = 1 and targets y, or SOFTMAX with
 * labels) and its gradient in one pass over the rows, SIMD across rows. theta and g follow
 * the model's order (W1, b1, W2, b2). Returns the sum of squared residuals with
 * g = sum_i r_i d f_i / d theta (regression), or the log-likelihood with g its gradient
 * (softmax); g may be NULL. work holds bnn_fused_work(f) doubles. */
/* lanes: rows per vector, 8 (fused8.c) or 4 (fused4.c), or 0 for bnn_fused_best_lanes();
 * single: the single-precision instances, 16 (fused16f.c) or 8 (fused8f.c) lanes, or 0 for
 * twice bnn_fused_best_lanes(). NULL for another count or when out of memory. */
bnn_fused *bnn_fused_new(const double *x, const double *y, const int *label, size_t n, int D,
                         int H, int K, bnn_activation hidden, bnn_activation out, int lanes,
                         int single);
void bnn_fused_free(bnn_fused *f);
size_t bnn_fused_work(const bnn_fused *f);
double bnn_fused_eval(const bnn_fused *f, const double *theta, double *g, double *work);
/* The same with theta's output bias the centred level of center.c (one output only: NaN
 * otherwise); cs: q in, b2 and hbar out, and g's W1 and b1 in the centred coordinates
 * (fused.h). */
double bnn_fused_eval_center(const bnn_fused *f, const double *theta, double *g, double *work,
                             double *cs);
int bnn_fused_lanes(const bnn_fused *f);
int bnn_fused_single(const bnn_fused *f);
/* The processor's native vector width in doubles: 8 with AVX-512, 4 with AVX2 and FMA,
 * else 8 (whose baseline clone is the one measured). */
int bnn_fused_best_lanes(void);
/* The lanes-wide kernel's vector exp and log at one point, for the tests. */
void bnn_fused_exp_log(int lanes, int single, double x, double *e, double *l);

/* linear.c: the sum of squared residuals of y on (x, 1) at beta = (w, b) from sufficient
 * statistics; g (may be NULL) receives -1/2 d SSE / d beta = Z'(y - Z beta). */
typedef struct bnn_linear_ss bnn_linear_ss;
bnn_linear_ss *bnn_linear_ss_new(const bnn_table *t);
void bnn_linear_ss_free(bnn_linear_ss *s);
double bnn_linear_ss_sse(const bnn_linear_ss *s, const double *beta, double *g);
/* Z'Z ((p+1) x (p+1), row-major) and Z'y: the Gibbs sampler's conditionals use them too */
const double *bnn_linear_ss_ztz(const bnn_linear_ss *s);
const double *bnn_linear_ss_zty(const bnn_linear_ss *s);
/* Whether Z'Z is of full rank (its Cholesky factorisation succeeded), and the least-squares
 * fit's sum of squared residuals: the propriety of a flat prior depends on both. */
int bnn_linear_ss_full_rank(const bnn_linear_ss *s);
double bnn_linear_ss_sse_min(const bnn_linear_ss *s);

/* The model's log density through the general BLAS path, whatever bnn_model_density
 * picks: the tests compare the specialised paths with it. */
double bnn_model_logp_blas(const void *ctx, double *work, const double *theta, double *grad);
/* And through the fused kernel, for a model that has one (one hidden layer, at most
 * BNN_FUSED_MAXK outputs, training data), whether or not the density takes it (it does
 * with AVX-512 or AVX2: model.c's fused_is_fast). */
double bnn_model_logp_fused(const void *ctx, double *work, const double *theta, double *grad);
int bnn_model_has_fused(const bnn_model *m);
/* The centred density's path through the fused kernel (center.h's bnn_center_fast_fn, ctx
 * the model), whether or not the density takes it, for the tests. */
double bnn_model_center_fused(const void *ctx, double *work, const double *theta, double *grad,
                              double *cs, double *mapped);
/* Rebuilds the model's fused kernel with `lanes` rows per vector (4 or 8; in the model's
 * single precision, bnn_model_spec.float32, 8 or 16), for the tests
 * and benchmarks of either instance on any processor (take the density again: its
 * work_len may grow). -1 for a model the kernel does not take (not one hidden layer,
 * more than BNN_FUSED_MAXK outputs, no training data), or out of memory. */
int bnn_model_set_fused_lanes(bnn_model *m, int lanes);

/* bnn_model_predict_batch, but a classification's outputs are the raw z before the
 * softmax (same layout and work). */
void bnn_model_logits_batch(const bnn_model *m, const double *theta, size_t stride, size_t B,
                            const bnn_table *t, double *out, double *work);

/* Regression: the coordinate of eta = log tau^2 in the unconstrained vector. */
/* The study's Langevin map (bnn_density.drift) by the path any network takes: the density's
 * own drift must equal it bit for bit (test_model). work: the density's work_len. */
void bnn_model_drift_any(const bnn_model *m, double *work, double lr, const double *theta,
                         double *out);
size_t bnn_model_eta_index(const bnn_model *m);

#endif
