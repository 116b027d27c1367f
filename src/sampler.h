/* sampler.h — one chain's state and its transition kernels (internal). */
#ifndef BNNMC_SAMPLER_H
#define BNNMC_SAMPLER_H

#include <gsl/gsl_rng.h>

#include "internal.h"

/* Everything one chain owns. Buffers are allocated once by bnn_chain_init, so a step
 * allocates nothing. theta/prop and g/gprop swap on acceptance instead of copying. */
typedef struct {
    const bnn_density *d;
    const bnn_run_config *cfg;
    gsl_rng *rng;
    double *work;            /* the density's scratch */
    double *buf;             /* backing store of the vectors below */
    double *theta, *prop;    /* current state, proposal */
    double *g, *gprop;       /* drift g(theta), g(prop) */
    double *scale;           /* per-coordinate proposal sd */
    double *grad;            /* gradient scratch */
    double lp;               /* log density at theta */
    int g_valid;             /* g holds g(theta) */
} bnn_chain;

bnn_status bnn_chain_init(bnn_chain *c, const bnn_density *d, const bnn_run_config *cfg,
                          unsigned long seed, const double *theta0);
void bnn_chain_free(bnn_chain *c);
/* One iteration; returns 1 if the proposal was accepted. */
int bnn_chain_step(bnn_chain *c, double *accept_stat);

/* log N(x | gy, diag(scale^2)) without its constant: the Langevin proposal's log q. */
double bnn_langevin_log_q(size_t dim, const double *scale, const double *x, const double *gy);
/* g(theta): the density's drift, or theta + lr grad log p when it has none. */
void bnn_chain_drift(bnn_chain *c, const double *theta, double *out);

#endif
