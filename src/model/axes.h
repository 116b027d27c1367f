/* axes.h — a network's first layer on the principal axes of its centred training inputs
 * (axes.c): a reparameterisation of the model's density. Not public API. */
#ifndef BNNMC_AXES_H
#define BNNMC_AXES_H

#include "../core/core.h"

typedef struct bnn_axes bnn_axes;

/* inner: the density to wrap (its ctx must outlive the result), whose point holds the first
 * layer's weights at w_off (D inputs x H units, input-major) and its H biases at b_off;
 * train: the D-input training table the axes are taken from. NULL when out of memory or
 * when the eigensolver fails. */
bnn_axes *bnn_axes_new(const bnn_density *inner, const bnn_table *train, int H, size_t w_off,
                       size_t b_off);
void bnn_axes_free(bnn_axes *a);
/* The density in the rotated coordinates, with to_model and from_model set (through the
 * inner density's own, when it has them), coords = inner's | BNN_COORDS_AXES, and the inner
 * density's noise (its sse in these coordinates). No drift, no minibatches. */
bnn_density bnn_axes_density(const bnn_axes *a);

#endif
