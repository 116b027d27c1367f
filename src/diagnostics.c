/* diagnostics.c — convergence diagnostics over M chains x N draws (chain-major arrays).
 *
 * Effective sample size follows Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021) and
 * R's posterior package: per-chain autocovariances by FFT (GSL), the multi-chain
 * autocorrelation rho_t = 1 - (W - mean_m acov_m(t)) / var_plus, Geyer's initial positive
 * then initial monotone sequence, and the truncated sum with the antithetic improvement. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
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

/* ------------------------------------------------------------ helpers */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* R's quantile type 7 of sorted s[0..n-1]. */
static double quantile_sorted(const double *s, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return s[n - 1];
    return s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]);
}

/* posterior's should_return_NA: any non-finite value, or max - min below machine eps. */
static int degenerate(const double *x, size_t n)
{
    double lo = x[0], hi = x[0];
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return 1;
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    return fabs(hi - lo) < 2.220446049250313e-16;
}

/* .split_chains: each chain's first floor(N/2) and last floor(N/2) draws become two chains
 * (the middle draw of an odd N is dropped). out has 2M chains of H = N/2 draws. */
static void split_chains(const double *x, size_t M, size_t N, double *out)
{
    size_t H = N / 2, second = N - H;   /* R: x[ceiling(N/2 + 1):N] */
    for (size_t m = 0; m < M; m++) {
        memcpy(out + 2 * m * H, x + m * N, H * sizeof *out);
        memcpy(out + (2 * m + 1) * H, x + m * N + second, H * sizeof *out);
    }
}

typedef struct {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return (x->v > y->v) - (x->v < y->v);
}

/* z_scale: average ranks (ties share their mean rank), back-transformed with c = 3/8, then
 * the normal quantile function. In place over n values; tmp holds n entries. */
static void z_scale(double *x, size_t n, ranked *tmp)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = (ranked){x[i], i};
    qsort(tmp, n, sizeof *tmp, cmp_ranked);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && tmp[j + 1].v == tmp[i].v)
            j++;
        double r = 0.5 * (double)(i + j) + 1.0;   /* average of ranks i+1 .. j+1 */
        double z = gsl_cdf_ugaussian_Pinv((r - 0.375) / ((double)n - 0.75 + 1.0));
        for (size_t k = i; k <= j; k++)
            x[tmp[k].i] = z;
        i = j + 1;
    }
}

/* posterior's .rhat on chains as given (M chains x N). */
static double rhat_chains(const double *x, size_t M, size_t N)
{
    if (N < 3 || degenerate(x, M * N))
        return NAN;
    double mm = 0, w = 0, b = 0;
    double *cm = malloc(M * sizeof *cm);
    if (!cm)
        return NAN;
    for (size_t m = 0; m < M; m++) {
        double s = 0;
        for (size_t i = 0; i < N; i++)
            s += x[m * N + i];
        cm[m] = s / (double)N;
        double v = 0;
        for (size_t i = 0; i < N; i++)
            v += (x[m * N + i] - cm[m]) * (x[m * N + i] - cm[m]);
        w += v / (double)(N - 1);
        mm += cm[m];
    }
    w /= (double)M;
    mm /= (double)M;
    for (size_t m = 0; m < M; m++)
        b += (cm[m] - mm) * (cm[m] - mm);
    b = M > 1 ? (double)N * b / (double)(M - 1) : NAN;
    free(cm);
    return sqrt((b / w + (double)N - 1) / (double)N);
}

static double ess_checked(const double *x, size_t M, size_t N)
{
    if (N < 3 || degenerate(x, M * N))
        return NAN;
    return bnn_ess(x, M, N);
}

/* Brooks & Gelman's corrected PSRF as R's coda::gelman.diag (point estimate). */
static double gelman_rubin(const double *x, size_t M, size_t N)
{
    if (M < 2 || N < 2 || degenerate(x, M * N))
        return NAN;
    double *mean = malloc(2 * M * sizeof *mean), *s2 = mean + M;
    if (!mean)
        return NAN;
    for (size_t m = 0; m < M; m++) {
        double a = 0, v = 0;
        for (size_t i = 0; i < N; i++)
            a += x[m * N + i];
        a /= (double)N;
        for (size_t i = 0; i < N; i++)
            v += (x[m * N + i] - a) * (x[m * N + i] - a);
        mean[m] = a;
        s2[m] = v / (double)(N - 1);
    }
    double n = (double)N, k = (double)M;
    double w = 0, mu = 0, xb2 = 0;
    for (size_t m = 0; m < M; m++) {
        w += s2[m] / k;
        mu += mean[m] / k;
        xb2 += mean[m] * mean[m] / k;
    }
    double b = 0, var_s2 = 0;
    for (size_t m = 0; m < M; m++) {
        b += (mean[m] - mu) * (mean[m] - mu);
        var_s2 += (s2[m] - w) * (s2[m] - w);
    }
    b = n * b / (k - 1);
    var_s2 /= (k - 1);
    /* sample covariances of s2 with xbar^2 and with xbar, over chains */
    double cov_s2_x2 = 0, cov_s2_x = 0;
    for (size_t m = 0; m < M; m++) {
        cov_s2_x2 += (s2[m] - w) * (mean[m] * mean[m] - xb2);
        cov_s2_x += (s2[m] - w) * (mean[m] - mu);
    }
    cov_s2_x2 /= (k - 1);
    cov_s2_x /= (k - 1);
    free(mean);
    double var_w = var_s2 / k;
    double var_b = 2 * b * b / (k - 1);
    double cov_wb = (n / k) * (cov_s2_x2 - 2 * mu * cov_s2_x);
    double V = (n - 1) * w / n + (1 + 1 / k) * b / n;
    double var_V = ((n - 1) * (n - 1) * var_w + (1 + 1 / k) * (1 + 1 / k) * var_b +
                    2 * (n - 1) * (1 + 1 / k) * cov_wb) / (n * n);
    double df_V = 2 * V * V / var_V;
    double df_adj = (df_V + 3) / (df_V + 1);
    double r2 = (n - 1) / n + (1 + 1 / k) * (1 / n) * (b / w);
    return sqrt(df_adj * r2);
}

/* ESS of the indicator x <= q (posterior's .ess_quantile) on split chains. */
static double ess_indicator(const double *x, size_t M, size_t N, double q, double *buf,
                            double *split)
{
    for (size_t i = 0; i < M * N; i++)
        buf[i] = x[i] <= q ? 1.0 : 0.0;
    split_chains(buf, M, N, split);
    return ess_checked(split, 2 * M, N / 2);
}

/* posterior's .mcse_quantile: the 68% Beta interval of the quantile's rank, mapped
 * through the sorted draws. */
static double mcse_quantile(const double *sorted, size_t S, double prob, double ess)
{
    if (!isfinite(ess))
        return NAN;
    double a1 = gsl_cdf_beta_Pinv(0.1586553, ess * prob + 1, ess * (1 - prob) + 1);
    double a2 = gsl_cdf_beta_Pinv(0.8413447, ess * prob + 1, ess * (1 - prob) + 1);
    double f1 = floor(a1 * (double)S), f2 = ceil(a2 * (double)S);
    size_t i1 = f1 < 1 ? 1 : (size_t)f1, i2 = f2 > (double)S ? S : (size_t)f2;
    return (sorted[i2 - 1] - sorted[i1 - 1]) / 2;
}

bnn_status bnn_rhat_ess_bulk(const double *x, size_t M, size_t N, double *rhat, double *ess_bulk)
{
    size_t S = M * N, H = N / 2, SS = 2 * M * H;
    *rhat = *ess_bulk = NAN;
    if (N < 4 || degenerate(x, S))
        return BNN_OK;
    double *split = malloc((S + SS) * sizeof *split), *sorted = split + SS;
    ranked *tmp = malloc(S * sizeof *tmp);
    if (!split || !tmp) {
        free(split);
        free(tmp);
        return BNN_ENOMEM;
    }
    split_chains(x, M, N, split);
    z_scale(split, SS, tmp);
    double rb = rhat_chains(split, 2 * M, H);
    *ess_bulk = ess_checked(split, 2 * M, H);
    /* folded: |x - median(x)| over the whole unsplit matrix */
    memcpy(sorted, x, S * sizeof *sorted);
    qsort(sorted, S, sizeof *sorted, cmp_double);
    double med = quantile_sorted(sorted, S, 0.5);
    for (size_t i = 0; i < S; i++)
        sorted[i] = fabs(x[i] - med);
    split_chains(sorted, M, N, split);
    z_scale(split, SS, tmp);
    double rt = rhat_chains(split, 2 * M, H);
    *rhat = isnan(rb) || isnan(rt) ? NAN : fmax(rb, rt);
    free(split);
    free(tmp);
    return BNN_OK;
}

bnn_status bnn_summarise(const double *x, size_t M, size_t N, bnn_summary *o)
{
    size_t S = M * N, H = N / 2, SS = 2 * M * H;
    double nan = NAN;
    *o = (bnn_summary){nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan};
    if (S == 0)
        return BNN_OK;
    double *sorted = malloc((2 * S + SS) * sizeof *sorted), *buf = sorted + S, *split = buf + S;
    if (!sorted)
        return BNN_ENOMEM;
    double mean = 0, var = 0;
    for (size_t i = 0; i < S; i++)
        mean += x[i];
    mean /= (double)S;
    for (size_t i = 0; i < S; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var = S > 1 ? var / (double)(S - 1) : NAN;
    o->mean = mean;
    o->sd = sqrt(var);
    memcpy(sorted, x, S * sizeof *sorted);
    qsort(sorted, S, sizeof *sorted, cmp_double);
    o->q5 = quantile_sorted(sorted, S, 0.05);
    o->q50 = quantile_sorted(sorted, S, 0.5);
    o->q95 = quantile_sorted(sorted, S, 0.95);
    bnn_status st = bnn_rhat_ess_bulk(x, M, N, &o->rhat, &o->ess_bulk);
    if (st) {
        free(sorted);
        return st;
    }
    if (N >= 4 && !degenerate(x, S)) {
        split_chains(x, M, N, split);
        o->rhat_basic = rhat_chains(split, 2 * M, H);
        o->ess_basic = ess_checked(split, 2 * M, H);
        o->mcse_mean = o->sd / sqrt(o->ess_basic);
        /* mcse of sd as posterior's mcse_sd: a delta method on the centred squares */
        double evar = 0, m4 = 0;
        for (size_t i = 0; i < S; i++) {
            buf[i] = (x[i] - mean) * (x[i] - mean);
            evar += buf[i];
            m4 += buf[i] * buf[i];
        }
        evar /= (double)S;
        m4 /= (double)S;
        split_chains(buf, M, N, split);
        double ess_sq = ess_checked(split, 2 * M, H);
        o->mcse_sd = sqrt((m4 - evar * evar) / ess_sq / evar / 4);
        double e5 = ess_indicator(x, M, N, o->q5, buf, split);
        double e50 = ess_indicator(x, M, N, o->q50, buf, split);
        double e95 = ess_indicator(x, M, N, o->q95, buf, split);
        o->ess_tail = isnan(e5) || isnan(e95) ? NAN : fmin(e5, e95);
        o->mcse_q5 = mcse_quantile(sorted, S, 0.05, e5);
        o->mcse_q50 = mcse_quantile(sorted, S, 0.5, e50);
        o->mcse_q95 = mcse_quantile(sorted, S, 0.95, e95);
    }
    o->rhat_gr = gelman_rubin(x, M, N);
    free(sorted);
    return BNN_OK;
}
