/* advi_internal.h — the pure pieces of ADVI (advi.c), exposed to tests/test_advi.c so the
 * step-size sequence, the stopping rule and the ELBO gradient are checked deterministically
 * (not public API). */
#ifndef BNNMC_ADVI_INTERNAL_H
#define BNNMC_ADVI_INTERNAL_H

#include <stddef.h>
#include "bnnmc.h"

/* Stan's adaptive step (advi.hpp, stochastic_gradient_ascent and adapt_eta): s = g^2 at
 * iter 1, else s = 0.9 s + 0.1 g^2; then x += eta / sqrt(iter) * g / (1 + sqrt(s)), over n
 * values. */
void bnn_advi_step(double *x, double *s, const double *g, size_t n, size_t iter, double eta);

/* Stan's rel_difference(elbo, elbo_prev) = |(elbo_prev - elbo) / elbo|. */
double bnn_advi_rel_change(double elbo, double elbo_prev);

/* The circular buffer's capacity (advi.hpp cb_size): max(0.1 iter / eval_elbo, 2)
 * truncated. */
size_t bnn_advi_cb_size(size_t iter, size_t eval_elbo);

/* The relative-tolerance rule over the circular buffer buf of cap values holding *count
 * (<= cap) values, next write at *head (buf has 2 cap values: the second half is scratch):
 * pushes rel (overwriting the oldest when full), writes the buffer's mean (summed oldest
 * first, as std::accumulate over a boost::circular_buffer) and median (circ_buff_median:
 * the element at count / 2 in order, the upper of two middles), returns 1 when the mean, 2
 * when the median (3 both) is below tol, 0 otherwise. */
int bnn_advi_converged(double *buf, size_t cap, size_t *count, size_t *head, double rel,
                       double tol, double *mean, double *median);

/* adapt_eta's decision after candidate k (0-based in 100, 10, 1, 0.1, 0.01) of step-size
 * eta reached ELBO elbo (-DBL_MAX when it could not be computed); *elbo_best and *eta_best
 * start at -DBL_MAX and 0. Returns 0: try the next candidate (the state now holds this
 * one); 1: stop, *eta_best (the previous candidate) is chosen; 2: stop, this last
 * candidate is chosen (*eta_best = eta); -1: every candidate failed. */
int bnn_advi_eta_next(size_t k, double eta, double elbo, double elbo_init, double *elbo_best,
                      double *eta_best);

/* The variational parameters' count: 2 dim (meanfield: mu, omega) or dim + dim(dim+1)/2
 * (fullrank: mu, then L's lower triangle row by row). */
size_t bnn_advi_nparam(bnn_vi_family fam, size_t dim);

/* zeta = the transform of the standard normal draw z under the family's parameters phi. */
void bnn_advi_transform(bnn_vi_family fam, size_t dim, const double *phi, const double *z,
                        double *zeta);

/* The reparametrisation-trick ELBO gradient (Stan's normal_*::calc_grad) over the n fixed
 * base draws z (n x dim) into grad (nparam values); the ELBO estimate with those same draws
 * (the mean of logp plus the entropy) is returned, so the gradient is its exact derivative.
 * zeta and g are dim scratch values. A non-finite logp or gradient at any draw: returns NaN
 * (the run itself drops such a draw and draws again, as Stan does). */
double bnn_advi_elbo_grad(bnn_vi_family fam, const bnn_density *d, double *work,
                          const double *phi, const double *z, size_t n, double *zeta,
                          double *g, double *grad);

/* The family's entropy (Stan's entropy(): 0.5 dim (1 + log 2 pi) + sum omega, or + sum
 * log |L_ii| over the non-zero L_ii). */
double bnn_advi_entropy(bnn_vi_family fam, size_t dim, const double *phi);

#endif
