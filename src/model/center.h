/* center.h — the centred output level of a one-hidden-layer regression network
 * (center.c): a reparameterisation of the model's density. Not public API. */
#ifndef BNNMC_CENTER_H
#define BNNMC_CENTER_H

#include "../core/core.h"

typedef struct bnn_center bnn_center;

/* The statistics of a centred point theta, cs (1 + 2H + D*H values): the output bias b2 of
 * the model's point, the means over the training rows of the hidden activations hbar (H),
 * and, where a gradient is asked for, of their derivatives s (H) and of the derivatives
 * times each input S (D x H, input-major). A model's own faster path to its log density at
 * a centred point: fills cs[0] (b2) and the model's point (mapped, dim values), returns the
 * log density there and its gradient in the CENTRED coordinates in grad (when not NULL);
 * or declines, returning NaN, and the general path runs. work is the inner density's. */
typedef double (*bnn_center_fast_fn)(const void *ctx, double *work, const double *theta,
                                     double *grad, double *cs, double *mapped);

/* inner: the model's density (its ctx must outlive the result); train: its training table
 * (D inputs); H hidden units of activation act, one output; fast: NULL or the model's path
 * (with inner's ctx). NULL when out of memory. */
bnn_center *bnn_center_new(const bnn_density *inner, const bnn_table *train, int H,
                           bnn_activation act, bnn_center_fast_fn fast);
void bnn_center_free(bnn_center *c);
/* The density in the centred coordinates, with to_model and from_model set (and the inner
 * density's noise, its sse in these coordinates). */
bnn_density bnn_center_density(const bnn_center *c);

#endif
