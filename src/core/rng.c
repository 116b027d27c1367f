/* rng.c — small helpers over GSL's random numbers. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "core.h"

int bnn_gaussian_fill(uint64_t seed, double *x, size_t n)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return 1;
    gsl_rng_set(r, (unsigned long)seed);
    for (size_t j = 0; j < n; j++)
        x[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
    gsl_rng_free(r);
    return 0;
}
