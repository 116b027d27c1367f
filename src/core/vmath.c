/* vmath.c — the activation functions over arrays, vectorised.
 *
 * This file alone is compiled with -ffast-math: that is what lets GCC call glibc's vector
 * math library (libmvec) for exp and tanh, several lanes at a time, instead of one libm
 * call per value. The activations are the hot spot of the log density (one exp per hidden
 * unit per row). Inputs are clamped first so that no infinity or NaN reaches code compiled
 * under -ffinite-math-only: sigmoid(+-40) and tanh(+-20) already round to 0/1 and +-1. */
#include <math.h>
#include <stddef.h>

#include "core.h"

__attribute__((target_clones("avx512f", "avx2", "default"))) void bnn_vsigmoid(double *a, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        double z = a[i];
        z = z < -700.0 ? -700.0 : (z > 700.0 ? 700.0 : z);
        a[i] = 1.0 / (1.0 + exp(-z));
    }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void bnn_vtanh(double *a, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        double z = a[i];
        z = z < -20.0 ? -20.0 : (z > 20.0 ? 20.0 : z);
        a[i] = tanh(z);
    }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void bnn_vexp(double *a, size_t n)
{
    /* callers pass values <= 0 (shifted by a maximum); the clamp keeps -inf out */
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        double z = a[i] < -745.0 ? -745.0 : a[i];
        a[i] = exp(z);
    }
}
