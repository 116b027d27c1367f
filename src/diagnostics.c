/* diagnostics.c — convergence diagnostics over M chains x N draws (chain-major arrays).
 *
 * Effective sample size follows Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021) and
 * R's posterior package: per-chain autocovariances by FFT (GSL), the multi-chain
 * autocorrelation rho_t = 1 - (W - mean_m acov_m(t)) / var_plus, Geyer's initial positive
 * then initial monotone sequence, and the truncated sum with the antithetic improvement. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_fft_complex.h>

#include "internal.h"

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

/* Biased autocovariance acov[t] = (1/N) sum_i (x_i - mean)(x_{i+t} - mean), t < N, by a
 * zero-padded FFT (padding to >= 2N makes the circular correlation linear). buf holds 2L
 * doubles with L = pow2_at_least(2N). */
static void autocovariance(const double *x, size_t N, double *acov, double *buf)
{
    size_t L = pow2_at_least(2 * N);
    double mean = 0;
    for (size_t i = 0; i < N; i++)
        mean += x[i];
    mean /= (double)N;
    memset(buf, 0, 2 * L * sizeof *buf);
    for (size_t i = 0; i < N; i++)
        buf[2 * i] = x[i] - mean;
    gsl_fft_complex_radix2_forward(buf, 1, L);
    for (size_t k = 0; k < L; k++) {
        double re = buf[2 * k], im = buf[2 * k + 1];
        buf[2 * k] = re * re + im * im;
        buf[2 * k + 1] = 0;
    }
    gsl_fft_complex_radix2_inverse(buf, 1, L);   /* GSL's inverse divides by L */
    for (size_t t = 0; t < N; t++)
        acov[t] = buf[2 * t] / (double)N;
}

static double mean_acov(const double *acov, size_t M, size_t N, size_t t)
{
    double s = 0;
    for (size_t m = 0; m < M; m++)
        s += acov[m * N + t];
    return s / (double)M;
}

double bnn_ess(const double *x, size_t M, size_t N)
{
    if (N < 3 || M < 1)
        return NAN;
    size_t L = pow2_at_least(2 * N);
    double *acov = malloc(M * N * sizeof *acov), *buf = malloc(2 * L * sizeof *buf);
    double *rho = calloc(N, sizeof *rho), *cmean = malloc(M * sizeof *cmean);
    double ess = NAN;
    if (!acov || !buf || !rho || !cmean)
        goto done;
    for (size_t m = 0; m < M; m++) {
        const double *xm = x + m * N;
        autocovariance(xm, N, acov + m * N, buf);
        double s = 0;
        for (size_t i = 0; i < N; i++)
            s += xm[i];
        cmean[m] = s / (double)N;
    }
    double mean_var = 0;
    for (size_t m = 0; m < M; m++)
        mean_var += acov[m * N];
    mean_var = mean_var / (double)M * (double)N / (double)(N - 1);
    double var_plus = mean_var * (double)(N - 1) / (double)N;
    if (M > 1) {
        double a = 0, b = 0;
        for (size_t m = 0; m < M; m++)
            a += cmean[m];
        a /= (double)M;
        for (size_t m = 0; m < M; m++)
            b += (cmean[m] - a) * (cmean[m] - a);
        var_plus += b / (double)(M - 1);
    }
    if (!(var_plus > 0) || !isfinite(var_plus))
        goto done;   /* constant draws: ESS undefined */
#define RHO(t) (1.0 - (mean_var - mean_acov(acov, M, N, (t))) / var_plus)
    /* Geyer's initial positive sequence */
    size_t t = 0;
    double even = 1.0, odd = RHO(1);
    rho[0] = even;
    rho[1] = odd;
    while (t + 5 < N && !isnan(even + odd) && even + odd > 0) {
        t += 2;
        even = RHO(t);
        odd = RHO(t + 1);
        if (even + odd >= 0) {
            rho[t] = even;
            rho[t + 1] = odd;
        }
    }
    size_t max_t = t;
    if (even > 0)
        rho[max_t] = even;
    /* Geyer's initial monotone sequence */
    t = 0;
    while (t + 4 <= max_t) {
        t += 2;
        if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
            rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
            rho[t + 1] = rho[t];
        }
    }
#undef RHO
    double tau = -1.0;
    for (size_t k = 0; k < max_t; k++)
        tau += 2.0 * rho[k];
    tau += rho[max_t];
    double total = (double)(M * N);
    tau = fmax(tau, 1.0 / log10(total));
    ess = total / tau;
done:
    free(acov);
    free(buf);
    free(rho);
    free(cmean);
    return ess;
}
