/* internal.h — helpers shared by the library's modules, not part of the public API. */
#ifndef BNNMC_INTERNAL_H
#define BNNMC_INTERNAL_H

#include "bnnmc.h"

#if defined(__GNUC__)
#define BNN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BNN_PRINTF(a, b)
/* Fills x with n independent N(0, 1) draws from a generator seeded with seed. A separate
 * module so that GSL's randist header (which brings GSL's CBLAS declarations) and OpenBLAS's
 * cblas.h never meet in one file. Non-zero if out of memory. */
int bnn_gaussian_fill(uint64_t seed, double *x, size_t n);

/* In place over n values: a = 1 / (1 + exp(-a)), a = tanh(a); vectorised (vmath.c). */
void bnn_vsigmoid(double *a, size_t n);
void bnn_vtanh(double *a, size_t n);

#endif

/* Records code and a formatted one-line message in err (when err is not NULL) and returns
 * code, so a failing path reads `return bnn_fail(err, BNN_EINVAL, "...", ...);`. */
bnn_status bnn_fail(bnn_error *err, bnn_status code, const char *fmt, ...) BNN_PRINTF(3, 4);

/* Allocates n doubles, zeroed; NULL on failure or overflow. */
double *bnn_zalloc(size_t n);


/* Fills x with n independent N(0, 1) draws from a generator seeded with seed. A separate
 * module so that GSL's randist header (which brings GSL's CBLAS declarations) and OpenBLAS's
 * cblas.h never meet in one file. Non-zero if out of memory. */
int bnn_gaussian_fill(uint64_t seed, double *x, size_t n);

/* In place over n values: a = 1 / (1 + exp(-a)), a = tanh(a); vectorised (vmath.c). */
void bnn_vsigmoid(double *a, size_t n);
void bnn_vtanh(double *a, size_t n);

#endif
